// contactsim: the command-line front end. Every subcommand is a thin shell over the library;
// the Python bindings and the benchmarks drive the very same calls.
#include "contactsim/version.hpp"
#include "core/config.hpp"
#include "core/progress.hpp"
#include "core/recorder.hpp"
#include "models/scenario.hpp"
#include "models/simulation.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;
using namespace contactsim;

namespace {

// Exit codes: 0 success; 1 runtime failure (I/O); 2 bad input (scenario, census, flags).
constexpr int kBadInput = 2;
constexpr int kRuntimeFailure = 1;

struct RunArgs {
  std::string scenario;
  std::string output;
  std::optional<int> threads;
  std::optional<std::uint64_t> seed;
  std::optional<std::uint32_t> replicate;
  std::string until;
  bool force = false;
  bool quiet = false;
};

void print_summary(const Simulation& sim, double seconds, const fs::path& output) {
  const auto rows = sim.summary();
  const double years = static_cast<double>(sim.end() - sim.start() + 1) / 365.25;
  std::printf("\ncontactsim %s — %s, %s to %s, seed %llu, %d thread%s\n", kVersion,
              sim.scenario().path.filename().c_str(), sim.start().iso().c_str(), sim.end().iso().c_str(),
              static_cast<unsigned long long>(sim.seed()), sim.threads(), sim.threads() == 1 ? "" : "s");
  std::printf("%-16s %10s %12s %12s %14s %14s %8s\n", "group", "residents", "outgroup", "get on well",
              "positive", "negative", "pos:neg");
  std::printf("%-16s %10s %12s %12s %14s %14s %8s\n", "", "", "warmth", "share", "contacts", "contacts", "");
  std::int64_t residents = 0, positive = 0, negative = 0;
  double warmth = 0, well = 0;
  for (const auto& r : rows) {
    const double ratio = r.contacts_negative ? static_cast<double>(r.contacts_positive) / static_cast<double>(r.contacts_negative) : 0.0;
    std::printf("%-16s %10lld %12.3f %12.3f %14lld %14lld %8.2f\n", r.group.c_str(),
                static_cast<long long>(r.residents), r.mean_outgroup_warmth, r.get_on_well_share,
                static_cast<long long>(r.contacts_positive), static_cast<long long>(r.contacts_negative), ratio);
    residents += r.residents;
    positive += r.contacts_positive;
    negative += r.contacts_negative;
    warmth += r.mean_outgroup_warmth * static_cast<double>(r.residents);
    well += r.get_on_well_share * static_cast<double>(r.residents);
  }
  const double total_ratio = negative ? static_cast<double>(positive) / static_cast<double>(negative) : 0.0;
  std::printf("%-16s %10lld %12.3f %12.3f %14lld %14lld %8.2f\n", "all", static_cast<long long>(residents),
              warmth / static_cast<double>(residents), well / static_cast<double>(residents),
              static_cast<long long>(positive), static_cast<long long>(negative), total_ratio);
  std::printf("\n%-16s %10s %12s %12s %12s %12s\n", "group", "English", "no contact", "cross-group", "block", "perceived");
  std::printf("%-16s %10s %12s %12s %12s %12s\n", "", "(mean)", "last year", "friend share", "dissimilarity",
              "cohesion");
  for (const auto& r : rows)
    std::printf("%-16s %10.3f %12.3f %12.3f %12.3f %12.3f\n", r.group.c_str(), r.mean_english, r.no_contact_share,
                r.cross_group_friend_share, r.block_dissimilarity, r.perceived_cohesion);
  std::printf("\nContacts are intergroup encounters as experienced by members of each group over the whole run\n"
              "(%.2f years). Warmth is a feeling thermometer / 100 at the end of the run.\n",
              years);
  const double agent_days = static_cast<double>(sim.world().residents.size()) * (sim.end() - sim.start() + 1);
  std::printf("Simulated %.3g agent-days in %.2f s (%.2f M agent-days/s)", agent_days, seconds,
              agent_days / seconds / 1e6);
  if (!output.empty()) std::printf("; wrote %s", output.c_str());
  std::printf("\n");
}

Date parse_until(const std::string& text, const Scenario& s) {
  const auto date = Date::parse_iso(text);
  if (!date) throw CLI::ValidationError("--until", "expected a date YYYY-MM-DD, got \"" + text + "\"");
  if (*date < s.simulation.start || *date > s.simulation.end)
    throw CLI::ValidationError("--until", "expected a date between the scenario's start " + s.simulation.start.iso() +
                                              " and end " + s.simulation.end.iso() + ", got " + text);
  return *date;
}

int run_command(const RunArgs& a) {
  Scenario scenario = load_scenario(a.scenario);
  RunOptions options;
  options.seed = a.seed;
  options.replicate = a.replicate;
  options.threads = a.threads;
  if (!a.until.empty()) options.until = parse_until(a.until, scenario);
  const fs::path output = a.output.empty() ? fs::path("results") / (fs::path(a.scenario).stem().string() + ".h5")
                                           : fs::path(a.output);
  // Refuse before the (possibly long) world build, and before anything is written.
  if (fs::exists(output) && !a.force)
    throw RecorderError(output.string() + ": output file exists; pass --force to overwrite");

  const auto started = std::chrono::steady_clock::now();
  Simulation sim(std::move(scenario), options);
  Recorder recorder = Recorder::create(output, a.force);
  sim.attach(recorder);
  ProgressBar progress(sim.end() - sim.start() + 1, static_cast<double>(sim.world().residents.size()), "agent-days",
                       !a.quiet && ProgressBar::stderr_is_terminal());
  sim.run([&](Date done) { progress.update(done - sim.start() + 1, done.iso()); });
  progress.finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  print_summary(sim, seconds, output);
  return 0;
}

int validate_command(const std::string& file) {
  const Scenario s = load_scenario(file);
  std::printf("%s: valid — %lld residents in %zu wards, %zu groups, %zu venue types, %s to %s\n", file.c_str(),
              static_cast<long long>(s.population_size()), s.wards.size(), s.groups.size(), s.venue_types.size(),
              s.simulation.start.iso().c_str(), s.simulation.end.iso().c_str());
  return 0;
}

// The dictionary as Markdown: docs/parameters.md is this output, checked current by a test.
int params_markdown() {
  std::printf("# Parameter dictionary\n\n"
              "Generated by `contactsim params --markdown` from the tables in `models/`; a test fails when this\n"
              "file is out of date. Every default states its source or the reason for it; values marked\n"
              "*illustrative* are reasoned placeholders awaiting calibration.\n");
  std::string section;
  for (const auto& p : parameter_dictionary()) {
    if (p.section != section) {
      section = p.section;
      std::printf("\n## `[%s]`\n\n| key | default | range | unit | source or reason |\n|---|---|---|---|---|\n",
                  section.c_str());
    }
    std::printf("| `%s` | %g | [%g, %g] | %s | %s |\n", p.key.c_str(), p.fallback, p.min, p.max, p.unit.c_str(),
                p.source.c_str());
  }
  return 0;
}

int params_command() {
  std::printf("%-34s %-26s %10s %-16s %s\n", "section", "key", "default", "range", "unit — source");
  for (const auto& p : parameter_dictionary()) {
    char range[64];
    std::snprintf(range, sizeof range, "[%g, %g]", p.min, p.max);
    std::printf("%-34s %-26s %10g %-16s %s — %s\n", p.section.c_str(), p.key.c_str(), p.fallback, range,
                p.unit.c_str(), p.source.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"contactsim — agent-based simulation of intergroup contact in a city's wards"};
  app.set_version_flag("--version", std::string("contactsim ") + kVersion + " (" + kGitRevision + ")");
  app.require_subcommand(1);

  RunArgs run;
  auto* run_cmd = app.add_subcommand("run", "Run a scenario and record its trajectories to HDF5");
  run_cmd->add_option("scenario", run.scenario, "Scenario file (TOML)")->required()->check(CLI::ExistingFile);
  run_cmd->add_option("-o,--output", run.output, "Output HDF5 file (default: results/<scenario>.h5)");
  run_cmd->add_option("--threads", run.threads, "Worker threads (default: the scenario's, 0 = every core)")
      ->check(CLI::Range(0, 1024));
  run_cmd->add_option("--seed", run.seed, "Random seed (overrides [simulation] seed)");
  run_cmd->add_option("--replicate", run.replicate,
                      "Replicate number (overrides [simulation] replicate; keys the random streams)");
  run_cmd->add_option("--until", run.until, "Stop after this date (YYYY-MM-DD) instead of the scenario's end");
  run_cmd->add_flag("--force", run.force, "Overwrite an existing output file");
  run_cmd->add_flag("-q,--quiet", run.quiet, "No progress display");

  std::string validate_file;
  auto* validate_cmd = app.add_subcommand("validate", "Check a scenario file without running it");
  validate_cmd->add_option("scenario", validate_file, "Scenario file (TOML)")->required()->check(CLI::ExistingFile);

  std::string info_file;
  auto* info_cmd = app.add_subcommand("info", "Describe what an output file contains");
  info_cmd->add_option("output", info_file, "contactsim output (HDF5)")->required()->check(CLI::ExistingFile);

  bool params_as_markdown = false;
  auto* params_cmd = app.add_subcommand("params", "Print every parameter with its default, range, unit and source");
  params_cmd->add_flag("--markdown", params_as_markdown, "As the Markdown of docs/parameters.md");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kBadInput;
  }

  try {
    if (*run_cmd) return run_command(run);
    if (*validate_cmd) return validate_command(validate_file);
    if (*info_cmd) {
      std::cout << describe_output(info_file);
      return 0;
    }
    if (*params_cmd) return params_as_markdown ? params_markdown() : params_command();
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kBadInput;
  } catch (const CLI::ValidationError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kBadInput;
  } catch (const RecorderError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kRuntimeFailure;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kRuntimeFailure;
  }
  return 0;
}
