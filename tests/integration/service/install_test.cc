// `cmake --install` of tallyd as a systemd service, into a temporary DESTDIR:
// every file where systemd and the docs (docs/install.md) say, the unit
// naming the installed tallyd for whatever prefix, systemd-analyze verify of
// the installed unit, and systemd-sysusers + systemd-tmpfiles run on the
// installed files inside a scratch root.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <regex>

#include "service_util.h"
#include "tallyd_process.h"

#ifndef TALLY_SOURCE_DIR
#error "TALLY_SOURCE_DIR must be defined by the build"
#endif

namespace tally::itest {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kAllComponents = {"daemon", "admin", "cli", "service"};

// The lines of `text` that start with `prefix`.
std::vector<std::string> LinesStartingWith(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  for (const std::string& line : SplitLines(text)) {
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
  }
  return out;
}

bool IsExecutableFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) == 0111;
}

// A program on this machine, or "" (the test is skipped without it).
std::string FindProgram(const std::string& name) {
  for (const char* dir : {"/usr/bin", "/bin", "/usr/sbin", "/sbin"}) {
    const std::string path = std::string(dir) + "/" + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

TEST(ServiceInstall, PutsEveryFileInItsPlaceUnderThePrefix) {
  TempDir dest;
  ProcessResult installed = CmakeInstall(dest.path(), "/usr", kAllComponents);
  ASSERT_TRUE(installed.exited && installed.exit_code == 0) << installed.Describe();

  const std::string root = dest.path() + "/usr";
  EXPECT_TRUE(IsExecutableFile(root + "/bin/tallyd")) << ListTree(dest.path()).size();
  EXPECT_TRUE(IsExecutableFile(root + "/bin/tally-admin"));
  EXPECT_TRUE(IsExecutableFile(root + "/bin/tally"));
  const std::string source = TALLY_SOURCE_DIR "/systemd/";
  EXPECT_EQ(ReadFile(root + "/lib/sysusers.d/tally.conf"), ReadFile(source + "tally.sysusers.conf"));
  EXPECT_EQ(ReadFile(root + "/share/doc/tally/tally.toml"), ReadFile(source + "tally.toml"));

  // The unit runs the installed tallyd with the config file tallyd reads by default.
  const std::string unit = ReadFile(root + "/lib/systemd/system/tallyd.service");
  EXPECT_EQ(LinesStartingWith(unit, "ExecStart="),
            std::vector<std::string>{"ExecStart=/usr/bin/tallyd --config /etc/tally/tally.toml"})
      << unit;
  EXPECT_FALSE(std::regex_search(unit, std::regex("@[A-Z_]+@"))) << "an unconfigured @VARIABLE@ is left:\n" << unit;
  // tmpfiles.d copies the installed example to /etc/tally/tally.toml.
  const std::string tmpfiles = ReadFile(root + "/lib/tmpfiles.d/tally.conf");
  EXPECT_TRUE(
      std::regex_search(tmpfiles, std::regex(R"(\nC +/etc/tally/tally\.toml .* /usr/share/doc/tally/tally\.toml\n)")))
      << tmpfiles;
  EXPECT_FALSE(std::regex_search(tmpfiles, std::regex("@[A-Z_]+@"))) << tmpfiles;

  // Nothing outside the prefix, and nothing but these files.
  const std::vector<std::string> expected = {
      "usr/bin/tally",
      "usr/bin/tally-admin",
      "usr/bin/tallyd",
      "usr/lib/systemd/system/tallyd.service",
      "usr/lib/sysusers.d/tally.conf",
      "usr/lib/tmpfiles.d/tally.conf",
      "usr/share/doc/tally/tally.toml",
  };
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dest.path())) {
    if (entry.is_regular_file()) files.push_back(entry.path().lexically_relative(dest.path()).string());
  }
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, expected);

  // The installed binary runs.
  ProcessResult version = RunProcess({root + "/bin/tallyd", "--version"});
  EXPECT_EQ(version.exit_code, 0) << version.Describe();
  EXPECT_EQ(Trim(version.out), std::string("tallyd ") + TALLY_VERSION) << version.Describe();
}

TEST(ServiceInstall, UnitAndTmpfilesFollowThePrefixGivenAtInstallTime) {
  // The build was configured for another prefix (/usr/local by default):
  // what names installed paths is configured when installed.
  TempDir dest;
  ProcessResult installed = CmakeInstall(dest.path(), "/opt/tally", {"service"});
  ASSERT_TRUE(installed.exited && installed.exit_code == 0) << installed.Describe();
  const std::string root = dest.path() + "/opt/tally";
  EXPECT_EQ(LinesStartingWith(ReadFile(root + "/lib/systemd/system/tallyd.service"), "ExecStart="),
            std::vector<std::string>{"ExecStart=/opt/tally/bin/tallyd --config /etc/tally/tally.toml"});
  EXPECT_TRUE(Contains(ReadFile(root + "/lib/tmpfiles.d/tally.conf"), " /opt/tally/share/doc/tally/tally.toml\n"));
  EXPECT_TRUE(fs::exists(root + "/share/doc/tally/tally.toml"));
  EXPECT_FALSE(fs::exists(root + "/bin/tallyd")) << "component service installed the daemon too";
}

