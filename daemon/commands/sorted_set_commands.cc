// Redis sorted sets in the plain keyspace: ZADD, ZINCRBY, ZSCORE, ZMSCORE,
// ZRANK, ZREVRANK, ZRANGE, ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE,
// ZRANGEBYLEX, ZREVRANGEBYLEX, ZCARD, ZCOUNT, ZREM, ZSCAN, ZPOPMIN,
// ZPOPMAX. Option parsing, replies and error strings follow Redis 7.0
// (t_zset.c), ZRANK's WITHSCORE Redis 7.2; docs/redis.md, "Sorted sets".
//
// Costs: ranks, score bounds and the start of a range are O(log n) in the
// order-statistics tree (core/keyspace_values.h); a range then walks its k
// items: the leaderboard's top 10 (ZREVRANGE key 0 9) is O(log n + 10).

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

constexpr std::string_view kNotFloatRange = "min or max is not a float";
constexpr std::string_view kNotLexRange = "min or max not valid string range item";

bool Resp3(const CommandContext& ctx) { return ctx.client.protocol_version >= 3; }

// ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...];
// ZINCRBY key increment member is ZADD ... INCR (Redis parses its options
// the same way).
void ZAddGeneric(CommandContext& ctx, CommandArgs args, ReplySink& reply, bool increment) {
  core::KeyspaceModule::SortedSetAddOptions options;
  options.increment = increment;
  bool changed_count = false;
  size_t score_index = 2;
  for (; score_index < args.size(); ++score_index) {
    const std::string_view option = args[score_index];
    if (EqualsIgnoreCase(option, "NX")) {
      options.only_new = true;
    } else if (EqualsIgnoreCase(option, "XX")) {
      options.only_existing = true;
    } else if (EqualsIgnoreCase(option, "CH")) {
      changed_count = true;
    } else if (EqualsIgnoreCase(option, "INCR")) {
      options.increment = true;
    } else if (EqualsIgnoreCase(option, "GT")) {
      options.only_greater = true;
    } else if (EqualsIgnoreCase(option, "LT")) {
      options.only_less = true;
    } else {
      break;
    }
  }
  const size_t elements = args.size() - score_index;
  if (elements == 0 || elements % 2 != 0) return reply.SendError(ErrorCode::kSyntax, errors::kSyntax);
  if (options.only_new && options.only_existing) {
    return reply.SendError(ErrorCode::kSyntax, "XX and NX options at the same time are not compatible");
  }
  if ((options.only_greater && options.only_new) || (options.only_less && options.only_new) ||
      (options.only_greater && options.only_less)) {
    return reply.SendError(ErrorCode::kSyntax, "GT, LT, and/or NX options at the same time are not compatible");
  }
  if (options.increment && elements > 2) {
    return reply.SendError(ErrorCode::kSyntax, "INCR option supports a single increment-element pair");
  }
  // Every score first: a bad one changes nothing.
  std::vector<std::pair<double, std::string_view>> pairs;
  pairs.reserve(elements / 2);
  for (size_t i = score_index; i < args.size(); i += 2) {
    double score = 0;
    if (!core::ParseScore(args[i], &score)) return reply.SendError(ErrorCode::kNotFloat, errors::kNotFloat);
    pairs.emplace_back(score, args[i + 1]);
  }
  auto result = ctx.engine.keyspace().SortedSetAdd(args[1], options, pairs);
  if (!result.ok()) return SendOpError(reply, result);
  if (options.increment) {
    if (!result.value.applied) return reply.SendNull();
    return reply.SendDouble(result.value.score);
  }
  reply.SendInteger(changed_count ? result.value.added + result.value.updated : result.value.added);
}
void ZAdd(CommandContext& ctx, CommandArgs args, ReplySink& reply) { ZAddGeneric(ctx, args, reply, false); }
void ZIncrBy(CommandContext& ctx, CommandArgs args, ReplySink& reply) { ZAddGeneric(ctx, args, reply, true); }

