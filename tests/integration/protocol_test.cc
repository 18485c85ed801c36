// The line protocol itself: pipelining (raw client and redis-cli), inline
// commands, framing errors (reply, then close only that connection) and
// garbage bytes that must never crash the daemon.

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <random>
#include <set>
#include <thread>

#include "tallyd_process.h"

namespace tally::itest {
namespace {

using PipelineTest = TallydTest;
using InlineTest = TallydTest;

// ---- pipelining --------------------------------------------------------------

TEST_F(PipelineTest, ManyCommandsInOneWriteAreAnsweredInOrder) {
  RespClient c = Connect();
  std::string pipeline;
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    pipeline += EncodeCommand({"SET", "key:" + std::to_string(i), "value-" + std::to_string(i)});
    pipeline += EncodeCommand({"INCRBY", "sum", std::to_string(i)});
    pipeline += EncodeCommand({"GET", "key:" + std::to_string(i)});
  }
  ASSERT_TRUE(c.Send(pipeline));
  int64_t sum = 0;
  for (int i = 0; i < n; ++i) {
    sum += i;
    ASSERT_EQ(c.ReadReply().raw, "+OK\r\n") << "reply " << i;
    ASSERT_EQ(c.ReadReply().raw, ":" + std::to_string(sum) + "\r\n") << "reply " << i;
    std::string value = "value-" + std::to_string(i);
    ASSERT_EQ(c.ReadReply().raw, "$" + std::to_string(value.size()) + "\r\n" + value + "\r\n") << "reply " << i;
  }
  EXPECT_TRUE(c.pending().empty()) << "unexpected extra bytes: " << c.pending().substr(0, 100);
  EXPECT_EQ(c.CallRaw({"DBSIZE"}), ":" + std::to_string(n + 1) + "\r\n");
}

TEST_F(PipelineTest, PipelineArrivingOneByteAtATimeIsParsedCorrectly) {
  RespClient c = Connect();
  std::string pipeline = EncodeCommand({"SET", "k", "hello\r\nworld"}) + "INCR n\r\n" + EncodeCommand({"GET", "k"}) +
                         "ECHO \"a b\"\n" + EncodeCommand({"INCRBY", "n", "41"}) + "*0\r\n" + "\r\n" + "PING\r\n";
  for (char ch : pipeline) ASSERT_TRUE(c.Send(std::string_view(&ch, 1)));
  EXPECT_EQ(c.ReadReply().raw, "+OK\r\n");
  EXPECT_EQ(c.ReadReply().raw, ":1\r\n");
  EXPECT_EQ(c.ReadReply().raw, "$12\r\nhello\r\nworld\r\n");
  EXPECT_EQ(c.ReadReply().raw, "$3\r\na b\r\n");
  EXPECT_EQ(c.ReadReply().raw, ":42\r\n");
  EXPECT_EQ(c.ReadReply().raw, "+PONG\r\n");
}

TEST_F(PipelineTest, HugePipelineWithLargeRepliesIsNotReorderedOrTruncated) {
  // 10 MB of replies to 20,000 GETs, while the client is still writing: the
  // server must pause reading when its output backs up, not drop or reorder.
  RespClient setup = Connect();
  const std::string value(512, 'v');
  ASSERT_EQ(setup.CallRaw({"SET", "blob", value}), "+OK\r\n");
  RespClient c = Connect();
  const int n = 20000;
  std::thread writer([&c, n] {
    std::string chunk;
    for (int i = 0; i < n; ++i) {
      chunk += i % 2 == 0 ? EncodeCommand({"GET", "blob"}) : EncodeCommand({"INCR", "pipelined"});
      if (chunk.size() > 64 * 1024) {
        if (!c.Send(chunk)) return;
        chunk.clear();
      }
    }
    c.Send(chunk);
  });
  const std::string blob_reply = "$512\r\n" + value + "\r\n";
  int64_t incr = 0;
  for (int i = 0; i < n; ++i) {
    RespValue reply = c.ReadReply(30s);
    if (i % 2 == 0) {
      ASSERT_EQ(reply.raw, blob_reply) << "reply " << i;
    } else {
      ASSERT_EQ(reply.raw, ":" + std::to_string(++incr) + "\r\n") << "reply " << i;
    }
  }
  writer.join();
  EXPECT_EQ(c.CallRaw({"GET", "pipelined"}), "$5\r\n10000\r\n");
}

TEST_F(PipelineTest, QuitDiscardsTheRestOfThePipeline) {
  RespClient c = Connect();
  ASSERT_TRUE(c.Send(EncodeCommand({"SET", "q", "1"}) + EncodeCommand({"QUIT"}) + EncodeCommand({"SET", "q", "2"})));
  EXPECT_EQ(c.ReadReply().raw, "+OK\r\n");
  EXPECT_EQ(c.ReadReply().raw, "+OK\r\n");
  std::string rest;
  EXPECT_TRUE(c.WaitClosed(5s, &rest));
  EXPECT_EQ(rest, "");
  EXPECT_EQ(Cli({"GET", "q"}), "\"1\"");
}

TEST_F(PipelineTest, ConcurrentPipelinedClientsSeeTheirOwnRepliesInOrder) {
  const int clients = 8, batches = 20, batch = 100;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(clients);
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      auto c = RespClient::ConnectTcp(port());
      if (!c) {
        failures[t] = "cannot connect";
        return;
      }
      const std::string own = "own:" + std::to_string(t);
      int64_t expected = 0;
      for (int b = 0; b < batches; ++b) {
        std::string pipeline;
        for (int i = 0; i < batch; ++i) {
          pipeline += EncodeCommand({"INCRBY", own, std::to_string(t + 1)});
          pipeline += EncodeCommand({"INCR", "shared"});
        }
        if (!c->Send(pipeline)) {
          failures[t] = "send failed";
          return;
        }
        for (int i = 0; i < batch; ++i) {
          expected += t + 1;
          RespValue mine = c->ReadReply();
          RespValue shared = c->ReadReply();
          if (mine.type != RespValue::Type::kInteger || mine.integer != expected) {
            failures[t] = "own counter: expected " + std::to_string(expected) + ", got " + mine.ToString();
            return;
          }
          if (shared.type != RespValue::Type::kInteger) {
            failures[t] = "shared counter: " + shared.ToString();
            return;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < clients; ++t) EXPECT_EQ(failures[t], "") << "client " << t;
  EXPECT_EQ(Cli({"GET", "shared"}), "\"" + std::to_string(clients * batches * batch) + "\"");
}

TEST_F(PipelineTest, HalfClosedClientStillGetsAllItsReplies) {
  // Like `printf 'SET k v\r\n' | nc`: the client shuts down its sending side
  // right after the commands; the replies (including writes that wait for the
  // log) must still arrive before the server closes.
  RespClient c = Connect();
  std::string pipeline;
  for (int i = 0; i < 500; ++i) pipeline += "INCR half\r\n";
  pipeline += EncodeCommand({"GET", "half"});
  ASSERT_TRUE(c.Send(pipeline));
  ::shutdown(c.fd(), SHUT_WR);
  for (int i = 1; i <= 500; ++i) ASSERT_EQ(c.ReadReply().raw, ":" + std::to_string(i) + "\r\n");
  EXPECT_EQ(c.ReadReply().raw, "$3\r\n500\r\n");
  EXPECT_TRUE(c.WaitClosed(5s));
}

TEST_F(PipelineTest, HundredsOfSimultaneousConnectionsAreServed) {
  std::vector<RespClient> clients;
  for (int i = 0; i < 400; ++i) {
    auto c = RespClient::ConnectTcp(port());
    ASSERT_TRUE(c.has_value()) << "connection " << i;
    clients.push_back(std::move(*c));
  }
  // Every connection sends before any reads.
  for (size_t i = 0; i < clients.size(); ++i) {
    ASSERT_TRUE(clients[i].Send(EncodeCommand({"INCR", "many"}) + EncodeCommand({"ECHO", std::to_string(i)})));
  }
  std::set<int64_t> seen;
  for (size_t i = 0; i < clients.size(); ++i) {
    RespValue n = clients[i].ReadReply();
    ASSERT_EQ(n.type, RespValue::Type::kInteger) << n;
    seen.insert(n.integer);
    EXPECT_EQ(clients[i].ReadReply().str, std::to_string(i));
  }
  EXPECT_EQ(seen.size(), clients.size());  // each INCR saw a distinct value
  EXPECT_EQ(*seen.rbegin(), static_cast<int64_t>(clients.size()));
  std::string info = clients[0].Call({"INFO", "clients"}).str;
  // 400, plus possibly the harness's readiness probe not reaped yet.
  EXPECT_TRUE(Contains(info, "connected_clients:400\r\n") || Contains(info, "connected_clients:401\r\n")) << info;
}

TEST_F(PipelineTest, RedisCliPipeModeSendsEverythingWithoutErrors) {
  std::string input;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    input += EncodeCommand({"INCRBY", "piped", "3"});
    if (i % 10 == 0) input += EncodeCommand({"SET", "piped:" + std::to_string(i), std::to_string(i)});
  }
  ProcessResult r = RunProcess({RedisCliPath(), "-h", "127.0.0.1", "-p", std::to_string(port()), "--pipe"}, input);
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "errors: 0, replies: " + std::to_string(n + n / 10))) << r.out;
  EXPECT_EQ(Cli({"GET", "piped"}), "\"" + std::to_string(3 * n) + "\"");
  EXPECT_EQ(Cli({"GET", "piped:19990"}), "\"19990\"");
}

