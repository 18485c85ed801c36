// Graceful stop under load. On SIGTERM tallyd stops accepting, lets every
// connection receive the replies it is owed (up to shutdown_drain_ms), writes
// the log, compacts, flushes and exits 0. A reply is sent only once its write
// is in the log, and a command the drain does not run is never applied, so
// for every connection
//     acknowledged (replies received) <= value after restart <= sent.
// (Not ==: a command may run and its reply be lost when the connection
// closes with pipelined requests still unread, which resets it.)
// A second SIGTERM during a long drain exits at once, with the same promise.

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <regex>
#include <thread>

#include "service_util.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

// One connection's increments of its own counter (owner `owner`, key hits).
struct ClientTally {
  std::string owner;
  int64_t sent = 0;          // commands written (a window counts whole once its send starts)
  int64_t acknowledged = 0;  // integer replies received
  bool in_order = true;      // each reply was the previous total + 1
  std::string end;           // why the connection ended
};

std::string IncrementBatch(const std::string& owner, int commands) {
  std::string batch;
  for (int i = 0; i < commands; ++i) batch += EncodeCommand({"CTR.INCRBY", owner, "hits", "1"});
  return batch;
}

// Pipelines windows of `window` increments and reads their replies, until
// the server closes the connection (or `give_up` passes).
void PipelineUntilClosed(int port, ClientTally* tally, int window, std::atomic<int64_t>* total_acknowledged) {
  auto client = RespClient::ConnectTcpRetrying(port);
  if (!client) {
    tally->end = "cannot connect";
    return;
  }
  const std::string batch = IncrementBatch(tally->owner, window);
  const auto give_up = SteadyClock::now() + 60s;
  while (SteadyClock::now() < give_up) {
    tally->sent += window;
    if (!client->Send(batch)) {
      tally->end = "send failed";
      return;
    }
    for (int i = 0; i < window; ++i) {
      RespValue reply = client->ReadReply(10s);
      if (reply.type != RespValue::Type::kInteger) {
        tally->end = reply.ToString();
        return;
      }
      tally->in_order = tally->in_order && reply.integer == tally->acknowledged + 1;
      ++tally->acknowledged;
      total_acknowledged->fetch_add(1);
    }
  }
  tally->end = "gave up after 60 s";
}

// The counters after a restart: each between what was acknowledged and what was sent.
void ExpectNoAcknowledgedWriteLost(TallydProcess& daemon, const std::vector<ClientTally>& tallies) {
  int64_t acknowledged = 0, sent = 0, stored = 0;
  auto client = RespClient::ConnectTcp(daemon.port());
  ASSERT_TRUE(client.has_value());
  for (const ClientTally& tally : tallies) {
    RespValue value = client->Call({"CTR.GET", tally.owner, "hits"});
    ASSERT_EQ(value.type, RespValue::Type::kInteger) << value;
    EXPECT_TRUE(tally.in_order) << tally.owner << ": replies out of order";
    EXPECT_GE(value.integer, tally.acknowledged)
        << tally.owner << ": an acknowledged increment was lost (" << tally.end << ")";
    EXPECT_LE(value.integer, tally.sent) << tally.owner << ": more increments stored than sent";
    acknowledged += tally.acknowledged;
    sent += tally.sent;
    stored += value.integer;
  }
  std::cout << "acknowledged " << acknowledged << ", stored " << stored << ", sent " << sent << "\n";
}

