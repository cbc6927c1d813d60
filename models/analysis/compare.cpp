#include "models/analysis/compare.hpp"

#include "core/config.hpp"
#include "core/h5.hpp"
#include "core/text.hpp"

#include <boost/math/distributions/students_t.hpp>

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace contactsim {
namespace fs = std::filesystem;
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A run's metric as a (wards + 1) × (groups + 1) table; the last row and column are "all".
struct Table {
  int wards = 0, groups = 0;
  std::vector<double> cells;
  double& at(int w, int g) { return cells[static_cast<std::size_t>(w) * (groups + 1) + g]; }
  double at(int w, int g) const { return cells[static_cast<std::size_t>(w) * (groups + 1) + g]; }
};

struct RunFile {
  std::string name, scenario;
  int point = 0;
  std::int64_t replicate = 0;
  std::map<std::string, Table> metrics;
};

std::int64_t integer_attribute(const h5::Object& object, const std::string& name) {
  const auto value = object.integer_attribute(name);
  if (!value) throw RecorderError(object.file_name() + ": attribute '" + name + "' missing or not an integer");
  return *value;
}

// The dataset as doubles with its shape; only the first `records` rows (complete records).
std::vector<double> read_series(const h5::Group& run, const std::string& name, std::vector<hsize_t>& shape) {
  const h5::Dataset data = run.open_dataset("series/" + name);
  shape = data.shape();
  return data.read_values<double>(h5::Datatype::native_double());
}

Table summarise(const h5::Group& run, const MetricDefinition& metric, const std::vector<double>& population,
                int wards, int groups, std::size_t records) {
  std::vector<hsize_t> shape;
  const std::vector<double> values = read_series(run, metric.series, shape);
  Table t{wards, groups, std::vector<double>(static_cast<std::size_t>(wards + 1) * (groups + 1), 0.0)};
  std::size_t per_record = 1;
  for (std::size_t k = 1; k < shape.size(); ++k) per_record *= shape[k];
  const std::size_t inner = per_record / (static_cast<std::size_t>(wards) * groups);  // venue types, targets
  const std::size_t last = records - 1;
  const auto weight = [&](int w, int g) { return population[(last * wards + w) * groups + g]; };
  for (int w = 0; w < wards; ++w)
    for (int g = 0; g < groups; ++g) {
      double cell = 0;
      if (metric.count) {
        for (std::size_t r = 0; r < records; ++r)
          for (std::size_t k = 0; k < inner; ++k)
            cell += values[r * per_record + (static_cast<std::size_t>(w) * groups + g) * inner + k];
      } else if (metric.series == "mean_warmth") {  // outgroup: the mean over the other groups
        for (int h = 0; h < groups; ++h)
          if (h != g) cell += values[last * per_record + (static_cast<std::size_t>(w) * groups + g) * groups + h];
        cell /= groups - 1;
      } else {
        cell = values[last * per_record + static_cast<std::size_t>(w) * groups + g];
      }
      t.at(w, g) = cell;
    }
  // Margins: sums for counts, resident-weighted means otherwise (empty cells carry no weight).
  const auto combine = [&](auto cells_of) {
    double sum = 0, weights = 0;
    for (const auto& [w, g] : cells_of) {
      if (metric.count) {
        sum += t.at(w, g);
      } else if (weight(w, g) > 0 && std::isfinite(t.at(w, g))) {
        sum += t.at(w, g) * weight(w, g);
        weights += weight(w, g);
      }
    }
    return metric.count ? sum : (weights > 0 ? sum / weights : kNaN);
  };
  for (int w = 0; w <= wards; ++w)
    for (int g = 0; g <= groups; ++g) {
      if (w < wards && g < groups) continue;
      std::vector<std::pair<int, int>> cells;
      for (int a = (w < wards ? w : 0); a < (w < wards ? w + 1 : wards); ++a)
        for (int b = (g < groups ? g : 0); b < (g < groups ? g + 1 : groups); ++b) cells.emplace_back(a, b);
      t.at(w, g) = combine(cells);
    }
  return t;
}

struct Interval {
  double mean_a = 0, mean_b = 0, difference = 0, low = kNaN, high = kNaN;
};

double mean_of(const std::vector<double>& x) {
  double s = 0;
  for (const double v : x) s += v;
  return s / static_cast<double>(x.size());
}

double variance_of(const std::vector<double>& x, double mean) {
  double s = 0;
  for (const double v : x) s += (v - mean) * (v - mean);
  return s / static_cast<double>(x.size() - 1);
}

double t_quantile(double confidence, double degrees_of_freedom) {
  return boost::math::quantile(boost::math::students_t(degrees_of_freedom), 0.5 + confidence / 2.0);
}

// a: scenario values, b: baseline values, replicate by replicate.
Interval interval_of(const std::vector<double>& a, const std::vector<double>& b, bool paired, double confidence) {
  Interval out;
  const auto n = static_cast<double>(a.size());
  out.mean_a = mean_of(a);
  out.mean_b = mean_of(b);
  out.difference = out.mean_a - out.mean_b;
  if (a.size() < 2 || !std::isfinite(out.difference)) return out;
  double half = 0;
  if (paired) {
    std::vector<double> d(a.size());
    for (std::size_t r = 0; r < a.size(); ++r) d[r] = a[r] - b[r];
    half = t_quantile(confidence, n - 1) * std::sqrt(variance_of(d, mean_of(d)) / n);
  } else {  // Welch
    const double va = variance_of(a, out.mean_a) / n, vb = variance_of(b, out.mean_b) / n;
    const double se2 = va + vb;
    const double df = se2 * se2 / ((va * va + vb * vb) / (n - 1));
    half = se2 > 0 ? t_quantile(confidence, df) * std::sqrt(se2) : 0.0;
  }
  out.low = out.difference - half;
  out.high = out.difference + half;
  return out;
}

std::vector<const MetricDefinition*> chosen_metrics(const CompareOptions& options) {
  std::vector<const MetricDefinition*> out;
  if (options.metrics.empty()) {
    for (const auto& m : comparable_metrics()) out.push_back(&m);
    return out;
  }
  for (const std::string& name : options.metrics) {
    const auto& all = comparable_metrics();
    const auto found = std::find_if(all.begin(), all.end(), [&](const auto& m) { return m.name == name; });
    if (found == all.end()) throw ConfigError("--metric", 0, name, "unknown metric; expected one of: " + joined(names_of(all)));
    out.push_back(&*found);
  }
  return out;
}

// ---------------------------------------------------------------------------- warnings

// The scenario without what paired runs may differ in without changing the city.
toml::table settings_of(toml::table scenario) {
  for (const char* key : {"timeline", "title", "description"}) scenario.erase(key);
  if (toml::table* simulation = scenario["simulation"].as_table())
    for (const char* key : {"seed", "end", "threads"}) simulation->erase(key);
  return scenario;
}

std::string iso(const toml::date& date) {
  std::ostringstream out;
  out << date;  // toml++ writes dates as YYYY-MM-DD
  return out.str();
}

std::optional<std::string> item_date(const toml::table& item) {
  for (const char* key : {"date", "start"})
    if (const auto* d = item.get_as<toml::date>(key)) return iso(d->get());
  return std::nullopt;
}

bool holds(const toml::array& items, const toml::table& item) {
  return std::any_of(items.begin(), items.end(), [&](const toml::node& n) { return n.is_table() && *n.as_table() == item; });
}

const toml::array& timeline_of(const toml::table& scenario) {
  static const toml::array none;
  const toml::array* items = scenario.get_as<toml::array>("timeline");
  return items ? *items : none;
}

// ISO date of the first day `other` differs from `base`: its start when a setting differs, else
// the earliest timeline item only one of them has; nullopt when they are the same scenario.
std::optional<std::string> first_difference(const toml::table& base, const toml::table& other) {
  if (settings_of(base) != settings_of(other)) {
    const auto start = base["simulation"]["start"].value<toml::date>();
    return start ? std::optional<std::string>(iso(*start)) : std::nullopt;
  }
  std::optional<std::string> first;
  const auto earliest_missing = [&](const toml::array& from, const toml::array& in) {
    for (const toml::node& item : from) {
      if (!item.is_table() || holds(in, *item.as_table())) continue;
      const auto date = item_date(*item.as_table());
      if (date && (!first || *date < *first)) first = date;
    }
  };
  earliest_missing(timeline_of(other), timeline_of(base));
  earliest_missing(timeline_of(base), timeline_of(other));
  return first;
}

toml::table scenario_of(const h5::Group& run, const std::string& name) {
  try {
    return toml::parse(run.string_attribute("scenario_text"));
  } catch (const toml::parse_error& e) {
    throw RecorderError(run.file_name() + ": run " + name + ": cannot read its scenario_text: " +
                        std::string(e.description()));
  }
}

bool never_differs(const std::vector<const ComparisonRow*>& rows) {
  return std::all_of(rows.begin(), rows.end(), [](const ComparisonRow* r) {
    return r->difference == 0 && !(r->high - r->low > 0);
  });
}

}  // namespace

