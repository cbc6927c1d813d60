#include "models/mechanisms/tension.hpp"
#include "core/text.hpp"
#include "models/city/encounters.hpp"
#include "models/city/world.hpp"
#include "models/mechanisms/settings.hpp"
#include "models/run/scenario.hpp"

#include "core/reduction.hpp"

#include "core/archive.hpp"

#include <boost/random/poisson_distribution.hpp>

#include <algorithm>
#include <utility>
#include <cmath>
#include <stdexcept>
#include <string>

namespace contactsim {
namespace {

// Random-stream purposes of this module (DESIGN §6), declared as a range in its registry entry
// (tension_mechanism, below); 232–250 stay free for tension and the programmes that feed it.
constexpr Purpose kTensionIncidents = 230;  // daily, entity = ward: the day's incident count
constexpr Purpose kLeafletReach = 231;      // daily, entity = resident: one draw per campaign
                                            // covering the resident, in scheduling order

// Sums and head counts of a per-resident array per (ward, group), index ward × groups + group;
// bit-identical for any thread count (core/reduction.hpp).
CellSums sum_by_ward_group(const Residents& r, int wards, const std::vector<float>& values) {
  const std::size_t cells = static_cast<std::size_t>(wards) * r.num_groups;
  return sum_by_cell(
      values.empty() ? 0 : r.size(), cells, 1,
      [&](std::size_t i) { return static_cast<std::size_t>(r.ward[i]) * r.num_groups + r.group[i]; },
      [&](std::size_t i, double* sum) { *sum += values[i]; });
}

// base^exponent by squaring: a handful of multiplications where std::pow would cost a call.
inline float power(float base, int exponent) {
  float result = 1.0f;
  for (; exponent > 0; exponent >>= 1, base *= base)
    if (exponent & 1) result *= base;
  return result;
}

void check_ward(int ward, int wards, bool city_allowed, const char* what) {
  const int lowest = city_allowed ? -1 : 0;
  if (ward < lowest || ward >= wards)
    throw std::out_of_range(std::string(what) + ": ward " + std::to_string(ward) + " is not in [" +
                            std::to_string(lowest) + ", " + std::to_string(wards) + ")");
}

}  // namespace

// --- TensionState ---------------------------------------------------------------------------

void TensionState::serve_ward(int ward, bool on) {
  check_ward(ward, wards(), false, "serve_ward");
  if (!on && served[ward]) services_ended.push_back(ward);
  served[ward] = on ? 1 : 0;
}

void TensionState::leaflet_campaign(int ward, bool translated, Date day) {
  check_ward(ward, wards(), true, "leaflet_campaign");
  pending_leaflets.push_back({day, ward, translated});
}

void TensionState::programme_cut_short(std::span<const std::uint32_t> participants) {
  for (std::uint32_t i : participants)
    if (!trust.empty() && i >= trust.size())
      throw std::out_of_range("programme_cut_short: resident " + std::to_string(i) + " of " +
                              std::to_string(trust.size()));
  programme_dropouts.insert(programme_dropouts.end(), participants.begin(), participants.end());
}

std::vector<std::int64_t> TensionState::take_incidents() {
  std::vector<std::int64_t> taken = incidents;
  std::fill(incidents.begin(), incidents.end(), 0);
  return taken;
}

TensionState make_tension_state(const TensionSettings& settings, std::size_t residents, int wards) {
  TensionState s;
  const auto w = static_cast<std::size_t>(wards);
  s.tension.assign(w, 0.0f);
  s.safety.assign(w, 1.0f);
  s.served.assign(w, 0);
  s.incidents.assign(w, 0);
  if (settings.enabled) {
    s.knowledge.assign(residents, 1.0f);
    s.trust.assign(residents, static_cast<float>(settings.params.initial_trust));
  }
  return s;
}

namespace {
void check_group_means(const Residents& residents, const std::vector<double>& group_means) {
  if (group_means.size() != static_cast<std::size_t>(residents.num_groups))
    throw std::invalid_argument("init_knowledge: " + std::to_string(group_means.size()) +
                                " group means for " + std::to_string(residents.num_groups) + " groups");
  for (std::size_t g = 0; g < group_means.size(); ++g)
    if (!(group_means[g] >= 0.0 && group_means[g] <= 1.0))
      throw std::invalid_argument("init_knowledge: group " + std::to_string(g) + " mean " +
                                  std::to_string(group_means[g]) + " is not in [0, 1]");
}
}  // namespace

void init_knowledge(TensionState& state, const Residents& residents, const std::vector<double>& group_means) {
  check_group_means(residents, group_means);
  if (state.knowledge.empty()) return;
  if (state.knowledge.size() != residents.size())
    throw std::invalid_argument("init_knowledge: state holds " + std::to_string(state.knowledge.size()) +
                                " residents, the city " + std::to_string(residents.size()));
  const std::size_t n = residents.size();
#pragma omp parallel for schedule(static, 4096)
  for (std::size_t i = 0; i < n; ++i) state.knowledge[i] = static_cast<float>(group_means[residents.group[i]]);
}

void reinitialise_residents(TensionState& state, const Residents& residents, std::span<const std::uint32_t> slots,
                            const std::vector<double>& group_means, const TensionSettings& settings) {
  check_group_means(residents, group_means);
  if (state.knowledge.empty()) return;
  for (std::uint32_t i : slots) {
    if (i >= state.knowledge.size())
      throw std::out_of_range("reinitialise_residents: slot " + std::to_string(i) + " of " +
                              std::to_string(state.knowledge.size()));
    state.knowledge[i] = static_cast<float>(group_means[residents.group[i]]);
    state.trust[i] = static_cast<float>(settings.params.initial_trust);
  }
}

std::vector<double> ward_group_mean(const Residents& residents, int wards, const std::vector<float>& values) {
  if (!values.empty() && values.size() != residents.size())
    throw std::invalid_argument("ward_group_mean: " + std::to_string(values.size()) + " values for " +
                                std::to_string(residents.size()) + " residents");
  const CellSums sums = sum_by_ward_group(residents, wards, values);
  std::vector<double> mean(sums.sum.size(), 0.0);
  for (std::size_t k = 0; k < mean.size(); ++k)
    if (sums.count[k] > 0) mean[k] = sums.sum[k] / static_cast<double>(sums.count[k]);
  return mean;
}

// --- TensionPhase ---------------------------------------------------------------------------

TensionPhase::TensionPhase(const TensionSettings& settings, Residents& residents, TensionState& state, StreamKey key)
    : params_(settings.params),
      enabled_(settings.enabled),
      interval_(static_cast<int>(std::lround(settings.params.interval_days))),
      tension_keep_(static_cast<float>(std::exp2(-1.0 / settings.params.half_life_days))),
      residents_(residents),
      state_(state),
      key_(key),
      served_days_(state.served.size(), 0),
      calm_kept_(state.served.size(), 1.0) {
  if (enabled_ && (state.knowledge.size() != residents.size() || state.trust.size() != residents.size()))
    throw std::invalid_argument("TensionPhase: the tension state holds " + std::to_string(state.knowledge.size()) +
                                " residents, the city " + std::to_string(residents.size()) +
                                " (make it with make_tension_state and the same settings)");
  if (interval_ < 1) throw std::invalid_argument("TensionPhase: interval_days must be at least 1");
}

void TensionPhase::run(const Day& day) {
  if (!enabled_) {
    // Inputs still arrive from the timeline; drop them so they do not pile up.
    state_.pending_leaflets.clear();
    state_.services_ended.clear();
    state_.programme_dropouts.clear();
    return;
  }
  if (state_.knowledge.size() != residents_.size())
    throw std::logic_error("TensionPhase: residents were added or removed without resizing the tension state");
  last_run_ = day.date;
  const std::vector<LeafletCampaign> leaflets = take_due_leaflets(day.date);
  if (!state_.services_ended.empty() || !state_.programme_dropouts.empty() || !leaflets.empty()) {
    settle();  // the days before the event first, so events and daily steps keep their order
    lower_trust_where_services_ended();
    lower_trust_of_programme_dropouts();
    if (!leaflets.empty()) read_leaflets(day, leaflets);
  }
  update_wards(day);
  if ((day.index + 1) % interval_ == 0) settle();
}

// Campaigns dated today or earlier, in the order they were scheduled (which fixes the order of
// each resident's reach draws).
std::vector<LeafletCampaign> TensionPhase::take_due_leaflets(Date today) {
  std::vector<LeafletCampaign> due, later;
  for (const LeafletCampaign& c : state_.pending_leaflets) (c.date <= today ? due : later).push_back(c);
  state_.pending_leaflets = std::move(later);
  return due;
}

// An abrupt end undoes part of the trust the service built (Keele 2022, 5.1.2).
void TensionPhase::lower_trust_where_services_ended() {
  if (state_.services_ended.empty()) return;
  std::vector<std::uint8_t> ended(state_.served.size(), 0);
  for (int w : state_.services_ended) ended[w] = 1;
  state_.services_ended.clear();
  const auto keep = static_cast<float>(1.0 - params_.trust_loss_on_end);
  const std::size_t n = residents_.size();
#pragma omp parallel for schedule(static, 4096)
  for (std::size_t i = 0; i < n; ++i)
    if (ended[residents_.ward[i]]) state_.trust[i] *= keep;
}

// Programme participants lose trust as a ward's residents do when its service ends. A resident
// listed twice (two programmes cut short) loses twice.
void TensionPhase::lower_trust_of_programme_dropouts() {
  const auto keep = static_cast<float>(1.0 - params_.trust_loss_on_end);
  for (std::uint32_t i : state_.programme_dropouts) state_.trust[i] *= keep;
  state_.programme_dropouts.clear();
}

// A campaign reaches each covered resident with probability leaflet_reach; a resident who
// needs a translation takes in only untranslated_comprehension of an English-only leaflet.
void TensionPhase::read_leaflets(const Day& day, const std::vector<LeafletCampaign>& leaflets) {
  const auto threshold = static_cast<float>(params_.translation_threshold);
  const double reach = params_.leaflet_reach;
  const auto full_effect = static_cast<float>(params_.leaflet_effect);
  const auto partial_effect = static_cast<float>(params_.leaflet_effect * params_.untranslated_comprehension);
  const std::size_t n = residents_.size();
#pragma omp parallel for schedule(static, 4096)
  for (std::size_t i = 0; i < n; ++i) {
    const int w = residents_.ward[i];
    const bool needs_translation = residents_.english[i] < threshold;
    RandomStream rng(key_, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(day.index), kLeafletReach);
    float& knowledge = state_.knowledge[i];
    for (const LeafletCampaign& c : leaflets) {
      if (c.ward >= 0 && c.ward != w) continue;
      if (!rng.bernoulli(reach)) continue;
      knowledge += (c.translated || !needs_translation ? full_effect : partial_effect) * (1.0f - knowledge);
    }
  }
  gap_stale_ = true;
}

void TensionPhase::refresh_ward_gap() {
  const int wards = state_.wards(), groups = residents_.num_groups;
  const CellSums sums = sum_by_ward_group(residents_, wards, state_.knowledge);
  ward_gap_.assign(wards, 0.0);
  ward_residents_.assign(wards, 0);
  for (int w = 0; w < wards; ++w) {
    double knowledge = 0.0;
    for (int g = 0; g < groups; ++g) {
      const std::size_t cell = static_cast<std::size_t>(w) * groups + g;
      ward_residents_[w] += sums.count[cell];
      knowledge += sums.sum[cell];
    }
    if (ward_residents_[w] > 0)
      ward_gap_[w] = std::clamp(1.0 - knowledge / static_cast<double>(ward_residents_[w]), 0.0, 1.0);
  }
  gap_stale_ = false;
}

// Incidents, tension and safety; the day's factors for the resident steps are accumulated.
void TensionPhase::update_wards(const Day& day) {
  if (gap_stale_) refresh_ward_gap();
  // Wards are few (tens to thousands): a serial loop; each ward's draw is keyed by the ward.
  for (int w = 0; w < state_.wards(); ++w) {
    double pressure = 0.0;  // incidents per 1,000 residents today
    if (ward_residents_[w] > 0) {
      const auto people = static_cast<double>(ward_residents_[w]);
      const double expected = params_.base_rate * people * (1.0 + params_.gap_weight * ward_gap_[w]) *
                              (1.0 - params_.services_effect * state_.served[w]);
      std::int64_t incidents = 0;
      if (expected > 0.0) {
        RandomStream rng(key_, static_cast<std::uint32_t>(w), static_cast<std::uint32_t>(day.index), kTensionIncidents);
        boost::random::poisson_distribution<std::int64_t, double> draw(expected);
        incidents = draw(rng);
      }
      state_.incidents[w] += incidents;
      pressure = static_cast<double>(incidents) / (people / 1000.0);
    }
    const double tension = state_.tension[w] * tension_keep_ + params_.incident_impact * pressure;
    state_.tension[w] = static_cast<float>(std::clamp(tension, 0.0, 1.0));
    state_.safety[w] = static_cast<float>(std::clamp(1.0 - params_.fear_weight * state_.tension[w], 0.0, 1.0));

    served_days_[w] += state_.served[w] ? 1 : 0;
    calm_kept_[w] *= 1.0 - params_.anxiety_from_tension * state_.tension[w];
  }
  ++pending_days_;
}

// Applies the accumulated days at once. Each step moves a value toward 1 by a share in [0,1],
// so values stay in [0,1] without clamping. Parallel over residents, each
// touching only its own entries.
void TensionPhase::settle() {
  if (!enabled_ || pending_days_ == 0) return;
  const int days = pending_days_;
  const auto learning = static_cast<float>(params_.learning_rate);
  const auto english_learning = static_cast<float>(params_.english_learning);
  const auto service_learning = static_cast<float>(params_.service_learning);
  // Per ward: days served, and the shares of the distrust and calm gaps that remain.
  const std::size_t wards = served_days_.size();
  const std::vector<int>& served_days = served_days_;
  std::vector<float> distrust_kept(wards), calm_kept(wards);
  for (std::size_t w = 0; w < wards; ++w) {
    distrust_kept[w] = static_cast<float>(std::pow(1.0 - params_.trust_gain, served_days_[w]));
    calm_kept[w] = static_cast<float>(calm_kept_[w]);
  }
  // Raw pointers: the loop keeps them in registers instead of reloading them per resident.
  const Strided<const std::uint16_t> ward = std::as_const(residents_).ward.strided();
  const Strided<const float> english = std::as_const(residents_).english.strided();
  const Strided<float> anxiety = residents_.anxiety.strided();
  float* knowledge = state_.knowledge.data();
  float* trust = state_.trust.data();
  const std::size_t n = residents_.size();

#pragma omp parallel for schedule(static, 4096)
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint16_t w = ward[i];
    // Two independent daily chances to learn: on one's own, and (when served) from champions.
    const float own_rate = std::min(1.0f, learning * (1.0f + english_learning * english[i]));
    const float champion_rate = std::min(1.0f, own_rate * service_learning * trust[i]);
    const float gap_kept = power(1.0f - own_rate, days) * power(1.0f - champion_rate, served_days[w]);
    // Written as x += (1 − kept)·(1 − x) so a value nothing acted on stays bit-identical.
    knowledge[i] += (1.0f - gap_kept) * (1.0f - knowledge[i]);
    trust[i] += (1.0f - distrust_kept[w]) * (1.0f - trust[i]);
    anxiety[i] += (1.0f - calm_kept[w]) * (1.0f - anxiety[i]);
  }

