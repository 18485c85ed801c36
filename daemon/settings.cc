#include "settings.h"

#include <algorithm>
#include <span>

namespace tally {

namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kDayMs = kDay * 1000;
// 10^15, the quota module's own ceiling and default (core::QuotaOptions):
// the usage and credit sums the module adds amounts to are int64 without
// overflow checks, so the setting may lower the ceiling, never raise it.
constexpr int64_t kMaxQuotaAmount = 1'000'000'000'000'000;
constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::max();

// Wraps `text` to lines of at most `width` characters after `prefix`; '\n'
// in `text` forces a break. Words longer than a line stay whole.
std::string Wrap(std::string_view text, std::string_view prefix, size_t width) {
  std::string out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    std::string current;
    size_t pos = 0;
    while (pos < line.size()) {
      size_t space = line.find(' ', pos);
      if (space == std::string_view::npos) space = line.size();
      std::string_view word = line.substr(pos, space - pos);
      pos = space + 1;
      if (word.empty()) continue;
      if (!current.empty() && current.size() + 1 + word.size() > width) {
        out.append(prefix).append(current).append("\n");
        current.clear();
      }
      if (!current.empty()) current += ' ';
      current.append(word);
    }
    out.append(prefix).append(current);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
    start = end + 1;
  }
  return out;
}

