#include "core/config.hpp"

#include "core/text.hpp"
#include "core/text_file.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <system_error>
#include <tuple>

namespace contactsim {
namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------- text helpers


// Enough digits to tell 0.1 from 0.10000001 without printing 0.10000000000000001.
std::string format_number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.10g", value);
  return buffer;
}

std::string type_with_article(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

bool is_bare_key(std::string_view key) {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// Keys that are not bare are written the way TOML itself would quote them, so a dotted path
// stays unambiguous even when a key contains dots (census column names do).
std::string key_segment(std::string_view key) {
  if (is_bare_key(key)) return std::string(key);
  std::string out = "\"";
  for (char c : key) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// True when `rest` is exactly one key segment (bare or quoted), i.e. a direct child.
bool is_single_segment(std::string_view rest) {
  if (rest.empty()) return false;
  if (rest.front() != '"') return rest.find_first_of(".[\"") == std::string_view::npos;
  for (std::size_t i = 1; i < rest.size(); ++i) {
    if (rest[i] == '\\') {
      ++i;
    } else if (rest[i] == '"') {
      return i + 1 == rest.size();
    }
  }
  return false;
}

int line_number(const toml::source_region& region) { return static_cast<int>(region.begin.line); }

std::string source_file(const toml::source_region& region, const std::string& fallback) {
  return region.path ? *region.path : fallback;
}

// ---------------------------------------------------------------- range descriptions

std::string describe_range(const std::string& noun, double min, double max) {
  const bool has_min = min > std::numeric_limits<double>::lowest();
  const bool has_max = max < std::numeric_limits<double>::max();
  if (has_min && has_max) return noun + " in [" + format_number(min) + ", " + format_number(max) + "]";
  if (has_min) return noun + " >= " + format_number(min);
  if (has_max) return noun + " <= " + format_number(max);
  return noun;
}

std::string describe_range(const std::string& noun, std::int64_t min, std::int64_t max) {
  const bool has_min = min > std::numeric_limits<std::int64_t>::min();
  const bool has_max = max < std::numeric_limits<std::int64_t>::max();
  if (has_min && has_max) return noun + " in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  if (has_min) return noun + " >= " + std::to_string(min);
  if (has_max) return noun + " <= " + std::to_string(max);
  return noun;
}

std::string describe_choices(const std::vector<std::string>& choices) { return "one of " + list_of(choices); }

// ---------------------------------------------------------------- loading and merging

toml::table parse_toml(std::string_view text, const std::string& file) {
  try {
    return toml::parse(text, std::string(file));
  } catch (const toml::parse_error& error) {
    throw ConfigError(file, line_number(error.source()), "(syntax)", std::string(error.description()));
  }
}

// Two spellings of one file (a/../b.toml, ./b.toml) must count as the same link in a cycle.
fs::path file_identity(const fs::path& path) {
  std::error_code ec;
  fs::path identity = fs::weakly_canonical(path, ec);
  return ec ? fs::absolute(path).lexically_normal() : identity;
}

bool is_array_of_tables(const toml::node& node) {
  const toml::array* array = node.as_array();
  if (array == nullptr || array->empty()) return false;
  return std::all_of(array->begin(), array->end(), [](const toml::node& item) { return item.is_table(); });
}

// Moving (never copying) keeps each node's source region, so errors keep pointing at the file
// and line where the value was written.
void insert_moved(toml::table& target, const toml::key& key, toml::node& value) {
  value.visit([&](auto& concrete) { target.insert_or_assign(key, std::move(concrete)); });
}

void merge_into(toml::table& base, toml::table&& overlay) {
  for (auto&& [key, value] : overlay) {
    toml::node* existing = base.get(key.str());
    if (existing != nullptr && existing->is_table() && value.is_table()) {
      merge_into(*existing->as_table(), std::move(*value.as_table()));
    } else if (existing != nullptr && is_array_of_tables(*existing) && is_array_of_tables(value)) {
      for (auto& item : *value.as_array()) existing->as_array()->push_back(std::move(*item.as_table()));
    } else {
      // An empty array is not an array of tables here, so `venues = []` clears the base's list.
      insert_moved(base, key, value);
    }
  }
}

struct ChainLink {
  std::string name;
  fs::path identity;
};

class ExtendsResolver {
 public:
  toml::table load(std::string_view text, const fs::path& file) {
    const std::string name = file.string();
    toml::table tree = parse_toml(text, name);
    files_.push_back(file);
    toml::node* extends = tree.get("extends");
    if (extends == nullptr) return tree;

    const int line = line_number(extends->source());
    const fs::path base_path = base_path_of(*extends, file, name, line);
    chain_.push_back({name, file_identity(file)});
    check_no_cycle(base_path, name, line);
    const std::optional<std::string> base_text = read_text_file(base_path);
    if (!base_text) throw ConfigError(name, line, "extends", why_unreadable(base_path) + ": " + base_path.string());
    tree.erase("extends");

    toml::table merged = load(*base_text, base_path);
    chain_.pop_back();
    merge_into(merged, std::move(tree));
    return merged;
  }

  std::vector<fs::path> take_files() { return std::move(files_); }

 private:
  static fs::path base_path_of(const toml::node& extends, const fs::path& file, const std::string& name,
                               int line) {
    const auto* value = extends.as_string();
    if (value == nullptr)
      throw ConfigError(name, line, "extends", "expected a string (path of the base file), got " +
                                                   type_with_article(extends));
    const fs::path base(value->get());
    return base.is_absolute() ? base : (file.parent_path() / base).lexically_normal();
  }

  // chain_ ends with the file naming `base_path`; a base already on the chain closes a cycle.
  void check_no_cycle(const fs::path& base_path, const std::string& name, int line) const {
    const fs::path base_identity = file_identity(base_path);
    const auto first = std::find_if(chain_.begin(), chain_.end(),
                                    [&](const ChainLink& link) { return link.identity == base_identity; });
    if (first == chain_.end()) return;
    std::vector<std::string> cycle;
    for (auto link = first; link != chain_.end(); ++link) cycle.push_back(link->name);
    cycle.push_back(base_path.string());
    throw ConfigError(name, line, "extends", "cycle: " + joined(cycle, " -> "));
  }

  std::vector<ChainLink> chain_;  // files currently being extended, outermost first
  std::vector<fs::path> files_;
};

}  // namespace

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 digest failed (OpenSSL EVP_Digest)");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xF];
  }
  return out;
}

