// Agent snapshots (models/snapshots.hpp) and resource guards (models/scenario.hpp): when
// snapshots fall, which slots the keyed panel follows, what /agents/<date> holds, that
// recording them changes no result, and that impossible scenarios are refused up front with
// an estimate while reasonable ones pass.
#include "core/config.hpp"
#include "core/h5.hpp"
#include "core/recorder.hpp"
#include "models/mechanisms/friendships.hpp"
#include "models//run/scenario.hpp"
#include "models/run/simulation.hpp"
#include "models/run/snapshots.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/errors.hpp"
#include "tests/support/scenarios.hpp"
#include "tests/support/temp_dir.hpp"

namespace {
namespace fs = std::filesystem;
using namespace contactsim;
using namespace contactsim::test;

// The default scenario with `body` from line 2 on.
Scenario scenario_from(const std::string& body) {
  return scenario_from_text(extending(default_scenario(), body), "snapshots.toml");
}

Date day(int y, unsigned m, unsigned d) { return Date::from_ymd(y, m, d); }

// Runs `s` to its end recording to `output`; returns the simulation for inspection.
std::unique_ptr<Simulation> run_to(const Scenario& s, const fs::path& output, int threads = 2) {
  RunOptions options;
  options.threads = threads;
  auto sim = std::make_unique<Simulation>(s, options);
  Recorder recorder = Recorder::create(output, true);
  sim->attach(recorder);
  sim->run();
  return sim;
}

// ------------------------------------------------------------------ schedule

TEST(SnapshotSchedule, EachIntervalAndAlwaysTheLastDay) {
  const Date start = day(2020, 1, 1), end = day(2029, 12, 31);
  EXPECT_EQ(snapshot_days(start, end, SnapshotInterval::year), 10);
  EXPECT_EQ(snapshot_days(start, end, SnapshotInterval::month), 120);
  EXPECT_EQ(snapshot_days(start, day(2020, 12, 31), SnapshotInterval::day), 366);
  EXPECT_EQ(snapshot_days(start, day(2020, 1, 28), SnapshotInterval::week), 4);
  EXPECT_TRUE(snapshot_due(day(2024, 12, 31), start, end, SnapshotInterval::year));
  EXPECT_FALSE(snapshot_due(day(2024, 12, 30), start, end, SnapshotInterval::year));
  EXPECT_TRUE(snapshot_due(day(2020, 2, 29), start, end, SnapshotInterval::month));
  // A run ending mid-year still gets its final state.
  EXPECT_TRUE(snapshot_due(day(2021, 6, 15), start, day(2021, 6, 15), SnapshotInterval::year));
  EXPECT_EQ(snapshot_days(start, day(2021, 6, 15), SnapshotInterval::year), 2);
  EXPECT_EQ(parse_snapshot_interval("year"), SnapshotInterval::year);
  EXPECT_FALSE(parse_snapshot_interval("fortnight"));
}

// ------------------------------------------------------------------ panel

TEST(SnapshotPanel, KeyedDeterministicAndOfTheAskedShare) {
  SnapshotSettings settings{true, SnapshotInterval::month, 0.1};
  const AgentSnapshots a(settings, 100000, StreamKey{5, 0});
  const AgentSnapshots again(settings, 100000, StreamKey{5, 0});
  const AgentSnapshots other_seed(settings, 100000, StreamKey{6, 0});
  EXPECT_EQ(a.panel(), again.panel());
  EXPECT_NE(a.panel(), other_seed.panel());
  // Binomial(100000, 0.1): sd ~95; 5 sd either side.
  EXPECT_NEAR(static_cast<double>(a.panel().size()), 10000, 475);
  EXPECT_TRUE(std::is_sorted(a.panel().begin(), a.panel().end()));
  settings.sample = 1;
  EXPECT_EQ(AgentSnapshots(settings, 1234, StreamKey{5, 0}).panel().size(), 1234u);
  settings.enabled = false;
  EXPECT_TRUE(AgentSnapshots(settings, 1234, StreamKey{5, 0}).panel().empty());
}

// ------------------------------------------------------------------ output

class SnapshotOutput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("contactsim_snapshots");
    const std::string common = "[simulation]\nend = 2020-03-10\n[population]\nscale = 0.01\n";
    with_ = scenario_from(common + "[record.agents]\ninterval = \"month\"\nsample = 0.05\n");
    without_ = scenario_from(common);
    sim_ = run_to(with_, *dir_ / "with.h5").release();
    run_to(without_, *dir_ / "without.h5");
  }
  static void TearDownTestSuite() {
    delete sim_;
    delete dir_;
  }
  static TempDir* dir_;
  static Scenario with_, without_;
  static Simulation* sim_;
};
TempDir* SnapshotOutput::dir_ = nullptr;
Scenario SnapshotOutput::with_;
Scenario SnapshotOutput::without_;
Simulation* SnapshotOutput::sim_ = nullptr;

