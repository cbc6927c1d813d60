#pragma once
// The scenario timeline (DESIGN §3.1): dated changes a council or a crisis makes to the city's
// venues — budget changes, openings and closures, lockdowns. Items are read and validated with
// the scenario; the TimelinePhase applies each on its date and logs it to /events.
#include "core/calendar.hpp"
#include "core/config.hpp"
#include "core/scheduler.hpp"
#include "models/city/state.hpp"

#include <optional>
#include <string>
#include <vector>

namespace contactsim {

struct VenueType;

// Which venues an item acts on: one named venue, or every venue of a type and/or in a ward.
struct VenueSelector {
  std::string venue;  // an explicit [[venues]] name, or empty
  int type = -1;      // venue type index, or -1 for any
  int ward = -1;      // ward index, or -1 for any
  bool matches(const Venues& venues, std::size_t v) const;
  std::string describe(const std::vector<std::string>& type_names, const std::vector<std::string>& ward_names) const;
};

enum class TimelineKind { budget, open, close, lockdown };

struct TimelineItem {
  TimelineKind kind = TimelineKind::budget;
  Date date;                      // when it applies (lockdown: its first day)
  Date end;                       // lockdown: last day closed (inclusive)
  VenueSelector venues;           // budget, open, close
  std::optional<double> change;   // budget: relative change, e.g. -0.4 for a 40% cut
  std::optional<double> budget;   // budget: new annual budget (GBP)
  std::vector<int> types;         // lockdown: venue types closed
  std::string label;              // optional, for /events
};

// The kinds this file applies itself; other mechanisms (programmes, one-off events, media, …) own
// further kinds and read those items with their own readers.
inline const std::vector<std::string> kVenueTimelineKinds{"budget", "open", "close", "lockdown"};

// Every [[timeline]] item whose kind is one of `kinds`, with its index in the timeline.
std::vector<std::pair<int, ConfigTable>> timeline_items_of_kind(const ConfigTable& root,
                                                                const std::vector<std::string>& kinds);

// Reads the venue items of [[timeline]] (validates references, dates within the run,
// overlapping lockdowns) and checks that every item's kind is one of kVenueTimelineKinds or
// `other_kinds`.
std::vector<TimelineItem> read_timeline(const ConfigTable& root, Date start, Date end,
                                        const std::vector<VenueType>& types, const std::vector<std::string>& wards,
                                        const std::vector<std::string>& explicit_venue_names,
                                        const std::vector<std::string>& other_kinds = {});

// An event for /events, collected by phases and written with the next record.
struct Event {
  Date date;
  std::string kind, subject, detail;
  std::int64_t venues = 0;
};
using EventLog = std::vector<Event>;

// What the timeline has decided about venues, read by the funding phase.
struct VenueDecisions {
  std::vector<std::uint8_t> closed;        // per venue: closed by decision
  std::vector<std::uint8_t> locked_type;   // per venue type: under lockdown today
  bool changed = true;                     // something changed since funding last looked
};

class TimelinePhase final : public Phase {
 public:
  TimelinePhase(std::vector<TimelineItem> items, std::vector<std::string> type_names,
                std::vector<std::string> ward_names, Venues& venues, VenueDecisions& decisions, EventLog& log);
  const char* name() const override { return "timeline"; }
  void run(const Day& day) override;
  // The decisions it has taken (items themselves come from the scenario).
  void save(StateWriter& out) const override;
  void restore(const StateReader& in) override;

 private:
  void apply(const TimelineItem& item, Date today);

  std::vector<TimelineItem> items_;
  std::vector<std::string> type_names_, ward_names_;
  Venues& venues_;
  VenueDecisions& decisions_;
  EventLog& log_;
};

// The venue timeline's registry entry: reads every [[timeline]] kind no other mechanism reads.
struct MechanismEntry;
MechanismEntry timeline_mechanism();

}  // namespace contactsim
