#include "models/city/invariant_error.hpp"
#include "core/text.hpp"

#include <cstdio>

namespace contactsim {

InvariantError::InvariantError(Date day, std::string invariant, std::string subject, std::string value)
    : std::runtime_error("invariant violated on " + day.iso() + ": " + invariant + ": " + subject + " = " + value),
      day_(day),
      invariant_(std::move(invariant)),
      subject_(std::move(subject)),
      value_(std::move(value)) {}

std::string number_text(double value) {
  char text[48];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

std::string InvariantContext::resident(std::size_t i) const {
  const Residents& r = residents;
  std::string out = "resident " + std::to_string(i);
  const bool ward_known = r.ward[i] < ward_names.size();
  const bool group_known = r.group[i] < group_names.size();
  if (ward_known || group_known)
    out += " (ward " + (ward_known ? in_quotes(ward_names[r.ward[i]]) : std::to_string(r.ward[i])) + ", group " +
           (group_known ? in_quotes(group_names[r.group[i]]) : std::to_string(r.group[i])) + ")";
  return out;
}

std::string InvariantContext::ward(std::size_t w) const { return "ward " + in_quotes(ward_names.at(w)); }

}  // namespace contactsim
