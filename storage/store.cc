#include "storage/store.h"

#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/table_properties.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>
#include "storage/disk_reserve.h"

#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "storage/data_dir_checks.h"
#include "storage/disk_reserve.h"
#include "storage/fault_fs.h"
#include "storage/info_log.h"

namespace tally::storage {
namespace {

constexpr std::string_view kFamilyNames[] = {"log",    "kv",     "meta",    "cells", "by_key",
                                             "owners", "dedupe", "changes", "audit", "plans",
                                             "quotas", "ledger", "alerts",  "uniq",  "by_value"};
static_assert(std::size(kFamilyNames) == static_cast<size_t>(Family::kCount));

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

// The one place a rocksdb::Status becomes a tally Status.
Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return Status::NotFound(s.ToString());
  if (s.IsCorruption()) return Status::Corruption(s.ToString());
  if (s.IsNoSpace() || s.subcode() == rocksdb::Status::kNoSpace) return Status::NoSpace(s.ToString());
  if (s.IsInvalidArgument()) return Status::InvalidArgument(s.ToString());
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return Status::Busy(s.ToString() + " (is another tallyd running on this data dir?)");
  }
  if (s.IsBusy() || s.IsTryAgain()) return Status::Busy(s.ToString());
  return Status::IoError(s.ToString());
}

class RetentionFilter final : public rocksdb::CompactionFilter {
 public:
  RetentionFilter(const RetentionPolicy* policy, Family family) : policy_(policy), family_(family) {}
  bool Filter(int, const rocksdb::Slice& key, const rocksdb::Slice& value, std::string*, bool*) const override {
    std::string_view k(key.data(), key.size()), v(value.data(), value.size());
    switch (family_) {
      case Family::kDedupe:
        return policy_->DropDedupe(k, v);
      case Family::kByKey:
      case Family::kByValue:
        return policy_->DropIndexEntry(k);
      default:
        return policy_->DropCell(k, v);
    }
  }
  const char* Name() const override { return "tally.retention"; }

 private:
  const RetentionPolicy* policy_;
  Family family_;
};

}  // namespace

std::string_view FamilyName(Family family) { return kFamilyNames[static_cast<int>(family)]; }

// Two RocksDB instances: `db` holds every family but the log; `log_db`
// holds the write-ahead log family alone. RocksDB has one write queue per
// instance, so the log writes that replies wait for never queue behind a
// compaction batch of thousands of cells (which took tens of milliseconds
// and set the p99 of every write; docs/benchmarks.md).
//
// Each instance has a WriteGuard: writes hold it shared, SyncLog and Resume
// exclusively. A failed write is recorded before its shared hold ends, so no
// sync ever reaches a log file whose append failed (RocksDB 7.8 asserts
// `sync_without_flush_called_` there and aborts) until Resume has moved the
// instance to a fresh log file.
struct WriteGuard {
  std::shared_mutex mu;
  std::mutex failure_mu;
  Status failure;  // guarded by failure_mu; Ok = writes go on
  uint64_t failed_log_number = 0;
  uint64_t resumes = 0;  // under mu, exclusively

  void RecordFailure(rocksdb::DB* db, const Status& s) {
    std::unique_ptr<rocksdb::LogFile> current;
    uint64_t log_number = 0;
    if (db->GetCurrentWalFile(&current).ok() && current) log_number = current->LogNumber();
    std::lock_guard<std::mutex> lock(failure_mu);
    if (failure.ok()) {
      failure = s;
      failed_log_number = log_number;
    }
  }
  Status Failure() {
    std::lock_guard<std::mutex> lock(failure_mu);
    return failure;
  }
};

// Written to an instance's default family after each Resume (Store::Resume).
constexpr const char* kResumeMarkerKey = "tally/resume-marker";
// Free space beyond the memtables' size that Store::Resume waits for.
constexpr uint64_t kResumeHeadroomBytes = 1 << 20;

// A failed write worth guarding against: the instance may hold a log file
// whose append failed. (Busy and invalid arguments touch no file.)
bool IsWriteFault(const Status& s) {
  return s.code() == Status::Code::kIoError || s.code() == Status::Code::kNoSpace ||
         s.code() == Status::Code::kCorruption;
}

