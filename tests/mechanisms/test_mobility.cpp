// Residential mobility and demography (DESIGN §3.11): Schelling moves raise segregation with
// the threshold, memberships follow moves, capacity and totals hold, inflow shifts composition,
// chain migration clusters newcomers, ageing moves the expected shares, and results are
// reproducible for any seed and thread count.
#include "models/mechanisms/mobility.hpp"
#include "models/run/segregation.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/checks.hpp"
#include "tests/support/city.hpp"

using namespace contactsim;
using namespace contactsim::test;

namespace {

constexpr int kStreet = 0;  // venue type indices of the tiny world
constexpr int kSchool = 1;
constexpr int kSchoolsPerWard = 2;
const Date kRunStart = Date::from_ymd(2020, 1, 1);

VenueType builtin(const std::string& name) {
  for (const auto& t : builtin_venue_types())
    if (t.name == name) return t;
  throw std::logic_error("no built-in venue type " + name);
}

struct TinyWorld {
  Residents residents;
  Venues venues;
  std::vector<std::uint16_t> block_ward;
  std::vector<VenueType> types{builtin("street"), builtin("school")};
  int wards = 0;
  int blocks_per_ward = 0;

  std::int32_t street_of(std::uint32_t block) const { return static_cast<std::int32_t>(block); }
  std::size_t blocks() const { return block_ward.size(); }
};

using GroupOf = std::function<int(int ward, int block_in_ward, int k, std::uint32_t id)>;
using BandOf = std::function<AgeBand(std::uint32_t id)>;

// `wards` × `blocks_per_ward` blocks of `per_block` residents; streets are venues 0..B−1 (one per
// block, in block order, as venues.cpp builds them), then two schools per ward, the first
// serving the first half of the ward's blocks. Warmth 0.8 toward the own group, 0.5 otherwise.
TinyWorld make_world(int wards, int blocks_per_ward, int per_block, const GroupOf& group_of, int groups = 2,
                     const BandOf& band_of = [](std::uint32_t i) { return static_cast<AgeBand>(i % kNumAgeBands); }) {
  TinyWorld w;
  w.wards = wards;
  w.blocks_per_ward = blocks_per_ward;
  const std::size_t n = static_cast<std::size_t>(wards) * blocks_per_ward * per_block;
  Residents& r = w.residents = hand_built_residents(std::vector<std::uint8_t>(n, 0), groups, {.english = 0.9f}, 2);

  for (int ward = 0; ward < wards; ++ward)
    for (int b = 0; b < blocks_per_ward; ++b) {
      w.block_ward.push_back(static_cast<std::uint16_t>(ward));
      add_venue(w.venues, kStreet, ward, "street " + std::to_string(w.block_ward.size()));
    }
  for (int ward = 0; ward < wards; ++ward)
    for (int s = 0; s < kSchoolsPerWard; ++s) add_venue(w.venues, kSchool, ward, "school");
  const auto first_school = static_cast<std::int32_t>(w.block_ward.size());

  std::uint32_t i = 0;
  for (int ward = 0; ward < wards; ++ward)
    for (int b = 0; b < blocks_per_ward; ++b)
      for (int k = 0; k < per_block; ++k, ++i) {
        const auto block = static_cast<std::uint32_t>(ward * blocks_per_ward + b);
        r.group[i] = static_cast<std::uint8_t>(group_of(ward, b, k, i));
        r.age_band[i] = static_cast<std::uint8_t>(band_of(i));
        r.ward[i] = static_cast<std::uint16_t>(ward);
        r.block[i] = block;
        r.warmth_of(i)[r.group[i]] = 0.8f;
        r.membership[i * 2 + kStreet] = w.street_of(block);
        if (r.age_band[i] <= static_cast<std::uint8_t>(AgeBand::youth))
          r.membership[i * 2 + kSchool] = first_school + ward * kSchoolsPerWard + (2 * b < blocks_per_ward ? 0 : 1);
      }
  refresh_compositions(w.venues, r);
  return w;
}

Demography demography(int groups, std::vector<double> inflow) {
  Demography d;
  for (int g = 0; g < groups; ++g) {
    GroupTraits t;
    t.english_mean = 0.9, t.english_sd = 0.1;
    t.anxiety_mean = 0.3, t.anxiety_sd = 0.1;
    t.warmth.assign(groups, 0.5);
    t.warmth[g] = 0.8;
    t.warmth_sd = 0.1;
    d.groups.push_back(t);
    GroupMigration m;
    m.inflow_share = inflow[g];
    m.newcomer_english = 0.4;
    m.newcomer_knowledge = 0.2;
    d.migration.push_back(m);
  }
  return d;
}

// Every mechanism off but the ones a test switches on.
MobilitySettings quiet_settings() {
  MobilitySettings s{true, defaults_of<MobilityParams>(kMobilityParams)};
  s.params.base_move_rate = 0;
  s.params.move_probability = 0;
  s.params.out_migration_rate = 0;
  s.params.older_mortality = 0;
  return s;
}

MobilityPhase make_phase(TinyWorld& w, const MobilitySettings& settings, std::vector<double> inflow,
                         std::uint64_t seed = 7, std::span<float> knowledge = {}) {
  return MobilityPhase(settings, demography(w.residents.num_groups, std::move(inflow)), w.types, w.residents,
                       w.venues, w.block_ward, w.wards, StreamKey{seed, 0}, knowledge);
}

// The 1st of the month `months` after the run's start (2020-01-01).
Day first_of_month(int months) {
  const Date date = Date::from_ymd(2020 + months / 12, static_cast<unsigned>(1 + months % 12), 1);
  return Day{date, date - kRunStart};
}

void run_months(MobilityPhase& phase, int first, int last) {
  for (int m = first; m <= last; ++m) phase.run(first_of_month(m));
}

int random_group(std::uint32_t id, double share_of_group_1) {
  RandomStream rng(StreamKey{99, 0}, id, 0, 999);
  return rng.uniform() < share_of_group_1 ? 1 : 0;
}

UnitCounts block_counts(const TinyWorld& w) {
  UnitCounts counts = UnitCounts::Zero(static_cast<Eigen::Index>(w.blocks()), w.residents.num_groups);
  for (std::size_t i = 0; i < w.residents.size(); ++i) counts(w.residents.block[i], w.residents.group[i]) += 1;
  return counts;
}

double block_dissimilarity(const TinyWorld& w) { return segregation_indices(block_counts(w)).dissimilarity(0); }

std::int64_t sum(const std::vector<std::int64_t>& v) { return std::accumulate(v.begin(), v.end(), std::int64_t{0}); }

// Occupancy, capacity, totals, wards and memberships all agree with the residents' arrays.
void expect_consistent(const TinyWorld& w, const MobilityPhase& phase) {
  const Residents& r = w.residents;
  std::vector<std::int32_t> occupancy(w.blocks(), 0);
  for (std::size_t i = 0; i < r.size(); ++i) {
    ++occupancy[r.block[i]];
    ASSERT_EQ(r.ward[i], w.block_ward[r.block[i]]) << "resident " << i;
    ASSERT_EQ(r.member_venue(i, kStreet), w.street_of(r.block[i])) << "resident " << i;
    const std::int32_t school = r.member_venue(i, kSchool);
    const bool pupil = r.age_band[i] <= static_cast<std::uint8_t>(AgeBand::youth);
    ASSERT_EQ(school >= 0, pupil) << "resident " << i;
    if (school >= 0) {
      ASSERT_EQ(w.venues.type[school], kSchool);
      ASSERT_EQ(w.venues.ward[school], r.ward[i]) << "resident " << i;
    }
  }
  const auto occ = phase.block_occupancy();
  const auto cap = phase.block_capacity();
  std::int64_t total = 0;
  for (std::size_t b = 0; b < w.blocks(); ++b) {
    ASSERT_EQ(occ[b], occupancy[b]) << "block " << b;
    ASSERT_LE(occ[b], cap[b]) << "block " << b;
    total += occ[b];
  }
  EXPECT_EQ(total, static_cast<std::int64_t>(r.size()));
  Venues recount = w.venues;
  refresh_compositions(recount, r);
  EXPECT_EQ(recount.members, w.venues.members);
  EXPECT_EQ(recount.member_group_share, w.venues.member_group_share);
}

// ---------------------------------------------------------------------------------------------

TEST(Mobility, ParameterTableDefaultsAreInRangeAndSourced) { expect_defaults_in_range_and_sourced(kMobilityParams); }

TEST(Mobility, CountTreeFindsTheUnitAtEachRank) {
  CountTree tree(5);
  const std::vector<std::int64_t> counts{0, 2, 0, 3, 1};
  for (std::size_t p = 0; p < counts.size(); ++p) tree.add(p, counts[p]);
  EXPECT_EQ(tree.total(), 6);
  EXPECT_EQ(tree.prefix(4), 5);
  const std::vector<std::size_t> expected{1, 1, 3, 3, 3, 4};
  for (std::int64_t k = 0; k < 6; ++k) EXPECT_EQ(tree.find(k), expected[k]) << "rank " << k;
  tree.add(3, -3);
  EXPECT_EQ(tree.find(2), 4u);
}

// The required test: stronger preferences, more block-level segregation.
TEST(Mobility, HigherThresholdRaisesBlockDissimilarity) {
  auto run_with_threshold = [](double threshold) {
    TinyWorld w = make_world(4, 8, 40, [](int, int, int, std::uint32_t id) { return random_group(id, 0.5); });
    MobilitySettings s = quiet_settings();
    s.params.base_move_rate = 0.1;
    s.params.move_probability = 0.3;
    s.params.warmth_relief = 0;
    s.params.base_threshold = threshold;
    MobilityPhase phase = make_phase(w, s, {0.5, 0.5});
    const double before = block_dissimilarity(w);
    run_months(phase, 1, 24);
    expect_consistent(w, phase);
    return std::pair{before, block_dissimilarity(w)};
  };
  const auto [before, low] = run_with_threshold(0.1);
  const auto [same_before, high] = run_with_threshold(0.5);
  EXPECT_EQ(before, same_before);  // same seed, same starting city
  EXPECT_LT(low, before + 0.1) << "a mild threshold should leave random mixing roughly as it was";
  EXPECT_GT(high, low + 0.2) << "D before " << before << ", low threshold " << low << ", high threshold " << high;
}

TEST(Mobility, WarmerResidentsTolerateMoreMixing) {
  // Same city and threshold; warmth relief lowers everyone's threshold (outgroup warmth 0.5).
  auto run_with_relief = [](double relief) {
    TinyWorld w = make_world(4, 8, 40, [](int, int, int, std::uint32_t id) { return random_group(id, 0.5); });
    MobilitySettings s = quiet_settings();
    s.params.move_probability = 0.3;
    s.params.base_threshold = 0.5;
    s.params.warmth_relief = relief;
    MobilityPhase phase = make_phase(w, s, {0.5, 0.5});
    run_months(phase, 1, 12);
    return block_dissimilarity(w);
  };
  EXPECT_GT(run_with_relief(0.0), run_with_relief(1.0) + 0.1);
}

TEST(Mobility, LifeCourseMovesHappenAtTheAnnualRate) {
  TinyWorld w = make_world(4, 10, 50, [](int, int, int, std::uint32_t id) { return random_group(id, 0.5); });
  MobilitySettings s = quiet_settings();
  s.params.base_move_rate = 0.3;
  s.params.base_threshold = 0;  // nobody is dissatisfied and every vacancy is acceptable
  MobilityPhase phase = make_phase(w, s, {0.5, 0.5});
  run_months(phase, 1, 12);
  const MobilityCounts c = phase.take_counts();
  // Each month every resident moves with 1 − 0.7^(1/12).
  const double p = 1.0 - std::pow(0.7, 1.0 / 12.0);
  const double expected = static_cast<double>(w.residents.size()) * 12 * p;
  EXPECT_NEAR(static_cast<double>(sum(c.moves_out)), expected, 4 * std::sqrt(expected * (1 - p)));
  EXPECT_EQ(sum(c.departures), 0);
}

TEST(Mobility, MoversMembershipsFollowTheirNewBlock) {
  TinyWorld w = make_world(4, 8, 40, [](int, int, int, std::uint32_t id) { return random_group(id, 0.3); });
  const std::vector<std::uint32_t> initial_block = w.residents.block;
  MobilitySettings s = quiet_settings();
  s.params.base_move_rate = 0.5;
  s.params.local_move_share = 0.2;  // many moves across wards, so schools must change too
  MobilityPhase phase = make_phase(w, s, {0.5, 0.5});
  run_months(phase, 1, 6);
  const MobilityCounts counts = phase.take_counts();
  std::int64_t moved = 0, changed_ward_pupils = 0;
  const Residents& r = w.residents;
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r.block[i] == initial_block[i]) continue;
    ++moved;
    EXPECT_EQ(r.member_venue(i, kStreet), w.street_of(r.block[i]));
    if (r.member_venue(i, kSchool) >= 0 && w.block_ward[initial_block[i]] != r.ward[i]) ++changed_ward_pupils;
  }
  EXPECT_GT(moved, 200);
  EXPECT_GT(changed_ward_pupils, 20);
  EXPECT_EQ(sum(counts.moves_out), sum(counts.moves_in));
  EXPECT_GE(sum(counts.moves_out), moved);  // some moved twice, or back
  expect_consistent(w, phase);
}

