// The `tally` command-line client against the real tallyd: every subcommand's
// text and --json output on seeded data, over the unix socket and TCP, with
// and without a password, the reader user refused a write, a daemon that is
// not running, usage errors, --help built from the subcommand table, and the
// two feeds followed by a `tally tail` started before the change it prints.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "tallyd_process.h"

extern char** environ;

namespace tally::itest {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// `tally` with a clean environment: no TALLY_* variable of the machine
// running the tests leaks in; `env` adds the ones a test sets.
std::vector<std::string> TallyArgv(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv{"env"};
  for (const char* name : {"TALLY_SOCKET", "TALLY_HOST", "TALLY_PORT", "TALLY_PASSWORD", "TALLY_USER"}) {
    argv.insert(argv.end(), {"-u", name});
  }
  argv.insert(argv.end(), env.begin(), env.end());
  argv.push_back(TALLY_CLI_PATH);
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

ProcessResult Tally(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  return RunProcess(TallyArgv(args, env), {}, 20s);
}

// Today's and earlier days' labels in UTC (the daemon's default time zone).
std::string DayLabel(int days_ago) {
  const std::time_t when = std::time(nullptr) - static_cast<std::time_t>(days_ago) * 86400;
  std::tm utc{};
  gmtime_r(&when, &utc);
  char text[16];
  std::strftime(text, sizeof(text), "%Y-%m-%d", &utc);
  return text;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Json ParseJson(const std::string& text) {
  Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(value.is_discarded()) << "not JSON: " << text;
  return value;
}

// A `tally` left running (tail) while the test acts: its stderr can be
// waited on, then it is waited for (or killed at the deadline).
class BackgroundTally {
 public:
  explicit BackgroundTally(const std::vector<std::string>& args) {
    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    std::vector<std::string> storage = TallyArgv(args);
    std::vector<char*> argv;
    for (std::string& arg : storage) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    out_fd_ = out_pipe[0];
    err_fd_ = err_pipe[0];
    if (rc != 0) pid_ = -1;
  }
  ~BackgroundTally() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    if (err_fd_ >= 0) ::close(err_fd_);
  }

  bool started() const { return pid_ > 0; }
  const std::string& err() const { return err_; }
  const std::string& out() const { return out_; }

  // Reads until stderr holds `text`; false at EOF of both pipes or the timeout.
  bool WaitForStderr(std::string_view text, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (err_.find(text) == std::string::npos) {
      if (Clock::now() >= deadline || !ReadSome(deadline)) return false;
    }
    return true;
  }

  // Reads to EOF and waits for the exit, killing it at the deadline.
  ProcessResult Finish(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline && ReadSome(deadline)) {
    }
    ProcessResult result;
    result.started = pid_ > 0;
    if (pid_ > 0) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == 0) {
        result.timed_out = true;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
      }
      pid_ = -1;
      result.exited = WIFEXITED(status);
      result.exit_code = result.exited ? WEXITSTATUS(status) : -1;
      result.term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
    result.out = out_;
    result.err = err_;
    return result;
  }

 private:
  // One poll of both pipes; false once both are at EOF or the deadline passed.
  bool ReadSome(Clock::time_point deadline) {
    pollfd fds[2];
    int n = 0;
    if (out_fd_ >= 0) fds[n++] = {out_fd_, POLLIN, 0};
    if (err_fd_ >= 0) fds[n++] = {err_fd_, POLLIN, 0};
    if (n == 0) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0 || ::poll(fds, n, static_cast<int>(left)) <= 0) return false;
    char buffer[4096];
    for (int i = 0; i < n; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP)) == 0) continue;
      int& fd = fds[i].fd == out_fd_ ? out_fd_ : err_fd_;
      std::string& sink = fds[i].fd == out_fd_ ? out_ : err_;
      const ssize_t got = ::read(fd, buffer, sizeof(buffer));
      if (got > 0) {
        sink.append(buffer, static_cast<size_t>(got));
      } else {
        ::close(fd);
        fd = -1;
      }
    }
    return true;
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
};

