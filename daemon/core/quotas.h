#pragma once
// Plans, quotas, credits, reservations and alerts (PLAN.*, QUOTA.*,
// CREDIT.*; docs/quotas.md). The pure rules live in core/quota_account.h
// (one owner's feature) and core/credit_book.h (its grants); this module
// keeps them on the shard set, logs every change and replays it.
//
// State:
//   - plans: an engine-wide map (plans are few and read by every consume),
//     changed under plans_mu_ and logged on the shard of the empty name;
//   - per owner (on the owner's shard): its plan and billing anchor, one
//     FeatureAccount per feature it used or got credits for, and counters for
//     grant and reservation ids. Every owner with quota state is in memory
//     (loaded at start from the `quotas` family).
//
// Log: every change is one kQuota entry (core/quota_log.h) that carries the
// inputs the live op used: the feature's definition, its window and the
// time. Replay runs the same pure calls on the same state and gets the same
// result (checked: a replay that would decide otherwise is corruption), so a
// plan changed later never changes the past. A consume, a release and a
// commit nest the CounterIncr of the usage counter (owner, feature) in their
// entry: CTR.GET/HISTORY show quota usage, and IDs share the counters' dedupe
// window and family. Expiry of grants and holds happens in the first op at
// or after the instant, and in Sweep (the maintenance tick); when it changes
// something it is logged as its own entry, so a hold_expired alert fires
// once, also across a restart.
//
// Compaction writes each changed owner's whole state (one row), the plans
// that changed, and the new ledger rows; alerts go to the feeds module's
// alert log.
//
// Thread-safety: every op takes its owner's shard lock (plan ops: the plans'
// shard, then plans_mu_). Lock order: a shard's mutex, then plans_mu_.

#include "core/string_map.h"

#include <atomic>
#include <climits>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/billing_calendar.h"
#include "core/clock.h"
#include "core/counters.h"
#include "core/credit_book.h"
#include "core/engine_module.h"
#include "core/feeds.h"
#include "core/op_result.h"
#include "core/owners.h"
#include "core/quota_account.h"
#include "core/quota_plan.h"
#include "core/shard_set.h"
#include "storage/store.h"

namespace tally::core {

struct QuotaOptions {
  // Amounts (consume, grant, reserve, commit) are 1 .. max_amount.
  int64_t max_amount = 1'000'000'000'000'000;
  int64_t default_hold_ttl_ms = 5 * 60 * 1000;
  int64_t max_hold_ttl_ms = 7ll * 86400 * 1000;
};

// One feature's figures (QUOTA.USAGE and every quota reply).
struct FeatureUsage {
  std::string feature;
  QuotaFigures figures;
  std::string period;                   // "month", "rolling:24h", ...
  std::optional<int64_t> resets_at_ms;  // nullopt: never (total)
};

// QUOTA.CHECK / CONSUME / RELEASE / RESERVE.
struct QuotaDecision {
  bool allowed = false;
  bool duplicate = false;   // CONSUME/RELEASE/RESERVE with an ID already applied: nothing changed
  DrawPlan plan;            // the sources (CHECK, CONSUME, RESERVE)
  int64_t released = 0;     // RELEASE: units given back
  std::string reservation;  // RESERVE
  int64_t expires_ms = 0;   // RESERVE
  FeatureUsage usage;       // after the op
};

struct QuotaRequest {
  std::string_view owner;
  std::string_view feature;
  int64_t amount = 0;
  std::string_view id;  // empty: none
  std::optional<int64_t> at_ms;
  int64_t ttl_ms = 0;  // RESERVE (0: the default)
};

struct CommitDecision {
  CommitOutcome outcome;
  std::string feature;
  FeatureUsage usage;
};

struct GrantRequest {
  std::string_view owner;
  std::string_view feature;
  int64_t amount = 0;
  std::optional<int64_t> expires_ms;  // EXPIRES
  std::optional<Duration> lifetime;   // IN (from now, in the owner's zone)
  int64_t priority = 0;
  std::string_view reason;
  std::string_view actor;
  std::string_view id;  // empty: the module names the grant
};
struct GrantResult {
  std::string grant;
  bool duplicate = false;  // the ID named an existing grant with the same arguments
  std::optional<int64_t> expires_ms;
};

struct GrantView {
  std::string feature;
  Grant grant;  // a copy
};

// One row of an owner's credit ledger.
struct LedgerRow {
  uint64_t index = 0;  // per owner, from 1
  int64_t time_ms = 0;
  std::string kind;  // grant, draw, release, expire, revoke
  std::string feature;
  std::string grant;
  int64_t amount = 0;
  std::string actor;  // who granted or revoked; the command for the others
};

// One feature's amount in a multi-feature admission (QuotasModule::AdmitLocked).
struct MeteredAmount {
  std::string_view feature;
  int64_t amount = 0;  // 1 .. max_amount
};
struct Admission {
  bool allowed = true;
  // Per amount, in order: the owner's plan limits the feature (or it has credits for it).
  std::vector<bool> limited;
  // Not allowed: the first amount that does not fit (an index into the
  // amounts), its feature's figures and what it lacks.
  size_t refused = 0;
  FeatureUsage usage;
  int64_t shortfall = 0;
};

struct PlanAssignment {
  std::string plan;  // empty: none
  std::optional<CivilDate> anchor;
};

class QuotasModule final : public EngineModule {
 public:
  QuotasModule(ShardSet& shards, storage::Store& store, const Clock& clock, OwnersModule& owners,
               CountersModule& counters, FeedsModule& feeds, const QuotaOptions& options);

