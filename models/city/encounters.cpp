#include "models/city/encounters.hpp"
#include "models/city/world.hpp"
#include "models/mechanisms/settings.hpp"
#include "models/run/scenario.hpp"

#include "core/archive.hpp"

#include "models/city/purposes.hpp"

#include <boost/random/poisson_distribution.hpp>
#include <omp.h>

#include <algorithm>
#include <stdexcept>

namespace contactsim {

namespace {

// A party's contact state is one record (ContactState), whole cache lines from its first field.
void prefetch_party(const Residents& r, std::uint32_t i) {
  const auto* record = reinterpret_cast<const char*>(&r.english[i]);
  for (std::size_t line = 0; line < r.contact_state_stride(); line += kCacheLine) __builtin_prefetch(record + line, 1);
}

// Resident `self` (of `own_group`)'s experience of an encounter with a member of
// `partner_group`; returns whether it was positive. Both groups are known from the session's
// slices, which spares a scattered load per party.
bool experience(const EncounterRules& rules, const ContactSetting& setting, Residents& r, const ContactTally& layout,
                std::uint32_t self, int own_group, int partner_group, float min_english, std::uint32_t day,
                RandomStream& rng, ContactCounts& counts) {
  r.last_intergroup_contact[self] = static_cast<std::int32_t>(day);
  float* warmth = r.warmth_of(self);
  float& anxiety = r.anxiety[self];
  const double p_positive =
      rules.valence.enabled
          ? probability_positive(rules.valence.params, setting.quality, min_english, warmth[partner_group], anxiety,
                                 rules.ward_tension ? rules.ward_tension[r.ward[self]] : 0.0f)
          : probability_positive(rules.valence.params, 0.5, 0.5, 0.5, 0.0);
  const bool positive = rng.uniform() < p_positive;
  const std::size_t cell = layout.cell(r.ward[self], own_group, setting.venue_type);
  const std::size_t pair = layout.pair(own_group, partner_group);
  if (positive) {
    ++counts.positive[cell];
    ++counts.pair_positive[pair];
  } else {
    ++counts.negative[cell];
    ++counts.pair_negative[pair];
  }
  if (!rules.attitude.enabled) return positive;
  const float step = setting.depth * rules.plasticity[r.age_band[self]];
  if (positive)
    apply_positive(rules.attitude.params, warmth, r.num_groups, own_group, partner_group, step, anxiety,
                   r.positive_memory[self]);
  else
    apply_negative(rules.attitude.params, warmth, partner_group, step, anxiety, r.negative_memory[self],
                   r.positive_memory[self]);
  return positive;
}

}  // namespace

void ContactCounts::add_to(ContactTally& t) {
  for (std::size_t c = 0; c < positive.size(); ++c) {
    t.positive[c] += positive[c];
    t.negative[c] += negative[c];
    t.ingroup_milli[c] += ingroup_milli[c];
  }
  for (std::size_t c = 0; c < pair_positive.size(); ++c) {
    t.pair_positive[c] += pair_positive[c];
    t.pair_negative[c] += pair_negative[c];
  }
  std::fill(positive.begin(), positive.end(), 0);
  std::fill(negative.begin(), negative.end(), 0);
  std::fill(ingroup_milli.begin(), ingroup_milli.end(), 0);
  std::fill(pair_positive.begin(), pair_positive.end(), 0);
  std::fill(pair_negative.begin(), pair_negative.end(), 0);
}

GroupOffsets sort_by_group(const Residents& residents, std::span<std::uint32_t> members) {
  std::stable_sort(members.begin(), members.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return residents.group[a] < residents.group[b]; });
  GroupOffsets group_begin{};
  for (const std::uint32_t i : members) ++group_begin[residents.group[i] + 1];
  for (int g = 0; g < residents.num_groups; ++g) group_begin[g + 1] += group_begin[g];
  return group_begin;
}

