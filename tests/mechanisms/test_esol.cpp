#include "models/run/metrics.hpp"
#include "models/mechanisms/esol.hpp"

#include "models/city/attitude.hpp"
#include "models/city/valence.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include "tests/support/city.hpp"
#include "tests/support/scenarios.hpp"

namespace contactsim {
namespace {
using namespace test;

constexpr int kStreet = 0;  // tally column of the ordinary daily mixing
constexpr int kEsol = 1;    // tally column of ESOL classes

// Group 0 are fluent locals; groups 1 and 2 newer migrants with little English (the learners).
// Laid out ward by ward, `per_group` of each group per ward, adults.
Residents locals_and_learners(int wards, int per_group, float migrant_english = 0.3f) {
  Residents r = interleaved_wards(wards, 3 * per_group, 3, {.anxiety = 0.2f, .ingroup_warmth = 0.8f});
  for (std::size_t i = 0; i < r.size(); ++i)
    if (r.group[i] != 0) r.english[i] = migrant_english;
  return r;
}

// Locals and learners with ESOL the only thing happening.
struct EsolTown : Town {
  EsolTown(int wards, int per_group, float migrant_english = 0.3f)
      : Town(locals_and_learners(wards, per_group, migrant_english), wards, 2) {}
  EsolPhase phase(const EsolSettings& settings, std::vector<EsolCourse> courses, StreamKey key) {
    return EsolPhase(settings, std::move(courses), rules, kEsol, ward_names, residents, tally, state, log, key);
  }