TEST(Mobility, RejoinVenuesKeepsMemberCountsExact) {
  TinyWorld w = make_world(2, 4, 10, [](int, int, int, std::uint32_t) { return 0; });
  const VenueDirectory directory(w.venues, w.types, w.block_ward, w.wards, {});
  Residents& r = w.residents;
  const std::uint32_t pupil = 0;  // child in ward 0, block 0
  ASSERT_EQ(r.age_band[pupil], static_cast<std::uint8_t>(AgeBand::child));
  const std::int32_t old_school = r.member_venue(pupil, kSchool);
  const auto members_before = w.venues.members;
  r.block[pupil] = 6;  // ward 1
  r.ward[pupil] = 1;
  RandomStream rng(StreamKey{1, 0}, pupil, 1, 270);
  rejoin_venues(r, w.venues, directory, pupil, {AgeBand::child, false}, rng);
  const std::int32_t new_school = r.member_venue(pupil, kSchool);
  EXPECT_EQ(r.member_venue(pupil, kStreet), 6);
  EXPECT_EQ(w.venues.ward[new_school], 1);
  EXPECT_EQ(w.venues.members[0], members_before[0] - 1);
  EXPECT_EQ(w.venues.members[6], members_before[6] + 1);
  EXPECT_EQ(w.venues.members[old_school], members_before[old_school] - 1);
  EXPECT_EQ(w.venues.members[new_school], members_before[new_school] + 1);

  // Growing up: a youth who becomes an adult leaves school; the street stays.
  r.age_band[pupil] = static_cast<std::uint8_t>(AgeBand::adult);
  rejoin_venues(r, w.venues, directory, pupil, {AgeBand::youth, false}, rng);
  EXPECT_EQ(r.member_venue(pupil, kSchool), -1);
  EXPECT_EQ(r.member_venue(pupil, kStreet), 6);
  Venues recount = w.venues;
  refresh_compositions(recount, r);
  EXPECT_EQ(recount.members, w.venues.members);
}

