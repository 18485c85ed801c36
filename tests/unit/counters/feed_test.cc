// The changefeed (FeedsModule::ReadChanges, CHANGES.READ) and the audit trail
// (FeedsModule::ReadAudit, AUDIT.READ, BY on CTR.SET/RESET/RECOUNT/DEL): records
// appear after compaction with consecutive seqs; a mirror that resumes from
// its cursor after reopen, log replay (a crash) or both misses nothing and
// sees no seq twice; deletes; retention and the too-old cursor; audit
// before/after values, atomic with their change across replay; bad arguments.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "commands/context.h"
#include "commands/registry.h"
#include "counter_test_util.h"
#include "protocol/resp_writer.h"

namespace tally::core::counters_test {
namespace {

using Strs = std::vector<std::string>;

// A change record as one string: "seq owner key interval period value"
// ("*" for the interval of a delete of every cell, "*" and "nil" for deletes).
std::string Render(const ChangeEntry& r) {
  return std::to_string(r.seq) + " " + r.owner + " " + r.key + " " +
         (r.interval ? std::string(IntervalName(*r.interval)) : "*") + " " + (r.value ? r.period : "*") + " " +
         (r.value ? std::to_string(*r.value) : "nil");
}

class FeedTest : public CounterTest {
 protected:
  ChangesPage Changes(uint64_t since, size_t limit = 10000) {
    OpResult<ChangesPage> r = engine_->feeds().ReadChanges(since, limit);
    EXPECT_TRUE(r.ok());
    return r.value;
  }
  Strs ChangeStrings(uint64_t since, size_t limit = 10000) {
    Strs out;
    ChangesPage page = Changes(since, limit);
    EXPECT_EQ(page.cursor, FeedCursor::kOk);
    for (const ChangeEntry& r : page.records) out.push_back(Render(r));
    return out;
  }
  AuditPage Audit(uint64_t since, size_t limit = 10000) {
    OpResult<AuditPage> r = engine_->feeds().ReadAudit(since, limit);
    EXPECT_TRUE(r.ok());
    return r.value;
  }
  void AuditedAssign(std::string_view owner, std::string_view key, const std::vector<CellAssignment>& cells,
                     std::string_view actor, std::string_view command) {
    AuditInfo audit{actor, command};
    ASSERT_TRUE(engine_->counters().AssignCells(owner, key, cells, &audit).ok());
  }
  PeriodId Day(std::string_view label) { return Period("user:1", Interval::kDay, label); }
};

TEST_F(FeedTest, ChangesAppearAfterCompactionWithConsecutiveSeqs) {
  Incr("user:1", "hits", 5);
  Durable();
  ChangesPage empty = Changes(0);
  EXPECT_EQ(empty.cursor, FeedCursor::kOk);
  EXPECT_TRUE(empty.records.empty()) << "nothing is visible before a compaction";
  EXPECT_EQ(empty.next, 0u);
  EXPECT_EQ(empty.newest, 0u);
  Compact();
  EXPECT_EQ(ChangeStrings(0),
            (Strs{"1 user:1 hits total total 5", "2 user:1 hits hour 2024-06-15T12 5", "3 user:1 hits day 2024-06-15 5",
                  "4 user:1 hits week 2024-W24 5", "5 user:1 hits month 2024-06 5", "6 user:1 hits quarter 2024-Q2 5",
                  "7 user:1 hits year 2024 5"}));
  ChangesPage page = Changes(0);
  EXPECT_EQ(page.next, 7u);
  EXPECT_EQ(page.newest, 7u);
  EXPECT_EQ(page.oldest, 1u);
  // Nothing new: next stays at the cursor.
  ChangesPage none = Changes(7);
  EXPECT_TRUE(none.records.empty());
  EXPECT_EQ(none.next, 7u);
  // A compaction with nothing to do writes nothing.
  Compact();
  EXPECT_EQ(Changes(7).newest, 7u);
  Incr("user:2", "hits", 2);
  Compact();
  Strs next = ChangeStrings(7);
  ASSERT_EQ(next.size(), 7u);
  EXPECT_EQ(next.front(), "8 user:2 hits total total 2");
  EXPECT_EQ(next.back(), "14 user:2 hits year 2024 2");
}

TEST_F(FeedTest, PeriodLabelsUseTheOwnersZone) {
  ASSERT_TRUE(engine_->owners().SetTimeZone("user:9", Zone("Asia/Tokyo")).ok());  // 2024-06-15T21:20 local
  Incr("user:9", "hits", 1);
  Compact();
  Strs all = ChangeStrings(0);
  ASSERT_EQ(all.size(), 7u);
  EXPECT_EQ(all[1], "2 user:9 hits hour 2024-06-15T21 1");
}

TEST_F(FeedTest, PagesWithCountCoverEverySeqOnce) {
  for (int i = 0; i < 10; ++i) Incr("user:" + std::to_string(i), "hits", i + 1);
  Compact();
  std::vector<uint64_t> seqs;
  uint64_t cursor = 0;
  int pages = 0;
  for (;;) {
    ChangesPage page = Changes(cursor, 16);
    ASSERT_EQ(page.cursor, FeedCursor::kOk);
    if (page.records.empty()) break;
    EXPECT_LE(page.records.size(), 16u);
    for (const ChangeEntry& r : page.records) seqs.push_back(r.seq);
    EXPECT_EQ(page.next, page.records.back().seq);
    cursor = page.next;
    ++pages;
  }
  EXPECT_EQ(pages, 5);  // 70 records
  ASSERT_EQ(seqs.size(), 70u);
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i + 1);
}

TEST_F(FeedTest, BlobsAreCutButReadAsOneSequence) {
  // 1,000 counters in one shard compaction: more records than one blob holds.
  for (int i = 0; i < 1000; ++i) Incr("user:1", std::to_string(i) + "k", 1);
  Compact();
  uint64_t cursor = 0, expected = 1;
  for (;;) {
    ChangesPage page = Changes(cursor, 999);
    ASSERT_EQ(page.cursor, FeedCursor::kOk);
    if (page.records.empty()) break;
    for (const ChangeEntry& r : page.records) EXPECT_EQ(r.seq, expected++);
    cursor = page.next;
  }
  EXPECT_EQ(expected, 7001u);
}

TEST_F(FeedTest, DeletesAreRecordsWithoutAValue) {
  Incr("user:1", "hits", 3);
  Incr("user:1", "other", 1);
  Compact();
  const uint64_t base = Changes(0).newest;
  EXPECT_EQ(Delete("user:1", "hits", Interval::kDay), 1);
  Compact();
  Strs records = ChangeStrings(base);
  ASSERT_EQ(records.size(), 8u);  // the delete, then the counter's cells as compaction wrote them
  EXPECT_EQ(records[0], std::to_string(base + 1) + " user:1 hits day * nil");
  EXPECT_EQ(records[1], std::to_string(base + 2) + " user:1 hits total total 3");
  EXPECT_EQ(records[3], std::to_string(base + 4) + " user:1 hits day 2024-06-15 0");
  const uint64_t after_day = Changes(0).newest;
  EXPECT_EQ(Delete("user:1", "hits"), 6);
  Compact();
  records = ChangeStrings(after_day);
  ASSERT_EQ(records.size(), 8u);
  EXPECT_EQ(records[0], std::to_string(after_day + 1) + " user:1 hits * * nil");
  EXPECT_EQ(records[1], std::to_string(after_day + 2) + " user:1 hits total total 0");
}

TEST_F(FeedTest, CursorAheadOfTheFeedIsReported) {
  Incr("user:1", "hits", 1);
  Compact();
  ChangesPage page = Changes(8);
  EXPECT_EQ(page.cursor, FeedCursor::kAhead);
  EXPECT_TRUE(page.records.empty());
  EXPECT_EQ(page.newest, 7u);
  EXPECT_EQ(Changes(7).cursor, FeedCursor::kOk);
}

TEST_F(FeedTest, RetentionTrimsOldRecordsAndAnOlderCursorIsAnError) {
  engine_.reset();
  options_.counters.changes_retention_ms = kHourMs;
  Open();
  Incr("user:1", "hits", 1);
  Compact();  // seqs 1..7 at t0
  EXPECT_EQ(ChangeStrings(0).size(), 7u);
  clock_.Advance(2 * kHourMs);
  Incr("user:2", "hits", 1);
  Compact();  // seqs 8..14 at t0+2h; 1..7 are older than an hour: trimmed
  ChangesPage lost = Changes(0);
  EXPECT_EQ(lost.cursor, FeedCursor::kTooOld);
  EXPECT_TRUE(lost.records.empty());
  EXPECT_EQ(lost.oldest, 8u);
  EXPECT_EQ(Changes(6).cursor, FeedCursor::kTooOld);
  Strs kept = ChangeStrings(7);
  ASSERT_EQ(kept.size(), 7u);
  EXPECT_EQ(kept.front(), "8 user:2 hits total total 1");
  // The trim point survives a restart, and the seqs continue after it.
  Reopen();
  EXPECT_EQ(Changes(0).cursor, FeedCursor::kTooOld);
  EXPECT_EQ(Changes(0).oldest, 8u);
  EXPECT_EQ(ChangeStrings(7).size(), 7u);
  // Everything trimmed: a cursor at the newest seq still works, older ones do not.
  clock_.Advance(2 * kHourMs);
  Incr("user:3", "hits", 1);
  Compact();
  clock_.Advance(2 * kHourMs);
  Compact();  // nothing new; the trim still runs
  EXPECT_EQ(Changes(14).cursor, FeedCursor::kTooOld);
  ChangesPage head = Changes(21);
  EXPECT_EQ(head.cursor, FeedCursor::kOk);
  EXPECT_EQ(head.oldest, 22u);
  EXPECT_EQ(head.newest, 21u);
  Incr("user:4", "hits", 1);
  Compact();
  EXPECT_EQ(ChangeStrings(21).size(), 7u);
}

TEST_F(FeedTest, NoRetentionKeepsEverything) {
  engine_.reset();
  options_.counters.changes_retention_ms = 0;
  Open();
  Incr("user:1", "hits", 1);
  Compact();
  clock_.Advance(400 * kDayMs);
  Incr("user:2", "hits", 1);
  Compact();
  EXPECT_EQ(ChangeStrings(0).size(), 14u);
}

// A mirror as an application keeps it: cells by (owner, key, interval, period).
class Mirror {
 public:
  void Apply(const ChangeEntry& r) {
    if (r.value) {
      cells_[{r.owner, r.key, std::string(IntervalName(*r.interval)), r.period}] = *r.value;
      return;
    }
    for (auto it = cells_.begin(); it != cells_.end();) {
      const auto& [owner, key, interval, period] = it->first;
      bool match = owner == r.owner && key == r.key && (!r.interval || interval == IntervalName(*r.interval));
      it = match ? cells_.erase(it) : std::next(it);
    }
  }
  const std::map<std::tuple<std::string, std::string, std::string, std::string>, int64_t>& cells() const {
    return cells_;
  }

