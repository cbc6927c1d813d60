// The resident field list (models/city/state.hpp, kResidentFields): it lists every array of
// Residents once, under unique names, in the order that is the checkpoint format and the
// world structure hash; a built world holds residents × width values in each; clear_history
// resets only the history fields of one slot.
#include "core/config.hpp"
#include "models/city/state.hpp"
#include "models/city/world.hpp"
#include "models/run/checkpoint.hpp"
#include "models/run/scenario.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace {
namespace fs = std::filesystem;
using namespace contactsim;

const fs::path kSourceDir = CONTACTSIM_SOURCE_DIR;

std::vector<std::string> field_names() {
  std::vector<std::string> names;
  for_each_field([&](const auto& field) { names.emplace_back(field.name); });
  return names;
}

// A world written out by hand, every array with values of its own, so that hashing two arrays
// of one type in the other order gives another hash.
World tiny_world() {
  World w;
  Residents& r = w.residents;
  r.num_groups = 2;
  r.num_venue_types = 3;
  r.reshape_contact_state(3, 2);
  r.group = {0, 1, 1};
  r.age_band = {2, 0, 3};
  r.faith = {kNoFaith, 0, 1};
  r.ward = {0, 1, 1};
  r.block = {0, 2, 3};
  r.english = {1.0f, 0.5f, 0.25f};
  r.anxiety = {0.1f, 0.2f, 0.3f};
  r.positive_memory = {0.0f, 1.5f, 2.0f};
  r.negative_memory = {0.5f, 0.0f, 0.75f};
  r.disposition = {-0.1f, 0.05f, 0.2f};
  r.last_intergroup_contact = {-1, 3, 7};
  r.warmth = {0.8f, 0.4f, 0.5f, 0.9f, 0.3f, 0.7f};
  r.membership = {0, -1, 2, 1, -1, -1, -1, 0, 2};
  Venues& v = w.venues;
  v.num_groups = 2;
  v.name = {"school", "centre", "mosque"};
  v.type = {0, 1, 2};
  v.ward = {0, 1, 1};
  v.capacity = {0, 40, 200};
  v.faith = {kNoFaith, kNoFaith, 1};
  v.members = {1, 1, 2};
  v.member_group_share = {1.0f, 0.0f, 0.0f, 1.0f, 0.0f, 1.0f};
  w.block_ward = {0, 0, 1, 1};
  return w;
}

// Every array member of Residents is in the list, once: the listed std::vector members are
// exactly the slots that follow num_venue_types, up to the end of the struct, and the listed
// packed columns exactly the column slots that end its ContactState base.
TEST(ResidentFields, ListEveryArrayMemberOfResidentsOnce) {
  const Residents r;
  const auto* base = reinterpret_cast<const char*>(&r);
  std::vector<std::size_t> vectors, columns;
  for_each_field(r, [&](const auto& field, const auto& values) {
    const auto offset = static_cast<std::size_t>(reinterpret_cast<const char*>(&values) - base);
    (std::decay_t<decltype(field)>::packed ? columns : vectors).push_back(offset);
  });
  std::sort(vectors.begin(), vectors.end());
  std::sort(columns.begin(), columns.end());
  ASSERT_EQ(vectors.size() + columns.size(), kNumResidentFields);
  EXPECT_EQ(std::adjacent_find(vectors.begin(), vectors.end()), vectors.end()) << "a member is listed twice";
  EXPECT_EQ(std::adjacent_find(columns.begin(), columns.end()), columns.end()) << "a member is listed twice";
  const auto first = static_cast<std::size_t>(reinterpret_cast<const char*>(&r.group) - base);
  const std::size_t slot = sizeof(std::vector<float>);
  for (std::size_t k = 0; k < vectors.size(); ++k) EXPECT_EQ(vectors[k], first + k * slot) << "vector " << k;
  EXPECT_EQ(sizeof(Residents), first + vectors.size() * slot)
      << "Residents has a member kResidentFields does not list (add it there, or update this test "
         "if it is not a per-resident array)";
  const std::size_t column = sizeof(PackedColumn<float>);
  static_assert(sizeof(PackedColumn<std::int32_t>) == sizeof(PackedColumn<float>));
  ASSERT_FALSE(columns.empty());
  for (std::size_t k = 0; k < columns.size(); ++k) EXPECT_EQ(columns[k], columns[0] + k * column) << "column " << k;
  EXPECT_EQ(sizeof(ContactState), columns[0] + columns.size() * column)
      << "ContactState has a column kResidentFields does not list";
}

