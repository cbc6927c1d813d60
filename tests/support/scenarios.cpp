#include "tests/support/scenarios.hpp"

#include <sstream>

namespace fs = std::filesystem;

namespace contactsim::test {

const fs::path& source_dir() {
  static const fs::path dir = CONTACTSIM_SOURCE_DIR;
  return dir;
}

const fs::path& scenarios_dir() {
  static const fs::path dir = source_dir() / "scenarios";
  return dir;
}

fs::path default_scenario() { return scenarios_dir() / "stoke_on_trent.toml"; }

std::string extending(const fs::path& base, const std::string& body) {
  return "extends = \"" + base.string() + "\"\n" + body;
}

std::string small_city_text(const fs::path& base, const std::string& extra, double scale,
                            const std::string& interval) {
  std::ostringstream text;
  text << extending(base, extra) << "\n[population]\nscale = " << scale << "\n";
  if (!interval.empty()) text << "[record]\ninterval = \"" << interval << "\"\n";
  return text.str();
}

Scenario scenario_from_text(const std::string& text, const std::string& name) {
  return read_scenario(ConfigDocument::parse(text, scenarios_dir() / name));
}

TimelineTable::TimelineTable(const std::string& kind, const std::string& keys)
    : doc_(ConfigDocument::parse("[[timeline]]\nkind = \"" + kind + "\"\n" + keys, "scenario.toml")),
      table_(ConfigTable::root(doc_).array_of_tables("timeline").at(0)) {}

}  // namespace contactsim::test
