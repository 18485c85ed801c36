#include "storage/info_log.h"

#include <rocksdb/env.h>

#include <sys/time.h>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace tally::storage {
namespace {

class InfoLog final : public rocksdb::Logger {
 public:
  InfoLog(std::string db_dir, rocksdb::InfoLogLevel level, size_t max_bytes)
      : rocksdb::Logger(level), path_(std::move(db_dir) + "/LOG"), max_bytes_(max_bytes) {}
  ~InfoLog() override {
    if (file_ != nullptr) std::fclose(file_);
  }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char line[1024];
    const int length = std::vsnprintf(line, sizeof(line), format, ap);
    if (length < 0) return;
    timeval now{};
    ::gettimeofday(&now, nullptr);
    tm utc{};
    ::gmtime_r(&now.tv_sec, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof(stamp), "%Y/%m/%d-%H:%M:%S", &utc);

    std::lock_guard<std::mutex> lock(mu_);
    if (file_ == nullptr) file_ = std::fopen(path_.c_str(), "a");
    if (file_ == nullptr) return;  // the directory is gone, or no descriptor: drop the line
    std::clearerr(file_);          // a line lost to a full disk does not stop the next one
    if (std::fprintf(file_, "%s.%06ld %s\n", stamp, static_cast<long>(now.tv_usec), line) < 0) return;
    std::fflush(file_);
    if (max_bytes_ > 0 && std::ftell(file_) > static_cast<long>(max_bytes_)) {
      std::fclose(file_);
      file_ = nullptr;
      std::rename(path_.c_str(), (path_ + ".old").c_str());
    }
  }

 private:
  const std::string path_;
  const size_t max_bytes_;
  std::mutex mu_;
  std::FILE* file_ = nullptr;  // guarded by mu_
};

}  // namespace

std::shared_ptr<rocksdb::Logger> MakeInfoLog(const std::string& db_dir, int min_level, size_t max_bytes) {
  return std::make_shared<InfoLog>(db_dir, static_cast<rocksdb::InfoLogLevel>(min_level), max_bytes);
}

}  // namespace tally::storage
