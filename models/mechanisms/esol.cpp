#include "models/mechanisms/esol.hpp"
#include "core/text.hpp"
#include "models/city/world.hpp"
#include "models/mechanisms/settings.hpp"
#include "models/run/scenario.hpp"

#include "core/archive.hpp"

#include "models/mechanisms/tension.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace contactsim {
namespace {

// Random-stream purposes of this module (DESIGN §6), from the 340–380 range it shares with other
// timeline programmes; declared as ranges in its registry entry (esol_mechanism, below).
constexpr Purpose kEsolApplication = 341;  // entity = resident, day word = course index: applies?, priority
constexpr Purpose kEsolDropout = 342;      // entity = resident, day: one draw per learner per day
constexpr Purpose kEsolEncounter = 360;    // + group (360–375); entity = course << 16 | class

constexpr double kDaysPerMonth = 365.25 / 12.0;

int class_count(int seats, double class_size) {
  return std::max(1, static_cast<int>(std::ceil(seats / class_size)));
}

}  // namespace

EsolCourse read_esol_course(const ConfigTable& item, Date start, Date end, const std::vector<std::string>& wards,
                            double population_scale) {
  EsolCourse c;
  c.label = item.string("label", "");
  c.start = item.required_date("start");
  if (const std::string outside = outside_run(c.start, start, end); !outside.empty()) item.fail("start", outside);
  c.end = item.required_date("end");
  if (c.end < c.start) item.fail("end", "expected a date on or after start (" + c.start.iso() + "), got " + c.end.iso());
  if (item.has("ward")) {
    const std::string ward = item.required_string("ward");
    c.ward = index_of(wards, ward);
    if (c.ward < 0) item.fail("ward", "unknown ward " + in_quotes(ward) + "; expected a name from [wards]");
  }
  const std::int64_t seats = item.required_integer("seats", 1, 1'000'000);
  c.seats = std::max(1, static_cast<int>(std::llround(static_cast<double>(seats) * population_scale)));
  c.sessions_per_week = static_cast<int>(item.required_integer("sessions_per_week", 1, 7));
  return c;
}

std::uint8_t esol_session_days(int sessions_per_week) {
  // Bit 0 = Monday. Spread through the week, weekdays first (community classes).
  static constexpr std::array<std::uint8_t, 8> kMasks{0x00, 0x02, 0x0a, 0x15, 0x1b, 0x1f, 0x3f, 0x7f};
  if (sessions_per_week < 1 || sessions_per_week > 7)
    throw std::out_of_range("esol_session_days: sessions_per_week must be in [1, 7]");
  return kMasks[static_cast<std::size_t>(sessions_per_week)];
}

std::size_t EsolCourseState::learners() const {
  return static_cast<std::size_t>(std::count_if(seat.begin(), seat.end(), [](std::uint32_t i) { return i != kNoLearner; }));
}

void EsolState::forget(std::span<const std::uint32_t> replaced) {
  if (replaced.empty()) return;
  std::vector<std::uint32_t> gone(replaced.begin(), replaced.end());
  std::sort(gone.begin(), gone.end());
  const auto is_gone = [&](std::uint32_t i) { return std::binary_search(gone.begin(), gone.end(), i); };
  for (auto& course : courses) {
    for (auto& holder : course.seat)
      if (holder != kNoLearner && is_gone(holder)) holder = kNoLearner;
    // Keep the offered prefix's length consistent: count struck entries before next_waiting.
    std::size_t kept_offered = 0, kept = 0;
    for (std::size_t k = 0; k < course.waiting.size(); ++k) {
      if (is_gone(course.waiting[k])) continue;
      if (k < course.next_waiting) ++kept_offered;
      course.waiting[kept++] = course.waiting[k];
    }
    course.waiting.resize(kept);
    course.next_waiting = kept_offered;
  }
  for (std::uint32_t i : gone)
    if (i < enrolled.size()) enrolled[i] = 0;
}

std::vector<std::int64_t> esol_learners(const EsolState& state, const Residents& residents, int wards) {
  std::vector<std::int64_t> out(static_cast<std::size_t>(wards) * residents.num_groups, 0);
  for (const auto& course : state.courses)
    for (std::uint32_t i : course.seat)
      if (i != kNoLearner) ++out[static_cast<std::size_t>(residents.ward[i]) * residents.num_groups + residents.group[i]];
  return out;
}

