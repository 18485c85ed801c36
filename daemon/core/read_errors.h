#pragma once
// Failed reads of stored state. A RocksDB read that fails (a damaged block,
// an I/O error) is never taken for "absent": taking it so answered 0 for a
// stored 200 and let the next increment persist 1 over it, and let retried
// event ids count twice. Instead, the reads of one op note the failure in a
// ReadFault; the op checks it before it answers or changes anything, and
// replies kReadFailed (naming the column family). Recovery and the
// background paths turn it into a Status.
//
// Every failure is counted (StorageReadErrors, for metrics) and logged with
// its family and key, at most one line a second (the lines in between are
// counted in the next one): a damaged block read by every request must not
// flood the log.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/op_result.h"
#include "storage/status.h"
#include "storage/store.h"

namespace tally::core {

class ReadFault {
 public:
  bool failed() const { return family_.has_value(); }
  explicit operator bool() const { return failed(); }
  // Notes the read of `key` in `family` if `status` is not ok (the first
  // failure of the op is kept; each one is logged and counted). Returns
  // status.ok().
  bool Check(storage::Family family, std::string_view key, const storage::Status& status);
  // The family of the first failure ("" if none).
  std::string_view family_name() const { return family_ ? storage::FamilyName(*family_) : std::string_view(); }
  // For recovery and the background paths: "reading the <family> family: <status>".
  storage::Status ToStatus() const;
  // The op's reply.
  template <typename T>
  OpResult<T> Result() const {
    return OpResult<T>::ReadFailed(family_name());
  }

 private:
  std::optional<storage::Family> family_;
  storage::Status status_;
};

// Store::Get that notes a failure in `fault` and then returns nullopt (the
// caller must check `fault` before it uses "absent").
std::optional<std::string> GetOrNote(storage::Store& store, storage::Family family, std::string_view key,
                                     ReadFault& fault);

// Failed reads of stored state in `family` since the process started
// (every engine in the process).
uint64_t StorageReadErrors(storage::Family family);

// `key` for a log line: printable ASCII kept, other bytes as \xNN, at most
// 200 bytes of it.
std::string PrintableKey(std::string_view key);

}  // namespace tally::core
