#pragma once
// Comparing an ensemble's scenarios with its baseline: per metric, ward and group, the mean
// difference over replicates with a confidence interval. With common random numbers the
// difference is paired (replicate r of each scenario shares its random numbers with replicate r
// of the baseline), so the interval reflects the policy, not the luck of the draw; without them
// it is Welch's interval for two independent samples.
#include <filesystem>
#include <string>
#include <vector>

namespace contactsim {

struct ComparisonRow {
  std::string scenario;
  int point = 0;           // sweep point (0 without a sweep); compared with the baseline's same point
  std::string metric;
  std::string ward;        // a ward name, or "all"
  std::string group;       // a group name, or "all"
  double baseline_mean = 0;
  double scenario_mean = 0;
  double difference = 0;   // scenario − baseline
  double low = 0, high = 0;  // confidence interval of the difference (NaN with one replicate)
  int replicates = 0;
  bool paired = true;
};

struct CompareOptions {
  std::vector<std::string> metrics;  // empty: every metric of comparable_metrics() the runs have
  double confidence = 0.95;
};

// What each metric summarises per run: state metrics are taken at the last record (wards and
// groups combined weighted by residents), counts are summed over the run (and venue types).
struct MetricDefinition {
  std::string name;
  std::string series;    // /series dataset read
  bool count;            // sum over time; else value at the last record
  std::string description;
};
const std::vector<MetricDefinition>& comparable_metrics();

// Reads OUT/ensemble.h5 and every run it links. Throws ConfigError for an unknown metric or a
// confidence outside (0, 1), RecorderError for unreadable files.
std::vector<ComparisonRow> compare_ensemble(const std::filesystem::path& master, const CompareOptions& options);

// Why some of `rows` cannot mean what they seem, one sentence per counterfactual (and sweep
// point) affected: its scenario is the baseline's; it differs only from a day after the runs'
// last record (the policy never started); or no row of it differs at all. A difference of
// exactly 0 with no interval looks like "no effect"; these say it is "no policy". The same
// checks as contactsim.effects in Python, which also flags cells.
std::vector<std::string> comparison_warnings(const std::filesystem::path& master,
                                             const std::vector<ComparisonRow>& rows);

}  // namespace contactsim
