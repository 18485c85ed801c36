#pragma once
// Metering with cost (METER.RECORD, PRICE.*; docs/metering.md).
//
// An event of an owner has a type and measures ("chat": tokens 1500,
// messages 1). Recording it adds each measure to the owner's counter
// `<type>.<measure>`, and its cost, the sum of value x price of each priced
// measure, to the counters `cost` and `cost.<type>` (micro-units of the
// configured currency: core/money.h). The counters are the counters module's
// own, so every counter read (CTR.ALL user:42 month) shows them.
//
// An event is all or nothing: every counter change is checked before any is
// made, and the changes ride in ONE log entry (kMeterEvent, the counters'
// and quotas' own entries nested: core/metering_log.h), so a crash keeps all
// of them or none. With CONSUME the event also consumes, in the same step,
// the quota of every measure whose feature (the measure's counter name) the
// owner's plan limits; one that does not fit refuses the whole event.
// An ID makes a retry apply once: it is kept in the counters' dedupe window
// under the scope "#meter" and guards the whole event (type, measures, AT,
// CONSUME), so reusing it for another event is an id conflict.
//
// Prices: an engine-wide map (few, read by every event) under prices_mu_,
// changed on the shard of the empty name (as plans are), audited, and
// compacted into the meta family as "price/<name>".
//
// Thread-safety: Record takes the owner's shard lock, then prices_mu_ (the
// same order as everywhere: a shard's mutex, then a module's own mutex).

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/counters.h"
#include "core/engine_module.h"
#include "core/feeds.h"
#include "core/meter_names.h"
#include "core/op_result.h"
#include "core/quotas.h"
#include "core/shard_set.h"
#include "storage/store.h"

namespace tally::core {

struct MeteringOptions {
  std::string currency = "USD";      // the unit prices and costs are in (a label: no conversion)
  int64_t max_batch_events = 10000;  // the most events one POST /v1/events carries
};

struct Measure {
  std::string_view name;
  int64_t value = 0;  // 0 .. the quota module's max_amount
};

struct MeterEvent {
  std::string_view owner;
  std::string_view type;
  std::vector<Measure> measures;  // 1 .. kMaxMeasures, distinct names
  std::string_view id;            // empty: none
  std::optional<int64_t> at_ms;   // the event time (the caller checked its bounds); nullopt: now
  bool consume = false;
};

struct MeterResult {
  bool allowed = true;     // false: refused by a quota (CONSUME), nothing applied
  bool duplicate = false;  // the ID was already applied with the same event: nothing applied
  int64_t cost = 0;        // micro-units: what the event cost (or would have; 0 for a duplicate)
  // Refused: the measure that did not fit, its amount, its feature's figures
  // and what it lacked.
  std::string refused_measure;
  int64_t refused_amount = 0;
  FeatureUsage usage;
  int64_t shortfall = 0;
};

class MeteringModule final : public EngineModule {
 public:
  MeteringModule(ShardSet& shards, storage::Store& store, const Clock& clock, CountersModule& counters,
                 QuotasModule& quotas, FeedsModule& feeds, MeteringOptions options);

  // kIdConflict (ID used by another event), kOverflow (the cost, or a
  // counter), kReadFailed; kNoPlan/kUnknownFeature never (an unlimited measure
  // is just counted).
  OpResult<MeterResult> Record(const MeterEvent& event);

  // Prices in micro-units per unit of the measure (> 0). Set: true if it
  // replaced one. Delete: false if there was none. Both audited.
  OpResult<bool> SetPrice(std::string_view name, int64_t price, const AuditInfo& audit);
  OpResult<bool> DeletePrice(std::string_view name, const AuditInfo& audit);
  std::optional<int64_t> GetPrice(std::string_view name) const;
  std::vector<std::pair<std::string, int64_t>> ListPrices() const;  // by name
  const std::string& currency() const { return options_.currency; }
  int64_t max_batch_events() const { return options_.max_batch_events; }

  // EngineModule
  std::string_view name() const override { return "metering"; }
  std::vector<storage::log_format::Op> log_ops() const override;
  storage::Status LoadCompacted() override;
  storage::Status Replay(const storage::log_format::Entry& entry, const ReplayContext& context) override;
  void Snapshot(const ShardRef& shard) override;
  storage::Status WriteSnapshot(CompactionBatch& batch) override;
  void FinishSnapshot(const ShardRef& shard, bool ok) override;
  ModuleStats Stats() override;

 private:
  void ApplyPrice(const ShardRef& shard, std::string_view name, std::optional<int64_t> price);
  OpResult<bool> ChangePrice(std::string_view name, std::optional<int64_t> price, const AuditInfo& audit);

  ShardSet& shard_set_;
  storage::Store& store_;
  const Clock& clock_;
  CountersModule& counters_;
  QuotasModule& quotas_;
  FeedsModule& feeds_;
  const MeteringOptions options_;

  mutable std::mutex prices_mu_;
  std::map<std::string, int64_t, std::less<>> prices_;  // protected by prices_mu_
  // Prices changed since the last snapshot, and those a compaction is
  // writing (name -> price, nullopt: removed). Protected by the prices'
  // shard lock (the shard of the empty name).
  std::map<std::string, std::optional<int64_t>> changed_;
  std::map<std::string, std::optional<int64_t>> snapshot_;
};

}  // namespace tally::core
