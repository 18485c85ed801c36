// Redis transactions (MULTI, EXEC, DISCARD, WATCH, UNWATCH) and MSET/MSETNX
// against a real redis-server: the same commands go to a fresh tallyd and a
// fresh redis-server and the raw replies must be equal byte for byte, error
// cases included. Then atomicity under kill -9: transactions spanning many
// shards are wholly present or wholly absent after every restart.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "redis_server.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

// Both servers, two connections to each (A and B), for WATCH races.
class TransactionsCompatTest : public TallydTest {
 protected:
  void SetUp() override {
    TallydTest::SetUp();
    ASSERT_TRUE(redis_.Start());
    redis_b_ = *redis_.Connect();
    tally_a_ = Connect();
    tally_b_ = Connect();
  }

  // Sends `args` on connection A (or B) of both servers; expects the same raw reply.
  std::string Same(const std::vector<std::string>& args, bool on_b = false) {
    const std::string expected = (on_b ? redis_b_ : redis_.client()).CallRaw(args);
    const std::string got = (on_b ? tally_b_ : tally_a_).CallRaw(args);
    EXPECT_EQ(got, expected) << "command: " << Describe(args) << (on_b ? " (connection B)" : "");
    return got;
  }
  std::string SameOnB(const std::vector<std::string>& args) { return Same(args, /*on_b=*/true); }
  static std::string Describe(const std::vector<std::string>& args) {
    std::string out;
    for (const std::string& arg : args) out += (out.empty() ? "" : " ") + arg;
    return out;
  }

  RedisServer redis_;
  RespClient redis_b_;
  RespClient tally_a_;
  RespClient tally_b_;
};

TEST_F(TransactionsCompatTest, MultiExecQueuesAndRunsAsRedis) {
  Same({"MULTI"});
  Same({"SET", "a", "1"});
  Same({"INCR", "a"});
  Same({"SET", "b", "x", "EX", "100"});
  Same({"GET", "a"});
  Same({"MGET", "a", "b", "missing"});
  Same({"DEL", "b"});
  Same({"EXEC"});
  Same({"GET", "a"});
  // An empty transaction.
  Same({"MULTI"});
  Same({"EXEC"});
  // A command failing while it runs answers its error inside EXEC's reply;
  // the others still run (Redis does not roll back).
  Same({"MULTI"});
  Same({"SET", "s", "text"});
  Same({"INCR", "s"});
  Same({"APPEND", "s", "-more"});
  Same({"EXEC"});
  Same({"GET", "s"});
  // Connection commands inside a transaction are queued too.
  Same({"MULTI"});
  Same({"PING"});
  Same({"ECHO", "hi"});
  Same({"EXEC"});
}

TEST_F(TransactionsCompatTest, QueuingErrorsAbortTheWholeTransaction) {
  Same({"SET", "k", "before"});
  Same({"MULTI"});
  Same({"SET", "k", "after"});
  Same({"SET", "k"});  // wrong number of arguments: refused now
  Same({"INCR", "counter"});
  Same({"EXEC"});  // EXECABORT: nothing ran
  Same({"GET", "k"});
  Same({"EXISTS", "counter"});
  Same({"MULTI"});
  Same({"NOSUCHCOMMAND", "x"});
  Same({"SET", "k", "after"});
  Same({"EXEC"});
  Same({"GET", "k"});
  // The connection is out of the transaction afterwards.
  Same({"EXEC"});
}

TEST_F(TransactionsCompatTest, ControlErrorsAsRedis) {
  Same({"EXEC"});
  Same({"DISCARD"});
  Same({"MULTI"});
  Same({"MULTI"});  // nested: an error, the transaction goes on
  Same({"SET", "n", "1"});
  Same({"WATCH", "n"});  // not allowed inside MULTI, the transaction goes on
  Same({"EXEC"});
  Same({"GET", "n"});
  Same({"MULTI"});
  Same({"SET", "n", "2"});
  Same({"DISCARD"});
  Same({"GET", "n"});
  Same({"MULTI", "extra"});
  Same({"EXEC", "extra"});
  Same({"WATCH"});
  Same({"UNWATCH"});
  Same({"MSET", "a"});
  Same({"MSET", "a", "1", "b"});
  Same({"MSETNX", "a", "1", "b"});
}

