// Hashes (HSET ... HSCAN), sorted sets (ZADD ... ZSCAN), INCRBYFLOAT,
// HINCRBYFLOAT and FLUSHDB against a real redis-server: each test sends the
// same commands to a fresh tallyd and a fresh redis-server and compares the
// raw RESP replies byte for byte (the order of HGETALL/HKEYS/HVALS and of
// HSCAN/ZSCAN pages aside: those are compared as sets), error cases
// included; and the state survives kill -9 and a compaction + restart.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "redis_server.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

using Command = std::vector<std::string>;

std::string Describe(const Command& args) {
  std::string out;
  for (const std::string& arg : args) out += (out.empty() ? "" : " ") + arg;
  return out;
}

// The elements of an array reply taken `width` at a time (a field and its
// value), sorted: replies whose order is unspecified compare as sets.
std::vector<std::string> Groups(const RespValue& value, size_t width) {
  std::vector<std::string> out;
  for (size_t i = 0; i + width <= value.elements.size(); i += width) {
    std::string group;
    for (size_t j = 0; j < width; ++j) group += value.elements[i + j].raw;
    out.push_back(group);
  }
  std::sort(out.begin(), out.end());
  return out;
}

class HashesZsetsTest : public TallydTest {
 protected:
  void SetUp() override {
    TallydTest::SetUp();
    ASSERT_TRUE(redis_.Start());
    tally_ = Connect();
  }

