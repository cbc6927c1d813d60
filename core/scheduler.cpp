#include "core/scheduler.hpp"

namespace contactsim {

void Scheduler::add(std::unique_ptr<Phase> phase) {
  phases_.push_back(std::move(phase));
  seconds_.push_back(0.0);
}

void Scheduler::run_day(const Day& day) {
  for (std::size_t p = 0; p < phases_.size(); ++p) {
    const auto start = std::chrono::steady_clock::now();
    phases_[p]->run(day);
    seconds_[p] += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
}

std::vector<std::string> Scheduler::phase_names() const {
  std::vector<std::string> names;
  for (const auto& phase : phases_) names.emplace_back(phase->name());
  return names;
}

}  // namespace contactsim
