// Memory held by incomplete requests: clients that send huge incomplete
// multibulks or half-send large bulks are closed with "-ERR query buffer
// limit reached ..." once they pass client_query_buffer_limit or, together,
// total_query_buffer_limit; tallyd's RSS stays under the cap plus a margin;
// other clients are served throughout; /metrics counts the closed clients.

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "limits_util.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

constexpr int64_t kMiB = 1 << 20;
// Allocator slack, thread stacks, the page cache of what the test itself
// causes: what RSS may grow beyond the configured cap.
constexpr int64_t kRssMargin = 48 * kMiB;

int64_t MetricValue(int http_port, std::string_view name) {
  HttpReply reply = HttpClient::Request(http_port, "GET", "/metrics");
  return NumberAfter(reply.body, std::string("\n") + std::string(name) + " ");
}

// The state of one flooding client.
struct Flooder {
  RespClient client;
  bool closed = false;
  std::string received;
};

// Sends `piece` to every still-open client, round by round, `rounds` times,
// checking tallyd's RSS and a bystander client between rounds. A client
// whose send fails has been closed by tallyd.
void Flood(std::vector<Flooder>& flooders, const std::string& header, const std::string& piece, int rounds,
           TallydProcess& daemon, RespClient& bystander, int64_t* peak_rss) {
  for (Flooder& f : flooders) {
    if (!f.client.Send(header)) f.closed = true;
  }
  for (int round = 0; round < rounds; ++round) {
    int open = 0;
    for (Flooder& f : flooders) {
      if (f.closed) continue;
      if (!f.client.Send(piece)) {
        f.closed = true;
        continue;
      }
      ++open;
    }
    *peak_rss = std::max(*peak_rss, RssBytes(daemon.pid()));
    if (round % 8 == 0) {
      RespValue reply = bystander.Call({"INCRBY", "bystander", "1"}, 5s);
      ASSERT_EQ(reply.type, RespValue::Type::kInteger) << "round " << round << ": " << reply;
    }
    if (open == 0) break;
  }
}

// Each client ends with the error and EOF (the closed ones) or still open.
int CountClosedWithError(std::vector<Flooder>& flooders, std::string_view setting) {
  int count = 0;
  for (Flooder& f : flooders) {
    std::string received;
    if (f.client.WaitClosed(f.closed ? 5s : 200ms, &received)) {
      const std::string expected = "-ERR query buffer limit reached: " + std::string(setting) + " is ";
      EXPECT_TRUE(Contains(received, expected)) << "a closed client got: " << received.substr(0, 200);
      if (Contains(received, expected)) ++count;
    }
  }
  return count;
}

TEST(QueryBufferTest, TwentyHugeIncompleteArraysStayUnderTheTotalCap) {
  constexpr int64_t kTotal = 32 * kMiB;
  TallydProcess daemon(
      {"--client-query-buffer-limit", std::to_string(64 * kMiB), "--total-query-buffer-limit", std::to_string(kTotal)});
  ASSERT_TRUE(daemon.Start());
  auto bystander = RespClient::ConnectTcp(daemon.port());
  ASSERT_TRUE(bystander.has_value());
  ASSERT_EQ(bystander->Call({"INCRBY", "bystander", "1"}).integer, 1);
  const int64_t rss_before = RssBytes(daemon.pid());

  std::vector<Flooder> flooders(20);
  for (Flooder& f : flooders) {
    auto client = RespClient::ConnectTcp(daemon.port());
    ASSERT_TRUE(client.has_value());
    f.client = std::move(*client);
  }
  // 1,048,576 one-byte arguments announced; 256 KiB of them per round
  // (37,449 arguments: 256 KiB in the input, 600 KiB of parser spans).
  std::string piece;
  while (piece.size() < 256 * 1024) piece += "$1\r\na\r\n";
  int64_t peak_rss = rss_before;
  Flood(flooders, "*1048576\r\n", piece, 27, daemon, *bystander, &peak_rss);  // 27 rounds: about all arguments

  const int closed = CountClosedWithError(flooders, "total_query_buffer_limit");
  std::printf("20 flooders: %d closed, RSS %lld -> peak %lld MiB\n", closed, static_cast<long long>(rss_before / kMiB),
              static_cast<long long>(peak_rss / kMiB));
  // Each holds ~23 MiB at the end if let through: at most one fits under 32 MiB.
  EXPECT_GE(closed, 19);
  EXPECT_LT(peak_rss - rss_before, kTotal + kRssMargin)
      << "RSS grew from " << rss_before / kMiB << " MiB to " << peak_rss / kMiB << " MiB";
  EXPECT_EQ(MetricValue(daemon.http_port(), "tally_resp_query_buffer_closed_total"), closed);
  ASSERT_EQ(bystander->Call({"GET", "bystander"}).type, RespValue::Type::kBulk);
  EXPECT_TRUE(Contains(daemon.ReadLog(), "over total_query_buffer_limit"));
  flooders.clear();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(MetricValue(daemon.http_port(), "tally_resp_query_buffer_bytes"), 0);
  EXPECT_TRUE(daemon.Stop());
}

TEST(QueryBufferTest, HalfSentLargeBulksAreClosedAtTheConnectionLimit) {
  constexpr int64_t kPerClient = 8 * kMiB;
  constexpr int kClients = 8;
  TallydProcess daemon({"--client-query-buffer-limit", std::to_string(kPerClient), "--total-query-buffer-limit",
                        std::to_string(1024 * kMiB)});
  ASSERT_TRUE(daemon.Start());
  auto bystander = RespClient::ConnectTcp(daemon.port());
  ASSERT_TRUE(bystander.has_value());
  const int64_t rss_before = RssBytes(daemon.pid());

  std::vector<Flooder> flooders(kClients);
  for (Flooder& f : flooders) {
    auto client = RespClient::ConnectTcp(daemon.port());
    ASSERT_TRUE(client.has_value());
    f.client = std::move(*client);
  }
  // SET k <64 MiB>, sent half-way: 32 MiB in 1 MiB pieces.
  const std::string header = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$67108864\r\n";
  const std::string piece(1 << 20, 'x');
  int64_t peak_rss = rss_before;
  Flood(flooders, header, piece, 32, daemon, *bystander, &peak_rss);

  EXPECT_EQ(CountClosedWithError(flooders, "client_query_buffer_limit"), kClients);
  std::printf("8 half-sent bulks: RSS %lld -> peak %lld MiB\n", static_cast<long long>(rss_before / kMiB),
              static_cast<long long>(peak_rss / kMiB));
  EXPECT_LT(peak_rss - rss_before, kClients * kPerClient + kRssMargin)
      << "RSS grew from " << rss_before / kMiB << " MiB to " << peak_rss / kMiB << " MiB";
  EXPECT_EQ(MetricValue(daemon.http_port(), "tally_resp_query_buffer_closed_total"), kClients);
  // A command just under the limit still goes through.
  std::string value(kPerClient / 2, 'v');
  EXPECT_EQ(bystander->Call({"SET", "big", value}, 10s).str, "OK");
  EXPECT_EQ(bystander->Call({"GET", "big"}, 10s).str.size(), value.size());
  EXPECT_TRUE(daemon.Stop());
}

}  // namespace
}  // namespace tally::itest
