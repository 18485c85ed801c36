// Every Redis-compatible command tallyd supports, driven through redis-cli
// (Debian's redis-tools) against the real daemon, plus exact RESP bytes from
// the raw client where the encoding matters (RESP3, binary values).

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <set>
#include <thread>

#include "tallyd_process.h"

namespace tally::itest {
namespace {

using CommandsTest = TallydTest;

// redis-cli output lines of a session of several commands on ONE connection
// (commands read from stdin, one per line).
std::vector<std::string> Session(int port, std::string_view commands) {
  ProcessResult r = RedisCli(port, {}, commands);
  EXPECT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
  std::vector<std::string> lines = SplitLines(r.out);
  return lines;
}

int64_t ParseCliInteger(const std::string& text) {
  static const std::regex re(R"(\(integer\) (-?\d+))");
  std::smatch m;
  if (!std::regex_match(text, m, re)) {
    ADD_FAILURE() << "not an integer reply: " << text;
    return INT64_MIN;
  }
  return std::stoll(m[1]);
}

// ---- connection commands ---------------------------------------------------

TEST_F(CommandsTest, PingRepliesPongOrItsArgument) {
  EXPECT_EQ(Cli({"PING"}), "PONG");
  EXPECT_EQ(Cli({"ping", "hello world"}), "\"hello world\"");
  RespClient c = Connect();
  EXPECT_EQ(c.CallRaw({"PING"}), "+PONG\r\n");
  EXPECT_EQ(c.CallRaw({"PING", "x"}), "$1\r\nx\r\n");
}

TEST_F(CommandsTest, EchoRepliesItsArgumentAsBulk) {
  EXPECT_EQ(Cli({"ECHO", "hi there"}), "\"hi there\"");
  EXPECT_EQ(Cli({"echo", ""}), "\"\"");
  RespClient c = Connect();
  EXPECT_EQ(c.CallRaw({"ECHO", std::string("a\0b\r\nc", 6)}), std::string("$6\r\na\0b\r\nc\r\n", 12));
}

TEST_F(CommandsTest, QuitRepliesOkThenClosesTheConnection) {
  EXPECT_EQ(Cli({"QUIT"}), "OK");
  RespClient c = Connect();
  EXPECT_EQ(c.CallRaw({"QUIT"}), "+OK\r\n");
  EXPECT_TRUE(c.WaitClosed(2s));
  // The daemon itself is fine.
  EXPECT_EQ(Cli({"PING"}), "PONG");
}

TEST_F(CommandsTest, HelloWithoutVersionDescribesTheServerInResp2) {
  RespClient c = Connect();
  RespValue hello = c.Call({"HELLO"});
  ASSERT_EQ(hello.type, RespValue::Type::kArray) << hello;
  ASSERT_EQ(hello.elements.size(), 14u) << hello;
  EXPECT_EQ(hello.elements[0].str, "server");
  EXPECT_EQ(hello.elements[4].str, "proto");
  EXPECT_EQ(hello.elements[5].integer, 2);
  EXPECT_EQ(hello.elements[6].str, "id");
  EXPECT_EQ(hello.elements[8].str, "mode");
  EXPECT_EQ(hello.elements[9].str, "standalone");
  EXPECT_EQ(hello.elements[10].str, "role");
  EXPECT_EQ(hello.elements[11].str, "master");
  // The id HELLO reports is the connection's CLIENT ID.
  RespValue id = c.Call({"CLIENT", "ID"});
  EXPECT_EQ(id.integer, hello.elements[7].integer);
}

TEST_F(CommandsTest, Hello3SwitchesToResp3AndHello2SwitchesBack) {
  RespClient c = Connect();
  RespValue hello = c.Call({"HELLO", "3"});
  ASSERT_EQ(hello.type, RespValue::Type::kMap) << hello;
  ASSERT_EQ(hello.raw.substr(0, 4), "%7\r\n");
  EXPECT_EQ(hello.elements[4].str, "proto");
  EXPECT_EQ(hello.elements[5].raw, ":3\r\n");
  // RESP3 null and map encodings.
  EXPECT_EQ(c.CallRaw({"GET", "missing"}), "_\r\n");
  EXPECT_EQ(c.CallRaw({"CLIENT", "GETNAME"}), "_\r\n");
  EXPECT_EQ(c.CallRaw({"CONFIG", "GET", "databases"}), "%1\r\n$9\r\ndatabases\r\n$1\r\n1\r\n");
  EXPECT_EQ(c.CallRaw({"SET", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(c.CallRaw({"INCR", "n"}), ":1\r\n");
  RespValue back = c.Call({"HELLO", "2"});
  ASSERT_EQ(back.type, RespValue::Type::kArray) << back;
  EXPECT_EQ(back.elements[5].integer, 2);
  EXPECT_EQ(c.CallRaw({"GET", "missing"}), "$-1\r\n");
  EXPECT_EQ(c.CallRaw({"CONFIG", "GET", "databases"}), "*2\r\n$9\r\ndatabases\r\n$1\r\n1\r\n");
}

TEST_F(CommandsTest, HelloSetnameNamesTheConnection) {
  RespClient c = Connect();
  RespValue hello = c.Call({"HELLO", "2", "SETNAME", "itest-conn"});
  ASSERT_EQ(hello.type, RespValue::Type::kArray) << hello;
  EXPECT_EQ(c.CallRaw({"CLIENT", "GETNAME"}), "$10\r\nitest-conn\r\n");
}

TEST_F(CommandsTest, RedisCliSpeaksResp3) {
  ProcessResult r =
      RunProcess({RedisCliPath(), "-3", "-h", "127.0.0.1", "-p", std::to_string(port()), "--no-raw", "HELLO", "3"});
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "\"proto\" => (integer) 3")) << r.out;
  r = RunProcess({RedisCliPath(), "-3", "-h", "127.0.0.1", "-p", std::to_string(port()), "--no-raw", "GET", "nope"});
  EXPECT_EQ(r.out, "(nil)\n");
}

TEST_F(CommandsTest, SelectZeroIsAccepted) {
  EXPECT_EQ(Cli({"SELECT", "0"}), "OK");
  // redis-cli -n 0 sends SELECT 0 first.
  ProcessResult r =
      RunProcess({RedisCliPath(), "-h", "127.0.0.1", "-p", std::to_string(port()), "-n", "0", "--no-raw", "PING"});
  EXPECT_EQ(r.out, "PONG\n") << r.Describe();
}

TEST_F(CommandsTest, ClientSetnameGetnameSetinfoIdAndInfo) {
  auto lines = Session(port(),
                       "CLIENT GETNAME\n"
                       "CLIENT SETNAME worker-1\n"
                       "CLIENT GETNAME\n"
                       "CLIENT ID\n"
                       "CLIENT SETINFO LIB-NAME tally-itest\n"
                       "CLIENT SETINFO lib-ver 1.2.3\n"
                       "CLIENT INFO\n");
  ASSERT_EQ(lines.size(), 7u) << ::testing::PrintToString(lines);
  EXPECT_EQ(lines[0], "(nil)");
  EXPECT_EQ(lines[1], "OK");
  EXPECT_EQ(lines[2], "\"worker-1\"");
  int64_t id = ParseCliInteger(lines[3]);
  EXPECT_GT(id, 0);
  EXPECT_EQ(lines[4], "OK");
  EXPECT_EQ(lines[5], "OK");
  EXPECT_TRUE(Contains(lines[6], "id=" + std::to_string(id) + " ")) << lines[6];
  EXPECT_TRUE(Contains(lines[6], "name=worker-1")) << lines[6];
  EXPECT_TRUE(Contains(lines[6], "lib-name=tally-itest")) << lines[6];
  EXPECT_TRUE(Contains(lines[6], "lib-ver=1.2.3")) << lines[6];

  // Every connection has its own id and name.
  RespClient a = Connect();
  RespClient b = Connect();
  RespValue ida = a.Call({"CLIENT", "ID"});
  RespValue idb = b.Call({"CLIENT", "ID"});
  ASSERT_EQ(ida.type, RespValue::Type::kInteger);
  ASSERT_EQ(idb.type, RespValue::Type::kInteger);
  EXPECT_NE(ida.integer, idb.integer);
  EXPECT_EQ(a.CallRaw({"CLIENT", "SETNAME", "alpha"}), "+OK\r\n");
  EXPECT_EQ(b.CallRaw({"CLIENT", "GETNAME"}), "$-1\r\n");
  EXPECT_EQ(a.CallRaw({"CLIENT", "GETNAME"}), "$5\r\nalpha\r\n");
}

TEST_F(CommandsTest, CommandCountInfoAndDocsDescribeEveryCommand) {
  const std::vector<std::string> required = {"PING",   "ECHO",   "QUIT",    "HELLO",   "SELECT", "CLIENT", "COMMAND",
                                             "CONFIG", "INFO",   "DBSIZE",  "GET",     "SET",    "MGET",   "DEL",
                                             "EXISTS", "EXPIRE", "PEXPIRE", "PERSIST", "TTL",    "PTTL",   "INCR",
                                             "INCRBY", "DECR",   "DECRBY",  "SCAN"};
  RespClient c = Connect();
  RespValue count = c.Call({"COMMAND", "COUNT"});
  ASSERT_EQ(count.type, RespValue::Type::kInteger) << count;
  EXPECT_GE(count.integer, static_cast<int64_t>(required.size()));
  RespValue all = c.Call({"COMMAND"});
  ASSERT_EQ(all.type, RespValue::Type::kArray) << all;
  EXPECT_EQ(static_cast<int64_t>(all.elements.size()), count.integer);

  for (const auto& name : required) {
    RespValue info = c.Call({"COMMAND", "INFO", name});
    ASSERT_EQ(info.type, RespValue::Type::kArray) << name << ": " << info;
    ASSERT_EQ(info.elements.size(), 1u) << name;
    const RespValue& entry = info.elements[0];
    ASSERT_EQ(entry.type, RespValue::Type::kArray) << name << " is missing from COMMAND INFO: " << info;
    ASSERT_GE(entry.elements.size(), 7u) << entry;
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    EXPECT_EQ(entry.elements[0].str, lower);
    EXPECT_EQ(entry.elements[1].type, RespValue::Type::kInteger);
  }
  // Redis's arities for a few (name included; negative = at least).
  auto arity = [&](const std::string& name) {
    return c.Call({"COMMAND", "INFO", name}).elements[0].elements[1].integer;
  };
  EXPECT_EQ(arity("get"), 2);
  EXPECT_EQ(arity("set"), -3);
  EXPECT_EQ(arity("incrby"), 3);
  EXPECT_EQ(arity("mget"), -2);
  // Unknown names are nil entries, in order.
  RespValue mixed = c.Call({"COMMAND", "INFO", "get", "no-such-command", "set"});
  ASSERT_EQ(mixed.elements.size(), 3u) << mixed;
  EXPECT_EQ(mixed.elements[1].type, RespValue::Type::kNull);
  EXPECT_EQ(mixed.elements[2].elements[0].str, "set");

  // COMMAND DOCS: name => map with at least a summary.
  RespValue docs = c.Call({"COMMAND", "DOCS", "incrby"});
  ASSERT_EQ(docs.type, RespValue::Type::kArray) << docs;
  ASSERT_EQ(docs.elements.size(), 2u) << docs;
  EXPECT_EQ(docs.elements[0].str, "incrby");
  EXPECT_TRUE(Contains(docs.elements[1].ToString(), "summary")) << docs;
  RespValue all_docs = c.Call({"COMMAND", "DOCS"});
  ASSERT_EQ(all_docs.type, RespValue::Type::kArray);
  EXPECT_EQ(static_cast<int64_t>(all_docs.elements.size()), 2 * count.integer);

  // And redis-cli renders them.
  EXPECT_EQ(Cli({"COMMAND", "COUNT"}), "(integer) " + std::to_string(count.integer));
  EXPECT_TRUE(Contains(Cli({"COMMAND", "DOCS", "get"}), "\"summary\""));
}

TEST_F(CommandsTest, ConfigGetAnswersWhatRedisToolsAsk) {
  EXPECT_EQ(Cli({"CONFIG", "GET", "save"}), "1) \"save\"\n2) \"\"");
  EXPECT_EQ(Cli({"CONFIG", "GET", "appendonly"}), "1) \"appendonly\"\n2) \"yes\"");
  EXPECT_EQ(Cli({"CONFIG", "GET", "appendfsync"}), "1) \"appendfsync\"\n2) \"everysec\"");
  EXPECT_EQ(Cli({"CONFIG", "GET", "databases"}), "1) \"databases\"\n2) \"1\"");
  EXPECT_EQ(Cli({"CONFIG", "GET", "port"}), "1) \"port\"\n2) \"" + std::to_string(port()) + "\"");
  EXPECT_EQ(Cli({"CONFIG", "GET", "no-such-setting"}), "(empty array)");
  RespClient c = Connect();
  RespValue several = c.Call({"CONFIG", "GET", "maxclients", "DIR"});
  ASSERT_EQ(several.type, RespValue::Type::kArray) << several;
  ASSERT_EQ(several.elements.size(), 4u) << several;
  RespValue all = c.Call({"CONFIG", "GET", "*"});
  ASSERT_EQ(all.type, RespValue::Type::kArray) << all;
  EXPECT_EQ(all.elements.size() % 2, 0u);
  EXPECT_GE(all.elements.size(), 10u);
  RespValue glob = c.Call({"CONFIG", "GET", "append*"});
  EXPECT_EQ(glob.elements.size(), 4u) << glob;
}

TEST_F(CommandsTest, InfoReportsEverySection) {
  ASSERT_EQ(Cli({"SET", "plain", "1"}), "OK");
  ASSERT_EQ(Cli({"SET", "with-ttl", "1", "EX", "1000"}), "OK");
  ProcessResult r = RedisCli(port(), {"INFO"});
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
  for (const char* section : {"# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Keyspace"}) {
    EXPECT_TRUE(Contains(r.out, section)) << "INFO lacks " << section << ":\n" << r.out;
  }
  std::string server = Cli({"INFO", "server"});
  EXPECT_TRUE(Contains(server, "# Server")) << server;
  EXPECT_TRUE(Contains(server, "redis_version:")) << server;
  EXPECT_TRUE(Contains(server, "tcp_port:" + std::to_string(port()))) << server;
  EXPECT_FALSE(Contains(server, "# Clients")) << server;
  std::string clients = Cli({"INFO", "clients"});
  EXPECT_TRUE(Contains(clients, "connected_clients:")) << clients;
  EXPECT_FALSE(Contains(clients, "# Server")) << clients;
  EXPECT_TRUE(Contains(Cli({"INFO", "memory"}), "used_memory:"));
  std::string persistence = Cli({"INFO", "persistence"});
  EXPECT_TRUE(Contains(persistence, "durability:process")) << persistence;
  EXPECT_TRUE(Contains(persistence, "loading:0")) << persistence;
  std::string stats = Cli({"INFO", "stats"});
  EXPECT_TRUE(Contains(stats, "total_commands_processed:")) << stats;
  EXPECT_TRUE(Contains(stats, "total_connections_received:")) << stats;
  EXPECT_TRUE(Contains(Cli({"INFO", "keyspace"}), "db0:keys=2,expires=1")) << Cli({"INFO", "keyspace"});
  // Several sections at once, case-insensitive.
  std::string two = Cli({"INFO", "SERVER", "Keyspace"});
  EXPECT_TRUE(Contains(two, "# Server") && Contains(two, "# Keyspace") && !Contains(two, "# Memory")) << two;
}

TEST_F(CommandsTest, InfoStatsCountCommandsAndErrorReplies) {
  RespClient c = Connect();
  auto stat = [&](const std::string& name) -> int64_t {
    RespValue info = c.Call({"INFO", "stats"});
    std::smatch m;
    std::regex re(name + ":(\\d+)");
    if (!std::regex_search(info.str, m, re)) {
      ADD_FAILURE() << name << " missing in " << info.str;
      return -1;
    }
    return std::stoll(m[1]);
  };
  int64_t errors_before = stat("total_error_replies");
  int64_t commands_before = stat("total_commands_processed");
  EXPECT_TRUE(c.Call({"NOSUCHCOMMAND"}).is_error());
  EXPECT_TRUE(c.Call({"GET"}).is_error());
  EXPECT_TRUE(c.Call({"INCRBY", "k", "abc"}).is_error());
  EXPECT_TRUE(c.Call({"SELECT", "1"}).is_error());
  EXPECT_EQ(c.CallRaw({"PING"}), "+PONG\r\n");
  // Redis counts every error reply (unknown command, arity, and the command's own errors).
  EXPECT_EQ(stat("total_error_replies") - errors_before, 4);
  EXPECT_GE(stat("total_commands_processed") - commands_before, 6);
}

// ---- the plain keyspace ------------------------------------------------------

TEST_F(CommandsTest, SetThenGetRoundTripsAndOverwrites) {
  EXPECT_EQ(Cli({"GET", "greeting"}), "(nil)");
  EXPECT_EQ(Cli({"SET", "greeting", "hello"}), "OK");
  EXPECT_EQ(Cli({"GET", "greeting"}), "\"hello\"");
  EXPECT_EQ(Cli({"SET", "greeting", "hello world, again"}), "OK");
  EXPECT_EQ(Cli({"GET", "greeting"}), "\"hello world, again\"");
  EXPECT_EQ(Cli({"SET", "empty", ""}), "OK");
  EXPECT_EQ(Cli({"GET", "empty"}), "\"\"");
}

TEST_F(CommandsTest, ValuesAndKeysAreBinarySafe) {
  RespClient c = Connect();
  const std::string key("k\0\r\n\xff", 5);
  std::string value;
  for (int i = 0; i < 256; ++i) value.push_back(static_cast<char>(i));
  EXPECT_EQ(c.CallRaw({"SET", key, value}), "+OK\r\n");
  RespValue got = c.Call({"GET", key});
  ASSERT_EQ(got.type, RespValue::Type::kBulk) << got;
  EXPECT_EQ(got.str, value);
  // A 1 MiB value.
  std::string big(1 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4097) big[i] = static_cast<char>('a' + i % 26);
  EXPECT_EQ(c.CallRaw({"SET", "big", big}), "+OK\r\n");
  RespValue back = c.Call({"GET", "big"});
  EXPECT_EQ(back.str.size(), big.size());
  EXPECT_TRUE(back.str == big);
}

TEST_F(CommandsTest, SetNxAndXxAreConditional) {
  EXPECT_EQ(Cli({"SET", "lock", "owner-a", "NX"}), "OK");
  EXPECT_EQ(Cli({"SET", "lock", "owner-b", "NX"}), "(nil)");
  EXPECT_EQ(Cli({"GET", "lock"}), "\"owner-a\"");
  EXPECT_EQ(Cli({"SET", "absent", "v", "XX"}), "(nil)");
  EXPECT_EQ(Cli({"EXISTS", "absent"}), "(integer) 0");
  EXPECT_EQ(Cli({"SET", "lock", "owner-c", "XX"}), "OK");
  EXPECT_EQ(Cli({"GET", "lock"}), "\"owner-c\"");
  // The lock-with-TTL idiom.
  EXPECT_EQ(Cli({"SET", "refresh-lock", "1", "NX", "PX", "30000"}), "OK");
  EXPECT_EQ(Cli({"SET", "refresh-lock", "1", "NX", "PX", "30000"}), "(nil)");
}

TEST_F(CommandsTest, SetExPxExatPxatSetTheTtl) {
  EXPECT_EQ(Cli({"SET", "a", "1", "EX", "100"}), "OK");
  int64_t ttl = ParseCliInteger(Cli({"TTL", "a"}));
  EXPECT_GE(ttl, 99);
  EXPECT_LE(ttl, 100);
  EXPECT_EQ(Cli({"SET", "b", "1", "PX", "5000"}), "OK");
  int64_t pttl = ParseCliInteger(Cli({"PTTL", "b"}));
  EXPECT_GT(pttl, 4000);
  EXPECT_LE(pttl, 5000);
  int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_EQ(Cli({"SET", "c", "1", "EXAT", std::to_string(now_s + 200)}), "OK");
  ttl = ParseCliInteger(Cli({"TTL", "c"}));
  EXPECT_GE(ttl, 198);
  EXPECT_LE(ttl, 201);
  EXPECT_EQ(Cli({"SET", "d", "1", "PXAT", std::to_string((now_s + 300) * 1000)}), "OK");
  ttl = ParseCliInteger(Cli({"TTL", "d"}));
  EXPECT_GE(ttl, 298);
  EXPECT_LE(ttl, 301);
  // An absolute time in the past deletes the key (Redis replies OK).
  EXPECT_EQ(Cli({"SET", "e", "1", "EXAT", "1"}), "OK");
  EXPECT_EQ(Cli({"EXISTS", "e"}), "(integer) 0");
}

TEST_F(CommandsTest, SetKeepttlKeepsAndPlainSetClearsTheTtl) {
  EXPECT_EQ(Cli({"SET", "k", "1", "EX", "100"}), "OK");
  EXPECT_EQ(Cli({"SET", "k", "2", "KEEPTTL"}), "OK");
  EXPECT_GE(ParseCliInteger(Cli({"TTL", "k"})), 99);
  EXPECT_EQ(Cli({"GET", "k"}), "\"2\"");
  EXPECT_EQ(Cli({"SET", "k", "3"}), "OK");
  EXPECT_EQ(Cli({"TTL", "k"}), "(integer) -1");
}

TEST_F(CommandsTest, SetGetReturnsThePreviousValue) {
  EXPECT_EQ(Cli({"SET", "k", "first", "GET"}), "(nil)");
  EXPECT_EQ(Cli({"SET", "k", "second", "GET"}), "\"first\"");
  EXPECT_EQ(Cli({"GET", "k"}), "\"second\"");
  // NX GET on an existing key: not set, old value returned (Redis 7.0).
  EXPECT_EQ(Cli({"SET", "k", "third", "NX", "GET"}), "\"second\"");
  EXPECT_EQ(Cli({"GET", "k"}), "\"second\"");
}

TEST_F(CommandsTest, KeysExpireAndVanishFromEveryCommand) {
  // 600 ms: each Cli() starts a redis-cli process, which takes well over
  // 150 ms when the machine runs other tests in parallel.
  EXPECT_EQ(Cli({"SET", "short", "v", "PX", "600"}), "OK");
  EXPECT_EQ(Cli({"SET", "long", "v", "EX", "1000"}), "OK");
  EXPECT_EQ(Cli({"EXISTS", "short"}), "(integer) 1");
  std::this_thread::sleep_for(900ms);
  EXPECT_EQ(Cli({"GET", "short"}), "(nil)");
  EXPECT_EQ(Cli({"EXISTS", "short"}), "(integer) 0");
  EXPECT_EQ(Cli({"TTL", "short"}), "(integer) -2");
  EXPECT_EQ(Cli({"PTTL", "short"}), "(integer) -2");
  EXPECT_EQ(Cli({"INCR", "short"}), "(integer) 1");  // a fresh key, without the old TTL
  EXPECT_EQ(Cli({"TTL", "short"}), "(integer) -1");
  EXPECT_EQ(Cli({"GET", "long"}), "\"v\"");
}

TEST_F(CommandsTest, ExpiredKeysAreNotListedByScan) {
  for (int i = 0; i < 20; ++i) ASSERT_EQ(Cli({"SET", "tmp:" + std::to_string(i), "v", "PX", "100"}), "OK");
  ASSERT_EQ(Cli({"SET", "keep", "v"}), "OK");
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(Cli({"SCAN", "0", "COUNT", "1000"}), "1) \"0\"\n2) 1) \"keep\"");
  EXPECT_EQ(Cli({"SCAN", "0", "MATCH", "tmp:*", "COUNT", "1000"}), "1) \"0\"\n2) (empty array)");
}

// Expired keys that nobody touches again are reaped by compaction (Redis
// reaps them with its active expiry cycle), so they leave DBSIZE, INFO
// keyspace and memory.
class FastCompactionCommandsTest : public TallydTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--compaction-interval-ms", "100"}; }
};

TEST_F(FastCompactionCommandsTest, ExpiredKeysLeaveDbsizeAfterCompaction) {
  RespClient c = Connect();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(c.CallRaw({"SET", "tmp:" + std::to_string(i), "v", "PX", "700"}), "+OK\r\n");
  ASSERT_EQ(c.CallRaw({"SET", "keep", "v"}), "+OK\r\n");
  ASSERT_EQ(c.CallRaw({"SET", "keep-ttl", "v", "EX", "1000"}), "+OK\r\n");
  // Let a compaction fold the keys while they are alive: reaping must not
  // depend on a key being changed again after that.
  for (int i = 0; i < 100 && !Contains(c.Call({"INFO", "persistence"}).str, "log_entries_uncompacted:0\r\n"); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(c.CallRaw({"DBSIZE"}), ":22\r\n") << "the keys expired before a compaction folded them";
  std::string dbsize;
  for (int i = 0; i < 100; ++i) {  // up to 3 s
    std::this_thread::sleep_for(30ms);
    dbsize = c.CallRaw({"DBSIZE"});
    if (dbsize == ":2\r\n") break;
  }
  EXPECT_EQ(dbsize, ":2\r\n");
  std::string keyspace = c.Call({"INFO", "keyspace"}).str;
  EXPECT_TRUE(Contains(keyspace, "db0:keys=2,expires=1")) << keyspace;
}

TEST_F(CommandsTest, MgetReturnsValuesAndNilsInOrder) {
  ASSERT_EQ(Cli({"SET", "a", "1"}), "OK");
  ASSERT_EQ(Cli({"SET", "c", "3"}), "OK");
  EXPECT_EQ(Cli({"MGET", "a", "b", "c", "a"}), "1) \"1\"\n2) (nil)\n3) \"3\"\n4) \"1\"");
  EXPECT_EQ(Cli({"MGET", "none"}), "1) (nil)");
}

TEST_F(CommandsTest, DelAndExistsCountKeys) {
  ASSERT_EQ(Cli({"SET", "a", "1"}), "OK");
  ASSERT_EQ(Cli({"SET", "b", "2"}), "OK");
  EXPECT_EQ(Cli({"EXISTS", "a"}), "(integer) 1");
  EXPECT_EQ(Cli({"EXISTS", "a", "b", "c"}), "(integer) 2");
  EXPECT_EQ(Cli({"EXISTS", "a", "a", "a"}), "(integer) 3");  // Redis counts repeats
  EXPECT_EQ(Cli({"DEL", "a", "b", "c"}), "(integer) 2");
  EXPECT_EQ(Cli({"DEL", "a"}), "(integer) 0");
  EXPECT_EQ(Cli({"EXISTS", "a", "b"}), "(integer) 0");
  EXPECT_EQ(Cli({"GET", "a"}), "(nil)");
}

TEST_F(CommandsTest, DbsizeCountsKeys) {
  EXPECT_EQ(Cli({"DBSIZE"}), "(integer) 0");
  for (int i = 0; i < 5; ++i) ASSERT_EQ(Cli({"SET", "k" + std::to_string(i), "v"}), "OK");
  EXPECT_EQ(Cli({"DBSIZE"}), "(integer) 5");
  ASSERT_EQ(Cli({"DEL", "k0", "k1"}), "(integer) 2");
  EXPECT_EQ(Cli({"DBSIZE"}), "(integer) 3");
  ASSERT_EQ(Cli({"INCR", "counter"}), "(integer) 1");
  EXPECT_EQ(Cli({"DBSIZE"}), "(integer) 4");
}

TEST_F(CommandsTest, ExpirePexpirePersistTtlAndPttl) {
  EXPECT_EQ(Cli({"TTL", "missing"}), "(integer) -2");
  EXPECT_EQ(Cli({"PTTL", "missing"}), "(integer) -2");
  EXPECT_EQ(Cli({"EXPIRE", "missing", "100"}), "(integer) 0");
  EXPECT_EQ(Cli({"PERSIST", "missing"}), "(integer) 0");
  ASSERT_EQ(Cli({"SET", "k", "v"}), "OK");
  EXPECT_EQ(Cli({"TTL", "k"}), "(integer) -1");
  EXPECT_EQ(Cli({"PTTL", "k"}), "(integer) -1");
  EXPECT_EQ(Cli({"PERSIST", "k"}), "(integer) 0");
  EXPECT_EQ(Cli({"EXPIRE", "k", "100"}), "(integer) 1");
  int64_t ttl = ParseCliInteger(Cli({"TTL", "k"}));
  EXPECT_GE(ttl, 99);
  EXPECT_LE(ttl, 100);
  EXPECT_EQ(Cli({"PEXPIRE", "k", "50000"}), "(integer) 1");
  int64_t pttl = ParseCliInteger(Cli({"PTTL", "k"}));
  EXPECT_GT(pttl, 49000);
  EXPECT_LE(pttl, 50000);
  EXPECT_EQ(ParseCliInteger(Cli({"TTL", "k"})), (pttl + 500) / 1000);  // Redis rounds TTL
  EXPECT_EQ(Cli({"PERSIST", "k"}), "(integer) 1");
  EXPECT_EQ(Cli({"TTL", "k"}), "(integer) -1");
  EXPECT_EQ(Cli({"GET", "k"}), "\"v\"");
  // A non-positive TTL deletes the key, as in Redis.
  EXPECT_EQ(Cli({"EXPIRE", "k", "-1"}), "(integer) 1");
  EXPECT_EQ(Cli({"EXISTS", "k"}), "(integer) 0");
  ASSERT_EQ(Cli({"SET", "p", "v"}), "OK");
  EXPECT_EQ(Cli({"PEXPIRE", "p", "0"}), "(integer) 1");
  EXPECT_EQ(Cli({"EXISTS", "p"}), "(integer) 0");
}

TEST_F(CommandsTest, ExpireNxXxGtLtConditions) {
  ASSERT_EQ(Cli({"SET", "k", "v"}), "OK");
  EXPECT_EQ(Cli({"EXPIRE", "k", "100", "XX"}), "(integer) 0");  // no TTL yet
  EXPECT_EQ(Cli({"EXPIRE", "k", "100", "GT"}), "(integer) 0");  // no TTL counts as infinite
  EXPECT_EQ(Cli({"EXPIRE", "k", "100", "NX"}), "(integer) 1");
  EXPECT_EQ(Cli({"EXPIRE", "k", "200", "NX"}), "(integer) 0");
  EXPECT_EQ(Cli({"EXPIRE", "k", "50", "GT"}), "(integer) 0");
  EXPECT_EQ(Cli({"EXPIRE", "k", "200", "GT"}), "(integer) 1");
  EXPECT_EQ(Cli({"EXPIRE", "k", "300", "LT"}), "(integer) 0");
  EXPECT_EQ(Cli({"EXPIRE", "k", "150", "LT"}), "(integer) 1");
  EXPECT_EQ(Cli({"EXPIRE", "k", "120", "XX"}), "(integer) 1");
  int64_t ttl = ParseCliInteger(Cli({"TTL", "k"}));
  EXPECT_GE(ttl, 119);
  EXPECT_LE(ttl, 120);
}

TEST_F(CommandsTest, IncrDecrIncrbyDecrbyCount) {
  EXPECT_EQ(Cli({"INCR", "n"}), "(integer) 1");
  EXPECT_EQ(Cli({"INCR", "n"}), "(integer) 2");
  EXPECT_EQ(Cli({"INCRBY", "n", "40"}), "(integer) 42");
  EXPECT_EQ(Cli({"DECR", "n"}), "(integer) 41");
  EXPECT_EQ(Cli({"DECRBY", "n", "50"}), "(integer) -9");
  EXPECT_EQ(Cli({"INCRBY", "n", "-1"}), "(integer) -10");
  EXPECT_EQ(Cli({"DECRBY", "n", "-10"}), "(integer) 0");
  EXPECT_EQ(Cli({"GET", "n"}), "\"0\"");
  EXPECT_EQ(Cli({"DECR", "fresh"}), "(integer) -1");
  EXPECT_EQ(Cli({"DECRBY", "fresh2", "5"}), "(integer) -5");
  // Numbers stored with SET count too.
  ASSERT_EQ(Cli({"SET", "s", "100"}), "OK");
  EXPECT_EQ(Cli({"INCRBY", "s", "23"}), "(integer) 123");
  ASSERT_EQ(Cli({"SET", "neg", "-5"}), "OK");
  EXPECT_EQ(Cli({"INCR", "neg"}), "(integer) -4");
  // The int64 range edges are reachable.
  EXPECT_EQ(Cli({"INCRBY", "max", "9223372036854775807"}), "(integer) 9223372036854775807");
  EXPECT_EQ(Cli({"INCRBY", "min", "-9223372036854775808"}), "(integer) -9223372036854775808");
  EXPECT_EQ(Cli({"INCRBY", "max", "-9223372036854775807"}), "(integer) 0");
}

TEST_F(CommandsTest, IncrKeepsTheKeysTtl) {
  ASSERT_EQ(Cli({"SET", "rate", "5", "EX", "100"}), "OK");
  EXPECT_EQ(Cli({"INCR", "rate"}), "(integer) 6");
  EXPECT_EQ(Cli({"INCRBY", "rate", "4"}), "(integer) 10");
  EXPECT_GE(ParseCliInteger(Cli({"TTL", "rate"})), 99);
}

TEST_F(CommandsTest, ScanVisitsEveryKeyOnceWithMatchAndCount) {
  // 150 user:* keys and 60 order:* keys, written in one pipeline.
  RespClient c = Connect();
  std::string pipeline;
  std::set<std::string> users, orders;
  for (int i = 0; i < 150; ++i) {
    users.insert("user:" + std::to_string(i));
    pipeline += EncodeCommand({"SET", "user:" + std::to_string(i), "v"});
  }
  for (int i = 0; i < 60; ++i) {
    orders.insert("order:" + std::to_string(i));
    pipeline += EncodeCommand({"SET", "order:" + std::to_string(i), "v"});
  }
  ASSERT_TRUE(c.Send(pipeline));
  for (int i = 0; i < 210; ++i) ASSERT_EQ(c.ReadReply().raw, "+OK\r\n");

  auto scan_all = [&](std::vector<std::string> options, int* rounds) {
    std::multiset<std::string> seen;
    std::string cursor = "0";
    *rounds = 0;
    do {
      std::vector<std::string> cmd = {"SCAN", cursor};
      cmd.insert(cmd.end(), options.begin(), options.end());
      RespValue page = c.Call(cmd);
      EXPECT_EQ(page.type, RespValue::Type::kArray) << page;
      if (page.type != RespValue::Type::kArray || page.elements.size() != 2) break;
      cursor = page.elements[0].str;
      for (const auto& key : page.elements[1].elements) seen.insert(key.str);
      ++*rounds;
    } while (cursor != "0" && *rounds < 10000);
    return seen;
  };
  int rounds = 0;
  auto everything = scan_all({"COUNT", "7"}, &rounds);
  std::multiset<std::string> expected(users.begin(), users.end());
  expected.insert(orders.begin(), orders.end());
  EXPECT_EQ(everything, expected);
  EXPECT_GT(rounds, 1) << "COUNT 7 should need several pages";
  auto only_users = scan_all({"MATCH", "user:*", "COUNT", "20"}, &rounds);
  EXPECT_EQ(only_users, std::multiset<std::string>(users.begin(), users.end()));
  auto some_orders = scan_all({"MATCH", "order:1?"}, &rounds);
  EXPECT_EQ(some_orders.size(), 10u);
  auto none = scan_all({"MATCH", "nothing:*", "COUNT", "1000"}, &rounds);
  EXPECT_TRUE(none.empty());
  auto typed = scan_all({"TYPE", "string", "COUNT", "1000"}, &rounds);
  EXPECT_EQ(typed.size(), 210u);

  // redis-cli's own SCAN loop.
  ProcessResult r =
      RunProcess({RedisCliPath(), "-h", "127.0.0.1", "-p", std::to_string(port()), "--scan", "--pattern", "order:*"});
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
  auto lines = SplitLines(r.out);
  EXPECT_EQ(std::set<std::string>(lines.begin(), lines.end()), orders);
}

TEST_F(CommandsTest, AuthBehavesLikeRedisWithoutAPassword) {
  // Redis 7.0 with no requirepass: the default user is "nopass".
  EXPECT_EQ(Cli({"AUTH", "secret"}),
            "(error) ERR AUTH <password> called without any password configured for the default user. Are you "
            "sure your configuration is correct?");
  RespClient c = Connect();
  EXPECT_EQ(c.CallRaw({"AUTH", "default", "anything"}), "+OK\r\n");
  EXPECT_EQ(c.CallRaw({"AUTH", "alice", "pw"}), "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(c.CallRaw({"AUTH", "a", "b", "c"}), "-ERR syntax error\r\n");
  EXPECT_EQ(c.CallRaw({"AUTH"}), "-ERR wrong number of arguments for 'auth' command\r\n");
  RespValue hello = c.Call({"HELLO", "3", "AUTH", "default", "x", "SETNAME", "authed"});
  EXPECT_EQ(hello.type, RespValue::Type::kMap) << hello;
  EXPECT_EQ(c.CallRaw({"CLIENT", "GETNAME"}), "$6\r\nauthed\r\n");
  EXPECT_EQ(c.CallRaw({"HELLO", "2", "AUTH", "alice", "pw"}),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(c.CallRaw({"GET", "nope"}), "_\r\n");  // the failed HELLO changed nothing: still RESP3
  // redis-cli --user/--pass sends AUTH default <pass>.
  ProcessResult r = RunProcess({RedisCliPath(), "-h", "127.0.0.1", "-p", std::to_string(port()), "--user", "default",
                                "--pass", "whatever", "--no-auth-warning", "PING"});
  EXPECT_EQ(r.out, "PONG\n") << r.Describe();
}

TEST_F(CommandsTest, UnixSocketServesTheSameData) {
  ProcessResult r = RedisCliUnix(daemon().unix_socket(), {"PING"});
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
  EXPECT_EQ(r.out, "PONG\n");
  EXPECT_EQ(RedisCliUnix(daemon().unix_socket(), {"SET", "via", "unix"}).out, "OK\n");
  EXPECT_EQ(Cli({"GET", "via"}), "\"unix\"");
  ASSERT_EQ(Cli({"INCRBY", "shared", "5"}), "(integer) 5");
  EXPECT_EQ(RedisCliUnix(daemon().unix_socket(), {"INCRBY", "shared", "5"}).out, "(integer) 10\n");
  // Raw RESP over the unix socket, pipelined.
  auto c = RespClient::ConnectUnix(daemon().unix_socket());
  ASSERT_TRUE(c.has_value());
  ASSERT_TRUE(c->Send(EncodeCommand({"INCR", "shared"}) + "PING\r\n" + EncodeCommand({"GET", "via"})));
  EXPECT_EQ(c->ReadReply().raw, ":11\r\n");
  EXPECT_EQ(c->ReadReply().raw, "+PONG\r\n");
  EXPECT_EQ(c->ReadReply().raw, "$4\r\nunix\r\n");
  // INFO over the unix socket works too (redis-cli asks for it in some modes).
  EXPECT_TRUE(Contains(RedisCliUnix(daemon().unix_socket(), {"INFO", "server"}).out, "# Server"));
}

// ---- HyperLogLog -------------------------------------------------------------

TEST_F(CommandsTest, PfAddPfCountAndPfMergeCountDistinctMembersAndSurviveAKill) {
  RespClient c = Connect();
  EXPECT_EQ(c.CallRaw({"PFADD", "uv", "a", "b", "c"}), ":1\r\n");
  EXPECT_EQ(c.CallRaw({"PFADD", "uv", "b"}), ":0\r\n") << "nothing new";
  EXPECT_EQ(c.CallRaw({"PFCOUNT", "uv"}), ":3\r\n");
  EXPECT_EQ(c.CallRaw({"PFADD", "created"}), ":1\r\n") << "no element: the key is created";
  EXPECT_EQ(c.CallRaw({"PFADD", "created"}), ":0\r\n");
  EXPECT_EQ(c.CallRaw({"PFCOUNT", "missing"}), ":0\r\n");
  // 100,000 members in pipelined batches: the estimate Redis 7.0 gives for them.
  std::string pipeline;
  for (int batch = 0; batch < 100; ++batch) {
    std::vector<std::string> args = {"PFADD", "big"};
    for (int i = 0; i < 1000; ++i) args.push_back("member:" + std::to_string(batch * 1000 + i));
    pipeline += EncodeCommand(args);
  }
  ASSERT_TRUE(c.Send(pipeline));
  for (int batch = 0; batch < 100; ++batch) ASSERT_EQ(c.ReadReply().raw, ":1\r\n") << batch;
  EXPECT_EQ(Cli({"PFCOUNT", "big"}), "(integer) 100445");
  EXPECT_EQ(Cli({"PFCOUNT", "uv", "created", "missing"}), "(integer) 3") << "the union of several keys";
  EXPECT_EQ(Cli({"PFMERGE", "all", "uv", "big"}), "OK");
  const std::string merged = Cli({"PFCOUNT", "all"});
  EXPECT_EQ(merged, Cli({"PFCOUNT", "uv", "big"}));
  // A plain string is not a HyperLogLog: Redis's error, and nothing changes.
  ASSERT_EQ(Cli({"SET", "plain", "text"}), "OK");
  for (const std::vector<std::string>& command : std::vector<std::vector<std::string>>{{"PFADD", "plain", "a"},
                                                                                       {"PFCOUNT", "plain"},
                                                                                       {"PFCOUNT", "uv", "plain"},
                                                                                       {"PFMERGE", "plain", "uv"},
                                                                                       {"PFMERGE", "uv", "plain"}}) {
    EXPECT_EQ(c.CallRaw(command), "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n") << command[0];
  }
  EXPECT_EQ(Cli({"GET", "plain"}), "\"text\"");
  EXPECT_EQ(c.CallRaw({"PFCOUNT", "uv"}), ":3\r\n");
  EXPECT_EQ(c.CallRaw({"PFADD"}), "-ERR wrong number of arguments for 'pfadd' command\r\n");

  ASSERT_TRUE(daemon().KillAndRestart());
  EXPECT_EQ(Cli({"PFCOUNT", "big"}), "(integer) 100445");
  EXPECT_EQ(Cli({"PFCOUNT", "uv"}), "(integer) 3");
  EXPECT_EQ(Cli({"PFCOUNT", "all"}), merged);
  EXPECT_EQ(Cli({"PFADD", "big", "member:7"}), "(integer) 0");
}

}  // namespace
}  // namespace tally::itest
