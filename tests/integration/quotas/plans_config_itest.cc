// Plans from the config file and the quota settings, against the real tallyd
// (docs/quotas.md "Plans in the config file"): the file's plans are set at
// start and audited once by `config`; a restart with the same file writes
// nothing; a changed plan is set again at the next start or SIGHUP; plans
// made with PLAN.SET stay; an invalid plan stops tallyd with the message;
// --quota-max-amount (or its key) bounds every amount.

#include <gtest/gtest.h>
#include <signal.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "eventually.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

using fixtures::Eventually;

// A field of a map reply (RESP2: a flat array of key, value, ...).
int64_t Int(const RespValue& map, const std::string& name) {
  for (size_t i = 0; i + 1 < map.elements.size(); i += 2) {
    if (map.elements[i].str == name) return map.elements[i + 1].integer;
  }
  ADD_FAILURE() << "no field '" << name << "' in " << map;
  return -1;
}

constexpr const char* kTwoPlans = R"(
[plans.free.features.api_calls]
limit = 1000
period = "month"

[plans.pro.features.api_calls]
limit = 100000
period = "month"
overage = "allow"
alerts = [80, 95, 100]
)";

// One audit row: [seq, time-ms, actor, command, owner, key, details].
struct AuditRow {
  int64_t seq = 0;
  std::string actor;
  std::string command;
  std::string key;
  std::string details;
};

class PlansConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Compaction gives audit rows their seq: often, so AUDIT.READ sees them soon.
    daemon_ = std::make_unique<TallydProcess>(std::vector<std::string>{"--compaction-interval-ms", "50"});
    // The harness starts tallyd with --config <dir>/tally.toml.
    config_path_ = daemon_->dir() + "/tally.toml";
  }
  void WriteConfig(const std::string& text) { std::ofstream(config_path_) << text; }
  RespClient& conn() {
    if (!conn_.connected()) {
      auto client = RespClient::ConnectTcp(daemon_->port());
      EXPECT_TRUE(client.has_value()) << "cannot connect to tallyd on port " << daemon_->port();
      if (client) conn_ = std::move(*client);
    }
    return conn_;
  }
  RespValue Call(const std::vector<std::string>& args) { return conn().Call(args); }
  ::testing::AssertionResult Restart() {
    conn_.Close();
    return daemon_->Restart();
  }

  // Every audit row, once `marker` (a PLAN.SET BY marker made just now) is
  // among them: the plans' changes share one shard, so every change before
  // the marker is visible by then.
  std::vector<AuditRow> AuditUpTo(const std::string& marker) {
    EXPECT_EQ(Call({"PLAN.SET", "marker", R"({"features":{}})", "BY", marker}).str, "OK");
    std::vector<AuditRow> rows;
    const bool seen = Eventually(
        [&] {
          rows.clear();
          RespValue page = Call({"AUDIT.READ", "0", "COUNT", "10000"});
          if (page.type != RespValue::Type::kArray || page.elements.size() != 2) return false;
          bool found = false;
          for (const RespValue& row : page.elements[1].elements) {
            if (row.elements.size() != 7) return false;
            rows.push_back({row.elements[0].integer, row.elements[2].str, row.elements[3].str, row.elements[5].str,
                            row.elements[6].str});
            found = found || rows.back().actor == marker;
          }
          return found;
        },
        std::chrono::seconds(10));
    EXPECT_TRUE(seen) << "the audit row of " << marker << " never appeared";
    return rows;
  }
  static std::vector<AuditRow> ByConfig(const std::vector<AuditRow>& rows) {
    std::vector<AuditRow> out;
    for (const AuditRow& row : rows) {
      if (row.actor == "config") out.push_back(row);
    }
    return out;
  }
  nlohmann::json PlanJson(const std::string& plan) {
    RespValue got = Call({"PLAN.GET", plan});
    EXPECT_EQ(got.type, RespValue::Type::kBulk) << got;
    return got.type == RespValue::Type::kBulk ? nlohmann::json::parse(got.str) : nlohmann::json();
  }
  std::vector<std::string> PlanList() {
    std::vector<std::string> names;
    for (const RespValue& name : Call({"PLAN.LIST"}).elements) names.push_back(name.str);
    return names;
  }

  std::unique_ptr<TallydProcess> daemon_;
  std::string config_path_;
  RespClient conn_;
};

