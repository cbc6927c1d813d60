// The model contract: reproducibility, seeds, the mean-field limit, the world matching its scenario.
#include "core/config.hpp"
#include "core/recorder.hpp"
#include "models/mechanisms/norms.hpp"
#include "models/run/simulation.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/scenarios.hpp"
#include "tests/support/temp_dir.hpp"

using namespace contactsim;
using namespace contactsim::test;
namespace fs = std::filesystem;

namespace {

// A small Stoke: same structure, 3% of the residents.
Scenario small_stoke(const std::string& extra = "") {
  return scenario_from_text(small_city_text("stoke_on_trent.toml", extra, 0.03, "week"), "small_stoke.toml");
}

// Where the runs of this file write, removed when the test binary exits.
fs::path temp_file(const std::string& name) {
  static const TempDir dir("contactsim_model");
  return dir / name;
}

fs::path run_to_file(Scenario s, int threads, std::uint64_t seed, int days, const std::string& name) {
  RunOptions options;
  options.threads = threads;
  options.seed = seed;
  options.until = s.simulation.start + (days - 1);
  Simulation sim(std::move(s), options);
  const fs::path out = temp_file(name);
  Recorder rec = Recorder::create(out, true);
  sim.attach(rec);
  sim.run();
  return out;
}

// Raw bytes of a dataset as stored type, for byte-for-byte comparison.
std::vector<char> raw_bytes(const fs::path& file, const std::string& dataset) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t d = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
  const hid_t type = H5Dget_type(d);
  const hid_t space = H5Dget_space(d);
  std::vector<char> bytes(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)) * H5Tget_size(type));
  if (!bytes.empty()) H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data());
  H5Sclose(space);
  H5Tclose(type);
  H5Dclose(d);
  H5Fclose(f);
  return bytes;
}

const std::vector<std::string> kSeries{"population", "mean_warmth", "get_on_well_share", "mean_anxiety",
                                       "contacts_positive", "contacts_negative"};

}  // namespace

TEST(Reproducibility, SameSeedSameBytesForOneAndTwoThreads) {
  const auto one = run_to_file(small_stoke(), 1, 77, 60, "t1.h5");
  const auto two = run_to_file(small_stoke(), 2, 77, 60, "t2.h5");
  EXPECT_EQ(raw_bytes(one, "/series/time"), raw_bytes(two, "/series/time"));
  for (const auto& name : kSeries) {
    const auto a = raw_bytes(one, "/series/" + name);
    EXPECT_FALSE(a.empty()) << name;
    EXPECT_EQ(a, raw_bytes(two, "/series/" + name)) << name;
  }
}

TEST(Reproducibility, DifferentSeedsDiffer) {
  const auto a = run_to_file(small_stoke(), 2, 77, 21, "s77.h5");
  const auto b = run_to_file(small_stoke(), 2, 78, 21, "s78.h5");
  EXPECT_NE(raw_bytes(a, "/series/mean_warmth"), raw_bytes(b, "/series/mean_warmth"));
  EXPECT_NE(raw_bytes(a, "/series/contacts_positive"), raw_bytes(b, "/series/contacts_positive"));
  // The population is the scenario's, whatever the seed.
  EXPECT_EQ(raw_bytes(a, "/series/population"), raw_bytes(b, "/series/population"));
}

TEST(World, MatchesTheScenario) {
  const Scenario s = small_stoke();
  const World world = build_world(s, StreamKey{1, 0});
  const Residents& r = world.residents;
  ASSERT_EQ(static_cast<std::int64_t>(r.size()), s.population_size());
  std::vector<std::vector<std::int64_t>> counts(s.wards.size(), std::vector<std::int64_t>(s.groups.size(), 0));
  for (std::size_t i = 0; i < r.size(); ++i) ++counts[r.ward[i]][r.group[i]];
  EXPECT_EQ(counts, s.population.counts);

  const int worship = s.venue_type_index("place_of_worship");
  const int school = s.venue_type_index("school");
  ASSERT_GE(worship, 0);
  ASSERT_GE(school, 0);
  std::int64_t worshippers = 0, pupils = 0;
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (const auto v = r.member_venue(i, worship); v >= 0) {
      ++worshippers;
      EXPECT_EQ(world.venues.faith[v], r.faith[i]) << "worship draws its own faith only";
    }
    if (const auto v = r.member_venue(i, school); v >= 0) {
      ++pupils;
      EXPECT_EQ(world.venues.ward[v], r.ward[i]) << "schools serve their ward's catchment";
      EXPECT_LE(r.age_band[i], static_cast<int>(AgeBand::youth));
    }
    for (int g = 0; g < r.num_groups; ++g) {
      EXPECT_GT(r.warmth_of(i)[g], 0.0f);
      EXPECT_LT(r.warmth_of(i)[g], 1.0f);
    }
  }
  EXPECT_GT(worshippers, 0);
  const double young_share = s.groups[0].age_shares[0] + s.groups[0].age_shares[1];
  EXPECT_NEAR(static_cast<double>(pupils) / static_cast<double>(r.size()), young_share, 0.01);
}

