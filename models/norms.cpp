#include "models/norms.hpp"

#include <algorithm>
#include <cmath>

namespace contactsim {
namespace {
// Fixed partition of residents for reductions: independent of the thread count by design.
constexpr std::size_t kReductionChunk = 1 << 14;
}  // namespace

std::vector<double> ward_group_mean_warmth(const Residents& r, int wards, std::vector<std::int64_t>* counts_out) {
  const int groups = r.num_groups;
  const std::size_t cells = static_cast<std::size_t>(wards) * groups;
  const std::size_t width = cells * groups;
  const std::size_t n = r.size();
  const std::size_t chunks = std::max<std::size_t>(1, (n + kReductionChunk - 1) / kReductionChunk);
  std::vector<double> partial(chunks * width, 0.0);
  std::vector<std::int64_t> partial_counts(chunks * cells, 0);

#pragma omp parallel for schedule(static)
  for (std::size_t c = 0; c < chunks; ++c) {
    double* sums = partial.data() + c * width;
    std::int64_t* counts = partial_counts.data() + c * cells;
    const std::size_t end = std::min(n, (c + 1) * kReductionChunk);
    for (std::size_t i = c * kReductionChunk; i < end; ++i) {
      const std::size_t cell = static_cast<std::size_t>(r.ward[i]) * groups + r.group[i];
      ++counts[cell];
      const float* w = r.warmth_of(i);
      double* s = sums + cell * groups;
      for (int g = 0; g < groups; ++g) s[g] += w[g];
    }
  }
  std::vector<double> mean(width, 0.0);
  std::vector<std::int64_t> counts(cells, 0);
  for (std::size_t c = 0; c < chunks; ++c) {
    for (std::size_t k = 0; k < width; ++k) mean[k] += partial[c * width + k];
    for (std::size_t k = 0; k < cells; ++k) counts[k] += partial_counts[c * cells + k];
  }
  for (std::size_t cell = 0; cell < cells; ++cell)
    for (int g = 0; g < groups; ++g)
      mean[cell * groups + g] = counts[cell] ? mean[cell * groups + g] / static_cast<double>(counts[cell]) : 0.0;
  if (counts_out) *counts_out = std::move(counts);
  return mean;
}

NormsPhase::NormsPhase(const NormSettings& settings, Residents& residents, int wards)
    : enabled_(settings.enabled),
      interval_(static_cast<int>(settings.params.interval_days)),
      pull_(static_cast<float>(1.0 - std::exp2(-interval_ / settings.params.half_life_days))),
      memory_keep_(static_cast<float>(std::exp2(-interval_ / settings.params.memory_half_life_days))),
      residents_(residents),
      wards_(wards) {}

void NormsPhase::run(const Day& day) {
  if (!enabled_ || (day.index + 1) % interval_ != 0) return;
  const std::vector<double> norms = ward_group_mean_warmth(residents_, wards_, nullptr);
  const int groups = residents_.num_groups;
  const std::size_t n = residents_.size();
#pragma omp parallel for schedule(static, 4096)
  for (std::size_t i = 0; i < n; ++i) {
    const double* target = norms.data() + (static_cast<std::size_t>(residents_.ward[i]) * groups + residents_.group[i]) * groups;
    float* w = residents_.warmth_of(i);
    const int own = residents_.group[i];
    const float personal = residents_.disposition[i];
    for (int g = 0; g < groups; ++g) {
      const float norm = static_cast<float>(target[g]) + (g == own ? 0.0f : personal);
      w[g] += pull_ * (std::clamp(norm, 0.0f, 1.0f) - w[g]);
    }
    residents_.positive_memory[i] *= memory_keep_;
    residents_.negative_memory[i] *= memory_keep_;
  }
}

}  // namespace contactsim
