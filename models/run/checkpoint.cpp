#include "models/run/checkpoint.hpp"

#include "contactsim/source_digest.hpp"
#include "contactsim/version.hpp"
#include "core/archive.hpp"
#include "core/h5.hpp"
#include "core/output_file.hpp"
#include "core/recorder.hpp"
#include "core/seal.hpp"
#include "core/text.hpp"
#include "models/run/simulation.hpp"

#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <system_error>

namespace contactsim {
namespace fs = std::filesystem;

namespace {

constexpr const char* kFormat = "contactsim-checkpoint-2";
// The seal's kind (core/seal.hpp).
constexpr const char* kSealKind = "checkpoint";

// A library error (archive or HDF5) as a CheckpointError, without repeating the file name.
[[noreturn]] void rethrow_for(const fs::path& file, const std::exception& error) {
  std::string message = error.what();
  for (const std::string& prefix : {file.string() + ": ", file.filename().string() + ": "})
    if (message.rfind(prefix, 0) == 0) {
      message.erase(0, prefix.size());
      break;
    }
  throw CheckpointError(file, message);
}

// Runs `work`, turning archive and HDF5 errors while reading `file` into CheckpointErrors.
template <class Work>
auto reading(const fs::path& file, Work&& work) {
  try {
    return std::forward<Work>(work)();
  } catch (const ArchiveError& e) {
    rethrow_for(file, e);
  } catch (const RecorderError& e) {
    rethrow_for(file, e);
  }
}

}  // namespace

h5::File open_checkpoint(const fs::path& path) {
  std::error_code error;
  if (!fs::exists(path, error)) throw CheckpointError(path, "no such file");
  // Before HDF5 parses anything: libhdf5 hangs or crashes on some damaged files (core/seal.hpp).
  try {
    check_seal(path, kSealKind);
  } catch (const SealError& e) {
    throw CheckpointError(path, e.what());
  } catch (const fs::filesystem_error& e) {
    throw CheckpointError(path, e.code().message());
  }
  return reading(path, [&] {
    h5::File file = h5::File::open_read_only(path);
    if (file.string_attribute("format") != kFormat)
      throw CheckpointError(path, "not a contactsim checkpoint (no format attribute \"" + std::string(kFormat) + "\")");
    return file;
  });
}

namespace {

std::string text_attribute(const fs::path& path, const h5::Object& object, const std::string& name) {
  const h5::AttributeValue value = object.has_attribute(name) ? object.attribute(name) : std::monostate{};
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  throw CheckpointError(path, "attribute '" + name + "' is missing or not text");
}

std::int64_t integer_attribute(const fs::path& path, const h5::Object& object, const std::string& name) {
  const h5::AttributeValue value = object.has_attribute(name) ? object.attribute(name) : std::monostate{};
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return *integer;
  throw CheckpointError(path, "attribute '" + name + "' is missing or not an integer");
}

Date date_attribute(const fs::path& path, const h5::Object& object, const std::string& name) {
  const std::string text = text_attribute(path, object, name);
  const std::optional<Date> date = Date::parse_iso(text);
  if (!date) throw CheckpointError(path, "attribute '" + name + "' is not a date: " + text);
  return *date;
}

// ---------------------------------------------------------------------------------------------
// scenario compatibility

std::string shown(const toml::node& node) {
  if (const auto* real = node.as_floating_point()) {  // shortest round-trip form: 0.03, not 0.0299…
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, real->get());
    return std::string(buffer, result.ptr);
  }
  std::ostringstream out;
  out << toml::toml_formatter{node, toml::format_flags::none};
  std::string text = out.str();
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text.size() > 80 ? text.substr(0, 77) + "..." : text;
}

bool same_leaf(const toml::node& a, const toml::node& b) {
  if (a.is_number() && b.is_number()) return a.value<double>() == b.value<double>();
  return a.type() == b.type() && shown(a) == shown(b);
}

// The first difference between two scenario values, as "<key>: <how>", or nothing.
std::optional<std::string> first_difference(const toml::node* ours, const toml::node* theirs, const std::string& key) {
  if (!ours && !theirs) return std::nullopt;
  static const toml::table nothing;
  // A table on one side only: name its first value, not the whole table.
  const bool one_sided_table = (!ours && theirs->is_table()) || (!theirs && ours->is_table());
  if (one_sided_table && !(ours ? ours : theirs)->as_table()->empty()) {
    if (!ours) ours = &nothing;
    if (!theirs) theirs = &nothing;
  }
  if (!theirs) return key + ": the checkpoint's scenario has " + shown(*ours) + ", this one leaves it unset";
  if (!ours) return key + ": this scenario has " + shown(*theirs) + ", the checkpoint's leaves it unset";
  if (ours->is_table() && theirs->is_table()) {
    const toml::table& a = *ours->as_table();
    const toml::table& b = *theirs->as_table();
    std::vector<std::string> keys;
    for (const auto& [k, v] : a) keys.emplace_back(k.str());
    for (const auto& [k, v] : b)
      if (!a.contains(k.str())) keys.emplace_back(k.str());
    std::sort(keys.begin(), keys.end());
    for (const std::string& k : keys)
      if (auto d = first_difference(a.get(k), b.get(k), key.empty() ? k : key + "." + k)) return d;
    return std::nullopt;
  }
  if (ours->is_array() && theirs->is_array()) {
    const toml::array& a = *ours->as_array();
    const toml::array& b = *theirs->as_array();
    if (a.size() != b.size())
      return key + ": the checkpoint's scenario has " + std::to_string(a.size()) + " items, this one " +
             std::to_string(b.size());
    for (std::size_t i = 0; i < a.size(); ++i)
      if (auto d = first_difference(a.get(i), b.get(i), key + "[" + std::to_string(i) + "]")) return d;
    return std::nullopt;
  }
  if (!same_leaf(*ours, *theirs))
    return key + ": the checkpoint's scenario has " + shown(*ours) + ", this one " + shown(*theirs);
  return std::nullopt;
}

toml::table parse_scenario_text(const fs::path& file, const std::string& text, const std::string& whose) {
  try {
    return toml::parse(text);
  } catch (const toml::parse_error& e) {
    throw CheckpointError(file, "cannot read " + whose + " scenario text: " + std::string(e.description()));
  }
}

// The day an item first acts: `date`, or `start` for items that last.
std::optional<Date> first_date(const toml::table& item) {
  for (const char* key : {"date", "start"})
    if (const auto* d = item.get_as<toml::date>(key)) {
      const toml::date& v = d->get();
      return Date::from_ymd(v.year, v.month, v.day);
    }
  return std::nullopt;
}

// Items a mechanism keeps in one list, in timeline order: the venue kinds share one (the
// timeline phase applies them in that order), every other kind has its own.
std::string item_list(const toml::table& item) {
  const std::string kind = item["kind"].value_or(std::string());
  for (const std::string& venue_kind : kVenueTimelineKinds)
    if (kind == venue_kind) return "venue";
  return kind;
}

struct DatedItem {
  std::size_t position;  // in its list
  std::size_t index;     // in [[timeline]]
  const toml::table* item;
};

// Items acting on or before `day`, per list. Mechanisms key random streams and state by an
// item's position in its list, so an item must keep its position as well as its content.
std::map<std::string, std::vector<DatedItem>> items_through(const toml::table& root, Date day) {
  std::map<std::string, std::vector<DatedItem>> out;
  std::map<std::string, std::size_t> next_position;
  const toml::array* timeline = root.get_as<toml::array>("timeline");
  if (!timeline) return out;
  for (std::size_t k = 0; k < timeline->size(); ++k) {
    const toml::table* item = timeline->get(k)->as_table();
    if (!item) continue;
    const std::string list = item_list(*item);
    const std::size_t position = next_position[list]++;
    const std::optional<Date> first = first_date(*item);
    if (!first || *first <= day) out[list].push_back({position, k, item});
  }
  return out;
}

std::string describe_item(const DatedItem& d) {
  const toml::table& item = *d.item;
  std::string text = item["kind"].value_or(std::string("?")) + " item";
  if (const auto label = item["label"].value<std::string>(); label && !label->empty()) text += " \"" + *label + "\"";
  if (const std::optional<Date> first = first_date(item)) text += " of " + first->iso();
  return text;
}

// Why a run of `theirs` does not share the dated items of a run of `ours` through `day`, or
// nothing when it does: the items acting on or before `day`, list by list, at the same positions
// with the same content. `rule` ends every message but the one about positions (which says
// what to do instead).
std::optional<std::string> dated_items_difference(const toml::table& ours, const toml::table& theirs, Date day,
                                                  const std::string& rule = "") {
  const auto a = items_through(ours, day), b = items_through(theirs, day);
  std::vector<std::string> lists;
  for (const auto& [list, items] : a) lists.push_back(list);
  for (const auto& [list, items] : b)
    if (!a.contains(list)) lists.push_back(list);
  const std::vector<DatedItem> none;
  for (const std::string& list : lists) {
    const auto& x = a.contains(list) ? a.at(list) : none;
    const auto& y = b.contains(list) ? b.at(list) : none;
    for (std::size_t k = 0; k < std::max(x.size(), y.size()); ++k) {
      if (k >= y.size()) return "timeline: this scenario lacks the checkpoint's " + describe_item(x[k]) + rule;
      if (k >= x.size()) return "timeline: this scenario adds a " + describe_item(y[k]) + rule;
      if (x[k].position != y[k].position)
        return "timeline: the " + describe_item(y[k]) + " comes after " + std::to_string(y[k].position) +
               " items of its kind here, after " + std::to_string(x[k].position) +
               " in the checkpoint's scenario (list later items after earlier ones)";
      if (auto d = first_difference(x[k].item, y[k].item, "timeline[" + std::to_string(y[k].index) + "]"))
        return *d + rule;
    }
  }
  return std::nullopt;
}

void check_dated_items(const fs::path& file, const toml::table& ours, const toml::table& theirs, Date day) {
  const std::string rule = " (a branch may differ only in items dated after the checkpoint's " + day.iso() + ")";
  if (const auto d = dated_items_difference(ours, theirs, day, rule)) throw CheckpointError(file, *d);
}

// The days on which some item of either timeline first acts, in order.
std::vector<Date> item_dates(const toml::table& a, const toml::table& b) {
  std::vector<Date> dates;
  for (const toml::table* root : {&a, &b})
    if (const toml::array* timeline = root->get_as<toml::array>("timeline"))
      for (const toml::node& node : *timeline)
        if (const toml::table* item = node.as_table())
          if (const std::optional<Date> first = first_date(*item)) dates.push_back(*first);
  std::sort(dates.begin(), dates.end());
  dates.erase(std::unique(dates.begin(), dates.end()), dates.end());
  return dates;
}

// Everything but the items (compared above), the end, the thread count, the seed and replicate
// (compared as the run's key) and the descriptive title.
toml::table settings_of(toml::table root) {
  for (const char* key : {"timeline", "title", "description", "extends"}) root.erase(key);
  if (toml::table* simulation = root.get_as<toml::table>("simulation"))
    for (const char* key : {"end", "threads", "seed", "replicate"}) simulation->erase(key);
  return root;
}

// ---------------------------------------------------------------------------------------------
// state pieces the simulation owns

// Every field of the list in its order (state.hpp): dataset names and order are the file format.
void save_residents(StateWriter out, const Residents& r) {
  for_each_field(r, [&](const auto& field, const auto& values) { out.write(field.name, values); });
}

void restore_residents(const StateReader& in, Residents& r) {
  for_each_field(r, [&](const auto& field, auto& values) { in.read_into(field.name, values); });
}

// Names, types, wards, capacities and faiths never change; the rest does (funding, timeline,
// mobility).
void save_venues(StateWriter out, const Venues& v) {
  out.write("members", v.members);
  out.write("member_group_share", v.member_group_share);
  out.write("budget", v.budget);
  out.write("budget_full", v.budget_full);
  out.write("operating_level", v.operating_level);
  out.write("open", v.open);
  out.write("open_days", v.open_days);
  out.write("session_capacity", v.session_capacity);
  out.write("quality_factor", v.quality_factor);
}

void restore_venues(const StateReader& in, Venues& v) {
  in.read_into("members", v.members);
  in.read_into("member_group_share", v.member_group_share);
  in.read_into("budget", v.budget);
  in.read_into("budget_full", v.budget_full);
  in.read_into("operating_level", v.operating_level);
  in.read_into("open", v.open);
  in.read_into("open_days", v.open_days);
  in.read_into("session_capacity", v.session_capacity);
  in.read_into("quality_factor", v.quality_factor);
}

void save_events(StateWriter out, const std::vector<Event>& events, const std::vector<std::int64_t>* record = nullptr) {
  std::vector<std::string> date, kind, subject, detail;
  std::vector<std::int64_t> venues;
  for (const Event& e : events) {
    date.push_back(e.date.iso());
    kind.push_back(e.kind);
    subject.push_back(e.subject);
    detail.push_back(e.detail);
    venues.push_back(e.venues);
  }
  out.write("date", date);
  out.write("kind", kind);
  out.write("subject", subject);
  out.write("detail", detail);
  out.write("venues_affected", venues);
  if (record) out.write("record", *record);
}

std::vector<Event> restore_events(const StateReader& in) {
  const std::vector<std::string> date = in.strings("date"), kind = in.strings("kind"), subject = in.strings("subject"),
                                  detail = in.strings("detail");
  const std::vector<std::int64_t> venues = in.read<std::int64_t>("venues_affected");
  const std::size_t n = date.size();
  if (kind.size() != n || subject.size() != n || detail.size() != n || venues.size() != n)
    in.fail("", "event columns differ in length");
  std::vector<Event> events;
  for (std::size_t k = 0; k < n; ++k) {
    const std::optional<Date> d = Date::parse_iso(date[k]);
    if (!d) in.fail("date", "holds " + date[k] + ", not a date");
    events.push_back({*d, kind[k], subject[k], detail[k], venues[k]});
  }
  return events;
}

void save_history(StateWriter out, const RecordHistory& h) {
  out.scalar("count", h.time.size());
  out.write("time", h.time);
  StateWriter floats = out.child("float32");
  StateWriter integers = out.child("int64");
  for (const RecordHistory::Series& s : h.series) {
    if (const auto* f = std::get_if<std::vector<float>>(&s.values))
      floats.write(s.name, *f);
    else
      integers.write(s.name, std::get<std::vector<std::int64_t>>(s.values));
  }
  save_events(out.child("events"), h.events, &h.event_record);
}

RecordHistory restore_history(const StateReader& in) {
  RecordHistory h;
  h.time = in.strings("time");
  if (in.scalar<std::size_t>("count") != h.time.size()) in.fail("count", "does not match the dates");
  const StateReader floats = in.child("float32");
  for (const std::string& name : floats.names()) h.series.push_back({name, floats.read<float>(name)});
  const StateReader integers = in.child("int64");
  for (const std::string& name : integers.names()) h.series.push_back({name, integers.read<std::int64_t>(name)});
  for (const RecordHistory::Series& s : h.series) {
    const std::size_t size = std::visit([](const auto& v) { return v.size(); }, s.values);
    if (h.time.empty() ? size != 0 : size % h.time.size() != 0)
      in.fail(s.name, "does not hold whole records");
  }
  const StateReader events = in.child("events");
  h.events = restore_events(events);
  h.event_record = events.read<std::int64_t>("record");
  if (h.event_record.size() != h.events.size()) events.fail("record", "does not match the events");
  for (const std::int64_t k : h.event_record)
    if (k < 0 || static_cast<std::size_t>(k) >= h.time.size()) events.fail("record", "refers to a missing record");
  return h;
}

// Atomic replacement: readers see the old file or the complete new one, never a torn one.
fs::path temporary_beside(const fs::path& path) {
  return path.parent_path() / ("." + path.filename().string() + ".tmp" + std::to_string(::getpid()));
}

}  // namespace

