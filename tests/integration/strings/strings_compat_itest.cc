// The string and keyspace commands of the plain keyspace (SETEX, PSETEX,
// SETNX, GETSET, GETDEL, GETEX, APPEND, STRLEN, UNLINK, TYPE, TIME, EXPIREAT,
// PEXPIREAT, EXPIRETIME, PEXPIRETIME, KEYS) against a real redis-server: each
// test sends the same commands to a fresh tallyd and a fresh redis-server and
// compares the raw RESP replies byte for byte (TIME, KEYS' order and relative
// TTLs aside), error cases included; and their changes survive kill -9.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "redis_server.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class StringsCompatTest : public RedisCompatTest {
 protected:
  // Sends `args` to both servers and returns both replies (tally's first).
  std::pair<RespValue, RespValue> Both(const std::vector<std::string>& args) {
    RespValue redis = redis_.client().Call(args);
    return {tally_.Call(args), std::move(redis)};
  }
};

TEST_F(StringsCompatTest, StringCommandsReplyAsRedis) {
  // SETNX, GETSET, APPEND, STRLEN, GETDEL.
  Same({"SETNX", "k", "v1"});
  Same({"SETNX", "k", "v2"});
  Same({"GET", "k"});
  Same({"GETSET", "k", "v3"});
  Same({"GETSET", "fresh", "x"});
  Same({"GET", "fresh"});
  Same({"APPEND", "k", "-tail"});
  Same({"APPEND", "new", "abc"});
  Same({"APPEND", "new", ""});
  Same({"GET", "k"});
  Same({"STRLEN", "k"});
  Same({"STRLEN", "missing"});
  Same({"SET", "n", "41"});
  Same({"APPEND", "n", "9"});
  Same({"INCR", "n"});
  Same({"GETDEL", "k"});
  Same({"GETDEL", "k"});
  Same({"EXISTS", "k"});
  // Binary values.
  Same({"SET", "bin", std::string("a\0b\r\n", 5)});
  Same({"APPEND", "bin", std::string("\0", 1)});
  Same({"STRLEN", "bin"});
  Same({"GETDEL", "bin"});
  // TYPE, UNLINK.
  Same({"TYPE", "n"});
  Same({"TYPE", "missing"});
  Same({"PFADD", "hll", "a", "b"});
  Same({"TYPE", "hll"});
  Same({"UNLINK", "n", "missing", "new", "hll"});
  Same({"UNLINK", "n"});
  Same({"EXISTS", "n", "new", "hll"});
  // GETSET drops the expiry; APPEND keeps it.
  Same({"SET", "t", "v", "EX", "100"});
  Same({"APPEND", "t", "w"});
  Same({"TTL", "t"});
  Same({"GETSET", "t", "z"});
  Same({"TTL", "t"});
  // SETNX does not touch an existing key's expiry.
  Same({"SET", "u", "v", "EX", "100"});
  Same({"SETNX", "u", "w"});
  Same({"TTL", "u"});
}

TEST_F(StringsCompatTest, ExpiryCommandsReplyAsRedis) {
  Same({"SETEX", "a", "100", "va"});
  Same({"TTL", "a"});
  Same({"GET", "a"});
  Same({"PSETEX", "b", "100000", "vb"});
  Same({"TTL", "b"});
  Same({"SETEX", "a", "200", "va2"});  // replaces value and expiry
  Same({"TTL", "a"});
  Same({"GET", "a"});

  // Absolute times: EXPIRETIME and PEXPIRETIME are exact on both servers.
  const int64_t at_s = NowMs() / 1000 + 1000;
  const std::string at = std::to_string(at_s);
  const std::string at_ms = std::to_string(at_s * 1000 + 123);
  Same({"SET", "c", "vc"});
  Same({"EXPIRETIME", "c"});
  Same({"PEXPIRETIME", "c"});
  Same({"EXPIRETIME", "missing"});
  Same({"PEXPIRETIME", "missing"});
  Same({"EXPIREAT", "c", at, "XX"});  // no expiry yet: 0
  Same({"EXPIREAT", "c", at, "NX"});
  Same({"EXPIRETIME", "c"});
  Same({"PEXPIRETIME", "c"});
  Same({"EXPIREAT", "c", std::to_string(at_s + 10), "LT"});  // later: 0
  Same({"EXPIREAT", "c", std::to_string(at_s + 10), "GT"});
  Same({"EXPIRETIME", "c"});
  Same({"PEXPIREAT", "c", at_ms});
  Same({"PEXPIRETIME", "c"});
  Same({"EXPIRETIME", "c"});  // rounds to the nearest second
  Same({"PEXPIREAT", "c", std::to_string(at_s * 1000 + 700)});
  Same({"EXPIRETIME", "c"});
  Same({"PEXPIREAT", "c", std::to_string(at_s * 1000 + 10), "GT"});  // earlier: 0
  Same({"PEXPIREAT", "c", std::to_string(at_s * 1000 + 10), "LT"});
  Same({"PEXPIRETIME", "c"});
  Same({"EXPIREAT", "missing", at});
  // A time in the past deletes the key and replies 1.
  Same({"EXPIREAT", "c", "1"});
  Same({"EXISTS", "c"});
  Same({"SET", "d", "vd"});
  Same({"PEXPIREAT", "d", std::to_string(NowMs() - 1000)});
  Same({"GET", "d"});
  Same({"SET", "e", "ve"});
  Same({"EXPIREAT", "e", "-5"});
  Same({"EXISTS", "e"});

  // GETEX.
  Same({"SET", "g", "vg"});
  Same({"GETEX", "g"});
  Same({"TTL", "g"});
  Same({"GETEX", "g", "EX", "100"});
  Same({"TTL", "g"});
  Same({"GETEX", "g", "PX", "200000"});
  Same({"TTL", "g"});
  Same({"GETEX", "g", "EXAT", at});
  Same({"EXPIRETIME", "g"});
  Same({"GETEX", "g", "PXAT", at_ms});
  Same({"PEXPIRETIME", "g"});
  Same({"GETEX", "g", "ex", "50", "EX", "60"});  // the same option twice: the last wins
  Same({"TTL", "g"});
  Same({"GETEX", "g", "PERSIST"});
  Same({"TTL", "g"});
  Same({"GETEX", "g", "persist", "PERSIST"});
  Same({"GETEX", "missing", "EX", "100"});
  Same({"GETEX", "missing", "PERSIST"});
  Same({"GETEX", "g", "EXAT", "1"});  // in the past: replies the value, deletes the key
  Same({"EXISTS", "g"});
  Same({"SET", "h", "vh"});
  Same({"GETEX", "h", "PXAT", std::to_string(NowMs() - 1)});
  Same({"EXISTS", "h"});
  // SET's options, parsed by the same code as GETEX's.
  Same({"SET", "s", "v", "EX", "10", "EX", "100"});
  Same({"TTL", "s"});
  Same({"SET", "s", "v", "NX", "NX"});
  Same({"SET", "s", "v", "XX", "KEEPTTL", "KEEPTTL", "GET"});
  Same({"TTL", "s"});
}

