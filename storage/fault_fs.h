#pragma once
// TEST ONLY: a RocksDB FileSystem that fails writes on demand, so tests can
// drive a full disk or a failing device without mount rights. Never enabled
// in production: tallyd turns it on only when the environment variable
// TALLY_TEST_FAULT_CONTROL names a control file (docs/reliability.md).
//
// The control file holds one word, re-read at most every 10 ms:
//   (absent or empty)  no fault
//   nospace            every append and preallocation fails with ENOSPC
//   ioerror            every append fails with an I/O error (EIO)
//   syncerror          every fsync fails with an I/O error (EIO)
//
// This header keeps RocksDB out: store.cc builds the Env from it.

#include <memory>
#include <string>

namespace rocksdb {
class Env;
}

namespace tally::storage {

// An Env over the default file system with the faults above; it must outlive
// every DB opened with it.
std::unique_ptr<rocksdb::Env> NewFaultInjectingEnv(const std::string& control_path);

}  // namespace tally::storage
