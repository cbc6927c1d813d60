// Programmes (DESIGN §3 "Programmes", §9): the youth social-mixing programme and school
// linking, run by hand on a tiny two-ward city with nothing else happening, so every change of
// warmth comes from the programme.
#include "models/mechanisms/programmes.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <set>

#include "tests/support/checks.hpp"
#include "tests/support/city.hpp"
#include "tests/support/scenarios.hpp"

using namespace contactsim;
using namespace contactsim::test;

namespace {

constexpr int kSchool = 0;        // venue type of schools (membership column 0)
constexpr int kYouthColumn = 1;   // tally column of youth-programme contact
constexpr int kLinkColumn = 2;    // tally column of school-linking contact
constexpr int kResidentsPerWard = 2000;
const Date kRunStart = Date::from_ymd(2021, 1, 1);

struct TestWorld {
  Residents residents;
  Venues venues;
  ContactTally tally;
  EventLog log;
};

// Two wards of 2,000: ward 0 mixed (groups 0 and 1 alternate, so every block is half and half),
// ward 1 segregated (90% group 0; its group-1 tenth lives in blocks of its own). Each ward is 70%
// youth, 20% children, 10% adults. Residents of the segregated ward start colder and more
// anxious toward the other group, as less everyday contact leaves them; warmth varies ±0.2
// between individuals. Children attend four schools, 85% a school of their own group's pair.
TestWorld make_world() {
  TestWorld w;
  std::vector<std::uint8_t> groups;
  for (int ward = 0; ward < 2; ++ward)
    for (int k = 0; k < kResidentsPerWard; ++k)
      groups.push_back(ward == 0 ? static_cast<std::uint8_t>(k % 2) : (k < kResidentsPerWard / 10 ? 1 : 0));
  Residents& r = w.residents = hand_built_residents(groups, 2, {.english = 0.9f, .ingroup_warmth = 0.8f});
  for (std::size_t i = 0; i < r.size(); ++i) {
    const int ward = static_cast<int>(i) / kResidentsPerWard, k = static_cast<int>(i) % kResidentsPerWard;
    const AgeBand band = k % 10 < 7 ? AgeBand::youth : k % 10 < 9 ? AgeBand::child : AgeBand::adult;
    r.age_band[i] = static_cast<std::uint8_t>(band);
    r.ward[i] = static_cast<std::uint16_t>(ward);
    r.block[i] = static_cast<std::uint32_t>(i / 50);
    r.anxiety[i] = ward == 0 ? 0.2f : 0.35f;
    const float outgroup = (ward == 0 ? 0.6f : 0.4f) + static_cast<float>(static_cast<int>(i * 37 % 41) - 20) / 100.0f;
    r.warmth_of(i)[1 - r.group[i]] = outgroup;
    if (band == AgeBand::child) {
      const bool own_pair = (i * 13 % 20) < 17;
      const int pair = (r.group[i] == 0) == own_pair ? 0 : 1;  // schools 0,1 lean group 0; 2,3 group 1
      r.membership[i] = 2 * pair + static_cast<std::int32_t>(i / 10 % 2);
    }
  }

  Venues& v = w.venues;
  v.num_groups = 2;
  const int schools = 4;
  for (int s = 0; s < schools; ++s) add_venue(v, kSchool, s / 2, "school " + std::to_string(s), 0x1f);
  v.members.assign(schools, 0);
  std::vector<std::uint32_t> counts(schools * 2, 0);
  for (std::size_t i = 0; i < r.size(); ++i)
    if (r.membership[i] >= 0) ++v.members[r.membership[i]], ++counts[r.membership[i] * 2 + r.group[i]];
  for (int s = 0; s < schools; ++s)
    for (int g = 0; g < 2; ++g)
      v.member_group_share.push_back(static_cast<float>(counts[s * 2 + g]) / static_cast<float>(v.members[s]));
  w.tally.resize(2, 2, 3);
  return w;
}

ProgrammeSettings default_settings() { return {true, defaults_of<ProgrammeParams>(kProgrammeParams)}; }

YouthProgrammeSpec summer_programme() {
  YouthProgrammeSpec s;
  s.label = "summer scheme";
  s.start = Date::from_ymd(2021, 7, 1);
  s.end = Date::from_ymd(2022, 12, 31);
  s.uptake = 0.12;  // NCS 2016: 12% of 16–17 year olds (BA 2017 ch. 6)
  s.cohorts = {{7, 20}};
  return s;
}

SchoolLinkingSpec linking_year() {
  SchoolLinkingSpec s;
  s.label = "linking";
  s.start = Date::from_ymd(2021, 9, 6);
  s.end = Date::from_ymd(2022, 7, 15);
  return s;
}

struct ProgrammeRun {
  TestWorld world = make_world();
  EncounterRules rules = default_rules();
  ProgrammesPhase phase;
  ProgrammeRun(std::vector<YouthProgrammeSpec> youth, std::vector<SchoolLinkingSpec> linking,
      ProgrammeSettings settings = default_settings())
      : phase(settings, std::move(youth), std::move(linking), rules, world.residents, world.venues, kSchool,
              {kYouthColumn, kLinkColumn}, world.tally, StreamKey{7, 0}, world.log) {}
  void run_through(Date from, Date to, const std::function<void(Date)>& after = {}) {
    for (Date d = from; d <= to; ++d) {
      phase.run(Day{d, d - kRunStart});
      if (after) after(d);
    }
  }
};

double outgroup_warmth(const Residents& r, std::size_t i) { return r.warmth_of(i)[1 - r.group[i]]; }

std::vector<std::uint32_t> participants_of(const ProgrammesPhase& phase) {
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < phase.participation_day().size(); ++i)
    if (phase.participation_day()[i] >= 0) out.push_back(static_cast<std::uint32_t>(i));
  return out;
}

