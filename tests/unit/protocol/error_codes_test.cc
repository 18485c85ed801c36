// The error code table and the Error value: every code has a stable name, an
// HTTP status, a RESP prefix and a meaning; messages name their arguments so
// a front end can say its own names; Redis's texts stay byte for byte.

#include "protocol/error_codes.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "protocol/errors.h"

namespace tally::protocol {
namespace {

bool IsSnakeCase(std::string_view name) {
  if (name.empty() || name.front() == '_' || name.back() == '_') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  }
  return true;
}

TEST(ErrorCodes, EveryCodeHasANameAStatusAPrefixAndAMeaning) {
  ASSERT_FALSE(AllErrorCodes().empty());
  for (size_t i = 0; i < AllErrorCodes().size(); ++i) {
    const ErrorCodeInfo& info = AllErrorCodes()[i];
    SCOPED_TRACE(std::string(info.name));
    EXPECT_EQ(static_cast<size_t>(info.code), i) << "rows are in enum order";
    EXPECT_EQ(&Describe(info.code), &info);
    EXPECT_TRUE(IsSnakeCase(info.name)) << "'" << info.name << "' is not snake_case";
    EXPECT_GE(info.http_status, 400);
    EXPECT_LE(info.http_status, 599);
    EXPECT_FALSE(info.resp_prefix.empty());
    for (char c : info.resp_prefix) EXPECT_TRUE(c >= 'A' && c <= 'Z') << info.resp_prefix;
    EXPECT_FALSE(info.meaning.empty());
    EXPECT_EQ(info.meaning.back(), '.') << "a meaning is one sentence";
    EXPECT_EQ(info.meaning.find('\n'), std::string_view::npos);
    EXPECT_FALSE(errors::ExampleMessage(info.code).empty()) << "docs/errors.md shows an example of every code";
  }
}

TEST(ErrorCodes, NamesAreUniqueAndFindTheirCode) {
  std::set<std::string_view> names;
  for (const ErrorCodeInfo& info : AllErrorCodes()) {
    EXPECT_TRUE(names.insert(info.name).second) << "duplicate name " << info.name;
    EXPECT_EQ(ErrorCodeByName(info.name), info.code);
  }
  EXPECT_EQ(ErrorCodeByName("no_such_code"), std::nullopt);
  EXPECT_EQ(ErrorCodeByName(""), std::nullopt);
}

TEST(ErrorCodes, TheDocumentedHttpCodesKeepTheirNamesAndStatuses) {
  const std::pair<std::string_view, int> documented[] = {
      {"invalid_name", 400},      {"invalid_interval", 400},     {"invalid_period", 400},
      {"invalid_time", 400},      {"not_integer", 400},          {"overflow", 400},
      {"invalid_json", 400},      {"invalid_field", 400},        {"bad_request", 400},
      {"not_found", 404},         {"method_not_allowed", 405},   {"request_timeout", 408},
      {"duplicate", 409},         {"id_conflict", 409},          {"cursor_too_old", 410},
      {"payload_too_large", 413}, {"too_many_connections", 429}, {"headers_too_large", 431},
      {"not_ready", 503},         {"storage_failed", 503},       {"missing_host", 400},
      {"unknown_field", 400},     {"unknown_parameter", 400},    {"duplicate_key", 400},
  };
  for (const auto& [name, status] : documented) {
    auto code = ErrorCodeByName(name);
    ASSERT_TRUE(code.has_value()) << name;
    EXPECT_EQ(HttpStatus(*code), status) << name;
  }
}

TEST(ErrorCodes, RespPrefixesAreRedisOnes) {
  EXPECT_EQ(RespPrefix(ErrorCode::kNotInteger), "ERR");
  EXPECT_EQ(RespPrefix(ErrorCode::kNoProto), "NOPROTO");
  EXPECT_EQ(RespPrefix(ErrorCode::kWrongPass), "WRONGPASS");
  EXPECT_EQ(RespPrefix(ErrorCode::kStorageFailed), "ERR");
}

// ---------------------------------------------------------------------------
// Error

TEST(Error, AMessageWithoutArgumentsIsItsText) {
  Error error(ErrorCode::kSyntax, "syntax error");
  EXPECT_EQ(error.Message(), "syntax error");
  EXPECT_EQ(error.argument(), "");
  EXPECT_EQ(error.Message([](std::string_view) { return std::string("x"); }), "syntax error");
}

TEST(Error, ArgumentsAreRenamedWhereTheyAreNamedAndOnlyThere) {
  Error error = errors::TimeLooksLikeSeconds("AT", 1796395548);
  EXPECT_EQ(error.argument(), "AT");
  auto http = [](std::string_view argument) { return argument == "AT" ? std::string("at") : std::string(); };
  EXPECT_EQ(error.Message(http),
            "at 1796395548 looks like seconds: at is in milliseconds since the epoch (did you mean 1796395548000?)");
  // User text is never renamed, even when it spells an argument's name.
  Error quoted = errors::NotAnInteger("delta", "AT");
  EXPECT_EQ(quoted.Message(http), "delta 'AT' is not an integer");
  // An empty rename keeps the syntax's name.
  EXPECT_EQ(errors::OutOfRange("COUNT", 1, 5).Message(http), "COUNT must be between 1 and 5");
}

TEST(Error, QuotedUserTextIsCappedAndCannotBreakFraming) {
  Error error(ErrorCode::kInvalidName);
  error.Quoted("a\r\nb");
  EXPECT_EQ(error.Message(), "'a  b'");
  Error long_text(ErrorCode::kInvalidName);
  long_text.Quoted(std::string(300, 'x'));
  EXPECT_EQ(long_text.Message(), "'" + std::string(128, 'x') + "'");
}

TEST(Error, NotAnIntegerSaysWhetherTheNumberIsTooLarge) {
  EXPECT_EQ(errors::NotAnInteger("delta", "abc").Message(), "delta 'abc' is not an integer");
  EXPECT_EQ(errors::NotAnInteger("delta", "1.5").Message(), "delta '1.5' is not an integer");
  EXPECT_EQ(errors::NotAnInteger("delta", "9223372036854775808").Message(),
            "delta '9223372036854775808' is out of range for a signed 64-bit integer");
  EXPECT_EQ(errors::NotAnInteger("value", "").Message(), "value '' is not an integer");
}

TEST(Error, TimeLimitsAreSaidInDaysOrMinutes) {
  EXPECT_EQ(errors::TimeTooOld("AT", 5, 35LL * 86400 * 1000).Message(),
            "AT 5 is more than 35 days (max_backdate) in the past");
  EXPECT_EQ(errors::TimeTooNew("AT", 9, 5LL * 60 * 1000).Message(),
            "AT 9 is more than 5 minutes (max_future_skew) in the future");
  EXPECT_EQ(errors::TimeTooOld("AT", 5, 3600 * 1000).Message(), "AT 5 is more than 1 hour (max_backdate) in the past");
  EXPECT_EQ(errors::TimeTooNew("AT", 9, 90 * 1000).Message(),
            "AT 9 is more than 90 seconds (max_future_skew) in the future");
  EXPECT_EQ(errors::TimeTooOld("AT", 5, 86400 * 1000).Message(), "AT 5 is more than 1 day (max_backdate) in the past");
}

TEST(Error, SyntaxErrorsSayWhatIsMissing) {
  EXPECT_EQ(errors::NeedsBoth("CTR.SUM", "FROM", "TO").Message(), "CTR.SUM needs both FROM and TO");
  EXPECT_EQ(errors::OptionNeedsValue("AT", "unix-ms").Message(), "AT needs a value: AT unix-ms");
  EXPECT_EQ(errors::UnknownOption("WHEN", "AT or ID").Message(), "unknown option 'WHEN' (expected AT or ID)");
  EXPECT_EQ(errors::NeedsBoth("CTR.SUM", "FROM", "TO").code(), ErrorCode::kSyntax);
}

TEST(Error, PeriodErrorsNameTheirArgumentUnlessItIsThePeriodItself) {
  EXPECT_EQ(errors::InvalidPeriod("period", "invalid period 'x'").Message(), "invalid period 'x'");
  EXPECT_EQ(errors::InvalidPeriod("FROM", "invalid period 'x'").Message(), "FROM: invalid period 'x'");
  EXPECT_EQ(errors::InvalidPeriod("FROM", "invalid period 'x'").argument(), "FROM");
}

// Redis's own texts, byte for byte (client libraries match on them).
TEST(Error, RedisTextsAreUnchanged) {
  EXPECT_EQ(errors::kNotInteger, "value is not an integer or out of range");
  EXPECT_EQ(errors::kOverflow, "increment or decrement would overflow");
  EXPECT_EQ(errors::kSyntax, "syntax error");
  EXPECT_EQ(errors::WrongArity("INCRBY"), "wrong number of arguments for 'incrby' command");
  const std::string_view args[] = {"a", "b"};
  EXPECT_EQ(errors::UnknownCommand("foo", args, 2), "unknown command 'foo', with args beginning with: 'a' 'b' ");
  EXPECT_EQ(errors::UnknownSubcommand("x", "client"), "unknown subcommand 'x'. Try CLIENT HELP.");
  EXPECT_EQ(errors::InvalidExpire("SET"), "invalid expire time in 'set' command");
}

}  // namespace
}  // namespace tally::protocol
