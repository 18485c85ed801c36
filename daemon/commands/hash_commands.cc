// Redis hashes in the plain keyspace: HSET, HMSET, HSETNX, HGET, HMGET,
// HGETALL, HDEL, HLEN, HEXISTS, HKEYS, HVALS, HSTRLEN, HINCRBY,
// HINCRBYFLOAT, HSCAN; and INCRBYFLOAT (the string family's float
// increment, which shares the float rules). Semantics, replies and error
// strings follow Redis 7.0 (t_hash.c, t_string.c); docs/redis.md, "Hashes".

#include <string>
#include <vector>

#include "commands/collection_args.h"
#include "commands/context.h"
#include "commands/registry.h"
#include "commands/reply_status.h"
#include "core/glob.h"
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

// HSET key field value [field value ...]: the number of new fields.
// HMSET: the same, replying OK.
void HashSetGeneric(CommandContext& ctx, CommandArgs args, ReplySink& reply, bool ok_reply) {
  if (args.size() % 2 != 0) return reply.SendError(ErrorCode::kWrongArity, errors::WrongArity(args[0]));
  auto result = ctx.engine.keyspace().HashSet(args[1], args.subspan(2));
  if (!result.ok()) return SendOpError(reply, result);
  if (ok_reply) return reply.SendOk();
  reply.SendInteger(result.value);
}
void HSet(CommandContext& ctx, CommandArgs args, ReplySink& reply) { HashSetGeneric(ctx, args, reply, false); }
void HMSet(CommandContext& ctx, CommandArgs args, ReplySink& reply) { HashSetGeneric(ctx, args, reply, true); }

void HSetNx(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  auto result = ctx.engine.keyspace().HashSet(args[1], args.subspan(2), /*only_if_absent=*/true);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(result.value);
}

void HGet(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  bool replied = false;
  auto found = ctx.engine.keyspace().ReadHash(args[1], [&](const core::HashValue& hash) {
    if (std::optional<std::string_view> value = hash.Find(args[2])) {
      reply.SendBulk(*value);
      replied = true;
    }
  });
  if (!found.ok()) return SendOpError(reply, found);
  if (!replied) reply.SendNull();
}

void HMGet(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  const CommandArgs fields = args.subspan(2);
  auto found = ctx.engine.keyspace().ReadHash(args[1], [&](const core::HashValue& hash) {
    reply.SendArray(fields.size());
    for (std::string_view field : fields) {
      if (std::optional<std::string_view> value = hash.Find(field)) {
        reply.SendBulk(*value);
      } else {
        reply.SendNull();
      }
    }
  });
  if (!found.ok()) return SendOpError(reply, found);
  if (found.value) return;
  reply.SendArray(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) reply.SendNull();
}

// HGETALL (a map in RESP3), HKEYS, HVALS.
enum class HashPart { kBoth, kFields, kValues };
void HashListGeneric(CommandContext& ctx, CommandArgs args, ReplySink& reply, HashPart part) {
  auto found = ctx.engine.keyspace().ReadHash(args[1], [&](const core::HashValue& hash) {
    if (part == HashPart::kBoth) {
      reply.SendMap(hash.size());
    } else {
      reply.SendArray(hash.size());
    }
    hash.ForEach([&](std::string_view field, std::string_view value) {
      if (part != HashPart::kValues) reply.SendBulk(field);
      if (part != HashPart::kFields) reply.SendBulk(value);
    });
  });
  if (!found.ok()) return SendOpError(reply, found);
  if (found.value) return;
  if (part == HashPart::kBoth) return reply.SendMap(0);
  reply.SendArray(0);
}
void HGetAll(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  HashListGeneric(ctx, args, reply, HashPart::kBoth);
}
void HKeys(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  HashListGeneric(ctx, args, reply, HashPart::kFields);
}
void HVals(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  HashListGeneric(ctx, args, reply, HashPart::kValues);
}

void HDel(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  auto result = ctx.engine.keyspace().HashDelete(args[1], args.subspan(2));
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(result.value);
}

// HLEN, HEXISTS, HSTRLEN: an integer read from the hash (0 without the key).
template <typename Measure>
void HashIntegerGeneric(CommandContext& ctx, CommandArgs args, ReplySink& reply, Measure&& measure) {
  int64_t value = 0;
  auto found = ctx.engine.keyspace().ReadHash(args[1], [&](const core::HashValue& hash) { value = measure(hash); });
  if (!found.ok()) return SendOpError(reply, found);
  reply.SendInteger(value);
}
void HLen(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  HashIntegerGeneric(ctx, args, reply, [](const core::HashValue& hash) { return static_cast<int64_t>(hash.size()); });
}
void HExists(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  HashIntegerGeneric(ctx, args, reply,
                     [&](const core::HashValue& hash) { return hash.Find(args[2]).has_value() ? 1 : 0; });
}
void HStrLen(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  HashIntegerGeneric(ctx, args, reply, [&](const core::HashValue& hash) {
    std::optional<std::string_view> value = hash.Find(args[2]);
    return static_cast<int64_t>(value ? value->size() : 0);
  });
}

void HIncrBy(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  int64_t delta = 0;
  if (!protocol::ParseInt64(args[3], &delta)) return reply.SendError(ErrorCode::kNotInteger, errors::kNotInteger);
  auto result = ctx.engine.keyspace().HashIncrBy(args[1], args[2], delta);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(result.value);
}

void HIncrByFloat(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  long double delta = 0;
  if (!core::ParseLongDouble(args[3], &delta)) return reply.SendError(ErrorCode::kNotFloat, errors::kNotFloat);
  if (std::isinf(delta)) return reply.SendError(ErrorCode::kNotFloat, "value is NaN or Infinity");
  auto result = ctx.engine.keyspace().HashIncrByFloat(args[1], args[2], delta);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendBulk(result.value);
}

