// Documentation that is generated from code must be current.
#include "core/h5.hpp"
#include "core/recorder.hpp"
#include "models/city/venue_types.hpp"
#include "models/mechanisms/registry.hpp"
#include "models/run/outputs.hpp"
#include "models/run/simulation.hpp"

#include <gtest/gtest.h>

#include <array>
#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/scenarios.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

std::string command_output(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), static_cast<int>(buffer.size()), pipe)) out += buffer.data();
  pclose(pipe);
  return out;
}

// docs/outputs.md is generated from this scenario, run from the source tree.
const char* const kEveryMechanism = "tests/data/every_mechanism.toml";

std::string outputs_markdown_now() {
  return command_output("cd '" + contactsim::test::source_dir().string() + "' && " + CONTACTSIM_CLI + " outputs " +
                        kEveryMechanism + " --markdown");
}

}  // namespace

TEST(Docs, OutputDictionaryIsCurrent) {
  const std::string generated = outputs_markdown_now();
  ASSERT_NE(generated.find("| `/series/population` |"), std::string::npos) << generated;
  EXPECT_EQ(contactsim::test::read_file(contactsim::test::source_dir() / "docs" / "outputs.md"), generated)
      << "docs/outputs.md is stale: regenerate it with `build/contactsim outputs " << kEveryMechanism
      << " --markdown > docs/outputs.md` (from the source tree)";
}

// The scenario docs/outputs.md is generated from runs every mechanism that declares series.
TEST(Docs, OutputDictionaryScenarioRunsEveryMechanismWithSeries) {
  using namespace contactsim;
  const Scenario scenario = load_scenario(test::source_dir() / kEveryMechanism);
  const std::vector<std::size_t> running = running_mechanisms(scenario);
  const auto& registry = mechanism_registry();
  for (std::size_t k = 0; k < registry.size(); ++k) {
    if (scenario.mechanisms[k]->series().empty()) continue;
    EXPECT_NE(std::find(running.begin(), running.end(), k), running.end())
        << registry[k].name << " declares series but does not run in " << kEveryMechanism
        << ": give it a timeline item there";
  }
}

// Every series a real run writes is the one output_series() lists, and is in docs/outputs.md
// with its dimensions: the doc cannot silently miss a series.
TEST(Docs, EverySeriesARunWritesIsInTheOutputDictionary) {
  using namespace contactsim;
  const std::string doc = test::read_file(test::source_dir() / "docs" / "outputs.md");
  const Scenario scenario = load_scenario(test::source_dir() / kEveryMechanism);
  const std::vector<OutputSeries> listed = output_series(scenario);
  const test::TempDir dir("docs_outputs");
  {
    RunOptions options;
    options.threads = 1;
    options.until = scenario.simulation.start + 9;
    Simulation sim(scenario, options);
    Recorder recorder = Recorder::create(dir / "run.h5", true);
    sim.attach(recorder);
    sim.run();
  }
  const h5::File file = h5::File::open_read_only(dir / "run.h5");
  const h5::Group series = file.open_group("series");
  std::vector<std::string> written;
  for (const std::string& name : series.link_names()) {
    const h5::Dataset dataset = series.open_dataset(name);
    if (dataset.is_scale()) continue;
    written.push_back(name);
    const auto spec = std::find_if(listed.begin(), listed.end(), [&](const OutputSeries& s) { return s.spec.name == name; });
    ASSERT_NE(spec, listed.end()) << "/series/" << name << " is written but not listed by output_series()";
    std::string dims = "(time", attribute = "time";
    for (const auto& d : spec->spec.dims) dims += ", " + d, attribute += "," + d;
    EXPECT_EQ(dataset.string_attribute("dimensions"), attribute) << name;
    EXPECT_EQ(dataset.string_attribute("units"), spec->spec.units) << name;
    EXPECT_NE(doc.find("| `/series/" + name + "` | " + dims + ") |"), std::string::npos)
        << "/series/" << name << " is written but not in docs/outputs.md";
  }
  EXPECT_EQ(written.size(), listed.size()) << "output_series() lists series the run does not write";
  EXPECT_GT(written.size(), 25u);
}

TEST(Docs, ParameterDictionaryIsCurrent) {
  const std::string generated = command_output(std::string(CONTACTSIM_CLI) + " params --markdown");
  ASSERT_NE(generated.find("## `[mechanisms.valence]`"), std::string::npos);
  EXPECT_EQ(contactsim::test::read_file(contactsim::test::source_dir() / "docs" / "parameters.md"), generated)
      << "docs/parameters.md is stale: regenerate it with `build/contactsim params --markdown > docs/parameters.md`";
}

// The built-in venue types come from a data file (models/city/venue_types.toml); each is documented.
TEST(Docs, EveryBuiltinVenueTypeIsInTheDictionary) {
  const std::string generated = command_output(std::string(CONTACTSIM_CLI) + " params --markdown");
  for (const auto& t : contactsim::builtin_venue_types())
    EXPECT_NE(generated.find("## `[venue_types." + t.name + "]`"), std::string::npos) << t.name;
}

TEST(Docs, EveryParameterHasASource) {
  const std::string text = command_output(std::string(CONTACTSIM_CLI) + " params");
  std::istringstream lines(text);
  std::string line;
  int rows = 0;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    ++rows;
    const auto dash = line.find(" — ");
    ASSERT_NE(dash, std::string::npos) << line;
    EXPECT_GT(line.size() - dash, 20u) << "source too short: " << line;
  }
  EXPECT_GT(rows, 40);
}
