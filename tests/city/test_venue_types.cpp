// The built-in venue types are data (models/city/venue_types.toml, compiled in): the table read
// from it must be the one the code used to hold, bit for bit; every value it states must reach
// the parameter dictionary with its source; mistakes in it must be reported like a scenario's.
#include "contactsim/venue_types_toml.hpp"
#include "models/city/venue_types.hpp"
#include "models/run/scenario.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/city.hpp"
#include "tests/support/scenarios.hpp"

namespace contactsim {
namespace {

// FNV-1a over the exact bits of every field, so a value that parses one ulp away changes it.
class Fingerprint {
 public:
  template <class T>
  void add(const T& value) {
    unsigned char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    for (unsigned char b : bytes) hash_ = (hash_ ^ b) * 0x100000001b3ull;
  }
  void add(const std::string& text) {
    for (char c : text) add(c);
    add('\0');
  }
  std::uint64_t value() const { return hash_; }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ull;
};

void add_type(Fingerprint& f, const VenueType& t) {
  f.add(t.name);
  f.add(static_cast<int>(t.slot));
  f.add(static_cast<int>(t.membership));
  f.add(t.open_days);
  for (float share : t.member_share) f.add(share);
  for (float visits : t.visits_per_week) f.add(visits);
  f.add(t.generate);
  f.add(t.stable);
  f.add(t.fear_sensitive);
  for (double v : {t.members_per_venue, t.local_share, t.budget_full, t.budget, t.encounters, t.homophily, t.depth,
                   t.equal_status, t.cooperation, t.common_goal, t.institutional_support})
    f.add(v);
  f.add(t.capacity);
}

std::uint64_t fingerprint(const std::vector<VenueType>& types) {
  Fingerprint f;
  for (const auto& t : types) add_type(f, t);
  return f.value();
}

const VenueType& builtin(const std::string& name) { return test::builtin_venue_type(name); }

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

// The built-in text with the first `from` (which must occur) replaced by `to`; `line` is set to
// the 1-based line the replacement starts on.
std::string altered(const std::string& from, const std::string& to, int* line = nullptr) {
  std::string text(kBuiltinVenueTypesToml);
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at == std::string::npos) return text;
  const auto before = text.begin() + static_cast<std::ptrdiff_t>(at);
  if (line) *line = 1 + static_cast<int>(std::count(text.begin(), before, '\n'));
  return text.replace(at, from.size(), to);
}

VenueTypeTable read_text(const std::string& text) {
  return read_venue_type_table(text, "models/city/venue_types.toml");
}

// fingerprint() of the table that models/city/venue_types.cpp wrote as code (make_builtins, commit
// 7f076d3), computed from that code: the data file reproduces every field of it bit for bit. A
// change to a built-in default changes it; if the change is intended, put the new value here.
constexpr std::uint64_t kTableBeforeItBecameData = 0xc9a066573c2f3c6dull;

TEST(VenueTypes, BuiltinTableIsBitForBitTheOneThatWasCode) {
  EXPECT_EQ(fingerprint(builtin_venue_types()), kTableBeforeItBecameData)
      << std::hex << "built-in venue types changed: fingerprint 0x" << fingerprint(builtin_venue_types());
  // One ulp is a different table.
  const std::string nudged = altered("homophily = 0.5\n", "homophily = 0.5000000000000001\n");
  EXPECT_NE(fingerprint(read_text(nudged).types), kTableBeforeItBecameData);
  std::vector<std::string> names;
  for (const auto& t : builtin_venue_types()) names.push_back(t.name);
  EXPECT_EQ(names, test::test_data_lines("builtin_venue_type_names.txt"));
  // A few values against the literals the code wrote (floats for age bands, doubles otherwise).
  EXPECT_EQ(builtin("school").visits_per_week[0], 4.7f);
  EXPECT_EQ(builtin("school").visits_per_week[1], 4.6f);
  EXPECT_EQ(builtin("workplace").member_share[2], 0.70f);
  EXPECT_EQ(builtin("workplace").member_share[3], 0.08f);
  EXPECT_EQ(builtin("workplace").local_share, 0.3);
  EXPECT_EQ(builtin("park").member_share[3], 0.25f);
  EXPECT_EQ(builtin("street").encounters, 0.6);
  EXPECT_EQ(builtin("community_centre").budget_full, 60000.0);
  EXPECT_EQ(builtin("community_centre").capacity, 120);
  EXPECT_EQ(builtin("youth_club").open_days, 0b0011111);  // Mon–Fri
  EXPECT_EQ(builtin("market").open_days, 0b0110100);      // Wed, Fri, Sat
  EXPECT_EQ(builtin("place_of_worship").open_days, 0b1110000);
  // The programmes' own columns are checked with their mechanisms (tests/mechanisms).
  EXPECT_TRUE(builtin("street").fear_sensitive);
  for (const auto& t : builtin_venue_types()) EXPECT_LT(t.budget, 0) << t.name << ": budget follows budget_full";
}

// The dictionary rows of a type, by key.
std::vector<ParamDescription> rows_of(const std::vector<ParamDescription>& all, const std::string& type) {
  std::vector<ParamDescription> rows;
  for (const auto& p : all)
    if (p.section == "venue_types." + type) rows.push_back(p);
  return rows;
}

const ParamDescription* row(const std::vector<ParamDescription>& rows, const std::string& key) {
  for (const auto& p : rows)
    if (p.key == key) return &p;
  return nullptr;
}

// Nothing a built-in type differs in from a new type's defaults is missing from the dictionary, the
// dictionary shows the value the model uses, and every row carries one of the type's sources.
TEST(VenueTypes, EveryBuiltinValueIsInTheDictionaryWithItsSource) {
  const std::vector<ParamDescription> dictionary = parameter_dictionary();
  const VenueType fresh{};
  for (const auto& t : builtin_venue_types()) {
    SCOPED_TRACE(t.name);
    const auto rows = rows_of(dictionary, t.name);
    std::set<std::string> sources;
    for (const auto& p : rows) {
      EXPECT_GE(p.source.size(), 20u) << p.key;
      EXPECT_GE(p.fallback, p.min) << p.key;
      EXPECT_LE(p.fallback, p.max) << p.key;
      sources.insert(p.source);
    }
    EXPECT_EQ(sources.size(), 5u) << "each of the five source topics covers some value";
    const std::vector<std::pair<std::string, double>> numbers{
        {"members_per_venue", t.members_per_venue}, {"local_share", t.local_share},
        {"budget_full", t.budget_full},             {"capacity", static_cast<double>(t.capacity)},
        {"encounters", t.encounters},               {"homophily", t.homophily},
        {"depth", t.depth},                         {"equal_status", t.equal_status},
        {"cooperation", t.cooperation},             {"common_goal", t.common_goal},
        {"institutional_support", t.institutional_support}};
    const std::vector<double> defaults{fresh.members_per_venue, fresh.local_share, fresh.budget_full,
                                       static_cast<double>(fresh.capacity), fresh.encounters, fresh.homophily,
                                       fresh.depth, fresh.equal_status, fresh.cooperation, fresh.common_goal,
                                       fresh.institutional_support};
    for (std::size_t k = 0; k < numbers.size(); ++k) {
      const auto& [key, value] = numbers[k];
      const ParamDescription* p = row(rows, key);
      if (value != defaults[k]) {
        ASSERT_NE(p, nullptr) << key << " differs from a new type's default but is not listed";
      }
      if (p) {
        EXPECT_EQ(p->fallback, value) << key;
      }
    }
    for (int a = 0; a < kNumAgeBands; ++a) {
      const ParamDescription* share = row(rows, std::string("member_share.") + kAgeBandNames[a]);
      const ParamDescription* visits = row(rows, std::string("visits_per_week.") + kAgeBandNames[a]);
      ASSERT_TRUE(share && visits) << kAgeBandNames[a];
      EXPECT_EQ(share->fallback, static_cast<double>(t.member_share[a]));
      EXPECT_EQ(visits->fallback, static_cast<double>(t.visits_per_week[a]));
    }
  }
}

// A scenario's [venue_types.<built-in>] and the built-in table go through one reader: an empty
// table is the built-in, and the built-in table's text read as a new type (no defaults) is too.
TEST(VenueTypes, ScenarioTablesAndTheBuiltinTableShareOneReader) {
  const ConfigDocument doc = ConfigDocument::parse("[venue_types.school]\n[venue_types.park]\nhomophily = 0.25\n",
                                                   "scenario.toml");
  const ConfigTable root = ConfigTable::root(doc);
  const ConfigTable school = root.required_table("venue_types").required_table("school");
  EXPECT_EQ(fingerprint({read_venue_type("school", school)}), fingerprint({builtin("school")}));
  VenueType park = builtin("park");
  park.homophily = 0.25;
  EXPECT_EQ(fingerprint({read_venue_type("park", root.required_table("venue_types").required_table("park"))}),
            fingerprint({park}));
  EXPECT_EQ(fingerprint(read_text(std::string(kBuiltinVenueTypesToml)).types), fingerprint(builtin_venue_types()));
  // Same keys, same ranges, same words, whichever file wrote them.
  const ConfigDocument bad = ConfigDocument::parse("[venue_types.park]\nhomophily = 1.5\n", "scenario.toml");
  EXPECT_EQ(error_of([&] {
              read_venue_type("park", ConfigTable::root(bad).required_table("venue_types").required_table("park"));
            }),
            "scenario.toml:2: venue_types.park.homophily: expected a number in [0, 1], got 1.5");
  int line = 0;
  const std::string text = altered("homophily = 0.5\n", "homophily = 1.5\n", &line);
  EXPECT_EQ(error_of([&] { read_text(text); }),
            "models/city/venue_types.toml:" + std::to_string(line) +
                ": venue_types.school.homophily: expected a number in [0, 1], got 1.5");
}

TEST(VenueTypes, MistakesInTheBuiltinTableNameFileLineAndKey) {
  int line = 0;
  std::string text = altered("local_share = 0.3\n", "local_share = 0.3\ncolour = \"red\"\n", &line);
  std::string error = error_of([&] { read_text(text); });
  const std::string expected =
      "models/city/venue_types.toml:" + std::to_string(line + 1) + ": venue_types.workplace.colour: unknown key";
  EXPECT_EQ(error.rfind(expected, 0), 0u) << error;

  text = altered("source.sizing = \"A congregation of ~250 regular worshippers (illustrative)\"\n", "");
  error = error_of([&] { read_text(text); });
  EXPECT_NE(error.find("models/city/venue_types.toml:"), std::string::npos) << error;
  EXPECT_NE(error.find("venue_types.place_of_worship.source.sizing"), std::string::npos) << error;

  text = altered("source.visits = \"About weekly (illustrative)\"", "source.visits = \"weekly\"", &line);
  EXPECT_EQ(error_of([&] { read_text(text); }),
            "models/city/venue_types.toml:" + std::to_string(line) +
                ": venue_types.park.source.visits: expected the source of these values or the reason for them");

  text = altered("[venue_types.market]\nmembership = \"ward\"\n", "[venue_types.market]\n", &line);
  error = error_of([&] { read_text(text); });
  EXPECT_NE(error.find("venue_types.market.membership: required for a new venue type"), std::string::npos) << error;

  text = altered("visits_per_week = { child = 0.0, youth = 0.5, adult = 0.8, older = 1.0 }",
                 "visits_per_week = { child = 0.0, youth = 0.5, adult = 3.5, older = 1.0 }", &line);
  EXPECT_EQ(error_of([&] { read_text(text); }),
            "models/city/venue_types.toml:" + std::to_string(line) +
                ": venue_types.market.visits_per_week: expected at most 3 visits a week for adult (the type is open 3 "
                "days a week)");
}

}  // namespace
}  // namespace contactsim
