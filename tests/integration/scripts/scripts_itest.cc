// Lua scripts (docs/scripts.md) against a real redis-server: each test sends
// the same commands to a fresh tallyd and a fresh redis-server 7.0 and
// compares the raw RESP replies byte for byte; then the parts only tallyd
// has: undeclared keys, BUSY and SCRIPT KILL (from another connection and
// over HTTP), UNKILLABLE, and kill -9 in the middle of scripts.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http_client.h"
#include "redis_server.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

// Laravel's Cache::add (Illuminate\Cache\RedisStore) and lock release
// (Illuminate\Cache\LuaScripts::releaseLock).
constexpr const char* kLaravelAdd =
    "return redis.call('exists',KEYS[1])<1 and redis.call('setex',KEYS[1],ARGV[2],ARGV[1])";
constexpr const char* kLaravelRelease =
    "if redis.call(\"get\",KEYS[1]) == ARGV[1] then\n"
    "    return redis.call(\"del\",KEYS[1])\n"
    "else\n"
    "    return 0\n"
    "end";
// redis-py's Lock (redis/lock.py): release, extend, reacquire.
constexpr const char* kRedisPyRelease = R"(
        local token = redis.call('get', KEYS[1])
        if not token or token ~= ARGV[1] then
            return 0
        end
        redis.call('del', KEYS[1])
        return 1
    )";
constexpr const char* kRedisPyExtend = R"(
        local token = redis.call('get', KEYS[1])
        if not token or token ~= ARGV[1] then
            return 0
        end
        local expiration = redis.call('pttl', KEYS[1])
        if not expiration then
            expiration = 0
        end
        if expiration < 0 then
            return 0
        end

        local newttl = ARGV[2]
        if ARGV[3] == "0" then
            newttl = ARGV[2] + expiration
        end
        redis.call('pexpire', KEYS[1], newttl)
        return 1
    )";
constexpr const char* kRedisPyReacquire = R"(
        local token = redis.call('get', KEYS[1])
        if not token or token ~= ARGV[1] then
            return 0
        end
        redis.call('pexpire', KEYS[1], ARGV[2])
        return 1
    )";

class ScriptsCompatTest : public RedisCompatTest {
 protected:
  std::string Eval(const std::string& body, std::vector<std::string> rest = {"0"}) {
    std::vector<std::string> args{"EVAL", body};
    args.insert(args.end(), rest.begin(), rest.end());
    return Same(args);
  }
};

TEST_F(ScriptsCompatTest, LaravelScriptsReplyAsRedis) {
  Eval(kLaravelAdd, {"1", "laravel_cache:k", "v", "60"});
  Eval(kLaravelAdd, {"1", "laravel_cache:k", "w", "60"});  // exists: false -> nil
  Same({"GET", "laravel_cache:k"});
  Same({"TTL", "laravel_cache:k"});
  Same({"SET", "laravel_cache:lock", "owner-1", "EX", "10", "NX"});
  Eval(kLaravelRelease, {"1", "laravel_cache:lock", "someone-else"});
  Same({"GET", "laravel_cache:lock"});
  Eval(kLaravelRelease, {"1", "laravel_cache:lock", "owner-1"});
  Same({"EXISTS", "laravel_cache:lock"});
}

TEST_F(ScriptsCompatTest, RedisPyLockScriptsReplyAsRedis) {
  // redis-py registers its scripts: SCRIPT LOAD once, then EVALSHA.
  const std::string release = Same({"SCRIPT", "LOAD", kRedisPyRelease});
  const std::string extend = Same({"SCRIPT", "LOAD", kRedisPyExtend});
  const std::string reacquire = Same({"SCRIPT", "LOAD", kRedisPyReacquire});
  auto sha = [](const std::string& raw) { return raw.substr(raw.find("\r\n") + 2, 40); };
  Same({"SET", "lock:job", "token-1", "PX", "100000", "NX"});
  Same({"SET", "lock:job", "token-2", "PX", "100000", "NX"});
  Same({"EVALSHA", sha(extend), "1", "lock:job", "token-2", "5000", "0"});
  Same({"EVALSHA", sha(extend), "1", "lock:job", "token-1", "50000", "0"});   // adds to the TTL
  Same({"EVALSHA", sha(extend), "1", "lock:job", "token-1", "200000", "1"});  // replaces it
  Same({"EVALSHA", sha(reacquire), "1", "lock:job", "token-1", "300000"});
  Same({"EVALSHA", sha(reacquire), "1", "lock:job", "nope", "300000"});
  Same({"EVALSHA", sha(release), "1", "lock:job", "nope"});
  Same({"EVALSHA", sha(release), "1", "lock:job", "token-1"});
  Same({"EVALSHA", sha(release), "1", "lock:job", "token-1"});
  Same({"EXISTS", "lock:job"});
}