// ======================================================================= ConfigError

ConfigError::ConfigError(std::string file, int line, std::string key, std::string expected)
    // The key may come from a data file (a census column): escaped, like quoted values.
    : std::runtime_error(file + ":" + std::to_string(line) + ": " + printable(key) + ": " + expected),
      file_(std::move(file)),
      line_(line),
      key_(std::move(key)),
      expected_(std::move(expected)) {}

// ======================================================================= ConfigDocument

ConfigDocument ConfigDocument::load(const fs::path& path) {
  const std::optional<std::string> text = read_text_file(path);
  if (!text) throw ConfigError(path.string(), 0, "(file)", why_unreadable(path));
  return parse(*text, path);
}

ConfigDocument ConfigDocument::parse(std::string_view text, const fs::path& virtual_path) {
  ExtendsResolver resolver;
  ConfigDocument doc;
  doc.root_ = std::make_shared<toml::table>(resolver.load(text, virtual_path));
  doc.path_ = virtual_path;
  doc.files_ = resolver.take_files();
  doc.source_text_ = std::string(text);
  return doc;
}

namespace {

struct KeyStep {
  std::string key;
  std::vector<std::size_t> indexes;  // [i] after the key, in order
};

// `a."b.c"[2].d` → a, b.c[2], d. Throws the message of what is wrong.
std::vector<KeyStep> split_dotted(std::string_view text) {
  std::vector<KeyStep> steps;
  std::size_t i = 0;
  const auto bad = [&](const std::string& why) -> std::runtime_error {
    return std::runtime_error("expected a dotted key like mechanisms.valence.beta0 or timeline[0].change (" + why +
                              ")");
  };
  while (true) {
    KeyStep step;
    if (i < text.size() && text[i] == '"') {
      const std::size_t close = text.find('"', i + 1);
      if (close == std::string_view::npos) throw bad("unclosed quote");
      step.key = std::string(text.substr(i + 1, close - i - 1));
      i = close + 1;
    } else {
      const std::size_t stop = text.find_first_of(".[", i);
      step.key = std::string(text.substr(i, stop == std::string_view::npos ? text.size() - i : stop - i));
      i = stop == std::string_view::npos ? text.size() : stop;
    }
    if (step.key.empty()) throw bad("empty key");
    while (i < text.size() && text[i] == '[') {
      const std::size_t close = text.find(']', i);
      if (close == std::string_view::npos || close == i + 1) throw bad("bad index");
      std::size_t index = 0;
      for (std::size_t k = i + 1; k < close; ++k) {
        if (text[k] < '0' || text[k] > '9') throw bad("index is not a number");
        index = index * 10 + static_cast<std::size_t>(text[k] - '0');
      }
      step.indexes.push_back(index);
      i = close + 1;
    }
    steps.push_back(std::move(step));
    if (i == text.size()) return steps;
    if (text[i] != '.') throw bad("unexpected character");
    ++i;
  }
}

// Puts `value` at `key` inside `root` (in place, so every other node keeps its file and line).
void assign(toml::table& root, const std::string& key, const toml::node& value, const fs::path& path) {
  const auto fail = [&](const std::string& expected) { throw ConfigError(path.string(), 0, key, expected); };
  std::vector<KeyStep> steps;
  try {
    steps = split_dotted(key);
  } catch (const std::runtime_error& e) {
    fail(e.what());
  }
  toml::table* table = &root;
  for (std::size_t s = 0; s < steps.size(); ++s) {
    const KeyStep& step = steps[s];
    const bool last = s + 1 == steps.size();
    if (last && step.indexes.empty()) {
      value.visit([&](const auto& concrete) { table->insert_or_assign(step.key, concrete); });
      return;
    }
    toml::node* node = table->get(step.key);
    if (!node) {
      if (!step.indexes.empty()) fail("no array '" + step.key + "' to index");
      node = &table->insert_or_assign(step.key, toml::table{}).first->second;
    }
    for (std::size_t k = 0; k < step.indexes.size(); ++k) {
      toml::array* array = node->as_array();
      if (!array) fail("'" + step.key + "' is not an array");
      const std::size_t index = step.indexes[k];
      if (index >= array->size())
        fail("index " + std::to_string(index) + " is past the end of '" + step.key + "' (" +
             std::to_string(array->size()) + " items)");
      if (last && k + 1 == step.indexes.size()) {
        const auto at = array->begin() + static_cast<std::ptrdiff_t>(index);
        value.visit([&](const auto& concrete) { array->replace(at, concrete); });
        return;
      }
      node = array->get(index);
    }
    table = node->as_table();
    if (!table) fail("'" + step.key + "' is not a table");
  }
}

}  // namespace

