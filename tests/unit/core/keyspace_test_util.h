#pragma once
// A fixture for tests of the engine's plain keyspace: the shared
// EngineFixture (a real RocksDB data dir on RAM, a ManualClock: expiry never
// sleeps) with helpers that read like redis-cli.

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "engine_fixture.h"

namespace tally::core {

class KeyspaceTest : public ::testing::Test, public fixtures::EngineFixture {
 protected:
  static constexpr int64_t kStartMs = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

  // One key as the keyspace shows it: value and absolute expiry (0 = none).
  struct KeyState {
    std::string value;
    int64_t expire_at_ms = 0;
    bool operator==(const KeyState&) const = default;
  };
  using State = std::map<std::string, KeyState>;

  KeyspaceTest() : EngineFixture(kStartMs) {}
  void SetUp() override { Open(); }

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
};

}  // namespace tally::core
