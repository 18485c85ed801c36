// The documentation's examples run as written: every ```sh block of
// docs/counters.md, docs/http.md, docs/quotas.md, docs/redis.md and docs/metering.md, and the "Try it" blocks of
// README.md, line by line with bash against a test daemon, in order. The only edits are the daemon's address: `-p 6380`
// becomes the test port and `./tally-data/tally.sock` the test daemon's unix socket, `localhost:8080` its HTTP port. A
// line fails if it exits non-zero or prints a line starting with "ERR" or "(error)". Where a comment documents the
// reply
// (`# -> 3`, `# total -> 3`, `# -> 3, 10, 0`, `# -> OK`), the output must match.

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "counters_util.h"
#include "tallyd_process.h"

#ifndef TALLY_SOURCE_DIR
#error "TALLY_SOURCE_DIR must name the repository root"
#endif

namespace tally::itest {
namespace {

struct Example {
  int line_number;
  std::string text;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Command lines of the ```sh blocks; with `after_heading`, only the first block
// after that heading (up to the next heading of the same level).
std::vector<Example> ShellExamples(const std::string& markdown, const std::string& after_heading = "") {
  std::vector<Example> out;
  std::vector<std::string> lines = SplitLines(markdown);
  bool in_scope = after_heading.empty(), in_block = false, done = false;
  for (size_t i = 0; i < lines.size() && !done; ++i) {
    const std::string& line = lines[i];
    if (!in_block && !after_heading.empty()) {
      if (line == after_heading) {
        in_scope = true;
        continue;
      }
      if (in_scope && line.rfind("## ", 0) == 0) break;
    }
    if (!in_scope) continue;
    if (!in_block && line.rfind("```sh", 0) == 0) {
      in_block = true;
      continue;
    }
    if (in_block && line.rfind("```", 0) == 0) {
      in_block = false;
      if (!after_heading.empty()) done = true;
      continue;
    }
    if (!in_block) continue;
    std::string trimmed = Trim(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    out.push_back({static_cast<int>(i + 1), trimmed});
  }
  return out;
}

void ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
}

// The reply a comment documents ("# -> 3 (the new total)" -> "3"), or "".
std::string DocumentedReply(const std::string& line) {
  size_t hash = line.find(" #");
  if (hash == std::string::npos) return "";
  std::string comment = line.substr(hash + 2);
  size_t arrow = comment.find("-> ");
  if (arrow == std::string::npos) return "";
  static const std::regex value(R"(^(-?\d+(, -?\d+)*|OK|[A-Za-z]+/[A-Za-z_]+)(?=$|[\s;(]))");
  std::smatch m;
  std::string rest = comment.substr(arrow + 3);
  if (!std::regex_search(rest, m, value)) return "";
  return m[1].str();
}

void RunExamples(const TallydProcess& daemon, const std::string& file, const std::vector<Example>& examples) {
  ASSERT_FALSE(examples.empty()) << "no ```sh examples found in " << file;
  for (const Example& ex : examples) {
    std::string command = ex.text;
    ReplaceAll(command, "-p 6380", "-p " + std::to_string(daemon.port()));
    ReplaceAll(command, "./tally-data/tally.sock", daemon.unix_socket());
    ReplaceAll(command, "localhost:8080", "127.0.0.1:" + std::to_string(daemon.http_port()));
    SCOPED_TRACE(file + ":" + std::to_string(ex.line_number) + ": " + ex.text);
    ProcessResult r = RunProcess({"/bin/bash", "-c", command}, {}, 30s);
    ASSERT_TRUE(r.started) << r.Describe();
    EXPECT_TRUE(r.exited && r.exit_code == 0) << "the example failed: " << r.Describe();
    std::vector<std::string> out_lines;
    for (const std::string& line : SplitLines(r.out + r.err)) {
      std::string t = Trim(line);
      if (t.rfind("ERR", 0) == 0 || t.rfind("(error)", 0) == 0 || t.rfind("WRONGTYPE", 0) == 0) {
        ADD_FAILURE() << "the example printed an error: " << t;
      }
    }
    // HTTP examples: a JSON error body is a failure, unless the line's
    // comment documents the error status it shows ("# 409 duplicate").
    static const std::regex documented_status(R"(#\s*4\d\d\b)");
    const bool error_expected = std::regex_search(ex.text, documented_status);
    if (Contains(r.out, "\"error\":{\"code\"") != error_expected) {
      ADD_FAILURE() << (error_expected ? "the documented HTTP error did not happen: "
                                       : "the example got an HTTP error: ")
                    << r.out;
    }
    for (const std::string& line : SplitLines(r.out)) out_lines.push_back(Trim(line));
    std::string documented = DocumentedReply(ex.text);
    if (!documented.empty()) {
      std::string actual;
      for (const std::string& l : out_lines) actual += (actual.empty() ? "" : ", ") + l;
      EXPECT_EQ(actual, documented) << "the reply differs from the one the docs show";
    }
    std::cout << "[docs] " << ex.text.substr(0, 80) << "\n       => " << Trim(r.out).substr(0, 200) << std::endl;
  }
}

