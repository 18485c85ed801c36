#include "core/quota_account.h"

#include <algorithm>

#include "core/quota_codec.h"

namespace tally::core {
namespace {

constexpr int64_t kHourMs = 3600 * 1000;

int64_t AllowancePart(const std::vector<Draw>& draws) {
  int64_t units = 0;
  for (const Draw& draw : draws) units += draw.grant.empty() ? draw.amount : 0;
  return units;
}
int64_t GrantPart(const std::vector<Draw>& draws) {
  int64_t units = 0;
  for (const Draw& draw : draws) units += draw.grant.empty() ? 0 : draw.amount;
  return units;
}

}  // namespace

std::string_view HoldStateName(HoldState state) {
  switch (state) {
    case HoldState::kHeld:
      return "held";
    case HoldState::kCommitted:
      return "committed";
    case HoldState::kCancelled:
      return "cancelled";
    case HoldState::kExpired:
      return "expired";
  }
  return "held";
}

int64_t FeatureAccount::BucketKey(const PlanFeature& feature) const {
  // Rolling: the current hour (the window ends at the next hour's start).
  if (feature.period.kind == QuotaPeriod::Kind::kRolling) return window_.end_ms - kHourMs;
  return window_.start_ms;
}

void FeatureAccount::AddUsage(int64_t bucket, int64_t used, int64_t from_grants) {
  Bucket& b = buckets_[bucket];
  b.used += used;
  b.from_grants += from_grants;
  used_ += used;
  from_grants_ += from_grants;
}

std::vector<QuotaEvent> FeatureAccount::Advance(const PlanFeature& feature, const QuotaWindow& window, int64_t now_ms) {
  std::vector<QuotaEvent> events;
  now_ms_ = now_ms;
  if (!started_ || window.start_ms != window_.start_ms || window.end_ms != window_.end_ms) {
    // Usage before the window leaves it; so do the draws a release could give back.
    while (!buckets_.empty() && buckets_.begin()->first < window.start_ms) {
      used_ -= buckets_.begin()->second.used;
      from_grants_ -= buckets_.begin()->second.from_grants;
      buckets_.erase(buckets_.begin());
    }
    while (!consumes_.empty() && consumes_.front().bucket < window.start_ms) consumes_.pop_front();
    window_ = window;
    started_ = true;
    // A new window re-arms the thresholds its usage has not reached (all of
    // them for a calendar period, whose usage starts from 0).
    const int64_t usage = UsedFromAllowance();
    std::erase_if(fired_, [&](int threshold) {
      return !feature.limit || static_cast<__int128>(usage) * 100 < static_cast<__int128>(threshold) * *feature.limit;
    });
  }
  credits_.ExpireUpTo(now_ms);
  while (!hold_expiry_.empty() && hold_expiry_.begin()->first <= now_ms) {
    auto it = holds_.find(hold_expiry_.begin()->second);
    hold_expiry_.erase(hold_expiry_.begin());
    if (it != holds_.end() && it->second.state == HoldState::kHeld) {
      EndHold(it->first, it->second, HoldState::kExpired);
      events.push_back({QuotaEventKind::kHoldExpired, 0, it->first});
    }
  }
  while (!ended_holds_.empty() && ended_holds_.begin()->first <= now_ms - kEndedHoldRetentionMs) {
    holds_.erase(ended_holds_.begin()->second);
    ended_holds_.erase(ended_holds_.begin());
    forgot_holds_ = true;
  }
  return events;
}

Allowance FeatureAccount::AllowanceOf(const PlanFeature& feature) const {
  const std::optional<int64_t> expires = window_.resets() ? std::optional<int64_t>(window_.end_ms) : std::nullopt;
  if (!feature.limit) return Allowance{std::nullopt, expires};
  return Allowance{std::max<int64_t>(0, *feature.limit - AllowanceUsed()), expires};
}

QuotaFigures FeatureAccount::Figures(const PlanFeature& feature) const {
  QuotaFigures figures;
  figures.used = used_;
  figures.limit = feature.limit;
  figures.credits = credits_.available();
  figures.held = held_;
  figures.window = window_;
  if (feature.limit) {
    figures.remaining = Remaining(*feature.limit, used_ + held_allowance_, from_grants_, credits_.available());
    figures.overage = std::max<int64_t>(0, UsedFromAllowance() - *feature.limit);
  }
  return figures;
}

DrawPlan FeatureAccount::Check(const PlanFeature& feature, int64_t amount) const {
  return credits_.Plan(amount, AllowanceOf(feature), feature.overage == Overage::kAllow);
}

void FeatureAccount::Take(const std::vector<Draw>& draws) { credits_.Apply(draws); }

void FeatureAccount::FireThresholds(const PlanFeature& feature, int64_t credits_before,
                                    std::vector<QuotaEvent>* events) {
  if (feature.limit && *feature.limit > 0) {
    const __int128 usage = static_cast<__int128>(UsedFromAllowance()) * 100;
    for (int threshold : feature.alert_thresholds) {
      if (usage < static_cast<__int128>(threshold) * *feature.limit) break;  // thresholds are sorted
      if (std::find(fired_.begin(), fired_.end(), threshold) != fired_.end()) continue;
      fired_.push_back(threshold);
      events->push_back({QuotaEventKind::kThreshold, threshold, ""});
    }
  }
  if (credits_before > 0 && credits_.available() == 0) events->push_back({QuotaEventKind::kCreditDepleted, 0, ""});
}

ConsumeOutcome FeatureAccount::Consume(const PlanFeature& feature, int64_t amount) {
  ConsumeOutcome outcome;
  const int64_t credits_before = credits_.available();
  outcome.plan = Check(feature, amount);
  if (!outcome.plan.allowed) return outcome;
  outcome.allowed = true;
  Take(outcome.plan.draws);
  const int64_t bucket = BucketKey(feature);
  AddUsage(bucket, amount, outcome.plan.from_grants);
  Remember(bucket, outcome.plan.draws);
  FireThresholds(feature, credits_before, &outcome.events);
  return outcome;
}

void FeatureAccount::Remember(int64_t bucket, const std::vector<Draw>& draws) {
  // Consumes of one bucket share a record, and a draw from the source the
  // previous one came from extends it: the records grow with the changes of
  // source, not with the number of consumes.
  if (consumes_.empty() || consumes_.back().bucket != bucket) consumes_.push_back({bucket, {}});
  std::vector<Draw>& kept = consumes_.back().draws;
  for (const Draw& draw : draws) {
    if (draw.amount == 0) continue;
    if (!kept.empty() && kept.back().grant == draw.grant) {
      kept.back().amount += draw.amount;
    } else {
      kept.push_back(draw);
    }
  }
  if (kept.empty()) consumes_.pop_back();
}

std::pair<int64_t, int64_t> FeatureAccount::GiveBack(std::vector<Draw>& draws, int64_t amount) {
  int64_t from_allowance = 0, from_grants = 0;
  while (amount > 0 && !draws.empty()) {
    Draw& draw = draws.back();
    const int64_t units = std::min(amount, draw.amount);
    if (draw.grant.empty()) {
      from_allowance += units;
    } else {
      credits_.GiveBack(draw.grant, units);
      from_grants += units;
    }
    draw.amount -= units;
    amount -= units;
    if (draw.amount == 0) draws.pop_back();
  }
  return {from_allowance, from_grants};
}

int64_t FeatureAccount::Release(int64_t amount) {
  int64_t released = 0;
  while (amount > 0 && !consumes_.empty()) {
    ConsumeRecord& record = consumes_.back();
    auto [from_allowance, from_grants] = GiveBack(record.draws, amount);
    AddUsage(record.bucket, -(from_allowance + from_grants), -from_grants);
    released += from_allowance + from_grants;
    amount -= from_allowance + from_grants;
    if (record.draws.empty()) consumes_.pop_back();
  }
  return released;
}

ConsumeOutcome FeatureAccount::Reserve(const PlanFeature& feature, const std::string& id, int64_t amount,
                                       int64_t expires_ms) {
  ConsumeOutcome outcome;
  if (holds_.count(id) != 0) return outcome;
  const int64_t credits_before = credits_.available();
  outcome.plan = Check(feature, amount);
  if (!outcome.plan.allowed) return outcome;
  outcome.allowed = true;
  Take(outcome.plan.draws);
  held_ += amount;
  held_allowance_ += outcome.plan.from_allowance;
  holds_.emplace(id, Hold{amount, expires_ms, outcome.plan.draws, HoldState::kHeld});
  hold_expiry_.emplace(expires_ms, id);
  if (credits_before > 0 && credits_.available() == 0) {
    outcome.events.push_back({QuotaEventKind::kCreditDepleted, 0, ""});
  }
  return outcome;
}

void FeatureAccount::EndHold(const std::string& id, Hold& hold, HoldState state) {
  held_ -= hold.amount;
  held_allowance_ -= AllowancePart(hold.draws);
  if (state != HoldState::kCommitted) GiveBack(hold.draws, hold.amount);
  hold.state = state;
  // An expired hold ended at its expiry instant, whenever Advance noticed.
  hold.ended_ms = state == HoldState::kExpired ? hold.expires_ms : now_ms_;
  ended_holds_.emplace(hold.ended_ms, id);
  for (auto it = hold_expiry_.lower_bound(hold.expires_ms); it != hold_expiry_.end() && it->first == hold.expires_ms;
       ++it) {
    if (holds_.count(it->second) != 0 && &holds_.find(it->second)->second == &hold) {
      hold_expiry_.erase(it);
      break;
    }
  }
}

CommitOutcome FeatureAccount::Commit(const PlanFeature& feature, std::string_view id, int64_t actual) {
  CommitOutcome outcome;
  auto it = holds_.find(id);
  if (it == holds_.end()) return outcome;
  Hold& hold = it->second;
  outcome.state = hold.state;
  if (hold.state != HoldState::kHeld) return outcome;
  const int64_t credits_before = credits_.available();
  const int64_t held = hold.amount;
  EndHold(it->first, hold, HoldState::kCommitted);  // the draws stay taken: they become usage, or are given back below
  outcome.applied = true;
  outcome.state = HoldState::kCommitted;
  std::vector<Draw> kept = hold.draws;
  if (actual <= held) {
    auto [from_allowance, from_grants] = GiveBack(kept, held - actual);
    outcome.released = from_allowance + from_grants;
  }
  const int64_t bucket = BucketKey(feature);
  AddUsage(bucket, std::min(actual, held), GrantPart(kept));
  outcome.consumed = std::min(actual, held);
  if (actual > held) {
    // The extra is drawn like a consume; under `reject` what fits is drawn
    // and the rest reported.
    DrawPlan extra = Check(feature, actual - held);
    Take(extra.draws);
    int64_t drawn = 0;
    for (const Draw& draw : extra.draws) drawn += draw.amount;
    AddUsage(bucket, drawn, extra.from_grants);
    outcome.consumed += drawn;
    outcome.shortfall = extra.shortfall;
    kept.insert(kept.end(), extra.draws.begin(), extra.draws.end());
  }
  hold.draws.clear();
  Remember(bucket, kept);
  FireThresholds(feature, credits_before, &outcome.events);
  return outcome;
}

CommitOutcome FeatureAccount::Cancel(std::string_view id) {
  CommitOutcome outcome;
  auto it = holds_.find(id);
  if (it == holds_.end()) return outcome;
  outcome.state = it->second.state;
  if (it->second.state != HoldState::kHeld) return outcome;
  outcome.released = it->second.amount;
  EndHold(it->first, it->second, HoldState::kCancelled);
  outcome.applied = true;
  outcome.state = HoldState::kCancelled;
  return outcome;
}

std::optional<int64_t> FeatureAccount::HeldAmountOf(std::string_view id) const {
  auto it = holds_.find(id);
  if (it == holds_.end() || it->second.state != HoldState::kHeld) return std::nullopt;
  return it->second.amount;
}

std::optional<int64_t> FeatureAccount::NextDeadline() const {
  std::optional<int64_t> next = credits_.NextExpiry();
  if (!hold_expiry_.empty() && (!next || hold_expiry_.begin()->first < *next)) next = hold_expiry_.begin()->first;
  return next;
}

std::vector<FeatureAccount::HoldInfo> FeatureAccount::LiveHolds() const {
  std::vector<HoldInfo> out;
  for (const auto& [id, hold] : holds_) {
    if (hold.state == HoldState::kHeld) out.push_back({id, hold.amount, hold.expires_ms});
  }
  return out;
}

namespace {

void PutDraws(std::string& out, const std::vector<Draw>& draws) {
  quota_codec::PutI64(out, static_cast<int64_t>(draws.size()));
  for (const Draw& draw : draws) {
    quota_codec::PutStr(out, draw.grant);
    quota_codec::PutI64(out, draw.amount);
  }
}
std::vector<Draw> GetDraws(quota_codec::Reader& r) {
  std::vector<Draw> draws(r.Count());
  for (Draw& draw : draws) {
    draw.grant = r.Str();
    draw.amount = r.I64();
  }
  return draws;
}

}  // namespace

void FeatureAccount::EncodeTo(std::string& out) const {
  namespace qc = quota_codec;
  qc::PutI64(out, window_.start_ms);
  qc::PutI64(out, window_.end_ms);
  out.push_back(started_ ? 1 : 0);
  qc::PutI64(out, now_ms_);
  qc::PutI64(out, static_cast<int64_t>(buckets_.size()));
  for (const auto& [start, bucket] : buckets_) {
    qc::PutI64(out, start);
    qc::PutI64(out, bucket.used);
    qc::PutI64(out, bucket.from_grants);
  }
  qc::PutI64(out, static_cast<int64_t>(fired_.size()));
  for (int threshold : fired_) qc::PutI64(out, threshold);
  qc::PutI64(out, static_cast<int64_t>(consumes_.size()));
  for (const ConsumeRecord& record : consumes_) {
    qc::PutI64(out, record.bucket);
    PutDraws(out, record.draws);
  }
  qc::PutI64(out, static_cast<int64_t>(holds_.size()));
  for (const auto& [id, hold] : holds_) {
    qc::PutStr(out, id);
    qc::PutI64(out, hold.amount);
    qc::PutI64(out, hold.expires_ms);
    out.push_back(static_cast<char>(hold.state));
    qc::PutI64(out, hold.ended_ms);
    PutDraws(out, hold.draws);
  }
  credits_.EncodeTo(out);
}

bool FeatureAccount::DecodeFrom(std::string_view& in, int version) {
  quota_codec::Reader r(in);
  window_.start_ms = r.I64();
  window_.end_ms = r.I64();
  started_ = r.Byte() != 0;
  now_ms_ = r.I64();
  for (size_t i = 0, n = r.Count(); i < n && r.ok(); ++i) {
    const int64_t start = r.I64();
    const int64_t used = r.I64();
    AddUsage(start, used, r.I64());
  }
  for (size_t i = 0, n = r.Count(); i < n && r.ok(); ++i) fired_.push_back(static_cast<int>(r.I64()));
  for (size_t i = 0, n = r.Count(); i < n && r.ok(); ++i) {
    const int64_t bucket = r.I64();
    consumes_.push_back({bucket, GetDraws(r)});
  }
  for (size_t i = 0, n = r.Count(); i < n && r.ok(); ++i) {
    std::string id(r.Str());
    Hold hold;
    hold.amount = r.I64();
    hold.expires_ms = r.I64();
    const uint8_t state = r.Byte();
    // Version 1 rows lack the end time: an ended hold counts as ended at its
    // expiry, at most the longest TTL after it began.
    hold.ended_ms = version >= 2 ? r.I64() : hold.expires_ms;
    hold.draws = GetDraws(r);
    if (!r.ok() || state > static_cast<uint8_t>(HoldState::kExpired)) return false;
    hold.state = static_cast<HoldState>(state);
    if (hold.state == HoldState::kHeld) {
      held_ += hold.amount;
      held_allowance_ += AllowancePart(hold.draws);
      hold_expiry_.emplace(hold.expires_ms, id);
    } else {
      ended_holds_.emplace(hold.ended_ms, id);
    }
    holds_.emplace(std::move(id), std::move(hold));
  }
  if (!r.ok()) return false;
  std::string_view rest = r.rest();
  if (!credits_.DecodeFrom(rest)) return false;
  in = rest;
  return true;
}

std::optional<HoldState> FeatureAccount::HoldStateOf(std::string_view id) const {
  auto it = holds_.find(id);
  if (it == holds_.end()) return std::nullopt;
  return it->second.state;
}

}  // namespace tally::core
