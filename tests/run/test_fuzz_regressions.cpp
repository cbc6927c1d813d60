// Inputs the fuzzers (tests/fuzz) found crashing, overflowing or exhausting memory, each fed
// through the same entry point as its fuzz target and expected to fail with a clear error that
// names the file, line and key. The inputs live in tests/fuzz/regressions/<target>/ (also seeds
// of `make fuzz`); every file there is checked, and each fixed bug has its own test below.
#include "core/census.hpp"
#include "core/config.hpp"
#include "core/seal.hpp"
#include "models/run/checkpoint.hpp"
#include "models/analysis/ensemble.hpp"
#include "models/run/scenario.hpp"
#include "models/run/simulation.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/errors.hpp"
#include "tests/support/scenarios.hpp"
#include "tests/support/temp_dir.hpp"

using namespace contactsim;
using namespace contactsim::test;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = source_dir();
const fs::path kRegressions = kSource / "tests" / "fuzz" / "regressions";

std::vector<fs::path> regression_inputs(const std::string& target) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(kRegressions / target))
    if (entry.is_regular_file() && entry.path().filename().string().front() != '.') files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

// The fuzz targets' entry points (tests/fuzz/fuzz_<target>.cpp).
// Scenario text is read as if it were a file in scenarios/ (extends and census paths resolve).
Scenario fuzz_scenario(const std::string& text) { return scenario_from_text(text, "fuzz_input.toml"); }

// An ensemble spec at <dir>/scenarios/ensembles/spec.toml beside links to scenarios/ and the
// fuzzing city, as the ensemble fuzz target lays it out.
class EnsembleDir {
 public:
  EnsembleDir() {
    const fs::path scenarios = root_ / "scenarios";
    fs::create_directories(scenarios / "ensembles");
    for (const auto& entry : fs::directory_iterator(kSource / "scenarios"))
      if (entry.path().filename() != "ensembles") fs::create_symlink(entry.path(), scenarios / entry.path().filename());
    fs::create_symlink(kSource / "tests" / "fuzz" / "small_city.toml", scenarios / "small_city.toml");
  }

  fs::path spec(const std::string& text) const {
    return root_.write(fs::path("scenarios") / "ensembles" / "spec.toml", text);
  }

 private:
  TempDir root_{"contactsim_fuzz_regressions"};
};

void expect_names(const ConfigError& e, const std::string& file_part, int line, const std::string& key,
                  const std::string& expected_part) {
  EXPECT_NE(e.file().find(file_part), std::string::npos) << e.what();
  EXPECT_EQ(e.line(), line) << e.what();
  EXPECT_EQ(e.key(), key) << e.what();
  EXPECT_NE(e.expected().find(expected_part), std::string::npos) << e.what();
}

// ---------------------------------------------------------------- every saved input

TEST(FuzzRegressions, EveryScenarioInputGivesAConfigError) {
  for (const fs::path& input : regression_inputs("scenario")) {
    SCOPED_TRACE(input.string());
    const ConfigError e = config_error_of([&] { fuzz_scenario(read_file(input)); });
    EXPECT_FALSE(e.expected().empty());
  }
}

TEST(FuzzRegressions, EveryCensusInputGivesAConfigErrorWhenMapped) {
  for (const fs::path& input : regression_inputs("census")) {
    SCOPED_TRACE(input.string());
    const ConfigError e = config_error_of([&] {
      const CensusTable table = load_nomis_csv(input);
      // As the census fuzz target maps it: the first category is the total, each other a group.
      CensusMapping mapping;
      mapping.total_column = table.categories.at(0);
      for (std::size_t c = 1; c < table.categories.size(); ++c) {
        mapping.groups.push_back("g" + std::to_string(c));
        mapping.columns.push_back({table.categories[c]});
        mapping.group_locations.push_back({"mapping.toml", static_cast<int>(c), "population.census.columns"});
      }
      map_census(table, mapping, table.geography_names);
    });
    EXPECT_EQ(e.file(), input.string()) << e.what();
    EXPECT_GT(e.line(), 0) << e.what();
  }
}

TEST(FuzzRegressions, EveryEnsembleInputGivesAConfigError) {
  const EnsembleDir dir;
  for (const fs::path& input : regression_inputs("ensemble")) {
    SCOPED_TRACE(input.string());
    const fs::path spec = dir.spec(read_file(input));
    const ConfigError e = config_error_of([&] { load_ensemble_spec(spec); });
    EXPECT_EQ(e.file(), spec.string()) << e.what();
  }
}

TEST(FuzzRegressions, EveryCheckpointInputGivesACheckpointError) {
  const Scenario city = load_scenario(kSource / "tests" / "fuzz" / "small_city.toml");
  RunOptions options;
  options.threads = 1;
  for (const fs::path& input : regression_inputs("checkpoint")) {
    SCOPED_TRACE(input.string());
    try {
      Simulation sim(city, input, options);
      ADD_FAILURE() << "expected a CheckpointError";
    } catch (const CheckpointError& e) {
      EXPECT_EQ(e.file(), input) << e.what();
    }
  }
}

