#include "models/mechanisms/attendance.hpp"
#include "models/city/world.hpp"
#include "models/mechanisms/settings.hpp"
#include "models/run/scenario.hpp"

#include "models/city/purposes.hpp"

#include <algorithm>

namespace contactsim {

AttendancePhase::AttendancePhase(const AttendanceSettings& settings, const std::vector<VenueType>& types,
                                 const Residents& residents, const Venues& venues, StreamKey key,
                                 DailySessions& sessions, VenueActivity& activity)
    : params_(settings.params),
      enabled_(settings.enabled),
      types_(types),
      residents_(residents),
      venues_(venues),
      key_(key),
      sessions_(sessions),
      activity_(activity) {
  activity_.resize(venues.size());
  for (int t = 0; t < static_cast<int>(types.size()); ++t)
    types_in_slot_[static_cast<int>(types[t].slot)].push_back(t);
  for (int s = 0; s < kNumSlots; ++s) {
    sessions_.venue_of[s].assign(residents.size(), SessionIndex::kNone);
    sessions_.venues_in_slot[s].clear();
    for (std::size_t v = 0; v < venues.size(); ++v)
      if (types[venues.type[v]].slot == static_cast<Slot>(s))
        sessions_.venues_in_slot[s].push_back(static_cast<std::int32_t>(v));
  }
}

void AttendancePhase::run(const Day& day) {
  choose_venues(day);
  sessions_.attendances = 0;
  for (int s = 0; s < kNumSlots; ++s) {
    sessions_.index[s].place(sessions_.venue_of[s], residents_.group);  // counted by choose_venues
    admit_within_capacity(day, s);
    sessions_.attendances += static_cast<std::int64_t>(sessions_.index[s].attendees());
    count_activity(day, s);
  }
}

namespace {

// What a slot offers today: the venue types open on this weekday, each with the chance per open
// session that a member of a given age band comes (visits per week / sessions per week).
struct SlotPlan {
  int types = 0;
  std::array<int, 64> type{};
  std::array<std::array<float, kNumAgeBands>, 64> chance{};
  std::array<std::uint8_t, 64> fear_sensitive{};
  // Upper bound of the cumulative chance per age band (every factor that lowers it at 1): a draw
  // at or above it chooses nothing, whoever the resident is.
  std::array<float, kNumAgeBands> ceiling{};
};

SlotPlan plan_slot(const std::vector<int>& types_in_slot, const std::vector<VenueType>& types, unsigned weekday) {
  SlotPlan plan;
  for (int t : types_in_slot) {
    const VenueType& type = types[t];
    if (!type.open_on(weekday)) continue;
    plan.type[plan.types] = t;
    plan.fear_sensitive[plan.types] = type.fear_sensitive;
    for (int a = 0; a < kNumAgeBands; ++a)
      plan.chance[plan.types][a] = type.visits_per_week[a] / static_cast<float>(type.sessions_per_week());
    ++plan.types;
  }
  // Summed in the residents' order, so the bound holds in float arithmetic too: each resident's
  // term is this chance times factors in [0, 1], and rounding is monotone.
  for (int a = 0; a < kNumAgeBands; ++a)
    for (int k = 0; k < plan.types; ++k) plan.ceiling[a] += plan.chance[k][a];
  return plan;
}

}  // namespace

void AttendancePhase::choose_venues(const Day& day) {
  const std::size_t n = residents_.size();
  const int groups = residents_.num_groups;
  const int venue_types = residents_.num_venue_types;
  const float avoidance = static_cast<float>(params_.avoidance);
  std::array<SlotPlan, kNumSlots> plans;
  for (int s = 0; s < kNumSlots; ++s)
    plans[s] = enabled_ ? plan_slot(types_in_slot_[s], types_, day.date.weekday()) : SlotPlan{};

  const Strided<const std::uint8_t> age_band = residents_.age_band.strided();
  const std::uint8_t* __restrict group = residents_.group.data();
  const Strided<const float> anxiety = residents_.anxiety.strided();
  const std::int32_t* __restrict membership = residents_.membership.data();
  const Strided<const std::uint16_t> ward = residents_.ward.strided();
  const float* safety = ward_safety_.empty() ? nullptr : ward_safety_.data();
  const std::uint8_t* __restrict open_days = venues_.open_days.data();
  const unsigned weekday = day.date.weekday();
  const float* __restrict share = venues_.member_group_share.data();
  std::array<std::int32_t* __restrict, kNumSlots> venue_of{};
  for (int s = 0; s < kNumSlots; ++s) venue_of[s] = sessions_.venue_of[s].data();

  // Each slot's session index counts the attendees of a chunk of residents as they choose, so
  // building it needs no counting pass of its own; the chunks are the index's, one per thread.
  std::array<SessionIndex*, kNumSlots> index{};
  for (int s = 0; s < kNumSlots; ++s) {
    index[s] = &sessions_.index[s];
    index[s]->start_counting(n, static_cast<std::int32_t>(venues_.size()), groups);
  }
  const std::size_t chunks = index[0]->chunks();

  const RandomStream::PreparedKey key(key_);
  // A resident's three draws are the first three numbers of its own stream. They are made for a
  // run of residents at a time, with no branch between them, so the processor overlaps their
  // Philox rounds; the choices, whose branches follow the draws, come after.
  constexpr std::size_t kRun = 64;
#pragma omp parallel for schedule(static)
  for (std::size_t c = 0; c < chunks; ++c) {
    const std::size_t chunk_end = index[0]->chunk_begin(c + 1);
    std::array<std::uint32_t* __restrict, kNumSlots> attendees{};  // per (venue, group), this chunk's
    for (int s = 0; s < kNumSlots; ++s) attendees[s] = index[s]->histogram(c);
    for (std::size_t first = index[0]->chunk_begin(c); first < chunk_end; first += kRun) {
      const std::size_t last = std::min(chunk_end, first + kRun);
      std::array<std::array<std::uint32_t, 4>, kRun> draws;
      for (std::size_t i = first; i < last; ++i)
        draws[i - first] = RandomStream::first_four(key, static_cast<std::uint32_t>(i),
                                                    static_cast<std::uint32_t>(day.index), purpose::kAttendance);
      for (std::size_t i = first; i < last; ++i) {
        const int age = age_band[i];
        const int g = group[i];
        const float shyness = avoidance * anxiety[i];
        const float safe = safety ? safety[ward[i]] : 1.0f;
        const std::int32_t* mine = membership + i * venue_types;
        for (int s = 0; s < kNumSlots; ++s) {
          const SlotPlan& plan = plans[s];
          // The draw is made even when nothing is open, so a slot's numbers never depend on another's.
          const float u = static_cast<float>(static_cast<double>(draws[i - first][s]) * 0x1p-32);
          std::int32_t chosen = SessionIndex::kNone;
          // Most resident-slots draw above every chance they could have: nothing to evaluate.
          if (u < plan.ceiling[age]) {
            // The first type whose cumulative chance exceeds u wins.
            float cumulative = 0;
            for (int k = 0; k < plan.types; ++k) {
              const std::int32_t v = mine[plan.type[k]];
              if (v < 0 || !((open_days[v] >> weekday) & 1u)) continue;
              const std::size_t cell = static_cast<std::size_t>(v) * groups + g;
              // The cell's attendee counter is as scattered as its share: ask for both at once.
              __builtin_prefetch(&attendees[s][cell], 1);
              const float outgroup_share = 1.0f - share[cell];
              const float fear = plan.fear_sensitive[k] ? safe : 1.0f;
              cumulative += fear * plan.chance[k][age] * (1.0f - shyness * outgroup_share);
              if (u < cumulative) {
                chosen = v;
                break;
              }
            }
          }
          venue_of[s][i] = chosen;
          if (chosen != SessionIndex::kNone) ++attendees[s][static_cast<std::size_t>(chosen) * groups + g];
        }
      }
    }
  }
}

void AttendancePhase::count_activity(const Day& day, int slot) {
  const unsigned weekday = day.date.weekday();
  const SessionIndex& index = sessions_.index[slot];
  for (std::int32_t v : sessions_.venues_in_slot[slot]) {
    activity_.sessions[v] += (venues_.open_days[v] >> weekday) & 1u;
    activity_.attendances[v] += index.size(v);
  }
}

void AttendancePhase::admit_within_capacity(const Day& day, int slot) {
  SessionIndex& index = sessions_.index[slot];
  std::vector<std::int32_t>& venue_of = sessions_.venue_of[slot];
  bool turned_away = false;
  for (std::int32_t v : sessions_.venues_in_slot[slot]) {
    const std::int32_t capacity = venues_.session_capacity[v];
    const auto members = index.members(v);
    if (capacity <= 0 || members.size() <= static_cast<std::size_t>(capacity)) continue;
    // Admit a uniformly random subset of `capacity`: partial Fisher–Yates over a copy.
    std::vector<std::uint32_t> queue(members.begin(), members.end());
    RandomStream rng(key_, static_cast<std::uint32_t>(v), static_cast<std::uint32_t>(day.index),
                     purpose::kAdmission + static_cast<Purpose>(slot));
    for (std::uint32_t k = 0; k < static_cast<std::uint32_t>(capacity); ++k)
      std::swap(queue[k], queue[k + rng.below(static_cast<std::uint32_t>(queue.size()) - k)]);
    for (std::size_t k = static_cast<std::size_t>(capacity); k < queue.size(); ++k)
      venue_of[queue[k]] = SessionIndex::kNone;
    turned_away = true;
  }
  if (turned_away)
    index.build(venue_of, residents_.group, static_cast<std::int32_t>(venues_.size()), residents_.num_groups);
}

namespace {
struct AttendanceConfig final : SettingsConfig<"attendance", AttendanceParams, kAttendanceParams> {
};

class AttendanceMechanism final : public Mechanism {
 public:
  AttendanceMechanism(const AttendanceConfig& config, MechanismContext& c)
      : phase_(config.settings, c.scenario.venue_types, c.world.residents, c.world.venues, c.key, sessions_,
               c.links.need<VenueActivity>("venue_activity", "attendance")) {
    c.links.publish("daily_sessions", sessions_);
  }
  void connect(const Links& links) override {
    if (const auto* safety = links.find<std::vector<float>>("ward_safety")) phase_.use_ward_safety(*safety);
  }
  const char* name() const override { return phase_.name(); }
  void run(const Day& day) override { phase_.run(day); }
  void save(StateWriter& out) const override { phase_.save(out); }
  void restore(const StateReader& in) override { phase_.restore(in); }

 private:
  DailySessions sessions_;  // before phase_, which fills them
  AttendancePhase phase_;
};
}  // namespace

MechanismEntry attendance_mechanism() {
  return {"attendance", {}, {{purpose::kAttendance, purpose::kAdmission}},
          read_settings<AttendanceConfig>,
          describe_settings<AttendanceConfig>,
          build_mechanism<AttendanceMechanism, AttendanceConfig>};
}

}  // namespace contactsim
