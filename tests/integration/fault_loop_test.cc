// The crash-and-fault loop: concurrent pipelining clients write while the
// daemon, cycle after cycle, is SIGKILLed at a random moment, killed again
// during its recovery, runs out of disk space (and gets it back, or is killed
// while full), has its log fsync fail, or has a log append fail. Faults come
// from the test-only fault-injecting file system (storage/fault_fs.h, switched
// by the file named in TALLY_TEST_FAULT_CONTROL), so the loop runs anywhere;
// where the test may mount, the data dir is also a 512 MiB tmpfs that a file
// really fills (the kernel's ENOSPC, partial writes and all).
//
// What each client's commands prove after every restart:
//
//  * ID'd increments (CTR.INCRBY loop:t<n> hits d ID <n>-<seq>): a reply that
//    is an integer is an acknowledgement; an error on a connection that goes
//    on answering is a refusal (nothing applied); a command without a reply,
//    or with the error a connection closes after, has an unknown outcome and
//    is retried with its ID after the restart. The counter must then equal
//    exactly the sum of every acknowledged delta: nothing lost, nothing
//    counted twice, no refused write applied. Its hour/day/month/year cells
//    must equal the total.
//  * Plain increments of shared keys (INCRBY, CTR.INCRBY without ID) cannot
//    be retried: acknowledged <= value <= acknowledged + unknown, over all
//    cycles.
//
// TALLY_FAULT_LOOP_CYCLES (default 56: each fault 8 times) sets the number of cycles; the test
// prints a summary table (docs/reliability.md quotes one).

#include <gtest/gtest.h>
#include <time.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <thread>

#include "filesystem_util.h"
#include "http_client.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

using json = nlohmann::json;

constexpr int kThreads = 6;
constexpr int kBatch = 48;  // average commands per pipelined write
// Shared plain counters: INCRBY loop:shared:0..2, then CTR.INCRBY loop:shared hits.
constexpr int kSharedPlain = 3;
constexpr int kShared = kSharedPlain + 1;

std::vector<std::string> SharedIncrement(int k) {
  if (k < kSharedPlain) return {"INCRBY", "loop:shared:" + std::to_string(k), "1"};
  return {"CTR.INCRBY", "loop:shared", "hits", "1"};
}
std::vector<std::string> SharedRead(int k) {
  if (k < kSharedPlain) return {"GET", "loop:shared:" + std::to_string(k)};
  return {"CTR.GET", "loop:shared", "hits"};
}
std::string OwnOwner(int t) { return "loop:t" + std::to_string(t); }
std::vector<std::string> OwnIncrement(int t, int64_t seq, int64_t delta) {
  return {"CTR.INCRBY",          OwnOwner(t), "hits",
          std::to_string(delta), "ID",        std::to_string(t) + "-" + std::to_string(seq)};
}

// The faults a cycle injects.
enum class Fault {
  kKill,                // SIGKILL under load
  kKillDuringRecovery,  // SIGKILL under load, then again while the restart replays the log
  kNoSpaceResume,       // the disk fills up, space returns (writes resume), then SIGKILL
  kNoSpaceKill,         // the disk fills up and the daemon is SIGKILLed while full
  kSyncError,           // an fsync of the log fails (writes stop), then SIGKILL
  kAppendError,         // a log append fails with EIO (writes stop), then SIGKILL
  kRealDiskFull,        // the tmpfs data dir filled by a file; alternately freed before and after a SIGKILL
};
constexpr int kFaultKinds = 7;
const char* FaultName(Fault fault) {
  switch (fault) {
    case Fault::kKill:
      return "SIGKILL under load";
    case Fault::kKillDuringRecovery:
      return "SIGKILL, then SIGKILL during recovery";
    case Fault::kNoSpaceResume:
      return "disk full, space returns, SIGKILL";
    case Fault::kNoSpaceKill:
      return "disk full, SIGKILL while full";
    case Fault::kSyncError:
      return "failed fsync, SIGKILL";
    case Fault::kAppendError:
      return "failed log append (EIO), SIGKILL";
    case Fault::kRealDiskFull:
      return "real full filesystem (tmpfs), freed before or after SIGKILL";
  }
  return "?";
}