 private:
  std::map<std::tuple<std::string, std::string, std::string, std::string>, int64_t> cells_;
};

// The mirroring loop across compactions, reopens without compaction (the log
// is replayed, as after kill -9) and both: every seq arrives exactly once, in
// order, and the mirror ends equal to the engine.
TEST_F(FeedTest, AMirrorResumingFromItsCursorMissesNothingAndRepeatsNothing) {
  std::mt19937_64 rng(7);
  Mirror mirror;
  uint64_t cursor = 0;
  std::set<uint64_t> seen;
  auto drain = [&](const std::string& when) {
    for (;;) {
      ChangesPage page = Changes(cursor, 1 + rng() % 50);
      ASSERT_EQ(page.cursor, FeedCursor::kOk) << when;
      if (page.records.empty()) break;
      for (const ChangeEntry& r : page.records) {
        ASSERT_EQ(r.seq, cursor + 1) << when << ": a gap or a repeat";
        ASSERT_TRUE(seen.insert(r.seq).second) << when;
        mirror.Apply(r);
        cursor = r.seq;
      }
      ASSERT_EQ(page.next, cursor);
    }
  };
  const Strs owners = {"user:1", "user:2", "user:3", "org:a", "org:b"};
  const Strs keys = {"hits", "bytes"};
  for (int step = 0; step < 400; ++step) {
    const std::string& owner = owners[rng() % owners.size()];
    const std::string& key = keys[rng() % keys.size()];
    switch (rng() % 10) {
      case 0:
        Assign(owner, key,
               {{Interval::kDay, PeriodOf(Interval::kDay, clock_.NowMs() - kDayMs, TimeZone::Utc()),
                 static_cast<int64_t>(rng() % 100)}});
        break;
      case 1:
        if (rng() % 3 == 0) {
          Delete(owner, key);
        } else {
          Delete(owner, key, Interval::kHour);
        }
        break;
      case 2:
        Incr(owner, key, 1 + static_cast<int64_t>(rng() % 5), clock_.NowMs() - 3 * kHourMs);
        break;
      case 3:
        clock_.Advance(25 * kMinuteMs);
        break;
      default:
        Incr(owner, key, 1 + static_cast<int64_t>(rng() % 5));
        break;
    }
    if (step % 23 == 22) {
      switch ((step / 23) % 4) {
        case 0:
          Compact();
          break;
        case 1:
          Reopen();
          break;  // a crash: replay of everything after the last compaction
        case 2:
          Compact();
          Reopen();
          break;
        case 3:
          Reopen();
          Compact();
          break;
      }
      drain("after checkpoint " + std::to_string(step / 23));
    }
  }
  Compact();
  drain("at the end");
  ASSERT_FALSE(seen.empty());
  // Every mirrored cell equals the engine's, and per (owner, key, interval)
  // the sums agree, so no cell that holds a value is missing.
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> sums;
  for (const auto& [cell, value] : mirror.cells()) {
    const auto& [owner, key, interval, period] = cell;
    Interval iv = *ParseInterval(interval);
    EXPECT_EQ(iv == Interval::kTotal ? Total(owner, key) : CellOf(owner, key, iv, period), value)
        << owner << " " << key << " " << interval << " " << period;
    sums[{owner, key, interval}] += value;
  }
  for (const std::string& owner : owners) {
    for (const std::string& key : keys) {
      for (Interval iv : kRollupIntervals) {
        auto it = sums.find({owner, key, std::string(IntervalName(iv))});
        EXPECT_EQ(Sum(owner, key, iv), it == sums.end() ? 0 : it->second)
            << owner << " " << key << " " << IntervalName(iv);
      }
    }
  }
}

TEST_F(FeedTest, SeqsContinueAfterRestartsAndAreNeverReused) {
  Incr("user:1", "hits", 1);
  Compact();
  Reopen();
  Incr("user:2", "hits", 1);
  Durable();
  Reopen();  // user:2's increment is replayed, not compacted
  EXPECT_EQ(Changes(0).newest, 7u);
  Compact();
  Strs records = ChangeStrings(7);
  ASSERT_EQ(records.size(), 7u);
  EXPECT_EQ(records.front(), "8 user:2 hits total total 1");
  Reopen();
  EXPECT_EQ(ChangeStrings(0).size(), 14u);
}

// ---- audit -------------------------------------------------------------------

TEST_F(FeedTest, AuditRecordsBeforeAndAfterOfEveryAdministrativeChange) {
  Incr("user:1", "hits", 3);
  AuditedAssign("user:1", "hits", {{Interval::kDay, Day("2024-06-15"), 10}}, "alice", "CTR.SET");
  AuditedAssign("user:1", "hits", {{Interval::kTotal, 0, 0}}, "bob", "CTR.RESET");
  AuditedAssign("user:1", "hits",
                {{Interval::kDay, Day("2024-06-01"), 5},
                 {Interval::kDay, Day("2024-06-02"), 6},
                 {Interval::kDay, Day("2024-06-01"), 7}},
                "carol", "CTR.RECOUNT");
  AuditInfo del{"dave", "CTR.DEL"};
  ASSERT_EQ(engine_->counters().DeleteCells("user:1", "hits", Interval::kDay, &del).value, 3);
  Assign("user:1", "hits", {{Interval::kTotal, 0, 1}});  // not audited (no AuditInfo)
  EXPECT_TRUE(Audit(0).records.empty()) << "visible after compaction only";
  Compact();
  AuditPage page = Audit(0);
  ASSERT_EQ(page.records.size(), 4u);
  EXPECT_EQ(page.next, 4u);
  const AuditEntry& set = page.records[0];
  EXPECT_EQ(set.seq, 1u);
  EXPECT_EQ(set.time_ms, clock_.NowMs());
  EXPECT_EQ(set.actor, "alice");
  EXPECT_EQ(set.command, "CTR.SET");
  EXPECT_EQ(set.owner, "user:1");
  EXPECT_EQ(set.key, "hits");
  EXPECT_EQ(set.details, R"({"cells":[{"interval":"day","period":"2024-06-15","before":3,"after":10}]})");
  EXPECT_EQ(page.records[1].details, R"({"cells":[{"interval":"total","period":"total","before":3,"after":0}]})");
  EXPECT_EQ(page.records[1].actor, "bob");
  EXPECT_EQ(page.records[2].details, R"({"cells":[{"interval":"day","period":"2024-06-01","before":0,"after":5},)"
                                     R"({"interval":"day","period":"2024-06-02","before":0,"after":6},)"
                                     R"({"interval":"day","period":"2024-06-01","before":5,"after":7}]})");
  EXPECT_EQ(page.records[3].command, "CTR.DEL");
  EXPECT_EQ(page.records[3].details, R"({"interval":"day","cells_removed":3,"total_before":0})");
  // Paging and the cursor checks work as for changes.
  EXPECT_EQ(Audit(1, 2).records.size(), 2u);
  EXPECT_EQ(Audit(1, 2).next, 3u);
  EXPECT_EQ(Audit(5).cursor, FeedCursor::kAhead);
  EXPECT_TRUE(Audit(4).records.empty());
}

TEST_F(FeedTest, AuditOfAnUncompactedChangeIsRebuiltByReplayOnce) {
  Incr("user:1", "hits", 3);
  Incr("user:1", "other", 2);
  AuditedAssign("user:1", "hits", {{Interval::kTotal, 0, 50}}, "alice", "CTR.SET");
  Compact();
  AuditedAssign("user:1", "hits", {{Interval::kTotal, 0, 60}}, "bob", "CTR.SET");
  AuditInfo del{"carol", "CTR.DEL"};
  ASSERT_TRUE(engine_->counters().DeleteCells("user:1", "other", std::nullopt, &del).ok());
  // A delete of nothing changes nothing: no log entry, no audit record.
  AuditInfo nothing{"dan", "CTR.DEL"};
  ASSERT_EQ(engine_->counters().DeleteCells("user:1", "never", std::nullopt, &nothing).value, 0);
  Durable();
  Reopen();  // kill -9: the last two changes are replayed from the log
  EXPECT_EQ(Total("user:1", "hits"), 60);
  EXPECT_EQ(Audit(0).records.size(), 1u);
  Compact();
  AuditPage page = Audit(0);
  ASSERT_EQ(page.records.size(), 3u);
  EXPECT_EQ(page.records[1].actor, "bob");
  EXPECT_EQ(page.records[1].details, R"({"cells":[{"interval":"total","period":"total","before":50,"after":60}]})");
  EXPECT_EQ(page.records[2].details, R"({"interval":"all","cells_removed":7,"total_before":2})");
  Reopen();
  Compact();
  EXPECT_EQ(Audit(0).records.size(), 3u) << "replaying compacted entries must not audit them again";
  AuditedAssign("user:1", "hits", {{Interval::kTotal, 0, 70}}, "dave", "CTR.SET");
  Compact();
  page = Audit(3);
  ASSERT_EQ(page.records.size(), 1u);
  EXPECT_EQ(page.records[0].seq, 4u);
}

TEST_F(FeedTest, AnUnacknowledgedAuditedChangeIsLostWholeOrKeptWhole) {
  Incr("user:1", "hits", 1);
  Durable();
  AuditedAssign("user:1", "hits", {{Interval::kTotal, 0, 40}}, "alice", "CTR.SET");
  engine_.reset();  // no wait for the log: the entry may or may not be there
  Open();
  Compact();
  const bool applied = Total("user:1", "hits") == 40;
  EXPECT_EQ(Audit(0).records.size(), applied ? 1u : 0u);
}

// ---- commands ------------------------------------------------------------------

class FeedCommandTest : public FeedTest {
 protected:
  void SetUp() override {
    FeedTest::SetUp();
    server_.commands = &commands::BuildCommandTable();
    stats_ = &server_.AddThreadStats();
    client_.address = "127.0.0.1:5555";
  }
  // Runs one command as a session does and returns the raw RESP reply.
  std::string Run(std::vector<std::string_view> argv) {
    std::string out;
    protocol::RespSink sink(&out);
    protocol::CommandContext ctx{*engine_, server_, client_, *stats_};
    protocol::CommandArgs args(argv.data(), argv.size());
    const protocol::CommandSpec* spec = server_.commands->Resolve(args, sink);
    if (spec != nullptr) spec->handler(ctx, args, sink);
    Durable();
    return out;
  }
  // The actor of the newest audit record after a compaction.
  std::string LastActor() {
    Compact();
    AuditPage page = Audit(0);
    return page.records.empty() ? "<none>" : page.records.back().actor;
  }
  size_t AuditCount() {
    Compact();
    return Audit(0).records.size();
  }

