#include "models/run/outputs.hpp"

#include "models/mechanisms/registry.hpp"
#include "models/run/metrics.hpp"
#include "models/run/simulation.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace contactsim {
namespace {

bool contains(const std::vector<std::size_t>& values, std::size_t value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

bool contains(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

std::vector<std::size_t> every_mechanism() {
  std::vector<std::size_t> all(mechanism_registry().size());
  std::iota(all.begin(), all.end(), std::size_t{0});
  return all;
}

const char* type_name(SeriesType type) { return type == SeriesType::int64 ? "int64" : "float32"; }

std::string dimensions_of(const SeriesSpec& spec) {
  std::string out = "(time";
  for (const auto& dim : spec.dims) out += ", " + dim;
  return out + ")";
}

std::string code(const std::string& text) { return "`" + text + "`"; }

// "`a`", "`a` or `b`", "`a`, `b` or `c`"
std::string alternatives(const std::vector<std::string>& kinds) {
  std::string out;
  for (std::size_t k = 0; k < kinds.size(); ++k)
    out += (k == 0 ? "" : k + 1 == kinds.size() ? " or " : ", ") + code(kinds[k]);
  return out;
}

// A table cell: a '|' would end it.
std::string cell(const std::string& text) {
  std::string out;
  for (const char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

bool runs_in(const ConfigDocument& doc, std::size_t entry) {
  return contains(running_mechanisms(read_scenario(doc)), entry);
}

// When a mechanism that runs in `doc` writes its series: whether it still runs without its
// timeline items, and whether it still runs switched off (items kept). Found by building the
// city, so nothing here restates what a mechanism's build function decides.
std::string when_written(const ConfigDocument& doc, std::size_t k) {
  const MechanismEntry& entry = mechanism_registry()[k];
  bool needs_items = false;
  if (!entry.timeline_kinds.empty()) {
    toml::array kept;
    if (const auto* timeline = doc.root()["timeline"].as_array())
      for (const toml::node& item : *timeline) {
        const auto* table = item.as_table();
        const auto kind = table ? (*table)["kind"].value<std::string>() : std::nullopt;
        if (!kind || !contains(entry.timeline_kinds, *kind))
          item.visit([&](const auto& concrete) { kept.push_back(concrete); });
      }
    needs_items = !runs_in(doc.with_value("timeline", kept), k);
  }
  bool needs_switch = false;
  std::optional<ConfigDocument> off;
  try {
    off = doc.with_value("mechanisms." + entry.name + ".enabled", toml::value<bool>(false));
    (void)read_scenario(*off);
  } catch (const ConfigError&) {
    off.reset();  // no [mechanisms.<name>] table: nothing switches it off
  }
  if (off) needs_switch = !runs_in(*off, k);
  const std::string table = code("[mechanisms." + entry.name + "]");
  if (needs_items && needs_switch)
    return "when the scenario has " + alternatives(entry.timeline_kinds) + " items and " + table +
           " is enabled (the default)";
  if (needs_items) return "when the scenario has " + alternatives(entry.timeline_kinds) + " items";
  if (needs_switch) return "when " + table + " is enabled (the default)";
  return "in every run";
}

// The dimensions a series may have after time, and what their scales hold.
struct DimensionDoc {
  const char* name;
  const char* labels;
};
constexpr DimensionDoc kDimensions[] = {
    {"ward", "the scenario's wards, in the order of `/wards`"},
    {"group", "the scenario's groups, in the order of `/groups`"},
    {"target_group", "the groups again: the group an attitude, encounter or exposure is directed at"},
    {"venue_type", "the scenario's venue types, in the order of `/venue_types` (mechanisms' contact columns "
                   "such as a class or event column included)"},
    {"spatial_unit", "`block`, `ward`: the units a segregation index is computed over"},
};

const DimensionDoc& dimension_doc(const std::string& name) {
  for (const auto& d : kDimensions)
    if (name == d.name) return d;
  throw std::logic_error("series dimension \"" + name +
                         "\" is not described in docs/outputs.md: add it to kDimensions in models/run/outputs.cpp");
}

}  // namespace

std::vector<std::size_t> series_definition_order(const std::vector<std::size_t>& entries) {
  const auto& registry = mechanism_registry();
  std::vector<std::size_t> order(entries.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return registry[entries[a]].series_order < registry[entries[b]].series_order;
  });
  return order;
}

std::vector<OutputSeries> output_series(const Scenario& scenario, const std::vector<std::size_t>& running) {
  std::vector<OutputSeries> out;
  for (SeriesSpec& spec : city_series()) out.push_back({"city", std::move(spec)});
  const auto& registry = mechanism_registry();
  for (const std::size_t m : series_definition_order(running))
    for (SeriesSpec& spec : scenario.mechanisms[running[m]]->series())
      out.push_back({registry[running[m]].name, std::move(spec)});
  return out;
}

std::vector<std::size_t> running_mechanisms(const Scenario& scenario) {
  const Simulation simulation(scenario);
  const std::vector<std::string> names = simulation.scheduler().phase_names();
  std::vector<std::size_t> running;
  for (const std::size_t k : every_mechanism())
    if (contains(names, mechanism_registry()[k].name)) running.push_back(k);
  return running;
}

std::vector<OutputSeries> output_series(const Scenario& scenario) {
  return output_series(scenario, running_mechanisms(scenario));
}

std::vector<OutputOwner> output_owners(const ConfigDocument& doc) {
  const Scenario scenario = read_scenario(doc);
  const std::vector<std::size_t> running = running_mechanisms(scenario);
  std::vector<OutputOwner> owners{{"city", {}, true, "in every run", city_series()}};
  const std::vector<std::size_t> all = every_mechanism();
  for (const std::size_t m : series_definition_order(all)) {
    const std::size_t k = all[m];
    std::vector<SeriesSpec> series = scenario.mechanisms[k]->series();
    if (series.empty()) continue;
    const MechanismEntry& entry = mechanism_registry()[k];
    OutputOwner owner{entry.name, entry.timeline_kinds, contains(running, k), "", std::move(series)};
    if (owner.written) owner.when = when_written(doc, k);
    owners.push_back(std::move(owner));
  }
  return owners;
}

std::string outputs_listing(const std::vector<OutputSeries>& series) {
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof line, "%-12s %-38s %-38s %-8s %s\n", "owner", "path", "dimensions", "type", "units");
  out << line;
  for (const auto& s : series) {
    std::snprintf(line, sizeof line, "%-12s %-38s %-38s %-8s %s\n", s.owner.c_str(), ("/series/" + s.spec.name).c_str(),
                  dimensions_of(s.spec).c_str(), type_name(s.spec.type), s.spec.units.c_str());
    out << line;
  }
  return out.str();
}

std::string outputs_markdown(const std::vector<OutputOwner>& owners, const std::string& command) {
  std::ostringstream out;
  out << "# Outputs\n\n"
         "Generated by `"
      << command
      << "`\nfrom the series definitions (`city_series()` in `models/run/metrics.cpp` and each mechanism's\n"
         "`MechanismConfig::series()`), for a scenario in which every mechanism runs; a test fails when this\n"
         "file is out of date or when a run writes a series it does not list. `contactsim outputs SCENARIO`\n"
         "lists the series a given scenario writes.\n\n"
         "## File layout\n\n"
         "A run writes one HDF5 file, readable with `h5py`, `h5dump` or any HDF5 tool (README, *Output*):\n\n"
         "| path | content |\n|---|---|\n"
         "| `/` attributes | provenance: `format` (`contactsim-output-2`), `contactsim_version`, `git_revision`, "
         "`scenario_path`, `scenario_text` (the merged scenario as run), `scenario_sha256`, `seed`, `replicate`, "
         "`threads`, `start_date`, `end_date`, `record_interval`, `population_source`, `population_scale`, "
         "`invariants_checked`, `created_utc`; `records` (completed records) and `complete` (1 once the run "
         "reached its last day); `restored_from` and `restored_after` for a run continued from a checkpoint; "
         "`ensemble`, `ensemble_scenario`, `ensemble_point`, `ensemble_parameter_set` (-1 without parameter sets), "
         "`ensemble_run` for an ensemble's runs |\n"
         "| `/groups` | table: `name`, `label`, `residents` |\n"
         "| `/wards` | table: `name`, `code`, `residents` |\n"
         "| `/venue_types` | table: `name`, `slot`, `membership`, `quality`, `depth`, `encounters` |\n"
         "| `/venues` | table: `id`, `name`, `type`, `ward`, `faith`, `capacity`, `members` |\n"
         "| `/series/time` | the last day of each recording period, the first axis of every series: int64 days since "
         "1970-01-01 with CF `units` and `calendar` attributes, so netCDF readers (xarray with h5netcdf, "
         "ncdump, R's ncdf4) decode dates |\n"
         "| `/series/<dimension>` | the labels of a dimension (below), an HDF5 dimension scale |\n"
         "| `/series/<name>` | one array per series (below), shaped (time, dimensions...) |\n"
         "| `/events` | table: `date`, `kind`, `subject`, `detail`, `venues_affected` |\n"
         "| `/agents` | sampled agent snapshots, only with `[record.agents]` (README, *Agent snapshots*) |\n\n"
         "Every series is float32 or int64, has its axes attached as dimension scales and the attributes\n"
         "`description`, `units` and `dimensions`, and is chunked one record per chunk along time, shuffled and\n"
         "gzip-compressed. Values of a period are at its end (\"at the end of the period\") or summed over it\n"
         "(\"during the period\"). In the file of a killed run a series may hold one record more than\n"
         "`/series/time`: read no further than `len(time)`.\n\n"
         "## Dimensions\n\n"
         "| dimension | labels |\n|---|---|\n"
         "| `time` | `/series/time` (above) |\n";
  for (const auto& d : kDimensions) out << "| `" << d.name << "` | " << d.labels << " |\n";
  out << "\n## Series\n";
  for (const auto& owner : owners) {
    if (owner.name == "city")
      out << "\n### City-wide\n\nWritten by every run (`Metrics`, `models/run/metrics.cpp`).\n";
    else {
      out << "\n### `" << owner.name << "`\n\nWritten by the `" << owner.name << "` mechanism "
          << (owner.written ? owner.when : "(which does not run in this scenario)");
      // Timeline items it reads but does not need (tension's leaflets).
      if (owner.written && !owner.timeline_kinds.empty() && owner.when.find(" items") == std::string::npos)
        out << ", with or without its " << alternatives(owner.timeline_kinds) << " timeline items";
      out << ".\n";
    }
    out << "\n| path | dimensions | type | units | description |\n|---|---|---|---|---|\n";
    for (const auto& spec : owner.series) {
      for (const auto& dim : spec.dims) (void)dimension_doc(dim);
      out << "| `/series/" << spec.name << "` | " << dimensions_of(spec) << " | " << type_name(spec.type) << " | "
          << cell(spec.units) << " | " << cell(spec.description) << " |\n";
    }
  }
  return out.str();
}

}  // namespace contactsim
