#pragma once
// Hand-built cities for the tests of single mechanisms: residents and venues with every array a
// phase may read filled in, so that a test states only what it studies.
#include "models/city/encounters.hpp"
#include "models/city/state.hpp"
#include "models/mechanisms/timeline.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace contactsim::test {

// The per-resident values every hand-built resident starts with.
struct ResidentValues {
  float english = 1.0f;
  float anxiety = 0.3f;
  float ingroup_warmth = 0.5f;   // toward the resident's own group
  float outgroup_warmth = 0.5f;  // toward every other group
};

// One resident per entry of `groups`: adults without faith, in ward 0 and block 0, no contact
// memories, disposition 0, no intergroup contact yet, no venue in any of `venue_types` columns,
// English, anxiety and warmth from `values`.
Residents hand_built_residents(const std::vector<std::uint8_t>& groups, int num_groups,
                               const ResidentValues& values = {}, int venue_types = 1);

// `wards` wards of `per_ward` residents, laid out ward by ward with the groups in turn: resident
// i belongs to group i % num_groups, lives in ward i / per_ward and in block i / block_size.
Residents interleaved_wards(int wards, int per_ward, int num_groups, const ResidentValues& values = {},
                            std::uint32_t block_size = 100);

// Valence and attitude rules at their sourced defaults, with no other mechanism attached.
EncounterRules default_rules();

// What a mechanism's phase works on when a test runs it alone: hand-built residents, contact
// tallies (wards × groups × `columns`), an event log, the default contact rules and ward names
// "w0", "w1", ...
struct Town {
  Town(Residents hand_built, int wards, int columns);

  Residents residents;
  ContactTally tally;
  EventLog log;
  EncounterRules rules = default_rules();
  std::vector<std::string> ward_names;
};

// Appends a venue open every day in `open_days` (bit 0 = Monday), fully funded (no budget),
// unlimited capacity, no faith, ordinary quality.
void add_venue(Venues& venues, int type, int ward, std::string name, std::uint8_t open_days = 0x7f);

// Intergroup contacts, positive and negative, tallied for `group` in `ward` in `column`.
std::int64_t contacts_at(const ContactTally& tally, int ward, int group, int column);

// The built-in venue type `name` (models/city/venue_types.toml); throws std::out_of_range when
// there is none.
const VenueType& builtin_venue_type(const std::string& name);

}  // namespace contactsim::test
