// Spin-up: a run simulates simulation.spin_up_days unrecorded before its start, so it starts from
// the model's own equilibrium; runs that agree on everything before their start share one
// spin-up through the cache, and a restored spin-up gives exactly the simulated one's results.
#include "core/h5.hpp"
#include "core/recorder.hpp"
#include "models/run/checkpoint.hpp"
#include "models/run/simulation.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/support/errors.hpp"
#include "tests/support/records.hpp"
#include "tests/support/scenarios.hpp"
#include "tests/support/temp_dir.hpp"

using namespace contactsim;
using namespace contactsim::test;
namespace fs = std::filesystem;

namespace {

// 2% of Stoke, weekly records, a 120-day spin-up, run to the end of February 2020.
std::string city(const std::string& extra = "", int spin_up_days = 120) {
  return small_city_text("stoke_on_trent.toml",
                         "[simulation]\nspin_up_days = " + std::to_string(spin_up_days) + "\n" + extra, 0.02, "week");
}

// A counterfactual of `city()`: a festival after the start, nothing else different.
const char* kLaterFestival = R"([[timeline]]
kind = "festival"
label = "spring fair"
date = 2020-02-15
expected_attendance = 400
)";

RunOptions options(const std::optional<fs::path>& cache = std::nullopt) {
  RunOptions o;
  o.until = Date::parse_iso("2020-02-29");
  o.threads = 2;
  o.spin_up_cache = cache;
  return o;
}

// Runs `text` recording to `output`; returns how its spin-up was obtained.
std::string run(const std::string& text, const fs::path& output, const std::optional<fs::path>& cache = std::nullopt) {
  Simulation sim(scenario_from_text(text, "spin_up.toml"), options(cache));
  Recorder recorder = Recorder::create(output, true);
  sim.attach(recorder);
  sim.run();
  return sim.spin_up_source();
}

}  // namespace

TEST(SpinUp, RunsTheDaysBeforeTheStartUnrecorded) {
  Simulation built(scenario_from_text(city("", 0), "spin_up.toml"), options());
  Simulation spun(scenario_from_text(city(), "spin_up.toml"), options());
  EXPECT_EQ(built.spin_up_source(), "none");
  EXPECT_EQ(spun.spin_up_source(), "simulated");
  // Both stand at the start, but the spun-up city has lived 120 days: contact memories and
  // warmth are the model's own, not the survey draws it was built with.
  EXPECT_EQ(spun.date(), spun.start());
  EXPECT_EQ(built.date(), built.start());
  const Residents& a = built.world().residents;
  const Residents& b = spun.world().residents;
  ASSERT_EQ(a.size(), b.size());
  double memory = 0, moved = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    memory += b.positive_memory[i] + b.negative_memory[i] - a.positive_memory[i] - a.negative_memory[i];
    moved += std::abs(b.warmth_of(i)[0] - a.warmth_of(i)[0]);
  }
  EXPECT_GT(memory / static_cast<double>(b.size()), 1.0);
  EXPECT_GT(moved / static_cast<double>(b.size()), 1e-3);
}

TEST(SpinUp, SeriesStartAtTheStartAndProvenanceSaysWhen) {
  TempDir dir("contactsim_spin_up");
  run(city(), dir / "run.h5");
  const h5::File file = h5::File::open_read_only(dir / "run.h5");
  EXPECT_EQ(file.string_attribute("spin_up_source"), "");  // how is not part of the results
  EXPECT_EQ(file.string_attribute("spin_up_from"), "2019-09-03");  // 120 days before 2020-01-01
  EXPECT_EQ(file.integer_attribute("spin_up_days"), 120);
  // The first week's contacts are the first week's, not the spin-up's as well.
  const h5::Dataset positive = file.open_group("series").open_dataset("contacts_positive");
  const auto shape = positive.shape();
  ASSERT_GE(shape.at(0), 3u);
  const std::size_t cells = static_cast<std::size_t>(shape[1] * shape[2] * shape[3]);
  const std::vector<std::int64_t> all = positive.read_values<std::int64_t>(h5::Datatype::native_int64());
  std::int64_t week[2] = {0, 0};
  for (std::size_t k = 0; k < 2 * cells; ++k) week[k / cells] += all[k];
  EXPECT_GT(week[0], 0);
  EXPECT_LT(week[0], 2 * week[1]);
  // The run's summary counts the recorded weeks only, as the series do.
  std::int64_t recorded = 0;
  for (const std::int64_t v : all) recorded += v;
  Simulation again(scenario_from_text(city(), "spin_up.toml"), options());
  again.run();
  std::int64_t summarised = 0;
  for (const auto& g : again.summary()) summarised += g.contacts_positive;
  EXPECT_EQ(summarised, recorded);
}

