#pragma once
// Residential mobility and demography (DESIGN §3.11), run on the 1st of each month (moves,
// migration) and on 1 January (ageing, deaths and births).
//
// The number of resident slots is fixed (arrays are pre-allocated, OpenABM style), so nothing
// downstream ever sees the population grow or shrink:
// - Migration: each resident leaves the city with a monthly probability (from an annual
//   out-migration rate). Their slot is at once re-initialised as an in-migrant ("newcomer")
//   whose group is drawn from the per-group inflow shares, so inflow equals outflow in count
//   every month and the total is constant while the composition drifts toward the inflow mix.
// - Deaths: older residents die at an annual rate; the slot becomes a newborn child of the
//   same group in the same block, so births equal deaths.
// A re-initialised slot is a different person under the same id: every per-resident state
// (traits, memberships) is redrawn here and the contact history (the field list's kFieldHistory
// fields: memories, last intergroup contact) cleared; state owned by other mechanisms (friend
// lists) must be cleared by them for the ids in replaced_slots().
//
// Blocks have a fixed capacity: their initial residents × (1 + vacancy_rate), rounded up. The
// city's vacancies are therefore fixed too; a move fills one vacancy and frees another.
//
// A household is modelled as a single resident: everyone decides alone. With ~200 residents
// per block and movers drawn at the household rate, block compositions evolve as they would
// with households of ~2.4 moving together (ONS mean household size); what is lost is that
// family members move on the same day (a child can move school without its parents).
//
// Moves each month, decided on the state at the start of the month and carried out one mover
// at a time in a keyed random order (vacancies taken by earlier movers are gone for later ones):
// - Life-course moves: anyone moves with base_move_rate a year (ONS: ~10% of people change
//   address each year, most locally).
// - Schelling moves (Schelling 1971): a resident whose block has a smaller own-group share of
//   neighbours than their tolerance threshold moves with probability move_probability a month.
//   The threshold is lower for warmer residents:
//     threshold = clamp(base_threshold × (1 − warmth_relief × mean outgroup warmth), 0, 1).
//   A dissatisfied resident whose block has become acceptable by the time their turn comes
//   (others moved) stays.
// - Destination: the mover views destination_candidates vacancies, each in their own ward with
//   probability local_move_share, otherwise anywhere in the city, each block weighted by its
//   number of vacancies (a random empty dwelling). They take the first (i.e. a random one)
//   whose own-group share of residents meets their threshold; if none does, a life-course
//   mover takes the first candidate anyway, while a dissatisfied mover takes the candidate
//   with the highest own-group share only if it beats their current block, else stays.
// - Newcomers (chain migration): with probability chain_strength a newcomer follows a
//   co-ethnic contact: a random resident of their group, whose block they move into if it has
//   a vacancy, else a random vacancy in the contact's ward; otherwise (or with no co-ethnics,
//   or no vacancy in that ward) a random vacancy in the city. The chance of a block rises with
//   its number of co-ethnics (MacDonald & MacDonald 1964).
// Moves change residents' block and ward, and their venue memberships follow (rejoin_venues).
//
// Ageing on 1 January: bands are 0–10, 11–17, 18–64 and 65+ years, ages uniform within a band,
// so a share 1/11 of children, 1/7 of youth and 1/47 of adults move up a band each year.
// Newborns take their warmth from their group's mean in their block (the norm they grow up
// in), their other traits from the group's; newcomers take their group's traits except English
// and knowledge, which are the group's newcomer values.
//
// Order on a run day: (1 January) deaths → births and moving up a band; then departures →
// newcomers in id order; then moves in random order; then Venues::member_group_share of the
// venues whose membership changed. A slot replaced this month neither leaves nor moves again
// until next month.
//
// Venue compositions (members, member_group_share) are kept by counting each membership this
// phase changes, so the monthly cost follows the movers, not the city. This assumes memberships
// change only here after the world is built; a mechanism that changes them elsewhere must
// keep Venues::members and member_group_share itself (refresh_compositions recounts all).
//
// Random numbers and cost: every decision is a keyed stream from the range 260–280 below. Who
// leaves or moves in a month is found by Bernoulli thinning with geometric skips over fixed
// chunks of resident ids (one stream per chunk), so a month costs what the few percent who act
// cost, not a pass over the city; only 1 January's ageing visits every resident. All of it is
// serial, in a fixed order (OpenMP barriers would cost more than this work), so results do not
// depend on the thread count; the streams are keyed so that the decision passes could be
// parallelised unchanged.
#include "models/mechanisms/mobility_params.hpp"  // generated from mobility.params.toml: MobilityParams, kMobilityParams
#include "models/mechanisms/mechanism.hpp"
#include "core/params.hpp"
#include "core/rng.hpp"
#include "core/scheduler.hpp"
#include "models/city/state.hpp"
#include "models/city/venue_types.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace contactsim {

