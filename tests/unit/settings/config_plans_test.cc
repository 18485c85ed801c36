// Plans in tally.toml ([plans.<plan>.features.<feature>]): the TOML tables
// become the JSON PLAN.SET takes and go through the same parser
// (commands/plan_json.h), so a valid plan is the same plan and an invalid one
// gets PLAN.SET's words, with the file, the line and the plan in front.
// Also the quota settings' rule between them. No daemon is started.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "commands/plan_json.h"
#include "config.h"
#include "core/quotas.h"
#include "settings.h"
#include "temp_dir.h"

namespace tally {
namespace {

struct Loaded {
  ConfigOutcome outcome;
  Config config;
  std::string err;
};

Loaded Load(std::vector<std::string> args) {
  args.insert(args.begin(), "tallyd");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  Loaded loaded{ConfigOutcome::kExitError, {}, {}};
  std::ostringstream out, err;
  loaded.outcome = LoadConfig(static_cast<int>(args.size()), argv.data(), &loaded.config, "tallyd 9.9.9", out, err);
  loaded.err = err.str();
  return loaded;
}

class ConfigPlansTest : public ::testing::Test {
 protected:
  // Writes `toml` and reads it as tallyd does; the errors, one per line.
  std::vector<std::string> Read(const std::string& toml, Config* config) {
    std::ofstream(file_) << toml;
    std::vector<std::string> errors;
    const bool ok = ReadConfigFile(file_, config, &errors);
    EXPECT_EQ(ok, errors.empty());
    return errors;
  }
  std::vector<std::string> Errors(const std::string& toml) {
    Config config;
    return Read(toml, &config);
  }
  // The plan PLAN.SET makes of `json`.
  static core::Plan FromJson(const std::string& name, const std::string& json) {
    core::Plan plan;
    std::string error;
    EXPECT_TRUE(commands::PlanFromJson(name, nlohmann::json::parse(json), &plan, &error)) << error;
    return plan;
  }
  // What PLAN.SET's parser says of `json` (the text after "invalid plan 'x': ").
  static std::string JsonError(const std::string& name, const std::string& json) {
    core::Plan plan;
    std::string error;
    EXPECT_FALSE(commands::PlanFromJson(name, nlohmann::json::parse(json), &plan, &error));
    return error;
  }
  // "<file>:<line>: invalid plan '<plan>': <what>"
  std::string Message(int line, const std::string& plan, const std::string& what) const {
    return file_ + ":" + std::to_string(line) + ": invalid plan '" + plan + "': " + what;
  }

  fixtures::TempDir dir_;
  const std::string file_ = dir_.Sub("tally.toml");
};

constexpr const char* kTwoPlans = R"(port = 7000

[plans.free.features.api_calls]
limit = 1000
period = "month"

[plans.pro.features.api_calls]
limit = 100000
period = "month"
overage = "allow"
alerts = [80, 95, 100]
)";

TEST_F(ConfigPlansTest, TablesAreThePlansPlanSetMakesOfTheSameJson) {
  Config config;
  ASSERT_EQ(Read(kTwoPlans, &config), std::vector<std::string>{});
  EXPECT_EQ(config.port, 7000) << "settings before the tables are read as before";
  ASSERT_EQ(config.plans.size(), 2u);
  EXPECT_EQ(config.plans[0], FromJson("free", R"({"features": {"api_calls": {"limit": 1000, "period": "month"}}})"));
  EXPECT_EQ(config.plans[1], FromJson("pro", R"({"features": {"api_calls": {"limit": 100000, "period": "month",
                                                   "overage": "allow", "alerts": [80, 95, 100]}}})"));
  // Defaults are PLAN.SET's: period total, overage reject, alerts 80/95/100.
  EXPECT_EQ(config.plans[0].features[0].overage, core::Overage::kReject);
  EXPECT_EQ(config.plans[0].features[0].alert_thresholds, (std::vector<int>{80, 95, 100}));
}

TEST_F(ConfigPlansTest, AnyTomlFormOfTheSameTablesGivesTheSamePlans) {
  Config headers;
  ASSERT_EQ(Read(kTwoPlans, &headers), std::vector<std::string>{});
  Config inline_tables;
  ASSERT_EQ(Read(R"([plans]
free = { features = { api_calls = { limit = 1000, period = "month" } } }
pro.features.api_calls = { limit = 100000, period = "month", overage = "allow", alerts = [100, 95, 80, 95] }
)",
                 &inline_tables),
            std::vector<std::string>{});
  EXPECT_EQ(inline_tables.plans, headers.plans) << "thresholds are sorted and deduplicated as PLAN.SET does";
}

