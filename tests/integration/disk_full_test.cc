// A full disk and a failing device, driven for real against the tallyd binary:
//
//  * DiskFullTest: the data dir on a small tmpfs (needs mount rights; skipped
//    with the reason otherwise) filled up by a file: writes are refused with
//    disk_full over RESP and HTTP, reads are served, /ready is 503 with the
//    reason, INFO and /metrics show it; deleting the file lets writes resume
//    without a restart, and every acknowledged write is there (counted),
//    before and after a restart. Starting on the full disk exits 1 with
//    "no space left", never an abort.
//  * WriteFaultTest: the same without mount rights, through the test-only
//    fault-injecting file system (TALLY_TEST_FAULT_CONTROL, storage/fault_fs.h):
//    ENOSPC on demand, an fsync that fails (writes stop until a restart, reads
//    go on), a log append that fails with EIO.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "filesystem_util.h"
#include "http_client.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

using json = nlohmann::json;

// Acknowledged, refused and unknown-outcome writes of one owner's counter.
struct WriteTally {
  int64_t acknowledged = 0;
  int64_t unknown = 0;  // applied in memory when the disk filled up: may or may not land
  int64_t next_id = 0;
  std::string refusal;  // the error text of the refused write
};

// ID'd increments of user:1 k over RESP until one is refused (or `limit`).
void WriteUntilRefused(TallydProcess& daemon, WriteTally& tally, int64_t limit) {
  auto client = RespClient::ConnectTcp(daemon.port());
  ASSERT_TRUE(client.has_value());
  for (int64_t n = 0; n < limit; ++n) {
    RespValue reply = client->Call({"CTR.INCRBY", "user:1", "k", "1", "ID", "e" + std::to_string(tally.next_id++)});
    if (reply.type == RespValue::Type::kInteger) {
      ++tally.acknowledged;
      continue;
    }
    if (reply.is_error() && Contains(reply.str, "not acknowledged")) {
      // The write was in the group commit that hit the full disk: the
      // connection closes after this error.
      ++tally.unknown;
      client = RespClient::ConnectTcp(daemon.port());
      ASSERT_TRUE(client.has_value());
      continue;
    }
    ASSERT_TRUE(reply.is_error()) << reply;
    tally.refusal = reply.str;
    return;
  }
}

int64_t Total(TallydProcess& daemon) {
  auto client = RespClient::ConnectTcp(daemon.port());
  if (!client) return -1;
  RespValue total = client->Call({"CTR.GET", "user:1", "k"});
  return total.type == RespValue::Type::kInteger ? total.integer : -1;
}

std::string InfoField(TallydProcess& daemon, const std::string& field) {
  auto client = RespClient::ConnectTcp(daemon.port());
  if (!client) return "";
  RespValue info = client->Call({"INFO", "persistence"});
  size_t at = info.str.find(field + ":");
  if (at == std::string::npos) return "";
  at += field.size() + 1;
  return info.str.substr(at, info.str.find("\r\n", at) - at);
}