TEST(Mobility, NoBlockExceedsCapacityAndTotalsStayConstant) {
  TinyWorld w = make_world(3, 6, 30, [](int ward, int, int, std::uint32_t id) { return ward == 0 ? 1 : random_group(id, 0.1); });
  const std::size_t n = w.residents.size();
  MobilitySettings s{true, defaults_of<MobilityParams>(kMobilityParams)};
  s.params.base_move_rate = 0.3;
  s.params.out_migration_rate = 0.2;
  s.params.older_mortality = 0.1;
  s.params.move_probability = 0.2;
  std::vector<float> knowledge(n, 1.0f);
  MobilityPhase phase = make_phase(w, s, {0.3, 0.7}, 7, knowledge);
  for (std::size_t b = 0; b < w.blocks(); ++b) EXPECT_EQ(phase.block_capacity()[b], 32);  // ceil(30 × 1.05)
  std::int64_t arrivals = 0, departures = 0, births = 0, deaths = 0;
  for (int m = 1; m <= 25; ++m) {
    phase.run(first_of_month(m));
    expect_consistent(w, phase);
    ASSERT_EQ(w.residents.size(), n);
    const MobilityCounts c = phase.take_counts();
    arrivals += sum(c.arrivals), departures += sum(c.departures), births += sum(c.births), deaths += sum(c.deaths);
    for (std::uint32_t i : phase.replaced_slots()) EXPECT_LE(knowledge[i], 1.0f);
  }
  EXPECT_EQ(arrivals, departures);
  EXPECT_EQ(births, deaths);
  // Every replacement is handed out once for other mechanisms to forget.
  EXPECT_EQ(static_cast<std::int64_t>(phase.take_replaced().size()), arrivals + births);
  EXPECT_TRUE(phase.take_replaced().empty());
  EXPECT_GT(arrivals, 100);
  EXPECT_GT(deaths, 10);
  // Newcomers' knowledge is the newcomer value (0.2); everyone else's is 1 here.
  std::int64_t low_knowledge = 0;
  for (float k : knowledge) low_knowledge += k < 0.5f;
  EXPECT_GT(low_knowledge, 50);
}

