#include "storage/log_salvage.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "storage/codec.h"
#include "storage/data_dir_checks.h"
#include "storage/log_format.h"

namespace tally::storage {
namespace {

namespace lf = log_format;
namespace fs = std::filesystem;

// Keeps what RocksDB says while it replays: each skipped record is a warning
// "<file>: dropping <n> bytes; <reason>".
class DropCollector final : public rocksdb::Logger {
 public:
  DropCollector() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char line[1024];
    vsnprintf(line, sizeof(line), format, ap);
    if (std::strstr(line, "dropping") != nullptr) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.emplace_back(line);
    }
  }
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

// An instance opened read-only with every family it has.
struct ReadOnlyInstance {
  std::unique_ptr<rocksdb::DB> db;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> families;
  ~ReadOnlyInstance() {
    for (auto& [name, handle] : families) db->DestroyColumnFamilyHandle(handle);
    if (db) db->Close();
  }
};

Status OpenReadOnly(const std::string& dir, const rocksdb::DBOptions& options, ReadOnlyInstance* out) {
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(options, dir, &names);
  if (!s.ok()) return Status::Corruption("cannot list the families of " + dir + ": " + s.ToString());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(options, dir, descriptors, &handles, &raw);
  if (!s.ok()) return Status::Corruption("cannot open " + dir + " even skipping damaged records: " + s.ToString());
  out->db.reset(raw);
  for (size_t i = 0; i < names.size(); ++i) out->families[names[i]] = handles[i];
  return Status::Ok();
}

// Takes <data_dir>/tallyd.lock as tallyd does; the descriptor is closed (and
// the lock released) when the salvage ends.
class DataDirLock {
 public:
  Status Take(const std::string& data_dir) {
    const std::string path = data_dir + "/tallyd.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) return Status::IoError("cannot open " + path + ": " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      return Status::Busy("data dir " + data_dir + " is in use (lock file " + path + "): stop tallyd first");
    }
    return Status::Ok();
  }
  ~DataDirLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  int fd_ = -1;
};

std::string UtcStamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char out[32];
  std::strftime(out, sizeof(out), "%Y%m%dT%H%M%SZ", &tm);
  return out;
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("cannot open " + dir + ": " + std::strerror(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Status::IoError("cannot fsync " + dir + ": " + std::strerror(errno));
}

// Per shard: the checkpoint (entries at or below it are folded into the
// compacted state and may be trimmed) and the next sequence expected.
struct ShardCursor {
  uint64_t checkpoint = 0;
  uint64_t next = 0;  // 0: no blob seen yet
};

void ReadCheckpoints(const std::string& main_dir, std::map<uint16_t, ShardCursor>* shards, bool* known) {
  rocksdb::DBOptions options;
  ReadOnlyInstance main;
  if (!OpenReadOnly(main_dir, options, &main).ok() || main.families.count("meta") == 0) return;
  std::unique_ptr<rocksdb::Iterator> it(main.db->NewIterator(rocksdb::ReadOptions(), main.families["meta"]));
  const std::string prefix(lf::kCheckpointPrefix);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != prefix.size() + 2 || it->value().size() != 8) continue;
    uint16_t shard = codec::GetBigEndian16(it->key().data() + prefix.size());
    (*shards)[shard].checkpoint = codec::GetFixed64(it->value().data());
  }
  *known = it->status().ok();
}

// Records the sequences missing before `first` in a shard's stream.
void NoteBlob(uint16_t shard, uint64_t first, uint64_t entries, bool checkpoints_known, ShardCursor* cursor,
              std::vector<SequenceGap>* gaps) {
  uint64_t expected = cursor->next;
  if (expected == 0) expected = checkpoints_known ? cursor->checkpoint + 1 : first;
  const uint64_t gap_first = std::max(expected, cursor->checkpoint + 1);
  if (first > gap_first) gaps->push_back({shard, gap_first, first - 1});
  cursor->next = std::max(expected, first + entries);
}

