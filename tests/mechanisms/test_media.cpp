#include "models/mechanisms/media.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "tests/support/checks.hpp"
#include "tests/support/city.hpp"
#include "tests/support/scenarios.hpp"

namespace contactsim {
namespace {
using namespace test;

constexpr int kTarget = 1;
constexpr float kWarmth = 0.6f;  // everyone's initial warmth toward every outgroup

// `wards` wards of `per_ward` residents, groups 0, 1, 2 in turn; warmth 0.6 toward outgroups.
Residents three_groups(int wards, int per_ward) {
  return interleaved_wards(wards, per_ward, 3, {.anxiety = 0.2f, .ingroup_warmth = 0.9f, .outgroup_warmth = kWarmth});
}

MediaSettings default_settings() { return {true, defaults_of<MediaParams>(kMediaParams)}; }

Date day0() { return Date::from_ymd(2020, 3, 1); }

MediaShock shock_on(Date date, double magnitude, int ward = -1) {
  MediaShock s;
  s.date = date;
  s.target = kTarget;
  s.magnitude = magnitude;
  s.ward = ward;
  return s;
}

MythBusting campaign_on(Date date, double reach, double softening, int window_days = 60, int target = kTarget) {
  MythBusting m;
  m.date = date;
  m.target = target;
  m.reach = reach;
  m.softening = softening;
  m.window_days = window_days;
  return m;
}

// Runs `days` days of the media phase (by default up to the last shock's day, so the shocks
// have not begun to fade); returns each resident's warmth toward the target.
std::vector<float> warmth_after(Residents& r, std::vector<MediaShock> shocks, std::vector<MythBusting> campaigns,
                                HasFriendIn has_friend_in, std::optional<int> run_days = std::nullopt) {
  int days = 1;
  for (const MediaShock& s : shocks) days = std::max(days, s.date - day0() + 1);
  if (run_days) days = *run_days;
  EventLog log;
  MediaPhase phase(default_settings(), std::move(shocks), std::move(campaigns), std::move(has_friend_in),
                   {"g0", "g1", "g2"}, {"w0", "w1"}, r, log, StreamKey{77, 0});
  for (int d = 0; d < days; ++d) phase.run(Day{day0() + d, d});
  std::vector<float> out;
  for (std::size_t i = 0; i < r.size(); ++i) out.push_back(r.warmth_of(i)[kTarget]);
  return out;
}

TEST(Media, ShockLowersWarmthOnlyForResidentsWithoutAFriendInTheTarget) {
  Residents r = three_groups(1, 300);
  const auto friend_in_target = [](std::uint32_t i, int g) { return g == kTarget && i % 2 == 0; };
  const auto after = warmth_after(r, {shock_on(day0() + 3, 0.1)}, {}, friend_in_target);
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r.group[i] == kTarget) {
      EXPECT_EQ(after[i], 0.9f) << "the target group's own in-group warmth is untouched";
    } else if (i % 2 == 0) {
      EXPECT_EQ(after[i], kWarmth) << "resident " << i << " has a friend in the target group";
    } else {
      EXPECT_FLOAT_EQ(after[i], kWarmth * 0.9f) << "resident " << i;
    }
    // Warmth toward the other groups is untouched.
    for (int g = 0; g < 3; ++g)
      if (g != kTarget) {
        EXPECT_EQ(r.warmth_of(i)[g], g == r.group[i] ? 0.9f : kWarmth);
      }
  }
}

TEST(Media, MorePositiveContactMemoryMeansASmallerLoss) {
  Residents r = three_groups(1, 300);
  for (std::size_t i = 0; i < r.size(); ++i) r.positive_memory[i] = static_cast<float>(i % 5) * 10.0f;
  const auto after = warmth_after(r, {shock_on(day0(), 0.1)}, {}, nullptr);
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r.group[i] == kTarget) continue;
    // ΔA = −0.1 · 0.6 / (1 + 0.05 · memory): 0.06, 0.04, 0.03, 0.024, 0.02.
    const float expected_loss = 0.1f * kWarmth / (1.0f + 0.05f * r.positive_memory[i]);
    EXPECT_NEAR(kWarmth - after[i], expected_loss, 1e-6f) << "resident " << i;
  }
  float loss_no_memory = 0, loss_high_memory = 0;
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r.group[i] == kTarget) continue;
    if (r.positive_memory[i] == 0.0f) loss_no_memory = kWarmth - after[i];
    if (r.positive_memory[i] == 40.0f) loss_high_memory = kWarmth - after[i];
  }
  EXPECT_GT(loss_no_memory, 2.5f * loss_high_memory);
}

