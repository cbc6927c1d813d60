#include "models/mechanisms/programmes.hpp"
#include "core/text.hpp"
#include "models/city/world.hpp"
#include "models/mechanisms/settings.hpp"
#include "models/run/scenario.hpp"

#include "core/archive.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <tuple>

namespace contactsim {
namespace {

// Random-stream purposes of this module (DESIGN §6): the range 300–330 belongs to programmes,
// declared in its registry entry (programmes_mechanism, below).
constexpr Purpose kProgrammeAge = 300;        // entity = resident, day = calendar year: aged 16–17?
constexpr Purpose kProgrammeRecruit = 301;    // entity = resident, day = cohort start day index
constexpr Purpose kMatchedControl = 302;      // entity = participant, day = 0
constexpr Purpose kLinkClass = 303;           // entity = resident, day = link-year start day index
constexpr Purpose kProgrammeEncounter = 310;  // + group (310–325); entity = team id or link id
// Link sessions share the encounter purposes with youth teams; their entities carry the top bit
// so the two never coincide (team ids count up from 0).
constexpr std::uint32_t kLinkEntity = 0x80000000u;

// ---------------------------------------------------------------------------------------------
// Reading

void check_dates(const ConfigTable& item, Date start, Date end, Date run_start, Date run_end) {
  if (const std::string outside = outside_run(start, run_start, run_end); !outside.empty()) item.fail("start", outside);
  if (end < start) item.fail("end", "expected a date on or after start (" + start.iso() + "), got " + end.iso());
}

std::optional<MonthDay> parse_month_day(const std::string& text) {
  if (text.size() != 5 || text[2] != '-') return std::nullopt;
  if (text == "02-29") return std::nullopt;  // must exist every year
  if (!Date::parse_iso("2001-" + text)) return std::nullopt;
  return MonthDay{static_cast<unsigned>(std::stoi(text.substr(0, 2))), static_cast<unsigned>(std::stoi(text.substr(3, 2)))};
}

bool is_cohort_start(const YouthProgrammeSpec& spec, Date d) {
  if (d < spec.start || d > spec.end) return false;
  for (const MonthDay& c : spec.cohorts)
    if (d.month() == c.month && d.day() == c.day) return true;
  return false;
}

int cohorts_in_year(const YouthProgrammeSpec& spec, int year) {
  int n = 0;
  for (const MonthDay& c : spec.cohorts) n += is_cohort_start(spec, Date::from_ymd(year, c.month, c.day));
  return n;
}

std::string format_count(double x) { return std::to_string(std::llround(x)); }

}  // namespace

YouthProgrammeSpec read_youth_programme(const ConfigTable& item, Date run_start, Date run_end, double youth_residents,
                                        const ProgrammeParams& params) {
  YouthProgrammeSpec s;
  s.label = item.string("label", "youth programme");
  s.start = item.required_date("start");
  s.end = item.required_date("end");
  check_dates(item, s.start, s.end, run_start, run_end);
  if (item.has("uptake") == item.has("places"))
    item.fail("uptake", "expected exactly one of `uptake` (share of eligible youth taking part a year) or `places` "
                        "(participants a year)");
  if (item.has("uptake")) s.uptake = item.number("uptake", 0, 0, 1);
  if (item.has("places")) {
    s.places = item.integer("places", 0, 0, std::numeric_limits<std::int64_t>::max());
    // Whole people; the tolerance keeps 2800 × 2/7 at 800 despite rounding.
    const double eligible = std::floor(youth_residents * params.age_16_17_share + 1e-6);
    if (static_cast<double>(*s.places) > eligible)
      item.fail("places", "programme size larger than the eligible population: expected at most " +
                              format_count(eligible) + " places a year (youth aged 16-17), got " +
                              std::to_string(*s.places));
  }
  s.team_size = static_cast<int>(item.integer("team_size", 14, 2, 100));
  s.residential_days = static_cast<int>(item.integer("residential_days", 10, 0, 60));
  s.hours = item.number("hours", 60, 0, 1000);
  if (s.residential_days == 0 && s.hours == 0)
    item.fail("hours", "expected some programme time: `residential_days` or `hours` above 0");
  for (const std::string& text : item.string_list("cohorts", {"07-20"})) {
    const auto md = parse_month_day(text);
    if (!md) item.fail("cohorts", "expected month-days \"MM-DD\" that exist every year, got " + in_quotes(text));
    s.cohorts.push_back(*md);
  }
  if (s.cohorts.empty()) item.fail("cohorts", "expected at least one cohort start \"MM-DD\"");
  bool any = false;
  for (int y = s.start.year(); y <= s.end.year() && !any; ++y) any = cohorts_in_year(s, y) > 0;
  if (!any) item.fail("cohorts", "no cohort starts between start (" + s.start.iso() + ") and end (" + s.end.iso() + ")");
  s.self_selection = item.number("self_selection", 1.0, 0, 10);
  s.targeted = item.boolean("targeted", false);
  return s;
}

SchoolLinkingSpec read_school_linking(const ConfigTable& item, Date run_start, Date run_end) {
  SchoolLinkingSpec s;
  s.label = item.string("label", "school linking");
  s.start = item.required_date("start");
  s.end = item.required_date("end");
  check_dates(item, s.start, s.end, run_start, run_end);
  if (item.has("schools")) {
    // "all" or a number of pairs: try the number first, the string second.
    const std::string expected = "expected \"all\" or a whole number of pairs >= 1";
    try {
      s.pairs = item.integer("schools", -1, std::numeric_limits<std::int64_t>::min(),
                             std::numeric_limits<std::int64_t>::max());
    } catch (const ConfigError&) {
      std::string text;
      try {
        text = item.string("schools", "all");
      } catch (const ConfigError&) {
        item.fail("schools", expected);
      }
      if (text != "all") item.fail("schools", expected + ", got " + in_quotes(text));
      s.pairs = -1;
    }
    if (s.pairs == 0 || s.pairs < -1) item.fail("schools", expected + ", got " + std::to_string(s.pairs));
  }
  s.sessions_per_year = static_cast<int>(item.integer("sessions_per_year", 6, 1, 100));
  s.class_size = static_cast<int>(item.integer("class_size", 30, 1, 200));
  s.quality = item.number("quality", 0.85, 0, 1);
  s.age_band = item.choice("age_band", "child", {"child", "youth"}) == "youth" ? AgeBand::youth : AgeBand::child;
  return s;
}

std::vector<Date> youth_programme_days(Date start, int residential_days, int sessions) {
  std::vector<Date> days;
  for (int d = 0; d < residential_days; ++d) days.push_back(start + d);
  Date next = start + residential_days;
  while (sessions > 0) {
    if (next.weekday() < 5) days.push_back(next), --sessions;
    ++next;
  }
  return days;
}

int youth_sessions(const YouthProgrammeSpec& spec, const ProgrammeParams& params) {
  return static_cast<int>(std::ceil(spec.hours / params.session_hours - 1e-9));
}

std::vector<std::int32_t> matched_non_participants(const Residents& r, std::span<const std::int32_t> participation_day,
                                                   StreamKey key) {
  const std::size_t n = r.size();
  int wards = 0;
  for (std::size_t i = 0; i < n; ++i) wards = std::max(wards, r.ward[i] + 1);
  const auto stratum = [&](std::size_t i) {
    return (static_cast<std::size_t>(r.ward[i]) * r.num_groups + r.group[i]) * kNumAgeBands + r.age_band[i];
  };
  const auto took_part = [&](std::size_t i) { return i < participation_day.size() && participation_day[i] >= 0; };
  // Non-participants bucketed by (ward, group, age band) by a counting sort, in id order.
  const std::size_t strata = static_cast<std::size_t>(wards) * r.num_groups * kNumAgeBands;
  std::vector<std::uint32_t> begin(strata + 1, 0);
  for (std::size_t i = 0; i < n; ++i)
    if (!took_part(i)) ++begin[stratum(i) + 1];
  std::partial_sum(begin.begin(), begin.end(), begin.begin());
  std::vector<std::uint32_t> pool(begin.back()), next(begin.begin(), begin.end() - 1);
  for (std::size_t i = 0; i < n; ++i)
    if (!took_part(i)) pool[next[stratum(i)]++] = static_cast<std::uint32_t>(i);

  std::vector<std::int32_t> control(n, -1);
  for (std::size_t i = 0; i < n; ++i) {
    if (!took_part(i)) continue;
    const std::size_t s = stratum(i);
    const std::uint32_t size = begin[s + 1] - begin[s];
    if (size == 0) continue;
    RandomStream rng(key, static_cast<std::uint32_t>(i), 0, kMatchedControl);
    control[i] = static_cast<std::int32_t>(pool[begin[s] + rng.below(size)]);
  }
  return control;
}

// ---------------------------------------------------------------------------------------------
// Runtime

ProgrammesPhase::ProgrammesPhase(const ProgrammeSettings& settings, std::vector<YouthProgrammeSpec> youth,
                                 std::vector<SchoolLinkingSpec> linking, const EncounterRules& rules,
                                 Residents& residents, const Venues& venues, int school_type,
                                 ProgrammeColumns columns, ContactTally& tally, StreamKey key, EventLog& log)
    : enabled_(settings.enabled),
      params_(settings.params),
      youth_(std::move(youth)),
      linking_(std::move(linking)),
      rules_(rules),
      residents_(residents),
      venues_(venues),
      school_type_(school_type),
      columns_(columns),
      tally_(tally),
      key_(key),
      log_(log) {
  participation_day_.assign(residents.size(), -1);
  links_.resize(linking_.size());
  thread_counts_.resize(static_cast<std::size_t>(omp_get_max_threads()));
  for (auto& t : thread_counts_) t.resize_like(tally);
}

void ProgrammesPhase::run(const Day& day) {
  if (!enabled_) return;
  // Residents may be added later in a run (migration inflow): newcomers have never taken part.
  if (participation_day_.size() < residents_.size()) participation_day_.resize(residents_.size(), -1);
  // One ContactCounts per thread that may run (the thread count can be raised after construction).
  while (thread_counts_.size() < static_cast<std::size_t>(omp_get_max_threads())) {
    thread_counts_.emplace_back();
    thread_counts_.back().resize_like(tally_);
  }

  for (int p = 0; p < static_cast<int>(youth_.size()); ++p)
    if (is_cohort_start(youth_[p], day.date)) start_cohort(day, p);
  run_cohorts(day);
  for (int p = 0; p < static_cast<int>(youth_.size()); ++p)
    if (day.date == youth_[p].end) cut_short(day, p);

  for (int p = 0; p < static_cast<int>(linking_.size()); ++p) {
    const SchoolLinkingSpec& spec = linking_[p];
    if (day.date < spec.start || day.date > spec.end) continue;
    const std::int32_t since = day.date - spec.start;
    if (since % 365 == 0) start_link_year(day, p, since / 365);
    run_links(day, p);
  }

  // Integer tallies: the merge is exact in any order, so totals do not depend on threads.
  for (auto& t : thread_counts_) {
    t.add_to(tally_);
    encounters_ += t.encounters;
    t.encounters = 0;
  }
}

// --- youth programme --------------------------------------------------------------------------

void ProgrammesPhase::start_cohort(const Day& day, int programme) {
  const YouthProgrammeSpec& spec = youth_[programme];
  std::vector<std::uint32_t> participants = recruit(day, spec, cohorts_in_year(spec, day.date.year()));
  for (std::uint32_t i : participants) participation_day_[i] = day.index;

  YouthCohort cohort;
  cohort.programme = programme;
  cohort.start_day = day.index;
  cohort.residential_days = spec.residential_days;
  cohort.days = youth_programme_days(day.date, spec.residential_days, youth_sessions(spec, params_));
  const std::size_t count = participants.size();
  form_teams(cohort, std::move(participants), spec.team_size, day);
  log_.push_back({day.date, "youth_programme_cohort", spec.label,
                  std::to_string(count) + " participants in " + std::to_string(cohort.teams()) + " teams" +
                      (spec.targeted ? " (targeted recruitment)" : ""),
                  0});
  cohorts_.push_back(std::move(cohort));
}

// The eligible pool and a cohort of exactly the planned size drawn from it by weight.
std::vector<std::uint32_t> ProgrammesPhase::recruit(const Day& day, const YouthProgrammeSpec& spec,
                                                    int cohorts_this_year) {
  const auto year = static_cast<std::uint32_t>(day.date.year());
  std::vector<std::uint32_t> pool;
  std::int64_t aged_16_17 = 0;
  for (std::size_t i = 0; i < residents_.size(); ++i) {
    if (residents_.age_band[i] != static_cast<std::uint8_t>(AgeBand::youth)) continue;
    RandomStream age(key_, static_cast<std::uint32_t>(i), year, kProgrammeAge);
    if (!age.bernoulli(params_.age_16_17_share)) continue;
    ++aged_16_17;
    if (participation_day_[i] < 0) pool.push_back(static_cast<std::uint32_t>(i));
  }
  // The year's size split evenly: cohort c of C takes ⌊size·(c+1)/C⌋ − ⌊size·c/C⌋ places, so the
  // cohorts add up to the year's size exactly (c counts cohorts already started this year).
  const double yearly = spec.uptake ? *spec.uptake * static_cast<double>(aged_16_17) : static_cast<double>(*spec.places);
  int c = 0;
  for (const MonthDay& m : spec.cohorts) {
    const Date d = Date::from_ymd(day.date.year(), m.month, m.day);
    c += d < day.date && is_cohort_start(spec, d);
  }
  const auto share = [&](int k) { return std::floor(yearly * k / std::max(1, cohorts_this_year)); };
  const auto size = std::min<std::size_t>(pool.size(), static_cast<std::size_t>(share(c + 1) - share(c)));

  // Efraimidis–Spirakis: key −ln(u)/w, the `size` smallest keys are a weighted sample without
  // replacement. Ties (and zero weights) resolve by resident id.
  const std::vector<double> weight = recruitment_weights(spec, pool);
  std::vector<std::pair<double, std::uint32_t>> keyed(pool.size());
  for (std::size_t k = 0; k < pool.size(); ++k) {
    RandomStream rng(key_, pool[k], static_cast<std::uint32_t>(day.index), kProgrammeRecruit);
    const double u = (static_cast<double>(rng()) + 0.5) * 0x1p-32;
    keyed[k] = {weight[k] > 0 ? -std::log(u) / weight[k] : std::numeric_limits<double>::infinity(), pool[k]};
  }
  std::nth_element(keyed.begin(), keyed.begin() + static_cast<std::ptrdiff_t>(size), keyed.end());
  std::vector<std::uint32_t> chosen(size);
  for (std::size_t k = 0; k < size; ++k) chosen[k] = keyed[k].second;
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

std::vector<double> ProgrammesPhase::recruitment_weights(const YouthProgrammeSpec& spec,
                                                         std::span<const std::uint32_t> pool) const {
  const int groups = residents_.num_groups;
  std::vector<double> weight(pool.size(), 1.0);
  if (spec.targeted) {
    // Own-group share of each pool member's block against the group's city share.
    std::uint32_t blocks = 0;
    for (std::uint32_t b : residents_.block) blocks = std::max(blocks, b + 1);
    std::vector<std::int64_t> block_group(static_cast<std::size_t>(blocks) * groups, 0), block_size(blocks, 0);
    std::vector<std::int64_t> city_group(groups, 0);
    for (std::size_t i = 0; i < residents_.size(); ++i) {
      ++block_group[static_cast<std::size_t>(residents_.block[i]) * groups + residents_.group[i]];
      ++block_size[residents_.block[i]];
      ++city_group[residents_.group[i]];
    }
    const double city = static_cast<double>(residents_.size());
    for (std::size_t k = 0; k < pool.size(); ++k) {
      const std::uint32_t i = pool[k];
      const int g = residents_.group[i];
      const double local = static_cast<double>(block_group[static_cast<std::size_t>(residents_.block[i]) * groups + g]) /
                           static_cast<double>(block_size[residents_.block[i]]);
      const double excess = std::max(0.0, local - static_cast<double>(city_group[g]) / city);
      weight[k] = 1.0 + params_.targeting_weight * excess;
    }
    return weight;
  }
  if (spec.self_selection == 0 || groups < 2 || pool.empty()) return weight;
  std::vector<double> outgroup(pool.size());
  double mean = 0;
  for (std::size_t k = 0; k < pool.size(); ++k) {
    const float* w = residents_.warmth_of(pool[k]);
    double sum = 0;
    for (int g = 0; g < groups; ++g)
      if (g != residents_.group[pool[k]]) sum += w[g];
    outgroup[k] = sum / (groups - 1);
    mean += outgroup[k];
  }
  mean /= static_cast<double>(pool.size());
  if (mean <= 0) return weight;
  for (std::size_t k = 0; k < pool.size(); ++k) weight[k] = std::pow(outgroup[k] / mean, spec.self_selection);
  return weight;
}

// Areas of consecutive wards each holding ≥ area_teams teams' worth of participants (a short
// tail joins the last full area); inside an area, participants sorted by group (random order
// within) are dealt round-robin over ⌈n / team_size⌉ teams, so each team is sorted by group.
void ProgrammesPhase::form_teams(YouthCohort& cohort, std::vector<std::uint32_t> participants, int team_size,
                                 const Day& day) {
  const int groups = residents_.num_groups;
  int wards = 0;
  for (std::uint32_t i : participants) wards = std::max(wards, residents_.ward[i] + 1);
  std::vector<std::size_t> per_ward(wards, 0);
  for (std::uint32_t i : participants) ++per_ward[residents_.ward[i]];
  const double area_size = params_.area_teams * team_size;
  std::vector<int> area_of_ward(wards, 0);
  int area = 0;
  double filled = 0;
  for (int w = 0; w < wards; ++w) {
    area_of_ward[w] = area;
    filled += static_cast<double>(per_ward[w]);
    if (filled >= area_size) ++area, filled = 0;
  }
  if (filled > 0 && area > 0)  // the short tail joins the previous area
    for (int w = 0; w < wards; ++w)
      if (area_of_ward[w] == area) area_of_ward[w] = area - 1;

  struct Entry {
    int area;
    int group;
    std::uint32_t order;
    std::uint32_t id;
  };
  std::vector<Entry> entries;
  entries.reserve(participants.size());
  for (std::uint32_t i : participants) {
    RandomStream rng(key_, i, static_cast<std::uint32_t>(day.index), kProgrammeRecruit);
    rng();  // the first draw chose the participant; the second orders them within their group
    entries.push_back({area_of_ward[residents_.ward[i]], residents_.group[i], rng(), i});
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.area, a.group, a.order, a.id) < std::tie(b.area, b.group, b.order, b.id);
  });