std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// A figure in a larger unit when it is a whole number of it: 67108864 bytes
// -> "64 MiB", 604800 s -> "7 days", 5000 ms -> "5 s". Empty if none fits.
std::string InLargerUnit(int64_t value, std::string_view unit) {
  struct Unit {
    int64_t size;
    const char* name;
  };
  static constexpr Unit kBytes[] = {{int64_t{1} << 30, " GiB"}, {int64_t{1} << 20, " MiB"}, {int64_t{1} << 10, " KiB"}};
  static constexpr Unit kSeconds[] = {{86400, " days"}, {3600, " hours"}, {60, " minutes"}};
  static constexpr Unit kMillis[] = {{86'400'000, " days"}, {3'600'000, " hours"}, {60'000, " minutes"}, {1000, " s"}};
  std::span<const Unit> units;
  if (unit == "bytes") units = kBytes;
  if (unit == "s") units = kSeconds;
  if (unit == "ms") units = kMillis;
  for (const Unit& u : units) {
    if (value >= u.size && value % u.size == 0) {
      std::string out = std::to_string(value / u.size) + u.name;
      if (value == u.size && out.back() == 's' && u.name[1] != 's') out.pop_back();  // "1 day", not "1 days"
      return out;
    }
  }
  return "";
}

// `text` ending with a full stop.
std::string Sentence(std::string_view text) {
  std::string out(text);
  if (!out.empty() && out.back() != '.') out += '.';
  return out;
}

std::string MarkdownCell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|' || c == '<') out += '\\';  // not a column, not an HTML tag
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

// Plans are tables of the config file, not settings: the rule for them, in
// the example file and in README.md's settings section.
constexpr std::string_view kPlansRule =
    "Plans (docs/quotas.md) can be written in the config file as well as set with PLAN.SET: each "
    "`[plans.<plan>.features.<feature>]` table holds what PLAN.SET's JSON holds for that feature (`limit`, "
    "`period`, `overage`, `alerts`; any TOML form of the same tables will do), except that TOML has no null: "
    "`limit = \"unlimited\"` is JSON's `\"limit\": null`. They are read by PLAN.SET's parser, "
    "so an invalid plan stops tallyd at start with PLAN.SET's message, naming the file, the plan and the key. At "
    "start (after recovery) and on SIGHUP, each plan of the file that differs from the stored one is set as "
    "PLAN.SET sets it: logged, and audited with actor `config`; a plan that is already as the file says writes "
    "nothing, so a restart adds no log entry or audit row. Plans made with PLAN.SET that are not in the file are "
    "kept, and removing a plan from the file does not delete it (PLAN.DEL does). A plan that is in the file "
    "belongs to the file: a PLAN.SET of it lasts until the next restart or reload. A reload whose file has an "
    "invalid plan changes nothing and says why in the log.";

constexpr std::string_view kPlansExample =
    "[plans.free.features.api_calls]\n"
    "limit = 1000\n"
    "period = \"month\"\n"
    "\n"
    "[plans.pro.features.api_calls]\n"
    "limit = 100000\n"
    "period = \"month\"\n"
    "overage = \"allow\"\n"
    "alerts = [80, 95, 100]\n";

}  // namespace

const std::vector<SettingGroupInfo>& SettingGroups() {
  static const std::vector<SettingGroupInfo> kGroups = {
      {SettingGroup::kStorage, "Storage and durability", ""},
      {SettingGroup::kNetwork, "Line protocol (RESP) listeners",
       "TCP and a unix socket speak the Redis-compatible line protocol (RESP2, RESP3 after HELLO 3, and inline "
       "commands). See \"Access control\" for passwords; without one, tallyd refuses to listen beyond loopback."},
      {SettingGroup::kLimits, "Line protocol limits",
       "A request beyond these limits gets an error and its connection is closed (framing cannot be trusted "
       "after it)."},
      {SettingGroup::kHttp, "HTTP/JSON API",
       "The HTTP/JSON API, /health, /ready and /metrics. It listens before the store is opened, so /ready can "
       "answer 503 during recovery. See \"Access control\" for Bearer tokens."},
      {SettingGroup::kAccess, "Access control",
       "Authentication for both listeners. Setting `password` closes the line protocol (AUTH password, or "
       "AUTH default password) and the HTTP API (Authorization: Bearer <password>) alike; `reader_password` adds "
       "a read-only identity (AUTH reader <password>, or its Bearer token). /health and /ready stay open. "
       "Secrets may come from the file, a file of their own (password_file) or the environment "
       "(TALLY_PASSWORD, TALLY_READER_PASSWORD, TALLY_HTTP_TOKEN, TALLY_HTTP_READ_TOKEN); they are never "
       "logged or shown in INFO, CONFIG GET or /v1/stats. Without a password tallyd refuses to listen beyond "
       "loopback unless allow_public_without_auth = \"yes\"."},
      {SettingGroup::kCounters, "Counters", ""},
      {SettingGroup::kQuotas, "Quotas",
       "Limits of the quota commands (docs/quotas.md). Plans themselves are tables at the end of this file "
       "(see \"Plans\" there)."},
      {SettingGroup::kRetention, "Retention",
       "How long rollup cells and changefeed records are kept. What is older is dropped in the background as "
       "the store compacts, not at the moment it expires."},
      {SettingGroup::kLogging, "Logging", ""},
  };
  return kGroups;
}

// clang-format off
const std::vector<Setting>& Settings() {
  using G = SettingGroup;
  static const std::vector<Setting> kSettings = {
      // ---- storage and durability
      {.key = "data_dir", .group = G::kStorage, .member = &Config::data_dir,
       .help = "Data directory; RocksDB lives in <data_dir>/db",
       .explanation = "Where the RocksDB database lives (in <data_dir>/db). A second tallyd on the same data "
                      "directory refuses to start. The systemd unit's StateDirectory=tally creates "
                      "/var/lib/tally, owned by the tally user.",
       .example = "\"/var/lib/tally\"", .example_active = true},
      {.key = "data_dir_mode", .group = G::kStorage, .member = &Config::data_dir_mode,
       .help = "Permissions (octal) of the data dir when tallyd creates it; its files get them without x",
       .explanation = "Permissions, in octal, of the data directory when tallyd creates it (an existing "
                      "directory keeps its own). tallyd sets its umask from this at start, so every file "
                      "it and RocksDB create gets the same bits without x: \"0700\" gives files 0600, "
                      "\"0750\" gives 0640. The owner must keep rwx (07xx)."},
      {.key = "memory_limit", .group = G::kStorage, .member = &Config::memory_limit,
       .min = 16ll << 20, .max = 1ll << 40, .unit = "bytes",
       .help = "Memory for RocksDB's block cache and memtables together (the engine's own maps come on top)",
       .explanation = "Memory for RocksDB: its block cache and its memtables (writes not yet flushed) share this "
                      "one budget; memtables may take at most half of it, and are flushed early when they "
                      "reach that. The engine's own maps (owners, counters in memory, event ids) come on top: "
                      "docs/operations.md says what grows with the number of counters. INFO's maxmemory, "
                      "/metrics and /v1/stats show the budget and its use."},
      {.key = "durability", .group = G::kStorage, .member = &Config::durability, .values = {"process", "fsync"},
       .help = "process: acknowledged writes survive kill -9 (the log is fsynced every fsync_interval_ms); "
               "fsync: every reply waits for fsync (group commit) and survives power loss",
       .explanation = "\"process\": a write is acknowledged once it is in the log in the OS; it survives kill -9 "
                      "of the daemon; the log is fsynced every fsync_interval_ms (a power loss can lose that "
                      "much).\n"
                      "\"fsync\": a reply waits for fsync of the log (group commit: concurrent clients share one "
                      "fsync); it survives power loss."},
      {.key = "fsync_interval_ms", .group = G::kStorage, .member = &Config::fsync_interval_ms,
       .min = 1, .max = 60000, .unit = "ms",
       .help = "With durability = process, fsync the log this often"},
      {.key = "disk_reserve_bytes", .group = G::kStorage, .member = &Config::disk_reserve_bytes,
       .min = 0, .max = int64_t{1} << 40, .unit = "bytes",
       .help = "Space held back in the data dir (the file tally.reserve) for a full disk; 0 = none",
       .explanation = "A preallocated file of this size in the data dir. When a write fails for lack of space it is "
                      "deleted, so the log can finish the writes already in flight and RocksDB the flush it needs to "
                      "resume; writes are refused (disk_full) until the filesystem has room for the reserve twice "
                      "over, then it is created again and writes resume by themselves. Starting on a disk without "
                      "room for it fails with \"no space left on device\"."},
      {.key = "compaction_interval_ms", .group = G::kStorage, .member = &Config::compaction_interval_ms,
       .min = 10, .max = 3'600'000, .unit = "ms",
       .help = "Fold the log into the compacted state (rollups) and trim it this often"},
      {.key = "compaction_max_entries", .group = G::kStorage, .member = &Config::compaction_max_entries,
       .min = 1, .max = int64_t{1} << 40,
       .help = "Compact early once this many log entries are waiting",
       .explanation = "Compact earlier than compaction_interval_ms once this many log entries are waiting to be "
                      "folded. It bounds the log a restart replays."},
      {.key = "shutdown_drain_ms", .group = G::kStorage, .member = &Config::shutdown_drain_ms,
       .min = 0, .max = kNoLimit, .unit = "ms",
       .help = "On SIGTERM, wait this long for connections to receive the replies they are owed",
       .explanation = "On SIGTERM, wait up to this long for connections to receive the replies they are owed "
                      "before closing them. Keep it well below the systemd unit's TimeoutStopSec."},

      // ---- line protocol listeners
      {.key = "bind", .group = G::kNetwork, .member = &Config::bind,
       .help = "TCP address of the line protocol listener"},
      {.key = "port", .group = G::kNetwork, .member = &Config::port, .min = 0, .max = 65535,
       .help = "TCP port of the line protocol (0 disables the TCP listener)"},
      {.key = "unix_socket", .group = G::kNetwork, .member = &Config::unix_socket,
       .help = "Unix socket path of the line protocol (\"none\" disables it)",
       .explanation = "Unix socket for the same protocol; \"none\" disables it. /run/tally is the systemd "
                      "unit's RuntimeDirectory; the socket gets unix_socket_mode (0660), so members of the "
                      "tally group (or unix_socket_group) can connect.",
       .default_note = "<data_dir>/tally.sock",
       .example = "\"/run/tally/tally.sock\"", .example_active = true},
      {.key = "unix_socket_mode", .group = G::kNetwork, .member = &Config::unix_socket_mode,
       .help = "Permissions (octal) of the unix socket file: who may connect through it",
       .explanation = "Permissions, in octal, of the unix socket file. Connecting needs write permission on "
                      "it, so \"0660\" (the default) lets tallyd's user and group connect and nobody else; "
                      "\"0600\" only tallyd's user. The owner must keep rw (06xx)."},
      {.key = "unix_socket_group", .group = G::kNetwork, .member = &Config::unix_socket_group,
       .help = "Group of the unix socket file (e.g. a group your app's user is in); empty: tallyd's own",
       .explanation = "Group that owns the unix socket file, so that the users in it may connect (with "
                      "unix_socket_mode \"0660\"). tallyd's user must be a member of it. Empty (the default): "
                      "tallyd's own group."},
      {.key = "io_threads", .group = G::kNetwork, .member = &Config::io_threads, .min = 1, .max = 64,
       .help = "Network I/O threads; each parses and executes commands",
       .explanation = "Network I/O threads; each parses and executes commands. On 2 cores a second I/O thread "
                      "competes with RocksDB and the log writer and costs latency (docs/benchmarks.md).",
       .default_note = "half the cores, at least 1", .example = "1"},
      {.key = "max_clients", .group = G::kNetwork, .member = &Config::max_clients, .min = 1, .max = 1'000'000,
       .help = "Most simultaneous line protocol connections",
       .explanation = "Most simultaneous line protocol connections; further ones get \"-ERR max number of "
                      "clients reached\". Keep the unit's LimitNOFILE above this."},
      {.key = "timeout", .group = G::kNetwork, .member = &Config::timeout, .min = 0, .max = 365 * kDay,
       .unit = "s",
       .help = "Close line protocol connections idle this long (0 = never)",
       .explanation = "Close a line protocol connection that has sent nothing for this long, as Redis's "
                      "timeout does; 0 never closes idle connections."},

      // ---- line protocol limits
      {.key = "script_time_limit_ms", .group = G::kLimits, .member = &Config::script_time_limit_ms,
       .min = 1, .max = 3'600'000, .unit = "ms",
       .help = "After a Lua script has run this long, other clients' commands get BUSY until it ends or SCRIPT "
               "KILL stops it",
       .explanation = "Redis's busy-reply-threshold (lua-time-limit). A script is never stopped by the limit "
                      "itself: past it, every other command is answered \"-BUSY ...\" (except SCRIPT KILL and the "
                      "connection commands), and SCRIPT KILL (redis-cli on another connection, or POST "
                      "/v1/admin/script/kill on the HTTP API) stops a script that has not written. docs/scripts.md "
                      "says how to stop a runaway script."},
      {.key = "max_bulk_bytes", .group = G::kLimits, .member = &Config::max_bulk_bytes,
       .min = 1, .max = int64_t{1} << 31, .unit = "bytes",
       .help = "Largest bulk string argument"},
      {.key = "max_inline_bytes", .group = G::kLimits, .member = &Config::max_inline_bytes,
       .min = 16, .max = int64_t{1} << 30, .unit = "bytes",
       .help = "Longest inline command line (text sent by nc or telnet)"},
      {.key = "max_array_length", .group = G::kLimits, .member = &Config::max_array_length,
       .min = 1, .max = int64_t{1} << 30,
       .help = "Most arguments in one command"},
      {.key = "client_query_buffer_limit", .group = G::kLimits, .member = &Config::client_query_buffer_limit,
       .min = int64_t{1} << 20, .max = int64_t{1} << 36, .unit = "bytes",
       .help = "Most memory one connection's incomplete request may hold",
       .explanation = "Most memory one connection's incomplete request may hold: its bytes in the input "
                      "buffer plus 16 bytes per argument of a multibulk (Redis's client-query-buffer-limit). "
                      "A client that needs more gets \"-ERR query buffer limit reached\" and is closed. The "
                      "default, twice max_bulk_bytes, fits one largest-allowed argument; tally's own commands "
                      "are a few hundred bytes."},
      {.key = "total_query_buffer_limit", .group = G::kLimits, .member = &Config::total_query_buffer_limit,
       .min = int64_t{1} << 20, .max = int64_t{1} << 40, .unit = "bytes",
       .help = "Most memory the incomplete requests of all connections together may hold",
       .explanation = "Most memory the incomplete requests of all connections together may hold (above the "
                      "16 KiB input buffer every connection has). The client whose request would push the "
                      "total past it gets \"-ERR query buffer limit reached\" and is closed; the others "
                      "are served on. The default lets four clients send a largest-allowed argument at "
                      "once; lower it on a small host."},
      {.key = "pubsub_output_limit", .group = G::kLimits, .member = &Config::pubsub_output_limit,
       .min = 0, .max = int64_t{1} << 40, .unit = "bytes",
       .help = "Close a subscriber holding more output than this that reads nothing for pubsub_output_stall_ms "
               "(0 = never)",
       .explanation = "Output tallyd may hold for a subscriber (SUBSCRIBE alerts) that stopped reading: the "
                      "write in progress plus the messages queued behind it. A subscriber holding more than this "
                      "is closed once it has read nothing for pubsub_output_stall_ms (tallyd wrote no byte to "
                      "its socket and the kernel's send queue did not shrink); one that keeps reading is not, "
                      "however far a burst of alerts puts it behind. Past max(2 x this, 64 MiB) a subscriber is "
                      "closed at once, reading or not: that, plus one batch of at most 4096 alerts (~1 MB), is "
                      "the most memory a subscriber takes. Like Redis's client-output-buffer-limit pubsub. 0 "
                      "never closes a subscriber for its output (and does not bound it)."},
      {.key = "pubsub_output_stall_ms", .group = G::kLimits, .member = &Config::pubsub_output_stall_ms,
       .min = 100, .max = 3'600'000, .unit = "ms",
       .help = "How long a subscriber over pubsub_output_limit may read nothing before it is closed",
       .explanation = "How long a subscriber holding more than pubsub_output_limit may read nothing before it "
                      "is closed (checked by a timer, so also when no further alert comes). A live client "
                      "reads within milliseconds; 5 s lets it ride out a pause (garbage collection, a busy "
                      "host, a couple of TCP retransmission backoffs) while a stuck one gives its memory back "
                      "soon."},

      // ---- HTTP
      {.key = "http_bind", .group = G::kHttp, .member = &Config::http_bind,
       .help = "Address of the HTTP/JSON API"},
      {.key = "http_port", .group = G::kHttp, .member = &Config::http_port, .min = 0, .max = 65535,
       .help = "TCP port of the HTTP/JSON API (0 disables the HTTP listener)"},
      {.key = "http_threads", .group = G::kHttp, .member = &Config::http_threads, .min = 1, .max = 64,
       .help = "HTTP I/O threads; requests are handled on them"},
      {.key = "http_max_connections", .group = G::kHttp, .member = &Config::http_max_connections,
       .min = 1, .max = 1'000'000,
       .help = "Most simultaneous HTTP connections; further ones get 429 too_many_connections",
       .explanation = "Most simultaneous HTTP connections; further ones get 429 too_many_connections. Past "
                      "the limit, 16 more connections are still read for one request each, so that GET "
                      "/health and /ready answer while every ordinary connection is taken."},
      {.key = "http_max_body_bytes", .group = G::kHttp, .member = &Config::http_max_body_bytes,
       .min = 1, .max = int64_t{1} << 32, .unit = "bytes",
       .help = "Largest HTTP request body; a larger one gets 413 payload_too_large"},
      {.key = "http_max_header_bytes", .group = G::kHttp, .member = &Config::http_max_header_bytes,
       .min = 1024, .max = int64_t{1} << 24, .unit = "bytes",
       .help = "Largest HTTP request line and headers; larger ones get 431 headers_too_large"},
      {.key = "http_read_timeout_ms", .group = G::kHttp, .member = &Config::http_read_timeout_ms,
       .min = 10, .max = 3'600'000, .unit = "ms",
       .help = "Close idle HTTP keep-alive connections after this long; a request that stalls half-way gets 408"},

      // ---- access control
      {.key = "password", .group = G::kAccess, .member = &Config::password,
       .help = "Password of the default (read-write) user, and the HTTP admin token; empty: no authentication",
       .explanation = "Password of the `default` user (reads and writes): AUTH <password> or AUTH default "
                      "<password>. It is also the HTTP admin Bearer token unless http_token is set. Empty (the "
                      "default): no authentication, as redis-server without requirepass. Prefer password_file "
                      "or TALLY_PASSWORD to keep it out of this file.",
       .hidden = true},
      {.key = "password_file", .group = G::kAccess, .member = &Config::password_file,
       .help = "Read the password from this file (its first line) instead"},
      {.key = "reader_password", .group = G::kAccess, .member = &Config::reader_password,
       .help = "Password of the read-only `reader` user (AUTH reader <password>), also the HTTP read token",
       .hidden = true},
      {.key = "reader_password_file", .group = G::kAccess, .member = &Config::reader_password_file,
       .help = "Read the reader password from this file (its first line) instead"},
      {.key = "http_token", .group = G::kAccess, .member = &Config::http_token,
       .help = "HTTP admin Bearer token when it should differ from password (needs password)", .hidden = true},
      {.key = "http_read_token", .group = G::kAccess, .member = &Config::http_read_token,
       .help = "HTTP read-only Bearer token when it should differ from reader_password (needs password)",
       .hidden = true},
      {.key = "http_named_tokens", .group = G::kAccess, .member = &Config::http_named_tokens,
       .help = "HTTP tokens with names of their own: \"name:role:file, ...\" (role admin or reader; needs password)",
       .explanation = "HTTP Bearer tokens with names of their own, comma-separated, each as name:role:file, e.g. "
                      "\"alice:admin:/etc/tally/tokens/alice, grafana:reader:/etc/tally/tokens/grafana\". The "
                      "name (1-64 of A-Z a-z 0-9 . _ @ -) is what the audit trail records as the actor of the "
                      "token's changes; the role is admin (reads and writes) or reader (reads only); the file "
                      "holds the secret on its first line (the secret itself never goes in this file). Every "
                      "secret must differ from the others and from password, reader_password and the shared "
                      "tokens. Needs password. Read at start.",
       .example = "\"alice:admin:/etc/tally/tokens/alice\""},
      {.key = "allow_public_without_auth", .group = G::kAccess, .member = &Config::allow_public_without_auth,
       .values = {"no", "yes"},
       .help = "Listen beyond loopback (bind, http_bind) with no password; otherwise tallyd refuses to start"},
      {.key = "http_allowed_hosts", .group = G::kAccess, .member = &Config::http_allowed_hosts,
       .help = "Host names (comma-separated) requests may name in Host, besides localhost and IP addresses",
       .explanation = "Host names, comma-separated, that HTTP requests may name in their Host header besides "
                      "localhost and IP addresses, e.g. \"tally.internal,tally.example.com\". A request for "
                      "any other name is refused (403 host_not_allowed): that is how a web page that points "
                      "its own domain at this machine (DNS rebinding) is kept out."},
      {.key = "http_allowed_origins", .group = G::kAccess, .member = &Config::http_allowed_origins,
       .help = "Origins (comma-separated) whose web pages may call the HTTP API, with CORS headers",
       .explanation = "Origins, comma-separated, whose web pages may call the HTTP API from a browser, e.g. "
                      "\"https://admin.example.com\"; they get CORS headers (and preflight answers). A request "
                      "from any other site's page is refused (403 origin_not_allowed); the server's own pages "
                      "(same origin) and clients that send no Origin (curl, libraries) are not affected."},

      // ---- counters
      {.key = "timezone", .group = G::kCounters, .member = &Config::timezone,
       .help = "IANA time zone of the periods (day, week, month...) of owners without their own (OWNER.TZ)",
       .explanation = "IANA time zone name (e.g. Europe/Berlin) of the periods (day, week, month, quarter, "
                      "year) of owners without a zone of their own (OWNER.TZ). An unknown name stops tallyd "
                      "at start-up."},
      {.key = "max_backdate_s", .group = G::kCounters, .member = &Config::max_backdate_s,
       .min = 0, .max = 100 * 365 * kDay, .unit = "s",
       .help = "How far in the past an event's AT may be",
       .explanation = "How far in the past an event's AT timestamp may be; an older event is refused with an "
                      "error. The default, 35 days, lets last month's late events still count."},
      {.key = "max_future_skew_s", .group = G::kCounters, .member = &Config::max_future_skew_s,
       .min = 0, .max = kDay, .unit = "s",
       .help = "How far in the future an event's AT may be",
       .explanation = "How far in the future an event's AT timestamp may be (clock skew between clients and "
                      "tallyd); a later event is refused with an error."},
      {.key = "dedupe_window_s", .group = G::kCounters, .member = &Config::dedupe_window_s,
       .min = 1, .max = 10 * 365 * kDay, .unit = "s",
       .help = "How long an event ID is remembered",
       .explanation = "How long an event ID is remembered: an event repeating an ID seen within this window "
                      "is not counted again."},

      // ---- quotas
      {.key = "quota_max_amount", .group = G::kQuotas, .member = &Config::quota_max_amount,
       .min = 1, .max = kMaxQuotaAmount,
       .help = "Largest amount one quota consume, release, reserve, commit or credit grant may carry",
       .explanation = "The largest amount one QUOTA.CHECK, QUOTA.CONSUME, QUOTA.RELEASE, QUOTA.RESERVE, "
                      "QUOTA.COMMIT or CREDIT.GRANT may carry; a larger one is refused with out_of_range and "
                      "changes nothing. Lower it to catch a client that sends bytes where it means kilobytes."},
      {.key = "quota_default_hold_ttl_ms", .group = G::kQuotas, .member = &Config::quota_default_hold_ttl_ms,
       .min = 1, .max = 366 * kDayMs, .unit = "ms",
       .help = "How long a QUOTA.RESERVE hold without TTL lasts before it expires",
       .explanation = "How long a hold made by QUOTA.RESERVE without TTL lasts; unless it is committed or "
                      "cancelled first, it then expires and frees what it held. At most "
                      "quota_max_hold_ttl_ms."},
      {.key = "quota_max_hold_ttl_ms", .group = G::kQuotas, .member = &Config::quota_max_hold_ttl_ms,
       .min = 1, .max = 366 * kDayMs, .unit = "ms",
       .help = "Longest TTL a QUOTA.RESERVE may ask for",
       .explanation = "The longest TTL a QUOTA.RESERVE may ask for; a longer one is refused with out_of_range. "
                      "A hold keeps its units from everyone else until it ends, so this bounds how long a "
                      "client that never commits can hold them."},

      {.key = "currency", .group = G::kQuotas, .member = &Config::currency,
       .help = "Currency of prices and costs (METER.RECORD, PRICE.*): a label, 1-12 letters",
       .explanation = "The currency prices and costs are in (a label such as USD, EUR or credits: nothing is "
                      "converted). Costs are counted in micro-units of it (1 USD = 1000000 in the cost "
                      "counters). Prices may be set in the config file's [prices] table, e.g. "
                      "\"chat.tokens\" = \"0.000002\"."},
      {.key = "max_batch_events", .group = G::kQuotas, .member = &Config::max_batch_events,
       .min = 1, .max = 1000000,
       .help = "Most events one POST /v1/events batch may carry",
       .explanation = "The most events one POST /v1/events request may carry; a larger batch is refused "
                      "whole with invalid_field and records nothing. http_max_body_bytes bounds the "
                      "request's size too (about 100 bytes per event)."},

      // ---- retention
      {.key = "retention_hour_days", .group = G::kRetention, .member = &Config::retention_hour_days,
       .min = 0, .max = 100 * 366, .unit = "days",
       .help = "Keep hour cells this many days (0 = forever)"},
      {.key = "retention_day_days", .group = G::kRetention, .member = &Config::retention_day_days,
       .min = 0, .max = 100 * 366, .unit = "days",
       .help = "Keep day cells this many days (0 = forever)"},
      {.key = "retention_week_days", .group = G::kRetention, .member = &Config::retention_week_days,
       .min = 0, .max = 100 * 366, .unit = "days",
       .help = "Keep week cells this many days (0 = forever)"},
      {.key = "retention_month_days", .group = G::kRetention, .member = &Config::retention_month_days,
       .min = 0, .max = 100 * 366, .unit = "days",
       .help = "Keep month cells this many days (0 = forever)"},
      {.key = "retention_quarter_days", .group = G::kRetention, .member = &Config::retention_quarter_days,
       .min = 0, .max = 100 * 366, .unit = "days",
       .help = "Keep quarter cells this many days (0 = forever)"},
      {.key = "retention_year_days", .group = G::kRetention, .member = &Config::retention_year_days,
       .min = 0, .max = 100 * 366, .unit = "days",
       .help = "Keep year cells this many days (0 = forever)"},
      {.key = "changes_retention_s", .group = G::kRetention, .member = &Config::changes_retention_s,
       .min = 0, .max = 10 * 366 * kDay, .unit = "s",
       .help = "Keep changefeed records (CHANGES.READ, /v1/changes) this long (0 = forever)",
       .explanation = "How long changefeed records (CHANGES.READ, GET /v1/changes) are kept; 0 keeps them "
                      "forever. A mirror whose cursor falls behind this gets an error (it lost changes) and "
                      "must resync."},

      // ---- logging
      {.key = "log_level", .group = G::kLogging, .member = &Config::log_level,
       .values = {"trace", "debug", "info", "warn", "error", "critical", "off"},
       .help = "Least severe log messages written",
       .explanation = "The least severe messages logged. Logs go to stdout and stderr (the journal under "
                      "systemd); there is no line per request at info.",
       .reloadable = true},
  };
  return kSettings;
}
// clang-format on

const Setting* FindSetting(std::string_view key) {
  for (const Setting& s : Settings()) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

SettingType Setting::type() const {
  if (!std::holds_alternative<std::string Config::*>(member)) return SettingType::kInteger;
  return values.empty() ? SettingType::kString : SettingType::kEnum;
}

std::string Setting::flag() const {
  std::string out = "--" + std::string(key);
  std::replace(out.begin() + 2, out.end(), '_', '-');
  return out;
}

int64_t Setting::GetInteger(const Config& config) const {
  if (auto m = std::get_if<int Config::*>(&member)) return config.**m;
  if (auto m = std::get_if<int64_t Config::*>(&member)) return config.**m;
  return 0;
}

const std::string& Setting::GetString(const Config& config) const {
  static const std::string kNone;
  if (auto m = std::get_if<std::string Config::*>(&member)) return config.**m;
  return kNone;
}

std::string Setting::ValueText(const Config& config) const {
  return is_integer() ? std::to_string(GetInteger(config)) : Quote(GetString(config));
}

std::string Setting::DefaultText() const {
  if (!default_note.empty()) return std::string(default_note);
  return ValueText(Config{});
}

std::string Setting::RangeText() const {
  switch (type()) {
    case SettingType::kString:
      return "text";
    case SettingType::kEnum: {
      std::string out = "one of ";
      for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + Quote(values[i]);
      return out;
    }
    case SettingType::kInteger:
      break;
  }
  if (max == kNoLimit) return std::to_string(min) + " or more";
  return std::to_string(min) + ".." + std::to_string(max);
}

bool Setting::SetInteger(Config* config, int64_t value) const {
  if (auto m = std::get_if<int Config::*>(&member)) {
    if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max()) return false;
    config->*(*m) = static_cast<int>(value);
    return true;
  }
  if (auto m = std::get_if<int64_t Config::*>(&member)) {
    config->*(*m) = value;
    return true;
  }
  return false;
}

bool Setting::SetString(Config* config, std::string value) const {
  if (auto m = std::get_if<std::string Config::*>(&member)) {
    config->*(*m) = std::move(value);
    return true;
  }
  return false;
}

void Setting::CopyValue(const Config& from, Config* to) const {
  std::visit([&](auto m) { to->*m = from.*m; }, member);
}

bool Setting::SameValue(const Config& a, const Config& b) const {
  return std::visit([&](auto m) { return a.*m == b.*m; }, member);
}

std::string CheckSetting(const Setting& setting, const Config& config) {
  switch (setting.type()) {
    case SettingType::kString:
      return "";
    case SettingType::kEnum: {
      const std::string& value = setting.GetString(config);
      for (std::string_view allowed : setting.values) {
        if (value == allowed) return "";
      }
      return std::string(setting.key) + " = " + Quote(value) + " is not allowed: must be " + setting.RangeText();
    }
    case SettingType::kInteger:
      break;
  }
  const int64_t value = setting.GetInteger(config);
  if (value >= setting.min && value <= setting.max) return "";
  std::string unit = setting.unit.empty() ? "" : " " + std::string(setting.unit);
  return std::string(setting.key) + " = " + std::to_string(value) + " is out of range: must be " + setting.RangeText() +
         unit;
}

std::vector<std::string> CheckSettingPairs(const Config& config) {
  std::vector<std::string> errors;
  if (config.currency.empty() || config.currency.size() > 12 ||
      !std::all_of(config.currency.begin(), config.currency.end(),
                   [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); })) {
    errors.push_back("currency = '" + config.currency + "' must be 1-12 letters (USD, EUR, credits)");
  }
  // A hold without TTL must be one a RESERVE could have asked for.
  if (config.quota_default_hold_ttl_ms > config.quota_max_hold_ttl_ms) {
    errors.push_back("quota_default_hold_ttl_ms = " + std::to_string(config.quota_default_hold_ttl_ms) +
                     " is above quota_max_hold_ttl_ms = " + std::to_string(config.quota_max_hold_ttl_ms));
  }
  return errors;
}

