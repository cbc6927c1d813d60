#include "models/run/invariants.hpp"
#include "core/text.hpp"
#include "models/city/world.hpp"
#include "models/run/scenario.hpp"

#include <algorithm>
#include <cmath>

namespace contactsim {

bool invariants_checked_by_default() {
#ifdef CONTACTSIM_CHECKED
  return true;
#else
  return false;
#endif
}

InvariantChecker::InvariantChecker(InvariantInputs inputs) : in_(std::move(inputs)) {}

std::vector<std::int64_t> InvariantChecker::population_by_ward_group() const {
  const Residents& r = in_.residents;
  const std::size_t groups = static_cast<std::size_t>(r.num_groups);
  std::vector<std::int64_t> counts(in_.ward_names.size() * groups, 0);
  for (std::size_t i = 0; i < r.size(); ++i)
    if (r.ward[i] < in_.ward_names.size() && r.group[i] < groups) ++counts[r.ward[i] * groups + r.group[i]];
  return counts;
}

void InvariantChecker::before_day() {
  population_before_ = population_by_ward_group();
  for (Mechanism* m : in_.mechanisms) m->before_day_checks();
}

void InvariantChecker::after_day(const Day& day) const {
  const InvariantContext context{day.date, in_.residents, in_.group_names, in_.ward_names};
  // Structure first: later checks index arrays by group, ward and block.
  check_residents(context, day.index);
  check_sessions(context);
  check_population(context);
  check_venues(context);
  for (const Mechanism* m : in_.mechanisms) m->check_invariants(context);
}

void InvariantChecker::check_residents(const InvariantContext& c, std::int32_t day_index) const {
  const Residents& r = in_.residents;
  const std::size_t groups = static_cast<std::size_t>(r.num_groups);
  for_each_field(r, [&](const auto& field, const auto& values) {
    const std::size_t width = field.values_per_resident(r);
    if (values.size() != r.size() * width)
      throw InvariantError(c.day, "each resident array holds residents × its width values", field.name,
                           std::to_string(values.size()) + " values for " + std::to_string(r.size()) + " residents × " +
                               std::to_string(width));
  });
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r.group[i] >= groups)
      throw InvariantError(c.day, "group in range", "resident " + std::to_string(i), std::to_string(r.group[i]));
    if (r.ward[i] >= in_.ward_names.size())
      throw InvariantError(c.day, "ward in range", c.resident(i), std::to_string(r.ward[i]));
    if (r.age_band[i] >= kNumAgeBands)
      throw InvariantError(c.day, "age band in range", c.resident(i), std::to_string(r.age_band[i]));
    if (r.block[i] >= in_.block_ward.size())
      throw InvariantError(c.day, "block in range", c.resident(i), std::to_string(r.block[i]));
    if (in_.block_ward[r.block[i]] != r.ward[i])
      throw InvariantError(c.day, "ward is the ward of the resident's block", c.resident(i),
                           "block " + std::to_string(r.block[i]) + " in ward " +
                               in_quotes(in_.ward_names.at(in_.block_ward[r.block[i]])));
    const float* warmth = r.warmth_of(i);
    for (std::size_t g = 0; g < groups; ++g)
      if (!in_unit_interval(warmth[g]))
        throw InvariantError(c.day, "warmth in [0,1]", c.resident(i) + " toward " + in_quotes(in_.group_names.at(g)),
                             number_text(warmth[g]));
    if (!in_unit_interval(r.anxiety[i]))
      throw InvariantError(c.day, "anxiety in [0,1]", c.resident(i), number_text(r.anxiety[i]));
    if (!in_unit_interval(r.english[i]))
      throw InvariantError(c.day, "English in [0,1]", c.resident(i), number_text(r.english[i]));
    if (!(r.positive_memory[i] >= 0.0f) || !std::isfinite(r.positive_memory[i]))
      throw InvariantError(c.day, "positive memory finite and >= 0", c.resident(i), number_text(r.positive_memory[i]));
    if (!(r.negative_memory[i] >= 0.0f) || !std::isfinite(r.negative_memory[i]))
      throw InvariantError(c.day, "negative memory finite and >= 0", c.resident(i), number_text(r.negative_memory[i]));
    if (!std::isfinite(r.disposition[i]))
      throw InvariantError(c.day, "disposition finite", c.resident(i), number_text(r.disposition[i]));
    if (r.last_intergroup_contact[i] < -1 || r.last_intergroup_contact[i] > day_index)
      throw InvariantError(
          c.day, "last intergroup contact between -1 (none) and today (day " + std::to_string(day_index) + ")",
          c.resident(i), std::to_string(r.last_intergroup_contact[i]));
  }
}