TEST_F(ScriptsCompatTest, ConversionsReplyAsRedis) {
  for (const char* body : {
           "return 1.9",
           "return -2.9",
           "return 'str'",
           "return {1,2,nil,3}",
           "return {ok='fine'}",
           "return {err='bad thing'}",
           "return {err='MYERR bad'}",
           "return false",
           "return true",
           "return nil",
           "return {1,'a',{ok='x'},{err='e'},false,true,3.7,{2,{3}}}",
           "return {}",
           "return 2^63",
           "return 0/0",
           "return redis.call('get','missing')",
           "return type(redis.call('get','missing'))",
           "return redis.call('set','k','v')",
           "return redis.call('set','k','v').ok",
           "return redis.call('get','k')",
           "return redis.call('incr','n')",
           "return type(redis.call('incr','n'))",
           "return redis.call('mget','k','missing','n')",
           "return redis.call('exists','k')",
           "return redis.status_reply('FINE')",
           "return redis.error_reply('MYERR bad')",
           "return redis.error_reply('bad')",
           "return redis.sha1hex('')",
           "return redis.sha1hex('abc')",
           "return redis.pcall('incr','k')",
           "return type(redis.pcall('incr','k'))",
           "local t = redis.pcall('incr','k'); return t.err",
           "local ok, e = pcall(redis.call, 'incr', 'k'); return {tostring(ok), e}",
           "local ok, e = pcall(error, {err='x'}); return e",
           "local ok, e = pcall(error, {foo='x'}); return e",
           "return redis.call('set','f',3.1)",
           "return redis.call('get','f')",
           "return redis.LOG_WARNING",
           "redis.log(redis.LOG_NOTICE, 'hello from a script'); return 1",
           "return string.format('%d-%s', 5, 'x')",
           "return table.concat({'a','b'}, ',')",
           "return math.floor(2.7)",
           "return tostring(nil)",
           "return #KEYS + #ARGV",
           "return loadstring('return 1+1')()",
       }) {
    Eval(body);
  }
  Eval("return {KEYS[1], KEYS[2], ARGV[1], ARGV[2]}", {"2", "a", "b", "c", "d"});
  Eval("return KEYS[1]..ARGV[1]", {"1", "k", "a"});
}

TEST_F(ScriptsCompatTest, ErrorsReplyAsRedis) {
  for (const char* body : {
           "error('boom')",
           "error()",
           "error(12)",
           "error({err='tbl'})",
           "\n\nerror('on line 3')",
           "return redis.call('nosuch')",
           "return redis.pcall('nosuch')",
           "return redis.call('get')",
           "return redis.pcall('get')",
           "return redis.call()",
           "return redis.call('set','x',{})",
           "return redis.pcall('set','x',nil)",
           "return redis.call('incr','k2') + redis.call('incr', 'k2x', 'y')",
           "return redis.call('multi')",
           "return redis.call('exec')",
           "return redis.call('eval','return 1','0')",
           "return redis.call('subscribe','x')",
           "return redis.call('script','load','return 1')",
           "x = 5",
           "return y",
           "return os",
           "return io",
           "return debug",
           "return getfenv",
           "return dofile",
           "string.upper = nil; return 1",
           "redis.call = nil",
           "rawset(_G, 'x', 1); return 1",
           "return setmetatable(_G, nil)",
           "local x = nil; return x.y",
           "return 1 + {}",
           "syntax error here",
           "return redis.sha1hex()",
           "redis.log(redis.LOG_WARNING)",
           "redis.log('x', 'y')",
           "return redis.status_reply()",
           "return redis.call('set', 'k', 'v', 'XX', 'NX')",
       }) {
    Eval(body);
  }
  Same({"SET", "k3", "abc"});
  Eval("return redis.call('incr', KEYS[1])", {"1", "k3"});
  Eval("return 1", {"-1"});
  Eval("return 1", {"5", "a"});
  Eval("return 1", {"abc"});
  Same({"EVAL", "return 1"});
  Same({"EVALSHA", "0000000000000000000000000000000000000000", "0"});
  Same({"EVALSHA", "not-a-sha", "0"});
}

