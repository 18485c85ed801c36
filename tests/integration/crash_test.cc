// Crash test: many concurrent clients increment with pipelining while tallyd
// is killed with SIGKILL, again and again, with compaction running every
// 200 ms so kills also land during compaction. After each restart every
// acknowledged increment is present exactly once:
//
//   acknowledged <= value <= acknowledged + in flight at the kill
//
// A reply received is an acknowledgement; a command sent whose reply never
// came is "in flight" (it may or may not have been applied). Each client
// increments a few shared keys (bounds above) and its own keys; commands on
// one connection are applied in order, so an own key must hold the
// acknowledged sum plus a PREFIX of its in-flight deltas, and every reply
// must be exactly the running total (read-your-writes from the recovered
// value). Both the plain keyspace (INCRBY) and owner counters (CTR.INCRBY,
// whose total and calendar rollup cells must agree) are covered.

#include <gtest/gtest.h>
#include <time.h>

#include <array>
#include <deque>
#include <iostream>
#include <random>
#include <thread>

#include "tallyd_process.h"

namespace tally::itest {
namespace {

constexpr int kThreads = 8;
constexpr int kBatch = 64;  // average commands per pipelined write

// Shared counters: plain keys 0..3, then one owner counter.
constexpr int kSharedPlain = 4;
constexpr int kShared = kSharedPlain + 1;
// Each thread's own counters: a plain key and an owner counter.
constexpr int kOwn = 2;

std::vector<std::string> SharedIncrement(int k) {
  if (k < kSharedPlain) return {"INCRBY", "crash:shared:" + std::to_string(k), "1"};
  return {"CTR.INCRBY", "crash:shared", "hits", "1"};
}
std::vector<std::string> SharedRead(int k) {
  if (k < kSharedPlain) return {"GET", "crash:shared:" + std::to_string(k)};
  return {"CTR.GET", "crash:shared", "hits"};
}
std::string SharedName(int k) { return SharedRead(k)[1] + (k < kSharedPlain ? "" : " hits"); }

std::vector<std::string> OwnIncrement(int t, int k, int64_t delta) {
  if (k == 0) return {"INCRBY", "crash:own:" + std::to_string(t), std::to_string(delta)};
  return {"CTR.INCRBY", "crash:t" + std::to_string(t), "hits", std::to_string(delta)};
}
std::vector<std::string> OwnRead(int t, int k) {
  if (k == 0) return {"GET", "crash:own:" + std::to_string(t)};
  return {"CTR.GET", "crash:t" + std::to_string(t), "hits"};
}
std::string OwnName(int t, int k) { return OwnRead(t, k)[1] + (k == 0 ? "" : " hits"); }

struct ThreadTally {
  std::array<int64_t, kShared> shared_acked{};           // increments (of 1) acknowledged
  std::array<int64_t, kShared> shared_in_flight{};       // sent, no reply
  std::array<int64_t, kOwn> own_acked{};                 // sum of acknowledged deltas
  std::array<std::vector<int64_t>, kOwn> own_in_flight;  // deltas sent without reply, in send order
  int64_t replies = 0;
  std::string error;  // a wrong reply (not the kill)
};

// One client: pipelines batches of increments (random sizes, up to two
// batches outstanding, so a kill can land between, inside and after batches)
// until its connection dies.
void RunClient(int port, int t, std::array<int64_t, kOwn> own_base, uint64_t seed, ThreadTally* tally) {
  std::mt19937_64 rng(seed);
  std::optional<RespClient> c = RespClient::ConnectTcpRetrying(port);
  if (!c) {
    tally->error = "cannot connect";
    return;
  }
  std::array<int64_t, kOwn> own_total = own_base;  // what the next own reply must add up to
  struct Sent {
    bool own;
    int index;
    int64_t delta;
  };
  std::deque<Sent> outstanding;  // sent, reply not yet read, in order
  std::deque<int> batch_sizes;
  bool connection_lost = false;
  auto send_batch = [&] {
    std::string pipeline;
    const int size = 1 + static_cast<int>(rng() % (2 * kBatch));
    for (int i = 0; i < size; ++i) {
      if (rng() % 2 == 0) {
        int k = static_cast<int>(rng() % kShared);
        outstanding.push_back({false, k, 1});
        pipeline += EncodeCommand(SharedIncrement(k));
      } else {
        int k = static_cast<int>(rng() % kOwn);
        int64_t delta = 1 + static_cast<int64_t>(rng() % 5);
        outstanding.push_back({true, k, delta});
        pipeline += EncodeCommand(OwnIncrement(t, k, delta));
      }
    }
    // A failed send may still have delivered a part: all of it counts as in flight.
    if (!c->Send(pipeline)) connection_lost = true;
    batch_sizes.push_back(size);
  };
  send_batch();
  while (!connection_lost) {
    if (batch_sizes.size() < 2) send_batch();
    if (connection_lost) break;
    for (int n = batch_sizes.front(); n > 0; --n) {  // the oldest batch's replies
      RespValue reply = c->ReadReply(20s);
      if (!reply.ok()) {  // the daemon is gone: everything outstanding is in flight
        connection_lost = true;
        break;
      }
      const Sent s = outstanding.front();
      if (reply.type != RespValue::Type::kInteger) {
        tally->error = "unexpected reply " + reply.ToString() + " to " +
                       ::testing::PrintToString(s.own ? OwnIncrement(t, s.index, s.delta) : SharedIncrement(s.index));
        return;
      }
      outstanding.pop_front();
      ++tally->replies;
      if (s.own) {
        own_total[s.index] += s.delta;
        tally->own_acked[s.index] += s.delta;
        if (reply.integer != own_total[s.index]) {
          tally->error = OwnName(t, s.index) + ": INCRBY replied " + std::to_string(reply.integer) + ", expected " +
                         std::to_string(own_total[s.index]);
          return;
        }
      } else {
        ++tally->shared_acked[s.index];
      }
    }
    if (!connection_lost) batch_sizes.pop_front();
  }
  for (const Sent& s : outstanding) {
    if (s.own) {
      tally->own_in_flight[s.index].push_back(s.delta);
    } else {
      ++tally->shared_in_flight[s.index];
    }
  }
}

int64_t ReadValue(RespClient& c, const std::vector<std::string>& command) {
  RespValue v = c.Call(command);
  if (v.type == RespValue::Type::kNull) return 0;
  if (v.type == RespValue::Type::kInteger) return v.integer;
  EXPECT_EQ(v.type, RespValue::Type::kBulk) << ::testing::PrintToString(command) << ": " << v;
  return v.type == RespValue::Type::kBulk ? std::stoll(v.str) : -1;
}

// The daemon's (UTC) calendar period labels for now.
std::array<std::string, 4> CurrentPeriods() {
  time_t now = time(nullptr);
  struct tm tm {};
  gmtime_r(&now, &tm);
  char hour[32], day[16], month[16], year[8];
  strftime(hour, sizeof hour, "%Y-%m-%dT%H", &tm);
  strftime(day, sizeof day, "%Y-%m-%d", &tm);
  strftime(month, sizeof month, "%Y-%m", &tm);
  strftime(year, sizeof year, "%Y", &tm);
  return {hour, day, month, year};
}

class CrashTest : public ::testing::Test {
 protected:
  // Value observed after the last restart, and cumulative expectations.
  std::array<int64_t, kShared> shared_base{};
  std::array<int64_t, kShared> shared_acked_total{};
  std::array<int64_t, kShared> shared_in_flight_total{};
  std::array<std::array<int64_t, kOwn>, kThreads> own_base{};
  std::array<std::array<int64_t, kOwn>, kThreads> own_acked_total{};
  std::array<std::array<int64_t, kOwn>, kThreads> own_in_flight_total{};
  std::array<std::string, 4> periods_at_start = CurrentPeriods();
  std::mt19937_64 rng{std::random_device{}()};

