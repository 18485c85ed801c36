#include "core/credit_book.h"

#include <algorithm>
#include <limits>

namespace tally::core {

int64_t Remaining(int64_t limit, int64_t used, int64_t drawn_from_grants, int64_t credits) {
  return std::max<int64_t>(0, limit - (used - drawn_from_grants)) + credits;
}

CreditBook::DrawKey CreditBook::KeyOf(const Grant& grant) {
  return DrawKey{grant.priority, !grant.expires_ms.has_value(), grant.expires_ms.value_or(0), grant.granted_ms,
                 grant.id};
}

bool CreditBook::Add(Grant grant) {
  if (grants_.count(grant.id) != 0) return false;
  grant.left = grant.amount;
  auto owned = std::make_unique<Grant>(std::move(grant));
  Grant* raw = owned.get();
  grants_.emplace(raw->id, std::move(owned));
  added_.push_back(raw);
  if (raw->left > 0) drawable_.insert(KeyOf(*raw));
  if (raw->expires_ms) by_expiry_.emplace(*raw->expires_ms, raw);
  available_ += raw->left;
  return true;
}

const Grant* CreditBook::Find(std::string_view id) const {
  auto it = grants_.find(id);
  return it == grants_.end() ? nullptr : it->second.get();
}

// Takes a grant that is dying out of both indexes, its rest out of available_.
void CreditBook::Unlist(Grant& grant, Grant::Ending ending) {
  drawable_.erase(KeyOf(grant));
  if (grant.expires_ms) {
    auto [first, last] = by_expiry_.equal_range(*grant.expires_ms);
    for (auto it = first; it != last; ++it) {
      if (it->second == &grant) {
        by_expiry_.erase(it);
        break;
      }
    }
  }
  available_ -= grant.left;
  grant.ending = ending;
}

std::vector<std::pair<std::string, int64_t>> CreditBook::ExpireUpTo(int64_t now_ms) {
  std::vector<std::pair<std::string, int64_t>> expired;
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now_ms) {
    Grant& grant = *by_expiry_.begin()->second;
    Unlist(grant, Grant::Ending::kExpired);
    grant.expired += grant.left;
    expired.emplace_back(grant.id, grant.left);
    grant.left = 0;
  }
  return expired;
}

DrawPlan CreditBook::Plan(int64_t amount, const Allowance& allowance, bool allow_overage) const {
  DrawPlan plan;
  if (!allowance.left) {  // unlimited: never burns a grant
    plan.allowed = true;
    plan.draws.push_back({"", amount});
    plan.from_allowance = amount;
    return plan;
  }
  // The allowance's place in the draw order: priority 0, the oldest source.
  const DrawKey allowance_key{0, !allowance.expires_ms.has_value(), allowance.expires_ms.value_or(0),
                              std::numeric_limits<int64_t>::min(), ""};
  int64_t need = amount;
  bool allowance_taken = *allowance.left <= 0;
  auto take_allowance = [&] {
    allowance_taken = true;
    const int64_t units = std::min(need, *allowance.left);
    if (units <= 0) return;
    plan.draws.push_back({"", units});
    plan.from_allowance += units;
    need -= units;
  };
  for (auto it = drawable_.begin(); it != drawable_.end() && need > 0; ++it) {
    if (!allowance_taken && allowance_key < *it) take_allowance();
    if (need == 0) break;
    const Grant& grant = *grants_.find(it->id)->second;
    const int64_t units = std::min(need, grant.left);
    plan.draws.push_back({grant.id, units});
    plan.from_grants += units;
    need -= units;
  }
  if (!allowance_taken && need > 0) take_allowance();
  if (need == 0) {
    plan.allowed = true;
  } else if (allow_overage) {
    plan.allowed = true;
    plan.overage = need;
    plan.from_allowance += need;
    if (!plan.draws.empty() && plan.draws.back().grant.empty()) {
      plan.draws.back().amount += need;
    } else {
      plan.draws.push_back({"", need});
    }
  } else {
    plan.shortfall = need;
  }
  return plan;
}

void CreditBook::Apply(const std::vector<Draw>& draws) {
  for (const Draw& draw : draws) {
    if (draw.grant.empty()) continue;
    auto it = grants_.find(draw.grant);
    if (it == grants_.end() || !it->second->live()) continue;
    Grant& grant = *it->second;
    const int64_t units = std::min(draw.amount, grant.left);
    grant.left -= units;
    grant.drawn += units;
    available_ -= units;
    if (grant.left == 0) drawable_.erase(KeyOf(grant));  // the key does not depend on `left`
  }
}

int64_t CreditBook::GiveBack(std::string_view id, int64_t amount) {
  auto it = grants_.find(id);
  if (it == grants_.end() || amount <= 0) return 0;
  Grant& grant = *it->second;
  const int64_t units = std::min(amount, grant.drawn - grant.released);
  if (units <= 0) return 0;
  grant.released += units;
  if (!grant.live()) {
    // Its life is over: what comes back is written off as it would have been.
    (grant.ending == Grant::Ending::kRevoked ? grant.revoked : grant.expired) += units;
    return units;
  }
  if (grant.left == 0) drawable_.insert(KeyOf(grant));
  grant.left += units;
  available_ += units;
  return units;
}

std::optional<int64_t> CreditBook::Revoke(std::string_view id) {
  auto it = grants_.find(id);
  if (it == grants_.end() || !it->second->live()) return std::nullopt;
  Grant& grant = *it->second;
  Unlist(grant, Grant::Ending::kRevoked);
  grant.revoked += grant.left;
  const int64_t written_off = grant.left;
  grant.left = 0;
  return written_off;
}

std::vector<const Grant*> CreditBook::All() const { return added_; }

}  // namespace tally::core
