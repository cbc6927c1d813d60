#pragma once
// A run: the world built once, the daily phases in DESIGN §3 order, and the recorder fed at
// the end of every recording period. The CLI, the Python bindings and the benchmarks all drive
// this one class.
#include "core/links.hpp"
#include "core/recorder.hpp"
#include "core/scheduler.hpp"
#include "models/city/encounters.hpp"
#include "models/mechanisms/mechanism.hpp"
#include "models/run/checkpoint.hpp"
#include "models/run/invariants.hpp"
#include "models/run/metrics.hpp"
#include "models/run/scenario.hpp"
#include "models/run/snapshots.hpp"
#include "models/city/world.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>

namespace contactsim {

struct RunOptions {
  std::optional<std::uint64_t> seed;   // overrides [simulation] seed
  std::optional<std::uint32_t> replicate;  // overrides [simulation] replicate
  std::optional<int> threads;          // overrides [simulation] threads (0 = every core)
  std::optional<Date> until;           // stop after this day instead of [simulation] end
  bool check_invariants = false;       // check models/run/invariants.hpp after every day (always on in a checked build)
  // A folder of spin-up states (checkpoints at the day before the start, one per city, settings,
  // seed and replicate): a run whose spin-up is there restores it instead of simulating it, and
  // a run that simulates one leaves it there. Unset: every run simulates its own.
  std::optional<std::filesystem::path> spin_up_cache;
};

class Simulation {
 public:
  Simulation(Scenario scenario, const RunOptions& options = {});
  // Continues a run from a checkpoint (save_checkpoint, checkpoint_at): builds the world from
  // `scenario`, checks that it is the checkpointed city with the same seed, replicate, start,
  // settings and dated items up to the checkpoint's date — it may differ in items dated after
  // it and in simulation.end — then takes every mutable state from the file; the next day to
  // simulate is the one after the checkpoint. A recorder attached before the first step gets
  // the checkpoint's records first (written by that step, after anything the caller adds between
  // attach() and it), so the output holds the whole history. Throws
  // CheckpointError naming the file and what differs or is damaged.
  Simulation(Scenario scenario, const std::filesystem::path& checkpoint, const RunOptions& options = {});
  // How the run's spin-up was obtained: "none" (spin_up_days = 0), "simulated" or "cache"
  // (restored from RunOptions::spin_up_cache), or "checkpoint" for a run continued from one.
  const std::string& spin_up_source() const { return spin_up_source_; }
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Writes provenance, tables and series definitions; from now on every period is recorded.
  void attach(Recorder& recorder);
  // Stops recording (before the recorder is closed); later periods are not written. A restored
  // run's records not yet written (attached, never stepped) are written first.
  void detach() {
    write_history();
    recorder_ = nullptr;
  }

  // Makes `date` the last day (at most the scenario's end): the period closing on it is the
  // final record, as with the CLI's --until. Throws std::invalid_argument for a day already
  // simulated.
  void end_at(Date date);

  // Simulates up to `days` days (fewer at the end date). Returns the number simulated.
  int step(int days);
  // Runs to the end; `progress` (if set) is called after each day with the date just done.
  void run(const std::function<void(Date)>& progress = {});

  // Writes a checkpoint of the state after the last simulated day to `path` (atomically: a
  // temporary file in the same directory, renamed). Throws CheckpointError before the first
  // day, or after a final day whose record was forced early (use checkpoint_at for that day),
  // and RecorderError when the file cannot be written, when `path` exists and `overwrite` is
  // false, or when `path` is anything but a regular file (a directory, a device, a FIFO).
  void save_checkpoint(const std::filesystem::path& path, bool overwrite = false) const;
  // Writes a checkpoint at the end of `date` (not yet simulated, at most end()) while running,
  // after that day's regular record and before a final record forced by the run's end. May be
  // asked for several days (an ensemble's baseline leaves one per day its counterfactuals
  // branch at); asking again for the same day replaces its path.
  void checkpoint_at(Date date, std::filesystem::path path);
  // The checkpoint's date, for a run restored from one.
  std::optional<Date> restored_after() const { return restored_after_; }
  // For a run resumed after a crash (the CLI's <output>.resume): the output is the one the
  // uninterrupted run writes, without the restored_from / restored_after attributes.
  void record_as_uninterrupted() { announce_restore_ = false; }

  Date start() const { return scenario_.simulation.start; }
  Date end() const { return end_; }
  Date date() const { return today_; }  // the next day to simulate
  bool finished() const { return today_ > end_; }