void ZScore(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  std::optional<double> score;
  auto found =
      ctx.engine.keyspace().ReadSortedSet(args[1], [&](const core::SortedSet& zset) { score = zset.ScoreOf(args[2]); });
  if (!found.ok()) return SendOpError(reply, found);
  if (!score) return reply.SendNull();
  reply.SendDouble(*score);
}

void ZMScore(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  const CommandArgs members = args.subspan(2);
  std::vector<std::optional<double>> scores(members.size());
  auto found = ctx.engine.keyspace().ReadSortedSet(args[1], [&](const core::SortedSet& zset) {
    for (size_t i = 0; i < members.size(); ++i) scores[i] = zset.ScoreOf(members[i]);
  });
  if (!found.ok()) return SendOpError(reply, found);
  reply.SendArray(scores.size());
  for (const std::optional<double>& score : scores) {
    if (score) {
      reply.SendDouble(*score);
    } else {
      reply.SendNull();
    }
  }
}

// ZRANK / ZREVRANK key member [WITHSCORE]
void ZRankGeneric(CommandContext& ctx, CommandArgs args, ReplySink& reply, bool reverse) {
  if (args.size() > 4) return reply.SendError(ErrorCode::kWrongArity, errors::WrongArity(args[0]));
  const bool with_score = args.size() == 4;
  if (with_score && !EqualsIgnoreCase(args[3], "WITHSCORE")) {
    return reply.SendError(ErrorCode::kSyntax, errors::kSyntax);
  }
  std::optional<size_t> rank;
  double score = 0;
  auto found = ctx.engine.keyspace().ReadSortedSet(args[1], [&](const core::SortedSet& zset) {
    rank = zset.RankOf(args[2]);
    if (!rank) return;
    score = *zset.ScoreOf(args[2]);
    if (reverse) rank = zset.size() - 1 - *rank;
  });
  if (!found.ok()) return SendOpError(reply, found);
  if (!rank) return with_score ? reply.SendNullArray() : reply.SendNull();
  if (with_score) reply.SendArray(2);
  reply.SendInteger(static_cast<int64_t>(*rank));
  if (with_score) reply.SendDouble(score);
}
void ZRank(CommandContext& ctx, CommandArgs args, ReplySink& reply) { ZRankGeneric(ctx, args, reply, false); }
void ZRevRank(CommandContext& ctx, CommandArgs args, ReplySink& reply) { ZRankGeneric(ctx, args, reply, true); }

void ZCard(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  size_t size = 0;
  auto found = ctx.engine.keyspace().ReadSortedSet(args[1], [&](const core::SortedSet& zset) { size = zset.size(); });
  if (!found.ok()) return SendOpError(reply, found);
  reply.SendInteger(static_cast<int64_t>(size));
}

struct ScoreRange {
  double min = 0, max = 0;
  bool min_exclusive = false, max_exclusive = false;
};

void ZCount(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  ScoreRange range;
  if (!core::ParseScoreBound(args[2], &range.min, &range.min_exclusive) ||
      !core::ParseScoreBound(args[3], &range.max, &range.max_exclusive)) {
    return reply.SendError(ErrorCode::kNotFloat, kNotFloatRange);
  }
  size_t count = 0;
  auto found = ctx.engine.keyspace().ReadSortedSet(args[1], [&](const core::SortedSet& zset) {
    const size_t first = zset.FirstRankFrom(range.min, range.min_exclusive);
    const size_t end = zset.EndRankTo(range.max, range.max_exclusive);
    count = end > first ? end - first : 0;
  });
  if (!found.ok()) return SendOpError(reply, found);
  reply.SendInteger(static_cast<int64_t>(count));
}

void ZRem(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  auto result = ctx.engine.keyspace().SortedSetRemove(args[1], args.subspan(2));
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(result.value);
}

