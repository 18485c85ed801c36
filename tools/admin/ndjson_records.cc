// The NDJSON records of tally-admin export/import (ndjson_records.h).

#include "ndjson_records.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "core/counter_types.h"
#include "core/distinct_sketch.h"

namespace tally::admin::ndjson {
namespace {

namespace lf = storage::log_format;
namespace ff = storage::feed_format;
using nlohmann::json;

constexpr std::string_view kPricePrefix = "price/";  // meta rows of prices (storage/FORMAT.md §14)
constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool ValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<uint8_t>(text[i]);
    size_t extra = 0;
    uint32_t code = 0;
    if (byte < 0x80) {
      ++i;
      continue;
    } else if ((byte & 0xe0) == 0xc0) {
      extra = 1;
      code = byte & 0x1f;
    } else if ((byte & 0xf0) == 0xe0) {
      extra = 2;
      code = byte & 0x0f;
    } else if ((byte & 0xf8) == 0xf0) {
      extra = 3;
      code = byte & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;  // cut short
    for (size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<uint8_t>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
    if ((extra == 1 && code < 0x80) || (extra == 2 && code < 0x800) || (extra == 3 && code < 0x10000) ||
        code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

// The names owners and keys may have, and the scope of another module's
// event ids ("#meter"): non-empty, at most 256 bytes, no 0x00 (the byte that
// separates them in keys).
bool ValidScope(std::string_view scope) {
  return !scope.empty() && scope.size() <= 256 && scope.find('\0') == std::string_view::npos;
}

std::string Hex16(uint64_t v) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(v));
  return text;
}

bool ParseHex16(std::string_view text, uint64_t* v) {
  if (text.size() != 16) return false;
  uint64_t result = 0;
  for (char c : text) {
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return false;
    result = (result << 4) | static_cast<uint64_t>(digit);
  }
  *v = result;
  return true;
}

// Field readers for import: each sets `error` naming the field on failure.
bool GetInt(const json& record, const char* field, int64_t* out, std::string* error) {
  auto it = record.find(field);
  if (it == record.end() || !it->is_number_integer()) {
    *error = std::string("\"") + field + "\" must be an integer";
    return false;
  }
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    *error = std::string("\"") + field + "\" is out of range";
    return false;
  }
  *out = it->get<int64_t>();
  return true;
}

bool GetUint(const json& record, const char* field, uint64_t* out, std::string* error) {
  auto it = record.find(field);
  if (it == record.end() || !it->is_number_integer() || (!it->is_number_unsigned() && it->get<int64_t>() < 0)) {
    *error = std::string("\"") + field + "\" must be a non-negative integer";
    return false;
  }
  *out = it->get<uint64_t>();
  return true;
}

bool GetString(const json& record, const char* field, std::string* out, std::string* error) {
  auto it = record.find(field);
  if (it == record.end() || !it->is_string()) {
    *error = std::string("\"") + field + "\" must be a string";
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

bool GetName(const json& record, const char* field, std::string* out, std::string* error) {
  if (!GetString(record, field, out, error)) return false;
  if (!core::ValidName(*out)) {
    *error = std::string("\"") + field +
             "\" is not a valid name (1-128 printable ASCII characters other than space , \" ' ` < >)";
    return false;
  }
  return true;
}

// The label and, for hours, the start instant: what CellRecord and
// UniqRecord write for a cell's period.
void PutPeriod(json& record, uint8_t interval, int64_t period, const core::TimeZone& zone) {
  const auto iv = static_cast<core::Interval>(interval);
  record["interval"] = std::string(core::IntervalName(iv));
  record["period"] = core::PeriodLabel(iv, period, zone);
  if (iv == core::Interval::kHour) record["start_ms"] = period * 60000;
}

// The period id of a record's interval and period (and, for hours, start_ms).
bool GetPeriod(const json& record, uint8_t* interval, int64_t* period, std::string* error) {
  std::string interval_name, label;
  if (!GetString(record, "interval", &interval_name, error) || !GetString(record, "period", &label, error)) {
    return false;
  }
  std::optional<core::Interval> iv = core::ParseInterval(interval_name);
  if (!iv || core::IntervalName(*iv) != interval_name) {
    *error = "unknown interval '" + interval_name.substr(0, 32) + "'";
    return false;
  }
  *interval = static_cast<uint8_t>(*iv);
  if (*iv == core::Interval::kHour) {
    // An hour cell is the instant it starts: its label depends on the zone
    // that shows it, the instant does not.
    int64_t start_ms = 0;
    if (!GetInt(record, "start_ms", &start_ms, error)) return false;
    if (start_ms % 60000 != 0) {
      *error = "\"start_ms\" of an hour must be a whole minute";
      return false;
    }
    *period = start_ms / 60000;
    return true;
  }
  const core::TimeZone utc = core::TimeZone::Utc();  // labels of days and longer are dates, the same in every zone
  if (!core::ParsePeriod(*iv, label, utc, 0, period, error)) return false;
  if (core::PeriodLabel(*iv, *period, utc) != label) {
    *error = "period '" + label.substr(0, 64) + "' is not a label of interval '" + interval_name + "'";
    return false;
  }
  return true;
}

std::optional<storage::Family> FamilyByName(std::string_view name) {
  for (int f = 0; f < static_cast<int>(storage::Family::kCount); ++f) {
    if (storage::FamilyName(static_cast<storage::Family>(f)) == name) return static_cast<storage::Family>(f);
  }
  return std::nullopt;
}

bool IsSemanticMetaKey(std::string_view key) {
  return key.starts_with(lf::kCheckpointPrefix) || key.starts_with("feed/") || key.starts_with(kPricePrefix);
}

bool DecodeFeedItem(const json& record, const std::string& type, FeedItem* item, std::string* error) {
  if (!GetUint(record, "seq", &item->seq, error) || !GetInt(record, "time_ms", &item->time_ms, error)) return false;
  if (item->seq == 0) {
    *error = "\"seq\" starts at 1";
    return false;
  }
  if (type == "change") {
    if (!GetName(record, "owner", &item->owner, error) || !GetName(record, "key", &item->key, error)) return false;
    std::string op;
    if (!GetString(record, "op", &op, error)) return false;
    if (op == "set") {
      std::string interval_name;
      if (!GetString(record, "interval", &interval_name, error) || !GetText(record, "period", &item->period, error) ||
          !GetInt(record, "value", &item->value, error)) {
        return false;
      }
      std::optional<core::Interval> iv = core::ParseInterval(interval_name);
      if (!iv || core::IntervalName(*iv) != interval_name || item->period.empty()) {
        *error = "a change needs a known interval and a period label";
        return false;
      }
      item->kind = static_cast<uint8_t>(*iv);
      return true;
    }
    if (op == "delete") {
      std::string interval_name;
      if (!GetString(record, "interval", &interval_name, error)) return false;
      if (interval_name == "all") {
        item->kind = ff::kDeleteAll;
        return true;
      }
      std::optional<core::Interval> iv = core::ParseInterval(interval_name);
      if (!iv || core::IntervalName(*iv) != interval_name) {
        *error = "unknown interval '" + interval_name.substr(0, 32) + "'";
        return false;
      }
      item->kind = static_cast<uint8_t>(ff::kDeleteBit | static_cast<uint8_t>(*iv));
      return true;
    }
    *error = "\"op\" of a change must be \"set\" or \"delete\"";
    return false;
  }
  if (!GetText(record, "actor", &item->actor, error) || !GetText(record, "command", &item->command, error) ||
      !GetText(record, "owner", &item->owner, error) || !GetText(record, "key", &item->key, error) ||
      !GetText(record, "details", &item->details, error)) {
    return false;
  }
  if (item->command.empty()) {
    *error = "\"command\" must not be empty";
    return false;
  }
  return true;
}

}  // namespace

// ---- helpers ----------------------------------------------------------------

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                 static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(kBase64Alphabet[(n >> 18) & 63]);
    out.push_back(kBase64Alphabet[(n >> 12) & 63]);
    out.push_back(kBase64Alphabet[(n >> 6) & 63]);
    out.push_back(kBase64Alphabet[n & 63]);
  }
  if (i < bytes.size()) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out.push_back(kBase64Alphabet[(n >> 18) & 63]);
    out.push_back(kBase64Alphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kBase64Alphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

bool Base64Decode(std::string_view text, std::string* bytes) {
  if (text.size() % 4 != 0) return false;
  bytes->clear();
  bytes->reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t n = 0;
    int padding = 0;
    for (size_t k = 0; k < 4; ++k) {
      char c = text[i + k];
      int v;
      if (c >= 'A' && c <= 'Z') {
        v = c - 'A';
      } else if (c >= 'a' && c <= 'z') {
        v = c - 'a' + 26;
      } else if (c >= '0' && c <= '9') {
        v = c - '0' + 52;
      } else if (c == '+') {
        v = 62;
      } else if (c == '/') {
        v = 63;
      } else if (c == '=' && i + 4 == text.size() && k >= 2) {
        v = 0;
        ++padding;
      } else {
        return false;
      }
      if (padding > 0 && c != '=') return false;  // data after padding
      n = (n << 6) | static_cast<uint32_t>(v);
    }
    bytes->push_back(static_cast<char>(n >> 16));
    if (padding < 2) bytes->push_back(static_cast<char>(n >> 8));
    if (padding < 1) bytes->push_back(static_cast<char>(n));
  }
  return true;
}

void PutText(json& record, const std::string& field, std::string_view bytes) {
  if (ValidUtf8(bytes)) {
    record[field] = std::string(bytes);
  } else {
    record[field + "_b64"] = Base64Encode(bytes);
  }
}

bool GetText(const json& record, const std::string& field, std::string* bytes, std::string* error) {
  auto it = record.find(field);
  if (it != record.end() && it->is_string()) {
    *bytes = it->get<std::string>();
    return true;
  }
  auto b64 = record.find(field + "_b64");
  if (b64 != record.end() && b64->is_string()) {
    if (Base64Decode(b64->get<std::string>(), bytes)) return true;
    *error = "\"" + field + "_b64\" is not valid base64";
    return false;
  }
  *error = "\"" + field + "\" (or \"" + field + "_b64\") must be a string";
  return false;
}

std::string CountsSummary(const std::map<std::string, uint64_t>& counts) {
  std::string text;
  uint64_t total = 0;
  for (const auto& [type, count] : counts) {
    text += (text.empty() ? "" : ", ") + type + " " + std::to_string(count);
    total += count;
  }
  return std::to_string(total) + " records (" + (text.empty() ? "none" : text) + ")";
}

std::string IsoUtc(int64_t unix_ms) {
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
  return text;
}

// ---- export -------------------------------------------------------------------

json HeaderRecord(std::string_view tally_version, int64_t now_ms) {
  return json{{"type", "header"},
              {"format", std::string(kFormatName)},
              {"format_version", kFormatVersion},
              {"storage_format_version", kStorageFormatVersion},
              {"tally_version", std::string(tally_version)},
              {"exported_at", IsoUtc(now_ms)}};
}

json OwnerRecord(std::string_view owner, std::string_view zone) {
  json record{{"type", "owner"}};
  PutText(record, "owner", owner);
  record["time_zone"] = zone.empty() ? json(nullptr) : json(std::string(zone));
  return record;
}

json CellRecord(const lf::ParsedCellKey& cell, int64_t value, const core::TimeZone& zone) {
  json record{{"type", "cell"}};
  PutText(record, "owner", cell.owner);
  PutText(record, "key", cell.key);
  PutPeriod(record, cell.interval, cell.period, zone);
  record["value"] = value;
  return record;
}

json UniqRecord(const lf::ParsedCellKey& cell, std::string_view sketch, const core::TimeZone& zone) {
  json record{{"type", "uniq"}};
  PutText(record, "owner", cell.owner);
  PutText(record, "key", cell.key);
  PutPeriod(record, cell.interval, cell.period, zone);
  record["sketch_b64"] = Base64Encode(sketch);
  return record;
}

std::optional<json> EventIdRecord(std::string_view row_key, int64_t expiry_ms, uint64_t fingerprint) {
  size_t first = row_key.find('\0');
  if (first == std::string_view::npos) return std::nullopt;
  size_t second = row_key.find('\0', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  json record{{"type", "event_id"}};
  PutText(record, "owner", row_key.substr(0, first));
  PutText(record, "key", row_key.substr(first + 1, second - first - 1));
  PutText(record, "id", row_key.substr(second + 1));
  record["expires_at_ms"] = expiry_ms;
  record["fingerprint"] = Hex16(fingerprint);
  return record;
}

json KvRecord(std::string_view key, int64_t expire_at_ms, std::string_view value) {
  json record{{"type", "kv"}};
  PutText(record, "key", key);
  PutText(record, "value", value);
  record["expires_at_ms"] = expire_at_ms;
  return record;
}

json PriceRecord(std::string_view name, int64_t micros) {
  json record{{"type", "price"}};
  PutText(record, "name", name);
  record["micros"] = micros;
  return record;
}

json AuditRecord(std::string_view type, const ff::AuditRecord& audit) {
  json record{{"type", std::string(type)}, {"seq", audit.seq}, {"time_ms", audit.time_ms}};
  PutText(record, "actor", audit.actor);
  PutText(record, "command", audit.command);
  PutText(record, "owner", audit.owner);
  PutText(record, "key", audit.key);
  PutText(record, "details", audit.details);
  return record;
}

json ChangeRecord(const ff::ChangeRecord& change, int64_t time_ms) {
  json record{{"type", "change"}, {"seq", change.seq}, {"time_ms", time_ms}};
  PutText(record, "owner", change.owner);
  PutText(record, "key", change.key);
  if (change.kind == ff::kDeleteAll) {
    record["op"] = "delete";
    record["interval"] = "all";
  } else if (change.is_delete()) {
    record["op"] = "delete";
    record["interval"] = std::string(core::IntervalName(static_cast<core::Interval>(change.kind & 0x7f)));
  } else {
    record["op"] = "set";
    record["interval"] = std::string(core::IntervalName(static_cast<core::Interval>(change.kind)));
    PutText(record, "period", change.period);
    record["value"] = change.value;
  }
  return record;
}

json FeedRecord(std::string_view feed, uint64_t next, std::optional<uint64_t> trimmed) {
  json record{{"type", "feed"}, {"feed", std::string(feed)}, {"next", next}};
  if (trimmed) record["trimmed"] = *trimmed;
  return record;
}

json RawRecord(storage::Family family, std::string_view key, std::string_view value) {
  return json{{"type", "raw"},
              {"family", std::string(storage::FamilyName(family))},
              {"storage_format_version", kStorageFormatVersion},
              {"key_b64", Base64Encode(key)},
              {"value_b64", Base64Encode(value)}};
}

json TrailerRecord(const std::map<std::string, uint64_t>& counts) {
  uint64_t total = 0;
  for (const auto& [type, count] : counts) total += count;
  return json{{"type", "trailer"}, {"counts", counts}, {"records", total}};
}

// ---- import -------------------------------------------------------------------

bool DecodeLine(std::string_view line, int storage_format_version, DecodedLine* out, std::string* error) {
  json record = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (record.is_discarded()) {
    *error = "not valid JSON";
    return false;
  }
  if (!record.is_object()) {
    *error = "not a JSON object";
    return false;
  }
  if (!GetString(record, "type", &out->type, error)) return false;
  const std::string& type = out->type;

  if (type == "header") {
    std::string format;
    int64_t version = 0, storage_version = 0;
    if (!GetString(record, "format", &format, error)) return false;
    if (format != kFormatName) {
      *error = "not a tally export (format '" + format.substr(0, 32) + "')";
      return false;
    }
    if (!GetInt(record, "format_version", &version, error) ||
        !GetInt(record, "storage_format_version", &storage_version, error) ||
        !GetString(record, "tally_version", &out->tally_version, error)) {
      return false;
    }
    if (version < 1 || version > kFormatVersion) {
      *error = "export format version " + std::to_string(version) + " is not supported (this tally-admin reads 1.." +
               std::to_string(kFormatVersion) + "): import it with a newer tally-admin";
      return false;
    }
    out->format_version = static_cast<int>(version);
    out->storage_format_version = static_cast<int>(storage_version);
    return true;
  }
  if (type == "trailer") {
    auto counts = record.find("counts");
    if (counts == record.end() || !counts->is_object()) {
      *error = "\"counts\" must be an object";
      return false;
    }
    for (const auto& [name, value] : counts->items()) {
      if (!value.is_number_unsigned()) {
        *error = "count of '" + name.substr(0, 32) + "' must be a non-negative integer";
        return false;
      }
      out->trailer_counts[name] = value.get<uint64_t>();
    }
    return true;
  }
  if (type == "owner") {
    std::string owner;
    if (!GetName(record, "owner", &owner, error)) return false;
    auto zone = record.find("time_zone");
    std::string zone_name;
    if (zone == record.end() || !(zone->is_null() || zone->is_string())) {
      *error = "\"time_zone\" must be a zone name or null";
      return false;
    }
    if (zone->is_string()) {
      zone_name = zone->get<std::string>();
      if (!core::TimeZone::Find(zone_name)) {
        *error = "unknown time zone '" + zone_name.substr(0, 64) + "'";
        return false;
      }
    }
    out->rows.push_back({storage::Family::kOwners, owner, zone_name});
    return true;
  }
  if (type == "cell" || type == "uniq") {
    std::string owner, key;
    uint8_t interval = 0;
    int64_t period = 0;
    if (!GetName(record, "owner", &owner, error) || !GetName(record, "key", &key, error) ||
        !GetPeriod(record, &interval, &period, error)) {
      return false;
    }
    if (type == "cell") {
      int64_t value = 0;
      if (!GetInt(record, "value", &value, error)) return false;
      if (value == 0) {
        *error = "a cell of 0 is stored as no cell";
        return false;
      }
      std::string encoded = lf::EncodeInt64(value);
      out->rows.push_back({storage::Family::kCells, lf::CellKey(owner, key, interval, period), encoded});
      // by_key mirrors every cell (CTR.TOP of past periods).
      out->rows.push_back({storage::Family::kByKey, lf::ByKeyKey(key, interval, period, owner), encoded});
      return true;
    }
    std::string b64, sketch;
    if (storage_format_version != kStorageFormatVersion) {
      *error = "a uniq sketch from storage format version " + std::to_string(storage_format_version) +
               " cannot be read by this version (" + std::to_string(kStorageFormatVersion) + ")";
      return false;
    }
    if (!GetString(record, "sketch_b64", &b64, error)) return false;
    if (!Base64Decode(b64, &sketch) || !core::DistinctSketch::Decode(sketch)) {
      *error = "\"sketch_b64\" is not a distinct-count sketch";
      return false;
    }
    out->rows.push_back({storage::Family::kUniq, lf::CellKey(owner, key, interval, period), sketch});
    return true;
  }
  if (type == "event_id") {
    std::string owner, key, id, fingerprint_text;
    int64_t expiry = 0;
    uint64_t fingerprint = 0;
    if (!GetName(record, "owner", &owner, error) || !GetText(record, "key", &key, error) ||
        !GetText(record, "id", &id, error) || !GetInt(record, "expires_at_ms", &expiry, error) ||
        !GetString(record, "fingerprint", &fingerprint_text, error)) {
      return false;
    }
    if (!ValidScope(key) || id.empty() || id.find('\0') != std::string::npos) {
      *error = "an event id needs a key (or scope) and an id without 0x00 bytes";
      return false;
    }
    if (!ParseHex16(fingerprint_text, &fingerprint)) {
      *error = "\"fingerprint\" must be 16 lowercase hex digits";
      return false;
    }
    out->rows.push_back(
        {storage::Family::kDedupe, lf::DedupeKey(owner, key, id), lf::EncodeDedupeValue(expiry, fingerprint)});
    return true;
  }
  if (type == "kv") {
    std::string key, value;
    int64_t expiry = 0;
    if (!GetText(record, "key", &key, error) || !GetText(record, "value", &value, error) ||
        !GetInt(record, "expires_at_ms", &expiry, error)) {
      return false;
    }
    if (key.empty() || expiry < 0) {
      *error = "a plain key must not be empty, and its expiry not negative";
      return false;
    }
    out->rows.push_back({storage::Family::kKv, key, lf::EncodeKvValue(expiry, value)});
    return true;
  }
  if (type == "price") {
    std::string name;
    int64_t micros = 0;
    if (!GetText(record, "name", &name, error) || !GetInt(record, "micros", &micros, error)) return false;
    if (name.empty()) {
      *error = "\"name\" of a price must not be empty";
      return false;
    }
    out->rows.push_back({storage::Family::kMeta, std::string(kPricePrefix) + name, lf::EncodeInt64(micros)});
    return true;
  }
  if (type == "audit" || type == "alert" || type == "change") {
    FeedItem item;
    if (!DecodeFeedItem(record, type, &item, error)) return false;
    out->feed = std::move(item);
    return true;
  }
  if (type == "feed") {
    if (!GetString(record, "feed", &out->feed_name, error) || !GetUint(record, "next", &out->feed_next, error)) {
      return false;
    }
    if (out->feed_name != "changes" && out->feed_name != "audit" && out->feed_name != "alerts") {
      *error = "unknown feed '" + out->feed_name.substr(0, 32) + "'";
      return false;
    }
    if (out->feed_next == 0) {
      *error = "\"next\" of a feed starts at 1";
      return false;
    }
    if (record.contains("trimmed")) {
      uint64_t trimmed = 0;
      if (!GetUint(record, "trimmed", &trimmed, error)) return false;
      out->feed_trimmed = trimmed;
    }
    return true;
  }
  if (type == "raw") {
    std::string family_name, key, value, key_b64, value_b64;
    int64_t version = 0;
    if (!GetString(record, "family", &family_name, error) ||
        !GetInt(record, "storage_format_version", &version, error) || !GetString(record, "key_b64", &key_b64, error) ||
        !GetString(record, "value_b64", &value_b64, error)) {
      return false;
    }
    if (version != kStorageFormatVersion || storage_format_version != kStorageFormatVersion) {
      *error = "a raw row of storage format version " + std::to_string(version) +
               " cannot be imported by this version (" + std::to_string(kStorageFormatVersion) +
               "): import the dump with the tally-admin of the version that wrote it, start that tallyd once, and "
               "upgrade in place";
      return false;
    }
    std::optional<storage::Family> family = FamilyByName(family_name);
    if (!family || !(family == storage::Family::kPlans || family == storage::Family::kQuotas ||
                     family == storage::Family::kLedger || family == storage::Family::kMeta ||
                     family == storage::Family::kKv)) {  // kv: hashes and sorted sets
      *error = "raw rows of family '" + family_name.substr(0, 32) +
               "' are not accepted (only plans, quotas, "
               "ledger, meta and kv)";
      return false;
    }
    if (!Base64Decode(key_b64, &key) || !Base64Decode(value_b64, &value) || key.empty()) {
      *error = "\"key_b64\" and \"value_b64\" must be base64 (and the key not empty)";
      return false;
    }
    if (family == storage::Family::kMeta && IsSemanticMetaKey(key)) {
      *error = "meta row '" + key.substr(0, 32) + "' has a record type of its own (checkpoints are never imported)";
      return false;
    }
    out->rows.push_back({*family, key, value});
    return true;
  }
  *error = "unknown record type '" + type.substr(0, 32) + "'";
  return false;
}

}  // namespace tally::admin::ndjson