// RocksDB recovers from a full disk on its own by default (its
// SstFileManager polls the free space every 5 s and holds DB::Resume() busy
// meanwhile). tally resumes itself instead (Engine::TryResumeWrites: room for
// the reserve twice over, then Resume, then the kept log entries), so the
// moment writes come back is tally's, and never a race between the two.
class NoAutoRecovery final : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status bg_error, bool* auto_recovery) override {
    bg_error.PermitUncheckedError();
    *auto_recovery = false;
  }
};

struct Store::Impl {
  // TEST ONLY: the fault-injecting Env (storage/fault_fs.h); outlives the DBs.
  std::unique_ptr<rocksdb::Env> fault_env;
  std::shared_ptr<rocksdb::Cache> cache;  // the block cache both instances share

  WriteGuard main_guard;
  WriteGuard log_guard;
  std::unique_ptr<rocksdb::CompactionFilter> cells_filter;
  std::unique_ptr<rocksdb::CompactionFilter> dedupe_filter;
  std::unique_ptr<rocksdb::CompactionFilter> uniq_filter;    // the cells' retention, on distinct-count cells
  std::unique_ptr<rocksdb::CompactionFilter> by_key_filter;  // ... and on the cells' index entries
  std::unique_ptr<rocksdb::CompactionFilter> by_value_filter;
  std::unique_ptr<rocksdb::DB> db;
  std::unique_ptr<rocksdb::DB> log_db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // by Family; kLog's is log_db's
  // The log family inside `db` from data dirs written before the split; its
  // entries move to log_db at open, then it stays empty.
  rocksdb::ColumnFamilyHandle* legacy_log = nullptr;

  rocksdb::DB* DbOf(Family family) const { return family == Family::kLog ? log_db.get() : db.get(); }
  rocksdb::ColumnFamilyHandle* HandleOf(Family family) const { return handles[static_cast<int>(family)]; }

  ~Impl() {
    for (size_t i = 0; i < handles.size(); ++i) {
      rocksdb::DB* owner = DbOf(static_cast<Family>(i));
      if (handles[i] != nullptr && owner != nullptr) owner->DestroyColumnFamilyHandle(handles[i]);
    }
    if (legacy_log != nullptr && db) db->DestroyColumnFamilyHandle(legacy_log);
    if (log_db) log_db->Close();
    if (db) db->Close();
  }
};

struct WriteBatch::Impl {
  rocksdb::WriteBatch main;  // for Store::Impl::db
  rocksdb::WriteBatch log;   // for Store::Impl::log_db
  const Store::Impl* store;
  rocksdb::WriteBatch& For(Family family) { return family == Family::kLog ? log : main; }
  rocksdb::ColumnFamilyHandle* Of(Family family) const { return store->HandleOf(family); }
};

WriteBatch::WriteBatch(Store& store) : impl_(std::make_unique<Impl>()) { impl_->store = store.impl_.get(); }
WriteBatch::~WriteBatch() = default;

void WriteBatch::Put(Family family, std::string_view key, std::string_view value) {
  impl_->For(family).Put(impl_->Of(family), ToSlice(key), ToSlice(value));
}
void WriteBatch::Delete(Family family, std::string_view key) {
  impl_->For(family).Delete(impl_->Of(family), ToSlice(key));
}
void WriteBatch::DeleteRange(Family family, std::string_view begin, std::string_view end) {
  impl_->For(family).DeleteRange(impl_->Of(family), ToSlice(begin), ToSlice(end));
}
size_t WriteBatch::count() const { return impl_->main.Count() + impl_->log.Count(); }
size_t WriteBatch::bytes() const { return impl_->main.GetDataSize() + impl_->log.GetDataSize(); }
void WriteBatch::Clear() {
  impl_->main.Clear();
  impl_->log.Clear();
}

Store::Store(std::unique_ptr<Impl> impl, std::string path) : impl_(std::move(impl)), path_(std::move(path)) {}
Store::~Store() = default;

StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing && !options.read_only;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  // Required by the log family's vector memtable; tally's log writes are
  // serialised by the group-commit writer anyway.
  db_options.allow_concurrent_memtable_write = false;
  // Opening is dominated by starting file-opening threads; a few are plenty.
  db_options.max_file_opening_threads = 4;
  db_options.bytes_per_sync = 1 << 20;
  // The write-ahead log is RocksDB's; keep enough of it for large batches.
  db_options.max_total_wal_size = 256ull << 20;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.listeners.push_back(std::make_shared<NoAutoRecovery>());
  // No preallocation: RocksDB reserves each new log file's first 70 MiB with
  // fallocate and ignores a failure, so on a full disk the appends to the
  // older, preallocated file go on and the first write to the next one
  // fails. A log file whose only write failed is never left by DB::Resume()
  // in RocksDB 7.8 (it moves on only from a non-empty one), so writes would
  // stay refused until a restart. Without preallocation a full disk fails
  // the next append, nearly always inside a file that already holds records.
  db_options.allow_fallocate = false;
  // Each instance's recovery mode comes from PrepareWalRecovery below: a torn
  // last write is dropped, damage anywhere else refuses the open.
  db_options.paranoid_checks = true;

  // The memory budget: memtables are charged to the block cache (at most
  // half of it; a family whose memtables pass that is flushed early), so
  // both stay within one figure. Each memtable is then at most an eighth of
  // it, so that no single family can take the memtables' half alone.
  const size_t cache_bytes = options.memory_limit_bytes > 0 ? options.memory_limit_bytes : options.block_cache_bytes;
  auto cache = rocksdb::NewLRUCache(cache_bytes);
  size_t memtable_bytes = 64ull << 20;
  if (options.memory_limit_bytes > 0) {
    db_options.write_buffer_manager =
        std::make_shared<rocksdb::WriteBufferManager>(options.memory_limit_bytes / 2, cache);
    memtable_bytes = std::min<size_t>(memtable_bytes, std::max<size_t>(options.memory_limit_bytes / 8, 1 << 20));
  }
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));

  auto impl = std::make_unique<Impl>();
  impl->cache = cache;
  if (!options.fault_control_path.empty()) {
    impl->fault_env = NewFaultInjectingEnv(options.fault_control_path);
    db_options.env = impl->fault_env.get();
  }
  if (options.retention != nullptr) {
    impl->cells_filter = std::make_unique<RetentionFilter>(options.retention, Family::kCells);
    impl->dedupe_filter = std::make_unique<RetentionFilter>(options.retention, Family::kDedupe);
    impl->uniq_filter = std::make_unique<RetentionFilter>(options.retention, Family::kUniq);
    impl->by_key_filter = std::make_unique<RetentionFilter>(options.retention, Family::kByKey);
    impl->by_value_filter = std::make_unique<RetentionFilter>(options.retention, Family::kByValue);
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  rocksdb::ColumnFamilyOptions default_cf;
  default_cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // RocksDB's write stalls are database-wide: a burst of compaction output
  // into the cells families must not slow the log writes that replies wait
  // for. Larger memtables and later L0 triggers keep stalls away.
  default_cf.write_buffer_size = memtable_bytes;
  default_cf.max_write_buffer_number = 4;
  default_cf.level0_slowdown_writes_trigger = 40;
  default_cf.level0_stop_writes_trigger = 64;
  default_cf.soft_pending_compaction_bytes_limit = 256ull << 30;
  default_cf.hard_pending_compaction_bytes_limit = 1024ull << 30;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, default_cf);
  for (int i = 0; i < static_cast<int>(Family::kCount); ++i) {
    rocksdb::ColumnFamilyOptions cf = default_cf;
    if (static_cast<Family>(i) == Family::kLog) {
      // Log blobs are written once, read at recovery, then deleted by range.
      cf.write_buffer_size = memtable_bytes;
      // Appends, never point reads: a vector memtable makes each insert O(1)
      // instead of a skiplist search (sorted once, when flushed or iterated).
      cf.memtable_factory.reset(new rocksdb::VectorRepFactory());
    }
    if (static_cast<Family>(i) == Family::kCells) cf.compaction_filter = impl->cells_filter.get();
    if (static_cast<Family>(i) == Family::kDedupe) cf.compaction_filter = impl->dedupe_filter.get();
    if (static_cast<Family>(i) == Family::kUniq) cf.compaction_filter = impl->uniq_filter.get();
    if (static_cast<Family>(i) == Family::kByKey) cf.compaction_filter = impl->by_key_filter.get();
    if (static_cast<Family>(i) == Family::kByValue) cf.compaction_filter = impl->by_value_filter.get();
    descriptors.emplace_back(std::string(kFamilyNames[i]), cf);
  }

  const rocksdb::ColumnFamilyOptions log_family_options = descriptors[1 + static_cast<int>(Family::kLog)].options;
  // A data dir from a newer tally may hold families this version does not know.
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(db_options, options.path, &existing).ok()) {
    for (const std::string& name : existing) {
      if (name != rocksdb::kDefaultColumnFamilyName &&
          std::find(std::begin(kFamilyNames), std::end(kFamilyNames), name) == std::end(kFamilyNames)) {
        return Status::Corruption("unexpected column family '" + name + "' in " + options.path +
                                  ": not a tally data dir of this version");
      }
    }
  }

  // A data dir is whole or refused (data_dir_checks.h): never a fresh start
  // on one instance whose partner is missing or from another data dir.
  const bool main_existed = InstanceExists(options.path);
  const bool log_existed = InstanceExists(LogPath(options.path));
  Status checked = CheckInstancesPresent(options.path, main_existed, log_existed);
  rocksdb::DBOptions main_options = db_options;
  // RocksDB's default logger aborts the process on a full disk (info_log.h).
  constexpr size_t kInfoLogMaxBytes = 16 << 20;
  main_options.info_log = MakeInfoLog(options.path, static_cast<int>(db_options.info_log_level), kInfoLogMaxBytes);
  if (checked.ok()) checked = PrepareWalRecovery(options.path, Instance::kMain, &main_options);
  if (!checked.ok()) return checked;

  // Read-only, the families a data dir from an older tally lacks (it would
  // create them when opened for writing) are left out: reads of them find
  // nothing.
  std::vector<int> opened_families;  // Family of descriptors[i + 1]
  if (options.read_only) {
    std::vector<rocksdb::ColumnFamilyDescriptor> present{descriptors[0]};
    for (int i = 0; i < static_cast<int>(Family::kCount); ++i) {
      if (std::find(existing.begin(), existing.end(), kFamilyNames[i]) == existing.end()) continue;
      present.push_back(descriptors[i + 1]);
      opened_families.push_back(i);
    }
    descriptors.swap(present);
  } else {
    for (int i = 0; i < static_cast<int>(Family::kCount); ++i) opened_families.push_back(i);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = options.read_only
                          ? rocksdb::DB::OpenForReadOnly(main_options, options.path, descriptors, &handles, &raw)
                          : rocksdb::DB::Open(main_options, options.path, descriptors, &handles, &raw);
  if (!s.ok()) return s.IsCorruption() ? ExplainOpenFailure(options.path, Instance::kMain, s) : FromRocks(s);
  impl->db.reset(raw);
  // handles[0] is the default family, which tally does not use.
  impl->db->DestroyColumnFamilyHandle(handles[0]);
  impl->handles.assign(static_cast<size_t>(Family::kCount), nullptr);
  for (size_t i = 0; i < opened_families.size(); ++i) impl->handles[opened_families[i]] = handles[i + 1];
  impl->legacy_log = impl->handles[static_cast<int>(Family::kLog)];
  auto main_id = ReadDataDirId(*impl->db);
  if (!main_id.ok()) return main_id.status();
  checked = CheckLogPresent(options.path, log_existed, main_id.value());
  rocksdb::DBOptions log_options = db_options;
  log_options.info_log =
      MakeInfoLog(LogPath(options.path), static_cast<int>(db_options.info_log_level), kInfoLogMaxBytes);
  if (checked.ok()) checked = PrepareWalRecovery(options.path, Instance::kLog, &log_options);
  if (!checked.ok()) return checked;

  // The log's own instance, next to the main one: "<path>-log".
  std::vector<rocksdb::ColumnFamilyDescriptor> log_descriptors;
  log_descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, default_cf);
  log_descriptors.emplace_back(std::string(kFamilyNames[static_cast<int>(Family::kLog)]), log_family_options);
  std::vector<rocksdb::ColumnFamilyHandle*> log_handles;
  rocksdb::DB* log_raw = nullptr;
  s = options.read_only
          ? rocksdb::DB::OpenForReadOnly(log_options, LogPath(options.path), log_descriptors, &log_handles, &log_raw)
          : rocksdb::DB::Open(log_options, LogPath(options.path), log_descriptors, &log_handles, &log_raw);
  if (!s.ok()) return s.IsCorruption() ? ExplainOpenFailure(options.path, Instance::kLog, s) : FromRocks(s);
  impl->log_db.reset(log_raw);
  impl->log_db->DestroyColumnFamilyHandle(log_handles[0]);
  impl->handles[static_cast<int>(Family::kLog)] = log_handles[1];
  checked = ReconcileDataDirIds(options.path, *impl->db, main_id.value(), *impl->log_db);
  if (!checked.ok()) return checked;

  if (options.read_only) return std::unique_ptr<Store>(new Store(std::move(impl), options.path));
  Status moved = MoveLegacyLog(*impl);
  if (!moved.ok()) return moved;
  return std::unique_ptr<Store>(new Store(std::move(impl), options.path));
}

