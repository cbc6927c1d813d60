#include "models/city/venue_types.hpp"

#include "contactsim/venue_types_toml.hpp"  // generated: models/city/venue_types.toml as text

#include <iterator>
#include <stdexcept>

namespace contactsim {
namespace {

const std::array<const char*, 7> kDayNames{"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

// The numeric keys of [venue_types.<name>]: one list of keys, ranges and units for a scenario's
// tables, the built-in table and the parameter dictionary. `fallback` is a new type's default;
// `source` names the built-in table's source.<topic> that justifies each type's value.
constexpr ParamSpec<VenueType> kNumbers[] = {
    {"members_per_venue", &VenueType::members_per_venue, 1, 1, 1e7, "residents", "sizing"},
    {"local_share", &VenueType::local_share, 1, 0, 1, "share", "membership"},
    {"budget_full", &VenueType::budget_full, 0, 0, 1e12, "GBP/year", "sizing"},
    {"encounters", &VenueType::encounters, 0, 0, 100, "per attendee-session", "contact"},
    {"homophily", &VenueType::homophily, 0, 0, 1, "probability", "contact"},
    {"depth", &VenueType::depth, 0, 0, 1, "w", "contact"},
    {"equal_status", &VenueType::equal_status, 0, 0, 1, "condition", "conditions"},
    {"cooperation", &VenueType::cooperation, 0, 0, 1, "condition", "conditions"},
    {"common_goal", &VenueType::common_goal, 0, 0, 1, "condition", "conditions"},
    {"institutional_support", &VenueType::institutional_support, 0, 0, 1, "condition", "conditions"},
};

// Keys that are tables of age bands (member_share = { child = 1.0, adult = 0.7 }).
struct ByAgeSpec {
  const char* key;
  std::array<float, kNumAgeBands> VenueType::*field;
  double max;
  const char* unit;
  const char* source;
};
constexpr ByAgeSpec kByAge[] = {
    {"member_share", &VenueType::member_share, 1, "share", "membership"},
    {"visits_per_week", &VenueType::visits_per_week, 7, "visits/week", "visits"},
};

constexpr std::int64_t kMaxCapacity = 10'000'000;
constexpr double kMaxBudget = 1e12;

// The built-in table's source texts of each type, in the order the file header lists them.
constexpr const char* kSourceTopics[] = {"membership", "visits", "sizing", "contact", "conditions"};

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

// The one reader of [venue_types.<name>], for scenarios and the built-in table alike: `base`
// is the built-in type of that name (its values are the defaults), or null for a new type,
// whose defining keys are then required and whose other keys default as in kNumbers.
VenueType read_over(const std::string& name, const ConfigTable& t, const VenueType* base) {
  VenueType v = base ? *base : defaults_of<VenueType>(kNumbers);
  v.name = name;
  auto need = [&](const char* key, const char* what) {
    if (!base && !t.has(key)) t.fail(key, std::string("required for a new venue type; expected ") + what);
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
  for (const auto& spec : kByAge) v.*spec.field = read_by_age(t, spec.key, v.*spec.field, spec.max);
  v.generate = t.boolean("generate", v.generate);
  v.stable = t.boolean("stable", v.stable);
  v.fear_sensitive = t.boolean("fear_sensitive", v.fear_sensitive);
  v.capacity = static_cast<std::int32_t>(t.integer("capacity", v.capacity, 0, kMaxCapacity));
  v.budget = t.number("budget", v.budget, 0, kMaxBudget);  // absent: stays < 0, i.e. budget_full
  for (const auto& spec : kNumbers) v.*spec.field = t.number(spec.key, v.*spec.field, spec.min, spec.max);
  for (int a = 0; a < kNumAgeBands; ++a)
    if (v.member_share[a] > 0 && v.visits_per_week[a] > static_cast<float>(v.sessions_per_week()))
      t.fail("visits_per_week", std::string("expected at most ") + std::to_string(v.sessions_per_week()) +
                                    " visits a week for " + kAgeBandNames[a] + " (the type is open " +
                                    std::to_string(v.sessions_per_week()) + " days a week)");
  return v;
}

// Dictionary rows of a built-in type: every numeric key its table writes, with the text of the
// source.<topic> that covers it. Every type must give all five texts.
void describe_builtin(const VenueType& v, const ConfigTable& t, std::vector<ParamDescription>& out) {
  const ConfigTable sources = t.required_table("source");
  std::array<std::string, std::size(kSourceTopics)> texts;
  for (std::size_t k = 0; k < texts.size(); ++k) {
    texts[k] = sources.required_string(kSourceTopics[k]);
    if (texts[k].size() < 20)
      sources.fail(kSourceTopics[k], "expected the source of these values or the reason for them");
  }
  auto source_of = [&](std::string_view topic) -> const std::string& {
    for (std::size_t k = 0; k < texts.size(); ++k)
      if (topic == kSourceTopics[k]) return texts[k];
    throw std::logic_error("venue_types.cpp: unknown source topic " + std::string(topic));
  };
  const std::string section = "venue_types." + v.name;
  for (const auto& spec : kByAge)
    for (int a = 0; a < kNumAgeBands; ++a)
      if (t.optional_table(spec.key)->has(kAgeBandNames[a]))
        out.push_back({section, std::string(spec.key) + "." + kAgeBandNames[a], (v.*spec.field)[a], 0, spec.max,
                       spec.unit, source_of(spec.source)});
  if (t.has("capacity"))
    out.push_back({section, "capacity", static_cast<double>(v.capacity), 0, static_cast<double>(kMaxCapacity),
                   "per session (0 = unlimited)", source_of("sizing")});
  if (t.has("budget")) out.push_back({section, "budget", v.budget, 0, kMaxBudget, "GBP/year", source_of("sizing")});
  for (const auto& spec : kNumbers)
    if (t.has(spec.key))
      out.push_back({section, spec.key, v.*spec.field, spec.min, spec.max, spec.unit, source_of(spec.source)});
}

const VenueTypeTable& builtins() {
  static const VenueTypeTable table = read_venue_type_table(kBuiltinVenueTypesToml, kBuiltinVenueTypesTomlName);
  return table;
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

const std::vector<VenueType>& builtin_venue_types() { return builtins().types; }

void describe_venue_type_defaults(std::vector<ParamDescription>& out) {
  const auto& described = builtins().described;
  out.insert(out.end(), described.begin(), described.end());
}

VenueType read_venue_type(const std::string& name, const ConfigTable& t) {
  for (const auto& builtin : builtin_venue_types())
    if (builtin.name == name) return read_over(name, t, &builtin);
  return read_over(name, t, nullptr);
}

VenueTypeTable read_venue_type_table(std::string_view text, const std::filesystem::path& file) {
  const ConfigDocument doc = ConfigDocument::parse(text, file);
  const ConfigTable root = ConfigTable::root(doc);
  VenueTypeTable table;
  for (const auto& [name, t] : root.named_tables("venue_types")) {
    table.types.push_back(read_over(name, t, nullptr));
    describe_builtin(table.types.back(), t, table.described);
  }
  if (table.types.empty()) root.fail("venue_types", "expected [venue_types.<name>] tables");
  root.finish();
  return table;
}

}  // namespace contactsim
