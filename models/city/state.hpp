#pragma once
// The simulated city as plain structs of arrays. Built once from a Scenario (build_world in
// models/city/world.hpp), then mutated only by the daily phases, each touching the arrays it
// names in its constructor.
#include "core/packed_records.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <tuple>
#include <type_traits>
#include <vector>

namespace contactsim {

enum class AgeBand : std::uint8_t { child = 0, youth = 1, adult = 2, older = 3 };
inline constexpr int kNumAgeBands = 4;
inline constexpr std::array<const char*, kNumAgeBands> kAgeBandNames{"child", "youth", "adult", "older"};

inline constexpr std::uint8_t kNoFaith = 255;
inline constexpr int kMaxGroups = 16;

// Time slots of a day: an agent attends at most one venue session per slot.
enum class Slot : std::uint8_t { daytime = 0, evening = 1, street = 2 };
inline constexpr int kNumSlots = 3;
inline constexpr std::array<const char*, kNumSlots> kSlotNames{"daytime", "evening", "street"};

// The state every intergroup encounter reads and writes, packed in one cache-line record per
// resident (core/packed_records.hpp): an encounter's two parties may live anywhere in the city,
// and one line each instead of one per array is most of the encounter kernel's memory traffic.
// Each field still reads and writes by index like the std::vector it was (r.anxiety[i],
// r.warmth[i*G + g], r.warmth_of(i)). Copies and moves bind the columns to their own records.
class ContactState {
  PackedRecords records_;  // before the columns, which point at it
  int record_groups_ = 0;

 public:
  PackedColumn<float> english{records_};           // proficiency e in [0,1]
  PackedColumn<float> anxiety{records_};           // intergroup anxiety X in [0,1]
  PackedColumn<float> positive_memory{records_};   // decaying count of positive intergroup encounters
  PackedColumn<float> negative_memory{records_};   // decaying count of negative intergroup encounters
  PackedColumn<std::int32_t> last_intergroup_contact{records_};  // day index of the latest one, -1 = none yet
  PackedColumn<std::uint16_t> ward{records_};
  PackedColumn<std::uint8_t> age_band{records_};
  PackedColumn<float> warmth{records_};            // G per resident: warmth[i*G + g] toward group g

  ContactState() { lay_out(0); }
  ContactState(const ContactState& other) : records_(other.records_) { lay_out(other.record_groups_); }
  ContactState(ContactState&& other) noexcept : records_(std::move(other.records_)) { lay_out(other.record_groups_); }
  ContactState& operator=(const ContactState& other) {
    records_ = other.records_;
    lay_out(other.record_groups_);
    return *this;
  }
  ContactState& operator=(ContactState&& other) noexcept {
    records_ = std::move(other.records_);
    lay_out(other.record_groups_);
    return *this;
  }

  // Records for `residents` residents with warmth toward `groups` groups, every value zero: size
  // them before filling the fields.
  void reshape_contact_state(std::size_t residents, int groups) {
    lay_out(groups);
    records_.reshape(residents, record_bytes(groups));
  }
  std::size_t contact_state_stride() const { return records_.stride(); }
  std::size_t contact_state_bytes() const { return records_.capacity_bytes(); }

 private:
  // english … last_intergroup_contact (4 bytes each), ward (2), age_band (1), then warmth at a
  // multiple of 4.
  static constexpr std::size_t kWarmthOffset = 24;
  static std::size_t record_bytes(int groups) { return kWarmthOffset + 4 * static_cast<std::size_t>(groups); }
  void lay_out(int groups) {
    record_groups_ = groups;
    english.place(0, 1);
    anxiety.place(4, 1);
    positive_memory.place(8, 1);
    negative_memory.place(12, 1);
    last_intergroup_contact.place(16, 1);
    ward.place(20, 1);
    age_band.place(22, 1);
    warmth.place(kWarmthOffset, static_cast<std::size_t>(std::max(groups, 1)));
  }
};

// The per-resident arrays are listed once more, with their names, in kResidentFields below:
// add a new one there too (a test checks that every member is listed).
struct Residents : ContactState {
  std::size_t size() const { return group.size(); }

  int num_groups = 0;
  int num_venue_types = 0;
  std::vector<std::uint8_t> group;
  std::vector<std::uint8_t> faith;      // index into Scenario::faiths, or kNoFaith
  std::vector<std::uint32_t> block;     // city-wide block id
  // Stable personal offset of outgroup warmth from the group's mean (generalised prejudice is a
  // lasting individual difference: Allport 1954; Sibley & Duckitt 2008). Norms pull warmth
  // toward the in-group ward norm plus this offset, so individual differences do not melt away.
  std::vector<float> disposition;
  std::vector<std::int32_t> membership; // size × num_venue_types: the venue i belongs to, or -1