ConfigDocument ConfigDocument::with_value(std::string_view dotted_key, const toml::node& value) const {
  // Re-read rather than copy: toml++ copies drop source positions, and errors need them.
  ConfigDocument copy = parse(source_text_, path_);
  copy.overrides_ = overrides_;
  copy.overrides_.emplace_back(std::string(dotted_key), toml::array{});
  value.visit([&](const auto& concrete) { copy.overrides_.back().second.push_back(concrete); });
  for (const auto& [key, holder] : copy.overrides_) assign(*copy.root_, key, *holder.get(0), path_);
  return copy;
}

std::string ConfigDocument::resolved_text() const {
  std::ostringstream out;
  out << toml::toml_formatter{*root_};
  return out.str();
}

std::string ConfigDocument::resolved_sha256() const { return sha256_hex(resolved_text()); }

// ======================================================================= ConfigTable

namespace {

// Where a key was first written: bases before the files extending them, then line, column.
using DocumentPosition = std::tuple<std::size_t, std::uint32_t, std::uint32_t>;

DocumentPosition document_position(const ConfigDocument& doc, const toml::source_region& region) {
  const auto& files = doc.files();
  std::size_t rank = files.size();
  for (std::size_t i = 0; i < files.size(); ++i)
    if (region.path && files[i].string() == *region.path) rank = files.size() - 1 - i;
  return {rank, region.begin.line, region.begin.column};
}

const toml::source_region& key_region(const toml::key& key, const toml::node& value) {
  return key.source().path ? key.source() : value.source();
}

std::vector<std::pair<const toml::key*, const toml::node*>> entries_in_document_order(
    const ConfigDocument& doc, const toml::table& table) {
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (auto&& [key, value] : table) entries.emplace_back(&key, &value);
  std::stable_sort(entries.begin(), entries.end(), [&](const auto& a, const auto& b) {
    return document_position(doc, key_region(*a.first, *a.second)) <
           document_position(doc, key_region(*b.first, *b.second));
  });
  return entries;
}

}  // namespace

