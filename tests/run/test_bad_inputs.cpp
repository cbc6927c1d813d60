// Bad inputs through the real command line: every case is a small scenario (usually extending
// the default Stoke scenario with one bad override) that `contactsim validate` must reject with
// exit code 2 and a "file:line: key: what was expected" message naming exactly the right file,
// line and key; for several, `contactsim run` must also exit 2 without writing anything.
#include "models/mechanisms/registry.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/scenarios.hpp"
#include "tests/support/temp_dir.hpp"

namespace {
namespace fs = std::filesystem;
using namespace contactsim::test;

const fs::path kCli = CONTACTSIM_CLI;
const fs::path kBaseScenario = default_scenario();

constexpr int kBadInput = 2;

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

std::string shell_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// 1-based number of the first line of `text` containing `needle` (0 if none): expected line
// numbers are derived from the very text written, so they cannot drift from it.
int line_containing(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (line.find(needle) != std::string::npos) return n;
  }
  return 0;
}

std::string regex_escaped(const std::string& s) {
  static const std::string special = R"(\^$.|?*+()[]{}/-)";
  std::string out;
  for (char c : s) {
    if (special.find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

// The standalone census scenario: 2 wards, 2 groups, a 3-category Nomis-layout table.
const std::string kTotalColumn = "Ethnic group: Total: All usual residents";

std::string census_scenario(const std::string& csv, const std::string& wards, const std::string& total_column,
                            const std::string& minority_columns) {
  return "title = \"two wards from a census table\"\n"
         "\n"
         "[simulation]\n"
         "start = 2020-01-01\n"
         "end = 2020-03-31\n"
         "\n"
         "[wards]\n"
         "names = " + wards + "\n"
         "\n"
         "[population]\n"
         "source = \"census\"\n"
         "\n"
         "[population.census]\n"
         "file = \"" + csv + "\"\n"
         "total_column = \"" + total_column + "\"\n"
         "columns = { white = [\"Ethnic group: White\"], minority = " + minority_columns + " }\n"
         "\n"
         "[population.age_shares]\n"
         "child = 0.2\n"
         "youth = 0.1\n"
         "adult = 0.5\n"
         "older = 0.2\n"
         "\n"
         "[groups.white]\n"
         "warmth = { outgroup = 0.6 }\n"
         "\n"
         "[groups.minority]\n"
         "warmth = { outgroup = 0.6 }\n"
         "\n"
         "[venue_types.school]\n"
         "[venue_types.workplace]\n";
}

const std::string kGoodWards = R"(["North", "South"])";
const std::string kGoodMinority = R"(["Ethnic group: Asian", "Ethnic group: Other"])";

// South's mapped categories sum to 500 + 200 + `south_other`; its total is 800.
std::string census_csv(int south_other) {
  return "\"date\",\"geography\",\"geography code\",\"" + kTotalColumn +
         "\",\"Ethnic group: White\",\"Ethnic group: Asian\",\"Ethnic group: Other\"\n"
         "\"2021\",\"North\",\"E05000001\",\"1000\",\"700\",\"200\",\"100\"\n"
         "\"2021\",\"South\",\"E05000002\",\"800\",\"500\",\"200\",\"" + std::to_string(south_other) + "\"\n";
}

class BadInputs : public ::testing::Test {
 protected:
  fs::path write(const std::string& name, const std::string& text) const { return dir_.write(name, text); }

  // `extends` the default scenario (line 1), then `body` from line 2 on.
  static std::string extending(const std::string& body) { return contactsim::test::extending(kBaseScenario, body); }

  // Runs the CLI with `args`, capturing stdout and stderr in files of the test's directory.
  CliResult cli(const std::vector<std::string>& args) const {
    const fs::path out = dir_ / "cli.stdout";
    const fs::path err = dir_ / "cli.stderr";
    std::string command = shell_quoted(kCli.string());
    for (const auto& a : args) command += " " + shell_quoted(a);
    command += " </dev/null >" + shell_quoted(out.string()) + " 2>" + shell_quoted(err.string());
    const int status = std::system(command.c_str());
    CliResult r;
    r.code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_file(out);
    r.err = read_file(err);
    fs::remove(out);
    fs::remove(err);
    return r;
  }

  // `contactsim validate file` exits 2 and prints "error: <file>:<line>: <key>: <expected...>".
  // Words in `also` must appear later on the same line (e.g. the right key among those listed,
  // without pinning the whole list, which grows with the model).
  void expect_validate_error(const fs::path& scenario, const fs::path& error_file, int line, const std::string& key,
                             const std::string& expected, const std::vector<std::string>& also = {}) const {
    ASSERT_GT(line, 0) << "test bug: line not found in the scenario text";
    const CliResult r = cli({"validate", scenario.string()});
    EXPECT_EQ(r.code, kBadInput) << "stderr: " << r.err;
    const std::string message = "error: " + error_file.string() + ":" + std::to_string(line) + ": " + key + ": " + expected;
    const std::size_t at = r.err.find(message);
    EXPECT_NE(at, std::string::npos) << "expected stderr to contain\n  " << message << "\nactual stderr:\n  " << r.err;
    if (at != std::string::npos) {
      const std::string rest = r.err.substr(at + message.size(), r.err.find('\n', at) - at - message.size());
      for (const auto& word : also)
        EXPECT_NE(rest.find(word), std::string::npos) << "expected " << word << " in: " << r.err;
    }
    EXPECT_TRUE(r.out.empty()) << "nothing is printed on stdout for a bad file, got: " << r.out;
  }

  // As above with the error in the scenario file itself.
  void expect_validate_error(const fs::path& scenario, int line, const std::string& key, const std::string& expected,
                             const std::vector<std::string>& also = {}) const {
    expect_validate_error(scenario, scenario, line, key, expected, also);
  }

  // The default scenario extended by `addition`, written to bad.toml: `contactsim validate`
  // rejects it at the first line containing `marker`, naming `key` and `expected`. Returns the file.
  fs::path expect_addition_rejected(const std::string& addition, const std::string& marker, const std::string& key,
                                    const std::string& expected, const std::vector<std::string>& also = {}) const {
    const std::string text = extending(addition);
    const fs::path f = write("bad.toml", text);
    expect_validate_error(f, line_containing(text, marker), key, expected, also);
    return f;
  }
  // As above with the error on line `line` of the file (the extended scenario's is line 1).
  fs::path expect_addition_rejected(const std::string& addition, int line, const std::string& key,
                                    const std::string& expected, const std::vector<std::string>& also = {}) const {
    const fs::path f = write("bad.toml", extending(addition));
    expect_validate_error(f, line, key, expected, also);
    return f;
  }

  // For errors whose exact placement has more than one right answer: stderr must match `pattern`.
  void expect_validate_error_matching(const fs::path& scenario, const std::string& pattern) const {
    const CliResult r = cli({"validate", scenario.string()});
    EXPECT_EQ(r.code, kBadInput) << "stderr: " << r.err;
    EXPECT_TRUE(std::regex_search(r.err, std::regex(pattern)))
        << "expected stderr to match\n  " << pattern << "\nactual stderr:\n  " << r.err;
  }

  // `contactsim run file -o out` exits 2 and writes nothing: neither the file nor its directory.
  void expect_run_refused(const fs::path& scenario, const std::vector<std::string>& extra = {}) const {
    const fs::path out_dir = dir_ / "run_output";
    const fs::path out = out_dir / "result.h5";
    std::vector<std::string> args{"run", scenario.string(), "-o", out.string(), "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    const CliResult r = cli(args);
    EXPECT_EQ(r.code, kBadInput) << "stderr: " << r.err;
    EXPECT_FALSE(r.err.empty());
    EXPECT_FALSE(fs::exists(out)) << out << " was written for a bad input";
    EXPECT_FALSE(fs::exists(out_dir)) << out_dir << " was created for a bad input";
  }

  TempDir dir_{"contactsim_bad_inputs"};
};

// ------------------------------------------------------------------ controls: the harness sees success

TEST_F(BadInputs, ControlsValidate) {
  const CliResult base = cli({"validate", kBaseScenario.string()});
  EXPECT_EQ(base.code, 0) << base.err;
  const fs::path ext = write("ok.toml", extending("[population]\nscale = 0.01\n"));
  const CliResult extended = cli({"validate", ext.string()});
  EXPECT_EQ(extended.code, 0) << extended.err;
  write("census.csv", census_csv(100));
  const fs::path census = write("census.toml", census_scenario("census.csv", kGoodWards, kTotalColumn, kGoodMinority));
  const CliResult r = cli({"validate", census.string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("1800 residents in 2 wards, 2 groups"), std::string::npos) << r.out;
}

// ------------------------------------------------------------------ TOML and structure

TEST_F(BadInputs, TomlSyntaxError) {
  const fs::path f = expect_addition_rejected("[simulation]\nstart = 2020-01-01\nend = \n", "end = ", "(syntax)",
                                              "Error while parsing key-value pair: expected value");
  expect_run_refused(f);
}

TEST_F(BadInputs, UnknownTopLevelKey) {
  const fs::path f =
      expect_addition_rejected("titel = \"typo\"\n", 2, "titel",
                               "unknown key; expected one of: ", {"simulation", "title", "venue_types", "wards"});
  expect_run_refused(f);
}

TEST_F(BadInputs, UnknownKeyInSimulation) {
  expect_addition_rejected("\n[simulation]\nsed = 5\n", 4, "simulation.sed",
                           "unknown key; expected one of: ", {"end", "seed", "start", "threads"});
}

TEST_F(BadInputs, UnknownKeyInVenue) {
  expect_addition_rejected(
      "[[venues]]\nname = \"Hall\"\ntype = \"community_centre\"\nward = \"Tunstall\"\ncapasity = 5\n", "capasity",
      "venues[0].capasity", "unknown key; expected one of: ", {"capacity", "name", "type", "ward"});
}

TEST_F(BadInputs, UnknownMechanismParameter) {
  expect_addition_rejected("[mechanisms.encounters]\nintensityy = 1.0\n", 3, "mechanisms.encounters.intensityy",
                           "unknown key; expected one of: ", {"enabled", "intensity"});
}

TEST_F(BadInputs, MissingRequiredTable) {
  const std::string text = "[simulation]\nstart = 2020-01-01\nend = 2020-12-31\n";
  const fs::path f = write("bad.toml", text);
  expect_validate_error(f, 1, "wards", "required key missing; expected a table");
}

// ------------------------------------------------------------------ types and ranges

TEST_F(BadInputs, StringWhereNumberExpected) {
  const fs::path f = expect_addition_rejected("[population]\nscale = \"half\"\n", 3, "population.scale",
                                              "expected a number, got a string");
  expect_run_refused(f);
}

TEST_F(BadInputs, FloatWhereIntegerExpected) {
  expect_addition_rejected("[simulation]\nthreads = 4.5\n", 3, "simulation.threads",
                           "expected an integer, got a float");
}

TEST_F(BadInputs, NegativeCapacityInVenues) {
  const fs::path f = expect_addition_rejected(
      "\n[[venues]]\nname = \"Big school\"\ntype = \"school\"\nward = \"Tunstall\"\ncapacity = -5\n", 7,
      "venues[0].capacity", "expected an integer in [0, 10000000], got -5");
  expect_run_refused(f);
}

TEST_F(BadInputs, NegativeCapacityOfVenueType) {
  expect_addition_rejected("[venue_types.school]\ncapacity = -5\n", 3, "venue_types.school.capacity",
                           "expected an integer in [0, 10000000], got -5");
}

TEST_F(BadInputs, HomophilyAboveOne) {
  expect_addition_rejected("[venue_types.school]\nhomophily = 1.5\n", 3, "venue_types.school.homophily",
                           "expected a number in [0, 1], got 1.5");
}

TEST_F(BadInputs, FaithShareAboveOne) {
  expect_addition_rejected("[groups.asian]\nfaith = { muslim = 1.2 }\n", 3, "groups.asian.faith.muslim",
                           "expected a number in [0, 1], got 1.2");
}

// The extending file raises christian from 0.03 to 0.5 and so the asian shares to 1.417: the
// error belongs to the file that made the sum wrong, not to the base, where the shares are fine.
TEST_F(BadInputs, FaithSharesSummingAboveOneNameTheOverridingFile) {
  const std::string text = extending("[groups.asian]\nfaith = { christian = 0.5 }\n");
  const fs::path f = write("bad.toml", text);
  expect_validate_error_matching(
      f, "error: " + regex_escaped(f.string()) +
             R"(:3: groups\.asian\.faith(\.christian)?: expected faith shares summing to at most 1, got 1\.417)");
}

TEST_F(BadInputs, GroupWarmthAboveOne) {
  expect_addition_rejected("[groups.mixed]\nwarmth = { ingroup = 0.78, outgroup = 1.3 }\n", 3,
                           "groups.mixed.warmth.outgroup", "expected a number in [0, 1], got 1.3");
}

TEST_F(BadInputs, ScaleZero) {
  const fs::path f = expect_addition_rejected("[population]\nscale = 0\n", 3, "population.scale",
                                              "expected a number in [1e-06, 1000], got 0");
  expect_run_refused(f);
}

// D15: a scale that leaves nobody is blamed on population.scale, with the city it scaled; counts
// that are all zero are blamed on the counts, never on a scale the file does not set.
TEST_F(BadInputs, ScaleLeavingNobodySaysWhatTheCityHad) {
  const fs::path f = expect_addition_rejected("[population]\nscale = 1e-6\n", 3, "population.scale",
                                              "expected a population of at least one resident after scaling",
                                              {"the unscaled city has ", "raise population.scale"});
  expect_run_refused(f);
}

TEST_F(BadInputs, ZeroCountsAreBlamedOnTheCountsNotTheScale) {
  const fs::path f = write("bad.toml", extending("[population.synthetic.totals]\nwhite_british = 0\nother_white = 0\n"
                                                 "asian = 0\nblack = 0\nmixed = 0\nother = 0\n"));
  expect_validate_error_matching(f, "population\\.synthetic\\.totals: expected at least one resident; every "
                                    "group's total is 0");
  const CliResult r = cli({"validate", f.string()});
  EXPECT_EQ(r.err.find("population.scale"), std::string::npos) << r.err;
}

// A city larger than this machine's memory is refused before anything is built, with the
// estimate (~300 bytes per resident: 1000 × 258,369 residents need about 77.5 GB).
TEST_F(BadInputs, CityLargerThanThisMachineIsRefusedWithAnEstimate) {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  double kilobytes = 0;
  meminfo >> key >> kilobytes;
  if (key != "MemTotal:" || kilobytes * 1024.0 > 75e9) GTEST_SKIP() << "this machine could hold the city";
  const std::string text = extending("[population]\nscale = 1000\n");
  const fs::path f = write("huge.toml", text);
  const CliResult r = cli({"validate", f.string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(f.string() + ":3: population.scale: expected a population this machine can hold: "
                                    "258369000 residents need about 77.5 GB of memory (~300 bytes each), and this "
                                    "machine has "),
            std::string::npos)
      << r.err;
  expect_run_refused(f);
}

// 10^12 residents: refused whatever the machine, with the memory they would need and the
// memory this machine has.
TEST_F(BadInputs, ATrillionResidentsAreRefusedWithAMemoryEstimate) {
  const std::string text = extending("[population]\nscale = 1000\n[population.synthetic.totals]\nwhite_british = 779147138\nother_white = 55823691\nasian = 99085987\nblack = 26647964\nmixed = 22684060\nother = 16757559\n");
  const fs::path f = write("trillion.toml", text);
  expect_validate_error(f, 3, "population.scale", "expected at most 2e9 residents (agent ids are 32-bit): ",
                        {" residents need about 300 TB of memory (~300 bytes each), and this machine has "});
  expect_run_refused(f);
}

// Every resident every day for a century: ~600 GB of snapshots, refused before anything runs,
// with the estimate.
TEST_F(BadInputs, EveryAgentEveryDayForACenturyIsRefusedWithADiskEstimate) {
  const std::string text = extending("[simulation]\nend = 2119-12-31\n[record.agents]\ninterval = \"day\"\nsample = 1\n");
  const fs::path f = write("century.toml", text);
  expect_validate_error(f, line_containing(text, "sample"), "record.agents.sample",
                        "expected an output of at most 100 GB (record.max_output_gb; raise it if this is meant): "
                        "258369 residents from 2020-01-01 to 2119-12-31 would write up to ",
                        {"; series: 5218 records × ", "agent snapshots: 36524 × 258369 residents × 58 bytes)"});
  expect_run_refused(f);
}

TEST_F(BadInputs, OutputLimitLoweredBelowTheSeries) {
  const std::string text = extending("[record]\nmax_output_gb = 0.001\n");
  const fs::path f = write("small_limit.toml", text);
  const std::string base = read_file(kBaseScenario);
  expect_validate_error(f, kBaseScenario, line_containing(base, "interval = \"week\""), "record.interval",
                        "expected an output of at most 1 MB (record.max_output_gb; raise it if this is meant): ",
                        {"; series: 209 records × ", "agent snapshots: none)"});
}

TEST_F(BadInputs, ValidateShowsTheMemoryAndOutputEstimates) {
  const fs::path f = write("snapshots.toml", extending("[record.agents]\ninterval = \"month\"\nsample = 0.01\n"));
  const CliResult r = cli({"validate", f.string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("needs about 77.5 MB of memory; output up to "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("; series: 209 records × "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("agent snapshots: 48 × 2584 residents × 58 bytes)"), std::string::npos) << r.out;
}

TEST_F(BadInputs, RecordAgentsIntervalFortnight) {
  const fs::path f =
      expect_addition_rejected("[record.agents]\ninterval = \"fortnight\"\n", 3, "record.agents.interval",
                               "expected one of \"day\", \"week\", \"month\", \"year\", got \"fortnight\"");
  expect_run_refused(f);
}

TEST_F(BadInputs, RecordAgentsSampleZero) {
  const fs::path f = write("bad.toml", extending("[record.agents]\nsample = 0\n"));
  expect_validate_error(f, 3, "record.agents.sample",
                        "expected a share of residents in (0, 1] (omit [record.agents] for no snapshots)");
  expect_run_refused(f);
}

TEST_F(BadInputs, RecordAgentsSampleAboveOne) {
  const fs::path f = write("bad.toml", extending("[record.agents]\nsample = 1.5\n"));
  expect_validate_error(f, 3, "record.agents.sample", "expected a number in [0, 1], got 1.5");
}

TEST_F(BadInputs, RecordAgentsUnknownKey) {
  const fs::path f = write("bad.toml", extending("[record.agents]\nsample = 0.1\nfields = [\"warmth\"]\n"));
  expect_validate_error(f, 4, "record.agents.fields", "unknown key; expected one of: ", {"enabled", "interval", "sample"});
}

TEST_F(BadInputs, RecordAgentsNotATable) {
  const fs::path f = write("bad.toml", extending("[record]\nagents = 0.01\n"));
  expect_validate_error(f, 3, "record.agents", "expected a table, got a float");
}

TEST_F(BadInputs, RecordIntervalFortnight) {
  const fs::path f = expect_addition_rejected("[record]\ninterval = \"fortnight\"\n", 3, "record.interval",
                                              "expected one of \"day\", \"week\", \"month\", got \"fortnight\"");
  expect_run_refused(f);
}

// ------------------------------------------------------------------ dates

TEST_F(BadInputs, EndBeforeStart) {
  const fs::path f =
      expect_addition_rejected("[simulation]\nstart = 2022-01-01\nend = 2021-12-31\n", 4, "simulation.end",
                               "expected a date on or after start (2022-01-01), got 2021-12-31");
  expect_run_refused(f);
}

// 2020-02-30 is not a TOML date at all, so the TOML parser rejects it on its line.
TEST_F(BadInputs, InvalidDateLiteral) {
  expect_addition_rejected("[simulation]\nstart = 2020-02-30\n", 3, "(syntax)",
                           "Error while parsing date: expected day between 1 and 29");
}

TEST_F(BadInputs, InvalidDateString) {
  expect_addition_rejected("[simulation]\nstart = \"2020-13-01\"\n", 3, "simulation.start",
                           "expected a date YYYY-MM-DD, got \"2020-13-01\"");
}

// ------------------------------------------------------------------ dangling references

TEST_F(BadInputs, VenueInUnknownWard) {
  const fs::path f =
      expect_addition_rejected("[[venues]]\nname = \"Hall\"\ntype = \"community_centre\"\nward = \"Atlantis\"\n", 5,
                               "venues[0].ward", "unknown ward \"Atlantis\"; expected a name from [wards]");
  expect_run_refused(f);
}

TEST_F(BadInputs, UnknownVenueType) {
  const std::string text = extending("[[venues]]\nname = \"Pool\"\ntype = \"swimming_pool\"\nward = \"Tunstall\"\n");
  const fs::path f = write("bad.toml", text);
  // Every venue type of the base scenario, in its order (listed in tests/data).
  expect_validate_error(f, 4, "venues[0].type",
                        "unknown venue type \"swimming_pool\"; expected one of " +
                            quoted_list(test_data_lines("default_scenario_venue_types.txt")));

}

const std::string kGroupList =
    "\"white_british\", \"other_white\", \"asian\", \"black\", \"mixed\", \"other\"";

TEST_F(BadInputs, UnknownGroupInSyntheticTotals) {
  const fs::path f =
      expect_addition_rejected("[population.synthetic.totals]\nmartians = 10\n", 3,
                               "population.synthetic.totals.martians", "unknown group; expected one of " + kGroupList);
  expect_run_refused(f);
}

// Items of [[population.synthetic.targets]] are numbered after the base file's.
int base_target_count() {
  const std::string base = read_file(kBaseScenario);
  int n = 0;
  for (std::size_t at = base.find("[[population.synthetic.targets]]"); at != std::string::npos;
       at = base.find("[[population.synthetic.targets]]", at + 1))
    ++n;
  return n;
}

TEST_F(BadInputs, UnknownGroupInSyntheticTargets) {
  const std::string text =
      extending("[[population.synthetic.targets]]\nward = \"Tunstall\"\nshares = { martians = 0.1 }\n");
  const fs::path f = write("bad.toml", text);
  const std::string item = "population.synthetic.targets[" + std::to_string(base_target_count()) + "]";
  expect_validate_error(f, 4, item + ".shares.martians", "unknown group; expected one of " + kGroupList);
}

TEST_F(BadInputs, UnknownWardInSyntheticTargets) {
  const std::string text =
      extending("[[population.synthetic.targets]]\nward = \"Atlantis\"\nshares = { asian = 0.1 }\n");
  const fs::path f = write("bad.toml", text);
  const std::string item = "population.synthetic.targets[" + std::to_string(base_target_count()) + "]";
  expect_validate_error(f, 3, item + ".ward", "unknown ward \"Atlantis\"; expected a name from [wards]");
}

TEST_F(BadInputs, UnknownFaith) {
  expect_addition_rejected("[groups.black]\nfaith = { jedi = 0.1 }\n", 3, "groups.black.faith.jedi",
                           "unknown faith; expected one of \"christian\", \"muslim\", \"hindu\", \"sikh\" "
                           "(declared under [faiths.*])");
}

TEST_F(BadInputs, UnknownGroupInWarmth) {
  expect_addition_rejected("[groups.asian.warmth]\nmartians = 0.5\n", 3, "groups.asian.warmth.martians",
                           "unknown group; expected one of " + kGroupList);
}

TEST_F(BadInputs, MissingWardsFile) {
  expect_addition_rejected("[wards]\nfile = \"no_such_wards.txt\"\n", 3, "wards.file",
                           "file not found: " + (dir_ / "no_such_wards.txt").string());
}

// ------------------------------------------------------------------ extends

TEST_F(BadInputs, ExtendsMissingFile) {
  const fs::path f = write("bad.toml", "extends = \"missing_base.toml\"\n");
  expect_validate_error(f, 1, "extends", "file not found: " + (dir_ / "missing_base.toml").string());
  expect_run_refused(f);
}

TEST_F(BadInputs, ExtendsCycle) {
  const fs::path a = write("a.toml", "extends = \"b.toml\"\ntitle = \"a\"\n");
  const fs::path b = write("b.toml", "# b extends a, which extends b\nextends = \"a.toml\"\n");
  expect_validate_error(a, b, 2, "extends",
                        "cycle: " + a.string() + " -> " + b.string() + " -> " + a.string());
  expect_run_refused(a);
}

TEST_F(BadInputs, ExtendsNotAString) {
  const fs::path f = write("bad.toml", "title = \"x\"\nextends = 5\n");
  expect_validate_error(f, 2, "extends", "expected a string (path of the base file), got an integer");
}

// ------------------------------------------------------------------ population

const std::string kStandaloneOneGroup =
    "title = \"one group\"\n"
    "[simulation]\n"
    "start = 2020-01-01\n"
    "end = 2020-12-31\n"
    "[wards]\n"
    "names = [\"North\", \"South\"]\n"
    "[population.age_shares]\n"
    "child = 0.1\n"
    "youth = 0.1\n"
    "adult = 0.6\n"
    "older = 0.2\n"
    "[population.synthetic.totals]\n"
    "everyone = 1000\n"
    "[groups.everyone]\n"
    "warmth = { outgroup = 0.6 }\n";

TEST_F(BadInputs, TooFewGroups) {
  const fs::path f = write("bad.toml", kStandaloneOneGroup);
  expect_validate_error(f, line_containing(kStandaloneOneGroup, "[groups.everyone]"), "groups",
                        "expected between 2 and 16 groups, got 1");
  expect_run_refused(f);
}

TEST_F(BadInputs, AgeSharesNotSummingToOne) {
  std::string text = kStandaloneOneGroup;
  text.replace(text.find("older = 0.2"), 11, "older = 0.1");
  text += "[groups.others]\nwarmth = { outgroup = 0.6 }\n";
  text.replace(text.find("everyone = 1000"), 15, "everyone = 1000\nothers = 100");
  const fs::path f = write("bad.toml", text);
  // Named at the last share written, the one most likely to be the mistake.
  expect_validate_error(f, line_containing(text, "older = 0.1"), "population.age_shares.older",
                        "expected age shares (child, youth, adult, older) summing to 1, got 0.9");
}

// Only `child` changes, in the extending file: the error must name that file (the table line
// there, or child's own line), not the base, whose shares sum to 1.
TEST_F(BadInputs, AgeSharesOverriddenToNotSumNameTheOverridingFile) {
  const std::string text = extending("[population.age_shares]\nchild = 0.5\n");
  const fs::path f = write("bad.toml", text);
  expect_validate_error_matching(
      f, "error: " + regex_escaped(f.string()) +
             R"(:(2: population\.age_shares|3: population\.age_shares\.child): expected age shares \(child, youth, adult, older\) summing to 1, got 1\.36)");
}

// ------------------------------------------------------------------ census

TEST_F(BadInputs, MissingCensusFile) {
  const std::string text = census_scenario("missing.csv", kGoodWards, kTotalColumn, kGoodMinority);
  const fs::path f = write("bad.toml", text);
  expect_validate_error(f, line_containing(text, "file = "), "population.census.file",
                        "file not found: " + (dir_ / "missing.csv").string());
  expect_run_refused(f);
}

TEST_F(BadInputs, CensusRowsThatDoNotSum) {
  const fs::path csv = write("census.csv", census_csv(50));
  const fs::path f = write("bad.toml", census_scenario("census.csv", kGoodWards, kTotalColumn, kGoodMinority));
  expect_validate_error(f, csv, 3, kTotalColumn,
                        "categories mapped to groups sum to 750 but " + kTotalColumn + " is 800 for ward South");
  expect_run_refused(f);
}

// "East" is named in [wards] but has no row in the table. The message must put the error on a
// line that holds the key it names: wards.names (where East is) or population.census.file.
TEST_F(BadInputs, CensusMissingAWard) {
  write("census.csv", census_csv(100));
  const std::string text = census_scenario("census.csv", R"(["North", "East"])", kTotalColumn, kGoodMinority);
  const fs::path f = write("bad.toml", text);
  const std::string at = regex_escaped(f.string()) + ":(" + std::to_string(line_containing(text, "names = ")) +
                         R"(: wards\.names|)" + std::to_string(line_containing(text, "file = ")) +
                         R"(: population\.census\.file): )";
  expect_validate_error_matching(f, "error: " + at + R"(.*"East".*not found)");
  expect_run_refused(f);
}

// Every error names its key dotted from the root (config.hpp), here population.census.columns.*
TEST_F(BadInputs, CensusColumnNotInFile) {
  write("census.csv", census_csv(100));
  const std::string text =
      census_scenario("census.csv", kGoodWards, kTotalColumn, R"(["Ethnic group: Asian", "Ethnic group: Others"])");
  const fs::path f = write("bad.toml", text);
  expect_validate_error(f, line_containing(text, "columns = "), "population.census.columns.minority",
                        "column \"Ethnic group: Others\" not found in census file " + (dir_ / "census.csv").string());
}

TEST_F(BadInputs, CensusTotalColumnNotInFile) {
  write("census.csv", census_csv(100));
  const std::string text = census_scenario("census.csv", kGoodWards, "Ethnic group: Total", kGoodMinority);
  const fs::path f = write("bad.toml", text);
  expect_validate_error(f, line_containing(text, "total_column = "), "population.census.total_column",
                        "column \"Ethnic group: Total\" not found in census file " + (dir_ / "census.csv").string());
}

// ------------------------------------------------------------------ command-line flags

TEST_F(BadInputs, UntilAfterTheScenarioEnd) {
  write("census.csv", census_csv(100));
  const fs::path f = write("ok.toml", census_scenario("census.csv", kGoodWards, kTotalColumn, kGoodMinority));
  expect_run_refused(f, {"--until", "2021-01-01"});
  const CliResult r = cli({"run", f.string(), "-o", (dir_ / "x.h5").string(), "--until", "2021-01-01"});
  EXPECT_EQ(r.code, kBadInput);
  EXPECT_NE(r.err.find("error: --until: expected a date between the scenario's start 2020-01-01 and end 2020-03-31, "
                       "got 2021-01-01"),
            std::string::npos)
      << r.err;
}

TEST_F(BadInputs, UntilBeforeTheScenarioStart) {
  write("census.csv", census_csv(100));
  const fs::path f = write("ok.toml", census_scenario("census.csv", kGoodWards, kTotalColumn, kGoodMinority));
  expect_run_refused(f, {"--until", "2019-12-31"});
  const CliResult r = cli({"run", f.string(), "-o", (dir_ / "x.h5").string(), "--until", "2019-12-31"});
  EXPECT_NE(r.err.find("error: --until: expected a date between the scenario's start 2020-01-01 and end 2020-03-31, "
                       "got 2019-12-31"),
            std::string::npos)
      << r.err;
}

TEST_F(BadInputs, UntilNotADate) {
  write("census.csv", census_csv(100));
  const fs::path f = write("ok.toml", census_scenario("census.csv", kGoodWards, kTotalColumn, kGoodMinority));
  expect_run_refused(f, {"--until", "2020-02-30"});
  const CliResult r = cli({"run", f.string(), "-o", (dir_ / "x.h5").string(), "--until", "2020-02-30"});
  EXPECT_NE(r.err.find("error: --until: expected a date YYYY-MM-DD, got \"2020-02-30\""), std::string::npos) << r.err;
}

TEST_F(BadInputs, NegativeThreads) {
  write("census.csv", census_csv(100));
  const fs::path f = write("ok.toml", census_scenario("census.csv", kGoodWards, kTotalColumn, kGoodMinority));
  expect_run_refused(f, {"--threads", "-1"});
  const CliResult r = cli({"run", f.string(), "-o", (dir_ / "x.h5").string(), "--threads", "-1"});
  EXPECT_NE(r.err.find("--threads"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("-1"), std::string::npos) << r.err;
}

TEST_F(BadInputs, ValidateMissingScenarioFile) {
  const CliResult r = cli({"validate", (dir_ / "nowhere.toml").string()});
  EXPECT_EQ(r.code, kBadInput);
  EXPECT_NE(r.err.find((dir_ / "nowhere.toml").string()), std::string::npos) << r.err;
}

TEST_F(BadInputs, ExistingOutputIsLeftUntouchedWithoutForce) {
  write("census.csv", census_csv(100));
  const fs::path f = write("ok.toml", census_scenario("census.csv", kGoodWards, kTotalColumn, kGoodMinority));
  const std::string original = "not an HDF5 file, but precious\n\x01\x02\x03";
  const fs::path out = write("existing.h5", original);
  const auto before = fs::last_write_time(out);
  const CliResult r = cli({"run", f.string(), "-o", out.string(), "--quiet"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find(out.string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(out), original);
  EXPECT_EQ(fs::last_write_time(out), before);

  // With --force the same command does overwrite it: the refusal above was about the flag.
  const CliResult forced = cli({"run", f.string(), "-o", out.string(), "--quiet", "--force"});
  EXPECT_EQ(forced.code, 0) << forced.err;
  EXPECT_NE(read_file(out), original);
}

}  // namespace

// ---------------------------------------------------------------------------- timeline

TEST_F(BadInputs, TimelineUnknownVenueType) {
  const fs::path f = expect_addition_rejected(
      "[[timeline]]\nkind = \"budget\"\ndate = 2021-04-01\nvenue_type = \"library\"\nchange = -0.4\n",
      "venue_type =", "timeline[0].venue_type", "unknown venue type \"library\"; expected one of \"school\"");
  expect_run_refused(f);
}

TEST_F(BadInputs, TimelineUnknownWard) {
  expect_addition_rejected("[[timeline]]\nkind = \"close\"\ndate = 2021-04-01\nward = \"Atlantis\"\n",
                           "ward =", "timeline[0].ward", "unknown ward \"Atlantis\"; expected a name from [wards]");
}

TEST_F(BadInputs, TimelineUnknownVenue) {
  expect_addition_rejected("[[timeline]]\nkind = \"close\"\ndate = 2021-04-01\nvenue = \"Hanley Library\"\n",
                           "venue =", "timeline[0].venue",
                           "unknown venue \"Hanley Library\"; expected the name of a [[venues]] item");
}

TEST_F(BadInputs, TimelineNegativeBudget) {
  expect_addition_rejected(
      "[[timeline]]\nkind = \"budget\"\ndate = 2021-04-01\nvenue_type = \"community_centre\"\nbudget = -5000\n",
      "budget = -5000", "timeline[0].budget", "expected a number in [0, 1e+12], got -5000");
}

TEST_F(BadInputs, TimelineCutOfMoreThanEverything) {
  expect_addition_rejected(
      "[[timeline]]\nkind = \"budget\"\ndate = 2021-04-01\nvenue_type = \"community_centre\"\nchange = -1.5\n",
      "change =", "timeline[0].change", "expected a number in [-1, 10], got -1.5");
}

TEST_F(BadInputs, TimelineDateOutsideTheRun) {
  expect_addition_rejected(
      "[[timeline]]\nkind = \"budget\"\ndate = 2030-01-01\nvenue_type = \"community_centre\"\nchange = -0.4\n",
      "date =", "timeline[0].date", "expected a date within the run (2020-01-01 to 2023-12-31), got 2030-01-01");
}

TEST_F(BadInputs, TimelineInvertedLockdown) {
  const fs::path f = expect_addition_rejected(
      "[[timeline]]\nkind = \"lockdown\"\nstart = 2020-08-01\nend = 2020-03-01\nvenue_types = [\"school\"]\n",
      "end =", "timeline[0].end", "expected a date on or after start (2020-08-01), got 2020-03-01");
  expect_run_refused(f);
}

TEST_F(BadInputs, TimelineOverlappingLockdowns) {
  expect_addition_rejected(
      "[[timeline]]\nkind = \"lockdown\"\nstart = 2020-03-01\nend = 2020-06-30\nvenue_types = [\"school\"]\n"
      "[[timeline]]\nkind = \"lockdown\"\nstart = 2020-06-01\nend = 2020-09-30\nvenue_types = [\"school\", "
      "\"street\"]\n",
      "start = 2020-06-01", "timeline[1].start",
      "lockdown of \"school\" overlaps the one from 2020-03-01 to 2020-06-30");
}

TEST_F(BadInputs, TimelineUnknownKind) {
  const std::string text = extending("[[timeline]]\nkind = \"earthquake\"\ndate = 2021-04-01\n");
  const fs::path f = write("bad.toml", text);
  // Every kind some registered mechanism reads, the venue timeline's first, in registry order.
  std::string kinds;
  for (const auto& entry : contactsim::mechanism_registry())
    for (const auto& kind : entry.timeline_kinds) kinds += "\"" + kind + "\", ";
  ASSERT_EQ(kinds.rfind("\"budget\", \"open\", \"close\", \"lockdown\", ", 0), 0u) << kinds;
  expect_validate_error(f, line_containing(text, "kind ="), "timeline[0].kind",
                        "expected one of " + kinds + "got \"earthquake\"");
}

namespace {

// ------------------------------------------------------------------ issue 16: --seed and special outputs

// D11: --seed is the scenario's seed range, 0 to 2^63 - 1: a negative or larger number is
// refused, not wrapped (-1 ran as 2^64 - 1 stored as -1, -18446744073709551615 as seed 1).
TEST_F(BadInputs, SeedOutsideZeroTo2To63IsRefused) {
  for (const std::string seed : {"-1", "18446744073709551615", "18446744073709551616", "36893488147419103232",
                                 "-18446744073709551615", "9223372036854775808", "1.5", "", "0x10", "+3"}) {
    expect_run_refused(kBaseScenario, {"--seed", seed});
    const CliResult r = cli({"run", kBaseScenario.string(), "-o", (dir_ / "seed.h5").string(), "--seed", seed});
    EXPECT_NE(r.err.find("--seed: expected a whole number from 0 to 9223372036854775807 (2^63 - 1)"),
              std::string::npos)
        << seed << ": " << r.err;
  }
}

// D2: --force never replaces a FIFO, a device node or a directory: exit 1 naming the path and
// what it is, the thing left as it was.
TEST_F(BadInputs, ForceRefusesAnOutputThatIsNotARegularFile) {
  std::vector<std::pair<fs::path, std::string>> specials;
  const fs::path fifo = dir_ / "fifo.h5";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  specials.emplace_back(fifo, "a FIFO (named pipe)");
  const fs::path null = dir_ / "null.h5";
  if (::mknod(null.c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0) specials.emplace_back(null, "a character device");
  const fs::path folder = dir_ / "folder.h5";
  fs::create_directories(folder);
  specials.emplace_back(folder, "a directory");
  const fs::path scenario = write("tiny.toml", extending("[population]\nscale = 0.01\n"));
  for (const auto& [path, kind] : specials) {
    const auto type_before = fs::symlink_status(path).type();
    const CliResult r = cli({"run", scenario.string(), "-o", path.string(), "--force", "-q", "--until", "2020-01-05"});
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find(path.string() + ": is " + kind + ", not an output file"), std::string::npos) << r.err;
    EXPECT_EQ(fs::symlink_status(path).type(), type_before) << path << " was replaced";
    // --checkpoint too: refused before the run.
    const CliResult c = cli({"run", scenario.string(), "-o", (dir_ / "ok.h5").string(), "--force", "-q", "--until",
                             "2020-01-05", "--checkpoint-at", "2020-01-03", "--checkpoint", path.string()});
    EXPECT_EQ(c.code, 1) << c.err;
    EXPECT_NE(c.err.find(path.string() + ": is " + kind + ", not an output file"), std::string::npos) << c.err;
    EXPECT_EQ(fs::symlink_status(path).type(), type_before) << path << " was replaced";
  }
}

// D3: "OUT.partial" a link to another file: the run neither writes through it nor publishes a link.
TEST_F(BadInputs, SymlinkedPartialOutputIsNotFollowed) {
  const fs::path scenario = write("tiny.toml", extending("[population]\nscale = 0.01\n"));
  const fs::path precious = write("precious.txt", "precious");
  const fs::path out = dir_ / "out3.h5";
  fs::create_symlink(precious, out.string() + ".partial");
  const CliResult r = cli({"run", scenario.string(), "-o", out.string(), "-q", "--until", "2020-01-05"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_file(precious), "precious");
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(out)));
  EXPECT_FALSE(fs::exists(fs::symlink_status(out.string() + ".partial")));
}

}  // namespace