namespace {

RecordHistory no_records(const std::vector<Metrics::DefinedSeries>& series) {
  RecordHistory h;
  for (const Metrics::DefinedSeries& s : series)
    if (s.type == SeriesType::float32)
      h.series.push_back({s.name, std::vector<float>()});
    else
      h.series.push_back({s.name, std::vector<std::int64_t>()});
  return h;
}

// The records an output being written holds, read from a copy of it: opening the output itself a
// second time in this process changes where HDF5 puts what the recorder writes next, and a run's
// output must be the same bytes whether or not it saved checkpoints (an ensemble's baseline
// saves its counterfactuals' branch states). The recorder flushes after every record, so the
// file on disk is whole.
RecordHistory records_so_far(const fs::path& output, std::int64_t records,
                             const std::vector<Metrics::DefinedSeries>& series, const fs::path& beside) {
  // Before the first record the output is not flushed yet; there is nothing to read either.
  if (records == 0) return no_records(series);
  const fs::path copy = beside.string() + ".records";
  std::error_code error;
  fs::remove(copy, error);
  if (!fs::copy_file(output, copy, error))
    throw RecorderError(copy.string() + ": cannot copy the output's records (" + error.message() + ")");
  try {
    RecordHistory history = read_record_history(copy, records, series);
    fs::remove(copy, error);
    return history;
  } catch (...) {
    fs::remove(copy, error);
    throw;
  }
}

}  // namespace

