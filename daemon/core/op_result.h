#pragma once
// Results of core operations. Core ops never format replies: they return an
// OpStatus (and a value), and the command layer turns a status into the
// protocol's error text.

#include <string_view>
#include <utility>

namespace tally::core {

enum class OpStatus {
  kOk,
  kNotInteger,          // stored value is not an integer
  kOverflow,            // increment or decrement would overflow
  kStorageFailed,       // the log cannot be written: writes are refused (fail closed)
  kDiskFull,            // no space left for the log: writes are refused until space returns
  kIdConflict,          // an event id seen within the dedupe window came with different arguments
  kReadFailed,          // stored state could not be read (RocksDB error): nothing was answered or changed
  kUnknownPlan,         // no plan of that name
  kPlanInUse,           // a plan owners are on cannot be deleted
  kNoPlan,              // the owner has no plan and no credits for the feature
  kUnknownFeature,      // the owner's plan has no such feature and no credits for it
  kUnknownGrant,        // the owner has no such grant
  kUnknownReservation,  // the owner has no such reservation
  kWrongType,           // a plain key holds a value the command cannot use (PFADD on a string)
  kWrongKind,           // a plain key holds another type (GET on a hash, HSET on a sorted set): Redis's WRONGTYPE
  kNotFloat,            // a stored string is not a valid float (INCRBYFLOAT)
  kNanOrInfinity,       // a float increment would make NaN or an infinity (INCRBYFLOAT, HINCRBYFLOAT)
  kHashNotInteger,      // a hash field's value is not an integer (HINCRBY)
  kHashNotFloat,        // a hash field's value is not a float (HINCRBYFLOAT)
  kScoreNan,            // a sorted set increment would make the score NaN (ZINCRBY, ZADD INCR)
};

template <typename T>
struct OpResult {
  OpStatus status = OpStatus::kOk;
  T value{};
  // kReadFailed: the column family that could not be read (storage::FamilyName).
  std::string_view failed_family;

  bool ok() const { return status == OpStatus::kOk; }
  static OpResult Ok(T v) { return OpResult{OpStatus::kOk, std::move(v)}; }
  static OpResult Error(OpStatus s) { return OpResult{s, T{}}; }
  static OpResult ReadFailed(std::string_view family) { return OpResult{OpStatus::kReadFailed, T{}, family}; }
};

}  // namespace tally::core