// DESIGN §9: in one well-mixed venue with fixed p+, mean warmth follows
//   dA/dt = λ_eff · [p+·η+·(1−A) − (1−p+)·η−·A]
// where λ_eff is the daily rate of intergroup encounters a resident experiences: each starts
// Poisson(λ·p_out) and is met by others as often, so λ_eff = 2·λ·p_out, p_out = n_out/(n−1).
TEST(MeanField, MeanWarmthFollowsTheOde) {
  constexpr double p_plus = 0.7, eta_pos = 0.01, eta_neg = 0.02, lambda = 1.5;
  const int n_per_group = 1000;
  const std::string text = R"(
[simulation]
start = 2020-01-01
end = 2020-12-31
seed = 5
[wards]
names = ["Everywhere"]
[population]
source = "synthetic"
age_shares = { child = 0, youth = 0, adult = 1, older = 0 }
[population.synthetic.totals]
a = 1000
b = 1000
[groups.a]
warmth = { outgroup = 0.4, sd = 0.1 }
[groups.b]
warmth = { outgroup = 0.4, sd = 0.1 }
[venue_types.hall]
slot = "daytime"
membership = "ward"
member_share = { adult = 1.0 }
visits_per_week = { adult = 7.0 }
members_per_venue = 1000000
encounters = 1.5
homophily = 0.0
depth = 1.0
[mechanisms.attendance]
avoidance = 0.0
[mechanisms.valence]
enabled = false
beta0 = 0.8472978603872037
[mechanisms.attitude]
eta_positive = 0.01
eta_negative = 0.02
buffering = 0.0
plasticity_adult = 1.0
[mechanisms.norms]
enabled = false
)";
  const Scenario s = scenario_from_text(text, "mean_field.toml");
  RunOptions options;
  options.threads = 2;
  Simulation sim(s, options);
  const Residents& r = sim.world().residents;
  ASSERT_EQ(sim.world().venues.size(), 1u);

  auto mean_outgroup_warmth = [&] {
    double sum = 0;
    for (std::size_t i = 0; i < r.size(); ++i) sum += r.warmth_of(i)[1 - r.group[i]];
    return sum / static_cast<double>(r.size());
  };
  const double a0 = mean_outgroup_warmth();
  const double n = 2.0 * n_per_group;
  const double lambda_eff = 2.0 * lambda * n_per_group / (n - 1.0);
  const double k = lambda_eff * (p_plus * eta_pos + (1 - p_plus) * eta_neg);
  const double a_star = lambda_eff * p_plus * eta_pos / k;
  for (int day : {10, 30, 60, 120}) {
    sim.step(day - (sim.date() - sim.start()));
    const double expected = a_star + (a0 - a_star) * std::exp(-k * day);
    EXPECT_NEAR(mean_outgroup_warmth(), expected, 0.005) << "day " << day;
  }
  // The run moved far from its start toward the fixed point, so the check had teeth.
  EXPECT_GT(std::abs(mean_outgroup_warmth() - a0), 0.05);
}

// The census path end to end: a Nomis bulk CSV in the TS021 layout (real column headers,
// made-up counts) mapped onto scenario groups becomes exactly that many residents per ward.
TEST(Census, WardCountsFromANomisTableBecomeTheResidents) {
  const TempDir dir("contactsim_census_e2e");
  dir.write("ts021.csv",
            "\"date\",\"geography\",\"geography code\",\"Ethnic group: Total: All usual residents\","
            "\"Ethnic group: Asian, Asian British or Asian Welsh\",\"Ethnic group: Black, Black British, Black Welsh, "
            "Caribbean or African\",\"Ethnic group: Mixed or Multiple ethnic groups\",\"Ethnic group: White: English, "
            "Welsh, Scottish, Northern Irish or British\",\"Ethnic group: White: Irish\",\"Ethnic group: White: Gypsy or "
            "Irish Traveller\",\"Ethnic group: White: Roma\",\"Ethnic group: White: Other White\",\"Ethnic group: Other "
            "ethnic group\"\n"
            "\"2021\",\"North\",\"E05000001\",\"1000\",\"300\",\"20\",\"30\",\"550\",\"5\",\"0\",\"5\",\"80\",\"10\"\n"
            "\"2021\",\"South\",\"E05000002\",\"500\",\"20\",\"10\",\"10\",\"440\",\"2\",\"1\",\"0\",\"12\",\"5\"\n");
  const std::string text = R"(
[simulation]
start = 2021-01-01
end = 2021-01-31
[wards]
names = ["North", "South"]
[population]
source = "census"
age_shares = { child = 0.14, youth = 0.09, adult = 0.6, older = 0.17 }
[population.census]
file = "ts021.csv"
total_column = "Ethnic group: Total: All usual residents"
[population.census.columns]
white_british = ["Ethnic group: White: English, Welsh, Scottish, Northern Irish or British", "Ethnic group: White: Irish"]
other_white = ["Ethnic group: White: Gypsy or Irish Traveller", "Ethnic group: White: Roma", "Ethnic group: White: Other White"]
minority = ["Ethnic group: Asian, Asian British or Asian Welsh", "Ethnic group: Black, Black British, Black Welsh, Caribbean or African", "Ethnic group: Mixed or Multiple ethnic groups", "Ethnic group: Other ethnic group"]
[groups.white_british]
warmth = { outgroup = 0.6 }
[groups.other_white]
warmth = { outgroup = 0.6 }
[groups.minority]
warmth = { outgroup = 0.6 }
[venue_types.street]
)";
  const Scenario s = read_scenario(ConfigDocument::parse(text, dir / "census.toml"));
  const std::vector<std::vector<std::int64_t>> expected{{555, 85, 360}, {442, 13, 45}};
  EXPECT_EQ(s.population.counts, expected);
  const World world = build_world(s, StreamKey{1, 0});
  std::vector<std::vector<std::int64_t>> counts(2, std::vector<std::int64_t>(3, 0));
  for (std::size_t i = 0; i < world.residents.size(); ++i) ++counts[world.residents.ward[i]][world.residents.group[i]];
  EXPECT_EQ(counts, expected);
}
