#include "models/analysis/ensemble.hpp"

#include "contactsim/version.hpp"
#include "core/h5.hpp"
#include "core/output_file.hpp"
#include "core/recorder.hpp"
#include "core/sweeps.hpp"
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
// Independent streams per scenario when common random numbers are off: far apart seeds.
constexpr std::uint64_t kScenarioSeedStride = 1'000'003;
// Bounds that keep a spec's plan in memory and its run indexes in an int.
constexpr std::size_t kMaxSweepPoints = 100'000;
constexpr double kMaxRuns = 1e7;

SpecLocation origin_of(const ConfigTable& table, std::string_view key) {
  return {table.file_of(key), table.line_of(key)};
}

bool is_plain_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

std::vector<EnsembleOverride> read_overrides(const ConfigTable& table, std::string_view key) {
  std::vector<EnsembleOverride> out;
  const auto overrides = table.optional_table(key);
  if (!overrides) return out;
  for (auto& [name, node] : overrides->leaves()) {
    auto copy = std::shared_ptr<toml::node>();
    node->visit([&](const auto& concrete) {
      copy = std::make_shared<std::decay_t<decltype(concrete)>>(concrete);
    });
    out.push_back({name, std::move(copy), {overrides->file_of(""), static_cast<int>(node->source().begin.line)}});
  }
  return out;
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

SweepParameter read_parameter(const std::string& key, const ConfigTable& table, SweepDesign design) {
  SweepParameter p;
  p.key = key;
  p.origin = origin_of(table, "");
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
  for (const auto& [key, table] : parameters) spec.parameters.push_back(read_parameter(key, table, spec.design));
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

ConfigDocument document_of(const EnsembleSpec& spec, int scenario, int point) {
  const EnsembleScenario& s = spec.scenarios[scenario];
  ConfigDocument doc = ConfigDocument::load(s.file);
  for (const auto& o : s.overrides) doc = doc.with_value(o.key, *o.value);
  for (std::size_t k = 0; k < spec.parameters.size(); ++k) {
    const double v = spec.points[point][k];
    if (spec.parameters[k].integer)
      doc = doc.with_value(spec.parameters[k].key, toml::value<std::int64_t>(static_cast<std::int64_t>(std::llround(v))));
    else
      doc = doc.with_value(spec.parameters[k].key, toml::value<double>(v));
  }
  return doc;
}

// A scenario error caused by the spec is reported at the spec's line that caused it.
[[noreturn]] void rethrow_at_spec(const ConfigError& e, const EnsembleSpec& spec, int scenario) {
  const EnsembleScenario& s = spec.scenarios[scenario];
  for (const auto& o : s.overrides)
    if (e.key() == o.key || e.key().rfind(o.key + ".", 0) == 0) {
      throw ConfigError(o.origin.file, o.origin.line, o.key,
                        "override for scenario '" + s.name + "' (" + s.file.string() + "): " + e.expected());
    }
  for (const auto& p : spec.parameters)
    if (e.key() == p.key || e.key().rfind(p.key + ".", 0) == 0) {
      throw ConfigError(p.origin.file, p.origin.line, "sweep.parameters." + p.key,
                        "not a valid parameter value for scenario '" + s.name + "' (" + s.file.string() +
                            "): " + e.key() + ": " + e.expected());
    }
  throw e;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

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
  read_sweep(root, spec);
  root.finish();
  const double runs = static_cast<double>(spec.scenarios.size()) * static_cast<double>(spec.points.size()) *
                      static_cast<double>(spec.replicates);
  if (runs > kMaxRuns)
    root.fail("replicates", "expected at most " + std::to_string(static_cast<std::int64_t>(kMaxRuns)) +
                                " runs (scenarios × sweep points × replicates), got " +
                                std::to_string(static_cast<std::int64_t>(runs)));

  // Every scenario at every point must be valid, and end after `until`.
  spec.scenario_sha256.assign(spec.scenarios.size(), std::vector<std::string>(spec.points.size()));
  for (int s = 0; s < static_cast<int>(spec.scenarios.size()); ++s)
    for (int p = 0; p < static_cast<int>(spec.points.size()); ++p) {
      Scenario scenario;
      try {
        scenario = read_scenario(document_of(spec, s, p));
      } catch (const ConfigError& e) {
        if (e.file() != spec.scenarios[s].file.string() && e.line() != 0) throw;
        rethrow_at_spec(e, spec, s);
      }
      spec.scenario_sha256[s][p] = scenario.sha256;
      if (spec.until && (*spec.until < scenario.simulation.start || *spec.until > scenario.simulation.end))
        root.fail("until", "expected a date within scenario '" + spec.scenarios[s].name + "' (" +
                               scenario.simulation.start.iso() + " to " + scenario.simulation.end.iso() + "), got " +
                               spec.until->iso());
    }
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
        if (swept)
          std::snprintf(suffix, sizeof suffix, "_p%03d_r%03d", p, r);
        else
          std::snprintf(suffix, sizeof suffix, "_r%03d", r);
        run.name = spec.scenarios[s].name + suffix;
        run.seed = spec.common_random_numbers ? spec.seed : spec.seed + kScenarioSeedStride * static_cast<std::uint64_t>(s);
        run.file = fs::path(kRunsFolder) / (run.name + ".h5");
        runs.push_back(run);
      }
  return runs;
}

Scenario scenario_of(const EnsembleSpec& spec, const EnsembleRun& run) {
  return read_scenario(document_of(spec, run.scenario, run.point));
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
    return f.integer_attribute("complete") == 1 &&
           f.integer_attribute("seed") == static_cast<std::int64_t>(run.seed) &&
           f.integer_attribute("replicate") == run.replicate &&
           f.string_attribute("scenario_sha256") == spec.scenario_sha256[run.scenario][run.point];
  } catch (const RecorderError&) {
    return false;  // unreadable: redo it
  }
}

