// tallyd's command line: --help, --version, bad flags and start-up failures
// exit with a message and a non-zero status.

#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "settings.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

ProcessResult Tallyd(std::vector<std::string> args) {
  args.insert(args.begin(), TallydPath());
  return RunProcess(args, {}, 20s);
}

TEST(TallydCommandLine, HelpListsTheFlagsAndExitsZero) {
  ProcessResult r = Tallyd({"--help"});
  ASSERT_TRUE(r.exited) << r.Describe();
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  for (const char* flag : {"--config", "--data-dir", "--bind", "--port", "--unix-socket", "--durability", "--log-level",
                           "--version", "--help", "--io-threads", "--max-clients", "--compaction-interval-ms",
                           "--max-bulk-bytes", "--max-inline-bytes"}) {
    EXPECT_TRUE(Contains(r.out, flag)) << "--help does not mention " << flag << ":\n" << r.out;
  }
  // Every setting of the table, with its default where --help can show it.
  for (const Setting& s : Settings()) {
    EXPECT_TRUE(Contains(r.out, s.flag() + " ")) << "--help does not mention " << s.flag() << ":\n" << r.out;
  }
  EXPECT_TRUE(Contains(r.out, "--port INT=6380")) << r.out;
  EXPECT_TRUE(Contains(r.out, "Usage")) << r.out;
  EXPECT_EQ(Tallyd({"-h"}).exit_code, 0);
}

TEST(TallydCommandLine, PrintConfigExampleIsTheShippedExampleFile) {
  ProcessResult r = Tallyd({"--print-config-example"});
  ASSERT_TRUE(r.exited) << r.Describe();
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, ConfigExample());
}

TEST(TallydCommandLine, VersionPrintsTheVersionAndExitsZero) {
  ProcessResult r = Tallyd({"--version"});
  ASSERT_TRUE(r.exited) << r.Describe();
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(std::regex_match(Trim(r.out), std::regex(R"(tallyd \d+\.\d+\.\d+.*)"))) << r.out;
}

TEST(TallydCommandLine, UnknownFlagExitsNonZeroNamingTheFlag) {
  ProcessResult r = Tallyd({"--no-such-flag"});
  ASSERT_TRUE(r.exited) << r.Describe();
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out + r.err, "--no-such-flag")) << r.Describe();
}

