#include "models/run/invariants.hpp"
#include "core/text.hpp"
#include "models/city/world.hpp"
#include "models/run/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace contactsim {
namespace {

std::string number_text(double value) {
  char text[48];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

bool in_unit_interval(float value) { return value >= 0.0f && value <= 1.0f; }  // false for NaN

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

}  // namespace

InvariantError::InvariantError(Date day, std::string invariant, std::string subject, std::string value)
    : std::runtime_error("invariant violated on " + day.iso() + ": " + invariant + ": " + subject + " = " + value),
      day_(day),
      invariant_(std::move(invariant)),
      subject_(std::move(subject)),
      value_(std::move(value)) {}

bool invariants_checked_by_default() {
#ifdef CONTACTSIM_CHECKED
  return true;
#else
  return false;
#endif
}

InvariantChecker::InvariantChecker(InvariantInputs inputs) : in_(std::move(inputs)) {}

std::string InvariantChecker::resident(std::size_t i) const {
  const Residents& r = in_.residents;
  std::string out = "resident " + std::to_string(i);
  const bool ward_known = r.ward[i] < in_.ward_names.size();
  const bool group_known = r.group[i] < in_.group_names.size();
  if (ward_known || group_known)
    out += " (ward " + (ward_known ? in_quotes(in_.ward_names[r.ward[i]]) : std::to_string(r.ward[i])) + ", group " +
           (group_known ? in_quotes(in_.group_names[r.group[i]]) : std::to_string(r.group[i])) + ")";
  return out;
}

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
  if (in_.mobility) counts_before_ = in_.mobility->pending_counts();
}

void InvariantChecker::after_day(const Day& day) const {
  // Structure first: later checks index arrays by group, ward and block.
  check_residents(day.date, day.index);
  check_sessions(day.date);
  check_population(day.date);
  check_blocks(day.date);
  check_venues(day.date);
  check_tension(day.date);
  check_friendships(day.date);
}

void InvariantChecker::check_residents(Date day, std::int32_t day_index) const {
  const Residents& r = in_.residents;
  const std::size_t groups = static_cast<std::size_t>(r.num_groups);
  for_each_field(r, [&](const auto& field, const auto& values) {
    const std::size_t width = field.values_per_resident(r);
    if (values.size() != r.size() * width)
      throw InvariantError(day, "each resident array holds residents × its width values", field.name,
                           std::to_string(values.size()) + " values for " + std::to_string(r.size()) + " residents × " +
                               std::to_string(width));
  });
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r.group[i] >= groups)
      throw InvariantError(day, "group in range", "resident " + std::to_string(i), std::to_string(r.group[i]));
    if (r.ward[i] >= in_.ward_names.size())
      throw InvariantError(day, "ward in range", resident(i), std::to_string(r.ward[i]));
    if (r.age_band[i] >= kNumAgeBands)
      throw InvariantError(day, "age band in range", resident(i), std::to_string(r.age_band[i]));
    if (r.block[i] >= in_.block_ward.size())
      throw InvariantError(day, "block in range", resident(i), std::to_string(r.block[i]));
    if (in_.block_ward[r.block[i]] != r.ward[i])
      throw InvariantError(day, "ward is the ward of the resident's block", resident(i),
                           "block " + std::to_string(r.block[i]) + " in ward " +
                               in_quotes(in_.ward_names.at(in_.block_ward[r.block[i]])));
    const float* warmth = r.warmth_of(i);
    for (std::size_t g = 0; g < groups; ++g)
      if (!in_unit_interval(warmth[g]))
        throw InvariantError(day, "warmth in [0,1]", resident(i) + " toward " + in_quotes(in_.group_names.at(g)),
                             number_text(warmth[g]));
    if (!in_unit_interval(r.anxiety[i])) throw InvariantError(day, "anxiety in [0,1]", resident(i), number_text(r.anxiety[i]));
    if (!in_unit_interval(r.english[i])) throw InvariantError(day, "English in [0,1]", resident(i), number_text(r.english[i]));
    if (!(r.positive_memory[i] >= 0.0f) || !std::isfinite(r.positive_memory[i]))
      throw InvariantError(day, "positive memory finite and >= 0", resident(i), number_text(r.positive_memory[i]));
    if (!(r.negative_memory[i] >= 0.0f) || !std::isfinite(r.negative_memory[i]))
      throw InvariantError(day, "negative memory finite and >= 0", resident(i), number_text(r.negative_memory[i]));
    if (!std::isfinite(r.disposition[i]))
      throw InvariantError(day, "disposition finite", resident(i), number_text(r.disposition[i]));
    if (r.last_intergroup_contact[i] < -1 || r.last_intergroup_contact[i] > day_index)
      throw InvariantError(day, "last intergroup contact between -1 (none) and today (day " + std::to_string(day_index) + ")",
                           resident(i), std::to_string(r.last_intergroup_contact[i]));
  }
}

