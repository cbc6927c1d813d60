#include "models/run/scenario.hpp"

#include "core/census.hpp"
#include "core/recorder.hpp"
#include "core/synthesis.hpp"
#include "core/text.hpp"
#include "models/mechanisms/registry.hpp"

#include <sys/statvfs.h>

#include <algorithm>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <numeric>
#include <regex>
#include <stdexcept>

namespace contactsim {
namespace {

SimulationSettings read_simulation(const ConfigTable& root) {
  const ConfigTable t = root.required_table("simulation");
  SimulationSettings s;
  s.start = t.required_date("start");
  s.end = t.required_date("end");
  if (s.end < s.start) t.fail("end", "expected a date on or after start (" + s.start.iso() + "), got " + s.end.iso());
  s.seed = static_cast<std::uint64_t>(t.integer("seed", 1, 0, std::numeric_limits<std::int64_t>::max()));
  s.replicate = static_cast<std::uint32_t>(t.integer("replicate", 0, 0, 1'000'000));
  s.threads = static_cast<int>(t.integer("threads", 0, 0, 1024));
  // Three years: three half-lives of the slowest relaxation (norms, 365 days), by which a
  // resident's warmth has moved 7/8 of the way to where the model's own dynamics hold it, and
  // longer than friendships take to form and fade (~18 months) and memories to renew (180 days).
  s.spin_up_days = static_cast<int>(t.integer("spin_up_days", SimulationSettings::kDefaultSpinUpDays, 0, 36'500));
  return s;
}

std::array<double, kNumAgeBands> read_age_shares(const ConfigTable& t) {
  std::array<double, kNumAgeBands> shares{};
  double sum = 0;
  for (int a = 0; a < kNumAgeBands; ++a) sum += shares[a] = t.required_number(kAgeBandNames[a], 0, 1);
  if (std::abs(sum - 1.0) > 1e-3)
    t.fail(t.most_derived({kAgeBandNames.begin(), kAgeBandNames.end()}),
           "expected age shares (child, youth, adult, older) summing to 1, got " + std::to_string(sum));
  return shares;
}

// Whether a name is empty or spaces only: it could not be told apart in outputs and messages.
bool is_blank(const std::string& name) { return name.find_first_not_of(" \t") == std::string::npos; }

std::vector<WardSpec> read_wards(const ConfigTable& root) {
  const ConfigTable t = root.required_table("wards");
  std::vector<std::string> names;
  if (t.has("file") == t.has("names"))
    t.fail("names", "expected exactly one of `names = [...]` or `file = \"wards.txt\"`");
  if (t.has("names")) {
    names = t.string_list("names", {});
  } else {
    const auto path = t.required_path("file");  // a regular file (a directory or FIFO is refused)
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) names.push_back(line);
    }
  }
  if (names.empty()) t.fail("names", "expected at least one ward");
  if (names.size() > 65535) t.fail("names", "expected at most 65535 wards");
  const auto codes = t.string_list("codes", {});
  if (!codes.empty() && codes.size() != names.size())
    t.fail("codes", "expected one code per ward (" + std::to_string(names.size()) + "), got " + std::to_string(codes.size()));
  std::vector<WardSpec> wards;
  for (std::size_t w = 0; w < names.size(); ++w) {
    if (is_blank(names[w]))
      t.fail(t.has("names") ? "names" : "file", "expected a name for ward " + std::to_string(w + 1) + ", got an empty one");
    if (index_of(wards, names[w]) >= 0) t.fail(t.has("names") ? "names" : "file", "duplicate ward " + in_quotes(names[w]));
    wards.push_back({names[w], codes.empty() ? "" : codes[w]});
  }
  return wards;
}

SourceLocation wards_location(const ConfigTable& root) {
  const ConfigTable t = root.required_table("wards");
  const char* key = t.has("names") ? "names" : "file";
  return {t.file_of(key), t.line_of(key), t.dotted(key)};
}

std::vector<FaithSpec> read_faiths(const ConfigTable& root) {
  std::vector<FaithSpec> faiths;
  if (!root.has("faiths")) return faiths;
  for (const auto& [name, t] : root.named_tables("faiths"))
    faiths.push_back({name, t.number("attendance", 1.0, 0, 1)});
  if (faiths.size() > 250) root.fail("faiths", "expected at most 250 faiths");
  return faiths;
}

GroupSpec read_group(const std::string& name, const ConfigTable& t, const std::vector<std::string>& group_names,
                     const std::vector<FaithSpec>& faiths, const std::array<double, kNumAgeBands>& city_ages) {
  GroupSpec g;
  g.name = name;
  g.label = t.string("label", name);
  if (auto e = t.optional_table("english")) {
    g.english_mean = e->number("mean", 1.0, 0, 1);
    g.english_sd = e->number("sd", 0.0, 0, 0.5);
  }
  if (auto x = t.optional_table("anxiety")) {
    g.anxiety_mean = x->number("mean", 0.3, 0, 1);
    g.anxiety_sd = x->number("sd", 0.1, 0, 0.5);
  }
  const ConfigTable w = t.required_table("warmth");
  const double ingroup = w.number("ingroup", 0.8, 0, 1);
  const double outgroup = w.required_number("outgroup", 0, 1);
  g.warmth.assign(group_names.size(), outgroup);
  for (std::size_t k = 0; k < group_names.size(); ++k) {
    if (group_names[k] == name) {
      g.warmth[k] = ingroup;
      if (w.has(name)) w.fail(name, "expected warmth toward the own group under `ingroup`");
    } else {
      g.warmth[k] = w.number(group_names[k], outgroup, 0, 1);
    }
  }
  for (const auto& key : w.keys())
    if (key != "ingroup" && key != "outgroup" && key != "sd" && std::find(group_names.begin(), group_names.end(), key) == group_names.end())
      w.fail(key, "unknown group; expected one of " + list_of(group_names));
  g.warmth_sd = w.number("sd", 0.15, 0, 0.5);
  g.faith_shares.assign(faiths.size(), 0.0);
  if (auto f = t.optional_table("faith")) {
    double sum = 0;
    for (const auto& key : f->keys()) {
      const int k = index_of(faiths, key);
      if (k < 0) f->fail(key, "unknown faith; expected one of " + list_of(names_of(faiths)) + " (declared under [faiths.*])");
      sum += g.faith_shares[k] = f->number(key, 0, 0, 1);
    }
    if (sum > 1.0 + 1e-9)
      f->fail(f->most_derived(f->keys()), "expected faith shares summing to at most 1, got " + std::to_string(sum));
  }
  g.knowledge = t.number("knowledge", 0.9, 0, 1);
  g.age_shares = city_ages;
  if (auto a = t.optional_table("age_shares")) g.age_shares = read_age_shares(*a);
  // Newcomers: by default the group keeps its share of arrivals and arrives as residents are.
  g.migration.inflow_share = -1;  // filled in from the city share after the population is read
  g.migration.newcomer_english = g.english_mean;
  g.migration.newcomer_knowledge = g.knowledge;
  if (auto m = t.optional_table("migration")) {
    g.migration.inflow_share = m->number("inflow_share", -1, 0, 1);
    g.migration.newcomer_english = m->number("newcomer_english", g.english_mean, 0, 1);
    g.migration.newcomer_knowledge = m->number("newcomer_knowledge", g.knowledge, 0, 1);
    if (auto a = m->optional_table("newcomer_age_shares")) {
      const auto shares = read_age_shares(*a);
      std::copy(shares.begin(), shares.end(), g.migration.newcomer_age_shares.begin());
    }
  }
  return g;
}

// An allocation error as the user wrote the scenario: without the library function's name, and
// with ward and group names instead of indices ("ward 0" -> ward "Abbey Hulton").
std::string in_user_terms(const std::string& message, const std::vector<WardSpec>& wards,
                          const std::vector<GroupSpec>& groups) {
  std::string text = message;
  if (const auto colon = text.find(": "); colon != std::string::npos && text.compare(0, colon, "allocate_to_wards") == 0)
    text.erase(0, colon + 2);
  const auto name_indices = [&](const std::regex& pattern, const auto& items, const char* what) {
    std::string out;
    auto from = text.cbegin();
    for (std::sregex_iterator it(text.begin(), text.end(), pattern), end; it != end; ++it) {
      out.append(from, (*it)[0].first);
      const std::size_t k = std::stoul((*it)[1].str());
      out += k < items.size() ? std::string(what) + " " + in_quotes(items[k].name) : (*it)[0].str();
      from = (*it)[0].second;
    }
    out.append(from, text.cend());
    text = out;
  };
  name_indices(std::regex(R"(ward (\d+))"), wards, "ward");
  name_indices(std::regex(R"(group (\d+))"), groups, "group");
  return text;
}

std::vector<std::vector<std::int64_t>> read_synthetic(const ConfigTable& pop, const std::vector<GroupSpec>& groups,
                                                      const std::vector<WardSpec>& wards) {
  const ConfigTable t = pop.required_table("synthetic");
  const ConfigTable totals = t.required_table("totals");
  std::vector<std::int64_t> city(groups.size());
  const std::vector<std::string> group_names = names_of(groups);
  for (std::size_t g = 0; g < groups.size(); ++g)
    city[g] = totals.required_integer(groups[g].name, 0, 2'000'000'000);
  for (const auto& key : totals.keys())
    if (index_of(groups, key) < 0) totals.fail(key, "unknown group; expected one of " + list_of(group_names));

  std::vector<double> weights(wards.size(), 1.0);
  if (auto w = t.optional_table("ward_weights"))
    for (const auto& key : w->keys()) {
      const int k = index_of(wards, key);
      if (k < 0) w->fail(key, "unknown ward; expected a name from [wards]");
      weights[k] = w->number(key, 1.0, 1e-6, 1e6);
    }

  std::vector<ConcentrationTarget> targets;
  const auto items = t.array_of_tables("targets");
  for (const auto& item : items) {
    const std::string ward = item.required_string("ward");
    const int w = index_of(wards, ward);
    if (w < 0) item.fail("ward", "unknown ward " + in_quotes(ward) + "; expected a name from [wards]");
    const ConfigTable shares = item.required_table("shares");
    for (const auto& key : shares.keys()) {
      const int g = index_of(groups, key);
      if (g < 0) shares.fail(key, "unknown group; expected one of " + list_of(group_names));
      targets.push_back({w, g, shares.number(key, 0, 0, 0.99)});
    }
  }
  try {
    return allocate_to_wards(city, weights, targets);
  } catch (const std::invalid_argument& e) {
    (items.empty() ? t : items.front()).fail(items.empty() ? "totals" : "shares",
                                             "expected feasible targets: " + in_user_terms(e.what(), wards, groups));
  }
}

std::vector<std::vector<std::int64_t>> read_census(const ConfigTable& pop, const std::vector<GroupSpec>& groups,
                                                   const std::vector<WardSpec>& wards,
                                                   const SourceLocation& wards_location) {
  const ConfigTable t = pop.required_table("census");
  const auto file = t.required_path("file");
  CensusMapping mapping;
  mapping.total_column = t.required_string("total_column");
  mapping.total_location = {t.file_of("total_column"), t.line_of("total_column"), t.dotted("total_column")};
  const ConfigTable columns = t.required_table("columns");
  for (const auto& g : groups) {
    mapping.groups.push_back(g.name);
    if (!columns.has(g.name)) columns.fail(g.name, "expected the census columns that make up group " + in_quotes(g.name));
    mapping.columns.push_back(columns.string_list(g.name, {}));
    mapping.group_locations.push_back({columns.file_of(g.name), columns.line_of(g.name), columns.dotted(g.name)});
  }
  mapping.wards_location = wards_location;
  for (const auto& key : columns.keys())
    if (index_of(groups, key) < 0) columns.fail(key, "unknown group");
  return map_census(load_nomis_csv(file), mapping, names_of(wards));
}

// Whole-process memory per resident with every mechanism on (agent arrays, venues, session
// buffers, friendships, mobility's structures): the peak measured at 10^5 to 10^7 residents is
// 239–275 bytes (README, Performance), rounded up; used to refuse cities this machine cannot hold
// before building them.
constexpr double kBytesPerResident = 300;

// Physical memory of this machine in bytes (0 when unknown).
double machine_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  double kilobytes = 0;
  while (meminfo >> key >> kilobytes) {
    if (key == "MemTotal:") return kilobytes * 1024.0;
    meminfo.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}


PopulationSettings read_population(const ConfigTable& root, std::vector<GroupSpec>& groups,
                                   const std::vector<WardSpec>& wards) {
  const ConfigTable t = root.required_table("population");
  PopulationSettings p;
  p.source = t.choice("source", "synthetic", {"synthetic", "census"});
  p.scale = t.number("scale", 1.0, 1e-6, 1000);
  p.block_size = static_cast<int>(t.integer("block_size", 200, 10, 1'000'000));
  p.block_clustering = t.number("block_clustering", 0.5, 0, 1);
  p.warmth_correlation = t.number("warmth_correlation", 0.6, 0, 1);
  p.unscaled_counts = p.source == "census" ? read_census(t, groups, wards, wards_location(root))
                                            : read_synthetic(t, groups, wards);
  // Census counts are bounded only by int64: refuse a city beyond 32-bit agent ids before
  // scaling, summing in floating point, so no integer sum on the way can overflow.
  long double unscaled_total = 0;
  for (const auto& row : p.unscaled_counts)
    for (std::int64_t count : row) unscaled_total += static_cast<long double>(count);
  // Both refusals say what the city would need and what this machine has.
  const double memory = machine_memory_bytes();
  auto estimate = [&](double residents) {
    char count[32];
    std::snprintf(count, sizeof count, "%.0f", residents);
    return std::string(count) + " residents need about " + byte_count(residents * kBytesPerResident) +
           " of memory (~" + std::to_string(static_cast<int>(kBytesPerResident)) + " bytes each), and this machine has " +
           (memory > 0 ? byte_count(memory) : std::string("an unknown amount"));
  };
  if (unscaled_total * p.scale > 2e9L)
    t.fail("scale", "expected at most 2e9 residents (agent ids are 32-bit): about " +
                        estimate(static_cast<double>(unscaled_total * p.scale)));
  p.counts = scale_counts(p.unscaled_counts, p.scale);
  std::int64_t total = 0;
  for (const auto& row : p.counts) total = std::accumulate(row.begin(), row.end(), total);
  if (unscaled_total < 1) {  // nothing to scale: blame the counts, not population.scale
    if (p.source == "census")
      t.required_table("census").fail("file", "expected residents in the wards' census rows; every count is 0");
    t.required_table("synthetic").fail("totals", "expected at least one resident; every group's total is 0");
  }
  if (total < 1)
    t.fail("scale", "expected a population of at least one resident after scaling (the unscaled city has " +
                        std::to_string(static_cast<long long>(unscaled_total)) + "; raise population.scale)");
  if (total > 2'000'000'000)  // rounding in scale_counts
    t.fail("scale", "expected at most 2e9 residents (agent ids are 32-bit): " + estimate(static_cast<double>(total)));
  if (memory > 0 && static_cast<double>(total) * kBytesPerResident > memory)
    t.fail("scale", "expected a population this machine can hold: " + estimate(static_cast<double>(total)));
  return p;
}

std::vector<ExplicitVenue> read_venues(const ConfigTable& root, const Scenario& s) {
  std::vector<ExplicitVenue> out;
  for (const auto& item : root.array_of_tables("venues")) {
    ExplicitVenue v;
    v.name = item.required_string("name");
    const std::string type = item.required_string("type");
    v.type = s.venue_type_index(type);
    if (v.type < 0) item.fail("type", "unknown venue type " + in_quotes(type) + "; expected one of " + list_of(names_of(s.venue_types)));
    const std::string ward = item.required_string("ward");
    v.ward = s.ward_index(ward);
    if (v.ward < 0) item.fail("ward", "unknown ward " + in_quotes(ward) + "; expected a name from [wards]");
    v.capacity = static_cast<std::int32_t>(item.integer("capacity", -1, 0, 10'000'000));
    v.budget = item.number("budget", -1, 0, 1e12);
    if (item.has("budget") && v.budget < 0) item.fail("budget", "expected a budget >= 0 (GBP a year)");
    for (const auto& other : out)
      if (other.name == v.name) item.fail("name", "duplicate venue name " + in_quotes(v.name));
    if (item.has("capacity") && v.capacity < 0) item.fail("capacity", "expected a number >= 0");
    const Membership m = s.venue_types[v.type].membership;
    if (m == Membership::block) item.fail("type", "street-like venues (membership \"block\") are generated per block, not listed");
    if (m == Membership::faith) {
      const std::string faith = item.required_string("faith");
      v.faith = index_of(s.faiths, faith);
      if (v.faith < 0) item.fail("faith", "unknown faith " + in_quotes(faith) + "; expected a name from [faiths.*]");
    } else if (item.has("faith")) {
      item.fail("faith", "only venues of a faith-membership type take a faith");
    }
    out.push_back(std::move(v));
  }
  return out;
}

// Mechanisms count their contact under their own venue type: add it if the scenario did not.
void ensure_contact_column(Scenario& s, const MechanismConfig& config, const std::string& name) {
  if (s.venue_type_index(name) >= 0) return;
  for (const auto& t : builtin_venue_types())
    if (t.name == name) return s.venue_types.push_back(t);
  if (auto own = config.contact_column_type(name)) s.venue_types.push_back(*own);
}

// Every registry entry reads its part, in registry order; then their contact columns are added.
void read_mechanisms(const ConfigTable& root, Scenario& s) {
  const auto& registry = mechanism_registry();
  for (const auto& entry : registry) {
    std::vector<std::string> others;
    for (const auto& other : registry)
      if (&other != &entry) others.insert(others.end(), other.timeline_kinds.begin(), other.timeline_kinds.end());
    s.mechanisms.push_back(entry.read(MechanismReading(root, s, others)));
  }
  for (const auto& config : s.mechanisms)
    for (const auto& column : config->contact_columns()) ensure_contact_column(s, *config, column);
}

SnapshotSettings read_snapshot_settings(const ConfigTable& t) {
  SnapshotSettings a;
  a.enabled = t.boolean("enabled", true);
  a.interval = *parse_snapshot_interval(t.choice("interval", "month", {"day", "week", "month", "year"}));
  a.sample = t.number("sample", 0.01, 0, 1);
  if (a.sample <= 0) t.fail("sample", "expected a share of residents in (0, 1] (omit [record.agents] for no snapshots)");
  return a;
}

// Cells of one record of every series, split by storage width, from the series' declarations.
struct SeriesCells {
  double int64 = 0;
  double float32 = 0;
};

SeriesCells series_cells(const Scenario& s) {
  const double w = static_cast<double>(s.wards.size()), g = static_cast<double>(s.groups.size());
  const double t = static_cast<double>(s.venue_types.size());
  auto size_of = [&](const std::string& dim) {
    if (dim == "ward") return w;
    if (dim == "group" || dim == "target_group") return g;
    if (dim == "venue_type") return t;
    if (dim == "spatial_unit") return 2.0;  // block, ward
    throw std::logic_error("series dimension \"" + dim + "\" has no size in the output estimate");
  };
  SeriesCells c;
  std::vector<SeriesSpec> all = city_series();
  for (const auto& config : s.mechanisms) {
    const auto own = config->series();
    all.insert(all.end(), own.begin(), own.end());
  }
  for (const auto& spec : all) {
    double cells = 1;
    for (const auto& dim : spec.dims) cells *= size_of(dim);
    (spec.type == SeriesType::int64 ? c.int64 : c.float32) += cells;
  }
  return c;
}

std::int64_t records_in(Date start, Date end, RecordInterval interval) {
  std::int64_t records = 0;
  for (Date d = start; d <= end; ++d) records += closes_period(d, start, interval) ? 1 : 0;
  return records + (closes_period(end, start, interval) ? 0 : 1);  // the final, short period
}

// An output no run should write (record.max_output_gb) is refused at validation, naming the
// key that made it so large.
void refuse_outsized_output(const Scenario& s, const ConfigTable& root, const std::optional<ConfigTable>& record,
                            const std::optional<ConfigTable>& agents) {
  const ResourceEstimate e = estimate_resources(s);
  const double limit = s.record.max_output_gb * 1e9;
  if (e.output_bytes() <= limit) return;
  const std::string expected = "expected an output of at most " + byte_count(limit) +
                               " (record.max_output_gb; raise it if this is meant): " +
                               std::to_string(e.residents) + " residents from " + s.simulation.start.iso() + " to " +
                               s.simulation.end.iso() + " would write up to " + e.describe_output();
  if (agents && e.snapshot_bytes() >= e.series_bytes()) agents->fail(agents->has("sample") ? "sample" : "interval", expected);
  if (record) record->fail("interval", expected);
  root.fail("record", expected);
}

}  // namespace

std::string byte_count(double bytes) {
  static constexpr const char* kUnits[] = {"bytes", "kB", "MB", "GB", "TB", "PB", "EB"};
  std::size_t unit = 0;
  while (bytes >= 1000 && unit + 1 < std::size(kUnits)) bytes /= 1000, ++unit;
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.3g %s", bytes, kUnits[unit]);
  return text;
}

std::string ResourceEstimate::describe_output() const {
  std::string out = byte_count(output_bytes()) + " (tables: " + byte_count(table_bytes) + "; series: " +
                    std::to_string(records) + " records × " + byte_count(record_bytes) + "; agent snapshots: ";
  if (snapshots == 0) return out + "none)";
  return out + std::to_string(snapshots) + " × " + std::to_string(sampled) + " residents × " +
         byte_count(snapshot_row_bytes) + ")";
}

ResourceEstimate estimate_resources(const Scenario& s, std::optional<Date> until) {
  const Date end = until ? std::min(*until, s.simulation.end) : s.simulation.end;
  ResourceEstimate e;
  e.residents = s.population_size();
  e.memory_bytes = static_cast<double>(e.residents) * kBytesPerResident;
  constexpr double kDateBytes = 10;  // /series/time
  // Measured on one-record outputs: ~160 kB of provenance and HDF5 metadata whatever the city,
  // and the /venues table, ~1 MB for the default city's 4,529 venues (~4 bytes a resident).
  constexpr double kFixedBytes = 256e3, kTableBytesPerResident = 6;
  e.table_bytes = kFixedBytes + kTableBytesPerResident * static_cast<double>(e.residents);
  const SeriesCells cells = series_cells(s);
  e.records = records_in(s.simulation.start, end, s.record.interval);
  e.record_bytes = 8 * cells.int64 + 4 * cells.float32 + kDateBytes;
  if (s.record.agents.enabled) {
    e.snapshots = snapshot_days(s.simulation.start, end, s.record.agents.interval);
    e.sampled = std::llround(s.record.agents.sample * static_cast<double>(e.residents));
    e.snapshot_row_bytes = static_cast<double>(snapshot_bytes_per_resident(
        static_cast<int>(s.groups.size()), s.runs("friendships"), s.runs("tension")));
  }
  return e;
}

double free_disk_bytes(const std::filesystem::path& output) {
  std::error_code error;
  std::filesystem::path dir = std::filesystem::absolute(output, error).parent_path();
  while (!dir.empty() && !std::filesystem::is_directory(dir, error)) {
    if (dir == dir.root_path()) break;
    dir = dir.parent_path();
  }
  struct statvfs fs {};
  if (dir.empty() || statvfs(dir.c_str(), &fs) != 0) return -1;
  return static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize);
}

void require_output_space(const ResourceEstimate& estimate, const std::filesystem::path& output, double free_bytes) {
  if (free_bytes < 0 || estimate.output_bytes() <= free_bytes) return;
  throw RecorderError(output.string() + ": not enough free disk space: the output needs up to " +
                      estimate.describe_output() + ", and its filesystem has " + byte_count(free_bytes) +
                      " free (shorten the run, record less often or sample fewer agents)");
}

void check_output_space(const Scenario& scenario, const std::filesystem::path& output, std::optional<Date> until) {
  require_output_space(estimate_resources(scenario, until), output, free_disk_bytes(output));
}

int Scenario::group_index(const std::string& name) const { return index_of(groups, name); }
int Scenario::ward_index(const std::string& name) const { return index_of(wards, name); }
int Scenario::venue_type_index(const std::string& name) const { return index_of(venue_types, name); }

const MechanismConfig& Scenario::mechanism(const std::string& name) const {
  const auto& registry = mechanism_registry();
  for (std::size_t k = 0; k < registry.size() && k < mechanisms.size(); ++k)
    if (registry[k].name == name) return *mechanisms[k];
  throw std::out_of_range("no mechanism \"" + name + "\" in the registry");
}

std::vector<std::string> Scenario::group_names() const { return names_of(groups); }
std::vector<std::string> Scenario::ward_names() const { return names_of(wards); }
std::vector<std::string> Scenario::venue_type_names() const { return names_of(venue_types); }

std::int64_t Scenario::population_size() const {
  std::int64_t total = 0;
  for (const auto& row : population.counts) total = std::accumulate(row.begin(), row.end(), total);
  return total;
}

Scenario read_scenario(const ConfigDocument& doc) {
  const ConfigTable root = ConfigTable::root(doc);
  Scenario s;
  s.path = doc.path();
  s.resolved_text = doc.resolved_text();
  s.sha256 = doc.resolved_sha256();
  s.input_files = doc.files();
  root.string("title", "");
  root.string("description", "");

  s.simulation = read_simulation(root);
  s.wards = read_wards(root);
  s.faiths = read_faiths(root);

  const ConfigTable population = root.required_table("population");
  const auto city_ages = read_age_shares(population.required_table("age_shares"));
  const auto group_tables = root.named_tables("groups");
  if (group_tables.size() < 2 || group_tables.size() > kMaxGroups)
    root.fail("groups", "expected between 2 and " + std::to_string(kMaxGroups) + " groups, got " +
                            std::to_string(group_tables.size()));
  std::vector<std::string> group_names;
  for (const auto& [name, t] : group_tables) {
    if (is_blank(name)) root.fail("groups", "expected a name for every group, got an empty one ([groups.\"\"])");
    group_names.push_back(name);
  }
  for (const auto& [name, t] : group_tables) s.groups.push_back(read_group(name, t, group_names, s.faiths, city_ages));
  s.population = read_population(root, s.groups, s.wards);
  if (s.population.source == "census")
    s.input_files.push_back(population.required_table("census").required_path("file"));
  std::vector<double> group_totals(s.groups.size(), 0.0);
  for (const auto& row : s.population.counts)
    for (std::size_t g = 0; g < row.size(); ++g) group_totals[g] += static_cast<double>(row[g]);
  const double everyone = std::accumulate(group_totals.begin(), group_totals.end(), 0.0);
  for (std::size_t g = 0; g < s.groups.size(); ++g)
    if (s.groups[g].migration.inflow_share < 0) s.groups[g].migration.inflow_share = group_totals[g] / everyone;

  if (root.has("venue_types")) {
    for (const auto& [name, t] : root.named_tables("venue_types")) s.venue_types.push_back(read_venue_type(name, t));
  } else {
    s.venue_types = builtin_venue_types();
  }
  if (s.venue_types.empty() || s.venue_types.size() > 64) root.fail("venue_types", "expected 1 to 64 venue types");
  for (const auto& t : s.venue_types)
    if (t.membership == Membership::faith && s.faiths.empty())
      root.fail("faiths", "venue type " + in_quotes(t.name) + " draws on faiths; expected [faiths.<name>] tables");
  s.venues = read_venues(root, s);
  // [mechanisms.<name>] tables are optional: an absent one means defaults, switched on.
  const auto mechanisms = root.optional_table("mechanisms");
  s.valence = read_mechanism<ValenceParams>(mechanisms, "valence", kValenceParams);
  s.attitude = read_mechanism<AttitudeParams>(mechanisms, "attitude", kAttitudeParams);
  s.metrics = read_mechanism<MetricParams>(mechanisms, "metrics", kMetricParams);
  read_mechanisms(root, s);

  const auto record = root.optional_table("record");
  std::optional<ConfigTable> agents;
  if (record) {
    s.record.interval = *parse_record_interval(record->choice("interval", "week", {"day", "week", "month"}));
    s.record.max_output_gb = record->number("max_output_gb", 100, 1e-6, 1e9);
    agents = record->optional_table("agents");
    if (agents) s.record.agents = read_snapshot_settings(*agents);
  }

  root.finish();
  refuse_outsized_output(s, root, record, agents);
  return s;
}

Scenario load_scenario(const std::filesystem::path& path) { return read_scenario(ConfigDocument::load(path)); }

std::vector<ParamDescription> parameter_dictionary() {
  std::vector<ParamDescription> out{
      {"population", "scale", 1.0, 1e-6, 1000, "multiplier",
       "1 simulates every resident of the census totals; smaller scales keep tests and "
       "exploratory runs fast with the same structure"},
      {"population", "block_size", 200, 10, 1e6, "residents",
       "DESIGN: neighbourhood blocks of ~100-300 residents, the scale of a few streets (close to an "
       "ONS Output Area, ~300 residents)"},
      {"population", "block_clustering", 0.5, 0, 1, "0-1",
       "How strongly groups cluster into blocks within a ward at the start. Illustrative: "
       "ward-level concentrations are set by the allocation; within-ward clustering is unknown"},
      {"population", "warmth_correlation", 0.6, 0, 1, "correlation",
       "Attitudes toward different outgroups correlate (generalised prejudice; Zick et al. 2008 "
       "report r = .5-.7 across target groups; Bergh & Akrami 2017)"},
      {"groups.<name>", "warmth.ingroup", 0.8, 0, 1, "thermometer/100",
       "In-group thermometer ratings typically sit around 75-85 (British Social Attitudes; "
       "ANES practice)"},
      {"groups.<name>", "warmth.sd", 0.15, 0, 0.5, "thermometer/100",
       "Spread of individual feeling-thermometer scores (sd ~ 15-25 points in survey data)"},
      {"groups.<name>", "anxiety.mean", 0.3, 0, 1, "0-1",
       "Intergroup anxiety scales sit below their midpoint in general-population samples "
       "(Stephan & Stephan 1985). Illustrative"},
      {"groups.<name>", "anxiety.sd", 0.1, 0, 0.5, "0-1", "Illustrative spread"},
      {"groups.<name>", "english.mean", 1.0, 0, 1, "0-1",
       "Full proficiency unless the scenario says otherwise (Census 2021 TS029 gives the real "
       "shares who do not speak English well)"},
  };
  describe_params<ValenceParams>("mechanisms.valence", kValenceParams, out);
  describe_params<AttitudeParams>("mechanisms.attitude", kAttitudeParams, out);
  describe_params<MetricParams>("mechanisms.metrics", kMetricParams, out);
  for (const auto& entry : mechanism_registry()) entry.describe(out);
  out.push_back({"groups.<name>.migration", "inflow_share", -1, 0, 1, "share of arrivals",
                 "Default (absent): the group's share of the city, so arrivals keep the mix; set it to model "
                 "a changing population (e.g. EU accession migration, Keele 2022)"});
  out.push_back({"groups.<name>.migration", "newcomer_english", -1, 0, 1, "0-1",
                 "Default (absent): the group's english.mean. Recent arrivals often speak less English "
                 "(Census 2021 TS029 by year of arrival)"});
  out.push_back({"groups.<name>.migration", "newcomer_knowledge", -1, 0, 1, "0-1",
                 "Default (absent): the group's knowledge. Newcomers do not yet know how local services work "
                 "(Keele 2022)"});
  describe_venue_type_defaults(out);
  out.push_back({"record", "max_output_gb", 100, 1e-6, 1e9, "GB",
                 "Guard against mistakes: a scenario whose output would exceed this (uncompressed estimate of "
                 "series and agent snapshots, shown by `contactsim validate`) is refused before anything runs; "
                 "runs are also refused when the output's filesystem has less free space than the estimate"});
  out.push_back({"record.agents", "sample", 0.01, 0, 1, "share of resident slots",
                 "Agent snapshots (/agents/<date>) are written only when [record.agents] is present, for a fixed "
                 "panel of this share of resident slots drawn from a keyed stream, every `interval` (\"day\", "
                 "\"week\", \"month\" - the default - or \"year\") and on the run's last day. 1% of the default "
                 "city is ~2,600 residents, enough for individual trajectories at ~0.15 MB per snapshot"});
  return out;
}

}  // namespace contactsim
