#include "models/mechanisms/mobility.hpp"
#include "models/mechanisms/settings.hpp"
#include "models/mechanisms/tension.hpp"
#include "models/city/world.hpp"
#include "models/run/scenario.hpp"

#include "core/archive.hpp"
#include "core/text.hpp"

#include <boost/random/beta_distribution.hpp>
#include <boost/random/normal_distribution.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

namespace contactsim {
namespace {

// MobilityCounts' series with their checkpoint names, in checkpoint order: one list for save
// and restore.
template <class F>
void for_each_count_series(F&& f) {
  f("moves_out", &MobilityCounts::moves_out);
  f("moves_in", &MobilityCounts::moves_in);
  f("arrivals", &MobilityCounts::arrivals);
  f("departures", &MobilityCounts::departures);
  f("births", &MobilityCounts::births);
  f("deaths", &MobilityCounts::deaths);
}

// Share of each band that moves up a band on 1 January: ages uniform within bands of 11
// (0–10), 7 (11–17) and 47 (18–64) years.
constexpr std::array<double, kNumAgeBands - 1> kMoveUpShare{1.0 / 11.0, 1.0 / 7.0, 1.0 / 47.0};

// A venue pick tries a few random venues for an open one before accepting a closed one: O(1)
// even for city-wide pools of thousands of workplaces.
constexpr int kOpenVenueTries = 8;

// The same Beta as the world build (population.cpp): mean and sd, clamped to a valid shape.
float draw_beta(RandomStream& rng, double mean, double sd) {
  if (sd <= 0.0 || mean <= 0.0 || mean >= 1.0) return static_cast<float>(std::clamp(mean, 0.0, 1.0));
  const double max_var = mean * (1.0 - mean);
  const double var = std::min(sd * sd, 0.95 * max_var);
  const double k = max_var / var - 1.0;
  boost::random::beta_distribution<double> beta(mean * k, (1.0 - mean) * k);
  return static_cast<float>(beta(rng));
}

// The world build's logit-normal warmth with a shared personal factor (population.cpp,
// draw_warmth), around arbitrary means: a group's means for newcomers, the block's norm for
// newborns. The disposition is the mean outgroup offset from those means.
void draw_warmth(RandomStream& rng, std::span<const double> means, double sd, int own, double correlation,
                 float* warmth, float& disposition) {
  boost::random::normal_distribution<double> normal;
  const double shared = normal(rng);
  const int groups = static_cast<int>(means.size());
  double offset = 0;
  for (int t = 0; t < groups; ++t) {
    const double m = std::clamp(means[t], 1e-3, 1.0 - 1e-3);
    const double z = std::sqrt(correlation) * shared + std::sqrt(1.0 - correlation) * normal(rng);
    const double logit = std::log(m / (1.0 - m)) + sd / (m * (1.0 - m)) * z;
    warmth[t] = static_cast<float>(1.0 / (1.0 + std::exp(-logit)));
    if (t != own) offset += warmth[t] - m;
  }
  disposition = groups > 1 ? static_cast<float>(offset / (groups - 1)) : 0.0f;
}

std::uint8_t draw_faith(RandomStream& rng, const std::vector<double>& shares) {
  const double u = rng.uniform();
  double cumulative = 0;
  for (std::size_t f = 0; f < shares.size(); ++f) {
    cumulative += shares[f];
    if (u < cumulative) return static_cast<std::uint8_t>(f);
  }
  return kNoFaith;
}

// First index whose cumulative share exceeds u (the last non-empty one if rounding leaves u
// above every cumulative value).
template <class Cumulative>
int draw_index(const Cumulative& cumulative, double u) {
  const int n = static_cast<int>(std::size(cumulative));
  for (int k = 0; k < n; ++k)
    if (u < cumulative[k]) return k;
  for (int k = n - 1; k > 0; --k)
    if (cumulative[k] > cumulative[k - 1]) return k;
  return 0;
}

double per_month(double annual) { return annual >= 1.0 ? 1.0 : 1.0 - std::pow(1.0 - annual, 1.0 / 12.0); }

void set_membership(Residents& r, Venues& v, std::uint32_t i, int t, std::int32_t venue) {
  std::int32_t& slot = r.membership[static_cast<std::size_t>(i) * r.num_venue_types + t];
  if (slot == venue) return;
  if (slot >= 0) --v.members[slot];
  if (venue >= 0) ++v.members[venue];
  slot = venue;
}

// A random venue of the pool, open ones preferred; -1 for an empty pool.
std::int32_t pick_venue(std::span<const std::int32_t> pool, const Venues& v, RandomStream& rng) {
  if (pool.empty()) return -1;
  const auto n = static_cast<std::uint32_t>(pool.size());
  for (int attempt = 0; attempt < kOpenVenueTries; ++attempt) {
    const std::int32_t venue = pool[rng.below(n)];
    if (static_cast<std::size_t>(venue) >= v.open.size() || v.open[venue]) return venue;
  }
  return pool[rng.below(n)];
}

std::int32_t join_new_venue(const Residents& r, const Venues& v, const VenueDirectory& d, std::uint32_t i, int t,
                            RandomStream& rng) {
  const VenueType& type = d.type(t);
  const int ward = r.ward[i];
  switch (type.membership) {
    case Membership::block:
      return d.block_venue(t, r.block[i]);
    case Membership::catchment:
    case Membership::ward:
      return pick_venue(d.ward_pool(t, ward), v, rng);
    case Membership::city: {
      const auto local = d.ward_pool(t, ward);
      const bool stay_local = !local.empty() && rng.uniform() < type.local_share;
      return pick_venue(stay_local ? local : d.city_pool(t), v, rng);
    }
    case Membership::faith: {
      if (r.faith[i] == kNoFaith) return -1;
      const auto local = d.faith_pool(t, r.faith[i], ward);
      return pick_venue(local.empty() ? d.faith_city_pool(t, r.faith[i]) : local, v, rng);
    }
  }
  return -1;
}

// An existing membership after a move: what is tied to the home follows it.
std::int32_t relocate_venue(const Residents& r, const Venues& v, const VenueDirectory& d, std::uint32_t i, int t,
                            std::int32_t current, RandomStream& rng) {
  switch (d.type(t).membership) {
    case Membership::block:
      return d.block_venue(t, r.block[i]);
    case Membership::catchment:
    case Membership::ward:
      return v.ward[current] == r.ward[i] ? current : pick_venue(d.ward_pool(t, r.ward[i]), v, rng);
    case Membership::city:
    case Membership::faith:
      return current;
  }
  return current;
}

// Venue `venue`'s members and group shares from its row of counts (venue × groups + group).
void publish_composition(Venues& v, std::size_t venue, const std::vector<std::uint32_t>& counts) {
  const std::size_t groups = static_cast<std::size_t>(v.num_groups);
  std::uint32_t members = 0;
  for (std::size_t g = 0; g < groups; ++g) members += counts[venue * groups + g];
  v.members[venue] = members;
  for (std::size_t g = 0; g < groups; ++g)
    v.member_group_share[venue * groups + g] =
        members > 0 ? static_cast<float>(counts[venue * groups + g]) / static_cast<float>(members) : 0.0f;
}

bool stays_member(double s_old, double s_new, double u) {
  if (s_new <= 0.0) return false;
  return s_old <= s_new || u < s_new / s_old;
}

bool joins(double s_old, double s_new, double u) {
  if (s_new <= s_old) return false;
  return s_old >= 1.0 ? u < s_new : u < (s_new - s_old) / (1.0 - s_old);
}

std::vector<std::array<double, kNumAgeBands>> normalised_age_cumulative(const std::vector<GroupMigration>& m,
                                                                        bool required) {
  std::vector<std::array<double, kNumAgeBands>> out(m.size());
  for (std::size_t g = 0; g < m.size(); ++g) {
    double total = 0;
    for (double s : m[g].newcomer_age_shares) {
      if (!(s >= 0.0)) throw std::invalid_argument("mobility: newcomer_age_shares must be non-negative");
      total += s;
    }
    if (total <= 0.0) {
      if (required) throw std::invalid_argument("mobility: group " + std::to_string(g) + " has no newcomer_age_shares");
      total = 1.0;
    }
    double cumulative = 0;
    for (int a = 0; a < kNumAgeBands; ++a) out[g][a] = (cumulative += m[g].newcomer_age_shares[a] / total);
  }
  return out;
}

std::vector<double> normalised_inflow_cumulative(const std::vector<GroupMigration>& m, bool required) {
  double total = 0;
  for (const auto& g : m) {
    if (!(g.inflow_share >= 0.0)) throw std::invalid_argument("mobility: inflow_share must be non-negative");
    total += g.inflow_share;
  }
  if (total <= 0.0) {
    if (required) throw std::invalid_argument("mobility: out_migration_rate > 0 needs some group with inflow_share > 0");
    total = 1.0;
  }
  std::vector<double> cumulative(m.size());
  double sum = 0;
  for (std::size_t g = 0; g < m.size(); ++g) cumulative[g] = (sum += m[g].inflow_share / total);
  return cumulative;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// CountTree

void CountTree::add(std::size_t position, std::int64_t delta) {
  total_ += delta;
  for (std::size_t k = position + 1; k < tree_.size(); k += k & (~k + 1)) tree_[k] += delta;
}

std::int64_t CountTree::prefix(std::size_t end) const {
  std::int64_t sum = 0;
  for (std::size_t k = end; k > 0; k -= k & (~k + 1)) sum += tree_[k];
  return sum;
}

std::size_t CountTree::find(std::int64_t k) const {
  const std::size_t n = size();
  std::size_t step = 1;
  while (step * 2 <= n) step *= 2;
  std::size_t position = 0;
  for (; step > 0; step /= 2) {
    const std::size_t next = position + step;
    if (next <= n && tree_[next] <= k) {
      position = next;
      k -= tree_[next];
    }
  }
  return position;
}

// ---------------------------------------------------------------------------------------------
// VenueDirectory

VenueDirectory::VenueDirectory(const Venues& venues, std::vector<VenueType> types,
                               const std::vector<std::uint16_t>& block_ward, int wards,
                               std::vector<double> faith_attendance)
    : types_(std::move(types)), faith_attendance_(std::move(faith_attendance)), wards_(wards) {
  const std::size_t t_count = types_.size();
  const std::size_t faiths = faith_attendance_.size();
  block_venues_.resize(t_count);
  ward_.assign(t_count, std::vector<std::vector<std::int32_t>>(static_cast<std::size_t>(wards)));
  city_.resize(t_count);
  faith_ward_.assign(t_count, std::vector<std::vector<std::int32_t>>(faiths * static_cast<std::size_t>(wards)));
  faith_city_.assign(t_count, std::vector<std::vector<std::int32_t>>(faiths));
  for (std::size_t v = 0; v < venues.size(); ++v) {
    const auto venue = static_cast<std::int32_t>(v);
    const std::size_t t = venues.type[v];
    const int ward = venues.ward[v];
    if (t >= t_count) throw std::invalid_argument("mobility: venue " + std::to_string(v) + " has an unknown type");
    if (ward >= wards) throw std::invalid_argument("mobility: venue " + std::to_string(v) + " has an unknown ward");
    if (types_[t].membership == Membership::block) {
      block_venues_[t].push_back(venue);
      continue;
    }
    ward_[t][ward].push_back(venue);
    city_[t].push_back(venue);
    const std::uint8_t faith = venues.faith[v];
    if (types_[t].membership == Membership::faith && faith != kNoFaith) {
      if (faith >= faiths) throw std::invalid_argument("mobility: venue " + std::to_string(v) + " has an unknown faith");
      faith_ward_[t][faith * static_cast<std::size_t>(wards) + ward].push_back(venue);
      faith_city_[t][faith].push_back(venue);
    }
  }
  // venues.cpp creates a block type's venues one per block, consecutively in block order.
  for (std::size_t t = 0; t < t_count; ++t) {
    if (types_[t].membership != Membership::block) continue;
    const auto& list = block_venues_[t];
    bool consistent = list.size() == block_ward.size();
    for (std::size_t b = 0; consistent && b < list.size(); ++b)
      consistent = venues.ward[list[b]] == block_ward[b] && (b == 0 || list[b] == list[b - 1] + 1);
    if (!consistent)
      throw std::invalid_argument("mobility: venue type \"" + types_[t].name +
                                  "\" (block membership) needs one venue per block, in block order");
  }
}

std::int32_t VenueDirectory::block_venue(int t, std::uint32_t block) const {
  const auto& list = block_venues_[t];
  return block < list.size() ? list[block] : -1;
}

std::span<const std::int32_t> VenueDirectory::ward_pool(int t, int ward) const { return ward_[t][ward]; }

std::span<const std::int32_t> VenueDirectory::city_pool(int t) const { return city_[t]; }

std::span<const std::int32_t> VenueDirectory::faith_pool(int t, int faith, int ward) const {
  if (static_cast<std::size_t>(faith) >= faith_attendance_.size()) return {};
  return faith_ward_[t][static_cast<std::size_t>(faith) * wards_ + ward];
}

std::span<const std::int32_t> VenueDirectory::faith_city_pool(int t, int faith) const {
  if (static_cast<std::size_t>(faith) >= faith_attendance_.size()) return {};
  return faith_city_[t][faith];
}

double VenueDirectory::member_share(int t, int band, std::uint8_t faith) const {
  double share = types_[t].member_share[band];
  if (types_[t].membership == Membership::faith)
    share *= faith < faith_attendance_.size() ? faith_attendance_[faith] : 0.0;
  return std::clamp(share, 0.0, 1.0);
}

// ---------------------------------------------------------------------------------------------
// Memberships

void rejoin_venues(Residents& r, Venues& v, const VenueDirectory& d, std::uint32_t i, const MembershipChange& change,
                   RandomStream& rng) {
  const int band = r.age_band[i];
  const int old_band = static_cast<int>(change.previous_band);
  for (int t = 0; t < d.num_types(); ++t) {
    const std::int32_t current = r.member_venue(i, t);
    const double s_new = d.member_share(t, band, r.faith[i]);
    bool member = current >= 0;
    if (change.new_person) {
      member = s_new > 0.0 && rng.uniform() < s_new;
    } else if (band != old_band) {
      const double s_old = d.member_share(t, old_band, r.faith[i]);
      member = member ? stays_member(s_old, s_new, rng.uniform()) : joins(s_old, s_new, rng.uniform());
    }
    std::int32_t venue = -1;
    if (member)
      venue = current >= 0 && !change.new_person ? relocate_venue(r, v, d, i, t, current, rng)
                                                 : join_new_venue(r, v, d, i, t, rng);
    set_membership(r, v, i, t, venue);
  }
}

void refresh_compositions(Venues& v, const Residents& r) {
  const int groups = r.num_groups;
  const int types = r.num_venue_types;
  std::vector<std::uint32_t> counts(v.size() * static_cast<std::size_t>(groups), 0);
  for (std::size_t i = 0; i < r.size(); ++i) {
    const std::int32_t* venue = r.membership.data() + i * types;
    for (int t = 0; t < types; ++t)
      if (venue[t] >= 0) ++counts[static_cast<std::size_t>(venue[t]) * groups + r.group[i]];
  }
  v.num_groups = groups;
  v.members.assign(v.size(), 0);
  v.member_group_share.assign(counts.size(), 0.0f);
  for (std::size_t venue = 0; venue < v.size(); ++venue) publish_composition(v, venue, counts);
}

void MobilityCounts::reset(int w, int g) {
  wards = w, groups = g;
  const std::size_t cells = static_cast<std::size_t>(w) * g;
  for (auto* series : {&moves_out, &moves_in, &arrivals, &departures, &births, &deaths}) series->assign(cells, 0);
}

// ---------------------------------------------------------------------------------------------
// MobilityPhase

MobilityPhase::MobilityPhase(const MobilitySettings& settings, Demography demography,
                             std::vector<VenueType> venue_types, Residents& residents, Venues& venues,
                             const std::vector<std::uint16_t>& block_ward, int wards, StreamKey key,
                             std::span<float> knowledge)
    : enabled_(settings.enabled),
      params_(settings.params),
      monthly_base_move_(per_month(settings.params.base_move_rate)),
      monthly_out_(per_month(settings.params.out_migration_rate)),
      monthly_move_cap_(std::min(1.0, monthly_base_move_ + settings.params.move_probability)),
      monthly_any_(monthly_out_ + (1.0 - monthly_out_) * monthly_move_cap_),
      candidates_(std::max(1, static_cast<int>(std::lround(settings.params.destination_candidates)))),
      demography_(std::move(demography)),
      directory_(venues, std::move(venue_types), block_ward, wards, demography_.faith_attendance),
      residents_(residents),
      venues_(venues),
      block_ward_(block_ward),
      wards_(wards),
      key_(key),
      knowledge_(knowledge) {
  const int groups = residents_.num_groups;
  const std::size_t n = residents_.size();
  if (static_cast<int>(demography_.groups.size()) != groups || static_cast<int>(demography_.migration.size()) != groups)
    throw std::invalid_argument("mobility: demography needs traits and migration for each of the " +
                                std::to_string(groups) + " groups");
  for (const auto& g : demography_.groups) {
    if (static_cast<int>(g.warmth.size()) != groups)
      throw std::invalid_argument("mobility: each group's warmth needs one mean per group");
    if (g.faith_shares.size() > demography_.faith_attendance.size())
      throw std::invalid_argument("mobility: faith_shares name more faiths than faith_attendance");
  }
  if (directory_.num_types() != residents_.num_venue_types)
    throw std::invalid_argument("mobility: venue types do not match the residents' memberships");
  if (!knowledge_.empty() && knowledge_.size() != n)
    throw std::invalid_argument("mobility: knowledge needs one value per resident");
  const bool migrating = enabled_ && params_.out_migration_rate > 0.0;
  inflow_cumulative_ = normalised_inflow_cumulative(demography_.migration, migrating);
  newcomer_age_cumulative_ = normalised_age_cumulative(demography_.migration, migrating);

  // Blocks in ward order: a ward's vacancies are one contiguous range of the trees.
  const std::size_t blocks = block_ward_.size();
  block_at_position_.resize(blocks);
  std::iota(block_at_position_.begin(), block_at_position_.end(), 0u);
  std::stable_sort(block_at_position_.begin(), block_at_position_.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return block_ward_[a] < block_ward_[b]; });
  position_of_block_.resize(blocks);
  ward_begin_.assign(static_cast<std::size_t>(wards) + 1, 0);
  for (std::size_t p = 0; p < blocks; ++p) {
    const std::uint32_t b = block_at_position_[p];
    if (block_ward_[b] >= wards) throw std::invalid_argument("mobility: block " + std::to_string(b) + " has an unknown ward");
    position_of_block_[b] = static_cast<std::uint32_t>(p);
    ++ward_begin_[block_ward_[b] + 1];
  }
  std::partial_sum(ward_begin_.begin(), ward_begin_.end(), ward_begin_.begin());

  occupancy_.assign(blocks, 0);
  group_count_.assign(blocks * groups, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t b = residents_.block[i];
    if (b >= blocks || block_ward_[b] != residents_.ward[i])
      throw std::invalid_argument("mobility: resident " + std::to_string(i) + " has a block outside their ward");
    ++occupancy_[b];
    ++group_count_[static_cast<std::size_t>(b) * groups + residents_.group[i]];
  }
  capacity_.resize(blocks);
  vacancy_tree_ = CountTree(blocks);
  group_trees_.assign(static_cast<std::size_t>(groups), CountTree(blocks));
  for (std::size_t b = 0; b < blocks; ++b) {
    // The small epsilon keeps 200 × 1.05 at 210 despite floating-point rounding.
    capacity_[b] = static_cast<std::int32_t>(std::ceil(occupancy_[b] * (1.0 + params_.vacancy_rate) - 1e-9));
    vacancy_tree_.add(position_of_block_[b], capacity_[b] - occupancy_[b]);
    for (int g = 0; g < groups; ++g) group_trees_[g].add(position_of_block_[b], group_count_[b * groups + g]);
  }
  replaced_mark_.assign(n, 0);
  counts_.reset(wards_, groups);

  // Venue compositions are kept by counting changes, so a month costs what moved, not the city.
  if (venues_.num_groups != groups || venues_.members.size() != venues_.size() ||
      venues_.member_group_share.size() != venues_.size() * static_cast<std::size_t>(groups))
    throw std::invalid_argument("mobility: venue compositions are not sized for the venues and groups");
  venue_group_count_.assign(venues_.size() * static_cast<std::size_t>(groups), 0);
  for (std::size_t i = 0; i < n; ++i)
    for (int t = 0; t < residents_.num_venue_types; ++t) {
      const std::int32_t venue = residents_.member_venue(i, t);
      if (venue >= 0) ++venue_group_count_[static_cast<std::size_t>(venue) * groups + residents_.group[i]];
    }
  venue_dirty_.assign(venues_.size(), 0);
  previous_venues_.resize(static_cast<std::size_t>(residents_.num_venue_types));
}

void MobilityPhase::run(const Day& day) {
  if (!enabled_ || day.index == 0 || day.date.day() != 1) return;
  for (std::uint32_t i : replaced_) replaced_mark_[i] = 0;
  replaced_.clear();
  if (day.date.month() == 1) age_and_renew(day);
  migrate_and_move(day);
  publish_compositions();
}

void MobilityPhase::rejoin(std::uint32_t i, int previous_group, const MembershipChange& change, RandomStream& rng) {
  const int types = residents_.num_venue_types;
  const auto groups = static_cast<std::size_t>(residents_.num_groups);
  const std::int32_t* now = residents_.membership.data() + static_cast<std::size_t>(i) * types;
  std::copy(now, now + types, previous_venues_.begin());
  rejoin_venues(residents_, venues_, directory_, i, change, rng);
  const int group = residents_.group[i];
  for (int t = 0; t < types; ++t) {
    const std::int32_t before = previous_venues_[t];
    if (before == now[t] && previous_group == group) continue;
    if (before >= 0) {
      --venue_group_count_[static_cast<std::size_t>(before) * groups + previous_group];
      mark_dirty(before);
    }
    if (now[t] >= 0) {
      ++venue_group_count_[static_cast<std::size_t>(now[t]) * groups + group];
      mark_dirty(now[t]);
    }
  }
}

void MobilityPhase::mark_dirty(std::int32_t venue) {
  if (venue_dirty_[venue]) return;
  venue_dirty_[venue] = 1;
  dirty_venues_.push_back(venue);
}

void MobilityPhase::publish_compositions() {
  for (std::int32_t venue : dirty_venues_) {
    publish_composition(venues_, static_cast<std::size_t>(venue), venue_group_count_);
    venue_dirty_[venue] = 0;
  }
  dirty_venues_.clear();
}

MobilityCounts MobilityPhase::take_counts() {
  MobilityCounts out = std::move(counts_);
  counts_ = MobilityCounts{};
  counts_.reset(wards_, residents_.num_groups);
  return out;
}

void MobilityPhase::mark_replaced(std::uint32_t i) {
  replaced_mark_[i] = 1;
  replaced_.push_back(i);
  replaced_untaken_.push_back(i);
}

std::vector<std::uint32_t> MobilityPhase::take_replaced() {
  std::vector<std::uint32_t> out = std::move(replaced_untaken_);
  replaced_untaken_.clear();
  return out;
}

float MobilityPhase::threshold_of(std::uint32_t i) const {
  const int groups = residents_.num_groups;
  const int own = residents_.group[i];
  double outgroup = 0;
  if (groups > 1) {
    const float* w = residents_.warmth_of(i);
    for (int g = 0; g < groups; ++g)
      if (g != own) outgroup += w[g];
    outgroup /= groups - 1;
  }
  return static_cast<float>(std::clamp(params_.base_threshold * (1.0 - params_.warmth_relief * outgroup), 0.0, 1.0));
}

bool MobilityPhase::dissatisfied(std::uint32_t i) const {
  const double share = neighbour_share(residents_.block[i], residents_.group[i]);
  // No threshold exceeds base_threshold (relief and warmth are ≥ 0): most residents are settled
  // without reading their warmth row.
  return share < params_.base_threshold && share < threshold_of(i);
}

double MobilityPhase::neighbour_share(std::uint32_t block, int group) const {
  const std::int32_t occupants = occupancy_[block];
  if (occupants <= 1) return 1.0;  // no neighbours: nobody to be outnumbered by
  const std::int32_t own = group_count_[static_cast<std::size_t>(block) * residents_.num_groups + group];
  return static_cast<double>(own - 1) / static_cast<double>(occupants - 1);
}

double MobilityPhase::resident_share(std::uint32_t block, int group) const {
  const std::int32_t occupants = occupancy_[block];
  if (occupants == 0) return 1.0;
  return static_cast<double>(group_count_[static_cast<std::size_t>(block) * residents_.num_groups + group]) /
         static_cast<double>(occupants);
}

std::int64_t MobilityPhase::random_vacancy(int ward, RandomStream& rng) const {
  const std::size_t begin = ward < 0 ? 0 : ward_begin_[ward];
  const std::size_t end = ward < 0 ? block_ward_.size() : ward_begin_[ward + 1];
  const std::int64_t before = vacancy_tree_.prefix(begin);
  const std::int64_t available = vacancy_tree_.prefix(end) - before;
  if (available <= 0) return -1;
  const std::int64_t k = before + rng.below(static_cast<std::uint32_t>(available));
  return block_at_position_[vacancy_tree_.find(k)];
}

std::uint32_t MobilityPhase::newcomer_block(int group, RandomStream& rng) const {
  const CountTree& coethnics = group_trees_[group];
  if (rng.uniform() < params_.chain_strength && coethnics.total() > 0) {
    const std::uint32_t contact_block =
        block_at_position_[coethnics.find(rng.below(static_cast<std::uint32_t>(coethnics.total())))];
    if (vacancies(contact_block) > 0) return contact_block;
    const std::int64_t nearby = random_vacancy(block_ward_[contact_block], rng);
    if (nearby >= 0) return static_cast<std::uint32_t>(nearby);
  }
  // The departing resident has just freed a vacancy, so one always exists.
  return static_cast<std::uint32_t>(random_vacancy(-1, rng));
}

std::int64_t MobilityPhase::choose_destination(std::uint32_t i, MonthlyAction why, RandomStream& rng) const {
  const std::uint32_t current = residents_.block[i];
  const int group = residents_.group[i];
  const double threshold = threshold_of(i);
  std::int64_t first = -1, best = -1;
  double best_share = neighbour_share(current, group);
  for (int c = 0; c < candidates_; ++c) {
    std::int64_t block = rng.uniform() < params_.local_move_share ? random_vacancy(residents_.ward[i], rng) : -1;
    if (block < 0) block = random_vacancy(-1, rng);
    if (block < 0 || block == current) continue;
    const double share = resident_share(static_cast<std::uint32_t>(block), group);
    if (share >= threshold) return block;
    if (first < 0) first = block;
    if (share > best_share) best_share = share, best = block;
  }
  return why == MonthlyAction::life_course_move ? first : best;
}

void MobilityPhase::leave_block(std::uint32_t i) {
  const std::uint32_t b = residents_.block[i];
  const int g = residents_.group[i];
  --occupancy_[b];
  --group_count_[static_cast<std::size_t>(b) * residents_.num_groups + g];
  vacancy_tree_.add(position_of_block_[b], +1);
  group_trees_[g].add(position_of_block_[b], -1);
}

void MobilityPhase::enter_block(std::uint32_t i, std::uint32_t b) {
  const int g = residents_.group[i];
  residents_.block[i] = b;
  residents_.ward[i] = block_ward_[b];
  ++occupancy_[b];
  ++group_count_[static_cast<std::size_t>(b) * residents_.num_groups + g];
  vacancy_tree_.add(position_of_block_[b], -1);
  group_trees_[g].add(position_of_block_[b], +1);
}

void MobilityPhase::age_and_renew(const Day& day) {
  enum BirthdayOutcome : std::uint8_t { none, move_up, die };
  Residents& r = residents_;
  const std::size_t n = r.size();
  const int groups = r.num_groups;
  const auto day_counter = static_cast<std::uint32_t>(day.index);
  std::vector<std::uint8_t> event(n, none);
  for (std::size_t i = 0; i < n; ++i) {
    RandomStream rng(key_, static_cast<std::uint32_t>(i), day_counter, purpose::kMobilityAgeing);
    const double u = rng.uniform();
    const int band = r.age_band[i];
    if (band == static_cast<int>(AgeBand::older))
      event[i] = u < params_.older_mortality ? die : none;
    else
      event[i] = u < kMoveUpShare[band] ? move_up : none;
  }

  // Newborns take the warmth norm of their group in their block (the deceased included, so the
  // cell is never empty), gathered for the cells with a death only.
  std::vector<std::int32_t> cell_slot(block_ward_.size() * groups, -1);
  std::int32_t cells = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (event[i] == die) {
      std::int32_t& slot = cell_slot[static_cast<std::size_t>(r.block[i]) * groups + r.group[i]];
      if (slot < 0) slot = cells++;
    }
  std::vector<double> norm(static_cast<std::size_t>(cells) * groups, 0.0);
  std::vector<std::int64_t> norm_count(static_cast<std::size_t>(cells), 0);
  if (cells > 0)
    for (std::size_t i = 0; i < n; ++i) {
      const std::int32_t slot = cell_slot[static_cast<std::size_t>(r.block[i]) * groups + r.group[i]];
      if (slot < 0) continue;
      ++norm_count[slot];
      const float* w = r.warmth_of(i);
      for (int g = 0; g < groups; ++g) norm[static_cast<std::size_t>(slot) * groups + g] += w[g];
    }
  for (std::int32_t c = 0; c < cells; ++c)
    for (int g = 0; g < groups; ++g) norm[static_cast<std::size_t>(c) * groups + g] /= static_cast<double>(norm_count[c]);

  for (std::size_t k = 0; k < n; ++k) {
    const auto i = static_cast<std::uint32_t>(k);
    if (event[i] == move_up) {
      const auto previous = static_cast<AgeBand>(r.age_band[i]);
      r.age_band[i] = static_cast<std::uint8_t>(r.age_band[i] + 1);
      RandomStream rng(key_, i, day_counter, purpose::kMobilityAgeingMembership);
      rejoin(i, r.group[i], {previous, false}, rng);
    } else if (event[i] == die) {
      const int g = r.group[i];
      const std::size_t cell = counts_.cell(r.ward[i], g);
      ++counts_.deaths[cell];
      const GroupTraits& traits = demography_.groups[g];
      const std::int32_t slot = cell_slot[static_cast<std::size_t>(r.block[i]) * groups + g];
      RandomStream rng(key_, i, day_counter, purpose::kMobilityNewborn);
      r.age_band[i] = static_cast<std::uint8_t>(AgeBand::child);
      r.english[i] = draw_beta(rng, traits.english_mean, traits.english_sd);
      r.anxiety[i] = draw_beta(rng, traits.anxiety_mean, traits.anxiety_sd);
      draw_warmth(rng, std::span<const double>(norm.data() + static_cast<std::size_t>(slot) * groups, groups),
                  traits.warmth_sd, g, demography_.warmth_correlation, r.warmth_of(i), r.disposition[i]);
      r.faith[i] = draw_faith(rng, traits.faith_shares);
      clear_history(r, i);
      if (!knowledge_.empty()) knowledge_[i] = 1.0f;  // born here
      RandomStream membership(key_, i, day_counter, purpose::kMobilityNewbornMembership);
      rejoin(i, g, {AgeBand::child, true}, membership);
      ++counts_.births[cell];
      mark_replaced(i);
    }
  }
}

// Who may act this month. Per resident: leave with monthly_out_; otherwise a move decision
// with monthly_move_cap_, a life-course move for the first monthly_base_move_ of it and a
// Schelling move (if dissatisfied) for the rest. Equivalent Bernoulli thinning: a resident is a
// candidate with monthly_any_ (found by geometric skips along a chunk's ids), and one uniform
// on [0, monthly_any_) then says which event it is. Decisions read the state at the start of
// the month only and each chunk has its own stream, so chunks could run in any order or in
// parallel with the same result (serial here: the pass touches only the few percent who act).
std::vector<MobilityPhase::Candidate> MobilityPhase::monthly_candidates(const Day& day) const {
  const std::size_t n = residents_.size();
  const std::size_t chunks = (n + kMobilityDecisionChunk - 1) / kMobilityDecisionChunk;
  std::vector<Candidate> found;
  if (monthly_any_ <= 0.0) return found;
  const double log_miss = monthly_any_ < 1.0 ? std::log1p(-monthly_any_) : 0.0;
  const auto day_counter = static_cast<std::uint32_t>(day.index);
  for (std::size_t c = 0; c < chunks; ++c) {
    RandomStream rng(key_, static_cast<std::uint32_t>(c), day_counter, purpose::kMobilityMonthly);
    const std::size_t end = std::min(n, (c + 1) * kMobilityDecisionChunk);
    // Residents skipped before the next candidate: Geometric(monthly_any_).
    auto skip = [&]() -> double {
      return log_miss < 0.0 ? std::floor(std::log1p(-rng.uniform()) / log_miss) : 0.0;
    };
    for (double next = static_cast<double>(c * kMobilityDecisionChunk) + skip(); next < static_cast<double>(end);
         next += 1.0 + skip()) {
      const auto i = static_cast<std::uint32_t>(next);
      const double u = rng.uniform() * monthly_any_;
      const std::uint32_t order = rng();
      if (replaced_mark_[i]) continue;  // a newborn this month
      MonthlyAction action = MonthlyAction::stay;
      if (u < monthly_out_)
        action = MonthlyAction::leave;
      else if ((u - monthly_out_) / (1.0 - monthly_out_) < monthly_base_move_)
        action = MonthlyAction::life_course_move;
      else if (dissatisfied(i))
        action = MonthlyAction::dissatisfied_move;
      if (action != MonthlyAction::stay) found.push_back({order, i, action});
    }
  }
  return found;
}

void MobilityPhase::migrate_and_move(const Day& day) {
  std::vector<Candidate> candidates = monthly_candidates(day);
  // Departures in id order; each slot is re-initialised as a newcomer at once.
  for (const Candidate& c : candidates)
    if (c.action == MonthlyAction::leave) depart_and_replace(c.id, day);
  // Movers in a random activation order, so no ward or block always gets first pick.
  std::erase_if(candidates, [](const Candidate& c) { return c.action == MonthlyAction::leave; });
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.order != b.order ? a.order < b.order : a.id < b.id; });
  for (const Candidate& c : candidates) move(c.id, c.action, day);
}