TEST(CounterDocsTest, CountersGuideExamplesRunAsWritten) {
  const std::string file = std::string(TALLY_SOURCE_DIR) + "/docs/counters.md";
  std::string text = ReadFile(file);
  ASSERT_FALSE(text.empty()) << "cannot read " << file;
  auto examples = ShellExamples(text);
  EXPECT_GE(examples.size(), 25u) << "fewer examples than expected were extracted";
  TallydProcess daemon;
  ASSERT_TRUE(daemon.Start());
  counters::AvoidHourBoundary();  // the examples compare cells of "today"
  RunExamples(daemon, "docs/counters.md", examples);
}

TEST(CounterDocsTest, QuotaGuideExamplesRunAsWritten) {
  const std::string file = std::string(TALLY_SOURCE_DIR) + "/docs/quotas.md";
  std::string text = ReadFile(file);
  ASSERT_FALSE(text.empty()) << "cannot read " << file;
  auto examples = ShellExamples(text);
  EXPECT_GE(examples.size(), 30u) << "fewer examples than expected were extracted";
  TallydProcess daemon;
  ASSERT_TRUE(daemon.Start());
  RunExamples(daemon, "docs/quotas.md", examples);
}

TEST(CounterDocsTest, RedisGuideExamplesRunAsWritten) {
  const std::string file = std::string(TALLY_SOURCE_DIR) + "/docs/redis.md";
  std::string text = ReadFile(file);
  ASSERT_FALSE(text.empty()) << "cannot read " << file;
  auto examples = ShellExamples(text);
  EXPECT_GE(examples.size(), 20u) << "fewer examples than expected were extracted";
  TallydProcess daemon;
  ASSERT_TRUE(daemon.Start());
  RunExamples(daemon, "docs/redis.md", examples);
}

TEST(CounterDocsTest, MeteringGuideExamplesRunAsWritten) {
  const std::string file = std::string(TALLY_SOURCE_DIR) + "/docs/metering.md";
  std::string text = ReadFile(file);
  ASSERT_FALSE(text.empty()) << "cannot read " << file;
  auto examples = ShellExamples(text);
  EXPECT_GE(examples.size(), 9u) << "fewer examples than expected were extracted";
  TallydProcess daemon;
  ASSERT_TRUE(daemon.Start());
  counters::AvoidHourBoundary();  // the examples compare cells of "today" and "3 days ago"
  RunExamples(daemon, "docs/metering.md", examples);
}

TEST(CounterDocsTest, ReadmeTryItRunsAsWritten) {
  const std::string file = std::string(TALLY_SOURCE_DIR) + "/README.md";
  std::string text = ReadFile(file);
  ASSERT_FALSE(text.empty()) << "cannot read " << file;
  auto examples = ShellExamples(text, "## Try it");
  EXPECT_GE(examples.size(), 5u) << "the Try it block was not found";
  TallydProcess daemon;
  ASSERT_TRUE(daemon.Start());
  RunExamples(daemon, "README.md", examples);
}

TEST(CounterDocsTest, ReadmeHttpExamplesRunAsWritten) {
  const std::string file = std::string(TALLY_SOURCE_DIR) + "/README.md";
  auto examples = ShellExamples(ReadFile(file), "### Over HTTP");
  EXPECT_GE(examples.size(), 5u) << "the HTTP block was not found";
  TallydProcess daemon;
  ASSERT_TRUE(daemon.Start());
  RunExamples(daemon, "README.md", examples);
}

TEST(CounterDocsTest, HttpGuideExamplesRunAsWritten) {
  const std::string file = std::string(TALLY_SOURCE_DIR) + "/docs/http.md";
  std::string text = ReadFile(file);
  ASSERT_FALSE(text.empty()) << "cannot read " << file;
  auto examples = ShellExamples(text);
  EXPECT_GE(examples.size(), 10u) << "fewer examples than expected were extracted";
  TallydProcess daemon;
  ASSERT_TRUE(daemon.Start());
  RunExamples(daemon, "docs/http.md", examples);
}

}  // namespace
}  // namespace tally::itest
