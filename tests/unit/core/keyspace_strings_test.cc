// Engine, plain keyspace: the ops behind APPEND, GETDEL, GETEX and
// PEXPIRETIME (Append, Delete's old value, Expire's and Persist's value,
// ExpireAtMs), live and after every kind of restart.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>

#include "keyspace_test_util.h"

namespace tally::core {
namespace {

class KeyspaceStringsTest : public KeyspaceTest, public ::testing::WithParamInterface<fixtures::RestartMode> {};

TEST_P(KeyspaceStringsTest, AppendCreatesExtendsAndKeepsTheExpiry) {
  OpResult<int64_t> created = engine_->keyspace().Append("log", "ab");
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created.value, 2);
  Set("timed", "x", kStartMs + 60'000);
  OpResult<int64_t> extended = engine_->keyspace().Append("timed", std::string("\0yz", 3));
  ASSERT_TRUE(extended.ok());
  EXPECT_EQ(extended.value, 4);
  EXPECT_EQ(engine_->keyspace().Append("log", "").value, 2);
  Checkpoint(GetParam());
  EXPECT_EQ(Get("log"), "ab");
  EXPECT_EQ(Get("timed"), std::string("x\0yz", 4));
  EXPECT_EQ(engine_->keyspace().ExpireAtMs("timed"), kStartMs + 60'000);
  EXPECT_EQ(engine_->keyspace().ExpireAtMs("log"), -1);
  EXPECT_EQ(engine_->keyspace().ExpireAtMs("missing"), -2);
}

TEST_P(KeyspaceStringsTest, DeleteHandsBackTheValueItRemoved) {
  Set("k", "v");
  std::optional<std::string> old;
  OpResult<bool> removed = engine_->keyspace().Delete("k", &old);
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(removed.value);
  EXPECT_EQ(old, "v");
  std::optional<std::string> none;
  EXPECT_FALSE(engine_->keyspace().Delete("k", &none).value);
  EXPECT_EQ(none, std::nullopt);
  Checkpoint(GetParam());
  EXPECT_EQ(Get("k"), std::nullopt);
}

TEST_P(KeyspaceStringsTest, ExpireAndPersistHandBackTheValueOfAnyLiveKey) {
  Set("k", "v");
  std::optional<std::string> value;
  // XX on a key without expiry changes nothing but still reads the value.
  EXPECT_FALSE(engine_->keyspace().Expire("k", kStartMs + 1000, ExpireCondition::kIfHasExpiry, &value).value);
  EXPECT_EQ(value, "v");
  value.reset();
  EXPECT_TRUE(engine_->keyspace().Expire("k", kStartMs + 5000, ExpireCondition::kAlways, &value).value);
  EXPECT_EQ(value, "v");
  Checkpoint(GetParam());
  EXPECT_EQ(engine_->keyspace().ExpireAtMs("k"), kStartMs + 5000);
  value.reset();
  EXPECT_TRUE(engine_->keyspace().Persist("k", &value).value);
  EXPECT_EQ(value, "v");
  value.reset();
  EXPECT_FALSE(engine_->keyspace().Persist("k", &value).value);  // no expiry left
  EXPECT_EQ(value, "v");
  value.reset();
  EXPECT_FALSE(engine_->keyspace().Persist("missing", &value).value);
  EXPECT_EQ(value, std::nullopt);
  // A time already past deletes the key, after reading it.
  EXPECT_TRUE(engine_->keyspace().Expire("k", kStartMs - 1, ExpireCondition::kAlways, &value).value);
  EXPECT_EQ(value, "v");
  Checkpoint(GetParam());
  EXPECT_EQ(Get("k"), std::nullopt);
  EXPECT_EQ(engine_->keyspace().ExpireAtMs("k"), -2);
}

TEST_P(KeyspaceStringsTest, ExpireAtMsIsGoneOnceTheKeyExpires) {
  Set("k", "v", kStartMs + 1000);
  EXPECT_EQ(engine_->keyspace().ExpireAtMs("k"), kStartMs + 1000);
  clock_.Advance(1000);
  Checkpoint(GetParam());
  EXPECT_EQ(engine_->keyspace().ExpireAtMs("k"), -2);
}

INSTANTIATE_TEST_SUITE_P(Modes, KeyspaceStringsTest, fixtures::AllRestartModes(), fixtures::RestartModeParamName);

}  // namespace
}  // namespace tally::core