TEST_F(TransactionsCompatTest, WatchFailsExecWhenAWatchedKeyChanged) {
  Same({"SET", "balance", "100"});
  // Another client changes the key: EXEC answers nil and runs nothing.
  Same({"WATCH", "balance", "other"});
  SameOnB({"INCRBY", "balance", "5"});
  Same({"MULTI"});
  Same({"DECRBY", "balance", "30"});
  Same({"EXEC"});
  Same({"GET", "balance"});
  // Unchanged: EXEC runs. Watches end with EXEC.
  Same({"WATCH", "balance"});
  Same({"MULTI"});
  Same({"DECRBY", "balance", "30"});
  Same({"EXEC"});
  SameOnB({"SET", "balance", "0"});
  Same({"MULTI"});
  Same({"INCR", "balance"});
  Same({"EXEC"});
  // Setting the same value is still a change; so is a delete or an expiry change.
  Same({"WATCH", "balance"});
  SameOnB({"SET", "balance", "1"});
  Same({"MULTI"});
  Same({"INCR", "balance"});
  Same({"EXEC"});
  Same({"WATCH", "balance"});
  SameOnB({"EXPIRE", "balance", "1000"});
  Same({"MULTI"});
  Same({"INCR", "balance"});
  Same({"EXEC"});
  Same({"WATCH", "balance"});
  SameOnB({"DEL", "balance"});
  Same({"MULTI"});
  Same({"INCR", "balance"});
  Same({"EXEC"});
  // The client's own change before MULTI counts too.
  Same({"WATCH", "mine"});
  Same({"SET", "mine", "1"});
  Same({"MULTI"});
  Same({"INCR", "mine"});
  Same({"EXEC"});
  // UNWATCH and DISCARD forget the watches.
  Same({"WATCH", "mine"});
  SameOnB({"SET", "mine", "9"});
  Same({"UNWATCH"});
  Same({"MULTI"});
  Same({"INCR", "mine"});
  Same({"EXEC"});
  Same({"WATCH", "mine"});
  Same({"MULTI"});
  Same({"DISCARD"});
  SameOnB({"SET", "mine", "20"});
  Same({"MULTI"});
  Same({"INCR", "mine"});
  Same({"EXEC"});
  // A key that does not exist and is not created stays unchanged: EXEC runs.
  Same({"WATCH", "ghost"});
  SameOnB({"DEL", "ghost"});
  Same({"MULTI"});
  Same({"GET", "ghost"});
  Same({"EXEC"});
}

