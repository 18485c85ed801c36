#include "commands/alert_json.h"

#include <nlohmann/json.hpp>

#include "core/feeds.h"

namespace tally::commands {

std::string AlertJson(const core::AuditEntry& record) {
  nlohmann::json event = nlohmann::json::parse(record.details, nullptr, false);
  if (event.is_discarded() || !event.is_object()) event = nlohmann::json::object();
  event["seq"] = record.seq;
  event["time_ms"] = record.time_ms;
  event["kind"] = record.command;
  event["owner"] = record.owner;
  event["feature"] = record.key;
  return event.dump();
}

}  // namespace tally::commands
