// The HTTP/JSON API against the real tallyd over real sockets: every counter
// route, every error status, keep-alive and pipelining, the admin table, a
// large streamed export checked row by row, /ready during recovery, /metrics
// through a strict Prometheus text-format checker.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "counters/counters_util.h"
#include "http_util.h"
#include "prometheus_text_check.h"

namespace tally::itest::http {
namespace {

using counters::kIntervals;
using counters::NowMs;
using counters::UtcLabels;

class HttpApiTest : public HttpTest {};

TEST_F(HttpApiTest, HealthAndReadyAnswer200) {
  JsonReply health = Get("/health");
  EXPECT_EQ(health.status, 200) << health;
  EXPECT_EQ(health.body["status"], "ok");
  EXPECT_EQ(health.raw.Header("content-type"), "application/json");
  JsonReply ready = Get("/ready");
  EXPECT_EQ(ready.status, 200) << ready;
  EXPECT_EQ(ready.body["status"], "ready");
}

TEST_F(HttpApiTest, IncrementThenReadTheTotalAndEveryInterval) {
  JsonReply first = Post("/v1/owners/user:42/counters/downloads/increment", {{"by", 3}});
  EXPECT_EQ(first.status, 200) << first;
  EXPECT_EQ(first.body, json({{"owner", "user:42"}, {"key", "downloads"}, {"total", 3}, {"duplicate", false}}));
  // An empty body adds 1.
  JsonReply second = Call("POST", "/v1/owners/user:42/counters/downloads/increment");
  EXPECT_EQ(second.body["total"], 4) << second;

  JsonReply total = Get("/v1/owners/user:42/counters/downloads");
  EXPECT_EQ(total.status, 200) << total;
  EXPECT_EQ(total.body["value"], 4);
  EXPECT_EQ(total.body["interval"], "total");
  EXPECT_EQ(total.body["period"], "total");
  const auto labels = UtcLabels(NowMs());
  for (size_t i = 0; i < kIntervals.size(); ++i) {
    JsonReply cell = Get("/v1/owners/user:42/counters/downloads?interval=" + kIntervals[i]);
    EXPECT_EQ(cell.status, 200) << cell;
    EXPECT_EQ(cell.body["value"], 4) << kIntervals[i];
    EXPECT_EQ(cell.body["interval"], kIntervals[i]);
    EXPECT_EQ(cell.body["period"], labels[i]) << cell;
    EXPECT_TRUE(cell.body["start"].is_string()) << cell;
    EXPECT_LE(cell.body["start_ms"].get<int64_t>(), NowMs());
  }
  // A named period, and one that holds nothing.
  JsonReply day = Get("/v1/owners/user:42/counters/downloads?interval=day&period=" + labels[1]);
  EXPECT_EQ(day.body["value"], 4) << day;
  JsonReply old_day = Get("/v1/owners/user:42/counters/downloads?interval=day&period=2001-01-01");
  EXPECT_EQ(old_day.body["value"], 0) << old_day;
  EXPECT_EQ(old_day.body["period"], "2001-01-01");
  EXPECT_EQ(old_day.body["start"], "2001-01-01T00:00:00Z");
  // Percent-encoded names are decoded.
  EXPECT_EQ(Get("/v1/owners/user%3A42/counters/downloads").body["value"], 4);
}

TEST_F(HttpApiTest, LateEventsLandInTheirOwnPeriodAndNegativeDeltasSubtract) {
  const int64_t yesterday = NowMs() - counters::kDayMs;
  JsonReply late = Post("/v1/owners/org:acme/counters/api_calls/increment", {{"by", 5}, {"at", yesterday}});
  EXPECT_EQ(late.status, 200) << late;
  Post("/v1/owners/org:acme/counters/api_calls/increment", {{"by", -2}});
  EXPECT_EQ(Get("/v1/owners/org:acme/counters/api_calls").body["value"], 3);
  const std::string yesterday_label = UtcLabels(yesterday)[1];
  EXPECT_EQ(Get("/v1/owners/org:acme/counters/api_calls?interval=day&period=" + yesterday_label).body["value"], 5);
}

TEST_F(HttpApiTest, DuplicateEventIdIs409WithTheTotalAndChangesNothing) {
  EXPECT_EQ(Post("/v1/owners/user:1/counters/tokens/increment", {{"by", 100}, {"id", "req-1"}}).status, 200);
  JsonReply again = Post("/v1/owners/user:1/counters/tokens/increment", {{"by", 100}, {"id", "req-1"}});
  EXPECT_EQ(ErrorCode(again, 409), "duplicate");
  EXPECT_EQ(again.body["total"], 100) << again;
  EXPECT_EQ(again.body["duplicate"], true);
  // The line protocol sees the same id as a duplicate too.
  EXPECT_EQ(Cli({"CTR.INCRBY", "user:1", "tokens", "100", "ID", "req-1"}), "(integer) 100");
  EXPECT_EQ(Get("/v1/owners/user:1/counters/tokens").body["value"], 100);
}

TEST_F(HttpApiTest, SetRecountResetAndDelete) {
  Post("/v1/owners/user:7/counters/views/increment", {{"by", 5}});
  JsonReply set = Put("/v1/owners/user:7/counters/views", {{"value", 50}});
  EXPECT_EQ(set.status, 200) << set;
  EXPECT_EQ(set.body["status"], "ok");
  EXPECT_EQ(Get("/v1/owners/user:7/counters/views").body["value"], 50);
  // Later increments add to a set value.
  EXPECT_EQ(Post("/v1/owners/user:7/counters/views/increment", {{"by", 1}}).body["total"], 51);

  JsonReply month =
      Put("/v1/owners/user:7/counters/views", {{"value", 9}, {"interval", "month"}, {"period", "2024-03"}});
  EXPECT_EQ(month.status, 200) << month;
  EXPECT_EQ(Get("/v1/owners/user:7/counters/views?interval=month&period=2024-03").body["value"], 9);

  JsonReply recount = Put("/v1/owners/user:7/counters/views",
                          {{"interval", "day"}, {"periods", {{"2024-03-01", 4}, {"2024-03-02", 6}}}});
  EXPECT_EQ(recount.status, 200) << recount;
  EXPECT_EQ(Get("/v1/owners/user:7/counters/views?interval=day&period=2024-03-01").body["value"], 4);
  EXPECT_EQ(Get("/v1/owners/user:7/counters/views?interval=day&period=2024-03-02").body["value"], 6);
  JsonReply sum = Get("/v1/owners/user:7/counters/views/sum?interval=day&from=2024-03-01&to=2024-03-31");
  EXPECT_EQ(sum.body["sum"], 10) << sum;

  JsonReply reset = Call("POST", "/v1/owners/user:7/counters/views/reset", "");
  EXPECT_EQ(reset.status, 200) << reset;
  EXPECT_EQ(Get("/v1/owners/user:7/counters/views").body["value"], 0);

  JsonReply del = Call("DELETE", "/v1/owners/user:7/counters/views?interval=day");
  EXPECT_EQ(del.status, 200) << del;
  EXPECT_GE(del.body["deleted"].get<int64_t>(), 2) << del;
  EXPECT_EQ(Get("/v1/owners/user:7/counters/views?interval=day&period=2024-03-01").body["value"], 0);
  EXPECT_EQ(Get("/v1/owners/user:7/counters/views?interval=month&period=2024-03").body["value"], 9);
  JsonReply all = Call("DELETE", "/v1/owners/user:7/counters/views");
  EXPECT_EQ(all.status, 200) << all;
  EXPECT_EQ(Get("/v1/owners/user:7/counters/views?interval=month&period=2024-03").body["value"], 0);
}

TEST_F(HttpApiTest, HistorySumAllTopOwnersAndTimeZone) {
  for (int i = 1; i <= 3; ++i) {
    Post("/v1/owners/user:" + std::to_string(i) + "/counters/downloads/increment", {{"by", i * 10}});
  }
  Post("/v1/owners/user:1/counters/uploads/increment", {{"by", 2}});

  JsonReply history = Get("/v1/owners/user:2/counters/downloads/history?interval=day&count=3");
  ASSERT_EQ(history.status, 200) << history;
  ASSERT_EQ(history.body["history"].size(), 3u) << history;
  EXPECT_EQ(history.body["history"][0]["period"], UtcLabels(NowMs())[1]);
  EXPECT_EQ(history.body["history"][0]["value"], 20);
  EXPECT_EQ(history.body["history"][1]["value"], 0);

  EXPECT_EQ(Get("/v1/owners/user:2/counters/downloads/sum?interval=day").body["sum"], 20);

  JsonReply all = Get("/v1/owners/user:1/counters");
  ASSERT_EQ(all.status, 200) << all;
  EXPECT_EQ(all.body["counters"], json({{"downloads", 10}, {"uploads", 2}})) << all;
  EXPECT_EQ(Get("/v1/owners/user:1/counters?interval=month").body["period"], UtcLabels(NowMs())[3]);

  JsonReply top = Get("/v1/top?key=downloads&interval=day&limit=2");
  ASSERT_EQ(top.status, 200) << top;
  EXPECT_EQ(top.body["owners"], json::parse(R"([{"owner":"user:3","value":30},{"owner":"user:2","value":20}])")) << top;
  EXPECT_EQ(top.body["period"], UtcLabels(NowMs())[1]);

  JsonReply owners = Get("/v1/owners?prefix=user:&limit=2");
  ASSERT_EQ(owners.status, 200) << owners;
  EXPECT_EQ(owners.body["owners"], json::parse(R"(["user:1","user:2"])"));
  ASSERT_TRUE(owners.body["next_cursor"].is_string()) << owners;
  JsonReply rest = Get("/v1/owners?prefix=user:&limit=2&cursor=" + owners.body["next_cursor"].get<std::string>());
  EXPECT_EQ(rest.body["owners"], json::parse(R"(["user:3"])")) << rest;
  EXPECT_TRUE(rest.body["next_cursor"].is_null()) << rest;

  EXPECT_EQ(Get("/v1/owners/user:1/timezone").body["timezone"], "UTC");
  JsonReply zone = Put("/v1/owners/user:1/timezone", {{"timezone", "Europe/Berlin"}});
  EXPECT_EQ(zone.status, 200) << zone;
  EXPECT_EQ(Get("/v1/owners/user:1/timezone").body["timezone"], "Europe/Berlin");
  EXPECT_EQ(ErrorCode(Put("/v1/owners/user:1/timezone", {{"timezone", "Mars/Olympus"}}), 400), "invalid_timezone");
}

TEST_F(HttpApiTest, HttpAndTheLineProtocolShareOneState) {
  EXPECT_EQ(Cli({"CTR.INCRBY", "user:5", "api", "7"}), "(integer) 7");
  EXPECT_EQ(Get("/v1/owners/user:5/counters/api").body["value"], 7);
  Post("/v1/owners/user:5/counters/api/increment", {{"by", 3}});
  EXPECT_EQ(Cli({"CTR.GET", "user:5", "api"}), "(integer) 10");
}

// Laravel's morph names carry backslashes (App\Models\Post:1): they are valid
// owners on the line protocol (redis-cli passes them as they are) and, sent
// as %5C, over HTTP; the owner is listed and read back under its own name.
TEST_F(HttpApiTest, LaravelMorphNamesWithBackslashesWorkOnBothProtocols) {
  const std::string owner = "App\\Models\\Post:1";
  EXPECT_EQ(Cli({"CTR.INCRBY", owner, "downloads", "2"}), "(integer) 2");
  JsonReply incr = Post("/v1/owners/App%5CModels%5CPost:1/counters/downloads/increment", {{"by", 3}});
  EXPECT_EQ(incr.status, 200) << incr;
  EXPECT_EQ(incr.body["total"], 5) << incr;
  EXPECT_EQ(Cli({"CTR.GET", owner, "downloads"}), "(integer) 5");
  JsonReply read = Get("/v1/owners/App%5CModels%5CPost:1/counters/downloads");
  EXPECT_EQ(read.body["value"], 5) << read;
  EXPECT_EQ(Cli({"CTR.OWNERS", "PREFIX", "App\\Models\\"}), "1) \"0\"\n2) 1) \"App\\\\Models\\\\Post:1\"");
  EXPECT_EQ(Cli({"CTR.INCRBY", "App\\Models\\Post 1", "downloads", "1"}).rfind("(error) ERR invalid owner", 0), 0u);
}

// Owner names with the punctuation URLs reserve (/ ? # % + & =) are valid;
// over HTTP each is sent percent-encoded in the path segment, decoded once,
// and the JSON carries the real name. A name with a comma (the separator of
// ?owners=) or a quote stays refused.
TEST_F(HttpApiTest, OwnerNamesWithUrlPunctuationWorkOnBothProtocols) {
  const std::string owner = "team/42?tab=a&b#x%y+z";
  const std::string path = "/v1/owners/team%2F42%3Ftab%3Da%26b%23x%25y+z/counters/downloads";
  EXPECT_EQ(Cli({"CTR.INCRBY", owner, "downloads", "2"}), "(integer) 2");
  JsonReply incr = Post(path + "/increment", {{"by", 3}});
  EXPECT_EQ(incr.status, 200) << incr;
  EXPECT_EQ(incr.body["total"], 5) << incr;
  JsonReply read = Get(path);
  EXPECT_EQ(read.status, 200) << read;
  EXPECT_EQ(read.body["owner"], owner) << read;
  EXPECT_EQ(read.body["value"], 5) << read;
  EXPECT_EQ(Cli({"CTR.GET", owner, "downloads"}), "(integer) 5");
  // In a query string '+' is a space, so it is sent as %2B there.
  JsonReply values = Get("/v1/values?key=downloads&owners=team%2F42%3Ftab%3Da%26b%23x%25y%2Bz,user:9");
  EXPECT_EQ(values.status, 200) << values;
  EXPECT_EQ(values.body["values"][0]["owner"], owner) << values;
  EXPECT_EQ(values.body["values"][0]["value"], 5) << values;
  EXPECT_EQ(Cli({"CTR.OWNERS", "PREFIX", "team/"}), "1) \"0\"\n2) 1) \"team/42?tab=a&b#x%y+z\"");
  EXPECT_EQ(Post("/v1/owners/user%2C1/counters/downloads/increment", json::object()).status, 400);
  EXPECT_EQ(Cli({"CTR.INCRBY", "user\"1", "downloads", "1"}).rfind("(error) ERR invalid owner", 0), 0u);
}

// Each kind of bad input has its own code (docs/errors.md), whatever the
// message says; none of them changes anything. (Until the routes declared
// their inputs, several of these were a generic bad_request, and a missing
// value was invalid_field: the codes below are the more specific ones.)
TEST_F(HttpApiTest, BadInputIs400WithACodeAndChangesNothing) {
  Post("/v1/owners/user:1/counters/downloads/increment", {{"by", 5}});
  struct Case {
    std::string method, target, body, code;
  };
  const std::vector<Case> cases = {
      {"POST", "/v1/owners/user%201/counters/downloads/increment", "{}", "invalid_name"},
      {"POST", "/v1/owners/user:1/counters/down%2Cloads/increment", "{}", "invalid_name"},
      {"POST", "/v1/owners/" + std::string(129, 'x') + "/counters/k/increment", "{}", "invalid_name"},
      {"POST", "/v1/owners/user:1/counters/downloads/increment", "{\"by\": \"five\"}", "invalid_field"},
      {"POST", "/v1/owners/user:1/counters/downloads/increment", "{\"by\": 1.5}", "invalid_field"},
      {"POST", "/v1/owners/user:1/counters/downloads/increment", "{\"by\": 1", "invalid_json"},
      {"POST", "/v1/owners/user:1/counters/downloads/increment", "[1]", "invalid_json"},
      {"POST", "/v1/owners/user:1/counters/downloads/increment", "{\"by\": 9223372036854775807}", "overflow"},
      {"POST", "/v1/owners/user:1/counters/downloads/increment", "{\"by\": 18446744073709551615}", "not_integer"},
      {"POST", "/v1/owners/user:1/counters/downloads/increment", "{\"at\": 1}", "invalid_time"},
      {"POST", "/v1/owners/user:1/counters/downloads/increment",
       "{\"at\": " + std::to_string(NowMs() + 3600 * 1000) + "}", "invalid_time"},
      {"POST", "/v1/owners/user:1/counters/downloads/increment", "{\"id\": \"has space\"}", "invalid_id"},
      {"GET", "/v1/owners/user:1/counters/downloads?interval=fortnight", "", "invalid_interval"},
      {"GET", "/v1/owners/user:1/counters/downloads?interval=day&period=2024-13-01", "", "invalid_period"},
      {"GET", "/v1/owners/user:1/counters/downloads?period=2024-01-01", "", "missing_field"},
      {"PUT", "/v1/owners/user:1/counters/downloads", "{}", "missing_field"},
      {"PUT", "/v1/owners/user:1/counters/downloads", "{\"value\": \"x\"}", "invalid_field"},
      {"PUT", "/v1/owners/user:1/counters/downloads", "{\"value\": 1, \"interval\": \"day\", \"period\": \"2024-W01\"}",
       "invalid_period"},
      {"PUT", "/v1/owners/user:1/counters/downloads", "{\"interval\": \"day\", \"periods\": {\"2024-01-01\": \"x\"}}",
       "invalid_field"},
      {"PUT", "/v1/owners/user:1/counters/downloads", "{\"interval\": \"day\", \"periods\": {\"bad\": 1}}",
       "invalid_period"},
      {"DELETE", "/v1/owners/user:1/counters/downloads?interval=decade", "", "invalid_interval"},
      {"GET", "/v1/owners/user:1/counters/downloads/history", "", "missing_field"},
      {"GET", "/v1/owners/user:1/counters/downloads/history?interval=day&count=0", "", "out_of_range"},
      {"GET", "/v1/owners/user:1/counters/downloads/sum?interval=day&from=2024-01-01", "", "missing_field"},
      {"GET", "/v1/top", "", "missing_field"},
      {"GET", "/v1/top?key=downloads&limit=abc", "", "not_integer"},
      {"GET", "/v1/counters?limit=0", "", "out_of_range"},
      {"GET", "/v1/counters?interval=all&period=2024", "", "invalid_field"},
      {"GET", "/v1/export?format=xml", "", "invalid_field"},
      {"GET", "/v1/export?period=2024", "", "missing_field"},
      {"GET", "/v1/owners/user:1/counters/downloads?interval=day&period=%zz", "", "bad_request"},
  };
  for (const Case& c : cases) {
    JsonReply reply = Call(c.method, c.target, c.body);
    EXPECT_EQ(ErrorCode(reply, 400), c.code) << c.method << " " << c.target << " " << c.body << "\n" << reply;
  }
  // Nothing changed.
  EXPECT_EQ(Get("/v1/owners/user:1/counters/downloads").body["value"], 5);
  EXPECT_EQ(Cli({"CTR.OWNERS"}), "1) \"0\"\n2) 1) \"user:1\"");
}

TEST_F(HttpApiTest, UnknownRouteIs404AndWrongMethodIs405WithAllow) {
  EXPECT_EQ(ErrorCode(Get("/v2/anything"), 404), "not_found");
  EXPECT_EQ(ErrorCode(Get("/v1/owners/user:1/counters/downloads/nothing"), 404), "not_found");
  JsonReply wrong = Call("GET", "/v1/owners/user:1/counters/downloads/increment");
  EXPECT_EQ(ErrorCode(wrong, 405), "method_not_allowed");
  EXPECT_EQ(wrong.raw.Header("allow"), "POST");
  JsonReply patch = Call("PATCH", "/v1/owners/user:1/counters/downloads", "{}");
  EXPECT_EQ(ErrorCode(patch, 405), "method_not_allowed");
  EXPECT_EQ(patch.raw.Header("allow"), "GET, PUT, DELETE");
  // HEAD works wherever GET does, without a body.
  auto client = HttpClient::Connect(daemon_->http_port());
  ASSERT_TRUE(client.has_value());
  ASSERT_TRUE(client->Send(HttpClient::Encode("HEAD", "/health")));
  HttpReply head = client->ReadResponse(std::chrono::seconds(5), /*head=*/true);
  EXPECT_EQ(head.status, 200) << head;
  EXPECT_TRUE(head.body.empty());
}

TEST_F(HttpApiTest, KeepAliveServesManyRequestsOnOneConnection) {
  auto client = HttpClient::Connect(daemon_->http_port());
  ASSERT_TRUE(client.has_value());
  for (int i = 1; i <= 50; ++i) {
    HttpReply reply = client->Call("POST", "/v1/owners/user:9/counters/clicks/increment", "{\"by\": 2}");
    ASSERT_EQ(reply.status, 200) << reply;
    EXPECT_EQ(json::parse(reply.body)["total"], 2 * i);
  }
  HttpReply read = client->Call("GET", "/v1/owners/user:9/counters/clicks");
  EXPECT_EQ(json::parse(read.body)["value"], 100) << read;
}

TEST_F(HttpApiTest, PipelinedRequestsAreAnsweredInOrder) {
  auto client = HttpClient::Connect(daemon_->http_port());
  ASSERT_TRUE(client.has_value());
  std::string batch;
  for (int i = 0; i < 10; ++i) {
    batch += HttpClient::Encode("POST", "/v1/owners/user:3/counters/n/increment", "{\"by\": 1}");
    batch += HttpClient::Encode("GET", "/v1/owners/user:3/counters/n");
  }
  batch += HttpClient::Encode("GET", "/nowhere");
  batch += HttpClient::Encode("GET", "/health");
  ASSERT_TRUE(client->Send(batch));
  for (int i = 1; i <= 10; ++i) {
    HttpReply incr = client->ReadResponse();
    ASSERT_EQ(incr.status, 200) << incr;
    EXPECT_EQ(json::parse(incr.body)["total"], i);
    HttpReply get = client->ReadResponse();
    ASSERT_EQ(get.status, 200) << get;
    EXPECT_EQ(json::parse(get.body)["value"], i);
  }
  EXPECT_EQ(client->ReadResponse().status, 404);
  EXPECT_EQ(client->ReadResponse().status, 200);
}

TEST_F(HttpApiTest, AdminTablePagesThroughCellsWithFilters) {
  // 30 users and 5 orgs, two keys each.
  std::string commands;
  for (int i = 0; i < 30; ++i) {
    char owner[32];
    snprintf(owner, sizeof owner, "user:%02d", i);
    commands += EncodeCommand({"CTR.INCRBY", owner, "downloads", std::to_string(i + 1)});
    commands += EncodeCommand({"CTR.INCRBY", owner, "uploads", "1"});
  }
  for (int i = 0; i < 5; ++i) commands += EncodeCommand({"CTR.INCRBY", "org:" + std::to_string(i), "downloads", "1"});
  RespClient resp = Connect();
  ASSERT_TRUE(resp.Send(commands));
  for (int i = 0; i < 65; ++i) ASSERT_FALSE(resp.ReadReply().is_error());

  // Totals of one key for one owner type, 7 owners per page.
  std::vector<json> rows;
  std::string cursor;
  int pages = 0;
  do {
    std::string target = "/v1/counters?type=user&key=downloads&limit=7";
    if (!cursor.empty()) target += "&cursor=" + cursor;
    JsonReply page = Get(target);
    ASSERT_EQ(page.status, 200) << page;
    for (const json& row : page.body["rows"]) rows.push_back(row);
    cursor = page.body["next_cursor"].is_null() ? "" : page.body["next_cursor"].get<std::string>();
    ASSERT_LT(++pages, 10);
  } while (!cursor.empty());
  EXPECT_EQ(pages, 5);
  ASSERT_EQ(rows.size(), 30u);
  for (int i = 0; i < 30; ++i) {
    char owner[32];
    snprintf(owner, sizeof owner, "user:%02d", i);
    EXPECT_EQ(
        rows[i],
        json({{"owner", owner}, {"key", "downloads"}, {"interval", "total"}, {"period", "total"}, {"value", i + 1}}));
  }
  // One interval's current period, an owner prefix.
  JsonReply month = Get("/v1/counters?prefix=user:2&interval=month");
  ASSERT_EQ(month.status, 200) << month;
  EXPECT_EQ(month.body["rows"].size(), 20u);  // user:20..29, two keys
  EXPECT_EQ(month.body["rows"][0]["period"], UtcLabels(NowMs())[3]);
  // Every cell of every interval.
  JsonReply every = Get("/v1/counters?prefix=org:&interval=all");
  EXPECT_EQ(every.body["rows"].size(), 5u * 7u) << every;
  // Prefix and type that contradict each other select nothing.
  EXPECT_EQ(Get("/v1/counters?prefix=org:&type=user").body["rows"].size(), 0u);
}

TEST_F(HttpApiTest, MetricsIsValidPrometheusTextAndStatsIsJson) {
  Post("/v1/owners/user:1/counters/downloads/increment", {{"by", 1}});
  Cli({"CTR.INCRBY", "user:1", "downloads", "1"});
  Cli({"CTR.INCRBY", "user:1", "downloads", "x"});
  HttpReply metrics = HttpClient::Request(daemon_->http_port(), "GET", "/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics;
  EXPECT_TRUE(metrics.Header("content-type").starts_with("text/plain; version=0.0.4")) << metrics;
  std::vector<std::string> problems = prom::CheckText(metrics.body);
  EXPECT_TRUE(problems.empty()) << testing::PrintToString(problems) << "\n" << metrics.body;
  for (const char* series :
       {"tally_commands_total{command=\"ctr.incrby\",result=\"ok\"} 2",
        "tally_commands_total{command=\"ctr.incrby\",result=\"error\"} 1",
        "tally_command_duration_seconds_bucket{command=\"ctr.incrby\",le=\"+Inf\"} 3", "tally_ready 1"}) {
    EXPECT_TRUE(Contains(metrics.body, series)) << series << "\n" << metrics.body;
  }
  JsonReply stats = Get("/v1/stats");
  ASSERT_EQ(stats.status, 200) << stats;
  EXPECT_TRUE(stats.body["server"]["version"].is_string()) << stats;
  EXPECT_GE(stats.body["server"]["uptime_seconds"].get<double>(), 0);
  EXPECT_EQ(stats.body["config"]["http_port"], daemon_->http_port()) << stats;
  EXPECT_EQ(stats.body["commands"]["ctr.incrby"]["calls"], 3) << stats;
}

// Limits configured small, to reach them.
class HttpLimitsTest : public HttpTest {
 protected:
  std::vector<std::string> ExtraArgs() const override {
    return {"--http-max-body-bytes", "1024", "--http-max-connections", "3"};
  }
};

TEST_F(HttpLimitsTest, OversizedBodyIs413AndChangesNothing) {
  json body{{"by", 1}, {"id", std::string(2000, 'x')}};
  JsonReply big = Post("/v1/owners/user:1/counters/downloads/increment", body);
  EXPECT_EQ(ErrorCode(big, 413), "payload_too_large");
  EXPECT_EQ(Get("/v1/owners/user:1/counters/downloads").body["value"], 0);
}

TEST_F(HttpLimitsTest, ConnectionsPastTheLimitGet429) {
  std::vector<HttpClient> open;
  for (int i = 0; i < 3; ++i) {
    auto client = HttpClient::Connect(daemon_->http_port());
    ASSERT_TRUE(client.has_value());
    ASSERT_EQ(client->Call("GET", "/health").status, 200);  // accepted and served
    open.push_back(std::move(*client));
  }
  // Past the limit a connection may only ask /health or /ready (the probe
  // reserve, tested in tests/integration/limits); anything else is a 429.
  auto extra = HttpClient::Connect(daemon_->http_port());
  ASSERT_TRUE(extra.has_value());
  HttpReply refused = extra->Call("GET", "/v1/stats");
  EXPECT_EQ(refused.status, 429) << refused;
  EXPECT_EQ(json::parse(refused.body, nullptr, false)["error"]["code"], "too_many_connections") << refused;
  // Once one closes, a new connection is served again. (The refused one
  // counts until the server has closed it: it drains the client's bytes
  // for a moment first, so that the client reads the 429 and not a reset.)
  extra->Close();
  open.pop_back();
  bool served = false;
  for (int attempt = 0; attempt < 250 && !served; ++attempt) {
    served = HttpClient::Request(daemon_->http_port(), "GET", "/v1/stats").status == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(served);
}

// /ready says 503 while the store is being opened (recovery made slow with
// the daemon's test hook), /health says 200 throughout.
TEST(HttpReadyTest, ReadyIs503UntilRecoveryIsDone) {
  ::setenv("TALLY_TEST_RECOVERY_DELAY_MS", "1500", 1);
  TallydProcess daemon;
  ASSERT_TRUE(daemon.Spawn());
  ::unsetenv("TALLY_TEST_RECOVERY_DELAY_MS");
  JsonReply health, ready;
  for (int attempt = 0; attempt < 200; ++attempt) {
    HttpReply reply = HttpClient::Request(daemon.http_port(), "GET", "/health");
    if (reply.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  HttpReply early = HttpClient::Request(daemon.http_port(), "GET", "/ready");
  EXPECT_EQ(early.status, 503) << early;
  EXPECT_EQ(json::parse(early.body, nullptr, false)["error"]["code"], "not_ready") << early;
  HttpReply early_api = HttpClient::Request(daemon.http_port(), "GET", "/v1/owners/user:1/counters/x");
  EXPECT_EQ(early_api.status, 503) << early_api;
  ASSERT_TRUE(daemon.WaitReady());
  int status = 0;
  for (int attempt = 0; attempt < 200 && status != 200; ++attempt) {
    status = HttpClient::Request(daemon.http_port(), "GET", "/ready").status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(status, 200);
}

// ---------------------------------------------------------------------------
// Export

class HttpExportTest : public HttpTest {
 protected:
  static constexpr int kOwners = 3000;
  // Owner i has downloads = i + 1 and api = 2i + 1, all incremented now.
  void Load() {
    labels_before_ = UtcLabels(NowMs());
    RespClient resp = Connect();
    std::string commands;
    for (int i = 0; i < kOwners; ++i) {
      const std::string owner = "user:" + std::to_string(i);
      commands += EncodeCommand({"CTR.INCRBY", owner, "downloads", std::to_string(i + 1)});
      commands += EncodeCommand({"CTR.INCRBY", owner, "api", std::to_string(2 * i + 1)});
    }
    ASSERT_TRUE(resp.Send(commands));
    for (int i = 0; i < 2 * kOwners; ++i) ASSERT_FALSE(resp.ReadReply().is_error());
    labels_after_ = UtcLabels(NowMs());
  }
  // Checks one exported row; returns "owner key interval" to count rows.
  void CheckRow(const std::string& owner, const std::string& key, const std::string& interval,
                const std::string& period, int64_t value) {
    ASSERT_TRUE(owner.starts_with("user:")) << owner;
    const int i = std::stoi(owner.substr(5));
    ASSERT_TRUE(key == "downloads" || key == "api") << key;
    EXPECT_EQ(value, key == "downloads" ? i + 1 : 2 * i + 1) << owner << " " << key << " " << interval;
    if (interval == "total") {
      EXPECT_EQ(period, "total");
    } else {
      size_t index = 0;
      while (index < kIntervals.size() && kIntervals[index] != interval) ++index;
      ASSERT_LT(index, kIntervals.size()) << interval;
      EXPECT_TRUE(period == labels_before_[index] || period == labels_after_[index]) << interval << " " << period;
    }
    ++seen_[owner + " " + key + " " + interval];
  }
  std::array<std::string, 6> labels_before_, labels_after_;
  std::map<std::string, int> seen_;
};

TEST_F(HttpExportTest, CsvOfEveryCellIsStreamedAndEveryRowIsRight) {
  Load();
  auto client = HttpClient::Connect(daemon_->http_port());
  ASSERT_TRUE(client.has_value());
  ASSERT_TRUE(client->Send(HttpClient::Encode("GET", "/v1/export?format=csv")));
  std::string partial;
  size_t rows = 0;
  bool header_seen = false;
  HttpReply reply = client->ReadResponse(std::chrono::seconds(60), false, [&](std::string_view chunk) {
    partial.append(chunk);
    size_t start = 0, end;
    while ((end = partial.find("\r\n", start)) != std::string::npos) {
      std::string line = partial.substr(start, end - start);
      start = end + 2;
      if (!header_seen) {
        EXPECT_EQ(line, "owner,key,interval,period,value");
        header_seen = true;
        continue;
      }
      std::vector<std::string> fields;
      size_t from = 0, comma;
      while ((comma = line.find(',', from)) != std::string::npos) {
        fields.push_back(line.substr(from, comma - from));
        from = comma + 1;
      }
      fields.push_back(line.substr(from));
      ASSERT_EQ(fields.size(), 5u) << line;
      CheckRow(fields[0], fields[1], fields[2], fields[3], std::stoll(fields[4]));
      ++rows;
    }
    partial.erase(0, start);
  });
  ASSERT_EQ(reply.status, 200) << reply;
  EXPECT_TRUE(reply.chunked);
  EXPECT_GT(reply.chunks, 5u) << "the export should arrive page by page";
  EXPECT_TRUE(reply.Header("content-type").starts_with("text/csv")) << reply;
  EXPECT_TRUE(partial.empty()) << "a row without its CRLF: " << partial;
  EXPECT_EQ(rows, size_t{kOwners} * 2 * 7);
  EXPECT_EQ(seen_.size(), size_t{kOwners} * 2 * 7);
  for (const auto& [cell, count] : seen_) EXPECT_EQ(count, 1) << cell;
}

TEST_F(HttpExportTest, NdjsonOfOneIntervalAfterCompactionAndRestart) {
  Load();
  ASSERT_TRUE(daemon_->Restart());  // compacted at shutdown: rows come from RocksDB
  HttpReply reply = HttpClient::Request(daemon_->http_port(), "GET", "/v1/export?format=ndjson&interval=day");
  ASSERT_EQ(reply.status, 200) << reply;
  EXPECT_EQ(reply.Header("content-type"), "application/x-ndjson");
  size_t rows = 0, start = 0, end;
  while ((end = reply.body.find('\n', start)) != std::string::npos) {
    json row = json::parse(reply.body.substr(start, end - start));
    start = end + 1;
    CheckRow(row["owner"], row["key"], row["interval"], row["period"], row["value"].get<int64_t>());
    EXPECT_EQ(row["interval"], "day");
    ++rows;
  }
  EXPECT_EQ(start, reply.body.size());
  EXPECT_EQ(rows, size_t{kOwners} * 2);
  // One period of one key, for owners of a prefix.
  HttpReply one = HttpClient::Request(daemon_->http_port(), "GET",
                                      "/v1/export?format=csv&interval=day&period=current&key=api&prefix=user:2999");
  EXPECT_EQ(one.body, "owner,key,interval,period,value\r\nuser:2999,api,day," + UtcLabels(NowMs())[1] + ",5999\r\n")
      << one;
}

}  // namespace
}  // namespace tally::itest::http
