#pragma once
// Errors as values at the storage boundary (LevelDB style): cheap on success,
// chained with `if (!s.ok()) return s;`. No exception crosses this boundary.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tally::storage {

class Status {
 public:
  enum class Code { kOk, kNotFound, kCorruption, kIoError, kInvalidArgument, kBusy, kNoSpace };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status NotFound(std::string message) { return Status(Code::kNotFound, std::move(message)); }
  static Status Corruption(std::string message) { return Status(Code::kCorruption, std::move(message)); }
  static Status IoError(std::string message) { return Status(Code::kIoError, std::move(message)); }
  static Status InvalidArgument(std::string message) { return Status(Code::kInvalidArgument, std::move(message)); }
  static Status Busy(std::string message) { return Status(Code::kBusy, std::move(message)); }
  static Status NoSpace(std::string message) { return Status(Code::kNoSpace, std::move(message)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  StatusOr(Status status) : status_(std::move(status)) {}  // NOLINT: must not be Ok
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T& operator*() { return *value_; }
  T* operator->() { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace tally::storage
