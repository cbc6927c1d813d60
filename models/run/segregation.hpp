#pragma once
// Segregation indices (DESIGN §5): how unevenly groups live across a city's blocks or wards
// (residential segregation), and how far the people residents actually meet depart from
// random mixing (activity-space segregation). Pure functions of count tables: no simulation
// state, so they can be computed for blocks and wards alike, or on census data for comparison.
//
// Conventions shared by every index below, with T the city total, t_u the total of unit u,
// x_ug the residents of group g in unit u and X_g the city total of group g:
// - Empty units (t_u = 0) contribute nothing; they are skipped rather than divided by.
// - Indices that are undefined because a group is absent (X_g = 0) or is the whole city
//   (X_g = T) are reported as 0: with nobody to compare against there is no unevenness.
// - Every index is a ratio of counts, so it is unchanged when all counts are scaled alike
//   (e.g. a population run at `population.scale = 0.1`).
#include <Eigen/Core>

namespace contactsim {

// counts(u, g): residents of group g in spatial unit u (a block or a ward). Counts are doubles
// so that weighted or scaled populations can be passed as they are.
using UnitCounts = Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct SegregationIndices {
  // Index of dissimilarity of each group g against everyone else (Massey & Denton 1988):
  //   D_g = ½ Σ_u | x_ug/X_g − (t_u − x_ug)/(T − X_g) |
  // The share of group g (equivalently, of everyone else) who would have to move to another
  // unit for every unit to hold the city's mix. 0 = even spread, 1 = no unit shared with
  // others. Measures *evenness* only: it ignores how large the group is. For two groups
  // D_0 == D_1. 0 when X_g = 0 or X_g = T.
  Eigen::ArrayXd dissimilarity;

  // Isolation index xPx of each group g (Massey & Denton 1988):
  //   xPx_g = Σ_u (x_ug/X_g)(x_ug/t_u)
  // The share of the own group among the residents of the unit where the average member of g
  // lives (the resident included). Measures *exposure*: unlike D it grows with the group's
  // size, so compare it with the group's city share π_g = X_g/T (isolation = π_g under even
  // spread, 1 when the group lives entirely apart). 0 when X_g = 0.
  Eigen::ArrayXd isolation;

  // Exposure (interaction) index xPy (Massey & Denton 1988), exposure(g, h):
  //   xPy_gh = Σ_u (x_ug/X_g)(x_uh/t_u)
  // The share of group h in the unit of the average member of g: the chance that a random
  // neighbour of a random member of g belongs to h. exposure(g, g) is the isolation of g, and
  // each row of a group present in the city sums to 1. Asymmetric: X_g·xPy_gh = X_h·xPy_hg,
  // so a small group can be highly exposed to a large one but not the other way round. The
  // row of an absent group is all 0.
  Eigen::ArrayXXd exposure;

  // Multigroup information index H (Theil; Reardon & Firebaugh 2002), in [0, 1]:
  //   E   = −Σ_g π_g ln π_g            city entropy (diversity), π_g = X_g/T
  //   E_u = −Σ_g π_ug ln π_ug          unit entropy, π_ug = x_ug/t_u  (0·ln 0 = 0)
  //   H   = Σ_u t_u (E − E_u) / (T·E)
  // How much less diverse the average resident's unit is than the city, as a share of the
  // city's diversity. 0 = every unit has the city mix, 1 = every unit holds one group only.
  // One number for all groups at once; Reardon & Firebaugh recommend it as the multigroup
  // evenness measure because it satisfies the transfer and decomposability principles.
  // 0 when E = 0 (a city of one group, or empty).
  double theil_h = 0;
};

// Every index above for one partition of the city into units (rows of `counts`).
// Throws std::invalid_argument if a count is negative or not finite.
SegregationIndices segregation_indices(const UnitCounts& counts);

// Activity-space segregation (DESIGN §5: who actually meets whom vs chance).
//
// contacts(g, h): encounters a member of g had with a member of h, so row g holds every
// encounter as experienced by members of g. A symmetric tally (each intergroup encounter in
// both (g, h) and (h, g)) is fine; for the ratio to be unbiased a within-group encounter should
// likewise count once for each participant.
// group_population(g): X_g, residents of group g (T is their sum).
//
// For each group g returns
//   observed share  = (Σ_h contacts(g, h) − contacts(g, g)) / Σ_h contacts(g, h)
//   random share    = (T − X_g) / (T − 1)
//   ratio           = observed share / random share
// where the random share is the chance that someone else drawn at random from the whole city
// belongs to another group (the −1: nobody meets themselves). Equivalently it compares g's
// observed outgroup encounters with expected(g, h) = total_g · X_h / (T − 1) summed over h ≠ g.
// 1 = g meets other groups as often as random mixing across the city would give; < 1 = members
// of g meet their own group more than chance (0 = never meet anyone else); > 1 = they meet
// other groups more than chance.
//
// NaN for g when the ratio is undefined: g had no encounters (nothing was observed), or random
// mixing offers no one of another group to meet (X_g = T, or T ≤ 1), so the random share is 0.
// Throws std::invalid_argument if `contacts` is not square with one row per group, or if a
// contact count or population is negative or not finite.
Eigen::ArrayXd intergroup_mixing_ratio(const Eigen::ArrayXXd& contacts, const Eigen::ArrayXd& group_population);

}  // namespace contactsim
