#include "core/credit_book.h"

#include <algorithm>
#include <limits>

#include "core/quota_codec.h"

namespace tally::core {

std::string_view CreditMoveName(CreditMove::Kind kind) {
  switch (kind) {
    case CreditMove::Kind::kGrant:
      return "grant";
    case CreditMove::Kind::kDraw:
      return "draw";
    case CreditMove::Kind::kRelease:
      return "release";
    case CreditMove::Kind::kExpire:
      return "expire";
    case CreditMove::Kind::kRevoke:
      return "revoke";
  }
  return "grant";
}

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
  moves_.push_back({CreditMove::Kind::kGrant, raw->id, raw->amount, 0});
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
    moves_.push_back({CreditMove::Kind::kExpire, grant.id, grant.left, *grant.expires_ms});
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
    if (units > 0) moves_.push_back({CreditMove::Kind::kDraw, grant.id, units, 0});
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
  moves_.push_back({CreditMove::Kind::kRelease, grant.id, units, 0});
  if (!grant.live()) {
    // Its life is over: what comes back is written off as it would have been.
    const bool revoked = grant.ending == Grant::Ending::kRevoked;
    (revoked ? grant.revoked : grant.expired) += units;
    moves_.push_back({revoked ? CreditMove::Kind::kRevoke : CreditMove::Kind::kExpire, grant.id, units,
                      revoked ? 0 : *grant.expires_ms});
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
  moves_.push_back({CreditMove::Kind::kRevoke, grant.id, written_off, 0});
  return written_off;
}

std::optional<int64_t> CreditBook::NextExpiry() const {
  if (by_expiry_.empty()) return std::nullopt;
  return by_expiry_.begin()->first;
}

void CreditBook::EncodeTo(std::string& out) const {
  namespace qc = quota_codec;
  qc::PutI64(out, static_cast<int64_t>(added_.size()));
  for (const Grant* g : added_) {
    qc::PutStr(out, g->id);
    qc::PutI64(out, g->amount);
    qc::PutI64(out, g->priority);
    qc::PutOptI64(out, g->expires_ms);
    qc::PutI64(out, g->granted_ms);
    qc::PutStr(out, g->reason);
    qc::PutStr(out, g->actor);
    qc::PutI64(out, g->left);
    qc::PutI64(out, g->drawn);
    qc::PutI64(out, g->released);
    qc::PutI64(out, g->expired);
    qc::PutI64(out, g->revoked);
    out.push_back(static_cast<char>(g->ending));
  }
}

bool CreditBook::DecodeFrom(std::string_view& in) {
  quota_codec::Reader r(in);
  const size_t count = r.Count();
  for (size_t i = 0; i < count && r.ok(); ++i) {
    auto grant = std::make_unique<Grant>();
    grant->id = r.Str();
    grant->amount = r.I64();
    grant->priority = r.I64();
    grant->expires_ms = r.OptI64();
    grant->granted_ms = r.I64();
    grant->reason = r.Str();
    grant->actor = r.Str();
    grant->left = r.I64();
    grant->drawn = r.I64();
    grant->released = r.I64();
    grant->expired = r.I64();
    grant->revoked = r.I64();
    const uint8_t ending = r.Byte();
    if (!r.ok() || ending > static_cast<uint8_t>(Grant::Ending::kRevoked) || grants_.count(grant->id) != 0) {
      return false;
    }
    grant->ending = static_cast<Grant::Ending>(ending);
    Grant* raw = grant.get();
    grants_.emplace(raw->id, std::move(grant));
    added_.push_back(raw);
    if (raw->live()) {
      if (raw->left > 0) drawable_.insert(KeyOf(*raw));
      if (raw->expires_ms) by_expiry_.emplace(*raw->expires_ms, raw);
      available_ += raw->left;
    }
  }
  if (!r.ok()) return false;
  in = r.rest();
  return true;
}

std::vector<const Grant*> CreditBook::All() const { return added_; }

}  // namespace tally::core
