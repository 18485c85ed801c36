#pragma once
// A progress line on stderr for tally-admin's long work, redrawn at most ten
// times a second; silent when stderr is not a terminal (a log, a pipe, a
// test), so that output stays clean there.

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace tally::admin {

class Progress {
 public:
  explicit Progress(std::string task) : task_(std::move(task)), enabled_(::isatty(STDERR_FILENO) == 1) {}
  ~Progress() { Finish(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `done` of `total` units (total 0: unknown, only the count is shown);
  // `what` names the current step and the unit.
  void Update(const std::string& what, uint64_t done, uint64_t total) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    if (shown_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    shown_ = true;
    std::string line = task_ + ": " + what + " " + std::to_string(done);
    if (total > 0) {
      const uint64_t percent = done >= total ? 100 : done * 100 / total;
      const int filled = static_cast<int>(percent / 4);
      line += " [" + std::string(filled, '#') + std::string(25 - filled, '.') + "] " + std::to_string(percent) + "%";
    }
    std::fprintf(stderr, "\r%-79s", line.substr(0, 79).c_str());
    std::fflush(stderr);
  }
  // Shows what is being done when no count can be given (a step of unknown length).
  void Note(const std::string& what) {
    if (!enabled_) return;
    shown_ = true;
    std::fprintf(stderr, "\r%-79s", (task_ + ": " + what).substr(0, 79).c_str());
    std::fflush(stderr);
  }
  // Clears the line (once).
  void Finish() {
    if (!enabled_ || !shown_) return;
    std::fprintf(stderr, "\r%79s\r", "");
    std::fflush(stderr);
    shown_ = false;
  }

 private:
  std::string task_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace tally::admin
