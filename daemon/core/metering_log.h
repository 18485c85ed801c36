#pragma once
// The metering module's log entries (storage/FORMAT.md, "metering"):
//
//   kMeterEvent  one METER.RECORD event: the owner, the event type, its ID
//                (with the id's expiry and fingerprint, for the dedupe
//                window) and the entries it applied, nested whole: a
//                CounterIncr per measure and cost counter, and a kQuota
//                consume (its usage CounterIncr inside) per measure its plan
//                limits. Replay dispatches them in order, so the event is
//                applied whole or, if its entry is lost, not at all.
//   kPrice       a price set (micro-units) or removed.
//
// Integers as zigzag varints and strings length-prefixed (core/quota_codec.h).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tally::core {

struct MeterEventEntry {
  std::string_view owner;
  std::string_view event_type;
  std::string_view id;  // empty: none
  int64_t id_expiry_ms = 0;
  uint64_t fingerprint = 0;
  int64_t cost = 0;          // micro-units (what the reply said; replay does not need it)
  std::string_view entries;  // the nested entries, framed (storage/log_format.h TakeEntry)
};
void AppendMeterEvent(std::string& blob, const MeterEventEntry& entry);
bool DecodeMeterEvent(std::string_view payload, MeterEventEntry* out);

struct PriceEntry {
  std::string_view name;
  std::optional<int64_t> price;  // micro-units per unit; nullopt: removed
};
// The complete framed entry (for an Audited entry's inner change).
std::string EncodePriceEntry(const PriceEntry& entry);
bool DecodePriceEntry(std::string_view payload, PriceEntry* out);

}  // namespace tally::core
