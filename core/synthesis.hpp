#pragma once
// Synthetic allocation of city-wide group totals to wards.
//
// Used when ward-level census counts are not available: the city totals are real, the spread
// across wards is an illustrative allocation driven by per-ward concentration targets.
#include <cstdint>
#include <vector>

namespace contactsim {

struct ConcentrationTarget {
  int ward = 0;
  int group = 0;
  double share = 0.0;  // target share of the ward's residents who belong to `group`, in [0,1)
};

// Returns counts[ward][group] with every column summing exactly to city_totals[group].
// Ward sizes follow ward_weights (relative); targeted cells get share × ward size; each group's
// remainder is spread over its untargeted wards in proportion to the room left in them; integer
// rounding by largest remainder. Deterministic. Throws std::invalid_argument if targets in one
// ward sum to >= 1 or a group's targets need more people than the city has.
std::vector<std::vector<std::int64_t>> allocate_to_wards(const std::vector<std::int64_t>& city_totals,
                                                         const std::vector<double>& ward_weights,
                                                         const std::vector<ConcentrationTarget>& targets);

// Scales every cell by `scale` (0 < scale <= 1 typically) preserving each group's scaled total
// round(scale × total) exactly, by largest remainder down each column.
std::vector<std::vector<std::int64_t>> scale_counts(const std::vector<std::vector<std::int64_t>>& counts,
                                                    double scale);

// Splits `total` into parts proportional to `weights` (largest remainder; exact sum).
std::vector<std::int64_t> apportion(std::int64_t total, const std::vector<double>& weights);

}  // namespace contactsim