void run_encounter_session(const EncounterRules& rules, const ContactSetting& setting, Residents& residents,
                           const ContactTally& layout, std::span<const std::uint32_t> members,
                           std::span<const std::uint32_t> group_begin, StreamKey key, std::uint32_t entity,
                           std::uint32_t day, Purpose purpose, ContactCounts& counts) {
  const auto n = static_cast<std::uint32_t>(members.size());
  if (n < 2) return;
  for (int g = 0; g < residents.num_groups; ++g) {
    const std::uint32_t own_first = group_begin[g];
    const std::uint32_t n_own = group_begin[g + 1] - own_first;
    const std::uint32_t n_out = n - n_own;
    if (n_own == 0) continue;
    const double p_out = n_out == 0 ? 0.0 : (n_own > 1 ? 1.0 - setting.homophily : 1.0) * n_out / (n - 1);
    if (n_own > 1) {
      // In-group encounters started by this group (expected; both parties are of g), credited to
      // the ward of the session's first member of g — a session's attendees mostly share a ward.
      const double expected = setting.encounters * n_own * (1.0 - p_out) * 2.0;
      const std::size_t cell = layout.cell(residents.ward[members[own_first]], g, setting.venue_type);
      counts.ingroup_milli[cell] += static_cast<std::int64_t>(std::llround(expected * 1000.0));
    }
    if (n_out == 0) continue;
    RandomStream rng(key, entity, day, purpose + static_cast<Purpose>(g));
    boost::random::poisson_distribution<std::int64_t, double> total_of(setting.encounters * p_out * n_own);
    const std::int64_t count = total_of(rng);
    // Encounters go in batches of kBatch pairs, and a batch's numbers lie at fixed places in the
    // stream: two per pair to choose both parties, then one per party for its experience. So the
    // next batch's pairs are chosen (by a copy of the stream moved on to them) and both parties'
    // state prefetched while this batch is experienced: the scattered loads (city-wide venues
    // draw members from everywhere) get a whole batch's work to arrive, and every number is
    // still used for exactly what it would be used for in order.
    constexpr int kBatch = 16;
    struct Batch {
      std::array<std::uint32_t, kBatch> from{}, to{};
      std::array<std::uint8_t, kBatch> to_group{};
      int size = 0;
    };
    const auto choose = [&](std::int64_t first, Batch& batch) {
      batch.size = static_cast<int>(std::min<std::int64_t>(kBatch, count - first));
      RandomStream picks = rng;
      picks.skip(4 * static_cast<std::uint64_t>(first));
      for (int b = 0; b < batch.size; ++b) {
        batch.from[b] = members[own_first + picks.below(n_own)];
        // Uniform over the outgroup attendees: skip over the own group's contiguous slice.
        std::uint32_t r = picks.below(n_out);
        if (r >= own_first) r += n_own;
        batch.to[b] = members[r];
        int h = 0;
        while (r >= group_begin[h + 1]) ++h;
        batch.to_group[b] = static_cast<std::uint8_t>(h);
        prefetch_party(residents, batch.from[b]);
        prefetch_party(residents, batch.to[b]);
        if (rules.prefetch) {
          rules.prefetch(batch.from[b], setting.stable);
          rules.prefetch(batch.to[b], setting.stable);
        }
      }
    };
    std::array<Batch, 2> batches;
    if (count > 0) choose(0, batches[0]);
    for (std::int64_t done = 0, k = 0; done < count; done += kBatch, k ^= 1) {
      if (done + kBatch < count) choose(done + kBatch, batches[static_cast<std::size_t>(k ^ 1)]);
      const Batch& batch = batches[static_cast<std::size_t>(k)];
      RandomStream experiences = rng;
      experiences.skip(4 * static_cast<std::uint64_t>(done) + 2 * static_cast<std::uint64_t>(batch.size));
      for (int b = 0; b < batch.size; ++b) {
        const std::uint32_t i = batch.from[b], j = batch.to[b];
        const float min_english = std::min(residents.english[i], residents.english[j]);
        const int h = batch.to_group[b];
        const bool i_positive =
            experience(rules, setting, residents, layout, i, g, h, min_english, day, experiences, counts);
        const bool j_positive =
            experience(rules, setting, residents, layout, j, h, g, min_english, day, experiences, counts);
        if (i_positive && j_positive && rules.on_positive) rules.on_positive(i, j, setting.stable);
      }
      // The batches' places in the stream assume one number per experience: a draw added to
      // experience() must move them, or pairs and experiences would share numbers.
      if (experiences.position() != rng.position() + 4 * static_cast<std::uint64_t>(done + batch.size))
        throw std::logic_error("run_encounter_session: an experience drew other than one number");
    }
    counts.encounters += count;
  }
}