double mean_of(const std::vector<double>& x) { return std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size()); }

std::int64_t column_total(const ContactTally& t, int column) {
  std::int64_t sum = 0;
  for (int w = 0; w < t.wards; ++w)
    for (int g = 0; g < t.groups; ++g) sum += contacts_at(t, w, g, column);
  return sum;
}

}  // namespace

// DESIGN §9: youth-programme participants are warmer than comparable non-participants four
// months on, and gain more when they come from the segregated ward.
TEST(YouthProgramme, ParticipantsEndWarmerThanMatchedNonParticipantsMostFromSegregatedWard) {
  YouthProgrammeSpec spec = summer_programme();
  spec.self_selection = 0;  // everyone equally likely: the comparison isolates the programme
  spec.uptake = 0.2;
  ProgrammeRun run({spec}, {});
  const std::vector<float> before = run.world.residents.warmth.to_vector();
  const Date cohort_start = Date::from_ymd(2021, 7, 20);
  run.run_through(cohort_start, cohort_start + 122);  // evaluation at 4 months

  const Residents& r = run.world.residents;
  const auto participants = participants_of(run.phase);
  ASSERT_GE(participants.size(), 140u);
  const auto controls = matched_non_participants(r, run.phase.participation_day(), StreamKey{7, 0});
  std::vector<double> difference, gain[2][2];  // [ward][group]
  for (std::uint32_t i : participants) {
    EXPECT_EQ(run.phase.participation_day()[i], cohort_start - kRunStart);
    const std::int32_t c = controls[i];
    ASSERT_GE(c, 0);
    EXPECT_LT(run.phase.participation_day()[c], 0);
    EXPECT_EQ(r.ward[c], r.ward[i]);
    EXPECT_EQ(r.group[c], r.group[i]);
    EXPECT_EQ(r.age_band[c], r.age_band[i]);
    difference.push_back(outgroup_warmth(r, i) - outgroup_warmth(r, static_cast<std::size_t>(c)));
    gain[r.ward[i]][r.group[i]].push_back(outgroup_warmth(r, i) - before[i * 2 + (1 - r.group[i])]);
  }
  EXPECT_GT(mean_of(difference), 0.02) << "participants warmer than matched non-participants";
  // Compared within each group: teams mirror the area's mix, so a group's members meet the
  // same outgroup share wherever they live, and the segregated ward's colder youth have more to
  // gain (pooling the wards would mix that up with the wards' different group make-up).
  for (int g = 0; g < 2; ++g) {
    ASSERT_GE(gain[0][g].size(), 10u);
    ASSERT_GE(gain[1][g].size(), 10u);
    EXPECT_GT(mean_of(gain[0][g]), 0.02) << "group " << g;
    EXPECT_GT(mean_of(gain[1][g]), 1.2 * mean_of(gain[0][g])) << "larger gains from the segregated ward, group " << g;
  }
  // Non-participants met nobody through the programme.
  for (std::size_t i = 0; i < r.size(); ++i)
    if (run.phase.participation_day()[i] < 0) {
      ASSERT_EQ(r.warmth[i * 2], before[i * 2]);
    }
  EXPECT_GT(column_total(run.world.tally, kYouthColumn), 0);
  EXPECT_EQ(column_total(run.world.tally, kLinkColumn), 0);
}

