// One owner's feature account (core/quota_account.h) on a fixed clock:
// reservations, alerts, release order, rolling windows, figures.

#include "core/quota_account.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "civil_time.h"

namespace tally::core {
namespace {

using fixtures::kHourMs;
using fixtures::Utc;

PlanFeature Feature(std::optional<int64_t> limit, const char* period = "month", Overage overage = Overage::kReject,
                    std::vector<int> thresholds = {80, 95, 100}) {
  PlanFeature feature;
  feature.name = "api_calls";
  feature.limit = limit;
  std::string error;
  feature.period = *ParseQuotaPeriod(period, &error);
  feature.overage = overage;
  feature.alert_thresholds = std::move(thresholds);
  return feature;
}

// The account advanced to `now` in UTC, as the module does before each call.
struct Account {
  PlanFeature feature;
  FeatureAccount account;
  std::vector<QuotaEvent> Advance(int64_t now) {
    return account.Advance(feature, WindowOf(feature.period, std::nullopt, now, TimeZone::Utc()), now);
  }
  int64_t remaining() const { return account.Figures(feature).remaining.value_or(-1); }
};

std::vector<int> Thresholds(const std::vector<QuotaEvent>& events) {
  std::vector<int> out;
  for (const QuotaEvent& event : events) {
    if (event.kind == QuotaEventKind::kThreshold) out.push_back(event.threshold);
  }
  return out;
}

const int64_t kNow = Utc(2027, 3, 10, 12);

TEST(QuotaAccountTest, ReservationsHoldCommitOnceAndExpire) {
  Account a{Feature(1000)};
  a.Advance(kNow);
  EXPECT_FALSE(a.account.Reserve(a.feature, "big", 4000, kNow + 60000).allowed);
  EXPECT_EQ(a.account.HoldStateOf("big"), std::nullopt);  // a refused reserve holds nothing
  ASSERT_TRUE(a.account.Reserve(a.feature, "r1", 1000, kNow + 60000).allowed);
  EXPECT_EQ(a.account.Figures(a.feature).held, 1000);
  EXPECT_EQ(a.remaining(), 0);
  EXPECT_FALSE(a.account.Reserve(a.feature, "r2", 1, kNow + 60000).allowed);
  EXPECT_FALSE(a.account.Consume(a.feature, 1).allowed);

  CommitOutcome commit = a.account.Commit(a.feature, "r1", 743);
  EXPECT_TRUE(commit.applied);
  EXPECT_EQ(commit.consumed, 743);
  EXPECT_EQ(commit.released, 257);
  EXPECT_EQ(a.remaining(), 257);
  EXPECT_EQ(a.account.Figures(a.feature).used, 743);
  EXPECT_EQ(a.account.Figures(a.feature).held, 0);
  CommitOutcome again = a.account.Commit(a.feature, "r1", 743);
  EXPECT_FALSE(again.applied);
  EXPECT_EQ(again.state, HoldState::kCommitted);
  EXPECT_EQ(a.remaining(), 257);
  EXPECT_FALSE(a.account.Cancel("r1").applied);  // nor a cancel after the commit

  // A hold with a 60 s TTL frees itself at 60 s, once.
  ASSERT_TRUE(a.account.Reserve(a.feature, "ttl", 200, kNow + 60000).allowed);
  EXPECT_EQ(a.remaining(), 57);
  EXPECT_TRUE(a.Advance(kNow + 59999).empty());
  EXPECT_EQ(a.remaining(), 57);
  std::vector<QuotaEvent> events = a.Advance(kNow + 60000);
  EXPECT_EQ(events, (std::vector<QuotaEvent>{{QuotaEventKind::kHoldExpired, 0, "ttl"}}));
  EXPECT_EQ(a.remaining(), 257);
  EXPECT_TRUE(a.Advance(kNow + 120000).empty());
  EXPECT_EQ(a.account.HoldStateOf("ttl"), HoldState::kExpired);
  EXPECT_FALSE(a.account.Commit(a.feature, "ttl", 10).applied);
  EXPECT_FALSE(a.account.Commit(a.feature, "unknown", 10).state.has_value());
}

TEST(QuotaAccountTest, EndedHoldsAreRememberedForTheRetentionThenForgotten) {
  Account a{Feature(1000)};
  a.Advance(kNow);
  ASSERT_TRUE(a.account.Reserve(a.feature, "done", 10, kNow + 60000).allowed);
  ASSERT_TRUE(a.account.Reserve(a.feature, "lapsed", 10, kNow + 60000).allowed);
  ASSERT_TRUE(a.account.Commit(a.feature, "done", 10).applied);  // ended at kNow
  a.Advance(kNow + 60000);                                       // "lapsed" expired at kNow + 60 s
  EXPECT_EQ(a.account.HoldStateOf("lapsed"), HoldState::kExpired);

  // Within the retention a retried commit still says what became of the hold.
  a.Advance(kNow + kEndedHoldRetentionMs - 1);
  EXPECT_FALSE(a.account.TakeForgotHolds());
  EXPECT_EQ(a.account.Commit(a.feature, "done", 10).state, HoldState::kCommitted);
  // Then it is forgotten (each at its own end + the retention) and the id is free again.
  a.Advance(kNow + kEndedHoldRetentionMs);
  EXPECT_TRUE(a.account.TakeForgotHolds());
  EXPECT_FALSE(a.account.TakeForgotHolds());
  EXPECT_EQ(a.account.HoldStateOf("done"), std::nullopt);
  EXPECT_EQ(a.account.HoldStateOf("lapsed"), HoldState::kExpired);
  a.Advance(kNow + 60000 + kEndedHoldRetentionMs);
  EXPECT_EQ(a.account.HoldStateOf("lapsed"), std::nullopt);
  EXPECT_TRUE(a.account.Reserve(a.feature, "done", 5, kNow + kEndedHoldRetentionMs + 120000).allowed);

  // The end time survives encoding; a version 1 row counts an ended hold as ended at its expiry.
  Account b{Feature(1000)};
  b.Advance(kNow);
  ASSERT_TRUE(b.account.Reserve(b.feature, "r", 10, kNow + 3600000).allowed);
  ASSERT_TRUE(b.account.Cancel("r").applied);  // ended at kNow
  std::string bytes;
  b.account.EncodeTo(bytes);
  FeatureAccount copy;
  std::string_view in = bytes;
  ASSERT_TRUE(copy.DecodeFrom(in, 2));
  EXPECT_TRUE(in.empty());
  copy.Advance(b.feature, WindowOf(b.feature.period, std::nullopt, kNow + kEndedHoldRetentionMs, TimeZone::Utc()),
               kNow + kEndedHoldRetentionMs);
  EXPECT_EQ(copy.HoldStateOf("r"), std::nullopt);
}

TEST(QuotaAccountTest, CommitAboveTheHoldDrawsTheExtraOrReportsTheShortfall) {
  Account reject{Feature(100)};
  reject.Advance(kNow);
  ASSERT_TRUE(reject.account.Reserve(reject.feature, "r", 50, kNow + 60000).allowed);
  ASSERT_TRUE(reject.account.Consume(reject.feature, 40).allowed);
  CommitOutcome commit = reject.account.Commit(reject.feature, "r", 70);  // 10 more fit, 10 do not
  EXPECT_TRUE(commit.applied);
  EXPECT_EQ(commit.consumed, 60);
  EXPECT_EQ(commit.shortfall, 10);
  EXPECT_EQ(reject.account.Figures(reject.feature).used, 100);
  EXPECT_EQ(reject.remaining(), 0);

  Account allow{Feature(100, "month", Overage::kAllow)};
  allow.Advance(kNow);
  ASSERT_TRUE(allow.account.Reserve(allow.feature, "r", 80, kNow + 60000).allowed);
  commit = allow.account.Commit(allow.feature, "r", 130);
  EXPECT_EQ(commit.consumed, 130);
  EXPECT_EQ(commit.shortfall, 0);
  EXPECT_EQ(allow.account.Figures(allow.feature).overage, 30);
}

TEST(QuotaAccountTest, ThresholdsFireOncePerWindowAndJumpsFireEachCrossed) {
  Account a{Feature(1000, "month", Overage::kReject, {50, 80, 100})};
  a.Advance(kNow);
  EXPECT_EQ(Thresholds(a.account.Consume(a.feature, 950).events), (std::vector<int>{50, 80}));
  EXPECT_TRUE(a.account.Consume(a.feature, 10).events.empty());
  EXPECT_EQ(Thresholds(a.account.Consume(a.feature, 40).events), (std::vector<int>{100}));
  // A release and a new consume do not fire again in the same window.
  EXPECT_EQ(a.account.Release(500), 500);
  EXPECT_TRUE(a.account.Consume(a.feature, 400).events.empty());
  // The next month re-arms them.
  a.Advance(Utc(2027, 4, 1));
  EXPECT_EQ(a.account.Figures(a.feature).used, 0);
  EXPECT_EQ(Thresholds(a.account.Consume(a.feature, 600).events), (std::vector<int>{50}));

  Account exact{Feature(1000, "month", Overage::kReject, {50, 80, 100})};
  exact.Advance(kNow);
  EXPECT_EQ(Thresholds(exact.account.Consume(exact.feature, 799).events), (std::vector<int>{50}));
  EXPECT_EQ(Thresholds(exact.account.Consume(exact.feature, 1).events), (std::vector<int>{80}));  // exactly 800

  // Unlimited and zero limits fire no percentages.
  Account unlimited{Feature(std::nullopt)};
  unlimited.Advance(kNow);
  EXPECT_TRUE(unlimited.account.Consume(unlimited.feature, 1000000).events.empty());
  Account zero{Feature(0)};
  zero.Advance(kNow);
  zero.account.credits().Add(Grant{"g", 10});
  EXPECT_EQ(zero.account.Consume(zero.feature, 10).events,
            (std::vector<QuotaEvent>{{QuotaEventKind::kCreditDepleted, 0, ""}}));
}

TEST(QuotaAccountTest, ReleaseGivesBackNewestDrawFirstNeverBelowZero) {
  Account a{Feature(100)};
  a.Advance(kNow);
  Grant grant;
  grant.id = "g";
  grant.amount = 50;
  grant.priority = 1;  // after the allowance
  ASSERT_TRUE(a.account.credits().Add(grant));
  ASSERT_TRUE(a.account.Consume(a.feature, 90).allowed);     // allowance 90
  ConsumeOutcome second = a.account.Consume(a.feature, 30);  // allowance 10, then g 20
  EXPECT_EQ(second.plan.draws, (std::vector<Draw>{{"", 10}, {"g", 20}}));
  EXPECT_EQ(a.account.Release(25), 25);  // g 20 back, then 5 of the allowance
  EXPECT_EQ(a.account.credits().Find("g")->left, 50);
  EXPECT_EQ(a.account.Figures(a.feature).used, 95);
  EXPECT_EQ(a.remaining(), 5 + 50);
  EXPECT_EQ(a.account.Release(1000), 95);  // never below zero
  EXPECT_EQ(a.account.Figures(a.feature).used, 0);
  EXPECT_EQ(a.account.Release(1), 0);
  EXPECT_TRUE(a.account.credits().Find("g")->Balanced());
}

TEST(QuotaAccountTest, ARollingWindowSumsTheHoursItCovers) {
  Account a{Feature(100, "rolling:2h")};
  a.Advance(Utc(2027, 3, 10, 10, 30));
  ASSERT_TRUE(a.account.Consume(a.feature, 60).allowed);
  a.Advance(Utc(2027, 3, 10, 11, 30));
  EXPECT_EQ(a.account.Figures(a.feature).used, 60);
  EXPECT_FALSE(a.account.Consume(a.feature, 41).allowed);
  ASSERT_TRUE(a.account.Consume(a.feature, 40).allowed);
  EXPECT_EQ(a.account.Figures(a.feature).window.end_ms, Utc(2027, 3, 10, 12));
  // At 12:00 the 10:00 hour leaves the window.
  a.Advance(Utc(2027, 3, 10, 12));
  EXPECT_EQ(a.account.Figures(a.feature).used, 40);
  EXPECT_EQ(a.remaining(), 60);
  a.Advance(Utc(2027, 3, 10, 13) + 5 * kHourMs);
  EXPECT_EQ(a.account.Figures(a.feature).used, 0);
}

TEST(QuotaAccountTest, ChangingThePlanMidPeriodKeepsTheUsage) {
  Account a{Feature(100)};
  a.Advance(kNow);
  ASSERT_TRUE(a.account.Consume(a.feature, 80).allowed);
  PlanFeature bigger = Feature(500);
  a.account.Advance(bigger, WindowOf(bigger.period, std::nullopt, kNow + 1000, TimeZone::Utc()), kNow + 1000);
  EXPECT_EQ(a.account.Figures(bigger).used, 80);
  EXPECT_EQ(a.account.Figures(bigger).remaining, 420);
  PlanFeature smaller = Feature(50);
  EXPECT_EQ(a.account.Figures(smaller).remaining, 0);
  EXPECT_EQ(a.account.Figures(smaller).overage, 30);
  EXPECT_FALSE(a.account.Consume(smaller, 1).allowed);
}

}  // namespace
}  // namespace tally::core
