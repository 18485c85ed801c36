// tallyd checks every path it needs (data dir, unix socket) and every listen
// address before it creates anything: the shipped config (systemd/tally.toml)
// pointed at paths its user cannot use exits with status 2 and a message
// naming the setting and the path, and leaves the disk as it was.
//
// As root, tallyd runs as nobody here: root may write anywhere.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "service_util.h"
#include "tallyd_process.h"

#ifndef TALLY_SOURCE_DIR
#error "TALLY_SOURCE_DIR must be defined by the build"
#endif

namespace tally::itest {
namespace {

namespace fs = std::filesystem;

const std::string kShippedConfig = TALLY_SOURCE_DIR "/systemd/tally.toml";

class PathChecks : public ::testing::Test {
 protected:
  void SetUp() override {
    // Reachable by nobody: `open` for all, `closed` for none (0555, and
    // not writable by its owner either when that is the test's own user).
    ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
    fs::create_directories(open_dir());
    fs::create_directories(closed_dir());
    ASSERT_EQ(::chmod(open_dir().c_str(), 0777), 0);
    ASSERT_EQ(::chmod(closed_dir().c_str(), 0555), 0);
    WriteFile(dir_.Sub("a-file"), "not a directory\n");
    ASSERT_EQ(::chmod(dir_.Sub("a-file").c_str(), 0644), 0);
  }
  void TearDown() override { ::chmod(closed_dir().c_str(), 0755); }

  std::string open_dir() const { return dir_.Sub("open"); }
  std::string closed_dir() const { return dir_.Sub("closed"); }

  // The shipped config with `flags` (paths, addresses) laid over it, run as
  // an unprivileged user; expects exit status 2, every `named` text in the
  // output, and the temp dir unchanged.
  void ExpectRefused(std::vector<std::string> flags, const std::vector<std::string>& named) {
    const std::vector<std::string> before = ListTree(dir_.path());
    std::vector<std::string> args = {"--config",    kShippedConfig,
                                     "--port",      std::to_string(PickFreePort()),
                                     "--http-port", std::to_string(PickFreePort())};
    args.insert(args.end(), flags.begin(), flags.end());
    ProcessResult r = RunTallydUnprivileged(args);
    if (!r.started) GTEST_SKIP() << r.err;
    SCOPED_TRACE(::testing::PrintToString(flags));
    EXPECT_TRUE(r.exited && r.exit_code == 2) << r.Describe();
    for (const std::string& text : named) EXPECT_TRUE(Contains(r.out + r.err, text)) << text << "\n" << r.Describe();
    EXPECT_EQ(ListTree(dir_.path()), before) << "something was created:\n" << r.Describe();
  }

