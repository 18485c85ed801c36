// The audit trail names who made an HTTP change from the token the request
// carried, never from what the client says (docs/operations.md, "Access
// control"): named tokens (http_named_tokens) record their name, the shared
// tokens "admin-token" / "read-token", no authentication "local"; X-Actor is
// only a label after it ("alice (as: bob)"). A reader-role named token cannot
// write; a bad token setting stops tallyd with exit 2 and a message naming
// it. The line protocol's BY is unchanged.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "http_client.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

using nlohmann::json;

constexpr const char* kPassword = "shared-admin-pw";
constexpr const char* kReaderPassword = "shared-reader-pw";
constexpr const char* kAliceSecret = "alice-secret-token-1";
constexpr const char* kGrafanaSecret = "grafana-secret-token-2";

std::string WriteFile(TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.Sub(name);
  std::ofstream(path) << text;
  return path;
}

HttpReply Http(int port, const std::string& method, const std::string& target, const std::string& token,
               const std::string& body = "", const std::string& actor = "") {
  HttpClient::Headers headers{{"Content-Type", "application/json"}};
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
  if (!actor.empty()) headers.emplace_back("X-Actor", actor);
  return HttpClient::Request(port, method, target, body, headers);
}

// The newest audit records (compaction makes them readable: waits for `count`).
json NewestAudit(int port, const std::string& token, size_t count) {
  json records;
  for (int i = 0; i < 200; ++i) {
    HttpReply reply = Http(port, "GET", "/v1/audit?order=desc&limit=" + std::to_string(count), token);
    EXPECT_EQ(reply.status, 200) << reply.body;
    records = json::parse(reply.body, nullptr, false)["audit"];
    if (records.size() >= count) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return records;
}

class NamedTokensTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string alice = WriteFile(secrets_, "alice", std::string(kAliceSecret) + "\n");
    const std::string grafana = WriteFile(secrets_, "grafana", std::string(kGrafanaSecret) + "\r\n");
    daemon_ = std::make_unique<TallydProcess>(std::vector<std::string>{
        "--password", kPassword, "--reader-password", kReaderPassword, "--http-named-tokens",
        "alice:admin:" + alice + ", grafana:reader:" + grafana, "--compaction-interval-ms", "50"});
    ASSERT_TRUE(daemon_->Start());
  }
  int http() const { return daemon_->http_port(); }
  // The audit trail's count so far (all records, any actor).
  size_t AuditSize() {
    return json::parse(Http(http(), "GET", "/v1/audit?limit=10000", kPassword).body, nullptr, false)["audit"].size();
  }

  TempDir secrets_;
  std::unique_ptr<TallydProcess> daemon_;
};

