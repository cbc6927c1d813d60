#pragma once
// Tension (DESIGN §3.9): anti-social behaviour (ASB) in a ward, the tension it breeds, and the
// fear and anxiety that tension spreads.
//
// The Keele evaluation (2022) traced fly-tipping, waste disposal and late-night noise in
// Normacot and Shelton partly to newer migrants not knowing "how things work" (bins, parking,
// noise) — for want of English and of anyone to explain — and answered with a community
// integration officer, community champions and waste leaflets translated into Romanian. So:
//
//   knowledge k_i ∈ [0,1]: starts from the resident's group (newcomer groups lower); each day
//     the gap 1 − k shrinks by a share r = learning_rate·(1 + english_learning·e_i) (learning on
//     one's own, faster with English), and in a served ward also by r·service_learning·trust_i
//     (champions / an integration officer explaining); a leaflet campaign reaching the resident
//     (prob. leaflet_reach) closes leaflet_effect of the gap, only untranslated_comprehension of
//     that if it is in English and e_i is below translation_threshold.
//   incidents_w ~ Poisson(base_rate·N_w·(1 + gap_weight·mean_gap_w)·(1 − services_effect·served_w))
//   tension    T_w ← clamp(T_w·2^(−1/half_life) + incident_impact·incidents_w/(N_w/1000), 0, 1)
//   anxiety    X_i += anxiety_from_tension·T_w·(1 − X_i) a day     (Stephan & Stephan 1985)
//   safety     S_w = 1 − fear_weight·T_w: multiplies attendance at fear-sensitive venues
//   trust      the distrust gap shrinks by trust_gain a day while a ward is served; trust falls by
//              trust_loss_on_end for the ward's residents when its service ends (time-limited
//              programmes, DESIGN §3.2). Trust multiplies the champions' effect on learning.
// The valence phase subtracts βT·T_w from the logit of p+ (its parameter, not this module's).
//
// Cost: wards are updated daily (incidents, tension, safety); the per-resident steps change
// slowly, so their daily factors are accumulated per ward and applied every interval_days, and
// before any service end or leaflet campaign so events keep their order. This compounds exactly
// as daily steps would, except that within an interval learning uses trust as it stood at the
// interval's start and incidents use a mean knowledge gap up to an interval old.
//
// State lives in TensionState, a plain struct of arrays owned by the simulation; the timeline
// drives its inputs (serve_ward, leaflet_campaign); TensionPhase advances it once a day.
#include "models/mechanisms/tension_params.hpp"  // generated from tension.params.toml: TensionParams, kTensionParams
#include "models/mechanisms/mechanism.hpp"
#include "core/calendar.hpp"
#include "core/params.hpp"
#include "core/rng.hpp"
#include "core/scheduler.hpp"
#include "models/city/state.hpp"
#include "models/mechanisms/timeline.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <optional>
#include <string>
#include <vector>

namespace contactsim {

using TensionSettings = MechanismSwitch<TensionParams>;

// A leaflet campaign scheduled by the timeline: applied by the phase on `date` (or on its next
// run if that date has passed).
struct LeafletCampaign {
  Date date;
  int ward = -1;            // ward index, or -1 for the whole city
  bool translated = false;  // in residents' own languages
};

// The mechanism's state: per resident (n entries) and per ward. Owned by the simulation;
// read by valence (tension), attendance (safety) and metrics; written by TensionPhase and by
// the timeline through the setters.
struct TensionState {
  // Per resident (empty when the mechanism is off, to save 8 bytes a resident).
  std::vector<float> knowledge;  // "knowing how things work" in [0,1]
  std::vector<float> trust;      // trust in local services in [0,1]
  // Per ward.
  std::vector<float> tension;              // T in [0,1]
  std::vector<float> safety;               // 1 − fear_weight·T in [0,1]
  std::vector<std::uint8_t> served;        // 1 = champions / an integration officer serve it
  std::vector<std::int64_t> incidents;     // since the last take_incidents()
  // Inputs waiting for the next run of the phase.
  std::vector<LeafletCampaign> pending_leaflets;
  std::vector<int> services_ended;         // wards whose service ended since the last run
  std::vector<std::uint32_t> programme_dropouts;  // residents whose programme was cut short

  int wards() const { return static_cast<int>(tension.size()); }

