#pragma once
// Building the world once from a scenario (residents, blocks, venues, memberships), JUNE-style:
// everything random here is drawn from keyed streams, so the same scenario and seed build the
// same city on any machine and thread count.
#include "core/rng.hpp"
#include "models/run/scenario.hpp"
#include "models/city/state.hpp"

namespace contactsim {

struct World {
  Residents residents;
  Venues venues;
  std::vector<std::uint16_t> block_ward;  // ward of each block
  std::size_t bytes() const;
};

World build_world(const Scenario& scenario, StreamKey key);

// Residents with traits and blocks, no memberships (population.cpp).
void build_residents(const Scenario& scenario, StreamKey key, World& world);
// Venues of every type and each resident's membership (venues.cpp).
void build_venues(const Scenario& scenario, StreamKey key, World& world);

}  // namespace contactsim
