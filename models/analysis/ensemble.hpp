#pragma once
// Ensembles: a baseline, counterfactual scenarios and parameter sweeps, each run for several
// replicates, one output file per run and a master file linking them all.
//
// Spec (TOML; paths relative to the spec file; every key checked like a scenario's):
//
//   name = "Community-centre cuts"
//   seed = 20200101              # every run's seed; replicate r of every scenario and sweep
//   replicates = 10              # point uses replicate key r: common random numbers
//   common_random_numbers = true # false: scenario s draws from seed + s (independent streams)
//   threads = 2                  # per run (default: the scenario's)
//   until = 2021-12-31           # optional: every run ends here
//   parameter_sets = "plausible.toml"  # optional: replicate r of every scenario and sweep point
//                                # uses [[set]] r % N of this file (dotted scenario keys = values,
//                                # every set naming the same keys), applied after [overrides] and
//                                # before the sweep point: parameter uncertainty in every interval
//   [overrides]                  # applied to every scenario, e.g. "population.scale" = 0.1
//   [baseline]
//   scenario = "../scenarios/baseline.toml"
//   [[counterfactuals]]
//   name = "cut40"               # letters, digits, _ and -
//   scenario = "../scenarios/cut_community_centres.toml"   # default: the baseline's file
//   overrides = { "mechanisms.valence.beta0" = 1.0 }
//   [sweep]
//   design = "grid"              # grid | latin_hypercube | sobol
//   samples = 16                 # latin_hypercube and sobol
//   seed = 7                     # latin_hypercube and sobol (the design's own randomness)
//   [sweep.parameters."mechanisms.friendships.befriend_probability"]
//   values = [0.01, 0.02]        # grid
//   min = 0.005                  # latin_hypercube, sobol: uniform on [min, max] (integer
//                                # bounds: rounded to whole numbers)
//   max = 0.05
//   [sweep.parameters."timeline[0].change"]   # a policy's size: the counterfactuals' own item
//   values = [-0.2, -0.4, -0.8]
//   scenarios = ["cut40"]        # optional: only these scenarios take this parameter (default:
//                                # all); a counterfactual's timeline item is not the baseline's
//
// Runs are every scenario × sweep point × replicate, named <scenario>[_p<point>]_r<replicate>
// (parameter sets add no runs: they are spread over the replicates). A scenario that no sweep
// parameter changes at point p (scenarios = [...] leaves it out) is the same run as at point 0:
// its file at p is a copy of point 0's (same_as) with its own name and point, not simulated again.
//
// Branching: a counterfactual's replicate r (and a sweep point's, against point 0) shares its
// history with the baseline's replicate r up to the day before the first timeline item that
// differs between them (last_shared_day, models/run/checkpoint.hpp). The baseline run saves its
// state on that day in OUT/branches/, and the counterfactual continues from it instead of
// simulating those days again; its output is byte for byte the one it writes from its first
// day (the state carries the records so far). No branching when the two differ in settings or
// seed, from the start, or not at all, when either run ends before the day, or when the
// counterfactual records agent snapshots (states do not carry them). A run whose parent's state
// is missing (a resumed ensemble) starts from its first day: the same bytes, more time.
// Each is written to OUT/runs/<name>.h5.partial and renamed to OUT/runs/<name>.h5 when complete,
// so a finished file is never partial; a rerun skips runs whose files validate (complete, same
// scenario text, seed, replicate and parameter set) and redoes the rest. OUT/ensemble.h5 is
// rebuilt at the end.
#include "core/calendar.hpp"
#include "core/config.hpp"
#include "models/run/scenario.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace contactsim {

// Where in the spec a value was written, for errors about it.
struct SpecLocation {
  std::string file;
  int line = 0;
};

struct EnsembleOverride {
  std::string key;             // dotted scenario key
  std::shared_ptr<toml::node> value;
  SpecLocation origin;
};

struct EnsembleScenario {
  std::string name;
  std::filesystem::path file;
  std::vector<EnsembleOverride> overrides;  // the spec's [overrides], then the scenario's own
};

// One plausible parameter vector of a parameter-set file (history matching's output).
struct ParameterSet {
  std::vector<EnsembleOverride> values;  // dotted scenario keys, each with its line in the file
  SpecLocation origin;                   // the set's [[set]] header
};

enum class SweepDesign { none, grid, latin_hypercube, sobol };

struct SweepParameter {
  std::string key;
  std::vector<double> values;  // grid
  double min = 0, max = 0;     // latin_hypercube, sobol
  bool integer = false;        // written as TOML integers (values given as integers)
  std::vector<int> scenarios;  // the scenarios it applies to (indexes), all when empty
  SpecLocation origin;

  bool applies_to(int scenario) const;
};

