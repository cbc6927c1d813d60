#pragma once
// What every invariant check shares (the city's in models/run/invariants.cpp, each
// mechanism's in its own Mechanism::check_invariants): the error a violation throws, the way
// residents and wards are named in it, and the population changes mechanisms account for.
#include "core/calendar.hpp"
#include "models/city/state.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace contactsim {

class InvariantError : public std::runtime_error {
 public:
  InvariantError(Date day, std::string invariant, std::string subject, std::string value);
  Date day() const { return day_; }
  const std::string& invariant() const { return invariant_; }  // e.g. "warmth in [0,1]"
  const std::string& subject() const { return subject_; }      // e.g. "resident 17 (ward …, group …)"
  const std::string& value() const { return value_; }          // the offending value, as text

 private:
  Date day_;
  std::string invariant_;
  std::string subject_;
  std::string value_;
};

// A value as the checks write it (9 significant digits: floats round-trip).
std::string number_text(double value);
inline bool in_unit_interval(float value) { return value >= 0.0f && value <= 1.0f; }  // false for NaN

// The day being checked and the names its messages use.
struct InvariantContext {
  Date day;
  const Residents& residents;
  const std::vector<std::string>& group_names;
  const std::vector<std::string>& ward_names;

  // "resident 17 (ward "…", group "…")", with numbers where a name is out of range.
  std::string resident(std::size_t i) const;
  // "ward "…"".
  std::string ward(std::size_t w) const;
};

// Per (ward, group) cell (ward × groups + group): the changes of population the mechanisms
// counted since the day began, against which the city's population balance is checked.
struct PopulationChanges {
  explicit PopulationChanges(std::size_t cells)
      : births(cells), deaths(cells), arrivals(cells), departures(cells), moves_in(cells), moves_out(cells) {}
  std::vector<std::int64_t> births, deaths, arrivals, departures, moves_in, moves_out;
};

}  // namespace contactsim
