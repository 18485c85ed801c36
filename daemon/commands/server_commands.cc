// Connection and server commands: PING, ECHO, QUIT, HELLO, AUTH, SELECT,
// CLIENT, COMMAND, CONFIG GET, INFO. Enough of Redis for redis-cli,
// redis-benchmark and client libraries (ioredis, redis-py) to work unchanged.

#include <unistd.h>

#include <cstdio>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "commands/context.h"
#include "commands/metrics.h"
#include "commands/registry.h"
#include "commands/reply_status.h"
#include "commands/transaction.h"
#include "core/glob.h"
#include "protocol/errors.h"
#include "protocol/resp_parser.h"

namespace tally::commands {
namespace {

using protocol::CommandArgs;
using protocol::CommandContext;
using protocol::ErrorCode;
using protocol::ReplySink;
namespace errors = protocol::errors;
namespace flags = protocol::flags;

void Ping(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (args.size() > 2) return reply.SendError(ErrorCode::kWrongArity, errors::WrongArity(args[0]));
  // Subscribed over RESP2, as Redis: ["pong", message or ""], which a
  // subscriber's reader takes for a message rather than a stray +PONG.
  if (ctx.client.subscriptions() > 0 && ctx.client.protocol_version == 2) {
    reply.SendArray(2);
    reply.SendBulk("pong");
    return reply.SendBulk(args.size() == 2 ? args[1] : std::string_view());
  }
  if (args.size() == 2) return reply.SendBulk(args[1]);
  reply.SendSimple("PONG");
}

void Echo(CommandContext&, CommandArgs args, ReplySink& reply) { reply.SendBulk(args[1]); }

void Quit(CommandContext& ctx, CommandArgs, ReplySink& reply) {
  ctx.client.close_after_reply = true;
  reply.SendOk();
}

// RESET, as Redis: the connection as new (every subscription dropped, RESP2,
// no name), for pooled connections and for leaving the subscribed context.
void Reset(CommandContext& ctx, CommandArgs, ReplySink& reply) {
  ctx.client.channels.clear();
  ctx.client.patterns.clear();
  ctx.client.name.clear();
  ctx.client.protocol_version = 2;
  if (ctx.client.resp_sink != nullptr) ctx.client.resp_sink->set_resp3(false);
  ctx.client.identity = ctx.server.access.initial();  // as Redis: RESET signs the connection out
  EndTransaction(ctx);
  reply.SendSimple("RESET");
}

void Select(CommandContext&, CommandArgs args, ReplySink& reply) {
  int64_t index = 0;
  if (!protocol::ParseInt64(args[1], &index)) return reply.SendError(ErrorCode::kNotInteger, errors::kNotInteger);
  if (index != 0) return reply.SendError(ErrorCode::kOutOfRange, errors::kDbIndexOutOfRange);
  reply.SendOk();
}

// No password is configured: tally behaves like Redis with its default user
// set to "nopass". AUTH <password> is Redis's exact error; AUTH default <any>
// succeeds (as in Redis: any password works for a nopass user); any other
// user does not exist.
// AUTH [user] password / HELLO ... AUTH user password: true when the client
// is now `user`. Without a configured password, Redis's nopass default user:
// `AUTH default <anything>` is OK and `AUTH <password>` is an error (there is
// nothing to check it against, and a client must not believe it logged in).
bool Authenticate(CommandContext& ctx, std::string_view user, std::string_view password, bool user_given,
                  ReplySink& reply) {
  const AccessControl& access = ctx.server.access;
  if (!access.enabled()) {
    if (!user_given) {
      reply.SendError(ErrorCode::kNoPassword, errors::kNoPasswordConfigured);
      return false;
    }
    if (user == "default") return true;
    reply.SendError(ErrorCode::kWrongPass, errors::kWrongPass);
    return false;
  }
  const Identity identity = access.ForPassword(user, password);
  if (identity == Identity::kNone) {
    reply.SendError(ErrorCode::kWrongPass, errors::kWrongPass);  // the connection stays as it was
    return false;
  }
  ctx.client.identity = identity;
  return true;
}

void Auth(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (args.size() > 3) return reply.SendError(ErrorCode::kSyntax, errors::kSyntax);
  const bool user_given = args.size() == 3;
  if (Authenticate(ctx, user_given ? args[1] : std::string_view(), args.back(), user_given, reply)) reply.SendOk();
}

bool ValidClientName(std::string_view name) {
  for (char c : name) {
    if (c < '!' || c > '~') return false;  // Redis: no spaces, newlines or special characters
  }
  return true;
}

void SendHelloMap(CommandContext& ctx, ReplySink& reply) {
  reply.SendMap(7);
  reply.SendBulk("server");
  reply.SendBulk("tally");
  reply.SendBulk("version");
  reply.SendBulk(ctx.server.config.version);
  reply.SendBulk("proto");
  reply.SendInteger(ctx.client.protocol_version);
  reply.SendBulk("id");
  reply.SendInteger(static_cast<int64_t>(ctx.client.id));
  reply.SendBulk("mode");
  reply.SendBulk("standalone");
  reply.SendBulk("role");
  reply.SendBulk("master");
  reply.SendBulk("modules");
  reply.SendArray(0);
}

// HELLO [protover [AUTH username password] [SETNAME clientname]]
void Hello(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  int version = ctx.client.protocol_version;
  size_t i = 1;
  if (args.size() > 1) {
    int64_t requested = 0;
    if (!protocol::ParseInt64(args[1], &requested)) {
      return reply.SendError(ErrorCode::kNotInteger, errors::kProtocolVersionNotInteger);
    }
    if (requested < 2 || requested > 3) return reply.SendError(ErrorCode::kNoProto, errors::kNoProto);
    version = static_cast<int>(requested);
    i = 2;
  }
  std::string_view new_name;
  bool set_name = false;
  for (; i < args.size(); ++i) {
    bool more = args.size() - i - 1;
    if (EqualsIgnoreCase(args[i], "AUTH") && args.size() - i - 1 >= 2) {
      if (!Authenticate(ctx, args[i + 1], args[i + 2], /*user_given=*/true, reply)) return;
      i += 2;
    } else if (EqualsIgnoreCase(args[i], "SETNAME") && more) {
      new_name = args[++i];
      set_name = true;
      if (!ValidClientName(new_name)) return reply.SendError(ErrorCode::kInvalidArgument, errors::kInvalidClientName);
    } else {
      return reply.SendError(ErrorCode::kSyntax,
                             "Syntax error in HELLO option '" + std::string(args[i].substr(0, 128)) + "'");
    }
  }
  if (ctx.client.identity == Identity::kNone) return reply.SendError(ErrorCode::kNoAuth, errors::kHelloNoAuth);
  if (set_name) ctx.client.name.assign(new_name);
  ctx.client.protocol_version = version;
  if (ctx.client.resp_sink != nullptr) ctx.client.resp_sink->set_resp3(version == 3);
  SendHelloMap(ctx, reply);
}

void Client(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  std::string_view sub = args[1];
  if (EqualsIgnoreCase(sub, "SETNAME") && args.size() == 3) {
    if (!ValidClientName(args[2])) return reply.SendError(ErrorCode::kInvalidArgument, errors::kInvalidClientName);
    ctx.client.name.assign(args[2]);
    return reply.SendOk();
  }
  if (EqualsIgnoreCase(sub, "GETNAME") && args.size() == 2) {
    if (ctx.client.name.empty()) return reply.SendNull();
    return reply.SendBulk(ctx.client.name);
  }
  if (EqualsIgnoreCase(sub, "ID") && args.size() == 2) return reply.SendInteger(static_cast<int64_t>(ctx.client.id));
  if (EqualsIgnoreCase(sub, "SETINFO") && args.size() == 4) {
    if (EqualsIgnoreCase(args[2], "LIB-NAME")) {
      ctx.client.lib_name.assign(args[3]);
    } else if (EqualsIgnoreCase(args[2], "LIB-VER")) {
      ctx.client.lib_version.assign(args[3]);
    } else {
      return reply.SendError(ErrorCode::kInvalidArgument,
                             "Unrecognized option '" + std::string(args[2].substr(0, 128)) + "'");
    }
    return reply.SendOk();
  }
  if (EqualsIgnoreCase(sub, "INFO") && args.size() == 2) {
    std::string line = "id=" + std::to_string(ctx.client.id) + " addr=" + ctx.client.address +
                       " name=" + ctx.client.name + " db=0 resp=" + std::to_string(ctx.client.protocol_version) +
                       " lib-name=" + ctx.client.lib_name + " lib-ver=" + ctx.client.lib_version + "\n";
    return reply.SendBulk(line);
  }
  if (EqualsIgnoreCase(sub, "HELP")) {
    static const char* kHelp[] = {
        "CLIENT <subcommand> [<arg> ...]. Subcommands are:",
        "ID",
        "    Return the ID of the current connection.",
        "GETNAME",
        "    Return the name of the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <LIB-NAME|LIB-VER> <value>",
        "    Set client library name or version.",
        "INFO",
        "    Return information about the current connection.",
    };
    reply.SendArray(std::size(kHelp));
    for (const char* line : kHelp) reply.SendSimple(line);
    return;
  }
  bool known = EqualsIgnoreCase(sub, "SETNAME") || EqualsIgnoreCase(sub, "GETNAME") || EqualsIgnoreCase(sub, "ID") ||
               EqualsIgnoreCase(sub, "SETINFO") || EqualsIgnoreCase(sub, "INFO");
  if (known) return reply.SendError(ErrorCode::kWrongArity, errors::WrongArity("client|" + std::string(sub)));
  reply.SendError(ErrorCode::kUnknownSubcommand, errors::UnknownSubcommand(sub, "CLIENT"));
}

void SendFlagNames(uint32_t f, ReplySink& reply) {
  std::vector<std::string_view> names;
  if (f & flags::kWrite) names.push_back("write");
  if (f & flags::kReadOnly) names.push_back("readonly");
  if (f & flags::kFast) names.push_back("fast");
  if (f & flags::kAdmin) names.push_back("admin");
  if (f & flags::kConnection) names.push_back("stale");
  reply.SendArray(names.size());
  for (auto name : names) reply.SendSimple(name);
}

// Redis's COMMAND INFO entry: name, arity, flags, first key, last key, step,
// ACL categories, tips, key specs, subcommands.
void SendCommandInfo(const protocol::CommandSpec& spec, ReplySink& reply) {
  reply.SendArray(10);
  reply.SendBulk(protocol::AsciiLower(spec.name));
  reply.SendInteger(spec.arity);
  SendFlagNames(spec.flags, reply);
  reply.SendInteger(spec.keys.first);
  reply.SendInteger(spec.keys.last);
  reply.SendInteger(spec.keys.step);
  reply.SendArray(0);
  reply.SendArray(0);
  reply.SendArray(0);
  reply.SendArray(0);
}

// Redis's COMMAND DOCS entry (summary, since, group) plus tally's syntax,
// flags and the error codes the command can reply with (docs/errors.md): the
// same fields docs/commands.md is generated from.
void SendCommandDoc(const protocol::CommandSpec& spec, ReplySink& reply) {
  reply.SendBulk(protocol::AsciiLower(spec.name));
  reply.SendMap(6);
  reply.SendBulk("summary");
  reply.SendBulk(spec.summary);
  reply.SendBulk("since");
  reply.SendBulk("0.1.0");
  reply.SendBulk("group");
  reply.SendBulk(spec.group);
  reply.SendBulk("syntax");
  reply.SendBulk(spec.syntax);
  reply.SendBulk("flags");
  const std::vector<std::string_view> flag_names = protocol::FlagNames(spec.flags);
  reply.SendArray(flag_names.size());
  for (std::string_view name : flag_names) reply.SendSimple(name);
  reply.SendBulk("errors");
  const std::vector<protocol::ErrorCode> codes = protocol::DeclaredErrors(spec);
  reply.SendArray(codes.size());
  for (protocol::ErrorCode code : codes) reply.SendBulk(protocol::ErrorName(code));
}

void Command(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  const auto& all = ctx.server.commands->all();
  if (args.size() == 1) {
    reply.SendArray(all.size());
    for (const auto* spec : all) SendCommandInfo(*spec, reply);
    return;
  }
  std::string_view sub = args[1];
  if (EqualsIgnoreCase(sub, "COUNT") && args.size() == 2) return reply.SendInteger(static_cast<int64_t>(all.size()));
  if (EqualsIgnoreCase(sub, "INFO")) {
    if (args.size() == 2) {
      reply.SendArray(all.size());
      for (const auto* spec : all) SendCommandInfo(*spec, reply);
      return;
    }
    reply.SendArray(args.size() - 2);
    for (size_t i = 2; i < args.size(); ++i) {
      const auto* spec = ctx.server.commands->Find(args[i]);
      if (spec == nullptr) {
        reply.SendNullArray();
      } else {
        SendCommandInfo(*spec, reply);
      }
    }
    return;
  }
  if (EqualsIgnoreCase(sub, "DOCS")) {
    std::vector<const protocol::CommandSpec*> chosen;
    if (args.size() == 2) {
      chosen = all;
    } else {
      for (size_t i = 2; i < args.size(); ++i) {
        if (const auto* spec = ctx.server.commands->Find(args[i])) chosen.push_back(spec);
      }
    }
    reply.SendMap(chosen.size());
    for (const auto* spec : chosen) SendCommandDoc(*spec, reply);
    return;
  }
  if (EqualsIgnoreCase(sub, "LIST") && args.size() == 2) {
    reply.SendArray(all.size());
    for (const auto* spec : all) {
      reply.SendBulk(protocol::AsciiLower(spec->name));
    }
    return;
  }
  reply.SendError(ErrorCode::kUnknownSubcommand, errors::UnknownSubcommand(sub, "COMMAND"));
}

// CONFIG GET's names: Redis's spelling for what Redis clients and
// redis-benchmark ask for, then every tally setting under its tally.toml key
// (the settings table; hidden settings are not in `settings`).
std::vector<std::pair<std::string, std::string>> ConfigValues(const ServerState& server) {
  const ServerConfigSummary& c = server.config;
  auto setting = [&](std::string_view key, std::string fallback) {
    const ConfigSetting* entry = c.Find(key);
    if (entry == nullptr) return fallback;
    if (const int64_t* number = std::get_if<int64_t>(&entry->value)) return std::to_string(*number);
    return std::get<std::string>(entry->value);
  };
  std::vector<std::pair<std::string, std::string>> values = {
      {"bind", c.bind},
      {"port", std::to_string(c.port)},
      {"unixsocket", c.unix_socket},
      {"dir", c.data_dir},
      {"databases", "1"},
      {"maxclients", std::to_string(c.max_clients)},
      {"io-threads", std::to_string(c.io_threads)},
      {"timeout", setting("timeout", "0")},
      // tally's log is always on; redis-benchmark and tools ask for these two.
      {"appendonly", "yes"},
      {"appendfsync", c.durability == "fsync" ? "always" : "everysec"},
      {"save", ""},
      {"fsync-interval-ms", std::to_string(c.fsync_interval_ms)},
  };
  for (const ConfigSetting& entry : c.settings) {
    bool named = false;
    for (const auto& [name, value] : values) named = named || name == entry.key;
    if (!named) values.emplace_back(entry.key, setting(entry.key, ""));
  }
  if (c.settings.empty()) {  // a ServerState without the table (tests)
    values.emplace_back("durability", c.durability);
    values.emplace_back("timezone", c.timezone);
  }
  return values;
}

void Config(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  std::string_view sub = args[1];
  if (EqualsIgnoreCase(sub, "GET")) {
    if (args.size() < 3) return reply.SendError(ErrorCode::kWrongArity, errors::WrongArity("config|get"));
    auto values = ConfigValues(ctx.server);
    std::vector<const std::pair<std::string, std::string>*> matched;
    for (const auto& entry : values) {
      for (size_t i = 2; i < args.size(); ++i) {
        if (core::GlobMatch(protocol::AsciiLower(args[i]), entry.first)) {
          matched.push_back(&entry);
          break;
        }
      }
    }
    reply.SendMap(matched.size());
    for (const auto* entry : matched) {
      reply.SendBulk(entry->first);
      reply.SendBulk(entry->second);
    }
    return;
  }
  if (EqualsIgnoreCase(sub, "RESETSTAT") && args.size() == 2) return reply.SendOk();
  if (EqualsIgnoreCase(sub, "SET")) {
    return reply.SendError(
        ErrorCode::kNotSupported,
        "CONFIG SET is not supported: set options in tally.toml or with flags, then SIGHUP or restart");
  }
  reply.SendError(ErrorCode::kUnknownSubcommand, errors::UnknownSubcommand(sub, "CONFIG"));
}

void AppendField(std::string& out, std::string_view name, const std::string& value) {
  out.append(name);
  out.push_back(':');
  out.append(value);
  out += "\r\n";
}
void AppendField(std::string& out, std::string_view name, uint64_t value) {
  AppendField(out, name, std::to_string(value));
}
void AppendField(std::string& out, std::string_view name, int64_t value) {
  AppendField(out, name, std::to_string(value));
}

void Info(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  auto wants = [&](std::string_view section) {
    if (args.size() == 1) return true;
    for (size_t i = 1; i < args.size(); ++i) {
      if (EqualsIgnoreCase(args[i], section) || EqualsIgnoreCase(args[i], "all") ||
          EqualsIgnoreCase(args[i], "default") || EqualsIgnoreCase(args[i], "everything")) {
        return true;
      }
    }
    return false;
  };
  const ServerState& server = ctx.server;
  const int64_t now = ctx.engine.clock().NowMs();
  std::string out;
  if (wants("server")) {
    out += "# Server\r\n";
    AppendField(out, "redis_version", std::string("7.0.0"));
    AppendField(out, "tally_version", server.config.version);
    AppendField(out, "redis_mode", std::string("standalone"));
    AppendField(out, "os", std::string("Linux"));
    AppendField(out, "process_id", static_cast<int64_t>(getpid()));
    AppendField(out, "tcp_port", static_cast<int64_t>(server.config.port));
    AppendField(out, "uptime_in_seconds", (now - server.started_at_ms) / 1000);
    AppendField(out, "uptime_in_days", (now - server.started_at_ms) / 86400000);
    AppendField(out, "io_threads_active", static_cast<int64_t>(server.config.io_threads));
    AppendField(out, "config_file", server.config.config_file);
    AppendField(out, "timezone", server.config.timezone);
    out += "\r\n";
  }
  if (wants("clients")) {
    out += "# Clients\r\n";
    AppendField(out, "connected_clients", server.connected_clients.load());
    AppendField(out, "maxclients", server.config.max_clients);
    // Redis 7.2's name for connections in subscribed mode.
    AppendField(out, "pubsub_clients", server.resp_figures().alert_subscribers);
    out += "\r\n";
  }
  if (wants("memory")) {
    ProcessMemory m = ReadProcessMemory();
    out += "# Memory\r\n";
    AppendField(out, "used_memory", m.used_bytes);
    AppendField(out, "used_memory_rss", m.rss_bytes);
    // Redis's name for the budget; tally's covers RocksDB's cache and memtables.
    AppendField(out, "maxmemory", ctx.engine.store().CacheCapacityBytes());
    const uint64_t cache_bytes = ctx.engine.store().CacheUsageBytes();
    AppendField(out, "rocksdb_cache_bytes", cache_bytes);
    AppendField(out, "rocksdb_memtable_bytes", ctx.engine.store().MemtableBytes());
    AppendField(out, "used_memory_outside_budget", MemoryOutsideBudget(m, cache_bytes));
    out += "\r\n";
  }
  if (wants("persistence")) {
    storage::WalStats wal = ctx.engine.wal_stats();
    core::CompactionStats compaction = ctx.engine.compaction_stats();
    storage::Status health = ctx.engine.health();
    out += "# Persistence\r\n";
    AppendField(out, "loading", static_cast<int64_t>(server.ready.load() ? 0 : 1));
    AppendField(out, "durability", server.config.durability);
    AppendField(out, "aof_enabled", static_cast<int64_t>(1));
    AppendField(out, "log_status", std::string(health.ok() ? "ok" : "failed"));
    const storage::WriteState state = ctx.engine.write_state();
    AppendField(out, "write_state",
                std::string(state == storage::WriteState::kOk         ? "ok"
                            : state == storage::WriteState::kDiskFull ? "disk_full"
                                                                      : "failed"));
    AppendField(out, "disk_full_events", ctx.engine.disk_full_events());
    AppendField(out, "disk_reserve_held", static_cast<int64_t>(ctx.engine.reserve_held() ? 1 : 0));
    AppendField(out, "log_writes", wal.writes);
    AppendField(out, "log_entries_written", wal.entries);
    AppendField(out, "log_bytes_written", wal.bytes);
    AppendField(out, "log_entries_uncompacted", ctx.engine.UncompactedEntries());
    AppendField(out, "log_entries_recovered", ctx.engine.recovered_entries());
    AppendField(out, "compaction_runs", compaction.runs);
    AppendField(out, "compaction_failures", compaction.failures);
    AppendField(out, "compaction_last_duration_us", compaction.last_duration_us);
    AppendField(out, "compaction_max_lock_held_us", compaction.max_lock_held_us);
    AppendField(out, "compaction_last_success_ms", compaction.last_success_ms);
    AppendField(out, "rocksdb_log_family_bytes", ctx.engine.store().ApproximateSize(storage::Family::kLog));
    AppendField(out, "rocksdb_kv_family_bytes", ctx.engine.store().ApproximateSize(storage::Family::kKv));
    out += "\r\n";
  }
  if (wants("stats")) {
    CommandTotals totals = SumCommandTotals(server);
    out += "# Stats\r\n";
    AppendField(out, "total_connections_received", server.total_connections.load());
    AppendField(out, "total_commands_processed", totals.processed);
    AppendField(out, "total_error_replies", totals.error_replies);
    AppendField(out, "rejected_connections", server.rejected_connections.load());
    out += "\r\n";
  }
  // As in Redis: only when asked for by name, or with "all" / "everything".
  bool commandstats = false;
  for (size_t i = 1; i < args.size(); ++i) {
    commandstats = commandstats || EqualsIgnoreCase(args[i], "commandstats") || EqualsIgnoreCase(args[i], "all") ||
                   EqualsIgnoreCase(args[i], "everything");
  }
  if (commandstats) {
    out += "# Commandstats\r\n";
    for (const CommandFigures& c : GatherCommandMetrics(server).by_command) {
      const double usec = static_cast<double>(c.sum_ns) / 1e3;
      char line[256];
      std::snprintf(line, sizeof(line),
                    "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,rejected_calls=%llu,failed_calls=%llu\r\n",
                    c.name.c_str(), static_cast<unsigned long long>(c.calls), static_cast<unsigned long long>(usec),
                    c.calls == 0 ? 0.0 : usec / static_cast<double>(c.calls),
                    static_cast<unsigned long long>(c.rejected), static_cast<unsigned long long>(c.errors));
      out += line;
    }
    out += "\r\n";
  }
  if (wants("keyspace")) {
    core::KeyspaceStats keys = ctx.engine.keyspace().Sizes();
    out += "# Keyspace\r\n";
    if (keys.keys > 0) {
      out += "db0:keys=" + std::to_string(keys.keys) + ",expires=" + std::to_string(keys.keys_with_expiry) +
             ",avg_ttl=0\r\n";
    }
  }
  reply.SendBulk(out);
}

constexpr uint32_t kConn = flags::kConnection | flags::kFast;

using enum ErrorCode;
constexpr ErrorCode kPingErrors[] = {kWrongArity};
constexpr ErrorCode kHelloErrors[] = {kNotInteger, kNoProto,         kWrongPass, kNoPassword,
                                      kNoAuth,     kInvalidArgument, kSyntax};
constexpr ErrorCode kAuthErrors[] = {kSyntax, kNoPassword, kWrongPass};
constexpr ErrorCode kSelectErrors[] = {kNotInteger, kOutOfRange};
constexpr ErrorCode kClientErrors[] = {kInvalidArgument, kUnknownSubcommand, kWrongArity};
constexpr ErrorCode kCommandErrors[] = {kUnknownSubcommand};
constexpr ErrorCode kConfigErrors[] = {kUnknownSubcommand, kNotSupported, kWrongArity};

const protocol::CommandSpec kSpecs[] = {
    {"PING", -1, kConn | flags::kSubscriberOk, "connection", "[message]",
     "Replies PONG, or the message (subscribed over RESP2: [pong, message]).", Ping, kPingErrors},
    {"ECHO", 2, kConn, "connection", "message", "Replies the message.", Echo},
    {"QUIT", -1, kConn | flags::kSubscriberOk | flags::kNoAuthOk | flags::kTransactionControl | flags::kNoScript,
     "connection", "", "Closes the connection after replying OK.", Quit},
    {"RESET", 1, kConn | flags::kSubscriberOk | flags::kNoAuthOk | flags::kTransactionControl | flags::kNoScript,
     "connection", "", "Resets the connection: drops every subscription, back to RESP2, no name. Replies RESET.",
     Reset},
    {"HELLO", -1, kConn | flags::kNoAuthOk | flags::kNoScript, "connection",
     "[protover [AUTH username password] [SETNAME clientname]]",
     "Handshake: selects RESP2 or RESP3 and describes the server.", Hello, kHelloErrors},
    {"AUTH", -2, kConn | flags::kNoAuthOk | flags::kNoScript, "connection", "[username] password",
     "Authenticates as `default` (read-write) or `reader` (read-only) when a password is configured.", Auth,
     kAuthErrors},
    {"SELECT", 2, kConn, "connection", "index", "Selects database 0 (the only one).", Select, kSelectErrors},
    {"CLIENT", -2, flags::kConnection, "connection", "SETNAME name | GETNAME | ID | SETINFO attr value | INFO",
     "Connection name, id and library info.", Client, kClientErrors},
    {"COMMAND", -1, flags::kConnection, "server", "[COUNT | INFO name ... | DOCS name ... | LIST]",
     "Describes the commands.", Command, kCommandErrors},
    {"CONFIG", -2, flags::kAdmin, "server", "GET parameter [parameter ...]", "Reads configuration values.", Config,
     kConfigErrors},
    {"INFO", -1, flags::kAdmin, "server", "[section ...]",
     "Server, clients, memory, persistence, stats and keyspace information.", Info},
};

}  // namespace

std::span<const protocol::CommandSpec> ServerCommands() { return kSpecs; }

}  // namespace tally::commands
