// The Lua runtime on its own: scripts read like redis-cli sessions, with a
// small in-memory caller standing in for the command table (a "GET"/"SET"
// keyspace and commands that answer each reply shape). The real command
// table runs in tests/integration/scripts.

#include "script/lua_runtime.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "script/script_watch.h"
#include "script/sha1.h"

namespace tally::script {
namespace {

using Kind = ReplyValue::Kind;

class TestCaller final : public CommandCaller {
 public:
  ReplyValue Call(std::span<const std::string_view> args) override {
    calls.emplace_back(args.begin(), args.end());
    const std::string name(args[0]);
    if (name == "set" && args.size() == 3) {
      keys[std::string(args[1])] = std::string(args[2]);
      return ReplyValue::Status("OK");
    }
    if (name == "get" && args.size() == 2) {
      auto it = keys.find(std::string(args[1]));
      return it == keys.end() ? ReplyValue::Null() : ReplyValue::Bulk(it->second);
    }
    if (name == "int") return ReplyValue::Integer(42);
    if (name == "status") return ReplyValue::Status("PONG");
    if (name == "nested") {
      ReplyValue array;
      array.kind = Kind::kArray;
      array.elements.push_back(ReplyValue::Integer(1));
      ReplyValue inner;
      inner.kind = Kind::kArray;
      inner.elements.push_back(ReplyValue::Bulk("x"));
      inner.elements.push_back(ReplyValue::Null());
      array.elements.push_back(inner);
      return array;
    }
    if (name == "probe") {
      busy_seen = ScriptBusy();
      return ReplyValue::Integer(busy_seen);
    }
    return ReplyValue::Error("ERR value is not an integer or out of range");
  }
  std::map<std::string, std::string> keys;
  std::vector<std::vector<std::string>> calls;
  bool busy_seen = false;
};

class LuaRuntimeTest : public ::testing::Test {
 protected:
  // Compiles and runs `body` with KEYS and ARGV.
  ReplyValue Eval(const std::string& body, std::vector<std::string_view> keys = {},
                  std::vector<std::string_view> argv = {}) {
    const std::string sha = Sha1Hex(body);
    std::string error;
    if (!runtime_.Compile(sha, body, &error)) return ReplyValue::Error(error);
    running_.sha = sha;
    ScriptRun run{sha, keys, argv, &caller_, &running_};
    ScriptWatch::Instance().Begin(running_);
    ReplyValue result = runtime_.Run(run);
    ScriptWatch::Instance().End(running_);
    return result;
  }
  // The error text up to " script: <sha>, on ..." (the suffix checked apart).
  static std::string ErrorHead(const ReplyValue& value) {
    EXPECT_EQ(value.kind, Kind::kError) << value.text;
    return value.text.substr(0, value.text.find(" script: "));
  }

