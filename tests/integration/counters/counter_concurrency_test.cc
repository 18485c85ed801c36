// Concurrency against the real daemon: several clients increment the same and
// different counters (pipelined) while others recount past cells of the same
// counters, set a separate counter and read, and compaction runs every 50 ms.
// Afterwards — and after kill -9 and a clean restart — every value is exact:
// a total is the sum of the acknowledged increments, and (all events being
// "now") its hour/day/week/month/quarter/year cells equal the total.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "counters_util.h"
#include "tallyd_process.h"

namespace tally::itest::counters {
namespace {

constexpr int kIncrementers = 4;
constexpr int kSharedOwners = 6;  // conc:o0..o5, incremented by every thread
constexpr int kPipeline = 32;
constexpr auto kLoadTime = std::chrono::milliseconds(2500);

struct ClientResult {
  std::map<std::string, int64_t> acked;  // owner -> sum of acknowledged deltas (key "hits")
  int64_t commands = 0;
  std::string error;
};

std::string SharedOwner(int i) { return "conc:o" + std::to_string(i); }
std::string OwnOwner(int t) { return "conc:t" + std::to_string(t); }

void Incrementer(int port, int t, uint64_t seed, const std::atomic<bool>* stop, ClientResult* out) {
  auto c = RespClient::ConnectTcp(port);
  if (!c) {
    out->error = "cannot connect";
    return;
  }
  std::mt19937_64 rng(seed);
  int64_t own_total = 0;
  while (!stop->load()) {
    std::string pipeline;
    std::vector<std::pair<std::string, int64_t>> sent;
    for (int i = 0; i < kPipeline; ++i) {
      const int64_t delta = 1 + static_cast<int64_t>(rng() % 9);
      std::string owner;
      switch (rng() % 3) {
        case 0:
          owner = "conc:shared";
          break;
        case 1:
          owner = SharedOwner(static_cast<int>(rng() % kSharedOwners));
          break;
        default:
          owner = OwnOwner(t);
          break;
      }
      pipeline += EncodeCommand({"CTR.INCRBY", owner, "hits", std::to_string(delta)});
      sent.emplace_back(owner, delta);
    }
    if (!c->Send(pipeline)) {
      out->error = "send failed";
      return;
    }
    for (const auto& [owner, delta] : sent) {
      RespValue v = c->ReadReply(20s);
      if (v.type != RespValue::Type::kInteger) {
        out->error = "CTR.INCRBY " + owner + " hits " + std::to_string(delta) + " replied " + v.ToString();
        return;
      }
      out->acked[owner] += delta;
      ++out->commands;
      if (owner == OwnOwner(t)) {
        own_total += delta;
        if (v.integer != own_total) {
          out->error = "CTR.INCRBY " + owner + " replied " + std::to_string(v.integer) + ", expected " +
                       std::to_string(own_total);
          return;
        }
      }
    }
  }
}

class CounterConcurrencyTest : public TallydTest {
 protected:
  std::vector<std::string> ExtraArgs() const override {
    return {"--compaction-interval-ms", "50", "--io-threads", "2"};
  }
};

TEST_F(CounterConcurrencyTest, ConcurrentIncrementsRecountsAndSetsAreExact) {
  AvoidHourBoundary(std::chrono::seconds(40));
  const auto labels_at_start = UtcLabels(NowMs());
  const std::string day5 = UtcLabel("day", NoonUtcDaysAgo(5));
  const std::string day6 = UtcLabel("day", NoonUtcDaysAgo(6));
  std::atomic<bool> stop{false};
  std::random_device rd;

  std::vector<ClientResult> results(kIncrementers);
  std::vector<std::thread> threads;
  for (int t = 0; t < kIncrementers; ++t) {
    threads.emplace_back(Incrementer, port(), t, rd(), &stop, &results[t]);
  }

  // Recounts of cells nobody increments, on counters that are being incremented.
  int64_t last_recount = -1, recounts = 0;
  std::string recount_error;
  threads.emplace_back([&] {
    auto c = RespClient::ConnectTcp(port());
    if (!c) {
      recount_error = "cannot connect";
      return;
    }
    for (int64_t v = 1; !stop.load(); ++v) {
      RespValue r =
          c->Call({"CTR.RECOUNT", "conc:shared", "hits", "day", day5, std::to_string(v), day6, std::to_string(v + 1)});
      RespValue r2 = c->Call({"CTR.RECOUNT", SharedOwner(0), "hits", "month", "2023-01", std::to_string(v * 10)});
      if (r.type != RespValue::Type::kSimple || r.str != "OK" || r2.type != RespValue::Type::kSimple) {
        recount_error = "CTR.RECOUNT replied " + r.ToString() + " / " + r2.ToString();
        return;
      }
      last_recount = v;
      ++recounts;
    }
  });

  // Sets of a separate counter (its total and today's cell).
  int64_t last_set = -1, sets = 0;
  std::string set_error;
  threads.emplace_back([&] {
    auto c = RespClient::ConnectTcp(port());
    if (!c) {
      set_error = "cannot connect";
      return;
    }
    for (int64_t v = 1; !stop.load(); ++v) {
      RespValue r = c->Call({"CTR.SET", "conc:set", "hits", std::to_string(v)});
      RespValue r2 = c->Call({"CTR.SET", "conc:set", "hits", std::to_string(2 * v), "day", "current"});
      if (r.str != "OK" || r2.str != "OK") {
        set_error = "CTR.SET replied " + r.ToString() + " / " + r2.ToString();
        return;
      }
      last_set = v;
      ++sets;
    }
  });

  // A reader: the shared total never goes back; ranking and listing work.
  std::string read_error;
  int64_t reads = 0;
  threads.emplace_back([&] {
    auto c = RespClient::ConnectTcp(port());
    if (!c) {
      read_error = "cannot connect";
      return;
    }
    int64_t last = 0;
    while (!stop.load()) {
      RespValue v = c->Call({"CTR.GET", "conc:shared", "hits"});
      RespValue day = c->Call({"CTR.GET", "conc:shared", "hits", "day", day5});
      RespValue top = c->Call({"CTR.TOP", "hits", "total", "LIMIT", "3"});
      RespValue all = c->Call({"CTR.ALL", SharedOwner(1), "day"});
      if (v.type != RespValue::Type::kInteger || day.type != RespValue::Type::kInteger ||
          top.type != RespValue::Type::kArray || all.type != RespValue::Type::kArray) {
        read_error =
            "reads replied " + v.ToString() + " / " + day.ToString() + " / " + top.ToString() + " / " + all.ToString();
        return;
      }
      if (v.integer < last) {
        read_error = "conc:shared total went back from " + std::to_string(last) + " to " + std::to_string(v.integer);
        return;
      }
      last = v.integer;
      ++reads;
    }
  });

  std::this_thread::sleep_for(kLoadTime);
  stop = true;
  for (auto& th : threads) th.join();

  std::map<std::string, int64_t> acked;
  int64_t commands = 0;
  for (int t = 0; t < kIncrementers; ++t) {
    ASSERT_EQ(results[t].error, "") << "incrementer " << t;
    for (const auto& [owner, sum] : results[t].acked) acked[owner] += sum;
    commands += results[t].commands;
  }
  ASSERT_EQ(recount_error, "");
  ASSERT_EQ(set_error, "");
  ASSERT_EQ(read_error, "");
  ASSERT_GT(last_recount, 0);
  ASSERT_GT(last_set, 0);
  std::cout << "[concurrency] " << commands << " increments, " << recounts << " recounts, " << sets << " sets, "
            << reads << " read rounds" << std::endl;
  ASSERT_EQ(acked.size(), static_cast<size_t>(1 + kSharedOwners + kIncrementers));

  auto c = Connect();
  RespValue info = c.Call({"INFO", "persistence"});
  std::cout << "[concurrency] INFO persistence:\n" << info.str << std::endl;
  EXPECT_TRUE(Contains(info.str, "compaction_failures:0")) << info.str;
  EXPECT_FALSE(Contains(info.str, "compaction_runs:0\r")) << info.str;

  const bool same_periods = UtcLabels(NowMs()) == labels_at_start;
  auto verify = [&](RespClient& conn, const std::string& when) {
    SCOPED_TRACE(when);
    for (const auto& [owner, sum] : acked) {
      EXPECT_EQ(GetCell(conn, owner, "hits", "total", "total"), sum) << owner << " total";
      if (!same_periods) continue;  // the clock crossed an hour: cells of now are split
      for (size_t i = 0; i < kIntervals.size(); ++i) {
        // The recounted month of conc:o0 is 2023-01, never a current period.
        EXPECT_EQ(GetCell(conn, owner, "hits", kIntervals[i], labels_at_start[i]), sum)
            << owner << " " << kIntervals[i] << " " << labels_at_start[i] << " differs from the total";
      }
    }
    EXPECT_EQ(GetCell(conn, "conc:shared", "hits", "day", day5), last_recount);
    EXPECT_EQ(GetCell(conn, "conc:shared", "hits", "day", day6), last_recount + 1);
    EXPECT_EQ(GetCell(conn, SharedOwner(0), "hits", "month", "2023-01"), last_recount * 10);
    EXPECT_EQ(GetCell(conn, "conc:set", "hits", "total", "total"), last_set);
    if (same_periods) {
      EXPECT_EQ(GetCell(conn, "conc:set", "hits", "day", labels_at_start[1]), 2 * last_set);
    }
    // The ranking sees the same totals.
    RespValue top = conn.Call({"CTR.TOP", "hits", "total", "LIMIT", "100"});
    ASSERT_EQ(top.type, RespValue::Type::kArray);
    std::map<std::string, int64_t> ranked;
    for (const auto& e : top.elements) {
      if (e.elements.size() == 2) ranked[e.elements[0].str] = e.elements[1].integer;
    }
    std::map<std::string, int64_t> expected = acked;
    expected["conc:set"] = last_set;
    EXPECT_EQ(ranked, expected);
  };
  verify(c, "after the load");
  ASSERT_TRUE(daemon().KillAndRestart());
  c = Connect();
  verify(c, "after kill -9");
  ASSERT_TRUE(daemon().Restart());
  c = Connect();
  verify(c, "after a clean restart");
}

}  // namespace
}  // namespace tally::itest::counters
