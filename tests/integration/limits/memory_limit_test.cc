// The memory budget (memory_limit): RocksDB's block cache and memtables
// share one figure, which INFO (maxmemory), /metrics and /v1/stats report
// next to what they hold; under sustained ingest the cache, memtables
// charged to it included, stays within it.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "http_client.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

constexpr int64_t kLimit = 32ll << 20;

// The value of `name` in INFO's text ("maxmemory:33554432").
int64_t InfoField(const std::string& info, const std::string& name) {
  for (const std::string& line : SplitLines(info)) {
    if (line.rfind(name + ":", 0) == 0) return std::stoll(line.substr(name.size() + 1));
  }
  ADD_FAILURE() << name << " is not in INFO:\n" << info;
  return -1;
}

TEST(MemoryLimitTest, TheBudgetIsReportedAndHoldsUnderIngest) {
  TallydProcess daemon({"--memory-limit", std::to_string(kLimit), "--compaction-interval-ms", "200"});
  ASSERT_TRUE(daemon.Start());
  // 100,000 owners, one counter each: every compaction writes their cells.
  std::string commands;
  for (int i = 0; i < 100000; ++i) commands += "CTR.INCRBY user:" + std::to_string(i) + " downloads 1\n";
  ProcessResult piped = RunProcess({RedisCliPath(), "-p", std::to_string(daemon.port()), "--pipe"}, commands, 120s);
  ASSERT_TRUE(piped.exited && piped.exit_code == 0) << piped.Describe();
  ASSERT_TRUE(Contains(piped.out, "errors: 0, replies: 100000")) << piped.Describe();
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // a few compactions

  const std::string info =
      Trim(RunProcess({RedisCliPath(), "-p", std::to_string(daemon.port()), "INFO", "memory"}).out);
  EXPECT_EQ(InfoField(info, "maxmemory"), kLimit);
  const int64_t cache = InfoField(info, "rocksdb_cache_bytes");
  EXPECT_GT(cache, 0);
  EXPECT_LE(cache, kLimit) << "the block cache and the memtables charged to it passed the budget";
  EXPECT_LE(InfoField(info, "rocksdb_memtable_bytes"), kLimit / 2 + (4ll << 20));
  // What the budget does not bound, next to it: the engine's maps hold
  // 100,000 owners and counters (several hundred bytes each).
  const int64_t outside = InfoField(info, "used_memory_outside_budget");
  EXPECT_EQ(outside, InfoField(info, "used_memory") - cache);
  EXPECT_GT(outside, 100000 * 100);

  HttpReply stats = HttpClient::Request(daemon.http_port(), "GET", "/v1/stats");
  ASSERT_EQ(stats.status, 200) << stats.body;
  const auto memory = nlohmann::json::parse(stats.body)["memory"];
  EXPECT_EQ(memory["limit_bytes"], kLimit);
  EXPECT_LE(memory["rocksdb_cache_bytes"].get<int64_t>(), kLimit);
  EXPECT_GT(memory["outside_budget_bytes"].get<int64_t>(), 100000 * 100);
  HttpReply metrics = HttpClient::Request(daemon.http_port(), "GET", "/metrics");
  EXPECT_TRUE(Contains(metrics.body, "tally_memory_limit_bytes " + std::to_string(kLimit))) << metrics.body;
  EXPECT_TRUE(Contains(metrics.body, "\ntally_memory_outside_budget_bytes ")) << metrics.body;
  EXPECT_TRUE(Contains(daemon.ReadLog(), "memory limit: 32 MiB"));
  EXPECT_EQ(
      Trim(RunProcess({RedisCliPath(), "-p", std::to_string(daemon.port()), "CTR.GET", "user:99999", "downloads"}).out),
      "1");
}

}  // namespace
}  // namespace tally::itest
