#include "format.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace tally::cli {
namespace {

// Characters on screen of a UTF-8 string (continuation bytes do not count).
size_t DisplayWidth(const std::string& text) {
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

std::string FormatCount(int64_t value) {
  // Via uint64_t so that INT64_MIN has a magnitude.
  const bool negative = value < 0;
  uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  std::string digits = std::to_string(magnitude);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return negative ? "-" + out : out;
}

std::string FormatTimeMs(int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  if (gmtime_r(&seconds, &utc) == nullptr) return std::to_string(unix_ms);
  char text[64];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &utc);
  return text;
}

std::string FormatBytes(int64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  if (unit == 0) {
    std::snprintf(text, sizeof(text), "%lld B", static_cast<long long>(bytes));
  } else {
    std::snprintf(text, sizeof(text), "%.1f %s", value, kUnits[unit]);
  }
  return text;
}

std::string FormatDuration(int64_t seconds) {
  if (seconds < 60) return std::to_string(seconds) + "s";
  const int64_t days = seconds / 86400, hours = seconds / 3600 % 24, minutes = seconds / 60 % 60;
  std::string out;
  if (days > 0) out += std::to_string(days) + "d ";
  if (days > 0 || hours > 0) out += std::to_string(hours) + "h ";
  out += std::to_string(minutes) + "m";
  if (days == 0) out += " " + std::to_string(seconds % 60) + "s";
  return out;
}

std::string Bar(int64_t value, int64_t max, int width) {
  static const char* const kEighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
  if (value <= 0 || max <= 0) return "";
  // In eighths of a cell, at least one so that a non-zero value shows.
  const int64_t eighths = std::max<int64_t>(
      1, static_cast<int64_t>(static_cast<double>(value) / static_cast<double>(max) * width * 8 + 0.5));
  std::string out;
  for (int64_t i = 0; i < eighths / 8; ++i) out += "█";
  out += kEighths[eighths % 8];
  return out;
}

std::string Sparkline(const std::vector<int64_t>& values) {
  static const char* const kLevels[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  if (values.empty()) return "";
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  std::string out;
  for (int64_t value : values) {
    size_t level = 0;
    if (*high > *low) {
      level = static_cast<size_t>(static_cast<double>(value - *low) / static_cast<double>(*high - *low) * 7 + 0.5);
    }
    out += kLevels[level];
  }
  return out;
}

TextTable::TextTable(std::vector<std::string> header, std::vector<bool> right_aligned)
    : header_(std::move(header)), right_aligned_(std::move(right_aligned)) {
  right_aligned_.resize(header_.size(), false);
}

void TextTable::AddRow(std::vector<std::string> row) {
  row.resize(header_.size());
  rows_.push_back(std::move(row));
}

void TextTable::Print(std::ostream& out) const {
  std::vector<size_t> widths(header_.size(), 0);
  for (size_t c = 0; c < header_.size(); ++c) widths[c] = DisplayWidth(header_[c]);
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], DisplayWidth(row[c]));
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string padding(widths[c] - DisplayWidth(row[c]), ' ');
      if (c > 0) line += "  ";
      line += right_aligned_[c] ? padding + row[c] : row[c] + padding;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  };
  print_row(header_);
  for (const auto& row : rows_) print_row(row);
}

nlohmann::ordered_json ReplyToJson(const Reply& reply) {
  switch (reply.type) {
    case Reply::Type::kInteger:
      return reply.integer;
    case Reply::Type::kBoolean:
      return reply.integer != 0;
    case Reply::Type::kNull:
      return nullptr;
    case Reply::Type::kError:
      return {{"error", reply.text}};
    case Reply::Type::kMap: {
      nlohmann::ordered_json object = nlohmann::ordered_json::object();
      for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
        object[ReplyToText(reply.elements[i])] = ReplyToJson(reply.elements[i + 1]);
      }
      return object;
    }
    case Reply::Type::kArray:
    case Reply::Type::kSet:
    case Reply::Type::kPush: {
      nlohmann::ordered_json array = nlohmann::ordered_json::array();
      for (const Reply& element : reply.elements) array.push_back(ReplyToJson(element));
      return array;
    }
    default:
      return reply.text;
  }
}

std::string ReplyToText(const Reply& reply) {
  switch (reply.type) {
    case Reply::Type::kInteger:
    case Reply::Type::kBoolean:
      return std::to_string(reply.integer);
    case Reply::Type::kNull:
      return "(nil)";
    case Reply::Type::kError:
      return "(error) " + reply.text;
    case Reply::Type::kArray:
    case Reply::Type::kSet:
    case Reply::Type::kPush:
    case Reply::Type::kMap: {
      std::string out = "[";
      for (size_t i = 0; i < reply.elements.size(); ++i) out += (i > 0 ? ", " : "") + ReplyToText(reply.elements[i]);
      return out + "]";
    }
    default:
      return reply.text;
  }
}

}  // namespace tally::cli
