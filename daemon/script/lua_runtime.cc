#include "script/lua_runtime.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
}

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "script/script_cache.h"
#include "script/sha1.h"

// Lua 5.1 reports errors with longjmp: no C++ object with a destructor may be
// alive in a frame a Lua error can unwind. The C functions below do their C++
// work in helpers that return before anything can raise, and raise last.

namespace tally::script {
namespace {

// Registry keys.
constexpr const char* kScriptsKey = "tally.scripts";    // sha -> compiled function
constexpr const char* kGlobalsKey = "tally.globals";    // the real global table
constexpr const char* kReadonlyKey = "tally.readonly";  // read-only proxy -> true

// The hook runs every this many Lua instructions (Redis's figure): often
// enough to stop a loop within milliseconds, rare enough to cost nothing.
constexpr int kHookInstructions = 100000;
// Deeper tables are not converted (a table that contains itself would
// recurse forever).
constexpr int kMaxReplyDepth = 1000;

constexpr const char* kReadonlyError = "Attempt to modify a readonly table";

LuaRuntime::Allocator& AllocatorOf(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return *static_cast<LuaRuntime::Allocator*>(ud);
}

// Lua's allocator, refusing to grow past the limit (Lua raises "not enough
// memory" in the script then). Shrinking never fails, as Lua requires.
void* Allocate(void* ud, void* ptr, size_t old_size, size_t new_size) {
  auto* allocator = static_cast<LuaRuntime::Allocator*>(ud);
  if (ptr == nullptr) old_size = 0;
  if (new_size == 0) {
    std::free(ptr);
    allocator->used -= old_size;
    return nullptr;
  }
  if (new_size > old_size && allocator->used - old_size + new_size > allocator->limit) return nullptr;
  void* moved = std::realloc(ptr, new_size);
  if (moved == nullptr) return nullptr;
  allocator->used = allocator->used - old_size + new_size;
  return moved;
}

int Panic(lua_State* L) {
  const char* message = lua_tostring(L, -1);
  spdlog::critical("Lua panic (an error outside any protected call): {}", message ? message : "?");
  std::abort();
}

std::string Sanitized(std::string text) {
  for (char& c : text) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return text;
}

// Pushes {err = text}.
void PushErrorTable(lua_State* L, std::string_view text) {
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "err");
  lua_pushlstring(L, text.data(), text.size());
  lua_rawset(L, -3);
}

// tostring() of the value at `index`, without calling Lua (no metamethods).
void PushPlainString(lua_State* L, int index) {
  switch (lua_type(L, index)) {
    case LUA_TNIL:
      lua_pushliteral(L, "nil");
      break;
    case LUA_TBOOLEAN:
      lua_pushstring(L, lua_toboolean(L, index) ? "true" : "false");
      break;
    case LUA_TNUMBER:
    case LUA_TSTRING:
      lua_pushvalue(L, index);
      lua_tostring(L, -1);
      break;
    default:
      lua_pushfstring(L, "%s: %p", luaL_typename(L, index), lua_topointer(L, index));
  }
}

// The message handler of every script run (Redis's __redis__err__handler):
// turns the error into a fresh table {err=..., source=..., line=...}, the
// source and line being where the script was when it failed (the caller
// of a C function such as error() or redis.call).
int ErrorHandler(lua_State* L) {
  lua_Debug where;
  bool located = lua_getstack(L, 1, &where) && lua_getinfo(L, "Sl", &where);
  if (located && std::strcmp(where.what, "C") == 0) {
    located = lua_getstack(L, 2, &where) && lua_getinfo(L, "Sl", &where);
  }
  lua_createtable(L, 0, 3);
  const int result = lua_gettop(L);
  lua_pushliteral(L, "err");
  if (lua_istable(L, 1)) {
    lua_pushliteral(L, "err");
    lua_rawget(L, 1);
  } else {
    lua_pushliteral(L, "ERR ");
    PushPlainString(L, 1);
    lua_concat(L, 2);
  }
  lua_rawset(L, result);
  if (located) {
    lua_pushliteral(L, "source");
    lua_pushstring(L, where.source);
    lua_rawset(L, result);
    lua_pushliteral(L, "line");
    lua_pushinteger(L, where.currentline);
    lua_rawset(L, result);
  }
  return 1;
}

void Hook(lua_State* L, lua_Debug*) {
  const ScriptRun* run = AllocatorOf(L).runtime->current();
  if (run == nullptr || run->running == nullptr) return;
  ScriptWatch::Instance().OnHook(*run->running);
  if (!run->running->kill.load(std::memory_order_relaxed)) return;
  // From now on every line raises again, so a pcall in the script cannot
  // catch the kill and carry on (as in Redis).
  lua_sethook(L, Hook, LUA_MASKLINE | LUA_MASKCOUNT, 1);
  PushErrorTable(L, "ERR Script killed by user with SCRIPT KILL...");
  lua_error(L);
}

// ---- conversions --------------------------------------------------------------

// Redis truncates a Lua number to a 64-bit integer with a C cast; on x86-64
// a value out of range (and NaN) becomes INT64_MIN, which is what Redis
// replies, so that is what tally replies too (without the undefined cast).
int64_t TruncatedInteger(lua_Number number) {
  if (!(number >= -9223372036854775808.0 && number < 9223372036854775808.0)) return INT64_MIN;
  return static_cast<int64_t>(number);
}

ReplyValue ToReply(lua_State* L, int index, int depth) {
  switch (lua_type(L, index)) {
    case LUA_TSTRING: {
      size_t length = 0;
      const char* bytes = lua_tolstring(L, index, &length);
      return ReplyValue::Bulk(std::string_view(bytes, length));
    }
    case LUA_TBOOLEAN:
      return lua_toboolean(L, index) ? ReplyValue::Integer(1) : ReplyValue::Null();
    case LUA_TNUMBER:
      return ReplyValue::Integer(TruncatedInteger(lua_tonumber(L, index)));
    case LUA_TTABLE: {
      if (depth >= kMaxReplyDepth || !lua_checkstack(L, 4)) return ReplyValue::Error("ERR reached lua stack limit");
      lua_pushliteral(L, "err");
      lua_rawget(L, index);
      if (lua_type(L, -1) == LUA_TSTRING) {
        std::string text = Sanitized(lua_tostring(L, -1));
        lua_pop(L, 1);
        return ReplyValue::Error(text);
      }
      lua_pop(L, 1);
      lua_pushliteral(L, "ok");
      lua_rawget(L, index);
      if (lua_type(L, -1) == LUA_TSTRING) {
        std::string text = Sanitized(lua_tostring(L, -1));
        lua_pop(L, 1);
        return ReplyValue::Status(text);
      }
      lua_pop(L, 1);
      ReplyValue array;
      array.kind = ReplyValue::Kind::kArray;
      for (int i = 1;; ++i) {
        lua_rawgeti(L, index, i);
        if (lua_isnil(L, -1)) {
          lua_pop(L, 1);
          break;
        }
        array.elements.push_back(ToReply(L, lua_gettop(L), depth + 1));
        lua_pop(L, 1);
      }
      return array;
    }
    default:
      return ReplyValue::Null();
  }
}

void PushReply(lua_State* L, const ReplyValue& reply) {
  lua_checkstack(L, 4);
  switch (reply.kind) {
    case ReplyValue::Kind::kStatus:
      lua_createtable(L, 0, 1);
      lua_pushliteral(L, "ok");
      lua_pushlstring(L, reply.text.data(), reply.text.size());
      lua_rawset(L, -3);
      return;
    case ReplyValue::Kind::kError:
      return PushErrorTable(L, reply.text);
    case ReplyValue::Kind::kInteger:
      return lua_pushnumber(L, static_cast<lua_Number>(reply.integer));
    case ReplyValue::Kind::kBulk:
      return lua_pushlstring(L, reply.text.data(), reply.text.size());
    case ReplyValue::Kind::kNull:
      return lua_pushboolean(L, 0);
    case ReplyValue::Kind::kArray:
      lua_createtable(L, static_cast<int>(reply.elements.size()), 0);
      for (size_t i = 0; i < reply.elements.size(); ++i) {
        PushReply(L, reply.elements[i]);
        lua_rawseti(L, -2, static_cast<int>(i + 1));
      }
      return;
  }
}

void PushStrings(lua_State* L, std::span<const std::string_view> strings) {
  lua_createtable(L, static_cast<int>(strings.size()), 0);
  for (size_t i = 0; i < strings.size(); ++i) {
    lua_pushlstring(L, strings[i].data(), strings[i].size());
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
}

// ---- the redis library ----------------------------------------------------------

// What redis.call / redis.pcall do, without raising: pushes the reply (or
// the error table) and says whether it is an error.
bool CallCommand(lua_State* L) {
  const int argc = lua_gettop(L);
  if (argc == 0) {
    PushErrorTable(L, "ERR Please specify at least one argument for this redis lib call");
    return true;
  }
  ReplyValue reply;
  {
    std::vector<std::string> numbers;
    numbers.reserve(argc);
    std::vector<std::string_view> args;
    args.reserve(argc);
    for (int i = 1; i <= argc; ++i) {
      const int type = lua_type(L, i);
      if (type == LUA_TNUMBER) {
        // Redis 7.0 formats numbers with %.17g (3.1 -> "3.1000000000000001").
        char digits[64];
        const int length = std::snprintf(digits, sizeof(digits), "%.17g", static_cast<double>(lua_tonumber(L, i)));
        numbers.emplace_back(digits, static_cast<size_t>(length));
        args.push_back(numbers.back());
      } else if (type == LUA_TSTRING) {
        size_t length = 0;
        const char* bytes = lua_tolstring(L, i, &length);
        args.emplace_back(bytes, length);
      } else {
        reply = ReplyValue::Error("ERR Lua redis lib command arguments must be strings or integers");
        break;
      }
    }
    const ScriptRun* run = AllocatorOf(L).runtime->current();
    if (!reply.is_error()) {
      if (run == nullptr || run->caller == nullptr) {
        reply = ReplyValue::Error("ERR redis.call is only available while a script runs");
      } else {
        try {
          reply = run->caller->Call(args);
        } catch (const std::exception& e) {
          spdlog::error("script: command '{}' failed: {}", std::string(args[0].substr(0, 64)), e.what());
          reply = ReplyValue::Error("ERR internal error");
        }
      }
    }
  }
  PushReply(L, reply);
  return reply.is_error();
}

int RedisCall(lua_State* L) {
  if (CallCommand(L)) return lua_error(L);
  return 1;
}

int RedisPcall(lua_State* L) {
  CallCommand(L);
  return 1;
}

// Redis's luaPushErrorBuff: "-CODE message" keeps CODE; text without a
// leading code gets "ERR"; a trailing newline goes.
std::string ErrorReplyText(std::string_view text) {
  const std::string line(text.starts_with('-') ? text.substr(1) : text);
  std::string code = "ERR";
  std::string message = line;
  const size_t space = line.find(' ');
  if (space != std::string::npos) {
    code = line.substr(0, space);
    message = line.substr(space + 1);
  }
  while (!message.empty() && (message.back() == '\r' || message.back() == '\n')) message.pop_back();
  while (!message.empty() && (message.front() == '\r' || message.front() == '\n')) message.erase(0, 1);
  return code + " " + message;
}

int RedisErrorReply(lua_State* L) {
  if (lua_gettop(L) != 1 || !lua_isstring(L, 1)) {
    PushErrorTable(L, "ERR wrong number or type of arguments");
    return 1;
  }
  size_t length = 0;
  const char* text = lua_tolstring(L, 1, &length);
  {
    const std::string line = ErrorReplyText(std::string_view(text, length));
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "err");
    lua_pushlstring(L, line.data(), line.size());
  }
  lua_rawset(L, -3);
  return 1;
}

int RedisStatusReply(lua_State* L) {
  if (lua_gettop(L) != 1 || !lua_isstring(L, 1)) {
    PushErrorTable(L, "ERR wrong number or type of arguments");
    return 1;
  }
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "ok");
  lua_pushvalue(L, 1);
  lua_rawset(L, -3);
  return 1;
}

