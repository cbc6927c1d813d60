#include "core/calendar.hpp"

#include <chrono>
#include <cstdio>

namespace contactsim {
namespace {
namespace chr = std::chrono;

chr::year_month_day to_ymd(std::int32_t days) {
  return chr::year_month_day{chr::sys_days{chr::days{days}}};
}

bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

int to_int(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}
}  // namespace

Date Date::from_ymd(int year, unsigned month, unsigned day) {
  const chr::year_month_day ymd{chr::year{year}, chr::month{month}, chr::day{day}};
  return Date(static_cast<std::int32_t>(chr::sys_days{ymd}.time_since_epoch().count()));
}

std::optional<Date> Date::parse_iso(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto y = text.substr(0, 4), m = text.substr(5, 2), d = text.substr(8, 2);
  if (!all_digits(y) || !all_digits(m) || !all_digits(d)) return std::nullopt;
  const chr::year_month_day ymd{chr::year{to_int(y)}, chr::month{static_cast<unsigned>(to_int(m))},
                                chr::day{static_cast<unsigned>(to_int(d))}};
  if (!ymd.ok()) return std::nullopt;
  return Date(static_cast<std::int32_t>(chr::sys_days{ymd}.time_since_epoch().count()));
}

std::string Date::iso() const {
  const auto ymd = to_ymd(days_);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

int Date::year() const { return static_cast<int>(to_ymd(days_).year()); }
unsigned Date::month() const { return static_cast<unsigned>(to_ymd(days_).month()); }
unsigned Date::day() const { return static_cast<unsigned>(to_ymd(days_).day()); }

unsigned Date::weekday() const {
  return chr::weekday{chr::sys_days{chr::days{days_}}}.iso_encoding() - 1;
}

std::optional<RecordInterval> parse_record_interval(std::string_view text) {
  if (text == "day") return RecordInterval::day;
  if (text == "week") return RecordInterval::week;
  if (text == "month") return RecordInterval::month;
  return std::nullopt;
}

const char* to_string(RecordInterval interval) {
  switch (interval) {
    case RecordInterval::day: return "day";
    case RecordInterval::week: return "week";
    case RecordInterval::month: return "month";
  }
  return "?";
}

bool closes_period(Date date, Date start, RecordInterval interval) {
  switch (interval) {
    case RecordInterval::day: return true;
    case RecordInterval::week: return (date - start) % 7 == 6;
    case RecordInterval::month: return (date + 1).day() == 1;
  }
  return false;
}

}  // namespace contactsim
