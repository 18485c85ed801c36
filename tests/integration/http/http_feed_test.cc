// The changefeed and the audit trail over HTTP against the real tallyd:
// a mirror built from GET /v1/changes, resumed from its cursor across a clean
// restart and a kill -9, ends up equal to the daemon's own cells with no
// record missing or repeated; GET /v1/audit carries the actor (the identity, X-Actor as a label) and
// before/after values, with the same seqs after a restart.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "http_util.h"

namespace tally::itest::http {
namespace {

// Compaction every 50 ms: changes and audit records appear quickly.
class HttpFeedTest : public HttpTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--compaction-interval-ms", "50"}; }

  using Cell = std::tuple<std::string, std::string, std::string, std::string>;  // owner, key, interval, period

  // Reads every change after the mirror's cursor (in pages of `limit`) and
  // applies it. Checks that seqs are consecutive: nothing missing, nothing
  // repeated.
  void Drain(size_t limit = 37) {
    while (true) {
      JsonReply page = Get("/v1/changes?since=" + std::to_string(cursor_) + "&limit=" + std::to_string(limit));
      ASSERT_EQ(page.status, 200) << page;
      for (const json& change : page.body["changes"]) {
        const uint64_t seq = change["seq"].get<uint64_t>();
        ASSERT_EQ(seq, last_seq_ + 1) << "changes must be consecutive: " << change;
        last_seq_ = seq;
        Apply(change);
      }
      const uint64_t next = page.body["next"].get<uint64_t>();
      ASSERT_GE(next, cursor_);
      if (page.body["changes"].empty()) break;
      ASSERT_EQ(next, last_seq_);
      cursor_ = next;
    }
  }
  void Apply(const json& change) {
    const std::string owner = change["owner"], key = change["key"], interval = change["interval"];
    if (change["deleted"].get<bool>()) {
      for (auto it = mirror_.begin(); it != mirror_.end();) {
        const auto& [o, k, i, p] = it->first;
        it = (o == owner && k == key && (interval == "*" || i == interval)) ? mirror_.erase(it) : std::next(it);
      }
      return;
    }
    Cell cell{owner, key, interval, change["period"]};
    const int64_t value = change["value"].get<int64_t>();
    if (value == 0) {
      mirror_.erase(cell);
    } else {
      mirror_[cell] = value;
    }
  }
  // The daemon's cells, from the full export.
  std::map<Cell, int64_t> Truth() {
    HttpReply reply = HttpClient::Request(daemon_->http_port(), "GET", "/v1/export?format=ndjson");
    EXPECT_EQ(reply.status, 200) << reply;
    std::map<Cell, int64_t> cells;
    size_t start = 0, end;
    while ((end = reply.body.find('\n', start)) != std::string::npos) {
      json row = json::parse(reply.body.substr(start, end - start));
      start = end + 1;
      cells[{row["owner"], row["key"], row["interval"], row["period"]}] = row["value"].get<int64_t>();
    }
    return cells;
  }
  // Drains until the mirror equals the daemon's cells (compaction runs
  // every 50 ms; give it up to 10 s).
  void DrainUntilMirrored() {
    std::map<Cell, int64_t> truth = Truth();
    for (int attempt = 0; attempt < 200; ++attempt) {
      Drain();
      if (HasFatalFailure() || mirror_ == truth) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(mirror_.size(), truth.size());
    EXPECT_TRUE(mirror_ == truth) << "the mirror differs from the daemon's cells";
  }
  void Increment(const std::string& owner, const std::string& key, int64_t by) {
    JsonReply reply = Post("/v1/owners/" + owner + "/counters/" + key + "/increment", {{"by", by}});
    ASSERT_EQ(reply.status, 200) << reply;
  }

  std::map<Cell, int64_t> mirror_;
  uint64_t cursor_ = 0;
  uint64_t last_seq_ = 0;
};

TEST_F(HttpFeedTest, MirrorResumesFromItsCursorAcrossRestartsAndAKill) {
  for (int i = 0; i < 20; ++i) Increment("user:" + std::to_string(i), "downloads", i + 1);
  Increment("user:1", "api", 5);
  DrainUntilMirrored();
  ASSERT_FALSE(HasFatalFailure());
  const uint64_t after_first = cursor_;
  EXPECT_GT(after_first, 0u);

  // More changes, a set, a delete; read only part of them, then a clean restart.
  for (int i = 0; i < 20; i += 2) Increment("user:" + std::to_string(i), "downloads", 100);
  ASSERT_EQ(
      Put("/v1/owners/user:3/counters/downloads", {{"value", 7}, {"interval", "month"}, {"period", "2024-02"}}).status,
      200);
  ASSERT_EQ(Call("DELETE", "/v1/owners/user:1/counters/api").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Drain(/*limit=*/5);  // everything so far, in small pages
  ASSERT_TRUE(daemon_->Restart());
  // The cursor is still valid after the restart; nothing is repeated.
  for (int i = 0; i < 20; ++i) Increment("user:" + std::to_string(i), "uploads", 1);
  DrainUntilMirrored();
  ASSERT_FALSE(HasFatalFailure());

  // Acknowledged writes, then kill -9: their changes appear after recovery,
  // exactly once.
  for (int i = 0; i < 20; ++i) Increment("user:" + std::to_string(i), "downloads", 1000);
  ASSERT_TRUE(daemon_->KillAndRestart());
  DrainUntilMirrored();
  EXPECT_EQ(mirror_.at({"user:5", "downloads", "total", "total"}), 1006);
  EXPECT_EQ(mirror_.count({"user:1", "api", "total", "total"}), 0u);
  EXPECT_EQ(mirror_.at({"user:3", "downloads", "month", "2024-02"}), 7);
}

TEST_F(HttpFeedTest, ChangesReadIsPagedAndBadCursorsAreErrors) {
  for (int i = 0; i < 5; ++i) Increment("org:" + std::to_string(i), "seats", 1);
  for (int attempt = 0; attempt < 200 && last_seq_ < 5u * 7u; ++attempt) {
    Drain(/*limit=*/4);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(last_seq_, 5u * 7u);  // total + 6 interval cells per counter
  // Each bad cursor or page size has its own code, and names the query parameter.
  JsonReply ahead = Get("/v1/changes?since=999999");
  EXPECT_EQ(ErrorCode(ahead, 400), "invalid_cursor");
  JsonReply negative = Get("/v1/changes?since=-1");
  EXPECT_EQ(ErrorCode(negative, 400), "not_integer");
  EXPECT_EQ(negative.body["error"]["message"],
            "since must be a non-negative integer (0, or the next-seq of an earlier reply)");
  JsonReply zero = Get("/v1/changes?since=0&limit=0");
  EXPECT_EQ(ErrorCode(zero, 400), "out_of_range");
  EXPECT_EQ(zero.body["error"]["message"], "limit must be between 1 and 10000");
  JsonReply text = Get("/v1/audit?since=x");
  EXPECT_EQ(ErrorCode(text, 400), "not_integer");
  EXPECT_EQ(text.body["error"]["message"], "query parameter 'since' must be an integer, got 'x'");
}

TEST_F(HttpFeedTest, AuditCarriesActorAndBeforeAfterAndSurvivesRestart) {
  Increment("user:1", "downloads", 4);
  ASSERT_EQ(Put("/v1/owners/user:1/counters/downloads", {{"value", 10}}, {{"X-Actor", "alice"}}).status, 200);
  ASSERT_EQ(Call("POST", "/v1/owners/user:1/counters/downloads/reset", "{}", {{"X-Actor", "bob"}}).status, 200);
  ASSERT_EQ(Call("DELETE", "/v1/owners/user:1/counters/downloads", "", {{"X-Actor", "carol"}}).status, 200);
  EXPECT_EQ(Cli({"CTR.SET", "user:2", "x", "3", "BY", "dave"}), "OK");
  json audit;
  for (int attempt = 0; attempt < 200; ++attempt) {
    JsonReply reply = Get("/v1/audit?since=0");
    ASSERT_EQ(reply.status, 200) << reply;
    audit = reply.body["audit"];
    if (audit.size() >= 4) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(audit.size(), 4u) << audit;
  EXPECT_EQ(audit[0]["actor"], "local (as: alice)");
  EXPECT_EQ(audit[0]["command"], "CTR.SET");
  EXPECT_EQ(audit[0]["owner"], "user:1");
  EXPECT_EQ(audit[0]["key"], "downloads");
  EXPECT_EQ(audit[0]["details"]["cells"][0]["before"], 4) << audit[0];
  EXPECT_EQ(audit[0]["details"]["cells"][0]["after"], 10);
  EXPECT_EQ(audit[1]["actor"], "local (as: bob)");
  EXPECT_EQ(audit[1]["details"]["cells"][0]["before"], 10);
  EXPECT_EQ(audit[1]["details"]["cells"][0]["after"], 0);
  EXPECT_EQ(audit[2]["actor"], "local (as: carol)");
  EXPECT_EQ(audit[2]["details"]["interval"], "all");
  EXPECT_EQ(audit[3]["actor"], "dave");
  for (size_t i = 0; i < audit.size(); ++i) {
    EXPECT_EQ(audit[i]["seq"], i + 1);
    EXPECT_TRUE(audit[i]["time"].is_string());
  }
  ASSERT_TRUE(daemon_->KillAndRestart());
  JsonReply again = Get("/v1/audit?since=0");
  ASSERT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.body["audit"], audit);
  JsonReply tail = Get("/v1/audit?since=3");
  ASSERT_EQ(tail.body["audit"].size(), 1u) << tail;
  EXPECT_EQ(tail.body["audit"][0]["actor"], "dave");
}

// Change records older than --changes-retention-s are trimmed; a reader
// whose cursor fell behind them gets 410, never a silent gap.
class HttpFeedRetentionTest : public HttpFeedTest {
 protected:
  std::vector<std::string> ExtraArgs() const override {
    return {"--compaction-interval-ms", "50", "--changes-retention-s", "1"};
  }
};

TEST_F(HttpFeedRetentionTest, ACursorOlderThanTheRetentionIs410) {
  Increment("user:1", "downloads", 1);
  for (int attempt = 0; attempt < 200 && last_seq_ == 0; ++attempt) {
    Drain();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GT(last_seq_, 0u);
  // Past the retention, later compactions trim the first records.
  JsonReply reply;
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    Increment("user:2", "downloads", 1);  // something for compaction to do
    reply = Get("/v1/changes?since=0");
    if (reply.status != 200) break;
  }
  EXPECT_EQ(ErrorCode(reply, 410), "cursor_too_old");
  EXPECT_TRUE(Contains(reply.body["error"]["message"].get<std::string>(), "older than the oldest kept")) << reply;
  // The same code on the line protocol: its text, with the ERR prefix.
  RespValue resp = Connect().Call({"CHANGES.READ", "0"});
  ASSERT_TRUE(resp.is_error()) << resp;
  EXPECT_TRUE(resp.str.starts_with("ERR cursor 0 is older than the oldest kept change")) << resp;
}

}  // namespace
}  // namespace tally::itest::http
