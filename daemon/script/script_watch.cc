#include "script/script_watch.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace tally::script {
namespace {
thread_local bool t_in_script = false;
}  // namespace

bool InScriptOnThisThread() { return t_in_script; }
void SetInScriptOnThisThread(bool in_script) { t_in_script = in_script; }

ScriptWatch& ScriptWatch::Instance() {
  static ScriptWatch watch;
  return watch;
}

void ScriptWatch::Begin(RunningScript& script) {
  script.started = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  running_.push_back(&script);
}

void ScriptWatch::End(RunningScript& script) {
  if (script.busy) {
    internal::busy_scripts.fetch_sub(1, std::memory_order_relaxed);
    script.busy = false;
    const auto ran =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - script.started);
    spdlog::warn("script {}: finished after {} ms{}", script.sha, ran.count(),
                 script.kill.load() ? " (SCRIPT KILL)" : "");
  }
  std::lock_guard<std::mutex> lock(mu_);
  running_.erase(std::remove(running_.begin(), running_.end(), &script), running_.end());
}

void ScriptWatch::OnHook(RunningScript& script) {
  if (script.busy) return;
  if (std::chrono::steady_clock::now() - script.started < script.limit) return;
  script.busy = true;
  internal::busy_scripts.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn(
      "script {}: still running after script_time_limit_ms ({} ms); other clients get BUSY until it ends. Stop it "
      "with SCRIPT KILL (redis-cli, or POST /v1/admin/script/kill){}",
      script.sha, script.limit.count(),
      script.wrote.load() ? "; it has written, so only stopping the daemon (kill -9) stops it" : "");
}

bool ScriptWatch::MarkWriting(RunningScript& script) {
  if (script.wrote.load(std::memory_order_relaxed)) return true;
  std::lock_guard<std::mutex> lock(mu_);
  if (script.kill.load()) return false;
  script.wrote.store(true);
  return true;
}

KillOutcome ScriptWatch::Kill() {
  std::lock_guard<std::mutex> lock(mu_);
  if (running_.empty()) return KillOutcome::kNotBusy;
  bool unkillable = false;
  for (RunningScript* script : running_) {
    if (script->wrote.load()) {
      unkillable = true;
    } else {
      script->kill.store(true);
    }
  }
  if (!unkillable) spdlog::warn("SCRIPT KILL: stopping {} running script(s)", running_.size());
  return unkillable ? KillOutcome::kUnkillable : KillOutcome::kKilled;
}

size_t ScriptWatch::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_.size();
}

}  // namespace tally::script