  cohort.team_begin.assign(1, 0);
  for (std::size_t first = 0; first < entries.size();) {
    std::size_t last = first;
    while (last < entries.size() && entries[last].area == entries[first].area) ++last;
    const std::size_t n = last - first;
    const std::size_t teams = (n + static_cast<std::size_t>(team_size) - 1) / static_cast<std::size_t>(team_size);
    for (std::size_t t = 0; t < teams; ++t) {
      std::array<std::uint32_t, kMaxGroups + 1> counts{};
      for (std::size_t k = first + t; k < last; k += teams) {
        cohort.members.push_back(entries[k].id);
        ++counts[entries[k].group + 1];
      }
      for (int g = 0; g < groups; ++g) counts[g + 1] += counts[g];
      cohort.group_begin.insert(cohort.group_begin.end(), counts.begin(), counts.begin() + groups + 1);
      cohort.team_begin.push_back(static_cast<std::uint32_t>(cohort.members.size()));
    }
    first = last;
  }
  // Team ids stay unique over the run, so no two sessions on one day share an RNG entity.
  cohort.first_team_id = next_team_id_;
  next_team_id_ += static_cast<std::uint32_t>(cohort.teams());
}

void ProgrammesPhase::run_cohorts(const Day& day) {
  struct TeamSession {
    const YouthCohort* cohort;
    std::uint32_t team;
    bool residential;
  };
  std::vector<TeamSession> sessions;
  for (const YouthCohort& c : cohorts_) {
    if (c.finished) continue;
    const auto it = std::find(c.days.begin(), c.days.end(), day.date);
    if (it == c.days.end()) continue;
    const bool residential = it - c.days.begin() < c.residential_days;
    for (std::uint32_t t = 0; t < c.teams(); ++t) sessions.push_back({&c, t, residential});
  }
  const int groups = residents_.num_groups;
  const auto count = static_cast<std::int64_t>(sessions.size());
  // Most days have no programme sessions: do not wake the thread team for nothing.
#pragma omp parallel if (count > 1)
  {
    ContactCounts& mine = thread_counts_[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t k = 0; k < count; ++k) {
      const TeamSession& s = sessions[static_cast<std::size_t>(k)];
      ContactSetting setting;
      setting.encounters = s.residential ? params_.residential_encounters : params_.session_encounters;
      setting.homophily = params_.youth_homophily;
      setting.quality = params_.youth_quality;
      setting.depth = static_cast<float>(s.residential ? params_.residential_depth : params_.session_depth);
      setting.venue_type = columns_.youth_programme;
      setting.stable = true;
      const YouthCohort& c = *s.cohort;
      const std::uint32_t first = c.team_begin[s.team];
      const std::span<const std::uint32_t> members(c.members.data() + first, c.team_begin[s.team + 1] - first);
      const std::span<const std::uint32_t> group_begin(c.group_begin.data() + s.team * (groups + 1), groups + 1);
      run_encounter_session(rules_, setting, residents_, tally_, members, group_begin, key_, c.first_team_id + s.team,
                            static_cast<std::uint32_t>(day.index), kProgrammeEncounter, mine);
    }
  }
  // Finished cohorts release their member lists (participation_day keeps the record).
  for (YouthCohort& c : cohorts_)
    if (!c.finished && !c.days.empty() && c.days.back() <= day.date) {
      c.finished = true;
      c.members = {};
      c.group_begin = {};
      c.team_begin = {};
    }
}

