#include "models/mechanisms/friendships.hpp"
#include "models/city/encounters.hpp"
#include "models/city/world.hpp"
#include "models/mechanisms/settings.hpp"
#include "models/run/scenario.hpp"

#include "core/archive.hpp"
#include "core/reduction.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace contactsim {
namespace {

// Random-stream purposes of this module (world build only; the daily steps draw nothing),
// declared as a range in its registry entry (friendships_mechanism, below).
constexpr Purpose kFriendSeedVenue = 200;  // entity = venue × 16 + group
constexpr Purpose kFriendSeedBlock = 201;  // entity = block × 16 + group

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
#pragma omp parallel for schedule(dynamic, 256) if (count > 256)
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
  lay_out_rows(n);
  friend_id_.assign(friend_id_.size(), kNone);
  acquaintance_id_.assign(acquaintance_id_.size(), kNone);  // the rest starts at zero
  extended_mask_.assign(n, 0);
}

// Friend ids, acquaintance ids, degree and in-group count first (what finding a friend or an
// acquaintance reads: the first cache line for the default widths), then strengths and counts.
void Friendships::lay_out_rows(std::size_t residents) {
  const auto k = static_cast<std::size_t>(k_), a = static_cast<std::size_t>(a_);
  std::size_t offset = 0;
  const auto place = [&](auto& column, std::size_t width, std::size_t bytes_each) {
    offset = (offset + bytes_each - 1) / bytes_each * bytes_each;
    column.place(offset, width);
    offset += width * bytes_each;
  };
  place(friend_id_, k, sizeof(std::uint32_t));
  place(acquaintance_id_, a, sizeof(std::uint32_t));
  place(degree_, 1, 1);
  place(ingroup_count_, 1, 1);
  place(strength_, k, sizeof(float));
  place(acquaintance_count_, a, sizeof(std::uint16_t));
  rows_.reshape(residents, offset);
}

// ---- queries -------------------------------------------------------------------------------

std::span<const std::uint32_t> Friendships::friends_of(std::uint32_t i) const {
  if (!enabled_) return {};
  return {friend_id_.row(i), static_cast<std::size_t>(degree(i))};
}

int Friendships::slot_of(std::uint32_t i, std::uint32_t j) const {
  const std::uint32_t* ids = friend_id_.row(i);
  for (int s = 0; s < degree_[i]; ++s)
    if (ids[s] == j) return s;
  return -1;
}

bool Friendships::are_friends(std::uint32_t i, std::uint32_t j) const {
  return enabled_ && slot_of(i, j) >= 0 && slot_of(j, i) >= 0;
}

float Friendships::tie_strength(std::uint32_t i, std::uint32_t j) const {
  if (!enabled_) return 0.0f;
  const int s = slot_of(i, j);
  return s < 0 ? 0.0f : strength_.row(i)[s];
}

int Friendships::acquaintance_count(std::uint32_t i, std::uint32_t j) const {
  for (int s = 0; s < a_; ++s)
    if (acquaintance_id_.row(i)[s] == j) return acquaintance_count_.row(i)[s];
  return 0;
}

bool Friendships::has_friend_in(std::uint32_t i, int group) const {
  if (!enabled_) return false;
  if (group == residents_.group[i]) return ingroup_count_[i] > 0;
  for (const std::uint32_t f : friends_of(i).subspan(ingroup_count_[i]))
    if (residents_.group[f] == group) return true;
  return false;
}

std::vector<double> Friendships::cross_group_friendship_share(int wards) const {
  const auto groups = static_cast<std::size_t>(residents_.num_groups);
  CellSums with_friend = sum_by_cell(
      residents_.size(), static_cast<std::size_t>(wards) * groups, 1,
      [&](std::size_t i) { return static_cast<std::size_t>(residents_.ward[i]) * groups + residents_.group[i]; },
      [&](std::size_t i, double* sum) { *sum += cross_group_friends(static_cast<std::uint32_t>(i)) > 0 ? 1.0 : 0.0; });
  std::vector<double>& share = with_friend.sum;  // whole numbers: exact in double
  for (std::size_t cell = 0; cell < share.size(); ++cell)
    share[cell] = with_friend.count[cell] ? share[cell] / static_cast<double>(with_friend.count[cell]) : 0.0;
  return std::move(share);
}

