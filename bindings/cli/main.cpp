// contactsim: the command-line front end. Every subcommand is a thin shell over the library;
// the Python bindings and the benchmarks drive the very same calls.
#include "contactsim/version.hpp"
#include "core/config.hpp"
#include "core/output_file.hpp"
#include "core/h5.hpp"
#include "core/progress.hpp"
#include "core/recorder.hpp"
#include "models/analysis/compare.hpp"
#include "models/analysis/ensemble.hpp"
#include "models/run/outputs.hpp"
#include "models/run/scenario.hpp"
#include "models/run/simulation.hpp"

#ifdef CONTACTSIM_HAVE_MPI
#include <mpi.h>
#endif

#include <CLI/CLI.hpp>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <map>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <new>

namespace fs = std::filesystem;
using namespace contactsim;

namespace {

// Exit codes: 0 success; 1 runtime failure (I/O); 2 bad input (scenario, census, flags).
constexpr int kBadInput = 2;
constexpr int kRuntimeFailure = 1;

struct RunArgs {
  std::string scenario;
  std::optional<std::string> output;  // unset: results/<scenario>.h5; set, never empty
  std::optional<int> threads;
  std::optional<std::uint64_t> seed;
  std::optional<std::uint32_t> replicate;
  std::optional<std::string> until;
  std::string checkpoint_at;    // save a checkpoint at the end of this day
  std::string checkpoint;       // where (default: the output with .checkpoint.h5)
  std::string from_checkpoint;  // continue from this checkpoint
  bool force = false;
  bool quiet = false;
  int resume_every = 365;  // days between automatic <output>.resume checkpoints; 0: none
  bool no_resume = false;  // start from the first day even if <output>.resume exists
  bool check_invariants = false;
  std::string spin_up_cache;       // --spin-up-cache (empty: the default folder)
  bool no_spin_up_cache = false;
  // Hidden, for crash tests: a byte written here for every record the output holds, once it is
  // flushed (and the day's resume checkpoint saved), so a test can kill the run after exactly
  // the k-th record instead of guessing with sleeps. -1: none.
  int record_fd = -1;
};

// `first`: the first day this process simulated (later than the start for a branched run).
void print_summary(const Simulation& sim, Date first, double seconds, const fs::path& output) {
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
  // The spin-up's days count when this run simulated them (the clock ran through them too).
  const int spun = sim.spin_up_source().rfind("simulated", 0) == 0 ? sim.scenario().simulation.spin_up_days : 0;
  const double agent_days = static_cast<double>(sim.world().residents.size()) * (sim.end() - first + 1 + spun);
  std::printf("Simulated %.3g agent-days (%d of them spin-up days) in %.2f s (%.2f M agent-days/s)", agent_days, spun,
              seconds, agent_days / seconds / 1e6);
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

// --seed: like the scenario's [simulation] seed, a whole number from 0 to 2^63 - 1 (it is stored
// as a signed 64-bit integer); "" when `text` is one, else why not. Checked on the text, before
// CLI11 converts it: an unsigned conversion would take "-1" as 2^64 - 1 and wrap larger values.
std::string check_seed(const std::string& text) {
  const std::string expected =
      "expected a whole number from 0 to 9223372036854775807 (2^63 - 1), like the scenario's seed; got \"" + text +
      "\"";
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return expected;
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() ||
      value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return expected;
  return "";
}

// -j: how many runs at once, from 1 to 1024; "" when `text` is one, else why not.
std::string check_jobs(const std::string& text) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 1 || value > 1024)
    return "expected how many runs to simulate at once, a whole number from 1 to 1024; got \"" + text + "\"";
  return "";
}

// Where spin-up states are kept unless --spin-up-cache says otherwise (the XDG convention).
fs::path default_spin_up_cache() {
  if (const char* dir = std::getenv("CONTACTSIM_CACHE"); dir && *dir) return dir;
  if (const char* dir = std::getenv("XDG_CACHE_HOME"); dir && *dir) return fs::path(dir) / "contactsim";
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "contactsim";
  return fs::temp_directory_path() / "contactsim-cache";
}

// "<output>.resume": the checkpoint a run writes every --resume-every days while it runs, so
// that the same command, rerun after a crash, continues from there (removed on success).
fs::path resume_path(const fs::path& output) { return fs::path(output.string() + ".resume"); }

// Why `resume` cannot continue this run (another scenario, seed, replicate or end), or "" when it
// can. Only an exact match resumes: the result must be the uninterrupted run's, byte for byte.
std::string resume_mismatch(const fs::path& resume, const Scenario& scenario, const RunOptions& options) try {
  // Checkpoints carry the series records but not agent snapshots: a resumed run would lose the
  // snapshots taken before the checkpoint.
  if (scenario.record.agents.enabled) return "the scenario records agent snapshots, which checkpoints do not carry";
  const h5::File file = open_checkpoint(resume);
  if (file.string_attribute("scenario_sha256") != scenario.sha256) return "made from a different scenario";
  if (file.integer_attribute("seed") != static_cast<std::int64_t>(options.seed.value_or(scenario.simulation.seed)))
    return "made with another seed";
  if (file.integer_attribute("replicate") !=
      static_cast<std::int64_t>(options.replicate.value_or(scenario.simulation.replicate)))
    return "made with another replicate";
  const auto day = Date::parse_iso(file.string_attribute("checkpoint_date"));
  const Date end = std::min(options.until.value_or(scenario.simulation.end), scenario.simulation.end);
  if (!day || *day >= end) return "not before this run's end";
  return "";
} catch (const std::exception& e) {
  return std::string("unreadable: ") + e.what();
}

