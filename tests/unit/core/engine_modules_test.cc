// The engine's modules as one whole: every module is registered, reports its
// figures, and takes part in compaction and recovery.

#include <string>
#include <vector>

#include "keyspace_test_util.h"

namespace tally::core {
namespace {

using ModulesTest = KeyspaceTest;

ModuleStats StatsOf(Engine& engine, std::string_view module) {
  for (const ModuleStats& stats : engine.module_stats()) {
    if (stats.module == module) return stats;
  }
  ADD_FAILURE() << "no module " << module;
  return {};
}

TEST_F(ModulesTest, EveryModuleIsRegisteredInOrder) {
  std::vector<std::string> names;
  for (const ModuleStats& stats : engine_->module_stats()) names.emplace_back(stats.module);
  // The feeds come last: they write the change records the others produce.
  EXPECT_EQ(names,
            (std::vector<std::string>{"keyspace", "owners", "counters", "quotas", "metering", "uniques", "feeds"}));
}

TEST_F(ModulesTest, PendingChangesDrainAtCompactionAndReturnAfterReplay) {
  Set("plain", "1");
  ASSERT_TRUE(engine_->counters().Increment({"user:1", "hits", 2, clock_.NowMs(), {}}).ok());
  AuditInfo audit{"tester", "CTR.SET"};
  ASSERT_TRUE(engine_->counters().AssignCells("user:2", "hits", {{Interval::kTotal, 0, 7}}, &audit).ok());
  const std::string_view members[] = {"a", "b"};
  ASSERT_TRUE(engine_->uniques().Add("user:3", "visitors", members, clock_.NowMs()).ok());
  EXPECT_EQ(StatsOf(*engine_, "keyspace").items, 1u);
  EXPECT_EQ(StatsOf(*engine_, "keyspace").pending, 1u);
  EXPECT_EQ(StatsOf(*engine_, "owners").items, 3u);
  EXPECT_EQ(StatsOf(*engine_, "uniques").items, 1u);
  EXPECT_EQ(StatsOf(*engine_, "uniques").pending, 1u);
  EXPECT_EQ(StatsOf(*engine_, "counters").items, 2u);
  EXPECT_EQ(StatsOf(*engine_, "counters").pending, 2u);
  EXPECT_EQ(StatsOf(*engine_, "feeds").pending, 1u);  // the audit record of CTR.SET

  ASSERT_TRUE(engine_->CompactAll().ok());
  for (const ModuleStats& stats : engine_->module_stats()) EXPECT_EQ(stats.pending, 0u) << stats.module;

  // After a restart without compaction, replay makes the same changes pending.
  Set("plain", "2");
  ASSERT_TRUE(engine_->counters().AssignCells("user:2", "hits", {{Interval::kTotal, 0, 9}}, &audit).ok());
  const std::string_view more[] = {"c"};
  ASSERT_TRUE(engine_->uniques().Add("user:3", "visitors", more, clock_.NowMs()).ok());
  Durable();
  CrashAndReopen();
  EXPECT_EQ(StatsOf(*engine_, "keyspace").pending, 1u);
  EXPECT_EQ(StatsOf(*engine_, "counters").pending, 1u);
  EXPECT_EQ(StatsOf(*engine_, "feeds").pending, 1u);
  EXPECT_EQ(StatsOf(*engine_, "uniques").pending, 1u);
  EXPECT_EQ(engine_->counters().ReadCell("user:2", "hits", Interval::kTotal, 0).value, 9);
  EXPECT_EQ(engine_->uniques().Count("user:3", "visitors", Interval::kTotal, 0, 0).value, 3u);
  EXPECT_EQ(*Get("plain"), "2");
}

}  // namespace
}  // namespace tally::core