std::string Store::LogPath(const std::string& path) { return path + "-log"; }

Status Store::TEST_PutLegacyLog(std::string_view key, std::string_view value) {
  return FromRocks(impl_->db->Put(rocksdb::WriteOptions(), impl_->legacy_log, ToSlice(key), ToSlice(value)));
}

std::vector<Store::TableFile> Store::TEST_TableFiles(Family family) {
  rocksdb::TablePropertiesCollection tables;
  std::vector<TableFile> files;
  if (!impl_->DbOf(family)->GetPropertiesOfAllTables(impl_->HandleOf(family), &tables).ok()) return files;
  for (const auto& [path, properties] : tables) files.push_back({path, properties->data_size});
  return files;
}

// Data dirs written before the log had its own instance keep log entries in
// the main instance's log family: copy them over (the same keys: copying
// twice after a crash here is harmless), make the copy durable, then drop
// them from the old place.
Status Store::MoveLegacyLog(Impl& impl) {
  std::unique_ptr<rocksdb::Iterator> it(impl.db->NewIterator(rocksdb::ReadOptions(), impl.legacy_log));
  it->SeekToFirst();
  if (!it->Valid()) return FromRocks(it->status());
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::WriteBatch batch;
  for (; it->Valid(); it->Next()) {
    batch.Put(impl.HandleOf(Family::kLog), it->key(), it->value());
    if (batch.GetDataSize() > (16u << 20)) {
      rocksdb::Status s = impl.log_db->Write(sync, &batch);
      if (!s.ok()) return FromRocks(s);
      batch.Clear();
    }
  }
  if (!it->status().ok()) return FromRocks(it->status());
  rocksdb::Status s = impl.log_db->Write(sync, &batch);
  if (!s.ok()) return FromRocks(s);
  const std::string everything(16, '\xff');
  s = impl.db->DeleteRange(sync, impl.legacy_log, rocksdb::Slice(""), rocksdb::Slice(everything));
  return FromRocks(s);
}

