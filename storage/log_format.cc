#include "storage/log_format.h"

#include "storage/codec.h"

namespace tally::storage::log_format {

std::string LogKey(uint16_t shard, uint64_t first_seq) {
  std::string key;
  key.reserve(10);
  codec::PutBigEndian16(key, shard);
  codec::PutBigEndian64(key, first_seq);
  return key;
}

bool ParseLogKey(std::string_view key, uint16_t* shard, uint64_t* first_seq) {
  if (key.size() != 10) return false;
  *shard = codec::GetBigEndian16(key.data());
  *first_seq = codec::GetBigEndian64(key.data() + 2);
  return true;
}

namespace {
// Entry framing: op byte, payload length (varint), payload.
void AppendHeader(std::string& blob, Op op, size_t payload_size) {
  blob.push_back(static_cast<char>(op));
  codec::PutVarint(blob, payload_size);
}
size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
}  // namespace

void AppendEntry(std::string& blob, Op op, std::string_view payload) {
  AppendHeader(blob, op, payload.size());
  blob.append(payload);
}

void AppendPlainPut(std::string& blob, std::string_view key, int64_t expire_at_ms, std::string_view value) {
  AppendHeader(blob, Op::kPlainPut, VarintSize(key.size()) + key.size() + 8 + value.size());
  codec::PutLengthPrefixed(blob, key);
  codec::PutFixed64(blob, static_cast<uint64_t>(expire_at_ms));
  blob.append(value);
}

void AppendPlainDel(std::string& blob, std::string_view key) {
  AppendHeader(blob, Op::kPlainDel, key.size());
  blob.append(key);
}

void AppendPlainSketchAdd(std::string& blob, std::string_view key, int64_t expire_at_ms,
                          const std::vector<uint64_t>& hashes) {
  AppendHeader(blob, Op::kPlainSketchAdd, VarintSize(key.size()) + key.size() + 8 + 8 * hashes.size());
  codec::PutLengthPrefixed(blob, key);
  codec::PutFixed64(blob, static_cast<uint64_t>(expire_at_ms));
  for (uint64_t hash : hashes) codec::PutFixed64(blob, hash);
}

bool TakeEntry(std::string_view* entries, Entry* out) {
  std::string_view rest = *entries;
  if (rest.empty()) return false;
  const uint8_t op = static_cast<uint8_t>(rest[0]);
  rest.remove_prefix(1);
  std::string_view payload;
  if (!codec::GetLengthPrefixed(rest, &payload)) return false;
  out->op = static_cast<Op>(op);
  out->payload = payload;
  *entries = rest;
  return true;
}

BlobReader::BlobReader(std::string_view blob) : rest_(blob) {
  if (rest_.empty() || static_cast<uint8_t>(rest_[0]) != kBlobVersion) {
    status_ = Status::Corruption("log blob has unknown version");
    rest_ = {};
    return;
  }
  rest_.remove_prefix(1);
}

bool BlobReader::Next(Entry* entry) {
  if (rest_.empty()) return false;
  uint8_t op = static_cast<uint8_t>(rest_[0]);
  rest_.remove_prefix(1);
  std::string_view payload;
  if (!codec::GetLengthPrefixed(rest_, &payload)) {
    status_ = Status::Corruption("truncated log entry");
    rest_ = {};
    return false;
  }
  entry->op = static_cast<Op>(op);
  entry->payload = payload;
  return true;
}

bool DecodePlainPut(std::string_view payload, PlainPut* out) {
  uint64_t expire = 0;
  if (!codec::GetLengthPrefixed(payload, &out->key) || !codec::GetFixed64(payload, &expire)) return false;
  out->expire_at_ms = static_cast<int64_t>(expire);
  out->value = payload;
  return true;
}

bool DecodePlainSketchAdd(std::string_view payload, PlainSketchAdd* out) {
  uint64_t expire = 0;
  if (!codec::GetLengthPrefixed(payload, &out->key) || !codec::GetFixed64(payload, &expire)) return false;
  if (payload.size() % 8 != 0) return false;
  out->expire_at_ms = static_cast<int64_t>(expire);
  out->hashes.clear();
  while (!payload.empty()) {
    uint64_t hash = 0;
    codec::GetFixed64(payload, &hash);
    out->hashes.push_back(hash);
  }
  return true;
}

std::string EncodeKvValue(int64_t expire_at_ms, std::string_view value) {
  std::string out;
  out.reserve(8 + value.size());
  codec::PutFixed64(out, static_cast<uint64_t>(expire_at_ms));
  out.append(value);
  return out;
}

bool DecodeKvValue(std::string_view encoded, int64_t* expire_at_ms, std::string_view* value) {
  uint64_t expire = 0;
  if (!codec::GetFixed64(encoded, &expire)) return false;
  *expire_at_ms = static_cast<int64_t>(expire);
  *value = encoded;
  return true;
}

namespace {
uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }
bool GetZigZag(std::string_view& in, int64_t* v) {
  uint64_t raw = 0;
  if (!codec::GetVarint(in, &raw)) return false;
  *v = UnZigZag(raw);
  return true;
}
// Entries are framed by their payload length; payloads are built in a scratch
// buffer first only when their size is not known up front.
void AppendFramed(std::string& blob, Op op, const std::string& payload) { AppendEntry(blob, op, payload); }
thread_local std::string payload_scratch;
void PutPeriodBigEndian(std::string& out, int64_t period) {
  codec::PutBigEndian64(out, static_cast<uint64_t>(period) ^ (uint64_t{1} << 63));
}
}  // namespace

