#pragma once
// One owner's account for one plan feature: usage in the current window,
// the credit grants (core/credit_book.h), holds (reservations) and the alert
// thresholds fired (docs/quotas.md). Pure domain logic: the quota module
// keeps one per (owner, feature) under the owner's shard lock, logs what each
// call decided and replays it. No I/O, not thread-safe.
//
// Figures, for a feature with a limit:
//   allowance used = used − from_grants + held_allowance
//   remaining      = max(0, limit − allowance used) + credits
//   overage        = max(0, used − from_grants − limit)
// where `used` counts every unit consumed in the window (whatever paid for
// it), `from_grants` the units of those drawn from grants, and holds keep
// the units they took (from the allowance and from grants) until they are
// committed, cancelled or expire. A unit is never counted twice.
//
// Alerts: a threshold t % fires once per window when the allowance used
// reaches t % of the limit (≥); a jump across several fires each once; a new
// window re-arms them. Features that are unlimited or limited to 0 fire no
// percentage alerts. `credit_depleted` fires when a draw takes the last
// credit; `hold_expired` when a hold expires.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/billing_calendar.h"
#include "core/credit_book.h"
#include "core/quota_plan.h"

namespace tally::core {

struct QuotaFigures {
  int64_t used = 0;
  std::optional<int64_t> limit;      // nullopt: unlimited
  std::optional<int64_t> remaining;  // nullopt: unlimited
  int64_t credits = 0;
  int64_t held = 0;
  int64_t overage = 0;
  QuotaWindow window;
};

enum class QuotaEventKind : uint8_t { kThreshold, kCreditDepleted, kHoldExpired };
struct QuotaEvent {
  QuotaEventKind kind;
  int threshold = 0;  // kThreshold: the percentage
  std::string hold;   // kHoldExpired: the reservation
  bool operator==(const QuotaEvent&) const = default;
};

struct ConsumeOutcome {
  bool allowed = false;
  DrawPlan plan;
  std::vector<QuotaEvent> events;  // fired by this call
};

// A reservation's life.
enum class HoldState : uint8_t { kHeld, kCommitted, kCancelled, kExpired };
// How long an ended hold is remembered, so that a retried commit or cancel
// answers "already committed" (applied 0 with the state) rather than
// unknown_reservation. Then it is forgotten (memory stays bounded however
// many reservations an owner makes) and its id may be used again. A
// constant, not a setting: replay forgets at the same instants as the live
// run did, whatever the configuration is at the next start.
inline constexpr int64_t kEndedHoldRetentionMs = 7ll * 86'400'000;
std::string_view HoldStateName(HoldState state);

struct CommitOutcome {
  // False: the hold was not held (unknown, or already committed, cancelled,
  // expired): nothing changed; `state` says which.
  bool applied = false;
  std::optional<HoldState> state;  // nullopt: unknown reservation
  int64_t consumed = 0;            // units that became usage
  int64_t released = 0;            // held units given back
  int64_t shortfall = 0;           // actual > held, overage reject: what did not fit
  std::vector<QuotaEvent> events;
};

class FeatureAccount {
 public:
  FeatureAccount() = default;
  FeatureAccount(const FeatureAccount&) = delete;
  FeatureAccount& operator=(const FeatureAccount&) = delete;

  // Moves to the window that contains `now_ms` (a new window resets usage,
  // re-arms alerts and forgets the window's draws), expires grants and
  // holds due by then, and forgets holds that ended more than
  // kEndedHoldRetentionMs ago. Every call below expects Advance(now) first.
  // Returns the events it fired (hold_expired).
  std::vector<QuotaEvent> Advance(const PlanFeature& feature, const QuotaWindow& window, int64_t now_ms);

  QuotaFigures Figures(const PlanFeature& feature) const;
  // Would `amount` be allowed, and from which sources (nothing changes).
  DrawPlan Check(const PlanFeature& feature, int64_t amount) const;
  // Consumes `amount` if it fits (or overage = allow). A refused consume
  // changes nothing.
  ConsumeOutcome Consume(const PlanFeature& feature, int64_t amount);
  // Gives back up to `amount` units of this window's consumes, newest draw
  // first, never below zero; returns the units given back.
  int64_t Release(int64_t amount);