int run_ensemble_share(const EnsembleSpec& spec, const fs::path& out, const EnsembleOptions& options) {
  int ran = 0;
  for (const EnsembleRun& run : plan_runs(spec)) {
    if (run.index % options.size != options.rank) continue;
    if (run_is_complete(spec, run, out)) {
      if (options.on_run_done) options.on_run_done(run, true);
      continue;
    }
    RunOptions run_options;
    run_options.seed = run.seed;
    run_options.replicate = static_cast<std::uint32_t>(run.replicate);
    run_options.threads = options.threads ? options.threads : spec.threads;
    run_options.until = spec.until;
    // Replicate r of every scenario agrees with the baseline's before the start: one spin-up each.
    run_options.spin_up_cache = out / "spin-up";
    // Written as runs/<name>.h5.partial, renamed when complete (core/output_file.hpp).
    PendingOutput output(out / run.file, true);
    {
      Simulation sim(scenario_of(spec, run), run_options);
      Recorder& recorder = output.recorder();
      sim.attach(recorder);
      // Each run file says where it belongs, so it can be read without the master file.
      recorder.set_attribute("ensemble", spec.name);
      recorder.set_attribute("ensemble_scenario", spec.scenarios[run.scenario].name);
      recorder.set_attribute("ensemble_point", static_cast<std::int64_t>(run.point));
      recorder.set_attribute("ensemble_run", run.name);
      sim.run();
    }
    output.publish();  // only complete files carry the final name
    ++ran;
    if (options.on_run_done) options.on_run_done(run, false);
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
    std::vector<std::int64_t> index, point, replicate, seed;
    for (const EnsembleRun& run : runs) {
      index.push_back(run.index);
      names.push_back(run.name);
      scenario.push_back(spec.scenarios[run.scenario].name);
      point.push_back(run.point);
      replicate.push_back(run.replicate);
      seed.push_back(static_cast<std::int64_t>(run.seed));
      files.push_back(run.file.generic_string());
    }
    h5::write_table(f, "runs", {{"index", index}, {"name", names}, {"scenario", scenario}, {"point", point},
                                {"replicate", replicate}, {"seed", seed}, {"file", files}});

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
}

}  // namespace contactsim