TEST_F(PlansConfigTest, FilePlansAreSetOnceAuditedByConfigAndAChangeIsSetAgain) {
  WriteConfig(kTwoPlans);
  ASSERT_TRUE(daemon_->Start());
  EXPECT_EQ(PlanList(), (std::vector<std::string>{"free", "pro"}));
  EXPECT_EQ(PlanJson("free"), nlohmann::json::parse(R"({"plan": "free", "features": {"api_calls":
      {"limit": 1000, "period": "month", "overage": "reject", "alerts": [80, 95, 100]}}})"));
  EXPECT_EQ(PlanJson("pro"), nlohmann::json::parse(R"({"plan": "pro", "features": {"api_calls":
      {"limit": 100000, "period": "month", "overage": "allow", "alerts": [80, 95, 100]}}})"));
  std::vector<AuditRow> config_rows = ByConfig(AuditUpTo("first-start"));
  ASSERT_EQ(config_rows.size(), 2u);
  EXPECT_EQ(config_rows[0].key, "free");
  EXPECT_EQ(config_rows[1].key, "pro");
  for (const AuditRow& row : config_rows) {
    EXPECT_EQ(row.command, "PLAN.SET");
    EXPECT_EQ(row.details, R"({"replaced":false})");
  }
  // A plan made over the API, not in the file: kept across restarts.
  ASSERT_EQ(Call({"PLAN.SET", "api-only", R"({"features":{"seats":{"limit":3}}})", "BY", "ops"}).str, "OK");

  // The same file again: nothing is written.
  ASSERT_TRUE(Restart());
  EXPECT_EQ(PlanList(), (std::vector<std::string>{"api-only", "free", "marker", "pro"}));
  EXPECT_EQ(ByConfig(AuditUpTo("second-start")).size(), 2u) << "a restart with the same file audited a plan";
  EXPECT_TRUE(Contains(daemon_->ReadLog(), "2 plan(s) of the config file already as stored")) << daemon_->LogTail();

  // One limit changed: set again, one audit row, and the new limit applies.
  std::string changed = kTwoPlans;
  changed.replace(changed.find("limit = 1000\n"), 13, "limit = 5\n");
  WriteConfig(changed);
  ASSERT_TRUE(Restart());
  EXPECT_EQ(PlanJson("free")["features"]["api_calls"]["limit"], 5);
  std::vector<AuditRow> after = ByConfig(AuditUpTo("third-start"));
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[2].key, "free");
  EXPECT_EQ(after[2].details, R"({"replaced":true})");
  ASSERT_EQ(Call({"PLAN.ASSIGN", "user:1", "free"}).str, "OK");
  EXPECT_EQ(Int(Call({"QUOTA.CONSUME", "user:1", "api_calls", "5"}), "allowed"), 1);
  RespValue refused = Call({"QUOTA.CONSUME", "user:1", "api_calls", "1"});
  EXPECT_EQ(Int(refused, "allowed"), 0) << "past the new limit: " << refused;
  EXPECT_EQ(PlanJson("api-only")["features"]["seats"]["limit"], 3);
}

TEST_F(PlansConfigTest, SighupSetsAChangedPlanAndKeepsTheRunningOnesOnAnInvalidFile) {
  WriteConfig(kTwoPlans);
  ASSERT_TRUE(daemon_->Start());
  std::string changed = kTwoPlans;
  changed.replace(changed.find("limit = 100000\n"), 15, "limit = 7\n");
  WriteConfig(changed + "\n[plans.team.features.seats]\nlimit = \"unlimited\"\n");
  ASSERT_EQ(::kill(daemon_->pid(), SIGHUP), 0);
  EXPECT_TRUE(Eventually([&] { return Call({"PLAN.GET", "team"}).type == RespValue::Type::kBulk; }));
  EXPECT_EQ(PlanJson("pro")["features"]["api_calls"]["limit"], 7);
  EXPECT_TRUE(PlanJson("team")["features"]["seats"]["limit"].is_null());
  std::vector<AuditRow> rows = ByConfig(AuditUpTo("after-reload"));
  ASSERT_EQ(rows.size(), 4u) << "free and pro at start, then pro and team";
  EXPECT_EQ(rows[2].key, "pro");
  EXPECT_EQ(rows[3].key, "team");

  // An invalid plan: the reload changes nothing and says why.
  WriteConfig("[plans.pro.features.api_calls]\nlimit = -1\n");
  ASSERT_EQ(::kill(daemon_->pid(), SIGHUP), 0);
  EXPECT_TRUE(Eventually([&] { return Contains(daemon_->ReadLog(), "reload failed"); })) << daemon_->LogTail();
  EXPECT_TRUE(
      Contains(daemon_->ReadLog(), "invalid plan 'pro': feature 'api_calls' of plan 'pro': limit -1 is negative"))
      << daemon_->LogTail();
  EXPECT_EQ(PlanJson("pro")["features"]["api_calls"]["limit"], 7);
  EXPECT_TRUE(daemon_->Alive());
}

