// The quota module on a real engine, in every restart mode (live memory,
// compacted state, log replay and their mix): plans, assignment, consumes
// with IDs, credits, a hold that expires in the sweep, release, revoke, the
// ledger and the alerts come out the same whichever way the state was
// rebuilt, and no replay raises an alert twice.

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands/plan_json.h"
#include "core/quotas.h"
#include "engine_fixture.h"

namespace tally::core {
namespace {

using fixtures::RestartMode;

constexpr int64_t kStartMs = 1'796'515'200'000;  // 2026-12-06T00:00:00Z
constexpr int64_t kDayMs = 86'400'000;

Plan MakePlan(const std::string& name, const std::string& json) {
  Plan plan;
  std::string error;
  EXPECT_TRUE(commands::PlanFromJson(name, nlohmann::json::parse(json), &plan, &error)) << error;
  return plan;
}

class QuotasModuleTest : public ::testing::TestWithParam<RestartMode>, public fixtures::EngineFixture {
 protected:
  QuotasModuleTest() : EngineFixture(kStartMs) {}
  void SetUp() override { Open(); }

  QuotasModule& quotas() { return engine_->quotas(); }
  // Makes what was written durable, then restarts the way the mode says.
  void Restart() {
    Durable();
    Checkpoint(GetParam());
  }
  QuotaDecision Consume(const std::string& feature, int64_t amount, const std::string& id = "") {
    auto result = quotas().Consume({.owner = "team:1", .feature = feature, .amount = amount, .id = id});
    EXPECT_TRUE(result.ok()) << static_cast<int>(result.status);
    return result.value;
  }
  FeatureUsage Usage(const std::string& feature) {
    auto result = quotas().Usage("team:1", feature);
    EXPECT_TRUE(result.ok());
    EXPECT_EQ(result.value.size(), 1u);
    return result.value.empty() ? FeatureUsage{} : result.value[0];
  }
  Grant GrantOf(const std::string& id) {
    auto list = quotas().ListCredits("team:1", "", true);
    EXPECT_TRUE(list.ok());
    for (const GrantView& view : list.value) {
      if (view.grant.id == id) return view.grant;
    }
    ADD_FAILURE() << "no grant " << id;
    return {};
  }
};

TEST_P(QuotasModuleTest, EveryFigureSurvivesTheRestartAndAlertsFireOnce) {
  ASSERT_TRUE(
      quotas()
          .SetPlan(MakePlan("pro", R"({"features": {"api_calls": {"limit": 100, "period": "month", "alerts": [50, 100]},
                                              "seats": {"limit": 5, "period": "total"}}})"),
                   {"alice", "PLAN.SET"})
          .ok());
  ASSERT_TRUE(quotas().Assign("team:1", "pro", std::nullopt, {"alice", "PLAN.ASSIGN"}).ok());
  Restart();
  ASSERT_NE(quotas().GetPlan("pro"), nullptr);
  EXPECT_EQ(quotas().PlanOf("team:1").value.plan, "pro");

  // A consume with an ID counts once; the same ID with another amount is a conflict.
  EXPECT_TRUE(Consume("api_calls", 30, "c1").allowed);
  Restart();
  QuotaDecision retry = Consume("api_calls", 30, "c1");
  EXPECT_TRUE(retry.duplicate);
  EXPECT_EQ(retry.usage.figures.used, 30);
  EXPECT_EQ(quotas().Consume({.owner = "team:1", .feature = "api_calls", .amount = 31, .id = "c1"}).status,
            OpStatus::kIdConflict);

  // Credits: 25 expiring in 10 days, before the period (December) ends.
  auto grant = quotas().GrantCredit({.owner = "team:1",
                                     .feature = "api_calls",
                                     .amount = 25,
                                     .expires_ms = kStartMs + 10 * kDayMs,
                                     .reason = "top-up",
                                     .actor = "support",
                                     .id = "g1"});
  ASSERT_TRUE(grant.ok());
  Restart();
  // 90 more: the grant expires first, so it is drawn first (25), then the plan (65).
  QuotaDecision big = Consume("api_calls", 90);
  EXPECT_TRUE(big.allowed);
  EXPECT_EQ(big.plan.from_grants, 25);
  EXPECT_EQ(big.usage.figures.used, 120);
  EXPECT_EQ(big.usage.figures.credits, 0);
  EXPECT_EQ(big.usage.figures.remaining, 5);  // 100 - (120 - 25)
  Restart();
  EXPECT_FALSE(Consume("api_calls", 6).allowed);
  EXPECT_EQ(Usage("api_calls").figures.used, 120);

