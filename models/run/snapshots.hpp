#pragma once
#include "core/links.hpp"
// Agent snapshots (DESIGN §5, /agents/…): the state of a sample of residents, written
// to the output every day, week, month or year, so individual trajectories can be studied
// where the series only hold (ward, group) means.
//
// Scenario:
//   [record.agents]
//   interval = "month"   # "day", "week", "month" (last day of each) or "year" (31 December)
//   sample = 0.01        # share of resident slots followed
// The run's last day is always snapshotted too, so a run shorter than the interval still has
// its final state.
//
// The sample is a fixed panel of resident *slots*, chosen once: slot i is in it when the keyed
// draw (seed, replicate; entity i, day 0, purpose::kSnapshotSample) falls below `sample`. The
// draw is its own stream, so recording snapshots (or not) never changes a run's results, and a
// baseline and a counterfactual with the same seed follow the same slots. A slot re-used by a
// newcomer or a newborn (mobility) stays in the panel: the person in it changes, which
// `positive_memory` falling to 0 and a new group or age band show.
//
// Output (the panel is fixed, so a snapshot is one row per panel slot, and the file holds them
// as arrays over (snapshot, slot): defined when recording starts, grown by one block per
// snapshot, which keeps the file appendable in place however long the run):
//   /agents/slot        (sampled,)                the panel's resident slots, ascending
//   /agents/date        (snapshots,)              ISO date of each snapshot, written last
//   /agents/<field>     (snapshots, sampled)      group, age_band, ward, block (indexes into
//                       /groups, the age bands child, youth, adult, older, /wards, blocks),
//                       english, anxiety, positive_memory, negative_memory, and when those
//                       mechanisms run friends, cross_group_friends, knowledge, trust
//   /agents/warmth      (snapshots, sampled, groups)  toward each group in /groups order
// Attributes of /agents say what was sampled: sample, interval, residents, sampled, selection.
// Rows of a field beyond len(/agents/date) belong to a snapshot torn by a crash: ignore them.
// (Not one group per date, as DESIGN §5 sketched: the recorder creates nothing after its first
// record, so that a crash at any moment leaves a readable file; see core/recorder.hpp.)
#include "core/calendar.hpp"
#include "core/recorder.hpp"
#include "core/rng.hpp"
#include "models/mechanisms/friendships.hpp"
#include "models/city/state.hpp"
#include "models/mechanisms/tension.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace contactsim {

enum class SnapshotInterval { day, week, month, year };

std::optional<SnapshotInterval> parse_snapshot_interval(std::string_view text);
const char* to_string(SnapshotInterval interval);

struct SnapshotSettings {
  bool enabled = false;  // [record.agents] present
  SnapshotInterval interval = SnapshotInterval::month;
  double sample = 0.01;  // share of resident slots in the panel, (0, 1]
};

// Whether `date` (in a run from `start` to `end`) is a snapshot day.
bool snapshot_due(Date date, Date start, Date end, SnapshotInterval interval);
// Snapshot days in a run from `start` to `end`.
std::int64_t snapshot_days(Date start, Date end, SnapshotInterval interval);
// Bytes one sampled resident takes in one snapshot, uncompressed (for output estimates).
std::size_t snapshot_bytes_per_resident(int groups, bool friendships, bool tension);

class AgentSnapshots {
 public:
  // Draws the panel for `residents` slots (their number; nothing else is read).
  AgentSnapshots(const SnapshotSettings& settings, std::size_t residents, StreamKey key);

  bool enabled() const { return settings_.enabled; }
  const std::vector<std::uint32_t>& panel() const { return panel_; }
  // Creates /agents in a recorder before its first record. `friendships` and `tension` say
  // whether those mechanisms run (their fields are recorded only then).
  void define(Recorder& recorder, int groups, bool friendships, bool tension);
  // Both, with the friendships and tension the run's links offer (absent: their columns are not written).
  void define(Recorder& recorder, int groups, const Links& links);
  void write(Recorder& recorder, Date date, const Residents& residents, const Links& links);
  // Appends the state at the end of `date` to the recorder of the last define(). The
  // mechanisms' states are null when they are off.
  void write(Recorder& recorder, Date date, const Residents& residents, const Friendships* friendships,
             const TensionState* tension) const;

 private:
  SnapshotSettings settings_;
  std::size_t residents_;
  std::vector<std::uint32_t> panel_;  // sampled slots, ascending
  int arrays_ = -1;                   // Recorder::define_arrays id
  bool friendships_ = false, tension_ = false;
};

}  // namespace contactsim
