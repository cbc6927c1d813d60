#include "models/mechanisms/festivals.hpp"

#include "models/city/attitude.hpp"
#include "models/city/valence.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <numeric>

#include "tests/support/checks.hpp"
#include "tests/support/city.hpp"
#include "tests/support/scenarios.hpp"

namespace contactsim {
namespace {
using namespace test;

constexpr int kStreet = 0;    // tally column of the ordinary daily mixing
constexpr int kFestival = 1;  // tally column of festival crowds

// Adults of every group alike, warmer toward their own group; laid out by interleaved_wards
// (blocks of 100 with the groups interleaved: mixed blocks).
constexpr ResidentValues kAdults{.english = 0.9f, .anxiety = 0.2f, .ingroup_warmth = 0.8f};

FestivalSettings default_settings() { return {true, defaults_of<FestivalParams>(kFestivalParams)}; }

Date day0() { return Date::from_ymd(2019, 9, 1); }

FestivalSpec festival_in(int ward, int groups, double expected, Date date, int days = 1) {
  FestivalSpec f;
  f.date = date;
  f.days = days;
  f.ward = ward;
  f.expected_attendance = expected;
  f.appeal.assign(static_cast<std::size_t>(groups), 1.0);
  return f;
}

// `wards` wards of `per_group` adults of each group with festivals the only thing happening,
// and what a FestivalsPhase leaves: tallies, attendance, events and contacts per day.
struct FestivalRun : Town {
  FestivalRun(int wards, int groups, int per_group)
      : Town(interleaved_wards(wards, groups * per_group, groups, kAdults), wards, 2) {
    attendance.resize(wards, groups);
  }
  FestivalsPhase phase(std::vector<FestivalSpec> festivals, StreamKey key) {
    return FestivalsPhase(default_settings(), std::move(festivals), rules, kFestival, ward_names, residents, tally,
                          attendance, log, key);
  }