  // ---- plans ----------------------------------------------------------------
  // Creates or replaces a plan (normalized). Owners on it use the new
  // definition from their next op; the usage of their windows is kept.
  OpResult<bool> SetPlan(Plan plan, const AuditInfo& audit);
  // kPlanInUse while an owner is on it; false if there was no such plan.
  OpResult<bool> DeletePlan(std::string_view name, const AuditInfo& audit);
  std::shared_ptr<const Plan> GetPlan(std::string_view name) const;
  std::vector<std::shared_ptr<const Plan>> ListPlans() const;

  // ---- owners ---------------------------------------------------------------
  // kUnknownPlan if the plan does not exist.
  OpResult<bool> Assign(std::string_view owner, std::string_view plan, std::optional<CivilDate> anchor,
                        const AuditInfo& audit);
  OpResult<PlanAssignment> PlanOf(std::string_view owner);

  // ---- quotas ---------------------------------------------------------------
  // kUnknownFeature: the owner's plan has no such feature and the owner has
  // no credits for it (kNoPlan when the owner has no plan at all).
  OpResult<QuotaDecision> Check(const QuotaRequest& request);
  OpResult<QuotaDecision> Consume(const QuotaRequest& request);
  OpResult<QuotaDecision> Release(const QuotaRequest& request);
  // Every feature of the owner's plan and every feature it has credits for,
  // by name; or one.
  OpResult<std::vector<FeatureUsage>> Usage(std::string_view owner, std::string_view feature);
  OpResult<QuotaDecision> Reserve(const QuotaRequest& request);
  // kUnknownReservation if the owner has no such reservation.
  OpResult<CommitDecision> Commit(std::string_view owner, std::string_view reservation, int64_t actual);
  OpResult<CommitDecision> Cancel(std::string_view owner, std::string_view reservation);

