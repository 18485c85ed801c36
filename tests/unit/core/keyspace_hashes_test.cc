// Engine, plain keyspace: hashes, sorted sets, INCRBYFLOAT and FLUSHDB
// (HashSet, HashDelete, HashIncrBy(Float), SortedSetAdd/Remove/Pop, Flush),
// live and after every kind of restart: log replay, compaction, both.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "keyspace_test_util.h"

namespace tally::core {
namespace {

class KeyspaceHashesTest : public KeyspaceTest, public ::testing::WithParamInterface<fixtures::RestartMode> {
 protected:
  using Fields = std::map<std::string, std::string>;
  using Members = std::vector<std::pair<std::string, double>>;

  // The hash at `key` ({} if none); nullopt if the key holds another type.
  std::optional<Fields> Hash(std::string_view key) {
    Fields fields;
    OpResult<bool> found = engine_->keyspace().ReadHash(key, [&](const HashValue& hash) {
      hash.ForEach([&](std::string_view f, std::string_view v) { fields.emplace(f, v); });
    });
    if (!found.ok()) return std::nullopt;
    return fields;
  }
  // The sorted set at `key` in rank order.
  Members Zset(std::string_view key) {
    Members members;
    OpResult<bool> found = engine_->keyspace().ReadSortedSet(key, [&](const SortedSet& zset) {
      for (auto it = zset.begin(); it != zset.end(); ++it) members.emplace_back(it->member, it->score);
    });
    EXPECT_TRUE(found.ok()) << key;
    return members;
  }
  int64_t HSet(std::string_view key, std::vector<std::string_view> pairs) {
    OpResult<int64_t> r = engine_->keyspace().HashSet(key, pairs);
    EXPECT_TRUE(r.ok()) << "HSET " << key;
    return r.value;
  }
  void ZAdd(std::string_view key, std::vector<std::pair<double, std::string_view>> pairs) {
    OpResult<KeyspaceModule::SortedSetAddResult> r = engine_->keyspace().SortedSetAdd(key, {}, pairs);
    EXPECT_TRUE(r.ok()) << "ZADD " << key;
  }
};

TEST_P(KeyspaceHashesTest, HashFieldsSurviveARestart) {
  EXPECT_EQ(HSet("h", {"a", "1", "b", "2"}), 2);
  EXPECT_EQ(HSet("h", {"a", "10", "c", "3"}), 1);
  EXPECT_EQ(engine_->keyspace().HashDelete("h", std::vector<std::string_view>{"b", "missing"}).value, 1);
  EXPECT_EQ(engine_->keyspace().HashIncrBy("h", "n", 5).value, 5);
  EXPECT_EQ(engine_->keyspace().HashIncrBy("h", "n", -7).value, -2);
  EXPECT_EQ(engine_->keyspace().HashIncrByFloat("h", "x", 10.5L).value, "10.5");
  EXPECT_EQ(engine_->keyspace().HashIncrByFloat("h", "x", 0.1L).value, "10.6");
  Checkpoint(GetParam());
  EXPECT_EQ(Hash("h"), (Fields{{"a", "10"}, {"c", "3"}, {"n", "-2"}, {"x", "10.6"}}));
  EXPECT_EQ(engine_->keyspace().TypeOf("h"), ValueType::kHash);
}

TEST_P(KeyspaceHashesTest, ALargeHashIsLoggedPerFieldAndRestoredWhole) {
  std::vector<std::string> storage;
  for (int i = 0; i < 2000; ++i) {
    storage.push_back("field:" + std::to_string(i));
    storage.push_back(std::string(static_cast<size_t>(i % 90), 'v'));
  }
  std::vector<std::string_view> pairs(storage.begin(), storage.end());
  EXPECT_EQ(HSet("big", pairs), 2000);
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(engine_->keyspace().HashIncrBy("big", "counter", 1).ok());
  Checkpoint(GetParam());
  std::optional<Fields> big = Hash("big");
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(big->size(), 2001u);
  EXPECT_EQ(big->at("counter"), "50");
  EXPECT_EQ(big->at("field:1999"), std::string(1999 % 90, 'v'));
}

TEST_P(KeyspaceHashesTest, EmptiedHashesAndSetsAreGone) {
  HSet("h", {"only", "1"});
  EXPECT_EQ(engine_->keyspace().HashDelete("h", std::vector<std::string_view>{"only"}).value, 1);
  ZAdd("z", {{1, "m"}});
  EXPECT_EQ(engine_->keyspace().SortedSetRemove("z", std::vector<std::string_view>{"m"}).value, 1);
  ZAdd("p", {{1, "a"}, {2, "b"}});
  auto popped = engine_->keyspace().SortedSetPop("p", 5, true);
  ASSERT_TRUE(popped.ok());
  EXPECT_EQ(popped.value, (Members{{"b", 2}, {"a", 1}}));
  Checkpoint(GetParam());
  EXPECT_FALSE(engine_->keyspace().Exists("h"));
  EXPECT_FALSE(engine_->keyspace().Exists("z"));
  EXPECT_FALSE(engine_->keyspace().Exists("p"));
  EXPECT_EQ(engine_->keyspace().Sizes().keys, 0u);
}

TEST_P(KeyspaceHashesTest, SortedSetScoresAndOrderSurviveARestart) {
  ZAdd("z", {{3, "c"}, {1, "a"}, {2, "b"}, {-HUGE_VAL, "low"}, {HUGE_VAL, "high"}, {0.1, "tenth"}});
  KeyspaceModule::SortedSetAddOptions incr;
  incr.increment = true;
  auto added = engine_->keyspace().SortedSetAdd("z", incr, std::vector<std::pair<double, std::string_view>>{{10, "a"}});
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(added.value.score, 11);
  EXPECT_EQ(engine_->keyspace().SortedSetRemove("z", std::vector<std::string_view>{"b"}).value, 1);
  Checkpoint(GetParam());
  EXPECT_EQ(Zset("z"), (Members{{"low", -HUGE_VAL}, {"tenth", 0.1}, {"c", 3}, {"a", 11}, {"high", HUGE_VAL}}));
  engine_->keyspace().ReadSortedSet("z", [&](const SortedSet& zset) {
    EXPECT_EQ(zset.RankOf("a"), 3u);
    EXPECT_EQ(zset.FirstRankFrom(3, false), 2u);
    EXPECT_EQ(zset.FirstRankFrom(3, true), 3u);
    EXPECT_EQ(zset.EndRankTo(11, false), 4u);
    EXPECT_EQ(zset.EndRankTo(11, true), 3u);
    EXPECT_EQ(zset.EndRankTo(HUGE_VAL, false), 5u);
  });
}

TEST_P(KeyspaceHashesTest, ExpiryAppliesToHashesAndSortedSets) {
  HSet("timed", {"f", "1"});
  ZAdd("ztimed", {{1, "m"}});
  HSet("kept", {"f", "1"});
  EXPECT_TRUE(Expire("timed", kStartMs + 1000));
  EXPECT_TRUE(Expire("ztimed", kStartMs + 5000));
  EXPECT_TRUE(Expire("kept", kStartMs + 1000));
  EXPECT_TRUE(engine_->keyspace().Persist("kept").value);
  HSet("timed", {"g", "2"});  // keeps the expiry
  Checkpoint(GetParam());
  EXPECT_EQ(engine_->keyspace().ExpireAtMs("timed"), kStartMs + 1000);
  EXPECT_EQ(engine_->keyspace().ExpireAtMs("ztimed"), kStartMs + 5000);
  EXPECT_EQ(engine_->keyspace().ExpireAtMs("kept"), -1);
  clock_.Advance(2000);
  Checkpoint(GetParam());
  EXPECT_FALSE(engine_->keyspace().Exists("timed"));
  EXPECT_EQ(Zset("ztimed"), (Members{{"m", 1}}));
  // A key expired, then created anew: the old fields do not come back.
  HSet("timed", {"new", "1"});
  Checkpoint(GetParam());
  EXPECT_EQ(Hash("timed"), (Fields{{"new", "1"}}));
}

TEST_P(KeyspaceHashesTest, OneTypePerKey) {
  Set("s", "v");
  HSet("h", {"f", "1"});
  ZAdd("z", {{1, "m"}});
  EXPECT_EQ(engine_->keyspace().HashSet("s", std::vector<std::string_view>{"f", "v"}).status, OpStatus::kWrongKind);
  EXPECT_EQ(engine_->keyspace().HashSet("z", std::vector<std::string_view>{"f", "v"}).status, OpStatus::kWrongKind);
  EXPECT_EQ(
      engine_->keyspace().SortedSetAdd("h", {}, std::vector<std::pair<double, std::string_view>>{{1, "m"}}).status,
      OpStatus::kWrongKind);
  EXPECT_EQ(engine_->keyspace().IncrBy("h", 1).status, OpStatus::kWrongKind);
  EXPECT_EQ(engine_->keyspace().Append("z", "x").status, OpStatus::kWrongKind);
  EXPECT_EQ(engine_->keyspace().IncrByFloat("h", 1).status, OpStatus::kWrongKind);
  EXPECT_EQ(engine_->keyspace().SketchAdd("h", std::vector<std::string_view>{"x"}).status, OpStatus::kWrongKind);
  EXPECT_EQ(Get("h"), std::nullopt);  // MGET's nil
  // SET replaces any type.
  Set("h", "now a string");
  Checkpoint(GetParam());
  EXPECT_EQ(engine_->keyspace().TypeOf("h"), ValueType::kString);
  EXPECT_EQ(Get("h"), "now a string");
  EXPECT_EQ(engine_->keyspace().TypeOf("z"), ValueType::kSortedSet);
  EXPECT_EQ(engine_->keyspace().TypeOf("s"), ValueType::kString);
  EXPECT_EQ(engine_->keyspace().TypeOf("missing"), std::nullopt);
}

TEST_P(KeyspaceHashesTest, IncrByFloatFormatsAsRedis) {
  EXPECT_EQ(engine_->keyspace().IncrByFloat("f", 10.5L).value, "10.5");
  EXPECT_EQ(engine_->keyspace().IncrByFloat("f", 0.1L).value, "10.6");
  EXPECT_EQ(engine_->keyspace().IncrByFloat("f", -10.6L).value, "0");
  Set("s", "abc");
  EXPECT_EQ(engine_->keyspace().IncrByFloat("s", 1).status, OpStatus::kNotFloat);
  Checkpoint(GetParam());
  EXPECT_EQ(Get("f"), "0");
}

TEST_P(KeyspaceHashesTest, FlushRemovesEveryPlainKeyDurably) {
  Set("s", "v", kStartMs + 100'000);
  HSet("h", {"f", "1"});
  ZAdd("z", {{1, "m"}});
  for (int i = 0; i < 300; ++i) Set("k" + std::to_string(i), "v");
  Checkpoint(GetParam());  // some of it compacted, depending on the mode
  ASSERT_TRUE(engine_->Atomically(kAllShards, [&] { return engine_->keyspace().Flush(); }).ok());
  EXPECT_EQ(engine_->keyspace().Sizes().keys, 0u);
  HSet("after", {"f", "1"});
  Checkpoint(GetParam());
  EXPECT_EQ(engine_->keyspace().Sizes().keys, 1u);
  EXPECT_EQ(engine_->keyspace().Sizes().keys_with_expiry, 0u);
  EXPECT_EQ(Hash("after"), (Fields{{"f", "1"}}));
  EXPECT_FALSE(engine_->keyspace().Exists("k7"));
}

INSTANTIATE_TEST_SUITE_P(Modes, KeyspaceHashesTest, fixtures::AllRestartModes(), fixtures::RestartModeParamName);

// The packed (small) form of a hash turns into a map past its limits, and
// both behave the same.
TEST(HashValueTest, PackedAndLargeFormsAgree) {
  HashValue hash;
  std::map<std::string, std::string> model;
  for (int i = 0; i < 400; ++i) {
    const std::string field = "f" + std::to_string(i % 150);
    const std::string value = std::string(static_cast<size_t>(i % 70), static_cast<char>('a' + i % 26));
    EXPECT_EQ(hash.Set(field, value), model.count(field) == 0) << field;
    model[field] = value;
    if (i % 7 == 0) {
      const std::string gone = "f" + std::to_string(i % 11);
      EXPECT_EQ(hash.Erase(gone), model.erase(gone) == 1);
    }
    ASSERT_EQ(hash.size(), model.size());
  }
  std::map<std::string, std::string> seen;
  hash.ForEach([&](std::string_view f, std::string_view v) { seen.emplace(f, v); });
  EXPECT_EQ(seen, model);
  for (const auto& [field, value] : model) EXPECT_EQ(hash.Find(field), value);
}

TEST(RedisNumbersTest, LongDoublesFormatAsRedisHumanMode) {
  EXPECT_EQ(FormatLongDouble(10.5L), "10.5");
  EXPECT_EQ(FormatLongDouble(3.0L), "3");
  EXPECT_EQ(FormatLongDouble(-0.0L), "0");
  EXPECT_EQ(FormatLongDouble(1e20L), "100000000000000000000");
  long double parsed = 0;
  EXPECT_TRUE(ParseLongDouble("1.5e3", &parsed));
  EXPECT_EQ(parsed, 1500.0L);
  EXPECT_FALSE(ParseLongDouble(" 1", &parsed));
  EXPECT_FALSE(ParseLongDouble("1 ", &parsed));
  EXPECT_FALSE(ParseLongDouble("nan", &parsed));
  EXPECT_FALSE(ParseLongDouble("", &parsed));
  double score = 0;
  EXPECT_TRUE(ParseScore("-inf", &score));
  EXPECT_FALSE(ParseScore("1e400", &score));
  EXPECT_FALSE(ParseScore("nan", &score));
  bool exclusive = false;
  EXPECT_TRUE(ParseScoreBound("(1.5", &score, &exclusive));
  EXPECT_TRUE(exclusive);
  EXPECT_EQ(score, 1.5);
  EXPECT_FALSE(ParseScoreBound("(x", &score, &exclusive));
}

}  // namespace
}  // namespace tally::core