void MobilityPhase::depart_and_replace(std::uint32_t i, const Day& day) {
  Residents& r = residents_;
  const auto day_counter = static_cast<std::uint32_t>(day.index);
  const int previous_group = r.group[i];
  ++counts_.departures[counts_.cell(r.ward[i], previous_group)];
  leave_block(i);

  RandomStream rng(key_, i, day_counter, purpose::kMobilityNewcomer);
  const int g = draw_index(inflow_cumulative_, rng.uniform());
  const GroupTraits& traits = demography_.groups[g];
  const GroupMigration& migration = demography_.migration[g];
  r.group[i] = static_cast<std::uint8_t>(g);
  r.age_band[i] = static_cast<std::uint8_t>(draw_index(newcomer_age_cumulative_[g], rng.uniform()));
  r.english[i] = draw_beta(rng, migration.newcomer_english, traits.english_sd);
  r.anxiety[i] = draw_beta(rng, traits.anxiety_mean, traits.anxiety_sd);
  draw_warmth(rng, traits.warmth, traits.warmth_sd, g, demography_.warmth_correlation, r.warmth_of(i),
              r.disposition[i]);
  r.faith[i] = draw_faith(rng, traits.faith_shares);
  clear_history(r, i);
  if (!knowledge_.empty()) knowledge_[i] = static_cast<float>(migration.newcomer_knowledge);

  RandomStream placement(key_, i, day_counter, purpose::kMobilityNewcomerPlacement);
  enter_block(i, newcomer_block(g, placement));
  RandomStream membership(key_, i, day_counter, purpose::kMobilityNewcomerMembership);
  rejoin(i, previous_group, {static_cast<AgeBand>(r.age_band[i]), true}, membership);
  ++counts_.arrivals[counts_.cell(r.ward[i], g)];
  mark_replaced(i);
}

