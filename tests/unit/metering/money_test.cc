// Money as integers (core/money.h): exact decimal parsing and printing at
// the money scale (micro-units) and others, round trips over the whole
// int64 range, and overflow as an error, never a wrap.

#include "core/money.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

namespace tally::core {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

int64_t Micro(std::string_view text) {
  ParsedDecimal parsed = ParseDecimal(text, kMoneyScale);
  EXPECT_TRUE(parsed.ok()) << text;
  return parsed.scaled;
}

std::optional<DecimalError> ErrorOf(std::string_view text, int scale = kMoneyScale) {
  ParsedDecimal parsed = ParseDecimal(text, scale);
  if (parsed.ok()) return std::nullopt;
  EXPECT_EQ(parsed.scaled, 0);
  return parsed.error;
}

TEST(MoneyTest, ParsesDecimalsExactlyInMicroUnits) {
  EXPECT_EQ(Micro("0.000002"), 2);
  EXPECT_EQ(Micro("12.5"), 12'500'000);
  EXPECT_EQ(Micro("-0.5"), -500'000);
  EXPECT_EQ(Micro("0"), 0);
  EXPECT_EQ(Micro("-0"), 0);
  EXPECT_EQ(Micro("007.10"), 7'100'000);
  EXPECT_EQ(Micro("1.500000000000"), 1'500'000) << "zeros past the scale round nothing";
  EXPECT_EQ(Micro("9223372036854.775807"), kMax);
  EXPECT_EQ(Micro("-9223372036854.775808"), kMin);
}

TEST(MoneyTest, RefusesWhatItWouldHaveToRoundWrapOrGuess) {
  EXPECT_EQ(ErrorOf("0.0000001"), DecimalError::kTooManyDecimals);
  EXPECT_EQ(ErrorOf("0.0000020001"), DecimalError::kTooManyDecimals);
  EXPECT_EQ(ErrorOf("9223372036854.775808"), DecimalError::kOutOfRange);
  EXPECT_EQ(ErrorOf("-9223372036854.775809"), DecimalError::kOutOfRange);
  EXPECT_EQ(ErrorOf("10000000000000"), DecimalError::kOutOfRange);
  EXPECT_EQ(ErrorOf("99999999999999999999999999"), DecimalError::kOutOfRange);
  for (std::string_view text :
       {"", "-", ".5", "1.", "+1", "1e3", " 1", "1 ", "1,5", "0x10", "--1", "1.2.3", "-.5", "NaN", "inf", "１"}) {
    EXPECT_EQ(ErrorOf(text), DecimalError::kNotADecimal) << "'" << text << "'";
  }
}

TEST(MoneyTest, PrintsTheShortestDecimal) {
  EXPECT_EQ(FormatDecimal(2, kMoneyScale), "0.000002");
  EXPECT_EQ(FormatDecimal(12'500'000, kMoneyScale), "12.5");
  EXPECT_EQ(FormatDecimal(1'000'000, kMoneyScale), "1");
  EXPECT_EQ(FormatDecimal(0, kMoneyScale), "0");
  EXPECT_EQ(FormatDecimal(-500'000, kMoneyScale), "-0.5");
  EXPECT_EQ(FormatDecimal(kMax, kMoneyScale), "9223372036854.775807");
  EXPECT_EQ(FormatDecimal(kMin, kMoneyScale), "-9223372036854.775808");
  EXPECT_EQ(FormatDecimal(42, 0), "42");
  EXPECT_EQ(FormatDecimal(-1, 9), "-0.000000001");
}

TEST(MoneyTest, EveryValuePrintsAndParsesBackToItself) {
  std::mt19937_64 random(20261206);
  std::vector<int64_t> values = {0, 1, -1, 9, 10, 999'999, 1'000'000, 1'000'001, kMax, kMin, kMax - 1, kMin + 1};
  for (int i = 0; i < 20'000; ++i) {
    const int64_t v = static_cast<int64_t>(random());
    values.push_back(v);
    values.push_back(v >> (random() % 63));  // small magnitudes too
  }
  for (int scale : {0, 2, kMoneyScale, 9, 18}) {
    for (int64_t v : values) {
      const std::string text = FormatDecimal(v, scale);
      ParsedDecimal back = ParseDecimal(text, scale);
      ASSERT_TRUE(back.ok()) << text << " at scale " << scale;
      ASSERT_EQ(back.scaled, v) << text << " at scale " << scale;
    }
  }
}

TEST(MoneyTest, CostArithmeticIsCheckedNotWrapped) {
  // 1,500 tokens at 0.000002 each, 2 MB at 0.00000001 per byte is not a price
  // at this scale: prices are whole micro-units.
  EXPECT_EQ(CheckedMultiply(1'500, Micro("0.000002")), 3'000);
  EXPECT_EQ(FormatDecimal(*CheckedMultiply(1'500, Micro("0.000002")), kMoneyScale), "0.003");
  EXPECT_EQ(CheckedMultiply(4'000'000'000'000, 2'000'000), 8'000'000'000'000'000'000);
  EXPECT_EQ(CheckedMultiply(5'000'000'000'000, 2'000'000), std::nullopt);
  EXPECT_EQ(CheckedMultiply(kMin, -1), std::nullopt);
  EXPECT_EQ(CheckedMultiply(-3, 7), -21);
  EXPECT_EQ(CheckedAdd(kMax, 0), kMax);
  EXPECT_EQ(CheckedAdd(kMax, 1), std::nullopt);
  EXPECT_EQ(CheckedAdd(kMin, -1), std::nullopt);
  EXPECT_EQ(CheckedAdd(kMax, kMin), -1);
}

TEST(MoneyTest, MessagesNameWhatWasGiven) {
  EXPECT_EQ(DecimalErrorMessage(DecimalError::kTooManyDecimals, "0.0000001", kMoneyScale),
            "'0.0000001' has more than 6 decimal places");
  EXPECT_EQ(DecimalErrorMessage(DecimalError::kOutOfRange, "1e99", kMoneyScale),
            "'1e99' is out of range (at most 9223372036854.775807)");
  EXPECT_NE(DecimalErrorMessage(DecimalError::kNotADecimal, "abc", kMoneyScale).find("'abc' is not a decimal"),
            std::string::npos);
  const std::string long_text(200, '7');
  EXPECT_LT(DecimalErrorMessage(DecimalError::kOutOfRange, long_text, kMoneyScale).size(), 150u);
}

}  // namespace
}  // namespace tally::core
