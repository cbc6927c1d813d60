// Tension (DESIGN §3.9): knowledge gaps drive anti-social-behaviour incidents, services and
// leaflets close the gap, incidents raise ward tension, tension raises anxiety and lowers
// safety and decays with its half-life, ended services cost trust, thread-count independence
// and bounds.
#include "models/mechanisms/tension.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "tests/support/checks.hpp"
#include "tests/support/city.hpp"

using namespace contactsim;
using namespace contactsim::test;

namespace {

constexpr StreamKey kKey{20220131, 0};

// One resident description per ward block: `per_ward` residents in each ward, all of `group`
// unless a ward-to-group map is given, English `english`.
struct CitySpec {
  int wards = 2;
  std::size_t per_ward = 1000;
  int groups = 1;
  std::vector<int> group_of_ward = {};  // empty: everyone in group 0
  float english = 1.0f;
  float anxiety = 0.3f;
};

// Residents with every vector filled; residents of ward w occupy [w·per_ward, (w+1)·per_ward),
// each ward one block.
Residents make_city(const CitySpec& spec) {
  const std::size_t n = spec.per_ward * static_cast<std::size_t>(spec.wards);
  std::vector<std::uint8_t> groups(n, 0);
  for (std::size_t i = 0; i < n && !spec.group_of_ward.empty(); ++i)
    groups[i] = static_cast<std::uint8_t>(spec.group_of_ward[i / spec.per_ward]);
  Residents r = hand_built_residents(groups, spec.groups, {.english = spec.english, .anxiety = spec.anxiety});
  for (std::size_t i = 0; i < n; ++i) {
    r.ward[i] = static_cast<std::uint16_t>(i / spec.per_ward);
    r.block[i] = static_cast<std::uint32_t>(i / spec.per_ward);
  }
  return r;
}

TensionSettings defaults() { return {true, defaults_of<TensionParams>(kTensionParams)}; }

Date start_date() { return Date::from_ymd(2021, 1, 1); }
Day day_number(int d) { return Day{start_date() + d, d}; }

void run_days(TensionPhase& phase, int first, int days) {
  for (int d = first; d < first + days; ++d) phase.run(day_number(d));
}

// Mean of a per-resident array over ward w's residents (contiguous by construction).
double ward_mean(const std::vector<float>& values, const CitySpec& spec, int w) {
  double sum = 0;
  for (std::size_t k = 0; k < spec.per_ward; ++k) sum += values[w * spec.per_ward + k];
  return sum / static_cast<double>(spec.per_ward);
}

bool within_poisson(double observed, double expected, double sds) {
  return std::abs(observed - expected) <= sds * std::sqrt(expected);
}

}  // namespace

TEST(Tension, ParameterDefaultsLieInTheirRanges) { expect_defaults_in_range_and_sourced(kTensionParams); }

TEST(Tension, LargerKnowledgeGapGivesMoreIncidentsAndHigherTension) {
  // Two wards alike in all but knowledge: ward 0's group knows how things work, ward 1's
  // newcomer group mostly does not. Learning is off so the gap holds for the whole year.
  const CitySpec spec{.wards = 2, .per_ward = 5000, .groups = 2, .group_of_ward = {0, 1}};
  Residents r = make_city(spec);
  TensionSettings s = defaults();
  s.params.learning_rate = 0;
  TensionState state = make_tension_state(s, r.size(), spec.wards);
  init_knowledge(state, r, {1.0, 0.2});
  TensionPhase phase(s, r, state, kKey);

  double tension_sum[2] = {0, 0};
  for (int d = 0; d < 365; ++d) {
    phase.run(day_number(d));
    for (int w = 0; w < 2; ++w) tension_sum[w] += state.tension[w];
  }
  const std::vector<std::int64_t> incidents = state.take_incidents();
  const double base = s.params.base_rate * 5000 * 365;  // ≈ 110 a year: the ONS order of magnitude
  EXPECT_TRUE(within_poisson(static_cast<double>(incidents[0]), base, 4)) << incidents[0];
  EXPECT_TRUE(within_poisson(static_cast<double>(incidents[1]), base * (1 + s.params.gap_weight * 0.8), 4))
      << incidents[1];
  EXPECT_GT(incidents[1], incidents[0] * 2);
  EXPECT_GT(tension_sum[1], tension_sum[0] * 2);
}

