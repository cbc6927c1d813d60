#include "core/calendar.hpp"

#include <gtest/gtest.h>

using contactsim::Date;
using contactsim::RecordInterval;

TEST(Calendar, IsoRoundTripAcrossLeapYears) {
  for (const char* text : {"2020-02-29", "2021-01-01", "1999-12-31", "2024-12-31"}) {
    const auto d = Date::parse_iso(text);
    ASSERT_TRUE(d.has_value()) << text;
    EXPECT_EQ(d->iso(), text);
  }
  EXPECT_EQ(Date::parse_iso("2020-02-28")->operator+(1).iso(), "2020-02-29");
  EXPECT_EQ(Date::parse_iso("2021-02-28")->operator+(1).iso(), "2021-03-01");
}

TEST(Calendar, RejectsMalformedAndImpossibleDates) {
  for (const char* text : {"2021-02-29", "2021-13-01", "2021-1-01", "20210101", "2021-01-32", "", "abcd-ef-gh"})
    EXPECT_FALSE(Date::parse_iso(text).has_value()) << text;
}

TEST(Calendar, WeekdayIsIso) {
  EXPECT_EQ(Date::parse_iso("2020-01-01")->weekday(), 2u);  // a Wednesday
  EXPECT_EQ(Date::parse_iso("2024-06-02")->weekday(), 6u);  // a Sunday
}

TEST(Calendar, RecordingPeriods) {
  const Date start = *Date::parse_iso("2020-01-01");
  EXPECT_FALSE(contactsim::closes_period(start, start, RecordInterval::week));
  EXPECT_TRUE(contactsim::closes_period(start + 6, start, RecordInterval::week));
  EXPECT_TRUE(contactsim::closes_period(*Date::parse_iso("2020-02-29"), start, RecordInterval::month));
  EXPECT_FALSE(contactsim::closes_period(*Date::parse_iso("2020-02-28"), start, RecordInterval::month));
  EXPECT_TRUE(contactsim::closes_period(start, start, RecordInterval::day));
}