  std::fill(served_days_.begin(), served_days_.end(), 0);
  std::fill(calm_kept_.begin(), calm_kept_.end(), 1.0);
  pending_days_ = 0;
  gap_stale_ = true;
}


// --- checkpoints ----------------------------------------------------------------------------

void TensionPhase::save(StateWriter& out) const {
  out.write("knowledge", state_.knowledge);
  out.write("trust", state_.trust);
  out.write("tension", state_.tension);
  out.write("safety", state_.safety);
  out.write("served", state_.served);
  out.write("incidents", state_.incidents);
  out.write("services_ended", state_.services_ended);
  out.write("programme_dropouts", state_.programme_dropouts);
  out.write("served_days", served_days_);
  out.write("calm_kept", calm_kept_);
  out.scalar("pending_days", pending_days_);
  // The cached ward gaps are saved as they stand: they are refreshed only when knowledge
  // changes, so recomputing them now (after moves and newcomers) would change the trajectory.
  out.write("ward_gap", ward_gap_);
  out.write("ward_residents", ward_residents_);
  out.scalar("gap_stale", static_cast<int>(gap_stale_));
  out.scalar("last_run", last_run_.days_since_epoch());
}

void TensionPhase::restore(const StateReader& in) {
  // In place: attendance, valence and mobility hold pointers into these arrays.
  in.read_into("knowledge", state_.knowledge);
  in.read_into("trust", state_.trust);
  in.read_into("tension", state_.tension);
  in.read_into("safety", state_.safety);
  in.read_into("served", state_.served);
  in.read_into("incidents", state_.incidents);
  state_.services_ended = in.read<int>("services_ended");
  state_.programme_dropouts = in.read<std::uint32_t>("programme_dropouts");
  in.read_into("served_days", served_days_);
  in.read_into("calm_kept", calm_kept_);
  pending_days_ = in.scalar<int>("pending_days");
  ward_gap_ = in.read<double>("ward_gap");
  ward_residents_ = in.read<std::int64_t>("ward_residents");
  gap_stale_ = in.scalar<int>("gap_stale") != 0;
  if (!gap_stale_ && (ward_gap_.size() != state_.tension.size() || ward_residents_.size() != state_.tension.size()))
    in.fail("ward_gap", "does not hold one value per ward");
  last_run_ = Date::from_days(in.scalar<std::int32_t>("last_run"));
  std::erase_if(state_.pending_leaflets, [&](const LeafletCampaign& c) { return c.date <= last_run_; });
}

