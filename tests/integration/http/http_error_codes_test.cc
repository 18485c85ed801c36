// Typed errors against the real tallyd, over both front ends: each family of
// bad input answers with its code (docs/errors.md) — on RESP the code's
// prefix and a message naming the argument as the command's syntax does, on
// HTTP the code's status and JSON code and a message naming the HTTP field.
// Also: a log that cannot be written is 503 storage_failed, and COMMAND DOCS
// lists each command's error codes.

#include <signal.h>
#include <sys/resource.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "counters/counters_util.h"
#include "http_util.h"

namespace tally::itest::http {
namespace {

class HttpErrorCodesTest : public HttpTest {
 protected:
  // The RESP error line (without '-') of one command.
  std::string Resp(const std::vector<std::string>& args) {
    RespClient c = Connect();
    RespValue reply = c.Call(args);
    EXPECT_TRUE(reply.is_error()) << reply;
    return reply.str;
  }
  // The HTTP error: expects `status` and returns "code: message".
  std::string Http(const std::string& method, const std::string& target, const std::string& body, int status) {
    JsonReply reply = Call(method, target, body);
    const std::string code = ErrorCode(reply, status);
    if (reply.body.is_discarded()) return code;
    return code + ": " + reply.body["error"]["message"].get<std::string>();
  }
};

TEST_F(HttpErrorCodesTest, InvalidNameOnBothFrontEnds) {
  const std::string rule = ": use 1-128 printable ASCII characters other than space , \" ' ` < >";
  EXPECT_EQ(Resp({"CTR.INCRBY", "user 1", "k", "1"}), "ERR invalid owner 'user 1'" + rule);
  EXPECT_EQ(Http("POST", "/v1/owners/user%201/counters/k/increment", "", 400),
            "invalid_name: invalid owner 'user 1'" + rule);
  EXPECT_EQ(Resp({"CTR.CELLS", "TYPE", "a b"}), "ERR invalid TYPE 'a b'" + rule);
  EXPECT_EQ(Http("GET", "/v1/counters?type=a%20b", "", 400), "invalid_name: invalid type 'a b'" + rule);
}

TEST_F(HttpErrorCodesTest, InvalidIntervalOnBothFrontEnds) {
  const std::string rule = " (expected total, hour, day, week, month, quarter or year)";
  EXPECT_EQ(Resp({"CTR.GET", "user:1", "k", "fortnight"}), "ERR unknown interval 'fortnight'" + rule);
  EXPECT_EQ(Http("GET", "/v1/owners/user:1/counters/k?interval=fortnight", "", 400),
            "invalid_interval: unknown interval 'fortnight'" + rule);
  EXPECT_EQ(Resp({"CTR.HISTORY", "user:1", "k", "total", "3"}),
            "ERR interval 'total' has no periods to list (use hour, day, week, month, quarter or year)");
  EXPECT_EQ(Http("GET", "/v1/owners/user:1/counters/k/history?interval=total", "", 400),
            "invalid_interval: interval 'total' has no periods to list (use hour, day, week, month, quarter or year)");
}

TEST_F(HttpErrorCodesTest, InvalidPeriodOnBothFrontEnds) {
  const std::string bad = "invalid period '2024-W49' for interval 'month' (expected e.g. '2024-12' or 'current')";
  EXPECT_EQ(Resp({"CTR.GET", "user:1", "k", "month", "2024-W49"}), "ERR " + bad);
  EXPECT_EQ(Http("GET", "/v1/owners/user:1/counters/k?interval=month&period=2024-W49", "", 400),
            "invalid_period: " + bad);
  EXPECT_EQ(Resp({"CTR.SUM", "user:1", "k", "month", "FROM", "2024-W49", "TO", "2024-12"}), "ERR FROM: " + bad);
  EXPECT_EQ(Http("GET", "/v1/owners/user:1/counters/k/sum?interval=month&from=2024-W49&to=2024-12", "", 400),
            "invalid_period: from: " + bad);
  EXPECT_EQ(Resp({"CTR.SUM", "user:1", "k", "day", "FROM", "2024-12-05", "TO", "2024-12-04"}),
            "ERR FROM 2024-12-05 is after TO 2024-12-04");
  EXPECT_EQ(Http("GET", "/v1/owners/user:1/counters/k/sum?interval=day&from=2024-12-05&to=2024-12-04", "", 400),
            "invalid_period: from 2024-12-05 is after to 2024-12-04");
}

TEST_F(HttpErrorCodesTest, AtInSecondsIsInvalidTimeWithTheFix) {
  const std::string seconds = std::to_string(counters::NowMs() / 1000);
  EXPECT_EQ(Resp({"CTR.INCRBY", "user:1", "k", "1", "AT", seconds}),
            "ERR AT " + seconds + " looks like seconds: AT is in milliseconds since the epoch (did you mean " +
                seconds + "000?)");
  EXPECT_EQ(Http("POST", "/v1/owners/user:1/counters/k/increment", "{\"at\": " + seconds + "}", 400),
            "invalid_time: at " + seconds +
                " looks like seconds: at is in milliseconds since the epoch (did you mean " + seconds + "000?)");
  // The limits are said in days and minutes.
  const std::string old = std::to_string(counters::NowMs() - 40 * counters::kDayMs);
  EXPECT_EQ(Resp({"CTR.INCRBY", "user:1", "k", "1", "AT", old}),
            "ERR AT " + old + " is more than 35 days (max_backdate) in the past");
  const std::string ahead = std::to_string(counters::NowMs() + 3600 * 1000);
  EXPECT_EQ(Http("POST", "/v1/owners/user:1/counters/k/increment", "{\"at\": " + ahead + "}", 400),
            "invalid_time: at " + ahead + " is more than 5 minutes (max_future_skew) in the future");
  EXPECT_EQ(Cli({"CTR.GET", "user:1", "k"}), "(integer) 0");
}

TEST_F(HttpErrorCodesTest, NotIntegerNamesTheArgumentOnTallyCommandsAndKeepsRedisTextOnRedisOnes) {
  EXPECT_EQ(Resp({"CTR.INCRBY", "user:1", "k", "abc"}), "ERR delta 'abc' is not an integer");
  EXPECT_EQ(Resp({"CTR.OWNERS", "COUNT", "many"}), "ERR COUNT 'many' is not an integer");
  EXPECT_EQ(Resp({"INCRBY", "plain", "abc"}), "ERR value is not an integer or out of range");
  EXPECT_EQ(Resp({"SET", "plain", "v", "EX", "soon"}), "ERR value is not an integer or out of range");
  EXPECT_EQ(Http("GET", "/v1/owners?limit=many", "", 400),
            "not_integer: query parameter 'limit' must be an integer, got 'many'");
  EXPECT_EQ(Http("POST", "/v1/owners/user:1/counters/k/increment", R"({"by": 18446744073709551615})", 400),
            "not_integer: field 'by' is out of range for a signed 64-bit integer");
}

TEST_F(HttpErrorCodesTest, OverflowOnBothFrontEndsChangesNothing) {
  EXPECT_EQ(Cli({"CTR.INCRBY", "user:1", "k", "9223372036854775807"}), "(integer) 9223372036854775807");
  EXPECT_EQ(Resp({"CTR.INCRBY", "user:1", "k", "1"}), "ERR increment or decrement would overflow");
  EXPECT_EQ(Http("POST", "/v1/owners/user:1/counters/k/increment", R"({"by": 1})", 400),
            "overflow: increment or decrement would overflow");
  EXPECT_EQ(Cli({"CTR.GET", "user:1", "k"}), "(integer) 9223372036854775807");
  EXPECT_EQ(Cli({"SET", "plain", "9223372036854775807"}), "OK");
  EXPECT_EQ(Resp({"INCRBY", "plain", "1"}), "ERR increment or decrement would overflow");
}

TEST_F(HttpErrorCodesTest, OutOfRangeNamesCountOnRespAndLimitOnHttp) {
  EXPECT_EQ(Resp({"CTR.OWNERS", "COUNT", "0"}), "ERR COUNT must be between 1 and 10000");
  EXPECT_EQ(Http("GET", "/v1/owners?limit=0", "", 400), "out_of_range: limit must be between 1 and 10000");
  EXPECT_EQ(Resp({"CTR.TOP", "k", "day", "LIMIT", "10001"}), "ERR LIMIT must be between 1 and 10000");
  EXPECT_EQ(Http("GET", "/v1/top?key=k&limit=10001", "", 400), "out_of_range: limit must be between 1 and 10000");
  EXPECT_EQ(Resp({"SELECT", "1"}), "ERR DB index is out of range");
}

TEST_F(HttpErrorCodesTest, IdActorAndTimeZoneAreNamedByTheirHttpNames) {
  EXPECT_EQ(Resp({"CTR.INCRBY", "user:1", "k", "1", "ID", "a b"}),
            "ERR ID 'a b' is not a valid event id: use 1-128 printable characters, no spaces");
  EXPECT_EQ(Http("POST", "/v1/owners/user:1/counters/k/increment", R"({"id": "a b"})", 400),
            "invalid_id: id 'a b' is not a valid event id: use 1-128 printable characters, no spaces");
  const std::string long_actor(129, 'a');
  JsonReply actor = Call("PUT", "/v1/owners/user:1/counters/k", R"({"value": 1})", {{"X-Actor", long_actor}});
  EXPECT_EQ(ErrorCode(actor, 400), "invalid_actor");
  EXPECT_EQ(actor.body["error"]["message"], "X-Actor: invalid actor '" + long_actor.substr(0, 128) +
                                                "': use 1-128 printable ASCII characters (spaces allowed, not first "
                                                "or last)");
  EXPECT_EQ(Resp({"CTR.SET", "user:1", "k", "1", "BY", long_actor}),
            "ERR BY: invalid actor '" + long_actor.substr(0, 128) +
                "': use 1-128 printable ASCII characters (spaces allowed, not first or last)");
  EXPECT_EQ(Resp({"OWNER.TZ", "user:1", "Mars/Base"}),
            "ERR unknown timezone 'Mars/Base' (use an IANA name like Europe/Berlin)");
  EXPECT_EQ(Http("PUT", "/v1/owners/user:1/timezone", R"({"timezone": "Mars/Base"})", 400),
            "invalid_timezone: unknown timezone 'Mars/Base' (use an IANA name like Europe/Berlin)");
  RespClient c = Connect();
  EXPECT_EQ(c.Call({"CTR.OWNERS"}).ToString(), "[\"0\", []]") << "nothing was stored";
}

TEST_F(HttpErrorCodesTest, SyntaxErrorsSayWhatIsMissing) {
  EXPECT_EQ(Resp({"CTR.SUM", "user:1", "k", "day", "FROM", "2024-01-01"}), "ERR CTR.SUM needs both FROM and TO");
  EXPECT_EQ(Http("GET", "/v1/owners/user:1/counters/k/sum?interval=day&from=2024-01-01", "", 400),
            "missing_field: query parameter 'from' needs query parameter 'to'");
  // Plain Redis commands keep Redis's text.
  EXPECT_EQ(Resp({"SET", "k", "v", "NX", "XX"}), "ERR syntax error");
}

TEST_F(HttpErrorCodesTest, CommandDocsListEachCommandsErrorCodes) {
  RespClient c = Connect();
  RespValue docs = c.Call({"COMMAND", "DOCS", "ctr.incrby"});
  ASSERT_EQ(docs.elements.size(), 2u) << docs;
  const RespValue& fields = docs.elements[1];
  std::vector<std::string> errors;
  for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    if (fields.elements[i].str != "errors") continue;
    for (const RespValue& code : fields.elements[i + 1].elements) errors.push_back(code.str);
  }
  for (const char* code : {"invalid_name", "not_integer", "overflow", "invalid_time", "invalid_id", "syntax",
                           "wrong_arity", "storage_failed"}) {
    EXPECT_NE(std::find(errors.begin(), errors.end(), code), errors.end()) << code << " in " << docs;
  }
}

// The log cannot be written (the file size limit, RLIMIT_FSIZE, stops its
// growth as a full disk would): the write that fails gets 503
// storage_failed, writes stay refused while reads go on (fail closed), and
// after a restart every acknowledged increment is there.
TEST(HttpStorageFailedTest, AWriteTheLogCannotTakeIs503StorageFailed) {
  // No disk reserve: the file size limit would forbid the reserve file itself.
  TallydProcess daemon({"--disk-reserve-bytes", "0"});
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit limited = saved;
  limited.rlim_cur = 512 * 1024;  // inherited by tallyd: no file of it grows past 512 KiB
  struct sigaction ignore {
  }, saved_action{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &saved_action), 0);  // EFBIG instead of a signal
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  auto started = daemon.Start();
  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::sigaction(SIGXFSZ, &saved_action, nullptr);
  ASSERT_TRUE(started);