TEST_F(SnapshotOutput, OneSnapshotPerMonthEndAndTheLastDay) {
  const h5::Group agents = h5::File::open_read_only(*dir_ / "with.h5").open_group("agents");
  const h5::Dataset date = agents.open_dataset("date");
  EXPECT_EQ(date.read_strings(0, date.shape().at(0)), (std::vector<std::string>{"2020-01-31", "2020-02-29", "2020-03-10"}));
  EXPECT_EQ(agents.string_attribute("interval"), "month");
  EXPECT_EQ(agents.integer_attribute("residents"), static_cast<std::int64_t>(sim_->world().residents.size()));
  EXPECT_EQ(agents.integer_attribute("sampled"), static_cast<std::int64_t>(sim_->snapshots().panel().size()));
  EXPECT_NE(agents.string_attribute("selection").find("purpose 400"), std::string::npos);
  const auto slots = agents.open_dataset("slot").read_values<std::uint32_t>(h5::Datatype::copy_of(H5T_NATIVE_UINT32));
  EXPECT_EQ(slots, sim_->snapshots().panel());
}

TEST_F(SnapshotOutput, TheLastSnapshotHoldsThePanelsFinalState) {
  const h5::Group agents = h5::File::open_read_only(*dir_ / "with.h5").open_group("agents");
  const auto& panel = sim_->snapshots().panel();
  const Residents& r = sim_->world().residents;
  ASSERT_GT(panel.size(), 50u);
  const std::size_t n = panel.size(), groups = static_cast<std::size_t>(r.num_groups), last = 2 * n;
  const h5::Dataset warmth_set = agents.open_dataset("warmth");
  EXPECT_EQ(warmth_set.shape(), (std::vector<hsize_t>{3, n, groups}));
  const auto warmth = warmth_set.read_values<float>(h5::Datatype::native_float());
  const auto wards = agents.open_dataset("ward").read_values<std::uint16_t>(h5::Datatype::copy_of(H5T_NATIVE_UINT16));
  const auto english = agents.open_dataset("english").read_values<float>(h5::Datatype::native_float());
  const auto friends = agents.open_dataset("friends").read_values<std::uint8_t>(h5::Datatype::copy_of(H5T_NATIVE_UINT8));
  ASSERT_EQ(wards.size(), 3 * n);
  for (std::size_t k = 0; k < n; ++k) {
    const std::uint32_t i = panel[k];
    ASSERT_EQ(wards[last + k], r.ward[i]);
    ASSERT_EQ(english[last + k], r.english[i]);
    ASSERT_EQ(friends[last + k], sim_->link<Friendships>("friendships")->degree(i));
    for (std::size_t g = 0; g < groups; ++g) ASSERT_EQ(warmth[(last + k) * groups + g], r.warmth_of(i)[g]);
  }
  for (const char* field : {"group", "age_band", "block", "anxiety", "positive_memory", "negative_memory",
                            "cross_group_friends", "knowledge", "trust"})
    EXPECT_EQ(agents.open_dataset(field).shape(), (std::vector<hsize_t>{3, n})) << field;
}

TEST_F(SnapshotOutput, RecordingSnapshotsChangesNoResult) {
  const h5::File a = h5::File::open_read_only(*dir_ / "with.h5");
  const h5::File b = h5::File::open_read_only(*dir_ / "without.h5");
  EXPECT_FALSE(b.has_link("agents"));
  for (const char* series : {"mean_warmth", "mean_anxiety", "population", "contacts_positive"}) {
    const h5::Dataset x = a.open_group("series").open_dataset(series), y = b.open_group("series").open_dataset(series);
    ASSERT_EQ(x.shape(), y.shape()) << series;
    EXPECT_EQ(x.read_values<double>(h5::Datatype::native_double()), y.read_values<double>(h5::Datatype::native_double()))
        << series;
  }
}