std::string spin_up_file_name(const Scenario& scenario, const StreamKey& key, std::uint64_t world_hash) {
  std::ostringstream text;
  text << settings_of(parse_scenario_text(scenario.path, scenario.resolved_text, "this")) << "\nworld " << world_hash
       << "\nvenue types " << joined(scenario.venue_type_names()) << "\nseed " << key.seed
       << "\nreplicate " << key.replicate << "\nversion " << kVersion << ' ' << kSourceDigest << '\n';
  return "spin-up-" + sha256_hex(text.str()).substr(0, 32) + ".h5";
}

CheckpointError::CheckpointError(const fs::path& file, const std::string& problem)
    : std::runtime_error(file.string() + ": " + problem), file_(file) {}

std::uint64_t world_structure_hash(const World& world) {
  std::uint64_t h = 0;
  const auto add = [&](const auto& values) {
    using T = typename std::decay_t<decltype(values)>::value_type;
    h = hash_bytes(values.data(), values.size() * sizeof(T), h);
  };
  const Residents& r = world.residents;
  h = hash_bytes(nullptr, 0, static_cast<std::uint64_t>(r.num_groups) << 32 | static_cast<std::uint32_t>(r.num_venue_types));
  for_each_field(r, [&](const auto&, const auto& values) { add(contiguous(values)); });  // in list order
  const Venues& v = world.venues;
  for (const std::string& name : v.name) h = hash_bytes(name.data(), name.size(), h ^ name.size());
  add(v.type), add(v.ward), add(v.capacity), add(v.faith), add(v.members), add(v.member_group_share);
  add(v.budget), add(v.budget_full), add(v.operating_level), add(v.open), add(v.open_days);
  add(v.session_capacity), add(v.quality_factor);
  add(world.block_ward);
  return h;
}

