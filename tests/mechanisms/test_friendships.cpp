// Friendships (DESIGN §3.7): forming, renewing, fading, bounded degree, mutual ties, direct and
// extended contact, in-group seeding, and thread-count independence.
#include "models/mechanisms/friendships.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/checks.hpp"
#include "tests/support/city.hpp"

using namespace contactsim;
using namespace contactsim::test;

namespace {

constexpr float kInitialWarmth = 0.5f;

// Adults of `groups` living in `blocks`, warmth 0.5 everywhere.
Residents in_blocks(const std::vector<std::uint8_t>& groups, int num_groups, const std::vector<std::uint32_t>& blocks,
                    int venue_types = 1) {
  const ResidentValues values{.ingroup_warmth = kInitialWarmth, .outgroup_warmth = kInitialWarmth};
  Residents r = hand_built_residents(groups, num_groups, values, venue_types);
  r.block = blocks;
  return r;
}

// Each resident in its own block unless told otherwise.
std::vector<std::uint32_t> own_blocks(std::size_t n) {
  std::vector<std::uint32_t> b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint32_t>(i);
  return b;
}

// Defaults, applied daily so that single days can be checked (interval_days has its own test).
FriendshipSettings settings() {
  FriendshipSettings s{true, defaults_of<FriendshipParams>(kFriendshipParams)};
  s.params.interval_days = 1;
  return s;
}

MechanismSwitch<AttitudeParams> attitude() { return {true, defaults_of<AttitudeParams>(kAttitudeParams)}; }

void meet(Friendships& f, std::uint32_t i, std::uint32_t j, int times, bool stable = true) {
  for (int k = 0; k < times; ++k) f.note_positive_encounter(i, j, stable);
}

void run_days(FriendshipsPhase& phase, int days) {
  for (int d = 0; d < days; ++d) phase.run(Day{Date{}, d});
}

// Every tie is listed by both parties with the same strength; no row exceeds K.
void expect_consistent(const Friendships& f, std::size_t n) {
  for (std::uint32_t i = 0; i < n; ++i) {
    ASSERT_LE(f.degree(i), f.max_degree());
    for (const std::uint32_t j : f.friends_of(i)) {
      ASSERT_TRUE(f.are_friends(i, j)) << i << " lists " << j << " but not the reverse";
      ASSERT_EQ(f.tie_strength(i, j), f.tie_strength(j, i));
    }
  }
}

}  // namespace

TEST(Friendships, FiveStableEncountersBefriendFourDoNot) {
  Residents r = in_blocks({0, 1}, 2, own_blocks(2));
  Friendships f(r, settings());
  meet(f, 0, 1, 4);
  EXPECT_FALSE(f.are_friends(0, 1));
  EXPECT_EQ(f.acquaintance_count(0, 1), 4);
  EXPECT_EQ(f.acquaintance_count(1, 0), 4);
  meet(f, 1, 0, 1);  // either party may start the encounter
  EXPECT_TRUE(f.are_friends(0, 1));
  EXPECT_EQ(f.tie_strength(0, 1), 1.0f);
  EXPECT_EQ(f.tie_strength(1, 0), 1.0f);
  EXPECT_EQ(f.acquaintance_count(0, 1), 0);  // the acquaintance entries are cleared
  EXPECT_EQ(f.acquaintance_count(1, 0), 0);
}

TEST(Friendships, UnstableVenuesNeverBefriend) {
  Residents r = in_blocks({0, 1}, 2, own_blocks(2));
  Friendships f(r, settings());
  meet(f, 0, 1, 50, /*stable=*/false);
  EXPECT_FALSE(f.are_friends(0, 1));
  EXPECT_EQ(f.acquaintance_count(0, 1), 0);
}

TEST(Friendships, DegreeNeverExceedsMaxDegree) {
  Residents r = in_blocks({0, 1, 1, 1, 1, 1}, 2, own_blocks(6));
  FriendshipSettings s = settings();
  s.params.max_degree = 3;
  s.params.ingroup_friends = 0;
  s.params.replace_below = 0;  // never make room
  Friendships f(r, s);
  for (std::uint32_t j = 1; j <= 5; ++j) meet(f, 0, j, 10);
  EXPECT_EQ(f.degree(0), 3);
  EXPECT_TRUE(f.are_friends(0, 1) && f.are_friends(0, 2) && f.are_friends(0, 3));
  EXPECT_FALSE(f.are_friends(0, 4));
  EXPECT_EQ(f.acquaintance_count(0, 4), 5) << "ready, waiting for room";
  expect_consistent(f, r.size());
}

