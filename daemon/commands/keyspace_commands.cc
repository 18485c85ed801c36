// The Redis-compatible plain keyspace: GET, SET, SETEX, PSETEX, SETNX, GETSET,
// GETDEL, GETEX, APPEND, STRLEN, MGET, DEL, UNLINK, TYPE, EXISTS, EXPIRE,
// PEXPIRE, EXPIREAT, PEXPIREAT, EXPIRETIME, PEXPIRETIME, PERSIST, TTL, PTTL,
// INCR, INCRBY, DECR, DECRBY, SCAN, KEYS, DBSIZE, TIME.
// Semantics and error strings follow Redis 7.0 (t_string.c, expire.c, db.c).

#include <climits>
#include <string>
#include <vector>

#include "commands/context.h"
#include "commands/registry.h"
#include "commands/reply_status.h"
#include "commands/transaction.h"
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
  auto found = ctx.engine.keyspace().ReadString(args[1], [&](std::string_view value) { reply.SendBulk(value); });
  if (!found.ok()) return SendOpError(reply, found);  // a hash or sorted set: WRONGTYPE
  if (!found.value) reply.SendNull();
}

void MGet(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  reply.SendArray(args.size() - 1);
  for (size_t i = 1; i < args.size(); ++i) {
    if (!ctx.engine.keyspace().Read(args[i], [&](std::string_view value) { reply.SendBulk(value); })) reply.SendNull();
  }
}

// The options of SET and GETEX, parsed as Redis's
// parseExtendedStringArgumentsOrReply does: an option may repeat (the last
// amount wins), but two different expiry kinds, NX with XX, or KEEPTTL (SET)
// or PERSIST (GETEX) with an expiry, are a syntax error. The amount is read
// later (ExpireAtOrReply), after the whole line parsed.
enum class ExpireKind { kNone, kRelativeSeconds, kRelativeMs, kAbsoluteSeconds, kAbsoluteMs };

struct StringOptions {
  core::SetCondition condition = core::SetCondition::kAlways;
  bool get = false;
  bool keep_ttl = false;
  bool persist = false;
  ExpireKind expire = ExpireKind::kNone;
  std::string_view expire_amount;
};

enum class StringCommand { kSet, kGetEx };

bool ParseStringOptions(CommandArgs args, size_t first, StringCommand command, StringOptions& out, ReplySink& reply) {
  const bool set = command == StringCommand::kSet;
  for (size_t i = first; i < args.size(); ++i) {
    std::string_view option = args[i];
    const bool has_next = i + 1 < args.size();
    ExpireKind kind = EqualsIgnoreCase(option, "EX")     ? ExpireKind::kRelativeSeconds
                      : EqualsIgnoreCase(option, "PX")   ? ExpireKind::kRelativeMs
                      : EqualsIgnoreCase(option, "EXAT") ? ExpireKind::kAbsoluteSeconds
                      : EqualsIgnoreCase(option, "PXAT") ? ExpireKind::kAbsoluteMs
                                                         : ExpireKind::kNone;
    if (set && EqualsIgnoreCase(option, "NX") && out.condition != core::SetCondition::kIfPresent) {
      out.condition = core::SetCondition::kIfAbsent;
    } else if (set && EqualsIgnoreCase(option, "XX") && out.condition != core::SetCondition::kIfAbsent) {
      out.condition = core::SetCondition::kIfPresent;
    } else if (set && EqualsIgnoreCase(option, "GET")) {
      out.get = true;
    } else if (set && EqualsIgnoreCase(option, "KEEPTTL") && out.expire == ExpireKind::kNone) {
      out.keep_ttl = true;
    } else if (!set && EqualsIgnoreCase(option, "PERSIST") && out.expire == ExpireKind::kNone) {
      out.persist = true;
    } else if (kind != ExpireKind::kNone && has_next && !out.keep_ttl && !out.persist &&
               (out.expire == ExpireKind::kNone || out.expire == kind)) {
      out.expire = kind;
      out.expire_amount = args[++i];
    } else {
      reply.SendError(ErrorCode::kSyntax, errors::kSyntax);
      return false;
    }
  }
  return true;
}