TEST_F(ScriptsCompatTest, ScriptCacheCommandsReplyAsRedis) {
  Same({"SCRIPT", "LOAD", "return 1"});
  Same({"SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB",
        "0000000000000000000000000000000000000000", "short"});
  Same({"EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"});
  Same({"EVALSHA_RO", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"});
  Eval("return 2");
  Same({"SCRIPT", "EXISTS", "7f923f79fe76194c868d7e1d0820de36700eb649"});  // EVAL cached it
  Same({"SCRIPT", "FLUSH"});
  Same({"SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"});
  Same({"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"});
  Same({"SCRIPT", "LOAD", "return 1"});
  Same({"SCRIPT", "FLUSH", "ASYNC"});
  Same({"SCRIPT", "FLUSH", "sync"});
  Same({"SCRIPT", "FLUSH", "bogus"});
  Same({"SCRIPT", "LOAD", "syntax error here"});
  Same({"SCRIPT", "LOAD"});
  Same({"SCRIPT"});
  Same({"SCRIPT", "FOO"});
  Same({"SCRIPT", "KILL"});
  Same({"SCRIPT", "EXISTS"});
}

TEST_F(ScriptsCompatTest, ReadOnlyScriptsRefuseWrites) {
  Same({"SET", "ro", "1"});
  Same({"EVAL_RO", "return redis.call('get', KEYS[1])", "1", "ro"});
  Same({"EVAL_RO", "return redis.call('set', KEYS[1], '2')", "1", "ro"});
  Same({"EVAL_RO", "return redis.pcall('set', KEYS[1], '2')", "1", "ro"});
  Same({"EVAL_RO", "return redis.call('incr', KEYS[1])", "1", "ro"});
  Same({"GET", "ro"});
  const std::string loaded = Same({"SCRIPT", "LOAD", "return redis.call('del', KEYS[1])"});
  Same({"EVALSHA_RO", loaded.substr(loaded.find("\r\n") + 2, 40), "1", "ro"});
  Same({"GET", "ro"});
}

// ---- tallyd only ------------------------------------------------------------------

class ScriptsTest : public TallydTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--script-time-limit-ms", "300"}; }
};

TEST_F(ScriptsTest, AnUndeclaredKeyOnAnotherShardIsRefusedAndNothingChanges) {
  RespClient client = Connect();
  // Find a key on another shard than "declared" (63 in 64 are).
  std::string other;
  for (int i = 0; i < 100 && other.empty(); ++i) {
    const std::string candidate = "other" + std::to_string(i);
    RespValue probe = client.Call({"EVAL", "return redis.call('get', ARGV[1])", "1", "declared", candidate});
    if (probe.is_error()) {
      EXPECT_EQ(probe.str.rfind("ERR key '" + candidate + "' is not declared in KEYS", 0), 0u) << probe.str;
      other = candidate;
    }
  }
  ASSERT_FALSE(other.empty());
  RespValue refused = client.Call(
      {"EVAL", "redis.call('set', ARGV[1], 'b'); redis.call('set', KEYS[1], 'a'); return 1", "1", "declared", other});
  ASSERT_TRUE(refused.is_error());
  EXPECT_NE(refused.str.find("pass every key the script uses as a key argument of EVAL"), std::string::npos);
  EXPECT_EQ(client.Call({"EXISTS", "declared", other}).integer, 0);
  // Declared, the same script runs; with numkeys 0 every shard is held.
  EXPECT_EQ(client
                .Call({"EVAL", "redis.call('set', KEYS[2], 'b'); redis.call('set', KEYS[1], 'a'); return 1", "2",
                       "declared", other})
                .integer,
            1);
  EXPECT_EQ(client.Call({"EVAL", "return redis.call('get', ARGV[1])", "0", other}).str, "b");
  // A command that may touch any key needs numkeys 0.
  RespValue keys = client.Call({"EVAL", "return redis.call('keys', '*')", "1", "declared"});
  ASSERT_TRUE(keys.is_error());
  EXPECT_EQ(keys.str.rfind("ERR keys may touch any key", 0), 0u) << keys.str;
  EXPECT_EQ(client.Call({"EVAL", "return #redis.call('keys', '*')", "0"}).integer, 2);
}

// Waits (up to 10 s) until a script has run past script_time_limit_ms (the
// daemon logs it once per script), so other clients get BUSY at once instead
// of waiting for the shards the script holds.
::testing::AssertionResult WaitBusy(TallydProcess& daemon) {
  for (int i = 0; i < 200; ++i) {
    if (daemon.ReadLog().find("still running after script_time_limit_ms") != std::string::npos) {
      return ::testing::AssertionSuccess();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return ::testing::AssertionFailure() << "no script ran past its time limit";
}

// Two connections on different I/O threads (connections are spread round
// robin), each answering: a script on one thread leaves the other free.
// Opened before the script runs: new connections are accepted by I/O
// thread 0, which may be the script's.
std::optional<std::pair<RespClient, RespClient>> ClientsOnBothThreads(int port) {
  auto first = RespClient::ConnectTcp(port);
  auto second = RespClient::ConnectTcp(port);
  if (!first || !second) return std::nullopt;
  if (first->CallRaw({"PING"}) != "+PONG\r\n" || second->CallRaw({"PING"}) != "+PONG\r\n") return std::nullopt;
  return std::make_pair(std::move(*first), std::move(*second));
}

class ScriptsTwoThreadsTest : public TallydTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--script-time-limit-ms", "300", "--io-threads", "2"}; }
};

TEST_F(ScriptsTwoThreadsTest, ALoopingScriptMakesOthersBusyUntilScriptKill) {
  RedisServer redis;
  ASSERT_TRUE(redis.Start({"--busy-reply-threshold", "300"}));
  const std::string loop = "local n = 0; while true do n = n + 1 end";
  std::string killed_reply[2];
  for (bool on_tally : {true, false}) {
    SCOPED_TRACE(on_tally ? "tallyd" : "redis-server");
    auto clients = on_tally ? ClientsOnBothThreads(port()) : ClientsOnBothThreads(redis.port());
    ASSERT_TRUE(clients.has_value());
    RespClient* runner = &clients->first;
    runner->Send(EncodeCommand({"EVAL", loop, "0"}));
    if (on_tally) {
      ASSERT_TRUE(WaitBusy(daemon()));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(700));
    }
    std::optional<std::pair<RespClient, RespValue>> other;
    {
      RespValue reply = clients->second.Call({"GET", "anything"});
      other.emplace(std::move(clients->second), std::move(reply));
    }
    ASSERT_TRUE(other.has_value());
    EXPECT_EQ(other->second.raw,
              "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n");
    EXPECT_EQ(other->first.CallRaw({"SCRIPT", "KILL"}), "+OK\r\n");
    RespValue killed = runner->ReadReply(std::chrono::seconds(5));
    EXPECT_EQ(killed.str.rfind("ERR Script killed by user with SCRIPT KILL... script: ", 0), 0u) << killed.str;
    killed_reply[on_tally ? 0 : 1] = killed.raw;
    EXPECT_EQ(other->first.CallRaw({"SCRIPT", "KILL"}), "-NOTBUSY No scripts in execution right now.\r\n");
    EXPECT_EQ(runner->CallRaw({"SET", "after", "1"}), "+OK\r\n");
  }
  EXPECT_EQ(killed_reply[0], killed_reply[1]);
}

TEST_F(ScriptsTest, HttpScriptKillStopsALoopHoldingTheOnlyIoThread) {
  // io_threads = 1: no RESP connection is read while the script runs.
  auto runner = RespClient::ConnectTcp(port());
  ASSERT_TRUE(runner.has_value());
  HttpReply none = HttpClient::Request(daemon().http_port(), "POST", "/v1/admin/script/kill");
  EXPECT_EQ(none.status, 400) << none.body;
  EXPECT_NE(none.body.find("not_busy"), std::string::npos) << none.body;
  runner->Send(EncodeCommand({"EVAL", "while true do end", "0"}));
  ASSERT_TRUE(WaitBusy(daemon()));
  HttpReply busy = HttpClient::Request(daemon().http_port(), "GET", "/v1/owners");
  EXPECT_EQ(busy.status, 503) << busy.body;
  EXPECT_NE(busy.body.find("busy"), std::string::npos) << busy.body;
  HttpReply kill = HttpClient::Request(daemon().http_port(), "POST", "/v1/admin/script/kill");
  EXPECT_EQ(kill.status, 200) << kill.body;
  RespValue killed = runner->ReadReply(std::chrono::seconds(5));
  EXPECT_EQ(killed.str.rfind("ERR Script killed by user with SCRIPT KILL...", 0), 0u) << killed.str;
  EXPECT_EQ(runner->CallRaw({"PING"}), "+PONG\r\n");
  EXPECT_EQ(HttpClient::Request(daemon().http_port(), "GET", "/v1/owners").status, 200);
}

TEST_F(ScriptsTwoThreadsTest, AScriptThatWroteIsUnkillableAndKillMinus9DropsItsWrites) {
  RedisServer redis;
  ASSERT_TRUE(redis.Start({"--busy-reply-threshold", "300"}));
  const std::string body = "redis.call('set', KEYS[1], 'written'); while true do end";
  const std::string loaded = redis.client().CallRaw({"SCRIPT", "LOAD", body});
  const std::string sha = loaded.substr(loaded.find("\r\n") + 2, 40);
  {
    auto runner = redis.Connect();
    ASSERT_TRUE(runner.has_value());
    runner->Send(EncodeCommand({"EVAL", body, "1", "w"}));
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    auto other = redis.Connect();
    ASSERT_TRUE(other.has_value());
    const std::string unkillable = other->CallRaw({"SCRIPT", "KILL"});
    EXPECT_EQ(unkillable,
              "-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either "
              "wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n");
    // tallyd answers the same bytes.
    auto clients = ClientsOnBothThreads(port());
    ASSERT_TRUE(clients.has_value());
    clients->first.Send(EncodeCommand({"EVAL", body, "1", "w"}));
    ASSERT_TRUE(WaitBusy(daemon()));
    EXPECT_EQ(clients->second.CallRaw({"SCRIPT", "KILL"}), unkillable);
    EXPECT_EQ(clients->second.CallRaw({"GET", "w"}),
              "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n");
  }
  // The only way out: stop the daemon. The script's write was never
  // committed (its atomic group never ended), so it is gone.
  ASSERT_TRUE(daemon().KillAndRestart());
  RespClient client = Connect();
  EXPECT_EQ(client.CallRaw({"EXISTS", "w"}), ":0\r\n");
  EXPECT_EQ(client.CallRaw({"SCRIPT", "EXISTS", sha}), "*1\r\n:0\r\n") << "the script cache is in memory only";
}

TEST_F(ScriptsTest, AScriptsWritesAcrossShardsAreWhollyKeptOrWhollyLostByKillMinus9) {
  constexpr int kKeys = 20;
  std::string body = "for i, key in ipairs(KEYS) do redis.call('set', key, ARGV[1]) end; return #KEYS";
  int acknowledged_total = 0;
  for (int round = 0; round < 3; ++round) {
    std::atomic<int> acknowledged{-1};
    std::atomic<bool> stop{false};
    std::thread writer([&] {
      auto client = RespClient::ConnectTcp(port());
      if (!client) return;
      for (int n = 0; !stop; ++n) {
        std::vector<std::string> args{"EVAL", body, std::to_string(kKeys)};
        for (int k = 0; k < kKeys; ++k)
          args.push_back("r" + std::to_string(round) + ":s" + std::to_string(n) + ":" + std::to_string(k));
        args.push_back("v" + std::to_string(n));
        RespValue reply = client->Call(args, std::chrono::seconds(2));
        if (reply.type != RespValue::Type::kInteger) return;
        acknowledged = n;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + 100 * round));
    daemon().Kill();
    stop = true;
    writer.join();
    ASSERT_TRUE(daemon().Start());
    RespClient client = Connect();
    const int acked = acknowledged.load();
    ASSERT_GE(acked, 0) << "no script was acknowledged before kill -9";
    acknowledged_total += acked + 1;
    // Every script is all there or all gone; every acknowledged one is there.
    for (int n = 0; n <= acked + 2; ++n) {
      std::vector<std::string> args{"EXISTS"};
      for (int k = 0; k < kKeys; ++k) {
        args.push_back("r" + std::to_string(round) + ":s" + std::to_string(n) + ":" + std::to_string(k));
      }
      const int64_t present = client.Call(args).integer;
      EXPECT_TRUE(present == 0 || present == kKeys) << "round " << round << " script " << n << ": " << present;
      if (n <= acked) {
        EXPECT_EQ(present, kKeys) << "acknowledged script " << n << " lost";
      }
    }
  }
  EXPECT_GT(acknowledged_total, 3);
}

}  // namespace
}  // namespace tally::itest
