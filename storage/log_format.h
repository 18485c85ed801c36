#pragma once
// The write-ahead log's byte format: blobs of entries, one blob per shard per
// group commit (see storage/FORMAT.md, "log"). Entries are appended to a
// shard's pending buffer by the encoders here and decoded at recovery.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/status.h"

namespace tally::storage::log_format {

inline constexpr uint8_t kBlobVersion = 1;

enum class Op : uint8_t {
  kPlainPut = 1,         // plain key := (expiry, value)
  kPlainDel = 2,         // plain key removed
  kCounterIncr = 3,      // counter increment: total + one cell per rollup interval (+ event id)
  kCounterSetCells = 4,  // absolute values for cells (CTR.SET / RESET / RECOUNT), applied together
  kCounterDelete = 5,    // cells of a counter removed (all, or the intervals in a mask)
  kOwnerTimeZone = 6,    // owner's time zone from now on
  kAudited = 7,          // an administrative change: audit fields + the change's own entry, one atomic entry
  kQuota = 8,            // a quota module change (plans, quotas, credits, holds): core/quota_log.h
  kPlainSketchAdd = 9,   // PFADD: member hashes added to the plain key's distinct-count sketch
  kMeterEvent = 10,      // METER.RECORD: one event's counter increments and quota consumes (core/metering_log.h)
  kPrice = 11,           // PRICE.SET / PRICE.DEL: a price set or removed (core/metering_log.h)
  kUniqAdd = 12,         // UNIQ.ADD: member hashes added to an owner's distinct-count cells
  // Hashes and sorted sets of the plain keyspace (payloads: core/keyspace_values.h, FORMAT.md "log"):
  kPlainHashSet = 13,  // HSET & co: fields := values (absolute), with the key's expiry
  kPlainHashDel = 14,  // HDEL: fields removed (the key goes with its last field)
  kPlainZsetSet = 15,  // ZADD & co: members := scores (absolute), with the key's expiry
  kPlainZsetRem = 16,  // ZREM, ZPOP*: members removed (the key goes with its last member)
  kPlainExpire = 17,   // EXPIRE/PERSIST of a hash or sorted set: the key's new expiry (0 = none)
  kPlainFlush = 18,    // FLUSHDB/FLUSHALL: every plain key of the entry's shard removed
};

inline constexpr int kRollupCount = 6;  // hour, day, week, month, quarter, year

struct CounterIncr {
  std::string_view owner;
  std::string_view key;
  int64_t delta = 0;
  int64_t event_ms = 0;
  int64_t periods[kRollupCount] = {};  // period id per rollup interval, computed when applied
  std::string_view event_id;           // empty: none
  int64_t event_id_expiry_ms = 0;
  // With an event id: the fingerprint of the arguments the client sent
  // (EventFingerprint), so a reuse of the id with other arguments is told
  // from a retry. 0: unknown (entries written before fingerprints), which
  // matches any arguments.
  uint64_t event_fingerprint = 0;
};
void AppendCounterIncr(std::string& blob, const CounterIncr& incr);
bool DecodeCounterIncr(std::string_view payload, CounterIncr* out);

struct CellValue {
  uint8_t interval;  // core::Interval
  int64_t period;
  int64_t value;
};
// Encodes owner, key and the cells; decode with CounterCellsReader.
void AppendCounterSetCells(std::string& blob, std::string_view owner, std::string_view key, const CellValue* cells,
                           size_t count);
bool DecodeCounterSetCells(std::string_view payload, std::string_view* owner, std::string_view* key,
                           std::string_view* cells, uint64_t* count);
bool NextCellValue(std::string_view* cells, CellValue* cell);

void AppendCounterDelete(std::string& blob, std::string_view owner, std::string_view key, uint8_t interval_mask);
bool DecodeCounterDelete(std::string_view payload, std::string_view* owner, std::string_view* key,
                         uint8_t* interval_mask);

// UNIQ.ADD: the member hashes that changed at least one of the seven cells
// (total and one per rollup interval) of (owner, key) for the event time,
// with the period ids they were applied to. Replay adds them to the same
// cells again (adding a hash twice changes nothing).
struct UniqAdd {
  std::string_view owner;
  std::string_view key;
  int64_t event_ms = 0;
  int64_t periods[kRollupCount] = {};  // period id per rollup interval, computed when applied
  std::vector<uint64_t> hashes;
};
void AppendUniqAdd(std::string& blob, const UniqAdd& add);
bool DecodeUniqAdd(std::string_view payload, UniqAdd* out);

// An administrative change (CTR.SET, RESET, RECOUNT, DEL, ...) and its audit
// record in ONE entry, so the two are durable together or not at all: the
// audit fields, then the change's own complete entry (op, length, payload),
// which replay applies as if it stood alone.
struct Audit {
  int64_t time_ms = 0;
  std::string_view actor;
  std::string_view command;  // "CTR.SET", ...
  std::string_view owner;
  std::string_view key;      // empty when not about one counter
  std::string_view details;  // UTF-8 JSON object (before/after values)
};
// `inner_entry` is one complete encoded entry (as the Append* encoders write it).
void AppendAudited(std::string& blob, const Audit& audit, std::string_view inner_entry);
struct Entry;
bool DecodeAudited(std::string_view payload, Audit* audit, Entry* inner);

void AppendOwnerTimeZone(std::string& blob, std::string_view owner, std::string_view zone);
bool DecodeOwnerTimeZone(std::string_view payload, std::string_view* owner, std::string_view* zone);

// ---- keys of the counter families (see FORMAT.md) ----
// cells:  owner 0x00 key 0x00 interval(u8) period(u64 BE, sign bit flipped)
std::string CellKey(std::string_view owner, std::string_view key, uint8_t interval, int64_t period);
std::string CellPrefix(std::string_view owner, std::string_view key);  // owner 0x00 key 0x00
std::string OwnerCellPrefix(std::string_view owner);                   // owner 0x00
struct ParsedCellKey {
  std::string_view owner;
  std::string_view key;
  uint8_t interval;
  int64_t period;
};
bool ParseCellKey(std::string_view encoded, ParsedCellKey* out);
// by_key: key 0x00 interval(u8) period(u64 BE, sign flipped) owner
std::string ByKeyKey(std::string_view key, uint8_t interval, int64_t period, std::string_view owner);
std::string ByKeyPrefix(std::string_view key, uint8_t interval, int64_t period);
// Splits a by_key entry into its period and owner; false if it is not an
// entry of (key, interval).
bool ParseByKeyKey(std::string_view encoded, std::string_view key, uint8_t interval, int64_t* period,
                   std::string_view* owner);
// by_value: the by_key entries in value order, highest first, within each
// (key, interval, period): key 0x00 interval(u8) period(u64 BE, sign
// flipped) value(u64 BE, sign flipped, then inverted) owner -> "". The
// prefix of one period is ByKeyPrefix's.
std::string ByValueKey(std::string_view key, uint8_t interval, int64_t period, int64_t value, std::string_view owner);
// Splits a by_value entry; false if it is not an entry of (key, interval).
bool ParseByValueKey(std::string_view encoded, std::string_view key, uint8_t interval, int64_t* period, int64_t* value,
                     std::string_view* owner);
// dedupe: owner 0x00 key 0x00 event-id (an id is scoped to one counter)
std::string DedupeKey(std::string_view owner, std::string_view key, std::string_view event_id);
// dedupe value: fixed64 LE expiry (unix ms), then fixed64 LE fingerprint.
// Rows written before fingerprints hold the expiry alone: fingerprint 0.
std::string EncodeDedupeValue(int64_t expiry_ms, uint64_t fingerprint);
bool DecodeDedupeValue(std::string_view encoded, int64_t* expiry_ms, uint64_t* fingerprint);
// Signed 64-bit values: 8 bytes little-endian two's complement.
std::string EncodeInt64(int64_t value);
bool DecodeInt64(std::string_view encoded, int64_t* value);

// Log key: shard (u16 big-endian) + first sequence number of the blob (u64 big-endian).
std::string LogKey(uint16_t shard, uint64_t first_seq);
bool ParseLogKey(std::string_view key, uint16_t* shard, uint64_t* first_seq);

// Entry encoders: append one entry to a blob body.
// Any op whose payload its module encodes itself (kQuota).
void AppendEntry(std::string& blob, Op op, std::string_view payload);
void AppendPlainPut(std::string& blob, std::string_view key, int64_t expire_at_ms, std::string_view value);
void AppendPlainDel(std::string& blob, std::string_view key);
// PFADD: the hashes (DistinctSketch::HashMember) that changed the key's
// sketch, and the key's expiry after the command.
void AppendPlainSketchAdd(std::string& blob, std::string_view key, int64_t expire_at_ms,
                          const std::vector<uint64_t>& hashes);

struct Entry {
  Op op;
  std::string_view payload;
};

// Takes the first entry off a run of entries as the Append* encoders write
// them (op, length, payload; no version byte): the entries a module nests in
// its own. False at the end or if the entry is malformed (then *entries is
// left as it was).
bool TakeEntry(std::string_view* entries, Entry* out);

// Iterates the entries of a blob value (version byte first).
class BlobReader {
 public:
  explicit BlobReader(std::string_view blob);
  // False at the end, or on a malformed entry (then status() says why).
  bool Next(Entry* entry);
  const Status& status() const { return status_; }

 private:
  std::string_view rest_;
  Status status_;
};

struct PlainPut {
  std::string_view key;
  int64_t expire_at_ms;  // 0 = no expiry
  std::string_view value;
};
bool DecodePlainPut(std::string_view payload, PlainPut* out);

struct PlainSketchAdd {
  std::string_view key;
  int64_t expire_at_ms;  // 0 = no expiry
  std::vector<uint64_t> hashes;
};
bool DecodePlainSketchAdd(std::string_view payload, PlainSketchAdd* out);

// Value of a plain key in the kv family: expiry (i64 little-endian, 0 = none) + value bytes.
std::string EncodeKvValue(int64_t expire_at_ms, std::string_view value);
bool DecodeKvValue(std::string_view encoded, int64_t* expire_at_ms, std::string_view* value);

// Meta keys.
std::string CheckpointKey(uint16_t shard);
inline constexpr std::string_view kCheckpointPrefix = "checkpoint/";
inline constexpr std::string_view kFormatVersionKey = "format-version";
// Present once the by_value index mirrors by_key (a data dir from before the
// index gets it built when tallyd opens it).
inline constexpr std::string_view kValueIndexBuiltKey = "index/by_value";

}  // namespace tally::storage::log_format
