// The systemd notify protocol (sd_notify) over a fake NOTIFY_SOCKET: the test
// is systemd. READY=1 comes once the listeners accept connections,
// WATCHDOG=1 every WATCHDOG_USEC/2 when the watchdog is on (and never when
// it is off), STOPPING=1 at SIGTERM, before the daemon exits 0.

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <thread>

#include "service_util.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

// Sets the environment variables of the tallyd started meanwhile (the
// harness passes its own environment on), and removes them after.
class ScopedEnvironment {
 public:
  explicit ScopedEnvironment(std::vector<std::pair<std::string, std::string>> values) : values_(std::move(values)) {
    for (const auto& [name, value] : values_) ::setenv(name.c_str(), value.c_str(), 1);
  }
  ~ScopedEnvironment() {
    for (const auto& [name, value] : values_) ::unsetenv(name.c_str());
  }

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

size_t CountWithLine(const std::vector<std::string>& datagrams, const std::string& line) {
  size_t count = 0;
  for (const std::string& datagram : datagrams) count += HasLine(datagram, line) ? 1 : 0;
  return count;
}

TEST(SystemdNotify, ReadyOnceListeningWatchdogPingsAndStoppingAtSigterm) {
  TallydProcess daemon;
  NotifySocket notify(daemon.dir() + "/notify.sock");
  ASSERT_TRUE(notify.ok()) << "cannot bind " << notify.path();
  {
    // 200 ms: a ping every 100 ms.
    ScopedEnvironment environment({{"NOTIFY_SOCKET", notify.path()}, {"WATCHDOG_USEC", "200000"}});
    ASSERT_TRUE(daemon.Spawn());
  }
  std::vector<std::string> seen;
  ASSERT_TRUE(notify.WaitFor("READY=1", 20s, &seen)) << "no READY=1; got " << ::testing::PrintToString(seen) << "\n"
                                                     << daemon.LogTail(4096);
  // Ready means listening: both RESP listeners and HTTP answer right away.
  auto tcp = RespClient::ConnectTcp(daemon.port(), 1s);
  ASSERT_TRUE(tcp.has_value()) << "READY=1 before the TCP listener accepts";
  EXPECT_EQ(tcp->Call({"PING"}, 2s).str, "PONG");
  auto unix_client = RespClient::ConnectUnix(daemon.unix_socket());
  ASSERT_TRUE(unix_client.has_value()) << "READY=1 before the unix socket accepts";
  EXPECT_EQ(unix_client->Call({"PING"}, 2s).str, "PONG");
  EXPECT_EQ(HttpClient::Request(daemon.http_port(), "GET", "/ready").status, 200);
  EXPECT_EQ(CountWithLine(seen, "STOPPING=1"), 0u);

  // Watchdog pings keep coming while the daemon runs.
  seen.clear();
  const auto until = SteadyClock::now() + 1s;
  while (SteadyClock::now() < until) {
    if (auto datagram = notify.Receive(100ms)) seen.push_back(*datagram);
  }
  EXPECT_GE(CountWithLine(seen, "WATCHDOG=1"), 4u) << ::testing::PrintToString(seen);
  EXPECT_TRUE(Contains(daemon.ReadLog(), "systemd watchdog: WATCHDOG=1 every 100 ms")) << daemon.LogTail(4096);

  ASSERT_EQ(::kill(daemon.pid(), SIGTERM), 0);
  seen.clear();
  EXPECT_TRUE(notify.WaitFor("STOPPING=1", 10s, &seen)) << ::testing::PrintToString(seen);
  ASSERT_TRUE(daemon.Stop(20s));  // exit status 0
}

TEST(SystemdNotify, NoWatchdogPingsWithoutWatchdogUsec) {
  TallydProcess daemon;
  NotifySocket notify(daemon.dir() + "/notify.sock");
  ASSERT_TRUE(notify.ok());
  {
    ScopedEnvironment environment({{"NOTIFY_SOCKET", notify.path()}});
    ASSERT_TRUE(daemon.Spawn());
  }
  std::vector<std::string> seen;
  ASSERT_TRUE(notify.WaitFor("READY=1", 20s, &seen)) << daemon.LogTail(4096);
  const auto until = SteadyClock::now() + 600ms;
  while (SteadyClock::now() < until) {
    if (auto datagram = notify.Receive(100ms)) seen.push_back(*datagram);
  }
  EXPECT_EQ(CountWithLine(seen, "WATCHDOG=1"), 0u) << ::testing::PrintToString(seen);
  EXPECT_TRUE(Contains(daemon.ReadLog(), "(READY=1 sent to systemd)")) << daemon.LogTail(4096);
  ASSERT_TRUE(daemon.Stop(20s));
}

}  // namespace
}  // namespace tally::itest
