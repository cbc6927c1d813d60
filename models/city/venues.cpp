// Venues and memberships. Each venue type's members are drawn per resident (share by age band,
// times the faith's attendance for worship); generated venues follow the type's sizing rule;
// explicit [[venues]] join the pool of their ward. Members fill a ward's venues in block order,
// so a school or centre serves a contiguous part of its ward (its catchment).
#include "core/synthesis.hpp"
#include "models/city/purposes.hpp"
#include "models/city/world.hpp"

#include <algorithm>
#include <cmath>

namespace contactsim {
namespace {

struct VenueBuilder {
  const Scenario& s;
  Venues& v;

  std::int32_t add(int type, int ward, std::string name, std::int32_t capacity, int faith, double budget = -1) {
    const VenueType& vt = s.venue_types[type];
    v.name.push_back(std::move(name));
    v.type.push_back(static_cast<std::uint8_t>(type));
    v.ward.push_back(static_cast<std::uint16_t>(ward));
    v.capacity.push_back(capacity);
    v.faith.push_back(faith < 0 ? kNoFaith : static_cast<std::uint8_t>(faith));
    // Fully operating until funding settles it on the first day.
    v.budget.push_back(budget >= 0 ? budget : vt.budget >= 0 ? vt.budget : vt.budget_full);
    v.budget_full.push_back(vt.budget_full);
    v.operating_level.push_back(1.0f);
    v.open.push_back(1);
    v.open_days.push_back(vt.open_days);
    v.session_capacity.push_back(capacity);
    v.quality_factor.push_back(1.0f);
    return static_cast<std::int32_t>(v.type.size() - 1);
  }

