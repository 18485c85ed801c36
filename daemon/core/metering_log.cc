#include "core/metering_log.h"

#include "core/quota_codec.h"
#include "storage/log_format.h"

namespace tally::core {

namespace qc = quota_codec;
namespace lf = storage::log_format;

void AppendMeterEvent(std::string& blob, const MeterEventEntry& entry) {
  std::string payload;
  qc::PutStr(payload, entry.owner);
  qc::PutStr(payload, entry.event_type);
  qc::PutStr(payload, entry.id);
  qc::PutI64(payload, entry.id_expiry_ms);
  qc::PutI64(payload, static_cast<int64_t>(entry.fingerprint));
  qc::PutI64(payload, entry.cost);
  qc::PutStr(payload, entry.entries);
  lf::AppendEntry(blob, lf::Op::kMeterEvent, payload);
}

bool DecodeMeterEvent(std::string_view payload, MeterEventEntry* out) {
  qc::Reader r(payload);
  out->owner = r.Str();
  out->event_type = r.Str();
  out->id = r.Str();
  out->id_expiry_ms = r.I64();
  out->fingerprint = static_cast<uint64_t>(r.I64());
  out->cost = r.I64();
  out->entries = r.Str();
  return r.done() && !out->owner.empty() && !out->event_type.empty();
}

std::string EncodePriceEntry(const PriceEntry& entry) {
  std::string payload;
  qc::PutStr(payload, entry.name);
  qc::PutOptI64(payload, entry.price);
  std::string framed;
  lf::AppendEntry(framed, lf::Op::kPrice, payload);
  return framed;
}

bool DecodePriceEntry(std::string_view payload, PriceEntry* out) {
  qc::Reader r(payload);
  out->name = r.Str();
  out->price = r.OptI64();
  return r.done() && !out->name.empty();
}

}  // namespace tally::core
