// Per-command statistics (ThreadStats), the metrics gathered from a real
// Engine, and their two renderings: Prometheus text (checked by the strict
// format checker) and the /v1/stats JSON. Commands run through the real
// CommandTable and handlers, recorded the way the front ends record them.

#include "commands/metrics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "civil_time.h"
#include "commands/context.h"
#include "commands/dispatch.h"
#include "commands/registry.h"
#include "core/engine.h"
#include "engine_fixture.h"
#include "prometheus_text_check.h"
#include "protocol/resp_writer.h"

namespace tally::commands {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;
using fixtures::kHourMs;
using prom::Check;
using prom::CheckResult;

constexpr int64_t kStartMs = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

class MetricsTest : public ::testing::Test, public fixtures::EngineFixture {
 protected:
  MetricsTest() : EngineFixture(kStartMs) {}
  void SetUp() override {
    Open();
    if (HasFatalFailure()) return;
    server_.commands = &BuildCommandTable();
    server_.config.version = "9.8.7-test";
    server_.config.durability = "process";
    server_.config.data_dir = dir_.path();
    // /v1/stats's config block shows `settings` (main.cc fills it from the settings table).
    server_.config.settings = {{"durability", "process"}, {"data_dir", dir_.path()}, {"port", int64_t{6380}}};
    server_.started_at_ms = kStartMs - 90'000;
    server_.ready = true;
    stats_ = &server_.AddThreadStats();
  }

  // Runs one command as the front ends do (ResolveAndRun records it), then
  // waits for the log as they do before replying. Returns the RESP reply.
  std::string Run(std::vector<std::string_view> argv, ThreadStats* stats = nullptr) {
    std::string out;
    protocol::RespSink sink(&out);
    protocol::CommandContext ctx{*engine_, server_, client_, stats == nullptr ? *stats_ : *stats};
    protocol::CommandArgs args(argv.data(), argv.size());
    ResolveAndRun(*server_.commands, ctx, args, sink, [&] { return !out.empty() && out[0] == '-'; });
    storage::Status durable = engine_->WaitDurable(engine_->Ticket());
    EXPECT_TRUE(durable.ok()) << durable.ToString();
    return out;
  }

  // A few of everything: ok calls, error replies, a wrong arity, an unknown
  // command, a plain key, a counter with a late event (a pending cold cell).
  void RunWorkload() {
    EXPECT_EQ(Run({"SET", "a", "1"}), "+OK\r\n");
    EXPECT_EQ(Run({"INCR", "a"}), ":2\r\n");
    EXPECT_EQ(Run({"INCR", "a"}), ":3\r\n");
    EXPECT_EQ(Run({"SET", "s", "text"}), "+OK\r\n");
    EXPECT_EQ(Run({"INCR", "s"}).substr(0, 1), "-");
    EXPECT_EQ(Run({"GET", "a"}), "$1\r\n3\r\n");
    EXPECT_EQ(Run({"get"}).substr(0, 1), "-");          // wrong arity
    EXPECT_EQ(Run({"NOSUCH", "x"}).substr(0, 1), "-");  // unknown
    EXPECT_EQ(Run({"CTR.INCRBY", "user:1", "downloads", "5"}), ":5\r\n");
    const std::string two_hours_ago = std::to_string(kStartMs - 2 * kHourMs);
    EXPECT_EQ(Run({"CTR.INCRBY", "user:1", "downloads", "2", "AT", two_hours_ago}), ":7\r\n");
    EXPECT_EQ(Run({"CTR.GET", "user:1", "downloads"}), ":7\r\n");
  }
  static constexpr uint64_t kWorkloadCommands = 11;
  static constexpr uint64_t kWorkloadErrors = 3;  // INCR s, get (arity), NOSUCH

  CheckResult Prometheus() {
    std::string text = RenderPrometheus(*engine_, server_);
    if (std::getenv("TALLY_PRINT_METRICS") != nullptr) std::cout << text;
    CheckResult result = Check(text);
    EXPECT_TRUE(result.ok()) << result.ErrorText() << "\n---\n" << text;
    return result;
  }

  static double Value(const CheckResult& r, const std::string& name, const Labels& labels = {}) {
    const auto* sample = r.Find(name, labels);
    EXPECT_NE(sample, nullptr) << "no series " << name;
    return sample == nullptr ? -1 : sample->value;
  }

