// The quota module: plans, quotas, credits and holds on the shard set
// (core/quotas.h). The rules are in FeatureAccount and CreditBook; this file
// resolves an owner's feature, logs what each op did and replays it.

#include "core/quotas.h"

#include <algorithm>
#include <utility>

#include "core/quota_codec.h"
#include "core/quota_log.h"
#include "core/read_errors.h"
#include "storage/codec.h"

namespace tally::core {

namespace lf = storage::log_format;
namespace qc = quota_codec;
using storage::Family;
using storage::Status;

namespace {

// Plans are logged on the shard of this routing key (they are few and rare).
constexpr std::string_view kPlansRoute = "";

std::string LedgerPrefix(std::string_view owner) {
  std::string key(owner);
  key.push_back('\0');
  return key;
}
std::string LedgerKey(std::string_view owner, uint64_t index) {
  std::string key = LedgerPrefix(owner);
  storage::codec::PutBigEndian64(key, index);
  return key;
}
std::string EncodeLedgerRow(const LedgerRow& row) {
  std::string out;
  qc::PutI64(out, row.time_ms);
  qc::PutStr(out, row.kind);
  qc::PutStr(out, row.feature);
  qc::PutStr(out, row.grant);
  qc::PutI64(out, row.amount);
  qc::PutStr(out, row.actor);
  return out;
}
bool DecodeLedgerRow(std::string_view bytes, LedgerRow* row) {
  qc::Reader r(bytes);
  row->time_ms = r.I64();
  row->kind = r.Str();
  row->feature = r.Str();
  row->grant = r.Str();
  row->amount = r.I64();
  row->actor = r.Str();
  return r.done();
}

std::string_view EventKind(QuotaEventKind kind) {
  switch (kind) {
    case QuotaEventKind::kThreshold:
      return "threshold";
    case QuotaEventKind::kCreditDepleted:
      return "credit_depleted";
    case QuotaEventKind::kHoldExpired:
      return "hold_expired";
  }
  return "threshold";
}

// The entry of an op on one account, with its context filled in.
QuotaEntry AccountEntry(QuotaChange change, std::string_view owner, const PlanFeature& feature,
                        const std::string& feature_bytes, const QuotaWindow& window, int64_t now_ms) {
  QuotaEntry entry;
  entry.change = change;
  entry.owner = owner;
  entry.feature = feature.name;
  entry.feature_bytes = feature_bytes;
  entry.window_start_ms = window.start_ms;
  entry.window_end_ms = window.end_ms;
  entry.now_ms = now_ms;
  return entry;
}

std::string LimitJson(const std::optional<int64_t>& limit) { return limit ? std::to_string(*limit) : "null"; }

// A generated id ("g7", "r3") that no account of the owner uses yet.
template <typename Taken>
std::string FreshId(char prefix, uint64_t* next, Taken&& taken) {
  for (;;) {
    std::string id = prefix + std::to_string((*next)++);
    if (!taken(id)) return id;
  }
}

// Keeps the generated-id counter past an id replay or a client used.
void BumpPast(std::string_view id, char prefix, uint64_t* next) {
  if (id.size() < 2 || id.front() != prefix || id.size() > 19) return;
  uint64_t n = 0;
  for (char c : id.substr(1)) {
    if (c < '0' || c > '9') return;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  *next = std::max(*next, n + 1);
}

}  // namespace

QuotasModule::QuotasModule(ShardSet& shards, storage::Store& store, const Clock& clock, OwnersModule& owners,
                           CountersModule& counters, FeedsModule& feeds, const QuotaOptions& options)
    : shard_set_(shards),
      store_(store),
      clock_(clock),
      owners_(owners),
      counters_(counters),
      feeds_(feeds),
      options_(options) {}

std::vector<lf::Op> QuotasModule::log_ops() const { return {lf::Op::kQuota}; }

// ---------------------------------------------------------------------------
// Owner state (the owner's shard lock held)

QuotasModule::OwnerState* QuotasModule::FindOwner(const ShardRef& ref, std::string_view owner) {
  auto& owners = state(ref).owners;
  auto it = owners.find(owner);
  return it == owners.end() ? nullptr : it->second.get();
}

QuotasModule::OwnerState& QuotasModule::OwnerFor(const ShardRef& ref, std::string_view owner) {
  auto& slot = state(ref).owners[owner];
  if (!slot) slot = std::make_unique<OwnerState>();
  return *slot;
}

void QuotasModule::MarkDirty(const ShardRef& ref, std::string_view owner, OwnerState& owner_state) {
  if (owner_state.dirty) return;
  owner_state.dirty = true;
  state(ref).dirty_owners.emplace_back(owner);
}

const TimeZone& QuotasModule::ZoneFor(const ShardRef& ref, std::string_view owner, ReadFault& fault) {
  std::optional<uint32_t> id = owners_.Intern(ref, owner, fault);
  if (!id) return owners_.default_zone();
  return owners_.ZoneOf(ref, *id);
}

OpStatus QuotasModule::Resolve(const ShardRef& ref, std::string_view owner, std::string_view feature, int64_t now_ms,
                               bool create, AccountRef* out, ReadFault& fault) {
  OwnerState* owner_state = FindOwner(ref, owner);
  FeatureSlot* slot = nullptr;
  if (owner_state != nullptr) {
    if (auto it = owner_state->features.find(feature); it != owner_state->features.end()) slot = &it->second;
  }
  // Read before the plan: a plan changed meanwhile leaves the slot stale.
  const uint64_t generation = resolve_generation_.load(std::memory_order_acquire);
  if (slot == nullptr || slot->generation != generation) {
    std::shared_ptr<const Plan> plan;
    if (owner_state != nullptr && !owner_state->plan.empty()) {
      std::lock_guard<std::mutex> lock(plans_mu_);
      if (auto it = plans_.find(owner_state->plan); it != plans_.end()) plan = it->second.plan;
    }
    const PlanFeature* defined = plan ? plan->Find(feature) : nullptr;
    if (defined == nullptr && slot == nullptr && !create) {
      return plan ? OpStatus::kUnknownFeature : OpStatus::kNoPlan;
    }
    if (owner_state == nullptr) owner_state = &OwnerFor(ref, owner);
    if (slot == nullptr) slot = &owner_state->features.try_emplace(std::string(feature)).first->second;
    // Credits only: nothing from a plan, no percentage alerts.
    slot->feature =
        defined != nullptr ? *defined : PlanFeature{std::string(feature), 0, QuotaPeriod{}, Overage::kReject, {}};
    slot->feature_bytes = EncodeFeature(slot->feature);
    slot->generation = generation;
    slot->zone = nullptr;  // the window too
  }
  const TimeZone& zone = ZoneFor(ref, owner, fault);
  if (fault) return OpStatus::kReadFailed;
  if (slot->zone != zone.zone() || now_ms < slot->window.start_ms || now_ms >= slot->window.end_ms) {
    slot->window = WindowOf(slot->feature.period, owner_state->anchor, now_ms, zone);
    slot->zone = zone.zone();
  }
  out->owner = owner_state;
  out->account = &slot->account;
  out->feature = &slot->feature;
  out->feature_bytes = &slot->feature_bytes;
  out->window = slot->window;
  return OpStatus::kOk;
}

void QuotasModule::QueueDeadline(Shard& shard, std::string_view owner, OwnerState& owner_state) {
  std::optional<int64_t> next;
  for (const auto& [name, slot] : owner_state.features) {
    std::optional<int64_t> deadline = slot.account.NextDeadline();
    if (deadline && (!next || *deadline < *next)) next = deadline;
  }
  if (!next || *next >= owner_state.queued_deadline) return;
  owner_state.queued_deadline = *next;
  shard.deadlines.emplace(*next, std::string(owner));
}

void QuotasModule::ForgetResolved(OwnerState& owner_state) {
  for (auto& [name, slot] : owner_state.features) slot.generation = 0;
}

FeatureUsage QuotasModule::UsageOf(const AccountRef& a) const {
  FeatureUsage usage;
  usage.feature = a.feature->name;
  usage.figures = a.account->Figures(*a.feature);
  usage.period = QuotaPeriodName(a.feature->period);
  if (a.window.resets()) usage.resets_at_ms = a.window.end_ms;
  return usage;
}

bool QuotasModule::Record(const ShardRef& ref, std::string_view owner, AccountRef& a, int64_t now_ms,
                          std::string_view actor, const std::vector<QuotaEvent>& events) {
  Shard& shard = state(ref);
  std::vector<CreditMove> moves = a.account->credits().TakeMoves();
  for (const CreditMove& move : moves) {
    LedgerRow row{a.owner->next_ledger++,
                  move.at_ms != 0 ? move.at_ms : now_ms,
                  std::string(CreditMoveName(move.kind)),
                  a.feature->name,
                  move.grant,
                  move.amount,
                  std::string(actor)};
    shard.ledger.push_back(std::move(row));
    shard.ledger_owner.emplace_back(owner);
  }
  if (!events.empty()) {
    const QuotaFigures figures = a.account->Figures(*a.feature);
    const std::string period = QuotaPeriodName(a.feature->period);
    for (const QuotaEvent& event : events) {
      std::string details = "{\"period\":\"" + period + "\",\"window_start_ms\":" + std::to_string(a.window.start_ms) +
                            ",\"used\":" + std::to_string(figures.used) + ",\"limit\":" + LimitJson(figures.limit) +
                            ",\"credits\":" + std::to_string(figures.credits);
      if (event.kind == QuotaEventKind::kThreshold) details += ",\"threshold\":" + std::to_string(event.threshold);
      if (event.kind == QuotaEventKind::kHoldExpired) details += ",\"reservation\":\"" + event.hold + "\"";
      details += "}";
      feeds_.QueueAlert(ref, now_ms, EventKind(event.kind), owner, a.feature->name, std::move(details));
    }
  }
  return !moves.empty() || !events.empty();
}

void QuotasModule::AdvanceLogged(const ShardRef& ref, std::string_view owner, AccountRef& a, int64_t now_ms) {
  std::vector<QuotaEvent> events = a.account->Advance(*a.feature, a.window, now_ms);
  // Forgetting ended holds is not logged: replay forgets them at the same
  // instants, in the Advance of the entry it replays (kEndedHoldRetentionMs).
  if (a.account->TakeForgotHolds()) MarkDirty(ref, owner, *a.owner);
  if (!Record(ref, owner, a, now_ms, "", events)) return;
  // Expiry changed the account: its own entry, so the alerts it raised
  // fire once whatever happens to the op that noticed it.
  MarkDirty(ref, owner, *a.owner);
  const QuotaEntry entry = AccountEntry(QuotaChange::kAdvance, owner, *a.feature, *a.feature_bytes, a.window, now_ms);
  ref.Append([&](std::string& blob) { AppendQuotaEntry(blob, entry); });
}

// ---------------------------------------------------------------------------
// Plans

void QuotasModule::ApplyPlanChange(const ShardRef& ref, std::string_view name, std::shared_ptr<const Plan> plan) {
  {
    std::lock_guard<std::mutex> lock(plans_mu_);
    if (plan) {
      plans_[std::string(name)] = PlanSlot{std::move(plan), false};
    } else if (auto it = plans_.find(name); it != plans_.end()) {
      plans_.erase(it);
    }
    resolve_generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  state(ref).plans_changed.emplace(name);
}

OpResult<bool> QuotasModule::SetPlan(Plan plan, const AuditInfo& audit) {
  return shard_set_.Write(kPlansRoute, [&](const ShardRef& ref) {
    const std::string bytes = EncodePlan(plan);
    bool existed = false;
    {
      std::lock_guard<std::mutex> lock(plans_mu_);
      existed = plans_.count(plan.name) != 0;
    }
    const std::string name = plan.name;
    ApplyPlanChange(ref, name, std::make_shared<const Plan>(std::move(plan)));
    QuotaEntry entry;
    entry.change = QuotaChange::kPlanSet;
    entry.owner = name;
    entry.plan_bytes = bytes;
    std::string inner;
    AppendQuotaEntry(inner, entry);
    feeds_.LogAudited(ref, audit, "", name, existed ? "{\"replaced\":true}" : "{\"replaced\":false}", inner);
    return OpResult<bool>::Ok(existed);
  });
}

OpResult<bool> QuotasModule::DeletePlan(std::string_view name, const AuditInfo& audit) {
  {
    std::lock_guard<std::mutex> lock(plans_mu_);
    auto it = plans_.find(name);
    if (it == plans_.end()) return OpResult<bool>::Ok(false);
    // From here no owner can be assigned the plan; then look for owners on it.
    it->second.deleting = true;
  }
  bool in_use = false;
  for (size_t i = 0; i < kShardCount && !in_use; ++i) {
    shard_set_.Locked(i, [&](const ShardRef& ref) {
      for (const auto& [owner, owner_state] : state(ref).owners) {
        if (owner_state->plan == name) {
          in_use = true;
          break;
        }
      }
    });
  }
  auto clear_deleting = [&] {
    std::lock_guard<std::mutex> lock(plans_mu_);
    if (auto it = plans_.find(name); it != plans_.end()) it->second.deleting = false;
  };
  if (in_use) {
    clear_deleting();
    return OpResult<bool>::Error(OpStatus::kPlanInUse);
  }
  OpResult<bool> result = shard_set_.Write(kPlansRoute, [&](const ShardRef& ref) {
    ApplyPlanChange(ref, name, nullptr);
    QuotaEntry entry;
    entry.change = QuotaChange::kPlanDelete;
    entry.owner = name;
    std::string inner;
    AppendQuotaEntry(inner, entry);
    feeds_.LogAudited(ref, audit, "", name, "{}", inner);
    return OpResult<bool>::Ok(true);
  });
  if (!result.ok()) clear_deleting();
  return result;
}

std::shared_ptr<const Plan> QuotasModule::GetPlan(std::string_view name) const {
  std::lock_guard<std::mutex> lock(plans_mu_);
  auto it = plans_.find(name);
  return it == plans_.end() ? nullptr : it->second.plan;
}

std::vector<std::shared_ptr<const Plan>> QuotasModule::ListPlans() const {
  std::lock_guard<std::mutex> lock(plans_mu_);
  std::vector<std::shared_ptr<const Plan>> out;
  for (const auto& [name, slot] : plans_) out.push_back(slot.plan);
  return out;
}

// ---------------------------------------------------------------------------
// Owners

OpResult<bool> QuotasModule::Assign(std::string_view owner, std::string_view plan, std::optional<CivilDate> anchor,
                                    const AuditInfo& audit) {
  return shard_set_.Write(owner, [&](const ShardRef& ref) {
    {
      std::lock_guard<std::mutex> lock(plans_mu_);
      auto it = plans_.find(plan);
      if (it == plans_.end() || it->second.deleting) return OpResult<bool>::Error(OpStatus::kUnknownPlan);
    }
    OwnerState& owner_state = OwnerFor(ref, owner);
    const std::string before = owner_state.plan;
    owner_state.plan = std::string(plan);
    owner_state.anchor = anchor;
    ForgetResolved(owner_state);
    MarkDirty(ref, owner, owner_state);
    QuotaEntry entry;
    entry.change = QuotaChange::kAssign;
    entry.owner = owner;
    entry.ref = plan;
    if (anchor) entry.anchor_days = DaysFromCivil(*anchor);
    std::string inner;
    AppendQuotaEntry(inner, entry);
    std::string details = "{\"before\":\"" + before + "\",\"after\":\"" + std::string(plan) + "\"";
    if (anchor) details += ",\"anchor\":\"" + FormatCivilDate(*anchor) + "\"";
    details += "}";
    feeds_.LogAudited(ref, audit, owner, "", std::move(details), inner);
    return OpResult<bool>::Ok(true);
  });
}

OpResult<PlanAssignment> QuotasModule::PlanOf(std::string_view owner) {
  return shard_set_.Read(owner, [&](const ShardRef& ref) {
    PlanAssignment out;
    if (OwnerState* owner_state = FindOwner(ref, owner)) {
      out.plan = owner_state->plan;
      out.anchor = owner_state->anchor;
    }
    return OpResult<PlanAssignment>::Ok(std::move(out));
  });
}

// ---------------------------------------------------------------------------
// Quotas

OpResult<QuotaDecision> QuotasModule::Check(const QuotaRequest& request) {
  return shard_set_.Read(request.owner, [&](const ShardRef& ref) {
    const int64_t now = clock_.NowMs();
    AccountRef a;
    ReadFault fault;
    const OpStatus status = Resolve(ref, request.owner, request.feature, now, false, &a, fault);
    if (fault) return fault.Result<QuotaDecision>();
    if (status != OpStatus::kOk) return OpResult<QuotaDecision>::Error(status);
    AdvanceLogged(ref, request.owner, a, now);
    QuotaDecision decision;
    decision.plan = a.account->Check(*a.feature, request.amount);
    decision.allowed = decision.plan.allowed;
    decision.usage = UsageOf(a);
    return OpResult<QuotaDecision>::Ok(std::move(decision));
  });
}

OpResult<QuotaDecision> QuotasModule::Consume(const QuotaRequest& request) {
  return shard_set_.Write(request.owner, [&](const ShardRef& ref) {
    const int64_t now = clock_.NowMs();
    AccountRef a;
    ReadFault fault;
    const OpStatus status = Resolve(ref, request.owner, request.feature, now, false, &a, fault);
    if (fault) return fault.Result<QuotaDecision>();
    if (status != OpStatus::kOk) return OpResult<QuotaDecision>::Error(status);
    AdvanceLogged(ref, request.owner, a, now);
    QuotaDecision decision;
    CounterIncrement usage{request.owner,
                           request.feature,
                           request.amount,
                           request.at_ms.value_or(now),
                           request.id,
                           request.at_ms.has_value(),
                           'Q'};
    if (auto seen = counters_.CheckEventIdLocked(ref, usage, now)) {
      if (!seen->ok()) return OpResult<QuotaDecision>{seen->status, {}, seen->failed_family};
      decision.allowed = true;
      decision.duplicate = true;
      decision.usage = UsageOf(a);
      return OpResult<QuotaDecision>::Ok(std::move(decision));
    }
    decision.plan = a.account->Check(*a.feature, request.amount);
    if (!decision.plan.allowed) {
      decision.usage = UsageOf(a);
      return OpResult<QuotaDecision>::Ok(std::move(decision));  // refused: nothing changes
    }
    std::string nested;
    auto counted = counters_.IncrementLocked(ref, usage, now, /*id_checked=*/true, &nested);
    if (!counted.ok()) return OpResult<QuotaDecision>{counted.status, {}, counted.failed_family};
    ConsumeOutcome outcome = a.account->Consume(*a.feature, request.amount);
    Record(ref, request.owner, a, now, "", outcome.events);
    MarkDirty(ref, request.owner, *a.owner);
    QuotaEntry entry = AccountEntry(QuotaChange::kConsume, request.owner, *a.feature, *a.feature_bytes, a.window, now);
    entry.amount = request.amount;
    entry.nested = nested;
    ref.Append([&](std::string& blob) { AppendQuotaEntry(blob, entry); });
    decision.allowed = true;
    decision.plan = std::move(outcome.plan);
    decision.usage = UsageOf(a);
    return OpResult<QuotaDecision>::Ok(std::move(decision));
  });
}

OpResult<Admission> QuotasModule::AdmitLocked(const ShardRef& ref, std::string_view owner,
                                              const std::vector<MeteredAmount>& amounts, int64_t now) {
  Admission admission;
  admission.limited.assign(amounts.size(), false);
  for (size_t i = 0; i < amounts.size(); ++i) {
    AccountRef a;
    ReadFault fault;
    const OpStatus status = Resolve(ref, owner, amounts[i].feature, now, false, &a, fault);
    if (fault) return fault.Result<Admission>();
    if (status == OpStatus::kNoPlan || status == OpStatus::kUnknownFeature) continue;  // not limited
    if (status != OpStatus::kOk) return OpResult<Admission>::Error(status);
    admission.limited[i] = true;
    AdvanceLogged(ref, owner, a, now);
    const DrawPlan plan = a.account->Check(*a.feature, amounts[i].amount);
    if (!plan.allowed) {
      admission.allowed = false;
      admission.refused = i;
      admission.usage = UsageOf(a);
      admission.shortfall = plan.shortfall;
      return OpResult<Admission>::Ok(std::move(admission));
    }
  }
  return OpResult<Admission>::Ok(std::move(admission));
}

OpResult<bool> QuotasModule::ConsumeAdmittedLocked(const ShardRef& ref, std::string_view owner,
                                                   const std::vector<MeteredAmount>& amounts,
                                                   const Admission& admission, int64_t now, int64_t event_ms,
                                                   std::string* entries) {
  for (size_t i = 0; i < amounts.size(); ++i) {
    if (!admission.limited[i]) continue;
    AccountRef a;
    ReadFault fault;
    // Resolved a moment ago under the same lock: the cached slot.
    const OpStatus status = Resolve(ref, owner, amounts[i].feature, now, false, &a, fault);
    if (fault) return fault.Result<bool>();
    if (status != OpStatus::kOk) return OpResult<bool>::Error(status);
    const CounterIncrement usage{owner, amounts[i].feature, amounts[i].amount, event_ms, {}, true, 'Q'};
    std::string nested;
    auto counted = counters_.IncrementLocked(ref, usage, now, /*id_checked=*/true, &nested);
    if (!counted.ok()) return OpResult<bool>{counted.status, false, counted.failed_family};
    ConsumeOutcome outcome = a.account->Consume(*a.feature, amounts[i].amount);
    Record(ref, owner, a, now, "", outcome.events);
    MarkDirty(ref, owner, *a.owner);
    QuotaEntry entry = AccountEntry(QuotaChange::kConsume, owner, *a.feature, *a.feature_bytes, a.window, now);
    entry.amount = amounts[i].amount;
    entry.nested = nested;
    AppendQuotaEntry(*entries, entry);
  }
  return OpResult<bool>::Ok(true);
}

OpResult<QuotaDecision> QuotasModule::Release(const QuotaRequest& request) {
  return shard_set_.Write(request.owner, [&](const ShardRef& ref) {
    const int64_t now = clock_.NowMs();
    AccountRef a;
    ReadFault fault;
    const OpStatus status = Resolve(ref, request.owner, request.feature, now, false, &a, fault);
    if (fault) return fault.Result<QuotaDecision>();
    if (status != OpStatus::kOk) return OpResult<QuotaDecision>::Error(status);
    AdvanceLogged(ref, request.owner, a, now);
    QuotaDecision decision;
    decision.allowed = true;
    CounterIncrement usage{request.owner, request.feature, -request.amount, now, request.id, false, 'R'};
    if (auto seen = counters_.CheckEventIdLocked(ref, usage, now)) {
      if (!seen->ok()) return OpResult<QuotaDecision>{seen->status, {}, seen->failed_family};
      decision.duplicate = true;
      decision.usage = UsageOf(a);
      return OpResult<QuotaDecision>::Ok(std::move(decision));
    }
    // What a release gives back is known before it changes anything: the
    // usage of this window's consumes, newest first, never below zero.
    const int64_t releasable = std::min(request.amount, a.account->Figures(*a.feature).used);
    if (releasable <= 0) {
      decision.usage = UsageOf(a);
      return OpResult<QuotaDecision>::Ok(std::move(decision));
    }
    usage.id_delta = usage.delta;
    usage.delta = -releasable;
    std::string nested;
    auto counted = counters_.IncrementLocked(ref, usage, now, /*id_checked=*/true, &nested);
    if (!counted.ok()) return OpResult<QuotaDecision>{counted.status, {}, counted.failed_family};
    decision.released = a.account->Release(request.amount);
    Record(ref, request.owner, a, now, "", {});
    MarkDirty(ref, request.owner, *a.owner);
    QuotaEntry entry = AccountEntry(QuotaChange::kRelease, request.owner, *a.feature, *a.feature_bytes, a.window, now);
    entry.amount = request.amount;
    entry.nested = nested;
    ref.Append([&](std::string& blob) { AppendQuotaEntry(blob, entry); });
    decision.usage = UsageOf(a);
    return OpResult<QuotaDecision>::Ok(std::move(decision));
  });
}

OpResult<std::vector<FeatureUsage>> QuotasModule::Usage(std::string_view owner, std::string_view feature) {
  return shard_set_.Read(owner, [&](const ShardRef& ref) {
    using Result = OpResult<std::vector<FeatureUsage>>;
    const int64_t now = clock_.NowMs();
    std::vector<std::string> names;
    if (!feature.empty()) {
      names.emplace_back(feature);
    } else if (OwnerState* owner_state = FindOwner(ref, owner)) {
      if (!owner_state->plan.empty()) {
        std::lock_guard<std::mutex> lock(plans_mu_);
        if (auto it = plans_.find(owner_state->plan); it != plans_.end()) {
          for (const PlanFeature& f : it->second.plan->features) names.push_back(f.name);
        }
      }
      for (const auto& [name, slot] : owner_state->features) names.push_back(name);
      std::sort(names.begin(), names.end());
      names.erase(std::unique(names.begin(), names.end()), names.end());
    } else {
      return Result::Error(OpStatus::kNoPlan);
    }
    std::vector<FeatureUsage> out;
    for (const std::string& name : names) {
      AccountRef a;
      ReadFault fault;
      const OpStatus status = Resolve(ref, owner, name, now, false, &a, fault);
      if (fault) return fault.Result<std::vector<FeatureUsage>>();
      if (status != OpStatus::kOk) return Result::Error(status);
      AdvanceLogged(ref, owner, a, now);
      out.push_back(UsageOf(a));
    }
    return Result::Ok(std::move(out));
  });
}

OpResult<QuotaDecision> QuotasModule::Reserve(const QuotaRequest& request) {
  return shard_set_.Write(request.owner, [&](const ShardRef& ref) {
    const int64_t now = clock_.NowMs();
    AccountRef a;
    ReadFault fault;
    const OpStatus status = Resolve(ref, request.owner, request.feature, now, false, &a, fault);
    if (fault) return fault.Result<QuotaDecision>();
    if (status != OpStatus::kOk) return OpResult<QuotaDecision>::Error(status);
    AdvanceLogged(ref, request.owner, a, now);
    QuotaDecision decision;
    auto holder = [&](std::string_view id) -> const std::string* {
      for (const auto& [name, slot] : a.owner->features) {
        if (slot.account.HoldStateOf(id)) return &name;
      }
      return nullptr;
    };
    std::string id;
    if (!request.id.empty()) {
      id = request.id;
      if (const std::string* feature = holder(id)) {
        // A retried reserve: the same hold, whatever became of it.
        if (*feature != a.feature->name) return OpResult<QuotaDecision>::Error(OpStatus::kIdConflict);
        decision.allowed = true;
        decision.duplicate = true;
        decision.reservation = id;
        decision.usage = UsageOf(a);
        return OpResult<QuotaDecision>::Ok(std::move(decision));
      }
    } else {
      uint64_t next = a.owner->next_hold;
      id = FreshId('r', &next, [&](const std::string& candidate) { return holder(candidate) != nullptr; });
    }
    const int64_t ttl = request.ttl_ms > 0 ? request.ttl_ms : options_.default_hold_ttl_ms;
    const int64_t expires = now + ttl;
    ConsumeOutcome outcome = a.account->Reserve(*a.feature, id, request.amount, expires);
    decision.plan = outcome.plan;
    if (!outcome.allowed) {
      decision.usage = UsageOf(a);
      return OpResult<QuotaDecision>::Ok(std::move(decision));
    }
    BumpPast(id, 'r', &a.owner->next_hold);
    QueueDeadline(state(ref), request.owner, *a.owner);
    Record(ref, request.owner, a, now, "", outcome.events);
    MarkDirty(ref, request.owner, *a.owner);
    QuotaEntry entry = AccountEntry(QuotaChange::kReserve, request.owner, *a.feature, *a.feature_bytes, a.window, now);
    entry.amount = request.amount;
    entry.ref = id;
    entry.expires_ms = expires;
    ref.Append([&](std::string& blob) { AppendQuotaEntry(blob, entry); });
    decision.allowed = true;
    decision.reservation = id;
    decision.expires_ms = expires;
    decision.usage = UsageOf(a);
    return OpResult<QuotaDecision>::Ok(std::move(decision));
  });
}

OpStatus QuotasModule::ResolveHolder(const ShardRef& ref, std::string_view owner, int64_t now_ms, OpStatus missing,
                                     const std::function<bool(const FeatureAccount&)>& holds, AccountRef* out,
                                     ReadFault& fault) {
  std::string feature;
  if (OwnerState* owner_state = FindOwner(ref, owner)) {
    for (const auto& [name, slot] : owner_state->features) {
      if (holds(slot.account)) feature = name;
    }
  }
  if (feature.empty()) return missing;
  const OpStatus status = Resolve(ref, owner, feature, now_ms, false, out, fault);
  if (status == OpStatus::kOk) AdvanceLogged(ref, owner, *out, now_ms);
  return status;
}

OpResult<CommitDecision> QuotasModule::Commit(std::string_view owner, std::string_view reservation, int64_t actual) {
  return shard_set_.Write(owner, [&](const ShardRef& ref) {
    using Result = OpResult<CommitDecision>;
    const int64_t now = clock_.NowMs();
    AccountRef a;
    ReadFault fault;
    const OpStatus status = ResolveHolder(
        ref, owner, now, OpStatus::kUnknownReservation,
        [&](const FeatureAccount& account) { return account.HoldStateOf(reservation).has_value(); }, &a, fault);
    if (fault) return fault.Result<CommitDecision>();
    if (status != OpStatus::kOk) return Result::Error(status);
    CommitDecision decision;
    decision.feature = a.feature->name;
    const std::optional<int64_t> held = a.account->HeldAmountOf(reservation);
    if (!held) {
      decision.outcome.state = a.account->HoldStateOf(reservation);
      decision.usage = UsageOf(a);
      return Result::Ok(std::move(decision));
    }
    // What the commit consumes is known before it changes anything (the
    // hold, or `actual` below it, plus the extra that fits: the sources are
    // the same before and after the hold ends), so the usage counter can
    // refuse first and leave everything as it was.
    int64_t consumed = std::min(actual, *held);
    if (actual > *held) {
      for (const Draw& draw : a.account->Check(*a.feature, actual - *held).draws) consumed += draw.amount;
    }
    std::string nested;
    if (consumed != 0) {
      CounterIncrement usage{owner, a.feature->name, consumed, now, "", false, 'C'};
      auto counted = counters_.IncrementLocked(ref, usage, now, /*id_checked=*/true, &nested);
      if (!counted.ok()) return Result{counted.status, {}, counted.failed_family};
    }
    decision.outcome = a.account->Commit(*a.feature, reservation, actual);
    Record(ref, owner, a, now, "", decision.outcome.events);
    MarkDirty(ref, owner, *a.owner);
    QuotaEntry entry = AccountEntry(QuotaChange::kCommit, owner, *a.feature, *a.feature_bytes, a.window, now);
    entry.amount = actual;
    entry.ref = reservation;
    entry.nested = nested;
    ref.Append([&](std::string& blob) { AppendQuotaEntry(blob, entry); });
    decision.usage = UsageOf(a);
    return Result::Ok(std::move(decision));
  });
}

OpResult<CommitDecision> QuotasModule::Cancel(std::string_view owner, std::string_view reservation) {
  return shard_set_.Write(owner, [&](const ShardRef& ref) {
    using Result = OpResult<CommitDecision>;
    const int64_t now = clock_.NowMs();
    AccountRef a;
    ReadFault fault;
    const OpStatus status = ResolveHolder(
        ref, owner, now, OpStatus::kUnknownReservation,
        [&](const FeatureAccount& account) { return account.HoldStateOf(reservation).has_value(); }, &a, fault);
    if (fault) return fault.Result<CommitDecision>();
    if (status != OpStatus::kOk) return Result::Error(status);
    CommitDecision decision;
    decision.feature = a.feature->name;
    decision.outcome = a.account->Cancel(reservation);
    if (decision.outcome.applied) {
      Record(ref, owner, a, now, "", {});
      MarkDirty(ref, owner, *a.owner);
      QuotaEntry entry = AccountEntry(QuotaChange::kCancel, owner, *a.feature, *a.feature_bytes, a.window, now);
      entry.ref = reservation;
      ref.Append([&](std::string& blob) { AppendQuotaEntry(blob, entry); });
    }
    decision.usage = UsageOf(a);
    return Result::Ok(std::move(decision));
  });
}

// ---------------------------------------------------------------------------
// Credits

OpResult<GrantResult> QuotasModule::GrantCredit(const GrantRequest& request) {
  return shard_set_.Write(request.owner, [&](const ShardRef& ref) {
    using Result = OpResult<GrantResult>;
    const int64_t now = clock_.NowMs();
    AccountRef a;
    ReadFault fault;
    const OpStatus status = Resolve(ref, request.owner, request.feature, now, true, &a, fault);
    if (fault) return fault.Result<GrantResult>();
    if (status != OpStatus::kOk) return Result::Error(status);
    AdvanceLogged(ref, request.owner, a, now);
    GrantResult result;
    result.expires_ms = request.expires_ms;
    if (request.lifetime) {
      const TimeZone& zone = ZoneFor(ref, request.owner, fault);
      if (fault) return fault.Result<GrantResult>();
      result.expires_ms = AddDuration(now, *request.lifetime, zone);
    }
    auto owner_of_grant = [&](std::string_view id) -> std::pair<const std::string*, const Grant*> {
      for (const auto& [name, slot] : a.owner->features) {
        if (const Grant* grant = slot.account.credits().Find(id)) return {&name, grant};
      }
      return {nullptr, nullptr};
    };
    if (!request.id.empty()) {
      auto [feature, grant] = owner_of_grant(request.id);
      if (grant != nullptr) {
        // A retried grant: the same arguments are a duplicate, others a conflict.
        const bool same = *feature == a.feature->name && grant->amount == request.amount &&
                          grant->priority == request.priority && grant->reason == request.reason &&
                          (request.expires_ms ? grant->expires_ms == request.expires_ms : true);
        if (!same) return Result::Error(OpStatus::kIdConflict);
        result.grant = grant->id;
        result.duplicate = true;
        result.expires_ms = grant->expires_ms;
        return Result::Ok(std::move(result));
      }
      result.grant = request.id;
    } else {
      uint64_t next = a.owner->next_grant;
      result.grant = FreshId('g', &next, [&](const std::string& id) { return owner_of_grant(id).second != nullptr; });
    }
    BumpPast(result.grant, 'g', &a.owner->next_grant);
    Grant grant;
    grant.id = result.grant;
    grant.amount = request.amount;
    grant.priority = request.priority;
    grant.expires_ms = result.expires_ms;
    grant.granted_ms = now;
    grant.reason = request.reason;
    grant.actor = request.actor;
    a.account->credits().Add(std::move(grant));
    QueueDeadline(state(ref), request.owner, *a.owner);
    Record(ref, request.owner, a, now, request.actor, {});
    MarkDirty(ref, request.owner, *a.owner);
    QuotaEntry entry = AccountEntry(QuotaChange::kGrant, request.owner, *a.feature, *a.feature_bytes, a.window, now);
    entry.amount = request.amount;
    entry.ref = result.grant;
    entry.expires_ms = result.expires_ms;
    entry.priority = request.priority;
    entry.reason = request.reason;
    entry.actor = request.actor;
    std::string inner;
    AppendQuotaEntry(inner, entry);
    std::string details = "{\"grant\":\"" + result.grant + "\",\"amount\":" + std::to_string(request.amount) +
                          ",\"priority\":" + std::to_string(request.priority) +
                          ",\"expires_ms\":" + LimitJson(result.expires_ms) + "}";
    feeds_.LogAudited(ref, AuditInfo{request.actor, "CREDIT.GRANT"}, request.owner, request.feature, std::move(details),
                      inner);
    return Result::Ok(std::move(result));
  });
}

OpResult<std::vector<GrantView>> QuotasModule::ListCredits(std::string_view owner, std::string_view feature, bool all) {
  return shard_set_.Read(owner, [&](const ShardRef& ref) {
    using Result = OpResult<std::vector<GrantView>>;
    const int64_t now = clock_.NowMs();
    std::vector<GrantView> out;
    OwnerState* owner_state = FindOwner(ref, owner);
    if (owner_state == nullptr) return Result::Ok(std::move(out));
    std::vector<std::string> names;
    for (const auto& [name, slot] : owner_state->features) {
      if (feature.empty() || name == feature) names.push_back(name);
    }
    for (const std::string& name : names) {
      AccountRef a;
      ReadFault fault;
      const OpStatus status = Resolve(ref, owner, name, now, false, &a, fault);
      if (fault) return fault.Result<std::vector<GrantView>>();
      if (status != OpStatus::kOk) return Result::Error(status);
      AdvanceLogged(ref, owner, a, now);
      for (const Grant* grant : a.account->credits().All()) {
        if (all || grant->live()) out.push_back({name, *grant});
      }
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const GrantView& x, const GrantView& y) { return x.grant.granted_ms < y.grant.granted_ms; });
    return Result::Ok(std::move(out));
  });
}

OpResult<int64_t> QuotasModule::Revoke(std::string_view owner, std::string_view grant, const AuditInfo& audit) {
  return shard_set_.Write(owner, [&](const ShardRef& ref) {
    using Result = OpResult<int64_t>;
    const int64_t now = clock_.NowMs();
    AccountRef a;
    ReadFault fault;
    const OpStatus status = ResolveHolder(
        ref, owner, now, OpStatus::kUnknownGrant,
        [&](const FeatureAccount& account) { return account.credits().Find(grant) != nullptr; }, &a, fault);
    if (fault) return fault.Result<int64_t>();
    if (status != OpStatus::kOk) return Result::Error(status);
    std::optional<int64_t> written_off = a.account->credits().Revoke(grant);
    if (!written_off) return Result::Ok(0);  // it had ended: nothing to revoke
    Record(ref, owner, a, now, audit.actor, {});
    MarkDirty(ref, owner, *a.owner);
    QuotaEntry entry = AccountEntry(QuotaChange::kRevoke, owner, *a.feature, *a.feature_bytes, a.window, now);
    entry.ref = grant;
    entry.actor = audit.actor;
    std::string inner;
    AppendQuotaEntry(inner, entry);
    feeds_.LogAudited(ref, audit, owner, a.feature->name,
                      "{\"grant\":\"" + std::string(grant) + "\",\"revoked\":" + std::to_string(*written_off) + "}",
                      inner);
    return Result::Ok(*written_off);
  });
}

OpResult<std::vector<LedgerRow>> QuotasModule::Ledger(std::string_view owner, std::string_view grant) {
  return shard_set_.Read(owner, [&](const ShardRef& ref) {
    using Result = OpResult<std::vector<LedgerRow>>;
    std::map<uint64_t, LedgerRow> rows;
    // Stored rows, then those a compaction is writing, then the newest.
    const std::string prefix = LedgerPrefix(owner);
    std::string end = prefix;
    end.back() = '\1';
    bool corrupt = false;
    Status s = store_.Scan(Family::kLedger, prefix, end, [&](std::string_view key, std::string_view value) {
      LedgerRow row;
      if (key.size() != prefix.size() + 8 || !DecodeLedgerRow(value, &row)) {
        corrupt = true;
        return false;
      }
      row.index = storage::codec::GetBigEndian64(key.data() + prefix.size());
      rows[row.index] = std::move(row);
      return true;
    });
    ReadFault fault;
    fault.Check(Family::kLedger, prefix, s);
    if (corrupt) fault.Check(Family::kLedger, prefix, Status::Corruption("undecodable ledger row"));
    if (fault) return fault.Result<std::vector<LedgerRow>>();
    const Shard& shard = state(ref);
    for (size_t i = 0; i < shard.snapshot_ledger.size(); ++i) {
      if (shard.snapshot_ledger_owner[i] == owner) rows[shard.snapshot_ledger[i].index] = shard.snapshot_ledger[i];
    }
    for (size_t i = 0; i < shard.ledger.size(); ++i) {
      if (shard.ledger_owner[i] == owner) rows[shard.ledger[i].index] = shard.ledger[i];
    }
    std::vector<LedgerRow> out;
    for (auto& [index, row] : rows) {
      if (grant.empty() || row.grant == grant) out.push_back(std::move(row));
    }
    return Result::Ok(std::move(out));
  });
}

// ---------------------------------------------------------------------------
// Time

size_t QuotasModule::Sweep() {
  size_t advanced = 0;
  for (size_t i = 0; i < kShardCount; ++i) {
    if (!shard_set_.writable()) break;
    shard_set_.Locked(i, [&](const ShardRef& ref) {
      const int64_t now = clock_.NowMs();
      Shard& shard = state(ref);
      auto& deadlines = shard.deadlines;
      // Queued again after the loop: an account that could not be advanced
      // (a read fault) is still due, and is tried at the next sweep.
      std::vector<std::string> visited;
      while (!deadlines.empty() && deadlines.top().first <= now) {
        const std::string owner = deadlines.top().second;
        const int64_t queued = deadlines.top().first;
        deadlines.pop();
        OwnerState* owner_state = FindOwner(ref, owner);
        if (owner_state == nullptr) continue;
        if (owner_state->queued_deadline == queued) owner_state->queued_deadline = INT64_MAX;
        std::vector<std::string> due;
        for (const auto& [name, slot] : owner_state->features) {
          std::optional<int64_t> deadline = slot.account.NextDeadline();
          if (deadline && *deadline <= now) due.push_back(name);
        }
        for (const std::string& name : due) {
          AccountRef a;
          ReadFault fault;
          if (Resolve(ref, owner, name, now, false, &a, fault) != OpStatus::kOk) continue;
          AdvanceLogged(ref, owner, a, now);
          ++advanced;
        }
        visited.push_back(owner);
      }
      for (const std::string& owner : visited) {
        if (OwnerState* owner_state = FindOwner(ref, owner)) QueueDeadline(shard, owner, *owner_state);
      }
    });
  }
  return advanced;
}

// ---------------------------------------------------------------------------
// Recovery

std::string QuotasModule::EncodeOwner(const OwnerState& owner_state) const {
  std::string out;
  out.push_back(2);  // version (1: holds without their end time)
  qc::PutStr(out, owner_state.plan);
  qc::PutOptI64(out, owner_state.anchor ? std::optional<int64_t>(DaysFromCivil(*owner_state.anchor)) : std::nullopt);
  qc::PutI64(out, static_cast<int64_t>(owner_state.next_grant));
  qc::PutI64(out, static_cast<int64_t>(owner_state.next_hold));
  qc::PutI64(out, static_cast<int64_t>(owner_state.next_ledger));
  qc::PutI64(out, static_cast<int64_t>(owner_state.features.size()));
  for (const auto& [name, slot] : owner_state.features) {
    qc::PutStr(out, name);
    slot.account.EncodeTo(out);
  }
  return out;
}

bool QuotasModule::DecodeOwner(std::string_view bytes, OwnerState* owner_state) const {
  qc::Reader r(bytes);
  const int version = r.Byte();
  if (version != 1 && version != 2) return false;
  owner_state->plan = r.Str();
  if (std::optional<int64_t> days = r.OptI64()) owner_state->anchor = CivilFromDays(*days);
  owner_state->next_grant = static_cast<uint64_t>(r.I64());
  owner_state->next_hold = static_cast<uint64_t>(r.I64());
  owner_state->next_ledger = static_cast<uint64_t>(r.I64());
  const size_t count = r.Count();
  std::string_view rest = r.rest();
  if (!r.ok()) return false;
  for (size_t i = 0; i < count; ++i) {
    qc::Reader name_reader(rest);
    std::string name(name_reader.Str());
    if (!name_reader.ok()) return false;
    rest = name_reader.rest();
    auto [slot, added] = owner_state->features.try_emplace(std::move(name));
    if (!added || !slot->second.account.DecodeFrom(rest, version)) return false;
  }
  return rest.empty();
}

Status QuotasModule::LoadCompacted() {
  bool corrupt = false;
  std::string bad_key;
  Status s = store_.Scan(Family::kPlans, "", "", [&](std::string_view key, std::string_view value) {
    auto plan = std::make_shared<Plan>();
    if (!DecodePlan(value, plan.get())) {
      corrupt = true;
      bad_key = key;
      return false;
    }
    plans_[std::string(key)] = PlanSlot{std::move(plan), false};
    return true;
  });
  if (s.ok() && !corrupt) {
    s = store_.Scan(Family::kQuotas, "", "", [&](std::string_view key, std::string_view value) {
      auto owner_state = std::make_unique<OwnerState>();
      if (!DecodeOwner(value, owner_state.get())) {
        corrupt = true;
        bad_key = key;
        return false;
      }
      Shard& shard = shards_[ShardSet::ShardOf(key)];
      QueueDeadline(shard, key, *owner_state);
      shard.owners[std::string(key)] = std::move(owner_state);
      return true;
    });
  }
  if (!s.ok()) return s;
  if (corrupt) return Status::Corruption("undecodable quota state of '" + bad_key + "'");
  return Status::Ok();
}

Status QuotasModule::Replay(const lf::Entry& log_entry, const ReplayContext& context) {
  QuotaEntry e;
  if (!DecodeQuotaEntry(log_entry.payload, &e)) return Status::Corruption("malformed quota entry");
  const ShardRef& ref = context.shard;
  switch (e.change) {
    case QuotaChange::kPlanSet: {
      auto plan = std::make_shared<Plan>();
      if (!DecodePlan(e.plan_bytes, plan.get())) return Status::Corruption("malformed plan in quota entry");
      ApplyPlanChange(ref, e.owner, std::move(plan));
      return Status::Ok();
    }
    case QuotaChange::kPlanDelete:
      ApplyPlanChange(ref, e.owner, nullptr);
      return Status::Ok();
    case QuotaChange::kAssign: {
      OwnerState& owner_state = OwnerFor(ref, e.owner);
      owner_state.plan = std::string(e.ref);
      owner_state.anchor.reset();
      if (e.anchor_days) owner_state.anchor = CivilFromDays(*e.anchor_days);
      ForgetResolved(owner_state);
      MarkDirty(ref, e.owner, owner_state);
      return Status::Ok();
    }
    default:
      break;
  }
  // An op on one account: the same calls, on the same state, with the inputs
  // the live op used.
  AccountRef a;
  PlanFeature replayed;
  if (!DecodeFeature(e.feature_bytes, &replayed) || replayed.name != e.feature) {
    return Status::Corruption("malformed feature in quota entry");
  }
  a.feature = &replayed;
  a.owner = &OwnerFor(ref, e.owner);
  a.account = &a.owner->features.try_emplace(std::string(e.feature)).first->second.account;
  a.window = QuotaWindow{e.window_start_ms, e.window_end_ms};
  std::vector<QuotaEvent> events = a.account->Advance(*a.feature, a.window, e.now_ms);
  if (a.account->TakeForgotHolds()) MarkDirty(ref, e.owner, *a.owner);
  Record(ref, e.owner, a, e.now_ms, "", events);
  events.clear();
  std::string_view actor;
  bool diverged = false;
  switch (e.change) {
    case QuotaChange::kAdvance:
      break;
    case QuotaChange::kConsume: {
      ConsumeOutcome outcome = a.account->Consume(*a.feature, e.amount);
      diverged = !outcome.allowed;
      events = std::move(outcome.events);
      break;
    }
    case QuotaChange::kRelease:
      a.account->Release(e.amount);
      break;
    case QuotaChange::kGrant: {
      Grant grant;
      grant.id = std::string(e.ref);
      grant.amount = e.amount;
      grant.priority = e.priority;
      grant.expires_ms = e.expires_ms;
      grant.granted_ms = e.now_ms;
      grant.reason = std::string(e.reason);
      grant.actor = std::string(e.actor);
      diverged = !a.account->credits().Add(std::move(grant));
      BumpPast(e.ref, 'g', &a.owner->next_grant);
      actor = e.actor;
      break;
    }
    case QuotaChange::kRevoke:
      a.account->credits().Revoke(e.ref);
      actor = e.actor;
      break;
    case QuotaChange::kReserve: {
      ConsumeOutcome outcome = a.account->Reserve(*a.feature, std::string(e.ref), e.amount, e.expires_ms.value_or(0));
      diverged = !outcome.allowed;
      events = std::move(outcome.events);
      BumpPast(e.ref, 'r', &a.owner->next_hold);
      break;
    }
    case QuotaChange::kCommit: {
      CommitOutcome outcome = a.account->Commit(*a.feature, e.ref, e.amount);
      diverged = !outcome.applied;
      events = std::move(outcome.events);
      break;
    }
    case QuotaChange::kCancel:
      diverged = !a.account->Cancel(e.ref).applied;
      break;
    default:
      return Status::Corruption("unknown quota change");
  }
  if (diverged) {
    return Status::Corruption("quota replay of '" + std::string(e.owner) + "' feature '" + std::string(e.feature) +
                              "' does not repeat what the log recorded");
  }
  Record(ref, e.owner, a, e.now_ms, actor, events);
  MarkDirty(ref, e.owner, *a.owner);
  QueueDeadline(state(ref), e.owner, *a.owner);
  if (!e.nested.empty()) {
    lf::Entry nested;
    if (!DecodeNestedEntry(e.nested, &nested)) return Status::Corruption("malformed usage entry in quota entry");
    return context.Dispatch(nested);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Compaction

void QuotasModule::Snapshot(const ShardRef& ref) {
  Shard& shard = state(ref);
  shard.snapshot_owners.clear();
  for (const std::string& owner : shard.dirty_owners) {
    auto it = shard.owners.find(owner);
    if (it == shard.owners.end()) continue;
    it->second->dirty = false;
    shard.snapshot_owners.emplace_back(owner, EncodeOwner(*it->second));
  }
  shard.dirty_owners.clear();
  shard.snapshot_ledger.clear();
  shard.snapshot_ledger.swap(shard.ledger);
  shard.snapshot_ledger_owner.clear();
  shard.snapshot_ledger_owner.swap(shard.ledger_owner);
  shard.snapshot_plans.clear();
  if (!shard.plans_changed.empty()) {
    std::lock_guard<std::mutex> lock(plans_mu_);
    for (const std::string& name : shard.plans_changed) {
      auto it = plans_.find(name);
      shard.snapshot_plans.emplace_back(name, it == plans_.end() ? std::string() : EncodePlan(*it->second.plan));
    }
    shard.plans_changed.clear();
  }
}

Status QuotasModule::WriteSnapshot(CompactionBatch& batch) {
  const Shard& shard = shards_[batch.shard];
  for (const auto& [owner, bytes] : shard.snapshot_owners) batch.batch.Put(Family::kQuotas, owner, bytes);
  for (size_t i = 0; i < shard.snapshot_ledger.size(); ++i) {
    const LedgerRow& row = shard.snapshot_ledger[i];
    batch.batch.Put(Family::kLedger, LedgerKey(shard.snapshot_ledger_owner[i], row.index), EncodeLedgerRow(row));
  }
  for (const auto& [name, bytes] : shard.snapshot_plans) {
    if (bytes.empty()) {
      batch.batch.Delete(Family::kPlans, name);
    } else {
      batch.batch.Put(Family::kPlans, name, bytes);
    }
  }
  batch.written += shard.snapshot_owners.size() + shard.snapshot_ledger.size() + shard.snapshot_plans.size();
  return Status::Ok();
}

void QuotasModule::FinishSnapshot(const ShardRef& ref, bool ok) {
  Shard& shard = state(ref);
  if (!ok) {
    // Everything goes back to the next compaction (ledger rows in front of
    // the newer ones: index order).
    for (const auto& [owner, bytes] : shard.snapshot_owners) {
      if (auto it = shard.owners.find(owner); it != shard.owners.end()) MarkDirty(ref, owner, *it->second);
    }
    shard.ledger.insert(shard.ledger.begin(), std::make_move_iterator(shard.snapshot_ledger.begin()),
                        std::make_move_iterator(shard.snapshot_ledger.end()));
    shard.ledger_owner.insert(shard.ledger_owner.begin(), std::make_move_iterator(shard.snapshot_ledger_owner.begin()),
                              std::make_move_iterator(shard.snapshot_ledger_owner.end()));
    for (const auto& [name, bytes] : shard.snapshot_plans) shard.plans_changed.insert(name);
  }
  shard.snapshot_owners.clear();
  shard.snapshot_ledger.clear();
  shard.snapshot_ledger_owner.clear();
  shard.snapshot_plans.clear();
}

ModuleStats QuotasModule::Stats() {
  ModuleStats stats{name()};
  for (size_t i = 0; i < kShardCount; ++i) {
    shard_set_.Locked(i, [&](const ShardRef& ref) {
      const Shard& shard = state(ref);
      stats.items += shard.owners.size();
      stats.pending += shard.dirty_owners.size() + shard.ledger.size();
    });
  }
  std::lock_guard<std::mutex> lock(plans_mu_);
  stats.items += plans_.size();
  return stats;
}

}  // namespace tally::core