std::vector<std::string> comparison_warnings(const fs::path& master_path, const std::vector<ComparisonRow>& rows) {
  const h5::File master = h5::File::open_read_only(master_path);
  const std::string baseline = master.string_attribute("baseline");
  const h5::Group links = master.open_group("run");
  // One run per (scenario, point) is enough: replicates of a cell share their scenario text
  // (parameter sets aside, which baseline and counterfactual share replicate by replicate).
  std::map<std::pair<std::string, int>, toml::table> scenarios;
  std::string last_record;
  for (const std::string& name : links.link_names()) {
    const h5::Group run = links.open_group(name);
    const std::pair<std::string, int> key{run.string_attribute("ensemble_scenario"),
                                          static_cast<int>(integer_attribute(run, "ensemble_point"))};
    if (scenarios.count(key)) continue;
    scenarios.emplace(key, scenario_of(run, name));
    const h5::Dataset time = run.open_dataset("series/time");
    if (const hsize_t records = time.shape()[0]; records > 0)
      last_record = std::max(last_record, read_record_dates(time, records - 1, 1).front());
  }
  std::set<int> points;
  std::map<std::pair<std::string, int>, std::vector<const ComparisonRow*>> rows_of;
  for (const auto& [key, scenario] : scenarios) points.insert(key.second);
  for (const ComparisonRow& r : rows) rows_of[{r.scenario, r.point}].push_back(&r);
  std::vector<std::string> out;
  for (const auto& [key, cell] : rows_of) {
    const auto base = scenarios.find({baseline, key.second});
    const auto other = scenarios.find(key);
    if (base == scenarios.end() || other == scenarios.end()) continue;
    const std::string who = key.first + (points.size() > 1 ? " (point " + std::to_string(key.second) + ")" : "");
    const std::optional<std::string> first = first_difference(base->second, other->second);
    if (!first)
      out.push_back(who + ": its scenario is the baseline's (no setting or timeline item differs): every difference "
                          "is zero by construction");
    else if (*first > last_record)
      out.push_back(who + ": differs from the baseline only from " + *first + ", after the runs' last record (" +
                    last_record + "): every difference is zero because the policy never started (extend the "
                    "ensemble's `until` or the scenario's end)");
    else if (never_differs(cell))
      out.push_back(who + ": never differs from the baseline in any metric, ward or group compared: its items "
                          "changed nothing the runs measure (at a small population.scale a relative cut of a "
                          "ward's one or two venues may change no session)");
  }
  return out;
}

