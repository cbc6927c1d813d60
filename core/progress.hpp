#pragma once
// A one-line progress display for long runs: shown on a terminal, silent otherwise (logs and CI
// stay clean). Knows nothing about what is being counted beyond units of work and a label.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace contactsim {

class ProgressBar {
 public:
  // total: units of work (days); work_per_unit: e.g. agents, to report a rate per second.
  ProgressBar(std::int64_t total, double work_per_unit, const char* rate_unit, bool enabled);
  ~ProgressBar();
  void update(std::int64_t done, const std::string& label);
  void finish();

  static bool stderr_is_terminal();

 private:
  std::int64_t total_;
  double work_per_unit_;
  const char* rate_unit_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace contactsim