namespace purpose {
// Residential mobility and demography: 260–280. Day = the run's day; entity = resident id except
// kMobilityMonthly, whose entity is a chunk of kMobilityDecisionChunk consecutive resident ids.
inline constexpr Purpose kMobilityAgeing = 260;             // 1 Jan: death or moving up a band
inline constexpr Purpose kMobilityAgeingMembership = 261;   // memberships after moving up a band
inline constexpr Purpose kMobilityNewborn = 262;            // newborn's traits
inline constexpr Purpose kMobilityNewbornMembership = 263;  // newborn's memberships
inline constexpr Purpose kMobilityMonthly = 264;            // who leaves or moves, and move order
inline constexpr Purpose kMobilityNewcomer = 265;           // newcomer's group, age and traits
inline constexpr Purpose kMobilityNewcomerPlacement = 266;  // newcomer's block (chain migration)
inline constexpr Purpose kMobilityNewcomerMembership = 267; // newcomer's memberships
inline constexpr Purpose kMobilityDestination = 268;        // mover's candidate vacancies
inline constexpr Purpose kMobilityMoveMembership = 269;     // memberships after a move
}  // namespace purpose

using MobilitySettings = MechanismSwitch<MobilityParams>;

// What a resident of a group is like when they first appear (newcomer or newborn): the
// group's [groups.*] traits of the scenario (GroupSpec), copied so this file does not depend
// on the scenario reader.
struct GroupTraits {
  double english_mean = 1.0;         // Beta-distributed proficiency of residents born here
  double english_sd = 0.0;           // also the spread of newcomers' English
  double anxiety_mean = 0.3;
  double anxiety_sd = 0.1;
  std::vector<double> warmth;        // mean warmth toward each group (own included)
  double warmth_sd = 0.15;           // spread in warmth units (logit-normal, as at world build)
  std::vector<double> faith_shares;  // per scenario faith; the remainder has none
};

// Who migrates in, per group.
struct GroupMigration {
  double inflow_share = 0;           // share of all newcomers who belong to the group
  double newcomer_english = 0.5;     // mean English proficiency on arrival (sd = english_sd)
  double newcomer_knowledge = 0.3;   // knowledge of "how things work" locally on arrival, [0,1]
  // Ages of newcomers (child, youth, adult, older): migrants are mostly young adults, some with
  // children (ONS long-term international migration: about three quarters aged 15–44).
  // Illustrative.
  std::array<double, kNumAgeBands> newcomer_age_shares{0.1, 0.05, 0.8, 0.05};
};

// Everything about groups and faiths that mobility needs from the scenario.
struct Demography {
  std::vector<GroupTraits> groups;
  std::vector<GroupMigration> migration;  // one per group; inflow shares are normalised
  std::vector<double> faith_attendance;   // per scenario faith (FaithSpec::attendance)
  double warmth_correlation = 0.6;        // population.warmth_correlation
};

// Which venues a resident may join, indexed once from the built venues. Street-like types
// (Membership::block) have one venue per block, created consecutively in block order
// (venues.cpp, build_blocks): block b's venue is the type's b-th venue.
class VenueDirectory {
 public:
  // Throws std::invalid_argument if a block-membership type does not have exactly one venue
  // per block in block order, or a venue's ward or faith is out of range.
  VenueDirectory(const Venues& venues, std::vector<VenueType> types, const std::vector<std::uint16_t>& block_ward,
                 int wards, std::vector<double> faith_attendance);

  int num_types() const { return static_cast<int>(types_.size()); }
  const VenueType& type(int t) const { return types_[t]; }
  // The venue of block-membership type t for `block`, or -1 if t is not such a type.
  std::int32_t block_venue(int t, std::uint32_t block) const;
  std::span<const std::int32_t> ward_pool(int t, int ward) const;  // every venue of t in the ward
  std::span<const std::int32_t> city_pool(int t) const;            // every venue of t
  std::span<const std::int32_t> faith_pool(int t, int faith, int ward) const;
  std::span<const std::int32_t> faith_city_pool(int t, int faith) const;
  // Share of residents of `band` (and `faith`) who belong to a venue of type t.
  double member_share(int t, int band, std::uint8_t faith) const;

 private:
  std::vector<VenueType> types_;
  std::vector<double> faith_attendance_;
  int wards_;
  std::vector<std::vector<std::int32_t>> block_venues_;       // [type][block]; empty if not block type
  std::vector<std::vector<std::vector<std::int32_t>>> ward_;  // [type][ward]
  std::vector<std::vector<std::int32_t>> city_;               // [type]
  std::vector<std::vector<std::vector<std::int32_t>>> faith_ward_;  // [type][faith × wards + ward]
  std::vector<std::vector<std::vector<std::int32_t>>> faith_city_;  // [type][faith]
};

