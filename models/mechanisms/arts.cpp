#include "models/mechanisms/arts.hpp"

#include "core/archive.hpp"
#include "core/rng.hpp"
#include "core/text.hpp"
#include "models/city/encounters.hpp"
#include "models/city/world.hpp"
#include "models/run/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <span>

namespace contactsim {
namespace {

// Purposes 380–397 (disjoint from every other mechanism's: tests/mechanisms/test_registry.cpp).
constexpr Purpose kArtsRecruit = 380;    // entity = resident, day word = programme index
constexpr Purpose kArtsDropout = 381;    // entity = resident, day: one draw per member per day
constexpr Purpose kArtsEncounter = 382;  // + group (382–397); entity = programme << 16 | group
constexpr double kDaysPerMonth = 365.25 / 12.0;
constexpr const char* kColumn = "arts_group";

std::vector<double> read_appeal(const ConfigTable& item, const std::vector<std::string>& groups) {
  std::vector<double> appeal(groups.size(), 1.0);
  if (auto table = item.optional_table("appeal")) {
    for (const auto& key : table->keys()) {
      const int g = index_of(groups, key);
      if (g < 0) table->fail(key, "unknown group; expected one of the scenario's [groups.*]");
      appeal[g] = table->number(key, 1.0, 0, 1000);
    }
    if (std::all_of(appeal.begin(), appeal.end(), [](double a) { return a <= 0; }))
      item.fail("appeal", "expected at least one group with a positive appeal");
  }
  return appeal;
}

}  // namespace

ArtsProgramme read_arts_programme(const ConfigTable& item, Date start, Date end, const std::vector<std::string>& groups,
                                  const std::vector<std::string>& wards, double population_scale) {
  ArtsProgramme p;
  p.start = item.required_date("start");
  if (p.start < start || p.start > end)
    item.fail("start", expected_within_run(start, end));
  p.end = item.required_date("end");
  if (p.end < p.start) item.fail("end", "expected a date on or after start (" + p.start.iso() + ")");
  const auto ward_names = item.string_list("wards", {});
  if (ward_names.empty()) item.fail("wards", "expected at least one ward name from [wards]");
  for (const auto& name : ward_names) {
    const int w = index_of(wards, name);
    if (w < 0) item.fail("wards", "unknown ward " + in_quotes(name) + "; expected a name from [wards]");
    if (std::find(p.wards.begin(), p.wards.end(), w) != p.wards.end()) item.fail("wards", "ward " + in_quotes(name) + " listed twice");
    p.wards.push_back(w);
  }
  const auto real_groups = item.integer("groups_per_ward", 1, 1, 1000);
  p.groups_per_ward = std::max(1, static_cast<int>(std::lround(static_cast<double>(real_groups) * population_scale)));
  p.group_size = static_cast<int>(item.integer("group_size", 15, 2, 100));
  p.appeal = read_appeal(item, groups);
  p.label = item.string("label", "");
  return p;
}

namespace {

struct ArtsConfig final : MechanismConfig {
  ArtsSettings settings;
  std::vector<ArtsProgramme> programmes;
  // Only a scenario that has items gets the column, as before the registry.
  std::vector<std::string> contact_columns() const override {
    if (programmes.empty()) return {};
    return {kColumn};
  }
  // A tally column only: groups are formed by the programme, never generated.
  std::optional<VenueType> contact_column_type(const std::string& name) const override {
    if (name != kColumn) return std::nullopt;
    VenueType t;
    t.name = kColumn;
    t.generate = false;
    t.stable = true;
    t.equal_status = t.cooperation = t.common_goal = t.institutional_support = settings.params.quality;
    t.encounters = settings.params.encounters;
    t.homophily = settings.params.homophily;
    t.depth = settings.params.depth;
    return t;
  }
  std::vector<SeriesSpec> series() const override {
    return {{"arts_participants", {"ward", "group"}, SeriesType::int64,
             "Residents in a community arts group at the period's end", "participants"}};
  }
};

// One programme's groups: members of group k are members[begin[k] .. begin[k+1]).
struct ArtsGroups {
  bool started = false, ended = false;
  std::vector<std::uint32_t> members;
  std::vector<std::uint32_t> begin{0};
  std::vector<std::uint16_t> ward;  // per group
};

class ArtsMechanism final : public Mechanism {
 public:
  ArtsMechanism(const ArtsConfig& config, MechanismContext& c)
      : config_(config), scenario_(c.scenario), residents_(c.world.residents), rules_(c.rules), tally_(c.tally),
        events_(c.events), key_(c.key), state_(config.programmes.size()),
        member_of_(c.world.residents.size(), 0),
        joined_(c.world.residents.size(), -1),
        daily_dropout_(1.0 - std::pow(1.0 - config.settings.params.monthly_dropout, 1.0 / kDaysPerMonth)) {
    const ArtsParams& p = config.settings.params;
    setting_ = {p.encounters, p.homophily, p.quality, static_cast<float>(p.depth), c.scenario.venue_type_index(kColumn),
                true};
    counts_.resize_like(c.tally);
    c.links.publish<const std::vector<std::int32_t>>("arts_joined", joined_);
  }
  const char* name() const override { return "arts"; }

