// Client libraries against tallyd AND a real redis-server, answers compared.
// Each script issues the calls an application makes through its library,
// unchanged, and prints one line per check, "<check> <JSON of the replies>",
// with nothing that depends on the clock:
//
//  - phpredis/laravel_test.php: Laravel's Redis cache store, locks, rate
//    limiter and a KEYS counter-sync job, call for call (phpredis).
//  - redis_py/redis_py_test.py: redis-py's transactional pipeline, WATCH with
//    a retry, Lock (EVALSHA with its SCRIPT LOAD fallback), scan_iter,
//    mset/msetnx, hashes, sorted sets, incrbyfloat.
//  - ioredis/ioredis_redis_test.js: multi(), eval, defineCommand (EVALSHA
//    falling back to EVAL), hashes, a leaderboard, mset.
//
// The test runs the script against a fresh redis-server and a fresh tallyd
// and requires the same lines in the same order, and exit 0 from both runs.
// Against tallyd the script also runs its "tally." checks (tally's own
// commands, which redis-server does not have); those lines are compared with
// the values written here.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "redis_server.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

struct CheckLine {
  std::string name;
  std::string line;  // the whole line, name included
};

// The script's output as (check, line) in order; lines without a space are
// kept whole (they would be a script's own failure message).
std::vector<CheckLine> ParseChecks(const std::string& out) {
  std::vector<CheckLine> checks;
  for (const std::string& line : SplitLines(out)) {
    if (line.empty()) continue;
    checks.push_back({line.substr(0, line.find(' ')), line});
  }
  return checks;
}

bool IsTallyCheck(const CheckLine& check) { return check.name.rfind("tally.", 0) == 0; }

// Runs `command` + port + `extra_args` against redis-server and against
// tallyd (with --tally), and compares: every check line equal, in order; the
// "tally." lines equal to `tally_expected` (check name -> its JSON).
void CompareWithRedis(const std::vector<std::string>& command, const std::vector<std::string>& extra_args,
                      const std::map<std::string, std::string>& tally_expected) {
  RedisServer redis;
  ASSERT_TRUE(redis.Start());
  TallydProcess tallyd;
  ASSERT_TRUE(tallyd.Start());

  auto run = [&](int port, bool tally) {
    std::vector<std::string> argv = command;
    argv.push_back(std::to_string(port));
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    if (tally) argv.push_back("--tally");
    return RunProcess(argv, {}, 90s);
  };
  const ProcessResult from_redis = run(redis.port(), false);
  const ProcessResult from_tally = run(tallyd.port(), true);
  ASSERT_TRUE(from_redis.started) << from_redis.Describe();
  ASSERT_TRUE(from_tally.started) << from_tally.Describe();
  EXPECT_TRUE(from_redis.exited && from_redis.exit_code == 0) << "against redis-server: " << from_redis.Describe();
  EXPECT_TRUE(from_tally.exited && from_tally.exit_code == 0) << "against tallyd: " << from_tally.Describe();

  const std::vector<CheckLine> expected = ParseChecks(from_redis.out);
  std::vector<CheckLine> got;
  std::map<std::string, std::string> tally_got;
  for (CheckLine& check : ParseChecks(from_tally.out)) {
    if (IsTallyCheck(check)) {
      tally_got[check.name] = check.line.substr(check.name.size() + 1);
    } else {
      got.push_back(std::move(check));
    }
  }
  ASSERT_FALSE(expected.empty()) << "no output against redis-server: " << from_redis.Describe();
  for (const CheckLine& check : expected) EXPECT_FALSE(IsTallyCheck(check)) << check.line;

  // Check by check, so one difference does not hide the others.
  int same = 0;
  for (size_t i = 0; i < std::max(expected.size(), got.size()); ++i) {
    const std::string want = i < expected.size() ? expected[i].line : "<no line>";
    const std::string have = i < got.size() ? got[i].line : "<no line>";
    EXPECT_EQ(have, want) << "check " << (i < expected.size() ? expected[i].name : got[i].name)
                          << ": tallyd (first) and redis-server (second) differ";
    same += have == want;
  }
  for (const auto& [name, json] : tally_expected) {
    auto it = tally_got.find(name);
    EXPECT_TRUE(it != tally_got.end()) << "no line for " << name << " against tallyd";
    if (it != tally_got.end()) {
      EXPECT_EQ(it->second, json) << name;
    }
  }
  EXPECT_EQ(tally_got.size(), tally_expected.size());
  std::cout << same << " of " << expected.size() << " checks answered as redis-server does\n";
  if (::testing::Test::HasFailure()) {
    std::cout << "---- against redis-server\n" << from_redis.out << from_redis.err;
    std::cout << "---- against tallyd\n" << from_tally.out << from_tally.err;
  }
}

TEST(ClientsVsRedisTest, LaravelCacheLocksAndRateLimiterThroughPhpredis) {
  CompareWithRedis({TALLY_PHP_PATH, TALLY_PHPREDIS_SCRIPT}, {},
                   {
                       {"tally.ctr_incrby_morph_owner",
                        R"({"result":{"incrby":1,"incrby_5":6,"get":6,"owners":["0",["App\\Models\\Post:1"]]}})"},
                       // FLUSHDB (Laravel's cache:clear) keeps the owner counters.
                       {"tally.ctr_after_flushdb", R"({"result":6})"},
                   });
}

TEST(ClientsVsRedisTest, RedisPyTransactionsLocksHashesAndSortedSets) {
  CompareWithRedis({TALLY_SYSTEM_PYTHON_PATH, TALLY_REDIS_PY_SCRIPT}, {},
                   {{"tally.ctr_incrby", R"({"result": [3, 3]})"}});
}

TEST(ClientsVsRedisTest, IoredisMultiEvalDefineCommandHashesAndSortedSets) {
  CompareWithRedis({TALLY_NODE_PATH, TALLY_IOREDIS_REDIS_SCRIPT}, {TALLY_IOREDIS_MODULES},
                   {{"tally.ctr_incrby_morph_owner", R"({"result":[2,2]})"}});
}

}  // namespace
}  // namespace tally::itest