  const Scenario& scenario() const { return scenario_; }
  const World& world() const { return world_; }
  // Each venue's member count as the city was built: the output's /venues table, so a run
  // continued from a checkpoint (when mobility has moved members since) writes the same table.
  const std::vector<std::uint32_t>& venue_members_at_start() const { return venue_members_at_start_; }
  std::uint64_t seed() const { return key_.seed; }
  std::uint32_t replicate() const { return key_.replicate; }
  int threads() const { return threads_; }
  std::vector<GroupSummary> summary() const { return metrics_.summary(today_ + -1); }
  const Scheduler& scheduler() const { return scheduler_; }
  std::int64_t intergroup_encounters() const;
  std::int64_t attendances() const { return attendances_; }
  // Wall-clock seconds spent computing and writing records (metrics, events, HDF5).
  double recording_seconds() const { return recording_seconds_; }
  // What the mechanisms published (models/mechanisms/*: "programmes", "friendships", "tension",
  // ...), or null when the mechanism does not run.
  template <class T>
  const T* link(const std::string& name) const { return links_.find<const T>(name); }
  // Whether every day ends with the invariant checks (RunOptions::check_invariants or a checked build).
  bool checks_invariants() const { return invariants_ != nullptr; }
  const AgentSnapshots& snapshots() const { return snapshots_; }

 private:
  struct Restoring {};  // the checkpoint constructor's tag: no spin-up, the checkpoint has it
  Simulation(Scenario scenario, const RunOptions& options, std::optional<Restoring> restoring);
  void build_mechanisms();
  // Simulates the days before the start (or restores them from the cache), then forgets what
  // they counted: the series start at the start.
  void spin_up(const std::optional<std::filesystem::path>& cache);
  void share_spin_up(const std::filesystem::path& cached);
  // One day of the phases (and the invariant checks), without recording or advancing the date.
  void advance_day();
  void simulate_day();
  // Drops the open period's tallies and events unrecorded.
  void discard_period();
  // Records the period ending today (or, without a recorder, starts a new one).
  void close_period(bool last);
  void define_series(Recorder& recorder);
  // Writes the restored checkpoint's records into the attached recorder (once, before the first
  // day this run simulates).
  void write_history();
  void write_events();
  void write_snapshot();
  void forget_replaced_residents();
  // Checkpoints (models/run/checkpoint.cpp): the state after `day`, the last simulated.
  void write_checkpoint(const std::filesystem::path& path, Date day, bool overwrite) const;
  void restore_checkpoint(const std::filesystem::path& path);

  Scenario scenario_;
  StreamKey key_;
  int threads_;
  Date end_;
  Date origin_;  // the first simulated day (the spin-up's): Day::index counts from it
  Date today_;
  World world_;
  std::vector<std::uint32_t> venue_members_at_start_;
  // State every mechanism shares: the contact rules, the period's tallies, the event log.
  EncounterRules rules_;
  ContactTally tally_;
  VenueActivity activity_;
  EventLog events_;
  Links links_;
  Metrics metrics_;
  std::vector<Mechanism*> mechanisms_;  // owned by scheduler_, in registry order
  std::vector<std::size_t> mechanism_entry_;  // each one's registry index
  std::vector<std::vector<int>> mechanism_series_;  // each mechanism's series ids
  std::vector<Metrics::DefinedSeries> defined_series_;  // every series, city-wide first
  Scheduler scheduler_;
  Recorder* recorder_ = nullptr;
  std::int64_t attendances_ = 0;
  double recording_seconds_ = 0;
  std::uint64_t structure_hash_ = 0;       // of the world as built (world_structure_hash)
  bool forced_record_ = false;             // the last day was recorded only because the run ended
  std::map<Date, std::filesystem::path> checkpoints_due_;  // checkpoint_at's, by day
  std::optional<Date> restored_after_;
  bool announce_restore_ = true;  // attach() writes restored_from / restored_after
  std::filesystem::path restored_from_;
  std::string spin_up_source_ = "none";
  std::unique_ptr<RecordHistory> history_;  // the checkpoint's records, until attach() writes them
  std::unique_ptr<InvariantChecker> invariants_;  // null unless checking
  AgentSnapshots snapshots_;
};

// Provenance attributes and lookup tables for an output file.
void write_provenance(Recorder& recorder, const Simulation& simulation);

}  // namespace contactsim