Status Store::Write(WriteBatch& batch, bool sync) {
  rocksdb::WriteOptions write_options;
  write_options.sync = sync;
  WriteBatch::Impl& parts = *batch.impl_;
  auto guarded_write = [](WriteGuard& guard, rocksdb::DB* db, const rocksdb::WriteOptions& options,
                          rocksdb::WriteBatch* part) {
    std::shared_lock<std::shared_mutex> hold(guard.mu);
    Status s = FromRocks(db->Write(options, part));
    if (IsWriteFault(s)) guard.RecordFailure(db, s);
    return s;
  };
  if (parts.main.Count() > 0) {
    // A batch that also trims the log (compaction) makes its main part
    // durable first: the trim must never reach the disk without the
    // checkpoint and cells that replace what it deletes.
    rocksdb::WriteOptions main_options = write_options;
    main_options.sync = sync || parts.log.Count() > 0;
    Status s = guarded_write(impl_->main_guard, impl_->db.get(), main_options, &parts.main);
    if (!s.ok()) return s;
  }
  if (parts.log.Count() == 0) return Status::Ok();
  return guarded_write(impl_->log_guard, impl_->log_db.get(), write_options, &parts.log);
}

namespace {

rocksdb::ReadOptions ReadOptionsOf(const void* snapshot) {
  rocksdb::ReadOptions read_options;
  read_options.snapshot = static_cast<const rocksdb::Snapshot*>(snapshot);
  return read_options;
}

// The cursor over a family a read-only open left out (absent in an older
// data dir): always at its end.
class EmptyCursor final : public Store::Cursor {
 public:
  bool Valid() const override { return false; }
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  void Next() override {}
  Status status() const override { return Status::Ok(); }
};

class RocksCursor final : public Store::Cursor {
 public:
  RocksCursor(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, std::string_view begin, std::string_view end,
              const void* snapshot)
      : end_(end) {
    rocksdb::ReadOptions read_options = ReadOptionsOf(snapshot);
    if (!end_.empty()) {
      upper_ = rocksdb::Slice(end_);
      read_options.iterate_upper_bound = &upper_;
    }
    it_.reset(db->NewIterator(read_options, family));
    it_->Seek(ToSlice(begin));
  }
  bool Valid() const override { return it_->Valid(); }
  std::string_view key() const override { return {it_->key().data(), it_->key().size()}; }
  std::string_view value() const override { return {it_->value().data(), it_->value().size()}; }
  void Next() override { it_->Next(); }
  Status status() const override { return FromRocks(it_->status()); }

