// tally-docgen: prints or checks the documents generated from tally's tables
// (docgen.h).
//
//   tally-docgen commands | errors | readme   print one document (readme: only the list between the markers)
//   tally-docgen --write ROOT                  rewrite docs/commands.md, docs/errors.md and README.md's list
//   tally-docgen --check ROOT                  exit 1 (naming the files) when a checked-in file differs
//
// `bash tools/gen-docs.sh` builds it and runs --write on the repository.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "commands/registry.h"
#include "docgen.h"

namespace {

int Usage() {
  std::cerr << "usage: tally-docgen commands|errors|readme\n"
               "       tally-docgen --write ROOT | --check ROOT\n";
  return 2;
}

// The first line where `a` and `b` differ (1-based), for the check's message.
size_t FirstDifferentLine(const std::string& a, const std::string& b) {
  size_t line = 1;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] != b[i]) return line;
    if (a[i] == '\n') ++line;
  }
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tally;
  if (argc < 2) return Usage();
  const std::string what = argv[1];
  const protocol::CommandTable& table = commands::BuildCommandTable();
  if (what == "commands") {
    std::cout << docgen::CommandsMarkdown(table) << "\n";
    return 0;
  }
  if (what == "errors") {
    std::cout << docgen::ErrorsMarkdown();
    return 0;
  }
  if (what == "readme") {
    std::cout << docgen::ReadmeCommandList(table) << "\n";
    return 0;
  }
  if ((what != "--write" && what != "--check") || argc != 3) return Usage();
  const std::string root = argv[2];
  int status = 0;
  for (const docgen::Document& doc : docgen::GeneratedDocuments(table, root)) {
    const std::string path = root + "/" + doc.path;
    if (doc.content.empty()) {
      std::cerr << doc.path << ": the markers " << docgen::kReadmeBegin << " and " << docgen::kReadmeEnd
                << " are missing; add them where the command list belongs\n";
      status = 1;
      continue;
    }
    const std::string current = docgen::ReadFile(path);
    if (current == doc.content) continue;
    if (what == "--check") {
      std::cerr << doc.path << " is out of date (first difference at line " << FirstDifferentLine(current, doc.content)
                << "): it is generated from the command, route and error tables. Run:  bash tools/gen-docs.sh\n";
      status = 1;
      continue;
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << doc.content;
    if (!out) {
      std::cerr << "cannot write " << path << "\n";
      return 1;
    }
    std::cout << "wrote " << doc.path << "\n";
  }
  return status;
}