  FestivalAttendance attendance;
  std::vector<std::int64_t> contacts_per_day;
};

void daily_street_session(const EncounterRules& rules, FestivalRun& run, int ward, const Day& day, StreamKey key) {
  std::vector<std::uint32_t> members;
  const Residents& r = run.residents;
  for (std::uint32_t i = 0; i < r.size() && members.size() < 200; ++i)
    if (r.ward[i] == ward) members.push_back(i);
  const GroupOffsets begin = sort_by_group(r, members);
  ContactSetting street;
  street.encounters = 1.0;
  street.venue_type = kStreet;
  ContactCounts counts;
  counts.resize_like(run.tally);
  run_encounter_session(rules, street, run.residents, run.tally, members,
                        std::span<const std::uint32_t>(begin.data(), static_cast<std::size_t>(r.num_groups) + 1), key,
                        static_cast<std::uint32_t>(ward), static_cast<std::uint32_t>(day.index), 1000, counts);
  counts.add_to(run.tally);
}

std::int64_t total(const ContactTally& t) {
  return std::accumulate(t.positive.begin(), t.positive.end(), std::int64_t{0}) +
         std::accumulate(t.negative.begin(), t.negative.end(), std::int64_t{0});
}

// A small run: every day an ordinary mixed session of each ward's first 200 residents (street
// column), then the festivals phase, recording intergroup contacts per day, summed over cells.
FestivalRun simulate(std::vector<FestivalSpec> festivals, int days, StreamKey key, int wards = 2, int groups = 2,
                     int per_group = 1000) {
  FestivalRun run(wards, groups, per_group);
  FestivalsPhase phase = run.phase(std::move(festivals), key);
  for (int d = 0; d < days; ++d) {
    const Day day{day0() + d, d};
    for (int w = 0; w < wards; ++w) daily_street_session(run.rules, run, w, day, key);
    phase.run(day);
    run.contacts_per_day.push_back(total(run.tally));
    run.tally.clear();
  }
  return run;
}

TEST(Festivals, FestivalDaySpikesIntergroupContactAgainstThePairedRunWithout) {
  const StreamKey key{42, 0};
  const FestivalRun with = simulate({festival_in(0, 2, 800, day0() + 5)}, 10, key);
  const FestivalRun without = simulate({}, 10, key);
  // Same draws until the festival: identical days before it.
  for (int d = 0; d < 5; ++d) EXPECT_EQ(with.contacts_per_day[d], without.contacts_per_day[d]) << "day " << d;
  // 800 attendees × λ 3 × (1 − h) × outgroup share ≈ 800 intergroup encounters, each counted
  // twice (both parties), against ~200 × 2 wards of ordinary mixing.
  EXPECT_GT(with.contacts_per_day[5], without.contacts_per_day[5] + 1000);
  EXPECT_GT(with.contacts_per_day[5], 2 * without.contacts_per_day[5]);
  // The day after, contact is back to ordinary levels (within noise of the diverged runs).
  EXPECT_LT(std::abs(with.contacts_per_day[6] - without.contacts_per_day[6]), without.contacts_per_day[6] / 4);
}

TEST(Festivals, AttendanceIsNearExpectedAndStaysInItsWard) {
  const int days = 20;
  FestivalRun run = simulate({festival_in(1, 2, 500, day0(), days)}, days, StreamKey{7, 0});
  const std::vector<std::int64_t> attended = run.attendance.take();
  // Ward 0 (cells 0, 1) never attends a ward-1 festival.
  EXPECT_EQ(attended[0], 0);
  EXPECT_EQ(attended[1], 0);
  const double per_day = static_cast<double>(attended[2] + attended[3]) / days;
  // Poisson-binomial: sd of the 20-day mean < sqrt(500 / 20) = 5.
  EXPECT_NEAR(per_day, 500.0, 20.0);
  EXPECT_EQ(run.log.size(), static_cast<std::size_t>(days));
  EXPECT_EQ(run.log[0].kind, "festival");
  // take() cleared the counts.
  for (auto a : run.attendance.take()) EXPECT_EQ(a, 0);
}

TEST(Festivals, FestivalContactsAreTalliedOnlyInItsWardAndColumn) {
  FestivalRun run(2, 2, 500);
  FestivalsPhase phase = run.phase({festival_in(0, 2, 600, day0())}, StreamKey{3, 0});
  phase.run(Day{day0(), 0});
  std::int64_t in_ward0 = 0;
  for (int g = 0; g < 2; ++g) {
    EXPECT_EQ(contacts_at(run.tally, 1, g, kFestival), 0);
    EXPECT_EQ(contacts_at(run.tally, 0, g, kStreet), 0);
    in_ward0 += contacts_at(run.tally, 0, g, kFestival);
  }
  EXPECT_GT(in_ward0, 500);
  // Not a festival day: nothing happens.
  run.tally.clear();
  phase.run(Day{day0() + 1, 1});
  EXPECT_EQ(total(run.tally), 0);
}

// Attendance per group over `days` days of a city-wide festival of 1,000 a day among 2 × 2,000
// residents of groups with the given appeal and anxiety.
std::vector<std::int64_t> attendance_by_group(std::vector<double> appeal, std::vector<float> anxiety, int days) {
  FestivalRun run(1, 2, 2000);
  Residents& r = run.residents;
  for (std::size_t i = 0; i < r.size(); ++i) r.anxiety[i] = anxiety[r.group[i]];
  FestivalSpec f = festival_in(-1, 2, 1000, day0(), days);
  f.appeal = std::move(appeal);
  FestivalsPhase phase = run.phase({f}, StreamKey{11, 0});
  for (int d = 0; d < days; ++d) phase.run(Day{day0() + d, d});
  return run.attendance.take();
}

TEST(Festivals, AppealWeightsWhoAttends) {
  const auto attended = attendance_by_group({1.0, 3.0}, {0.0f, 0.0f}, 10);
  // p = 0.25 and 0.75: three times the attendance (sd of the ratio ≈ 0.06).
  EXPECT_NEAR(static_cast<double>(attended[1]) / static_cast<double>(attended[0]), 3.0, 0.3);
  EXPECT_NEAR(static_cast<double>(attended[0] + attended[1]) / 10, 1000.0, 30.0);
}

TEST(Festivals, AnxiousResidentsAvoidTheCrowd) {
  // Anxiety 1 keeps 1 − crowd_avoidance = 0.2 of the calm residents' attendance.
  const auto attended = attendance_by_group({1.0, 1.0}, {0.0f, 1.0f}, 10);
  EXPECT_NEAR(static_cast<double>(attended[1]) / static_cast<double>(attended[0]), 0.2, 0.03);
}

TEST(Festivals, AttendanceScaleCapsProbabilitiesAtOne) {
  // Uncapped: c = 2 / 4.
  EXPECT_DOUBLE_EQ(attendance_scale({1, 1, 1, 1}, 2), 0.5);
  // The weight-10 resident is capped at 1; the rest share 2 − 1 = 1 over weights 3: c = 1/3.
  EXPECT_DOUBLE_EQ(attendance_scale({10, 1, 1, 1}, 2), 1.0 / 3.0);
  // Everyone with a positive weight must come.
  EXPECT_TRUE(std::isinf(attendance_scale({1, 2, 0}, 2)));
  EXPECT_EQ(attendance_scale({1, 2}, 0), 0.0);
}

TEST(Festivals, SameResultsForAnyThreadCount) {
  const auto run_with = [](int threads) {
    return with_threads(threads, [] {
      FestivalRun r = simulate({festival_in(-1, 2, 1500, day0() + 1)}, 3, StreamKey{5, 1});
      return std::make_pair(r.contacts_per_day, r.residents.warmth.to_vector());
    });
  };
  const auto one = run_with(1);
  const auto four = run_with(4);
  EXPECT_EQ(one.first, four.first);
  EXPECT_EQ(one.second, four.second);
}

// --- reader ----------------------------------------------------------------------------------

std::string read_error(const std::string& item_text) {
  return timeline_error("festival", item_text, [](const ConfigTable& item) {
    read_festival(item, Date::from_ymd(2019, 1, 1), Date::from_ymd(2020, 12, 31), {"white_british", "other_white"},
                  {"Normacot", "Shelton"}, {{1000, 500}, {2000, 100}}, 0.5);
  });
}

TEST(Festivals, ReadsAValidItem) {
  const TimelineTable item("festival",
                           "date = 2019-09-14\ndays = 2\nward = \"Normacot\"\n"
                           "expected_attendance = 800\nappeal = { other_white = 3 }\nlabel = \"Folkloric\"\n");
  const FestivalSpec f = read_festival(item.table(), Date::from_ymd(2019, 1, 1), Date::from_ymd(2020, 12, 31),
                                       {"white_british", "other_white"}, {"Normacot", "Shelton"},
                                       {{1000, 500}, {2000, 100}}, 0.5);
  EXPECT_EQ(f.date, Date::from_ymd(2019, 9, 14));
  EXPECT_EQ(f.days, 2);
  EXPECT_EQ(f.ward, 0);
  EXPECT_DOUBLE_EQ(f.expected_attendance, 400.0);  // × population.scale
  EXPECT_EQ(f.appeal, (std::vector<double>{1.0, 3.0}));
  EXPECT_EQ(f.label, "Folkloric");
}

TEST(Festivals, ReaderErrorsNameTheKey) {
  EXPECT_EQ(read_error("date = 2019-09-14\nward = \"Hanley\"\nexpected_attendance = 10\n"),
            "scenario.toml:4: timeline[0].ward: unknown ward \"Hanley\"; expected a name from [wards]");
  EXPECT_EQ(read_error("date = 2019-09-14\nexpected_attendance = 10\nappeal = { polish = 2 }\n"),
            "scenario.toml:5: timeline[0].appeal.polish: unknown group \"polish\"; expected one of "
            "\"white_british\", \"other_white\"");
  EXPECT_EQ(read_error("date = 2019-09-14\nexpected_attendance = -5\n"),
            "scenario.toml:4: timeline[0].expected_attendance: expected a number >= 0, got -5");
  EXPECT_EQ(read_error("date = 2019-09-14\nward = \"Normacot\"\nexpected_attendance = 1501\n"),
            "scenario.toml:5: timeline[0].expected_attendance: expected at most the 1500 residents in Normacot of "
            "groups with a positive appeal, got 1501");
  EXPECT_EQ(read_error("date = 2019-09-14\nward = \"Shelton\"\nexpected_attendance = 200\n"
                       "appeal = { white_british = 0 }\n"),
            "scenario.toml:5: timeline[0].expected_attendance: expected at most the 100 residents in Shelton of "
            "groups with a positive appeal, got 200");
  EXPECT_EQ(read_error("date = 2019-09-14\nexpected_attendance = 10\nappeal = { white_british = 0, other_white = 0 }\n"),
            "scenario.toml:5: timeline[0].appeal: expected at least one group with a positive appeal");
  EXPECT_EQ(read_error("date = 2018-09-14\nexpected_attendance = 10\n"),
            "scenario.toml:3: timeline[0].date: expected a date within the run (2019-01-01 to 2020-12-31), got "
            "2018-09-14");
  EXPECT_EQ(read_error("date = 2019-09-14\nexpected_attendance = 10\ndays = 0\n"),
            "scenario.toml:5: timeline[0].days: expected an integer in [1, 366], got 0");
}


// The built-in contact column of festivals (models/city/venue_types.toml) generates no venues:
// festival crowds meet only on the days the timeline names.
TEST(Festivals, BuiltinFestivalColumnGeneratesNoVenues) { EXPECT_FALSE(builtin_venue_type("festival").generate); }

}  // namespace
}  // namespace contactsim