std::string ConfigExample() {
  std::string out;
  out += "# /etc/tally/tally.toml: configuration of tallyd.\n";
  out += "#\n";
  out += Wrap(
      "Generated by `tallyd --print-config-example` from tallyd's settings table (daemon/settings.cc); in the "
      "source tree, regenerate it with `bash tools/gen-settings-docs.sh` rather than editing it.",
      "# ", 76);
  out += "#\n";
  out += Wrap(
      "Every setting is optional. A commented-out line shows tallyd's default; only data_dir and unix_socket are "
      "set, to the paths the systemd unit provides. Every setting is also a command-line flag with '-' for '_' "
      "(data_dir -> --data-dir); a flag overrides the file. An unknown key, a value of the wrong type (a number "
      "in quotes, say), a key given twice or a value out of range stops tallyd with a message naming the "
      "setting, so a typo never silently falls back to a default. `systemctl reload tallyd` (SIGHUP) re-reads "
      "this file and applies the settings marked \"reloaded on SIGHUP\"; every other change needs a restart.",
      "# ", 76);
  for (const SettingGroupInfo& group : SettingGroups()) {
    out += "\n# " + std::string(76, '-') + "\n";
    out += "# " + std::string(group.title) + "\n";
    if (!group.explanation.empty()) out += "#\n" + Wrap(group.explanation, "# ", 76);
    out += "# " + std::string(76, '-') + "\n";
    for (const Setting& s : Settings()) {
      if (s.group != group.group) continue;
      out += "\n";
      out += Wrap(Sentence(s.explanation.empty() ? s.help : s.explanation), "# ", 76);
      std::string facts;
      switch (s.type()) {
        case SettingType::kString:
          facts = "Text";
          break;
        case SettingType::kEnum:
          facts = "One of " + s.RangeText().substr(std::string_view("one of ").size());
          break;
        case SettingType::kInteger:
          facts = "Integer, " + s.RangeText() + (s.unit.empty() ? "" : " " + std::string(s.unit));
          break;
      }
      facts += ". Default: " + s.DefaultText();
      if (s.is_integer() && s.default_note.empty()) {
        std::string larger = InLargerUnit(s.GetInteger(Config{}), s.unit);
        if (!larger.empty()) facts += " (" + larger + ")";
      }
      facts += s.reloadable ? ". Reloaded on SIGHUP." : ".";
      out += Wrap(facts, "# ", 76);
      std::string value = s.example.empty() ? s.DefaultText() : std::string(s.example);
      out += (s.example_active ? "" : "# ") + std::string(s.key) + " = " + value + "\n";
    }
  }
  // Tables come after every top-level key: a key below a [table] header
  // belongs to that table.
  out += "\n# " + std::string(76, '-') + "\n";
  out += "# Plans\n#\n";
  out += Wrap(kPlansRule, "# ", 76);
  out += "# " + std::string(76, '-') + "\n\n";
  out += Wrap(kPlansExample.substr(0, kPlansExample.size() - 1), "# ", 76);
  return out;
}

