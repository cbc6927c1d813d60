#include "models/attendance.hpp"

#include "models/purposes.hpp"

#include <algorithm>

namespace contactsim {

AttendancePhase::AttendancePhase(const AttendanceSettings& settings, const std::vector<VenueType>& types,
                                 const Residents& residents, const Venues& venues, StreamKey key,
                                 DailySessions& sessions)
    : params_(settings.params),
      enabled_(settings.enabled),
      types_(types),
      residents_(residents),
      venues_(venues),
      key_(key),
      sessions_(sessions) {
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
    sessions_.index[s].build(sessions_.venue_of[s], residents_.group, static_cast<std::int32_t>(venues_.size()),
                             residents_.num_groups);
    admit_within_capacity(day, s);
    sessions_.attendances += static_cast<std::int64_t>(sessions_.index[s].attendees());
  }
}

void AttendancePhase::choose_venues(const Day& day) {
  const unsigned weekday = day.date.weekday();
  const std::size_t n = residents_.size();
  const int groups = residents_.num_groups;
  const float avoidance = enabled_ ? static_cast<float>(params_.avoidance) : 0.0f;

#pragma omp parallel for schedule(static, 4096)
  for (std::size_t i = 0; i < n; ++i) {
    RandomStream rng(key_, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(day.index), purpose::kAttendance);
    const int age = residents_.age_band[i];
    const int group = residents_.group[i];
    const float anxiety = residents_.anxiety[i];
    for (int s = 0; s < kNumSlots; ++s) {
      std::int32_t chosen = SessionIndex::kNone;
      if (enabled_) {
        // One draw per slot chooses among the slot's venue types by their probabilities.
        const double u = rng.uniform();
        double cumulative = 0;
        for (int t : types_in_slot_[s]) {
          const VenueType& type = types_[t];
          const std::int32_t v = residents_.member_venue(i, t);
          if (v < 0 || !venues_.open[v] || !type.open_on(weekday)) continue;
          const float outgroup_share = 1.0f - venues_.member_group_share[static_cast<std::size_t>(v) * groups + group];
          const double p = static_cast<double>(type.visits_per_week[age]) / type.sessions_per_week() *
                           (1.0f - avoidance * anxiety * outgroup_share);
          cumulative += p;
          if (u < cumulative) {
            chosen = v;
            break;
          }
        }
      }
      sessions_.venue_of[s][i] = chosen;
    }
  }
}

void AttendancePhase::admit_within_capacity(const Day& day, int slot) {
  SessionIndex& index = sessions_.index[slot];
  std::vector<std::int32_t>& venue_of = sessions_.venue_of[slot];
  bool turned_away = false;
  for (std::int32_t v : sessions_.venues_in_slot[slot]) {
    const std::int32_t capacity = venues_.capacity[v];
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

}  // namespace contactsim