TEST(Media, MythBustingSoftensShocksWithinItsWindowForItsTarget) {
  Residents base = three_groups(1, 3000);
  const auto loss_with = [&](std::vector<MythBusting> campaigns) {
    Residents r = base;
    const auto after = warmth_after(r, {shock_on(day0() + 10, 0.1)}, std::move(campaigns), nullptr);
    double loss = 0;
    int n = 0;
    for (std::size_t i = 0; i < r.size(); ++i)
      if (r.group[i] != kTarget) loss += kWarmth - after[i], ++n;
    return loss / n;
  };
  const double none = loss_with({});
  EXPECT_NEAR(none, 0.06, 1e-6);
  // Everyone reached, half the exposure prevented.
  EXPECT_NEAR(loss_with({campaign_on(day0(), 1.0, 0.5)}), 0.03, 1e-6);
  // Half reached: three quarters of the loss on average.
  EXPECT_NEAR(loss_with({campaign_on(day0(), 0.5, 0.5)}), 0.045, 0.0015);
  // Two campaigns reaching everyone compound: (1 − 0.5)(1 − 0.5).
  EXPECT_NEAR(loss_with({campaign_on(day0(), 1.0, 0.5), campaign_on(day0() + 5, 1.0, 0.5)}), 0.015, 1e-6);
  // Too early (window 5 days before a shock on day 10), too late (after the shock), or about
  // another group: no softening.
  EXPECT_NEAR(loss_with({campaign_on(day0(), 1.0, 0.5, 5)}), none, 1e-9);
  EXPECT_NEAR(loss_with({campaign_on(day0() + 11, 1.0, 0.5)}), none, 1e-9);
  EXPECT_NEAR(loss_with({campaign_on(day0(), 1.0, 0.5, 60, 2)}), none, 1e-9);
  // On the shock's own day it still counts.
  EXPECT_NEAR(loss_with({campaign_on(day0() + 10, 1.0, 0.5)}), 0.03, 1e-6);
}

TEST(Media, LocalMythBustingReachesOnlyItsWard) {
  Residents r = three_groups(2, 300);
  MythBusting local = campaign_on(day0(), 1.0, 1.0);
  local.ward = 1;
  const auto after = warmth_after(r, {shock_on(day0() + 1, 0.1)}, {local}, nullptr);
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r.group[i] == kTarget) continue;
    EXPECT_EQ(after[i], r.ward[i] == 1 ? kWarmth : kWarmth * 0.9f) << "resident " << i;
  }
}

TEST(Media, LocalShockOnlyAffectsItsWard) {
  Residents r = three_groups(2, 300);
  const auto after = warmth_after(r, {shock_on(day0() + 2, 0.2, 0)}, {}, nullptr);
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r.group[i] == kTarget) continue;
    EXPECT_FLOAT_EQ(after[i], r.ward[i] == 0 ? kWarmth * 0.8f : kWarmth) << "resident " << i;
  }
}

TEST(Media, NothingHappensOffTheShockDayOrWhenSwitchedOff) {
  Residents r = three_groups(1, 90);
  const auto after = warmth_after(r, {shock_on(day0() + 20, 0.5)}, {}, nullptr, 20);
  for (std::size_t i = 0; i < r.size(); ++i)
    if (r.group[i] != kTarget) {
      EXPECT_EQ(after[i], kWarmth);
    }
  EventLog log;
  MediaSettings off = default_settings();
  off.enabled = false;
  MediaPhase phase(off, {shock_on(day0(), 0.5)}, {}, nullptr, {"g0", "g1", "g2"}, {"w0"}, r, log, StreamKey{});
  phase.run(Day{day0(), 0});
  for (std::size_t i = 0; i < r.size(); ++i)
    if (r.group[i] != kTarget) {
      EXPECT_EQ(r.warmth_of(i)[kTarget], kWarmth);
    }
  EXPECT_TRUE(log.empty());
}