TEST(Mobility, CompositionShiftsTowardInflowGroups) {
  TinyWorld w = make_world(4, 10, 50, [](int, int, int, std::uint32_t id) { return random_group(id, 0.1); });
  const std::size_t n = w.residents.size();
  auto count_group = [&](int g) {
    return std::count(w.residents.group.begin(), w.residents.group.end(), static_cast<std::uint8_t>(g));
  };
  const auto group0_before = static_cast<double>(count_group(0));
  MobilitySettings s = quiet_settings();
  s.params.out_migration_rate = 0.24;
  MobilityPhase phase = make_phase(w, s, {0.0, 1.0});
  run_months(phase, 1, 12);
  // Group 0 only leaves: each member stays the year with probability 0.76.
  const double expected = group0_before * 0.76;
  const double sd = std::sqrt(group0_before * 0.76 * 0.24);
  EXPECT_NEAR(static_cast<double>(count_group(0)), expected, 4 * sd);
  EXPECT_EQ(static_cast<std::size_t>(count_group(0) + count_group(1)), n);
  const MobilityCounts c = phase.take_counts();
  EXPECT_EQ(sum(c.arrivals), sum(c.departures));
  for (int ward = 0; ward < w.wards; ++ward) EXPECT_EQ(c.arrivals[c.cell(ward, 0)], 0);
  // Newcomers arrive with the newcomer English (mean 0.4), below residents' 0.9.
  double newcomer_english = 0;
  for (std::uint32_t i : phase.replaced_slots()) newcomer_english += w.residents.english[i];
  ASSERT_FALSE(phase.replaced_slots().empty());
  EXPECT_LT(newcomer_english / static_cast<double>(phase.replaced_slots().size()), 0.6);
}

