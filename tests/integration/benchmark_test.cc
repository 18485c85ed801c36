// redis-benchmark (Debian's redis-tools) runs against tallyd without errors,
// with and without pipelining, over TCP and the unix socket. No speed is
// asserted here (tools/bench compares with redis-server); only that every
// request is answered and the counts add up.

#include <gtest/gtest.h>

#include "tallyd_process.h"

namespace tally::itest {
namespace {

using BenchmarkTest = TallydTest;

// redis-benchmark -q prints progress lines ending in \r and one final line per
// test: "SET: 123456.79 requests per second, p50=0.199 msec".
std::vector<std::string> SummaryLines(const std::string& out) {
  std::vector<std::string> lines;
  std::string current;
  for (char ch : out) {
    if (ch == '\r' || ch == '\n') {
      if (Contains(current, "requests per second") && !Contains(current, "rps=")) lines.push_back(Trim(current));
      current.clear();
    } else {
      current.push_back(ch);
    }
  }
  return lines;
}

void RunBenchmark(const std::vector<std::string>& target, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {RedisBenchmarkPath()};
  argv.insert(argv.end(), target.begin(), target.end());
  for (const char* a : {"-t", "ping,set,get,incr", "-n", "20000", "-q"}) argv.emplace_back(a);
  argv.insert(argv.end(), extra.begin(), extra.end());
  ProcessResult r = RunProcess(argv, {}, 120s);
  ASSERT_TRUE(r.exited) << r.Describe();
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_FALSE(Contains(r.out + r.err, "Error")) << r.Describe();
  EXPECT_FALSE(Contains(r.out + r.err, "ERR")) << r.Describe();
  auto lines = SummaryLines(r.out);
  for (const char* test : {"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR"}) {
    bool found = false;
    for (const auto& line : lines) found = found || line.rfind(std::string(test) + ": ", 0) == 0;
    EXPECT_TRUE(found) << "no 'requests per second' line for " << test << " in:\n" << ::testing::PrintToString(lines);
  }
}

TEST_F(BenchmarkTest, RedisBenchmarkCompletesWithoutErrors) {
  RunBenchmark({"-h", "127.0.0.1", "-p", std::to_string(port())}, {});
  // Every INCR was applied exactly once (no -r: one key), SET wrote its 3-byte value.
  EXPECT_EQ(Cli({"GET", "counter:__rand_int__"}), "\"20000\"");
  auto c = RespClient::ConnectTcp(port());
  ASSERT_TRUE(c.has_value());
  RespValue value = c->Call({"GET", "key:__rand_int__"});
  EXPECT_EQ(value.type, RespValue::Type::kBulk) << value;
  EXPECT_EQ(value.str.size(), 3u) << value;
}

TEST_F(BenchmarkTest, RedisBenchmarkWithPipelineOf16CompletesWithoutErrors) {
  RunBenchmark({"-h", "127.0.0.1", "-p", std::to_string(port())}, {"-P", "16"});
  EXPECT_EQ(Cli({"GET", "counter:__rand_int__"}), "\"20000\"");
  RunBenchmark({"-h", "127.0.0.1", "-p", std::to_string(port())}, {"-P", "16", "-c", "50", "-r", "100000"});
  EXPECT_TRUE(daemon().Alive());
}

TEST_F(BenchmarkTest, RedisBenchmarkOverTheUnixSocketCompletesWithoutErrors) {
  RunBenchmark({"-s", daemon().unix_socket()}, {"-P", "16"});
  EXPECT_EQ(Cli({"GET", "counter:__rand_int__"}), "\"20000\"");
}

class FsyncBenchmarkTest : public TallydTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--durability", "fsync"}; }
};

TEST_F(FsyncBenchmarkTest, RedisBenchmarkCompletesWithDurabilityFsync) {
  RunBenchmark({"-h", "127.0.0.1", "-p", std::to_string(port())}, {"-P", "16"});
  EXPECT_EQ(Cli({"GET", "counter:__rand_int__"}), "\"20000\"");
  // Every acknowledged INCR survives a kill.
  ASSERT_TRUE(daemon().KillAndRestart());
  EXPECT_EQ(Cli({"GET", "counter:__rand_int__"}), "\"20000\"");
}

}  // namespace
}  // namespace tally::itest
