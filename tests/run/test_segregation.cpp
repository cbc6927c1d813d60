#include "models/run/segregation.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace contactsim {
namespace {

constexpr double kTolerance = 1e-12;

UnitCounts units(Eigen::Index unit_count, Eigen::Index group_count, std::initializer_list<double> row_major) {
  UnitCounts counts(unit_count, group_count);
  Eigen::Index cell = 0;
  for (double value : row_major) {
    counts(cell / group_count, cell % group_count) = value;
    ++cell;
  }
  return counts;
}

void expect_all_near(const Eigen::ArrayXd& actual, const Eigen::ArrayXd& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (Eigen::Index i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual(i), expected(i), kTolerance) << "index " << i;
}

void expect_all_finite(const SegregationIndices& indices) {
  EXPECT_TRUE(indices.dissimilarity.allFinite()) << indices.dissimilarity.transpose();
  EXPECT_TRUE(indices.isolation.allFinite()) << indices.isolation.transpose();
  EXPECT_TRUE(indices.exposure.allFinite()) << indices.exposure;
  EXPECT_TRUE(std::isfinite(indices.theil_h));
}

// Units A = (6, 0), B = (2, 2), C = (0, 2), worked by hand above HandComputedThreeUnitsTwoGroups.
UnitCounts hand_example() { return units(3, 2, {6, 0, 2, 2, 0, 2}); }

TEST(Segregation, CompleteSegregationGivesMaximalIndices) {
  // Every unit holds one group only; group 0 spread over two units of different sizes.
  const auto indices = segregation_indices(units(4, 3, {5, 0, 0, 0, 7, 0, 0, 0, 3, 4, 0, 0}));
  expect_all_near(indices.dissimilarity, Eigen::ArrayXd::Ones(3));
  expect_all_near(indices.isolation, Eigen::ArrayXd::Ones(3));
  EXPECT_NEAR(indices.theil_h, 1.0, kTolerance);
}

TEST(Segregation, PerfectIntegrationGivesMinimalIndices) {
  // Every unit is three-quarters group 0, as is the city, whatever the unit's size.
  const auto indices = segregation_indices(units(3, 2, {3, 1, 6, 2, 30, 10}));
  expect_all_near(indices.dissimilarity, Eigen::ArrayXd::Zero(2));
  expect_all_near(indices.isolation, (Eigen::ArrayXd(2) << 0.75, 0.25).finished());  // the city shares
  EXPECT_NEAR(indices.theil_h, 0.0, kTolerance);
}

// Units A = (6, 0), B = (2, 2), C = (0, 2); t = (6, 4, 2), X = (8, 4), T = 12.
// D_0 = ½ (|6/8 − 0/4| + |2/8 − 2/4| + |0/8 − 2/4|) = ½ (0.75 + 0.25 + 0.5) = 0.75;
//   D_1 is the same sum with the terms swapped = 0.75.
// isolation_0 = (6/8)(6/6) + (2/8)(2/4) + 0 = 0.75 + 0.125 = 0.875
// exposure(0,1) = 0 + (2/8)(2/4) + 0 = 0.125                    (row sums to 1)
// isolation_1 = 0 + (2/4)(2/4) + (2/4)(2/2) = 0.25 + 0.5 = 0.75
// exposure(1,0) = (2/4)(2/4) = 0.25                              (and 8·0.125 = 4·0.25)
// E = −(2/3 ln 2/3 + 1/3 ln 1/3) = ln 3 − (2/3) ln 2; E_A = E_C = 0, E_B = ln 2.
// H = [6E + 4(E − ln 2) + 2E] / (12E) = 1 − ln 2 / (3E) = 1 − ln 2 / (3 ln 3 − 2 ln 2) ≈ 0.63700
TEST(Segregation, HandComputedThreeUnitsTwoGroups) {
  const auto indices = segregation_indices(hand_example());
  expect_all_near(indices.dissimilarity, (Eigen::ArrayXd(2) << 0.75, 0.75).finished());
  expect_all_near(indices.isolation, (Eigen::ArrayXd(2) << 0.875, 0.75).finished());
  ASSERT_EQ(indices.exposure.rows(), 2);
  ASSERT_EQ(indices.exposure.cols(), 2);
  EXPECT_NEAR(indices.exposure(0, 0), 0.875, kTolerance);
  EXPECT_NEAR(indices.exposure(0, 1), 0.125, kTolerance);
  EXPECT_NEAR(indices.exposure(1, 0), 0.25, kTolerance);
  EXPECT_NEAR(indices.exposure(1, 1), 0.75, kTolerance);
  const double expected_h = 1 - std::log(2.0) / (3 * std::log(3.0) - 2 * std::log(2.0));
  EXPECT_NEAR(indices.theil_h, expected_h, kTolerance);
  EXPECT_NEAR(indices.theil_h, 0.63700, 1e-5);
}

TEST(Segregation, ExposureRowsSumToOneAndDiagonalIsIsolation) {
  const auto indices = segregation_indices(units(4, 3, {10, 3, 1, 2, 8, 0, 5, 5, 5, 0, 1, 9}));
  expect_all_near(indices.exposure.rowwise().sum(), Eigen::ArrayXd::Ones(3));
  expect_all_near(indices.exposure.matrix().diagonal().array(), indices.isolation);
}

TEST(Segregation, ExposureBalancesBetweenGroupSizes) {
  // X_g · xPy_gh = X_h · xPy_hg: both count the same neighbour pairs.
  const UnitCounts counts = units(4, 3, {10, 3, 1, 2, 8, 0, 5, 5, 5, 0, 1, 9});
  const Eigen::ArrayXd group_totals = counts.colwise().sum().transpose();
  const auto indices = segregation_indices(counts);
  for (Eigen::Index g = 0; g < 3; ++g) {
    for (Eigen::Index h = 0; h < 3; ++h) {
      EXPECT_NEAR(group_totals(g) * indices.exposure(g, h), group_totals(h) * indices.exposure(h, g), 1e-9);
    }
  }
}

TEST(Segregation, DissimilarityIsSymmetricForTwoGroups) {
  const auto indices = segregation_indices(units(4, 2, {1, 9, 7, 3, 12, 0, 0, 5}));
  EXPECT_GT(indices.dissimilarity(0), 0.1);
  EXPECT_NEAR(indices.dissimilarity(0), indices.dissimilarity(1), kTolerance);
}

TEST(Segregation, EmptyUnitsAndGroupsAreSkipped) {
  // The hand example with an empty unit inserted and an absent third group added.
  const auto indices = segregation_indices(units(4, 3, {6, 0, 0, 0, 0, 0, 2, 2, 0, 0, 2, 0}));
  expect_all_finite(indices);
  const auto reference = segregation_indices(hand_example());
  expect_all_near(indices.dissimilarity, (Eigen::ArrayXd(3) << reference.dissimilarity, 0).finished());
  expect_all_near(indices.isolation, (Eigen::ArrayXd(3) << reference.isolation, 0).finished());
  EXPECT_NEAR(indices.theil_h, reference.theil_h, kTolerance);
  expect_all_near(indices.exposure.row(2).transpose(), Eigen::ArrayXd::Zero(3));  // no members to average over
  expect_all_near(indices.exposure.col(2), Eigen::ArrayXd::Zero(3));              // nobody to be exposed to
}

TEST(Segregation, DegenerateCitiesGiveZeroNotNaN) {
  const auto empty_city = segregation_indices(UnitCounts::Zero(3, 2));
  expect_all_finite(empty_city);
  expect_all_near(empty_city.dissimilarity, Eigen::ArrayXd::Zero(2));
  EXPECT_EQ(empty_city.theil_h, 0.0);

  // One group is the whole city: nothing to be uneven against, and everyone's neighbours are own group.
  const auto one_group = segregation_indices(units(3, 2, {4, 0, 0, 0, 9, 0}));
  expect_all_finite(one_group);
  expect_all_near(one_group.dissimilarity, Eigen::ArrayXd::Zero(2));
  expect_all_near(one_group.isolation, (Eigen::ArrayXd(2) << 1, 0).finished());
  EXPECT_EQ(one_group.theil_h, 0.0);

  const auto no_units = segregation_indices(UnitCounts(0, 2));
  expect_all_finite(no_units);
  EXPECT_EQ(no_units.dissimilarity.size(), 2);
}

TEST(Segregation, ScalingAllCountsLeavesIndicesUnchanged) {
  const UnitCounts counts = units(4, 3, {10, 3, 1, 2, 8, 0, 5, 5, 5, 0, 1, 9});
  const auto base = segregation_indices(counts);
  const auto scaled = segregation_indices(counts * 10);
  expect_all_near(scaled.dissimilarity, base.dissimilarity);
  expect_all_near(scaled.isolation, base.isolation);
  EXPECT_TRUE(scaled.exposure.isApprox(base.exposure, kTolerance));
  EXPECT_NEAR(scaled.theil_h, base.theil_h, kTolerance);
  EXPECT_GT(base.theil_h, 0.1);  // a case where scaling could matter
}

TEST(Segregation, RejectsNegativeOrNonFiniteCounts) {
  EXPECT_THROW(segregation_indices(units(2, 2, {1, -1, 2, 2})), std::invalid_argument);
  EXPECT_THROW(segregation_indices(units(2, 2, {1, std::numeric_limits<double>::quiet_NaN(), 2, 2})),
               std::invalid_argument);
}

// What random mixing across the city gives, per member: everyone meets `per_person` others drawn
// uniformly from the other T − 1 residents, so g meets h (X_h − [g = h]) / (T − 1) of the time.
Eigen::ArrayXXd random_mixing_contacts(const Eigen::ArrayXd& population, double per_person) {
  const double city = population.sum();
  const Eigen::Index n = population.size();
  Eigen::ArrayXXd contacts(n, n);
  for (Eigen::Index g = 0; g < n; ++g) {
    for (Eigen::Index h = 0; h < n; ++h) {
      contacts(g, h) = population(g) * per_person * (population(h) - (g == h ? 1 : 0)) / (city - 1);
    }
  }
  return contacts;
}

TEST(MixingRatio, RandomMixingGivesOne) {
  const Eigen::ArrayXd population = (Eigen::ArrayXd(3) << 700, 200, 100).finished();
  const Eigen::ArrayXXd contacts = random_mixing_contacts(population, 12);
  expect_all_near(intergroup_mixing_ratio(contacts, population), Eigen::ArrayXd::Ones(3));
}

TEST(MixingRatio, OwnGroupOnlyGivesZero) {
  const Eigen::ArrayXd population = (Eigen::ArrayXd(3) << 700, 200, 100).finished();
  Eigen::ArrayXXd contacts = Eigen::ArrayXXd::Zero(3, 3);
  contacts.matrix().diagonal() << 5000, 900, 30;
  expect_all_near(intergroup_mixing_ratio(contacts, population), Eigen::ArrayXd::Zero(3));
}

TEST(MixingRatio, HandComputedPartialMixing) {
  // T = 4, X = (2, 2): another resident is of the other group with chance 2/3.
  // Group 0: 2 of 4 encounters with group 1 -> 0.5 / (2/3) = 0.75. Group 1: 2 of 8 -> 0.25 / (2/3) = 0.375.
  const Eigen::ArrayXd population = (Eigen::ArrayXd(2) << 2, 2).finished();
  const Eigen::ArrayXXd contacts = (Eigen::ArrayXXd(2, 2) << 2, 2, 2, 6).finished();
  expect_all_near(intergroup_mixing_ratio(contacts, population), (Eigen::ArrayXd(2) << 0.75, 0.375).finished());

  // Meeting other groups more than chance: 3 of 4 encounters -> 0.75 / (2/3) = 1.125.
  const Eigen::ArrayXXd outgoing = (Eigen::ArrayXXd(2, 2) << 1, 3, 3, 1).finished();
  expect_all_near(intergroup_mixing_ratio(outgoing, population), (Eigen::ArrayXd(2) << 1.125, 1.125).finished());
}

TEST(MixingRatio, UndefinedCasesAreNaN) {
  const Eigen::ArrayXd population = (Eigen::ArrayXd(3) << 10, 5, 0).finished();
  const Eigen::ArrayXXd contacts = (Eigen::ArrayXXd(3, 3) << 4, 2, 0, 2, 0, 0, 0, 0, 0).finished();
  const Eigen::ArrayXd ratio = intergroup_mixing_ratio(contacts, population);
  EXPECT_TRUE(std::isfinite(ratio(0)));
  EXPECT_TRUE(std::isfinite(ratio(1)));
  EXPECT_TRUE(std::isnan(ratio(2)));  // no encounters at all

  // A city of one group: there is no one of another group to meet.
  const Eigen::ArrayXd alone = (Eigen::ArrayXd(2) << 10, 0).finished();
  const Eigen::ArrayXXd own_only = (Eigen::ArrayXXd(2, 2) << 8, 0, 0, 0).finished();
  EXPECT_TRUE(std::isnan(intergroup_mixing_ratio(own_only, alone)(0)));
}

TEST(MixingRatio, RejectsMismatchedOrNegativeInputs) {
  const Eigen::ArrayXd population = (Eigen::ArrayXd(2) << 2, 2).finished();
  EXPECT_THROW(intergroup_mixing_ratio(Eigen::ArrayXXd::Ones(2, 3), population), std::invalid_argument);
  EXPECT_THROW(intergroup_mixing_ratio(Eigen::ArrayXXd::Ones(3, 3), population), std::invalid_argument);
  EXPECT_THROW(intergroup_mixing_ratio(-Eigen::ArrayXXd::Ones(2, 2), population), std::invalid_argument);
  EXPECT_THROW(intergroup_mixing_ratio(Eigen::ArrayXXd::Ones(2, 2), -population), std::invalid_argument);
}

}  // namespace
}  // namespace contactsim