// A daemon that compacts every 100 ms, so the changefeed has a change's
// records soon after it is made.
class CliClientTest : public TallydTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--compaction-interval-ms", "100"}; }

  std::vector<std::string> Tcp() const { return {"-h", "127.0.0.1", "-p", std::to_string(port())}; }
  std::vector<std::string> Unix() { return {"-s", daemon().unix_socket()}; }
  // `tally <connection> <args>`, expected to exit 0; its stdout.
  std::string Run(const std::vector<std::string>& connection, const std::vector<std::string>& args) {
    std::vector<std::string> argv = connection;
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult r = Tally(argv);
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
    EXPECT_EQ(r.err, "") << r.Describe();
    return r.out;
  }
  void Send(const std::vector<std::string>& command) {
    RespClient client = Connect();
    RespValue reply = client.Call(command);
    ASSERT_TRUE(reply.ok() && !reply.is_error()) << reply;
  }
};

// ---------------------------------------------------------------------------
// Help and usage

TEST(CliClientHelp, HelpListsEverySubcommandOfTheTable) {
  ProcessResult top = Tally({"--help"});
  ASSERT_TRUE(top.exited) << top.Describe();
  EXPECT_EQ(top.exit_code, 0) << top.Describe();
  for (const char* text : {"--socket", "--host", "--port", "--password", "--user", "--json", "TALLY_PASSWORD",
                           "TALLY_SOCKET", "Exit status"}) {
    EXPECT_TRUE(Contains(top.out, text)) << "tally --help lacks " << text << ":\n" << top.out;
  }
  ASSERT_GE(cli::Subcommands().size(), 12u);
  for (const cli::SubcommandSpec& spec : cli::Subcommands()) {
    SCOPED_TRACE(std::string(spec.path));
    EXPECT_GE(spec.description.size(), 20u) << "a subcommand without a real description";
    // Listed, with its description, in its parent's help.
    const size_t space = spec.path.rfind(' ');
    const std::string name(space == std::string_view::npos ? spec.path : spec.path.substr(space + 1));
    std::vector<std::string> parent_help;
    if (space != std::string_view::npos) parent_help.push_back(std::string(spec.path.substr(0, space)));
    parent_help.push_back("--help");
    const ProcessResult listing = Tally(parent_help);
    EXPECT_EQ(listing.exit_code, 0) << listing.Describe();
    EXPECT_TRUE(Contains(listing.out, "  " + name + " ")) << listing.out;
    EXPECT_TRUE(Contains(listing.out, std::string(spec.description))) << listing.out;
    // Its own --help, with the same description.
    std::vector<std::string> own;
    size_t start = 0;
    while (start <= spec.path.size()) {
      const size_t end = std::min(spec.path.find(' ', start), spec.path.size());
      own.push_back(std::string(spec.path.substr(start, end - start)));
      start = end + 1;
    }
    own.push_back("--help");
    const ProcessResult help = Tally(own);
    EXPECT_EQ(help.exit_code, 0) << help.Describe();
    EXPECT_TRUE(Contains(help.out, std::string(spec.description))) << help.out;
    EXPECT_TRUE(Contains(help.out, "Usage")) << help.out;
  }
  // A subcommand's help shows its own options.
  EXPECT_TRUE(Contains(Tally({"history", "--help"}).out, "--count"));
  EXPECT_TRUE(Contains(Tally({"tail", "changes", "--help"}).out, "--since"));
}

TEST(CliClientHelp, UsageErrorsExitTwoWithOneLine) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"nosuch"},
           {"get", "only-an-owner"},
           {"incr", "user:1", "k", "notanumber"},
           {"history", "user:1", "k", "--count", "0"},
           {"-s", "/tmp/x.sock", "-p", "6380", "stats"},
           {"tail"},
       }) {
    ProcessResult r = Tally(args);
    SCOPED_TRACE(r.Describe());
    EXPECT_TRUE(r.exited);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("tally: ", 0), 0u);
    EXPECT_EQ(SplitLines(Trim(r.err)).size(), 1u);
  }
  ProcessResult user_without_password = Tally({"--user", "reader", "-p", "6380", "stats"});
  EXPECT_EQ(user_without_password.exit_code, 2) << user_without_password.Describe();
  EXPECT_TRUE(Contains(user_without_password.err, "needs a password")) << user_without_password.Describe();
}

// ---------------------------------------------------------------------------
// A daemon that is not there