  // A hold expires by itself in the sweep, once.
  auto hold = quotas().Reserve({.owner = "team:1", .feature = "api_calls", .amount = 5, .id = "r1", .ttl_ms = 60'000});
  ASSERT_TRUE(hold.ok());
  EXPECT_TRUE(hold.value.allowed);
  Restart();
  EXPECT_EQ(Usage("api_calls").figures.held, 5);
  clock_.Advance(60'000);
  quotas().Sweep();
  Restart();
  EXPECT_EQ(Usage("api_calls").figures.held, 0);
  auto late = quotas().Commit("team:1", "r1", 5);
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(late.value.outcome.applied);

  // Release gives back the newest draw first: 10 of the plan's 65.
  auto released = quotas().Release({.owner = "team:1", .feature = "api_calls", .amount = 10});
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(released.value.released, 10);
  Restart();
  EXPECT_EQ(Usage("api_calls").figures.used, 110);
  EXPECT_EQ(GrantOf("g1").drawn, 25);

  // A second grant, revoked after a partial draw; the ledger balances every grant.
  ASSERT_TRUE(
      quotas()
          .GrantCredit(
              {.owner = "team:1", .feature = "api_calls", .amount = 40, .priority = -1, .actor = "support", .id = "g2"})
          .ok());
  EXPECT_EQ(Consume("api_calls", 15).plan.from_grants, 15);
  Restart();
  auto revoked = quotas().Revoke("team:1", "g2", {"support", "CREDIT.REVOKE"});
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked.value, 25);
  Restart();
  for (const char* id : {"g1", "g2"}) {
    SCOPED_TRACE(id);
    const Grant g = GrantOf(id);
    EXPECT_TRUE(g.Balanced());
    auto rows = quotas().Ledger("team:1", id);
    ASSERT_TRUE(rows.ok());
    std::map<std::string, int64_t> by_kind;
    for (const LedgerRow& row : rows.value) by_kind[row.kind] += row.amount;
    EXPECT_EQ(by_kind["grant"], g.amount);
    EXPECT_EQ(by_kind["draw"], g.drawn);
    EXPECT_EQ(by_kind["release"], g.released);
    EXPECT_EQ(by_kind["revoke"], g.revoked);
    EXPECT_EQ(by_kind["expire"], g.expired);
  }
  EXPECT_EQ(GrantOf("g2").revoked, 25);

  // Alerts, whichever way the state was rebuilt, each once: 50 % of the plan's limit (units drawn from
  // grants do not count against the limit, so the plan's part never reached 100 %), g1's last credit
  // drawn, the hold's expiry.
  Compact();
  auto alerts = engine_->feeds().ReadAlerts(0, 100);
  ASSERT_TRUE(alerts.ok());
  std::vector<std::string> seen;
  for (const AuditEntry& alert : alerts.value.records) {
    const nlohmann::json details = nlohmann::json::parse(alert.details);
    seen.push_back(alert.command + (details.contains("threshold") ? ":" + details["threshold"].dump() : ""));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"threshold:50", "credit_depleted", "hold_expired"}));

  // The plan stays while an owner is on it.
  EXPECT_EQ(quotas().DeletePlan("pro", {"alice", "PLAN.DEL"}).status, OpStatus::kPlanInUse);
  Restart();
  EXPECT_NE(quotas().GetPlan("pro"), nullptr);
}

