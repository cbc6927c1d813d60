// Whole daily steps of the default Stoke-on-Trent scenario at several population scales, and
// the phases separately. Counters: agents, agent-days/s, intergroup encounters/s, bytes/agent.
#include "core/synthesis.hpp"
#include "models/simulation.hpp"

#include <benchmark/benchmark.h>

#include <string>

using namespace contactsim;

namespace {

Scenario stoke_at_scale(double scale) {
  Scenario s = load_scenario(std::string(CONTACTSIM_SOURCE_DIR) + "/scenarios/stoke_on_trent.toml");
  s.population.counts = scale_counts(s.population.unscaled_counts, scale);
  s.population.scale = scale;
  s.simulation.end = s.simulation.start + 365 * 100;  // benchmarks step for as long as they like
  return s;
}

void report(benchmark::State& state, const Simulation& sim, std::int64_t days, std::int64_t encounters) {
  const double agents = static_cast<double>(sim.world().residents.size());
  state.counters["agents"] = agents;
  state.counters["agent_days_per_s"] = benchmark::Counter(agents * static_cast<double>(days), benchmark::Counter::kIsRate);
  state.counters["encounters_per_s"] = benchmark::Counter(static_cast<double>(encounters), benchmark::Counter::kIsRate);
  state.counters["bytes_per_agent"] = static_cast<double>(sim.world().bytes()) / agents;
}

void BM_DailyStep(benchmark::State& state) {
  const double scale = static_cast<double>(state.range(0)) / 1000.0;
  RunOptions options;
  options.threads = static_cast<int>(state.range(1));
  Simulation sim(stoke_at_scale(scale), options);
  sim.step(7);  // warm-up: first sessions allocate their buffers
  const std::int64_t encounters_before = sim.intergroup_encounters();
  std::int64_t days = 0;
  for (auto _ : state) {
    days += sim.step(1);
  }
  report(state, sim, days, sim.intergroup_encounters() - encounters_before);
}

}  // namespace

// range(0): population scale × 1000 (1000 = the full 258k city); range(1): threads.
BENCHMARK(BM_DailyStep)->Args({50, 1})->Args({1000, 1})->Args({1000, 2})->Unit(benchmark::kMillisecond)->UseRealTime();
