#include "models/run/simulation.hpp"

#include "contactsim/version.hpp"
#include "models/mechanisms/norms.hpp"

#include <omp.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <ctime>

namespace contactsim {
namespace {

int resolve_threads(int requested) { return requested > 0 ? requested : omp_get_num_procs(); }

Labels labels_of(const Scenario& s) {
  Labels l;
  for (const auto& g : s.groups) l.groups.push_back(g.name);
  for (const auto& w : s.wards) l.wards.push_back(w.name);
  for (const auto& t : s.venue_types) l.venue_types.push_back(t.name);
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
    : scenario_(std::move(scenario)),
      key_{options.seed.value_or(scenario_.simulation.seed), options.replicate.value_or(scenario_.simulation.replicate)},
      threads_(resolve_threads(options.threads.value_or(scenario_.simulation.threads))),
      end_(std::min(options.until.value_or(scenario_.simulation.end), scenario_.simulation.end)),
      today_(scenario_.simulation.start),
      world_(build_world_on(threads_, scenario_, key_)),
      venue_members_at_start_(world_.venues.members),
      tally_(empty_tally(scenario_)),
      rules_(scenario_.valence, scenario_.attitude),
      friendships_(world_.residents, scenario_.friendships),
      tension_(make_tension_state(scenario_.tension, world_.residents.size(),
                                  static_cast<int>(scenario_.wards.size()))),
      metrics_(scenario_.metrics, MetricInputs{world_.residents, world_.venues, tally_, activity_, labels_of(scenario_),
                                               world_.block_ward.size(), scenario_.simulation.start,
                                               scenario_.tension.enabled ? &tension_ : nullptr,
                                               scenario_.friendships.enabled ? &friendships_ : nullptr,
                                               scenario_.festivals.empty() ? nullptr : &festival_attendance_,
                                               scenario_.esol_courses.empty() ? nullptr : &esol_}),
      snapshots_(scenario_.record.agents, world_.residents.size(), key_) {
  // Before anything else touches the world: checkpoints compare it with the city they restore.
  structure_hash_ = world_structure_hash(world_);
  metrics_.report_mobility([this] { return mobility_ ? mobility_->take_counts() : MobilityCounts{}; },
                           scenario_.mobility.enabled);
  std::vector<std::string> type_names, ward_names, group_names;
  for (const auto& t : scenario_.venue_types) type_names.push_back(t.name);
  for (const auto& w : scenario_.wards) ward_names.push_back(w.name);
  for (const auto& g : scenario_.groups) group_names.push_back(g.name);
  if (scenario_.tension.enabled) {
    std::vector<double> knowledge;
    for (const auto& g : scenario_.groups) knowledge.push_back(g.knowledge);
    init_knowledge(tension_, world_.residents, knowledge);
    rules_.ward_tension = tension_.tension.data();
    for (const auto& c : scenario_.leaflets) tension_.leaflet_campaign(c.ward, c.translated, c.date);
  }
  festival_attendance_.resize(static_cast<int>(ward_names.size()), static_cast<int>(group_names.size()));
  if (scenario_.friendships.enabled) {
    std::vector<int> seed_types;  // in-group ties from classes and workplaces (and blocks)
    for (int t = 0; t < static_cast<int>(scenario_.venue_types.size()); ++t)
      if (scenario_.venue_types[t].stable && scenario_.venue_types[t].slot == Slot::daytime &&
          scenario_.venue_types[t].generate)
        seed_types.push_back(t);
    friendships_.seed_ingroup(seed_types, key_);
    rules_.on_positive = [this](std::uint32_t i, std::uint32_t j, bool stable) {
      friendships_.note_positive_encounter(i, j, stable);
    };
    rules_.prefetch = [this](std::uint32_t i) { friendships_.prefetch(i); };
  }
  scheduler_.add(std::make_unique<TimelinePhase>(scenario_.timeline, type_names, ward_names, world_.venues,
                                                 decisions_, events_));
  scheduler_.add(std::make_unique<FundingPhase>(scenario_.funding, scenario_.venue_types, ward_names, world_.venues,
                                                decisions_, events_));
  if (!scenario_.services.empty())
    scheduler_.add(std::make_unique<ServicesPhase>(scenario_.services, ward_names, tension_, events_));
  auto attendance = std::make_unique<AttendancePhase>(scenario_.attendance, scenario_.venue_types, world_.residents,
                                                      world_.venues, key_, sessions_, activity_);
  if (scenario_.tension.enabled) attendance->use_ward_safety(tension_.safety);
  scheduler_.add(std::move(attendance));
  auto encounters = std::make_unique<EncountersPhase>(scenario_.encounters, rules_, scenario_.venue_types,
                                                      world_.venues, world_.residents, sessions_, tally_, key_);
  encounters_ = encounters.get();
  scheduler_.add(std::move(encounters));
  if (!scenario_.youth_programmes.empty() || !scenario_.school_linking.empty()) {
    const ProgrammeColumns columns{scenario_.venue_type_index("youth_programme"),
                                   scenario_.venue_type_index("school_linking")};
    auto programmes = std::make_unique<ProgrammesPhase>(
        scenario_.programmes, scenario_.youth_programmes, scenario_.school_linking, rules_, world_.residents,
        world_.venues, scenario_.venue_type_index("school"), columns, tally_, key_, events_);
    if (scenario_.tension.enabled)
      programmes->on_cut_short([this](std::span<const std::uint32_t> p) { tension_.programme_cut_short(p); });
    programmes_ = programmes.get();
    scheduler_.add(std::move(programmes));
  }
  if (!scenario_.festivals.empty())
    scheduler_.add(std::make_unique<FestivalsPhase>(scenario_.festival_settings, scenario_.festivals, rules_,
                                                    scenario_.venue_type_index("festival"), ward_names,
                                                    world_.residents, tally_, festival_attendance_, events_, key_));
  if (!scenario_.esol_courses.empty())
    scheduler_.add(std::make_unique<EsolPhase>(scenario_.esol, scenario_.esol_courses, rules_,
                                               scenario_.venue_type_index("esol_class"), ward_names,
                                               world_.residents, tally_, esol_, events_, key_));
  scheduler_.add(std::make_unique<FriendshipsPhase>(scenario_.friendships, scenario_.attitude, friendships_,
                                                    world_.residents));
  if (!scenario_.media_shocks.empty() || !scenario_.myth_busting.empty()) {
    HasFriendIn has_friend_in;
    if (scenario_.friendships.enabled)
      has_friend_in = [this](std::uint32_t i, int g) { return friendships_.has_friend_in(i, g); };
    scheduler_.add(std::make_unique<MediaPhase>(scenario_.media, scenario_.media_shocks, scenario_.myth_busting,
                                                has_friend_in, group_names, ward_names, world_.residents, events_,
                                                key_));
  }
  if (scenario_.tension.enabled)
    scheduler_.add(std::make_unique<TensionPhase>(scenario_.tension, world_.residents, tension_, key_));
  scheduler_.add(std::make_unique<NormsPhase>(scenario_.norms, world_.residents,
                                              static_cast<int>(scenario_.wards.size())));
  if (scenario_.mobility.enabled) {
    Demography d;
    for (const auto& g : scenario_.groups) {
      d.groups.push_back({g.english_mean, g.english_sd, g.anxiety_mean, g.anxiety_sd, g.warmth, g.warmth_sd,
                          g.faith_shares});
      d.migration.push_back(g.migration);
    }
    for (const auto& f : scenario_.faiths) d.faith_attendance.push_back(f.attendance);
    d.warmth_correlation = scenario_.population.warmth_correlation;
    auto mobility = std::make_unique<MobilityPhase>(
        scenario_.mobility, std::move(d), scenario_.venue_types, world_.residents, world_.venues, world_.block_ward,
        static_cast<int>(scenario_.wards.size()), key_, std::span<float>(tension_.knowledge));
    mobility_ = mobility.get();
    scheduler_.add(std::move(mobility));
  }
  if (options.check_invariants || invariants_checked_by_default())
    invariants_ = std::make_unique<InvariantChecker>(InvariantInputs{
        world_.residents, world_.venues, world_.block_ward, scenario_.venue_types, &sessions_,
        scenario_.tension.enabled ? &tension_ : nullptr, scenario_.friendships.enabled ? &friendships_ : nullptr,
        mobility_, group_names, ward_names});
}

Simulation::Simulation(Scenario scenario, const std::filesystem::path& checkpoint, const RunOptions& options)
    : Simulation(
          [&] {
            // The cheap checks first, before the (possibly long) world build.
            check_checkpoint_scenario(checkpoint, scenario, options);
            return std::move(scenario);
          }(),
          options) {
  restore_checkpoint(checkpoint);
}

void Simulation::attach(Recorder& recorder) {
  // Every front end attaches here: refuse an output its disk cannot hold before writing to it.
  check_output_space(scenario_, recorder.path(), end_);
  recorder_ = &recorder;
  write_provenance(recorder, *this);
  metrics_.define_series(recorder);
  if (snapshots_.enabled())
    snapshots_.define(recorder, static_cast<int>(scenario_.groups.size()), scenario_.friendships.enabled,
                      scenario_.tension.enabled);
  // A restored run's output starts with the checkpointed run's records, unless days were
  // simulated before recording began (their records are lost, as for any late attach).
  if (history_ && restored_after_ && today_ == *restored_after_ + 1) {
    if (announce_restore_) {
      recorder.set_attribute("restored_from", restored_from_.string());
      recorder.set_attribute("restored_after", restored_after_->iso());
    }
    replay_record_history(recorder, *history_, metrics_.defined_series(), restored_from_);
  }
  history_.reset();
}

void Simulation::checkpoint_at(Date date, std::filesystem::path path) {
  if (date < today_ || date > end_)
    throw std::invalid_argument("cannot checkpoint at the end of " + date.iso() + ": expected a day from " +
                                today_.iso() + " to " + end_.iso());
  checkpoint_at_.emplace(date, std::move(path));
}

void Simulation::end_at(Date date) {
  if (date < today_)
    throw std::invalid_argument("cannot end the run on " + date.iso() + ": it is already simulated (the next day is " +
                                today_.iso() + ")");
  end_ = std::min(date, scenario_.simulation.end);
  if (recorder_) recorder_->set_attribute("end_date", end_.iso());
}

int Simulation::step(int days) {
  omp_set_num_threads(threads_);
  int done = 0;
  while (done < days && !finished()) {
    simulate_day();
    ++done;
  }
  return done;
}

void Simulation::run(const std::function<void(Date)>& progress) {
  omp_set_num_threads(threads_);
  while (!finished()) {
    simulate_day();
    if (progress) progress(today_ + -1);
  }
}

void Simulation::simulate_day() {
  const Day day{today_, today_ - scenario_.simulation.start};
  if (invariants_) invariants_->before_day();
  scheduler_.run_day(day);
  forget_replaced_residents();
  if (invariants_) invariants_->after_day(day);
  if (recorder_ && snapshots_.enabled() &&
      snapshot_due(today_, scenario_.simulation.start, end_, scenario_.record.agents.interval))
    write_snapshot();
  attendances_ += sessions_.attendances;
  const bool last = today_ == end_;
  const bool closes = closes_period(today_, scenario_.simulation.start, scenario_.record.interval);
  if (closes) close_period(last);
  // After the day's regular record and before a final one forced by the run's end: a run
  // restored from the checkpoint then continues the open period as an uninterrupted run would.
  if (checkpoint_at_ && checkpoint_at_->first == today_) {
    write_checkpoint(checkpoint_at_->second, today_);
    checkpoint_at_.reset();
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
    if (last) recorder_->mark_complete();
    recording_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  } else {
    events_.clear();
    metrics_.discard_period();
  }
}

// A slot whose resident left (or died) now holds a newcomer (or a newborn): mechanisms that keep
// lists of residents must forget the previous occupant.
void Simulation::forget_replaced_residents() {
  if (!mobility_) return;
  const std::vector<std::uint32_t> replaced = mobility_->take_replaced();
  if (replaced.empty()) return;
  friendships_.forget(replaced);
  esol_.forget(replaced);
  if (programmes_) programmes_->forget(replaced);
  if (scenario_.tension.enabled) {
    // Slots are re-used by newcomers (and newborns): they start with newcomers' knowledge.
    std::vector<double> knowledge;
    for (const auto& g : scenario_.groups) knowledge.push_back(g.migration.newcomer_knowledge);
    reinitialise_residents(tension_, world_.residents, replaced, knowledge, scenario_.tension);
  }
  for (const std::uint32_t i : replaced) world_.residents.last_intergroup_contact[i] = -1;
}

void Simulation::write_snapshot() {
  const auto started = std::chrono::steady_clock::now();
  snapshots_.write(*recorder_, today_, world_.residents, scenario_.friendships.enabled ? &friendships_ : nullptr,
                   scenario_.tension.enabled ? &tension_ : nullptr);
  recording_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

void Simulation::write_events() {
  for (const Event& e : events_) recorder_->log_event(e.date.iso(), e.kind, e.subject, e.detail, e.venues);
  events_.clear();
}

std::int64_t Simulation::intergroup_encounters() const {
  return encounters_->intergroup_encounters();
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
