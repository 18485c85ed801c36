// Reading the audit trail and the alert log newest first, filtered by the
// daemon, against the real tallyd: AUDIT.READ / EVENTS.READ with REV, BEFORE,
// the filters (exact, or a prefix with a trailing *) and SCAN (records looked
// at per call), and GET /v1/audit, /v1/alerts with order=desc, before,
// filters and scan. Every filtered read is compared with the same filter
// applied to the whole trail read oldest first; cursors walk the trail in
// pages with no record missing or repeated; bad arguments are typed errors
// that change nothing.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "http_client.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

using nlohmann::json;

struct Row {
  uint64_t seq = 0;
  std::string actor, command, owner, key;  // alerts: command = kind, key = feature
};

struct Page {
  uint64_t next = 0;
  std::vector<Row> rows;
  std::string error;  // the error reply, if any
};

bool Matches(const std::string& pattern, const std::string& value) {
  if (pattern.empty()) return true;
  if (pattern.back() == '*') return value.rfind(pattern.substr(0, pattern.size() - 1), 0) == 0;
  return value == pattern;
}

std::vector<uint64_t> Seqs(const std::vector<Row>& rows) {
  std::vector<uint64_t> seqs;
  for (const Row& r : rows) seqs.push_back(r.seq);
  return seqs;
}

class RecordReadsTest : public TallydTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--compaction-interval-ms", "50"}; }

  void SetUp() override {
    TallydTest::SetUp();
    client_ = Connect();
  }

  Page Read(const std::vector<std::string>& args) {
    RespValue reply = client_.Call(args);
    Page page;
    if (reply.is_error()) {
      page.error = reply.str;
      return page;
    }
    EXPECT_EQ(reply.elements.size(), 2u) << reply;
    if (reply.elements.size() != 2) return page;
    page.next = static_cast<uint64_t>(reply.elements[0].integer);
    for (const RespValue& r : reply.elements[1].elements) {
      Row row;
      row.seq = static_cast<uint64_t>(r.elements[0].integer);
      if (args[0] == "AUDIT.READ") {
        row.actor = r.elements[2].str;
        row.command = r.elements[3].str;
        row.owner = r.elements[4].str;
        row.key = r.elements[5].str;
      } else {
        const json alert = json::parse(r.elements[1].str);
        row.command = alert["kind"];
        row.owner = alert["owner"];
        row.key = alert["feature"];
      }
      page.rows.push_back(row);
    }
    return page;
  }

  // 60 audited changes: owners user:a, user:b, team:c in turn, keys downloads
  // and views in turn, every fifth by bob (else alice). Waits until all are
  // readable.
  void SeedAudit() {
    for (int i = 1; i <= 60; ++i) {
      const std::string owner = i % 3 == 1 ? "user:a" : i % 3 == 2 ? "user:b" : "team:c";
      const std::string key = i % 2 ? "downloads" : "views";
      RespValue set = client_.Call({"CTR.SET", owner, key, std::to_string(i), "BY", i % 5 == 0 ? "bob" : "alice"});
      ASSERT_FALSE(set.is_error()) << set;
    }
    WaitFor("AUDIT.READ", 60);
  }

  void WaitFor(const std::string& command, uint64_t newest) {
    for (int i = 0; i < 300; ++i) {
      Page newest_page = Read({command, "0", "REV", "COUNT", "1"});
      if (!newest_page.rows.empty() && newest_page.rows[0].seq >= newest) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << command << " never reached seq " << newest;
  }

  // Every record, oldest first, through pages of `count`.
  std::vector<Row> All(const std::string& command) {
    std::vector<Row> all;
    uint64_t since = 0;
    for (;;) {
      Page page = Read({command, std::to_string(since), "COUNT", "7"});
      EXPECT_TRUE(page.error.empty()) << page.error;
      if (page.rows.empty()) return all;
      all.insert(all.end(), page.rows.begin(), page.rows.end());
      since = page.next;
    }
  }

  // Walks a filtered read to its end with the cursors, both orders, and
  // checks it against `expected` (oldest first).
  void CheckFiltered(const std::string& command, const std::vector<std::string>& filter,
                     const std::vector<Row>& expected, const std::string& count, const std::string& scan) {
    SCOPED_TRACE(command + " filter of " + std::to_string(filter.size() / 2) + " COUNT " + count + " SCAN " + scan);
    std::vector<Row> up;
    uint64_t since = 0;
    for (int calls = 0; calls < 1000; ++calls) {
      std::vector<std::string> args{command, std::to_string(since), "COUNT", count, "SCAN", scan};
      args.insert(args.end(), filter.begin(), filter.end());
      Page page = Read(args);
      ASSERT_TRUE(page.error.empty()) << page.error;
      up.insert(up.end(), page.rows.begin(), page.rows.end());
      if (page.next == since) break;  // nothing further was looked at: the end
      since = page.next;
    }
    EXPECT_EQ(Seqs(up), Seqs(expected));
    std::vector<Row> down;
    std::string before;
    for (int calls = 0; calls < 1000; ++calls) {
      std::vector<std::string> args{command, "0", "REV", "COUNT", count, "SCAN", scan};
      if (!before.empty()) args.insert(args.end(), {"BEFORE", before});
      args.insert(args.end(), filter.begin(), filter.end());
      Page page = Read(args);
      ASSERT_TRUE(page.error.empty()) << page.error;
      down.insert(down.end(), page.rows.begin(), page.rows.end());
      if (page.next == 0) break;
      before = std::to_string(page.next);
    }
    std::vector<Row> reversed(expected.rbegin(), expected.rend());
    EXPECT_EQ(Seqs(down), Seqs(reversed));
  }

  RespClient client_;
};