std::vector<std::int64_t> esol_waiting(const EsolState& state, const Residents& residents, int wards) {
  std::vector<std::int64_t> out(static_cast<std::size_t>(wards) * residents.num_groups, 0);
  for (const auto& course : state.courses)
    for (std::size_t k = course.next_waiting; k < course.waiting.size(); ++k) {
      const std::uint32_t i = course.waiting[k];
      ++out[static_cast<std::size_t>(residents.ward[i]) * residents.num_groups + residents.group[i]];
    }
  return out;
}


EsolPhase::EsolPhase(const EsolSettings& settings, std::vector<EsolCourse> courses, const EncounterRules& rules,
                     int venue_type, std::vector<std::string> ward_names, Residents& residents, ContactTally& tally,
                     EsolState& state, EventLog& log, StreamKey key)
    : params_(settings.params),
      enabled_(settings.enabled),
      daily_dropout_(1.0 - std::pow(1.0 - settings.params.monthly_dropout, 1.0 / kDaysPerMonth)),
      courses_(std::move(courses)),
      rules_(rules),
      ward_names_(std::move(ward_names)),
      residents_(residents),
      tally_(tally),
      state_(state),
      log_(log),
      key_(key) {
  if (venue_type < 0 || venue_type >= tally.venue_types)
    throw std::invalid_argument("EsolPhase: venue_type " + std::to_string(venue_type) +
                                " is not a column of the contact tally");
  // Class sessions are keyed by course << 16 | class.
  if (courses_.size() >= (1u << 16)) throw std::length_error("EsolPhase: at most 65535 courses");
  for (const auto& course : courses_)
    if (class_count(course.seats, params_.class_size) >= (1 << 16))
      throw std::length_error("EsolPhase: a course has more than 65535 classes");
  setting_.encounters = params_.encounters;
  setting_.homophily = params_.homophily;
  setting_.quality = params_.quality;
  setting_.depth = static_cast<float>(params_.depth);
  setting_.venue_type = venue_type;
  setting_.stable = true;  // the same small class meets for months: friendships form
  state_.courses.assign(courses_.size(), EsolCourseState{});
  state_.enrolled.assign(residents.size(), 0);
  counts_.resize_like(tally);
}

void EsolPhase::run(const Day& day) {
  if (!enabled_) return;
  if (state_.enrolled.size() != residents_.size()) state_.enrolled.resize(residents_.size(), 0);
  for (std::size_t c = 0; c < courses_.size(); ++c) {
    const EsolCourse& course = courses_[c];
    EsolCourseState& s = state_.courses[c];
    if (s.ended) continue;
    if (day.date > course.end) {
      if (s.started) end_course(day, c);
      s.ended = true;
      continue;
    }
    if (day.date < course.start) continue;
    if (!s.started) start_course(day, c);
    release_leavers(day, c);
    fill_seats(c);
    if ((esol_session_days(course.sessions_per_week) >> day.date.weekday()) & 1u) hold_classes(day, c);
  }
  counts_.add_to(tally_);
  counts_.encounters = 0;
}

bool EsolPhase::eligible(std::uint32_t i, int ward) const {
  const auto band = static_cast<AgeBand>(residents_.age_band[i]);
  return (band == AgeBand::adult || band == AgeBand::older) && residents_.english[i] < params_.eligibility_threshold &&
         (ward < 0 || residents_.ward[i] == ward);
}

std::string EsolPhase::subject(std::size_t c) const {
  const EsolCourse& course = courses_[c];
  if (!course.label.empty()) return course.label;
  return course.ward < 0 ? "city" : ward_names_[course.ward];
}

// The waiting list: eligible residents who apply, in keyed random priority order.
void EsolPhase::start_course(const Day& day, std::size_t c) {
  const EsolCourse& course = courses_[c];
  EsolCourseState& s = state_.courses[c];
  s.started = true;
  s.seat.assign(static_cast<std::size_t>(course.seats), kNoLearner);
  std::vector<std::pair<double, std::uint32_t>> applicants;
  for (std::size_t k = 0; k < residents_.size(); ++k) {
    const auto i = static_cast<std::uint32_t>(k);
    if (!eligible(i, course.ward)) continue;
    RandomStream rng(key_, i, static_cast<std::uint32_t>(c), kEsolApplication);
    const bool applies = rng.uniform() < params_.interest;
    const double priority = rng.uniform();
    if (applies) applicants.emplace_back(priority, i);
  }
  std::sort(applicants.begin(), applicants.end());
  s.waiting.clear();
  for (const auto& a : applicants) s.waiting.push_back(a.second);
  s.next_waiting = 0;
  log_.push_back({day.date, "esol_course_start", subject(c),
                  std::to_string(course.seats) + " seats, " + std::to_string(s.waiting.size()) + " applicants", 0});
}

