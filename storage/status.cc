#include "storage/status.h"

namespace tally::storage {

std::string Status::ToString() const {
  const char* name = "OK";
  switch (code_) {
    case Code::kOk:
      return "OK";
    case Code::kNotFound:
      name = "not found";
      break;
    case Code::kCorruption:
      name = "corruption";
      break;
    case Code::kIoError:
      name = "I/O error";
      break;
    case Code::kInvalidArgument:
      name = "invalid argument";
      break;
    case Code::kBusy:
      name = "busy";
      break;
    case Code::kNoSpace:
      name = "no space left";
      break;
  }
  return std::string(name) + ": " + message_;
}

}  // namespace tally::storage