TEST(YouthProgramme, SelfSelectionRecruitsWarmerYouthThanTargetedRecruitment) {
  const Date cohort_start = Date::from_ymd(2021, 7, 20);
  const auto recruited = [&](bool targeted) {
    YouthProgrammeSpec spec = summer_programme();
    spec.uptake = 0.3;
    spec.self_selection = 3;
    spec.targeted = targeted;
    ProgrammeRun run({spec}, {});
    const std::vector<float> warmth = run.world.residents.warmth.to_vector();
    run.phase.run(Day{cohort_start, cohort_start - kRunStart});
    std::vector<double> w;
    double from_segregated_ward = 0;
    for (std::uint32_t i : participants_of(run.phase)) {
      w.push_back(warmth[i * 2 + (1 - run.world.residents.group[i])]);
      from_segregated_ward += run.world.residents.ward[i] == 1;
    }
    return std::pair{mean_of(w), from_segregated_ward / static_cast<double>(w.size())};
  };
  const auto [self_warmth, self_segregated] = recruited(false);
  const auto [targeted_warmth, targeted_segregated] = recruited(true);
  EXPECT_GT(self_warmth, targeted_warmth + 0.05);
  EXPECT_GT(targeted_segregated, self_segregated + 0.1) << "targeting oversamples the segregated ward";
}

TEST(YouthProgramme, TeamsAreWithinSizeAndMixed) {
  YouthProgrammeSpec spec = summer_programme();
  spec.uptake = 0.5;
  spec.team_size = 13;
  ProgrammeRun run({spec}, {});
  const Date cohort_start = Date::from_ymd(2021, 7, 20);
  run.phase.run(Day{cohort_start, cohort_start - kRunStart});
  ASSERT_EQ(run.phase.cohorts().size(), 1u);
  const YouthCohort& c = run.phase.cohorts()[0];
  ASSERT_GE(c.teams(), 10u);
  std::set<std::uint32_t> seen;
  for (std::size_t t = 0; t < c.teams(); ++t) {
    const std::uint32_t size = c.team_begin[t + 1] - c.team_begin[t];
    EXPECT_LE(size, 13u);
    EXPECT_GE(size, 7u);
    std::set<int> groups;
    for (std::uint32_t k = c.team_begin[t]; k < c.team_begin[t + 1]; ++k) {
      const std::uint32_t i = c.members[k];
      EXPECT_TRUE(seen.insert(i).second) << "nobody is in two teams";
      groups.insert(run.world.residents.group[i]);
      // Sorted by group, as run_encounter_session needs, with the offsets to match.
      const std::uint32_t* gb = c.group_begin.data() + t * 3;
      const std::uint32_t offset = k - c.team_begin[t];
      EXPECT_TRUE(offset >= gb[run.world.residents.group[i]] && offset < gb[run.world.residents.group[i] + 1]);
    }
    EXPECT_EQ(groups.size(), 2u) << "team " << t << " is not mixed";
  }
  EXPECT_EQ(seen.size(), participants_of(run.phase).size());
  // 10 residential days, then 60 h / 3 h = 20 weekday sessions.
  ASSERT_EQ(c.days.size(), 30u);
  for (std::size_t d = 10; d < c.days.size(); ++d) EXPECT_LT(c.days[d].weekday(), 5u);
}

TEST(YouthProgramme, EndingWithCohortsUnfinishedCutsTheirParticipantsShort) {
  YouthProgrammeSpec spec = summer_programme();
  spec.end = Date::from_ymd(2021, 7, 25);  // funding ends five days into the residentials
  ProgrammeRun run({spec}, {});
  std::vector<std::uint32_t> reported;
  run.phase.on_cut_short([&](std::span<const std::uint32_t> cut) { reported.assign(cut.begin(), cut.end()); });
  run.run_through(Date::from_ymd(2021, 7, 19), Date::from_ymd(2021, 8, 31));
  const auto participants = participants_of(run.phase);
  ASSERT_FALSE(participants.empty());
  EXPECT_EQ(reported, participants);
  EXPECT_EQ(run.phase.participants_cut_short(), participants);
  // No sessions after the end date.
  const std::int64_t at_end = column_total(run.world.tally, kYouthColumn);
  run.run_through(Date::from_ymd(2021, 9, 1), Date::from_ymd(2021, 9, 30));
  EXPECT_EQ(column_total(run.world.tally, kYouthColumn), at_end);

  // A programme that outlives its cohort reports nobody.
  ProgrammeRun complete({summer_programme()}, {});
  complete.run_through(Date::from_ymd(2021, 7, 19), Date::from_ymd(2021, 9, 30));
  EXPECT_TRUE(complete.phase.participants_cut_short().empty());
}