TEST(CliClientNoDaemon, ANotRunningDaemonIsOneClearLineAndExitThree) {
  TempDir dir;
  const std::string socket = dir.path() + "/tally.sock";
  ProcessResult r = Tally({"-s", socket, "get", "user:1", "downloads"});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_EQ(r.err, "tally: cannot connect to " + socket + ": no such file (is tallyd running?)\n");
  EXPECT_EQ(r.out, "");

  // The same through TALLY_SOCKET.
  r = Tally({"stats"}, {"TALLY_SOCKET=" + socket});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_EQ(r.err, "tally: cannot connect to " + socket + ": no such file (is tallyd running?)\n");

  const int port = PickFreePort();
  r = Tally({"-p", std::to_string(port), "stats"});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_EQ(r.err, "tally: cannot connect to 127.0.0.1:" + std::to_string(port) +
                       ": connection refused (is tallyd running?)\n");
}

// ---------------------------------------------------------------------------
// Counters

TEST_F(CliClientTest, GetAndIncrOverTheUnixSocketAndTcp) {
  struct Step {
    std::vector<std::string> connection;
    std::vector<std::string> after;  // the totals after +1, +1234567, -2
    int64_t total;
  };
  for (const Step& step : {Step{Unix(), {"1\n", "1,234,568\n", "1,234,566\n"}, 1234566},
                           Step{Tcp(), {"1,234,567\n", "2,469,134\n", "2,469,132\n"}, 2469132}}) {
    SCOPED_TRACE(step.connection[0]);
    EXPECT_EQ(Run(step.connection, {"incr", "user:1", "downloads"}), step.after[0]);
    EXPECT_EQ(Run(step.connection, {"incr", "user:1", "downloads", "1234567"}), step.after[1]);
    EXPECT_EQ(Run(step.connection, {"incr", "user:1", "downloads", "-2"}), step.after[2]);
    EXPECT_EQ(Run(step.connection, {"get", "user:1", "downloads"}), step.after[2]);
    EXPECT_EQ(ParseJson(Run(step.connection, {"get", "user:1", "downloads", "--json"})), Json({{"owner", "user:1"},
                                                                                               {"key", "downloads"},
                                                                                               {"interval", "total"},
                                                                                               {"period", "total"},
                                                                                               {"value", step.total}}));
  }
  // --json before the subcommand works as well; an ID counts a retry once.
  Json first = ParseJson(Run(Tcp(), {"--json", "incr", "user:1", "uploads", "5", "--id", "evt-1"}));
  EXPECT_EQ(first, Json({{"owner", "user:1"}, {"key", "uploads"}, {"delta", 5}, {"total", 5}}));
  EXPECT_EQ(ParseJson(Run(Tcp(), {"--json", "incr", "user:1", "uploads", "5", "--id", "evt-1"}))["total"], 5);
  // One period of an interval.
  EXPECT_EQ(Run(Tcp(), {"get", "user:1", "uploads", "--interval", "day", "--period", DayLabel(0)}), "5\n");
  Json day = ParseJson(Run(Tcp(), {"get", "user:1", "uploads", "--interval", "day", "--json"}));
  EXPECT_EQ(day["period"], "current");
  EXPECT_EQ(day["value"], 5);
}

