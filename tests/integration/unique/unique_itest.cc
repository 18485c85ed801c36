// Distinct counts (UNIQ.ADD, UNIQ.COUNT; docs/metering.md) against the real
// tallyd, over RESP and HTTP: unique customers today, this month, over the
// last 30 days and ever, with members spread over ten days by AT (a range is
// the union of its days, not their sum), checked against a model of the
// members; a large count within three standard errors; and all of it the
// same after kill -9 and a restart, with compacted cells and a log on top.

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "http_client.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

using json = nlohmann::json;
constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kHourMs = 3'600'000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2026-12-06" and "2026-12" of an instant, UTC (the daemon's zone).
std::string Date(int64_t ms, const char* format = "%Y-%m-%d") {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char out[16];
  std::strftime(out, sizeof out, format, &tm);
  return out;
}

std::string Customer(int i) { return "customer:" + std::to_string(i); }

class UniqueTest : public TallydTest {
 protected:
  // Frequent compactions: the kill finds compacted cells and a log on top.
  std::vector<std::string> ExtraArgs() const override { return {"--compaction-interval-ms", "100"}; }

  void SetUp() override {
    // Every count below is of "today": stay away from midnight (and the hour's end).
    const int64_t to_next = kHourMs - NowMs() % kHourMs;
    if (to_next < 20'000) std::this_thread::sleep_for(std::chrono::milliseconds(to_next + 500));
    now_ = NowMs();
    TallydTest::SetUp();
  }

  // Day d (d days ago) sees customers 10d .. 10d + 29: neighbouring days overlap.
  std::set<std::string> DayMembers(int d) const {
    std::set<std::string> members;
    for (int i = 10 * d; i < 10 * d + 30; ++i) members.insert(Customer(i));
    return members;
  }
  int64_t DayMs(int d) const { return now_ - d * kDayMs; }

  // Days 0..9 over RESP (even days) and HTTP (odd days), one call per day.
  void AddDays() {
    RespClient client = Connect();
    for (int d = 0; d < kDays; ++d) {
      const std::set<std::string> members = DayMembers(d);
      if (d % 2 == 0) {
        std::vector<std::string> args{"UNIQ.ADD", "org:acme", "customers"};
        args.insert(args.end(), members.begin(), members.end());
        args.insert(args.end(), {"AT", std::to_string(DayMs(d))});
        RespValue reply = client.Call(args);
        ASSERT_EQ(reply.type, RespValue::Type::kInteger) << reply.ToString();
        EXPECT_EQ(reply.integer, 1);
      } else {
        json body{{"members", json(std::vector<std::string>(members.begin(), members.end()))}, {"at", DayMs(d)}};
        HttpReply reply =
            HttpClient::Request(daemon().http_port(), "POST", "/v1/owners/org:acme/unique/customers", body.dump());
        ASSERT_EQ(reply.status, 200) << reply.Describe();
        EXPECT_EQ(json::parse(reply.body)["changed"], true) << reply.body;
      }
      if (d == kDays / 2) std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a compaction or two
    }
    // Nothing new: 0 / false.
    RespValue again = client.Call({"UNIQ.ADD", "org:acme", "customers", Customer(0), Customer(1)});
    EXPECT_EQ(again.integer, 0) << again.ToString();
  }

  int64_t RespCount(const std::vector<std::string>& period_args) {
    std::vector<std::string> args{"UNIQ.COUNT", "org:acme", "customers"};
    args.insert(args.end(), period_args.begin(), period_args.end());
    RespValue reply = Connect().Call(args);
    EXPECT_EQ(reply.type, RespValue::Type::kInteger) << reply.ToString();
    return reply.integer;
  }
  int64_t HttpCount(const std::string& query) {
    HttpReply reply = HttpClient::Request(daemon().http_port(), "GET", "/v1/owners/org:acme/unique/customers" + query);
    EXPECT_EQ(reply.status, 200) << reply.Describe();
    if (reply.status != 200) return -1;
    return json::parse(reply.body)["count"].get<int64_t>();
  }

  // Every count over both front ends against the model.
  void CheckCounts() {
    std::set<std::string> all, month;
    const std::string this_month = Date(now_, "%Y-%m");
    for (int d = 0; d < kDays; ++d) {
      for (const std::string& m : DayMembers(d)) {
        all.insert(m);
        if (Date(DayMs(d), "%Y-%m") == this_month) month.insert(m);
      }
    }
    const int64_t today = static_cast<int64_t>(DayMembers(0).size());
    const int64_t last_30 = static_cast<int64_t>(all.size());
    const std::string from = Date(now_ - 29 * kDayMs);
    const std::string to = Date(now_);
    EXPECT_EQ(RespCount({"day"}), today);
    EXPECT_EQ(RespCount({"day", Date(DayMs(3))}), 30);
    EXPECT_EQ(RespCount({"month"}), static_cast<int64_t>(month.size()));
    EXPECT_EQ(RespCount({"day", "FROM", from, "TO", "current"}), last_30) << "the union, not the sum of the days";
    EXPECT_EQ(RespCount({"day", "FROM", from, "TO", to}), last_30);
    EXPECT_EQ(RespCount({"total"}), last_30);
    EXPECT_EQ(HttpCount("?interval=day"), today);
    EXPECT_EQ(HttpCount("?interval=month"), static_cast<int64_t>(month.size()));
    EXPECT_EQ(HttpCount("?interval=day&from=" + from + "&to=current"), last_30);
    EXPECT_EQ(HttpCount(""), last_30);
    // The large count: within three standard errors, and its day range is
    // the same union as its total.
    const int64_t big_total = Connect().Call({"UNIQ.COUNT", "org:big", "visitors", "total"}).integer;
    EXPECT_LT(std::abs(static_cast<double>(big_total) - kBig) / kBig, 3 * 0.0081) << big_total;
    EXPECT_EQ(Connect().Call({"UNIQ.COUNT", "org:big", "visitors", "day", "FROM", from, "TO", "current"}).integer,
              big_total);
  }

  void AddBig() {
    RespClient client = Connect();
    for (int begin = 0; begin < kBig; begin += 1000) {
      std::vector<std::string> args{"UNIQ.ADD", "org:big", "visitors"};
      for (int i = begin; i < begin + 1000; ++i) args.push_back("v" + std::to_string(i));
      args.insert(args.end(), {"AT", std::to_string(DayMs(begin / 1000 % kDays))});
      ASSERT_EQ(client.Call(args).integer, 1);
    }
  }

  static constexpr int kDays = 10;
  static constexpr int kBig = 20'000;
  int64_t now_ = 0;
};

TEST_F(UniqueTest, UniqueCustomersThisMonthAndOverTheLast30Days) {
  AddDays();
  AddBig();
  CheckCounts();
}

TEST_F(UniqueTest, EverythingHoldsAfterKill9AndRestart) {
  AddDays();
  AddBig();
  ASSERT_TRUE(daemon().KillAndRestart());
  CheckCounts();
  // Adds go on where they were: nothing new is new again.
  RespClient client = Connect();
  EXPECT_EQ(client.Call({"UNIQ.ADD", "org:acme", "customers", Customer(0), "AT", std::to_string(DayMs(0))}).integer, 0);
  EXPECT_EQ(client.Call({"UNIQ.ADD", "org:acme", "customers", "customer:new"}).integer, 1);
  EXPECT_EQ(RespCount({"total"}), 121);
  ASSERT_TRUE(daemon().KillAndRestart());
  EXPECT_EQ(RespCount({"total"}), 121);
  EXPECT_EQ(RespCount({"day"}), 31);
}

TEST_F(UniqueTest, BadInputIsRefusedAndChangesNothing) {
  EXPECT_EQ(Cli({"UNIQ.ADD", "bad owner", "k", "m"}).rfind("(error) ERR invalid owner", 0), 0u);
  EXPECT_NE(Cli({"UNIQ.ADD", "o", "k", "m", "AT", "soon"}).find("not an integer"), std::string::npos);
  EXPECT_NE(Cli({"UNIQ.COUNT", "o", "k", "fortnight"}).find("unknown interval"), std::string::npos);
  EXPECT_NE(Cli({"UNIQ.COUNT", "o", "k", "day", "FROM", "2024-12-05", "TO", "2024-12-04"}).find("after"),
            std::string::npos);
  EXPECT_NE(Cli({"UNIQ.COUNT", "o", "k", "total", "FROM", "total", "TO", "total"}).find("calendar interval"),
            std::string::npos);
  HttpReply wrong = HttpClient::Request(daemon().http_port(), "POST", "/v1/owners/o/unique/k", R"({"members": [1]})");
  EXPECT_EQ(wrong.status, 400) << wrong.Describe();
  HttpReply empty = HttpClient::Request(daemon().http_port(), "POST", "/v1/owners/o/unique/k", R"({"members": []})");
  EXPECT_EQ(empty.status, 400) << empty.Describe();
  EXPECT_EQ(Cli({"UNIQ.COUNT", "o", "k", "total"}), "(integer) 0");
}

}  // namespace
}  // namespace tally::itest