std::vector<std::pair<const toml::key*, const toml::node*>> ConfigDocument::in_document_order(
    const toml::table& table) const {
  return entries_in_document_order(*this, table);
}

namespace {

std::string child_path(const std::string& prefix, std::string_view key) {
  return prefix.empty() ? key_segment(key) : prefix + "." + key_segment(key);
}

std::string element_path(const std::string& array_path, std::size_t index) {
  return array_path + "[" + std::to_string(index) + "]";
}

struct UnknownKey {
  DocumentPosition position;
  std::string file;
  int line = 0;
  std::string dotted;
  std::string parent_prefix;
};

// Collects every key under `table` that nobody read; tables and arrays of tables are only
// entered when they were opened, because an unread table is itself the unknown key.
void collect_unknown(const ConfigDocument& doc, const toml::table& table, const std::string& prefix,
                     const std::set<std::string>& used, std::vector<UnknownKey>& out) {
  for (auto&& [key, value] : table) {
    const std::string dotted = child_path(prefix, key.str());
    if (used.count(dotted) == 0) {
      const auto& region = key_region(key, value);
      out.push_back({document_position(doc, region), source_file(region, doc.path().string()),
                     line_number(region), dotted, prefix});
    } else if (const toml::table* sub = value.as_table()) {
      collect_unknown(doc, *sub, dotted, used, out);
    } else if (const toml::array* array = value.as_array()) {
      for (std::size_t i = 0; i < array->size(); ++i) {
        const toml::table* item = (*array)[i].as_table();
        const std::string item_path = element_path(dotted, i);
        if (item != nullptr && used.count(item_path) != 0) collect_unknown(doc, *item, item_path, used, out);
      }
    }
  }
}

std::vector<std::string> keys_read_at(const std::set<std::string>& used, const std::string& prefix) {
  const std::string start = prefix.empty() ? "" : prefix + ".";
  std::vector<std::string> keys;
  for (auto it = used.lower_bound(start); it != used.end() && it->compare(0, start.size(), start) == 0; ++it) {
    const std::string rest = it->substr(start.size());
    if (is_single_segment(rest)) keys.push_back(rest);
  }
  return keys;
}

}  // namespace

ConfigTable::ConfigTable(const ConfigDocument& doc, const toml::table& table, std::string key_prefix)
    : doc_(&doc), table_(&table), prefix_(std::move(key_prefix)), used_(std::make_shared<std::set<std::string>>()) {}

ConfigTable ConfigTable::root(const ConfigDocument& doc) { return ConfigTable(doc, doc.root(), ""); }

bool ConfigTable::has(std::string_view key) const { return table_->contains(key); }

std::string ConfigTable::dotted(std::string_view key) const { return child_path(prefix_, key); }

std::string ConfigTable::most_derived(const std::vector<std::string>& keys) const {
  const auto& files = doc_->files();
  auto rank = [&](const std::string& key) {
    const std::string file = file_of(key);
    for (std::size_t k = 0; k < files.size(); ++k)
      if (files[k].string() == file) return static_cast<int>(k);
    return static_cast<int>(files.size());
  };
  std::string best;
  for (const auto& key : keys) {
    if (!has(key)) continue;
    if (best.empty() || rank(key) < rank(best) || (rank(key) == rank(best) && line_of(key) > line_of(best))) best = key;
  }
  return best;
}

bool ConfigTable::holds_integer(std::string_view key) const {
  const toml::node* value = table_->get(key);
  return value != nullptr && value->is_integer();
}

int ConfigTable::line_of(std::string_view key) const {
  if (const toml::node* value = key.empty() ? nullptr : table_->get(key)) return line_number(value->source());
  // The merged root may have been created by a base file; the scenario the user named owns it.
  if (table_ == &doc_->root()) return 1;
  return line_number(table_->source());
}

std::string ConfigTable::file_of(std::string_view key) const {
  if (const toml::node* value = key.empty() ? nullptr : table_->get(key))
    return source_file(value->source(), doc_->path().string());
  if (table_ == &doc_->root()) return doc_->path().string();
  return source_file(table_->source(), doc_->path().string());
}

