// A data dir's faults at open, on a real RocksDB: a torn last write of the
// log is dropped, damage anywhere else in either instance's write-ahead log
// (or a damaged SST block of the log) refuses with the file and the offset;
// a missing or swapped instance is refused; tally-admin salvage's core
// (storage/log_salvage.h) keeps every intact record and counts the lost ones.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "storage/data_dir_checks.h"
#include "storage/log_format.h"
#include "storage/log_salvage.h"
#include "storage/store.h"
#include "storage/wal_file_check.h"
#include "temp_dir.h"

namespace tally::storage {
namespace {

namespace fs = std::filesystem;
namespace lf = log_format;

constexpr int kShards = 4;
constexpr int kBlobsPerShard = 60;

// One blob of one PlainPut entry, padded so that records are a few hundred bytes.
std::string Blob(int shard, int seq) {
  std::string blob(1, static_cast<char>(lf::kBlobVersion));
  lf::AppendPlainPut(blob, "k" + std::to_string(shard) + ":" + std::to_string(seq), 0, std::string(300, 'v'));
  return blob;
}

class DataDirFaultsTest : public ::testing::Test {
 protected:
  std::string DataDir() const { return dir_.Sub("data"); }
  std::string MainPath() const { return DataDir() + "/db"; }
  std::string LogDir() const { return DataDir() + "/db-log"; }
  StoreOptions Options() const {
    StoreOptions options;
    options.path = MainPath();
    options.block_cache_bytes = 1 << 20;
    return options;
  }

  // Writes kShards x kBlobsPerShard blobs, each its own RocksDB write (one
  // WAL record each, as group commits are), shards interleaved, then closes
  // without flushing: everything stays in db-log's WAL file, as after kill -9.
  void WriteLog() {
    fs::create_directories(DataDir());
    auto store = Store::Open(Options());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (int seq = 1; seq <= kBlobsPerShard; ++seq) {
      for (int shard = 0; shard < kShards; ++shard) {
        WriteBatch batch(*store.value());
        batch.Put(Family::kLog, lf::LogKey(shard, seq), Blob(shard, seq));
        ASSERT_TRUE(store.value()->Write(batch, false).ok());
      }
    }
  }

  static void PutOne(Store& store, int shard, int seq) {
    WriteBatch batch(store);
    batch.Put(Family::kLog, lf::LogKey(shard, seq), Blob(shard, seq));
    ASSERT_TRUE(store.Write(batch, false).ok());
  }

