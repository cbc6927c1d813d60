#include "models/run/segregation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace contactsim {
namespace {

using Eigen::Index;

// Counts feed divisions and logarithms; a negative or NaN count would silently turn every index
// into nonsense, so the first bad cell is named instead.
template <typename Derived>
void require_counts(const Eigen::ArrayBase<Derived>& values, const std::string& what) {
  for (Index row = 0; row < values.rows(); ++row) {
    for (Index col = 0; col < values.cols(); ++col) {
      const double value = values(row, col);
      if (!std::isfinite(value) || value < 0) {
        throw std::invalid_argument(what + " (" + std::to_string(row) + ", " + std::to_string(col) +
                                    ") is " + std::to_string(value) + "; expected a finite count >= 0");
      }
    }
  }
}

// 1/x, or 0 where x is 0: an absent group or empty unit then weighs nothing instead of
// producing NaN.
Eigen::ArrayXd reciprocal_or_zero(const Eigen::ArrayXd& values) {
  return (values > 0).select(values.inverse(), 0.0);
}

// −Σ p ln p over the positive proportions (0·ln 0 = 0 by continuity).
template <typename Derived>
double entropy(const Eigen::ArrayBase<Derived>& proportions) {
  double sum = 0;
  for (Index i = 0; i < proportions.size(); ++i) {
    const double p = proportions(i);
    if (p > 0) sum -= p * std::log(p);
  }
  return sum;
}

// The indices are proportions in [0, 1]; rounding can step a hair outside (e.g. −1e-17 for a
// perfectly even city), which would print as "-0.000".
double clamp_to_unit_interval(double value) { return std::clamp(value, 0.0, 1.0); }

struct Totals {
  Eigen::ArrayXd unit;   // t_u
  Eigen::ArrayXd group;  // X_g
  double city = 0;       // T
};

Totals totals_of(const UnitCounts& counts) {
  Totals totals;
  totals.unit = counts.rowwise().sum();
  totals.group = counts.colwise().sum().transpose();
  totals.city = totals.group.sum();
  return totals;
}

// π_ug = x_ug / t_u: each unit's group mix (a row of 0 for an empty unit, which skips it).
UnitCounts unit_group_shares(const UnitCounts& counts, const Totals& totals) {
  return counts.colwise() * reciprocal_or_zero(totals.unit);
}

// x_ug / X_g: the share of group g's members living in unit u (a column of 0 for an absent group).
UnitCounts group_distribution(const UnitCounts& counts, const Totals& totals) {
  return counts.rowwise() * reciprocal_or_zero(totals.group).transpose();
}

Eigen::ArrayXd dissimilarity_by_group(const UnitCounts& counts, const Totals& totals) {
  Eigen::ArrayXd dissimilarity = Eigen::ArrayXd::Zero(counts.cols());
  for (Index g = 0; g < counts.cols(); ++g) {
    const double members = totals.group(g);
    const double others = totals.city - members;
    if (members <= 0 || others <= 0) continue;  // nobody to compare against: defined as 0
    const Eigen::ArrayXd own_spread = counts.col(g) / members;
    const Eigen::ArrayXd others_spread = (totals.unit - counts.col(g)) / others;
    dissimilarity(g) = clamp_to_unit_interval(0.5 * (own_spread - others_spread).abs().sum());
  }
  return dissimilarity;
}

// exposure(g, h) = Σ_u (x_ug/X_g)(x_uh/t_u): the group distribution over units, transposed,
// times the units' group mix.
Eigen::ArrayXXd exposure_matrix(const UnitCounts& counts, const Totals& totals) {
  const UnitCounts where_members_live = group_distribution(counts, totals);
  const UnitCounts unit_mix = unit_group_shares(counts, totals);
  return (where_members_live.matrix().transpose() * unit_mix.matrix()).array();
}

double theil_information_index(const UnitCounts& counts, const Totals& totals) {
  if (totals.city <= 0) return 0;
  const double city_entropy = entropy(totals.group / totals.city);
  if (city_entropy <= 0) return 0;  // one group only: no diversity to be uneven about
  const UnitCounts unit_mix = unit_group_shares(counts, totals);
  double weighted_entropy_loss = 0;
  for (Index u = 0; u < counts.rows(); ++u) {
    if (totals.unit(u) <= 0) continue;
    weighted_entropy_loss += totals.unit(u) * (city_entropy - entropy(unit_mix.row(u)));
  }
  return clamp_to_unit_interval(weighted_entropy_loss / (totals.city * city_entropy));
}

void require_mixing_inputs(const Eigen::ArrayXXd& contacts, const Eigen::ArrayXd& group_population) {
  if (contacts.rows() != contacts.cols() || contacts.rows() != group_population.size()) {
    throw std::invalid_argument("intergroup_mixing_ratio: contacts is " + std::to_string(contacts.rows()) + "x" +
                                std::to_string(contacts.cols()) + " but there are " +
                                std::to_string(group_population.size()) +
                                " groups; expected a square matrix with one row per group");
  }
  require_counts(contacts, "intergroup_mixing_ratio: contacts");
  require_counts(group_population, "intergroup_mixing_ratio: group_population");
}

// (T − X_g)/(T − 1): the chance that another resident drawn at random is of another group.
double random_outgroup_share(double group_members, double city_total) {
  if (city_total <= 1) return 0;
  return (city_total - group_members) / (city_total - 1);
}

}  // namespace

SegregationIndices segregation_indices(const UnitCounts& counts) {
  require_counts(counts, "segregation_indices: counts");
  const Totals totals = totals_of(counts);
  SegregationIndices indices;
  indices.dissimilarity = dissimilarity_by_group(counts, totals);
  indices.exposure = exposure_matrix(counts, totals);
  indices.isolation = indices.exposure.matrix().diagonal().array();
  indices.theil_h = theil_information_index(counts, totals);
  return indices;
}

Eigen::ArrayXd intergroup_mixing_ratio(const Eigen::ArrayXXd& contacts, const Eigen::ArrayXd& group_population) {
  require_mixing_inputs(contacts, group_population);
  const double city_total = group_population.sum();
  const double undefined = std::numeric_limits<double>::quiet_NaN();
  Eigen::ArrayXd ratio(group_population.size());
  for (Index g = 0; g < group_population.size(); ++g) {
    const double encounters = contacts.row(g).sum();
    const double expected_share = random_outgroup_share(group_population(g), city_total);
    if (encounters <= 0 || expected_share <= 0) {
      ratio(g) = undefined;
      continue;
    }
    const double observed_share = (encounters - contacts(g, g)) / encounters;
    ratio(g) = observed_share / expected_share;
  }
  return ratio;
}

}  // namespace contactsim