void ConfigTable::fail(std::string_view key, const std::string& expected) const {
  const std::string where = key.empty() ? (prefix_.empty() ? "(root)" : prefix_) : dotted(key);
  throw ConfigError(file_of(key), line_of(key), where, expected);
}

namespace {

// Reads `key` from `table`, marking it used even when absent so that "expected one of" lists
// the keys a model understands, not only the ones this file happened to set.
const toml::node* read_node(const toml::table& table, const std::string& dotted, std::set<std::string>& used,
                            std::string_view key) {
  used.insert(dotted);
  return table.get(key);
}

// A missing key has no line of its own; the table that should have held it does.
[[noreturn]] void fail_missing(const ConfigTable& table, std::set<std::string>& used, std::string_view key,
                               const std::string& what) {
  used.insert(table.dotted(key));
  throw ConfigError(table.file_of({}), table.line_of({}), table.dotted(key), "required key missing; expected " + what);
}

}  // namespace

double ConfigTable::number(std::string_view key, double fallback, double min, double max) const {
  const toml::node* node = read_node(*table_, dotted(key), *used_, key);
  if (node == nullptr) return fallback;
  double value = 0.0;
  if (const auto* integer_value = node->as_integer()) {
    value = static_cast<double>(integer_value->get());
  } else if (const auto* float_value = node->as_floating_point()) {
    value = float_value->get();
  } else {
    fail(key, "expected a number, got " + type_with_article(*node));
  }
  if (!(value >= min && value <= max))  // written this way so NaN is rejected too
    fail(key, "expected " + describe_range("a number", min, max) + ", got " + format_number(value));
  return value;
}

double ConfigTable::required_number(std::string_view key, double min, double max) const {
  if (!has(key)) fail_missing(*this, *used_, key, describe_range("a number", min, max));
  return number(key, 0.0, min, max);
}

std::int64_t ConfigTable::integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                                  std::int64_t max) const {
  const toml::node* node = read_node(*table_, dotted(key), *used_, key);
  if (node == nullptr) return fallback;
  const auto* integer_value = node->as_integer();
  if (integer_value == nullptr) fail(key, "expected an integer, got " + type_with_article(*node));
  const std::int64_t value = integer_value->get();
  if (value < min || value > max)
    fail(key, "expected " + describe_range("an integer", min, max) + ", got " + std::to_string(value));
  return value;
}

std::int64_t ConfigTable::required_integer(std::string_view key, std::int64_t min, std::int64_t max) const {
  if (!has(key)) fail_missing(*this, *used_, key, describe_range("an integer", min, max));
  return integer(key, 0, min, max);
}

bool ConfigTable::boolean(std::string_view key, bool fallback) const {
  const toml::node* node = read_node(*table_, dotted(key), *used_, key);
  if (node == nullptr) return fallback;
  const auto* value = node->as_boolean();
  if (value == nullptr) fail(key, "expected a boolean (true or false), got " + type_with_article(*node));
  return value->get();
}

std::string ConfigTable::string(std::string_view key, std::string fallback) const {
  const toml::node* node = read_node(*table_, dotted(key), *used_, key);
  if (node == nullptr) return fallback;
  const auto* value = node->as_string();
  if (value == nullptr) fail(key, "expected a string, got " + type_with_article(*node));
  return value->get();
}

std::string ConfigTable::required_string(std::string_view key) const {
  if (!has(key)) fail_missing(*this, *used_, key, "a string");
  return string(key, {});
}

std::string ConfigTable::choice(std::string_view key, std::string fallback,
                                const std::vector<std::string>& choices) const {
  const toml::node* node = read_node(*table_, dotted(key), *used_, key);
  if (node == nullptr) return fallback;
  const auto* value = node->as_string();
  if (value == nullptr) fail(key, "expected " + describe_choices(choices) + ", got " + type_with_article(*node));
  if (std::find(choices.begin(), choices.end(), value->get()) == choices.end())
    fail(key, "expected " + describe_choices(choices) + ", got " + in_quotes(value->get()));
  return value->get();
}

namespace {

// Scenario dates: a city's recent past to its plausible future. Years far outside (0000, 9999)
// are typing mistakes, and pandas (open_results) cannot even represent dates outside 1677-2262.
constexpr int kFirstYear = 1900;
constexpr int kLastYear = 2200;

}  // namespace