int RaiseError(lua_State* L, const char* line) {
  PushErrorTable(L, line);
  return lua_error(L);
}

int RedisSha1Hex(lua_State* L) {
  if (lua_gettop(L) != 1) return RaiseError(L, "ERR wrong number of arguments");
  size_t length = 0;
  const char* bytes = lua_tolstring(L, 1, &length);
  char hex[41];
  {
    const std::string digest = Sha1Hex(std::string_view(bytes ? bytes : "", bytes ? length : 0));
    std::memcpy(hex, digest.data(), 40);
  }
  lua_pushlstring(L, hex, 40);
  return 1;
}

enum LogLevel { kLogDebug = 0, kLogVerbose = 1, kLogNotice = 2, kLogWarning = 3 };

void WriteLog(int level, std::string_view message) {
  switch (level) {
    case kLogDebug:
    case kLogVerbose:
      spdlog::debug("script: {}", message);
      break;
    case kLogNotice:
      spdlog::info("script: {}", message);
      break;
    default:
      spdlog::warn("script: {}", message);
  }
}

int RedisLog(lua_State* L) {
  const int argc = lua_gettop(L);
  if (argc < 2) return RaiseError(L, "ERR redis.log() requires two arguments or more.");
  if (!lua_isnumber(L, 1)) return RaiseError(L, "ERR First argument must be a number (log level).");
  const int level = static_cast<int>(lua_tonumber(L, 1));
  if (level < kLogDebug || level > kLogWarning) return RaiseError(L, "ERR Invalid debug level.");
  // Concatenated by Lua (strings and numbers; other values are skipped, as in Redis).
  int pieces = 0;
  for (int i = 2; i <= argc; ++i) {
    if (!lua_isstring(L, i)) continue;
    if (pieces > 0) {
      lua_pushliteral(L, " ");
      ++pieces;
    }
    lua_pushvalue(L, i);
    ++pieces;
  }
  lua_concat(L, pieces);
  size_t length = 0;
  const char* text = lua_tolstring(L, -1, &length);
  WriteLog(level, std::string_view(text, length));
  return 0;
}