  // Sends `args` to both servers and expects the same raw reply; returns it.
  std::string Same(const Command& args) {
    const std::string expected = redis_.client().CallRaw(args);
    const std::string got = tally_.CallRaw(args);
    EXPECT_EQ(got, expected) << "command: " << Describe(args);
    return got;
  }
  void SameAll(const std::vector<Command>& commands) {
    for (const Command& args : commands) Same(args);
  }
  // Sends `args` to both; the replies must be arrays with the same groups of
  // `width` elements in any order (HGETALL: width 2).
  void SameUnordered(const Command& args, size_t width) {
    RespValue redis = redis_.client().Call(args);
    RespValue tally = tally_.Call(args);
    ASSERT_EQ(tally.type, redis.type) << Describe(args) << ": " << tally << " vs " << redis;
    EXPECT_EQ(Groups(tally, width), Groups(redis, width)) << Describe(args) << ": " << tally << " vs " << redis;
  }
  // A whole HSCAN/ZSCAN iteration on one server: every (name, value) pair.
  static std::multiset<std::string> FullScan(RespClient& client, const Command& prefix, const Command& options) {
    std::multiset<std::string> seen;
    std::string cursor = "0";
    for (int calls = 0; calls < 10000; ++calls) {
      Command args = prefix;
      args.push_back(cursor);
      args.insert(args.end(), options.begin(), options.end());
      RespValue page = client.Call(args);
      EXPECT_EQ(page.type, RespValue::Type::kArray) << Describe(args) << ": " << page;
      if (page.type != RespValue::Type::kArray || page.elements.size() != 2) return seen;
      for (size_t i = 0; i + 1 < page.elements[1].elements.size(); i += 2) {
        seen.insert(page.elements[1].elements[i].str + "=" + page.elements[1].elements[i + 1].str);
      }
      cursor = page.elements[0].str;
      if (cursor == "0") return seen;
    }
    ADD_FAILURE() << "the scan did not end: " << Describe(prefix);
    return seen;
  }
  // Waits until the daemon has folded its whole log into the compacted state.
  void WaitCompacted() {
    for (int i = 0; i < 300; ++i) {
      if (Contains(tally_.Call({"INFO", "persistence"}).str, "log_entries_uncompacted:0\r\n")) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "no compaction folded the log";
  }

  RedisServer redis_;
  RespClient tally_;
};

TEST_F(HashesZsetsTest, HashCommandsReplyAsRedis) {
  SameAll({
      {"HSET", "h", "a", "1"},
      {"HSET", "h", "a", "2", "b", "x", "c", ""},
      {"HGET", "h", "a"},
      {"HGET", "h", "c"},
      {"HGET", "h", "missing"},
      {"HGET", "nokey", "a"},
      {"HMSET", "h", "d", "4", "e", "5"},
      {"HMGET", "h", "a", "missing", "d"},
      {"HMGET", "nokey", "a", "b"},
      {"HSETNX", "h", "a", "9"},
      {"HSETNX", "h", "f", "6"},
      {"HSETNX", "fresh", "f", "6"},
      {"HLEN", "h"},
      {"HLEN", "nokey"},
      {"HEXISTS", "h", "a"},
      {"HEXISTS", "h", "zz"},
      {"HEXISTS", "nokey", "a"},
      {"HSTRLEN", "h", "b"},
      {"HSTRLEN", "h", "zz"},
      {"HSTRLEN", "nokey", "zz"},
      {"HDEL", "h", "a", "a", "missing"},
      {"HDEL", "nokey", "a"},
      {"HINCRBY", "h", "n", "5"},
      {"HINCRBY", "h", "n", "-7"},
      {"HINCRBY", "h", "d", "9223372036854775803"},
      {"HINCRBY", "h", "d", "1"},  // overflow
      {"HINCRBY", "h", "b", "1"},  // not an integer
      {"HINCRBY", "h", "n", "x"},
      {"HINCRBY", "h", "n", "1.5"},
      {"HINCRBY", "new", "n", "3"},
      {"HGET", "h", "d"},
      {"TYPE", "h"},
      {"EXISTS", "h", "nokey", "new"},
      {"HGETALL", "nokey"},
      {"HKEYS", "nokey"},
      {"HVALS", "nokey"},
      // Binary fields and values.
      {"HSET", "bin", std::string("f\0\r\n", 4), std::string("v\0", 2)},
      {"HGET", "bin", std::string("f\0\r\n", 4)},
      {"HSTRLEN", "bin", std::string("f\0\r\n", 4)},
  });
  SameUnordered({"HGETALL", "h"}, 2);
  SameUnordered({"HKEYS", "h"}, 1);
  SameUnordered({"HVALS", "h"}, 1);
  // Emptying a hash removes the key.
  SameAll({
      {"HSET", "e", "only", "1"},
      {"HDEL", "e", "only"},
      {"EXISTS", "e"},
      {"TYPE", "e"},
      {"HLEN", "e"},
  });
  // A large hash (past the packed form's limits) behaves the same.
  Command big = {"HSET", "big"};
  for (int i = 0; i < 300; ++i) {
    big.push_back("field:" + std::to_string(i));
    big.push_back(std::string(i % 100, 'v'));
  }
  Same(big);
  SameAll({
      {"HLEN", "big"},
      {"HGET", "big", "field:250"},
      {"HSET", "big", "field:250", "changed", "extra", "1"},
      {"HDEL", "big", "field:0", "field:299", "nope"},
      {"HLEN", "big"},
      {"HSTRLEN", "big", "field:99"},
      {"HSET", "longvalue", "f", std::string(100, 'x')},
      {"HSET", "longvalue", "g", "short"},
      {"HGET", "longvalue", "f"},
  });
  SameUnordered({"HGETALL", "big"}, 2);
  // HINCRBYFLOAT.
  SameAll({
      {"HINCRBYFLOAT", "f", "x", "10.5"},
      {"HINCRBYFLOAT", "f", "x", "0.1"},
      {"HINCRBYFLOAT", "f", "x", "-5"},
      {"HINCRBYFLOAT", "f", "x", "5.0e3"},
      {"HINCRBYFLOAT", "f", "x", "-10005.6"},
      {"HINCRBYFLOAT", "f", "y", "1e-10"},
      {"HINCRBYFLOAT", "f", "z", "3"},
      {"HINCRBY", "f", "z", "1"},
      {"HINCRBYFLOAT", "f", "x", "abc"},
      {"HINCRBYFLOAT", "f", "x", "inf"},
      {"HINCRBYFLOAT", "f", "x", "nan"},
      {"HINCRBYFLOAT", "f", "x", " 1"},
      {"HSET", "f", "s", "notanumber"},
      {"HINCRBYFLOAT", "f", "s", "1"},
      {"HINCRBY", "f", "x", "1"},
      {"HGET", "f", "x"},
  });
}

TEST_F(HashesZsetsTest, SortedSetCommandsReplyAsRedis) {
  SameAll({
      {"ZADD", "z", "1", "a", "2", "b", "3", "c"},
      {"ZADD", "z", "1.5", "a", "10", "d"},
      {"ZADD", "z", "CH", "1.5", "a", "11", "d", "12", "e"},
      {"ZADD", "z", "NX", "100", "a", "13", "f"},
      {"ZADD", "z", "XX", "100", "a", "14", "g"},
      {"ZADD", "z", "XX", "CH", "GT", "50", "a", "1", "b"},
      {"ZADD", "z", "LT", "CH", "40", "a", "1", "b"},
      {"ZADD", "z", "INCR", "5", "a"},
      {"ZADD", "z", "INCR", "NX", "5", "a"},
      {"ZADD", "z", "INCR", "XX", "5", "nope"},
      {"ZADD", "z", "INCR", "GT", "-1", "a"},
      {"ZADD", "z", "INCR", "-inf", "c"},
      {"ZADD", "z", "+inf", "top", "-inf", "bottom", "-0", "zero"},
      {"ZADD", "z", "0.1", "tenth", "1e20", "huge", "123456789.125", "mid", "-2.5e-7", "tiny"},
      {"ZADD", "nokey", "XX", "1", "a"},
      {"EXISTS", "nokey"},
      {"ZSCORE", "z", "a"},
      {"ZSCORE", "z", "c"},
      {"ZSCORE", "z", "top"},
      {"ZSCORE", "z", "zero"},
      {"ZSCORE", "z", "tenth"},
      {"ZSCORE", "z", "huge"},
      {"ZSCORE", "z", "tiny"},
      {"ZSCORE", "z", "missing"},
      {"ZSCORE", "nokey", "a"},
      {"ZMSCORE", "z", "a", "missing", "mid"},
      {"ZMSCORE", "nokey", "a", "b"},
      {"ZINCRBY", "z", "2.5", "b"},
      {"ZINCRBY", "z", "1", "newmember"},
      {"ZINCRBY", "z", "+inf", "top"},
      {"ZINCRBY", "z", "-inf", "top"},  // NaN
      {"ZINCRBY", "z", "x", "b"},
      {"ZINCRBY", "zinc", "7", "m"},
      {"ZCARD", "z"},
      {"ZCARD", "nokey"},
      {"ZRANK", "z", "a"},
      {"ZRANK", "z", "bottom"},
      {"ZRANK", "z", "missing"},
      {"ZRANK", "nokey", "a"},
      {"ZREVRANK", "z", "a"},
      {"ZREVRANK", "z", "top"},
      {"ZREVRANK", "z", "missing"},
      // Ranges by rank.
      {"ZRANGE", "z", "0", "-1"},
      {"ZRANGE", "z", "0", "-1", "WITHSCORES"},
      {"ZRANGE", "z", "2", "4", "withscores"},
      {"ZRANGE", "z", "-3", "-1"},
      {"ZRANGE", "z", "-100", "1"},
      {"ZRANGE", "z", "5", "2"},
      {"ZRANGE", "z", "100", "200"},
      {"ZRANGE", "z", "0", "-1", "REV"},
      {"ZRANGE", "z", "1", "3", "REV", "WITHSCORES"},
      {"ZRANGE", "nokey", "0", "-1"},
      {"ZREVRANGE", "z", "0", "2"},
      {"ZREVRANGE", "z", "0", "2", "WITHSCORES"},
      {"ZREVRANGE", "z", "-2", "-1"},
      // Ranges by score: inclusive, exclusive, infinite bounds, LIMIT.
      {"ZRANGE", "z", "1", "12", "BYSCORE"},
      {"ZRANGE", "z", "(1.5", "12", "BYSCORE", "WITHSCORES"},
      {"ZRANGE", "z", "(1.5", "(12", "BYSCORE"},
      {"ZRANGE", "z", "-inf", "+inf", "BYSCORE"},
      {"ZRANGE", "z", "-inf", "(0", "BYSCORE"},
      {"ZRANGE", "z", "(-inf", "(+inf", "BYSCORE"},
      {"ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV"},
      {"ZRANGE", "z", "12", "(1.5", "BYSCORE", "REV", "WITHSCORES"},
      {"ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "2", "3"},
      {"ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "2", "-1"},
      {"ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "-1", "3"},
      {"ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "100", "3"},
      {"ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "0"},
      {"ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2", "WITHSCORES"},
      {"ZRANGE", "z", "5", "1", "BYSCORE"},
      {"ZRANGE", "z", "", "(", "BYSCORE"},
      {"ZRANGEBYSCORE", "z", "1", "12"},
      {"ZRANGEBYSCORE", "z", "(1", "12", "WITHSCORES", "LIMIT", "1", "2"},
      {"ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "0", "2", "WITHSCORES"},
      {"ZRANGEBYSCORE", "nokey", "-inf", "+inf"},
      {"ZREVRANGEBYSCORE", "z", "12", "1"},
      {"ZREVRANGEBYSCORE", "z", "+inf", "(1.5", "WITHSCORES", "LIMIT", "1", "3"},
      {"ZREVRANGEBYSCORE", "z", "1", "12"},
      {"ZCOUNT", "z", "-inf", "+inf"},
      {"ZCOUNT", "z", "(1.5", "12"},
      {"ZCOUNT", "z", "1.5", "(12"},
      {"ZCOUNT", "z", "12", "1"},
      {"ZCOUNT", "nokey", "0", "1"},
      // ZREM, ZPOPMIN, ZPOPMAX; the key goes with its last member.
      {"ZREM", "z", "a", "missing", "a"},
      {"ZREM", "nokey", "a"},
      {"ZPOPMIN", "z"},
      {"ZPOPMAX", "z"},
      {"ZPOPMIN", "z", "2"},
      {"ZPOPMAX", "z", "3"},
      {"ZPOPMIN", "z", "0"},
      {"ZPOPMIN", "nokey"},
      {"ZPOPMIN", "nokey", "3"},
      {"ZPOPMAX", "zinc", "10"},
      {"EXISTS", "zinc"},
      {"ZADD", "one", "1", "m"},
      {"ZREM", "one", "m"},
      {"EXISTS", "one"},
      {"TYPE", "z"},
      {"ZRANGE", "z", "0", "-1", "WITHSCORES"},
  });
  // Lexicographic ranges (every score equal).
  SameAll({
      {"ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "ab"},
      {"ZRANGE", "lex", "-", "+", "BYLEX"},
      {"ZRANGE", "lex", "[b", "(e", "BYLEX"},
      {"ZRANGE", "lex", "(a", "[c", "BYLEX", "LIMIT", "1", "2"},
      {"ZRANGE", "lex", "+", "-", "BYLEX", "REV"},
      {"ZRANGE", "lex", "(e", "[ab", "BYLEX", "REV"},
      {"ZRANGEBYLEX", "lex", "[aa", "(d"},
      {"ZREVRANGEBYLEX", "lex", "[d", "-", "LIMIT", "0", "2"},
  });
  // Ties sort by member; a score change moves the member.
  SameAll({
      {"ZADD", "tie", "5", "c", "5", "a", "5", "b", "1", "z"},
      {"ZRANGE", "tie", "0", "-1", "WITHSCORES"},
      {"ZADD", "tie", "0", "c"},
      {"ZRANGE", "tie", "0", "-1", "WITHSCORES"},
      {"ZRANGE", "tie", "(0", "5", "BYSCORE"},
      {"ZRANK", "tie", "b"},
  });
}

// The leaderboard of the docs, on a set large enough for the tree.
TEST_F(HashesZsetsTest, LeaderboardOnALargeSetRepliesAsRedis) {
  Command add = {"ZADD", "board"};
  for (int i = 0; i < 2000; ++i) {
    add.push_back(std::to_string((i * 7919) % 1000));  // ties on purpose
    add.push_back("player:" + std::to_string(i));
  }
  Same(add);
  SameAll({
      {"ZREVRANGE", "board", "0", "9", "WITHSCORES"},
      {"ZRANGE", "board", "0", "9", "WITHSCORES"},
      {"ZREVRANK", "board", "player:1234"},
      {"ZRANK", "board", "player:1234"},
      {"ZINCRBY", "board", "5000", "player:1234"},
      {"ZREVRANK", "board", "player:1234"},
      {"ZREVRANGE", "board", "0", "2", "WITHSCORES"},
      {"ZRANGE", "board", "500", "510", "BYSCORE", "LIMIT", "3", "4", "WITHSCORES"},
      {"ZREVRANGEBYSCORE", "board", "(600", "500", "LIMIT", "10", "5"},
      {"ZCOUNT", "board", "100", "(200"},
      {"ZRANGE", "board", "1000", "1010"},
      {"ZRANGE", "board", "-1010", "-1000", "REV"},
      {"ZCARD", "board"},
  });
}

TEST_F(HashesZsetsTest, WrongTypeFromEveryFamilyInBothDirections) {
  SameAll({{"SET", "str", "v"}, {"HSET", "hash", "f", "1"}, {"ZADD", "zset", "1", "m"}, {"PFADD", "hll", "x"}});
  const std::vector<Command> hash_commands = {
      {"HSET", "K", "f", "v"},
      {"HSETNX", "K", "f", "v"},
      {"HGET", "K", "f"},
      {"HMGET", "K", "f"},
      {"HGETALL", "K"},
      {"HDEL", "K", "f"},
      {"HLEN", "K"},
      {"HEXISTS", "K", "f"},
      {"HKEYS", "K"},
      {"HVALS", "K"},
      {"HSTRLEN", "K", "f"},
      {"HINCRBY", "K", "f", "1"},
      {"HINCRBYFLOAT", "K", "f", "1"},
      {"HSCAN", "K", "0"},
      {"HMSET", "K", "f", "v"},
  };
  const std::vector<Command> zset_commands = {
      {"ZADD", "K", "1", "m"},
      {"ZINCRBY", "K", "1", "m"},
      {"ZSCORE", "K", "m"},
      {"ZMSCORE", "K", "m"},
      {"ZRANK", "K", "m"},
      {"ZREVRANK", "K", "m"},
      {"ZRANGE", "K", "0", "-1"},
      {"ZREVRANGE", "K", "0", "1"},
      {"ZRANGEBYSCORE", "K", "0", "1"},
      {"ZREVRANGEBYSCORE", "K", "1", "0"},
      {"ZCARD", "K"},
      {"ZCOUNT", "K", "0", "1"},
      {"ZREM", "K", "m"},
      {"ZSCAN", "K", "0"},
      {"ZPOPMIN", "K"},
      {"ZPOPMAX", "K", "2"},
      {"ZRANGE", "K", "-", "+", "BYLEX"},
  };
  const std::vector<Command> string_commands = {
      {"GET", "K"},
      {"APPEND", "K", "x"},
      {"INCR", "K"},
      {"INCRBY", "K", "2"},
      {"DECR", "K"},
      {"INCRBYFLOAT", "K", "1"},
      {"INCRBYFLOAT", "K", "abc"},
      {"STRLEN", "K"},
      {"GETSET", "K", "v"},
      {"GETDEL", "K"},
      {"GETEX", "K"},
      {"GETEX", "K", "EX", "100"},
      {"SET", "K", "v", "GET"},
      {"PFADD", "K", "x"},
      {"PFCOUNT", "K"},
      {"PFMERGE", "K", "K"},
  };
  auto with_key = [](Command command, const std::string& key) {
    for (std::string& arg : command) {
      if (arg == "K") arg = key;
    }
    return command;
  };
  for (const std::string key : {"str", "zset", "hll"}) {
    for (const Command& command : hash_commands) Same(with_key(command, key));
  }
  for (const std::string key : {"str", "hash", "hll"}) {
    for (const Command& command : zset_commands) Same(with_key(command, key));
  }
  for (const std::string key : {"hash", "zset"}) {
    for (const Command& command : string_commands) Same(with_key(command, key));
  }
  // What works on every type, and MGET's nil for a non-string.
  SameAll({
      {"MGET", "str", "hash", "zset", "nokey"},
      {"TYPE", "str"},
      {"TYPE", "hash"},
      {"TYPE", "zset"},
      {"TYPE", "hll"},
      {"EXISTS", "str", "hash", "zset", "hll"},
      {"EXPIRE", "hash", "100"},
      {"TTL", "hash"},
      {"PEXPIRE", "zset", "100000"},
      {"PERSIST", "zset"},
      {"TTL", "zset"},
      {"DBSIZE"},
      {"HSET", "hash", "g", "2"},
      {"TTL", "hash"},  // HSET keeps the expiry
      {"SET", "hash", "now a string"},
      {"TYPE", "hash"},
      {"TTL", "hash"},
      {"GET", "hash"},
      {"SET", "zset", "v", "NX"},
      {"SET", "zset", "v", "XX"},
      {"TYPE", "zset"},
      {"DEL", "zset", "str"},
      {"UNLINK", "hll"},
      {"EXISTS", "str", "hash", "zset", "hll"},
  });
  // SCAN's TYPE filter.
  SameAll({{"HSET", "h1", "f", "1"}, {"HSET", "h2", "f", "1"}, {"ZADD", "z1", "1", "m"}, {"SET", "s1", "v"}});
  for (const std::string type : {"hash", "zset", "string", "HASH", "list", "none"}) {
    RespValue redis = redis_.client().Call({"SCAN", "0", "COUNT", "1000", "TYPE", type});
    RespValue tally = tally_.Call({"SCAN", "0", "COUNT", "1000", "TYPE", type});
    ASSERT_EQ(tally.elements.size(), 2u) << tally;
    ASSERT_EQ(redis.elements.size(), 2u) << redis;
    EXPECT_EQ(Groups(tally.elements[1], 1), Groups(redis.elements[1], 1)) << "SCAN TYPE " << type;
  }
  SameUnordered({"KEYS", "*"}, 1);
}

TEST_F(HashesZsetsTest, ErrorsAndArityReplyAsRedis) {
  SameAll({
      {"HSET"},
      {"HSET", "h"},
      {"HSET", "h", "f"},
      {"HSET", "h", "f", "v", "g"},
      {"HMSET", "h", "f"},
      {"HMSET", "h", "f", "v", "g"},
      {"HSETNX", "h", "f"},
      {"HGET", "h"},
      {"HGET", "h", "f", "g"},
      {"HMGET", "h"},
      {"HGETALL"},
      {"HDEL", "h"},
      {"HLEN"},
      {"HEXISTS", "h"},
      {"HKEYS", "h", "x"},
      {"HVALS"},
      {"HSTRLEN", "h"},
      {"HINCRBY", "h", "f"},
      {"HINCRBYFLOAT", "h", "f"},
      {"HSCAN", "h"},
      {"INCRBYFLOAT", "k"},
      {"INCRBYFLOAT", "k", "1", "2"},
      {"ZADD", "z"},
      {"ZADD", "z", "1"},
      {"ZADD", "z", "NX"},
      {"ZINCRBY", "z", "1"},
      {"ZSCORE", "z"},
      {"ZMSCORE", "z"},
      {"ZRANK", "z"},
      {"ZREVRANK", "z"},
      {"ZRANGE", "z", "0"},
      {"ZREVRANGE", "z", "0"},
      {"ZRANGEBYSCORE", "z", "0"},
      {"ZREVRANGEBYSCORE", "z"},
      {"ZCARD"},
      {"ZCOUNT", "z", "0"},
      {"ZREM", "z"},
      {"ZSCAN", "z"},
      {"ZPOPMIN"},
      {"ZPOPMAX"},
      {"ZRANGEBYLEX", "z", "-"},
      // Options and values.
      {"ZADD", "z", "1", "a", "2"},
      {"ZADD", "z", "NX", "XX", "1", "a"},
      {"ZADD", "z", "GT", "LT", "1", "a"},
      {"ZADD", "z", "NX", "GT", "1", "a"},
      {"ZADD", "z", "INCR", "1", "a", "2", "b"},
      {"ZADD", "z", "x", "a"},
      {"ZADD", "z", "nan", "a"},
      {"ZADD", "z", "1", "a", "bad", "b"},
      {"ZADD", "z", " 1", "a"},
      {"ZADD", "z", "1e400", "a"},
      {"ZADD", "z", "0x10", "hex"},
      {"ZADD", "z", "1", "a", "2", "b", "3", "c"},
      {"ZADD", "z", "FOO", "1", "a"},
      {"ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"},
      {"ZRANGE", "z", "0", "-1", "LIMIT", "0", "-1"},
      {"ZRANGE", "z", "0", "-1", "LIMIT", "0"},
      {"ZRANGE", "z", "0", "-1", "BYLEX", "WITHSCORES"},
      {"ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"},
      {"ZRANGE", "z", "a", "+", "BYLEX"},
      {"ZRANGE", "z", "x", "1"},
      {"ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"},
      {"ZRANGE", "z", "0", "1", "REV", "REV"},
      {"ZRANGE", "z", "0", "1", "FOO"},
      {"ZRANGE", "z", "a", "1", "BYSCORE"},
      {"ZRANGE", "z", "(a", "1", "BYSCORE"},
      {"ZRANGE", "z", "0", "nan", "BYSCORE"},
      {"ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "x", "1"},
      {"ZREVRANGE", "z", "0", "1", "REV"},
      {"ZREVRANGE", "z", "0", "1", "BYSCORE"},
      {"ZREVRANGE", "z", "0", "1", "LIMIT", "0", "1"},
      {"ZRANGEBYSCORE", "z", "0", "1", "REV"},
      {"ZRANGEBYSCORE", "z", "0", "1", "BYLEX"},
      {"ZRANGEBYSCORE", "z", "x", "1"},
      {"ZCOUNT", "z", "x", "1"},
      {"ZCOUNT", "nokey", "x", "1"},
      {"ZRANGE", "nokey", "x", "1", "BYSCORE"},
      {"ZPOPMIN", "z", "-1"},
      {"ZPOPMIN", "z", "x"},
      {"ZPOPMIN", "z", "1", "2"},
      {"ZSCAN", "z", "x"},
      {"ZSCAN", "z", "0", "COUNT", "0"},
      {"ZSCAN", "z", "0", "COUNT", "x"},
      {"ZSCAN", "z", "0", "FOO", "x"},
      {"ZSCAN", "z", "0", "MATCH"},
      {"ZSCAN", "nokey", "0", "FOO"},
      {"HSET", "h", "f", "v"},
      {"HSCAN", "h", "abc"},
      {"HSCAN", "h", "0", "COUNT", "-1"},
      {"HSCAN", "h", "0", "NOVALUES"},
      {"HSCAN", "nokey", "0", "FOO"},
      {"HSCAN", "h", "0", "MATCH", "f*", "COUNT", "5"},
      {"ZSCAN", "z", "0", "MATCH", "a*"},
      {"ZRANGE", "z", "0", "-1", "WITHSCORES"},
  });
}

TEST_F(HashesZsetsTest, IncrByFloatRepliesAsRedis) {
  SameAll({
      {"INCRBYFLOAT", "f", "10.5"},
      {"INCRBYFLOAT", "f", "0.1"},
      {"INCRBYFLOAT", "f", "-5.0e3"},
      {"INCRBYFLOAT", "f", "5000"},
      {"GET", "f"},
      {"INCRBYFLOAT", "f", "1e20"},
      {"INCRBYFLOAT", "f", "-1e20"},
      {"INCRBYFLOAT", "g", "3"},
      {"INCR", "g"},
      {"INCRBYFLOAT", "g", "-4"},
      {"INCRBYFLOAT", "h", "-0"},
      {"INCRBYFLOAT", "h", "0.000000001"},
      {"INCRBYFLOAT", "h", "1.23456789012345678"},
      {"INCRBYFLOAT", "f", "abc"},
      {"INCRBYFLOAT", "f", ""},
      {"INCRBYFLOAT", "f", " 1"},
      {"INCRBYFLOAT", "f", "1 "},
      {"INCRBYFLOAT", "f", "nan"},
      {"INCRBYFLOAT", "f", "inf"},
      {"INCRBYFLOAT", "f", "1e5000"},
      {"INCRBYFLOAT", "f", "1e-5000"},
      {"INCRBYFLOAT", "f", "0x1p3"},
      {"SET", "s", "text"},
      {"INCRBYFLOAT", "s", "1"},
      {"SET", "t", "5", "EX", "100"},
      {"INCRBYFLOAT", "t", "1.5"},
      {"TTL", "t"},
      {"SET", "u", " 5"},
      {"INCRBYFLOAT", "u", "1"},
      {"SET", "v", "1.5e3"},
      {"INCRBYFLOAT", "v", "1"},
  });
}

TEST_F(HashesZsetsTest, HscanAndZscanReturnEveryElement) {
  for (int size : {5, 1000}) {
    const std::string hash = "h" + std::to_string(size), zset = "z" + std::to_string(size);
    Command hset = {"HSET", hash}, zadd = {"ZADD", zset};
    for (int i = 0; i < size; ++i) {
      hset.push_back("f:" + std::to_string(i));
      hset.push_back("v" + std::to_string(i));
      zadd.push_back(std::to_string(i) + ".5");
      zadd.push_back("m:" + std::to_string(i));
    }
    Same(hset);
    Same(zadd);
    for (const Command& options :
         std::vector<Command>{{}, {"COUNT", "7"}, {"MATCH", "*1*"}, {"COUNT", "100", "MATCH", "f:9*"}}) {
      const auto tally_fields = FullScan(tally_, {"HSCAN", hash}, options);
      const auto redis_fields = FullScan(redis_.client(), {"HSCAN", hash}, options);
      EXPECT_EQ(tally_fields, redis_fields) << "HSCAN " << hash << " " << Describe(options);
      const auto tally_members = FullScan(tally_, {"ZSCAN", zset}, options);
      const auto redis_members = FullScan(redis_.client(), {"ZSCAN", zset}, options);
      EXPECT_EQ(tally_members, redis_members) << "ZSCAN " << zset << " " << Describe(options);
      if (options.empty()) {
        EXPECT_EQ(tally_fields.size(), static_cast<size_t>(size));
        EXPECT_EQ(tally_members.size(), static_cast<size_t>(size));
      }
    }
  }
}

TEST_F(HashesZsetsTest, Resp3RepliesAsRedis) {
  // (HELLO's reply names the server: not compared.)
  ASSERT_EQ(redis_.client().Call({"HELLO", "3"}).type, RespValue::Type::kMap);
  ASSERT_EQ(tally_.Call({"HELLO", "3"}).type, RespValue::Type::kMap);
  SameAll({
      {"HSET", "h", "a", "1"},
      {"HGETALL", "h"},
      {"HGETALL", "nokey"},
      {"ZADD", "z", "1.5", "a", "2", "b", "inf", "c"},
      {"ZSCORE", "z", "a"},
      {"ZSCORE", "z", "c"},
      {"ZSCORE", "z", "missing"},
      {"ZMSCORE", "z", "a", "missing"},
      {"ZINCRBY", "z", "1", "b"},
      {"ZADD", "z", "INCR", "1", "a"},
      {"ZRANGE", "z", "0", "-1", "WITHSCORES"},
      {"ZRANGE", "z", "0", "-1"},
      {"ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES"},
      {"ZSCAN", "z", "0"},
      {"ZPOPMIN", "z"},
      {"ZPOPMAX", "z", "5"},
      {"HINCRBYFLOAT", "h", "a", "0.5"},
      {"INCRBYFLOAT", "f", "2.5"},
  });
}

TEST_F(HashesZsetsTest, FlushdbClearsTheRedisKeysAndKeepsCounters) {
  SameAll({
      {"SET", "s", "v"},
      {"HSET", "h", "f", "1"},
      {"ZADD", "z", "1", "m"},
      {"PFADD", "hll", "x"},
      {"SET", "t", "v", "EX", "100"},
      {"FLUSHDB", "FOO"},
      {"FLUSHDB", "ASYNC", "SYNC"},
      {"FLUSHALL", "FOO"},
      {"DBSIZE"},
      {"FLUSHDB"},
      {"DBSIZE"},
      {"EXISTS", "s", "h", "z", "hll", "t"},
      {"HSET", "h", "g", "2"},
      {"FLUSHALL", "ASYNC"},
      {"DBSIZE"},
      {"FLUSHDB", "sync"},
      {"HGETALL", "h"},
  });
  // tally's own data is not Redis data: FLUSHDB keeps it.
  ASSERT_EQ(tally_.CallRaw({"CTR.INCRBY", "acme", "api_calls", "5"}), ":5\r\n");
  ASSERT_EQ(tally_.CallRaw({"SET", "k", "v"}), "+OK\r\n");
  ASSERT_EQ(tally_.CallRaw({"FLUSHDB"}), "+OK\r\n");
  EXPECT_EQ(tally_.CallRaw({"CTR.GET", "acme", "api_calls"}), ":5\r\n");
  EXPECT_EQ(tally_.CallRaw({"EXISTS", "k"}), ":0\r\n");
  // And the flush is durable.
  ASSERT_TRUE(daemon().KillAndRestart());
  tally_ = Connect();
  EXPECT_EQ(tally_.CallRaw({"DBSIZE"}), ":0\r\n");
  EXPECT_EQ(tally_.CallRaw({"CTR.GET", "acme", "api_calls"}), ":5\r\n");
}

// The writes every restart test makes, then the reads compared after it.
const std::vector<Command>& RestartWrites() {
  static const std::vector<Command> writes = [] {
    std::vector<Command> w = {
        {"HSET", "h", "a", "1", "b", "2", "c", "3"},
        {"HINCRBY", "h", "a", "41"},
        {"HINCRBYFLOAT", "h", "f", "1.25"},
        {"HDEL", "h", "b"},
        {"HSET", "gone", "x", "1"},
        {"HDEL", "gone", "x"},
        {"HSET", "timed", "x", "1"},
        {"EXPIRE", "timed", "1000"},
        {"HSET", "persisted", "x", "1"},
        {"EXPIRE", "persisted", "1000"},
        {"PERSIST", "persisted"},
        {"HSET", "short", "x", "1"},
        {"PEXPIRE", "short", "1"},
        {"ZADD", "z", "1", "a", "2", "b", "3", "c", "-inf", "low", "+inf", "high", "0.1", "tenth"},
        {"ZINCRBY", "z", "10", "a"},
        {"ZREM", "z", "b"},
        {"ZPOPMAX", "z"},
        {"ZADD", "zt", "1", "m"},
        {"EXPIRE", "zt", "500"},
        {"ZADD", "zgone", "1", "m"},
        {"ZPOPMIN", "zgone"},
        {"HSET", "retyped", "f", "1"},
        {"SET", "retyped", "now a string"},
        {"SET", "retyped2", "a string"},
        {"DEL", "retyped2"},
        {"ZADD", "retyped2", "5", "m"},
        {"INCRBYFLOAT", "float", "2.5"},
        {"INCRBYFLOAT", "float", "0.25"},
        {"SET", "flushed", "v"},
    };
    Command big = {"HSET", "bighash"};
    Command bigz = {"ZADD", "bigz"};
    for (int i = 0; i < 500; ++i) {
      big.push_back("f" + std::to_string(i));
      big.push_back(std::to_string(i));
      bigz.push_back(std::to_string(i % 37));
      bigz.push_back("m" + std::to_string(i));
    }
    w.push_back(big);
    w.push_back(bigz);
    w.push_back({"HDEL", "bighash", "f1", "f2"});
    w.push_back({"ZREM", "bigz", "m1", "m2"});
    return w;
  }();
  return writes;
}

const std::vector<Command>& RestartReads() {
  static const std::vector<Command> reads = {
      {"HGET", "h", "a"},
      {"HGET", "h", "f"},
      {"HLEN", "h"},
      {"HEXISTS", "h", "b"},
      {"EXISTS", "gone"},
      {"TTL", "timed"},
      {"TTL", "persisted"},
      {"EXISTS", "short"},
      {"ZRANGE", "z", "0", "-1", "WITHSCORES"},
      {"TTL", "zt"},
      {"EXISTS", "zgone"},
      {"TYPE", "retyped"},
      {"GET", "retyped"},
      {"TYPE", "retyped2"},
      {"ZSCORE", "retyped2", "m"},
      {"GET", "float"},
      {"HLEN", "bighash"},
      {"HGET", "bighash", "f499"},
      {"ZCARD", "bigz"},
      {"ZRANGE", "bigz", "0", "20", "WITHSCORES"},
      {"ZREVRANGE", "bigz", "0", "20", "WITHSCORES"},
      {"DBSIZE"},
  };
  return reads;
}

TEST_F(HashesZsetsTest, StateSurvivesKill9) {
  SameAll(RestartWrites());
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // "short" expires
  ASSERT_TRUE(daemon().KillAndRestart());
  tally_ = Connect();
  SameAll(RestartReads());
  SameUnordered({"HGETALL", "h"}, 2);
  SameUnordered({"HGETALL", "bighash"}, 2);
  // Changes after the restart, and a second kill.
  SameAll({{"HSET", "h", "new", "v"}, {"ZADD", "z", "7", "seven"}, {"FLUSHDB"}, {"HSET", "after", "f", "1"}});
  ASSERT_TRUE(daemon().KillAndRestart());
  tally_ = Connect();
  SameAll({{"DBSIZE"}, {"HGETALL", "after"}, {"EXISTS", "h", "z"}});
}

class CompactingHashesZsetsTest : public HashesZsetsTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--compaction-interval-ms", "100"}; }
};

TEST_F(CompactingHashesZsetsTest, StateSurvivesCompactionAndRestart) {
  SameAll(RestartWrites());
  WaitCompacted();
  // Only the compacted rows are left to recover from.
  ASSERT_TRUE(daemon().KillAndRestart());
  tally_ = Connect();
  SameAll(RestartReads());
  SameUnordered({"HGETALL", "h"}, 2);
  SameUnordered({"HGETALL", "bighash"}, 2);
  // Compacted rows, then log entries on top of them: both are replayed.
  SameAll({
      {"HSET", "h", "a", "changed"},
      {"HDEL", "bighash", "f3"},
      {"ZINCRBY", "bigz", "100", "m5"},
      {"DEL", "z"},
      {"SET", "h2", "v"},
  });
  ASSERT_TRUE(daemon().KillAndRestart());
  tally_ = Connect();
  SameAll(RestartReads());
  SameAll({{"HGET", "h", "a"}, {"ZREVRANGE", "bigz", "0", "0", "WITHSCORES"}});
  // FLUSHDB, compacted: the rows are deleted.
  Same({"FLUSHDB"});
  WaitCompacted();
  ASSERT_TRUE(daemon().Restart());
  tally_ = Connect();
  SameAll({{"DBSIZE"}, {"KEYS", "*"}});
}

}  // namespace
}  // namespace tally::itest
