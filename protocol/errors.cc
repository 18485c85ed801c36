#include "protocol/errors.h"

#include <string>

#include "protocol/command_table.h"

namespace tally::protocol {
namespace {

// Redis (networking.c / server.c) caps echoed user text at 128 bytes and
// replaces CR/LF with spaces so an error reply can never break framing.
void AppendScrubbed(std::string& out, std::string_view text, size_t cap) {
  if (text.size() > cap) text = text.substr(0, cap);
  for (char c : text) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
}

std::string Plural(int64_t n, std::string_view unit) {
  std::string out = std::to_string(n);
  out.push_back(' ');
  out.append(unit);
  if (n != 1) out.push_back('s');
  return out;
}

// 3024000000 -> "35 days", 300000 -> "5 minutes", 90000 -> "90 seconds".
std::string Duration(int64_t ms) {
  constexpr int64_t kSecond = 1000, kMinute = 60 * kSecond, kHour = 60 * kMinute, kDay = 24 * kHour;
  if (ms >= kDay && ms % kDay == 0) return Plural(ms / kDay, "day");
  if (ms >= kHour && ms % kHour == 0) return Plural(ms / kHour, "hour");
  if (ms >= kMinute && ms % kMinute == 0) return Plural(ms / kMinute, "minute");
  if (ms % kSecond == 0) return Plural(ms / kSecond, "second");
  return Plural(ms, "millisecond");
}

// "-123" or "456": digits that only failed to parse for being too large.
bool LooksNumeric(std::string_view text) {
  if (!text.empty() && text[0] == '-') text.remove_prefix(1);
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

Error::Error(ErrorCode code, std::string_view text) : code_(code) {
  if (!text.empty()) Text(text);
}

Error& Error::Text(std::string_view text) {
  if (!pieces_.empty() && !pieces_.back().is_argument) {
    pieces_.back().text.append(text);
  } else {
    pieces_.push_back({false, std::string(text)});
  }
  return *this;
}

Error& Error::Arg(std::string_view name) {
  pieces_.push_back({true, std::string(name)});
  return *this;
}

Error& Error::Quoted(std::string_view user_text) {
  std::string quoted(1, '\'');
  AppendScrubbed(quoted, user_text, 128);
  quoted.push_back('\'');
  return Text(quoted);
}

Error& Error::Append(const Error& rest) {
  for (const Piece& piece : rest.pieces_) piece.is_argument ? Arg(piece.text) : Text(piece.text);
  return *this;
}

std::string_view Error::argument() const {
  for (const Piece& piece : pieces_) {
    if (piece.is_argument) return piece.text;
  }
  return {};
}

std::string Error::Message() const {
  std::string out;
  for (const Piece& piece : pieces_) out += piece.text;
  return out;
}

std::string Error::Message(const std::function<std::string(std::string_view)>& rename) const {
  std::string out;
  for (const Piece& piece : pieces_) {
    if (!piece.is_argument) {
      out += piece.text;
      continue;
    }
    std::string renamed = rename(piece.text);
    out += renamed.empty() ? piece.text : renamed;
  }
  return out;
}

namespace errors {

std::string WrongArity(std::string_view command) {
  std::string out = "wrong number of arguments for '";
  for (char c : command.substr(0, 128)) {
    out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : (c == '\r' || c == '\n' ? ' ' : c));
  }
  out += "' command";
  return out;
}

std::string UnknownCommand(std::string_view command, const std::string_view* args, size_t arg_count) {
  std::string out = "unknown command '";
  AppendScrubbed(out, command, 128);
  out += "', with args beginning with: ";
  // Same loop as Redis's processCommand(): append "'<arg>' " while the
  // argument text is under 128 bytes, each argument cut to what is left.
  std::string echoed;
  for (size_t i = 0; i < arg_count && echoed.size() < 128; ++i) {
    echoed.push_back('\'');
    echoed.append(args[i].substr(0, 128 - (echoed.size() - 1)));
    echoed += "' ";
  }
  AppendScrubbed(out, echoed, echoed.size());
  return out;
}

std::string UnknownSubcommand(std::string_view subcommand, std::string_view command) {
  std::string out = "unknown subcommand '";
  AppendScrubbed(out, subcommand, 128);
  out += "'. Try ";
  for (char c : command) out.push_back((c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c);
  out += " HELP.";
  return out;
}

std::string InvalidExpire(std::string_view command) {
  std::string out = "invalid expire time in '";
  for (char c : command.substr(0, 128)) {
    out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
  }
  out += "' command";
  return out;
}

std::string QueryBufferLimit(std::string_view setting, int64_t limit_bytes) {
  return "query buffer limit reached: " + std::string(setting) + " is " + std::to_string(limit_bytes) +
         " bytes; closing the connection";
}

std::string NoPermission(std::string_view user, std::string_view command) {
  return "User " + std::string(user) + " has no permissions to run the '" + AsciiLower(command) + "' command";
}

std::string PubSubContext(std::string_view command) {
  std::string lower(command);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return "Can't execute '" + lower +
         "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context";
}

Error UnknownChannel(std::string_view argument, std::string_view channel, std::string_view published) {
  return Error(ErrorCode::kUnknownChannel)
      .Text("unknown ")
      .Arg(argument)
      .Text(" ")
      .Quoted(channel)
      .Text(": tally publishes only ")
      .Quoted(published)
      .Text(" (quota alerts); nothing was subscribed");
}

Error PatternMatchesNoChannel(std::string_view argument, std::string_view pattern, std::string_view published) {
  return Error(ErrorCode::kUnknownChannel)
      .Arg(argument)
      .Text(" ")
      .Quoted(pattern)
      .Text(" matches no channel: tally publishes only ")
      .Quoted(published)
      .Text(" (quota alerts); nothing was subscribed");
}

Error InvalidName(std::string_view argument, std::string_view value) {
  return Error(ErrorCode::kInvalidName)
      .Text("invalid ")
      .Arg(argument)
      .Text(" ")
      .Quoted(value)
      .Text(": use 1-128 printable ASCII characters other than space , \" ' ` < >");
}

Error UnknownInterval(std::string_view argument, std::string_view value) {
  return Error(ErrorCode::kInvalidInterval)
      .Text("unknown ")
      .Arg(argument)
      .Text(" ")
      .Quoted(value)
      .Text(" (expected ")
      .Text(kIntervalNames)
      .Text(")");
}

Error NotACalendarInterval(std::string_view argument, std::string_view value) {
  return Error(ErrorCode::kInvalidInterval)
      .Arg(argument)
      .Text(" ")
      .Quoted(value)
      .Text(" has no periods to list (use hour, day, week, month, quarter or year)");
}

Error RangeNeedsCalendarInterval(std::string_view from_argument, std::string_view to_argument,
                                 std::string_view argument, std::string_view value) {
  return Error(ErrorCode::kInvalidInterval)
      .Arg(from_argument)
      .Text(" and ")
      .Arg(to_argument)
      .Text(" need a calendar interval: ")
      .Arg(argument)
      .Text(" ")
      .Quoted(value)
      .Text(" has no periods (use hour, day, week, month, quarter or year)");
}

Error InvalidPeriod(std::string_view argument, std::string_view detail) {
  Error error(ErrorCode::kInvalidPeriod);
  if (argument == "period") return error.Text(detail);
  return error.Arg(argument).Text(": ").Text(detail);
}

Error RangeReversed(std::string_view from_argument, std::string_view from, std::string_view to_argument,
                    std::string_view to) {
  return Error(ErrorCode::kInvalidPeriod)
      .Arg(from_argument)
      .Text(" ")
      .Text(from.substr(0, 64))
      .Text(" is after ")
      .Arg(to_argument)
      .Text(" ")
      .Text(to.substr(0, 64));
}

Error NotAnInteger(std::string_view argument, std::string_view value) {
  Error error(ErrorCode::kNotInteger);
  error.Arg(argument).Text(" ").Quoted(value);
  return LooksNumeric(value) ? error.Text(" is out of range for a signed 64-bit integer")
                             : error.Text(" is not an integer");
}

Error OutOfRange(std::string_view argument, int64_t low, int64_t high) {
  return Error(ErrorCode::kOutOfRange)
      .Arg(argument)
      .Text(" must be between " + std::to_string(low) + " and " + std::to_string(high));
}

Error TimeLooksLikeSeconds(std::string_view argument, int64_t value) {
  return Error(ErrorCode::kInvalidTime)
      .Arg(argument)
      .Text(" " + std::to_string(value) + " looks like seconds: ")
      .Arg(argument)
      .Text(" is in milliseconds since the epoch (did you mean " + std::to_string(value) + "000?)");
}

Error TimeTooOld(std::string_view argument, int64_t value, int64_t max_backdate_ms) {
  return Error(ErrorCode::kInvalidTime)
      .Arg(argument)
      .Text(" " + std::to_string(value) + " is more than " + Duration(max_backdate_ms) + " (max_backdate) in the past");
}

Error TimeTooNew(std::string_view argument, int64_t value, int64_t max_future_skew_ms) {
  return Error(ErrorCode::kInvalidTime)
      .Arg(argument)
      .Text(" " + std::to_string(value) + " is more than " + Duration(max_future_skew_ms) +
            " (max_future_skew) in the future");
}

Error InvalidEventId(std::string_view argument, std::string_view value) {
  return Error(ErrorCode::kInvalidId)
      .Arg(argument)
      .Text(" ")
      .Quoted(value)
      .Text(" is not a valid event id: use 1-128 printable characters, no spaces");
}

Error InvalidActor(std::string_view argument, std::string_view value) {
  // Control bytes of an actor are shown as '?': it is echoed into logs too.
  std::string shown;
  for (char c : value.substr(0, 128)) shown.push_back(c < ' ' || c > '~' ? '?' : c);
  return Error(ErrorCode::kInvalidActor)
      .Arg(argument)
      .Text(": invalid actor ")
      .Quoted(shown)
      .Text(": use 1-128 printable ASCII characters (spaces allowed, not first or last)");
}

Error ActorMissing(std::string_view argument) {
  return Error(ErrorCode::kSyntax).Arg(argument).Text(" needs an actor: ... ").Arg(argument).Text(" <actor>");
}

Error UnknownTimeZone(std::string_view argument, std::string_view value) {
  return Error(ErrorCode::kInvalidTimezone)
      .Text("unknown ")
      .Arg(argument)
      .Text(" ")
      .Quoted(value)
      .Text(" (use an IANA name like Europe/Berlin)");
}

Error InvalidSince(std::string_view argument) {
  return Error(ErrorCode::kNotInteger)
      .Arg(argument)
      .Text(" must be a non-negative integer (0, or the next-seq of an earlier reply)");
}

Error OptionNeedsValue(std::string_view option, std::string_view placeholder) {
  return Error(ErrorCode::kSyntax).Arg(option).Text(" needs a value: ").Arg(option).Text(" ").Text(placeholder);
}

Error UnknownOption(std::string_view word, std::string_view expected) {
  return Error(ErrorCode::kSyntax).Text("unknown option ").Quoted(word).Text(" (expected ").Text(expected).Text(")");
}

Error UnexpectedArgument(std::string_view word, std::string_view command, std::string_view syntax) {
  return Error(ErrorCode::kSyntax)
      .Text("unexpected argument ")
      .Quoted(word)
      .Text(": ")
      .Text(command)
      .Text(" takes ")
      .Text(syntax);
}

Error NeedsBoth(std::string_view command, std::string_view first, std::string_view second) {
  return Error(ErrorCode::kSyntax).Text(command).Text(" needs both ").Arg(first).Text(" and ").Arg(second);
}

Error NotTogether(std::string_view first, std::string_view second) {
  return Error(ErrorCode::kSyntax).Arg(first).Text(" and ").Arg(second).Text(" cannot be given together");
}

Error IncompleteGroups(std::string_view option, std::string_view group, size_t words) {
  return Error(ErrorCode::kSyntax)
      .Arg(option)
      .Text(" takes groups of ")
      .Text(group)
      .Text(": " + std::to_string(words) + (words == 1 ? " word follows it" : " words follow it"));
}

Error InListItem(std::string_view item, size_t position, std::string_view list, const Error& error) {
  return Error(error.code())
      .Text(item)
      .Text(" " + std::to_string(position) + " of ")
      .Arg(list)
      .Text(": ")
      .Append(error);
}

Error Needs(std::string_view argument, std::string_view needed) {
  return Error(ErrorCode::kSyntax).Arg(argument).Text(" needs ").Arg(needed);
}

Error CursorTooOld(uint64_t since, std::string_view what, uint64_t oldest, int64_t retention_ms) {
  std::string message = "cursor " + std::to_string(since) + " is older than the oldest kept " + std::string(what) +
                        " " + std::to_string(oldest) + ": the records in between were trimmed";
  if (retention_ms > 0) message += " (changes_retention_s = " + std::to_string(retention_ms / 1000) + ")";
  message += "; rebuild the mirror from a full export and resume from CHANGES.INFO's newest";
  return Error(ErrorCode::kCursorTooOld, message);
}

Error CursorAhead(uint64_t since, std::string_view what, uint64_t newest) {
  return Error(ErrorCode::kInvalidCursor, "cursor " + std::to_string(since) + " is past the newest " +
                                              std::string(what) + " " + std::to_string(newest) +
                                              " (a cursor from another data dir?)");
}

Error MissingHost(size_t host_headers) {
  return Error(ErrorCode::kMissingHost,
               host_headers == 0
                   ? "an HTTP/1.1 request needs a Host header"
                   : "an HTTP/1.1 request needs exactly one Host header, this one has " + std::to_string(host_headers));
}

Error BodyNotJson() { return Error(ErrorCode::kInvalidJson, "the request body is not valid JSON"); }
Error BodyNotObject() { return Error(ErrorCode::kInvalidJson, "the request body must be a JSON object"); }

Error UnexpectedBody(std::string_view method, std::string_view pattern) {
  return Error(ErrorCode::kUnexpectedBody)
      .Text(method)
      .Text(" ")
      .Text(pattern)
      .Text(" takes no request body (its arguments are in the path and the query string)");
}

namespace {

Error Unknown(ErrorCode code, std::string_view what, std::string_view name, std::string_view accepted,
              std::string_view hint) {
  Error error(code);
  error.Text("unknown ").Text(what).Text(" ").Quoted(name);
  if (!hint.empty()) return error.Text(": ").Text(hint);
  if (accepted.empty()) return error.Text(": this route takes none");
  return error.Text("; this route takes: ").Text(accepted);
}

}  // namespace

Error UnknownField(std::string_view name, std::string_view accepted, std::string_view hint) {
  return Unknown(ErrorCode::kUnknownField, "field", name, accepted, hint);
}

Error UnknownParameter(std::string_view name, std::string_view accepted, std::string_view hint) {
  return Unknown(ErrorCode::kUnknownParameter, "query parameter", name, accepted, hint);
}

Error RepeatedParameter(std::string_view name, size_t times) {
  return Error(ErrorCode::kRepeatedParameter)
      .Text("query parameter ")
      .Quoted(name)
      .Text(" is given " + std::to_string(times) + " times; give it once");
}

Error DuplicateKey(std::string_view key, std::string_view inside) {
  Error error(ErrorCode::kDuplicateKey);
  error.Text("duplicate key ").Quoted(key).Text(" in the request body");
  if (!inside.empty()) error.Text(" (in ").Quoted(inside).Text(")");
  return error;
}

Error FieldWrongType(std::string_view where, std::string_view name, std::string_view expected, std::string_view got) {
  return Error(ErrorCode::kInvalidField)
      .Text(where)
      .Text(" ")
      .Quoted(name)
      .Text(" must be ")
      .Text(expected)
      .Text(", got ")
      .Text(got);
}

Error ParameterNotInteger(std::string_view name, std::string_view value) {
  Error error(ErrorCode::kNotInteger);
  error.Text("query parameter ").Quoted(name).Text(" must be an integer");
  if (LooksNumeric(value)) return error.Text(" in the signed 64-bit range, got ").Quoted(value);
  return error.Text(", got ").Quoted(value);
}

Error FieldOutOfRange(std::string_view where, std::string_view name) {
  return Error(ErrorCode::kNotInteger)
      .Text(where)
      .Text(" ")
      .Quoted(name)
      .Text(" is out of range for a signed 64-bit integer");
}

Error NotAChoice(std::string_view where, std::string_view name, std::string_view choices, std::string_view value) {
  return Error(ErrorCode::kInvalidField)
      .Text(where)
      .Text(" ")
      .Quoted(name)
      .Text(" must be one of ")
      .Text(choices)
      .Text(", got ")
      .Quoted(value);
}

Error FieldNotWith(std::string_view name, std::string_view other, std::string_view choices) {
  return Error(ErrorCode::kInvalidField)
      .Text("field ")
      .Quoted(name)
      .Text(" cannot be given with ")
      .Quoted(other)
      .Text(": send one of ")
      .Text(choices);
}

Error ListSize(std::string_view where, std::string_view name, size_t low, size_t high, std::string_view items,
               size_t got) {
  return Error(ErrorCode::kOutOfRange)
      .Text(where)
      .Text(" ")
      .Quoted(name)
      .Text(" must list " + std::to_string(low) + " to " + std::to_string(high) + " ")
      .Text(items)
      .Text(" separated by commas (got " + std::to_string(got) + ")");
}

Error MissingField(std::string_view where, std::string_view name) {
  return Error(ErrorCode::kMissingField).Text("missing ").Text(where).Text(" ").Quoted(name);
}

Error FieldNeeds(std::string_view where, std::string_view name, std::string_view needed_where,
                 std::string_view needed) {
  return Error(ErrorCode::kMissingField)
      .Text(where)
      .Text(" ")
      .Quoted(name)
      .Text(" needs ")
      .Text(needed_where)
      .Text(" ")
      .Quoted(needed);
}

Error StorageReadFailed(std::string_view family) {
  return Error(ErrorCode::kStorageReadFailed)
      .Text("storage read failed in column family '")
      .Text(family.empty() ? std::string_view("?") : family)
      .Text("' (damaged file or I/O error): nothing was answered from it or changed; the daemon's log names the key");
}

Error BadTarget(std::string_view why) { return Error(ErrorCode::kBadRequest, why); }

Error NoSuchRoute(std::string_view target) {
  std::string message = "no such route: ";
  AppendScrubbed(message, target, 256);
  return Error(ErrorCode::kNotFound, message);
}

Error MethodNotAllowed(std::string_view method, std::string_view allowed) {
  std::string message;
  AppendScrubbed(message, method, 32);
  message += " is not allowed here (allowed: " + std::string(allowed) + ")";
  return Error(ErrorCode::kMethodNotAllowed, message);
}

std::string ExampleMessage(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnknownCommand: {
      const std::string_view args[] = {"a"};
      return UnknownCommand("FOO", args, 1);
    }
    case ErrorCode::kWrongArity:
      return WrongArity("incrby");
    case ErrorCode::kSyntax:
      return std::string(kSyntax) + "  |  " + UnknownOption("WHEN", "AT or ID").Message() + "  |  " +
             NeedsBoth("CTR.SUM", "FROM", "TO").Message();
    case ErrorCode::kProtocol:
      return std::string(kProtoInvalidMultibulkLength);
    case ErrorCode::kUnknownSubcommand:
      return UnknownSubcommand("FOO", "CLIENT");
    case ErrorCode::kNotInteger:
      return std::string(kNotInteger) + "  |  " + NotAnInteger("delta", "abc").Message();
    case ErrorCode::kOverflow:
      return std::string(kOverflow);
    case ErrorCode::kOutOfRange:
      return OutOfRange("COUNT", 1, 10000).Message() + "  |  " + std::string(kDbIndexOutOfRange);
    case ErrorCode::kInvalidArgument:
      return std::string(kInvalidClientName);
    case ErrorCode::kNotSupported:
      return "CONFIG SET is not supported: set options in tally.toml or with flags, then SIGHUP or restart";
    case ErrorCode::kInvalidExpire:
      return InvalidExpire("set");
    case ErrorCode::kInvalidCursor:
      return std::string(kInvalidCursor) + "  |  " + CursorAhead(8, "change", 7).Message();
    case ErrorCode::kNoProto:
      return std::string(kNoProto);
    case ErrorCode::kWrongPass:
      return std::string(kWrongPass);
    case ErrorCode::kNoPassword:
      return std::string(kNoPasswordConfigured);
    case ErrorCode::kNoAuth:
      return std::string(kNoAuth);
    case ErrorCode::kNoPerm:
      return NoPermission("reader", "CTR.INCRBY");
    case ErrorCode::kTooManyConnections:
      return std::string(kMaxClients);
    case ErrorCode::kQueryBufferLimit:
      return QueryBufferLimit("client_query_buffer_limit", 134217728);
    case ErrorCode::kPubSubContext:
      return PubSubContext("GET");
    case ErrorCode::kUnknownChannel:
      return UnknownChannel("channel", "alert", "alerts").Message() + "  |  " +
             PatternMatchesNoChannel("pattern", "foo*", "alerts").Message();
    case ErrorCode::kTransactionState:
      return std::string(kNestedMulti) + "  |  " + std::string(kExecWithoutMulti);
    case ErrorCode::kExecAbort:
      return std::string(kExecAbort);
    case ErrorCode::kWrongType:
      return std::string(kWrongKind) + "  |  " + std::string(kNotHyperLogLog);
    case ErrorCode::kNotFloat:
      return std::string(kNotFloat) + "  |  " + std::string(kNanOrInfinity);
    case ErrorCode::kScriptError:
      return "ERR user_script:1: Script attempted to access nonexistent global variable 'x' script: "
             "e5c6b7d9a4f1c3e2b8a7d6c5f4e3d2c1b0a9f8e7, on @user_script:1.";
    case ErrorCode::kNoScript:
      return std::string(kNoScript);
    case ErrorCode::kBusy:
      return std::string(kBusy);
    case ErrorCode::kNotBusy:
      return std::string(kNotBusy);
    case ErrorCode::kUnkillable:
      return std::string(kUnkillable);
    case ErrorCode::kInvalidName:
      return InvalidName("owner", "user 42").Message();
    case ErrorCode::kInvalidInterval:
      return UnknownInterval("interval", "fortnight").Message();
    case ErrorCode::kInvalidPeriod:
      return "invalid period '2024-13' for interval 'month' (expected e.g. '2024-12' or 'current')";
    case ErrorCode::kInvalidTime:
      return TimeLooksLikeSeconds("AT", 1796395548).Message() + "  |  " +
             TimeTooOld("AT", 1700000000000, 35LL * 86400 * 1000).Message();
    case ErrorCode::kInvalidId:
      return InvalidEventId("ID", "a b").Message();
    case ErrorCode::kInvalidActor:
      return InvalidActor("BY", " alice").Message();
    case ErrorCode::kInvalidTimezone:
      return UnknownTimeZone("timezone", "Mars/Base").Message();
    case ErrorCode::kDuplicate:
      return "event id 'req-1' was already applied within the dedupe window; nothing changed";
    case ErrorCode::kIdConflict:
      return "event id 'req-1' was already used with different arguments within the dedupe window; nothing changed";
    case ErrorCode::kCursorTooOld:
      return CursorTooOld(3, "change", 8, 604800000).Message();
    case ErrorCode::kStorageFailed:
      return std::string(kStorageFailed);
    case ErrorCode::kStorageReadFailed:
      return StorageReadFailed("owners").Message();
    case ErrorCode::kDiskFull:
      return std::string(kDiskFull);
    case ErrorCode::kNotReady:
      return std::string(kNotReady);
    case ErrorCode::kInvalidPlan:
      return "invalid plan 'pro': feature 'api_calls': limit must be an integer >= 0 or null";
    case ErrorCode::kUnknownPlan:
      return std::string(kUnknownPlan);
    case ErrorCode::kPlanInUse:
      return std::string(kPlanInUse);
    case ErrorCode::kNoPlan:
      return std::string(kNoPlan);
    case ErrorCode::kUnknownFeature:
      return std::string(kUnknownFeature);
    case ErrorCode::kUnknownGrant:
      return std::string(kUnknownGrant);
    case ErrorCode::kUnknownReservation:
      return std::string(kUnknownReservation);
    case ErrorCode::kQuotaExceeded:
      return "quota exceeded for 'api_calls': 5 more than the limit and credits allow; nothing changed";
    case ErrorCode::kUnknownPrice:
      return "no price 'chat.tokens' (GET /v1/prices lists the prices)";
    case ErrorCode::kInvalidBackupDir:
      return "backup failed: /var/backups/tally/x is not empty: a backup goes into a new directory";
    case ErrorCode::kBackupFailed:
      return "backup failed: cannot write /var/backups/tally/x/db/000012.sst: No space left on device";
    case ErrorCode::kBadRequest:
      return BadTarget("bad percent-encoding in the query string").Message();
    case ErrorCode::kMissingHost:
      return MissingHost(0).Message();
    case ErrorCode::kHostNotAllowed:
      return "Host 'attacker.example' is not this server's: add it to http_allowed_hosts if it is";
    case ErrorCode::kOriginNotAllowed:
      return "Origin 'https://evil.example' may not use this API: add it to http_allowed_origins if it should";
    case ErrorCode::kUnsupportedMediaType:
      return "Content-Type 'text/plain' is not accepted: send the body as application/json";
    case ErrorCode::kInvalidJson:
      return BodyNotJson().Message();
    case ErrorCode::kUnexpectedBody:
      return UnexpectedBody("GET", "/v1/top").Message();
    case ErrorCode::kUnknownField:
      return UnknownField("amount", "by, at, id", "").Message();
    case ErrorCode::kUnknownParameter:
      return UnknownParameter("intervall", "interval, period", "did you mean 'interval'?").Message();
    case ErrorCode::kRepeatedParameter:
      return RepeatedParameter("interval", 2).Message();
    case ErrorCode::kDuplicateKey:
      return DuplicateKey("by", "").Message();
    case ErrorCode::kInvalidField:
      return FieldWrongType("field", "by", "an integer", "a string (\"5\")").Message();
    case ErrorCode::kMissingField:
      return MissingField("query parameter", "interval").Message();
    case ErrorCode::kNotFound:
      return NoSuchRoute("/v2/anything").Message();
    case ErrorCode::kMethodNotAllowed:
      return MethodNotAllowed("PATCH", "GET, PUT, DELETE").Message();
    case ErrorCode::kRequestTimeout:
      return "the request did not arrive within 30000 ms";
    case ErrorCode::kPayloadTooLarge:
      return "the request body exceeds 1048576 bytes";
    case ErrorCode::kHeadersTooLarge:
      return "the request header exceeds 16384 bytes";
    case ErrorCode::kInternal:
      return "internal error";
  }
  return {};
}

}  // namespace errors
}  // namespace tally::protocol