TEST_F(StringsCompatTest, ErrorsReplyAsRedis) {
  Same({"SET", "k", "v"});
  // Wrong arity.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"SETEX", "k", "10"},
           {"SETEX", "k", "10", "v", "x"},
           {"PSETEX", "k"},
           {"SETNX", "k"},
           {"SETNX", "k", "v", "x"},
           {"GETSET", "k"},
           {"GETDEL"},
           {"GETDEL", "k", "x"},
           {"GETEX"},
           {"APPEND", "k"},
           {"STRLEN"},
           {"STRLEN", "k", "x"},
           {"UNLINK"},
           {"TYPE"},
           {"TYPE", "k", "x"},
           {"TIME", "x"},
           {"EXPIREAT", "k"},
           {"PEXPIREAT", "k"},
           {"EXPIRETIME"},
           {"PEXPIRETIME", "k", "x"},
           {"KEYS"},
           {"KEYS", "*", "x"},
       }) {
    Same(args);
  }
  // Not an integer, invalid expire time.
  Same({"SETEX", "k", "ten", "v"});
  Same({"SETEX", "k", "0", "v"});
  Same({"SETEX", "k", "-1", "v"});
  Same({"SETEX", "k", "9223372036854775807", "v"});
  Same({"SETEX", "k", "99999999999999999999", "v"});
  Same({"PSETEX", "k", "1.5", "v"});
  Same({"PSETEX", "k", "0", "v"});
  Same({"PSETEX", "k", "9223372036854775807", "v"});
  Same({"GET", "k"});  // unchanged by the failed writes
  Same({"TTL", "k"});
  Same({"EXPIREAT", "k", "soon"});
  Same({"EXPIREAT", "k", "9223372036854775807"});
  Same({"EXPIREAT", "k", "-9223372036854775807"});
  Same({"PEXPIREAT", "k", "x1"});
  Same({"EXPIREAT", "k", "100", "FOO"});
  Same({"EXPIREAT", "k", "soon", "FOO"});  // the options are checked first
  Same({"EXPIREAT", "k", "100", "NX", "XX"});
  Same({"PEXPIREAT", "k", "100", "GT", "LT"});
  Same({"EXPIRE", "k", "soon", "BAR"});
  Same({"TTL", "k"});
  // GETEX: options first, then a missing key is nil, then the amount.
  Same({"GETEX", "k", "EX"});
  Same({"GETEX", "k", "FOO"});
  Same({"GETEX", "k", "KEEPTTL"});
  Same({"GETEX", "k", "NX"});
  Same({"GETEX", "k", "EX", "10", "PX", "10"});
  Same({"GETEX", "k", "EX", "10", "PERSIST"});
  Same({"GETEX", "k", "PERSIST", "EXAT", "10"});
  Same({"GETEX", "k", "EX", "ten"});
  Same({"GETEX", "k", "EX", "0"});
  Same({"GETEX", "k", "PXAT", "-3"});
  Same({"GETEX", "k", "EXAT", "9223372036854775807"});
  Same({"GETEX", "k", "PX", "9223372036854775807"});
  Same({"GETEX", "missing", "EX", "ten"});
  Same({"GETEX", "missing", "EX", "0"});
  Same({"GETEX", "missing", "FOO"});
  Same({"TTL", "k"});
  Same({"SET", "k", "v", "EX", "ten", "FOO"});  // syntax before the amount
  Same({"SET", "k", "v", "PERSIST"});
  Same({"SET", "k", "v", "EX", "10", "PX", "10"});
}

