// Access control against the real tallyd (docs/operations.md, "Access
// control"): with `password` and `reader_password` set, a RESP connection
// (TCP or the unix socket) answers NOAUTH until AUTH, the reader user reads
// but never writes, HTTP wants a Bearer token (401 without, 403 for the read
// token on a write) except /health and /ready; no secret appears in the log,
// INFO, CONFIG GET or /v1/stats; and without a password tallyd refuses to
// listen beyond loopback unless told to.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <string>
#include <vector>

#include "http_client.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

constexpr const char* kPassword = "s3cret-admin-pw";
constexpr const char* kReaderPassword = "r3ad-only-pw";

class AuthTest : public TallydTest {
 protected:
  std::vector<std::string> ExtraArgs() const override {
    return {"--password", kPassword, "--reader-password", kReaderPassword};
  }

  // redis-cli (raw output) over TCP, or over the unix socket, with extra
  // redis-cli options (-a, --user, --pass) before the command.
  std::string Cli(const std::vector<std::string>& options, const std::vector<std::string>& command,
                  bool unix_socket = false) {
    std::vector<std::string> argv{RedisCliPath()};
    if (unix_socket) {
      argv.insert(argv.end(), {"-s", daemon().unix_socket()});
    } else {
      argv.insert(argv.end(), {"-h", "127.0.0.1", "-p", std::to_string(port())});
    }
    argv.push_back("--no-auth-warning");
    argv.insert(argv.end(), options.begin(), options.end());
    argv.insert(argv.end(), command.begin(), command.end());
    ProcessResult r = RunProcess(argv);
    EXPECT_TRUE(r.exited) << r.Describe();
    return Trim(r.out + r.err);  // redis-cli prints a failed -a/--pass AUTH on stderr
  }
  HttpReply Http(const std::string& method, const std::string& target, const std::string& token,
                 const std::string& body = "") {
    HttpClient::Headers headers{{"Content-Type", "application/json"}};
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    return HttpClient::Request(daemon().http_port(), method, target, body, headers);
  }
};

TEST_F(AuthTest, TheLineProtocolWantsThePasswordOverTcpAndTheUnixSocket) {
  for (bool unix_socket : {false, true}) {
    SCOPED_TRACE(unix_socket ? "unix socket" : "tcp");
    EXPECT_EQ(Cli({}, {"PING"}, unix_socket), "NOAUTH Authentication required.");
    EXPECT_EQ(Cli({}, {"CTR.INCRBY", "user:1", "downloads", "5"}, unix_socket), "NOAUTH Authentication required.");
    EXPECT_TRUE(Contains(Cli({"-a", "wrong"}, {"PING"}, unix_socket), "AUTH failed: WRONGPASS"));
    EXPECT_EQ(Cli({"-a", kPassword}, {"CTR.INCRBY", "user:1", "downloads", "5"}, unix_socket),
              unix_socket ? "10" : "5");
    EXPECT_EQ(Cli({"--user", "default", "--pass", kPassword}, {"CTR.GET", "user:1", "downloads"}, unix_socket),
              unix_socket ? "10" : "5");
  }
}