TEST_F(PipelineTest, RedisCliPipeModeCountsErrors) {
  std::string input = "SET a 1\r\nINCR a\r\nNOSUCH x\r\nINCRBY a notanumber\r\nINCR a\r\n";
  ProcessResult r = RunProcess({RedisCliPath(), "-h", "127.0.0.1", "-p", std::to_string(port()), "--pipe"}, input);
  EXPECT_TRUE(Contains(r.out, "errors: 2, replies: 5")) << r.Describe();
  EXPECT_EQ(Cli({"GET", "a"}), "\"3\"");
}

TEST_F(PipelineTest, RedisCliReadsCommandsFromStdin) {
  ProcessResult r = RedisCli(port(), {},
                             "SET greeting \"hello world\"\n"
                             "GET greeting\n"
                             "INCR visits\n"
                             "INCRBY visits 9\n"
                             "NOSUCH\n"
                             "MGET greeting visits nothing\n"
                             "DEL greeting\n"
                             "EXISTS greeting\n");
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
  EXPECT_EQ(r.out,
            "OK\n"
            "\"hello world\"\n"
            "(integer) 1\n"
            "(integer) 10\n"
            "(error) ERR unknown command 'NOSUCH', with args beginning with: \n"
            "1) \"hello world\"\n2) \"10\"\n3) (nil)\n"
            "(integer) 1\n"
            "(integer) 0\n");
}

