#pragma once
// The RocksDB database behind tally, with one column family per kind of data
// (see storage/FORMAT.md for every key and value). This header keeps RocksDB
// out of its users: only store.cc includes RocksDB.
//
// Thread-safe: RocksDB serialises writers internally (and groups concurrent
// writes into one log write), readers never block.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/status.h"

namespace tally::storage {

enum class Family : int {
  kLog = 0,  // write-ahead log blobs: (shard, first seq) -> entries
  kKv,       // plain Redis-compatible keys: key -> (expiry, value)
  kMeta,     // checkpoints and settings
  kCells,    // counter rollup cells: (owner, key, interval, period) -> value
  kByKey,    // index of cells by key: (key, interval, period, owner) -> value
  kOwners,   // owner -> settings (time zone)
  kDedupe,   // (owner, event id) -> expiry
  kChanges,  // changefeed: last seq of a blob -> change records (storage/feed_format.h)
  kAudit,    // audit trail: last seq of a blob -> audit records
  kPlans,    // plan name -> plan (quota module)
  kQuotas,   // owner -> the owner's quota state: plan, anchor, accounts, grants, holds
  kLedger,   // owner 0x00 index(u64 BE) -> one credit ledger row
  kAlerts,   // alert log: last seq of a blob -> alert records (as audit records)
  kUniq,     // distinct-count cells (UNIQ.*): (owner, key, interval, period) -> DistinctSketch bytes
  kByValue,  // index for CTR.TOP in value order: (key, interval, period, value desc, owner) -> ""
  kCount
};

// Decides during RocksDB's own compactions which entries have outlived their
// retention (cells past their interval's retention, expired event ids).
// DropCell judges the rows of both cell families, `cells` and `uniq`: their
// keys have the same layout. DropIndexEntry judges the entries of the cells'
// indexes, `by_key` and `by_value` (key, interval, period first), so that an
// expired cell's entries go with it instead of staying forever.
class RetentionPolicy {
 public:
  virtual ~RetentionPolicy() = default;
  virtual bool DropCell(std::string_view key, std::string_view value) const = 0;
  virtual bool DropIndexEntry(std::string_view key) const = 0;
  virtual bool DropDedupe(std::string_view key, std::string_view value) const = 0;
};

struct StoreOptions {
  std::string path;
  const RetentionPolicy* retention = nullptr;  // must outlive the Store
  size_t block_cache_bytes = 64ull << 20;
  // The memory budget (the memory_limit setting): when non-zero, one block
  // cache of this size serves both instances, and every memtable is charged
  // to it (RocksDB's WriteBufferManager, at most half of it), so blocks and
  // memtables together stay within it; block_cache_bytes is then unused.
  // 0: a block cache of block_cache_bytes and memtables bounded per family
  // only (tests).
  size_t memory_limit_bytes = 0;
  bool create_if_missing = true;
  // Opens both instances read-only (tally-admin verify on a backup or a
  // stopped data dir): no data is written (RocksDB adds only its LOG text
  // file), no RocksDB log is replayed into table files, every write fails.
  bool read_only = false;
  // TEST ONLY (storage/fault_fs.h): a control file that injects write faults.
  std::string fault_control_path;
};

// A group of writes applied atomically by Store::Write.
class Store;
class WriteBatch {
 public:
  explicit WriteBatch(Store& store);
  ~WriteBatch();
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  void Put(Family family, std::string_view key, std::string_view value);
  void Delete(Family family, std::string_view key);
  void DeleteRange(Family family, std::string_view begin, std::string_view end);  // [begin, end)
  size_t count() const;
  size_t bytes() const;
  void Clear();

