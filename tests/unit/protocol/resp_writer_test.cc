// The RESP encoder and RespSink: the exact bytes a client receives.

#include "protocol/resp_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "protocol/resp_parser.h"

namespace tally::protocol {
namespace {

using namespace std::string_literals;

// ---------------------------------------------------------------------------
// resp:: encoders

TEST(RespWriter, SimpleStringIsPlusTextCrlf) {
  std::string out;
  resp::AppendSimple(out, "OK");
  EXPECT_EQ(out, "+OK\r\n");
}

TEST(RespWriter, IntegersCoverTheWholeInt64Range) {
  std::string out;
  resp::AppendInteger(out, 0);
  resp::AppendInteger(out, -1);
  resp::AppendInteger(out, 1234567890123);
  resp::AppendInteger(out, INT64_MAX);
  resp::AppendInteger(out, INT64_MIN);
  EXPECT_EQ(out, ":0\r\n:-1\r\n:1234567890123\r\n:9223372036854775807\r\n:-9223372036854775808\r\n");
}

TEST(RespWriter, BulkStringIsLengthPrefixedAndBinarySafe) {
  std::string out;
  resp::AppendBulk(out, "hello");
  resp::AppendBulk(out, "");
  resp::AppendBulk(out, "a\r\n\0b"s);
  EXPECT_EQ(out, "$5\r\nhello\r\n$0\r\n\r\n$5\r\na\r\n\0b\r\n"s);
}

TEST(RespWriter, NullBulkAndNullArrayAreResp2Nils) {
  std::string out;
  resp::AppendNullBulk(out);
  resp::AppendNullArray(out);
  EXPECT_EQ(out, "$-1\r\n*-1\r\n");
}

TEST(RespWriter, ArrayHeaderAnnouncesTheLength) {
  std::string out;
  resp::AppendArrayHeader(out, 0);
  resp::AppendArrayHeader(out, 3);
  resp::AppendArrayHeader(out, 1000000);
  EXPECT_EQ(out, "*0\r\n*3\r\n*1000000\r\n");
}

TEST(RespWriter, ErrorsGetTheirPrefix) {
  std::string out;
  resp::AppendError(out, "ERR", "syntax error");
  EXPECT_EQ(out, "-ERR syntax error\r\n");
}

TEST(RespWriter, AnyPrefixIsWrittenAsGiven) {
  std::string out;
  resp::AppendError(out, "WRONGTYPE", "Operation against a key holding the wrong kind of value");
  resp::AppendError(out, "NOAUTH", "Authentication required.");
  EXPECT_EQ(out,
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
            "-NOAUTH Authentication required.\r\n");
}

TEST(RespWriter, AnEmptyErrorIsStillAnErrReply) {
  std::string out;
  resp::AppendError(out, "ERR", "");
  EXPECT_EQ(out, "-ERR \r\n");
}

TEST(RespWriter, CrAndLfInErrorsBecomeSpaces) {
  std::string out;
  resp::AppendError(out, "ERR", "bad\r\nthing\n");
  resp::AppendError(out, "CODE", "a\rb");
  EXPECT_EQ(out, "-ERR bad  thing \r\n-CODE a b\r\n");
}

TEST(RespWriter, CrAndLfInSimpleStringsBecomeSpaces) {
  std::string out;
  resp::AppendSimple(out, "line1\r\nline2");
  EXPECT_EQ(out, "+line1  line2\r\n");
}

TEST(RespWriter, AppendsToWhatIsAlreadyInTheBuffer) {
  std::string out = "pending";
  resp::AppendInteger(out, 7);
  EXPECT_EQ(out, "pending:7\r\n");
}

// ---------------------------------------------------------------------------
// RespSink

TEST(RespSink, TheErrorCodeGivesThePrefix) {
  std::string out;
  RespSink sink(&out);
  sink.SendError(ErrorCode::kWrongPass, "invalid username-password pair or user is disabled.");
  sink.SendError(ErrorCode::kStorageFailed, "log failed");
  sink.SendError(ErrorCode::kInvalidName, "invalid owner 'a b'");
  EXPECT_EQ(out,
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
            "-ERR log failed\r\n"
            "-ERR invalid owner 'a b'\r\n");
}

TEST(RespSink, AnErrorNamingArgumentsPrintsTheSyntaxNames) {
  std::string out;
  RespSink sink(&out);
  sink.SendError(errors::OutOfRange("COUNT", 1, 10000));
  sink.SendError(errors::TimeLooksLikeSeconds("AT", 1796395548));
  EXPECT_EQ(out,
            "-ERR COUNT must be between 1 and 10000\r\n"
            "-ERR AT 1796395548 looks like seconds: AT is in milliseconds since the epoch (did you mean "
            "1796395548000?)\r\n");
}

TEST(RespSink, SpeaksResp2ByDefault) {
  std::string out;
  RespSink sink(&out);
  EXPECT_FALSE(sink.resp3());
  EXPECT_EQ(&sink.buffer(), &out);
}

TEST(RespSink, WritesEveryResp2Type) {
  std::string out;
  RespSink sink(&out);
  sink.SendOk();
  sink.SendSimple("PONG");
  sink.SendError(ErrorCode::kNotInteger, "value is not an integer or out of range");
  sink.SendInteger(-42);
  sink.SendBulk("v");
  sink.SendNull();
  sink.SendArray(2);
  sink.SendNullArray();
  sink.SendMap(2);
  EXPECT_EQ(out,
            "+OK\r\n"
            "+PONG\r\n"
            "-ERR value is not an integer or out of range\r\n"
            ":-42\r\n"
            "$1\r\nv\r\n"
            "$-1\r\n"
            "*2\r\n"
            "*-1\r\n"
            "*4\r\n");
}

TEST(RespSink, Resp3HasMapsAndASingleNull) {
  std::string out;
  RespSink sink(&out);
  sink.set_resp3(true);
  EXPECT_TRUE(sink.resp3());
  sink.SendMap(2);
  sink.SendNull();
  sink.SendNullArray();
  sink.SendMap(0);
  EXPECT_EQ(out, "%2\r\n_\r\n_\r\n%0\r\n");
}

TEST(RespSink, Resp3KeepsTheOtherTypes) {
  std::string out;
  RespSink sink(&out);
  sink.set_resp3(true);
  sink.SendOk();
  sink.SendError(ErrorCode::kNoProto, "unsupported protocol version");
  sink.SendInteger(1);
  sink.SendBulk("ab");
  sink.SendArray(0);
  EXPECT_EQ(out, "+OK\r\n-NOPROTO unsupported protocol version\r\n:1\r\n$2\r\nab\r\n*0\r\n");
}

TEST(RespSink, AMapIsAFlatArrayOfPairsInResp2) {
  std::string resp2;
  std::string resp3;
  for (auto [out, on] : {std::pair{&resp2, false}, std::pair{&resp3, true}}) {
    RespSink sink(out);
    sink.set_resp3(on);
    sink.SendMap(2);
    sink.SendBulk("allowed");
    sink.SendInteger(1);
    sink.SendBulk("remaining");
    sink.SendInteger(99);
  }
  EXPECT_EQ(resp2, "*4\r\n$7\r\nallowed\r\n:1\r\n$9\r\nremaining\r\n:99\r\n");
  EXPECT_EQ(resp3, "%2\r\n$7\r\nallowed\r\n:1\r\n$9\r\nremaining\r\n:99\r\n");
}

TEST(RespSink, SwitchingProtocolAffectsOnlyLaterReplies) {
  std::string out;
  RespSink sink(&out);
  sink.SendNull();
  sink.set_resp3(true);
  sink.SendNull();
  sink.set_resp3(false);
  sink.SendNull();
  EXPECT_EQ(out, "$-1\r\n_\r\n$-1\r\n");
}

TEST(RespSink, AnArrayOfBulksIsAValidRequest) {
  // What the sink writes as an array of bulk strings, the parser reads back.
  std::string out;
  RespSink sink(&out);
  sink.SendArray(3);
  sink.SendBulk("SET");
  sink.SendBulk("k");
  sink.SendBulk("a\r\nb");
  RespParser parser;
  ASSERT_EQ(parser.Parse(out), ParseStatus::kOk);
  ASSERT_EQ(parser.command().size(), 3u);
  EXPECT_EQ(parser.command()[2], "a\r\nb");
  EXPECT_EQ(parser.consumed(), out.size());
}

TEST(RespSink, WorksThroughTheReplySinkInterface) {
  std::string out;
  RespSink resp(&out);
  ReplySink& sink = resp;
  sink.SendArray(1);
  sink.SendOk();
  EXPECT_EQ(out, "*1\r\n+OK\r\n");
}

}  // namespace
}  // namespace tally::protocol
