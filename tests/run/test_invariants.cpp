// Invariant checks (models/run/invariants.hpp, and the mechanisms' own): a healthy run passes every check day after
// day; each kind of corruption (NaN or out-of-range agent values, an agent in two sessions of one slot, a negative
// budget, a population that changes without births, deaths or moves, tension out of range) stops with an InvariantError
// naming the day, the invariant, who and the value.
#include "core/config.hpp"
#include "core/h5.hpp"
#include "core/recorder.hpp"
#include "models/mechanisms/registry.hpp"
#include "models/mechanisms/tension.hpp"
#include "models/run/invariants.hpp"
#include "models/run/scenario.hpp"
#include "models/run/simulation.hpp"
#include "models/city/world.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>

#include "tests/support/scenarios.hpp"
#include "tests/support/temp_dir.hpp"

namespace {
namespace fs = std::filesystem;
using namespace contactsim;
using namespace contactsim::test;

// The default scenario at 1% of its population: every mechanism, ~2,600 residents.
Scenario small_city() {
  return scenario_from_text(small_city_text("stoke_on_trent.toml", "", 0.01, ""), "small_city.toml");
}

const Scenario& city() {
  static const Scenario s = small_city();
  return s;
}

// Today's sessions as attendance would leave them: each resident at their first venue of each
// slot, within the venue's session capacity, indexed by (venue, group).
DailySessions sessions_for(const World& w, const std::vector<VenueType>& types) {
  DailySessions s;
  const Residents& r = w.residents;
  std::vector<std::int32_t> seated(w.venues.size(), 0);
  for (int slot = 0; slot < kNumSlots; ++slot) s.venue_of[slot].assign(r.size(), SessionIndex::kNone);
  for (std::size_t i = 0; i < r.size(); ++i)
    for (int t = 0; t < r.num_venue_types; ++t) {
      const std::int32_t v = r.member_venue(i, t);
      const int slot = static_cast<int>(types[t].slot);
      const std::int32_t capacity = w.venues.session_capacity[v < 0 ? 0 : v];
      if (v < 0 || s.venue_of[slot][i] != SessionIndex::kNone || (capacity > 0 && seated[v] >= capacity)) continue;
      s.venue_of[slot][i] = v;
      ++seated[v];
    }
  for (int slot = 0; slot < kNumSlots; ++slot)
    s.index[slot].build(s.venue_of[slot], r.group, static_cast<std::int32_t>(w.venues.size()), r.num_groups);
  return s;
}

// The registry's mechanism `name` as a run builds it from the city's config.
std::unique_ptr<Mechanism> build_mechanism(const std::string& name, MechanismContext& context) {
  const auto& registry = mechanism_registry();
  for (std::size_t k = 0; k < registry.size(); ++k)
    if (registry[k].name == name) return registry[k].build(*city().mechanisms[k], context);
  throw std::out_of_range("no mechanism " + name);
}

class Invariants : public ::testing::Test {
 protected:
  void SetUp() override {
    world_ = build_world(city(), StreamKey{7, 0});
    sessions_ = sessions_for(world_, city().venue_types);
    MechanismContext context{city(), world_, StreamKey{7, 0}, rules_, tally_, events_, links_};
    tension_mechanism_ = build_mechanism("tension", context);
    ASSERT_NE(tension_mechanism_, nullptr);
    tension_ = links_.find<TensionState>("tension");
  }

  InvariantChecker checker() const {
    std::vector<std::string> groups, wards;
    for (const auto& g : city().groups) groups.push_back(g.name);
    for (const auto& w : city().wards) wards.push_back(w.name);
    return InvariantChecker(InvariantInputs{world_.residents,
                                            world_.venues,
                                            world_.block_ward,
                                            city().venue_types,
                                            &sessions_,
                                            {tension_mechanism_.get()},
                                            groups,
                                            wards});
  }

  // Runs before_day, `corrupt`, after_day and returns the error (fails the test if none).
  template <class Corruption>
  InvariantError violation(Corruption&& corrupt) {
    InvariantChecker check = checker();
    check.before_day();
    corrupt();
    try {
      check.after_day(kDay);
    } catch (const InvariantError& e) {
      return e;
    }
    ADD_FAILURE() << "no InvariantError";
    return InvariantError(kDay.date, "", "", "");
  }