int RedisSetResp(lua_State* L) {
  if (lua_gettop(L) != 1) return RaiseError(L, "ERR redis.setresp() requires one argument.");
  const lua_Number version = lua_tonumber(L, 1);
  if (version != 2 && version != 3) return RaiseError(L, "ERR RESP version must be 2 or 3.");
  if (version == 3) {
    return RaiseError(L, "ERR redis.setresp(3) is not supported: tally gives scripts RESP2 replies only");
  }
  return 0;
}

int RedisReplicateCommands(lua_State* L) {
  lua_pushboolean(L, 1);
  return 1;
}

int RedisSetRepl(lua_State* L) {
  if (lua_gettop(L) != 1) return RaiseError(L, "ERR redis.set_repl() requires one argument.");
  return 0;
}

// ---- the sandbox ----------------------------------------------------------------

bool IsReadonly(lua_State* L, int index) {
  if (!lua_istable(L, index)) return false;
  lua_getfield(L, LUA_REGISTRYINDEX, kReadonlyKey);
  lua_pushvalue(L, index);
  lua_rawget(L, -2);
  const bool readonly = lua_toboolean(L, -1);
  lua_pop(L, 2);
  return readonly;
}

int ReadonlyNewIndex(lua_State* L) { return luaL_error(L, "%s", kReadonlyError); }

