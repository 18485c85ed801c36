#include "commands/plan_json.h"

namespace tally::commands {
namespace {

using json = nlohmann::json;

std::string TypeName(const json& value) {
  if (value.is_number_float()) return "a float";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_boolean()) return "a boolean";
  if (value.is_null()) return "null";
  if (value.is_array()) return "an array";
  return "an object";
}

bool FeatureFromJson(const std::string& where, const json& body, core::PlanFeature* feature, std::string* error) {
  if (!body.is_object()) {
    *error = where + " must be an object, not " + TypeName(body);
    return false;
  }
  bool has_limit = false;
  for (const auto& [key, value] : body.items()) {
    const std::string at = where + ": '" + key + "'";
    if (key == "limit") {
      has_limit = true;
      if (value.is_null()) {
        feature->limit.reset();
      } else if (value.is_number_integer() && !value.is_number_float()) {
        if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
          *error = at + " is too large";
          return false;
        }
        feature->limit = value.get<int64_t>();
      } else {
        *error = at + " must be an integer ≥ 0 or null (unlimited), not " + TypeName(value);
        return false;
      }
    } else if (key == "period") {
      if (!value.is_string()) {
        *error = at + " must be a string, not " + TypeName(value);
        return false;
      }
      std::string period_error;
      auto period = core::ParseQuotaPeriod(value.get<std::string>(), &period_error);
      if (!period) {
        *error = where + ": " + period_error;
        return false;
      }
      feature->period = *period;
    } else if (key == "overage") {
      auto overage = value.is_string() ? core::ParseOverage(value.get<std::string>()) : std::nullopt;
      if (!overage) {
        *error = at + " must be \"reject\" or \"allow\"";
        return false;
      }
      feature->overage = *overage;
    } else if (key == "alerts") {
      if (!value.is_array()) {
        *error = at + " must be an array of percentages, not " + TypeName(value);
        return false;
      }
      feature->alert_thresholds.clear();
      for (const json& threshold : value) {
        if (!threshold.is_number_integer() || threshold.is_number_float()) {
          *error = at + " must hold whole percentages, not " + TypeName(threshold);
          return false;
        }
        const int64_t percent = threshold.get<int64_t>();
        if (percent < 1 || percent > core::kMaxAlertThreshold) {
          *error = at + ": " + std::to_string(percent) + " is not a percentage from 1 to 1000";
          return false;
        }
        feature->alert_thresholds.push_back(static_cast<int>(percent));
      }
    } else {
      *error = where + ": unknown key '" + key + "' (limit, period, overage, alerts)";
      return false;
    }
  }
  if (!has_limit) {
    *error = where + ": 'limit' is required (an integer ≥ 0, or null for unlimited)";
    return false;
  }
  return true;
}

}  // namespace

bool PlanFromJson(const std::string& name, const json& body, core::Plan* out, std::string* error) {
  if (!body.is_object()) {
    *error = "a plan must be a JSON object {\"features\": {...}}, not " + TypeName(body);
    return false;
  }
  core::Plan plan;
  plan.name = name;
  for (const auto& [key, value] : body.items()) {
    if (key != "features") {
      *error = "plan '" + name + "': unknown key '" + key + "' (features)";
      return false;
    }
    if (!value.is_object()) {
      *error = "plan '" + name + "': 'features' must be an object of features by name, not " + TypeName(value);
      return false;
    }
    for (const auto& [feature_name, feature_body] : value.items()) {
      core::PlanFeature feature;
      feature.name = feature_name;
      if (!FeatureFromJson("feature '" + feature_name + "'", feature_body, &feature, error)) return false;
      plan.features.push_back(std::move(feature));
    }
  }
  if (!core::NormalizePlan(plan, error)) return false;
  *out = std::move(plan);
  return true;
}

json PlanToJson(const core::Plan& plan) {
  json features = json::object();
  for (const core::PlanFeature& feature : plan.features) {
    features[feature.name] = {
        {"limit", feature.limit ? json(*feature.limit) : json(nullptr)},
        {"period", core::QuotaPeriodName(feature.period)},
        {"overage", std::string(core::OverageName(feature.overage))},
        {"alerts", feature.alert_thresholds},
    };
  }
  return {{"plan", plan.name}, {"features", std::move(features)}};
}

}  // namespace tally::commands
