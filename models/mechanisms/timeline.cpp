#include "models/mechanisms/timeline.hpp"
#include "core/text.hpp"
#include "models/mechanisms/mechanism.hpp"
#include "models/city/world.hpp"
#include "models/run/scenario.hpp"

#include "core/archive.hpp"

#include "models/city/venue_types.hpp"

#include <algorithm>
#include <cmath>

namespace contactsim {
namespace {

int required_type(const ConfigTable& item, const char* key, const std::string& name,
                  const std::vector<std::string>& type_names) {
  const int t = index_of(type_names, name);
  if (t < 0) item.fail(key, "unknown venue type " + in_quotes(name) + "; expected one of " + list_of(type_names));
  return t;
}

VenueSelector read_selector(const ConfigTable& item, const std::vector<std::string>& type_names,
                            const std::vector<std::string>& wards, const std::vector<std::string>& venue_names) {
  VenueSelector s;
  if (item.has("venue")) {
    s.venue = item.required_string("venue");
    if (index_of(venue_names, s.venue) < 0)
      item.fail("venue", "unknown venue " + in_quotes(s.venue) + "; expected the name of a [[venues]] item");
    if (item.has("venue_type") || item.has("ward"))
      item.fail("venue", "expected either `venue` or `venue_type`/`ward`, not both");
    return s;
  }
  if (item.has("venue_type")) s.type = required_type(item, "venue_type", item.required_string("venue_type"), type_names);
  if (item.has("ward")) {
    const std::string ward = item.required_string("ward");
    s.ward = index_of(wards, ward);
    if (s.ward < 0) item.fail("ward", "unknown ward " + in_quotes(ward) + "; expected a name from [wards]");
  }
  if (s.type < 0 && s.ward < 0)
    item.fail("kind", "expected the venues it acts on: `venue`, `venue_type` and/or `ward`");
  return s;
}

void check_within_run(const ConfigTable& item, const char* key, Date d, Date start, Date end) {
  if (const std::string outside = outside_run(d, start, end); !outside.empty()) item.fail(key, outside);
}

TimelineItem read_item(const ConfigTable& item, Date start, Date end, const std::vector<std::string>& type_names,
                       const std::vector<std::string>& wards, const std::vector<std::string>& venue_names) {
  TimelineItem t;
  const std::string kind = item.required_string("kind");
  t.label = item.string("label", "");
  if (kind == "lockdown") {
    t.kind = TimelineKind::lockdown;
    t.date = item.required_date("start");
    t.end = item.required_date("end");
    check_within_run(item, "start", t.date, start, end);
    if (t.end < t.date) item.fail("end", "expected a date on or after start (" + t.date.iso() + "), got " + t.end.iso());
    for (const auto& name : item.string_list("venue_types", {}))
      t.types.push_back(required_type(item, "venue_types", name, type_names));
    if (t.types.empty()) item.fail("venue_types", "expected at least one venue type to close");
    return t;
  }
  t.date = item.required_date("date");
  check_within_run(item, "date", t.date, start, end);
  t.venues = read_selector(item, type_names, wards, venue_names);
  if (kind == "budget") {
    t.kind = TimelineKind::budget;
    if (item.has("change") == item.has("budget"))
      item.fail("change", "expected exactly one of `change` (relative, e.g. -0.4) or `budget` (annual GBP)");
    if (item.has("change")) t.change = item.number("change", 0, -1, 10);
    if (item.has("budget")) t.budget = item.number("budget", 0, 0, 1e12);
  } else {
    t.kind = kind == "open" ? TimelineKind::open : TimelineKind::close;
  }
  return t;
}

// Two lockdowns of the same venue type may not overlap: the end of one would reopen what the
// other still closes.
void check_lockdowns(const std::vector<TimelineItem>& items, const std::vector<ConfigTable>& tables,
                     const std::vector<std::string>& type_names) {
  for (std::size_t a = 0; a < items.size(); ++a)
    for (std::size_t b = 0; b < a; ++b) {
      if (items[a].kind != TimelineKind::lockdown || items[b].kind != TimelineKind::lockdown) continue;
      if (items[a].date > items[b].end || items[b].date > items[a].end) continue;
      for (int t : items[a].types)
        if (std::find(items[b].types.begin(), items[b].types.end(), t) != items[b].types.end())
          tables[a].fail("start", "lockdown of " + in_quotes(type_names[t]) + " overlaps the one from " +
                                      items[b].date.iso() + " to " + items[b].end.iso());
    }
}

}  // namespace

bool VenueSelector::matches(const Venues& venues, std::size_t v) const {
  if (!venue.empty()) return venues.name[v] == venue;
  return (type < 0 || venues.type[v] == type) && (ward < 0 || venues.ward[v] == ward);
}

std::string VenueSelector::describe(const std::vector<std::string>& type_names,
                                    const std::vector<std::string>& ward_names) const {
  if (!venue.empty()) return venue;
  std::string s = type >= 0 ? type_names[type] : "all venues";
  if (ward >= 0) s += " in " + ward_names[ward];
  return s;
}

std::vector<std::pair<int, ConfigTable>> timeline_items_of_kind(const ConfigTable& root,
                                                                const std::vector<std::string>& kinds) {
  std::vector<std::pair<int, ConfigTable>> out;
  const auto tables = root.array_of_tables("timeline");
  for (std::size_t k = 0; k < tables.size(); ++k) {
    const std::string kind = tables[k].required_string("kind");
    if (std::find(kinds.begin(), kinds.end(), kind) != kinds.end()) out.emplace_back(static_cast<int>(k), tables[k]);
  }
  return out;
}

std::vector<TimelineItem> read_timeline(const ConfigTable& root, Date start, Date end,
                                        const std::vector<VenueType>& types, const std::vector<std::string>& wards,
                                        const std::vector<std::string>& explicit_venue_names,
                                        const std::vector<std::string>& other_kinds) {
  std::vector<std::string> all_kinds = kVenueTimelineKinds;
  all_kinds.insert(all_kinds.end(), other_kinds.begin(), other_kinds.end());
  for (const auto& table : root.array_of_tables("timeline")) table.choice("kind", "", all_kinds);

  const auto type_names = names_of(types);
  std::vector<TimelineItem> items;
  std::vector<ConfigTable> tables;
  for (const auto& [index, table] : timeline_items_of_kind(root, kVenueTimelineKinds)) {
    items.push_back(read_item(table, start, end, type_names, wards, explicit_venue_names));
    tables.push_back(table);
  }
  check_lockdowns(items, tables, type_names);
  return items;
}

TimelinePhase::TimelinePhase(std::vector<TimelineItem> items, std::vector<std::string> type_names,
                             std::vector<std::string> ward_names, Venues& venues, VenueDecisions& decisions,
                             EventLog& log)
    : items_(std::move(items)),
      type_names_(std::move(type_names)),
      ward_names_(std::move(ward_names)),
      venues_(venues),
      decisions_(decisions),
      log_(log) {
  decisions_.closed.assign(venues.size(), 0);
  decisions_.locked_type.assign(type_names_.size(), 0);
  decisions_.changed = true;
}

void TimelinePhase::run(const Day& day) {
  for (const auto& item : items_) {
    if (item.date == day.date) apply(item, day.date);
    if (item.kind == TimelineKind::lockdown && item.end + 1 == day.date) {
      for (int t : item.types) decisions_.locked_type[t] = 0;
      decisions_.changed = true;
      log_.push_back({day.date, "lockdown_end", item.label.empty() ? "lockdown" : item.label, "", 0});
    }
  }
}

void TimelinePhase::apply(const TimelineItem& item, Date today) {
  std::int64_t affected = 0;
  std::string detail;
  if (item.kind == TimelineKind::lockdown) {
    for (int t : item.types) {
      decisions_.locked_type[t] = 1;
      detail += (detail.empty() ? "" : ", ") + type_names_[t];
      for (std::size_t v = 0; v < venues_.size(); ++v) affected += venues_.type[v] == t;
    }
    decisions_.changed = true;
    log_.push_back({today, "lockdown", item.label.empty() ? "lockdown" : item.label, detail + " until " + item.end.iso(),
                    affected});
    return;
  }
  for (std::size_t v = 0; v < venues_.size(); ++v) {
    if (!item.venues.matches(venues_, v)) continue;
    ++affected;
    switch (item.kind) {
      case TimelineKind::budget:
        venues_.budget[v] = item.budget ? *item.budget : venues_.budget[v] * (1.0 + *item.change);
        break;
      case TimelineKind::open: decisions_.closed[v] = 0; break;
      case TimelineKind::close: decisions_.closed[v] = 1; break;
      case TimelineKind::lockdown: break;
    }
  }
  if (item.kind == TimelineKind::budget)
    detail = item.budget ? "budget set to " + std::to_string(std::llround(*item.budget)) + " GBP/year"
                         : "budget changed by " + std::to_string(std::lround(*item.change * 100)) + "%";
  const char* kind = item.kind == TimelineKind::budget ? "budget" : item.kind == TimelineKind::open ? "open" : "close";
  const std::string subject = item.label.empty() ? item.venues.describe(type_names_, ward_names_) : item.label;
  log_.push_back({today, kind, subject, detail, affected});
  decisions_.changed = true;
}


void TimelinePhase::save(StateWriter& out) const {
  out.write("closed", decisions_.closed);
  out.write("locked_type", decisions_.locked_type);
  out.scalar("changed", static_cast<int>(decisions_.changed));
}

void TimelinePhase::restore(const StateReader& in) {
  in.read_into("closed", decisions_.closed);
  in.read_into("locked_type", decisions_.locked_type);
  decisions_.changed = in.scalar<int>("changed") != 0;
}

// ---- the mechanism ----------------------------------------------------------------------------
namespace {

struct TimelineConfig final : MechanismConfig {
  std::vector<TimelineItem> items;
};

class TimelineMechanism final : public Mechanism {
 public:
  TimelineMechanism(const TimelineConfig& config, MechanismContext& c)
      : phase_(config.items, c.scenario.venue_type_names(), c.scenario.ward_names(), c.world.venues, decisions_,
               c.events) {
    c.links.publish("venue_decisions", decisions_);
  }
  const char* name() const override { return phase_.name(); }
  void run(const Day& day) override { phase_.run(day); }
  void save(StateWriter& out) const override { phase_.save(out); }
  void restore(const StateReader& in) override { phase_.restore(in); }

 private:
  VenueDecisions decisions_;  // before phase_, which holds a reference to it
  TimelinePhase phase_;
};

}  // namespace

MechanismEntry timeline_mechanism() {
  return {"timeline", kVenueTimelineKinds, {},
          [](const MechanismReading& r) -> std::shared_ptr<const MechanismConfig> {
            const Scenario& s = r.city();
            std::vector<std::string> venue_names;
            for (const auto& v : s.venues) venue_names.push_back(v.name);
            auto config = std::make_shared<TimelineConfig>();
            config->items = read_timeline(r.root(), s.simulation.start, s.simulation.end, s.venue_types,
                                          s.ward_names(), venue_names, r.kinds_of_others());
            return config;
          },
          [](std::vector<ParamDescription>&) {},
          build_mechanism<TimelineMechanism, TimelineConfig>};
}

}  // namespace contactsim
