#include "models/analysis/ensemble.hpp"

#include "contactsim/source_digest.hpp"
#include "contactsim/version.hpp"
#include "core/h5.hpp"
#include "core/output_file.hpp"
#include "core/recorder.hpp"
#include "core/sweeps.hpp"
#include "core/text.hpp"
#include "models/run/checkpoint.hpp"
#include "models/run/simulation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace contactsim {
namespace fs = std::filesystem;
namespace {

constexpr const char* kMasterFormat = "contactsim-ensemble-1";
constexpr const char* kSpecCopy = "ensemble_spec.toml";
constexpr const char* kMasterFile = "ensemble.h5";
constexpr const char* kRunsFolder = "runs";
// The states runs leave for the runs that branch from them, until those are done.
constexpr const char* kBranchesFolder = "branches";
// Independent streams per scenario when common random numbers are off: far apart seeds.
constexpr std::uint64_t kScenarioSeedStride = 1'000'003;
// Bounds that keep a spec's plan in memory and its run indexes in an int.
constexpr std::size_t kMaxSweepPoints = 100'000;
constexpr double kMaxRuns = 1e7;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

SpecLocation origin_of(const ConfigTable& table, std::string_view key) {
  return {table.file_of(key), table.line_of(key)};
}

bool is_plain_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// A table's own leaves as dotted scenario keys → values, each with the line that wrote it.
// The values are copied: they outlive the document they were read from.
std::vector<EnsembleOverride> read_leaves(const ConfigTable& table) {
  std::vector<EnsembleOverride> out;
  for (auto& [name, node] : table.leaves()) {
    auto copy = std::shared_ptr<toml::node>();
    node->visit([&](const auto& concrete) {
      copy = std::make_shared<std::decay_t<decltype(concrete)>>(concrete);
    });
    out.push_back({name, std::move(copy), {table.file_of(""), static_cast<int>(node->source().begin.line)}});
  }
  return out;
}

std::vector<EnsembleOverride> read_overrides(const ConfigTable& table, std::string_view key) {
  const auto overrides = table.optional_table(key);
  if (!overrides) return {};
  return read_leaves(*overrides);
}

std::string set_key(int set, const std::string& key) {
  return "set[" + std::to_string(set) + "]" + (key.empty() ? "" : "." + key);
}

const EnsembleOverride* find_value(const ParameterSet& set, const std::string& key) {
  for (const auto& v : set.values)
    if (v.key == key) return &v;
  return nullptr;
}

// Every set names the same keys, once each: otherwise replicates would differ in which
// parameters are uncertain, not only in their values.
void check_same_keys(const std::vector<ParameterSet>& sets) {
  const ParameterSet& first = sets[0];
  for (int i = 0; i < static_cast<int>(sets.size()); ++i) {
    const ParameterSet& set = sets[i];
    if (set.values.empty())
      throw ConfigError(set.origin.file, set.origin.line, set_key(i, ""),
                        "expected at least one dotted scenario key = value");
    std::set<std::string> seen;
    for (const auto& v : set.values) {
      if (!seen.insert(v.key).second)
        throw ConfigError(v.origin.file, v.origin.line, set_key(i, v.key), "expected each key once per set, got it twice");
      if (find_value(first, v.key) == nullptr)
        throw ConfigError(v.origin.file, v.origin.line, set_key(i, v.key),
                          "not named by set[0] (line " + std::to_string(first.origin.line) +
                              "); every set must name the same keys");
    }
    for (const auto& v : first.values)
      if (find_value(set, v.key) == nullptr)
        throw ConfigError(set.origin.file, set.origin.line, set_key(i, v.key),
                          "missing: set[0] names it (line " + std::to_string(v.origin.line) +
                              ") and every set must name the same keys");
  }
}

// parameter_sets = "<file>": a TOML file of [[set]] tables, each like the spec's [overrides].
void read_parameter_sets(const ConfigTable& root, EnsembleSpec& spec) {
  if (!root.has("parameter_sets")) return;
  spec.parameter_sets_path = root.required_path("parameter_sets");
  const ConfigDocument doc = ConfigDocument::load(spec.parameter_sets_path);
  spec.parameter_sets_text = read_file(spec.parameter_sets_path);
  const ConfigTable file = ConfigTable::root(doc);
  for (const ConfigTable& item : file.array_of_tables("set"))
    spec.parameter_sets.push_back({read_leaves(item), origin_of(item, "")});
  if (spec.parameter_sets.empty())
    file.fail("set", "expected at least one [[set]] table of dotted scenario keys = values");
  file.finish();
  check_same_keys(spec.parameter_sets);
}

EnsembleScenario read_scenario_entry(const ConfigTable& table, std::string name, const fs::path* default_file) {
  EnsembleScenario s;
  s.name = std::move(name);
  if (table.has("scenario") || default_file == nullptr)
    s.file = table.required_path("scenario");
  else
    s.file = *default_file;
  s.overrides = read_overrides(table, "overrides");
  return s;
}

// `scenarios = [...]`: names of the spec's scenarios, each once.
std::vector<int> read_parameter_scenarios(const ConfigTable& table, const std::vector<EnsembleScenario>& scenarios) {
  std::vector<int> indexes;
  if (!table.has("scenarios")) return indexes;
  std::vector<std::string> names;
  for (const auto& s : scenarios) names.push_back(s.name);
  for (const std::string& name : table.string_list("scenarios", {})) {
    const int k = index_of(names, name);
    if (k < 0) table.fail("scenarios", "unknown scenario " + in_quotes(name) + "; expected one of " + list_of(names));
    if (std::find(indexes.begin(), indexes.end(), k) != indexes.end())
      table.fail("scenarios", "expected each scenario once, got " + in_quotes(name) + " twice");
    indexes.push_back(k);
  }
  if (indexes.empty()) table.fail("scenarios", "expected at least one scenario name (leave the key out for all)");
  std::sort(indexes.begin(), indexes.end());
  return indexes;
}

SweepParameter read_parameter(const std::string& key, const ConfigTable& table, const EnsembleSpec& spec) {
  const SweepDesign design = spec.design;
  SweepParameter p;
  p.key = key;
  p.origin = origin_of(table, "");
  p.scenarios = read_parameter_scenarios(table, spec.scenarios);
  if (design == SweepDesign::grid) {
    if (table.has("min") || table.has("max")) table.fail(table.has("min") ? "min" : "max", "a grid sweep takes values = [...], not min/max");
    if (!table.has("values")) table.fail("values", "expected values = [a list of numbers] for a grid sweep");
    p.values = table.number_list("values", &p.integer);
    if (p.values.empty()) table.fail("values", "expected a non-empty list of numbers");
  } else {
    if (table.has("values")) table.fail("values", "a latin_hypercube or sobol sweep takes min and max, not values");
    p.min = table.required_number("min", -1e300, 1e300);
    p.max = table.required_number("max", -1e300, 1e300);
    // Integer bounds sweep a whole-number parameter: points are rounded.
    p.integer = table.holds_integer("min") && table.holds_integer("max");
    if (!(p.max > p.min))
      table.fail("max", "expected max > min (" + std::to_string(p.min) + "), got " + std::to_string(p.max));
  }
  table.finish();
  return p;
}

void read_sweep(const ConfigTable& root, EnsembleSpec& spec) {
  const auto sweep = root.optional_table("sweep");
  if (!sweep) {
    spec.points = {{}};
    return;
  }
  const std::string design = sweep->choice("design", "grid", {"grid", "latin_hypercube", "sobol"});
  spec.design = design == "grid" ? SweepDesign::grid
                : design == "latin_hypercube" ? SweepDesign::latin_hypercube
                                              : SweepDesign::sobol;
  if (spec.design == SweepDesign::grid) {
    if (sweep->has("samples")) sweep->fail("samples", "a grid sweep has one point per combination of values; remove samples");
  } else {
    spec.samples = static_cast<int>(sweep->required_integer("samples", 1, kMaxSweepPoints));
    spec.design_seed = static_cast<std::uint64_t>(sweep->integer("seed", 1, 0, INT64_MAX));
  }
  const auto parameters = sweep->named_tables("parameters");
  if (parameters.empty()) sweep->fail("parameters", "expected at least one [sweep.parameters.\"dotted.key\"] table");
  for (const auto& [key, table] : parameters) spec.parameters.push_back(read_parameter(key, table, spec));
  const int d = static_cast<int>(spec.parameters.size());
  if (spec.design == SweepDesign::grid) {
    // The grid is every combination: bound it (as samples is) before building it.
    std::size_t combinations = 1;
    for (const auto& p : spec.parameters) {
      if (p.values.size() > kMaxSweepPoints / combinations)
        sweep->fail("parameters", "expected at most " + std::to_string(kMaxSweepPoints) +
                                      " grid points (the product of the values lists' lengths), got more");
      combinations *= p.values.size();
    }
    std::vector<std::vector<double>> axes;
    for (const auto& p : spec.parameters) axes.push_back(p.values);
    spec.points = grid_design(axes);
  } else {
    spec.points = spec.design == SweepDesign::latin_hypercube ? latin_hypercube(spec.samples, d, spec.design_seed)
                                                              : sobol_design(spec.samples, d, spec.design_seed);
    for (auto& point : spec.points)
      for (int k = 0; k < d; ++k) {
        const SweepParameter& p = spec.parameters[k];
        point[k] = p.min + point[k] * (p.max - p.min);
        if (p.integer) point[k] = std::min(p.max, std::floor(point[k] + 0.5));
      }
  }
  sweep->finish();
}

// The scenario's file, then its overrides, the parameter set (-1: none) and the sweep point:
// a later value wins, so a sweep parameter naming a set's key sweeps it.
ConfigDocument document_of(const EnsembleSpec& spec, int scenario, int point, int parameter_set) {
  const EnsembleScenario& s = spec.scenarios[scenario];
  ConfigDocument doc = ConfigDocument::load(s.file);
  for (const auto& o : s.overrides) doc = doc.with_value(o.key, *o.value);
  if (parameter_set >= 0)
    for (const auto& v : spec.parameter_sets[parameter_set].values) doc = doc.with_value(v.key, *v.value);
  for (std::size_t k = 0; k < spec.parameters.size(); ++k) {
    if (!spec.parameters[k].applies_to(scenario)) continue;
    const double v = spec.points[point][k];
    if (spec.parameters[k].integer)
      doc = doc.with_value(spec.parameters[k].key, toml::value<std::int64_t>(static_cast<std::int64_t>(std::llround(v))));
    else
      doc = doc.with_value(spec.parameters[k].key, toml::value<double>(v));
  }
  return doc;
}

bool is_about(const ConfigError& e, const std::string& key) {
  return e.key() == key || e.key().rfind(key + ".", 0) == 0;
}

// A scenario error caused by the spec (or its parameter set) is reported at the line that caused
// it. The value applied last wins, so it is looked for first: sweep point, set, overrides.
[[noreturn]] void rethrow_at_spec(const ConfigError& e, const EnsembleSpec& spec, int scenario, int parameter_set) {
  const EnsembleScenario& s = spec.scenarios[scenario];
  const std::string which = "scenario '" + s.name + "' (" + s.file.string() + ")";
  for (const auto& p : spec.parameters)
    if (p.applies_to(scenario) && is_about(e, p.key))
      throw ConfigError(p.origin.file, p.origin.line, "sweep.parameters." + p.key,
                        "not a valid parameter value for " + which + ": " + e.key() + ": " + e.expected());
  if (parameter_set >= 0)
    for (const auto& v : spec.parameter_sets[parameter_set].values)
      if (is_about(e, v.key))
        throw ConfigError(v.origin.file, v.origin.line, set_key(parameter_set, v.key),
                          "not a valid parameter value for " + which + ": " + e.key() + ": " + e.expected());
  for (const auto& o : s.overrides)
    if (is_about(e, o.key)) throw ConfigError(o.origin.file, o.origin.line, o.key, "override for " + which + ": " + e.expected());
  throw e;
}

// The parameter set of replicate r: sets are dealt out in turn, so every set is used as evenly
// as the replicates allow, and replicate r of every scenario shares its set (pairs stay paired).
int parameter_set_of(const EnsembleSpec& spec, int replicate) {
  if (spec.parameter_sets.empty()) return -1;
  return replicate % static_cast<int>(spec.parameter_sets.size());
}

const std::string& expected_scenario_sha256(const EnsembleSpec& spec, const EnsembleRun& run) {
  return spec.scenario_sha256[run.scenario][run.point][std::max(run.parameter_set, 0)];
}

Date end_of(const EnsembleSpec& spec, const Scenario& scenario) {
  return spec.until ? std::min(*spec.until, scenario.simulation.end) : scenario.simulation.end;
}

// The day a run of `branch` can continue a run of `trunk` from (see "Branching" in the header):
// their last shared day, when both runs reach it and the branch goes on after it.
std::optional<Date> branch_day_of(const EnsembleSpec& spec, const Scenario& trunk, const Scenario& branch,
                                  bool same_seed) {
  if (!same_seed || branch.record.agents.enabled) return std::nullopt;
  const std::optional<Date> day = last_shared_day(trunk, branch);
  if (!day || end_of(spec, trunk) < *day || end_of(spec, branch) <= *day) return std::nullopt;
  return day;
}

// Every scenario at every point with every parameter set must be valid, and end after `until`.
// Point by point, the baseline first: each cell is compared with the one it branches from.
void validate_scenarios(const ConfigTable& root, EnsembleSpec& spec) {
  const int sets = static_cast<int>(spec.parameter_sets.size());
  const auto cells = [&](auto value) {
    using T = decltype(value);
    return std::vector<std::vector<std::vector<T>>>(
        spec.scenarios.size(), std::vector<std::vector<T>>(spec.points.size(), std::vector<T>(std::max(sets, 1))));
  };
  spec.scenario_sha256 = cells(std::string());
  spec.branch_day = cells(std::optional<Date>());
  std::vector<Scenario> baseline_at_first_point(std::max(sets, 1));
  for (int p = 0; p < static_cast<int>(spec.points.size()); ++p)
    for (int k = sets > 0 ? 0 : -1; k < sets; ++k) {
      const std::size_t set = static_cast<std::size_t>(std::max(k, 0));
      Scenario baseline;
      for (int s = 0; s < static_cast<int>(spec.scenarios.size()); ++s) {
        Scenario scenario;
        try {
          scenario = read_scenario(document_of(spec, s, p, k));
        } catch (const ConfigError& e) {
          if (e.file() != spec.scenarios[s].file.string() && e.line() != 0) throw;
          rethrow_at_spec(e, spec, s, k);
        }
        spec.scenario_sha256[s][p][set] = scenario.sha256;
        if (spec.until && (*spec.until < scenario.simulation.start || *spec.until > scenario.simulation.end))
          root.fail("until", "expected a date within scenario '" + spec.scenarios[s].name + "' (" +
                                 scenario.simulation.start.iso() + " to " + scenario.simulation.end.iso() + "), got " +
                                 spec.until->iso());
        if (s > 0)
          spec.branch_day[s][p][set] = branch_day_of(spec, baseline, scenario, spec.common_random_numbers);
        else if (p > 0)
          spec.branch_day[s][p][set] = branch_day_of(spec, baseline_at_first_point[set], scenario, true);
        if (s == 0 && p == 0) baseline_at_first_point[set] = scenario;
        if (s == 0) baseline = std::move(scenario);
      }
    }
}

// Where run `parent` leaves its state at the end of `day` for the runs that branch from it. The
// digest of what made the state (the parent's scenario, seed, library sources) keeps a state of
// an edited scenario or another contactsim from being taken for this one.
fs::path branch_state_path(const EnsembleSpec& spec, const EnsembleRun& parent, Date day) {
  const std::string made_of = expected_scenario_sha256(spec, parent) + "\nseed " + std::to_string(parent.seed) +
                              "\nversion " + kVersion + ' ' + kSourceDigest + '\n';
  return fs::path(kBranchesFolder) / (parent.name + "_" + day.iso() + "_" + sha256_hex(made_of).substr(0, 16) + ".h5");
}

int run_index(const EnsembleSpec& spec, int scenario, int point, int replicate) {
  return (scenario * static_cast<int>(spec.points.size()) + point) * spec.replicates + replicate;
}

// A run at a point > 0 whose scenario is the one at point 0 (no sweep parameter changes it) is
// that run (EnsembleRun::same_as): it waits for it, then copies its file.
void plan_same_runs(const EnsembleSpec& spec, std::vector<EnsembleRun>& runs) {
  for (EnsembleRun& run : runs) {
    if (run.point == 0) continue;
    const EnsembleRun& first = runs[run_index(spec, run.scenario, 0, run.replicate)];
    if (expected_scenario_sha256(spec, run) != expected_scenario_sha256(spec, first)) continue;
    run.same_as = first.index;
    run.parent = first.index;
  }
}

// Fills in which run each run branches from (see EnsembleRun::parent): a counterfactual from the
// baseline at its point (the run that baseline is, when it is point 0's), a baseline's later
// point from its point 0.
void plan_branches(const EnsembleSpec& spec, std::vector<EnsembleRun>& runs) {
  for (EnsembleRun& run : runs) {
    const std::optional<Date> day = spec.branch_day[run.scenario][run.point][std::max(run.parameter_set, 0)];
    if (!day || run.same_as >= 0) continue;
    run.parent = run.scenario > 0 ? run_index(spec, 0, run.point, run.replicate) : run_index(spec, 0, 0, run.replicate);
    if (runs[run.parent].same_as >= 0) run.parent = runs[run.parent].same_as;
    run.branch_day = *day;
    run.branch_state = branch_state_path(spec, runs[run.parent], *day);
  }
}

}  // namespace