  // Generated venues of (type, ward[, faith]) plus the explicit ones, in that order.
  std::vector<std::int32_t> ward_pool(int type, int ward, std::int64_t generated, int faith) {
    const VenueType& vt = s.venue_types[type];
    std::vector<std::int32_t> pool;
    const std::string where = " (" + s.wards[ward].name + ")";
    const std::string kind = faith >= 0 ? s.faiths[faith].name + " " + vt.name : vt.name;
    for (std::int64_t k = 0; k < generated; ++k)
      pool.push_back(add(type, ward, kind + " " + std::to_string(k + 1) + where, vt.capacity, faith));
    for (const auto& e : s.venues)
      if (e.type == type && e.ward == ward && (faith < 0 || e.faith == faith))
        pool.push_back(add(type, ward, e.name, e.capacity >= 0 ? e.capacity : vt.capacity, faith, e.budget));
    return pool;
  }
};

std::int64_t generated_count(const VenueType& vt, std::int64_t members) {
  if (!vt.generate || members == 0) return 0;
  return std::max<std::int64_t>(1, std::llround(static_cast<double>(members) / vt.members_per_venue));
}

// Members of type `t`, by drawing each eligible resident once.
std::vector<std::uint8_t> draw_members(const Scenario& s, StreamKey key, const Residents& r, int t) {
  const VenueType& vt = s.venue_types[t];
  std::vector<std::uint8_t> member(r.size(), 0);
#pragma omp parallel for schedule(static, 4096)
  for (std::size_t i = 0; i < r.size(); ++i) {
    double share = vt.member_share[r.age_band[i]];
    if (vt.membership == Membership::faith)
      share = r.faith[i] == kNoFaith ? 0.0 : share * s.faiths[r.faith[i]].attendance;
    if (share <= 0.0) continue;
    RandomStream rng(key, static_cast<std::uint32_t>(i), 0, purpose::kMembership + 16 * static_cast<Purpose>(t));
    member[i] = rng.uniform() < share;
  }
  return member;
}

// Spreads a ward's members (in id = block order) evenly over its pool.
void fill_in_block_order(Residents& r, int t, const std::vector<std::uint32_t>& members,
                         const std::vector<std::int32_t>& pool) {
  if (pool.empty()) return;
  for (std::size_t k = 0; k < members.size(); ++k)
    r.membership[members[k] * static_cast<std::size_t>(r.num_venue_types) + t] =
        pool[k * pool.size() / members.size()];
}

std::vector<std::vector<std::uint32_t>> members_by_ward(const Residents& r, const std::vector<std::uint8_t>& member,
                                                        int wards, int faith = -1) {
  std::vector<std::vector<std::uint32_t>> by_ward(static_cast<std::size_t>(wards));
  for (std::size_t i = 0; i < r.size(); ++i)
    if (member[i] && (faith < 0 || r.faith[i] == faith)) by_ward[r.ward[i]].push_back(static_cast<std::uint32_t>(i));
  return by_ward;
}

// Venues spread over wards in proportion to `weights`, members preferring their own ward with
// probability `local_share` (1 for faith venues: local if the ward has one).
void build_city_pool(VenueBuilder& b, StreamKey key, Residents& r, int t, const std::vector<std::vector<std::uint32_t>>& by_ward,
                     int faith, double local_share) {
  const VenueType& vt = b.s.venue_types[t];
  const int wards = static_cast<int>(by_ward.size());
  std::int64_t total = 0;
  std::vector<double> weights(static_cast<std::size_t>(wards));
  for (int w = 0; w < wards; ++w) {
    total += static_cast<std::int64_t>(by_ward[w].size());
    weights[w] = static_cast<double>(by_ward[w].size());
  }
  const std::int64_t generated = generated_count(vt, total);
  const auto per_ward = total > 0 ? apportion(generated, weights) : std::vector<std::int64_t>(wards, 0);
  std::vector<std::vector<std::int32_t>> pools(static_cast<std::size_t>(wards));
  std::vector<std::int32_t> city;
  for (int w = 0; w < wards; ++w) {
    pools[w] = b.ward_pool(t, w, per_ward[w], faith);
    city.insert(city.end(), pools[w].begin(), pools[w].end());
  }
  if (city.empty()) return;
  for (int w = 0; w < wards; ++w)
    for (std::uint32_t i : by_ward[w]) {
      RandomStream rng(key, i, 1, purpose::kMembership + 16 * static_cast<Purpose>(t));
      const bool local = !pools[w].empty() && rng.uniform() < local_share;
      const auto& pool = local ? pools[w] : city;
      r.membership[i * static_cast<std::size_t>(r.num_venue_types) + t] =
          pool[rng.below(static_cast<std::uint32_t>(pool.size()))];
    }
}

void build_blocks(VenueBuilder& b, const World& world, Residents& r, int t, const std::vector<std::uint8_t>& member) {
  const VenueType& vt = b.s.venue_types[t];
  const std::int32_t first = static_cast<std::int32_t>(b.v.size());
  std::vector<std::uint32_t> block_number(world.block_ward.size());
  std::vector<std::uint32_t> per_ward(b.s.wards.size(), 0);
  for (std::size_t k = 0; k < world.block_ward.size(); ++k) {
    const int w = world.block_ward[k];
    block_number[k] = ++per_ward[w];
    b.add(t, w, vt.name + " " + std::to_string(block_number[k]) + " (" + b.s.wards[w].name + ")", vt.capacity, -1);
  }
  for (std::size_t i = 0; i < r.size(); ++i)
    if (member[i]) r.membership[i * static_cast<std::size_t>(r.num_venue_types) + t] = first + static_cast<std::int32_t>(r.block[i]);
}

void compute_compositions(Venues& v, const Residents& r) {
  const int groups = r.num_groups;
  v.num_groups = groups;
  v.members.assign(v.size(), 0);
  std::vector<std::uint32_t> counts(v.size() * static_cast<std::size_t>(groups), 0);
  for (std::size_t i = 0; i < r.size(); ++i)
    for (int t = 0; t < r.num_venue_types; ++t) {
      const std::int32_t venue = r.member_venue(i, t);
      if (venue < 0) continue;
      ++v.members[venue];
      ++counts[static_cast<std::size_t>(venue) * groups + r.group[i]];
    }
  v.member_group_share.assign(counts.size(), 0.0f);
  for (std::size_t venue = 0; venue < v.size(); ++venue)
    for (int g = 0; g < groups; ++g)
      if (v.members[venue] > 0)
        v.member_group_share[venue * groups + g] =
            static_cast<float>(counts[venue * groups + g]) / static_cast<float>(v.members[venue]);
}

}  // namespace

void build_venues(const Scenario& s, StreamKey key, World& world) {
  Residents& r = world.residents;
  world.venues = Venues{};
  VenueBuilder b{s, world.venues};
  const int wards = static_cast<int>(s.wards.size());
  for (int t = 0; t < static_cast<int>(s.venue_types.size()); ++t) {
    const VenueType& vt = s.venue_types[t];
    const auto member = draw_members(s, key, r, t);
    switch (vt.membership) {
      case Membership::catchment:
      case Membership::ward: {
        const auto by_ward = members_by_ward(r, member, wards);
        for (int w = 0; w < wards; ++w) {
          const auto pool = b.ward_pool(t, w, generated_count(vt, static_cast<std::int64_t>(by_ward[w].size())), -1);
          fill_in_block_order(r, t, by_ward[w], pool);
        }
        break;
      }
      case Membership::city:
        build_city_pool(b, key, r, t, members_by_ward(r, member, wards), -1, vt.local_share);
        break;
      case Membership::faith:
        for (int f = 0; f < static_cast<int>(s.faiths.size()); ++f)
          build_city_pool(b, key, r, t, members_by_ward(r, member, wards, f), f, 1.0);
        break;
      case Membership::block:
        build_blocks(b, world, r, t, member);
        break;
    }
  }
  compute_compositions(world.venues, r);
}

}  // namespace contactsim
