#pragma once
// What a call throws, as a value a test compares in one line: the whole message (file:line:
// key: expectation) stays visible in the failure, and the test goes on to its next case.
#include "core/config.hpp"

#include <gtest/gtest.h>

#include <exception>
#include <string>
#include <string_view>
#include <utility>

namespace contactsim::test {

// How error_of reports an exception of a type other than the one asked for.
inline constexpr std::string_view kOtherError = "not the expected error type: ";

// The what() of the `Error` that `action` throws; "" when it throws nothing; kOtherError and
// the message when it throws another std::exception.
template <class Error = ConfigError, class Action>
std::string error_of(Action&& action) {
  try {
    std::forward<Action>(action)();
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string(kOtherError) + e.what();
  }
  return "";
}

// The ConfigError `action` throws, for tests that check its file, line, key and expectation one
// by one; a test failure (and an empty error) when it throws none.
template <class Action>
ConfigError config_error_of(Action&& action) {
  try {
    std::forward<Action>(action)();
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a ConfigError";
  return ConfigError("", 0, "", "");
}

}  // namespace contactsim::test