TEST(Tension, ServingAWardLowersItsIncidentsAndSpeedsLearning) {
  const CitySpec spec{.wards = 2, .per_ward = 20000};
  Residents r = make_city(spec);
  TensionSettings s = defaults();
  s.params.learning_rate = 0;  // isolate the direct effect on incidents first
  TensionState state = make_tension_state(s, r.size(), spec.wards);
  init_knowledge(state, r, {0.5});
  state.serve_ward(1, true);
  TensionPhase phase(s, r, state, kKey);
  run_days(phase, 0, 365);
  const std::vector<std::int64_t> incidents = state.take_incidents();
  const double unserved = s.params.base_rate * 20000 * 365 * (1 + s.params.gap_weight * 0.5);
  EXPECT_TRUE(within_poisson(static_cast<double>(incidents[0]), unserved, 4)) << incidents[0];
  EXPECT_TRUE(within_poisson(static_cast<double>(incidents[1]), unserved * (1 - s.params.services_effect), 4))
      << incidents[1];
  EXPECT_LT(incidents[1], incidents[0]);

  // With learning on, champions close the knowledge gap faster in the ward they serve.
  TensionSettings learning = defaults();
  TensionState state2 = make_tension_state(learning, r.size(), spec.wards);
  init_knowledge(state2, r, {0.5});
  state2.serve_ward(1, true);
  TensionPhase phase2(learning, r, state2, kKey);
  run_days(phase2, 0, 100);
  EXPECT_GT(ward_mean(state2.knowledge, spec, 1), ward_mean(state2.knowledge, spec, 0) + 0.01);
  EXPECT_GT(ward_mean(state2.knowledge, spec, 0), 0.5);  // everyone learns a little
}

TEST(Tension, TranslatedLeafletsHelpLowEnglishResidentsMore) {
  // Ward 0 gets an English-only leaflet, ward 1 a translated one. Half of each ward reads
  // English well (0.9), half poorly (0.3).
  CitySpec spec{.wards = 2, .per_ward = 20000};
  Residents r = make_city(spec);
  for (std::size_t i = 0; i < r.size(); ++i) r.english[i] = (i % 2 == 0) ? 0.3f : 0.9f;
  TensionSettings s = defaults();
  s.params.learning_rate = 0;
  TensionState state = make_tension_state(s, r.size(), spec.wards);
  init_knowledge(state, r, {0.2});
  state.leaflet_campaign(0, false, start_date() + 3);
  state.leaflet_campaign(1, true, start_date() + 3);
  TensionPhase phase(s, r, state, kKey);

  run_days(phase, 0, 3);  // before the campaign date nothing changes
  EXPECT_DOUBLE_EQ(ward_mean(state.knowledge, spec, 0), ward_mean(std::vector<float>(r.size(), 0.2f), spec, 0));
  run_days(phase, 3, 1);
  EXPECT_TRUE(state.pending_leaflets.empty());

  auto mean_of = [&](int w, bool low_english) {
    double sum = 0;
    int count = 0;
    for (std::size_t k = 0; k < spec.per_ward; ++k) {
      const std::size_t i = w * spec.per_ward + k;
      if ((r.english[i] < 0.7f) == low_english) sum += state.knowledge[i], ++count;
    }
    return sum / count;
  };
  const double full_gain = s.params.leaflet_reach * s.params.leaflet_effect * 0.8;  // 0.12
  const double low_untranslated = mean_of(0, true) - 0.2, low_translated = mean_of(1, true) - 0.2;
  const double high_untranslated = mean_of(0, false) - 0.2, high_translated = mean_of(1, false) - 0.2;
  EXPECT_NEAR(low_translated, full_gain, 0.01);
  EXPECT_NEAR(low_untranslated, full_gain * s.params.untranslated_comprehension, 0.01);
  EXPECT_GT(low_translated, low_untranslated + 0.05);
  // Residents who read English well gain alike from either leaflet.
  EXPECT_NEAR(high_untranslated, full_gain, 0.01);
  EXPECT_NEAR(high_translated, full_gain, 0.01);
}

TEST(Tension, CityWideLeafletReachesEveryWard) {
  const CitySpec spec{.wards = 3, .per_ward = 4000};
  Residents r = make_city(spec);
  TensionSettings s = defaults();
  s.params.learning_rate = 0;
  TensionState state = make_tension_state(s, r.size(), spec.wards);
  init_knowledge(state, r, {0.2});
  state.leaflet_campaign(-1, true, start_date());
  TensionPhase phase(s, r, state, kKey);
  phase.run(day_number(0));
  for (int w = 0; w < 3; ++w) EXPECT_NEAR(ward_mean(state.knowledge, spec, w), 0.2 + 0.12, 0.015) << w;
}

