#pragma once
// Friendships (DESIGN §3.7): repeated positive encounters in stable venues (class, workplace,
// regular group) turn acquaintances into friends; cross-group friends raise warmth every day
// (the strongest form of contact); an in-group friend's cross-group friendship raises warmth a
// little (extended contact, Wright et al. 1997); ties that are not renewed by meeting fade and
// finally dissolve.
//
// Storage is pre-allocated at construction (OpenABM style), one fixed-width row per resident:
//   friend_id_   N×K  friend's resident id, kNone in unused slots
//   strength_    N×K  tie strength in (0,1]: 1 when renewed, halving every half_life_days unused
//   acquaintance_id_/acquaintance_count_  N×A  people being got to know, positive stable-venue
//                      encounters with each so far
//   degree_        N  friends listed (the row's first degree_ slots; kNone after them)
//   ingroup_count_ N  how many leading slots hold seeded in-group friends
//   extended_mask_ N  scratch of the daily phase: bit h = an in-group friend has a friend in h
// Slots [0, ingroup_count) hold the seeded in-group friends, which never fade in this version
// (only intergroup encounters are simulated, so nothing could renew them); slots
// [ingroup_count, degree) hold friends made through contact, which are always cross-group
// (same-group pairs are ignored), so counting cross-group friends needs no group look-ups.
//
// Invariants after every FriendshipsPhase::run: every tie is listed by both parties with the
// same strength, and no row exceeds K friends. Both parties' strengths start equal (1) and decay
// by the same factor, so both sides reach the dissolution threshold at the same application and
// each row can drop its side alone, in parallel, and still stay mutual.
#include "models/mechanisms/friendships_params.hpp"  // generated from friendships.params.toml: FriendshipParams, kFriendshipParams
#include "models/mechanisms/mechanism.hpp"
#include "core/packed_records.hpp"
#include "core/params.hpp"
#include "core/rng.hpp"
#include "core/scheduler.hpp"
#include "models/city/attitude.hpp"
#include "models/city/state.hpp"

#include <array>
#include <cstdint>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

namespace contactsim {

using FriendshipSettings = MechanismSwitch<FriendshipParams>;

class Friendships {
 public:
  static constexpr std::uint32_t kNone = 0xffffffffu;
  static constexpr int kMaxSlots = 16;  // max_degree and acquaintance_slots bound

  // Allocates every row for residents.size() residents (nothing when the mechanism is off).
  // Throws std::invalid_argument if ingroup_friends exceeds max_degree. Keeps a reference to
  // `residents` for groups, blocks and memberships, which must outlive this object.
  Friendships(const Residents& residents, const FriendshipSettings& settings);
  Friendships(const Friendships&) = delete;
  Friendships& operator=(const Friendships&) = delete;

  // World build: gives each resident up to ingroup_friends mutual friends of their own group.
  // Scopes are the co-members of each venue type in `venue_types` (in order), then the block.
  // Each (place, group) bucket is shuffled by a keyed stream and laid out as a ring; round d
  // links every member to the one d places on (d = 1, 2, …), visiting all scopes in each
  // round, so a pupil gets school friends and neighbours rather than only school friends.
  // A link is skipped if either side already has ingroup_friends or they are already friends.
  // Requires that no ties exist yet (throws std::logic_error otherwise).
  void seed_ingroup(std::span<const int> venue_types, StreamKey key);

  // Encounters phase, for an intergroup encounter both parties experienced as positive
  // (same-group pairs are ignored).
  // Renews an existing friendship (any venue); in a stable venue counts toward befriending.
  // Touches only i's and j's rows: safe to call concurrently for disjoint pairs of residents.
  // When a full resident drops its weakest tie to make room, the dropped friend's own row is
  // left alone and repaired by the next FriendshipsPhase::run (see apply_pending_drops).
  void note_positive_encounter(std::uint32_t i, std::uint32_t j, bool stable_venue);
  // The same for a pair the caller knows to be of two groups (the encounters phase draws
  // partners from the other groups' slices), sparing two scattered loads of their groups.
  void note_positive_intergroup_encounter(std::uint32_t i, std::uint32_t j, bool stable_venue);
  // Forgets the previous occupants of re-used resident slots (mobility: someone left, a
  // newcomer arrived): their ties are removed on both sides and their acquaintances cleared.
  // Serial; call between days.
  void forget(std::span<const std::uint32_t> residents);
  // Starts loading the rows note_positive_encounter reads (for the encounters phase's batches):
  // the acquaintance rows only for a stable venue, the only place they are read.
  void prefetch(std::uint32_t i, bool stable_venue) const;

  bool enabled() const { return enabled_; }
  int max_degree() const { return k_; }
  int acquaintance_slots() const { return a_; }
  int degree(std::uint32_t i) const { return enabled_ ? degree_[i] : 0; }
  int ingroup_degree(std::uint32_t i) const { return enabled_ ? ingroup_count_[i] : 0; }
  std::span<const std::uint32_t> friends_of(std::uint32_t i) const;  // degree(i) ids
  bool are_friends(std::uint32_t i, std::uint32_t j) const;          // listed by both
  float tie_strength(std::uint32_t i, std::uint32_t j) const;        // i's side; 0 if none
  int acquaintance_count(std::uint32_t i, std::uint32_t j) const;    // i's count of j
  bool has_friend_in(std::uint32_t i, int group) const;
  int cross_group_friends(std::uint32_t i) const { return degree(i) - ingroup_degree(i); }
  // Share of residents with at least one cross-group friend, per (ward, group): index
  // ward × num_groups + group. Integer counts, so exact for any thread count.
  std::vector<double> cross_group_friendship_share(int wards) const;