TEST_F(CliClientTest, AServerErrorIsPrintedAndExitsOne) {
  ProcessResult r =
      Tally({"-p", std::to_string(port()), "get", "user:1", "k", "--interval", "day", "--period", "nope"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "tally: ERR invalid period 'nope' for interval 'day' (expected e.g. '2024-12-04' or 'current')\n");
  r = Tally({"-p", std::to_string(port()), "--json", "incr", "user:1", "k", "9223372036854775807"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  r = Tally({"-p", std::to_string(port()), "--json", "incr", "user:1", "k", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(Contains(r.err, "overflow")) << r.Describe();
}

TEST_F(CliClientTest, AllListsAnOwnersCountersAsATableAndJson) {
  Send({"CTR.INCRBY", "team:7", "api_calls", "1500000"});
  Send({"CTR.INCRBY", "team:7", "seats", "3"});
  EXPECT_EQ(Run(Unix(), {"all", "team:7"}),
            "KEY            VALUE\n"
            "api_calls  1,500,000\n"
            "seats              3\n");
  EXPECT_EQ(ParseJson(Run(Unix(), {"all", "team:7", "--json"})),
            Json({{"owner", "team:7"},
                  {"interval", "total"},
                  {"period", "total"},
                  {"counters", {{"api_calls", 1500000}, {"seats", 3}}}}));
  EXPECT_EQ(Run(Unix(), {"all", "team:nobody"}), "no counters for team:nobody\n");
  EXPECT_EQ(ParseJson(Run(Unix(), {"all", "team:nobody", "--json"}))["counters"], Json::object());
}

TEST_F(CliClientTest, HistoryChartsOneBarPerPeriodOldestFirst) {
  Send({"CTR.INCRBY", "user:1", "downloads", "8"});
  Send({"CTR.INCRBY", "user:1", "downloads", "4", "AT", std::to_string(NowMs() - 86'400'000)});
  const std::string chart = Run(Tcp(), {"history", "user:1", "downloads", "--interval", "day", "--count", "3"});
  const std::vector<std::string> lines = SplitLines(chart);
  ASSERT_EQ(lines.size(), 4u) << chart;
  EXPECT_EQ(lines[0], "PERIOD      VALUE");
  EXPECT_EQ(lines[1], DayLabel(2) + "      0");
  // Bars scale to the largest value: 40 cells for 8, 20 for 4.
  std::string full, half;
  for (int i = 0; i < 40; ++i) full += "█";
  for (int i = 0; i < 20; ++i) half += "█";
  EXPECT_EQ(lines[2], DayLabel(1) + "      4  " + half);
  EXPECT_EQ(lines[3], DayLabel(0) + "      8  " + full);

  Json json = ParseJson(Run(Tcp(), {"history", "user:1", "downloads", "--count", "3", "--json"}));
  EXPECT_EQ(json["interval"], "day");
  ASSERT_EQ(json["periods"].size(), 3u) << json;
  EXPECT_EQ(json["periods"][0]["period"], DayLabel(2));
  EXPECT_EQ(json["periods"][1]["value"], 4);
  EXPECT_EQ(json["periods"][2]["period"], DayLabel(0));
  EXPECT_EQ(json["periods"][2]["value"], 8);
  EXPECT_EQ(json["periods"][2]["start_ms"].get<int64_t>() - json["periods"][1]["start_ms"].get<int64_t>(), 86'400'000);

  EXPECT_EQ(Run(Tcp(), {"history", "user:1", "downloads", "--count", "3", "--sparkline"}),
            "▁▅█  " + DayLabel(2) + " .. " + DayLabel(0) + "  max 8, sum 12\n");
}

TEST_F(CliClientTest, TopRanksOwnersHighestFirst) {
  Send({"CTR.INCRBY", "user:1", "downloads", "1200"});
  Send({"CTR.INCRBY", "user:2", "downloads", "35"});
  Send({"CTR.INCRBY", "user:3", "downloads", "7000"});
  EXPECT_EQ(Run(Unix(), {"top", "downloads"}),
            "RANK  OWNER   VALUE\n"
            "   1  user:3  7,000\n"
            "   2  user:1  1,200\n"
            "   3  user:2     35\n");
  EXPECT_EQ(Run(Unix(), {"top", "downloads", "--interval", "day", "--limit", "1"}),
            "RANK  OWNER   VALUE\n"
            "   1  user:3  7,000\n");
  EXPECT_EQ(
      ParseJson(Run(Unix(), {"top", "downloads", "--interval", "month", "--limit", "2", "--offset", "1", "--json"})),
      Json({{"key", "downloads"},
            {"interval", "month"},
            {"period", "current"},
            {"owners",
             {{{"rank", 2}, {"owner", "user:1"}, {"value", 1200}},
              {{"rank", 3}, {"owner", "user:2"}, {"value", 35}}}}}));
}

TEST_F(CliClientTest, StatsShowsTheKeyFiguresAndJsonHasEveryInfoField) {
  const std::string text = Run(Tcp(), {"stats"});
  for (const char* figure :
       {"version", "uptime", "durability", "clients", "memory used", "log", "commands processed"}) {
    EXPECT_TRUE(Contains(text, std::string("\n") + figure + " ")) << "no " << figure << " in:\n" << text;
  }
  Json json = ParseJson(Run(Tcp(), {"stats", "--json"}));
  EXPECT_TRUE(json["server"]["tally_version"].is_string()) << json;
  EXPECT_EQ(json["server"]["tcp_port"], port());
  EXPECT_TRUE(json["stats"]["total_commands_processed"].is_number_integer()) << json;
  EXPECT_EQ(json["persistence"]["log_status"], "ok");
  const std::string all = Run(Tcp(), {"stats", "--all"});
  EXPECT_TRUE(Contains(all, "compaction_runs")) << all;
}

// ---------------------------------------------------------------------------
// Plans, quotas and credits

TEST_F(CliClientTest, PlansUsageAndGrant) {
  EXPECT_EQ(Run(Tcp(), {"plans"}), "no plans (PLAN.SET, or [plans] in tally.toml, defines them)\n");
  Send({"PLAN.SET", "free",
        R"({"features": {"api_calls": {"limit": 1000, "period": "month", "alerts": [80, 100]}, )"
        R"("seats": {"limit": null, "period": "total"}}})"});
  Send({"PLAN.ASSIGN", "team:7", "free"});
  Send({"QUOTA.CONSUME", "team:7", "api_calls", "250"});

  EXPECT_EQ(Run(Tcp(), {"plans"}),
            "PLAN  FEATURE        LIMIT  PERIOD  OVERAGE  ALERTS\n"
            "free  api_calls      1,000  month   reject   80%,100%\n"
            "free  seats      unlimited  total   reject   80%,95%,100%\n");
  Json plans = ParseJson(Run(Tcp(), {"plans", "--json"}));
  ASSERT_EQ(plans["plans"].size(), 1u) << plans;
  EXPECT_EQ(plans["plans"][0]["plan"], "free");
  EXPECT_EQ(plans["plans"][0]["features"]["api_calls"]["limit"], 1000);
  EXPECT_TRUE(plans["plans"][0]["features"]["seats"]["limit"].is_null());

  EXPECT_EQ(
      Run(Tcp(), {"grant", "team:7", "api_calls", "5000", "--in", "1mo", "--reason", "top-up pack", "--id", "order-1"}),
      "granted 5,000 api_calls to team:7: grant order-1\n");
  EXPECT_EQ(ParseJson(Run(Tcp(), {"grant", "team:7", "seats", "2", "--json"})),
            Json({{"owner", "team:7"}, {"feature", "seats"}, {"amount", 2}, {"grant", "g1"}}));

  const std::vector<std::string> usage = SplitLines(Run(Tcp(), {"usage", "team:7"}));
  ASSERT_EQ(usage.size(), 3u);
  EXPECT_EQ(usage[0], "FEATURE    USED      LIMIT  REMAINING  CREDITS  HELD  OVERAGE  PERIOD  RESETS");
  EXPECT_EQ(usage[1].rfind("api_calls   250      1,000      5,750    5,000     0        0  month   ", 0), 0u)
      << usage[1];
  EXPECT_EQ(usage[2], "seats         0  unlimited  unlimited        2     0        0  total   never");
  Json json = ParseJson(Run(Tcp(), {"usage", "team:7", "api_calls", "--json"}));
  ASSERT_EQ(json["features"].size(), 1u) << json;
  EXPECT_EQ(json["owner"], "team:7");
  EXPECT_EQ(json["features"][0]["feature"], "api_calls");
  EXPECT_EQ(json["features"][0]["used"], 250);
  EXPECT_EQ(json["features"][0]["remaining"], 5750);
  EXPECT_TRUE(json["features"][0]["resets_at"].is_number_integer()) << json;

  ProcessResult no_plan = Tally({"-p", std::to_string(port()), "usage", "team:none"});
  EXPECT_EQ(no_plan.exit_code, 1) << no_plan.Describe();
  EXPECT_EQ(no_plan.err, "tally: ERR the owner has no plan (PLAN.ASSIGN) and no credits for this feature\n");
}

// ---------------------------------------------------------------------------
// The feeds

TEST_F(CliClientTest, TailChangesPrintsAChangeMadeAfterItStarted) {
  // Something older that must not show: compacted before the tail starts.
  Send({"CTR.INCRBY", "user:1", "old", "1"});
  for (int i = 0; i < 100; ++i) {
    RespClient client = Connect();
    if (Contains(client.Call({"CHANGES.READ", "0", "COUNT", "1"}).ToString(), "old")) break;
    std::this_thread::sleep_for(50ms);
  }
  BackgroundTally tail({"-s", daemon().unix_socket(), "tail", "changes", "--count", "2", "--poll-ms", "50"});
  ASSERT_TRUE(tail.started());
  ASSERT_TRUE(tail.WaitForStderr("(Ctrl-C to stop)", 10s)) << tail.err();
  Send({"CTR.INCRBY", "user:9", "tailkey", "4"});
  ProcessResult r = tail.Finish(15s);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  const std::vector<std::string> lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.Describe();
  // The counter's total, then its hour cell.
  EXPECT_TRUE(Contains(lines[0], "  user:9 tailkey total total = 4")) << r.out;
  EXPECT_TRUE(Contains(lines[1], "  user:9 tailkey hour ")) << r.out;
  EXPECT_FALSE(Contains(r.out, "old")) << r.out;

  // --since replays from a cursor; --json is one object per line.
  ProcessResult replay = Tally(
      {"-p", std::to_string(port()), "tail", "changes", "--since", "0", "--count", "3", "--json", "--poll-ms", "50"});
  EXPECT_EQ(replay.exit_code, 0) << replay.Describe();
  const std::vector<std::string> rows = SplitLines(replay.out);
  ASSERT_EQ(rows.size(), 3u) << replay.Describe();
  for (size_t i = 0; i < rows.size(); ++i) {
    const Json row = ParseJson(rows[i]);
    EXPECT_EQ(row["seq"], static_cast<int64_t>(i + 1));
    EXPECT_EQ(row["owner"], "user:1");
    EXPECT_EQ(row["key"], "old");
    EXPECT_EQ(row["value"], 1);
    EXPECT_EQ(row["deleted"], false);
  }
  EXPECT_EQ(Json::parse(rows[0])["interval"], "total");
}

TEST_F(CliClientTest, TailAlertsPrintsAnAlertRaisedAfterItStarted) {
  Send({"PLAN.SET", "free", R"({"features": {"api_calls": {"limit": 1000, "period": "month", "alerts": [50, 90]}}})"});
  Send({"PLAN.ASSIGN", "team:1", "free"});
  Send({"PLAN.ASSIGN", "team:2", "free"});
  {
    BackgroundTally tail({"-p", std::to_string(port()), "tail", "alerts", "--count", "1"});
    ASSERT_TRUE(tail.WaitForStderr("listening for alerts", 10s)) << tail.err();
    Send({"QUOTA.CONSUME", "team:1", "api_calls", "600"});
    ProcessResult r = tail.Finish(15s);
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    EXPECT_TRUE(Contains(r.out, "threshold 50%: team:1 api_calls used 600 of 1,000 (month)")) << r.Describe();
    EXPECT_EQ(SplitLines(r.out).size(), 1u) << r.out;
  }
  {
    BackgroundTally tail({"-s", daemon().unix_socket(), "tail", "alerts", "--count", "2", "--json"});
    ASSERT_TRUE(tail.WaitForStderr("listening for alerts", 10s)) << tail.err();
    Send({"QUOTA.CONSUME", "team:2", "api_calls", "950"});  // crosses 50 and 90: two alerts
    ProcessResult r = tail.Finish(15s);
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    const std::vector<std::string> lines = SplitLines(r.out);
    ASSERT_EQ(lines.size(), 2u) << r.Describe();
    const Json first = ParseJson(lines[0]), second = ParseJson(lines[1]);
    EXPECT_EQ(first["kind"], "threshold");
    EXPECT_EQ(first["owner"], "team:2");
    EXPECT_EQ(first["used"], 950);
    EXPECT_EQ(Json::array({first["threshold"], second["threshold"]}), Json::array({50, 90}));
  }
}

// ---------------------------------------------------------------------------
// The environment

TEST_F(CliClientTest, TheEnvironmentNamesTheDaemon) {
  Send({"CTR.INCRBY", "user:1", "k", "42"});
  ProcessResult by_socket = Tally({"get", "user:1", "k"}, {"TALLY_SOCKET=" + daemon().unix_socket()});
  EXPECT_EQ(by_socket.exit_code, 0) << by_socket.Describe();
  EXPECT_EQ(by_socket.out, "42\n");
  ProcessResult by_port =
      Tally({"get", "user:1", "k"}, {"TALLY_HOST=127.0.0.1", "TALLY_PORT=" + std::to_string(port())});
  EXPECT_EQ(by_port.exit_code, 0) << by_port.Describe();
  EXPECT_EQ(by_port.out, "42\n");
  // A flag wins over the environment.
  ProcessResult flag_wins =
      Tally({"-p", std::to_string(port()), "get", "user:1", "k"}, {"TALLY_SOCKET=/nonexistent/tally.sock"});
  EXPECT_EQ(flag_wins.exit_code, 0) << flag_wins.Describe();
  ProcessResult bad_port = Tally({"stats"}, {"TALLY_PORT=http"});
  EXPECT_EQ(bad_port.exit_code, 2) << bad_port.Describe();
  EXPECT_EQ(bad_port.err, "tally: TALLY_PORT 'http' is not a port (1-65535)\n");
}

// ---------------------------------------------------------------------------
// Authentication

constexpr const char* kPassword = "s3cret-admin-pw";
constexpr const char* kReaderPassword = "r3ad-only-pw";

class CliClientAuthTest : public CliClientTest {
 protected:
  std::vector<std::string> ExtraArgs() const override {
    return {"--password", kPassword, "--reader-password", kReaderPassword};
  }
};

TEST_F(CliClientAuthTest, TheRightPasswordWorksOverBothTransports) {
  ProcessResult tcp = Tally({"-p", std::to_string(port()), "--password", kPassword, "incr", "user:1", "k", "2"});
  EXPECT_EQ(tcp.exit_code, 0) << tcp.Describe();
  EXPECT_EQ(tcp.out, "2\n");
  ProcessResult unix_socket =
      Tally({"-s", daemon().unix_socket(), "incr", "user:1", "k", "3"}, {std::string("TALLY_PASSWORD=") + kPassword});
  EXPECT_EQ(unix_socket.exit_code, 0) << unix_socket.Describe();
  EXPECT_EQ(unix_socket.out, "5\n");
}

TEST_F(CliClientAuthTest, AWrongOrMissingPasswordIsAuthenticationFailedAndExitThree) {
  ProcessResult wrong = Tally({"-p", std::to_string(port()), "--password", "nope", "get", "user:1", "k"});
  EXPECT_EQ(wrong.exit_code, 3) << wrong.Describe();
  EXPECT_EQ(wrong.out, "");
  EXPECT_EQ(wrong.err, "tally: authentication failed: WRONGPASS invalid username-password pair or user is disabled.\n");

  ProcessResult missing = Tally({"-s", daemon().unix_socket(), "get", "user:1", "k"});
  EXPECT_EQ(missing.exit_code, 3) << missing.Describe();
  EXPECT_EQ(missing.err,
            "tally: authentication failed: NOAUTH Authentication required. (give --password, or set "
            "TALLY_PASSWORD)\n");

  ProcessResult reader_with_admin_password =
      Tally({"-p", std::to_string(port()), "--user", "reader", "--password", kPassword, "stats"});
  EXPECT_EQ(reader_with_admin_password.exit_code, 3) << reader_with_admin_password.Describe();
}

TEST_F(CliClientAuthTest, TheReaderReadsButIncrIsRefusedWithExitOne) {
  ASSERT_EQ(Tally({"-p", std::to_string(port()), "--password", kPassword, "incr", "user:1", "k", "7"}).exit_code, 0);
  const std::vector<std::string> reader{"-p",     std::to_string(port()), "--user",
                                        "reader", "--password",           kReaderPassword};
  std::vector<std::string> get = reader;
  get.insert(get.end(), {"get", "user:1", "k"});
  ProcessResult read = Tally(get);
  EXPECT_EQ(read.exit_code, 0) << read.Describe();
  EXPECT_EQ(read.out, "7\n");

  std::vector<std::string> incr = reader;
  incr.insert(incr.end(), {"incr", "user:1", "k"});
  ProcessResult refused = Tally(incr);
  EXPECT_EQ(refused.exit_code, 1) << refused.Describe();
  EXPECT_EQ(refused.out, "");
  EXPECT_EQ(refused.err, "tally: NOPERM User reader has no permissions to run the 'ctr.incrby' command\n");
  // The same user through the environment.
  ProcessResult by_env = Tally({"-p", std::to_string(port()), "incr", "user:1", "k"},
                               {"TALLY_USER=reader", std::string("TALLY_PASSWORD=") + kReaderPassword});
  EXPECT_EQ(by_env.exit_code, 1) << by_env.Describe();
  EXPECT_TRUE(Contains(by_env.err, "NOPERM")) << by_env.Describe();
}

}  // namespace
}  // namespace tally::itest
