// The log is the truth, and a data dir is whole, with the real tallyd and
// tally-admin binaries: acknowledged SETs, kill -9, then damage in the middle
// of db-log's WAL file makes tallyd refuse to start (naming the file and
// `tally-admin salvage`); after the salvage it starts with every write whose
// record was intact, and the salvage report counts exactly the lost ones. A
// torn last record is dropped and nothing else; a removed db-log or db, or
// the db-logs of two data dirs swapped, are refused, never a silent fresh
// start.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tallyd_process.h"

namespace tally::itest {
namespace {

namespace fs = std::filesystem;

constexpr int kKeys = 3000;

std::vector<std::string> Flags() {
  // No compaction while the test writes: the writes stay in db-log's WAL.
  return {"--compaction-interval-ms", "3600000", "--compaction-max-entries", "100000000"};
}

std::string Key(int i) { return "lf:" + std::to_string(i); }
std::string Value(int i) { return std::to_string(i) + std::string(100, 'v'); }

// SETs kKeys keys in pipelined batches; every reply +OK is an acknowledgement.
void WriteAcknowledged(TallydProcess& daemon) {
  auto client = RespClient::ConnectTcp(daemon.port());
  ASSERT_TRUE(client.has_value());
  for (int i = 0; i < kKeys; i += 50) {
    std::string pipeline;
    for (int j = i; j < i + 50; ++j) pipeline += EncodeCommand({"SET", Key(j), Value(j)});
    client->Send(pipeline);
    for (int j = i; j < i + 50; ++j) ASSERT_EQ(client->ReadReply().str, "OK") << Key(j);
  }
}

std::string NewestWal(const std::string& dir) {
  std::vector<std::string> wals;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".log") wals.push_back(entry.path().string());
  }
  std::sort(wals.begin(), wals.end());
  return wals.empty() ? "" : wals.back();
}

// A start that must fail: runs tallyd in the foreground until it exits.
ProcessResult StartExpectingRefusal(TallydProcess& daemon) {
  std::vector<std::string> argv = {TallydPath()};
  for (const std::string& arg : daemon.Args()) argv.push_back(arg);
  return RunProcess(argv, {}, 30s);
}

TEST(LogFaultsTest, DamageInTheMiddleOfTheLogIsRefusedThenSalvagedKeepingEveryIntactWrite) {
  TallydProcess daemon(Flags());
  ASSERT_TRUE(daemon.Start());
  WriteAcknowledged(daemon);
  daemon.Kill();

  const std::string wal = NewestWal(daemon.data_dir() + "/db-log");
  ASSERT_FALSE(wal.empty());
  const auto size = fs::file_size(wal);
  ASSERT_GT(size, 200'000u) << "the writes should be in db-log's WAL";
  {
    std::fstream f(wal, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2));
    const std::string garbage(210, '\xa5');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }

  ProcessResult refused = StartExpectingRefusal(daemon);
  ASSERT_TRUE(refused.exited) << refused.Describe();
  EXPECT_NE(refused.exit_code, 0) << refused.Describe();
  const std::string said = refused.out + refused.err;
  EXPECT_NE(said.find(wal + " at offset "), std::string::npos) << said;
  EXPECT_NE(said.find("tally-admin salvage --data-dir " + daemon.data_dir()), std::string::npos) << said;

  ProcessResult salvage = RunProcess({TALLY_ADMIN_PATH, "salvage", "--data-dir", daemon.data_dir(), "--json"}, {}, 60s);
  ASSERT_TRUE(salvage.exited && salvage.exit_code == 0) << salvage.Describe();
  const nlohmann::json report = nlohmann::json::parse(salvage.out);
  ASSERT_FALSE(report["wal_damage"].is_null()) << report.dump();
  EXPECT_EQ(report["wal_damage"]["file"], wal);
  ASSERT_FALSE(report["gaps"].empty()) << report.dump();
  const uint64_t lost = report["entries_lost"];
  EXPECT_GE(lost, 1u);
  // One WAL record is one group commit: at most the 50 SETs of one pipeline;
  // 210 bytes can hit two records.
  EXPECT_LE(lost, 100u) << "only the records the 210 bytes hit may be lost";
  EXPECT_TRUE(fs::exists(report["backup_dir"].get<std::string>() + "/CURRENT")) << report.dump();

  ASSERT_TRUE(daemon.Start());
  auto client = RespClient::ConnectTcp(daemon.port());
  ASSERT_TRUE(client.has_value());
  int present = 0;
  for (int i = 0; i < kKeys; ++i) {
    RespValue got = client->Call({"GET", Key(i)});
    if (got.type == RespValue::Type::kBulk) {
      ASSERT_EQ(got.str, Value(i)) << Key(i);
      ++present;
    } else {
      ASSERT_EQ(got.type, RespValue::Type::kNull) << Key(i) << ": " << got;
    }
  }
  // Each SET is one log entry of its own key: the missing keys are exactly
  // the entries the report says were lost.
  RecordProperty("keys_lost", kKeys - present);
  RecordProperty("blobs_recovered_from_wal", report["blobs_recovered_from_wal"].dump());
  EXPECT_EQ(static_cast<uint64_t>(kKeys - present), lost) << "present " << present;
  EXPECT_TRUE(daemon.Stop());
}