  LuaRuntime runtime_;
  TestCaller caller_;
  RunningScript running_;
};

// ---- Lua -> Redis -------------------------------------------------------------

TEST_F(LuaRuntimeTest, NumbersAreTruncatedToIntegers) {
  EXPECT_EQ(Eval("return 1.9").integer, 1);
  EXPECT_EQ(Eval("return -2.9").integer, -2);
  // Out of range and NaN: what Redis's C cast gives on x86-64.
  EXPECT_EQ(Eval("return 2^63").integer, INT64_MIN);
  EXPECT_EQ(Eval("return 0/0").integer, INT64_MIN);
}

TEST_F(LuaRuntimeTest, TablesBecomeArraysUpToTheFirstNil) {
  ReplyValue value = Eval("return {1, 'a', {2, {3}}, nil, 4}");
  ASSERT_EQ(value.kind, Kind::kArray);
  ASSERT_EQ(value.elements.size(), 3u);
  EXPECT_EQ(value.elements[1].text, "a");
  EXPECT_EQ(value.elements[2].elements[1].elements[0].integer, 3);
}

TEST_F(LuaRuntimeTest, OkAndErrTablesBooleansAndNil) {
  EXPECT_EQ(Eval("return {ok='fine'}").kind, Kind::kStatus);
  EXPECT_EQ(Eval("return {ok='fine'}").text, "fine");
  EXPECT_EQ(Eval("return {err='bad thing'}").text, "bad thing");
  EXPECT_EQ(Eval("return true").integer, 1);
  EXPECT_EQ(Eval("return false").kind, Kind::kNull);
  EXPECT_EQ(Eval("return nil").kind, Kind::kNull);
  EXPECT_EQ(Eval("return {1, false, true}").elements[1].kind, Kind::kNull);
}

TEST_F(LuaRuntimeTest, ATableThatContainsItselfStops) {
  ReplyValue value = Eval("local t = {}; t[1] = t; return t");
  const ReplyValue* inner = &value;
  while (inner->kind == Kind::kArray) inner = &inner->elements[0];
  EXPECT_EQ(inner->text, "ERR reached lua stack limit");
}

TEST_F(LuaRuntimeTest, KeysAndArgv) {
  EXPECT_EQ(Eval("return KEYS[1] .. ARGV[1] .. #KEYS .. #ARGV", {"k"}, {"a", "b"}).text, "ka12");
}

// ---- Redis -> Lua -------------------------------------------------------------

TEST_F(LuaRuntimeTest, RepliesBecomeLuaValues) {
  EXPECT_EQ(Eval("return type(redis.call('int'))").text, "number");
  EXPECT_EQ(Eval("return redis.call('get', 'none') == false").integer, 1);
  EXPECT_EQ(Eval("return redis.call('status').ok").text, "PONG");
  EXPECT_EQ(Eval("local r = redis.call('nested'); return {r[1], r[2][1], tostring(r[2][2])}").elements[2].text,
            "false");
  EXPECT_EQ(Eval("redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[1])", {"k"}, {"v"}).text, "v");
}

TEST_F(LuaRuntimeTest, ArgumentsMustBeStringsOrNumbers) {
  Eval("return redis.call('set', 'x', 3.1)");
  EXPECT_EQ(caller_.keys["x"], "3.1000000000000001");  // %.17g, as Redis 7.0
  EXPECT_EQ(ErrorHead(Eval("return redis.call('set', 'x', {})")),
            "ERR Lua redis lib command arguments must be strings or integers");
  EXPECT_EQ(Eval("return redis.pcall('set', 'x', nil)").text,
            "ERR Lua redis lib command arguments must be strings or integers");
  EXPECT_EQ(ErrorHead(Eval("return redis.call()")), "ERR Please specify at least one argument for this redis lib call");
}

TEST_F(LuaRuntimeTest, CallRaisesErrorsAndPcallReturnsThem) {
  ReplyValue raised = Eval("return redis.call('incr', 'a')");
  EXPECT_EQ(raised.text, "ERR value is not an integer or out of range script: " +
                             Sha1Hex("return redis.call('incr', 'a')") + ", on @user_script:1.");
  EXPECT_EQ(Eval("local t = redis.pcall('incr', 'a'); return type(t) .. ':' .. t.err").text,
            "table:ERR value is not an integer or out of range");
  // pcall catching a raised redis.call error
  // Lua's pcall catching a raised redis.call error gets its text (Redis 7.0's pcall).
  EXPECT_EQ(Eval("local ok, e = pcall(redis.call, 'incr', 'a'); return {tostring(ok), e}").elements[1].text,
            "ERR value is not an integer or out of range");
}

TEST_F(LuaRuntimeTest, ErrorReplyAndStatusReply) {
  EXPECT_EQ(Eval("return redis.error_reply('MYERR bad')").text, "MYERR bad");
  EXPECT_EQ(Eval("return redis.error_reply('bad')").text, "ERR bad");
  EXPECT_EQ(Eval("return redis.error_reply('-NOPE x')").text, "NOPE x");
  EXPECT_EQ(Eval("return redis.status_reply('FINE')").text, "FINE");
  EXPECT_EQ(Eval("return redis.status_reply('FINE')").kind, Kind::kStatus);
  EXPECT_EQ(Eval("return redis.status_reply()").text, "ERR wrong number or type of arguments");
  EXPECT_EQ(Eval("return redis.sha1hex('')").text, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(ErrorHead(Eval("return redis.sha1hex()")), "ERR wrong number of arguments");
}

TEST_F(LuaRuntimeTest, RuntimeAndCompileErrorsAsRedisWordsThem) {
  EXPECT_EQ(Eval("error('boom')").text,
            "ERR user_script:1: boom script: " + Sha1Hex("error('boom')") + ", on @user_script:1.");
  EXPECT_EQ(ErrorHead(Eval("error()")), "ERR nil");
  EXPECT_EQ(ErrorHead(Eval("\n\nerror({err='MY custom'})")), "MY custom");
  EXPECT_TRUE(Eval("\n\nerror({err='MY custom'})").text.ends_with(", on @user_script:3."));
  EXPECT_EQ(Eval("syntax error here").text,
            "ERR Error compiling script (new function): user_script:1: '=' expected near 'error'");
  EXPECT_EQ(ErrorHead(Eval("local x = nil; return x.y")),
            "ERR user_script:1: attempt to index local 'x' (a nil value)");
}

TEST_F(LuaRuntimeTest, LogChecksItsArguments) {
  EXPECT_EQ(Eval("redis.log(redis.LOG_WARNING, 'from', 'a test', 1); return redis.LOG_WARNING").integer, 3);
  EXPECT_EQ(ErrorHead(Eval("redis.log(redis.LOG_WARNING)")), "ERR redis.log() requires two arguments or more.");
  EXPECT_EQ(ErrorHead(Eval("redis.log('x', 'y')")), "ERR First argument must be a number (log level).");
  EXPECT_EQ(ErrorHead(Eval("redis.log(9, 'y')")), "ERR Invalid debug level.");
  EXPECT_EQ(Eval("redis.setresp(2); return 1").integer, 1);
}

// ---- the sandbox --------------------------------------------------------------

TEST_F(LuaRuntimeTest, DangerousLibrariesAndFunctionsAreAbsent) {
  for (const char* name : {"os", "io", "debug", "package", "require", "loadfile", "dofile", "getfenv", "setfenv",
                           "newproxy", "print", "module"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(ErrorHead(Eval(std::string("return ") + name)),
              std::string("ERR user_script:1: Script attempted to access nonexistent global variable '") + name + "'");
  }
  EXPECT_EQ(ErrorHead(Eval("os.execute('touch /tmp/tally-script-escape')")),
            "ERR user_script:1: Script attempted to access nonexistent global variable 'os'");
  EXPECT_EQ(ErrorHead(Eval("return io.open('/etc/passwd')")),
            "ERR user_script:1: Script attempted to access nonexistent global variable 'io'");
}

TEST_F(LuaRuntimeTest, GlobalsAndLibrariesAreReadOnly) {
  EXPECT_EQ(ErrorHead(Eval("x = 5")), "ERR user_script:1: Attempt to modify a readonly table");
  EXPECT_EQ(ErrorHead(Eval("redis = nil")), "ERR user_script:1: Attempt to modify a readonly table");
  EXPECT_EQ(ErrorHead(Eval("string.upper = nil")), "ERR user_script:1: Attempt to modify a readonly table");
  EXPECT_EQ(ErrorHead(Eval("redis.call = nil")), "ERR user_script:1: Attempt to modify a readonly table");
  EXPECT_EQ(ErrorHead(Eval("rawset(_G, 'x', 1)")), "ERR Attempt to modify a readonly table");
  EXPECT_EQ(ErrorHead(Eval("setmetatable(_G, nil)")), "ERR Attempt to modify a readonly table");
  EXPECT_EQ(ErrorHead(Eval("rawset(string, 'upper', 1)")), "ERR Attempt to modify a readonly table");
  EXPECT_EQ(Eval("return getmetatable('')").kind, Kind::kNull);  // the string library stays hidden
  // Ordinary tables stay writable, and the libraries work.
  EXPECT_EQ(Eval("local t = setmetatable({}, {}); rawset(t, 'a', 'b'); return t.a .. string.upper('x')").text, "bX");
  // Nothing leaks from one script to the next.
  Eval("pcall(function() leaked = 1 end)");
  EXPECT_EQ(ErrorHead(Eval("return leaked")),
            "ERR user_script:1: Script attempted to access nonexistent global variable 'leaked'");
}

TEST_F(LuaRuntimeTest, BytecodeIsRefused) {
  ReplyValue value = Eval("local f, e = loadstring(string.dump(function() return 1 end)); return {tostring(f), e}");
  ASSERT_EQ(value.elements.size(), 2u);
  EXPECT_EQ(value.elements[0].text, "nil");
  EXPECT_NE(value.elements[1].text.find("unexpected symbol near 'char(27)'"), std::string::npos)
      << value.elements[1].text;
  EXPECT_EQ(Eval("local s = string.dump(function() return 1 end); local done = false; "
                 "local f = load(function() if done then return nil end; done = true; return s end); "
                 "return tostring(f)")
                .text,
            "nil");
  EXPECT_EQ(Eval("return loadstring('return 1 + 1')()").integer, 2);
  // EVAL of a bytecode body fails to compile.
  EXPECT_EQ(Eval("\x1bLua").text.rfind("ERR Error compiling script", 0), 0u);
}

// ---- kill and the time limit ------------------------------------------------------

TEST_F(LuaRuntimeTest, AKilledScriptStopsEvenInsidePcall) {
  running_.kill = true;
  ReplyValue value = Eval("while true do pcall(function() while true do end end) end");
  EXPECT_EQ(ErrorHead(value), "ERR Script killed by user with SCRIPT KILL...");
  running_.kill = false;
  EXPECT_EQ(Eval("return 1").integer, 1);  // the next script runs normally
}

TEST_F(LuaRuntimeTest, PastItsTimeLimitAScriptMakesTheServerBusy) {
  running_.limit = std::chrono::milliseconds(1);
  EXPECT_FALSE(ScriptBusy());
  ReplyValue value;
  value = Eval("local n = 0; for i = 1, 20000000 do n = n + i end; return redis.call('probe')");
  EXPECT_EQ(value.integer, 1);
  EXPECT_TRUE(caller_.busy_seen);
  EXPECT_FALSE(ScriptBusy());  // over once it ended
}

TEST(ScriptWatch, KillAnswersNotBusyKilledOrUnkillable) {
  ScriptWatch& watch = ScriptWatch::Instance();
  EXPECT_EQ(watch.Kill(), KillOutcome::kNotBusy);
  RunningScript script;
  watch.Begin(script);
  EXPECT_EQ(watch.Kill(), KillOutcome::kKilled);
  EXPECT_TRUE(script.kill);
  EXPECT_FALSE(watch.MarkWriting(script)) << "killed before its first write: it must not write";
  watch.End(script);

  RunningScript writer;
  watch.Begin(writer);
  EXPECT_TRUE(watch.MarkWriting(writer));
  EXPECT_EQ(watch.Kill(), KillOutcome::kUnkillable);
  EXPECT_FALSE(writer.kill);
  watch.End(writer);
  EXPECT_EQ(watch.Kill(), KillOutcome::kNotBusy);
}

}  // namespace
}  // namespace tally::script