TEST_F(PipelineTest, RedisCliRepeatsACommandWithMinusR) {
  ProcessResult r =
      RunProcess({RedisCliPath(), "-h", "127.0.0.1", "-p", std::to_string(port()), "-r", "500", "INCR", "repeated"});
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
  EXPECT_EQ(Cli({"GET", "repeated"}), "\"500\"");
}

// ---- inline commands -----------------------------------------------------------

TEST_F(InlineTest, InlinePingSetGetAnswerLikeMultibulk) {
  RespClient c = Connect();
  EXPECT_EQ(c.SendRaw("PING\r\n"), "+PONG\r\n");
  EXPECT_EQ(c.SendRaw("SET a b\r\n"), "+OK\r\n");
  EXPECT_EQ(c.SendRaw("GET a\r\n"), "$1\r\nb\r\n");
  EXPECT_EQ(c.SendRaw("ping\n"), "+PONG\r\n");  // a bare LF ends a line too
  EXPECT_EQ(c.SendRaw("   INCRBY    n   5   \r\n"), ":5\r\n");
  EXPECT_EQ(c.SendRaw("\tINCR\tn\r\n"), ":6\r\n");
  EXPECT_EQ(c.SendRaw("EXISTS a n missing\r\n"), ":2\r\n");
}

TEST_F(InlineTest, QuotedInlineArgumentsFollowRedisRules) {
  RespClient c = Connect();
  EXPECT_EQ(c.SendRaw("SET \"my key\" \"hello world\"\r\n"), "+OK\r\n");
  EXPECT_EQ(c.SendRaw("GET \"my key\"\r\n"), "$11\r\nhello world\r\n");
  EXPECT_EQ(c.SendRaw("SET 'single quoted' 'it\\'s'\r\n"), "+OK\r\n");
  EXPECT_EQ(c.SendRaw("GET 'single quoted'\r\n"), "$4\r\nit's\r\n");
  // Escapes inside double quotes: \n \r \t \" \\ \xHH.
  EXPECT_EQ(c.SendRaw("ECHO \"a\\nb\\tc\\\"d\\\\e\\x41\\x7a\"\r\n"), "$11\r\na\nb\tc\"d\\eAz\r\n");
  // No escapes inside single quotes (except \').
  EXPECT_EQ(c.SendRaw("ECHO 'a\\nb'\r\n"), "$4\r\na\\nb\r\n");
  EXPECT_EQ(c.SendRaw("ECHO \"\"\r\n"), "$0\r\n\r\n");
  EXPECT_EQ(c.SendRaw("SET \"\" empty-key\r\n"), "+OK\r\n");
  EXPECT_EQ(c.CallRaw({"GET", ""}), "$9\r\nempty-key\r\n");
  // The value written inline is the same for multibulk readers.
  EXPECT_EQ(c.CallRaw({"GET", "my key"}), "$11\r\nhello world\r\n");
}

