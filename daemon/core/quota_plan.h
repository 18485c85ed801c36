#pragma once
// Plans: named sets of features, each with a limit over a period
// (docs/quotas.md). Parsing from JSON or TOML lives with those formats
// (commands/plan_json.h); this is the validated value.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/billing_calendar.h"

namespace tally::core {

// What happens to usage past the limit: refused (a hard limit), or allowed
// and reported as overage (a soft limit).
enum class Overage : uint8_t { kReject, kAllow };
std::optional<Overage> ParseOverage(std::string_view text);
std::string_view OverageName(Overage overage);

inline constexpr int kDefaultAlertThresholds[] = {80, 95, 100};
inline constexpr int kMaxAlertThreshold = 1000;  // percent: soft limits may alert past 100 %
inline constexpr size_t kMaxAlertThresholds = 16;
inline constexpr size_t kMaxPlanFeatures = 256;

struct PlanFeature {
  std::string name;
  std::optional<int64_t> limit;  // nullopt: unlimited
  QuotaPeriod period;
  Overage overage = Overage::kReject;
  std::vector<int> alert_thresholds{std::begin(kDefaultAlertThresholds), std::end(kDefaultAlertThresholds)};
  bool operator==(const PlanFeature&) const = default;
};

struct Plan {
  std::string name;
  std::vector<PlanFeature> features;  // sorted by name, unique
  const PlanFeature* Find(std::string_view feature) const;
  bool operator==(const Plan&) const = default;
};

// Plan and feature names: 1–64 of A-Z a-z 0-9 _ - . :
bool IsValidPlanName(std::string_view name);

// Sorts the features and checks them: unique names, limits ≥ 0, thresholds
// 1..1000 % (sorted, duplicates dropped), at most 256 features. On failure
// false and `error` names the feature and the problem.
bool NormalizePlan(Plan& plan, std::string* error);

}  // namespace tally::core
