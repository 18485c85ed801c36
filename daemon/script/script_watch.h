#pragma once
// The scripts running now, for the time limit, the BUSY reply and SCRIPT
// KILL (Redis's busy-reply-threshold and SCRIPT KILL).
//
// A script runs on the thread of the connection that sent EVAL, with the
// shards of its keys locked. Every 100,000 Lua instructions its hook calls
// OnHook: once the script has run longer than script_time_limit_ms it is
// "busy" (logged once), and while any script is busy every other client's
// command gets Redis's BUSY error (ScriptBusy(): one relaxed load on the
// dispatch path), except connection commands and SCRIPT KILL. SCRIPT KILL
// (from another I/O thread, or from the HTTP API's
// POST /v1/admin/script/kill, which never waits for the RESP threads)
// sets each running script's kill flag; the hook then stops the script with
// Redis's "Script killed by user with SCRIPT KILL..." error. A script that
// has written (a write command appended to the log) cannot be stopped
// without losing its atomicity: SCRIPT KILL answers UNKILLABLE then.
//
// Thread-safety: everything here may be called from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace tally::script {

// One script in progress. Owned by the thread that runs it.
struct RunningScript {
  std::string sha;  // lower-case hex
  std::chrono::steady_clock::time_point started;
  std::chrono::milliseconds limit{5000};
  std::atomic<bool> kill{false};   // set by SCRIPT KILL
  std::atomic<bool> wrote{false};  // set once a write command appended to the log
  bool busy = false;               // past the limit (counted in ScriptWatch); its thread only
};

// How SCRIPT KILL went.
enum class KillOutcome {
  kKilled,      // every running script was told to stop
  kNotBusy,     // none runs
  kUnkillable,  // one has written; the others (if any) were told to stop
};

namespace internal {
// Scripts past their time limit now (ScriptWatch keeps it). A global, so the
// dispatch path's check is one relaxed load with no call.
inline std::atomic<int> busy_scripts{0};
}  // namespace internal

class ScriptWatch {
 public:
  static ScriptWatch& Instance();

  // The hot path: whether any script ran past its limit (relaxed load).
  bool busy() const { return internal::busy_scripts.load(std::memory_order_relaxed) > 0; }

  // Around a script's run, on its thread.
  void Begin(RunningScript& script);
  void End(RunningScript& script);
  // From the script's hook: marks it busy once past its limit.
  void OnHook(RunningScript& script);
  // Before the script's first write: marks it as having written, unless
  // SCRIPT KILL came first (false: the script must stop without writing).
  // Under the same lock as Kill(), so a script is either killed before it
  // writes or unkillable, never killed half-way through its writes.
  bool MarkWriting(RunningScript& script);

  KillOutcome Kill();
  size_t running() const;

 private:
  mutable std::mutex mu_;
  std::vector<RunningScript*> running_;  // GUARDED_BY(mu_)
};

// Whether the calling thread is running a script now (its redis.call
// commands pass the BUSY check: they are the busy script's own).
bool InScriptOnThisThread();
// Set around a script's run (ScriptScope in the command layer).
void SetInScriptOnThisThread(bool in_script);

// The BUSY check of the dispatch path: a relaxed load while no script is
// past its time limit.
inline bool ScriptBusy() { return internal::busy_scripts.load(std::memory_order_relaxed) > 0; }

}  // namespace tally::script