TEST(Friendships, FullResidentReplacesAFadedTieAndRepairsTheOtherSideLater) {
  Residents r = in_blocks({0, 1, 1}, 2, own_blocks(3));
  FriendshipSettings s = settings();
  s.params.max_degree = 1;
  s.params.ingroup_friends = 0;
  s.params.half_life_days = 10;
  s.params.replace_below = 0.5;
  s.params.dissolve_below = 0.01;
  Friendships f(r, s);
  FriendshipsPhase phase(s, attitude(), f, r);
  meet(f, 0, 1, 5);
  ASSERT_TRUE(f.are_friends(0, 1));
  meet(f, 0, 2, 5);
  EXPECT_FALSE(f.are_friends(0, 2)) << "a fresh tie is not replaced";
  run_days(phase, 11);  // strength 2^-1.1 < replace_below
  meet(f, 0, 2, 1);     // the count was waiting at the threshold
  EXPECT_TRUE(f.are_friends(0, 2));
  EXPECT_EQ(f.degree(0), 1);
  // Resident 1 was not in the encounter: its row is untouched until the daily repair.
  EXPECT_GT(f.tie_strength(1, 0), 0.0f);
  EXPECT_FALSE(f.are_friends(0, 1));
  EXPECT_EQ(f.pending_drops(), 1u);
  run_days(phase, 1);
  EXPECT_EQ(f.degree(1), 0);
  EXPECT_EQ(f.pending_drops(), 0u);
  expect_consistent(f, r.size());
}

TEST(Friendships, HasFriendInAndCrossGroupCounts) {
  // 0,1 group 0 in one block (seeded in-group friends); 2 group 1; 3 group 2.
  Residents r = in_blocks({0, 0, 1, 2}, 3, {0, 0, 1, 2});
  Friendships f(r, settings());
  f.seed_ingroup({}, StreamKey{7, 0});
  ASSERT_TRUE(f.are_friends(0, 1));
  meet(f, 0, 2, 5);
  EXPECT_TRUE(f.has_friend_in(0, 0));
  EXPECT_TRUE(f.has_friend_in(0, 1));
  EXPECT_FALSE(f.has_friend_in(0, 2));
  EXPECT_TRUE(f.has_friend_in(2, 0));
  EXPECT_FALSE(f.has_friend_in(2, 1));
  EXPECT_FALSE(f.has_friend_in(3, 0));
  EXPECT_EQ(f.cross_group_friends(0), 1);
  EXPECT_EQ(f.cross_group_friends(1), 0);
  EXPECT_EQ(f.cross_group_friends(2), 1);
  const std::vector<double> share = f.cross_group_friendship_share(1);
  ASSERT_EQ(share.size(), 3u);
  EXPECT_DOUBLE_EQ(share[0], 0.5);  // resident 0 of {0, 1}
  EXPECT_DOUBLE_EQ(share[1], 1.0);
  EXPECT_DOUBLE_EQ(share[2], 0.0);
}

TEST(Friendships, ExtendedContactWarmsLessThanDirectFriendship) {
  // 0 and 1: group 0, same block (in-group friends); 1 befriends 2 (group 1).
  // 3: group 0, alone, befriends 4 (group 1) directly.  5: group 0, alone, no friends.
  Residents r = in_blocks({0, 0, 1, 0, 1, 0}, 2, {0, 0, 1, 2, 3, 4});
  FriendshipSettings s = settings();
  Friendships f(r, s);
  FriendshipsPhase phase(s, attitude(), f, r);
  f.seed_ingroup({}, StreamKey{1, 0});
  ASSERT_TRUE(f.are_friends(0, 1));
  ASSERT_EQ(f.degree(3), 0);
  meet(f, 1, 2, 5);
  meet(f, 3, 4, 5);
  run_days(phase, 1);
  const float extended = r.warmth_of(0)[1] - kInitialWarmth;
  const float direct = r.warmth_of(3)[1] - kInitialWarmth;
  EXPECT_GT(extended, 0.0f);
  EXPECT_GT(direct, extended);
  EXPECT_EQ(r.warmth_of(5)[1], kInitialWarmth);
  EXPECT_EQ(r.warmth_of(0)[0], kInitialWarmth) << "own-group warmth untouched";
  // The expected sizes: eta·plasticity·(1−A), with strength 1 for the direct tie.
  const float plasticity = static_cast<float>(attitude().params.plasticity_adult);
  EXPECT_NEAR(direct, s.params.eta_friend * plasticity * (1 - kInitialWarmth), 1e-7);
  EXPECT_NEAR(extended, s.params.eta_extended * plasticity * (1 - kInitialWarmth), 1e-7);
}

