#pragma once
// The fixture the quota integration tests share: a real tallyd that compacts
// often (alerts and audit rows become readable at compaction), one RESP
// connection, and a plan to put owners on.

#include <string>
#include <utility>
#include <vector>

#include "tallyd_process.h"

namespace tally::itest {

class QuotaDaemonTest : public TallydTest {
 protected:
  // `plan_json`: PLAN.SET's JSON of the plan "pro" that SetUpPlan assigns.
  QuotaDaemonTest(std::string compaction_interval_ms, std::string plan_json)
      : compaction_interval_ms_(std::move(compaction_interval_ms)), plan_json_(std::move(plan_json)) {}

  std::vector<std::string> ExtraArgs() const override { return {"--compaction-interval-ms", compaction_interval_ms_}; }
  RespClient& conn() {
    if (!conn_.connected()) conn_ = Connect();
    return conn_;
  }
  RespValue Call(const std::vector<std::string>& args) { return conn().Call(args); }
  void SetUpPlan(const std::string& owner) {
    ASSERT_EQ(Call({"PLAN.SET", "pro", plan_json_}).str, "OK");
    ASSERT_EQ(Call({"PLAN.ASSIGN", owner, "pro"}).str, "OK");
  }

  RespClient conn_;

 private:
  const std::string compaction_interval_ms_;
  const std::string plan_json_;
};

}  // namespace tally::itest
