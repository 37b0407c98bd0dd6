#include "keys.hpp"

namespace esr::sagas::keys {

std::string prefix(std::string_view saga) {
  std::string r{"esr.saga/"};
  r.append(saga).append(1, '/');
  return r;
}

std::string escape(std::string_view s) {
  std::string r;
  r.reserve(s.size());
  for (char c : s) {
    if (c == '%')
      r += "%25";
    else if (c == '/')
      r += "%2F";
    else
      r += c;
  }
  return r;
}

std::string unescape(std::string_view s) {
  std::string r;
  r.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && s.substr(i, 3) == "%25") {
      r += '%';
      i += 2;
    } else if (s[i] == '%' && s.substr(i, 3) == "%2F") {
      r += '/';
      i += 2;
    } else {
      r += s[i];
    }
  }
  return r;
}

std::string hex(uint64_t x, int digits) {
  static constexpr char tbl[] = "0123456789abcdef";
  std::string r(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0 && x != 0; --i, x >>= 4)
    r[static_cast<size_t>(i)] = tbl[x & 0xF];
  return r;
}

std::string instance_stream(std::string_view saga, std::string_view instance) {
  std::string r{"saga."};
  r.append(saga).append(1, '-').append(instance);
  return r;
}

std::string timer_stream(std::string_view saga, std::string_view instance) {
  std::string r{"saga."};
  r.append(saga).append(".timers-").append(instance);
  return r;
}

std::string dlq_stream(std::string_view saga, std::string_view instance) {
  std::string r{"saga."};
  r.append(saga).append(".dlq-").append(instance.empty() ? std::string_view{"_"} : instance);
  return r;
}

std::string checkpoint_name(std::string_view saga) {
  std::string r{"saga."};
  r.append(saga);
  return r;
}

std::string outbox_done_key(std::string_view saga) {
  return prefix(saga) + "outbox-done";
}

std::string outbox_prefix(std::string_view saga) {
  return prefix(saga) + "outbox/";
}

std::string outbox_key(std::string_view saga, std::string_view instance, uint64_t step,
                       size_t k) {
  return outbox_prefix(saga) + escape(instance) + "/" + hex(step, 16) + "/" + hex(k, 4);
}

std::string timer_prefix(std::string_view saga) {
  return prefix(saga) + "timer/";
}

std::string timer_key(std::string_view saga, std::string_view instance, std::string_view name) {
  std::string r = timer_prefix(saga) + escape(instance) + "/";
  r.append(name);
  return r;
}

std::string parked_prefix(std::string_view saga) {
  return prefix(saga) + "parked/";
}

std::string parked_prefix(std::string_view saga, std::string_view instance) {
  return parked_prefix(saga) + escape(instance) + "/";
}

std::string parked_key(std::string_view saga, std::string_view instance, uint64_t position) {
  return parked_prefix(saga, instance) + hex(position, 16);
}

std::string command_id(std::string_view saga, std::string_view instance, uint64_t step,
                       size_t k) {
  std::string r{saga};
  r.append(1, '/').append(instance).append(1, '/').append(std::to_string(step));
  r.append(1, '/').append(std::to_string(k));
  return r;
}

} // namespace esr::sagas::keys
