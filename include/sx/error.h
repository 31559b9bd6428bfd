// The one error type shared by every module (STYLE.md §2).
#pragma once

#include "sx/export.h"
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sx {

// Tells a caller what to do next, not only what went wrong.
enum class Errc : std::uint8_t {
  kInvalidArgument,  // the user's input or options: fix them, never retried
  kNotFound,         // a key, file or object that does not exist
  kIo,               // local file system failure
  kCancelled,        // the user (SIGINT) or a sibling failure stopped the work
  kCorrupt,          // bad magic, CRC, checksum or structure: never retried
  kDenied,           // 401/403 and friends: never retried
  kTransient,        // timeout, reset, 408/425/429/5xx: may be retried
  kLimit,            // a configured bound (size, dimensions, count) was exceeded
};

SX_EXPORT std::string_view errc_name(Errc code);

struct Error {
  Errc code;
  std::string message;  // one line; names the piece, URL or path
};

struct Unexpected {
  Error error;
};

inline Unexpected make_error(Errc code, std::string message) {
  return Unexpected{Error{code, std::move(message)}};
}

// A T or an Error. Member names follow std::expected so this can become an
// alias when the toolchain allows it.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Unexpected e) : state_(std::in_place_index<1>, std::move(e.error)) {}  // NOLINT
  Result(Error e) : state_(std::in_place_index<1>, std::move(e)) {}  // NOLINT

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(state_); }
  Error&& error() && { return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected e) : error_(std::move(e.error)), ok_(false) {}  // NOLINT
  Result(Error e) : error_(std::move(e)), ok_(false) {}  // NOLINT

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_{Errc::kInvalidArgument, {}};
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace sx
