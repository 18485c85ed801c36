#pragma once
// The shards every engine module's state is split over, and the prologue
// every operation shares.
//
// A ShardSet owns, per shard, the mutex, the shard's write-ahead log buffer
// (storage::ShardLog) and its checkpoint (the last log sequence compaction
// folded into the compacted families). It owns no domain state: each module
// keeps its own per-shard array (KeyspaceModule::shards_[i], ...), and
// element i of every such array is guarded by shard i's mutex.
//
// An op runs as
//
//   return shards_.Write(owner, [&](const ShardRef& shard) -> OpResult<T> {
//     ... change state_[shard.index()] ...
//     shard.Append([&](std::string& blob) { log_format::Append...(blob, ...); });
//   });
//
// Write refuses (kDiskFull, kStorageFailed) while the log takes no writes, locks the routing
// key's shard and hands the op a ShardRef: the proof that it holds the lock,
// with the shard's index and its log append. Appending under the lock makes a
// shard's log order its apply order. Read does the same without the health
// check. Everything is inlined: no virtual call, allocation or extra lock.
//
// Thread-safety: Write, Read and Locked may be called from any thread.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/hash.h"
#include "core/op_result.h"
#include "storage/wal.h"

namespace tally::core {

// Fixed forever for a data dir: a key's shard orders its log entries, and
// replay relies on finding every entry of a key in one shard's log.
inline constexpr size_t kShardCount = 64;

// Log entries this thread has appended (ever). A transport compares it
// before and after a command: a write refused before it appended anything
// (disk full, the log failed) has no log record to wait for, so its error
// reply need not wait on a log that cannot be written.
inline uint64_t& ThreadLogAppends() {
  thread_local uint64_t appends = 0;
  return appends;
}

// Proof that its holder runs under shard index()'s lock (or alone, during
// recovery). Only ShardSet makes them; functions that REQUIRE a shard's lock
// take one, so the requirement is checked by the compiler.
class ShardRef {
 public:
  size_t index() const { return index_; }
  // Appends exactly one entry (`encode(std::string& blob)` writes it) to the
  // shard's log buffer. Returns its sequence number.
  template <typename Encode>
  uint64_t Append(Encode&& encode) const {
    ++ThreadLogAppends();
    return log_->Append(std::forward<Encode>(encode));
  }

 private:
  friend class ShardSet;
  ShardRef(size_t index, storage::ShardLog* log) : index_(index), log_(log) {}
  size_t index_;
  storage::ShardLog* log_;
};

class ShardSet {
 public:
  ShardSet() {
    for (size_t i = 0; i < kShardCount; ++i) shards_[i] = std::make_unique<Shard>(static_cast<uint16_t>(i));
  }
  ShardSet(const ShardSet&) = delete;
  ShardSet& operator=(const ShardSet&) = delete;

  static size_t ShardOf(std::string_view routing_key) { return StableHash(routing_key) % kShardCount; }

  // The shards' log buffers in shard order, for the group-commit writer;
  // then AttachWal with that writer (whose health Write checks).
  std::vector<storage::ShardLog*> logs() {
    std::vector<storage::ShardLog*> out;
    for (auto& shard : shards_) out.push_back(&shard->log);
    return out;
  }
  void AttachWal(const storage::WalWriter& wal) { wal_ = &wal; }
  // Whether the log takes writes now (background writers check it first).
  bool writable() const { return wal_->write_state() == storage::WriteState::kOk; }

  // The prologue of a mutating op: kDiskFull while the disk is full,
  // kStorageFailed once the log has failed (fail closed), else fn(ShardRef) under the routing key's shard lock.
  // fn returns an OpResult<T>.
  template <typename Fn>
  auto Write(std::string_view routing_key, Fn&& fn) {
    using Result = std::invoke_result_t<Fn, const ShardRef&>;
    switch (wal_->write_state()) {
      case storage::WriteState::kOk:
        break;
      case storage::WriteState::kDiskFull:
        return Result::Error(OpStatus::kDiskFull);
      case storage::WriteState::kFailed:
        return Result::Error(OpStatus::kStorageFailed);
    }
    return Locked(ShardOf(routing_key), std::forward<Fn>(fn));
  }
  // fn(ShardRef) under the routing key's shard lock; for reads (no log append).
  template <typename Fn>
  auto Read(std::string_view routing_key, Fn&& fn) {
    return Locked(ShardOf(routing_key), std::forward<Fn>(fn));
  }
  // fn(ShardRef) under shard `index`'s lock: passes over every shard
  // (CTR.TOP, statistics) and compaction.
  template <typename Fn>
  auto Locked(size_t index, Fn&& fn) {
    Shard& shard = *shards_[index];
    std::lock_guard<std::mutex> lock(shard.mu);
    const ShardRef ref(index, &shard.log);
    return fn(ref);
  }
  // A ShardRef without the lock, for recovery only: it runs before anything
  // else may touch the engine.
  ShardRef Exclusive(size_t index) { return ShardRef(index, &shards_[index]->log); }

  // REQUIRE the shard's lock (the ShardRef).
  storage::ShardLog& log(const ShardRef& shard) { return shards_[shard.index()]->log; }
  uint64_t checkpoint(const ShardRef& shard) const { return shards_[shard.index()]->checkpoint; }
  void set_checkpoint(const ShardRef& shard, uint64_t seq) { shards_[shard.index()]->checkpoint = seq; }

 private:
  struct Shard {
    explicit Shard(uint16_t index) : log(index) {}
    std::mutex mu;
    // State below, and element `index` of every module's per-shard array, is
    // protected by mu.
    storage::ShardLog log;    // appended under mu (it has its own mutex for the writer's side)
    uint64_t checkpoint = 0;  // the last sequence compaction folded into the compacted families
  };
  std::array<std::unique_ptr<Shard>, kShardCount> shards_;
  const storage::WalWriter* wal_ = nullptr;  // set once by AttachWal, before any op
};

}  // namespace tally::core
