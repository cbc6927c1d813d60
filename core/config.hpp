#pragma once
// Scenario documents: TOML with `extends`, typed access, and precise errors.
//
// A ConfigDocument is one scenario file with every `extends = "base.toml"` resolved (paths are
// relative to the file that names them; chains allowed, cycles are an error). Merging rule:
// tables merge key by key, the extending file winning; arrays of tables (`[[venues]]`,
// `[[timeline]]`) are appended after the base's items; every other value is replaced. Every
// node keeps the file and line it was written in, so errors point at the right file.
//
// A ConfigTable is a read cursor over one table of the document. Models pull typed values out
// of it; each read marks the key as used, and finish() turns every key nobody read into an
// "unknown key" error. Every error is a ConfigError whose what() is
//     <file>:<line>: <dotted.key>: <what was expected>
// e.g. "scenarios/x.toml:12: venue_types.school.capacity: expected a number >= 1, got -5".
#include "core/calendar.hpp"

#include <toml++/toml.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace contactsim {

// The SHA-256 digest of `data` in lower-case hex (OpenSSL).
std::string sha256_hex(std::string_view data);

class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, int line, std::string key, std::string expected);
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  const std::string& key() const { return key_; }
  const std::string& expected() const { return expected_; }

 private:
  std::string file_;
  int line_;
  std::string key_;
  std::string expected_;
};

class ConfigDocument {
 public:
  // Throws ConfigError for a missing/unreadable file (line 0), a TOML syntax error (its line),
  // a bad or cyclic `extends`.
  static ConfigDocument load(const std::filesystem::path& path);
  // Parse text as if it were the file `virtual_path` (used by tests and the Python bindings);
  // `extends` is resolved relative to virtual_path's directory.
  static ConfigDocument parse(std::string_view text, const std::filesystem::path& virtual_path);

  // A copy with `value` at `dotted_key` (the syntax of ConfigTable::dotted: `a.b`, `"a.b"`,
  // `timeline[0].change`); missing tables on the way are created, array items must exist.
  // The new node has no source position: errors about it name the key with line 0. Values set
  // earlier on this document's ancestors stay set, in order.
  // Throws ConfigError (line 0) for a path through a value that is not a table or array.
  ConfigDocument with_value(std::string_view dotted_key, const toml::node& value) const;

  const toml::table& root() const { return *root_; }
  // A table's entries in the order they were written (toml++ tables are sorted maps; group,
  // ward and venue-type indexes follow document order).
  std::vector<std::pair<const toml::key*, const toml::node*>> in_document_order(const toml::table& table) const;
  const std::filesystem::path& path() const { return path_; }
  // Every file that contributed, the main file first, then its bases in order.
  const std::vector<std::filesystem::path>& files() const { return files_; }
  // The merged document serialised as TOML: what actually ran, for provenance.
  std::string resolved_text() const;
  // Hex SHA-256 of resolved_text().
  std::string resolved_sha256() const;

 private:
  std::shared_ptr<toml::table> root_;
  std::filesystem::path path_;
  std::vector<std::filesystem::path> files_;
  std::string source_text_;  // the main file as read (bases are re-read by with_value)
  std::vector<std::pair<std::string, toml::array>> overrides_;  // key, [value], in order
};

// Read cursor over one table. Cheap to copy; copies share the "used keys" record.
class ConfigTable {
 public:
  ConfigTable(const ConfigDocument& doc, const toml::table& table, std::string key_prefix);
  static ConfigTable root(const ConfigDocument& doc);

  bool has(std::string_view key) const;
  // Whether `key` is present and written as a TOML integer (not a float).
  bool holds_integer(std::string_view key) const;
  const std::string& prefix() const { return prefix_; }
  // prefix + "." + key (or key at root). Keys that are not bare TOML keys are quoted the TOML
  // way (population."a.b"), and items of an array of tables are written key[i], 0-based, in
  // document order: "venues[2].capacity" is `capacity` in the third [[venues]] item.
  std::string dotted(std::string_view key) const;

  // Numbers: integers are accepted where a float is asked for. Range is inclusive.
  double number(std::string_view key, double fallback, double min, double max) const;
  double required_number(std::string_view key, double min, double max) const;
  std::int64_t integer(std::string_view key, std::int64_t fallback, std::int64_t min, std::int64_t max) const;
  std::int64_t required_integer(std::string_view key, std::int64_t min, std::int64_t max) const;
  bool boolean(std::string_view key, bool fallback) const;
  std::string string(std::string_view key, std::string fallback) const;
  std::string required_string(std::string_view key) const;
  // One of `choices`; the error lists them.
  std::string choice(std::string_view key, std::string fallback, const std::vector<std::string>& choices) const;
  Date date(std::string_view key, Date fallback) const;
  Date required_date(std::string_view key) const;
  std::vector<std::string> string_list(std::string_view key, std::vector<std::string> fallback) const;
  // An array of finite numbers (empty if absent); `all_integers` tells whether every item was a
  // TOML integer.
  std::vector<double> number_list(std::string_view key, bool* all_integers = nullptr) const;
  // A file path, resolved relative to the directory of the file that wrote the key.
  std::filesystem::path required_path(std::string_view key) const;

  std::optional<ConfigTable> optional_table(std::string_view key) const;
  ConfigTable required_table(std::string_view key) const;
  // All sub-tables of `key` (e.g. [groups.*]) in document order; a non-table entry is an error.
  std::vector<std::pair<std::string, ConfigTable>> named_tables(std::string_view key) const;
  // [[key]] items; missing key gives an empty list.
  std::vector<ConfigTable> array_of_tables(std::string_view key) const;
  // Keys of this table in document order (for maps like {white_british = 0.9, asian = 0.5}).
  std::vector<std::string> keys() const;
  // Every value under this table that is not itself a table, recursively, in document order,
  // with its path below this table joined by '.' (so a quoted "mechanisms.valence.beta0" key and
  // nested tables mean the same); all are marked read. For override tables in ensemble specs.
  std::vector<std::pair<std::string, const toml::node*>> leaves() const;

  // Line of `key` (or of this table when key is empty / absent) and its file.
  int line_of(std::string_view key) const;
  std::string file_of(std::string_view key) const;
  [[noreturn]] void fail(std::string_view key, const std::string& expected) const;
  // For checks that combine several keys (shares that must sum to 1): the present key written
  // by the most derived file (the scenario itself before its bases), latest line first, so the
  // error points at the override that broke the combination. Empty if none is present.
  std::string most_derived(const std::vector<std::string>& keys) const;

  // Throws for the first key of this table (recursively into sub-tables that were opened) that
  // was never read: "unknown key; expected one of: a, b, c". Every read marks its key, even a
  // read of an absent key with a fallback, so the list names every key the model understands at
  // that level (alphabetically). An unread table is itself the unknown key. "First" is document
  // order: a base file's keys before those of the file extending it, then line and column.
  void finish() const;

 private:
  const ConfigDocument* doc_;
  const toml::table* table_;
  std::string prefix_;
  std::shared_ptr<std::set<std::string>> used_;  // dotted keys read anywhere in the document
};

}  // namespace contactsim
