// Strict HTTP input against the real tallyd: whatever a route does not take
// is refused, never ignored. Unknown body fields and query parameters,
// repeated parameters, duplicate JSON keys, wrong types, floats and numbers
// in strings, typos (`intervall`, `amount`, `?by=5`), a body where none is
// taken, a missing Host header: each is a 400 whose code says which rule and
// whose message names the field; and each changes nothing (the counters, the
// owners, the time zone and the log are read before and after).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "counters/counters_util.h"
#include "http_util.h"

namespace tally::itest::http {
namespace {

class HttpStrictInputTest : public HttpTest {
 protected:
  void SetUp() override {
    HttpTest::SetUp();
    ASSERT_EQ(Post(kIncrement, {{"by", 5}, {"id", "seed"}}).status, 200);
    ASSERT_EQ(
        Put("/v1/owners/user:1/counters/downloads", {{"value", 7}, {"interval", "day"}, {"period", "current"}}).status,
        200);
    before_ = State();
  }

  // Everything a bad request could have touched, and the number of log
  // entries written (any applied write appends one).
  std::string State() {
    RespClient c = Connect();
    std::string state;
    for (const std::vector<std::string>& read :
         std::vector<std::vector<std::string>>{{"CTR.ALL", "user:1"},
                                               {"CTR.ALL", "user:1", "day"},
                                               {"CTR.ALL", "user:1", "month"},
                                               {"CTR.GET", "user:1", "downloads", "day", "2024-01-01"},
                                               {"CTR.OWNERS"},
                                               {"OWNER.TZ", "user:1"},
                                               {"DBSIZE"}}) {
      state += c.Call(read).ToString() + "\n";
    }
    const std::string info = c.Call({"INFO", "persistence"}).str;
    const size_t at = info.find("log_entries_written:");
    state += info.substr(at, info.find('\r', at) - at);
    return state;
  }

