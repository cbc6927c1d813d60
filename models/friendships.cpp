#include "models/friendships.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>
#include <string>

namespace contactsim {
namespace {

// Random-stream purposes of this module (world build only; the daily steps draw nothing).
// To be listed in models/purposes.hpp as purpose::kFriendSeedVenue / kFriendSeedBlock.
constexpr Purpose kFriendSeedVenue = 200;  // entity = venue × 16 + group
constexpr Purpose kFriendSeedBlock = 201;  // entity = block × 16 + group

// Fixed partition of residents for reductions: independent of the thread count by design.
constexpr std::size_t kReductionChunk = 1 << 14;

int whole(double value) { return static_cast<int>(std::lround(value)); }

// Residents grouped by (place, group) in CSR form, each bucket in a keyed random order.
struct Buckets {
  std::vector<std::uint32_t> begin;    // bucket b holds members[begin[b] .. begin[b+1])
  std::vector<std::uint32_t> members;
};

// `place_of(i)` is the resident's place in this scope, or −1 for none.
template <class PlaceOf>
Buckets bucket_by_place(const Residents& r, PlaceOf place_of, StreamKey key, Purpose purpose) {
  const int groups = r.num_groups;
  const std::size_t n = r.size();
  std::int64_t places = 0;
  for (std::size_t i = 0; i < n; ++i) places = std::max<std::int64_t>(places, place_of(i) + 1);
  const std::size_t buckets = static_cast<std::size_t>(places) * groups;
  Buckets b;
  b.begin.assign(buckets + 1, 0);
  auto bucket_of = [&](std::size_t i) { return static_cast<std::size_t>(place_of(i)) * groups + r.group[i]; };
  // Counting sort: stable, so each bucket starts in resident order before its shuffle.
  for (std::size_t i = 0; i < n; ++i)
    if (place_of(i) >= 0) ++b.begin[bucket_of(i) + 1];
  for (std::size_t k = 0; k < buckets; ++k) b.begin[k + 1] += b.begin[k];
  b.members.resize(b.begin[buckets]);
  std::vector<std::uint32_t> next(b.begin.begin(), b.begin.end() - 1);
  for (std::size_t i = 0; i < n; ++i)
    if (place_of(i) >= 0) b.members[next[bucket_of(i)]++] = static_cast<std::uint32_t>(i);

  const auto count = static_cast<std::int64_t>(buckets);
#pragma omp parallel for schedule(dynamic, 256)
  for (std::int64_t k = 0; k < count; ++k) {
    const std::uint32_t first = b.begin[k], size = b.begin[k + 1] - first;
    if (size < 2) continue;
    const auto place = static_cast<std::uint32_t>(k / groups), group = static_cast<std::uint32_t>(k % groups);
    RandomStream rng(key, place * kMaxGroups + group, 0, purpose);
    std::uint32_t* m = b.members.data() + first;
    for (std::uint32_t s = size - 1; s > 0; --s) std::swap(m[s], m[rng.below(s + 1)]);  // Fisher–Yates
  }
  return b;
}

}  // namespace

Friendships::Friendships(const Residents& residents, const FriendshipSettings& settings)
    : residents_(residents), enabled_(settings.enabled) {
  if (!enabled_) return;
  const FriendshipParams& p = settings.params;
  k_ = std::clamp(whole(p.max_degree), 0, kMaxSlots);
  a_ = std::clamp(whole(p.acquaintance_slots), 0, kMaxSlots);
  ingroup_target_ = std::max(0, whole(p.ingroup_friends));
  if (ingroup_target_ > k_)
    throw std::invalid_argument("mechanisms.friendships: ingroup_friends (" + std::to_string(ingroup_target_) +
                                ") exceeds max_degree (" + std::to_string(k_) + ")");
  befriend_at_ = static_cast<std::uint16_t>(std::clamp(whole(p.encounters_to_befriend), 1, 65535));
  replace_below_ = static_cast<float>(p.replace_below);
  const std::size_t n = residents.size();
  friend_id_.assign(n * k_, kNone);
  strength_.assign(n * k_, 0.0f);
  acquaintance_id_.assign(n * a_, kNone);
  acquaintance_count_.assign(n * a_, 0);
  ingroup_count_.assign(n, 0);
  cross_mask_.assign(n, 0);
}

// ---- queries -------------------------------------------------------------------------------

int Friendships::degree(std::uint32_t i) const {
  if (!enabled_) return 0;
  const std::uint32_t* ids = friend_id_.data() + row(i);
  int d = 0;
  while (d < k_ && ids[d] != kNone) ++d;
  return d;
}

std::span<const std::uint32_t> Friendships::friends_of(std::uint32_t i) const {
  if (!enabled_) return {};
  return {friend_id_.data() + row(i), static_cast<std::size_t>(degree(i))};
}

int Friendships::slot_of(std::uint32_t i, std::uint32_t j) const {
  const std::uint32_t* ids = friend_id_.data() + row(i);
  for (int s = 0; s < k_ && ids[s] != kNone; ++s)
    if (ids[s] == j) return s;
  return -1;
}

bool Friendships::are_friends(std::uint32_t i, std::uint32_t j) const {
  return enabled_ && slot_of(i, j) >= 0 && slot_of(j, i) >= 0;
}

float Friendships::tie_strength(std::uint32_t i, std::uint32_t j) const {
  if (!enabled_) return 0.0f;
  const int s = slot_of(i, j);
  return s < 0 ? 0.0f : strength_[row(i) + s];
}

int Friendships::acquaintance_count(std::uint32_t i, std::uint32_t j) const {
  for (int s = 0; s < a_; ++s)
    if (acquaintance_id_[acquaintance_row(i) + s] == j) return acquaintance_count_[acquaintance_row(i) + s];
  return 0;
}

bool Friendships::has_friend_in(std::uint32_t i, int group) const {
  for (const std::uint32_t f : friends_of(i))
    if (residents_.group[f] == group) return true;
  return false;
}

int Friendships::cross_group_friends(std::uint32_t i) const {
  int count = 0;
  for (const std::uint32_t f : friends_of(i)) count += residents_.group[f] != residents_.group[i];
  return count;
}

std::vector<double> Friendships::cross_group_friendship_share(int wards) const {
  const int groups = residents_.num_groups;
  const std::size_t cells = static_cast<std::size_t>(wards) * groups;
  const std::size_t n = residents_.size();
  const std::size_t chunks = std::max<std::size_t>(1, (n + kReductionChunk - 1) / kReductionChunk);
  std::vector<std::int64_t> with_friend(chunks * cells, 0), residents(chunks * cells, 0);
#pragma omp parallel for schedule(static)
  for (std::size_t c = 0; c < chunks; ++c) {
    const std::size_t end = std::min(n, (c + 1) * kReductionChunk);
    for (std::size_t i = c * kReductionChunk; i < end; ++i) {
      const std::size_t cell = c * cells + static_cast<std::size_t>(residents_.ward[i]) * groups + residents_.group[i];
      ++residents[cell];
      with_friend[cell] += cross_group_friends(static_cast<std::uint32_t>(i)) > 0;
    }
  }
  std::vector<double> share(cells, 0.0);
  for (std::size_t cell = 0; cell < cells; ++cell) {
    std::int64_t yes = 0, all = 0;
    for (std::size_t c = 0; c < chunks; ++c) yes += with_friend[c * cells + cell], all += residents[c * cells + cell];
    share[cell] = all ? static_cast<double>(yes) / static_cast<double>(all) : 0.0;
  }
  return share;
}

std::size_t Friendships::bytes_per_resident() const {
  if (!enabled_) return 0;
  return static_cast<std::size_t>(k_) * (sizeof(std::uint32_t) + sizeof(float)) +
         static_cast<std::size_t>(a_) * (sizeof(std::uint32_t) + sizeof(std::uint16_t)) + sizeof(std::uint8_t) +
         sizeof(std::uint16_t);
}

std::size_t Friendships::bytes() const {
  return friend_id_.capacity() * sizeof(std::uint32_t) + strength_.capacity() * sizeof(float) +
         acquaintance_id_.capacity() * sizeof(std::uint32_t) + acquaintance_count_.capacity() * sizeof(std::uint16_t) +
         ingroup_count_.capacity() + cross_mask_.capacity() * sizeof(std::uint16_t);
}

// ---- forming ties from encounters ---------------------------------------------------------

void Friendships::note_positive_encounter(std::uint32_t i, std::uint32_t j, bool stable_venue) {
  if (!enabled_ || i == j) return;
  const int slot_i = slot_of(i, j), slot_j = slot_of(j, i);
  if (slot_i >= 0 && slot_j >= 0) {  // friends meeting again: the tie is renewed on both sides
    strength_[row(i) + slot_i] = 1.0f;
    strength_[row(j) + slot_j] = 1.0f;
    return;
  }
  if (!stable_venue) return;  // a passing encounter renews a friendship but does not make one
  const int known_i = bump_acquaintance(i, j), known_j = bump_acquaintance(j, i);
  if (known_i < befriend_at_ || known_j < befriend_at_) return;
  // Ready: both must have room. If not, the counts stay at the threshold and the next positive
  // encounter tries again.
  if (!has_room(i, slot_i) || !has_room(j, slot_j)) return;
  forget_acquaintance(i, j);
  forget_acquaintance(j, i);
  befriend_side(i, j, slot_i);
  befriend_side(j, i, slot_j);
}

// The contact-made (non-seeded) slot with the weakest tie, first on ties; −1 if none.
int Friendships::weakest_contact_slot(std::uint32_t i) const {
  const float* s = strength_.data() + row(i);
  const std::uint32_t* ids = friend_id_.data() + row(i);
  int weakest = -1;
  for (int k = ingroup_count_[i]; k < k_ && ids[k] != kNone; ++k)
    if (weakest < 0 || s[k] < s[weakest]) weakest = k;
  return weakest;
}

bool Friendships::has_room(std::uint32_t i, int existing_slot) const {
  if (existing_slot >= 0 || degree(i) < k_) return true;
  const int weakest = weakest_contact_slot(i);
  return weakest >= 0 && strength_[row(i) + weakest] < replace_below_;
}

// Counts a positive stable-venue encounter of i with j; returns i's count of j (capped at the
// befriending threshold). A new acquaintance takes a free slot or displaces the least-met one.
int Friendships::bump_acquaintance(std::uint32_t i, std::uint32_t j) {
  if (a_ == 0) return 0;
  std::uint32_t* ids = acquaintance_id_.data() + acquaintance_row(i);
  std::uint16_t* counts = acquaintance_count_.data() + acquaintance_row(i);
  int target = -1;
  for (int s = 0; s < a_; ++s) {
    if (ids[s] == j) {
      counts[s] = std::min<std::uint16_t>(static_cast<std::uint16_t>(counts[s] + 1), befriend_at_);
      return counts[s];
    }
    if (target < 0 || counts[s] < counts[target]) target = s;  // free slots have count 0
  }
  ids[target] = j;
  counts[target] = 1;
  return 1;
}

void Friendships::forget_acquaintance(std::uint32_t i, std::uint32_t j) {
  std::uint32_t* ids = acquaintance_id_.data() + acquaintance_row(i);
  std::uint16_t* counts = acquaintance_count_.data() + acquaintance_row(i);
  for (int s = 0; s < a_; ++s)
    if (ids[s] == j) ids[s] = kNone, counts[s] = 0;
}

// Makes i list j at strength 1: renews a half-tie, fills a free slot, or replaces the weakest
// contact-made tie (has_room said it may). A replaced friend keeps listing i until
// apply_pending_drops, because its row belongs to another session.
void Friendships::befriend_side(std::uint32_t i, std::uint32_t j, int existing_slot) {
  int slot = existing_slot;
  if (slot < 0) slot = degree(i);
  if (slot >= k_) {
    slot = weakest_contact_slot(i);
    std::lock_guard<std::mutex> lock(pending_mutex_);
    pending_drops_.emplace_back(friend_id_[row(i) + slot], i);
  }
  friend_id_[row(i) + slot] = j;
  strength_[row(i) + slot] = 1.0f;
}

// Removes a contact-made tie from i's row, keeping the row compact (last tie moves in).
void Friendships::remove_slot(std::uint32_t i, int slot) {
  const int last = degree(i) - 1;
  friend_id_[row(i) + slot] = friend_id_[row(i) + last];
  strength_[row(i) + slot] = strength_[row(i) + last];
  friend_id_[row(i) + last] = kNone;
  strength_[row(i) + last] = 0.0f;
}

// A half-tie (holder lists dropper, dropper does not list holder) is removed; a pair that made
// friends again since the drop is left alone. Removal only deletes half-ties and never creates
// one, so the result is the same in any order of the list.
void Friendships::apply_pending_drops() {
  for (const auto& [holder, dropper] : pending_drops_) {
    if (slot_of(dropper, holder) >= 0) continue;
    const int slot = slot_of(holder, dropper);
    if (slot >= ingroup_count_[holder]) remove_slot(holder, slot);  // slot −1 also fails here
  }
  pending_drops_.clear();
}

// ---- in-group seeding ----------------------------------------------------------------------

bool Friendships::add_seed_tie(std::uint32_t a, std::uint32_t b) {
  const int da = degree(a), db = degree(b);
  if (da >= ingroup_target_ || db >= ingroup_target_ || slot_of(a, b) >= 0) return false;
  friend_id_[row(a) + da] = b, strength_[row(a) + da] = 1.0f;
  friend_id_[row(b) + db] = a, strength_[row(b) + db] = 1.0f;
  return true;
}

void Friendships::seed_ingroup(std::span<const int> venue_types, StreamKey key) {
  if (!enabled_ || ingroup_target_ == 0) return;
  if (std::any_of(friend_id_.begin(), friend_id_.end(), [](std::uint32_t f) { return f != kNone; }))
    throw std::logic_error("Friendships::seed_ingroup: ties exist already; seed once, at world build");
  const Residents& r = residents_;
  std::vector<Buckets> scopes;
  for (const int type : venue_types)
    scopes.push_back(bucket_by_place(
        r, [&](std::size_t i) { return static_cast<std::int64_t>(r.member_venue(i, type)); }, key, kFriendSeedVenue));
  scopes.push_back(bucket_by_place(
      r, [&](std::size_t i) { return static_cast<std::int64_t>(r.block[i]); }, key, kFriendSeedBlock));

  // A ring with links at distances 1..rounds gives each member up to 2 per round.
  const int rounds = (ingroup_target_ + 1) / 2;
  for (int d = 1; d <= rounds; ++d)
    for (const Buckets& scope : scopes) {
      const auto count = static_cast<std::int64_t>(scope.begin.size()) - 1;
      // Buckets of one scope are disjoint, so they link in parallel without races.
#pragma omp parallel for schedule(dynamic, 256)
      for (std::int64_t b = 0; b < count; ++b) {
        const std::uint32_t first = scope.begin[b], size = scope.begin[b + 1] - first;
        if (size <= static_cast<std::uint32_t>(d)) continue;
        const std::uint32_t* m = scope.members.data() + first;
        for (std::uint32_t k = 0; k < size; ++k) add_seed_tie(m[k], m[(k + d) % size]);
      }
    }
  for (std::size_t i = 0; i < r.size(); ++i)
    ingroup_count_[i] = static_cast<std::uint8_t>(degree(static_cast<std::uint32_t>(i)));
}

// ---- the daily phase -----------------------------------------------------------------------

FriendshipsPhase::FriendshipsPhase(const FriendshipSettings& settings, const MechanismSwitch<AttitudeParams>& attitude,
                                   Friendships& friendships, Residents& residents)
    : enabled_(settings.enabled && friendships.enabled()),
      eta_friend_(static_cast<float>(settings.params.eta_friend)),
      eta_extended_(static_cast<float>(settings.params.eta_extended)),
      keep_(static_cast<float>(std::exp2(-1.0 / settings.params.half_life_days))),
      dissolve_below_(static_cast<float>(settings.params.dissolve_below)),
      plasticity_(attitude.params.plasticity()),
      friendships_(friendships),
      residents_(residents) {}

void FriendshipsPhase::run(const Day&) {
  if (!enabled_) return;
  friendships_.apply_pending_drops();
  warm_from_friends_and_fade();
  if (eta_extended_ > 0.0f) warm_from_extended_contact();
}

// Step (1) and fading, one pass: row i and warmth i only, so rows run in parallel. Both sides
// of a tie hold the same strength and multiply it by the same factor, so both see it fall
// below dissolve_below on the same day and the tie disappears from both rows.
void FriendshipsPhase::warm_from_friends_and_fade() {
  Friendships& f = friendships_;
  const std::size_t n = residents_.size();
  const int k = f.k_;
#pragma omp parallel for schedule(static, 4096)
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t* ids = f.friend_id_.data() + i * k;
    float* strength = f.strength_.data() + i * k;
    const int own = residents_.group[i];
    float* warmth = residents_.warmth_of(i);
    const float gain = eta_friend_ * plasticity_[residents_.age_band[i]];
    std::uint16_t mask = 0;
    int last = f.degree(static_cast<std::uint32_t>(i)) - 1;
    for (int s = f.ingroup_count_[i]; s <= last;) {
      const int h = residents_.group[ids[s]];
      if (h != own) warmth[h] += gain * strength[s] * (1.0f - warmth[h]);
      strength[s] *= keep_;
      if (strength[s] < dissolve_below_) {  // the last tie moves into this slot; visit it next
        ids[s] = ids[last], strength[s] = strength[last];
        ids[last] = Friendships::kNone, strength[last] = 0.0f;
        --last;
        continue;
      }
      if (h != own) mask = static_cast<std::uint16_t>(mask | (1u << h));
      ++s;
    }
    f.cross_mask_[i] = mask;
  }
}

// Step (2): reads in-group friends' cross_mask_ (complete after the previous pass), writes
// only i's warmth. Each outgroup counts once, however many friends-of-friends are in it.
void FriendshipsPhase::warm_from_extended_contact() {
  const Friendships& f = friendships_;
  const std::size_t n = residents_.size();
  const int k = f.k_;
#pragma omp parallel for schedule(static, 4096)
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t* ids = f.friend_id_.data() + i * k;
    unsigned outgroups = 0;
    for (int s = 0; s < f.ingroup_count_[i]; ++s) outgroups |= f.cross_mask_[ids[s]];
    outgroups &= ~(1u << residents_.group[i]);
    if (outgroups == 0) continue;
    float* warmth = residents_.warmth_of(i);
    const float gain = eta_extended_ * plasticity_[residents_.age_band[i]];
    for (; outgroups != 0; outgroups &= outgroups - 1) {
      const int h = std::countr_zero(outgroups);
      warmth[h] += gain * (1.0f - warmth[h]);
    }
  }
}

}  // namespace contactsim