bool SweepParameter::applies_to(int scenario) const {
  return scenarios.empty() || std::find(scenarios.begin(), scenarios.end(), scenario) != scenarios.end();
}

EnsembleSpec load_ensemble_spec(const fs::path& path) {
  const ConfigDocument doc = ConfigDocument::load(path);
  const ConfigTable root = ConfigTable::root(doc);
  EnsembleSpec spec;
  spec.path = path;
  spec.text = doc.resolved_text();
  spec.sha256 = doc.resolved_sha256();
  spec.name = root.string("name", path.stem().string());
  spec.seed = static_cast<std::uint64_t>(root.integer("seed", 1, 0, INT64_MAX));
  spec.replicates = static_cast<int>(root.integer("replicates", 1, 1, 100000));
  spec.common_random_numbers = root.boolean("common_random_numbers", true);
  if (root.has("threads")) spec.threads = static_cast<int>(root.integer("threads", 0, 0, 1024));
  if (root.has("until")) spec.until = root.date("until", Date());
  const std::vector<EnsembleOverride> shared = read_overrides(root, "overrides");

  const ConfigTable baseline = root.required_table("baseline");
  spec.scenarios.push_back(read_scenario_entry(baseline, baseline.string("name", "baseline"), nullptr));
  if (!is_plain_name(spec.scenarios[0].name))
    baseline.fail("name", "expected letters, digits, _ or - (it names output files), got \"" + spec.scenarios[0].name + "\"");
  baseline.finish();
  std::set<std::string> names{spec.scenarios[0].name};
  for (const ConfigTable& item : root.array_of_tables("counterfactuals")) {
    const std::string name = item.required_string("name");
    if (!is_plain_name(name)) item.fail("name", "expected letters, digits, _ or - (it names output files), got \"" + name + "\"");
    if (!names.insert(name).second) item.fail("name", "expected a name not used by another scenario, got \"" + name + "\"");
    spec.scenarios.push_back(read_scenario_entry(item, name, &spec.scenarios[0].file));
    item.finish();
  }
  for (auto& s : spec.scenarios) s.overrides.insert(s.overrides.begin(), shared.begin(), shared.end());
  read_parameter_sets(root, spec);
  read_sweep(root, spec);
  root.finish();
  const double cells = static_cast<double>(spec.scenarios.size()) * static_cast<double>(spec.points.size());
  const double runs = cells * static_cast<double>(spec.replicates);
  if (runs > kMaxRuns)
    root.fail("replicates", "expected at most " + std::to_string(static_cast<std::int64_t>(kMaxRuns)) +
                                " runs (scenarios × sweep points × replicates), got " +
                                std::to_string(static_cast<std::int64_t>(runs)));
  // Each scenario is loaded once per point and set to validate it: bound those loads as the runs.
  const double loads = cells * static_cast<double>(std::max<std::size_t>(spec.parameter_sets.size(), 1));
  if (loads > kMaxRuns)
    root.fail("parameter_sets", "expected at most " + std::to_string(static_cast<std::int64_t>(kMaxRuns)) +
                                    " scenario variants to validate (scenarios × sweep points × parameter sets), got " +
                                    std::to_string(static_cast<std::int64_t>(loads)));
  validate_scenarios(root, spec);
  return spec;
}

