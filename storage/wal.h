#pragma once
// Group commit of the write-ahead log (LevelDB's DBImpl::Write, adapted to
// sharded state):
//
//  * Each shard owns a ShardLog. A command applies its change to the shard's
//    memory and appends one encoded entry, both under the shard's lock, so the
//    log order of a shard is the order its changes were applied.
//  * Whoever needs its entries durable takes a ticket (Ticket(), after its
//    appends) and calls WaitDurable(ticket). The first such caller becomes the
//    writer: it takes every shard's pending blobs and writes them in ONE
//    RocksDB write (one Put per shard with pending entries, never one per
//    entry), with fsync when durability=fsync. Callers whose ticket is covered
//    return at once: many connections share one write and one fsync.
//  * A write that fails for lack of space (NoSpace) stops writes but loses
//    nothing: the blobs it took hold entries already applied in memory, so
//    the writer keeps them and writes them first when writes resume (same
//    keys: writing a blob twice is harmless). Before giving up it calls the
//    no-space handler once (which frees the disk reserve and resumes RocksDB)
//    and retries, so the write in flight usually still lands. Either way the
//    state becomes kDiskFull until Resume() succeeds.
//  * An atomic group (core::ShardSet::Atomically: MULTI/EXEC, a script,
//    MSET) holds the commit group shared while it appends to several shards'
//    logs; the writer takes the blobs only with the group held exclusively.
//    So every entry of a group lands in the same RocksDB write: after a
//    crash the group is wholly there or wholly absent.
//  * Any other failed write (or FailClosed, for a failed fsync) fails closed:
//    kFailed, every later WaitDurable returns the error until a restart,
//    since what reached the disk is unknown.
//
// Thread-safe.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "storage/log_format.h"
#include "storage/status.h"
#include "storage/store.h"

namespace tally::storage {

struct PendingBlob {
  uint16_t shard;
  uint64_t first_seq;
  uint64_t entries;
  std::string bytes;  // version byte + entries
};

class ShardLog {
 public:
  explicit ShardLog(uint16_t shard) : shard_(shard) {}

  // REQUIRES: the caller holds its shard's lock (append order = apply order).
  // `encode(std::string&)` appends exactly one entry. Returns its sequence number.
  template <typename Encode>
  uint64_t Append(Encode&& encode) {
    std::lock_guard<std::mutex> lock(mu_);
    if (open_.bytes.empty()) {
      open_.shard = shard_;
      open_.first_seq = next_seq_;
      open_.entries = 0;
      open_.bytes.push_back(static_cast<char>(log_format::kBlobVersion));
    }
    encode(open_.bytes);
    ++open_.entries;
    return next_seq_++;
  }

  // Sequence number of the last appended entry (0 = none yet).
  uint64_t last_seq() const;
  // Recovery: the next entry gets `seq`.
  void set_next_seq(uint64_t seq);
  // Compaction cut: entries appended after this go into a new blob, so no blob
  // straddles a checkpoint and trimming by key range is exact.
  void Seal();
  // Moves every pending blob (sealed ones first, then the open one) to `out`.
  void TakeBlobs(std::vector<PendingBlob>& out);
  // Bytes appended but not yet taken by the writer.
  size_t pending_bytes() const;
  uint16_t shard() const { return shard_; }

 private:
  const uint16_t shard_;
  mutable std::mutex mu_;  // guards everything below; nested inside the shard lock
  uint64_t next_seq_ = 1;
  PendingBlob open_;
  std::vector<PendingBlob> sealed_;
};

struct WalStats {
  uint64_t writes = 0;  // RocksDB writes (group commits that wrote something)
  uint64_t blobs = 0;
  uint64_t entries = 0;
  uint64_t bytes = 0;
};

enum class WriteState { kOk, kDiskFull, kFailed };

class WalWriter {
 public:
  // `sync`: fsync before WaitDurable returns (durability=fsync).
  WalWriter(Store& store, std::vector<ShardLog*> logs, bool sync);

  // A ticket covering every entry appended before this call.
  uint64_t Ticket() const { return collected_.load(std::memory_order_seq_cst) + 1; }
  bool IsDurable(uint64_t ticket) const { return durable_.load(std::memory_order_acquire) >= ticket; }
  // Blocks until the ticket's entries are written (writing them, and everyone
  // else's, if no other thread is). Returns the sticky error after a failure.
  Status WaitDurable(uint64_t ticket);
  // Ok, or the error that stopped the log.
  Status health() const;
  WriteState write_state() const { return state_.load(std::memory_order_acquire); }

  // Called by the writer after a NoSpace write, before it gives up: true if
  // the write is worth one retry (space was freed, RocksDB resumed).
  void set_no_space_handler(std::function<bool()> handler) { no_space_handler_ = std::move(handler); }
  // A storage error met outside the writer (compaction, the periodic fsync):
  // NoSpace stops writes until Resume; anything else fails closed for good.
  void OnStorageError(const Status& s);
  // After kDiskFull: writes the kept blobs and everything pending; Ok puts
  // the writer back to kOk. A NoSpace failure keeps kDiskFull.
  Status Resume();
  WalStats stats() const;
  bool sync() const { return sync_; }

  // An atomic group's bracket (see the header comment): between them, no
  // blob is taken, so the entries appended meanwhile are written together.
  // Groups run concurrently with each other; the writer waits for all of
  // them to end (they last microseconds: a handful of in-memory ops).
  void BeginGroup() const { group_mu_.lock_shared(); }
  void EndGroup() const { group_mu_.unlock_shared(); }

 private:
  Status WriteEverything(bool resuming, uint64_t ticket);

  Store& store_;
  const std::vector<ShardLog*> logs_;
  const bool sync_;
  std::atomic<uint64_t> collected_{0};  // generations whose blobs were taken
  std::atomic<uint64_t> durable_{0};    // generations written
  std::atomic<WriteState> state_{WriteState::kOk};
  // flush_mu_ is never held across the RocksDB write: waiters whose ticket a
  // write covers must be able to return as soon as it lands, not queue behind
  // the next write (and its fsync) for the mutex.
  mutable std::mutex flush_mu_;
  std::condition_variable written_;   // signalled after every write attempt
  bool writing_ = false;              // guarded by flush_mu_: a writer is at work
  Status failure_;                    // guarded by flush_mu_
  std::vector<PendingBlob> scratch_;  // owned by the thread that set writing_
  std::vector<PendingBlob> kept_;     // blobs of a NoSpace write; owned like scratch_
  std::function<bool()> no_space_handler_;
  WalStats stats_;  // guarded by flush_mu_
  // Shared by atomic groups, exclusive while the writer takes the blobs.
  // Lock order: group, then shard locks, then a ShardLog's mutex.
  mutable std::shared_mutex group_mu_;
};

}  // namespace tally::storage
