#pragma once
// Small text helpers for messages, written once here: quoting, joining and listing names, finding
// a name, and "a date within the run". Generic: they know nothing of the model.
#include "core/calendar.hpp"

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace contactsim {

// `text` between two `mark`s: in_quotes("a") is "a" in double quotes, in_quotes("a", '\'') is 'a'.
inline std::string in_quotes(std::string_view text, char mark = '"') {
  std::string out;
  out.reserve(text.size() + 2);
  out += mark;
  out += text;
  out += mark;
  return out;
}

// `parts` one after the other with `separator` between them.
inline std::string joined(const std::vector<std::string>& parts, std::string_view separator = ", ") {
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

// `names` each in double quotes, separated by ", ", as error messages list the choices.
inline std::string list_of(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + in_quotes(name);
  return out;
}

// The `name` of each item.
template <class T>
std::vector<std::string> names_of(const std::vector<T>& items) {
  std::vector<std::string> out;
  out.reserve(items.size());
  for (const auto& item : items) out.push_back(item.name);
  return out;
}

// Index of `name` in `items` (names themselves, or things with a `name`); -1 when absent.
template <class T>
int index_of(const std::vector<T>& items, std::string_view name) {
  for (std::size_t k = 0; k < items.size(); ++k) {
    if constexpr (std::is_convertible_v<const T&, std::string_view>) {
      if (std::string_view(items[k]) == name) return static_cast<int>(k);
    } else {
      if (items[k].name == name) return static_cast<int>(k);
    }
  }
  return -1;
}

// "expected a date within the run (<start> to <end>)".
inline std::string expected_within_run(Date start, Date end) {
  return "expected a date within the run (" + start.iso() + " to " + end.iso() + ")";
}

// The complaint about a date outside the run [start, end] (expected_within_run(...) + ", got
// <date>"), or "" when `date` lies within it.
inline std::string outside_run(Date date, Date start, Date end) {
  if (date >= start && date <= end) return "";
  return expected_within_run(start, end) + ", got " + date.iso();
}

}  // namespace contactsim
