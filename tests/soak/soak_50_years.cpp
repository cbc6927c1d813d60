// Soak test (ctest soak_50_years, `make soak`): the default scenario for 50 simulated years at
// reduced population (tests/data/soak_50_years.toml) with every invariant checked after every
// day, then its output: complete, no NaN anywhere in the series, populations plausible and
// every yearly agent snapshot present. Long runs are where slow drifts show: a warmth creeping
// past 1, a population cell going negative, a budget running below zero, a snapshot torn.
//
// Usage: contactsim_soak SCENARIO OUTPUT (the ctest entry passes both).
#include "core/h5.hpp"
#include "core/recorder.hpp"
#include "models/run/scenario.hpp"
#include "models/run/simulation.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

namespace {
namespace fs = std::filesystem;
using namespace contactsim;

fs::path g_scenario;
fs::path g_output;

TEST(Soak, FiftyYearsOfTheDefaultScenarioKeepEveryInvariant) {
  const Scenario scenario = load_scenario(g_scenario);
  ASSERT_GE(scenario.simulation.end - scenario.simulation.start, 50 * 365) << "the soak must cover 50 years";
  RunOptions options;
  options.check_invariants = true;
  Simulation sim(scenario, options);
  ASSERT_TRUE(sim.checks_invariants());
  const std::int64_t residents = static_cast<std::int64_t>(sim.world().residents.size());
  {
    Recorder recorder = Recorder::create(g_output, true);
    sim.attach(recorder);
    sim.run();  // throws InvariantError, naming day, invariant, agent and value, on any violation
  }
  ASSERT_TRUE(sim.finished());

  const h5::File file = h5::File::open_read_only(g_output);
  EXPECT_EQ(file.integer_attribute("complete"), 1);
  EXPECT_EQ(file.integer_attribute("invariants_checked"), 1);
  const std::int64_t months = 50 * 12;
  EXPECT_EQ(file.integer_attribute("records"), months);

  // No NaN or infinity in any float series (a NaN mean is where a NaN agent value ends up).
  const h5::Group series = file.open_group("series");
  int float_series = 0;
  for (const std::string& name : series.link_names()) {
    const h5::Dataset d = series.open_dataset(name);
    if (d.stored_type().type_class() != H5T_FLOAT) continue;
    ++float_series;
    const auto values = d.read_values<float>(h5::Datatype::native_float());
    const auto bad = std::find_if(values.begin(), values.end(), [](float v) { return !std::isfinite(v); });
    EXPECT_EQ(bad, values.end()) << "/series/" << name << " holds " << *bad << " at element " << (bad - values.begin());
  }
  EXPECT_GT(float_series, 10);

  // Populations: every record holds every resident slot; no group dies out or takes over.
  const h5::Dataset population = series.open_dataset("population");
  const auto shape = population.shape();  // (time, ward, group)
  ASSERT_EQ(shape.size(), 3u);
  ASSERT_EQ(static_cast<std::int64_t>(shape[0]), months);
  const auto counts = population.read_values<std::int64_t>(h5::Datatype::native_int64());
  const std::size_t cells = shape[1] * shape[2], groups = shape[2];
  for (std::size_t t = 0; t < shape[0]; ++t) {
    const auto first = counts.begin() + static_cast<std::ptrdiff_t>(t * cells);
    EXPECT_EQ(std::accumulate(first, first + static_cast<std::ptrdiff_t>(cells), std::int64_t{0}), residents)
        << "record " << t;
    EXPECT_TRUE(std::all_of(first, first + static_cast<std::ptrdiff_t>(cells), [](std::int64_t c) { return c >= 0; }));
  }
  auto group_total = [&](std::size_t t, std::size_t g) {
    std::int64_t total = 0;
    for (std::size_t w = 0; w < shape[1]; ++w) total += counts[t * cells + w * groups + g];
    return total;
  };
  for (std::size_t g = 0; g < groups; ++g) {
    const double start = static_cast<double>(group_total(0, g)), end = static_cast<double>(group_total(shape[0] - 1, g));
    // Arrivals keep each group's city share by default: after 50 years of churn (5% leave a year)
    // a group within a factor 2 of where it began is plausible; outside it, something leaks.
    EXPECT_GT(end, start / 2) << "group " << g;
    EXPECT_LT(end, start * 2) << "group " << g;
  }

  // A snapshot on every 31 December, each of the whole panel, warmth in range throughout.
  const h5::Group agents = file.open_group("agents");
  const h5::Dataset date_set = agents.open_dataset("date");
  const auto dates = date_set.read_strings(0, date_set.shape().at(0));
  ASSERT_EQ(dates.size(), 50u);
  for (std::size_t y = 0; y < dates.size(); ++y) EXPECT_EQ(dates[y], std::to_string(2020 + y) + "-12-31");
  const std::size_t panel = sim.snapshots().panel().size();
  EXPECT_EQ(agents.integer_attribute("sampled"), static_cast<std::int64_t>(panel));
  EXPECT_NEAR(static_cast<double>(panel), 0.1 * static_cast<double>(residents), 5 * std::sqrt(0.09 * static_cast<double>(residents)));
  const h5::Dataset warmth_set = agents.open_dataset("warmth");
  EXPECT_EQ(warmth_set.shape(), (std::vector<hsize_t>{50, panel, groups}));
  const auto warmth = warmth_set.read_values<float>(h5::Datatype::native_float());
  EXPECT_TRUE(std::all_of(warmth.begin(), warmth.end(), [](float v) { return v >= 0 && v <= 1; }));
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s SCENARIO OUTPUT\n", argv[0]);
    return 2;
  }
  g_scenario = argv[1];
  g_output = argv[2];
  return RUN_ALL_TESTS();
}
