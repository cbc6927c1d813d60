// The encounter session's contract with the mechanisms that listen to it.
#include "models/city/encounters.hpp"
#include "tests/support/city.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
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
  const GroupOffsets begin = sort_by_group(r, members);

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
    run_encounter_session(town.rules, setting, town.residents, town.tally, members,
                          std::span<const std::uint32_t>(begin.data(), kGroups + 1), StreamKey{11, 0}, 0, day, 1000,
                          counts);
  EXPECT_GT(heard, 100);
  EXPECT_EQ(same_group, 0);
}

}  // namespace
}  // namespace contactsim
