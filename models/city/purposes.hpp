#pragma once
// Random-stream purposes (the third counter word). One per decision site, so no two uses of an
// entity's stream on one day overlap. Append new purposes; never renumber (it changes results).
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