std::vector<EnsembleRun> plan_runs(const EnsembleSpec& spec) {
  std::vector<EnsembleRun> runs;
  const bool swept = !spec.parameters.empty();
  char suffix[32];
  for (int s = 0; s < static_cast<int>(spec.scenarios.size()); ++s)
    for (int p = 0; p < static_cast<int>(spec.points.size()); ++p)
      for (int r = 0; r < spec.replicates; ++r) {
        EnsembleRun run;
        run.index = static_cast<int>(runs.size());
        run.scenario = s;
        run.point = p;
        run.replicate = r;
        run.parameter_set = parameter_set_of(spec, r);
        if (swept)
          std::snprintf(suffix, sizeof suffix, "_p%03d_r%03d", p, r);
        else
          std::snprintf(suffix, sizeof suffix, "_r%03d", r);
        run.name = spec.scenarios[s].name + suffix;
        run.seed = spec.common_random_numbers ? spec.seed : spec.seed + kScenarioSeedStride * static_cast<std::uint64_t>(s);
        run.file = fs::path(kRunsFolder) / (run.name + ".h5");
        runs.push_back(run);
      }
  plan_same_runs(spec, runs);
  plan_branches(spec, runs);
  return runs;
}

Scenario scenario_of(const EnsembleSpec& spec, const EnsembleRun& run) {
  return read_scenario(document_of(spec, run.scenario, run.point, run.parameter_set));
}

