#include "models/mechanisms/norms.hpp"
#include "models/city/world.hpp"
#include "models/mechanisms/settings.hpp"
#include "models/run/scenario.hpp"

#include "core/reduction.hpp"

#include <algorithm>
#include <cmath>

namespace contactsim {
std::vector<double> ward_group_mean_warmth(const Residents& r, int wards, std::vector<std::int64_t>* counts_out) {
  const auto groups = static_cast<std::size_t>(r.num_groups);
  CellSums sums = sum_by_cell(
      r.size(), static_cast<std::size_t>(wards) * groups, groups,
      [&](std::size_t i) { return static_cast<std::size_t>(r.ward[i]) * groups + r.group[i]; },
      [&](std::size_t i, double* s) {
        const float* w = r.warmth_of(i);
        for (std::size_t g = 0; g < groups; ++g) s[g] += w[g];
      });
  std::vector<double>& mean = sums.sum;
  for (std::size_t cell = 0; cell < sums.count.size(); ++cell)
    for (std::size_t g = 0; g < groups; ++g)
      mean[cell * groups + g] = sums.count[cell] ? mean[cell * groups + g] / static_cast<double>(sums.count[cell]) : 0.0;
  if (counts_out) *counts_out = std::move(sums.count);
  return std::move(mean);
}

NormsPhase::NormsPhase(const NormSettings& settings, Residents& residents, int wards, std::vector<double> societal)
    : enabled_(settings.enabled),
      interval_(static_cast<int>(settings.params.interval_days)),
      pull_(static_cast<float>(1.0 - std::exp2(-interval_ / settings.params.half_life_days))),
      memory_keep_(static_cast<float>(std::exp2(-interval_ / settings.params.memory_half_life_days))),
      societal_weight_(settings.params.societal_weight),
      societal_(std::move(societal)),
      residents_(residents),
      wards_(wards) {}

void NormsPhase::run(const Day& day) {
  if (!enabled_ || (day.index + 1) % interval_ != 0) return;
  std::vector<double> norms = ward_group_mean_warmth(residents_, wards_, nullptr);
  const int groups = residents_.num_groups;
  const std::size_t cells = static_cast<std::size_t>(groups) * groups;
  for (std::size_t k = 0; k < norms.size(); ++k)
    norms[k] = (1.0 - societal_weight_) * norms[k] + societal_weight_ * societal_[k % cells];
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

namespace {
struct NormsConfig final : SettingsConfig<"norms", NormParams, kNormParams> {
};
}  // namespace

MechanismEntry norms_mechanism() {
  return {"norms", {}, {},
          read_settings<NormsConfig>,
          describe_settings<NormsConfig>,
          [](const MechanismConfig& config, MechanismContext& c) -> std::unique_ptr<Mechanism> {
            std::vector<double> societal;
            for (const GroupSpec& g : c.scenario.groups) societal.insert(societal.end(), g.warmth.begin(), g.warmth.end());
            return std::make_unique<PhaseMechanism<NormsPhase>>(config_as<NormsConfig>(config).settings,
                                                                c.world.residents,
                                                                static_cast<int>(c.scenario.wards.size()),
                                                                std::move(societal));
          }};
}

}  // namespace contactsim
