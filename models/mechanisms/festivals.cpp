#include "models/mechanisms/festivals.hpp"
#include "core/archive.hpp"
#include "core/text.hpp"
#include "models/city/world.hpp"
#include "models/mechanisms/settings.hpp"
#include "models/run/scenario.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>

namespace contactsim {
namespace {

// Random-stream purposes of this module (DESIGN §6), from the 340–380 range it shares with other
// timeline programmes; declared as ranges in its registry entry (festivals_mechanism, below).
constexpr Purpose kFestivalAttendance = 340;  // entity = resident; draw k = the k-th festival today
constexpr Purpose kFestivalEncounter = 344;   // + group (344–359); entity = festival << 20 | crowd
constexpr std::uint32_t kMaxCrowds = 1u << 20;

std::vector<double> read_appeal(const ConfigTable& item, const std::vector<std::string>& groups) {
  std::vector<double> appeal(groups.size(), 1.0);
  const auto table = item.optional_table("appeal");
  if (!table) return appeal;
  for (const auto& name : table->keys()) {
    const int g = index_of(groups, name);
    if (g < 0) table->fail(name, "unknown group " + in_quotes(name) + "; expected one of " + list_of(groups));
    appeal[g] = table->number(name, 1.0, 0, std::numeric_limits<double>::max());
  }
  if (std::none_of(appeal.begin(), appeal.end(), [](double a) { return a > 0; }))
    item.fail("appeal", "expected at least one group with a positive appeal");
  return appeal;
}

bool in_scope(const FestivalSpec& f, Date today) { return today >= f.date && today - f.date < f.days; }

}  // namespace

FestivalSpec read_festival(const ConfigTable& item, Date start, Date end, const std::vector<std::string>& groups,
                           const std::vector<std::string>& wards,
                           const std::vector<std::vector<std::int64_t>>& unscaled_counts, double population_scale) {
  FestivalSpec f;
  f.label = item.string("label", "");
  f.date = item.required_date("date");
  if (const std::string outside = outside_run(f.date, start, end); !outside.empty()) item.fail("date", outside);
  f.days = static_cast<int>(item.integer("days", 1, 1, 366));
  if (item.has("ward")) {
    const std::string ward = item.required_string("ward");
    f.ward = index_of(wards, ward);
    if (f.ward < 0) item.fail("ward", "unknown ward " + in_quotes(ward) + "; expected a name from [wards]");
  }
  f.appeal = read_appeal(item, groups);
  const double expected = item.required_number("expected_attendance", 0, std::numeric_limits<double>::max());

  // Who could come: residents of the ward (or city) in groups the festival appeals to.
  std::int64_t eligible = 0;
  for (std::size_t w = 0; w < unscaled_counts.size(); ++w)
    if (f.ward < 0 || static_cast<int>(w) == f.ward)
      for (std::size_t g = 0; g < groups.size() && g < unscaled_counts[w].size(); ++g)
        if (f.appeal[g] > 0) eligible += unscaled_counts[w][g];
  if (expected > static_cast<double>(eligible)) {
    const std::string where = f.ward < 0 ? "in the city" : "in " + wards[f.ward];
    item.fail("expected_attendance", "expected at most the " + std::to_string(eligible) + " residents " + where +
                                         " of groups with a positive appeal, got " +
                                         std::to_string(static_cast<std::int64_t>(std::llround(expected))));
  }
  f.expected_attendance = expected * population_scale;
  return f;
}

// Water-filling: the k largest weights are capped at probability 1 and the rest scaled by c, for
// the smallest k whose c leaves the largest uncapped weight at or below probability 1.
double attendance_scale(std::vector<double> weights, double expected) {
  if (expected <= 0) return 0.0;
  std::sort(weights.begin(), weights.end(), std::greater<>());
  while (!weights.empty() && weights.back() <= 0) weights.pop_back();
  const std::size_t n = weights.size();
  if (expected >= static_cast<double>(n)) return std::numeric_limits<double>::infinity();
  std::vector<double> tail(n + 1, 0.0);  // tail[k] = Σ_{i ≥ k} w_i, summed smallest first
  for (std::size_t k = n; k-- > 0;) tail[k] = tail[k + 1] + weights[k];
  for (std::size_t k = 0; k < n; ++k) {
    const double c = (expected - static_cast<double>(k)) / tail[k];
    if (c * weights[k] <= 1.0) return c;
  }
  return std::numeric_limits<double>::infinity();
}

FestivalsPhase::FestivalsPhase(const FestivalSettings& settings, std::vector<FestivalSpec> festivals,
                               const EncounterRules& rules, int venue_type, std::vector<std::string> ward_names,
                               Residents& residents, ContactTally& tally, FestivalAttendance& attendance,
                               EventLog& log, StreamKey key)
    : params_(settings.params),
      enabled_(settings.enabled),
      festivals_(std::move(festivals)),
      rules_(rules),
      ward_names_(std::move(ward_names)),
      residents_(residents),
      tally_(tally),
      attendance_(attendance),
      log_(log),
      key_(key) {
  if (venue_type < 0 || venue_type >= tally.venue_types)
    throw std::invalid_argument("FestivalsPhase: venue_type " + std::to_string(venue_type) +
                                " is not a column of the contact tally");
  if (attendance.attended.size() != static_cast<std::size_t>(tally.wards) * residents.num_groups)
    throw std::invalid_argument("FestivalsPhase: attendance is not sized (wards × groups)");
  setting_.encounters = params_.encounters;
  setting_.homophily = params_.homophily;
  setting_.quality = params_.quality;
  setting_.depth = static_cast<float>(params_.depth);
  setting_.venue_type = venue_type;
  setting_.stable = false;  // a one-day crowd: acquaintances, not friendships
  thread_counts_.resize(static_cast<std::size_t>(omp_get_max_threads()));
  for (auto& t : thread_counts_) t.resize_like(tally);
}

void FestivalsPhase::run(const Day& day) {
  if (!enabled_) return;
  int ordinal = 0;
  for (std::size_t k = 0; k < festivals_.size(); ++k) {
    if (!in_scope(festivals_[k], day.date)) continue;
    if (at_festival_.size() != residents_.size()) at_festival_.assign(residents_.size(), 0);
    const std::vector<std::uint32_t> attendees = draw_attendees(day, k, ordinal++);
    for (std::uint32_t i : attendees)
      ++attendance_.attended[static_cast<std::size_t>(residents_.ward[i]) * residents_.num_groups + residents_.group[i]];
    run_crowds(day, k, attendees);
    const FestivalSpec& f = festivals_[k];
    log_.push_back({day.date, "festival", f.label.empty() ? (f.ward < 0 ? "city" : ward_names_[f.ward]) : f.label,
                    std::to_string(attendees.size()) + " attended", 0});
  }
  if (ordinal > 0) std::fill(at_festival_.begin(), at_festival_.end(), 0);
}

std::vector<std::uint32_t> FestivalsPhase::draw_attendees(const Day& day, std::size_t index, int ordinal) {
  const FestivalSpec& f = festivals_[index];
  const std::size_t n = residents_.size();
  // Weights from this morning's anxiety, serially in id order (c must not depend on threads).
  std::vector<double> weight(n, 0.0), positive_weights;
  for (std::size_t i = 0; i < n; ++i) {
    if ((f.ward >= 0 && residents_.ward[i] != f.ward) || at_festival_[i]) continue;
    weight[i] = f.appeal[residents_.group[i]] * (1.0 - params_.crowd_avoidance * residents_.anxiety[i]);
    if (weight[i] > 0) positive_weights.push_back(weight[i]);
  }
  const double c = attendance_scale(std::move(positive_weights), f.expected_attendance);

  std::vector<std::uint8_t> attends(n, 0);
#pragma omp parallel for schedule(static, 4096)
  for (std::size_t i = 0; i < n; ++i) {
    if (weight[i] <= 0) continue;
    RandomStream rng(key_, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(day.index), kFestivalAttendance);
    for (int skip = 0; skip < ordinal; ++skip) rng.uniform();
    attends[i] = rng.uniform() < c * weight[i];
  }
  std::vector<std::uint32_t> attendees;
  for (std::size_t i = 0; i < n; ++i)
    if (attends[i]) {
      attendees.push_back(static_cast<std::uint32_t>(i));
      at_festival_[i] = 1;
    }
  // Neighbours together: block order, ties by id (stable sort of an id-ordered list).
  std::stable_sort(attendees.begin(), attendees.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return residents_.block[a] < residents_.block[b]; });
  return attendees;
}

