#pragma once
// Participatory community arts groups (British Academy 2017, ch. 7 "Community connectedness
// through the arts", Abrams & Van de Vyver: People United's "Best of Us" in Newington, where an
// artist-in-residence ran an intergenerational group that met weekly to co-create art work and
// programme a yearly community celebration). A programme here runs such groups in chosen wards for a
// period: residents are recruited with an appeal that may differ by group, the groups are mixed
// on purpose, and they meet weekly around a shared creative goal — most of Allport's (1954)
// conditions (equal status as makers, cooperation, a common goal, institutional support).
//
// Timeline item:
//   [[timeline]]
//   kind = "arts_programme"
//   start = 2021-04-07          # first session, within the run
//   end = 2022-03-30            # last day of sessions (on or after start; may pass the run's end)
//   wards = ["Hanley Park and Shelton"]
//   groups_per_ward = 2         # real groups per ward (× population.scale, at least 1)
//   group_size = 15             # members per group (2–100; a group is a social unit, not scaled)
//   appeal = { asian = 1.5 }    # optional: relative appeal by group (default 1; 0 = not reached)
//   label = "Shelton arts"      # optional, for /events
//
// Runtime, per programme:
// - On its start day each ward's groups are filled: every resident aged 11+ of the ward who is
//   not already in an arts group gets a keyed priority u^(1/weight) (weighted sampling without
//   replacement, Efraimidis & Spirakis 2006; stream entity = resident, day word = programme
//   index, purpose kArtsRecruit) with weight = appeal(group) × (1 − anxiety_deterrence · X):
//   anxious residents volunteer less (intergroup anxiety deters contact, Stephan & Stephan 1985).
//   The highest priorities join; recruits are dealt to the ward's groups in turn, by group, so
//   every group is as mixed as the recruits allow (facilitators mix groups on purpose).
// - Every 7th day from the start, each group meets: an encounter session among its members
//   (the shared contact rules, the programme's contact setting, stable: friendships form).
//   Members drop out with the daily hazard of monthly_dropout (purpose kArtsDropout).
// - The day after `end` the groups disband.
// Link published: "arts_joined" (const std::vector<std::int32_t>): per resident, the day index
// they joined a group, −1 for never (for evaluations: participants against matched others).
#include "models/mechanisms/arts_params.hpp"  // generated from arts.params.toml: ArtsParams, kArtsParams
#include "core/calendar.hpp"
#include "core/config.hpp"
#include "core/params.hpp"
#include "models/mechanisms/mechanism.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace contactsim {

using ArtsSettings = MechanismSwitch<ArtsParams>;

struct ArtsProgramme {
  Date start, end;              // end: last day of sessions (inclusive)
  std::vector<int> wards;       // ward indexes
  int groups_per_ward = 1;      // simulated groups (already × population.scale, at least 1)
  int group_size = 15;
  std::vector<double> appeal;   // per group
  std::string label;
};

// Reads one [[timeline]] item of kind "arts_programme". Throws ConfigError naming the key for: a
// start outside the run, an end before the start, no or unknown wards, group_size outside
// [2, 100], groups_per_ward outside [1, 1000], an unknown group or negative appeal, or no group
// with a positive appeal.
ArtsProgramme read_arts_programme(const ConfigTable& item, Date start, Date end, const std::vector<std::string>& groups,
                                  const std::vector<std::string>& wards, double population_scale);

struct MechanismEntry;
MechanismEntry arts_mechanism();

}  // namespace contactsim
