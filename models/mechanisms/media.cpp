#include "models/mechanisms/media.hpp"
#include "core/archive.hpp"
#include "core/text.hpp"
#include "models/mechanisms/friendships.hpp"
#include "models/city/world.hpp"
#include "models/mechanisms/settings.hpp"
#include "models/run/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace contactsim {
namespace {

// Random-stream purpose of this module (DESIGN §6), from the 340–380 range it shares with other
// timeline programmes such as classes; declared in its registry entry (media_mechanism, below).
constexpr Purpose kMythBustingReach = 343;  // entity = resident, day word = campaign index

Date dated_within_run(const ConfigTable& item, Date start, Date end) {
  const Date d = item.required_date("date");
  if (const std::string outside = outside_run(d, start, end); !outside.empty()) item.fail("date", outside);
  return d;
}

int target_group(const ConfigTable& item, const std::vector<std::string>& groups) {
  const std::string name = item.required_string("target");
  const int g = index_of(groups, name);
  if (g < 0) item.fail("target", "unknown group " + in_quotes(name) + "; expected one of " + list_of(groups));
  return g;
}

int optional_ward(const ConfigTable& item, const std::vector<std::string>& wards) {
  if (!item.has("ward")) return -1;
  const std::string name = item.required_string("ward");
  const int w = index_of(wards, name);
  if (w < 0) item.fail("ward", "unknown ward " + in_quotes(name) + "; expected a name from [wards]");
  return w;
}

std::string two_decimals(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", x);
  return buf;
}

}  // namespace

MediaShock read_media_shock(const ConfigTable& item, Date start, Date end, const std::vector<std::string>& groups,
                            const std::vector<std::string>& wards) {
  MediaShock s;
  s.label = item.string("label", "");
  s.date = dated_within_run(item, start, end);
  s.target = target_group(item, groups);
  s.magnitude = item.required_number("magnitude", 0, 1);
  s.ward = optional_ward(item, wards);
  return s;
}

MythBusting read_myth_busting(const ConfigTable& item, Date start, Date end, const std::vector<std::string>& groups,
                              const std::vector<std::string>& wards) {
  MythBusting m;
  m.label = item.string("label", "");
  m.date = dated_within_run(item, start, end);
  m.target = target_group(item, groups);
  m.reach = item.required_number("reach", 0, 1);
  m.softening = item.required_number("softening", 0, 1);
  m.window_days = static_cast<int>(item.integer("window_days", kDefaultMythBustingWindowDays, 0, 3650));
  m.ward = optional_ward(item, wards);
  return m;
}

MediaPhase::MediaPhase(const MediaSettings& settings, std::vector<MediaShock> shocks,
                       std::vector<MythBusting> campaigns, HasFriendIn has_friend_in,
                       std::vector<std::string> group_names, std::vector<std::string> ward_names, Residents& residents,
                       EventLog& log, StreamKey key)
    : params_(settings.params),
      enabled_(settings.enabled),
      shocks_(std::move(shocks)),
      campaigns_(std::move(campaigns)),
      has_friend_in_(std::move(has_friend_in)),
      group_names_(std::move(group_names)),
      ward_names_(std::move(ward_names)),
      residents_(residents),
      log_(log),
      key_(key),
      recovery_keep_(static_cast<float>(std::exp2(-1.0 / params_.recovery_half_life_days))) {}

void MediaPhase::run(const Day& day) {
  if (!enabled_) return;
  recover();
  for (const MythBusting& m : campaigns_)
    if (m.date == day.date)
      log_.push_back({day.date, "myth_busting", m.label.empty() ? group_names_[m.target] : m.label,
                      "reach " + two_decimals(m.reach) + ", softening " + two_decimals(m.softening) +
                          (m.ward < 0 ? "" : " in " + ward_names_[m.ward]),
                      0});
  for (const MediaShock& s : shocks_)
    if (s.date == day.date) apply(s, day);
}

bool MediaPhase::reached(std::uint32_t i, std::size_t campaign) const {
  const MythBusting& m = campaigns_[campaign];
  if (m.ward >= 0 && residents_.ward[i] != m.ward) return false;
  RandomStream rng(key_, i, static_cast<std::uint32_t>(campaign), kMythBustingReach);
  return rng.uniform() < m.reach;
}

double MediaPhase::exposure(std::uint32_t i, const MediaShock& shock) const {
  if (has_friend_in_ && has_friend_in_(i, shock.target)) return 0.0;
  double exposure = 1.0;
  for (std::size_t c = 0; c < campaigns_.size(); ++c) {
    const MythBusting& m = campaigns_[c];
    if (m.target != shock.target || shock.date < m.date || shock.date - m.date > m.window_days) continue;
    if (reached(i, c)) exposure *= 1.0 - m.softening;
  }
  return exposure;
}

