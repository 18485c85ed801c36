#pragma once
// Money and prices as integers (METER.*, PRICE.*): never floating point.
//
// An amount of money is a signed 64-bit count of micro-units of the
// configured currency (kMoneyScale = 6 decimal places: 1 USD = 1,000,000).
// The largest amount is 9,223,372,036,854.775807 units. Text goes in and out
// as decimal strings ("0.000002", "-12.5"), parsed exactly: a string with
// more decimal places than the scale, or beyond 64 bits, is an error, never
// rounded or wrapped. Sums and products are checked the same way.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tally::core {

inline constexpr int kMoneyScale = 6;  // micro-units

enum class DecimalError {
  kNotADecimal,      // not [-]digits[.digits]
  kTooManyDecimals,  // more fractional digits than the scale: it would have to be rounded
  kOutOfRange,       // beyond a signed 64-bit count of the smallest unit
};

struct ParsedDecimal {
  int64_t scaled = 0;                 // the value times 10^scale
  std::optional<DecimalError> error;  // set: `scaled` is 0
  bool ok() const { return !error.has_value(); }
};

// "12.5" at scale 6 -> 12500000. Accepts an optional leading '-', at least one
// digit before the point, and if there is a point, at least one digit after
// it ("1.", ".5", "+1", "1e3", " 1" are not decimals). Trailing zeros beyond
// the scale are fine ("1.50000000" at scale 6).
ParsedDecimal ParseDecimal(std::string_view text, int scale);

// The shortest decimal that parses back to `scaled`: 12500000 -> "12.5",
// 2 -> "0.000002", 0 -> "0", -500000 -> "-0.5" (at scale 6).
std::string FormatDecimal(int64_t scaled, int scale);

// a + b and value * price, or nullopt if the result does not fit in 64 bits.
std::optional<int64_t> CheckedAdd(int64_t a, int64_t b);
std::optional<int64_t> CheckedMultiply(int64_t value, int64_t price);

// The message for a parse error, naming what was given: "'0.0000001' has more
// than 6 decimal places".
std::string DecimalErrorMessage(DecimalError error, std::string_view text, int scale);

}  // namespace tally::core
