#include "storage/fault_fs.h"

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>

namespace tally::storage {
namespace {

enum class Fault { kNone, kNoSpace, kIoError, kSyncError };

// Reads the control file, at most every 10 ms (tests flip it while the
// daemon runs; a stat per append would be wasteful even for a test hook).
class FaultSwitch {
 public:
  explicit FaultSwitch(std::string path) : path_(std::move(path)) {}

  Fault Current() {
    const int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count();
    if (now - checked_ms_.load(std::memory_order_relaxed) >= 10) {
      std::lock_guard<std::mutex> lock(mu_);
      std::ifstream in(path_);
      std::string word;
      if (in) in >> word;
      Fault fault = Fault::kNone;
      if (word == "nospace") fault = Fault::kNoSpace;
      if (word == "ioerror") fault = Fault::kIoError;
      if (word == "syncerror") fault = Fault::kSyncError;
      fault_.store(fault, std::memory_order_relaxed);
      checked_ms_.store(now, std::memory_order_relaxed);
    }
    return fault_.load(std::memory_order_relaxed);
  }

 private:
  const std::string path_;
  std::mutex mu_;
  std::atomic<int64_t> checked_ms_{-1000};
  std::atomic<Fault> fault_{Fault::kNone};
};

rocksdb::IOStatus WriteFault(Fault fault) {
  if (fault == Fault::kNoSpace) {
    rocksdb::IOStatus s = rocksdb::IOStatus::NoSpace("injected", "No space left on device");
    s.SetRetryable(true);
    return s;
  }
  if (fault == Fault::kIoError) return rocksdb::IOStatus::IOError("injected", "Input/output error");
  return rocksdb::IOStatus::OK();
}

class FaultyWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyWritableFile(std::unique_ptr<rocksdb::FSWritableFile> file, FaultSwitch& faults)
      : FSWritableFileOwnerWrapper(std::move(file)), faults_(faults) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = WriteFault(faults_.Current());
    return s.ok() ? target()->Append(data, options, dbg) : s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info, rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = WriteFault(faults_.Current());
    return s.ok() ? target()->Append(data, options, info, dbg) : s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = WriteFault(faults_.Current());
    return s.ok() ? target()->PositionedAppend(data, offset, options, dbg) : s;
  }
  rocksdb::IOStatus Allocate(uint64_t offset, uint64_t len, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    if (faults_.Current() == Fault::kNoSpace) return WriteFault(Fault::kNoSpace);
    return target()->Allocate(offset, len, options, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (faults_.Current() == Fault::kSyncError)
      return rocksdb::IOStatus::IOError("injected fsync", "Input/output error");
    return target()->Sync(options, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (faults_.Current() == Fault::kSyncError)
      return rocksdb::IOStatus::IOError("injected fsync", "Input/output error");
    return target()->Fsync(options, dbg);
  }

 private:
  FaultSwitch& faults_;
};

class FaultInjectingFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  FaultInjectingFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base, std::string control_path)
      : FileSystemWrapper(base), faults_(std::move(control_path)) {}
  static const char* kClassName() { return "TallyFaultInjectingFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, &file, dbg);
    if (s.ok()) result->reset(new FaultyWritableFile(std::move(file), faults_));
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = target()->ReopenWritableFile(name, options, &file, dbg);
    if (s.ok()) result->reset(new FaultyWritableFile(std::move(file), faults_));
    return s;
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = target()->ReuseWritableFile(name, old_name, options, &file, dbg);
    if (s.ok()) result->reset(new FaultyWritableFile(std::move(file), faults_));
    return s;
  }

 private:
  FaultSwitch faults_;
};

}  // namespace

std::unique_ptr<rocksdb::Env> NewFaultInjectingEnv(const std::string& control_path) {
  auto fs = std::make_shared<FaultInjectingFileSystem>(rocksdb::FileSystem::Default(), control_path);
  return rocksdb::NewCompositeEnv(fs);
}

}  // namespace tally::storage
