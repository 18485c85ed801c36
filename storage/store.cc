#include "storage/store.h"

#include <rocksdb/db.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/filter_policy.h>

#include <algorithm>
#include <vector>

namespace tally::storage {
namespace {

constexpr std::string_view kFamilyNames[] = {"log",    "kv",     "meta",    "cells", "by_key",
                                             "owners", "dedupe", "changes", "audit"};
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
    return family_ == Family::kDedupe ? policy_->DropDedupe(k, v) : policy_->DropCell(k, v);
  }
  const char* Name() const override { return "tally.retention"; }

 private:
  const RetentionPolicy* policy_;
  Family family_;
};

}  // namespace

std::string_view FamilyName(Family family) { return kFamilyNames[static_cast<int>(family)]; }


struct Store::Impl {
  std::unique_ptr<rocksdb::CompactionFilter> cells_filter;
  std::unique_ptr<rocksdb::CompactionFilter> dedupe_filter;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // by Family
  ~Impl() {
    for (auto* handle : handles) {
      if (handle != nullptr && db) db->DestroyColumnFamilyHandle(handle);
    }
    if (db) db->Close();
  }
};



struct WriteBatch::Impl {
  rocksdb::WriteBatch batch;
  const std::vector<rocksdb::ColumnFamilyHandle*>* handles;
  rocksdb::ColumnFamilyHandle* Of(Family family) const { return (*handles)[static_cast<int>(family)]; }
};

WriteBatch::WriteBatch(Store& store) : impl_(std::make_unique<Impl>()) { impl_->handles = &store.impl_->handles; }
WriteBatch::~WriteBatch() = default;

void WriteBatch::Put(Family family, std::string_view key, std::string_view value) {
  impl_->batch.Put(impl_->Of(family), ToSlice(key), ToSlice(value));
}
void WriteBatch::Delete(Family family, std::string_view key) { impl_->batch.Delete(impl_->Of(family), ToSlice(key)); }
void WriteBatch::DeleteRange(Family family, std::string_view begin, std::string_view end) {
  impl_->batch.DeleteRange(impl_->Of(family), ToSlice(begin), ToSlice(end));
}
size_t WriteBatch::count() const { return impl_->batch.Count(); }
size_t WriteBatch::bytes() const { return impl_->batch.GetDataSize(); }
void WriteBatch::Clear() { impl_->batch.Clear(); }

Store::Store(std::unique_ptr<Impl> impl, std::string path) : impl_(std::move(impl)), path_(std::move(path)) {}
Store::~Store() = default;

StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
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
  db_options.keep_log_file_num = 4;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;

  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));

  auto impl = std::make_unique<Impl>();
  if (options.retention != nullptr) {
    impl->cells_filter = std::make_unique<RetentionFilter>(options.retention, Family::kCells);
    impl->dedupe_filter = std::make_unique<RetentionFilter>(options.retention, Family::kDedupe);
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  rocksdb::ColumnFamilyOptions default_cf;
  default_cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // RocksDB's write stalls are database-wide: a burst of compaction output
  // into the cells families must not slow the log writes that replies wait
  // for. Larger memtables and later L0 triggers keep stalls away.
  default_cf.write_buffer_size = 64ull << 20;
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
      cf.write_buffer_size = 64ull << 20;
      // Appends, never point reads: a vector memtable makes each insert O(1)
      // instead of a skiplist search (sorted once, when flushed or iterated).
      cf.memtable_factory.reset(new rocksdb::VectorRepFactory());
    }
    if (static_cast<Family>(i) == Family::kCells) cf.compaction_filter = impl->cells_filter.get();
    if (static_cast<Family>(i) == Family::kDedupe) cf.compaction_filter = impl->dedupe_filter.get();
    descriptors.emplace_back(std::string(kFamilyNames[i]), cf);
  }

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

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &raw);
  if (!s.ok()) return FromRocks(s);
  impl->db.reset(raw);
  // handles[0] is the default family, which tally does not use.
  impl->db->DestroyColumnFamilyHandle(handles[0]);
  impl->handles.assign(handles.begin() + 1, handles.end());
  return std::unique_ptr<Store>(new Store(std::move(impl), options.path));
}

Status Store::Write(WriteBatch& batch, bool sync) {
  rocksdb::WriteOptions write_options;
  write_options.sync = sync;
  return FromRocks(impl_->db->Write(write_options, &batch.impl_->batch));
}

StatusOr<std::optional<std::string>> Store::Get(Family family, std::string_view key) {
  std::string value;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->handles[static_cast<int>(family)], ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s);
  return std::optional<std::string>(std::move(value));
}

Status Store::Scan(Family family, std::string_view begin, std::string_view end, const Visitor& visit,
                   ScanMode mode) {
  rocksdb::ReadOptions read_options;
  if (mode == ScanMode::kBulk) {
    read_options.fill_cache = false;
    read_options.readahead_size = 2 << 20;
  }
  rocksdb::Slice upper = ToSlice(end);
  if (!end.empty()) read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read_options, impl_->handles[static_cast<int>(family)]));
  for (it->Seek(ToSlice(begin)); it->Valid(); it->Next()) {
    if (!visit(std::string_view(it->key().data(), it->key().size()),
               std::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  return FromRocks(it->status());
}

Status Store::ScanSeeking(Family family, std::string_view begin, const SeekingVisitor& visit) {
  rocksdb::ReadOptions read_options;
  read_options.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read_options, impl_->handles[static_cast<int>(family)]));
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

Status Store::SyncLog() { return FromRocks(impl_->db->SyncWAL()); }

Status Store::FlushMemtables() {
  rocksdb::FlushOptions flush_options;
  flush_options.wait = true;
  return FromRocks(impl_->db->Flush(flush_options, impl_->handles));
}

Status Store::CompactFamily(Family family) {
  rocksdb::CompactRangeOptions compact_options;
  compact_options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  return FromRocks(impl_->db->CompactRange(compact_options, impl_->handles[static_cast<int>(family)], nullptr, nullptr));
}

uint64_t Store::MemtableBytes() {
  uint64_t total = 0;
  for (auto* handle : impl_->handles) {
    uint64_t bytes = 0;
    impl_->db->GetIntProperty(handle, "rocksdb.cur-size-all-mem-tables", &bytes);
    total += bytes;
  }
  return total;
}

uint64_t Store::ApproximateSize(Family family) {
  uint64_t size = 0;
  impl_->db->GetIntProperty(impl_->handles[static_cast<int>(family)], "rocksdb.estimate-live-data-size", &size);
  uint64_t memtable = 0;
  impl_->db->GetIntProperty(impl_->handles[static_cast<int>(family)], "rocksdb.cur-size-all-mem-tables", &memtable);
  return size + memtable;
}

}  // namespace tally::storage