TEST_F(InlineTest, EmptyLinesAreIgnored) {
  RespClient c = Connect();
  ASSERT_TRUE(c.Send("\r\n\r\n\n   \r\nPING\r\n\r\nPING\r\n"));
  EXPECT_EQ(c.ReadReply().raw, "+PONG\r\n");
  EXPECT_EQ(c.ReadReply().raw, "+PONG\r\n");
  EXPECT_EQ(c.CallRaw({"PING"}), "+PONG\r\n");
  EXPECT_TRUE(c.pending().empty());
}

TEST_F(InlineTest, EmptyMultibulkArraysAreSkipped) {
  RespClient c = Connect();
  ASSERT_TRUE(c.Send("*0\r\n*-1\r\nPING\r\n"));
  EXPECT_EQ(c.ReadReply().raw, "+PONG\r\n");
  EXPECT_EQ(c.CallRaw({"PING"}), "+PONG\r\n");
}

TEST_F(InlineTest, InlineAndMultibulkMixInOnePipeline) {
  RespClient c = Connect();
  ASSERT_TRUE(
      c.Send("SET x 1\r\n" + EncodeCommand({"INCR", "x"}) + "INCR x\n" + EncodeCommand({"GET", "x"}) + "GET x\r\n"));
  EXPECT_EQ(c.ReadReply().raw, "+OK\r\n");
  EXPECT_EQ(c.ReadReply().raw, ":2\r\n");
  EXPECT_EQ(c.ReadReply().raw, ":3\r\n");
  EXPECT_EQ(c.ReadReply().raw, "$1\r\n3\r\n");
  EXPECT_EQ(c.ReadReply().raw, "$1\r\n3\r\n");
}

// ---- framing errors ----------------------------------------------------------

class FramingTest : public TallydTest {
 protected:
  std::vector<std::string> ExtraArgs() const override {
    return {"--max-bulk-bytes", "1024", "--max-inline-bytes", "1024"};
  }
};

struct FramingCase {
  const char* name;
  std::string bytes;
  std::string reply;  // exact bytes before the close
};

