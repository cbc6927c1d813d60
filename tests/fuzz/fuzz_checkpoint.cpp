// Checkpoint file → Simulation(scenario, checkpoint): the compatibility check, the restore of
// every array and phase, and — when the file is accepted — three more days recorded to a fresh
// output, which replays the checkpoint's records. What `contactsim run --from-checkpoint` and
// Python's Simulation.from_checkpoint do. The scenario is the fuzzing city (small_city.toml); the
// seed corpus is a real checkpoint of it, written by the CLI (see tests/fuzz/CMakeLists.txt).
// A checkpoint's seal (core/seal.hpp) covers every byte, so a mutated input is refused before
// libhdf5 parses it: what this target checks is that damage of any kind, seal included, gives a
// CheckpointError and nothing worse.
#include "core/recorder.hpp"
#include "fuzz_support.hpp"
#include "models/run/simulation.hpp"

namespace {

using namespace contactsim;
namespace fs = std::filesystem;

const Scenario& small_city() {
  static const Scenario scenario = load_scenario(fuzz::source_dir() / "tests" / "fuzz" / "small_city.toml");
  return scenario;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path checkpoint = fuzz::scratch().path() / "checkpoint.h5";
  static const fs::path output = fuzz::scratch().path() / "continued.h5";
  fuzz::write_input(checkpoint, data, size);
  fuzz::expect_clean([&] {
    RunOptions options;
    options.threads = 1;
    Simulation sim(small_city(), checkpoint, options);
    Recorder recorder = Recorder::create(output, true);
    sim.attach(recorder);
    sim.step(3);
  });
  return 0;
}
