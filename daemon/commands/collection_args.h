#pragma once
// Argument parsing shared by the hash and sorted set commands (HSCAN and
// ZSCAN's cursor and options), with Redis 7.0's error replies.

#include <cstdint>
#include <string>
#include <string_view>

#include "commands/reply_status.h"
#include "protocol/command_table.h"
#include "protocol/errors.h"
#include "protocol/resp_parser.h"

namespace tally::commands {

// A SCAN-family cursor as Redis's parseScanCursorOrReply reads it (unsigned
// 64-bit; a negative number is taken as its two's complement). False, with
// "invalid cursor" replied, if it is not a number.
inline bool ParseCursorOrReply(std::string_view text, uint64_t* cursor, protocol::ReplySink& reply) {
  using protocol::ErrorCode;
  namespace errors = protocol::errors;
  *cursor = 0;
  if (!text.empty() && text[0] == '-') {
    int64_t negative = 0;
    if (!protocol::ParseInt64(text, &negative)) {
      reply.SendError(ErrorCode::kInvalidCursor, errors::kInvalidCursor);
      return false;
    }
    *cursor = static_cast<uint64_t>(negative);
    return true;
  }
  if (text.empty() || text.size() > 20) {
    reply.SendError(ErrorCode::kInvalidCursor, errors::kInvalidCursor);
    return false;
  }
  for (char c : text) {
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (c < '0' || c > '9' || *cursor > (UINT64_MAX - digit) / 10) {
      reply.SendError(ErrorCode::kInvalidCursor, errors::kInvalidCursor);
      return false;
    }
    *cursor = *cursor * 10 + digit;
  }
  return true;
}

struct ScanOptions {
  std::string_view pattern;  // empty: every name
  size_t count = 10;
};

// HSCAN / ZSCAN key cursor [MATCH pattern] [COUNT count], options from
// args[3]. False with the error replied.
inline bool ParseScanOptionsOrReply(protocol::CommandArgs args, ScanOptions* options, protocol::ReplySink& reply) {
  using protocol::ErrorCode;
  namespace errors = protocol::errors;
  for (size_t i = 3; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) {
      reply.SendError(ErrorCode::kSyntax, errors::kSyntax);
      return false;
    }
    if (EqualsIgnoreCase(args[i], "MATCH")) {
      options->pattern = args[i + 1] == "*" ? std::string_view() : args[i + 1];
    } else if (EqualsIgnoreCase(args[i], "COUNT")) {
      int64_t count = 0;
      if (!protocol::ParseInt64(args[i + 1], &count)) {
        reply.SendError(ErrorCode::kNotInteger, errors::kNotInteger);
        return false;
      }
      if (count < 1) {
        reply.SendError(ErrorCode::kSyntax, errors::kSyntax);
        return false;
      }
      options->count = static_cast<size_t>(std::min<int64_t>(count, int64_t{1} << 20));
    } else {
      reply.SendError(ErrorCode::kSyntax, errors::kSyntax);
      return false;
    }
  }
  return true;
}

}  // namespace tally::commands
