#include "protocol/resp_writer.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace tally::protocol {
namespace resp {
namespace {

void AppendNumberLine(std::string& out, char type, int64_t value) {
  char digits[24];
  digits[0] = type;
  auto [end, ec] = std::to_chars(digits + 1, digits + sizeof(digits) - 2, value);
  *end++ = '\r';
  *end++ = '\n';
  out.append(digits, static_cast<size_t>(end - digits));
}

// Error and status lines must not contain CR or LF: that would break framing.
void AppendLine(std::string& out, std::string_view text) {
  for (char c : text) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
  out += "\r\n";
}

}  // namespace

void AppendSimple(std::string& out, std::string_view text) {
  out.push_back('+');
  AppendLine(out, text);
}

void AppendError(std::string& out, std::string_view prefix, std::string_view message) {
  out.push_back('-');
  out.append(prefix);
  out.push_back(' ');
  AppendLine(out, message);
}

void AppendErrorLine(std::string& out, std::string_view line) {
  out.push_back('-');
  AppendLine(out, line);
}

void AppendInteger(std::string& out, int64_t value) { AppendNumberLine(out, ':', value); }

void AppendBulk(std::string& out, std::string_view bytes) {
  AppendNumberLine(out, '$', static_cast<int64_t>(bytes.size()));
  out.append(bytes);
  out += "\r\n";
}

void AppendNullBulk(std::string& out) { out += "$-1\r\n"; }
void AppendArrayHeader(std::string& out, size_t length) { AppendNumberLine(out, '*', static_cast<int64_t>(length)); }
void AppendNullArray(std::string& out) { out += "*-1\r\n"; }
void AppendPushHeader(std::string& out, size_t length, bool resp3) {
  AppendNumberLine(out, resp3 ? '>' : '*', static_cast<int64_t>(length));
}

}  // namespace resp

void RespSink::SendNull() {
  if (resp3_) {
    *out_ += "_\r\n";
  } else {
    resp::AppendNullBulk(*out_);
  }
}

void RespSink::SendNullArray() {
  if (resp3_) {
    *out_ += "_\r\n";
  } else {
    resp::AppendNullArray(*out_);
  }
}

std::string FormatDouble(double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  const int length = std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return std::string(buffer, static_cast<size_t>(length));
}

void RespSink::SendDouble(double value) {
  if (!resp3_) return resp::AppendBulk(*out_, FormatDouble(value));
  *out_ += ',';
  *out_ += FormatDouble(value);
  *out_ += "\r\n";
}

void RespSink::SendPush(size_t length) { resp::AppendPushHeader(*out_, length, resp3_); }

void RespSink::SendMap(size_t pairs) {
  if (resp3_) {
    resp::AppendNumberLine(*out_, '%', static_cast<int64_t>(pairs));
  } else {
    resp::AppendArrayHeader(*out_, pairs * 2);
  }
}

}  // namespace tally::protocol
