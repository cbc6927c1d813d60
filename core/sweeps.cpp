#include "core/sweeps.hpp"

#include "core/rng.hpp"

#include <boost/random/sobol.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace contactsim {
namespace {

// Streams of the designs are keyed apart from every simulation stream by their own purposes.
constexpr Purpose kLatinPermutation = 900;
constexpr Purpose kLatinJitter = 901;
constexpr Purpose kSobolShift = 902;

}  // namespace

std::vector<std::vector<double>> grid_design(const std::vector<std::vector<double>>& values) {
  std::vector<std::vector<double>> points{{}};
  for (const auto& axis : values) {
    if (axis.empty()) throw std::invalid_argument("grid_design: an axis has no values");
    std::vector<std::vector<double>> next;
    next.reserve(points.size() * axis.size());
    for (const auto& point : points)
      for (const double v : axis) {
        next.push_back(point);
        next.back().push_back(v);
      }
    points = std::move(next);
  }
  return points;
}

std::vector<std::vector<double>> latin_hypercube(int samples, int dimensions, std::uint64_t seed) {
  if (samples < 1 || dimensions < 1) throw std::invalid_argument("latin_hypercube: samples and dimensions must be >= 1");
  const StreamKey key{seed, 0};
  std::vector<std::vector<double>> points(static_cast<std::size_t>(samples), std::vector<double>(dimensions));
  std::vector<std::uint32_t> strata(static_cast<std::size_t>(samples));
  for (int d = 0; d < dimensions; ++d) {
    std::iota(strata.begin(), strata.end(), 0u);
    RandomStream shuffle(key, static_cast<std::uint32_t>(d), 0, kLatinPermutation);
    for (std::uint32_t i = static_cast<std::uint32_t>(samples) - 1; i > 0; --i)  // Fisher-Yates
      std::swap(strata[i], strata[shuffle.below(i + 1)]);
    RandomStream jitter(key, static_cast<std::uint32_t>(d), 0, kLatinJitter);
    for (int i = 0; i < samples; ++i)
      points[i][d] = (strata[i] + jitter.uniform()) / samples;
  }
  return points;
}

std::vector<std::vector<double>> sobol_design(int samples, int dimensions, std::uint64_t seed) {
  if (samples < 1 || dimensions < 1) throw std::invalid_argument("sobol_design: samples and dimensions must be >= 1");
  boost::random::sobol engine(static_cast<std::size_t>(dimensions));
  RandomStream shift_stream(StreamKey{seed, 0}, 0, 0, kSobolShift);
  std::vector<double> shift(dimensions);
  for (double& s : shift) s = shift_stream.uniform();
  const double scale = 1.0 / (static_cast<double>(engine.max()) + 1.0);
  std::vector<std::vector<double>> points(static_cast<std::size_t>(samples), std::vector<double>(dimensions));
  // Boost's engine starts at the sequence's second point; the first is the origin. With it,
  // the first 2^k points form a complete net (every dyadic interval equally filled).
  for (std::size_t i = 0; i < points.size(); ++i)
    for (int d = 0; d < dimensions; ++d) {
      const double u = (i == 0 ? 0.0 : static_cast<double>(engine()) * scale) + shift[d];
      points[i][d] = u - std::floor(u);
    }
  return points;
}

}  // namespace contactsim
