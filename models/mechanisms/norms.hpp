#pragma once
// Norms and decay (DESIGN §3.10): each day every resident's warmth relaxes toward the mean
// warmth of their own group in their own ward (the in-group ward norm) plus their stable
// personal disposition, so what contact added to one person fades with a half-life of about a
// year while shared shifts and lasting individual differences persist; memories of positive
// and negative contact fade with their own half-life.
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
  NormsPhase(const NormSettings& settings, Residents& residents, int wards);
  const char* name() const override { return "norms"; }
  void run(const Day& day) override;

 private:
  bool enabled_;
  int interval_;        // days between applications
  float pull_;          // relaxation toward the norm per application
  float memory_keep_;   // memory retention per application
  Residents& residents_;
  int wards_;
};

MechanismEntry norms_mechanism();

}  // namespace contactsim