TEST(Friendships, UnusedTiesFadeAndDissolveOnBothSidesRenewedOnesDoNot) {
  // 4 and 5 share a block: seeded in-group friends, which do not fade in this version.
  Residents r = in_blocks({0, 1, 0, 1, 0, 0}, 2, {0, 1, 2, 3, 4, 4});
  FriendshipSettings s = settings();
  s.params.half_life_days = 10;
  s.params.dissolve_below = 0.125;  // three half-lives: 30 days
  Friendships f(r, s);
  FriendshipsPhase phase(s, attitude(), f, r);
  f.seed_ingroup({}, StreamKey{5, 0});
  ASSERT_TRUE(f.are_friends(4, 5));
  meet(f, 0, 1, 5);
  meet(f, 2, 3, 5);
  for (int day = 0; day < 29; ++day) {
    if (day % 5 == 0) f.note_positive_encounter(2, 3, /*stable=*/false);  // renewal needs no stable venue
    phase.run(Day{Date{}, day});
  }
  EXPECT_TRUE(f.are_friends(0, 1));
  EXPECT_NEAR(f.tie_strength(0, 1), std::exp2(-2.9), 1e-5);
  for (int day = 29; day < 100; ++day) {
    if (day % 5 == 0) f.note_positive_encounter(2, 3, false);
    phase.run(Day{Date{}, day});
  }
  EXPECT_FALSE(f.are_friends(0, 1));
  EXPECT_EQ(f.degree(0), 0);
  EXPECT_EQ(f.degree(1), 0);
  EXPECT_TRUE(f.are_friends(2, 3));
  EXPECT_GT(f.tie_strength(2, 3), 0.7f);
  EXPECT_EQ(f.tie_strength(4, 5), 1.0f);
}

TEST(Friendships, WeeklyApplicationMatchesDailySteps) {
  // 0,1 group 0 (in-group friends); 1 befriends 2 and 3 befriends 4 (group 1). Weekly and
  // daily runs must agree at every week's end, through the ties' dissolution on day 70.
  auto run = [](int interval) {
    Residents r = in_blocks({0, 0, 1, 0, 1}, 2, {0, 0, 1, 2, 3});
    FriendshipSettings s = settings();
    s.params.interval_days = interval;
    s.params.half_life_days = 30;
    s.params.dissolve_below = 0.2;
    s.params.eta_friend = 0.01;  // large rates, so that any error in compounding shows
    s.params.eta_extended = 0.005;
    Friendships f(r, s);
    FriendshipsPhase phase(s, attitude(), f, r);
    f.seed_ingroup({}, StreamKey{1, 0});
    meet(f, 1, 2, 5);
    meet(f, 3, 4, 5);
    std::vector<float> trace;
    for (int day = 0; day < 84; ++day) {
      phase.run(Day{Date{}, day});
      if ((day + 1) % 7 == 0) {
        trace.push_back(r.warmth_of(0)[1]);
        trace.push_back(r.warmth_of(1)[1]);
        trace.push_back(r.warmth_of(3)[1]);
        trace.push_back(f.tie_strength(3, 4));
      }
    }
    return trace;
  };
  const auto daily = run(1), weekly = run(7);
  ASSERT_EQ(daily.size(), weekly.size());
  for (std::size_t k = 0; k < daily.size(); ++k) EXPECT_NEAR(weekly[k], daily[k], 2e-6) << "entry " << k;
  EXPECT_GT(daily[daily.size() - 2], 0.55f) << "the test must move warmth a lot";
  EXPECT_EQ(daily.back(), 0.0f) << "and dissolve the tie (after 70 days)";
}