 private:
  std::string end_;  // iterate_upper_bound points into it: kept alive with the iterator
  rocksdb::Slice upper_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

}  // namespace

std::unique_ptr<Store::ReadView> Store::View() {
  return std::unique_ptr<ReadView>(new ReadView(*this, impl_->db->GetSnapshot()));
}

Store::ReadView::~ReadView() { store_.impl_->db->ReleaseSnapshot(static_cast<const rocksdb::Snapshot*>(snapshot_)); }

StatusOr<std::optional<std::string>> Store::Get(Family family, std::string_view key, const ReadView* view) {
  if (impl_->HandleOf(family) == nullptr) return std::optional<std::string>();
  std::string value;
  rocksdb::Status s = impl_->DbOf(family)->Get(ReadOptionsOf(view ? view->snapshot_ : nullptr), impl_->HandleOf(family),
                                               ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s);
  return std::optional<std::string>(std::move(value));
}

StatusOr<std::vector<std::optional<std::string>>> Store::MultiGet(Family family, const std::vector<std::string>& keys) {
  std::vector<std::optional<std::string>> out(keys.size());
  if (keys.empty() || impl_->HandleOf(family) == nullptr) return out;
  // RocksDB's batched MultiGet wants the keys sorted (it sorts otherwise, and
  // reads each data block once for the keys in it).
  std::vector<uint32_t> order(keys.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return keys[a] < keys[b]; });
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (uint32_t i : order) slices.push_back(ToSlice(keys[i]));
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  impl_->DbOf(family)->MultiGet(rocksdb::ReadOptions(), impl_->HandleOf(family), slices.size(), slices.data(),
                                values.data(), statuses.data(), /*sorted_input=*/true);
  for (size_t i = 0; i < order.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return FromRocks(statuses[i]);
    out[order[i]].emplace(values[i].data(), values[i].size());
  }
  return out;
}