  const Day kDay{Date::from_ymd(2020, 3, 4), 63};
  World world_;
  DailySessions sessions_;
  EncounterRules rules_{city().valence, city().attitude};
  ContactTally tally_;
  EventLog events_;
  Links links_;
  std::unique_ptr<Mechanism> tension_mechanism_;  // checks its state through its own hook
  TensionState* tension_ = nullptr;               // its state, published as "tension"
};

TEST_F(Invariants, AFreshWorldPassesEveryCheck) {
  InvariantChecker check = checker();
  check.before_day();
  EXPECT_NO_THROW(check.after_day(kDay));
  EXPECT_GT(sessions_.index[0].attendees(), 100u) << "the fabricated sessions should seat people";
}

// The packed columns (ContactState) are sized together: records for one resident too few
// show as the first of them in the list.
TEST_F(Invariants, PackedResidentRecordsHoldEveryResident) {
  Residents& r = world_.residents;
  const Residents kept = r;
  const InvariantError e = violation([&] { r.reshape_contact_state(r.size() - 1, r.num_groups); });
  r = kept;
  EXPECT_EQ(e.invariant(), "each resident array holds residents × its width values");
  EXPECT_EQ(e.subject(), "age_band");
  EXPECT_EQ(e.value(), std::to_string(r.size() - 1) + " values for " + std::to_string(r.size()) + " residents × 1");
}

// Checked first, through the field list: later checks index every array by resident.
TEST_F(Invariants, EveryResidentArrayHoldsResidentsTimesItsWidthValues) {
  Residents& r = world_.residents;
  for_each_field(r, [&](const auto& field, auto& values) {
    if (std::string(field.name) == "group") return;  // its length is the number of residents
    if constexpr (!std::decay_t<decltype(field)>::packed) {  // packed ones: above, sized together
      const auto last = values.back();
      const InvariantError e = violation([&] { values.pop_back(); });
      values.push_back(last);
      EXPECT_EQ(e.invariant(), "each resident array holds residents × its width values");
      EXPECT_EQ(e.subject(), field.name);
      const std::size_t width = field.values_per_resident(r);
      EXPECT_EQ(e.value(), std::to_string(r.size() * width - 1) + " values for " + std::to_string(r.size()) +
                               " residents × " + std::to_string(width));
    }
  });
}

TEST_F(Invariants, NaNWarmthNamesDayResidentTargetAndValue) {
  const InvariantError e = violation([&] { world_.residents.warmth_of(5)[1] = std::numeric_limits<float>::quiet_NaN(); });
  EXPECT_EQ(e.day(), kDay.date);
  EXPECT_EQ(e.invariant(), "warmth in [0,1]");
  const std::string ward = city().wards[world_.residents.ward[5]].name;
  const std::string group = city().groups[world_.residents.group[5]].name;
  EXPECT_EQ(e.subject(), "resident 5 (ward \"" + ward + "\", group \"" + group + "\") toward \"" + city().groups[1].name + "\"");
  EXPECT_EQ(e.value(), "nan");
  EXPECT_EQ(std::string(e.what()), "invariant violated on 2020-03-04: warmth in [0,1]: " + e.subject() + " = nan");
}

TEST_F(Invariants, WarmthAboveOneAnxietyBelowZeroEnglishNaN) {
  Residents& r = world_.residents;
  // Each corruption on its own: the value is put back after its check.
  auto with = [&](float& value, float bad) {
    const float good = value;
    const InvariantError e = violation([&] { value = bad; });
    value = good;
    return e;
  };
  EXPECT_EQ(with(r.warmth_of(9)[0], 1.25f).value(), "1.25");
  EXPECT_EQ(with(r.anxiety[10], -0.5f).invariant(), "anxiety in [0,1]");
  const InvariantError english = with(r.english[11], std::nanf(""));
  EXPECT_EQ(english.invariant(), "English in [0,1]");
  EXPECT_EQ(english.subject().rfind("resident 11 ", 0), 0u) << english.subject();
  EXPECT_EQ(with(r.negative_memory[3], -1).invariant(), "negative memory finite and >= 0");
  EXPECT_EQ(with(r.disposition[4], std::numeric_limits<float>::infinity()).invariant(), "disposition finite");
}

TEST_F(Invariants, AnAgentInTwoSessionsOfOneSlot) {
  // Resident i sits in venue A's session (the index) while venue_of puts them in venue B of the
  // same slot: two sessions at once, the case the encounters phase's lock-free parallelism
  // cannot survive.
  std::uint32_t i = 0;
  const int slot = 0;
  while (sessions_.venue_of[slot][i] == SessionIndex::kNone) ++i;
  const std::int32_t a = sessions_.venue_of[slot][i];
  std::int32_t b = -1;
  for (std::size_t v = 0; v < world_.venues.size(); ++v)
    if (static_cast<std::int32_t>(v) != a && city().venue_types[world_.venues.type[v]].slot == Slot::daytime)
      b = static_cast<std::int32_t>(v);
  ASSERT_GE(b, 0);
  const InvariantError e = violation([&] { sessions_.venue_of[slot][i] = b; });
  EXPECT_EQ(e.invariant(), "one session per resident per slot (index and venue_of agree) in the daytime slot");
  EXPECT_EQ(e.subject().rfind("resident " + std::to_string(i) + " ", 0), 0u) << e.subject();
  EXPECT_EQ(e.value(), "in the session of venue " + std::to_string(a) + " and, by venue_of, of venue " + std::to_string(b));
}

TEST_F(Invariants, AnAttendeeMissingFromTheSessionIndex) {
  const int slot = 1;  // evening
  std::uint32_t i = 0;
  while (sessions_.venue_of[slot][i] != SessionIndex::kNone) ++i;
  std::int32_t evening = -1;
  for (std::size_t v = 0; v < world_.venues.size() && evening < 0; ++v)
    if (city().venue_types[world_.venues.type[v]].slot == Slot::evening) evening = static_cast<std::int32_t>(v);
  const InvariantError e = violation([&] { sessions_.venue_of[slot][i] = evening; });
  EXPECT_EQ(e.invariant(), "every attendee in the session index in the evening slot");
}

TEST_F(Invariants, NegativeBudgetNamesTheVenue) {
  const InvariantError e = violation([&] { world_.venues.budget[2] = -1500; });
  EXPECT_EQ(e.invariant(), "budget finite and >= 0");
  EXPECT_EQ(e.subject(), "venue 2 \"" + world_.venues.name[2] + "\"");
  EXPECT_EQ(e.value(), "-1500");
}

TEST_F(Invariants, PopulationThatChangesWithoutBirthsDeathsOrMoves) {
  // Someone switches group overnight: no mobility event accounts for it.
  std::uint32_t i = 0;
  while (world_.residents.group[i] == 0) ++i;
  const std::string ward = city().wards[world_.residents.ward[i]].name;
  const InvariantError e = violation([&] { world_.residents.group[i] = 0; });
  EXPECT_EQ(e.invariant(), "population = previous + births - deaths + arrivals - departures + moves in - moves out");
  EXPECT_EQ(e.subject(), "ward \"" + ward + "\", group \"" + city().groups[0].name + "\"");
  EXPECT_NE(e.value().find("expected"), std::string::npos) << e.value();
}

TEST_F(Invariants, VenueMembersThatDisagreeWithMemberships) {
  const InvariantError e = violation([&] { world_.venues.members[0] += 1; });
  EXPECT_EQ(e.invariant(), "venue members match the residents' memberships");
}

TEST_F(Invariants, WardTensionOutOfRange) {
  const InvariantError e = violation([&] { tension_->tension[3] = 1.5f; });
  EXPECT_EQ(e.invariant(), "tension in [0,1]");
  EXPECT_EQ(e.subject(), "ward \"" + city().wards[3].name + "\"");
}

TEST_F(Invariants, ResidentOutsideTheirBlocksWard) {
  std::uint32_t i = 0;
  const InvariantError e = violation([&] {
    world_.residents.ward[i] = static_cast<std::uint16_t>((world_.residents.ward[i] + 1) % city().wards.size());
  });
  EXPECT_EQ(e.invariant(), "ward is the ward of the resident's block");
}

// A whole run of every mechanism (mobility's first monthly moves and departures included)
// keeps every invariant; a value corrupted between days stops the next day with the error.
TEST(InvariantsInARun, EveryMechanismKeepsThemAndACorruptionStopsTheRun) {
  RunOptions options;
  options.check_invariants = true;
  options.threads = 2;
  Simulation sim(small_city(), options);
  ASSERT_TRUE(sim.checks_invariants());
  EXPECT_EQ(sim.step(45), 45);  // through 1 February: moves, departures, arrivals
  // The test reaches into the running world the way a memory bug would.
  const_cast<Residents&>(sim.world().residents).anxiety[42] = std::numeric_limits<float>::infinity();
  try {
    sim.step(1);
    FAIL() << "no InvariantError";
  } catch (const InvariantError& e) {
    EXPECT_EQ(e.day(), Date::from_ymd(2020, 2, 15));
    EXPECT_EQ(e.invariant(), "anxiety in [0,1]");
    EXPECT_EQ(e.subject().rfind("resident 42 ", 0), 0u) << e.subject();
  }
}

TEST(InvariantsInARun, OffUnlessAskedForOrBuiltChecked) {
  Simulation sim(small_city());
  EXPECT_EQ(sim.checks_invariants(), invariants_checked_by_default());
}

TEST(InvariantsInARun, TheCommandLineFlagChecksAndSaysSoInTheOutput) {
  const TempDir dir("contactsim_invariants");
  const fs::path scenario = dir.write(
      "short.toml", extending(default_scenario(), "[simulation]\nend = 2020-02-10\n[population]\nscale = 0.01\n"));
  const fs::path output = dir / "out.h5";
  const std::string command = std::string(CONTACTSIM_CLI) + " run " + scenario.string() + " -o " + output.string() +
                              " --quiet --check-invariants >/dev/null";
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(h5::File::open_read_only(output).integer_attribute("invariants_checked"), 1);
}

}  // namespace
