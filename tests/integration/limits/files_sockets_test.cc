// Files and sockets: the unix socket is taken over only when nothing answers
// on it, a stopping instance removes only the socket it bound, and the data
// dir and its files get data_dir_mode (0700 / 0600) whatever the umask.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "limits_util.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

namespace fs = std::filesystem;

bool AnswersPing(const std::string& socket) {
  auto client = RespClient::ConnectUnix(socket);
  return client && client->Call({"PING"}, 2s).str == "PONG";
}

::testing::AssertionResult ExitsWithin(TallydProcess& daemon, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (daemon.Alive()) {
    if (std::chrono::steady_clock::now() > deadline) return ::testing::AssertionFailure() << "still running";
    std::this_thread::sleep_for(10ms);
  }
  return ::testing::AssertionSuccess();
}

TEST(UnixSocketTest, SecondInstanceOnALiveSocketRefusesAndTheFirstGoesOn) {
  TallydProcess first;
  ASSERT_TRUE(first.Start());
  ASSERT_TRUE(AnswersPing(first.unix_socket()));

  TallydProcess second({"--unix-socket", first.unix_socket()});
  ASSERT_TRUE(second.Spawn());
  ASSERT_TRUE(ExitsWithin(second, 15s));
  EXPECT_TRUE(WIFEXITED(second.last_wait_status()) && WEXITSTATUS(second.last_wait_status()) == 1);
  EXPECT_TRUE(Contains(second.ReadLog(), "unix socket " + first.unix_socket() + " is in use")) << second.ReadLog();

  EXPECT_TRUE(AnswersPing(first.unix_socket())) << "the first instance lost its socket";
  EXPECT_TRUE(first.Stop());
  EXPECT_FALSE(fs::exists(first.unix_socket())) << "a clean stop removes its own socket";
}

TEST(UnixSocketTest, StaleSocketOfAKilledInstanceIsTakenOver) {
  TallydProcess first;
  ASSERT_TRUE(first.Start());
  first.Kill();
  ASSERT_TRUE(fs::exists(first.unix_socket())) << "SIGKILL leaves the socket file behind";

  TallydProcess second({"--unix-socket", first.unix_socket()});
  ASSERT_TRUE(second.Start());
  EXPECT_TRUE(AnswersPing(first.unix_socket()));
  EXPECT_TRUE(second.Stop());
}

TEST(UnixSocketTest, StoppingInstanceLeavesAnotherInstancesSocketAlone) {
  TallydProcess first;
  ASSERT_TRUE(first.Start());
  // Someone removes the first instance's socket file; a second instance binds the path.
  ASSERT_EQ(::unlink(first.unix_socket().c_str()), 0);
  TallydProcess second({"--unix-socket", first.unix_socket()});
  ASSERT_TRUE(second.Start());
  ASSERT_TRUE(AnswersPing(first.unix_socket()));

  EXPECT_TRUE(first.Stop());
  EXPECT_TRUE(fs::exists(first.unix_socket())) << "the first instance removed the second's socket";
  EXPECT_TRUE(AnswersPing(first.unix_socket()));
  EXPECT_TRUE(second.Stop());
}

TEST(UnixSocketTest, PathThatIsNotASocketIsNeverReplaced) {
  TallydProcess daemon;
  { std::ofstream(daemon.unix_socket()) << "precious\n"; }
  ASSERT_TRUE(daemon.Spawn());
  ASSERT_TRUE(ExitsWithin(daemon, 15s));
  EXPECT_TRUE(Contains(daemon.ReadLog(), "exists and is not a socket")) << daemon.ReadLog();
  std::ifstream in(daemon.unix_socket());
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "precious");
}

// Every directory `mode_dirs`, every regular file `mode_files` under `root`.
void ExpectModes(const std::string& root, unsigned mode_dirs, unsigned mode_files) {
  struct stat st {};
  ASSERT_EQ(::stat(root.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, mode_dirs) << root;
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    ASSERT_EQ(::lstat(entry.path().c_str(), &st), 0);
    if (S_ISDIR(st.st_mode)) {
      EXPECT_EQ(st.st_mode & 07777, mode_dirs) << entry.path();
    } else if (S_ISREG(st.st_mode)) {
      EXPECT_EQ(st.st_mode & 07777, mode_files) << entry.path();
      ++files;
    }
  }
  EXPECT_GT(files, 5) << "RocksDB's files were checked";
}

TEST(DataDirModeTest, DataDirIs0700AndFiles0600UnderUmask022) {
  TallydProcess daemon;
  daemon.set_umask(022);
  ASSERT_TRUE(daemon.Start());
  auto client = RespClient::ConnectTcp(daemon.port());
  ASSERT_TRUE(client.has_value());
  ASSERT_EQ(client->Call({"INCRBY", "k", "5"}).integer, 5);
  ASSERT_TRUE(daemon.Stop());  // flushes: SST files exist too
  ExpectModes(daemon.data_dir(), 0700, 0600);
}

TEST(DataDirModeTest, DataDirModeSettingGivesGroupAccess) {
  TallydProcess daemon({"--data-dir-mode", "0750"});
  daemon.set_umask(0);
  ASSERT_TRUE(daemon.Start());
  ASSERT_TRUE(daemon.Stop());
  ExpectModes(daemon.data_dir(), 0750, 0640);
}

TEST(DataDirModeTest, ModeWithoutOwnerAccessIsRefused) {
  TallydProcess daemon({"--data-dir-mode", "0500"});
  ASSERT_TRUE(daemon.Spawn());
  ASSERT_TRUE(ExitsWithin(daemon, 15s));
  EXPECT_TRUE(WIFEXITED(daemon.last_wait_status()) && WEXITSTATUS(daemon.last_wait_status()) == 2);
  EXPECT_TRUE(Contains(daemon.ReadLog(), "data_dir_mode = \"0500\" must give the owner rwx")) << daemon.ReadLog();
}

}  // namespace
}  // namespace tally::itest
