#pragma once
// Checks and measurements shared by the tests of several mechanisms.
#include "core/params.hpp"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

namespace contactsim::test {

// Every default of a parameter table lies in its range and cites a source (a sentence, not a
// word), as the parameter dictionary promises.
template <class Table>
void expect_defaults_in_range_and_sourced(const Table& table) {
  for (const auto& spec : table) {
    EXPECT_GE(spec.fallback, spec.min) << spec.key;
    EXPECT_LE(spec.fallback, spec.max) << spec.key;
    EXPECT_GT(std::string(spec.source).size(), 20u) << spec.key;
  }
}

// `work()` with `threads` OpenMP threads; the count in force before is restored afterwards, so
// later tests in the binary run as they would alone.
template <class Work>
auto with_threads(int threads, Work&& work) {
  struct Restore {
    int saved = omp_get_max_threads();
    ~Restore() { omp_set_num_threads(saved); }
  } restore;
  omp_set_num_threads(threads);
  return std::forward<Work>(work)();
}

// Pearson's correlation of two equally long samples.
inline double correlation(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n, my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    sxy += (x[k] - mx) * (y[k] - my);
    sxx += (x[k] - mx) * (x[k] - mx);
    syy += (y[k] - my) * (y[k] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

}  // namespace contactsim::test