void ProgrammesPhase::cut_short(const Day& day, int programme) {
  std::vector<std::uint32_t> cut;
  for (YouthCohort& c : cohorts_) {
    if (c.programme != programme || c.finished) continue;  // finished today or earlier: completed
    cut.insert(cut.end(), c.members.begin(), c.members.end());
    c.finished = true;
    c.members = {};
    c.group_begin = {};
    c.team_begin = {};
  }
  if (cut.empty()) return;
  std::sort(cut.begin(), cut.end());
  cut_short_.insert(cut_short_.end(), cut.begin(), cut.end());
  log_.push_back({day.date, "youth_programme_cut_short", youth_[programme].label,
                  std::to_string(cut.size()) + " participants left with sessions unfinished", 0});
  if (on_cut_short_) on_cut_short_(cut);
}

// --- school linking ---------------------------------------------------------------------------

namespace {

int majority_group(std::span<const float> share) {
  return static_cast<int>(std::max_element(share.begin(), share.end()) - share.begin());
}

double dissimilarity(std::span<const float> a, std::span<const float> b) {
  double d = 0;
  for (std::size_t g = 0; g < a.size(); ++g) d += std::abs(static_cast<double>(a[g]) - b[g]);
  return d / 2;
}

}  // namespace

void ProgrammesPhase::start_link_year(const Day& day, int programme, int year) {
  const SchoolLinkingSpec& spec = linking_[programme];
  const int groups = venues_.num_groups;
  const auto share = [&](std::int32_t v) {
    return std::span<const float>(venues_.member_group_share.data() + static_cast<std::size_t>(v) * groups, groups);
  };
  std::vector<std::int32_t> schools;
  for (std::size_t v = 0; v < venues_.size(); ++v)
    if (venues_.type[v] == school_type_ && venues_.members[v] > 0) schools.push_back(static_cast<std::int32_t>(v));
  // Most homogeneous first: they have the least everyday contact to gain from.
  std::stable_sort(schools.begin(), schools.end(), [&](std::int32_t a, std::int32_t b) {
    return share(a)[majority_group(share(a))] > share(b)[majority_group(share(b))];
  });

  std::vector<SchoolLink> links;
  std::vector<std::uint8_t> paired(venues_.size(), 0);
  for (std::int32_t a : schools) {
    if (spec.pairs >= 0 && static_cast<std::int64_t>(links.size()) >= spec.pairs) break;
    if (paired[a]) continue;
    std::int32_t best = -1;
    double best_d = -1;
    for (std::int32_t b : schools) {
      if (b == a || paired[b] || majority_group(share(b)) == majority_group(share(a))) continue;
      const double d = dissimilarity(share(a), share(b));
      if (d > best_d || (d == best_d && b < best)) best = b, best_d = d;
    }
    if (best < 0) continue;
    paired[a] = paired[best] = 1;
    SchoolLink link;
    link.school_a = a;
    link.school_b = best;
    links.push_back(std::move(link));
  }

  // Pupils of the linked age band per school, each with a keyed draw; the class is the
  // class_size smallest draws (a uniform sample, fixed for the year).
  std::vector<std::int32_t> link_of_school(venues_.size(), -1);
  for (std::size_t l = 0; l < links.size(); ++l)
    link_of_school[links[l].school_a] = link_of_school[links[l].school_b] = static_cast<std::int32_t>(l);
  std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> pupils(venues_.size());
  for (std::size_t i = 0; i < residents_.size(); ++i) {
    if (residents_.age_band[i] != static_cast<std::uint8_t>(spec.age_band)) continue;
    const std::int32_t v = residents_.member_venue(i, school_type_);
    if (v < 0 || link_of_school[v] < 0) continue;
    RandomStream rng(key_, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(day.index), kLinkClass);
    pupils[v].push_back({rng(), static_cast<std::uint32_t>(i)});
  }
  const auto class_of = [&](std::int32_t v) {
    auto& p = pupils[v];
    const std::size_t size = std::min(p.size(), static_cast<std::size_t>(spec.class_size));
    std::partial_sort(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(size), p.end());
    std::vector<std::uint32_t> ids;
    for (std::size_t k = 0; k < size; ++k) ids.push_back(p[k].second);
    return ids;
  };

  std::vector<Date> dates;
  const Date year_start = spec.start + 365 * year;
  for (int k = 0; k < spec.sessions_per_year; ++k) {
    Date d = year_start + static_cast<std::int32_t>(static_cast<std::int64_t>(k) * 365 / spec.sessions_per_year);
    while (d.weekday() >= 5) ++d;
    if (d <= spec.end && d < year_start + 365) dates.push_back(d);
  }
  for (SchoolLink& link : links) {
    std::vector<std::uint32_t> members = class_of(link.school_a);
    const std::vector<std::uint32_t> b = class_of(link.school_b);
    members.insert(members.end(), b.begin(), b.end());
    std::stable_sort(members.begin(), members.end(),
                     [&](std::uint32_t x, std::uint32_t y) { return residents_.group[x] < residents_.group[y]; });
    link.group_begin.fill(0);
    for (std::uint32_t i : members) ++link.group_begin[residents_.group[i] + 1];
    for (int g = 0; g < groups; ++g) link.group_begin[g + 1] += link.group_begin[g];
    link.members = std::move(members);
    link.session_dates = dates;
  }
  log_.push_back({day.date, "school_linking_year", spec.label,
                  std::to_string(links.size()) + " pairs of classes, " + std::to_string(dates.size()) + " link days",
                  static_cast<std::int64_t>(2 * links.size())});
  links_[programme] = std::move(links);
}

