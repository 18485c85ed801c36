// The RESP request parser, as a client sees it: what a byte stream turns into
// (commands, no-ops, protocol errors), independent of how the bytes arrive.

#include "protocol/resp_parser.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/errors.h"
#include "tests/fuzz/resp_stream_driver.h"

namespace tally::protocol {

// Readable ParseEvents in failure messages.
void PrintTo(const ParseEvent& event, std::ostream* os) { *os << Describe(StreamOutcome{{event}, 0, ""}); }

namespace {

using namespace std::string_literals;
using Args = std::vector<std::string>;

ParseEvent Multibulk(Args args) { return ParseEvent{std::move(args), false, ""}; }
ParseEvent Inline(Args args) { return ParseEvent{std::move(args), true, ""}; }
ParseEvent Error(std::string_view text) { return ParseEvent{{}, false, std::string(text)}; }

// Parses the whole stream at once and expects a well-behaved parser.
std::vector<ParseEvent> Events(std::string_view stream, const ParserLimits& limits = {}) {
  StreamOutcome outcome = FeedWhole(stream, limits);
  EXPECT_EQ(outcome.violation, "") << Escape(stream);
  return outcome.events;
}

std::vector<std::string> Copy(const std::vector<std::string_view>& views) {
  return std::vector<std::string>(views.begin(), views.end());
}

// ---------------------------------------------------------------------------
// Multibulk commands

TEST(RespParserMultibulk, ParsesACommandAndReportsTheBytesItUsed) {
  RespParser parser;
  std::string input = "*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n";
  ASSERT_EQ(parser.Parse(input), ParseStatus::kOk);
  EXPECT_EQ(Copy(parser.command()), (Args{"ECHO", "hi"}));
  EXPECT_EQ(parser.consumed(), input.size());
  EXPECT_FALSE(parser.was_inline());
}

TEST(RespParserMultibulk, ArgumentsPointIntoTheInputWithoutCopying) {
  RespParser parser;
  std::string input = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
  ASSERT_EQ(parser.Parse(input), ParseStatus::kOk);
  ASSERT_EQ(parser.command().size(), 2u);
  EXPECT_EQ(parser.command()[0].data(), input.data() + 8);
  EXPECT_EQ(parser.command()[1].data(), input.data() + 17);
}

TEST(RespParserMultibulk, StopsAtTheEndOfTheFirstCommand) {
  RespParser parser;
  std::string first = "*1\r\n$4\r\nPING\r\n";
  std::string input = first + "*1\r\n$4\r\nPI";
  ASSERT_EQ(parser.Parse(input), ParseStatus::kOk);
  EXPECT_EQ(parser.consumed(), first.size());
  EXPECT_EQ(Copy(parser.command()), (Args{"PING"}));
}

TEST(RespParserMultibulk, AcceptsEmptyBulkStrings) {
  EXPECT_EQ(Events("*3\r\n$3\r\nSET\r\n$0\r\n\r\n$0\r\n\r\n"), (std::vector{Multibulk({"SET", "", ""})}));
}

TEST(RespParserMultibulk, BulkStringsAreBinarySafe) {
  std::string nul_inside = "a\0b"s;
  std::string crlf_inside = "x\r\ny\r\n";
  std::string resp_inside = "*1\r\n$1\r\nz\r\n";
  std::string stream = "*4\r\n$3\r\nSET\r\n$3\r\n" + nul_inside + "\r\n$6\r\n" + crlf_inside + "\r\n$" +
                       std::to_string(resp_inside.size()) + "\r\n" + resp_inside + "\r\n";
  EXPECT_EQ(Events(stream), (std::vector{Multibulk({"SET", nul_inside, crlf_inside, resp_inside})}));
}

TEST(RespParserMultibulk, EmptyAndNullArraysAreNoOps) {
  // Redis skips "*0" and any negative count without replying.
  for (std::string stream : {"*0\r\n", "*-1\r\n", "*-5\r\n"}) {
    RespParser parser;
    ASSERT_EQ(parser.Parse(stream), ParseStatus::kOk) << stream;
    EXPECT_TRUE(parser.command().empty());
    EXPECT_EQ(parser.consumed(), stream.size());
    EXPECT_FALSE(parser.was_inline());
  }
}

TEST(RespParserMultibulk, AnArrayOfTheMaximumLengthIsAccepted) {
  ParserLimits limits;
  limits.max_array_length = 3;
  EXPECT_EQ(Events("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", limits), (std::vector{Multibulk({"a", "b", "c"})}));
}

// ---------------------------------------------------------------------------
// Multibulk protocol errors: Redis's exact texts, and the stream ends there.

TEST(RespParserMultibulk, GarbageArrayCountIsAnInvalidMultibulkLength) {
  for (std::string header : {"*abc", "*", "*1x", "* 1", "*1 ", "*+1", "*01", "*-0", "*1.0", "*0x10",
                             "*9223372036854775808", "*99999999999999999999999"}) {
    EXPECT_EQ(Events(header + "\r\n"), (std::vector{Error(errors::kProtoInvalidMultibulkLength)})) << header;
  }
}

TEST(RespParserMultibulk, ArrayLongerThanTheLimitIsAnInvalidMultibulkLength) {
  EXPECT_EQ(Events("*1048577\r\n"), (std::vector{Error(errors::kProtoInvalidMultibulkLength)}));
  ParserLimits limits;
  limits.max_array_length = 3;
  EXPECT_EQ(Events("*4\r\n", limits), (std::vector{Error(errors::kProtoInvalidMultibulkLength)}));
}

TEST(RespParserMultibulk, TheDefaultArrayLimitIsOneMebiElement) {
  RespParser parser;
  EXPECT_EQ(parser.Parse("*1048576\r\n"), ParseStatus::kNeedMore);
}

TEST(RespParserMultibulk, AnArgumentNotStartingWithDollarIsAnError) {
  EXPECT_EQ(Events("*1\r\n:5\r\n"), (std::vector{Error("Protocol error: expected '$', got ':'")}));
  EXPECT_EQ(Events("*2\r\n$1\r\na\r\nb\r\n"), (std::vector{Error("Protocol error: expected '$', got 'b'")}));
  EXPECT_EQ(Events("*2\r\n$1\r\na\r\n*1\r\n"), (std::vector{Error("Protocol error: expected '$', got '*'")}));
}

TEST(RespParserMultibulk, ExpectedDollarErrorNeverEchoesCrOrLf) {
  // The offending byte is echoed, but a CR or LF would break the reply's framing.
  EXPECT_EQ(Events("*1\r\n\r\n"), (std::vector{Error("Protocol error: expected '$', got ' '")}));
  EXPECT_EQ(Events("*1\r\n\n"), (std::vector{Error("Protocol error: expected '$', got ' '")}));
}

TEST(RespParserMultibulk, NonIntegerOrNegativeBulkLengthIsAnInvalidBulkLength) {
  for (std::string length : {"abc", "", "-1", "-0", "+1", "01", " 1", "1 ", "1.5", "9223372036854775807",
                             "9223372036854775808", "-9223372036854775808"}) {
    EXPECT_EQ(Events("*1\r\n$" + length + "\r\nxyz\r\n"), (std::vector{Error(errors::kProtoInvalidBulkLength)}))
        << length;
  }
}

TEST(RespParserMultibulk, OversizedBulkIsRefusedBeforeItsDataArrives) {
  ParserLimits limits;
  limits.max_bulk_bytes = 10;
  RespParser parser(limits);
  EXPECT_EQ(parser.Parse("*1\r\n$11\r\n"), ParseStatus::kError);
  EXPECT_EQ(parser.error(), errors::kProtoInvalidBulkLength);

  EXPECT_EQ(Events("*1\r\n$10\r\n0123456789\r\n", limits), (std::vector{Multibulk({"0123456789"})}));
}

TEST(RespParserMultibulk, BulkDataMustEndWithCrlf) {
  // Redis blindly skips two bytes here and loses framing later; tally stops at once.
  EXPECT_EQ(Events("*1\r\n$2\r\nabc\r\n"), (std::vector{Error(errors::kProtoInvalidBulkLength)}));
  EXPECT_EQ(Events("*1\r\n$2\r\nab\n\n"), (std::vector{Error(errors::kProtoInvalidBulkLength)}));
}

TEST(RespParserMultibulk, OverlongCountLineIsTooBig) {
  // No CRLF after 64 KiB of count: Redis's "too big ... count string".
  std::string digits(64 * 1024, '1');
  EXPECT_EQ(FeedWhole("*" + digits).events, (std::vector{Error(errors::kProtoTooBigMultibulk)}));
  EXPECT_EQ(FeedWhole("*1\r\n$" + digits).events, (std::vector{Error(errors::kProtoTooBigBulk)}));

  ParserLimits limits;
  limits.max_inline_bytes = 8;
  EXPECT_EQ(FeedWhole("*12345678\r\n", limits).events, (std::vector{Error(errors::kProtoTooBigMultibulk)}));
  EXPECT_EQ(FeedWhole("*1\r\n$12345678\r\n", limits).events, (std::vector{Error(errors::kProtoTooBigBulk)}));
  // Lines of exactly the limit (counting the '*' or '$') are fine.
  EXPECT_EQ(FeedWhole("*1\r\n$1234567\r\n", limits).events, std::vector<ParseEvent>{});
  EXPECT_EQ(FeedWhole("*1000000\r\n", limits).events, std::vector<ParseEvent>{});
}

TEST(RespParserMultibulk, AParserIsReusableAfterAnError) {
  RespParser parser;
  ASSERT_EQ(parser.Parse("*2\r\n$1\r\na\r\n:"), ParseStatus::kError);
  ASSERT_EQ(parser.Parse("*1\r\n$4\r\nPING\r\n"), ParseStatus::kOk);
  EXPECT_EQ(Copy(parser.command()), (Args{"PING"}));
}

// ---------------------------------------------------------------------------
// Inline commands (redis-cli, nc, telnet): Redis's sdssplitargs() rules.

TEST(RespParserInline, SplitsWordsOnSpacesAndTabs) {
  RespParser parser;
  std::string input = "SET  k\tv  \r\n";
  ASSERT_EQ(parser.Parse(input), ParseStatus::kOk);
  EXPECT_EQ(Copy(parser.command()), (Args{"SET", "k", "v"}));
  EXPECT_EQ(parser.consumed(), input.size());
  EXPECT_TRUE(parser.was_inline());
}

TEST(RespParserInline, ABareLineFeedEndsTheLine) {
  EXPECT_EQ(Events("PING\nPING\r\n"), (std::vector{Inline({"PING"}), Inline({"PING"})}));
}

TEST(RespParserInline, CarriageReturnInsideTheLineSeparatesWords) {
  EXPECT_EQ(Events("a\rb\r\n"), (std::vector{Inline({"a", "b"})}));
}

TEST(RespParserInline, VerticalTabAndFormFeedDoNotEndAWord) {
  // sdssplitargs skips any isspace() between words, but ends an unquoted word
  // only at ' ', '\t', '\r' or '\n'.
  EXPECT_EQ(Events("a\vb c\fd\r\n"), (std::vector{Inline({"a\vb", "c\fd"})}));
  EXPECT_EQ(Events("\v\fa\r\n"), (std::vector{Inline({"a"})}));
}

TEST(RespParserInline, EmptyOrBlankLinesAreNoOps) {
  for (std::string line : {"\r\n", "\n", "   \r\n", "\t \n"}) {
    RespParser parser;
    ASSERT_EQ(parser.Parse(line), ParseStatus::kOk) << Escape(line);
    EXPECT_TRUE(parser.command().empty());
    EXPECT_EQ(parser.consumed(), line.size());
  }
}

TEST(RespParserInline, DoubleQuotesAllowSpacesAndEscapes) {
  EXPECT_EQ(Events(R"(SET k "a b\n\r\t\b\a\\\"")"s + "\r\n"), (std::vector{Inline({"SET", "k", "a b\n\r\t\b\a\\\""})}));
}

