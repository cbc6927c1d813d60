#include "core/synthesis.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <numeric>
#include <stdexcept>

namespace contactsim {
namespace {

using Counts = std::vector<std::vector<std::int64_t>>;

std::int64_t column_sum(const Counts& counts, std::size_t group) {
  std::int64_t sum = 0;
  for (const auto& row : counts) sum += row[group];
  return sum;
}

std::int64_t row_sum(const std::vector<std::int64_t>& row) {
  return std::accumulate(row.begin(), row.end(), std::int64_t{0});
}

TEST(Apportion, SumsExactlyAndBreaksTiesByLowerIndex) {
  EXPECT_EQ(apportion(10, {1, 1, 1}), (std::vector<std::int64_t>{4, 3, 3}));
  EXPECT_EQ(apportion(2, {1, 1, 1}), (std::vector<std::int64_t>{1, 1, 0}));
  EXPECT_EQ(apportion(7, {0, 2, 5}), (std::vector<std::int64_t>{0, 2, 5}));
  EXPECT_EQ(apportion(0, {0, 0}), (std::vector<std::int64_t>{0, 0}));
  const std::vector<double> weights{0.137, 0.291, 0.05, 0.522, 1e-6};
  for (std::int64_t total : {1, 17, 999, 258369, 1000000007}) EXPECT_EQ(row_sum(apportion(total, weights)), total);
}

TEST(Apportion, RejectsImpossibleInput) {
  EXPECT_THROW(apportion(5, {0, 0}), std::invalid_argument);
  EXPECT_THROW(apportion(5, {1, -1}), std::invalid_argument);
  EXPECT_THROW(apportion(-1, {1}), std::invalid_argument);
}

TEST(ScaleCounts, PreservesRoundedColumnTotals) {
  const Counts counts{{101, 7, 0}, {55, 3, 9}, {12, 1, 4}};
  const Counts scaled = scale_counts(counts, 0.1);
  EXPECT_EQ(column_sum(scaled, 0), 17);  // round(16.8)
  EXPECT_EQ(column_sum(scaled, 1), 1);   // round(1.1)
  EXPECT_EQ(column_sum(scaled, 2), 1);   // round(1.3)
  for (std::size_t w = 0; w < counts.size(); ++w)
    for (std::size_t g = 0; g < 3; ++g)
      EXPECT_LE(std::llabs(scaled[w][g] - std::llround(static_cast<double>(counts[w][g]) * 0.1)), 1);
  EXPECT_EQ(scale_counts(counts, 1.0), counts);
  EXPECT_THROW(scale_counts(counts, -0.5), std::invalid_argument);
}

TEST(AllocateToWards, ColumnsSumExactlyToCityTotals) {
  const std::vector<std::int64_t> city{190000, 25000, 13400, 20000, 9969};
  const std::vector<double> weights{7.1, 6.9, 7.4, 5.2, 8.8, 6.0, 7.7};
  const std::vector<ConcentrationTarget> targets{{1, 1, 0.493}, {2, 3, 0.363}, {4, 1, 0.05}};
  const Counts counts = allocate_to_wards(city, weights, targets);
  ASSERT_EQ(counts.size(), weights.size());
  for (std::size_t g = 0; g < city.size(); ++g) EXPECT_EQ(column_sum(counts, g), city[g]) << "group " << g;
  EXPECT_EQ(counts, allocate_to_wards(city, weights, targets));  // deterministic
}

TEST(AllocateToWards, TargetsHonouredWithinRounding) {
  const std::vector<std::int64_t> city{90000, 10000};
  const std::vector<double> weights{1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  const Counts counts = allocate_to_wards(city, weights, {{3, 1, 0.3}});
  // Ward 3 is a tenth of 100000 people; 30% of it is the targeted group.
  EXPECT_NEAR(static_cast<double>(counts[3][1]), 3000.0, 1.0);
  // The other 7000 go to the nine untargeted wards equally (same size, same room).
  for (std::size_t w = 0; w < weights.size(); ++w) {
    if (w == 3) continue;
    EXPECT_NEAR(static_cast<double>(counts[w][1]), 7000.0 / 9.0, 1.0) << "ward " << w;
  }
}

TEST(AllocateToWards, WardSizesFollowWeightsWithoutTargets) {
  const Counts counts = allocate_to_wards({600, 400}, {1, 3}, {});
  EXPECT_EQ(row_sum(counts[0]), 250);
  EXPECT_EQ(row_sum(counts[1]), 750);
}

TEST(AllocateToWards, InvalidTargetsThrow) {
  const std::vector<std::int64_t> city{900, 100};
  const std::vector<double> weights{1, 1};
  // Shares in one ward must leave room for someone else.
  EXPECT_THROW(allocate_to_wards(city, weights, {{0, 0, 0.6}, {0, 1, 0.4}}), std::invalid_argument);
  // 60% of a 500-person ward is 300 people of a group that has only 100 in the city.
  EXPECT_THROW(allocate_to_wards(city, weights, {{0, 1, 0.6}}), std::invalid_argument);
  EXPECT_THROW(allocate_to_wards(city, weights, {{2, 0, 0.1}}), std::invalid_argument);
  EXPECT_THROW(allocate_to_wards(city, weights, {{0, 0, 1.0}}), std::invalid_argument);
  EXPECT_THROW(allocate_to_wards(city, weights, {{0, 0, 0.1}, {0, 0, 0.2}}), std::invalid_argument);
}

}  // namespace
}  // namespace contactsim