  // Starts or ends champions / an integration officer in `ward`. Ending a running service
  // lowers its residents' trust at the phase's next run. Throws std::out_of_range for a bad ward.
  void serve_ward(int ward, bool on);
  // Schedules a leaflet campaign in `ward` (−1 = city-wide). Throws std::out_of_range.
  void leaflet_campaign(int ward, bool translated, Date day);
  // Residents whose programme (e.g. a youth cohort) ended abruptly: their trust falls by
  // trust_loss_on_end at the phase's next run. Throws std::out_of_range for an unknown resident.
  void programme_cut_short(std::span<const std::uint32_t> participants);
  // Incidents per ward since the last call; resets the counts.
  std::vector<std::int64_t> take_incidents();
};

// Sizes the state: no tension (safety 1), nothing served, trust initial_trust and knowledge 1
// for every resident (when enabled). Call init_knowledge afterwards for group differences.
TensionState make_tension_state(const TensionSettings& settings, std::size_t residents, int wards);

// Sets each resident's knowledge to its group's mean (group_means[g] in [0,1], one per group):
// newcomer groups start lower. Does nothing when the state holds no per-resident arrays.
// Throws std::invalid_argument for a wrong count or a value outside [0,1].
void init_knowledge(TensionState& state, const Residents& residents, const std::vector<double>& group_means);

// For slots re-used by another person (mobility's replaced_slots(): an in-migrant or a birth):
// knowledge from the new person's group mean, trust back to initial_trust. Does nothing when
// the state holds no per-resident arrays. Throws like init_knowledge, std::out_of_range for a
// slot beyond the residents.
void reinitialise_residents(TensionState& state, const Residents& residents, std::span<const std::uint32_t> slots,
                            const std::vector<double>& group_means, const TensionSettings& settings);

// Mean of a per-resident array per (ward, group), index ward × num_groups + group (0 for an empty
// cell or an empty array), summed in a fixed chunk order: identical for any thread count.
// Throws std::invalid_argument if a non-empty array is not one value per resident.
std::vector<double> ward_group_mean(const Residents& residents, int wards, const std::vector<float>& values);
inline std::vector<double> mean_knowledge(const TensionState& s, const Residents& r) {
  return ward_group_mean(r, s.wards(), s.knowledge);
}
inline std::vector<double> mean_trust(const TensionState& s, const Residents& r) {
  return ward_group_mean(r, s.wards(), s.trust);
}

// Each day: (1) if a service or programme ended or a leaflet campaign is due, the pending
// resident steps are settled, trust falls for those the service or programme served and the
// campaign is read; (2) each ward's incidents are drawn from its mean knowledge gap, its tension
// and safety updated, and the day's learning, trust and anxiety factors accumulated; (3) every
// interval_days the accumulated steps are applied to every resident. Residents are updated independently and
// ward means are fixed-chunk reductions, so results do not depend on the thread count.
// Champions / an integration officer serving a ward over a period (timeline kind "service").
struct ServicePeriod {
  int ward = 0;
  Date start;
  std::optional<Date> end;  // last day served; none = to the end of the run
};

// Switches services on and off on their dates (before the tension phase runs that day).
class ServicesPhase final : public Phase {
 public:
  ServicesPhase(std::vector<ServicePeriod> periods, std::vector<std::string> ward_names, TensionState& state,
                EventLog& log)
      : periods_(std::move(periods)), ward_names_(std::move(ward_names)), state_(state), log_(log) {}
  const char* name() const override { return "services"; }
  void run(const Day& day) override {
    for (const auto& p : periods_) {
      if (p.start == day.date) {
        state_.serve_ward(p.ward, true);
        log_.push_back({day.date, "service_start", ward_names_[p.ward], "community champions / integration officer", 0});
      }
      if (p.end && *p.end + 1 == day.date) {
        state_.serve_ward(p.ward, false);
        log_.push_back({day.date, "service_end", ward_names_[p.ward], "service ended; residents' trust falls", 0});
      }
    }
  }

 private:
  std::vector<ServicePeriod> periods_;
  std::vector<std::string> ward_names_;
  TensionState& state_;
  EventLog& log_;
};

class TensionPhase final : public Phase {
 public:
  // Throws std::invalid_argument if the state is not sized for `residents` (when enabled).
  TensionPhase(const TensionSettings& settings, Residents& residents, TensionState& state, StreamKey key);
  const char* name() const override { return "tension"; }
  void run(const Day& day) override;
  // The tension state (per resident and ward) and the steps accumulated since the last settle.
  // Leaflet campaigns still to come are the restoring scenario's own (they may differ after the
  // checkpoint): those dated on or before the checkpointed day are dropped, the rest kept.
  void save(StateWriter& out) const override;
  void restore(const StateReader& in) override;
  // Applies the resident steps accumulated since the last application (knowledge, trust and
  // anxiety then stand as daily steps would have left them). Called by run on schedule and
  // before events. Calling it at other times (e.g. from recording) nudges the trajectory (trust's
  // within-interval effect, an earlier refresh of the ward gaps), so recording must not call it.
  void settle();

 private:
  void lower_trust_where_services_ended();
  void lower_trust_of_programme_dropouts();
  void read_leaflets(const Day& day, const std::vector<LeafletCampaign>& leaflets);
  void update_wards(const Day& day);
  void refresh_ward_gap();
  std::vector<LeafletCampaign> take_due_leaflets(Date today);

  TensionParams params_;
  bool enabled_;
  int interval_;        // days between applications of the resident steps
  float tension_keep_;  // tension retained per day
  Residents& residents_;
  TensionState& state_;
  StreamKey key_;
  // Per ward, since the last settle(): days served, and the product over days of
  // (1 − anxiety_from_tension·T), the factor by which tension shrank residents' calm (1 − X).
  std::vector<int> served_days_;
  std::vector<double> calm_kept_;
  int pending_days_ = 0;
  // Per ward mean knowledge gap and residents, refreshed whenever knowledge has changed.
  std::vector<double> ward_gap_;
  std::vector<std::int64_t> ward_residents_;
  bool gap_stale_ = true;
  Date last_run_;  // the latest day run (leaflets dated on or before it have been read)
};

// Tension and its inputs, as registry entries: "services" runs early in the day (DESIGN §3.2),
// "tension" after the day's contact.
MechanismEntry services_mechanism();
MechanismEntry tension_mechanism();

}  // namespace contactsim
