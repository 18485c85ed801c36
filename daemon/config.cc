#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <toml++/toml.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <sstream>
#include <thread>

#include "commands/plan_json.h"
#include "core/meter_names.h"
#include "core/money.h"
#include "settings.h"

namespace tally {

int DefaultIoThreads() {
  const unsigned cores = std::thread::hardware_concurrency();
  // Within io_threads' range (1..64) on any machine.
  return static_cast<int>(std::clamp(cores / 2, 1u, 64u));
}

namespace {

constexpr const char* kDefaultConfigPath = "/etc/tally/tally.toml";

// "a string", "an integer", "a floating-point", "a table"...
std::string TypeName(const toml::node& node) {
  std::ostringstream name;
  name << node.type();
  const std::string text = name.str();
  return (text.find_first_of("aeiou") == 0 ? "an " : "a ") + text;
}

// Levenshtein distance, for "did you mean" on unknown keys.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

constexpr std::string_view kPlansKey = "plans";
constexpr std::string_view kPricesKey = "prices";

std::string Suggestion(std::string_view unknown) {
  std::string_view best;
  size_t best_distance = 3;  // at most two edits away
  for (const Setting& s : Settings()) {
    size_t d = EditDistance(unknown, s.key);
    if (d < best_distance) best = s.key, best_distance = d;
  }
  if (EditDistance(unknown, kPlansKey) < best_distance) best = kPlansKey;
  if (EditDistance(unknown, kPricesKey) < best_distance) best = kPricesKey;
  return best.empty() ? "" : " (did you mean '" + std::string(best) + "'?)";
}

// The help line of a setting's flag: its meaning, what is allowed, and what
// the default is when --help cannot show it.
std::string FlagDescription(const Setting& s) {
  std::string out(s.help);
  if (s.type() != SettingType::kString) {
    out += "; " + s.RangeText();
    if (!s.unit.empty()) out += " " + std::string(s.unit);
  }
  if (!s.default_note.empty()) out += "; default: " + std::string(s.default_note);
  if (s.reloadable) out += "; reloaded on SIGHUP";
  return out;
}

// ---- plans: [plans.<plan>.features.<feature>] ------------------------------

// The first line of the file that belongs to `node`. A table made implicitly
// by a deeper header ([plans.pro] by [plans.pro.features.x]) has no line of
// its own; its keys do.
uint32_t FirstLine(const toml::node& node) {
  uint32_t line = node.source().begin.line;
  auto consider = [&line](uint32_t other) {
    if (other > 0 && (line == 0 || other < line)) line = other;
  };
  if (const toml::table* table = node.as_table()) {
    for (const auto& [key, child] : *table) {
      consider(key.source().begin.line);
      consider(FirstLine(child));
    }
  } else if (const toml::array* array = node.as_array()) {
    for (const toml::node& child : *array) consider(FirstLine(child));
  }
  return line;
}

// TOML has no null, so a feature's `limit = "unlimited"` stands for JSON's
// `"limit": null`. Anything else is left for the plan parser to judge.
void UnlimitedToNull(nlohmann::json& plan) {
  if (!plan.is_object()) return;
  auto features = plan.find("features");
  if (features == plan.end() || !features->is_object()) return;
  for (nlohmann::json& feature : *features) {
    if (!feature.is_object()) continue;
    auto limit = feature.find("limit");
    if (limit != feature.end() && *limit == "unlimited") *limit = nullptr;
  }
}

// A TOML value as the JSON that PLAN.SET would be given: tables become
// objects, floats stay floats (so the plan parser refuses them exactly as it
// refuses 1.5 in JSON). Dates and times have no JSON form: false, with
// `error` naming the key by its dotted path inside the plan.
bool TomlToJson(const toml::node& node, const std::string& path, nlohmann::json* out, std::string* error) {
  if (const toml::table* table = node.as_table()) {
    *out = nlohmann::json::object();
    for (const auto& [key, child] : *table) {
      const std::string name(key.str());
      nlohmann::json value;
      if (!TomlToJson(child, path.empty() ? name : path + "." + name, &value, error)) return false;
      (*out)[name] = std::move(value);
    }
    return true;
  }
  if (const toml::array* array = node.as_array()) {
    *out = nlohmann::json::array();
    for (size_t i = 0; i < array->size(); ++i) {
      nlohmann::json value;
      if (!TomlToJson(*array->get(i), path + "[" + std::to_string(i) + "]", &value, error)) return false;
      out->push_back(std::move(value));
    }
    return true;
  }
  if (auto text = node.value_exact<std::string>()) {
    *out = *text;
  } else if (auto integer = node.value_exact<int64_t>()) {
    *out = *integer;
  } else if (auto number = node.value_exact<double>()) {
    *out = *number;
  } else if (auto flag = node.value_exact<bool>()) {
    *out = *flag;
  } else {
    *error = "'" + path + "' is " + TypeName(node) + ", which a plan cannot hold";
    return false;
  }
  return true;
}

// The [plans] table into `plans` (by name, as the table is ordered). Each
// plan's table is turned into the JSON PLAN.SET takes and read by the same
// parser, so a plan means the same and is refused with the same words
// whichever way it arrives. One message per invalid plan, at the plan's
// first line.
void ReadPlans(const std::string& path, uint32_t key_line, const toml::node& node, std::vector<core::Plan>* plans,
               std::vector<std::pair<uint32_t, std::string>>* found) {
  const toml::table* table = node.as_table();
  if (table == nullptr) {
    found->emplace_back(key_line, path + ":" + std::to_string(key_line) +
                                      ": plans must be a table of plans by name ([plans.<plan>.features.<feature>]), "
                                      "not " +
                                      TypeName(node));
    return;
  }
  for (const auto& [key, plan_node] : *table) {
    const std::string name(key.str());
    uint32_t line = FirstLine(plan_node);
    if (key.source().begin.line > 0 && (line == 0 || key.source().begin.line < line)) line = key.source().begin.line;
    const std::string where = path + ":" + std::to_string(line) + ": invalid plan '" + name + "': ";
    // PLAN.SET's words for a bad name.
    if (!core::IsValidPlanName(name)) {
      found->emplace_back(line, where + "use 1-64 characters of A-Z a-z 0-9 _ - . :");
      continue;
    }
    nlohmann::json body;
    core::Plan plan;
    std::string error;
    if (!TomlToJson(plan_node, "", &body, &error)) {
      found->emplace_back(line, where + error);
      continue;
    }
    UnlimitedToNull(body);
    if (!commands::PlanFromJson(name, body, &plan, &error)) {
      found->emplace_back(line, where + error);
      continue;
    }
    plans->push_back(std::move(plan));
  }
}

// The [prices] table into `prices`: "<event-type>.<measure>" = "<decimal>".
// A price is a decimal string, never a TOML float (money is never binary
// floating point); PRICE.SET's rules for names and values.
void ReadPrices(const std::string& path, uint32_t key_line, const toml::node& node,
                std::vector<std::pair<std::string, int64_t>>* prices,
                std::vector<std::pair<uint32_t, std::string>>* found) {
  const toml::table* table = node.as_table();
  if (table == nullptr) {
    found->emplace_back(key_line, path + ":" + std::to_string(key_line) +
                                      ": prices must be a table of \"<event-type>.<measure>\" = \"<price>\", not " +
                                      TypeName(node));
    return;
  }
  for (const auto& [key, price_node] : *table) {
    const std::string name(key.str());
    const uint32_t line = key.source().begin.line;
    const std::string where = path + ":" + std::to_string(line) + ": invalid price '" + name + "': ";
    if (!core::ValidPriceName(name)) {
      found->emplace_back(line, where + "use <event-type>.<measure>, e.g. chat.tokens");
      continue;
    }
    std::string text;
    if (auto s = price_node.value<std::string>(); s && price_node.is_string()) {
      text = *s;
    } else if (price_node.is_integer()) {
      text = std::to_string(*price_node.value<int64_t>());
    } else {
      found->emplace_back(
          line, where + "give the price as a decimal string in quotes (\"0.000002\"), not " + TypeName(price_node));
      continue;
    }
    const core::ParsedDecimal parsed = core::ParseDecimal(text, core::kMoneyScale);
    if (!parsed.ok()) {
      found->emplace_back(line, where + core::DecimalErrorMessage(*parsed.error, text, core::kMoneyScale));
    } else if (parsed.scaled <= 0) {
      found->emplace_back(line, where + "a price must be more than 0");
    } else {
      prices->emplace_back(name, parsed.scaled);
    }
  }
}

// The derived values: unix_socket's default and "none".
void Resolve(Config* config) {
  if (config->unix_socket.empty()) config->unix_socket = config->data_dir + "/tally.sock";
  if (config->unix_socket == "none") config->unix_socket.clear();
}

// ---- listen addresses and paths (checked before anything is created) -------

// What asio::ip::make_address takes: IPv4 dotted quad, or IPv6 with an
// optional %scope (interface).
bool IsIpAddress(const std::string& text) {
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return true;
  const size_t percent = text.find('%');
  if (percent != std::string::npos && percent + 1 == text.size()) return false;
  in6_addr v6{};
  return ::inet_pton(AF_INET6, text.substr(0, percent).c_str(), &v6) == 1;
}

namespace fs = std::filesystem;

// "user tally" (or "uid 1234"): who the messages say cannot write.
std::string RunningUser() {
  if (const passwd* user = ::getpwuid(::geteuid())) return std::string("user ") + user->pw_name;
  return "uid " + std::to_string(::geteuid());
}

// The owner of a file, for a message: "root" (or "uid 0").
std::string OwnerName(uid_t uid) {
  if (const passwd* user = ::getpwuid(uid)) return user->pw_name;
  return "uid " + std::to_string(uid);
}

// Absolute and normalized, without a trailing '/'; relative paths are taken
// from the working directory, as tallyd will.
fs::path Absolute(const std::string& path) {
  std::error_code ec;
  fs::path out = fs::absolute(fs::path(path), ec).lexically_normal();
  if (ec) out = fs::path(path).lexically_normal();
  if (!out.has_filename() && out.has_relative_path()) out = out.parent_path();
  return out;
}

// Access as the effective user, which is who tallyd creates files as.
bool Accessible(const fs::path& path, int mode, std::string* why) {
  if (::faccessat(AT_FDCWD, path.c_str(), mode, AT_EACCESS) == 0) return true;
  *why = std::strerror(errno);
  return false;
}

// What stands in the way of writing in `dir`, or "" when nothing does.
// With `may_create`, a missing `dir` is fine when its nearest existing parent
// is a directory that can be written in (create_directories would succeed).
std::string DirectoryProblem(const fs::path& dir, bool may_create) {
  struct stat st {};
  std::string why;
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return dir.string() + " is not a directory";
    if (!Accessible(dir, W_OK | X_OK, &why)) {
      return dir.string() + " is not writable by " + RunningUser() + " (" + why + "; it belongs to " +
             OwnerName(st.st_uid) + ")";
    }
    return "";
  }
  if (errno != ENOENT && errno != ENOTDIR) return "cannot look at " + dir.string() + ": " + std::strerror(errno);
  fs::path parent = dir.parent_path();
  while (::stat(parent.c_str(), &st) != 0) {
    if (errno != ENOENT && errno != ENOTDIR) return "cannot look at " + parent.string() + ": " + std::strerror(errno);
    if (parent == parent.root_path() || !parent.has_relative_path()) return parent.string() + " does not exist";
    parent = parent.parent_path();
  }
  if (!S_ISDIR(st.st_mode)) return parent.string() + " is not a directory";
  if (!may_create) return dir.string() + " does not exist";
  if (!Accessible(parent, W_OK | X_OK, &why)) {
    return "cannot create " + dir.string() + ": " + parent.string() + " is not writable by " + RunningUser() + " (" +
           why + ")";
  }
  return "";
}

// The first entry of `dir` (not recursive) that this user cannot write, and
// how many there are: the files of a database made by a run as another user.
std::string UnwritableEntry(const fs::path& dir) {
  std::error_code ec;
  size_t count = 0;
  std::string first;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    std::string why;
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) != 0 || S_ISLNK(st.st_mode)) continue;
    if (Accessible(entry.path(), S_ISDIR(st.st_mode) ? (W_OK | X_OK) : W_OK, &why)) continue;
    if (count++ == 0) {
      first = entry.path().string() + " is not writable by " + RunningUser() + " (" + why + "; it belongs to " +
              OwnerName(st.st_uid) + ")";
    }
  }
  if (count > 1) first += ", and " + std::to_string(count - 1) + " more entries of " + dir.string();
  return first;
}

