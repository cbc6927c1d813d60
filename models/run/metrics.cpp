#include "models/run/metrics.hpp"

#include "core/archive.hpp"

#include "models/mechanisms/friendships.hpp"
#include "models/mechanisms/norms.hpp"
#include "models/mechanisms/tension.hpp"
#include "models/run/segregation.hpp"

#include <algorithm>
#include <limits>

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

std::vector<double> mean_english(const Residents& residents, int wards) {
  return ward_group_mean(residents, wards, residents.english.to_vector());
}

namespace {

}  // namespace

Metrics::Metrics(const MetricSettings& settings, MetricInputs in)
    : threshold_(settings.params.get_on_well_threshold),
      residents_(in.residents),
      venues_(in.venues),
      tally_(in.tally),
      activity_(in.activity),
      labels_(std::move(in.labels)),
      total_positive_(in.tally.positive.size(), 0),
      total_negative_(in.tally.negative.size(), 0),
      blocks_(in.blocks),
      start_(in.start),
      ward_tension_(nullptr),
      friendships_(nullptr) {}

void Metrics::connect(const Links& links) {
  if (const auto* tension = links.find<TensionState>("tension")) ward_tension_ = &tension->tension;
  friendships_ = links.find<const Friendships>("friendships");
}

int Metrics::define(Recorder& rec, const SeriesSpec& spec) {
  const int id = rec.define_series(spec);
  defined_.push_back({spec.name, id, spec.type});
  return id;
}

std::vector<SeriesSpec> city_series() {
  return {
      {"population", {"ward", "group"}, SeriesType::int64,
                                  "Residents at the end of the period", "persons"},
      {"mean_warmth", {"ward", "group", "target_group"}, SeriesType::float32,
                              "Mean warmth of residents of (ward, group) toward target_group (feeling "
                              "thermometer / 100); the diagonal is in-group warmth",
                              "thermometer/100"},
      {"get_on_well_share", {"ward", "group"}, SeriesType::float32,
                                   "Share of residents whose mean outgroup warmth is at least "
                                   "mechanisms.metrics.get_on_well_threshold",
                                   "share"},
      {"mean_anxiety", {"ward", "group"}, SeriesType::float32,
                               "Mean intergroup anxiety", "0-1"},
      {"contacts_positive", {"ward", "group", "venue_type"}, SeriesType::int64,
                                "Positive intergroup encounters experienced during the period by residents "
                                "of (ward, group), by the venue type where they happened",
                                "encounters"},
      {"contacts_negative", {"ward", "group", "venue_type"}, SeriesType::int64,
                                "Negative intergroup encounters experienced during the period", "encounters"},
      {"contact_matrix_positive", {"group", "target_group"}, SeriesType::int64,
                                     "Positive intergroup encounters experienced during the period by members of "
                                     "group with members of target_group (the intergroup contact matrix)",
                                     "encounters"},
      {"contact_matrix_negative", {"group", "target_group"}, SeriesType::int64,
                                     "Negative intergroup encounters experienced during the period by members of "
                                     "group with members of target_group",
                                     "encounters"},
      {"segregation_dissimilarity", {"spatial_unit", "group"}, SeriesType::float32,
                                     "Index of dissimilarity of each group vs everyone else over blocks or wards "
                                     "(Massey & Denton 1988)",
                                     "0-1"},
      {"segregation_isolation", {"spatial_unit", "group"}, SeriesType::float32,
                                 "Isolation index xPx: own-group share in the unit of the average member", "0-1"},
      {"segregation_exposure", {"spatial_unit", "group", "target_group"}, SeriesType::float32,
                                "Exposure index xPy: target_group's share in the unit of the average member of group",
                                "0-1"},
      {"segregation_theil_h", {"spatial_unit"}, SeriesType::float32,
                             "Multigroup Theil information index H (Reardon & Firebaugh 2002)", "0-1"},
      {"venue_attendance", {"ward", "venue_type"}, SeriesType::int64,
                                  "Resident-sessions attended at venues of the ward during the period", "visits"},
      {"venue_sessions", {"ward", "venue_type"}, SeriesType::int64,
                                "Venue-days with a session held during the period", "sessions"},
      {"venue_budget", {"ward", "venue_type"}, SeriesType::float32,
                              "Annual budget of the ward's venues at the end of the period", "GBP/year"},
      {"venues_open", {"ward", "venue_type"}, SeriesType::int64,
                            "Venues operating at the end of the period", "venues"},
      {"mean_english", {"ward", "group"}, SeriesType::float32,
                               "Mean English proficiency", "0-1"},
      {"no_intergroup_contact_share", {"ward", "group"}, SeriesType::float32,
                                  "Share of residents with no intergroup encounter in the last 365 days (within "
                                  "the first year of a run: since it started)",
                                  "share"},
      {"intergroup_mixing_ratio", {"group"}, SeriesType::float32,
                              "Activity-space segregation: the share of the group's encounters during the period "
                              "that were intergroup, divided by the share random mixing across the city would "
                              "give (1 = as random; below 1 = people meet their own group more than chance). "
                              "In-group encounters are counted by their expected number",
                              "ratio"},
      {"perceived_cohesion", {"ward", "group"}, SeriesType::float32,
                                "Perceived area cohesion: the share who would agree people from different "
                                "backgrounds get on well in their area — residents whose mean outgroup warmth "
                                "is at least the get-on-well threshold, discounted by their ward's tension "
                                "(a resident counts 1 − T)",
                                "share"},
      {"contact_warmth_correlation", {}, SeriesType::float32,
                                     "Pearson r across all residents between recent intergroup contact (the "
                                     "fading memories of positive and negative encounters, half-life "
                                     "mechanisms.norms.memory_half_life_days) and mean outgroup warmth: the "
                                     "model's counterpart of the contact-prejudice correlation (Pettigrew & "
                                     "Tropp 2006: r = -.21 with prejudice, so about +.2 here)",
                                     "r"},
  };
}

