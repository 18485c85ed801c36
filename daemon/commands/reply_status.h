#pragma once
// Turns a core OpStatus into the protocol's error (the one place), and small
// helpers every command family shares.

#include <string_view>

#include "core/op_result.h"
#include "protocol/errors.h"
#include "protocol/reply_sink.h"

namespace tally::commands {

// The error code and message of a failed core op. Core ops never format
// replies; this is where a status becomes one. (No default: a new OpStatus
// fails to compile until it is mapped here.)
// `failed_family`: kReadFailed's column family (OpResult::failed_family).
inline protocol::Error OpError(core::OpStatus status, std::string_view failed_family = {}) {
  using protocol::ErrorCode;
  namespace errors = protocol::errors;
  switch (status) {
    case core::OpStatus::kOk:
      break;
    case core::OpStatus::kNotInteger:
      return protocol::Error(ErrorCode::kNotInteger, errors::kNotInteger);
    case core::OpStatus::kOverflow:
      return protocol::Error(ErrorCode::kOverflow, errors::kOverflow);
    case core::OpStatus::kStorageFailed:
      return protocol::Error(ErrorCode::kStorageFailed, errors::kStorageFailed);
    case core::OpStatus::kDiskFull:
      return protocol::Error(ErrorCode::kDiskFull, errors::kDiskFull);
    case core::OpStatus::kIdConflict:
      return protocol::Error(ErrorCode::kIdConflict, errors::kIdConflict);
    case core::OpStatus::kReadFailed:
      return errors::StorageReadFailed(failed_family);
    case core::OpStatus::kUnknownPlan:
      return protocol::Error(ErrorCode::kUnknownPlan, errors::kUnknownPlan);
    case core::OpStatus::kPlanInUse:
      return protocol::Error(ErrorCode::kPlanInUse, errors::kPlanInUse);
    case core::OpStatus::kNoPlan:
      return protocol::Error(ErrorCode::kNoPlan, errors::kNoPlan);
    case core::OpStatus::kUnknownFeature:
      return protocol::Error(ErrorCode::kUnknownFeature, errors::kUnknownFeature);
    case core::OpStatus::kUnknownGrant:
      return protocol::Error(ErrorCode::kUnknownGrant, errors::kUnknownGrant);
    case core::OpStatus::kUnknownReservation:
      return protocol::Error(ErrorCode::kUnknownReservation, errors::kUnknownReservation);
    case core::OpStatus::kWrongType:
      return protocol::Error(ErrorCode::kWrongType, errors::kNotHyperLogLog);
    case core::OpStatus::kWrongKind:
      return protocol::Error(ErrorCode::kWrongType, errors::kWrongKind);
    case core::OpStatus::kNotFloat:
      return protocol::Error(ErrorCode::kNotFloat, errors::kNotFloat);
    case core::OpStatus::kNanOrInfinity:
      return protocol::Error(ErrorCode::kNotFloat, errors::kNanOrInfinity);
    case core::OpStatus::kHashNotInteger:
      return protocol::Error(ErrorCode::kNotInteger, errors::kHashNotInteger);
    case core::OpStatus::kHashNotFloat:
      return protocol::Error(ErrorCode::kNotFloat, errors::kHashNotFloat);
    case core::OpStatus::kScoreNan:
      return protocol::Error(ErrorCode::kNotFloat, errors::kScoreNan);
  }
  return protocol::Error(ErrorCode::kInternal, "internal error: an operation failed without a status");
}

inline void SendOpError(protocol::ReplySink& reply, core::OpStatus status) { reply.SendError(OpError(status)); }
template <typename T>
void SendOpError(protocol::ReplySink& reply, const core::OpResult<T>& result) {
  reply.SendError(OpError(result.status, result.failed_family));
}

// Case-insensitive ASCII comparison for option words (NX, EX, MATCH, ...).
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace tally::commands