TEST(Tension, TensionRaisesAnxietyAndLowersSafety) {
  const CitySpec spec{.wards = 2, .per_ward = 100, .anxiety = 0.3f};
  Residents r = make_city(spec);
  TensionSettings s = defaults();
  s.params.base_rate = 0;  // no incidents: tension only decays
  s.params.interval_days = 1;
  TensionState state = make_tension_state(s, r.size(), spec.wards);
  state.tension[1] = 0.8f;
  TensionPhase phase(s, r, state, kKey);
  phase.run(day_number(0));

  const double t = 0.8 * std::exp2(-1.0 / s.params.half_life_days);
  EXPECT_NEAR(state.tension[1], t, 1e-6);
  EXPECT_EQ(r.anxiety[0], 0.3f);  // ward 0: no tension, no change at all
  EXPECT_NEAR(r.anxiety[spec.per_ward], 0.3 + s.params.anxiety_from_tension * t * 0.7, 1e-6);
  EXPECT_FLOAT_EQ(state.safety[0], 1.0f);
  EXPECT_NEAR(state.safety[1], 1.0 - s.params.fear_weight * t, 1e-6);
  EXPECT_LT(state.safety[1], 1.0f);
}

TEST(Tension, TensionHalvesEveryHalfLifeOnceIncidentsStop) {
  const CitySpec spec{.wards = 1, .per_ward = 100};
  Residents r = make_city(spec);
  TensionSettings s = defaults();
  s.params.base_rate = 0;
  s.params.half_life_days = 30;
  TensionState state = make_tension_state(s, r.size(), spec.wards);
  state.tension[0] = 0.8f;
  TensionPhase phase(s, r, state, kKey);
  run_days(phase, 0, 30);
  EXPECT_NEAR(state.tension[0], 0.4, 1e-4);
  run_days(phase, 30, 30);
  EXPECT_NEAR(state.tension[0], 0.2, 1e-4);
}

TEST(Tension, IncidentsRaiseTensionByImpactPerThousand) {
  // One day with a huge rate: tension rises by incident_impact per incident per 1,000 residents.
  const CitySpec spec{.wards = 1, .per_ward = 2000};
  Residents r = make_city(spec);
  TensionSettings s = defaults();
  s.params.base_rate = 0.001;  // expected 2 incidents
  TensionState state = make_tension_state(s, r.size(), spec.wards);
  TensionPhase phase(s, r, state, kKey);
  for (int d = 0; d < 50 && state.incidents[0] == 0; ++d) {
    state.tension[0] = 0;
    phase.run(day_number(d));
  }
  ASSERT_GT(state.incidents[0], 0);
  EXPECT_NEAR(state.tension[0], s.params.incident_impact * static_cast<double>(state.incidents[0]) / 2.0, 1e-6);
}

TEST(Tension, EndingAServiceLowersServedResidentsTrustOnly) {
  const CitySpec spec{.wards = 3, .per_ward = 200};
  Residents r = make_city(spec);
  TensionSettings s = defaults();
  TensionState state = make_tension_state(s, r.size(), spec.wards);
  state.serve_ward(0, true);
  state.serve_ward(2, true);
  TensionPhase phase(s, r, state, kKey);
  run_days(phase, 0, 100);
  phase.settle();
  const float built = state.trust[0];
  EXPECT_GT(built, s.params.initial_trust);                       // trust grows while served
  EXPECT_FLOAT_EQ(state.trust[spec.per_ward], static_cast<float>(s.params.initial_trust));

  state.serve_ward(0, false);  // ward 0's programme ends abruptly
  state.serve_ward(1, false);  // ward 1 was never served: nothing ends
  const float ward2_before = state.trust[2 * spec.per_ward];
  phase.run(day_number(100));
  EXPECT_NEAR(state.trust[0], built * (1.0 - s.params.trust_loss_on_end), 1e-6);
  EXPECT_FLOAT_EQ(state.trust[spec.per_ward], static_cast<float>(s.params.initial_trust));
  EXPECT_TRUE(state.services_ended.empty());
  phase.settle();
  EXPECT_GT(state.trust[2 * spec.per_ward], ward2_before);  // still served, still growing

  // The loss happens once, not every day after the end.
  const float after = state.trust[0];
  run_days(phase, 101, 10);
  EXPECT_FLOAT_EQ(state.trust[0], after);
}