void MobilityPhase::move(std::uint32_t i, MonthlyAction why, const Day& day) {
  Residents& r = residents_;
  const int g = r.group[i];
  // Others have moved since the decision: a block that has become acceptable is kept.
  if (why == MonthlyAction::dissatisfied_move && !dissatisfied(i)) return;
  const auto day_counter = static_cast<std::uint32_t>(day.index);
  RandomStream rng(key_, i, day_counter, purpose::kMobilityDestination);
  const std::int64_t destination = choose_destination(i, why, rng);
  if (destination < 0) return;
  ++counts_.moves_out[counts_.cell(r.ward[i], g)];
  leave_block(i);
  enter_block(i, static_cast<std::uint32_t>(destination));
  ++counts_.moves_in[counts_.cell(r.ward[i], g)];
  RandomStream membership(key_, i, day_counter, purpose::kMobilityMoveMembership);
  rejoin(i, g, {static_cast<AgeBand>(r.age_band[i]), false}, membership);
}


// ---------------------------------------------------------------------------------------------
// checkpoints

void MobilityPhase::save(StateWriter& out) const {
  out.write("capacity", capacity_);
  out.write("occupancy", occupancy_);
  out.write("group_count", group_count_);
  out.write("venue_group_count", venue_group_count_);
  out.write("venue_dirty", venue_dirty_);
  out.write("dirty_venues", dirty_venues_);
  out.write("replaced_mark", replaced_mark_);
  out.write("replaced", replaced_);
  out.write("replaced_untaken", replaced_untaken_);
  StateWriter counts = out.child("counts");
  for_each_count_series([&](const char* name, auto series) { counts.write(name, counts_.*series); });
}

