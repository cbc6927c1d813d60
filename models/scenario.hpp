#pragma once
// A validated, typed scenario: everything a run needs, read from a ConfigDocument.
// Reading a Scenario performs every check (types, ranges, references, census sums); a
// Scenario that exists is runnable. Nothing is written while reading.
#include "core/calendar.hpp"
#include "core/config.hpp"
#include "models/attendance.hpp"
#include "models/attitude.hpp"
#include "models/encounters.hpp"
#include "models/funding.hpp"
#include "models/metrics.hpp"
#include "models/norms.hpp"
#include "models/mobility.hpp"
#include "models/tension.hpp"
#include "models/esol.hpp"
#include "models/festivals.hpp"
#include "models/friendships.hpp"
#include "models/media.hpp"
#include "models/programmes.hpp"
#include "models/timeline.hpp"
#include "models/valence.hpp"
#include "models/venue_types.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace contactsim {

struct SimulationSettings {
  Date start;
  Date end;  // inclusive
  std::uint64_t seed = 1;
  std::uint32_t replicate = 0;
  int threads = 0;  // 0 = every core
};

struct GroupSpec {
  std::string name;
  std::string label;                 // human-readable, for tables and plots
  double english_mean = 1.0;         // Beta-distributed proficiency
  double english_sd = 0.0;
  double anxiety_mean = 0.3;         // Beta-distributed intergroup anxiety
  double anxiety_sd = 0.1;
  double knowledge = 0.9;            // "knowing how things work" (tension mechanism)
  GroupMigration migration;          // who arrives (mobility mechanism)
  std::vector<double> warmth;        // initial mean warmth toward each group (own included)
  double warmth_sd = 0.15;
  std::vector<double> faith_shares;  // per scenario faith; remainder has none
  std::array<double, kNumAgeBands> age_shares{};
};

struct FaithSpec {
  std::string name;
  double attendance = 1.0;  // multiplies place_of_worship member shares
};

struct WardSpec {
  std::string name;
  std::string code;
};

struct ExplicitVenue {
  std::string name;
  int type = 0;
  int ward = 0;
  std::int32_t capacity = -1;  // -1 = type's default
  int faith = -1;
  double budget = -1;          // annual GBP; -1 = type's default
};

struct PopulationSettings {
  std::string source;  // "census" or "synthetic"
  double scale = 1.0;
  int block_size = 200;
  double block_clustering = 0.5;
  double warmth_correlation = 0.6;
  std::vector<std::vector<std::int64_t>> counts;  // [ward][group], scaled, as simulated
  std::vector<std::vector<std::int64_t>> unscaled_counts;
};

struct RecordSettings {
  RecordInterval interval = RecordInterval::week;
};

struct Scenario {
  std::filesystem::path path;
  std::string resolved_text;
  std::string sha256;

  SimulationSettings simulation;
  PopulationSettings population;
  std::vector<GroupSpec> groups;
  std::vector<FaithSpec> faiths;
  std::vector<WardSpec> wards;
  std::vector<VenueType> venue_types;
  std::vector<ExplicitVenue> venues;
  std::vector<TimelineItem> timeline;
  std::vector<YouthProgrammeSpec> youth_programmes;
  std::vector<SchoolLinkingSpec> school_linking;
  std::vector<FestivalSpec> festivals;
  std::vector<EsolCourse> esol_courses;
  std::vector<MediaShock> media_shocks;
  std::vector<MythBusting> myth_busting;
  std::vector<ServicePeriod> services;
  std::vector<LeafletCampaign> leaflets;

  FundingSettings funding;
  ProgrammeSettings programmes;
  FriendshipSettings friendships;
  FestivalSettings festival_settings;
  EsolSettings esol;
  MediaSettings media;
  TensionSettings tension;
  MobilitySettings mobility;
  AttendanceSettings attendance;
  EncounterSettings encounters;
  MechanismSwitch<ValenceParams> valence;
  MechanismSwitch<AttitudeParams> attitude;
  NormSettings norms;
  MetricSettings metrics;
  RecordSettings record;

  int group_index(const std::string& name) const;
  int ward_index(const std::string& name) const;
  int venue_type_index(const std::string& name) const;
  std::int64_t population_size() const;
};

// Throws ConfigError (file:line: key: expected) for anything wrong.
Scenario read_scenario(const ConfigDocument& doc);
Scenario load_scenario(const std::filesystem::path& path);

// Every documented parameter default, for `contactsim params` and docs.
std::vector<ParamDescription> parameter_dictionary();

}  // namespace contactsim
