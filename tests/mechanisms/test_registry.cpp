// The mechanism registry (models/mechanisms/registry.cpp) and the links between mechanisms.
#include "core/links.hpp"
#include "models/city/purposes.hpp"
#include "models/mechanisms/registry.hpp"
#include "models/mechanisms/timeline.hpp"
#include "models/run/scenario.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "tests/support/scenarios.hpp"

namespace contactsim {
namespace {
using namespace test;

using PurposeRanges = std::map<std::string, std::vector<std::pair<Purpose, Purpose>>>;

// Every mechanism's random-stream purposes as they were before the registry (arts: new with it),
// kept as data in tests/data/purposes_before_the_registry.txt: a change there changes every
// result for a seed, so it must be deliberate (and recorded in CHANGELOG.md).
PurposeRanges purposes_before_the_registry() {
  PurposeRanges out;
  for (const std::string& line : test_data_lines("purposes_before_the_registry.txt")) {
    std::istringstream words(line);
    std::string name, range;
    words >> name;
    auto& ranges = out[name];
    while (words >> range) {
      const auto dash = range.find('-');
      ranges.emplace_back(static_cast<Purpose>(std::stoul(range.substr(0, dash))),
                          static_cast<Purpose>(std::stoul(range.substr(dash + 1))));
    }
  }
  return out;
}

TEST(Registry, PurposeRangesAreUnchangedAndDisjoint) {
  const PurposeRanges kPurposesBeforeTheRegistry = purposes_before_the_registry();
  ASSERT_EQ(kPurposesBeforeTheRegistry.at("encounters"),
            (std::vector<std::pair<Purpose, Purpose>>{{1000, 1000 + kNumSlots * kMaxGroups - 1}}));
  std::vector<std::pair<PurposeRange, std::string>> all;
  for (const auto& entry : mechanism_registry()) {
    std::vector<std::pair<Purpose, Purpose>> ranges;
    for (const auto& r : entry.purposes) {
      EXPECT_LE(r.first, r.last) << entry.name;
      ranges.emplace_back(r.first, r.last);
      all.emplace_back(r, entry.name);
    }
    const auto expected = kPurposesBeforeTheRegistry.find(entry.name);
    if (expected == kPurposesBeforeTheRegistry.end())
      EXPECT_TRUE(ranges.empty()) << entry.name << " draws random numbers: add its purposes to this table";
    else
      EXPECT_EQ(ranges, expected->second) << entry.name;
  }
  // World build and agent snapshots (models/city/purposes.hpp) share the stream space too.
  for (const Purpose p : {purpose::kAgeAndTraits, purpose::kFaith, purpose::kBlockPlacement, purpose::kSnapshotSample})
    all.emplace_back(PurposeRange{p, p}, "city");
  for (std::size_t a = 0; a < all.size(); ++a)
    for (std::size_t b = a + 1; b < all.size(); ++b)
      EXPECT_TRUE(all[a].first.last < all[b].first.first || all[b].first.last < all[a].first.first)
          << all[a].second << " [" << all[a].first.first << ", " << all[a].first.last << "] overlaps " << all[b].second
          << " [" << all[b].first.first << ", " << all[b].first.last << "]";
}

TEST(Registry, NamesAndTimelineKindsBelongToOneMechanismEach) {
  std::set<std::string> names, kinds;
  for (const auto& entry : mechanism_registry()) {
    EXPECT_TRUE(names.insert(entry.name).second) << "two entries named " << entry.name;
    for (const auto& kind : entry.timeline_kinds) EXPECT_TRUE(kinds.insert(kind).second) << "kind " << kind << " read twice";
  }
  for (const auto& kind : kVenueTimelineKinds) EXPECT_TRUE(kinds.count(kind)) << "the venue timeline reads " << kind;
}

TEST(Registry, PhasesRunInRegistryOrderAndEveryTableIsDocumented) {
  std::vector<std::string> dictionary_sections;
  for (const auto& d : parameter_dictionary()) dictionary_sections.push_back(d.section);
  const Scenario s = scenario_from_text(small_city_text("stoke_on_trent.toml", "", 0.02, "month"), "registry_test.toml");
  ASSERT_EQ(s.mechanisms.size(), mechanism_registry().size());
  for (std::size_t k = 0; k < s.mechanisms.size(); ++k) {
    ASSERT_NE(s.mechanisms[k], nullptr);
    EXPECT_EQ(&s.mechanism(mechanism_registry()[k].name), s.mechanisms[k].get());
    std::vector<ParamDescription> own;
    mechanism_registry()[k].describe(own);
    for (const auto& d : own)
      EXPECT_EQ(d.section, "mechanisms." + mechanism_registry()[k].name) << "a mechanism documents its own table";
  }
  EXPECT_THROW(s.mechanism("no_such_mechanism"), std::out_of_range);
}

TEST(Registry, EnabledFalseIsTheOneSwitch) {
  const Scenario on = scenario_from_text(small_city_text("stoke_on_trent.toml", "", 0.02, "month"), "registry_test.toml");
  const Scenario off = scenario_from_text(
      small_city_text("stoke_on_trent.toml", "[mechanisms.tension]\nenabled = false\n", 0.02, "month"), "registry_test.toml");
  EXPECT_TRUE(on.runs("tension"));
  EXPECT_FALSE(off.runs("tension"));
  EXPECT_FALSE(on.mechanism("tension").series().empty());
  EXPECT_TRUE(off.mechanism("tension").series().empty()) << "a switched-off mechanism writes no series";
}

TEST(Links, PublishFindNeedAndTheirErrors) {
  Links links;
  std::vector<float> tension{0.1f, 0.2f};
  links.publish("ward_tension", tension);
  EXPECT_EQ(links.find<std::vector<float>>("ward_tension"), &tension);
  EXPECT_EQ(links.find<const std::vector<float>>("ward_tension"), &tension) << "readers may take it as const";
  EXPECT_EQ(links.find<std::vector<float>>("friendships"), nullptr) << "an absent link is null";
  EXPECT_THROW(links.find<std::vector<double>>("ward_tension"), std::logic_error) << "wrong type";
  EXPECT_THROW(links.publish("ward_tension", tension), std::logic_error) << "published twice";
  try {
    links.need<int>("knowledge", "mobility");
    FAIL() << "a missing needed link must throw";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("mobility needs link \"knowledge\""), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace contactsim
