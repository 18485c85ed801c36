// Durability of the plain keyspace across restarts: clean SIGTERM, SIGKILL
// (kill -9), before and after compaction, with durability=process and fsync.
// Also: a second tallyd on the same data dir must refuse to start.

#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <thread>

#include "tallyd_process.h"

namespace tally::itest {
namespace {

int64_t IntegerOf(const RespValue& v) {
  EXPECT_EQ(v.type, RespValue::Type::kInteger) << v;
  return v.integer;
}

const std::string kBinaryKey("bin\0key\r\n", 9);
std::string BinaryValue() {
  std::string v;
  for (int i = 0; i < 512; ++i) v.push_back(static_cast<char>((i * 7) & 0xff));
  return v;
}

// Writes a fixture that exercises every kind of change; each reply received
// means the write was acknowledged.
void WriteFixture(RespClient& c) {
  ASSERT_EQ(c.CallRaw({"SET", "plain", "hello"}), "+OK\r\n");
  ASSERT_EQ(c.CallRaw({"SET", "with-ex", "v", "EX", "1000"}), "+OK\r\n");
  ASSERT_EQ(c.CallRaw({"SET", "with-px", "v", "PX", "100000"}), "+OK\r\n");
  ASSERT_EQ(c.CallRaw({"SET", "deleted", "v"}), "+OK\r\n");
  ASSERT_EQ(c.CallRaw({"DEL", "deleted"}), ":1\r\n");
  ASSERT_EQ(c.CallRaw({"SET", "persisted", "v", "EX", "100"}), "+OK\r\n");
  ASSERT_EQ(c.CallRaw({"PERSIST", "persisted"}), ":1\r\n");
  ASSERT_EQ(c.CallRaw({"SET", "expire-later", "v"}), "+OK\r\n");
  ASSERT_EQ(c.CallRaw({"EXPIRE", "expire-later", "2000"}), ":1\r\n");
  ASSERT_EQ(c.CallRaw({"SET", "expired-by-command", "v"}), "+OK\r\n");
  ASSERT_EQ(c.CallRaw({"PEXPIRE", "expired-by-command", "-1"}), ":1\r\n");
  ASSERT_EQ(c.CallRaw({"INCRBY", "counter", "41"}), ":41\r\n");
  ASSERT_EQ(c.CallRaw({"INCR", "counter"}), ":42\r\n");
  ASSERT_EQ(c.CallRaw({"DECRBY", "negative", "7"}), ":-7\r\n");
  ASSERT_EQ(c.CallRaw({"SET", "overwritten", "first"}), "+OK\r\n");
  ASSERT_EQ(c.CallRaw({"SET", "overwritten", "second", "KEEPTTL"}), "+OK\r\n");
  ASSERT_EQ(c.CallRaw({"SET", "ttl-cleared", "v", "EX", "100"}), "+OK\r\n");
  ASSERT_EQ(c.CallRaw({"SET", "ttl-cleared", "w"}), "+OK\r\n");
  ASSERT_EQ(c.CallRaw({"SET", kBinaryKey, BinaryValue()}), "+OK\r\n");
  ASSERT_EQ(c.CallRaw({"SET", "nx-kept", "original", "NX"}), "+OK\r\n");
  ASSERT_EQ(c.CallRaw({"SET", "nx-kept", "ignored", "NX"}), "$-1\r\n");
}

// `other_keys`: keys the test wrote besides the fixture.
void VerifyFixture(RespClient& c, int other_keys = 0) {
  EXPECT_EQ(c.CallRaw({"GET", "plain"}), "$5\r\nhello\r\n");
  int64_t ttl = IntegerOf(c.Call({"TTL", "with-ex"}));
  EXPECT_GE(ttl, 980);
  EXPECT_LE(ttl, 1000);
  int64_t pttl = IntegerOf(c.Call({"PTTL", "with-px"}));
  EXPECT_GT(pttl, 80000);
  EXPECT_LE(pttl, 100000);
  EXPECT_EQ(c.CallRaw({"GET", "deleted"}), "$-1\r\n");
  EXPECT_EQ(c.CallRaw({"EXISTS", "deleted"}), ":0\r\n");
  EXPECT_EQ(c.CallRaw({"GET", "persisted"}), "$1\r\nv\r\n");
  EXPECT_EQ(c.CallRaw({"TTL", "persisted"}), ":-1\r\n");
  ttl = IntegerOf(c.Call({"TTL", "expire-later"}));
  EXPECT_GE(ttl, 1980);
  EXPECT_LE(ttl, 2000);
  EXPECT_EQ(c.CallRaw({"EXISTS", "expired-by-command"}), ":0\r\n");
  EXPECT_EQ(c.CallRaw({"GET", "counter"}), "$2\r\n42\r\n");
  EXPECT_EQ(c.CallRaw({"GET", "negative"}), "$2\r\n-7\r\n");
  EXPECT_EQ(c.CallRaw({"GET", "overwritten"}), "$6\r\nsecond\r\n");
  EXPECT_EQ(c.CallRaw({"TTL", "ttl-cleared"}), ":-1\r\n");
  EXPECT_EQ(c.CallRaw({"GET", "ttl-cleared"}), "$1\r\nw\r\n");
  RespValue bin = c.Call({"GET", kBinaryKey});
  EXPECT_EQ(bin.type, RespValue::Type::kBulk);
  EXPECT_TRUE(bin.str == BinaryValue()) << "binary value differs after restart";
  EXPECT_EQ(c.CallRaw({"GET", "nx-kept"}), "$8\r\noriginal\r\n");
  // plain with-ex with-px persisted expire-later counter negative overwritten ttl-cleared bin nx-kept
  EXPECT_EQ(c.CallRaw({"DBSIZE"}), ":" + std::to_string(11 + other_keys) + "\r\n");
  // The counter keeps counting from its recovered value.
  EXPECT_EQ(c.CallRaw({"INCR", "counter"}), ":43\r\n");
  EXPECT_EQ(c.CallRaw({"DECR", "counter"}), ":42\r\n");
}

using PersistenceTest = TallydTest;

TEST_F(PersistenceTest, CleanRestartKeepsValuesTtlsAndDeletes) {
  {
    RespClient c = Connect();
    WriteFixture(c);
    if (HasFatalFailure()) return;
  }
  ASSERT_TRUE(daemon().Restart());
  RespClient c = Connect();
  VerifyFixture(c);
  // And once more, after a restart that had nothing new to recover.
  ASSERT_TRUE(daemon().Restart());
  RespClient again = Connect();
  VerifyFixture(again);
}

TEST_F(PersistenceTest, SigkillKeepsEveryAcknowledgedWrite) {
  {
    RespClient c = Connect();
    WriteFixture(c);
    if (HasFatalFailure()) return;
  }
  ASSERT_TRUE(daemon().KillAndRestart());
  RespClient c = Connect();
  VerifyFixture(c);
  c.Close();
  ASSERT_TRUE(daemon().KillAndRestart());
  RespClient again = Connect();
  VerifyFixture(again);
}

TEST_F(PersistenceTest, AlternatingKillsAndCleanRestartsAccumulateChanges) {
  for (int round = 0; round < 6; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    {
      RespClient c = Connect();
      ASSERT_EQ(c.CallRaw({"INCRBY", "rounds", std::to_string(round + 1)}),
                ":" + std::to_string((round + 1) * (round + 2) / 2) + "\r\n");
      ASSERT_EQ(c.CallRaw({"SET", "round:" + std::to_string(round), std::to_string(round)}), "+OK\r\n");
      if (round >= 2) {
        ASSERT_EQ(c.CallRaw({"DEL", "round:" + std::to_string(round - 2)}), ":1\r\n");
      }
    }
    if (round % 2 == 0) {
      ASSERT_TRUE(daemon().KillAndRestart());
    } else {
      ASSERT_TRUE(daemon().Restart());
    }
    RespClient c = Connect();
    EXPECT_EQ(c.CallRaw({"GET", "rounds"}), "$" + std::to_string(std::to_string((round + 1) * (round + 2) / 2).size()) +
                                                "\r\n" + std::to_string((round + 1) * (round + 2) / 2) + "\r\n");
    for (int r = 0; r <= round; ++r) {
      bool alive = r > round - 2;
      EXPECT_EQ(c.CallRaw({"EXISTS", "round:" + std::to_string(r)}), alive ? ":1\r\n" : ":0\r\n") << "round:" << r;
    }
  }
}

TEST_F(PersistenceTest, ManyPipelinedKeysSurviveKillAndRestart) {
  const int n = 20000;
  {
    RespClient c = Connect();
    std::string pipeline;
    for (int i = 0; i < n; ++i) {
      pipeline += EncodeCommand({"SET", "bulk:" + std::to_string(i), "value:" + std::to_string(i * 31)});
    }
    ASSERT_TRUE(c.Send(pipeline));
    for (int i = 0; i < n; ++i) ASSERT_EQ(c.ReadReply().raw, "+OK\r\n") << i;
  }
  ASSERT_TRUE(daemon().KillAndRestart());
  RespClient c = Connect();
  EXPECT_EQ(c.CallRaw({"DBSIZE"}), ":" + std::to_string(n) + "\r\n");
  std::string pipeline;
  for (int i = 0; i < n; i += 7) pipeline += EncodeCommand({"GET", "bulk:" + std::to_string(i)});
  ASSERT_TRUE(c.Send(pipeline));
  for (int i = 0; i < n; i += 7) {
    std::string value = "value:" + std::to_string(i * 31);
    ASSERT_EQ(c.ReadReply().raw, "$" + std::to_string(value.size()) + "\r\n" + value + "\r\n") << i;
  }
  c.Close();
  ASSERT_TRUE(daemon().Restart());
  RespClient d = Connect();
  EXPECT_EQ(d.CallRaw({"DBSIZE"}), ":" + std::to_string(n) + "\r\n");
  EXPECT_EQ(d.CallRaw({"GET", "bulk:19999"}), "$12\r\nvalue:619969\r\n");
}

TEST_F(PersistenceTest, LargeValuesSurviveKill) {
  std::string big(4 << 20, '\0');
  std::mt19937 rng(42);
  for (auto& ch : big) ch = static_cast<char>(rng());
  {
    RespClient c = Connect();
    ASSERT_EQ(c.CallRaw({"SET", "big", big}), "+OK\r\n");
  }
  ASSERT_TRUE(daemon().KillAndRestart());
  RespClient c = Connect();
  RespValue v = c.Call({"GET", "big"});
  ASSERT_EQ(v.type, RespValue::Type::kBulk);
  EXPECT_EQ(v.str.size(), big.size());
  EXPECT_TRUE(v.str == big);
}

TEST_F(PersistenceTest, KillDuringStartupLosesNothing) {
  {
    RespClient c = Connect();
    WriteFixture(c);
    if (HasFatalFailure()) return;
  }
  daemon().Kill();
  // Kill it again and again while it is recovering.
  for (int delay_ms : {0, 1, 3, 10, 30}) {
    ASSERT_TRUE(daemon().Spawn());
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    daemon().Kill();
  }
  ASSERT_TRUE(daemon().Start());
  RespClient c = Connect();
  VerifyFixture(c);
}

TEST_F(PersistenceTest, UnixSocketWorksAfterKillLeftAStaleSocketFile) {
  ASSERT_EQ(RedisCliUnix(daemon().unix_socket(), {"SET", "k", "v"}).out, "OK\n");
  ASSERT_TRUE(daemon().KillAndRestart());
  ProcessResult r = RedisCliUnix(daemon().unix_socket(), {"GET", "k"});
  EXPECT_EQ(r.out, "\"v\"\n") << r.Describe();
}

// ---- expiry across restarts ----------------------------------------------------

TEST_F(PersistenceTest, KeysThatExpiredWhileStoppedAreGoneAfterRestart) {
  {
    RespClient c = Connect();
    ASSERT_EQ(c.CallRaw({"SET", "permanent", "v"}), "+OK\r\n");
    ASSERT_EQ(c.CallRaw({"SET", "short-px", "v", "PX", "300"}), "+OK\r\n");
    ASSERT_EQ(c.CallRaw({"SET", "short-ex", "v", "EX", "1"}), "+OK\r\n");
    ASSERT_EQ(c.CallRaw({"SET", "short-expire", "v"}), "+OK\r\n");
    ASSERT_EQ(c.CallRaw({"PEXPIRE", "short-expire", "300"}), ":1\r\n");
    ASSERT_EQ(c.CallRaw({"INCR", "short-counter"}), ":1\r\n");
    ASSERT_EQ(c.CallRaw({"PEXPIRE", "short-counter", "300"}), ":1\r\n");
    ASSERT_EQ(c.CallRaw({"SET", "long", "v", "PX", "600000"}), "+OK\r\n");
  }
  ASSERT_TRUE(daemon().Stop());
  std::this_thread::sleep_for(1200ms);
  ASSERT_TRUE(daemon().Start());
  RespClient c = Connect();
  for (const char* key : {"short-px", "short-ex", "short-expire", "short-counter"}) {
    EXPECT_EQ(c.CallRaw({"GET", key}), "$-1\r\n") << key;
    EXPECT_EQ(c.CallRaw({"EXISTS", key}), ":0\r\n") << key;
    EXPECT_EQ(c.CallRaw({"TTL", key}), ":-2\r\n") << key;
  }
  EXPECT_EQ(c.CallRaw({"DBSIZE"}), ":2\r\n");
  RespValue scan = c.Call({"SCAN", "0", "COUNT", "1000"});
  ASSERT_EQ(scan.elements.size(), 2u) << scan;
  EXPECT_EQ(scan.elements[1].elements.size(), 2u) << scan;
  EXPECT_TRUE(Contains(c.Call({"INFO", "keyspace"}).str, "db0:keys=2,expires=1")) << c.Call({"INFO", "keyspace"});
  // The expired counter starts again from zero.
  EXPECT_EQ(c.CallRaw({"INCR", "short-counter"}), ":1\r\n");
}

TEST_F(PersistenceTest, KeysThatExpiredBeforeAKillAreGoneAfterRestart) {
  {
    RespClient c = Connect();
    ASSERT_EQ(c.CallRaw({"SET", "permanent", "v"}), "+OK\r\n");
    ASSERT_EQ(c.CallRaw({"SET", "gone", "v", "PX", "100"}), "+OK\r\n");
    ASSERT_EQ(c.CallRaw({"SET", "going", "v", "PX", "100"}), "+OK\r\n");
  }
  std::this_thread::sleep_for(300ms);
  {
    RespClient c = Connect();
    EXPECT_EQ(c.CallRaw({"GET", "gone"}), "$-1\r\n");  // read after expiry
  }
  ASSERT_TRUE(daemon().KillAndRestart());
  RespClient c = Connect();
  EXPECT_EQ(c.CallRaw({"EXISTS", "gone", "going", "permanent"}), ":1\r\n");
  EXPECT_EQ(c.CallRaw({"DBSIZE"}), ":1\r\n");
}

TEST_F(PersistenceTest, TtlKeepsCountingDownAcrossRestartAndThenExpires) {
  {
    RespClient c = Connect();
    ASSERT_EQ(c.CallRaw({"SET", "soon", "v", "PX", "2500"}), "+OK\r\n");
  }
  ASSERT_TRUE(daemon().KillAndRestart());
  RespClient c = Connect();
  int64_t pttl = IntegerOf(c.Call({"PTTL", "soon"}));
  EXPECT_GT(pttl, 0);
  EXPECT_LT(pttl, 2500);  // the expiry is absolute: time passed while restarting
  std::this_thread::sleep_for(std::chrono::milliseconds(std::max<int64_t>(pttl, 0) + 200));
  EXPECT_EQ(c.CallRaw({"GET", "soon"}), "$-1\r\n");
  c.Close();
  ASSERT_TRUE(daemon().Restart());
  RespClient d = Connect();
  EXPECT_EQ(d.CallRaw({"EXISTS", "soon"}), ":0\r\n");
}

// ---- compaction ---------------------------------------------------------------

class CompactionPersistenceTest : public TallydTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--compaction-interval-ms", "100"}; }
};

int64_t InfoField(RespClient& c, const std::string& section, const std::string& field) {
  RespValue info = c.Call({"INFO", section});
  std::smatch m;
  std::regex re(field + ":(-?\\d+)");
  if (!std::regex_search(info.str, m, re)) {
    ADD_FAILURE() << field << " missing from INFO " << section << ": " << info;
    return -1;
  }
  return std::stoll(m[1]);
}

TEST_F(CompactionPersistenceTest, WritesBeforeAndAfterCompactionSurviveKill) {
  RespClient c = Connect();
  WriteFixture(c);
  if (HasFatalFailure()) return;
  // Wait for a compaction to fold the log.
  int64_t runs_before = InfoField(c, "persistence", "compaction_runs");
  bool compacted = false;
  for (int i = 0; i < 100 && !compacted; ++i) {
    std::this_thread::sleep_for(50ms);
    compacted = InfoField(c, "persistence", "compaction_runs") > runs_before &&
                InfoField(c, "persistence", "log_entries_uncompacted") == 0;
  }
  ASSERT_TRUE(compacted) << c.Call({"INFO", "persistence"}).str;
  // Changes on top of the compacted state, still in the log at the kill.
  ASSERT_EQ(c.CallRaw({"INCR", "counter"}), ":43\r\n");
  ASSERT_EQ(c.CallRaw({"DEL", "plain"}), ":1\r\n");
  ASSERT_EQ(c.CallRaw({"SET", "after", "compaction"}), "+OK\r\n");
  c.Close();
  ASSERT_TRUE(daemon().KillAndRestart());
  RespClient d = Connect();
  EXPECT_EQ(d.CallRaw({"GET", "counter"}), "$2\r\n43\r\n");
  EXPECT_EQ(d.CallRaw({"EXISTS", "plain"}), ":0\r\n");
  EXPECT_EQ(d.CallRaw({"GET", "after"}), "$10\r\ncompaction\r\n");
  EXPECT_EQ(d.CallRaw({"GET", "overwritten"}), "$6\r\nsecond\r\n");
  EXPECT_EQ(d.CallRaw({"TTL", "persisted"}), ":-1\r\n");
  EXPECT_EQ(d.CallRaw({"DBSIZE"}), ":11\r\n");
}

// ---- durability=fsync ----------------------------------------------------------

class FsyncTest : public TallydTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--durability", "fsync"}; }
};

