#include "models/encounters.hpp"

#include "models/purposes.hpp"

#include <boost/random/poisson_distribution.hpp>
#include <omp.h>

#include <algorithm>

namespace contactsim {

EncountersPhase::EncountersPhase(const EncounterSettings& settings, const MechanismSwitch<ValenceParams>& valence,
                                 const MechanismSwitch<AttitudeParams>& attitude, const std::vector<VenueType>& types,
                                 const Venues& venues, Residents& residents, const DailySessions& sessions,
                                 ContactTally& tally, StreamKey key)
    : enabled_(settings.enabled),
      intensity_(settings.params.intensity),
      valence_(valence),
      attitude_(attitude),
      plasticity_(attitude.params.plasticity()),
      types_(types),
      venues_(venues),
      residents_(residents),
      sessions_(sessions),
      tally_(tally),
      key_(key) {
  thread_tallies_.resize(static_cast<std::size_t>(omp_get_max_threads()));
  for (auto& t : thread_tallies_) {
    t.positive.assign(tally.positive.size(), 0);
    t.negative.assign(tally.negative.size(), 0);
  }
}

void EncountersPhase::run(const Day& day) {
  if (!enabled_) return;
  for (int slot = 0; slot < kNumSlots; ++slot) {
    const auto& venues = sessions_.venues_in_slot[slot];
    const std::int64_t count = static_cast<std::int64_t>(venues.size());
#pragma omp parallel
    {
      ThreadTally& mine = thread_tallies_[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(dynamic, 8)
      for (std::int64_t k = 0; k < count; ++k) run_session(day, slot, venues[static_cast<std::size_t>(k)], mine);
    }
  }
  // Integer tallies: the merge is exact in any order, so totals do not depend on threads.
  for (auto& t : thread_tallies_) {
    for (std::size_t c = 0; c < t.positive.size(); ++c) {
      tally_.positive[c] += t.positive[c];
      tally_.negative[c] += t.negative[c];
    }
    std::fill(t.positive.begin(), t.positive.end(), 0);
    std::fill(t.negative.begin(), t.negative.end(), 0);
    encounters_ += t.encounters;
    t.encounters = 0;
  }
}

void EncountersPhase::run_session(const Day& day, int slot, std::int32_t venue, ThreadTally& tally) {
  const SessionIndex& index = sessions_.index[slot];
  const std::uint32_t n = index.size(venue);
  if (n < 2) return;
  const int type_id = venues_.type[venue];
  const VenueType& type = types_[type_id];
  const double lambda = type.encounters * intensity_;
  const double quality = type.quality() * venues_.quality_factor[venue];
  const float depth = static_cast<float>(type.depth);
  const auto everyone = index.members(venue);
  const std::uint32_t venue_begin = index.venue_begin(venue);

  for (int g = 0; g < residents_.num_groups; ++g) {
    const auto own = index.members(venue, g);
    const auto n_own = static_cast<std::uint32_t>(own.size());
    const std::uint32_t n_out = n - n_own;
    if (n_own == 0 || n_out == 0) continue;
    const double p_out = (n_own > 1 ? 1.0 - type.homophily : 1.0) * n_out / (n - 1);
    RandomStream rng(key_, static_cast<std::uint32_t>(venue), static_cast<std::uint32_t>(day.index),
                     purpose::kEncounter + static_cast<Purpose>(slot * kMaxGroups + g));
    boost::random::poisson_distribution<std::int64_t, double> total_of(lambda * p_out * n_own);
    const std::int64_t count = total_of(rng);
    const std::uint32_t own_first = index.stratum_begin(venue, g) - venue_begin;
    // Encounters go in batches: pick every pair of the batch first and prefetch both parties'
    // state, so the scattered loads (city-wide venues draw members from everywhere) overlap
    // instead of stalling one after another.
    constexpr int kBatch = 16;
    std::array<std::uint32_t, kBatch> from{}, to{};
    for (std::int64_t done = 0; done < count; done += kBatch) {
      const int batch = static_cast<int>(std::min<std::int64_t>(kBatch, count - done));
      for (int b = 0; b < batch; ++b) {
        from[b] = own[rng.below(n_own)];
        // Uniform over the outgroup attendees: skip over the own group's contiguous slice.
        std::uint32_t r = rng.below(n_out);
        if (r >= own_first) r += n_own;
        to[b] = everyone[r];
        prefetch_party(from[b]);
        prefetch_party(to[b]);
      }
      for (int b = 0; b < batch; ++b) {
        const std::uint32_t i = from[b], j = to[b];
        const float min_english = std::min(residents_.english[i], residents_.english[j]);
        experience(i, residents_.group[j], min_english, quality, depth, type_id, rng, tally);
        experience(j, g, min_english, quality, depth, type_id, rng, tally);
      }
    }
    tally.encounters += count;
  }
}

void EncountersPhase::prefetch_party(std::uint32_t i) const {
  __builtin_prefetch(residents_.warmth_of(i), 1);
  __builtin_prefetch(&residents_.anxiety[i], 1);
  __builtin_prefetch(&residents_.positive_memory[i], 1);
  __builtin_prefetch(&residents_.negative_memory[i], 1);
  __builtin_prefetch(&residents_.english[i]);
  __builtin_prefetch(&residents_.group[i]);
  __builtin_prefetch(&residents_.ward[i]);
  __builtin_prefetch(&residents_.age_band[i]);
}

void EncountersPhase::experience(std::uint32_t self, int partner_group, float min_english, double quality,
                                 float depth, int venue_type, RandomStream& rng, ThreadTally& tally) {
  float* warmth = residents_.warmth_of(self);
  float& anxiety = residents_.anxiety[self];
  const double p_positive =
      valence_.enabled ? probability_positive(valence_.params, quality, min_english, warmth[partner_group], anxiety)
                       : probability_positive(valence_.params, 0.5, 0.5, 0.5, 0.0);
  const bool positive = rng.uniform() < p_positive;
  const std::size_t cell = tally_.cell(residents_.ward[self], residents_.group[self], venue_type);
  if (positive) {
    ++tally.positive[cell];
  } else {
    ++tally.negative[cell];
  }
  if (!attitude_.enabled) return;
  const float step = depth * plasticity_[residents_.age_band[self]];
  if (positive)
    apply_positive(attitude_.params, warmth, residents_.num_groups, residents_.group[self], partner_group, step,
                   anxiety, residents_.positive_memory[self]);
  else
    apply_negative(attitude_.params, warmth, partner_group, step, anxiety, residents_.negative_memory[self],
                   residents_.positive_memory[self]);
}

}  // namespace contactsim
