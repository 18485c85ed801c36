#pragma once
// The engine: tally's state and what makes it durable. No sockets here.
//
// It owns the RocksDB store, the write-ahead log's group-commit writer, the
// 64 shards (core/shard_set.h) and the modules, each one family of state:
//
//   keyspace()  plain Redis-compatible keys          core/keyspace.h
//   owners()    owner ids, time zones, listing        core/owners.h
//   counters()  totals and calendar rollup cells      core/counters.h
//   quotas()    plans, quotas, credits, holds         core/quotas.h
//   metering()  events with cost, prices              core/metering.h
//   uniques()   distinct counts per owner (UNIQ.*)    core/uniques.h
//   feeds()     changefeed, audit trail, alert log    core/feeds.h
//
// Ops live on the modules (engine.counters().Increment(...)). A mutating op
// applies its change in memory and appends its log entry under the shard
// lock; the caller acknowledges the write only after WaitDurable() of a
// ticket taken after the op (see storage/wal.h).
//
// Open recovers (core/recovery.h): every module loads its compacted state,
// then the log past each shard's checkpoint is replayed. CompactAll folds the
// changes into the compacted families (core/compaction.h).
//
// Thread-safe. docs/architecture.md shows how the pieces fit.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/compaction.h"
#include "core/counter_types.h"
#include "core/counters.h"
#include "core/engine_module.h"
#include "core/feeds.h"
#include "core/keyspace.h"
#include "core/metering.h"
#include "core/op_result.h"
#include "core/owners.h"
#include "core/quotas.h"
#include "core/shard_set.h"
#include "core/uniques.h"
#include "storage/disk_reserve.h"
#include "storage/status.h"
#include "storage/store.h"
#include "storage/wal.h"

namespace tally::core {

struct EngineOptions {
  std::string data_dir;
  bool fsync_each_write = false;  // durability=fsync
  size_t block_cache_bytes = 64ull << 20;
  // The memory budget of RocksDB's block cache and memtables together
  // (storage::StoreOptions::memory_limit_bytes); 0: none (tests).
  size_t memory_limit_bytes = 0;
  CounterOptions counters;
  QuotaOptions quotas;
  MeteringOptions metering;
  // The disk reserve (storage/disk_reserve.h): a file of this many bytes,
  // released when the disk fills up. Empty path or 0 bytes: none.
  std::string reserve_path;
  uint64_t reserve_bytes = 0;
  // TEST ONLY: the fault-injection control file (storage/fault_fs.h).
  std::string fault_control_path;
};

class Engine {
 public:
  // Opens the store and recovers. Fails (with a clear status) when the data dir
  // is locked by another process or unreadable.
  static storage::StatusOr<std::unique_ptr<Engine>> Open(const EngineOptions& options, const Clock& clock);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // ---- modules --------------------------------------------------------------
  KeyspaceModule& keyspace() { return *keyspace_; }
  OwnersModule& owners() { return *owners_; }
  CountersModule& counters() { return *counters_; }
  QuotasModule& quotas() { return *quotas_; }
  MeteringModule& metering() { return *metering_; }
  UniquesModule& uniques() { return *uniques_; }
  FeedsModule& feeds() { return *feeds_; }
  // ---- atomic groups --------------------------------------------------------
  // fn() with the shards of `mask` locked and the log's commit group held:
  // the ops fn runs are atomic together, and their log entries reach the disk
  // in one write (core/shard_set.h, Atomically). MULTI/EXEC, scripts, MSET.
  template <typename Fn>
  auto Atomically(ShardMask mask, Fn&& fn) {
    return shards_.Atomically(mask, std::forward<Fn>(fn));
  }
  ShardMask HeldShards() const { return ShardSet::HeldShards(); }

  // Every module's figures, in registration order.
  std::vector<ModuleStats> module_stats();

