#pragma once
// Encounters (DESIGN §3.4–3.6): inside each session every attendee starts k ~ Poisson(λ_type)
// encounters with co-attendees; with probability h_type the partner is re-drawn from the
// attendee's own group (when another member of it is present). An intergroup encounter is then
// experienced by each party as positive or negative (valence.hpp) and moves both parties'
// attitudes (attitude.hpp).
//
// Only intergroup encounters change anything in this model, so they are sampled directly by
// Poisson thinning: an attendee of group g in a session of n with n_g of its own group meets an
// outgroup partner with probability p_out = (1−h)·(n−n_g)/(n−1) (or (n−n_g)/(n−1) when it is the
// only member of its group), so its intergroup encounters are Poisson(λ·p_out) with partners
// uniform over the outgroup attendees — exactly the same distribution, without drawing the
// in-group encounters that change nothing. And since a sum of independent Poissons is Poisson,
// the n_g members' intergroup encounters are drawn as one Poisson(n_g·λ·p_out) total, each
// started by a uniformly chosen member: the cost follows the encounters, not the attendees.
//
// Sessions of one slot have disjoint attendees, so they run in parallel without locks; each
// attendee's draws come from its own keyed stream, so results do not depend on thread count.
#include "models/city/encounters_params.hpp"  // generated from encounters.params.toml: EncounterParams, kEncounterParams
#include "models/mechanisms/mechanism.hpp"
#include "core/params.hpp"
#include "core/rng.hpp"
#include "core/scheduler.hpp"
#include "models/mechanisms/attendance.hpp"
#include "models/city/attitude.hpp"
#include "models/city/state.hpp"
#include "models/city/valence.hpp"
#include "models/city/venue_types.hpp"

#include <array>
#include <functional>
#include <span>
#include <vector>

namespace contactsim {

using EncounterSettings = MechanismSwitch<EncounterParams>;

// What every encounter needs from the rest of the model: the valence and attitude rules, and
// optional hooks other mechanisms install (tension lowers p+; friendships grow from positive
// encounters in stable settings). Shared by venue sessions and by programmes' own sessions.
struct EncounterRules {
  MechanismSwitch<ValenceParams> valence;
  MechanismSwitch<AttitudeParams> attitude;
  std::array<float, kNumAgeBands> plasticity{};
  // Called for every intergroup encounter both parties experienced as positive, with whether
  // the setting is stable (friendships form there; elsewhere existing ties are only renewed).
  // Must touch only the two residents' own state (sessions run in parallel).
  std::function<void(std::uint32_t, std::uint32_t, bool)> on_positive;
  // Starts loading a party's state kept by other mechanisms (friend rows), ahead of on_positive,
  // given whether the setting is stable (what on_positive will read depends on it).
  std::function<void(std::uint32_t, bool)> prefetch;
  // Tension of each ward (the experiencer's home ward), or null when there is none.
  const float* ward_tension = nullptr;

  EncounterRules(const MechanismSwitch<ValenceParams>& v, const MechanismSwitch<AttitudeParams>& a)
      : valence(v), attitude(a), plasticity(plasticity_by_age_band(a.params)) {}
};

// Where an encounter session happens and what contact there is like.
struct ContactSetting {
  double encounters = 0;  // λ per attendee
  double homophily = 0;   // h
  double quality = 0.5;   // q
  float depth = 0.5f;     // w
  int venue_type = 0;     // column of the contact tallies
  bool stable = false;    // a regular group (class, team, congregation) where friendships form
};

// Intergroup contacts counted by one thread: cells as in ContactTally.
struct ContactCounts {
  std::vector<std::int64_t> positive, negative, ingroup_milli, pair_positive, pair_negative;
  std::int64_t encounters = 0;
  void resize_like(const ContactTally& t) {
    positive.assign(t.positive.size(), 0);
    negative.assign(t.negative.size(), 0);
    ingroup_milli.assign(t.ingroup_milli.size(), 0);
    pair_positive.assign(t.pair_positive.size(), 0);
    pair_negative.assign(t.pair_negative.size(), 0);
  }
  void add_to(ContactTally& t);  // and clear
};

// One session's intergroup encounters. `members` are the attendees sorted by group, group g's
// slice being [group_begin[g], group_begin[g+1]). Random numbers come from the stream keyed by
// (entity, day, purpose + g) — entity is the session's id (venue, team, …) and must be unique
// among sessions sharing a purpose on a day.
// Puts a session's attendees in the order run_encounter_session takes them — by group, stably,
// so each group keeps the order it was given in — and returns each group's first position,
// then members.size(): entries [0, num_groups] are the session's group_begin.
using GroupOffsets = std::array<std::uint32_t, kMaxGroups + 1>;
GroupOffsets sort_by_group(const Residents& residents, std::span<std::uint32_t> members);

void run_encounter_session(const EncounterRules& rules, const ContactSetting& setting, Residents& residents,
                           const ContactTally& layout, std::span<const std::uint32_t> members,
                           std::span<const std::uint32_t> group_begin, StreamKey key, std::uint32_t entity,
                           std::uint32_t day, Purpose purpose, ContactCounts& counts);

class EncountersPhase final : public Phase {
 public:
  EncountersPhase(const EncounterSettings& settings, const EncounterRules& rules, const std::vector<VenueType>& types,
                  const Venues& venues, Residents& residents, const DailySessions& sessions, ContactTally& tally,
                  StreamKey key);
  const char* name() const override { return "encounters"; }
  void run(const Day& day) override;
  // Only the encounter counter: contacts go to the tally, which metrics saves.
  void save(StateWriter& out) const override;
  void restore(const StateReader& in) override;

  // Intergroup encounters sampled since construction (for benchmark counters).
  std::int64_t intergroup_encounters() const { return encounters_; }

 private:
  void run_session(const Day& day, int slot, std::int32_t venue, ContactCounts& counts);

  bool enabled_;
  double intensity_;
  const EncounterRules& rules_;
  const std::vector<VenueType>& types_;
  const Venues& venues_;
  Residents& residents_;
  const DailySessions& sessions_;
  ContactTally& tally_;
  StreamKey key_;
  std::vector<ContactCounts> thread_counts_;
  std::int64_t encounters_ = 0;
};

// The everyday encounters at venue sessions, as a registry entry.
MechanismEntry encounters_mechanism();

}  // namespace contactsim
