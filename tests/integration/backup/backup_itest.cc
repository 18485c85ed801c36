// Backups (docs/backup.md) against the real tallyd and tally-admin:
//   - BACKUP while pipelined increments run: the copy, restored into an
//     empty data dir, holds every increment acknowledged before the backup
//     started, none twice, and `tally-admin verify` finds nothing wrong;
//   - a byte flipped in a copied table file: verify reports it (by the
//     manifest, and by RocksDB's block checksums without one) and restore
//     refuses it, leaving the target empty;
//   - `tally-admin backup` over the unix socket with a password, POST
//     /v1/admin/backup with the admin token, and the read-only identity
//     refused on both protocols.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "http_client.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

namespace fs = std::filesystem;

ProcessResult Admin(const std::vector<std::string>& args) {
  std::vector<std::string> argv{TALLY_ADMIN_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, {}, std::chrono::seconds(60));
}

// The value of one field of a map reply (RESP2: a flat array).
RespValue Field(const RespValue& map, const std::string& name) {
  for (size_t i = 0; i + 1 < map.elements.size(); i += 2) {
    if (map.elements[i].str == name) return map.elements[i + 1];
  }
  return {};
}

// The largest table file of a backup, to damage.
std::string SomeTableFile(const std::string& backup) {
  std::string best;
  uintmax_t best_size = 0;
  for (const auto& entry : fs::recursive_directory_iterator(backup)) {
    if (entry.path().extension() == ".sst" && entry.file_size() > best_size) {
      best = entry.path().string();
      best_size = entry.file_size();
    }
  }
  return best;
}

void FlipByte(const std::string& path, uintmax_t offset) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  file.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  file.seekp(static_cast<std::streamoff>(offset));
  file.write(&c, 1);
}

