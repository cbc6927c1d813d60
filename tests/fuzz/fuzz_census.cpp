// Census CSV → load_nomis_csv, then map_census with every category mapped to its own group (the
// first as total), then a write/load round trip that must give back the same table.
#include "core/census.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace contactsim;

// Groups named after the categories after the first (the "total"), each summing its own column;
// every geography as a ward. Exercises the mapping's lookups and its row-sum check.
void map_onto_own_categories(const CensusTable& table) {
  if (table.categories.size() < 2) return;
  CensusMapping mapping;
  mapping.total_column = table.categories[0];
  for (std::size_t c = 1; c < table.categories.size(); ++c) {
    mapping.groups.push_back("g" + std::to_string(c));
    mapping.columns.push_back({table.categories[c]});
    mapping.group_locations.push_back({"mapping.toml", static_cast<int>(c), "population.census.columns"});
  }
  const auto counts = map_census(table, mapping, table.geography_names);
  if (counts.size() != table.geography_names.size()) std::abort();
}

void round_trip(const CensusTable& table, const std::filesystem::path& copy) {
  write_nomis_csv(table, copy);
  const CensusTable again = load_nomis_csv(copy);
  if (again.categories != table.categories || again.geography_names != table.geography_names ||
      again.geography_codes != table.geography_codes || again.counts != table.counts) {
    std::fprintf(stderr, "fuzz: write_nomis_csv/load_nomis_csv round trip changed the table\n");
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path input = fuzz::scratch().path() / "census.csv";
  static const std::filesystem::path copy = fuzz::scratch().path() / "census_copy.csv";
  fuzz::write_input(input, data, size);
  fuzz::expect_clean([&] {
    const CensusTable table = load_nomis_csv(input);
    round_trip(table, copy);
    map_onto_own_categories(table);
  });
  return 0;
}
