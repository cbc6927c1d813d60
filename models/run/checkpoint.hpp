#pragma once
// Checkpoints: a run's complete state after one day, in an HDF5 file, from which the run — or a
// counterfactual that differs only afterwards — continues exactly as an uninterrupted run would.
//
// Layout (format "contactsim-checkpoint-2"; the first 512 bytes are a seal, core/seal.hpp):
//   /            attributes: format, provenance (version, git revision, scenario path, text and
//                sha256, seed, replicate, threads, start date, checkpoint_date, record interval,
//                created_utc)
//   /structure   the world as built: counts, group / ward / venue-type names and a 64-bit hash
//                of every array of the freshly built world (to refuse a different city)
//   /state       the mutable state after checkpoint_date: residents, venues, the events not yet
//                recorded, the metrics' period and whole-run tallies, and one group per phase
//                (Phase::save); nothing random needs saving: every draw is keyed by (seed,
//                replicate) and counted by (entity, day, purpose)
//   /records     when the run was recording: its /series rows and /events rows so far, so that a
//                run restored from the checkpoint writes the whole history into its own output
// Every array carries a checksum (core/archive.hpp), and the seal one of the whole file.
#include "core/calendar.hpp"
#include "models/run/metrics.hpp"
#include "models/run/scenario.hpp"
#include "models/mechanisms/timeline.hpp"
#include "models/city/world.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace contactsim {

class Recorder;
struct RunOptions;
namespace h5 {
class File;
}

// A checkpoint that cannot be read, or does not fit the scenario it is restored into. what() is
// "<file>: <what is wrong>", naming what differs.
class CheckpointError : public std::runtime_error {
 public:
  CheckpointError(const std::filesystem::path& file, const std::string& problem);
  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
};

// Opens a checkpoint for reading once its seal (core/seal.hpp) shows it whole and undamaged and
// its root attribute `format` names this version's layout. Throws CheckpointError.
h5::File open_checkpoint(const std::filesystem::path& checkpoint);

// 64-bit fingerprint of every array of a world as built (residents, venues, blocks).
std::uint64_t world_structure_hash(const World& world);

// The output records a checkpoint carries, in record order.
struct RecordHistory {
  struct Series {
    std::string name;
    std::variant<std::vector<float>, std::vector<std::int64_t>> values;  // records × record size
  };
  std::vector<std::string> time;  // ISO date of each record
  std::vector<Series> series;
  std::vector<Event> events;
  std::vector<std::int64_t> event_record;  // the record each event was written with
};

// Everything in a checkpoint that can be checked before building the world: that the file is
// a checkpoint, and that `scenario` run with `options` shares its seed, replicate, start date,
// settings and dated items on or before the checkpoint's date, and ends after it. Returns the
// checkpoint's date. Throws CheckpointError.
Date check_checkpoint_scenario(const std::filesystem::path& checkpoint, const Scenario& scenario,
                               const RunOptions& options);

// The last day on which a run of `branch` shares its whole history with a run of `trunk` with the
// same seed and replicate: the day before the first timeline item that differs between them
// takes effect, so a checkpoint of `trunk` at the end of that day continues as `branch`
// (check_checkpoint_scenario accepts it). Nothing when their settings (anything but the
// timeline, the end, the title, threads, seed and replicate) differ, when they differ from the
// start (an undated item, or one acting on or before the start's eve), or when their timelines
// are the same (one history: nothing to branch). The end is not considered: the caller checks
// that both runs reach the day.
std::optional<Date> last_shared_day(const Scenario& trunk, const Scenario& branch);

// The file name of the spin-up state `scenario` run with `key` shares with every run that agrees
// with it before its start: the same city as built (`world_hash`, world_structure_hash) with the
// same contact columns, settings, seed, replicate and library sources, whatever its timeline
// (dated from the start on) and end. A digest, so the name is short; restoring it still checks
// everything check_checkpoint_scenario and the restore check.
std::string spin_up_file_name(const Scenario& scenario, const StreamKey& key, std::uint64_t world_hash);

// Copies the records of an output file being written (its first `records` records of the given
// series, and the events written with them) for a checkpoint.
RecordHistory read_record_history(const std::filesystem::path& output, std::int64_t records,
                                  const std::vector<Metrics::DefinedSeries>& series);

// Writes `history` into a fresh recorder whose series are `series` (Metrics::define_series):
// the same records, in the same order, as the checkpointed run wrote. A series the checkpointed
// run did not record (a timeline programme's series when it had no such items, so the history
// holds none before the checkpoint) is written as zeros; a recorded one this run lacks is left out
// (it must hold only zeros).
void replay_record_history(Recorder& recorder, const RecordHistory& history,
                           const std::vector<Metrics::DefinedSeries>& series, const std::filesystem::path& checkpoint);

}  // namespace contactsim