Date ConfigTable::date(std::string_view key, Date fallback) const {
  const toml::node* node = read_node(*table_, dotted(key), *used_, key);
  if (node == nullptr) return fallback;
  std::optional<Date> parsed;
  if (const auto* value = node->as_date()) {
    const toml::date& d = value->get();
    if (d.year < kFirstYear || d.year > kLastYear)
      fail(key, "expected a date in the years " + std::to_string(kFirstYear) + " to " + std::to_string(kLastYear) +
                    ", got " + std::to_string(d.year) + "-" + (d.month < 10 ? "0" : "") + std::to_string(d.month) +
                    "-" + (d.day < 10 ? "0" : "") + std::to_string(d.day));
    return Date::from_ymd(d.year, d.month, d.day);
  }
  if (const auto* text = node->as_string()) {
    parsed = Date::parse_iso(text->get());
    if (!parsed) fail(key, "expected a date YYYY-MM-DD, got " + in_quotes(text->get()));
    const int year = std::stoi(text->get().substr(0, 4));
    if (year < kFirstYear || year > kLastYear)
      fail(key, "expected a date in the years " + std::to_string(kFirstYear) + " to " + std::to_string(kLastYear) +
                    ", got " + in_quotes(text->get()));
    return *parsed;
  }
  fail(key, "expected a date YYYY-MM-DD, got " + type_with_article(*node));
}

Date ConfigTable::required_date(std::string_view key) const {
  if (!has(key)) fail_missing(*this, *used_, key, "a date YYYY-MM-DD");
  return date(key, Date{});
}

std::vector<std::string> ConfigTable::string_list(std::string_view key, std::vector<std::string> fallback) const {
  const toml::node* node = read_node(*table_, dotted(key), *used_, key);
  if (node == nullptr) return fallback;
  const toml::array* array = node->as_array();
  if (array == nullptr) fail(key, "expected an array of strings, got " + type_with_article(*node));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& item = (*array)[i];
    const auto* value = item.as_string();
    if (value == nullptr)
      throw ConfigError(source_file(item.source(), file_of(key)), line_number(item.source()),
                        element_path(dotted(key), i), "expected a string, got " + type_with_article(item));
    out.push_back(value->get());
  }
  return out;
}

std::vector<double> ConfigTable::number_list(std::string_view key, bool* all_integers) const {
  const toml::node* node = read_node(*table_, dotted(key), *used_, key);
  if (node == nullptr) return {};
  const toml::array* array = node->as_array();
  if (array == nullptr) fail(key, "expected an array of numbers, got " + type_with_article(*node));
  std::vector<double> out;
  if (all_integers) *all_integers = true;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& item = (*array)[i];
    if (const auto* integer = item.as_integer()) {
      out.push_back(static_cast<double>(integer->get()));
    } else if (const auto* floating = item.as_floating_point(); floating && std::isfinite(floating->get())) {
      out.push_back(floating->get());
      if (all_integers) *all_integers = false;
    } else {
      throw ConfigError(source_file(item.source(), file_of(key)), line_number(item.source()),
                        element_path(dotted(key), i), "expected a finite number, got " + type_with_article(item));
    }
  }
  return out;
}

fs::path ConfigTable::required_path(std::string_view key) const {
  if (!has(key)) fail_missing(*this, *used_, key, "a file path (string)");
  const std::string text = string(key, {});
  const fs::path written(text);
  // Relative to the file that wrote the value, so a base scenario's data paths keep working
  // when it is extended from another directory.
  const fs::path resolved =
      written.is_absolute() ? written : (fs::path(file_of(key)).parent_path() / written).lexically_normal();
  std::error_code ec;
  if (text.empty()) fail(key, "expected a file path, got an empty string");
  if (!fs::is_regular_file(resolved, ec)) fail(key, why_unreadable(resolved) + ": " + resolved.string());
  return resolved;
}

std::optional<ConfigTable> ConfigTable::optional_table(std::string_view key) const {
  const toml::node* node = read_node(*table_, dotted(key), *used_, key);
  if (node == nullptr) return std::nullopt;
  const toml::table* table = node->as_table();
  if (table == nullptr) fail(key, "expected a table, got " + type_with_article(*node));
  ConfigTable sub(*doc_, *table, dotted(key));
  sub.used_ = used_;
  return sub;
}

