// Residents: group and ward from the scenario's counts; age band by exact apportionment of each
// (ward, group) cell; faith, English, anxiety and initial warmth drawn per resident; residential
// blocks by a clustering sort within each ward.
#include "core/synthesis.hpp"
#include "models/city/purposes.hpp"
#include "models/city/world.hpp"

#include <boost/random/beta_distribution.hpp>
#include <boost/random/normal_distribution.hpp>

#include <algorithm>
#include <numeric>

namespace contactsim {
namespace {

// Beta with the given mean and standard deviation (clamped to a valid shape), or the mean
// itself when sd is 0.
float draw_beta(RandomStream& rng, double mean, double sd) {
  if (sd <= 0.0 || mean <= 0.0 || mean >= 1.0) return static_cast<float>(mean);
  const double max_var = mean * (1.0 - mean);
  const double var = std::min(sd * sd, 0.95 * max_var);
  const double k = max_var / var - 1.0;
  boost::random::beta_distribution<double> beta(mean * k, (1.0 - mean) * k);
  return static_cast<float>(beta(rng));
}

// Logit-normal warmth toward each group with a shared personal factor: attitudes toward
// different outgroups correlate (generalised prejudice, r ≈ .5–.7; Zick et al. 2008; Bergh &
// Akrami 2017). sd is the spread in warmth units, mapped to the logit scale at the mean.
void draw_warmth(RandomStream& rng, const GroupSpec& g, int own, double correlation, float* warmth,
                 float& disposition) {
  boost::random::normal_distribution<double> normal;
  const double shared = normal(rng);
  const int groups = static_cast<int>(g.warmth.size());
  double offset = 0;
  for (int t = 0; t < groups; ++t) {
    const double m = std::clamp(g.warmth[t], 1e-3, 1.0 - 1e-3);
    const double z = std::sqrt(correlation) * shared + std::sqrt(1.0 - correlation) * normal(rng);
    const double logit = std::log(m / (1.0 - m)) + g.warmth_sd / (m * (1.0 - m)) * z;
    warmth[t] = static_cast<float>(1.0 / (1.0 + std::exp(-logit)));
    if (t != own) offset += warmth[t] - m;
  }
  disposition = groups > 1 ? static_cast<float>(offset / (groups - 1)) : 0.0f;
}

int draw_faith(RandomStream& rng, const std::vector<double>& shares) {
  double u = rng.uniform(), cumulative = 0;
  for (std::size_t f = 0; f < shares.size(); ++f) {
    cumulative += shares[f];
    if (u < cumulative) return static_cast<int>(f);
  }
  return kNoFaith;
}

void allocate_arrays(Residents& r, std::size_t n, int groups, int venue_types) {
  r.num_groups = groups;
  r.num_venue_types = venue_types;
  r.reshape_contact_state(n, groups);
  for_each_field(r, [&](const auto& field, auto& values) {
    values.assign(n * field.values_per_resident(r), field.fresh);
  });
}

// A ward's residents in block order: key = c·(group + u) + (1−c)·G·u' gives fully mixed
// blocks at c = 0 and one-group blocks at c = 1.
std::vector<std::uint32_t> block_order(const Scenario& s, StreamKey key, const std::vector<std::uint8_t>& group,
                                       std::uint32_t first_id) {
  const double c = s.population.block_clustering;
  const double groups = static_cast<double>(s.groups.size());
  std::vector<double> sort_key(group.size());
  for (std::size_t k = 0; k < group.size(); ++k) {
    RandomStream rng(key, first_id + static_cast<std::uint32_t>(k), 0, purpose::kBlockPlacement);
    sort_key[k] = c * (group[k] + rng.uniform()) + (1.0 - c) * groups * rng.uniform();
  }
  std::vector<std::uint32_t> order(group.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return sort_key[a] < sort_key[b]; });
  return order;
}

}  // namespace

void build_residents(const Scenario& s, StreamKey key, World& world) {
  const int groups = static_cast<int>(s.groups.size());
  const int wards = static_cast<int>(s.wards.size());
  Residents& r = world.residents;
  allocate_arrays(r, static_cast<std::size_t>(s.population_size()), groups, static_cast<int>(s.venue_types.size()));
  world.block_ward.clear();

  std::uint32_t next = 0;
  for (int w = 0; w < wards; ++w) {
    const std::uint32_t ward_first = next;
    // Ward membership and group, then block order inside the ward.
    std::vector<std::uint8_t> ward_groups;
    std::vector<std::uint8_t> ward_ages;
    for (int g = 0; g < groups; ++g) {
      const std::int64_t count = s.population.counts[w][g];
      const auto& shares = s.groups[g].age_shares;
      const auto by_age = apportion(count, std::vector<double>(shares.begin(), shares.end()));
      for (int a = 0; a < kNumAgeBands; ++a)
        for (std::int64_t k = 0; k < by_age[a]; ++k) {
          ward_groups.push_back(static_cast<std::uint8_t>(g));
          ward_ages.push_back(static_cast<std::uint8_t>(a));
        }
    }
    const auto order = block_order(s, key, ward_groups, ward_first);
    const std::uint32_t ward_size = static_cast<std::uint32_t>(ward_groups.size());
    const std::uint32_t blocks = std::max<std::uint32_t>(
        1, static_cast<std::uint32_t>((ward_size + s.population.block_size / 2) / s.population.block_size));
    const auto first_block = static_cast<std::uint32_t>(world.block_ward.size());
    world.block_ward.insert(world.block_ward.end(), blocks, static_cast<std::uint16_t>(w));
    for (std::uint32_t k = 0; k < ward_size; ++k) {
      const std::uint32_t i = ward_first + k;
      r.group[i] = ward_groups[order[k]];
      r.age_band[i] = ward_ages[order[k]];
      r.ward[i] = static_cast<std::uint16_t>(w);
      r.block[i] = first_block + static_cast<std::uint32_t>(static_cast<std::uint64_t>(k) * blocks / ward_size);
    }
    next += ward_size;
  }

  for (std::size_t i = 0; i < r.size(); ++i) {
    const GroupSpec& g = s.groups[r.group[i]];
    RandomStream traits(key, static_cast<std::uint32_t>(i), 0, purpose::kAgeAndTraits);
    r.english[i] = draw_beta(traits, g.english_mean, g.english_sd);
    r.anxiety[i] = draw_beta(traits, g.anxiety_mean, g.anxiety_sd);
    draw_warmth(traits, g, r.group[i], s.population.warmth_correlation, r.warmth_of(i), r.disposition[i]);
    RandomStream faith(key, static_cast<std::uint32_t>(i), 0, purpose::kFaith);
    r.faith[i] = static_cast<std::uint8_t>(draw_faith(faith, g.faith_shares));
  }
}

World build_world(const Scenario& scenario, StreamKey key) {
  World world;
  build_residents(scenario, key, world);
  build_venues(scenario, key, world);
  return world;
}

std::size_t World::bytes() const {
  std::size_t b = 0;
  for_each_field(residents, [&](const auto& field, const auto& values) {
    if constexpr (!std::decay_t<decltype(field)>::packed)
      b += values.capacity() * sizeof(typename std::decay_t<decltype(field)>::value_type);
  });
  b += residents.contact_state_bytes();
  b += venues.size() * (sizeof(std::uint8_t) * 3 + sizeof(std::uint16_t) + sizeof(std::int32_t) * 2 + 32);
  b += venues.member_group_share.capacity() * sizeof(float);
  return b;
}

}  // namespace contactsim
