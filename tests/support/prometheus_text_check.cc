#include "prometheus_text_check.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <set>

namespace tally::prom {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

bool IsMetricNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
bool IsMetricNameChar(char c) { return IsMetricNameStart(c) || (c >= '0' && c <= '9'); }
bool IsLabelNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsLabelNameChar(char c) { return IsLabelNameStart(c) || (c >= '0' && c <= '9'); }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool ValidMetricName(std::string_view name) {
  if (name.empty() || !IsMetricNameStart(name[0])) return false;
  return std::all_of(name.begin(), name.end(), IsMetricNameChar);
}

bool ValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t extra = 0;
    uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      code = (code << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (code < kMin[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

// Decimal float, "+Inf", "-Inf" or "NaN" (the text format's spellings).
std::optional<double> ParseValue(std::string_view text) {
  if (text == "+Inf" || text == "Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  // [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  size_t digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++digits;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++digits;
  }
  if (digits == 0) return std::nullopt;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    size_t exponent_digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++exponent_digits;
    if (exponent_digits == 0) return std::nullopt;
  }
  if (i != text.size()) return std::nullopt;
  std::string copy(text);
  return std::strtod(copy.c_str(), nullptr);
}

bool ValidTimestamp(std::string_view text) {
  size_t i = text.size() > 0 && text[0] == '-' ? 1 : 0;
  if (i == text.size()) return false;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

std::string SeriesKey(const std::string& name, Labels labels) {
  std::sort(labels.begin(), labels.end());
  std::string key = name;
  for (const auto& [k, v] : labels) {
    key += '\x01';
    key += k;
    key += '\x02';
    key += v;
  }
  return key;
}

struct FamilyState {
  std::string type = "untyped";
  bool has_help = false;
  bool has_type = false;
  bool has_samples = false;
  bool reported_split = false;
  int first_line = 0;
};

struct HistogramGroup {
  std::string family;
  std::string labels;  // for messages
  int first_line = 0;
  std::vector<std::pair<double, std::pair<double, int>>> buckets;  // le -> (value, line), text order
  std::optional<double> sum;
  std::optional<double> count;
  int count_line = 0;
};

class Checker {
 public:
  Checker(std::string_view text, const CheckOptions& options) : text_(text), options_(options) {}

  CheckResult Run() {
    if (!text_.empty() && text_.back() != '\n') Error(0, "the text does not end with a newline");
    size_t start = 0;
    int line_number = 0;
    while (start < text_.size()) {
      size_t end = text_.find('\n', start);
      if (end == std::string_view::npos) end = text_.size();
      ++line_number;
      CheckLine(text_.substr(start, end - start), line_number);
      start = end + 1;
    }
    Finish();
    return std::move(result_);
  }

 private:
  void Error(int line, std::string message) {
    result_.errors.push_back(line > 0 ? "line " + std::to_string(line) + ": " + message : message);
  }

  void CheckLine(std::string_view line, int n) {
    if (line.find('\r') != std::string_view::npos) return Error(n, "carriage return in line");
    size_t a = 0;
    while (a < line.size() && IsBlank(line[a])) ++a;
    size_t b = line.size();
    while (b > a && IsBlank(line[b - 1])) --b;
    line = line.substr(a, b - a);
    if (line.empty()) return;
    if (line[0] == '#') return CheckComment(line, n);
    CheckSample(line, n);
  }

  static std::string_view NextToken(std::string_view& rest) {
    size_t i = 0;
    while (i < rest.size() && IsBlank(rest[i])) ++i;
    size_t j = i;
    while (j < rest.size() && !IsBlank(rest[j])) ++j;
    std::string_view token = rest.substr(i, j - i);
    rest = rest.substr(j);
    return token;
  }

  void CheckComment(std::string_view line, int n) {
    std::string_view rest = line.substr(1);
    std::string_view keyword = NextToken(rest);
    if (keyword != "HELP" && keyword != "TYPE") return;  // a plain comment
    std::string_view name = NextToken(rest);
    if (!ValidMetricName(name))
      return Error(n, "# " + std::string(keyword) + " with invalid metric name '" + std::string(name) + "'");
    FamilyState& family = families_[std::string(name)];
    if (family.first_line == 0) {
      family.first_line = n;
      order_.push_back(std::string(name));
    }
    if (family.has_samples)
      Error(n, "# " + std::string(keyword) + " for '" + std::string(name) + "' after its samples");
    if (keyword == "HELP") {
      if (family.has_help) Error(n, "second # HELP for '" + std::string(name) + "'");
      family.has_help = true;
      // The docstring: the rest after one separating blank.
      size_t i = 0;
      while (i < rest.size() && IsBlank(rest[i])) ++i;
      std::string_view raw = rest.substr(i);
      std::string help;
      for (size_t k = 0; k < raw.size(); ++k) {
        if (raw[k] != '\\') {
          help += raw[k];
          continue;
        }
        if (k + 1 < raw.size() && raw[k + 1] == '\\') {
          help += '\\';
        } else if (k + 1 < raw.size() && raw[k + 1] == 'n') {
          help += '\n';
        } else {
          Error(n, "invalid escape in # HELP text of '" + std::string(name) + "'");
          break;
        }
        ++k;
      }
      if (!ValidUtf8(help)) Error(n, "# HELP text of '" + std::string(name) + "' is not UTF-8");
      help_text_[std::string(name)] = help;
      return;
    }
    std::string_view type = NextToken(rest);
    if (!NextToken(rest).empty()) Error(n, "extra text after # TYPE of '" + std::string(name) + "'");
    if (family.has_type) Error(n, "second # TYPE for '" + std::string(name) + "'");
    family.has_type = true;
    if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" && type != "untyped") {
      return Error(n, "unknown type '" + std::string(type) + "' for '" + std::string(name) + "'");
    }
    family.type = std::string(type);
    if (type == "histogram" || type == "summary") {
      // Its _bucket/_sum/_count samples, if already seen, were taken for untyped families.
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        if (sample_names_.count(std::string(name) + suffix) > 0) {
          Error(n, "# TYPE for '" + std::string(name) + "' after its samples");
          break;
        }
      }
    }
  }

  bool ParseLabels(std::string_view& rest, Labels& labels, int n) {
    // rest starts after '{'
    size_t i = 0;
    auto skip = [&] {
      while (i < rest.size() && IsBlank(rest[i])) ++i;
    };
    skip();
    while (i < rest.size() && rest[i] != '}') {
      size_t name_start = i;
      if (!IsLabelNameStart(rest[i])) {
        Error(n, "invalid label name");
        return false;
      }
      while (i < rest.size() && IsLabelNameChar(rest[i])) ++i;
      std::string label(rest.substr(name_start, i - name_start));
      if (label.rfind("__", 0) == 0) Error(n, "reserved label name '" + label + "'");
      skip();
      if (i >= rest.size() || rest[i] != '=') {
        Error(n, "expected '=' after label name '" + label + "'");
        return false;
      }
      ++i;
      skip();
      if (i >= rest.size() || rest[i] != '"') {
        Error(n, "expected '\"' to start the value of label '" + label + "'");
        return false;
      }
      ++i;
      std::string value;
      bool closed = false;
      while (i < rest.size()) {
        char c = rest[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c != '\\') {
          value += c;
          continue;
        }
        if (i >= rest.size()) break;
        char e = rest[i++];
        if (e == '\\') {
          value += '\\';
        } else if (e == '"') {
          value += '"';
        } else if (e == 'n') {
          value += '\n';
        } else {
          Error(n, std::string("invalid escape '\\") + e + "' in the value of label '" + label + "'");
          return false;
        }
      }
      if (!closed) {
        Error(n, "unterminated value of label '" + label + "'");
        return false;
      }
      if (!ValidUtf8(value)) Error(n, "value of label '" + label + "' is not UTF-8");
      for (const auto& [existing, v] : labels) {
        if (existing == label) Error(n, "label '" + label + "' repeated");
      }
      labels.emplace_back(std::move(label), std::move(value));
      skip();
      if (i < rest.size() && rest[i] == ',') {
        ++i;
        skip();
      } else if (i < rest.size() && rest[i] != '}') {
        Error(n, "expected ',' or '}' after a label value");
        return false;
      }
    }
    if (i >= rest.size()) {
      Error(n, "unterminated label set");
      return false;
    }
    rest = rest.substr(i + 1);
    return true;
  }

  void CheckSample(std::string_view line, int n) {
    size_t i = 0;
    while (i < line.size() && IsMetricNameChar(line[i])) ++i;
    std::string name(line.substr(0, i));
    if (!ValidMetricName(name)) return Error(n, "invalid metric name at the start of '" + std::string(line) + "'");
    std::string_view rest = line.substr(i);
    size_t k = 0;
    while (k < rest.size() && IsBlank(rest[k])) ++k;
    Labels labels;
    if (k < rest.size() && rest[k] == '{') {
      rest = rest.substr(k + 1);
      if (!ParseLabels(rest, labels, n)) return;
    } else if (k == 0 && !rest.empty()) {
      return Error(n, "invalid character after metric name '" + name + "'");
    }
    std::string_view value_text = NextToken(rest);
    std::string_view timestamp = NextToken(rest);
    if (!NextToken(rest).empty()) return Error(n, "extra text after the value of '" + name + "'");
    std::optional<double> value = ParseValue(value_text);
    if (!value) return Error(n, "invalid value '" + std::string(value_text) + "' of '" + name + "'");
    if (!timestamp.empty() && !ValidTimestamp(timestamp)) {
      Error(n, "invalid timestamp '" + std::string(timestamp) + "' of '" + name + "'");
    }

    Sample sample{name, labels, *value, n};
    sample_names_.insert(name);
    if (!series_.insert(SeriesKey(name, labels)).second) Error(n, "duplicate series " + Describe(name, labels));

    // Which family, and which part of it.
    std::string family_name = name;
    std::string part;  // "", "_bucket", "_sum", "_count"
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string_view s(suffix);
      if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
        std::string base = name.substr(0, name.size() - s.size());
        auto it = families_.find(base);
        if (it != families_.end() &&
            (it->second.type == "histogram" || (it->second.type == "summary" && s != "_bucket"))) {
          family_name = base;
          part = suffix;
        }
      }
    }
    FamilyState& family = families_[family_name];
    if (family.first_line == 0) {
      family.first_line = n;
      order_.push_back(family_name);
    }
    if (current_family_ != family_name) {
      if (family.has_samples && !family.reported_split) {
        Error(n, "samples of '" + family_name + "' are not together (another family's samples came between)");
        family.reported_split = true;
      }
      current_family_ = family_name;
    }
    family.has_samples = true;
    if (options_.require_type && !family.has_type) {
      Error(n, "sample of '" + family_name + "' without a preceding # TYPE");
      family.has_type = true;  // report once
    }
    if (options_.require_help && !family.has_help) {
      Error(n, "sample of '" + family_name + "' without a preceding # HELP");
      family.has_help = true;
    }

    const std::string& type = family.type;
    auto label = sample.Label("le");
    auto quantile = sample.Label("quantile");
    if (type == "counter") {
      if (std::isnan(*value) || *value < 0) Error(n, "counter " + Describe(name, labels) + " is negative or NaN");
    }
    if (type == "histogram") {
      if (part.empty()) {
        Error(n, "histogram '" + family_name + "' sample without _bucket, _sum or _count suffix");
      } else {
        Labels group_labels;
        for (const auto& l : labels) {
          if (!(part == "_bucket" && l.first == "le")) group_labels.push_back(l);
        }
        HistogramGroup& group = histograms_[SeriesKey(family_name, group_labels)];
        if (group.first_line == 0) {
          group.first_line = n;
          group.family = family_name;
          group.labels = Describe(family_name, group_labels);
          histogram_order_.push_back(SeriesKey(family_name, group_labels));
        }
        if (part == "_bucket") {
          std::optional<double> le = label ? ParseValue(*label) : std::nullopt;
          if (!label) {
            Error(n, "histogram bucket " + Describe(name, labels) + " without an 'le' label");
          } else if (!le || std::isnan(*le)) {
            Error(n, "histogram bucket " + Describe(name, labels) + " has an invalid 'le' value");
          } else {
            group.buckets.push_back({*le, {*value, n}});
          }
        } else if (part == "_sum") {
          if (group.sum) Error(n, "second _sum for " + group.labels);
          group.sum = *value;
        } else {
          if (group.count) Error(n, "second _count for " + group.labels);
          group.count = *value;
          group.count_line = n;
        }
        if (part != "_sum" && (std::isnan(*value) || *value < 0)) {
          Error(n, Describe(name, labels) + " is negative or NaN");
        }
      }
    } else if (label) {
      Error(n, "'le' label on " + Describe(name, labels) + ", which is no histogram bucket");
    }
    if (type == "summary") {
      if (part.empty()) {
        std::optional<double> q = quantile ? ParseValue(*quantile) : std::nullopt;
        if (!q || std::isnan(*q) || *q < 0 || *q > 1) {
          Error(n, "summary sample " + Describe(name, labels) + " needs a 'quantile' label in [0, 1]");
        }
      } else if (quantile) {
        Error(n, "'quantile' label on " + Describe(name, labels));
      }
    } else if (quantile) {
      Error(n, "'quantile' label on " + Describe(name, labels) + ", which is no summary");
    }
    result_.samples.push_back(std::move(sample));
  }