void prepare_output_folder(const EnsembleSpec& spec, const fs::path& out) {
  const fs::path copy = out / kSpecCopy;
  if (fs::exists(copy)) {
    const std::string held = read_file(copy);
    if (held != spec.text)
      throw ConfigError(out.string(), 0, "(output folder)",
                        "holds a different ensemble (its " + std::string(kSpecCopy) +
                            " differs from " + spec.path.string() + "); choose another folder or remove this one");
    return;
  }
  if (fs::exists(out) && !fs::is_directory(out))
    throw ConfigError(out.string(), 0, "(output folder)", "exists and is not a folder");
  if (fs::exists(out) && !fs::is_empty(out))
    throw ConfigError(out.string(), 0, "(output folder)",
                      "is not empty and holds no ensemble (no " + std::string(kSpecCopy) + "); choose an empty or new folder");
  std::error_code error;
  fs::create_directories(out / kRunsFolder, error);
  if (error)
    throw RecorderError((out / kRunsFolder).string() + ": cannot create directory (" + error.message() + ")");
  write_text_atomically(copy, spec.text);
}

bool run_is_complete(const EnsembleSpec& spec, const EnsembleRun& run, const fs::path& out) {
  const fs::path file = out / run.file;
  if (!fs::exists(file)) return false;
  try {
    const h5::File f = h5::File::open_read_only(file);
    // Without sets the set attribute is not asked for, so folders written before it existed
    // stay complete; with sets, two sets of equal values still must not stand in for each other.
    const bool same_set = run.parameter_set < 0 || f.integer_attribute("ensemble_parameter_set") == run.parameter_set;
    return f.integer_attribute("complete") == 1 &&
           f.integer_attribute("seed") == static_cast<std::int64_t>(run.seed) &&
           f.integer_attribute("replicate") == run.replicate && same_set &&
           f.string_attribute("scenario_sha256") == expected_scenario_sha256(spec, run);
  } catch (const RecorderError&) {
    return false;  // unreadable: redo it
  }
}