void note_not_resuming(const fs::path& resume, const std::string& why) {
  std::fprintf(stderr, "note: not resuming from %s (%s); starting from the first day (--no-resume skips this check)\n",
               resume.c_str(), why.c_str());
}

// A run starts from the scenario's first day, from the day after a checkpoint, or from where a
// killed run of the same command left its <output>.resume. A resume checkpoint the world no
// longer fits (a census file changed since) is noted and the run starts afresh, as the README
// promises: the checkpoint is only a shortcut to the same result.
std::unique_ptr<Simulation> start_run(Scenario scenario, const RunArgs& a, const RunOptions& options,
                                      fs::path& resume) {
  if (!resume.empty()) {
    try {
      auto sim = std::make_unique<Simulation>(scenario, resume, options);
      sim->record_as_uninterrupted();
      return sim;
    } catch (const CheckpointError& e) {
      note_not_resuming(resume, e.what());
      resume.clear();
    }
  }
  if (a.from_checkpoint.empty()) return std::make_unique<Simulation>(std::move(scenario), options);
  return std::make_unique<Simulation>(std::move(scenario), fs::path(a.from_checkpoint), options);
}

// The resume checkpoint to continue from, or "" to start afresh (saying why on stderr).
fs::path usable_resume(const fs::path& output, const Scenario& scenario, const RunArgs& a, const RunOptions& options) {
  const fs::path resume = resume_path(output);
  if (a.no_resume || !fs::exists(resume)) return {};
  const std::string mismatch = resume_mismatch(resume, scenario, options);
  if (mismatch.empty()) return resume;
  note_not_resuming(resume, mismatch);
  return {};
}

// -o: a file name; "" and a folder path ("out/") are refused before anything is created (an
// existing directory is refused by refuse_existing_output, like any output that is not a file).
fs::path output_of(const RunArgs& a) {
  if (!a.output) return fs::path("results") / (fs::path(a.scenario).stem().string() + ".h5");
  const std::string& text = *a.output;
  if (text.empty()) throw CLI::ValidationError("--output", "expected an output file name, got an empty one");
  if (text.back() == '/')
    throw CLI::ValidationError("--output", "expected an output file, got the folder " + text +
                                               " (name the file: " + (fs::path(text) / "run.h5").lexically_normal().string() +
                                               ")");
  return text;
}

// The files this run reads: the scenario, every file it extends, its census CSV, and a
// --from-checkpoint.
std::vector<fs::path> run_inputs(const Scenario& scenario, const RunArgs& a) {
  std::vector<fs::path> inputs = scenario.input_files;
  if (!a.from_checkpoint.empty()) inputs.emplace_back(a.from_checkpoint);
  return inputs;
}

// Never replace what the run reads, even with --force ("--force -o scenario.toml").
void refuse_inputs_as(const char* option, const fs::path& file, const std::vector<fs::path>& inputs) {
  if (const fs::path* input = same_file_among(file, inputs))
    throw CLI::ValidationError(option, "expected a file other than " + input->string() +
                                           ", which this run reads; choose another file");
}

// The files the run itself writes beside its output: a --checkpoint there would be replaced by
// them or replace them (the checkpoint published as the output, or deleted with the resume).
void refuse_checkpoint_collisions(const fs::path& checkpoint, const fs::path& output,
                                  const std::vector<fs::path>& inputs) {
  const std::pair<fs::path, const char*> own[] = {{output, "the output"},
                                                  {partial_path(output), "the output being written"},
                                                  {resume_path(output), "the run's resume checkpoint"},
                                                  {lock_path(output), "the output's lock file"}};
  for (const auto& [file, what] : own)
    if (same_file(checkpoint, file))
      throw CLI::ValidationError("--checkpoint", "expected a file other than " + file.string() + " (" + what +
                                                     "); choose another checkpoint file");
  refuse_inputs_as("--checkpoint", checkpoint, inputs);
}

// A leftover "<output>.resume" that is not a file would fail the run at its first resume save,
// possibly years in: refused at the start.
void refuse_unusable_resume(const fs::path& output, const RunArgs& a) {
  std::error_code error;
  const fs::file_status status = fs::symlink_status(resume_path(output), error);
  if (!fs::exists(status) || fs::is_regular_file(status) || a.resume_every == 0) return;
  throw RecorderError(resume_path(output).string() + ": is " + file_kind(status) +
                      ", in the way of the run's resume checkpoint; remove it (or pass --resume-every 0)");
}

