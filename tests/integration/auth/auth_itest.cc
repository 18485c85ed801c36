// Access control against the real tallyd (docs/operations.md, "Access
// control"): with `password` and `reader_password` set, a RESP connection
// (TCP or the unix socket) answers NOAUTH until AUTH, the reader user reads
// but never writes, HTTP wants a Bearer token (401 without, 403 for the read
// token on a write) except /health and /ready; no secret appears in the log,
// INFO, CONFIG GET or /v1/stats; and without a password tallyd refuses to
// listen beyond loopback unless told to.

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
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

// Web pages of other sites: a cross-site text/plain POST, a foreign Origin,
// a form body and a foreign Host (DNS rebinding) are refused and change
// nothing; the server's own origin, an allowed origin (with CORS headers and
// a preflight) and an allowed host name go through.
class BrowserGuardsTest : public TallydTest {
 protected:
  std::vector<std::string> ExtraArgs() const override {
    return {"--http-allowed-origins", "https://admin.example.com", "--http-allowed-hosts", "tally.internal"};
  }
  HttpReply Send(const std::string& method, const std::string& target, const std::string& body,
                 const HttpClient::Headers& headers) {
    return HttpClient::Request(daemon().http_port(), method, target, body, headers);
  }
  std::string Value() { return Send("GET", "/v1/owners/user:1/counters/downloads", "", {}).body; }
};

TEST_F(BrowserGuardsTest, CrossSiteRequestsAreRefusedAndChangeNothing) {
  const std::string increment = "/v1/owners/user:1/counters/downloads/increment";
  ASSERT_EQ(Send("POST", increment, R"({"by": 1})", {{"Content-Type", "application/json"}}).status, 200);
  const std::string before = Value();
  ASSERT_TRUE(Contains(before, "\"value\":1")) << before;

  HttpReply cross_site = Send("POST", increment, R"({"by": 1000000})",
                              {{"Origin", "https://evil.example"}, {"Content-Type", "text/plain"}});
  EXPECT_EQ(cross_site.status, 403) << cross_site.body;
  EXPECT_TRUE(Contains(cross_site.body, "origin_not_allowed")) << cross_site.body;
  HttpReply reset =
      Send("POST", "/v1/owners/user:1/counters/downloads/reset", "", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(reset.status, 403) << reset.body;
  HttpReply text = Send("POST", increment, R"({"by": 1000000})", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(text.status, 415) << text.body;
  EXPECT_TRUE(Contains(text.body, "unsupported_media_type")) << text.body;
  HttpReply form = Send("POST", increment, "by=1000000", {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(form.status, 415) << form.body;
  HttpReply rebinding = Send(
      "POST", increment, R"({"by": 1000000})",
      {{"Host", "attacker.example:" + std::to_string(daemon().http_port())}, {"Content-Type", "application/json"}});
  EXPECT_EQ(rebinding.status, 403) << rebinding.body;
  EXPECT_TRUE(Contains(rebinding.body, "host_not_allowed")) << rebinding.body;
  EXPECT_EQ(Value(), before);
}

TEST_F(BrowserGuardsTest, TheServersOwnPagesAndAllowedOnesGoThrough) {
  const std::string port = std::to_string(daemon().http_port());
  const std::string increment = "/v1/owners/user:1/counters/downloads/increment";
  const HttpClient::Headers json{{"Content-Type", "application/json"}};
  HttpReply same_origin = Send(
      "POST", increment, R"({"by": 1})",
      {{"Host", "localhost:" + port}, {"Origin", "http://localhost:" + port}, {"Content-Type", "application/json"}});
  EXPECT_EQ(same_origin.status, 200) << same_origin.body;
  EXPECT_FALSE(same_origin.HasHeader("access-control-allow-origin"));
  HttpReply allowed = Send("POST", increment, R"({"by": 1})",
                           {{"Origin", "https://admin.example.com"}, {"Content-Type", "application/json"}});
  EXPECT_EQ(allowed.status, 200) << allowed.body;
  EXPECT_EQ(allowed.Header("access-control-allow-origin"), "https://admin.example.com");
  HttpReply preflight = Send("OPTIONS", increment, "",
                             {{"Origin", "https://admin.example.com"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(preflight.status, 204) << preflight.body;
  EXPECT_TRUE(Contains(preflight.Header("access-control-allow-headers"), "Authorization"));
  EXPECT_EQ(Send("GET", "/v1/owners/user:1/counters/downloads", "", {{"Host", "tally.internal:" + port}}).status, 200);
  EXPECT_EQ(Send("GET", "/v1/owners/user:1/counters/downloads", "", {{"Host", "[::1]:" + port}}).status, 200);
  EXPECT_TRUE(Contains(Value(), "\"value\":2")) << Value();
}

// The unix socket's mode and group are settings: 0660 and tallyd's group by
// default; a group that does not exist stops tallyd before it creates anything.
TEST(UnixSocketAccessTest, ModeAndGroupAreSettings) {
  TallydProcess by_default;
  ASSERT_TRUE(by_default.Start());
  struct stat st {};
  ASSERT_EQ(::stat(by_default.unix_socket().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_gid, ::getgid());

  const struct group* own = ::getgrgid(::getgid());
  ASSERT_NE(own, nullptr);
  TallydProcess owner_only({"--unix-socket-mode", "0600", "--unix-socket-group", own->gr_name});
  ASSERT_TRUE(owner_only.Start());
  ASSERT_EQ(::stat(owner_only.unix_socket().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ProcessResult r = RunProcess({RedisCliPath(), "-s", owner_only.unix_socket(), "PING"});
  EXPECT_EQ(Trim(r.out), "PONG");

  for (const std::vector<std::string>& bad :
       std::vector<std::vector<std::string>>{{"--unix-socket-group", "no-such-group-tally", "unix_socket_group"},
                                             {"--unix-socket-mode", "0460", "unix_socket_mode"}}) {
    TallydProcess refused({bad[0], bad[1]});
    ASSERT_TRUE(refused.Spawn());
    for (int i = 0; i < 200 && refused.Alive(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_FALSE(refused.Alive()) << bad[0];
    EXPECT_EQ(WEXITSTATUS(refused.last_wait_status()), 2) << bad[0];
    EXPECT_TRUE(Contains(refused.ReadLog(), "bad setting: " + bad[2])) << refused.ReadLog();
  }
}

}  // namespace
}  // namespace tally::itest
