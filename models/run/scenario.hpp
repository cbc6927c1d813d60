#pragma once
// A validated, typed scenario: everything a run needs, read from a ConfigDocument.
// Reading a Scenario performs every check (types, ranges, references, census sums); a
// Scenario that exists is runnable. Nothing is written while reading.
#include "core/calendar.hpp"
#include "core/config.hpp"
#include "models/city/attitude.hpp"
#include "models/city/valence.hpp"
#include "models/city/venue_types.hpp"
#include "models/mechanisms/mechanism.hpp"
#include "models/mechanisms/mobility.hpp"  // GroupMigration: who of a group arrives
#include "models/run/metrics.hpp"
#include "models/run/snapshots.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace contactsim {

struct SimulationSettings {
  Date start;
  Date end;  // inclusive
  std::uint64_t seed = 1;
  std::uint32_t replicate = 0;
  int threads = 0;  // 0 = every core
  // Days simulated before `start`, unrecorded, so the run starts from the model's own
  // quasi-equilibrium for its city (read_simulation says why the default is what it is).
  int spin_up_days = kDefaultSpinUpDays;
  static constexpr int kDefaultSpinUpDays = 1095;
  Date origin() const { return start + -spin_up_days; }  // the first simulated day: day index 0
};

struct GroupSpec {
  std::string name;
  std::string label;                 // human-readable, for tables and plots
  double english_mean = 1.0;         // Beta-distributed proficiency
  double english_sd = 0.0;
  double anxiety_mean = 0.3;         // Beta-distributed intergroup anxiety
  double anxiety_sd = 0.1;
  double knowledge = 0.9;            // "knowing how things work" (tension mechanism)
  GroupMigration migration;          // who arrives (mobility mechanism)
  std::vector<double> warmth;        // initial mean warmth toward each group (own included)
  double warmth_sd = 0.15;
  std::vector<double> faith_shares;  // per scenario faith; remainder has none
  std::array<double, kNumAgeBands> age_shares{};
};

struct FaithSpec {
  std::string name;
  double attendance = 1.0;  // multiplies place_of_worship member shares
};

struct WardSpec {
  std::string name;
  std::string code;
};

struct ExplicitVenue {
  std::string name;
  int type = 0;
  int ward = 0;
  std::int32_t capacity = -1;  // -1 = type's default
  int faith = -1;
  double budget = -1;          // annual GBP; -1 = type's default
};

struct PopulationSettings {
  std::string source;  // "census" or "synthetic"
  double scale = 1.0;
  int block_size = 200;
  double block_clustering = 0.5;
  double warmth_correlation = 0.6;
  std::vector<std::vector<std::int64_t>> counts;  // [ward][group], scaled, as simulated
  std::vector<std::vector<std::int64_t>> unscaled_counts;
};

struct RecordSettings {
  RecordInterval interval = RecordInterval::week;
  SnapshotSettings agents;     // [record.agents]: sampled agent snapshots
  double max_output_gb = 100;  // refuse scenarios whose output would be larger (a guard against mistakes)
};

struct Scenario {
  std::filesystem::path path;
  std::string resolved_text;
  std::string sha256;
  // Every file the scenario was read from: it and the files it extends, then any census CSV.
  // No output, even with --force or overwrite=True, may replace one of them.
  std::vector<std::filesystem::path> input_files;

  SimulationSettings simulation;
  PopulationSettings population;
  std::vector<GroupSpec> groups;
  std::vector<FaithSpec> faiths;
  std::vector<WardSpec> wards;
  std::vector<VenueType> venue_types;
  std::vector<ExplicitVenue> venues;

  // The shared contact rules (city/valence.hpp, city/attitude.hpp) and the city-wide metrics.
  MechanismSwitch<ValenceParams> valence;
  MechanismSwitch<AttitudeParams> attitude;
  MetricSettings metrics;
  // One config per registry entry (models/mechanisms/registry.cpp), in registry order.
  std::vector<std::shared_ptr<const MechanismConfig>> mechanisms;
  RecordSettings record;

  int group_index(const std::string& name) const;
  int ward_index(const std::string& name) const;
  int venue_type_index(const std::string& name) const;
  std::vector<std::string> group_names() const;
  std::vector<std::string> ward_names() const;
  std::vector<std::string> venue_type_names() const;
  // The config of registry entry `name`; throws std::out_of_range for a name not in the registry.
  const MechanismConfig& mechanism(const std::string& name) const;
  // Whether mechanism `name` is switched on ([mechanisms.<name>] enabled).
  bool runs(const std::string& name) const { return mechanism(name).enabled; }
  std::int64_t population_size() const;
};

// Throws ConfigError (file:line: key: expected) for anything wrong.
Scenario read_scenario(const ConfigDocument& doc);
Scenario load_scenario(const std::filesystem::path& path);

// What a run of the scenario would need, estimated before anything is built (resource guards:
// read_scenario refuses a city larger than this machine's memory or an output larger than
// record.max_output_gb; check_output_space refuses one larger than the free disk space).
struct ResourceEstimate {
  std::int64_t residents = 0;
  double memory_bytes = 0;           // whole process, ~600 bytes a resident as measured
  std::int64_t records = 0;          // /series records (one per period, plus a final short one)
  double record_bytes = 0;           // one record of every series, uncompressed
  std::int64_t snapshots = 0;        // /agents/<date> groups
  std::int64_t sampled = 0;          // residents per snapshot (expected)
  double snapshot_row_bytes = 0;     // one sampled resident in one snapshot, uncompressed
  double table_bytes = 0;            // provenance, /venues and the other tables, HDF5 metadata
  double series_bytes() const { return static_cast<double>(records) * record_bytes; }
  double snapshot_bytes() const { return static_cast<double>(snapshots * sampled) * snapshot_row_bytes; }
  // Meant as an upper bound: series records compress little (each is its own small chunk).
  double output_bytes() const { return table_bytes + series_bytes() + snapshot_bytes(); }
  // "14.9 MB (tables: 1.55 MB; series: 209 records × 63.8 kB; agent snapshots: none)"
  std::string describe_output() const;
};

// For a run from the scenario's start to `until` (default: its end).
ResourceEstimate estimate_resources(const Scenario& scenario, std::optional<Date> until = {});
// Free bytes on the filesystem that will hold `output` (statvfs of its nearest existing
// directory); negative if unknown.
double free_disk_bytes(const std::filesystem::path& output);
// Throws RecorderError naming `output`, the estimate and the free space when the output would
// not fit in `free_bytes` (negative: unknown, never refused). Writes nothing.
void require_output_space(const ResourceEstimate& estimate, const std::filesystem::path& output, double free_bytes);
// Both of the above, for the run `scenario` describes up to `until`.
void check_output_space(const Scenario& scenario, const std::filesystem::path& output, std::optional<Date> until = {});
// Human-readable byte counts: "155 GB", "83.2 kB".
std::string byte_count(double bytes);

// Every documented parameter default, for `contactsim params` and docs.
std::vector<ParamDescription> parameter_dictionary();

}  // namespace contactsim
