#include "tests/support/city.hpp"

#include <stdexcept>
#include <utility>

namespace contactsim::test {

Residents hand_built_residents(const std::vector<std::uint8_t>& groups, int num_groups,
                               const ResidentValues& values, int venue_types) {
  Residents r;
  const std::size_t n = groups.size();
  r.num_groups = num_groups;
  r.num_venue_types = venue_types;
  r.reshape_contact_state(n, num_groups);
  r.group = groups;
  r.age_band.assign(n, static_cast<std::uint8_t>(AgeBand::adult));
  r.faith.assign(n, kNoFaith);
  r.ward.assign(n, 0);
  r.block.assign(n, 0);
  r.english.assign(n, values.english);
  r.anxiety.assign(n, values.anxiety);
  r.positive_memory.assign(n, 0.0f);
  r.negative_memory.assign(n, 0.0f);
  r.disposition.assign(n, 0.0f);
  r.last_intergroup_contact.assign(n, -1);
  r.warmth.assign(n * static_cast<std::size_t>(num_groups), values.outgroup_warmth);
  for (std::size_t i = 0; i < n; ++i) r.warmth_of(i)[groups[i]] = values.ingroup_warmth;
  r.membership.assign(n * static_cast<std::size_t>(venue_types), -1);
  return r;
}

Residents interleaved_wards(int wards, int per_ward, int num_groups, const ResidentValues& values,
                            std::uint32_t block_size) {
  const auto n = static_cast<std::size_t>(wards) * static_cast<std::size_t>(per_ward);
  std::vector<std::uint8_t> groups(n);
  for (std::size_t i = 0; i < n; ++i) groups[i] = static_cast<std::uint8_t>(i % static_cast<std::size_t>(num_groups));
  Residents r = hand_built_residents(groups, num_groups, values);
  for (std::size_t i = 0; i < n; ++i) {
    r.ward[i] = static_cast<std::uint16_t>(i / static_cast<std::size_t>(per_ward));
    r.block[i] = static_cast<std::uint32_t>(i / block_size);
  }
  return r;
}

Town::Town(Residents hand_built, int wards, int columns) : residents(std::move(hand_built)) {
  tally.resize(wards, residents.num_groups, columns);
  for (int w = 0; w < wards; ++w) ward_names.push_back("w" + std::to_string(w));
}

void add_venue(Venues& v, int type, int ward, std::string name, std::uint8_t open_days) {
  v.name.push_back(std::move(name));
  v.type.push_back(static_cast<std::uint8_t>(type));
  v.ward.push_back(static_cast<std::uint16_t>(ward));
  v.capacity.push_back(0);
  v.faith.push_back(kNoFaith);
  v.budget.push_back(0);
  v.budget_full.push_back(0);
  v.operating_level.push_back(1.0f);
  v.open.push_back(1);
  v.open_days.push_back(open_days);
  v.session_capacity.push_back(0);
  v.quality_factor.push_back(1.0f);
}

EncounterRules default_rules() {
  return EncounterRules({true, defaults_of<ValenceParams>(kValenceParams)},
                        {true, defaults_of<AttitudeParams>(kAttitudeParams)});
}

std::int64_t contacts_at(const ContactTally& tally, int ward, int group, int column) {
  const std::size_t cell = tally.cell(ward, group, column);
  return tally.positive[cell] + tally.negative[cell];
}

const VenueType& builtin_venue_type(const std::string& name) {
  for (const auto& t : builtin_venue_types())
    if (t.name == name) return t;
  throw std::out_of_range("no built-in venue type " + name);
}

}  // namespace contactsim::test