Date check_checkpoint_scenario(const fs::path& path, const Scenario& scenario, const RunOptions& options) {
  const h5::File file = open_checkpoint(path);
  return reading(path, [&] {
    const Date day = date_attribute(path, file, "checkpoint_date");
    const auto seed = static_cast<std::uint64_t>(integer_attribute(path, file, "seed"));
    const auto replicate = static_cast<std::uint32_t>(integer_attribute(path, file, "replicate"));
    const std::uint64_t our_seed = options.seed.value_or(scenario.simulation.seed);
    const std::uint32_t our_replicate = options.replicate.value_or(scenario.simulation.replicate);
    if (our_seed != seed)
      throw CheckpointError(path, "seed: the checkpoint was made with seed " + std::to_string(seed) + ", this run " +
                                      (options.seed ? "asks for " : "would use the scenario's ") +
                                      std::to_string(our_seed));
    if (our_replicate != replicate)
      throw CheckpointError(path, "replicate: the checkpoint was made with replicate " + std::to_string(replicate) +
                                      ", this run " + (options.replicate ? "asks for " : "would use the scenario's ") +
                                      std::to_string(our_replicate));
    const Date start = date_attribute(path, file, "start_date");
    if (start != scenario.simulation.start)
      throw CheckpointError(path, "simulation.start: the checkpoint's run started on " + start.iso() + ", this one " +
                                      scenario.simulation.start.iso());
    const Date end = std::min(options.until.value_or(scenario.simulation.end), scenario.simulation.end);
    if (end <= day)
      throw CheckpointError(path, "the run would end on " + end.iso() + ", not after the checkpoint's date " +
                                      day.iso());

    const toml::table ours = parse_scenario_text(path, text_attribute(path, file, "scenario_text"), "the checkpoint's");
    const toml::table theirs = parse_scenario_text(path, scenario.resolved_text, "this");
    const toml::table a = settings_of(ours), b = settings_of(theirs);
    if (auto d = first_difference(&a, &b, ""))
      throw CheckpointError(path, *d + " (a branch may differ only in timeline items dated after the checkpoint's " +
                                      day.iso() + " and in simulation.end)");
    check_dated_items(path, ours, theirs, day);
    return day;
  });
}