std::unique_ptr<Store::Cursor> Store::OpenCursor(Family family, std::string_view begin, std::string_view end,
                                                 const ReadView* view) {
  if (impl_->HandleOf(family) == nullptr) return std::make_unique<EmptyCursor>();
  return std::make_unique<RocksCursor>(impl_->DbOf(family), impl_->HandleOf(family), begin, end,
                                       view ? view->snapshot_ : nullptr);
}

Status Store::Scan(Family family, std::string_view begin, std::string_view end, const Visitor& visit, ScanMode mode,
                   const ReadView* view) {
  if (impl_->HandleOf(family) == nullptr) return Status::Ok();
  rocksdb::ReadOptions read_options = ReadOptionsOf(view ? view->snapshot_ : nullptr);
  if (mode == ScanMode::kBulk) {
    read_options.fill_cache = false;
    read_options.readahead_size = 2 << 20;
  }
  rocksdb::Slice upper = ToSlice(end);
  if (!end.empty()) read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(impl_->DbOf(family)->NewIterator(read_options, impl_->HandleOf(family)));
  for (it->Seek(ToSlice(begin)); it->Valid(); it->Next()) {
    if (!visit(std::string_view(it->key().data(), it->key().size()),
               std::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  return FromRocks(it->status());
}

Status Store::ScanSeeking(Family family, std::string_view begin, const SeekingVisitor& visit, const ReadView* view) {
  if (impl_->HandleOf(family) == nullptr) return Status::Ok();
  rocksdb::ReadOptions read_options = ReadOptionsOf(view ? view->snapshot_ : nullptr);
  read_options.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(impl_->DbOf(family)->NewIterator(read_options, impl_->HandleOf(family)));
  std::string seek_to;
  for (it->Seek(ToSlice(begin)); it->Valid();) {
    seek_to.clear();
    if (!visit(std::string_view(it->key().data(), it->key().size()),
               std::string_view(it->value().data(), it->value().size()), &seek_to)) {
      break;
    }
    if (seek_to.empty()) {
      it->Next();
    } else {
      it->Seek(ToSlice(seek_to));
    }
  }
  return FromRocks(it->status());
}

Status Store::SyncLog() {
  for (auto [guard, db] : {std::pair{&impl_->log_guard, impl_->log_db.get()}, {&impl_->main_guard, impl_->db.get()}}) {
    std::unique_lock<std::shared_mutex> hold(guard->mu);
    Status failure = guard->Failure();
    if (!failure.ok()) return failure;
    Status s = FromRocks(db->SyncWAL());
    // A failed fsync poisons the log file just as a failed append does.
    if (!s.ok()) {
      guard->RecordFailure(db, s);
      return s;
    }
  }
  return Status::Ok();
}

Status Store::Resume() {
  for (auto [guard, db] : {std::pair{&impl_->log_guard, impl_->log_db.get()}, {&impl_->main_guard, impl_->db.get()}}) {
    std::unique_lock<std::shared_mutex> hold(guard->mu);
    if (guard->Failure().ok()) continue;
    // Busy while RocksDB's own recovery (its SstFileManager's, for a full
    // disk) runs: the caller tries again later.
    // Resume flushes the memtables and then needs a few bytes in a fresh log
    // file (below). If the flush took the last free block, that write fails
    // into an empty log file, which RocksDB 7.8 never moves past (the case
    // below): wait until the flush fits with room to spare.
    uint64_t memtable_bytes = 0;
    db->GetIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables, &memtable_bytes);
    auto free = DiskReserve::FreeBytes(db->GetName());
    if (free.ok() && *free < memtable_bytes + kResumeHeadroomBytes) {
      return Status::NoSpace(std::to_string(*free) + " bytes free in " + db->GetName() + ", resuming needs " +
                             std::to_string(memtable_bytes + kResumeHeadroomBytes));
    }
    Status s = FromRocks(db->Resume());
    if (!s.ok()) return s;
    // RocksDB 7.8 moves to a fresh log file only when some memtable holds
    // data (RocksDB issue #12998, fixed in 9.x); if it kept the file whose
    // append failed, the next append to it would abort the process. Then
    // writes stay refused until a restart.
    std::unique_ptr<rocksdb::LogFile> current;
    if (!db->GetCurrentWalFile(&current).ok() || !current || current->LogNumber() == guard->failed_log_number) {
      return Status::IoError("RocksDB kept the log file whose write failed in " + db->GetName() +
                             "; writes need a restart");
    }
    // Resume flushed every memtable. A write that fails next (the disk is
    // still nearly full) would leave them all empty and the fresh log file
    // failed: the case above. A few bytes in the default family keep one
    // memtable non-empty, so the next Resume moves to a fresh file again.
    s = FromRocks(db->Put(rocksdb::WriteOptions(), db->DefaultColumnFamily(), kResumeMarkerKey,
                          std::to_string(++guard->resumes)));
    std::lock_guard<std::mutex> lock(guard->failure_mu);
    if (!s.ok()) {
      // The fresh file's append failed now: it is the one to move past.
      guard->failure = s;
      guard->failed_log_number = current->LogNumber();
      return s;
    }
    guard->failure = Status::Ok();
  }
  return Status::Ok();
}

Status Store::FlushMemtables() {
  rocksdb::FlushOptions flush_options;
  flush_options.wait = true;
  std::vector<rocksdb::ColumnFamilyHandle*> main_handles;
  for (int i = 0; i < static_cast<int>(Family::kCount); ++i) {
    if (static_cast<Family>(i) != Family::kLog && impl_->handles[i] != nullptr)
      main_handles.push_back(impl_->handles[i]);
  }
  rocksdb::Status s = impl_->db->Flush(flush_options, main_handles);
  if (s.ok()) s = impl_->log_db->Flush(flush_options, impl_->HandleOf(Family::kLog));
  return FromRocks(s);
}

Status Store::Checkpoint(const std::string& target) {
  for (auto [db, dir] : {std::pair{impl_->db.get(), target}, std::pair{impl_->log_db.get(), LogPath(target)}}) {
    rocksdb::Checkpoint* raw = nullptr;
    rocksdb::Status s = rocksdb::Checkpoint::Create(db, &raw);
    std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
    // log_size_for_flush 0: memtables are flushed first, so the copy holds
    // table files and no RocksDB log to replay.
    if (s.ok()) s = checkpoint->CreateCheckpoint(dir, /*log_size_for_flush=*/0);
    if (!s.ok()) return FromRocks(s);
  }
  return Status::Ok();
}

Status Store::VerifyChecksums() {
  rocksdb::Status s = impl_->db->VerifyChecksum();
  if (s.ok()) s = impl_->log_db->VerifyChecksum();
  return FromRocks(s);
}

Status Store::CompactFamily(Family family) {
  rocksdb::CompactRangeOptions compact_options;
  compact_options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  if (impl_->HandleOf(family) == nullptr) return Status::Ok();
  return FromRocks(impl_->DbOf(family)->CompactRange(compact_options, impl_->HandleOf(family), nullptr, nullptr));
}

uint64_t Store::MemtableBytes() {
  uint64_t total = 0;
  for (int i = 0; i < static_cast<int>(Family::kCount); ++i) {
    uint64_t bytes = 0;
    if (impl_->handles[i] == nullptr) continue;
    impl_->DbOf(static_cast<Family>(i))->GetIntProperty(impl_->handles[i], "rocksdb.cur-size-all-mem-tables", &bytes);
    total += bytes;
  }
  return total;
}

uint64_t Store::CacheCapacityBytes() const { return impl_->cache ? impl_->cache->GetCapacity() : 0; }
uint64_t Store::CacheUsageBytes() const { return impl_->cache ? impl_->cache->GetUsage() : 0; }

uint64_t Store::ApproximateSize(Family family) {
  uint64_t size = 0;
  if (impl_->HandleOf(family) == nullptr) return 0;
  impl_->DbOf(family)->GetIntProperty(impl_->HandleOf(family), "rocksdb.estimate-live-data-size", &size);
  uint64_t memtable = 0;
  impl_->DbOf(family)->GetIntProperty(impl_->HandleOf(family), "rocksdb.cur-size-all-mem-tables", &memtable);
  return size + memtable;
}

}  // namespace tally::storage
