#pragma once
// Shared helpers of the owner-counter integration tests: calendar labels of an
// instant in UTC (the test daemons run with the default zone), a small
// expected-value model of counter cells, and RESP shorthands.

#include <gtest/gtest.h>
#include <time.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "tallyd_process.h"

namespace tally::itest::counters {

inline constexpr int64_t kHourMs = 3600ll * 1000;
inline constexpr int64_t kDayMs = 86400ll * 1000;

inline int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The rollup intervals, in the daemon's order.
inline const std::array<std::string, 6> kIntervals = {"hour", "day", "week", "month", "quarter", "year"};

// Period labels of an instant in UTC, one per rollup interval (kIntervals order).
inline std::array<std::string, 6> UtcLabels(int64_t unix_ms) {
  time_t secs = static_cast<time_t>(unix_ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char hour[32], day[16], week[16], month[16], year[8];
  strftime(hour, sizeof hour, "%Y-%m-%dT%H", &tm);
  strftime(day, sizeof day, "%Y-%m-%d", &tm);
  strftime(week, sizeof week, "%G-W%V", &tm);
  strftime(month, sizeof month, "%Y-%m", &tm);
  strftime(year, sizeof year, "%Y", &tm);
  std::string quarter = std::string(year) + "-Q" + std::to_string(tm.tm_mon / 3 + 1);
  return {hour, day, week, month, quarter, year};
}

inline std::string UtcLabel(const std::string& interval, int64_t unix_ms) {
  auto labels = UtcLabels(unix_ms);
  for (size_t i = 0; i < kIntervals.size(); ++i) {
    if (kIntervals[i] == interval) return labels[i];
  }
  return "total";
}

// 12:00 UTC `days` days before today (a stable instant far from any hour,
// day, week, month or year boundary... except that the day itself may be in
// another week/month than today, which the model handles).
inline int64_t NoonUtcDaysAgo(int days) {
  const int64_t now = NowMs();
  return (now / kDayMs - days) * kDayMs + 12 * kHourMs;
}

// Tests that compare cells of "now" must not straddle an hour boundary (every
// calendar period of the UTC daemon starts at one): if the next one is closer
// than `margin`, wait until it has passed.
inline void AvoidHourBoundary(std::chrono::milliseconds margin = std::chrono::seconds(15)) {
  const int64_t now = NowMs();
  const int64_t to_next = kHourMs - now % kHourMs;
  if (to_next < margin.count()) std::this_thread::sleep_for(std::chrono::milliseconds(to_next + 300));
}

// Expected cells of counters: (owner, key) -> (interval, label) -> value.
class Model {
 public:
  void Increment(const std::string& owner, const std::string& key, int64_t delta, int64_t at_ms) {
    auto& cells = cells_[{owner, key}];
    cells[{"total", "total"}] += delta;
    auto labels = UtcLabels(at_ms);
    for (size_t i = 0; i < kIntervals.size(); ++i) cells[{kIntervals[i], labels[i]}] += delta;
  }
  void Set(const std::string& owner, const std::string& key, const std::string& interval, const std::string& label,
           int64_t value) {
    cells_[{owner, key}][{interval, label}] = value;
  }
  int64_t Get(const std::string& owner, const std::string& key, const std::string& interval,
              const std::string& label) const {
    auto it = cells_.find({owner, key});
    if (it == cells_.end()) return 0;
    auto cell = it->second.find({interval, label});
    return cell == it->second.end() ? 0 : cell->second;
  }
  // Every (interval, label) cell the model knows of one counter.
  std::vector<std::pair<std::string, std::string>> Cells(const std::string& owner, const std::string& key) const {
    std::vector<std::pair<std::string, std::string>> out;
    auto it = cells_.find({owner, key});
    if (it == cells_.end()) return out;
    for (const auto& [cell, value] : it->second) out.push_back(cell);
    return out;
  }

 private:
  std::map<std::pair<std::string, std::string>, std::map<std::pair<std::string, std::string>, int64_t>> cells_;
};

// One command on a raw connection that must answer an integer.
inline ::testing::AssertionResult IsInteger(const RespValue& v, int64_t expected) {
  if (v.type == RespValue::Type::kInteger && v.integer == expected) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got " << v.ToString() << ", expected (integer) " << expected;
}

// Reads a cell over a raw connection; -999999 (and a test failure) if the reply is not an integer.
inline int64_t GetCell(RespClient& c, const std::string& owner, const std::string& key, const std::string& interval,
                       const std::string& label) {
  RespValue v = c.Call({"CTR.GET", owner, key, interval, label});
  EXPECT_EQ(v.type, RespValue::Type::kInteger)
      << "CTR.GET " << owner << " " << key << " " << interval << " " << label << ": " << v;
  return v.type == RespValue::Type::kInteger ? v.integer : -999999;
}

// Compares every cell the model knows of (owner, key) with the daemon.
inline void ExpectModel(RespClient& c, const Model& model, const std::string& owner, const std::string& key,
                        const std::string& context = "") {
  for (const auto& [interval, label] : model.Cells(owner, key)) {
    EXPECT_EQ(GetCell(c, owner, key, interval, label), model.Get(owner, key, interval, label))
        << context << " CTR.GET " << owner << " " << key << " " << interval << " " << label;
  }
}

}  // namespace tally::itest::counters
