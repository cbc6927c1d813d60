// The generic kernel: keyed random streams and the session index.
#include "core/rng.hpp"
#include "core/session_index.hpp"

#include <boost/random/poisson_distribution.hpp>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/support/checks.hpp"

using namespace contactsim;
using namespace contactsim::test;

namespace {

std::vector<double> draws(RandomStream s, int n) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = s.uniform();
  return v;
}

}  // namespace

TEST(RandomStream, SameKeyAndCounterGiveTheSameNumbers) {
  const StreamKey key{42, 0};
  EXPECT_EQ(draws(RandomStream(key, 7, 3, 100), 50), draws(RandomStream(key, 7, 3, 100), 50));
}

// skip(k) lands where k draws would have, from any position inside or between blocks.
TEST(RandomStream, SkipReachesTheSamePositionAsDrawing) {
  const StreamKey key{42, 0};
  for (int before = 0; before < 6; ++before)
    for (int words = 0; words < 11; ++words) {
      RandomStream drawn(key, 7, 3, 100), skipped(key, 7, 3, 100);
      for (int k = 0; k < before; ++k) drawn(), skipped();
      for (int k = 0; k < words; ++k) drawn();
      skipped.skip(static_cast<std::uint64_t>(words));
      EXPECT_EQ(skipped.position(), static_cast<std::uint64_t>(before + words));
      EXPECT_EQ(draws(drawn, 9), draws(skipped, 9)) << before << " drawn, then " << words << " skipped";
    }
}

TEST(RandomStream, FirstFourAreTheStreamsFirstFourNumbers) {
  const StreamKey key{42, 3};
  const RandomStream::PreparedKey prepared(key);
  for (std::uint32_t entity : {0u, 1u, 77777u}) {
    RandomStream stream(key, entity, 9, 5);
    const std::array<std::uint32_t, 4> expected{stream(), stream(), stream(), stream()};
    EXPECT_EQ(RandomStream::first_four(prepared, entity, 9, 5), expected) << entity;
  }
}

TEST(RandomStream, NeighbouringKeysAreUncorrelated) {
  // Any one field of the key or counter changing must give an unrelated stream. With 20,000
  // draws the sample correlation of independent streams has sd ≈ 0.007; 0.035 is 5 sd.
  constexpr int n = 20000;
  const StreamKey key{42, 0};
  const auto base = draws(RandomStream(key, 7, 3, 100), n);
  const std::vector<std::vector<double>> neighbours{
      draws(RandomStream(StreamKey{43, 0}, 7, 3, 100), n), draws(RandomStream(StreamKey{42, 1}, 7, 3, 100), n),
      draws(RandomStream(key, 8, 3, 100), n), draws(RandomStream(key, 7, 4, 100), n),
      draws(RandomStream(key, 7, 3, 101), n)};
  for (const auto& other : neighbours) {
    EXPECT_LT(std::abs(correlation(base, other)), 0.035);
    EXPECT_NE(base, other);
  }
}

TEST(RandomStream, UniformIsUniform) {
  // Chi-square over 20 bins, 100,000 draws: 19 dof, P(chi2 > 43.8) = 0.001.
  RandomStream s(StreamKey{1, 0}, 0, 0, 0);
  std::vector<int> bins(20, 0);
  constexpr int n = 100000;
  for (int k = 0; k < n; ++k) ++bins[static_cast<std::size_t>(s.uniform() * 20)];
  double chi2 = 0;
  for (int b : bins) chi2 += (b - n / 20.0) * (b - n / 20.0) / (n / 20.0);
  EXPECT_LT(chi2, 43.8);
}

TEST(RandomStream, DrivesBoostDistributions) {
  RandomStream s(StreamKey{5, 0}, 1, 2, 3);
  boost::random::poisson_distribution<int, double> poisson(2.5);
  double sum = 0;
  constexpr int n = 50000;
  for (int k = 0; k < n; ++k) sum += poisson(s);
  EXPECT_NEAR(sum / n, 2.5, 0.05);  // sd of the mean ≈ 0.007
}

TEST(RandomStream, BelowStaysInRange) {
  RandomStream s(StreamKey{9, 0}, 0, 0, 0);
  std::vector<int> seen(7, 0);
  for (int k = 0; k < 7000; ++k) ++seen[s.below(7)];
  for (int c : seen) EXPECT_GT(c, 800);
}