std::size_t Friendships::bytes_per_resident() const {
  if (!enabled_) return 0;
  return rows_.stride() + sizeof(std::uint16_t);  // the packed rows and extended_mask_
}

std::size_t Friendships::bytes() const {
  return rows_.capacity_bytes() + extended_mask_.capacity() * sizeof(std::uint16_t);
}

// ---- forming ties from encounters ---------------------------------------------------------

void Friendships::note_positive_encounter(std::uint32_t i, std::uint32_t j, bool stable_venue) {
  // Only contact between groups makes friends here; in-group ties are seeded (seed_ingroup).
  if (residents_.group[i] == residents_.group[j]) return;
  note_positive_intergroup_encounter(i, j, stable_venue);
}

void Friendships::note_positive_intergroup_encounter(std::uint32_t i, std::uint32_t j, bool stable_venue) {
  if (!enabled_) return;
  const int slot_i = slot_of(i, j), slot_j = slot_of(j, i);
  if (slot_i >= 0 && slot_j >= 0) {  // friends meeting again: the tie is renewed on both sides
    strength_.row(i)[slot_i] = 1.0f;
    strength_.row(j)[slot_j] = 1.0f;
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

void Friendships::prefetch(std::uint32_t i, bool stable_venue) const {
  if (!enabled_) return;
  __builtin_prefetch(&degree_[i]);
  __builtin_prefetch(friend_id_.row(i));
  if (a_ == 0 || !stable_venue) return;  // elsewhere only existing ties are looked up
  __builtin_prefetch(acquaintance_id_.row(i), 1);
  __builtin_prefetch(acquaintance_count_.row(i), 1);
}

// The contact-made (non-seeded) slot with the weakest tie, first on ties; −1 if none.
int Friendships::weakest_contact_slot(std::uint32_t i) const {
  const float* s = strength_.row(i);
  int weakest = -1;
  for (int k = ingroup_count_[i]; k < degree_[i]; ++k)
    if (weakest < 0 || s[k] < s[weakest]) weakest = k;
  return weakest;
}

bool Friendships::has_room(std::uint32_t i, int existing_slot) const {
  if (existing_slot >= 0 || degree(i) < k_) return true;
  const int weakest = weakest_contact_slot(i);
  return weakest >= 0 && strength_.row(i)[weakest] < replace_below_;
}

// Counts a positive stable-venue encounter of i with j; returns i's count of j (capped at the
// befriending threshold). A new acquaintance takes a free slot or displaces the least-met one.
int Friendships::bump_acquaintance(std::uint32_t i, std::uint32_t j) {
  if (a_ == 0) return 0;
  std::uint32_t* ids = acquaintance_id_.row(i);
  std::uint16_t* counts = acquaintance_count_.row(i);
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
  std::uint32_t* ids = acquaintance_id_.row(i);
  std::uint16_t* counts = acquaintance_count_.row(i);
  for (int s = 0; s < a_; ++s)
    if (ids[s] == j) ids[s] = kNone, counts[s] = 0;
}

// Makes i list j at strength 1: renews a half-tie, fills a free slot, or replaces the weakest
// contact-made tie (has_room said it may). A replaced friend keeps listing i until
// apply_pending_drops, because its row belongs to another session.
void Friendships::befriend_side(std::uint32_t i, std::uint32_t j, int existing_slot) {
  int slot = existing_slot;
  if (slot < 0 && degree_[i] < k_) slot = degree_[i]++;
  if (slot < 0) {
    slot = weakest_contact_slot(i);
    std::lock_guard<std::mutex> lock(pending_mutex_);
    pending_drops_.emplace_back(friend_id_.row(i)[slot], i);
  }
  friend_id_.row(i)[slot] = j;
  strength_.row(i)[slot] = 1.0f;
}

// Removes a contact-made tie from i's row, keeping the row compact (last tie moves in).
// Removes a tie keeping the in-group ties as the row's leading slots.
void Friendships::remove_keeping_order(std::uint32_t i, int slot) {
  if (slot < ingroup_count_[i]) --ingroup_count_[i];
  const int last = --degree_[i];
  for (int s = slot; s < last; ++s) {
    friend_id_.row(i)[s] = friend_id_.row(i)[s + 1];
    strength_.row(i)[s] = strength_.row(i)[s + 1];
  }
  friend_id_.row(i)[last] = kNone;
  strength_.row(i)[last] = 0.0f;
}

void Friendships::forget(std::span<const std::uint32_t> residents) {
  if (!enabled_) return;
  for (const std::uint32_t i : residents) {
    for (int s = 0; s < degree_[i]; ++s) {
      const std::uint32_t k = friend_id_.row(i)[s];
      if (const int t = slot_of(k, i); t >= 0) remove_keeping_order(k, t);
    }
    for (int s = 0; s < k_; ++s) {
      friend_id_.row(i)[s] = kNone;
      strength_.row(i)[s] = 0.0f;
    }
    degree_[i] = 0;
    ingroup_count_[i] = 0;
    extended_mask_[i] = 0;
    for (int s = 0; s < a_; ++s) {
      acquaintance_id_.row(i)[s] = kNone;
      acquaintance_count_.row(i)[s] = 0;
    }
  }
}

void Friendships::remove_slot(std::uint32_t i, int slot) {
  const int last = --degree_[i];
  friend_id_.row(i)[slot] = friend_id_.row(i)[last];
  strength_.row(i)[slot] = strength_.row(i)[last];
  friend_id_.row(i)[last] = kNone;
  strength_.row(i)[last] = 0.0f;
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
  const int da = degree_[a], db = degree_[b];
  if (da >= ingroup_target_ || db >= ingroup_target_ || slot_of(a, b) >= 0) return false;
  friend_id_.row(a)[da] = b, strength_.row(a)[da] = 1.0f, ++degree_[a];
  friend_id_.row(b)[db] = a, strength_.row(b)[db] = 1.0f, ++degree_[b];
  return true;
}

void Friendships::seed_ingroup(std::span<const int> venue_types, StreamKey key) {
  if (!enabled_ || ingroup_target_ == 0) return;
  if (std::any_of(degree_.begin(), degree_.end(), [](std::uint8_t d) { return d != 0; }))
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
#pragma omp parallel for schedule(dynamic, 256) if (count > 256)
      for (std::int64_t b = 0; b < count; ++b) {
        const std::uint32_t first = scope.begin[b], size = scope.begin[b + 1] - first;
        if (size <= static_cast<std::uint32_t>(d)) continue;
        const std::uint32_t* m = scope.members.data() + first;
        for (std::uint32_t k = 0; k < size; ++k) add_seed_tie(m[k], m[(k + d) % size]);
      }
    }
  ingroup_count_.assign(degree_.to_vector());
}

// ---- the daily phase -----------------------------------------------------------------------

FriendshipsPhase::FriendshipsPhase(const FriendshipSettings& settings, const MechanismSwitch<AttitudeParams>& attitude,
                                   Friendships& friendships, Residents& residents)
    : enabled_(settings.enabled && friendships.enabled()),
      interval_(std::max(1, whole(settings.params.interval_days))),
      day_keep_(static_cast<float>(std::exp2(-1.0 / settings.params.half_life_days))),
      keep_(static_cast<float>(std::exp2(-interval_ / settings.params.half_life_days))),
      dissolve_below_(static_cast<float>(settings.params.dissolve_below)),
      extended_on_(settings.params.eta_extended > 0.0),
      friendships_(friendships),
      residents_(residents) {
  const auto plasticity = plasticity_by_age_band(attitude.params);
  for (int a = 0; a < kNumAgeBands; ++a) {
    friend_rate_[a] = static_cast<float>(settings.params.eta_friend) * plasticity[a];
    extended_gain_[a] =
        static_cast<float>(1.0 - std::pow(1.0 - settings.params.eta_extended * plasticity[a], interval_));
  }
}

void FriendshipsPhase::run(const Day& day) {
  if (!enabled_) return;
  friendships_.apply_pending_drops();  // daily, so queries (media shocks) see mutual ties
  if ((day.index + 1) % interval_ != 0) return;
  warm_from_friends_and_fade();
  if (extended_on_) warm_from_extended_contact();
}

// Steps (1) and fading, and the mask of groups for step (2). Only residents with a
// contact-made friend have anything to do; they are a minority scattered over the city, so
// each block of residents first lists them (skimming two bytes per resident), then works
// through the list prefetching a few residents ahead: the scattered rows, friends' groups and
// in-group friends' masks then load in parallel instead of one miss after another.
void FriendshipsPhase::warm_from_friends_and_fade() {
  const std::size_t n = residents_.size();
  const std::size_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (blocks > 1)
  for (std::size_t b = 0; b < blocks; ++b) {
    std::array<std::uint32_t, kBlock> active;
    int count = 0;
    const std::size_t end = std::min(n, (b + 1) * kBlock);
    for (std::size_t i = b * kBlock; i < end; ++i) {
      active[count] = static_cast<std::uint32_t>(i);
      count += friendships_.degree_[i] > friendships_.ingroup_count_[i];  // branch-free listing
    }
    for (int k = 0; k < count; ++k) {
      if (k + kRowsAhead < count) prefetch_row(active[k + kRowsAhead]);
      if (k + kFriendsAhead < count) prefetch_friends(active[k + kFriendsAhead]);
      warm_from_friends_and_fade(active[k]);
    }
  }
}

void FriendshipsPhase::prefetch_row(std::uint32_t i) const {
  __builtin_prefetch(friendships_.friend_id_.row(i));
  __builtin_prefetch(friendships_.strength_.row(i), 1);
  __builtin_prefetch(residents_.warmth_of(i), 1);
}

// Needs i's row in cache (prefetch_row a few residents earlier).
void FriendshipsPhase::prefetch_friends(std::uint32_t i) const {
  const Friendships& f = friendships_;
  const std::uint32_t* ids = f.friend_id_.row(i);
  for (int s = f.ingroup_count_[i]; s < f.degree_[i]; ++s) __builtin_prefetch(&residents_.group[ids[s]]);
  if (extended_on_)
    for (int s = 0; s < f.ingroup_count_[i]; ++s) __builtin_prefetch(&f.extended_mask_[ids[s]], 1);
}

// The factor by which an interval of daily friendship steps shrinks 1 − A, for a tie whose
// daily gain starts at `gain` and fades with the tie.
float FriendshipsPhase::remaining_distance(float gain) const {
  float remaining = 1.0f;
  for (int t = 0; t < interval_; ++t, gain *= day_keep_) remaining *= 1.0f - gain;
  return remaining;
}

// Row i and warmth i only, plus an atomic OR into each in-group friend's extended_mask_. Both
// sides of a tie hold the same strength and multiply it by the same factor, so both see it fall
// below dissolve_below on the same day and the tie disappears from both rows.
void FriendshipsPhase::warm_from_friends_and_fade(std::uint32_t i) {
  Friendships& f = friendships_;
  std::uint32_t* ids = f.friend_id_.row(i);
  float* strength = f.strength_.row(i);
  float* warmth = residents_.warmth_of(i);
  const float rate = friend_rate_[residents_.age_band[i]];
  const int first = f.ingroup_count_[i];
  unsigned groups = 0;
  int last = f.degree_[i] - 1;
  for (int s = first; s <= last;) {
    const int h = residents_.group[ids[s]];
    warmth[h] += (1.0f - remaining_distance(rate * strength[s])) * (1.0f - warmth[h]);
    groups |= 1u << h;  // a tie alive during the interval counts for extended contact too
    strength[s] *= keep_;
    if (strength[s] < dissolve_below_) {  // the last tie moves into this slot; visit it next
      ids[s] = ids[last], strength[s] = strength[last];
      ids[last] = Friendships::kNone, strength[last] = 0.0f;
      --last;
      continue;
    }
    ++s;
  }
  f.degree_[i] = static_cast<std::uint8_t>(last + 1);
  if (groups == 0 || !extended_on_) return;
  const auto mask = static_cast<std::uint16_t>(groups);
  for (int s = 0; s < first; ++s) {
    std::uint16_t& theirs = f.extended_mask_[ids[s]];
#pragma omp atomic update
    theirs |= mask;
  }
}

// Step (2): each outgroup in the mask counts once, however many friends-of-friends are in it.
void FriendshipsPhase::warm_from_extended_contact() {
  const std::size_t n = residents_.size();
  std::uint16_t* extended = friendships_.extended_mask_.data();
#pragma omp parallel for schedule(static, kBlock) if (n > kBlock)
  for (std::size_t i = 0; i < n; ++i) {
    if (extended[i] == 0) continue;
    unsigned outgroups = extended[i] & ~(1u << residents_.group[i]);
    extended[i] = 0;
    float* warmth = residents_.warmth_of(i);
    const float gain = extended_gain_[residents_.age_band[i]];
    for (; outgroups != 0; outgroups &= outgroups - 1) {
      const int h = std::countr_zero(outgroups);
      warmth[h] += gain * (1.0f - warmth[h]);
    }
  }
}


// ---- checkpoints ---------------------------------------------------------------------------

void Friendships::save(StateWriter& out) const {
  out.scalar("max_degree", k_);
  out.scalar("acquaintance_slots", a_);
  out.write("friend_id", friend_id_);
  out.write("strength", strength_);
  out.write("acquaintance_id", acquaintance_id_);
  out.write("acquaintance_count", acquaintance_count_);
  out.write("degree", degree_);
  out.write("ingroup_count", ingroup_count_);
  out.write("extended_mask", extended_mask_);
  std::vector<std::uint32_t> holders, droppers;
  for (const auto& [holder, dropper] : pending_drops_) holders.push_back(holder), droppers.push_back(dropper);
  out.write("pending_drop_holder", holders);
  out.write("pending_drop_dropper", droppers);
}

void Friendships::restore(const StateReader& in) {
  if (in.scalar<int>("max_degree") != k_ || in.scalar<int>("acquaintance_slots") != a_)
    in.fail("max_degree", "rows of " + std::to_string(in.scalar<int>("max_degree")) + " friends and " +
                              std::to_string(in.scalar<int>("acquaintance_slots")) + " acquaintances, expected " +
                              std::to_string(k_) + " and " + std::to_string(a_));
  in.read_into("friend_id", friend_id_);
  in.read_into("strength", strength_);
  in.read_into("acquaintance_id", acquaintance_id_);
  in.read_into("acquaintance_count", acquaintance_count_);
  in.read_into("degree", degree_);
  in.read_into("ingroup_count", ingroup_count_);
  in.read_into("extended_mask", extended_mask_);
  const std::vector<std::uint32_t> holders = in.read<std::uint32_t>("pending_drop_holder");
  const std::vector<std::uint32_t> droppers = in.read<std::uint32_t>("pending_drop_dropper");
  if (holders.size() != droppers.size()) in.fail("pending_drop_dropper", "does not match pending_drop_holder");
  pending_drops_.clear();
  for (std::size_t k = 0; k < holders.size(); ++k) pending_drops_.emplace_back(holders[k], droppers[k]);
}

// ---- the mechanism ----------------------------------------------------------------------------
namespace {

struct FriendshipsConfig final : SettingsConfig<"friendships", FriendshipParams, kFriendshipParams> {
  std::vector<SeriesSpec> series() const override {
    return {{"cross_group_friendship_share", {"ward", "group"}, SeriesType::float32,
             "Share of residents with at least one friend in another group", "share"}};
  }
};

class FriendshipsMechanism final : public Mechanism {
 public:
  FriendshipsMechanism(const FriendshipsConfig& config, MechanismContext& c)
      : wards_(static_cast<int>(c.scenario.wards.size())),
        friendships_(c.world.residents, config.settings),
        phase_(config.settings, c.scenario.attitude, friendships_, c.world.residents) {
    // In-group ties from classes and workplaces (and blocks) exist before the run starts.
    std::vector<int> seed_types;
    const auto& types = c.scenario.venue_types;
    for (int t = 0; t < static_cast<int>(types.size()); ++t)
      if (types[t].stable && types[t].slot == Slot::daytime && types[t].generate) seed_types.push_back(t);
    friendships_.seed_ingroup(seed_types, c.key);
    // on_positive is called for intergroup pairs only (EncounterRules).
    c.rules.on_positive = [this](std::uint32_t i, std::uint32_t j, bool stable) {
      friendships_.note_positive_intergroup_encounter(i, j, stable);
    };
    c.rules.prefetch = [this](std::uint32_t i, bool stable) { friendships_.prefetch(i, stable); };
    c.links.publish<const Friendships>("friendships", friendships_);
  }
  const char* name() const override { return phase_.name(); }
  void run(const Day& day) override { phase_.run(day); }
  void save(StateWriter& out) const override { phase_.save(out); }
  void restore(const StateReader& in) override { phase_.restore(in); }
  void record(SeriesWriter& out) override {
    const std::vector<double> share = friendships_.cross_group_friendship_share(wards_);
    out.write(std::vector<float>(share.begin(), share.end()));
  }
  void forget(std::span<const std::uint32_t> replaced) override { friendships_.forget(replaced); }
  void check_invariants(const InvariantContext& c) const override;

 private:
  [[noreturn]] void name_unmatched_tie(const InvariantContext& c) const;

  int wards_;
  Friendships friendships_;
  FriendshipsPhase phase_;
};

// The same for (i, j, s) and (j, i, s); any other difference changes it (SplitMix64 finaliser).
std::uint64_t tie_hash(std::uint32_t i, std::uint32_t j, float strength) {
  std::uint32_t bits = 0;
  std::memcpy(&bits, &strength, sizeof bits);
  std::uint64_t x = (static_cast<std::uint64_t>(std::min(i, j)) << 32 | std::max(i, j)) ^
                    (static_cast<std::uint64_t>(bits) * 0x9e3779b97f4a7c15ULL);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Every tie listed by both parties with the same strength in (0,1], no self ties, no row above
// max_degree. Ties must be mutual with equal strengths. Looking each tie up in the friend's row
// costs a random memory access per tie, so the daily pass reads residents' own rows only: every
// listed tie (i, j, strength) is hashed symmetrically and XOR-ed in, and mutual equal ties
// cancel in pairs. Only when something does not cancel is the friend's row searched, to name
// the tie.
void FriendshipsMechanism::check_invariants(const InvariantContext& c) const {
  const Friendships& f = friendships_;
  if (!f.enabled()) return;
  const std::size_t n = c.residents.size();
  std::uint64_t unmatched = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    if (f.degree(i) > f.max_degree())
      throw InvariantError(c.day, "at most max_degree friends", c.resident(i), std::to_string(f.degree(i)));
    for (const std::uint32_t j : f.friends_of(i)) {
      if (j >= n || j == i)
        throw InvariantError(c.day, "friends are other residents", c.resident(i), "friend " + std::to_string(j));
      const float strength = f.tie_strength(i, j);
      if (!(strength > 0.0f && strength <= 1.0f))
        throw InvariantError(c.day, "tie strength in (0,1]", c.resident(i) + " with resident " + std::to_string(j),
                             number_text(strength));
      unmatched ^= tie_hash(i, j, strength);
    }
  }
  if (unmatched != 0) name_unmatched_tie(c);
}

void FriendshipsMechanism::name_unmatched_tie(const InvariantContext& c) const {
  const Friendships& f = friendships_;
  for (std::uint32_t i = 0; i < c.residents.size(); ++i)
    for (const std::uint32_t j : f.friends_of(i)) {
      const auto theirs = f.friends_of(j);
      if (std::find(theirs.begin(), theirs.end(), i) == theirs.end())
        throw InvariantError(c.day, "friendship listed by both parties",
                             c.resident(i) + " lists resident " + std::to_string(j), "not listed back");
      if (f.tie_strength(j, i) != f.tie_strength(i, j))
        throw InvariantError(c.day, "both sides of a tie equally strong",
                             c.resident(i) + " with resident " + std::to_string(j),
                             number_text(f.tie_strength(i, j)) + " vs " + number_text(f.tie_strength(j, i)));
    }
  // Every tie has its mirror, yet they do not cancel: some tie is listed twice in a row.
  throw InvariantError(c.day, "each friendship listed once by each party", "friend lists", "a tie listed twice");
}

}  // namespace

MechanismEntry friendships_mechanism() {
  return {"friendships", {}, {{kFriendSeedVenue, kFriendSeedBlock}},
          [](const MechanismReading& r) -> std::shared_ptr<const MechanismConfig> {
            auto config = read_settings_of<FriendshipsConfig>(r);
            if (config->settings.params.ingroup_friends > config->settings.params.max_degree)
              r.fail_table("friendships", "expected ingroup_friends <= max_degree");
            return config;
          },
          describe_settings<FriendshipsConfig>,
          build_when_enabled<FriendshipsMechanism, FriendshipsConfig>,
          3};
}

}  // namespace contactsim