// ---- the mechanisms ---------------------------------------------------------------------------
namespace {


struct TensionConfig final : SettingsConfig<"tension", TensionParams, kTensionParams> {
  std::vector<LeafletCampaign> leaflets;
  std::vector<SeriesSpec> series() const override {
    if (!enabled) return {};
    return {{"tension", {"ward"}, SeriesType::float32, "Ward tension T at the period's end", "0-1"},
            {"incidents", {"ward"}, SeriesType::int64, "Anti-social-behaviour incidents during the period",
             "incidents"},
            {"mean_knowledge", {"ward", "group"}, SeriesType::float32,
             "Mean 'knowing how things work' (bins, parking, noise…)", "0-1"},
            {"mean_trust", {"ward", "group"}, SeriesType::float32, "Mean trust in local services", "0-1"}};
  }
};

std::vector<float> as_float(const std::vector<double>& values) { return {values.begin(), values.end()}; }

class TensionMechanism final : public Mechanism {
 public:
  TensionMechanism(const TensionConfig& config, MechanismContext& c)
      : config_(config),
        scenario_(c.scenario),
        residents_(c.world.residents),
        state_(make_tension_state(config.settings, c.world.residents.size(), static_cast<int>(c.scenario.wards.size()))),
        phase_(config.settings, c.world.residents, state_, c.key),
        cut_short_([this](std::span<const std::uint32_t> p) { state_.programme_cut_short(p); }) {
    std::vector<double> knowledge;
    for (const auto& g : c.scenario.groups) knowledge.push_back(g.knowledge);
    init_knowledge(state_, c.world.residents, knowledge);
    c.rules.ward_tension = state_.tension.data();
    for (const auto& campaign : config.leaflets) state_.leaflet_campaign(campaign.ward, campaign.translated, campaign.date);
    c.links.publish("tension", state_);
    c.links.publish("ward_safety", state_.safety);
    c.links.publish("programme_cut_short", cut_short_);
  }
  const char* name() const override { return phase_.name(); }
  void run(const Day& day) override { phase_.run(day); }
  void save(StateWriter& out) const override { phase_.save(out); }
  void restore(const StateReader& in) override { phase_.restore(in); }
  void record(SeriesWriter& out) override {
    out.write(state_.tension);
    out.write(state_.take_incidents());
    out.write(as_float(mean_knowledge(state_, residents_)));
    out.write(as_float(mean_trust(state_, residents_)));
  }
  // Slots are re-used by newcomers (and newborns): they start with newcomers' knowledge.
  void forget(std::span<const std::uint32_t> replaced) override {
    std::vector<double> knowledge;
    for (const auto& g : scenario_.groups) knowledge.push_back(g.migration.newcomer_knowledge);
    reinitialise_residents(state_, residents_, replaced, knowledge, config_.settings);
  }
  // Ward tension and safety, residents' knowledge and trust in [0,1]; incidents >= 0.
  void check_invariants(const InvariantContext& c) const override {
    const TensionState& t = state_;
    for (std::size_t w = 0; w < t.tension.size(); ++w) {
      if (!in_unit_interval(t.tension[w]))
        throw InvariantError(c.day, "tension in [0,1]", c.ward(w), number_text(t.tension[w]));
      if (!in_unit_interval(t.safety[w]))
        throw InvariantError(c.day, "safety in [0,1]", c.ward(w), number_text(t.safety[w]));
      if (t.incidents[w] < 0) throw InvariantError(c.day, "incidents >= 0", c.ward(w), std::to_string(t.incidents[w]));
    }
    for (std::size_t i = 0; i < t.knowledge.size(); ++i)
      if (!in_unit_interval(t.knowledge[i]))
        throw InvariantError(c.day, "knowledge in [0,1]", c.resident(i), number_text(t.knowledge[i]));
    for (std::size_t i = 0; i < t.trust.size(); ++i)
      if (!in_unit_interval(t.trust[i]))
        throw InvariantError(c.day, "trust in [0,1]", c.resident(i), number_text(t.trust[i]));
  }

