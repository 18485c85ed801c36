// The dashboard's files as tallyd serves them (net/dashboard.h), over real
// HTTP: `/` and `/dashboard/<file>` without a token, each with its
// Content-Type, a strict Content-Security-Policy and an ETag the browser can
// revalidate (304); unknown files are 404; `/dashboard/session` tells the
// page whether a token is needed and what the given one may do; the API
// behind it still wants the token. The browser tests are dashboard_e2e_test.cc.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "tallyd_process.h"

namespace tally::itest {
namespace {

constexpr char kAdminToken[] = "dash-admin-secret";
constexpr char kReaderToken[] = "dash-reader-secret";

HttpReply Get(const TallydProcess& daemon, const std::string& target, const HttpClient::Headers& headers = {}) {
  return HttpClient::Request(daemon.http_port(), "GET", target, "", headers);
}

TEST(DashboardServingTest, FilesAreServedWithoutATokenWithTheirTypeAndAStrictPolicy) {
  TallydProcess daemon({"--password", kAdminToken, "--reader-password", kReaderToken});
  ASSERT_TRUE(daemon.Start());

  HttpReply index = Get(daemon, "/");
  ASSERT_EQ(index.status, 200) << index.Describe();
  EXPECT_EQ(index.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("<script type=\"module\" src=\"/dashboard/js/app.js\"></script>"), std::string::npos);
  EXPECT_EQ(index.body.find("<script>"), std::string::npos) << "no inline script";
  const std::string policy = index.Header("content-security-policy");
  EXPECT_NE(policy.find("default-src 'self'"), std::string::npos) << policy;
  EXPECT_EQ(policy.find("unsafe-inline"), std::string::npos) << policy;
  EXPECT_EQ(index.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(index.Header("cache-control"), "no-cache");
  EXPECT_EQ(Get(daemon, "/dashboard/").body, index.body);
  EXPECT_EQ(Get(daemon, "/dashboard/index.html").body, index.body);

  for (const auto& [file, type] : {std::pair{"/dashboard/js/app.js", "text/javascript; charset=utf-8"},
                                   {"/dashboard/dashboard.css", "text/css; charset=utf-8"},
                                   {"/dashboard/favicon.svg", "image/svg+xml"}}) {
    HttpReply reply = Get(daemon, file);
    EXPECT_EQ(reply.status, 200) << file << ": " << reply.Describe();
    EXPECT_EQ(reply.Header("content-type"), type) << file;
    EXPECT_FALSE(reply.body.empty()) << file;
  }

  // The browser revalidates with the ETag: 304 and no body while unchanged.
  const std::string etag = index.Header("etag");
  ASSERT_FALSE(etag.empty());
  HttpReply again = Get(daemon, "/", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304) << again.Describe();
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(Get(daemon, "/", {{"If-None-Match", "\"something-else\""}}).status, 200);

  EXPECT_EQ(Get(daemon, "/dashboard/no-such-file.js").status, 404);
  EXPECT_EQ(Get(daemon, "/dashboard/%2e%2e/CMakeLists.txt").status, 404);
  EXPECT_EQ(Get(daemon, "/dashboard/..%2fembed.cmake").status, 404);
  EXPECT_EQ(Get(daemon, "/dashboard/embed.cmake").status, 404) << "only the page's files are embedded";
  HttpReply post = HttpClient::Request(daemon.http_port(), "POST", "/", "{}", {{"Content-Type", "application/json"}});
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.Header("allow"), "GET, HEAD");
  HttpReply head = HttpClient::Request(daemon.http_port(), "HEAD", "/dashboard/js/app.js");
  EXPECT_EQ(head.status, 200);

  // The data behind the page still wants the token.
  EXPECT_EQ(Get(daemon, "/v1/stats").status, 401);
  EXPECT_EQ(Get(daemon, "/v1/stats", {{"Authorization", std::string("Bearer ") + kReaderToken}}).status, 200);
}

TEST(DashboardServingTest, SessionSaysWhetherATokenIsNeededAndWhatItMayDo) {
  TallydProcess daemon({"--password", kAdminToken, "--reader-password", kReaderToken});
  ASSERT_TRUE(daemon.Start());
  const auto session = [&](const std::string& token) {
    HttpClient::Headers headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    HttpReply reply = Get(daemon, "/dashboard/session", headers);
    EXPECT_EQ(reply.status, 200) << reply.Describe();
    EXPECT_EQ(reply.Header("cache-control"), "no-store");
    return reply.body;
  };
  EXPECT_EQ(session(""), R"({"auth_required":true,"can_write":false,"identity":"none","name":""})");
  EXPECT_EQ(session("wrong"), R"({"auth_required":true,"can_write":false,"identity":"none","name":""})");
  EXPECT_EQ(session(kReaderToken),
            R"({"auth_required":true,"can_write":false,"identity":"reader","name":"read-token"})");
  EXPECT_EQ(session(kAdminToken), R"({"auth_required":true,"can_write":true,"identity":"admin","name":"admin-token"})");

  TallydProcess open;
  ASSERT_TRUE(open.Start());
  HttpReply reply = Get(open, "/dashboard/session");
  EXPECT_EQ(reply.body, R"({"auth_required":false,"can_write":true,"identity":"admin","name":"local"})");
}

// The page calls the API from its own origin: the browser guards let it
// (Origin equal to the server's own), and still refuse another site.
TEST(DashboardServingTest, ThePagesOwnOriginMayCallTheApi) {
  TallydProcess daemon;
  ASSERT_TRUE(daemon.Start());
  // As a browser sends them: Host with the port, and the page's origin.
  const std::string host = "127.0.0.1:" + std::to_string(daemon.http_port());
  const std::string own = "http://" + host;
  HttpReply stats = HttpClient::Request(daemon.http_port(), "GET", "/v1/stats", "", {{"Host", host}, {"Origin", own}});
  EXPECT_EQ(stats.status, 200) << stats.Describe();
  HttpReply write =
      HttpClient::Request(daemon.http_port(), "POST", "/v1/owners/user:1/counters/downloads/reset", "{}",
                          {{"Host", host}, {"Origin", own}, {"Content-Type", "application/json"}, {"X-Actor", "page"}});
  EXPECT_EQ(write.status, 200) << write.Describe();
  HttpReply other = HttpClient::Request(daemon.http_port(), "GET", "/v1/stats", "",
                                        {{"Host", host}, {"Origin", "http://evil.example"}});
  EXPECT_EQ(other.status, 403);
  // The dashboard's files too: another site's page cannot frame or fetch them usefully.
  EXPECT_EQ(HttpClient::Request(daemon.http_port(), "GET", "/", "", {{"Host", host}, {"Origin", "http://evil.example"}})
                .status,
            403);
}

// The dashboard keeps the alert stream open while it makes other requests,
// some without a token (its files, /dashboard/session; and load balancers
// probe /health). The stream's later reads must run as the stream's own
// token, not as whichever request the HTTP thread handled last (they did,
// and the stream ended with an "unauthorized" error event).
TEST(DashboardServingTest, TheAlertStreamKeepsItsTokenWhileRequestsWithoutOneComeAndGo) {
  TallydProcess daemon({"--password", kAdminToken, "--compaction-interval-ms", "100"});
  ASSERT_TRUE(daemon.Start());
  const HttpClient::Headers admin{{"Authorization", std::string("Bearer ") + kAdminToken},
                                  {"Content-Type", "application/json"}};
  const int port = daemon.http_port();
  ASSERT_EQ(
      HttpClient::Request(port, "PUT", "/v1/plans/pro",
                          R"({"features": {"api_calls": {"limit": 100, "period": "month", "alerts": [50]}}})", admin)
          .status,
      200);
  ASSERT_EQ(HttpClient::Request(port, "PUT", "/v1/owners/t:1/plan", R"({"plan": "pro"})", admin).status, 200);

  auto stream = HttpClient::Connect(port);
  ASSERT_TRUE(stream.has_value());
  ASSERT_TRUE(stream->Send(HttpClient::Encode("GET", "/v1/alerts/stream", "", {admin[0]})));
  ASSERT_EQ(
      HttpClient::Request(port, "POST", "/v1/owners/t:1/quotas/api_calls/consume", R"({"amount": 60})", admin).status,
      200);
  // Requests without a token while the alert becomes readable (about 0.25 s).
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(Get(daemon, i % 2 ? "/health" : "/dashboard/session").status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  std::string received;
  stream->ReadResponse(std::chrono::milliseconds(1500), false, [&](std::string_view chunk) { received.append(chunk); });
  EXPECT_NE(received.find("event: threshold"), std::string::npos) << received;
  EXPECT_EQ(received.find("event: error"), std::string::npos) << received;
}

}  // namespace
}  // namespace tally::itest
