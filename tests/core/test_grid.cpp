#include "core/grid.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace contactsim {
namespace {

std::vector<std::int32_t> neighbours(const OccupancyGrid& g, std::uint32_t cell, int radius) {
  std::vector<std::int32_t> out;
  g.for_each_neighbour(cell, radius, [&](std::int32_t a) { out.push_back(a); });
  std::sort(out.begin(), out.end());
  return out;
}

TEST(OccupancyGrid, VacanciesTrackPlacesAndMoves) {
  OccupancyGrid g(4);
  EXPECT_EQ(g.vacancies(), 16u);
  g.place(7, 5);
  g.place(8, 0);
  EXPECT_EQ(g.vacancies(), 14u);
  EXPECT_EQ(g.occupant(5), 7);
  std::set<std::uint32_t> empty;
  for (std::size_t k = 0; k < g.vacancies(); ++k) empty.insert(g.vacancy(k));
  EXPECT_EQ(empty.size(), 14u);
  EXPECT_FALSE(empty.count(5) || empty.count(0));
  g.vacate(5);
  g.place(7, 15);
  EXPECT_EQ(g.occupant(5), OccupancyGrid::kEmpty);
  EXPECT_EQ(g.occupant(15), 7);
  EXPECT_EQ(g.vacancies(), 14u);
}

TEST(OccupancyGrid, ChebyshevNeighboursAreClippedAtTheEdges) {
  OccupancyGrid g(5);
  for (std::uint32_t c = 0; c < g.cells(); ++c) g.place(static_cast<std::int32_t>(c), c);
  EXPECT_EQ(neighbours(g, 12, 1), (std::vector<std::int32_t>{6, 7, 8, 11, 13, 16, 17, 18}));  // centre
  EXPECT_EQ(neighbours(g, 0, 1), (std::vector<std::int32_t>{1, 5, 6}));                      // corner, no wrap
  EXPECT_EQ(neighbours(g, 12, 2).size(), 24u);
  EXPECT_EQ(neighbours(g, 0, 2).size(), 8u);
  g.vacate(6);
  EXPECT_EQ(neighbours(g, 0, 1), (std::vector<std::int32_t>{1, 5}));
}

}  // namespace
}  // namespace contactsim