  static constexpr const char* kIncrement = "/v1/owners/user:1/counters/downloads/increment";
  static constexpr const char* kCounter = "/v1/owners/user:1/counters/downloads";
  std::string before_;
};

struct BadRequest {
  std::string method, target, body;
  std::string code;    // the JSON error code
  std::string names;   // the message must contain this (the field, in its HTTP name)
  std::string absent;  // ...and must not contain this (a line-protocol name), when set
};

TEST_F(HttpStrictInputTest, EveryUnknownRepeatedOrMistypedInputIs400NamingItAndChangesNothing) {
  const std::string counter = kCounter, increment = kIncrement;
  const std::string history = counter + "/history", sum = counter + "/sum", reset = counter + "/reset";
  const std::vector<BadRequest> cases = {
      // ---- typos that used to count a wrong amount --------------------------------
      {"POST", increment, R"({"amount": 2})", "unknown_field", "'amount'"},
      {"POST", increment + "?by=5", "", "unknown_parameter", "'by' in the JSON body"},
      {"GET", counter + "?intervall=day", "", "unknown_parameter", "did you mean 'interval'?"},
      {"POST", increment, R"({"by": 1, "BY": 2})", "unknown_field", "'BY'"},
      {"POST", increment + "?interval=day", R"({"by": 1})", "unknown_parameter", "'interval'"},
      {"POST", reset, R"({"intervall": "day"})", "unknown_field", "did you mean 'interval'?"},
      {"PUT", counter, R"({"value": 5, "amount": 1})", "unknown_field", "'amount'"},
      {"PUT", "/v1/owners/user:1/timezone", R"({"timezone": "UTC", "tz": "x"})", "unknown_field", "'tz'"},
      {"GET", "/v1/owners?count=5", "", "unknown_parameter", "'count'"},
      {"GET", "/v1/changes?since=0&cursor=5", "", "unknown_parameter", "'cursor'"},
      {"GET", "/health?verbose=1", "", "unknown_parameter", "'verbose'"},
      // A typo in a delete's filter must not delete every cell.
      {"DELETE", counter + "?intervall=day", "", "unknown_parameter", "'intervall'"},
      // ---- duplicate JSON keys and repeated query parameters ------------------------
      {"POST", increment, R"({"by": 1, "by": 1000})", "duplicate_key", "'by'"},
      {"POST", reset, R"({"interval": "day", "interval": "month"})", "duplicate_key", "'interval'"},
      {"PUT", counter, R"({"interval": "day", "periods": {"2024-01-01": 1, "2024-01-01": 2}})", "duplicate_key",
       "'2024-01-01'"},
      {"GET", counter + "?interval=day&interval=month", "", "repeated_parameter", "'interval'"},
      {"GET", "/v1/top?key=downloads&limit=5&limit=6", "", "repeated_parameter", "'limit'"},
      {"GET", history + "?interval=day&from=2024-01-01&from=2024-01-02", "", "repeated_parameter", "'from'"},
      // ---- wrong types, floats, numbers in strings -----------------------------------
      {"POST", increment, R"({"by": "5"})", "invalid_field", "'by' must be an integer, got a string"},
      {"POST", increment, R"({"by": 1.5})", "invalid_field", "'by' must be an integer"},
      {"POST", increment, R"({"by": 1e3})", "invalid_field", "'by' must be an integer"},
      {"POST", increment, R"({"by": 2.0})", "invalid_field", "'by' must be an integer"},
      {"POST", increment, R"({"by": -9223372036854775809})", "invalid_field", "'by'"},
      {"POST", increment, R"({"by": null})", "invalid_field", "'by' must be an integer, got null"},
      {"POST", increment, R"({"by": true})", "invalid_field", "'by'"},
      {"POST", increment, R"({"by": [1]})", "invalid_field", "'by'"},
      {"POST", increment, R"({"by": {"n": 1}})", "invalid_field", "'by'"},
      {"POST", increment, R"({"at": "1796395548000"})", "invalid_field", "'at' must be an integer, got a string"},
      {"POST", increment, R"({"id": 42})", "invalid_field", "'id' must be a string"},
      {"POST", increment, R"({"by": 18446744073709551615})", "not_integer", "'by' is out of range"},
      {"PUT", counter, R"({"value": "5"})", "invalid_field", "'value'"},
      {"PUT", counter, R"({"interval": "day", "periods": {"2024-01-01": "1"}})", "invalid_field",
       "'periods.2024-01-01'"},
      {"PUT", counter, R"({"interval": "day", "periods": {"2024-01-01": 1.5}})", "invalid_field",
       "'periods.2024-01-01'"},
      {"PUT", counter, R"({"interval": "day", "periods": []})", "invalid_field", "'periods'"},
      {"PUT", "/v1/owners/user:1/timezone", R"({"timezone": 1})", "invalid_field", "'timezone'"},
      {"GET", "/v1/top?key=downloads&limit=1.5", "", "not_integer", "'limit'"},
      {"GET", "/v1/top?key=downloads&limit=1e3", "", "not_integer", "'limit'"},
      {"GET", history + "?interval=day&count=abc", "", "not_integer", "'count'"},
      {"GET", "/v1/counters?limit=abc", "", "not_integer", "'limit'"},
      {"GET", "/v1/changes?since=1.5", "", "not_integer", "'since'"},
      {"GET", "/v1/export?format=CSV", "", "invalid_field", "'format' must be one of csv, ndjson"},
      // ---- missing fields, fields that need another, conflicting fields --------------
      {"PUT", "/v1/owners/user:1/timezone", "{}", "missing_field", "'timezone'"},
      {"PUT", counter, R"({"periods": {"2024-01-01": 1}})", "missing_field", "'periods' needs field 'interval'"},
      {"PUT", counter, R"({"value": 1, "period": "2024-01-01"})", "missing_field", "'period' needs field 'interval'"},
      {"PUT", counter, R"({"value": 1, "interval": "day", "periods": {"2024-01-01": 1}})", "invalid_field",
       "'value' cannot be given with 'periods'"},
      {"GET", sum + "?interval=day&to=2024-01-02", "", "missing_field", "'to' needs query parameter 'from'"},
      {"GET", history, "", "missing_field", "'interval'"},
      // ---- bodies that are not an object, or where none is taken ---------------------
      {"POST", increment, "[1]", "invalid_json", "JSON object"},
      {"POST", increment, "\"5\"", "invalid_json", "JSON object"},
      {"POST", increment, "{\"by\": 1", "invalid_json", "not valid JSON"},
      {"DELETE", counter, R"({"interval": "day"})", "unexpected_body", "takes no request body"},
      {"GET", counter, R"({"interval": "day"})", "unexpected_body", "takes no request body"},
      // ---- a command's error names the HTTP field, not the command's argument ----------
      {"GET", "/v1/owners?limit=0", "", "out_of_range", "limit must be between 1 and 10000", "COUNT"},
      {"GET", "/v1/top?key=downloads&limit=0", "", "out_of_range", "limit must be between 1 and 10000", "LIMIT"},
      {"POST", increment, R"({"at": 1796395548})", "invalid_time",
       "at 1796395548 looks like seconds: at is in milliseconds since the epoch (did you mean 1796395548000?)", "AT"},
      {"GET", "/v1/counters?interval=fortnight", "", "invalid_interval", "unknown interval 'fortnight'", "INTERVAL"},
      {"GET", sum + "?interval=day&from=2024-13-01&to=2024-12-01", "", "invalid_period", "from: invalid period",
       "FROM"},
  };
  ASSERT_GE(cases.size(), 30u);
  for (const BadRequest& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target + " " + c.body);
    JsonReply reply = Call(c.method, c.target, c.body);
    EXPECT_EQ(ErrorCode(reply, 400), c.code) << reply;
    if (reply.body.is_discarded()) continue;
    const std::string message = reply.body["error"]["message"].get<std::string>();
    EXPECT_TRUE(Contains(message, c.names)) << "the message should name it: " << message;
    if (!c.absent.empty()) {
      EXPECT_FALSE(Contains(message, c.absent)) << "a line-protocol name: " << message;
    }
    EXPECT_EQ(State(), before_) << "a refused request changed something";
  }
}

// The request that a lax API would have taken: the exact message.
TEST_F(HttpStrictInputTest, TheReportedTyposAreRefusedWithExactMessages) {
  JsonReply amount = Post(kIncrement, {{"amount", 2}});
  EXPECT_EQ(ErrorCode(amount, 400), "unknown_field");
  EXPECT_EQ(amount.body["error"]["message"], "unknown field 'amount'; this route takes: by, at, id");
  JsonReply by_query = Call("POST", std::string(kIncrement) + "?by=5");
  EXPECT_EQ(by_query.body["error"]["message"], "unknown query parameter 'by': this route takes 'by' in the JSON body");
  JsonReply intervall = Get(std::string(kCounter) + "?intervall=day");
  EXPECT_EQ(intervall.body["error"]["message"], "unknown query parameter 'intervall': did you mean 'interval'?");
  JsonReply twice = Call("POST", kIncrement, R"({"by":1,"by":1000})");
  EXPECT_EQ(twice.body["error"]["message"], "duplicate key 'by' in the request body");
  JsonReply limit = Get("/v1/owners?limit=0");
  EXPECT_EQ(limit.body["error"]["message"], "limit must be between 1 and 10000");
  EXPECT_EQ(State(), before_);
}

TEST_F(HttpStrictInputTest, AnHttp11RequestWithoutHostIs400AndChangesNothing) {
  for (const std::string& raw : {
           std::string("GET /health HTTP/1.1\r\n\r\n"),
           std::string("POST /v1/owners/user:1/counters/downloads/increment HTTP/1.1\r\nContent-Length: 9\r\n\r\n"
                       "{\"by\": 9}"),
           std::string("GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
       }) {
    SCOPED_TRACE(raw);
    auto client = HttpClient::Connect(daemon_->http_port());
    ASSERT_TRUE(client.has_value());
    ASSERT_TRUE(client->Send(raw));
    HttpReply reply = client->ReadResponse();
    EXPECT_EQ(reply.status, 400) << reply;
    json body = json::parse(reply.body, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << reply;
    EXPECT_EQ(body["error"]["code"], "missing_host") << reply;
    EXPECT_TRUE(Contains(body["error"]["message"].get<std::string>(), "Host")) << reply;
  }
  EXPECT_EQ(State(), before_);
  // HTTP/1.0 does not require Host.
  auto old = HttpClient::Connect(daemon_->http_port());
  ASSERT_TRUE(old.has_value());
  ASSERT_TRUE(old->Send("GET /health HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(old->ReadResponse().status, 200);
}

// The same inputs, correctly given, work: the checks refuse only what is wrong.
TEST_F(HttpStrictInputTest, TheDeclaredInputsStillWork) {
  // SetUp left the total at 5 and today's cell at 7.
  EXPECT_EQ(Post(kIncrement, {{"by", 2}, {"at", counters::NowMs()}, {"id", "e-2"}}).body["total"], 7);
  EXPECT_EQ(Call("POST", kIncrement, "  ").body["total"], 8) << "an empty body adds 1";
  EXPECT_EQ(Get(std::string(kCounter) + "?interval=day&period=current").body["value"], 10);
  EXPECT_EQ(Call("POST", std::string(kCounter) + "/reset", R"({"interval": "day"})").status, 200);
  EXPECT_EQ(Get(std::string(kCounter) + "?interval=day").body["value"], 0);
  EXPECT_EQ(Get("/v1/top?key=downloads&interval=total&limit=1").body["owners"][0]["value"], 8);
}

}  // namespace
}  // namespace tally::itest::http
