// The dashboard end to end, in headless Chromium (Debian's chromium, driven by
// playwright-core from npm, locked in tests/e2e/package-lock.json): starts the
// real tallyd with a named admin token and a read-only token, and runs
// tests/e2e/dashboard_test.js, which seeds it through the API and checks
// every page (filters, sorting, paging, keyboard use, a reset that reaches
// the audit trail, a grant that moves the usage bars, a live alert, the
// read-only token) with no console error and no failed request. Screenshots
// of every page go to <build>/tests/e2e/screenshots.
//
//   ctest -L e2e

#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "tallyd_process.h"

namespace tally::itest {
namespace {

constexpr int kChecks = 19;  // the "ok" lines dashboard_test.js prints when all pass

TEST(DashboardE2eTest, EveryPageInHeadlessChromium) {
  // The page signs in with a named admin token, e2e-ops: the audit trail
  // must show that name for its changes. Compaction every 200 ms: audit
  // records and alerts become readable sooner.
  TempDir secrets;
  const std::string ops_file = secrets.Sub("e2e-ops.token");
  std::ofstream(ops_file) << "e2e-ops-named-secret\n";
  TallydProcess daemon({"--password", "e2e-admin-secret", "--reader-password", "e2e-reader-secret",
                        "--http-named-tokens", "e2e-ops:admin:" + ops_file, "--compaction-interval-ms", "200"});
  ASSERT_TRUE(daemon.Start());
  const std::vector<std::string> argv{
      TALLY_NODE_PATH,        TALLY_E2E_SCRIPT,    "http://127.0.0.1:" + std::to_string(daemon.http_port()),
      "e2e-ops-named-secret", "e2e-reader-secret", TALLY_E2E_SCREENSHOTS,
      TALLY_CHROMIUM_PATH,    TALLY_E2E_MODULES};
  ProcessResult r = RunProcess(argv, {}, std::chrono::seconds(150));
  std::cout << r.out << r.err;
  ASSERT_TRUE(r.started) << r.Describe();
  EXPECT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
  int passed = 0;
  for (const std::string& line : SplitLines(r.out)) passed += line.rfind("ok ", 0) == 0;
  EXPECT_EQ(passed, kChecks) << r.out;
}

}  // namespace
}  // namespace tally::itest
