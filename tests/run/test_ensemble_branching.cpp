// Branching ensembles: a counterfactual continues its baseline's state from the last day their
// histories agree (the day before the first differing timeline item), and writes the same bytes
// as when it is simulated from its first day.
#include "models/analysis/ensemble.hpp"
#include "models/analysis/compare.hpp"
#include "core/h5.hpp"
#include "models/run/checkpoint.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "tests/support/records.hpp"
#include "tests/support/scenarios.hpp"
#include "tests/support/temp_dir.hpp"

using namespace contactsim;
using namespace contactsim::test;
namespace fs = std::filesystem;

namespace {

Date day(const char* iso) { return *Date::parse_iso(iso); }

const std::string kWindow = "[simulation]\nstart = 2020-10-01\n";

Scenario small(const std::string& base, const std::string& extra = "") {
  return scenario_from_text(small_city_text(base, kWindow + extra, 0.03, "month"), "branching_test.toml");
}

std::string budget_item(const char* date, const char* venue_type, double change) {
  std::ostringstream text;
  text << "[[timeline]]\nkind = \"budget\"\ndate = " << date << "\nvenue_type = \"" << venue_type
       << "\"\nchange = " << change << "\n";
  return text.str();
}

std::string bytes_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace

// The community-centre cut takes effect on 2021-04-01: the histories agree through 2021-03-31.
TEST(LastSharedDay, IsTheDayBeforeTheFirstDifferingItemTakesEffect) {
  EXPECT_EQ(last_shared_day(small("baseline.toml"), small("cut_community_centres.toml")), day("2021-03-31"));
  // An item both share comes first; an item of another kind differs before the cut: the
  // earliest difference wins.
  const std::string shared = budget_item("2020-12-01", "park", -0.2);
  const std::string shock = "[[timeline]]\nkind = \"media_shock\"\ndate = 2021-02-10\ntarget = \"other_white\"\n"
                            "magnitude = 0.1\n";
  EXPECT_EQ(last_shared_day(small("baseline.toml", shared), small("baseline.toml", shared + shock +
                                                                                     budget_item("2021-04-01", "community_centre", -0.4))),
            day("2021-02-09"));
  // Items are matched by their place among items of their kind: a branch that puts its cut
  // before the shared item differs from that item's date on.
  EXPECT_EQ(last_shared_day(small("baseline.toml", shared), small("cut_community_centres.toml", shared)),
            day("2020-11-30"));
  // The same item with another value differs on its own date.
  EXPECT_EQ(last_shared_day(small("baseline.toml", shared), small("baseline.toml", budget_item("2020-12-01", "park", -0.3))),
            day("2020-11-30"));
}

TEST(LastSharedDay, IsNothingWhenTheyDoNotShareAPartOfTheRun) {
  // Nothing differs: one history, nothing to branch.
  EXPECT_EQ(last_shared_day(small("baseline.toml"), small("baseline.toml")), std::nullopt);
  // The first difference takes effect on the first day: only the spin-up is shared.
  EXPECT_EQ(last_shared_day(small("baseline.toml"), small("baseline.toml", budget_item("2020-10-01", "park", -0.5))),
            std::nullopt);
  // A setting differs: the histories differ from the start.
  EXPECT_EQ(last_shared_day(small("baseline.toml"),
                            small("cut_community_centres.toml", "[mechanisms.valence]\nbeta0 = 1.3\n")),
            std::nullopt);
}

// A baseline and a mid-run community-centre cut, two paired replicates, in a small city.
class BranchingEnsemble : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("contactsim_branching");
    // Both folders' files must carry the same creation time to be compared byte for byte.
    const char* epoch = std::getenv("SOURCE_DATE_EPOCH");
    saved_epoch_ = epoch ? std::optional<std::string>(epoch) : std::nullopt;
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
    const fs::path spec_path = *dir_ / "spec.toml";
    std::ofstream(spec_path) << "name = \"branching\"\nseed = 3\nreplicates = 2\nthreads = 1\nuntil = 2021-06-30\n"
                             << "[overrides]\n\"population.scale\" = 0.03\n\"record.interval\" = \"month\"\n"
                             << "\"simulation.start\" = 2020-10-01\n"
                             << "[baseline]\nscenario = \"" << (scenarios_dir() / "baseline.toml").generic_string()
                             << "\"\n[[counterfactuals]]\nname = \"cut40\"\nscenario = \""
                             << (scenarios_dir() / "cut_community_centres.toml").generic_string() << "\"\n";
    spec_ = new EnsembleSpec(load_ensemble_spec(spec_path));
    branched_ = new std::map<std::string, RunOutcome>(run_into(branched(), true));
    run_into(unbranched(), false);
  }
  static void TearDownTestSuite() {
    if (saved_epoch_)
      setenv("SOURCE_DATE_EPOCH", saved_epoch_->c_str(), 1);
    else
      unsetenv("SOURCE_DATE_EPOCH");
    delete branched_;
    delete spec_;
    delete dir_;
  }

  // Runs the whole ensemble into `out`; returns how each run was done.
  static std::map<std::string, RunOutcome> run_into(const fs::path& out, bool branching) {
    std::map<std::string, RunOutcome> outcomes;
    prepare_output_folder(*spec_, out);
    EnsembleOptions options;
    options.branching = branching;
    options.on_run_done = [&](const EnsembleRun& run, RunOutcome outcome) { outcomes[run.name] = outcome; };
    run_ensemble_share(*spec_, out, options);
    write_master_file(*spec_, out);
    return outcomes;
  }

  static fs::path branched() { return *dir_ / "branched"; }
  static fs::path unbranched() { return *dir_ / "unbranched"; }

  static TempDir* dir_;
  static EnsembleSpec* spec_;
  static std::map<std::string, RunOutcome>* branched_;
  static std::optional<std::string> saved_epoch_;
};

