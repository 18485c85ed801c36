// The HTTP API's request checks (net/http_fields.h): the request target, the
// Host header, and each route's declared query parameters and body fields.

#include "net/http_fields.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <set>

#include "net/http_api.h"
#include "protocol/command_table.h"
#include "protocol/resp_parser.h"

namespace tally::net {
namespace {

namespace errors = protocol::errors;
using protocol::Error;
using protocol::ErrorCode;

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsBlank(std::string_view text) { return text.find_first_not_of(" \t\r\n") == std::string_view::npos; }

// What a JSON value is, for "must be an integer, got ..." (the value shown
// when short, so "a string (\"5\")" says exactly what was sent).
std::string Describe(const json& value) {
  std::string shown = Dump(value);
  if (shown.size() > 40) shown = shown.substr(0, 37) + "...";
  switch (value.type()) {
    case json::value_t::string:
      return "a string (" + shown + ")";
    case json::value_t::number_float:
      return "a number with a fraction or an exponent (" + shown + ")";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer (" + shown + ")";
    case json::value_t::boolean:
      return shown;
    case json::value_t::null:
      return "null";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    default:
      return "something else";
  }
}

std::string_view Expected(FieldType type) {
  switch (type) {
    case FieldType::kString:
      return "a string";
    case FieldType::kInteger:
      return "an integer";
    case FieldType::kBoolean:
      return "true or false";
    case FieldType::kEnum:
      return "a string";
    case FieldType::kPeriodMap:
      return "an object of period: integer";
    case FieldType::kCellList:
      return "an array of cells";
    case FieldType::kStringList:
      return "an array of strings";
    case FieldType::kObject:
      return "an object";
    case FieldType::kObjectList:
      return "an array of objects";
  }
  return "?";
}

// The choices of an enum field, for messages: "csv, ndjson".
std::string ChoiceList(std::string_view choices) {
  std::string out;
  for (std::string_view choice : Words(choices)) {
    if (!out.empty()) out += ", ";
    out += choice;
  }
  return out;
}

bool IsChoice(std::string_view choices, std::string_view value) {
  for (std::string_view choice : Words(choices)) {
    if (choice == value) return true;
  }
  return false;
}

std::vector<std::string_view> FieldNames(const RouteSpec& route, FieldSource source) {
  std::vector<std::string_view> names;
  for (const FieldSpec& field : route.fields) {
    if (field.source == source) names.push_back(field.name);
  }
  return names;
}

std::string Join(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

const FieldSpec* FindField(const RouteSpec& route, FieldSource source, std::string_view name) {
  for (const FieldSpec& field : route.fields) {
    if (field.source == source && field.name == name) return &field;
  }
  return nullptr;
}

// Why an unknown name is wrong, when we can tell: a typo of a known one, or
// a field given in the query string that belongs in the body (or back).
std::string Hint(const RouteSpec& route, FieldSource given_in, std::string_view name) {
  const FieldSource other = given_in == FieldSource::kQuery ? FieldSource::kBody : FieldSource::kQuery;
  if (FindField(route, other, name) != nullptr) {
    return other == FieldSource::kBody ? "this route takes '" + std::string(name) + "' in the JSON body"
                                       : "this route takes '" + std::string(name) + "' in the query string";
  }
  std::string_view closest = ClosestName(name, FieldNames(route, given_in));
  if (!closest.empty()) return "did you mean '" + std::string(closest) + "'?";
  return {};
}

std::optional<Error> CheckQueryValue(const FieldSpec& field, std::string_view value) {
  switch (field.type) {
    case FieldType::kInteger: {
      int64_t parsed = 0;
      if (!protocol::ParseInt64(value, &parsed)) return errors::ParameterNotInteger(field.name, value);
      return std::nullopt;
    }
    case FieldType::kBoolean:
      if (value == "true" || value == "false") return std::nullopt;
      return errors::NotAChoice("query parameter", field.name, "true, false", value);
    case FieldType::kEnum:
      if (IsChoice(field.choices, value)) return std::nullopt;
      return errors::NotAChoice("query parameter", field.name, ChoiceList(field.choices), value);
    case FieldType::kString:
    case FieldType::kPeriodMap:
    case FieldType::kCellList:
    case FieldType::kStringList:
    case FieldType::kObject:
    case FieldType::kObjectList:
      return std::nullopt;
  }
  return std::nullopt;
}

// A cell of a kCellList field: {"interval": "day", "period": "2024-12-04", "value": 5}.
std::optional<Error> CheckCell(std::string_view list, size_t index, const json& cell) {
  const std::string name = std::string(list) + "[" + std::to_string(index) + "]";
  if (!cell.is_object()) {
    return errors::FieldWrongType("field", name, "an object {\"interval\", \"period\", \"value\"}", Describe(cell));
  }
  for (const auto& [key, value] : cell.items()) {
    const std::string member = name + "." + key;
    if (key == "interval" || key == "period") {
      if (!value.is_string()) return errors::FieldWrongType("field", member, "a string", Describe(value));
    } else if (key == "value") {
      if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        return errors::FieldOutOfRange("field", member);
      }
      if (!value.is_number_integer()) return errors::FieldWrongType("field", member, "an integer", Describe(value));
    } else {
      return errors::UnknownField(member, "", "a cell takes interval, period and value");
    }
  }
  for (const char* required : {"interval", "value"}) {
    if (!cell.contains(required)) return errors::MissingField("field", name + "." + required);
  }
  return std::nullopt;
}

std::optional<Error> CheckBodyValue(const FieldSpec& field, const json& value) {
  auto wrong = [&] { return errors::FieldWrongType("field", field.name, Expected(field.type), Describe(value)); };
  switch (field.type) {
    case FieldType::kInteger:
      if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        return errors::FieldOutOfRange("field", field.name);
      }
      if (!value.is_number_integer()) return wrong();
      return std::nullopt;
    case FieldType::kString:
      if (!value.is_string()) return wrong();
      return std::nullopt;
    case FieldType::kBoolean:
      if (!value.is_boolean()) return wrong();
      return std::nullopt;
    case FieldType::kEnum:
      if (!value.is_string()) return wrong();
      if (!IsChoice(field.choices, value.get_ref<const std::string&>())) {
        return errors::NotAChoice("field", field.name, ChoiceList(field.choices), value.get_ref<const std::string&>());
      }
      return std::nullopt;
    case FieldType::kPeriodMap:
      if (!value.is_object() || value.empty()) {
        return errors::FieldWrongType("field", field.name, "a non-empty object of period: integer", Describe(value));
      }
      for (const auto& [period, count] : value.items()) {
        const std::string name = std::string(field.name) + "." + period;
        if (count.is_number_unsigned() && count.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
          return errors::FieldOutOfRange("field", name);
        }
        if (!count.is_number_integer()) return errors::FieldWrongType("field", name, "an integer", Describe(count));
      }
      return std::nullopt;
    case FieldType::kCellList:
      if (!value.is_array() || value.empty()) {
        return errors::FieldWrongType("field", field.name, "a non-empty array of cells", Describe(value));
      }
      for (size_t i = 0; i < value.size(); ++i) {
        if (auto error = CheckCell(field.name, i, value[i])) return error;
      }
      return std::nullopt;
    case FieldType::kStringList:
      if (!value.is_array() || value.empty()) {
        return errors::FieldWrongType("field", field.name, "a non-empty array of strings", Describe(value));
      }
      for (size_t i = 0; i < value.size(); ++i) {
        if (!value[i].is_string()) {
          return errors::FieldWrongType("field", std::string(field.name) + "[" + std::to_string(i) + "]", "a string",
                                        Describe(value[i]));
        }
      }
      return std::nullopt;
    case FieldType::kObject:
      if (!value.is_object()) return wrong();
      return std::nullopt;
    case FieldType::kObjectList:
      if (!value.is_array() || value.empty()) {
        return errors::FieldWrongType("field", field.name, "a non-empty array of objects", Describe(value));
      }
      return std::nullopt;
  }
  return std::nullopt;
}

bool Given(const FieldSpec& field, const std::map<std::string, std::string>& query, const json& body,
           const HttpRequest& request) {
  switch (field.source) {
    case FieldSource::kQuery:
      return query.count(std::string(field.name)) > 0;
    case FieldSource::kBody:
      return body.contains(field.name);
    case FieldSource::kHeader: {
      std::string lower(field.name);
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      return !request.Header(lower).empty();
    }
    case FieldSource::kPath:
      return true;
  }
  return false;
}

std::string_view Where(FieldSource source) {
  switch (source) {
    case FieldSource::kQuery:
      return "query parameter";
    case FieldSource::kBody:
      return "field";
    case FieldSource::kHeader:
      return "header";
    case FieldSource::kPath:
      return "path segment";
  }
  return "?";
}

}  // namespace

bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;  // fewer than two hex digits left
      int hi = HexDigit(in[i + 1]);
      int lo = HexDigit(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

// RFC 4180: quote a field that holds a comma, quote, CR or LF; double quotes.
void AppendCsvField(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(field);
    return;
  }
  out.push_back('"');
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

std::optional<Error> ParseJsonBody(std::string_view text, json* out) {
  // nlohmann keeps the last of repeated keys silently; the parser callback
  // sees every key, so each open object keeps the set of its keys.
  struct Scope {
    std::string name;  // the key this object is the value of ("" at the top)
    std::set<std::string> keys;
  };
  std::vector<Scope> open;
  std::string last_key;
  std::optional<std::pair<std::string, std::string>> duplicate;  // key, inside
  json::parser_callback_t track = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        open.push_back({open.empty() ? std::string() : last_key, {}});
        break;
      case json::parse_event_t::key:
        last_key = parsed.get<std::string>();
        if (!open.empty() && !open.back().keys.insert(last_key).second && !duplicate) {
          duplicate.emplace(last_key, open.back().name);
        }
        break;
      case json::parse_event_t::object_end:
        if (!open.empty()) open.pop_back();
        break;
      default:
        break;
    }
    return true;
  };
  *out = json::parse(text.begin(), text.end(), track, /*allow_exceptions=*/false);
  if (out->is_discarded()) return errors::BodyNotJson();
  if (duplicate) return errors::DuplicateKey(duplicate->first, duplicate->second);
  return std::nullopt;
}

