// Bad input that keeps framing: every error is Redis 7.0's exact text, changes
// nothing, and leaves the connection usable (the same connection answers PING
// right after).

#include <gtest/gtest.h>

#include <thread>

#include "tallyd_process.h"

namespace tally::itest {
namespace {

using ErrorsTest = TallydTest;

struct ErrorCase {
  std::vector<std::string> command;
  std::string expected;  // the exact reply bytes
};

// Sends each command on ONE connection, checks the exact reply, then checks
// that the same connection still answers PING.
void ExpectErrorsKeepConnection(RespClient& c, const std::vector<ErrorCase>& cases) {
  for (const auto& test : cases) {
    EXPECT_EQ(c.CallRaw(test.command), test.expected) << "command: " << ::testing::PrintToString(test.command);
    ASSERT_EQ(c.CallRaw({"PING"}), "+PONG\r\n")
        << "connection unusable after " << ::testing::PrintToString(test.command);
  }
}

TEST_F(ErrorsTest, UnknownCommandEchoesNameAndArgumentsLikeRedis) {
  RespClient c = Connect();
  ExpectErrorsKeepConnection(
      c, {
             {{"FOO"}, "-ERR unknown command 'FOO', with args beginning with: \r\n"},
             {{"foo", "a", "b"}, "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"},
             {{"CTR.NOPE", "user:1", "x y"},
              "-ERR unknown command 'CTR.NOPE', with args beginning with: 'user:1' 'x y' \r\n"},
             // CR/LF in user text become spaces so the reply cannot break framing.
             {{"bad\r\ncmd", "x\ny"}, "-ERR unknown command 'bad  cmd', with args beginning with: 'x y' \r\n"},
             // Arguments are cut at 128 bytes in total, as Redis does.
             {{"foo", std::string(200, 'a'), "second"},
              "-ERR unknown command 'foo', with args beginning with: '" + std::string(128, 'a') + "' \r\n"},
             {{"foo", std::string(100, 'a'), std::string(100, 'b'), "third"},
              "-ERR unknown command 'foo', with args beginning with: '" + std::string(100, 'a') + "' '" +
                  std::string(25, 'b') + "' \r\n"},
         });
  // Inline too.
  EXPECT_EQ(c.SendRaw("nosuch arg1 arg2\r\n"),
            "-ERR unknown command 'nosuch', with args beginning with: 'arg1' 'arg2' \r\n");
  EXPECT_EQ(c.SendRaw("PING\r\n"), "+PONG\r\n");
}

TEST_F(ErrorsTest, WrongArityNamesTheCommandInLowerCase) {
  RespClient c = Connect();
  auto arity = [](const std::string& name) { return "-ERR wrong number of arguments for '" + name + "' command\r\n"; };
  ExpectErrorsKeepConnection(c, {
                                    {{"GET"}, arity("get")},
                                    {{"get", "a", "b"}, arity("get")},
                                    {{"SeT", "a"}, arity("set")},
                                    {{"INCR"}, arity("incr")},
                                    {{"INCR", "a", "b"}, arity("incr")},
                                    {{"INCRBY", "a"}, arity("incrby")},
                                    {{"INCRBY", "a", "1", "2"}, arity("incrby")},
                                    {{"DECR"}, arity("decr")},
                                    {{"DECRBY", "a"}, arity("decrby")},
                                    {{"MGET"}, arity("mget")},
                                    {{"DEL"}, arity("del")},
                                    {{"EXISTS"}, arity("exists")},
                                    {{"EXPIRE", "a"}, arity("expire")},
                                    {{"PEXPIRE", "a"}, arity("pexpire")},
                                    {{"PERSIST"}, arity("persist")},
                                    {{"TTL"}, arity("ttl")},
                                    {{"PTTL", "a", "b"}, arity("pttl")},
                                    {{"ECHO"}, arity("echo")},
                                    {{"ECHO", "a", "b"}, arity("echo")},
                                    {{"PING", "a", "b"}, arity("ping")},
                                    {{"SELECT"}, arity("select")},
                                    {{"DBSIZE", "x"}, arity("dbsize")},
                                    {{"SCAN"}, arity("scan")},
                                    {{"CLIENT"}, arity("client")},
                                    {{"CLIENT", "SETNAME"}, arity("client|setname")},
                                    {{"CLIENT", "GETNAME", "x"}, arity("client|getname")},
                                    {{"CONFIG"}, arity("config")},
                                    {{"CONFIG", "GET"}, arity("config|get")},
                                });
}

TEST_F(ErrorsTest, NonIntegerArgumentsAndValuesAreRefused) {
  RespClient c = Connect();
  const std::string not_int = "-ERR value is not an integer or out of range\r\n";
  ASSERT_EQ(c.CallRaw({"SET", "word", "hello"}), "+OK\r\n");
  ASSERT_EQ(c.CallRaw({"SET", "spaced", " 12"}), "+OK\r\n");
  ASSERT_EQ(c.CallRaw({"SET", "huge", "9223372036854775808"}), "+OK\r\n");
  ASSERT_EQ(c.CallRaw({"SET", "n", "5"}), "+OK\r\n");
  ExpectErrorsKeepConnection(c, {
                                    {{"INCRBY", "n", "abc"}, not_int},
                                    {{"INCRBY", "n", "1.5"}, not_int},
                                    {{"INCRBY", "n", " 1"}, not_int},
                                    {{"INCRBY", "n", "+1"}, not_int},
                                    {{"INCRBY", "n", "01"}, not_int},
                                    {{"INCRBY", "n", ""}, not_int},
                                    {{"INCRBY", "n", "9223372036854775808"}, not_int},
                                    {{"DECRBY", "n", "99999999999999999999"}, not_int},
                                    {{"INCR", "word"}, not_int},
                                    {{"INCR", "spaced"}, not_int},
                                    {{"DECR", "huge"}, not_int},
                                    {{"EXPIRE", "n", "soon"}, not_int},
                                    {{"PEXPIRE", "n", "1e3"}, not_int},
                                    {{"SET", "k", "v", "EX", "ten"}, not_int},
                                    {{"SET", "k", "v", "PX", "1.5"}, not_int},
                                    {{"SELECT", "zero"}, not_int},
                                    {{"SCAN", "0", "COUNT", "many"}, not_int},
                                });
  // Nothing changed.
  EXPECT_EQ(c.CallRaw({"GET", "n"}), "$1\r\n5\r\n");
  EXPECT_EQ(c.CallRaw({"GET", "word"}), "$5\r\nhello\r\n");
  EXPECT_EQ(c.CallRaw({"EXISTS", "k"}), ":0\r\n");
  EXPECT_EQ(c.CallRaw({"TTL", "n"}), ":-1\r\n");
}

TEST_F(ErrorsTest, OverflowIsRefusedAndChangesNothing) {
  RespClient c = Connect();
  const std::string overflow = "-ERR increment or decrement would overflow\r\n";
  ASSERT_EQ(c.CallRaw({"SET", "max", "9223372036854775807"}), "+OK\r\n");
  ASSERT_EQ(c.CallRaw({"SET", "min", "-9223372036854775808"}), "+OK\r\n");
  ExpectErrorsKeepConnection(c, {
                                    {{"INCRBY", "max", "1"}, overflow},
                                    {{"INCR", "max"}, overflow},
                                    {{"DECRBY", "max", "-1"}, overflow},
                                    {{"INCRBY", "max", "9223372036854775807"}, overflow},
                                    {{"DECR", "min"}, overflow},
                                    {{"DECRBY", "min", "1"}, overflow},
                                    {{"INCRBY", "min", "-9223372036854775808"}, overflow},
                                    // Negating LLONG_MIN itself overflows: Redis 7.0's own message.
                                    {{"DECRBY", "fresh", "-9223372036854775808"}, "-ERR decrement would overflow\r\n"},
                                    {{"DECRBY", "max", "-9223372036854775808"}, "-ERR decrement would overflow\r\n"},
                                });
  EXPECT_EQ(c.CallRaw({"GET", "max"}), "$19\r\n9223372036854775807\r\n");
  EXPECT_EQ(c.CallRaw({"GET", "min"}), "$20\r\n-9223372036854775808\r\n");
  EXPECT_EQ(c.CallRaw({"EXISTS", "fresh"}), ":0\r\n");
  // Right at the edge is still fine.
  EXPECT_EQ(c.CallRaw({"INCRBY", "max", "0"}), ":9223372036854775807\r\n");
  EXPECT_EQ(c.CallRaw({"DECRBY", "max", "1"}), ":9223372036854775806\r\n");
  EXPECT_EQ(c.CallRaw({"INCR", "max"}), ":9223372036854775807\r\n");
  // And via redis-cli.
  EXPECT_EQ(Cli({"INCRBY", "max", "1"}), "(error) ERR increment or decrement would overflow");
  EXPECT_EQ(Cli({"GET", "max"}), "\"9223372036854775807\"");
}

TEST_F(ErrorsTest, InvalidExpireTimesAreRefused) {
  RespClient c = Connect();
  ASSERT_EQ(c.CallRaw({"SET", "k", "v"}), "+OK\r\n");
  const std::string set_error = "-ERR invalid expire time in 'set' command\r\n";
  ExpectErrorsKeepConnection(
      c, {
             {{"SET", "a", "v", "EX", "0"}, set_error},
             {{"SET", "a", "v", "EX", "-10"}, set_error},
             {{"SET", "a", "v", "PX", "0"}, set_error},
             {{"SET", "a", "v", "PX", "-1"}, set_error},
             {{"SET", "a", "v", "EXAT", "0"}, set_error},
             {{"SET", "a", "v", "PXAT", "-5"}, set_error},
             {{"SET", "a", "v", "EX", "9223372036854775807"}, set_error},
             {{"SET", "a", "v", "PX", "9223372036854775807"}, set_error},
             {{"EXPIRE", "k", "9223372036854775807"}, "-ERR invalid expire time in 'expire' command\r\n"},
             {{"EXPIRE", "k", "-9223372036854775808"}, "-ERR invalid expire time in 'expire' command\r\n"},
             {{"PEXPIRE", "k", "9223372036854775807"}, "-ERR invalid expire time in 'pexpire' command\r\n"},
         });
  EXPECT_EQ(c.CallRaw({"EXISTS", "a"}), ":0\r\n");
  EXPECT_EQ(c.CallRaw({"TTL", "k"}), ":-1\r\n");
  EXPECT_EQ(Cli({"SET", "b", "v", "EX", "0"}), "(error) ERR invalid expire time in 'set' command");
}

TEST_F(ErrorsTest, SyntaxErrorsInOptions) {
  RespClient c = Connect();
  const std::string syntax = "-ERR syntax error\r\n";
  ExpectErrorsKeepConnection(
      c, {
             {{"SET", "k", "v", "NX", "XX"}, syntax},
             {{"SET", "k", "v", "XX", "NX"}, syntax},
             {{"SET", "k", "v", "EX", "10", "PX", "100"}, syntax},
             {{"SET", "k", "v", "KEEPTTL", "EX", "10"}, syntax},
             {{"SET", "k", "v", "EX", "10", "KEEPTTL"}, syntax},
             {{"SET", "k", "v", "EX"}, syntax},
             {{"SET", "k", "v", "FOO"}, syntax},
             {{"SCAN", "0", "MATCH"}, syntax},
             {{"SCAN", "0", "COUNT", "0"}, syntax},
             {{"SCAN", "0", "FOO", "bar"}, syntax},
             {{"EXPIRE", "k", "10", "FOO"}, "-ERR Unsupported option FOO\r\n"},
             {{"EXPIRE", "k", "10", "NX", "XX"},
              "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"},
             {{"EXPIRE", "k", "10", "GT", "LT"}, "-ERR GT and LT options at the same time are not compatible\r\n"},
             {{"SCAN", "abc"}, "-ERR invalid cursor\r\n"},
             {{"SCAN", "12x"}, "-ERR invalid cursor\r\n"},
         });
  EXPECT_EQ(c.CallRaw({"EXISTS", "k"}), ":0\r\n");
  EXPECT_EQ(Cli({"SET", "k", "v", "NX", "XX"}), "(error) ERR syntax error");
}

TEST_F(ErrorsTest, SelectOtherThanZeroIsOutOfRange) {
  RespClient c = Connect();
  ExpectErrorsKeepConnection(c, {
                                    {{"SELECT", "1"}, "-ERR DB index is out of range\r\n"},
                                    {{"SELECT", "15"}, "-ERR DB index is out of range\r\n"},
                                    {{"SELECT", "-1"}, "-ERR DB index is out of range\r\n"},
                                });
  EXPECT_EQ(c.CallRaw({"SELECT", "0"}), "+OK\r\n");
  EXPECT_EQ(Cli({"SELECT", "1"}), "(error) ERR DB index is out of range");
  // redis-cli -n 1 reports the failure of its SELECT.
  ProcessResult r =
      RunProcess({RedisCliPath(), "-h", "127.0.0.1", "-p", std::to_string(port()), "-n", "1", "--no-raw", "PING"});
  EXPECT_TRUE(Contains(r.out + r.err, "DB index is out of range")) << r.Describe();
}

TEST_F(ErrorsTest, HelloWithUnsupportedProtocolIsNoproto) {
  RespClient c = Connect();
  ExpectErrorsKeepConnection(c, {
                                    {{"HELLO", "4"}, "-NOPROTO unsupported protocol version\r\n"},
                                    {{"HELLO", "1"}, "-NOPROTO unsupported protocol version\r\n"},
                                    {{"HELLO", "abc"}, "-ERR Protocol version is not an integer or out of range\r\n"},
                                    {{"HELLO", "3", "BOGUS"}, "-ERR Syntax error in HELLO option 'BOGUS'\r\n"},
                                });
  // The failed HELLOs left the connection in RESP2.
  EXPECT_EQ(c.CallRaw({"GET", "missing"}), "$-1\r\n");
  EXPECT_EQ(Cli({"HELLO", "4"}), "(error) NOPROTO unsupported protocol version");
}

TEST_F(ErrorsTest, UnknownSubcommandsPointToHelp) {
  RespClient c = Connect();
  ExpectErrorsKeepConnection(c, {
                                    {{"CLIENT", "FOO"}, "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n"},
                                    {{"client", "nope", "x"}, "-ERR unknown subcommand 'nope'. Try CLIENT HELP.\r\n"},
                                    {{"CONFIG", "FOO"}, "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n"},
                                    {{"COMMAND", "FOO"}, "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n"},
                                    {{"CLIENT", "SETNAME", "has space"},
                                     "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
                                });
}

TEST_F(ErrorsTest, ErrorsInsideAPipelineKeepReplyOrderAndState) {
  RespClient c = Connect();
  std::string pipeline = EncodeCommand({"SET", "n", "10"}) + EncodeCommand({"INCRBY", "n", "x"}) +
                         EncodeCommand({"NOSUCH"}) + EncodeCommand({"INCR", "n"}) + EncodeCommand({"GET"}) +
                         "INCRBY n 9223372036854775807\r\n" + EncodeCommand({"SELECT", "2"}) +
                         EncodeCommand({"GET", "n"});
  ASSERT_TRUE(c.Send(pipeline));
  EXPECT_EQ(c.ReadReply().raw, "+OK\r\n");
  EXPECT_EQ(c.ReadReply().raw, "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(c.ReadReply().raw, "-ERR unknown command 'NOSUCH', with args beginning with: \r\n");
  EXPECT_EQ(c.ReadReply().raw, ":11\r\n");
  EXPECT_EQ(c.ReadReply().raw, "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(c.ReadReply().raw, "-ERR increment or decrement would overflow\r\n");
  EXPECT_EQ(c.ReadReply().raw, "-ERR DB index is out of range\r\n");
  EXPECT_EQ(c.ReadReply().raw, "$2\r\n11\r\n");
}

TEST_F(ErrorsTest, RedisCliPrintsTheErrors) {
  EXPECT_EQ(Cli({"NOSUCH", "a"}), "(error) ERR unknown command 'NOSUCH', with args beginning with: 'a' ");
  EXPECT_EQ(Cli({"INCRBY", "k"}), "(error) ERR wrong number of arguments for 'incrby' command");
  EXPECT_EQ(Cli({"INCRBY", "k", "x"}), "(error) ERR value is not an integer or out of range");
}

class MaxClientsTest : public TallydTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--max-clients", "3"}; }
};

TEST_F(MaxClientsTest, ConnectionsBeyondMaxClientsAreRefusedWithRedisError) {
  RespClient a = Connect();
  // The harness's readiness probe may not have been reaped yet: wait until
  // `a` is the only connection.
  for (int i = 0; i < 500 && !Contains(a.Call({"INFO", "clients"}).str, "connected_clients:1\r\n"); ++i) {
    std::this_thread::sleep_for(2ms);
  }
  ASSERT_TRUE(Contains(a.Call({"INFO", "clients"}).str, "connected_clients:1\r\n"));
  RespClient b = Connect();
  RespClient c = Connect();
  ASSERT_EQ(a.CallRaw({"PING"}), "+PONG\r\n");
  ASSERT_EQ(b.CallRaw({"PING"}), "+PONG\r\n");
  ASSERT_EQ(c.CallRaw({"PING"}), "+PONG\r\n");
  RespClient d = Connect();
  EXPECT_EQ(d.ReadReply(5s).raw, "-ERR max number of clients reached\r\n");
  EXPECT_TRUE(d.WaitClosed(5s));
  // The admitted connections are unaffected.
  EXPECT_EQ(a.CallRaw({"SET", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(c.CallRaw({"GET", "k"}), "$1\r\nv\r\n");
  // A slot frees when a client leaves.
  b.Close();
  bool admitted = false;
  for (int i = 0; i < 200 && !admitted; ++i) {
    RespClient e = Connect();
    RespValue pong = e.Call({"PING"}, 2s);
    admitted = pong.raw == "+PONG\r\n";
    if (!admitted) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(admitted) << "no connection admitted after one of three left";
  std::string stats = a.Call({"INFO", "stats"}).str;
  EXPECT_TRUE(Contains(stats, "rejected_connections:")) << stats;
  EXPECT_FALSE(Contains(stats, "rejected_connections:0\r\n")) << stats;
}

}  // namespace
}  // namespace tally::itest
