#pragma once
// Parameter-space designs for ensembles: a full grid, a Latin hypercube and a (randomly shifted)
// Sobol sequence. Designs are points in the unit cube (or, for the grid, index tuples) mapped to
// each parameter's range by the caller; they know nothing about what the parameters mean.
#include <cstdint>
#include <vector>

namespace contactsim {

// Every combination of the value lists, the last parameter varying fastest:
// {{1,2},{10,20}} → {1,10},{1,20},{2,10},{2,20}.
std::vector<std::vector<double>> grid_design(const std::vector<std::vector<double>>& values);

// `samples` points in [0,1)^dimensions, one in each of the `samples` equal strata of every axis
// (McKay, Beckman & Conover 1979), strata permuted and points jittered within them by keyed
// random streams: the same seed gives the same design.
std::vector<std::vector<double>> latin_hypercube(int samples, int dimensions, std::uint64_t seed);

// The first `samples` points of the Sobol sequence in [0,1)^dimensions (Joe & Kuo direction
// numbers, via Boost.Random), shifted modulo 1 by one random vector drawn from `seed`
// (Cranley & Patterson 1976): low discrepancy is kept and different seeds give independent
// randomisations. At most 1111 dimensions (Boost's table).
std::vector<std::vector<double>> sobol_design(int samples, int dimensions, std::uint64_t seed);

}  // namespace contactsim
