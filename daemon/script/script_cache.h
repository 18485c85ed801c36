#pragma once
// The script cache: every script body EVAL ran or SCRIPT LOAD loaded, by the
// lower-case hex SHA-1 of its body, shared by all threads (each thread's Lua
// state compiles a body the first time it runs it). In memory only, as in
// Redis: a restart or SCRIPT FLUSH empties it, and EVALSHA then answers
// NOSCRIPT until the client sends EVAL (or SCRIPT LOAD) again, which every
// Redis client library does by itself.
//
// Thread-safe.

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tally::script {

class ScriptCache {
 public:
  static ScriptCache& Instance();

  // Adds `body` (if new); returns its SHA-1 (lower-case hex).
  std::string Add(std::string_view body);
  // The body of `sha` (any case), if cached.
  std::optional<std::string> Find(std::string_view sha) const;
  bool Contains(std::string_view sha) const;
  // Empties the cache and moves to a new generation: each thread's Lua state
  // drops its compiled scripts when it sees the generation change.
  void Flush();
  uint64_t generation() const;
  size_t size() const;

 private:
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::string> bodies_;  // GUARDED_BY(mu_)
  uint64_t generation_ = 0;                              // GUARDED_BY(mu_)
};

// `sha` in lower case, or empty if it is not 40 hex digits.
std::string NormalizeSha(std::string_view sha);

}  // namespace tally::script