  // Holds `amount` until `expires_ms` as reservation `id` (unique per
  // account; false if taken). Refused (allowed = false, nothing held) when it
  // does not fit and the feature rejects overage.
  ConsumeOutcome Reserve(const PlanFeature& feature, const std::string& id, int64_t amount, int64_t expires_ms);
  CommitOutcome Commit(const PlanFeature& feature, std::string_view id, int64_t actual);
  CommitOutcome Cancel(std::string_view id);
  std::optional<HoldState> HoldStateOf(std::string_view id) const;
  // The units a hold still holds; nullopt unless it is held.
  std::optional<int64_t> HeldAmountOf(std::string_view id) const;

  CreditBook& credits() { return credits_; }
  const CreditBook& credits() const { return credits_; }
  const QuotaWindow& window() const { return window_; }
  // The next instant at which Advance would expire a grant or a hold.
  std::optional<int64_t> NextDeadline() const;
  // Live holds: (reservation, amount, expires_ms).
  struct HoldInfo {
    std::string id;
    int64_t amount;
    int64_t expires_ms;
  };
  std::vector<HoldInfo> LiveHolds() const;

  // True once after Advance forgot ended holds (the state to compact changed).
  bool TakeForgotHolds() { return std::exchange(forgot_holds_, false); }

  // The whole account as bytes (core/quota_codec.h), and back into a fresh
  // one. `version` is the owner row's (1: holds without their end time).
  void EncodeTo(std::string& out) const;
  bool DecodeFrom(std::string_view& in, int version);

 private:
  struct Hold {
    int64_t amount = 0;
    int64_t expires_ms = 0;
    std::vector<Draw> draws;
    HoldState state = HoldState::kHeld;
    int64_t ended_ms = 0;  // when it was committed, cancelled or expired
  };
  Allowance AllowanceOf(const PlanFeature& feature) const;
  int64_t AllowanceUsed() const { return used_ - from_grants_ + held_allowance_; }
  int64_t UsedFromAllowance() const { return used_ - from_grants_; }
  // Takes the draws' grant units; the allowance's are the caller's to count.
  void Take(const std::vector<Draw>& draws);
  // Gives back up to `amount` of `draws`, newest first; returns (from the
  // allowance, from grants) and shortens `draws`.
  std::pair<int64_t, int64_t> GiveBack(std::vector<Draw>& draws, int64_t amount);
  void FireThresholds(const PlanFeature& feature, int64_t credits_before, std::vector<QuotaEvent>* events);
  void EndHold(const std::string& id, Hold& hold, HoldState state);

  // Usage is kept per bucket: one per window for calendar and total
  // periods, one per hour for rolling windows (the window sums the hours it
  // covers), keyed by the bucket's start.
  struct Bucket {
    int64_t used = 0;
    int64_t from_grants = 0;
  };
  struct ConsumeRecord {
    int64_t bucket;
    std::vector<Draw> draws;
  };
  int64_t BucketKey(const PlanFeature& feature) const;
  // Adds a consume's draws to the records a release gives back from.
  void Remember(int64_t bucket, const std::vector<Draw>& draws);
  void AddUsage(int64_t bucket, int64_t used, int64_t from_grants);

  QuotaWindow window_{};
  bool started_ = false;
  int64_t now_ms_ = 0;
  std::map<int64_t, Bucket> buckets_;
  int64_t used_ = 0;                    // sum of the buckets
  int64_t from_grants_ = 0;             // sum of the buckets
  int64_t held_ = 0;                    // units of live holds
  int64_t held_allowance_ = 0;          // of those, from the allowance
  std::vector<int> fired_;              // thresholds fired in this window
  std::deque<ConsumeRecord> consumes_;  // this window's consumes, oldest first
  std::map<std::string, Hold, std::less<>> holds_;
  std::multimap<int64_t, std::string> hold_expiry_;  // live holds by expiry
  std::multimap<int64_t, std::string> ended_holds_;  // ended holds by ended_ms
  bool forgot_holds_ = false;
  CreditBook credits_;
};

}  // namespace tally::core
