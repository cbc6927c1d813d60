#pragma once
// Programmes (DESIGN §3 "Programmes"): structured contact that a council or a national scheme
// organises outside the city's everyday venues. Two kinds, both [[timeline]] items:
//
// Youth social-mixing programme (kind = "youth_programme"; modelled on the National Citizen
// Service, British Academy 2017 ch. 6, Laurence 2017):
//   - Cohorts start on fixed month-days each year (e.g. summer "07-20" and autumn "10-19")
//     between the item's start and end dates.
//   - Eligible: youth residents (band 11–17) aged 16–17. Residents carry an age band, not an
//     age, so a keyed draw per resident and calendar year marks a youth as 16–17 with
//     probability age_16_17_share (2/7: two of the band's seven single years, ages taken as
//     uniform). Nobody takes part twice.
//   - Size: `uptake` (share of the eligible taking part per year) or `places` (participants per
//     year), split evenly across the year's cohorts.
//   - Recruitment: weighted sampling without replacement (Efraimidis–Spirakis keys), so a
//     cohort has exactly its size. Self-selection weights a youth by (w_i / mean w)^k, w_i its
//     mean outgroup warmth and k = `self_selection`: warmer youth volunteer more (the worry
//     Laurence 2017 raises). `targeted = true` replaces that by targeted recruitment: weight
//     1 + targeting_weight · (own-group share of the youth's block − the group's city share)⁺,
//     oversampling youth from segregated blocks regardless of warmth (NAO 2016: NCS incentives
//     raised participation of marginalised groups).
//   - Teams of at most `team_size` (12–15 in NCS) are mixed and matched to the area: wards are
//     taken in scenario order (no adjacency data exists, so listed order stands in for
//     "neighbouring") and merged into recruitment areas holding at least area_teams teams'
//     worth of participants; inside an area participants are sorted by group and dealt
//     round-robin, so every team mirrors the area's mix and sizes differ by at most one.
//   - Schedule: `residential_days` consecutive days from the cohort start (sustained, deep
//     contact: depth residential_depth, residential_encounters a day), then `hours` of
//     non-residential social action as ceil(hours / session_hours) sessions on the following
//     weekdays (depth session_depth). Each programme day every team runs one encounter session
//     (run_encounter_session, stable = true so friendships can form), quality youth_quality.
//   - Overlap: participants are not removed from their usual venues that day. Cohorts sit in
//     school holidays, so the overlap is mostly evening and street sessions; we accept the small
//     double counting rather than reach into attendance.
//   - An abrupt end: on the item's end date, cohorts with sessions still to come stop, and their
//     participants are reported (participants_cut_short / the cut-short callback) so the tension
//     module can lower their trust (DESIGN §3.2).
//   - Evaluation: participation_day() holds each resident's cohort start (day index, −1 =
//     never) and matched_non_participants() picks comparable non-participants, so metrics and
//     notebooks can compare at 4 and 12 months as the NCS evaluations did.
//
// School linking (kind = "school_linking"; the Linking Network, British Academy 2017 ch. 5;
// Hewstone et al. on school linking in Oldham):
//   - Each link year (from start, every 365 days until end) schools are paired: taking schools
//     from the largest majority share down, each takes the still unpaired school whose majority
//     group differs and whose composition is most dissimilar (½ Σ_g |s_a − s_b|), until `schools`
//     pairs exist ("all" = as many as possible).
//   - Each school contributes one class: up to `class_size` of its pupils of `age_band` (child =
//     primary, the Linking Network's core), drawn by keyed RNG and fixed for the year.
//   - `sessions_per_year` link days spread evenly over the year, moved to the next weekday. The
//     first meets at a neutral venue (quality + link_neutral_bonus: neither class on its own
//     turf, BA 2017 ch. 5); later ones are reciprocal visits at `quality`. Only quality differs.
//     A session is skipped when either school is not operating that day (closure, lockdown).
//
// Sessions of one programme are disjoint (nobody takes part twice; one class per school, one
// link per school), so they run in parallel with per-thread ContactCounts; programmes run one
// after another, so a pupil in both a link class and a youth team is never touched by two
// threads. Every draw is keyed: results do not depend on the thread count.
#include "models/mechanisms/programmes_params.hpp"  // generated from programmes.params.toml: ProgrammeParams, kProgrammeParams
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
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace contactsim {

using ProgrammeSettings = MechanismSwitch<ProgrammeParams>;

struct MonthDay {
  unsigned month = 1, day = 1;
};

struct YouthProgrammeSpec {
  std::string label;
  Date start, end;                     // cohorts start within [start, end]; end cuts unfinished ones
  std::optional<double> uptake;        // share of eligible youth per year, or
  std::optional<std::int64_t> places;  // participants per year
  int team_size = 14;
  int residential_days = 10;
  double hours = 60;
  std::vector<MonthDay> cohorts;       // cohort start days each year
  double self_selection = 1.0;         // k in (w_i / mean w)^k
  bool targeted = false;
};

struct SchoolLinkingSpec {
  std::string label;
  Date start, end;
  std::int64_t pairs = -1;  // -1 = all schools that can be paired
  int sessions_per_year = 6;
  int class_size = 30;
  double quality = 0.85;    // of reciprocal visits; the neutral first day adds link_neutral_bonus
  AgeBand age_band = AgeBand::child;
};

// Reads a [[timeline]] item of kind "youth_programme" (the caller has read `kind`).
// `youth_residents`: the expected number of youth-band residents in the simulated population
// (Σ over wards and groups of count × the group's youth age share), against which `places` is
// checked. Dates: start within the run, end on or after start.
YouthProgrammeSpec read_youth_programme(const ConfigTable& item, Date run_start, Date run_end, double youth_residents,
                                        const ProgrammeParams& params);
// Reads a [[timeline]] item of kind "school_linking".
SchoolLinkingSpec read_school_linking(const ConfigTable& item, Date run_start, Date run_end);

// A cohort's programme days: the residential days from `start`, then `sessions` weekdays.
std::vector<Date> youth_programme_days(Date start, int residential_days, int sessions);
// Sessions of non-residential time.
int youth_sessions(const YouthProgrammeSpec& spec, const ProgrammeParams& params);

// For each participant (participation_day ≥ 0) a random non-participant of the same ward, group
// and age band (−1 where none exists); others get −1. Controls are drawn with replacement, from
// the stream keyed by (participant, 0, purpose::kMatchedControl).
std::vector<std::int32_t> matched_non_participants(const Residents& residents,
                                                   std::span<const std::int32_t> participation_day, StreamKey key);

// Tally columns for programme contact (venue types the lead adds to the tally layout).
struct ProgrammeColumns {
  int youth_programme = 0;
  int school_linking = 0;
};

// One youth-programme cohort: its teams and schedule.
struct YouthCohort {
  int programme = 0;
  std::int32_t start_day = 0;                 // day index of the cohort start
  std::vector<Date> days;                     // programme days still to come are those >= today
  int residential_days = 0;
  std::uint32_t first_team_id = 0;            // RNG entity of team 0
  std::vector<std::uint32_t> members;         // team by team; within a team sorted by group
  std::vector<std::uint32_t> team_begin;      // team t = members[team_begin[t] .. team_begin[t+1])
  std::vector<std::uint32_t> group_begin;     // team t's group offsets: [t × (G+1) .. +G], relative
  bool finished = false;
  std::size_t teams() const { return team_begin.empty() ? 0 : team_begin.size() - 1; }
};

// One pair of linked classes for the current link year.
struct SchoolLink {
  std::int32_t school_a = -1, school_b = -1;
  std::vector<std::uint32_t> members;  // both classes, sorted by group
  std::array<std::uint32_t, kMaxGroups + 1> group_begin{};
  std::vector<Date> session_dates;     // the first is the neutral-venue day
};

class ProgrammesPhase final : public Phase {
 public:
  ProgrammesPhase(const ProgrammeSettings& settings, std::vector<YouthProgrammeSpec> youth,
                  std::vector<SchoolLinkingSpec> linking, const EncounterRules& rules, Residents& residents,
                  const Venues& venues, int school_type, ProgrammeColumns columns, ContactTally& tally,
                  StreamKey key, EventLog& log);
  const char* name() const override { return "programmes"; }
  void run(const Day& day) override;
  void save(StateWriter& out) const override;
  void restore(const StateReader& in) override;

  // Day index of each resident's cohort start, −1 = never took part.
  const std::vector<std::int32_t>& participation_day() const { return participation_day_; }
  // Slots re-used by newcomers (mobility): the newcomer never took part. (They stay in a team
  // still meeting: a known simplification.)
  void forget(std::span<const std::uint32_t> replaced);
  // Everyone whose cohort was cut short by a programme's end, in the order it happened.
  const std::vector<std::uint32_t>& participants_cut_short() const { return cut_short_; }
  // Called on the end date with the participants just cut short (e.g. to lower their trust).
  void on_cut_short(std::function<void(std::span<const std::uint32_t>)> callback) { on_cut_short_ = std::move(callback); }

  const std::vector<YouthCohort>& cohorts() const { return cohorts_; }
  // The current link year's pairs of programme p.
  const std::vector<SchoolLink>& school_links(std::size_t p) const { return links_[p]; }
  std::int64_t intergroup_encounters() const { return encounters_; }

 private:
  void start_cohort(const Day& day, int programme);
  std::vector<std::uint32_t> recruit(const Day& day, const YouthProgrammeSpec& spec, int cohorts_this_year);
  std::vector<double> recruitment_weights(const YouthProgrammeSpec& spec, std::span<const std::uint32_t> pool) const;
  void form_teams(YouthCohort& cohort, std::vector<std::uint32_t> participants, int team_size, const Day& day);
  void run_cohorts(const Day& day);
  void cut_short(const Day& day, int programme);
  void start_link_year(const Day& day, int programme, int year);
  void run_links(const Day& day, int programme);

  bool enabled_;
  ProgrammeParams params_;
  std::vector<YouthProgrammeSpec> youth_;
  std::vector<SchoolLinkingSpec> linking_;
  const EncounterRules& rules_;
  Residents& residents_;
  const Venues& venues_;
  int school_type_;
  ProgrammeColumns columns_;
  ContactTally& tally_;
  StreamKey key_;
  EventLog& log_;

  std::vector<std::int32_t> participation_day_;
  std::vector<std::uint32_t> cut_short_;
  std::function<void(std::span<const std::uint32_t>)> on_cut_short_;
  std::vector<YouthCohort> cohorts_;
  std::uint32_t next_team_id_ = 0;
  std::vector<std::vector<SchoolLink>> links_;  // per linking programme, current year
  std::vector<ContactCounts> thread_counts_;
  std::int64_t encounters_ = 0;
};

MechanismEntry programmes_mechanism();

}  // namespace contactsim