void Metrics::define_series(Recorder& rec) {
  defined_.clear();
  rec.define_dimension("ward", labels_.wards);
  rec.define_dimension("group", labels_.groups);
  rec.define_dimension("target_group", labels_.groups);
  rec.define_dimension("venue_type", labels_.venue_types);
  std::vector<int> ids;
  for (const SeriesSpec& spec : city_series()) {
    // Defined where files written before the series table had it, so they stay identical.
    if (spec.name == "segregation_dissimilarity") rec.define_dimension("spatial_unit", {"block", "ward"});
    ids.push_back(define(rec, spec));
  }
  int* const members[] = {&population_, &warmth_, &get_on_well_, &anxiety_, &positive_, &negative_, &pair_positive_, &pair_negative_, &dissimilarity_, &isolation_, &exposure_, &theil_, &attendance_, &sessions_, &budget_, &open_, &english_, &no_contact_, &mixing_, &cohesion_, &contact_warmth_};
  for (std::size_t k = 0; k < ids.size(); ++k) *members[k] = ids[k];
}

void Metrics::record(Recorder& rec, Date date) {
  const int wards = static_cast<int>(labels_.wards.size());
  // The statistics are independent read-only passes over the residents, each summing in its own
  // fixed order: they run side by side (a serial stretch of every record otherwise), and their
  // values do not depend on which thread took which.
  CellAverages a;
  std::vector<double> warmth, cohesion_share;
  Segregation seg;
  Reach reached;
  double correlation = 0;
#pragma omp parallel sections
  {
#pragma omp section
    a = cell_averages(residents_, wards, threshold_);
#pragma omp section
    warmth = ward_group_mean_warmth(residents_, wards, nullptr);
#pragma omp section
    seg = segregation();
#pragma omp section
    reached = reach(date);
#pragma omp section
    cohesion_share = cohesion();
#pragma omp section
    correlation = contact_warmth_correlation(residents_);
  }
  rec.write(population_, std::span<const std::int64_t>(a.population));
  rec.write(warmth_, std::span<const float>(to_float(warmth)));
  rec.write(get_on_well_, std::span<const float>(to_float(a.get_on_well)));
  rec.write(anxiety_, std::span<const float>(to_float(a.anxiety)));
  rec.write(positive_, std::span<const std::int64_t>(tally_.positive));
  rec.write(negative_, std::span<const std::int64_t>(tally_.negative));
  rec.write(pair_positive_, std::span<const std::int64_t>(tally_.pair_positive));
  rec.write(pair_negative_, std::span<const std::int64_t>(tally_.pair_negative));
  rec.write(dissimilarity_, std::span<const float>(seg.dissimilarity));
  rec.write(isolation_, std::span<const float>(seg.isolation));
  rec.write(exposure_, std::span<const float>(seg.exposure));
  rec.write(theil_, std::span<const float>(seg.theil));
  record_venues(rec);
  rec.write(english_, std::span<const float>(to_float(reached.english)));
  rec.write(no_contact_, std::span<const float>(to_float(reached.no_contact)));
  rec.write(mixing_, std::span<const float>(reached.mixing));
  rec.write(cohesion_, std::span<const float>(to_float(cohesion_share)));
  const float r = static_cast<float>(correlation);
  rec.write(contact_warmth_, std::span<const float>(&r, 1));
}

double contact_warmth_correlation(const Residents& residents) {
  // Sums in one fixed order: the same value whatever the thread count.
  double n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (std::size_t i = 0; i < residents.size(); ++i) {
    const double x = residents.positive_memory[i] + residents.negative_memory[i];
    const double y = outgroup_mean(residents.warmth_of(i), residents.num_groups, residents.group[i]);
    n += 1, sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
  }
  const double vx = n * sxx - sx * sx, vy = n * syy - sy * sy;
  return vx > 0 && vy > 0 ? (n * sxy - sx * sy) / std::sqrt(vx * vy) : 0.0;
}