void MobilityPhase::restore(const StateReader& in) {
  in.read_into("capacity", capacity_);
  in.read_into("occupancy", occupancy_);
  in.read_into("group_count", group_count_);
  in.read_into("venue_group_count", venue_group_count_);
  in.read_into("venue_dirty", venue_dirty_);
  dirty_venues_ = in.read<std::int32_t>("dirty_venues");
  in.read_into("replaced_mark", replaced_mark_);
  replaced_ = in.read<std::uint32_t>("replaced");
  replaced_untaken_ = in.read<std::uint32_t>("replaced_untaken");
  const StateReader counts = in.child("counts");
  for_each_count_series([&](const char* name, auto series) { counts.read_into(name, counts_.*series); });
  // The search trees are sums over blocks of the counts just restored; rebuilding them gives
  // the very trees the run had (a Fenwick tree is a function of its counts).
  const int groups = residents_.num_groups;
  vacancy_tree_ = CountTree(block_ward_.size());
  group_trees_.assign(static_cast<std::size_t>(groups), CountTree(block_ward_.size()));
  for (std::size_t b = 0; b < block_ward_.size(); ++b) {
    if (occupancy_[b] > capacity_[b]) in.fail("occupancy", "block " + std::to_string(b) + " is over capacity");
    vacancy_tree_.add(position_of_block_[b], capacity_[b] - occupancy_[b]);
    for (int g = 0; g < groups; ++g) group_trees_[g].add(position_of_block_[b], group_count_[b * groups + g]);
  }
}