void FestivalsPhase::run_crowds(const Day& day, std::size_t index, const std::vector<std::uint32_t>& attendees) {
  const std::size_t n = attendees.size();
  if (n < 2) return;
  const auto crowds = static_cast<std::int64_t>(
      std::max<double>(1.0, std::round(static_cast<double>(n) / params_.crowd_size)));
  if (static_cast<std::uint64_t>(crowds) >= kMaxCrowds || index >= (1u << 12))
    throw std::length_error("FestivalsPhase: too many crowds or festivals for the stream entity layout");
  const int groups = residents_.num_groups;
#pragma omp parallel
  {
    ContactCounts& mine = thread_counts_[static_cast<std::size_t>(omp_get_thread_num())];
    std::vector<std::uint32_t> members;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t c = 0; c < crowds; ++c) {
      const std::size_t first = static_cast<std::size_t>(c) * n / static_cast<std::size_t>(crowds);
      const std::size_t last = static_cast<std::size_t>(c + 1) * n / static_cast<std::size_t>(crowds);
      members.assign(attendees.begin() + static_cast<std::ptrdiff_t>(first),
                     attendees.begin() + static_cast<std::ptrdiff_t>(last));
      const GroupOffsets group_begin = sort_by_group(residents_, members);
      const auto entity = static_cast<std::uint32_t>((index << 20) | static_cast<std::size_t>(c));
      run_encounter_session(rules_, setting_, residents_, tally_, members,
                            std::span<const std::uint32_t>(group_begin.data(), groups + 1), key_, entity,
                            static_cast<std::uint32_t>(day.index), kFestivalEncounter, mine);
    }
  }
  // Integer tallies: exact in any merge order.
  for (auto& t : thread_counts_) {
    t.add_to(tally_);
    t.encounters = 0;
  }
}

