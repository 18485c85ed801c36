#pragma once
// The changefeed (CHANGES.READ, GET /v1/changes) and the audit trail
// (AUDIT.READ, GET /v1/audit); docs/changefeed.md, storage/FORMAT.md §11.
//
// Sequence numbers of both feeds are global, dense (1, 2, 3, ...) and given
// at compaction, in the same RocksDB batch as the cells and the checkpoint
// they describe: a record is readable only once it is durable, and a seq
// never changes meaning, across crashes and restarts.
//
// Any module can log an audited change: LogAudited appends the change's own
// entry and its audit record as ONE log entry (Audited), so the two are
// durable together or not at all, and queues the record; the compaction that
// folds the entry writes it to the `audit` family. Modules add change
// records to CompactionBatch::changes; this module, registered last, writes
// them.
//
// Thread-safety: reads from any thread; LogAudited under the shard's lock;
// the compaction calls come from the compactor (one run at a time).

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/calendar.h"
#include "core/clock.h"
#include "core/engine_module.h"
#include "core/op_result.h"
#include "core/shard_set.h"
#include "storage/feed_format.h"
#include "storage/store.h"

namespace tally::core {

// Who made an administrative change (CTR.SET/RESET/RECOUNT/DEL/ADJUST): the
// op logs an audit record with before/after values in the same entry as the
// change.
struct AuditInfo {
  std::string_view actor;    // 1-128 printable ASCII bytes (ValidActor)
  std::string_view command;  // "CTR.SET", ...
};
// Actors: 1-128 bytes of printable ASCII (spaces allowed, not first or last).
bool ValidActor(std::string_view actor);

enum class FeedCursor {
  kOk,
  kTooOld,  // records after `since` were trimmed (retention): the reader lost changes
  kAhead,   // `since` is past the newest record (a cursor of another data dir?)
};

// One changed cell (or a deletion). Upserts carry the cell's absolute value
// after the change (a record may repeat an unchanged value).
struct ChangeEntry {
  uint64_t seq = 0;
  std::string owner;
  std::string key;
  std::optional<Interval> interval;  // nullopt: a delete of every cell of the counter
  std::string period;                // label in the owner's zone; empty for deletes
  std::optional<int64_t> value;      // nullopt: delete (every period of `interval`, or every cell)
};

struct ChangesPage {
  FeedCursor cursor = FeedCursor::kOk;
  uint64_t next = 0;    // the last seq returned, or `since` when nothing is new
  uint64_t oldest = 0;  // the oldest seq still kept (newest + 1 when none is kept)
  uint64_t newest = 0;  // the newest readable seq (0: none yet)
  std::vector<ChangeEntry> records;
};

struct AuditEntry {
  uint64_t seq = 0;
  int64_t time_ms = 0;
  std::string actor;
  std::string command;
  std::string owner;
  std::string key;
  std::string details;  // JSON object, e.g. {"cells":[{"interval":"day","period":"2024-12-04","before":3,"after":10}]}
};

struct AuditPage {
  FeedCursor cursor = FeedCursor::kOk;
  uint64_t next = 0;
  uint64_t oldest = 0;
  uint64_t newest = 0;
  std::vector<AuditEntry> records;
};

// Which records a read of the audit trail or the alert log keeps. An empty
// field matches every record; otherwise the record's field must equal it,
// or, when it ends with '*', start with what comes before the '*'.
// Alerts: `command` is the alert's kind, `key` its feature.
struct RecordFilter {
  std::string actor, command, owner, key;
  bool empty() const { return actor.empty() && command.empty() && owner.empty() && key.empty(); }
};

// A read of the audit trail or the alert log (QueryAudit, QueryAlerts).
struct RecordQuery {
  uint64_t since = 0;         // only records with seq > since
  uint64_t before = 0;        // only records with seq < before; 0: up to the newest
  bool newest_first = false;  // from the newest down (else from since + 1 up)
  size_t limit = 100;         // records returned, at most
  // Records looked at, at most, matching or not: what bounds the time one
  // read of a rare filter over millions of records takes. The page's `next`
  // says where to go on.
  size_t max_examined = 10000;
  RecordFilter filter;
};

class FeedsModule final : public EngineModule {
 public:
  // `changes_retention_ms`: how long change records are kept (0 = forever).
  FeedsModule(ShardSet& shards, storage::Store& store, const Clock& clock, int64_t changes_retention_ms);