  // ---- one admission across several features (METER.RECORD ... CONSUME) ----
  // REQUIRE the owner's shard lock. Decides each amount against the owner's
  // account of its feature, changing nothing: all fit, or the first that
  // does not is named with its figures. A feature the owner's plan does not
  // limit (and no credits for it, or no plan at all) is not limited.
  // Expiries found on the way are logged, as by every quota op.
  OpResult<Admission> AdmitLocked(const ShardRef& shard, std::string_view owner,
                                  const std::vector<MeteredAmount>& amounts, int64_t now_ms);
  // REQUIRE the lock, right after AdmitLocked allowed `amounts`: consumes
  // every limited one, as QUOTA.CONSUME without an ID would, each with its
  // usage counter's increment at event_ms (the caller checked it applies),
  // and appends their kQuota entries to `entries` (for the caller's one log
  // entry) instead of the log.
  OpResult<bool> ConsumeAdmittedLocked(const ShardRef& shard, std::string_view owner,
                                       const std::vector<MeteredAmount>& amounts, const Admission& admission,
                                       int64_t now_ms, int64_t event_ms, std::string* entries);

  // ---- credits --------------------------------------------------------------
  OpResult<GrantResult> GrantCredit(const GrantRequest& request);
  // Live grants (or all with `all`), of one feature or every one, oldest first.
  OpResult<std::vector<GrantView>> ListCredits(std::string_view owner, std::string_view feature, bool all);
  // The units written off; kUnknownGrant if no such grant; 0 if it had ended.
  OpResult<int64_t> Revoke(std::string_view owner, std::string_view grant, const AuditInfo& audit);
  // The owner's ledger (or one grant's), oldest first.
  OpResult<std::vector<LedgerRow>> Ledger(std::string_view owner, std::string_view grant);

  // ---- time -------------------------------------------------------------
  // Expires the grants and holds due by now (one log entry per account that
  // changed). The maintenance tick calls it. Returns the accounts advanced.
  size_t Sweep();

  // EngineModule
  std::string_view name() const override { return "quotas"; }
  std::vector<storage::log_format::Op> log_ops() const override;
  storage::Status LoadCompacted() override;
  storage::Status Replay(const storage::log_format::Entry& entry, const ReplayContext& context) override;
  void Snapshot(const ShardRef& shard) override;
  storage::Status WriteSnapshot(CompactionBatch& batch) override;
  void FinishSnapshot(const ShardRef& shard, bool ok) override;
  ModuleStats Stats() override;

 private:
  // One feature of an owner: its account, and what Resolve derived for it
  // last (the definition, its log bytes, the window). Resolving is most of
  // a consume's cost otherwise (a plan lookup under plans_mu_, a copy of the
  // definition, its encoding, calendar arithmetic in the owner's zone), so
  // the result is kept while `generation` is resolve_generation_ (bumped by
  // every plan change; an assignment clears its owner's), the owner's zone
  // is `zone` and now is inside `window`.
  struct FeatureSlot {
    FeatureAccount account;
    uint64_t generation = 0;  // 0: not resolved
    PlanFeature feature;
    std::string feature_bytes;  // EncodeFeature(feature), for the log entries
    const void* zone = nullptr;
    QuotaWindow window;
  };
  struct OwnerState {
    std::string plan;
    std::optional<CivilDate> anchor;
    std::map<std::string, FeatureSlot, std::less<>> features;
    uint64_t next_grant = 1;
    uint64_t next_hold = 1;
    uint64_t next_ledger = 1;
    bool dirty = false;
    // The earliest instant queued for it in its shard's `deadlines`.
    int64_t queued_deadline = INT64_MAX;
  };
  // (instant, owner): an owner with a grant or hold due at that instant.
  using Deadline = std::pair<int64_t, std::string>;
  struct alignas(64) Shard {
    StringMap<std::unique_ptr<OwnerState>> owners;
    std::vector<std::string> dirty_owners;
    std::vector<LedgerRow> ledger;  // rows since the last snapshot, with their owner in `ledger_owner`
    std::vector<std::string> ledger_owner;
    std::set<std::string> plans_changed;  // plan names (the plans' shard only)
    // Owners whose grants or holds come due, soonest first, so that Sweep
    // visits only them (not every owner every second). An entry may be
    // stale (its grant was drawn or revoked, or an op expired it first):
    // Sweep checks the owner and queues its next deadline.
    std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines;
    // Taken by Snapshot, written by WriteSnapshot on the compaction thread.
    std::vector<std::pair<std::string, std::string>> snapshot_owners;  // owner -> state bytes
    std::vector<LedgerRow> snapshot_ledger;
    std::vector<std::string> snapshot_ledger_owner;
    std::vector<std::pair<std::string, std::string>> snapshot_plans;  // name -> bytes ("" = deleted)
  };
  struct PlanSlot {
    std::shared_ptr<const Plan> plan;
    bool deleting = false;  // PLAN.DEL is looking for owners on it: no new assignment
  };
  // An account op's context, resolved under the owner's lock (pointers into
  // the owner's FeatureSlot, or into a replayed entry).
  struct AccountRef {
    OwnerState* owner = nullptr;
    FeatureAccount* account = nullptr;
    const PlanFeature* feature = nullptr;
    const std::string* feature_bytes = nullptr;
    QuotaWindow window;
  };

