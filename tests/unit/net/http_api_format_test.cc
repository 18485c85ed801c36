// The HTTP API's small wire-format pieces: percent-decoding of paths and
// query strings, and RFC 4180 CSV fields of the export.

#include <gtest/gtest.h>

#include <string>

#include "net/http_api.h"

namespace tally::net {
namespace {

std::string Decode(std::string_view in, bool plus_is_space = false) {
  std::string out;
  EXPECT_TRUE(PercentDecode(in, plus_is_space, &out)) << in;
  return out;
}

TEST(PercentDecode, DecodesEscapesAndKeepsOtherBytes) {
  EXPECT_EQ(Decode("user%3A42"), "user:42");
  EXPECT_EQ(Decode("a%2fb%2Fc"), "a/b/c");
  EXPECT_EQ(Decode("plain-name_1.x@y"), "plain-name_1.x@y");
  EXPECT_EQ(Decode("%00"), std::string(1, '\0'));
  EXPECT_EQ(Decode("%ff"), "\xff");
}

TEST(PercentDecode, PlusIsASpaceOnlyInQueryStrings) {
  EXPECT_EQ(Decode("a+b", true), "a b");
  EXPECT_EQ(Decode("a+b", false), "a+b");
  EXPECT_EQ(Decode("a%2Bb", true), "a+b");
}

TEST(PercentDecode, RejectsTruncatedOrNonHexEscapes) {
  std::string out;
  for (std::string_view bad : {"%", "%4", "a%", "%zz", "%4g", "%g4"}) {
    EXPECT_FALSE(PercentDecode(bad, false, &out)) << bad;
  }
}

std::string Csv(std::string_view field) {
  std::string out;
  AppendCsvField(out, field);
  return out;
}

TEST(CsvField, PlainFieldsAreNotQuoted) {
  EXPECT_EQ(Csv("user:42"), "user:42");
  EXPECT_EQ(Csv("2024-10-27T02+01:00"), "2024-10-27T02+01:00");
  EXPECT_EQ(Csv(""), "");
}

TEST(CsvField, CommasQuotesAndLineBreaksAreQuotedWithQuotesDoubled) {
  EXPECT_EQ(Csv("a,b"), "\"a,b\"");
  EXPECT_EQ(Csv("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(Csv("line\nbreak"), "\"line\nbreak\"");
  EXPECT_EQ(Csv("cr\rhere"), "\"cr\rhere\"");
  EXPECT_EQ(Csv("\""), "\"\"\"\"");
}

}  // namespace
}  // namespace tally::net
