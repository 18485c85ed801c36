#include "commands/access.h"

namespace tally {

std::string_view IdentityName(Identity identity) {
  switch (identity) {
    case Identity::kAdmin:
      return "default";
    case Identity::kReader:
      return "reader";
    case Identity::kNone:
      break;
  }
  return "";
}

bool SecretMatches(std::string_view given, std::string_view configured) {
  if (configured.empty()) return false;
  // Every byte of the longer one is looked at, whatever differs first.
  const size_t n = given.size() > configured.size() ? given.size() : configured.size();
  unsigned char diff = given.size() == configured.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char a = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    const unsigned char b = i < configured.size() ? static_cast<unsigned char>(configured[i]) : 0;
    diff |= static_cast<unsigned char>(a ^ b);
  }
  return diff == 0;
}

Identity AccessControl::ForPassword(std::string_view user, std::string_view given) const {
  if (user.empty() || user == "default") return SecretMatches(given, password) ? Identity::kAdmin : Identity::kNone;
  if (user == "reader") return SecretMatches(given, reader_password) ? Identity::kReader : Identity::kNone;
  return Identity::kNone;
}

bool ValidTokenName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

HttpIdentity AccessControl::Unauthenticated() const {
  if (!enabled()) return {Identity::kAdmin, std::string(kLocalName)};
  return {};
}

HttpIdentity AccessControl::IdentifyBearer(std::string_view token) const {
  if (!enabled()) return Unauthenticated();
  // Secrets are distinct (ResolveAccess), so at most one matches; each is
  // compared all the same, so the time taken does not say which did.
  const NamedToken* named = nullptr;
  for (const NamedToken& candidate : http_named_tokens) {
    if (SecretMatches(token, candidate.secret)) named = &candidate;
  }
  const bool admin = SecretMatches(token, http_token.empty() ? password : http_token);
  const bool reader = SecretMatches(token, http_read_token.empty() ? reader_password : http_read_token);
  if (named != nullptr) return {named->role, named->name};
  if (admin) return {Identity::kAdmin, std::string(kAdminTokenName)};
  if (reader) return {Identity::kReader, std::string(kReadTokenName)};
  return {};
}

}  // namespace tally
