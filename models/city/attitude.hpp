#pragma once
// Asymmetric attitude update after an intergroup encounter (DESIGN §3.6).
//   positive: A[g] += η+·w·m·(1−A[g]);  X −= κ+·w·m·X;  other outgroups get φ of the gain
//   negative: A[g] −= η−·w·m·A[g] / (1 + ρ·positive_memory);  X += κ−·w·m·(1−X)
// w is the venue's contact depth, m the experiencer's age plasticity. Updates are multiplicative
// toward the bounds, so warmth and anxiety stay in [0,1] for any step ≤ 1.
#include "models/city/attitude_params.hpp"  // generated from attitude.params.toml: AttitudeParams, kAttitudeParams
#include "core/params.hpp"
#include "models/city/state.hpp"

#include <array>

namespace contactsim {

// Age plasticity m by age band (child, youth, adult, older), as the kernel multiplies it.
inline std::array<float, kNumAgeBands> plasticity_by_age_band(const AttitudeParams& p) {
  return {static_cast<float>(p.plasticity_child), static_cast<float>(p.plasticity_youth),
          static_cast<float>(p.plasticity_adult), static_cast<float>(p.plasticity_older)};
}

// Applies a positive encounter to a resident's warmth row `warmth` (length groups) toward
// `target`, skipping the resident's own group for secondary transfer.
inline void apply_positive(const AttitudeParams& p, float* warmth, int groups, int own, int target, float step,
                           float& anxiety, float& positive_memory) {
  const float gain = static_cast<float>(p.eta_positive) * step;
  warmth[target] += gain * (1.0f - warmth[target]);
  const float transfer = gain * static_cast<float>(p.secondary_transfer);
  if (transfer > 0.0f)
    for (int g = 0; g < groups; ++g)
      if (g != own && g != target) warmth[g] += transfer * (1.0f - warmth[g]);
  anxiety -= static_cast<float>(p.anxiety_relief) * step * anxiety;
  positive_memory += 1.0f;
}

inline void apply_negative(const AttitudeParams& p, float* warmth, int target, float step, float& anxiety,
                           float& negative_memory, float positive_memory) {
  const float loss = static_cast<float>(p.eta_negative) * step /
                     (1.0f + static_cast<float>(p.buffering) * positive_memory);
  warmth[target] -= loss * warmth[target];
  anxiety += static_cast<float>(p.anxiety_arousal) * step * (1.0f - anxiety);
  negative_memory += 1.0f;
}

}  // namespace contactsim