TEST(Mobility, ChainMigrationSettlesNewcomersAmongCoEthnics) {
  // Group 1 lives only in the first half of ward 0's blocks; every newcomer belongs to it.
  auto mean_coethnic_share_of_newcomers = [](double chain) {
    TinyWorld w = make_world(4, 10, 50, [](int ward, int block, int, std::uint32_t) { return ward == 0 && block < 5 ? 1 : 0; });
    MobilitySettings s = quiet_settings();
    s.params.out_migration_rate = 0.3;
    s.params.chain_strength = chain;
    MobilityPhase phase = make_phase(w, s, {0.0, 1.0});
    phase.run(first_of_month(1));
    const auto counts = phase.block_group_counts();
    const auto occupancy = phase.block_occupancy();
    double share = 0;
    for (std::uint32_t i : phase.replaced_slots()) {
      const std::uint32_t b = w.residents.block[i];
      share += static_cast<double>(counts[b * 2 + 1] - 1) / static_cast<double>(occupancy[b] - 1);
    }
    EXPECT_GT(phase.replaced_slots().size(), 20u);
    return share / static_cast<double>(phase.replaced_slots().size());
  };
  const double random = mean_coethnic_share_of_newcomers(0.0);
  const double chained = mean_coethnic_share_of_newcomers(0.9);
  EXPECT_GT(chained, random + 0.2) << "chain " << chained << " vs random placement " << random;
}