void MediaPhase::apply(const MediaShock& shock, const Day& day) {
  const std::size_t n = residents_.size();
  const std::size_t groups = static_cast<std::size_t>(residents_.num_groups);
  offset_.resize(n * groups, 0.0f);  // slots added since the last shock start at zero
  const auto magnitude = static_cast<float>(shock.magnitude);
  const auto buffering = static_cast<float>(params_.contact_buffering);
  std::int64_t affected = 0;
#pragma omp parallel for schedule(static, 4096) reduction(+ : affected)
  for (std::size_t k = 0; k < n; ++k) {
    const auto i = static_cast<std::uint32_t>(k);
    if (residents_.group[i] == shock.target) continue;
    if (shock.ward >= 0 && residents_.ward[i] != shock.ward) continue;
    const auto e = static_cast<float>(exposure(i, shock));
    if (e <= 0.0f) continue;
    float& warmth = residents_.warmth_of(i)[shock.target];
    const float drop = magnitude * warmth * e / (1.0f + buffering * residents_.positive_memory[i]);
    warmth -= drop;
    offset_[k * groups + static_cast<std::size_t>(shock.target)] += drop;
    ++affected;
  }
  recovering_ = recovering_ || affected > 0;
  log_.push_back({day.date, "media_shock", shock.label.empty() ? group_names_[shock.target] : shock.label,
                  "magnitude " + two_decimals(shock.magnitude) + (shock.ward < 0 ? " national" : " in " + ward_names_[shock.ward]) +
                      ", " + std::to_string(affected) + " residents exposed",
                  0});
}

// Below this an offset is settled: a thousandth of a thermometer point.
constexpr float kSettled = 1e-5f;

void MediaPhase::recover() {
  if (!recovering_) return;
  const std::size_t cells = std::min(offset_.size(), residents_.warmth.size());
  const float give_back = 1.0f - recovery_keep_;
  bool outstanding = false;
#pragma omp parallel for schedule(static, 16384) reduction(|| : outstanding)
  for (std::size_t c = 0; c < cells; ++c) {
    float& offset = offset_[c];
    if (offset == 0.0f) continue;
    const float back = offset > kSettled ? offset * give_back : offset;
    residents_.warmth[c] = std::min(1.0f, residents_.warmth[c] + back);
    offset -= back;
    outstanding = outstanding || offset > 0.0f;
  }
  recovering_ = outstanding;
}

void MediaPhase::forget(std::span<const std::uint32_t> replaced) {
  const std::size_t groups = static_cast<std::size_t>(residents_.num_groups);
  for (const std::uint32_t i : replaced)
    if ((static_cast<std::size_t>(i) + 1) * groups <= offset_.size())
      std::fill_n(offset_.begin() + static_cast<std::ptrdiff_t>(i * groups), groups, 0.0f);
}

// Nothing is written before the first shock: the offsets would all be zero.
void MediaPhase::save(StateWriter& out) const {
  if (offset_.empty()) return;
  out.write("recovery_offset", offset_);
  out.scalar("recovering", static_cast<int>(recovering_));
}

void MediaPhase::restore(const StateReader& in) {
  offset_.clear();
  recovering_ = false;
  if (!in.has("recovery_offset")) return;
  offset_ = in.read<float>("recovery_offset");
  if (offset_.size() > residents_.warmth.size() || offset_.size() % static_cast<std::size_t>(residents_.num_groups) != 0)
    in.fail("recovery_offset", "holds " + std::to_string(offset_.size()) + " values, expected a multiple of " +
                                   std::to_string(residents_.num_groups) + " up to " +
                                   std::to_string(residents_.warmth.size()));
  recovering_ = in.scalar<int>("recovering") != 0;
}

namespace {
struct MediaConfig final : SettingsConfig<"media", MediaParams, kMediaParams> {
  std::vector<MediaShock> shocks;
  std::vector<MythBusting> campaigns;
};

class MediaMechanism final : public Mechanism {
 public:
  MediaMechanism(const MediaConfig& config, MechanismContext& c) : config_(config), context_(c) {}
  // Built here, once friendships (later in the day) are known: a friend in the target group shields.
  void connect(const Links& links) override {
    HasFriendIn has_friend_in;
    if (const auto* friendships = links.find<const Friendships>("friendships"))
      has_friend_in = [friendships](std::uint32_t i, int g) { return friendships->has_friend_in(i, g); };
    phase_.emplace(config_.settings, config_.shocks, config_.campaigns, has_friend_in, context_.scenario.group_names(),
                   context_.scenario.ward_names(), context_.world.residents, context_.events, context_.key);
  }
  const char* name() const override { return "media"; }
  void run(const Day& day) override { phase_->run(day); }
  void forget(std::span<const std::uint32_t> replaced) override { phase_->forget(replaced); }
  void save(StateWriter& out) const override { phase_->save(out); }
  void restore(const StateReader& in) override { phase_->restore(in); }

 private:
  const MediaConfig& config_;
  MechanismContext context_;
  std::optional<MediaPhase> phase_;
};
}  // namespace

MechanismEntry media_mechanism() {
  return {"media", {"media_shock", "myth_busting"}, {{kMythBustingReach, kMythBustingReach}},
          [](const MechanismReading& r) -> std::shared_ptr<const MechanismConfig> {
            const Scenario& s = r.city();
            auto config = read_settings_of<MediaConfig>(r);
            const Date start = s.simulation.start, end = s.simulation.end;
            for (const auto& [index, item] : r.items({"media_shock"}))
              config->shocks.push_back(read_media_shock(item, start, end, s.group_names(), s.ward_names()));
            for (const auto& [index, item] : r.items({"myth_busting"}))
              config->campaigns.push_back(read_myth_busting(item, start, end, s.group_names(), s.ward_names()));
            return config;
          },
          describe_settings<MediaConfig>,
          [](const MechanismConfig& config, MechanismContext& c) -> std::unique_ptr<Mechanism> {
            const auto& media = config_as<MediaConfig>(config);
            if (media.shocks.empty() && media.campaigns.empty()) return nullptr;
            return std::make_unique<MediaMechanism>(media, c);
          }};
}

}  // namespace contactsim