TEST(TallydCommandLine, InvalidFlagValuesExitNonZeroWithAMessage) {
  TempDir dir;
  const std::vector<std::vector<std::string>> bad = {
      {"--durability", "sometimes"},
      {"--port", "70000"},
      {"--port", "abc"},
      {"--io-threads", "0"},
      {"--log-level", "chatty"},
      {"--max-inline-bytes", "1"},
      {"--max-clients", "-5"},
      {"--compaction-interval-ms", "x"},
      {"--port"},
  };
  for (const auto& args : bad) {
    std::vector<std::string> argv = {"--data-dir", dir.path() + "/data", "--config", "/dev/null"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult r = Tallyd(argv);
    ASSERT_TRUE(r.exited) << ::testing::PrintToString(args) << ": " << r.Describe();
    EXPECT_NE(r.exit_code, 0) << ::testing::PrintToString(args) << " was accepted: " << r.Describe();
    EXPECT_TRUE(Contains(r.out + r.err, args[0])) << "the message should name " << args[0] << ": " << r.Describe();
  }
}

TEST(TallydCommandLine, MissingOrBadConfigFileExitsNonZero) {
  TempDir dir;
  ProcessResult missing = Tallyd({"--config", dir.path() + "/absent.toml"});
  EXPECT_TRUE(missing.exited && missing.exit_code != 0) << missing.Describe();
  EXPECT_TRUE(Contains(missing.err, "absent.toml")) << missing.Describe();

  std::ofstream(dir.path() + "/typo.toml") << "prot = 1234\n";
  ProcessResult typo = Tallyd({"--config", dir.path() + "/typo.toml"});
  EXPECT_TRUE(typo.exited && typo.exit_code != 0) << typo.Describe();
  EXPECT_TRUE(Contains(typo.err, "prot")) << typo.Describe();

  std::ofstream(dir.path() + "/broken.toml") << "port = = 1\n";
  ProcessResult broken = Tallyd({"--config", dir.path() + "/broken.toml"});
  EXPECT_TRUE(broken.exited && broken.exit_code != 0) << broken.Describe();

  // A value out of range in the file: exit status 2 (systemd does not
  // restart), naming the setting, what is allowed, the value and the file.
  std::ofstream(dir.path() + "/range.toml") << "max_clients = 0\n";
  ProcessResult range = Tallyd({"--config", dir.path() + "/range.toml"});
  EXPECT_TRUE(range.exited && range.exit_code == 2) << range.Describe();
  EXPECT_TRUE(
      Contains(range.err, "max_clients = 0 is out of range: must be 1..1000000 (in " + dir.path() + "/range.toml)"))
      << range.Describe();
}

// --check-config FILE: every check tallyd makes before it creates anything,
// each bad setting named, exit 0 or 2, and nothing created.
TEST(TallydCommandLine, CheckConfigNamesTheBadSettingAndCreatesNothing) {
  TempDir dir;
  const std::string data_dir = dir.Sub("data");
  auto check = [&](const std::string& text) {
    std::ofstream(dir.Sub("tally.toml")) << "data_dir = \"" << data_dir << "\"\n" << text;
    return Tallyd({"--check-config", dir.Sub("tally.toml")});
  };
  ProcessResult good = check("port = 6399\npassword = \"a-long-secret\"\nbind = \"0.0.0.0\"\n");
  EXPECT_EQ(good.exit_code, 0) << good.Describe();
  EXPECT_TRUE(Contains(good.out, dir.Sub("tally.toml") + ": ok")) << good.Describe();
  EXPECT_FALSE(Contains(good.out + good.err, "a-long-secret")) << "the secret was echoed";

  const std::pair<const char*, const char*> bad[] = {
      {"port = 70000\n", "port"},
      {"no_such_key = 1\n", "no_such_key"},
      {"bind = \"0.0.0.0\"\n", "refusing to listen on 0.0.0.0"},
      {"reader_password = \"r\"\n", "reader_password"},
      {"unix_socket_mode = \"0400\"\n", "unix_socket_mode"},
      {"unix_socket_group = \"no-such-group-tally\"\n", "unix_socket_group"},
      {"timezone = \"Mars/Olympus\"\n", "timezone"},
  };
  for (const auto& [text, named] : bad) {
    ProcessResult r = check(text);
    EXPECT_EQ(r.exit_code, 2) << text << r.Describe();
    EXPECT_TRUE(Contains(r.out + r.err, named)) << text << r.Describe();
  }
  EXPECT_FALSE(std::filesystem::exists(data_dir)) << "--check-config created the data dir";
  ProcessResult both = Tallyd({"--check-config", dir.Sub("tally.toml"), "--config", dir.Sub("tally.toml")});
  EXPECT_NE(both.exit_code, 0) << both.Describe();
}

TEST(TallydCommandLine, ShippedExampleFileStartsTallyd) {
  // systemd/tally.toml with the paths a test can use: every other value is
  // the default (commented out) and must be accepted as such.
  TallydProcess daemon;
  std::ofstream(daemon.dir() + "/tally.toml") << ConfigExample();
  ASSERT_TRUE(daemon.Start());
  EXPECT_EQ(Cli(daemon.port(), {"PING"}), "PONG");
  ASSERT_TRUE(daemon.Stop());
}

TEST(TallydCommandLine, ConfigFileSettingsAreUsedAndFlagsOverrideThem) {
  TallydProcess daemon;
  // The harness passes --config <dir>/tally.toml: put a setting in it.
  std::ofstream(daemon.dir() + "/tally.toml") << "durability = \"fsync\"\nmax_clients = 77\n";
  daemon.set_extra_args({"--max-clients", "55"});
  ASSERT_TRUE(daemon.Start());
  EXPECT_EQ(Cli(daemon.port(), {"CONFIG", "GET", "appendfsync"}), "1) \"appendfsync\"\n2) \"always\"");
  EXPECT_EQ(Cli(daemon.port(), {"CONFIG", "GET", "maxclients"}), "1) \"maxclients\"\n2) \"55\"");
  ASSERT_TRUE(daemon.Stop());
}

TEST(TallydCommandLine, SighupReloadsTheReloadableSettingsAndNamesTheOthers) {
  TallydProcess daemon;
  std::ofstream(daemon.dir() + "/tally.toml") << "log_level = \"info\"\n";
  ASSERT_TRUE(daemon.Start());
  auto wait_for_log = [&](const std::string& text) {
    for (int i = 0; i < 100 && !Contains(daemon.ReadLog(), text); ++i) std::this_thread::sleep_for(50ms);
    return Contains(daemon.ReadLog(), text);
  };
  std::ofstream(daemon.dir() + "/tally.toml") << "log_level = \"debug\"\nmax_clients = 5\n";
  ASSERT_EQ(kill(daemon.pid(), SIGHUP), 0);
  EXPECT_TRUE(wait_for_log("applied log_level (log level debug)")) << daemon.ReadLog();
  EXPECT_TRUE(wait_for_log("applied only by a restart: max_clients")) << daemon.ReadLog();
  // A bad file is refused; the daemon keeps running.
  std::ofstream(daemon.dir() + "/tally.toml") << "log_level = \"loud\"\n";
  ASSERT_EQ(kill(daemon.pid(), SIGHUP), 0);
  EXPECT_TRUE(wait_for_log("reload failed, keeping the running configuration: log_level = \"loud\""))
      << daemon.ReadLog();
  EXPECT_EQ(Cli(daemon.port(), {"PING"}), "PONG");
  ASSERT_TRUE(daemon.Stop());
}

TEST(TallydCommandLine, UnusableDataDirExitsNonZeroWithAMessage) {
  TempDir dir;
  std::ofstream(dir.path() + "/a-file") << "not a directory\n";
  ProcessResult r = Tallyd({"--config", "/dev/null", "--data-dir", dir.path() + "/a-file/data", "--port",
                            std::to_string(PickFreePort()), "--unix-socket", "none"});
  ASSERT_TRUE(r.exited) << r.Describe();
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out + r.err, "a-file")) << r.Describe();
}