TEST(Mobility, AgeingMovesExpectedSharesAndNewAdultsLeaveSchool) {
  // 100,000 residents, a quarter in each band: 3.5 sd tells 1/11 from 1/10.
  TinyWorld w = make_world(4, 50, 500, [](int, int, int, std::uint32_t id) { return random_group(id, 0.3); });
  const Residents before = w.residents;
  MobilitySettings s = quiet_settings();
  s.params.older_mortality = 0.045;
  MobilityPhase phase = make_phase(w, s, {0.5, 0.5});
  const Date new_year = Date::from_ymd(2021, 1, 1);
  phase.run(Day{new_year, new_year - kRunStart});

  std::vector<std::uint8_t> replaced(before.size(), 0);
  for (std::uint32_t i : phase.replaced_slots()) replaced[i] = 1;
  std::array<double, kNumAgeBands> moved_up{}, in_band{};
  const Residents& r = w.residents;
  for (std::size_t i = 0; i < r.size(); ++i) {
    in_band[before.age_band[i]] += 1;
    if (replaced[i]) {
      // Death replaced by a birth: a child of the same group in the same block, at school.
      EXPECT_EQ(before.age_band[i], static_cast<std::uint8_t>(AgeBand::older));
      EXPECT_EQ(r.age_band[i], static_cast<std::uint8_t>(AgeBand::child));
      EXPECT_EQ(r.group[i], before.group[i]);
      EXPECT_EQ(r.block[i], before.block[i]);
      EXPECT_GE(r.member_venue(i, kSchool), 0);
      continue;
    }
    const int change = r.age_band[i] - before.age_band[i];
    ASSERT_TRUE(change == 0 || change == 1) << "resident " << i;
    moved_up[before.age_band[i]] += change;
    if (change == 1 && r.age_band[i] == static_cast<std::uint8_t>(AgeBand::adult)) {
      EXPECT_EQ(r.member_venue(i, kSchool), -1) << "a new adult still at school";
    }
    if (change == 1 && r.age_band[i] == static_cast<std::uint8_t>(AgeBand::youth)) {
      EXPECT_EQ(r.member_venue(i, kSchool), before.member_venue(i, kSchool)) << "a new youth changed school";
    }
  }
  const std::array<double, kNumAgeBands> rate{1.0 / 11.0, 1.0 / 7.0, 1.0 / 47.0, 0.045};
  const MobilityCounts counts = phase.take_counts();
  moved_up[3] = static_cast<double>(sum(counts.deaths));
  for (int a = 0; a < kNumAgeBands; ++a) {
    const double expected = in_band[a] * rate[a];
    EXPECT_NEAR(moved_up[a], expected, 3.5 * std::sqrt(expected * (1 - rate[a]))) << kAgeBandNames[a];
  }
  EXPECT_EQ(sum(counts.births), sum(counts.deaths));
  EXPECT_EQ(static_cast<double>(phase.replaced_slots().size()), moved_up[3]);
  expect_consistent(w, phase);
}

