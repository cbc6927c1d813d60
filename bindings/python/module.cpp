// contactsim._core: the compiled half of the Python package. It converts between Python and the
// library's own types and drives the very Simulation the CLI drives; everything pandas, xarray,
// tqdm or matplotlib lives in the pure-Python package around it (bindings/python/contactsim/).
#include "contactsim/version.hpp"
#include "core/config.hpp"
#include "core/output_file.hpp"
#include "core/recorder.hpp"
#include "core/text.hpp"
#include "models/analysis/compare.hpp"
#include "models/analysis/ensemble.hpp"
#include "models/mechanisms/programmes.hpp"
#include "models/run/scenario.hpp"
#include "models/run/simulation.hpp"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <algorithm>
#include <cctype>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace py = pybind11;
namespace fs = std::filesystem;
using namespace contactsim;

namespace {

// ----------------------------------------------------------------------------- errors

// Python exception types, created at import (see PYBIND11_MODULE).
PyObject* g_scenario_error = nullptr;  // ValueError subclass with file, line, key, expected
PyObject* g_output_error = nullptr;    // OSError subclass
PyObject* g_checkpoint_error = nullptr;  // ValueError subclass

void raise_scenario_error(const ConfigError& e, const std::string& message) {
  py::object error = py::reinterpret_borrow<py::object>(g_scenario_error)(message);
  error.attr("file") = e.file();
  error.attr("line") = e.line();
  error.attr("key") = e.key();
  error.attr("expected") = e.expected();
  PyErr_SetObject(g_scenario_error, error.ptr());
}

// ----------------------------------------------------------------------------- TOML ⇄ Python

// contactsim._core.InlineTable: a dict that was written as an inline table (`x = { a = 1 }`).
// The scenario's digest is that of its text, which spells inline tables inline, so
// from_dict(to_dict()) writes them back inline to keep the digest. Plain dicts become sections.
PyObject* g_inline_table = nullptr;

bool is_inline_table(py::handle value) {
  return g_inline_table && PyObject_IsInstance(value.ptr(), g_inline_table) == 1;
}

// Tables become dicts in document order, so group and ward order survive a round trip.
py::object to_python(const ConfigDocument& doc, const toml::node& node) {
  static const py::module_ datetime = py::module_::import("datetime");
  if (const auto* table = node.as_table()) {
    py::dict out = table->is_inline()
                       ? py::reinterpret_steal<py::dict>(PyObject_CallNoArgs(g_inline_table))
                       : py::dict();
    for (const auto& [key, value] : doc.in_document_order(*table))
      out[py::str(std::string(key->str()))] = to_python(doc, *value);
    return out;
  }
  if (const auto* array = node.as_array()) {
    py::list out;
    for (const auto& value : *array) out.append(to_python(doc, value));
    return out;
  }
  if (const auto* v = node.as_string()) return py::str(v->get());
  if (const auto* v = node.as_integer()) return py::int_(v->get());
  if (const auto* v = node.as_floating_point()) return py::float_(v->get());
  if (const auto* v = node.as_boolean()) return py::bool_(v->get());
  if (const auto* v = node.as_date()) return datetime.attr("date")(v->get().year, v->get().month, v->get().day);
  if (const auto* v = node.as_time())
    return datetime.attr("time")(v->get().hour, v->get().minute, v->get().second, v->get().nanosecond / 1000);
  if (const auto* v = node.as_date_time()) {
    const toml::date_time& dt = v->get();
    py::object tz = py::none();
    if (dt.offset)
      tz = datetime.attr("timezone")(datetime.attr("timedelta")(py::arg("minutes") = dt.offset->minutes));
    return datetime.attr("datetime")(dt.date.year, dt.date.month, dt.date.day, dt.time.hour, dt.time.minute,
                                     dt.time.second, dt.time.nanosecond / 1000, tz);
  }
  throw std::logic_error("unhandled TOML node type");
}

[[noreturn]] void type_error(const std::string& key, const std::string& expected, py::handle got) {
  throw py::type_error("scenario value " + key + ": expected " + expected + ", got " +
                       std::string(py::str(py::type::of(got).attr("__name__"))) + " " +
                       std::string(py::repr(got)));
}

std::string item_key(const std::string& key, std::size_t index) { return key + "[" + std::to_string(index) + "]"; }

// Scenario values nest a few levels deep; a list or dict that contains itself would recurse
// until the stack overflows (a segfault), and so would absurdly deep nesting.
constexpr int kMaxNesting = 64;

void check_nesting(int depth, const std::string& key) {
  if (depth > kMaxNesting)
    throw py::value_error("scenario value " + key.substr(0, 200) + (key.size() > 200 ? "..." : "") +
                          ": nested more than " + std::to_string(kMaxNesting) +
                          " lists or dicts deep (a list or dict that contains itself?)");
}
std::string member_key(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

toml::table to_table(py::handle mapping, const std::string& key, int depth);

// Moves a converted node into a table or array (which take concrete TOML types).
void put(toml::table& table, const std::string& name, toml::node&& node) {
  std::move(node).visit([&](auto&& concrete) { table.insert_or_assign(name, std::move(concrete)); });
}
void put(toml::array& array, toml::node&& node) {
  std::move(node).visit([&](auto&& concrete) { array.push_back(std::move(concrete)); });
}

// `value` as a TOML node; `key` names it in errors; `depth`: lists and dicts it is inside.
std::unique_ptr<toml::node> to_node(py::handle value, const std::string& key, int depth = 0) {
  check_nesting(depth, key);
  static const py::module_ datetime = py::module_::import("datetime");
  static const py::module_ numbers = py::module_::import("numbers");
  static const py::module_ abc = py::module_::import("collections.abc");
  static const py::module_ numpy = py::module_::import("numpy");
  if (value.is_none()) type_error(key, "a TOML value (TOML has no null; leave the key out instead)", value);
  if (py::isinstance<py::bool_>(value) || py::isinstance(value, numpy.attr("bool_")))
    return std::make_unique<toml::value<bool>>(value.cast<bool>());
  if (py::isinstance(value, numbers.attr("Integral"))) {
    try {
      return std::make_unique<toml::value<std::int64_t>>(
          py::int_(py::reinterpret_borrow<py::object>(value)).cast<std::int64_t>());
    } catch (const py::cast_error&) {
      throw py::value_error("scenario value " + key + ": expected an integer that fits in 64 bits, got " +
                            std::string(py::repr(value)));
    }
  }
  if (py::isinstance(value, numbers.attr("Real")))
    return std::make_unique<toml::value<double>>(py::float_(py::reinterpret_borrow<py::object>(value)).cast<double>());
  if (py::isinstance<py::str>(value)) return std::make_unique<toml::value<std::string>>(value.cast<std::string>());
  if (py::isinstance(value, datetime.attr("datetime")))
    type_error(key, "a date (datetime.date; the scenario format has dates, not times)", value);
  if (py::isinstance(value, datetime.attr("date")))
    return std::make_unique<toml::value<toml::date>>(toml::date{value.attr("year").cast<std::uint16_t>(),
                                                                value.attr("month").cast<std::uint8_t>(),
                                                                value.attr("day").cast<std::uint8_t>()});
  if (py::isinstance(value, abc.attr("Mapping"))) {
    auto table = std::make_unique<toml::table>(to_table(value, key, depth + 1));
    table->is_inline(is_inline_table(value));
    return table;
  }
  if (py::hasattr(value, "tolist") || py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    const py::object items =
        py::hasattr(value, "tolist") ? value.attr("tolist")() : py::reinterpret_borrow<py::object>(value);
    if (!py::isinstance<py::list>(items) && !py::isinstance<py::tuple>(items))
      return to_node(items, key, depth);  // a 0-d numpy array is a scalar
    auto array = std::make_unique<toml::array>();
    std::size_t index = 0;
    for (const py::handle item : items) put(*array, std::move(*to_node(item, item_key(key, index++), depth + 1)));
    return array;
  }
  type_error(key, "a TOML value (str, int, float, bool, datetime.date, list or dict)", value);
}

// A mapping's items in its own order, checked: a Mapping with string keys.
std::vector<std::pair<std::string, py::object>> items_of(py::handle mapping, const std::string& key) {
  static const py::module_ abc = py::module_::import("collections.abc");
  const std::string where = key.empty() ? "(root)" : key;
  if (!py::isinstance(mapping, abc.attr("Mapping"))) type_error(where, "a dict", mapping);
  std::vector<std::pair<std::string, py::object>> items;
  for (const auto item : mapping.attr("items")()) {
    const py::tuple pair = py::reinterpret_borrow<py::tuple>(item);
    if (!py::isinstance<py::str>(pair[0])) type_error(where, "string keys", pair[0]);
    items.emplace_back(pair[0].cast<std::string>(), pair[1]);
  }
  return items;
}

toml::table to_table(py::handle mapping, const std::string& key, int depth) {
  check_nesting(depth, key);
  toml::table table;
  for (const auto& [name, value] : items_of(mapping, key))
    put(table, name, std::move(*to_node(value, member_key(key, name), depth)));
  return table;
}

// A mapping as TOML text in the mapping's own order (toml++'s formatter would sort keys, and
// the order of [groups.*] and [wards] is meaningful). Values are converted (and type-checked)
// by to_node and printed by toml++; sub-tables and arrays of tables become sections.
std::string toml_key(const std::string& key) {
  const bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
  if (bare) return key;
  std::ostringstream quoted;
  quoted << toml::toml_formatter{toml::value<std::string>(key)};
  return quoted.str();
}

// An array of tables written as [[sections]] (toml++ prints one inline when its first table is).
bool is_array_of_tables(const toml::node& node) {
  const auto* array = node.as_array();
  return array && !array->empty() && array->is_array_of_tables() && !(*array)[0].as_table()->is_inline();
}

void write_toml(std::ostream& out, py::handle mapping, const std::string& header, const std::string& key,
                int depth = 0) {
  static const py::module_ abc = py::module_::import("collections.abc");
  check_nesting(depth, key.empty() ? "(root)" : key);
  std::vector<std::pair<std::string, py::object>> sections;  // written after the plain values
  for (const auto& [name, value] : items_of(mapping, key)) {
    if (py::isinstance(value, abc.attr("Mapping")) && !is_inline_table(value)) {
      sections.emplace_back(name, value);
      continue;
    }
    const auto node = to_node(value, member_key(key, name), depth + 1);
    if (is_array_of_tables(*node)) {
      sections.emplace_back(name, value);
      continue;
    }
    out << toml_key(name) << " = " << toml::toml_formatter{*node, toml::format_flags::none} << "\n";
  }
  for (const auto& [name, value] : sections) {
    const std::string path = header.empty() ? toml_key(name) : header + "." + toml_key(name);
    if (py::isinstance(value, abc.attr("Mapping"))) {
      out << "\n[" << path << "]\n";
      write_toml(out, value, path, member_key(key, name), depth + 1);
    } else {
      const py::object items = py::hasattr(value, "tolist") ? value.attr("tolist")() : value;
      std::size_t index = 0;
      for (const py::handle element : items) {
        out << "\n[[" << path << "]]\n";
        write_toml(out, element, path, item_key(member_key(key, name), index++), depth + 2);
      }
    }
  }
}

// ----------------------------------------------------------------------------- Scenario

// A scenario as the user wrote it (the merged document) and as validated. Immutable: overrides
// make a new one, so a baseline cannot be changed behind a counterfactual's back.
struct PyScenario {
  ConfigDocument document;
  Scenario scenario;
  bool from_dict = false;  // errors then name keys without file lines
};

// A dict has no lines: its errors name the key alone.
template <class F>
auto with_dict_errors(const fs::path& virtual_path, F&& read) {
  try {
    return read();
  } catch (const ConfigError& e) {
    if (e.file() != virtual_path.string()) throw;
    raise_scenario_error(e, "scenario dict: " + e.key() + ": " + e.expected());
    throw py::error_already_set();
  }
}

std::shared_ptr<PyScenario> load(const fs::path& path) {
  auto out = std::make_shared<PyScenario>(PyScenario{ConfigDocument::load(path), {}, false});
  out->scenario = read_scenario(out->document);
  return out;
}

std::shared_ptr<PyScenario> from_dict(py::handle mapping, const std::optional<fs::path>& base_dir) {
  const fs::path virtual_path = (base_dir ? *base_dir : fs::current_path()) / "<dict>";
  std::ostringstream text;
  write_toml(text, mapping, "", "");
  return with_dict_errors(virtual_path, [&] {
    auto out = std::make_shared<PyScenario>(PyScenario{ConfigDocument::parse(text.str(), virtual_path), {}, true});
    out->scenario = read_scenario(out->document);
    return out;
  });
}

std::shared_ptr<PyScenario> override_values(const PyScenario& base, py::handle mapping) {
  static const py::module_ abc = py::module_::import("collections.abc");
  if (!py::isinstance(mapping, abc.attr("Mapping")))
    throw py::type_error("override: expected a dict of {\"dotted.key\": value}, got " +
                         std::string(py::str(py::type::of(mapping).attr("__name__"))));
  ConfigDocument document = base.document;
  std::vector<std::pair<std::string, std::string>> overridden;  // key, repr(value)
  for (const auto item : mapping.attr("items")()) {
    const py::tuple pair = py::reinterpret_borrow<py::tuple>(item);
    if (!py::isinstance<py::str>(pair[0])) type_error("override key", "a dotted key string", pair[0]);
    const std::string key = pair[0].cast<std::string>();
    document = document.with_value(key, *to_node(pair[1], key));
    overridden.emplace_back(key, std::string(py::repr(pair[1])));
  }
  auto out = std::make_shared<PyScenario>(PyScenario{std::move(document), {}, base.from_dict});
  try {
    out->scenario = read_scenario(out->document);
  } catch (const ConfigError& e) {
    // An overridden value has no line of its own: name the override instead.
    for (const auto& [key, value] : overridden)
      if (e.key() == key || e.key().rfind(key + ".", 0) == 0 || e.key().rfind(key + "[", 0) == 0) {
        raise_scenario_error(e, "override " + key + " = " + value + ": " + e.key() + ": " + e.expected());
        throw py::error_already_set();
      }
    throw;
  }
  return out;
}

py::dict scenario_dict(const PyScenario& s) { return to_python(s.document, s.document.root()).cast<py::dict>(); }

// ----------------------------------------------------------------------------- Simulation

Date to_date(py::handle value, const char* what) {
  static const py::module_ datetime = py::module_::import("datetime");
  if (py::isinstance<py::str>(value)) {
    const std::string text = value.cast<std::string>();
    if (const auto d = Date::parse_iso(text)) return *d;
    throw py::value_error(std::string(what) + ": expected a date YYYY-MM-DD, got \"" + text + "\"");
  }
  if (py::isinstance(value, datetime.attr("date"))) {
    const auto d = Date::parse_iso(py::str(value.attr("strftime")("%Y-%m-%d")).cast<std::string>());
    if (d) return *d;
  }
  throw py::type_error(std::string(what) + ": expected a date (datetime.date or 'YYYY-MM-DD'), got " +
                       std::string(py::str(py::type::of(value).attr("__name__"))));
}

py::object to_pydate(Date d) {
  static const py::module_ datetime = py::module_::import("datetime");
  return datetime.attr("date").attr("fromisoformat")(d.iso());
}

// Owns the run and, when recording, its output file: written as "<output>.partial" and renamed
// to <output> by close() once the run has finished (core/output_file.hpp); an unfinished run
// (interrupted, failed, closed early or collected) leaves the .partial and never replaces
// <output>, so a complete output stays until a complete run replaces it.
//
// One Simulation may be shared by Python threads: every call holds `busy` while it touches the
// simulation (stepping releases the GIL, so without it two threads would step, checkpoint and
// read one world at once). A thread waiting for `busy` releases the GIL first, so the holder can
// take the GIL back between days without the two deadlocking.
struct PySimulation {
  std::shared_ptr<PyScenario> scenario;  // kept alive: the Simulation holds references into it
  std::unique_ptr<Simulation> simulation;
  std::unique_ptr<PendingOutput> output;
  std::mutex busy;
  ~PySimulation() {
    try {
      if (output && simulation->finished()) output->publish();  // as close(): collected while recording
    } catch (const std::exception&) {  // a failed write already raised; its .partial stays
    }
  }
};

// Holds `s.busy` for the calling method; waits for another thread's call to end.
std::unique_lock<std::mutex> exclusive(PySimulation& s) {
  std::unique_lock<std::mutex> lock(s.busy, std::try_to_lock);
  if (!lock.owns_lock()) {
    py::gil_scoped_release release;  // the holder may need the GIL to finish
    lock.lock();
  }
  return lock;
}

// `method` of PySimulation run while holding the simulation (exclusive), for the bindings.
template <class Result, class... Args>
auto serialised(Result (*method)(PySimulation&, Args...)) {
  return [method](PySimulation& s, Args... args) -> Result {
    const auto lock = exclusive(s);
    return method(s, std::forward<Args>(args)...);
  };
}
// A value of the simulation read while holding it (exclusive).
template <class Result>
Result simulation_value(PySimulation& s, Result (Simulation::*getter)() const) {
  const auto lock = exclusive(s);
  return ((*s.simulation).*getter)();
}

std::unique_ptr<PySimulation> make_simulation(std::shared_ptr<PyScenario> scenario, std::optional<std::int64_t> seed,
                                              std::optional<int> threads, std::optional<std::int64_t> replicate,
                                              bool check_invariants, std::optional<fs::path> spin_up_cache) {
  if (seed && *seed < 0) throw py::value_error("seed: expected an integer >= 0, got " + std::to_string(*seed));
  if (threads && (*threads < 0 || *threads > 1024))
    throw py::value_error("threads: expected 0 (every core) to 1024, got " + std::to_string(*threads));
  if (replicate && (*replicate < 0 || *replicate > 0xffffffffLL))
    throw py::value_error("replicate: expected an integer in [0, 4294967295], got " + std::to_string(*replicate));
  RunOptions options;
  if (seed) options.seed = static_cast<std::uint64_t>(*seed);
  if (replicate) options.replicate = static_cast<std::uint32_t>(*replicate);
  options.threads = threads;
  options.check_invariants = check_invariants;
  options.spin_up_cache = std::move(spin_up_cache);
  auto out = std::make_unique<PySimulation>();
  out->scenario = std::move(scenario);
  py::gil_scoped_release release;  // building the world takes a while
  out->simulation = std::make_unique<Simulation>(out->scenario->scenario, options);
  return out;
}

std::unique_ptr<PySimulation> restore_simulation(std::shared_ptr<PyScenario> scenario, const fs::path& checkpoint,
                                                 std::optional<std::uint64_t> seed, std::optional<std::uint32_t> replicate,
                                                 std::optional<int> threads) {
  if (threads && (*threads < 0 || *threads > 1024))
    throw py::value_error("threads: expected 0 (every core) to 1024, got " + std::to_string(*threads));
  RunOptions options;
  options.seed = seed;
  options.replicate = replicate;
  options.threads = threads;
  auto out = std::make_unique<PySimulation>();
  out->scenario = std::move(scenario);
  py::gil_scoped_release release;
  out->simulation = std::make_unique<Simulation>(out->scenario->scenario, checkpoint, options);
  return out;
}

void record_to(PySimulation& s, const fs::path& path, bool overwrite) {
  if (s.output) throw py::value_error("this simulation already records to " + s.output->path().string());
  // From the first day, or, for a run continued from a checkpoint, from the day after it (the
  // output then starts with the checkpointed run's records).
  const auto restored = s.simulation->restored_after();
  const bool at_beginning = s.simulation->date() == s.simulation->start() ||
                            (restored && s.simulation->date() == *restored + 1);
  if (!at_beginning)
    throw py::value_error("record_to: a simulation records from its first day; " + s.simulation->date().iso() +
                          " is past the start " + s.simulation->start().iso() + " (create a new Simulation)");
  const std::string how_to_overwrite = "pass overwrite=True to replace it";
  refuse_input_as_output(path, s.simulation->scenario().input_files);
  refuse_existing_output(path, overwrite, how_to_overwrite);  // OutputError, as the docs say
  OutputLock lock(path);  // another writer of this output (a CLI run, another Simulation) is refused
  check_output_space(s.simulation->scenario(), path, s.simulation->end());  // before creating the file
  s.output = std::make_unique<PendingOutput>(std::move(lock), overwrite, how_to_overwrite);
  s.simulation->attach(s.output->recorder());
}

// Simulates day by day with the GIL released; between days a pending Ctrl-C (or any signal
// handler raising) stops the run cleanly: every finished day, and every finished record, stays.
int step(PySimulation& s, int days) {
  if (days < 0) throw py::value_error("step: days must be >= 0, got " + std::to_string(days));
  int done = 0;
  while (done < days && !s.simulation->finished()) {
    {
      py::gil_scoped_release release;
      done += s.simulation->step(1);
    }
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  }
  return done;
}

// Publishes a finished run's output. An unfinished one stays "<output>.partial" (every record
// made so far, `complete` = 0) and <output> is left as it was: only a complete run replaces an
// output. Returns that .partial when the run was unfinished. A failed write leaves the .partial
// and raises.
std::optional<fs::path> close_output(PySimulation& s) {
  if (!s.output) return std::nullopt;
  s.simulation->detach();
  const std::unique_ptr<PendingOutput> output = std::move(s.output);
  if (!s.simulation->finished()) return output->partial();  // closed (and unlocked) on return
  output->publish();
  return std::nullopt;
}

// A read-only numpy view of one of the simulation's arrays: no copy; the array keeps the
// simulation alive.
template <class T>
py::array view(const std::vector<T>& data, std::vector<py::ssize_t> shape, py::handle owner) {
  py::array_t<T> out(shape, data.data(), owner);
  py::detail::array_proxy(out.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return out;
}
// The same over a packed column: strided (one record per resident), still no copy.
template <class T>
py::array view(const PackedColumn<T>& data, std::vector<py::ssize_t> shape, py::handle owner) {
  std::vector<py::ssize_t> strides{static_cast<py::ssize_t>(data.stride())};
  if (shape.size() == 2) strides.push_back(static_cast<py::ssize_t>(sizeof(T)));
  py::array_t<T> out(shape, strides, data.row(0), owner);
  py::detail::array_proxy(out.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return out;
}

py::list summary_rows(const Simulation& sim) {
  py::list rows;
  for (const GroupSummary& g : sim.summary()) {
    py::dict row;
    row["group"] = g.group;
    row["residents"] = g.residents;
    row["mean_outgroup_warmth"] = g.mean_outgroup_warmth;
    row["get_on_well_share"] = g.get_on_well_share;
    row["mean_anxiety"] = g.mean_anxiety;
    row["contacts_positive"] = g.contacts_positive;
    row["contacts_negative"] = g.contacts_negative;
    row["mean_english"] = g.mean_english;
    row["no_contact_share"] = g.no_contact_share;
    row["cross_group_friend_share"] = g.cross_group_friend_share;
    row["block_dissimilarity"] = g.block_dissimilarity;
    row["perceived_cohesion"] = g.perceived_cohesion;
    rows.append(row);
  }
  return rows;
}

// ----------------------------------------------------------------------------- ensembles

py::dict describe_ensemble(const EnsembleSpec& spec) {
  py::dict out;
  out["name"] = spec.name;
  out["path"] = spec.path;
  out["seed"] = spec.seed;
  out["replicates"] = spec.replicates;
  out["common_random_numbers"] = spec.common_random_numbers;
  py::list scenarios;
  for (const auto& s : spec.scenarios) scenarios.append(s.name);
  out["scenarios"] = scenarios;
  py::list parameters;
  for (const auto& p : spec.parameters) parameters.append(p.key);
  out["parameters"] = parameters;
  out["points"] = spec.points;
  out["parameter_sets_path"] = spec.parameter_sets.empty() ? py::object(py::none()) : py::cast(spec.parameter_sets_path);
  out["parameter_sets"] = spec.parameter_sets.size();
  py::list runs;
  const std::vector<EnsembleRun> planned = plan_runs(spec);
  for (const EnsembleRun& r : planned) {
    py::dict run;
    run["index"] = r.index;
    run["name"] = r.name;
    run["scenario"] = spec.scenarios[r.scenario].name;
    run["point"] = r.point;
    run["replicate"] = r.replicate;
    run["parameter_set"] = r.parameter_set;
    run["seed"] = r.seed;
    run["file"] = r.file.generic_string();
    // Branching (models/analysis/ensemble.hpp): the run it continues, from the end of which day.
    run["branches_from"] = r.parent >= 0 && r.same_as < 0 ? py::cast(planned[r.parent].name) : py::object(py::none());
    run["branch_day"] = r.parent >= 0 && r.same_as < 0 ? py::cast(r.branch_day.iso()) : py::object(py::none());
    // A run no sweep parameter changes at this point: point 0's run, not simulated again.
    run["same_as"] = r.same_as >= 0 ? py::cast(planned[r.same_as].name) : py::object(py::none());
    runs.append(run);
  }
  out["runs"] = runs;
  return out;
}

// One process's share of an ensemble (Python's run_ensemble spreads shares over processes, as
// mpirun spreads them over ranks). The GIL is released for the whole share.
int run_share(const fs::path& spec_path, const fs::path& out, int rank, int size, std::optional<int> threads,
              std::optional<fs::path> spin_up_cache) {
  if (size < 1 || rank < 0 || rank >= size)
    throw py::value_error("rank/size: expected 0 <= rank < size, got " + std::to_string(rank) + "/" + std::to_string(size));
  const EnsembleSpec spec = load_ensemble_spec(spec_path);
  EnsembleOptions options;
  options.rank = rank;
  options.size = size;
  options.threads = threads;
  if (spin_up_cache) options.spin_up_cache = *spin_up_cache;
  py::gil_scoped_release release;
  return run_ensemble_share(spec, out, options);
}

py::list compare_rows(const fs::path& master, const std::vector<std::string>& metrics, double confidence) {
  CompareOptions options;
  options.metrics = metrics;
  options.confidence = confidence;
  std::vector<ComparisonRow> rows;
  {
    py::gil_scoped_release release;
    rows = compare_ensemble(master, options);
  }
  py::list out;
  for (const auto& r : rows) {
    py::dict row;
    row["scenario"] = r.scenario;
    row["point"] = r.point;
    row["metric"] = r.metric;
    row["ward"] = r.ward;
    row["group"] = r.group;
    row["baseline_mean"] = r.baseline_mean;
    row["scenario_mean"] = r.scenario_mean;
    row["difference"] = r.difference;
    row["ci_low"] = r.low;
    row["ci_high"] = r.high;
    row["replicates"] = r.replicates;
    row["method"] = r.paired ? "paired" : "welch";
    out.append(row);
  }
  return out;
}

// ----------------------------------------------------------------------------- the module

// Simulation.view(name): a resident field of the field list (models/city/state.hpp), or the day
// each resident started a programme (-1: never), as a read-only array over the simulation's memory.
py::array agent_view(py::object self, const std::string& name) {
  PySimulation& s = self.cast<PySimulation&>();
  const auto lock = exclusive(s);  // the view itself follows the simulation unguarded (documented)
  const Residents& r = s.simulation->world().residents;
  const auto n = static_cast<py::ssize_t>(r.size());
  std::optional<py::array> field_view;
  for_each_field(r, [&](const auto& field, const auto& values) {
    if (field_view || name != field.name) return;
    const auto width = static_cast<py::ssize_t>(field.values_per_resident(r));
    field_view = field.width == FieldWidth::one ? view(values, {n}, self) : view(values, {n, width}, self);
  });
  if (field_view) return *field_view;
  if (name == "programme_start_day") {
    if (const ProgrammesPhase* p = s.simulation->link<ProgrammesPhase>("programmes")) return view(p->participation_day(), {n}, self);
    py::array_t<std::int32_t> never(n);  // no programme: nobody took part
    std::fill_n(never.mutable_data(), n, -1);
    return never;
  }
  throw py::value_error("no agent array named '" + name + "'");
}

// Scenario errors as ScenarioError (a ValueError), output errors as OutputError (an OSError),
// checkpoint errors as CheckpointError, invariant breaches as InvariantError.
void register_errors(py::module_& m) {
  static py::exception<ConfigError> scenario_error(m, "ScenarioError", PyExc_ValueError);
  static py::exception<RecorderError> output_error(m, "OutputError", PyExc_OSError);
  static py::exception<CheckpointError> checkpoint_error(m, "CheckpointError", PyExc_ValueError);
  g_checkpoint_error = checkpoint_error.ptr();
  py::register_exception<InvariantError>(m, "InvariantError", PyExc_RuntimeError);
  g_scenario_error = scenario_error.ptr();
  g_output_error = output_error.ptr();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ConfigError& e) {
      raise_scenario_error(e, e.what());
    } catch (const RecorderError& e) {
      PyErr_SetString(g_output_error, e.what());
    } catch (const CheckpointError& e) {
      PyErr_SetString(g_checkpoint_error, e.what());
    } catch (const std::invalid_argument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });
}

// An OutputLock Python holds with `with` (run_ensemble holds its folder, as the CLI does).
struct PyOutputLock {
  std::optional<OutputLock> lock;
};

// The ensemble functions the Python package builds run_ensemble and compare on.
void def_ensemble_functions(py::module_& m) {
  py::class_<PyOutputLock>(m, "OutputLock")
      .def(py::init([](const fs::path& path) {
             auto out = std::make_unique<PyOutputLock>();
             out->lock.emplace(path);
             return out;
           }),
           py::arg("path"))
      .def("release", [](PyOutputLock& l) { l.lock.reset(); })
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyOutputLock& l, const py::args&) { l.lock.reset(); });
  m.def("describe_ensemble", [](const fs::path& spec) { return describe_ensemble(load_ensemble_spec(spec)); },
        py::arg("spec"));
  m.def("prepare_ensemble_folder", [](const fs::path& spec, const fs::path& out) {
    prepare_output_folder(load_ensemble_spec(spec), out);
  }, py::arg("spec"), py::arg("out"));
  m.def("run_ensemble_share", &run_share, py::arg("spec"), py::arg("out"), py::arg("rank") = 0, py::arg("size") = 1,
        py::arg("threads") = py::none(), py::arg("spin_up_cache") = py::none());
  m.def("write_ensemble_master", [](const fs::path& spec, const fs::path& out) {
    write_master_file(load_ensemble_spec(spec), out);
  }, py::arg("spec"), py::arg("out"));
  m.def("compare_ensemble", &compare_rows, py::arg("master"), py::arg("metrics") = std::vector<std::string>{},
        py::arg("confidence") = 0.95);
}