TEST(RespParserInline, DoubleQuotesDecodeHexEscapesInEitherCase) {
  EXPECT_EQ(Events(R"("\x4a\x4B\x00\xff")"s + "\n"), (std::vector{Inline({"JK\0\xff"s})}));
}

TEST(RespParserInline, IncompleteHexOrUnknownEscapeKeepsTheEscapedCharacter) {
  EXPECT_EQ(Events(R"("\xZZ" "\x4" "\q")"s + "\n"), (std::vector{Inline({"xZZ", "x4", "q"})}));
}

TEST(RespParserInline, SingleQuotesAreLiteralExceptForAnEscapedQuote) {
  EXPECT_EQ(Events(R"('it\'s' 'a\nb' 'say "hi"')"s + "\n"), (std::vector{Inline({"it's", "a\\nb", "say \"hi\""})}));
}

TEST(RespParserInline, EmptyQuotesMakeAnEmptyArgument) {
  EXPECT_EQ(Events("SET k \"\" ''\r\n"), (std::vector{Inline({"SET", "k", "", ""})}));
}

TEST(RespParserInline, AQuoteInsideAWordStartsQuoting) {
  EXPECT_EQ(Events("foo\"bar baz\" x'y z'\n"), (std::vector{Inline({"foobar baz", "xy z"})}));
}