  float* warmth_of(std::size_t i) { return warmth.row(i); }
  const float* warmth_of(std::size_t i) const { return warmth.row(i); }
  std::int32_t member_venue(std::size_t i, int type) const { return membership[i * num_venue_types + type]; }
};

// ---------------------------------------------------------------------------------------------
// The field list: every per-resident array of Residents, named once, in the one fixed order that
// checkpoints (dataset order), world_structure_hash (hashing order), agent snapshots and the
// Python views follow. Reordering or renaming changes checkpoint files and the structure hash
// (tests pin both); a new array goes here as well as into Residents.

// Values each resident holds in a field.
enum class FieldWidth : std::uint8_t { one, groups, venue_types };

// What consumers select fields by.
enum FieldFlag : unsigned {
  kFieldHistory = 1u << 0,  // what has happened to the resident: a re-used slot's new occupant
                            // (newcomer, newborn) starts again from `fresh`
};

// Storage is std::vector<T>, or PackedColumn<T> for the ContactState fields.
template <class T, class Storage = std::vector<T>>
struct ResidentField {
  using value_type = T;
  static constexpr bool packed = !std::is_same_v<Storage, std::vector<T>>;
  const char* name;  // checkpoint dataset, /agents dataset and Python view name
  Storage Residents::*member;
  FieldWidth width;
  T fresh;              // value of a resident nothing has been drawn for or happened to yet
  unsigned flags;       // FieldFlag bits
  int snapshot_column;  // position among the /agents fields, -1 = not in snapshots
  const char* description;  // what it holds (the /agents dataset's description attribute)

  constexpr bool has(FieldFlag flag) const { return (flags & flag) != 0; }
  constexpr bool in_snapshots() const { return snapshot_column >= 0; }
  constexpr std::size_t values_per_resident(int groups, int venue_types) const {
    switch (width) {
      case FieldWidth::one: return 1;
      case FieldWidth::groups: return static_cast<std::size_t>(groups);
      case FieldWidth::venue_types: return static_cast<std::size_t>(venue_types);
    }
    return 1;
  }
  constexpr std::size_t values_per_resident(const Residents& r) const {
    return values_per_resident(r.num_groups, r.num_venue_types);
  }
};

namespace detail {
template <class T>
constexpr ResidentField<T> resident_field(const char* name, std::vector<T> Residents::*member, FieldWidth width,
                                          std::type_identity_t<T> fresh, unsigned flags, int snapshot_column,
                                          const char* description) {
  return {name, member, width, fresh, flags, snapshot_column, description};
}
template <class T>
constexpr ResidentField<T, PackedColumn<T>> resident_field(const char* name, PackedColumn<T> ContactState::*member,
                                                           FieldWidth width, std::type_identity_t<T> fresh,
                                                           unsigned flags, int snapshot_column,
                                                           const char* description) {
  return {name, static_cast<PackedColumn<T> Residents::*>(member), width, fresh, flags, snapshot_column, description};
}
}  // namespace detail

inline constexpr auto kResidentFields = std::tuple{
    detail::resident_field("group", &Residents::group, FieldWidth::one, 0, 0, 0, "Row of /groups"),
    detail::resident_field("age_band", &Residents::age_band, FieldWidth::one, 0, 0, 1,
                           "0 child (0-10), 1 youth (11-17), 2 adult (18-64), 3 older (65+)"),
    detail::resident_field("faith", &Residents::faith, FieldWidth::one, 0, 0, -1,
                           "Index into the scenario's faiths, 255 = none"),
    detail::resident_field("ward", &Residents::ward, FieldWidth::one, 0, 0, 2, "Row of /wards"),
    detail::resident_field("block", &Residents::block, FieldWidth::one, 0, 0, 3, "City-wide neighbourhood block id"),
    detail::resident_field("english", &Residents::english, FieldWidth::one, 0.0f, 0, 4, "English proficiency, 0-1"),
    detail::resident_field("anxiety", &Residents::anxiety, FieldWidth::one, 0.0f, 0, 5, "Intergroup anxiety, 0-1"),
    detail::resident_field("positive_memory", &Residents::positive_memory, FieldWidth::one, 0.0f, kFieldHistory, 7,
                           "Decaying count of positive intergroup encounters"),
    detail::resident_field("negative_memory", &Residents::negative_memory, FieldWidth::one, 0.0f, kFieldHistory, 8,
                           "Decaying count of negative intergroup encounters"),
    detail::resident_field("disposition", &Residents::disposition, FieldWidth::one, 0.0f, 0, -1,
                           "Stable personal offset of outgroup warmth from the group's mean"),
    detail::resident_field("last_intergroup_contact", &Residents::last_intergroup_contact, FieldWidth::one, -1,
                           kFieldHistory, -1, "Day index of the latest intergroup encounter, -1 = none yet"),
    detail::resident_field("warmth", &Residents::warmth, FieldWidth::groups, 0.0f, 0, 6,
                           "Warmth toward each group of /groups (feeling thermometer / 100)"),
    detail::resident_field("membership", &Residents::membership, FieldWidth::venue_types, -1, 0, -1,
                           "The venue of each venue type the resident belongs to, -1 = none"),
};
inline constexpr std::size_t kNumResidentFields = std::tuple_size_v<decltype(kResidentFields)>;

// f(field) for each ResidentField in list order (no residents needed: names, widths, flags).
template <class F>
constexpr void for_each_field(F&& f) {
  std::apply([&](const auto&... field) { (f(field), ...); }, kResidentFields);
}
// f(field, values) for each field in list order, values being residents.*field.member.
template <class F>
void for_each_field(Residents& residents, F&& f) {
  std::apply([&](const auto&... field) { (f(field, residents.*field.member), ...); }, kResidentFields);
}
template <class F>
void for_each_field(const Residents& residents, F&& f) {
  std::apply([&](const auto&... field) { (f(field, residents.*field.member), ...); }, kResidentFields);
}

// Slot i's kFieldHistory fields back to their fresh values: a newcomer or newborn re-using a
// slot has met nobody yet.
inline void clear_history(Residents& residents, std::size_t i) {
  for_each_field(residents, [&](const auto& field, auto& values) {
    if (!field.has(kFieldHistory)) return;
    const std::size_t width = field.values_per_resident(residents);
    std::fill_n(values.begin() + static_cast<std::ptrdiff_t>(i * width), static_cast<std::ptrdiff_t>(width),
                field.fresh);
  });
}

struct Venues {
  std::size_t size() const { return type.size(); }