const std::vector<MetricDefinition>& comparable_metrics() {
  static const std::vector<MetricDefinition> metrics{
      {"outgroup_warmth", "mean_warmth", false, "mean warmth toward other groups at the end (0-1)"},
      {"get_on_well_share", "get_on_well_share", false, "share getting on well with other groups at the end"},
      {"mean_anxiety", "mean_anxiety", false, "mean intergroup anxiety at the end (0-1)"},
      {"perceived_cohesion", "perceived_cohesion", false, "share saying people get on well in their area"},
      {"no_intergroup_contact_share", "no_intergroup_contact_share", false,
       "share with no intergroup encounter in the last year"},
      {"cross_group_friendship_share", "cross_group_friendship_share", false,
       "share with a friend in another group (friendships on)"},
      {"contacts_positive", "contacts_positive", true, "positive intergroup encounters over the run"},
      {"contacts_negative", "contacts_negative", true, "negative intergroup encounters over the run"},
  };
  return metrics;
}

std::vector<ComparisonRow> compare_ensemble(const fs::path& master_path, const CompareOptions& options) {
  if (!(options.confidence > 0 && options.confidence < 1))
    throw ConfigError("--confidence", 0, "confidence", "expected a number in (0, 1), got " + std::to_string(options.confidence));
  const std::vector<const MetricDefinition*> wanted = chosen_metrics(options);
  const h5::File master = h5::File::open_read_only(master_path);
  if (master.string_attribute("format").rfind("contactsim-ensemble-", 0) != 0)
    throw RecorderError(master_path.string() + ": not a contactsim ensemble master file (expected format contactsim-ensemble-N)");
  const std::string baseline = master.string_attribute("baseline");
  const bool paired = integer_attribute(master, "common_random_numbers") != 0;

  std::vector<std::string> ward_names, group_names;
  std::vector<RunFile> runs;
  std::vector<const MetricDefinition*> metrics;
  const h5::Group links = master.open_group("run");
  for (const std::string& name : links.link_names()) try {
    const h5::Group run = links.open_group(name);
    RunFile file;
    file.name = name;
    file.scenario = run.string_attribute("ensemble_scenario");
    file.point = static_cast<int>(integer_attribute(run, "ensemble_point"));
    file.replicate = integer_attribute(run, "replicate");
    const h5::Dataset time = run.open_dataset("series/time");
    const std::size_t records = time.shape()[0];
    if (records == 0) throw RecorderError(master_path.string() + ": run " + name + " has no records");
    if (ward_names.empty()) {
      const h5::Dataset wards = run.open_dataset("series/ward"), groups = run.open_dataset("series/group");
      ward_names = wards.read_strings(0, wards.shape()[0]);
      group_names = groups.read_strings(0, groups.shape()[0]);
      for (const MetricDefinition* m : wanted)
        if (run.has_link("series") && run.open_group("series").has_link(m->series)) metrics.push_back(m);
    }
    std::vector<hsize_t> shape;
    const std::vector<double> population = read_series(run, "population", shape);
    const int w = static_cast<int>(ward_names.size()), g = static_cast<int>(group_names.size());
    for (const MetricDefinition* m : metrics) file.metrics.emplace(m->name, summarise(run, *m, population, w, g, records));
    runs.push_back(std::move(file));
  } catch (const RecorderError& e) {
    // HDF5 names the master file (the run is reached through its link): name the run's own file,
    // which is the one to rerun (`contactsim ensemble` reruns a damaged run).
    const fs::path run_file = master_path.parent_path() / "runs" / (name + ".h5");
    throw RecorderError(run_file.string() + " (run " + name + " of " + master_path.string() + "): " + e.what() +
                        "; rerun the ensemble command to redo a damaged run");
  }

  // Group runs by (scenario, point) with replicates in order.
  std::map<std::pair<std::string, int>, std::map<std::int64_t, const RunFile*>> by_cell;
  std::vector<std::string> scenario_order;
  for (const RunFile& r : runs) {
    by_cell[{r.scenario, r.point}][r.replicate] = &r;
    if (std::find(scenario_order.begin(), scenario_order.end(), r.scenario) == scenario_order.end())
      scenario_order.push_back(r.scenario);
  }
  std::vector<ComparisonRow> rows;
  const int wards = static_cast<int>(ward_names.size()), groups = static_cast<int>(group_names.size());
  for (const auto& [key, replicates] : by_cell) {
    const auto& [scenario, point] = key;
    if (scenario == baseline) continue;
    const auto base = by_cell.find({baseline, point});
    if (base == by_cell.end()) throw RecorderError(master_path.string() + ": no baseline runs for point " + std::to_string(point));
    for (const MetricDefinition* m : metrics)
      for (int w = 0; w <= wards; ++w)
        for (int g = 0; g <= groups; ++g) {
          std::vector<double> a, b;
          for (const auto& [replicate, run] : replicates) {
            const auto other = base->second.find(replicate);
            if (other == base->second.end()) continue;
            a.push_back(run->metrics.at(m->name).at(w, g));
            b.push_back(other->second->metrics.at(m->name).at(w, g));
          }
          if (a.empty()) continue;
          const Interval i = interval_of(a, b, paired, options.confidence);
          rows.push_back({scenario, point, m->name, w < wards ? ward_names[w] : "all", g < groups ? group_names[g] : "all",
                          i.mean_b, i.mean_a, i.difference, i.low, i.high, static_cast<int>(a.size()), paired});
        }
  }
  return rows;
}

}  // namespace contactsim
