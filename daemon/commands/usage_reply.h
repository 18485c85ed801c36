#pragma once
// A quota feature's figures as reply pairs, shared by the quota commands
// (QUOTA.*) and METER.RECORD's refusal: feature, used, limit, remaining,
// credits, held, overage, period, resets_at (limit and remaining nil =
// unlimited; resets_at nil = never).

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/quotas.h"
#include "protocol/reply_sink.h"

namespace tally::commands {

// An integer, or nil for nullopt (an unlimited limit, a time that never comes).
void SendLimit(protocol::ReplySink& reply, const std::optional<int64_t>& value);

inline constexpr size_t kUsagePairs = 9;
// Sends the kUsagePairs key/value pairs (inside a map the caller opened).
void SendUsagePairs(const core::FeatureUsage& usage, protocol::ReplySink& reply);

}  // namespace tally::commands
