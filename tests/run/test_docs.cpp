// Documentation that is generated from code must be current.
#include "models/city/venue_types.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <sstream>
#include <string>

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

}  // namespace

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
