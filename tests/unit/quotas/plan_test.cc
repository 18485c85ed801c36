// Plans (core/quota_plan.h) and their JSON (commands/plan_json.h): what is
// accepted, what it means, and a clear error naming each bad key or value.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "commands/plan_json.h"
#include "core/quota_plan.h"

namespace tally {
namespace {

using json = nlohmann::json;

core::Plan Parse(const std::string& text) {
  core::Plan plan;
  std::string error;
  EXPECT_TRUE(commands::PlanFromJson("pro", json::parse(text), &plan, &error)) << text << ": " << error;
  return plan;
}

std::string ParseError(const std::string& text, const std::string& name = "pro") {
  core::Plan plan;
  plan.name = "untouched";
  std::string error;
  EXPECT_FALSE(commands::PlanFromJson(name, json::parse(text), &plan, &error)) << text;
  EXPECT_EQ(plan.name, "untouched") << text;
  return error;
}

TEST(PlanTest, FeaturesWithDefaults) {
  core::Plan plan = Parse(R"({"features": {
      "seats": {"limit": 5},
      "api_calls": {"limit": 1000, "period": "month", "overage": "allow", "alerts": [100, 50, 80, 80]},
      "ai_tokens": {"limit": null, "period": "rolling:24h"}}})");
  ASSERT_EQ(plan.features.size(), 3u);
  EXPECT_EQ(plan.features[0].name, "ai_tokens");  // sorted by name
  const core::PlanFeature* seats = plan.Find("seats");
  ASSERT_NE(seats, nullptr);
  EXPECT_EQ(seats->limit, 5);
  EXPECT_EQ(seats->period.kind, core::QuotaPeriod::Kind::kTotal);
  EXPECT_EQ(seats->overage, core::Overage::kReject);
  EXPECT_EQ(seats->alert_thresholds, (std::vector<int>{80, 95, 100}));
  const core::PlanFeature* api = plan.Find("api_calls");
  EXPECT_EQ(api->period.interval, core::Interval::kMonth);
  EXPECT_EQ(api->overage, core::Overage::kAllow);
  EXPECT_EQ(api->alert_thresholds, (std::vector<int>{50, 80, 100}));  // sorted, once each
  EXPECT_FALSE(plan.Find("ai_tokens")->limit.has_value());
  EXPECT_EQ(plan.Find("ai_tokens")->period.rolling_hours, 24);
  EXPECT_EQ(plan.Find("nope"), nullptr);
  EXPECT_EQ(Parse(R"({})").features.size(), 0u);  // a plan without features
}

TEST(PlanTest, JsonRoundTrips) {
  core::Plan plan = Parse(R"({"features": {"api_calls": {"limit": 1000, "period": "rolling:30d",
                                                         "overage": "allow", "alerts": [90]},
                                          "seats": {"limit": null}}})");
  json out = commands::PlanToJson(plan);
  EXPECT_EQ(out["plan"], "pro");
  EXPECT_EQ(out["features"]["api_calls"]["period"], "rolling:30d");
  EXPECT_TRUE(out["features"]["seats"]["limit"].is_null());
  json body = out;
  body.erase("plan");
  EXPECT_EQ(Parse(body.dump()), plan);
}

TEST(PlanTest, BadInputIsAnErrorNamingIt) {
  struct Case {
    const char* body;
    const char* says;
  };
  const Case cases[] = {
      {R"([])", "must be a JSON object"},
      {R"({"feature": {}})", "unknown key 'feature'"},
      {R"({"features": []})", "'features' must be an object"},
      {R"({"features": {"a": 5}})", "feature 'a' must be an object"},
      {R"({"features": {"a": {}}})", "feature 'a': 'limit' is required"},
      {R"({"features": {"a": {"limit": -1}}})", "limit -1 is negative"},
      {R"({"features": {"a": {"limit": 1.5}}})", "'limit' must be an integer ≥ 0 or null (unlimited), not a float"},
      {R"({"features": {"a": {"limit": "5"}}})", "not a string"},
      {R"({"features": {"a": {"limit": 18446744073709551615}}})", "'limit' is too large"},
      {R"({"features": {"a": {"limit": 1, "period": "fortnight"}}})", "unknown period 'fortnight'"},
      {R"({"features": {"a": {"limit": 1, "period": "rolling:0h"}}})", "'rolling:0h'"},
      {R"({"features": {"a": {"limit": 1, "period": 3}}})", "'period' must be a string"},
      {R"({"features": {"a": {"limit": 1, "overage": "soft"}}})", "'overage' must be \"reject\" or \"allow\""},
      {R"({"features": {"a": {"limit": 1, "alerts": [0]}}})", "0 is not a percentage"},
      {R"({"features": {"a": {"limit": 1, "alerts": [1001]}}})", "1001 is not a percentage"},
      {R"({"features": {"a": {"limit": 1, "alerts": [50.5]}}})", "whole percentages"},
      {R"({"features": {"a": {"limit": 1, "alerts": 80}}})", "'alerts' must be an array"},
      {R"({"features": {"a": {"limit": 1, "limits": 2}}})", "unknown key 'limits'"},
      {R"({"features": {"a b": {"limit": 1}}})", "feature 'a b' of plan 'pro': a feature name"},
  };
  for (const Case& c : cases) {
    const std::string error = ParseError(c.body);
    EXPECT_NE(error.find(c.says), std::string::npos) << c.body << " -> " << error;
  }
  EXPECT_NE(ParseError(R"({})", "bad name").find("plan name 'bad name'"), std::string::npos);
}

TEST(PlanTest, PlanNames) {
  for (const char* ok : {"pro", "team-2027", "tier.gold", "a:b_c", "X"}) EXPECT_TRUE(core::IsValidPlanName(ok)) << ok;
  for (const char* bad :
       {"", "with space", "ümlaut", "a/b", "65-characters-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}) {
    EXPECT_FALSE(core::IsValidPlanName(bad)) << bad;
  }
}

}  // namespace
}  // namespace tally
