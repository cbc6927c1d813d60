#pragma once
// The mechanisms, in the order their phases run each day (DESIGN §3).
#include "models/mechanisms/mechanism.hpp"

#include <vector>

namespace contactsim {

const std::vector<MechanismEntry>& mechanism_registry();

}  // namespace contactsim