// What changed for a resident since their memberships were last consistent.
struct MembershipChange {
  AgeBand previous_band = AgeBand::adult;  // the band the current memberships were drawn for
  bool new_person = false;                  // slot re-initialised: every membership is redrawn
};

// Brings resident i's memberships in line with their current block, ward, age band and faith,
// keeping Venues::members counts exact (member_group_share is not updated: MobilityPhase keeps
// it from its own counts; other callers can use refresh_compositions):
// - block types: the venue of the current block;
// - catchment/ward types: kept if in the current ward, else a random venue of the type in the
//   current ward (open ones preferred; none if the ward has none);
// - city types: kept (a job does not change with a move); new members join a venue in their
//   own ward with the type's local_share, else anywhere;
// - faith types: kept while the resident's faith is unchanged; new members join a venue of
//   their faith in their ward if there is one, else anywhere in the city.
// Eligibility follows the type's member_share for the new band: on a band change members stay
// with probability min(1, s_new/s_old) and non-members join with (s_new − s_old)/(1 − s_old)
// when s_new > s_old, so each band keeps its member share (a new adult leaves school, a new
// youth stays). A new person is drawn afresh with s_new.
void rejoin_venues(Residents& residents, Venues& venues, const VenueDirectory& directory, std::uint32_t resident,
                   const MembershipChange& change, RandomStream& rng);

// Recomputes Venues::members and member_group_share from every membership (O(residents ×
// types)): for callers that change memberships outside MobilityPhase, and for checks.
void refresh_compositions(Venues& venues, const Residents& residents);

// Events since the last take_counts(), per (ward, group): cell ward × groups + group.
struct MobilityCounts {
  int wards = 0;
  int groups = 0;
  std::vector<std::int64_t> moves_out;   // by the mover's origin ward and group
  std::vector<std::int64_t> moves_in;    // by the mover's destination ward and group
  std::vector<std::int64_t> arrivals;    // newcomers (in-migrants), by destination ward
  std::vector<std::int64_t> departures;  // out-migrants, by the ward they left
  std::vector<std::int64_t> births;
  std::vector<std::int64_t> deaths;

  void reset(int w, int g);
  std::size_t cell(int ward, int group) const { return static_cast<std::size_t>(ward) * groups + group; }
};

// Minimal Fenwick tree of non-negative counts over positions 0..n−1: add, prefix sums and
// "which position holds the k-th unit" in O(log n). Used to draw a random vacancy (or a random
// co-ethnic) with each block weighted by its count, in the whole city or one ward's range.
class CountTree {
 public:
  explicit CountTree(std::size_t n = 0) : tree_(n + 1, 0) {}
  std::size_t size() const { return tree_.size() - 1; }
  void add(std::size_t position, std::int64_t delta);
  std::int64_t prefix(std::size_t end) const;  // sum over positions [0, end)
  std::int64_t total() const { return total_; }
  // The position p with prefix(p) ≤ k < prefix(p + 1); requires 0 ≤ k < total().
  std::size_t find(std::int64_t k) const;

 private:
  std::vector<std::int64_t> tree_;
  std::int64_t total_ = 0;
};

// Resident ids per stream of the monthly decision pass (a fixed partition, so that results
// never depend on how the pass is scheduled).
inline constexpr std::size_t kMobilityDecisionChunk = 4096;

class MobilityPhase final : public Phase {
 public:
  // `knowledge` (optional, one value per resident, e.g. TensionState::knowledge; empty = not
  // tracked) receives newcomers' newcomer_knowledge and newborns' 1 (born here). Keeps
  // references to residents, venues and knowledge.
  // Throws std::invalid_argument if demography does not match the residents' groups, inflow
  // shares are all 0 while out_migration_rate > 0, a resident's block or ward is inconsistent
  // with block_ward, or the venue directory cannot be built.
  MobilityPhase(const MobilitySettings& settings, Demography demography, std::vector<VenueType> venue_types,
                Residents& residents, Venues& venues, const std::vector<std::uint16_t>& block_ward, int wards,
                StreamKey key, std::span<float> knowledge = {});
  const char* name() const override { return "mobility"; }
  // Acts on the 1st of each month except the run's first day (the world was built for it).
  void run(const Day& day) override;
  // Block occupancy and capacity, venue compositions by group, replaced slots and the counts
  // not yet taken. (Residents and venues themselves are saved by the simulation.)
  void save(StateWriter& out) const override;
  void restore(const StateReader& in) override;

