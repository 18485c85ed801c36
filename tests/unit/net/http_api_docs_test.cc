// The tables and the hand-written docs agree: every command is described
// (syntax, summary, group) and mentioned in its family's guide, every HTTP
// route names known commands, feeds arguments those commands have, and is
// documented in docs/http.md; the generated documents are up to date.

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

#include "commands/registry.h"
#include "docgen.h"
#include "net/http_route.h"

#ifndef TALLY_SOURCE_DIR
#error "TALLY_SOURCE_DIR must name the repository root"
#endif

namespace tally::net {
namespace {

const protocol::CommandTable& Table() { return commands::BuildCommandTable(); }

std::string Doc(const std::string& relative) {
  std::string text = docgen::ReadFile(std::string(TALLY_SOURCE_DIR) + "/" + relative);
  EXPECT_FALSE(text.empty()) << "cannot read " << relative;
  return text;
}

// `name` as a word of `text` (CTR.INCR is not found in "CTR.INCRBY").
bool Mentions(const std::string& text, std::string_view name) {
  std::string escaped;
  for (char c : name) {
    if (c == '.') escaped += '\\';
    escaped.push_back(c);
  }
  return std::regex_search(text, std::regex("(^|[^A-Za-z0-9_.])" + escaped + "($|[^A-Za-z0-9_.])"));
}

// The words of a syntax ("owner key delta [AT unix-ms]" -> owner, key, delta, AT, unix, ms).
std::set<std::string> SyntaxWords(std::string_view syntax) {
  std::set<std::string> words;
  std::string word;
  for (char c : std::string(syntax) + " ") {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') {
      word.push_back(c);
    } else if (!word.empty()) {
      words.insert(word);
      word.clear();
    }
  }
  return words;
}

TEST(CommandDocs, EveryCommandHasASummaryAGroupAndASyntax) {
  for (const protocol::CommandSpec* spec : Table().all()) {
    SCOPED_TRACE(std::string(spec->name));
    EXPECT_FALSE(spec->summary.empty()) << "no summary";
    EXPECT_FALSE(spec->group.empty()) << "no group";
    EXPECT_NE(docgen::FindGroup(spec->group), nullptr)
        << "group '" << spec->group << "' has no entry (title, guide) in tools/docgen/docgen.cc";
    // Only a command that takes no arguments may leave its syntax empty.
    if (spec->arity != 1 && spec->arity != -1) {
      EXPECT_FALSE(spec->syntax.empty()) << "no syntax";
    }
  }
}

TEST(CommandDocs, EveryCommandIsExplainedInItsFamilyGuide) {
  for (const docgen::Group& group : docgen::Groups()) {
    const std::string page = Doc(std::string(group.family_page));
    for (const protocol::CommandSpec* spec : Table().all()) {
      if (spec->group != group.name) continue;
      EXPECT_TRUE(Mentions(page, spec->name)) << spec->name << " (group " << group.name << ") is not mentioned in "
                                              << group.family_page << ": explain it there (what it is for, an example)";
    }
  }
}

TEST(RouteDocs, EveryRouteRunsKnownCommandsAndFeedsTheirArguments) {
  for (const RouteSpec& route : AllRoutes()) {
    const std::string id = std::string(route.method) + " " + std::string(route.pattern);
    SCOPED_TRACE(id);
    std::set<std::string> words;
    for (std::string_view name : Words(route.commands)) {
      const protocol::CommandSpec* spec = Table().Find(name);
      ASSERT_NE(spec, nullptr) << "the route names an unknown command " << name;
      EXPECT_EQ(spec->name, name) << "spell the command as the table does";
      auto more = SyntaxWords(spec->syntax);
      words.insert(more.begin(), more.end());
    }
    for (const FieldSpec& field : route.fields) {
      for (std::string_view fed : Words(field.feeds)) {
        for (const std::string& word : SyntaxWords(fed)) {
          EXPECT_TRUE(words.count(word)) << "field " << field.name << " feeds '" << fed
                                         << "', which is not an argument of " << route.commands;
        }
      }
    }
  }
}

TEST(RouteDocs, EveryRouteIsInTheHttpGuide) {
  const std::string http = Doc("docs/http.md");
  for (const RouteSpec& route : AllRoutes()) {
    const std::string id = std::string(route.method) + " " + std::string(route.pattern);
    EXPECT_NE(http.find("`" + id + "`"), std::string::npos) << id << " is not documented in docs/http.md";
  }
}

TEST(GeneratedDocs, AreUpToDate) {
  for (const docgen::Document& doc : docgen::GeneratedDocuments(Table(), TALLY_SOURCE_DIR)) {
    ASSERT_FALSE(doc.content.empty()) << doc.path << " lacks its generated-list markers";
    EXPECT_TRUE(Doc(doc.path) == doc.content)
        << doc.path << " differs from what the tables generate. Run:  bash tools/gen-docs.sh";
  }
}

TEST(GeneratedDocs, DocsStandAlone) {
  for (const char* path :
       {"docs/commands.md", "docs/errors.md", "docs/http.md", "docs/counters.md", "docs/changefeed.md", "docs/redis.md",
        "docs/quotas.md", "docs/metering.md", "docs/backup.md", "docs/cli.md", "docs/install.md",
        "docs/export-import.md", "docs/operations.md", "README.md"}) {
    const std::string text = Doc(path);
    EXPECT_EQ(text.find("SPEC \xc2\xa7"), std::string::npos) << path << " refers to the spec: state the rule";
    EXPECT_EQ(text.find("../shared/"), std::string::npos) << path << " refers to ../shared/";
  }
}

}  // namespace
}  // namespace tally::net
