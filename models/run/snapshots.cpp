#include "models/run/snapshots.hpp"

#include "models/city/purposes.hpp"

#include <type_traits>

namespace contactsim {
namespace {

// Bytes of one sampled resident in the mechanisms' fields (the resident fields come from the
// field list; the slot is written once).
constexpr std::size_t kFriendBytes = 1 + 1;   // friends, cross_group_friends
constexpr std::size_t kTensionBytes = 4 + 4;  // knowledge, trust

// Element types an /agents dataset can hold (ArrayColumn::values).
template <class T>
constexpr bool kRecordable = std::is_constructible_v<decltype(ArrayColumn::values), std::vector<T>>;

// The list's snapshot columns: how many, and that they number 0, 1, … once each with a type an
// /agents dataset can hold.
constexpr int count_snapshot_fields() {
  int count = 0;
  for_each_field([&](const auto& field) { count += field.in_snapshots() ? 1 : 0; });
  return count;
}
constexpr int kSnapshotFields = count_snapshot_fields();

constexpr bool snapshot_columns_valid() {
  bool valid = true;
  for (int column = 0; column < kSnapshotFields; ++column) {
    int found = 0;
    for_each_field([&](const auto& field) {
      if (field.snapshot_column != column) return;
      ++found;
      valid = valid && kRecordable<typename std::decay_t<decltype(field)>::value_type>;
    });
    valid = valid && found == 1;
  }
  return valid;
}
static_assert(snapshot_columns_valid(), "kResidentFields: snapshot columns must be 0, 1, ... once each, of types "
                                        "an /agents dataset holds");

// f(field) for the resident fields in snapshots, in /agents column order.
template <class F>
void for_each_snapshot_field(F&& f) {
  for (int column = 0; column < kSnapshotFields; ++column)
    for_each_field([&](const auto& field) {
      using T = typename std::decay_t<decltype(field)>::value_type;
      if constexpr (kRecordable<T>)
        if (field.snapshot_column == column) f(field);
    });
}

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
  std::size_t bytes = 0;
  for_each_snapshot_field([&](const auto& field) {
    bytes += sizeof(typename std::decay_t<decltype(field)>::value_type) * field.values_per_resident(groups, 0);
  });
  return bytes + (friendships ? kFriendBytes : 0) + (tension ? kTensionBytes : 0);
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
  std::vector<ArrayColumn> columns;
  for_each_snapshot_field([&](const auto& field) {
    using T = typename std::decay_t<decltype(field)>::value_type;
    columns.push_back({field.name, std::vector<T>{}, field.values_per_resident(groups, 0), field.description});
  });
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
  std::vector<ArrayColumn> columns;
  auto add = [&](const char* name, auto values, std::size_t width = 1) {
    columns.push_back(ArrayColumn{name, std::move(values), width, {}});
  };
  for_each_snapshot_field([&](const auto& field) {
    const std::size_t width = field.values_per_resident(r);
    const auto& values = r.*field.member;
    std::vector<typename std::remove_cvref_t<decltype(field)>::value_type> rows;
    rows.reserve(panel_.size() * width);
    for (const std::uint32_t i : panel_) {
      const auto first = values.begin() + static_cast<std::ptrdiff_t>(i * width);
      rows.insert(rows.end(), first, first + static_cast<std::ptrdiff_t>(width));
    }
    add(field.name, std::move(rows), width);
  });
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

void AgentSnapshots::define(Recorder& recorder, int groups, const Links& links) {
  define(recorder, groups, links.has("friendships"), links.has("tension"));
}

void AgentSnapshots::write(Recorder& recorder, Date date, const Residents& residents, const Links& links) {
  write(recorder, date, residents, links.find<const Friendships>("friendships"), links.find<const TensionState>("tension"));
}

}  // namespace contactsim