TEST_F(AuthTest, OneConnectionAuthenticatesAndResetSignsItOut) {
  RespClient c = Connect();
  EXPECT_EQ(c.CallRaw({"GET", "k"}), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(c.CallRaw({"AUTH", "nope"}), "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(c.CallRaw({"AUTH", "nobody", kPassword}),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(c.CallRaw({"HELLO", "3"}).rfind("-NOAUTH HELLO must be called with the client already authenticated", 0),
            0u);
  EXPECT_EQ(c.CallRaw({"AUTH", kPassword}), "+OK\r\n");
  EXPECT_EQ(c.CallRaw({"SET", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(c.CallRaw({"RESET"}), "+RESET\r\n");
  EXPECT_EQ(c.CallRaw({"GET", "k"}), "-NOAUTH Authentication required.\r\n");
  // HELLO ... AUTH authenticates and switches protocol in one step.
  EXPECT_EQ(c.CallRaw({"HELLO", "2", "AUTH", "reader", kReaderPassword}).rfind("*14\r\n", 0), 0u);
  EXPECT_EQ(c.CallRaw({"GET", "k"}), "$1\r\nv\r\n");
  // A failed AUTH leaves the connection as it was (still the reader).
  EXPECT_EQ(c.CallRaw({"AUTH", "default", "wrong"}),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(c.CallRaw({"SET", "k", "w"}), "-NOPERM User reader has no permissions to run the 'set' command\r\n");
  EXPECT_EQ(c.CallRaw({"QUIT"}), "+OK\r\n");
}

TEST_F(AuthTest, TheReaderReadsButNeverWrites) {
  ASSERT_EQ(Cli({"-a", kPassword}, {"CTR.INCRBY", "user:1", "downloads", "3"}), "3");
  const std::vector<std::string> reader{"--user", "reader", "--pass", kReaderPassword};
  EXPECT_EQ(Cli(reader, {"CTR.GET", "user:1", "downloads"}), "3");
  EXPECT_EQ(Cli(reader, {"CTR.INCRBY", "user:1", "downloads", "1"}),
            "NOPERM User reader has no permissions to run the 'ctr.incrby' command");
  EXPECT_EQ(Cli(reader, {"CTR.RESET", "user:1", "downloads"}),
            "NOPERM User reader has no permissions to run the 'ctr.reset' command");
  EXPECT_EQ(Cli(reader, {"CTR.GET", "user:1", "downloads"}), "3");
  EXPECT_TRUE(Contains(Cli({"--user", "reader", "--pass", kPassword}, {"PING"}), "AUTH failed: WRONGPASS"));
}

TEST_F(AuthTest, HttpWantsABearerTokenAndTheReadTokenOnlyReads) {
  const std::string counter = "/v1/owners/user:7/counters/views";
  HttpReply none = Http("GET", counter, "");
  EXPECT_EQ(none.status, 401) << none.body;
  EXPECT_EQ(none.Header("www-authenticate"), "Bearer realm=\"tally\"");
  EXPECT_TRUE(Contains(none.body, "\"code\":\"unauthorized\"")) << none.body;
  EXPECT_EQ(Http("GET", counter, "wrong").status, 401);
  EXPECT_EQ(Http("POST", counter + "/increment", "", R"({"by": 1000000})").status, 401);
  EXPECT_EQ(Http("GET", "/metrics", "").status, 401);
  // Probes stay open.
  EXPECT_EQ(Http("GET", "/health", "").status, 200);
  EXPECT_EQ(Http("GET", "/ready", "").status, 200);

  HttpReply admin = Http("POST", counter + "/increment", kPassword, R"({"by": 2})");
  EXPECT_EQ(admin.status, 200) << admin.body;
  HttpReply read = Http("GET", counter, kReaderPassword);
  EXPECT_EQ(read.status, 200) << read.body;
  EXPECT_TRUE(Contains(read.body, "\"value\":2")) << read.body;
  HttpReply refused = Http("POST", counter + "/increment", kReaderPassword, R"({"by": 5})");
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_TRUE(Contains(refused.body, "\"code\":\"forbidden\"")) << refused.body;
  EXPECT_EQ(Http("DELETE", counter, kReaderPassword).status, 403);
  EXPECT_TRUE(Contains(Http("GET", counter, kPassword).body, "\"value\":2"));
  EXPECT_EQ(Http("GET", "/metrics", kReaderPassword).status, 200);
}

TEST_F(AuthTest, NoSecretInTheLogInfoConfigOrStats) {
  ASSERT_EQ(Cli({"-a", kPassword}, {"CTR.INCRBY", "user:1", "downloads", "1"}), "1");
  EXPECT_EQ(Cli({}, {"AUTH", "wrong-guess"}), "WRONGPASS invalid username-password pair or user is disabled.");
  std::string seen = daemon().ReadLog();
  seen += Cli({"-a", kPassword}, {"INFO", "everything"});
  seen += Cli({"-a", kPassword}, {"CONFIG", "GET", "*"});
  seen += Http("GET", "/v1/stats", kPassword).body;
  seen += Http("GET", "/metrics", kPassword).body;
  for (const char* secret : {kPassword, kReaderPassword, "wrong-guess"}) {
    EXPECT_FALSE(Contains(seen, secret)) << secret << " was shown";
  }
  EXPECT_TRUE(Contains(daemon().ReadLog(), "authentication: on (default and reader users)"));
}

TEST(AuthStartTest, ListeningBeyondLoopbackWithoutAPasswordIsRefused) {
  TallydProcess refused({"--bind", "0.0.0.0"});
  ASSERT_TRUE(refused.Spawn());
  for (int i = 0; i < 200 && refused.Alive(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_FALSE(refused.Alive());
  EXPECT_TRUE(WIFEXITED(refused.last_wait_status()) && WEXITSTATUS(refused.last_wait_status()) == 2)
      << refused.last_wait_status();
  EXPECT_FALSE(std::filesystem::exists(refused.data_dir())) << "refused before creating anything";
  EXPECT_TRUE(Contains(refused.ReadLog(), "refusing to listen on 0.0.0.0")) << refused.ReadLog();

  TallydProcess allowed({"--bind", "0.0.0.0", "--allow-public-without-auth", "yes"});
  ASSERT_TRUE(allowed.Start());
  EXPECT_TRUE(Contains(allowed.ReadLog(), "NO AUTHENTICATION on 0.0.0.0")) << allowed.ReadLog();

  TallydProcess with_password({"--http-bind", "0.0.0.0", "--password", kPassword});
  ASSERT_TRUE(with_password.Start());
}

TEST(AuthStartTest, ThePasswordFromAFile) {
  TempDir dir;
  const std::string file = dir.Sub("password");
  std::ofstream(file) << kPassword << "\n";
  TallydProcess daemon({"--password-file", file});
  ASSERT_TRUE(daemon.Start());
  ProcessResult r = RunProcess({RedisCliPath(), "-p", std::to_string(daemon.port()), "--no-auth-warning", "-a",
                                kPassword, "CTR.INCRBY", "user:1", "k", "4"});
  EXPECT_EQ(Trim(r.out), "4");
  r = RunProcess({RedisCliPath(), "-p", std::to_string(daemon.port()), "CTR.GET", "user:1", "k"});
  EXPECT_EQ(Trim(r.out), "NOAUTH Authentication required.");
}

}  // namespace
}  // namespace tally::itest
