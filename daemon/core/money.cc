#include "core/money.h"

#include <cstdlib>

namespace tally::core {

ParsedDecimal ParseDecimal(std::string_view text, int scale) {
  auto fail = [](DecimalError error) { return ParsedDecimal{0, error}; };
  std::string_view rest = text;
  const bool negative = !rest.empty() && rest[0] == '-';
  if (negative) rest.remove_prefix(1);
  const size_t point = rest.find('.');
  const std::string_view whole = rest.substr(0, point);
  const std::string_view fraction = point == std::string_view::npos ? std::string_view() : rest.substr(point + 1);
  auto all_digits = [](std::string_view s) {
    for (char c : s) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  };
  if (whole.empty() || !all_digits(whole) || !all_digits(fraction) ||
      (point != std::string_view::npos && fraction.empty())) {
    return fail(DecimalError::kNotADecimal);
  }
  // Digits past the scale must be zeros: anything else would be rounded.
  for (size_t i = static_cast<size_t>(scale); i < fraction.size(); ++i) {
    if (fraction[i] != '0') return fail(DecimalError::kTooManyDecimals);
  }
  // Accumulate as a negative number: its range holds INT64_MIN too.
  int64_t value = 0;
  auto push_digit = [&](char c) {
    return !__builtin_mul_overflow(value, 10, &value) && !__builtin_sub_overflow(value, c - '0', &value);
  };
  for (char c : whole) {
    if (!push_digit(c)) return fail(DecimalError::kOutOfRange);
  }
  for (int i = 0; i < scale; ++i) {
    const char c = static_cast<size_t>(i) < fraction.size() ? fraction[static_cast<size_t>(i)] : '0';
    if (!push_digit(c)) return fail(DecimalError::kOutOfRange);
  }
  if (!negative) {
    if (value == INT64_MIN) return fail(DecimalError::kOutOfRange);
    value = -value;
  }
  return ParsedDecimal{value, std::nullopt};
}

std::string FormatDecimal(int64_t scaled, int scale) {
  // Digits of |scaled|, from an unsigned value so INT64_MIN has one too.
  const bool negative = scaled < 0;
  uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(scaled) : static_cast<uint64_t>(scaled);
  std::string digits = std::to_string(magnitude);
  if (digits.size() <= static_cast<size_t>(scale))
    digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
  std::string whole = digits.substr(0, digits.size() - static_cast<size_t>(scale));
  std::string fraction = digits.substr(digits.size() - static_cast<size_t>(scale));
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  std::string out = negative ? "-" : "";
  out += whole;
  if (!fraction.empty()) out += "." + fraction;
  return out;
}

std::optional<int64_t> CheckedAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return std::nullopt;
  return sum;
}

std::optional<int64_t> CheckedMultiply(int64_t value, int64_t price) {
  int64_t product = 0;
  if (__builtin_mul_overflow(value, price, &product)) return std::nullopt;
  return product;
}

std::string DecimalErrorMessage(DecimalError error, std::string_view text, int scale) {
  const std::string quoted = "'" + std::string(text.substr(0, 64)) + (text.size() > 64 ? "...'" : "'");
  switch (error) {
    case DecimalError::kNotADecimal:
      return quoted + " is not a decimal number (digits, an optional '-' and '.', e.g. 0.000002)";
    case DecimalError::kTooManyDecimals:
      return quoted + " has more than " + std::to_string(scale) + " decimal places";
    case DecimalError::kOutOfRange:
      return quoted + " is out of range (at most " + FormatDecimal(INT64_MAX, scale) + ")";
  }
  return quoted + " is not a valid decimal";
}

}  // namespace tally::core