// Redis's getExpireMillisecondsOrReply: the absolute expiry (unix ms) of
// `amount` read as `kind`; replies the error and returns false if it is not
// an integer, not positive, or overflows.
bool ExpireAtOrReply(CommandContext& ctx, ExpireKind kind, std::string_view amount, std::string_view command,
                     ReplySink& reply, int64_t* at_ms) {
  int64_t value = 0;
  if (!protocol::ParseInt64(amount, &value)) {
    reply.SendError(ErrorCode::kNotInteger, errors::kNotInteger);
    return false;
  }
  const bool seconds = kind == ExpireKind::kRelativeSeconds || kind == ExpireKind::kAbsoluteSeconds;
  const bool relative = kind == ExpireKind::kRelativeSeconds || kind == ExpireKind::kRelativeMs;
  if (value <= 0 || (seconds && value > LLONG_MAX / 1000)) {
    reply.SendError(ErrorCode::kInvalidExpire, errors::InvalidExpire(command));
    return false;
  }
  int64_t ms = seconds ? value * 1000 : value;
  if (relative && __builtin_add_overflow(ms, ctx.engine.clock().NowMs(), &ms)) {
    reply.SendError(ErrorCode::kInvalidExpire, errors::InvalidExpire(command));
    return false;
  }
  *at_ms = ms;
  return true;
}