  auto client = HttpClient::Connect(daemon.http_port());
  ASSERT_TRUE(client.has_value());
  const std::string padding(100, 'p');  // ids of up to 128 bytes
  int acknowledged = 0;
  HttpReply failed;
  for (int i = 0; i < 20000; ++i) {
    HttpReply reply = client->Call("POST", "/v1/owners/user:1/counters/k/increment",
                                   "{\"id\": \"" + padding + std::to_string(i) + "\"}");
    if (reply.status != 200) {
      failed = reply;
      break;
    }
    ++acknowledged;
  }
  ASSERT_EQ(failed.status, 503) << "the log never filled up: " << acknowledged << " writes";
  json body = json::parse(failed.body, nullptr, false);
  EXPECT_EQ(body["error"]["code"], "storage_failed") << failed;
  EXPECT_TRUE(Contains(body["error"]["message"].get<std::string>(), "write-ahead log")) << failed;

  // Fail closed: writes stay refused, reads go on; restarted without the
  // limit, it has every acknowledged increment (the failed one may or may
  // not be there).
  auto again = HttpClient::Connect(daemon.http_port());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->Call("POST", "/v1/owners/user:1/counters/k/increment", "{}").status, 503);
  EXPECT_EQ(again->Call("GET", "/v1/owners/user:1/counters/k").status, 200);
  EXPECT_EQ(again->Call("GET", "/ready").status, 503);
  EXPECT_TRUE(daemon.Alive());
  daemon.Kill();
  ASSERT_TRUE(daemon.Start());
  RespClient c = *RespClient::ConnectTcp(daemon.port());
  RespValue total = c.Call({"CTR.GET", "user:1", "k"});
  EXPECT_GE(total.integer, acknowledged) << total;
  EXPECT_LE(total.integer, acknowledged + 1) << total;
}

}  // namespace
}  // namespace tally::itest::http