std::vector<std::vector<int>> run_families(const std::vector<EnsembleRun>& runs) {
  std::vector<std::size_t> family_of(runs.size());
  std::vector<std::vector<int>> families;
  for (const EnsembleRun& run : runs) {  // a parent's index is below its children's
    if (run.parent < 0) {
      family_of[run.index] = families.size();
      families.push_back({run.index});
    } else {
      family_of[run.index] = family_of[run.parent];
      families[family_of[run.index]].push_back(run.index);
    }
  }
  return families;
}

namespace {

// Reads every number below `group`, so damage inside a compressed chunk (a flipped byte makes
// "inflate() failed") is found here and not later by compare. Throws RecorderError.
void read_every_number(const h5::Group& group) {
  for (const std::string& name : group.link_names()) {
    const h5::ObjectKind kind = group.kind_of(name);
    if (kind == h5::ObjectKind::group) read_every_number(group.open_group(name));
    if (kind != h5::ObjectKind::dataset) continue;
    const h5::Dataset dataset = group.open_dataset(name);
    const h5::Datatype type = dataset.stored_type();
    if (type.type_class() != H5T_FLOAT && type.type_class() != H5T_INTEGER) continue;  // names, tables
    std::size_t values = 1;
    for (const hsize_t extent : dataset.shape()) values *= extent;
    std::vector<unsigned char> bytes(values * type.size());
    if (values > 0) dataset.read_all(type, bytes.data());
  }
}

// A finished run file whose every value still reads: a complete run (run_is_complete) whose
// data were damaged since is run again.
bool run_is_intact(const EnsembleSpec& spec, const EnsembleRun& run, const fs::path& out) {
  if (!run_is_complete(spec, run, out)) return false;
  try {
    read_every_number(h5::File::open_read_only(out / run.file));
    return true;
  } catch (const RecorderError&) {
    return false;  // damaged: redo it (its replacement is published over it)
  }
}

RunOptions run_options_of(const EnsembleSpec& spec, const EnsembleRun& run, const fs::path& out,
                          const EnsembleOptions& options) {
  RunOptions run_options;
  run_options.seed = run.seed;
  run_options.replicate = static_cast<std::uint32_t>(run.replicate);
  run_options.threads = options.threads ? options.threads : spec.threads;
  run_options.until = spec.until;
  // Replicate r of every scenario agrees with the baseline's before the start: one spin-up each.
  run_options.spin_up_cache = options.spin_up_cache.empty() ? out / "spin-up" : options.spin_up_cache;
  return run_options;
}

// The run's simulation: continued from its parent's branch state when asked to and the state is
// there, else from its first day.
std::unique_ptr<Simulation> start_simulation(Scenario scenario, const EnsembleRun& run, const fs::path& out,
                                             const RunOptions& run_options, bool branching) {
  const fs::path state = out / run.branch_state;
  if (branching && run.parent >= 0 && fs::is_regular_file(state)) {
    try {
      auto sim = std::make_unique<Simulation>(scenario, state, run_options);
      sim->record_as_uninterrupted();  // the output is the one of a run from the first day
      return sim;
    } catch (const CheckpointError&) {
      // A damaged state costs time, not results: the run starts from its first day.
    }
  }
  return std::make_unique<Simulation>(std::move(scenario), run_options);
}

// Asks `sim` to leave the states of the runs branching from `run` (those it has not passed).
void save_branch_states(Simulation& sim, const std::vector<EnsembleRun>& runs, const EnsembleRun& run,
                        const fs::path& out) {
  for (const EnsembleRun& child : runs) {
    if (child.parent != run.index || child.same_as >= 0 || child.branch_day < sim.date()) continue;
    create_parent_folders(out / child.branch_state);
    sim.checkpoint_at(child.branch_day, out / child.branch_state);
  }
}

// `run` is `first` (plan_same_runs): its file is first's, labelled with run's point and name. The
// copy is published like any output (written beside it, renamed when whole).
RunOutcome copy_same_run(const EnsembleSpec& spec, const EnsembleRun& first, const EnsembleRun& run,
                         const fs::path& out) {
  if (!run_is_complete(spec, first, out))
    throw RecorderError((out / run.file).string() + ": run " + run.name + " is run " + first.name +
                        " (no swept parameter changes it), which is missing or incomplete");
  replace_atomically(out / run.file, [&](const fs::path& partial) {
    fs::copy_file(out / first.file, partial);
    h5::File copy = h5::File::open_for_update(partial);
    copy.set_attribute("ensemble_point", static_cast<std::int64_t>(run.point));
    copy.set_attribute("ensemble_run", run.name);
    copy.flush();
  }, true, "");
  return RunOutcome::copied;
}

}  // namespace

