// Every kind of bad input to the owner-counter commands (names, numbers,
// periods, options; docs/counters.md): each is answered with an error (exact text where the
// docs or the daemon fix it), the connection stays usable, and nothing is
// stored — no owner, key or cell appears or changes, before or after a
// restart.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "counters_util.h"
#include "tallyd_process.h"

namespace tally::itest::counters {
namespace {

const std::string kNameRule = ": use 1-128 printable ASCII characters other than space , \" ' ` < >";
const std::string kIntervalRule = " (expected total, hour, day, week, month, quarter or year)";
const std::string kOverflow = "ERR increment or decrement would overflow";
const std::string kMax = "9223372036854775807";
const std::string kMin = "-9223372036854775808";

std::string Arity(const std::string& command) { return "ERR wrong number of arguments for '" + command + "' command"; }
std::string BadPeriod(const std::string& label, const std::string& interval, const std::string& example) {
  return "ERR invalid period '" + label + "' for interval '" + interval + "' (expected e.g. '" + example +
         "' or 'current')";
}
// A bad period given for an option (FROM, TO): the error names the option.
std::string BadPeriodOf(const std::string& option, const std::string& label, const std::string& interval,
                        const std::string& example) {
  return "ERR " + option + ": " + BadPeriod(label, interval, example).substr(4);
}
// tally's commands name the argument that is not an integer (plain Redis
// commands keep Redis's "value is not an integer or out of range").
std::string NotInt(const std::string& argument, const std::string& value) {
  return "ERR " + argument + " '" + value + "' is not an integer";
}
std::string TooOld(const std::string& at) {
  return "ERR AT " + at + " is more than 35 days (max_backdate) in the past";
}
std::string TooNew(const std::string& at) {
  return "ERR AT " + at + " is more than 5 minutes (max_future_skew) in the future";
}
std::string BadId(const std::string& id) {
  return "ERR ID '" + id + "' is not a valid event id: use 1-128 printable characters, no spaces";
}
std::string Unexpected(const std::string& word, const std::string& command, const std::string& syntax) {
  return "ERR unexpected argument '" + word + "': " + command + " takes " + syntax;
}

struct BadCommand {
  std::vector<std::string> args;
  std::string error;         // exact error line (without '-'), or...
  std::string error_prefix;  // ...its beginning (when error is empty)
  std::string error_suffix;  // ...and its end
};

class CounterErrorsTest : public TallydTest {
 protected:
  // Sends every bad command on one connection: each must be refused with its
  // error, and PING must still answer on the same connection.
  void ExpectRefused(RespClient& c, const std::vector<BadCommand>& commands) {
    for (const BadCommand& bad : commands) {
      SCOPED_TRACE(::testing::PrintToString(bad.args));
      RespValue v = c.Call(bad.args);
      ASSERT_TRUE(v.ok()) << v << " — the connection broke";
      EXPECT_TRUE(v.is_error()) << "expected an error, got " << v;
      if (!bad.error.empty()) {
        EXPECT_EQ(v.str, bad.error);
      } else {
        EXPECT_EQ(v.str.substr(0, bad.error_prefix.size()), bad.error_prefix) << v.str;
        EXPECT_GE(v.str.size(), bad.error_suffix.size());
        if (v.str.size() >= bad.error_suffix.size()) {
          EXPECT_EQ(v.str.substr(v.str.size() - bad.error_suffix.size()), bad.error_suffix) << v.str;
        }
      }
      RespValue ping = c.Call({"PING"});
      ASSERT_EQ(ping.type, RespValue::Type::kSimple) << "PING after the error: " << ping;
      EXPECT_EQ(ping.str, "PONG");
    }
  }
};

TEST_F(CounterErrorsTest, BadInputIsRefusedAndStoresNothing) {
  AvoidHourBoundary(std::chrono::seconds(30));
  auto c = Connect();
  ASSERT_TRUE(c.connected());
  const int64_t now = NowMs();
  const std::string day2 = UtcLabel("day", NoonUtcDaysAgo(2));
  Model model;
  // A counter the bad commands aim at, and an owner in a DST zone.
  ASSERT_TRUE(IsInteger(c.Call({"CTR.INCRBY", "user:1", "downloads", "5"}), 5));
  ASSERT_TRUE(
      IsInteger(c.Call({"CTR.INCRBY", "user:1", "downloads", "2", "AT", std::to_string(NoonUtcDaysAgo(2))}), 7));
  model.Increment("user:1", "downloads", 5, now);
  model.Increment("user:1", "downloads", 2, NoonUtcDaysAgo(2));
  ASSERT_EQ(c.Call({"OWNER.TZ", "tz:berlin", "Europe/Berlin"}).str, "OK");

  const std::string long_name(129, 'a');
  const std::string long_quoted = "'" + std::string(128, 'a');
  const std::string too_old = std::to_string(NowMs() - 35 * kDayMs - kHourMs);
  const std::string too_new = std::to_string(NowMs() + 5 * 60 * 1000 + kHourMs);
  const std::string now_s = std::to_string(NowMs() / 1000);

  std::vector<BadCommand> commands = {
      // ---- owner and key names: bad characters, empty, 129 bytes -----------
      {{"CTR.INCRBY", "us er", "downloads", "1"}, "ERR invalid owner 'us er'" + kNameRule},
      {{"CTR.INCRBY", "user,1", "downloads", "1"}, "ERR invalid owner 'user,1'" + kNameRule},
      {{"CTR.INCRBY", "user:\xc3\xbc", "downloads", "1"}, "ERR invalid owner 'user:\xc3\xbc'" + kNameRule},
      {{"CTR.INCRBY", "", "downloads", "1"}, "ERR invalid owner ''" + kNameRule},
      {{"CTR.INCRBY", long_name, "downloads", "1"}, "", "ERR invalid owner " + long_quoted, kNameRule},
      // CR/LF in a name cannot break the reply's framing.
      {{"CTR.INCRBY", "user\r\n1", "downloads", "1"}, "ERR invalid owner 'user  1'" + kNameRule},
      {{"CTR.INCRBY", "user:1", "down loads", "1"}, "ERR invalid key 'down loads'" + kNameRule},
      {{"CTR.INCRBY", "user:1", "", "1"}, "ERR invalid key ''" + kNameRule},
      {{"CTR.INCRBY", "user:1", long_name, "1"}, "", "ERR invalid key " + long_quoted, kNameRule},
      {{"CTR.INCRBY", "user:1", "down\"loads", "1"}, "ERR invalid key 'down\"loads'" + kNameRule},
      {{"CTR.INCR", "<user1>", "downloads"}, "ERR invalid owner '<user1>'" + kNameRule},
      {{"CTR.DECRBY", "user:1", "dl`", "1"}, "ERR invalid key 'dl`'" + kNameRule},
      {{"CTR.GET", "user 1", "downloads"}, "ERR invalid owner 'user 1'" + kNameRule},
      {{"CTR.GET", "user:1", long_name}, "", "ERR invalid key " + long_quoted, kNameRule},
      {{"CTR.ALL", long_name}, "", "ERR invalid owner " + long_quoted, kNameRule},
      {{"CTR.MGET", "bad key", "day", "current", "user:1"}, "ERR invalid key 'bad key'" + kNameRule},
      {{"CTR.MGET", "downloads", "day", "current", "user:1", "bad owner"}, "ERR invalid owner 'bad owner'" + kNameRule},
      {{"CTR.SET", "user:1", "bad'key", "5"}, "ERR invalid key 'bad'key'" + kNameRule},
      {{"CTR.SET", long_name, "downloads", "5"}, "", "ERR invalid owner " + long_quoted, kNameRule},
      {{"CTR.RESET", "user:1", "bad key"}, "ERR invalid key 'bad key'" + kNameRule},
      {{"CTR.RECOUNT", "bad owner", "downloads", "day", "current", "1"}, "ERR invalid owner 'bad owner'" + kNameRule},
      {{"CTR.DEL", "user:1", "bad key"}, "ERR invalid key 'bad key'" + kNameRule},
      {{"CTR.HISTORY", "bad owner", "downloads", "day", "3"}, "ERR invalid owner 'bad owner'" + kNameRule},
      {{"CTR.SUM", "user:1", "bad key", "day"}, "ERR invalid key 'bad key'" + kNameRule},
      {{"CTR.TOP", "bad key", "day"}, "ERR invalid key 'bad key'" + kNameRule},
      {{"OWNER.TZ", "bad owner", "UTC"}, "ERR invalid owner 'bad owner'" + kNameRule},
      {{"OWNER.TZ", long_name}, "", "ERR invalid owner " + long_quoted, kNameRule},

      // ---- unknown interval ---------------------------------------------------
      {{"CTR.GET", "user:1", "downloads", "fortnight"}, "ERR unknown interval 'fortnight'" + kIntervalRule},
      {{"CTR.GET", "user:1", "downloads", "days", "current"}, "ERR unknown interval 'days'" + kIntervalRule},
      {{"CTR.ALL", "user:1", "minute"}, "ERR unknown interval 'minute'" + kIntervalRule},
      {{"CTR.MGET", "downloads", "fortnight", "current", "user:1"}, "ERR unknown interval 'fortnight'" + kIntervalRule},
      {{"CTR.SET", "nobody:1", "downloads", "5", "fortnight"}, "ERR unknown interval 'fortnight'" + kIntervalRule},
      {{"CTR.RESET", "user:1", "downloads", "fortnight"}, "ERR unknown interval 'fortnight'" + kIntervalRule},
      {{"CTR.RECOUNT", "nobody:1", "downloads", "fortnight", "2024", "1"},
       "ERR unknown interval 'fortnight'" + kIntervalRule},
      {{"CTR.DEL", "user:1", "downloads", "fortnight"}, "ERR unknown interval 'fortnight'" + kIntervalRule},
      {{"CTR.HISTORY", "user:1", "downloads", "fortnight", "3"}, "ERR unknown interval 'fortnight'" + kIntervalRule},
      {{"CTR.SUM", "user:1", "downloads", "fortnight"}, "ERR unknown interval 'fortnight'" + kIntervalRule},
      {{"CTR.TOP", "downloads", "fortnight"}, "ERR unknown interval 'fortnight'" + kIntervalRule},

      // ---- period labels that do not name a period of their interval ----------
      {{"CTR.GET", "user:1", "downloads", "month", "2024-W49"}, BadPeriod("2024-W49", "month", "2024-12")},
      {{"CTR.GET", "user:1", "downloads", "day", "2023-02-29"}, BadPeriod("2023-02-29", "day", "2024-12-04")},
      {{"CTR.GET", "user:1", "downloads", "month", "2024-13"}, BadPeriod("2024-13", "month", "2024-12")},
      {{"CTR.GET", "user:1", "downloads", "year", "2024-W49"}, BadPeriod("2024-W49", "year", "2024")},
      {{"CTR.GET", "user:1", "downloads", "quarter", "2024-W49"}, BadPeriod("2024-W49", "quarter", "2024-Q4")},
      {{"CTR.GET", "user:1", "downloads", "quarter", "2024-Q5"}, BadPeriod("2024-Q5", "quarter", "2024-Q4")},
      {{"CTR.GET", "user:1", "downloads", "week", "2021-W53"}, BadPeriod("2021-W53", "week", "2024-W49")},
      {{"CTR.GET", "user:1", "downloads", "week", "2024-12"}, BadPeriod("2024-12", "week", "2024-W49")},
      {{"CTR.GET", "user:1", "downloads", "day", "2024-12"}, BadPeriod("2024-12", "day", "2024-12-04")},
      {{"CTR.GET", "user:1", "downloads", "day", "yesterday"}, BadPeriod("yesterday", "day", "2024-12-04")},
      {{"CTR.GET", "user:1", "downloads", "day", "2024-12-32"}, BadPeriod("2024-12-32", "day", "2024-12-04")},
      {{"CTR.GET", "user:1", "downloads", "hour", "2024-12-04"}, BadPeriod("2024-12-04", "hour", "2024-12-04T10")},
      {{"CTR.GET", "user:1", "downloads", "hour", "2024-12-04T24"},
       BadPeriod("2024-12-04T24", "hour", "2024-12-04T10")},
      {{"CTR.GET", "user:1", "downloads", "total", "2024"},
       "ERR period for interval 'total' must be 'total', got '2024'"},
      // An hour a daylight-saving change skips, in the owner's zone.
      {{"CTR.GET", "tz:berlin", "downloads", "hour", "2024-03-31T02"},
       "ERR hour '2024-03-31T02' does not exist in Europe/Berlin (skipped by a daylight-saving change)"},
      {{"CTR.SET", "tz:berlin", "downloads", "5", "hour", "2024-03-31T02"},
       "ERR hour '2024-03-31T02' does not exist in Europe/Berlin (skipped by a daylight-saving change)"},
      {{"CTR.ALL", "user:1", "month", "2024-W49"}, BadPeriod("2024-W49", "month", "2024-12")},
      {{"CTR.MGET", "downloads", "day", "2023-02-29", "user:1"}, BadPeriod("2023-02-29", "day", "2024-12-04")},
      {{"CTR.SET", "user:1", "downloads", "99", "month", "2024-W49"}, BadPeriod("2024-W49", "month", "2024-12")},
      {{"CTR.SET", "nobody:1", "downloads", "99", "day", "2023-02-29"}, BadPeriod("2023-02-29", "day", "2024-12-04")},
      {{"CTR.RESET", "user:1", "downloads", "day", "2023-02-29"}, BadPeriod("2023-02-29", "day", "2024-12-04")},
      // A recount with one bad period applies none of its cells.
      {{"CTR.RECOUNT", "user:1", "downloads", "day", day2, "50", "2023-02-29", "60"},
       BadPeriod("2023-02-29", "day", "2024-12-04")},
      {{"CTR.RECOUNT", "user:1", "downloads", "month", "2024-10", "50", "2024-W49", "60"},
       BadPeriod("2024-W49", "month", "2024-12")},
      {{"CTR.RECOUNT", "user:1", "downloads", "day", day2, "50", "current", "x"}, NotInt("value", "x")},
      {{"CTR.HISTORY", "user:1", "downloads", "day", "3", "FROM", "2023-02-29"},
       BadPeriodOf("FROM", "2023-02-29", "day", "2024-12-04")},
      {{"CTR.HISTORY", "user:1", "downloads", "month", "3", "FROM", "2024-W49"},
       BadPeriodOf("FROM", "2024-W49", "month", "2024-12")},
      {{"CTR.SUM", "user:1", "downloads", "day", "FROM", "2024-12-01", "TO", "2023-02-29"},
       BadPeriodOf("TO", "2023-02-29", "day", "2024-12-04")},
      {{"CTR.SUM", "user:1", "downloads", "month", "FROM", "2024-W49", "TO", "2024-12"},
       BadPeriodOf("FROM", "2024-W49", "month", "2024-12")},
      {{"CTR.SUM", "user:1", "downloads", "day", "FROM", "2024-12-05", "TO", "2024-12-04"},
       "ERR FROM 2024-12-05 is after TO 2024-12-04"},
      {{"CTR.TOP", "downloads", "month", "2024-W49"}, BadPeriod("2024-W49", "month", "2024-12")},

      // ---- AT beyond max_backdate / max_future_skew, in seconds, or not a number ----
      {{"CTR.INCRBY", "user:1", "downloads", "1", "AT", too_old}, TooOld(too_old)},
      {{"CTR.INCRBY", "nobody:1", "downloads", "1", "AT", too_new}, TooNew(too_new)},
      {{"CTR.INCR", "user:1", "downloads", "AT", too_new}, TooNew(too_new)},
      {{"CTR.DECRBY", "user:1", "downloads", "1", "AT", "0"}, TooOld("0")},
      // Seconds (PHP's time()) instead of milliseconds: said so, with the fix.
      {{"CTR.INCRBY", "user:1", "downloads", "1", "AT", now_s},
       "ERR AT " + now_s + " looks like seconds: AT is in milliseconds since the epoch (did you mean " + now_s +
           "000?)"},
      {{"CTR.INCR", "nobody:1", "downloads", "AT", "1796395548"},
       "ERR AT 1796395548 looks like seconds: AT is in milliseconds since the epoch (did you mean 1796395548000?)"},
      {{"CTR.INCRBY", "user:1", "downloads", "1", "AT", "yesterday"}, NotInt("AT", "yesterday")},
      {{"CTR.INCRBY", "user:1", "downloads", "1", "AT", "1.5e12"}, NotInt("AT", "1.5e12")},
      {{"CTR.INCRBY", "user:1", "downloads", "1", "AT"}, "ERR AT needs a value: AT unix-ms"},
      {{"CTR.INCRBY", "user:1", "downloads", "1", "ID", "ok-id", "AT", too_old}, TooOld(too_old)},

      // ---- bad event ids ---------------------------------------------------------
      {{"CTR.INCRBY", "user:1", "downloads", "1", "ID", "a b"}, BadId("a b")},
      {{"CTR.INCRBY", "user:1", "downloads", "1", "ID", ""}, BadId("")},
      {{"CTR.INCRBY", "nobody:1", "downloads", "1", "ID", std::string(129, 'x')},
       "",
       "ERR ID '" + std::string(128, 'x') + "'",
       " is not a valid event id: use 1-128 printable characters, no spaces"},
      {{"CTR.INCRBY", "user:1", "downloads", "1", "ID", "caf\xc3\xa9"}, BadId("caf\xc3\xa9")},
      {{"CTR.INCRBY", "user:1", "downloads", "1", "ID", "tab\there"}, BadId("tab\there")},
      {{"CTR.INCR", "user:1", "downloads", "ID", "a b"}, BadId("a b")},
      // Options: each missing value, unknown word or extra argument is named.
      {{"CTR.INCRBY", "user:1", "downloads", "1", "ID"}, "ERR ID needs a value: ID event-id"},
      {{"CTR.INCRBY", "user:1", "downloads", "1", "WHEN", "5"}, "ERR unknown option 'WHEN' (expected AT or ID)"},
      {{"CTR.INCR", "user:1", "downloads", "5"}, "ERR unknown option '5' (expected AT or ID)"},

      // ---- wrong arity ----------------------------------------------------------
      {{"CTR.INCRBY", "user:1", "downloads"}, Arity("ctr.incrby")},
      {{"ctr.incrby", "user:1"}, Arity("ctr.incrby")},
      {{"CTR.INCR", "user:1"}, Arity("ctr.incr")},
      {{"CTR.DECRBY", "user:1", "downloads"}, Arity("ctr.decrby")},
      {{"CTR.GET", "user:1"}, Arity("ctr.get")},
      {{"CTR.ALL"}, Arity("ctr.all")},
      {{"CTR.MGET", "downloads", "day", "current"}, Arity("ctr.mget")},
      {{"CTR.SET", "user:1", "downloads"}, Arity("ctr.set")},
      {{"CTR.RESET", "user:1"}, Arity("ctr.reset")},
      {{"CTR.RECOUNT", "user:1", "downloads", "month", "2024-10"}, Arity("ctr.recount")},
      {{"CTR.RECOUNT", "user:1", "downloads", "month", "2024-10", "1", "2024-11"}, Arity("ctr.recount")},
      {{"CTR.DEL", "user:1"}, Arity("ctr.del")},
      {{"CTR.HISTORY", "user:1", "downloads", "day"}, Arity("ctr.history")},
      {{"CTR.SUM", "user:1", "downloads"}, Arity("ctr.sum")},
      {{"CTR.TOP", "downloads"}, Arity("ctr.top")},
      {{"OWNER.TZ"}, Arity("owner.tz")},
      // Too many arguments, options without their value, unknown options: each said.
      {{"CTR.GET", "user:1", "downloads", "day", "current", "extra"},
       Unexpected("extra", "CTR.GET", "owner key [interval [period]]")},
      {{"CTR.ALL", "user:1", "day", "current", "extra"}, Unexpected("extra", "CTR.ALL", "owner [interval [period]]")},
      {{"CTR.SET", "user:1", "downloads", "1", "day", "current", "extra"},
       Unexpected("extra", "CTR.SET", "owner key value [interval [period]] [BY actor]")},
      {{"CTR.RESET", "user:1", "downloads", "day", "current", "extra"},
       Unexpected("extra", "CTR.RESET", "owner key [interval [period]] [BY actor]")},
      {{"CTR.HISTORY", "user:1", "downloads", "day", "3", "FROM"}, "ERR FROM needs a value: FROM period"},
      {{"CTR.HISTORY", "user:1", "downloads", "day", "3", "TO", "current"},
       "ERR unknown option 'TO' (expected FROM or WITHSTART)"},
      {{"CTR.HISTORY", "user:1", "downloads", "day", "3", "FROM", "current", "x"},
       "ERR unknown option 'x' (expected FROM or WITHSTART)"},
      {{"CTR.HISTORY", "user:1", "downloads", "day", "3", "FROM", "current", "FROM", "current"},
       Unexpected("FROM", "CTR.HISTORY", "owner key interval count [FROM period] [WITHSTART]")},
      {{"CTR.SUM", "user:1", "downloads", "day", "FROM", "current"}, "ERR CTR.SUM needs both FROM and TO"},
      {{"CTR.SUM", "user:1", "downloads", "day", "TO", "current"}, "ERR CTR.SUM needs both FROM and TO"},
      {{"CTR.SUM", "user:1", "downloads", "day", "FROM"}, "ERR FROM needs a value: FROM period"},
      {{"CTR.SUM", "user:1", "downloads", "day", "FROM", "current", "UNTIL", "current"},
       "ERR unknown option 'UNTIL' (expected FROM or TO)"},
      {{"CTR.SUM", "user:1", "downloads", "day", "FROM", "current", "FROM", "current"},
       Unexpected("FROM", "CTR.SUM", "owner key interval [FROM period TO period]")},
      {{"CTR.TOP", "downloads", "day", "current", "LIMIT"}, "ERR LIMIT needs a value: LIMIT n"},
      {{"CTR.TOP", "downloads", "day", "current", "LIMIT", "5", "BOGUS", "1"},
       "ERR unknown option 'BOGUS' (expected FROM, TO, OFFSET, LIMIT or PREFIX)"},
      {{"CTR.OWNERS", "COUNT"}, "ERR COUNT needs a value: COUNT n"},
      {{"CTR.OWNERS", "BOGUS", "1"}, "ERR unknown option 'BOGUS' (expected PREFIX, CURSOR or COUNT)"},
      {{"CTR.CELLS", "INTERVAL", "fortnight"}, "ERR unknown INTERVAL 'fortnight'" + kIntervalRule},
      {{"CTR.CELLS", "PERIOD", "2024"}, "ERR PERIOD needs INTERVAL"},
      {{"CTR.CELLS", "COUNT", "0"}, "ERR COUNT must be between 1 and 10000"},
      {{"CTR.CELLS", "TYPE", "a b"}, "ERR invalid TYPE 'a b'" + kNameRule},

      // ---- non-integers and out-of-range numbers: the argument is named ----------
      {{"CTR.INCRBY", "user:1", "downloads", "1.5"}, NotInt("delta", "1.5")},
      {{"CTR.INCRBY", "user:1", "downloads", "abc"}, NotInt("delta", "abc")},
      {{"CTR.INCRBY", "user:1", "downloads", ""}, NotInt("delta", "")},
      {{"CTR.INCRBY", "user:1", "downloads", " 1"}, NotInt("delta", " 1")},
      {{"CTR.INCRBY", "user:1", "downloads", "1 "}, NotInt("delta", "1 ")},
      {{"CTR.INCRBY", "user:1", "downloads", "+1"}, NotInt("delta", "+1")},
      {{"CTR.INCRBY", "nobody:1", "downloads", "9223372036854775808"},
       "ERR delta '9223372036854775808' is out of range for a signed 64-bit integer"},
      {{"CTR.DECRBY", "user:1", "downloads", "0x10"}, NotInt("delta", "0x10")},
      {{"CTR.SET", "user:1", "downloads", "ten"}, NotInt("value", "ten")},
      {{"CTR.SET", "nobody:1", "downloads", "1e3", "day"}, NotInt("value", "1e3")},
      {{"CTR.RECOUNT", "user:1", "downloads", "month", "2024-10", "5.0"}, NotInt("value", "5.0")},
      {{"CTR.HISTORY", "user:1", "downloads", "day", "three"}, NotInt("count", "three")},
      {{"CTR.HISTORY", "user:1", "downloads", "day", "0"}, "ERR count must be between 1 and 10000"},
      {{"CTR.HISTORY", "user:1", "downloads", "day", "10001"}, "ERR count must be between 1 and 10000"},
      {{"CTR.HISTORY", "user:1", "downloads", "total", "3"},
       "ERR interval 'total' has no periods to list (use hour, day, week, month, quarter or year)"},
      {{"CTR.TOP", "downloads", "day", "LIMIT", "ten"}, NotInt("LIMIT", "ten")},
      {{"CTR.TOP", "downloads", "day", "LIMIT", "0"}, "ERR LIMIT must be between 1 and 10000"},
      {{"CTR.OWNERS", "COUNT", "many"}, NotInt("COUNT", "many")},
      {{"CTR.OWNERS", "COUNT", "0"}, "ERR COUNT must be between 1 and 10000"},
      {{"CTR.CELLS", "COUNT", "x"}, NotInt("COUNT", "x")},

      // ---- time zones ---------------------------------------------------------
      {{"OWNER.TZ", "user:1", "Mars/Olympus_Mons"},
       "ERR unknown timezone 'Mars/Olympus_Mons' (use an IANA name like Europe/Berlin)"},
      {{"OWNER.TZ", "nobody:1", "CEST"}, "ERR unknown timezone 'CEST' (use an IANA name like Europe/Berlin)"},
  };
  ExpectRefused(c, commands);
  if (HasFatalFailure()) return;

  // Through redis-cli, as users see it.
  EXPECT_EQ(Cli({"CTR.INCRBY", "user:1", "down,loads", "1"}), "(error) ERR invalid key 'down,loads'" + kNameRule);
  EXPECT_EQ(Cli({"CTR.GET", "user:1", "downloads", "month", "2024-W49"}),
            "(error) " + BadPeriod("2024-W49", "month", "2024-12"));
  EXPECT_EQ(Cli({"CTR.INCRBY", "user:1", "downloads", "x"}), "(error) ERR delta 'x' is not an integer");
  EXPECT_EQ(Cli({"CTR.SUM", "user:1", "downloads", "day", "FROM", "2024-12-01"}),
            "(error) ERR CTR.SUM needs both FROM and TO");
  EXPECT_EQ(Cli({"CTR.INCRBY", "user:1"}), "(error) " + Arity("ctr.incrby"));

  // Nothing was stored: the counter, its owner list and its keys are as before.
  auto check = [&](const std::string& when) {
    SCOPED_TRACE(when);
    ExpectModel(c, model, "user:1", "downloads");
    EXPECT_TRUE(IsInteger(c.Call({"CTR.GET", "user:1", "downloads", "month", "2024-10"}), 0));
    EXPECT_TRUE(IsInteger(c.Call({"CTR.GET", "user:1", "downloads", "year", "2023"}), 0));
    RespValue all = c.Call({"CTR.ALL", "user:1"});
    EXPECT_EQ(all.ToString(), "[\"downloads\", (integer) 7]");
    RespValue owners = c.Call({"CTR.OWNERS"});
    // tz:berlin has a time zone but no counter: it keeps the zone, unlisted.
    EXPECT_EQ(owners.ToString(), "[\"0\", [\"user:1\"]]");
    EXPECT_EQ(c.Call({"OWNER.TZ", "user:1"}).str, "UTC");
    EXPECT_EQ(c.Call({"OWNER.TZ", "tz:berlin"}).str, "Europe/Berlin");
    EXPECT_TRUE(IsInteger(c.Call({"DBSIZE"}), 0));
  };
  check("right away");
  ASSERT_TRUE(daemon().KillAndRestart());
  c = Connect();
  check("after kill -9");
  // The id given with a refused increment was not consumed.
  EXPECT_TRUE(IsInteger(c.Call({"CTR.INCRBY", "user:1", "downloads", "1", "ID", "ok-id"}), 8));
}

// Arguments beyond a command's syntax are refused, never ignored: above all,
// CTR.DEL with a stray argument after the interval must not delete more.
TEST_F(CounterErrorsTest, ExtraArgumentsAreRefusedNotIgnored) {
  AvoidHourBoundary(std::chrono::seconds(30));
  auto c = Connect();
  ASSERT_TRUE(c.connected());
  Model model;
  ASSERT_TRUE(IsInteger(c.Call({"CTR.INCRBY", "user:1", "downloads", "5"}), 5));
  model.Increment("user:1", "downloads", 5, NowMs());
  ExpectRefused(
      c, {
             {{"CTR.DEL", "user:1", "downloads", "day", "extra"},
              Unexpected("extra", "CTR.DEL", "owner key [interval] [BY actor]")},
             {{"CTR.DEL", "user:1", "downloads", "day", "2024-12-04"},
              Unexpected("2024-12-04", "CTR.DEL", "owner key [interval] [BY actor]")},
             {{"OWNER.TZ", "user:1", "Europe/Berlin", "extra"}, Unexpected("extra", "OWNER.TZ", "owner [timezone]")},
         });
  ExpectModel(c, model, "user:1", "downloads");
  EXPECT_EQ(c.Call({"OWNER.TZ", "user:1"}).str, "UTC");
}

// Overflow anywhere (the total or any cell) is refused with "ERR increment or
// decrement would overflow" (Redis's own text) and changes nothing — not the total, not a cell, not the id.
TEST_F(CounterErrorsTest, OverflowIsRefusedAndChangesNothing) {
  AvoidHourBoundary(std::chrono::seconds(30));
  auto c = Connect();
  ASSERT_TRUE(c.connected());
  const std::string day2 = UtcLabel("day", NoonUtcDaysAgo(2));
  const std::string at2 = std::to_string(NoonUtcDaysAgo(2));
  Model model;
  const std::string today = UtcLabel("day", NowMs()), year = UtcLabel("year", NowMs());
  auto seed = [&](const std::string& owner, const std::string& interval, const std::string& label,
                  const std::string& value) {
    ASSERT_TRUE(IsInteger(c.Call({"CTR.INCRBY", owner, "k", "5"}), 5));
    model.Increment(owner, "k", 5, NowMs());
    ASSERT_EQ(c.Call({"CTR.SET", owner, "k", value, interval, label}).str, "OK");
    model.Set(owner, "k", interval, label, std::stoll(value));
  };
  // The total at the maximum.
  seed("ovf:1", "total", "total", kMax);
  // Only today's day cell at the maximum (the total is 5).
  seed("ovf:2", "day", today, kMax);
  // The total near the minimum.
  seed("ovf:3", "total", "total", "-9223372036854775807");
  // A past cell at the maximum; the late event would overflow only there.
  seed("ovf:4", "day", day2, kMax);
  // The year cell at the minimum.
  seed("ovf:5", "year", year, kMin);

  std::vector<BadCommand> commands = {
      {{"CTR.INCRBY", "ovf:1", "k", "1"}, kOverflow},
      {{"CTR.INCR", "ovf:1", "k"}, kOverflow},
      {{"CTR.INCRBY", "ovf:1", "k", kMax}, kOverflow},
      {{"CTR.INCRBY", "ovf:1", "k", "1", "ID", "ovf-id"}, kOverflow},
      {{"CTR.INCRBY", "ovf:2", "k", "1"}, kOverflow},
      {{"CTR.INCRBY", "ovf:2", "k", "1", "ID", "ovf-id"}, kOverflow},
      {{"CTR.DECRBY", "ovf:3", "k", "7"}, kOverflow},
      {{"CTR.INCRBY", "ovf:3", "k", kMin}, kOverflow},
      {{"CTR.INCRBY", "ovf:4", "k", "1", "AT", at2}, kOverflow},
      {{"CTR.INCR", "ovf:4", "k", "AT", at2, "ID", "ovf-id"}, kOverflow},
      {{"CTR.DECRBY", "ovf:5", "k", "1"}, kOverflow},
      // Two day cells at the maximum cannot be summed.
      {{"CTR.SUM", "ovf:4", "k", "day"}, "", "ERR ", ""},
  };
  // ovf:4 has 5 today and the maximum two days ago: add a third maximum today
  // for the SUM case.
  ASSERT_EQ(c.Call({"CTR.SET", "ovf:4", "k", kMax, "day", "2023-01-01"}).str, "OK");
  model.Set("ovf:4", "k", "day", "2023-01-01", INT64_MAX);
  ExpectRefused(c, commands);
  if (HasFatalFailure()) return;
  // Negating the most negative delta overflows as well (Redis says
  // "decrement would overflow" here; either text is an overflow error).
  RespValue neg = c.Call({"CTR.DECRBY", "ovf:6", "k", kMin});
  EXPECT_TRUE(neg.is_error()) << neg;
  EXPECT_TRUE(neg.str == kOverflow || neg.str == "ERR decrement would overflow") << neg;
  EXPECT_EQ(Cli({"CTR.INCRBY", "ovf:1", "k", "1"}), "(error) " + kOverflow);

  auto check = [&](const std::string& when) {
    SCOPED_TRACE(when);
    for (const char* owner : {"ovf:1", "ovf:2", "ovf:3", "ovf:4", "ovf:5"}) ExpectModel(c, model, owner, "k");
    RespValue owners = c.Call({"CTR.OWNERS"});
    EXPECT_EQ(owners.ToString(), "[\"0\", [\"ovf:1\", \"ovf:2\", \"ovf:3\", \"ovf:4\", \"ovf:5\"]]");
  };
  check("right away");
  // The ids of refused increments were not recorded: they apply once possible.
  ASSERT_EQ(c.Call({"CTR.SET", "ovf:2", "k", "0", "day", "current"}).str, "OK");
  EXPECT_TRUE(IsInteger(c.Call({"CTR.INCRBY", "ovf:2", "k", "1", "ID", "ovf-id"}), 6));
  EXPECT_TRUE(IsInteger(c.Call({"CTR.INCRBY", "ovf:2", "k", "1", "ID", "ovf-id"}), 6));
  EXPECT_TRUE(IsInteger(c.Call({"CTR.GET", "ovf:2", "k", "day"}), 1));
  model.Set("ovf:2", "k", "day", today, 0);
  model.Increment("ovf:2", "k", 1, NowMs());
  // An increment that fits still works next to the limit.
  EXPECT_TRUE(IsInteger(c.Call({"CTR.INCRBY", "ovf:1", "k", "-1"}), INT64_MAX - 1));
  EXPECT_TRUE(IsInteger(c.Call({"CTR.INCRBY", "ovf:1", "k", "1"}), INT64_MAX));
  model.Increment("ovf:1", "k", 0, NowMs());
  ASSERT_TRUE(daemon().KillAndRestart());
  c = Connect();
  check("after kill -9");
  ASSERT_TRUE(daemon().Restart());
  c = Connect();
  check("after a clean restart");
}

}  // namespace
}  // namespace tally::itest::counters