// Waits until `counter` reaches `target` (or 20 s).
bool WaitForCount(const std::atomic<int64_t>& counter, int64_t target) {
  const auto deadline = SteadyClock::now() + 20s;
  while (counter.load() < target) {
    if (SteadyClock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

bool WaitForLog(const TallydProcess& daemon, const std::string& text, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (!Contains(LastStartLog(daemon), text)) {
    if (SteadyClock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(GracefulStop, SigtermUnderPipelinedLoadLosesNoAcknowledgedWriteAndExitsZero) {
  TallydProcess daemon({"--shutdown-drain-ms", "10000"});
  ASSERT_TRUE(daemon.Start());
  constexpr int kConnections = 16;
  std::vector<ClientTally> tallies(kConnections);
  std::atomic<int64_t> acknowledged{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kConnections; ++i) {
    tallies[i].owner = "drain:" + std::to_string(i);
    clients.emplace_back(PipelineUntilClosed, daemon.port(), &tallies[i], 32, &acknowledged);
  }
  // SIGTERM in the middle of the load.
  const bool loaded = WaitForCount(acknowledged, 20'000);
  const auto stop_started = SteadyClock::now();
  const ::testing::AssertionResult stopped = daemon.Stop(30s);  // SIGTERM, expects exit status 0
  const auto stop_ms = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - stop_started);
  for (std::thread& client : clients) client.join();
  ASSERT_TRUE(loaded) << "the load did not get going: " << acknowledged.load() << " replies";
  ASSERT_TRUE(stopped);
  std::cout << "stopped in " << stop_ms.count() << " ms under load\n";
  EXPECT_LT(stop_ms, 10s) << "the drain waited for its deadline";
  EXPECT_TRUE(Contains(LastStartLog(daemon), "stopped cleanly")) << daemon.LogTail(4096);
  for (const ClientTally& tally : tallies) EXPECT_GT(tally.acknowledged, 0) << tally.owner << ": " << tally.end;

  ASSERT_TRUE(daemon.Start());
  ExpectNoAcknowledgedWriteLost(daemon, tallies);
  // The clean stop compacted and flushed everything: nothing to replay.
  EXPECT_TRUE(Contains(LastStartLog(daemon), " 0 log entries replayed")) << LastStartLog(daemon);
}

TEST(GracefulStop, SecondSigtermDuringALongDrainExitsAtOnceLosingNoAcknowledgedWrite) {
  // No compaction on a timer: the log a restart replays is all since start.
  TallydProcess daemon({"--shutdown-drain-ms", "60000", "--compaction-interval-ms", "3600000"});
  ASSERT_TRUE(daemon.Start());
  // A 1 MiB value: connections that ask for it and never read jam at once,
  // and keep the drain waiting (they are owed replies).
  {
    auto client = RespClient::ConnectTcp(daemon.port());
    ASSERT_TRUE(client.has_value());
    ASSERT_EQ(client->CallRaw({"SET", "big", std::string(1 << 20, 'x')}), "+OK\r\n");
  }
  constexpr int kReaders = 8, kJammed = 4;
  std::vector<ClientTally> tallies(kReaders + kJammed);
  std::atomic<int64_t> acknowledged{0};
  std::atomic<int64_t> jammed_sent{0};
  std::atomic<bool> daemon_gone{false};
  std::vector<std::thread> clients;
  for (int i = 0; i < kReaders; ++i) {
    tallies[i].owner = "reader:" + std::to_string(i);
    clients.emplace_back(PipelineUntilClosed, daemon.port(), &tallies[i], 32, &acknowledged);
  }
  for (int i = 0; i < kJammed; ++i) {
    ClientTally* tally = &tallies[kReaders + i];
    tally->owner = "jammed:" + std::to_string(i);
    clients.emplace_back([port = daemon.port(), tally, &jammed_sent, &daemon_gone] {
      auto client = RespClient::ConnectTcpRetrying(port);
      if (!client) return;
      // Increment, GET big, increment, GET big, ... with no reading: the
      // sends block once tallyd stops reading, which is the point.
      std::string pair = EncodeCommand({"CTR.INCRBY", tally->owner, "hits", "1"}) + EncodeCommand({"GET", "big"});
      std::string batch;
      for (int i = 0; i < 64; ++i) batch += pair;
      for (int round = 0; round < 50; ++round) {
        tally->sent += 64;
        jammed_sent.fetch_add(64);
        if (!client->Send(batch)) break;
      }
      // Once tallyd is gone, read what reached us (the replies alternate).
      while (!daemon_gone.load()) std::this_thread::sleep_for(5ms);
      while (true) {
        RespValue reply = client->ReadReply(5s);
        if (reply.type == RespValue::Type::kInteger) {
          tally->in_order = tally->in_order && reply.integer == tally->acknowledged + 1;
          ++tally->acknowledged;
        } else if (reply.type != RespValue::Type::kBulk) {
          tally->end = reply.ToString();
          break;
        }
      }
    });
  }
  const bool loaded = WaitForCount(acknowledged, 10'000) && WaitForCount(jammed_sent, 64 * kJammed);
  std::this_thread::sleep_for(200ms);  // the jammed ones fill their buffers

  const bool first_sent = ::kill(daemon.pid(), SIGTERM) == 0;
  const bool stopping = WaitForLog(daemon, "SIGTERM: stopping", 10s);
  // The drain is long (60 s): the jammed connections never take their replies.
  std::this_thread::sleep_for(500ms);
  const bool still_draining = daemon.Alive();
  const auto second_at = SteadyClock::now();
  if (daemon.pid() > 0) ::kill(daemon.pid(), SIGTERM);
  while (daemon.Alive() && SteadyClock::now() - second_at < 20s) std::this_thread::sleep_for(5ms);
  const auto exit_ms = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - second_at);
  const bool exited = !daemon.Alive();
  if (!exited) daemon.Kill();
  daemon_gone = true;
  for (std::thread& client : clients) client.join();

  ASSERT_TRUE(loaded) << "the load did not get going";
  ASSERT_TRUE(first_sent && stopping) << daemon.LogTail(4096);
  ASSERT_TRUE(still_draining) << "the drain ended before the second SIGTERM: the test proves nothing\n"
                              << daemon.LogTail(4096);
  ASSERT_TRUE(exited) << "a second SIGTERM did not end the drain";
  std::cout << "exited " << exit_ms.count() << " ms after the second SIGTERM\n";
  EXPECT_LT(exit_ms, 3s);
  const int status = daemon.last_wait_status();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
  EXPECT_TRUE(Contains(LastStartLog(daemon), "second SIGTERM: stopping now")) << daemon.LogTail(4096);
  EXPECT_FALSE(Contains(LastStartLog(daemon), "stopped cleanly"));

  ASSERT_TRUE(daemon.Start());
  ExpectNoAcknowledgedWriteLost(daemon, tallies);
  // The final compaction was skipped: the log is replayed instead.
  std::smatch replayed;
  const std::string log = LastStartLog(daemon);
  ASSERT_TRUE(std::regex_search(log, replayed, std::regex(R"((\d+) log entries replayed)"))) << log;
  EXPECT_GT(std::stoll(replayed[1]), 0) << log;
}

}  // namespace
}  // namespace tally::itest