TEST(RespParserInline, AClosingQuoteMayBeFollowedByAnySpace) {
  EXPECT_EQ(Events("\"a\"\tb 'c'\vd\n"), (std::vector{Inline({"a", "b", "c", "d"})}));
}

TEST(RespParserInline, UnbalancedQuotesAreAnError) {
  for (std::string line : {R"(SET k "abc)", R"(SET k 'abc)", R"(SET k "abc\)", R"(SET k "a"b)", R"(SET k 'a'b)",
                           R"(SET k "a\"")"
                           "\"",
                           R"(")", R"(')"}) {
    EXPECT_EQ(Events(line + "\r\n"), (std::vector{Error(errors::kProtoUnbalancedQuotes)})) << line;
  }
}

TEST(RespParserInline, ArgumentsLiveInTheParserUntilTheNextCall) {
  RespParser parser;
  std::string input = "ECHO \"a b\"\r\n";
  ASSERT_EQ(parser.Parse(input), ParseStatus::kOk);
  input.assign(input.size(), '#');  // the caller may reuse its buffer at once
  EXPECT_EQ(Copy(parser.command()), (Args{"ECHO", "a b"}));
}

TEST(RespParserInline, LineLongerThanTheLimitIsTooBig) {
  ParserLimits limits;
  limits.max_inline_bytes = 8;
  EXPECT_EQ(Events("12345678\n", limits), (std::vector{Inline({"12345678"})}));
  EXPECT_EQ(Events("1234567\r\n", limits), (std::vector{Inline({"1234567"})}));
  EXPECT_EQ(Events("123456789\n", limits), (std::vector{Error(errors::kProtoTooBigInline)}));

  RespParser parser(limits);
  EXPECT_EQ(parser.Parse("12345678"), ParseStatus::kNeedMore);
  EXPECT_EQ(parser.Parse("123456789"), ParseStatus::kError);
  EXPECT_EQ(parser.error(), errors::kProtoTooBigInline);
}

