#include "core/synthesis.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>

namespace contactsim {
namespace {

// Floors every quota, then moves single units by fractional part until the parts sum to
// `target`: the largest remainders gain a unit, ties going to the lower index. Quotas that are
// zero never gain a unit, so a zero weight always gets zero. The downward branch only runs
// when floating-point error pushed the floors past the target.
std::vector<std::int64_t> largest_remainder(const std::vector<long double>& quotas, std::int64_t target) {
  const std::size_t n = quotas.size();
  std::vector<std::int64_t> parts(n);
  std::vector<long double> fraction(n);
  std::int64_t assigned = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const long double floor_part = std::floor(std::max(quotas[i], 0.0L));
    parts[i] = static_cast<std::int64_t>(floor_part);
    fraction[i] = quotas[i] - floor_part;
    assigned += parts[i];
  }
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return fraction[a] > fraction[b]; });

  std::vector<std::size_t> can_gain;
  for (std::size_t i : order)
    if (quotas[i] > 0) can_gain.push_back(i);
  while (assigned < target) {
    if (can_gain.empty()) throw std::invalid_argument("apportion: cannot split a positive total over zero weights");
    for (auto it = can_gain.begin(); it != can_gain.end() && assigned < target; ++it) {
      ++parts[*it];
      ++assigned;
    }
  }
  while (assigned > target) {  // some part is positive, so every pass gives back at least one unit
    for (auto it = order.rbegin(); it != order.rend() && assigned > target; ++it) {
      if (parts[*it] == 0) continue;
      --parts[*it];
      --assigned;
    }
  }
  return parts;
}

void check_weights(const std::vector<double>& weights, const char* what) {
  for (double w : weights)
    if (!std::isfinite(w) || w < 0)
      throw std::invalid_argument(std::string(what) + ": weights must be finite and non-negative");
}

long double sum_of(const std::vector<double>& values) {
  long double sum = 0;
  for (double v : values) sum += v;
  return sum;
}

// ---------------------------------------------------------------- allocate_to_wards

struct TargetGrid {
  std::vector<std::vector<double>> share;   // [ward][group], NaN where untargeted
  std::vector<double> ward_share_sum;       // targeted share of each ward
};

TargetGrid build_target_grid(std::size_t wards, std::size_t groups, const std::vector<ConcentrationTarget>& targets) {
  TargetGrid grid{std::vector<std::vector<double>>(wards, std::vector<double>(groups, std::nan(""))),
                  std::vector<double>(wards, 0.0)};
  for (const auto& t : targets) {
    if (t.ward < 0 || static_cast<std::size_t>(t.ward) >= wards || t.group < 0 ||
        static_cast<std::size_t>(t.group) >= groups)
      throw std::invalid_argument("allocate_to_wards: target for ward " + std::to_string(t.ward) + ", group " +
                                  std::to_string(t.group) + " is out of range");
    if (!(t.share >= 0.0 && t.share < 1.0))
      throw std::invalid_argument("allocate_to_wards: target share " + std::to_string(t.share) +
                                  " for ward " + std::to_string(t.ward) + " is not in [0, 1)");
    double& cell = grid.share[static_cast<std::size_t>(t.ward)][static_cast<std::size_t>(t.group)];
    if (!std::isnan(cell))
      throw std::invalid_argument("allocate_to_wards: two targets for ward " + std::to_string(t.ward) + ", group " +
                                  std::to_string(t.group));
    cell = t.share;
    grid.ward_share_sum[static_cast<std::size_t>(t.ward)] += t.share;
  }
  for (std::size_t w = 0; w < wards; ++w)
    if (grid.ward_share_sum[w] >= 1.0)
      throw std::invalid_argument("allocate_to_wards: targets in ward " + std::to_string(w) + " sum to " +
                                  std::to_string(grid.ward_share_sum[w]) + " (must be < 1)");
  return grid;
}