TEST(Tension, ProgrammeCutShortLowersItsParticipantsTrustOnly) {
  const CitySpec spec{.wards = 1, .per_ward = 10};
  Residents r = make_city(spec);
  TensionSettings s = defaults();
  TensionState state = make_tension_state(s, r.size(), spec.wards);
  TensionPhase phase(s, r, state, kKey);
  const std::vector<std::uint32_t> cut{2, 5};
  state.programme_cut_short(cut);
  phase.run(day_number(0));
  const auto initial = static_cast<float>(s.params.initial_trust);
  for (std::uint32_t i = 0; i < r.size(); ++i) {
    const bool participant = i == 2 || i == 5;
    EXPECT_FLOAT_EQ(state.trust[i], participant ? initial * static_cast<float>(1 - s.params.trust_loss_on_end) : initial)
        << i;
  }
  EXPECT_TRUE(state.programme_dropouts.empty());
  const std::vector<std::uint32_t> unknown{10};
  EXPECT_THROW(state.programme_cut_short(unknown), std::out_of_range);
}

TEST(Tension, ReusedSlotsStartAfreshAsTheirNewGroup) {
  const CitySpec spec{.wards = 1, .per_ward = 6, .groups = 2};
  Residents r = make_city(spec);
  TensionSettings s = defaults();
  TensionState state = make_tension_state(s, r.size(), spec.wards);
  init_knowledge(state, r, {0.9, 0.4});
  state.trust.assign(r.size(), 0.1f);
  r.group[3] = 1;  // slot 3 is now an in-migrant of group 1
  const std::vector<std::uint32_t> slots{3};
  reinitialise_residents(state, r, slots, {0.9, 0.4}, s);
  EXPECT_FLOAT_EQ(state.knowledge[3], 0.4f);
  EXPECT_FLOAT_EQ(state.trust[3], static_cast<float>(s.params.initial_trust));
  EXPECT_FLOAT_EQ(state.knowledge[2], 0.9f);
  EXPECT_FLOAT_EQ(state.trust[2], 0.1f);
  const std::vector<std::uint32_t> beyond{6};
  EXPECT_THROW(reinitialise_residents(state, r, beyond, {0.9, 0.4}, s), std::out_of_range);
}

TEST(Tension, WeeklySettlingMatchesDailySteps) {
  // Without incidents (so the week-old knowledge gap cannot matter) and with trust fixed (its
  // within-week effect on learning is the one approximation), settling every 7 days leaves
  // knowledge, trust and anxiety where daily steps would — also across a service ending.
  const CitySpec spec{.wards = 3, .per_ward = 500, .anxiety = 0.2f};
  auto run_with_interval = [&](double interval, double trust_gain) {
    Residents r = make_city(spec);
    for (std::size_t i = 0; i < r.size(); ++i) r.english[i] = static_cast<float>(i % 10) / 10.0f;
    TensionSettings s = defaults();
    s.params.base_rate = 0;
    s.params.interval_days = interval;
    s.params.trust_gain = trust_gain;
    TensionState state = make_tension_state(s, r.size(), spec.wards);
    init_knowledge(state, r, {0.3});
    state.tension = {0.9f, 0.4f, 0.0f};
    state.serve_ward(0, true);
    state.serve_ward(1, true);
    TensionPhase phase(s, r, state, kKey);
    run_days(phase, 0, 17);
    state.serve_ward(1, false);
    run_days(phase, 17, 11);  // 28 days: a whole number of weeks, so both end settled
    return std::make_tuple(state.knowledge, state.trust, r.anxiety.to_vector());
  };
  auto near = [](const std::vector<float>& a, const std::vector<float>& b, float tolerance) {
    float worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
    return a.size() == b.size() && worst <= tolerance;
  };
  const auto [k1, t1, x1] = run_with_interval(1, 0);
  const auto [k7, t7, x7] = run_with_interval(7, 0);
  EXPECT_TRUE(near(k1, k7, 1e-5f));
  EXPECT_TRUE(near(t1, t7, 1e-6f));
  EXPECT_TRUE(near(x1, x7, 1e-5f));
  EXPECT_FALSE(near(x1, std::vector<float>(x1.size(), 0.2f), 1e-3f));  // tension did raise anxiety
  // With trust growing, learning differs only by trust's growth within a week: ~2e-4 of
  // knowledge after a month served at the defaults.
  const auto [k1g, t1g, x1g] = run_with_interval(1, defaults().params.trust_gain);
  const auto [k7g, t7g, x7g] = run_with_interval(7, defaults().params.trust_gain);
  EXPECT_TRUE(near(k1g, k7g, 5e-4f));
  EXPECT_TRUE(near(t1g, t7g, 1e-6f));
}

