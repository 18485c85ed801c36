// The subcommands of `tally`. Each defines its arguments, sends tallyd's own
// commands (nothing here needs a server command of its own) and prints the
// reply as text for people or, with --json, as stable JSON for scripts.

#include "commands.h"

#include <errno.h>
#include <signal.h>

#include <algorithm>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "format.h"

namespace tally::cli {
namespace {

using Json = nlohmann::ordered_json;

// ---------------------------------------------------------------------------
// Reading replies

std::optional<int64_t> AsInteger(const Reply& reply) {
  if (reply.type == Reply::Type::kInteger) return reply.integer;
  return std::nullopt;
}

// The value of `name` in a map reply (RESP3 map or RESP2 flat pairs), or null.
const Reply* Field(const Reply& map, std::string_view name) {
  if (!map.is_list()) return nullptr;
  for (size_t i = 0; i + 1 < map.elements.size(); i += 2) {
    if (map.elements[i].is_string() && map.elements[i].text == name) return &map.elements[i + 1];
  }
  return nullptr;
}

// A map reply's fields in order, as JSON.
Json MapToJson(const Reply& map) {
  Json object = Json::object();
  for (size_t i = 0; i + 1 < map.elements.size(); i += 2) {
    object[ReplyToText(map.elements[i])] = ReplyToJson(map.elements[i + 1]);
  }
  return object;
}

// A count for people ("1,234"), "-" for nil.
std::string CountOrDash(const Reply* value, std::string_view nil_text = "-") {
  if (value == nullptr || value->is_null()) return std::string(nil_text);
  if (value->type == Reply::Type::kInteger) return FormatCount(value->integer);
  return ReplyToText(*value);
}

void PrintJson(const Json& value) { std::cout << value.dump() << "\n"; }

// ---------------------------------------------------------------------------
// Ctrl-C for the commands that follow a feed: stop after the current step
// and exit 0, instead of dying half-way through a line.

volatile std::sig_atomic_t g_stop_requested = 0;

void RequestStop(int) { g_stop_requested = 1; }

void InstallStopHandler() {
  struct sigaction action {};
  action.sa_handler = RequestStop;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a blocking read returns EINTR and sees the request
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// Sleeps `ms`, or less if a stop is requested.
void SleepUnlessStopped(int64_t ms) {
  timespec left{static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1'000'000};
  while (g_stop_requested == 0 && nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
}

// ---------------------------------------------------------------------------
// Options shared by several subcommands

void AddOwner(CLI::App& command, std::string* owner) {
  command.add_option("owner", *owner, "the owner, e.g. user:42")->required();
}
void AddKey(CLI::App& command, std::string* key) {
  command.add_option("key", *key, "the counter's key, e.g. downloads")->required();
}
CLI::Option* AddInterval(CLI::App& command, std::string* interval, std::string_view default_text) {
  return command.add_option(
      "--interval", *interval,
      "total, hour, day, week, month, quarter or year (default: " + std::string(default_text) + ")");
}

// ---------------------------------------------------------------------------
// get OWNER KEY [--interval I [--period P]]  ->  CTR.GET

struct GetArgs {
  std::string owner, key, interval = "total", period;
};

RunFunction DefineGet(CLI::App& command) {
  auto args = std::make_shared<GetArgs>();
  AddOwner(command, &args->owner);
  AddKey(command, &args->key);
  CLI::Option* interval = AddInterval(command, &args->interval, "total");
  command.add_option("--period", args->period, "a period of the interval, e.g. 2026-12-06 (default: the current one)")
      ->needs(interval);
  return [args](Session& session) {
    std::vector<std::string> request{"CTR.GET", args->owner, args->key, args->interval};
    if (!args->period.empty()) request.push_back(args->period);
    std::optional<Reply> reply = session.Call(request);
    if (!reply) return session.failure();
    const std::optional<int64_t> value = AsInteger(*reply);
    if (!value) return Session::Unexpected("CTR.GET", *reply);
    if (session.json()) {
      const std::string period = !args->period.empty() ? args->period : args->interval == "total" ? "total" : "current";
      PrintJson({{"owner", args->owner},
                 {"key", args->key},
                 {"interval", args->interval},
                 {"period", period},
                 {"value", *value}});
    } else {
      std::cout << FormatCount(*value) << "\n";
    }
    return int{kExitOk};
  };
}

// ---------------------------------------------------------------------------
// incr OWNER KEY [N] [--id ID] [--at MS]  ->  CTR.INCRBY

struct IncrArgs {
  std::string owner, key, id;
  int64_t delta = 1;
  int64_t at_ms = 0;
};

RunFunction DefineIncr(CLI::App& command) {
  auto args = std::make_shared<IncrArgs>();
  AddOwner(command, &args->owner);
  AddKey(command, &args->key);
  command.add_option("n", args->delta, "the amount to add (default 1; negative subtracts)");
  command.add_option("--id", args->id, "an event id: a retry with the same id is not counted again");
  command.add_option("--at", args->at_ms, "the event time in unix milliseconds (default: now)");
  return [args](Session& session) {
    std::vector<std::string> request{"CTR.INCRBY", args->owner, args->key, std::to_string(args->delta)};
    if (args->at_ms != 0) request.insert(request.end(), {"AT", std::to_string(args->at_ms)});
    if (!args->id.empty()) request.insert(request.end(), {"ID", args->id});
    std::optional<Reply> reply = session.Call(request);
    if (!reply) return session.failure();
    const std::optional<int64_t> total = AsInteger(*reply);
    if (!total) return Session::Unexpected("CTR.INCRBY", *reply);
    if (session.json()) {
      PrintJson({{"owner", args->owner}, {"key", args->key}, {"delta", args->delta}, {"total", *total}});
    } else {
      std::cout << FormatCount(*total) << "\n";
    }
    return int{kExitOk};
  };
}

// ---------------------------------------------------------------------------
// all OWNER [--interval I [--period P]]  ->  CTR.ALL

RunFunction DefineAll(CLI::App& command) {
  auto args = std::make_shared<GetArgs>();
  AddOwner(command, &args->owner);
  CLI::Option* interval = AddInterval(command, &args->interval, "total");
  command.add_option("--period", args->period, "a period of the interval (default: the current one)")->needs(interval);
  return [args](Session& session) {
    std::vector<std::string> request{"CTR.ALL", args->owner, args->interval};
    if (!args->period.empty()) request.push_back(args->period);
    std::optional<Reply> reply = session.Call(request);
    if (!reply) return session.failure();
    if (!reply->is_list() || reply->elements.size() % 2 != 0) return Session::Unexpected("CTR.ALL", *reply);
    Json counters = Json::object();
    TextTable table({"KEY", "VALUE"}, {false, true});
    for (size_t i = 0; i + 1 < reply->elements.size(); i += 2) {
      const Reply& key = reply->elements[i];
      const std::optional<int64_t> value = AsInteger(reply->elements[i + 1]);
      if (!key.is_string() || !value) return Session::Unexpected("CTR.ALL", *reply);
      counters[key.text] = *value;
      table.AddRow({key.text, FormatCount(*value)});
    }
    if (session.json()) {
      const std::string period = !args->period.empty() ? args->period : args->interval == "total" ? "total" : "current";
      PrintJson({{"owner", args->owner}, {"interval", args->interval}, {"period", period}, {"counters", counters}});
    } else if (table.empty()) {
      std::cout << "no counters for " << args->owner << "\n";
    } else {
      table.Print(std::cout);
    }
    return int{kExitOk};
  };
}

// ---------------------------------------------------------------------------
// history OWNER KEY [--interval I] [--count N] [--from P] [--sparkline]  ->  CTR.HISTORY ... WITHSTART

struct HistoryArgs {
  std::string owner, key, interval = "day", from;
  int64_t count = 14;
  bool sparkline = false;
};

RunFunction DefineHistory(CLI::App& command) {
  auto args = std::make_shared<HistoryArgs>();
  AddOwner(command, &args->owner);
  AddKey(command, &args->key);
  AddInterval(command, &args->interval, "day");
  command.add_option("--count", args->count, "how many periods, the last one included (default 14)")
      ->check(CLI::Range(int64_t{1}, int64_t{10000}));
  command.add_option("--from", args->from, "the newest period to show (default: the current one)");
  command.add_flag("--sparkline", args->sparkline, "one line of bars (oldest to newest) instead of a chart");
  return [args](Session& session) {
    std::vector<std::string> request{"CTR.HISTORY", args->owner, args->key, args->interval,
                                     std::to_string(args->count)};
    if (!args->from.empty()) request.insert(request.end(), {"FROM", args->from});
    request.push_back("WITHSTART");
    std::optional<Reply> reply = session.Call(request);
    if (!reply) return session.failure();
    if (!reply->is_array()) return Session::Unexpected("CTR.HISTORY", *reply);
    struct Period {
      std::string label;
      int64_t value;
      int64_t start_ms;
    };
    std::vector<Period> periods;  // oldest first (the reply is newest first)
    for (auto it = reply->elements.rbegin(); it != reply->elements.rend(); ++it) {
      if (!it->is_array() || it->elements.size() < 3 || !it->elements[0].is_string() || !AsInteger(it->elements[1]) ||
          !AsInteger(it->elements[2])) {
        return Session::Unexpected("CTR.HISTORY", *reply);
      }
      periods.push_back({it->elements[0].text, it->elements[1].integer, it->elements[2].integer});
    }
    if (session.json()) {
      Json rows = Json::array();
      for (const Period& p : periods)
        rows.push_back({{"period", p.label}, {"start_ms", p.start_ms}, {"value", p.value}});
      PrintJson({{"owner", args->owner}, {"key", args->key}, {"interval", args->interval}, {"periods", rows}});
      return int{kExitOk};
    }
    int64_t max = 0, sum = 0;
    std::vector<int64_t> values;
    for (const Period& p : periods) {
      max = std::max(max, p.value);
      sum += p.value;
      values.push_back(p.value);
    }
    if (args->sparkline) {
      std::cout << Sparkline(values) << "  " << (periods.empty() ? "" : periods.front().label + " .. ")
                << (periods.empty() ? "" : periods.back().label) << "  max " << FormatCount(max) << ", sum "
                << FormatCount(sum) << "\n";
      return int{kExitOk};
    }
    TextTable table({"PERIOD", "VALUE", ""}, {false, true, false});
    for (const Period& p : periods) table.AddRow({p.label, FormatCount(p.value), Bar(p.value, max, 40)});
    table.Print(std::cout);
    return int{kExitOk};
  };
}

// ---------------------------------------------------------------------------
// top KEY [--interval I] [--period P | --from P --to P] [--limit N] [--offset N] [--prefix P]  ->  CTR.TOP

struct TopArgs {
  std::string key, interval = "total", period, from, to, prefix;
  int64_t limit = 10;
  int64_t offset = 0;
};

RunFunction DefineTop(CLI::App& command) {
  auto args = std::make_shared<TopArgs>();
  AddKey(command, &args->key);
  CLI::Option* interval = AddInterval(command, &args->interval, "total");
  CLI::Option* period =
      command.add_option("--period", args->period, "rank by this period (default: the current one)")->needs(interval);
  CLI::Option* from = command.add_option("--from", args->from, "rank by the sum of the periods from this one...")
                          ->needs(interval)
                          ->excludes(period);
  CLI::Option* to = command.add_option("--to", args->to, "...to this one")->needs(from)->excludes(period);
  from->needs(to);
  command.add_option("--limit", args->limit, "how many owners (default 10)")
      ->check(CLI::Range(int64_t{1}, int64_t{10000}));
  command.add_option("--offset", args->offset, "skip this many first (pages)")->check(CLI::NonNegativeNumber);
  command.add_option("--prefix", args->prefix, "only owners whose name starts with this, e.g. team:");
  return [args](Session& session) {
    std::vector<std::string> request{"CTR.TOP", args->key, args->interval};
    if (!args->period.empty()) request.push_back(args->period);
    if (!args->from.empty()) request.insert(request.end(), {"FROM", args->from, "TO", args->to});
    if (args->offset > 0) request.insert(request.end(), {"OFFSET", std::to_string(args->offset)});
    request.insert(request.end(), {"LIMIT", std::to_string(args->limit)});
    if (!args->prefix.empty()) request.insert(request.end(), {"PREFIX", args->prefix});
    std::optional<Reply> reply = session.Call(request);
    if (!reply) return session.failure();
    if (!reply->is_array()) return Session::Unexpected("CTR.TOP", *reply);
    Json owners = Json::array();
    TextTable table({"RANK", "OWNER", "VALUE"}, {true, false, true});
    int64_t rank = args->offset;
    for (const Reply& row : reply->elements) {
      if (!row.is_array() || row.elements.size() != 2 || !row.elements[0].is_string() || !AsInteger(row.elements[1])) {
        return Session::Unexpected("CTR.TOP", *reply);
      }
      ++rank;
      owners.push_back({{"rank", rank}, {"owner", row.elements[0].text}, {"value", row.elements[1].integer}});
      table.AddRow({std::to_string(rank), row.elements[0].text, FormatCount(row.elements[1].integer)});
    }
    if (session.json()) {
      Json out{{"key", args->key}, {"interval", args->interval}};
      if (!args->from.empty()) {
        out["from"] = args->from;
        out["to"] = args->to;
      } else {
        out["period"] = !args->period.empty() ? args->period : args->interval == "total" ? "total" : "current";
      }
      out["owners"] = owners;
      PrintJson(out);
    } else if (table.empty()) {
      std::cout << "no owner has " << args->key << " in that period\n";
    } else {
      table.Print(std::cout);
    }
    return int{kExitOk};
  };
}

// ---------------------------------------------------------------------------
// stats [--all]  ->  INFO

struct StatsArgs {
  bool all = false;
};

// INFO's text as section -> field -> value, in its order.
Json ParseInfo(const std::string& text) {
  Json sections = Json::object();
  std::string section = "server";
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line[0] == '#') {
      section = line.substr(line.find_first_not_of("# "));
      std::transform(section.begin(), section.end(), section.begin(), [](unsigned char c) { return std::tolower(c); });
      if (!sections.contains(section)) sections[section] = Json::object();
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string field = line.substr(0, colon), value = line.substr(colon + 1);
    char* end_of_number = nullptr;
    errno = 0;
    const long long number = std::strtoll(value.c_str(), &end_of_number, 10);
    if (!value.empty() && errno == 0 && *end_of_number == '\0') {
      sections[section][field] = static_cast<int64_t>(number);
    } else {
      sections[section][field] = value;
    }
  }
  return sections;
}

RunFunction DefineStats(CLI::App& command) {
  auto args = std::make_shared<StatsArgs>();
  command.add_flag("--all", args->all, "every INFO field, by section, not only the key figures");
  return [args](Session& session) {
    std::optional<Reply> reply = session.Call({"INFO"});
    if (!reply) return session.failure();
    if (!reply->is_string()) return Session::Unexpected("INFO", *reply);
    const Json info = ParseInfo(reply->text);
    if (session.json()) {
      PrintJson(info);
      return int{kExitOk};
    }
    auto field = [&](const char* section, const char* name) -> const Json* {
      if (!info.contains(section) || !info[section].contains(name)) return nullptr;
      return &info[section][name];
    };
    auto text = [](const Json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); };
    if (args->all) {
      TextTable table({"SECTION", "FIELD", "VALUE"});
      for (const auto& [section, fields] : info.items()) {
        for (const auto& [name, value] : fields.items()) table.AddRow({section, name, text(value)});
      }
      table.Print(std::cout);
      return int{kExitOk};
    }
    enum class Shown { kText, kCount, kBytes, kSeconds, kMicros };
    struct Figure {
      const char* label;
      const char* section;
      const char* name;
      Shown shown;
    };
    static const Figure kFigures[] = {
        {"version", "server", "tally_version", Shown::kText},
        {"uptime", "server", "uptime_in_seconds", Shown::kSeconds},
        {"time zone", "server", "timezone", Shown::kText},
        {"durability", "persistence", "durability", Shown::kText},
        {"clients", "clients", "connected_clients", Shown::kCount},
        {"subscribers", "clients", "pubsub_clients", Shown::kCount},
        {"max clients", "clients", "maxclients", Shown::kCount},
        {"memory used", "memory", "used_memory", Shown::kBytes},
        {"memory RSS", "memory", "used_memory_rss", Shown::kBytes},
        {"memory limit", "memory", "maxmemory", Shown::kBytes},
        {"log", "persistence", "log_status", Shown::kText},
        {"writes", "persistence", "write_state", Shown::kText},
        {"log entries written", "persistence", "log_entries_written", Shown::kCount},
        {"log entries to compact", "persistence", "log_entries_uncompacted", Shown::kCount},
        {"compactions", "persistence", "compaction_runs", Shown::kCount},
        {"compaction failures", "persistence", "compaction_failures", Shown::kCount},
        {"last compaction", "persistence", "compaction_last_duration_us", Shown::kMicros},
        {"commands processed", "stats", "total_commands_processed", Shown::kCount},
        {"error replies", "stats", "total_error_replies", Shown::kCount},
        {"connections received", "stats", "total_connections_received", Shown::kCount},
        {"connections rejected", "stats", "rejected_connections", Shown::kCount},
    };
    TextTable table({"FIGURE", "VALUE"});
    for (const Figure& figure : kFigures) {
      const Json* value = field(figure.section, figure.name);
      if (value == nullptr) continue;
      std::string shown = text(*value);
      if (value->is_number_integer()) {
        const int64_t number = value->get<int64_t>();
        switch (figure.shown) {
          case Shown::kCount:
            shown = FormatCount(number);
            break;
          case Shown::kBytes:
            shown = FormatBytes(number);
            break;
          case Shown::kSeconds:
            shown = FormatDuration(number);
            break;
          case Shown::kMicros:
            shown = FormatCount(number) + " µs";
            break;
          case Shown::kText:
            break;
        }
      }
      table.AddRow({figure.label, shown});
    }
    if (info.contains("keyspace")) {
      for (const auto& [db, value] : info["keyspace"].items()) table.AddRow({"plain keys (" + db + ")", text(value)});
    }
    table.Print(std::cout);
    return int{kExitOk};
  };
}

// ---------------------------------------------------------------------------
// tail changes [--since SEQ] [--count N] [--poll-ms MS]  ->  CHANGES.INFO, CHANGES.READ in a loop

struct TailArgs {
  std::optional<int64_t> since;
  int64_t count = 0;  // 0: until Ctrl-C
  int64_t poll_ms = 1000;
};

RunFunction DefineTailChanges(CLI::App& command) {
  auto args = std::make_shared<TailArgs>();
  command.add_option("--since", args->since, "print the changes after this seq (default: only new ones)")
      ->check(CLI::NonNegativeNumber);
  command.add_option("--count", args->count, "exit after this many changes (default: run until Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  command.add_option("--poll-ms", args->poll_ms, "when nothing is new, ask again after this long (default 1000)")
      ->check(CLI::Range(int64_t{10}, int64_t{60000}));
  return [args](Session& session) {
    InstallStopHandler();
    int64_t since = 0;
    if (args->since) {
      since = *args->since;
    } else {
      std::optional<Reply> info = session.Call({"CHANGES.INFO"});
      if (!info) return session.failure();
      const Reply* newest = Field(*info, "newest");
      if (newest == nullptr || !AsInteger(*newest)) return Session::Unexpected("CHANGES.INFO", *info);
      since = newest->integer;
    }
    std::cerr << "tally: following changes after seq " << since << " (Ctrl-C to stop)" << std::endl;
    int64_t printed = 0;
    while (g_stop_requested == 0) {
      const int64_t page = args->count > 0 ? std::min<int64_t>(1000, args->count - printed) : 1000;
      std::optional<Reply> reply = session.Call({"CHANGES.READ", std::to_string(since), "COUNT", std::to_string(page)});
      if (!reply) return g_stop_requested != 0 ? int{kExitOk} : session.failure();
      if (!reply->is_array() || reply->elements.size() != 2 || !AsInteger(reply->elements[0]) ||
          !reply->elements[1].is_array()) {
        return Session::Unexpected("CHANGES.READ", *reply);
      }
      for (const Reply& row : reply->elements[1].elements) {
        if (!row.is_array() || row.elements.size() != 6 || !AsInteger(row.elements[0])) {
          return Session::Unexpected("CHANGES.READ", *reply);
        }
        const int64_t seq = row.elements[0].integer;
        const std::string &owner = row.elements[1].text, &key = row.elements[2].text, &interval = row.elements[3].text,
                          &period = row.elements[4].text;
        const Reply& value = row.elements[5];
        if (session.json()) {
          PrintJson({{"seq", seq},
                     {"owner", owner},
                     {"key", key},
                     {"interval", interval},
                     {"period", period},
                     {"value", ReplyToJson(value)},
                     {"deleted", value.is_null()}});
        } else {
          std::cout << "#" << seq << "  " << owner << " " << key << " " << interval << " " << period << " "
                    << (value.is_null() ? "deleted" : "= " + CountOrDash(&value)) << "\n";
        }
        std::cout.flush();
        if (args->count > 0 && ++printed >= args->count) return int{kExitOk};
      }
      since = reply->elements[0].integer;
      if (reply->elements[1].elements.empty()) SleepUnlessStopped(args->poll_ms);
    }
    return int{kExitOk};
  };
}

// ---------------------------------------------------------------------------
// tail alerts [--count N]  ->  SUBSCRIBE alerts

struct TailAlertsArgs {
  int64_t count = 0;
};

// "threshold 80%: user:42 api_calls 800 of 1,000 (month)", and the like.
std::string DescribeAlert(const Json& alert) {
  auto text = [&](const char* name) -> std::string {
    if (!alert.contains(name)) return "?";
    const Json& v = alert[name];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return FormatCount(v.get<int64_t>());
    return v.dump();
  };
  const std::string kind = text("kind");
  std::string out;
  if (alert.contains("time_ms") && alert["time_ms"].is_number_integer()) {
    out += FormatTimeMs(alert["time_ms"].get<int64_t>()) + "  ";
  }
  out += "#" + text("seq") + "  " + kind;
  if (kind == "threshold") out += " " + text("threshold") + "%";
  out += ": " + text("owner") + " " + text("feature");
  if (kind == "hold_expired") {
    out += " hold " + text("reservation") + " expired";
  } else {
    out += " used " + text("used") + " of " +
           (alert.contains("limit") && alert["limit"].is_null() ? "unlimited" : text("limit"));
    if (alert.contains("period")) out += " (" + text("period") + ")";
    if (alert.contains("credits")) out += ", credits " + text("credits");
  }
  return out;
}

RunFunction DefineTailAlerts(CLI::App& command) {
  auto args = std::make_shared<TailAlertsArgs>();
  command.add_option("--count", args->count, "exit after this many alerts (default: run until Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  return [args](Session& session) {
    InstallStopHandler();
    std::optional<Reply> confirmation = session.Call({"SUBSCRIBE", "alerts"});
    if (!confirmation) return session.failure();
    if (!confirmation->is_array() || confirmation->elements.empty() || confirmation->elements[0].text != "subscribe") {
      return Session::Unexpected("SUBSCRIBE", *confirmation);
    }
    std::cerr << "tally: listening for alerts (Ctrl-C to stop; EVENTS.READ has the earlier ones)" << std::endl;
    int64_t printed = 0;
    while (g_stop_requested == 0) {
      ClientResult<Reply> message = session.connection().ReadReply(&g_stop_requested);
      if (!message.ok()) {
        if (g_stop_requested != 0) break;
        return Session::Fail(kExitUnreachable, message.error().message);
      }
      if (message->is_error()) return Session::FailWith(*message);
      // ["message", "alerts", json]; anything else (a pong) is not an alert.
      if (!message->is_array() || message->elements.size() != 3 || message->elements[0].text != "message") continue;
      const std::string& text = message->elements[2].text;
      if (session.json()) {
        std::cout << text << "\n";
      } else {
        const Json alert = Json::parse(text, nullptr, /*allow_exceptions=*/false);
        std::cout << (alert.is_discarded() ? text : DescribeAlert(alert)) << "\n";
      }
      std::cout.flush();
      if (args->count > 0 && ++printed >= args->count) break;
    }
    return int{kExitOk};
  };
}

// ---------------------------------------------------------------------------
// usage OWNER [FEATURE]  ->  QUOTA.USAGE

struct UsageArgs {
  std::string owner, feature;
};

RunFunction DefineUsage(CLI::App& command) {
  auto args = std::make_shared<UsageArgs>();
  AddOwner(command, &args->owner);
  command.add_option("feature", args->feature, "only this feature (default: every feature of the owner's plan)");
  return [args](Session& session) {
    std::vector<std::string> request{"QUOTA.USAGE", args->owner};
    if (!args->feature.empty()) request.push_back(args->feature);
    std::optional<Reply> reply = session.Call(request);
    if (!reply) return session.failure();
    if (!reply->is_array()) return Session::Unexpected("QUOTA.USAGE", *reply);
    Json features = Json::array();
    TextTable table({"FEATURE", "USED", "LIMIT", "REMAINING", "CREDITS", "HELD", "OVERAGE", "PERIOD", "RESETS"},
                    {false, true, true, true, true, true, true, false, false});
    for (const Reply& usage : reply->elements) {
      const Reply* feature = Field(usage, "feature");
      if (feature == nullptr) return Session::Unexpected("QUOTA.USAGE", *reply);
      features.push_back(MapToJson(usage));
      const Reply* resets = Field(usage, "resets_at");
      table.AddRow({feature->text, CountOrDash(Field(usage, "used")), CountOrDash(Field(usage, "limit"), "unlimited"),
                    CountOrDash(Field(usage, "remaining"), "unlimited"), CountOrDash(Field(usage, "credits")),
                    CountOrDash(Field(usage, "held")), CountOrDash(Field(usage, "overage")),
                    CountOrDash(Field(usage, "period")),
                    resets == nullptr || resets->is_null() ? "never" : FormatTimeMs(resets->integer)});
    }
    if (session.json()) {
      PrintJson({{"owner", args->owner}, {"features", features}});
    } else if (table.empty()) {
      std::cout << args->owner << " has no limited features\n";
    } else {
      table.Print(std::cout);
    }
    return int{kExitOk};
  };
}

// ---------------------------------------------------------------------------
// grant OWNER FEATURE AMOUNT [--in D | --expires MS] [--priority P] [--reason R] [--id ID] [--by ACTOR]
//   ->  CREDIT.GRANT

struct GrantArgs {
  std::string owner, feature, in, reason, id, by;
  int64_t amount = 0;
  int64_t expires_ms = 0;
  std::optional<int64_t> priority;
};

RunFunction DefineGrant(CLI::App& command) {
  auto args = std::make_shared<GrantArgs>();
  AddOwner(command, &args->owner);
  command.add_option("feature", args->feature, "the feature the credits are for, e.g. api_calls")->required();
  command.add_option("amount", args->amount, "how many units")->required()->check(CLI::PositiveNumber);
  CLI::Option* in =
      command.add_option("--in", args->in, "expire after this long: 30d, 12h, 2w, 1mo, 1y (default: never)");
  command.add_option("--expires", args->expires_ms, "expire at this time, unix milliseconds")->excludes(in);
  command.add_option("--priority", args->priority,
                     "drawn after lower priorities (default 0, like the plan's allowance)");
  command.add_option("--reason", args->reason, "why, for the ledger (e.g. \"top-up pack\")");
  command.add_option("--id", args->id, "the grant's id (default: tallyd names it g1, g2, ...); a retry grants once");
  command.add_option("--by", args->by, "who grants, for the audit trail (default: the connection's address)");
  return [args](Session& session) {
    std::vector<std::string> request{"CREDIT.GRANT", args->owner, args->feature, std::to_string(args->amount)};
    if (!args->in.empty()) request.insert(request.end(), {"IN", args->in});
    if (args->expires_ms != 0) request.insert(request.end(), {"EXPIRES", std::to_string(args->expires_ms)});
    if (args->priority) request.insert(request.end(), {"PRIORITY", std::to_string(*args->priority)});
    if (!args->reason.empty()) request.insert(request.end(), {"REASON", args->reason});
    if (!args->by.empty()) request.insert(request.end(), {"BY", args->by});
    if (!args->id.empty()) request.insert(request.end(), {"ID", args->id});
    std::optional<Reply> reply = session.Call(request);
    if (!reply) return session.failure();
    if (!reply->is_string()) return Session::Unexpected("CREDIT.GRANT", *reply);
    if (session.json()) {
      PrintJson({{"owner", args->owner}, {"feature", args->feature}, {"amount", args->amount}, {"grant", reply->text}});
    } else {
      std::cout << "granted " << FormatCount(args->amount) << " " << args->feature << " to " << args->owner
                << ": grant " << reply->text << "\n";
    }
    return int{kExitOk};
  };
}

// ---------------------------------------------------------------------------
// plans  ->  PLAN.LIST, then PLAN.GET of each

RunFunction DefinePlans(CLI::App&) {
  return [](Session& session) {
    std::optional<Reply> names = session.Call({"PLAN.LIST"});
    if (!names) return session.failure();
    if (!names->is_array()) return Session::Unexpected("PLAN.LIST", *names);
    Json plans = Json::array();
    TextTable table({"PLAN", "FEATURE", "LIMIT", "PERIOD", "OVERAGE", "ALERTS"}, {false, false, true});
    for (const Reply& name : names->elements) {
      std::optional<Reply> plan_text = session.Call({"PLAN.GET", name.text});
      if (!plan_text) return session.failure();
      if (plan_text->is_null()) continue;  // deleted in between
      const Json plan = Json::parse(plan_text->text, nullptr, /*allow_exceptions=*/false);
      if (plan.is_discarded() || !plan.is_object()) return Session::Unexpected("PLAN.GET", *plan_text);
      plans.push_back(plan);
      const Json features = plan.value("features", Json::object());
      if (features.empty()) table.AddRow({name.text, "-"});
      for (const auto& [feature, spec] : features.items()) {
        const Json limit = spec.value("limit", Json());
        std::string alerts;
        for (const Json& percent : spec.value("alerts", Json::array())) {
          alerts += (alerts.empty() ? "" : ",") + percent.dump() + "%";
        }
        table.AddRow({name.text, feature, limit.is_number_integer() ? FormatCount(limit.get<int64_t>()) : "unlimited",
                      spec.value("period", "-"), spec.value("overage", "-"), alerts});
      }
    }
    if (session.json()) {
      PrintJson({{"plans", plans}});
    } else if (plans.empty()) {
      std::cout << "no plans (PLAN.SET, or [plans] in tally.toml, defines them)\n";
    } else {
      table.Print(std::cout);
    }
    return int{kExitOk};
  };
}

}  // namespace

// ---------------------------------------------------------------------------
// Session

std::optional<Reply> Session::Call(const std::vector<std::string>& args) {
  ClientResult<Reply> reply = connection_.Call(args);
  if (!reply.ok()) {
    failure_ = Fail(kExitUnreachable, reply.error().message);
    return std::nullopt;
  }
  if (reply->is_error()) {
    failure_ = FailWith(*reply);
    return std::nullopt;
  }
  return std::move(reply.value());
}

int Session::Fail(int code, std::string_view message) {
  std::cerr << program_ << ": " << message << std::endl;
  return code;
}

int Session::FailWith(const Reply& error) {
  const std::string_view prefix = error.error_prefix();
  if (prefix == "NOAUTH" || prefix == "WRONGPASS") {
    std::string hint;
    if (prefix == "NOAUTH") hint = " (give --password, or set TALLY_PASSWORD)";
    return Fail(kExitUnreachable, "authentication failed: " + error.text + hint);
  }
  return Fail(kExitRefused, error.text);
}

int Session::Unexpected(std::string_view command, const Reply& reply) {
  std::string text = ReplyToText(reply);
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  return Fail(kExitRefused,
              "unexpected reply to " + std::string(command) + " (is tallyd a different version?): " + text);
}

// ---------------------------------------------------------------------------
// The table

const std::vector<SubcommandSpec>& Subcommands() {
  static const std::vector<SubcommandSpec> kSubcommands = {
      {"get", "Print one counter's value: the total, or one period of an interval (CTR.GET)", DefineGet},
      {"incr", "Add to a counter (default 1) and print its new total (CTR.INCRBY)", DefineIncr},
      {"all", "List every counter of an owner with its value (CTR.ALL)", DefineAll},
      {"history", "Chart a counter over its last periods, one bar per period (CTR.HISTORY)", DefineHistory},
      {"top", "Rank the owners of a counter, highest first (CTR.TOP)", DefineTop},
      {"stats", "Show the daemon's key figures: version, uptime, clients, memory, log, commands (INFO)", DefineStats},
      {"usage", "Show an owner's quota usage: used, limit, remaining, credits per feature (QUOTA.USAGE)", DefineUsage},
      {"grant", "Grant an owner credits for a feature (CREDIT.GRANT)", DefineGrant},
      {"plans", "List the plans and their features' limits (PLAN.LIST, PLAN.GET)", DefinePlans},
      {"tail", "Follow a feed, printing each record as it comes, until Ctrl-C", nullptr},
      {"tail changes", "Follow the changefeed: every counter cell that changes (CHANGES.READ)", DefineTailChanges},
      {"tail alerts", "Follow the quota alerts as they fire (SUBSCRIBE alerts)", DefineTailAlerts},
  };
  return kSubcommands;
}

}  // namespace tally::cli