// Sessions of one slot have disjoint attendees: the encounters phase runs them in parallel
// without locks on that promise.
void InvariantChecker::check_sessions(Date day) const {
  if (!in_.sessions) return;
  const Residents& r = in_.residents;
  const Venues& v = in_.venues;
  std::vector<std::uint8_t> seen(r.size());
  for (int s = 0; s < kNumSlots; ++s) {
    const std::vector<std::int32_t>& venue_of = in_.sessions->venue_of[s];
    const SessionIndex& index = in_.sessions->index[s];
    const std::string slot = std::string(" in the ") + kSlotNames[s] + " slot";
    if (venue_of.size() != r.size())
      throw InvariantError(day, "one venue_of entry per resident" + slot, "venue_of", std::to_string(venue_of.size()));
    std::fill(seen.begin(), seen.end(), 0);
    std::size_t listed = 0;
    for (std::int32_t venue = 0; venue < index.num_venues(); ++venue) {
      const auto members = index.members(venue);
      if (v.session_capacity.size() == v.size() && v.session_capacity[venue] > 0 &&
          members.size() > static_cast<std::size_t>(v.session_capacity[venue]))
        throw InvariantError(day, "session within capacity" + slot, "venue " + std::to_string(venue) + " " +
                             in_quotes(v.name.at(venue)) + " (capacity " + std::to_string(v.session_capacity[venue]) + ")",
                             std::to_string(members.size()) + " attendees");
      for (const std::uint32_t i : members) {
        if (i >= r.size())
          throw InvariantError(day, "session attendees are residents" + slot, "venue " + std::to_string(venue),
                               std::to_string(i));
        const std::string invariant = "one session per resident per slot (index and venue_of agree)" + slot;
        if (seen[i])
          throw InvariantError(day, invariant, resident(i),
                               "listed twice in the index, again in the session of venue " + std::to_string(venue));
        seen[i] = 1;
        if (venue_of[i] == SessionIndex::kNone)
          throw InvariantError(day, invariant, resident(i),
                               "in the session of venue " + std::to_string(venue) + " but, by venue_of, at none");
        if (venue_of[i] != venue)
          throw InvariantError(day, invariant, resident(i),
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
        throw InvariantError(day, "every attendee in the session index" + slot, resident(i),
                             "venue_of " + std::to_string(venue));
      if (static_cast<int>(in_.venue_types.at(v.type[venue]).slot) != s)
        throw InvariantError(day, "attended venue belongs to the slot" + slot, resident(i),
                             "venue " + std::to_string(venue) + " of type " + in_quotes(in_.venue_types[v.type[venue]].name));
    }
    if (attending != listed)
      throw InvariantError(day, "session index lists every attendee" + slot, "index",
                           std::to_string(listed) + " listed, " + std::to_string(attending) + " attending");
  }
}

// Nobody appears or vanishes unaccounted for: each (ward, group) changes exactly by mobility's
// counted events of the day.
void InvariantChecker::check_population(Date day) const {
  if (population_before_.empty()) return;  // before_day was not called
  const std::vector<std::int64_t> now = population_by_ward_group();
  const std::size_t groups = static_cast<std::size_t>(in_.residents.num_groups);
  const MobilityCounts* counts = in_.mobility ? &in_.mobility->pending_counts() : nullptr;
  auto change = [&](const std::vector<std::int64_t> MobilityCounts::*series, std::size_t cell) -> std::int64_t {
    if (!counts) return 0;
    const std::int64_t before = (counts_before_.*series).size() > cell ? (counts_before_.*series)[cell] : 0;
    return (counts->*series).at(cell) - before;
  };
  for (std::size_t cell = 0; cell < now.size(); ++cell) {
    const std::int64_t births = change(&MobilityCounts::births, cell), deaths = change(&MobilityCounts::deaths, cell);
    const std::int64_t arrivals = change(&MobilityCounts::arrivals, cell);
    const std::int64_t departures = change(&MobilityCounts::departures, cell);
    const std::int64_t moved_in = change(&MobilityCounts::moves_in, cell);
    const std::int64_t moved_out = change(&MobilityCounts::moves_out, cell);
    const std::int64_t expected =
        population_before_[cell] + births - deaths + arrivals - departures + moved_in - moved_out;
    if (now[cell] != expected)
      throw InvariantError(
          day, "population = previous + births - deaths + arrivals - departures + moves in - moves out",
          "ward " + in_quotes(in_.ward_names[cell / groups]) + ", group " + in_quotes(in_.group_names.at(cell % groups)),
          std::to_string(now[cell]) + " residents, expected " + std::to_string(expected) + " = " +
              std::to_string(population_before_[cell]) + " + " + std::to_string(births) + " - " +
              std::to_string(deaths) + " + " + std::to_string(arrivals) + " - " + std::to_string(departures) +
              " + " + std::to_string(moved_in) + " - " + std::to_string(moved_out));
  }
}

// Mobility keeps its own block occupancy and group counts to choose vacancies: they must match
// where residents actually live, and no block may be over capacity.
void InvariantChecker::check_blocks(Date day) const {
  if (!in_.mobility) return;
  const Residents& r = in_.residents;
  const std::size_t blocks = in_.block_ward.size();
  const std::size_t groups = static_cast<std::size_t>(r.num_groups);
  std::vector<std::int32_t> occupancy(blocks, 0), by_group(blocks * groups, 0);
  for (std::size_t i = 0; i < r.size(); ++i) {
    ++occupancy[r.block[i]];
    ++by_group[r.block[i] * groups + r.group[i]];
  }
  const auto kept = in_.mobility->block_occupancy();
  const auto capacity = in_.mobility->block_capacity();
  const auto kept_by_group = in_.mobility->block_group_counts();
  for (std::size_t b = 0; b < blocks && b < kept.size(); ++b) {
    const std::string block = "block " + std::to_string(b);
    if (kept[b] != occupancy[b])
      throw InvariantError(day, "mobility's block occupancy matches the residents", block,
                           std::to_string(kept[b]) + " kept, " + std::to_string(occupancy[b]) + " living there");
    if (b < capacity.size() && occupancy[b] > capacity[b])
      throw InvariantError(day, "block within capacity", block,
                           std::to_string(occupancy[b]) + " residents, capacity " + std::to_string(capacity[b]));
    for (std::size_t g = 0; g < groups && b * groups + g < kept_by_group.size(); ++g)
      if (kept_by_group[b * groups + g] != by_group[b * groups + g])
        throw InvariantError(day, "mobility's block group counts match the residents",
                             block + ", group " + in_quotes(in_.group_names.at(g)),
                             std::to_string(kept_by_group[b * groups + g]) + " kept, " +
                                 std::to_string(by_group[b * groups + g]) + " living there");
  }
}

void InvariantChecker::check_venues(Date day) const {
  const Venues& v = in_.venues;
  const Residents& r = in_.residents;
  auto venue = [&](std::size_t k) { return "venue " + std::to_string(k) + " " + in_quotes(v.name.at(k)); };
  for (std::size_t k = 0; k < v.size(); ++k) {
    if (!(v.budget[k] >= 0) || !std::isfinite(v.budget[k]))
      throw InvariantError(day, "budget finite and >= 0", venue(k), number_text(v.budget[k]));
    if (!(v.budget_full[k] >= 0) || !std::isfinite(v.budget_full[k]))
      throw InvariantError(day, "budget needed finite and >= 0", venue(k), number_text(v.budget_full[k]));
    if (!in_unit_interval(v.operating_level[k]))
      throw InvariantError(day, "operating level in [0,1]", venue(k), number_text(v.operating_level[k]));
    if (!(v.quality_factor[k] >= 0.0f) || !std::isfinite(v.quality_factor[k]))
      throw InvariantError(day, "quality factor finite and >= 0", venue(k), number_text(v.quality_factor[k]));
    if (v.session_capacity[k] < 0)
      throw InvariantError(day, "session capacity >= 0", venue(k), std::to_string(v.session_capacity[k]));
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
        throw InvariantError(day, "membership of type " + in_quotes(in_.venue_types.at(t).name) + " is a venue of that type",
                             resident(i), "venue " + std::to_string(k));
      ++by_group[static_cast<std::size_t>(k) * groups + r.group[i]];
    }
  for (std::size_t k = 0; k < v.size(); ++k) {
    std::uint32_t members = 0;
    for (std::size_t g = 0; g < groups; ++g) members += by_group[k * groups + g];
    if (v.members[k] != members)
      throw InvariantError(day, "venue members match the residents' memberships", venue(k),
                           std::to_string(v.members[k]) + " kept, " + std::to_string(members) + " members");
    for (std::size_t g = 0; g < groups && members > 0; ++g) {
      const double share = static_cast<double>(by_group[k * groups + g]) / members;
      if (std::abs(v.member_group_share[k * groups + g] - share) > 1e-5)
        throw InvariantError(day, "member group share matches the residents' memberships",
                             venue(k) + ", group " + in_quotes(in_.group_names.at(g)),
                             number_text(v.member_group_share[k * groups + g]) + " kept, " + number_text(share) + " actual");
    }
  }
}

void InvariantChecker::check_tension(Date day) const {
  if (!in_.tension) return;
  const TensionState& t = *in_.tension;
  for (std::size_t w = 0; w < t.tension.size(); ++w) {
    const std::string ward = "ward " + in_quotes(in_.ward_names.at(w));
    if (!in_unit_interval(t.tension[w])) throw InvariantError(day, "tension in [0,1]", ward, number_text(t.tension[w]));
    if (!in_unit_interval(t.safety[w])) throw InvariantError(day, "safety in [0,1]", ward, number_text(t.safety[w]));
    if (t.incidents[w] < 0) throw InvariantError(day, "incidents >= 0", ward, std::to_string(t.incidents[w]));
  }
  for (std::size_t i = 0; i < t.knowledge.size(); ++i)
    if (!in_unit_interval(t.knowledge[i])) throw InvariantError(day, "knowledge in [0,1]", resident(i), number_text(t.knowledge[i]));
  for (std::size_t i = 0; i < t.trust.size(); ++i)
    if (!in_unit_interval(t.trust[i])) throw InvariantError(day, "trust in [0,1]", resident(i), number_text(t.trust[i]));
}

// Ties must be mutual with equal strengths. Looking each tie up in the friend's row costs a
// random memory access per tie, so the daily pass reads residents' own rows only: every listed
// tie (i, j, strength) is hashed symmetrically and XOR-ed in, and mutual equal ties cancel in
// pairs. Only when something does not cancel is the friend's row searched, to name the tie.
void InvariantChecker::check_friendships(Date day) const {
  if (!in_.friendships || !in_.friendships->enabled()) return;
  const Friendships& f = *in_.friendships;
  const std::size_t n = in_.residents.size();
  std::uint64_t unmatched = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    if (f.degree(i) > f.max_degree())
      throw InvariantError(day, "at most max_degree friends", resident(i), std::to_string(f.degree(i)));
    for (const std::uint32_t j : f.friends_of(i)) {
      if (j >= n || j == i)
        throw InvariantError(day, "friends are other residents", resident(i), "friend " + std::to_string(j));
      const float strength = f.tie_strength(i, j);
      if (!(strength > 0.0f && strength <= 1.0f))
        throw InvariantError(day, "tie strength in (0,1]", resident(i) + " with resident " + std::to_string(j),
                             number_text(strength));
      unmatched ^= tie_hash(i, j, strength);
    }
  }
  if (unmatched != 0) name_unmatched_tie(day);
}

void InvariantChecker::name_unmatched_tie(Date day) const {
  const Friendships& f = *in_.friendships;
  for (std::uint32_t i = 0; i < in_.residents.size(); ++i)
    for (const std::uint32_t j : f.friends_of(i)) {
      const auto theirs = f.friends_of(j);
      if (std::find(theirs.begin(), theirs.end(), i) == theirs.end())
        throw InvariantError(day, "friendship listed by both parties", resident(i) + " lists resident " + std::to_string(j),
                             "not listed back");
      if (f.tie_strength(j, i) != f.tie_strength(i, j))
        throw InvariantError(day, "both sides of a tie equally strong", resident(i) + " with resident " + std::to_string(j),
                             number_text(f.tie_strength(i, j)) + " vs " + number_text(f.tie_strength(j, i)));
    }
  // Every tie has its mirror, yet they do not cancel: some tie is listed twice in a row.
  throw InvariantError(day, "each friendship listed once by each party", "friend lists", "a tie listed twice");
}

InvariantChecker::InvariantChecker(const World& world, const Scenario& scenario, const Links& links)
    : InvariantChecker(InvariantInputs{world.residents, world.venues, world.block_ward, scenario.venue_types,
                                       links.find<const DailySessions>("daily_sessions"),
                                       links.find<const TensionState>("tension"),
                                       links.find<const Friendships>("friendships"),
                                       links.find<const MobilityPhase>("mobility"), scenario.group_names(),
                                       scenario.ward_names()}) {}

}  // namespace contactsim