  TempDir dir_;
};

TEST_F(PathChecks, DataDirThatCannotBeCreated) {
  const std::string data = closed_dir() + "/data";
  ExpectRefused({"--data-dir", data, "--unix-socket", open_dir() + "/tally.sock"},
                {"bad setting: data_dir = \"" + data + "\": cannot create " + data + ": " + closed_dir() +
                 " is not writable by user " + UnprivilegedUserName()});
}

TEST_F(PathChecks, SocketDirThatIsNotWritableCreatesNoDataDir) {
  // The reported bug: the data dir was created before the socket failed.
  const std::string socket = closed_dir() + "/tally.sock";
  ExpectRefused({"--data-dir", open_dir() + "/data", "--unix-socket", socket},
                {"bad setting: unix_socket = \"" + socket + "\": " + closed_dir() + " is not writable by user " +
                 UnprivilegedUserName()});
  EXPECT_FALSE(fs::exists(open_dir() + "/data"));
}

TEST_F(PathChecks, SocketDirThatDoesNotExist) {
  const std::string socket = open_dir() + "/run/tally/tally.sock";
  ExpectRefused({"--data-dir", open_dir() + "/data", "--unix-socket", socket},
                {"bad setting: unix_socket = \"" + socket + "\": " + open_dir() + "/run/tally does not exist",
                 "RuntimeDirectory="});
}

TEST_F(PathChecks, DataDirUnderAFile) {
  const std::string data = dir_.Sub("a-file") + "/data";
  ExpectRefused({"--data-dir", data, "--unix-socket", "none"},
                {"bad setting: data_dir = \"" + data + "\": " + dir_.Sub("a-file") + " is not a directory"});
}

TEST_F(PathChecks, DataDirLeftByAnotherUser) {
  // A data dir this user can write, with a database it cannot (made by a run
  // as root, say): refused before RocksDB fails on it.
  const std::string data = open_dir() + "/data";
  fs::create_directories(data + "/db");
  ASSERT_EQ(::chmod(data.c_str(), 0777), 0);
  ASSERT_EQ(::chmod((data + "/db").c_str(), 0500), 0);
  ExpectRefused(
      {"--data-dir", data, "--unix-socket", "none"},
      {"bad setting: data_dir = \"" + data + "\": " + data + "/db is not writable by user " + UnprivilegedUserName(),
       "was tallyd run as another user?"});
  ::chmod((data + "/db").c_str(), 0700);
}

TEST_F(PathChecks, SocketPathThatIsAFileOrTooLong) {
  WriteFile(open_dir() + "/precious", "keep me\n");
  ExpectRefused({"--data-dir", open_dir() + "/data", "--unix-socket", open_dir() + "/precious"},
                {"bad setting: unix_socket = \"" + open_dir() + "/precious\": " + open_dir() +
                 "/precious exists and is not a socket"});
  EXPECT_EQ(ReadFile(open_dir() + "/precious"), "keep me\n");
  const std::string long_path = open_dir() + "/" + std::string(120, 's') + ".sock";
  ExpectRefused({"--data-dir", open_dir() + "/data", "--unix-socket", long_path},
                {"bad setting: unix_socket = \"" + long_path + "\": the path is", "at most 107"});
}

TEST_F(PathChecks, ListenAddressesThatAreNotIpAddresses) {
  ExpectRefused({"--data-dir", open_dir() + "/data", "--unix-socket", "none", "--bind", "localhost"},
                {"bad setting: bind = \"localhost\" is not an IP address"});
  ExpectRefused({"--data-dir", open_dir() + "/data", "--unix-socket", "none", "--http-bind", "300.1.2.3"},
                {"bad setting: http_bind = \"300.1.2.3\" is not an IP address"});
}

TEST_F(PathChecks, EveryBadPathIsNamedAtOnce) {
  const std::string data = closed_dir() + "/data";
  const std::string socket = closed_dir() + "/sock/tally.sock";
  ExpectRefused({"--data-dir", data, "--unix-socket", socket},
                {"bad setting: data_dir = \"" + data + "\"", "bad setting: unix_socket = \"" + socket + "\""});
}

TEST_F(PathChecks, CheckConfigChecksThePathsToo) {
  const std::string config = dir_.Sub("tally.toml");
  const std::string socket = closed_dir() + "/tally.sock";
  WriteFile(config, "data_dir = \"" + open_dir() + "/data\"\nunix_socket = \"" + socket + "\"\n");
  ASSERT_EQ(::chmod(config.c_str(), 0644), 0);
  const std::vector<std::string> before = ListTree(dir_.path());
  ProcessResult bad = RunTallydUnprivileged({"--check-config", config});
  if (!bad.started) GTEST_SKIP() << bad.err;
  EXPECT_EQ(bad.exit_code, 2) << bad.Describe();
  EXPECT_TRUE(Contains(bad.out + bad.err, "bad setting: unix_socket = \"" + socket + "\"")) << bad.Describe();
  EXPECT_EQ(ListTree(dir_.path()), before);

  WriteFile(config, "data_dir = \"" + open_dir() + "/data\"\nunix_socket = \"" + open_dir() + "/tally.sock\"\n");
  ProcessResult good = RunTallydUnprivileged({"--check-config", config});
  EXPECT_EQ(good.exit_code, 0) << good.Describe();
  EXPECT_TRUE(Contains(good.out, config + ": ok")) << good.Describe();
  EXPECT_EQ(ListTree(dir_.path()), before) << "--check-config created something";
}

TEST(ShippedConfig, AsShippedWithoutRootCreatesNothingAndExits2) {
  // systemd/tally.toml as shipped (data_dir /var/lib/tally, unix_socket
  // /run/tally/tally.sock) run by a user who cannot write there, as before
  // `systemd-tmpfiles --create`.
  if (fs::exists("/var/lib/tally") || fs::exists("/run/tally")) {
    GTEST_SKIP() << "/var/lib/tally or /run/tally exists on this machine (tally is installed)";
  }
  ProcessResult r = RunTallydUnprivileged({"--config", kShippedConfig, "--port", std::to_string(PickFreePort()),
                                           "--http-port", std::to_string(PickFreePort())});
  if (!r.started) GTEST_SKIP() << r.err;
  EXPECT_TRUE(r.exited && r.exit_code == 2) << r.Describe();
  EXPECT_TRUE(Contains(r.out + r.err, "bad setting: data_dir = \"/var/lib/tally\": cannot create /var/lib/tally"))
      << r.Describe();
  EXPECT_TRUE(
      Contains(r.out + r.err, "bad setting: unix_socket = \"/run/tally/tally.sock\": /run/tally does not exist"))
      << r.Describe();
  EXPECT_FALSE(fs::exists("/var/lib/tally"));
}

}  // namespace
}  // namespace tally::itest
