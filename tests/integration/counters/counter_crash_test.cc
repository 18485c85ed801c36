// SIGKILL during compaction: tallyd compacts every 20 ms while four clients
// pipeline CTR.INCRBY over many owners (so a compaction is nearly always
// running), and is killed at a random moment, again and again. After each
// restart every acknowledged change is present exactly once:
//
//   - every counter: acknowledged <= total <= acknowledged + in flight, and
//     its day cell equals its total (every event is "now");
//   - ids of acknowledged increments are duplicates after the restart: the
//     retry replies the total and applies nothing;
//   - for the owners whose increments all carry ids, retrying every in-flight
//     increment (what a client does after a timeout) makes the total exactly
//     acknowledged + in flight: each event applied once, before the kill or by
//     the retry, never twice.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "counters_util.h"
#include "tallyd_process.h"

namespace tally::itest::counters {
namespace {

constexpr int kThreads = 4;
constexpr int kOwners = 1500;
constexpr int kIdOwners = 750;  // owners 0..749: every increment carries an ID; the others never
constexpr int kBatch = 200;     // average commands per pipelined write
constexpr int kCycles = 6;

std::string Owner(int i) { return "crash:" + std::to_string(i); }

struct Op {
  int owner;
  int64_t delta;
  std::string id;  // empty: none
  std::vector<std::string> Command() const {
    std::vector<std::string> args = {"CTR.INCRBY", Owner(owner), "hits", std::to_string(delta)};
    if (!id.empty()) args.insert(args.end(), {"ID", id});
    return args;
  }
};

struct ThreadResult {
  std::vector<int64_t> acked = std::vector<int64_t>(kOwners, 0);
  std::vector<Op> acked_with_id;  // a sample for the duplicate check
  std::vector<Op> in_flight;      // sent, no reply
  int64_t replies = 0;
  std::string error;
};

void RunClient(int port, int t, int cycle, uint64_t seed, ThreadResult* out) {
  std::mt19937_64 rng(seed);
  std::optional<RespClient> c = RespClient::ConnectTcpRetrying(port);
  if (!c) {
    out->error = "cannot connect";
    return;
  }
  std::deque<Op> outstanding;
  std::deque<size_t> batches;
  int64_t seq = 0;
  bool lost = false;
  auto send_batch = [&] {
    std::string pipeline;
    const size_t size = 1 + rng() % (2 * kBatch);
    for (size_t i = 0; i < size; ++i) {
      Op op;
      op.owner = static_cast<int>(rng() % kOwners);
      op.delta = 1 + static_cast<int64_t>(rng() % 3);
      if (op.owner < kIdOwners) {
        op.id = "c" + std::to_string(cycle) + "-t" + std::to_string(t) + "-" + std::to_string(seq++);
      }
      pipeline += EncodeCommand(op.Command());
      outstanding.push_back(std::move(op));
    }
    if (!c->Send(pipeline)) lost = true;  // part of it may have arrived: all in flight
    batches.push_back(size);
  };
  send_batch();
  while (!lost) {
    if (batches.size() < 2) send_batch();
    if (lost) break;
    for (size_t n = batches.front(); n > 0; --n) {
      RespValue reply = c->ReadReply(20s);
      if (!reply.ok()) {
        lost = true;
        break;
      }
      Op op = std::move(outstanding.front());
      outstanding.pop_front();
      if (reply.type != RespValue::Type::kInteger) {
        out->error = "unexpected reply " + reply.ToString() + " to " + ::testing::PrintToString(op.Command());
        return;
      }
      ++out->replies;
      out->acked[op.owner] += op.delta;
      if (!op.id.empty() && (out->acked_with_id.size() < 200 || rng() % 16 == 0)) {
        if (out->acked_with_id.size() < 400) {
          out->acked_with_id.push_back(std::move(op));
        } else {
          out->acked_with_id[rng() % out->acked_with_id.size()] = std::move(op);
        }
      }
    }
    if (!lost) batches.pop_front();
  }
  out->in_flight.assign(outstanding.begin(), outstanding.end());
}

// Pipelined reads of many cells; one integer per command.
std::vector<int64_t> ReadAll(RespClient& c, const std::vector<std::vector<std::string>>& commands) {
  std::vector<int64_t> values;
  for (size_t start = 0; start < commands.size(); start += 500) {
    std::string pipeline;
    const size_t end = std::min(commands.size(), start + 500);
    for (size_t i = start; i < end; ++i) pipeline += EncodeCommand(commands[i]);
    EXPECT_TRUE(c.Send(pipeline));
    for (size_t i = start; i < end; ++i) {
      RespValue v = c.ReadReply(20s);
      EXPECT_EQ(v.type, RespValue::Type::kInteger) << ::testing::PrintToString(commands[i]) << ": " << v;
      values.push_back(v.type == RespValue::Type::kInteger ? v.integer : -1);
    }
  }
  return values;
}

std::vector<int64_t> ReadTotals(RespClient& c) {
  std::vector<std::vector<std::string>> commands;
  for (int i = 0; i < kOwners; ++i) commands.push_back({"CTR.GET", Owner(i), "hits"});
  return ReadAll(c, commands);
}

TEST(CounterCrashTest, SigkillDuringCompactionKeepsEveryAcknowledgedChangeExactlyOnce) {
  TallydProcess daemon({"--compaction-interval-ms", "20", "--io-threads", "2"});
  ASSERT_TRUE(daemon.Start());
  std::mt19937_64 rng{std::random_device{}()};
  const auto labels_at_start = UtcLabels(NowMs());
  std::vector<int64_t> base(kOwners, 0);  // totals recovered after the previous cycle
  int64_t max_compaction_runs = 0;        // seen just before a kill

  for (int cycle = 1; cycle <= kCycles; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    std::vector<ThreadResult> results(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) threads.emplace_back(RunClient, daemon.port(), t, cycle, rng(), &results[t]);
    const int delay_ms = 250 + static_cast<int>(rng() % 500);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms - 40));
    // Compaction is running: its counters move (read just before the kill).
    std::string compaction;
    if (auto probe = RespClient::ConnectTcp(daemon.port())) {
      RespValue info = probe->Call({"INFO", "persistence"}, 2s);
      for (const std::string& line : SplitLines(info.str)) {
        if (line.rfind("compaction_runs:", 0) == 0 || line.rfind("compaction_last_duration_us:", 0) == 0) {
          compaction += line + " ";
        }
        if (line.rfind("compaction_runs:", 0) == 0) {
          max_compaction_runs = std::max<int64_t>(max_compaction_runs, std::atoll(line.c_str() + 16));
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(40 - static_cast<int>(rng() % 20)));
    daemon.Kill();
    for (auto& th : threads) th.join();

    std::vector<int64_t> acked(kOwners, 0), in_flight(kOwners, 0);
    std::vector<Op> retry_dupes, retry_in_flight;
    int64_t replies = 0, flight = 0;
    for (const ThreadResult& r : results) {
      ASSERT_EQ(r.error, "");
      replies += r.replies;
      for (int i = 0; i < kOwners; ++i) acked[i] += r.acked[i];
      for (const Op& op : r.in_flight) {
        in_flight[op.owner] += op.delta;
        ++flight;
        if (!op.id.empty()) retry_in_flight.push_back(op);
      }
      retry_dupes.insert(retry_dupes.end(), r.acked_with_id.begin(), r.acked_with_id.end());
    }
    std::cout << "[crash] cycle " << cycle << ": SIGKILL after " << delay_ms << " ms (" << compaction << "); "
              << replies << " increments acknowledged, " << flight << " in flight" << std::endl;
    ASSERT_GT(replies, 0) << "nothing was acknowledged before the kill";

    if (cycle == 3) {  // once also during recovery
      ASSERT_TRUE(daemon.Spawn());
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 30));
      daemon.Kill();
    }
    ASSERT_TRUE(daemon.Start(30s));
    auto c = RespClient::ConnectTcp(daemon.port());
    ASSERT_TRUE(c.has_value());

