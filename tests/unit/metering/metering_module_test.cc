// The metering module on a real engine, in every restart mode (live memory,
// compacted state, log replay and their mix): events add their measures and
// cost to counters, an ID makes a retry count once and guards the whole
// event, prices survive, and an event that cannot apply whole (a counter or
// the cost would overflow, CONSUME refused) changes nothing.

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands/plan_json.h"
#include "core/calendar.h"
#include "core/metering.h"
#include "engine_fixture.h"

namespace tally::core {
namespace {

using fixtures::RestartMode;

constexpr int64_t kStartMs = 1'796'515'200'000;  // 2026-12-06T00:00:00Z
constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

class MeteringModuleTest : public ::testing::TestWithParam<RestartMode>, public fixtures::EngineFixture {
 protected:
  MeteringModuleTest() : EngineFixture(kStartMs) {}
  void SetUp() override { Open(); }

  MeteringModule& metering() { return engine_->metering(); }
  void Restart() {
    Durable();
    Checkpoint(GetParam());
  }
  OpResult<MeterResult> Record(const std::vector<Measure>& measures, std::string_view id = "",
                               std::optional<int64_t> at_ms = std::nullopt, bool consume = false,
                               std::string_view type = "chat") {
    return metering().Record(
        {.owner = "user:42", .type = type, .measures = measures, .id = id, .at_ms = at_ms, .consume = consume});
  }
  int64_t Total(std::string_view key) {
    OpResult<int64_t> r = engine_->counters().ReadCell("user:42", key, Interval::kTotal, 0);
    EXPECT_TRUE(r.ok()) << key;
    return r.value;
  }
  int64_t Month(std::string_view key, int64_t at_ms) {
    OpResult<int64_t> r = engine_->counters().ReadCell("user:42", key, Interval::kMonth,
                                                       PeriodOf(Interval::kMonth, at_ms, TimeZone::Utc()));
    EXPECT_TRUE(r.ok()) << key;
    return r.value;
  }
  void SetPrice(std::string_view name, int64_t micro) {
    ASSERT_TRUE(metering().SetPrice(name, micro, {"billing", "PRICE.SET"}).ok());
  }
};

TEST_P(MeteringModuleTest, EventsCountTheirMeasuresAndCostAndSurviveTheRestart) {
  SetPrice("chat.tokens", 2);       // 0.000002
  SetPrice("chat.messages", 1000);  // 0.001
  Restart();
  EXPECT_EQ(metering().GetPrice("chat.tokens"), 2);

  OpResult<MeterResult> message = Record({{"messages", 1}}, "m1");
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message.value.cost, 1000);
  OpResult<MeterResult> answer = Record({{"tokens", 1500}, {"messages", 0}}, "r1");
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer.value.cost, 3000);
  Restart();

  // A retry counts once, before and after the restart; another event under
  // the same ID is a conflict and changes nothing.
  OpResult<MeterResult> retry = Record({{"tokens", 1500}, {"messages", 0}}, "r1");
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry.value.duplicate);
  EXPECT_EQ(retry.value.cost, 0);
  EXPECT_EQ(Record({{"tokens", 1501}}, "r1").status, OpStatus::kIdConflict);
  EXPECT_EQ(Record({{"tokens", 1500}}, "r1", kStartMs).status, OpStatus::kIdConflict);
  EXPECT_EQ(Record({{"tokens", 1500}}, "r1", std::nullopt, /*consume=*/true).status, OpStatus::kIdConflict);
  EXPECT_EQ(Record({{"tokens", 1500}}, "r1", std::nullopt, false, "upload").status, OpStatus::kIdConflict);

  EXPECT_EQ(Total("chat.messages"), 1);
  EXPECT_EQ(Total("chat.tokens"), 1500);
  EXPECT_EQ(Total("cost"), 4000);
  EXPECT_EQ(Total("cost.chat"), 4000);

  // A price removed: later events are counted without cost; the cost counted stays.
  ASSERT_TRUE(metering().DeletePrice("chat.tokens", {"billing", "PRICE.DEL"}).value);
  Restart();
  EXPECT_EQ(metering().GetPrice("chat.tokens"), std::nullopt);
  ASSERT_EQ(Record({{"tokens", 10}}).value.cost, 0);
  EXPECT_EQ(Total("chat.tokens"), 1510);
  EXPECT_EQ(Total("cost"), 4000);
  Restart();
  EXPECT_EQ(Total("chat.tokens"), 1510);
  EXPECT_EQ(Total("cost"), 4000);
}

TEST_P(MeteringModuleTest, TheIdFingerprintSeparatesEveryArgument) {
  // "tokens=1 AT 1796515199945" and "tokens=11 AT 796515199945" must not
  // read as the same event (their digits run together without a separator).
  const int64_t at = kStartMs - 55;
  ASSERT_TRUE(Record({{"tokens", 1}}, "x", at).ok());
  Restart();
  EXPECT_EQ(Record({{"tokens", 11}}, "x", at - 1'000'000'000'000).status, OpStatus::kIdConflict);
  EXPECT_EQ(Record({{"tokens", 1}}, "x", at + 1).status, OpStatus::kIdConflict);
  EXPECT_TRUE(Record({{"tokens", 1}}, "x", at).value.duplicate);
  EXPECT_EQ(Total("chat.tokens"), 1);
}