// A packed column reads and writes like the flat std::vector it replaced, whatever the records'
// stride, and copies of the residents own their records.
TEST(ResidentFields, PackedColumnsBehaveLikeFlatVectors) {
  Residents r;
  r.reshape_contact_state(5, 3);
  EXPECT_EQ(r.contact_state_stride() % kCacheLine, 0u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(r.warmth_of(0)) % 4, 0u);
  for (std::size_t k = 0; k < r.warmth.size(); ++k) r.warmth[k] = static_cast<float>(k);
  for (std::size_t i = 0; i < 5; ++i) r.anxiety[i] = -static_cast<float>(i);
  EXPECT_EQ(r.warmth.size(), 15u);
  EXPECT_EQ(r.warmth_of(2)[1], 7.0f);
  EXPECT_EQ(r.anxiety[4], -4.0f);
  EXPECT_EQ(r.anxiety.strided()[3], -3.0f);
  std::vector<float> expected(15);
  for (std::size_t k = 0; k < 15; ++k) expected[k] = static_cast<float>(k);
  EXPECT_EQ(r.warmth.to_vector(), expected);
  const Residents copy = r;
  r.warmth[7] = 100.0f;
  EXPECT_EQ(copy.warmth_of(2)[1], 7.0f) << "a copy shares no records with its original";
  EXPECT_EQ(copy.anxiety.to_vector(), (std::vector<float>{0.0f, -1.0f, -2.0f, -3.0f, -4.0f}));
  Residents moved = std::move(r);
  EXPECT_EQ(moved.warmth[7], 100.0f);
  EXPECT_THROW(moved.anxiety.assign(4, 0.0f), std::logic_error) << "4 values for 5 residents";
}

TEST(ResidentFields, NamesAreUniqueLowercaseIdentifiersWithDescriptions) {
  const std::vector<std::string> names = field_names();
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  for (const std::string& name : names) {
    EXPECT_FALSE(name.empty());
    EXPECT_TRUE(std::all_of(name.begin(), name.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; }))
        << name;
  }
  for_each_field([](const auto& field) { EXPECT_GT(std::string(field.description).size(), 10u) << field.name; });
}

// The list's order is the order of the checkpoint's residents datasets and of hashing in
// world_structure_hash: changing it breaks every existing checkpoint.
TEST(ResidentFields, OrderIsTheCheckpointFormat) {
  EXPECT_EQ(field_names(), (std::vector<std::string>{"group", "age_band", "faith", "ward", "block", "english",
                                                     "anxiety", "positive_memory", "negative_memory", "disposition",
                                                     "last_intergroup_contact", "warmth", "membership"}));
}

// The value the hand-written hash (before the field list) gave for this world.
TEST(ResidentFields, WorldStructureHashIsUnchanged) {
  World w = tiny_world();
  EXPECT_EQ(world_structure_hash(w), 0xa8bc0592927194f0ULL);
  const std::vector<float> english = w.residents.english.to_vector();
  w.residents.english.assign(w.residents.anxiety.to_vector());
  w.residents.anxiety.assign(english);
  EXPECT_NE(world_structure_hash(w), 0xa8bc0592927194f0ULL);
}

TEST(ResidentFields, SnapshotColumnsAreTheAgentsLayout) {
  std::vector<std::string> columns(9);
  for_each_field([&](const auto& field) {
    if (!field.in_snapshots()) return;
    ASSERT_LT(field.snapshot_column, 9) << field.name;
    EXPECT_TRUE(columns[field.snapshot_column].empty()) << field.name;
    columns[field.snapshot_column] = field.name;
  });
  EXPECT_EQ(columns, (std::vector<std::string>{"group", "age_band", "ward", "block", "english", "anxiety", "warmth",
                                               "positive_memory", "negative_memory"}));
}

TEST(ResidentFields, ABuiltWorldHoldsResidentsTimesWidthValuesInEach) {
  const std::string text = "extends = \"" + (kSourceDir / "scenarios" / "stoke_on_trent.toml").string() +
                           "\"\n[population]\nscale = 0.005\n";
  const Scenario s = read_scenario(ConfigDocument::parse(text, kSourceDir / "tests" / "data" / "fields.toml"));
  const World w = build_world(s, StreamKey{7, 0});
  const Residents& r = w.residents;
  ASSERT_GT(r.size(), 0u);
  EXPECT_EQ(r.num_groups, static_cast<int>(s.groups.size()));
  EXPECT_EQ(r.num_venue_types, static_cast<int>(s.venue_types.size()));
  for_each_field(r, [&](const auto& field, const auto& values) {
    EXPECT_EQ(values.size(), r.size() * field.values_per_resident(r)) << field.name;
    if (field.has(kFieldHistory)) {  // nothing has happened yet
      EXPECT_TRUE(std::all_of(values.begin(), values.end(), [&](auto x) { return x == field.fresh; })) << field.name;
    }
  });
  EXPECT_EQ(r.warmth.size(), r.size() * s.groups.size());
  EXPECT_EQ(r.membership.size(), r.size() * s.venue_types.size());
}

TEST(ResidentFields, ClearHistoryResetsOnlyTheHistoryOfOneSlot) {
  World w = tiny_world();
  const Residents before = w.residents;
  Residents& r = w.residents;
  clear_history(r, 1);
  EXPECT_EQ(r.positive_memory, (std::vector<float>{0.0f, 0.0f, 2.0f}));
  EXPECT_EQ(r.negative_memory, (std::vector<float>{0.5f, 0.0f, 0.75f}));
  EXPECT_EQ(r.last_intergroup_contact, (std::vector<std::int32_t>{-1, -1, 7}));
  for_each_field(r, [&](const auto& field, const auto& values) {
    if (!field.has(kFieldHistory)) {
      EXPECT_EQ(values, before.*field.member) << field.name;
    }
  });
}

}  // namespace