// The Puts into column family `family` of one WAL record (a RocksDB
// WriteBatch: u64 sequence, u32 count, then tagged records). Stops at a tag
// it does not know; what it found before stays.
void PutsOfWriteBatch(std::string_view batch, uint32_t family,
                      const std::function<void(std::string_view key, std::string_view value)>& put) {
  if (batch.size() < 12) return;
  batch.remove_prefix(12);
  while (!batch.empty()) {
    const uint8_t tag = static_cast<uint8_t>(batch[0]);
    batch.remove_prefix(1);
    uint64_t cf = 0;
    std::string_view key, value;
    switch (tag) {
      case 0x01:  // Put, default family
      case 0x02:  // Merge, default family
        if (!codec::GetLengthPrefixed(batch, &key) || !codec::GetLengthPrefixed(batch, &value)) return;
        if (tag == 0x01 && family == 0) put(key, value);
        break;
      case 0x05:  // Put
      case 0x06:  // Merge
        if (!codec::GetVarint(batch, &cf) || !codec::GetLengthPrefixed(batch, &key) ||
            !codec::GetLengthPrefixed(batch, &value)) {
          return;
        }
        if (tag == 0x05 && cf == family) put(key, value);
        break;
      case 0x00:  // Delete, default family
      case 0x07:  // SingleDelete, default family
      case 0x03:  // LogData
        if (!codec::GetLengthPrefixed(batch, &key)) return;
        break;
      case 0x04:  // Delete
      case 0x08:  // SingleDelete
        if (!codec::GetVarint(batch, &cf) || !codec::GetLengthPrefixed(batch, &key)) return;
        break;
      case 0x0F:  // DeleteRange, default family
        if (!codec::GetLengthPrefixed(batch, &key) || !codec::GetLengthPrefixed(batch, &value)) return;
        break;
      case 0x0E:  // DeleteRange
        if (!codec::GetVarint(batch, &cf) || !codec::GetLengthPrefixed(batch, &key) ||
            !codec::GetLengthPrefixed(batch, &value)) {
          return;
        }
        break;
      default:
        return;
    }
  }
}

// Log blobs in the WAL files that RocksDB's reader skipped: it drops the
// rest of a 32 KiB block after a damaged record, intact records included.
// (A blob a later trim deleted may come back too: replay skips entries at or
// below the checkpoint, and the next compaction trims it again.)
std::map<std::string, std::string> BlobsRocksDbSkipped(const std::string& log_dir, rocksdb::DB& view,
                                                       rocksdb::ColumnFamilyHandle* log_family) {
  std::map<std::string, std::string> skipped;
  const WalCheckResult wal = CheckWalFiles(log_dir);
  for (const std::string& file : wal.files) {
    ForEachIntactWalRecord(file, [&](std::string_view record) {
      PutsOfWriteBatch(record, log_family->GetID(), [&](std::string_view key, std::string_view value) {
        std::string ignored;
        rocksdb::Status s =
            view.Get(rocksdb::ReadOptions(), log_family, rocksdb::Slice(key.data(), key.size()), &ignored);
        if (s.IsNotFound()) skipped[std::string(key)] = std::string(value);
      });
    });
  }
  return skipped;
}

}  // namespace

std::string SalvageCommand(const std::string& main_path) {
  return "tally-admin salvage --data-dir " + DataDirOf(main_path);
}

uint64_t SalvageReport::entries_lost() const {
  uint64_t lost = 0;
  for (const SequenceGap& gap : gaps) lost += gap.count();
  return lost;
}