  void run(const Day& day) override {
    if (!config_.settings.enabled) return;
    for (std::size_t k = 0; k < config_.programmes.size(); ++k) {
      const ArtsProgramme& p = config_.programmes[k];
      ArtsGroups& s = state_[k];
      if (!s.started && day.date == p.start) recruit(day, k);
      if (!s.started || s.ended) continue;
      if (day.date > p.end) {
        disband(day, k);
        continue;
      }
      drop_out(day, k);
      if ((day.date - p.start) % 7 == 0) meet(day, k);
    }
    counts_.add_to(tally_);
    counts_.encounters = 0;
  }

  void record(SeriesWriter& out) override {
    std::vector<std::int64_t> cells(scenario_.wards.size() * scenario_.groups.size(), 0);
    for (const ArtsGroups& s : state_)
      if (s.started && !s.ended)
        for (const std::uint32_t i : s.members)
          ++cells[static_cast<std::size_t>(residents_.ward[i]) * scenario_.groups.size() + residents_.group[i]];
    out.write(cells);
  }

  // A recycled slot holds someone else: the previous occupant's place in a group is gone.
  void forget(std::span<const std::uint32_t> replaced) override {
    for (const std::uint32_t i : replaced) member_of_[i] = 0, joined_[i] = -1;
    for (ArtsGroups& s : state_) remove_if(s, [&](std::uint32_t i) { return member_of_[i] == 0; });
  }

  void save(StateWriter& out) const override {
    for (std::size_t k = 0; k < state_.size(); ++k) {
      StateWriter one = out.child("programme_" + std::to_string(k));
      one.scalar("started", static_cast<std::int32_t>(state_[k].started));
      one.scalar("ended", static_cast<std::int32_t>(state_[k].ended));
      one.write("members", state_[k].members);
      one.write("begin", state_[k].begin);
      one.write("ward", state_[k].ward);
    }
    out.write("joined", joined_);
  }
  void restore(const StateReader& in) override {
    std::fill(member_of_.begin(), member_of_.end(), 0);
    for (std::size_t k = 0; k < state_.size(); ++k) {
      const StateReader one = in.child("programme_" + std::to_string(k));
      ArtsGroups& s = state_[k];
      s.started = one.scalar<std::int32_t>("started") != 0;
      s.ended = one.scalar<std::int32_t>("ended") != 0;
      s.members = one.read<std::uint32_t>("members");
      s.begin = one.read<std::uint32_t>("begin");
      s.ward = one.read<std::uint16_t>("ward");
      if (s.started && !s.ended)
        for (const std::uint32_t i : s.members) member_of_.at(i) = static_cast<std::uint32_t>(k + 1);
    }
    in.read_into("joined", joined_);
  }

 private:
  std::string subject(std::size_t k) const {
    const ArtsProgramme& p = config_.programmes[k];
    if (!p.label.empty()) return p.label;
    std::string wards;
    for (const int w : p.wards) wards += (wards.empty() ? "" : ", ") + scenario_.wards[w].name;
    return wards;
  }

  // Weighted sampling without replacement among the ward's residents aged 11+, then dealt to the
  // ward's groups in turn, ordered by group so that each group gets its share of every group.
  void recruit(const Day& day, std::size_t k) {
    const ArtsProgramme& p = config_.programmes[k];
    ArtsGroups& s = state_[k];
    s.started = true;
    const double deterrence = config_.settings.params.anxiety_deterrence;
    const auto seats = static_cast<std::size_t>(p.groups_per_ward) * static_cast<std::size_t>(p.group_size);
    for (const int ward : p.wards) {
      std::vector<std::pair<double, std::uint32_t>> candidates;  // (−priority, resident)
      for (std::size_t n = 0; n < residents_.size(); ++n) {
        const auto i = static_cast<std::uint32_t>(n);
        if (residents_.ward[i] != ward || member_of_[i] != 0 ||
            static_cast<AgeBand>(residents_.age_band[i]) == AgeBand::child)
          continue;
        const double weight = p.appeal[residents_.group[i]] * (1.0 - deterrence * residents_.anxiety[i]);
        if (weight <= 0) continue;
        RandomStream rng(key_, i, static_cast<std::uint32_t>(k), kArtsRecruit);
        candidates.emplace_back(-std::pow(rng.uniform(), 1.0 / weight), i);
      }
      const std::size_t taken = std::min(seats, candidates.size());
      std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(taken), candidates.end());
      std::vector<std::uint32_t> recruits;
      for (std::size_t r = 0; r < taken; ++r) recruits.push_back(candidates[r].second);
      std::stable_sort(recruits.begin(), recruits.end(),
                       [&](std::uint32_t a, std::uint32_t b) { return residents_.group[a] < residents_.group[b]; });
      for (int g = 0; g < p.groups_per_ward; ++g) {
        for (std::size_t r = static_cast<std::size_t>(g); r < recruits.size(); r += static_cast<std::size_t>(p.groups_per_ward)) {
          s.members.push_back(recruits[r]);
          member_of_[recruits[r]] = static_cast<std::uint32_t>(k + 1);
          joined_[recruits[r]] = day.index;
        }
        s.begin.push_back(static_cast<std::uint32_t>(s.members.size()));
        s.ward.push_back(static_cast<std::uint16_t>(ward));
      }
    }
    events_.push_back({day.date, "arts_programme_start", subject(k),
                       std::to_string(s.ward.size()) + " groups, " + std::to_string(s.members.size()) + " members", 0});
  }

