// fz::Result<T> and fz::Status: the outcome of anything that can fail on user input or I/O.
//
// A Result holds either a value or an Error (a message written for the person who will read it).
// Both types are [[nodiscard]]: ignoring a failure is a compile error under -Werror.
// Plain values, no exceptions; not thread-safe beyond what the contained types are.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace fz {

struct Error {
  std::string message;
};

inline Error make_error(std::string message) {
  return Error{std::move(message)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  const std::string& message() const { return error().message; }

 private:
  std::variant<T, Error> v_;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error.message)), failed_(true) {}  // NOLINT: implicit by design
  static Status Ok() { return Status(); }

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& message() const { return error_; }
  Error error() const { return Error{error_}; }

 private:
  std::string error_;
  bool failed_ = false;
};

}  // namespace fz

// Propagates a failed Status/Result out of the enclosing function.
#define FZ_TRY(expr)                                         \
  do {                                                       \
    auto fz_try_status_ = (expr);                            \
    if (!fz_try_status_.ok()) return fz_try_status_.error(); \
  } while (0)