  ServerState server_;
  ClientState client_;
  ThreadStats* stats_ = nullptr;
};

TEST_F(MetricsTest, EmptyServerRendersValidText) {
  CheckResult r = Prometheus();
  EXPECT_EQ(Value(r, "tally_build_info", {{"version", "9.8.7-test"}}), 1);
  EXPECT_EQ(Value(r, "tally_ready"), 1);
  EXPECT_EQ(Value(r, "tally_uptime_seconds"), 90);
  EXPECT_EQ(Value(r, "tally_unknown_commands_total"), 0);
  EXPECT_EQ(r.Find("tally_commands_total", {{"command", "get"}, {"result", "ok"}}), nullptr)
      << "commands never called are left out";
  ASSERT_NE(r.FindFamily("tally_command_duration_seconds"), nullptr);
  EXPECT_EQ(r.FindFamily("tally_command_duration_seconds")->type, "histogram");
}

TEST_F(MetricsTest, CommandCountsAndHistograms) {
  RunWorkload();
  CheckResult r = Prometheus();
  EXPECT_EQ(Value(r, "tally_commands_total", {{"command", "incr"}, {"result", "ok"}}), 2);
  EXPECT_EQ(Value(r, "tally_commands_total", {{"command", "incr"}, {"result", "error"}}), 1);
  EXPECT_EQ(Value(r, "tally_commands_total", {{"command", "incr"}, {"result", "rejected"}}), 0);
  EXPECT_EQ(Value(r, "tally_commands_total", {{"command", "get"}, {"result", "ok"}}), 1);
  EXPECT_EQ(Value(r, "tally_commands_total", {{"command", "get"}, {"result", "rejected"}}), 1);
  EXPECT_EQ(Value(r, "tally_commands_total", {{"command", "set"}, {"result", "ok"}}), 2);
  EXPECT_EQ(Value(r, "tally_commands_total", {{"command", "ctr.incrby"}, {"result", "ok"}}), 2);
  EXPECT_EQ(Value(r, "tally_commands_total", {{"command", "ctr.get"}, {"result", "ok"}}), 1);
  EXPECT_EQ(r.Find("tally_commands_total", {{"command", "ctr.top"}, {"result", "ok"}}), nullptr);
  EXPECT_EQ(Value(r, "tally_unknown_commands_total"), 1);

  EXPECT_EQ(Value(r, "tally_command_duration_seconds_count", {{"command", "incr"}}), 3);
  EXPECT_EQ(Value(r, "tally_command_duration_seconds_bucket", {{"command", "incr"}, {"le", "+Inf"}}), 3);
  EXPECT_GT(Value(r, "tally_command_duration_seconds_sum", {{"command", "incr"}}), 0);
  EXPECT_LT(Value(r, "tally_command_duration_seconds_sum", {{"command", "incr"}}), 3.0);
  EXPECT_EQ(Value(r, "tally_command_duration_seconds_count", {{"command", "get"}}), 1)
      << "a refused call has no duration";
  int buckets = 0;
  for (const auto& s : r.samples) {
    if (s.name == "tally_command_duration_seconds_bucket" && s.Label("command") == "incr") ++buckets;
  }
  EXPECT_EQ(buckets, static_cast<int>(kLatencyBucketCount));
}

TEST_F(MetricsTest, StateFigures) {
  RunWorkload();
  CheckResult r = Prometheus();
  EXPECT_EQ(Value(r, "tally_keys"), 2);
  EXPECT_EQ(Value(r, "tally_keys_with_expiry"), 0);
  EXPECT_EQ(Value(r, "tally_owners_in_memory"), 1);
  EXPECT_EQ(Value(r, "tally_counters_in_memory"), 1);
  EXPECT_EQ(Value(r, "tally_counters_dirty"), 1);
  EXPECT_EQ(Value(r, "tally_cells_pending", {{"interval", "hour"}}), 1) << "the late event's hour";
  EXPECT_EQ(Value(r, "tally_cells_pending", {{"interval", "year"}}), 0);
  EXPECT_EQ(Value(r, "tally_log_healthy"), 1);
  // Writes: SET a, INCR a x2, SET s, CTR.INCRBY x2 (the failed INCR logs nothing).
  EXPECT_EQ(Value(r, "tally_log_entries_total"), 6);
  EXPECT_EQ(Value(r, "tally_log_uncompacted_entries"), 6);
  EXPECT_GE(Value(r, "tally_log_writes_total"), 1);
  EXPECT_GT(Value(r, "tally_log_bytes_total"), 0);
  EXPECT_EQ(Value(r, "tally_compaction_runs_total"), 0);
  EXPECT_GT(Value(r, "tally_memory_rss_bytes"), 0);
#if !defined(__SANITIZE_ADDRESS__)
  // (glibc's mallinfo2 counts nothing under AddressSanitizer's allocator.)
  EXPECT_GT(Value(r, "tally_memory_used_bytes"), 0);
#endif
  EXPECT_GT(Value(r, "tally_rocksdb_memtable_bytes"), 0);
  for (const char* family : {"log", "kv", "meta", "cells", "by_key", "owners", "dedupe"}) {
    EXPECT_NE(r.Find("tally_rocksdb_family_bytes", {{"family", family}}), nullptr) << family;
  }

  ASSERT_TRUE(engine_->CompactAll().ok());
  clock_.Advance(1500);
  r = Prometheus();
  EXPECT_EQ(Value(r, "tally_compaction_runs_total"), 3) << "three shards had changes: a, s, user:1";
  EXPECT_EQ(Value(r, "tally_compaction_failures_total"), 0);
  EXPECT_EQ(Value(r, "tally_log_uncompacted_entries"), 0);
  EXPECT_EQ(Value(r, "tally_counters_dirty"), 0);
  EXPECT_EQ(Value(r, "tally_cells_pending", {{"interval", "hour"}}), 0);
  EXPECT_EQ(Value(r, "tally_compaction_last_success_timestamp_seconds"), kStartMs / 1000.0);
  EXPECT_EQ(Value(r, "tally_uptime_seconds"), 91.5);
}

TEST_F(MetricsTest, StatsJsonHasTheSameFigures) {
  RunWorkload();
  nlohmann::json j = StatsJson(*engine_, server_);
  EXPECT_EQ(j["server"]["version"], "9.8.7-test");
  EXPECT_EQ(j["server"]["uptime_seconds"], 90);
  EXPECT_EQ(j["server"]["started_at"], "2023-11-14T22:11:50.000Z");
  EXPECT_EQ(j["config"]["durability"], "process");
  EXPECT_EQ(j["config"]["data_dir"], dir_.path());
  EXPECT_EQ(j["config"]["port"], 6380);
  EXPECT_EQ(j["commands"]["incr"]["calls"], 3);
  EXPECT_EQ(j["commands"]["incr"]["errors"], 1);
  EXPECT_EQ(j["commands"]["get"]["rejected"], 1);
  EXPECT_FALSE(j["commands"].contains("ctr.top"));
  const double p50 = j["commands"]["incr"]["p50_us"];
  const double p99 = j["commands"]["incr"]["p99_us"];
  EXPECT_GT(p50, 0);
  EXPECT_LE(p50, p99);
  EXPECT_EQ(j["command_totals"]["processed"], kWorkloadCommands);
  EXPECT_EQ(j["command_totals"]["error_replies"], kWorkloadErrors);
  EXPECT_EQ(j["command_totals"]["unknown"], 1);
  EXPECT_EQ(j["log"]["entries"], 6);
  EXPECT_EQ(j["log"]["healthy"], true);
  EXPECT_EQ(j["cells"]["owners"], 1);
  EXPECT_EQ(j["cells"]["pending_cells"]["hour"], 1);
  EXPECT_EQ(j["keyspace"]["keys"], 2);
  EXPECT_EQ(j["connections"]["http"]["enabled"], false);
  EXPECT_TRUE(j["rocksdb"]["family_bytes"].contains("cells"));
  EXPECT_GT(j["memory"]["rss_bytes"].get<uint64_t>(), 0u);
}

TEST_F(MetricsTest, InfoTotalsMatch) {
  RunWorkload();
  std::string info = Run({"INFO", "stats"});
  EXPECT_NE(info.find("total_commands_processed:" + std::to_string(kWorkloadCommands) + "\r\n"), std::string::npos)
      << info;
  EXPECT_NE(info.find("total_error_replies:" + std::to_string(kWorkloadErrors) + "\r\n"), std::string::npos) << info;
  CommandTotals totals = SumCommandTotals(server_);
  EXPECT_EQ(totals.processed, kWorkloadCommands + 1) << "INFO itself, counted after it ran";
  EXPECT_EQ(totals.error_replies, kWorkloadErrors);
}

TEST_F(MetricsTest, SlotsOfEveryThreadAreSummed) {
  ThreadStats& other = server_.AddThreadStats();
  std::thread worker([&] {
    for (int i = 0; i < 100; ++i) Run({"INCR", "n"}, &other);
    other.RecordProtocolError();
  });
  for (int i = 0; i < 50; ++i) Run({"INCR", "n"});
  worker.join();
  CheckResult r = Prometheus();
  EXPECT_EQ(Value(r, "tally_commands_total", {{"command", "incr"}, {"result", "ok"}}), 150);
  EXPECT_EQ(Value(r, "tally_command_duration_seconds_count", {{"command", "incr"}}), 150);
  EXPECT_EQ(Value(r, "tally_protocol_errors_total"), 1);
  EXPECT_EQ(SumCommandTotals(server_).processed, 150u);
  EXPECT_EQ(SumCommandTotals(server_).error_replies, 1u);
}

TEST_F(MetricsTest, HttpThreadStatsGivesEachThreadOneSlot) {
  ThreadStats* first = &HttpThreadStats(server_);
  EXPECT_EQ(&HttpThreadStats(server_), first) << "the same slot on the same thread";
  EXPECT_NE(first, stats_);
  ThreadStats* other = nullptr;
  std::thread([&] { other = &HttpThreadStats(server_); }).join();
  EXPECT_NE(other, first);
  Run({"INCR", "h"}, first);
  Run({"INCR", "h"}, other);
  EXPECT_EQ(SumCommandTotals(server_).processed, 2u);
  // A new ServerState (even at the same address) gets a new slot.
  auto second = std::make_unique<ServerState>();
  second->commands = server_.commands;
  EXPECT_NE(&HttpThreadStats(*second), first);
  EXPECT_EQ(&HttpThreadStats(server_), &HttpThreadStats(server_));
}

TEST_F(MetricsTest, HttpFiguresComeFromTheInstalledSource) {
  server_.SetHttpFigures([] { return HttpFigures{true, 3, 10, 2, 42, 1}; });
  CheckResult r = Prometheus();
  EXPECT_EQ(Value(r, "tally_connections_open", {{"transport", "http"}}), 3);
  EXPECT_EQ(Value(r, "tally_connections_total", {{"transport", "http"}}), 10);
  EXPECT_EQ(Value(r, "tally_connections_rejected_total", {{"transport", "http"}}), 2);
  EXPECT_EQ(Value(r, "tally_http_requests_total"), 42);
  EXPECT_EQ(Value(r, "tally_http_request_errors_total"), 1);
  EXPECT_EQ(StatsJson(*engine_, server_)["connections"]["http"]["requests"], 42);
}

TEST_F(MetricsTest, LabelValuesAreEscaped) {
  server_.config.version = "1.0 \"quoted\" back\\slash\nnewline";
  CheckResult r = Prometheus();
  EXPECT_EQ(Value(r, "tally_build_info", {{"version", "1.0 \"quoted\" back\\slash\nnewline"}}), 1);
}

TEST(ThreadStatsTest, BucketsAreUpperInclusive) {
  ThreadStats stats(2);
  stats.RecordCommand(0, 0, false);
  stats.RecordCommand(0, 1'000, false);          // le 1 µs
  stats.RecordCommand(0, 1'001, false);          // le 2.5 µs
  stats.RecordCommand(0, 2'500'000'000, false);  // le 2.5 s
  stats.RecordCommand(0, 2'500'000'001, true);   // +Inf
  stats.RecordCommand(1, 1'000'000, false);      // le 1 ms
  stats.RecordCommand(7, 1, false);              // out of range: counted as unknown
  const CommandStats& c = stats.command(0);
  EXPECT_EQ(c.buckets[0].load(), 2u);
  EXPECT_EQ(c.buckets[1].load(), 1u);
  EXPECT_EQ(c.buckets[kLatencyBucketCount - 2].load(), 1u);
  EXPECT_EQ(c.buckets[kLatencyBucketCount - 1].load(), 1u);
  EXPECT_EQ(c.errors.load(), 1u);
  EXPECT_EQ(c.sum_ns.load(), 1'000ull + 1'001ull + 2'500'000'000ull + 2'500'000'001ull);
  EXPECT_EQ(stats.command(1).buckets[9].load(), 1u);
  EXPECT_EQ(stats.unknown_commands(), 1u);
  stats.RecordRejected(1);
  stats.RecordRejected(protocol::CommandTable::kNoIndex);
  EXPECT_EQ(stats.command(1).rejected.load(), 1u);
  EXPECT_EQ(stats.unknown_commands(), 2u);
}

TEST(CommandFiguresTest, QuantilesInterpolateInsideBuckets) {
  CommandFigures f;
  EXPECT_EQ(f.QuantileUs(0.5), 0);
  // 100 calls: 50 at <= 1 µs, 50 in (1, 2.5] µs.
  for (size_t b = 0; b < kLatencyBucketCount; ++b) f.cumulative[b] = b == 0 ? 50 : 100;
  EXPECT_DOUBLE_EQ(f.QuantileUs(0.25), 0.5);
  EXPECT_DOUBLE_EQ(f.QuantileUs(0.5), 1.0);
  EXPECT_DOUBLE_EQ(f.QuantileUs(0.9), 1.0 + 1.5 * 0.8);
  // Everything slower than the last bound: reported as that bound (2.5 s).
  for (size_t b = 0; b < kLatencyBucketCount; ++b) f.cumulative[b] = b + 1 == kLatencyBucketCount ? 10 : 0;
  EXPECT_DOUBLE_EQ(f.QuantileUs(0.99), 2'500'000.0);
}

}  // namespace
}  // namespace tally::commands
