#include "tests/support/scenarios.hpp"

#include "core/text_file.hpp"

#include <sstream>
#include <stdexcept>

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

std::string test_data_text(const std::string& name) {
  const fs::path path = source_dir() / "tests" / "data" / name;
  const std::optional<std::string> text = read_text_file(path);
  if (!text) throw std::runtime_error("cannot read " + path.string());
  return *text;
}

std::vector<std::string> test_data_lines(const std::string& name) {
  std::istringstream text(test_data_text(name));
  std::vector<std::string> lines;
  for (std::string line; std::getline(text, line);)
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  return lines;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "\"" : ", \"") + name + "\"";
  return out;
}

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
