#include "core/metering.h"

#include <algorithm>

#include "core/hash.h"
#include "core/metering_log.h"
#include "core/money.h"
#include "storage/log_format.h"

namespace tally::core {

namespace lf = storage::log_format;
using storage::Family;
using storage::Status;

namespace {

// The dedupe scope of METER.RECORD's IDs: '#' is in no counter key, so an
// event's ID never meets a counter's.
constexpr std::string_view kIdScope = "#meter";
// Prices are changed on the shard of this name, as plans are.
constexpr std::string_view kPricesRoute = "";
constexpr std::string_view kPricePrefix = "price/";
constexpr std::string_view kPricePrefixEnd = "price0";  // '/' + 1

bool ValidWord(std::string_view word, bool dots) {
  if (word.empty() || word.size() > 64) return false;
  return std::all_of(word.begin(), word.end(), [dots](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == ':' || (dots && c == '.');
  });
}

// What an ID guards: the type, the measures (in any order), AT and CONSUME.
uint64_t EventFingerprint(const MeterEvent& event) {
  std::vector<std::pair<std::string_view, int64_t>> measures;
  for (const Measure& m : event.measures) measures.emplace_back(m.name, m.value);
  std::sort(measures.begin(), measures.end());
  std::string text(event.type);
  for (const auto& [name, value] : measures) {
    text.push_back('\0');
    text.append(name);
    text.push_back('=');
    text.append(std::to_string(value));
  }
  text.push_back('\0');
  text.append(event.at_ms ? "at=" + std::to_string(*event.at_ms) : std::string("now"));
  text.append(event.consume ? "\0consume" : "\0count", event.consume ? 8 : 6);
  const uint64_t hash = StableHash(text);
  return hash == 0 ? 1 : hash;  // 0 means "arguments unknown"
}

std::string PriceJson(std::optional<int64_t> price) {
  return price ? "\"" + FormatDecimal(*price, kMoneyScale) + "\"" : "null";
}

}  // namespace

bool ValidEventType(std::string_view type) { return ValidWord(type, true) && type != "cost"; }
bool ValidMeasure(std::string_view measure) { return ValidWord(measure, false); }
bool ValidPriceName(std::string_view name) {
  const size_t dot = name.rfind('.');
  return dot != std::string_view::npos && ValidEventType(name.substr(0, dot)) && ValidMeasure(name.substr(dot + 1));
}

MeteringModule::MeteringModule(ShardSet& shards, storage::Store& store, const Clock& clock, CountersModule& counters,
                               QuotasModule& quotas, FeedsModule& feeds, MeteringOptions options)
    : shard_set_(shards),
      store_(store),
      clock_(clock),
      counters_(counters),
      quotas_(quotas),
      feeds_(feeds),
      options_(std::move(options)) {}

std::vector<lf::Op> MeteringModule::log_ops() const { return {lf::Op::kMeterEvent, lf::Op::kPrice}; }

// ---------------------------------------------------------------------------
// Events

OpResult<MeterResult> MeteringModule::Record(const MeterEvent& event) {
  return shard_set_.Write(event.owner, [&](const ShardRef& ref) -> OpResult<MeterResult> {
    const int64_t now = clock_.NowMs();
    const int64_t event_ms = event.at_ms.value_or(now);
    MeterResult result;
    uint64_t fingerprint = 0;
    if (!event.id.empty()) {
      fingerprint = EventFingerprint(event);
      auto seen = counters_.SeenRequestIdLocked(ref, event.owner, kIdScope, event.id, now);
      if (!seen.ok()) return {seen.status, {}, seen.failed_family};
      if (seen.value) {
        if (*seen.value != 0 && *seen.value != fingerprint) return OpResult<MeterResult>::Error(OpStatus::kIdConflict);
        result.duplicate = true;
        return OpResult<MeterResult>::Ok(std::move(result));
      }
    }

    // The counters it adds to: one per measure (a measure of 0 changes
    // nothing), then the cost's two. `keys` never reallocates (reserved), so
    // the increments may view its strings.
    std::vector<std::string> keys;
    keys.reserve(event.measures.size() + 2);
    std::vector<CounterIncrement> increments;
    std::vector<std::string_view> measure_of;  // per measure's increment
    int64_t cost = 0;
    {
      std::lock_guard<std::mutex> lock(prices_mu_);
      for (const Measure& m : event.measures) {
        if (m.value == 0) continue;
        keys.push_back(std::string(event.type) + "." + std::string(m.name));
        increments.push_back(CounterIncrement{event.owner, keys.back(), m.value, event_ms});
        measure_of.push_back(m.name);
        auto price = prices_.find(keys.back());
        if (price == prices_.end()) continue;
        std::optional<int64_t> line = CheckedMultiply(m.value, price->second);
        std::optional<int64_t> sum = line ? CheckedAdd(cost, *line) : std::nullopt;
        if (!sum) return OpResult<MeterResult>::Error(OpStatus::kOverflow);
        cost = *sum;
      }
    }
    result.cost = cost;
    const size_t measured = increments.size();
    if (cost != 0) {
      for (std::string key : {std::string("cost"), "cost." + std::string(event.type)}) {
        keys.push_back(std::move(key));
        increments.push_back(CounterIncrement{event.owner, keys.back(), cost, event_ms});
      }
    }

    // CONSUME: every limited measure must fit, or nothing happens.
    std::vector<MeteredAmount> amounts;
    Admission admission;
    if (event.consume) {
      for (size_t i = 0; i < measured; ++i) amounts.push_back({increments[i].key, increments[i].delta});
      auto admitted = quotas_.AdmitLocked(ref, event.owner, amounts, now);
      if (!admitted.ok()) return {admitted.status, {}, admitted.failed_family};
      admission = std::move(admitted.value);
      if (!admission.allowed) {
        result.allowed = false;
        result.refused_measure = std::string(measure_of[admission.refused]);
        result.refused_amount = amounts[admission.refused].amount;
        result.usage = std::move(admission.usage);
        result.shortfall = admission.shortfall;
        return OpResult<MeterResult>::Ok(std::move(result));
      }
    }
    // Every counter change is checked before any is made: under this one
    // lock, changes of distinct counters that each pass apply together. A
    // measure the plan limits is counted by the quota's consume (its usage
    // increment is that counter's), so only its check happens here.
    std::vector<CounterIncrement> counted;
    counted.reserve(increments.size());
    for (size_t i = 0; i < increments.size(); ++i) {
      if (event.consume && i < measured && admission.limited[i]) {
        auto fits = counters_.CheckIncrementLocked(ref, increments[i]);
        if (!fits.ok()) return {fits.status, {}, fits.failed_family};
      } else {
        counted.push_back(increments[i]);
      }
    }
    std::string entries;
    auto applied = counters_.IncrementAllLocked(ref, counted, &entries);
    if (!applied.ok()) return {applied.status, {}, applied.failed_family};
    if (event.consume) {
      auto consumed = quotas_.ConsumeAdmittedLocked(ref, event.owner, amounts, admission, now, event_ms, &entries);
      if (!consumed.ok()) return {consumed.status, {}, consumed.failed_family};
    }
    MeterEventEntry entry;
    entry.owner = event.owner;
    entry.event_type = event.type;
    entry.cost = cost;
    entry.entries = entries;
    if (!event.id.empty()) {
      entry.id = event.id;
      entry.fingerprint = fingerprint;
      entry.id_expiry_ms = counters_.NoteRequestIdLocked(ref, event.owner, kIdScope, event.id, fingerprint, now);
    }
    ref.Append([&](std::string& blob) { AppendMeterEvent(blob, entry); });
    return OpResult<MeterResult>::Ok(std::move(result));
  });
}

// ---------------------------------------------------------------------------
// Prices

void MeteringModule::ApplyPrice(const ShardRef&, std::string_view name, std::optional<int64_t> price) {
  {
    std::lock_guard<std::mutex> lock(prices_mu_);
    if (price) {
      prices_[std::string(name)] = *price;
    } else if (auto it = prices_.find(name); it != prices_.end()) {
      prices_.erase(it);
    }
  }
  changed_[std::string(name)] = price;
}

OpResult<bool> MeteringModule::ChangePrice(std::string_view name, std::optional<int64_t> price,
                                           const AuditInfo& audit) {
  return shard_set_.Write(kPricesRoute, [&](const ShardRef& ref) {
    const std::optional<int64_t> before = GetPrice(name);
    if (!price && !before) return OpResult<bool>::Ok(false);
    ApplyPrice(ref, name, price);
    const std::string inner = EncodePriceEntry({name, price});
    feeds_.LogAudited(ref, audit, "", name, "{\"before\":" + PriceJson(before) + ",\"after\":" + PriceJson(price) + "}",
                      inner);
    return OpResult<bool>::Ok(before.has_value());
  });
}

OpResult<bool> MeteringModule::SetPrice(std::string_view name, int64_t price, const AuditInfo& audit) {
  return ChangePrice(name, price, audit);
}

OpResult<bool> MeteringModule::DeletePrice(std::string_view name, const AuditInfo& audit) {
  return ChangePrice(name, std::nullopt, audit);
}

std::optional<int64_t> MeteringModule::GetPrice(std::string_view name) const {
  std::lock_guard<std::mutex> lock(prices_mu_);
  auto it = prices_.find(name);
  if (it == prices_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<std::string, int64_t>> MeteringModule::ListPrices() const {
  std::lock_guard<std::mutex> lock(prices_mu_);
  return {prices_.begin(), prices_.end()};
}

// ---------------------------------------------------------------------------
// Recovery

Status MeteringModule::LoadCompacted() {
  std::string bad_key;
  Status s =
      store_.Scan(Family::kMeta, kPricePrefix, kPricePrefixEnd, [&](std::string_view key, std::string_view value) {
        int64_t price = 0;
        if (!lf::DecodeInt64(value, &price)) {
          bad_key = key;
          return false;
        }
        prices_[std::string(key.substr(kPricePrefix.size()))] = price;
        return true;
      });
  if (!s.ok()) return s;
  if (!bad_key.empty()) return Status::Corruption("undecodable price '" + bad_key + "'");
  return Status::Ok();
}

Status MeteringModule::Replay(const lf::Entry& entry, const ReplayContext& context) {
  if (entry.op == lf::Op::kPrice) {
    PriceEntry price;
    if (!DecodePriceEntry(entry.payload, &price)) return Status::Corruption("malformed price entry");
    ApplyPrice(context.shard, price.name, price.price);
    return Status::Ok();
  }
  MeterEventEntry event;
  if (!DecodeMeterEvent(entry.payload, &event)) return Status::Corruption("malformed meter event");
  if (!event.id.empty()) {
    const ShardRef ref = shard_set_.Exclusive(ShardSet::ShardOf(event.owner));
    counters_.RestoreRequestIdLocked(ref, event.owner, kIdScope, event.id, event.id_expiry_ms, event.fingerprint);
  }
  std::string_view rest = event.entries;
  lf::Entry nested;
  while (lf::TakeEntry(&rest, &nested)) {
    if (nested.op != lf::Op::kCounterIncr && nested.op != lf::Op::kQuota) {
      return Status::Corruption("meter event holds an entry of type " + std::to_string(static_cast<int>(nested.op)));
    }
    Status s = context.Dispatch(nested);
    if (!s.ok()) return s;
  }
  if (!rest.empty()) return Status::Corruption("truncated entry in a meter event");
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Compaction: changed prices into the meta family (the prices' shard only)

void MeteringModule::Snapshot(const ShardRef& shard) {
  if (shard.index() != ShardSet::ShardOf(kPricesRoute)) return;
  snapshot_.swap(changed_);
}

Status MeteringModule::WriteSnapshot(CompactionBatch& batch) {
  if (batch.shard != ShardSet::ShardOf(kPricesRoute)) return Status::Ok();
  for (const auto& [name, price] : snapshot_) {
    const std::string key = std::string(kPricePrefix) + name;
    if (price) {
      batch.batch.Put(Family::kMeta, key, lf::EncodeInt64(*price));
    } else {
      batch.batch.Delete(Family::kMeta, key);
    }
  }
  batch.written += snapshot_.size();
  return Status::Ok();
}

void MeteringModule::FinishSnapshot(const ShardRef& shard, bool ok) {
  if (shard.index() != ShardSet::ShardOf(kPricesRoute)) return;
  if (!ok) {
    // Changes made since the snapshot are newer: they win.
    for (auto& [name, price] : snapshot_) changed_.try_emplace(name, price);
  }
  snapshot_.clear();
}

ModuleStats MeteringModule::Stats() {
  ModuleStats stats{name()};
  stats.items = ListPrices().size();
  shard_set_.Locked(ShardSet::ShardOf(kPricesRoute), [&](const ShardRef&) { stats.pending = changed_.size(); });
  return stats;
}

}  // namespace tally::core
