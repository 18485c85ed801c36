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
// Atomically(mask, fn) runs fn with several shards locked at once (MULTI/EXEC,
// a script, MSET, FLUSHDB): the shards of `mask` are locked in index order
// (so two atomic ops never deadlock) and the log's commit group is held, so
// every entry appended inside reaches the disk in one RocksDB write. While it
// runs, the thread's ops on those shards (Write, Read, Locked) go straight to
// fn without locking again; an op on a shard outside the mask throws
// ShardNotHeld rather than lock it out of order (callers check a command's
// keys first: commands::ShardsTouched).
//
// Thread-safety: Write, Read, Locked and Atomically may be called from any thread.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
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

// Shards as a bit set: bit i is shard i.
using ShardMask = uint64_t;
static_assert(kShardCount == 64, "a ShardMask has one bit per shard");
inline constexpr ShardMask kAllShards = ~ShardMask{0};

// An op reached for a shard its atomic scope does not hold (a programming
// error: the caller must check a command's shards before running it).
class ShardNotHeld : public std::logic_error {
 public:
  explicit ShardNotHeld(size_t shard)
      : std::logic_error("shard " + std::to_string(shard) + " is not held by this atomic operation") {}
};

// The atomic scope this thread runs in (ShardSet::Atomically), if any.
struct AtomicScope {
  bool active = false;
  ShardMask held = 0;
};
inline AtomicScope& ThreadAtomicScope() {
  thread_local AtomicScope scope;
  return scope;
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
  static ShardMask MaskOf(std::string_view routing_key) { return ShardMask{1} << ShardOf(routing_key); }

  template <typename Fn>
  auto Write(std::string_view routing_key, Fn&& fn) {
    using Result = std::invoke_result_t<Fn, const ShardRef&>;
    // Inside an atomic scope the scope's caller checked the log once for
    // the whole group: an op must not be refused half-way through it.
    if (ThreadAtomicScope().active) [[unlikely]] {
      return Locked(ShardOf(routing_key), std::forward<Fn>(fn));
    }
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
    if (const AtomicScope& scope = ThreadAtomicScope(); scope.active) [[unlikely]] {
      if (((scope.held >> index) & 1) == 0) throw ShardNotHeld(index);
      const ShardRef ref(index, &shard.log);
      return fn(ref);
    }
    std::lock_guard<std::mutex> lock(shard.mu);
    const ShardRef ref(index, &shard.log);
    return fn(ref);
  }

  // fn() with every shard of `mask` locked and the log's commit group held
  // (see the header comment). Nested inside another scope, fn runs in that
  // one (ShardNotHeld if `mask` asks for more). Returns fn's result.
  template <typename Fn>
  auto Atomically(ShardMask mask, Fn&& fn) {
    AtomicScope& scope = ThreadAtomicScope();
    if (scope.active) {
      if ((mask & ~scope.held) != 0) throw ShardNotHeld(static_cast<size_t>(__builtin_ctzll(mask & ~scope.held)));
      return fn();
    }
    // Unlocks in reverse and leaves the scope even when fn throws.
    struct Guard {
      ShardSet& set;
      ShardMask mask;
      AtomicScope& scope;
      Guard(ShardSet& s, ShardMask m, AtomicScope& sc) : set(s), mask(m), scope(sc) {
        set.wal_->BeginGroup();
        for (ShardMask rest = mask; rest != 0; rest &= rest - 1) set.shards_[__builtin_ctzll(rest)]->mu.lock();
        scope.active = true;
        scope.held = mask;
      }
      ~Guard() {
        scope.active = false;
        scope.held = 0;
        for (size_t i = kShardCount; i-- > 0;) {
          if ((mask >> i) & 1) set.shards_[i]->mu.unlock();
        }
        set.wal_->EndGroup();
      }
      Guard(const Guard&) = delete;
      Guard& operator=(const Guard&) = delete;
    } guard(*this, mask, scope);
    return fn();
  }
  // The shards this thread's atomic scope holds; 0 outside one.
  static ShardMask HeldShards() {
    const AtomicScope& scope = ThreadAtomicScope();
    return scope.active ? scope.held : 0;
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