// Polls /ready until it answers `status` (or ~10 s pass).
HttpReply WaitReady(TallydProcess& daemon, int status) {
  HttpReply reply;
  for (int i = 0; i < 200; ++i) {
    auto client = HttpClient::Connect(daemon.http_port());
    if (client) reply = client->Call("GET", "/ready");
    if (reply.status == status) return reply;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return reply;
}

// The checks every disk-full case shares, while the disk is full.
void ExpectWritesRefusedReadsServed(TallydProcess& daemon, int64_t total) {
  // RESP: the error names the cause.
  auto resp = RespClient::ConnectTcp(daemon.port());
  ASSERT_TRUE(resp.has_value());
  RespValue refused = resp->Call({"SET", "a", "b"});
  EXPECT_TRUE(refused.is_error() && Contains(refused.str, "no space left on device")) << refused;
  EXPECT_EQ(resp->Call({"CTR.GET", "user:1", "k"}).integer, total);
  // HTTP: 507 disk_full for a write, 200 for a read, /ready 503 with why.
  auto http = HttpClient::Connect(daemon.http_port());
  ASSERT_TRUE(http.has_value());
  HttpReply write = http->Call("POST", "/v1/owners/user:1/counters/k/increment", "{\"id\": \"http-1\"}");
  EXPECT_EQ(write.status, 507) << write;
  EXPECT_EQ(json::parse(write.body, nullptr, false)["error"]["code"], "disk_full") << write;
  HttpReply read = http->Call("GET", "/v1/owners/user:1/counters/k");
  EXPECT_EQ(read.status, 200) << read;
  EXPECT_TRUE(Contains(read.body, std::to_string(total))) << read;
  HttpReply ready = http->Call("GET", "/ready");
  EXPECT_EQ(ready.status, 503) << ready;
  EXPECT_EQ(json::parse(ready.body, nullptr, false)["error"]["code"], "disk_full") << ready;
  EXPECT_TRUE(Contains(ready.body, "no space left")) << ready;
  EXPECT_EQ(InfoField(daemon, "write_state"), "disk_full");
  HttpReply metrics = http->Call("GET", "/metrics");
  EXPECT_TRUE(Contains(metrics.body, "\ntally_write_state 1\n")) << metrics.body.substr(0, 200);
}

TEST(DiskFullTest, AFullFilesystemRefusesWritesServesReadsAndResumesWhenSpaceReturns) {
  TallydProcess daemon({"--disk-reserve-bytes", "1048576"});
  TmpfsMount mount(daemon.data_dir(), "48m");
  if (!mount.mounted()) {
    GTEST_SKIP() << "cannot mount a tmpfs on the data dir (" << mount.error()
                 << "); WriteFaultTest covers a full disk through the fault-injecting file system";
  }
  ASSERT_TRUE(daemon.Start());
  EXPECT_EQ(InfoField(daemon, "disk_reserve_held"), "1");

  WriteTally tally;
  WriteUntilRefused(daemon, tally, 2000);
  ASSERT_EQ(tally.acknowledged, 2000) << tally.refusal;

  const std::string filler = daemon.data_dir() + "/filler";
  ASSERT_GT(FillUp(filler), 0);
  WriteUntilRefused(daemon, tally, 100000);
  ASSERT_TRUE(Contains(tally.refusal, "no space left on device")) << tally.refusal;
  const int64_t total = Total(daemon);
  EXPECT_GE(total, tally.acknowledged);
  EXPECT_LE(total, tally.acknowledged + tally.unknown);
  ExpectWritesRefusedReadsServed(daemon, total);
  // Still refused a while later: no flapping while the disk stays full.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(InfoField(daemon, "write_state"), "disk_full");

  // Space returns: writes resume by themselves, nothing lost.
  std::filesystem::remove(filler);
  HttpReply ready = WaitReady(daemon, 200);
  ASSERT_EQ(ready.status, 200) << ready << daemon.LogTail();
  EXPECT_EQ(InfoField(daemon, "write_state"), "ok");
  EXPECT_EQ(InfoField(daemon, "disk_reserve_held"), "1");
  WriteTally after;
  after.next_id = tally.next_id;
  WriteUntilRefused(daemon, after, 1000);
  EXPECT_EQ(after.acknowledged, 1000) << after.refusal;
  const int64_t final_total = Total(daemon);
  EXPECT_EQ(final_total, total + 1000);
  EXPECT_TRUE(Contains(daemon.ReadLog(), "writes resume")) << daemon.LogTail();

  ASSERT_TRUE(daemon.Restart());
  EXPECT_EQ(Total(daemon), final_total);

  // Starting on a full disk: a message, exit status 1, no abort.
  ASSERT_TRUE(daemon.Stop());
  ASSERT_GT(FillUp(filler), -1);
  std::filesystem::remove(daemon.data_dir() + "/tally.reserve");
  FillUp(filler);
  ASSERT_TRUE(daemon.Spawn());
  for (int i = 0; i < 400 && daemon.Alive(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  ASSERT_FALSE(daemon.Alive()) << "tallyd started on a full disk";
  const int status = daemon.last_wait_status();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << "wait status " << status << daemon.LogTail();
  EXPECT_TRUE(Contains(daemon.LogTail(), "no space left")) << daemon.LogTail();

  // And with room again it starts with everything.
  std::filesystem::remove(filler);
  ASSERT_TRUE(daemon.Start());
  EXPECT_EQ(Total(daemon), final_total);
}

// The fault-injecting file system, switched by a control file.
class WriteFaultTest : public ::testing::Test {
 protected:
  void SetFault(const std::string& word) { std::ofstream(control_) << word; }
  ::testing::AssertionResult StartWithFaults(TallydProcess& daemon) {
    control_ = daemon.dir() + "/fault";
    SetFault("");
    ::setenv("TALLY_TEST_FAULT_CONTROL", control_.c_str(), 1);
    auto started = daemon.Start();
    ::unsetenv("TALLY_TEST_FAULT_CONTROL");
    return started;
  }
  std::string control_;
};

TEST_F(WriteFaultTest, NoSpaceRefusesWritesAndTheyResumeWithoutARestart) {
  TallydProcess daemon({"--disk-reserve-bytes", "65536"});
  ASSERT_TRUE(StartWithFaults(daemon));
  WriteTally tally;
  WriteUntilRefused(daemon, tally, 1000);
  ASSERT_EQ(tally.acknowledged, 1000);

  SetFault("nospace");
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // the switch is re-read every 10 ms
  WriteUntilRefused(daemon, tally, 1000);
  ASSERT_TRUE(Contains(tally.refusal, "no space left on device")) << tally.refusal;
  const int64_t total = Total(daemon);
  EXPECT_GE(total, tally.acknowledged);
  EXPECT_LE(total, tally.acknowledged + tally.unknown);
  ExpectWritesRefusedReadsServed(daemon, total);

  SetFault("");
  ASSERT_EQ(WaitReady(daemon, 200).status, 200) << daemon.LogTail();
  WriteTally after;
  after.next_id = tally.next_id;
  WriteUntilRefused(daemon, after, 500);
  EXPECT_EQ(after.acknowledged, 500) << after.refusal;
  const int64_t final_total = Total(daemon);
  EXPECT_EQ(final_total, total + 500);

  // Every acknowledged write, and the kept ones, survive a kill -9.
  daemon.Kill();
  ASSERT_TRUE(daemon.Start());
  EXPECT_EQ(Total(daemon), final_total);
}

TEST_F(WriteFaultTest, AFailedFsyncStopsWritesUntilARestartAndReadsGoOn) {
  TallydProcess daemon({"--fsync-interval-ms", "20"});
  ASSERT_TRUE(StartWithFaults(daemon));
  WriteTally tally;
  WriteUntilRefused(daemon, tally, 500);
  ASSERT_EQ(tally.acknowledged, 500);

  SetFault("syncerror");
  HttpReply ready = WaitReady(daemon, 503);
  ASSERT_EQ(ready.status, 503) << daemon.LogTail();
  EXPECT_EQ(json::parse(ready.body, nullptr, false)["error"]["code"], "storage_failed") << ready;
  SetFault("");  // the device heals, but what an fsync lost is unknown: writes stay refused
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto resp = RespClient::ConnectTcp(daemon.port());
  ASSERT_TRUE(resp.has_value());
  RespValue refused = resp->Call({"CTR.INCRBY", "user:1", "k", "1"});
  EXPECT_TRUE(refused.is_error() && Contains(refused.str, "storage failure")) << refused;
  EXPECT_EQ(resp->Call({"CTR.GET", "user:1", "k"}).integer, 500);
  auto http = HttpClient::Connect(daemon.http_port());
  ASSERT_TRUE(http.has_value());
  HttpReply write = http->Call("POST", "/v1/owners/user:1/counters/k/increment", "{}");
  EXPECT_EQ(write.status, 503) << write;
  EXPECT_EQ(json::parse(write.body, nullptr, false)["error"]["code"], "storage_failed") << write;
  EXPECT_EQ(http->Call("GET", "/v1/owners/user:1/counters/k").status, 200);
  EXPECT_EQ(InfoField(daemon, "write_state"), "failed");
  EXPECT_TRUE(Contains(http->Call("GET", "/metrics").body, "\ntally_write_state 2\n"));
  EXPECT_TRUE(daemon.Alive());

  daemon.Kill();
  ASSERT_TRUE(daemon.Start());
  EXPECT_EQ(Total(daemon), 500);
  EXPECT_EQ(InfoField(daemon, "write_state"), "ok");
}

TEST_F(WriteFaultTest, AFailedLogAppendStopsWritesUntilARestart) {
  TallydProcess daemon;
  ASSERT_TRUE(StartWithFaults(daemon));
  WriteTally tally;
  WriteUntilRefused(daemon, tally, 300);
  ASSERT_EQ(tally.acknowledged, 300);
  SetFault("ioerror");
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  auto resp = RespClient::ConnectTcp(daemon.port());
  ASSERT_TRUE(resp.has_value());
  RespValue failed = resp->Call({"CTR.INCRBY", "user:1", "k", "1"});
  // The write in flight: its reply is withheld, one error says why.
  EXPECT_TRUE(failed.is_error() && Contains(failed.str, "storage failure")) << failed;
  SetFault("");
  resp = RespClient::ConnectTcp(daemon.port());
  ASSERT_TRUE(resp.has_value());
  RespValue refused = resp->Call({"CTR.INCRBY", "user:1", "k", "1"});
  EXPECT_TRUE(refused.is_error() && Contains(refused.str, "storage failure")) << refused;
  RespValue read = resp->Call({"CTR.GET", "user:1", "k"});
  EXPECT_GE(read.integer, 300) << read;
  EXPECT_EQ(WaitReady(daemon, 503).status, 503);
  daemon.Kill();
  ASSERT_TRUE(daemon.Start());
  const int64_t total = Total(daemon);
  EXPECT_GE(total, 300);
  EXPECT_LE(total, 301);
}

}  // namespace
}  // namespace tally::itest
