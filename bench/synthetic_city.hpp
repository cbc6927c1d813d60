#pragma once
// Synthetic cities of any size for benchmarks, built from the default Stoke-on-Trent scenario's
// structure: the same group mix and ward sizes, the same venues per head. Up to the real city
// the wards are scaled down; beyond it the city's 37 wards are repeated (ward names suffixed
// " #2", " #3", ...) so wards, blocks and venues keep realistic sizes at 10⁷ agents.
#include "core/synthesis.hpp"
#include "models/run/scenario.hpp"

#include <cmath>
#include <cstdint>
#include <string>

namespace contactsim::bench {

// `scenario`: the file whose structure is scaled, relative to the source tree (the default city,
// or bench/skeleton.toml: the same city with every mechanism but attendance and encounters off).
inline Scenario synthetic_city(std::int64_t agents, const std::string& scenario = "scenarios/stoke_on_trent.toml") {
  Scenario s = load_scenario(std::string(CONTACTSIM_SOURCE_DIR) + "/" + scenario);
  double city = 0;
  for (const auto& ward : s.population.unscaled_counts)
    for (const std::int64_t n : ward) city += static_cast<double>(n);
  const double factor = static_cast<double>(agents) / city;
  const int copies = std::max(1, static_cast<int>(std::ceil(factor)));
  const auto wards = static_cast<int>(s.wards.size());
  const auto base_counts = s.population.unscaled_counts;
  const auto base_wards = s.wards;
  const auto base_venues = s.venues;
  for (int c = 1; c < copies; ++c) {
    for (int w = 0; w < wards; ++w) {
      WardSpec copy = base_wards[w];
      copy.name += " #" + std::to_string(c + 1);
      s.wards.push_back(copy);
      s.population.unscaled_counts.push_back(base_counts[w]);
    }
    for (ExplicitVenue v : base_venues) {
      v.name += " #" + std::to_string(c + 1);
      v.ward += c * wards;
      s.venues.push_back(v);
    }
  }
  s.population.scale = factor / copies;
  s.population.counts = scale_counts(s.population.unscaled_counts, s.population.scale);
  s.simulation.end = s.simulation.start + 365 * 100;  // benchmarks step for as long as they like
  // What is measured is a day's cost; the default 1,095 unrecorded spin-up days are the same
  // daily step and would only delay it (about 37 minutes before the first measured day at 10⁷).
  s.simulation.spin_up_days = 0;
  return s;
}

}  // namespace contactsim::bench