    // 1. Bounds, and the day cell equals the total.
    std::vector<int64_t> totals = ReadTotals(*c);
    ASSERT_EQ(totals.size(), static_cast<size_t>(kOwners));
    int lost = 0, doubled = 0;
    for (int i = 0; i < kOwners; ++i) {
      if (totals[i] < base[i] + acked[i] && ++lost <= 10) {
        ADD_FAILURE() << Owner(i) << " = " << totals[i] << ": acknowledged increments lost (recovered before "
                      << base[i] << ", acknowledged +" << acked[i] << ", in flight " << in_flight[i] << ")";
      }
      if (totals[i] > base[i] + acked[i] + in_flight[i] && ++doubled <= 10) {
        ADD_FAILURE() << Owner(i) << " = " << totals[i] << ": applied twice (recovered before " << base[i]
                      << ", acknowledged +" << acked[i] << ", in flight " << in_flight[i] << ")";
      }
    }
    EXPECT_EQ(lost, 0) << "counters with lost increments";
    EXPECT_EQ(doubled, 0) << "counters with increments applied twice";
    const auto now_labels = UtcLabels(NowMs());
    for (size_t k = 0; k < kIntervals.size(); ++k) {
      if (k == 0 || now_labels[k] != labels_at_start[k]) continue;  // hours change during the test; skip them
      std::vector<std::vector<std::string>> commands;
      for (int i = 0; i < kOwners; ++i) commands.push_back({"CTR.GET", Owner(i), "hits", kIntervals[k], now_labels[k]});
      std::vector<int64_t> cells = ReadAll(*c, commands);
      int mismatches = 0;
      for (int i = 0; i < kOwners && i < static_cast<int>(cells.size()); ++i) {
        if (cells[i] != totals[i] && ++mismatches <= 5) {
          ADD_FAILURE() << Owner(i) << " " << kIntervals[k] << " " << now_labels[k] << " = " << cells[i]
                        << ", total = " << totals[i];
        }
      }
      EXPECT_EQ(mismatches, 0) << kIntervals[k] << " cells that differ from the total";
    }

