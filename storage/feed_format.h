#pragma once
// Byte format of the two feeds compaction writes (see storage/FORMAT.md,
// "changes" and "audit"): the changefeed of cells that compaction wrote, and
// the audit trail of administrative changes. Both are keyed by the u64 BE
// sequence number of the LAST record in a blob, so that a reader resuming
// after `since` seeks to key `since + 1` and lands on the blob that holds
// record `since + 1`.
//
// Encoders build blobs on the compaction thread; decoders run on any reader
// thread. No RocksDB here.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tally::storage::feed_format {

inline constexpr uint8_t kChangesBlobVersion = 1;
inline constexpr uint8_t kAuditBlobVersion = 1;

// Record kinds in a change group: 0..6 = the cell of that interval was
// written (upsert, with its period label and absolute value);
// kDeleteBit | interval = every period of that interval was deleted;
// kDeleteAll = every cell of the counter was deleted.
inline constexpr uint8_t kDeleteBit = 0x80;
inline constexpr uint8_t kDeleteAll = 0xff;

// Key of a blob in the changes and audit families: u64 BE of its last sequence.
std::string FeedKey(uint64_t last_seq);
bool ParseFeedKey(std::string_view key, uint64_t* last_seq);

struct ChangeRecord {
  uint64_t seq = 0;
  std::string_view owner;
  std::string_view key;
  uint8_t kind = 0;         // interval (upsert), kDeleteBit | interval, or kDeleteAll
  std::string_view period;  // label; empty for deletes
  int64_t value = 0;        // absolute value; 0 for deletes
  bool is_delete() const { return (kind & kDeleteBit) != 0; }
};

// Builds the changes blobs of one shard compaction: records are appended in
// order with consecutive sequence numbers starting at `first_seq`;
// consecutive records of one counter share its owner and key (a "group").
// A blob is cut every `max_records` records.
class ChangeBlobWriter {
 public:
  ChangeBlobWriter(uint64_t first_seq, int64_t time_ms, size_t max_records = 4096);
  void AddUpsert(std::string_view owner, std::string_view key, uint8_t interval, std::string_view period,
                 int64_t value);
  void AddDelete(std::string_view owner, std::string_view key, uint8_t kind);
  // Completes the last blob. Afterwards blobs() holds (key, value) pairs.
  void Finish();
  struct Blob {
    uint64_t last_seq;
    std::string value;
  };
  std::vector<Blob>& blobs() { return blobs_; }
  uint64_t next_seq() const { return next_seq_; }
  uint64_t records() const { return next_seq_ - first_seq_; }

 private:
  void Add(std::string_view owner, std::string_view key, uint8_t kind, std::string_view period, int64_t value);
  void CloseGroup();
  void CloseBlob();

  const uint64_t first_seq_;
  const int64_t time_ms_;
  const size_t max_records_;
  uint64_t next_seq_;
  std::vector<Blob> blobs_;
  // The open blob and its open group.
  std::string body_;
  uint64_t blob_first_seq_ = 0;
  size_t blob_records_ = 0;
  std::string group_owner_, group_key_, group_records_;
  size_t group_count_ = 0;
};

// Iterates the records of one changes blob, in sequence order. The views
// point into the blob.
class ChangeBlobReader {
 public:
  explicit ChangeBlobReader(std::string_view blob);
  bool ok() const { return ok_; }  // false: malformed (stops Next)
  uint64_t first_seq() const { return first_seq_; }
  uint64_t count() const { return count_; }
  int64_t time_ms() const { return time_ms_; }
  // False at the end or on malformed bytes (then ok() is false).
  bool Next(ChangeRecord* record);

 private:
  std::string_view rest_;
  bool ok_ = true;
  uint64_t first_seq_ = 0, count_ = 0, read_ = 0;
  int64_t time_ms_ = 0;
  std::string_view owner_, key_;
  uint64_t group_left_ = 0;
};

struct AuditRecord {
  uint64_t seq = 0;
  int64_t time_ms = 0;
  std::string_view actor;
  std::string_view command;  // "CTR.SET", ...
  std::string_view owner;
  std::string_view key;      // empty when the change is not about one counter
  std::string_view details;  // UTF-8 JSON object
};

// An audit blob: records with consecutive sequence numbers from `first_seq`.
std::string EncodeAuditBlob(uint64_t first_seq, const std::vector<AuditRecord>& records);

class AuditBlobReader {
 public:
  explicit AuditBlobReader(std::string_view blob);
  bool ok() const { return ok_; }
  uint64_t first_seq() const { return first_seq_; }
  bool Next(AuditRecord* record);

 private:
  std::string_view rest_;
  bool ok_ = true;
  uint64_t first_seq_ = 0, count_ = 0, read_ = 0;
};

// meta keys of the feeds.
inline constexpr std::string_view kChangesNextKey = "feed/changes/next";        // fixed64 LE: next change seq
inline constexpr std::string_view kChangesTrimmedKey = "feed/changes/trimmed";  // fixed64 LE: last trimmed seq
inline constexpr std::string_view kChangesTimePrefix = "feed/changes/time/";    // + u64 BE last seq -> fixed64 LE ms
inline constexpr std::string_view kAuditNextKey = "feed/audit/next";            // fixed64 LE: next audit seq
inline constexpr std::string_view kAlertsNextKey = "feed/alerts/next";          // fixed64 LE: next alert seq
std::string ChangesTimeKey(uint64_t last_seq);
bool ParseChangesTimeKey(std::string_view key, uint64_t* last_seq);

}  // namespace tally::storage::feed_format
