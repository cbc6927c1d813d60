#pragma once
// The daily loop's phase scheduler. A phase is one mechanism's step; it is handed references to
// exactly the state it touches when it is built, so the scheduler needs to know nothing of it.
#include "core/calendar.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace contactsim {

class StateWriter;
class StateReader;

struct Day {
  Date date;
  std::int32_t index = 0;  // days since the run's start date (the RNG's day counter)
};

class Phase {
 public:
  virtual ~Phase() = default;
  virtual const char* name() const = 0;
  virtual void run(const Day& day) = 0;
  // Checkpoints (core/archive.hpp): everything the phase changes after construction, including
  // the shared state it alone fills. The defaults are for phases that keep nothing between days.
  virtual void save(StateWriter&) const {}
  virtual void restore(const StateReader&) {}
};

class Scheduler {
 public:
  void add(std::unique_ptr<Phase> phase);
  void run_day(const Day& day);
  std::vector<std::string> phase_names() const;
  const std::vector<std::unique_ptr<Phase>>& phases() const { return phases_; }
  // Wall-clock seconds spent in each phase so far (for benchmarks and `--profile`).
  const std::vector<double>& seconds_per_phase() const { return seconds_; }

 private:
  std::vector<std::unique_ptr<Phase>> phases_;
  std::vector<double> seconds_;
};

}  // namespace contactsim
