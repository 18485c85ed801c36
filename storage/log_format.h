#pragma once
// The write-ahead log's byte format: blobs of entries, one blob per shard per
// group commit (see storage/FORMAT.md, "log"). Entries are appended to a
// shard's pending buffer by the encoders here and decoded at recovery.

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/status.h"

namespace tally::storage::log_format {

inline constexpr uint8_t kBlobVersion = 1;

enum class Op : uint8_t {
  kPlainPut = 1,  // plain key := (expiry, value)
  kPlainDel = 2,  // plain key removed
};

// Log key: shard (u16 big-endian) + first sequence number of the blob (u64 big-endian).
std::string LogKey(uint16_t shard, uint64_t first_seq);
bool ParseLogKey(std::string_view key, uint16_t* shard, uint64_t* first_seq);

// Entry encoders: append one entry to a blob body.
void AppendPlainPut(std::string& blob, std::string_view key, int64_t expire_at_ms, std::string_view value);
void AppendPlainDel(std::string& blob, std::string_view key);

struct Entry {
  Op op;
  std::string_view payload;
};

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

// Value of a plain key in the kv family: expiry (i64 little-endian, 0 = none) + value bytes.
std::string EncodeKvValue(int64_t expire_at_ms, std::string_view value);
bool DecodeKvValue(std::string_view encoded, int64_t* expire_at_ms, std::string_view* value);

// Meta keys.
std::string CheckpointKey(uint16_t shard);
inline constexpr std::string_view kCheckpointPrefix = "checkpoint/";
inline constexpr std::string_view kFormatVersionKey = "format-version";

}  // namespace tally::storage::log_format
