#include "core/quota_plan.h"

#include <algorithm>

namespace tally::core {

std::optional<Overage> ParseOverage(std::string_view text) {
  if (text == "reject") return Overage::kReject;
  if (text == "allow") return Overage::kAllow;
  return std::nullopt;
}

std::string_view OverageName(Overage overage) { return overage == Overage::kAllow ? "allow" : "reject"; }

const PlanFeature* Plan::Find(std::string_view feature) const {
  auto it = std::lower_bound(features.begin(), features.end(), feature,
                             [](const PlanFeature& f, std::string_view name) { return f.name < name; });
  return it != features.end() && it->name == feature ? &*it : nullptr;
}

bool IsValidPlanName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == ':';
  });
}

bool NormalizePlan(Plan& plan, std::string* error) {
  if (!IsValidPlanName(plan.name)) {
    *error = "plan name '" + plan.name + "' must be 1-64 of the characters A-Z a-z 0-9 _ - . :";
    return false;
  }
  if (plan.features.size() > kMaxPlanFeatures) {
    *error = "plan '" + plan.name + "' has " + std::to_string(plan.features.size()) + " features; at most " +
             std::to_string(kMaxPlanFeatures);
    return false;
  }
  std::sort(plan.features.begin(), plan.features.end(),
            [](const PlanFeature& a, const PlanFeature& b) { return a.name < b.name; });
  for (size_t i = 0; i < plan.features.size(); ++i) {
    PlanFeature& feature = plan.features[i];
    const std::string where = "feature '" + feature.name + "' of plan '" + plan.name + "'";
    if (!IsValidPlanName(feature.name)) {
      *error = where + ": a feature name must be 1-64 of the characters A-Z a-z 0-9 _ - . :";
      return false;
    }
    if (i > 0 && plan.features[i - 1].name == feature.name) {
      *error = where + " is listed twice";
      return false;
    }
    if (feature.limit && *feature.limit < 0) {
      *error = where + ": limit " + std::to_string(*feature.limit) + " is negative (0 or more, or null = unlimited)";
      return false;
    }
    if (feature.alert_thresholds.size() > kMaxAlertThresholds) {
      *error = where + ": at most " + std::to_string(kMaxAlertThresholds) + " alert thresholds";
      return false;
    }
    for (int threshold : feature.alert_thresholds) {
      if (threshold < 1 || threshold > kMaxAlertThreshold) {
        *error = where + ": alert threshold " + std::to_string(threshold) + " is not a percentage from 1 to 1000";
        return false;
      }
    }
    std::sort(feature.alert_thresholds.begin(), feature.alert_thresholds.end());
    feature.alert_thresholds.erase(std::unique(feature.alert_thresholds.begin(), feature.alert_thresholds.end()),
                                   feature.alert_thresholds.end());
  }
  return true;
}

}  // namespace tally::core