// The write of SET and its shorthands (SETEX, PSETEX, SETNX, GETSET).
void SetGeneric(CommandContext& ctx, std::string_view key, std::string_view value, const StringOptions& parsed,
                std::string_view command, ReplySink& reply) {
  core::SetOptions options;
  options.condition = parsed.condition;
  options.keep_ttl = parsed.keep_ttl;
  if (parsed.expire != ExpireKind::kNone &&
      !ExpireAtOrReply(ctx, parsed.expire, parsed.expire_amount, command, reply, &options.expire_at_ms)) {
    return;
  }
  std::optional<std::string> old_value;
  auto result = ctx.engine.keyspace().Set(key, value, options, parsed.get ? &old_value : nullptr);
  if (!result.ok()) return SendOpError(reply, result);
  if (parsed.get) {
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

// SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-s | PXAT unix-ms | KEEPTTL]
void Set(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  StringOptions parsed;
  if (!ParseStringOptions(args, 3, StringCommand::kSet, parsed, reply)) return;
  SetGeneric(ctx, args[1], args[2], parsed, "set", reply);
}

// SETEX key seconds value / PSETEX key milliseconds value
void SetEx(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  StringOptions parsed{.expire = ExpireKind::kRelativeSeconds, .expire_amount = args[2]};
  SetGeneric(ctx, args[1], args[3], parsed, "setex", reply);
}
void PSetEx(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  StringOptions parsed{.expire = ExpireKind::kRelativeMs, .expire_amount = args[2]};
  SetGeneric(ctx, args[1], args[3], parsed, "psetex", reply);
}

// SETNX key value: 1 if set, 0 if the key existed.
void SetNx(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  auto result = ctx.engine.keyspace().Set(args[1], args[2], {.condition = core::SetCondition::kIfAbsent});
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(result.value ? 1 : 0);
}

// GETSET key value: SET ... GET, dropping any expiry.
void GetSet(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  SetGeneric(ctx, args[1], args[2], StringOptions{.get = true}, "getset", reply);
}

void GetDel(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  std::optional<std::string> value;
  auto result = ctx.engine.keyspace().Delete(args[1], &value);
  if (!result.ok()) return SendOpError(reply, result);
  if (value) {
    reply.SendBulk(*value);
  } else {
    reply.SendNull();
  }
}

// GETEX key [EX seconds | PX milliseconds | EXAT unix-s | PXAT unix-ms | PERSIST]
// As in Redis, a missing key is nil before the expiry amount is looked at.
void GetEx(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  StringOptions parsed;
  if (!ParseStringOptions(args, 2, StringCommand::kGetEx, parsed, reply)) return;
  core::KeyspaceModule& keyspace = ctx.engine.keyspace();
  std::optional<std::string> value;
  if (parsed.expire != ExpireKind::kNone) {
    int64_t at_ms = 0;
    if (!keyspace.Exists(args[1])) return reply.SendNull();
    if (!ExpireAtOrReply(ctx, parsed.expire, parsed.expire_amount, "getex", reply, &at_ms)) return;
    auto result = keyspace.Expire(args[1], at_ms, core::ExpireCondition::kAlways, &value);
    if (!result.ok()) return SendOpError(reply, result);
  } else if (parsed.persist) {
    auto result = keyspace.Persist(args[1], &value);
    if (!result.ok()) return SendOpError(reply, result);
  } else {
    auto found = keyspace.ReadString(args[1], [&](std::string_view stored) { value.emplace(stored); });
    if (!found.ok()) return SendOpError(reply, found);
  }
  if (value) {
    reply.SendBulk(*value);
  } else {
    reply.SendNull();
  }
}

void Append(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  auto result = ctx.engine.keyspace().Append(args[1], args[2]);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(result.value);
}

void StrLen(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  size_t length = 0;
  auto found = ctx.engine.keyspace().ReadString(args[1], [&](std::string_view value) { length = value.size(); });
  if (!found.ok()) return SendOpError(reply, found);
  reply.SendInteger(static_cast<int64_t>(length));
}

// DEL/UNLINK key [key ...]: the keys go together (atomically, when they
// live on several shards).
void Del(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  const CommandArgs keys = args.subspan(1);
  if (keys.size() > 1 && RefuseIfLogStopped(ctx, reply)) return;
  int64_t removed = 0;
  core::OpStatus failed = core::OpStatus::kOk;
  AtomicallyOverKeys(ctx, keys, [&] {
    for (std::string_view key : keys) {
      auto result = ctx.engine.keyspace().Delete(key);
      if (!result.ok()) {
        failed = result.status;
        return;
      }
      removed += result.value ? 1 : 0;
    }
  });
  if (failed != core::OpStatus::kOk) return SendOpError(reply, failed);
  reply.SendInteger(removed);
}

// The keys of MSET/MSETNX's key value pairs.
std::vector<std::string_view> PairKeys(CommandArgs args) {
  std::vector<std::string_view> keys;
  keys.reserve(args.size() / 2);
  for (size_t i = 1; i < args.size(); i += 2) keys.push_back(args[i]);
  return keys;
}

// MSET and MSETNX: every pair is set in one atomic step (one RocksDB write
// for the log entries of every shard involved). MSETNX sets none if any key
// exists. Returns false (error sent) if nothing could be set.
bool SetPairs(CommandContext& ctx, CommandArgs args, bool only_if_none_exist, bool& set, ReplySink& reply) {
  if (args.size() % 2 == 0) {
    reply.SendError(ErrorCode::kWrongArity, errors::WrongArity(args[0]));
    return false;
  }
  const std::vector<std::string_view> keys = PairKeys(args);
  if (RefuseIfLogStopped(ctx, reply)) return false;
  core::OpStatus failed = core::OpStatus::kOk;
  set = false;
  AtomicallyOverKeys(ctx, keys, [&] {
    if (only_if_none_exist) {
      for (std::string_view key : keys) {
        if (ctx.engine.keyspace().Exists(key)) return;
      }
    }
    for (size_t i = 1; i < args.size(); i += 2) {
      auto result = ctx.engine.keyspace().Set(args[i], args[i + 1], core::SetOptions{});
      if (!result.ok()) {
        failed = result.status;
        return;
      }
    }
    set = true;
  });
  if (failed != core::OpStatus::kOk) {
    SendOpError(reply, failed);
    return false;
  }
  return true;
}

void MSet(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  bool set = false;
  if (SetPairs(ctx, args, /*only_if_none_exist=*/false, set, reply)) reply.SendOk();
}

void MSetNx(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  bool set = false;
  if (SetPairs(ctx, args, /*only_if_none_exist=*/true, set, reply)) reply.SendInteger(set ? 1 : 0);
}

void Exists(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  int64_t found = 0;
  for (size_t i = 1; i < args.size(); ++i) found += ctx.engine.keyspace().Exists(args[i]) ? 1 : 0;
  reply.SendInteger(found);
}

// EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT key amount [NX | XX | GT | LT], as
// Redis's expireGenericCommand: the flags are checked before the amount;
// `base_ms` is now for the relative forms, 0 for the absolute ones.
void ExpireGeneric(CommandContext& ctx, CommandArgs args, ReplySink& reply, bool seconds, bool absolute,
                   std::string_view name) {
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
  int64_t amount = 0;
  if (!protocol::ParseInt64(args[2], &amount)) {
    reply.SendError(ErrorCode::kNotInteger, errors::kNotInteger);
    return;
  }
  int64_t ms = amount;
  if (seconds && __builtin_mul_overflow(amount, int64_t{1000}, &ms)) {
    reply.SendError(ErrorCode::kInvalidExpire, errors::InvalidExpire(name));
    return;
  }
  const int64_t base_ms = absolute ? 0 : ctx.engine.clock().NowMs();
  int64_t at = 0;
  if (__builtin_add_overflow(ms, base_ms, &at)) {
    reply.SendError(ErrorCode::kInvalidExpire, errors::InvalidExpire(name));
    return;
  }
  auto result = ctx.engine.keyspace().Expire(args[1], at, condition);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(result.value ? 1 : 0);
}

void Expire(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  ExpireGeneric(ctx, args, reply, true, false, "expire");
}
void PExpire(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  ExpireGeneric(ctx, args, reply, false, false, "pexpire");
}
void ExpireAt(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  ExpireGeneric(ctx, args, reply, true, true, "expireat");
}
void PExpireAt(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  ExpireGeneric(ctx, args, reply, false, true, "pexpireat");
}

// EXPIRETIME rounds to the nearest second, as Redis's ttlGenericCommand does.
void ExpireTime(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  int64_t at_ms = ctx.engine.keyspace().ExpireAtMs(args[1]);
  reply.SendInteger(at_ms < 0 ? at_ms : (at_ms + 500) / 1000);
}
void PExpireTime(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  reply.SendInteger(ctx.engine.keyspace().ExpireAtMs(args[1]));
}

// string (a HyperLogLog value is one, as in Redis), hash, zset or none.
void Type(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  const std::optional<core::ValueType> type = ctx.engine.keyspace().TypeOf(args[1]);
  reply.SendSimple(type ? core::ValueTypeName(*type) : "none");
}

// TIME: [unix seconds, microseconds], from the engine's clock (milliseconds).
void Time(CommandContext& ctx, CommandArgs, ReplySink& reply) {
  const int64_t now_ms = ctx.engine.clock().NowMs();
  reply.SendArray(2);
  reply.SendBulk(std::to_string(now_ms / 1000));
  reply.SendBulk(std::to_string(now_ms % 1000 * 1000));
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
  std::string_view type;  // TYPE: only keys of that type (string, hash, zset)
  for (size_t i = 2; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) return reply.SendError(ErrorCode::kSyntax, errors::kSyntax);
    if (EqualsIgnoreCase(args[i], "MATCH")) {
      pattern = args[i + 1] == "*" ? std::string_view() : args[i + 1];
    } else if (EqualsIgnoreCase(args[i], "COUNT")) {
      if (!protocol::ParseInt64(args[i + 1], &count))
        return reply.SendError(ErrorCode::kNotInteger, errors::kNotInteger);
      if (count < 1) return reply.SendError(ErrorCode::kSyntax, errors::kSyntax);
    } else if (EqualsIgnoreCase(args[i], "TYPE")) {
      type = args[i + 1];
    } else {
      return reply.SendError(ErrorCode::kSyntax, errors::kSyntax);
    }
  }
  core::ScanPage page =
      ctx.engine.keyspace().Scan(cursor, pattern, static_cast<size_t>(std::min<int64_t>(count, 1 << 20)), type);
  reply.SendArray(2);
  reply.SendBulk(std::to_string(page.next_cursor));
  reply.SendArray(page.keys.size());
  for (const std::string& key : page.keys) reply.SendBulk(key);
}

// KEYS pattern: every live plain key matching `pattern`, in one reply. A
// full pass over the keyspace (one shard lock at a time), as in Redis: for
// large keyspaces use SCAN.
void Keys(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  const std::string_view pattern = args[1] == "*" ? std::string_view() : args[1];
  std::vector<std::string> keys;
  uint64_t cursor = 0;
  do {
    core::ScanPage page = ctx.engine.keyspace().Scan(cursor, pattern, size_t{1} << 20);
    for (std::string& key : page.keys) keys.push_back(std::move(key));
    cursor = page.next_cursor;
  } while (cursor != 0);
  reply.SendArray(keys.size());
  for (const std::string& key : keys) reply.SendBulk(key);
}

void DbSize(CommandContext& ctx, CommandArgs, ReplySink& reply) {
  reply.SendInteger(static_cast<int64_t>(ctx.engine.keyspace().Sizes().keys));
}

constexpr uint32_t kWriteFast = flags::kWrite | flags::kFast;
constexpr uint32_t kReadFast = flags::kReadOnly | flags::kFast;

using enum ErrorCode;
constexpr ErrorCode kSetErrors[] = {kNotInteger, kSyntax, kInvalidExpire, kWrongType};
constexpr ErrorCode kStringErrors[] = {kWrongType};  // the key holds a hash or sorted set
constexpr ErrorCode kExpireErrors[] = {kNotInteger, kSyntax, kInvalidExpire};
constexpr ErrorCode kIncrErrors[] = {kNotInteger, kOverflow, kWrongType};
constexpr ErrorCode kScanErrors[] = {kNotInteger, kSyntax, kInvalidCursor};
constexpr ErrorCode kSetExErrors[] = {kNotInteger, kInvalidExpire};

const protocol::CommandSpec kSpecs[] = {
    {"GET", 2, kReadFast, "string", "key", "Returns the string value of a key.", Get, kStringErrors, protocol::kOneKey},
    {"SET", -3, flags::kWrite, "string",
     "key value [NX | XX] [GET] [EX seconds | PX ms | EXAT unix-s | PXAT unix-ms | KEEPTTL]",
     "Sets the string value of a key, optionally with an expiry and a condition.", Set, kSetErrors, protocol::kOneKey},
    {"MSET",
     -3,
     flags::kWrite,
     "string",
     "key value [key value ...]",
     "Sets several keys in one atomic step.",
     MSet,
     {},
     protocol::kKeyValuePairs},
    {"MSETNX",
     -3,
     flags::kWrite,
     "string",
     "key value [key value ...]",
     "Sets several keys in one atomic step, only if none exists (1 if set, else 0).",
     MSetNx,
     {},
     protocol::kKeyValuePairs},
    {"MGET",
     -2,
     kReadFast,
     "string",
     "key [key ...]",
     "Returns the values of several keys.",
     MGet,
     {},
     protocol::kEveryArgKey},
    {"SETEX", 4, flags::kWrite, "string", "key seconds value", "Sets a key's value with an expiry in seconds.", SetEx,
     kSetExErrors, protocol::kOneKey},
    {"PSETEX", 4, flags::kWrite, "string", "key milliseconds value",
     "Sets a key's value with an expiry in milliseconds.", PSetEx, kSetExErrors, protocol::kOneKey},
    {"SETNX",
     3,
     kWriteFast,
     "string",
     "key value",
     "Sets a key's value only if it is absent (1 if set, else 0).",
     SetNx,
     {},
     protocol::kOneKey},
    {"GETSET", 3, kWriteFast, "string", "key value", "Sets a key's value (dropping its expiry); returns the old one.",
     GetSet, kStringErrors, protocol::kOneKey},
    {"GETDEL", 2, kWriteFast, "string", "key", "Returns a key's value and deletes the key.", GetDel, kStringErrors,
     protocol::kOneKey},
    {"GETEX", -2, kWriteFast, "string", "key [EX seconds | PX ms | EXAT unix-s | PXAT unix-ms | PERSIST]",
     "Returns a key's value, optionally setting or removing its expiry.", GetEx, kSetErrors, protocol::kOneKey},
    {"APPEND", 3, kWriteFast, "string", "key value", "Appends to a key's value; replies the new length.", Append,
     kStringErrors, protocol::kOneKey},
    {"STRLEN", 2, kReadFast, "string", "key", "Length of a key's value (0 if absent).", StrLen, kStringErrors,
     protocol::kOneKey},
    {"DEL",
     -2,
     flags::kWrite,
     "keyspace",
     "key [key ...]",
     "Deletes keys; replies how many existed.",
     Del,
     {},
     protocol::kEveryArgKey},
    {"UNLINK",
     -2,
     flags::kWrite,
     "keyspace",
     "key [key ...]",
     "Deletes keys, as DEL; replies how many existed.",
     Del,
     {},
     protocol::kEveryArgKey},
    {"TYPE",
     2,
     kReadFast,
     "keyspace",
     "key",
     "A key's type: string, hash, zset, or none if absent.",
     Type,
     {},
     protocol::kOneKey},
    {"EXISTS",
     -2,
     kReadFast,
     "keyspace",
     "key [key ...]",
     "Counts how many of the keys exist.",
     Exists,
     {},
     protocol::kEveryArgKey},
    {"EXPIRE", -3, kWriteFast, "keyspace", "key seconds [NX | XX | GT | LT]", "Sets a key's time to live in seconds.",
     Expire, kExpireErrors, protocol::kOneKey},
    {"PEXPIRE", -3, kWriteFast, "keyspace", "key milliseconds [NX | XX | GT | LT]",
     "Sets a key's time to live in milliseconds.", PExpire, kExpireErrors, protocol::kOneKey},
    {"EXPIREAT", -3, kWriteFast, "keyspace", "key unix-seconds [NX | XX | GT | LT]",
     "Sets a key's expiry as a unix time in seconds.", ExpireAt, kExpireErrors, protocol::kOneKey},
    {"PEXPIREAT", -3, kWriteFast, "keyspace", "key unix-milliseconds [NX | XX | GT | LT]",
     "Sets a key's expiry as a unix time in milliseconds.", PExpireAt, kExpireErrors, protocol::kOneKey},
    {"EXPIRETIME",
     2,
     kReadFast,
     "keyspace",
     "key",
     "A key's expiry as unix seconds (-1 no expiry, -2 no key).",
     ExpireTime,
     {},
     protocol::kOneKey},
    {"PEXPIRETIME",
     2,
     kReadFast,
     "keyspace",
     "key",
     "A key's expiry as unix milliseconds (-1 no expiry, -2 no key).",
     PExpireTime,
     {},
     protocol::kOneKey},
    {"PERSIST", 2, kWriteFast, "keyspace", "key", "Removes a key's expiry.", Persist, {}, protocol::kOneKey},
    {"TTL",
     2,
     kReadFast,
     "keyspace",
     "key",
     "Seconds left to live (-1 no expiry, -2 no key).",
     Ttl,
     {},
     protocol::kOneKey},
    {"PTTL",
     2,
     kReadFast,
     "keyspace",
     "key",
     "Milliseconds left to live (-1 no expiry, -2 no key).",
     PTtl,
     {},
     protocol::kOneKey},
    {"INCR", 2, kWriteFast, "string", "key", "Adds 1 to the integer value of a key.", Incr, kIncrErrors,
     protocol::kOneKey},
    {"INCRBY", 3, kWriteFast, "string", "key increment", "Adds an integer to the value of a key.", IncrBy, kIncrErrors,
     protocol::kOneKey},
    {"DECR", 2, kWriteFast, "string", "key", "Subtracts 1 from the integer value of a key.", Decr, kIncrErrors,
     protocol::kOneKey},
    {"DECRBY", 3, kWriteFast, "string", "key decrement", "Subtracts an integer from the value of a key.", DecrBy,
     kIncrErrors, protocol::kOneKey},
    {"SCAN", -2, flags::kReadOnly, "keyspace", "cursor [MATCH pattern] [COUNT count] [TYPE type]",
     "Iterates over the plain keys.", Scan, kScanErrors},
    {"KEYS", 2, flags::kReadOnly, "keyspace", "pattern",
     "Every plain key matching a glob pattern: a full scan (use SCAN on large keyspaces).", Keys},
    {"DBSIZE", 1, kReadFast, "server", "", "Number of plain keys.", DbSize},
    {"TIME", 1, flags::kFast | flags::kNoShards, "server", "", "The server's time: unix seconds and microseconds.",
     Time},
};

}  // namespace

std::span<const protocol::CommandSpec> KeyspaceCommands() { return kSpecs; }

}  // namespace tally::commands