TEST(TallydCommandLine, PortAlreadyInUseExitsNonZeroWithAMessage) {
  TallydProcess first;
  ASSERT_TRUE(first.Start());
  TempDir dir;
  ProcessResult r = Tallyd({"--config", "/dev/null", "--data-dir", dir.path() + "/data", "--port",
                            std::to_string(first.port()), "--unix-socket", "none"});
  ASSERT_TRUE(r.exited) << r.Describe();
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out + r.err, std::to_string(first.port()))) << r.Describe();
  EXPECT_EQ(Cli(first.port(), {"PING"}), "PONG");
}

TEST(TallydCommandLine, SigtermStopsCleanlyWithExitZero) {
  TallydProcess daemon;
  ASSERT_TRUE(daemon.Start());
  // Even with idle and busy connections open.
  auto idle = RespClient::ConnectTcp(daemon.port());
  ASSERT_TRUE(idle.has_value());
  ASSERT_EQ(idle->CallRaw({"SET", "k", "v"}), "+OK\r\n");
  ASSERT_TRUE(daemon.Stop(10s));
  EXPECT_TRUE(Contains(daemon.ReadLog(), "stopped cleanly")) << daemon.ReadLog();
  EXPECT_TRUE(idle->WaitClosed(2s));
}

}  // namespace
}  // namespace tally::itest