std::string SettingsMarkdown() {
  std::string out;
  out += "<!-- Generated from daemon/settings.cc by `bash tools/gen-settings-docs.sh`; do not edit. -->\n";
  for (const SettingGroupInfo& group : SettingGroups()) {
    out += "\n**" + std::string(group.title) + "**\n\n";
    out += "| flag | default | allowed | meaning |\n";
    out += "|---|---|---|---|\n";
    for (const Setting& s : Settings()) {
      if (s.group != group.group) continue;
      std::string default_text = s.DefaultText();
      if (s.default_note.empty()) {
        default_text = "`" + (s.is_integer() ? default_text : s.GetString(Config{})) + "`";
        if (s.is_integer()) {
          std::string larger = InLargerUnit(s.GetInteger(Config{}), s.unit);
          if (!larger.empty()) default_text += " (" + larger + ")";
        }
      }
      std::string allowed = s.RangeText();
      if (s.type() == SettingType::kEnum) {
        allowed.clear();
        for (std::string_view v : s.values) allowed += (allowed.empty() ? "`" : ", `") + std::string(v) + "`";
      } else if (s.is_integer() && !s.unit.empty()) {
        allowed += " " + std::string(s.unit);
      }
      std::string meaning = std::string(s.help);
      if (s.reloadable) meaning += " (reloaded on SIGHUP)";
      out += "| `" + s.flag() + "` | " + MarkdownCell(default_text) + " | " + MarkdownCell(allowed) + " | " +
             MarkdownCell(meaning) + " |\n";
    }
    if (group.group == SettingGroup::kQuotas) {
      out += "\n**Plans in the config file.** " + std::string(kPlansRule) + " For example:\n\n```toml\n" +
             std::string(kPlansExample) + "```\n";
    }
  }
  return out;
}

}  // namespace tally
