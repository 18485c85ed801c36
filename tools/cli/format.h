#pragma once
// Human output of the `tally` tool: numbers with thousands separators, times,
// byte sizes, aligned tables and bars; and the generic JSON form of a reply.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "resp_client.h"

namespace tally::cli {

// 1234567 -> "1,234,567"; -1234 -> "-1,234".
std::string FormatCount(int64_t value);
// Unix milliseconds as UTC: "2026-12-31 00:00:00 UTC".
std::string FormatTimeMs(int64_t unix_ms);
// 4085888 -> "3.9 MiB".
std::string FormatBytes(int64_t bytes);
// 3725 -> "1h 2m 5s".
std::string FormatDuration(int64_t seconds);
// A horizontal bar `width` cells long at value == max, in eighths of a cell
// (U+2588 and the partial blocks); empty for value <= 0.
std::string Bar(int64_t value, int64_t max, int width);
// One character per value, from "▁" (the smallest) to "█" (the largest).
std::string Sparkline(const std::vector<int64_t>& values);

// Columns padded to their widest cell (by characters, not bytes); columns
// marked right-aligned (numbers) are padded on the left.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header, std::vector<bool> right_aligned = {});
  void AddRow(std::vector<std::string> row);
  bool empty() const { return rows_.empty(); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<bool> right_aligned_;
  std::vector<std::vector<std::string>> rows_;
};

// A reply as JSON: integers as numbers, strings as strings, nil as null,
// arrays as arrays, RESP3 maps as objects.
nlohmann::ordered_json ReplyToJson(const Reply& reply);
// A reply on one line, redis-cli style, for messages about unexpected replies.
std::string ReplyToText(const Reply& reply);

}  // namespace tally::cli
