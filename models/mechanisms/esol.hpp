#pragma once
// ESOL: English for Speakers of Other Languages classes (DESIGN §3 "Programmes", §3.11).
//
// Keele evaluation 2022: language barriers stood between newer Eastern European migrants and
// their neighbours and services (5.1.1), residents asked for "accessible, ongoing, English
// language courses" (recommendations), and a provider in Normacot ran "one ESOL group, and then
// that was it. Their funding got pulled" (5.1.2). A course here is exactly that: a dated block
// of classes; "withdrawn after one course" is a course whose end has no successor.
//
// Timeline item:
//   [[timeline]]
//   kind = "esol_course"
//   start = 2019-01-07        # within the run
//   end = 2019-12-20          # last day of classes (on or after start; may pass the run's end)
//   ward = "Normacot"         # optional: residents of this ward; absent = the whole city
//   seats = 30                # real seats (× population.scale, at least 1)
//   sessions_per_week = 2     # 1–7; weekdays: 1 Tue; 2 Tue Thu; 3 Mon Wed Fri; 4 Mon Tue Thu
//                             # Fri; 5 Mon–Fri; 6 Mon–Sat; 7 every day
//   label = "Normacot ESOL"   # optional, for /events
//
// Runtime, per course:
// - On its start day the waiting list is formed: every adult or older resident of the ward (or
//   city) with English below eligibility_threshold applies with probability `interest`, and the
//   applicants are ordered by a keyed random priority (stream entity = resident, day word =
//   course index, purpose kEsolApplication: first draw applies-or-not, second the priority;
//   ties by id). The order is fixed for the course, so a baseline and a counterfactual share it.
// - Each day of the course, in order: learners whose English reached the threshold complete;
//   others drop out with the daily hazard of monthly_dropout; free seats go to the head of the
//   waiting list (skipping anyone who has since reached the threshold, left the ward, left the
//   city, or holds a seat in another course); on a session day every class meets.
// - Seats are split into ceil(seats / class_size) classes of near-equal size (seat s is in
//   class s·classes/seats). A class session is an encounter session among its learners (ESOL
//   classes mix many origins): the contact setting of esol.params.toml, stable (friendships form). Then each
//   learner's English rises: e += english_gain·(1 − e) (diminishing returns toward 1).
// - The day after `end` every learner leaves and the waiting list is dropped.
// Classes are in addition to the day's venue sessions (a class is a few hours; slot conflicts
// are ignored). Residents who become eligible after the start (arrivals) are not added to an
// existing list: the next course picks them up.
#include "models/mechanisms/esol_params.hpp"  // generated from esol.params.toml: EsolParams, kEsolParams
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
#include <span>
#include <string>
#include <vector>

namespace contactsim {

using EsolSettings = MechanismSwitch<EsolParams>;

struct EsolCourse {
  Date start, end;          // end: last day of classes (inclusive)
  int ward = -1;            // ward index, or -1 for the whole city
  int seats = 1;            // simulated seats (already × population.scale)
  int sessions_per_week = 1;
  std::string label;
};

// Reads one [[timeline]] item of kind "esol_course" (its `kind` is read by the caller). Throws
// ConfigError naming the key for: a start outside [start, end] of the run, an end before the
// start, an unknown ward, seats < 1, sessions_per_week outside [1, 7].
EsolCourse read_esol_course(const ConfigTable& item, Date start, Date end, const std::vector<std::string>& wards,
                            double population_scale);

// Weekday mask (bit 0 = Monday) of a course meeting `sessions_per_week` times (1–7).
std::uint8_t esol_session_days(int sessions_per_week);

inline constexpr std::uint32_t kNoLearner = 0xffffffffu;

struct EsolCourseState {
  bool started = false, ended = false;
  std::vector<std::uint32_t> seat;     // resident holding each seat, or kNoLearner
  std::vector<std::uint32_t> waiting;  // applicants in priority order
  std::size_t next_waiting = 0;        // waiting[next_waiting..] have not been offered a seat
  std::int64_t completed = 0, dropped_out = 0;

  std::size_t learners() const;
  std::size_t waiting_length() const { return waiting.size() - next_waiting; }
};

// Owned by the simulation; written by EsolPhase, read by metrics.
struct EsolState {
  std::vector<EsolCourseState> courses;  // one per course, in timeline order
  std::vector<std::uint8_t> enrolled;    // per resident: 1 = holds a seat in some course

  // Clears replaced resident slots (mobility: a slot re-initialised is a different person):
  // frees their seats and strikes them from every waiting list.
  void forget(std::span<const std::uint32_t> replaced);
};

// Per (ward, group) of the resident, index ward × groups + group: residents holding a seat now;
// and waiting-list places not yet offered (a resident on two courses' lists counts twice).
std::vector<std::int64_t> esol_learners(const EsolState& state, const Residents& residents, int wards);
std::vector<std::int64_t> esol_waiting(const EsolState& state, const Residents& residents, int wards);

class EsolPhase final : public Phase {
 public:
  // `venue_type` is the ContactTally column class contacts are counted in; `tally` must be sized
  // before construction. Ward names are for /events.
  EsolPhase(const EsolSettings& settings, std::vector<EsolCourse> courses, const EncounterRules& rules,
            int venue_type, std::vector<std::string> ward_names, Residents& residents, ContactTally& tally,
            EsolState& state, EventLog& log, StreamKey key);
  const char* name() const override { return "esol"; }
  void run(const Day& day) override;
  // The courses' seats, waiting lists and counts, and who is enrolled (EsolState).
  void save(StateWriter& out) const override;
  void restore(const StateReader& in) override;

  const std::vector<EsolCourse>& courses() const { return courses_; }

 private:
  void start_course(const Day& day, std::size_t c);
  void end_course(const Day& day, std::size_t c);
  void release_leavers(const Day& day, std::size_t c);
  void fill_seats(std::size_t c);
  void hold_classes(const Day& day, std::size_t c);
  bool eligible(std::uint32_t i, int ward) const;
  std::string subject(std::size_t c) const;

  EsolParams params_;
  bool enabled_;
  double daily_dropout_;
  std::vector<EsolCourse> courses_;
  const EncounterRules& rules_;
  ContactSetting setting_;
  std::vector<std::string> ward_names_;
  Residents& residents_;
  ContactTally& tally_;
  EsolState& state_;
  EventLog& log_;
  StreamKey key_;
  ContactCounts counts_;
};

MechanismEntry esol_mechanism();

}  // namespace contactsim