void EsolPhase::end_course(const Day& day, std::size_t c) {
  EsolCourseState& s = state_.courses[c];
  std::size_t learners = 0;
  for (auto& holder : s.seat)
    if (holder != kNoLearner) {
      state_.enrolled[holder] = 0;
      holder = kNoLearner;
      ++learners;
    }
  const std::size_t still_waiting = s.waiting_length();
  s.waiting.clear();
  s.next_waiting = 0;
  log_.push_back({day.date, "esol_course_end", subject(c),
                  std::to_string(learners) + " learners left, " + std::to_string(still_waiting) + " still waiting", 0});
}

// Completion (English reached the threshold) and dropout, decided on this morning's state.
void EsolPhase::release_leavers(const Day& day, std::size_t c) {
  EsolCourseState& s = state_.courses[c];
  for (auto& holder : s.seat) {
    if (holder == kNoLearner) continue;
    bool leaves = false;
    if (residents_.english[holder] >= params_.eligibility_threshold) {
      leaves = true;
      ++s.completed;
    } else {
      RandomStream rng(key_, holder, static_cast<std::uint32_t>(day.index), kEsolDropout);
      if (rng.uniform() < daily_dropout_) {
        leaves = true;
        ++s.dropped_out;
      }
    }
    if (leaves) {
      state_.enrolled[holder] = 0;
      holder = kNoLearner;
    }
  }
}

void EsolPhase::fill_seats(std::size_t c) {
  const EsolCourse& course = courses_[c];
  EsolCourseState& s = state_.courses[c];
  for (auto& holder : s.seat) {
    if (holder != kNoLearner) continue;
    while (s.next_waiting < s.waiting.size()) {
      const std::uint32_t i = s.waiting[s.next_waiting++];
      if (i < residents_.size() && !state_.enrolled[i] && eligible(i, course.ward)) {
        holder = i;
        state_.enrolled[i] = 1;
        break;
      }
    }
    if (s.next_waiting >= s.waiting.size()) break;
  }
}

// Every class meets: one encounter session among its learners, then each learner's English rises.
void EsolPhase::hold_classes(const Day& day, std::size_t c) {
  EsolCourseState& s = state_.courses[c];
  const int seats = static_cast<int>(s.seat.size());
  const int classes = class_count(seats, params_.class_size);
  const int groups = residents_.num_groups;
  std::vector<std::uint32_t> members;
  for (int k = 0; k < classes; ++k) {
    const auto first = static_cast<std::size_t>(static_cast<std::int64_t>(k) * seats / classes);
    const auto last = static_cast<std::size_t>(static_cast<std::int64_t>(k + 1) * seats / classes);
    members.clear();
    for (std::size_t seat = first; seat < last; ++seat)
      if (s.seat[seat] != kNoLearner) members.push_back(s.seat[seat]);
    const GroupOffsets group_begin = sort_by_group(residents_, members);
    const auto entity = static_cast<std::uint32_t>((c << 16) | static_cast<std::size_t>(k));
    run_encounter_session(rules_, setting_, residents_, tally_, members,
                          std::span<const std::uint32_t>(group_begin.data(), groups + 1), key_, entity,
                          static_cast<std::uint32_t>(day.index), kEsolEncounter, counts_);
    const auto gain = static_cast<float>(params_.english_gain);
    for (std::uint32_t i : members) residents_.english[i] += gain * (1.0f - residents_.english[i]);
  }
}


void EsolPhase::save(StateWriter& out) const {
  out.write("enrolled", state_.enrolled);
  StateWriter courses = out.child("courses");
  courses.scalar("count", state_.courses.size());
  for (std::size_t c = 0; c < state_.courses.size(); ++c) {
    const EsolCourseState& s = state_.courses[c];
    StateWriter course = courses.child(std::to_string(c));
    course.scalar("started", static_cast<int>(s.started));
    course.scalar("ended", static_cast<int>(s.ended));
    course.write("seat", s.seat);
    course.write("waiting", s.waiting);
    course.scalar("next_waiting", s.next_waiting);
    course.scalar("completed", s.completed);
    course.scalar("dropped_out", s.dropped_out);
  }
}

