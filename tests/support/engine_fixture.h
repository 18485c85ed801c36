#pragma once
// A real core::Engine for unit tests (library tally_engine_fixture): RocksDB
// in a TempDir on RAM, a ManualClock (expiry, rollover, dedupe windows: nothing
// sleeps) and the restarts a durability test needs. Mix EngineFixture into a
// GoogleTest fixture and call Open() in SetUp:
//
//   class MyTest : public ::testing::Test, public fixtures::EngineFixture {
//    protected:
//     MyTest() : EngineFixture(kStartMs) {}
//     void SetUp() override { Open(); }
//   };
//
// RestartMode runs one test body against live state, compacted state, log
// replay and their mix (INSTANTIATE_TEST_SUITE_P(..., AllRestartModes(),
// RestartModeParamName) with Checkpoint(GetParam()) where the body restarts).

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

#include "core/clock.h"
#include "core/engine.h"
#include "temp_dir.h"

namespace tally::fixtures {

// Opens an engine or stops the program with the reason: for benchmarks,
// which have no test to fail.
std::unique_ptr<core::Engine> OpenEngineOrDie(const core::EngineOptions& options, const core::Clock& clock);

// How Checkpoint() treats the engine.
enum class RestartMode {
  kLive,           // nothing: memory only
  kCompact,        // CompactAll, same process: reads come from RocksDB + memory
  kReplay,         // Reopen without compaction: recovery replays the whole log
  kCompactReopen,  // CompactAll, then Reopen: recovery from compacted state alone
  kMixed,          // alternately CompactAll (odd checkpoints) and Reopen (even ones): each reopen
                   // recovers compacted state plus the log entries written after that compaction
};

inline constexpr std::array<RestartMode, 5> kAllRestartModes = {
    RestartMode::kLive, RestartMode::kCompact, RestartMode::kReplay, RestartMode::kCompactReopen, RestartMode::kMixed};

const char* RestartModeName(RestartMode mode);
// GoogleTest's names for the modes: in failure messages and test names.
void PrintTo(RestartMode mode, std::ostream* os);
std::string RestartModeParamName(const ::testing::TestParamInfo<RestartMode>& info);
inline auto AllRestartModes() { return ::testing::ValuesIn(kAllRestartModes); }

class EngineFixture {
 public:
  explicit EngineFixture(int64_t start_ms);

  // Opens the engine on options_ (a failure fails the test).
  void Open();
  // Makes every write so far durable, as the command layer does before replying.
  void Durable();
  // Destroys the engine after its acknowledged writes, without compaction or
  // flush (as kill -9 would), and recovers from the data dir.
  void Reopen();
  // Destroys the engine without waiting for its log, so writes not yet
  // durable are lost (kill -9 before the reply), and recovers.
  void CrashAndReopen();
  void Compact();
  void Checkpoint(RestartMode mode);

  // Destroyed in reverse: the engine first, then the options, clock and dir.
  TempDir dir_{Medium::kRam};
  core::ManualClock clock_;
  // Data dir dir_/data, a 1 MiB block cache; tests change it before Open().
  core::EngineOptions options_;
  int mixed_checkpoints_ = 0;
  std::unique_ptr<core::Engine> engine_;
};

}  // namespace tally::fixtures