void ProgrammesPhase::run_links(const Day& day, int programme) {
  const SchoolLinkingSpec& spec = linking_[programme];
  const std::vector<SchoolLink>& links = links_[programme];
  if (links.empty()) return;
  const std::vector<Date>& dates = links.front().session_dates;
  const auto it = std::find(dates.begin(), dates.end(), day.date);
  if (it == dates.end()) return;
  ContactSetting setting;
  setting.encounters = params_.link_encounters;
  setting.homophily = params_.link_homophily;
  setting.quality = it == dates.begin() ? std::min(1.0, spec.quality + params_.link_neutral_bonus) : spec.quality;
  setting.depth = static_cast<float>(params_.link_depth);
  setting.venue_type = columns_.school_linking;
  setting.stable = true;
  const int groups = residents_.num_groups;
  const auto count = static_cast<std::int64_t>(links.size());
#pragma omp parallel if (count > 1)
  {
    ContactCounts& mine = thread_counts_[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t l = 0; l < count; ++l) {
      const SchoolLink& link = links[static_cast<std::size_t>(l)];
      if (!venues_.open[link.school_a] || !venues_.open[link.school_b]) continue;
      const std::uint32_t entity =
          kLinkEntity | (static_cast<std::uint32_t>(programme) << 20) | static_cast<std::uint32_t>(l);
      run_encounter_session(rules_, setting, residents_, tally_, link.members,
                            std::span<const std::uint32_t>(link.group_begin.data(), groups + 1), key_, entity,
                            static_cast<std::uint32_t>(day.index), kProgrammeEncounter, mine);
    }
  }
}

