// Whole daily steps of synthetic cities from 10⁴ to 10⁷ residents (bench/synthetic_city.hpp),
// each phase's cost per day, and recording. Counters: agents, agent-days/s, intergroup
// encounters/s, world_bytes_per_agent (the world's arrays) and peak_bytes_per_agent (the
// process's peak resident memory while building and running the city, minus what it held
// before: every buffer, friendships and mobility included).
#include "bench/synthetic_city.hpp"
#include "core/recorder.hpp"
#include "models/run/simulation.hpp"

#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <unistd.h>

using namespace contactsim;

namespace {

// A line of /proc/self/status in bytes ("VmRSS", "VmHWM"); 0 where there is no /proc.
double status_bytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string key;
  double kilobytes = 0;
  while (status >> key) {
    if (key == field + ":") {
      status >> kilobytes;
      return kilobytes * 1024.0;
    }
    status.ignore(1 << 12, '\n');
  }
  return 0;
}

// Restarts the kernel's peak-RSS mark (VmHWM) at the current RSS (Linux ≥ 4.0).
void reset_peak_memory() { std::ofstream("/proc/self/clear_refs") << "5"; }

struct BuiltCity {
  std::unique_ptr<Simulation> sim;
  double rss_before = 0;  // the process's resident bytes just before building it
};

constexpr const char* kSkeleton = "bench/skeleton.toml";

// Building a 10⁷ city takes a while: each size is built once per thread count and reused.
BuiltCity& city(std::int64_t agents, int threads, const std::string& scenario = "scenarios/stoke_on_trent.toml") {
  static std::map<std::tuple<std::int64_t, int, std::string>, BuiltCity> built;
  BuiltCity& slot = built[{agents, threads, scenario}];
  if (!slot.sim) {
    RunOptions options;
    options.threads = threads;
    slot.rss_before = status_bytes("VmRSS");
    reset_peak_memory();
    slot.sim = std::make_unique<Simulation>(bench::synthetic_city(agents, scenario), options);
    slot.sim->step(7);  // warm-up: first sessions allocate their buffers
  }
  return slot;
}

// Peak resident memory since the city was built, per agent. Cities built earlier stay resident
// but are idle, so the growth over rss_before is this city's.
double peak_bytes_per_agent(const BuiltCity& c) {
  return (status_bytes("VmHWM") - c.rss_before) / static_cast<double>(c.sim->world().residents.size());
}

void report(benchmark::State& state, const Simulation& sim, std::int64_t days, std::int64_t encounters) {
  const double agents = static_cast<double>(sim.world().residents.size());
  state.counters["agents"] = agents;
  state.counters["agent_days_per_s"] = benchmark::Counter(agents * static_cast<double>(days), benchmark::Counter::kIsRate);
  state.counters["encounters_per_s"] = benchmark::Counter(static_cast<double>(encounters), benchmark::Counter::kIsRate);
  state.counters["world_bytes_per_agent"] = static_cast<double>(sim.world().bytes()) / agents;
}

// range(0): agents; range(1): threads.
void BM_DailyStep(benchmark::State& state) {
  BuiltCity& built = city(state.range(0), static_cast<int>(state.range(1)));
  Simulation& sim = *built.sim;
  const std::int64_t encounters_before = sim.intergroup_encounters();
  std::int64_t days = 0;
  for (auto _ : state) days += sim.step(1);
  report(state, sim, days, sim.intergroup_encounters() - encounters_before);
  state.counters["peak_bytes_per_agent"] = peak_bytes_per_agent(built);
}

// The floor of today's design: the same city's day with only attendance and the encounters'
// sampling running (bench/skeleton.toml). Compare with BM_DailyStep at the same arguments.
void BM_SkeletonDay(benchmark::State& state) {
  BuiltCity& built = city(state.range(0), static_cast<int>(state.range(1)), kSkeleton);
  Simulation& sim = *built.sim;
  const std::int64_t encounters_before = sim.intergroup_encounters();
  std::int64_t days = 0;
  for (auto _ : state) days += sim.step(1);
  report(state, sim, days, sim.intergroup_encounters() - encounters_before);
}

// The least any design that decides each resident's day from the resident's own random numbers
// must do: one keyed Philox block per resident and a read of its contact record, streamed.
void BM_ResidentStreamFloor(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(1));
  BuiltCity& built = city(state.range(0), threads, kSkeleton);
  const Residents& residents = built.sim->world().residents;
  const std::size_t n = residents.size();
  const RandomStream::PreparedKey key(StreamKey{built.sim->seed(), built.sim->replicate()});
  const Strided<const float> anxiety = residents.anxiety.strided();
  std::uint32_t day = 0;
  for (auto _ : state) {
    std::uint64_t sink = 0;
#pragma omp parallel for schedule(static, 4096) reduction(+ : sink) num_threads(threads)
    for (std::size_t i = 0; i < n; ++i) {
      const auto draws = RandomStream::first_four(key, static_cast<std::uint32_t>(i), day, 0);
      sink += draws[0] ^ draws[1] ^ draws[2] ^ static_cast<std::uint32_t>(anxiety[i] < 0.5f);
    }
    benchmark::DoNotOptimize(sink);
    ++day;
  }
  state.counters["agents"] = static_cast<double>(n);
  state.counters["agent_days_per_s"] =
      benchmark::Counter(static_cast<double>(n) * static_cast<double>(day), benchmark::Counter::kIsRate);
}