// What one client knows about its writes, over all cycles.
struct Ledger {
  int64_t own_acked = 0;                                 // sum of acknowledged ID'd deltas
  std::vector<std::pair<int64_t, int64_t>> own_unknown;  // (seq, delta) to retry
  int64_t next_seq = 0;
  std::array<int64_t, kShared> shared_acked{};
  std::array<int64_t, kShared> shared_unknown{};
  // This cycle's figures (reset by the controller).
  int64_t acknowledged = 0, refused = 0, unknown = 0;
  std::string error;  // a reply no fault explains
};

// Errors a write may get from a fault: disk_full or storage_failed.
bool IsFaultError(const RespValue& reply) {
  return reply.is_error() &&
         (reply.str.rfind("ERR no space left on device", 0) == 0 || reply.str.rfind("ERR storage failure", 0) == 0);
}

struct Sent {
  bool own;
  int index;  // shared: counter; own: unused
  int64_t seq;
  int64_t delta;
};

class Client {
 public:
  Client(int port, int t, uint64_t seed, Ledger* ledger, const std::atomic<bool>* stop, const std::atomic<bool>* down)
      : port_(port), t_(t), rng_(seed), ledger_(ledger), stop_(stop), down_(down) {}

  // Writes until told to stop (all replies read) or the daemon goes down.
  // A connection closed while the daemon is up (after an outcome-unknown
  // error) is replaced.
  void Run() {
    while (!stop_->load() && !down_->load()) {
      auto c = RespClient::ConnectTcpRetrying(port_, 40);
      if (!c) {
        if (!down_->load()) ledger_->error = "cannot connect while the daemon is up";
        return;
      }
      RunConnection(*c);
      if (!ledger_->error.empty()) return;
    }
  }

 private:
  void RunConnection(RespClient& c) {
    std::deque<Sent> outstanding;
    std::deque<int> batches;
    std::vector<Sent> unconfirmed;  // error replies not yet followed by another reply
    bool lost = false;
    auto send_batch = [&] {
      std::string pipeline;
      const int size = 1 + static_cast<int>(rng_() % (2 * kBatch));
      for (int i = 0; i < size; ++i) {
        if (rng_() % 3 == 0) {
          const int k = static_cast<int>(rng_() % kShared);
          outstanding.push_back({false, k, 0, 1});
          pipeline += EncodeCommand(SharedIncrement(k));
        } else {
          const int64_t seq = ledger_->next_seq++;
          const int64_t delta = 1 + static_cast<int64_t>(rng_() % 5);
          outstanding.push_back({true, 0, seq, delta});
          pipeline += EncodeCommand(OwnIncrement(t_, seq, delta));
        }
      }
      if (!c.Send(pipeline)) lost = true;  // a part may have been delivered: all of it is unknown
      batches.push_back(size);
    };
    send_batch();
    while (!lost) {
      if (batches.size() < 2 && !stop_->load()) send_batch();
      if (lost || batches.empty()) break;
      for (int n = batches.front(); n > 0; --n) {
        RespValue reply = c.ReadReply(20s);
        if (!reply.ok()) {
          lost = true;
          break;
        }
        for (const Sent& s : unconfirmed) Refused(s);  // the connection answered on: they were refusals
        unconfirmed.clear();
        const Sent s = outstanding.front();
        outstanding.pop_front();
        if (reply.type == RespValue::Type::kInteger) {
          Acknowledged(s);
        } else if (IsFaultError(reply)) {
          unconfirmed.push_back(s);
        } else {
          ledger_->error =
              "unexpected reply " + reply.ToString() + " to " +
              ::testing::PrintToString(s.own ? OwnIncrement(t_, s.seq, s.delta) : SharedIncrement(s.index));
          return;
        }
      }
      if (!lost) batches.pop_front();
      if (stop_->load() && batches.empty()) break;
    }
    // A connection that ends after an error closed because of it: the error
    // and everything after it have an unknown outcome.
    for (const Sent& s : unconfirmed) Unknown(s);
    for (const Sent& s : outstanding) Unknown(s);
  }

