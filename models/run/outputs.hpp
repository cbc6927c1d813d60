#pragma once
// What a run writes to /series, from the series definitions (city_series() and each mechanism's
// MechanismConfig::series()): the order Simulation::define_series defines them in, which
// mechanisms write theirs in a given scenario and when, and the listing of `contactsim outputs`
// (docs/outputs.md is its Markdown, checked current by tests/run/test_docs.cpp).
#include "core/config.hpp"
#include "core/recorder.hpp"
#include "models/run/scenario.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace contactsim {

struct OutputSeries {
  std::string owner;  // "city" or the mechanism's registry name
  SeriesSpec spec;
};

// Positions into `entries` (registry indices of the mechanisms a run built, in registry order)
// in the order their series are defined in /series: by MechanismEntry::series_order, ties in
// registry order. Simulation::define_series defines them in this order.
std::vector<std::size_t> series_definition_order(const std::vector<std::size_t>& entries);

// The series a run defines when the mechanisms `running` (registry indices, registry order) run,
// in the order it defines them: the city-wide series, then each running mechanism's.
std::vector<OutputSeries> output_series(const Scenario& scenario, const std::vector<std::size_t>& running);

// Registry indices of the mechanisms a run of `scenario` builds (a mechanism the scenario gives
// nothing to do, or switches off, is not built and writes no series). Builds the city and the
// mechanisms once; simulates nothing.
std::vector<std::size_t> running_mechanisms(const Scenario& scenario);

// Exactly the series a run of `scenario` writes, in the order it defines them.
std::vector<OutputSeries> output_series(const Scenario& scenario);

// One writer of series ("city" or a mechanism) and when a run writes its series.
struct OutputOwner {
  std::string name;                        // "city" or the mechanism's registry name
  std::vector<std::string> timeline_kinds; // the [[timeline]] kinds the mechanism reads
  bool written = false;                    // whether a run of the scenario writes them
  // When a run writes them ("in every run", "when the scenario has `<kind>` items", ...), found
  // by building the city again without the mechanism's timeline items and with it switched off;
  // empty when the scenario does not run the mechanism (nothing to compare with).
  std::string when;
  std::vector<SeriesSpec> series;          // in the order they are defined
};

// The owners of the series of the scenario in `doc`, in /series order: the city, then every
// mechanism whose config declares series (running or not). Reads the scenario and builds its
// city a few times (two for each mechanism that runs and declares series); simulates nothing.
std::vector<OutputOwner> output_owners(const ConfigDocument& doc);

// `contactsim outputs SCENARIO`: one line per series (output_series(scenario)).
std::string outputs_listing(const std::vector<OutputSeries>& series);
// `contactsim outputs SCENARIO --markdown` (docs/outputs.md): the file layout, the dimensions
// and a table of series per owner. `command` is how it was generated (shown in the header).
// Throws std::logic_error for a series dimension it cannot describe.
std::string outputs_markdown(const std::vector<OutputOwner>& owners, const std::string& command);

}  // namespace contactsim
