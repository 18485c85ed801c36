// Engine, plain keyspace: the Redis string commands' semantics (SET, GET,
// INCRBY, DEL, EXISTS, EXPIRE/PEXPIRE, PERSIST, PTTL), with a ManualClock.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "keyspace_test_util.h"

namespace tally::core {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

using EnginePlainTest = KeyspaceTest;

TEST_F(EnginePlainTest, AMissingKeyReadsAsAbsentEverywhere) {
  EXPECT_EQ(Get("nope"), std::nullopt);
  EXPECT_FALSE(engine_->keyspace().Exists("nope"));
  EXPECT_EQ(engine_->keyspace().Pttl("nope"), -2);
  EXPECT_FALSE(Del("nope"));
  EXPECT_FALSE(Expire("nope", kStartMs + 1000));
  OpResult<bool> persist = engine_->keyspace().Persist("nope");
  EXPECT_TRUE(persist.ok());
  EXPECT_FALSE(persist.value);
  EXPECT_EQ(engine_->keyspace().Sizes().keys, 0u);
}

TEST_F(EnginePlainTest, SetStoresAndOverwritesAnyBytes) {
  Set("k", "v1");
  EXPECT_EQ(Get("k"), "v1");
  EXPECT_TRUE(engine_->keyspace().Exists("k"));
  EXPECT_EQ(engine_->keyspace().Pttl("k"), -1);
  const std::string binary("a\0b\r\n", 5);
  Set("k", binary);
  EXPECT_EQ(Get("k"), binary);
  Set("empty", "");
  EXPECT_EQ(Get("empty"), "");
  EXPECT_EQ(engine_->keyspace().Sizes().keys, 2u);
}

TEST_F(EnginePlainTest, SetNxOnlySetsAnAbsentKey) {
  SetOptions nx;
  nx.condition = SetCondition::kIfAbsent;
  OpResult<bool> first = engine_->keyspace().Set("k", "first", nx);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first.value);
  OpResult<bool> second = engine_->keyspace().Set("k", "second", nx);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second.value);
  EXPECT_EQ(Get("k"), "first");
}

TEST_F(EnginePlainTest, SetXxOnlySetsAPresentKey) {
  SetOptions xx;
  xx.condition = SetCondition::kIfPresent;
  OpResult<bool> absent = engine_->keyspace().Set("k", "v", xx);
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent.value);
  EXPECT_FALSE(engine_->keyspace().Exists("k"));
  Set("k", "old");
  OpResult<bool> present = engine_->keyspace().Set("k", "new", xx);
  ASSERT_TRUE(present.ok());
  EXPECT_TRUE(present.value);
  EXPECT_EQ(Get("k"), "new");
}