struct EnsembleSpec {
  std::filesystem::path path;
  std::string text;    // the spec as read (extends resolved), stored in the master file
  std::string sha256;  // of text: identifies the ensemble an output folder holds
  std::string name;
  std::uint64_t seed = 1;
  int replicates = 1;
  bool common_random_numbers = true;
  std::optional<int> threads;
  std::optional<Date> until;
  // parameter_sets = "<file>": replicate r uses parameter_sets[r % N] (none when empty).
  std::filesystem::path parameter_sets_path;
  std::string parameter_sets_text;  // the file as read, stored in the master file
  std::vector<ParameterSet> parameter_sets;
  std::vector<EnsembleScenario> scenarios;  // [0] is the baseline
  SweepDesign design = SweepDesign::none;
  int samples = 0;
  std::uint64_t design_seed = 1;
  std::vector<SweepParameter> parameters;
  std::vector<std::vector<double>> points;  // the design: points × parameters ({{}} without a sweep)
  // SHA-256 of each scenario's text at each point with each parameter set,
  // [scenario][point][set] (one entry per point without sets): what a finished run file must
  // carry (computed once, while validating).
  std::vector<std::vector<std::vector<std::string>>> scenario_sha256;
  // The last day each [scenario][point][set] shares with the run it branches from (the
  // baseline at the same point, or the baseline's point 0 for the baseline's other points);
  // nothing when it does not branch (see "Branching" above).
  std::vector<std::vector<std::vector<std::optional<Date>>>> branch_day;
};

struct EnsembleRun {
  int index = 0;
  int scenario = 0;
  int point = 0;
  int replicate = 0;
  int parameter_set = -1;  // replicate % number of sets; -1 without parameter sets
  std::string name;
  std::uint64_t seed = 0;
  std::filesystem::path file;  // relative to the output folder: runs/<name>.h5
  // The run whose state at the end of branch_day it continues from (saved as branch_state,
  // relative to the output folder: branches/...), or -1 when it starts from its first day.
  int parent = -1;
  Date branch_day;
  std::filesystem::path branch_state;
  // The run at point 0 this one is identical to (no sweep parameter changes its scenario here),
  // or -1. Such a run is never simulated: its file is a copy of that run's, relabelled with its
  // own point and name, made once that run (its `parent`, so it waits for it) is complete.
  int same_as = -1;
};

// Reads and checks a spec; every scenario × sweep point × parameter set is loaded and validated,
// so a spec that loads runs. Throws ConfigError naming the spec's (or the parameter-set file's)
// file, line and key.
EnsembleSpec load_ensemble_spec(const std::filesystem::path& path);

std::vector<EnsembleRun> plan_runs(const EnsembleSpec& spec);

// The scenario of one run: its file with the overrides, its parameter set and the sweep point
// applied, in that order.
Scenario scenario_of(const EnsembleSpec& spec, const EnsembleRun& run);

// Runs grouped for scheduling: each family is a run starting from its first day followed by
// every run that branches from it (directly or not), in run order, so a run's parent always comes
// before it; families are in the order of their first runs.
std::vector<std::vector<int>> run_families(const std::vector<EnsembleRun>& runs);

// How a run was done.
enum class RunOutcome { skipped, from_first_day, branched, copied };

struct EnsembleOptions {
  int rank = 0;  // this process runs the families (run_families) with ordinal % size == rank
  int size = 1;
  std::optional<int> threads;  // overrides the spec's
  bool branching = true;       // false: every run from its first day (the same bytes, slower)
  // Where spin-up states are kept: a folder shared with other runs and ensembles of the same
  // city (each is keyed by everything before the start), or empty for OUT/spin-up, this
  // ensemble's own. Either way replicate r's spin-up is simulated at most once.
  std::filesystem::path spin_up_cache;
  // After each run this process finishes or skips.
  std::function<void(const EnsembleRun&, RunOutcome)> on_run_done;
};

// Runs one run into OUT/runs/<name>.h5 (published when complete): from its parent's branch state
// when `branching` and the state is in OUT, else from its first day; when `branching`, it also
// saves the states its children branch from. Does not check whether the run is complete already.
RunOutcome run_ensemble_run(const EnsembleSpec& spec, const std::vector<EnsembleRun>& runs, const EnsembleRun& run,
                            const std::filesystem::path& out, const EnsembleOptions& options);

// Removes the branch states the runs of `family` saved (once they are all complete: nobody needs
// them), and OUT/branches when it is left empty.
void remove_branch_states(const std::vector<EnsembleRun>& runs, const std::vector<int>& family,
                          const std::filesystem::path& out);

// Checks OUT is empty or holds this ensemble (else ConfigError naming the folder, nothing
// written); records the spec in OUT/ensemble_spec.toml.
void prepare_output_folder(const EnsembleSpec& spec, const std::filesystem::path& out);

// Runs this rank's share of the runs into OUT/runs/, family by family (so a counterfactual
// follows the baseline run it branches from in the same process), skipping finished ones, and
// removes each family's branch states when it is done. Returns how many this rank ran (not
// skipped).
int run_ensemble_share(const EnsembleSpec& spec, const std::filesystem::path& out, const EnsembleOptions& options);

// Whether OUT/runs/<run>.h5 is a complete output of exactly this run.
bool run_is_complete(const EnsembleSpec& spec, const EnsembleRun& run, const std::filesystem::path& out);

// Writes OUT/ensemble.h5 (atomically): provenance, /runs, /scenarios, /design tables, and
// /run/<name> external links to every run file. Throws RecorderError if a run is not complete.
void write_master_file(const EnsembleSpec& spec, const std::filesystem::path& out);

}  // namespace contactsim