TEST(RespParserInline, TheDefaultLineLimitIs64KiB) {
  RespParser parser;
  EXPECT_EQ(parser.Parse(std::string(64 * 1024, 'a')), ParseStatus::kNeedMore);
  EXPECT_EQ(parser.Parse(std::string(64 * 1024 + 1, 'a')), ParseStatus::kError);
  EXPECT_EQ(parser.error(), errors::kProtoTooBigInline);
}

// ---------------------------------------------------------------------------
// Pipelining

TEST(RespParserPipeline, CommandsInOneBufferComeOutInOrder) {
  std::string stream = "PING\r\n*2\r\n$4\r\nECHO\r\n$1\r\na\r\n\r\n*0\r\nSET k v\n*1\r\n$4\r\nQUIT\r\n";
  EXPECT_EQ(Events(stream), (std::vector{Inline({"PING"}), Multibulk({"ECHO", "a"}), Inline({}), Multibulk({}),
                                         Inline({"SET", "k", "v"}), Multibulk({"QUIT"})}));
}

TEST(RespParserPipeline, EachCallConsumesExactlyOneCommand) {
  RespParser parser;
  std::string_view stream = "PING\r\n*1\r\n$4\r\nPING\r\n\n";
  std::vector<size_t> consumed;
  while (!stream.empty() && parser.Parse(stream) == ParseStatus::kOk) {
    consumed.push_back(parser.consumed());
    stream.remove_prefix(parser.consumed());
  }
  EXPECT_EQ(consumed, (std::vector<size_t>{6, 14, 1}));
}

TEST(RespParserPipeline, CommandsAfterAnErrorAreNotParsed) {
  EXPECT_EQ(Events("PING\r\n*x\r\nPING\r\n"),
            (std::vector{Inline({"PING"}), Error(errors::kProtoInvalidMultibulkLength)}));
}

// ---------------------------------------------------------------------------
// Incremental parsing: how the bytes arrive never changes what they mean.

struct Sample {
  std::string name;
  std::string stream;
  ParserLimits limits;
};

