#pragma once
// Attendance (DESIGN §3.3): each day, per slot, each resident attends at most one session of a
// venue they belong to. For a member of an open venue of type τ,
//   p = visits_per_week(τ, age) / sessions_per_week(τ) × (1 − s · X · outgroup_share(venue))
// where the last factor is self-selection: anxious residents stay away from mixed venues
// (Stephan & Stephan 1985). When a slot offers several venue types one uniform draw chooses
// among them. Sessions over capacity admit a random subset.
#include "models/mechanisms/attendance_params.hpp"  // generated from attendance.params.toml: AttendanceParams, kAttendanceParams
#include "models/mechanisms/mechanism.hpp"
#include "core/params.hpp"
#include "core/rng.hpp"
#include "core/scheduler.hpp"
#include "core/session_index.hpp"
#include "models/city/state.hpp"
#include "models/city/venue_types.hpp"

#include <array>
#include <span>

namespace contactsim {

using AttendanceSettings = MechanismSwitch<AttendanceParams>;

// Today's sessions: who attends which venue, per slot, indexed by (venue, group).
struct DailySessions {
  std::array<std::vector<std::int32_t>, kNumSlots> venue_of;  // per resident, or -1
  std::array<SessionIndex, kNumSlots> index;
  std::array<std::vector<std::int32_t>, kNumSlots> venues_in_slot;  // venues of the slot's types
  std::int64_t attendances = 0;                                   // sum over slots, for counters
};

class AttendancePhase final : public Phase {
 public:
  AttendancePhase(const AttendanceSettings& settings, const std::vector<VenueType>& types, const Residents& residents,
                  const Venues& venues, StreamKey key, DailySessions& sessions, VenueActivity& activity);
  const char* name() const override { return "attendance"; }
  // Per-ward safety in [0,1] multiplying attendance at fear-sensitive venues (parks, streets);
  // set by the tension mechanism. Unset means safe everywhere.
  void use_ward_safety(const std::vector<float>& safety) { ward_safety_ = std::span<const float>(safety); }
  void run(const Day& day) override;

 private:
  void choose_venues(const Day& day);
  void admit_within_capacity(const Day& day, int slot);
  void count_activity(const Day& day, int slot);

  AttendanceParams params_;
  bool enabled_;
  const std::vector<VenueType>& types_;
  const Residents& residents_;
  const Venues& venues_;
  StreamKey key_;
  DailySessions& sessions_;
  VenueActivity& activity_;
  std::array<std::vector<int>, kNumSlots> types_in_slot_;
  std::span<const float> ward_safety_;
};

MechanismEntry attendance_mechanism();

}  // namespace contactsim
