#pragma once
// Media and rumour (DESIGN §3.8): negative stories about a group lower warmth toward it, less
// so for residents who know its members, not at all for those with a friend in it.
//
// Keele evaluation 2022 (5.1.3): interviewees feared "the potential impact of negative stories
// on community relations" and wanted local media to counter them. Legewie (2013, AJS 118:1199)
// found that a terrorist attack abroad hardened attitudes toward immigrants, but least where
// people had contact with them; a cross-group friend shields warmth from such shocks.
//
// Timeline items:
//   [[timeline]]
//   kind = "media_shock"
//   date = 2020-03-01
//   target = "other_white"     # the group the story is about
//   magnitude = 0.1            # share of warmth lost at full exposure and no contact, in [0, 1]
//   ward = "Shelton"           # optional: a local rumour; absent = national news, every ward
//   label = "..."              # optional, for /events
//
//   [[timeline]]
//   kind = "myth_busting"
//   date = 2020-02-01
//   target = "other_white"     # stories about this group are countered
//   reach = 0.4                # probability a resident (of the ward, or the city) is reached
//   softening = 0.5            # share of a later shock's exposure prevented for those reached
//   window_days = 60           # optional (default 60): shocks dated date … date + window_days
//   ward = "Shelton"           # optional: a local campaign
//   label = "..."              # optional
//
// On a shock's date every resident of its ward (or the city) not in the target group t has
//   ΔA_i[t] = −magnitude · A_i[t] · exposure_i / (1 + contact_buffering · positive_memory_i)
// and the drop is a temporary offset, not a new attitude: each day a share
// 1 − 2^(−1/recovery_half_life_days) of what remains of it is given back (capped at warmth 1).
// Survey natural experiments find attitude shocks gone within days to weeks (Mancosu et al. 2020;
// Bove et al. 2023), so the norms' months-long pull would make them last far too long; what a
// shock changes for good is what the lowered warmth did to encounters while it lasted.
//   exposure_i = 0 with a friend in t (Legewie 2013), else Π over campaigns c reaching i of
//               (1 − softening_c)  (campaigns against t, dated on or before the shock and at
//               most window_days before it).
// positive_memory (the decaying count of the resident's positive intergroup encounters) stands
// in for recent positive contact with t: the model keeps no per-group memory. Whether campaign c
// reaches resident i is one keyed draw (entity = resident, day word = campaign index, purpose
// kMythBustingReach), the same for every shock it softens, so no per-resident state is stored;
// a local campaign reaches residents living in its ward on the day of the shock. Residents are
// updated independently: identical results for any thread count.
#include "models/mechanisms/media_params.hpp"  // generated from media.params.toml: MediaParams, kMediaParams
#include "models/mechanisms/mechanism.hpp"
#include "core/calendar.hpp"
#include "core/config.hpp"
#include "core/params.hpp"
#include "core/rng.hpp"
#include "core/scheduler.hpp"
#include "models/city/state.hpp"
#include "models/mechanisms/timeline.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace contactsim {

using MediaSettings = MechanismSwitch<MediaParams>;

// Prebunking effects fade over weeks to months without boosters (Maertens et al. 2021, J Exp
// Psychol Appl). Illustrative.
inline constexpr int kDefaultMythBustingWindowDays = 60;

struct MediaShock {
  Date date;
  int target = 0;          // group index
  double magnitude = 0;    // in [0, 1]
  int ward = -1;           // ward index, or -1 for national news
  std::string label;
};

struct MythBusting {
  Date date;
  int target = 0;          // group index
  double reach = 0;        // in [0, 1]
  double softening = 0;    // in [0, 1]
  int window_days = kDefaultMythBustingWindowDays;
  int ward = -1;           // ward index, or -1 for the whole city
  std::string label;
};

// Read one [[timeline]] item of kind "media_shock" / "myth_busting" (`kind` is read by the
// caller). Throw ConfigError naming the key for: a date outside the run, an unknown target group
// or ward, magnitude / reach / softening outside [0, 1], window_days outside [0, 3650].
MediaShock read_media_shock(const ConfigTable& item, Date start, Date end, const std::vector<std::string>& groups,
                            const std::vector<std::string>& wards);
MythBusting read_myth_busting(const ConfigTable& item, Date start, Date end, const std::vector<std::string>& groups,
                              const std::vector<std::string>& wards);

// Whether resident i has a friend in group g (Friendships::has_friend_in); null = nobody has.
using HasFriendIn = std::function<bool(std::uint32_t, int)>;

class MediaPhase final : public Phase {
 public:
  // Group and ward names are for /events.
  MediaPhase(const MediaSettings& settings, std::vector<MediaShock> shocks, std::vector<MythBusting> campaigns,
             HasFriendIn has_friend_in, std::vector<std::string> group_names, std::vector<std::string> ward_names,
             Residents& residents, EventLog& log, StreamKey key);
  const char* name() const override { return "media"; }
  void run(const Day& day) override;
  void save(StateWriter& out) const override;
  void restore(const StateReader& in) override;
  // Slots now holding someone else start without the previous occupant's offsets.
  void forget(std::span<const std::uint32_t> replaced);

  // Exposure of resident i to shock s (before contact buffering): 0 with a friend in the target.
  double exposure(std::uint32_t i, const MediaShock& shock) const;

 private:
  void apply(const MediaShock& shock, const Day& day);
  void recover();
  bool reached(std::uint32_t i, std::size_t campaign) const;

  MediaParams params_;
  bool enabled_;
  std::vector<MediaShock> shocks_;
  std::vector<MythBusting> campaigns_;
  HasFriendIn has_friend_in_;
  std::vector<std::string> group_names_, ward_names_;
  Residents& residents_;
  EventLog& log_;
  StreamKey key_;
  float recovery_keep_;             // share of an offset still outstanding after a day
  // Warmth each resident has still to recover, N×G (resident-major); empty before any shock.
  std::vector<float> offset_;
  bool recovering_ = false;         // some offset is still above kSettled
};

MechanismEntry media_mechanism();

}  // namespace contactsim