TEST_F(RecordReadsTest, NewestFirstWithCursorsMissesAndRepeatsNothing) {
  SeedAudit();
  Page newest = Read({"AUDIT.READ", "0", "REV", "COUNT", "10"});
  ASSERT_TRUE(newest.error.empty()) << newest.error;
  EXPECT_EQ(Seqs(newest.rows), (std::vector<uint64_t>{60, 59, 58, 57, 56, 55, 54, 53, 52, 51}));
  EXPECT_EQ(newest.next, 51u);
  Page older = Read({"AUDIT.READ", "0", "REV", "COUNT", "3", "BEFORE", "51"});
  EXPECT_EQ(Seqs(older.rows), (std::vector<uint64_t>{50, 49, 48}));
  EXPECT_EQ(older.next, 48u);
  // `since` stays the lower bound: down to 56, and 0 says nothing older is left.
  Page above = Read({"AUDIT.READ", "55", "REV"});
  EXPECT_EQ(Seqs(above.rows), (std::vector<uint64_t>{60, 59, 58, 57, 56}));
  EXPECT_EQ(above.next, 0u);
  // The oldest record is the last: next 0.
  Page last = Read({"AUDIT.READ", "0", "REV", "BEFORE", "3"});
  EXPECT_EQ(Seqs(last.rows), (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(last.next, 0u);
  // BEFORE past the newest reads from the newest; BEFORE 1 reads nothing.
  EXPECT_EQ(Read({"AUDIT.READ", "0", "REV", "COUNT", "1", "BEFORE", "1000"}).rows[0].seq, 60u);
  Page none = Read({"AUDIT.READ", "0", "REV", "BEFORE", "1"});
  EXPECT_TRUE(none.rows.empty());
  EXPECT_EQ(none.next, 0u);
  // Oldest first with BEFORE: an upper bound there too.
  Page first = Read({"AUDIT.READ", "0", "BEFORE", "5"});
  EXPECT_EQ(Seqs(first.rows), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(first.next, 4u);
  // Unchanged without the new options: oldest first from since.
  Page plain = Read({"AUDIT.READ", "58"});
  EXPECT_EQ(Seqs(plain.rows), (std::vector<uint64_t>{59, 60}));
  EXPECT_EQ(plain.next, 60u);
  // Every page size walks the whole trail both ways.
  const std::vector<Row> all = All("AUDIT.READ");
  ASSERT_EQ(all.size(), 60u);
  for (const char* count : {"1", "7", "60", "10000"}) CheckFiltered("AUDIT.READ", {}, all, count, "10000");
}

TEST_F(RecordReadsTest, AuditFiltersAreAppliedByTheDaemonWithinTheScanBound) {
  SeedAudit();
  const std::vector<Row> all = All("AUDIT.READ");
  ASSERT_EQ(all.size(), 60u);
  struct Filter {
    std::string actor, command, owner, key;
  };
  for (const Filter& f : std::vector<Filter>{{"bob", "", "", ""},
                                             {"", "", "user:*", ""},
                                             {"", "", "team:c", "views"},
                                             {"ali*", "ctr.set", "user:b", "down*"},
                                             {"nobody", "", "", ""},
                                             {"", "CTR.*", "", ""}}) {
    std::vector<std::string> args;
    std::vector<Row> expected;
    for (const Row& r : all) {
      std::string command_upper = f.command;
      std::transform(command_upper.begin(), command_upper.end(), command_upper.begin(), ::toupper);
      if (Matches(f.actor, r.actor) && Matches(command_upper, r.command) && Matches(f.owner, r.owner) &&
          Matches(f.key, r.key)) {
        expected.push_back(r);
      }
    }
    for (const auto& [option, value] : std::vector<std::pair<std::string, std::string>>{
             {"ACTOR", f.actor}, {"COMMAND", f.command}, {"OWNER", f.owner}, {"KEY", f.key}}) {
      if (!value.empty()) args.insert(args.end(), {option, value});
    }
    // Pages of a few records, and a scan bound far below the trail's size.
    for (const char* scan : {"4", "13", "100000"}) CheckFiltered("AUDIT.READ", args, expected, "3", scan);
  }
  // The bound: 7 records looked at from the newest, and where it stopped.
  // (Seqs are given at compaction, shard by shard: the expectations come
  // from the whole trail, not from the order of the writes.)
  const auto bob_among = [&](size_t from, size_t to) {  // indexes into `all`, [from, to)
    std::vector<uint64_t> seqs;
    for (size_t i = from; i < to; ++i) {
      if (all[i].actor == "bob") seqs.push_back(all[i].seq);
    }
    return seqs;
  };
  std::vector<uint64_t> newest_bob = bob_among(53, 60);
  std::reverse(newest_bob.begin(), newest_bob.end());
  Page bounded = Read({"AUDIT.READ", "0", "REV", "ACTOR", "bob", "SCAN", "7"});
  EXPECT_EQ(Seqs(bounded.rows), newest_bob);
  EXPECT_EQ(bounded.next, 54u);
  std::vector<uint64_t> next_bob = bob_among(46, 53);
  std::reverse(next_bob.begin(), next_bob.end());
  Page on = Read({"AUDIT.READ", "0", "REV", "ACTOR", "bob", "SCAN", "7", "BEFORE", "54"});
  EXPECT_EQ(Seqs(on.rows), next_bob);
  EXPECT_EQ(on.next, 47u);
  Page up = Read({"AUDIT.READ", "0", "ACTOR", "bob", "SCAN", "7"});
  EXPECT_EQ(Seqs(up.rows), bob_among(0, 7));
  EXPECT_EQ(up.next, 7u);
  // A filter nothing matches returns no record but moves on by the bound.
  Page rare = Read({"AUDIT.READ", "0", "REV", "ACTOR", "nobody", "SCAN", "10"});
  EXPECT_TRUE(rare.rows.empty());
  EXPECT_EQ(rare.next, 51u);
  // Without a filter the bound caps the page too.
  EXPECT_EQ(Read({"AUDIT.READ", "0", "COUNT", "50", "SCAN", "3"}).rows.size(), 3u);
}

TEST_F(RecordReadsTest, AlertsNewestFirstAndFiltered) {
  ASSERT_EQ(Cli({"PLAN.SET", "pro",
                 R"({"features": {"api": {"limit": 100, "period": "month", "alerts": [10, 20, 30, 40, 50]},
                     "tokens": {"limit": 100, "period": "month", "alerts": [50, 90]}}})"}),
            "OK");
  for (const char* owner : {"team:1", "team:2", "user:3"}) {
    ASSERT_EQ(Cli({"PLAN.ASSIGN", owner, "pro"}), "OK");
  }
  for (int i = 0; i < 5; ++i) ASSERT_FALSE(client_.Call({"QUOTA.CONSUME", "team:1", "api", "10"}).is_error());
  for (int i = 0; i < 2; ++i) ASSERT_FALSE(client_.Call({"QUOTA.CONSUME", "team:2", "tokens", "50"}).is_error());
  ASSERT_FALSE(client_.Call({"QUOTA.CONSUME", "user:3", "api", "35"}).is_error());
  ASSERT_FALSE(client_.Call({"QUOTA.CONSUME", "team:2", "api", "20"}).is_error());
  // Wait until the log has them all (the count the oldest-first read sees stops growing).
  std::vector<Row> all;
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    std::vector<Row> now = All("EVENTS.READ");
    if (!now.empty() && now.size() == all.size()) break;
    all = now;
  }
  ASSERT_GE(all.size(), 9u);
  Page newest = Read({"EVENTS.READ", "0", "REV", "COUNT", "2"});
  ASSERT_EQ(newest.rows.size(), 2u);
  EXPECT_EQ(newest.rows[0].seq, all.back().seq);
  EXPECT_EQ(newest.rows[1].seq, all[all.size() - 2].seq);
  struct Filter {
    std::string owner, feature, kind;
  };
  for (const Filter& f : std::vector<Filter>{
           {"team:1", "", ""}, {"team:*", "api", "threshold"}, {"", "tok*", ""}, {"", "", "credit_depleted"}}) {
    std::vector<std::string> args;
    std::vector<Row> expected;
    for (const Row& r : all) {
      if (Matches(f.owner, r.owner) && Matches(f.feature, r.key) && Matches(f.kind, r.command)) expected.push_back(r);
    }
    for (const auto& [option, value] : std::vector<std::pair<std::string, std::string>>{
             {"OWNER", f.owner}, {"FEATURE", f.feature}, {"KIND", f.kind}}) {
      if (!value.empty()) args.insert(args.end(), {option, value});
    }
    for (const char* scan : {"2", "100000"}) CheckFiltered("EVENTS.READ", args, expected, "2", scan);
  }
  // Over HTTP: newest first, filtered, with the cursor for the older page.
  HttpReply reply =
      HttpClient::Request(daemon().http_port(), "GET", "/v1/alerts?order=desc&owner=team:1&limit=2&kind=threshold");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json page = json::parse(reply.body);
  ASSERT_EQ(page["alerts"].size(), 2u) << page;
  EXPECT_EQ(page["alerts"][0]["owner"], "team:1");
  EXPECT_EQ(page["alerts"][0]["threshold"], 50);
  EXPECT_EQ(page["alerts"][1]["threshold"], 40);
  EXPECT_EQ(page["next"], page["alerts"][1]["seq"]);
  const json older = json::parse(HttpClient::Request(daemon().http_port(), "GET",
                                                     "/v1/alerts?order=desc&owner=team:1&limit=2&before=" +
                                                         std::to_string(page["next"].get<uint64_t>()))
                                     .body);
  ASSERT_EQ(older["alerts"].size(), 2u) << older;
  EXPECT_EQ(older["alerts"][0]["threshold"], 30);
}

TEST_F(RecordReadsTest, AuditOverHttpNewestFirstAndFiltered) {
  SeedAudit();
  const int port = daemon().http_port();
  std::vector<uint64_t> expected;  // bob's changes of user:a and user:b, newest first
  const std::vector<Row> all = All("AUDIT.READ");
  for (auto r = all.rbegin(); r != all.rend(); ++r) {
    if (r->actor == "bob" && r->owner.rfind("user:", 0) == 0) expected.push_back(r->seq);
  }
  ASSERT_GE(expected.size(), 4u);
  HttpReply reply = HttpClient::Request(port, "GET", "/v1/audit?order=desc&limit=3&actor=bob&owner=user:*");
  ASSERT_EQ(reply.status, 200) << reply.body;
  json page = json::parse(reply.body);
  ASSERT_EQ(page["audit"].size(), 3u) << page;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(page["audit"][i]["seq"], expected[i]);
    EXPECT_EQ(page["audit"][i]["actor"], "bob");
  }
  EXPECT_EQ(page["next"], expected[2]);
  page = json::parse(
      HttpClient::Request(port, "GET",
                          "/v1/audit?order=desc&limit=3&actor=bob&owner=user:*&before=" + std::to_string(expected[2]))
          .body);
  EXPECT_EQ(page["audit"][0]["seq"], expected[3]) << page;
  // The per-call bound over HTTP, and the oldest-first default.
  page = json::parse(HttpClient::Request(port, "GET", "/v1/audit?order=desc&actor=nobody&scan=5").body);
  EXPECT_TRUE(page["audit"].empty()) << page;
  EXPECT_EQ(page["next"], 56);
  page = json::parse(HttpClient::Request(port, "GET", "/v1/audit?since=58").body);
  EXPECT_EQ(page["audit"].size(), 2u) << page;
  EXPECT_EQ(page["next"], 60);
}