// --- checkpoints ----------------------------------------------------------------------------

namespace {

std::vector<std::int32_t> days_of(const std::vector<Date>& dates) {
  std::vector<std::int32_t> days;
  for (const Date d : dates) days.push_back(d.days_since_epoch());
  return days;
}

std::vector<Date> dates_of(const std::vector<std::int32_t>& days) {
  std::vector<Date> dates;
  for (const std::int32_t d : days) dates.push_back(Date::from_days(d));
  return dates;
}

}  // namespace

void ProgrammesPhase::forget(std::span<const std::uint32_t> replaced) {
  for (const std::uint32_t i : replaced)
    if (i < participation_day_.size()) participation_day_[i] = -1;
}

void ProgrammesPhase::save(StateWriter& out) const {
  out.write("participation_day", participation_day_);
  out.write("cut_short", cut_short_);
  out.scalar("next_team_id", next_team_id_);
  out.scalar("encounters", encounters_);
  StateWriter cohorts = out.child("cohorts");
  cohorts.scalar("count", cohorts_.size());
  for (std::size_t k = 0; k < cohorts_.size(); ++k) {
    const YouthCohort& c = cohorts_[k];
    StateWriter cohort = cohorts.child(std::to_string(k));
    cohort.scalar("programme", c.programme);
    cohort.scalar("start_day", c.start_day);
    cohort.scalar("residential_days", c.residential_days);
    cohort.scalar("first_team_id", c.first_team_id);
    cohort.scalar("finished", static_cast<int>(c.finished));
    cohort.write("days", days_of(c.days));
    cohort.write("members", c.members);
    cohort.write("team_begin", c.team_begin);
    cohort.write("group_begin", c.group_begin);
  }
  StateWriter links = out.child("links");
  links.scalar("programmes", links_.size());
  for (std::size_t p = 0; p < links_.size(); ++p) {
    StateWriter programme = links.child(std::to_string(p));
    programme.scalar("count", links_[p].size());
    for (std::size_t l = 0; l < links_[p].size(); ++l) {
      const SchoolLink& link = links_[p][l];
      StateWriter one = programme.child(std::to_string(l));
      one.scalar("school_a", link.school_a);
      one.scalar("school_b", link.school_b);
      one.write("members", link.members);
      one.write("group_begin", std::span<const std::uint32_t>(link.group_begin));
      one.write("session_dates", days_of(link.session_dates));
    }
  }
}