TEST(Mobility, ActsOnlyOnTheFirstOfTheMonthAfterTheStart) {
  TinyWorld w = make_world(2, 4, 20, [](int, int, int, std::uint32_t id) { return random_group(id, 0.5); });
  const Residents before = w.residents;
  MobilitySettings s{true, defaults_of<MobilityParams>(kMobilityParams)};
  s.params.base_move_rate = 1.0;
  MobilityPhase phase = make_phase(w, s, {0.5, 0.5});
  phase.run(Day{kRunStart, 0});                          // the world was built for this day
  phase.run(Day{kRunStart + 14, 14});                    // mid-month
  EXPECT_EQ(w.residents.block, before.block);
  EXPECT_EQ(w.residents.age_band, before.age_band);
  phase.run(first_of_month(1));
  EXPECT_NE(w.residents.block, before.block);

  MobilitySettings off = s;
  off.enabled = false;
  TinyWorld quiet = make_world(2, 4, 20, [](int, int, int, std::uint32_t id) { return random_group(id, 0.5); });
  MobilityPhase disabled = make_phase(quiet, off, {0.5, 0.5});
  disabled.run(first_of_month(1));
  EXPECT_EQ(quiet.residents.block, before.block);
}

TEST(Mobility, RejectsStreetsThatAreNotOnePerBlock) {
  TinyWorld w = make_world(2, 4, 10, [](int, int, int, std::uint32_t) { return 0; });
  w.block_ward.push_back(1);  // a ninth block without a street
  EXPECT_THROW(make_phase(w, quiet_settings(), {1.0, 0.0}), std::invalid_argument);
  TinyWorld v = make_world(2, 4, 10, [](int, int, int, std::uint32_t) { return 0; });
  MobilitySettings migrating = quiet_settings();
  migrating.params.out_migration_rate = 0.1;
  EXPECT_THROW(make_phase(v, migrating, {0.0, 0.0}), std::invalid_argument);
}

// Everything on, crossing a new year: same seed twice, and 1 vs 2 threads, agree exactly.
struct Snapshot {
  Residents residents;
  std::vector<std::uint32_t> members;
  std::vector<float> member_group_share;
  std::int64_t events = 0;
};

Snapshot full_run(std::uint64_t seed, int threads) {
  return with_threads(threads, [seed] {
    // 40,000 residents: several decision chunks and a parallel composition refresh.
    TinyWorld w = make_world(4, 20, 500, [](int ward, int, int, std::uint32_t id) { return ward == 0 ? 1 : random_group(id, 0.2); });
    MobilitySettings s{true, defaults_of<MobilityParams>(kMobilityParams)};
    s.params.out_migration_rate = 0.2;
    s.params.base_move_rate = 0.2;
    s.params.move_probability = 0.2;
    s.params.base_threshold = 0.5;
    MobilityPhase phase = make_phase(w, s, {0.4, 0.6}, seed);
    run_months(phase, 1, 14);
    const MobilityCounts c = phase.take_counts();
    Snapshot out{w.residents, w.venues.members, w.venues.member_group_share,
                 sum(c.moves_out) + sum(c.arrivals) + sum(c.births)};
    return out;
  });
}

void expect_same(const Snapshot& a, const Snapshot& b) {
  EXPECT_EQ(a.residents.group, b.residents.group);
  EXPECT_EQ(a.residents.age_band, b.residents.age_band);
  EXPECT_EQ(a.residents.block, b.residents.block);
  EXPECT_EQ(a.residents.ward, b.residents.ward);
  EXPECT_EQ(a.residents.english, b.residents.english);
  EXPECT_EQ(a.residents.anxiety, b.residents.anxiety);
  EXPECT_EQ(a.residents.warmth, b.residents.warmth);
  EXPECT_EQ(a.residents.disposition, b.residents.disposition);
  EXPECT_EQ(a.residents.membership, b.residents.membership);
  EXPECT_EQ(a.members, b.members);
  EXPECT_EQ(a.member_group_share, b.member_group_share);
  EXPECT_EQ(a.events, b.events);
}

TEST(Mobility, DeterministicForSeedAndThreadCount) {
  const Snapshot a = full_run(11, 1);
  EXPECT_GT(a.events, 100);
  expect_same(a, full_run(11, 1));
  expect_same(a, full_run(11, 2));
  const Snapshot other = full_run(12, 2);
  EXPECT_NE(a.residents.block, other.residents.block);
}

}  // namespace