ConfigTable ConfigTable::required_table(std::string_view key) const {
  if (!has(key)) fail_missing(*this, *used_, key, "a table");
  return *optional_table(key);
}

std::vector<std::pair<std::string, ConfigTable>> ConfigTable::named_tables(std::string_view key) const {
  const std::optional<ConfigTable> parent = optional_table(key);
  if (!parent) return {};
  std::vector<std::pair<std::string, ConfigTable>> out;
  for (const auto& [name, value] : entries_in_document_order(*doc_, *parent->table_)) {
    const std::string path = parent->dotted(name->str());
    const toml::table* table = value->as_table();
    if (table == nullptr)
      throw ConfigError(source_file(value->source(), doc_->path().string()), line_number(value->source()), path,
                        "expected a table, got " + type_with_article(*value));
    used_->insert(path);
    ConfigTable sub(*doc_, *table, path);
    sub.used_ = used_;
    out.emplace_back(std::string(name->str()), std::move(sub));
  }
  return out;
}

std::vector<ConfigTable> ConfigTable::array_of_tables(std::string_view key) const {
  const toml::node* node = read_node(*table_, dotted(key), *used_, key);
  if (node == nullptr) return {};
  const toml::array* array = node->as_array();
  if (array == nullptr)
    fail(key, "expected an array of tables ([[" + dotted(key) + "]]), got " + type_with_article(*node));
  std::vector<ConfigTable> out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& item = (*array)[i];
    const std::string path = element_path(dotted(key), i);
    const toml::table* table = item.as_table();
    if (table == nullptr)
      throw ConfigError(source_file(item.source(), file_of(key)), line_number(item.source()), path,
                        "expected a table, got " + type_with_article(item));
    used_->insert(path);
    ConfigTable sub(*doc_, *table, path);
    sub.used_ = used_;
    out.push_back(std::move(sub));
  }
  return out;
}

std::vector<std::string> ConfigTable::keys() const {
  std::vector<std::string> out;
  for (const auto& entry : entries_in_document_order(*doc_, *table_)) out.emplace_back(entry.first->str());
  return out;
}

std::vector<std::pair<std::string, const toml::node*>> ConfigTable::leaves() const {
  std::vector<std::pair<std::string, const toml::node*>> out;
  const std::function<void(const toml::table&, const std::string&, const std::string&)> walk =
      [&](const toml::table& table, const std::string& relative, const std::string& dotted_prefix) {
        for (const auto& [key, value] : entries_in_document_order(*doc_, table)) {
          const std::string name(key->str());
          const std::string path = relative.empty() ? name : relative + "." + name;
          const std::string dotted_path = child_path(dotted_prefix, name);
          used_->insert(dotted_path);
          if (const toml::table* sub = value->as_table())
            walk(*sub, path, dotted_path);
          else
            out.emplace_back(path, value);
        }
      };
  walk(*table_, "", prefix_);
  return out;
}

void ConfigTable::finish() const {
  std::vector<UnknownKey> unknown;
  collect_unknown(*doc_, *table_, prefix_, *used_, unknown);
  if (unknown.empty()) return;
  const auto first = std::min_element(unknown.begin(), unknown.end(),
                                      [](const auto& a, const auto& b) { return a.position < b.position; });
  const std::vector<std::string> known = keys_read_at(*used_, first->parent_prefix);
  const std::string expected = known.empty() ? "unknown key" : "unknown key; expected one of: " + joined(known, ", ");
  throw ConfigError(first->file, first->line, first->dotted, expected);
}

std::string why_unreadable(const fs::path& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  switch (status.type()) {
    case fs::file_type::not_found: return "file not found";
    case fs::file_type::directory: return "is a directory, not a file";
    case fs::file_type::regular: {
      errno = 0;
      const std::ifstream in(path, std::ios::binary);
      return "cannot be read (" + std::string(errno ? std::strerror(errno) : "unknown reason") + ")";
    }
    case fs::file_type::fifo: return "is not a regular file (a FIFO)";
    case fs::file_type::character:
    case fs::file_type::block: return "is not a regular file (a device)";
    case fs::file_type::socket: return "is not a regular file (a socket)";
    default: return ec ? "cannot be read (" + ec.message() + ")" : "is not a regular file";
  }
}

std::optional<std::string> read_text_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace contactsim