// Sessions of one slot have disjoint attendees: the encounters phase runs them in parallel
// without locks on that promise.
void InvariantChecker::check_sessions(const InvariantContext& c) const {
  if (!in_.sessions) return;
  const Residents& r = in_.residents;
  const Venues& v = in_.venues;
  std::vector<std::uint8_t> seen(r.size());
  for (int s = 0; s < kNumSlots; ++s) {
    const std::vector<std::int32_t>& venue_of = in_.sessions->venue_of[s];
    const SessionIndex& index = in_.sessions->index[s];
    const std::string slot = std::string(" in the ") + kSlotNames[s] + " slot";
    if (venue_of.size() != r.size())
      throw InvariantError(c.day, "one venue_of entry per resident" + slot, "venue_of",
                           std::to_string(venue_of.size()));
    std::fill(seen.begin(), seen.end(), 0);
    std::size_t listed = 0;
    for (std::int32_t venue = 0; venue < index.num_venues(); ++venue) {
      const auto members = index.members(venue);
      if (v.session_capacity.size() == v.size() && v.session_capacity[venue] > 0 &&
          members.size() > static_cast<std::size_t>(v.session_capacity[venue]))
        throw InvariantError(c.day, "session within capacity" + slot,
                             "venue " + std::to_string(venue) + " " + in_quotes(v.name.at(venue)) + " (capacity " +
                                 std::to_string(v.session_capacity[venue]) + ")",
                             std::to_string(members.size()) + " attendees");
      for (const std::uint32_t i : members) {
        if (i >= r.size())
          throw InvariantError(c.day, "session attendees are residents" + slot, "venue " + std::to_string(venue),
                               std::to_string(i));
        const std::string invariant = "one session per resident per slot (index and venue_of agree)" + slot;
        if (seen[i])
          throw InvariantError(c.day, invariant, c.resident(i),
                               "listed twice in the index, again in the session of venue " + std::to_string(venue));
        seen[i] = 1;
        if (venue_of[i] == SessionIndex::kNone)
          throw InvariantError(c.day, invariant, c.resident(i),
                               "in the session of venue " + std::to_string(venue) + " but, by venue_of, at none");
        if (venue_of[i] != venue)
          throw InvariantError(c.day, invariant, c.resident(i),
                               "in the session of venue " + std::to_string(venue) + " and, by venue_of, of venue " +
                                   std::to_string(venue_of[i]));
        ++listed;
      }
    }
    std::size_t attending = 0;
    for (std::size_t i = 0; i < r.size(); ++i) {
      const std::int32_t venue = venue_of[i];
      if (venue == SessionIndex::kNone) continue;
      ++attending;
      if (venue < 0 || static_cast<std::size_t>(venue) >= v.size() || !seen[i])
        throw InvariantError(c.day, "every attendee in the session index" + slot, c.resident(i),
                             "venue_of " + std::to_string(venue));
      if (static_cast<int>(in_.venue_types.at(v.type[venue]).slot) != s)
        throw InvariantError(
            c.day, "attended venue belongs to the slot" + slot, c.resident(i),
            "venue " + std::to_string(venue) + " of type " + in_quotes(in_.venue_types[v.type[venue]].name));
    }
    if (attending != listed)
      throw InvariantError(c.day, "session index lists every attendee" + slot, "index",
                           std::to_string(listed) + " listed, " + std::to_string(attending) + " attending");
  }
}