  // ---- durability -------------------------------------------------------
  uint64_t Ticket() const { return wal_->Ticket(); }
  bool IsDurable(uint64_t ticket) const { return wal_->IsDurable(ticket); }
  storage::Status WaitDurable(uint64_t ticket) { return wal_->WaitDurable(ticket); }
  storage::Status health() const { return wal_->health(); }
  // kOk, kDiskFull (writes refused until space returns) or kFailed (writes
  // refused until a restart).
  storage::WriteState write_state() const { return wal_->write_state(); }
  // fsync RocksDB's log (durability=process: every fsync_interval_ms). A
  // failure stops writes (fail closed; kDiskFull if it was for lack of space).
  storage::Status SyncLog();
  // While kDiskFull: once the filesystem has room for the reserve and a
  // margin, resumes RocksDB, re-creates the reserve and writes what waited.
  // Ok when writes go on again; else why not yet. Cheap when kOk.
  storage::Status TryResumeWrites();
  // Times the disk filled up and writes resumed since the start.
  uint64_t disk_full_events() const { return disk_full_events_.load(); }
  uint64_t write_resumes() const { return write_resumes_.load(); }
  bool reserve_held() const { return reserve_ && reserve_->held(); }
  storage::WalStats wal_stats() const { return wal_->stats(); }
  uint64_t recovered_entries() const { return recovered_entries_; }

  // ---- compaction ---------------------------------------------------------
  storage::Status CompactShard(size_t shard) { return compactor_->CompactShard(shard); }
  storage::Status CompactAll();
  // Compacts the shards holding alerts queued `waited_ms` or more ago, so
  // they become readable without waiting for the next full compaction.
  storage::Status PublishWaitingAlerts(int64_t waited_ms);
  // Log entries not yet folded by compaction (the trigger for an early run).
  uint64_t UncompactedEntries() { return compactor_->UncompactedEntries(); }
  CompactionStats compaction_stats() const { return compactor_->stats(); }
  // Flushes memtables (clean shutdown).
  storage::Status FlushMemtables() { return store_->FlushMemtables(); }
  // Store::Checkpoint while no compaction runs (core/backup.h takes backups with it).
  storage::Status CheckpointStore(const std::string& target) { return compactor_->CheckpointStore(target); }

  storage::Store& store() { return *store_; }
  const Clock& clock() const { return clock_; }
  const CounterOptions& counter_options() const { return counters_->options(); }
  const QuotaOptions& quotas_options() const { return quota_options_; }

 private:
  Engine(const Clock& clock, std::unique_ptr<storage::RetentionPolicy> retention, std::unique_ptr<storage::Store> store,
         const EngineOptions& options);
  // The one place a module is registered: it takes part in recovery and
  // compaction in registration order, and owns its log ops.
  template <typename Module>
  Module* Register(std::unique_ptr<Module> module);
  std::vector<EngineModule*> ModuleList() const;
  // A storage error outside the group-commit writer: see WalWriter::OnStorageError.
  void NoteStorageError(const storage::Status& s);
  // NoteStorageError for a compaction that ran out of space; returns `s`.
  storage::Status NoteCompaction(storage::Status s);

  const Clock& clock_;
  std::unique_ptr<storage::RetentionPolicy> retention_;  // outlives store_
  std::unique_ptr<storage::Store> store_;
  ShardSet shards_;
  std::unique_ptr<storage::WalWriter> wal_;
  std::vector<std::unique_ptr<EngineModule>> modules_;  // registration order
  std::array<EngineModule*, 256> modules_by_op_{};      // the module owning each log op
  KeyspaceModule* keyspace_ = nullptr;
  OwnersModule* owners_ = nullptr;
  CountersModule* counters_ = nullptr;
  QuotasModule* quotas_ = nullptr;
  MeteringModule* metering_ = nullptr;
  QuotaOptions quota_options_;
  UniquesModule* uniques_ = nullptr;
  FeedsModule* feeds_ = nullptr;
  std::unique_ptr<Compactor> compactor_;
  uint64_t recovered_entries_ = 0;
  std::unique_ptr<storage::DiskReserve> reserve_;
  std::atomic<uint64_t> disk_full_events_{0};
  std::atomic<uint64_t> write_resumes_{0};
};

}  // namespace tally::core