// __index of the global table: the real global, or Redis's error.
int GlobalIndex(lua_State* L) {
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  if (!lua_isnil(L, -1)) return 1;
  const char* name = lua_isstring(L, 2) ? lua_tostring(L, 2) : "?";
  return luaL_error(L, "Script attempted to access nonexistent global variable '%s'", name);
}

// rawset and setmetatable, refusing the read-only tables (Redis's message,
// without a position, as Redis's protected tables raise it).
int SafeRawset(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  if (IsReadonly(L, 1)) {
    lua_pushstring(L, kReadonlyError);
    return lua_error(L);
  }
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 1;
}

int SafeSetmetatable(lua_State* L) {
  if (IsReadonly(L, 1)) {
    lua_pushstring(L, kReadonlyError);
    return lua_error(L);
  }
  lua_pushvalue(L, lua_upvalueindex(1));  // the original setmetatable
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

// Loads `chunk` as text only. A precompiled chunk (starting with ESC) is
// fed to the parser with a space in front, so it fails as the text it is
// not ("unexpected symbol near 'char(27)'", Redis's answer) instead of
// reaching Lua's bytecode loader, which trusts its input.
int LoadTextOnly(lua_State* L, const char* chunk, size_t length, const char* name) {
  if (length > 0 && chunk[0] == LUA_SIGNATURE[0]) {
    lua_pushliteral(L, " ");
    lua_pushlstring(L, chunk, length);
    lua_concat(L, 2);
    chunk = lua_tolstring(L, -1, &length);
    const int status = luaL_loadbuffer(L, chunk, length, name);
    lua_remove(L, -2);
    return status;
  }
  return luaL_loadbuffer(L, chunk, length, name);
}

int LoadResult(lua_State* L, int status) {
  if (status == 0) return 1;
  lua_pushnil(L);
  lua_insert(L, -2);
  return 2;
}

int SafeLoadstring(lua_State* L) {
  size_t length = 0;
  const char* chunk = luaL_checklstring(L, 1, &length);
  const char* name = luaL_optstring(L, 2, chunk);
  return LoadResult(L, LoadTextOnly(L, chunk, length, name));
}

// load(function [, name]): the pieces are gathered first, then loaded as text.
int SafeLoad(lua_State* L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  const char* name = luaL_optstring(L, 2, "=(load)");
  lua_settop(L, 2);
  int pieces = 0;
  for (;;) {
    lua_pushvalue(L, 1);
    lua_call(L, 0, 1);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      break;
    }
    if (!lua_isstring(L, -1)) return luaL_error(L, "reader function must return a string");
    if (lua_objlen(L, -1) == 0) {
      lua_pop(L, 1);
      break;
    }
    ++pieces;
    if (pieces > 32) {  // keep the stack small
      lua_concat(L, pieces);
      pieces = 1;
    }
  }
  if (pieces == 0)
    lua_pushliteral(L, "");
  else
    lua_concat(L, pieces);
  size_t length = 0;
  const char* chunk = lua_tolstring(L, -1, &length);
  return LoadResult(L, LoadTextOnly(L, chunk, length, name));
}

