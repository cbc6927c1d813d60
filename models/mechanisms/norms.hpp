#pragma once
// Norms and decay (DESIGN §3.10): each day every resident's warmth relaxes toward a norm plus
// their stable personal disposition, so what contact added to one person fades with a half-life
// of about a year while shared shifts and lasting individual differences persist. The norm
// mixes the ward's in-group mean (what neighbours of one's own group feel: local shifts spread)
// with the group's societal level (the scenario's warmth means: what family, media and the
// national climate keep teaching), weighted by societal_weight; the societal part is what keeps
// a city with no policy from drifting. Memories of positive and negative contact fade with their
// own half-life.
#include "models/mechanisms/norms_params.hpp"  // generated from norms.params.toml: NormParams, kNormParams
#include "models/mechanisms/mechanism.hpp"
#include "core/params.hpp"
#include "core/scheduler.hpp"
#include "models/city/state.hpp"

#include <array>
#include <vector>

namespace contactsim {

using NormSettings = MechanismSwitch<NormParams>;

// Mean warmth per (ward, group, target group), summed in a fixed chunk order so the result is
// the same bit for bit whatever the thread count. Shared by norms and metrics.
std::vector<double> ward_group_mean_warmth(const Residents& residents, int wards, std::vector<std::int64_t>* counts);

class NormsPhase final : public Phase {
 public:
  // `societal` holds each group's societal warmth toward each group (groups × groups).
  NormsPhase(const NormSettings& settings, Residents& residents, int wards, std::vector<double> societal);
  const char* name() const override { return "norms"; }
  void run(const Day& day) override;

 private:
  bool enabled_;
  int interval_;        // days between applications
  float pull_;          // relaxation toward the norm per application
  float memory_keep_;   // memory retention per application
  double societal_weight_;
  std::vector<double> societal_;  // group × target group
  Residents& residents_;
  int wards_;
};

MechanismEntry norms_mechanism();

}  // namespace contactsim
