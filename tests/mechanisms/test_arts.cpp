// The community arts programme (models/mechanisms/arts.hpp), driven through whole small-city
// runs: it is registered like every mechanism, so this is also how a user meets it.
#include "models/mechanisms/arts.hpp"
#include "core/h5.hpp"
#include "models/run/simulation.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <numeric>
#include <set>

#include "tests/support/scenarios.hpp"
#include "tests/support/temp_dir.hpp"

namespace contactsim {
namespace {
using namespace test;

constexpr const char* kShelton = "Hanley Park and Shelton";
constexpr const char* kNormacot = "Lightwood North and Normacot";

std::string arts_item(const std::string& keys) {
  return "[simulation]\nstart = 2021-01-01\nend = 2021-12-31\n\n[[timeline]]\nkind = \"arts_programme\"\n" + keys;
}

std::string shelton_groups(const std::string& more = "") {
  return arts_item("start = 2021-02-03\nend = 2021-09-29\nwards = [\"" + std::string(kShelton) +
                   "\"]\ngroups_per_ward = 40\ngroup_size = 12\n" + more);
}

Scenario small_city(const std::string& extra, double scale = 0.1) {
  return scenario_from_text(small_city_text("stoke_on_trent.toml", extra, scale, "month"), "arts_test.toml");
}

RunOptions until(Date day, int threads = 1) {
  RunOptions options;
  options.until = day;
  options.threads = threads;
  return options;
}

double mean_outgroup_warmth(const Residents& r, std::uint32_t i) {
  double sum = 0;
  for (int g = 0; g < r.num_groups; ++g)
    if (g != r.group[i]) sum += r.warmth_of(i)[g];
  return sum / (r.num_groups - 1);
}

const std::vector<std::int32_t>& joined(const Simulation& sim) {
  const auto* joined = sim.link<std::vector<std::int32_t>>("arts_joined");
  if (!joined) throw std::logic_error("the arts mechanism did not publish arts_joined");
  return *joined;
}

TEST(Arts, ReadsAValidItemAndScalesTheNumberOfGroupsNotTheirSize) {
  const Scenario s = small_city(arts_item("start = 2021-03-03\nend = 2021-06-30\nwards = [\"" + std::string(kShelton) +
                                          "\", \"" + kNormacot + "\"]\ngroups_per_ward = 30\ngroup_size = 12\n"
                                          "appeal = { asian = 2.0, other_white = 0 }\n"));
  EXPECT_TRUE(s.runs("arts"));
  EXPECT_GE(s.venue_type_index("arts_group"), 0) << "the programme's contact column is added";
  const std::vector<std::string> groups = s.group_names(), wards = s.ward_names();
  const TimelineTable item("arts_programme", "start = 2021-03-03\nend = 2021-06-30\nwards = [\"" + std::string(kShelton) +
                                                 "\"]\ngroups_per_ward = 30\ngroup_size = 12\nappeal = { asian = 2.0 }\n");
  const ArtsProgramme p = read_arts_programme(item.table(), s.simulation.start, s.simulation.end, groups, wards, 0.1);
  EXPECT_EQ(p.groups_per_ward, 3);
  EXPECT_EQ(p.group_size, 12);
  ASSERT_EQ(p.wards.size(), 1u);
  EXPECT_EQ(wards[p.wards[0]], kShelton);
  EXPECT_DOUBLE_EQ(p.appeal[s.group_index("asian")], 2.0);
  EXPECT_DOUBLE_EQ(p.appeal[s.group_index("white_british")], 1.0);
}

TEST(Arts, ReaderErrorsNameTheKey) {
  const Scenario s = small_city("");
  auto error = [&](const std::string& keys) {
    return timeline_error("arts_programme", keys, [&](const ConfigTable& item) {
      read_arts_programme(item, s.simulation.start, s.simulation.end, s.group_names(), s.ward_names(), 1.0);
    });
  };
  const std::string ward = "wards = [\"" + std::string(kShelton) + "\"]\n";
  EXPECT_NE(error("start = 2019-01-01\nend = 2020-03-01\n" + ward).find("start: expected a date within the run"), std::string::npos);
  EXPECT_NE(error("start = 2020-03-01\nend = 2020-02-01\n" + ward).find("end: expected a date on or after start"), std::string::npos);
  EXPECT_NE(error("start = 2020-03-01\nend = 2020-04-01\nwards = [\"Atlantis\"]\n").find("wards: unknown ward \"Atlantis\""), std::string::npos);
  EXPECT_NE(error("start = 2020-03-01\nend = 2020-04-01\n").find("wards: expected at least one ward"), std::string::npos);
  EXPECT_NE(error("start = 2020-03-01\nend = 2020-04-01\n" + ward + "group_size = 1\n").find("group_size"), std::string::npos);
  EXPECT_NE(error("start = 2020-03-01\nend = 2020-04-01\n" + ward + "appeal = { martians = 1 }\n").find("martians: unknown group"), std::string::npos);
  const std::string none = "appeal = { white_british = 0, other_white = 0, asian = 0, black = 0, mixed = 0, other = 0 }\n";
  EXPECT_NE(error("start = 2020-03-01\nend = 2020-04-01\n" + ward + none).find("appeal: expected at least one group with a positive appeal"), std::string::npos);
  EXPECT_EQ(error("start = 2020-03-01\nend = 2020-04-01\n" + ward), "");
}

TEST(Arts, RecruitsMixedGroupsOfResidentsAged11AndOverInItsWardsOnly) {
  Simulation sim(small_city(shelton_groups("appeal = { black = 0 }\n")), until(Date::from_ymd(2021, 2, 3)));
  sim.run();
  const Residents& r = sim.world().residents;
  const int shelton = sim.scenario().ward_index(kShelton), black = sim.scenario().group_index("black");
  std::set<int> groups;
  std::size_t participants = 0;
  for (std::uint32_t i = 0; i < r.size(); ++i) {
    if (joined(sim)[i] < 0) continue;
    ++participants;
    groups.insert(r.group[i]);
    EXPECT_EQ(r.ward[i], shelton) << "participants live in the programme's ward";
    EXPECT_NE(static_cast<AgeBand>(r.age_band[i]), AgeBand::child);
    EXPECT_NE(r.group[i], black) << "a group with no appeal is not reached";
  }
  EXPECT_EQ(participants, 4u * 12u) << "40 groups at scale 0.1 = 4 groups of 12";
  EXPECT_GE(groups.size(), 3u) << "Shelton's groups are mixed";
}

TEST(Arts, ParticipantsWarmMoreThanTheirNeighboursAndContactIsCountedInItsColumn) {
  const Scenario with_arts = small_city(shelton_groups());
  Simulation sim(with_arts, until(Date::from_ymd(2021, 2, 2)));
  sim.run();  // the day before the groups form
  const Residents& r = sim.world().residents;
  std::vector<double> before(r.size());
  for (std::uint32_t i = 0; i < r.size(); ++i) before[i] = mean_outgroup_warmth(r, i);
  sim.end_at(Date::from_ymd(2021, 8, 31));
  sim.run();
  const int shelton = sim.scenario().ward_index(kShelton);
  double gain[2] = {0, 0};
  int count[2] = {0, 0};
  for (std::uint32_t i = 0; i < r.size(); ++i) {
    if (r.ward[i] != shelton || static_cast<AgeBand>(r.age_band[i]) == AgeBand::child) continue;
    const int took_part = joined(sim)[i] >= 0 ? 1 : 0;
    gain[took_part] += mean_outgroup_warmth(r, i) - before[i];
    ++count[took_part];
  }
  ASSERT_GT(count[1], 20);
  EXPECT_GT(gain[1] / count[1], gain[0] / count[0] + 0.01)
      << "seven months of weekly mixed groups warm participants beyond their neighbours";
}

TEST(Arts, ArtsContactShowsInItsSeriesAndParticipantsAreCounted) {
  TempDir dir;
  {
    Simulation sim(small_city(shelton_groups()), until(Date::from_ymd(2021, 4, 30)));
    Recorder recorder = Recorder::create(dir.path() / "arts.h5", false);
    sim.attach(recorder);
    sim.run();
  }
  const h5::File file = h5::File::open_read_only(dir.path() / "arts.h5");
  const auto participants = file.open_dataset("series/arts_participants").read_values<std::int64_t>(h5::Datatype::copy_of(H5T_NATIVE_INT64));
  const auto positive = file.open_dataset("series/contacts_positive").read_values<std::int64_t>(h5::Datatype::copy_of(H5T_NATIVE_INT64));
  // Every monthly record after the groups formed counts their members, all in Shelton.
  EXPECT_GT(std::accumulate(participants.begin(), participants.end(), std::int64_t{0}), 2 * 48);
  EXPECT_GT(std::accumulate(positive.begin(), positive.end(), std::int64_t{0}), 0);
}

TEST(Arts, ACheckpointedRunContinuesExactlyAsTheUninterruptedOne) {
  TempDir dir;
  const Scenario scenario = small_city(shelton_groups("appeal = { asian = 1.5 }\n"), 0.05);
  Simulation whole(scenario, until(Date::from_ymd(2021, 6, 30)));
  whole.run();
  {
    Simulation first(scenario, until(Date::from_ymd(2021, 6, 30)));
    first.step(Date::from_ymd(2021, 4, 1) - first.start());
    first.save_checkpoint(dir.path() / "arts.checkpoint.h5");
  }
  Simulation rest(scenario, dir.path() / "arts.checkpoint.h5", until(Date::from_ymd(2021, 6, 30)));
  rest.run();
  EXPECT_EQ(rest.world().residents.warmth, whole.world().residents.warmth);
  EXPECT_EQ(joined(rest), joined(whole));
}

TEST(Arts, SameResultsWithOneAndTwoThreads) {
  const Scenario scenario = small_city(shelton_groups(), 0.05);
  Simulation one(scenario, until(Date::from_ymd(2021, 4, 30), 1));
  Simulation two(scenario, until(Date::from_ymd(2021, 4, 30), 2));
  one.run();
  two.run();
  EXPECT_EQ(one.world().residents.warmth, two.world().residents.warmth);
  EXPECT_EQ(joined(one), joined(two));
}

}  // namespace
}  // namespace contactsim