void AppendCounterIncr(std::string& blob, const CounterIncr& incr) {
  std::string& p = payload_scratch;
  p.clear();
  codec::PutLengthPrefixed(p, incr.owner);
  codec::PutLengthPrefixed(p, incr.key);
  codec::PutVarint(p, ZigZag(incr.delta));
  codec::PutVarint(p, ZigZag(incr.event_ms));
  for (int64_t period : incr.periods) codec::PutVarint(p, ZigZag(period));
  codec::PutLengthPrefixed(p, incr.event_id);
  if (!incr.event_id.empty()) {
    codec::PutVarint(p, ZigZag(incr.event_id_expiry_ms));
    if (incr.event_fingerprint != 0) codec::PutFixed64(p, incr.event_fingerprint);
  }
  AppendFramed(blob, Op::kCounterIncr, p);
}

bool DecodeCounterIncr(std::string_view payload, CounterIncr* out) {
  if (!codec::GetLengthPrefixed(payload, &out->owner) || !codec::GetLengthPrefixed(payload, &out->key) ||
      !GetZigZag(payload, &out->delta) || !GetZigZag(payload, &out->event_ms)) {
    return false;
  }
  for (int64_t& period : out->periods) {
    if (!GetZigZag(payload, &period)) return false;
  }
  if (!codec::GetLengthPrefixed(payload, &out->event_id)) return false;
  out->event_id_expiry_ms = 0;
  out->event_fingerprint = 0;
  if (out->event_id.empty()) return true;
  if (!GetZigZag(payload, &out->event_id_expiry_ms)) return false;
  // Entries written before fingerprints end here.
  if (payload.empty()) return true;
  return codec::GetFixed64(payload, &out->event_fingerprint);
}

void AppendUniqAdd(std::string& blob, const UniqAdd& add) {
  std::string& p = payload_scratch;
  p.clear();
  codec::PutLengthPrefixed(p, add.owner);
  codec::PutLengthPrefixed(p, add.key);
  codec::PutVarint(p, ZigZag(add.event_ms));
  for (int64_t period : add.periods) codec::PutVarint(p, ZigZag(period));
  for (uint64_t hash : add.hashes) codec::PutFixed64(p, hash);
  AppendFramed(blob, Op::kUniqAdd, p);
}

bool DecodeUniqAdd(std::string_view payload, UniqAdd* out) {
  if (!codec::GetLengthPrefixed(payload, &out->owner) || !codec::GetLengthPrefixed(payload, &out->key) ||
      !GetZigZag(payload, &out->event_ms)) {
    return false;
  }
  for (int64_t& period : out->periods) {
    if (!GetZigZag(payload, &period)) return false;
  }
  // The rest is the hashes, 8 bytes each; at least one (nothing changed:
  // nothing logged).
  if (payload.empty() || payload.size() % 8 != 0) return false;
  out->hashes.clear();
  out->hashes.reserve(payload.size() / 8);
  while (!payload.empty()) {
    uint64_t hash = 0;
    codec::GetFixed64(payload, &hash);
    out->hashes.push_back(hash);
  }
  return true;
}