  void Finish() {
    for (const std::string& key : histogram_order_) {
      const HistogramGroup& g = histograms_[key];
      if (g.buckets.empty()) {
        Error(g.first_line, "histogram " + g.labels + " has no buckets");
      } else {
        for (size_t i = 1; i < g.buckets.size(); ++i) {
          if (!(g.buckets[i].first > g.buckets[i - 1].first)) {
            Error(g.buckets[i].second.second, "histogram " + g.labels + ": 'le' values not strictly ascending");
          }
          if (g.buckets[i].second.first < g.buckets[i - 1].second.first) {
            Error(g.buckets[i].second.second, "histogram " + g.labels + ": bucket counts decrease (not cumulative)");
          }
        }
        if (!std::isinf(g.buckets.back().first) || g.buckets.back().first < 0) {
          Error(g.buckets.back().second.second, "histogram " + g.labels + ": the last bucket is not le=\"+Inf\"");
        }
      }
      if (!g.sum) Error(g.first_line, "histogram " + g.labels + " has no _sum");
      if (!g.count) {
        Error(g.first_line, "histogram " + g.labels + " has no _count");
      } else if (!g.buckets.empty() && std::isinf(g.buckets.back().first) &&
                 *g.count != g.buckets.back().second.first) {
        Error(g.count_line, "histogram " + g.labels + ": _count differs from the +Inf bucket");
      }
    }
    for (const std::string& name : order_) {
      const FamilyState& f = families_[name];
      Family family{name, f.type, help_text_.count(name) ? help_text_[name] : ""};
      result_.families.push_back(std::move(family));
    }
  }

