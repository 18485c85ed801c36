#pragma once
// The quota module's log entry (op kQuota) and the bytes of plans, as the
// log and the `plans` family hold them (storage/FORMAT.md, "quotas").
//
// One entry shape for every change: which change, the owner (a plan's name
// for plan changes), and the inputs the live op used — the feature's
// definition, its window and the time — so that replay repeats the op
// exactly (core/quotas.h). Fields a change does not use stay empty.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/quota_plan.h"
#include "storage/log_format.h"

namespace tally::core {

enum class QuotaChange : uint8_t {
  kPlanSet = 1,  // owner = plan name, plan = its bytes
  kPlanDelete = 2,
  kAssign = 3,   // ref = plan name, anchor_days
  kAdvance = 4,  // expiry of grants and holds due by now_ms
  kConsume = 5,  // amount (+ nested usage increment)
  kRelease = 6,  // amount (+ nested usage decrement)
  kGrant = 7,    // ref = grant id, amount, expires_ms, priority, reason, actor
  kRevoke = 8,   // ref = grant id, actor
  kReserve = 9,  // ref = reservation, amount, expires_ms
  kCommit = 10,  // ref = reservation, amount = actual (+ nested usage increment)
  kCancel = 11,  // ref = reservation
};

struct QuotaEntry {
  QuotaChange change = QuotaChange::kAdvance;
  std::string_view owner;
  std::string_view feature;
  std::string_view feature_bytes;  // EncodeFeature of the definition used
  int64_t window_start_ms = 0;
  int64_t window_end_ms = 0;
  int64_t now_ms = 0;
  int64_t amount = 0;
  std::string_view ref;
  std::optional<int64_t> expires_ms;
  int64_t priority = 0;
  std::string_view reason;
  std::string_view actor;
  std::optional<int64_t> anchor_days;  // days since 1970-01-01
  std::string_view plan_bytes;         // EncodePlan
  std::string_view nested;             // one complete log entry (the usage CounterIncr), or empty
};

// Appends the entry (framed as op kQuota) to a log blob.
void AppendQuotaEntry(std::string& blob, const QuotaEntry& entry);
// Decodes a kQuota payload; views point into it.
bool DecodeQuotaEntry(std::string_view payload, QuotaEntry* out);
// Splits one complete framed entry (QuotaEntry::nested) into op and payload.
bool DecodeNestedEntry(std::string_view bytes, storage::log_format::Entry* out);

std::string EncodeFeature(const PlanFeature& feature);
bool DecodeFeature(std::string_view bytes, PlanFeature* out);
std::string EncodePlan(const Plan& plan);
bool DecodePlan(std::string_view bytes, Plan* out);

}  // namespace tally::core
