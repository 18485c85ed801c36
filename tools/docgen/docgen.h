#pragma once
// The documents generated from tally's tables, so that the docs cannot drift
// from the code: docs/commands.md (the command table and the HTTP routes),
// docs/errors.md (the error code table) and the README's command list (the
// lines between its `<!-- commands:begin -->` and `<!-- commands:end -->`
// markers). `tally-docgen` prints or rewrites them; `bash tools/gen-docs.sh`
// runs it, and a ctest fails while a checked-in file differs.
//
// Also the rules the docs test (tests/unit/net/http_api_docs_test.cc)
// checks: which hand-written page documents each command group.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/command_table.h"

namespace tally::docgen {

struct Group {
  std::string_view name;         // CommandSpec::group
  std::string_view title;        // "Owner counters"
  std::string_view family_page;  // the hand-written page that explains it, relative to the repo root
};

// Every command group, in the order the documents list them.
std::span<const Group> Groups();
const Group* FindGroup(std::string_view name);

// The generated documents.
std::string CommandsMarkdown(const protocol::CommandTable& table);
std::string ErrorsMarkdown();
std::string ReadmeCommandList(const protocol::CommandTable& table);  // between the README's markers

inline constexpr std::string_view kReadmeBegin = "<!-- commands:begin -->";
inline constexpr std::string_view kReadmeEnd = "<!-- commands:end -->";

struct Document {
  std::string path;     // relative to the repository root
  std::string content;  // the whole file as it must be
};
// Every generated file, the README with its list replaced. `root` is the
// repository root (the README is read from it). Empty content: the README
// lacks its markers.
std::vector<Document> GeneratedDocuments(const protocol::CommandTable& table, const std::string& root);

// GitHub's heading anchor ("CTR.INCRBY" -> "ctrincrby").
std::string Anchor(std::string_view heading);

// Reads a whole file ("" when it cannot).
std::string ReadFile(const std::string& path);

}  // namespace tally::docgen