// Scenario: a scenario read and validated, with its resolved text and the names it declares.
void def_scenario_class(py::module_& m) {
  py::class_<PyScenario, std::shared_ptr<PyScenario>>(m, "Scenario")
      .def_static("load", &load, py::arg("path"))
      .def_static("from_dict", &from_dict, py::arg("mapping"), py::arg("base_dir") = py::none())
      .def("to_dict", &scenario_dict)
      .def("override", &override_values, py::arg("values"))
      .def_property_readonly("path", [](const PyScenario& s) { return s.scenario.path; })
      .def_property_readonly("text", [](const PyScenario& s) { return s.scenario.resolved_text; })
      .def_property_readonly("sha256", [](const PyScenario& s) { return s.scenario.sha256; })
      .def_property_readonly("start", [](const PyScenario& s) { return to_pydate(s.scenario.simulation.start); })
      .def_property_readonly("end", [](const PyScenario& s) { return to_pydate(s.scenario.simulation.end); })
      .def_property_readonly("seed", [](const PyScenario& s) { return s.scenario.simulation.seed; })
      .def_property_readonly("groups", [](const PyScenario& s) { return names_of(s.scenario.groups); })
      .def_property_readonly("wards", [](const PyScenario& s) { return names_of(s.scenario.wards); })
      .def_property_readonly("venue_types", [](const PyScenario& s) { return names_of(s.scenario.venue_types); })
      .def_property_readonly("population_size", [](const PyScenario& s) { return s.scenario.population_size(); });
}