// pcall as Redis 7.0 has it: an error that is a table with a string `err`
// (what redis.call raises) is returned as that string.
int RedisStylePcall(lua_State* L) {
  luaL_checkany(L, 1);
  const int argc = lua_gettop(L);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  if (lua_pcall(L, argc - 1, LUA_MULTRET, 0) == 0) return lua_gettop(L);
  lua_remove(L, 1);
  if (lua_istable(L, -1)) {
    lua_pushliteral(L, "err");
    lua_rawget(L, -2);
    if (lua_isstring(L, -1)) {
      lua_replace(L, -2);
    } else {
      lua_pop(L, 1);
    }
  }
  lua_pushboolean(L, 0);
  lua_insert(L, 1);
  return lua_gettop(L);
}

void OpenLibrary(lua_State* L, lua_CFunction open, const char* name) {
  lua_pushcfunction(L, open);
  lua_pushstring(L, name);
  lua_call(L, 1, 0);
}

// Replaces global `name` (a table) with a read-only proxy of it.
void MakeReadonly(lua_State* L, int globals, const char* name) {
  lua_getfield(L, globals, name);  // the library
  const int library = lua_gettop(L);
  lua_newtable(L);  // the proxy
  lua_createtable(L, 0, 3);
  lua_pushvalue(L, library);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ReadonlyNewIndex);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_getfield(L, LUA_REGISTRYINDEX, kReadonlyKey);
  lua_pushvalue(L, -2);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  lua_setfield(L, globals, name);
  lua_pop(L, 1);
}

void SetFunction(lua_State* L, int table, const char* name, lua_CFunction fn) {
  lua_pushcfunction(L, fn);
  lua_setfield(L, table, name);
}