  // All increments of the test happened in the current hour/day/month/year
  // (unless the clock crossed a boundary since the start): the counters'
  // rollup cells for those periods must then equal the total.
  void ExpectRollupsMatchTotal(RespClient& c, const std::string& owner, int64_t total) {
    static const char* kIntervals[] = {"hour", "day", "month", "year"};
    auto now = CurrentPeriods();
    for (size_t i = 0; i < 4; ++i) {
      if (now[i] != periods_at_start[i]) continue;
      EXPECT_EQ(ReadValue(c, {"CTR.GET", owner, "hits", kIntervals[i], now[i]}), total)
          << owner << " hits " << kIntervals[i] << " " << now[i] << " disagrees with the total";
    }
  }

  // One cycle: clients increment, the daemon is SIGKILLed after a random
  // 300-800 ms, then restarted (optionally killed once more during recovery)
  // and every counter checked.
  void Cycle(TallydProcess& daemon, int cycle, bool kill_during_recovery, bool sigterm = false) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    std::vector<ThreadTally> tallies(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back(RunClient, daemon.port(), t, own_base[t], rng(), &tallies[t]);
    }
    const int delay_ms = 300 + static_cast<int>(rng() % 501);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    if (sigterm) {
      // A clean stop under load: replies owed are sent or the connection is
      // closed; either way nothing acknowledged may be lost.
      auto stopped = daemon.Stop();
      for (auto& th : threads) th.join();
      ASSERT_TRUE(stopped);
    } else {
      daemon.Kill();
      for (auto& th : threads) th.join();
    }