TEST_F(ConfigPlansTest, SeveralFeaturesUnlimitedAndRollingPeriods) {
  Config config;
  ASSERT_EQ(Read(R"([plans.team.features.seats]
limit = 5
[plans.team.features.ai_tokens]
limit = 100000
period = "rolling:30d"
overage = "allow"
[plans.team.features.exports]
limit = "unlimited"
period = "day"
)",
                 &config),
            std::vector<std::string>{});
  ASSERT_EQ(config.plans.size(), 1u);
  EXPECT_EQ(config.plans[0], FromJson("team", R"({"features": {
      "seats": {"limit": 5},
      "ai_tokens": {"limit": 100000, "period": "rolling:30d", "overage": "allow"},
      "exports": {"limit": null, "period": "day"}}})"));
  EXPECT_FALSE(config.plans[0].Find("exports")->limit.has_value()) << "\"unlimited\" is JSON's null";
}

TEST_F(ConfigPlansTest, NoPlansTableMeansNoPlans) {
  Config config;
  config.plans.push_back(FromJson("old", R"({"features": {}})"));
  ASSERT_EQ(Read("port = 7000\n", &config), std::vector<std::string>{});
  EXPECT_TRUE(config.plans.empty()) << "the file's plans replace the ones read before";
}

// Each kind of error: PLAN.SET's words for the same JSON, after the file, the
// plan's first line and the plan's name.
TEST_F(ConfigPlansTest, UnknownKeyOfAFeatureIsNamed) {
  const auto errors = Errors("[plans.pro.features.api_calls]\nlimit = 10\nlimt = 10\n");
  const std::string parser = JsonError("pro", R"({"features": {"api_calls": {"limit": 10, "limt": 10}}})");
  EXPECT_EQ(parser, "feature 'api_calls': unknown key 'limt' (limit, period, overage, alerts)");
  EXPECT_EQ(errors, std::vector<std::string>{Message(1, "pro", parser)});
}

TEST_F(ConfigPlansTest, UnknownKeyOfAPlanIsNamed) {
  const auto errors = Errors("[plans.pro]\nfeature = 1\n");
  EXPECT_EQ(errors, std::vector<std::string>{Message(1, "pro", "plan 'pro': unknown key 'feature' (features)")});
}

TEST_F(ConfigPlansTest, NegativeLimitIsNamed) {
  const auto errors = Errors("[plans.pro.features.api_calls]\nlimit = -5\n");
  const std::string parser = JsonError("pro", R"({"features": {"api_calls": {"limit": -5}}})");
  EXPECT_EQ(parser, "feature 'api_calls' of plan 'pro': limit -5 is negative (0 or more, or null = unlimited)");
  EXPECT_EQ(errors, std::vector<std::string>{Message(1, "pro", parser)});
}

TEST_F(ConfigPlansTest, UnknownPeriodIsNamed) {
  const auto errors = Errors("\n\n[plans.pro.features.api_calls]\nlimit = 5\nperiod = \"fortnight\"\n");
  const std::string parser = JsonError("pro", R"({"features": {"api_calls": {"limit": 5, "period": "fortnight"}}})");
  EXPECT_NE(parser.find("unknown period 'fortnight'"), std::string::npos) << parser;
  EXPECT_EQ(errors, std::vector<std::string>{Message(3, "pro", parser)});
}

TEST_F(ConfigPlansTest, WrongTypesAndValuesAreNamed) {
  struct Case {
    std::string toml_feature;  // the lines of [plans.p.features.f]
    std::string json_feature;  // the same as JSON
    std::string expected;      // PLAN.SET's words
  };
  const std::vector<Case> cases = {
      {"limit = 1.5", R"({"limit": 1.5})",
       "feature 'f': 'limit' must be an integer ≥ 0 or null (unlimited), not a float"},
      {"limit = \"lots\"", R"({"limit": "lots"})",
       "feature 'f': 'limit' must be an integer ≥ 0 or null (unlimited), not a string"},
      {"period = \"month\"", R"({"period": "month"})",
       "feature 'f': 'limit' is required (an integer ≥ 0, or null for unlimited)"},
      {"limit = 1\noverage = \"sometimes\"", R"({"limit": 1, "overage": "sometimes"})",
       "feature 'f': 'overage' must be \"reject\" or \"allow\""},
      {"limit = 1\nalerts = [50, 2000]", R"({"limit": 1, "alerts": [50, 2000]})",
       "feature 'f': 'alerts': 2000 is not a percentage from 1 to 1000"},
      {"limit = 1\nalerts = 80", R"({"limit": 1, "alerts": 80})",
       "feature 'f': 'alerts' must be an array of percentages, not a number"},
      {"limit = 1\nperiod = 30", R"({"limit": 1, "period": 30})",
       "feature 'f': 'period' must be a string, not a number"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.toml_feature);
    EXPECT_EQ(JsonError("p", R"({"features": {"f": )" + c.json_feature + "}}"), c.expected);
    EXPECT_EQ(Errors("[plans.p.features.f]\n" + c.toml_feature + "\n"),
              std::vector<std::string>{Message(1, "p", c.expected)});
  }
}