// ---- the mechanism ----------------------------------------------------------------------------
namespace {

struct FestivalsConfig final : SettingsConfig<"festivals", FestivalParams, kFestivalParams> {
  std::vector<FestivalSpec> festivals;
  // Only a scenario that has items gets the column, as before the registry.
  std::vector<std::string> contact_columns() const override {
    if (festivals.empty()) return {};
    return {"festival"};
  }
  std::vector<SeriesSpec> series() const override {
    return {{"festival_attendance", {"ward", "group"}, SeriesType::int64, "Festival attendances during the period",
             "visits"}};
  }
};

class FestivalsMechanism final : public Mechanism {
 public:
  FestivalsMechanism(const FestivalsConfig& config, MechanismContext& c)
      : attendance_(sized(c.scenario)),
        phase_(config.settings, config.festivals, c.rules, c.scenario.venue_type_index("festival"),
               c.scenario.ward_names(), c.world.residents, c.tally, attendance_, c.events, c.key) {}
  const char* name() const override { return phase_.name(); }
  void run(const Day& day) override { phase_.run(day); }
  // The attendance of the open period (the phase itself keeps nothing between days).
  void save(StateWriter& out) const override { out.write("festival_attendance", attendance_.attended); }
  void restore(const StateReader& in) override { in.read_into("festival_attendance", attendance_.attended); }
  void record(SeriesWriter& out) override { out.write(attendance_.take()); }

 private:
  static FestivalAttendance sized(const Scenario& s) {
    FestivalAttendance a;
    a.resize(static_cast<int>(s.wards.size()), static_cast<int>(s.groups.size()));
    return a;
  }
  FestivalAttendance attendance_;  // before phase_, which fills it
  FestivalsPhase phase_;
};

}  // namespace

MechanismEntry festivals_mechanism() {
  return {"festivals", {"festival"}, {{kFestivalAttendance, kFestivalAttendance}, {kFestivalEncounter, kFestivalEncounter + kMaxGroups - 1}},
          [](const MechanismReading& r) -> std::shared_ptr<const MechanismConfig> {
            const Scenario& s = r.city();
            auto config = read_settings_of<FestivalsConfig>(r);
            for (const auto& [index, item] : r.items({"festival"}))
              config->festivals.push_back(read_festival(item, s.simulation.start, s.simulation.end, s.group_names(),
                                                        s.ward_names(), s.population.unscaled_counts,
                                                        s.population.scale));
            return config;
          },
          describe_settings<FestivalsConfig>,
          [](const MechanismConfig& config, MechanismContext& c) -> std::unique_ptr<Mechanism> {
            const auto& festivals = config_as<FestivalsConfig>(config);
            if (festivals.festivals.empty()) return nullptr;
            return std::make_unique<FestivalsMechanism>(festivals, c);
          },
          4};
}

}  // namespace contactsim