// ---------------------------------------------------------------- one test per fixed bug

// Census counts are any non-negative int64: summing two near INT64_MAX overflowed (UB).
TEST(FuzzRegressions, CensusSumsThatOverflowAreRefused) {
  const fs::path input = kRegressions / "census" / "mapped_sum_overflows.csv";
  const CensusTable table = load_nomis_csv(input);
  CensusMapping mapping;
  mapping.total_column = "Total";
  mapping.groups = {"both"};
  mapping.columns = {{"A", "B"}};
  mapping.group_locations = {{"scenario.toml", 7, "population.census.columns.both"}};
  const ConfigError e = config_error_of([&] { map_census(table, mapping, {"North"}); });
  expect_names(e, "mapped_sum_overflows.csv", 2, "Total", "sum to more than 9223372036854775807 for ward North");
}

// A checkpoint array whose header claims 2^31 values was allocated (16 GiB) before its checksum
// could refuse it; now the claim is checked against what the file could hold. The damaged file
// is made here from a fresh checkpoint (a stored one would only fit the build that wrote it):
// /state/venues/budget replaced by a chunked array of 2^31 values, none written, same checksum.
void claim_two_billion_budgets(const fs::path& checkpoint) {
  const char* name = "/state/venues/budget";
  const hid_t file = H5Fopen(checkpoint.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  hid_t dataset = H5Dopen2(file, name, H5P_DEFAULT);
  hid_t attribute = H5Aopen(dataset, "checksum", H5P_DEFAULT);
  std::int64_t checksum = 0;
  ASSERT_GE(H5Aread(attribute, H5T_NATIVE_INT64, &checksum), 0);
  H5Aclose(attribute);
  H5Dclose(dataset);
  ASSERT_GE(H5Ldelete(file, name, H5P_DEFAULT), 0);
  const hsize_t claimed = hsize_t{1} << 31, chunk = 4096;
  const hid_t space = H5Screate_simple(1, &claimed, nullptr);
  const hid_t layout = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(layout, 1, &chunk);
  dataset = H5Dcreate2(file, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, layout, H5P_DEFAULT);
  ASSERT_GE(dataset, 0);
  const hid_t scalar = H5Screate(H5S_SCALAR);
  attribute = H5Acreate2(dataset, "checksum", H5T_STD_I64LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attribute, H5T_NATIVE_INT64, &checksum);
  H5Aclose(attribute);
  H5Sclose(scalar);
  H5Dclose(dataset);
  H5Pclose(layout);
  H5Sclose(space);
  H5Fclose(file);
  // Sealed anew, as by someone crafting the file: the seal alone would refuse the edit.
  seal_file(checkpoint, "checkpoint");
}

TEST(FuzzRegressions, CheckpointArrayLongerThanItsFileCouldHoldIsRefused) {
  const Scenario city = load_scenario(kSource / "tests" / "fuzz" / "small_city.toml");
  RunOptions options;
  options.threads = 1;
  const TempDir dir("contactsim_fuzz_regression");
  const fs::path checkpoint = dir / "checkpoint.h5";
  {
    Simulation sim(city, options);
    sim.step(10);
    sim.save_checkpoint(checkpoint);
  }
  claim_two_billion_budgets(checkpoint);
  try {
    Simulation sim(city, checkpoint, options);
    ADD_FAILURE() << "expected a CheckpointError";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("/state/venues/budget: claims 2147483648 values, more than a file of"),
              std::string::npos)
        << e.what();
  }
}

// A census city of 1.8e19 residents overflowed the integer sums of scaling before the 2e9
// bound on residents was checked.
TEST(FuzzRegressions, CensusCityBeyondAgentIdsIsRefusedBeforeScaling) {
  const fs::path input = kRegressions / "scenario" / "census_counts_overflow.toml";
  const ConfigError e = config_error_of([&] { fuzz_scenario(read_file(input)); });
  expect_names(e, "fuzz_input.toml", 12, "population.scale", "expected at most 2e9 residents");
}

// 400 × 400 grid values built 160000 points (and longer lists exhausted memory) unchecked.
TEST(FuzzRegressions, GridSweepWithTooManyPointsIsRefused) {
  const EnsembleDir dir;
  const fs::path spec = dir.spec(read_file(kRegressions / "ensemble" / "grid_too_large.toml"));
  const ConfigError e = config_error_of([&] { load_ensemble_spec(spec); });
  expect_names(e, "spec.toml", 7, "sweep.parameters", "expected at most 100000 grid points");
}

// 10^5 replicates × 10^5 points planned 10^10 runs (bad_alloc; int run indexes overflowed).
TEST(FuzzRegressions, EnsembleWithTooManyRunsIsRefused) {
  const EnsembleDir dir;
  const fs::path spec = dir.spec(read_file(kRegressions / "ensemble" / "too_many_runs.toml"));
  const ConfigError e = config_error_of([&] { load_ensemble_spec(spec); });
  expect_names(e, "spec.toml", 3, "replicates", "expected at most 10000000 runs");
}

}  // namespace
