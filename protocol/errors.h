#pragma once
// The one home of every error message tally sends, and the Error value that
// carries one from a handler to a front end.
//
// Texts that Redis also sends are byte-for-byte Redis's, because client
// libraries and users match on them; they stay with the plain Redis commands.
// tally's own commands say which argument is wrong and what it should look
// like. Messages carry no "ERR " prefix: the RESP sink writes the prefix of
// the error's code (protocol/error_codes.h).
//
// An Error marks the names of the command arguments it talks about
// ("COUNT", "AT", "delta": as the command's syntax spells them). The line
// protocol prints those names; the HTTP API prints the name of the query
// parameter, body field or header that fed the argument ("limit", "at",
// "by"), from the route's declaration, never by rewriting free text.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/error_codes.h"

namespace tally::protocol {

class Error {
 public:
  // A message without argument names (or none yet: build it with the methods below).
  explicit Error(ErrorCode code, std::string_view text = {});

  // Builders, appending to the message.
  Error& Text(std::string_view text);  // tally's own words
  Error& Arg(std::string_view name);   // a command argument's name, as its syntax spells it
  // User bytes quoted as 'text': at most 128 bytes, CR and LF replaced by
  // spaces (Redis's rule), so a reply can never break framing.
  Error& Quoted(std::string_view user_text);
  // Another error's message (its argument names stay names): for an error
  // about one part of a list ("cell 2 of CELLS: " + the part's own error).
  Error& Append(const Error& rest);

  ErrorCode code() const { return code_; }
  // The first argument the message names ("" if none): what the error is about.
  std::string_view argument() const;
  // The message with argument names as the command's syntax spells them.
  std::string Message() const;
  // The message with each argument name passed through `rename`; an empty
  // result keeps the syntax's name.
  std::string Message(const std::function<std::string(std::string_view argument)>& rename) const;