// Real-valued cells of one group's column: targets first, the rest by room left.
std::vector<long double> group_column(std::size_t group, std::int64_t city_total, const std::vector<long double>& size,
                                      const TargetGrid& grid) {
  const std::size_t wards = size.size();
  std::vector<long double> column(wards, 0.0L);
  long double targeted = 0;
  long double untargeted_room = 0;
  for (std::size_t w = 0; w < wards; ++w) {
    const double share = grid.share[w][group];
    if (std::isnan(share)) {
      untargeted_room += size[w] * (1.0L - grid.ward_share_sum[w]);
    } else {
      column[w] = share * size[w];
      targeted += column[w];
    }
  }
  const long double remainder = static_cast<long double>(city_total) - targeted;
  // Shares × sizes are real numbers, so equality is only up to floating-point error.
  if (remainder < -1e-9L * std::max<long double>(1.0L, static_cast<long double>(city_total)))
    throw std::invalid_argument("allocate_to_wards: targets for group " + std::to_string(group) + " need " +
                                std::to_string(static_cast<double>(targeted)) + " people but the city has " +
                                std::to_string(city_total));
  // Less than one person left over is rounding, which largest remainder absorbs.
  if (remainder >= 1.0L && untargeted_room <= 0)
    throw std::invalid_argument("allocate_to_wards: group " + std::to_string(group) +
                                " has people left after its targets but no untargeted ward with room");
  for (std::size_t w = 0; w < wards && remainder > 0 && untargeted_room > 0; ++w)
    if (std::isnan(grid.share[w][group]))
      column[w] = remainder * size[w] * (1.0L - grid.ward_share_sum[w]) / untargeted_room;
  return column;
}

}  // namespace

std::vector<std::int64_t> apportion(std::int64_t total, const std::vector<double>& weights) {
  if (total < 0) throw std::invalid_argument("apportion: total must be non-negative");
  check_weights(weights, "apportion");
  const long double weight_sum = sum_of(weights);
  if (total == 0) return std::vector<std::int64_t>(weights.size(), 0);
  if (weight_sum <= 0) throw std::invalid_argument("apportion: weights must have a positive sum");
  std::vector<long double> quotas;
  for (double w : weights) quotas.push_back(static_cast<long double>(total) * w / weight_sum);
  return largest_remainder(quotas, total);
}

std::vector<std::vector<std::int64_t>> allocate_to_wards(const std::vector<std::int64_t>& city_totals,
                                                         const std::vector<double>& ward_weights,
                                                         const std::vector<ConcentrationTarget>& targets) {
  check_weights(ward_weights, "allocate_to_wards");
  for (std::int64_t total : city_totals)
    if (total < 0) throw std::invalid_argument("allocate_to_wards: city totals must be non-negative");
  const std::size_t wards = ward_weights.size();
  const std::size_t groups = city_totals.size();
  const long double weight_sum = sum_of(ward_weights);
  const std::int64_t population = std::accumulate(city_totals.begin(), city_totals.end(), std::int64_t{0});
  if (population > 0 && weight_sum <= 0)
    throw std::invalid_argument("allocate_to_wards: ward weights must have a positive sum");

  const TargetGrid grid = build_target_grid(wards, groups, targets);
  std::vector<long double> size(wards, 0.0L);
  for (std::size_t w = 0; w < wards && population > 0; ++w)
    size[w] = static_cast<long double>(population) * ward_weights[w] / weight_sum;

  std::vector<std::vector<std::int64_t>> counts(wards, std::vector<std::int64_t>(groups, 0));
  for (std::size_t g = 0; g < groups; ++g) {
    if (city_totals[g] == 0) continue;
    const std::vector<std::int64_t> column =
        largest_remainder(group_column(g, city_totals[g], size, grid), city_totals[g]);
    for (std::size_t w = 0; w < wards; ++w) counts[w][g] = column[w];
  }
  return counts;
}

std::vector<std::vector<std::int64_t>> scale_counts(const std::vector<std::vector<std::int64_t>>& counts,
                                                    double scale) {
  if (!std::isfinite(scale) || scale < 0) throw std::invalid_argument("scale_counts: scale must be finite and >= 0");
  const std::size_t groups = counts.empty() ? 0 : counts.front().size();
  for (const auto& row : counts)
    if (row.size() != groups) throw std::invalid_argument("scale_counts: rows differ in length");

  std::vector<std::vector<std::int64_t>> scaled(counts.size(), std::vector<std::int64_t>(groups, 0));
  for (std::size_t g = 0; g < groups; ++g) {
    std::int64_t column_total = 0;
    std::vector<long double> quotas;
    for (const auto& row : counts) {
      if (row[g] < 0) throw std::invalid_argument("scale_counts: counts must be non-negative");
      column_total += row[g];
      quotas.push_back(static_cast<long double>(row[g]) * scale);
    }
    const std::int64_t target = std::llround(static_cast<long double>(column_total) * scale);
    const std::vector<std::int64_t> column = largest_remainder(quotas, target);
    for (std::size_t w = 0; w < counts.size(); ++w) scaled[w][g] = column[w];
  }
  return scaled;
}

}  // namespace contactsim
