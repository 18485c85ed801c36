#pragma once
// A quota alert as JSON: the one form both EVENTS.READ and the `alerts`
// pub/sub channel (SUBSCRIBE alerts) send, so a listener and a poller parse
// the same object (docs/quotas.md, "Alerts").

#include <string>
#include <string_view>

namespace tally::core {
struct AuditEntry;
}  // namespace tally::core

namespace tally::commands {

// The pub/sub channel quota alerts are published on (the only one tally has).
inline constexpr std::string_view kAlertsChannel = "alerts";

// The record's details object with seq, time_ms, kind, owner and feature
// set from the record (details that are not a JSON object count as {}).
std::string AlertJson(const core::AuditEntry& record);

}  // namespace tally::commands
