// File descriptors: tallyd started under a low `ulimit -n` lowers max_clients
// to fit (and says so); descriptors running out while it runs pause
// accepting (one log line per streak, no busy loop), the open connections
// are served, and accepting resumes once descriptors are free again.

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdio>
#include <thread>
#include <vector>

#include "limits_util.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

constexpr int kConnections = 400;

// Connects `count` clients (TCP connect completes in the kernel's backlog
// whether or not tallyd accepts).
std::vector<RespClient> ConnectMany(int port, int count) {
  std::vector<RespClient> clients;
  for (int i = 0; i < count; ++i) {
    auto client = RespClient::ConnectTcp(port, 2s);
    if (!client) break;
    clients.push_back(std::move(*client));
  }
  return clients;
}

TEST(FdLimitTest, StartUnderLowUlimitLowersMaxClientsToFit) {
  TallydProcess daemon;
  daemon.set_fd_limit(256);
  ASSERT_TRUE(daemon.Start());
  const std::string log = daemon.ReadLog();
  ASSERT_TRUE(Contains(log, "lowering max_clients from 10000 to")) << log;
  const int64_t max_clients = NumberAfter(log, "lowering max_clients from 10000 to ");
  ASSERT_GT(max_clients, 50);
  ASSERT_LT(max_clients, 256);
  EXPECT_TRUE(Contains(log, "and http_max_connections from 1024 to")) << log;

  const int64_t cpu_before = CpuMillis(daemon.pid());
  std::vector<RespClient> clients = ConnectMany(daemon.port(), kConnections);
  ASSERT_EQ(static_cast<int>(clients.size()), kConnections);
  int served = 0, refused = 0, other = 0;
  // The refused ones were told at once: read that first (sending to a
  // closed connection could bring a reset before the error is read).
  std::this_thread::sleep_for(300ms);
  std::vector<RespClient*> admitted;
  for (RespClient& client : clients) {
    RespValue told = client.ReadReply(1ms);
    if (!told.ok()) {
      admitted.push_back(&client);
    } else if (told.is_error() && told.str == "ERR max number of clients reached") {
      ++refused;
    } else {
      ++other;
    }
  }
  for (RespClient* client : admitted) client->Send(EncodeCommand({"PING"}));
  for (RespClient* client : admitted) {
    RespValue reply = client->ReadReply(5s);
    if (reply.type == RespValue::Type::kSimple && reply.str == "PONG") {
      ++served;
    } else {
      ++other;
    }
  }
  const int64_t cpu_used = CpuMillis(daemon.pid()) - cpu_before;
  // Every connection got an answer: the ones within the lowered limit are
  // served, the rest refused in words; none waits on a descriptor.
  EXPECT_EQ(other, 0);
  EXPECT_LE(served, max_clients);
  EXPECT_GE(served, max_clients - 2);  // the harness's readiness probe may still be counted
  EXPECT_EQ(served + refused, kConnections);
  EXPECT_LT(cpu_used, 1500) << "CPU ms used while answering " << kConnections << " connections";
  EXPECT_EQ(CountOccurrences(daemon.ReadLog(), "accept failed"), 0) << "the budget left no descriptor short";
  EXPECT_LE(OpenFds(daemon.pid()), 256);

  clients.clear();
  std::this_thread::sleep_for(200ms);
  auto again = RespClient::ConnectTcp(daemon.port());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->Call({"PING"}).str, "PONG");
  EXPECT_TRUE(daemon.Stop());
}

TEST(FdLimitTest, TooLowUlimitRefusesToStartWithTheNumberNeeded) {
  TallydProcess daemon;
  daemon.set_fd_limit(64);
  ASSERT_TRUE(daemon.Spawn());
  for (int i = 0; i < 500 && daemon.Alive(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_FALSE(daemon.Alive());
  EXPECT_TRUE(WIFEXITED(daemon.last_wait_status()) && WEXITSTATUS(daemon.last_wait_status()) == 1);
  EXPECT_TRUE(Contains(daemon.ReadLog(), "the file descriptor limit of 64 (ulimit -n, LimitNOFILE) is too low"))
      << daemon.ReadLog();
}

// The daemon's own limit is lowered under it (prlimit(2), as `prlimit
// --nofile` does): more connections arrive than descriptors are left.
TEST(FdLimitTest, RunningOutOfDescriptorsPausesAcceptingWithoutSpinning) {
  TallydProcess daemon;
  ASSERT_TRUE(daemon.Start());
  auto first = RespClient::ConnectTcp(daemon.port());
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->Call({"INCRBY", "k", "1"}).integer, 1);

  const int64_t open_now = OpenFds(daemon.pid());
  ASSERT_GT(open_now, 0);
  struct rlimit limit {};
  ASSERT_EQ(::prlimit(daemon.pid(), RLIMIT_NOFILE, nullptr, &limit), 0);
  const int64_t room = 20;
  limit.rlim_cur = static_cast<rlim_t>(open_now + room);
  ASSERT_EQ(::prlimit(daemon.pid(), RLIMIT_NOFILE, &limit, nullptr), 0) << strerror(errno);

  std::vector<RespClient> clients = ConnectMany(daemon.port(), 200);
  ASSERT_EQ(clients.size(), 200u);
  std::this_thread::sleep_for(300ms);  // let the accept loop hit the limit
  const int64_t cpu_before = CpuMillis(daemon.pid());
  std::this_thread::sleep_for(1500ms);
  const int64_t cpu_used = CpuMillis(daemon.pid()) - cpu_before;
  // 50 ms pauses: about 30 failed accepts in 1.5 s, not a spinning loop.
  EXPECT_LT(cpu_used, 300) << "CPU ms used in 1.5 s while out of descriptors";
  const std::string log = daemon.ReadLog();
  std::printf("out of descriptors for 1.5 s: %lld ms CPU, %lld accept-failed lines\n", static_cast<long long>(cpu_used),
              static_cast<long long>(CountOccurrences(log, "accept failed")));
  // One line per streak of failures, however many accepts failed.
  EXPECT_GE(CountOccurrences(log, "accept failed"), 1);
  EXPECT_LE(CountOccurrences(log, "accept failed"), 2) << log.substr(log.size() > 4096 ? log.size() - 4096 : 0);
  EXPECT_TRUE(Contains(log, "Too many open files")) << daemon.LogTail(2048);

  // The open connections are served throughout.
  EXPECT_EQ(first->Call({"INCRBY", "k", "1"}, 2s).integer, 2);
  // The first clients were accepted before the descriptors ran out.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(clients[i].Call({"PING"}, 2s).str, "PONG") << "client " << i;
  }

  // The clients close (the limit stays low): their descriptors come back,
  // the backlog is accepted (and closed at EOF), and so is a new client.
  clients.clear();
  auto later = RespClient::ConnectTcpRetrying(daemon.port());
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->Call({"PING"}, 5s).str, "PONG");
  EXPECT_TRUE(Contains(daemon.ReadLog(), "accepting again after")) << daemon.LogTail(2048);
  EXPECT_EQ(first->Call({"GET", "k"}).str, "2");
  EXPECT_TRUE(daemon.Stop());
}

}  // namespace
}  // namespace tally::itest
