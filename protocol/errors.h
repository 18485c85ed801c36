#pragma once
// The one home of every error string tally sends. Texts that Redis also sends
// are byte-for-byte Redis's, because client libraries and users match on them.
// Messages here carry no "ERR " prefix: ReplySink::SendError adds it, unless the
// message starts with '-' and its own code ("-WRONGTYPE ...", "-NOPROTO ...").

#include <string>
#include <string_view>

namespace tally::protocol::errors {

inline constexpr std::string_view kNotInteger = "value is not an integer or out of range";
inline constexpr std::string_view kOverflow = "increment or decrement would overflow";
inline constexpr std::string_view kSyntax = "syntax error";
inline constexpr std::string_view kInvalidExpire = "invalid expire time in '%s' command";
inline constexpr std::string_view kDbIndexOutOfRange = "DB index is out of range";
inline constexpr std::string_view kInvalidCursor = "invalid cursor";
inline constexpr std::string_view kStorageFailed =
    "storage failure: the write-ahead log could not be written; the server refuses writes until restarted";

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

}  // namespace tally::protocol::errors
