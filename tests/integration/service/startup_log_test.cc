// The start-up log says what the daemon runs with, one fact a line: version,
// config file, data dir, listeners, durability, time zone, authentication,
// memory limit, recovery time with the log entries replayed, and the
// counters loaded into memory.

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <thread>

#include "service_util.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

TEST(StartupLog, NamesEveryFactOfTheStart) {
  TallydProcess daemon({"--compaction-interval-ms", "3600000", "--memory-limit", "33554432"});
  // The harness passes --config <dir>/tally.toml: the zone comes from it.
  WriteFile(daemon.dir() + "/tally.toml", "timezone = \"Europe/Berlin\"\ndurability = \"fsync\"\n");
  ASSERT_TRUE(daemon.Start());
  {
    auto client = RespClient::ConnectTcp(daemon.port());
    ASSERT_TRUE(client.has_value());
    for (const char* owner : {"user:1", "user:2", "user:3"}) {
      ASSERT_EQ(client->Call({"CTR.INCRBY", owner, "api_calls", "5"}).integer, 5);
    }
  }
  // kill -9: the increments are in the log only, so the next start replays them.
  ASSERT_TRUE(daemon.KillAndRestart());
  const auto deadline = SteadyClock::now() + 10s;
  while (!Contains(LastStartLog(daemon), "counters loaded:") && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  const std::string log = LastStartLog(daemon);
  const std::string port = std::to_string(daemon.port());
  const std::vector<std::pair<std::string, std::string>> facts = {
      {"version", R"(tallyd \d+\.\d+\.\d+ starting \(pid \d+\))"},
      {"config file", "config file: " + daemon.dir() + "/tally\\.toml"},
      {"data dir", "data dir: " + daemon.data_dir()},
      {"durability", R"(durability: fsync \(a write is acknowledged once the log is fsynced\))"},
      {"time zone", R"(time zone: Europe/Berlin \()"},
      {"authentication", R"(authentication: off)"},
      {"memory limit", R"(memory limit: 32 MiB)"},
      {"HTTP listener", "listening on http://127\\.0\\.0\\.1:" + std::to_string(daemon.http_port())},
      {"TCP listener", "listening on 127\\.0\\.0\\.1:" + port},
      {"unix socket listener", "listening on unix socket " + daemon.unix_socket()},
      {"recovery time and entries replayed", R"(recovered in \d+ ms: \d+ keys, 3 log entries replayed)"},
      {"counters loaded", R"(counters loaded: all stored counters in memory after \d+ ms \(3 counters of 3 owners\))"},
      {"ready", R"(\] ready)"},
  };
  for (const auto& [fact, pattern] : facts) {
    EXPECT_TRUE(std::regex_search(log, std::regex(pattern)))
        << "the start-up log does not say the " << fact << " (/" << pattern << "/):\n"
        << log;
  }
  ASSERT_TRUE(daemon.Stop());
}

TEST(StartupLog, SaysWhenThereIsNoConfigFile) {
  // No --config and no /etc/tally/tally.toml: the defaults and the flags.
  if (std::filesystem::exists("/etc/tally/tally.toml")) GTEST_SKIP() << "/etc/tally/tally.toml exists here";
  TempDir dir;
  // The daemon runs until the timeout kills it; its log is what is looked at.
  ProcessResult r = RunProcess({TallydPath(), "--data-dir", dir.Sub("data"), "--port", std::to_string(PickFreePort()),
                                "--http-port", std::to_string(PickFreePort()), "--unix-socket", "none"},
                               {}, 3s);
  EXPECT_TRUE(Contains(r.out + r.err, "config file: none (defaults and flags)")) << r.Describe();
  EXPECT_TRUE(Contains(r.out + r.err, "time zone: UTC")) << r.Describe();
}

}  // namespace
}  // namespace tally::itest
