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
#include "core/params.hpp"
#include "core/rng.hpp"
#include "core/scheduler.hpp"
#include "models/attendance.hpp"
#include "models/attitude.hpp"
#include "models/state.hpp"
#include "models/valence.hpp"
#include "models/venue_types.hpp"

#include <array>
#include <span>
#include <vector>

namespace contactsim {

struct EncounterParams {
  double intensity;
};

inline constexpr std::array<ParamSpec<EncounterParams>, 1> kEncounterParams{{
    {"intensity", &EncounterParams::intensity, 1.0, 0, 100, "multiplier",
     "Scales every venue type's encounter rate λ at once (sensitivity analysis); 1 = as stated "
     "per venue type"},
}};

using EncounterSettings = MechanismSwitch<EncounterParams>;

class EncountersPhase final : public Phase {
 public:
  EncountersPhase(const EncounterSettings& settings, const MechanismSwitch<ValenceParams>& valence,
                  const MechanismSwitch<AttitudeParams>& attitude, const std::vector<VenueType>& types,
                  const Venues& venues, Residents& residents, const DailySessions& sessions, ContactTally& tally,
                  StreamKey key);
  const char* name() const override { return "encounters"; }
  void run(const Day& day) override;

  // Intergroup encounters sampled since construction (for benchmark counters).
  std::int64_t intergroup_encounters() const { return encounters_; }

 private:
  struct ThreadTally {
    std::vector<std::int64_t> positive, negative;
    std::int64_t encounters = 0;
  };
  void run_session(const Day& day, int slot, std::int32_t venue, ThreadTally& tally);
  void prefetch_party(std::uint32_t resident) const;
  // Resident `self`'s experience of an encounter with a member of `partner_group`.
  void experience(std::uint32_t self, int partner_group, float min_english, double quality, float depth,
                  int venue_type, RandomStream& rng, ThreadTally& tally);

  bool enabled_;
  double intensity_;
  MechanismSwitch<ValenceParams> valence_;
  MechanismSwitch<AttitudeParams> attitude_;
  std::array<float, kNumAgeBands> plasticity_;
  const std::vector<VenueType>& types_;
  const Venues& venues_;
  Residents& residents_;
  const DailySessions& sessions_;
  ContactTally& tally_;
  StreamKey key_;
  std::vector<ThreadTally> thread_tallies_;
  std::int64_t encounters_ = 0;
};

}  // namespace contactsim
