#pragma once
// Metrics: what a run reports, per recording period, into /series (DESIGN §5), and the
// end-of-run summary per group.
#include "core/calendar.hpp"
#include "core/params.hpp"
#include "core/recorder.hpp"
#include "models/state.hpp"

#include <array>
#include <string>
#include <vector>

namespace contactsim {

struct MetricParams {
  double get_on_well_threshold;
};

inline constexpr std::array<ParamSpec<MetricParams>, 1> kMetricParams{{
    {"get_on_well_threshold", &MetricParams::get_on_well_threshold, 0.5, 0, 1, "warmth",
     "A resident 'gets on well' with other groups when their mean outgroup warmth is at least "
     "the thermometer's neutral midpoint (50/100), mirroring the cohesion indicator 'people "
     "from different backgrounds get on well together' (Cohesion Strategy 2020-2024)"},
}};

using MetricSettings = MechanismSwitch<MetricParams>;

struct GroupSummary {
  std::string group;
  std::int64_t residents = 0;
  double mean_outgroup_warmth = 0;
  double get_on_well_share = 0;
  double mean_anxiety = 0;
  std::int64_t contacts_positive = 0;  // intergroup, whole run
  std::int64_t contacts_negative = 0;
};

struct Labels {
  std::vector<std::string> groups, wards, venue_types;
};

class Metrics {
 public:
  // `blocks`: number of residential blocks (residents.block indexes them).
  Metrics(const MetricSettings& settings, const Residents& residents, ContactTally& tally, Labels labels,
          std::size_t blocks);

  void define_series(Recorder& recorder);
  // Writes one record for the period ending on `date` and starts a new period.
  void record(Recorder& recorder, Date date);
  // Starts a new period without writing (when no recorder is attached).
  void discard_period();

  std::vector<GroupSummary> summary() const;

 private:
  void close_period();
  void record_segregation(Recorder& recorder);

  double threshold_;
  const Residents& residents_;
  ContactTally& tally_;
  Labels labels_;
  std::vector<std::int64_t> total_positive_, total_negative_;  // whole run, same cells as tally
  std::size_t blocks_;
  int population_ = -1, warmth_ = -1, get_on_well_ = -1, anxiety_ = -1, positive_ = -1, negative_ = -1;
  int dissimilarity_ = -1, isolation_ = -1, exposure_ = -1, theil_ = -1;
};

}  // namespace contactsim