TEST(Friendships, SeededInGroupTiesAreMutualSameGroupWithinScopeAndBounded) {
  const std::size_t n = 1200;
  std::vector<std::uint8_t> groups(n);
  std::vector<std::uint32_t> blocks(n);
  for (std::size_t i = 0; i < n; ++i) {
    RandomStream rng(StreamKey{3, 0}, static_cast<std::uint32_t>(i), 0, 0);
    groups[i] = static_cast<std::uint8_t>(rng.below(3));
    blocks[i] = static_cast<std::uint32_t>(i / 40);
  }
  Residents r = in_blocks(groups, 3, blocks);
  for (std::size_t i = 0; i < n; ++i)
    if (i % 5 != 0) r.membership[i] = static_cast<std::int32_t>((i * 7) % 30);  // a fifth belong to none
  FriendshipSettings s = settings();
  s.params.max_degree = 5;
  s.params.ingroup_friends = 4;
  Friendships f(r, s);
  const std::vector<int> school{0};
  f.seed_ingroup(school, StreamKey{11, 0});
  expect_consistent(f, n);
  std::size_t full = 0, via_venue = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    EXPECT_LE(f.degree(i), 4);
    EXPECT_EQ(f.ingroup_degree(i), f.degree(i));
    full += f.degree(i) == 4;
    for (const std::uint32_t j : f.friends_of(i)) {
      EXPECT_EQ(r.group[i], r.group[j]);
      const bool same_venue = r.membership[i] >= 0 && r.membership[i] == r.membership[j];
      EXPECT_TRUE(r.block[i] == r.block[j] || same_venue) << i << "-" << j << " share no scope";
      via_venue += same_venue && r.block[i] != r.block[j];
    }
  }
  EXPECT_GT(full, n * 8 / 10);
  EXPECT_GT(via_venue, 0u);
  EXPECT_THROW(f.seed_ingroup(school, StreamKey{11, 0}), std::logic_error);

  // Deterministic for a key, for any thread count; another key gives other friends.
  auto rows = [&](StreamKey key, int threads) {
    return with_threads(threads, [&] {
      Friendships g(r, s);
      g.seed_ingroup(school, key);
      std::vector<std::uint32_t> all;
      for (std::uint32_t i = 0; i < n; ++i) {
        const auto friends = g.friends_of(i);
        all.insert(all.end(), friends.begin(), friends.end());
        all.push_back(Friendships::kNone);
      }
      return all;
    });
  };
  const auto one = rows(StreamKey{11, 0}, 1);
  EXPECT_EQ(one, rows(StreamKey{11, 0}, 2));
  EXPECT_NE(one, rows(StreamKey{12, 0}, 1));
}

TEST(Friendships, InGroupFriendsBeyondMaxDegreeAreRejected) {
  Residents r = in_blocks({0}, 1, own_blocks(1));
  FriendshipSettings s = settings();
  s.params.ingroup_friends = 9;
  EXPECT_THROW(Friendships(r, s), std::invalid_argument);
}

TEST(Friendships, EveryParameterHasASourceAndADefaultInRange) {
  expect_defaults_in_range_and_sourced(kFriendshipParams);
}

TEST(Friendships, DisabledMechanismHoldsNothing) {
  Residents r = in_blocks({0, 1}, 2, own_blocks(2));
  FriendshipSettings s = settings();
  s.enabled = false;
  Friendships f(r, s);
  meet(f, 0, 1, 10);
  EXPECT_FALSE(f.are_friends(0, 1));
  EXPECT_EQ(f.bytes(), 0u);
  EXPECT_EQ(f.bytes_per_resident(), 0u);
}

// The default rows (8 friends, 6 acquaintances: 104 bytes) are packed in two cache lines, plus
// the extended-contact mask.
TEST(Friendships, DefaultsUseTwoCacheLinesAndAMaskPerResident) {
  Residents r = in_blocks({0, 1}, 2, own_blocks(2));
  Friendships f(r, settings());
  static_assert(8u * (4 + 4) + 6u * (4 + 2) + 1 + 1 <= 2 * kCacheLine);
  EXPECT_EQ(f.bytes_per_resident(), 2 * kCacheLine + 2);
  EXPECT_EQ(f.bytes(), 2 * f.bytes_per_resident());
}