// Programmes are matched by index: the checkpoint check has made sure every programme started
// by the checkpoint's date is the same item in the same place. Programmes of this scenario past
// the checkpointed ones (all starting later) keep their initial state.
void ProgrammesPhase::restore(const StateReader& in) {
  std::vector<std::int32_t> participation = in.read<std::int32_t>("participation_day");
  if (participation.size() > residents_.size())
    in.fail("participation_day", "holds " + std::to_string(participation.size()) + " residents, the city " +
                                     std::to_string(residents_.size()));
  participation.resize(residents_.size(), -1);
  participation_day_ = std::move(participation);
  cut_short_ = in.read<std::uint32_t>("cut_short");
  next_team_id_ = in.scalar<std::uint32_t>("next_team_id");
  encounters_ = in.scalar<std::int64_t>("encounters");

  const StateReader cohorts = in.child("cohorts");
  cohorts_.clear();
  const auto count = cohorts.scalar<std::size_t>("count");
  for (std::size_t k = 0; k < count; ++k) {
    const StateReader cohort = cohorts.child(std::to_string(k));
    YouthCohort c;
    c.programme = cohort.scalar<int>("programme");
    if (c.programme < 0 || c.programme >= static_cast<int>(youth_.size()))
      cohort.fail("programme", "refers to youth programme " + std::to_string(c.programme) + ", but the scenario has " +
                                   std::to_string(youth_.size()));
    c.start_day = cohort.scalar<std::int32_t>("start_day");
    c.residential_days = cohort.scalar<int>("residential_days");
    c.first_team_id = cohort.scalar<std::uint32_t>("first_team_id");
    c.finished = cohort.scalar<int>("finished") != 0;
    c.days = dates_of(cohort.read<std::int32_t>("days"));
    c.members = cohort.read<std::uint32_t>("members");
    c.team_begin = cohort.read<std::uint32_t>("team_begin");
    c.group_begin = cohort.read<std::uint32_t>("group_begin");
    cohorts_.push_back(std::move(c));
  }

  const StateReader links = in.child("links");
  const auto programmes = links.scalar<std::size_t>("programmes");
  for (auto& l : links_) l.clear();
  for (std::size_t p = 0; p < programmes; ++p) {
    const StateReader programme = links.child(std::to_string(p));
    const auto pairs = programme.scalar<std::size_t>("count");
    if (pairs > 0 && p >= links_.size())
      programme.fail("", "holds links of school-linking programme " + std::to_string(p) + ", but the scenario has " +
                             std::to_string(links_.size()));
    for (std::size_t l = 0; l < pairs; ++l) {
      const StateReader one = programme.child(std::to_string(l));
      SchoolLink link;
      link.school_a = one.scalar<std::int32_t>("school_a");
      link.school_b = one.scalar<std::int32_t>("school_b");
      link.members = one.read<std::uint32_t>("members");
      const std::vector<std::uint32_t> group_begin = one.read<std::uint32_t>("group_begin");
      if (group_begin.size() != link.group_begin.size()) one.fail("group_begin", "has the wrong length");
      std::copy(group_begin.begin(), group_begin.end(), link.group_begin.begin());
      link.session_dates = dates_of(one.read<std::int32_t>("session_dates"));
      links_[p].push_back(std::move(link));
    }
  }
}