// A shock is an offset that fades: half of it is back after recovery_half_life_days, nearly
// all of it after ten half-lives, and never more than the warmth lost.
TEST(Media, ShockFadesAtItsRecoveryHalfLife) {
  const double half_life = defaults_of<MediaParams>(kMediaParams).recovery_half_life_days;
  const int h = static_cast<int>(half_life);
  ASSERT_EQ(h, half_life) << "the test counts whole days";
  const auto loss_after = [&](int days) {
    Residents r = three_groups(1, 300);
    const auto after = warmth_after(r, {shock_on(day0(), 0.1)}, {}, nullptr, days);
    float loss = kWarmth - after[0];  // resident 0 is in group 0, exposed
    for (std::size_t i = 0; i < r.size(); ++i)
      if (r.group[i] != kTarget) {
        EXPECT_EQ(kWarmth - after[i], loss) << "resident " << i;
      }
    return loss;
  };
  const float initial = loss_after(1);
  EXPECT_FLOAT_EQ(initial, 0.06f);
  EXPECT_NEAR(loss_after(1 + h), initial / 2, 1e-5f);
  EXPECT_NEAR(loss_after(1 + 2 * h), initial / 4, 1e-5f);
  EXPECT_GE(loss_after(1 + 10 * h), 0.0f);
  EXPECT_LT(loss_after(1 + 10 * h), initial / 1000);
}

// Recovery never lifts warmth above 1, and a slot given to someone else starts without the
// previous occupant's offset.
TEST(Media, RecoveryIsCappedAndForgottenWithTheResident) {
  Residents r = three_groups(1, 30);
  EventLog log;
  MediaPhase phase(default_settings(), {shock_on(day0(), 0.5)}, {}, nullptr, {"g0", "g1", "g2"}, {"w0"}, r, log,
                   StreamKey{77, 0});
  phase.run(Day{day0(), 0});
  ASSERT_FLOAT_EQ(r.warmth_of(0)[kTarget], kWarmth * 0.5f);
  r.warmth_of(0)[kTarget] = 0.99f;  // contact warmed resident 0 meanwhile
  r.warmth_of(3)[kTarget] = kWarmth;  // slot 3 now holds a newcomer
  const std::uint32_t replaced[] = {3};
  phase.forget(replaced);
  for (int d = 1; d < 700; ++d) phase.run(Day{day0() + d, d});  // past kSettled: all given back
  EXPECT_EQ(r.warmth_of(0)[kTarget], 1.0f);
  EXPECT_EQ(r.warmth_of(3)[kTarget], kWarmth);
  EXPECT_NEAR(r.warmth_of(6)[kTarget], kWarmth, 1e-6f);  // an untouched resident: all of it back
}

TEST(Media, SameResultsForAnyThreadCount) {
  const auto run_with = [](int threads) {
    return with_threads(threads, [] {
      Residents r = three_groups(2, 5000);
      for (std::size_t i = 0; i < r.size(); ++i) r.positive_memory[i] = static_cast<float>(i % 7);
      return warmth_after(r, {shock_on(day0() + 2, 0.2)}, {campaign_on(day0(), 0.3, 0.7)},
                          [](std::uint32_t i, int) { return i % 11 == 0; }, 40);
    });
  };
  EXPECT_EQ(run_with(1), run_with(4));
}

TEST(Media, LogsShocksAndCampaigns) {
  Residents r = three_groups(1, 30);
  EventLog log;
  MythBusting m = campaign_on(day0(), 0.4, 0.5);
  MediaShock s = shock_on(day0() + 1, 0.1);
  s.label = "tabloid story";
  MediaPhase phase(default_settings(), {s}, {m}, nullptr, {"g0", "g1", "g2"}, {"w0"}, r, log, StreamKey{});
  phase.run(Day{day0(), 0});
  phase.run(Day{day0() + 1, 1});
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].kind, "myth_busting");
  EXPECT_EQ(log[0].subject, "g1");
  EXPECT_EQ(log[0].detail, "reach 0.40, softening 0.50");
  EXPECT_EQ(log[1].kind, "media_shock");
  EXPECT_EQ(log[1].subject, "tabloid story");
  EXPECT_EQ(log[1].detail, "magnitude 0.10 national, 20 residents exposed");
}