  void disband(const Day& day, std::size_t k) {
    ArtsGroups& s = state_[k];
    s.ended = true;
    for (const std::uint32_t i : s.members) member_of_[i] = 0;
    events_.push_back({day.date, "arts_programme_end", subject(k), std::to_string(s.members.size()) + " members", 0});
    s.members.clear();
    s.begin.assign(s.ward.size() + 1, 0);
  }

  void drop_out(const Day& day, std::size_t k) {
    remove_if(state_[k], [&](std::uint32_t i) {
      RandomStream rng(key_, i, static_cast<std::uint32_t>(day.index), kArtsDropout);
      if (rng.uniform() >= daily_dropout_) return false;
      member_of_[i] = 0;
      return true;
    });
  }

  // Keeps group boundaries while removing members for whom `gone` holds.
  template <class Gone>
  static void remove_if(ArtsGroups& s, Gone gone) {
    std::vector<std::uint32_t> kept, begin{0};
    for (std::size_t g = 0; g + 1 < s.begin.size(); ++g) {
      for (std::uint32_t m = s.begin[g]; m < s.begin[g + 1]; ++m)
        if (!gone(s.members[m])) kept.push_back(s.members[m]);
      begin.push_back(static_cast<std::uint32_t>(kept.size()));
    }
    s.members = std::move(kept);
    s.begin = std::move(begin);
  }

  void meet(const Day& day, std::size_t k) {
    const ArtsGroups& s = state_[k];
    const int groups = residents_.num_groups;
    for (std::size_t g = 0; g + 1 < s.begin.size(); ++g) {
      std::vector<std::uint32_t> members(s.members.begin() + s.begin[g], s.members.begin() + s.begin[g + 1]);
      const GroupOffsets group_begin = sort_by_group(residents_, members);
      const auto entity = static_cast<std::uint32_t>((k << 16) | g);
      run_encounter_session(rules_, setting_, residents_, tally_, members,
                            std::span<const std::uint32_t>(group_begin.data(), static_cast<std::size_t>(groups) + 1),
                            key_, entity, static_cast<std::uint32_t>(day.index), kArtsEncounter, counts_);
    }
  }

  const ArtsConfig& config_;
  const Scenario& scenario_;
  Residents& residents_;
  const EncounterRules& rules_;
  ContactTally& tally_;
  EventLog& events_;
  StreamKey key_;
  std::vector<ArtsGroups> state_;
  std::vector<std::uint32_t> member_of_;  // per resident: 1 + programme index, 0 = in no group
  std::vector<std::int32_t> joined_;      // per resident: day index they joined a group, −1 = never
  double daily_dropout_;
  ContactSetting setting_;
  ContactCounts counts_;
};

}  // namespace

MechanismEntry arts_mechanism() {
  return {"arts", {"arts_programme"}, {{kArtsRecruit, kArtsEncounter + kMaxGroups - 1}},
          [](const MechanismReading& r) -> std::shared_ptr<const MechanismConfig> {
            const Scenario& s = r.city();
            auto config = std::make_shared<ArtsConfig>();
            config->settings = r.settings<ArtsParams>("arts", kArtsParams);
            config->enabled = config->settings.enabled;
            for (const auto& [index, item] : r.items({"arts_programme"}))
              config->programmes.push_back(read_arts_programme(item, s.simulation.start, s.simulation.end,
                                                               s.group_names(), s.ward_names(), s.population.scale));
            return config;
          },
          [](std::vector<ParamDescription>& out) { describe_params<ArtsParams>("mechanisms.arts", kArtsParams, out); },
          [](const MechanismConfig& config, MechanismContext& c) -> std::unique_ptr<Mechanism> {
            const auto& arts = config_as<ArtsConfig>(config);
            if (arts.programmes.empty()) return nullptr;
            return std::make_unique<ArtsMechanism>(arts, c);
          }};
}

}  // namespace contactsim