  // Records with seq > since, in order, at most `limit`. Only what compaction
  // has written (and synced) is visible: a change shows up after the next
  // compaction. A cursor older than the oldest kept record, or past the
  // newest, is reported in `cursor` (no records). kStorageFailed when RocksDB
  // cannot be read or a blob does not decode.
  OpResult<ChangesPage> ReadChanges(uint64_t since, size_t limit);
  OpResult<AuditPage> ReadAudit(uint64_t since, size_t limit);
  // The alert log (EVENTS.READ): quota alerts as records of the audit's
  // shape (actor empty, command = the alert's kind, key = the feature,
  // details = its JSON). Written and published like the audit trail.
  OpResult<AuditPage> ReadAlerts(uint64_t since, size_t limit);
  // Filtered reads, either way. The page's `next` is where the next read of
  // the same query goes on from: oldest first, the last seq looked at
  // (`since` when none: pass it as the next since); newest first, the lowest
  // seq looked at (pass it as the next before), or 0 when nothing older than
  // `since` is left. A `since` past the newest is kAhead (no records);
  // `before` past the newest is simply "from the newest".
  OpResult<AuditPage> QueryAudit(const RecordQuery& query);
  OpResult<AuditPage> QueryAlerts(const RecordQuery& query);
  // The newest readable alert seq (cheap: for pollers such as the SSE stream).
  uint64_t newest_alert() const { return streams_[kAlertStream].visible.load(std::memory_order_acquire); }

  // Appends an administrative change (`inner_entry`: one complete encoded
  // entry, never an Audited one) and its audit record as ONE log entry, and
  // queues the record for the next compaction. REQUIRES the shard's lock.
  void LogAudited(const ShardRef& shard, const AuditInfo& audit, std::string_view owner, std::string_view key,
                  std::string details, std::string_view inner_entry);
  // Queues an alert for the compaction that folds the log entry that raised
  // it (live, and again at replay of that entry: it was not compacted).
  // REQUIRES the shard's lock.
  void QueueAlert(const ShardRef& shard, int64_t time_ms, std::string_view kind, std::string_view owner,
                  std::string_view feature, std::string details);

  // Shards holding an alert queued at or before `cutoff_ms` and not yet
  // taken by a compaction (the maintenance tick compacts them early, so an
  // alert is readable soon after the op that raised it). Lock-free.
  std::vector<size_t> ShardsWithAlertsWaitingSince(int64_t cutoff_ms) const;

  // ---- for the compactor ----------------------------------------------------
  // A writer for one shard compaction's change records, starting at the next
  // change seq (tentative until FinishSnapshot(ok)).
  storage::feed_format::ChangeBlobWriter StartChanges();
  // After a compaction run: syncs RocksDB's log and makes every record written
  // so far readable; then trims change records past their retention.
  storage::Status Publish();

  // EngineModule
  std::string_view name() const override { return "feeds"; }
  std::vector<storage::log_format::Op> log_ops() const override;
  storage::Status LoadCompacted() override;
  storage::Status Replay(const storage::log_format::Entry& entry, const ReplayContext& context) override;
  void Snapshot(const ShardRef& shard) override;
  storage::Status WriteSnapshot(CompactionBatch& batch) override;
  void FinishSnapshot(const ShardRef& shard, bool ok) override;
  ModuleStats Stats() override;

 private:
  // An audit record (or an alert) waiting for the compaction that folds its log entry.
  struct PendingAudit {
    int64_t time_ms;
    std::string actor, command, owner, key, details;
  };
  // The audit trail and the alert log: records of one shape, given their
  // seqs when compaction writes them.
  enum StreamId { kAuditStream = 0, kAlertStream = 1, kStreamCount = 2 };
  struct Stream {
    storage::Family family;
    std::string_view next_key;         // meta key of the next seq
    uint64_t next = 1, tentative = 1;  // protected by mu_
    std::atomic<uint64_t> visible{0};  // newest readable seq
  };
  // One shard's records since the last compaction, in log order, per stream.
  // Protected by the shard's mutex.
  struct alignas(64) Shard {
    std::vector<PendingAudit> pending[kStreamCount];
    std::vector<PendingAudit>
        snapshot[kStreamCount];  // taken by Snapshot; read by WriteSnapshot on the compaction thread
    // When the oldest alert in pending[kAlertStream] was queued (clock ms),
    // 0 if none. Written under the shard's mutex, read without it.
    std::atomic<int64_t> alerts_waiting_since_ms{0};
  };
  OpResult<AuditPage> ReadRecords(StreamId stream, uint64_t since, size_t limit);
  OpResult<AuditPage> QueryRecords(StreamId stream, const RecordQuery& query);

  ShardSet& shard_set_;
  storage::Store& store_;
  const Clock& clock_;
  const int64_t changes_retention_ms_;
  Shard shards_[kShardCount];  // element i protected by shard i's mutex

  // Sequence numbers. Protected by mu_: the next seq to give (committed), the
  // tentative next of the batch being built. The atomics are what readers may
  // see: written, synced, and below the trim point.
  mutable std::mutex mu_;
  uint64_t changes_next_ = 1, changes_tentative_ = 1;
  std::atomic<uint64_t> changes_visible_{0};  // newest readable change seq
  std::atomic<uint64_t> changes_trimmed_{0};  // every change seq <= this was trimmed
  Stream streams_[kStreamCount] = {{storage::Family::kAudit, storage::feed_format::kAuditNextKey},
                                   {storage::Family::kAlerts, storage::feed_format::kAlertsNextKey}};
};

}  // namespace tally::core
