// The Redis-compatible plain keyspace: GET, SET, MGET, DEL, EXISTS, EXPIRE,
// PEXPIRE, PERSIST, TTL, PTTL, INCR, INCRBY, DECR, DECRBY, SCAN, DBSIZE.
// Semantics and error strings follow Redis 7.0 (t_string.c, expire.c, db.c).

#include <climits>
#include <string>

#include "commands/context.h"
#include "commands/registry.h"
#include "commands/reply_status.h"
#include "protocol/errors.h"
#include "protocol/resp_parser.h"

namespace tally::commands {
namespace {

using protocol::CommandArgs;
using protocol::CommandContext;
using protocol::ErrorCode;
using protocol::ReplySink;
namespace errors = protocol::errors;
namespace flags = protocol::flags;

void Get(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (!ctx.engine.keyspace().Read(args[1], [&](std::string_view value) { reply.SendBulk(value); })) reply.SendNull();
}

void MGet(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  reply.SendArray(args.size() - 1);
  for (size_t i = 1; i < args.size(); ++i) {
    if (!ctx.engine.keyspace().Read(args[i], [&](std::string_view value) { reply.SendBulk(value); })) reply.SendNull();
  }
}

// SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-s | PXAT unix-ms | KEEPTTL]
void Set(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  core::SetOptions options;
  bool get = false;
  bool has_expire = false;
  int64_t expire_amount = 0;
  enum { kRelativeSeconds, kRelativeMs, kAbsoluteSeconds, kAbsoluteMs } expire_kind = kRelativeSeconds;
  for (size_t i = 3; i < args.size(); ++i) {
    std::string_view option = args[i];
    bool has_next = i + 1 < args.size();
    if (EqualsIgnoreCase(option, "NX") && options.condition != core::SetCondition::kIfPresent) {
      options.condition = core::SetCondition::kIfAbsent;
    } else if (EqualsIgnoreCase(option, "XX") && options.condition != core::SetCondition::kIfAbsent) {
      options.condition = core::SetCondition::kIfPresent;
    } else if (EqualsIgnoreCase(option, "GET")) {
      get = true;
    } else if (EqualsIgnoreCase(option, "KEEPTTL") && !has_expire) {
      options.keep_ttl = true;
    } else if (has_next && !has_expire && !options.keep_ttl &&
               (EqualsIgnoreCase(option, "EX") || EqualsIgnoreCase(option, "PX") || EqualsIgnoreCase(option, "EXAT") ||
                EqualsIgnoreCase(option, "PXAT"))) {
      has_expire = true;
      expire_kind = EqualsIgnoreCase(option, "EX")     ? kRelativeSeconds
                    : EqualsIgnoreCase(option, "PX")   ? kRelativeMs
                    : EqualsIgnoreCase(option, "EXAT") ? kAbsoluteSeconds
                                                       : kAbsoluteMs;
      if (!protocol::ParseInt64(args[++i], &expire_amount)) {
        reply.SendError(ErrorCode::kNotInteger, errors::kNotInteger);
        return;
      }
    } else {
      reply.SendError(ErrorCode::kSyntax, errors::kSyntax);
      return;
    }
  }
  if (has_expire) {
    const bool seconds = expire_kind == kRelativeSeconds || expire_kind == kAbsoluteSeconds;
    if (expire_amount <= 0 || (seconds && expire_amount > LLONG_MAX / 1000)) {
      reply.SendError(ErrorCode::kInvalidExpire, errors::InvalidExpire("set"));
      return;
    }
    int64_t ms = seconds ? expire_amount * 1000 : expire_amount;
    if (expire_kind == kRelativeSeconds || expire_kind == kRelativeMs) {
      if (__builtin_add_overflow(ms, ctx.engine.clock().NowMs(), &ms)) {
        reply.SendError(ErrorCode::kInvalidExpire, errors::InvalidExpire("set"));
        return;
      }
    }
    options.expire_at_ms = ms;
  }
  std::optional<std::string> old_value;
  auto result = ctx.engine.keyspace().Set(args[1], args[2], options, get ? &old_value : nullptr);
  if (!result.ok()) return SendOpError(reply, result);
  if (get) {
    if (old_value) {
      reply.SendBulk(*old_value);
    } else {
      reply.SendNull();
    }
  } else if (result.value) {
    reply.SendOk();
  } else {
    reply.SendNull();
  }
}

void Del(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  int64_t removed = 0;
  for (size_t i = 1; i < args.size(); ++i) {
    auto result = ctx.engine.keyspace().Delete(args[i]);
    if (!result.ok()) return SendOpError(reply, result);
    removed += result.value ? 1 : 0;
  }
  reply.SendInteger(removed);
}

void Exists(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  int64_t found = 0;
  for (size_t i = 1; i < args.size(); ++i) found += ctx.engine.keyspace().Exists(args[i]) ? 1 : 0;
  reply.SendInteger(found);
}

// EXPIRE/PEXPIRE key amount [NX | XX | GT | LT]
void ExpireGeneric(CommandContext& ctx, CommandArgs args, ReplySink& reply, bool seconds, std::string_view name) {
  int64_t amount = 0;
  if (!protocol::ParseInt64(args[2], &amount)) {
    reply.SendError(ErrorCode::kNotInteger, errors::kNotInteger);
    return;
  }
  core::ExpireCondition condition = core::ExpireCondition::kAlways;
  bool nx = false, xx = false, gt = false, lt = false;
  for (size_t i = 3; i < args.size(); ++i) {
    if (EqualsIgnoreCase(args[i], "NX"))
      nx = true;
    else if (EqualsIgnoreCase(args[i], "XX"))
      xx = true;
    else if (EqualsIgnoreCase(args[i], "GT"))
      gt = true;
    else if (EqualsIgnoreCase(args[i], "LT"))
      lt = true;
    else {
      reply.SendError(ErrorCode::kSyntax, "Unsupported option " + std::string(args[i].substr(0, 128)));
      return;
    }
  }
  if (nx && (xx || gt || lt)) {
    reply.SendError(ErrorCode::kSyntax, "NX and XX, GT or LT options at the same time are not compatible");
    return;
  }
  if (gt && lt) {
    reply.SendError(ErrorCode::kSyntax, "GT and LT options at the same time are not compatible");
    return;
  }
  if (nx) condition = core::ExpireCondition::kIfNoExpiry;
  if (xx) condition = core::ExpireCondition::kIfHasExpiry;
  if (gt) condition = core::ExpireCondition::kIfGreater;
  if (lt) condition = core::ExpireCondition::kIfLess;
  int64_t ms = amount;
  if (seconds && __builtin_mul_overflow(amount, int64_t{1000}, &ms)) {
    reply.SendError(ErrorCode::kInvalidExpire, errors::InvalidExpire(name));
    return;
  }
  int64_t at = 0;
  if (__builtin_add_overflow(ms, ctx.engine.clock().NowMs(), &at)) {
    reply.SendError(ErrorCode::kInvalidExpire, errors::InvalidExpire(name));
    return;
  }
  auto result = ctx.engine.keyspace().Expire(args[1], at, condition);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(result.value ? 1 : 0);
}

void Expire(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  ExpireGeneric(ctx, args, reply, true, "expire");
}
void PExpire(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  ExpireGeneric(ctx, args, reply, false, "pexpire");
}

void Persist(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  auto result = ctx.engine.keyspace().Persist(args[1]);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(result.value ? 1 : 0);
}

void Ttl(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  int64_t ms = ctx.engine.keyspace().Pttl(args[1]);
  reply.SendInteger(ms < 0 ? ms : (ms + 500) / 1000);
}

void PTtl(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  reply.SendInteger(ctx.engine.keyspace().Pttl(args[1]));
}

void IncrGeneric(CommandContext& ctx, std::string_view key, int64_t delta, ReplySink& reply) {
  auto result = ctx.engine.keyspace().IncrBy(key, delta);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(result.value);
}

void Incr(CommandContext& ctx, CommandArgs args, ReplySink& reply) { IncrGeneric(ctx, args[1], 1, reply); }
void Decr(CommandContext& ctx, CommandArgs args, ReplySink& reply) { IncrGeneric(ctx, args[1], -1, reply); }

void IncrBy(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  int64_t delta = 0;
  if (!protocol::ParseInt64(args[2], &delta)) return reply.SendError(ErrorCode::kNotInteger, errors::kNotInteger);
  IncrGeneric(ctx, args[1], delta, reply);
}

void DecrBy(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  int64_t delta = 0;
  if (!protocol::ParseInt64(args[2], &delta)) return reply.SendError(ErrorCode::kNotInteger, errors::kNotInteger);
  if (delta == LLONG_MIN) return reply.SendError(ErrorCode::kOverflow, errors::kDecrementOverflow);
  IncrGeneric(ctx, args[1], -delta, reply);
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
void Scan(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  // Redis reads the cursor as unsigned 64-bit, accepting a negative number as
  // its two's complement (string2ull).
  uint64_t cursor = 0;
  {
    std::string_view text = args[1];
    int64_t negative = 0;
    if (!text.empty() && text[0] == '-') {
      if (!protocol::ParseInt64(text, &negative))
        return reply.SendError(ErrorCode::kInvalidCursor, errors::kInvalidCursor);
      cursor = static_cast<uint64_t>(negative);
    } else {
      if (text.empty() || text.size() > 20) return reply.SendError(ErrorCode::kInvalidCursor, errors::kInvalidCursor);
      for (char c : text) {
        if (c < '0' || c > '9') return reply.SendError(ErrorCode::kInvalidCursor, errors::kInvalidCursor);
        uint64_t digit = static_cast<uint64_t>(c - '0');
        if (cursor > (UINT64_MAX - digit) / 10)
          return reply.SendError(ErrorCode::kInvalidCursor, errors::kInvalidCursor);
        cursor = cursor * 10 + digit;
      }
    }
  }
  std::string_view pattern;
  int64_t count = 10;
  bool type_matches = true;
  for (size_t i = 2; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) return reply.SendError(ErrorCode::kSyntax, errors::kSyntax);
    if (EqualsIgnoreCase(args[i], "MATCH")) {
      pattern = args[i + 1] == "*" ? std::string_view() : args[i + 1];
    } else if (EqualsIgnoreCase(args[i], "COUNT")) {
      if (!protocol::ParseInt64(args[i + 1], &count))
        return reply.SendError(ErrorCode::kNotInteger, errors::kNotInteger);
      if (count < 1) return reply.SendError(ErrorCode::kSyntax, errors::kSyntax);
    } else if (EqualsIgnoreCase(args[i], "TYPE")) {
      type_matches = EqualsIgnoreCase(args[i + 1], "string");  // plain keys are strings
    } else {
      return reply.SendError(ErrorCode::kSyntax, errors::kSyntax);
    }
  }
  core::ScanPage page =
      ctx.engine.keyspace().Scan(cursor, pattern, static_cast<size_t>(std::min<int64_t>(count, 1 << 20)));
  reply.SendArray(2);
  reply.SendBulk(std::to_string(page.next_cursor));
  if (!type_matches) page.keys.clear();
  reply.SendArray(page.keys.size());
  for (const std::string& key : page.keys) reply.SendBulk(key);
}

void DbSize(CommandContext& ctx, CommandArgs, ReplySink& reply) {
  reply.SendInteger(static_cast<int64_t>(ctx.engine.keyspace().Sizes().keys));
}

constexpr uint32_t kWriteFast = flags::kWrite | flags::kFast;
constexpr uint32_t kReadFast = flags::kReadOnly | flags::kFast;

using enum ErrorCode;
constexpr ErrorCode kSetErrors[] = {kNotInteger, kSyntax, kInvalidExpire};
constexpr ErrorCode kExpireErrors[] = {kNotInteger, kSyntax, kInvalidExpire};
constexpr ErrorCode kIncrErrors[] = {kNotInteger, kOverflow};
constexpr ErrorCode kScanErrors[] = {kNotInteger, kSyntax, kInvalidCursor};

const protocol::CommandSpec kSpecs[] = {
    {"GET", 2, kReadFast, "string", "key", "Returns the string value of a key.", Get},
    {"SET", -3, flags::kWrite, "string",
     "key value [NX | XX] [GET] [EX seconds | PX ms | EXAT unix-s | PXAT unix-ms | KEEPTTL]",
     "Sets the string value of a key, optionally with an expiry and a condition.", Set, kSetErrors},
    {"MGET", -2, kReadFast, "string", "key [key ...]", "Returns the values of several keys.", MGet},
    {"DEL", -2, flags::kWrite, "keyspace", "key [key ...]", "Deletes keys; replies how many existed.", Del},
    {"EXISTS", -2, kReadFast, "keyspace", "key [key ...]", "Counts how many of the keys exist.", Exists},
    {"EXPIRE", -3, kWriteFast, "keyspace", "key seconds [NX | XX | GT | LT]", "Sets a key's time to live in seconds.",
     Expire, kExpireErrors},
    {"PEXPIRE", -3, kWriteFast, "keyspace", "key milliseconds [NX | XX | GT | LT]",
     "Sets a key's time to live in milliseconds.", PExpire, kExpireErrors},
    {"PERSIST", 2, kWriteFast, "keyspace", "key", "Removes a key's expiry.", Persist},
    {"TTL", 2, kReadFast, "keyspace", "key", "Seconds left to live (-1 no expiry, -2 no key).", Ttl},
    {"PTTL", 2, kReadFast, "keyspace", "key", "Milliseconds left to live (-1 no expiry, -2 no key).", PTtl},
    {"INCR", 2, kWriteFast, "string", "key", "Adds 1 to the integer value of a key.", Incr, kIncrErrors},
    {"INCRBY", 3, kWriteFast, "string", "key increment", "Adds an integer to the value of a key.", IncrBy, kIncrErrors},
    {"DECR", 2, kWriteFast, "string", "key", "Subtracts 1 from the integer value of a key.", Decr, kIncrErrors},
    {"DECRBY", 3, kWriteFast, "string", "key decrement", "Subtracts an integer from the value of a key.", DecrBy,
     kIncrErrors},
    {"SCAN", -2, flags::kReadOnly, "keyspace", "cursor [MATCH pattern] [COUNT count] [TYPE type]",
     "Iterates over the plain keys.", Scan, kScanErrors},
    {"DBSIZE", 1, kReadFast, "server", "", "Number of plain keys.", DbSize},
};

}  // namespace

std::span<const protocol::CommandSpec> KeyspaceCommands() { return kSpecs; }

}  // namespace tally::commands