// HSCAN key cursor [MATCH pattern] [COUNT count]: [next cursor, [field,
// value, ...]]. As Redis, a missing key answers an empty page before the
// options are read.
void HScan(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  uint64_t cursor = 0;
  if (!ParseCursorOrReply(args[2], &cursor, reply)) return;
  bool replied = false;
  auto found = ctx.engine.keyspace().ReadHash(args[1], [&](const core::HashValue& hash) {
    ScanOptions options;
    replied = true;
    if (!ParseScanOptionsOrReply(args, &options, reply)) return;
    std::vector<std::pair<std::string, std::string>> page;
    const uint64_t next = hash.Scan(cursor, options.count, page);
    size_t kept = 0;
    for (const auto& [field, value] : page) kept += options.pattern.empty() || core::GlobMatch(options.pattern, field);
    reply.SendArray(2);
    reply.SendBulk(std::to_string(next));
    reply.SendArray(kept * 2);
    for (const auto& [field, value] : page) {
      if (!options.pattern.empty() && !core::GlobMatch(options.pattern, field)) continue;
      reply.SendBulk(field);
      reply.SendBulk(value);
    }
  });
  if (!found.ok()) return SendOpError(reply, found);
  if (replied) return;
  reply.SendArray(2);
  reply.SendBulk("0");
  reply.SendArray(0);
}

// INCRBYFLOAT key increment: the new value, as Redis's "%.17Lf" without
// trailing zeros. As Redis, the key's type is checked before the increment.
void IncrByFloat(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  long double delta = 0;
  if (!core::ParseLongDouble(args[2], &delta)) {
    std::optional<core::ValueType> type = ctx.engine.keyspace().TypeOf(args[1]);
    if (type && *type != core::ValueType::kString) return SendOpError(reply, core::OpStatus::kWrongKind);
    return reply.SendError(ErrorCode::kNotFloat, errors::kNotFloat);
  }
  auto result = ctx.engine.keyspace().IncrByFloat(args[1], delta);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendBulk(result.value);
}

constexpr uint32_t kWriteFast = flags::kWrite | flags::kFast;
constexpr uint32_t kReadFast = flags::kReadOnly | flags::kFast;

using enum ErrorCode;
constexpr ErrorCode kTypeErrors[] = {kWrongType};
constexpr ErrorCode kIncrErrors[] = {kNotInteger, kOverflow, kWrongType};
constexpr ErrorCode kFloatErrors[] = {kNotFloat, kWrongType};
constexpr ErrorCode kScanErrors[] = {kNotInteger, kSyntax, kInvalidCursor, kWrongType};

const protocol::CommandSpec kSpecs[] = {
    {"HSET", -4, kWriteFast, "hash", "key field value [field value ...]",
     "Sets fields of a hash; replies how many were new.", HSet, kTypeErrors, protocol::kOneKey},
    {"HMSET", -4, kWriteFast, "hash", "key field value [field value ...]",
     "Sets fields of a hash, as HSET; replies OK.", HMSet, kTypeErrors, protocol::kOneKey},
    {"HSETNX", 4, kWriteFast, "hash", "key field value", "Sets a hash field only if it is absent (1 if set, else 0).",
     HSetNx, kTypeErrors, protocol::kOneKey},
    {"HGET", 3, kReadFast, "hash", "key field", "Returns a hash field's value.", HGet, kTypeErrors, protocol::kOneKey},
    {"HMGET", -3, kReadFast, "hash", "key field [field ...]", "Returns the values of several hash fields.", HMGet,
     kTypeErrors, protocol::kOneKey},
    {"HGETALL", 2, flags::kReadOnly, "hash", "key", "Returns every field and value of a hash.", HGetAll, kTypeErrors,
     protocol::kOneKey},
    {"HDEL", -3, kWriteFast, "hash", "key field [field ...]",
     "Removes hash fields (the key goes with its last field); replies how many existed.", HDel, kTypeErrors,
     protocol::kOneKey},
    {"HLEN", 2, kReadFast, "hash", "key", "The number of fields in a hash.", HLen, kTypeErrors, protocol::kOneKey},
    {"HEXISTS", 3, kReadFast, "hash", "key field", "Whether a hash field exists (1 or 0).", HExists, kTypeErrors,
     protocol::kOneKey},
    {"HKEYS", 2, flags::kReadOnly, "hash", "key", "Returns every field name of a hash.", HKeys, kTypeErrors,
     protocol::kOneKey},
    {"HVALS", 2, flags::kReadOnly, "hash", "key", "Returns every value of a hash.", HVals, kTypeErrors,
     protocol::kOneKey},
    {"HSTRLEN", 3, kReadFast, "hash", "key field", "The length of a hash field's value (0 if absent).", HStrLen,
     kTypeErrors, protocol::kOneKey},
    {"HINCRBY", 4, kWriteFast, "hash", "key field increment", "Adds an integer to a hash field's value.", HIncrBy,
     kIncrErrors, protocol::kOneKey},
    {"HINCRBYFLOAT", 4, kWriteFast, "hash", "key field increment", "Adds a float to a hash field's value.",
     HIncrByFloat, kFloatErrors, protocol::kOneKey},
    {"HSCAN", -3, flags::kReadOnly, "hash", "key cursor [MATCH pattern] [COUNT count]",
     "Iterates over the fields and values of a hash.", HScan, kScanErrors, protocol::kOneKey},
    {"INCRBYFLOAT", 3, kWriteFast, "string", "key increment", "Adds a float to the value of a key.", IncrByFloat,
     kFloatErrors, protocol::kOneKey},
};

}  // namespace

std::span<const protocol::CommandSpec> HashCommands() { return kSpecs; }

}  // namespace tally::commands
