// The settings table and what comes from it: flags, tally.toml, validation,
// the SIGHUP reload, and the generated documentation (systemd/tally.toml,
// README.md's settings tables), which must match the table.

#include "settings.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config.h"
#include "temp_dir.h"

namespace tally {
namespace {

constexpr const char* kRegenerate =
    "run `bash tools/gen-settings-docs.sh` (it writes `build/release/daemon/tallyd --print-config-example` to "
    "systemd/tally.toml and `--print-settings-markdown` into README.md)";

struct Loaded {
  ConfigOutcome outcome;
  Config config;
  std::string out;
  std::string err;
};

Loaded Load(std::vector<std::string> args) {
  args.insert(args.begin(), "tallyd");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  Loaded loaded{ConfigOutcome::kExitError, {}, {}, {}};
  std::ostringstream out, err;
  loaded.outcome = LoadConfig(static_cast<int>(args.size()), argv.data(), &loaded.config, "tallyd 9.9.9", out, err);
  loaded.out = out.str();
  loaded.err = err.str();
  return loaded;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteText(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// Two allowed values of `s`, both different from the default and allowed
// with every other setting at its default (CheckSettingPairs): file and flag
// values for the round trips.
std::vector<std::string> OtherValues(const Setting& s) {
  const Config defaults;
  std::vector<std::string> out;
  switch (s.type()) {
    case SettingType::kString:
      // A currency is a code of letters, a listen address an IP address; every
      // other text setting takes any text here.
      if (s.key == std::string_view("currency")) return {"\"EUR\"", "\"credits\""};
      if (s.key == std::string_view("bind") || s.key == std::string_view("http_bind"))
        return {"\"127.0.0.2\"", "\"::1\""};
      return {"\"first-" + std::string(s.key) + "\"", "\"second-" + std::string(s.key) + "\""};
    case SettingType::kEnum:
      for (std::string_view v : s.values) {
        if (v != s.GetString(defaults)) out.push_back("\"" + std::string(v) + "\"");
      }
      return out;
    case SettingType::kInteger:
      break;
  }
  std::set<int64_t> candidates = {s.min, s.min + 1, s.max, s.max - 1};
  for (int64_t v : candidates) {
    Config with_value;
    if (v == s.GetInteger(defaults) || v < s.min || v > s.max || !s.SetInteger(&with_value, v)) continue;
    if (CheckSettingPairs(with_value).empty()) out.push_back(std::to_string(v));
  }
  return out;
}

// The value of a TOML literal as a flag's argument: 6380, process.
std::string FlagArgument(const std::string& literal) {
  return literal.front() == '"' ? literal.substr(1, literal.size() - 2) : literal;
}

// ---------------------------------------------------------------------------
// The table itself

TEST(SettingsTable, KeysAreUniqueAndFlagsAreDerivedFromThem) {
  std::set<std::string_view> keys;
  for (const Setting& s : Settings()) {
    EXPECT_TRUE(keys.insert(s.key).second) << "two entries for " << s.key;
    std::string expected = "--" + std::string(s.key);
    for (char& c : expected) c = c == '_' ? '-' : c;
    EXPECT_EQ(s.flag(), expected);
    EXPECT_EQ(FindSetting(s.key), &s);
    EXPECT_FALSE(s.help.empty()) << s.key << " has no help";
    EXPECT_EQ(s.help.find('\n'), std::string_view::npos) << s.key << ": help is one line";
  }
  EXPECT_EQ(FindSetting("no_such_setting"), nullptr);
}

TEST(SettingsTable, NoTwoEntriesShareAConfigMember) {
  const auto& all = Settings();
  for (size_t i = 0; i < all.size(); ++i) {
    for (size_t j = i + 1; j < all.size(); ++j) {
      EXPECT_FALSE(all[i].member == all[j].member) << all[i].key << " and " << all[j].key << " set the same member";
    }
  }
}

TEST(SettingsTable, DefaultsAreAllowedValues) {
  EXPECT_EQ(ValidateConfig(Config{}), std::vector<std::string>{});
  for (const Setting& s : Settings()) {
    if (s.is_integer()) {
      EXPECT_LE(s.min, s.max) << s.key;
    }
    if (s.type() == SettingType::kEnum) {
      EXPECT_GE(s.values.size(), 2u) << s.key;
    }
  }
}

TEST(SettingsTable, TimeoutIsASettingInSecondsDefaultNever) {
  const Setting* timeout = FindSetting("timeout");
  ASSERT_NE(timeout, nullptr);
  EXPECT_EQ(timeout->flag(), "--timeout");
  EXPECT_EQ(timeout->type(), SettingType::kInteger);
  EXPECT_EQ(timeout->unit, "s");
  EXPECT_EQ(timeout->min, 0);
  EXPECT_EQ(timeout->GetInteger(Config{}), 0);
  EXPECT_FALSE(timeout->hidden);
}

// The pub/sub output rule's settings (net/resp_server.h): read from the
// file and from flags, refused out of range; 0 turns the limit off.
TEST(SettingsTable, PubsubOutputLimitAndStallAreSettingsInRange) {
  const Setting* limit = FindSetting("pubsub_output_limit");
  const Setting* stall = FindSetting("pubsub_output_stall_ms");
  ASSERT_NE(limit, nullptr);
  ASSERT_NE(stall, nullptr);
  EXPECT_EQ(limit->DefaultText(), "33554432");  // 32 MiB, Redis's pubsub hard limit
  EXPECT_EQ(limit->RangeText(), "0..1099511627776");
  EXPECT_EQ(stall->DefaultText(), "5000");
  EXPECT_EQ(stall->RangeText(), "100..3600000");

  fixtures::TempDir dir;
  const std::string file = dir.Sub("tally.toml");
  WriteText(file, "pubsub_output_limit = 1048576\npubsub_output_stall_ms = 250\n");
  Loaded loaded = Load({"--config", file});
  ASSERT_EQ(loaded.outcome, ConfigOutcome::kRun) << loaded.err;
  EXPECT_EQ(loaded.config.pubsub_output_limit, 1048576);
  EXPECT_EQ(loaded.config.pubsub_output_stall_ms, 250);
  loaded = Load({"--config", file, "--pubsub-output-limit", "0", "--pubsub-output-stall-ms", "60000"});
  ASSERT_EQ(loaded.outcome, ConfigOutcome::kRun) << loaded.err;
  EXPECT_EQ(loaded.config.pubsub_output_limit, 0);
  EXPECT_EQ(loaded.config.pubsub_output_stall_ms, 60000);

  loaded = Load({"--config", "/dev/null", "--pubsub-output-limit", "-1", "--pubsub-output-stall-ms", "99"});
  EXPECT_EQ(loaded.outcome, ConfigOutcome::kExitError);
  EXPECT_EQ(loaded.err,
            "tallyd: bad setting: pubsub_output_limit = -1 is out of range: must be 0..1099511627776 bytes (given as "
            "--pubsub-output-limit)\n"
            "tallyd: bad setting: pubsub_output_stall_ms = 99 is out of range: must be 100..3600000 ms (given as "
            "--pubsub-output-stall-ms)\n");
  WriteText(file, "pubsub_output_stall_ms = 3600001\n");
  loaded = Load({"--config", file});
  EXPECT_EQ(loaded.outcome, ConfigOutcome::kExitError);
  EXPECT_EQ(loaded.err,
            "tallyd: bad setting: pubsub_output_stall_ms = 3600001 is out of range: must be 100..3600000 "
            "ms (in " +
                file + ")\n");
}

// Every flag name, key, default and range of earlier versions stays (scripts
// and docs use them).
TEST(SettingsTable, EarlierFlagsDefaultsAndRangesStay) {
  struct Known {
    const char* key;
    const char* default_text;
    const char* range;
  };
  const Known known[] = {
      {"data_dir", "\"./tally-data\"", "text"},
      {"bind", "\"127.0.0.1\"", "text"},
      {"port", "6380", "0..65535"},
      {"unix_socket", "<data_dir>/tally.sock", "text"},
      {"durability", "\"process\"", "one of \"process\", \"fsync\""},
      {"fsync_interval_ms", "1000", "1..60000"},
      {"log_level", "\"info\"", "one of \"trace\", \"debug\", \"info\", \"warn\", \"error\", \"critical\", \"off\""},
      {"io_threads", "half the cores, at least 1", "1..64"},
      {"max_clients", "10000", "1..1000000"},
      {"compaction_interval_ms", "5000", "10..3600000"},
      {"compaction_max_entries", "2000000", "1..1099511627776"},
      {"shutdown_drain_ms", "5000", "0 or more"},
      {"max_bulk_bytes", "67108864", "1..2147483648"},
      {"max_inline_bytes", "65536", "16..1073741824"},
      {"max_array_length", "1048576", "1..1073741824"},
      {"timezone", "\"UTC\"", "text"},
      {"max_backdate_s", "3024000", "0..3153600000"},
      {"max_future_skew_s", "300", "0..86400"},
      {"dedupe_window_s", "604800", "1..315360000"},
      {"retention_hour_days", "7", "0..36600"},
      {"retention_day_days", "400", "0..36600"},
      {"retention_week_days", "0", "0..36600"},
      {"retention_month_days", "0", "0..36600"},
      {"retention_quarter_days", "0", "0..36600"},
      {"retention_year_days", "0", "0..36600"},
      {"changes_retention_s", "604800", "0..316224000"},
      {"http_bind", "\"127.0.0.1\"", "text"},
      {"http_port", "8080", "0..65535"},
      {"http_threads", "1", "1..64"},
      {"http_max_connections", "1024", "1..1000000"},
      {"http_max_body_bytes", "1048576", "1..4294967296"},
      {"http_max_header_bytes", "16384", "1024..16777216"},
      {"http_read_timeout_ms", "30000", "10..3600000"},
  };
  for (const Known& k : known) {
    const Setting* s = FindSetting(k.key);
    ASSERT_NE(s, nullptr) << k.key << " is gone";
    EXPECT_EQ(s->DefaultText(), k.default_text) << k.key;
    EXPECT_EQ(s->RangeText(), k.range) << k.key;
  }
}

// ---------------------------------------------------------------------------
// Round trips: file value -> Config; flag -> Config; both -> the flag wins

TEST(SettingsRoundTrip, EverySettingFromTheFileFromAFlagAndFlagOverFile) {
  fixtures::TempDir dir;
  const std::string file = dir.Sub("tally.toml");
  for (const Setting& s : Settings()) {
    SCOPED_TRACE(std::string(s.key));
    std::vector<std::string> values = OtherValues(s);
    ASSERT_GE(values.size(), 1u);
    const std::string value = values[0];

    WriteText(file, std::string(s.key) + " = " + value + "\n");
    Loaded from_file = Load({"--config", file});
    ASSERT_EQ(from_file.outcome, ConfigOutcome::kRun) << from_file.err;
    EXPECT_EQ(s.ValueText(from_file.config), value);
    EXPECT_EQ(from_file.config.config_file, file);
    EXPECT_TRUE(from_file.config.set_by_flags.empty());

    Loaded from_flag = Load({"--config", "/dev/null", s.flag(), FlagArgument(value)});
    ASSERT_EQ(from_flag.outcome, ConfigOutcome::kRun) << from_flag.err;
    EXPECT_EQ(s.ValueText(from_flag.config), value);
    EXPECT_EQ(from_flag.config.set_by_flags, std::set<std::string>{std::string(s.key)});

    // The flag wins, even when it gives the default value.
    const std::string flag_value = values.size() > 1 ? values[1] : s.ValueText(Config{});
    Loaded both = Load({"--config", file, s.flag(), FlagArgument(flag_value)});
    ASSERT_EQ(both.outcome, ConfigOutcome::kRun) << both.err;
    EXPECT_EQ(s.ValueText(both.config), flag_value);
  }
}

TEST(SettingsRoundTrip, NoFileAndNoFlagsGiveTheDefaults) {
  Loaded loaded = Load({"--config", "/dev/null"});
  ASSERT_EQ(loaded.outcome, ConfigOutcome::kRun) << loaded.err;
  const Config defaults;
  for (const Setting& s : Settings()) {
    if (s.key == "unix_socket") continue;
    EXPECT_EQ(s.ValueText(loaded.config), s.ValueText(defaults)) << s.key;
  }
  EXPECT_EQ(loaded.config.unix_socket, "./tally-data/tally.sock");
  EXPECT_EQ(Load({"--config", "/dev/null", "--unix-socket", "none"}).config.unix_socket, "");
}

// ---------------------------------------------------------------------------
// Bad settings: one message per failure, naming the setting, what is
// allowed, the value given and where it came from

TEST(SettingsErrors, UnknownKeyNamesItAndTheFileAndSuggestsTheSetting) {
  fixtures::TempDir dir;
  WriteText(dir.Sub("tally.toml"), "port = 1\nprot = 1234\n");
  Loaded loaded = Load({"--config", dir.Sub("tally.toml")});
  EXPECT_EQ(loaded.outcome, ConfigOutcome::kExitError);
  EXPECT_EQ(loaded.err,
            "tallyd: bad config: " + dir.Sub("tally.toml") + ":2: unknown setting 'prot' (did you mean 'port'?)\n");

  WriteText(dir.Sub("table.toml"), "[http]\nport = 1\n");
  loaded = Load({"--config", dir.Sub("table.toml")});
  EXPECT_EQ(loaded.outcome, ConfigOutcome::kExitError);
  EXPECT_NE(loaded.err.find("unknown setting 'http'"), std::string::npos) << loaded.err;
}

TEST(SettingsErrors, WrongTypesAreErrorsOnePerSetting) {
  fixtures::TempDir dir;
  WriteText(dir.Sub("tally.toml"), "port = \"6380\"\ndurability = 1\nmax_clients = 1.5\nlog_level = \"info\"\n");
  Loaded loaded = Load({"--config", dir.Sub("tally.toml")});
  EXPECT_EQ(loaded.outcome, ConfigOutcome::kExitError);
  const std::string file = dir.Sub("tally.toml");
  EXPECT_EQ(loaded.err,
            "tallyd: bad config: " + file + ":1: port must be an integer, not a string\n" +
                "tallyd: bad config: " + file + ":2: durability must be a string (in quotes), not an integer\n" +
                "tallyd: bad config: " + file + ":3: max_clients must be an integer, not a floating-point\n");
}

TEST(SettingsErrors, DuplicateKeysAndSyntaxErrorsStopWithTheLine) {
  fixtures::TempDir dir;
  WriteText(dir.Sub("tally.toml"), "port = 1\nport = 2\n");
  Loaded loaded = Load({"--config", dir.Sub("tally.toml")});
  EXPECT_EQ(loaded.outcome, ConfigOutcome::kExitError);
  EXPECT_NE(loaded.err.find(dir.Sub("tally.toml") + ":2:"), std::string::npos) << loaded.err;
  EXPECT_NE(loaded.err.find("port"), std::string::npos) << loaded.err;
}

TEST(SettingsErrors, FileValuesAreCheckedLikeFlags) {
  fixtures::TempDir dir;
  const std::string file = dir.Sub("tally.toml");
  WriteText(file, "port = 70000\ndurability = \"sometimes\"\nmax_future_skew_s = 86401\nhttp_threads = 99999999999\n");
  Loaded loaded = Load({"--config", file});
  EXPECT_EQ(loaded.outcome, ConfigOutcome::kExitError);
  // http_threads does not even fit the member: refused while reading.
  EXPECT_EQ(loaded.err,
            "tallyd: bad config: " + file + ":4: http_threads = 99999999999 is out of range: must be 1..64\n");

  WriteText(file, "port = 70000\ndurability = \"sometimes\"\nmax_future_skew_s = 86401\n");
  loaded = Load({"--config", file});
  EXPECT_EQ(loaded.outcome, ConfigOutcome::kExitError);
  EXPECT_EQ(
      loaded.err,
      "tallyd: bad setting: durability = \"sometimes\" is not allowed: must be one of \"process\", \"fsync\" (in " +
          file + ")\n" + "tallyd: bad setting: port = 70000 is out of range: must be 0..65535 (in " + file + ")\n" +
          "tallyd: bad setting: max_future_skew_s = 86401 is out of range: must be 0..86400 s (in " + file + ")\n");
}

TEST(SettingsErrors, FlagValuesNameTheFlag) {
  Loaded loaded = Load({"--config", "/dev/null", "--port", "70000", "--log-level", "chatty"});
  EXPECT_EQ(loaded.outcome, ConfigOutcome::kExitError);
  EXPECT_EQ(loaded.err,
            "tallyd: bad setting: port = 70000 is out of range: must be 0..65535 (given as --port)\n"
            "tallyd: bad setting: log_level = \"chatty\" is not allowed: must be one of \"trace\", \"debug\", "
            "\"info\", \"warn\", \"error\", \"critical\", \"off\" (given as --log-level)\n");
  // A flag fixes a bad file value: the merged value is what counts.
  fixtures::TempDir dir;
  WriteText(dir.Sub("tally.toml"), "port = 70000\n");
  EXPECT_EQ(Load({"--config", dir.Sub("tally.toml"), "--port", "7000"}).outcome, ConfigOutcome::kRun);
}

TEST(SettingsErrors, MissingExplicitFileStops) {
  Loaded loaded = Load({"--config", "/nonexistent/tally.toml"});
  EXPECT_EQ(loaded.outcome, ConfigOutcome::kExitError);
  EXPECT_EQ(loaded.err, "tallyd: config file /nonexistent/tally.toml does not exist\n");
}

// ---------------------------------------------------------------------------
// SIGHUP

TEST(SettingsReload, AppliesReloadableSettingsAndNamesTheOthers) {
  fixtures::TempDir dir;
  const std::string file = dir.Sub("tally.toml");
  WriteText(file, "log_level = \"debug\"\nport = 1234\n");
  Loaded loaded = Load({"--config", file});
  ASSERT_EQ(loaded.outcome, ConfigOutcome::kRun) << loaded.err;
  Config config = loaded.config;

  WriteText(file, "log_level = \"warn\"\nport = 4321\n");
  ReloadResult result;
  std::string error;
  ASSERT_TRUE(ReloadConfigFile(&config, &result, &error)) << error;
  EXPECT_EQ(config.log_level, "warn");
  EXPECT_EQ(config.port, 1234) << "port is read at start-up only";
  EXPECT_EQ(result.applied, std::vector<std::string>{"log_level"});
  EXPECT_EQ(result.needs_restart, std::vector<std::string>{"port"});

  // Unchanged: nothing to report (unix_socket's derived default included).
  result = {};
  ASSERT_TRUE(ReloadConfigFile(&config, &result, &error)) << error;
  EXPECT_TRUE(result.applied.empty());
  EXPECT_EQ(result.needs_restart, std::vector<std::string>{"port"});
}

TEST(SettingsReload, AFlagOutranksTheFileOnReload) {
  fixtures::TempDir dir;
  const std::string file = dir.Sub("tally.toml");
  WriteText(file, "log_level = \"debug\"\n");
  Loaded loaded = Load({"--config", file, "--log-level", "error", "--port", "1111"});
  ASSERT_EQ(loaded.outcome, ConfigOutcome::kRun) << loaded.err;
  Config config = loaded.config;
  EXPECT_EQ(config.log_level, "error");
  WriteText(file, "log_level = \"trace\"\nport = 2222\n");
  ReloadResult result;
  std::string error;
  ASSERT_TRUE(ReloadConfigFile(&config, &result, &error)) << error;
  EXPECT_EQ(config.log_level, "error");
  EXPECT_TRUE(result.applied.empty());
  EXPECT_TRUE(result.needs_restart.empty()) << "--port outranks the file's port";
}

TEST(SettingsReload, DerivedUnixSocketIsNoChange) {
  fixtures::TempDir dir;
  const std::string file = dir.Sub("tally.toml");
  for (std::vector<std::string> flags : std::vector<std::vector<std::string>>{
           {}, {"--unix-socket", "none"}, {"--unix-socket", "/tmp/x.sock"}, {"--data-dir", "/tmp/d"}}) {
    SCOPED_TRACE(::testing::PrintToString(flags));
    WriteText(file, "port = 1\n");
    flags.insert(flags.begin(), {"--config", file});
    Loaded loaded = Load(flags);
    ASSERT_EQ(loaded.outcome, ConfigOutcome::kRun) << loaded.err;
    Config config = loaded.config;
    ReloadResult result;
    std::string error;
    ASSERT_TRUE(ReloadConfigFile(&config, &result, &error)) << error;
    EXPECT_TRUE(result.applied.empty());
    EXPECT_TRUE(result.needs_restart.empty()) << ::testing::PrintToString(result.needs_restart);
  }
  // A new data_dir in the file moves the default socket too.
  WriteText(file, "port = 1\n");
  Config config = Load({"--config", file}).config;
  WriteText(file, "port = 1\ndata_dir = \"/tmp/elsewhere\"\n");
  ReloadResult result;
  std::string error;
  ASSERT_TRUE(ReloadConfigFile(&config, &result, &error)) << error;
  EXPECT_EQ(result.needs_restart, (std::vector<std::string>{"data_dir", "unix_socket"}));
}

TEST(SettingsReload, ABadFileChangesNothing) {
  fixtures::TempDir dir;
  const std::string file = dir.Sub("tally.toml");
  WriteText(file, "log_level = \"debug\"\n");
  Config config = Load({"--config", file}).config;
  WriteText(file, "log_level = \"loud\"\n");
  ReloadResult result;
  std::string error;
  EXPECT_FALSE(ReloadConfigFile(&config, &result, &error));
  EXPECT_EQ(error,
            "log_level = \"loud\" is not allowed: must be one of \"trace\", \"debug\", \"info\", \"warn\", "
            "\"error\", \"critical\", \"off\"");
  EXPECT_EQ(config.log_level, "debug");
  WriteText(file, "log_levle = \"info\"\n");
  EXPECT_FALSE(ReloadConfigFile(&config, &result, &error));
  EXPECT_NE(error.find("unknown setting 'log_levle'"), std::string::npos) << error;
  EXPECT_EQ(config.log_level, "debug");
}

// ---------------------------------------------------------------------------
// The generated documentation

TEST(SettingsDocs, SystemdExampleIsTheGeneratedExample) {
  const std::string path = std::string(TALLY_SOURCE_DIR) + "/systemd/tally.toml";
  EXPECT_TRUE(ReadText(path) == ConfigExample())
      << path << " differs from `tallyd --print-config-example` (the settings table changed): " << kRegenerate;
}

TEST(SettingsDocs, PrintConfigExampleFlagPrintsItWhateverTheFileHolds) {
  fixtures::TempDir dir;
  WriteText(dir.Sub("broken.toml"), "port = = 1\n");
  Loaded loaded = Load({"--config", dir.Sub("broken.toml"), "--print-config-example"});
  EXPECT_EQ(loaded.outcome, ConfigOutcome::kExitOk) << loaded.err;
  EXPECT_EQ(loaded.out, ConfigExample());
  EXPECT_EQ(Load({"--print-settings-markdown"}).out, SettingsMarkdown());
}

TEST(SettingsDocs, ExampleParsesAndEveryCommentedLineIsTheDefault) {
  fixtures::TempDir dir;
  const std::string example = ConfigExample();
  // As shipped: only the active lines (the systemd paths) differ from the defaults.
  WriteText(dir.Sub("example.toml"), example);
  Config shipped;
  std::vector<std::string> errors;
  ASSERT_TRUE(ReadConfigFile(dir.Sub("example.toml"), &shipped, &errors)) << errors.front();
  EXPECT_EQ(ValidateConfig(shipped), std::vector<std::string>{});
  // Every setting uncommented: still valid, and each line holds its default
  // (or the example value, where the default is computed).
  std::string uncommented;
  std::istringstream lines(example);
  std::set<std::string> seen;
  for (std::string line; std::getline(lines, line);) {
    for (const Setting& s : Settings()) {
      const std::string commented = "# " + std::string(s.key) + " = ";
      const std::string active = std::string(s.key) + " = ";
      if (line.rfind(commented, 0) == 0) line = line.substr(2);
      if (line.rfind(active, 0) == 0) seen.insert(std::string(s.key));
    }
    uncommented += line + "\n";
  }
  WriteText(dir.Sub("all.toml"), uncommented);
  Config all;
  ASSERT_TRUE(ReadConfigFile(dir.Sub("all.toml"), &all, &errors)) << errors.front();
  EXPECT_EQ(ValidateConfig(all), std::vector<std::string>{});
  const Config defaults;
  for (const Setting& s : Settings()) {
    EXPECT_EQ(seen.count(std::string(s.key)), 1u) << s.key << " has no line in the example";
    const std::string expected = s.example.empty() ? s.ValueText(defaults) : std::string(s.example);
    EXPECT_EQ(s.ValueText(all), expected) << s.key;
    EXPECT_EQ(s.ValueText(shipped), s.example_active ? expected : s.ValueText(defaults)) << s.key;
  }
}

TEST(SettingsDocs, HelpListsEveryFlagWithItsRangeAndDefault) {
  Loaded help = Load({"--help"});
  EXPECT_EQ(help.outcome, ConfigOutcome::kExitOk);
  for (const char* flag : {"--config", "--help", "--version", "--print-config-example"}) {
    EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
  }
  for (const Setting& s : Settings()) {
    EXPECT_NE(help.out.find(s.flag() + " "), std::string::npos) << s.flag() << " is not in --help:\n" << help.out;
    if (s.type() != SettingType::kString) {
      EXPECT_NE(help.out.find(s.RangeText()), std::string::npos) << s.flag() << "'s range is not in --help";
    }
    if (s.default_note.empty() && !(s.type() == SettingType::kString && s.GetString(Config{}).empty())) {
      const std::string shown = "=" + (s.is_integer() ? std::to_string(s.GetInteger(Config{})) : s.GetString(Config{}));
      EXPECT_NE(help.out.find(s.flag() + " "), std::string::npos);
      EXPECT_NE(help.out.find(shown, help.out.find(s.flag() + " ")), std::string::npos)
          << s.flag() << "'s default is not in --help";
    } else if (!s.default_note.empty()) {
      EXPECT_NE(help.out.find(std::string(s.default_note)), std::string::npos) << s.flag();
    }
  }
  // --help ignores the config file, even a broken one.
  fixtures::TempDir dir;
  WriteText(dir.Sub("broken.toml"), "prot = 1\n");
  EXPECT_EQ(Load({"--config", dir.Sub("broken.toml"), "--help"}).out, help.out);
}

TEST(SettingsDocs, ReadmeTablesAreGeneratedAndListEveryFlag) {
  const std::string path = std::string(TALLY_SOURCE_DIR) + "/README.md";
  const std::string readme = ReadText(path);
  const std::string begin = "<!-- settings:begin -->\n";
  const std::string end = "<!-- settings:end -->\n";
  const size_t b = readme.find(begin);
  const size_t e = readme.find(end);
  ASSERT_NE(b, std::string::npos) << path << " lacks the line " << begin;
  ASSERT_NE(e, std::string::npos) << path << " lacks the line " << end;
  ASSERT_LT(b, e);
  const std::string tables = readme.substr(b + begin.size(), e - b - begin.size());
  EXPECT_TRUE(tables == SettingsMarkdown())
      << "README.md's settings tables differ from the settings table: " << kRegenerate;
  for (const Setting& s : Settings()) {
    EXPECT_NE(tables.find("| `" + s.flag() + "` |"), std::string::npos) << s.flag() << " is not in README.md";
  }
}

TEST(SettingsDocs, ExampleExplainsEverySettingWithItsRangeAndDefault) {
  const std::string example = ConfigExample();
  for (const Setting& s : Settings()) {
    const size_t line = example.find("\n" + std::string(s.example_active ? "" : "# ") + std::string(s.key) + " = ");
    ASSERT_NE(line, std::string::npos) << s.key;
    // The comment block just above the line: the explanation, range and default.
    const size_t block = example.rfind("\n\n", line);
    const std::string comment = example.substr(block, line - block);
    EXPECT_NE(comment.find("Default: " + s.DefaultText()), std::string::npos) << s.key << ":" << comment;
    if (s.is_integer()) {
      EXPECT_NE(comment.find(s.RangeText()), std::string::npos) << s.key << ":" << comment;
    }
    EXPECT_GT(comment.size(), 40u) << s.key << " is not explained";
  }
  EXPECT_EQ(example.find("dashboard"), std::string::npos) << "there is no dashboard yet";
}

}  // namespace
}  // namespace tally
