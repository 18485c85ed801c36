#pragma once
// The names of metering (core/metering.h), checked where they arrive: the
// commands, the HTTP routes and the config file's [prices] table.

#include <cstddef>
#include <string_view>

namespace tally::core {

// Event types and measures: 1-64 characters of A-Z a-z 0-9 _ - : and, for
// event types only, '.'; the counter `<type>.<measure>` must be a valid key.
// The type "cost" is reserved (its counters are the cost's).
bool ValidEventType(std::string_view type);
bool ValidMeasure(std::string_view measure);
inline constexpr size_t kMaxMeasures = 32;
// A price's name is the counter it prices: <event-type>.<measure>.
bool ValidPriceName(std::string_view name);

}  // namespace tally::core
