#pragma once
// Asymmetric attitude update after an intergroup encounter (DESIGN §3.6).
//   positive: A[g] += η+·w·m·(1−A[g]);  X −= κ+·w·m·X;  other outgroups get φ of the gain
//   negative: A[g] −= η−·w·m·A[g] / (1 + ρ·positive_memory);  X += κ−·w·m·(1−X)
// w is the venue's contact depth, m the experiencer's age plasticity. Updates are multiplicative
// toward the bounds, so warmth and anxiety stay in [0,1] for any step ≤ 1.
#include "core/params.hpp"
#include "models/city/state.hpp"

#include <array>

namespace contactsim {

struct AttitudeParams {
  double eta_positive;
  double eta_negative;
  double anxiety_relief;
  double anxiety_arousal;
  double secondary_transfer;
  double buffering;
  double plasticity_child;
  double plasticity_youth;
  double plasticity_adult;
  double plasticity_older;

  std::array<float, kNumAgeBands> plasticity() const {
    return {static_cast<float>(plasticity_child), static_cast<float>(plasticity_youth),
            static_cast<float>(plasticity_adult), static_cast<float>(plasticity_older)};
  }
};

inline constexpr std::array<ParamSpec<AttitudeParams>, 10> kAttitudeParams{{
    {"eta_positive", &AttitudeParams::eta_positive, 0.004, 0, 1, "per encounter at depth 1",
     "Small per-encounter change: meta-analytic contact effects are modest (mean r = -.21, "
     "Pettigrew & Tropp 2006) and accrue over many encounters. Magnitude illustrative"},
    {"eta_negative", &AttitudeParams::eta_negative, 0.010, 0, 1, "per encounter at depth 1",
     "Negative contact weighs more per event than positive (Barlow et al. 2012, PSPB 38:1629; "
     "Graf et al. 2014): 2.5x eta_positive"},
    {"anxiety_relief", &AttitudeParams::anxiety_relief, 0.004, 0, 1, "per encounter at depth 1",
     "Positive contact reduces intergroup anxiety, a main mediator (Pettigrew & Tropp 2008)"},
    {"anxiety_arousal", &AttitudeParams::anxiety_arousal, 0.010, 0, 1, "per encounter at depth 1",
     "Negative contact raises anxiety more than positive lowers it (Barlow et al. 2012)"},
    {"secondary_transfer", &AttitudeParams::secondary_transfer, 0.3, 0, 1, "fraction",
     "Secondary transfer to uninvolved outgroups (Pettigrew 2009; Tausch et al. 2010 find "
     "transferred effects about a third of the primary ones)"},
    {"buffering", &AttitudeParams::buffering, 0.05, 0, 10, "per unit positive memory",
     "A history of positive contact buffers the impact of a negative encounter (Paolini et al. "
     "2014, EJSP 44:548). Magnitude illustrative"},
    {"plasticity_child", &AttitudeParams::plasticity_child, 1.0, 0, 1, "multiplier",
     "Reference: attitudes are most malleable in childhood (Raabe & Beelmann 2011)"},
    {"plasticity_youth", &AttitudeParams::plasticity_youth, 1.0, 0, 1, "multiplier",
     "Impressionable years hypothesis (Krosnick & Alwin 1989): adolescents as malleable as children"},
    {"plasticity_adult", &AttitudeParams::plasticity_adult, 0.5, 0, 1, "multiplier",
     "Attitudes 'ossify' after early adulthood (Krosnick & Alwin 1989). Magnitude illustrative"},
    {"plasticity_older", &AttitudeParams::plasticity_older, 0.3, 0, 1, "multiplier",
     "Further stability in later life (Krosnick & Alwin 1989; Visser & Krosnick 1998)"},
}};

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