TEST_F(FsyncTest, FsyncModeReportsItselfAndKeepsConcurrentWritesThroughKill) {
  EXPECT_EQ(Cli({"CONFIG", "GET", "appendfsync"}), "1) \"appendfsync\"\n2) \"always\"");
  EXPECT_TRUE(Contains(Cli({"INFO", "persistence"}), "durability:fsync"));
  {
    RespClient c = Connect();
    WriteFixture(c);
    if (HasFatalFailure()) return;
  }
  // Concurrent writers share fsyncs (group commit); every reply is durable.
  const int writers = 6, per_writer = 300;
  std::vector<std::thread> threads;
  std::vector<int> acked(writers, 0);
  for (int t = 0; t < writers; ++t) {
    threads.emplace_back([&, t] {
      auto c = RespClient::ConnectTcp(port());
      if (!c) return;
      for (int i = 0; i < per_writer; ++i) {
        if (c->Call({"INCR", "fsynced"}).type != RespValue::Type::kInteger) return;
        if (c->Call({"SET", "w:" + std::to_string(t), std::to_string(i)}).raw != "+OK\r\n") return;
        ++acked[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < writers; ++t) ASSERT_EQ(acked[t], per_writer) << "writer " << t;
  ASSERT_TRUE(daemon().KillAndRestart());
  RespClient c = Connect();
  VerifyFixture(c, /*other_keys=*/1 + writers);
  EXPECT_EQ(c.CallRaw({"GET", "fsynced"}), "$4\r\n1800\r\n");
  for (int t = 0; t < writers; ++t) {
    EXPECT_EQ(c.CallRaw({"GET", "w:" + std::to_string(t)}), "$3\r\n299\r\n");
  }
}

// ---- one daemon per data dir ------------------------------------------------------

TEST_F(PersistenceTest, SecondTallydOnTheSameDataDirRefusesToStart) {
  ASSERT_EQ(Cli({"SET", "owned", "by-the-first"}), "OK");
  // Same data dir and even the same unix socket path; another TCP port.
  std::vector<std::string> argv = {TallydPath()};
  for (const auto& a : daemon().Args()) argv.push_back(a);
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == "--port") argv[i + 1] = std::to_string(PickFreePort());
  }
  ProcessResult second = RunProcess(argv, {}, 20s);
  ASSERT_TRUE(second.started) << second.Describe();
  EXPECT_FALSE(second.timed_out) << "the second tallyd kept running: " << second.Describe();
  EXPECT_TRUE(second.exited && second.exit_code != 0) << second.Describe();
  std::string output = second.out + second.err;
  std::string lower = output;
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  EXPECT_TRUE(Contains(lower, "lock")) << "the message should mention the lock: " << output;
  EXPECT_TRUE(Contains(output, daemon().data_dir())) << "the message should name the data dir: " << output;
  // The first daemon is untouched, over TCP and over its unix socket.
  EXPECT_TRUE(daemon().Alive());
  EXPECT_EQ(Cli({"GET", "owned"}), "\"by-the-first\"");
  EXPECT_EQ(RedisCliUnix(daemon().unix_socket(), {"GET", "owned"}).out, "\"by-the-first\"\n");
  EXPECT_EQ(Cli({"INCR", "still-writable"}), "(integer) 1");
  ASSERT_TRUE(daemon().Restart());
  EXPECT_EQ(Cli({"GET", "still-writable"}), "\"1\"");
}

}  // namespace
}  // namespace tally::itest
