#pragma once
// What the transport's durability batch (net/transport.h) waits on, without
// Asio: both front ends hold the replies of writes until the write-ahead log
// has them. RESP waits on the engine's log; HTTP on the DurabilityGate that a
// route hands back with its response (net/http_types.h derives it from
// DurableLog).

#include <cstdint>

#include "storage/status.h"

namespace tally::net {

// A write-ahead log seen through tickets (core::Engine::Ticket: everything
// appended before the ticket was taken). Thread-safe.
class DurableLog {
 public:
  virtual ~DurableLog() = default;
  virtual bool IsDurable(uint64_t ticket) const = 0;
  // Blocks until `ticket` is durable. An error means the log failed; it is
  // sticky (every later wait fails too), so a caller that holds replies to
  // writes must never send them: their log state is unknown.
  virtual storage::Status AwaitDurable(uint64_t ticket) = 0;
};

// A connection holding replies until their log records are durable.
class DurabilityWaiter {
 public:
  // On the waiter's I/O thread, once per hold: `status` is the log wait's.
  virtual void OnDurable(const storage::Status& status) = 0;

 protected:
  ~DurabilityWaiter() = default;
};

}  // namespace tally::net
