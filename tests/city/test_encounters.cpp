// The encounter session's contract with the mechanisms that listen to it.
#include "models/city/encounters.hpp"
#include "models/city/venue_types.hpp"
#include "tests/support/city.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace contactsim {
namespace {

using test::Town;

// Friendships skip the group check for on_positive's pairs (note_positive_intergroup_encounter),
// so a same-group pair reaching it would make an in-group "cross-group" friend.
TEST(EncounterSession, OnPositiveHearsOnlyPairsOfTwoGroups) {
  constexpr int kGroups = 3;
  Town town(test::interleaved_wards(1, 300, kGroups, {.english = 1.0f, .anxiety = 0.0f, .ingroup_warmth = 0.8f,
                                                      .outgroup_warmth = 0.9f}),
            1, 1);
  const Residents& r = town.residents;
  std::vector<std::uint32_t> members(r.size());
  for (std::uint32_t i = 0; i < members.size(); ++i) members[i] = i;
  std::stable_sort(members.begin(), members.end(), [&](auto a, auto b) { return r.group[a] < r.group[b]; });
  std::vector<std::uint32_t> begin(kGroups + 1, 0);
  for (auto i : members) ++begin[r.group[i] + 1u];
  for (int g = 0; g < kGroups; ++g) begin[g + 1] += begin[g];

  std::int64_t heard = 0, same_group = 0;
  town.rules.on_positive = [&](std::uint32_t i, std::uint32_t j, bool) {
    ++heard;
    same_group += r.group[i] == r.group[j];
  };
  ContactSetting setting;
  setting.encounters = 0.5;
  setting.homophily = 0.5;  // in-group pairs are common: the session must still keep them away
  ContactCounts counts;
  counts.resize_like(town.tally);
  for (std::uint32_t day = 0; day < 20; ++day)
    run_encounter_session(town.rules, setting, town.residents, town.tally, members, begin, StreamKey{11, 0}, 0, day,
                          1000, counts);
  EXPECT_GT(heard, 100);
  EXPECT_EQ(same_group, 0);
}

}  // namespace
}  // namespace contactsim
