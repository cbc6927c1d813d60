// DESIGN §9: the default calibration reproduces published patterns (pattern-oriented
// validation). One year of a tenth of Stoke-on-Trent.
#include "core/config.hpp"
#include "models/run/simulation.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tests/support/checks.hpp"
#include "tests/support/scenarios.hpp"

using namespace contactsim;
using namespace contactsim::test;

namespace {

class Patterns : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Scenario s = scenario_from_text(small_city_text("stoke_on_trent.toml", "", 0.1, ""), "p.toml");
    RunOptions options;
    options.until = Date::parse_iso("2020-12-31");
    options.threads = 2;
    sim_ = new Simulation(std::move(s), options);
    sim_->run();
  }
  static void TearDownTestSuite() { delete sim_; }
  static Simulation* sim_;
};
Simulation* Patterns::sim_ = nullptr;

}  // namespace

// Graf, Paolini & Rubin (2014): positive contact about three times as common as negative.
TEST_F(Patterns, PositiveContactAboutThreeTimesNegative) {
  std::int64_t positive = 0, negative = 0;
  for (const auto& g : sim_->summary()) positive += g.contacts_positive, negative += g.contacts_negative;
  const double ratio = static_cast<double>(positive) / static_cast<double>(negative);
  EXPECT_GT(ratio, 2.5);
  EXPECT_LT(ratio, 3.5);
}

// Pettigrew & Tropp (2006): contact and prejudice correlate at about r = −.2 across people, i.e.
// contact and warmth at about +.2 — recent intergroup contact against mean outgroup warmth.
TEST_F(Patterns, ContactWarmthCorrelationNearPointTwo) {
  const Residents& r = sim_->world().residents;
  std::vector<double> contact, warmth;
  for (std::size_t i = 0; i < r.size(); ++i) {
    contact.push_back(r.positive_memory[i] + r.negative_memory[i]);
    double sum = 0;
    for (int g = 0; g < r.num_groups; ++g)
      if (g != r.group[i]) sum += r.warmth_of(i)[g];
    warmth.push_back(sum / (r.num_groups - 1));
  }
  const double r_contact_warmth = correlation(contact, warmth);
  EXPECT_GT(r_contact_warmth, 0.05);
  EXPECT_LT(r_contact_warmth, 0.40);
}

// Laurence & Bentley (2017): more diverse areas see both more positive and more negative contact.
TEST_F(Patterns, DiverseWardsSeeMorePositiveAndMoreNegativeContact) {
  const Scenario& s = sim_->scenario();
  const Residents& r = sim_->world().residents;
  const int wards = static_cast<int>(s.wards.size()), groups = r.num_groups;
  std::vector<double> residents(wards, 0), diversity(wards, 0), positive(wards, 0), negative(wards, 0);
  std::vector<double> counts(static_cast<std::size_t>(wards) * groups, 0);
  std::vector<double> pos_memory(wards, 0), neg_memory(wards, 0);
  for (std::size_t i = 0; i < r.size(); ++i) {
    residents[r.ward[i]] += 1;
    counts[static_cast<std::size_t>(r.ward[i]) * groups + r.group[i]] += 1;
    pos_memory[r.ward[i]] += r.positive_memory[i];
    neg_memory[r.ward[i]] += r.negative_memory[i];
  }
  for (int w = 0; w < wards; ++w) {
    double simpson = 0;
    for (int g = 0; g < groups; ++g) simpson += std::pow(counts[static_cast<std::size_t>(w) * groups + g] / residents[w], 2);
    diversity[w] = 1 - simpson;
    positive[w] = pos_memory[w] / residents[w];
    negative[w] = neg_memory[w] / residents[w];
  }
  EXPECT_GT(correlation(diversity, positive), 0.5);
  EXPECT_GT(correlation(diversity, negative), 0.5);
}