TEST(SessionIndex, GroupsByVenueThenStratumInIdOrder) {
  const std::vector<std::int32_t> venue_of{2, 0, -1, 2, 0, 2, 1, -1};
  const std::vector<std::uint8_t> stratum{1, 0, 0, 0, 1, 1, 0, 1};
  SessionIndex index;
  index.build(venue_of, stratum, 3, 2);
  EXPECT_EQ(index.attendees(), 6u);
  EXPECT_EQ(std::vector<std::uint32_t>(index.members(0).begin(), index.members(0).end()), (std::vector<std::uint32_t>{1, 4}));
  EXPECT_EQ(index.size(1), 1u);
  const auto v2 = index.members(2);
  EXPECT_EQ(std::vector<std::uint32_t>(v2.begin(), v2.end()), (std::vector<std::uint32_t>{3, 0, 5}));
  const auto v2s1 = index.members(2, 1);
  EXPECT_EQ(std::vector<std::uint32_t>(v2s1.begin(), v2s1.end()), (std::vector<std::uint32_t>{0, 5}));
  EXPECT_EQ(index.stratum_begin(2, 1) - index.venue_begin(2), 1u);
}

// Attendance counts its attendees chunk by chunk as it assigns them (start_counting, histogram,
// place); the index must be build's, at any thread count.
TEST(SessionIndex, CountingWhileAssigningGivesBuildsIndex) {
  constexpr std::size_t n = 50000;
  constexpr std::int32_t venues = 300;
  std::vector<std::int32_t> venue_of(n);
  std::vector<std::uint8_t> stratum(n);
  RandomStream s(StreamKey{4, 0}, 0, 0, 0);
  for (std::size_t i = 0; i < n; ++i) {
    stratum[i] = static_cast<std::uint8_t>(s.below(3));
    venue_of[i] = s.below(4) == 0 ? SessionIndex::kNone : static_cast<std::int32_t>(s.below(venues));
  }
  SessionIndex built;
  built.build(venue_of, stratum, venues, 3);
  for (int threads : {1, 2}) {
    SessionIndex counted;
    with_threads(threads, [&] {
      counted.start_counting(n, venues, 3);
      EXPECT_EQ(counted.chunks(), static_cast<std::size_t>(threads));  // 50,000 agents: a chunk per thread
      EXPECT_EQ(counted.chunk_begin(counted.chunks()), n);
#pragma omp parallel for schedule(static)
      for (std::size_t c = 0; c < counted.chunks(); ++c) {
        std::uint32_t* attendees = counted.histogram(c);
        for (std::size_t i = counted.chunk_begin(c); i < counted.chunk_begin(c + 1); ++i)
          if (venue_of[i] != SessionIndex::kNone) ++attendees[static_cast<std::size_t>(venue_of[i]) * 3 + stratum[i]];
      }
      counted.place(venue_of, stratum);
    });
    ASSERT_EQ(counted.attendees(), built.attendees());
    for (std::int32_t v = 0; v < venues; ++v)
      for (int g = 0; g < 3; ++g) {
        const auto a = counted.members(v, g), b = built.members(v, g);
        ASSERT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end())) << "venue " << v << ", stratum " << g;
      }
  }
  SessionIndex wrong;
  wrong.start_counting(n - 1, venues, 3);
  EXPECT_THROW(wrong.place(venue_of, stratum), std::logic_error);
}

TEST(SessionIndex, SameResultForAnyThreadCountAcrossChunks) {
  // More agents than one chunk so the per-chunk histograms and their prefix are exercised.
  constexpr std::size_t n = 200000;
  std::vector<std::int32_t> venue_of(n);
  std::vector<std::uint8_t> stratum(n);
  RandomStream s(StreamKey{3, 0}, 0, 0, 0);
  for (std::size_t i = 0; i < n; ++i) {
    venue_of[i] = static_cast<std::int32_t>(s.below(500)) - 50;  // some -1..-50 → treat as none
    if (venue_of[i] < 0) venue_of[i] = SessionIndex::kNone;
    stratum[i] = static_cast<std::uint8_t>(s.below(4));
  }
  SessionIndex one, two;
  with_threads(1, [&] { one.build(venue_of, stratum, 450, 4); });
  with_threads(2, [&] { two.build(venue_of, stratum, 450, 4); });
  ASSERT_EQ(one.attendees(), two.attendees());
  for (std::int32_t v = 0; v < 450; ++v) {
    const auto a = one.members(v), b = two.members(v);
    ASSERT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end()));
    for (std::size_t k = 1; k < a.size(); ++k)  // stratum-major, id-minor
      EXPECT_TRUE(stratum[a[k - 1]] < stratum[a[k]] || (stratum[a[k - 1]] == stratum[a[k]] && a[k - 1] < a[k]));
    for (std::uint32_t i : a) EXPECT_EQ(venue_of[i], v);
  }
}