TEST(LogFaultsTest, ARemovedLogIsRefusedNeverAFreshStart) {
  TallydProcess daemon(Flags());
  ASSERT_TRUE(daemon.Start());
  WriteAcknowledged(daemon);
  daemon.Kill();
  fs::remove_all(daemon.data_dir() + "/db-log");
  ProcessResult refused = StartExpectingRefusal(daemon);
  ASSERT_TRUE(refused.exited) << refused.Describe();
  EXPECT_NE(refused.exit_code, 0) << refused.Describe();
  EXPECT_NE((refused.out + refused.err)
                .find("db-log (the write-ahead log, with every write since the last "
                      "compaction) is missing"),
            std::string::npos)
      << refused.Describe();
  EXPECT_FALSE(fs::exists(daemon.data_dir() + "/db-log"));
}

TEST(LogFaultsTest, ATornLastRecordIsDroppedAndNothingElse) {
  TallydProcess daemon(Flags());
  ASSERT_TRUE(daemon.Start());
  WriteAcknowledged(daemon);
  daemon.Kill();

  // A crash mid-write: the file ends inside its last record.
  const std::string wal = NewestWal(daemon.data_dir() + "/db-log");
  ASSERT_FALSE(wal.empty());
  fs::resize_file(wal, fs::file_size(wal) - 40);

  ASSERT_TRUE(daemon.Start()) << daemon.LogTail();
  auto client = RespClient::ConnectTcp(daemon.port());
  ASSERT_TRUE(client.has_value());
  int present = 0;
  int first_missing = kKeys;
  for (int i = 0; i < kKeys; ++i) {
    RespValue got = client->Call({"GET", Key(i)});
    if (got.type == RespValue::Type::kBulk) {
      ASSERT_EQ(got.str, Value(i)) << Key(i);
      ASSERT_EQ(first_missing, kKeys) << Key(i) << " is present after the missing " << Key(first_missing);
      ++present;
    } else {
      ASSERT_EQ(got.type, RespValue::Type::kNull) << Key(i) << ": " << got;
      first_missing = std::min(first_missing, i);
    }
  }
  // Only the torn record is gone: the last group commit, at most the 50 SETs
  // of the last pipeline, and nothing before it.
  RecordProperty("keys_lost", kKeys - present);
  EXPECT_GE(kKeys - present, 1) << "the torn record should be gone";
  EXPECT_LE(kKeys - present, 50);
  EXPECT_TRUE(daemon.Stop());
  // The open that dropped the tail leaves a clean log: the next start is normal.
  ASSERT_TRUE(daemon.Start()) << daemon.LogTail();
  auto again = RespClient::ConnectTcp(daemon.port());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->Call({"GET", Key(0)}).str, Value(0));
  EXPECT_TRUE(daemon.Stop());
}

TEST(LogFaultsTest, ARemovedMainInstanceOfACompactedDataDirIsRefused) {
  TallydProcess daemon(Flags());
  ASSERT_TRUE(daemon.Start());
  WriteAcknowledged(daemon);
  ASSERT_TRUE(daemon.Stop());  // a clean stop compacts: the writes are in db now
  ASSERT_TRUE(daemon.Start());
  {
    auto client = RespClient::ConnectTcp(daemon.port());
    ASSERT_TRUE(client.has_value());
    ASSERT_EQ(client->Call({"SET", "after", "compaction"}).str, "OK");
  }
  daemon.Kill();
  fs::remove_all(daemon.data_dir() + "/db");
  ProcessResult refused = StartExpectingRefusal(daemon);
  ASSERT_TRUE(refused.exited) << refused.Describe();
  EXPECT_NE(refused.exit_code, 0) << refused.Describe();
  EXPECT_NE((refused.out + refused.err).find("db (the compacted state) is missing while"), std::string::npos)
      << refused.Describe();
  EXPECT_FALSE(fs::exists(daemon.data_dir() + "/db"));
}

TEST(LogFaultsTest, SwappedInstancesAreRefused) {
  TallydProcess first(Flags());
  TallydProcess second(Flags());
  for (TallydProcess* daemon : {&first, &second}) {
    ASSERT_TRUE(daemon->Start());
    auto client = RespClient::ConnectTcp(daemon->port());
    ASSERT_TRUE(client.has_value());
    ASSERT_EQ(client->Call({"SET", "which", daemon->data_dir()}).str, "OK");
    daemon->Kill();
  }
  const std::string first_log = first.data_dir() + "/db-log";
  const std::string second_log = second.data_dir() + "/db-log";
  fs::rename(first_log, first_log + ".tmp");
  fs::rename(second_log, first_log);
  fs::rename(first_log + ".tmp", second_log);
  for (TallydProcess* daemon : {&first, &second}) {
    ProcessResult refused = StartExpectingRefusal(*daemon);
    ASSERT_TRUE(refused.exited) << refused.Describe();
    EXPECT_NE(refused.exit_code, 0) << refused.Describe();
    EXPECT_NE((refused.out + refused.err).find(daemon->data_dir() + "/db-log belongs to another data dir"),
              std::string::npos)
        << refused.Describe();
  }
}

TEST(LogFaultsTest, SalvageHasHelp) {
  ProcessResult help = RunProcess({TALLY_ADMIN_PATH, "salvage", "--help"}, {}, 20s);
  ASSERT_TRUE(help.exited && help.exit_code == 0) << help.Describe();
  EXPECT_NE(help.out.find("--data-dir"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("db-log.damaged-"), std::string::npos) << help.out;
  ProcessResult top = RunProcess({TALLY_ADMIN_PATH, "--help"}, {}, 20s);
  EXPECT_NE(top.out.find("salvage"), std::string::npos) << top.out;
}

}  // namespace
}  // namespace tally::itest
