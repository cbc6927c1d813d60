// Ensemble spec → load_ensemble_spec (what `contactsim ensemble` and Python's run_ensemble read),
// then plan_runs. The spec is written to <scratch>/scenarios/ensembles/spec.toml beside links to
// every file of scenarios/ (and the fuzzing city, small_city.toml), so the repository's spec and
// its "../baseline.toml" resolve as they do in the source tree.
#include "fuzz_support.hpp"
#include "models/analysis/ensemble.hpp"

#include <algorithm>
#include <string_view>

namespace {

namespace fs = std::filesystem;

// <scratch>/scenarios: a link to each entry of the source's scenarios/ except ensembles/.
fs::path spec_file() {
  const fs::path scenarios = contactsim::fuzz::scratch().path() / "scenarios";
  fs::create_directories(scenarios / "ensembles");
  for (const auto& entry : fs::directory_iterator(contactsim::fuzz::source_dir() / "scenarios"))
    if (entry.path().filename() != "ensembles")
      fs::create_symlink(entry.path(), scenarios / entry.path().filename());
  fs::create_symlink(contactsim::fuzz::source_dir() / "tests" / "fuzz" / "small_city.toml", scenarios / "small_city.toml");
  return scenarios / "ensembles" / "spec.toml";
}

// load_ensemble_spec validates every scenario at every sweep point (by design: a spec that loads
// runs), so a spec asking for 100000 Sobol samples legitimately takes minutes. Inputs whose
// scenarios × points exceed this are skipped, so that a timeout means a real hang.
constexpr std::int64_t kMaxScenarioLoads = 64;

std::int64_t scenario_loads(std::string_view text) {
  toml::table spec;
  try {
    spec = toml::parse(text);
  } catch (const toml::parse_error&) {
    return 1;  // the loader reports the syntax error
  }
  const std::int64_t scenarios = 1 + static_cast<std::int64_t>(spec["counterfactuals"].as_array()
                                                                   ? spec["counterfactuals"].as_array()->size()
                                                                   : 0);
  // Clamped, so that the products below cannot overflow.
  std::int64_t points = std::clamp<std::int64_t>(spec["sweep"]["samples"].value_or(std::int64_t{1}), 1, kMaxScenarioLoads + 1);
  if (const toml::table* parameters = spec["sweep"]["parameters"].as_table())
    for (const auto& [key, parameter] : *parameters)
      if (const toml::array* values = parameter.as_table() ? (*parameter.as_table())["values"].as_array() : nullptr)
        points = values->empty() ? points : std::min<std::int64_t>(points * static_cast<std::int64_t>(values->size()),
                                                                    kMaxScenarioLoads + 1);
  return std::min(scenarios, kMaxScenarioLoads + 1) * points;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace contactsim;
  static const fs::path spec = spec_file();
  if (scenario_loads(std::string_view(reinterpret_cast<const char*>(data), size)) > kMaxScenarioLoads) return 0;
  fuzz::write_input(spec, data, size);
  fuzz::expect_clean([&] {
    const EnsembleSpec loaded = load_ensemble_spec(spec);
    const std::vector<EnsembleRun> runs = plan_runs(loaded);
    const std::size_t expected = loaded.scenarios.size() * loaded.points.size() * static_cast<std::size_t>(loaded.replicates);
    if (runs.size() != expected) std::abort();
  });
  return 0;
}
