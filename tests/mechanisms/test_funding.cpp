// Mechanisms doing what the literature says, shown with paired runs that share their random
// numbers (same seed): differences isolate the policy.
#include "core/config.hpp"
#include "core/recorder.hpp"
#include "models/run/simulation.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "tests/support/scenarios.hpp"
#include "tests/support/temp_dir.hpp"

using namespace contactsim;
using namespace contactsim::test;
namespace fs = std::filesystem;

namespace {

Scenario scenario_from(const std::string& base, const std::string& extra) {
  return scenario_from_text(small_city_text(base, extra, 0.05, "month"), "paired_test.toml");
}

struct PairedRun {
  fs::path file;
  std::vector<std::int64_t> positive;  // (time, ward, group, venue_type)
  std::vector<std::string> dates;
  int wards = 0, groups = 0, types = 0;
  double final_outgroup_warmth = 0;
  Venues venues;
};

std::vector<std::int64_t> read_int64(const fs::path& file, const char* name, std::vector<hsize_t>& dims) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  const hid_t space = H5Dget_space(d);
  dims.assign(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space)), 0);
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  std::vector<std::int64_t> v(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
  H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
  H5Sclose(space);
  H5Dclose(d);
  H5Fclose(f);
  return v;
}

hsize_t rows_of(const fs::path& file, const char* name) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (H5Lexists(f, name, H5P_DEFAULT) <= 0) {
    H5Fclose(f);
    return 0;
  }
  const hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  const hid_t space = H5Dget_space(d);
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space, &n, nullptr);
  H5Sclose(space);
  H5Dclose(d);
  H5Fclose(f);
  return n;
}

PairedRun run_scenario(Scenario s, const std::string& until, const std::string& name) {
  RunOptions options;
  options.threads = 2;
  options.until = Date::parse_iso(until);
  Simulation sim(std::move(s), options);
  PairedRun r;
  static const TempDir dir("contactsim_mech");  // removed when the test binary exits
  r.file = dir / (name + ".h5");
  {
    Recorder rec = Recorder::create(r.file, true);
    sim.attach(rec);
    sim.run();
  }
  std::vector<hsize_t> dims;
  r.positive = read_int64(r.file, "/series/contacts_positive", dims);
  r.wards = static_cast<int>(dims[1]), r.groups = static_cast<int>(dims[2]), r.types = static_cast<int>(dims[3]);
  for (Date d = sim.start(); d <= sim.end(); ++d)
    if (closes_period(d, sim.start(), RecordInterval::month) || d == sim.end()) r.dates.push_back(d.iso());
  double sum = 0;
  for (const auto& g : sim.summary()) sum += g.mean_outgroup_warmth * static_cast<double>(g.residents);
  r.final_outgroup_warmth = sum / static_cast<double>(sim.world().residents.size());
  r.venues = sim.world().venues;
  return r;
}

// Positive intergroup contacts at venues of `type` in records whose period ends within [from, to].
std::int64_t positive_at(const PairedRun& r, int type, const std::string& from, const std::string& to) {
  std::int64_t total = 0;
  for (std::size_t t = 0; t < r.dates.size(); ++t) {
    if (r.dates[t] < from || r.dates[t] > to) continue;
    for (int w = 0; w < r.wards; ++w)
      for (int g = 0; g < r.groups; ++g)
        total += r.positive[((t * r.wards + w) * r.groups + g) * r.types + type];
  }
  return total;
}

}  // namespace

TEST(Funding, CuttingCommunityCentresLowersPositiveContactThereAndWarmth) {
  const Scenario base = scenario_from("stoke_on_trent.toml", "");
  const Scenario cut = scenario_from("cut_community_centres.toml", "");
  const int centre = base.venue_type_index("community_centre");
  const PairedRun a = run_scenario(base, "2021-12-31", "base"), b = run_scenario(cut, "2021-12-31", "cut");
  // Before the cut the paired runs are the same run.
  EXPECT_EQ(positive_at(a, centre, "2020-01-01", "2021-03-31"), positive_at(b, centre, "2020-01-01", "2021-03-31"));
  // After it, a third of the centres' sessions are gone: their positive contact falls by ~1/3.
  const double after_base = static_cast<double>(positive_at(a, centre, "2021-04-30", "2021-12-31"));
  const double after_cut = static_cast<double>(positive_at(b, centre, "2021-04-30", "2021-12-31"));
  EXPECT_LT(after_cut, 0.8 * after_base);
  EXPECT_GT(after_cut, 0.4 * after_base);
  EXPECT_LT(b.final_outgroup_warmth, a.final_outgroup_warmth);
  EXPECT_GT(rows_of(b.file, "/events"), 0u);
}

TEST(Funding, LockdownClosesWhatItNamesAndNothingElse) {
  const Scenario base = scenario_from("stoke_on_trent.toml", "");
  const Scenario locked = scenario_from("lockdowns.toml", "");
  const PairedRun a = run_scenario(base, "2020-10-31", "base_lock"), b = run_scenario(locked, "2020-10-31", "locked");
  for (const char* closed : {"school", "community_centre", "place_of_worship"}) {
    const int t = base.venue_type_index(closed);
    EXPECT_GT(positive_at(b, t, "2020-01-31", "2020-02-29"), 0) << closed;
    EXPECT_EQ(positive_at(b, t, "2020-04-30", "2020-08-31"), 0) << closed << " closed in lockdown";
    EXPECT_GT(positive_at(b, t, "2020-09-30", "2020-10-31"), 0) << closed << " reopened";
  }
  for (const char* open : {"workplace", "street"}) {
    const int t = base.venue_type_index(open);
    EXPECT_GT(positive_at(b, t, "2020-04-30", "2020-08-31"), 0) << open << " stays open";
  }
  // Before the lockdown the paired runs agree exactly.
  EXPECT_EQ(positive_at(a, base.venue_type_index("school"), "2020-01-31", "2020-02-29"),
            positive_at(b, base.venue_type_index("school"), "2020-01-31", "2020-02-29"));
}

TEST(Funding, BudgetsBelowTheMinimumCloseVenues) {
  const Scenario deep = scenario_from("stoke_on_trent.toml", R"(
[[timeline]]
kind = "budget"
date = 2020-03-01
venue_type = "community_centre"
ward = "Tunstall"
budget = 10000
)");
  const PairedRun r = run_scenario(deep, "2020-04-30", "deep");
  const int centre = deep.venue_type_index("community_centre");
  const int tunstall = deep.ward_index("Tunstall");
  int closed = 0, open_elsewhere = 0;
  for (std::size_t v = 0; v < r.venues.size(); ++v) {
    if (r.venues.type[v] != centre) continue;
    if (r.venues.ward[v] == tunstall) {
      closed += !r.venues.open[v];
      EXPECT_NEAR(r.venues.operating_level[v], 10000.0 / 60000.0, 1e-6);
    } else {
      open_elsewhere += r.venues.open[v];
    }
  }
  EXPECT_GT(closed, 0);
  EXPECT_GT(open_elsewhere, 0);
  EXPECT_GE(rows_of(r.file, "/events"), static_cast<hsize_t>(1 + closed));  // the change + each closure
}