// Residential segregation over blocks and over wards, from where residents live now.
Metrics::Segregation Metrics::segregation() const {
  const int groups = residents_.num_groups;
  const auto wards = static_cast<Eigen::Index>(labels_.wards.size());
  UnitCounts by_block = UnitCounts::Zero(static_cast<Eigen::Index>(blocks_), groups);
  UnitCounts by_ward = UnitCounts::Zero(wards, groups);
  for (std::size_t i = 0; i < residents_.size(); ++i) {
    by_block(residents_.block[i], residents_.group[i]) += 1.0;
    by_ward(residents_.ward[i], residents_.group[i]) += 1.0;
  }
  const SegregationIndices levels[2] = {segregation_indices(by_block), segregation_indices(by_ward)};
  Segregation out;
  for (const auto& s : levels) {
    for (int g = 0; g < groups; ++g) {
      out.dissimilarity.push_back(static_cast<float>(s.dissimilarity(g)));
      out.isolation.push_back(static_cast<float>(s.isolation(g)));
      for (int h = 0; h < groups; ++h) out.exposure.push_back(static_cast<float>(s.exposure(g, h)));
    }
    out.theil.push_back(static_cast<float>(s.theil_h));
  }
  return out;
}

void Metrics::record_venues(Recorder& rec) {
  const std::size_t types = labels_.venue_types.size();
  const std::size_t cells = labels_.wards.size() * types;
  std::vector<std::int64_t> attendance(cells, 0), sessions(cells, 0), open(cells, 0);
  std::vector<double> budget(cells, 0.0);
  for (std::size_t v = 0; v < venues_.size(); ++v) {
    const std::size_t cell = venues_.ward[v] * types + venues_.type[v];
    attendance[cell] += activity_.attendances[v];
    sessions[cell] += activity_.sessions[v];
    open[cell] += venues_.open[v];
    budget[cell] += venues_.budget[v];
  }
  rec.write(attendance_, std::span<const std::int64_t>(attendance));
  rec.write(sessions_, std::span<const std::int64_t>(sessions));
  rec.write(budget_, std::span<const float>(to_float(budget)));
  rec.write(open_, std::span<const std::int64_t>(open));
}

// English, who has had no intergroup contact for a year, and how mixed encounters were.
Metrics::Reach Metrics::reach(Date date) const {
  const int groups = residents_.num_groups;
  const std::size_t cells = labels_.wards.size() * static_cast<std::size_t>(groups);
  const std::int32_t today = date - start_;
  std::vector<double> no_contact(cells, 0.0);
  std::vector<std::int64_t> population(cells, 0), group_size(static_cast<std::size_t>(groups), 0);
  for (std::size_t i = 0; i < residents_.size(); ++i) {
    const std::size_t cell = static_cast<std::size_t>(residents_.ward[i]) * groups + residents_.group[i];
    ++population[cell];
    ++group_size[residents_.group[i]];
    const std::int32_t last = residents_.last_intergroup_contact[i];
    no_contact[cell] += (last < 0 || today - last >= 365) ? 1.0 : 0.0;
  }
  for (std::size_t c = 0; c < cells; ++c)
    if (population[c] > 0) no_contact[c] /= static_cast<double>(population[c]);
  const auto total = static_cast<double>(residents_.size());
  std::vector<float> mixing(static_cast<std::size_t>(groups), std::numeric_limits<float>::quiet_NaN());
  for (int g = 0; g < groups; ++g) {
    double inter = 0, intra = 0;
    for (int w = 0; w < tally_.wards; ++w)
      for (int t = 0; t < tally_.venue_types; ++t) {
        const std::size_t c = tally_.cell(w, g, t);
        inter += static_cast<double>(tally_.positive[c] + tally_.negative[c]);
        intra += static_cast<double>(tally_.ingroup_milli[c]) / 1000.0;
      }
    const double random_share = (total - static_cast<double>(group_size[g])) / (total - 1.0);
    if (inter + intra > 0 && random_share > 0) mixing[g] = static_cast<float>(inter / (inter + intra) / random_share);
  }
  return {mean_english(residents_, static_cast<int>(labels_.wards.size())), std::move(no_contact), std::move(mixing)};
}

double Metrics::cohesion_of(std::size_t i, double outgroup_warmth) const {
  if (outgroup_warmth < threshold_) return 0.0;
  return 1.0 - (ward_tension_ ? (*ward_tension_)[residents_.ward[i]] : 0.0);
}

