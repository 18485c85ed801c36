#include "core/glob.h"

#include <utility>

namespace tally::core {
namespace {

bool Match(const char* p, const char* pend, const char* s, const char* send, int depth) {
  if (depth > 1000) return false;  // pathological patterns ("*****...") stay bounded
  while (p < pend) {
    switch (*p) {
      case '*':
        while (p + 1 < pend && p[1] == '*') ++p;
        if (p + 1 == pend) return true;
        for (const char* t = s; t <= send; ++t) {
          if (Match(p + 1, pend, t, send, depth + 1)) return true;
        }
        return false;
      case '?':
        if (s == send) return false;
        ++s;
        break;
      case '[': {
        if (s == send) return false;
        ++p;
        bool negate = p < pend && *p == '^';
        if (negate) ++p;
        bool matched = false;
        while (p < pend && *p != ']') {
          if (*p == '\\' && p + 1 < pend) {
            ++p;
            if (*p == *s) matched = true;
          } else if (p + 2 < pend && p[1] == '-' && p[2] != ']') {
            char lo = p[0], hi = p[2];
            if (lo > hi) std::swap(lo, hi);
            if (*s >= lo && *s <= hi) matched = true;
            p += 2;
          } else if (*p == *s) {
            matched = true;
          }
          ++p;
        }
        if (negate) matched = !matched;
        if (!matched) return false;
        ++s;
        break;
      }
      case '\\':
        if (p + 1 < pend) ++p;
        [[fallthrough]];
      default:
        if (s == send || *p != *s) return false;
        ++s;
        break;
    }
    if (p < pend) ++p;
  }
  return s == send;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text) {
  return Match(pattern.data(), pattern.data() + pattern.size(), text.data(), text.data() + text.size(), 0);
}

}  // namespace tally::core
