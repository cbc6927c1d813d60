#pragma once
// Keyed counter-based random streams (DESIGN §6).
//
// Every draw in a run comes from Philox4x32-10 (Random123), keyed by (seed, replicate) and
// countered by (entity, day, purpose, block). Nothing is carried from one draw to the next
// except inside one short-lived RandomStream, so a draw's value depends only on *what* it is
// for, never on which thread took it or in what order: results are identical for any thread
// count, and a baseline and a counterfactual share every draw until their histories diverge
// (common random numbers).
#include <Random123/philox.h>

#include <array>
#include <cstdint>
#include <limits>

namespace contactsim {

// Identifies a run's random universe. Two runs with the same key see the same numbers.
struct StreamKey {
  std::uint64_t seed = 0;
  std::uint32_t replicate = 0;
};

// Purposes partition the counter space so that different uses of the same entity on the same
// day never share numbers. Each mechanism declares the purpose ranges it draws from in its
// registry entry (MechanismEntry::purposes, models/mechanisms/mechanism.hpp); the world build's
// purposes are in models/city/purposes.hpp.
using Purpose = std::uint32_t;

// A UniformRandomBitGenerator over one (key, entity, day, purpose) counter prefix: Boost.Random
// (or <random>) distributions sit on top of it. Cheap to construct; make one per decision site.
class RandomStream {
 public:
  using result_type = std::uint32_t;

  // The run's key hashed once, for loops that open a stream per resident: the hash costs about
  // as much as the draws a resident needs.
  class PreparedKey {
   public:
    explicit PreparedKey(const StreamKey& key) noexcept : key_(philox_key(key)) {}

   private:
    friend class RandomStream;
    r123::Philox4x32::key_type key_;
  };

  RandomStream(const StreamKey& key, std::uint32_t entity, std::uint32_t day, Purpose purpose) noexcept
      : key_(philox_key(key)), counter_{{entity, day, purpose, 0}} {}
  RandomStream(const PreparedKey& key, std::uint32_t entity, std::uint32_t day, Purpose purpose) noexcept
      : key_(key.key_), counter_{{entity, day, purpose, 0}} {}

  // The stream's first four numbers (what its first four operator() calls give), computed
  // directly: a loop that needs only those for many entities can compute a run of blocks with
  // no branches between them, so the processor overlaps their independent rounds.
  static std::array<result_type, 4> first_four(const PreparedKey& key, std::uint32_t entity, std::uint32_t day,
                                               Purpose purpose) noexcept {
    const Philox::ctr_type block = Philox{}(Philox::ctr_type{{entity, day, purpose, 0}}, key.key_);
    return {block.v[0], block.v[1], block.v[2], block.v[3]};
  }

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

  result_type operator()() noexcept {
    if (next_ == 4) refill();
    return block_.v[next_++];
  }

  // Uniform on [0, 1) with 32 bits of resolution: the hot path for Bernoulli decisions.
  double uniform() noexcept { return static_cast<double>((*this)()) * 0x1p-32; }

  bool bernoulli(double p) noexcept { return uniform() < p; }

  // How many draws of operator() the stream has made (or skipped) so far.
  std::uint64_t position() const noexcept { return (static_cast<std::uint64_t>(counter_.v[3]) - 1) * 4 + next_; }

  // Moves on by `words` draws of operator() without making them: the stream then gives exactly
  // what it would have after them (counter-based, so any position is reached directly). Lets a
  // loop draw ahead for later work, in another copy, and still use every number for what it
  // would have been used for.
  void skip(std::uint64_t words) noexcept {
    const std::uint64_t target = position() + words;
    counter_.v[3] = static_cast<std::uint32_t>(target / 4);
    next_ = 4;
    if (const unsigned offset = static_cast<unsigned>(target % 4); offset != 0) {
      refill();
      next_ = offset;
    }
  }

  // Uniform integer in [0, n) by Lemire's multiply-shift (bias < n / 2^32, negligible here).
  std::uint32_t below(std::uint32_t n) noexcept {
    return static_cast<std::uint32_t>((static_cast<std::uint64_t>((*this)()) * n) >> 32);
  }

 private:
  using Philox = r123::Philox4x32;

  static std::uint64_t splitmix64(std::uint64_t x) noexcept {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }
  // The (seed, replicate) pair hashed into Philox's 64-bit key, so nearby seeds give unrelated
  // streams.
  static Philox::key_type philox_key(const StreamKey& k) noexcept {
    const std::uint64_t mixed = splitmix64(k.seed ^ splitmix64(0xC0A7AC75ULL + k.replicate));
    return {{static_cast<std::uint32_t>(mixed), static_cast<std::uint32_t>(mixed >> 32)}};
  }

  void refill() noexcept {
    block_ = Philox{}(counter_, key_);
    ++counter_.v[3];
    next_ = 0;
  }

  Philox::key_type key_;
  Philox::ctr_type counter_;
  Philox::ctr_type block_{};
  unsigned next_ = 4;
};

}  // namespace contactsim
