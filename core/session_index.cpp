#include "core/session_index.hpp"

#include <omp.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace contactsim {
namespace {
// Agents are split into contiguous chunks, each with its own histogram, so the count and
// scatter passes run in parallel yet produce the one stable order (whatever the chunking).
// A histogram has a counter per bucket, and buckets grow with the city (venues × strata): with
// chunks of a fixed number of agents the histograms grew with its square (3.9 GB over the three
// slots at 10⁷ agents). So there is at most one chunk per thread, and none smaller than this
// (small enough that a small city's attendance, which counts by chunk, still uses every thread).
constexpr std::size_t kMinChunkAgents = 1 << 12;

std::size_t chunk_count(std::size_t agents) {
  const std::size_t by_size = (agents + kMinChunkAgents - 1) / kMinChunkAgents;
  return std::clamp<std::size_t>(by_size, 1, static_cast<std::size_t>(std::max(1, omp_get_max_threads())));
}
}  // namespace

void SessionIndex::start_counting(std::size_t agents, std::int32_t num_venues, int num_strata) {
  num_venues_ = num_venues;
  num_strata_ = num_strata;
  agents_ = agents;
  chunks_ = chunk_count(agents);
  chunk_agents_ = (agents + chunks_ - 1) / chunks_;
  chunk_counts_.assign(chunks_ * buckets(), 0);
}

void SessionIndex::build(std::span<const std::int32_t> venue_of, std::span<const std::uint8_t> stratum_of,
                         std::int32_t num_venues, int num_strata) {
  start_counting(venue_of.size(), num_venues, num_strata);
#pragma omp parallel for schedule(static)
  for (std::size_t c = 0; c < chunks_; ++c) {
    std::uint32_t* counts = histogram(c);
    const std::size_t end = chunk_begin(c + 1);
    for (std::size_t i = chunk_begin(c); i < end; ++i)
      if (venue_of[i] != kNone) ++counts[bucket(venue_of[i], stratum_of[i])];
  }
  place(venue_of, stratum_of);
}

void SessionIndex::place(std::span<const std::int32_t> venue_of, std::span<const std::uint8_t> stratum_of) {
  const std::size_t n = venue_of.size();
  if (n != agents_)
    throw std::logic_error("SessionIndex::place: counted " + std::to_string(agents_) + " agents, given " +
                           std::to_string(n));
  const std::size_t buckets = this->buckets();
  // Exclusive prefix over (bucket, chunk): chunk c's agents in bucket b follow chunk c-1's.
  offsets_.assign(buckets + 1, 0);
  std::uint32_t running = 0;
  for (std::size_t b = 0; b < buckets; ++b) {
    offsets_[b] = running;
    for (std::size_t c = 0; c < chunks_; ++c) {
      std::uint32_t& slot = chunk_counts_[c * buckets + b];
      const std::uint32_t count = slot;
      slot = running;
      running += count;
    }
  }
  offsets_[buckets] = running;
  members_.resize(running);

#pragma omp parallel for schedule(static)
  for (std::size_t c = 0; c < chunks_; ++c) {
    std::uint32_t* cursor = chunk_counts_.data() + c * buckets;
    const std::size_t end = chunk_begin(c + 1);
    for (std::size_t i = chunk_begin(c); i < end; ++i)
      if (venue_of[i] != kNone) members_[cursor[bucket(venue_of[i], stratum_of[i])]++] = static_cast<std::uint32_t>(i);
  }
}

std::size_t SessionIndex::bytes() const {
  return (offsets_.capacity() + members_.capacity() + chunk_counts_.capacity()) * sizeof(std::uint32_t);
}

}  // namespace contactsim