void AppendCounterSetCells(std::string& blob, std::string_view owner, std::string_view key, const CellValue* cells,
                           size_t count) {
  std::string& p = payload_scratch;
  p.clear();
  codec::PutLengthPrefixed(p, owner);
  codec::PutLengthPrefixed(p, key);
  codec::PutVarint(p, count);
  for (size_t i = 0; i < count; ++i) {
    p.push_back(static_cast<char>(cells[i].interval));
    codec::PutVarint(p, ZigZag(cells[i].period));
    codec::PutVarint(p, ZigZag(cells[i].value));
  }
  AppendFramed(blob, Op::kCounterSetCells, p);
}

bool DecodeCounterSetCells(std::string_view payload, std::string_view* owner, std::string_view* key,
                           std::string_view* cells, uint64_t* count) {
  if (!codec::GetLengthPrefixed(payload, owner) || !codec::GetLengthPrefixed(payload, key) ||
      !codec::GetVarint(payload, count)) {
    return false;
  }
  *cells = payload;
  return true;
}

bool NextCellValue(std::string_view* cells, CellValue* cell) {
  if (cells->empty()) return false;
  cell->interval = static_cast<uint8_t>((*cells)[0]);
  cells->remove_prefix(1);
  return GetZigZag(*cells, &cell->period) && GetZigZag(*cells, &cell->value);
}

void AppendCounterDelete(std::string& blob, std::string_view owner, std::string_view key, uint8_t interval_mask) {
  std::string& p = payload_scratch;
  p.clear();
  codec::PutLengthPrefixed(p, owner);
  codec::PutLengthPrefixed(p, key);
  p.push_back(static_cast<char>(interval_mask));
  AppendFramed(blob, Op::kCounterDelete, p);
}

bool DecodeCounterDelete(std::string_view payload, std::string_view* owner, std::string_view* key,
                         uint8_t* interval_mask) {
  if (!codec::GetLengthPrefixed(payload, owner) || !codec::GetLengthPrefixed(payload, key) || payload.size() != 1) {
    return false;
  }
  *interval_mask = static_cast<uint8_t>(payload[0]);
  return true;
}

void AppendAudited(std::string& blob, const Audit& audit, std::string_view inner_entry) {
  std::string& p = payload_scratch;
  p.clear();
  codec::PutVarint(p, ZigZag(audit.time_ms));
  codec::PutLengthPrefixed(p, audit.actor);
  codec::PutLengthPrefixed(p, audit.command);
  codec::PutLengthPrefixed(p, audit.owner);
  codec::PutLengthPrefixed(p, audit.key);
  codec::PutLengthPrefixed(p, audit.details);
  p.append(inner_entry);
  AppendFramed(blob, Op::kAudited, p);
}

bool DecodeAudited(std::string_view payload, Audit* audit, Entry* inner) {
  if (!GetZigZag(payload, &audit->time_ms) || !codec::GetLengthPrefixed(payload, &audit->actor) ||
      !codec::GetLengthPrefixed(payload, &audit->command) || !codec::GetLengthPrefixed(payload, &audit->owner) ||
      !codec::GetLengthPrefixed(payload, &audit->key) || !codec::GetLengthPrefixed(payload, &audit->details) ||
      payload.empty()) {
    return false;
  }
  // The inner entry fills the rest of the payload exactly.
  inner->op = static_cast<Op>(static_cast<uint8_t>(payload[0]));
  payload.remove_prefix(1);
  return codec::GetLengthPrefixed(payload, &inner->payload) && payload.empty() && inner->op != Op::kAudited;
}

void AppendOwnerTimeZone(std::string& blob, std::string_view owner, std::string_view zone) {
  std::string& p = payload_scratch;
  p.clear();
  codec::PutLengthPrefixed(p, owner);
  codec::PutLengthPrefixed(p, zone);
  AppendFramed(blob, Op::kOwnerTimeZone, p);
}

bool DecodeOwnerTimeZone(std::string_view payload, std::string_view* owner, std::string_view* zone) {
  return codec::GetLengthPrefixed(payload, owner) && codec::GetLengthPrefixed(payload, zone);
}

std::string CellPrefix(std::string_view owner, std::string_view key) {
  std::string out;
  out.reserve(owner.size() + key.size() + 2);
  out.append(owner);
  out.push_back('\0');
  out.append(key);
  out.push_back('\0');
  return out;
}

std::string OwnerCellPrefix(std::string_view owner) {
  std::string out(owner);
  out.push_back('\0');
  return out;
}

