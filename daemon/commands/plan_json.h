#pragma once
// A plan as JSON, the form PLAN.SET, PUT /v1/plans/{plan} and PLAN.GET use
// (docs/quotas.md):
//
//   {"features": {"api_calls": {"limit": 1000, "period": "month",
//                               "overage": "reject", "alerts": [80, 95, 100]}}}
//
// `limit` is required (an integer ≥ 0, or null = unlimited); `period`
// defaults to "total", `overage` to "reject", `alerts` to [80, 95, 100].
// Unknown keys, wrong types (a float, a number in a string) and bad values
// are errors naming the key. The text is parsed by the caller (strictly:
// duplicate keys refused), this reads the value.

#include <nlohmann/json.hpp>

#include <string>

#include "core/quota_plan.h"

namespace tally::commands {

// False with `error` naming what is wrong; `out` is then unchanged.
bool PlanFromJson(const std::string& name, const nlohmann::json& body, core::Plan* out, std::string* error);
nlohmann::json PlanToJson(const core::Plan& plan);

}  // namespace tally::commands