TEST(SchoolLinking, PairsSchoolsWithDifferentMajorityGroups) {
  ProgrammeRun run({}, {linking_year()});
  const Date start = linking_year().start;
  run.phase.run(Day{start, start - kRunStart});
  const Venues& v = run.world.venues;
  const auto majority = [&](std::int32_t s) { return v.member_group_share[s * 2] >= 0.5f ? 0 : 1; };
  const auto& links = run.phase.school_links(0);
  ASSERT_EQ(links.size(), 2u);
  for (const SchoolLink& link : links) {
    EXPECT_NE(majority(link.school_a), majority(link.school_b));
    EXPECT_EQ(link.members.size(), 60u) << "two classes of 30";
    for (std::uint32_t i : link.members) {
      EXPECT_EQ(run.world.residents.age_band[i], static_cast<std::uint8_t>(AgeBand::child));
      const std::int32_t school = run.world.residents.member_venue(i, kSchool);
      EXPECT_TRUE(school == link.school_a || school == link.school_b);
    }
    EXPECT_EQ(link.session_dates.size(), 6u);
  }
  // A limit of one pair links only the most homogeneous school.
  SchoolLinkingSpec one = linking_year();
  one.pairs = 1;
  ProgrammeRun limited({}, {one});
  limited.phase.run(Day{start, start - kRunStart});
  EXPECT_EQ(limited.phase.school_links(0).size(), 1u);
}

TEST(SchoolLinking, LinkedPupilsMeetOnlyOnLinkDays) {
  ProgrammeRun run({}, {linking_year()});
  const Residents& r = run.world.residents;
  const auto encounters_of = [&](std::size_t i) { return r.positive_memory[i] + r.negative_memory[i]; };
  std::vector<float> memory(r.size(), 0.0f);
  std::vector<Date> contact_days;
  run.run_through(linking_year().start, linking_year().end, [&](Date d) {
    if (column_total(run.world.tally, kLinkColumn) > 0) contact_days.push_back(d);
    run.world.tally.clear();
    for (std::size_t i = 0; i < r.size(); ++i) memory[i] = encounters_of(i);
  });
  const auto& links = run.phase.school_links(0);
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(contact_days, links[0].session_dates);
  EXPECT_EQ(column_total(run.world.tally, kYouthColumn), 0);
  // Everyone with any encounter is in a linked class.
  std::set<std::uint32_t> linked;
  for (const auto& link : links) linked.insert(link.members.begin(), link.members.end());
  std::size_t met = 0;
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (encounters_of(i) > 0) {
      ASSERT_TRUE(linked.count(static_cast<std::uint32_t>(i))) << i;
    }
    met += encounters_of(i) > 0;
  }
  EXPECT_GT(met, linked.size() / 2);
}

TEST(Programmes, IdenticalForOneAndTwoThreads) {
  const auto run_with = [](int threads) {
    return with_threads(threads, [] {
      YouthProgrammeSpec spec = summer_programme();
      spec.uptake = 0.4;
      SchoolLinkingSpec link = linking_year();
      link.start = Date::from_ymd(2021, 7, 19);
      ProgrammeRun run({spec}, {link});
      run.run_through(Date::from_ymd(2021, 7, 19), Date::from_ymd(2021, 10, 31));
      return std::tuple{run.world.residents.warmth.to_vector(), run.world.residents.anxiety.to_vector(), run.world.tally.positive,
                        run.world.tally.negative, run.phase.participation_day()};
    });
  };
  const auto one = run_with(1);
  const auto two = run_with(2);
  EXPECT_GT(std::accumulate(std::get<2>(one).begin(), std::get<2>(one).end(), std::int64_t{0}), 0);
  EXPECT_TRUE(one == two);
}

// --- reading ------------------------------------------------------------------------------------

namespace {

const Date kRunEnd = Date::from_ymd(2024, 12, 31);
const ProgrammeParams kDefaults = defaults_of<ProgrammeParams>(kProgrammeParams);

std::string youth_error(const std::string& keys, double youth_residents = 2800) {
  return timeline_error("youth_programme", keys, [&](const ConfigTable& item) {
    read_youth_programme(item, kRunStart, kRunEnd, youth_residents, kDefaults);
  });
}

}  // namespace