void SetNumber(lua_State* L, int table, const char* name, lua_Number value) {
  lua_pushnumber(L, value);
  lua_setfield(L, table, name);
}

thread_local std::unique_ptr<LuaRuntime> t_runtime;

}  // namespace

LuaRuntime::LuaRuntime() {
  allocator_.runtime = this;
  Open();
}

LuaRuntime::~LuaRuntime() { Close(); }

LuaRuntime& LuaRuntime::ForThisThread() {
  if (!t_runtime) t_runtime = std::make_unique<LuaRuntime>();
  const uint64_t generation = ScriptCache::Instance().generation();
  if (t_runtime->generation_ != generation) {
    t_runtime->Reset();
    t_runtime->generation_ = generation;
  }
  return *t_runtime;
}

void LuaRuntime::Open() {
  lua_State* L = lua_newstate(Allocate, &allocator_);
  if (L == nullptr) {
    spdlog::critical("cannot create a Lua state (out of memory)");
    std::abort();
  }
  state_ = L;
  lua_atpanic(L, Panic);
  OpenLibrary(L, luaopen_base, "");  // also coroutine
  OpenLibrary(L, luaopen_table, LUA_TABLIBNAME);
  OpenLibrary(L, luaopen_string, LUA_STRLIBNAME);
  OpenLibrary(L, luaopen_math, LUA_MATHLIBNAME);

  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kScriptsKey);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kReadonlyKey);

  lua_pushvalue(L, LUA_GLOBALSINDEX);
  const int globals = lua_gettop(L);
  lua_pushvalue(L, globals);
  lua_setfield(L, LUA_REGISTRYINDEX, kGlobalsKey);

  // What Redis removes: files, the environment functions, print, newproxy.
  for (const char* name : {"dofile", "loadfile", "setfenv", "getfenv", "newproxy", "print", "module", "require"}) {
    lua_pushnil(L);
    lua_setfield(L, globals, name);
  }
  SetFunction(L, globals, "loadstring", SafeLoadstring);
  SetFunction(L, globals, "load", SafeLoad);
  SetFunction(L, globals, "rawset", SafeRawset);
  SetFunction(L, globals, "pcall", RedisStylePcall);
  lua_getfield(L, globals, "setmetatable");
  lua_pushcclosure(L, SafeSetmetatable, 1);
  lua_setfield(L, globals, "setmetatable");

  // The redis library.
  lua_newtable(L);
  const int redis = lua_gettop(L);
  SetFunction(L, redis, "call", RedisCall);
  SetFunction(L, redis, "pcall", RedisPcall);
  SetFunction(L, redis, "error_reply", RedisErrorReply);
  SetFunction(L, redis, "status_reply", RedisStatusReply);
  SetFunction(L, redis, "sha1hex", RedisSha1Hex);
  SetFunction(L, redis, "log", RedisLog);
  SetFunction(L, redis, "setresp", RedisSetResp);
  SetFunction(L, redis, "replicate_commands", RedisReplicateCommands);
  SetFunction(L, redis, "set_repl", RedisSetRepl);
  SetNumber(L, redis, "LOG_DEBUG", kLogDebug);
  SetNumber(L, redis, "LOG_VERBOSE", kLogVerbose);
  SetNumber(L, redis, "LOG_NOTICE", kLogNotice);
  SetNumber(L, redis, "LOG_WARNING", kLogWarning);
  SetNumber(L, redis, "REPL_NONE", 0);
  SetNumber(L, redis, "REPL_AOF", 1);
  SetNumber(L, redis, "REPL_SLAVE", 2);
  SetNumber(L, redis, "REPL_REPLICA", 2);
  SetNumber(L, redis, "REPL_ALL", 3);
  lua_pushliteral(L, "7.0.15");
  lua_setfield(L, redis, "REDIS_VERSION");
  SetNumber(L, redis, "REDIS_VERSION_NUM", 0x07000f);
  lua_setfield(L, globals, "redis");

  for (const char* name : {"redis", "string", "table", "math", "coroutine"}) MakeReadonly(L, globals, name);
  // The string metatable's __index is the real string library: hide it.
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 2);

  // The global table scripts see: an empty proxy over the real one, so that
  // no script can add or change a global.
  lua_newtable(L);
  const int proxy = lua_gettop(L);
  lua_createtable(L, 0, 3);
  lua_pushvalue(L, globals);
  lua_pushcclosure(L, GlobalIndex, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ReadonlyNewIndex);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, proxy);
  lua_getfield(L, LUA_REGISTRYINDEX, kReadonlyKey);
  lua_pushvalue(L, proxy);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  lua_pushvalue(L, proxy);
  lua_setfield(L, globals, "_G");
  lua_replace(L, LUA_GLOBALSINDEX);  // the proxy
  lua_settop(L, 0);
}