// A population of 3000 in classes (stable) and on streets (not), many encounters in sessions
// run concurrently as the encounters phase does, with churn in every rule (replacement,
// dissolution): identical friend rows, strengths and warmth for 1 and 2 threads.
namespace {

struct Outcome {
  std::vector<std::uint32_t> friends;
  std::vector<float> strengths;
  std::vector<float> warmth;
  std::size_t drops = 0, ties = 0, dissolutions = 0;
};

Outcome simulate_town() {
  const std::uint32_t n = 3000, classes = 150;
  const StreamKey key{2024, 1};
  std::vector<std::uint8_t> groups(n);
  std::vector<std::uint32_t> blocks(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    RandomStream rng(key, i, 0, 0);
    groups[i] = static_cast<std::uint8_t>(rng.below(3));
    blocks[i] = i / 50;
  }
  Residents r = in_blocks(groups, 3, blocks, 2);
  for (std::uint32_t i = 0; i < n; ++i) {
    r.membership[i * 2 + 0] = static_cast<std::int32_t>((i * 37) % classes);
    r.membership[i * 2 + 1] = static_cast<std::int32_t>(blocks[i]);
  }
  FriendshipSettings s = settings();
  s.params.max_degree = 4;
  s.params.ingroup_friends = 2;
  s.params.acquaintance_slots = 3;
  s.params.encounters_to_befriend = 3;
  s.params.half_life_days = 5;
  s.params.replace_below = 0.8;
  s.params.dissolve_below = 0.3;
  s.params.interval_days = 3;  // also exercises the days in between
  Friendships f(r, s);
  FriendshipsPhase phase(s, attitude(), f, r);
  const std::vector<int> class_type{0};
  f.seed_ingroup(class_type, key);

  Outcome out;
  for (int day = 0; day < 60; ++day) {
    for (int type = 0; type < 2; ++type) {
      // One session per venue; attendees of one slot are disjoint across sessions.
      const std::uint32_t venues = type == 0 ? classes : n / 50;
      std::vector<std::vector<std::uint32_t>> attendees(venues);
      for (std::uint32_t i = 0; i < n; ++i) {
        RandomStream rng(key, i, static_cast<std::uint32_t>(day), 900u + static_cast<Purpose>(type));
        if (rng.bernoulli(0.8)) attendees[r.membership[i * 2 + type]].push_back(i);
      }
#pragma omp parallel for schedule(dynamic, 1)
      for (std::int64_t v = 0; v < static_cast<std::int64_t>(venues); ++v) {
        const auto& here = attendees[v];
        if (here.size() < 2) continue;
        RandomStream rng(key, static_cast<std::uint32_t>(v), static_cast<std::uint32_t>(day), 950u + static_cast<Purpose>(type));
        const auto size = static_cast<std::uint32_t>(here.size());
        for (std::uint32_t e = 0; e < 3 * size; ++e) {
          const std::uint32_t a = here[rng.below(size)], b = here[rng.below(size)];
          if (r.group[a] != r.group[b] && rng.bernoulli(0.7)) f.note_positive_encounter(a, b, type == 0);
        }
      }
    }
    out.drops += f.pending_drops();
    std::size_t before = 0, after = 0;
    for (std::uint32_t i = 0; i < n; ++i) before += static_cast<std::size_t>(f.cross_group_friends(i));
    phase.run(Day{Date{}, day});
    for (std::uint32_t i = 0; i < n; ++i) after += static_cast<std::size_t>(f.cross_group_friends(i));
    if (after < before) out.dissolutions += before - after;
    expect_consistent(f, n);
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    for (const std::uint32_t j : f.friends_of(i)) {
      out.friends.push_back(j);
      out.strengths.push_back(f.tie_strength(i, j));
    }
    out.friends.push_back(Friendships::kNone);
    out.ties += static_cast<std::size_t>(f.cross_group_friends(i));
  }
  out.warmth = r.warmth.to_vector();
  return out;
}

}  // namespace

TEST(Friendships, IdenticalForOneAndTwoThreads) {
  const Outcome one = with_threads(1, simulate_town);
  const Outcome two = with_threads(2, simulate_town);
  EXPECT_GT(one.ties, 100u) << "the test must form cross-group friendships";
  EXPECT_GT(one.drops, 10u) << "the test must exercise replacement";
  EXPECT_GT(one.dissolutions, 10u) << "the test must exercise dissolution";
  EXPECT_EQ(one.friends, two.friends);
  EXPECT_EQ(one.strengths, two.strengths);
  EXPECT_EQ(one.warmth, two.warmth);
  EXPECT_EQ(one.drops, two.drops);
}