TEST_F(FramingTest, ProtocolErrorsReplyThenCloseOnlyThatConnection) {
  const std::vector<FramingCase> cases = {
      {"non-numeric multibulk length", "*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
      {"multibulk length too large", "*2000000\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
      {"multibulk length with junk", "*1x\r\n$4\r\nPING\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
      {"simple string instead of bulk", "*1\r\n+x\r\n", "-ERR Protocol error: expected '$', got '+'\r\n"},
      {"integer instead of bulk", "*2\r\n$3\r\nGET\r\n:1\r\n", "-ERR Protocol error: expected '$', got ':'\r\n"},
      {"non-numeric bulk length", "*2\r\n$3\r\nGET\r\n$abc\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
      {"negative bulk length", "*2\r\n$3\r\nGET\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
      {"null bulk in a request", "*1\r\n$-1\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
      {"bulk above --max-bulk-bytes", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1025\r\n",
       "-ERR Protocol error: invalid bulk length\r\n"},
      {"inline line above --max-inline-bytes, no newline yet", "SET k " + std::string(1100, 'v'),
       "-ERR Protocol error: too big inline request\r\n"},
      {"inline line above --max-inline-bytes", "SET k " + std::string(1100, 'v') + "\r\n",
       "-ERR Protocol error: too big inline request\r\n"},
      {"multibulk count line above the limit", "*" + std::string(1100, '1'),
       "-ERR Protocol error: too big mbulk count string\r\n"},
      {"unbalanced double quote", "SET \"abc def\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
      {"unbalanced single quote", "ECHO 'abc\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
      {"closing quote not followed by space", "ECHO \"abc\"def\r\n",
       "-ERR Protocol error: unbalanced quotes in request\r\n"},
  };
  // A bystander connection, opened first, keeps working through all of it.
  RespClient bystander = Connect();
  ASSERT_EQ(bystander.CallRaw({"SET", "safe", "1"}), "+OK\r\n");
  for (const auto& test : cases) {
    SCOPED_TRACE(test.name);
    RespClient c = Connect();
    // Earlier commands in the same write are answered first.
    ASSERT_TRUE(c.Send(EncodeCommand({"INCR", "before"}) + test.bytes));
    EXPECT_EQ(c.ReadReply().type, RespValue::Type::kInteger);
    std::string received;
    EXPECT_TRUE(c.WaitClosed(5s, &received)) << "connection left open after a framing error";
    EXPECT_EQ(received, test.reply);
    EXPECT_EQ(bystander.CallRaw({"INCR", "safe"}), ":" + std::to_string(&test - &cases[0] + 2) + "\r\n");
  }
  EXPECT_EQ(Cli({"GET", "before"}), "\"" + std::to_string(cases.size()) + "\"");
  EXPECT_TRUE(daemon().Alive());
}

TEST_F(FramingTest, BulkAtTheLimitIsAcceptedAndOneMoreIsRefused) {
  RespClient c = Connect();
  const std::string at_limit(1024, 'x');
  EXPECT_EQ(c.CallRaw({"SET", "k", at_limit}), "+OK\r\n");
  EXPECT_EQ(c.CallRaw({"GET", "k"}), "$1024\r\n" + at_limit + "\r\n");
  // An inline line just under the limit works too.
  EXPECT_EQ(c.SendRaw("ECHO " + std::string(1000, 'y') + "\r\n"), "$1000\r\n" + std::string(1000, 'y') + "\r\n");
  ASSERT_TRUE(c.Send(EncodeCommand({"SET", "k", at_limit + "x"})));
  std::string received;
  EXPECT_TRUE(c.WaitClosed(5s, &received));
  EXPECT_EQ(received, "-ERR Protocol error: invalid bulk length\r\n");
  RespClient d = Connect();
  EXPECT_EQ(d.CallRaw({"GET", "k"}), "$1024\r\n" + at_limit + "\r\n");
}

TEST_F(FramingTest, RedisCliSeesTheProtocolError) {
  // redis-cli sends a 2 KB argument: above --max-bulk-bytes.
  ProcessResult r = RedisCli(port(), {"SET", "k", std::string(2048, 'z')});
  EXPECT_TRUE(Contains(r.out + r.err, "Protocol error: invalid bulk length")) << r.Describe();
  EXPECT_EQ(Cli({"PING"}), "PONG");
  EXPECT_EQ(Cli({"EXISTS", "k"}), "(integer) 0");
}

// ---- garbage -----------------------------------------------------------------

using GarbageTest = TallydTest;

// All bytes the server sent must be complete, well-formed RESP replies.
::testing::AssertionResult AllWellFormed(const std::string& bytes) {
  size_t offset = 0;
  while (offset < bytes.size()) {
    RespValue v;
    size_t used = 0;
    int r = ParseResp(std::string_view(bytes).substr(offset), &used, &v);
    if (r <= 0) {
      return ::testing::AssertionFailure() << (r == 0 ? "truncated" : "malformed") << " reply at offset " << offset
                                           << ": " << ::testing::PrintToString(bytes.substr(offset, 200));
    }
    offset += used;
  }
  return ::testing::AssertionSuccess();
}

std::string RandomGarbage(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> kind(0, 5);
  std::uniform_int_distribution<int> len(1, 3000);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string out;
  switch (kind(rng)) {
    case 0:  // uniformly random bytes
      for (int i = len(rng); i > 0; --i) out.push_back(static_cast<char>(byte(rng)));
      break;
    case 1:  // protocol-looking fragments
    case 2: {
      static const char* pieces[] = {"*",  "$",           "\r\n", "\r",  "\n",  "-1", "0",           "1",
                                     "3",  "99999999999", "PING", "SET", "GET", "\"", "'",           "\\x",
                                     "\\", " ",           "+",    ":",   "%",   "_",  "*1\r\n$4\r\n"};
      std::uniform_int_distribution<size_t> pick(0, std::size(pieces) - 1);
      for (int i = len(rng) / 10 + 1; i > 0; --i) out += pieces[pick(rng)];
      break;
    }
    case 3: {  // printable words, inline-looking
      std::uniform_int_distribution<int> printable(32, 126);
      for (int i = len(rng); i > 0; --i) out.push_back(i % 17 == 0 ? '\n' : static_cast<char>(printable(rng)));
      break;
    }
    case 4: {  // a valid command with random bytes spliced in
      out = EncodeCommand({"SET", "garbage:key", "value"});
      std::uniform_int_distribution<size_t> at(0, out.size() - 1);
      for (int i = 0; i < 3; ++i) out[at(rng)] = static_cast<char>(byte(rng));
      break;
    }
    default: {  // multibulk with a lying length
      out = "*2\r\n$3\r\nGET\r\n$" + std::to_string(len(rng)) + "\r\n";
      for (int i = len(rng) / 3; i > 0; --i) out.push_back(static_cast<char>(byte(rng)));
      break;
    }
  }
  return out;
}

TEST_F(GarbageTest, RandomBytesNeverCrashTheDaemonOrCorruptOtherConnections) {
  const uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  RespClient bystander = Connect();
  ASSERT_EQ(bystander.CallRaw({"SET", "bystander:key-with-a-long-name", "precious"}), "+OK\r\n");
  for (int round = 0; round < 300; ++round) {
    RespClient c = Connect();
    ASSERT_TRUE(c.connected()) << "round " << round << ": cannot connect; daemon alive: " << daemon().Alive();
    std::string garbage = RandomGarbage(rng);
    c.Send(garbage);  // the server may close early: ignore send errors
    ::shutdown(c.fd(), SHUT_WR);
    std::string received;
    // Either the server closes (framing error, or EOF after our shutdown) or
    // it waits for the rest of a command; both are fine.
    c.WaitClosed(2s, &received);
    EXPECT_TRUE(AllWellFormed(received)) << "round " << round << ", input "
                                         << ::testing::PrintToString(garbage.substr(0, 300));
    if (round % 25 == 0) {
      ASSERT_TRUE(daemon().Alive()) << "tallyd died in round " << round << " on input "
                                    << ::testing::PrintToString(garbage.substr(0, 300));
      ASSERT_EQ(bystander.CallRaw({"PING"}), "+PONG\r\n") << "round " << round;
    }
  }
  ASSERT_TRUE(daemon().Alive());
  EXPECT_EQ(bystander.CallRaw({"GET", "bystander:key-with-a-long-name"}), "$8\r\nprecious\r\n");
  EXPECT_EQ(Cli({"PING"}), "PONG");
}

TEST_F(GarbageTest, RandomArgumentsToEveryCommandNeverCrashTheDaemon) {
  const uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  RespClient c = Connect();
  RespValue list = c.Call({"COMMAND"});
  ASSERT_EQ(list.type, RespValue::Type::kArray);
  std::vector<std::string> names;
  for (const auto& entry : list.elements) {
    if (entry.elements.empty()) continue;
    const std::string& name = entry.elements[0].str;
    // QUIT would just close; the pub/sub commands answer once per channel
    // (so replies cannot be counted per command) and switch the connection
    // to subscribed mode; alerts_pubsub_itest.cc gives them bad input.
    if (name != "quit" && name != "subscribe" && name != "psubscribe" && name != "unsubscribe" &&
        name != "punsubscribe") {
      names.push_back(name);
    }
  }
  ASSERT_GE(names.size(), 20u);
  const std::vector<std::string> pool = {
      "", "0", "1", "-1", "10", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "abc", "k",
      "fuzz:k", "EX", "PX", "EXAT", "PXAT", "NX", "XX", "GT", "LT", "GET", "KEEPTTL", "MATCH", "COUNT", "TYPE", "*",
      "[", "\\", "?*[a-", "SETNAME", "GETNAME", "ID", "INFO", "DOCS", "LIST", "SETINFO", "LIB-NAME", "AUTH", "3", "2",
      "all", "everything", std::string("\0\r\n", 3), std::string(5000, 'x'), "1.5", "  7",
      // owner counters (CTR.*, OWNER.TZ): names, intervals, periods, options
      "user:1", "org:acme", "hits", "api.calls", "total", "hour", "day", "week", "month", "quarter", "year", "current",
      "2024-12-04", "2024-W49", "2024-Q4", "2024-12", "2024", "2024-12-04T10", "AT", "ID", "evt-1", "LIMIT", "PREFIX",
      "FROM", "TO", "CURSOR", "1700000000000", "Europe/Berlin", "UTC", "Nowhere/X"};
  std::uniform_int_distribution<size_t> pick_name(0, names.size() - 1);
  std::uniform_int_distribution<size_t> pick_arg(0, pool.size() - 1);
  std::uniform_int_distribution<int> argc(0, 6);
  std::string pipeline;
  int sent = 0;
  for (int i = 0; i < 4000; ++i) {
    std::vector<std::string> cmd = {names[pick_name(rng)]};
    for (int a = argc(rng); a > 0; --a) cmd.push_back(pool[pick_arg(rng)]);
    // Keep the connection in RESP2 so the replies are comparable.
    if (cmd[0] == "hello" && cmd.size() > 1 && cmd[1] == "3") cmd[1] = "2";
    pipeline += EncodeCommand(cmd);
    ++sent;
    if (pipeline.size() > 32 * 1024 || i == 3999) {
      ASSERT_TRUE(c.Send(pipeline)) << "daemon alive: " << daemon().Alive();
      pipeline.clear();
      for (; sent > 0; --sent) {
        RespValue reply = c.ReadReply(10s);
        ASSERT_TRUE(reply.ok()) << reply << "; daemon alive: " << daemon().Alive();
      }
    }
  }
  ASSERT_TRUE(daemon().Alive());
  EXPECT_EQ(c.CallRaw({"PING"}), "+PONG\r\n");
}

// `timeout` (seconds, as Redis's): an idle connection is closed by the real
// daemon, a busy one is not, and CONFIG GET reports the setting.
class IdleTimeoutTest : public TallydTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--timeout", "1"}; }
};

TEST_F(IdleTimeoutTest, AnIdleConnectionIsClosedAndAnActiveOneStays) {
  RespClient idle = Connect();
  RespClient active = Connect();
  ASSERT_EQ(active.CallRaw({"CONFIG", "GET", "timeout"}), "*2\r\n$7\r\ntimeout\r\n$1\r\n1\r\n");
  const auto started = std::chrono::steady_clock::now();
  // The active connection sends a command every 200 ms for 2.4 s.
  for (int i = 0; i < 12; ++i) {
    ASSERT_EQ(active.CallRaw({"PING"}), "+PONG\r\n") << "round " << i;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(idle.WaitClosed(5s)) << "an idle connection outlived --timeout 1";
  EXPECT_GE(std::chrono::steady_clock::now() - started, 900ms);
  EXPECT_EQ(active.CallRaw({"PING"}), "+PONG\r\n");
  HttpReply metrics = HttpClient::Request(daemon().http_port(), "GET", "/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.error;
  EXPECT_TRUE(Contains(metrics.body, "\ntally_resp_idle_closed_total 1\n")) << metrics.body;
}

TEST(IdleTimeoutDefault, ConfigGetTimeoutIsZeroByDefault) {
  TallydProcess daemon;
  ASSERT_TRUE(daemon.Start());
  EXPECT_EQ(Cli(daemon.port(), {"CONFIG", "GET", "timeout"}), "1) \"timeout\"\n2) \"0\"");
}

}  // namespace
}  // namespace tally::itest