RunOutcome run_ensemble_run(const EnsembleSpec& spec, const std::vector<EnsembleRun>& runs, const EnsembleRun& run,
                            const fs::path& out, const EnsembleOptions& options) {
  if (run.same_as >= 0) return copy_same_run(spec, runs[run.same_as], run, out);
  const RunOptions run_options = run_options_of(spec, run, out, options);
  const std::unique_ptr<Simulation> sim =
      start_simulation(scenario_of(spec, run), run, out, run_options, options.branching);
  const RunOutcome outcome = sim->restored_after() ? RunOutcome::branched : RunOutcome::from_first_day;
  if (options.branching) save_branch_states(*sim, runs, run, out);
  // Written as runs/<name>.h5.partial, renamed when complete (core/output_file.hpp).
  PendingOutput output(out / run.file, true);
  Recorder& recorder = output.recorder();
  sim->attach(recorder);
  // Each run file says where it belongs, so it can be read without the master file.
  recorder.set_attribute("ensemble", spec.name);
  recorder.set_attribute("ensemble_scenario", spec.scenarios[run.scenario].name);
  recorder.set_attribute("ensemble_point", static_cast<std::int64_t>(run.point));
  recorder.set_attribute("ensemble_parameter_set", static_cast<std::int64_t>(run.parameter_set));
  recorder.set_attribute("ensemble_run", run.name);
  sim->run();
  output.publish();  // only complete files carry the final name
  return outcome;
}