 private:
  const TensionConfig& config_;
  const Scenario& scenario_;
  const Residents& residents_;
  TensionState state_;
  TensionPhase phase_;
  std::function<void(std::span<const std::uint32_t>)> cut_short_;
};

struct ServicesConfig final : MechanismConfig {
  std::vector<ServicePeriod> periods;
};

// Services run whether or not tension does (their events are logged either way); without the
// tension mechanism they serve a state nobody reads.
class ServicesMechanism final : public Mechanism {
 public:
  ServicesMechanism(const ServicesConfig& config, MechanismContext& c)
      : config_(config), context_(c),
        unused_(make_tension_state({false, {}}, 0, static_cast<int>(c.scenario.wards.size()))) {}
  void connect(const Links& links) override {
    TensionState* tension = links.find<TensionState>("tension");
    phase_.emplace(config_.periods, context_.scenario.ward_names(), tension ? *tension : unused_, context_.events);
  }
  const char* name() const override { return "services"; }
  void run(const Day& day) override { phase_->run(day); }

 private:
  const ServicesConfig& config_;
  MechanismContext context_;
  TensionState unused_;
  std::optional<ServicesPhase> phase_;
};

int ward_of(const ConfigTable& item, const std::vector<std::string>& wards) {
  const std::string ward = item.required_string("ward");
  const int w = index_of(wards, ward);
  if (w < 0) item.fail("ward", "unknown ward " + in_quotes(ward) + "; expected a name from [wards]");
  return w;
}

ServicePeriod read_service(const ConfigTable& item, const Scenario& s, const std::vector<ServicePeriod>& others) {
  const Date start = s.simulation.start, end = s.simulation.end;
  const std::vector<std::string> wards = s.ward_names();
  ServicePeriod p;
  p.ward = ward_of(item, wards);
  p.start = item.required_date("start");
  if (p.start < start || p.start > end)
    item.fail("start", expected_within_run(start, end));
  if (item.has("end")) {
    p.end = item.required_date("end");
    if (*p.end < p.start) item.fail("end", "expected a date on or after start (" + p.start.iso() + ")");
  }
  item.string("label", "");
  for (const auto& other : others)
    if (other.ward == p.ward && !(p.end && *p.end < other.start) && !(other.end && *other.end < p.start))
      item.fail("start", "service in " + in_quotes(wards[p.ward]) + " overlaps another service there");
  return p;
}

LeafletCampaign read_leaflets(const ConfigTable& item, const Scenario& s) {
  const Date start = s.simulation.start, end = s.simulation.end;
  LeafletCampaign c;
  c.date = item.required_date("date");
  if (c.date < start || c.date > end)
    item.fail("date", expected_within_run(start, end));
  c.ward = item.has("ward") ? ward_of(item, s.ward_names()) : -1;
  c.translated = item.boolean("translated", false);
  item.string("label", "");
  return c;
}

}  // namespace

MechanismEntry services_mechanism() {
  return {"services", {"service"}, {},
          [](const MechanismReading& r) -> std::shared_ptr<const MechanismConfig> {
            auto config = std::make_shared<ServicesConfig>();
            for (const auto& [index, item] : r.items({"service"}))
              config->periods.push_back(read_service(item, r.city(), config->periods));
            return config;
          },
          [](std::vector<ParamDescription>&) {},
          [](const MechanismConfig& config, MechanismContext& c) -> std::unique_ptr<Mechanism> {
            const auto& services = config_as<ServicesConfig>(config);
            if (services.periods.empty()) return nullptr;
            return std::make_unique<ServicesMechanism>(services, c);
          }};
}

MechanismEntry tension_mechanism() {
  return {"tension", {"leaflets"}, {{kTensionIncidents, kLeafletReach}},
          [](const MechanismReading& r) -> std::shared_ptr<const MechanismConfig> {
            auto config = read_settings_of<TensionConfig>(r);
            for (const auto& [index, item] : r.items({"leaflets"})) config->leaflets.push_back(read_leaflets(item, r.city()));
            return config;
          },
          describe_settings<TensionConfig>,
          build_when_enabled<TensionMechanism, TensionConfig>,
          1};
}

}  // namespace contactsim