  int num_groups = 0;
  std::vector<std::string> name;
  std::vector<std::uint8_t> type;
  std::vector<std::uint16_t> ward;
  std::vector<std::int32_t> capacity;      // per session; 0 = unlimited
  std::vector<std::uint8_t> faith;         // kNoFaith unless faith-restricted
  std::vector<std::uint32_t> members;      // residents holding a membership
  std::vector<float> member_group_share;   // size × num_groups: composition of the membership
  // Set by funding from budgets and timeline decisions:
  std::vector<double> budget;              // annual budget (GBP); budget_full 0 = not budget-driven
  std::vector<double> budget_full;         // annual budget needed to run fully
  std::vector<float> operating_level;      // f = clamp(budget / budget_full, 0, 1)
  std::vector<std::uint8_t> open;          // 1 = operating today
  std::vector<std::uint8_t> open_days;     // weekday mask of sessions that run (bit 0 = Monday)
  std::vector<std::int32_t> session_capacity;  // effective per-session capacity, 0 = unlimited
  std::vector<float> quality_factor;       // multiplies the type's contact quality
};

// Intergroup contacts since the last record, by (ward, group, venue type) of the experiencing
// resident. Filled by the encounters phase, read and cleared by metrics.
struct ContactTally {
  int wards = 0, groups = 0, venue_types = 0;
  std::vector<std::int64_t> positive;
  std::vector<std::int64_t> negative;
  // Expected in-group encounters (×1000, fixed point so sums are exact in any order): in-group
  // encounters are not simulated one by one, but activity-space segregation needs their number.
  std::vector<std::int64_t> ingroup_milli;
  // The same encounters by (group, partner's group) of the experiencing resident: the
  // intergroup contact matrix (the diagonal stays 0).
  std::vector<std::int64_t> pair_positive;
  std::vector<std::int64_t> pair_negative;

  void resize(int w, int g, int t) {
    wards = w, groups = g, venue_types = t;
    positive.assign(static_cast<std::size_t>(w) * g * t, 0);
    negative.assign(positive.size(), 0);
    ingroup_milli.assign(positive.size(), 0);
    pair_positive.assign(static_cast<std::size_t>(g) * g, 0);
    pair_negative.assign(pair_positive.size(), 0);
  }
  std::size_t cell(int w, int g, int t) const {
    return (static_cast<std::size_t>(w) * groups + g) * venue_types + t;
  }
  std::size_t pair(int g, int partner) const { return static_cast<std::size_t>(g) * groups + partner; }
  void clear() {
    std::fill(positive.begin(), positive.end(), 0);
    std::fill(negative.begin(), negative.end(), 0);
    std::fill(ingroup_milli.begin(), ingroup_milli.end(), 0);
    std::fill(pair_positive.begin(), pair_positive.end(), 0);
    std::fill(pair_negative.begin(), pair_negative.end(), 0);
  }
};

// What venues did since the last record: filled by attendance, read and cleared by metrics.
struct VenueActivity {
  std::vector<std::int64_t> attendances;  // per venue: resident-sessions
  std::vector<std::int64_t> sessions;     // per venue: days it held a session
  void resize(std::size_t venues) {
    attendances.assign(venues, 0);
    sessions.assign(venues, 0);
  }
  void clear() { resize(attendances.size()); }
};

}  // namespace contactsim
