#include "protocol/errors.h"

namespace tally::protocol::errors {
namespace {

// Redis (networking.c / server.c) caps echoed user text at 128 bytes and
// replaces CR/LF with spaces so an error reply can never break framing.
void AppendScrubbed(std::string& out, std::string_view text, size_t cap) {
  if (text.size() > cap) text = text.substr(0, cap);
  for (char c : text) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
}

}  // namespace

std::string WrongArity(std::string_view command) {
  std::string out = "wrong number of arguments for '";
  for (char c : command.substr(0, 128)) {
    out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : (c == '\r' || c == '\n' ? ' ' : c));
  }
  out += "' command";
  return out;
}

std::string UnknownCommand(std::string_view command, const std::string_view* args, size_t arg_count) {
  std::string out = "unknown command '";
  AppendScrubbed(out, command, 128);
  out += "', with args beginning with: ";
  // Same loop as Redis's processCommand(): append "'<arg>' " while the
  // argument text is under 128 bytes, each argument cut to what is left.
  std::string echoed;
  for (size_t i = 0; i < arg_count && echoed.size() < 128; ++i) {
    echoed.push_back('\'');
    echoed.append(args[i].substr(0, 128 - (echoed.size() - 1)));
    echoed += "' ";
  }
  AppendScrubbed(out, echoed, echoed.size());
  return out;
}

std::string UnknownSubcommand(std::string_view subcommand, std::string_view command) {
  std::string out = "unknown subcommand '";
  AppendScrubbed(out, subcommand, 128);
  out += "'. Try ";
  for (char c : command) out.push_back((c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c);
  out += " HELP.";
  return out;
}

std::string InvalidExpire(std::string_view command) {
  std::string out = "invalid expire time in '";
  for (char c : command.substr(0, 128)) {
    out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
  }
  out += "' command";
  return out;
}

}  // namespace tally::protocol::errors