// Courses are matched by index: the checkpoint check has made sure every course started by the
// checkpoint's date is the same item in the same place. Courses beyond the checkpointed ones
// start later and keep their initial state; checkpointed courses this scenario lacks must not
// have started.
void EsolPhase::restore(const StateReader& in) {
  std::vector<std::uint8_t> enrolled = in.read<std::uint8_t>("enrolled");
  if (enrolled.size() > residents_.size())
    in.fail("enrolled", "holds " + std::to_string(enrolled.size()) + " residents, the city " +
                            std::to_string(residents_.size()));
  enrolled.resize(residents_.size(), 0);
  state_.enrolled = std::move(enrolled);
  const StateReader courses = in.child("courses");
  const auto count = courses.scalar<std::size_t>("count");
  for (std::size_t c = 0; c < count; ++c) {
    const StateReader course = courses.child(std::to_string(c));
    EsolCourseState s;
    s.started = course.scalar<int>("started") != 0;
    s.ended = course.scalar<int>("ended") != 0;
    s.seat = course.read<std::uint32_t>("seat");
    s.waiting = course.read<std::uint32_t>("waiting");
    s.next_waiting = course.scalar<std::size_t>("next_waiting");
    s.completed = course.scalar<std::int64_t>("completed");
    s.dropped_out = course.scalar<std::int64_t>("dropped_out");
    if (s.next_waiting > s.waiting.size()) course.fail("next_waiting", "lies beyond the waiting list");
    if (c < state_.courses.size())
      state_.courses[c] = std::move(s);
    else if (s.started)
      course.fail("", "is a course this scenario does not have, yet it had started");
  }
}

// ---- the mechanism ----------------------------------------------------------------------------
namespace {

struct EsolConfig final : SettingsConfig<"esol", EsolParams, kEsolParams> {
  std::vector<EsolCourse> courses;
  // Only a scenario that has items gets the column, as before the registry.
  std::vector<std::string> contact_columns() const override {
    if (courses.empty()) return {};
    return {"esol_class"};
  }
  std::vector<SeriesSpec> series() const override {
    return {{"esol_learners", {"ward", "group"}, SeriesType::int64,
             "Residents learning in an ESOL class at the period's end", "learners"},
            {"esol_waiting", {"ward", "group"}, SeriesType::int64,
             "Residents on an ESOL waiting list at the period's end", "residents"}};
  }
};

class EsolMechanism final : public Mechanism {
 public:
  EsolMechanism(const EsolConfig& config, MechanismContext& c)
      : residents_(c.world.residents),
        wards_(static_cast<int>(c.scenario.wards.size())),
        phase_(config.settings, config.courses, c.rules, c.scenario.venue_type_index("esol_class"),
               c.scenario.ward_names(), c.world.residents, c.tally, state_, c.events, c.key) {}
  const char* name() const override { return phase_.name(); }
  void run(const Day& day) override { phase_.run(day); }
  void save(StateWriter& out) const override { phase_.save(out); }
  void restore(const StateReader& in) override { phase_.restore(in); }
  void record(SeriesWriter& out) override {
    out.write(esol_learners(state_, residents_, wards_));
    out.write(esol_waiting(state_, residents_, wards_));
  }
  void forget(std::span<const std::uint32_t> replaced) override { state_.forget(replaced); }

 private:
  const Residents& residents_;
  int wards_;
  EsolState state_;  // before phase_, which fills it
  EsolPhase phase_;
};

}  // namespace

MechanismEntry esol_mechanism() {
  return {"esol", {"esol_course"}, {{kEsolApplication, kEsolDropout}, {kEsolEncounter, kEsolEncounter + kMaxGroups - 1}},
          [](const MechanismReading& r) -> std::shared_ptr<const MechanismConfig> {
            const Scenario& s = r.city();
            auto config = read_settings_of<EsolConfig>(r);
            for (const auto& [index, item] : r.items({"esol_course"}))
              config->courses.push_back(
                  read_esol_course(item, s.simulation.start, s.simulation.end, s.ward_names(), s.population.scale));
            return config;
          },
          describe_settings<EsolConfig>,
          [](const MechanismConfig& config, MechanismContext& c) -> std::unique_ptr<Mechanism> {
            const auto& esol = config_as<EsolConfig>(config);
            if (esol.courses.empty()) return nullptr;
            return std::make_unique<EsolMechanism>(esol, c);
          },
          5};
}

}  // namespace contactsim