// Replies `count` items from rank `first`, upwards (or downwards when
// reverse), with their scores if asked: RESP2 a flat array (member, score,
// ...), RESP3 an array of [member, score] pairs, as Redis 7.0.
void SendItems(const CommandContext& ctx, const core::SortedSet& zset, size_t first, size_t count, bool reverse,
               bool with_scores, ReplySink& reply) {
  const bool pairs = with_scores && Resp3(ctx);
  reply.SendArray(with_scores && !pairs ? count * 2 : count);
  if (count == 0) return;
  auto it = zset.AtRank(first);
  for (size_t i = 0; i < count; ++i) {
    if (pairs) reply.SendArray(2);
    reply.SendBulk(it->member);
    if (with_scores) reply.SendDouble(it->score);
    if (i + 1 == count) break;
    if (reverse) {
      --it;
    } else {
      ++it;
    }
  }
}

// A lex bound (ZRANGE ... BYLEX): "-" and "+" are the ends, "[x" takes x,
// "(x" excludes it.
struct LexBound {
  enum class Kind { kMin, kMax, kInclusive, kExclusive } kind = Kind::kMin;
  std::string_view value;
};
bool ParseLexBound(std::string_view text, LexBound* bound) {
  if (text == "-") {
    bound->kind = LexBound::Kind::kMin;
  } else if (text == "+") {
    bound->kind = LexBound::Kind::kMax;
  } else if (!text.empty() && (text[0] == '[' || text[0] == '(')) {
    bound->kind = text[0] == '[' ? LexBound::Kind::kInclusive : LexBound::Kind::kExclusive;
    bound->value = text.substr(1);
  } else {
    return false;
  }
  return true;
}

