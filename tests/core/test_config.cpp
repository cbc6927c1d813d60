#include "core/config.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "tests/support/errors.hpp"
#include "tests/support/temp_dir.hpp"

namespace contactsim {
namespace {
namespace fs = std::filesystem;
using namespace test;

constexpr double kInf = std::numeric_limits<double>::infinity();

class ConfigFiles : public ::testing::Test {
 protected:
  std::string in_dir(const std::string& name) const { return (dir_ / name).string(); }

  TempDir dir_{"contactsim_config"};
};

ConfigDocument parse(const std::string& text) { return ConfigDocument::parse(text, "scenario.toml"); }

TEST(Config, ReadsTypedValues) {
  const auto doc = parse(
      "[simulation]\n"
      "seed = 42\n"
      "rate = 0.25\n"
      "whole = 3\n"
      "verbose = true\n"
      "name = \"baseline\"\n"
      "interval = \"week\"\n"
      "groups = [\"a\", \"b\"]\n");
  const auto sim = ConfigTable::root(doc).required_table("simulation");
  EXPECT_EQ(sim.required_integer("seed", 0, 1000), 42);
  EXPECT_DOUBLE_EQ(sim.required_number("rate", 0, 1), 0.25);
  EXPECT_DOUBLE_EQ(sim.number("whole", 0, 0, 10), 3.0);  // integers are numbers too
  EXPECT_TRUE(sim.boolean("verbose", false));
  EXPECT_EQ(sim.required_string("name"), "baseline");
  EXPECT_EQ(sim.choice("interval", "day", {"day", "week", "month"}), "week");
  EXPECT_EQ(sim.string_list("groups", {}), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(sim.integer("absent", 7, 0, 10), 7);
  EXPECT_EQ(sim.prefix(), "simulation");
  EXPECT_EQ(sim.dotted("seed"), "simulation.seed");
}

TEST(Config, NumberOutOfRangeNamesFileLineAndKey) {
  const auto doc = parse("[mechanisms.contact]\n\nrate = 1.5\n");
  const auto contact = ConfigTable::root(doc).required_table("mechanisms").required_table("contact");
  EXPECT_EQ(error_of([&] { contact.number("rate", 0.1, 0, 1); }),
            "scenario.toml:3: mechanisms.contact.rate: expected a number in [0, 1], got 1.5");
}

TEST(Config, LowerBoundOnlyRange) {
  const auto doc = parse("capacity = -5\n");
  EXPECT_EQ(error_of([&] { ConfigTable::root(doc).integer("capacity", 1, 1, std::numeric_limits<std::int64_t>::max()); }),
            "scenario.toml:1: capacity: expected an integer >= 1, got -5");
  EXPECT_EQ(error_of([&] { ConfigTable::root(doc).number("capacity", 1, 1, kInf); }),
            "scenario.toml:1: capacity: expected a number >= 1, got -5");
}

TEST(Config, WrongTypeSaysWhatWasFound) {
  const auto doc = parse("a = \"x\"\nb = 1.5\nc = 3\n");
  const auto root = ConfigTable::root(doc);
  EXPECT_EQ(error_of([&] { root.number("a", 0, 0, 1); }), "scenario.toml:1: a: expected a number, got a string");
  EXPECT_EQ(error_of([&] { root.integer("b", 0, 0, 10); }), "scenario.toml:2: b: expected an integer, got a float");
  EXPECT_EQ(error_of([&] { root.string("c", ""); }), "scenario.toml:3: c: expected a string, got an integer");
  EXPECT_EQ(error_of([&] { root.string_list("a", {}); }),
            "scenario.toml:1: a: expected an array of strings, got a string");
}

TEST(Config, ChoiceListsTheChoices) {
  const auto doc = parse("[record]\ninterval = \"fortnight\"\n");
  const auto record = ConfigTable::root(doc).required_table("record");
  EXPECT_EQ(error_of([&] { record.choice("interval", "day", {"day", "week", "month"}); }),
            "scenario.toml:2: record.interval: expected one of \"day\", \"week\", \"month\", got \"fortnight\"");
}

TEST(Config, UnknownKeyReportedWithItsLineAndTheKnownKeys) {
  const auto doc = parse(
      "[simulation]\n"
      "seed = 1\n"
      "threads = 2\n"
      "sead = 3\n");
  const auto root = ConfigTable::root(doc);
  const auto sim = root.required_table("simulation");
  sim.integer("seed", 0, 0, 100);
  sim.integer("threads", 1, 1, 64);
  sim.integer("replicates", 1, 1, 100);  // absent, but still a key the model understands
  EXPECT_EQ(error_of([&] { root.finish(); }),
            "scenario.toml:4: simulation.sead: unknown key; expected one of: replicates, seed, threads");
}

TEST(Config, UnreadTableIsItselfUnknown) {
  const auto doc = parse("seed = 1\n\n[mechanisms]\nx = 1\n");
  const auto root = ConfigTable::root(doc);
  root.integer("seed", 0, 0, 10);
  EXPECT_EQ(error_of([&] { root.finish(); }), "scenario.toml:3: mechanisms: unknown key; expected one of: seed");
}

TEST(Config, FinishPassesWhenEverythingWasRead) {
  const auto doc = parse("seed = 1\n[[venues]]\nname = \"a\"\n");
  const auto root = ConfigTable::root(doc);
  root.integer("seed", 0, 0, 10);
  for (const auto& venue : root.array_of_tables("venues")) venue.string("name", "");
  EXPECT_NO_THROW(root.finish());
}

TEST(Config, UnknownKeyInArrayOfTablesUsesIndexNotation) {
  const auto doc = parse(
      "[[venues]]\nname = \"a\"\n"
      "[[venues]]\nname = \"b\"\ncapacty = 3\n");
  const auto root = ConfigTable::root(doc);
  const auto venues = root.array_of_tables("venues");
  ASSERT_EQ(venues.size(), 2u);
  EXPECT_EQ(venues[1].prefix(), "venues[1]");
  for (const auto& venue : venues) {
    venue.string("name", "");
    venue.integer("capacity", 10, 1, 1000);
  }
  EXPECT_EQ(error_of([&] { root.finish(); }),
            "scenario.toml:5: venues[1].capacty: unknown key; expected one of: capacity, name");
}

TEST(Config, RequiredKeyMissingPointsAtTheTable) {
  const auto doc = parse("seed = 1\n\n[simulation]\nend = 2021-12-31\n");
  const auto sim = ConfigTable::root(doc).required_table("simulation");
  EXPECT_EQ(error_of([&] { sim.required_date("start"); }),
            "scenario.toml:3: simulation.start: required key missing; expected a date YYYY-MM-DD");
  EXPECT_EQ(error_of([&] { sim.required_number("rate", 0, 1); }),
            "scenario.toml:3: simulation.rate: required key missing; expected a number in [0, 1]");
  EXPECT_EQ(error_of([&] { ConfigTable::root(doc).required_table("population"); }),
            "scenario.toml:1: population: required key missing; expected a table");
}

TEST(Config, SyntaxErrorHasItsLine) {
  const std::string message = error_of([] { parse("a = 1\nb = 2\nc = \n"); });
  EXPECT_EQ(message.rfind("scenario.toml:3: (syntax): ", 0), 0u) << message;
}

TEST(Config, DatesFromTomlDatesAndIsoStrings) {
  const auto doc = parse("start = 2021-03-21\nend = \"2025-03-20\"\nbad = \"2021-02-30\"\nnum = 5\n");
  const auto root = ConfigTable::root(doc);
  EXPECT_EQ(root.required_date("start"), Date::from_ymd(2021, 3, 21));
  EXPECT_EQ(root.date("end", Date{}), Date::from_ymd(2025, 3, 20));
  EXPECT_EQ(root.date("absent", Date::from_ymd(2000, 1, 1)), Date::from_ymd(2000, 1, 1));
  EXPECT_EQ(error_of([&] { root.date("bad", Date{}); }),
            "scenario.toml:3: bad: expected a date YYYY-MM-DD, got \"2021-02-30\"");
  EXPECT_EQ(error_of([&] { root.date("num", Date{}); }),
            "scenario.toml:4: num: expected a date YYYY-MM-DD, got an integer");
}

TEST(Config, KeysAndNamedTablesInDocumentOrder) {
  const auto doc = parse(
      "[weights]\nzeta = 1\nalpha = 2\nmid = 3\n"
      "[groups.white_british]\nsize = 1\n[groups.asian]\nsize = 2\n");
  const auto root = ConfigTable::root(doc);
  EXPECT_EQ(root.required_table("weights").keys(), (std::vector<std::string>{"zeta", "alpha", "mid"}));
  const auto groups = root.named_tables("groups");
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].first, "white_british");
  EXPECT_EQ(groups[1].first, "asian");
  EXPECT_EQ(groups[1].second.prefix(), "groups.asian");
  EXPECT_EQ(groups[1].second.line_of("size"), 8);
}

TEST_F(ConfigFiles, MissingFileIsLineZero) {
  const std::string path = in_dir("nope.toml");
  EXPECT_EQ(error_of([&] { ConfigDocument::load(path); }), path + ":0: (file): file not found");
}

TEST_F(ConfigFiles, ExtendsOverridesAndAppends) {
  dir_.write("base.toml",
             "[simulation]\nseed = 1\nthreads = 2\n"
             "[[venues]]\nname = \"library\"\n");
  const auto main = dir_.write("counterfactual.toml",
                               "extends = \"base.toml\"\n"
                               "[simulation]\nseed = 9\n"
                               "[[venues]]\nname = \"youth club\"\n");
  const auto doc = ConfigDocument::load(main);
  const auto root = ConfigTable::root(doc);
  const auto sim = root.required_table("simulation");
  EXPECT_EQ(sim.integer("seed", 0, 0, 100), 9);
  EXPECT_EQ(sim.integer("threads", 0, 0, 100), 2);
  std::vector<std::string> names;
  for (const auto& venue : root.array_of_tables("venues")) names.push_back(venue.string("name", ""));
  EXPECT_EQ(names, (std::vector<std::string>{"library", "youth club"}));
  EXPECT_FALSE(root.has("extends"));
  EXPECT_NO_THROW(root.finish());  // `extends` is consumed, not an unknown key
  ASSERT_EQ(doc.files().size(), 2u);
  EXPECT_EQ(doc.files()[0], main);
  EXPECT_EQ(doc.files()[1], dir_ / "base.toml");
}

TEST_F(ConfigFiles, ValuesFromTheBaseReportTheBaseFileAndLine) {
  dir_.write("base.toml", "[simulation]\n\nrate = 7\n");
  const auto main = dir_.write("child.toml", "extends = \"base.toml\"\n[simulation]\nseed = 1\n");
  const auto doc = ConfigDocument::load(main);
  const auto sim = ConfigTable::root(doc).required_table("simulation");
  EXPECT_EQ(error_of([&] { sim.number("rate", 0, 0, 1); }),
            in_dir("base.toml") + ":3: simulation.rate: expected a number in [0, 1], got 7");
  EXPECT_EQ(sim.file_of("seed"), main.string());
  EXPECT_EQ(sim.line_of("seed"), 3);
}

TEST_F(ConfigFiles, ExtendsChainsAcrossDirectories) {
  dir_.write("common/root.toml", "a = 1\nb = 1\nc = 1\n");
  dir_.write("common/mid.toml", "extends = \"root.toml\"\nb = 2\n");
  const auto main = dir_.write("scenarios/leaf.toml", "extends = \"../common/mid.toml\"\nc = 3\n");
  const auto doc = ConfigDocument::load(main);
  const auto root = ConfigTable::root(doc);
  EXPECT_EQ(root.integer("a", 0, 0, 9), 1);
  EXPECT_EQ(root.integer("b", 0, 0, 9), 2);
  EXPECT_EQ(root.integer("c", 0, 0, 9), 3);
  EXPECT_EQ(doc.files().size(), 3u);
}

TEST_F(ConfigFiles, ExtendsCycleIsAnError) {
  dir_.write("a.toml", "extends = \"b.toml\"\n");
  dir_.write("b.toml", "x = 1\nextends = \"a.toml\"\n");
  EXPECT_EQ(error_of([&] { ConfigDocument::load(dir_ / "a.toml"); }),
            in_dir("b.toml") + ":2: extends: cycle: " + in_dir("a.toml") + " -> " + in_dir("b.toml") + " -> " +
                in_dir("a.toml"));
}

TEST_F(ConfigFiles, ExtendsItselfIsACycle) {
  const auto self = dir_.write("self.toml", "extends = \"self.toml\"\n");
  EXPECT_EQ(error_of([&] { ConfigDocument::load(self); }),
            self.string() + ":1: extends: cycle: " + self.string() + " -> " + self.string());
}

TEST_F(ConfigFiles, MissingBaseIsReportedAtTheExtendsLine) {
  const auto main = dir_.write("child.toml", "# a counterfactual\nextends = \"baseline.toml\"\n");
  EXPECT_EQ(error_of([&] { ConfigDocument::load(main); }),
            main.string() + ":2: extends: file not found: " + in_dir("baseline.toml"));
}

TEST_F(ConfigFiles, RequiredPathIsRelativeToTheFileThatWroteIt) {
  dir_.write("data/ts021.csv", "x\n");
  dir_.write("base/base.toml", "[population]\ncensus = \"../data/ts021.csv\"\nmissing = \"nothing.csv\"\n");
  const auto main = dir_.write("scenarios/run.toml", "extends = \"../base/base.toml\"\n");
  const auto doc = ConfigDocument::load(main);
  const auto population = ConfigTable::root(doc).required_table("population");
  EXPECT_EQ(population.required_path("census"), dir_ / "data" / "ts021.csv");
  EXPECT_EQ(error_of([&] { population.required_path("missing"); }),
            in_dir("base/base.toml") + ":3: population.missing: file not found: " + in_dir("base/nothing.csv"));
}

// Overrides (the Python bindings' Scenario.override) set values in place: every other key keeps
// the file and line it came from, so relative paths and errors still point at the right file.
TEST_F(ConfigFiles, WithValueKeepsEveryOtherKeysFileAndLine) {
  dir_.write("data/ts021.csv", "x\n");
  dir_.write("base/base.toml", "[population]\ncensus = \"../data/ts021.csv\"\nrate = 7\n");
  const auto main = dir_.write("scenarios/run.toml", "extends = \"../base/base.toml\"\n[simulation]\nseed = 1\n");
  const auto doc = ConfigDocument::load(main).with_value("simulation.seed", toml::value<std::int64_t>(5));
  const auto root = ConfigTable::root(doc);
  EXPECT_EQ(root.required_table("simulation").integer("seed", 0, 0, 9), 5);
  const auto population = root.required_table("population");
  EXPECT_EQ(population.required_path("census"), dir_ / "data" / "ts021.csv");
  EXPECT_EQ(error_of([&] { population.number("rate", 0, 0, 1); }),
            in_dir("base/base.toml") + ":3: population.rate: expected a number in [0, 1], got 7");
}

TEST(Config, WithValueCreatesTablesIndexesArraysAndAccumulates) {
  const auto doc = parse("[[timeline]]\nchange = -0.4\n[[timeline]]\nchange = 0.1\n");
  const auto changed = doc.with_value("timeline[1].change", toml::value<double>(-0.2))
                           .with_value("mechanisms.valence.beta0", toml::value<double>(1.5))
                           .with_value("groups.\"a.b\".label", toml::value<std::string>("dotted"));
  const auto root = ConfigTable::root(changed);
  const auto timeline = root.array_of_tables("timeline");
  EXPECT_EQ(timeline[0].number("change", 0, -1, 1), -0.4);
  EXPECT_EQ(timeline[1].number("change", 0, -1, 1), -0.2);
  EXPECT_EQ(root.required_table("mechanisms").required_table("valence").number("beta0", 0, -9, 9), 1.5);
  EXPECT_EQ(root.required_table("groups").required_table("a.b").string("label", ""), "dotted");
  // The original is untouched.
  EXPECT_EQ(ConfigTable::root(doc).array_of_tables("timeline")[1].number("change", 0, -1, 1), 0.1);
  EXPECT_FALSE(ConfigTable::root(doc).has("mechanisms"));
}

TEST(Config, WithValueRejectsPathsThroughValues) {
  const auto doc = parse("seed = 1\n[[timeline]]\nchange = 0.1\n");
  const toml::value<std::int64_t> one(1);
  EXPECT_EQ(error_of([&] { doc.with_value("seed.x", one); }), "scenario.toml:0: seed.x: 'seed' is not a table");
  EXPECT_EQ(error_of([&] { doc.with_value("timeline[3].change", one); }),
            "scenario.toml:0: timeline[3].change: index 3 is past the end of 'timeline' (1 items)");
  EXPECT_EQ(error_of([&] { doc.with_value("a..b", one); }).rfind("scenario.toml:0: a..b: expected a dotted key", 0),
            0u);
}

TEST_F(ConfigFiles, ResolvedHashIsStableAndTracksValues) {
  dir_.write("base.toml", "[simulation]\nseed = 1\n");
  const auto one = dir_.write("one.toml", "extends = \"base.toml\"\n[record]\ninterval = \"week\"\n");
  const auto same = dir_.write("same.toml", "[simulation]\nseed = 1\n[record]\ninterval = \"week\"\n");
  const auto other = dir_.write("other.toml", "extends = \"base.toml\"\n[record]\ninterval = \"month\"\n");
  const auto hash = ConfigDocument::load(one).resolved_sha256();
  EXPECT_EQ(hash.size(), 64u);
  EXPECT_EQ(hash, ConfigDocument::load(one).resolved_sha256());
  EXPECT_EQ(hash, ConfigDocument::load(same).resolved_sha256());  // what ran, not how it was spelled
  EXPECT_NE(hash, ConfigDocument::load(other).resolved_sha256());
  EXPECT_EQ(ConfigDocument::load(one).resolved_text().find("extends"), std::string::npos);
}

TEST(Config, Sha256OfKnownText) {
  // Empty document serialises to "", whose SHA-256 is well known.
  EXPECT_EQ(parse("").resolved_sha256(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace contactsim
