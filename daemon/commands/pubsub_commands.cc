// Pub/sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, with Redis's
// replies, so redis-cli and client libraries (ioredis's subscribe and
// 'message' events) listen unchanged. tally publishes one channel, `alerts`
// (quota alerts, docs/quotas.md); there is no PUBLISH.
//
// Handlers only keep the connection's subscriptions (ClientState::channels,
// ::patterns) and reply; delivering the messages is the RESP transport's
// (net/alert_hub.h): a connection with any subscription is sent every alert
// read after it subscribed. While a RESP2 connection is subscribed only the
// commands flagged kSubscriberOk run (commands/dispatch.h).
//
// Channels tally does not publish, and patterns that match none, are
// refused (unknown_channel) rather than accepted silently as Redis does: a
// misspelt `SUBSCRIBE alert` would otherwise wait forever for messages that
// cannot come. A command naming several is refused whole.

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "commands/alert_json.h"
#include "commands/context.h"
#include "commands/registry.h"
#include "core/glob.h"
#include "protocol/errors.h"

namespace tally::commands {
namespace {

using protocol::CommandArgs;
using protocol::CommandContext;
using protocol::ReplySink;
namespace errors = protocol::errors;
namespace flags = protocol::flags;

// The confirmation of one (un)subscription: [kind, name (or nil), count].
void SendConfirmation(ReplySink& reply, std::string_view kind, const std::string* name, size_t count) {
  reply.SendPush(3);
  reply.SendBulk(kind);
  if (name != nullptr) {
    reply.SendBulk(*name);
  } else {
    reply.SendNull();
  }
  reply.SendInteger(static_cast<int64_t>(count));
}

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// SUBSCRIBE / PSUBSCRIBE: `list` is the client's channels or patterns.
void Add(CommandContext& ctx, CommandArgs args, ReplySink& reply, std::vector<std::string>& list,
         std::string_view kind) {
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string name(args[i]);
    if (!Contains(list, name)) list.push_back(name);
    SendConfirmation(reply, kind, &name, ctx.client.subscriptions());
  }
}

// UNSUBSCRIBE / PUNSUBSCRIBE: the named ones (subscribed or not), or all of
// `list`; with none to name, one confirmation with a nil name (as Redis).
void Remove(CommandContext& ctx, CommandArgs args, ReplySink& reply, std::vector<std::string>& list,
            std::string_view kind) {
  if (args.size() == 1) {
    if (list.empty()) return SendConfirmation(reply, kind, nullptr, ctx.client.subscriptions());
    std::vector<std::string> all;
    all.swap(list);
    for (const std::string& name : all) SendConfirmation(reply, kind, &name, ctx.client.subscriptions());
    return;
  }
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string name(args[i]);
    list.erase(std::remove(list.begin(), list.end(), name), list.end());
    SendConfirmation(reply, kind, &name, ctx.client.subscriptions());
  }
}

void Subscribe(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] != kAlertsChannel) return reply.SendError(errors::UnknownChannel("channel", args[i], kAlertsChannel));
  }
  Add(ctx, args, reply, ctx.client.channels, "subscribe");
}

void PSubscribe(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  for (size_t i = 1; i < args.size(); ++i) {
    if (!core::GlobMatch(args[i], kAlertsChannel)) {
      return reply.SendError(errors::PatternMatchesNoChannel("pattern", args[i], kAlertsChannel));
    }
  }
  Add(ctx, args, reply, ctx.client.patterns, "psubscribe");
}

void Unsubscribe(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  Remove(ctx, args, reply, ctx.client.channels, "unsubscribe");
}

void PUnsubscribe(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  Remove(ctx, args, reply, ctx.client.patterns, "punsubscribe");
}

constexpr uint32_t kPubSub = flags::kConnection | flags::kSubscriberOk | flags::kNoScript;

using enum protocol::ErrorCode;
constexpr protocol::ErrorCode kSubscribeErrors[] = {kUnknownChannel};

const protocol::CommandSpec kSpecs[] = {
    {"SUBSCRIBE", -2, kPubSub, "pubsub", "channel [channel ...]",
     "Listens to channels: 'alerts' (quota alerts as JSON) is the one tally publishes. Replies [subscribe, channel, "
     "count] per channel, then sends [message, channel, json] per alert.",
     Subscribe, kSubscribeErrors},
    {"UNSUBSCRIBE", -1, kPubSub, "pubsub", "[channel ...]",
     "Stops listening to the channels (none named: all): [unsubscribe, channel, count] each.", Unsubscribe},
    {"PSUBSCRIBE", -2, kPubSub, "pubsub", "pattern [pattern ...]",
     "Listens to the channels a glob pattern matches (it must match 'alerts'): [psubscribe, pattern, count] each, "
     "then [pmessage, pattern, channel, json] per alert.",
     PSubscribe, kSubscribeErrors},
    {"PUNSUBSCRIBE", -1, kPubSub, "pubsub", "[pattern ...]",
     "Stops listening to the patterns (none named: all): [punsubscribe, pattern, count] each.", PUnsubscribe},
};

}  // namespace

std::span<const protocol::CommandSpec> PubSubCommands() { return kSpecs; }

}  // namespace tally::commands
