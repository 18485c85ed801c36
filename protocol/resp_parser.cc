#include "protocol/resp_parser.h"

#include <cstring>

#include "protocol/errors.h"

namespace tally::protocol {

bool ParseInt64(std::string_view text, int64_t* value) {
  if (text.empty() || text.size() > 20) return false;
  size_t i = 0;
  bool negative = false;
  if (text[0] == '-') {
    negative = true;
    i = 1;
    if (text.size() == 1) return false;
  }
  if (text[i] == '0') {
    if (text.size() == 1) {
      *value = 0;
      return true;
    }
    return false;  // leading zeros and "-0" are not canonical
  }
  uint64_t magnitude = 0;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c < '0' || c > '9') return false;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (magnitude > (UINT64_MAX - digit) / 10) return false;
    magnitude = magnitude * 10 + digit;
  }
  if (negative) {
    if (magnitude > static_cast<uint64_t>(INT64_MAX) + 1) return false;
    *value = magnitude == static_cast<uint64_t>(INT64_MAX) + 1 ? INT64_MIN : -static_cast<int64_t>(magnitude);
  } else {
    if (magnitude > static_cast<uint64_t>(INT64_MAX)) return false;
    *value = static_cast<int64_t>(magnitude);
  }
  return true;
}

namespace {

// Finds "\r\n" starting at `from`; returns the offset of '\r' or npos.
size_t FindCrlf(std::string_view input, size_t from) {
  while (from < input.size()) {
    const void* hit = std::memchr(input.data() + from, '\r', input.size() - from);
    if (hit == nullptr) return std::string_view::npos;
    size_t at = static_cast<const char*>(hit) - input.data();
    if (at + 1 >= input.size()) return std::string_view::npos;  // need the '\n'
    if (input[at + 1] == '\n') return at;
    from = at + 1;
  }
  return std::string_view::npos;
}

bool IsHexDigit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
// sdssplitargs() skips any isspace() between words but ends an unquoted word
// only at these (so "a\vb" is one word).
bool EndsWord(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Length of a header line ("*<n>" / "$<n>") starting at `from` whose CRLF has
// not arrived: a trailing '\r' may be the first half of that CRLF and does not
// count, so the line limit gives the same verdict however the bytes are split.
size_t PendingLineLength(std::string_view input, size_t from) {
  size_t length = input.size() - from;
  return length > 0 && input.back() == '\r' ? length - 1 : length;
}

// Redis's sdssplitargs(): words separated by spaces; "double quotes" with
// backslash escapes (\n \r \t \b \a \\ \" \xHH) and 'single quotes' (\' only).
// A closing quote must be followed by a space or the end. Appends each word to
// `scratch` (reserved by the caller so it never reallocates) and its view to `out`.
bool SplitInline(std::string_view line, std::string& scratch, std::vector<std::string_view>& out) {
  size_t i = 0;
  const size_t n = line.size();
  while (true) {
    while (i < n && IsSpace(line[i])) ++i;
    if (i >= n) return true;
    const size_t start = scratch.size();
    bool in_double = false, in_single = false, done = false;
    while (!done) {
      if (in_double) {
        if (i >= n) return false;  // unterminated quotes
        char c = line[i];
        if (c == '\\' && i + 3 < n && line[i + 1] == 'x' && IsHexDigit(line[i + 2]) && IsHexDigit(line[i + 3])) {
          scratch.push_back(static_cast<char>(HexValue(line[i + 2]) * 16 + HexValue(line[i + 3])));
          i += 3;
        } else if (c == '\\' && i + 1 < n) {
          ++i;
          switch (line[i]) {
            case 'n':
              scratch.push_back('\n');
              break;
            case 'r':
              scratch.push_back('\r');
              break;
            case 't':
              scratch.push_back('\t');
              break;
            case 'b':
              scratch.push_back('\b');
              break;
            case 'a':
              scratch.push_back('\a');
              break;
            default:
              scratch.push_back(line[i]);
              break;
          }
        } else if (c == '"') {
          if (i + 1 < n && !IsSpace(line[i + 1])) return false;  // closing quote must end the word
          done = true;
        } else {
          scratch.push_back(c);
        }
      } else if (in_single) {
        if (i >= n) return false;
        char c = line[i];
        if (c == '\\' && i + 1 < n && line[i + 1] == '\'') {
          ++i;
          scratch.push_back('\'');
        } else if (c == '\'') {
          if (i + 1 < n && !IsSpace(line[i + 1])) return false;
          done = true;
        } else {
          scratch.push_back(c);
        }
      } else {
        if (i >= n) {
          done = true;
          break;
        }
        char c = line[i];
        if (EndsWord(c)) {
          done = true;
        } else if (c == '"') {
          in_double = true;
        } else if (c == '\'') {
          in_single = true;
        } else {
          scratch.push_back(c);
        }
      }
      if (i < n) ++i;
    }
    out.emplace_back(scratch.data() + start, scratch.size() - start);
  }
}

}  // namespace

RespParser::RespParser(ParserLimits limits) : limits_(limits) {}

void RespParser::ReleaseMemory() {
  // Kept: what an ordinary command needs, so steady state stays allocation-free.
  constexpr size_t kKeepArgs = 64;
  constexpr size_t kKeepScratch = 4096;
  args_.clear();
  if (args_.capacity() > kKeepArgs) std::vector<std::string_view>().swap(args_);
  if (arg_spans_.empty() && arg_spans_.capacity() > kKeepArgs)
    std::vector<std::pair<size_t, size_t>>().swap(arg_spans_);
  if (inline_scratch_.capacity() > kKeepScratch) std::string().swap(inline_scratch_);
}

void RespParser::Reset() {
  array_length_ = -1;
  position_ = 0;
  arg_spans_.clear();
}

ParseStatus RespParser::Fail(std::string_view message) {
  Reset();
  error_.assign(message);
  return ParseStatus::kError;
}

ParseStatus RespParser::Parse(std::string_view input) {
  args_.clear();
  consumed_ = 0;
  if (input.empty()) return ParseStatus::kNeedMore;
  if (input[0] == '*' || array_length_ >= 0) return ParseMultibulk(input);
  return ParseInline(input);
}

ParseStatus RespParser::ParseInline(std::string_view input) {
  size_t newline = input.find('\n');
  if (newline == std::string_view::npos) {
    if (input.size() > limits_.max_inline_bytes) return Fail(errors::kProtoTooBigInline);
    return ParseStatus::kNeedMore;
  }
  if (newline > limits_.max_inline_bytes) return Fail(errors::kProtoTooBigInline);
  std::string_view line = input.substr(0, newline);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  inline_scratch_.clear();
  inline_scratch_.reserve(line.size());
  if (!SplitInline(line, inline_scratch_, args_)) {
    args_.clear();
    return Fail(errors::kProtoUnbalancedQuotes);
  }
  consumed_ = newline + 1;
  was_inline_ = true;
  // An empty line is a valid no-op (Redis skips it); the caller sees zero args.
  return ParseStatus::kOk;
}

ParseStatus RespParser::ParseMultibulk(std::string_view input) {
  if (array_length_ < 0) {
    size_t cr = FindCrlf(input, 1);
    if (cr == std::string_view::npos) {
      if (PendingLineLength(input, 0) > limits_.max_inline_bytes) return Fail(errors::kProtoTooBigMultibulk);
      return ParseStatus::kNeedMore;
    }
    if (cr > limits_.max_inline_bytes) return Fail(errors::kProtoTooBigMultibulk);
    int64_t length = 0;
    if (!ParseInt64(input.substr(1, cr - 1), &length) || length > static_cast<int64_t>(limits_.max_array_length)) {
      return Fail(errors::kProtoInvalidMultibulkLength);
    }
    position_ = cr + 2;
    if (length <= 0) {  // "*0" and "*-1" are empty commands: skip them
      consumed_ = position_;
      Reset();
      was_inline_ = false;
      return ParseStatus::kOk;
    }
    array_length_ = length;
    arg_spans_.clear();
  }
  while (static_cast<int64_t>(arg_spans_.size()) < array_length_) {
    if (position_ >= input.size()) return ParseStatus::kNeedMore;
    if (input[position_] != '$') {
      std::string message = "Protocol error: expected '$', got '";
      message.push_back(input[position_] == '\r' || input[position_] == '\n' ? ' ' : input[position_]);
      message.push_back('\'');
      return Fail(message);
    }
    size_t cr = FindCrlf(input, position_ + 1);
    if (cr == std::string_view::npos) {
      if (PendingLineLength(input, position_) > limits_.max_inline_bytes) return Fail(errors::kProtoTooBigBulk);
      return ParseStatus::kNeedMore;
    }
    if (cr - position_ > limits_.max_inline_bytes) return Fail(errors::kProtoTooBigBulk);
    int64_t length = 0;
    if (!ParseInt64(input.substr(position_ + 1, cr - position_ - 1), &length) || length < 0 ||
        static_cast<uint64_t>(length) > limits_.max_bulk_bytes) {
      return Fail(errors::kProtoInvalidBulkLength);
    }
    size_t data = cr + 2;
    if (input.size() < data + static_cast<size_t>(length) + 2) return ParseStatus::kNeedMore;
    if (input[data + length] != '\r' || input[data + length + 1] != '\n') {
      return Fail(errors::kProtoInvalidBulkLength);
    }
    arg_spans_.emplace_back(data, static_cast<size_t>(length));
    position_ = data + static_cast<size_t>(length) + 2;
  }
  for (const auto& [offset, length] : arg_spans_) args_.emplace_back(input.data() + offset, length);
  consumed_ = position_;
  Reset();
  was_inline_ = false;
  return ParseStatus::kOk;
}

}  // namespace tally::protocol