TEST(Tension, TrustScalesTheChampionsEffectOnLearning) {
  const CitySpec spec{.wards = 2, .per_ward = 100};
  Residents r = make_city(spec);
  TensionSettings s = defaults();
  TensionState state = make_tension_state(s, r.size(), spec.wards);
  init_knowledge(state, r, {0.0});
  state.trust.assign(state.trust.size(), 0.0f);  // ward 0 distrusts the services entirely…
  for (std::size_t k = 0; k < spec.per_ward; ++k) state.trust[spec.per_ward + k] = 1.0f;  // …ward 1 fully
  state.serve_ward(0, true);
  state.serve_ward(1, true);
  s.params.trust_gain = 0;
  TensionPhase phase(s, r, state, kKey);
  phase.run(day_number(0));
  EXPECT_EQ(state.knowledge[0], 0.0f);  // day 0 is not the end of a weekly interval…
  phase.settle();                       // …until it is settled by hand
  const double own = s.params.learning_rate * (1 + s.params.english_learning * 1.0);
  EXPECT_NEAR(state.knowledge[0], own, 1e-7);  // no trust: champions add nothing
  EXPECT_NEAR(state.knowledge[spec.per_ward], 1 - (1 - own) * (1 - own * s.params.service_learning), 1e-7);
}

TEST(Tension, MeansPerWardAndGroup) {
  const CitySpec spec{.wards = 2, .per_ward = 10, .groups = 3, .group_of_ward = {0, 2}};
  Residents r = make_city(spec);
  TensionSettings s = defaults();
  TensionState state = make_tension_state(s, r.size(), spec.wards);
  init_knowledge(state, r, {0.9, 0.6, 0.4});
  const std::vector<double> k = mean_knowledge(state, r);
  ASSERT_EQ(k.size(), 6u);
  EXPECT_NEAR(k[0 * 3 + 0], 0.9, 1e-6);
  EXPECT_EQ(k[0 * 3 + 1], 0.0);  // nobody of group 1 anywhere
  EXPECT_NEAR(k[1 * 3 + 2], 0.4, 1e-6);
  const std::vector<double> t = mean_trust(state, r);
  EXPECT_NEAR(t[1 * 3 + 2], s.params.initial_trust, 1e-6);
}

TEST(Tension, TakeIncidentsResetsTheCounts) {
  const CitySpec spec{.wards = 1, .per_ward = 10000};
  Residents r = make_city(spec);
  TensionSettings s = defaults();
  s.params.base_rate = 0.001;
  TensionState state = make_tension_state(s, r.size(), spec.wards);
  TensionPhase phase(s, r, state, kKey);
  run_days(phase, 0, 10);
  EXPECT_GT(state.take_incidents()[0], 0);
  EXPECT_EQ(state.take_incidents()[0], 0);
}

TEST(Tension, BadInputsAreRejected) {
  const CitySpec spec{.wards = 2, .per_ward = 10, .groups = 2};
  Residents r = make_city(spec);
  TensionSettings s = defaults();
  TensionState state = make_tension_state(s, r.size(), spec.wards);
  EXPECT_THROW(state.serve_ward(2, true), std::out_of_range);
  EXPECT_THROW(state.serve_ward(-1, true), std::out_of_range);
  EXPECT_THROW(state.leaflet_campaign(-2, true, start_date()), std::out_of_range);
  EXPECT_NO_THROW(state.leaflet_campaign(-1, true, start_date()));
  EXPECT_THROW(init_knowledge(state, r, {0.5}), std::invalid_argument);
  EXPECT_THROW(init_knowledge(state, r, {0.5, 1.5}), std::invalid_argument);
  TensionState wrong = make_tension_state(s, 5, spec.wards);
  EXPECT_THROW(TensionPhase(s, r, wrong, kKey), std::invalid_argument);
}