  EsolState state;
};

EsolSettings settings_with(double interest, double monthly_dropout, double gain = 0.01) {
  EsolSettings s{true, defaults_of<EsolParams>(kEsolParams)};
  s.params.interest = interest;
  s.params.monthly_dropout = monthly_dropout;
  s.params.english_gain = gain;
  return s;
}

Date day0() { return Date::from_ymd(2019, 1, 7); }  // a Monday

EsolCourse course(int ward, int seats, int sessions_per_week, int length_days) {
  EsolCourse c;
  c.start = day0();
  c.end = day0() + (length_days - 1);
  c.ward = ward;
  c.seats = seats;
  c.sessions_per_week = sessions_per_week;
  return c;
}

// One ordinary mixed session a day of all residents of ward 0 (street column): where better
// English shows up as a larger share of positive intergroup encounters.
void street_session(const EncounterRules& rules, Residents& r, ContactTally& tally, const Day& day, StreamKey key) {
  std::vector<std::uint32_t> members;
  for (std::uint32_t i = 0; i < r.size(); ++i)
    if (r.ward[i] == 0) members.push_back(i);
  const GroupOffsets begin = sort_by_group(r, members);
  ContactSetting street;
  street.encounters = 1.0;
  street.venue_type = kStreet;
  ContactCounts counts;
  counts.resize_like(tally);
  run_encounter_session(rules, street, r, tally, members, std::span<const std::uint32_t>(begin.data(), 4), key, 0,
                        static_cast<std::uint32_t>(day.index), 1000, counts);
  counts.add_to(tally);
}

struct Outcome {
  double learner_english = 0;    // mean English of groups 1 and 2 in ward 0
  double positive_share = 0;     // street contacts of groups 1 and 2: positive / all
  std::int64_t esol_contacts = 0;
};

Outcome run_city(std::vector<EsolCourse> courses, int days, StreamKey key) {
  EsolTown town(1, 100);
  EsolPhase phase = town.phase(settings_with(1.0, 0.0, 0.02), std::move(courses), key);
  std::int64_t positive = 0, all = 0, esol_contacts = 0;
  for (int d = 0; d < days; ++d) {
    const Day day{day0() + d, d};
    street_session(town.rules, town.residents, town.tally, day, key);
    phase.run(day);
    for (int g = 1; g < 3; ++g) {
      positive += town.tally.positive[town.tally.cell(0, g, kStreet)];
      all += contacts_at(town.tally, 0, g, kStreet);
    }
    for (int g = 0; g < 3; ++g)
      esol_contacts += contacts_at(town.tally, 0, g, kEsol);
    town.tally.clear();
  }
  Outcome out;
  const auto english = mean_english(town.residents, 1);
  out.learner_english = (english[1] + english[2]) / 2;
  out.positive_share = static_cast<double>(positive) / static_cast<double>(all);
  out.esol_contacts = esol_contacts;
  return out;
}

TEST(Esol, RaisesLearnersEnglishAndTheirPositiveContactShareAgainstThePairedRunWithout) {
  const StreamKey key{2019, 0};
  const int days = 240;
  const Outcome with = run_city({course(0, 200, 2, days)}, days, key);
  const Outcome without = run_city({}, days, key);
  EXPECT_FLOAT_EQ(static_cast<float>(without.learner_english), 0.3f);
  // ~68 sessions at gain 0.02: 1 − 0.7·0.98^68 ≈ 0.82, capped by completion at 0.7.
  EXPECT_GT(with.learner_english, 0.65);
  // βL = 1 per unit of the pair's lower proficiency: +0.4 on the logit for most encounters.
  EXPECT_GT(with.positive_share, without.positive_share + 0.03);
  EXPECT_GT(with.esol_contacts, 0);
  EXPECT_EQ(without.esol_contacts, 0);
}

TEST(Esol, ClassesAreMixedSettingsCountedInTheirColumn) {
  EsolTown town(1, 30);
  EsolPhase phase = town.phase(settings_with(1.0, 0.0), {course(0, 60, 5, 5)}, StreamKey{1, 0});
  for (int d = 0; d < 5; ++d) phase.run(Day{day0() + d, d});
  std::int64_t learners_contacts = 0;
  for (int g = 1; g < 3; ++g)
    learners_contacts += contacts_at(town.tally, 0, g, kEsol);
  EXPECT_GT(learners_contacts, 100);  // 60 learners × λ 2 × (1 − h) × ½ outgroup × 5 sessions × 2 parties
  // Locals (English 1.0) are not eligible: they never sit in a class.
  EXPECT_EQ(contacts_at(town.tally, 0, 0, kEsol), 0);
  for (int g = 0; g < 3; ++g)
    EXPECT_EQ(contacts_at(town.tally, 0, g, kStreet), 0);
}

TEST(Esol, SeatsAreNeverExceededAndTheWaitingListDrainsAsSeatsFree) {
  EsolTown town(2, 100);
  const int days = 365;
  // 20 seats for ward 1's 200 eligible; a high dropout frees seats often; no English gain, so
  // nobody completes and every freed seat comes from dropout.
  EsolPhase phase = town.phase(settings_with(1.0, 0.3, 0.0), {course(1, 20, 2, 300)}, StreamKey{9, 0});
  std::size_t previous_waiting = 0;
  std::vector<std::size_t> waiting_by_day;
  for (int d = 0; d < days; ++d) {
    phase.run(Day{day0() + d, d});
    const EsolCourseState& s = town.state.courses[0];
    if (d < 300) {
      EXPECT_LE(s.learners(), 20u) << "day " << d;
      if (s.waiting_length() > 0) {
        EXPECT_EQ(s.learners(), 20u) << "a free seat while people wait, day " << d;
      }
      if (d > 0) {
        EXPECT_LE(s.waiting_length(), previous_waiting) << "day " << d;
      }
    }
    previous_waiting = s.waiting_length();
    waiting_by_day.push_back(s.waiting_length());
    // Only ward 1's residents take seats or wait.
    const auto learners = esol_learners(town.state, town.residents, 2);
    const auto waiting = esol_waiting(town.state, town.residents, 2);
    for (int g = 0; g < 3; ++g) {
      EXPECT_EQ(learners[static_cast<std::size_t>(g)], 0);
      EXPECT_EQ(waiting[static_cast<std::size_t>(g)], 0);
    }
  }
  EXPECT_EQ(waiting_by_day.front(), 180u);  // 200 applicants (interest 1), 20 seated
  EXPECT_LT(waiting_by_day[150], waiting_by_day.front() - 20);  // ~30%/month of 20 seats freed
  EXPECT_GT(town.state.courses[0].dropped_out, 20);
  // After the end (day 300) the course is withdrawn: no learners, no list.
  EXPECT_EQ(town.state.courses[0].learners(), 0u);
  EXPECT_EQ(waiting_by_day.back(), 0u);
  EXPECT_EQ(std::accumulate(town.state.enrolled.begin(), town.state.enrolled.end(), 0), 0);
  ASSERT_EQ(town.log.size(), 2u);
  EXPECT_EQ(town.log[0].kind, "esol_course_start");
  EXPECT_EQ(town.log[1].kind, "esol_course_end");
  EXPECT_EQ(town.log[1].date, day0() + 300);
}

TEST(Esol, LearnersWhoReachTheThresholdCompleteAndFreeTheirSeat) {
  EsolTown town(1, 50, 0.65f);
  EsolPhase phase = town.phase(settings_with(1.0, 0.0, 0.05), {course(0, 10, 5, 60)}, StreamKey{4, 0});
  for (int d = 0; d < 60; ++d) phase.run(Day{day0() + d, d});
  // From 0.65 two sessions reach 0.7 (0.35 → 0.3159 → 0.2851 gap), so learners turn over fast.
  EXPECT_GT(town.state.courses[0].completed, 50);
  EXPECT_EQ(town.state.courses[0].dropped_out, 0);
}

TEST(Esol, ForgetFreesSeatsAndStrikesReplacedResidentsFromTheList) {
  EsolTown town(1, 20);
  EsolPhase phase = town.phase(settings_with(1.0, 0.0, 0.0), {course(0, 5, 1, 30)}, StreamKey{4, 0});
  phase.run(Day{day0(), 0});
  EsolCourseState& s = town.state.courses[0];
  ASSERT_EQ(s.learners(), 5u);
  ASSERT_EQ(s.waiting_length(), 35u);
  const std::uint32_t seated = s.seat[0];
  const std::uint32_t waiting = s.waiting[s.next_waiting];
  const std::vector<std::uint32_t> replaced{seated, waiting};
  town.state.forget(replaced);
  EXPECT_EQ(s.learners(), 4u);
  EXPECT_EQ(s.waiting_length(), 34u);
  EXPECT_EQ(town.state.enrolled[seated], 0);
  phase.run(Day{day0() + 1, 1});
  EXPECT_EQ(s.learners(), 5u);
  EXPECT_EQ(s.waiting_length(), 33u);
}

TEST(Esol, SessionDaysSpreadThroughTheWeek) {
  for (int n = 1; n <= 7; ++n) EXPECT_EQ(__builtin_popcount(esol_session_days(n)), n);
  EXPECT_EQ(esol_session_days(2), 0x0a);  // Tuesday, Thursday
}

// --- reader ----------------------------------------------------------------------------------

std::string read_error(const std::string& item_text) {
  return timeline_error("esol_course", item_text, [](const ConfigTable& item) {
    read_esol_course(item, Date::from_ymd(2019, 1, 1), Date::from_ymd(2020, 12, 31), {"Normacot", "Shelton"}, 1.0);
  });
}

TEST(Esol, ReadsAValidItem) {
  const TimelineTable item("esol_course",
                           "start = 2019-01-07\nend = 2019-07-19\nward = \"Shelton\"\n"
                           "seats = 30\nsessions_per_week = 2\n");
  const EsolCourse c = read_esol_course(item.table(), Date::from_ymd(2019, 1, 1), Date::from_ymd(2020, 12, 31),
                                        {"Normacot", "Shelton"}, 0.1);
  EXPECT_EQ(c.start, Date::from_ymd(2019, 1, 7));
  EXPECT_EQ(c.end, Date::from_ymd(2019, 7, 19));
  EXPECT_EQ(c.ward, 1);
  EXPECT_EQ(c.seats, 3);  // × population.scale
  EXPECT_EQ(c.sessions_per_week, 2);
}

TEST(Esol, ReaderErrorsNameTheKey) {
  const std::string ok_dates = "start = 2019-01-07\nend = 2019-07-19\n";
  EXPECT_EQ(read_error(ok_dates + "ward = \"Hanley\"\nseats = 10\nsessions_per_week = 2\n"),
            "scenario.toml:5: timeline[0].ward: unknown ward \"Hanley\"; expected a name from [wards]");
  EXPECT_EQ(read_error("start = 2019-01-07\nend = 2019-01-06\nseats = 10\nsessions_per_week = 2\n"),
            "scenario.toml:4: timeline[0].end: expected a date on or after start (2019-01-07), got 2019-01-06");
  EXPECT_EQ(read_error("start = 2021-01-07\nend = 2021-03-06\nseats = 10\nsessions_per_week = 2\n"),
            "scenario.toml:3: timeline[0].start: expected a date within the run (2019-01-01 to 2020-12-31), got "
            "2021-01-07");
  EXPECT_EQ(read_error(ok_dates + "seats = 0\nsessions_per_week = 2\n"),
            "scenario.toml:5: timeline[0].seats: expected an integer in [1, 1000000], got 0");
  EXPECT_EQ(read_error(ok_dates + "seats = 10\nsessions_per_week = 8\n"),
            "scenario.toml:6: timeline[0].sessions_per_week: expected an integer in [1, 7], got 8");
  EXPECT_EQ(read_error(ok_dates + "sessions_per_week = 2\n"),
            "scenario.toml:1: timeline[0].seats: required key missing; expected an integer in [1, 1000000]");
}


// The built-in contact column of classes (models/city/venue_types.toml): classes may run any day
// of the week (each course picks its own days).
TEST(Esol, BuiltinClassColumnIsOpenEveryDay) { EXPECT_EQ(builtin_venue_type("esol_class").open_days, 0b1111111); }

}  // namespace
}  // namespace contactsim