// ---- the mechanism ----------------------------------------------------------------------------
namespace {

struct ProgrammesConfig final : SettingsConfig<"programmes", ProgrammeParams, kProgrammeParams> {
  std::vector<YouthProgrammeSpec> youth;
  std::vector<SchoolLinkingSpec> linking;
  std::vector<std::string> contact_columns() const override {
    std::vector<std::string> columns;
    if (!youth.empty()) columns.push_back("youth_programme");
    if (!linking.empty()) columns.push_back("school_linking");
    return columns;
  }
};

double expected_youth(const Scenario& s) {
  double youth = 0;
  for (const auto& row : s.population.counts)
    for (std::size_t g = 0; g < row.size(); ++g)
      youth += static_cast<double>(row[g]) * s.groups[g].age_shares[static_cast<int>(AgeBand::youth)];
  return youth;
}

class ProgrammesMechanism final : public PhaseMechanism<ProgrammesPhase> {
 public:
  ProgrammesMechanism(const ProgrammesConfig& config, MechanismContext& c)
      : PhaseMechanism<ProgrammesPhase>(
            config.settings, config.youth, config.linking, c.rules, c.world.residents, c.world.venues,
            c.scenario.venue_type_index("school"),
            ProgrammeColumns{c.scenario.venue_type_index("youth_programme"), c.scenario.venue_type_index("school_linking")},
            c.tally, c.key, c.events) {
    c.links.publish<const ProgrammesPhase>("programmes", phase_);
  }
  void connect(const Links& links) override {
    using CutShort = std::function<void(std::span<const std::uint32_t>)>;
    if (const auto* cut_short = links.find<CutShort>("programme_cut_short")) phase_.on_cut_short(*cut_short);
  }
  void forget(std::span<const std::uint32_t> replaced) override { phase_.forget(replaced); }
};

}  // namespace