TEST(BackupTest, UnderPipelinedLoadTheRestoredCopyHoldsEveryEarlierAcknowledgedWriteOnce) {
  TallydProcess daemon;
  ASSERT_TRUE(daemon.Start());
  constexpr int kWriters = 4;
  constexpr int kPipeline = 64;
  std::atomic<bool> stop{false};
  std::vector<std::atomic<int64_t>> acked(kWriters);
  std::vector<int64_t> sent(kWriters, 0);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto client = RespClient::ConnectTcpRetrying(daemon.port());
      if (!client) return;
      const std::string command = EncodeCommand({"CTR.INCRBY", "writer:" + std::to_string(w), "load", "1"});
      std::string batch;
      for (int i = 0; i < kPipeline; ++i) batch += command;
      while (!stop.load()) {
        client->Send(batch);
        sent[w] += kPipeline;
        for (int i = 0; i < kPipeline; ++i) {
          RespValue reply = client->ReadReply();
          if (reply.type != RespValue::Type::kInteger) return;
          acked[w].fetch_add(1);
        }
      }
    });
  }
  // Let the load run, with compactions, before and after the backup.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  std::vector<int64_t> acked_before(kWriters);
  for (int w = 0; w < kWriters; ++w) acked_before[w] = acked[w].load();
  const std::string backup = daemon.dir() + "/backup";
  auto admin = RespClient::ConnectTcp(daemon.port());
  ASSERT_TRUE(admin);
  RespValue taken = admin->Call({"BACKUP", backup}, std::chrono::seconds(60));
  ASSERT_EQ(taken.type, RespValue::Type::kArray) << taken;
  EXPECT_EQ(Field(taken, "dir").str, backup);
  EXPECT_GT(Field(taken, "files").integer, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  for (std::thread& t : writers) t.join();
  for (int w = 0; w < kWriters; ++w) ASSERT_GT(acked_before[w], 0) << "writer " << w << " made no progress";

  ProcessResult verified = Admin({"verify", backup});
  EXPECT_EQ(verified.exit_code, 0) << verified.Describe();
  EXPECT_NE(verified.out.find("OK: no problem found"), std::string::npos) << verified.out;

  TallydProcess restored;
  ProcessResult restore = Admin({"restore", backup, restored.data_dir()});
  ASSERT_EQ(restore.exit_code, 0) << restore.Describe();
  ASSERT_TRUE(restored.Start());
  auto reader = RespClient::ConnectTcp(restored.port());
  ASSERT_TRUE(reader);
  for (int w = 0; w < kWriters; ++w) {
    RespValue value = reader->Call({"CTR.GET", "writer:" + std::to_string(w), "load"});
    ASSERT_EQ(value.type, RespValue::Type::kInteger) << value;
    EXPECT_GE(value.integer, acked_before[w]) << "writer " << w << ": an acknowledged write is missing";
    EXPECT_LE(value.integer, sent[w]) << "writer " << w << ": a write counted twice";
  }
  // The restored data dir, stopped, verifies too (its log was replayed and compacted).
  ASSERT_TRUE(restored.Stop());
  ProcessResult again = Admin({"verify", "--json", restored.data_dir()});
  EXPECT_EQ(again.exit_code, 0) << again.Describe();
  auto report = nlohmann::json::parse(again.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << again.out;
  EXPECT_EQ(report["ok"], true);
  EXPECT_GE(report["figures"]["counters"].get<int64_t>(), kWriters);
}

TEST(BackupTest, AFlippedByteInTheCopyIsFoundByVerifyAndRefusedByRestore) {
  TallydProcess daemon({"--compaction-interval-ms", "100"});
  ASSERT_TRUE(daemon.Start());
  auto client = RespClient::ConnectTcp(daemon.port());
  ASSERT_TRUE(client);
  for (int i = 0; i < 2000; ++i) {
    client->Send(EncodeCommand({"CTR.INCRBY", "user:" + std::to_string(i), "views", std::to_string(i + 1)}));
  }
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(client->ReadReply().type, RespValue::Type::kInteger);
  // Let a compaction fold them into the main instance's table files.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const std::string backup = daemon.dir() + "/backup";
  ASSERT_EQ(client->Call({"BACKUP", backup}, std::chrono::seconds(60)).type, RespValue::Type::kArray);
  ASSERT_EQ(Admin({"verify", backup}).exit_code, 0);

  const std::string table = SomeTableFile(backup);
  ASSERT_FALSE(table.empty()) << "the backup holds no table file";
  // Hard links share the data dir's file: damage a copy of it, not the original.
  fs::copy_file(table, table + ".tmp");
  fs::rename(table + ".tmp", table);
  FlipByte(table, 100);

  ProcessResult verified = Admin({"verify", backup});
  EXPECT_EQ(verified.exit_code, 1) << verified.Describe();
  EXPECT_NE(verified.out.find("checksum differs from the manifest"), std::string::npos) << verified.out;

  const std::string target = daemon.dir() + "/restored";
  ProcessResult restore = Admin({"restore", backup, target});
  EXPECT_EQ(restore.exit_code, 1) << restore.Describe();
  EXPECT_NE(restore.err.find("does not match the backup's manifest"), std::string::npos) << restore.err;
  EXPECT_FALSE(fs::exists(target + "/db"));

  // Without the manifest, RocksDB's own block checksums find the damage.
  fs::remove(backup + "/tally-backup.manifest");
  ProcessResult blocks = Admin({"verify", backup});
  EXPECT_EQ(blocks.exit_code, 1) << blocks.Describe();
  EXPECT_NE(blocks.out.find("table file checksums: 1 problem"), std::string::npos) << blocks.out;
}

TEST(BackupTest, BadTargetsAreRefusedAndChangeNothing) {
  TallydProcess daemon;
  ASSERT_TRUE(daemon.Start());
  auto client = RespClient::ConnectTcp(daemon.port());
  ASSERT_TRUE(client);
  EXPECT_EQ(client->CallRaw({"BACKUP", "relative/dir"}),
            "-ERR backup failed: the backup directory must be an absolute path: 'relative/dir'\r\n");
  const std::string full = daemon.dir() + "/full";
  fs::create_directories(full);
  std::ofstream(full + "/something") << "x";
  EXPECT_EQ(client->CallRaw({"BACKUP", full}),
            "-ERR backup failed: " + full + " is not empty: a backup goes into a new directory\r\n");
  EXPECT_EQ(client->CallRaw({"BACKUP", "/a", "b"}), "-ERR unexpected argument 'b': BACKUP takes [dir]\r\n");
  // Without a directory: <data_dir>/backups/<UTC time>.
  RespValue taken = client->Call({"BACKUP"}, std::chrono::seconds(60));
  ASSERT_EQ(taken.type, RespValue::Type::kArray) << taken;
  EXPECT_EQ(Field(taken, "dir").str.rfind(daemon.data_dir() + "/backups/", 0), 0u) << taken;
  EXPECT_TRUE(fs::exists(Field(taken, "dir").str + "/tally-backup.manifest"));
  // Another one at once gets a directory of its own (the name has milliseconds).
  RespValue again = client->Call({"BACKUP"}, std::chrono::seconds(60));
  ASSERT_EQ(again.type, RespValue::Type::kArray) << again;
  EXPECT_NE(Field(again, "dir").str, Field(taken, "dir").str);
  EXPECT_EQ(Admin({"restore", daemon.dir() + "/nothing-here", daemon.dir() + "/x"}).exit_code, 2);
}

TEST(BackupTest, TheDefaultDirIsAbsoluteForARelativeDataDir) {
  TempDir cwd;
  const std::string port = std::to_string(PickFreePort());
  std::vector<std::string> argv{TallydPath(), "--data-dir", "relative-data", "--port", port, "--http-port", "0"};
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (chdir(cwd.path().c_str()) != 0) _exit(127);
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  auto client = RespClient::ConnectTcpRetrying(std::stoi(port), 2000);
  ASSERT_TRUE(client);
  RespValue taken = client->Call({"BACKUP"}, std::chrono::seconds(60));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_EQ(taken.type, RespValue::Type::kArray) << taken;
  const std::string dir = Field(taken, "dir").str;
  EXPECT_EQ(dir.rfind(cwd.path() + "/relative-data/backups/", 0), 0u) << dir;
  EXPECT_EQ(Admin({"verify", dir}).exit_code, 0);
}

TEST(BackupTest, TheAdminSubcommandsHaveHelpAndBadUsageExitsTwo) {
  ProcessResult top = Admin({"--help"});
  EXPECT_EQ(top.exit_code, 0) << top.Describe();
  for (const char* sub : {"backup", "restore", "verify"}) {
    EXPECT_NE(top.out.find(sub), std::string::npos) << top.out;
    ProcessResult help = Admin({sub, "--help"});
    EXPECT_EQ(help.exit_code, 0) << help.Describe();
    EXPECT_NE(help.out.find("Exit 0"), std::string::npos) << help.out;
  }
  EXPECT_EQ(Admin({"verify"}).exit_code, 2);
  EXPECT_EQ(Admin({"restore", "/only-one"}).exit_code, 2);
  EXPECT_EQ(Admin({"backup", "-p", "notaport"}).exit_code, 2);
  ProcessResult unreachable = Admin({"backup", "-s", "/nonexistent/tally.sock"});
  EXPECT_EQ(unreachable.exit_code, 3) << unreachable.Describe();
  EXPECT_EQ(unreachable.err.rfind("tally-admin backup: cannot connect to /nonexistent/tally.sock", 0), 0u)
      << unreachable.err;
}

class BackupAuthTest : public TallydTest {
 protected:
  std::vector<std::string> ExtraArgs() const override {
    return {"--password", "admin-pw", "--reader-password", "reader-pw"};
  }
};

TEST_F(BackupAuthTest, OnlyTheAdminIdentityTakesBackupsOverRespHttpAndTallyAdmin) {
  auto client = RespClient::ConnectTcp(port());
  ASSERT_TRUE(client);
  EXPECT_EQ(client->CallRaw({"BACKUP", daemon().dir() + "/b0"}), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(client->CallRaw({"AUTH", "reader", "reader-pw"}), "+OK\r\n");
  EXPECT_EQ(client->CallRaw({"BACKUP", daemon().dir() + "/b1"}),
            "-NOPERM User reader has no permissions to run the 'backup' command\r\n");
  EXPECT_FALSE(fs::exists(daemon().dir() + "/b1"));

  HttpClient::Headers json{{"Content-Type", "application/json"}};
  auto with_token = [&](const std::string& token) {
    HttpClient::Headers headers = json;
    headers.emplace_back("Authorization", "Bearer " + token);
    return headers;
  };
  const std::string body = nlohmann::json{{"dir", daemon().dir() + "/b2"}}.dump();
  EXPECT_EQ(HttpClient::Request(daemon().http_port(), "POST", "/v1/admin/backup", body, json).status, 401);
  EXPECT_EQ(HttpClient::Request(daemon().http_port(), "POST", "/v1/admin/backup", body, with_token("reader-pw")).status,
            403);
  EXPECT_FALSE(fs::exists(daemon().dir() + "/b2"));
  // Bad input: a number for dir, a relative dir, an unknown field; each a 400 naming it, nothing written.
  auto expect_400 = [&](const std::string& bad_body, const std::string& code) {
    HttpReply reply =
        HttpClient::Request(daemon().http_port(), "POST", "/v1/admin/backup", bad_body, with_token("admin-pw"));
    EXPECT_EQ(reply.status, 400) << bad_body << " -> " << reply.body;
    auto error = nlohmann::json::parse(reply.body, nullptr, false);
    EXPECT_FALSE(error.is_discarded()) << reply.body;
    if (!error.is_discarded()) {
      EXPECT_EQ(error["error"]["code"], code) << reply.body;
    }
  };
  expect_400(R"({"dir": 5})", "invalid_field");
  expect_400(R"({"dir": "relative/dir"})", "invalid_backup_dir");
  expect_400(R"({"directory": "/tmp/x"})", "unknown_field");
  EXPECT_FALSE(fs::exists(daemon().dir() + "/relative"));
  HttpReply made = HttpClient::Request(daemon().http_port(), "POST", "/v1/admin/backup", body, with_token("admin-pw"));
  ASSERT_EQ(made.status, 201) << made.body;
  auto reply = nlohmann::json::parse(made.body);
  EXPECT_EQ(reply["dir"], daemon().dir() + "/b2");
  EXPECT_GT(reply["bytes"].get<int64_t>(), 0);

  ProcessResult refused = Admin({"backup", daemon().dir() + "/b3", "-s", daemon().unix_socket()});
  EXPECT_EQ(refused.exit_code, 3) << refused.Describe();
  EXPECT_NE(refused.err.find("authentication"), std::string::npos) << refused.err;
  ProcessResult taken =
      Admin({"backup", daemon().dir() + "/b3", "-s", daemon().unix_socket(), "--password", "admin-pw"});
  EXPECT_EQ(taken.exit_code, 0) << taken.Describe();
  EXPECT_NE(taken.out.find(daemon().dir() + "/b3"), std::string::npos) << taken.out;
  EXPECT_EQ(Admin({"verify", daemon().dir() + "/b3"}).exit_code, 0);
}

}  // namespace
}  // namespace tally::itest