  static std::string Describe(const std::string& name, const Labels& labels) {
    std::string out = name + "{";
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) out += ",";
      out += labels[i].first + "=\"" + labels[i].second + "\"";
    }
    return out + "}";
  }

  std::string_view text_;
  CheckOptions options_;
  CheckResult result_;
  std::map<std::string, FamilyState> families_;
  std::vector<std::string> order_;
  std::map<std::string, std::string> help_text_;
  std::set<std::string> sample_names_;
  std::set<std::string> series_;
  std::string current_family_;
  std::map<std::string, HistogramGroup> histograms_;
  std::vector<std::string> histogram_order_;
};

}  // namespace

std::optional<std::string> Sample::Label(std::string_view label_name) const {
  for (const auto& [name, value] : labels) {
    if (name == label_name) return value;
  }
  return std::nullopt;
}

std::string CheckResult::ErrorText() const {
  std::string out;
  for (const std::string& e : errors) out += e + "\n";
  return out;
}

const Sample* CheckResult::Find(std::string_view name,
                                const std::vector<std::pair<std::string, std::string>>& labels) const {
  std::string wanted = SeriesKey(std::string(name), labels);
  for (const Sample& s : samples) {
    if (s.name == name && SeriesKey(s.name, s.labels) == wanted) return &s;
  }
  return nullptr;
}

const Family* CheckResult::FindFamily(std::string_view name) const {
  for (const Family& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

CheckResult Check(std::string_view text, const CheckOptions& options) { return Checker(text, options).Run(); }

std::vector<std::string> CheckText(std::string_view text, const CheckOptions& options) {
  return Check(text, options).errors;
}

}  // namespace tally::prom