    int64_t replies = 0, in_flight = 0;
    for (int t = 0; t < kThreads; ++t) {
      const ThreadTally& tally = tallies[t];
      ASSERT_EQ(tally.error, "") << "client " << t;
      replies += tally.replies;
      for (int k = 0; k < kShared; ++k) {
        shared_acked_total[k] += tally.shared_acked[k];
        shared_in_flight_total[k] += tally.shared_in_flight[k];
        in_flight += tally.shared_in_flight[k];
      }
      for (int k = 0; k < kOwn; ++k) {
        own_acked_total[t][k] += tally.own_acked[k];
        for (int64_t d : tally.own_in_flight[k]) own_in_flight_total[t][k] += d;
        in_flight += static_cast<int64_t>(tally.own_in_flight[k].size());
      }
    }
    std::cout << "[crash] cycle " << cycle << (sigterm ? ": SIGTERM after " : ": SIGKILL after ") << delay_ms << " ms; "
              << replies << " increments acknowledged, " << in_flight << " in flight" << std::endl;
    ASSERT_GT(replies, 0) << "no increment was acknowledged before the kill";

    if (kill_during_recovery) {
      ASSERT_TRUE(daemon.Spawn());
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 20));
      daemon.Kill();
    }
    ASSERT_TRUE(daemon.Start());
    auto c = RespClient::ConnectTcp(daemon.port());
    ASSERT_TRUE(c.has_value());

