#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace esr::runtime::aggregates {

template <class Signature>
class function_ref;

/// A non-owning, non-allocating reference to a callable: two pointers, cheap
/// to copy. The callable must outlive every call through the reference, so
/// use it for parameters that are only called during the call that receives
/// them (never store one). Calling a function_ref calls the callable with the
/// arguments it was given and returns its result.
template <class R, class... Args>
class function_ref<R(Args...)> {
public:
  /// Refers to `f` (any callable object invocable with `Args...` whose result
  /// converts to `R`; not a plain function). Does not copy `f`.
  template <class F,
            class = std::enable_if_t<
              !std::is_same_v<std::decay_t<F>, function_ref>
              && !std::is_function_v<std::remove_reference_t<F>>
              && std::is_invocable_r_v<R, std::remove_reference_t<F>&, Args...>>>
  function_ref(F&& f) noexcept // NOLINT: implicit by design, like std::function.
    : obj_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
      call_(&invoke<std::remove_reference_t<F>>) {
    // nop
  }

  /// Calls the referenced callable.
  R operator()(Args... xs) const {
    return call_(obj_, std::forward<Args>(xs)...);
  }

private:
  template <class F>
  static R invoke(void* obj, Args... xs) {
    return static_cast<R>((*static_cast<F*>(obj))(std::forward<Args>(xs)...));
  }

  void* obj_;
  R (*call_)(void*, Args...);
};

} // namespace esr::runtime::aggregates
