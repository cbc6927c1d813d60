#pragma once
// Parameter tables: every tunable number of a mechanism, with its default, unit, valid range and
// the source (or stated reason) for the default. One declaration serves the scenario reader,
// `contactsim params`, the README table and the documentation check.
#include "core/config.hpp"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace contactsim {

template <class Params>
struct ParamSpec {
  const char* key;
  double Params::*field;
  double fallback;
  double min;
  double max;
  const char* unit;
  const char* source;
};

// Type-erased row of the project-wide parameter dictionary.
struct ParamDescription {
  std::string section;  // e.g. "mechanisms.valence"
  std::string key;
  double fallback;
  double min;
  double max;
  std::string unit;
  std::string source;
};

template <class Params>
Params defaults_of(std::span<const ParamSpec<Params>> specs) {
  Params p{};
  for (const auto& s : specs) p.*(s.field) = s.fallback;
  return p;
}

// Reads every spec'd key of `table` into a Params (missing keys keep their defaults).
template <class Params>
Params read_params(const ConfigTable& table, std::span<const ParamSpec<Params>> specs) {
  Params p{};
  for (const auto& s : specs) p.*(s.field) = table.number(s.key, s.fallback, s.min, s.max);
  return p;
}

template <class Params>
void describe_params(const std::string& section, std::span<const ParamSpec<Params>> specs,
                     std::vector<ParamDescription>& out) {
  for (const auto& s : specs) out.push_back({section, s.key, s.fallback, s.min, s.max, s.unit, s.source});
}

}  // namespace contactsim

namespace contactsim {

// A mechanism's parameters plus its on/off switch: [mechanisms.<name>] enabled = false.
template <class Params>
struct MechanismSwitch {
  bool enabled = true;
  Params params{};
};

// Reads [<parent>.<name>] (absent → defaults, enabled).
template <class Params>
MechanismSwitch<Params> read_mechanism(const ConfigTable& parent, const char* name,
                                       std::span<const ParamSpec<Params>> specs) {
  MechanismSwitch<Params> m;
  m.params = defaults_of(specs);
  if (auto table = parent.optional_table(name)) {
    m.enabled = table->boolean("enabled", true);
    m.params = read_params(*table, specs);
  } else if (parent.has(name)) {
    parent.fail(name, "expected a table of parameters");
  }
  return m;
}

// The same under an optional parent: no [mechanisms] table at all means defaults, enabled.
template <class Params>
MechanismSwitch<Params> read_mechanism(const std::optional<ConfigTable>& parent, const char* name,
                                       std::span<const ParamSpec<Params>> specs) {
  return parent ? read_mechanism(*parent, name, specs) : MechanismSwitch<Params>{true, defaults_of(specs)};
}

}  // namespace contactsim