// The sweep visits the owners with a grant or hold due (a queue by
// instant), not every owner: 1,000 owners with far grants around the ones
// that come due, and the queue rebuilt by every restart mode. A revoked
// grant leaves a stale entry that expires nothing.
TEST_P(QuotasModuleTest, TheSweepExpiresWhatIsDueAmongManyOwnersAfterEveryKindOfRestart) {
  ASSERT_TRUE(quotas()
                  .SetPlan(MakePlan("pro", R"({"features": {"api_calls": {"limit": 100, "period": "month"}}})"),
                           {"a", "PLAN.SET"})
                  .ok());
  constexpr int64_t kMinuteMs = 60'000;
  for (int i = 0; i < 1000; ++i) {
    const std::string owner = "o" + std::to_string(i);
    ASSERT_TRUE(
        quotas()
            .GrantCredit(
                {.owner = owner, .feature = "tokens", .amount = 5, .expires_ms = kStartMs + 30 * kDayMs, .actor = "a"})
            .ok());
  }
  ASSERT_TRUE(quotas()
                  .GrantCredit({.owner = "team:1",
                                .feature = "tokens",
                                .amount = 7,
                                .expires_ms = kStartMs + 60 * kMinuteMs,
                                .actor = "a",
                                .id = "soon"})
                  .ok());
  ASSERT_TRUE(quotas()
                  .GrantCredit({.owner = "team:3",
                                .feature = "tokens",
                                .amount = 9,
                                .expires_ms = kStartMs + 90 * kMinuteMs,
                                .actor = "a",
                                .id = "revoked"})
                  .ok());
  ASSERT_TRUE(quotas().Assign("team:2", "pro", std::nullopt, {"a", "PLAN.ASSIGN"}).ok());
  auto hold =
      quotas().Reserve({.owner = "team:2", .feature = "api_calls", .amount = 5, .id = "r1", .ttl_ms = 10 * kMinuteMs});
  ASSERT_TRUE(hold.ok());
  ASSERT_TRUE(hold.value.allowed);
  Restart();
  EXPECT_EQ(quotas().Sweep(), 0u);  // nothing due yet

  clock_.Advance(11 * kMinuteMs);
  EXPECT_EQ(quotas().Sweep(), 1u);  // team:2's hold
  EXPECT_EQ(quotas().Sweep(), 0u);
  Restart();
  clock_.Advance(50 * kMinuteMs);   // 61 minutes in
  EXPECT_EQ(quotas().Sweep(), 1u);  // team:1's grant
  ASSERT_TRUE(quotas().Revoke("team:3", "revoked", {"a", "CREDIT.REVOKE"}).ok());
  Restart();
  clock_.Advance(30 * kMinuteMs);  // past the revoked grant's expiry
  EXPECT_EQ(quotas().Sweep(), 0u);
  auto soon = quotas().ListCredits("team:1", "tokens", true);
  ASSERT_TRUE(soon.ok());
  ASSERT_EQ(soon.value.size(), 1u);
  EXPECT_EQ(soon.value[0].grant.expired, 7);
  auto usage = quotas().Usage("team:2", "api_calls");
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage.value[0].figures.held, 0);

  // 30 days in, every far grant comes due in one sweep.
  clock_.Advance(30 * kDayMs);
  EXPECT_EQ(quotas().Sweep(), 1000u);
  EXPECT_EQ(quotas().Sweep(), 0u);
}

// A consume reuses what it resolved for the owner's feature (definition,
// window) only while nothing it depends on changed: a plan's new limit, a
// new anchor and a new time zone each apply from the next op.
TEST_P(QuotasModuleTest, APlanAnAnchorOrAZoneChangedMidUseAppliesToTheNextConsume) {
  ASSERT_TRUE(quotas()
                  .SetPlan(MakePlan("pro", R"({"features": {"api_calls": {"limit": 10, "period": "month"}}})"),
                           {"a", "PLAN.SET"})
                  .ok());
  ASSERT_TRUE(quotas().Assign("team:1", "pro", std::nullopt, {"a", "PLAN.ASSIGN"}).ok());
  EXPECT_TRUE(Consume("api_calls", 10).allowed);
  EXPECT_FALSE(Consume("api_calls", 1).allowed);
  const int64_t month_end_utc = Usage("api_calls").resets_at_ms.value();
  Restart();

  ASSERT_TRUE(quotas()
                  .SetPlan(MakePlan("pro", R"({"features": {"api_calls": {"limit": 12, "period": "month"}}})"),
                           {"a", "PLAN.SET"})
                  .ok());
  EXPECT_TRUE(Consume("api_calls", 2).allowed);
  EXPECT_FALSE(Consume("api_calls", 1).allowed);
  EXPECT_EQ(Usage("api_calls").figures.limit, 12);

  // Another zone: the month ends at local midnight (Tokyo is 9 h ahead of UTC).
  ASSERT_TRUE(engine_->owners().SetTimeZone("team:1", *TimeZone::Find("Asia/Tokyo")).ok());
  EXPECT_EQ(Usage("api_calls").resets_at_ms.value(), month_end_utc - 9 * 3'600'000);
  Restart();
  EXPECT_EQ(Usage("api_calls").resets_at_ms.value(), month_end_utc - 9 * 3'600'000);

  // An anchor on the 20th: the window runs 2026-11-20 .. 2026-12-20, local time.
  ASSERT_TRUE(quotas().Assign("team:1", "pro", CivilDate{2026, 12, 20}, {"a", "PLAN.ASSIGN"}).ok());
  const FeatureUsage anchored = Usage("api_calls");
  EXPECT_EQ(anchored.resets_at_ms.value(), kStartMs + 14 * kDayMs - 9 * 3'600'000);
  Restart();
  EXPECT_EQ(Usage("api_calls").resets_at_ms.value(), anchored.resets_at_ms.value());
}

INSTANTIATE_TEST_SUITE_P(RestartModes, QuotasModuleTest, fixtures::AllRestartModes(), fixtures::RestartModeParamName);

}  // namespace
}  // namespace tally::core