TEST(SpinUp, CachedSpinUpGivesTheSimulatedOnesResultsAndServesCounterfactuals) {
  TempDir dir("contactsim_spin_up");
  const fs::path cache = dir / "cache";
  EXPECT_EQ(run(city(), dir / "uncached.h5"), "simulated");
  EXPECT_EQ(run(city(), dir / "first.h5", cache), "simulated");
  EXPECT_EQ(run(city(), dir / "second.h5", cache), "cache");
  expect_same_records(dir / "uncached.h5", dir / "first.h5");
  expect_same_records(dir / "uncached.h5", dir / "second.h5");
  // A counterfactual that differs only after the start restores the same spin-up, and its
  // results are those of the counterfactual simulated from scratch.
  EXPECT_EQ(run(city(kLaterFestival), dir / "festival_cached.h5", cache), "cache");
  run(city(kLaterFestival), dir / "festival.h5");
  expect_same_records(dir / "festival.h5", dir / "festival_cached.h5");
  int files = 0;
  for (const auto& entry : fs::directory_iterator(cache)) files += entry.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(SpinUp, RunsThatDifferBeforeTheStartDoNotShareOne) {
  const Scenario base = scenario_from_text(city(), "spin_up.toml");
  const Scenario festival = scenario_from_text(city(kLaterFestival), "spin_up.toml");
  const Scenario warmer = scenario_from_text(city("[mechanisms.norms]\nsocietal_weight = 0.9\n"), "spin_up.toml");
  const Scenario longer = scenario_from_text(city("", 121), "spin_up.toml");
  const StreamKey key{7, 0}, other_replicate{7, 1};
  const std::uint64_t world = 42;
  EXPECT_EQ(spin_up_file_name(base, key, world), spin_up_file_name(festival, key, world));
  EXPECT_NE(spin_up_file_name(base, key, world), spin_up_file_name(warmer, key, world));
  EXPECT_NE(spin_up_file_name(base, key, world), spin_up_file_name(longer, key, world));
  EXPECT_NE(spin_up_file_name(base, key, world), spin_up_file_name(base, other_replicate, world));
  EXPECT_NE(spin_up_file_name(base, key, world), spin_up_file_name(base, key, world + 1));
}

TEST(SpinUp, AnUnwritableCacheCostsTimeNotTheRun) {
  TempDir dir("contactsim_spin_up");
  const fs::path blocked = dir.write("not_a_folder", "a file where the cache folder would be");
  Simulation sim(scenario_from_text(city(), "spin_up.toml"), options(blocked));
  EXPECT_EQ(sim.spin_up_source().rfind("simulated (not cached: ", 0), 0u) << sim.spin_up_source();
  EXPECT_EQ(read_file(blocked), "a file where the cache folder would be");
}

TEST(SpinUp, NegativeLengthIsRefusedNamingTheKey) {
  const std::string message = error_of([] { scenario_from_text(city("", -1), "spin_up.toml"); });
  EXPECT_NE(message.find("spin_up_days"), std::string::npos) << message;
  EXPECT_NE(message.find("spin_up.toml:3"), std::string::npos) << message;
}