// Nobody appears or vanishes unaccounted for: each (ward, group) changes exactly by mobility's
// counted events of the day (mobility's, when it runs).
void InvariantChecker::check_population(const InvariantContext& c) const {
  if (population_before_.empty()) return;  // before_day was not called
  const std::vector<std::int64_t> now = population_by_ward_group();
  const std::size_t groups = static_cast<std::size_t>(in_.residents.num_groups);
  PopulationChanges changes(now.size());
  for (const Mechanism* m : in_.mechanisms) m->count_population_changes(changes);
  for (std::size_t cell = 0; cell < now.size(); ++cell) {
    const std::int64_t births = changes.births[cell], deaths = changes.deaths[cell];
    const std::int64_t arrivals = changes.arrivals[cell], departures = changes.departures[cell];
    const std::int64_t moved_in = changes.moves_in[cell], moved_out = changes.moves_out[cell];
    const std::int64_t expected =
        population_before_[cell] + births - deaths + arrivals - departures + moved_in - moved_out;
    if (now[cell] != expected)
      throw InvariantError(
          c.day, "population = previous + births - deaths + arrivals - departures + moves in - moves out",
          c.ward(cell / groups) + ", group " + in_quotes(in_.group_names.at(cell % groups)),
          std::to_string(now[cell]) + " residents, expected " + std::to_string(expected) + " = " +
              std::to_string(population_before_[cell]) + " + " + std::to_string(births) + " - " +
              std::to_string(deaths) + " + " + std::to_string(arrivals) + " - " + std::to_string(departures) + " + " +
              std::to_string(moved_in) + " - " + std::to_string(moved_out));
  }
}

void InvariantChecker::check_venues(const InvariantContext& c) const {
  const Venues& v = in_.venues;
  const Residents& r = in_.residents;
  auto venue = [&](std::size_t k) { return "venue " + std::to_string(k) + " " + in_quotes(v.name.at(k)); };
  for (std::size_t k = 0; k < v.size(); ++k) {
    if (!(v.budget[k] >= 0) || !std::isfinite(v.budget[k]))
      throw InvariantError(c.day, "budget finite and >= 0", venue(k), number_text(v.budget[k]));
    if (!(v.budget_full[k] >= 0) || !std::isfinite(v.budget_full[k]))
      throw InvariantError(c.day, "budget needed finite and >= 0", venue(k), number_text(v.budget_full[k]));
    if (!in_unit_interval(v.operating_level[k]))
      throw InvariantError(c.day, "operating level in [0,1]", venue(k), number_text(v.operating_level[k]));
    if (!(v.quality_factor[k] >= 0.0f) || !std::isfinite(v.quality_factor[k]))
      throw InvariantError(c.day, "quality factor finite and >= 0", venue(k), number_text(v.quality_factor[k]));
    if (v.session_capacity[k] < 0)
      throw InvariantError(c.day, "session capacity >= 0", venue(k), std::to_string(v.session_capacity[k]));
  }
  // Memberships: each points at a venue of its own type, and the venues' member counts and
  // group shares (which attendance reads every day) agree with them.
  const std::size_t groups = static_cast<std::size_t>(r.num_groups);
  const int types = r.num_venue_types;
  std::vector<std::uint32_t> by_group(v.size() * groups, 0);
  for (std::size_t i = 0; i < r.size(); ++i)
    for (int t = 0; t < types; ++t) {
      const std::int32_t k = r.member_venue(i, t);
      if (k < 0) continue;
      if (static_cast<std::size_t>(k) >= v.size() || v.type[k] != t)
        throw InvariantError(c.day,
                             "membership of type " + in_quotes(in_.venue_types.at(t).name) + " is a venue of that type",
                             c.resident(i), "venue " + std::to_string(k));
      ++by_group[static_cast<std::size_t>(k) * groups + r.group[i]];
    }
  for (std::size_t k = 0; k < v.size(); ++k) {
    std::uint32_t members = 0;
    for (std::size_t g = 0; g < groups; ++g) members += by_group[k * groups + g];
    if (v.members[k] != members)
      throw InvariantError(c.day, "venue members match the residents' memberships", venue(k),
                           std::to_string(v.members[k]) + " kept, " + std::to_string(members) + " members");
    for (std::size_t g = 0; g < groups && members > 0; ++g) {
      const double share = static_cast<double>(by_group[k * groups + g]) / members;
      if (std::abs(v.member_group_share[k * groups + g] - share) > 1e-5)
        throw InvariantError(
            c.day, "member group share matches the residents' memberships",
            venue(k) + ", group " + in_quotes(in_.group_names.at(g)),
            number_text(v.member_group_share[k * groups + g]) + " kept, " + number_text(share) + " actual");
    }
  }
}

InvariantChecker::InvariantChecker(const World& world, const Scenario& scenario, const Links& links,
                                   std::vector<Mechanism*> mechanisms)
    : InvariantChecker(InvariantInputs{world.residents, world.venues, world.block_ward, scenario.venue_types,
                                       links.find<const DailySessions>("daily_sessions"), std::move(mechanisms),
                                       scenario.group_names(), scenario.ward_names()}) {}

}  // namespace contactsim