  ServerState server_;
  ClientState client_;
  ThreadStats* stats_ = nullptr;
};

TEST_F(FeedCommandTest, ByNamesTheActorOnEveryAdministrativeCommand) {
  EXPECT_EQ(Run({"CTR.SET", "o", "k", "5", "BY", "alice"}), "+OK\r\n");
  EXPECT_EQ(LastActor(), "alice");
  EXPECT_EQ(Total("o", "k"), 5);
  EXPECT_EQ(Run({"CTR.SET", "o", "k", "6", "day", "by", "Alice Smith"}), "+OK\r\n");
  EXPECT_EQ(LastActor(), "Alice Smith");
  EXPECT_EQ(CellAt("o", "k", Interval::kDay), 6);
  EXPECT_EQ(Run({"CTR.SET", "o", "k", "7", "day", "2024-06-14", "BY", "bob"}), "+OK\r\n");
  EXPECT_EQ(LastActor(), "bob");
  EXPECT_EQ(CellOf("o", "k", Interval::kDay, "2024-06-14"), 7);
  EXPECT_EQ(Run({"CTR.RESET", "o", "k", "BY", "carol"}), "+OK\r\n");
  EXPECT_EQ(LastActor(), "carol");
  EXPECT_EQ(Total("o", "k"), 0);
  EXPECT_EQ(Run({"CTR.RESET", "o", "k", "day", "BY", "dave"}), "+OK\r\n");
  EXPECT_EQ(LastActor(), "dave");
  EXPECT_EQ(Run({"CTR.RECOUNT", "o", "k", "day", "2024-01-01", "5", "BY", "erin"}), "+OK\r\n");
  EXPECT_EQ(LastActor(), "erin");
  EXPECT_EQ(CellOf("o", "k", Interval::kDay, "2024-01-01"), 5);
  EXPECT_EQ(Run({"CTR.RECOUNT", "o", "k", "day", "2024-01-01", "8", "2024-01-02", "9", "BY", "frank"}), "+OK\r\n");
  EXPECT_EQ(LastActor(), "frank");
  EXPECT_EQ(Run({"CTR.DEL", "o", "k", "day", "BY", "gina"}), ":3\r\n");
  EXPECT_EQ(LastActor(), "gina");
  EXPECT_EQ(Run({"CTR.DEL", "o", "k", "BY", "hank"}), ":0\r\n");  // every cell left was 0
  // Nothing was deleted, so nothing changed: no audit record.
  EXPECT_EQ(LastActor(), "gina");
  EXPECT_EQ(AuditCount(), 8u);
}

TEST_F(FeedCommandTest, WithoutByTheActorIsTheClientNameOrAddress) {
  EXPECT_EQ(Run({"CTR.SET", "o", "k", "5"}), "+OK\r\n");
  EXPECT_EQ(LastActor(), "127.0.0.1:5555");
  client_.name = "billing-job";
  EXPECT_EQ(Run({"CTR.RESET", "o", "k"}), "+OK\r\n");
  EXPECT_EQ(LastActor(), "billing-job");
  EXPECT_EQ(Run({"CTR.DEL", "o", "k"}), ":0\r\n");
  EXPECT_EQ(LastActor(), "billing-job");
  client_.name.clear();
  client_.address.clear();
  EXPECT_EQ(Run({"CTR.SET", "o", "k", "1"}), "+OK\r\n");
  EXPECT_EQ(LastActor(), "unknown");
}

TEST_F(FeedCommandTest, BadActorsAndMisplacedByChangeNothing) {
  EXPECT_EQ(Run({"CTR.SET", "o", "k", "5", "BY", "alice"}), "+OK\r\n");
  const std::string long_actor(129, 'a');
  const std::vector<std::vector<std::string_view>> bad = {
      {"CTR.SET", "o", "k", "9", "BY", ""},
      {"CTR.SET", "o", "k", "9", "BY", long_actor},
      {"CTR.SET", "o", "k", "9", "BY", "bad\nactor"},
      {"CTR.SET", "o", "k", "9", "BY", " alice"},
      {"CTR.SET", "o", "k", "9", "BY"},
      {"CTR.SET", "o", "k", "9", "day", "BY"},
      {"CTR.SET", "o", "k", "BY", "alice"},  // BY where the value goes
      {"CTR.SET", "o", "k", "9", "day", "2024-06-15", "x", "BY", "alice"},
      {"CTR.RESET", "o", "k", "BY"},
      {"CTR.RECOUNT", "o", "k", "day", "BY", "alice"},  // BY where a period goes
      {"CTR.RECOUNT", "o", "k", "day", "2024-01-01", "1", "2024-01-02", "BY", "alice"},
      {"CTR.DEL", "o", "k", "BY", ""},
      {"CTR.DEL", "o", "k", "day", "x", "BY", "alice"},
  };
  for (const auto& argv : bad) {
    std::string reply = Run(argv);
    std::string shown;
    for (auto a : argv) shown += std::string(a) + " ";
    EXPECT_EQ(reply.substr(0, 5), "-ERR ") << shown << "-> " << reply;
  }
  EXPECT_NE(Run({"CTR.SET", "o", "k", "9", "BY", ""}).find("invalid actor"), std::string::npos);
  EXPECT_NE(Run({"CTR.SET", "o", "k", "9", "BY"}).find("BY needs an actor"), std::string::npos);
  EXPECT_EQ(Total("o", "k"), 5);
  EXPECT_EQ(CellAt("o", "k", Interval::kDay), 0);
  EXPECT_EQ(AuditCount(), 1u);
  EXPECT_EQ(Run({"CTR.SET", "o", "k", "9", "BY", std::string(128, 'a')}), "+OK\r\n");
  EXPECT_EQ(LastActor(), std::string(128, 'a'));
}

TEST_F(FeedCommandTest, ChangesReadRepliesFlatTypedRows) {
  EXPECT_EQ(Run({"CHANGES.READ", "0"}), "*2\r\n:0\r\n*0\r\n");
  Incr("u:1", "k", 2);
  Compact();
  EXPECT_EQ(Run({"CHANGES.READ", "0", "COUNT", "1"}),
            "*2\r\n:1\r\n*1\r\n*6\r\n:1\r\n$3\r\nu:1\r\n$1\r\nk\r\n$5\r\ntotal\r\n$5\r\ntotal\r\n:2\r\n");
  EXPECT_EQ(Run({"CHANGES.READ", "6", "count", "5"}),
            "*2\r\n:7\r\n*1\r\n*6\r\n:7\r\n$3\r\nu:1\r\n$1\r\nk\r\n$4\r\nyear\r\n$4\r\n2024\r\n:2\r\n");
  EXPECT_EQ(Run({"CTR.DEL", "u:1", "k", "BY", "ops"}), ":7\r\n");
  Compact();
  EXPECT_EQ(Run({"CHANGES.READ", "7", "COUNT", "1"}),
            "*2\r\n:8\r\n*1\r\n*6\r\n:8\r\n$3\r\nu:1\r\n$1\r\nk\r\n$1\r\n*\r\n$1\r\n*\r\n$-1\r\n");
  EXPECT_EQ(Run({"CHANGES.INFO"}),
            "*6\r\n$6\r\noldest\r\n:1\r\n$6\r\nnewest\r\n:15\r\n$11\r\nretention_s\r\n:604800\r\n");
  std::string audit = Run({"AUDIT.READ", "0"});
  EXPECT_EQ(audit, "*2\r\n:1\r\n*1\r\n*7\r\n:1\r\n:" + std::to_string(clock_.NowMs()) +
                       "\r\n$3\r\nops\r\n$7\r\nCTR.DEL\r\n$3\r\nu:1\r\n$1\r\nk\r\n$53\r\n"
                       R"({"interval":"all","cells_removed":7,"total_before":2})"
                       "\r\n");
}

TEST_F(FeedCommandTest, BadFeedArgumentsAreClearErrors) {
  Incr("u:1", "k", 2);
  Compact();
  for (const char* command : {"CHANGES.READ", "AUDIT.READ"}) {
    SCOPED_TRACE(command);
    EXPECT_EQ(Run({command, "abc"}),
              "-ERR since must be a non-negative integer (0, or the next-seq of an earlier reply)\r\n");
    EXPECT_EQ(Run({command, "-1"}).substr(0, 30), "-ERR since must be a non-negat");
    EXPECT_EQ(Run({command, "0", "COUNT", "0"}), "-ERR COUNT must be between 1 and 10000\r\n");
    EXPECT_EQ(Run({command, "0", "COUNT", "10001"}), "-ERR COUNT must be between 1 and 10000\r\n");
    EXPECT_EQ(Run({command, "0", "COUNT", "x"}), "-ERR COUNT 'x' is not an integer\r\n");
    EXPECT_EQ(Run({command, "0", "COUNT"}), "-ERR COUNT needs a value: COUNT n\r\n");
    EXPECT_EQ(Run({command, "0", "LIMIT", "5"}),
              std::string("-ERR unknown option 'LIMIT' (expected COUNT") +
                  (command == std::string("AUDIT.READ") ? ", REV, BEFORE, OWNER, KEY, ACTOR, COMMAND or SCAN" : "") +
                  ")\r\n");
    EXPECT_EQ(Run({command}).substr(0, 35), "-ERR wrong number of arguments for ");
  }
  EXPECT_EQ(Run({"CHANGES.READ", "0", "COUNT", "10000"}).substr(0, 9), "*2\r\n:7\r\n*");
  EXPECT_EQ(Run({"CHANGES.READ", "8"}),
            "-ERR cursor 8 is past the newest change 7 (a cursor from another data dir?)\r\n");
  EXPECT_EQ(Run({"AUDIT.READ", "1"}),
            "-ERR cursor 1 is past the newest audit record 0 (a cursor from another data dir?)\r\n");
  EXPECT_EQ(Run({"CHANGES.INFO", "x"}).substr(0, 35), "-ERR wrong number of arguments for ");
}

TEST_F(FeedCommandTest, ATooOldCursorSaysTheChangesWereLost) {
  engine_.reset();
  options_.counters.changes_retention_ms = kHourMs;
  Open();
  Incr("u:1", "k", 1);
  Compact();
  clock_.Advance(2 * kHourMs);
  Incr("u:2", "k", 1);
  Compact();
  EXPECT_EQ(Run({"CHANGES.READ", "3"}),
            "-ERR cursor 3 is older than the oldest kept change 8: the records in between were trimmed "
            "(changes_retention_s = 3600); rebuild the mirror from a full export and resume from CHANGES.INFO's "
            "newest\r\n");
}

}  // namespace
}  // namespace tally::core::counters_test