TempDir* BranchingEnsemble::dir_ = nullptr;
EnsembleSpec* BranchingEnsemble::spec_ = nullptr;
std::map<std::string, RunOutcome>* BranchingEnsemble::branched_ = nullptr;
std::optional<std::string> BranchingEnsemble::saved_epoch_;

TEST_F(BranchingEnsemble, EachCutBranchesFromItsOwnReplicateOnTheDayBeforeTheCut) {
  const std::vector<EnsembleRun> runs = plan_runs(*spec_);
  ASSERT_EQ(runs.size(), 4u);
  for (const EnsembleRun& run : runs) {
    if (run.scenario == 0) {
      EXPECT_EQ(run.parent, -1) << run.name;
      continue;
    }
    ASSERT_GE(run.parent, 0) << run.name;
    EXPECT_EQ(runs[run.parent].scenario, 0) << run.name;
    EXPECT_EQ(runs[run.parent].replicate, run.replicate) << run.name;
    EXPECT_EQ(run.branch_day, day("2021-03-31")) << run.name;
  }
  // Each cut follows its baseline replicate in one family.
  const std::vector<std::vector<int>> families = run_families(runs);
  ASSERT_EQ(families.size(), 2u);
  EXPECT_EQ(families[0], (std::vector<int>{0, 2}));
  EXPECT_EQ(families[1], (std::vector<int>{1, 3}));
}

TEST_F(BranchingEnsemble, BranchedRunsWriteTheBytesOfRunsFromTheFirstDay) {
  EXPECT_EQ(branched_->at("baseline_r000"), RunOutcome::from_first_day);
  EXPECT_EQ(branched_->at("cut40_r000"), RunOutcome::branched);
  EXPECT_EQ(branched_->at("cut40_r001"), RunOutcome::branched);
  for (const EnsembleRun& run : plan_runs(*spec_)) {
    expect_same_records(unbranched() / run.file, branched() / run.file);  // names what differs, if anything
    EXPECT_TRUE(bytes_of(unbranched() / run.file) == bytes_of(branched() / run.file)) << run.name;
  }
  // The cut changes what follows the branch: the comparison above is not of equal runs.
  EXPECT_NE(bytes_of(branched() / "runs/baseline_r000.h5"), bytes_of(branched() / "runs/cut40_r000.h5"));
  // The states served their purpose and are gone.
  EXPECT_FALSE(fs::exists(branched() / "branches"));
}

// A resumed ensemble whose baseline is complete but whose branch state is gone: the cut is
// simulated from its first day, to the same bytes.
TEST_F(BranchingEnsemble, ACutWhoseStateIsGoneRunsFromTheFirstDayToTheSameBytes) {
  const fs::path redone = branched() / "runs/cut40_r001.h5";
  const std::string expected = bytes_of(redone);
  fs::remove(redone);
  std::map<std::string, RunOutcome> outcomes;
  EnsembleOptions options;
  options.on_run_done = [&](const EnsembleRun& run, RunOutcome outcome) { outcomes[run.name] = outcome; };
  EXPECT_EQ(run_ensemble_share(*spec_, branched(), options), 1);
  EXPECT_EQ(outcomes.at("baseline_r001"), RunOutcome::skipped);
  EXPECT_EQ(outcomes.at("cut40_r001"), RunOutcome::from_first_day);
  EXPECT_TRUE(bytes_of(redone) == expected);
}

