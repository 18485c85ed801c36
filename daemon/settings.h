#pragma once
// The settings table: one entry per tallyd setting, and everything that is
// derived from it — the command-line flags and --help, reading tally.toml,
// validation, the SIGHUP reload, the configuration block of /v1/stats, the
// example file (systemd/tally.toml) and README.md's settings table.
//
// Adding a setting: a member in Config (config.h) with its default, one entry
// in Settings() (settings.cc), and the code that uses it. Nothing else; the
// tests in tests/unit/settings fail until the generated documentation is
// regenerated (tools/gen-settings-docs.sh).
//
// The table is immutable after its first use and may be read from any thread.

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config.h"

namespace tally {

enum class SettingType {
  kString,   // any text
  kInteger,  // an integer within [min, max]
  kEnum,     // one of `values`
};

// Groups order the example file and the README table.
enum class SettingGroup { kStorage, kNetwork, kLimits, kHttp, kAccess, kCounters, kQuotas, kRetention, kLogging };

struct SettingGroupInfo {
  SettingGroup group;
  std::string_view title;        // "Storage and durability"
  std::string_view explanation;  // a paragraph for the example file; may be empty
};
const std::vector<SettingGroupInfo>& SettingGroups();

// Where a setting's value lives in Config.
using SettingMember = std::variant<std::string Config::*, int Config::*, int64_t Config::*>;

struct Setting {
  // The TOML key. The flag is derived from it: "--" + key with '_' -> '-'.
  std::string_view key;
  SettingGroup group;
  SettingMember member;
  // kEnum: the allowed values (the member is a string). Empty otherwise.
  std::vector<std::string_view> values;
  // kInteger: the allowed range, inclusive. max = INT64_MAX means "no upper bound".
  int64_t min = 0;
  int64_t max = std::numeric_limits<int64_t>::max();
  std::string_view unit;  // "ms", "s", "bytes", "days" or empty
  std::string_view help;  // one line: --help and the README table
  // A longer explanation for the example file (wrapped there; '\n' forces a
  // line break). Empty: `help` is used.
  std::string_view explanation;
  // Non-empty when the default is computed at start-up (Config's member is
  // not the whole story): says what it is, e.g. "half the cores, at least 1".
  std::string_view default_note;
  // The value (a TOML literal) the example file shows instead of the
  // default, e.g. the paths the systemd unit provides. Empty: the default.
  std::string_view example;
  // The example file sets `example` (an active line); otherwise the line is
  // commented out.
  bool example_active = false;
  // SIGHUP applies a changed value from the file to the running daemon
  // (unless the flag was given: a flag outranks the file, on reload too).
  // The main thread changes the value while other threads run: mark a
  // setting reloadable only once every reader of it copes with that, and
  // apply it in main.cc's SIGHUP handling.
  bool reloadable = false;
  // Left out of /v1/stats (for secrets).
  bool hidden = false;

  SettingType type() const;
  std::string flag() const;  // "--data-dir"
  bool is_integer() const { return type() == SettingType::kInteger; }

  // The value in `config` (integers widened to int64_t).
  int64_t GetInteger(const Config& config) const;
  const std::string& GetString(const Config& config) const;
  // As a TOML literal: 6380, "process".
  std::string ValueText(const Config& config) const;
  // The default as a TOML literal, or the default_note.
  std::string DefaultText() const;
  // What values are allowed: "0..65535", "0 or more", "one of \"process\", \"fsync\"", "text".
  std::string RangeText() const;

  // Stores an integer or a string; false (and nothing stored) if the type is
  // wrong or the integer does not fit the member. Ranges are checked by
  // CheckSetting, not here.
  bool SetInteger(Config* config, int64_t value) const;
  bool SetString(Config* config, std::string value) const;
  void CopyValue(const Config& from, Config* to) const;
  bool SameValue(const Config& a, const Config& b) const;
};

// Every setting, in the order of the example file.
const std::vector<Setting>& Settings();
// nullptr if there is no such key.
const Setting* FindSetting(std::string_view key);

// Empty if `config`'s value of `setting` is allowed; else one message naming
// the setting, the given value and what is allowed:
//   port = 70000 is out of range: must be 0..65535
std::string CheckSetting(const Setting& setting, const Config& config);

// Rules between settings, which no single setting's range can express: one
// message per broken rule, naming both settings and their values:
//   quota_default_hold_ttl_ms = 600000 is above quota_max_hold_ttl_ms = 60000
std::vector<std::string> CheckSettingPairs(const Config& config);

// The example tally.toml: every setting by group, each with its explanation,
// type, range, unit and default, commented out with its default value (or
// set to its `example`). systemd/tally.toml is exactly this text.
std::string ConfigExample();

// README.md's settings tables (the text between its settings markers).
std::string SettingsMarkdown();

}  // namespace tally