TEST_F(EnginePlainTest, SetWithAnExpiryThenPlainSetDropsTheTtl) {
  Set("k", "v", kStartMs + 10'000);
  EXPECT_EQ(engine_->keyspace().Pttl("k"), 10'000);
  Set("k", "w");
  EXPECT_EQ(engine_->keyspace().Pttl("k"), -1);
  EXPECT_EQ(engine_->keyspace().Sizes().keys_with_expiry, 0u);
}

TEST_F(EnginePlainTest, SetKeepTtlKeepsTheExistingTtl) {
  Set("k", "v", kStartMs + 10'000);
  clock_.Advance(4'000);
  SetOptions keep;
  keep.keep_ttl = true;
  ASSERT_TRUE(engine_->keyspace().Set("k", "w", keep).ok());
  EXPECT_EQ(Get("k"), "w");
  EXPECT_EQ(engine_->keyspace().Pttl("k"), 6'000);
  // On an absent key KEEPTTL means no TTL.
  ASSERT_TRUE(engine_->keyspace().Set("fresh", "x", keep).ok());
  EXPECT_EQ(engine_->keyspace().Pttl("fresh"), -1);
  EXPECT_EQ(engine_->keyspace().Sizes().keys_with_expiry, 1u);
}

TEST_F(EnginePlainTest, SetGetReturnsThePreviousValue) {
  std::optional<std::string> old;
  ASSERT_TRUE(engine_->keyspace().Set("k", "v1", SetOptions{}, &old).ok());
  EXPECT_EQ(old, std::nullopt);
  ASSERT_TRUE(engine_->keyspace().Set("k", "v2", SetOptions{}, &old).ok());
  EXPECT_EQ(old, "v1");
  EXPECT_EQ(Get("k"), "v2");
}

TEST_F(EnginePlainTest, SetNxGetOnAnExistingKeyReturnsItsValueAndChangesNothing) {
  Set("k", "kept");
  SetOptions nx;
  nx.condition = SetCondition::kIfAbsent;
  std::optional<std::string> old;
  OpResult<bool> r = engine_->keyspace().Set("k", "ignored", nx, &old);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.value);
  EXPECT_EQ(old, "kept");
  EXPECT_EQ(Get("k"), "kept");
}

TEST_F(EnginePlainTest, IncrCreatesAMissingKeyFromZero) {
  EXPECT_EQ(Incr("n"), 1);
  EXPECT_EQ(Incr("n", 41), 42);
  EXPECT_EQ(Incr("n", -50), -8);
  EXPECT_EQ(Get("n"), "-8");
  EXPECT_EQ(Incr("m", -3), -3);
  EXPECT_EQ(Incr("z", 0), 0);
  EXPECT_EQ(Get("z"), "0");
}

TEST_F(EnginePlainTest, IncrWorksOnASetIntegerAndKeepsItsTtl) {
  Set("n", "10", kStartMs + 5'000);
  EXPECT_EQ(Incr("n", 5), 15);
  EXPECT_EQ(engine_->keyspace().Pttl("n"), 5'000);
  Set("neg", "-9223372036854775807");
  EXPECT_EQ(Incr("neg", -1), kMin);
}

TEST_F(EnginePlainTest, IncrOnANonIntegerIsRefusedAndChangesNothing) {
  for (const char* value : {"abc", "", " 1", "1 ", "01", "+1", "-0", "1.5", "1e3", "0x10", "9223372036854775808",
                            "-9223372036854775809", "12345678901234567890123"}) {
    Set("s", value);
    OpResult<int64_t> r = engine_->keyspace().IncrBy("s", 1);
    EXPECT_EQ(r.status, OpStatus::kNotInteger) << "'" << value << "'";
    EXPECT_EQ(Get("s"), value);
  }
}

TEST_F(EnginePlainTest, IncrPastInt64MaxOverflowsAndKeepsTheValue) {
  Set("n", std::to_string(kMax));
  EXPECT_EQ(engine_->keyspace().IncrBy("n", 1).status, OpStatus::kOverflow);
  EXPECT_EQ(engine_->keyspace().IncrBy("n", kMax).status, OpStatus::kOverflow);
  EXPECT_EQ(Get("n"), "9223372036854775807");
  EXPECT_EQ(Incr("n", -1), kMax - 1);
  EXPECT_EQ(Incr("n", 1), kMax);
}

TEST_F(EnginePlainTest, DecrPastInt64MinOverflowsAndKeepsTheValue) {
  EXPECT_EQ(Incr("n", kMin), kMin);  // from an absent key
  EXPECT_EQ(engine_->keyspace().IncrBy("n", -1).status, OpStatus::kOverflow);
  EXPECT_EQ(engine_->keyspace().IncrBy("n", kMin).status, OpStatus::kOverflow);
  EXPECT_EQ(Get("n"), "-9223372036854775808");
  EXPECT_EQ(Incr("n", kMax), -1);
}

TEST_F(EnginePlainTest, AFailedIncrLeavesTheKeyspaceAsItWas) {
  Set("big", "1");
  EXPECT_EQ(engine_->keyspace().IncrBy("big", kMax).status, OpStatus::kOverflow);
  EXPECT_EQ(Get("big"), "1");
  EXPECT_EQ(engine_->keyspace().IncrBy("text", 1).status, OpStatus::kOk);
  Set("text", "x");
  EXPECT_EQ(engine_->keyspace().IncrBy("text", 1).status, OpStatus::kNotInteger);
  EXPECT_EQ(engine_->keyspace().Sizes().keys, 2u);
}

TEST_F(EnginePlainTest, DelRemovesAKeyOnce) {
  Set("k", "v");
  EXPECT_TRUE(Del("k"));
  EXPECT_FALSE(engine_->keyspace().Exists("k"));
  EXPECT_EQ(Get("k"), std::nullopt);
  EXPECT_FALSE(Del("k"));
  EXPECT_EQ(engine_->keyspace().Sizes().keys, 0u);
}

TEST_F(EnginePlainTest, ExpireSetsATtlAndTheKeyDisappearsExactlyWhenItPasses) {
  Set("k", "v");
  EXPECT_TRUE(Expire("k", kStartMs + 1'000));
  EXPECT_EQ(engine_->keyspace().Pttl("k"), 1'000);
  clock_.Advance(999);
  EXPECT_EQ(engine_->keyspace().Pttl("k"), 1);
  EXPECT_EQ(Get("k"), "v");
  clock_.Advance(1);
  EXPECT_EQ(engine_->keyspace().Pttl("k"), -2);
  EXPECT_FALSE(engine_->keyspace().Exists("k"));
  EXPECT_EQ(Get("k"), std::nullopt);
  EXPECT_FALSE(Del("k"));
}

TEST_F(EnginePlainTest, ExpireAtOrBeforeNowDeletesTheKey) {
  Set("now", "v");
  Set("past", "v");
  EXPECT_TRUE(Expire("now", kStartMs));
  EXPECT_TRUE(Expire("past", kStartMs - 60'000));
  EXPECT_FALSE(engine_->keyspace().Exists("now"));
  EXPECT_FALSE(engine_->keyspace().Exists("past"));
  EXPECT_EQ(engine_->keyspace().Sizes().keys, 0u);
}

TEST_F(EnginePlainTest, ExpireNxOnlyWhenTheKeyHasNoTtl) {
  Set("k", "v");
  EXPECT_TRUE(Expire("k", kStartMs + 5'000, ExpireCondition::kIfNoExpiry));
  EXPECT_FALSE(Expire("k", kStartMs + 9'000, ExpireCondition::kIfNoExpiry));
  EXPECT_EQ(engine_->keyspace().Pttl("k"), 5'000);
}

TEST_F(EnginePlainTest, ExpireXxOnlyWhenTheKeyHasATtl) {
  Set("k", "v");
  EXPECT_FALSE(Expire("k", kStartMs + 5'000, ExpireCondition::kIfHasExpiry));
  EXPECT_EQ(engine_->keyspace().Pttl("k"), -1);
  Set("t", "v", kStartMs + 1'000);
  EXPECT_TRUE(Expire("t", kStartMs + 5'000, ExpireCondition::kIfHasExpiry));
  EXPECT_EQ(engine_->keyspace().Pttl("t"), 5'000);
}

TEST_F(EnginePlainTest, ExpireGtOnlyExtendsAnExistingTtl) {
  Set("none", "v");  // no TTL counts as infinite: nothing is greater
  EXPECT_FALSE(Expire("none", kStartMs + 5'000, ExpireCondition::kIfGreater));
  EXPECT_EQ(engine_->keyspace().Pttl("none"), -1);
  Set("k", "v", kStartMs + 5'000);
  EXPECT_FALSE(Expire("k", kStartMs + 5'000, ExpireCondition::kIfGreater));  // equal
  EXPECT_FALSE(Expire("k", kStartMs + 4'000, ExpireCondition::kIfGreater));
  EXPECT_TRUE(Expire("k", kStartMs + 6'000, ExpireCondition::kIfGreater));
  EXPECT_EQ(engine_->keyspace().Pttl("k"), 6'000);
}

TEST_F(EnginePlainTest, ExpireLtOnlyShortensOrAddsATtl) {
  Set("none", "v");  // no TTL counts as infinite: any TTL is less
  EXPECT_TRUE(Expire("none", kStartMs + 5'000, ExpireCondition::kIfLess));
  EXPECT_EQ(engine_->keyspace().Pttl("none"), 5'000);
  EXPECT_FALSE(Expire("none", kStartMs + 5'000, ExpireCondition::kIfLess));  // equal
  EXPECT_FALSE(Expire("none", kStartMs + 7'000, ExpireCondition::kIfLess));
  EXPECT_TRUE(Expire("none", kStartMs + 2'000, ExpireCondition::kIfLess));
  EXPECT_EQ(engine_->keyspace().Pttl("none"), 2'000);
}

TEST_F(EnginePlainTest, AFailedExpireConditionWithAPastTimeDoesNotDelete) {
  Set("k", "v");
  EXPECT_FALSE(Expire("k", kStartMs - 1, ExpireCondition::kIfHasExpiry));
  EXPECT_TRUE(engine_->keyspace().Exists("k"));
}

TEST_F(EnginePlainTest, PersistRemovesTheTtlOnlyWhenThereIsOne) {
  Set("k", "v", kStartMs + 1'000);
  OpResult<bool> r = engine_->keyspace().Persist("k");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.value);
  EXPECT_EQ(engine_->keyspace().Pttl("k"), -1);
  clock_.Advance(5'000);
  EXPECT_EQ(Get("k"), "v");
  r = engine_->keyspace().Persist("k");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.value);
}

TEST_F(EnginePlainTest, AnExpiredKeyBehavesAsAbsentForEveryCommand) {
  Set("n", "41", kStartMs + 100);
  Set("s", "v", kStartMs + 100);
  Set("x", "v", kStartMs + 100);
  Set("p", "v", kStartMs + 100);
  clock_.Advance(100);
  EXPECT_EQ(Incr("n"), 1);  // from zero, and without the old TTL
  EXPECT_EQ(engine_->keyspace().Pttl("n"), -1);
  SetOptions xx;
  xx.condition = SetCondition::kIfPresent;
  EXPECT_FALSE(engine_->keyspace().Set("x", "new", xx).value);
  SetOptions nx;
  nx.condition = SetCondition::kIfAbsent;
  std::optional<std::string> old;
  EXPECT_TRUE(engine_->keyspace().Set("s", "new", nx, &old).value);
  EXPECT_EQ(old, std::nullopt);
  EXPECT_EQ(engine_->keyspace().Pttl("s"), -1);
  EXPECT_FALSE(Expire("p", kStartMs + 10'000));
  EXPECT_FALSE(engine_->keyspace().Persist("p").value);
  EXPECT_EQ(Snapshot(), (State{{"n", {"1", 0}}, {"s", {"new", 0}}}));
}

TEST_F(EnginePlainTest, StatsCountKeysAndKeysWithAnExpiry) {
  Set("a", "1");
  Set("b", "1", kStartMs + 1'000);
  Set("c", "1");
  Expire("c", kStartMs + 2'000);
  EXPECT_EQ(engine_->keyspace().Sizes().keys, 3u);
  EXPECT_EQ(engine_->keyspace().Sizes().keys_with_expiry, 2u);
  engine_->keyspace().Persist("c");
  EXPECT_EQ(engine_->keyspace().Sizes().keys_with_expiry, 1u);
  Del("b");
  EXPECT_EQ(engine_->keyspace().Sizes().keys, 2u);
  EXPECT_EQ(engine_->keyspace().Sizes().keys_with_expiry, 0u);
  Set("d", "1", kStartMs + 1'000);
  clock_.Advance(1'000);
  EXPECT_FALSE(engine_->keyspace().Exists("d"));  // reaped on access
  EXPECT_EQ(engine_->keyspace().Sizes().keys, 2u);
  EXPECT_EQ(engine_->keyspace().Sizes().keys_with_expiry, 0u);
}

TEST_F(EnginePlainTest, ATicketTakenAfterAWriteBecomesDurable) {
  Set("k", "v");
  const uint64_t ticket = engine_->Ticket();
  EXPECT_FALSE(engine_->IsDurable(ticket));
  ASSERT_TRUE(engine_->WaitDurable(ticket).ok());
  EXPECT_TRUE(engine_->IsDurable(ticket));
  EXPECT_TRUE(engine_->health().ok());
  EXPECT_EQ(engine_->wal_stats().entries, 1u);
}

TEST_F(EnginePlainTest, ReadsAndFailedConditionsAppendNothingToTheLog) {
  Set("k", "v");
  Durable();
  const uint64_t entries = engine_->wal_stats().entries;
  Get("k");
  engine_->keyspace().Exists("k");
  engine_->keyspace().Pttl("k");
  SetOptions nx;
  nx.condition = SetCondition::kIfAbsent;
  engine_->keyspace().Set("k", "x", nx);
  Expire("k", kStartMs + 10, ExpireCondition::kIfHasExpiry);
  engine_->keyspace().Persist("k");
  Del("missing");
  Set("s", "text");
  Durable();
  const uint64_t after_set = engine_->wal_stats().entries;
  EXPECT_EQ(after_set, entries + 1);
  EXPECT_EQ(engine_->keyspace().IncrBy("s", 1).status, OpStatus::kNotInteger);
  Durable();
  EXPECT_EQ(engine_->wal_stats().entries, after_set);
}

TEST_F(EnginePlainTest, ASecondEngineOnTheSameDataDirIsRefusedAsBusy) {
  auto second = Engine::Open(options_, clock_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), storage::Status::Code::kBusy) << second.status().ToString();
  EXPECT_NE(second.status().message().find("LOCK"), std::string::npos) << second.status().message();
  // The first engine is unaffected.
  Set("k", "v");
  EXPECT_EQ(Get("k"), "v");
}

}  // namespace
}  // namespace tally::core