TEST(Tension, SwitchedOffChangesNothing) {
  const CitySpec spec{.wards = 2, .per_ward = 100};
  Residents r = make_city(spec);
  TensionSettings s = defaults();
  s.enabled = false;
  s.params.base_rate = 0.01;
  TensionState state = make_tension_state(s, r.size(), spec.wards);
  EXPECT_TRUE(state.knowledge.empty());
  init_knowledge(state, r, {0.3});  // harmless without per-resident arrays
  state.leaflet_campaign(0, true, start_date());
  TensionPhase phase(s, r, state, kKey);
  run_days(phase, 0, 30);
  EXPECT_EQ(state.tension, std::vector<float>(2, 0.0f));
  EXPECT_EQ(state.safety, std::vector<float>(2, 1.0f));
  EXPECT_EQ(state.take_incidents(), std::vector<std::int64_t>(2, 0));
  EXPECT_EQ(r.anxiety, std::vector<float>(r.size(), 0.3f));
  EXPECT_TRUE(state.pending_leaflets.empty());
  EXPECT_EQ(mean_knowledge(state, r), std::vector<double>(2, 0.0));
}

namespace {

struct Outcome {
  std::vector<float> knowledge, trust, anxiety, tension, safety;
  std::vector<std::int64_t> incidents;
  std::vector<double> knowledge_means;
};

// A busy city spanning several reduction chunks, with services starting and ending and leaflets.
Outcome run_busy_city() {
  const CitySpec spec{.wards = 4, .per_ward = 12000, .groups = 3};
  Residents r = make_city(spec);
  for (std::size_t i = 0; i < r.size(); ++i) {
    r.group[i] = static_cast<std::uint8_t>((i * 7) % 3);
    r.english[i] = static_cast<float>((i * 13) % 100) / 100.0f;
    r.ward[i] = static_cast<std::uint16_t>((i * 31) % 4);  // interleaved wards
  }
  TensionSettings s = defaults();
  s.params.base_rate = 0.0005;
  TensionState state = make_tension_state(s, r.size(), spec.wards);
  init_knowledge(state, r, {0.95, 0.4, 0.7});
  TensionPhase phase(s, r, state, kKey);
  state.serve_ward(1, true);
  state.leaflet_campaign(2, true, start_date() + 5);
  state.leaflet_campaign(-1, false, start_date() + 5);
  run_days(phase, 0, 20);
  state.serve_ward(1, false);
  state.serve_ward(3, true);
  run_days(phase, 20, 20);
  return {state.knowledge, state.trust, r.anxiety.to_vector(), state.tension, state.safety, state.take_incidents(),
          mean_knowledge(state, r)};
}

}  // namespace

TEST(Tension, SameResultsForOneAndTwoThreads) {
  const Outcome one = with_threads(1, run_busy_city);
  const Outcome two = with_threads(2, run_busy_city);
  EXPECT_EQ(one.knowledge, two.knowledge);
  EXPECT_EQ(one.trust, two.trust);
  EXPECT_EQ(one.anxiety, two.anxiety);
  EXPECT_EQ(one.tension, two.tension);
  EXPECT_EQ(one.safety, two.safety);
  EXPECT_EQ(one.incidents, two.incidents);
  EXPECT_EQ(one.knowledge_means, two.knowledge_means);
  EXPECT_GT(one.incidents[0], 0);  // the run did something to compare
}

TEST(Tension, EverythingStaysInUnitInterval) {
  // Every rate at its maximum, services toggling, leaflets every day.
  const CitySpec spec{.wards = 3, .per_ward = 300};
  Residents r = make_city(spec);
  for (std::size_t i = 0; i < r.size(); ++i) r.english[i] = static_cast<float>(i % 11) / 10.0f;
  TensionSettings s = defaults();
  for (const auto& p : kTensionParams) s.params.*(p.field) = p.max;
  s.params.half_life_days = 1;
  s.params.interval_days = 3;
  TensionState state = make_tension_state(s, r.size(), spec.wards);
  init_knowledge(state, r, {0.0});
  TensionPhase phase(s, r, state, kKey);
  auto in_unit = [](const std::vector<float>& v) {
    for (float x : v)
      if (!(x >= 0.0f && x <= 1.0f)) return false;
    return true;
  };
  for (int d = 0; d < 60; ++d) {
    state.serve_ward(d % 3, d % 2 == 0);
    state.leaflet_campaign(d % 2 == 0 ? -1 : 1, d % 3 == 0, start_date() + d);
    phase.run(day_number(d));
    ASSERT_TRUE(in_unit(state.knowledge)) << d;
    ASSERT_TRUE(in_unit(state.trust)) << d;
    ASSERT_TRUE(in_unit(state.tension)) << d;
    ASSERT_TRUE(in_unit(state.safety)) << d;
    ASSERT_TRUE(in_unit(r.anxiety.to_vector())) << d;
  }
  EXPECT_GT(state.tension[0], 0.5f);  // the extremes were really exercised
}
