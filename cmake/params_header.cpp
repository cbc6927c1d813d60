// Build tool: turns a parameter table (<name>.params.toml, beside the header of what owns the
// parameters) into a C++ header declaring its Params struct and ParamSpec table, so that each
// parameter is written once, as data, with its default, valid range, unit and source — the way
// OpenABM-Covid19 generates its parameter dictionary from one table. Run by CMake:
//   contactsim_params_header <table.toml> <header.hpp> <name in messages>
// A table that is not as described below stops the build with file:line, key and what was expected.
//
//   struct = "ArtsParams"          # the struct to declare (double fields, named by key)
//   specs = "kArtsParams"          # the std::array<ParamSpec<ArtsParams>, N> to declare
//   [[param]]                      # one per parameter, in the order `contactsim params` lists them
//   key = "quality"                # a C++ identifier: the scenario key and the field name
//   default = 0.85
//   range = [0, 1]                 # min, max (inclusive); the default lies within
//   unit = "Allport quality q"
//   source = "..."                 # where the default comes from, or why it is illustrative
#include <toml++/toml.h>

#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Param {
  std::string key, unit, source;
  double fallback = 0, min = 0, max = 0;
};

struct Table {
  std::string struct_name, specs_name;
  std::vector<Param> params;
};

class TableError : public std::runtime_error {
 public:
  TableError(const std::string& file, const toml::source_region& where, const std::string& what)
      : std::runtime_error(file + ":" + std::to_string(where.begin.line) + ": " + what) {}
};

bool is_identifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (const char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

// Where an error about `key` points: the key's own line, or its table's when it is missing.
const toml::source_region& where_is(const toml::table& t, const char* key) {
  const auto* node = t.get(key);
  return node ? node->source() : t.source();
}

std::string text_of(const toml::table& t, const char* key, const std::string& file) {
  const auto* node = t.get(key);
  if (!node || !node->is_string()) throw TableError(file, where_is(t, key), std::string("key '") + key + "': expected a string");
  return **node->as_string();
}

double number_of(const toml::node* node, const std::string& what, const toml::table& at, const std::string& file) {
  if (node && node->is_number()) return *node->value<double>();
  throw TableError(file, node ? node->source() : at.source(), what + ": expected a number");
}

Param read_param(const toml::table& t, const std::string& file) {
  Param p;
  p.key = text_of(t, "key", file);
  if (!is_identifier(p.key)) throw TableError(file, where_is(t, "key"), "key '" + p.key + "': expected a C++ identifier");
  const std::string where = "param '" + p.key + "'";
  p.fallback = number_of(t.get("default"), where + ", key 'default'", t, file);
  const auto* range = t.get_as<toml::array>("range");
  if (!range || range->size() != 2) throw TableError(file, where_is(t, "range"), where + ", key 'range': expected [min, max]");
  p.min = number_of(range->get(0), where + ", key 'range'", t, file);
  p.max = number_of(range->get(1), where + ", key 'range'", t, file);
  if (!(p.min <= p.fallback && p.fallback <= p.max))
    throw TableError(file, where_is(t, "default"), where + ": expected min <= default <= max");
  p.unit = text_of(t, "unit", file);
  p.source = text_of(t, "source", file);
  if (p.source.find(")source\"") != std::string::npos)
    throw TableError(file, where_is(t, "source"), where + ", key 'source': must not contain )source\"");
  return p;
}

Table read_table(const std::string& file) {
  toml::table root;
  try {
    root = toml::parse_file(file);
  } catch (const toml::parse_error& e) {
    throw TableError(file, e.source(), e.description().data());
  }
  Table table{text_of(root, "struct", file), text_of(root, "specs", file), {}};
  for (const auto& name : {table.struct_name, table.specs_name})
    if (!is_identifier(name)) throw TableError(file, root.source(), "'" + name + "': expected a C++ identifier");
  const auto* params = root.get_as<toml::array>("param");
  if (!params || params->empty()) throw TableError(file, root.source(), "expected [[param]] tables");
  std::set<std::string> seen;
  for (const auto& node : *params) {
    const auto* t = node.as_table();
    if (!t) throw TableError(file, node.source(), "param: expected a table");
    table.params.push_back(read_param(*t, file));
    if (!seen.insert(table.params.back().key).second)
      throw TableError(file, where_is(*t, "key"), "key '" + table.params.back().key + "': declared twice");
  }
  return table;
}

// The shortest text that reads back as exactly `x`, so the compiled default is the table's.
std::string number_text(double x) {
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, x).ptr;
  std::string text(buffer, end);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string header_of(const Table& t, const std::string& name) {
  std::ostringstream h;
  h << "#pragma once\n// Generated at build time from " << name
    << " by cmake/params_header.cpp: do not edit; edit the table.\n"
       "#include \"core/params.hpp\"\n\n#include <array>\n\nnamespace contactsim {\n\nstruct "
    << t.struct_name << " {\n";
  for (const auto& p : t.params) h << "  double " << p.key << ";  // " << p.unit << "\n";
  h << "};\n\ninline constexpr std::array<ParamSpec<" << t.struct_name << ">, " << t.params.size() << "> "
    << t.specs_name << "{{\n";
  for (const auto& p : t.params)
    h << "    {" << quoted(p.key) << ", &" << t.struct_name << "::" << p.key << ", " << number_text(p.fallback) << ", "
      << number_text(p.min) << ", " << number_text(p.max) << ", " << quoted(p.unit) << ",\n     R\"source("
      << p.source << ")source\"},\n";
  h << "}};\n\n}  // namespace contactsim\n";
  return h.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: contactsim_params_header <table.toml> <header.hpp> <name in messages>\n";
    return 2;
  }
  try {
    const std::string header = header_of(read_table(argv[1]), argv[3]);
    // Written beside and renamed over, so an interrupted build never leaves half a header.
    const std::filesystem::path target = argv[2];
    const std::filesystem::path partial = target.string() + ".partial";
    std::filesystem::create_directories(target.parent_path());
    {
      std::ofstream out(partial, std::ios::binary | std::ios::trunc);
      out << header;
      if (!out.flush()) throw std::runtime_error(partial.string() + ": could not write");
    }
    std::filesystem::rename(partial, target);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
