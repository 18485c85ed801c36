#include "protocol/error_codes.h"

#include <cstdio>
#include <cstdlib>
#include <iterator>

namespace tally::protocol {
namespace {

using enum ErrorCode;
using enum ErrorScope;

// One row per ErrorCode, in enum order (checked at compile time below).
constexpr ErrorCodeInfo kCodes[] = {
    {kUnknownCommand, "unknown_command", 400, "ERR", kRespOnly, "The command name is not known."},
    {kWrongArity, "wrong_arity", 400, "ERR", kRespOnly, "The command got too few or too many arguments."},
    {kSyntax, "syntax", 400, "ERR", kRespOnly,
     "The arguments do not follow the command's syntax: an unknown option, an option without its value, an extra "
     "argument."},
    {kProtocol, "protocol_error", 400, "ERR", kRespOnly,
     "The bytes are not valid RESP; the reply is sent, then that connection (only) is closed."},
    {kUnknownSubcommand, "unknown_subcommand", 400, "ERR", kRespOnly,
     "CLIENT, COMMAND or CONFIG got a subcommand they do not have."},
    {kNotInteger, "not_integer", 400, "ERR", kBoth,
     "An argument (or a stored plain value) that must be a signed 64-bit integer is not one."},
    {kNotFloat, "not_float", 400, "ERR", kRespOnly,
     "A score, increment or range bound that must be a float is not one (NaN included), a stored value or hash "
     "field is not a float, or a float increment would make NaN or an infinity; nothing changed."},
    {kOverflow, "overflow", 400, "ERR", kBoth,
     "The increment or decrement would overflow a signed 64-bit value; nothing changed."},
    {kOutOfRange, "out_of_range", 400, "ERR", kBoth,
     "A number is outside the range its argument allows (COUNT, LIMIT, count, a database index)."},
    {kInvalidArgument, "invalid_argument", 400, "ERR", kRespOnly,
     "An argument's value is not allowed (a client name with spaces, an unknown CLIENT SETINFO attribute)."},
    {kNotSupported, "not_supported", 400, "ERR", kRespOnly, "The command exists, but not in this form (CONFIG SET)."},
    {kInvalidExpire, "invalid_expire", 400, "ERR", kRespOnly,
     "SET, EXPIRE or PEXPIRE got an expiry that is zero, negative or too large."},
    {kInvalidCursor, "invalid_cursor", 400, "ERR", kBoth,
     "A SCAN cursor is not a number, or a feed cursor is past the newest record (a cursor of another data dir)."},
    {kNoProto, "no_proto", 400, "NOPROTO", kRespOnly, "HELLO asked for a protocol version other than 2 or 3."},
    {kWrongPass, "wrong_pass", 401, "WRONGPASS", kRespOnly, "AUTH or HELLO AUTH named a user that does not exist."},
    {kNoPassword, "no_password", 400, "ERR", kRespOnly,
     "AUTH gave a password, but none is configured (any client may connect)."},
    {kNoAuth, "unauthorized", 401, "NOAUTH", kBoth,
     "A password or token is configured and the connection (RESP) or request (HTTP) has not given it: AUTH first, "
     "or send Authorization: Bearer <token>. Only AUTH, HELLO ... AUTH, QUIT and RESET run before."},
    {kNoPerm, "forbidden", 403, "NOPERM", kBoth,
     "The read-only identity (the reader user, the read token) asked for a command that changes state; nothing "
     "changed."},
    {kTooManyConnections, "too_many_connections", 429, "ERR", kBoth,
     "More connections than the limit (--max-clients, --http-max-connections); the connection is closed."},
    {kQueryBufferLimit, "query_buffer_limit", 413, "ERR", kRespOnly,
     "An incomplete request held more memory than client_query_buffer_limit (one connection) or "
     "total_query_buffer_limit (all connections together); the connection is closed."},
    {kPubSubContext, "pubsub_context", 400, "ERR", kRespOnly,
     "A RESP2 connection subscribed to a channel or pattern sent a command other than SUBSCRIBE, UNSUBSCRIBE, "
     "PSUBSCRIBE, PUNSUBSCRIBE, PING, QUIT or RESET (Redis's rule); it stays subscribed."},
    {kUnknownChannel, "unknown_channel", 400, "ERR", kRespOnly,
     "SUBSCRIBE named a channel tally does not publish, or PSUBSCRIBE a pattern that matches none (tally publishes "
     "'alerts'); nothing was subscribed."},
    {kWrongType, "wrong_type", 400, "WRONGTYPE", kRespOnly,
     "The key holds another type than the command works on (a hash for GET, a string for HSET, a sorted set for "
     "HGET), or PFADD, PFCOUNT or PFMERGE named a key whose value is not a HyperLogLog (a plain string, or a sketch "
     "that is damaged); nothing changed."},
    {kTransactionState, "transaction_state", 400, "ERR", kRespOnly,
     "MULTI inside MULTI, WATCH inside MULTI, or EXEC or DISCARD without MULTI (Redis's texts); the transaction, "
     "if any, goes on as it was."},
    {kExecAbort, "exec_abort", 400, "EXECABORT", kRespOnly,
     "EXEC of a transaction in which a command was refused while queuing (unknown, wrong number of arguments, not "
     "allowed): nothing in it ran."},
    {kScriptError, "script_error", 400, "ERR", kRespOnly,
     "A script failed (a runtime or compile error, a redis.call that failed, redis.error_reply): the message starts "
     "with its own code word, ERR unless the script chose another, and names the script's SHA-1 and line."},
    {kNoScript, "no_script", 400, "NOSCRIPT", kRespOnly,
     "EVALSHA named a script that is not in the script cache (never loaded, or lost to a restart or SCRIPT FLUSH): "
     "send it with EVAL or SCRIPT LOAD."},
    {kBusy, "busy", 503, "BUSY", kBoth,
     "A script has run longer than script_time_limit_ms: every other command is refused until it ends, except "
     "SCRIPT KILL and the connection commands."},
    {kNotBusy, "not_busy", 400, "NOTBUSY", kBoth, "SCRIPT KILL while no script runs."},
    {kUnkillable, "unkillable", 409, "UNKILLABLE", kBoth,
     "SCRIPT KILL of a script that has already written: stopping it would break its atomicity, so it runs on; only "
     "stopping the daemon (kill -9) ends it, and then none of its writes are kept."},
    {kInvalidName, "invalid_name", 400, "ERR", kBoth,
     "An owner, key or owner type is not 1-128 printable ASCII characters, or holds a space or one of , \" ' ` < >."},
    {kInvalidInterval, "invalid_interval", 400, "ERR", kBoth,
     "An interval is not one of total, hour, day, week, month, quarter, year (or not one the command accepts)."},
    {kInvalidPeriod, "invalid_period", 400, "ERR", kBoth,
     "A period label does not name a period of its interval, or a range ends before it starts."},
    {kInvalidTime, "invalid_time", 400, "ERR", kBoth,
     "An event time (AT) is not in unix milliseconds, or lies beyond max_backdate or max_future_skew."},
    {kInvalidId, "invalid_id", 400, "ERR", kBoth, "An event id is not 1-128 printable characters without spaces."},
    {kInvalidActor, "invalid_actor", 400, "ERR", kBoth,
     "An actor (BY, X-Actor) is not 1-128 printable ASCII characters (spaces allowed, not first or last)."},
    {kInvalidTimezone, "invalid_timezone", 400, "ERR", kBoth, "A time zone is not a known IANA name."},
    {kDuplicate, "duplicate", 409, "ERR", kHttpOnly,
     "The event id was already applied within the dedupe window; nothing changed (RESP replies the total)."},
    {kIdConflict, "id_conflict", 409, "ERR", kBoth,
     "The event id was already used within the dedupe window with different arguments; nothing changed."},
    {kCursorTooOld, "cursor_too_old", 410, "ERR", kBoth,
     "A feed cursor is older than what retention kept: rebuild the mirror from an export."},
    {kStorageFailed, "storage_failed", 503, "ERR", kBoth,
     "The write-ahead log cannot be written: writes are refused until the daemon is restarted."},
    {kStorageReadFailed, "storage_read_failed", 500, "ERR", kBoth,
     "Stored data needed by the request could not be read (a damaged file, an I/O error); nothing was answered from "
     "it or changed. The message names the column family; the daemon logs the key."},
    {kDiskFull, "disk_full", 507, "ERR", kBoth,
     "The data dir's filesystem is full: writes are refused, reads go on; writes resume by themselves once space is "
     "freed."},
    {kNotReady, "not_ready", 503, "ERR", kHttpOnly, "The daemon is still recovering, or stopping."},
    {kInvalidPlan, "invalid_plan", 400, "ERR", kBoth,
     "A plan is not valid JSON of the plan's shape: an unknown key, a negative limit, an unknown period or overage "
     "policy; the message names the key."},
    {kUnknownPlan, "unknown_plan", 404, "ERR", kBoth, "No plan has that name (PLAN.LIST lists them)."},
    {kPlanInUse, "plan_in_use", 409, "ERR", kBoth,
     "The plan cannot be deleted while owners are on it: assign them another plan first."},
    {kNoPlan, "no_plan", 404, "ERR", kBoth, "The owner has no plan (PLAN.ASSIGN) and no credits for the feature."},
    {kUnknownFeature, "unknown_feature", 404, "ERR", kBoth,
     "The owner's plan has no such feature and the owner has no credits for it."},
    {kUnknownGrant, "unknown_grant", 404, "ERR", kBoth, "The owner has no credit grant with that id."},
    {kUnknownReservation, "unknown_reservation", 404, "ERR", kBoth,
     "The owner has no reservation with that id (QUOTA.RESERVE returned it)."},
    {kQuotaExceeded, "quota_exceeded", 429, "ERR", kHttpOnly,
     "A consume or reservation does not fit the feature's limit and credits; nothing changed. The body carries the "
     "figures (RESP replies them with allowed 0)."},
    {kUnknownPrice, "unknown_price", 404, "ERR", kHttpOnly,
     "No price has that name (GET /v1/prices lists them; PRICE.GET replies nil)."},
    {kInvalidBackupDir, "invalid_backup_dir", 400, "ERR", kBoth,
     "A backup directory is not an absolute path, exists and is not an empty directory, or cannot be created; "
     "nothing was written."},
    {kBackupFailed, "backup_failed", 500, "ERR", kBoth,
     "The backup could not be written (no space, an I/O error); what it had written is removed, the data dir is "
     "unchanged and writes go on."},
    {kBadRequest, "bad_request", 400, "ERR", kHttpOnly,
     "The HTTP request is malformed: a bad request target or percent-encoding, or bytes that are not HTTP."},
    {kMissingHost, "missing_host", 400, "ERR", kHttpOnly,
     "An HTTP/1.1 request without a Host header (or with more than one)."},
    {kHostNotAllowed, "host_not_allowed", 403, "ERR", kHttpOnly,
     "The Host header names neither this machine (localhost, an IP address) nor a name in http_allowed_hosts: a "
     "web page that re-pointed its own domain at tallyd (DNS rebinding) is refused; nothing changed."},
    {kOriginNotAllowed, "origin_not_allowed", 403, "ERR", kHttpOnly,
     "A browser sent the request from a page of another site (its Origin is neither this server nor in "
     "http_allowed_origins); nothing changed."},
    {kUnsupportedMediaType, "unsupported_media_type", 415, "ERR", kHttpOnly,
     "A request body must be JSON (Content-Type: application/json, or application/x-ndjson for POST /v1/events): "
     "a form or text/plain body, which a page of any site can make a browser send, is refused; nothing changed."},
    {kInvalidJson, "invalid_json", 400, "ERR", kHttpOnly, "The request body is not valid JSON, or not a JSON object."},
    {kUnexpectedBody, "unexpected_body", 400, "ERR", kHttpOnly, "A request body was sent to a route that takes none."},
    {kUnknownField, "unknown_field", 400, "ERR", kHttpOnly, "The JSON body has a field the route does not take."},
    {kUnknownParameter, "unknown_parameter", 400, "ERR", kHttpOnly,
     "The query string has a parameter the route does not take."},
    {kRepeatedParameter, "repeated_parameter", 400, "ERR", kHttpOnly, "A query parameter is given more than once."},
    {kDuplicateKey, "duplicate_key", 400, "ERR", kHttpOnly, "A JSON object in the body has the same key twice."},
    {kInvalidField, "invalid_field", 400, "ERR", kHttpOnly,
     "A body field or query parameter has the wrong type (a float, a number in a string) or a value not allowed."},
    {kMissingField, "missing_field", 400, "ERR", kHttpOnly,
     "A required body field or query parameter is missing, or one given needs another that is not."},
    {kNotFound, "not_found", 404, "ERR", kHttpOnly, "No route has this path."},
    {kMethodNotAllowed, "method_not_allowed", 405, "ERR", kHttpOnly,
     "The path exists for other methods (listed in the Allow header)."},
    {kRequestTimeout, "request_timeout", 408, "ERR", kHttpOnly, "A request stalled half-way (--http-read-timeout-ms)."},
    {kPayloadTooLarge, "payload_too_large", 413, "ERR", kHttpOnly,
     "The body is over --http-max-body-bytes; the connection is closed."},
    {kHeadersTooLarge, "headers_too_large", 431, "ERR", kHttpOnly,
     "The headers are over --http-max-header-bytes; the connection is closed."},
    {kInternal, "internal", 500, "ERR", kBoth,
     "A bug: a command or route failed unexpectedly (the daemon logs it); the connection stays usable."},
};

constexpr bool InEnumOrder() {
  for (size_t i = 0; i < std::size(kCodes); ++i) {
    if (static_cast<size_t>(kCodes[i].code) != i) return false;
  }
  return static_cast<size_t>(kInternal) + 1 == std::size(kCodes);
}
static_assert(InEnumOrder(), "kCodes must have one row per ErrorCode, in enum order");

}  // namespace

const ErrorCodeInfo& Describe(ErrorCode code) {
  const size_t index = static_cast<size_t>(code);
  if (index >= std::size(kCodes)) {
    std::fprintf(stderr, "error code %zu has no row in the error table\n", index);
    std::abort();
  }
  return kCodes[index];
}

std::span<const ErrorCodeInfo> AllErrorCodes() { return kCodes; }

std::optional<ErrorCode> ErrorCodeByName(std::string_view name) {
  for (const ErrorCodeInfo& info : kCodes) {
    if (info.name == name) return info.code;
  }
  return std::nullopt;
}

}  // namespace tally::protocol