// `ancestor` is `path` or one of its parents.
bool IsSameOrParent(const fs::path& ancestor, const fs::path& path) {
  const fs::path relative = path.lexically_relative(ancestor);
  return !relative.empty() && *relative.begin() != "..";
}

}  // namespace

std::vector<std::string> CheckListenAddresses(const Config& config) {
  std::vector<std::string> errors;
  const auto check = [&errors](std::string_view key, const std::string& address) {
    if (IsIpAddress(address)) return;
    errors.push_back(std::string(key) + " = \"" + address +
                     "\" is not an IP address: tallyd does not look up host names; use 127.0.0.1 (or ::1) for "
                     "this machine only, 0.0.0.0 (or ::) for every interface, or one interface's address");
  };
  if (config.port != 0) check("bind", config.bind);
  if (config.http_port != 0) check("http_bind", config.http_bind);
  return errors;
}

std::vector<std::string> CheckPaths(const Config& config) {
  std::vector<std::string> errors;
  const std::string data_setting = "data_dir = \"" + config.data_dir + "\": ";
  const fs::path data_dir = Absolute(config.data_dir);
  std::string problem = DirectoryProblem(data_dir, /*may_create=*/true);
  if (!problem.empty()) errors.push_back(data_setting + problem);
  // What an earlier run made: the store's two databases and tallyd's files.
  struct stat st {};
  if (problem.empty() && ::stat(data_dir.c_str(), &st) == 0) {
    for (const char* name : {"db", "db-log", "tallyd.lock", "tally.reserve"}) {
      const fs::path inside = data_dir / name;
      if (::lstat(inside.c_str(), &st) != 0) continue;
      std::string why;
      if (S_ISDIR(st.st_mode)) {
        problem = DirectoryProblem(inside, /*may_create=*/false);
        if (problem.empty()) problem = UnwritableEntry(inside);
      } else if (!Accessible(inside, W_OK, &why)) {
        problem = inside.string() + " is not writable by " + RunningUser() + " (" + why + "; it belongs to " +
                  OwnerName(st.st_uid) + ")";
      } else {
        problem.clear();
      }
      if (!problem.empty()) {
        errors.push_back(data_setting + problem + ": was tallyd run as another user? Give the data dir to " +
                         RunningUser().substr(RunningUser().find(' ') + 1) + " (chown -R)");
        break;  // one is enough to say what happened
      }
    }
  }

  if (!config.unix_socket.empty()) {
    const std::string socket_setting = "unix_socket = \"" + config.unix_socket + "\": ";
    const fs::path socket = Absolute(config.unix_socket);
    const fs::path dir = socket.parent_path();
    if (config.unix_socket.size() >= sizeof(sockaddr_un{}.sun_path)) {
      errors.push_back(socket_setting + "the path is " + std::to_string(config.unix_socket.size()) +
                       " bytes long; a unix socket path may have at most " +
                       std::to_string(sizeof(sockaddr_un{}.sun_path) - 1));
    } else if (::lstat(socket.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
      // The same words as when binding (net/unix_socket_path.h): never replaced.
      errors.push_back(socket_setting + socket.string() + " exists and is not a socket; refusing to replace it");
    } else if (!IsSameOrParent(dir, data_dir)) {
      // The data dir and its parents are created: checked above.
      problem = DirectoryProblem(dir, /*may_create=*/false);
      if (!problem.empty()) {
        errors.push_back(socket_setting + problem +
                         " (tallyd creates no directory for the socket but the data dir; under systemd the unit's "
                         "RuntimeDirectory= makes /run/tally)");
      }
    }
  }
  return errors;
}

bool ReadConfigFile(const std::string& path, Config* config, std::vector<std::string>* errors) {
  // Debian's toml++ is built with exceptions: parse errors (syntax, a key
  // given twice) arrive as toml::parse_error.
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    errors->push_back(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
    return false;
  }
  // toml::table is ordered by key; the messages follow the file's lines.
  std::vector<std::pair<uint32_t, std::string>> found;
  std::vector<core::Plan> plans;
  std::vector<std::pair<std::string, int64_t>> prices;
  for (const auto& [key, node] : table) {
    const uint32_t line = key.source().begin.line;
    const std::string where = path + ":" + std::to_string(line) + ": ";
    const std::string name(key.str());
    if (name == kPlansKey) {
      ReadPlans(path, line, node, &plans, &found);
      continue;
    }
    if (name == kPricesKey) {
      ReadPrices(path, line, node, &prices, &found);
      continue;
    }
    // Unknown keys are errors: a typo must not silently fall back to a default.
    const Setting* setting = FindSetting(name);
    if (setting == nullptr) {
      found.emplace_back(line, where + "unknown setting '" + name + "'" + Suggestion(name));
      continue;
    }
    // A value of the wrong type is an error, not a silent default.
    if (setting->is_integer()) {
      if (!node.is_integer()) {
        found.emplace_back(line, where + name + " must be an integer, not " + TypeName(node));
      } else if (int64_t value = *node.value<int64_t>(); !setting->SetInteger(config, value)) {
        found.emplace_back(
            line, where + name + " = " + std::to_string(value) + " is out of range: must be " + setting->RangeText());
      }
    } else if (!node.is_string()) {
      found.emplace_back(line, where + name + " must be a string (in quotes), not " + TypeName(node));
    } else {
      setting->SetString(config, *node.value<std::string>());
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [line, message] : found) errors->push_back(std::move(message));
  if (found.empty()) {
    config->plans = std::move(plans);
    config->prices = std::move(prices);
  }
  return found.empty();
}

std::vector<std::string> ValidateConfig(const Config& config) {
  std::vector<std::string> errors;
  for (const Setting& s : Settings()) {
    if (std::string error = CheckSetting(s, config); !error.empty()) errors.push_back(std::move(error));
  }
  // Pairs only once each setting is valid on its own, not to say one thing twice.
  if (errors.empty()) errors = CheckSettingPairs(config);
  if (errors.empty()) errors = CheckListenAddresses(config);
  return errors;
}

ConfigOutcome LoadConfig(int argc, char** argv, Config* config, const std::string& version_text, std::ostream& out,
                         std::ostream& err) {
  // The flags are parsed into their own Config, so --help shows tallyd's own
  // defaults (not the file's) and works whatever the file holds; the flags
  // given are then laid over the file's values.
  Config flags;
  CLI::App app{
      "tallyd — counts, meters and limits usage; speaks RESP (Redis clients work) on TCP and a unix socket, "
      "and HTTP/JSON. Every flag is also a setting of the config file, with '_' for '-' (--data-dir: data_dir)."};
  app.set_version_flag("--version", version_text);
  std::string config_path;
  app.add_option(
      "--config", config_path,
      std::string("TOML config file (default: ") + kDefaultConfigPath + " if present; flags override its settings)");
  std::string check_path;
  app.add_option("--check-config", check_path,
                 "Check a config file (with any flags given) as tallyd would start with it, name each bad "
                 "setting, and exit: 0 when it is good, 2 when not; creates nothing")
      ->excludes("--config");
  bool print_example = false;
  bool print_markdown = false;
  app.add_flag("--print-config-example", print_example,
               "Print an example config file with every setting explained, and exit");
  // For tools/gen-settings-docs.sh (README.md); not in --help.
  app.add_flag("--print-settings-markdown", print_markdown)->group("");
  for (const Setting& s : Settings()) {
    CLI::Option* option =
        std::visit([&](auto member) { return app.add_option(s.flag(), flags.*member, FlagDescription(s)); }, s.member);
    option->capture_default_str();
    if (s.type() == SettingType::kEnum) {
      std::string values;
      for (std::string_view v : s.values) values += (values.empty() ? "" : "|") + std::string(v);
      option->type_name(values);
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    app.exit(e, out, err);
    return ConfigOutcome::kExitOk;
  } catch (const CLI::CallForVersion& e) {
    app.exit(e, out, err);
    return ConfigOutcome::kExitOk;
  } catch (const CLI::ParseError& e) {
    app.exit(e, out, err);
    return ConfigOutcome::kExitError;
  }
  if (print_example || print_markdown) {
    out << (print_example ? ConfigExample() : SettingsMarkdown());
    return ConfigOutcome::kExitOk;
  }

  *config = Config{};
  if (!check_path.empty()) {
    config_path = check_path;
    config->check_only = true;
  }
  std::string file = config_path;
  if (file.empty() && std::filesystem::exists(kDefaultConfigPath)) file = kDefaultConfigPath;
  if (!file.empty()) {
    if (!std::filesystem::exists(file)) {
      err << "tallyd: config file " << file << " does not exist\n";
      return ConfigOutcome::kExitError;
    }
    std::vector<std::string> errors;
    if (!ReadConfigFile(file, config, &errors)) {
      for (const std::string& e : errors) err << "tallyd: bad config: " << e << "\n";
      return ConfigOutcome::kExitError;
    }
    config->config_file = file;
  }
  for (const Setting& s : Settings()) {
    if (app.count(s.flag()) == 0) continue;
    s.CopyValue(flags, config);
    config->set_by_flags.insert(std::string(s.key));
  }
  // The merged values, whichever source each came from, checked the same way.
  bool valid = true;
  for (const Setting& s : Settings()) {
    std::string error = CheckSetting(s, *config);
    if (error.empty()) continue;
    const bool by_flag = config->set_by_flags.count(std::string(s.key)) > 0;
    const std::string source = by_flag ? "given as " + s.flag() : file.empty() ? "the default" : "in " + file;
    err << "tallyd: bad setting: " << error << " (" << source << ")\n";
    valid = false;
  }
  if (!valid) return ConfigOutcome::kExitError;
  for (const std::string& error : CheckSettingPairs(*config)) {
    err << "tallyd: bad setting: " << error << "\n";
    valid = false;
  }
  for (const std::string& error : CheckListenAddresses(*config)) {
    err << "tallyd: bad setting: " << error << "\n";
    valid = false;
  }
  if (!valid) return ConfigOutcome::kExitError;
  Resolve(config);
  return ConfigOutcome::kRun;
}

bool ReloadConfigFile(Config* config, ReloadResult* result, std::string* error) {
  if (config->config_file.empty()) return true;
  Config fresh;
  std::vector<std::string> errors;
  if (ReadConfigFile(config->config_file, &fresh, &errors)) {
    // A flag given at start-up outranks the file, on reload too.
    for (const Setting& s : Settings()) {
      if (config->set_by_flags.count(std::string(s.key)) > 0) s.CopyValue(*config, &fresh);
    }
    errors = ValidateConfig(fresh);
  }
  if (!errors.empty()) {
    error->clear();
    for (const std::string& e : errors) *error += (error->empty() ? "" : "; ") + e;
    return false;
  }
  // A unix_socket given as a flag was copied resolved already.
  if (config->set_by_flags.count("unix_socket") == 0) Resolve(&fresh);
  for (const Setting& s : Settings()) {
    if (s.SameValue(*config, fresh)) continue;
    if (s.reloadable) {
      s.CopyValue(fresh, config);
      result->applied.emplace_back(s.key);
    } else {
      result->needs_restart.emplace_back(s.key);
    }
  }
  // Plans have no flags: the file's are the plans, on reload too.
  config->plans = std::move(fresh.plans);
  config->prices = std::move(fresh.prices);
  return true;
}

}  // namespace tally