  // The newest WAL file of an instance.
  static std::string NewestWal(const std::string& dir) {
    std::vector<std::string> wals;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() == ".log") wals.push_back(entry.path().string());
    }
    EXPECT_FALSE(wals.empty()) << "no WAL file in " << dir;
    std::sort(wals.begin(), wals.end());
    return wals.empty() ? "" : wals.back();
  }
  static void Overwrite(const std::string& file, uint64_t offset, size_t n, char byte) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(offset));
    std::string bytes(n, byte);
    f.write(bytes.data(), static_cast<std::streamsize>(n));
  }

  // Every log key in the store, as (shard, seq).
  static std::vector<std::pair<int, int>> LogKeys(Store& store) {
    std::vector<std::pair<int, int>> keys;
    Status s = store.Scan(Family::kLog, "", "", [&](std::string_view key, std::string_view) {
      uint16_t shard = 0;
      uint64_t seq = 0;
      EXPECT_TRUE(lf::ParseLogKey(key, &shard, &seq));
      keys.emplace_back(shard, static_cast<int>(seq));
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return keys;
  }

  fixtures::TempDir dir_{fixtures::Medium::kRam};
};

TEST(WalFileCheckTest, Crc32cMatchesTheCastagnoliCheckValue) { EXPECT_EQ(Crc32c(0, "123456789", 9), 0xe3069283u); }

TEST_F(DataDirFaultsTest, AnUndamagedLogReopensWhole) {
  WriteLog();
  EXPECT_FALSE(CheckWalFiles(LogDir()).damage);
  auto store = Store::Open(Options());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(LogKeys(*store.value()).size(), size_t{kShards * kBlobsPerShard});
}

TEST_F(DataDirFaultsTest, ATornLastWriteIsDroppedAndEverythingBeforeItKept) {
  WriteLog();
  const std::string wal = NewestWal(LogDir());
  fs::resize_file(wal, fs::file_size(wal) - 40);  // the last record, cut by a crash mid-write
  auto store = Store::Open(Options());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto keys = LogKeys(*store.value());
  EXPECT_EQ(keys.size(), size_t{kShards * kBlobsPerShard - 1});
  // Only the very last write is gone: shard 3's last blob.
  EXPECT_EQ(std::count(keys.begin(), keys.end(), std::make_pair(kShards - 1, kBlobsPerShard)), 0);
  EXPECT_EQ(std::count(keys.begin(), keys.end(), std::make_pair(kShards - 2, kBlobsPerShard)), 1);
  // The torn file is gone after the open that dropped its tail: later opens are clean.
  store = Status::Ok();
  auto again = Store::Open(Options());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(LogKeys(*again.value()).size(), size_t{kShards * kBlobsPerShard - 1});
}

TEST_F(DataDirFaultsTest, AGarbledLastRecordIsATornWriteToo) {
  WriteLog();
  const std::string wal = NewestWal(LogDir());
  Overwrite(wal, fs::file_size(wal) - 100, 60, '\x5a');  // inside the last record's payload
  ASSERT_TRUE(CheckWalFiles(LogDir()).torn_tail_record);
  auto store = Store::Open(Options());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(LogKeys(*store.value()).size(), size_t{kShards * kBlobsPerShard - 1});
  // Writes after it land in a new file; the next open is clean and keeps them.
  PutOne(*store.value(), 0, kBlobsPerShard + 1);
  store = Status::Ok();
  EXPECT_FALSE(CheckWalFiles(LogDir()).torn_tail_record);
  auto again = Store::Open(Options());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(LogKeys(*again.value()).size(), size_t{kShards * kBlobsPerShard});
}

TEST_F(DataDirFaultsTest, DamageInTheMiddleOfTheLogRefusesWithTheFileAndOffset) {
  WriteLog();
  const std::string wal = NewestWal(LogDir());
  const uint64_t middle = fs::file_size(wal) / 2;
  Overwrite(wal, middle, 210, '\xa5');
  auto store = Store::Open(Options());
  ASSERT_FALSE(store.ok()) << "a log damaged in the middle was opened";
  EXPECT_EQ(store.status().code(), Status::Code::kCorruption);
  const std::string& message = store.status().message();
  EXPECT_NE(message.find(wal), std::string::npos) << message;
  EXPECT_NE(message.find("at offset "), std::string::npos) << message;
  EXPECT_NE(message.find("tally-admin salvage --data-dir " + DataDir()), std::string::npos) << message;
  // The offset is that of the first damaged record, at or before the damage.
  auto check = CheckWalFiles(LogDir());
  ASSERT_TRUE(check.damage);
  EXPECT_LE(check.damage->offset, middle);
  EXPECT_GT(check.damage->offset + 400, middle);
}

TEST_F(DataDirFaultsTest, AZeroedRegionInTheMiddleIsRefusedToo) {
  // RocksDB itself skips the rest of a 32 KiB block after a zeroed header
  // without a word; tally's check of the WAL files sees it.
  WriteLog();
  const std::string wal = NewestWal(LogDir());
  auto check = CheckWalFiles(LogDir());
  ASSERT_FALSE(check.damage);
  Overwrite(wal, 0, 1000, '\0');  // the first records, headers and all
  auto store = Store::Open(Options());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(wal + " at offset 0: zeroed record header"), std::string::npos)
      << store.status().message();
}

TEST_F(DataDirFaultsTest, DamageInTheMainInstancesLogIsRefused) {
  fs::create_directories(DataDir());
  {
    auto store = Store::Open(Options());
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 200; ++i) {
      WriteBatch batch(*store.value());
      batch.Put(Family::kKv, "key" + std::to_string(i), std::string(300, 'x'));
      ASSERT_TRUE(store.value()->Write(batch, false).ok());
    }
  }
  const std::string wal = NewestWal(MainPath());
  Overwrite(wal, fs::file_size(wal) / 2, 210, '\xa5');
  auto store = Store::Open(Options());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(wal), std::string::npos) << store.status().message();
  EXPECT_NE(store.status().message().find("compacted state"), std::string::npos) << store.status().message();
}

