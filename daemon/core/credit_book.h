#pragma once
// The credit grants of one owner's feature, and which sources a consume
// draws from (docs/quotas.md).
//
// Draw order, over the plan allowance and every live grant:
//   1. lower PRIORITY first (default 0; the plan allowance is priority 0),
//   2. then the soonest expiry (the plan allowance expires at its period's
//      end; a grant without expiry, and a `total` allowance, come last),
//   3. then the oldest grant (the plan allowance before any grant),
//   4. then the grant id.
// Grants with units left are kept in a std::set by that key, so a draw costs
// O(log n + k) for n grants of which it touches k; expiry uses a second index
// by expiry time. A grant expiring exactly at `now` is expired: its unused
// rest is written off at its expiry instant and it is never drawn.
//
// Every grant balances: amount = drawn − released + expired + revoked + left.
// Not thread-safe: the owner's shard lock guards it. No I/O.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tally::core {

struct Grant {
  std::string id;
  int64_t amount = 0;
  int64_t priority = 0;
  std::optional<int64_t> expires_ms;  // nullopt: never
  int64_t granted_ms = 0;
  std::string reason;
  std::string actor;
  // What became of the amount.
  int64_t left = 0;
  int64_t drawn = 0;
  int64_t released = 0;  // given back by QUOTA.RELEASE / a commit below the hold
  int64_t expired = 0;   // written off at expires_ms
  int64_t revoked = 0;   // written off by CREDIT.REVOKE
  enum class Ending : uint8_t { kLive, kExpired, kRevoked };
  Ending ending = Ending::kLive;  // expired or revoked, even with nothing left to write off
  bool live() const { return ending == Ending::kLive; }
  bool Balanced() const { return amount == drawn - released + expired + revoked + left; }
};

// The plan's allowance as a draw source: units left this period (nullopt =
// unlimited: grants are never touched) and when it lapses (the period's end;
// nullopt for a `total` period).
struct Allowance {
  std::optional<int64_t> left;
  std::optional<int64_t> expires_ms;
};

// One source of a draw: `grant` empty = the plan allowance.
struct Draw {
  std::string grant;
  int64_t amount = 0;
  bool operator==(const Draw&) const = default;
};

struct DrawPlan {
  bool allowed = false;
  std::vector<Draw> draws;     // in draw order; what fits, also when refused
  int64_t from_allowance = 0;  // sum of the allowance's draws (overage included)
  int64_t from_grants = 0;
  int64_t overage = 0;    // allowed past the limit (overage = allow)
  int64_t shortfall = 0;  // refused: what did not fit
};

// What happened to a grant, for the owner's ledger (CREDIT.LEDGER): the
// book records every move; the quota module takes them after each change
// and stamps them with its time and actor. An expiry carries its own
// instant (the grant's expiry), the others `at_ms` 0.
struct CreditMove {
  enum class Kind : uint8_t { kGrant, kDraw, kRelease, kExpire, kRevoke };
  Kind kind;
  std::string grant;
  int64_t amount = 0;
  int64_t at_ms = 0;
};
std::string_view CreditMoveName(CreditMove::Kind kind);

// remaining = max(0, limit − (used − drawn from grants)) + credits: a unit
// drawn from a grant is not also counted against the limit.
int64_t Remaining(int64_t limit, int64_t used, int64_t drawn_from_grants, int64_t credits);

class CreditBook {
 public:
  CreditBook() = default;
  CreditBook(const CreditBook&) = delete;
  CreditBook& operator=(const CreditBook&) = delete;

  // Adds a grant (left = amount, nothing drawn). False if its id exists.
  bool Add(Grant grant);
  const Grant* Find(std::string_view id) const;

  // Expires every live grant with expires_ms <= now_ms; returns them (id,
  // units written off), soonest first.
  std::vector<std::pair<std::string, int64_t>> ExpireUpTo(int64_t now_ms);
  // Units left over live grants (after ExpireUpTo(now)).
  int64_t available() const { return available_; }

  // Which sources `amount` would come from. Refused when the allowance and
  // the grants together hold less, unless `allow_overage` (then the rest is
  // overage on the allowance). A refused plan lists what would fit.
  DrawPlan Plan(int64_t amount, const Allowance& allowance, bool allow_overage) const;
  // Takes the grants' units of a plan made now (the allowance is the caller's).
  void Apply(const std::vector<Draw>& draws);
  // Gives back up to `amount` units drawn from `grant` (never more than was
  // drawn and not yet released); returns the units given back. Units given
  // back to a grant that expired or was revoked are written off again.
  int64_t GiveBack(std::string_view grant, int64_t amount);
  // Writes off the unused rest of a live grant; nullopt if unknown or dead.
  std::optional<int64_t> Revoke(std::string_view grant);

  // Every grant, in the order they were added.
  std::vector<const Grant*> All() const;
  size_t size() const { return grants_.size(); }
  // The soonest expiry of a live grant.
  std::optional<int64_t> NextExpiry() const;

  // The moves since the last call (see CreditMove).
  std::vector<CreditMove> TakeMoves() { return std::exchange(moves_, {}); }

  // The whole book as bytes (quota_codec), and back into an empty book.
  void EncodeTo(std::string& out) const;
  bool DecodeFrom(std::string_view& in);

 private:
  struct DrawKey {
    int64_t priority;
    bool never_expires;
    int64_t expires_ms;
    int64_t granted_ms;
    std::string_view id;  // points into the grant (stable: grants never move)
    auto operator<=>(const DrawKey&) const = default;
  };
  static DrawKey KeyOf(const Grant& grant);
  void Unlist(Grant& grant, Grant::Ending ending);

  std::map<std::string, std::unique_ptr<Grant>, std::less<>> grants_;
  std::vector<const Grant*> added_;           // in the order added
  std::set<DrawKey> drawable_;                // live grants with units left
  std::multimap<int64_t, Grant*> by_expiry_;  // live grants that expire
  int64_t available_ = 0;
  std::vector<CreditMove> moves_;
};

}  // namespace tally::core
