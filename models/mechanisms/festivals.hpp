#pragma once
// Festivals (DESIGN §3 "Programmes"): one-off celebrations such as the European Folkloric
// Festival that Stoke-on-Trent's integration officer and Eastern European community leaders put
// on in Normacot and Shelton in September 2019 "to build positive community relations between
// settled and newer migrant communities" (Keele evaluation 2022, 3.5.3 and 6.3).
//
// Timeline item:
//   [[timeline]]
//   kind = "festival"
//   date = 2019-09-14          # first day, within the run
//   days = 2                   # optional, default 1: the festival runs on `days` consecutive days
//   ward = "Normacot"          # optional: residents of this ward attend; absent = the whole city
//   expected_attendance = 800  # people per festival day, in real people (× population.scale)
//   appeal = { other_white = 3, white_british = 1 }   # optional relative appeal, default 1
//   label = "European Folkloric Festival"             # optional, for /events
//
// On each festival day every resident of its ward (or city) not at another festival that day
// attends with probability p_i = min(1, c·appeal[g_i]·(1 − crowd_avoidance·X_i)): anxious
// residents avoid crowds of strangers (Stephan & Stephan 1985), and c is solved that day so the
// expected total equals expected_attendance (exactly, capped probabilities included). A resident
// of a group with appeal 0 never attends.
//
// Attendees, ordered by residential block (then id), are cut into consecutive crowds of about
// crowd_size: people come with their neighbours and mingle mostly near them, so a crowd mixes
// neighbouring blocks rather than the whole city. Each crowd is one encounter session
// (run_encounter_session) with the festival's contact setting: many brief, cooperative,
// institutionally supported encounters (λ, h, q, w in festivals.params.toml; not stable: a
// one-day crowd makes acquaintances, not friends). Crowds are disjoint, so they run in parallel; every draw is keyed,
// so results do not depend on the thread count.
#include "models/mechanisms/festivals_params.hpp"  // generated from festivals.params.toml: FestivalParams, kFestivalParams
#include "models/mechanisms/mechanism.hpp"
#include "core/calendar.hpp"
#include "core/config.hpp"
#include "core/params.hpp"
#include "core/rng.hpp"
#include "core/scheduler.hpp"
#include "models/city/encounters.hpp"
#include "models/city/state.hpp"
#include "models/mechanisms/timeline.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace contactsim {

using FestivalSettings = MechanismSwitch<FestivalParams>;

struct FestivalSpec {
  Date date;                         // first day
  int days = 1;
  int ward = -1;                     // ward index, or -1 for the whole city
  double expected_attendance = 0;    // simulated people per day (already × population.scale)
  std::vector<double> appeal;        // per group, relative (default 1)
  std::string label;
};

// Reads one [[timeline]] item of kind "festival" (its `kind` is read by the caller). `groups`
// and `wards` are the scenario's names; `unscaled_counts[ward][group]` the real population,
// against which expected_attendance is checked; `population_scale` converts it to simulated
// people. Throws ConfigError naming the key for: a date outside [start, end], days outside
// [1, 366], an unknown ward or group, a negative appeal or attendance, no group with a positive
// appeal, or an attendance above the residents who could attend (ward, groups with appeal > 0).
FestivalSpec read_festival(const ConfigTable& item, Date start, Date end, const std::vector<std::string>& groups,
                           const std::vector<std::string>& wards,
                           const std::vector<std::vector<std::int64_t>>& unscaled_counts, double population_scale);

// Festival attendance since the last take(), per (ward, group) of the attendee: index
// ward × groups + group. Owned by the simulation, filled by FestivalsPhase, read by metrics.
struct FestivalAttendance {
  int wards = 0, groups = 0;
  std::vector<std::int64_t> attended;

  void resize(int w, int g) {
    wards = w, groups = g;
    attended.assign(static_cast<std::size_t>(w) * g, 0);
  }
  std::vector<std::int64_t> take() {
    std::vector<std::int64_t> taken = attended;
    std::fill(attended.begin(), attended.end(), 0);
    return taken;
  }
};

// c such that Σ_i min(1, c·w_i) = min(expected, #{w_i > 0}) for weights w_i ≥ 0; +inf when
// everyone with a positive weight must attend, 0 when expected ≤ 0. Exposed for tests.
double attendance_scale(std::vector<double> weights, double expected);

class FestivalsPhase final : public Phase {
 public:
  // `venue_type` is the ContactTally column festival contacts are counted in; `tally` must be
  // sized before construction (its layout is copied per thread). Ward names are for /events.
  FestivalsPhase(const FestivalSettings& settings, std::vector<FestivalSpec> festivals, const EncounterRules& rules,
                 int venue_type, std::vector<std::string> ward_names, Residents& residents, ContactTally& tally,
                 FestivalAttendance& attendance, EventLog& log, StreamKey key);
  const char* name() const override { return "festivals"; }
  void run(const Day& day) override;

 private:
  // Draws today's attendees of festival `index` (the `ordinal`-th festival today) among
  // residents not yet at a festival; returns them in block order.
  std::vector<std::uint32_t> draw_attendees(const Day& day, std::size_t index, int ordinal);
  void run_crowds(const Day& day, std::size_t index, const std::vector<std::uint32_t>& attendees);

  FestivalParams params_;
  bool enabled_;
  std::vector<FestivalSpec> festivals_;
  const EncounterRules& rules_;
  ContactSetting setting_;
  std::vector<std::string> ward_names_;
  Residents& residents_;
  ContactTally& tally_;
  FestivalAttendance& attendance_;
  EventLog& log_;
  StreamKey key_;
  std::vector<std::uint8_t> at_festival_;  // per resident: already attending one today
  std::vector<ContactCounts> thread_counts_;
};

MechanismEntry festivals_mechanism();

}  // namespace contactsim