TEST(ServiceInstall, SystemdAnalyzeVerifiesTheInstalledUnit) {
  const std::string analyze = FindProgram("systemd-analyze");
  if (analyze.empty()) GTEST_SKIP() << "systemd-analyze is not installed (apt-get install systemd)";
  TempDir dest;
  ProcessResult installed = CmakeInstall(dest.path(), "/usr", {"daemon", "service"});
  ASSERT_TRUE(installed.exited && installed.exit_code == 0) << installed.Describe();

  // verify checks that ExecStart's program exists: a copy of the unit runs
  // the DESTDIR's tallyd instead of /usr/bin/tallyd.
  const std::string unit = ReadFile(dest.path() + "/usr/lib/systemd/system/tallyd.service");
  const std::string installed_tallyd = dest.path() + "/usr/bin/tallyd";
  ASSERT_TRUE(IsExecutableFile(installed_tallyd));
  const std::string copy_dir = dest.path() + "/verify";
  fs::create_directories(copy_dir);
  const std::string copy = copy_dir + "/tallyd.service";
  WriteFile(copy,
            std::regex_replace(unit, std::regex("ExecStart=/usr/bin/tallyd "), "ExecStart=" + installed_tallyd + " "));
  ASSERT_TRUE(Contains(ReadFile(copy), "ExecStart=" + installed_tallyd + " --config")) << ReadFile(copy);

  ProcessResult verify = RunProcess({analyze, "verify", copy}, {}, 60s);
  ASSERT_TRUE(verify.exited) << verify.Describe();
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
  // verify exits 0 after a line it could not parse ("..., ignoring"): any
  // word about the unit is a failure.
  EXPECT_FALSE(Contains(verify.out + verify.err, "tallyd.service")) << verify.Describe();

  // The check has teeth: a unit whose program is missing is refused.
  WriteFile(copy, std::regex_replace(unit, std::regex("ExecStart=/usr/bin/tallyd "),
                                     "ExecStart=" + dest.path() + "/no-such-tallyd "));
  ProcessResult missing = RunProcess({analyze, "verify", copy}, {}, 60s);
  EXPECT_NE(missing.exit_code, 0) << missing.Describe();
}

TEST(ServiceInstall, SysusersAndTmpfilesMakeTheUserTheDirectoriesAndTheConfig) {
  // The docs' steps after `cmake --install`, in a scratch root instead of /.
  const std::string sysusers = FindProgram("systemd-sysusers");
  const std::string tmpfiles = FindProgram("systemd-tmpfiles");
  if (sysusers.empty() || tmpfiles.empty()) GTEST_SKIP() << "systemd-sysusers or systemd-tmpfiles is not installed";
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: systemd-tmpfiles gives the directories to the tally user";
  TempDir root;
  ProcessResult installed = CmakeInstall(root.path(), "/usr", {"service"});
  ASSERT_TRUE(installed.exited && installed.exit_code == 0) << installed.Describe();
  fs::create_directories(root.path() + "/etc");

  ProcessResult users = RunProcess({sysusers, "--root=" + root.path()});
  ASSERT_EQ(users.exit_code, 0) << users.Describe();
  const std::string passwd = ReadFile(root.path() + "/etc/passwd");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(passwd, match, std::regex(R"((^|\n)tally:x:(\d+):(\d+):[^\n]*:/var/lib/tally:)")))
      << passwd;
  const uid_t uid = static_cast<uid_t>(std::stoul(match[2]));

  ProcessResult dirs = RunProcess({tmpfiles, "--create", "--root=" + root.path()});
  ASSERT_EQ(dirs.exit_code, 0) << dirs.Describe();
  for (const char* dir : {"/var/lib/tally", "/run/tally"}) {
    struct stat st {};
    ASSERT_EQ(::stat((root.path() + dir).c_str(), &st), 0) << dir;
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << dir;
    EXPECT_EQ(st.st_uid, uid) << dir << " does not belong to tally";
    EXPECT_EQ(st.st_mode & 07777, 0750u) << dir;
  }
  const std::string config = root.path() + "/etc/tally/tally.toml";
  EXPECT_EQ(ReadFile(config), ReadFile(TALLY_SOURCE_DIR "/systemd/tally.toml"));

  // An edited config survives the next --create (and so an upgrade).
  WriteFile(config, "# edited\ndata_dir = \"/var/lib/tally\"\n");
  dirs = RunProcess({tmpfiles, "--create", "--root=" + root.path()});
  ASSERT_EQ(dirs.exit_code, 0) << dirs.Describe();
  EXPECT_EQ(ReadFile(config), "# edited\ndata_dir = \"/var/lib/tally\"\n");
}

}  // namespace
}  // namespace tally::itest