ParserLimits TinyLimits(size_t line, size_t bulk = 64, size_t array = 8) {
  ParserLimits limits;
  limits.max_inline_bytes = line;
  limits.max_bulk_bytes = bulk;
  limits.max_array_length = array;
  return limits;
}

std::vector<Sample> Samples() {
  std::string big(100'000, 'v');
  big[5] = '\r';
  big[6] = '\n';
  return {
      {"multibulk", "*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n", {}},
      {"binary bulk", "*2\r\n$3\r\n\r\n\0\r\n$5\r\n*1\r\n$\r\n"s, {}},
      {"empty bulk", "*2\r\n$0\r\n\r\n$0\r\n\r\n", {}},
      {"big bulk", "*1\r\n$100000\r\n" + big + "\r\n", {}},
      {"inline", "SET  k\tv\r\nGET k\n", {}},
      {"inline quoting", R"(SET k "a\x41\n b" 'c\'d' "" '' x"y z")"s + "\r\n", {}},
      {"no-ops", "\r\n\n  \r\n*0\r\n*-1\r\n", {}},
      {"pipeline", "PING\r\n*1\r\n$4\r\nPING\r\n\r\n*0\r\nECHO x\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", {}},
      {"incomplete tail", "PING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nval", {}},
      {"incomplete inline tail", "PING\r\nECHO abc", {}},
      {"bad count", "PING\r\n*1x\r\n", {}},
      {"negative bulk", "*1\r\n$-1\r\n", {}},
      {"missing dollar", "*2\r\n$1\r\na\r\n:1\r\n", {}},
      {"bulk without crlf", "*1\r\n$1\r\nab\r\n", {}},
      {"unbalanced quotes", "PING\r\nSET k \"abc\r\n", {}},
      {"array too long", "*9\r\n", TinyLimits(64)},
      {"bulk too long", "*1\r\n$65\r\n", TinyLimits(64)},
      {"inline too long", "PING\r\n" + std::string(65, 'x') + "\r\n", TinyLimits(64)},
      {"inline at the limit", std::string(64, 'x') + "\n" + std::string(63, 'y') + "\r\n", TinyLimits(64)},
      {"count line too long", "*" + std::string(70, '1') + "\r\n", TinyLimits(64)},
      {"bulk line too long", "*1\r\n$" + std::string(70, '1') + "\r\n", TinyLimits(64)},
      // Header lines exactly as long as the limit: the trailing CR of a CRLF
      // that has not fully arrived must not count against it.
      {"count line at the limit", "*1\r\n$1\r\na\r\n", TinyLimits(2)},
      {"bulk line at the limit", "*1\r\n$12\r\n0123456789ab\r\n", TinyLimits(3)},
      {"garbage count line at the limit", "*abc\r\n", TinyLimits(4)},
      {"garbage bulk line at the limit", "*1\r\n$abc\r\n", TinyLimits(4)},
      {"garbage count line over the limit", "*abcd\r\n", TinyLimits(4)},
      {"garbage bulk line over the limit", "*1\r\n$abcd\r\n", TinyLimits(4)},
      {"stray CR in count line", "*1\r\r\n", TinyLimits(3)},
      {"stray CR in bulk line", "*1\r\n$\r1\r\n", TinyLimits(3)},
  };
}

TEST(RespParserIncremental, EverySampleParsesTheSameFedByteByByte) {
  for (const Sample& sample : Samples()) {
    SCOPED_TRACE(sample.name);
    StreamOutcome whole = FeedWhole(sample.stream, sample.limits);
    StreamOutcome bytes = FeedByteByByte(sample.stream, sample.limits);
    EXPECT_EQ(whole.violation, "");
    EXPECT_EQ(bytes.violation, "");
    EXPECT_TRUE(bytes.SameResult(whole)) << "whole:    " << Describe(whole) << "\nbytewise: " << Describe(bytes);
  }
}

TEST(RespParserIncremental, EverySampleParsesTheSameInRandomFragments) {
  std::mt19937_64 rng(20240601);
  for (const Sample& sample : Samples()) {
    SCOPED_TRACE(sample.name);
    StreamOutcome whole = FeedWhole(sample.stream, sample.limits);
    for (size_t max_read : {2, 3, 7, 16, 100}) {
      for (int round = 0; round < 20; ++round) {
        std::vector<size_t> reads = RandomReadSizes(sample.stream.size(), max_read, rng);
        StreamOutcome split = FeedStream(sample.stream, sample.limits, reads, BufferMode::kAppendInPlace);
        ASSERT_EQ(split.violation, "");
        ASSERT_TRUE(split.SameResult(whole)) << "whole: " << Describe(whole) << "\nsplit: " << Describe(split);
      }
    }
  }
}

TEST(RespParserIncremental, EverySampleParsesTheSameWhenTheBytesMoveBetweenCalls) {
  std::mt19937_64 rng(7);
  for (const Sample& sample : Samples()) {
    SCOPED_TRACE(sample.name);
    StreamOutcome whole = FeedWhole(sample.stream, sample.limits);
    if (sample.stream.size() <= 4096) {
      StreamOutcome moved = FeedByteByByte(sample.stream, sample.limits, BufferMode::kRelocateEveryCall);
      EXPECT_EQ(moved.violation, "");
      EXPECT_TRUE(moved.SameResult(whole)) << "whole: " << Describe(whole) << "\nmoved: " << Describe(moved);
    }
    std::vector<size_t> reads = RandomReadSizes(sample.stream.size(), 5000, rng);
    StreamOutcome moved = FeedStream(sample.stream, sample.limits, reads, BufferMode::kRelocateEveryCall);
    EXPECT_EQ(moved.violation, "");
    EXPECT_TRUE(moved.SameResult(whole)) << "whole: " << Describe(whole) << "\nmoved: " << Describe(moved);
  }
}

TEST(RespParserIncremental, EveryProperPrefixNeedsMoreAndNothingIsConsumed) {
  std::string command = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
  RespParser parser;
  for (size_t length = 1; length < command.size(); ++length) {
    ASSERT_EQ(parser.Parse(std::string_view(command).substr(0, length)), ParseStatus::kNeedMore) << length;
    EXPECT_EQ(parser.consumed(), 0u);
    EXPECT_TRUE(parser.command().empty());
  }
  ASSERT_EQ(parser.Parse(command), ParseStatus::kOk);
  EXPECT_EQ(Copy(parser.command()), (Args{"SET", "k", "hello"}));
  EXPECT_EQ(parser.consumed(), command.size());
}

TEST(RespParserIncremental, ResumesAfterTheCallerMovesThePendingBytes) {
  RespParser parser;
  std::string first_buffer = "*2\r\n$4\r\nECHO\r\n$5\r\nhel";
  ASSERT_EQ(parser.Parse(first_buffer), ParseStatus::kNeedMore);

  // The connection compacts its buffer: same bytes, new address, more appended.
  std::string second_buffer = "xx" + first_buffer + "lo\r\n";
  std::string_view input = std::string_view(second_buffer).substr(2);
  first_buffer.assign(first_buffer.size(), '#');
  ASSERT_EQ(parser.Parse(input), ParseStatus::kOk);
  EXPECT_EQ(Copy(parser.command()), (Args{"ECHO", "hello"}));
  for (std::string_view arg : parser.command()) {
    EXPECT_GE(arg.data(), input.data());
    EXPECT_LE(arg.data() + arg.size(), input.data() + input.size());
  }
}

TEST(RespParserIncremental, AHeaderLineAtTheLimitIsAcceptedWhenItsCrlfIsSplit) {
  // "*1" and "$1" are exactly 2 bytes: a read ending between '\r' and '\n'
  // must not make them look 3 bytes long.
  ParserLimits limits;
  limits.max_inline_bytes = 2;
  RespParser parser(limits);
  EXPECT_EQ(parser.Parse("*1\r"), ParseStatus::kNeedMore);
  EXPECT_EQ(parser.Parse("*1\r\n$1\r"), ParseStatus::kNeedMore);
  ASSERT_EQ(parser.Parse("*1\r\n$1\r\na\r\n"), ParseStatus::kOk);
  EXPECT_EQ(Copy(parser.command()), (Args{"a"}));
}

TEST(RespParserIncremental, AnOverlongHeaderLineIsTooBigHoweverItArrives) {
  ParserLimits limits;
  limits.max_inline_bytes = 4;
  for (std::string stream : {"*12345\r\n", "*1\r\n$12345\r\n"}) {
    StreamOutcome whole = FeedWhole(stream, limits);
    ASSERT_EQ(whole.events.size(), 1u) << Escape(stream);
    EXPECT_NE(whole.events[0].error.find("too big"), std::string::npos) << whole.events[0].error;
    EXPECT_TRUE(FeedByteByByte(stream, limits).SameResult(whole)) << Escape(stream);
  }
}

TEST(RespParserIncremental, AVeryLargeBulkArrivesInManySmallReads) {
  std::string value(8 * 1024 * 1024, '\0');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>(i * 131 + (i >> 12));
  std::string stream = "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$" + std::to_string(value.size()) + "\r\n" + value + "\r\n";

  std::vector<size_t> reads(stream.size() / 4096 + 1, 4096);
  StreamOutcome outcome = FeedStream(stream, {}, reads, BufferMode::kAppendInPlace);
  ASSERT_EQ(outcome.violation, "");
  ASSERT_EQ(outcome.events.size(), 1u);
  ASSERT_EQ(outcome.events[0].args.size(), 3u);
  EXPECT_EQ(outcome.events[0].args[1], "big");
  EXPECT_TRUE(outcome.events[0].args[2] == value);
  EXPECT_EQ(outcome.unconsumed, 0u);
}

TEST(RespParserIncremental, ABulkAtTheSizeLimitIsAcceptedAcrossReads) {
  ParserLimits limits;
  limits.max_bulk_bytes = 1000;
  std::string stream = "*1\r\n$1000\r\n" + std::string(1000, 'z') + "\r\n";
  std::mt19937_64 rng(3);
  StreamOutcome outcome =
      FeedStream(stream, limits, RandomReadSizes(stream.size(), 64, rng), BufferMode::kAppendInPlace);
  EXPECT_EQ(outcome.violation, "");
  EXPECT_EQ(outcome.events, (std::vector{Multibulk({std::string(1000, 'z')})}));
}

// ---------------------------------------------------------------------------
// ParseInt64: Redis's string2ll(), the one integer syntax of the protocol.

TEST(ParseInt64, AcceptsCanonicalDecimalIntegers) {
  struct Case {
    std::string_view text;
    int64_t value;
  };
  for (Case c : {Case{"0", 0}, Case{"1", 1}, Case{"-1", -1}, Case{"42", 42}, Case{"1000000", 1000000},
                 Case{"-987654321", -987654321}, Case{"9223372036854775807", INT64_MAX},
                 Case{"-9223372036854775808", INT64_MIN}, Case{"-9223372036854775807", -INT64_MAX}}) {
    int64_t value = 12345;
    EXPECT_TRUE(ParseInt64(c.text, &value)) << c.text;
    EXPECT_EQ(value, c.value) << c.text;
  }
}

TEST(ParseInt64, RefusesLeadingZerosAndNegativeZero) {
  int64_t value = 0;
  for (std::string_view text : {"00", "01", "007", "-0", "-01", "-00"}) EXPECT_FALSE(ParseInt64(text, &value)) << text;
}

TEST(ParseInt64, RefusesSignsOtherThanALeadingMinus) {
  int64_t value = 0;
  for (std::string_view text : {"+1", "+0", "-", "--1", "1-", "-+1", "+"})
    EXPECT_FALSE(ParseInt64(text, &value)) << text;
}

TEST(ParseInt64, RefusesSpacesAndOtherCharacters) {
  int64_t value = 0;
  for (std::string_view text :
       {"", " 1", "1 ", " ", "1 2", "\t1", "1\r", "1\n", "1a", "a1", "0x10", "1e3", "1.0", "1,000"}) {
    EXPECT_FALSE(ParseInt64(text, &value)) << Escape(text);
  }
  EXPECT_FALSE(ParseInt64("\0"s, &value));
  EXPECT_FALSE(ParseInt64("1\0"s, &value));
}

TEST(ParseInt64, RefusesValuesOutsideInt64) {
  int64_t value = 0;
  for (std::string_view text :
       {"9223372036854775808", "-9223372036854775809", "18446744073709551615", "18446744073709551616",
        "99999999999999999999", "-99999999999999999999", "100000000000000000000", "123456789012345678901234567890"}) {
    EXPECT_FALSE(ParseInt64(text, &value)) << text;
  }
}

TEST(ParseInt64, LeavesTheOutputAloneOnFailure) {
  int64_t value = 77;
  EXPECT_FALSE(ParseInt64("x", &value));
  EXPECT_FALSE(ParseInt64("9223372036854775808", &value));
  EXPECT_EQ(value, 77);
}

}  // namespace
}  // namespace tally::protocol