TEST_F(ConfigPlansTest, ValuesJsonCannotHoldAreNamedByTheirPath) {
  EXPECT_EQ(
      Errors("[plans.pro.features.api_calls]\nlimit = 2024-01-01\n"),
      std::vector<std::string>{Message(1, "pro", "'features.api_calls.limit' is a date, which a plan cannot hold")});
  EXPECT_EQ(Errors("[plans.pro.features.api_calls]\nlimit = 1\nalerts = [80, 12:00:00]\n"),
            std::vector<std::string>{
                Message(1, "pro", "'features.api_calls.alerts[1]' is a time, which a plan cannot hold")});
}

TEST_F(ConfigPlansTest, InvalidPlanNameGetsPlanSetsWords) {
  EXPECT_EQ(Errors("[plans.\"no spaces\".features.api_calls]\nlimit = 1\n"),
            std::vector<std::string>{Message(1, "no spaces", "use 1-64 characters of A-Z a-z 0-9 _ - . :")});
  // A bad feature name is the parser's to name.
  const auto errors = Errors("[plans.pro.features.\"bad feature\"]\nlimit = 1\n");
  EXPECT_EQ(errors, std::vector<std::string>{Message(1, "pro", JsonError("pro", R"({"features": {"bad feature":
                                                                                {"limit": 1}}})"))});
}

TEST_F(ConfigPlansTest, PlansMustBeATableAndAPlanAnObject) {
  EXPECT_EQ(Errors("port = 1\nplans = 5\n"),
            std::vector<std::string>{file_ + ":2: plans must be a table of plans by name "
                                             "([plans.<plan>.features.<feature>]), not an integer"});
  EXPECT_EQ(Errors("[plans]\npro = \"big\"\n"),
            std::vector<std::string>{Message(2, "pro", JsonError("pro", R"("big")"))});
}

TEST_F(ConfigPlansTest, EveryInvalidPlanIsOneMessageInLineOrderAndNoPlanIsKept) {
  Config config;
  const auto errors = Read(R"(prot = 1
[plans.ok.features.a]
limit = 1
[plans.zeta.features.a]
limit = -1
[plans.alpha.features.a]
limt = 1
)",
                           &config);
  ASSERT_EQ(errors.size(), 3u) << ::testing::PrintToString(errors);
  EXPECT_NE(errors[0].find(":1: unknown setting 'prot'"), std::string::npos) << errors[0];
  EXPECT_EQ(errors[1].rfind(Message(4, "zeta", ""), 0), 0u) << errors[1];
  EXPECT_EQ(errors[2].rfind(Message(6, "alpha", ""), 0), 0u) << errors[2];
  EXPECT_TRUE(config.plans.empty()) << "a file with an error gives no plans";
}

TEST_F(ConfigPlansTest, AnInvalidPlanStopsLoadingLikeABadSetting) {
  std::ofstream(file_) << "[plans.pro.features.api_calls]\nlimit = 10\nlimt = 10\n";
  Loaded loaded = Load({"--config", file_});
  EXPECT_EQ(loaded.outcome, ConfigOutcome::kExitError);
  EXPECT_EQ(loaded.err,
            "tallyd: bad config: " +
                Message(1, "pro", "feature 'api_calls': unknown key 'limt' (limit, period, overage, alerts)") + "\n");
  std::ofstream(file_) << kTwoPlans;
  loaded = Load({"--config", file_});
  ASSERT_EQ(loaded.outcome, ConfigOutcome::kRun) << loaded.err;
  EXPECT_EQ(loaded.config.plans.size(), 2u);
}

