#include "core/quota_log.h"

#include "core/quota_codec.h"
#include "storage/log_format.h"

namespace tally::core {

namespace qc = quota_codec;

namespace {

void PutFeature(std::string& out, const PlanFeature& feature) {
  qc::PutStr(out, feature.name);
  qc::PutOptI64(out, feature.limit);
  out.push_back(static_cast<char>(feature.period.kind));
  out.push_back(static_cast<char>(feature.period.interval));
  qc::PutI64(out, feature.period.rolling_hours);
  out.push_back(static_cast<char>(feature.overage));
  qc::PutI64(out, static_cast<int64_t>(feature.alert_thresholds.size()));
  for (int threshold : feature.alert_thresholds) qc::PutI64(out, threshold);
}

bool GetFeature(qc::Reader& r, PlanFeature* out) {
  out->name = r.Str();
  out->limit = r.OptI64();
  const uint8_t kind = r.Byte();
  const uint8_t interval = r.Byte();
  out->period.rolling_hours = r.I64();
  const uint8_t overage = r.Byte();
  out->alert_thresholds.assign(r.Count(), 0);
  for (int& threshold : out->alert_thresholds) threshold = static_cast<int>(r.I64());
  if (!r.ok() || kind > static_cast<uint8_t>(QuotaPeriod::Kind::kRolling) || interval >= kIntervalCount ||
      overage > static_cast<uint8_t>(Overage::kAllow)) {
    return false;
  }
  out->period.kind = static_cast<QuotaPeriod::Kind>(kind);
  out->period.interval = static_cast<Interval>(interval);
  out->overage = static_cast<Overage>(overage);
  return true;
}

}  // namespace

void AppendQuotaEntry(std::string& blob, const QuotaEntry& e) {
  thread_local std::string payload;
  payload.clear();
  payload.push_back(static_cast<char>(e.change));
  qc::PutStr(payload, e.owner);
  qc::PutStr(payload, e.feature);
  qc::PutStr(payload, e.feature_bytes);
  qc::PutI64(payload, e.window_start_ms);
  qc::PutI64(payload, e.window_end_ms);
  qc::PutI64(payload, e.now_ms);
  qc::PutI64(payload, e.amount);
  qc::PutStr(payload, e.ref);
  qc::PutOptI64(payload, e.expires_ms);
  qc::PutI64(payload, e.priority);
  qc::PutStr(payload, e.reason);
  qc::PutStr(payload, e.actor);
  qc::PutOptI64(payload, e.anchor_days);
  qc::PutStr(payload, e.plan_bytes);
  qc::PutStr(payload, e.nested);
  storage::log_format::AppendEntry(blob, storage::log_format::Op::kQuota, payload);
}

bool DecodeQuotaEntry(std::string_view payload, QuotaEntry* e) {
  qc::Reader r(payload);
  const uint8_t change = r.Byte();
  e->owner = r.Str();
  e->feature = r.Str();
  e->feature_bytes = r.Str();
  e->window_start_ms = r.I64();
  e->window_end_ms = r.I64();
  e->now_ms = r.I64();
  e->amount = r.I64();
  e->ref = r.Str();
  e->expires_ms = r.OptI64();
  e->priority = r.I64();
  e->reason = r.Str();
  e->actor = r.Str();
  e->anchor_days = r.OptI64();
  e->plan_bytes = r.Str();
  e->nested = r.Str();
  if (!r.done() || change < static_cast<uint8_t>(QuotaChange::kPlanSet) ||
      change > static_cast<uint8_t>(QuotaChange::kCancel)) {
    return false;
  }
  e->change = static_cast<QuotaChange>(change);
  return true;
}

bool DecodeNestedEntry(std::string_view bytes, storage::log_format::Entry* out) {
  if (bytes.empty()) return false;
  out->op = static_cast<storage::log_format::Op>(static_cast<uint8_t>(bytes.front()));
  bytes.remove_prefix(1);
  return storage::codec::GetLengthPrefixed(bytes, &out->payload) && bytes.empty() &&
         out->op == storage::log_format::Op::kCounterIncr;
}

std::string EncodeFeature(const PlanFeature& feature) {
  std::string out;
  PutFeature(out, feature);
  return out;
}

bool DecodeFeature(std::string_view bytes, PlanFeature* out) {
  qc::Reader r(bytes);
  return GetFeature(r, out) && r.done();
}

std::string EncodePlan(const Plan& plan) {
  std::string out;
  qc::PutStr(out, plan.name);
  qc::PutI64(out, static_cast<int64_t>(plan.features.size()));
  for (const PlanFeature& feature : plan.features) PutFeature(out, feature);
  return out;
}

bool DecodePlan(std::string_view bytes, Plan* out) {
  qc::Reader r(bytes);
  out->name = r.Str();
  out->features.resize(r.Count());
  for (PlanFeature& feature : out->features) {
    if (!GetFeature(r, &feature)) return false;
  }
  return r.done();
}

}  // namespace tally::core