StatusOr<SalvageReport> SalvageLog(const SalvageOptions& options) {
  SalvageReport report;
  report.dry_run = options.dry_run;
  const std::string main_dir = options.data_dir + "/db";
  report.log_dir = options.data_dir + "/db-log";
  if (!InstanceExists(report.log_dir)) {
    return Status::NotFound(report.log_dir + " is not a RocksDB instance (no CURRENT file): nothing to salvage");
  }
  DataDirLock lock;
  Status locked = lock.Take(options.data_dir);
  if (!locked.ok()) return locked;

  WalCheckResult wal = CheckWalFiles(report.log_dir);
  report.wal_damage = wal.damage ? wal.damage : wal.torn_tail_record;

  std::map<uint16_t, ShardCursor> shards;
  ReadCheckpoints(main_dir, &shards, &report.checkpoints_known);

  auto collector = std::make_shared<DropCollector>();
  rocksdb::DBOptions read_options;
  read_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kSkipAnyCorruptedRecords;
  read_options.paranoid_checks = false;
  read_options.info_log = collector;
  ReadOnlyInstance damaged;
  Status opened = OpenReadOnly(report.log_dir, read_options, &damaged);
  if (!opened.ok()) return opened;
  report.dropped_by_rocksdb = collector->lines();
  if (damaged.families.count("log") == 0) return Status::Corruption(report.log_dir + " has no log family");
  std::map<std::string, std::string> skipped =
      BlobsRocksDbSkipped(report.log_dir, *damaged.db, damaged.families["log"]);

  // The id: the damaged log's own, else the main instance's.
  auto id = ReadDataDirId(*damaged.db);
  if (id.ok() && id.value()) report.data_dir_id = *id.value();
  if (report.data_dir_id.empty()) {
    ReadOnlyInstance main;
    if (OpenReadOnly(main_dir, rocksdb::DBOptions(), &main).ok()) {
      auto main_id = ReadDataDirId(*main.db);
      if (main_id.ok() && main_id.value()) report.data_dir_id = *main_id.value();
    }
  }

  // The new instance, beside the damaged one until it is complete.
  const std::string fresh_dir = report.log_dir + ".salvage";
  std::unique_ptr<rocksdb::DB> fresh;
  rocksdb::ColumnFamilyHandle* fresh_log = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> fresh_handles;
  if (!options.dry_run) {
    std::error_code ec;
    fs::remove_all(fresh_dir, ec);  // left by an interrupted salvage
    rocksdb::DBOptions create;
    create.create_if_missing = true;
    create.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()}, {"log", rocksdb::ColumnFamilyOptions()}};
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(create, fresh_dir, descriptors, &fresh_handles, &raw);
    if (!s.ok()) return Status::IoError("cannot create " + fresh_dir + ": " + s.ToString());
    fresh.reset(raw);
    fresh_log = fresh_handles[1];
  }
  auto close_fresh = [&] {
    for (auto* handle : fresh_handles) fresh->DestroyColumnFamilyHandle(handle);
    fresh_handles.clear();
    if (fresh) fresh->Close();
    fresh.reset();
  };

  rocksdb::WriteBatch batch;
  auto flush_batch = [&]() -> Status {
    if (!fresh || batch.Count() == 0) return Status::Ok();
    rocksdb::Status s = fresh->Write(rocksdb::WriteOptions(), &batch);
    batch.Clear();
    return s.ok() ? Status::Ok() : Status::IoError("cannot write " + fresh_dir + ": " + s.ToString());
  };

  // Keeps one blob (from RocksDB's view or found in the WAL files by us).
  int last_reported_shard = -1;
  uint16_t shard = 0;
  auto keep = [&](std::string_view key, std::string_view value) -> Status {
    uint64_t first = 0;
    if (!lf::ParseLogKey(key, &shard, &first)) {
      report.unreadable.push_back("a log key of " + std::to_string(key.size()) + " bytes (not a (shard, seq) key)");
      return Status::Ok();
    }
    lf::BlobReader reader(value);
    lf::Entry entry;
    uint64_t entries = 0;
    while (reader.Next(&entry)) ++entries;
    if (!reader.status().ok()) {
      // Its entries show as a gap: the next blob's first sequence bounds it.
      report.unreadable.push_back("shard " + std::to_string(shard) + " blob at seq " + std::to_string(first) + ": " +
                                  reader.status().ToString());
      return Status::Ok();
    }
    NoteBlob(shard, first, entries, report.checkpoints_known, &shards[shard], &report.gaps);
    ++report.blobs_kept;
    report.entries_kept += entries;
    if (fresh) batch.Put(fresh_log, rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size()));
    if (options.progress && shard != last_reported_shard) {
      options.progress(shard, report.blobs_kept);
      last_reported_shard = shard;
    }
    return batch.GetDataSize() > (16u << 20) ? flush_batch() : Status::Ok();
  };
  // The blobs RocksDB skipped that sort before `key` (all of them if empty).
  auto keep_skipped_before = [&](std::string_view key) -> Status {
    while (!skipped.empty() && (key.empty() || skipped.begin()->first < key)) {
      auto node = skipped.extract(skipped.begin());
      report.recovered_from_wal += 1;
      Status s = keep(node.key(), node.mapped());
      if (!s.ok()) return s;
    }
    return Status::Ok();
  };

  rocksdb::ReadOptions scan;
  scan.fill_cache = false;
  scan.verify_checksums = true;
  std::unique_ptr<rocksdb::Iterator> it(damaged.db->NewIterator(scan, damaged.families["log"]));
  it->SeekToFirst();
  while (true) {
    for (; it->Valid(); it->Next()) {
      std::string_view key(it->key().data(), it->key().size());
      Status s = keep_skipped_before(key);
      if (s.ok()) s = keep(key, std::string_view(it->value().data(), it->value().size()));
      if (!s.ok()) return s;
    }
    if (it->status().ok()) break;
    // A block that cannot be read (e.g. a damaged SST block): the rest of
    // this shard is lost to this reader; go on with the next shard.
    report.unreadable.push_back("shard " + std::to_string(shard) + " after seq " +
                                std::to_string(shards[shard].next == 0 ? 0 : shards[shard].next - 1) + ": " +
                                it->status().ToString());
    if (shard == 0xffff) break;
    ++shard;
    it.reset(damaged.db->NewIterator(scan, damaged.families["log"]));
    it->Seek(lf::LogKey(shard, 0));
  }
  Status drained = keep_skipped_before("");
  if (!drained.ok()) return drained;

  if (options.dry_run) return report;
  Status s = flush_batch();
  if (s.ok() && !report.data_dir_id.empty()) {
    rocksdb::Status put =
        fresh->Put(rocksdb::WriteOptions(), fresh->DefaultColumnFamily(), kDataDirIdKey, report.data_dir_id);
    if (!put.ok()) s = Status::IoError("cannot write the data dir id: " + put.ToString());
  }
  if (s.ok()) {
    rocksdb::FlushOptions wait;
    rocksdb::Status flushed = fresh->Flush(wait, fresh_handles);
    if (flushed.ok()) flushed = fresh->FlushWAL(/*sync=*/true);
    if (!flushed.ok()) s = Status::IoError("cannot flush " + fresh_dir + ": " + flushed.ToString());
  }
  close_fresh();
  if (!s.ok()) return s;

  // Swap: the damaged instance out (kept), the new one in.
  std::error_code ec;
  const std::string backup = report.log_dir + ".damaged-" + UtcStamp();
  fs::rename(report.log_dir, backup, ec);
  if (ec) return Status::IoError("cannot move " + report.log_dir + " to " + backup + ": " + ec.message());
  fs::rename(fresh_dir, report.log_dir, ec);
  if (ec) {
    return Status::IoError("cannot move " + fresh_dir + " to " + report.log_dir + ": " + ec.message() +
                           " (the damaged log is at " + backup + ")");
  }
  s = SyncDir(options.data_dir);
  if (!s.ok()) return s;
  if (options.keep_backup) {
    report.backup_dir = backup;
  } else {
    fs::remove_all(backup, ec);
  }
  return report;
}

}  // namespace tally::storage
