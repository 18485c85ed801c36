// The credit book (core/credit_book.h) with a fixed clock: the draw order
// over the plan allowance and the grants, expiry, give-back, revoke, and the
// balance of every grant.

#include "core/credit_book.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "civil_time.h"

namespace tally::core {
namespace {

using fixtures::kDayMs;
using fixtures::Utc;

// One feature of one owner in one period, as the quota module keeps it:
// used counts every unit consumed, from_grants those drawn from grants.
struct FeatureUsage {
  std::optional<int64_t> limit;
  int64_t period_end_ms;
  int64_t used = 0;
  int64_t from_grants = 0;

  Allowance allowance() const {
    if (!limit) return Allowance{std::nullopt, period_end_ms};
    return Allowance{std::max<int64_t>(0, *limit - (used - from_grants)), period_end_ms};
  }
  DrawPlan Consume(CreditBook& book, int64_t amount, int64_t now_ms, bool allow_overage = false) {
    book.ExpireUpTo(now_ms);
    DrawPlan plan = book.Plan(amount, allowance(), allow_overage);
    if (!plan.allowed) return plan;
    book.Apply(plan.draws);
    used += amount;
    from_grants += plan.from_grants;
    return plan;
  }
  int64_t remaining(const CreditBook& book) const {
    return Remaining(limit.value_or(0), used, from_grants, book.available());
  }
};

Grant MakeGrant(std::string id, int64_t amount, std::optional<int64_t> expires_ms, int64_t priority = 0,
                int64_t granted_ms = Utc(2027, 3, 1)) {
  Grant grant;
  grant.id = std::move(id);
  grant.amount = amount;
  grant.expires_ms = expires_ms;
  grant.priority = priority;
  grant.granted_ms = granted_ms;
  return grant;
}

int64_t Left(const CreditBook& book, const std::string& id) {
  const Grant* grant = book.Find(id);
  EXPECT_NE(grant, nullptr) << id;
  return grant == nullptr ? -1 : grant->left;
}

void ExpectAllBalanced(const CreditBook& book) {
  for (const Grant* grant : book.All()) {
    EXPECT_TRUE(grant->Balanced()) << grant->id << ": amount " << grant->amount << " != drawn " << grant->drawn
                                   << " - released " << grant->released << " + expired " << grant->expired
                                   << " + revoked " << grant->revoked << " + left " << grant->left;
  }
}

const int64_t kNow = Utc(2027, 3, 10, 12);
const int64_t kPeriodEnd = Utc(2027, 4, 1);

TEST(CreditBookTest, AGrantExpiringBeforeThePeriodEndIsDrawnFirst) {
  CreditBook book;
  ASSERT_TRUE(book.Add(MakeGrant("g1", 25, Utc(2027, 3, 20))));
  FeatureUsage usage{100, kPeriodEnd};
  DrawPlan plan = usage.Consume(book, 30, kNow);
  ASSERT_TRUE(plan.allowed);
  EXPECT_EQ(plan.draws, (std::vector<Draw>{{"g1", 25}, {"", 5}}));
  EXPECT_EQ(usage.used, 30);
  EXPECT_EQ(book.available(), 0);  // credits
  EXPECT_EQ(usage.remaining(book), 95);
  ExpectAllBalanced(book);
}

TEST(CreditBookTest, AGrantExpiringAfterThePeriodEndWaitsAndSurvivesTheReset) {
  CreditBook book;
  ASSERT_TRUE(book.Add(MakeGrant("g1", 25, Utc(2027, 6, 1))));
  FeatureUsage usage{100, kPeriodEnd};
  DrawPlan plan = usage.Consume(book, 30, kNow);
  EXPECT_EQ(plan.draws, (std::vector<Draw>{{"", 30}}));
  EXPECT_EQ(usage.used, 30);
  EXPECT_EQ(book.available(), 25);
  EXPECT_EQ(usage.remaining(book), 95);
  // The period resets: a fresh allowance, the grant still there.
  FeatureUsage next{100, Utc(2027, 5, 1)};
  book.ExpireUpTo(kPeriodEnd);
  EXPECT_EQ(book.available(), 25);
  EXPECT_EQ(next.remaining(book), 125);
}

TEST(CreditBookTest, LowerPriorityIsDrawnFirst) {
  CreditBook book;
  ASSERT_TRUE(book.Add(MakeGrant("B", 100, std::nullopt, 2)));
  ASSERT_TRUE(book.Add(MakeGrant("A", 100, std::nullopt, 1)));
  FeatureUsage usage{0, kPeriodEnd};
  ASSERT_TRUE(usage.Consume(book, 120, kNow).allowed);
  EXPECT_EQ(Left(book, "A"), 0);
  EXPECT_EQ(Left(book, "B"), 80);
  ExpectAllBalanced(book);
}

TEST(CreditBookTest, AtEqualPriorityTheSoonestExpiryIsDrawnFirst) {
  CreditBook book;
  ASSERT_TRUE(book.Add(MakeGrant("B", 100, kNow + 365LL * 100 * kDayMs)));
  ASSERT_TRUE(book.Add(MakeGrant("A", 100, kNow + 30 * kDayMs)));
  FeatureUsage usage{0, kPeriodEnd};
  ASSERT_TRUE(usage.Consume(book, 120, kNow).allowed);
  EXPECT_EQ(Left(book, "A"), 0);
  EXPECT_EQ(Left(book, "B"), 80);
}

TEST(CreditBookTest, ANeverExpiringGrantIsDrawnLastThenOldestThenById) {
  CreditBook book;
  ASSERT_TRUE(book.Add(MakeGrant("forever", 10, std::nullopt)));
  ASSERT_TRUE(book.Add(MakeGrant("century", 10, kNow + 365LL * 100 * kDayMs)));
  ASSERT_TRUE(book.Add(MakeGrant("z-old", 10, kNow + kDayMs, 0, Utc(2027, 1, 1))));
  ASSERT_TRUE(book.Add(MakeGrant("a-new", 10, kNow + kDayMs, 0, Utc(2027, 2, 1))));
  ASSERT_TRUE(book.Add(MakeGrant("b-new", 10, kNow + kDayMs, 0, Utc(2027, 2, 1))));
  FeatureUsage usage{0, kPeriodEnd};
  DrawPlan plan = usage.Consume(book, 45, kNow);
  EXPECT_EQ(plan.draws,
            (std::vector<Draw>{{"z-old", 10}, {"a-new", 10}, {"b-new", 10}, {"century", 10}, {"forever", 5}}));
}

TEST(CreditBookTest, AGrantExpiringExactlyNowIsExpiredNotDrawn) {
  CreditBook book;
  ASSERT_TRUE(book.Add(MakeGrant("now", 50, kNow)));
  ASSERT_TRUE(book.Add(MakeGrant("later", 50, kNow + 1)));
  FeatureUsage usage{0, kPeriodEnd};
  book.ExpireUpTo(kNow);
  DrawPlan plan = usage.Consume(book, 10, kNow);
  EXPECT_EQ(plan.draws, (std::vector<Draw>{{"later", 10}}));
  const Grant* expired = book.Find("now");
  EXPECT_FALSE(expired->live());
  EXPECT_EQ(expired->expired, 50);
  EXPECT_EQ(expired->left, 0);
  // And its units are never drawn, even when everything else runs out.
  EXPECT_FALSE(usage.Consume(book, 41, kNow).allowed);
  ExpectAllBalanced(book);
}

TEST(CreditBookTest, AnUnlimitedFeatureNeverTouchesAGrant) {
  CreditBook book;
  ASSERT_TRUE(book.Add(MakeGrant("g", 100, kNow + kDayMs, -5)));
  FeatureUsage usage{std::nullopt, kPeriodEnd};
  DrawPlan plan = usage.Consume(book, 1000, kNow);
  ASSERT_TRUE(plan.allowed);
  EXPECT_EQ(plan.draws, (std::vector<Draw>{{"", 1000}}));
  EXPECT_EQ(Left(book, "g"), 100);
}

TEST(CreditBookTest, ARefusedConsumeChangesNothingAndSaysWhatWouldFit) {
  CreditBook book;
  ASSERT_TRUE(book.Add(MakeGrant("g", 20, std::nullopt)));
  FeatureUsage usage{100, kPeriodEnd};
  ASSERT_TRUE(usage.Consume(book, 90, kNow).allowed);
  DrawPlan refused = usage.Consume(book, 40, kNow);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.shortfall, 10);
  EXPECT_EQ(refused.draws, (std::vector<Draw>{{"", 10}, {"g", 20}}));
  EXPECT_EQ(usage.used, 90);
  EXPECT_EQ(Left(book, "g"), 20);
  EXPECT_EQ(usage.remaining(book), 30);
}

TEST(CreditBookTest, OverageAllowDrawsEverythingThenGoesPastTheLimit) {
  CreditBook book;
  ASSERT_TRUE(book.Add(MakeGrant("g", 20, std::nullopt)));
  FeatureUsage usage{100, kPeriodEnd};
  DrawPlan plan = usage.Consume(book, 150, kNow, /*allow_overage=*/true);
  ASSERT_TRUE(plan.allowed);
  EXPECT_EQ(plan.overage, 30);
  EXPECT_EQ(plan.from_grants, 20);
  EXPECT_EQ(plan.from_allowance, 130);
  EXPECT_EQ(usage.remaining(book), 0);
}

TEST(CreditBookTest, GiveBackNeverExceedsWhatWasDrawnAndRevokedUnitsStayRevoked) {
  CreditBook book;
  ASSERT_TRUE(book.Add(MakeGrant("g", 100, std::nullopt)));
  FeatureUsage usage{0, kPeriodEnd};
  ASSERT_TRUE(usage.Consume(book, 60, kNow).allowed);
  EXPECT_EQ(book.GiveBack("g", 20), 20);
  EXPECT_EQ(book.GiveBack("g", 1000), 40);  // only the rest of what was drawn
  EXPECT_EQ(book.GiveBack("g", 1), 0);
  EXPECT_EQ(Left(book, "g"), 100);
  ASSERT_TRUE(usage.Consume(book, 30, kNow).allowed);
  EXPECT_EQ(book.Revoke("g"), 70);
  EXPECT_EQ(book.Revoke("g"), std::nullopt);  // once
  EXPECT_EQ(book.available(), 0);
  EXPECT_EQ(book.GiveBack("g", 30), 30);  // given back after the revoke: written off too
  const Grant* grant = book.Find("g");
  EXPECT_EQ(grant->revoked, 100);
  EXPECT_EQ(grant->left, 0);
  EXPECT_EQ(book.available(), 0);
  EXPECT_FALSE(book.Add(MakeGrant("g", 1, std::nullopt)));  // ids are unique
  EXPECT_EQ(book.GiveBack("unknown", 5), 0);
  ExpectAllBalanced(book);
}

TEST(CreditBookTest, ManyGrantsDrawOnlyWhatTheyNeed) {
  CreditBook book;
  for (int i = 0; i < 100000; ++i) {
    ASSERT_TRUE(book.Add(MakeGrant("g" + std::to_string(i), 10, kNow + (1 + i % 1000) * kDayMs, i % 7)));
  }
  EXPECT_EQ(book.available(), 1000000);
  FeatureUsage usage{0, kPeriodEnd};
  DrawPlan plan = usage.Consume(book, 25, kNow);
  ASSERT_TRUE(plan.allowed);
  ASSERT_EQ(plan.draws.size(), 3u);  // three grants of 10 touched, of 100,000
  for (const Draw& draw : plan.draws) {
    const Grant* grant = book.Find(draw.grant);
    EXPECT_EQ(grant->priority, 0);
    EXPECT_EQ(*grant->expires_ms, kNow + kDayMs);  // the soonest expiry among priority 0
  }
  // A year later everything has expired, each rest written off once.
  auto expired = book.ExpireUpTo(kNow + 1001 * kDayMs);
  EXPECT_EQ(expired.size(), 100000u);
  EXPECT_EQ(book.available(), 0);
  ExpectAllBalanced(book);
}

TEST(CreditBookTest, RandomOperationsKeepEveryGrantBalanced) {
  std::mt19937_64 rng(42);
  CreditBook book;
  FeatureUsage usage{50, kPeriodEnd};
  int64_t now = kNow;
  for (int step = 0; step < 20000; ++step) {
    now += static_cast<int64_t>(rng() % 3600000);
    switch (rng() % 4) {
      case 0: {
        std::optional<int64_t> expires;
        if (rng() % 3 != 0) expires = now + static_cast<int64_t>(rng() % (30 * kDayMs));
        book.Add(MakeGrant("g" + std::to_string(step), 1 + static_cast<int64_t>(rng() % 100), expires,
                           static_cast<int64_t>(rng() % 3), now));
        break;
      }
      case 1:
        usage.Consume(book, 1 + static_cast<int64_t>(rng() % 60), now, rng() % 2 == 0);
        break;
      case 2:
        if (book.size() > 0) book.GiveBack("g" + std::to_string(rng() % step), static_cast<int64_t>(rng() % 50));
        break;
      case 3:
        if (book.size() > 0 && rng() % 5 == 0) book.Revoke("g" + std::to_string(rng() % step));
        break;
    }
  }
  ExpectAllBalanced(book);
  int64_t left = 0;
  for (const Grant* grant : book.All()) left += grant->live() ? grant->left : 0;
  book.ExpireUpTo(now);
  int64_t live_left = 0;
  for (const Grant* grant : book.All()) live_left += grant->live() ? grant->left : 0;
  EXPECT_EQ(book.available(), live_left);
  EXPECT_GE(left, live_left);
}

}  // namespace
}  // namespace tally::core