  // Checkpoints: every tie, acquaintance and pending repair. Restoring needs the same
  // max_degree and acquaintance_slots (the rows' widths) and the same number of residents.
  void save(StateWriter& out) const;
  void restore(const StateReader& in);

  std::size_t bytes_per_resident() const;
  std::size_t bytes() const;
  std::size_t pending_drops() const { return pending_drops_.size(); }

 private:
  friend class FriendshipsPhase;

  void lay_out_rows(std::size_t residents);
  void remove_keeping_order(std::uint32_t i, int slot);
  int slot_of(std::uint32_t i, std::uint32_t j) const;
  int weakest_contact_slot(std::uint32_t i) const;
  bool has_room(std::uint32_t i, int existing_slot) const;
  int bump_acquaintance(std::uint32_t i, std::uint32_t j);
  void forget_acquaintance(std::uint32_t i, std::uint32_t j);
  void befriend_side(std::uint32_t i, std::uint32_t j, int existing_slot);
  void remove_slot(std::uint32_t i, int slot);
  bool add_seed_tie(std::uint32_t a, std::uint32_t b);
  // Removes half-ties left by drops since the last call. Serial; cheap (drops are rare).
  void apply_pending_drops();

  const Residents& residents_;
  bool enabled_;
  int k_ = 0;
  int a_ = 0;
  int ingroup_target_ = 0;
  std::uint16_t befriend_at_ = 0;
  float replace_below_ = 0;
  // A resident's rows, packed in one record (core/packed_records.hpp): an encounter's parties
  // are anywhere in the city, and their friend and acquaintance rows then arrive as one or two
  // adjacent cache lines instead of one line per array. Laid out by lay_out_rows.
  PackedRecords rows_;
  PackedColumn<std::uint32_t> friend_id_{rows_};           // K per resident
  PackedColumn<std::uint32_t> acquaintance_id_{rows_};     // A per resident
  PackedColumn<std::uint8_t> degree_{rows_};
  PackedColumn<std::uint8_t> ingroup_count_{rows_};
  PackedColumn<float> strength_{rows_};                     // K per resident
  PackedColumn<std::uint16_t> acquaintance_count_{rows_};  // A per resident
  std::vector<std::uint16_t> extended_mask_;
  // (holder, dropper): holder still lists dropper, who dropped it. Filled concurrently by the
  // encounters phase (order varies with threads; repairing is order-independent).
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pending_drops_;
  std::mutex pending_mutex_;
};

// Every day: repairs the ties left half-dropped by replacements (see note_positive_encounter).
// Every interval_days, for the days since the last application:
//   (1) each cross-group friend raises warmth toward its group by
//       eta_friend·plasticity·strength·(1−A) a day, while the tie fades by exp2(−1/half_life)
//       a day; a tie below dissolve_below is then dropped, on both sides;
//   (2) each outgroup in which an in-group friend had a friend during the interval raises
//       warmth by eta_extended·plasticity·(1−A) a day, once per outgroup.
// Every update scales 1−A by a factor, so an interval is applied as the product of its daily
// factors: equal to daily steps but for the order relative to other mechanisms' changes within
// the interval (and dissolution is checked at the interval's end).
//
// Parallel over residents and independent of the thread count: each resident writes only its
// own row and warmth, except that it ORs the groups of its cross-group friends into its
// in-group friends' extended_mask_ atomically — OR is commutative, so the masks do not depend
// on the order of the writes. Cost follows the ties, not the residents: only residents with a
// contact-made friend (a minority) read their rows; everyone else costs a look at two bytes.
class FriendshipsPhase final : public Phase {
 public:
  FriendshipsPhase(const FriendshipSettings& settings, const MechanismSwitch<AttitudeParams>& attitude,
                   Friendships& friendships, Residents& residents);
  const char* name() const override { return "friendships"; }
  void run(const Day& day) override;
  // The friendships themselves (the phase keeps nothing else: its interval runs on the day index).
  void save(StateWriter& out) const override { friendships_.save(out); }
  void restore(const StateReader& in) override { friendships_.restore(in); }

 private:
  static constexpr std::size_t kBlock = 512;  // residents listed at a time (one thread's unit)
  static constexpr int kRowsAhead = 16;          // prefetch distances, in listed residents
  static constexpr int kFriendsAhead = 8;

  void warm_from_friends_and_fade();
  void warm_from_friends_and_fade(std::uint32_t i);
  void prefetch_row(std::uint32_t i) const;
  void prefetch_friends(std::uint32_t i) const;
  void warm_from_extended_contact();
  float remaining_distance(float gain) const;

  bool enabled_;
  int interval_;              // days between applications of steps (1), (2) and fading
  float day_keep_;            // strength retained per day
  float keep_;                // strength retained per interval
  float dissolve_below_;
  std::array<float, kNumAgeBands> friend_rate_;    // eta_friend × plasticity, per day
  std::array<float, kNumAgeBands> extended_gain_;  // 1 − (1 − eta_extended × plasticity)^interval
  bool extended_on_;
  Friendships& friendships_;
  Residents& residents_;
};

MechanismEntry friendships_mechanism();

}  // namespace contactsim