std::optional<Error> ParseTarget(std::string_view target, Target* out) {
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  if (path.empty() || path[0] != '/') return errors::BadTarget("the request target must be an absolute path");
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view raw = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!raw.empty() || slash != std::string_view::npos) {
      std::string decoded;
      if (!PercentDecode(raw, false, &decoded)) return errors::BadTarget("bad percent-encoding in the path");
      out->segments.push_back(std::move(decoded));
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  // "/v1/top/" is "/v1/top".
  while (!out->segments.empty() && out->segments.back().empty()) out->segments.pop_back();
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string name, value;
    if (!PercentDecode(pair.substr(0, eq), true, &name) ||
        !PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true, &value)) {
      return errors::BadTarget("bad percent-encoding in the query string");
    }
    out->query.emplace_back(std::move(name), std::move(value));
  }
  return std::nullopt;
}

namespace {

// "Example.com:8080" -> "example.com"; "[::1]:8080" -> "[::1]".
std::string HostName(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    return protocol::AsciiLower(host.substr(0, close == std::string_view::npos ? host.size() : close + 1));
  }
  const size_t colon = host.find(':');
  return protocol::AsciiLower(host.substr(0, colon));
}

bool IsIpv4Literal(std::string_view host) {
  int parts = 0;
  size_t digits = 0;
  for (char c : host) {
    if (c >= '0' && c <= '9') {
      if (++digits > 3) return false;
    } else if (c == '.' && digits > 0) {
      ++parts;
      digits = 0;
    } else {
      return false;
    }
  }
  return parts == 3 && digits > 0;
}

bool HostAllowed(std::string_view host, const AccessControl& access) {
  const std::string name = HostName(host);
  if (name == "localhost" || IsIpv4Literal(name) || (name.size() > 2 && name.front() == '[')) return true;
  return std::find(access.http_allowed_hosts.begin(), access.http_allowed_hosts.end(), name) !=
         access.http_allowed_hosts.end();
}

// What kind of body a Content-Type declares: JSON (or none given), NDJSON,
// or another (form, text, ...).
bool JsonContentType(std::string_view type) {
  const std::string media = protocol::AsciiLower(type.substr(0, type.find(';')));
  const size_t first = media.find_first_not_of(" \t");
  const size_t last = media.find_last_not_of(" \t");
  const std::string trimmed = first == std::string::npos ? "" : media.substr(first, last - first + 1);
  return trimmed.empty() || trimmed == "application/json" || trimmed == "application/x-ndjson" ||
         trimmed == "application/jsonl" || trimmed == "application/json-seq";
}

}  // namespace

std::optional<Error> CheckBrowserGuards(const HttpRequest& request, const AccessControl& access, bool* cors_origin) {
  *cors_origin = false;
  const std::string_view host = request.Header("host");
  if (!host.empty() && !HostAllowed(host, access)) {
    return Error(ErrorCode::kHostNotAllowed, "Host '" + std::string(host.substr(0, 128)) +
                                                 "' is not this server's: add it to http_allowed_hosts if it is");
  }
  const std::string_view origin = request.Header("origin");
  if (!origin.empty()) {
    const std::string lower = protocol::AsciiLower(origin);
    const size_t scheme_end = lower.find("://");
    const bool same_origin =
        scheme_end != std::string::npos && lower.substr(scheme_end + 3) == protocol::AsciiLower(host);
    const bool listed = std::find(access.http_allowed_origins.begin(), access.http_allowed_origins.end(), lower) !=
                        access.http_allowed_origins.end();
    if (!same_origin && !listed) {
      return Error(ErrorCode::kOriginNotAllowed, "Origin '" + std::string(origin.substr(0, 128)) +
                                                     "' may not use this API: add it to http_allowed_origins if "
                                                     "it should");
    }
    *cors_origin = listed && !same_origin;
  }
  if (!request.body.empty() && !JsonContentType(request.Header("content-type"))) {
    return Error(ErrorCode::kUnsupportedMediaType, "Content-Type '" +
                                                       std::string(request.Header("content-type").substr(0, 128)) +
                                                       "' is not accepted: send the body as application/json");
  }
  return std::nullopt;
}