TEST(ProgrammeReading, ReadsAYouthProgrammeAndASchoolLink) {
  const auto doc = ConfigDocument::parse(
      "[[timeline]]\n"
      "kind = \"youth_programme\"\n"
      "label = \"NCS\"\n"
      "start = 2021-07-01\n"
      "end = 2023-12-31\n"
      "places = 300\n"
      "team_size = 15\n"
      "cohorts = [\"07-20\", \"10-18\"]\n"
      "self_selection = 2\n"
      "targeted = true\n"
      "[[timeline]]\n"
      "kind = \"school_linking\"\n"
      "start = 2021-09-06\n"
      "end = 2023-07-14\n"
      "schools = 5\n"
      "age_band = \"youth\"\n",
      "scenario.toml");
  const auto root = ConfigTable::root(doc);
  const auto items = root.array_of_tables("timeline");
  for (const auto& item : items) item.string("kind", "");
  const YouthProgrammeSpec y = read_youth_programme(items[0], kRunStart, kRunEnd, 2800, kDefaults);
  EXPECT_EQ(y.label, "NCS");
  EXPECT_EQ(*y.places, 300);
  EXPECT_FALSE(y.uptake.has_value());
  EXPECT_EQ(y.team_size, 15);
  EXPECT_EQ(y.residential_days, 10);
  ASSERT_EQ(y.cohorts.size(), 2u);
  EXPECT_EQ(y.cohorts[1].month, 10u);
  EXPECT_EQ(y.cohorts[1].day, 18u);
  EXPECT_TRUE(y.targeted);
  const SchoolLinkingSpec s = read_school_linking(items[1], kRunStart, kRunEnd);
  EXPECT_EQ(s.pairs, 5);
  EXPECT_EQ(s.sessions_per_year, 6);
  EXPECT_EQ(s.class_size, 30);
  EXPECT_EQ(s.age_band, AgeBand::youth);
  EXPECT_NO_THROW(root.finish());
}

TEST(ProgrammeReading, BadValuesNameTheirKey) {
  EXPECT_EQ(youth_error("start = 2021-07-01\nend = 2022-12-31\nuptake = 1.5\n"),
            "scenario.toml:5: timeline[0].uptake: expected a number in [0, 1], got 1.5");
  EXPECT_EQ(youth_error("start = 2021-07-01\nend = 2022-12-31\nuptake = 0.1\nteam_size = 1\n"),
            "scenario.toml:6: timeline[0].team_size: expected an integer in [2, 100], got 1");
  EXPECT_EQ(youth_error("start = 2021-07-01\nend = 2021-06-01\nuptake = 0.1\n"),
            "scenario.toml:4: timeline[0].end: expected a date on or after start (2021-07-01), got 2021-06-01");
  // 2,800 youth residents, 2/7 of them aged 16–17: 800 eligible a year.
  EXPECT_EQ(youth_error("start = 2021-07-01\nend = 2022-12-31\nplaces = 801\n"),
            "scenario.toml:5: timeline[0].places: programme size larger than the eligible population: expected at "
            "most 800 places a year (youth aged 16-17), got 801");
  EXPECT_EQ(youth_error("start = 2021-07-01\nend = 2022-12-31\nplaces = 800\n"), "");
  EXPECT_EQ(youth_error("start = 2021-07-01\nend = 2022-12-31\n"),
            "scenario.toml:1: timeline[0].uptake: expected exactly one of `uptake` (share of eligible youth taking "
            "part a year) or `places` (participants a year)");
  EXPECT_EQ(youth_error("start = 2021-07-01\nend = 2022-12-31\nuptake = 0.1\ncohorts = [\"13-01\"]\n"),
            "scenario.toml:6: timeline[0].cohorts: expected month-days \"MM-DD\" that exist every year, got \"13-01\"");
  EXPECT_EQ(youth_error("start = 2021-08-01\nend = 2021-09-30\nuptake = 0.1\ncohorts = [\"07-20\"]\n"),
            "scenario.toml:6: timeline[0].cohorts: no cohort starts between start (2021-08-01) and end (2021-09-30)");
}

TEST(ProgrammeReading, SchoolsIsAllOrANumberOfPairs) {
  const auto error = [](const std::string& schools) {
    return timeline_error("school_linking", "start = 2021-09-06\nend = 2022-07-15\nschools = " + schools + "\n",
                          [](const ConfigTable& item) { read_school_linking(item, kRunStart, kRunEnd); });
  };
  EXPECT_EQ(error("\"all\""), "");
  EXPECT_EQ(error("3"), "");
  EXPECT_EQ(error("0"), "scenario.toml:5: timeline[0].schools: expected \"all\" or a whole number of pairs >= 1, got 0");
  EXPECT_EQ(error("\"some\""),
            "scenario.toml:5: timeline[0].schools: expected \"all\" or a whole number of pairs >= 1, got \"some\"");
  EXPECT_EQ(error("2.5"), "scenario.toml:5: timeline[0].schools: expected \"all\" or a whole number of pairs >= 1");
}