MechanismEntry programmes_mechanism() {
  return {"programmes", {"youth_programme", "school_linking"},
          {{kProgrammeAge, kLinkClass}, {kProgrammeEncounter, kProgrammeEncounter + kMaxGroups - 1}},
          [](const MechanismReading& r) -> std::shared_ptr<const MechanismConfig> {
            const Scenario& s = r.city();
            const Date start = s.simulation.start, end = s.simulation.end;
            auto config = read_settings_of<ProgrammesConfig>(r);
            for (const auto& [index, item] : r.items({"youth_programme"}))
              config->youth.push_back(read_youth_programme(item, start, end, expected_youth(s), config->settings.params));
            for (const auto& [index, item] : r.items({"school_linking"})) {
              if (s.venue_type_index("school") < 0) item.fail("kind", "school linking needs a venue type named \"school\"");
              config->linking.push_back(read_school_linking(item, start, end));
            }
            return config;
          },
          describe_settings<ProgrammesConfig>,
          [](const MechanismConfig& config, MechanismContext& c) -> std::unique_ptr<Mechanism> {
            const auto& programmes = config_as<ProgrammesConfig>(config);
            if (programmes.youth.empty() && programmes.linking.empty()) return nullptr;
            return std::make_unique<ProgrammesMechanism>(programmes, c);
          }};
}

}  // namespace contactsim
