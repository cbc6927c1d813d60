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
//   arrivals − departures + moves in − moves out (mobility's counts); block occupancy and
//   block-by-group counts (mobility's) match where residents live;
// - venues: budgets and budgets needed >= 0 and finite, operating level and quality in range,
//   members and member group shares match the residents' memberships;
// - tension: ward tension and safety, residents' knowledge and trust in [0,1];
// - friendships: every tie listed by both parties with the same strength in (0,1], no self
//   ties, no row above max_degree.
// A violation throws InvariantError naming the day, the invariant, the agent (or ward, venue,
// block) and the offending value. The checks are O(residents × (groups + venue types +
// friends)) a day: a few percent of a day's simulation, paid only when asked for.
#include "core/calendar.hpp"
#include "core/scheduler.hpp"
#include "models/mechanisms/attendance.hpp"
#include "models/mechanisms/friendships.hpp"
#include "models/mechanisms/mobility.hpp"
#include "models/city/state.hpp"
#include "models/mechanisms/tension.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace contactsim {

struct World;
struct Scenario;

class InvariantError : public std::runtime_error {
 public:
  InvariantError(Date day, std::string invariant, std::string subject, std::string value);
  Date day() const { return day_; }
  const std::string& invariant() const { return invariant_; }  // e.g. "warmth in [0,1]"
  const std::string& subject() const { return subject_; }      // e.g. "resident 17 (ward …, group …)"
  const std::string& value() const { return value_; }          // the offending value, as text

 private:
  Date day_;
  std::string invariant_;
  std::string subject_;
  std::string value_;
};

// Whether this build checks invariants in every run without being asked (CONTACTSIM_CHECKED).
bool invariants_checked_by_default();

// The state the checks read. Optional mechanisms are null when switched off.
struct InvariantInputs {
  const Residents& residents;
  const Venues& venues;
  const std::vector<std::uint16_t>& block_ward;
  const std::vector<VenueType>& venue_types;
  const DailySessions* sessions = nullptr;      // today's attendance
  const TensionState* tension = nullptr;
  const Friendships* friendships = nullptr;
  const MobilityPhase* mobility = nullptr;
  std::vector<std::string> group_names;         // for messages
  std::vector<std::string> ward_names;
};

class InvariantChecker {
 public:
  explicit InvariantChecker(InvariantInputs inputs);
  // The checks of `world`, with the mechanism state the run's links offer ("daily_sessions",
  // "tension", "friendships", "mobility"; absent ones are not checked).
  InvariantChecker(const World& world, const Scenario& scenario, const Links& links);

  // Before the day's phases: remembers the population per (ward, group) and mobility's counts
  // so far, against which after_day balances the day's changes.
  void before_day();
  // After every phase of `day`: throws InvariantError for the first violation found.
  void after_day(const Day& day) const;

 private:
  void check_residents(Date day, std::int32_t day_index) const;
  void check_sessions(Date day) const;
  void check_population(Date day) const;
  void check_blocks(Date day) const;
  void check_venues(Date day) const;
  void check_tension(Date day) const;
  void check_friendships(Date day) const;
  [[noreturn]] void name_unmatched_tie(Date day) const;
  std::vector<std::int64_t> population_by_ward_group() const;
  std::string resident(std::size_t i) const;

  InvariantInputs in_;
  std::vector<std::int64_t> population_before_;  // ward × groups + group
  MobilityCounts counts_before_;
};

}  // namespace contactsim
