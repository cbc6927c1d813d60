// Scenario text → ConfigDocument::parse + read_scenario: what `contactsim validate`/`run` and the
// Python Scenario.load do with a file's text. The text is parsed as if it were a file in
// scenarios/, so `extends = "stoke_on_trent.toml"` and census paths (data/...) resolve and the
// whole validator — census mapping included — is exercised.
#include "fuzz_support.hpp"
#include "models/run/scenario.hpp"

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace contactsim;
  static const std::filesystem::path virtual_file = fuzz::source_dir() / "scenarios" / "fuzz_input.toml";
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_clean([&] {
    const Scenario scenario = read_scenario(ConfigDocument::parse(text, virtual_file));
    // What every run records for provenance must be producible for any scenario that loads.
    if (scenario.resolved_text.empty() || scenario.sha256.size() != 64) std::abort();
  });
  return 0;
}