std::vector<double> Metrics::cohesion() const {
  const int groups = residents_.num_groups;
  const int wards = static_cast<int>(labels_.wards.size());
  const std::size_t cells = static_cast<std::size_t>(wards) * groups;
  std::vector<double> cohesion(cells, 0.0);
  std::vector<std::int64_t> population(cells, 0);
  for (std::size_t i = 0; i < residents_.size(); ++i) {
    const std::size_t cell = static_cast<std::size_t>(residents_.ward[i]) * groups + residents_.group[i];
    ++population[cell];
    cohesion[cell] += cohesion_of(i, outgroup_mean(residents_.warmth_of(i), groups, residents_.group[i]));
  }
  for (std::size_t c = 0; c < cells; ++c)
    if (population[c] > 0) cohesion[c] /= static_cast<double>(population[c]);
  return cohesion;
}

void Metrics::end_period() { close_period(); }

void Metrics::discard_period() { close_period(); }

void Metrics::start_over() {
  close_period();
  std::fill(total_positive_.begin(), total_positive_.end(), 0);
  std::fill(total_negative_.begin(), total_negative_.end(), 0);
}

void Metrics::close_period() {
  for (std::size_t c = 0; c < tally_.positive.size(); ++c) {
    total_positive_[c] += tally_.positive[c];
    total_negative_[c] += tally_.negative[c];
  }
  tally_.clear();
  activity_.clear();
}

std::vector<GroupSummary> Metrics::summary(Date today) const {
  const int groups = residents_.num_groups;
  std::vector<GroupSummary> out(static_cast<std::size_t>(groups));
  std::vector<double> warmth_sum(out.size(), 0.0), anxiety_sum(out.size(), 0.0);
  std::vector<double> english(out.size(), 0.0), no_contact(out.size(), 0.0), cohesion(out.size(), 0.0);
  std::vector<std::int64_t> well(out.size(), 0);
  const std::int32_t day = today - start_;
  UnitCounts by_block = UnitCounts::Zero(static_cast<Eigen::Index>(blocks_), groups);
  for (std::size_t i = 0; i < residents_.size(); ++i) {
    const int g = residents_.group[i];
    const double m = outgroup_mean(residents_.warmth_of(i), groups, g);
    ++out[g].residents;
    warmth_sum[g] += m;
    anxiety_sum[g] += residents_.anxiety[i];
    english[g] += residents_.english[i];
    const std::int32_t last = residents_.last_intergroup_contact[i];
    no_contact[g] += (last < 0 || day - last >= 365) ? 1.0 : 0.0;
    if (m >= threshold_) ++well[g];
    cohesion[g] += cohesion_of(i, m);
    by_block(residents_.block[i], g) += 1.0;
  }
  const SegregationIndices blocks = segregation_indices(by_block);
  std::vector<double> friends(out.size(), std::numeric_limits<double>::quiet_NaN());
  if (friendships_) {
    const auto share = friendships_->cross_group_friendship_share(static_cast<int>(labels_.wards.size()));
    std::vector<double> weighted(out.size(), 0.0);
    std::vector<std::int64_t> population(share.size(), 0);
    for (std::size_t i = 0; i < residents_.size(); ++i)
      ++population[static_cast<std::size_t>(residents_.ward[i]) * groups + residents_.group[i]];
    for (std::size_t c = 0; c < share.size(); ++c) weighted[c % groups] += share[c] * static_cast<double>(population[c]);
    for (int g = 0; g < groups; ++g)
      friends[g] = out[g].residents ? weighted[g] / static_cast<double>(out[g].residents) : 0.0;
  }
  for (int g = 0; g < groups; ++g) {
    const double n = out[g].residents ? static_cast<double>(out[g].residents) : 1.0;
    out[g].mean_english = english[g] / n;
    out[g].no_contact_share = no_contact[g] / n;
    out[g].perceived_cohesion = cohesion[g] / n;
    out[g].cross_group_friend_share = friends[g];
    out[g].block_dissimilarity = blocks.dissimilarity(g);
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


template <class Self, class F>
void Metrics::for_each_saved(Self& self, F&& f) {
  f("total_positive", self.total_positive_);
  f("total_negative", self.total_negative_);
  f("tally_positive", self.tally_.positive);
  f("tally_negative", self.tally_.negative);
  f("tally_ingroup_milli", self.tally_.ingroup_milli);
  f("tally_pair_positive", self.tally_.pair_positive);
  f("tally_pair_negative", self.tally_.pair_negative);
  f("venue_attendances", self.activity_.attendances);
  f("venue_sessions", self.activity_.sessions);
}

void Metrics::save(StateWriter& out) const {
  for_each_saved(*this, [&](const char* name, const auto& values) { out.write(name, values); });
}

void Metrics::restore(const StateReader& in) {
  for_each_saved(*this, [&](const char* name, auto& values) { in.read_into(name, values); });
}

}  // namespace contactsim
