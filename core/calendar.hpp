#pragma once
// Civil dates as day numbers, ISO 8601 text, and recording intervals.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace contactsim {

// A proleptic-Gregorian date stored as days since 1970-01-01. Plain value, cheap to copy.
class Date {
 public:
  constexpr Date() = default;
  static constexpr Date from_days(std::int32_t days) { return Date(days); }
  static Date from_ymd(int year, unsigned month, unsigned day);
  // Strict YYYY-MM-DD; returns nullopt for anything else (including 2021-02-30).
  static std::optional<Date> parse_iso(std::string_view text);

  constexpr std::int32_t days_since_epoch() const { return days_; }
  std::string iso() const;
  int year() const;
  unsigned month() const;
  unsigned day() const;
  // 0 = Monday … 6 = Sunday (ISO 8601).
  unsigned weekday() const;

  constexpr Date operator+(std::int32_t n) const { return Date(days_ + n); }
  constexpr std::int32_t operator-(Date other) const { return days_ - other.days_; }
  constexpr Date& operator++() { ++days_; return *this; }
  constexpr auto operator<=>(const Date&) const = default;

 private:
  constexpr explicit Date(std::int32_t days) : days_(days) {}
  std::int32_t days_ = 0;
};

enum class RecordInterval { day, week, month };

std::optional<RecordInterval> parse_record_interval(std::string_view text);
const char* to_string(RecordInterval interval);

// True when `date` closes a recording period that began at `start`: every day; every 7th day;
// or the last day of each calendar month. The final day of a run is always recorded as well
// (the caller handles that), so a period cut short is never lost.
bool closes_period(Date date, Date start, RecordInterval interval);

}  // namespace contactsim