TEST_F(PlansConfigTest, AnInvalidPlanStopsTallydWithTheFileThePlanAndTheKey) {
  WriteConfig("port = 0\n\n[plans.pro.features.api_calls]\nlimit = 10\nlimt = 10\n");
  ProcessResult run = RunProcess({TallydPath(), "--config", config_path_, "--data-dir", daemon_->data_dir(),
                                  "--http-port", "0", "--unix-socket", "none"},
                                 {}, std::chrono::seconds(30));
  ASSERT_TRUE(run.exited) << run.Describe();
  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  EXPECT_EQ(run.err, "tallyd: bad config: " + config_path_ +
                         ":3: invalid plan 'pro': feature 'api_calls': unknown key 'limt' (limit, period, overage, "
                         "alerts)\n");
}

TEST_F(PlansConfigTest, QuotaMaxAmountFlagRefusesLargerAmounts) {
  WriteConfig(kTwoPlans);
  daemon_->set_extra_args({"--quota-max-amount", "100"});
  ASSERT_TRUE(daemon_->Start());
  ASSERT_EQ(Call({"PLAN.ASSIGN", "user:1", "pro"}).str, "OK");
  RespValue refused = Call({"QUOTA.CONSUME", "user:1", "api_calls", "101"});
  ASSERT_TRUE(refused.is_error()) << refused;
  EXPECT_EQ(refused.str, "ERR amount must be between 1 and 100");
  EXPECT_EQ(Call({"CREDIT.GRANT", "user:1", "api_calls", "101"}).str, "ERR amount must be between 1 and 100");
  EXPECT_EQ(Call({"QUOTA.RESERVE", "user:1", "api_calls", "101"}).str, "ERR amount must be between 1 and 100");
  RespValue allowed = Call({"QUOTA.CONSUME", "user:1", "api_calls", "100"});
  EXPECT_EQ(Int(allowed, "allowed"), 1) << allowed;
  EXPECT_EQ(Int(allowed, "used"), 100) << allowed;
}

TEST_F(PlansConfigTest, QuotaSettingsFromTheFile) {
  WriteConfig("quota_max_amount = 100\nquota_max_hold_ttl_ms = 60000\nquota_default_hold_ttl_ms = 1000\n" +
              std::string(kTwoPlans));
  ASSERT_TRUE(daemon_->Start());
  ASSERT_EQ(Call({"PLAN.ASSIGN", "user:1", "pro"}).str, "OK");
  EXPECT_EQ(Call({"QUOTA.CONSUME", "user:1", "api_calls", "101"}).str, "ERR amount must be between 1 and 100");
  EXPECT_EQ(Call({"QUOTA.RESERVE", "user:1", "api_calls", "5", "TTL", "60001"}).str,
            "ERR TTL must be between 1 and 60000");
  // A hold without TTL expires after the default (1 s here) and frees its units.
  RespValue held = Call({"QUOTA.RESERVE", "user:1", "api_calls", "5"});
  ASSERT_EQ(held.type, RespValue::Type::kArray) << held;
  auto held_now = [&] {
    RespValue usage = Call({"QUOTA.USAGE", "user:1", "api_calls"});
    return usage.elements.size() == 1 ? Int(usage.elements[0], "held") : int64_t{-1};
  };
  EXPECT_EQ(held_now(), 5);
  EXPECT_TRUE(Eventually([&] { return held_now() == 0; }, std::chrono::seconds(10)));
}

}  // namespace
}  // namespace tally::itest