TEST_F(RecordReadsTest, BadArgumentsAreTypedErrorsThatChangeNothing) {
  SeedAudit();
  const std::vector<Row> before = All("AUDIT.READ");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"AUDIT.READ", "0", "BEFORE", "0"}, "ERR BEFORE must be between 1 and 9223372036854775807"},
      {{"AUDIT.READ", "0", "BEFORE", "x"}, "ERR BEFORE 'x' is not an integer"},
      {{"AUDIT.READ", "0", "BEFORE"}, "ERR BEFORE needs a value: BEFORE seq"},
      {{"AUDIT.READ", "0", "SCAN", "0"}, "ERR SCAN must be between 1 and 100000"},
      {{"AUDIT.READ", "0", "SCAN", "100001"}, "ERR SCAN must be between 1 and 100000"},
      {{"AUDIT.READ", "0", "COUNT", "0"}, "ERR COUNT must be between 1 and 10000"},
      {{"AUDIT.READ", "0", "OWNER", ""}, "ERR OWNER needs a value: OWNER value"},
      {{"AUDIT.READ", "0", "FEATURE", "x"},
       "ERR unknown option 'FEATURE' (expected COUNT, REV, BEFORE, OWNER, KEY, ACTOR, COMMAND or SCAN)"},
      {{"EVENTS.READ", "0", "ACTOR", "x"},
       "ERR unknown option 'ACTOR' (expected COUNT, REV, BEFORE, OWNER, FEATURE, KIND or SCAN)"},
      {{"AUDIT.READ", "0", "REV", "rev"}, "ERR"},
      {{"AUDIT.READ", "61", "REV"}, "ERR cursor 61 is past the newest audit record 60"},
      {{"AUDIT.READ", "-1", "REV"}, "ERR since must be a non-negative integer"},
  };
  for (const auto& [args, message] : cases) {
    SCOPED_TRACE(args.back());
    RespValue reply = client_.Call(args);
    ASSERT_TRUE(reply.is_error()) << reply;
    EXPECT_EQ(reply.str.rfind(message, 0), 0u) << reply.str;
  }
  // Over HTTP: 400 with the error's code, naming the parameter.
  const int port = daemon().http_port();
  for (const auto& [target, code, text] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"/v1/audit?order=sideways", "invalid_field", "order"},
           {"/v1/audit?before=0", "out_of_range", "before must be between 1"},
           {"/v1/audit?scan=x", "not_integer", "scan"},
           {"/v1/alerts?order=desc&before=-3", "out_of_range", "before"},
           {"/v1/audit?feature=x", "", "feature"}}) {
    SCOPED_TRACE(target);
    HttpReply reply = HttpClient::Request(port, "GET", target);
    EXPECT_EQ(reply.status, 400) << reply.body;
    if (!code.empty()) EXPECT_TRUE(Contains(reply.body, "\"code\":\"" + code + "\"")) << reply.body;
    EXPECT_TRUE(Contains(reply.body, text)) << reply.body;
  }
  const std::vector<Row> after = All("AUDIT.READ");
  EXPECT_EQ(Seqs(after), Seqs(before));
}

}  // namespace
}  // namespace tally::itest
