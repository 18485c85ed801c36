#include "script/script_cache.h"

#include <mutex>

#include "script/sha1.h"

namespace tally::script {

std::string NormalizeSha(std::string_view sha) {
  if (sha.size() != 40) return {};
  std::string out(sha);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
  }
  return out;
}

ScriptCache& ScriptCache::Instance() {
  static ScriptCache cache;
  return cache;
}

std::string ScriptCache::Add(std::string_view body) {
  std::string sha = Sha1Hex(body);
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    if (bodies_.count(sha)) return sha;
  }
  std::unique_lock<std::shared_mutex> lock(mu_);
  bodies_.emplace(sha, std::string(body));
  return sha;
}

std::optional<std::string> ScriptCache::Find(std::string_view sha) const {
  const std::string key = NormalizeSha(sha);
  if (key.empty()) return std::nullopt;
  std::shared_lock<std::shared_mutex> lock(mu_);
  auto it = bodies_.find(key);
  if (it == bodies_.end()) return std::nullopt;
  return it->second;
}

bool ScriptCache::Contains(std::string_view sha) const {
  const std::string key = NormalizeSha(sha);
  if (key.empty()) return false;
  std::shared_lock<std::shared_mutex> lock(mu_);
  return bodies_.count(key) > 0;
}

void ScriptCache::Flush() {
  std::unique_lock<std::shared_mutex> lock(mu_);
  bodies_.clear();
  ++generation_;
}

uint64_t ScriptCache::generation() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return generation_;
}

size_t ScriptCache::size() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return bodies_.size();
}

}  // namespace tally::script
