#include "models/run/simulation.hpp"

#include "contactsim/version.hpp"
#include "models/mechanisms/registry.hpp"
#include "models/run/outputs.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <cstdlib>
#include <stdexcept>
#include <ctime>

namespace contactsim {
namespace {

int resolve_threads(int requested) { return requested > 0 ? requested : omp_get_num_procs(); }

Labels labels_of(const Scenario& s) {
  Labels l;
  l.groups = s.group_names();
  l.wards = s.ward_names();
  l.venue_types = s.venue_type_names();
  return l;
}

World build_world_on(int threads, const Scenario& s, StreamKey key) {
  omp_set_num_threads(threads);
  return build_world(s, key);
}

ContactTally empty_tally(const Scenario& s) {
  ContactTally t;
  t.resize(static_cast<int>(s.wards.size()), static_cast<int>(s.groups.size()), static_cast<int>(s.venue_types.size()));
  return t;
}

}  // namespace

Simulation::Simulation(Scenario scenario, const RunOptions& options)
    : Simulation(std::move(scenario), options, std::nullopt) {}

Simulation::Simulation(Scenario scenario, const RunOptions& options, std::optional<Restoring> restoring)
    : scenario_(std::move(scenario)),
      key_{options.seed.value_or(scenario_.simulation.seed), options.replicate.value_or(scenario_.simulation.replicate)},
      threads_(resolve_threads(options.threads.value_or(scenario_.simulation.threads))),
      end_(std::min(options.until.value_or(scenario_.simulation.end), scenario_.simulation.end)),
      origin_(scenario_.simulation.origin()),
      today_(origin_),
      world_(build_world_on(threads_, scenario_, key_)),
      venue_members_at_start_(world_.venues.members),
      rules_(scenario_.valence, scenario_.attitude),
      tally_(empty_tally(scenario_)),
      metrics_(scenario_.metrics, MetricInputs{world_.residents, world_.venues, tally_, activity_, labels_of(scenario_),
                                               world_.block_ward.size(), origin_}),
      snapshots_(scenario_.record.agents, world_.residents.size(), key_) {
  // Before anything else touches the world: checkpoints compare it with the city they restore.
  structure_hash_ = world_structure_hash(world_);
  build_mechanisms();
  if (options.check_invariants || invariants_checked_by_default())
    invariants_ = std::make_unique<InvariantChecker>(world_, scenario_, links_, mechanisms_);
  if (!restoring) spin_up(options.spin_up_cache);
}

void Simulation::spin_up(const std::optional<std::filesystem::path>& cache) {
  if (today_ == scenario_.simulation.start) return;
  const Date last = scenario_.simulation.start + -1;
  const std::optional<std::filesystem::path> cached =
      cache ? std::optional(*cache / spin_up_file_name(scenario_, key_, structure_hash_)) : std::nullopt;
  if (cached && std::filesystem::is_regular_file(*cached)) {
    RunOptions same_key;
    same_key.seed = key_.seed;
    same_key.replicate = key_.replicate;
    check_checkpoint_scenario(*cached, scenario_, same_key);
    restore_checkpoint(*cached);
    // Not a continued run: its output is the one a simulated spin-up gives, restored_* unset.
    restored_after_.reset();
    restored_from_.clear();
    history_.reset();
    spin_up_source_ = "cache";
    return;
  }
  omp_set_num_threads(threads_);
  for (; today_ <= last; ++today_) advance_day();
  discard_period();
  spin_up_source_ = "simulated";
  if (cached) share_spin_up(*cached);
}

// Leaves the spin-up state in the cache for the runs that agree with this one before the start.
// A cache that cannot take it costs them time, not results: this run goes on regardless, and
// spin_up_source() says why. Never replaces a file there: another process that got there first
// left the same state.
void Simulation::share_spin_up(const std::filesystem::path& cached) {
  try {
    std::filesystem::create_directories(cached.parent_path().empty() ? "." : cached.parent_path());
    if (!std::filesystem::exists(cached)) write_checkpoint(cached, scenario_.simulation.start + -1, false);
  } catch (const std::exception& e) {
    if (!std::filesystem::is_regular_file(cached)) spin_up_source_ += " (not cached: " + std::string(e.what()) + ")";
  }
}

// Every registered mechanism, in phase order: built (publishing its links), then connected.
void Simulation::build_mechanisms() {
  links_.publish("venue_activity", activity_);
  MechanismContext context{scenario_, world_, key_, rules_, tally_, events_, links_};
  const auto& registry = mechanism_registry();
  for (std::size_t k = 0; k < registry.size(); ++k) {
    std::unique_ptr<Mechanism> mechanism = registry[k].build(*scenario_.mechanisms[k], context);
    if (!mechanism) continue;
    mechanisms_.push_back(mechanism.get());
    mechanism_entry_.push_back(k);
    scheduler_.add(std::move(mechanism));
  }
  for (Mechanism* m : mechanisms_) m->connect(links_);
  metrics_.connect(links_);
}

Simulation::Simulation(Scenario scenario, const std::filesystem::path& checkpoint, const RunOptions& options)
    : Simulation(
          [&] {
            // The cheap checks first, before the (possibly long) world build.
            check_checkpoint_scenario(checkpoint, scenario, options);
            return std::move(scenario);
          }(),
          options, Restoring{}) {
  restore_checkpoint(checkpoint);
  spin_up_source_ = "checkpoint";
}

void Simulation::attach(Recorder& recorder) {
  // Every front end attaches here: refuse an output its disk cannot hold before writing to it.
  check_output_space(scenario_, recorder.path(), end_);
  recorder_ = &recorder;
  write_provenance(recorder, *this);
  define_series(recorder);
  if (snapshots_.enabled())
    snapshots_.define(recorder, static_cast<int>(scenario_.groups.size()), links_);
  // A restored run's output starts with the checkpointed run's records, unless days were
  // simulated before recording began (their records are lost, as for any late attach).
  if (history_ && restored_after_ && today_ == *restored_after_ + 1) {
    if (announce_restore_) {
      recorder.set_attribute("restored_from", restored_from_.string());
      recorder.set_attribute("restored_after", restored_after_->iso());
    }
    // Written when the run goes on (write_history), not now: attributes the caller adds after
    // attach() then come before the records, as in a run from the first day, whose file must be
    // the same bytes.
    return;
  }
  history_.reset();
}

void Simulation::write_history() {
  if (!history_) return;
  if (recorder_) replay_record_history(*recorder_, *history_, defined_series_, restored_from_);
  history_.reset();
}

// The city-wide series, then each mechanism's in series_definition_order (models/run/outputs.hpp,
// which lists the same series for `contactsim outputs` and docs/outputs.md).
void Simulation::define_series(Recorder& recorder) {
  metrics_.define_series(recorder);
  defined_series_ = metrics_.defined_series();
  mechanism_series_.assign(mechanisms_.size(), {});
  for (const std::size_t m : series_definition_order(mechanism_entry_))
    for (const SeriesSpec& spec : scenario_.mechanisms[mechanism_entry_[m]]->series()) {
      const int id = recorder.define_series(spec);
      mechanism_series_[m].push_back(id);
      defined_series_.push_back({spec.name, id, spec.type});
    }
}

void Simulation::checkpoint_at(Date date, std::filesystem::path path) {
  if (date < today_ || date > end_)
    throw std::invalid_argument("cannot checkpoint at the end of " + date.iso() + ": expected a day from " +
                                today_.iso() + " to " + end_.iso());
  checkpoints_due_[date] = std::move(path);
}

void Simulation::end_at(Date date) {
  if (date < today_)
    throw std::invalid_argument("cannot end the run on " + date.iso() + ": it is already simulated (the next day is " +
                                today_.iso() + ")");
  end_ = std::min(date, scenario_.simulation.end);
  if (recorder_) recorder_->set_attribute("end_date", end_.iso());
}

int Simulation::step(int days) {
  write_history();
  omp_set_num_threads(threads_);
  int done = 0;
  while (done < days && !finished()) {
    simulate_day();
    ++done;
  }
  return done;
}

void Simulation::run(const std::function<void(Date)>& progress) {
  write_history();
  omp_set_num_threads(threads_);
  while (!finished()) {
    simulate_day();
    if (progress) progress(today_ + -1);
  }
}

void Simulation::advance_day() {
  const Day day{today_, today_ - origin_};
  if (invariants_) invariants_->before_day();
  scheduler_.run_day(day);
  forget_replaced_residents();
  if (invariants_) invariants_->after_day(day);
}

void Simulation::simulate_day() {
  advance_day();
  if (recorder_ && snapshots_.enabled() &&
      snapshot_due(today_, scenario_.simulation.start, end_, scenario_.record.agents.interval))
    write_snapshot();
  if (const auto* sessions = links_.find<const DailySessions>("daily_sessions")) attendances_ += sessions->attendances;
  const bool last = today_ == end_;
  const bool closes = closes_period(today_, scenario_.simulation.start, scenario_.record.interval);
  if (closes) close_period(last);
  // After the day's regular record and before a final one forced by the run's end: a run
  // restored from the checkpoint then continues the open period as an uninterrupted run would.
  if (const auto due = checkpoints_due_.find(today_); due != checkpoints_due_.end()) {
    // Replaces an existing file (the command line refuses one up front without --force).
    write_checkpoint(due->second, today_, true);
    checkpoints_due_.erase(due);
  }
  forced_record_ = last && !closes;
  if (forced_record_) close_period(last);
  ++today_;
}

void Simulation::close_period(bool last) {
  if (recorder_) {
    const auto started = std::chrono::steady_clock::now();
    write_events();
    metrics_.record(*recorder_, today_);
    for (std::size_t k = 0; k < mechanisms_.size(); ++k) {
      SeriesWriter writer(*recorder_, mechanism_series_[k]);
      mechanisms_[k]->record(writer);
      if (writer.written() != mechanism_series_[k].size())
        throw std::logic_error(std::string("mechanism ") + mechanisms_[k]->name() + " wrote fewer series than it declared");
    }
    recorder_->end_record(today_.iso());
    metrics_.end_period();
    if (last) recorder_->mark_complete();
    recording_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  } else {
    events_.clear();
    metrics_.discard_period();
  }
}

void Simulation::discard_period() {
  events_.clear();
  metrics_.start_over();
  for (Mechanism* m : mechanisms_) {
    SeriesWriter nowhere = SeriesWriter::nowhere();
    m->record(nowhere);
  }
  attendances_ = 0;
}

// A slot whose resident left (or died) now holds a newcomer (or a newborn): mechanisms that keep
// lists of residents must forget the previous occupant.
void Simulation::forget_replaced_residents() {
  for (Mechanism* source : mechanisms_) {
    const std::vector<std::uint32_t> replaced = source->take_recycled_slots();
    if (replaced.empty()) continue;
    for (Mechanism* m : mechanisms_) m->forget(replaced);
  }
}

void Simulation::write_snapshot() {
  const auto started = std::chrono::steady_clock::now();
  snapshots_.write(*recorder_, today_, world_.residents, links_);
  recording_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

void Simulation::write_events() {
  for (const Event& e : events_) recorder_->log_event(e.date.iso(), e.kind, e.subject, e.detail, e.venues);
  events_.clear();
}

std::int64_t Simulation::intergroup_encounters() const {
  const auto* encounters = links_.find<const EncountersPhase>("encounters");
  return encounters ? encounters->intergroup_encounters() : 0;
}

void write_provenance(Recorder& rec, const Simulation& sim) {
  const Scenario& s = sim.scenario();
  rec.set_attribute("contactsim_version", std::string(kVersion));
  rec.set_attribute("git_revision", std::string(kGitRevision));
  rec.set_attribute("scenario_path", s.path.string());
  rec.set_attribute("scenario_text", s.resolved_text);
  rec.set_attribute("scenario_sha256", s.sha256);
  rec.set_attribute("seed", static_cast<std::int64_t>(sim.seed()));
  rec.set_attribute("replicate", static_cast<std::int64_t>(sim.replicate()));
  rec.set_attribute("threads", static_cast<std::int64_t>(sim.threads()));
  rec.set_attribute("start_date", s.simulation.start.iso());
  rec.set_attribute("end_date", sim.end().iso());
  // The unrecorded days before the start (simulation.spin_up_days). Not whether they were
  // simulated or restored from the cache: the results are the same, and so must the bytes be.
  rec.set_attribute("spin_up_days", static_cast<std::int64_t>(s.simulation.spin_up_days));
  rec.set_attribute("spin_up_from", s.simulation.origin().iso());
  rec.set_attribute("record_interval", std::string(to_string(s.record.interval)));
  rec.set_attribute("population_source", s.population.source);
  rec.set_attribute("population_scale", s.population.scale);
  rec.set_attribute("invariants_checked", static_cast<std::int64_t>(sim.checks_invariants() ? 1 : 0));
  rec.set_attribute("created_utc", creation_time_utc());

  std::vector<std::string> group_names, group_labels, ward_names, ward_codes;
  std::vector<std::int64_t> group_residents(s.groups.size(), 0), ward_residents(s.wards.size(), 0);
  for (std::size_t w = 0; w < s.wards.size(); ++w)
    for (std::size_t g = 0; g < s.groups.size(); ++g) {
      group_residents[g] += s.population.counts[w][g];
      ward_residents[w] += s.population.counts[w][g];
    }
  for (const auto& g : s.groups) group_names.push_back(g.name), group_labels.push_back(g.label);
  for (const auto& w : s.wards) ward_names.push_back(w.name), ward_codes.push_back(w.code);
  rec.write_table("groups", {{"name", group_names}, {"label", group_labels}, {"residents", group_residents}});
  rec.write_table("wards", {{"name", ward_names}, {"code", ward_codes}, {"residents", ward_residents}});

  std::vector<std::string> type_names, slots, memberships;
  std::vector<double> quality, depth, encounters;
  for (const auto& t : s.venue_types) {
    type_names.push_back(t.name);
    slots.push_back(kSlotNames[static_cast<int>(t.slot)]);
    memberships.push_back(to_string(t.membership));
    quality.push_back(t.quality());
    depth.push_back(t.depth);
    encounters.push_back(t.encounters);
  }
  rec.write_table("venue_types", {{"name", type_names}, {"slot", slots}, {"membership", memberships},
                                  {"quality", quality}, {"depth", depth}, {"encounters", encounters}});

  const Venues& v = sim.world().venues;
  std::vector<std::string> venue_type, venue_ward, faith;
  std::vector<std::int64_t> ids, capacity, members;
  for (std::size_t k = 0; k < v.size(); ++k) {
    ids.push_back(static_cast<std::int64_t>(k));
    venue_type.push_back(s.venue_types[v.type[k]].name);
    venue_ward.push_back(s.wards[v.ward[k]].name);
    faith.push_back(v.faith[k] == kNoFaith ? "" : s.faiths[v.faith[k]].name);
    capacity.push_back(v.capacity[k]);
    members.push_back(sim.venue_members_at_start()[k]);
  }
  rec.write_table("venues", {{"id", ids}, {"name", v.name}, {"type", venue_type}, {"ward", venue_ward},
                             {"faith", faith}, {"capacity", capacity}, {"members", members}});
}

}  // namespace contactsim
