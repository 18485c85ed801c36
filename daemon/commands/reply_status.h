#pragma once
// Turns a core OpStatus into the protocol's error reply (the one place).

#include "core/op_result.h"
#include "protocol/errors.h"
#include "protocol/reply_sink.h"

namespace tally::commands {

inline void SendOpError(protocol::ReplySink& reply, core::OpStatus status) {
  switch (status) {
    case core::OpStatus::kOk:
      break;
    case core::OpStatus::kNotInteger:
      reply.SendError(protocol::errors::kNotInteger);
      break;
    case core::OpStatus::kOverflow:
      reply.SendError(protocol::errors::kOverflow);
      break;
    case core::OpStatus::kStorageFailed:
      reply.SendError(protocol::errors::kStorageFailed);
      break;
    case core::OpStatus::kIdConflict:
      reply.SendError("id_conflict: this event id was already used with different arguments");
      break;
  }
}

// Case-insensitive ASCII comparison for option words (NX, EX, MATCH, ...).
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace tally::commands
