// The counter API over HTTP against the real tallyd (docs/http.md): event-id
// conflicts (409 id_conflict) next to identical retries (409 duplicate), the
// owner list after reads and deletes, GET /v1/values (CTR.MGET), GET /v1/top
// with offset and from/to, history entries with their start, POST .../adjust
// (CTR.ADJUST) and PUT with "cells" (CTR.RECOUNT CELLS, atomic).

#include <gtest/gtest.h>
#include <time.h>

#include <string>
#include <thread>
#include <vector>

#include "counters/counters_util.h"
#include "http_util.h"

namespace tally::itest::http {
namespace {

using counters::kDayMs;
using counters::kIntervals;
using counters::NoonUtcDaysAgo;
using counters::NowMs;
using counters::UtcLabel;
using counters::UtcLabels;

const std::string kCounter = "/v1/owners/user:1/counters/downloads";

std::string IsoUtc(int64_t unix_ms) {
  time_t seconds = static_cast<time_t>(unix_ms / 1000);
  struct tm tm {};
  gmtime_r(&seconds, &tm);
  char text[32];
  strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// "owner=value ..." of a reply's array of {"owner", "value"}.
std::string Ranking(const json& entries) {
  std::string out;
  for (const json& entry : entries) {
    if (!out.empty()) out += " ";
    out += entry["owner"].get<std::string>() + "=" + std::to_string(entry["value"].get<int64_t>());
  }
  return out;
}

class HttpCounterApiTest : public HttpTest {
 protected:
  // Audit records get their seqs at compaction: compact often.
  std::vector<std::string> ExtraArgs() const override { return {"--compaction-interval-ms", "50"}; }

  int64_t Increment(const std::string& owner, const std::string& key, int64_t by, std::optional<int64_t> at = {}) {
    json body{{"by", by}};
    if (at) body["at"] = *at;
    JsonReply reply = Post("/v1/owners/" + owner + "/counters/" + key + "/increment", body);
    EXPECT_EQ(reply.status, 200) << reply;
    return reply.body.value("total", int64_t{-1});
  }
  int64_t Value(const std::string& owner, const std::string& key, const std::string& interval = "total",
                const std::string& period = "") {
    std::string target = "/v1/owners/" + owner + "/counters/" + key + "?interval=" + interval;
    if (!period.empty()) target += "&period=" + period;
    JsonReply reply = Get(target);
    EXPECT_EQ(reply.status, 200) << reply;
    return reply.body.value("value", int64_t{-999999});
  }
  // The error's message, checking status and code.
  std::string Message(const JsonReply& reply, int status, const std::string& code) {
    EXPECT_EQ(ErrorCode(reply, status), code) << reply;
    return reply.body.is_object() && reply.body.contains("error") ? reply.body["error"].value("message", "") : "";
  }
  json AuditAfter(int64_t since, size_t count) {
    json audit;
    for (int attempt = 0; attempt < 200; ++attempt) {
      JsonReply reply = Get("/v1/audit?since=" + std::to_string(since));
      EXPECT_EQ(reply.status, 200) << reply;
      audit = reply.body["audit"];
      if (audit.size() >= count) return audit;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "fewer than " << count << " audit records: " << audit;
    return audit;
  }
};

// ---- exactly-once ids ----------------------------------------------------------------------

TEST_F(HttpCounterApiTest, ReusedEventIdWithOtherArgumentsIs409IdConflictAndARetryStays409Duplicate) {
  const std::string increment = kCounter + "/increment";
  JsonReply first = Post(increment, {{"by", 3}, {"id", "req-1"}});
  ASSERT_EQ(first.status, 200) << first;
  EXPECT_EQ(first.body["total"], 3);
  // An identical retry: 409 duplicate, with the current total (as before this change).
  JsonReply retry = Post(increment, {{"by", 3}, {"id", "req-1"}});
  EXPECT_EQ(ErrorCode(retry, 409), "duplicate");
  EXPECT_EQ(retry.body["total"], 3);
  EXPECT_EQ(retry.body["duplicate"], true);
  // The same id with another delta, or with an event time: 409 id_conflict, nothing applied.
  JsonReply other = Post(increment, {{"by", 4}, {"id", "req-1"}});
  EXPECT_NE(Message(other, 409, "id_conflict").find("different arguments"), std::string::npos) << other;
  EXPECT_FALSE(other.body.contains("total")) << other;
  JsonReply late = Post(increment, {{"by", 3}, {"id", "req-1"}, {"at", NoonUtcDaysAgo(2)}});
  Message(late, 409, "id_conflict");
  // The line protocol agrees.
  EXPECT_EQ(Cli({"CTR.INCRBY", "user:1", "downloads", "5", "ID", "req-1"}).substr(0, 35),
            "(error) ERR this event ID was alrea");
  EXPECT_EQ(Value("user:1", "downloads"), 3);
  EXPECT_EQ(Value("user:1", "downloads", "day"), 3);
  ASSERT_TRUE(daemon_->Restart());
  Message(Post(increment, {{"by", 4}, {"id", "req-1"}}), 409, "id_conflict");
  EXPECT_EQ(ErrorCode(Post(increment, {{"by", 3}, {"id", "req-1"}}), 409), "duplicate");
  EXPECT_EQ(Value("user:1", "downloads"), 3);
}

// ---- the owner list ---------------------------------------------------------------------------

TEST_F(HttpCounterApiTest, OwnersListsNeitherOwnersOnlyReadNorOwnersWhoseCountersWereDeleted) {
  Increment("o:a", "hits", 1);
  Increment("o:b", "hits", 2);
  Increment("o:b", "views", 3);
  EXPECT_EQ(Value("ghost:1", "hits"), 0);
  EXPECT_EQ(Get("/v1/values?key=hits&owners=ghost:2,o:a").status, 200);
  EXPECT_EQ(Get("/v1/owners/ghost:3/counters/hits/history?interval=day&count=2").status, 200);
  EXPECT_EQ(Get("/v1/owners/ghost:4/counters").status, 200);
  JsonReply nothing = Call("DELETE", "/v1/owners/ghost:5/counters/hits");
  EXPECT_EQ(nothing.body["deleted"], 0) << nothing;
  JsonReply views = Call("DELETE", "/v1/owners/o:b/counters/views");
  EXPECT_EQ(views.body["deleted"], 7) << views;
  JsonReply only = Call("DELETE", "/v1/owners/o:a/counters/hits");
  EXPECT_EQ(only.body["deleted"], 7) << only;
  auto check = [&](const std::string& when) {
    SCOPED_TRACE(when);
    JsonReply owners = Get("/v1/owners");
    ASSERT_EQ(owners.status, 200) << owners;
    EXPECT_EQ(owners.body["owners"], json({"o:b"}));
    EXPECT_TRUE(owners.body["next_cursor"].is_null());
  };
  check("right away");
  ASSERT_TRUE(daemon_->Restart());
  check("after a clean restart");
}

// ---- GET /v1/values (CTR.MGET) ----------------------------------------------------------------

TEST_F(HttpCounterApiTest, ValuesReadsOneCellForManyOwnersInRequestOrder) {
  counters::AvoidHourBoundary();
  Increment("user:1", "downloads", 3);
  Increment("user:2", "downloads", 10);
  Increment("user:2", "downloads", 4, NoonUtcDaysAgo(2));
  JsonReply total = Get("/v1/values?key=downloads&owners=user:2,user:99,user:1");
  ASSERT_EQ(total.status, 200) << total;
  EXPECT_EQ(total.body["key"], "downloads");
  EXPECT_EQ(total.body["interval"], "total");
  EXPECT_EQ(total.body["period"], "total");
  EXPECT_EQ(Ranking(total.body["values"]), "user:2=14 user:99=0 user:1=3");
  JsonReply today = Get("/v1/values?key=downloads&interval=day&owners=user:1,user:2");
  EXPECT_EQ(today.body["period"], "current");
  EXPECT_EQ(Ranking(today.body["values"]), "user:1=3 user:2=10") << today;
  const std::string day2 = UtcLabel("day", NoonUtcDaysAgo(2));
  JsonReply past = Get("/v1/values?key=downloads&interval=day&period=" + day2 + "&owners=user:1,user:2,user:2");
  EXPECT_EQ(Ranking(past.body["values"]), "user:1=0 user:2=4 user:2=4") << past;
  // Percent-encoded names and separators.
  JsonReply encoded = Get("/v1/values?key=downloads&owners=user%3A1%2Cuser%3A2");
  EXPECT_EQ(Ranking(encoded.body["values"]), "user:1=3 user:2=14") << encoded;

  // 1000 owners is the most.
  std::string many;
  for (int i = 0; i < 1000; ++i) many += (i ? "," : "") + std::string("m:") + std::to_string(i);
  JsonReply thousand = Get("/v1/values?key=downloads&owners=" + many);
  ASSERT_EQ(thousand.status, 200) << thousand.raw.status;
  EXPECT_EQ(thousand.body["values"].size(), 1000u);
  EXPECT_EQ(thousand.body["values"][999]["owner"], "m:999");
  EXPECT_EQ(Message(Get("/v1/values?key=downloads&owners=" + many + ",m:1000"), 400, "out_of_range"),
            "query parameter 'owners' must list 1 to 1000 owners separated by commas (got 1001)");
  EXPECT_EQ(Message(Get("/v1/values?key=downloads&owners="), 400, "out_of_range"),
            "query parameter 'owners' must list 1 to 1000 owners separated by commas (got 0)");
  // Bad names are 400s that name the field.
  EXPECT_EQ(Message(Get("/v1/values?key=downloads&owners=user:1,user%202"), 400, "invalid_name"),
            "invalid owners 'user 2': use 1-128 printable ASCII characters other than space , \" ' ` < >");
  EXPECT_EQ(Message(Get("/v1/values?key=downloads&owners=user:1,,user:2"), 400, "invalid_name"),
            "invalid owners '': use 1-128 printable ASCII characters other than space , \" ' ` < >");
  EXPECT_EQ(Message(Get("/v1/values?key=down%20loads&owners=user:1"), 400, "invalid_name"),
            "invalid key 'down loads': use 1-128 printable ASCII characters other than space , \" ' ` < >");
  EXPECT_EQ(Message(Get("/v1/values?key=downloads"), 400, "missing_field"), "missing query parameter 'owners'");
  EXPECT_EQ(Message(Get("/v1/values?owners=user:1"), 400, "missing_field"), "missing query parameter 'key'");
  EXPECT_EQ(Message(Get("/v1/values?key=downloads&owners=user:1&interval=fortnight"), 400, "invalid_interval"),
            "unknown interval 'fortnight' (expected total, hour, day, week, month, quarter or year)");
  EXPECT_EQ(
      Message(Get("/v1/values?key=downloads&owners=user:1&interval=month&period=2024-W49"), 400, "invalid_period"),
      "invalid period '2024-W49' for interval 'month' (expected e.g. '2024-12' or 'current')");
  EXPECT_EQ(ErrorCode(Get("/v1/values?key=downloads&owners=user:1&owner=user:2"), 400), "unknown_parameter");
  EXPECT_EQ(ErrorCode(Get("/v1/values?key=downloads&owners=user:1&owners=user:2"), 400), "repeated_parameter");
  EXPECT_EQ(ErrorCode(Call("POST", "/v1/values?key=downloads&owners=user:1"), 405), "method_not_allowed");
}

// ---- GET /v1/top: offset and ranges -----------------------------------------------------------

TEST_F(HttpCounterApiTest, TopPagesWithOffsetAndRanksRanges) {
  counters::AvoidHourBoundary();
  for (int i = 1; i <= 12; ++i) Increment("rank:" + std::to_string(100 + i), "dl", i);
  Increment("rank:101", "dl", 30, NoonUtcDaysAgo(3));  // 31 in total, 1 today
  JsonReply first = Get("/v1/top?key=dl&interval=day&limit=5");
  ASSERT_EQ(first.status, 200) << first;
  EXPECT_EQ(first.body["offset"], 0);
  EXPECT_EQ(Ranking(first.body["owners"]), "rank:112=12 rank:111=11 rank:110=10 rank:109=9 rank:108=8");
  JsonReply second = Get("/v1/top?key=dl&interval=day&limit=5&offset=5");
  EXPECT_EQ(second.body["offset"], 5);
  EXPECT_EQ(Ranking(second.body["owners"]), "rank:107=7 rank:106=6 rank:105=5 rank:104=4 rank:103=3");
  EXPECT_EQ(Ranking(Get("/v1/top?key=dl&interval=day&limit=5&offset=10").body["owners"]), "rank:102=2 rank:101=1");
  EXPECT_EQ(Get("/v1/top?key=dl&interval=day&offset=12").body["owners"], json::array());

  const std::string today = UtcLabel("day", NowMs());
  const std::string day6 = UtcLabel("day", NoonUtcDaysAgo(6));
  JsonReply week = Get("/v1/top?key=dl&interval=day&from=" + day6 + "&to=current&limit=3");
  ASSERT_EQ(week.status, 200) << week;
  EXPECT_EQ(week.body["interval"], "day");
  EXPECT_EQ(week.body["from"], day6);
  EXPECT_EQ(week.body["to"], today);
  EXPECT_EQ(week.body["start"], IsoUtc((NowMs() / kDayMs - 6) * kDayMs));
  EXPECT_EQ(week.body["start_ms"], (NowMs() / kDayMs - 6) * kDayMs);
  EXPECT_FALSE(week.body.contains("period")) << week;
  EXPECT_EQ(Ranking(week.body["owners"]), "rank:101=31 rank:112=12 rank:111=11");
  EXPECT_EQ(
      Ranking(Get("/v1/top?key=dl&interval=day&from=" + day6 + "&to=" + today + "&offset=1&limit=1&prefix=rank:11")
                  .body["owners"]),
      "rank:111=11");

  // Errors name the query parameters.
  EXPECT_EQ(Message(Get("/v1/top?key=dl&interval=day&from=" + day6), 400, "missing_field"),
            "query parameter 'from' needs query parameter 'to'");
  EXPECT_EQ(Message(Get("/v1/top?key=dl&interval=day&to=" + day6), 400, "missing_field"),
            "query parameter 'to' needs query parameter 'from'");
  EXPECT_EQ(Message(Get("/v1/top?key=dl&interval=day&period=current&from=" + day6 + "&to=current"), 400, "syntax"),
            "period and from cannot be given together");
  EXPECT_EQ(Message(Get("/v1/top?key=dl&interval=day&from=current&to=" + day6), 400, "invalid_period"),
            "from current is after to " + day6);
  EXPECT_EQ(Message(Get("/v1/top?key=dl&from=total&to=total"), 400, "invalid_interval"),
            "from and to need a calendar interval: interval 'total' has no periods (use hour, day, week, month, "
            "quarter or year)");
  EXPECT_EQ(Message(Get("/v1/top?key=dl&offset=1000001"), 400, "out_of_range"), "offset must be between 0 and 1000000");
  EXPECT_EQ(Message(Get("/v1/top?key=dl&offset=-1"), 400, "out_of_range"), "offset must be between 0 and 1000000");
  EXPECT_EQ(ErrorCode(Get("/v1/top?key=dl&offset=x"), 400), "not_integer");
  // Unknown parameters are still refused.
  EXPECT_NE(Message(Get("/v1/top?key=dl&ofset=5"), 400, "unknown_parameter").find("did you mean 'offset'?"),
            std::string::npos);
  EXPECT_EQ(ErrorCode(Get("/v1/top?key=dl&until=current"), 400), "unknown_parameter");
}

// ---- history entries carry their start --------------------------------------------------------

TEST_F(HttpCounterApiTest, HistoryEntriesCarryTheirStart) {
  counters::AvoidHourBoundary();
  Increment("user:1", "downloads", 2, NoonUtcDaysAgo(1));
  Increment("user:1", "downloads", 5);
  JsonReply days = Get(kCounter + "/history?interval=day&count=3");
  ASSERT_EQ(days.status, 200) << days;
  ASSERT_EQ(days.body["history"].size(), 3u) << days;
  const int64_t midnight = NowMs() / kDayMs * kDayMs;
  for (size_t i = 0; i < 3; ++i) {
    const json& entry = days.body["history"][i];
    const int64_t start = midnight - static_cast<int64_t>(i) * kDayMs;
    EXPECT_EQ(entry["period"], UtcLabel("day", start + 1000)) << entry;
    EXPECT_EQ(entry["start_ms"], start) << entry;
    EXPECT_EQ(entry["start"], IsoUtc(start)) << entry;
  }
  EXPECT_EQ(days.body["history"][0]["value"], 5);
  EXPECT_EQ(days.body["history"][1]["value"], 2);
  // In the owner's zone: Asia/Kolkata days start at 18:30 UTC the day before.
  ASSERT_EQ(Put("/v1/owners/user:9/timezone", {{"timezone", "Asia/Kolkata"}}).status, 200);
  JsonReply india = Get("/v1/owners/user:9/counters/downloads/history?interval=day&count=1&from=2024-12-04");
  ASSERT_EQ(india.status, 200) << india;
  EXPECT_EQ(india.body["history"][0]["start"], "2024-12-03T18:30:00Z") << india;
  EXPECT_EQ(india.body["history"][0]["start_ms"], 1733250600000) << india;
  EXPECT_EQ(ErrorCode(Get(kCounter + "/history?interval=day&withstart=true"), 400), "unknown_parameter");
}

// ---- POST .../adjust (CTR.ADJUST) --------------------------------------------------------------

TEST_F(HttpCounterApiTest, AdjustCorrectsEveryIntervalConsistentlyAndIsAudited) {
  counters::AvoidHourBoundary();
  const int64_t late = NoonUtcDaysAgo(3);
  counters::Model model;
  Increment("user:1", "downloads", 10);
  Increment("user:1", "downloads", 4, late);
  model.Increment("user:1", "downloads", 10, NowMs());
  model.Increment("user:1", "downloads", 4, late);
  JsonReply adjusted = Post(kCounter + "/adjust", {{"by", -3}, {"at", late}}, {{"X-Actor", "carol"}});
  ASSERT_EQ(adjusted.status, 200) << adjusted;
  EXPECT_EQ(adjusted.body, json({{"owner", "user:1"}, {"key", "downloads"}, {"total", 11}, {"duplicate", false}}));
  model.Increment("user:1", "downloads", -3, late);
  JsonReply now = Post(kCounter + "/adjust", {{"by", 2}, {"id", "fix-1"}});
  EXPECT_EQ(now.body["total"], 13) << now;
  model.Increment("user:1", "downloads", 2, NowMs());
  // With an id, a retry is 409 duplicate with the current total; other arguments are 409 id_conflict.
  JsonReply retry = Post(kCounter + "/adjust", {{"by", 2}, {"id", "fix-1"}});
  EXPECT_EQ(ErrorCode(retry, 409), "duplicate");
  EXPECT_EQ(retry.body["total"], 13) << retry;
  EXPECT_EQ(retry.body["duplicate"], true) << retry;
  Message(Post(kCounter + "/adjust", {{"by", 3}, {"id", "fix-1"}}), 409, "id_conflict");
  Message(Post(kCounter + "/adjust", {{"by", 2}, {"id", "fix-1"}, {"at", late}}), 409, "id_conflict");
  Message(Post(kCounter + "/increment", {{"by", 2}, {"id", "fix-1"}}), 409, "id_conflict");
  auto check = [&](const std::string& when) {
    SCOPED_TRACE(when);
    for (const auto& [interval, label] : model.Cells("user:1", "downloads")) {
      EXPECT_EQ(Value("user:1", "downloads", interval, label), model.Get("user:1", "downloads", interval, label))
          << interval << " " << label;
    }
    for (const std::string& interval : kIntervals) {
      JsonReply sum = Get(kCounter + "/sum?interval=" + interval);
      EXPECT_EQ(sum.body["sum"], 13) << interval << ": " << sum;
    }
  };
  check("right away");
  json audit = AuditAfter(0, 2);
  ASSERT_EQ(audit.size(), 2u) << audit;
  EXPECT_EQ(audit[0]["actor"], "local (as: carol)");
  EXPECT_EQ(audit[0]["command"], "CTR.ADJUST");
  EXPECT_EQ(audit[0]["details"]["delta"], -3) << audit[0];
  EXPECT_EQ(audit[0]["details"]["cells"][0],
            json({{"interval", "total"}, {"period", "total"}, {"before", 14}, {"after", 11}}));
  EXPECT_EQ(audit[0]["details"]["cells"][2],
            json({{"interval", "day"}, {"period", UtcLabel("day", late)}, {"before", 4}, {"after", 1}}));
  EXPECT_EQ(audit[1]["command"], "CTR.ADJUST");

  // Refused requests change nothing.
  EXPECT_EQ(Message(Post(kCounter + "/adjust", json::object()), 400, "missing_field"), "missing field 'by'");
  EXPECT_EQ(ErrorCode(Post(kCounter + "/adjust", {{"by", 1}, {"when", 5}}), 400), "unknown_field");
  EXPECT_EQ(ErrorCode(Post(kCounter + "/adjust", {{"by", 1}, {"id", "a b"}}), 400), "invalid_id");
  EXPECT_EQ(ErrorCode(Post(kCounter + "/adjust", {{"by", "1"}}), 400), "invalid_field");
  const int64_t too_old = NowMs() - 36 * kDayMs;
  EXPECT_EQ(Message(Post(kCounter + "/adjust", {{"by", 1}, {"at", too_old}}), 400, "invalid_time"),
            "at " + std::to_string(too_old) + " is more than 35 days (max_backdate) in the past");
  EXPECT_EQ(Message(Post(kCounter + "/adjust", {{"by", 1}, {"at", NowMs() / 1000}}), 400, "invalid_time").substr(0, 3),
            "at ");
  EXPECT_EQ(ErrorCode(Post(kCounter + "/adjust", {{"by", INT64_MAX}}), 400), "overflow");
  EXPECT_EQ(ErrorCode(Post(kCounter + "/adjust", {{"by", 1}}, {{"X-Actor", std::string(129, 'a')}}), 400),
            "invalid_actor");
  check("after the refused requests");
  ASSERT_TRUE(daemon_->KillAndRestart());
  check("after kill -9");
  EXPECT_EQ(ErrorCode(Post(kCounter + "/adjust", {{"by", 2}, {"id", "fix-1"}}), 409), "duplicate");
  check("after a retry past the restart");
}

// ---- PUT with "cells" (CTR.RECOUNT CELLS) ------------------------------------------------------

TEST_F(HttpCounterApiTest, PutCellsRecountsCellsOfManyIntervalsAtomically) {
  counters::AvoidHourBoundary();
  const std::string day2 = UtcLabel("day", NoonUtcDaysAgo(2));
  const std::string month = UtcLabel("month", NowMs());
  Increment("user:1", "downloads", 7);
  JsonReply put = Put(kCounter,
                      {{"cells",
                        {{{"interval", "day"}, {"period", day2}, {"value", 5}},
                         {{"interval", "month"}, {"value", 40}},
                         {{"interval", "total"}, {"period", "total"}, {"value", 100}}}}},
                      {{"X-Actor", "dora"}});
  ASSERT_EQ(put.status, 200) << put;
  EXPECT_EQ(put.body, json({{"owner", "user:1"}, {"key", "downloads"}, {"status", "ok"}}));
  auto check = [&](const std::string& when) {
    SCOPED_TRACE(when);
    EXPECT_EQ(Value("user:1", "downloads", "day", day2), 5);
    EXPECT_EQ(Value("user:1", "downloads", "month", month), 40);  // period defaults to current
    EXPECT_EQ(Value("user:1", "downloads"), 100);
    EXPECT_EQ(Value("user:1", "downloads", "day"), 7);  // cells not named are untouched
  };
  check("right away");
  json audit = AuditAfter(0, 1);
  EXPECT_EQ(audit[0]["actor"], "local (as: dora)");
  EXPECT_EQ(audit[0]["command"], "CTR.RECOUNT");
  EXPECT_EQ(audit[0]["details"]["cells"].size(), 3u) << audit[0];

  // A bad cell anywhere: a 400 naming it, and nothing changes.
  const json good{{"interval", "day"}, {"period", day2}, {"value", 1}};
  EXPECT_EQ(Message(Put(kCounter, {{"cells", {good, {{"interval", "month"}, {"period", "2024-W49"}, {"value", 2}}}}}),
                    400, "invalid_period"),
            "cell 2 of cells: invalid period '2024-W49' for interval 'month' (expected e.g. '2024-12' or 'current')");
  EXPECT_EQ(
      Message(Put(kCounter, {{"cells", {good, {{"interval", "fortnight"}, {"value", 2}}}}}), 400, "invalid_interval"),
      "cell 2 of cells: unknown interval 'fortnight' (expected total, hour, day, week, month, quarter or year)");
  EXPECT_EQ(Message(Put(kCounter, {{"cells", {good, {{"interval", "day"}, {"value", "2"}}}}}), 400, "invalid_field"),
            "field 'cells[1].value' must be an integer, got a string (\"2\")");
  EXPECT_EQ(Message(Put(kCounter, {{"cells", {good, {{"period", day2}, {"value", 2}}}}}), 400, "missing_field"),
            "missing field 'cells[1].interval'");
  EXPECT_EQ(Message(Put(kCounter, {{"cells", {good, {{"interval", "day"}, {"value", 2}, {"amount", 2}}}}}), 400,
                    "unknown_field"),
            "unknown field 'cells[1].amount': a cell takes interval, period and value");
  EXPECT_EQ(ErrorCode(Put(kCounter, {{"cells", json::array()}}), 400), "invalid_field");
  EXPECT_EQ(ErrorCode(Put(kCounter, {{"cells", {1}}}), 400), "invalid_field");
  EXPECT_EQ(Message(Put(kCounter, {{"cells", {good}}, {"value", 1}}), 400, "invalid_field"),
            "field 'value' cannot be given with 'cells': send one of value (one cell), periods (one interval) or "
            "cells");
  EXPECT_EQ(ErrorCode(Put(kCounter, {{"cells", {good}}, {"interval", "day"}}), 400), "invalid_field");
  EXPECT_EQ(
      ErrorCode(Call("PUT", kCounter, R"({"cells": [{"interval": "day", "interval": "month", "value": 1}]})"), 400),
      "duplicate_key");
  check("after the refused requests");
  // The other forms still work.
  ASSERT_EQ(Put(kCounter, {{"interval", "day"}, {"periods", {{day2, 6}}}}).status, 200);
  ASSERT_EQ(Put(kCounter, {{"value", 101}}).status, 200);
  EXPECT_EQ(Value("user:1", "downloads", "day", day2), 6);
  EXPECT_EQ(Value("user:1", "downloads"), 101);
  ASSERT_TRUE(daemon_->KillAndRestart());
  EXPECT_EQ(Value("user:1", "downloads", "day", day2), 6);
  EXPECT_EQ(Value("user:1", "downloads", "month", month), 40);
}

}  // namespace
}  // namespace tally::itest::http
