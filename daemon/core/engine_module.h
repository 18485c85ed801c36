#pragma once
// The interface every engine module implements, so that recovery and
// compaction treat them alike.
//
// A module is one family of state (the plain keyspace, owners, counters, the
// feeds, ...). It keeps its per-shard state in its own per-shard array,
// guarded by the shard's mutex (core/shard_set.h); it owns the log ops it
// appends and is the only one to replay them; and it takes part in every
// shard's compaction:
//
//   under the shard lock:   every module's Snapshot(shard)          (swap what changed, microseconds)
//   without the lock:       every module's WriteSnapshot(batch)     (into ONE WriteBatch with the checkpoint)
//   under the lock again:   every module's FinishSnapshot(shard, ok)
//
// in registration order (Engine's constructor, the one place modules are
// registered). Adding a module: implement this interface, give it new log ops
// (storage/log_format.h) and families if it needs them, register it in
// Engine::Engine, document its bytes in storage/FORMAT.md.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/shard_set.h"
#include "storage/feed_format.h"
#include "storage/log_format.h"
#include "storage/status.h"
#include "storage/store.h"

namespace tally::core {

// Empties a compaction's scratch list in FinishSnapshot. One run after a
// burst of new counters (a million at once) makes it that large, and
// clear() would keep that capacity for good: measured, about 400 bytes per
// counter ever compacted in one run (docs/benchmarks.md, "Memory"). A
// large one is given back; a small one keeps its capacity for the next run.
template <typename T>
void ClearScratch(std::vector<T>& scratch) {
  constexpr size_t kKeptCapacity = 4096;
  if (scratch.capacity() > kKeptCapacity) {
    std::vector<T>().swap(scratch);
  } else {
    scratch.clear();
  }
}

class EngineModule;

// What a module's Replay gets besides the entry.
struct ReplayContext {
  // The shard whose log holds the entry (held exclusively: recovery runs
  // before anything else touches the engine).
  const ShardRef& shard;
  int64_t now_ms;
  // Module of each log op (nullptr: unknown op).
  const std::array<EngineModule*, 256>& modules_by_op;

  // Replays an entry through the module that owns its op (recovery's loop,
  // and an entry nested in another: the change inside an Audited entry).
  storage::Status Dispatch(const storage::log_format::Entry& entry) const;
};

// One shard's compaction batch, handed to every module's WriteSnapshot in
// registration order. The feeds module is registered last: its
// WriteSnapshot writes the change records the others added to `changes`.
struct CompactionBatch {
  size_t shard;
  storage::WriteBatch& batch;
  // Changefeed records of the cells this run writes (seqs given at
  // compaction; see FeedsModule).
  storage::feed_format::ChangeBlobWriter& changes;
  // Rows each module added (statistics). If every module adds none and the
  // checkpoint did not move, the batch is not written at all.
  size_t written = 0;
};

// A module's figures for metrics and tests (counted under each shard's lock).
struct ModuleStats {
  std::string_view module;
  uint64_t items = 0;    // things held in memory (keys, owners, counters, queued audit records)
  uint64_t pending = 0;  // changed since the last compaction: what the next one writes
};

class EngineModule {
 public:
  virtual ~EngineModule() = default;

  virtual std::string_view name() const = 0;
  // The log ops this module appends and replays (each op has one module;
  // Engine checks that at registration).
  virtual std::vector<storage::log_format::Op> log_ops() const = 0;

  // Recovery, first step, before any replay: loads the compacted state that
  // must be in memory from the start (the plain keys; the feeds' next seqs).
  // State loaded lazily (counters, owners) needs nothing here.
  virtual storage::Status LoadCompacted() { return storage::Status::Ok(); }
  // Recovery, second step: applies one entry of an op this module owns whose
  // sequence is past its shard's checkpoint, exactly as the live op applied
  // it, and marks it for the next compaction.
  virtual storage::Status Replay(const storage::log_format::Entry& entry, const ReplayContext& context) = 0;

  // Compaction, under the shard lock: take what changed since the last
  // compaction (swap buffers, do not copy more than needed: writes wait).
  virtual void Snapshot(const ShardRef& shard) = 0;
  // Compaction, without the shard lock: add the snapshot to the batch, as
  // absolute values (a read racing with the write must not count a change
  // twice). A failure makes the compactor call FinishSnapshot(shard, false).
  virtual storage::Status WriteSnapshot(CompactionBatch& batch) = 0;
  // Compaction, under the shard lock again: the batch was written (ok: drop
  // the snapshot) or not (give it back to the next compaction).
  virtual void FinishSnapshot(const ShardRef& shard, bool ok) = 0;

  virtual ModuleStats Stats() = 0;
};

inline storage::Status ReplayContext::Dispatch(const storage::log_format::Entry& entry) const {
  EngineModule* module = modules_by_op[static_cast<uint8_t>(entry.op)];
  if (module == nullptr) {
    return storage::Status::Corruption("unknown log entry type " + std::to_string(static_cast<int>(entry.op)));
  }
  return module->Replay(entry, *this);
}

}  // namespace tally::core