TEST_F(DataDirFaultsTest, ADamagedSstBlockOfTheLogIsAnErrorWhenReplayed) {
  WriteLog();
  {
    auto store = Store::Open(Options());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(store.value()->FlushMemtables().ok());
  }
  std::string sst;
  for (const auto& entry : fs::directory_iterator(LogDir())) {
    if (entry.path().extension() == ".sst") sst = entry.path().string();
  }
  ASSERT_FALSE(sst.empty());
  Overwrite(sst, fs::file_size(sst) / 4, 64, '\xa5');
  // Depending on which block the bytes hit, RocksDB notices at open (a block
  // it reads to open the file) or when the block is read: an error either way.
  auto store = Store::Open(Options());
  Status s = store.ok()
                 ? store.value()->Scan(Family::kLog, "", "", [](std::string_view, std::string_view) { return true; })
                 : store.status();
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find(fs::path(sst).filename().string()), std::string::npos) << s.ToString();
}

TEST_F(DataDirFaultsTest, AMissingLogIsRefused) {
  WriteLog();
  fs::remove_all(LogDir());
  auto store = Store::Open(Options());
  ASSERT_FALSE(store.ok()) << "started fresh without db-log";
  EXPECT_NE(store.status().message().find(LogDir() + " (the write-ahead log"), std::string::npos)
      << store.status().message();
  EXPECT_NE(store.status().message().find("is missing"), std::string::npos);
  EXPECT_FALSE(fs::exists(LogDir())) << "the refused open created an instance";
}

TEST_F(DataDirFaultsTest, AMissingMainInstanceIsRefused) {
  WriteLog();
  fs::remove_all(MainPath());
  auto store = Store::Open(Options());
  ASSERT_FALSE(store.ok()) << "started fresh without db";
  EXPECT_NE(store.status().message().find(MainPath() + " (the compacted state) is missing"), std::string::npos)
      << store.status().message();
  EXPECT_FALSE(fs::exists(MainPath()));
}

TEST_F(DataDirFaultsTest, ALogFromAnotherDataDirIsRefused) {
  WriteLog();
  fixtures::TempDir other(fixtures::Medium::kRam);
  {
    StoreOptions options = Options();
    options.path = other.Sub("db");
    ASSERT_TRUE(Store::Open(options).ok());
  }
  fs::remove_all(LogDir());
  fs::copy(other.Sub("db-log"), LogDir());
  auto store = Store::Open(Options());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("belongs to another data dir"), std::string::npos)
      << store.status().message();
}

// Removes the ids as a data dir from before ids has none (or, with
// `pending`, leaves main's pending id as a crash in the middle would).
void StripIds(const std::string& dir, const std::string& pending = "") {
  for (const std::string& instance : {dir + "/db", dir + "/db-log"}) {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), instance, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), instance, descriptors, &handles, &db).ok());
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), kDataDirIdKey).ok());
    if (!pending.empty() && instance == dir + "/db") {
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), kPendingDataDirIdKey, pending).ok());
    }
    for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
    delete db;
  }
}

std::string IdOf(const std::string& instance) {
  std::vector<std::string> names;
  rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), instance, &names);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), instance, descriptors, &handles, &db).ok()) return "?";
  std::string id;
  db->Get(rocksdb::ReadOptions(), kDataDirIdKey, &id);
  for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
  delete db;
  return id;
}

TEST_F(DataDirFaultsTest, ANewDataDirGetsOneIdInBothInstances) {
  WriteLog();
  const std::string id = IdOf(MainPath());
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(IdOf(LogDir()), id);
}

TEST_F(DataDirFaultsTest, ADataDirFromBeforeIdsIsAdopted) {
  WriteLog();
  StripIds(DataDir());
  ASSERT_EQ(IdOf(MainPath()), "");
  auto store = Store::Open(Options());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(LogKeys(*store.value()).size(), size_t{kShards * kBlobsPerShard});
  store = Status::Ok();  // close
  EXPECT_EQ(IdOf(MainPath()).size(), 32u);
  EXPECT_EQ(IdOf(LogDir()), IdOf(MainPath()));
}