TEST_F(ConfigPlansTest, AMisspelledPlansTableSuggestsIt) {
  const auto errors = Errors("[plan.pro.features.api_calls]\nlimit = 1\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], file_ + ":1: unknown setting 'plan' (did you mean 'plans'?)");
}

TEST_F(ConfigPlansTest, ReloadReplacesThePlansOrChangesNothing) {
  std::ofstream(file_) << kTwoPlans;
  Loaded loaded = Load({"--config", file_});
  ASSERT_EQ(loaded.outcome, ConfigOutcome::kRun) << loaded.err;
  Config config = loaded.config;

  std::ofstream(file_) << "port = 7000\n[plans.free.features.api_calls]\nlimit = 2000\nperiod = \"month\"\n";
  ReloadResult result;
  std::string error;
  ASSERT_TRUE(ReloadConfigFile(&config, &result, &error)) << error;
  ASSERT_EQ(config.plans.size(), 1u);
  EXPECT_EQ(config.plans[0].features[0].limit, 2000);
  EXPECT_TRUE(result.applied.empty()) << "plans are not settings";
  EXPECT_TRUE(result.needs_restart.empty());

  std::ofstream(file_) << "port = 7000\n[plans.free.features.api_calls]\nlimit = -1\n";
  EXPECT_FALSE(ReloadConfigFile(&config, &result, &error));
  EXPECT_EQ(error, Message(2, "free",
                           "feature 'api_calls' of plan 'free': limit -1 is negative (0 or more, or null = "
                           "unlimited)"));
  ASSERT_EQ(config.plans.size(), 1u);
  EXPECT_EQ(config.plans[0].features[0].limit, 2000) << "a bad file changes nothing";
}

// ---------------------------------------------------------------------------
// The quota settings

TEST(QuotaSettings, DefaultsAndRanges) {
  // The defaults are the quota module's own: a tallyd without these
  // settings behaves as before they existed.
  const Config defaults;
  const core::QuotaOptions module;
  EXPECT_EQ(defaults.quota_max_amount, module.max_amount);
  EXPECT_EQ(defaults.quota_default_hold_ttl_ms, module.default_hold_ttl_ms);
  EXPECT_EQ(defaults.quota_max_hold_ttl_ms, module.max_hold_ttl_ms);
  EXPECT_EQ(defaults.quota_max_amount, 1'000'000'000'000'000);  // 10^15
  EXPECT_EQ(defaults.quota_default_hold_ttl_ms, 300'000);
  EXPECT_EQ(defaults.quota_max_hold_ttl_ms, 7ll * 86'400'000);
  const Setting* max_amount = FindSetting("quota_max_amount");
  ASSERT_NE(max_amount, nullptr);
  EXPECT_EQ(max_amount->RangeText(), "1..1000000000000000") << "no larger than the module's own ceiling";
  Loaded loaded = Load({"--config", "/dev/null", "--quota-max-amount", "100"});
  ASSERT_EQ(loaded.outcome, ConfigOutcome::kRun) << loaded.err;
  EXPECT_EQ(loaded.config.quota_max_amount, 100);
  loaded = Load({"--config", "/dev/null", "--quota-max-amount", "0"});
  EXPECT_EQ(loaded.outcome, ConfigOutcome::kExitError);
  EXPECT_EQ(loaded.err,
            "tallyd: bad setting: quota_max_amount = 0 is out of range: must be 1..1000000000000000 (given as "
            "--quota-max-amount)\n");
}

TEST(QuotaSettings, DefaultHoldTtlMayNotExceedTheMaximum) {
  Loaded loaded =
      Load({"--config", "/dev/null", "--quota-default-hold-ttl-ms", "600000", "--quota-max-hold-ttl-ms", "60000"});
  EXPECT_EQ(loaded.outcome, ConfigOutcome::kExitError);
  EXPECT_EQ(loaded.err,
            "tallyd: bad setting: quota_default_hold_ttl_ms = 600000 is above quota_max_hold_ttl_ms = 60000\n");
  Config config;
  config.quota_max_hold_ttl_ms = 60000;
  EXPECT_EQ(ValidateConfig(config),
            std::vector<std::string>{"quota_default_hold_ttl_ms = 300000 is above quota_max_hold_ttl_ms = 60000"});
  config.quota_default_hold_ttl_ms = 60000;
  EXPECT_EQ(ValidateConfig(config), std::vector<std::string>{});
}

}  // namespace
}  // namespace tally
