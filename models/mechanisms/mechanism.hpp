#pragma once
// What a mechanism is to the framework (DESIGN §1). A mechanism owns everything about itself:
// its [mechanisms.<name>] table and ParamSpec, its [[timeline]] kinds and their reading, the
// venue-type columns its contact is counted under, its random-stream purposes, its state and
// checkpoint, its series, its invariants, what it does when a resident slot is recycled, and the
// named links through which it offers things to other mechanisms or takes them. The registry
// (models/mechanisms/registry.cpp) lists the mechanisms in phase order: the only list.
#include "core/config.hpp"
#include "core/links.hpp"
#include "core/params.hpp"
#include "core/recorder.hpp"
#include "core/rng.hpp"
#include "core/scheduler.hpp"
#include "models/city/invariant_error.hpp"
#include "models/city/state.hpp"
#include "models/city/venue_types.hpp"
#include "models/mechanisms/timeline.hpp"

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace contactsim {

struct Scenario;
struct World;
struct EncounterRules;

// A mechanism's part of a scenario, read once and then immutable (scenarios are copied freely).
struct MechanismConfig {
  virtual ~MechanismConfig() = default;
  // [mechanisms.<name>] enabled = false: the one way to switch a mechanism off. Its phase then
  // leaves the city as it is (funding: every venue runs at its full level).
  bool enabled = true;
  // Venue-type columns its contact is counted under: added to the scenario's venue types when the
  // scenario does not list them, from the built-in table or else contact_column_type().
  virtual std::vector<std::string> contact_columns() const { return {}; }
  // The column's type when the built-in table has none of that name.
  virtual std::optional<VenueType> contact_column_type(const std::string&) const { return std::nullopt; }
  // The series its mechanism writes in this scenario, in the order it writes them.
  virtual std::vector<SeriesSpec> series() const { return {}; }
};

// What a mechanism's reader sees: the document and the city read before any mechanism.
class MechanismReading {
 public:
  MechanismReading(const ConfigTable& root, const Scenario& city, std::vector<std::string> kinds_of_others)
      : root_(root), mechanisms_(root.optional_table("mechanisms")), city_(city),
        kinds_of_others_(std::move(kinds_of_others)) {}

  // Dates, groups, wards, population, venue types and listed venues.
  const Scenario& city() const { return city_; }
  const ConfigTable& root() const { return root_; }
  // Its [mechanisms.<name>] table (defaults, switched on, when absent).
  template <class P>
  MechanismSwitch<P> settings(const char* name, std::span<const ParamSpec<P>> specs) const {
    return read_mechanism(mechanisms_, name, specs);
  }
  // Throws ConfigError at [mechanisms.<name>] (or the root when there is no [mechanisms]).
  [[noreturn]] void fail_table(const std::string& name, const std::string& expected) const {
    (mechanisms_ ? *mechanisms_ : root_).fail(name, expected);
  }
  // Its [[timeline]] items, with their index among all items.
  std::vector<std::pair<int, ConfigTable>> items(const std::vector<std::string>& kinds) const {
    return timeline_items_of_kind(root_, kinds);
  }
  // Timeline kinds other mechanisms read (for the venue timeline, which reads the rest).
  const std::vector<std::string>& kinds_of_others() const { return kinds_of_others_; }

 private:
  const ConfigTable& root_;
  std::optional<ConfigTable> mechanisms_;
  const Scenario& city_;
  std::vector<std::string> kinds_of_others_;
};

// What a mechanism is built from: the city as built, the run's stream key, and the state every
// mechanism shares (the contact rules, the period's contact tally, the event log).
struct MechanismContext {
  const Scenario& scenario;
  World& world;
  StreamKey key;
  EncounterRules& rules;
  ContactTally& tally;
  EventLog& events;
  Links& links;  // publish here what this mechanism offers to others
};

// Writes a mechanism's series, in the order its config declared them.
class SeriesWriter {
 public:
  SeriesWriter(Recorder& recorder, std::span<const int> ids) : recorder_(&recorder), ids_(ids) {}
  // A writer that drops what it is given: a period that is not recorded (a spin-up's) still
  // takes the mechanisms' period tallies, so the next period starts from zero.
  static SeriesWriter nowhere() { return SeriesWriter(); }
  template <class T>
  void write(std::span<const T> values) {
    if (!recorder_) {
      ++next_;
      return;
    }
    if (next_ >= ids_.size()) throw std::logic_error("a mechanism wrote more series than it declared");
    recorder_->write(ids_[next_++], values);
  }
  template <class T>
  void write(const std::vector<T>& values) { write(std::span<const T>(values)); }
  std::size_t written() const { return next_; }

 private:
  SeriesWriter() = default;
  Recorder* recorder_ = nullptr;
  std::span<const int> ids_;
  std::size_t next_ = 0;
};

// A mechanism at run time: a daily phase (Phase: name, run, save, restore) plus its part in the
// run's life.
class Mechanism : public Phase {
 public:
  // After every mechanism is built and has published its links: take what this one needs.
  virtual void connect(const Links&) {}
  // Writes one record of the series its config declared (series()), in that order.
  virtual void record(SeriesWriter&) {}
  // Slots whose resident left or died now hold someone else: forget the previous occupant.
  virtual void forget(std::span<const std::uint32_t>) {}
  // Slots this mechanism gave to someone else since it was last asked (mobility: arrivals and
  // births); the framework has every mechanism forget them.
  virtual std::vector<std::uint32_t> take_recycled_slots() { return {}; }

  // Invariant checks (models/run/invariants.hpp), in a run that checks them. Before the day's
  // phases: remember what the day's checks compare against.
  virtual void before_day_checks() {}
  // After the day's phases: throws InvariantError for the first violation in its own state.
  virtual void check_invariants(const InvariantContext&) const {}
  // Adds the population changes it counted since before_day_checks (mobility: births, deaths,
  // arrivals, departures, moves), which the city's population balance accounts for.
  virtual void count_population_changes(PopulationChanges&) const {}
};

// A random-stream purpose range [first, last] (core/rng.hpp) a mechanism draws from.
struct PurposeRange {
  Purpose first = 0, last = 0;
};

struct MechanismEntry {
  std::string name;                         // phase name; its table is [mechanisms.<name>] if it has one
  std::vector<std::string> timeline_kinds;  // [[timeline]] kinds it reads
  std::vector<PurposeRange> purposes;       // disjoint across the registry (tests/mechanisms/test_registry.cpp)
  std::shared_ptr<const MechanismConfig> (*read)(const MechanismReading&);
  void (*describe)(std::vector<ParamDescription>&);  // its parameter dictionary entries
  // Null when the scenario gives it nothing to do (no items).
  std::unique_ptr<Mechanism> (*build)(const MechanismConfig&, MechanismContext&);
  // Where its series come among the mechanisms' in /series (lower first; ties in registry
  // order). Outputs written before the registry put the series of tension, mobility,
  // friendships and then two timeline programmes in that order (series_order 1-5); keeping it
  // keeps files identical, dimension-scale references included.
  int series_order = 100;
};

// A mechanism whose whole state and daily work is one existing phase object `P`.
template <class P>
class PhaseMechanism : public Mechanism {
 public:
  template <class... Args>
  explicit PhaseMechanism(Args&&... args) : phase_(std::forward<Args>(args)...) {}
  const char* name() const override { return phase_.name(); }
  void run(const Day& day) override { phase_.run(day); }
  void save(StateWriter& out) const override { phase_.save(out); }
  void restore(const StateReader& in) override { phase_.restore(in); }
  P& phase() { return phase_; }
  const P& phase() const { return phase_; }

 protected:
  P phase_;
};

// Its own config type, from the entry's build function.
template <class C>
const C& config_as(const MechanismConfig& config) {
  return static_cast<const C&>(config);
}

// An entry's build function for a mechanism `M` built from its config `C` and the context.
template <class M, class C>
std::unique_ptr<Mechanism> build_mechanism(const MechanismConfig& config, MechanismContext& c) {
  return std::make_unique<M>(config_as<C>(config), c);
}

// The same for a mechanism switched off by its table's `enabled = false`.
template <class M, class C>
std::unique_ptr<Mechanism> build_when_enabled(const MechanismConfig& config, MechanismContext& c) {
  if (!config.enabled) return nullptr;
  return build_mechanism<M, C>(config, c);
}

}  // namespace contactsim
