#pragma once
// Venue types: when a kind of venue runs, who belongs to it, and what contact there is like.
//
// A scenario declares its venue types under [venue_types.<name>]. The built-in names (the
// everyday venues such as school, workplace or park, and the contact columns of the timeline
// programmes, such as classes and youth programmes) start from the defaults in
// models/city/venue_types.toml, so a scenario need only state what differs; any other name must
// give its defining fields. The same fields generate the venues of each ward (see venues.cpp).
//
// That table is data, not code: CMake compiles the file into the library, and it is read by the
// same reader as a scenario's tables, so both share one list of keys, ranges and errors
// ("models/city/venue_types.toml:<line>: venue_types.<name>.<key>: ...").
#include "core/config.hpp"
#include "core/params.hpp"
#include "models/city/state.hpp"

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace contactsim {

// How residents come to belong to venues of a type.
enum class Membership : std::uint8_t {
  catchment,  // eligible residents of a ward are shared among that ward's venues (schools)
  city,       // members spread over the whole city, a share in their own ward (workplaces)
  ward,       // members attend one of their own ward's venues (community centres)
  faith,      // adherents attend a venue of their own faith, in their ward if there is one
  block,      // one venue per residential block (streets)
};
std::optional<Membership> parse_membership(const std::string& text);
const char* to_string(Membership m);

struct VenueType {
  std::string name;
  Slot slot = Slot::evening;
  Membership membership = Membership::ward;
  std::uint8_t open_days = 0x7f;                    // bit d = ISO weekday d (0 = Monday)
  std::array<float, kNumAgeBands> member_share{};   // share of eligible residents who belong
  std::array<float, kNumAgeBands> visits_per_week{};
  bool generate = true;          // create venues by the sizing rule (false: only [[venues]])
  bool stable = false;           // regular groups (classes, teams, congregations): friendships form
  bool fear_sensitive = false;   // attendance falls with ward tension (parks, streets)
  double members_per_venue = 1;  // sizing rule for generated venues
  double local_share = 1;        // city membership: share belonging to a venue in their own ward
  std::int32_t capacity = 0;     // per session, 0 = unlimited
  double budget_full = 0;        // annual GBP a venue needs to run fully; 0 = not budget-driven
  double budget = -1;            // annual GBP each venue starts with; < 0 = budget_full (venues.cpp)
  double encounters = 0;         // λ: encounters each attendee starts per session
  double homophily = 0;          // h: chance a partner is re-drawn from the own group
  double depth = 0;              // w: observational 0.2 … sustained meaningful 1.0
  // Allport's conditions, each in [0,1]; their mean is the contact quality q.
  double equal_status = 0, cooperation = 0, common_goal = 0, institutional_support = 0;

  double quality() const { return (equal_status + cooperation + common_goal + institutional_support) / 4.0; }
  int sessions_per_week() const { return __builtin_popcount(open_days); }
  bool open_on(unsigned weekday) const { return (open_days >> weekday) & 1u; }
};

// The built-in types (models/city/venue_types.toml, compiled in), in the file's order. The first
// call reads the table; a mistake in it throws ConfigError naming the file, line and key.
const std::vector<VenueType>& builtin_venue_types();
// Every numeric value the built-in table states, with the source it gives (parameter dictionary).
void describe_venue_type_defaults(std::vector<ParamDescription>& out);

// Reads [venue_types.<name>] over the built-in default of that name (if any).
VenueType read_venue_type(const std::string& name, const ConfigTable& table);

// Reads a table written like models/city/venue_types.toml: [venue_types.<name>] tables, each a
// new type (read_venue_type's rules) plus its five source texts (source.membership, .visits,
// .sizing, .contact, .conditions). `file` names the text in errors. builtin_venue_types() is
// this applied to the compiled-in file; tests use it on altered copies.
struct VenueTypeTable {
  std::vector<VenueType> types;
  std::vector<ParamDescription> described;  // each numeric key a type writes, with its source
};
VenueTypeTable read_venue_type_table(std::string_view text, const std::filesystem::path& file);

}  // namespace contactsim
