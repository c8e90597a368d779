// fz::Result<T> and fz::Status: the outcome of anything that can fail on user input or I/O.
//
// A Result holds either a value or an Error (a message written for the person who will read it, and a
// kind, in the spirit of LevelDB's Status codes). The kind decides what a caller may do next: a
// rejected input (kInvalid) is reported and the next input is tried; corruption and I/O errors mean the
// ledger or the disk cannot be trusted for this command, so the command stops at the first one, writes
// nothing partial and exits 1. Both types are [[nodiscard]]: ignoring a failure is a compile error under
// -Werror.
// Plain values, no exceptions; not thread-safe beyond what the contained types are.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace fz {

enum class ErrorKind : unsigned char {
  kInvalid,     // the input (an event, a rules file, an argument) is refused; nothing else is wrong
  kCorruption,  // stored data failed a check (checksum, hash chain, a malformed record, a missing file)
  kIO,          // the operating system failed a read or write (a full disk, EIO, a vanished file)
};

struct Error {
  std::string message;
  ErrorKind kind = ErrorKind::kInvalid;
  // Corruption and I/O errors stop the command; a rejected input does not.
  bool fatal() const { return kind != ErrorKind::kInvalid; }
};

inline Error make_error(std::string message) {
  return Error{std::move(message), ErrorKind::kInvalid};
}
inline Error make_io_error(std::string message) {
  return Error{std::move(message), ErrorKind::kIO};
}
// The same error (its kind kept) with "what: " in front of its message.
inline Error with_context(Error e, std::string_view what) {
  e.message.insert(0, std::string(what) + ": ");
  return e;
}
inline Error make_corruption_error(std::string message) {
  return Error{std::move(message), ErrorKind::kCorruption};
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
  Status(Error error)  // NOLINT: implicit by design
      : error_(std::move(error.message)), kind_(error.kind), failed_(true) {}
  static Status Ok() { return Status(); }

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& message() const { return error_; }
  ErrorKind kind() const { return kind_; }
  bool fatal() const { return failed_ && kind_ != ErrorKind::kInvalid; }
  Error error() const { return Error{error_, kind_}; }

 private:
  std::string error_;
  ErrorKind kind_ = ErrorKind::kInvalid;
  bool failed_ = false;
};

}  // namespace fz

// Propagates a failed Status/Result out of the enclosing function.
#define FZ_TRY(expr)                                         \
  do {                                                       \
    auto fz_try_status_ = (expr);                            \
    if (!fz_try_status_.ok()) return fz_try_status_.error(); \
  } while (0)