    int64_t applied_in_flight = 0;
    for (int k = 0; k < kShared; ++k) {
      const int64_t value = ReadValue(*c, SharedRead(k));
      int64_t acked = 0, flight = 0;
      for (const auto& tally : tallies) {
        acked += tally.shared_acked[k];
        flight += tally.shared_in_flight[k];
      }
      // This cycle, relative to the value recovered after the previous one...
      EXPECT_GE(value, shared_base[k] + acked) << SharedName(k) << ": acknowledged increments were lost";
      EXPECT_LE(value, shared_base[k] + acked + flight) << SharedName(k) << ": increments were applied twice";
      // ...and cumulatively over all cycles.
      EXPECT_GE(value, shared_acked_total[k]) << SharedName(k);
      EXPECT_LE(value, shared_acked_total[k] + shared_in_flight_total[k]) << SharedName(k);
      applied_in_flight += value - shared_base[k] - acked;
      shared_base[k] = value;
    }
    ExpectRollupsMatchTotal(*c, "crash:shared", shared_base[kSharedPlain]);
    for (int t = 0; t < kThreads; ++t) {
      for (int k = 0; k < kOwn; ++k) {
        const int64_t value = ReadValue(*c, OwnRead(t, k));
        const ThreadTally& tally = tallies[t];
        int64_t candidate = own_base[t][k] + tally.own_acked[k];
        bool matched = value == candidate;
        std::string candidates = std::to_string(candidate);
        for (int64_t d : tally.own_in_flight[k]) {
          candidate += d;
          candidates += " " + std::to_string(candidate);
          matched = matched || value == candidate;
        }
        EXPECT_TRUE(matched) << OwnName(t, k) << " = " << value
                             << " after the restart; acknowledged + a prefix of the in-flight deltas would be one of: "
                             << candidates.substr(0, 2000) << " (recovered " << own_base[t][k] << ", acknowledged +"
                             << tally.own_acked[k] << ")";
        EXPECT_GE(value, own_acked_total[t][k]) << OwnName(t, k);
        EXPECT_LE(value, own_acked_total[t][k] + own_in_flight_total[t][k]) << OwnName(t, k);
        if (matched) applied_in_flight += value - own_base[t][k] - tally.own_acked[k];
        own_base[t][k] = value;
      }
      ExpectRollupsMatchTotal(*c, "crash:t" + std::to_string(t), own_base[t][1]);
    }
    std::cout << "[crash] cycle " << cycle
              << ": recovered; in-flight increments that were applied: " << applied_in_flight << " (units)"
              << std::endl;
  }

  // A clean restart changes nothing.
  void ExpectStableAcrossCleanRestart(TallydProcess& daemon) {
    ASSERT_TRUE(daemon.Restart());
    auto c = RespClient::ConnectTcp(daemon.port());
    ASSERT_TRUE(c.has_value());
    for (int k = 0; k < kShared; ++k) EXPECT_EQ(ReadValue(*c, SharedRead(k)), shared_base[k]) << SharedName(k);
    for (int t = 0; t < kThreads; ++t) {
      for (int k = 0; k < kOwn; ++k) EXPECT_EQ(ReadValue(*c, OwnRead(t, k)), own_base[t][k]) << OwnName(t, k);
      ExpectRollupsMatchTotal(*c, "crash:t" + std::to_string(t), own_base[t][1]);
    }
    RespValue info = c->Call({"INFO", "persistence"});
    EXPECT_TRUE(Contains(info.str, "log_status:ok")) << info.str;
  }
};

TEST_F(CrashTest, AcknowledgedIncrementsSurviveRepeatedSigkill) {
  TallydProcess daemon({"--durability", "process", "--compaction-interval-ms", "200", "--compaction-max-entries",
                        "20000", "--io-threads", "2"});
  ASSERT_TRUE(daemon.Start());
  for (int cycle = 1; cycle <= 5; ++cycle) {
    Cycle(daemon, cycle, /*kill_during_recovery=*/cycle == 3);
    if (HasFatalFailure()) return;
  }
  // One more cycle on the same data with durability=fsync.
  daemon.Kill();
  daemon.set_extra_args({"--durability", "fsync", "--compaction-interval-ms", "200", "--io-threads", "2"});
  ASSERT_TRUE(daemon.Start());
  Cycle(daemon, 6, false);
  if (HasFatalFailure()) return;
  ExpectStableAcrossCleanRestart(daemon);
}

TEST_F(CrashTest, AcknowledgedIncrementsSurviveSigkillWithDurabilityFsync) {
  TallydProcess daemon({"--durability", "fsync", "--compaction-interval-ms", "200", "--io-threads", "2"});
  ASSERT_TRUE(daemon.Start());
  for (int cycle = 1; cycle <= 2; ++cycle) {
    Cycle(daemon, cycle, false);
    if (HasFatalFailure()) return;
  }
  ExpectStableAcrossCleanRestart(daemon);
}

TEST_F(CrashTest, AcknowledgedIncrementsSurviveSigtermUnderLoad) {
  TallydProcess daemon({"--compaction-interval-ms", "200", "--io-threads", "2"});
  ASSERT_TRUE(daemon.Start());
  for (int cycle = 1; cycle <= 3; ++cycle) {
    Cycle(daemon, cycle, false, /*sigterm=*/true);
    if (HasFatalFailure()) return;
  }
  ExpectStableAcrossCleanRestart(daemon);
}

}  // namespace
}  // namespace tally::itest
