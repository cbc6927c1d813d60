#include "models/mechanisms/funding.hpp"
#include "models/city/world.hpp"
#include "models/mechanisms/settings.hpp"
#include "models/run/scenario.hpp"

#include <algorithm>
#include <cmath>

namespace contactsim {

std::uint8_t spread_sessions(std::uint8_t days, int sessions) {
  std::vector<int> open;
  for (int d = 0; d < 7; ++d)
    if ((days >> d) & 1u) open.push_back(d);
  if (sessions <= 0 || open.empty()) return 0;
  if (sessions >= static_cast<int>(open.size())) return days;
  // Evenly spaced picks keep the remaining sessions spread over the week.
  std::uint8_t mask = 0;
  for (int k = 0; k < sessions; ++k) mask = static_cast<std::uint8_t>(mask | (1u << open[k * open.size() / sessions]));
  return mask;
}

FundingPhase::FundingPhase(const FundingSettings& settings, const std::vector<VenueType>& types,
                           const std::vector<std::string>& ward_names, Venues& venues, VenueDecisions& decisions,
                           EventLog& log)
    : params_(settings.params),
      enabled_(settings.enabled),
      types_(types),
      ward_names_(ward_names),
      venues_(venues),
      decisions_(decisions),
      log_(log) {}

void FundingPhase::run(const Day& day) {
  if (!decisions_.changed) return;
  for (std::size_t v = 0; v < venues_.size(); ++v) settle_venue(v, day.date);
  decisions_.changed = false;
}

void FundingPhase::settle_venue(std::size_t v, Date today) {
  const VenueType& type = types_[venues_.type[v]];
  const bool budget_driven = enabled_ && venues_.budget_full[v] > 0;
  const double level = budget_driven ? std::clamp(venues_.budget[v] / venues_.budget_full[v], 0.0, 1.0) : 1.0;
  const bool underfunded = budget_driven && level < params_.min_operating_level;
  const bool was_underfunded = budget_driven && venues_.operating_level[v] < params_.min_operating_level;
  const bool open = !underfunded && !decisions_.closed[v] && !decisions_.locked_type[venues_.type[v]];

  venues_.operating_level[v] = static_cast<float>(level);
  venues_.open[v] = open;
  const int sessions = std::max(1, static_cast<int>(std::lround(level * type.sessions_per_week())));
  venues_.open_days[v] = open ? spread_sessions(type.open_days, sessions) : 0;
  const std::int32_t full = venues_.capacity[v];
  venues_.session_capacity[v] =
      full > 0 ? std::max<std::int32_t>(1, static_cast<std::int32_t>(std::lround(full * level))) : 0;
  venues_.quality_factor[v] = static_cast<float>(1.0 - params_.facilitation_share * (1.0 - level));

  // Budget closures and reopenings are events; decided closures and lockdowns are logged by
  // the timeline itself.
  if (underfunded != was_underfunded)
    log_.push_back({today, underfunded ? "closed_underfunded" : "refunded",
                    venues_.name[v],
                    "operating level " + std::to_string(std::lround(level * 100)) + "%", 1});
}

namespace {
struct FundingConfig final : SettingsConfig<"funding", FundingParams, kFundingParams> {
};
}  // namespace

MechanismEntry funding_mechanism() {
  return {"funding", {}, {},
          read_settings<FundingConfig>,
          describe_settings<FundingConfig>,
          [](const MechanismConfig& config, MechanismContext& c) -> std::unique_ptr<Mechanism> {
            return std::make_unique<PhaseMechanism<FundingPhase>>(
                config_as<FundingConfig>(config).settings, c.scenario.venue_types, c.scenario.ward_names(),
                c.world.venues, c.links.need<VenueDecisions>("venue_decisions", "funding"), c.events);
          }};
}

}  // namespace contactsim