  void Acknowledged(const Sent& s) {
    ++ledger_->acknowledged;
    if (s.own) {
      ledger_->own_acked += s.delta;
    } else {
      ++ledger_->shared_acked[s.index];
    }
  }
  void Refused(const Sent&) { ++ledger_->refused; }
  void Unknown(const Sent& s) {
    ++ledger_->unknown;
    if (s.own) {
      ledger_->own_unknown.emplace_back(s.seq, s.delta);
    } else {
      ++ledger_->shared_unknown[s.index];
    }
  }

  int port_;
  int t_;
  std::mt19937_64 rng_;
  Ledger* ledger_;
  const std::atomic<bool>* stop_;
  const std::atomic<bool>* down_;
};

int64_t ReadValue(RespClient& c, const std::vector<std::string>& command) {
  RespValue v = c.Call(command);
  if (v.type == RespValue::Type::kNull) return 0;
  if (v.type == RespValue::Type::kInteger) return v.integer;
  EXPECT_EQ(v.type, RespValue::Type::kBulk) << ::testing::PrintToString(command) << ": " << v;
  return v.type == RespValue::Type::kBulk ? std::stoll(v.str) : -1;
}

std::array<std::string, 4> CurrentPeriods() {
  time_t now = time(nullptr);
  struct tm tm {};
  gmtime_r(&now, &tm);
  char hour[32], day[16], month[16], year[8];
  strftime(hour, sizeof hour, "%Y-%m-%dT%H", &tm);
  strftime(day, sizeof day, "%Y-%m-%d", &tm);
  strftime(month, sizeof month, "%Y-%m", &tm);
  strftime(year, sizeof year, "%Y", &tm);
  return {hour, day, month, year};
}

int CycleCount() {
  const char* env = std::getenv("TALLY_FAULT_LOOP_CYCLES");
  return env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : 8 * kFaultKinds;
}

// /ready's status and error code.
std::pair<int, std::string> Ready(int http_port) {
  auto http = HttpClient::Connect(http_port);
  if (!http) return {0, ""};
  HttpReply reply = http->Call("GET", "/ready");
  json body = json::parse(reply.body, nullptr, false);
  std::string code;
  if (body.is_object() && body.contains("error")) code = body["error"].value("code", "");
  return {reply.status, code};
}

class FaultLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    control_ = daemon_.dir() + "/fault";
    SetFault("");
    ::setenv("TALLY_TEST_FAULT_CONTROL", control_.c_str(), 1);  // inherited by every start
    mount_ = std::make_unique<TmpfsMount>(daemon_.data_dir(), "512m");
    if (!mount_->mounted()) {
      std::cout << "[fault-loop] cannot mount a tmpfs on the data dir (" << mount_->error()
                << "): the real-full-disk cycles use the fault-injecting file system's ENOSPC instead" << std::endl;
    }
  }
  void TearDown() override { ::unsetenv("TALLY_TEST_FAULT_CONTROL"); }

  void SetFault(const std::string& word) {
    std::ofstream(control_) << word;
    // The switch is re-read at most every 10 ms.
    if (!word.empty()) std::this_thread::sleep_for(15ms);
  }
  void Sleep(int min_ms, int max_ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(min_ms + static_cast<int>(rng_() % (max_ms - min_ms + 1))));
  }
  // Polls /ready until it answers `status` with `code` (up to 10 s).
  ::testing::AssertionResult AwaitReady(int status, const std::string& code) {
    std::pair<int, std::string> last;
    for (int i = 0; i < 1000; ++i) {
      last = Ready(daemon_.http_port());
      if (last.first == status && last.second == code) return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(10ms);
    }
    return ::testing::AssertionFailure() << "/ready answered " << last.first << " " << last.second << ", expected "
                                         << status << " " << code;
  }

  // One cycle of load and `fault`, then a restart and the checks.
  void Cycle(int cycle, Fault fault) {
    SCOPED_TRACE(std::string("cycle ") + std::to_string(cycle) + ": " + FaultName(fault));
    for (Ledger& l : ledgers_) l.acknowledged = l.refused = l.unknown = 0;
    std::atomic<bool> stop{false}, down{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back(
          [&, t, seed = rng_()] { Client(daemon_.port(), t, seed, &ledgers_[t], &stop, &down).Run(); });
    }
    auto kill = [&] {
      down = true;
      daemon_.Kill();
    };
    Sleep(100, 400);
    switch (fault) {
      case Fault::kKill:
        kill();
        break;
      case Fault::kKillDuringRecovery:
        kill();
        break;
      case Fault::kNoSpaceResume: {
        SetFault("nospace");
        Sleep(100, 300);
        ExpectReadsServed();
        EXPECT_TRUE(AwaitReady(503, "disk_full"));
        const auto cleared = std::chrono::steady_clock::now();
        SetFault("");
        EXPECT_TRUE(AwaitReady(200, ""));
        resume_ms_[fault].push_back(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - cleared).count());
        Sleep(100, 300);  // writes acknowledged again before the kill
        kill();
        break;
      }
      case Fault::kNoSpaceKill:
        SetFault("nospace");
        Sleep(100, 300);
        ExpectReadsServed();
        kill();
        SetFault("");
        break;
      case Fault::kSyncError:
        SetFault("syncerror");
        EXPECT_TRUE(AwaitReady(503, "storage_failed"));
        SetFault("");  // the device heals; writes stay refused until the restart
        Sleep(50, 150);
        ExpectReadsServed();
        EXPECT_EQ(Ready(daemon_.http_port()).second, "storage_failed");
        kill();
        break;
      case Fault::kAppendError:
        SetFault("ioerror");
        Sleep(50, 150);
        SetFault("");
        ExpectReadsServed();
        kill();
        break;
      case Fault::kRealDiskFull: {
        const std::string filler = daemon_.dir() + "/data/filler";
        const bool free_before_kill = real_full_cycles_++ % 2 == 0;
        if (mount_->mounted()) {
          EXPECT_GT(FillUp(filler), 0);
        } else {
          SetFault("nospace");
        }
        Sleep(100, 300);
        ExpectReadsServed();
        EXPECT_TRUE(AwaitReady(503, "disk_full"));
        auto free_space = [&] {
          if (mount_->mounted()) {
            std::filesystem::remove(filler);
          } else {
            SetFault("");
          }
        };
        if (free_before_kill) {
          free_space();  // deleting 512 MiB from a tmpfs takes a while: timed from its end
          const auto freed = std::chrono::steady_clock::now();
          EXPECT_TRUE(AwaitReady(200, ""));
          resume_ms_[fault].push_back(
              std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - freed).count());
          Sleep(100, 300);
          kill();
        } else {
          kill();
          free_space();
        }
        break;
      }
    }
    stop = true;
    for (auto& th : threads) th.join();

    int64_t acknowledged = 0, refused = 0, unknown = 0;
    for (int t = 0; t < kThreads; ++t) {
      ASSERT_EQ(ledgers_[t].error, "") << "client " << t;
      acknowledged += ledgers_[t].acknowledged;
      refused += ledgers_[t].refused;
      unknown += ledgers_[t].unknown;
    }
    ASSERT_GT(acknowledged, 0) << "nothing was acknowledged before the fault";
    if (fault != Fault::kKill && fault != Fault::kKillDuringRecovery) {
      // Writes racing the fault: refusals are expected (but a fault can hit
      // between two batches, so they are counted, not required).
      faulted_cycles_with_refusals_ += refused > 0 ? 1 : 0;
    }
    if (fault == Fault::kKillDuringRecovery) {
      ASSERT_TRUE(daemon_.Spawn());
      Sleep(0, 30);
      daemon_.Kill();
    }
    ASSERT_TRUE(daemon_.Start()) << daemon_.LogTail();
    Check(cycle);

    Totals& totals = totals_[static_cast<int>(fault)];
    ++totals.cycles;
    totals.acknowledged += acknowledged;
    totals.refused += refused;
    totals.unknown += unknown;
    std::cout << "[fault-loop] cycle " << cycle << " (" << FaultName(fault) << "): " << acknowledged
              << " acknowledged, " << refused << " refused, " << unknown << " unknown outcome" << std::endl;
  }

  // While a fault stops writes, reads answer.
  void ExpectReadsServed() {
    auto c = RespClient::ConnectTcp(daemon_.port());
    ASSERT_TRUE(c.has_value());
    RespValue read = c->Call({"CTR.GET", OwnOwner(0), "hits"});
    EXPECT_TRUE(read.type == RespValue::Type::kInteger || read.type == RespValue::Type::kNull) << read;
  }

  // After a restart: unknown ID'd writes retried, then every counter checked.
  void Check(int cycle) {
    auto c = RespClient::ConnectTcp(daemon_.port());
    ASSERT_TRUE(c.has_value());
    const auto periods = CurrentPeriods();
    static const char* kIntervals[] = {"hour", "day", "month", "year"};
    for (int t = 0; t < kThreads; ++t) {
      Ledger& ledger = ledgers_[t];
      // Retried in one pipeline: each must be acknowledged now (applied, or
      // found already applied by its ID).
      std::string pipeline;
      for (const auto& [seq, delta] : ledger.own_unknown) pipeline += EncodeCommand(OwnIncrement(t, seq, delta));
      ASSERT_TRUE(pipeline.empty() || c->Send(pipeline));
      for (const auto& [seq, delta] : ledger.own_unknown) {
        RespValue reply = c->ReadReply(20s);
        ASSERT_EQ(reply.type, RespValue::Type::kInteger)
            << "retry of " << ::testing::PrintToString(OwnIncrement(t, seq, delta)) << ": " << reply;
        ledger.own_acked += delta;
        ++retried_;
      }
      ledger.own_unknown.clear();
      const int64_t total = ReadValue(*c, {"CTR.GET", OwnOwner(t), "hits"});
      EXPECT_EQ(total, ledger.own_acked) << OwnOwner(t) << " hits after cycle " << cycle
                                         << ": must equal every acknowledged ID'd delta exactly once";
      own_found_[t] = total;
      const auto now = CurrentPeriods();
      for (size_t i = 0; i < 4; ++i) {
        if (now[i] != periods[i] || now[i] != start_periods_[i]) continue;  // the clock crossed a boundary
        EXPECT_EQ(ReadValue(*c, {"CTR.GET", OwnOwner(t), "hits", kIntervals[i], now[i]}), total)
            << OwnOwner(t) << " " << kIntervals[i] << " cell disagrees with the total";
      }
    }
    for (int k = 0; k < kShared; ++k) {
      int64_t acked = 0, unknown = 0;
      for (const Ledger& l : ledgers_) {
        acked += l.shared_acked[k];
        unknown += l.shared_unknown[k];
      }
      const int64_t value = ReadValue(*c, SharedRead(k));
      shared_found_[k] = value;
      EXPECT_GE(value, acked) << ::testing::PrintToString(SharedRead(k)) << ": acknowledged increments were lost";
      EXPECT_LE(value, acked + unknown) << ::testing::PrintToString(SharedRead(k))
                                        << ": more than was acknowledged or in doubt (a refused write applied, or "
                                           "one counted twice)";
    }
    RespValue info = c->Call({"INFO", "persistence"});
    EXPECT_TRUE(Contains(info.str, "write_state:ok")) << info.str;
  }

  struct Totals {
    int cycles = 0;
    int64_t acknowledged = 0, refused = 0, unknown = 0;
  };

  TallydProcess daemon_{{"--durability", "process", "--fsync-interval-ms", "20", "--compaction-interval-ms", "100",
                         "--compaction-max-entries", "20000", "--io-threads", "2", "--disk-reserve-bytes", "65536"}};
  std::string control_;
  std::unique_ptr<TmpfsMount> mount_;  // after daemon_: unmounted (lazily) before the dir goes
  int real_full_cycles_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};
  std::array<Ledger, kThreads> ledgers_;
  std::array<Totals, kFaultKinds> totals_;
  std::array<std::string, 4> start_periods_ = CurrentPeriods();
  std::map<Fault, std::vector<int64_t>> resume_ms_;  // from space back to /ready 200
  int faulted_cycles_with_refusals_ = 0;
  int64_t retried_ = 0;
  std::array<int64_t, kThreads> own_found_{};
  std::array<int64_t, kShared> shared_found_{};
  bool fsync_ = false;
};

