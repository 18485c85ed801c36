#pragma once
// A fixture for counter engine tests: a real RocksDB data dir in a temp
// directory, a ManualClock (rollover, dedupe expiry: nothing sleeps), helpers
// that read like the CTR.* commands, and restart modes so that one test body
// checks live state, compacted state, log replay and their mix.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "core/calendar.h"
#include "core/clock.h"
#include "core/engine.h"

namespace tally::core::counters_test {

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kDayMs = 86'400'000;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
inline int64_t DaysFromCivil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
}

// Unix milliseconds of a UTC wall-clock time.
inline int64_t Utc(int y, unsigned m, unsigned d, int h = 0, int min = 0, int s = 0) {
  return DaysFromCivil(y, m, d) * kDayMs + h * kHourMs + min * kMinuteMs + s * 1000;
}

inline TimeZone Zone(std::string_view name) {
  std::optional<TimeZone> zone = TimeZone::Find(name);
  if (!zone) std::abort();
  return *zone;
}

// A scratch directory, removed with everything in it. In /dev/shm when there
// is one (RocksDB's fsyncs cost nothing there, which keeps the suite fast),
// else (or with TALLY_NO_SHM set in the environment) in /tmp.
class ScratchDir {
 public:
  ScratchDir() {
    std::error_code ec;
    const bool shm = std::getenv("TALLY_NO_SHM") == nullptr && std::filesystem::is_directory("/dev/shm", ec) &&
                     access("/dev/shm", W_OK) == 0;
    std::string pattern = std::string(shm ? "/dev/shm" : "/tmp") + "/tally-counters-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// How a test's checkpoints (Restart()) treat the engine.
enum class Mode {
  kLive,           // nothing: memory only
  kCompact,        // CompactAll, same process: reads come from RocksDB + memory
  kReplay,         // destroy and reopen without compaction: recovery replays the whole log
  kCompactReopen,  // CompactAll, then reopen: recovery from compacted state alone
  kMixed,          // alternately CompactAll (odd checkpoints) and reopen (even ones): each reopen
                   // recovers compacted state plus the log entries written after that compaction
};

inline const char* ModeName(Mode mode) {
  switch (mode) {
    case Mode::kLive:
      return "Live";
    case Mode::kCompact:
      return "Compact";
    case Mode::kReplay:
      return "Replay";
    case Mode::kCompactReopen:
      return "CompactReopen";
    case Mode::kMixed:
      return "Mixed";
  }
  return "?";
}

class CounterFixture {
 public:
  // 2024-06-15T12:20:00Z, a Saturday in June (Q2, ISO week 2024-W24).
  static constexpr int64_t kStartMs = 1'718'454'000'000;

  EngineOptions Options() const {
    EngineOptions options;
    options.data_dir = dir_.Sub("data");
    options.block_cache_bytes = 1 << 20;
    options.counters = counter_options_;
    return options;
  }
  void Open() {
    auto engine = Engine::Open(Options(), clock_);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine.value());
  }
  // Makes every write so far durable, as the command layer does before replying.
  void Durable() {
    storage::Status s = engine_->WaitDurable(engine_->Ticket());
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // Destroys the engine after its acknowledged writes, without compaction or
  // flush (as kill -9 would), and recovers from the data dir.
  void Reopen() {
    Durable();
    engine_.reset();
    Open();
  }
  void Compact() {
    storage::Status s = engine_->CompactAll();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void Checkpoint(Mode mode) {
    switch (mode) {
      case Mode::kLive:
        break;
      case Mode::kCompact:
        Compact();
        break;
      case Mode::kReplay:
        Reopen();
        break;
      case Mode::kCompactReopen:
        Compact();
        Reopen();
        break;
      case Mode::kMixed:
        if (++mixed_checkpoints_ % 2 == 1) {
          Compact();
        } else {
          Reopen();
        }
        break;
    }
  }

  // CTR.INCRBY; returns the new total (or the current one for a duplicate).
  int64_t Incr(std::string_view owner, std::string_view key, int64_t delta, std::optional<int64_t> at = std::nullopt,
               std::string_view id = {}, bool* duplicate = nullptr) {
    CounterIncrement increment;
    increment.owner = owner;
    increment.key = key;
    increment.delta = delta;
    increment.event_ms = at.value_or(clock_.NowMs());
    increment.event_id = id;
    increment.at_given = at.has_value();
    OpResult<IncrementResult> r = engine_->counters().Increment(increment);
    EXPECT_TRUE(r.ok()) << "INCRBY " << owner << " " << key << " " << delta << " status " << static_cast<int>(r.status);
    if (duplicate != nullptr) *duplicate = r.value.duplicate;
    return r.value.total;
  }
  OpResult<IncrementResult> TryIncr(std::string_view owner, std::string_view key, int64_t delta,
                                    std::optional<int64_t> at = std::nullopt, std::string_view id = {}) {
    CounterIncrement increment;
    increment.owner = owner;
    increment.key = key;
    increment.delta = delta;
    increment.event_ms = at.value_or(clock_.NowMs());
    increment.event_id = id;
    increment.at_given = at.has_value();
    return engine_->counters().Increment(increment);
  }

  TimeZone ZoneFor(std::string_view owner) { return engine_->owners().TimeZoneOf(owner).value; }

  // The cell of `interval` that contains instant `at` (default now), in the owner's zone.
  int64_t CellAt(std::string_view owner, std::string_view key, Interval interval,
                 std::optional<int64_t> at = std::nullopt) {
    return Cell(owner, key, interval, PeriodOf(interval, at.value_or(clock_.NowMs()), ZoneFor(owner)));
  }
  int64_t Cell(std::string_view owner, std::string_view key, Interval interval, PeriodId period) {
    OpResult<int64_t> r = engine_->counters().ReadCell(owner, key, interval, period);
    EXPECT_TRUE(r.ok());
    return r.value;
  }
  // A cell named by its label ("2024-06", "current", ...), in the owner's zone.
  int64_t CellOf(std::string_view owner, std::string_view key, Interval interval, std::string_view label) {
    return Cell(owner, key, interval, Period(owner, interval, label));
  }
  PeriodId Period(std::string_view owner, Interval interval, std::string_view label) {
    PeriodId period = 0;
    std::string error;
    EXPECT_TRUE(ParsePeriod(interval, label, ZoneFor(owner), clock_.NowMs(), &period, &error)) << error;
    return period;
  }
  int64_t Total(std::string_view owner, std::string_view key) { return Cell(owner, key, Interval::kTotal, 0); }

  void Assign(std::string_view owner, std::string_view key, const std::vector<CellAssignment>& cells) {
    OpResult<bool> r = engine_->counters().AssignCells(owner, key, cells);
    ASSERT_TRUE(r.ok());
  }
  int64_t Delete(std::string_view owner, std::string_view key, std::optional<Interval> interval = std::nullopt) {
    OpResult<int64_t> r = engine_->counters().DeleteCells(owner, key, interval);
    EXPECT_TRUE(r.ok());
    return r.value;
  }
  int64_t Sum(std::string_view owner, std::string_view key, Interval interval) {
    OpResult<int64_t> r = engine_->counters().SumCells(owner, key, interval, std::nullopt, std::nullopt);
    EXPECT_TRUE(r.ok());
    return r.value;
  }
  // Values of periods [from, to] (labels), oldest first.
  std::vector<int64_t> Range(std::string_view owner, std::string_view key, Interval interval, std::string_view from,
                             std::string_view to) {
    auto r =
        engine_->counters().ReadRange(owner, key, interval, Period(owner, interval, from), Period(owner, interval, to));
    EXPECT_TRUE(r.ok());
    std::vector<int64_t> values;
    for (const auto& [period, value] : r.value) values.push_back(value);
    return values;
  }
  // Top as "owner=value" strings, easy to compare.
  std::vector<std::string> TopOf(std::string_view key, Interval interval, PeriodId period, size_t limit = 100,
                                 std::string_view prefix = {}) {
    std::vector<std::string> out;
    for (const RankedOwner& r : engine_->counters().Top(key, interval, period, limit, prefix).value) {
      out.push_back(r.owner + "=" + std::to_string(r.value));
    }
    return out;
  }
  // Every owner with `prefix`, walking the cursor `count` at a time; `pages` receives the page count.
  std::vector<std::string> AllOwners(std::string_view prefix, size_t count, int* pages = nullptr) {
    std::vector<std::string> all;
    std::string cursor;
    int n = 0;
    do {
      OwnersPage page = engine_->owners().List(prefix, cursor, count).value;
      EXPECT_LE(page.owners.size(), count);
      all.insert(all.end(), page.owners.begin(), page.owners.end());
      cursor = page.next_cursor;
      if (++n > 1000) break;
    } while (!cursor.empty());
    if (pages != nullptr) *pages = n;
    return all;
  }

  // Destroyed in reverse: the engine first, then the clock and the dir.
  ScratchDir dir_;
  ManualClock clock_{kStartMs};
  CounterOptions counter_options_;
  int mixed_checkpoints_ = 0;
  std::unique_ptr<Engine> engine_;
};

class CounterTest : public ::testing::Test, public CounterFixture {
 protected:
  void SetUp() override { Open(); }
};

// The same body under every restart mode.
class CounterModeTest : public ::testing::TestWithParam<Mode>, public CounterFixture {
 protected:
  void SetUp() override { Open(); }
  void Restart() { Checkpoint(GetParam()); }
};

inline void PrintTo(Mode mode, std::ostream* os) { *os << ModeName(mode); }

inline std::string ModeParamName(const ::testing::TestParamInfo<Mode>& info) { return ModeName(info.param); }

#define TALLY_ALL_MODES                                                                                              \
  ::testing::Values(::tally::core::counters_test::Mode::kLive, ::tally::core::counters_test::Mode::kCompact,         \
                    ::tally::core::counters_test::Mode::kReplay, ::tally::core::counters_test::Mode::kCompactReopen, \
                    ::tally::core::counters_test::Mode::kMixed)

}  // namespace tally::core::counters_test