TEST_F(SnapshotOutput, SameBytesWhateverTheThreadCount) {
  run_to(with_, *dir_ / "one_thread.h5", 1);
  const auto warmth = [&](const std::string& file) {
    return h5::File::open_read_only(*dir_ / file).open_group("agents").open_dataset("warmth").read_values<float>(
                           h5::Datatype::native_float());
  };
  EXPECT_EQ(warmth("one_thread.h5"), warmth("with.h5"));
}

TEST_F(SnapshotOutput, TheEstimateBoundsTheRealFileSize) {
  for (const auto& [scenario, file] : {std::pair{&with_, "with.h5"}, std::pair{&without_, "without.h5"}}) {
    const ResourceEstimate e = estimate_resources(*scenario);
    const double actual = static_cast<double>(fs::file_size(*dir_ / file));
    EXPECT_GE(e.output_bytes(), actual) << file << ": estimate " << e.describe_output();
    EXPECT_LT(e.output_bytes(), 50 * actual) << file << ": estimate " << e.describe_output() << " is no guide";
  }
  EXPECT_EQ(estimate_resources(with_).snapshots, 3);
}

// ------------------------------------------------------------------ guards

TEST(ResourceGuards, ATrillionAgentsAreRefusedWithTheMemoryNeededAndAvailable) {
  const ConfigError e = config_error_of([] {
    scenario_from("[population]\nscale = 1000\n[population.synthetic.totals]\nwhite_british = 779147138\n"
                  "other_white = 55823691\nasian = 99085987\nblack = 26647964\nmixed = 22684060\nother = 16757559\n");
  });
  EXPECT_EQ(e.key(), "population.scale");
  EXPECT_EQ(e.line(), 3);
  const std::string what = e.expected();
  EXPECT_NE(what.find("expected at most 2e9 residents"), std::string::npos) << what;
  EXPECT_NE(what.find("about 1000146399000 residents need about 300 TB of memory (~300 bytes each)"), std::string::npos)
      << what;
  EXPECT_NE(what.find("and this machine has "), std::string::npos) << what;
}

TEST(ResourceGuards, EveryAgentEveryDayForACenturyIsRefusedWithTheDiskEstimate) {
  const ConfigError e = config_error_of([] {
    scenario_from("[simulation]\nend = 2119-12-31\n[record]\ninterval = \"day\"\n[record.agents]\ninterval = \"day\"\n"
                  "sample = 1\n");
  });
  EXPECT_EQ(e.key(), "record.agents.sample");
  EXPECT_EQ(e.line(), 8);
  const std::string what = e.expected();
  EXPECT_NE(what.find("expected an output of at most 100 GB (record.max_output_gb"), std::string::npos) << what;
  EXPECT_NE(what.find("258369 residents from 2020-01-01 to 2119-12-31 would write up to "), std::string::npos) << what;
  EXPECT_NE(what.find("agent snapshots: 36524 × 258369 residents × 58 bytes"), std::string::npos) << what;
}

TEST(ResourceGuards, TheDefaultScenarioAndAGenerousPanelAreAccepted) {
  const Scenario s = scenario_from("[record.agents]\ninterval = \"month\"\nsample = 0.1\n");
  const ResourceEstimate e = estimate_resources(s);
  EXPECT_EQ(e.residents, 258369);
  EXPECT_EQ(e.records, 209);  // weekly over 4 years, plus the short final week
  EXPECT_EQ(e.snapshots, 48);
  EXPECT_LT(e.output_bytes(), 1e9);
  EXPECT_NEAR(e.memory_bytes, 77.5e6, 1e6);
  EXPECT_NO_THROW(require_output_space(e, "results/x.h5", 1e12));
  EXPECT_NO_THROW(require_output_space(e, "results/x.h5", -1));  // free space unknown
}

TEST(ResourceGuards, AnOutputLargerThanTheFreeDiskSpaceIsRefusedBeforeWriting) {
  const Scenario s = scenario_from("[record.agents]\ninterval = \"week\"\nsample = 1\n");
  const ResourceEstimate e = estimate_resources(s);
  try {
    require_output_space(e, "results/big.h5", 1e9);
    FAIL() << "accepted " << e.describe_output() << " on 1 GB";
  } catch (const RecorderError& error) {
    const std::string what = error.what();
    EXPECT_EQ(what.rfind("results/big.h5: not enough free disk space: the output needs up to " + e.describe_output() +
                             ", and its filesystem has 1 GB free",
                         0),
              0u)
        << what;
  }
  EXPECT_GT(free_disk_bytes(fs::temp_directory_path() / "not" / "yet" / "there.h5"), 0);
}

}  // namespace