TEST_F(StringsCompatTest, KeysListsMatchingKeysAsRedis) {
  for (const char* key : {"user:1", "user:2", "user:10", "order:1", "u", "a*b", "a[b"}) Same({"SET", key, "v"});
  Same({"SET", "user:gone", "v", "PX", "1"});
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Same({"KEYS", "nomatch*"});
  Same({"KEYS", "order:1"});
  auto sorted = [](const RespValue& value) {
    std::vector<std::string> out;
    for (const RespValue& element : value.elements) out.push_back(element.raw);
    std::sort(out.begin(), out.end());
    return out;
  };
  for (const char* pattern : {"*", "user:*", "user:?", "*:1*", "a\\*b", "a\\[b", "[ou]*", "[^u]*", "user:[0-1]*"}) {
    auto [tally, redis] = Both({"KEYS", pattern});
    ASSERT_EQ(tally.type, RespValue::Type::kArray) << pattern << ": " << tally;
    ASSERT_EQ(redis.type, RespValue::Type::kArray) << pattern << ": " << redis;
    EXPECT_EQ(sorted(tally), sorted(redis)) << "KEYS " << pattern;
  }
}

TEST_F(StringsCompatTest, TimeRepliesSecondsAndMicroseconds) {
  auto [tally, redis] = Both({"TIME"});
  for (const RespValue* value : {&tally, &redis}) {
    ASSERT_EQ(value->type, RespValue::Type::kArray) << *value;
    ASSERT_EQ(value->elements.size(), 2u) << *value;
    for (const RespValue& part : value->elements) {
      ASSERT_EQ(part.type, RespValue::Type::kBulk) << *value;
      ASSERT_FALSE(part.str.empty());
      EXPECT_TRUE(std::all_of(part.str.begin(), part.str.end(), [](char c) { return c >= '0' && c <= '9'; })) << *value;
    }
  }
  const int64_t tally_s = std::stoll(tally.elements[0].str);
  EXPECT_LE(std::abs(tally_s - std::stoll(redis.elements[0].str)), 2);
  EXPECT_LE(std::abs(tally_s - NowMs() / 1000), 2);
  EXPECT_LT(std::stoll(tally.elements[1].str), 1'000'000);
}

// The changes of SETEX, APPEND, GETDEL, GETEX and EXPIREAT are logged: after
// kill -9 tallyd answers as the redis-server that never stopped.
TEST_F(StringsCompatTest, ChangesSurviveKill9) {
  const int64_t at_s = NowMs() / 1000 + 5000;
  const std::vector<std::vector<std::string>> writes = {
      {"SETEX", "session", "3000", "token"},
      {"PSETEX", "short", "1", "gone"},
      {"SET", "log", "a"},
      {"APPEND", "log", "bc"},
      {"APPEND", "fresh", "xyz"},
      {"SET", "temp", "t"},
      {"GETDEL", "temp"},
      {"SET", "dated", "d"},
      {"EXPIREAT", "dated", std::to_string(at_s)},
      {"SET", "pdated", "p"},
      {"PEXPIREAT", "pdated", std::to_string(at_s * 1000 + 321)},
      {"SET", "past", "p"},
      {"EXPIREAT", "past", "1"},
      {"SET", "ex", "e", "EX", "100"},
      {"GETEX", "ex", "PERSIST"},
      {"SET", "gx", "g"},
      {"GETEX", "gx", "EXAT", std::to_string(at_s)},
      {"SETNX", "nx", "first"},
      {"GETSET", "nx", "second"},
      {"SET", "un", "u"},
      {"UNLINK", "un"},
  };
  for (const auto& args : writes) Same(args);
  ASSERT_TRUE(daemon().KillAndRestart());
  tally_ = Connect();
  const std::vector<std::vector<std::string>> reads = {
      {"GET", "session"}, {"TTL", "session"}, {"EXISTS", "short"},     {"GET", "log"},
      {"GET", "fresh"},   {"EXISTS", "temp"}, {"EXPIRETIME", "dated"}, {"PEXPIRETIME", "pdated"},
      {"EXISTS", "past"}, {"TTL", "ex"},      {"GET", "ex"},           {"EXPIRETIME", "gx"},
      {"GET", "nx"},      {"EXISTS", "un"},   {"STRLEN", "log"},       {"TYPE", "session"},
      {"DBSIZE"},
  };
  for (const auto& args : reads) Same(args);
  auto [tally, redis] = Both({"KEYS", "*"});
  EXPECT_EQ(tally.elements.size(), redis.elements.size()) << tally << " vs " << redis;
}

}  // namespace
}  // namespace tally::itest