int run_command(const RunArgs& a) try {
  Scenario scenario = load_scenario(a.scenario);
  RunOptions options;
  options.seed = a.seed;
  options.replicate = a.replicate;
  options.threads = a.threads;
  if (a.until) options.until = parse_until(*a.until, scenario);
  options.check_invariants = a.check_invariants;
  if (!a.no_spin_up_cache) options.spin_up_cache = a.spin_up_cache.empty() ? default_spin_up_cache() : fs::path(a.spin_up_cache);
  const fs::path output = output_of(a);
  // Refuse before the (possibly long) world build, and before anything is written.
  const std::vector<fs::path> inputs = run_inputs(scenario, a);
  refuse_inputs_as("--output", output, inputs);
  refuse_existing_output(output, a.force, "pass --force to overwrite");
  // Held to the end: a second writer of this output is refused now, not after its world build.
  OutputLock lock(output);
  refuse_existing_output(output, a.force, "pass --force to overwrite");  // a writer may have published meanwhile
  remove_stale_temporaries(resume_path(output));  // a killed run's half-written resume checkpoints
  refuse_unusable_resume(output, a);
  fs::path resume = usable_resume(output, scenario, a, options);
  check_output_space(scenario, output, options.until);
  std::optional<Date> checkpoint_day;
  fs::path checkpoint_file;
  if (!a.checkpoint_at.empty()) {
    checkpoint_day = Date::parse_iso(a.checkpoint_at);
    if (!checkpoint_day)
      throw CLI::ValidationError("--checkpoint-at", "expected a date YYYY-MM-DD, got \"" + a.checkpoint_at + "\"");
    checkpoint_file = a.checkpoint.empty() ? fs::path(output).replace_extension(".checkpoint.h5") : fs::path(a.checkpoint);
    refuse_checkpoint_collisions(checkpoint_file, output, inputs);
    // Never a directory, device or FIFO, even with --force.
    refuse_existing_output(checkpoint_file, true, "");
    // A resumed run's own checkpoint was written before the crash (it is this run's).
    if (fs::exists(checkpoint_file) && !a.force && resume.empty())
      throw RecorderError(checkpoint_file.string() + ": checkpoint file exists; pass --force to overwrite");
  }

  const auto started = std::chrono::steady_clock::now();
  if (!a.quiet && resume.empty() && a.from_checkpoint.empty() && scenario.simulation.spin_up_days > 0)
    std::fprintf(stderr, "Building the city and its %d-day spin-up before %s (or restoring it from the cache)...\n",
                 scenario.simulation.spin_up_days, scenario.simulation.start.iso().c_str());
  const std::unique_ptr<Simulation> run = start_run(std::move(scenario), a, options, resume);
  Simulation& sim = *run;
  // A resumed run has already written a --checkpoint-at day it is past.
  const bool checkpoint_written_before_crash = checkpoint_day && !resume.empty() && *checkpoint_day < sim.date();
  if (checkpoint_day && !checkpoint_written_before_crash) {
    if (*checkpoint_day < sim.date() || *checkpoint_day > sim.end())
      throw CLI::ValidationError("--checkpoint-at", "expected a date from " + sim.date().iso() + " to " +
                                                        sim.end().iso() + ", got " + a.checkpoint_at);
    sim.checkpoint_at(*checkpoint_day, checkpoint_file);
  }
  const Date first = sim.date();
  const int days = sim.end() - first + 1;
  if (!resume.empty()) {
    std::printf("Resuming from %s: %d of %d days already simulated, %d to go\n", resume.c_str(),
                first - sim.start(), sim.end() - sim.start() + 1, days);
    std::fflush(stdout);  // said now, even if this run is killed too
  }
  PendingOutput output_file(std::move(lock), a.force);
  try {
    sim.attach(output_file.recorder());
    ProgressBar progress(days, static_cast<double>(sim.world().residents.size()), "agent-days",
                         !a.quiet && ProgressBar::stderr_is_terminal());
    std::int64_t reported = 0;  // records announced on --record-fd (a resumed run's replayed ones too)
    sim.run([&](Date done) {
      progress.update(done - first + 1, done.iso());
      // Counted from the scenario's start, so a resumed run saves on the same days.
      const bool resume_day = a.resume_every > 0 && !sim.scenario().record.agents.enabled &&
                              (done - sim.start() + 1) % a.resume_every == 0;
      if (resume_day && !sim.finished()) sim.save_checkpoint(resume_path(output), true);
      for (; a.record_fd >= 0 && reported < output_file.recorder().records(); ++reported) {
        const char byte = 1;
        if (write(a.record_fd, &byte, 1) != 1) throw RecorderError(std::string("--record-fd: ") + std::strerror(errno));
      }
    });
    progress.finish();
    output_file.publish();
  } catch (...) {
    // The records are in <output>.resume (if one was written): a failed output is not kept.
    output_file.discard();
    throw;
  }
  std::error_code ignored;
  fs::remove(resume_path(output), ignored);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  print_summary(sim, first, seconds, output);
  if (checkpoint_day) std::printf("Checkpoint after %s: %s\n", checkpoint_day->iso().c_str(), checkpoint_file.c_str());
  return 0;
} catch (const CheckpointError& e) {
  // An unusable or incompatible checkpoint is bad input, like a bad scenario.
  std::fprintf(stderr, "error: %s\n", e.what());
  return kBadInput;
}

