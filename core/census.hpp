#pragma once
// Census tables in the ONS/Nomis bulk-CSV layout, and their mapping onto a scenario's groups.
//
// Nomis bulk CSV (e.g. TS021 "Ethnic group" by ward): a header row
//   "date","geography","geography code","Ethnic group: Total: All usual residents", ...
// then one row per geography. Fields may be quoted (RFC 4180). The first three columns are
// fixed; every further column is a category count (non-negative integer).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace contactsim {

struct CensusTable {
  std::filesystem::path file;
  std::vector<std::string> categories;        // header names after the first three columns
  std::vector<std::string> geography_names;   // one per data row
  std::vector<std::string> geography_codes;
  std::vector<int> source_lines;              // 1-based CSV line of each data row
  std::vector<std::vector<std::int64_t>> counts;  // [row][category]
};

// Throws ConfigError (file:line: column: expected ...) for a missing file, a wrong header,
// a short/long row, a non-integer or negative count, a duplicate geography.
CensusTable load_nomis_csv(const std::filesystem::path& file);

// Where a piece of the mapping was written in the scenario, so errors about it point there.
struct SourceLocation {
  std::string file;
  int line = 0;
  std::string key;  // dotted, e.g. "population.census.columns.asian"
};

struct CensusMapping {
  std::string total_column;                       // e.g. "Ethnic group: Total: All usual residents"
  std::vector<std::string> groups;                // scenario group names
  std::vector<std::vector<std::string>> columns;  // for each group, the census columns it sums
  SourceLocation total_location;                  // where total_column was written
  std::vector<SourceLocation> group_locations;    // where each group's columns were written
  SourceLocation wards_location;                  // where the ward list was written
};

// counts[ward][group] for `ward_names` (matched against geography name or code).
// Throws ConfigError when a column named in the mapping is not in the file, a column is mapped
// to two groups, a ward is missing from the file, or a row's mapped categories do not sum to
// its total column ("census rows that don't sum": names file, line, ward and both numbers).
std::vector<std::vector<std::int64_t>> map_census(const CensusTable& table, const CensusMapping& mapping,
                                                  const std::vector<std::string>& ward_names);

// Writes a table in the same layout (used by tests for round-trips and by users to export).
void write_nomis_csv(const CensusTable& table, const std::filesystem::path& file);

}  // namespace contactsim
