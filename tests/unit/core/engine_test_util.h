#pragma once
// A fixture for Engine tests: a real RocksDB data dir in a TempDir, a
// ManualClock (expiry never sleeps) and helpers that read like redis-cli.

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/clock.h"
#include "core/engine.h"
#include "temp_dir.h"

namespace tally::core {

class EngineTest : public ::testing::Test {
 protected:
  static constexpr int64_t kStartMs = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

  // One key as the keyspace shows it: value and absolute expiry (0 = none).
  struct KeyState {
    std::string value;
    int64_t expire_at_ms = 0;
    bool operator==(const KeyState&) const = default;
  };
  using State = std::map<std::string, KeyState>;

  void SetUp() override { Open(); }

  EngineOptions Options() const {
    EngineOptions options;
    options.data_dir = dir_.Sub("data");
    options.fsync_each_write = fsync_;
    options.block_cache_bytes = 1 << 20;
    return options;
  }
  void Open() {
    auto engine = Engine::Open(Options(), clock_);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine.value());
  }
  // Destroys the engine without compaction or flush (as kill -9 after the
  // last acknowledged write would) and recovers from the data dir.
  void Reopen() {
    engine_.reset();
    Open();
  }
  // Makes every write so far durable, as the command layer does before replying.
  void Durable() {
    storage::Status s = engine_->WaitDurable(engine_->Ticket());
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::optional<std::string> Get(std::string_view key) {
    std::optional<std::string> value;
    engine_->keyspace().Read(key, [&](std::string_view v) { value.emplace(v); });
    return value;
  }
  void Set(std::string_view key, std::string_view value, int64_t expire_at_ms = 0) {
    SetOptions options;
    options.expire_at_ms = expire_at_ms;
    OpResult<bool> r = engine_->keyspace().Set(key, value, options);
    ASSERT_TRUE(r.ok() && r.value) << "SET " << key;
  }
  int64_t Incr(std::string_view key, int64_t delta = 1) {
    OpResult<int64_t> r = engine_->keyspace().IncrBy(key, delta);
    EXPECT_TRUE(r.ok()) << "INCRBY " << key << " " << delta;
    return r.value;
  }
  bool Del(std::string_view key) {
    OpResult<bool> r = engine_->keyspace().Delete(key);
    EXPECT_TRUE(r.ok());
    return r.value;
  }
  bool Expire(std::string_view key, int64_t expire_at_ms, ExpireCondition condition = ExpireCondition::kAlways) {
    OpResult<bool> r = engine_->keyspace().Expire(key, expire_at_ms, condition);
    EXPECT_TRUE(r.ok());
    return r.value;
  }

  // Every live key with its value and expiry, read through SCAN.
  State Snapshot() {
    State state;
    uint64_t cursor = 0;
    do {
      ScanPage page = engine_->keyspace().Scan(cursor, "", 97);
      for (const std::string& key : page.keys) {
        std::optional<std::string> value = Get(key);
        EXPECT_TRUE(value.has_value()) << key;
        const int64_t pttl = engine_->keyspace().Pttl(key);
        EXPECT_NE(pttl, -2) << key;
        EXPECT_TRUE(state.emplace(key, KeyState{value.value_or(""), pttl < 0 ? 0 : clock_.NowMs() + pttl}).second)
            << key << " returned twice by SCAN";
      }
      cursor = page.next_cursor;
    } while (cursor != 0);
    return state;
  }

  // Test state, destroyed in reverse: the engine first, then the clock and dir.
  tally::testing::TempDir dir_{tally::testing::RamBackedRoot()};
  ManualClock clock_{kStartMs};
  bool fsync_ = false;
  std::unique_ptr<Engine> engine_;
};

}  // namespace tally::core
