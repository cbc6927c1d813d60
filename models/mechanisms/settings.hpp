#pragma once
// The part of a mechanism's config that comes from its [mechanisms.<name>] table, and the
// registry entry's read and describe functions for it, so that an entry states only what is its
// own (its timeline items, its checks).
#include "core/params.hpp"
#include "models/mechanisms/mechanism.hpp"

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace contactsim {

// A table name usable as a template argument: SettingsConfig<"norms", ...>.
template <std::size_t N>
struct TableName {
  constexpr TableName(const char (&name)[N]) { std::copy_n(name, N, text); }  // implicit: from a literal
  char text[N];
};

// A config whose settings are the table [mechanisms.<Name>] described by `Specs`.
template <TableName Name, class P, const auto& Specs>
struct SettingsConfig : MechanismConfig {
  using Params = P;
  static constexpr const char* table() { return Name.text; }
  static constexpr const auto& specs() { return Specs; }
  MechanismSwitch<P> settings;
};

// A new `C` (a SettingsConfig) with its settings read and its switch set from them.
template <class C>
std::shared_ptr<C> read_settings_of(const MechanismReading& reading) {
  auto config = std::make_shared<C>();
  config->settings = reading.settings<typename C::Params>(C::table(), C::specs());
  config->enabled = config->settings.enabled;
  return config;
}

// An entry's read function when its settings are all a mechanism reads.
template <class C>
std::shared_ptr<const MechanismConfig> read_settings(const MechanismReading& reading) {
  return read_settings_of<C>(reading);
}

// An entry's describe function: the dictionary rows of [mechanisms.<name>].
template <class C>
void describe_settings(std::vector<ParamDescription>& out) {
  describe_params<typename C::Params>(std::string("mechanisms.") + C::table(), C::specs(), out);
}

}  // namespace contactsim
