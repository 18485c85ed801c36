// The HTTP connection limit cannot lock out health probes: with every
// ordinary connection taken, /health and /ready still answer (a reserve of
// probe connections, each allowed one request), anything else gets 429
// too_many_connections; past the reserve, 429 comes at once.

#include <gtest/gtest.h>

#include <vector>

#include "limits_util.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

constexpr int kMaxConnections = 4;
constexpr int kProbeReserve = 16;  // kHttpProbeConnections

std::vector<HttpClient> OpenIdle(int port, int count) {
  std::vector<HttpClient> out;
  for (int i = 0; i < count; ++i) {
    auto client = HttpClient::Connect(port);
    if (client) out.push_back(std::move(*client));
  }
  return out;
}

TEST(HttpProbeTest, HealthAndReadyAnswerWhileEveryConnectionIsTaken) {
  TallydProcess daemon({"--http-max-connections", std::to_string(kMaxConnections)});
  ASSERT_TRUE(daemon.Start());
  const int port = daemon.http_port();
  // Every ordinary connection held by a client that sends nothing.
  std::vector<HttpClient> idle = OpenIdle(port, kMaxConnections);
  ASSERT_EQ(static_cast<int>(idle.size()), kMaxConnections);
  std::this_thread::sleep_for(100ms);  // accepted

  HttpReply health = HttpClient::Request(port, "GET", "/health");
  EXPECT_EQ(health.status, 200) << health;
  HttpReply ready = HttpClient::Request(port, "GET", "/ready");
  EXPECT_EQ(ready.status, 200) << ready;
  HttpReply stats = HttpClient::Request(port, "GET", "/v1/stats");
  EXPECT_EQ(stats.status, 429) << stats;
  EXPECT_TRUE(Contains(stats.body, "\"too_many_connections\"")) << stats.body;
  EXPECT_TRUE(Contains(stats.body, "only /health and /ready are answered past the limit")) << stats.body;

  // A probe connection answers one request and closes.
  auto probe = HttpClient::Connect(port);
  ASSERT_TRUE(probe.has_value());
  HttpReply first = probe->Call("GET", "/health");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.Header("connection"), "close");
  EXPECT_TRUE(probe->WaitClosed(3s));

  // Slow clients filling the probe reserve as well: then 429 at once.
  std::vector<HttpClient> reserve = OpenIdle(port, kProbeReserve);
  ASSERT_EQ(static_cast<int>(reserve.size()), kProbeReserve);
  std::this_thread::sleep_for(100ms);
  HttpReply refused = HttpClient::Request(port, "GET", "/health");
  EXPECT_EQ(refused.status, 429) << refused;
  // ... but only for as long as a probe may take to send its request (2 s).
  std::this_thread::sleep_for(2500ms);
  reserve.clear();
  HttpReply again = HttpClient::Request(port, "GET", "/health");
  EXPECT_EQ(again.status, 200) << again;

  // Ordinary connections free again: everything is served.
  idle.clear();
  std::this_thread::sleep_for(100ms);
  HttpReply served = HttpClient::Request(port, "GET", "/v1/stats");
  EXPECT_EQ(served.status, 200) << served;
  HttpReply metrics = HttpClient::Request(port, "GET", "/metrics");
  EXPECT_GE(NumberAfter(metrics.body, "\ntally_connections_rejected_total{transport=\"http\"} "), 2);
  EXPECT_TRUE(daemon.Stop());
}

}  // namespace
}  // namespace tally::itest