std::optional<Error> CheckHost(const HttpRequest& request) {
  if (request.version < 11) return std::nullopt;  // HTTP/1.0 has no Host requirement
  size_t hosts = 0;
  for (const auto& [name, value] : request.headers) hosts += name == "host" ? 1 : 0;
  if (hosts == 1) return std::nullopt;
  return errors::MissingHost(hosts);
}

namespace {

// The route's kObjectList body field, if it has one.
const FieldSpec* ListField(const RouteSpec& route) {
  for (const FieldSpec& field : route.fields) {
    if (field.source == FieldSource::kBody && field.type == FieldType::kObjectList) return &field;
  }
  return nullptr;
}

bool StartsWith(std::string_view text, char c) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == c;
}

bool IsNdjson(const HttpRequest& request) {
  const std::string_view type = request.Header("content-type");
  return type.starts_with("application/x-ndjson") || type.starts_with("application/jsonl") ||
         type.starts_with("application/ndjson");
}

// One item per non-blank line: its JSON, or the line as a string when it is
// not JSON (the route reports that item as invalid, not the whole body).
json ParseNdjson(std::string_view text) {
  json items = json::array();
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    if (IsBlank(line)) continue;
    json item;
    if (ParseJsonBody(line, &item).has_value()) item = std::string(line);
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace

std::optional<Error> CheckInputs(const RouteSpec& route, const HttpRequest& request, const Target& target,
                                 std::map<std::string, std::string>* query, json* body) {
  // The query string: declared parameters only, each once, of the right type.
  std::map<std::string, size_t> times;
  for (const auto& [name, value] : target.query) ++times[name];
  for (const auto& [name, value] : target.query) {
    const FieldSpec* field = FindField(route, FieldSource::kQuery, name);
    if (field == nullptr) {
      return errors::UnknownParameter(name, Join(FieldNames(route, FieldSource::kQuery)),
                                      Hint(route, FieldSource::kQuery, name));
    }
    if (times[name] > 1) return errors::RepeatedParameter(name, times[name]);
    if (auto error = CheckQueryValue(*field, value)) return error;
    query->emplace(name, value);
  }

  // The body: none where the route takes none; else one JSON object of
  // declared fields, no key twice, each of its type.
  const std::vector<std::string_view> body_fields = FieldNames(route, FieldSource::kBody);
  *body = json::object();
  if (body_fields.empty()) {
    if (!IsBlank(request.body)) return errors::UnexpectedBody(route.method, route.pattern);
  } else if (!IsBlank(request.body)) {
    if (const FieldSpec* list = ListField(route); list != nullptr && !StartsWith(request.body, '{')) {
      // The body is the list itself (a JSON array); NDJSON is handled below.
      if (auto error = ParseJsonBody(request.body, body)) return error;
      if (!body->is_array()) return errors::BodyNotObject();
      *body = json{{std::string(list->name), std::move(*body)}};
    } else if (list != nullptr && (IsNdjson(request) || ParseJsonBody(request.body, body).has_value())) {
      *body = json{{std::string(list->name), ParseNdjson(request.body)}};
    } else if (auto error = ParseJsonBody(request.body, body)) {
      return error;
    }
    if (!body->is_object()) return errors::BodyNotObject();
    for (const auto& [name, value] : body->items()) {
      const FieldSpec* field = FindField(route, FieldSource::kBody, name);
      if (field == nullptr) return errors::UnknownField(name, Join(body_fields), Hint(route, FieldSource::kBody, name));
      if (auto error = CheckBodyValue(*field, value)) return error;
    }
  }

  // Required fields, and fields that need another.
  for (const FieldSpec& field : route.fields) {
    const bool given = Given(field, *query, *body, request);
    if (field.required && !given) return errors::MissingField(Where(field.source), field.name);
    if (!given || field.needs.empty()) continue;
    for (const FieldSpec& needed : route.fields) {
      if (needed.name == field.needs && !Given(needed, *query, *body, request)) {
        return errors::FieldNeeds(Where(field.source), field.name, Where(needed.source), needed.name);
      }
    }
  }
  return std::nullopt;
}

std::string_view ClosestName(std::string_view name, const std::vector<std::string_view>& candidates) {
  // Levenshtein distance, small strings only (names are short).
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        const size_t above = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diagonal = above;
      }
    }
    return row[b.size()];
  };
  if (name.size() > 64) return {};
  std::string_view best;
  size_t best_distance = 3;
  for (std::string_view candidate : candidates) {
    const size_t d = distance(name, candidate);
    // Two edits turn any two-letter name into any other: for short names one edit only.
    const size_t allowed = std::min<size_t>(2, std::max<size_t>(1, candidate.size() / 3));
    if (d <= allowed && d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace tally::net