std::string CellKey(std::string_view owner, std::string_view key, uint8_t interval, int64_t period) {
  std::string out = CellPrefix(owner, key);
  out.push_back(static_cast<char>(interval));
  PutPeriodBigEndian(out, period);
  return out;
}

bool ParseCellKey(std::string_view encoded, ParsedCellKey* out) {
  size_t first = encoded.find('\0');
  if (first == std::string_view::npos) return false;
  size_t second = encoded.find('\0', first + 1);
  if (second == std::string_view::npos || encoded.size() != second + 1 + 1 + 8) return false;
  out->owner = encoded.substr(0, first);
  out->key = encoded.substr(first + 1, second - first - 1);
  out->interval = static_cast<uint8_t>(encoded[second + 1]);
  out->period = static_cast<int64_t>(codec::GetBigEndian64(encoded.data() + second + 2) ^ (uint64_t{1} << 63));
  return true;
}

std::string ByKeyPrefix(std::string_view key, uint8_t interval, int64_t period) {
  std::string out(key);
  out.push_back('\0');
  out.push_back(static_cast<char>(interval));
  PutPeriodBigEndian(out, period);
  return out;
}

bool ParseByKeyKey(std::string_view encoded, std::string_view key, uint8_t interval, int64_t* period,
                   std::string_view* owner) {
  const size_t head = key.size() + 2;  // key 0x00 interval
  if (encoded.size() < head + 8 || encoded.substr(0, key.size()) != key || encoded[key.size()] != '\0' ||
      static_cast<uint8_t>(encoded[key.size() + 1]) != interval) {
    return false;
  }
  *period = static_cast<int64_t>(codec::GetBigEndian64(encoded.data() + head) ^ (uint64_t{1} << 63));
  *owner = encoded.substr(head + 8);
  return true;
}

std::string ByKeyKey(std::string_view key, uint8_t interval, int64_t period, std::string_view owner) {
  std::string out = ByKeyPrefix(key, interval, period);
  out.append(owner);
  return out;
}

std::string ByValueKey(std::string_view key, uint8_t interval, int64_t period, int64_t value, std::string_view owner) {
  std::string out = ByKeyPrefix(key, interval, period);
  // Sign flipped: ascending bytes are ascending values; inverted: descending.
  codec::PutBigEndian64(out, ~(static_cast<uint64_t>(value) ^ (uint64_t{1} << 63)));
  out.append(owner);
  return out;
}

bool ParseByValueKey(std::string_view encoded, std::string_view key, uint8_t interval, int64_t* period, int64_t* value,
                     std::string_view* owner) {
  std::string_view owner_and_value;
  if (!ParseByKeyKey(encoded, key, interval, period, &owner_and_value) || owner_and_value.size() < 8) return false;
  *value = static_cast<int64_t>(~codec::GetBigEndian64(owner_and_value.data()) ^ (uint64_t{1} << 63));
  *owner = owner_and_value.substr(8);
  return true;
}

std::string DedupeKey(std::string_view owner, std::string_view key, std::string_view event_id) {
  std::string out = CellPrefix(owner, key);
  out.append(event_id);
  return out;
}

std::string EncodeDedupeValue(int64_t expiry_ms, uint64_t fingerprint) {
  std::string out;
  codec::PutFixed64(out, static_cast<uint64_t>(expiry_ms));
  codec::PutFixed64(out, fingerprint);
  return out;
}

bool DecodeDedupeValue(std::string_view encoded, int64_t* expiry_ms, uint64_t* fingerprint) {
  if (encoded.size() != 8 && encoded.size() != 16) return false;
  *expiry_ms = static_cast<int64_t>(codec::GetFixed64(encoded.data()));
  *fingerprint = encoded.size() == 16 ? codec::GetFixed64(encoded.data() + 8) : 0;
  return true;
}

std::string EncodeInt64(int64_t value) {
  std::string out;
  codec::PutFixed64(out, static_cast<uint64_t>(value));
  return out;
}

bool DecodeInt64(std::string_view encoded, int64_t* value) {
  if (encoded.size() != 8) return false;
  *value = static_cast<int64_t>(codec::GetFixed64(encoded.data()));
  return true;
}

std::string CheckpointKey(uint16_t shard) {
  std::string key(kCheckpointPrefix);
  codec::PutBigEndian16(key, shard);
  return key;
}

}  // namespace tally::storage::log_format