TEST_F(FaultLoopTest, EveryAcknowledgedWriteSurvivesKillsFullDisksAndFailedSyncsExactlyOnce) {
  ASSERT_TRUE(daemon_.Start());
  const int cycles = CycleCount();
  for (int cycle = 1; cycle <= cycles; ++cycle) {
    // Every kind in turn; every third round of kinds with durability=fsync
    // (the sync of each group commit is the one that fails).
    const Fault fault = static_cast<Fault>((cycle - 1) % kFaultKinds);
    const bool fsync = ((cycle - 1) / kFaultKinds) % 3 == 2;
    if (fsync != fsync_) {
      fsync_ = fsync;
      daemon_.Kill();
      daemon_.set_extra_args({"--durability", fsync ? "fsync" : "process", "--fsync-interval-ms", "20",
                              "--compaction-interval-ms", "100", "--compaction-max-entries", "20000", "--io-threads",
                              "2", "--disk-reserve-bytes", "65536"});
      ASSERT_TRUE(daemon_.Start());
    }
    Cycle(cycle, fault);
    if (HasFatalFailure() || HasFailure()) return;
  }

  // A clean restart changes nothing.
  ASSERT_TRUE(daemon_.Restart());
  Check(cycles + 1);

  // The table docs/reliability.md quotes.
  int64_t acknowledged = 0, refused = 0, unknown = 0;
  std::cout << "\n| Fault | Cycles | Writes acknowledged | Refused | Outcome unknown |\n|---|---:|---:|---:|---:|\n";
  for (int f = 0; f < kFaultKinds; ++f) {
    const Totals& t = totals_[f];
    std::cout << "| " << FaultName(static_cast<Fault>(f)) << " | " << t.cycles << " | " << t.acknowledged << " | "
              << t.refused << " | " << t.unknown << " |\n";
    acknowledged += t.acknowledged;
    refused += t.refused;
    unknown += t.unknown;
  }
  std::cout << "| **all** | " << cycles << " | " << acknowledged << " | " << refused << " | " << unknown << " |\n\n";
  int64_t own_acked = 0, own_found = 0, shared_acked = 0, shared_unknown = 0, shared_found = 0;
  for (int t = 0; t < kThreads; ++t) {
    own_acked += ledgers_[t].own_acked;
    own_found += own_found_[t];
  }
  for (int k = 0; k < kShared; ++k) {
    shared_found += shared_found_[k];
    for (const Ledger& l : ledgers_) {
      shared_acked += l.shared_acked[k];
      shared_unknown += l.shared_unknown[k];
    }
  }
  std::cout << "[fault-loop] ID'd increments: " << own_acked << " units acknowledged (" << retried_
            << " writes of unknown outcome retried by ID), " << own_found
            << " found; plain increments: " << shared_acked << " acknowledged, " << shared_unknown
            << " of unknown outcome, " << shared_found
            << " found; faulted cycles with refusals: " << faulted_cycles_with_refusals_;
  for (auto& [fault, times] : resume_ms_) {
    std::sort(times.begin(), times.end());
    std::cout << "; " << FaultName(fault) << ": writes resumed " << times[times.size() / 2] << " ms (median), "
              << times.back() << " ms (max) after space returned";
  }
  std::cout << std::endl;
}

}  // namespace
}  // namespace tally::itest
