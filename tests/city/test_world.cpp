// The city as built and as it evolves: the world matches its scenario (synthetic or from a
// census table), and contact in one well-mixed venue follows the mean-field equation.
#include "core/config.hpp"
#include "models/city/world.hpp"
#include "models/run/simulation.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tests/support/scenarios.hpp"
#include "tests/support/temp_dir.hpp"

using namespace contactsim;
using namespace contactsim::test;

TEST(World, MatchesTheScenario) {
  // A small Stoke: same structure, 3% of the residents.
  const Scenario s =
      scenario_from_text(small_city_text("stoke_on_trent.toml", "", 0.03, "week"), "small_stoke.toml");
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
spin_up_days = 0                 # the ODE starts from the built city
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
