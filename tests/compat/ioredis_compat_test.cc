// ioredis (npm), unchanged, against the real tallyd: the script
// tests/compat/ioredis/ioredis_test.js connects (CLIENT SETNAME, SELECT 0 and
// INFO's ready check), runs plain commands, errors, a 500-command pipeline,
// 1,000 concurrent commands, scanStream and the CTR.* commands through
// call(), and exits non-zero at the first failed check. A second script,
// tests/compat/ioredis/ioredis_pubsub_test.js, listens to quota alerts with
// subscribe('alerts') and on('message').

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tallyd_process.h"

namespace tally::itest {
namespace {

// Runs one ioredis script against `daemon` and expects `checks` "ok" lines
// and a clean exit (the script stops at its first failed check).
void RunScript(const TallydProcess& daemon, const char* script, std::vector<std::string> extra_args, int checks) {
  std::vector<std::string> argv{TALLY_NODE_PATH, script, std::to_string(daemon.port()), TALLY_IOREDIS_MODULES};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  ProcessResult r = RunProcess(argv, {}, 90s);
  ASSERT_TRUE(r.started) << r.Describe();
  EXPECT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
  int passed = 0;
  for (const std::string& line : SplitLines(r.out)) passed += line.rfind("ok ", 0) == 0;
  EXPECT_EQ(passed, checks) << r.out;
  std::cout << r.out;
}

TEST(IoredisCompatTest, IoredisWorksUnchanged) {
  TallydProcess daemon;
  ASSERT_TRUE(daemon.Start());
  RunScript(daemon, TALLY_IOREDIS_SCRIPT, {}, 13);
}

// Alerts become readable at compaction: a short interval keeps the test short.
TEST(IoredisCompatTest, IoredisHearsQuotaAlerts) {
  TallydProcess daemon({"--compaction-interval-ms", "100"});
  ASSERT_TRUE(daemon.Start());
  RunScript(daemon, TALLY_IOREDIS_PUBSUB_SCRIPT, {}, 6);
}

// A daemon with a password and a reader password: ioredis's `password` and
// `username` options authenticate as they do against redis-server.
TEST(IoredisCompatTest, IoredisAuthenticatesAsDefaultAndReader) {
  TallydProcess daemon({"--password", "compat-admin-pw", "--reader-password", "compat-reader-pw"});
  ASSERT_TRUE(daemon.Start());
  RunScript(daemon, TALLY_IOREDIS_AUTH_SCRIPT, {"compat-admin-pw", "compat-reader-pw"}, 5);
}

}  // namespace
}  // namespace tally::itest
