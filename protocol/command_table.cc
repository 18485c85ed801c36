#include "protocol/command_table.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "protocol/errors.h"

namespace tally::protocol {
namespace {

constexpr size_t kLongestName = 64;

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ToLower(c);
  return out;
}

void CommandTable::Register(std::span<const CommandSpec> specs) {
  for (const CommandSpec& spec : specs) {
    std::string lower = AsciiLower(spec.name);
    if (lower.size() > kLongestName || !by_lower_name_.emplace(lower, Entry{&spec, ordered_.size()}).second) {
      std::fprintf(stderr, "command table: duplicate or too long command name '%.*s'\n",
                   static_cast<int>(spec.name.size()), spec.name.data());
      std::abort();
    }
    index_of_.emplace(&spec, ordered_.size());
    ordered_.push_back(&spec);
  }
}

const CommandTable::Entry* CommandTable::FindEntry(std::string_view name) const {
  if (name.empty() || name.size() > kLongestName) return nullptr;
  char lower[kLongestName];
  for (size_t i = 0; i < name.size(); ++i) lower[i] = ToLower(name[i]);
  auto it = by_lower_name_.find(std::string_view(lower, name.size()));
  return it == by_lower_name_.end() ? nullptr : &it->second;
}

const CommandSpec* CommandTable::Find(std::string_view name) const {
  const Entry* entry = FindEntry(name);
  return entry == nullptr ? nullptr : entry->spec;
}

size_t CommandTable::IndexOf(const CommandSpec* spec) const {
  auto it = index_of_.find(spec);
  return it == index_of_.end() ? kNoIndex : it->second;
}

const CommandSpec* CommandTable::Resolve(CommandArgs args, ReplySink& reply, size_t* index) const {
  const Entry* entry = args.empty() ? nullptr : FindEntry(args[0]);
  if (index != nullptr) *index = entry == nullptr ? kNoIndex : entry->index;
  const CommandSpec* spec = entry == nullptr ? nullptr : entry->spec;
  if (spec == nullptr) {
    std::string_view name = args.empty() ? std::string_view() : args[0];
    reply.SendError(ErrorCode::kUnknownCommand, errors::UnknownCommand(name, args.empty() ? nullptr : args.data() + 1,
                                                                       args.empty() ? 0 : args.size() - 1));
    return nullptr;
  }
  if (!ArityMatches(spec->arity, args.size())) {
    reply.SendError(ErrorCode::kWrongArity, errors::WrongArity(args[0]));
    return nullptr;
  }
  return spec;
}

std::vector<ErrorCode> DeclaredErrors(const CommandSpec& spec) {
  std::vector<ErrorCode> codes(spec.errors.begin(), spec.errors.end());
  if (spec.arity != 1 && spec.arity != -1) codes.push_back(ErrorCode::kWrongArity);
  if (spec.flags & flags::kWrite) {
    codes.push_back(ErrorCode::kStorageFailed);
    codes.push_back(ErrorCode::kDiskFull);
  }
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  return codes;
}

std::vector<std::string_view> FlagNames(uint32_t f) {
  std::vector<std::string_view> names;
  if (f & flags::kWrite) names.push_back("write");
  if (f & flags::kReadOnly) names.push_back("readonly");
  if (f & flags::kFast) names.push_back("fast");
  if (f & flags::kAdmin) names.push_back("admin");
  if (f & flags::kConnection) names.push_back("connection");
  if (f & flags::kNoScript) names.push_back("noscript");
  if (f & flags::kSubscriberOk) names.push_back("subscriber_ok");
  if (f & flags::kNoAuthOk) names.push_back("no_auth");
  if (f & flags::kAdminOnly) names.push_back("admin_only");
  if (f & flags::kNoShards) names.push_back("no_shards");
  if (f & flags::kTransactionControl) names.push_back("transaction_control");
  return names;
}

}  // namespace tally::protocol