void remove_branch_states(const std::vector<EnsembleRun>& runs, const std::vector<int>& family, const fs::path& out) {
  for (const int index : family) {
    if (runs[index].parent < 0 || runs[index].same_as >= 0) continue;
    std::error_code ignored;  // already gone (a sibling's removal, or never saved)
    fs::remove(out / runs[index].branch_state, ignored);
  }
}

int run_ensemble_share(const EnsembleSpec& spec, const fs::path& out, const EnsembleOptions& options) {
  const std::vector<EnsembleRun> runs = plan_runs(spec);
  const std::vector<std::vector<int>> families = run_families(runs);
  int ran = 0;
  for (std::size_t f = 0; f < families.size(); ++f) {
    if (static_cast<int>(f % static_cast<std::size_t>(options.size)) != options.rank) continue;
    for (const int index : families[f]) {
      const EnsembleRun& run = runs[index];
      const RunOutcome outcome =
          run_is_intact(spec, run, out) ? RunOutcome::skipped : run_ensemble_run(spec, runs, run, out, options);
      if (outcome != RunOutcome::skipped) ++ran;
      if (options.on_run_done) options.on_run_done(run, outcome);
    }
    remove_branch_states(runs, families[f], out);
  }
  return ran;
}

void write_master_file(const EnsembleSpec& spec, const fs::path& out) {
  const std::vector<EnsembleRun> runs = plan_runs(spec);
  for (const EnsembleRun& run : runs)
    if (!run_is_complete(spec, run, out))
      throw RecorderError((out / run.file).string() + ": run " + run.name + " is missing or incomplete");
  replace_atomically(out / kMasterFile, [&](const fs::path& partial) {
    h5::File f = h5::File::create(partial, true);
    f.set_attribute("format", std::string(kMasterFormat));
    f.set_attribute("name", spec.name);
    f.set_attribute("spec_path", spec.path.string());
    f.set_attribute("spec_text", spec.text);
    f.set_attribute("spec_sha256", spec.sha256);
    // Empty without parameter sets: every master file has the same attributes.
    f.set_attribute("parameter_sets_path", spec.parameter_sets_path.string());
    f.set_attribute("parameter_sets_text", spec.parameter_sets_text);
    f.set_attribute("seed", static_cast<std::int64_t>(spec.seed));
    f.set_attribute("replicates", static_cast<std::int64_t>(spec.replicates));
    f.set_attribute("common_random_numbers", static_cast<std::int64_t>(spec.common_random_numbers));
    f.set_attribute("design", std::string(spec.design == SweepDesign::none            ? "none"
                                          : spec.design == SweepDesign::grid          ? "grid"
                                          : spec.design == SweepDesign::latin_hypercube ? "latin_hypercube"
                                                                                        : "sobol"));
    f.set_attribute("baseline", spec.scenarios[0].name);
    f.set_attribute("contactsim_version", std::string(kVersion));
    f.set_attribute("git_revision", std::string(kGitRevision));
    f.set_attribute("created_utc", creation_time_utc());

    std::vector<std::string> names, scenario, files;
    std::vector<std::int64_t> index, point, replicate, parameter_set, seed;
    for (const EnsembleRun& run : runs) {
      index.push_back(run.index);
      names.push_back(run.name);
      scenario.push_back(spec.scenarios[run.scenario].name);
      point.push_back(run.point);
      replicate.push_back(run.replicate);
      parameter_set.push_back(run.parameter_set);
      seed.push_back(static_cast<std::int64_t>(run.seed));
      files.push_back(run.file.generic_string());
    }
    h5::write_table(f, "runs", {{"index", index}, {"name", names}, {"scenario", scenario}, {"point", point},
                                {"replicate", replicate}, {"parameter_set", parameter_set}, {"seed", seed},
                                {"file", files}});

    std::vector<std::string> scenario_names, scenario_files, overrides;
    for (const auto& s : spec.scenarios) {
      scenario_names.push_back(s.name);
      scenario_files.push_back(s.file.string());
      std::ostringstream text;
      for (const auto& o : s.overrides) {
        text << o.key << " = ";
        o.value->visit([&](const auto& v) { text << toml::toml_formatter{v}; });
        text << "\n";
      }
      overrides.push_back(text.str());
    }
    h5::write_table(f, "scenarios", {{"name", scenario_names}, {"file", scenario_files}, {"overrides", overrides}});

    std::vector<TableColumn> design{{"point", std::vector<std::int64_t>{}}};
    for (std::size_t p = 0; p < spec.points.size(); ++p)
      std::get<std::vector<std::int64_t>>(design[0].values).push_back(static_cast<std::int64_t>(p));
    for (std::size_t k = 0; k < spec.parameters.size(); ++k) {
      std::vector<double> column;
      for (const auto& pt : spec.points) column.push_back(pt[k]);
      design.push_back({spec.parameters[k].key, column});
    }
    h5::write_table(f, "design", design);

    h5::Group links = f.create_group("run");
    for (const EnsembleRun& run : runs) links.link_external(run.name, run.file.generic_string(), "/");
    f.flush();
  });
  std::error_code ignored;  // holds only states of runs not finished when it is not empty
  fs::remove(out / kBranchesFolder, ignored);
}

}  // namespace contactsim
