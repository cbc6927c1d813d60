#pragma once
// Small text helpers for messages, written once here: quoting, joining and listing names, finding
// a name, and "a date within the run". Generic: they know nothing of the model.
#include "core/calendar.hpp"

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace contactsim {

// The length of the valid UTF-8 sequence starting at text[i] (a lead byte and its continuation
// bytes), or 0 if there is none.
inline std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = static_cast<unsigned char>(text[i]);
  const std::size_t length = byte >= 0xF0 && byte <= 0xF4 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC2 && byte < 0xE0 ? 2 : 0;
  if (length == 0 || byte > 0xF4 || i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k)
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 0;
  return length;
}

// `text` safe to print in a message: control characters and bytes that are not UTF-8 (binary
// junk in a data file) as \xNN, so a terminal shows what is there instead of obeying it.
inline std::string printable(std::string_view text) {
  static const char* const hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const std::size_t length = byte >= 0x80 ? utf8_sequence_length(text, i) : (byte < 0x20 || byte == 0x7F ? 0 : 1);
    if (length > 0) {
      out.append(text.substr(i, length));
      i += length;
      continue;
    }
    out += "\\x";
    out += hex[byte >> 4];
    out += hex[byte & 0xF];
    ++i;
  }
  return out;
}

// `text` between two `mark`s: in_quotes("a") is "a" in double quotes, in_quotes("a", '\'') is 'a'.
// Non-printable bytes are escaped (printable).
inline std::string in_quotes(std::string_view text, char mark = '"') {
  std::string out;
  out.reserve(text.size() + 2);
  out += mark;
  out += printable(text);
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
  if (names.empty()) return "(none)";  // never "expected one of " followed by nothing
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