// ---- the mechanism ----------------------------------------------------------------------------
namespace {

struct MobilityConfig final : SettingsConfig<"mobility", MobilityParams, kMobilityParams> {
  std::vector<SeriesSpec> series() const override {
    if (!enabled) return {};
    return {{"moves_out", {"ward", "group"}, SeriesType::int64,
             "Residents who moved home out of a block of the ward during the period", "moves"},
            {"moves_in", {"ward", "group"}, SeriesType::int64,
             "Residents who moved home into a block of the ward during the period", "moves"},
            {"arrivals", {"ward", "group"}, SeriesType::int64,
             "Newcomers to the city settling in the ward during the period", "residents"},
            {"departures", {"ward", "group"}, SeriesType::int64,
             "Residents leaving the city from the ward during the period", "residents"}};
  }
};

Demography demography_of(const Scenario& s) {
  Demography d;
  for (const auto& g : s.groups) {
    d.groups.push_back({g.english_mean, g.english_sd, g.anxiety_mean, g.anxiety_sd, g.warmth, g.warmth_sd,
                        g.faith_shares});
    d.migration.push_back(g.migration);
  }
  for (const auto& f : s.faiths) d.faith_attendance.push_back(f.attendance);
  d.warmth_correlation = s.population.warmth_correlation;
  return d;
}

// Newcomers' knowledge of how things work, when the tension mechanism keeps it.
std::span<float> knowledge_of(const Links& links) {
  auto* tension = links.find<TensionState>("tension");
  return tension ? std::span<float>(tension->knowledge) : std::span<float>();
}

class MobilityMechanism final : public PhaseMechanism<MobilityPhase> {
 public:
  MobilityMechanism(const MobilityConfig& config, MechanismContext& c)
      : PhaseMechanism<MobilityPhase>(config.settings, demography_of(c.scenario), c.scenario.venue_types,
                                      c.world.residents, c.world.venues, c.world.block_ward,
                                      static_cast<int>(c.scenario.wards.size()), c.key, knowledge_of(c.links)),
        cells_(c.scenario.wards.size() * c.scenario.groups.size()),
        block_ward_(c.world.block_ward) {
    c.links.publish("mobility", phase_);
  }
  void record(SeriesWriter& out) override {
    MobilityCounts counts = phase_.take_counts();
    for (auto* v : {&counts.moves_out, &counts.moves_in, &counts.arrivals, &counts.departures}) {
      v->resize(cells_, 0);
      out.write(*v);
    }
  }
  std::vector<std::uint32_t> take_recycled_slots() override { return phase_.take_replaced(); }
  void before_day_checks() override { counts_before_ = phase_.pending_counts(); }
  void count_population_changes(PopulationChanges& changes) const override;
  void check_invariants(const InvariantContext& c) const override;