// Each phase's wall-clock milliseconds per simulated day (whole weeks, so weekly phases count).
void BM_PhaseCosts(benchmark::State& state) {
  BuiltCity& built = city(state.range(0), static_cast<int>(state.range(1)));
  Simulation& sim = *built.sim;
  const std::vector<double> before = sim.scheduler().seconds_per_phase();
  const std::int64_t encounters_before = sim.intergroup_encounters();
  std::int64_t days = 0;
  for (auto _ : state) days += sim.step(7);
  const auto names = sim.scheduler().phase_names();
  const auto& after = sim.scheduler().seconds_per_phase();
  for (std::size_t k = 0; k < names.size(); ++k)
    state.counters[names[k] + "_ms_per_day"] = 1000.0 * (after[k] - before[k]) / static_cast<double>(days);
  report(state, sim, days, sim.intergroup_encounters() - encounters_before);
  state.counters["peak_bytes_per_agent"] = peak_bytes_per_agent(built);
}

// Weekly recording to HDF5: the share of run time spent computing and writing records.
void BM_Recording(benchmark::State& state) {
  RunOptions options;
  options.threads = static_cast<int>(state.range(1));
  const double rss_before = status_bytes("VmRSS");
  reset_peak_memory();
  Simulation sim(bench::synthetic_city(state.range(0)), options);
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("contactsim_bench_" + std::to_string(getpid()) + ".h5");
  std::int64_t days = 0;
  const std::int64_t encounters_before = sim.intergroup_encounters();
  {
    Recorder recorder = Recorder::create(file, true);
    sim.attach(recorder);
    for (auto _ : state) days += sim.step(7);
    sim.detach();
    state.counters["records"] = static_cast<double>(recorder.records());
  }
  state.counters["recording_s_per_record"] = sim.recording_seconds() / static_cast<double>(days / 7);
  state.counters["file_bytes_per_record"] =
      static_cast<double>(std::filesystem::file_size(file)) / static_cast<double>(days / 7);
  report(state, sim, days, sim.intergroup_encounters() - encounters_before);
  state.counters["peak_bytes_per_agent"] =
      (status_bytes("VmHWM") - rss_before) / static_cast<double>(sim.world().residents.size());
  std::filesystem::remove(file);
}

// The HDF5 recorder alone: records shaped like the default city's (37 wards × 6 groups, contacts
// also by 12 venue types), filled with changing values so compression has real work.
void BM_HDF5Write(benchmark::State& state) {
  const int wards = 37, groups = 6, types = 12;
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("contactsim_bench_h5_" + std::to_string(getpid()) + ".h5");
  auto labels = [](const char* stem, int n) {
    std::vector<std::string> out;
    for (int k = 0; k < n; ++k) out.push_back(stem + std::to_string(k));
    return out;
  };
  std::int64_t records = 0;
  std::size_t payload = 0;
  {
    Recorder recorder = Recorder::create(file, true);
    recorder.define_dimension("ward", labels("ward", wards));
    recorder.define_dimension("group", labels("group", groups));
    recorder.define_dimension("venue_type", labels("type", types));
    std::vector<int> float_series, count_series;
    for (int k = 0; k < static_cast<int>(state.range(0)); ++k)
      float_series.push_back(recorder.define_series("float_" + std::to_string(k), {"ward", "group"},
                                                    SeriesType::float32, "bench", "1"));
    for (int k = 0; k < static_cast<int>(state.range(1)); ++k)
      count_series.push_back(recorder.define_series("count_" + std::to_string(k), {"ward", "group", "venue_type"},
                                                    SeriesType::int64, "bench", "1"));
    std::vector<float> values(static_cast<std::size_t>(wards * groups));
    std::vector<std::int64_t> counts(static_cast<std::size_t>(wards * groups * types));
    for (auto _ : state) {
      for (std::size_t c = 0; c < values.size(); ++c) values[c] = static_cast<float>((c * 7919 + records) % 1000) / 1000.0f;
      for (std::size_t c = 0; c < counts.size(); ++c) counts[c] = static_cast<std::int64_t>((c * 104729 + records * 31) % 5000);
      for (int id : float_series) recorder.write(id, std::span<const float>(values));
      for (int id : count_series) recorder.write(id, std::span<const std::int64_t>(counts));
      recorder.end_record((Date::from_ymd(2020, 1, 1) + static_cast<std::int32_t>(records)).iso());
      payload += float_series.size() * values.size() * sizeof(float) + count_series.size() * counts.size() * sizeof(std::int64_t);
      ++records;
    }
  }
  state.counters["records_per_s"] = benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
  state.counters["payload_bytes_per_s"] = benchmark::Counter(static_cast<double>(payload), benchmark::Counter::kIsRate);
  state.counters["file_bytes_per_record"] =
      static_cast<double>(std::filesystem::file_size(file)) / static_cast<double>(std::max<std::int64_t>(records, 1));
  std::filesystem::remove(file);
}

}  // namespace

BENCHMARK(BM_DailyStep)
    ->Args({10'000, 1})
    ->Args({100'000, 1})
    ->Args({100'000, 2})
    ->Args({258'369, 1})  // the default city's size
    ->Args({258'369, 2})
    ->Args({1'000'000, 1})
    ->Args({1'000'000, 2})
    ->Args({10'000'000, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
// The default city's size (258,369) and 10⁶, 10⁷: beside BM_DailyStep, what the targets face.
BENCHMARK(BM_SkeletonDay)
    ->Args({258'369, 1})
    ->Args({258'369, 2})
    ->Args({1'000'000, 2})
    ->Args({10'000'000, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_ResidentStreamFloor)
    ->Args({258'369, 2})
    ->Args({10'000'000, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_PhaseCosts)->Args({100'000, 1})->Args({1'000'000, 2})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Recording)->Args({100'000, 1})->Unit(benchmark::kMillisecond)->UseRealTime();
// range(0): float series per (ward, group); range(1): count series per (ward, group, venue type).
BENCHMARK(BM_HDF5Write)->Args({20, 6})->Unit(benchmark::kMicrosecond)->UseRealTime();
