#pragma once

#include <string>

namespace esr::persistence::test {

/// A fresh, empty directory under the system's temp dir, removed with all its
/// contents when this object is destroyed. Not copyable.
class temp_dir {
public:
  /// Creates the directory; aborts the test binary if that fails.
  temp_dir();
  ~temp_dir();

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  /// The absolute path of the directory.
  const std::string& path() const { return path_; }

  /// Returns path() + "/" + name.
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

} // namespace esr::persistence::test