 private:
  friend class Store;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class Store {
 public:
  // Opens (creating if asked) the database. A second process on the same path
  // gets Busy with a message naming the lock.
  static StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Atomic for every family but the log, which lives in a RocksDB instance
  // of its own: a batch holding both writes the other families first (with
  // fsync), then its log part. Compaction relies on exactly that order (the
  // checkpoint, then the trim of what it covers); the group-commit writer
  // writes only the log. With `sync` the call returns after fsync.
  Status Write(WriteBatch& batch, bool sync);

  // A consistent view of every family but the log (a RocksDB snapshot): the
  // reads given the same view see the data as it was when View() was called,
  // whatever is written meanwhile. Reads without a view see the latest data.
  class ReadView {
   public:
    ~ReadView();
    ReadView(const ReadView&) = delete;
    ReadView& operator=(const ReadView&) = delete;

   private:
    friend class Store;
    ReadView(Store& store, const void* snapshot) : store_(store), snapshot_(snapshot) {}
    Store& store_;
    const void* snapshot_;  // a rocksdb::Snapshot of the main instance
  };
  std::unique_ptr<ReadView> View();

  StatusOr<std::optional<std::string>> Get(Family family, std::string_view key, const ReadView* view = nullptr);
  // Point reads of many keys at once (sorted internally; one RocksDB MultiGet),
  // in the order of `keys`. The first failure is returned.
  StatusOr<std::vector<std::optional<std::string>>> MultiGet(Family family, const std::vector<std::string>& keys);

  // Visits keys in [begin, end) in order (end empty = to the end of the family).
  // The visitor returns false to stop. Reads a consistent snapshot.
  using Visitor = std::function<bool(std::string_view key, std::string_view value)>;
  // kShort (a counter's cells, a history): through the block cache, no
  // readahead. kBulk (recovery, an index over every owner): large readahead
  // and no cache fill, so one pass over much data neither reads it in small
  // pieces nor evicts the hot blocks.
  enum class ScanMode { kShort, kBulk };
  Status Scan(Family family, std::string_view begin, std::string_view end, const Visitor& visit,
              ScanMode mode = ScanMode::kShort, const ReadView* view = nullptr);

  // An iterator over [begin, end) of a family that the caller advances, for
  // reading several ranges side by side (CTR.TOP over a range of periods
  // walks one cursor per period). Valid() is false at the end and on a read
  // failure; status() tells which.
  class Cursor {
   public:
    virtual ~Cursor() = default;
    virtual bool Valid() const = 0;
    virtual std::string_view key() const = 0;
    virtual std::string_view value() const = 0;
    virtual void Next() = 0;
    virtual Status status() const = 0;
  };
  std::unique_ptr<Cursor> OpenCursor(Family family, std::string_view begin, std::string_view end,
                                     const ReadView* view = nullptr);

  // Like Scan, but the visitor may set *seek_to (non-empty) to jump forward
  // to that key instead of stepping to the next one (to visit one entry per
  // prefix, e.g. one per counter).
  using SeekingVisitor = std::function<bool(std::string_view key, std::string_view value, std::string* seek_to)>;
  Status ScanSeeking(Family family, std::string_view begin, const SeekingVisitor& visit,
                     const ReadView* view = nullptr);

  // fsync RocksDB's log (durability=process does this every fsync_interval_ms).
  // After a failed write to an instance it returns that failure without
  // syncing until Resume succeeds: RocksDB 7.8 aborts (an assertion) when its
  // log file is synced after a failed append.
  Status SyncLog();
  // After a failed write: DB::Resume() of each instance a write failed on
  // (RocksDB flushes its memtables and moves to a fresh log file). Ok when
  // both instances take writes again.
  Status Resume();
  // Flushes memtables to SST files (used at clean shutdown so restart is quick).
  Status FlushMemtables();

  // An online copy of both instances (RocksDB checkpoints: hard links to the
  // table files where `target` is on the same file system, copies
  // elsewhere): `target` receives the main instance and LogPath(target) the
  // log's. `target` must not exist. The main instance is copied first, then
  // the log: a caller that keeps compaction (whose trims delete log entries)
  // from running in between gets a copy whose log holds every entry above
  // the checkpoints in its main instance, and every entry acknowledged
  // before the call.
  Status Checkpoint(const std::string& target);
  // Reads every table file of both instances and checks each block against
  // its checksum (RocksDB's VerifyChecksum). Slow: a full read of the data.
  Status VerifyChecksums();

  // Runs RocksDB's compaction over a whole family now (retention filters run
  // during it; tools and tests use this, the daemon leaves it to RocksDB).
  Status CompactFamily(Family family);

  // Bytes held by RocksDB memtables over all families (malloc'd memory that
  // is RocksDB's, not tally's).
  uint64_t MemtableBytes();
  // The shared block cache: its capacity, and what it holds now (blocks,
  // plus the memtables charged to it under a memory budget).
  uint64_t CacheCapacityBytes() const;
  uint64_t CacheUsageBytes() const;

  // Approximate on-disk bytes of a family (for INFO and metrics).
  uint64_t ApproximateSize(Family family);
  const std::string& path() const { return path_; }
  // Where the log family's own RocksDB instance lives, next to `path`.
  static std::string LogPath(const std::string& path);

  // Test hook (damage tests): the live table files of `family`, with the
  // bytes of their data blocks (which lie at the start of each file).
  struct TableFile {
    std::string path;
    uint64_t data_bytes = 0;
  };
  std::vector<TableFile> TEST_TableFiles(Family family);

  // Test hook: writes into the main instance's log family, where data dirs
  // from before the split kept the log (they move to LogPath at open).
  Status TEST_PutLegacyLog(std::string_view key, std::string_view value);

 private:
  friend class WriteBatch;
  struct Impl;
  static Status MoveLegacyLog(Impl& impl);
  explicit Store(std::unique_ptr<Impl> impl, std::string path);
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

std::string_view FamilyName(Family family);

}  // namespace tally::storage