TEST_F(DataDirFaultsTest, ACrashWhileGivingTheIdResumesAtTheNextOpen) {
  WriteLog();
  StripIds(DataDir(), "0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(Store::Open(Options()).ok());
  EXPECT_EQ(IdOf(MainPath()), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(IdOf(LogDir()), "0123456789abcdef0123456789abcdef");
}

TEST_F(DataDirFaultsTest, ADataDirFromBeforeTheLogsOwnInstanceStillOpens) {
  // No ids, no db-log: the layout before the log had its own instance.
  WriteLog();
  StripIds(DataDir());
  fs::remove_all(LogDir());
  auto store = Store::Open(Options());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
}

TEST_F(DataDirFaultsTest, SalvageKeepsEveryIntactRecordAndCountsTheLostOnes) {
  WriteLog();
  const std::string wal = NewestWal(LogDir());
  Overwrite(wal, fs::file_size(wal) / 2, 210, '\xa5');
  ASSERT_FALSE(Store::Open(Options()).ok());

  SalvageOptions dry;
  dry.data_dir = DataDir();
  dry.dry_run = true;
  auto preview = SalvageLog(dry);
  ASSERT_TRUE(preview.ok()) << preview.status().ToString();
  ASSERT_FALSE(Store::Open(Options()).ok()) << "a dry run changed the data dir";

  SalvageOptions options;
  options.data_dir = DataDir();
  int progress_calls = 0;
  options.progress = [&](int, uint64_t) { ++progress_calls; };
  auto report = SalvageLog(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const SalvageReport& r = report.value();
  EXPECT_EQ(progress_calls, kShards);
  ASSERT_TRUE(r.wal_damage);
  EXPECT_EQ(r.wal_damage->file, wal);
  EXPECT_FALSE(r.dropped_by_rocksdb.empty());
  EXPECT_TRUE(r.checkpoints_known);
  // 210 bytes hit one or two records of ~330 bytes: each a blob of one entry.
  EXPECT_GE(r.entries_lost(), 1u);
  EXPECT_LE(r.entries_lost(), 2u);
  EXPECT_EQ(r.entries_kept + r.entries_lost(), uint64_t{kShards * kBlobsPerShard});
  EXPECT_EQ(r.entries_kept, preview.value().entries_kept);
  // RocksDB's reader drops the rest of the 32 KiB block after the damage;
  // salvage finds those records intact in the WAL file itself.
  RecordProperty("blobs_recovered_from_wal", static_cast<int>(r.recovered_from_wal));
  RecordProperty("entries_lost", static_cast<int>(r.entries_lost()));
  EXPECT_GT(r.recovered_from_wal, 10u);
  ASSERT_FALSE(r.backup_dir.empty());
  EXPECT_TRUE(fs::exists(r.backup_dir + "/CURRENT"));

  auto store = Store::Open(Options());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto keys = LogKeys(*store.value());
  EXPECT_EQ(keys.size(), r.entries_kept);
  for (const SequenceGap& gap : r.gaps) {
    for (uint64_t seq = gap.first; seq <= gap.last; ++seq) {
      EXPECT_EQ(std::count(keys.begin(), keys.end(), std::make_pair(int{gap.shard}, static_cast<int>(seq))), 0);
    }
  }
  // Records after the damaged spot survived: the last write of every shard.
  for (int shard = 0; shard < kShards; ++shard) {
    EXPECT_EQ(std::count(keys.begin(), keys.end(), std::make_pair(shard, kBlobsPerShard)), 1) << shard;
  }
}

TEST_F(DataDirFaultsTest, SalvageRefusesWhileTallydHoldsTheDataDir) {
  WriteLog();
  int fd = ::open((DataDir() + "/tallyd.lock").c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  SalvageOptions options;
  options.data_dir = DataDir();
  auto report = SalvageLog(options);
  ::close(fd);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), Status::Code::kBusy) << report.status().ToString();
}

}  // namespace
}  // namespace tally::storage