TEST_P(MeteringModuleTest, ALateEventLandsInItsOwnMonth) {
  SetPrice("chat.tokens", 3);
  const int64_t last_month = kStartMs - 10 * kDayMs;  // 2026-11-26
  ASSERT_TRUE(Record({{"tokens", 100}}, "late", last_month).ok());
  ASSERT_TRUE(Record({{"tokens", 7}}).ok());
  Restart();
  EXPECT_EQ(Month("chat.tokens", last_month), 100);
  EXPECT_EQ(Month("cost", last_month), 300);
  EXPECT_EQ(Month("chat.tokens", kStartMs), 7);
  EXPECT_EQ(Month("cost.chat", kStartMs), 21);
  EXPECT_EQ(Total("chat.tokens"), 107);
}

TEST_P(MeteringModuleTest, AnOverflowAnywhereAppliesNothing) {
  // The cost: 10^15 units at 10^5 micro-units each is 10^20, beyond 64 bits.
  SetPrice("chat.tokens", 100'000);
  EXPECT_EQ(Record({{"messages", 1}, {"tokens", 1'000'000'000'000'000}}, "big").status, OpStatus::kOverflow);
  // A sum of costs: each product fits, their sum does not.
  SetPrice("chat.a", kMax / 2 + 1);
  SetPrice("chat.b", kMax / 2 + 1);
  EXPECT_EQ(Record({{"a", 1}, {"b", 1}}).status, OpStatus::kOverflow);
  // One counter of the event: messages is near its maximum, tokens is not.
  ASSERT_TRUE(engine_->counters().AssignCells("user:42", "chat.messages", {{Interval::kTotal, 0, kMax - 1}}).ok());
  EXPECT_EQ(Record({{"tokens", 5}, {"messages", 2}}).status, OpStatus::kOverflow);
  Restart();
  EXPECT_EQ(Total("chat.tokens"), 0);
  EXPECT_EQ(Total("chat.messages"), kMax - 1);
  EXPECT_EQ(Total("cost"), 0);
  // The refused ID was not remembered: the event can still be recorded.
  OpResult<MeterResult> smaller = Record({{"messages", 1}, {"tokens", 10}}, "big");
  ASSERT_TRUE(smaller.ok());
  EXPECT_FALSE(smaller.value.duplicate);
  EXPECT_EQ(Total("chat.messages"), kMax);
  EXPECT_EQ(Total("cost"), 1'000'000);
}

TEST_P(MeteringModuleTest, ConsumeRefusedForOneMeasureAppliesNothingOfTheEvent) {
  Plan plan;
  std::string error;
  ASSERT_TRUE(commands::PlanFromJson("free", nlohmann::json::parse(R"({"features": {
                                        "chat.tokens": {"limit": 1000, "period": "month"},
                                        "chat.messages": {"limit": 10, "period": "month"}}})"),
                                     &plan, &error))
      << error;
  ASSERT_TRUE(engine_->quotas().SetPlan(plan, {"alice", "PLAN.SET"}).ok());
  ASSERT_TRUE(engine_->quotas().Assign("user:42", "free", std::nullopt, {"alice", "PLAN.ASSIGN"}).ok());
  ASSERT_TRUE(Record({{"messages", 1}, {"tokens", 900}, {"files", 3}}, "", std::nullopt, true).value.allowed);
  Restart();

  OpResult<MeterResult> refused = Record({{"messages", 1}, {"tokens", 200}, {"files", 1}}, "e2", std::nullopt, true);
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(refused.value.allowed);
  EXPECT_EQ(refused.value.refused_measure, "tokens");
  EXPECT_EQ(refused.value.refused_amount, 200);
  EXPECT_EQ(refused.value.shortfall, 100);
  Restart();
  auto usage = engine_->quotas().Usage("user:42", "chat.messages");
  ASSERT_TRUE(usage.ok());
  ASSERT_EQ(usage.value.size(), 1u);
  EXPECT_EQ(usage.value[0].figures.used, 1);
  EXPECT_EQ(Total("chat.messages"), 1);
  EXPECT_EQ(Total("chat.tokens"), 900);
  EXPECT_EQ(Total("chat.files"), 3);
  // The refused event's ID was not used up: the event fits once it is smaller.
  OpResult<MeterResult> fits = Record({{"messages", 1}, {"tokens", 100}}, "e2", std::nullopt, true);
  ASSERT_TRUE(fits.ok());
  EXPECT_TRUE(fits.value.allowed);
  EXPECT_FALSE(fits.value.duplicate);
  Restart();
  EXPECT_EQ(Total("chat.tokens"), 1000);
  EXPECT_EQ(engine_->quotas().Usage("user:42", "chat.tokens").value[0].figures.used, 1000);
}

INSTANTIATE_TEST_SUITE_P(RestartModes, MeteringModuleTest, fixtures::AllRestartModes(), fixtures::RestartModeParamName);

}  // namespace
}  // namespace tally::core
