#include "models/city/venue_types.hpp"

#include <cmath>

namespace contactsim {
namespace {

constexpr std::uint8_t kWeekdays = 0b0011111;   // Mon–Fri
constexpr std::uint8_t kMonToSat = 0b0111111;
constexpr std::uint8_t kFriToSun = 0b1110000;
constexpr std::uint8_t kEveryDay = 0b1111111;
const std::array<const char*, 7> kDayNames{"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

// Where each built-in default comes from. Numbers marked illustrative are reasoned guesses
// to be replaced by calibration (issue: ensembles/calibration), and say so in the dictionary.
struct TypeSources {
  const char* membership;
  const char* visits;
  const char* sizing;
  const char* contact;
  const char* conditions;
};

struct Builtin {
  VenueType type;
  TypeSources sources;
};

std::vector<Builtin> make_builtins() {
  std::vector<Builtin> b;
  {
    VenueType t;
    t.name = "school";
    t.stable = true;
    t.slot = Slot::daytime;
    t.membership = Membership::catchment;
    t.open_days = kWeekdays;
    t.member_share = {1.0f, 1.0f, 0.0f, 0.0f};
    t.visits_per_week = {4.7f, 4.6f, 0.0f, 0.0f};
    t.members_per_venue = 600;
    t.capacity = 0;
    t.encounters = 3.0;
    t.homophily = 0.5;
    t.depth = 0.6;
    t.equal_status = 0.8, t.cooperation = 0.6, t.common_goal = 0.6, t.institutional_support = 0.9;
    b.push_back({t,
                 {"Schooling is compulsory from 5 to 16 and education or training to 18 (Education and "
                  "Skills Act 2008); catchment by ward follows local admissions",
                  "DfE pupil absence statistics: ~6% of sessions missed in England, 2018/19 → 4.7 of 5 "
                  "days (primary), 4.6 (secondary)",
                  "Stoke-on-Trent has ~100 state schools for ~58,000 under-18s: ~600 pupils each",
                  "Several substantive peer interactions per school day; homophily 0.5 reflects strong "
                  "same-group friendship choice in mixed schools (Moody 2001). Illustrative",
                  "Schools give equal status, shared goals and strong institutional support (Allport "
                  "1954); the British Academy 2017 report's case for schools linking. Illustrative"}});
  }
  {
    VenueType t;
    t.name = "workplace";
    t.stable = true;
    t.slot = Slot::daytime;
    t.membership = Membership::city;
    t.open_days = kWeekdays;
    t.member_share = {0.0f, 0.0f, 0.70f, 0.08f};
    t.visits_per_week = {0.0f, 0.0f, 4.5f, 4.0f};
    t.members_per_venue = 40;
    t.local_share = 0.3;
    t.capacity = 0;
    t.encounters = 2.0;
    t.homophily = 0.3;
    t.depth = 0.5;
    t.equal_status = 0.5, t.cooperation = 0.7, t.common_goal = 0.7, t.institutional_support = 0.6;
    b.push_back({t,
                 {"ONS Annual Population Survey: employment rate of 16-64s in Stoke-on-Trent ~70%; ~8% of "
                  "65+ in work nationally; 30% work in their own ward (illustrative)",
                  "Full-time week less leave and home working (illustrative)",
                  "Most employees work in small and medium workplaces (BEIS business population "
                  "estimates); 40 as a typical team size (illustrative)",
                  "Daily co-worker interaction; less self-segregation than in leisure settings "
                  "(Estlund 2003). Illustrative",
                  "Cooperation and common goals are built into work; status is often unequal "
                  "(Allport 1954). Illustrative"}});
  }
  {
    VenueType t;
    t.name = "community_centre";
    t.stable = true;
    t.slot = Slot::evening;
    t.membership = Membership::ward;
    t.open_days = kMonToSat;
    t.member_share = {0.12f, 0.15f, 0.10f, 0.18f};
    t.visits_per_week = {1.0f, 1.0f, 1.0f, 1.5f};
    t.members_per_venue = 300;
    t.capacity = 120;
    t.budget_full = 60000;
    t.encounters = 2.0;
    t.homophily = 0.4;
    t.depth = 0.6;
    t.equal_status = 0.7, t.cooperation = 0.7, t.common_goal = 0.6, t.institutional_support = 0.8;
    b.push_back({t,
                 {"Regular users of a local community centre: ~10-18% by age (DCMS Community Life "
                  "Survey: ~1 in 6 adults take part in local groups monthly). Illustrative",
                  "A weekly activity, older residents more often (Community Life Survey). Illustrative",
                  "Two to three centres per ward of ~7,000 residents; ~£60k a year for a part-time "
                  "manager, activities and building costs (illustrative, typical of small council-"
                  "supported centres)",
                  "Structured activities with facilitation: Keele evaluation 2022 describes community "
                  "hubs as the main place residents of Normacot and Shelton met. Illustrative",
                  "Facilitated, cooperative, council-supported (Keele evaluation 2022; British Academy "
                  "2017 'community centres' action). Illustrative"}});
  }
  {
    VenueType t;
    t.name = "place_of_worship";
    t.stable = true;
    t.slot = Slot::evening;
    t.membership = Membership::faith;
    t.open_days = kFriToSun;
    t.member_share = {0.5f, 0.4f, 0.4f, 0.5f};
    t.visits_per_week = {1.0f, 1.0f, 1.0f, 1.2f};
    t.members_per_venue = 250;
    t.capacity = 0;
    t.encounters = 2.0;
    t.homophily = 0.6;
    t.depth = 0.5;
    t.equal_status = 0.7, t.cooperation = 0.5, t.common_goal = 0.8, t.institutional_support = 0.6;
    b.push_back({t,
                 {"Share of a faith's adherents who worship weekly, before the faith's own "
                  "attendance factor ([population.faiths]); illustrative",
                  "Weekly worship (Friday, Saturday or Sunday)",
                  "A congregation of ~250 regular worshippers (illustrative)",
                  "Worship draws its own faith group only; within it, groups mix (e.g. Black and "
                  "Eastern European Christians). Illustrative",
                  "Shared identity and goals; institutional support varies. Illustrative"}});
  }
  {
    VenueType t;
    t.name = "street";
    t.fear_sensitive = true;
    t.slot = Slot::street;
    t.membership = Membership::block;
    t.open_days = kEveryDay;
    t.member_share = {1.0f, 1.0f, 1.0f, 1.0f};
    t.visits_per_week = {2.0f, 3.5f, 3.5f, 3.0f};
    t.members_per_venue = 1;
    t.capacity = 0;
    t.encounters = 0.6;
    t.homophily = 0.5;
    t.depth = 0.2;
    t.equal_status = 0.4, t.cooperation = 0.1, t.common_goal = 0.1, t.institutional_support = 0.1;
    b.push_back({t,
                 {"Every resident belongs to the street of their own block",
                  "Time spent out locally on about half of days (illustrative)",
                  "One street venue per residential block",
                  "Brief, observational neighbourhood encounters: depth 0.2 is DESIGN's "
                  "'observational' end of the scale",
                  "Unstructured public space: few of Allport's conditions hold"}});
  }
  {
    VenueType t;
    t.name = "youth_club";
    t.stable = true;
    t.slot = Slot::evening;
    t.membership = Membership::ward;
    t.open_days = kMonToSat & ~0b0100000;  // Mon–Fri evenings
    t.member_share = {0.05f, 0.15f, 0.0f, 0.0f};
    t.visits_per_week = {1.0f, 1.5f, 0.0f, 0.0f};
    t.members_per_venue = 80;
    t.capacity = 60;
    t.budget_full = 40000;
    t.encounters = 2.5;
    t.homophily = 0.4;
    t.depth = 0.6;
    t.equal_status = 0.8, t.cooperation = 0.7, t.common_goal = 0.6, t.institutional_support = 0.7;
    b.push_back({t,
                 {"About one in seven 11-17s attend a youth club or group regularly (DCMS Taking Part "
                  "survey); youth services were cut heavily in the 2010s. Illustrative",
                  "One to two evenings a week (illustrative)",
                  "A club of ~80 members; ~£40k a year for a youth worker and building "
                  "(illustrative)",
                  "Structured activity with peers across backgrounds (British Academy 2017, youth "
                  "action). Illustrative",
                  "Youth work builds cooperation under adult support (Allport 1954). Illustrative"}});
  }
  {
    VenueType t;
    t.name = "market";
    t.slot = Slot::street;
    t.membership = Membership::ward;
    t.open_days = 0b0110100;  // Wed, Fri, Sat
    t.member_share = {0.0f, 0.1f, 0.3f, 0.4f};
    t.visits_per_week = {0.0f, 0.5f, 0.8f, 1.0f};
    t.members_per_venue = 4000;
    t.capacity = 0;
    t.encounters = 1.5;
    t.homophily = 0.3;
    t.depth = 0.3;
    t.equal_status = 0.5, t.cooperation = 0.3, t.common_goal = 0.2, t.institutional_support = 0.3;
    b.push_back({t,
                 {"A third of adults shop at a local market or high street weekly (illustrative)",
                  "Market days, about weekly (illustrative)",
                  "About one market or shopping street per ward (illustrative)",
                  "Everyday transactions across groups ('banal encounters'; Wessendorf 2014). "
                  "Illustrative",
                  "Brief, semi-structured public contact. Illustrative"}});
  }
  {
    VenueType t;
    t.name = "park";
    t.slot = Slot::street;
    t.membership = Membership::ward;
    t.fear_sensitive = true;
    t.open_days = kEveryDay;
    t.member_share = {0.5f, 0.4f, 0.3f, 0.25f};
    t.visits_per_week = {1.5f, 1.0f, 0.7f, 0.7f};
    t.members_per_venue = 3000;
    t.capacity = 0;
    t.encounters = 1.0;
    t.homophily = 0.5;
    t.depth = 0.2;
    t.equal_status = 0.5, t.cooperation = 0.2, t.common_goal = 0.1, t.institutional_support = 0.2;
    b.push_back({t,
                 {"Natural England's People and Nature Survey: about half of adults visit green "
                  "space weekly; children more. Illustrative",
                  "About weekly (illustrative)",
                  "One or two parks per ward (illustrative)",
                  "Mostly observational co-presence; families mix at playgrounds. Illustrative",
                  "Unstructured public space; fear of anti-social behaviour keeps people away "
                  "(Keele 2022)"}});
  }
  {
    // Contact columns for sessions that programmes run themselves (no standing venues).
    VenueType t;
    t.name = "esol_class";
    t.stable = true;
    t.slot = Slot::evening;
    t.membership = Membership::ward;
    t.generate = false;
    t.encounters = 2.0, t.homophily = 0.3, t.depth = 0.7;
    t.equal_status = 0.9, t.cooperation = 0.8, t.common_goal = 0.9, t.institutional_support = 0.8;
    b.push_back({t,
                 {"Seats and eligibility come from each ESOL course in the timeline",
                  "Sessions come from each ESOL course in the timeline",
                  "Classes are formed by ESOL courses, not generated",
                  "Learners of many origins in one class (British Academy 2017 ESOL action). "
                  "Illustrative",
                  "Equal status as learners, shared goal, tutor support. Illustrative"}});
    VenueType f;
    f.name = "festival";
    f.slot = Slot::street;
    f.membership = Membership::ward;
    f.generate = false;
    f.encounters = 3.0, f.homophily = 0.3, f.depth = 0.4;
    f.equal_status = 0.7, f.cooperation = 0.6, f.common_goal = 0.6, f.institutional_support = 0.6;
    b.push_back({f,
                 {"Attendance comes from each festival in the timeline",
                  "Festival days come from the timeline",
                  "Crowds are formed by festivals, not generated",
                  "A community festival brings many residents together (Keele 2022). Illustrative",
                  "Celebration with shared purpose and council support. Illustrative"}});
    for (const char* name : {"youth_programme", "school_linking"}) {
      VenueType p;
      p.name = name;
      p.stable = true;
      p.slot = Slot::daytime;
      p.membership = Membership::ward;
      p.generate = false;
      b.push_back({p,
                   {"Participants come from the programme in the timeline",
                    "Sessions come from the programme in the timeline",
                    "Teams and classes are formed by the programme, not generated",
                    "Contact settings are the programme's own (mechanisms.programmes)",
                    "Contact quality is the programme's own (mechanisms.programmes)"}});
    }
  }
  return b;
}

const std::vector<Builtin>& builtins() {
  static const std::vector<Builtin> b = make_builtins();
  return b;
}

const Builtin* find_builtin(const std::string& name) {
  for (const auto& b : builtins())
    if (b.type.name == name) return &b;
  return nullptr;
}

std::array<float, kNumAgeBands> read_by_age(const ConfigTable& t, const char* key, std::array<float, kNumAgeBands> fallback,
                                             double max) {
  auto sub = t.optional_table(key);
  if (!sub) {
    if (t.has(key)) t.fail(key, "expected a table of age bands, e.g. { adult = 0.7, older = 0.1 }");
    return fallback;
  }
  for (int a = 0; a < kNumAgeBands; ++a)
    fallback[a] = static_cast<float>(sub->number(kAgeBandNames[a], fallback[a], 0.0, max));
  return fallback;
}

std::uint8_t read_days(const ConfigTable& t, std::uint8_t fallback) {
  if (!t.has("days")) return fallback;
  std::uint8_t mask = 0;
  for (const auto& day : t.string_list("days", {})) {
    int found = -1;
    for (int d = 0; d < 7; ++d)
      if (day == kDayNames[d]) found = d;
    if (found < 0) t.fail("days", "expected weekday names from mon, tue, wed, thu, fri, sat, sun, got \"" + day + "\"");
    mask = static_cast<std::uint8_t>(mask | (1u << found));
  }
  if (mask == 0) t.fail("days", "expected at least one weekday");
  return mask;
}

}  // namespace

std::optional<Membership> parse_membership(const std::string& text) {
  if (text == "catchment") return Membership::catchment;
  if (text == "city") return Membership::city;
  if (text == "ward") return Membership::ward;
  if (text == "faith") return Membership::faith;
  if (text == "block") return Membership::block;
  return std::nullopt;
}

const char* to_string(Membership m) {
  switch (m) {
    case Membership::catchment: return "catchment";
    case Membership::city: return "city";
    case Membership::ward: return "ward";
    case Membership::faith: return "faith";
    case Membership::block: return "block";
  }
  return "?";
}

const std::vector<VenueType>& builtin_venue_types() {
  static const std::vector<VenueType> types = [] {
    std::vector<VenueType> v;
    for (const auto& b : builtins()) v.push_back(b.type);
    return v;
  }();
  return types;
}

void describe_venue_type_defaults(std::vector<ParamDescription>& out) {
  for (const auto& [t, s] : builtins()) {
    const std::string section = "venue_types." + t.name;
    for (int a = 0; a < kNumAgeBands; ++a)
      out.push_back({section, std::string("member_share.") + kAgeBandNames[a], t.member_share[a], 0, 1, "share",
                     s.membership});
    for (int a = 0; a < kNumAgeBands; ++a)
      out.push_back({section, std::string("visits_per_week.") + kAgeBandNames[a], t.visits_per_week[a], 0, 7,
                     "visits/week", s.visits});
    out.push_back({section, "members_per_venue", t.members_per_venue, 1, 1e7, "residents", s.sizing});
    if (t.membership == Membership::city)
      out.push_back({section, "local_share", t.local_share, 0, 1, "share", s.membership});
    out.push_back({section, "capacity", static_cast<double>(t.capacity), 0, 1e7, "per session (0 = unlimited)",
                   s.sizing});
    if (t.budget_full > 0)
      out.push_back({section, "budget_full", t.budget_full, 0, 1e12, "GBP/year", s.sizing});
    out.push_back({section, "encounters", t.encounters, 0, 100, "per attendee-session", s.contact});
    out.push_back({section, "homophily", t.homophily, 0, 1, "probability", s.contact});
    out.push_back({section, "depth", t.depth, 0, 1, "w", s.contact});
    out.push_back({section, "equal_status", t.equal_status, 0, 1, "condition", s.conditions});
    out.push_back({section, "cooperation", t.cooperation, 0, 1, "condition", s.conditions});
    out.push_back({section, "common_goal", t.common_goal, 0, 1, "condition", s.conditions});
    out.push_back({section, "institutional_support", t.institutional_support, 0, 1, "condition", s.conditions});
  }
}

VenueType read_venue_type(const std::string& name, const ConfigTable& t) {
  const Builtin* builtin = find_builtin(name);
  VenueType v = builtin ? builtin->type : VenueType{};
  v.name = name;
  // A new type has no defaults to fall back on: its defining fields are required.
  const bool is_new = builtin == nullptr;
  auto need = [&](const char* key, const char* what) {
    if (is_new && !t.has(key)) t.fail(key, std::string("required for a new venue type; expected ") + what);
  };
  need("slot", "one of \"daytime\", \"evening\", \"street\"");
  need("membership", "one of \"catchment\", \"city\", \"ward\", \"faith\", \"block\"");
  need("member_share", "a table of age bands, e.g. { adult = 0.7 }");
  need("visits_per_week", "a table of age bands, e.g. { adult = 1.0 }");
  need("members_per_venue", "a number >= 1");
  need("encounters", "a number in [0, 100]");

  const std::string slot = t.choice("slot", kSlotNames[static_cast<int>(v.slot)], {"daytime", "evening", "street"});
  for (int s = 0; s < kNumSlots; ++s)
    if (slot == kSlotNames[s]) v.slot = static_cast<Slot>(s);
  v.membership = *parse_membership(
      t.choice("membership", to_string(v.membership), {"catchment", "city", "ward", "faith", "block"}));
  v.open_days = read_days(t, v.open_days);
  v.member_share = read_by_age(t, "member_share", v.member_share, 1.0);
  v.visits_per_week = read_by_age(t, "visits_per_week", v.visits_per_week, 7.0);
  v.generate = t.boolean("generate", v.generate);
  v.stable = t.boolean("stable", v.stable);
  v.fear_sensitive = t.boolean("fear_sensitive", v.fear_sensitive);
  v.members_per_venue = t.number("members_per_venue", v.members_per_venue, 1, 1e7);
  v.local_share = t.number("local_share", v.local_share, 0, 1);
  v.capacity = static_cast<std::int32_t>(t.integer("capacity", v.capacity, 0, 10'000'000));
  v.budget_full = t.number("budget_full", v.budget_full, 0, 1e12);
  v.budget = t.number("budget", v.budget < 0 ? v.budget_full : v.budget, 0, 1e12);
  v.encounters = t.number("encounters", v.encounters, 0, 100);
  v.homophily = t.number("homophily", v.homophily, 0, 1);
  v.depth = t.number("depth", v.depth, 0, 1);
  v.equal_status = t.number("equal_status", v.equal_status, 0, 1);
  v.cooperation = t.number("cooperation", v.cooperation, 0, 1);
  v.common_goal = t.number("common_goal", v.common_goal, 0, 1);
  v.institutional_support = t.number("institutional_support", v.institutional_support, 0, 1);
  for (int a = 0; a < kNumAgeBands; ++a)
    if (v.member_share[a] > 0 && v.visits_per_week[a] > static_cast<float>(v.sessions_per_week()))
      t.fail("visits_per_week", std::string("expected at most ") + std::to_string(v.sessions_per_week()) +
                                    " visits a week for " + kAgeBandNames[a] + " (the type is open " +
                                    std::to_string(v.sessions_per_week()) + " days a week)");
  return v;
}

}  // namespace contactsim