// The first rank whose member is past `bound` as a lower bound (below it
// when !lower: as an upper bound), assuming every member has the same score
// (BYLEX's rule in Redis: otherwise the result is unspecified). O(log² n).
size_t LexRank(const core::SortedSet& zset, const LexBound& bound, bool lower) {
  auto before = [&](const std::string& member) {  // the member lies before the bound's cut
    switch (bound.kind) {
      case LexBound::Kind::kMin:
        return false;
      case LexBound::Kind::kMax:
        return true;
      case LexBound::Kind::kInclusive:
        return lower ? member < bound.value : member <= bound.value;
      case LexBound::Kind::kExclusive:
        return lower ? member <= bound.value : member < bound.value;
    }
    return false;
  };
  size_t low = 0, high = zset.size();
  while (low < high) {
    const size_t middle = low + (high - low) / 2;
    if (before(zset.AtRank(middle)->member)) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return low;
}

enum class RangeKind { kAuto, kRank, kScore, kLex };
enum class Direction { kAuto, kForward, kReverse };

// Redis's zrangeGenericCommand: ZRANGE and its older forms, which fix the
// kind or the direction (an option that would change a fixed one is a
// syntax error).
void ZRangeGeneric(CommandContext& ctx, CommandArgs args, ReplySink& reply, RangeKind kind, Direction direction) {
  bool with_scores = false;
  int64_t offset = 0, limit = -1;
  bool has_limit = false;
  for (size_t i = 4; i < args.size(); ++i) {
    const size_t left = args.size() - i - 1;
    if (EqualsIgnoreCase(args[i], "WITHSCORES")) {
      with_scores = true;
    } else if (EqualsIgnoreCase(args[i], "LIMIT") && left >= 2) {
      if (!protocol::ParseInt64(args[i + 1], &offset) || !protocol::ParseInt64(args[i + 2], &limit)) {
        return reply.SendError(ErrorCode::kNotInteger, errors::kNotInteger);
      }
      has_limit = true;
      i += 2;
    } else if (direction == Direction::kAuto && EqualsIgnoreCase(args[i], "REV")) {
      direction = Direction::kReverse;
    } else if (kind == RangeKind::kAuto && EqualsIgnoreCase(args[i], "BYLEX")) {
      kind = RangeKind::kLex;
    } else if (kind == RangeKind::kAuto && EqualsIgnoreCase(args[i], "BYSCORE")) {
      kind = RangeKind::kScore;
    } else {
      return reply.SendError(ErrorCode::kSyntax, errors::kSyntax);
    }
  }
  if (direction == Direction::kAuto) direction = Direction::kForward;
  if (kind == RangeKind::kAuto) kind = RangeKind::kRank;
  const bool reverse = direction == Direction::kReverse;
  if (has_limit && limit != -1 && kind == RangeKind::kRank) {
    return reply.SendError(ErrorCode::kSyntax,
                           "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
  }
  if (with_scores && kind == RangeKind::kLex) {
    return reply.SendError(ErrorCode::kSyntax, "syntax error, WITHSCORES not supported in combination with BYLEX");
  }
  // Score and lex ranges are given as max, min when reversed.
  std::string_view min_text = args[2], max_text = args[3];
  if (reverse && kind != RangeKind::kRank) std::swap(min_text, max_text);
  int64_t start = 0, stop = 0;
  ScoreRange scores;
  LexBound lex_min, lex_max;
  switch (kind) {
    case RangeKind::kAuto:
    case RangeKind::kRank:
      if (!protocol::ParseInt64(min_text, &start) || !protocol::ParseInt64(max_text, &stop)) {
        return reply.SendError(ErrorCode::kNotInteger, errors::kNotInteger);
      }
      break;
    case RangeKind::kScore:
      if (!core::ParseScoreBound(min_text, &scores.min, &scores.min_exclusive) ||
          !core::ParseScoreBound(max_text, &scores.max, &scores.max_exclusive)) {
        return reply.SendError(ErrorCode::kNotFloat, kNotFloatRange);
      }
      break;
    case RangeKind::kLex:
      if (!ParseLexBound(min_text, &lex_min) || !ParseLexBound(max_text, &lex_max)) {
        return reply.SendError(ErrorCode::kSyntax, kNotLexRange);
      }
      break;
  }
  auto found = ctx.engine.keyspace().ReadSortedSet(args[1], [&](const core::SortedSet& zset) {
    const auto size = static_cast<int64_t>(zset.size());
    if (kind == RangeKind::kRank) {
      if (start < 0) start += size;
      if (stop < 0) stop += size;
      if (start < 0) start = 0;
      if (start > stop || start >= size) return SendItems(ctx, zset, 0, 0, false, with_scores, reply);
      if (stop >= size) stop = size - 1;
      const auto count = static_cast<size_t>(stop - start + 1);
      const auto first = static_cast<size_t>(reverse ? size - 1 - start : start);
      return SendItems(ctx, zset, first, count, reverse, with_scores, reply);
    }
    // [begin, end) in rank order, then the offset and limit from the
    // range's start (its top when reversed).
    size_t begin = 0, end = 0;
    if (kind == RangeKind::kScore) {
      begin = zset.FirstRankFrom(scores.min, scores.min_exclusive);
      end = zset.EndRankTo(scores.max, scores.max_exclusive);
    } else {
      begin = LexRank(zset, lex_min, true);
      end = LexRank(zset, lex_max, false);
    }
    size_t available = end > begin ? end - begin : 0;
    if (offset < 0 || static_cast<uint64_t>(offset) >= available) {
      return SendItems(ctx, zset, 0, 0, false, with_scores, reply);
    }
    available -= static_cast<size_t>(offset);
    const size_t count = limit < 0 ? available : std::min(available, static_cast<size_t>(limit));
    const size_t first = reverse ? end - 1 - static_cast<size_t>(offset) : begin + static_cast<size_t>(offset);
    SendItems(ctx, zset, first, count, reverse, with_scores, reply);
  });
  if (!found.ok()) return SendOpError(reply, found);
  if (!found.value) reply.SendArray(0);
}
void ZRange(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  ZRangeGeneric(ctx, args, reply, RangeKind::kAuto, Direction::kAuto);
}
void ZRevRange(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  ZRangeGeneric(ctx, args, reply, RangeKind::kRank, Direction::kReverse);
}
void ZRangeByScore(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  ZRangeGeneric(ctx, args, reply, RangeKind::kScore, Direction::kForward);
}
void ZRevRangeByScore(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  ZRangeGeneric(ctx, args, reply, RangeKind::kScore, Direction::kReverse);
}
void ZRangeByLex(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  ZRangeGeneric(ctx, args, reply, RangeKind::kLex, Direction::kForward);
}
void ZRevRangeByLex(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  ZRangeGeneric(ctx, args, reply, RangeKind::kLex, Direction::kReverse);
}

// ZPOPMIN / ZPOPMAX key [count]: without count one member and its score (a
// flat pair); with it, up to count of them (RESP3: [member, score] pairs).
void ZPopGeneric(CommandContext& ctx, CommandArgs args, ReplySink& reply, bool highest) {
  if (args.size() > 3) return reply.SendError(ErrorCode::kSyntax, errors::kSyntax);
  int64_t count = 1;
  const bool counted = args.size() == 3;
  if (counted) {
    // Redis answers the same for a count that is not a number and one below 0.
    if (!protocol::ParseInt64(args[2], &count) || count < 0) {
      return reply.SendError(ErrorCode::kOutOfRange, "value is out of range, must be positive");
    }
  }
  auto result = ctx.engine.keyspace().SortedSetPop(args[1], static_cast<size_t>(count), highest);
  if (!result.ok()) return SendOpError(reply, result);
  const bool pairs = counted && Resp3(ctx);
  reply.SendArray(pairs ? result.value.size() : result.value.size() * 2);
  for (const auto& [member, score] : result.value) {
    if (pairs) reply.SendArray(2);
    reply.SendBulk(member);
    reply.SendDouble(score);
  }
}
void ZPopMin(CommandContext& ctx, CommandArgs args, ReplySink& reply) { ZPopGeneric(ctx, args, reply, false); }
void ZPopMax(CommandContext& ctx, CommandArgs args, ReplySink& reply) { ZPopGeneric(ctx, args, reply, true); }

// ZSCAN key cursor [MATCH pattern] [COUNT count]: [next cursor, [member,
// score, ...]], the scores as bulk strings (as Redis, in RESP3 too).
void ZScan(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  uint64_t cursor = 0;
  if (!ParseCursorOrReply(args[2], &cursor, reply)) return;
  bool replied = false;
  auto found = ctx.engine.keyspace().ReadSortedSet(args[1], [&](const core::SortedSet& zset) {
    ScanOptions options;
    replied = true;
    if (!ParseScanOptionsOrReply(args, &options, reply)) return;
    std::vector<std::pair<std::string, double>> page;
    const uint64_t next = zset.Scan(cursor, options.count, page);
    size_t kept = 0;
    for (const auto& [member, score] : page)
      kept += options.pattern.empty() || core::GlobMatch(options.pattern, member);
    reply.SendArray(2);
    reply.SendBulk(std::to_string(next));
    reply.SendArray(kept * 2);
    for (const auto& [member, score] : page) {
      if (!options.pattern.empty() && !core::GlobMatch(options.pattern, member)) continue;
      reply.SendBulk(member);
      reply.SendBulk(protocol::FormatDouble(score));
    }
  });
  if (!found.ok()) return SendOpError(reply, found);
  if (replied) return;
  reply.SendArray(2);
  reply.SendBulk("0");
  reply.SendArray(0);
}

constexpr uint32_t kWriteFast = flags::kWrite | flags::kFast;
constexpr uint32_t kReadFast = flags::kReadOnly | flags::kFast;

using enum ErrorCode;
constexpr ErrorCode kTypeErrors[] = {kWrongType};
constexpr ErrorCode kAddErrors[] = {kSyntax, kNotFloat, kWrongType};
constexpr ErrorCode kRankErrors[] = {kSyntax, kWrongType};
constexpr ErrorCode kCountErrors[] = {kNotFloat, kWrongType};
constexpr ErrorCode kRangeErrors[] = {kSyntax, kNotInteger, kNotFloat, kWrongType};
constexpr ErrorCode kPopErrors[] = {kSyntax, kOutOfRange, kWrongType};
constexpr ErrorCode kScanErrors[] = {kNotInteger, kSyntax, kInvalidCursor, kWrongType};

const protocol::CommandSpec kSpecs[] = {
    {"ZADD", -4, kWriteFast, "sortedset", "key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]",
     "Adds members with scores to a sorted set, or updates their scores.", ZAdd, kAddErrors, protocol::kOneKey},
    {"ZINCRBY", 4, kWriteFast, "sortedset", "key increment member",
     "Adds to a member's score (from 0 if absent); replies the new score.", ZIncrBy, kAddErrors, protocol::kOneKey},
    {"ZSCORE", 3, kReadFast, "sortedset", "key member", "Returns a member's score.", ZScore, kTypeErrors,
     protocol::kOneKey},
    {"ZMSCORE", -3, kReadFast, "sortedset", "key member [member ...]", "Returns the scores of several members.",
     ZMScore, kTypeErrors, protocol::kOneKey},
    {"ZRANK", -3, kReadFast, "sortedset", "key member [WITHSCORE]",
     "A member's rank by ascending score (0 = lowest), optionally with its score.", ZRank, kRankErrors,
     protocol::kOneKey},
    {"ZREVRANK", -3, kReadFast, "sortedset", "key member [WITHSCORE]",
     "A member's rank by descending score (0 = highest), optionally with its score.", ZRevRank, kRankErrors,
     protocol::kOneKey},
    {"ZRANGE", -4, flags::kReadOnly, "sortedset",
     "key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]",
     "Members in a range of ranks, scores or names.", ZRange, kRangeErrors, protocol::kOneKey},
    {"ZREVRANGE", -4, flags::kReadOnly, "sortedset", "key start stop [WITHSCORES]",
     "Members in a range of ranks, highest score first (the top N of a leaderboard).", ZRevRange, kRangeErrors,
     protocol::kOneKey},
    {"ZRANGEBYSCORE", -4, flags::kReadOnly, "sortedset", "key min max [WITHSCORES] [LIMIT offset count]",
     "Members with a score between min and max, lowest first.", ZRangeByScore, kRangeErrors, protocol::kOneKey},
    {"ZREVRANGEBYSCORE", -4, flags::kReadOnly, "sortedset", "key max min [WITHSCORES] [LIMIT offset count]",
     "Members with a score between max and min, highest first.", ZRevRangeByScore, kRangeErrors, protocol::kOneKey},
    {"ZRANGEBYLEX", -4, flags::kReadOnly, "sortedset", "key min max [LIMIT offset count]",
     "Members between two names, when every score is the same.", ZRangeByLex, kRangeErrors, protocol::kOneKey},
    {"ZREVRANGEBYLEX", -4, flags::kReadOnly, "sortedset", "key max min [LIMIT offset count]",
     "Members between two names in reverse, when every score is the same.", ZRevRangeByLex, kRangeErrors,
     protocol::kOneKey},
    {"ZCARD", 2, kReadFast, "sortedset", "key", "The number of members of a sorted set.", ZCard, kTypeErrors,
     protocol::kOneKey},
    {"ZCOUNT", 4, kReadFast, "sortedset", "key min max", "The number of members with a score between min and max.",
     ZCount, kCountErrors, protocol::kOneKey},
    {"ZREM", -3, kWriteFast, "sortedset", "key member [member ...]",
     "Removes members (the key goes with its last member); replies how many existed.", ZRem, kTypeErrors,
     protocol::kOneKey},
    {"ZPOPMIN", -2, kWriteFast, "sortedset", "key [count]", "Removes and returns the members with the lowest scores.",
     ZPopMin, kPopErrors, protocol::kOneKey},
    {"ZPOPMAX", -2, kWriteFast, "sortedset", "key [count]", "Removes and returns the members with the highest scores.",
     ZPopMax, kPopErrors, protocol::kOneKey},
    {"ZSCAN", -3, flags::kReadOnly, "sortedset", "key cursor [MATCH pattern] [COUNT count]",
     "Iterates over the members and scores of a sorted set.", ZScan, kScanErrors, protocol::kOneKey},
};

}  // namespace

std::span<const protocol::CommandSpec> SortedSetCommands() { return kSpecs; }

}  // namespace tally::commands