// --- readers ---------------------------------------------------------------------------------

std::string read_error(const std::string& kind, const std::string& item_text) {
  const Date start = Date::from_ymd(2019, 1, 1), end = Date::from_ymd(2020, 12, 31);
  const std::vector<std::string> groups{"white_british", "other_white"}, wards{"Normacot", "Shelton"};
  return timeline_error(kind, item_text, [&](const ConfigTable& item) {
    if (kind == "media_shock")
      read_media_shock(item, start, end, groups, wards);
    else
      read_myth_busting(item, start, end, groups, wards);
  });
}

TEST(Media, ReadsValidItems) {
  const auto doc = ConfigDocument::parse(
      "[[timeline]]\nkind = \"media_shock\"\ndate = 2020-03-01\ntarget = \"other_white\"\nmagnitude = 0.1\n"
      "ward = \"Shelton\"\n"
      "[[timeline]]\nkind = \"myth_busting\"\ndate = 2020-02-01\ntarget = \"other_white\"\nreach = 0.4\n"
      "softening = 0.5\n",
      "scenario.toml");
  const auto items = ConfigTable::root(doc).array_of_tables("timeline");
  const Date start = Date::from_ymd(2019, 1, 1), end = Date::from_ymd(2020, 12, 31);
  const MediaShock s = read_media_shock(items[0], start, end, {"white_british", "other_white"}, {"Normacot", "Shelton"});
  EXPECT_EQ(s.date, Date::from_ymd(2020, 3, 1));
  EXPECT_EQ(s.target, 1);
  EXPECT_DOUBLE_EQ(s.magnitude, 0.1);
  EXPECT_EQ(s.ward, 1);
  const MythBusting m =
      read_myth_busting(items[1], start, end, {"white_british", "other_white"}, {"Normacot", "Shelton"});
  EXPECT_EQ(m.target, 1);
  EXPECT_DOUBLE_EQ(m.reach, 0.4);
  EXPECT_DOUBLE_EQ(m.softening, 0.5);
  EXPECT_EQ(m.window_days, kDefaultMythBustingWindowDays);
  EXPECT_EQ(m.ward, -1);
}

TEST(Media, ReaderErrorsNameTheKey) {
  EXPECT_EQ(read_error("media_shock", "date = 2020-03-01\ntarget = \"polish\"\nmagnitude = 0.1\n"),
            "scenario.toml:4: timeline[0].target: unknown group \"polish\"; expected one of \"white_british\", "
            "\"other_white\"");
  EXPECT_EQ(read_error("media_shock", "date = 2020-03-01\ntarget = \"other_white\"\nmagnitude = 1.5\n"),
            "scenario.toml:5: timeline[0].magnitude: expected a number in [0, 1], got 1.5");
  EXPECT_EQ(read_error("media_shock", "date = 2020-03-01\ntarget = \"other_white\"\nmagnitude = 0.1\nward = \"Hanley\"\n"),
            "scenario.toml:6: timeline[0].ward: unknown ward \"Hanley\"; expected a name from [wards]");
  EXPECT_EQ(read_error("media_shock", "date = 2022-03-01\ntarget = \"other_white\"\nmagnitude = 0.1\n"),
            "scenario.toml:3: timeline[0].date: expected a date within the run (2019-01-01 to 2020-12-31), got "
            "2022-03-01");
  EXPECT_EQ(read_error("myth_busting", "date = 2020-03-01\ntarget = \"other_white\"\nreach = 0.4\nsoftening = -0.1\n"),
            "scenario.toml:6: timeline[0].softening: expected a number in [0, 1], got -0.1");
  EXPECT_EQ(read_error("myth_busting", "date = 2020-03-01\ntarget = \"other_white\"\nsoftening = 0.5\n"),
            "scenario.toml:1: timeline[0].reach: required key missing; expected a number in [0, 1]");
  EXPECT_EQ(read_error("myth_busting",
                       "date = 2020-03-01\ntarget = \"other_white\"\nreach = 0.4\nsoftening = 0.5\nwindow_days = -1\n"),
            "scenario.toml:7: timeline[0].window_days: expected an integer in [0, 3650], got -1");
}

}  // namespace
}  // namespace contactsim