// Simulation: steps, records, checkpoints and read-only views of the residents.
void def_simulation_class(py::module_& m) {
  py::class_<PySimulation>(m, "Simulation")
      .def(py::init(&make_simulation), py::arg("scenario"), py::arg("seed") = py::none(),
           py::arg("threads") = py::none(), py::arg("replicate") = py::none(), py::arg("check_invariants") = false,
           py::arg("spin_up_cache") = py::none())
      .def_static("from_checkpoint", &restore_simulation, py::arg("scenario"), py::arg("checkpoint"),
                  py::arg("seed") = py::none(), py::arg("replicate") = py::none(), py::arg("threads") = py::none())
      .def("save_checkpoint", [](PySimulation& s, const fs::path& path, bool overwrite) {
        const auto lock = exclusive(s);  // never while another thread steps: a consistent state
        py::gil_scoped_release release;
        s.simulation->save_checkpoint(path, overwrite);
      }, py::arg("path"), py::arg("overwrite") = false)
      .def("record_to", serialised(&record_to), py::arg("path"), py::arg("overwrite") = false)
      .def("end_at", [](PySimulation& s, py::handle date) {
        const Date day = to_date(date, "until");
        const auto lock = exclusive(s);
        s.simulation->end_at(day);
      }, py::arg("date"))
      .def("step", serialised(&step), py::arg("days") = 1)
      .def("close", serialised(&close_output))
      .def_property_readonly("output", [](PySimulation& s) -> py::object {
        const auto lock = exclusive(s);
        return s.output ? py::cast(s.output->path()) : py::none();
      })
      .def_property_readonly("date", [](PySimulation& s) { return to_pydate(simulation_value(s, &Simulation::date)); })
      .def_property_readonly("start", [](PySimulation& s) { return to_pydate(simulation_value(s, &Simulation::start)); })
      .def_property_readonly("end", [](PySimulation& s) { return to_pydate(simulation_value(s, &Simulation::end)); })
      .def_property_readonly("finished", [](PySimulation& s) { return simulation_value(s, &Simulation::finished); })
      .def_property_readonly("days_done", [](PySimulation& s) {
        const auto lock = exclusive(s);
        return s.simulation->date() - s.simulation->start();
      })
      .def_property_readonly("seed", [](PySimulation& s) { return simulation_value(s, &Simulation::seed); })
      .def_property_readonly("replicate", [](PySimulation& s) { return simulation_value(s, &Simulation::replicate); })
      .def_property_readonly("threads", [](PySimulation& s) { return simulation_value(s, &Simulation::threads); })
      .def_property_readonly("checks_invariants",
                             [](PySimulation& s) { return simulation_value(s, &Simulation::checks_invariants); })
      .def_property_readonly("intergroup_encounters",
                             [](PySimulation& s) { return simulation_value(s, &Simulation::intergroup_encounters); })
      .def("summary_rows", [](PySimulation& s) {
        const auto lock = exclusive(s);
        return summary_rows(*s.simulation);
      })
      .def("view", &agent_view, py::arg("name"))
      .def("matched_non_participants", [](PySimulation& s) {
        const auto lock = exclusive(s);
        const ProgrammesPhase* p = s.simulation->link<ProgrammesPhase>("programmes");
        if (!p) throw py::value_error("this scenario runs no youth programme or school linking");
        const std::vector<std::int32_t> controls = matched_non_participants(
            s.simulation->world().residents, p->participation_day(),
            StreamKey{s.simulation->seed(), s.simulation->replicate()});
        return py::array_t<std::int32_t>(static_cast<py::ssize_t>(controls.size()), controls.data());
      });
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "contactsim's compiled core; use the `contactsim` package instead of this module";
  m.attr("__version__") = kVersion;
  m.attr("git_revision") = kGitRevision;
  // Names of the per-resident arrays Simulation.view serves (the field list, models/city/state.hpp).
  py::list resident_fields;
  for_each_field([&](const auto& field) { resident_fields.append(field.name); });
  m.attr("resident_fields") = py::tuple(resident_fields);

  register_errors(m);
  py::object inline_table = py::module_::import("builtins").attr("type")(
      "InlineTable", py::make_tuple(py::module_::import("builtins").attr("dict")),
      py::dict(py::arg("__module__") = "contactsim._core",
               py::arg("__doc__") = "A dict read from an inline TOML table ({ ... }); written back inline."));
  m.attr("InlineTable") = inline_table;
  g_inline_table = inline_table.release().ptr();  // kept for the interpreter's life, as the module
  def_ensemble_functions(m);
  def_scenario_class(m);
  def_simulation_class(m);
}