TEST_F(NamedTokensTest, AResetRecordsTheTokensNameAndXActorCannotForgeIt) {
  const std::string counter = "/v1/owners/user:1/counters/downloads";
  ASSERT_EQ(Http(http(), "PUT", counter, kAliceSecret, R"({"value": 5})").status, 200);
  ASSERT_EQ(Http(http(), "POST", counter + "/reset", kAliceSecret, "{}").status, 200);
  // X-Actor claims to be bob: kept as a label after the identity only.
  ASSERT_EQ(Http(http(), "POST", counter + "/reset", kAliceSecret, "{}", "bob").status, 200);
  // The shared admin token cannot pass itself off as alice either.
  ASSERT_EQ(Http(http(), "POST", counter + "/reset", kPassword, "{}", "alice").status, 200);
  // A label that tries to look like a whole actor is still only a label.
  ASSERT_EQ(Http(http(), "POST", counter + "/reset", kPassword, "{}", "alice (as: x)").status, 200);
  // A label equal to the identity adds nothing.
  ASSERT_EQ(Http(http(), "POST", counter + "/reset", kAliceSecret, "{}", "alice").status, 200);

  const json audit = NewestAudit(http(), kAliceSecret, 6);
  ASSERT_EQ(audit.size(), 6u) << audit;
  EXPECT_EQ(audit[0]["actor"], "alice");
  EXPECT_EQ(audit[1]["actor"], "admin-token (as: alice (as: x))");
  EXPECT_EQ(audit[2]["actor"], "admin-token (as: alice)");
  EXPECT_EQ(audit[3]["actor"], "alice (as: bob)");
  EXPECT_EQ(audit[4]["actor"], "alice");
  EXPECT_EQ(audit[4]["command"], "CTR.RESET");
  EXPECT_EQ(audit[5]["actor"], "alice");
  EXPECT_EQ(audit[5]["command"], "CTR.SET");

  // A label too long to fit is cut; the identity never is.
  const std::string long_label(128, 'z');
  ASSERT_EQ(Http(http(), "POST", counter + "/reset", kAliceSecret, "{}", long_label).status, 200);
  const std::string actor = NewestAudit(http(), kAliceSecret, 7)[0]["actor"];
  EXPECT_EQ(actor.size(), 128u) << actor;
  EXPECT_EQ(actor.rfind("alice (as: zzz", 0), 0u) << actor;
  EXPECT_EQ(actor.substr(actor.size() - 4), "...)") << actor;

  // An invalid X-Actor is refused as before (invalid_actor) and changes nothing.
  const size_t before = AuditSize();
  HttpReply bad = Http(http(), "PUT", counter, kAliceSecret, R"({"value": 9})", std::string(129, 'b'));
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_TRUE(Contains(bad.body, "\"code\":\"invalid_actor\"")) << bad.body;
  EXPECT_TRUE(Contains(bad.body, "X-Actor: invalid actor")) << bad.body;
  EXPECT_TRUE(Contains(Http(http(), "GET", counter, kAliceSecret).body, "\"value\":0"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // a few compactions
  EXPECT_EQ(AuditSize(), before);
}

TEST_F(NamedTokensTest, EveryAuditedWriteCarriesTheIdentity) {
  ASSERT_EQ(Http(http(), "PUT", "/v1/plans/pro", kAliceSecret,
                 R"({"features": {"api_calls": {"limit": 100, "period": "month"}}})", "ops-ticket-42")
                .status,
            200);
  ASSERT_EQ(Http(http(), "PUT", "/v1/owners/team:1/plan", kAliceSecret, R"({"plan": "pro"})").status, 200);
  HttpReply grant = Http(http(), "POST", "/v1/owners/team:1/credits", kAliceSecret,
                         R"({"feature": "api_calls", "amount": 5})", "support");
  ASSERT_EQ(grant.status, 201) << grant.body;
  EXPECT_EQ(json::parse(grant.body)["by"], "alice (as: support)") << grant.body;
  ASSERT_EQ(Http(http(), "POST", "/v1/owners/user:2/counters/k/adjust", kAliceSecret, R"({"by": 3})").status, 200);
  const json audit = NewestAudit(http(), kAliceSecret, 4);
  ASSERT_EQ(audit.size(), 4u) << audit;
  EXPECT_EQ(audit[0]["command"], "CTR.ADJUST");
  EXPECT_EQ(audit[0]["actor"], "alice");
  EXPECT_EQ(audit[1]["actor"], "alice (as: support)");
  EXPECT_EQ(audit[2]["command"], "PLAN.ASSIGN");
  EXPECT_EQ(audit[2]["actor"], "alice");
  EXPECT_EQ(audit[3]["command"], "PLAN.SET");
  EXPECT_EQ(audit[3]["actor"], "alice (as: ops-ticket-42)");
}

TEST_F(NamedTokensTest, AReaderNamedTokenReadsButGets403OnEveryWrite) {
  const std::string counter = "/v1/owners/user:3/counters/downloads";
  ASSERT_EQ(Http(http(), "POST", counter + "/increment", kAliceSecret, R"({"by": 4})").status, 200);
  HttpReply read = Http(http(), "GET", counter, kGrafanaSecret);
  EXPECT_EQ(read.status, 200) << read.body;
  EXPECT_TRUE(Contains(read.body, "\"value\":4")) << read.body;
  const size_t before = AuditSize();
  for (const auto& [method, target, body] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"POST", counter + "/reset", "{}"},
           {"PUT", counter, R"({"value": 1})"},
           {"DELETE", counter, ""},
           {"POST", counter + "/increment", R"({"by": 1})"},
           {"PUT", "/v1/plans/free", R"({"features": {"x": {"limit": 1, "period": "day"}}})"}}) {
    SCOPED_TRACE(method + " " + target);
    HttpReply refused = Http(http(), method, target, kGrafanaSecret, body, "grafana-admin");
    EXPECT_EQ(refused.status, 403) << refused.body;
    EXPECT_TRUE(Contains(refused.body, "\"code\":\"forbidden\"")) << refused.body;
  }
  EXPECT_TRUE(Contains(Http(http(), "GET", counter, kGrafanaSecret).body, "\"value\":4"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(AuditSize(), before);
  // The dashboard's session names the token and its role.
  EXPECT_EQ(Http(http(), "GET", "/dashboard/session", kGrafanaSecret).body,
            R"({"auth_required":true,"can_write":false,"identity":"reader","name":"grafana"})");
  EXPECT_EQ(Http(http(), "GET", "/dashboard/session", kAliceSecret).body,
            R"({"auth_required":true,"can_write":true,"identity":"admin","name":"alice"})");
}

TEST_F(NamedTokensTest, TheSharedTokensStillWorkAndTheLineProtocolKeepsItsBy) {
  const std::string counter = "/v1/owners/user:4/counters/downloads";
  ASSERT_EQ(Http(http(), "PUT", counter, kPassword, R"({"value": 2})").status, 200);
  EXPECT_EQ(Http(http(), "GET", counter, kReaderPassword).status, 200);
  EXPECT_EQ(Http(http(), "POST", counter + "/reset", kReaderPassword, "{}").status, 403);
  EXPECT_EQ(Http(http(), "GET", counter, "not-a-token").status, 401);
  EXPECT_EQ(Http(http(), "GET", "/dashboard/session", kReaderPassword).body,
            R"({"auth_required":true,"can_write":false,"identity":"reader","name":"read-token"})");
  // A named token's secret is no password of the line protocol.
  auto resp = RespClient::ConnectTcp(daemon_->port());
  ASSERT_TRUE(resp.has_value());
  EXPECT_TRUE(resp->Call({"AUTH", kAliceSecret}).is_error());
  ASSERT_EQ(resp->Call({"AUTH", kPassword}).str, "OK");
  // RESP's BY is what the client says, as before.
  ASSERT_FALSE(resp->Call({"CTR.RESET", "user:4", "downloads", "BY", "mallory"}).is_error());
  const json audit = NewestAudit(http(), kPassword, 2);
  ASSERT_EQ(audit.size(), 2u) << audit;
  EXPECT_EQ(audit[0]["actor"], "mallory");
  EXPECT_EQ(audit[1]["actor"], "admin-token");
  // Token names are shown nowhere with their secrets.
  const std::string seen = daemon_->ReadLog() + Http(http(), "GET", "/v1/stats", kPassword).body;
  for (const char* secret : {kAliceSecret, kGrafanaSecret}) EXPECT_FALSE(Contains(seen, secret)) << secret;
}

TEST(NoAuthIdentityTest, WithoutAuthenticationTheActorIsLocal) {
  TallydProcess daemon({"--compaction-interval-ms", "50"});
  ASSERT_TRUE(daemon.Start());
  const std::string counter = "/v1/owners/user:5/counters/downloads";
  ASSERT_EQ(Http(daemon.http_port(), "PUT", counter, "", R"({"value": 2})").status, 200);
  ASSERT_EQ(Http(daemon.http_port(), "POST", counter + "/reset", "", "{}", "carol").status, 200);
  const json audit = NewestAudit(daemon.http_port(), "", 2);
  ASSERT_EQ(audit.size(), 2u) << audit;
  EXPECT_EQ(audit[0]["actor"], "local (as: carol)");
  EXPECT_EQ(audit[1]["actor"], "local");
}

// Each bad http_named_tokens stops tallyd before it creates anything: exit 2
// and one line naming the setting.
TEST(NamedTokenConfigTest, BadSettingsRefuseToStart) {
  TempDir dir;
  const std::string a = WriteFile(dir, "a", "secret-a\n");
  const std::string a_again = WriteFile(dir, "a2", "secret-a\n");
  const std::string b = WriteFile(dir, "b", "secret-b\n");
  const std::string empty = WriteFile(dir, "empty", "\nsecond line\n");
  const std::string same_as_password = WriteFile(dir, "pw", "the-password\n");
  const std::string missing = dir.Sub("no-such-file");
  struct Case {
    std::string tokens;
    std::string message;
    bool with_password = true;
  };
  const std::vector<Case> cases = {
      {"alice:admin:" + a + ",alice:reader:" + b, "http_named_tokens: the name 'alice' is given twice"},
      {"alice:admin:" + a + ",bob:reader:" + a_again,
       "http_named_tokens: alice and bob have the same secret: each token must have its own"},
      {"alice:admin:" + empty, "http_named_tokens: alice's file '" + empty + "': the first line is empty"},
      {"alice:admin:" + missing, "http_named_tokens: alice's file '" + missing + "' cannot be read"},
      {"alice:root:" + a, "http_named_tokens: alice has role 'root': use admin or reader"},
      {"al ice:admin:" + a, "http_named_tokens: 'al ice' is not a valid token name"},
      {"admin-token:admin:" + a, "http_named_tokens: 'admin-token' is the name of a built-in identity"},
      {"alice:admin", "http_named_tokens: 'alice:admin' is not name:role:file"},
      {"alice:admin:" + same_as_password, "http_named_tokens: alice's secret is the same as password"},
      {"alice:admin:" + a, "http_named_tokens is set but password is not", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.tokens);
    std::vector<std::string> args{"--http-named-tokens", c.tokens};
    if (c.with_password) args.insert(args.end(), {"--password", "the-password"});
    TallydProcess refused(args);
    ASSERT_TRUE(refused.Spawn());
    for (int i = 0; i < 300 && refused.Alive(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_FALSE(refused.Alive());
    EXPECT_TRUE(WIFEXITED(refused.last_wait_status()) && WEXITSTATUS(refused.last_wait_status()) == 2)
        << refused.last_wait_status();
    const std::string log = refused.ReadLog();
    EXPECT_TRUE(Contains(log, "bad setting: " + c.message)) << log;
    EXPECT_FALSE(Contains(log, "secret-a")) << "a secret was logged: " << log;
    EXPECT_FALSE(std::filesystem::exists(refused.data_dir())) << "refused before creating anything";
  }
}

}  // namespace
}  // namespace tally::itest
