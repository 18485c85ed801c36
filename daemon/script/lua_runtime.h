#pragma once
// One Lua 5.1 state with Redis's scripting environment: the sandbox, the
// `redis` library and the conversions between Redis replies and Lua values.
// The only code of tally that includes lua.h is lua_runtime.cc.
//
// One LuaRuntime per thread that runs scripts (ForThisThread(): each RESP
// I/O thread gets its own on its first EVAL). Scripts run to completion on
// the thread of the connection that sent them (they never yield), so a
// thread needs one state at a time, and a state per thread costs a few
// hundred kilobytes however many connections there are (a state per
// connection would cost that per client).
//
// The sandbox, as Redis 7.0's: only the base, table, string and math
// libraries (and coroutine); no os, io, package, debug, require, dofile,
// loadfile, setfenv, getfenv, newproxy; loadstring and load refuse
// precompiled bytecode; the global table and the libraries are read-only
// ("Attempt to modify a readonly table"), and reading a global that does not
// exist is an error ("Script attempted to access nonexistent global
// variable 'x'"), so one script cannot leave anything behind for the next.
// Lua may use at most kMemoryLimitBytes per state.
//
// Conversions (Redis's): Redis -> Lua: integer -> number, bulk -> string,
// nil -> false, array -> table, status -> {ok=...}, error -> {err=...}
// (redis.pcall returns it; redis.call raises it). Lua -> Redis: number ->
// integer (truncated), string -> bulk, true -> 1, false and nil -> nil,
// {ok=...} -> status, {err=...} -> error, any other table -> array of its
// elements 1..n up to the first nil.
//
// Thread-safety: a LuaRuntime is used by its own thread only.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "script/reply_value.h"
#include "script/script_watch.h"

struct lua_State;

namespace tally::script {

// What redis.call and redis.pcall run: the command layer implements it
// (commands/script_commands.cc) over the one command table.
class CommandCaller {
 public:
  virtual ~CommandCaller() = default;
  // Runs args (args[0] is the command's name) and returns its reply. A
  // refusal (unknown command, not allowed in a script, undeclared key) is an
  // error reply whose text starts with its code word ("ERR ...").
  virtual ReplyValue Call(std::span<const std::string_view> args) = 0;
};

struct ScriptRun {
  std::string_view sha;  // compiled with Compile()
  std::span<const std::string_view> keys;
  std::span<const std::string_view> argv;
  CommandCaller* caller = nullptr;
  RunningScript* running = nullptr;  // its kill flag and time limit
};

class LuaRuntime {
 public:
  static constexpr size_t kMemoryLimitBytes = size_t{256} << 20;

  LuaRuntime();
  ~LuaRuntime();
  LuaRuntime(const LuaRuntime&) = delete;
  LuaRuntime& operator=(const LuaRuntime&) = delete;

  // The calling thread's runtime (made on first use). Drops the scripts it
  // compiled when the ScriptCache was flushed since.
  static LuaRuntime& ForThisThread();

  // Compiles `body` as script `sha` unless it is compiled already. On
  // failure, `error` receives Redis's text ("Error compiling script (new
  // function): user_script:1: ...") and nothing is kept.
  bool Compile(std::string_view sha, std::string_view body, std::string* error);
  bool IsCompiled(std::string_view sha) const;
  // Runs a compiled script; the reply, or an error reply whose text starts
  // with its code word and ends with " script: <sha>, on @user_script:<line>."
  // as Redis's do.
  ReplyValue Run(const ScriptRun& run);
  // Drops every compiled script (a fresh Lua state).
  void Reset();

  // Lua's memory use now, in bytes.
  size_t memory_bytes() const { return allocator_.used; }

  // For the Lua C functions (lua_runtime.cc).
  struct Allocator {
    size_t used = 0;
    size_t limit = kMemoryLimitBytes;
    LuaRuntime* runtime = nullptr;
  };
  const ScriptRun* current() const { return current_; }

 private:
  void Open();
  void Close();

  Allocator allocator_;
  lua_State* state_ = nullptr;
  uint64_t generation_ = 0;  // of the ScriptCache, when the state was made
  const ScriptRun* current_ = nullptr;
};

}  // namespace tally::script