TEST_F(TransactionsCompatTest, WatchedKeyExpiringBeforeExecFailsIt) {
  Same({"SET", "lease", "1", "PX", "150"});
  Same({"WATCH", "lease"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Same({"MULTI"});
  Same({"SET", "lease", "2"});
  Same({"EXEC"});
  Same({"GET", "lease"});
}

TEST_F(TransactionsCompatTest, MsetAndMsetnxAsRedis) {
  Same({"MSET", "k1", "a", "k2", "b", "k3", "c"});
  Same({"MGET", "k1", "k2", "k3"});
  Same({"SET", "k4", "old", "EX", "100"});
  Same({"MSET", "k4", "new", "k1", "z"});  // MSET drops the expiry
  Same({"TTL", "k4"});
  Same({"MSETNX", "k5", "x", "k1", "y"});  // k1 exists: none is set
  Same({"MGET", "k5", "k1"});
  Same({"MSETNX", "k5", "x", "k6", "y"});
  Same({"MGET", "k5", "k6"});
  Same({"MSET", "dup", "1", "dup", "2"});  // the last value wins
  Same({"GET", "dup"});
  Same({"PFADD", "hll", "a"});
  Same({"MSET", "hll", "plain"});  // overwrites any type
  Same({"TYPE", "hll"});
}

// tally's own commands queue and run like Redis's: a counter bump and a cache
// write in one step, and an error of one (an invalid owner) inside the reply.
TEST_F(TransactionsCompatTest, TallyCommandsRunInsideATransaction) {
  EXPECT_EQ(tally_a_.Call({"MULTI"}).str, "OK");
  EXPECT_EQ(tally_a_.Call({"CTR.INCRBY", "user:1", "downloads", "5"}).str, "QUEUED");
  EXPECT_EQ(tally_a_.Call({"SET", "cache:user:1", "fresh"}).str, "QUEUED");
  EXPECT_EQ(tally_a_.Call({"CTR.INCRBY", "bad owner", "downloads", "1"}).str, "QUEUED");
  RespValue exec = tally_a_.Call({"EXEC"});
  ASSERT_EQ(exec.elements.size(), 3u) << exec.ToString();
  EXPECT_EQ(exec.elements[0].integer, 5);
  EXPECT_EQ(exec.elements[1].str, "OK");
  EXPECT_TRUE(exec.elements[2].is_error()) << exec.ToString();
  EXPECT_EQ(tally_b_.Call({"CTR.GET", "user:1", "downloads"}).integer, 5);
  EXPECT_EQ(tally_b_.Call({"GET", "cache:user:1"}).str, "fresh");
}

// Transactions spanning many shards under kill -9: every transaction adds 1
// to each of 16 keys (they live on different shards), so whatever was
// written before the kill, all 16 counters must be equal after the restart,
// and at least the number of acknowledged EXECs. MSET of a round number to
// 16 other keys, in the same loop, must leave them all equal too.
TEST(TransactionsCrashTest, TransactionsAreWholeAfterEveryKill) {
  TallydProcess daemon;
  ASSERT_TRUE(daemon.Start());
  std::vector<std::string> incr_keys, mset_keys;
  for (int i = 0; i < 16; ++i) {
    incr_keys.push_back("tx:counter:" + std::to_string(i));
    mset_keys.push_back("tx:round:" + std::to_string(i));
  }
  int64_t acknowledged = 0;
  for (int cycle = 0; cycle < 6; ++cycle) {
    std::atomic<bool> stop{false};
    std::atomic<int64_t> acked{0};
    std::atomic<int64_t> round_acked{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < 3; ++w) {
      writers.emplace_back([&, w] {
        auto client = RespClient::ConnectTcp(daemon.port());
        if (!client) return;
        for (int64_t n = 0; !stop.load(); ++n) {
          std::string batch = EncodeCommand({"MULTI"});
          for (const auto& key : incr_keys) batch += EncodeCommand({"INCR", key});
          batch += EncodeCommand({"EXEC"});
          client->Send(batch);
          bool ok = true;
          for (size_t i = 0; i < incr_keys.size() + 2; ++i) {
            RespValue reply = client->ReadReply(std::chrono::seconds(5));
            if (!reply.ok()) return;  // the daemon was killed
            if (i == incr_keys.size() + 1) ok = reply.type == RespValue::Type::kArray;
          }
          if (ok) acked.fetch_add(1);
          if (w == 0) {
            std::vector<std::string> mset{"MSET"};
            for (const auto& key : mset_keys) mset.insert(mset.end(), {key, std::to_string(n + 1)});
            RespValue reply = client->Call(mset, std::chrono::seconds(5));
            if (!reply.ok()) return;
            if (reply.type == RespValue::Type::kSimple) round_acked.store(n + 1);
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + 97 * cycle));
    daemon.Kill();
    stop.store(true);
    for (auto& t : writers) t.join();
    acknowledged += acked.load();
    ASSERT_TRUE(daemon.Start()) << "cycle " << cycle;
    auto client = RespClient::ConnectTcp(daemon.port());
    ASSERT_TRUE(client);
    std::vector<std::string> mget{"MGET"};
    mget.insert(mget.end(), incr_keys.begin(), incr_keys.end());
    RespValue values = client->Call(mget);
    ASSERT_EQ(values.elements.size(), incr_keys.size());
    const std::string first = values.elements[0].str;
    for (const RespValue& v : values.elements) {
      ASSERT_EQ(v.str, first) << "cycle " << cycle << ": a transaction was cut in two: " << values.ToString();
    }
    const int64_t stored = first.empty() ? 0 : std::stoll(first);
    EXPECT_GE(stored, acknowledged) << "cycle " << cycle << ": an acknowledged EXEC was lost";
    acknowledged = stored;  // the next cycle adds to what is stored

    std::vector<std::string> mget_rounds{"MGET"};
    mget_rounds.insert(mget_rounds.end(), mset_keys.begin(), mset_keys.end());
    RespValue rounds = client->Call(mget_rounds);
    ASSERT_EQ(rounds.elements.size(), mset_keys.size());
    for (const RespValue& v : rounds.elements) {
      ASSERT_EQ(v.str, rounds.elements[0].str) << "cycle " << cycle << ": an MSET was cut in two";
    }
    if (round_acked.load() > 0) {
      EXPECT_GE(std::stoll(rounds.elements[0].str), round_acked.load()) << "an acknowledged MSET was lost";
    }
    // The next cycle's rounds start from 1 again; clear them.
    std::vector<std::string> del{"DEL"};
    del.insert(del.end(), mset_keys.begin(), mset_keys.end());
    client->Call(del);
  }
  EXPECT_GT(acknowledged, 0);
}

}  // namespace
}  // namespace tally::itest
