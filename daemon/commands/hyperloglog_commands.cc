// Redis's HyperLogLog commands on the plain keyspace: PFADD, PFCOUNT,
// PFMERGE. The sketch is core/distinct_sketch.h (Redis's hash, registers and
// estimator; exact below 257 members); a key holds it as a value of its own
// encoding (KeyspaceModule::kSketchMagic), so GET of such a key does not
// return Redis's bytes, and a value Redis wrote cannot be loaded here.
// Replies and errors follow Redis 7.0 (hyperloglog.c).

#include <string_view>

#include "commands/context.h"
#include "commands/registry.h"
#include "commands/reply_status.h"
#include "core/distinct_sketch.h"

namespace tally::commands {
namespace {

using protocol::CommandArgs;
using protocol::CommandContext;
using protocol::ErrorCode;
using protocol::ReplySink;
namespace flags = protocol::flags;

// PFADD key [element ...]: 1 if the key was created or its sketch changed.
void PfAdd(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  auto result = ctx.engine.keyspace().SketchAdd(args[1], args.subspan(2));
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(result.value ? 1 : 0);
}

// The union of the keys' sketches (missing keys are empty).
bool UnionOf(CommandContext& ctx, CommandArgs keys, core::DistinctSketch* out, ReplySink& reply) {
  for (std::string_view key : keys) {
    auto sketch = ctx.engine.keyspace().ReadSketch(key);
    if (!sketch.ok()) {
      SendOpError(reply, sketch);
      return false;
    }
    out->Merge(sketch.value);
  }
  return true;
}

// PFCOUNT key [key ...]: the estimate for one key, or for the union of several.
void PfCount(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (args.size() == 2) {
    auto count = ctx.engine.keyspace().CountSketch(args[1]);
    if (!count.ok()) return SendOpError(reply, count);
    return reply.SendInteger(static_cast<int64_t>(count.value));
  }
  core::DistinctSketch all;
  if (!UnionOf(ctx, args.subspan(1), &all, reply)) return;
  reply.SendInteger(static_cast<int64_t>(all.Count()));
}

// PFMERGE destkey [sourcekey ...]: destkey := union of itself and the sources.
void PfMerge(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  core::DistinctSketch sources;
  if (!UnionOf(ctx, args.subspan(2), &sources, reply)) return;
  auto result = ctx.engine.keyspace().MergeSketch(args[1], sources);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendOk();
}

using enum ErrorCode;
constexpr ErrorCode kSketchErrors[] = {kWrongType};

const protocol::CommandSpec kSpecs[] = {
    {"PFADD", -2, flags::kWrite | flags::kFast, "hyperloglog", "key [element ...]",
     "Adds elements to a HyperLogLog key (created if absent): 1 if its estimate may have changed, else 0.", PfAdd,
     kSketchErrors, protocol::kOneKey},
    {"PFCOUNT", -2, flags::kReadOnly, "hyperloglog", "key [key ...]",
     "Distinct elements added to a HyperLogLog key (exact below 257), or to the union of several keys.", PfCount,
     kSketchErrors, protocol::kEveryArgKey},
    {"PFMERGE", -2, flags::kWrite, "hyperloglog", "destkey [sourcekey ...]",
     "Stores the union of destkey and the source HyperLogLog keys in destkey.", PfMerge, kSketchErrors,
     protocol::kEveryArgKey},
};

}  // namespace

std::span<const protocol::CommandSpec> HyperLogLogCommands() { return kSpecs; }

}  // namespace tally::commands
