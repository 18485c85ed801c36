// The descriptor budget and the data dir mode (daemon/resource_limits.h).

#include "resource_limits.h"

#include <gtest/gtest.h>

namespace tally {
namespace {

Config Defaults() {
  Config config;
  config.io_threads = 1;
  return config;
}

TEST(FdBudgetTest, FormulaCountsRocksDbThreadsAndTheProbeReserve) {
  Config config = Defaults();
  FdBudget budget = ComputeFdBudget(config, 10);
  EXPECT_EQ(budget.fixed, kFixedFds + kFdsPerIoThread * 2);  // one RESP and one HTTP thread
  EXPECT_EQ(budget.rocksdb, kRocksDbBaseFds + 20);
  EXPECT_EQ(budget.http_reserve, kHttpProbeConnections);
  config.http_port = 0;
  budget = ComputeFdBudget(config, 0);
  EXPECT_EQ(budget.fixed, kFixedFds + kFdsPerIoThread);
  EXPECT_EQ(budget.http_reserve, 0);
}

TEST(FdBudgetTest, EnoughDescriptorsChangeNothing) {
  Config config = Defaults();
  FdPlan plan = PlanFileDescriptors(config, 1 << 20, 100);
  EXPECT_TRUE(plan.fits);
  EXPECT_FALSE(plan.lowered);
  EXPECT_EQ(plan.max_clients, 10000);
  EXPECT_EQ(plan.http_max_connections, 1024);
  EXPECT_EQ(plan.needed, 10000 + 1024 + ComputeFdBudget(config, 100).Overhead());
}

TEST(FdBudgetTest, LowLimitLowersBothConnectionLimitsInProportion) {
  Config config = Defaults();
  const int64_t overhead = ComputeFdBudget(config, 0).Overhead();
  FdPlan plan = PlanFileDescriptors(config, 256, 0);
  ASSERT_TRUE(plan.fits);
  EXPECT_TRUE(plan.lowered);
  EXPECT_EQ(plan.max_clients + plan.http_max_connections, 256 - overhead);
  EXPECT_EQ(plan.http_max_connections, (256 - overhead) * 1024 / 11024);
  EXPECT_NE(plan.message.find("lowering max_clients from 10000 to " + std::to_string(plan.max_clients)),
            std::string::npos)
      << plan.message;
  EXPECT_NE(plan.message.find("raise the limit to at least " + std::to_string(plan.needed)), std::string::npos);
}

TEST(FdBudgetTest, WithoutHttpEveryDescriptorLeftGoesToClients) {
  Config config = Defaults();
  config.http_port = 0;
  FdPlan plan = PlanFileDescriptors(config, 256, 0);
  EXPECT_EQ(plan.max_clients, 256 - ComputeFdBudget(config, 0).Overhead());
}

TEST(FdBudgetTest, LimitBelowTheOverheadRefusesToStart) {
  Config config = Defaults();
  FdPlan plan = PlanFileDescriptors(config, 64, 0);
  EXPECT_FALSE(plan.fits);
  EXPECT_NE(plan.message.find("is too low to serve any connection"), std::string::npos) << plan.message;
}

TEST(DataDirModeTest, ParsesOctalModesAndDerivesTheUmask) {
  unsigned mode = 0;
  std::string error;
  ASSERT_TRUE(ParseDirMode("0700", &mode, &error));
  EXPECT_EQ(mode, 0700u);
  EXPECT_EQ(UmaskForDirMode(mode), 077u);
  ASSERT_TRUE(ParseDirMode("750", &mode, &error));
  EXPECT_EQ(UmaskForDirMode(mode), 027u);
  for (const char* bad : {"", "70", "0800", "4700", "rwx", "07000", "0500"}) {
    EXPECT_FALSE(ParseDirMode(bad, &mode, &error)) << bad;
    EXPECT_NE(error.find("data_dir_mode"), std::string::npos);
  }
}

}  // namespace
}  // namespace tally
