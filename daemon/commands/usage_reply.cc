// A quota feature's figures as reply pairs (usage_reply.h).

#include "commands/usage_reply.h"

namespace tally::commands {

using protocol::ReplySink;

void SendLimit(ReplySink& reply, const std::optional<int64_t>& value) {
  if (value) {
    reply.SendInteger(*value);
  } else {
    reply.SendNull();
  }
}

void SendUsagePairs(const core::FeatureUsage& usage, ReplySink& reply) {
  reply.SendBulk("feature");
  reply.SendBulk(usage.feature);
  reply.SendBulk("used");
  reply.SendInteger(usage.figures.used);
  reply.SendBulk("limit");
  SendLimit(reply, usage.figures.limit);
  reply.SendBulk("remaining");
  SendLimit(reply, usage.figures.remaining);
  reply.SendBulk("credits");
  reply.SendInteger(usage.figures.credits);
  reply.SendBulk("held");
  reply.SendInteger(usage.figures.held);
  reply.SendBulk("overage");
  reply.SendInteger(usage.figures.overage);
  reply.SendBulk("period");
  reply.SendBulk(usage.period);
  reply.SendBulk("resets_at");
  SendLimit(reply, usage.resets_at_ms);
}

}  // namespace tally::commands
