#pragma once
// Every error tally can answer with has an ErrorCode. The code, never the
// message text, decides how a front end presents the error:
//   - RESP: "-<resp_prefix> <message>" ("-ERR ...", "-NOPROTO ...", "-WRONGPASS ...");
//   - HTTP: the status `http_status` and {"error": {"code": <name>, "message": ...}}.
// Names are stable (clients match on them): rename one only with a migration
// note in docs/errors.md. docs/errors.md is generated from this table
// (tools/gen-docs.sh) and a test keeps the two equal.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace tally::protocol {

enum class ErrorCode : uint8_t {
  // ---- any command (the command table, the RESP parser) ----
  kUnknownCommand,
  kWrongArity,
  kSyntax,
  kProtocol,
  kUnknownSubcommand,
  kNotInteger,
  kNotFloat,
  kOverflow,
  kOutOfRange,
  kInvalidArgument,
  kNotSupported,
  // ---- the Redis-compatible commands ----
  kInvalidExpire,
  kInvalidCursor,
  kNoProto,
  kWrongPass,
  kNoPassword,
  kNoAuth,
  kNoPerm,
  kTooManyConnections,
  kQueryBufferLimit,
  kPubSubContext,
  kUnknownChannel,
  kWrongType,
  kTransactionState,
  kExecAbort,
  // ---- scripts (EVAL, EVALSHA, SCRIPT) ----
  kScriptError,
  kNoScript,
  kBusy,
  kNotBusy,
  kUnkillable,
  // ---- tally's commands ----
  kInvalidName,
  kInvalidInterval,
  kInvalidPeriod,
  kInvalidTime,
  kInvalidId,
  kInvalidActor,
  kInvalidTimezone,
  kDuplicate,
  kIdConflict,
  kCursorTooOld,
  kStorageFailed,
  kStorageReadFailed,
  kDiskFull,
  kNotReady,
  // ---- plans, quotas and credits ----
  kInvalidPlan,
  kUnknownPlan,
  kPlanInUse,
  kNoPlan,
  kUnknownFeature,
  kUnknownGrant,
  kUnknownReservation,
  kQuotaExceeded,
  // ---- metering ----
  kUnknownPrice,
  // ---- backups ----
  kInvalidBackupDir,
  kBackupFailed,
  // ---- the HTTP API ----
  kBadRequest,
  kMissingHost,
  kHostNotAllowed,
  kOriginNotAllowed,
  kUnsupportedMediaType,
  kInvalidJson,
  kUnexpectedBody,
  kUnknownField,
  kUnknownParameter,
  kRepeatedParameter,
  kDuplicateKey,
  kInvalidField,
  kMissingField,
  kNotFound,
  kMethodNotAllowed,
  kRequestTimeout,
  kPayloadTooLarge,
  kHeadersTooLarge,
  kInternal,
};

// Where a code can be sent.
enum class ErrorScope : uint8_t {
  kBoth,      // RESP and HTTP
  kRespOnly,  // only a line-protocol command can cause it
  kHttpOnly,  // only the HTTP API sends it
};

struct ErrorCodeInfo {
  ErrorCode code;
  std::string_view name;         // snake_case, the JSON "code"
  int http_status;               // 400, 404, 409, ...
  std::string_view resp_prefix;  // "ERR", "NOPROTO", "WRONGPASS"
  ErrorScope scope;
  std::string_view meaning;  // one line, for docs/errors.md
};

// The row of `code` (constant time).
const ErrorCodeInfo& Describe(ErrorCode code);
inline std::string_view ErrorName(ErrorCode code) { return Describe(code).name; }
inline int HttpStatus(ErrorCode code) { return Describe(code).http_status; }
inline std::string_view RespPrefix(ErrorCode code) { return Describe(code).resp_prefix; }

// Every code, in enum order.
std::span<const ErrorCodeInfo> AllErrorCodes();

// The code named `name` ("not_integer"), if any.
std::optional<ErrorCode> ErrorCodeByName(std::string_view name);

}  // namespace tally::protocol