int validate_command(const std::string& file) {
  const Scenario s = load_scenario(file);
  std::printf("%s: valid — %lld residents in %zu wards, %zu groups, %zu venue types, %s to %s\n", file.c_str(),
              static_cast<long long>(s.population_size()), s.wards.size(), s.groups.size(), s.venue_types.size(),
              s.simulation.start.iso().c_str(), s.simulation.end.iso().c_str());
  const ResourceEstimate e = estimate_resources(s);
  std::printf("needs about %s of memory; output up to %s\n", byte_count(e.memory_bytes).c_str(),
              e.describe_output().c_str());
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

// The series a scenario writes; as Markdown, docs/outputs.md (generated from
// tests/data/every_mechanism.toml, checked current by a test).
int outputs_command(const std::string& file, bool markdown) {
  if (markdown) {
    std::cout << outputs_markdown(output_owners(ConfigDocument::load(file)), "contactsim outputs " + file + " --markdown");
    return 0;
  }
  std::cout << outputs_listing(output_series(load_scenario(file)));
  return 0;
}

// ------------------------------------------------------------------ ensembles

struct EnsembleArgs {
  std::string spec;
  std::string output;
  std::optional<int> threads;
  int jobs = 1;            // runs at once, as separate processes (-j)
  bool no_branch = false;  // every run from its first day
  bool quiet = false;
  std::string spin_up_cache;       // --spin-up-cache (empty: the default folder, as for run)
  bool no_spin_up_cache = false;   // keep spin-ups in OUTPUT/spin-up, this ensemble's own
  std::string run;  // hidden: the worker of a -j ensemble runs just this run
};

// Whole runs, not agents, are what gets distributed: a run fits one node, and runs are
// independent, so ranks never talk until the master file is written.
struct Ranks {
  int rank = 0, size = 1;
  bool mpi = false;
  Ranks() {
#ifdef CONTACTSIM_HAVE_MPI
    // Only under a launcher: a plain `contactsim ensemble` needs no MPI runtime.
    if (std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE") || std::getenv("PMIX_RANK")) {
      MPI_Init(nullptr, nullptr);
      MPI_Comm_rank(MPI_COMM_WORLD, &rank);
      MPI_Comm_size(MPI_COMM_WORLD, &size);
      mpi = true;
    }
#endif
  }
  ~Ranks() {
#ifdef CONTACTSIM_HAVE_MPI
    if (mpi) MPI_Finalize();
#endif
  }
  // Every rank waits here; returns whether all ranks succeeded.
  bool all_succeeded(bool mine) const {
#ifdef CONTACTSIM_HAVE_MPI
    if (mpi) {
      int ok = mine ? 1 : 0, all = 0;
      MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
      return all == 1;
    }
#endif
    return mine;
  }
};

EnsembleOptions ensemble_options(const EnsembleArgs& a) {
  EnsembleOptions options;
  options.threads = a.threads;
  options.branching = !a.no_branch;
  if (!a.no_spin_up_cache) options.spin_up_cache = a.spin_up_cache.empty() ? default_spin_up_cache() : fs::path(a.spin_up_cache);
  return options;
}

// The worker of a -j ensemble: one run, named by the coordinator, which has checked that it is
// not complete and that the run it branches from is done.
int ensemble_worker(const EnsembleArgs& a) {
  const EnsembleSpec spec = load_ensemble_spec(a.spec);
  const auto runs = plan_runs(spec);
  const auto run = std::find_if(runs.begin(), runs.end(), [&](const EnsembleRun& r) { return r.name == a.run; });
  if (run == runs.end()) throw CLI::ValidationError("--run", "no run named \"" + a.run + "\" in " + a.spec);
  try {
    run_ensemble_run(spec, runs, *run, a.output, ensemble_options(a));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: run %s: %s\n", run->name.c_str(), e.what());
    return kRuntimeFailure;
  }
  return 0;
}

// "runs 3/32 done  cut40_r001  ETA 120s" on a terminal, as runs finish.
class EnsembleProgress {
 public:
  EnsembleProgress(std::size_t runs, int ranks, bool show) : runs_(runs), ranks_(ranks), show_(show) {}
  void run_done(const EnsembleRun& run, RunOutcome outcome, int mine) {
    ++done_;
    ran_ += outcome == RunOutcome::skipped ? 0 : 1;
    if (!show_) return;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    const double eta = ran_ > 0 ? elapsed / ran_ * (mine - done_) : 0.0;
    std::fprintf(stderr, "\rruns %d/%zu done%s  %-28s ETA %4.0fs ", done_ * ranks_, runs_,
                 ranks_ > 1 ? " (est.)" : "", run.name.c_str(), eta);
    std::fflush(stderr);
  }
  ~EnsembleProgress() {
    if (show_) std::fprintf(stderr, "\n");
  }

 private:
  std::size_t runs_;
  int ranks_;
  bool show_;
  int done_ = 0, ran_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

// This rank's share, one run after another. Returns "" or what failed.
std::string run_share_serially(const EnsembleSpec& spec, const fs::path& out, const EnsembleArgs& a,
                               const Ranks& ranks, EnsembleProgress& progress) {
  const int runs = static_cast<int>(plan_runs(spec).size());
  EnsembleOptions options = ensemble_options(a);
  options.rank = ranks.rank;
  options.size = ranks.size;
  const int mine = (runs + ranks.size - 1 - ranks.rank) / ranks.size;
  options.on_run_done = [&](const EnsembleRun& run, RunOutcome outcome) { progress.run_done(run, outcome, mine); };
  try {
    run_ensemble_share(spec, out, options);
  } catch (const std::exception& e) {
    return "rank " + std::to_string(ranks.rank) + ": " + e.what();
  }
  return "";
}

// -j N: a queue of runs, up to N at once, each in a worker process (this program's `ensemble
// --run NAME`); a run starts once the run it branches from is done. A failed run is reported by
// its name and the others go on (a run whose parent failed starts from its first day). Returns
// "" or what failed.
class ProcessPool {
 public:
  ProcessPool(const EnsembleSpec& spec, const fs::path& out, const EnsembleArgs& a, EnsembleProgress& progress)
      : spec_(spec), out_(out), args_(a), progress_(progress), runs_(plan_runs(spec)),
        families_(run_families(runs_)), state_(runs_.size(), State::waiting),
        spin_up_cache_(ensemble_options(a).spin_up_cache) {}

  std::string run() {
    // Several processes' OpenMP threads share the cores: waiting threads should sleep, not spin
    // (as Python's run_ensemble). A value the user chose is kept.
    ::setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    for (const EnsembleRun& run : runs_)
      if (run_is_complete(spec_, run, out_)) finish(run.index, State::done, RunOutcome::skipped);
    while (true) {
      while (static_cast<int>(workers_.size()) < args_.jobs && start_next()) {
      }
      if (workers_.empty()) break;
      wait_for_one();
    }
    if (failed_.empty()) return "";
    std::string names;
    for (const std::string& name : failed_) names += (names.empty() ? "" : ", ") + name;
    return std::to_string(failed_.size()) + " of " + std::to_string(runs_.size()) + " runs failed (" + names +
           "); every other run is complete: run the same command again to redo the failed ones";
  }

 private:
  enum class State { waiting, running, done, failed };

  bool ready(const EnsembleRun& run) const {
    return state_[run.index] == State::waiting &&
           (run.parent < 0 || state_[run.parent] == State::done || state_[run.parent] == State::failed);
  }

  // Starts the first ready run, family by family (a counterfactual soon after its baseline, so
  // few branch states wait on disk). Returns false when no run is ready.
  bool start_next() {
    for (const auto& family : families_)
      for (const int index : family)
        if (ready(runs_[index])) {
          start(index);
          return true;
        }
    return false;
  }

  // A run whose process cannot start fails like one whose process fails: named, the rest go on.
  void start(int index) {
    try {
      workers_.emplace(spawn(runs_[index]), index);
      state_[index] = State::running;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: run %s: %s\n", runs_[index].name.c_str(), e.what());
      finish(index, State::failed, RunOutcome::skipped);
    }
  }

  pid_t spawn(const EnsembleRun& run) const {
    std::vector<std::string> words{"/proc/self/exe", "ensemble", args_.spec, "-o", out_.string(), "--run", run.name, "-q"};
    if (args_.threads) words.insert(words.end(), {"--threads", std::to_string(*args_.threads)});
    if (args_.no_branch) words.emplace_back("--no-branch");
    if (spin_up_cache_.empty())
      words.emplace_back("--no-spin-up-cache");
    else
      words.insert(words.end(), {"--spin-up-cache", spin_up_cache_.string()});
    std::vector<char*> argv;
    for (const std::string& w : words) argv.push_back(const_cast<char*>(w.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (const int error = ::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ))
      throw RecorderError("cannot start a process for run " + run.name + ": " + std::strerror(error));
    return pid;
  }

  void wait_for_one() {
    int status = 0;
    pid_t pid = 0;
    do pid = ::waitpid(-1, &status, 0);
    while (pid < 0 && errno == EINTR);
    if (pid < 0) throw RecorderError(std::string("waiting for a run's process: ") + std::strerror(errno));
    const auto worker = workers_.find(pid);
    if (worker == workers_.end()) return;  // not one of ours
    const EnsembleRun& run = runs_[worker->second];
    workers_.erase(worker);
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && run_is_complete(spec_, run, out_);
    // A worker that fails says why itself; these are the failures it cannot report.
    if (!ok && WIFSIGNALED(status))
      std::fprintf(stderr, "\nerror: run %s: its process was killed by signal %d\n", run.name.c_str(), WTERMSIG(status));
    else if (!ok && WIFEXITED(status) && WEXITSTATUS(status) == 0)
      std::fprintf(stderr, "\nerror: run %s: its process ended without publishing its output\n", run.name.c_str());
    finish(run.index, ok ? State::done : State::failed, ok ? RunOutcome::from_first_day : RunOutcome::skipped);
  }

  void finish(int index, State state, RunOutcome outcome) {
    state_[index] = state;
    if (state == State::failed) failed_.push_back(runs_[index].name);
    else progress_.run_done(runs_[index], outcome, static_cast<int>(runs_.size()));
    for (const auto& family : families_)
      if (std::find(family.begin(), family.end(), index) != family.end() && all_done(family))
        remove_branch_states(runs_, family, out_);
  }

  bool all_done(const std::vector<int>& family) const {
    return std::all_of(family.begin(), family.end(), [&](int i) { return state_[i] == State::done; });
  }

  const EnsembleSpec& spec_;
  const fs::path& out_;
  const EnsembleArgs& args_;
  EnsembleProgress& progress_;
  const std::vector<EnsembleRun> runs_;
  const std::vector<std::vector<int>> families_;
  std::vector<State> state_;
  std::map<pid_t, int> workers_;  // process → run index
  // The coordinator's folder, resolved once: every worker shares it whatever its environment.
  fs::path spin_up_cache_;
  std::vector<std::string> failed_;
};

int ensemble_command(const EnsembleArgs& a, const Ranks& ranks) {
  if (!a.run.empty()) return ensemble_worker(a);
  if (a.jobs > 1 && ranks.size > 1)
    throw CLI::ValidationError("-j", "runs several runs at once on one machine; under MPI the ranks share the runs "
                                     "out already: leave -j at 1 (or run without mpirun)");
  const EnsembleSpec spec = load_ensemble_spec(a.spec);
  const fs::path out = a.output;
  // Rank 0 holds the folder for the whole ensemble: a second ensemble into it is refused at once.
  std::optional<OutputLock> folder_lock;
  if (ranks.rank == 0) {
    folder_lock.emplace(out);
    prepare_output_folder(spec, out);
  }
  if (!ranks.all_succeeded(true)) return kRuntimeFailure;
  const auto runs = plan_runs(spec);
  std::string failure;
  {
    EnsembleProgress progress(runs.size(), ranks.size, !a.quiet && ranks.rank == 0 && ProgressBar::stderr_is_terminal());
    failure = a.jobs > 1 ? ProcessPool(spec, out, a, progress).run() : run_share_serially(spec, out, a, ranks, progress);
  }
  if (!failure.empty()) std::fprintf(stderr, "error: %s\n", failure.c_str());
  if (!ranks.all_succeeded(failure.empty())) return kRuntimeFailure;
  if (ranks.rank == 0) {
    write_master_file(spec, out);
    const std::string sets = spec.parameter_sets.empty()
                                 ? std::string()
                                 : ", " + std::to_string(spec.parameter_sets.size()) + " parameter sets";
    std::printf("%s: %zu runs (%zu scenarios × %zu points × %d replicates%s) in %s; master file %s\n",
                spec.name.c_str(), runs.size(), spec.scenarios.size(), spec.points.size(), spec.replicates,
                sets.c_str(), out.c_str(), (out / "ensemble.h5").c_str());
  }
  return 0;
}

struct CompareArgs {
  std::string master;
  std::string output;
  bool force = false;
  std::vector<std::string> metrics;
  double confidence = 0.95;
};

void write_comparison_csv(std::FILE* out, const std::vector<ComparisonRow>& rows) {
  std::fprintf(out, "scenario,point,metric,ward,group,baseline_mean,scenario_mean,difference,ci_low,ci_high,replicates,method\n");
  for (const auto& r : rows)
    std::fprintf(out, "%s,%d,%s,\"%s\",%s,%.9g,%.9g,%.9g,%.9g,%.9g,%d,%s\n", r.scenario.c_str(), r.point,
                 r.metric.c_str(), r.ward.c_str(), r.group.c_str(), r.baseline_mean, r.scenario_mean, r.difference,
                 r.low, r.high, r.replicates, r.paired ? "paired" : "welch");
}

int compare_command(const CompareArgs& a) {
  CompareOptions options;
  options.metrics = a.metrics;
  options.confidence = a.confidence;
  if (!a.output.empty()) {
    // Never the master file it reads (nor another name for it), even with --force.
    std::error_code error;
    if (fs::equivalent(a.output, a.master, error) ||
        fs::weakly_canonical(a.output, error) == fs::weakly_canonical(a.master, error))
      throw CLI::ValidationError("--output", a.output + " is the master file being compared (" + a.master +
                                                 "); choose another output file");
    // Refused before the comparison, which can take long; checked again when it is published.
    refuse_existing_output(a.output, a.force, "pass --force to overwrite");
  }
  const auto rows = compare_ensemble(a.master, options);
  for (const std::string& warning : comparison_warnings(a.master, rows)) std::cerr << "warning: " << warning << '\n';
  if (!a.output.empty())
    replace_atomically(a.output, [&](const fs::path& partial) {
      const int fd = create_exclusively(partial);
      std::FILE* file = ::fdopen(fd, "w");
      if (!file) {
        const int error = errno;
        ::close(fd);
        throw RecorderError(partial.string() + ": cannot create (" + std::strerror(error) + ")");
      }
      write_comparison_csv(file, rows);
      const bool written = std::ferror(file) == 0;
      const int error = errno;
      if (std::fclose(file) != 0 || !written)
        throw RecorderError(partial.string() + ": cannot write (" + std::strerror(written ? errno : error) + ")");
    }, a.force, "pass --force to overwrite");
  // The city-wide rows on screen; every ward and group in the CSV.
  std::printf("%-14s %5s %-28s %12s %12s %12s   %.0f%% interval (%s)\n", "scenario", "point", "metric", "baseline",
              "scenario", "difference", a.confidence * 100, rows.empty() || rows[0].paired ? "paired" : "Welch");
  for (const auto& r : rows)
    if (r.ward == "all" && r.group == "all")
      std::printf("%-14s %5d %-28s %12.6g %12.6g %12.6g   [%.6g, %.6g]\n", r.scenario.c_str(), r.point, r.metric.c_str(),
                  r.baseline_mean, r.scenario_mean, r.difference, r.low, r.high);
  if (a.output.empty()) std::printf("(every ward and group: pass -o FILE.csv)\n");
  return 0;
}

}  // namespace

int dispatch(int argc, char** argv);

int main(int argc, char** argv) {
  const int code = dispatch(argc, argv);
  // After a failed write (full disk...) HDF5 1.10.8 keeps the file it could not close and
  // crashes (SIGSEGV) flushing it again at library shutdown: a failed command leaves without
  // the atexit handlers, its messages flushed, so its exit code is the one it chose.
  if (code != 0) {
    std::fflush(nullptr);
    std::_Exit(code);
  }
  return code;
}

namespace {

// The chosen subcommand's work, keyed by the subcommand it belongs to; the options it parsed
// live in its closure.
using Commands = std::vector<std::pair<CLI::App*, std::function<int()>>>;

void add_run_command(CLI::App& app, Commands& commands) {
  auto run = std::make_shared<RunArgs>();
  auto* run_cmd = app.add_subcommand("run", "Run a scenario and record its trajectories to HDF5");
  run_cmd->add_option("scenario", run->scenario, "Scenario file (TOML)")->required()->check(CLI::ExistingFile);
  run_cmd->add_option("-o,--output", run->output, "Output HDF5 file (default: results/<scenario>.h5)");
  run_cmd->add_option("--threads", run->threads, "Worker threads (default: the scenario's, 0 = every core)")
      ->check(CLI::Range(0, 1024));
  run_cmd->add_option("--seed", run->seed, "Random seed, 0 to 2^63 - 1 (overrides [simulation] seed)")
      ->check(CLI::Validator([](std::string& text) { return check_seed(text); }, "SEED", "seed"));
  run_cmd->add_option("--replicate", run->replicate,
                      "Replicate number (overrides [simulation] replicate; keys the random streams)");
  run_cmd->add_option("--until", run->until, "Stop after this date (YYYY-MM-DD) instead of the scenario's end");
  auto* checkpoint_at =
      run_cmd->add_option("--checkpoint-at", run->checkpoint_at,
                          "Save the full state at the end of this date (YYYY-MM-DD) to a checkpoint, then carry on");
  run_cmd
      ->add_option("--checkpoint", run->checkpoint,
                   "Checkpoint file for --checkpoint-at (default: the output with .checkpoint.h5)")
      ->needs(checkpoint_at);
  run_cmd
      ->add_option("--from-checkpoint", run->from_checkpoint,
                   "Continue from a checkpoint: the scenario may differ only in timeline items dated after it "
                   "and in its end; the output holds the whole history")
      ->check(CLI::ExistingFile);
  run_cmd->add_flag("--force", run->force, "Overwrite an existing output file (and checkpoint)");
  run_cmd
      ->add_option("--resume-every", run->resume_every,
                   "Days between automatic checkpoints to OUTPUT.resume, from which the same command "
                   "continues after a crash (default 365; 0: none)")
      ->check(CLI::Range(0, 1000000));
  run_cmd->add_flag("--no-resume", run->no_resume, "Start from the first day even if OUTPUT.resume exists");
  run_cmd->add_option("--spin-up-cache", run->spin_up_cache,
                      "Folder of spin-up states, shared by runs that agree on everything before their start "
                      "(default: $CONTACTSIM_CACHE, else $XDG_CACHE_HOME/contactsim, else ~/.cache/contactsim)");
  run_cmd->add_flag("--no-spin-up-cache", run->no_spin_up_cache,
                    "Simulate the spin-up (simulation.spin_up_days) without looking in or writing to the cache");
  run_cmd->add_flag("-q,--quiet", run->quiet, "No progress display");
  run_cmd->add_option("--record-fd", run->record_fd, "One byte to this file descriptor per record written (tests)")
      ->group("");  // hidden: a hook for the crash tests, not a user option
  run_cmd->add_flag("--check-invariants", run->check_invariants,
                    "Check after every day that values stay in range, nobody is in two sessions at once, "
                    "populations balance and budgets stay >= 0; stop with an error naming the day and agent "
                    "(always on in a CONTACTSIM_CHECKED build)");
  commands.emplace_back(run_cmd, [run] { return run_command(*run); });
}

void add_validate_command(CLI::App& app, Commands& commands) {
  auto file = std::make_shared<std::string>();
  auto* validate_cmd = app.add_subcommand("validate", "Check a scenario file without running it");
  validate_cmd->add_option("scenario", *file, "Scenario file (TOML)")->required()->check(CLI::ExistingFile);
  commands.emplace_back(validate_cmd, [file] { return validate_command(*file); });
}

void add_info_command(CLI::App& app, Commands& commands) {
  auto file = std::make_shared<std::string>();
  auto* info_cmd = app.add_subcommand("info", "Describe what an output file contains");
  info_cmd->add_option("output", *file, "contactsim output (HDF5)")->required()->check(CLI::ExistingFile);
  commands.emplace_back(info_cmd, [file] {
    std::cout << describe_output(*file);
    return 0;
  });
}

void add_params_command(CLI::App& app, Commands& commands) {
  auto as_markdown = std::make_shared<bool>(false);
  auto* params_cmd = app.add_subcommand("params", "Print every parameter with its default, range, unit and source");
  params_cmd->add_flag("--markdown", *as_markdown, "As the Markdown of docs/parameters.md");
  commands.emplace_back(params_cmd, [as_markdown] { return *as_markdown ? params_markdown() : params_command(); });
}

void add_outputs_command(CLI::App& app, Commands& commands) {
  auto file = std::make_shared<std::string>();
  auto as_markdown = std::make_shared<bool>(false);
  auto* outputs_cmd = app.add_subcommand(
      "outputs", "List the series a run of a scenario writes (path, dimensions, type, units); builds its city");
  outputs_cmd->add_option("scenario", *file, "Scenario file (TOML)")->required()->check(CLI::ExistingFile);
  outputs_cmd->add_flag("--markdown", *as_markdown,
                        "As the Markdown of docs/outputs.md: every series the scenario's mechanisms declare, and "
                        "when each is written");
  commands.emplace_back(outputs_cmd, [file, as_markdown] { return outputs_command(*file, *as_markdown); });
}

void add_ensemble_command(CLI::App& app, Commands& commands) {
  auto ensemble = std::make_shared<EnsembleArgs>();
  auto* ensemble_cmd = app.add_subcommand(
      "ensemble", "Run a baseline, counterfactuals and sweeps for several replicates (resumable; MPI-aware)");
  ensemble_cmd->add_option("spec", ensemble->spec, "Ensemble spec (TOML)")->required()->check(CLI::ExistingFile);
  ensemble_cmd->add_option("-o,--output", ensemble->output, "Output folder (one file per run + ensemble.h5)")
      ->required();
  ensemble_cmd->add_option("--threads", ensemble->threads, "Worker threads per run (overrides the spec's)")
      ->check(CLI::Range(0, 1024));
  ensemble_cmd
      ->add_option("-j,--jobs", ensemble->jobs,
                   "Runs at once, each in its own process (default 1); the output is the same whatever N")
      ->check(CLI::Validator([](std::string& text) { return check_jobs(text); }, "N", "jobs"));
  ensemble_cmd->add_flag("--no-branch", ensemble->no_branch,
                         "Simulate every counterfactual from its first day instead of continuing its baseline's "
                         "state from the day before they differ (the same output, more time)");
  ensemble_cmd->add_option("--spin-up-cache", ensemble->spin_up_cache,
                           "Folder of spin-up states shared with other runs and ensembles of the same city (default: "
                           "$CONTACTSIM_CACHE, else $XDG_CACHE_HOME/contactsim, else ~/.cache/contactsim, as for run)");
  ensemble_cmd->add_flag("--no-spin-up-cache", ensemble->no_spin_up_cache,
                         "Keep the spin-ups in OUTPUT/spin-up, this ensemble's own (each replicate's still simulated once)")
      ->excludes("--spin-up-cache");
  ensemble_cmd->add_flag("-q,--quiet", ensemble->quiet, "No progress display");
  ensemble_cmd->add_option("--run", ensemble->run, "Run only this run (the worker of -j)")->group("");
  commands.emplace_back(ensemble_cmd, [ensemble] {
    const Ranks ranks;
    return ensemble_command(*ensemble, ranks);
  });
}

void add_compare_command(CLI::App& app, Commands& commands) {
  auto compare = std::make_shared<CompareArgs>();
  auto* compare_cmd = app.add_subcommand("compare", "Paired differences of every scenario against the baseline");
  compare_cmd->add_option("master", compare->master, "An ensemble's ensemble.h5")->required()->check(CLI::ExistingFile);
  compare_cmd->add_option("-o,--output", compare->output, "Write every metric × ward × group row as CSV");
  compare_cmd->add_flag("--force", compare->force, "Overwrite an existing output file");
  compare_cmd->add_option("--metric", compare->metrics, "Metrics to compare (default: all)");
  compare_cmd->add_option("--confidence", compare->confidence, "Interval coverage (default 0.95)")
      ->check(CLI::Range(0.5, 0.999));
  commands.emplace_back(compare_cmd, [compare] { return compare_command(*compare); });
}

// `export` and `report` are the Python package's (they read through its labelled readers and
// draw with matplotlib): the command hands them over whole, so analysts need one name. Listed
// here for --help only; dispatch() forwards them before parsing.
constexpr std::array<const char*, 2> kPythonCommands{"export", "report"};

void add_python_commands(CLI::App& app) {
  app.add_subcommand("export", "A run or an ensemble as a long CSV for R and Stata, or netCDF (Python package)");
  app.add_subcommand("report", "A run or an ensemble as one self-contained HTML page with figures (Python package)");
}

bool is_python_command(int argc, char** argv) {
  return argc > 1 && std::any_of(kPythonCommands.begin(), kPythonCommands.end(),
                                 [&](const char* name) { return std::strcmp(argv[1], name) == 0; });
}

// Replaces this process with `python3 -m contactsim ARGS...`: its exit code is the command's.
// Returns only when that cannot start.
int forward_to_python([[maybe_unused]] int argc, char** argv) {
#if defined(CONTACTSIM_PYTHON_EXECUTABLE) && defined(CONTACTSIM_PYTHON_DIR)
  const std::string python = CONTACTSIM_PYTHON_EXECUTABLE;
  const fs::path package = CONTACTSIM_PYTHON_DIR;
  if (::access(python.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "error: contactsim %s runs in Python, but the interpreter %s this build was made for is "
                 "missing (%s); install it (make deps) or rebuild\n", argv[1], python.c_str(), std::strerror(errno));
    return kRuntimeFailure;
  }
  if (!fs::is_regular_file(package / "contactsim" / "__main__.py")) {
    std::fprintf(stderr, "error: contactsim %s runs in Python, but the contactsim package is not in %s; build it "
                 "(make build, or cmake --build BUILD --target contactsim_python)\n", argv[1], package.c_str());
    return kRuntimeFailure;
  }
  const char* inherited = std::getenv("PYTHONPATH");
  const std::string path = package.string() + (inherited && *inherited ? ":" + std::string(inherited) : "");
  ::setenv("PYTHONPATH", path.c_str(), 1);
  std::vector<char*> args{const_cast<char*>(python.c_str()), const_cast<char*>("-m"), const_cast<char*>("contactsim")};
  args.insert(args.end(), argv + 1, argv + argc);
  args.push_back(nullptr);
  ::execv(python.c_str(), args.data());
  std::fprintf(stderr, "error: contactsim %s: cannot start %s (%s)\n", argv[1], python.c_str(), std::strerror(errno));
#else
  std::fprintf(stderr, "error: contactsim %s runs in Python, and this build leaves the Python package out "
               "(CONTACTSIM_BUILD_PYTHON=OFF); reconfigure with it ON\n", argv[1]);
#endif
  return kRuntimeFailure;
}

int failure(const std::exception& e, int code) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return code;
}

// Runs the chosen command: bad input (scenario, flags) exits 2, any other failure 1.
int run_chosen(const Commands& commands) try {
  for (const auto& [subcommand, work] : commands)
    if (*subcommand) {
      try {
        return work();
      } catch (const std::bad_alloc&) {
        // what() is only "std::bad_alloc": say what ran out, and what helps.
        std::fprintf(stderr,
                     "error: out of memory while running `contactsim %s` (a memory limit such as ulimit -v, or too "
                     "little free memory: `contactsim validate` estimates what a scenario needs; a smaller "
                     "population.scale or fewer recorded agents need less)\n",
                     subcommand->get_name().c_str());
        return kRuntimeFailure;
      }
    }
  return 0;
} catch (const ConfigError& e) {
  return failure(e, kBadInput);
} catch (const CLI::ValidationError& e) {
  return failure(e, kBadInput);
} catch (const std::exception& e) {
  return failure(e, kRuntimeFailure);  // RecorderError (I/O) among them
}

}  // namespace

int dispatch(int argc, char** argv) {
  if (is_python_command(argc, argv)) return forward_to_python(argc, argv);
  CLI::App app{"contactsim — agent-based simulation of intergroup contact in a city's wards"};
  app.set_version_flag("--version", std::string("contactsim ") + kVersion + " (" + kGitRevision + ")");
  app.require_subcommand(1);
  // In this order in --help.
  Commands commands;
  add_run_command(app, commands);
  add_validate_command(app, commands);
  add_info_command(app, commands);
  add_params_command(app, commands);
  add_outputs_command(app, commands);
  add_ensemble_command(app, commands);
  add_compare_command(app, commands);
  add_python_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kBadInput;
  }
  return run_chosen(commands);
}
