// Errors on the message path are values, not exceptions.
#pragma once

#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace bh {

// message: for logs and replies; code: what callers tell apart without
// parsing text (std::errc::no_space_on_device is a full disk, 452 4.3.1;
// other I/O errors are 451 4.3.0). Empty for errors that are only reported.
struct Error {
  std::string message;
  std::error_code code{};
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}
  Result(Error error) : state_(std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(state_); }
  const T& value() const { return std::get<0>(state_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() {
  return Ok{};
}

// errno-based error text ("open /x: No such file or directory"), with
// the errno as its code.
Error system_error(const std::string& what, int errnum);

inline bool is_disk_full(const Error& error) {
  return error.code == std::errc::no_space_on_device;
}

}  // namespace bh
