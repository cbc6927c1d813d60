#pragma once
// Funding (DESIGN §3.2): each council-funded venue runs at operating level
// f = clamp(budget / budget_full, 0, 1). The level sets how many of its type's weekly sessions
// still run (round(f × full), spread over the week), its per-session capacity and its contact
// quality (less facilitation when cut); below a minimum level it closes. Members keep their
// usual chance of coming to a session that runs, so cut sessions are visits lost — the
// mechanism behind "cuts that remove shared venues reduce positive contact" (Keele 2022).
#include "models/mechanisms/funding_params.hpp"  // generated from funding.params.toml: FundingParams, kFundingParams
#include "models/mechanisms/mechanism.hpp"
#include "core/params.hpp"
#include "core/scheduler.hpp"
#include "models/city/state.hpp"
#include "models/mechanisms/timeline.hpp"
#include "models/city/venue_types.hpp"

#include <array>

namespace contactsim {

using FundingSettings = MechanismSwitch<FundingParams>;

class FundingPhase final : public Phase {
 public:
  FundingPhase(const FundingSettings& settings, const std::vector<VenueType>& types,
               const std::vector<std::string>& ward_names, Venues& venues, VenueDecisions& decisions, EventLog& log);
  const char* name() const override { return "funding"; }
  void run(const Day& day) override;

 private:
  void settle_venue(std::size_t v, Date today);

  FundingParams params_;
  bool enabled_;
  const std::vector<VenueType>& types_;
  std::vector<std::string> ward_names_;
  Venues& venues_;
  VenueDecisions& decisions_;
  EventLog& log_;
};

// The first `sessions` of the days in `days` (a weekday mask), spread evenly over the week.
std::uint8_t spread_sessions(std::uint8_t days, int sessions);

MechanismEntry funding_mechanism();

}  // namespace contactsim
