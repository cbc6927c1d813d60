#pragma once
#include "core/links.hpp"
// Invariants of the simulated world, checked after every day in a checked build (CMake
// CONTACTSIM_CHECKED=ON) or on request in any build (`contactsim run --check-invariants`,
// Python `Simulation(..., check_invariants=True)`, RunOptions::check_invariants).
//
// What must hold at the end of every day, whatever the mechanisms did:
// - agents: every array of the field list (state.hpp) holds residents × its width values;
//   warmth, anxiety and English in [0,1]; encounter memories >= 0; dispositions and
//   every other float finite; group, age band, ward and block in range; a resident's ward is
//   its block's ward; the last intergroup contact is not in the future;
// - attendance: per slot, every resident appears at most once in the day's session index and
//   only at the venue `venue_of` names, the venue is of a type of that slot, every attendee
//   is in the index, and no session holds more than its capacity;
// - population: per (ward, group), today's residents = yesterday's + births − deaths +
//   arrivals − departures + moves in − moves out (as the mechanisms counted them,
//   Mechanism::count_population_changes);
// - venues: budgets and budgets needed >= 0 and finite, operating level and quality in range,
//   members and member group shares match the residents' memberships;
// - every mechanism's own invariants (Mechanism::check_invariants, in the mechanism's file:
//   mobility's block counts, tension's ranges, friendships' mutual ties, ...).
// A violation throws InvariantError (models/city/invariant_error.hpp) naming the day, the
// invariant, the agent (or ward, venue, block) and the offending value. The checks are O(residents × (groups + venue
// types + friends)) a day: a few percent of a day's simulation, paid only when asked for.
#include "core/calendar.hpp"
#include "core/scheduler.hpp"
#include "models/city/invariant_error.hpp"
#include "models/city/state.hpp"
#include "models/mechanisms/attendance.hpp"
#include "models/mechanisms/mechanism.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace contactsim {

struct World;
struct Scenario;

// Whether this build checks invariants in every run without being asked (CONTACTSIM_CHECKED).
bool invariants_checked_by_default();

// The state the checks read.
struct InvariantInputs {
  const Residents& residents;
  const Venues& venues;
  const std::vector<std::uint16_t>& block_ward;
  const std::vector<VenueType>& venue_types;
  // Today's attendance; null when the attendance mechanism is off. Checked here, not by
  // attendance: sessions are the city's contact rule (the encounters phase, which runs each
  // slot's sessions in parallel, relies on it), whoever fills them.
  const DailySessions* sessions = nullptr;
  std::vector<Mechanism*> mechanisms;           // the run's, each checking its own state
  std::vector<std::string> group_names;         // for messages
  std::vector<std::string> ward_names;
};

class InvariantChecker {
 public:
  explicit InvariantChecker(InvariantInputs inputs);
  // The checks of `world` and of the run's `mechanisms`, with the day's sessions the run's
  // links offer ("daily_sessions"; not checked when absent).
  InvariantChecker(const World& world, const Scenario& scenario, const Links& links,
                   std::vector<Mechanism*> mechanisms);

  // Before the day's phases: remembers the population per (ward, group), and has every
  // mechanism remember what its checks compare against (Mechanism::before_day_checks).
  void before_day();
  // After every phase of `day`: throws InvariantError for the first violation found.
  void after_day(const Day& day) const;

 private:
  void check_residents(const InvariantContext& c, std::int32_t day_index) const;
  void check_sessions(const InvariantContext& c) const;
  void check_population(const InvariantContext& c) const;
  void check_venues(const InvariantContext& c) const;
  std::vector<std::int64_t> population_by_ward_group() const;

  InvariantInputs in_;
  std::vector<std::int64_t> population_before_;  // ward × groups + group
};

}  // namespace contactsim
