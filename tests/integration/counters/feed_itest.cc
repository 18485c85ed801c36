// The changefeed and the audit trail against the real tallyd (compacting every
// 50 ms): CTR.SET ... BY alice shows up in AUDIT.READ; CHANGES.READ pages
// through every change once; and a mirror that follows the feed across a
// kill -9 and a restart misses nothing, repeats nothing, and never sees a seq
// change meaning.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "counters_util.h"
#include "tallyd_process.h"

namespace tally::itest::counters {
namespace {

// One change row as CHANGES.READ sends it: [seq, owner, key, interval, period, value|nil].
struct Row {
  int64_t seq = 0;
  std::string owner, key, interval, period;
  std::optional<int64_t> value;
  bool operator==(const Row&) const = default;
};

// CHANGES.READ since COUNT n -> rows (next in *next); false on a malformed reply.
::testing::AssertionResult ReadChanges(RespClient& c, int64_t since, int count, int64_t* next, std::vector<Row>* rows) {
  RespValue v = c.Call({"CHANGES.READ", std::to_string(since), "COUNT", std::to_string(count)});
  if (v.type != RespValue::Type::kArray || v.elements.size() != 2 || v.elements[0].type != RespValue::Type::kInteger ||
      v.elements[1].type != RespValue::Type::kArray) {
    return ::testing::AssertionFailure() << "CHANGES.READ " << since << ": " << v;
  }
  *next = v.elements[0].integer;
  for (const RespValue& e : v.elements[1].elements) {
    if (e.type != RespValue::Type::kArray || e.elements.size() != 6 ||
        e.elements[0].type != RespValue::Type::kInteger) {
      return ::testing::AssertionFailure() << "malformed row " << e;
    }
    Row row{e.elements[0].integer, e.elements[1].str, e.elements[2].str, e.elements[3].str, e.elements[4].str, {}};
    if (e.elements[5].type == RespValue::Type::kInteger) {
      row.value = e.elements[5].integer;
    } else if (e.elements[5].type != RespValue::Type::kNull) {
      return ::testing::AssertionFailure() << "value neither integer nor nil: " << e;
    }
    rows->push_back(std::move(row));
  }
  return ::testing::AssertionSuccess();
}

class FeedItest : public TallydTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--compaction-interval-ms", "50"}; }
};

TEST_F(FeedItest, CtrSetByAliceShowsInAuditReadAfterCompaction) {
  EXPECT_EQ(Cli({"CTR.INCRBY", "user:42", "downloads", "3"}), "(integer) 3");
  EXPECT_EQ(Cli({"CTR.SET", "user:42", "downloads", "10", "BY", "alice"}), "OK");
  EXPECT_EQ(Cli({"CTR.GET", "user:42", "downloads"}), "(integer) 10");
  RespClient c = Connect();
  RespValue audit;
  for (int i = 0; i < 200; ++i) {  // the next compaction (50 ms) gives it a seq
    audit = c.Call({"AUDIT.READ", "0"});
    if (audit.type == RespValue::Type::kArray && audit.elements.size() == 2 && !audit.elements[1].elements.empty()) {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(audit.type, RespValue::Type::kArray) << audit;
  ASSERT_EQ(audit.elements[1].elements.size(), 1u) << audit;
  const RespValue& row = audit.elements[1].elements[0];
  ASSERT_EQ(row.elements.size(), 7u) << row;
  EXPECT_EQ(row.elements[0].integer, 1);
  EXPECT_NEAR(static_cast<double>(row.elements[1].integer), static_cast<double>(NowMs()), 60'000);
  EXPECT_EQ(row.elements[2].str, "alice");
  EXPECT_EQ(row.elements[3].str, "CTR.SET");
  EXPECT_EQ(row.elements[4].str, "user:42");
  EXPECT_EQ(row.elements[5].str, "downloads");
  EXPECT_EQ(row.elements[6].str, R"({"cells":[{"interval":"total","period":"total","before":3,"after":10}]})");
  // redis-cli shows the same, and a client name stands in for a missing BY.
  std::string shown = Cli({"AUDIT.READ", "0", "COUNT", "10"});
  EXPECT_TRUE(Contains(shown, "\"alice\"")) << shown;
  EXPECT_TRUE(Contains(shown, "\"CTR.SET\"")) << shown;
  EXPECT_EQ(c.Call({"CLIENT", "SETNAME", "nightly-fix"}).str, "OK");
  EXPECT_EQ(c.Call({"CTR.DEL", "user:42", "downloads"}).integer, 7);
  RespValue more;
  for (int i = 0; i < 200; ++i) {
    more = c.Call({"AUDIT.READ", "1"});
    if (more.type == RespValue::Type::kArray && more.elements.size() == 2 && !more.elements[1].elements.empty()) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(more.elements[1].elements.size(), 1u) << more;
  EXPECT_EQ(more.elements[0].integer, 2);
  EXPECT_EQ(more.elements[1].elements[0].elements[2].str, "nightly-fix");
  EXPECT_EQ(more.elements[1].elements[0].elements[6].str, R"({"interval":"all","cells_removed":7,"total_before":10})");
  // Bad arguments are clear errors.
  EXPECT_EQ(Cli({"CHANGES.READ", "x"}),
            "(error) ERR since must be a non-negative integer (0, or the next-seq of an earlier reply)");
  EXPECT_EQ(Cli({"CHANGES.READ", "0", "COUNT", "0"}), "(error) ERR COUNT must be between 1 and 10000");
  EXPECT_TRUE(Contains(Cli({"CTR.SET", "user:42", "downloads", "1", "BY", ""}), "invalid actor"));
}

TEST_F(FeedItest, ChangesReadPagesThroughEveryChangeOnce) {
  RespClient c = Connect();
  std::string pipeline;
  for (int i = 0; i < 50; ++i) pipeline += EncodeCommand({"CTR.INCRBY", "page:" + std::to_string(i), "hits", "2"});
  ASSERT_TRUE(c.Send(pipeline));
  for (int i = 0; i < 50; ++i) ASSERT_EQ(c.ReadReply().integer, 2);
  // 50 counters x 7 cells, once compaction has run.
  std::vector<Row> all;
  int64_t cursor = 0;
  for (int attempt = 0; attempt < 300 && all.size() < 350; ++attempt) {
    int64_t next = 0;
    std::vector<Row> rows;
    ASSERT_TRUE(ReadChanges(c, cursor, 33, &next, &rows));
    EXPECT_LE(rows.size(), 33u);
    for (const Row& row : rows) {
      EXPECT_EQ(row.seq, cursor + 1) << "a gap or a repeat";
      cursor = row.seq;
      all.push_back(row);
    }
    EXPECT_EQ(next, cursor);
    if (rows.empty()) std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(all.size(), 350u);
  std::map<std::string, int> totals;
  for (const Row& row : all) {
    EXPECT_EQ(row.key, "hits");
    ASSERT_TRUE(row.value.has_value());
    EXPECT_EQ(*row.value, 2);
    if (row.interval == "total") ++totals[row.owner];
  }
  EXPECT_EQ(totals.size(), 50u);
  RespValue info = c.Call({"CHANGES.INFO"});
  ASSERT_EQ(info.type, RespValue::Type::kArray) << info;
  ASSERT_EQ(info.elements.size(), 6u);
  EXPECT_EQ(info.elements[3].integer, 350);
  EXPECT_EQ(Cli({"CHANGES.READ", "351"}),
            "(error) ERR cursor 351 is past the newest change 350 (a cursor from another data dir?)");
}

// kill -9 while increments and compactions run; the mirror keeps its cursor.
TEST(FeedCrashTest, KillNineThenResumeFromTheCursorMissesNothingAndRepeatsNothing) {
  TallydProcess daemon({"--compaction-interval-ms", "50"});
  ASSERT_TRUE(daemon.Start());
  constexpr int kOwners = 300;
  auto owner = [](const std::string& phase, int i) { return "feed" + phase + ":" + std::to_string(i); };

  std::vector<Row> seen;                  // every row the mirror applied, in order
  std::map<std::string, int64_t> mirror;  // owner -> total, as the mirror has it
  int64_t cursor = 0;
  auto drain = [&](RespClient& c) -> ::testing::AssertionResult {
    for (;;) {
      int64_t next = 0;
      std::vector<Row> rows;
      auto ok = ReadChanges(c, cursor, 500, &next, &rows);
      if (!ok) return ok;
      if (rows.empty()) return ::testing::AssertionSuccess();
      for (const Row& row : rows) {
        if (row.seq != cursor + 1) {
          return ::testing::AssertionFailure() << "after seq " << cursor << " came " << row.seq;
        }
        cursor = row.seq;
        seen.push_back(row);
        if (row.interval == "total" && row.value) mirror[row.owner] = *row.value;
        if (!row.value && (row.interval == "*" || row.interval == "total")) mirror[row.owner] = 0;
      }
    }
  };

  // Phase 1: a writer pipelines increments to the "a" owners; the mirror
  // follows; the daemon is killed mid-stream.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    auto c = RespClient::ConnectTcpRetrying(daemon.port());
    if (!c) return;
    for (int round = 0; !stop.load(); ++round) {
      std::string pipeline;
      for (int i = 0; i < kOwners; ++i) pipeline += EncodeCommand({"CTR.INCRBY", owner("a", i), "hits", "1"});
      if (!c->Send(pipeline)) return;
      for (int i = 0; i < kOwners; ++i) {
        if (!c->ReadReply(5s).ok()) return;
      }
    }
  });
  {
    auto reader = RespClient::ConnectTcpRetrying(daemon.port());
    ASSERT_TRUE(reader.has_value());
    const auto until = std::chrono::steady_clock::now() + 1500ms;
    while (std::chrono::steady_clock::now() < until) {
      ASSERT_TRUE(drain(*reader));
      std::this_thread::sleep_for(30ms);
    }
  }
  daemon.Kill();
  stop = true;
  writer.join();
  const size_t seen_before_kill = seen.size();
  ASSERT_GT(seen_before_kill, 0u) << "no change was readable before the kill";
  ASSERT_TRUE(daemon.Start(30s));
  auto c = RespClient::ConnectTcpRetrying(daemon.port());
  ASSERT_TRUE(c.has_value());

  // What the mirror read before the kill reads back the same: a seq never
  // changes meaning.
  {
    std::vector<Row> again;
    int64_t since = 0;
    while (again.size() < seen_before_kill) {
      int64_t next = 0;
      std::vector<Row> rows;
      ASSERT_TRUE(ReadChanges(*c, since, 10000, &next, &rows));
      ASSERT_FALSE(rows.empty()) << "records seen before the kill are gone after seq " << since;
      again.insert(again.end(), rows.begin(), rows.end());
      since = next;
    }
    again.resize(seen_before_kill);
    for (size_t i = 0; i < seen_before_kill; ++i) {
      ASSERT_EQ(again[i], seen[i]) << "seq " << seen[i].seq << " changed meaning across the kill";
    }
  }

  // Phase 2: other owners change; the "a" owners only through replay. The
  // mirror resumes from its cursor and converges on the daemon's totals.
  for (int i = 0; i < 50; ++i) ASSERT_EQ(c->Call({"CTR.INCRBY", owner("b", i), "hits", "5"}).integer, 5);
  ASSERT_EQ(c->Call({"CTR.DEL", owner("a", 0), "hits", "BY", "crash-test"}).type, RespValue::Type::kInteger);
  std::map<std::string, int64_t> truth;
  for (int i = 0; i < kOwners; ++i) truth[owner("a", i)] = c->Call({"CTR.GET", owner("a", i), "hits"}).integer;
  for (int i = 0; i < 50; ++i) truth[owner("b", i)] = 5;
  int mismatches = 0;
  for (int attempt = 0; attempt < 250; ++attempt) {
    ASSERT_TRUE(drain(*c));
    mismatches = 0;
    for (const auto& [name, total] : truth) {
      auto it = mirror.find(name);
      if ((it == mirror.end() ? 0 : it->second) != total) ++mismatches;
    }
    if (mismatches == 0) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(mismatches, 0) << "the mirror did not converge on the daemon's totals";
  std::cout << "[feed-crash] " << seen_before_kill << " rows before the kill, " << seen.size() << " in all, cursor "
            << cursor << std::endl;
}

}  // namespace
}  // namespace tally::itest::counters