 private:
  struct Piece {
    bool is_argument;
    std::string text;
  };
  ErrorCode code_;
  std::vector<Piece> pieces_;
};

namespace errors {

// ---- Redis's texts (byte-for-byte) --------------------------------------------
// Redis's text, byte for byte.
inline constexpr std::string_view kNotHyperLogLog = "Key is not a valid HyperLogLog string value.";
// Hashes, sorted sets, INCRBYFLOAT (Redis 7.0's exact texts).
inline constexpr std::string_view kWrongKind = "Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kNotFloat = "value is not a valid float";
inline constexpr std::string_view kNanOrInfinity = "increment would produce NaN or Infinity";
inline constexpr std::string_view kHashNotInteger = "hash value is not an integer";
inline constexpr std::string_view kHashNotFloat = "hash value is not a float";
inline constexpr std::string_view kScoreNan = "resulting score is not a number (NaN)";
inline constexpr std::string_view kNotInteger = "value is not an integer or out of range";
inline constexpr std::string_view kOverflow = "increment or decrement would overflow";
inline constexpr std::string_view kDecrementOverflow = "decrement would overflow";
inline constexpr std::string_view kSyntax = "syntax error";
inline constexpr std::string_view kDbIndexOutOfRange = "DB index is out of range";
inline constexpr std::string_view kInvalidCursor = "invalid cursor";
inline constexpr std::string_view kNoProto = "unsupported protocol version";
inline constexpr std::string_view kProtocolVersionNotInteger = "Protocol version is not an integer or out of range";
inline constexpr std::string_view kWrongPass = "invalid username-password pair or user is disabled.";
inline constexpr std::string_view kNoPasswordConfigured =
    "AUTH <password> called without any password configured for the default user. Are you sure your "
    "configuration is correct?";
// (kNoAuth) Redis's text.
inline constexpr std::string_view kNoAuth = "Authentication required.";
// (kTransactionState, kExecAbort) Redis's texts for MULTI/EXEC misuse.
inline constexpr std::string_view kNestedMulti = "MULTI calls can not be nested";
inline constexpr std::string_view kExecWithoutMulti = "EXEC without MULTI";
inline constexpr std::string_view kDiscardWithoutMulti = "DISCARD without MULTI";
inline constexpr std::string_view kWatchInsideMulti = "WATCH inside MULTI is not allowed";
inline constexpr std::string_view kExecAbort = "Transaction discarded because of previous errors.";
inline constexpr std::string_view kExecAbortBecause = "Transaction discarded because of: ";
// (kNoAuth) over HTTP, without a token.
inline constexpr std::string_view kHttpTokenRequired =
    "authentication required: send Authorization: Bearer <token> (the admin or the read-only token)";
// (kNoAuth) HELLO without AUTH before authenticating (Redis's text).
inline constexpr std::string_view kHelloNoAuth =
    "HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> "
    "option can be used to authenticate the client and select the RESP protocol version at the same time";
// (kNoPerm) Redis's text for an ACL refusal: "User reader has no permissions to run the 'incr' command".
std::string NoPermission(std::string_view user, std::string_view command);
inline constexpr std::string_view kInvalidClientName =
    "Client names cannot contain spaces, newlines or special characters.";
inline constexpr std::string_view kMaxClients = "max number of clients reached";

// "wrong number of arguments for 'incrby' command" (name as the client sent it, lower-cased by Redis).
std::string WrongArity(std::string_view command);
// "unknown command 'FOO', with args beginning with: 'a' 'b' " — user bytes are
// scrubbed of CR/LF and capped, exactly as Redis does, before being echoed.
std::string UnknownCommand(std::string_view command, const std::string_view* args, size_t arg_count);
// "unknown subcommand 'X'. Try CLIENT HELP."
std::string UnknownSubcommand(std::string_view subcommand, std::string_view command);
// "invalid expire time in 'set' command"
std::string InvalidExpire(std::string_view command);

// Protocol (framing) errors: the connection is closed after sending them.
inline constexpr std::string_view kProtoInvalidMultibulkLength = "Protocol error: invalid multibulk length";
inline constexpr std::string_view kProtoInvalidBulkLength = "Protocol error: invalid bulk length";
inline constexpr std::string_view kProtoExpectedDollar = "Protocol error: expected '$', got '%c'";
inline constexpr std::string_view kProtoTooBigInline = "Protocol error: too big inline request";
inline constexpr std::string_view kProtoTooBigMultibulk = "Protocol error: too big mbulk count string";
inline constexpr std::string_view kProtoTooBigBulk = "Protocol error: too big bulk count string";
inline constexpr std::string_view kProtoUnbalancedQuotes = "Protocol error: unbalanced quotes in request";

// Scripts (Redis's texts).
inline constexpr std::string_view kNoScript = "No matching script. Please use EVAL.";
inline constexpr std::string_view kBusy =
    "Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
inline constexpr std::string_view kNotBusy = "No scripts in execution right now.";
inline constexpr std::string_view kUnkillable =
    "Sorry the script already executed write commands against the dataset. You can either wait the script "
    "termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";

// ---- tally's own texts ---------------------------------------------------------
inline constexpr std::string_view kStorageFailed =
    "storage failure: the write-ahead log could not be written; the server refuses writes until restarted";
inline constexpr std::string_view kDiskFull =
    "no space left on device for the data dir; writes are refused until space is freed (reads go on)";
// A write that was applied in memory when the disk filled up, but could not be
// made durable: it is kept and written once space returns, unless the daemon
// stops first.
inline constexpr std::string_view kDiskFullOutcomeUnknown =
    "no space left on device; the last writes on this connection are not acknowledged (they are written "
    "when space returns, unless the daemon stops first)";
inline constexpr std::string_view kNotReady = "the daemon is starting or stopping";
inline constexpr std::string_view kUnknownPlan = "no such plan (PLAN.LIST lists the plans)";
inline constexpr std::string_view kPlanInUse =
    "the plan is assigned to owners and cannot be deleted; assign them another plan first";
inline constexpr std::string_view kNoPlan = "the owner has no plan (PLAN.ASSIGN) and no credits for this feature";
inline constexpr std::string_view kUnknownFeature =
    "the owner's plan has no such feature and the owner has no credits for it";
inline constexpr std::string_view kUnknownGrant = "the owner has no credit grant with this id";
inline constexpr std::string_view kUnknownReservation = "the owner has no reservation with this id";
// (kStorageReadFailed) storage read failed in column family 'owners' (damaged file or I/O error): nothing was
// answered from it or changed; the daemon's log names the key
Error StorageReadFailed(std::string_view family);
// (kIdConflict) An event id seen within the dedupe window with other arguments.
inline constexpr std::string_view kIdConflict =
    "this event ID was already used with different arguments (delta or AT) within the dedupe window; nothing was "
    "applied (a retry must repeat the original arguments exactly; a new event needs a new ID)";
// (kPubSubContext) Redis's text: "Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT /
// RESET are allowed in this context" (`command` lower-cased, as Redis names it).
std::string PubSubContext(std::string_view command);
// (kUnknownChannel) unknown channel 'alert': tally publishes only 'alerts' (quota alerts)
Error UnknownChannel(std::string_view argument, std::string_view channel, std::string_view published);
// (kUnknownChannel) pattern 'foo*' matches no channel: tally publishes only 'alerts' (quota alerts)
Error PatternMatchesNoChannel(std::string_view argument, std::string_view pattern, std::string_view published);
// (kQueryBufferLimit) "query buffer limit reached: client_query_buffer_limit is 16777216 bytes; closing
// the connection" — `setting` names the limit that was reached.
std::string QueryBufferLimit(std::string_view setting, int64_t limit_bytes);
inline constexpr std::string_view kIntervalNames = "total, hour, day, week, month, quarter or year";

// invalid owner 'us er': use 1-128 printable ASCII characters other than space , " ' ` < >
Error InvalidName(std::string_view argument, std::string_view value);
// unknown interval 'fortnight' (expected total, hour, day, week, month, quarter or year)
Error UnknownInterval(std::string_view argument, std::string_view value);
// interval 'total' has no periods to list (use hour, day, week, month, quarter or year)
Error NotACalendarInterval(std::string_view argument, std::string_view value);
// FROM and TO need a calendar interval: interval 'total' has no periods (use hour, ...)
Error RangeNeedsCalendarInterval(std::string_view from_argument, std::string_view to_argument,
                                 std::string_view argument, std::string_view value);
// The calendar's own explanation (`detail`), led by the argument's name
// unless the argument is the positional "period" the text already names.
Error InvalidPeriod(std::string_view argument, std::string_view detail);
// FROM 2024-12-05 is after TO 2024-12-04
Error RangeReversed(std::string_view from_argument, std::string_view from, std::string_view to_argument,
                    std::string_view to);
// delta 'abc' is not an integer (or: ... is out of range for a signed 64-bit integer)
Error NotAnInteger(std::string_view argument, std::string_view value);
// COUNT must be between 1 and 10000
Error OutOfRange(std::string_view argument, int64_t low, int64_t high);
// AT 1796395548 looks like seconds: AT is in milliseconds since the epoch (did you mean 1796395548000?)
Error TimeLooksLikeSeconds(std::string_view argument, int64_t value);
// AT 1700000000000 is more than 35 days (max_backdate) in the past
Error TimeTooOld(std::string_view argument, int64_t value, int64_t max_backdate_ms);
// AT 1900000000000 is more than 5 minutes (max_future_skew) in the future
Error TimeTooNew(std::string_view argument, int64_t value, int64_t max_future_skew_ms);
// ID 'a b' is not a valid event id: use 1-128 printable characters, no spaces
Error InvalidEventId(std::string_view argument, std::string_view value);
// BY: invalid actor 'x': use 1-128 printable ASCII characters (spaces allowed, not first or last)
Error InvalidActor(std::string_view argument, std::string_view value);
// BY needs an actor: ... BY <actor>
Error ActorMissing(std::string_view argument);
// unknown timezone 'Mars/Base' (use an IANA name like Europe/Berlin)
Error UnknownTimeZone(std::string_view argument, std::string_view value);
// since must be a non-negative integer (0, or the next-seq of an earlier reply)
Error InvalidSince(std::string_view argument);

// Syntax, all code kSyntax:
// AT needs a value: AT unix-ms
Error OptionNeedsValue(std::string_view option, std::string_view placeholder);
// unknown option 'WHEN' (expected AT or ID)
Error UnknownOption(std::string_view word, std::string_view expected);
// unexpected argument 'extra': CTR.GET takes owner key [interval [period]]
Error UnexpectedArgument(std::string_view word, std::string_view command, std::string_view syntax);
// CTR.SUM needs both FROM and TO
Error NeedsBoth(std::string_view command, std::string_view first, std::string_view second);
// period and FROM cannot be given together
Error NotTogether(std::string_view first, std::string_view second);
// CELLS takes groups of interval period value: 4 words follow it
Error IncompleteGroups(std::string_view option, std::string_view group, size_t words);
// cell 2 of CELLS: <the cell's own error> (keeps that error's code)
Error InListItem(std::string_view item, size_t position, std::string_view list, const Error& error);
// PERIOD needs INTERVAL
Error Needs(std::string_view argument, std::string_view needed);

// The changefeed (code kCursorTooOld / kInvalidCursor).
Error CursorTooOld(uint64_t since, std::string_view what, uint64_t oldest, int64_t retention_ms);
Error CursorAhead(uint64_t since, std::string_view what, uint64_t newest);

// ---- the HTTP API's request checks (code in parentheses) -----------------------
// (kMissingHost) an HTTP/1.1 request needs exactly one Host header
Error MissingHost(size_t host_headers);
// (kInvalidJson)
Error BodyNotJson();
Error BodyNotObject();
// (kUnexpectedBody) POST /v1/x takes no request body
Error UnexpectedBody(std::string_view method, std::string_view pattern);
// (kUnknownField / kUnknownParameter) "unknown field 'amount'; this route takes: by, at, id", or with
// a `hint` instead of the list: "unknown query parameter 'intervall': did you mean 'interval'?"
Error UnknownField(std::string_view name, std::string_view accepted, std::string_view hint);
Error UnknownParameter(std::string_view name, std::string_view accepted, std::string_view hint);
// (kRepeatedParameter) query parameter 'interval' is given 2 times
Error RepeatedParameter(std::string_view name, size_t times);
// (kDuplicateKey) duplicate key 'by' in the request body (in "periods")
Error DuplicateKey(std::string_view key, std::string_view inside);
// (kInvalidField) field 'by' must be an integer, got a string ("5")
Error FieldWrongType(std::string_view where, std::string_view name, std::string_view expected, std::string_view got);
// (kInvalidField) field 'value' cannot be given with 'periods': send one of value, periods or cells
Error FieldNotWith(std::string_view name, std::string_view other, std::string_view choices);
// (kNotInteger) query parameter 'limit' must be an integer, got 'abc'
Error ParameterNotInteger(std::string_view name, std::string_view value);
// (kNotInteger) field 'by' is out of range for a signed 64-bit integer
Error FieldOutOfRange(std::string_view where, std::string_view name);
// (kInvalidField) query parameter 'format' must be one of csv, ndjson (got 'xml')
Error NotAChoice(std::string_view where, std::string_view name, std::string_view choices, std::string_view value);
// (kOutOfRange) query parameter 'owners' must list 1 to 1000 owners separated by commas (got 1001)
Error ListSize(std::string_view where, std::string_view name, size_t low, size_t high, std::string_view items,
               size_t got);
// (kMissingField) missing query parameter 'interval' / missing field 'timezone' in the request body
Error MissingField(std::string_view where, std::string_view name);
// (kMissingField) query parameter 'period' needs query parameter 'interval'
Error FieldNeeds(std::string_view where, std::string_view name, std::string_view needed_where, std::string_view needed);
// (kBadRequest)
Error BadTarget(std::string_view why);
// (kNotFound)
Error NoSuchRoute(std::string_view target);
// (kMethodNotAllowed)
Error MethodNotAllowed(std::string_view method, std::string_view allowed);

// A typical message of each code, built by the functions above (docs/errors.md).
std::string ExampleMessage(ErrorCode code);

}  // namespace errors
}  // namespace tally::protocol
