// The only list of mechanisms. Adding one means writing its files and adding its line here, at
// the place in the day where its phase runs.
#include "models/mechanisms/registry.hpp"

#include "models/mechanisms/arts.hpp"
#include "models/mechanisms/attendance.hpp"
#include "models/city/encounters.hpp"
#include "models/mechanisms/esol.hpp"
#include "models/mechanisms/festivals.hpp"
#include "models/mechanisms/friendships.hpp"
#include "models/mechanisms/funding.hpp"
#include "models/mechanisms/media.hpp"
#include "models/mechanisms/mobility.hpp"
#include "models/mechanisms/norms.hpp"
#include "models/mechanisms/programmes.hpp"
#include "models/mechanisms/tension.hpp"
#include "models/mechanisms/timeline.hpp"

namespace contactsim {

const std::vector<MechanismEntry>& mechanism_registry() {
  static const std::vector<MechanismEntry> registry{
      timeline_mechanism(),     // 1. the day's budget, open, close and lockdown items
      funding_mechanism(),      // 2. operating levels from budgets
      services_mechanism(),     // 3. champions / integration officers start and end
      attendance_mechanism(),   // 4. who attends which venue session
      encounters_mechanism(),   // 5-6. encounters at venues, valence, attitude update
      programmes_mechanism(),   // youth programme and school linking
      festivals_mechanism(),    // festivals
      esol_mechanism(),         // ESOL classes
      arts_mechanism(),                 // participatory arts groups
      friendships_mechanism(),  // 7. friendships form, fade and warm
      media_mechanism(),        // 8. media shocks and myth-busting
      tension_mechanism(),      // 9. incidents, tension, knowledge and trust
      norms_mechanism(),        // 10. warmth relaxes toward the ward's in-group norm
      mobility_mechanism(),     // 11. moves, arrivals, departures, ageing
  };
  return registry;
}

}  // namespace contactsim
