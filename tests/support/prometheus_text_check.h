#pragma once
// A strict checker of the Prometheus text exposition format 0.0.4, for tests
// of GET /metrics and commands::RenderPrometheus (library tally_prom_check).
// prom::CheckText(text) returns every violation found (empty: valid);
// prom::Check(text) also hands back the parsed samples and families so tests
// can look up series and values.
//
// Checked:
//  - lines end with '\n' (the text ends with one too); no '\r'
//  - "# HELP name text" / "# TYPE name type": valid names, known types
//    (counter, gauge, histogram, summary, untyped), HELP escapes (\\ \n),
//    at most one HELP and one TYPE per family, both before its first sample;
//    by default every family needs both (CheckOptions)
//  - samples: metric name [a-zA-Z_:][a-zA-Z0-9_:]*, labels {name="value",...}
//    with names [a-zA-Z_][a-zA-Z0-9_]* (not "__" reserved, no repeats) and
//    values escaped only as \\ \" \n; a float value (incl. +Inf, -Inf, NaN);
//    an optional integer timestamp
//  - a family's samples are contiguous; no series (name + label set) repeats
//  - counters are not negative and not NaN
//  - histograms: only _bucket/_sum/_count samples; every _bucket has a valid
//    `le`; per label set: `le` strictly ascending, the last "+Inf", bucket
//    counts non-decreasing, _sum and _count present, _count == the +Inf bucket
//  - summaries: only the base name (with `quantile` in [0,1]), _sum and _count
//  - "le" only on histogram buckets, "quantile" only on summary samples

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tally::prom {

struct Sample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // unescaped, in text order
  double value = 0;
  int line = 0;  // 1-based

  // The value of label `name`, or nullopt.
  std::optional<std::string> Label(std::string_view label_name) const;
};

struct Family {
  std::string name;
  std::string type;  // "untyped" when no TYPE line
  std::string help;  // unescaped
};

struct CheckOptions {
  bool require_help = true;
  bool require_type = true;
};

struct CheckResult {
  std::vector<std::string> errors;  // "line N: ..." each
  std::vector<Sample> samples;
  std::vector<Family> families;

  bool ok() const { return errors.empty(); }
  // All errors, one per line (for failure messages).
  std::string ErrorText() const;
  // The sample with exactly this name and these labels (in any order), or nullptr.
  const Sample* Find(std::string_view name, const std::vector<std::pair<std::string, std::string>>& labels = {}) const;
  const Family* FindFamily(std::string_view name) const;
};

// Parses and checks `text`.
CheckResult Check(std::string_view text, const CheckOptions& options = {});
// Only the errors ("line N: ..."); empty when `text` is valid.
std::vector<std::string> CheckText(std::string_view text, const CheckOptions& options = {});

}  // namespace tally::prom
