#pragma once
// Metrics: what a run reports, per recording period, into /series (DESIGN §5), and the
// end-of-run summary per group.
#include "models/run/metrics_params.hpp"  // generated from metrics.params.toml: MetricParams, kMetricParams
#include "core/calendar.hpp"
#include "core/params.hpp"
#include "core/recorder.hpp"
#include "core/links.hpp"
#include "models/city/state.hpp"

#include <array>
#include <functional>
#include <string>
#include <vector>

namespace contactsim {

class StateWriter;
class StateReader;

using MetricSettings = MechanismSwitch<MetricParams>;

// Pearson r across residents between recent intergroup contact (positive + negative memory) and
// mean outgroup warmth (0 when either does not vary).
double contact_warmth_correlation(const Residents& residents);

struct GroupSummary {
  std::string group;
  std::int64_t residents = 0;
  double mean_outgroup_warmth = 0;
  double get_on_well_share = 0;
  double mean_anxiety = 0;
  std::int64_t contacts_positive = 0;  // intergroup, whole run
  std::int64_t contacts_negative = 0;
  double mean_english = 0;
  double no_contact_share = 0;         // no intergroup encounter in the last 365 days
  double cross_group_friend_share = 0; // NaN when friendships are off
  double block_dissimilarity = 0;      // vs everyone else, over blocks
  double perceived_cohesion = 0;
};

struct Labels {
  std::vector<std::string> groups, wards, venue_types;
};

// The state metrics read (and the period tallies they clear).
struct MetricInputs {
  const Residents& residents;
  const Venues& venues;
  ContactTally& tally;
  VenueActivity& activity;
  Labels labels;
  std::size_t blocks = 0;  // residential blocks (residents.block indexes them)
  Date start;              // day index 0
};

// Mean English proficiency per (ward, group) (0 for an empty cell); identical for any thread count.
std::vector<double> mean_english(const Residents& residents, int wards);

// The city-wide series, in the order they are written (each mechanism declares its own).
std::vector<SeriesSpec> city_series();

class Friendships;

class Metrics {
 public:
  Metrics(const MetricSettings& settings, MetricInputs inputs);
  // Ward tension discounts perceived cohesion, and friendships enter the summary, when their
  // mechanisms run.
  void connect(const Links& links);

  void define_series(Recorder& recorder);
  // The series define_series made, in order (to replay a checkpoint's records into a new file).
  struct DefinedSeries {
    std::string name;
    int id = -1;
    SeriesType type = SeriesType::float32;
  };
  const std::vector<DefinedSeries>& defined_series() const { return defined_; }
  // Writes the city-wide series of the period ending on `date` (the caller ends the record).
  void record(Recorder& recorder, Date date);
  // Starts a new period after a record.
  void end_period();
  // Starts a new period without writing (when no recorder is attached).
  void discard_period();
  // Forgets everything counted so far, the whole-run totals too: the run proper starts now
  // (after its spin-up).
  void start_over();

  // `today`: the last simulated day (for the no-contact share).
  std::vector<GroupSummary> summary(Date today) const;

  // Checkpoints: the open period's tallies (contacts, venue activity and attendance) and
  // the whole-run contact totals. (Tension incidents and mobility counts are their phases'.)
  void save(StateWriter& out) const;
  void restore(const StateReader& in);
 private:
  // What save and restore keep, with its checkpoint names, in checkpoint order: f(name, array).
  template <class Self, class F>
  static void for_each_saved(Self& self, F&& f);
  void close_period();
  int define(Recorder& recorder, const SeriesSpec& spec);
  // A record's per-resident statistics, each computed in one pass in its own fixed order (so the
  // same values whatever ran beside it), then written.
  struct Segregation {
    std::vector<float> dissimilarity, isolation, exposure, theil;
  };
  struct Reach {
    std::vector<double> english, no_contact;
    std::vector<float> mixing;
  };
  Segregation segregation() const;
  Reach reach(Date date) const;
  std::vector<double> cohesion() const;
  void record_venues(Recorder& recorder);
  // A resident's contribution to perceived cohesion, given their mean outgroup warmth: 1 − T of
  // their ward if they get on well, else 0.
  double cohesion_of(std::size_t resident, double outgroup_warmth) const;

  double threshold_;
  const Residents& residents_;
  const Venues& venues_;
  ContactTally& tally_;
  VenueActivity& activity_;
  Labels labels_;
  std::vector<std::int64_t> total_positive_, total_negative_;  // whole run, same cells as tally
  std::size_t blocks_;
  Date start_;
  const std::vector<float>* ward_tension_;  // per ward; null without the tension mechanism
  const Friendships* friendships_;
  int population_ = -1, warmth_ = -1, get_on_well_ = -1, anxiety_ = -1, positive_ = -1, negative_ = -1;
  int pair_positive_ = -1, pair_negative_ = -1;
  int dissimilarity_ = -1, isolation_ = -1, exposure_ = -1, theil_ = -1;
  int attendance_ = -1, sessions_ = -1, budget_ = -1, open_ = -1;
  int english_ = -1, no_contact_ = -1, mixing_ = -1;
  int cohesion_ = -1;
  int contact_warmth_ = -1;
  std::vector<DefinedSeries> defined_;
};

}  // namespace contactsim
