// The access-control settings (daemon/access_config.h, commands/access.h):
// where each secret comes from (the setting, its file, the environment),
// the combinations refused at start, which identity a password or a token
// gives, and which listeners count as beyond loopback.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <string>

#include "access_config.h"
#include "temp_dir.h"

namespace tally {
namespace {

// Sets an environment variable for one test, and restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

AccessControl Resolve(const Config& config) {
  AccessControl access;
  std::string error;
  EXPECT_TRUE(ResolveAccess(config, &access, &error)) << error;
  return access;
}

std::string Refusal(const Config& config) {
  AccessControl access;
  std::string error;
  EXPECT_FALSE(ResolveAccess(config, &access, &error));
  return error;
}

TEST(AccessConfigTest, NoSecretMeansNoAuthenticationAndEveryoneIsTheDefaultUser) {
  ScopedEnv password("TALLY_PASSWORD", nullptr);
  const AccessControl access = Resolve(Config{});
  EXPECT_FALSE(access.enabled());
  EXPECT_EQ(access.initial(), Identity::kAdmin);
  EXPECT_EQ(access.ForBearer(""), Identity::kAdmin);
}

TEST(AccessConfigTest, TheSettingThenItsFileThenTheEnvironment) {
  fixtures::TempDir dir;
  const std::string file = dir.Sub("pw");
  std::ofstream(file) << "from-file\r\nsecond line\n";
  ScopedEnv env("TALLY_PASSWORD", "from-env");
  Config config;
  EXPECT_EQ(Resolve(config).password, "from-env");
  config.password_file = file;
  EXPECT_EQ(Resolve(config).password, "from-file");
  config.password_file.clear();
  config.password = "from-setting";
  EXPECT_EQ(Resolve(config).password, "from-setting");
  config.password_file = file;
  EXPECT_EQ(Refusal(config), "set one of password and password_file, not both");
}

TEST(AccessConfigTest, AFileThatCannotBeReadOrIsEmptyIsRefused) {
  fixtures::TempDir dir;
  Config config;
  config.password_file = dir.Sub("missing");
  EXPECT_NE(Refusal(config).find("password_file = '" + dir.Sub("missing") + "' cannot be read"), std::string::npos);
  std::ofstream(dir.Sub("empty")) << "\n";
  config.password_file = dir.Sub("empty");
  EXPECT_NE(Refusal(config).find("the first line is empty"), std::string::npos);
}

TEST(AccessConfigTest, AReaderOrATokenWithoutThePasswordIsRefused) {
  ScopedEnv password("TALLY_PASSWORD", nullptr);
  Config config;
  config.reader_password = "r";
  EXPECT_NE(Refusal(config).find("reader_password is set but password is not"), std::string::npos);
  config.reader_password.clear();
  config.http_token = "t";
  EXPECT_NE(Refusal(config).find("http_token is set but password is not"), std::string::npos);
  config.password = "p";
  config.reader_password = "p";
  EXPECT_NE(Refusal(config).find("reader_password is the same as password"), std::string::npos);
}

TEST(AccessConfigTest, PasswordsAndTokensGiveTheirIdentity) {
  Config config;
  config.password = "admin-pw";
  config.reader_password = "reader-pw";
  AccessControl access = Resolve(config);
  EXPECT_TRUE(access.enabled());
  EXPECT_EQ(access.initial(), Identity::kNone);
  EXPECT_EQ(access.ForPassword("", "admin-pw"), Identity::kAdmin);
  EXPECT_EQ(access.ForPassword("default", "admin-pw"), Identity::kAdmin);
  EXPECT_EQ(access.ForPassword("reader", "reader-pw"), Identity::kReader);
  EXPECT_EQ(access.ForPassword("", "reader-pw"), Identity::kNone) << "AUTH <password> is the default user";
  EXPECT_EQ(access.ForPassword("reader", "admin-pw"), Identity::kNone);
  EXPECT_EQ(access.ForPassword("admin", "admin-pw"), Identity::kNone);
  EXPECT_EQ(access.ForPassword("default", "admin-pw "), Identity::kNone);
  EXPECT_EQ(access.ForPassword("default", "admin-p"), Identity::kNone);
  // The passwords are the tokens, unless tokens of their own are set.
  EXPECT_EQ(access.ForBearer("admin-pw"), Identity::kAdmin);
  EXPECT_EQ(access.ForBearer("reader-pw"), Identity::kReader);
  EXPECT_EQ(access.ForBearer(""), Identity::kNone);
  config.http_token = "admin-token";
  config.http_read_token = "read-token";
  access = Resolve(config);
  EXPECT_EQ(access.ForBearer("admin-token"), Identity::kAdmin);
  EXPECT_EQ(access.ForBearer("read-token"), Identity::kReader);
  EXPECT_EQ(access.ForBearer("admin-pw"), Identity::kNone);
  EXPECT_EQ(access.ForPassword("", "admin-pw"), Identity::kAdmin) << "the line protocol keeps the password";
}

TEST(AccessConfigTest, AllowedHostsAndOriginsAreListsOfNamesAndOrigins) {
  Config config;
  config.http_allowed_hosts = " Tally.Internal, ,example.com ";
  config.http_allowed_origins = "https://Admin.example.com,http://localhost:3000";
  const AccessControl access = Resolve(config);
  EXPECT_EQ(access.http_allowed_hosts, (std::vector<std::string>{"tally.internal", "example.com"}));
  EXPECT_EQ(access.http_allowed_origins,
            (std::vector<std::string>{"https://admin.example.com", "http://localhost:3000"}));
  for (const char* host : {"example.com:8080", "https://example.com", "a b"}) {
    config = Config{};
    config.http_allowed_hosts = host;
    EXPECT_NE(Refusal(config).find("http_allowed_hosts"), std::string::npos) << host;
  }
  for (const char* origin : {"example.com", "ftp://example.com", "https://example.com/path", "https://"}) {
    config = Config{};
    config.http_allowed_origins = origin;
    EXPECT_NE(Refusal(config).find("http_allowed_origins"), std::string::npos) << origin;
  }
}

TEST(AccessConfigTest, SecretsMatchOnlyWhole) {
  EXPECT_TRUE(SecretMatches("abc", "abc"));
  EXPECT_FALSE(SecretMatches("abd", "abc"));
  EXPECT_FALSE(SecretMatches("ab", "abc"));
  EXPECT_FALSE(SecretMatches("abcd", "abc"));
  EXPECT_FALSE(SecretMatches("", ""));
  EXPECT_FALSE(SecretMatches(std::string("abc\0", 4), "abc"));
}

TEST(AccessConfigTest, ListenersBeyondLoopback) {
  Config config;
  EXPECT_TRUE(PublicListeners(config).empty());
  config.bind = "0.0.0.0";
  config.http_bind = "::1";
  EXPECT_EQ(PublicListeners(config), std::vector<std::string>{"0.0.0.0:6380 (line protocol)"});
  config.port = 0;
  EXPECT_TRUE(PublicListeners(config).empty()) << "a listener that is off exposes nothing";
  config.http_bind = "10.0.0.5";
  EXPECT_EQ(PublicListeners(config), std::vector<std::string>{"10.0.0.5:8080 (HTTP)"});
  for (const char* host : {"127.0.0.1", "127.0.1.1", "localhost", "::1"}) EXPECT_TRUE(IsLoopbackHost(host)) << host;
  for (const char* host : {"0.0.0.0", "::", "192.168.1.2", "example.com"}) EXPECT_FALSE(IsLoopbackHost(host)) << host;
}

}  // namespace
}  // namespace tally
