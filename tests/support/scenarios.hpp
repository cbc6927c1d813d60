#pragma once
// Small cities and scenario fragments written as text, read the way the CLI reads files.
#include "core/config.hpp"
#include "models/run/scenario.hpp"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/errors.hpp"

namespace contactsim::test {

// The source tree (set by CMake), its scenarios/ and the default Stoke scenario.
const std::filesystem::path& source_dir();
const std::filesystem::path& scenarios_dir();
std::filesystem::path default_scenario();

// The text of tests/data/<name> (scenario fragments kept as data, not C++); throws when unreadable.
std::string test_data_text(const std::string& name);
// The lines of tests/data/<name> that are neither empty nor comments ('#').
std::vector<std::string> test_data_lines(const std::string& name);
// `names` each in double quotes, separated by ", " (as error messages list choices).
std::string quoted_list(const std::vector<std::string>& names);

// `extends = "<base>"` on line 1, then `body` from line 2, so that expected error lines can be
// counted from `body`.
std::string extending(const std::filesystem::path& base, const std::string& body);

// A city of the real structure but few residents: extends `base` (resolved from the file the
// text is read as), then `extra`, then `population.scale = scale` and, unless `interval` is
// empty, `record.interval = interval`.
std::string small_city_text(const std::filesystem::path& base, const std::string& extra, double scale,
                            const std::string& interval);

// Scenario text read as if it were the file `name` of scenarios/, so `extends` and census paths
// resolve there as for the shipped scenarios.
Scenario scenario_from_text(const std::string& text, const std::string& name);

// One [[timeline]] item as the timeline readers receive it, from `kind = "<kind>"` and `keys`:
// the text starts "[[timeline]]\nkind = ...\n", so a key's line is 2 + its line in `keys`.
class TimelineTable {
 public:
  TimelineTable(const std::string& kind, const std::string& keys);
  TimelineTable(const TimelineTable&) = delete;  // the table points into the document
  TimelineTable& operator=(const TimelineTable&) = delete;
  const ConfigTable& table() const { return table_; }

 private:
  ConfigDocument doc_;
  ConfigTable table_;
};

// The error message of `read(item)` for the item of `kind` with `keys`; "" when it reads.
template <class Read>
std::string timeline_error(const std::string& kind, const std::string& keys, Read&& read) {
  const TimelineTable item(kind, keys);
  return error_of([&] { std::forward<Read>(read)(item.table()); });
}

}  // namespace contactsim::test
