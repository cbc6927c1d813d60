#include "models/metrics.hpp"

#include "models/norms.hpp"
#include "models/segregation.hpp"

#include <algorithm>

namespace contactsim {
namespace {

struct CellAverages {
  std::vector<std::int64_t> population;  // [ward][group]
  std::vector<double> get_on_well;       // share, [ward][group]
  std::vector<double> anxiety;           // mean, [ward][group]
};

double outgroup_mean(const float* warmth, int groups, int own) {
  if (groups < 2) return 0.0;
  double sum = 0;
  for (int g = 0; g < groups; ++g)
    if (g != own) sum += warmth[g];
  return sum / (groups - 1);
}

// Serial on purpose: this runs once per record, and a fixed order keeps floats reproducible.
CellAverages cell_averages(const Residents& r, int wards, double threshold) {
  const int groups = r.num_groups;
  const std::size_t cells = static_cast<std::size_t>(wards) * groups;
  CellAverages a{std::vector<std::int64_t>(cells, 0), std::vector<double>(cells, 0.0), std::vector<double>(cells, 0.0)};
  for (std::size_t i = 0; i < r.size(); ++i) {
    const std::size_t cell = static_cast<std::size_t>(r.ward[i]) * groups + r.group[i];
    ++a.population[cell];
    if (outgroup_mean(r.warmth_of(i), groups, r.group[i]) >= threshold) a.get_on_well[cell] += 1.0;
    a.anxiety[cell] += r.anxiety[i];
  }
  for (std::size_t cell = 0; cell < cells; ++cell) {
    if (a.population[cell] == 0) continue;
    a.get_on_well[cell] /= static_cast<double>(a.population[cell]);
    a.anxiety[cell] /= static_cast<double>(a.population[cell]);
  }
  return a;
}

std::vector<float> to_float(const std::vector<double>& v) { return {v.begin(), v.end()}; }

}  // namespace

Metrics::Metrics(const MetricSettings& settings, const Residents& residents, ContactTally& tally, Labels labels,
                 std::size_t blocks)
    : threshold_(settings.params.get_on_well_threshold),
      residents_(residents),
      tally_(tally),
      labels_(std::move(labels)),
      total_positive_(tally.positive.size(), 0),
      total_negative_(tally.negative.size(), 0),
      blocks_(blocks) {}

void Metrics::define_series(Recorder& rec) {
  rec.define_dimension("ward", labels_.wards);
  rec.define_dimension("group", labels_.groups);
  rec.define_dimension("target_group", labels_.groups);
  rec.define_dimension("venue_type", labels_.venue_types);
  population_ = rec.define_series("population", {"ward", "group"}, SeriesType::int64,
                                  "Residents at the end of the period", "persons");
  warmth_ = rec.define_series("mean_warmth", {"ward", "group", "target_group"}, SeriesType::float32,
                              "Mean warmth of residents of (ward, group) toward target_group (feeling "
                              "thermometer / 100); the diagonal is in-group warmth",
                              "thermometer/100");
  get_on_well_ = rec.define_series("get_on_well_share", {"ward", "group"}, SeriesType::float32,
                                   "Share of residents whose mean outgroup warmth is at least "
                                   "mechanisms.metrics.get_on_well_threshold",
                                   "share");
  anxiety_ = rec.define_series("mean_anxiety", {"ward", "group"}, SeriesType::float32,
                               "Mean intergroup anxiety", "0-1");
  positive_ = rec.define_series("contacts_positive", {"ward", "group", "venue_type"}, SeriesType::int64,
                                "Positive intergroup encounters experienced during the period by residents "
                                "of (ward, group), by the venue type where they happened",
                                "encounters");
  negative_ = rec.define_series("contacts_negative", {"ward", "group", "venue_type"}, SeriesType::int64,
                                "Negative intergroup encounters experienced during the period", "encounters");
  rec.define_dimension("spatial_unit", {"block", "ward"});
  dissimilarity_ = rec.define_series("segregation_dissimilarity", {"spatial_unit", "group"}, SeriesType::float32,
                                     "Index of dissimilarity of each group vs everyone else over blocks or wards "
                                     "(Massey & Denton 1988)",
                                     "0-1");
  isolation_ = rec.define_series("segregation_isolation", {"spatial_unit", "group"}, SeriesType::float32,
                                 "Isolation index xPx: own-group share in the unit of the average member", "0-1");
  exposure_ = rec.define_series("segregation_exposure", {"spatial_unit", "group", "target_group"}, SeriesType::float32,
                                "Exposure index xPy: target_group's share in the unit of the average member of group",
                                "0-1");
  theil_ = rec.define_series("segregation_theil_h", {"spatial_unit"}, SeriesType::float32,
                             "Multigroup Theil information index H (Reardon & Firebaugh 2002)", "0-1");
}

void Metrics::record(Recorder& rec, Date date) {
  const int wards = static_cast<int>(labels_.wards.size());
  const CellAverages a = cell_averages(residents_, wards, threshold_);
  const std::vector<double> warmth = ward_group_mean_warmth(residents_, wards, nullptr);
  rec.write(population_, std::span<const std::int64_t>(a.population));
  rec.write(warmth_, std::span<const float>(to_float(warmth)));
  rec.write(get_on_well_, std::span<const float>(to_float(a.get_on_well)));
  rec.write(anxiety_, std::span<const float>(to_float(a.anxiety)));
  rec.write(positive_, std::span<const std::int64_t>(tally_.positive));
  rec.write(negative_, std::span<const std::int64_t>(tally_.negative));
  record_segregation(rec);
  rec.end_record(date.iso());
  close_period();
}

// Residential segregation over blocks and over wards, from where residents live now.
void Metrics::record_segregation(Recorder& rec) {
  const int groups = residents_.num_groups;
  const auto wards = static_cast<Eigen::Index>(labels_.wards.size());
  UnitCounts by_block = UnitCounts::Zero(static_cast<Eigen::Index>(blocks_), groups);
  UnitCounts by_ward = UnitCounts::Zero(wards, groups);
  for (std::size_t i = 0; i < residents_.size(); ++i) {
    by_block(residents_.block[i], residents_.group[i]) += 1.0;
    by_ward(residents_.ward[i], residents_.group[i]) += 1.0;
  }
  const SegregationIndices levels[2] = {segregation_indices(by_block), segregation_indices(by_ward)};
  std::vector<float> dissimilarity, isolation, exposure, theil;
  for (const auto& s : levels) {
    for (int g = 0; g < groups; ++g) {
      dissimilarity.push_back(static_cast<float>(s.dissimilarity(g)));
      isolation.push_back(static_cast<float>(s.isolation(g)));
      for (int h = 0; h < groups; ++h) exposure.push_back(static_cast<float>(s.exposure(g, h)));
    }
    theil.push_back(static_cast<float>(s.theil_h));
  }
  rec.write(dissimilarity_, std::span<const float>(dissimilarity));
  rec.write(isolation_, std::span<const float>(isolation));
  rec.write(exposure_, std::span<const float>(exposure));
  rec.write(theil_, std::span<const float>(theil));
}

void Metrics::discard_period() { close_period(); }

void Metrics::close_period() {
  for (std::size_t c = 0; c < tally_.positive.size(); ++c) {
    total_positive_[c] += tally_.positive[c];
    total_negative_[c] += tally_.negative[c];
  }
  tally_.clear();
}

std::vector<GroupSummary> Metrics::summary() const {
  const int groups = residents_.num_groups;
  std::vector<GroupSummary> out(static_cast<std::size_t>(groups));
  std::vector<double> warmth_sum(out.size(), 0.0), anxiety_sum(out.size(), 0.0);
  std::vector<std::int64_t> well(out.size(), 0);
  for (std::size_t i = 0; i < residents_.size(); ++i) {
    const int g = residents_.group[i];
    const double m = outgroup_mean(residents_.warmth_of(i), groups, g);
    ++out[g].residents;
    warmth_sum[g] += m;
    anxiety_sum[g] += residents_.anxiety[i];
    if (m >= threshold_) ++well[g];
  }
  for (int g = 0; g < groups; ++g) {
    GroupSummary& s = out[g];
    s.group = labels_.groups[g];
    if (s.residents > 0) {
      s.mean_outgroup_warmth = warmth_sum[g] / static_cast<double>(s.residents);
      s.mean_anxiety = anxiety_sum[g] / static_cast<double>(s.residents);
      s.get_on_well_share = static_cast<double>(well[g]) / static_cast<double>(s.residents);
    }
  }
  // Contacts still in the open period count too.
  for (int w = 0; w < tally_.wards; ++w)
    for (int g = 0; g < groups; ++g)
      for (int t = 0; t < tally_.venue_types; ++t) {
        const std::size_t c = tally_.cell(w, g, t);
        out[g].contacts_positive += total_positive_[c] + tally_.positive[c];
        out[g].contacts_negative += total_negative_[c] + tally_.negative[c];
      }
  return out;
}

}  // namespace contactsim
