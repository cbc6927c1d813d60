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

// The word-at-a-time count (rows up to 8 wide) and the byte loop (wider rows) against a plain
// visit of the same neighbourhood, on random grids with several labels, at every cell
// (edges and corners included) and for radii on both sides of the 8-wide boundary.
TEST(OccupancyGrid, LabelCountsMatchTheNeighboursVisited) {
  for (const int side : {1, 2, 3, 9, 17, 64, 100}) {
    OccupancyGrid g(side);
    std::vector<std::uint8_t> label_of(g.cells());
    std::uint32_t state = 12345u + static_cast<std::uint32_t>(side);
    for (std::uint32_t c = 0; c < g.cells(); ++c) {
      state = state * 1664525u + 1013904223u;
      if ((state >> 28) < 3) continue;  // about one cell in five left empty
      const auto label = static_cast<std::uint8_t>(1 + (state >> 8) % 3);
      g.place(static_cast<std::int32_t>(c), c, label);
      label_of[c] = label;
    }
    for (const int radius : {1, 2, 3, 4, 6}) {
      for (std::uint32_t c = 0; c < g.cells(); ++c) {
        for (std::uint8_t wanted = 1; wanted <= 3; ++wanted) {
          int visited = 0;
          g.for_each_neighbour(c, radius, [&](std::int32_t a) { visited += label_of[static_cast<std::uint32_t>(a)] == wanted; });
          ASSERT_EQ(g.count_neighbours_labelled(c, radius, wanted), visited)
              << "side " << side << ", radius " << radius << ", cell " << c << ", label " << int{wanted};
        }
      }
    }
  }
}

TEST(OccupancyGrid, LabelsFollowTheirOccupants) {
  OccupancyGrid g(3);
  g.place(0, 4, 2);
  g.place(1, 0, 1);
  EXPECT_EQ(g.label(4), 2);
  EXPECT_EQ(g.count_neighbours_labelled(0, 1, 2), 1);
  EXPECT_EQ(g.count_neighbours_labelled(4, 1, 2), 0);  // itself excluded
  g.vacate(4);
  EXPECT_EQ(g.label(4), OccupancyGrid::kNoLabel);
  EXPECT_EQ(g.count_neighbours_labelled(0, 1, 2), 0);
  EXPECT_EQ(g.count_neighbours_labelled(8, 2, 1), 1);
}

}  // namespace
}  // namespace contactsim
