#pragma once
// Who is at which venue today: a CSR index of agents by (venue, stratum), built by a stable
// counting sort in O(agents + venues × strata).
//
// Members of one venue are contiguous and, inside it, grouped by stratum (the models use the
// agent's group, so "partner from my own group" is a slice, not a search). Within a
// (venue, stratum) bucket agents appear in increasing id order whatever the thread count,
// which keeps every downstream draw deterministic.
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace contactsim {

class SessionIndex {
 public:
  static constexpr std::int32_t kNone = -1;

  // venue_of[i] in [0, num_venues) or kNone; stratum_of[i] in [0, num_strata).
  void build(std::span<const std::int32_t> venue_of, std::span<const std::uint8_t> stratum_of,
             std::int32_t num_venues, int num_strata);

  // The same index built in two steps, for a caller that assigns the agents itself and can count
  // them as it goes (sparing build's counting pass over every agent): start_counting, then for
  // each chunk c (agents [chunk_begin(c), chunk_begin(c + 1)), at most one per thread) add one
  // to histogram(c)[venue × num_strata + stratum] for every assigned agent of the chunk — chunks
  // may be counted in parallel, each by one thread — then place(). The result equals build's.
  void start_counting(std::size_t agents, std::int32_t num_venues, int num_strata);
  std::size_t chunks() const { return chunks_; }
  std::size_t chunk_begin(std::size_t c) const { return std::min(agents_, c * chunk_agents_); }
  std::uint32_t* histogram(std::size_t c) { return chunk_counts_.data() + c * buckets(); }
  void place(std::span<const std::int32_t> venue_of, std::span<const std::uint8_t> stratum_of);

  std::int32_t num_venues() const { return num_venues_; }
  int num_strata() const { return num_strata_; }
  std::uint32_t size(std::int32_t venue) const {
    return offsets_[bucket(venue + 1, 0)] - offsets_[bucket(venue, 0)];
  }
  std::span<const std::uint32_t> members(std::int32_t venue) const {
    return slice(bucket(venue, 0), bucket(venue + 1, 0));
  }
  std::span<const std::uint32_t> members(std::int32_t venue, int stratum) const {
    return slice(bucket(venue, stratum), bucket(venue, stratum) + 1);
  }
  // Offset of an agent's slot inside members(venue): members(venue)[k] for k in [0, size).
  std::uint32_t venue_begin(std::int32_t venue) const { return offsets_[bucket(venue, 0)]; }
  std::uint32_t stratum_begin(std::int32_t venue, int stratum) const {
    return offsets_[bucket(venue, stratum)];
  }
  std::size_t attendees() const { return members_.size(); }
  std::size_t bytes() const;

 private:
  std::size_t buckets() const { return static_cast<std::size_t>(num_venues_) * num_strata_; }
  std::size_t bucket(std::int32_t venue, int stratum) const {
    return static_cast<std::size_t>(venue) * num_strata_ + stratum;
  }
  std::span<const std::uint32_t> slice(std::size_t first_bucket, std::size_t end_bucket) const {
    return {members_.data() + offsets_[first_bucket], offsets_[end_bucket] - offsets_[first_bucket]};
  }

  std::int32_t num_venues_ = 0;
  int num_strata_ = 1;
  std::size_t agents_ = 0, chunks_ = 1, chunk_agents_ = 0;
  std::vector<std::uint32_t> offsets_;  // (num_venues × num_strata + 1) bucket starts
  std::vector<std::uint32_t> members_;  // agent ids
  std::vector<std::uint32_t> chunk_counts_;  // scratch: per-chunk histograms, reused daily
};

}  // namespace contactsim