    // 2. Acknowledged ids are duplicates now: the reply is the total, nothing changes.
    {
      std::vector<std::vector<std::string>> commands;
      for (const Op& op : retry_dupes) commands.push_back(op.Command());
      std::vector<int64_t> replies_now = ReadAll(*c, commands);
      int wrong = 0;
      for (size_t j = 0; j < retry_dupes.size() && j < replies_now.size(); ++j) {
        if (replies_now[j] != totals[retry_dupes[j].owner] && ++wrong <= 10) {
          ADD_FAILURE() << "retry of acknowledged " << ::testing::PrintToString(retry_dupes[j].Command()) << " replied "
                        << replies_now[j] << ", the total is " << totals[retry_dupes[j].owner]
                        << " (was the id forgotten?)";
        }
      }
      EXPECT_EQ(wrong, 0);
      std::cout << "[crash] cycle " << cycle << ": " << retry_dupes.size() << " acknowledged ids retried as duplicates"
                << std::endl;
    }
    std::vector<int64_t> after_dupes = ReadTotals(*c);
    EXPECT_EQ(after_dupes, totals) << "retrying acknowledged ids changed totals";

    // 3. Retry every in-flight increment that carries an id: the id owners
    //    then hold exactly acknowledged + in flight.
    {
      std::vector<std::vector<std::string>> commands;
      for (const Op& op : retry_in_flight) commands.push_back(op.Command());
      ReadAll(*c, commands);
    }
    std::vector<int64_t> final_totals = ReadTotals(*c);
    int inexact = 0;
    for (int i = 0; i < kOwners; ++i) {
      if (i < kIdOwners) {
        if (final_totals[i] != base[i] + acked[i] + in_flight[i] && ++inexact <= 10) {
          ADD_FAILURE() << Owner(i) << " = " << final_totals[i] << " after retrying its in-flight ids, expected "
                        << base[i] + acked[i] + in_flight[i] << " (recovered before " << base[i] << ", acknowledged +"
                        << acked[i] << ", in flight +" << in_flight[i] << ", read after restart " << totals[i] << ")";
        }
      } else {
        EXPECT_EQ(final_totals[i], totals[i]) << Owner(i);
      }
    }
    EXPECT_EQ(inexact, 0) << "id owners not exactly-once after retries";
    base = final_totals;
    if (HasFailure()) return;
  }
  EXPECT_GT(max_compaction_runs, 0) << "compaction never ran before a kill: the test did not kill during compaction";
  // A clean restart changes nothing.
  ASSERT_TRUE(daemon.Restart());
  auto c = RespClient::ConnectTcp(daemon.port());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(ReadTotals(*c), base);
}

}  // namespace
}  // namespace tally::itest::counters
