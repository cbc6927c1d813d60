// The model contract: the same seed gives the same bytes for any thread count, another seed
// other results (tests/city/test_world.cpp: the world matching its scenario, the mean-field limit).
#include "core/config.hpp"
#include "core/recorder.hpp"
#include "models/run/simulation.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <hdf5.h>

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
  // Who lives where differs (three spin-up years of moves, births and deaths), but the city's
  // total is the scenario's, whatever the seed.
  EXPECT_NE(raw_bytes(a, "/series/population"), raw_bytes(b, "/series/population"));
  const auto total = [](const std::vector<char>& bytes) {
    std::int64_t sum = 0;
    for (std::size_t k = 0; k + sizeof sum <= bytes.size(); k += sizeof sum) {
      std::int64_t v = 0;
      std::memcpy(&v, bytes.data() + k, sizeof v);
      sum += v;
    }
    return sum;
  };
  EXPECT_EQ(total(raw_bytes(a, "/series/population")), total(raw_bytes(b, "/series/population")));
}
