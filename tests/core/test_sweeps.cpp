#include "core/sweeps.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace contactsim {
namespace {

TEST(Sweeps, GridIsEveryCombinationLastAxisFastest) {
  const auto points = grid_design({{1, 2}, {10, 20, 30}});
  ASSERT_EQ(points.size(), 6u);
  EXPECT_EQ(points[0], (std::vector<double>{1, 10}));
  EXPECT_EQ(points[1], (std::vector<double>{1, 20}));
  EXPECT_EQ(points[5], (std::vector<double>{2, 30}));
  EXPECT_THROW(grid_design({{1}, {}}), std::invalid_argument);
}

TEST(Sweeps, LatinHypercubeHasOnePointInEveryStratumOfEveryAxis) {
  constexpr int n = 17, d = 4;
  const auto points = latin_hypercube(n, d, 99);
  ASSERT_EQ(points.size(), static_cast<std::size_t>(n));
  for (int k = 0; k < d; ++k) {
    std::set<int> strata;
    for (const auto& p : points) {
      ASSERT_GE(p[k], 0.0);
      ASSERT_LT(p[k], 1.0);
      strata.insert(static_cast<int>(p[k] * n));
    }
    EXPECT_EQ(strata.size(), static_cast<std::size_t>(n)) << "axis " << k;
  }
  EXPECT_EQ(points, latin_hypercube(n, d, 99));
  EXPECT_NE(points, latin_hypercube(n, d, 100));
  // Axes are permuted independently: not the same order on every axis.
  std::vector<int> first, second;
  for (const auto& p : points) first.push_back(static_cast<int>(p[0] * n)), second.push_back(static_cast<int>(p[1] * n));
  EXPECT_NE(first, second);
}

TEST(Sweeps, SobolIsBalancedDeterministicAndSeeded) {
  constexpr int n = 64, d = 3;
  const auto points = sobol_design(n, d, 5);
  ASSERT_EQ(points.size(), static_cast<std::size_t>(n));
  // A (shifted) Sobol net: each of the 8 equal intervals of an axis holds exactly n/8 points.
  for (int k = 0; k < d; ++k) {
    std::vector<int> counts(8, 0);
    for (const auto& p : points) {
      ASSERT_GE(p[k], 0.0);
      ASSERT_LT(p[k], 1.0);
      ++counts[static_cast<int>(p[k] * 8)];
    }
    for (const int c : counts) EXPECT_EQ(c, n / 8) << "axis " << k;
  }
  EXPECT_EQ(points, sobol_design(n, d, 5));
  EXPECT_NE(points, sobol_design(n, d, 6));
}

}  // namespace
}  // namespace contactsim