  Shard& state(const ShardRef& shard) { return shards_[shard.index()]; }
  OwnerState* FindOwner(const ShardRef& shard, std::string_view owner);
  OwnerState& OwnerFor(const ShardRef& shard, std::string_view owner);
  void MarkDirty(const ShardRef& shard, std::string_view owner, OwnerState& state);
  // The feature's definition for the owner: its plan's, or (credits only)
  // limit 0 over `total`. kNoPlan / kUnknownFeature otherwise, unless
  // `create` (a grant), which makes the credits-only account.
  OpStatus Resolve(const ShardRef& shard, std::string_view owner, std::string_view feature, int64_t now_ms, bool create,
                   AccountRef* out, ReadFault& fault);
  // The account of the owner's feature for which `holds` is true (the one
  // with a reservation or a grant), resolved and advanced to now; `missing`
  // when no account holds it.
  OpStatus ResolveHolder(const ShardRef& shard, std::string_view owner, int64_t now_ms, OpStatus missing,
                         const std::function<bool(const FeatureAccount&)>& holds, AccountRef* out, ReadFault& fault);
  // Queues the owner's next deadline (a grant or hold expiring) for Sweep
  // if it is sooner than the one queued. Every change that can bring a
  // deadline forward (a grant, a reservation, a load, a replay) calls it.
  void QueueDeadline(Shard& shard, std::string_view owner, OwnerState& state);
  // Clears the owner's cached resolutions (its plan or anchor changed).
  static void ForgetResolved(OwnerState& state);
  // Advances the account to now; logs an entry if that expired anything.
  void AdvanceLogged(const ShardRef& shard, std::string_view owner, AccountRef& ref, int64_t now_ms);
  FeatureUsage UsageOf(const AccountRef& ref) const;
  // Turns the account's credit moves and events into ledger rows and
  // alerts (live and at replay, identically).
  // Returns whether there was anything to record.
  bool Record(const ShardRef& shard, std::string_view owner, AccountRef& ref, int64_t now_ms, std::string_view actor,
              const std::vector<QuotaEvent>& events);
  void ApplyPlanChange(const ShardRef& shard, std::string_view name, std::shared_ptr<const Plan> plan);
  const TimeZone& ZoneFor(const ShardRef& shard, std::string_view owner, ReadFault& fault);
  std::string EncodeOwner(const OwnerState& state) const;
  bool DecodeOwner(std::string_view bytes, OwnerState* state) const;

  ShardSet& shard_set_;
  storage::Store& store_;
  const Clock& clock_;
  OwnersModule& owners_;
  CountersModule& counters_;
  FeedsModule& feeds_;
  const QuotaOptions options_;
  Shard shards_[kShardCount];  // element i protected by shard i's mutex

  // Bumped (under plans_mu_) by every plan change: cached resolutions of
  // every owner go stale (FeatureSlot).
  std::atomic<uint64_t> resolve_generation_{1};
  mutable std::mutex plans_mu_;
  std::map<std::string, PlanSlot, std::less<>> plans_;  // protected by plans_mu_
};

}  // namespace tally::core