  // Events since the last call, then zeroed.
  MobilityCounts take_counts();
  // Events since the last take_counts(), left in place (for the invariant checks).
  const MobilityCounts& pending_counts() const { return counts_; }
  // Ids re-initialised (departed → newcomer, died → newborn) at the last monthly run.
  std::span<const std::uint32_t> replaced_slots() const { return replaced_; }
  // Ids re-initialised since the last call (each once, in the order replaced), then cleared:
  // for the mechanisms that must forget a slot's previous occupant (friend lists, class
  // lists, trust). Empty on days the phase did nothing.
  std::vector<std::uint32_t> take_replaced();
  std::span<const std::int32_t> block_occupancy() const { return occupancy_; }
  std::span<const std::int32_t> block_capacity() const { return capacity_; }
  // Residents by block and group: block × groups + group.
  std::span<const std::int32_t> block_group_counts() const { return group_count_; }
  const VenueDirectory& directory() const { return directory_; }

 private:
  enum class MonthlyAction : std::uint8_t { stay, leave, life_course_move, dissatisfied_move };
  struct Candidate {
    std::uint32_t order;  // keyed random activation order of movers
    std::uint32_t id;
    MonthlyAction action;
  };

  void age_and_renew(const Day& day);
  void migrate_and_move(const Day& day);
  std::vector<Candidate> monthly_candidates(const Day& day) const;
  void depart_and_replace(std::uint32_t i, const Day& day);
  void move(std::uint32_t i, MonthlyAction why, const Day& day);

  float threshold_of(std::uint32_t i) const;
  bool dissatisfied(std::uint32_t i) const;  // own-group share of neighbours below threshold
  double neighbour_share(std::uint32_t block, int group) const;  // excluding the resident
  double resident_share(std::uint32_t block, int group) const;   // of a block one would join
  std::int64_t vacancies(std::uint32_t block) const { return capacity_[block] - occupancy_[block]; }
  // A vacancy drawn with blocks weighted by their vacancies, in a ward or (ward < 0) anywhere;
  // -1 if there is none.
  std::int64_t random_vacancy(int ward, RandomStream& rng) const;
  std::uint32_t newcomer_block(int group, RandomStream& rng) const;
  std::int64_t choose_destination(std::uint32_t i, MonthlyAction why, RandomStream& rng) const;
  // rejoin_venues, then the venue group counts of what changed (previous_group: the slot's
  // group before a re-initialisation).
  void rejoin(std::uint32_t i, int previous_group, const MembershipChange& change, RandomStream& rng);
  void mark_dirty(std::int32_t venue);
  void publish_compositions();  // members and member_group_share of venues that changed
  void leave_block(std::uint32_t i);
  void enter_block(std::uint32_t i, std::uint32_t block);
  void mark_replaced(std::uint32_t i);

  bool enabled_;
  MobilityParams params_;
  double monthly_base_move_;  // per-month probabilities from the annual rates
  double monthly_out_;
  double monthly_move_cap_;   // min(1, base + move_probability): chance of a move decision
  double monthly_any_;        // chance that a resident leaves or may move this month
  int candidates_;
  Demography demography_;
  std::vector<double> inflow_cumulative_;  // normalised inflow shares, cumulated
  std::vector<std::array<double, kNumAgeBands>> newcomer_age_cumulative_;  // per group, normalised
  VenueDirectory directory_;
  Residents& residents_;
  Venues& venues_;
  std::vector<std::uint16_t> block_ward_;
  int wards_;
  StreamKey key_;
  std::span<float> knowledge_;

  // Blocks in ward order, so each ward's blocks are one range of tree positions.
  std::vector<std::uint32_t> position_of_block_;
  std::vector<std::uint32_t> block_at_position_;
  std::vector<std::uint32_t> ward_begin_;  // wards + 1 positions
  std::vector<std::int32_t> capacity_;
  std::vector<std::int32_t> occupancy_;
  std::vector<std::int32_t> group_count_;  // block × groups + group
  CountTree vacancy_tree_;
  std::vector<CountTree> group_trees_;     // residents of each group by block position

  // Members of each venue by group (venue × groups + group), kept up to date with every
  // membership this phase changes; venues changed since the last publish are dirty.
  std::vector<std::uint32_t> venue_group_count_;
  std::vector<std::uint8_t> venue_dirty_;
  std::vector<std::int32_t> dirty_venues_;
  std::vector<std::int32_t> previous_venues_;  // scratch: one resident's memberships
  std::vector<std::uint8_t> replaced_mark_;
  std::vector<std::uint32_t> replaced_;
  std::vector<std::uint32_t> replaced_untaken_;
  MobilityCounts counts_;
};

MechanismEntry mobility_mechanism();

}  // namespace contactsim