std::optional<Date> last_shared_day(const Scenario& trunk, const Scenario& branch) {
  const fs::path file = branch.path;
  const toml::table ours = parse_scenario_text(file, trunk.resolved_text, "the trunk's");
  const toml::table theirs = parse_scenario_text(file, branch.resolved_text, "this");
  const toml::table a = settings_of(ours), b = settings_of(theirs);
  if (first_difference(&a, &b, "")) return std::nullopt;
  const Date before_start = trunk.simulation.start + -1;
  if (trunk.simulation.start != branch.simulation.start || dated_items_difference(ours, theirs, before_start))
    return std::nullopt;
  // Agreement through a day holds through every earlier one, and changes only on item dates:
  // the first item date through which they disagree is the first day that differs.
  for (const Date day : item_dates(ours, theirs)) {
    if (day <= before_start || !dated_items_difference(ours, theirs, day)) continue;
    // Differing from the first day on: the spin-up state (its own cache) is all they share.
    if (day == trunk.simulation.start) return std::nullopt;
    return day + -1;
  }
  return std::nullopt;  // the same history throughout: nothing to branch
}

// ---------------------------------------------------------------------------------------------
// output records

RecordHistory read_record_history(const fs::path& output, std::int64_t records,
                                  const std::vector<Metrics::DefinedSeries>& series) {
  RecordHistory h;
  // A second, read-only handle on the file the recorder is writing: HDF5 shares the open file,
  // so this sees every record written so far.
  const h5::File file = h5::File::open_read_only(output);
  const h5::Group group = file.open_group("series");
  const auto count = static_cast<hsize_t>(records);
  h.time = read_record_dates(group.open_dataset("time"), 0, count);
  for (const Metrics::DefinedSeries& s : series) {
    const h5::Dataset dataset = group.open_dataset(s.name);
    const std::vector<hsize_t> shape = dataset.shape();
    if (shape.empty() || shape[0] < count) throw RecorderError(output.string() + ": series " + s.name + " is short");
    hsize_t elements = 1;
    for (const hsize_t n : shape) elements *= n;
    const auto read = [&](auto& values, hid_t memory_type) {
      values.resize(static_cast<std::size_t>(elements));
      if (elements > 0)
        h5::checked(output.string(), "read series " + s.name, [&] {
          return H5Dread(dataset.id(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
        });
      values.resize(static_cast<std::size_t>(elements / shape[0] * count));  // a torn record is not one
    };
    if (s.type == SeriesType::float32) {
      std::vector<float> values;
      read(values, H5T_NATIVE_FLOAT);
      h.series.push_back({s.name, std::move(values)});
    } else {
      std::vector<std::int64_t> values;
      read(values, H5T_NATIVE_INT64);
      h.series.push_back({s.name, std::move(values)});
    }
  }
  if (!file.has_link("events")) return h;
  const h5::Dataset events = file.open_dataset("events");
  const hsize_t rows = events.shape().at(0);
  const h5::Datatype text = h5::Datatype::vlen_utf8_string(), integer = h5::Datatype::native_int64();
  const h5::CompoundLayout layout = h5::make_compound(
      {{"date", &text}, {"kind", &text}, {"subject", &text}, {"detail", &text}, {"venues_affected", &integer}});
  std::vector<std::byte> buffer(static_cast<std::size_t>(rows) * layout.row_size);
  if (rows == 0) return h;
  h5::checked(output.string(), "read events", [&] {
    return H5Dread(events.id(), layout.type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data());
  });
  const auto field = [&](hsize_t row, int column) {
    char* value = nullptr;
    std::memcpy(&value, buffer.data() + row * layout.row_size + layout.offsets[column], sizeof value);
    return std::string(value ? value : "");
  };
  for (hsize_t row = 0; row < rows; ++row) {
    const std::optional<Date> date = Date::parse_iso(field(row, 0));
    std::int64_t venues = 0;
    std::memcpy(&venues, buffer.data() + row * layout.row_size + layout.offsets[4], sizeof venues);
    // An event was written with the record closing its period: the first dated on or after it.
    const auto record = static_cast<std::int64_t>(
        std::lower_bound(h.time.begin(), h.time.end(), field(row, 0)) - h.time.begin());
    if (!date || record >= records) continue;  // not part of a complete record
    h.events.push_back({*date, field(row, 1), field(row, 2), field(row, 3), venues});
    h.event_record.push_back(record);
  }
  const h5::Handle space(h5::checked(output.string(), "query events", [&] { return H5Dget_space(events.id()); }),
                         H5Sclose);
  H5Dvlen_reclaim(layout.type.id(), space.id(), H5P_DEFAULT, buffer.data());
  return h;
}

void replay_record_history(Recorder& recorder, const RecordHistory& h, const std::vector<Metrics::DefinedSeries>& series,
                           const fs::path& checkpoint) {
  const std::size_t records = h.time.size();
  std::vector<const RecordHistory::Series*> source;
  for (const Metrics::DefinedSeries& s : series) {
    const auto found = std::find_if(h.series.begin(), h.series.end(), [&](const auto& x) { return x.name == s.name; });
    source.push_back(found == h.series.end() ? nullptr : &*found);
    if (!source.back()) continue;
    const bool is_float = std::holds_alternative<std::vector<float>>(found->values);
    const std::size_t size = std::visit([](const auto& v) { return v.size(); }, found->values);
    if (is_float != (s.type == SeriesType::float32) || size != records * recorder.record_size(s.id))
      throw CheckpointError(checkpoint, "records: series " + s.name + " does not match this run's");
  }
  for (const RecordHistory::Series& x : h.series) {
    if (std::any_of(series.begin(), series.end(), [&](const auto& s) { return s.name == x.name; })) continue;
    const bool zero = std::visit(
        [](const auto& v) { return std::all_of(v.begin(), v.end(), [](auto value) { return value == 0; }); },
        x.values);
    if (!zero) throw CheckpointError(checkpoint, "records: series " + x.name + " is not recorded by this run");
  }
  std::size_t next_event = 0;
  for (std::size_t k = 0; k < records; ++k) {
    for (; next_event < h.events.size() && h.event_record[next_event] == static_cast<std::int64_t>(k); ++next_event) {
      const Event& e = h.events[next_event];
      recorder.log_event(e.date.iso(), e.kind, e.subject, e.detail, e.venues);
    }
    for (std::size_t s = 0; s < series.size(); ++s) {
      const std::size_t size = recorder.record_size(series[s].id);
      if (series[s].type == SeriesType::float32) {
        static const std::vector<float> no_values;
        const auto& values = source[s] ? std::get<std::vector<float>>(source[s]->values) : no_values;
        std::vector<float> zeros;
        if (!source[s]) zeros.assign(size, 0.0f);
        recorder.write(series[s].id, source[s] ? std::span<const float>(values.data() + k * size, size)
                                               : std::span<const float>(zeros));
      } else {
        static const std::vector<std::int64_t> no_values;
        const auto& values = source[s] ? std::get<std::vector<std::int64_t>>(source[s]->values) : no_values;
        std::vector<std::int64_t> zeros;
        if (!source[s]) zeros.assign(size, 0);
        recorder.write(series[s].id, source[s] ? std::span<const std::int64_t>(values.data() + k * size, size)
                                               : std::span<const std::int64_t>(zeros));
      }
    }
    recorder.end_record(h.time[k]);
  }
}

// ---------------------------------------------------------------------------------------------
// Simulation: saving and restoring

void Simulation::save_checkpoint(const fs::path& path, bool overwrite) const {
  if (today_ == origin_)
    throw CheckpointError(path, "nothing to checkpoint: no day has been simulated yet");
  if (forced_record_)
    throw CheckpointError(path, "cannot checkpoint after " + (today_ + -1).iso() +
                                    ": the run ended there and recorded a period cut short; ask for the "
                                    "checkpoint before running (checkpoint_at, --checkpoint-at)");
  write_checkpoint(path, today_ + -1, overwrite);
}

void Simulation::write_checkpoint(const fs::path& path, Date day, bool overwrite) const {
  refuse_input_as_output(path, scenario_.input_files);
  // The one publishing path (core/output_file.hpp): a temporary beside `path`, created
  // exclusively (a link there is removed, never followed), renamed into place when sealed;
  // anything at `path` but a regular file is refused, and an existing file unless `overwrite`.
  const auto write = [&](const fs::path& temporary) {
    {
      h5::File file = h5::File::create(temporary, false, h5::FileFormat::portable, kSealBytes);
      file.set_attribute("format", std::string(kFormat));
      file.set_attribute("contactsim_version", std::string(kVersion));
      file.set_attribute("git_revision", std::string(kGitRevision));
      file.set_attribute("scenario_path", scenario_.path.string());
      file.set_attribute("scenario_text", scenario_.resolved_text);
      file.set_attribute("scenario_sha256", scenario_.sha256);
      file.set_attribute("seed", static_cast<std::int64_t>(key_.seed));
      file.set_attribute("replicate", static_cast<std::int64_t>(key_.replicate));
      file.set_attribute("threads", static_cast<std::int64_t>(threads_));
      file.set_attribute("start_date", scenario_.simulation.start.iso());
      file.set_attribute("checkpoint_date", day.iso());
      file.set_attribute("record_interval", std::string(to_string(scenario_.record.interval)));
      file.set_attribute("created_utc", creation_time_utc());

      StateWriter structure(file.create_group("structure"), "/structure");
      structure.scalar("residents", world_.residents.size());
      structure.scalar("venues", world_.venues.size());
      structure.scalar("blocks", world_.block_ward.size());
      structure.text("hash", hash_hex(structure_hash_));
      structure.write("groups", scenario_.group_names());
      structure.write("wards", scenario_.ward_names());
      structure.write("venue_types", scenario_.venue_type_names());

      StateWriter state(file.create_group("state"), "/state");
      state.scalar("attendances", attendances_);
      save_residents(state.child("residents"), world_.residents);
      save_venues(state.child("venues"), world_.venues);
      save_events(state.child("events"), events_);
      StateWriter metrics = state.child("metrics");
      metrics_.save(metrics);
      StateWriter phases = state.child("phases");
      for (const auto& phase : scheduler_.phases()) {
        StateWriter one = phases.child(phase->name());
        phase->save(one);
      }
      if (recorder_) {
        // Attached but not stepped since a restore: the records are still the restored ones.
        const RecordHistory history =
            history_ ? *history_ : records_so_far(recorder_->path(), recorder_->records(), defined_series_, temporary);
        save_history(StateWriter(file.create_group("records"), "/records"), history);
      }
      file.flush();
    }
    seal_file(temporary, kSealKind);
  };
  replace_atomically(path, write, overwrite,
                     "checkpoints replace an existing file only when asked to (overwrite=True, --force)",
                     temporary_beside(path));
}

void Simulation::restore_checkpoint(const fs::path& path) {
  const h5::File file = open_checkpoint(path);
  const Date day = reading(path, [&] { return date_attribute(path, file, "checkpoint_date"); });
  reading(path, [&] {
    // The city: the same names in the same order, the same sizes, then the same arrays.
    const StateReader structure(file.open_group("structure"), "/structure");
    const auto same_names = [&](const std::string& what, const std::vector<std::string>& theirs) {
      const std::vector<std::string> ours = structure.strings(what);
      if (ours == theirs) return;
      std::string hint;
      if (what == "venue_types")
        hint = " (the contact columns mechanisms add for their timeline items must exist from the start: list "
               "them under [venue_types] in the checkpointed scenario)";
      throw CheckpointError(path, what + ": the checkpoint's city has " + joined(ours) + "; this scenario's " +
                                      joined(theirs) + hint);
    };
    same_names("groups", scenario_.group_names());
    same_names("wards", scenario_.ward_names());
    same_names("venue_types", scenario_.venue_type_names());
    const auto same_count = [&](const std::string& what, std::size_t theirs) {
      const auto ours = structure.scalar<std::size_t>(what);
      if (ours != theirs)
        throw CheckpointError(path, what + ": the checkpoint's city has " + std::to_string(ours) +
                                        ", the one this scenario builds " + std::to_string(theirs));
    };
    same_count("residents", world_.residents.size());
    same_count("venues", world_.venues.size());
    same_count("blocks", world_.block_ward.size());
    if (structure.text("hash") != hash_hex(structure_hash_))
      throw CheckpointError(path, "the world this scenario builds differs from the checkpointed one (same sizes, "
                                  "different residents or venues: a changed data file, or another contactsim "
                                  "version?)");

    const StateReader state(file.open_group("state"), "/state");
    attendances_ = state.scalar<std::int64_t>("attendances");
    restore_residents(state.child("residents"), world_.residents);
    restore_venues(state.child("venues"), world_.venues);
    events_ = restore_events(state.child("events"));
    metrics_.restore(state.child("metrics"));
    // A phase of this run the checkpoint lacks exists only for items the checkpointed scenario
    // did not have; the compatibility check put all of them after the checkpoint, so the phase
    // has done nothing yet and keeps its initial state. Conversely a checkpointed phase this
    // run lacks had only later items, so nothing of it is lost.
    const StateReader phases = state.child("phases");
    for (const auto& phase : scheduler_.phases())
      if (phases.has(phase->name())) phase->restore(phases.child(phase->name()));
    if (file.has_link("records"))
      history_ = std::make_unique<RecordHistory>(restore_history(StateReader(file.open_group("records"), "/records")));
  });
  today_ = day + 1;
  restored_after_ = day;
  restored_from_ = path;
}

}  // namespace contactsim
