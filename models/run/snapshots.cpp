#include "models/run/snapshots.hpp"

#include "models/city/purposes.hpp"

namespace contactsim {
namespace {

// Field widths of one sampled resident, in the order write() lays them out.
constexpr std::size_t kIdentityBytes = 1 + 1 + 2 + 4;  // group, age_band, ward, block (slot is written once)
constexpr std::size_t kTraitBytes = 4 + 4 + 4 + 4;         // english, anxiety, positive and negative memory
constexpr std::size_t kFriendBytes = 1 + 1;                // friends, cross_group_friends
constexpr std::size_t kTensionBytes = 4 + 4;               // knowledge, trust

template <class T, class Source>
std::vector<T> gather(const std::vector<std::uint32_t>& panel, Source&& value_of) {
  std::vector<T> out;
  out.reserve(panel.size());
  for (const std::uint32_t i : panel) out.push_back(static_cast<T>(value_of(i)));
  return out;
}

std::string selection_text(double sample) {
  return "fixed panel of resident slots drawn once: slot i is sampled when the keyed uniform draw (seed, "
         "replicate; entity i, day 0, purpose " +
         std::to_string(purpose::kSnapshotSample) + ") is below " + std::to_string(sample) +
         "; a slot re-used by a newcomer or newborn stays in the panel";
}

}  // namespace

std::optional<SnapshotInterval> parse_snapshot_interval(std::string_view text) {
  if (text == "day") return SnapshotInterval::day;
  if (text == "week") return SnapshotInterval::week;
  if (text == "month") return SnapshotInterval::month;
  if (text == "year") return SnapshotInterval::year;
  return std::nullopt;
}

const char* to_string(SnapshotInterval interval) {
  switch (interval) {
    case SnapshotInterval::day: return "day";
    case SnapshotInterval::week: return "week";
    case SnapshotInterval::month: return "month";
    case SnapshotInterval::year: return "year";
  }
  return "?";
}

bool snapshot_due(Date date, Date start, Date end, SnapshotInterval interval) {
  if (date == end) return true;
  switch (interval) {
    case SnapshotInterval::day: return closes_period(date, start, RecordInterval::day);
    case SnapshotInterval::week: return closes_period(date, start, RecordInterval::week);
    case SnapshotInterval::month: return closes_period(date, start, RecordInterval::month);
    case SnapshotInterval::year: return date.month() == 12 && date.day() == 31;
  }
  return false;
}

std::int64_t snapshot_days(Date start, Date end, SnapshotInterval interval) {
  std::int64_t days = 0;
  for (Date d = start; d <= end; ++d) days += snapshot_due(d, start, end, interval) ? 1 : 0;
  return days;
}

std::size_t snapshot_bytes_per_resident(int groups, bool friendships, bool tension) {
  return kIdentityBytes + kTraitBytes + 4 * static_cast<std::size_t>(groups) + (friendships ? kFriendBytes : 0) +
         (tension ? kTensionBytes : 0);
}

AgentSnapshots::AgentSnapshots(const SnapshotSettings& settings, std::size_t residents, StreamKey key)
    : settings_(settings), residents_(residents) {
  if (!settings_.enabled) return;
  for (std::size_t i = 0; i < residents; ++i) {
    RandomStream rng(key, static_cast<std::uint32_t>(i), 0, purpose::kSnapshotSample);
    if (rng.uniform() < settings_.sample) panel_.push_back(static_cast<std::uint32_t>(i));
  }
}

namespace {

// The growing arrays in the order write() fills them (values empty: only name, type, width).
std::vector<ArrayColumn> snapshot_layout(int groups, bool friendships, bool tension) {
  std::vector<ArrayColumn> columns{
      {"group", std::vector<std::uint8_t>{}, 1, "Row of /groups"},
      {"age_band", std::vector<std::uint8_t>{}, 1, "0 child (0-10), 1 youth (11-17), 2 adult (18-64), 3 older (65+)"},
      {"ward", std::vector<std::uint16_t>{}, 1, "Row of /wards"},
      {"block", std::vector<std::uint32_t>{}, 1, "City-wide neighbourhood block id"},
      {"english", std::vector<float>{}, 1, "English proficiency, 0-1"},
      {"anxiety", std::vector<float>{}, 1, "Intergroup anxiety, 0-1"},
      {"warmth", std::vector<float>{}, static_cast<std::size_t>(groups),
       "Warmth toward each group of /groups (feeling thermometer / 100)"},
      {"positive_memory", std::vector<float>{}, 1, "Decaying count of positive intergroup encounters"},
      {"negative_memory", std::vector<float>{}, 1, "Decaying count of negative intergroup encounters"},
  };
  if (friendships) {
    columns.push_back({"friends", std::vector<std::uint8_t>{}, 1, "Friends (in-group and cross-group)"});
    columns.push_back({"cross_group_friends", std::vector<std::uint8_t>{}, 1, "Friends in another group"});
  }
  if (tension) {
    columns.push_back({"knowledge", std::vector<float>{}, 1, "Knowing how things work locally, 0-1"});
    columns.push_back({"trust", std::vector<float>{}, 1, "Trust in local services, 0-1"});
  }
  return columns;
}

}  // namespace

void AgentSnapshots::define(Recorder& recorder, int groups, bool friendships, bool tension) {
  friendships_ = friendships;
  tension_ = tension;
  const ArrayColumn slots{"slot", panel_, 1,
                          "Resident slot id of each panel row (a slot re-used after a departure or death holds a "
                          "new person)"};
  arrays_ = recorder.define_arrays(
      "agents", panel_.size(), {slots}, snapshot_layout(groups, friendships, tension),
      {{"description", std::string("Sampled agent snapshots: each field is (snapshot, panel row[, group])")},
       {"interval", std::string(to_string(settings_.interval))},
       {"sample", settings_.sample},
       {"residents", static_cast<std::int64_t>(residents_)},
       {"sampled", static_cast<std::int64_t>(panel_.size())},
       {"selection", selection_text(settings_.sample)}});
}

void AgentSnapshots::write(Recorder& recorder, Date date, const Residents& r, const Friendships* friendships,
                           const TensionState* tension) const {
  const std::size_t groups = static_cast<std::size_t>(r.num_groups);
  std::vector<float> warmth;
  warmth.reserve(panel_.size() * groups);
  for (const std::uint32_t i : panel_) warmth.insert(warmth.end(), r.warmth_of(i), r.warmth_of(i) + groups);
  std::vector<ArrayColumn> columns;
  auto add = [&](const char* name, auto values, std::size_t width = 1) {
    columns.push_back(ArrayColumn{name, std::move(values), width, {}});
  };
  add("group", gather<std::uint8_t>(panel_, [&](std::uint32_t i) { return r.group[i]; }));
  add("age_band", gather<std::uint8_t>(panel_, [&](std::uint32_t i) { return r.age_band[i]; }));
  add("ward", gather<std::uint16_t>(panel_, [&](std::uint32_t i) { return r.ward[i]; }));
  add("block", gather<std::uint32_t>(panel_, [&](std::uint32_t i) { return r.block[i]; }));
  add("english", gather<float>(panel_, [&](std::uint32_t i) { return r.english[i]; }));
  add("anxiety", gather<float>(panel_, [&](std::uint32_t i) { return r.anxiety[i]; }));
  add("warmth", std::move(warmth), groups);
  add("positive_memory", gather<float>(panel_, [&](std::uint32_t i) { return r.positive_memory[i]; }));
  add("negative_memory", gather<float>(panel_, [&](std::uint32_t i) { return r.negative_memory[i]; }));
  if (friendships_) {
    add("friends", gather<std::uint8_t>(panel_, [&](std::uint32_t i) { return friendships->degree(i); }));
    add("cross_group_friends",
        gather<std::uint8_t>(panel_, [&](std::uint32_t i) { return friendships->cross_group_friends(i); }));
  }
  if (tension_) {
    add("knowledge", gather<float>(panel_, [&](std::uint32_t i) { return tension->knowledge[i]; }));
    add("trust", gather<float>(panel_, [&](std::uint32_t i) { return tension->trust[i]; }));
  }
  recorder.append_arrays(arrays_, date.iso(), columns);
}

}  // namespace contactsim
