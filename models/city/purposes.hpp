#pragma once
// Random-stream purposes (the third counter word) of the world build and of the city-wide steps
// (attendance, encounters, agent snapshots). One per decision site, so no two uses of an
// entity's stream on one day overlap; never renumber (it changes results). A mechanism declares
// its own purposes next to its code and their range in its registry entry
// (MechanismEntry::purposes, models/mechanisms/mechanism.hpp); this is not a central list.
#include "core/rng.hpp"

namespace contactsim::purpose {
inline constexpr Purpose kAgeAndTraits = 1;      // world build, entity = resident
inline constexpr Purpose kFaith = 2;             // world build, entity = resident
inline constexpr Purpose kBlockPlacement = 3;    // world build, entity = resident
inline constexpr Purpose kMembership = 4;        // world build, entity = resident; + type index × 16
inline constexpr Purpose kAttendance = 100;      // daily, entity = resident
inline constexpr Purpose kAdmission = 101;       // daily, entity = venue; + slot
inline constexpr Purpose kSnapshotSample = 400;   // run start, entity = resident slot, day = 0: in the agent-snapshot panel?
inline constexpr Purpose kEncounter = 1000;      // daily, entity = venue; + slot × 16 + group
}  // namespace contactsim::purpose