 private:
  std::size_t cells_;
  const std::vector<std::uint16_t>& block_ward_;
  MobilityCounts counts_before_;  // at before_day_checks
};

void MobilityMechanism::count_population_changes(PopulationChanges& changes) const {
  const MobilityCounts& now = phase_.pending_counts();
  auto add = [&](std::vector<std::int64_t>& to, const std::vector<std::int64_t> MobilityCounts::*series) {
    const std::vector<std::int64_t>& before = counts_before_.*series;
    for (std::size_t cell = 0; cell < to.size(); ++cell)
      to[cell] += (now.*series).at(cell) - (before.size() > cell ? before[cell] : 0);
  };
  add(changes.births, &MobilityCounts::births);
  add(changes.deaths, &MobilityCounts::deaths);
  add(changes.arrivals, &MobilityCounts::arrivals);
  add(changes.departures, &MobilityCounts::departures);
  add(changes.moves_in, &MobilityCounts::moves_in);
  add(changes.moves_out, &MobilityCounts::moves_out);
}

// The phase keeps its own block occupancy and group counts to choose vacancies: they must
// match where residents actually live, and no block may be over capacity.
void MobilityMechanism::check_invariants(const InvariantContext& c) const {
  const Residents& r = c.residents;
  const std::size_t blocks = block_ward_.size();
  const std::size_t groups = static_cast<std::size_t>(r.num_groups);
  std::vector<std::int32_t> occupancy(blocks, 0), by_group(blocks * groups, 0);
  for (std::size_t i = 0; i < r.size(); ++i) {
    ++occupancy[r.block[i]];
    ++by_group[r.block[i] * groups + r.group[i]];
  }
  const auto kept = phase_.block_occupancy();
  const auto capacity = phase_.block_capacity();
  const auto kept_by_group = phase_.block_group_counts();
  for (std::size_t b = 0; b < blocks && b < kept.size(); ++b) {
    const std::string block = "block " + std::to_string(b);
    if (kept[b] != occupancy[b])
      throw InvariantError(c.day, "mobility's block occupancy matches the residents", block,
                           std::to_string(kept[b]) + " kept, " + std::to_string(occupancy[b]) + " living there");
    if (b < capacity.size() && occupancy[b] > capacity[b])
      throw InvariantError(c.day, "block within capacity", block,
                           std::to_string(occupancy[b]) + " residents, capacity " + std::to_string(capacity[b]));
    for (std::size_t g = 0; g < groups && b * groups + g < kept_by_group.size(); ++g)
      if (kept_by_group[b * groups + g] != by_group[b * groups + g])
        throw InvariantError(c.day, "mobility's block group counts match the residents",
                             block + ", group " + in_quotes(c.group_names.at(g)),
                             std::to_string(kept_by_group[b * groups + g]) + " kept, " +
                                 std::to_string(by_group[b * groups + g]) + " living there");
  }
}

}  // namespace

MechanismEntry mobility_mechanism() {
  return {"mobility", {}, {{purpose::kMobilityAgeing, purpose::kMobilityMoveMembership}},
          read_settings<MobilityConfig>,
          describe_settings<MobilityConfig>,
          build_when_enabled<MobilityMechanism, MobilityConfig>,
          2};
}

}  // namespace contactsim