// A sweep over a policy's size (issue 15): `scenarios = ["cut40"]` puts the swept value in the
// counterfactual's own timeline item (the baseline has none), so the baseline is the same run at
// every point: simulated once, its file copied to the other point with that point's labels.
TEST(PolicySweep, SizesOfTheCutShareOneBaseline) {
  TempDir dir("contactsim_policy_sweep");
  const fs::path spec_path = dir / "spec.toml";
  std::ofstream(spec_path) << "name = \"policy sweep\"\nseed = 5\nreplicates = 1\nthreads = 1\nuntil = 2021-06-30\n"
                           << "[overrides]\n\"population.scale\" = 0.03\n\"record.interval\" = \"month\"\n"
                           << "\"simulation.start\" = 2020-10-01\n"
                           << "[baseline]\nscenario = \"" << (scenarios_dir() / "baseline.toml").generic_string()
                           << "\"\n[[counterfactuals]]\nname = \"cut40\"\nscenario = \""
                           << (scenarios_dir() / "cut_community_centres.toml").generic_string() << "\"\n"
                           << "[sweep]\ndesign = \"grid\"\n[sweep.parameters.\"timeline[0].change\"]\n"
                           << "values = [-0.4, -0.8]\nscenarios = [\"cut40\"]\n";
  const EnsembleSpec spec = load_ensemble_spec(spec_path);
  const std::vector<EnsembleRun> runs = plan_runs(spec);
  ASSERT_EQ(runs.size(), 4u);  // baseline p0, p1; cut40 p0, p1
  EXPECT_EQ(runs[0].same_as, -1);
  EXPECT_EQ(runs[1].same_as, 0) << "the baseline at point 1 is point 0's run";
  for (const int cut : {2, 3}) {
    EXPECT_EQ(runs[cut].same_as, -1);
    EXPECT_EQ(runs[cut].parent, 0) << runs[cut].name << " branches from the one baseline run";
    EXPECT_EQ(runs[cut].branch_day, day("2021-03-31"));
  }

  const fs::path out = dir / "out";
  prepare_output_folder(spec, out);
  std::map<std::string, RunOutcome> outcomes;
  EnsembleOptions options;
  options.on_run_done = [&](const EnsembleRun& run, RunOutcome outcome) { outcomes[run.name] = outcome; };
  EXPECT_EQ(run_ensemble_share(spec, out, options), 4);
  write_master_file(spec, out);
  EXPECT_EQ(outcomes.at("baseline_p001_r000"), RunOutcome::copied);
  EXPECT_EQ(outcomes.at("cut40_p001_r000"), RunOutcome::branched);

  expect_same_records(out / runs[0].file, out / runs[1].file);
  const h5::File copy = h5::File::open_read_only(out / runs[1].file);
  EXPECT_EQ(copy.integer_attribute("ensemble_point"), 1);
  EXPECT_EQ(copy.string_attribute("ensemble_run"), "baseline_p001_r000");
  // The swept value reached the cut: its event says so, and the two cuts differ.
  const auto events_of = [&](int run) { return event_rows(h5::File::open_read_only(out / runs[run].file)); };
  const auto mentions = [](const std::vector<std::string>& rows, const std::string& text) {
    return std::any_of(rows.begin(), rows.end(), [&](const std::string& row) { return row.find(text) != std::string::npos; });
  };
  EXPECT_TRUE(mentions(events_of(2), "budget changed by -40%"));
  EXPECT_TRUE(mentions(events_of(3), "budget changed by -80%"));
  EXPECT_NE(bytes_of(out / runs[2].file), bytes_of(out / runs[3].file));

  // compare pairs each cut with the baseline at its own point.
  CompareOptions compare_options;
  const std::vector<ComparisonRow> rows = compare_ensemble(out / "ensemble.h5", compare_options);
  std::set<int> compared_points;
  for (const ComparisonRow& row : rows)
    if (row.scenario == "cut40") compared_points.insert(row.point);
  EXPECT_EQ(compared_points, (std::set<int>{0, 1}));
}

TEST(PolicySweep, ScenariosOfASweepParameterMustBeTheSpecsOwn) {
  TempDir dir("contactsim_policy_sweep_bad");
  const fs::path spec_path = dir / "spec.toml";
  std::ofstream(spec_path) << "name = \"bad\"\nreplicates = 1\n[baseline]\nscenario = \""
                           << (scenarios_dir() / "baseline.toml").generic_string()
                           << "\"\n[[counterfactuals]]\nname = \"cut40\"\nscenario = \""
                           << (scenarios_dir() / "cut_community_centres.toml").generic_string() << "\"\n"
                           << "[sweep]\n[sweep.parameters.\"timeline[0].change\"]\nvalues = [-0.4]\n"
                           << "scenarios = [\"cut80\"]\n";
  try {
    load_ensemble_spec(spec_path);
    FAIL() << "an unknown scenario name was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.line(), 11);  // scenarios = [...]
    EXPECT_NE(std::string(e.what()).find("unknown scenario \"cut80\"; expected one of"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("scenarios"), std::string::npos) << e.what();
  }
}
