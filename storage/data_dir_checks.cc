#include "storage/data_dir_checks.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <memory>
#include <random>

#include "storage/log_salvage.h"
#include "storage/wal_file_check.h"

namespace tally::storage {
namespace {

std::string LogDirOf(const std::string& main_path) { return main_path + "-log"; }

std::string DirOf(const std::string& main_path, Instance instance) {
  return instance == Instance::kMain ? main_path : LogDirOf(main_path);
}

// What to do about a damaged instance.
std::string Advice(const std::string& main_path, Instance instance) {
  if (instance == Instance::kLog) {
    return "Starting would silently drop the acknowledged writes after the damaged spot, so tallyd refuses. Run `" +
           SalvageCommand(main_path) +
           "` (it keeps every intact record, reports what it could not read and keeps the damaged log as a "
           "backup), then start tallyd again.";
  }
  return "Starting would silently drop compacted data, so tallyd refuses. Restore the data dir from a backup "
         "(`tally-admin salvage` repairs only db-log).";
}

std::string NameOf(Instance instance) {
  return instance == Instance::kLog ? "the write-ahead log" : "the compacted state";
}

std::string NewDataDirId() {
  std::random_device random;
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 4; ++i) {
    uint32_t word = random();
    for (int j = 0; j < 8; ++j, word >>= 4) id.push_back(kHex[word & 0xf]);
  }
  return id;
}

// Writes `key` = id into main's default family (fsynced); the final id
// also removes the pending one, in the same batch.
Status WriteMainId(rocksdb::DB& main, const char* key, const std::string& id, bool final) {
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::WriteBatch batch;
  batch.Put(main.DefaultColumnFamily(), key, id);
  if (final) batch.Delete(main.DefaultColumnFamily(), kPendingDataDirIdKey);
  rocksdb::Status s = main.Write(sync, &batch);
  return s.ok() ? Status::Ok() : Status::IoError("cannot write the data dir id: " + s.ToString());
}

}  // namespace

bool InstanceExists(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::exists(dir + "/CURRENT", ec);
}

std::string DataDirOf(const std::string& main_path) {
  std::string parent = std::filesystem::path(main_path).parent_path().string();
  return parent.empty() ? "." : parent;
}

Status CheckInstancesPresent(const std::string& main_path, bool main_exists, bool log_exists) {
  if (main_exists || !log_exists) return Status::Ok();
  return Status::Corruption("data dir " + DataDirOf(main_path) + " is incomplete: " + main_path +
                            " (the compacted state) is missing while " + LogDirOf(main_path) +
                            " exists. tallyd never starts fresh on part of a data dir: restore " + main_path +
                            " from a backup, or move the whole data dir away to start empty.");
}

Status PrepareWalRecovery(const std::string& main_path, Instance instance, rocksdb::DBOptions* options) {
  WalCheckResult check = CheckWalFiles(DirOf(main_path, instance));
  if (check.damage) {
    return Status::Corruption(NameOf(instance) + " of data dir " + DataDirOf(main_path) +
                              " is damaged before its end: " + check.damage->ToString() + ". " +
                              Advice(main_path, instance));
  }
  // A torn last write is what a crash leaves: drop exactly it, as RocksDB's
  // point-in-time recovery does. Anything else: refuse (paranoid_checks).
  options->wal_recovery_mode = check.torn_tail_record ? rocksdb::WALRecoveryMode::kPointInTimeRecovery
                                                      : rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  options->paranoid_checks = true;
  return Status::Ok();
}

Status ExplainOpenFailure(const std::string& main_path, Instance instance, const rocksdb::Status& failed) {
  if (failed.IsCorruption()) {
    return Status::Corruption(NameOf(instance) + " of data dir " + DataDirOf(main_path) + " (" +
                              DirOf(main_path, instance) + ") cannot be read: " + failed.ToString() + ". " +
                              Advice(main_path, instance));
  }
  return Status::IoError(failed.ToString());
}

StatusOr<std::optional<std::string>> ReadDataDirId(rocksdb::DB& db) {
  std::string id;
  rocksdb::Status s = db.Get(rocksdb::ReadOptions(), db.DefaultColumnFamily(), kDataDirIdKey, &id);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return Status::IoError("cannot read the data dir id: " + s.ToString());
  return std::optional<std::string>(std::move(id));
}

Status CheckLogPresent(const std::string& main_path, bool log_existed, const std::optional<std::string>& main_id) {
  if (log_existed || !main_id) return Status::Ok();
  return Status::Corruption("data dir " + DataDirOf(main_path) + " (id " + *main_id +
                            ") is incomplete: " + LogDirOf(main_path) +
                            " (the write-ahead log, with every write since the last compaction) is missing. "
                            "tallyd never starts fresh on part of a data dir: restore it from a backup, or move "
                            "the whole data dir away to start empty.");
}

Status ReconcileDataDirIds(const std::string& main_path, rocksdb::DB& main, const std::optional<std::string>& main_id,
                           rocksdb::DB& log) {
  auto read = ReadDataDirId(log);
  if (!read.ok()) return read.status();
  const std::optional<std::string>& log_id = read.value();
  const std::string log_dir = LogDirOf(main_path);
  const std::string mixed = ": tallyd never mixes the instances of two data dirs. Put back the matching one.";
  if (main_id && log_id) {
    if (*main_id == *log_id) return Status::Ok();
    return Status::Corruption(log_dir + " belongs to another data dir (id " + *log_id + ") than " + main_path +
                              " (id " + *main_id + ")" + mixed);
  }
  if (main_id) {
    return Status::Corruption(log_dir + " has no data dir id, so it is not the log of " + main_path + " (id " +
                              *main_id + ")" + mixed);
  }
  // The main instance has no id yet: new, from before ids, or a crash in the
  // middle of giving it one. The id goes to main as pending, then to the log,
  // then main's pending id becomes its id: every crash in between resumes.
  std::string pending;
  rocksdb::Status s = main.Get(rocksdb::ReadOptions(), main.DefaultColumnFamily(), kPendingDataDirIdKey, &pending);
  if (!s.ok() && !s.IsNotFound()) return Status::IoError("cannot read the data dir id: " + s.ToString());
  if (s.IsNotFound()) {
    if (log_id) {
      return Status::Corruption(main_path + " has no data dir id, so it is not the compacted state of " + log_dir +
                                " (id " + *log_id + ")" + mixed);
    }
    pending = NewDataDirId();
    Status written = WriteMainId(main, kPendingDataDirIdKey, pending, false);
    if (!written.ok()) return written;
  } else if (log_id && *log_id != pending) {
    return Status::Corruption(log_dir + " belongs to another data dir (id " + *log_id + ") than " + main_path +
                              " (id " + pending + ")" + mixed);
  }
  if (!log_id) {
    rocksdb::WriteOptions sync;
    sync.sync = true;
    s = log.Put(sync, log.DefaultColumnFamily(), kDataDirIdKey, pending);
    if (!s.ok()) return Status::IoError("cannot write the data dir id: " + s.ToString());
  }
  return WriteMainId(main, kDataDirIdKey, pending, true);
}

}  // namespace tally::storage
