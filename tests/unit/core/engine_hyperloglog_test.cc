// Engine, plain keyspace: HyperLogLog values (PFADD, PFCOUNT, PFMERGE) in
// every restart mode: a sketch survives compaction and replay of its PFADD
// entries (which log only the hashes that changed it), an expiry set on it
// holds across a replay, and a plain string is refused and left alone.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine_fixture.h"

namespace tally::core {
namespace {

using fixtures::RestartMode;

class EngineHyperLogLogTest : public ::testing::TestWithParam<RestartMode>, public fixtures::EngineFixture {
 protected:
  static constexpr int64_t kStartMs = 1'700'000'000'000;

  EngineHyperLogLogTest() : EngineFixture(kStartMs) {}
  void SetUp() override { Open(); }

  // PFADD key member:<begin> .. member:<end-1>, in batches of 100 as clients do.
  void AddMembers(std::string_view key, int begin, int end) {
    std::vector<std::string> names;
    for (int i = begin; i < end; ++i) {
      names.push_back("member:" + std::to_string(i));
      if (names.size() == 100 || i + 1 == end) {
        std::vector<std::string_view> views(names.begin(), names.end());
        ASSERT_TRUE(engine_->keyspace().SketchAdd(key, views).ok());
        names.clear();
      }
    }
  }
  uint64_t Count(std::string_view key) {
    OpResult<DistinctSketch> sketch = engine_->keyspace().ReadSketch(key);
    EXPECT_TRUE(sketch.ok()) << key;
    return sketch.value.Count();
  }
  static DistinctSketch SketchOf(int begin, int end) {
    DistinctSketch sketch;
    for (int i = begin; i < end; ++i) sketch.Add("member:" + std::to_string(i));
    return sketch;
  }
  DistinctSketch Stored(std::string_view key) { return engine_->keyspace().ReadSketch(key).value; }
};

TEST_P(EngineHyperLogLogTest, SketchesOfEveryFormSurviveTheRestart) {
  AddMembers("small", 0, 100);     // exact
  AddMembers("sparse", 0, 700);    // sparse registers
  AddMembers("dense", 0, 50'000);  // dense registers
  Checkpoint(GetParam());
  AddMembers("dense", 40'000, 60'000);  // after the checkpoint: a log on top of compacted state
  AddMembers("small", 50, 150);
  Checkpoint(GetParam());
  EXPECT_EQ(Count("small"), 150u);
  EXPECT_EQ(Stored("small"), SketchOf(0, 150));
  EXPECT_EQ(Stored("sparse"), SketchOf(0, 700));
  EXPECT_EQ(Stored("dense"), SketchOf(0, 60'000));
  EXPECT_EQ(Count("nothing"), 0u);
}

TEST_P(EngineHyperLogLogTest, PfAddSaysWhetherItChangedAnythingAndCreatesTheKey) {
  const std::string_view none[] = {"x"};
  OpResult<bool> created = engine_->keyspace().SketchAdd("k", std::span<const std::string_view>());
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(created.value) << "PFADD k with no element creates k";
  EXPECT_FALSE(engine_->keyspace().SketchAdd("k", std::span<const std::string_view>()).value);
  EXPECT_TRUE(engine_->keyspace().SketchAdd("k", none).value);
  EXPECT_FALSE(engine_->keyspace().SketchAdd("k", none).value);
  Checkpoint(GetParam());
  EXPECT_TRUE(engine_->keyspace().Exists("k"));
  EXPECT_EQ(Count("k"), 1u);
  EXPECT_FALSE(engine_->keyspace().SketchAdd("k", none).value);
}

TEST_P(EngineHyperLogLogTest, MergeIsTheUnionAndKeepsTheDestinationsExpiry) {
  AddMembers("day1", 0, 3'000);
  AddMembers("day2", 2'000, 5'000);
  AddMembers("month", 4'000, 4'500);
  ASSERT_TRUE(engine_->keyspace().Expire("month", kStartMs + 3'600'000).value);
  DistinctSketch days = Stored("day1");
  days.Merge(Stored("day2"));
  OpResult<bool> merged = engine_->keyspace().MergeSketch("month", days);
  ASSERT_TRUE(merged.ok());
  EXPECT_TRUE(merged.value);
  EXPECT_FALSE(engine_->keyspace().MergeSketch("month", days).value) << "nothing new";
  Checkpoint(GetParam());
  EXPECT_EQ(Stored("month"), SketchOf(0, 5'000));
  EXPECT_GT(engine_->keyspace().Pttl("month"), 0);
  AddMembers("month", 5'000, 5'010);  // PFADD keeps the expiry too
  Checkpoint(GetParam());
  EXPECT_GT(engine_->keyspace().Pttl("month"), 0);
  EXPECT_EQ(Stored("month"), SketchOf(0, 5'010));
}

TEST_P(EngineHyperLogLogTest, AnExpiredSketchIsGoneAndAPfAddStartsAfresh) {
  AddMembers("k", 0, 500);
  ASSERT_TRUE(engine_->keyspace().Expire("k", kStartMs + 1'000).value);
  AddMembers("k", 500, 600);  // before the expiry: logged with it
  Checkpoint(GetParam());
  clock_.Advance(2'000);
  Checkpoint(GetParam());
  EXPECT_FALSE(engine_->keyspace().Exists("k"));
  AddMembers("k", 0, 10);  // a new key, no expiry
  Checkpoint(GetParam());
  EXPECT_EQ(Count("k"), 10u);
  EXPECT_EQ(engine_->keyspace().Pttl("k"), -1);
}

TEST_P(EngineHyperLogLogTest, AStringIsNotASketchAndIsLeftAsItWas) {
  SetOptions plain;
  ASSERT_TRUE(engine_->keyspace().Set("s", "hello", plain).ok());
  ASSERT_TRUE(engine_->keyspace()
                  .Set("fake", std::string(KeyspaceModule::kSketchMagic) + std::string(8, '\0') + "\x03garbage", plain)
                  .ok());
  ASSERT_TRUE(engine_->keyspace().Set("empty", "", plain).ok());
  const std::string_view member[] = {"a"};
  for (std::string_view key : {"s", "fake", "empty"}) {
    EXPECT_EQ(engine_->keyspace().SketchAdd(key, member).status, OpStatus::kWrongType) << key;
    EXPECT_EQ(engine_->keyspace().CountSketch(key).status, OpStatus::kWrongType) << key;
    EXPECT_EQ(engine_->keyspace().ReadSketch(key).status, OpStatus::kWrongType) << key;
    EXPECT_EQ(engine_->keyspace().MergeSketch(key, SketchOf(0, 3)).status, OpStatus::kWrongType) << key;
  }
  Checkpoint(GetParam());
  std::string value;
  engine_->keyspace().Read("s", [&](std::string_view v) { value = v; });
  EXPECT_EQ(value, "hello");
}

TEST_P(EngineHyperLogLogTest, ACountIsKeptUntilTheSketchChanges) {
  AddMembers("k", 0, 20'000);
  const uint64_t first = engine_->keyspace().CountSketch("k").value;
  EXPECT_EQ(first, SketchOf(0, 20'000).Count());
  EXPECT_EQ(engine_->keyspace().CountSketch("k").value, first) << "from the cache";
  Checkpoint(GetParam());
  EXPECT_EQ(engine_->keyspace().CountSketch("k").value, first);
  AddMembers("k", 20'000, 40'000);  // changes registers: the cache goes
  const uint64_t second = engine_->keyspace().CountSketch("k").value;
  EXPECT_EQ(second, SketchOf(0, 40'000).Count());
  EXPECT_GT(second, first);
  Checkpoint(GetParam());
  EXPECT_EQ(engine_->keyspace().CountSketch("k").value, second);
  ASSERT_TRUE(engine_->keyspace().MergeSketch("k", SketchOf(40'000, 41'000)).value);
  EXPECT_EQ(engine_->keyspace().CountSketch("k").value, SketchOf(0, 41'000).Count());
  Checkpoint(GetParam());
  EXPECT_EQ(engine_->keyspace().CountSketch("k").value, SketchOf(0, 41'000).Count());
  EXPECT_EQ(engine_->keyspace().CountSketch("missing").value, 0u);
  EXPECT_EQ(Stored("k"), SketchOf(0, 41'000)) << "the cache is not part of the sketch";
}

INSTANTIATE_TEST_SUITE_P(RestartModes, EngineHyperLogLogTest, fixtures::AllRestartModes(),
                         fixtures::RestartModeParamName);

}  // namespace
}  // namespace tally::core
