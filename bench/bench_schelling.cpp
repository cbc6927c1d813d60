// Schelling segregation to the common cross-framework declaration (DESIGN §8), built from the
// library's own pieces: agents as a plain struct of arrays, core/grid.hpp's OccupancyGrid (whose
// label layer counts same-group neighbours eight cells per word) and
// keyed Philox streams (core/rng.hpp). X×X bounded grid, K agents half in each of two groups at
// random cells, a random activation order each step, Chebyshev radius r; an agent with fewer
// than m same-group neighbours moves to a random empty cell; one run = 20 steps.
// Small: X=40, K=1000, r=1, m=3. Large: X=100, K=8000, r=2, m=8. Each repetition is one seeded
// run (seed = repetition number); the median over 100 repetitions is the reported figure.
#include "core/grid.hpp"
#include "core/rng.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <numeric>
#include <vector>

using namespace contactsim;

namespace {

constexpr Purpose kPlacement = 1000;
constexpr Purpose kActivationOrder = 1001;
constexpr Purpose kDestination = 1002;
constexpr int kSteps = 20;

struct SchellingAgents {
  std::vector<std::uint8_t> group;
  std::vector<std::uint32_t> cell;
};

// The grid's label for a group: labels start at 1 (0 marks an empty cell).
std::uint8_t group_label(std::uint8_t group) { return static_cast<std::uint8_t>(group + 1); }

struct SchellingRun {
  SchellingAgents agents;
  OccupancyGrid grid;
  std::int64_t moves = 0;
};

SchellingRun place_agents(int side, int agents, StreamKey key) {
  SchellingRun run{{}, OccupancyGrid(side), 0};
  std::vector<std::uint32_t> cells(run.grid.cells());
  std::iota(cells.begin(), cells.end(), 0u);
  RandomStream rng(key, 0, 0, kPlacement);
  for (int k = 0; k < agents; ++k) {  // partial Fisher-Yates: the first K cells of a random order
    const auto j = static_cast<std::uint32_t>(k) + rng.below(static_cast<std::uint32_t>(cells.size() - k));
    std::swap(cells[k], cells[j]);
  }
  run.agents.group.resize(agents);
  run.agents.cell.resize(agents);
  for (int a = 0; a < agents; ++a) {
    run.agents.group[a] = static_cast<std::uint8_t>(a < agents / 2 ? 0 : 1);
    run.agents.cell[a] = cells[a];
    run.grid.place(a, cells[a], group_label(run.agents.group[a]));
  }
  return run;
}

void schelling_step(SchellingRun& run, int step, int radius, int min_same, StreamKey key) {
  const auto n = static_cast<std::uint32_t>(run.agents.group.size());
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  RandomStream shuffle(key, 0, static_cast<std::uint32_t>(step), kActivationOrder);
  for (std::uint32_t i = n - 1; i > 0; --i) std::swap(order[i], order[shuffle.below(i + 1)]);
  RandomStream destination(key, 1, static_cast<std::uint32_t>(step), kDestination);
  for (const std::uint32_t a : order) {
    const std::uint8_t mine = group_label(run.agents.group[a]);
    const int same = run.grid.count_neighbours_labelled(run.agents.cell[a], radius, mine);
    if (same >= min_same || run.grid.vacancies() == 0) continue;
    const std::uint32_t to = run.grid.vacancy(destination.below(static_cast<std::uint32_t>(run.grid.vacancies())));
    run.grid.vacate(run.agents.cell[a]);
    run.grid.place(static_cast<std::int32_t>(a), to, mine);
    run.agents.cell[a] = to;
    ++run.moves;
  }
}

std::atomic<std::uint64_t> next_seed{1};

// range: side X, agents K, radius r, min same-group neighbours m.
void BM_Schelling(benchmark::State& state) {
  const int side = static_cast<int>(state.range(0)), agents = static_cast<int>(state.range(1));
  const int radius = static_cast<int>(state.range(2)), min_same = static_cast<int>(state.range(3));
  std::int64_t moves = 0, runs = 0;
  std::size_t bytes = 0;
  for (auto _ : state) {
    const StreamKey key{next_seed++, 0};
    SchellingRun run = place_agents(side, agents, key);
    for (int step = 0; step < kSteps; ++step) schelling_step(run, step, radius, min_same, key);
    benchmark::DoNotOptimize(run.moves);
    moves += run.moves;
    ++runs;
    bytes = run.grid.bytes() + agents * (sizeof(std::uint8_t) + sizeof(std::uint32_t));
  }
  state.counters["agents"] = agents;
  state.counters["agent_steps_per_s"] =
      benchmark::Counter(static_cast<double>(agents) * kSteps * static_cast<double>(runs), benchmark::Counter::kIsRate);
  state.counters["moves_per_run"] = static_cast<double>(moves) / static_cast<double>(runs);
  state.counters["bytes_per_agent"] = static_cast<double>(bytes) / agents;
}

}  // namespace

BENCHMARK(BM_Schelling)
    ->Name("BM_Schelling/small")
    ->Args({40, 1000, 1, 3})
    ->Iterations(1)
    ->Repetitions(100)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Schelling)
    ->Name("BM_Schelling/large")
    ->Args({100, 8000, 2, 8})
    ->Iterations(1)
    ->Repetitions(100)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMicrosecond);