EncountersPhase::EncountersPhase(const EncounterSettings& settings, const EncounterRules& rules,
                                 const std::vector<VenueType>& types, const Venues& venues, Residents& residents,
                                 const DailySessions& sessions, ContactTally& tally, StreamKey key)
    : enabled_(settings.enabled),
      intensity_(settings.params.intensity),
      rules_(rules),
      types_(types),
      venues_(venues),
      residents_(residents),
      sessions_(sessions),
      tally_(tally),
      key_(key) {
  thread_counts_.resize(static_cast<std::size_t>(omp_get_max_threads()));
  for (auto& t : thread_counts_) t.resize_like(tally);
}

void EncountersPhase::run(const Day& day) {
  if (!enabled_) return;
  for (int slot = 0; slot < kNumSlots; ++slot) {
    const auto& venues = sessions_.venues_in_slot[slot];
    const std::int64_t count = static_cast<std::int64_t>(venues.size());
#pragma omp parallel
    {
      ContactCounts& mine = thread_counts_[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(dynamic, 8)
      for (std::int64_t k = 0; k < count; ++k) run_session(day, slot, venues[static_cast<std::size_t>(k)], mine);
    }
  }
  // Integer tallies: the merge is exact in any order, so totals do not depend on threads.
  for (auto& t : thread_counts_) {
    t.add_to(tally_);
    encounters_ += t.encounters;
    t.encounters = 0;
  }
}

void EncountersPhase::run_session(const Day& day, int slot, std::int32_t venue, ContactCounts& counts) {
  const SessionIndex& index = sessions_.index[slot];
  if (index.size(venue) < 2) return;
  const VenueType& type = types_[venues_.type[venue]];
  ContactSetting setting;
  setting.encounters = type.encounters * intensity_;
  setting.homophily = type.homophily;
  setting.quality = type.quality() * venues_.quality_factor[venue];
  setting.depth = static_cast<float>(type.depth);
  setting.venue_type = venues_.type[venue];
  setting.stable = type.stable;
  std::array<std::uint32_t, kMaxGroups + 1> group_begin{};
  const std::uint32_t first = index.venue_begin(venue);
  for (int g = 0; g < residents_.num_groups; ++g) group_begin[g] = index.stratum_begin(venue, g) - first;
  group_begin[residents_.num_groups] = index.size(venue);
  run_encounter_session(rules_, setting, residents_, tally_, index.members(venue),
                        std::span<const std::uint32_t>(group_begin.data(), residents_.num_groups + 1), key_,
                        static_cast<std::uint32_t>(venue), static_cast<std::uint32_t>(day.index),
                        purpose::kEncounter + static_cast<Purpose>(slot * kMaxGroups), counts);
}


void EncountersPhase::save(StateWriter& out) const { out.scalar("encounters", encounters_); }

void EncountersPhase::restore(const StateReader& in) { encounters_ = in.scalar<std::int64_t>("encounters"); }

namespace {
struct EncountersConfig final : SettingsConfig<"encounters", EncounterParams, kEncounterParams> {
};
}  // namespace

MechanismEntry encounters_mechanism() {
  return {"encounters", {}, {{purpose::kEncounter, purpose::kEncounter + kNumSlots * kMaxGroups - 1}},
          read_settings<EncountersConfig>,
          describe_settings<EncountersConfig>,
          [](const MechanismConfig& config, MechanismContext& c) -> std::unique_ptr<Mechanism> {
            auto m = std::make_unique<PhaseMechanism<EncountersPhase>>(
                config_as<EncountersConfig>(config).settings, c.rules, c.scenario.venue_types, c.world.venues,
                c.world.residents, c.links.need<DailySessions>("daily_sessions", "encounters"), c.tally, c.key);
            c.links.publish("encounters", m->phase());
            return m;
          }};
}

}  // namespace contactsim