void LuaRuntime::Close() {
  if (state_ != nullptr) lua_close(state_);
  state_ = nullptr;
}

void LuaRuntime::Reset() {
  Close();
  Open();
}

bool LuaRuntime::IsCompiled(std::string_view sha) const {
  lua_State* L = state_;
  lua_getfield(L, LUA_REGISTRYINDEX, kScriptsKey);
  lua_pushlstring(L, sha.data(), sha.size());
  lua_rawget(L, -2);
  const bool compiled = lua_isfunction(L, -1);
  lua_pop(L, 2);
  return compiled;
}

bool LuaRuntime::Compile(std::string_view sha, std::string_view body, std::string* error) {
  if (IsCompiled(sha)) return true;
  lua_State* L = state_;
  if (LoadTextOnly(L, body.data(), body.size(), "@user_script") != 0) {
    const char* message = lua_tostring(L, -1);
    *error = Sanitized("ERR Error compiling script (new function): " + std::string(message ? message : "?"));
    lua_pop(L, 1);
    return false;
  }
  lua_getfield(L, LUA_REGISTRYINDEX, kScriptsKey);
  lua_pushlstring(L, sha.data(), sha.size());
  lua_pushvalue(L, -3);
  lua_rawset(L, -3);
  lua_pop(L, 2);
  return true;
}

ReplyValue LuaRuntime::Run(const ScriptRun& run) {
  lua_State* L = state_;
  current_ = &run;
  lua_sethook(L, Hook, LUA_MASKCOUNT, kHookInstructions);
  lua_getfield(L, LUA_REGISTRYINDEX, kGlobalsKey);
  PushStrings(L, run.keys);
  lua_setfield(L, -2, "KEYS");
  PushStrings(L, run.argv);
  lua_setfield(L, -2, "ARGV");
  lua_pop(L, 1);

  lua_pushcfunction(L, ErrorHandler);
  const int handler = lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, kScriptsKey);
  lua_pushlstring(L, run.sha.data(), run.sha.size());
  lua_rawget(L, -2);
  lua_remove(L, -2);
  ReplyValue result;
  if (!lua_isfunction(L, -1)) {
    result = ReplyValue::Error("NOSCRIPT No matching script. Please use EVAL.");
  } else if (lua_pcall(L, 0, 1, handler) == 0) {
    result = ToReply(L, lua_gettop(L), 0);
  } else if (lua_istable(L, -1)) {
    lua_pushliteral(L, "err");
    lua_rawget(L, -2);
    std::string text = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "ERR unknown error";
    lua_pop(L, 1);
    lua_pushliteral(L, "source");
    lua_rawget(L, -2);
    lua_pushliteral(L, "line");
    lua_rawget(L, -3);
    if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TNUMBER) {
      text += " script: " + std::string(run.sha) + ", on " + lua_tostring(L, -2) + ":" +
              std::to_string(static_cast<int64_t>(lua_tonumber(L, -1))) + ".";
    }
    lua_pop(L, 2);
    result = ReplyValue::Error(Sanitized(std::move(text)));
  } else {
    // Not through the handler: Lua ran out of memory (or the handler failed).
    const char* message = lua_tostring(L, -1);
    result = ReplyValue::Error(Sanitized("ERR Error running script " + std::string(run.sha) + ", " +
                                         std::string(message ? message : "?").substr(0, 100)));
  }
  lua_settop(L, handler - 1);
  lua_sethook(L, nullptr, 0, 0);
  current_ = nullptr;
  return result;
}

}  // namespace tally::script
