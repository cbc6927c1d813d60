#include "core/census.hpp"

#include "core/config.hpp"
#include "core/text.hpp"
#include "core/text_file.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>

namespace contactsim {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kFixedColumns = 3;
constexpr const char* kFixedNames[kFixedColumns] = {"date", "geography", "geography code"};

// ---------------------------------------------------------------- RFC 4180 reader

struct CsvRecord {
  std::vector<std::string> fields;
  int line = 0;  // 1-based line on which the record starts
  bool blank = false;  // an empty line: skipped, unlike a line holding only ""
};

// Reads the whole text into records. A quoted field may span lines, so each record remembers
// the line it started on and the counter keeps advancing inside quotes.
class CsvParser {
 public:
  CsvParser(std::string_view text, std::string file) : text_(text), file_(std::move(file)) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // Excel and Nomis may write a UTF-8 BOM
  }

  std::vector<CsvRecord> records() {
    std::vector<CsvRecord> out;
    while (pos_ < text_.size()) {
      CsvRecord record = next_record();
      if (!record.blank) out.push_back(std::move(record));
    }
    return out;
  }

 private:
  CsvRecord next_record() {
    CsvRecord record;
    record.line = line_;
    while (true) {
      record.fields.push_back(next_field());
      if (pos_ >= text_.size()) break;
      const char separator = text_[pos_++];
      if (separator == ',') continue;
      if (separator == '\r' && pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
      ++line_;
      break;
    }
    record.blank = record.fields.size() == 1 && record.fields[0].empty() && !last_field_quoted_;
    return record;
  }

  std::string next_field() {
    last_field_quoted_ = pos_ < text_.size() && text_[pos_] == '"';
    return last_field_quoted_ ? quoted_field() : plain_field();
  }

  std::string plain_field() {
    const std::size_t end = std::min(text_.find_first_of(",\r\n", pos_), text_.size());
    const std::string_view field = text_.substr(pos_, end - pos_);
    if (field.find('"') != std::string_view::npos)
      throw ConfigError(file_, line_, "(row)",
                        "expected a field without quotes or a fully quoted field (\"...\" with \"\" for a quote), got " +
                            in_quotes(field));
    pos_ = end;
    return std::string(field);
  }

  std::string quoted_field() {
    const int start_line = line_;
    std::string field;
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= text_.size())
        throw ConfigError(file_, start_line, "(row)", "expected a closing quote for the field opened on this line");
      const char c = text_[pos_++];
      if (c == '"') {
        if (pos_ < text_.size() && text_[pos_] == '"') {
          field += '"';
          ++pos_;
          continue;
        }
        break;
      }
      if (c == '\n') ++line_;
      field += c;
    }
    if (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\r' && text_[pos_] != '\n')
      throw ConfigError(file_, line_, "(row)", "expected a comma or end of line after a closing quote, got " +
                                                  in_quotes(text_.substr(pos_, 1), '\''));
    return field;
  }

  std::string_view text_;
  std::string file_;
  std::size_t pos_ = 0;
  int line_ = 1;
  bool last_field_quoted_ = false;
};

// ---------------------------------------------------------------- table validation

std::string trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return std::string(text.substr(first, text.find_last_not_of(" \t") - first + 1));
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

void check_header(const CsvRecord& header, const std::string& file) {
  bool fixed_ok = header.fields.size() >= kFixedColumns;
  for (std::size_t i = 0; fixed_ok && i < kFixedColumns; ++i)
    fixed_ok = equals_ignoring_case(trimmed(header.fields[i]), kFixedNames[i]);
  if (!fixed_ok) {
    const std::size_t shown = std::min(header.fields.size(), kFixedColumns);
    const std::vector<std::string> got(header.fields.begin(), header.fields.begin() + static_cast<long>(shown));
    throw ConfigError(file, header.line, "(header)",
                      "expected the columns to start with \"date\", \"geography\", \"geography code\" (Nomis bulk "
                      "CSV), got " + list_of(got));
  }
  if (header.fields.size() == kFixedColumns)
    throw ConfigError(file, header.line, "(header)",
                      "expected at least one category column after \"geography code\"");
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = kFixedColumns; i < header.fields.size(); ++i) {
    const auto [it, inserted] = seen.emplace(header.fields[i], i + 1);
    if (!inserted)
      throw ConfigError(file, header.line, "(header)",
                        "expected distinct column names, got " + in_quotes(header.fields[i]) + " as columns " +
                            std::to_string(it->second) + " and " + std::to_string(i + 1));
  }
}

std::int64_t parse_count(std::string_view field, const std::string& file, int line, const std::string& column) {
  const std::string text = trimmed(field);
  std::int64_t value = -1;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < 0)
    throw ConfigError(file, line, column, "expected a non-negative integer count, got " + in_quotes(field));
  return value;
}

std::string required_field(const CsvRecord& record, std::size_t column, const std::string& file) {
  if (record.fields[column].empty())
    throw ConfigError(file, record.line, kFixedNames[column], "expected a value, got an empty field");
  return record.fields[column];
}

void add_row(CensusTable& table, const CsvRecord& record, std::map<std::string, int>& line_of_code) {
  const std::string file = table.file.string();
  const std::size_t expected_fields = kFixedColumns + table.categories.size();
  if (record.fields.size() != expected_fields)
    throw ConfigError(file, record.line, "(row)",
                      "expected " + std::to_string(expected_fields) + " fields as in the header, got " +
                          std::to_string(record.fields.size()));
  const std::string name = required_field(record, 1, file);
  const std::string code = required_field(record, 2, file);
  // Ward names repeat across local authorities (there are many "Abbey" wards); codes never do.
  const auto [first, inserted] = line_of_code.emplace(code, record.line);
  if (!inserted)
    throw ConfigError(file, record.line, "geography code",
                      "expected each geography once, got " + in_quotes(code) + " again (first on line " +
                          std::to_string(first->second) + ")");
  std::vector<std::int64_t> counts;
  for (std::size_t c = 0; c < table.categories.size(); ++c)
    counts.push_back(parse_count(record.fields[kFixedColumns + c], file, record.line, table.categories[c]));
  table.geography_names.push_back(name);
  table.geography_codes.push_back(code);
  table.source_lines.push_back(record.line);
  table.counts.push_back(std::move(counts));
}

// ---------------------------------------------------------------- mapping

std::size_t column_index(const CensusTable& table, const std::string& column, const SourceLocation& where) {
  const auto it = std::find(table.categories.begin(), table.categories.end(), column);
  if (it == table.categories.end())
    throw ConfigError(where.file, where.line, where.key,
                      "column " + in_quotes(column) + " not found in census file " + table.file.string() +
                          "; its category columns are: " + list_of(table.categories));
  return static_cast<std::size_t>(it - table.categories.begin());
}

// For each group, the census columns it sums; every column may feed at most one group.
std::vector<std::vector<std::size_t>> group_columns(const CensusTable& table, const CensusMapping& mapping,
                                                    std::size_t total_index) {
  std::map<std::size_t, std::string> owner;
  owner.emplace(total_index, "(total)");
  std::vector<std::vector<std::size_t>> out(mapping.groups.size());
  for (std::size_t g = 0; g < mapping.groups.size(); ++g) {
    for (const auto& column : mapping.columns[g]) {
      const SourceLocation& where = mapping.group_locations[g];
      const std::size_t index = column_index(table, column, where);
      const auto [it, inserted] = owner.emplace(index, mapping.groups[g]);
      if (!inserted)
        throw ConfigError(where.file, where.line, where.key,
                          "column " + in_quotes(column) + " is mapped to both " + in_quotes(it->second) + " and " +
                              in_quotes(mapping.groups[g]) + "; each census column may feed one group");
      out[g].push_back(index);
    }
  }
  return out;
}

std::size_t find_ward_row(const CensusTable& table, const std::string& ward, const CensusMapping& mapping) {
  const auto by_code = std::find(table.geography_codes.begin(), table.geography_codes.end(), ward);
  if (by_code != table.geography_codes.end()) return static_cast<std::size_t>(by_code - table.geography_codes.begin());
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < table.geography_names.size(); ++r)
    if (table.geography_names[r] == ward) rows.push_back(r);
  const SourceLocation& where = mapping.wards_location;
  if (rows.empty()) {
    std::vector<std::string> shown(table.geography_names.begin(),
                                   table.geography_names.begin() + std::min<std::size_t>(10, table.geography_names.size()));
    throw ConfigError(where.file, where.line, where.key,
                      "ward " + in_quotes(ward) + " not found (by name or geography code) in census file " +
                          table.file.string() + "; its geographies are " + list_of(shown) +
                          (table.geography_names.size() > shown.size() ? ", …" : ""));
  }
  if (rows.size() > 1)
    throw ConfigError(where.file, where.line, where.key,
                      "ward " + in_quotes(ward) + " names " + std::to_string(rows.size()) +
                          " geographies in the census file (lines " + std::to_string(table.source_lines[rows[0]]) +
                          " and " + std::to_string(table.source_lines[rows[1]]) + "); use its geography code");
  return rows.front();
}

}  // namespace

CensusTable load_nomis_csv(const fs::path& file) {
  const std::optional<std::string> text = read_text_file(file);
  if (!text) throw ConfigError(file.string(), 0, "(file)", why_unreadable(file));
  const std::vector<CsvRecord> records = CsvParser(*text, file.string()).records();
  if (records.empty())
    throw ConfigError(file.string(), 1, "(header)", "expected a header row (Nomis bulk CSV), got an empty file");
  check_header(records.front(), file.string());

  CensusTable table;
  table.file = file;
  table.categories.assign(records.front().fields.begin() + kFixedColumns, records.front().fields.end());
  std::map<std::string, int> line_of_code;
  for (std::size_t r = 1; r < records.size(); ++r) add_row(table, records[r], line_of_code);
  return table;
}

std::vector<std::vector<std::int64_t>> map_census(const CensusTable& table, const CensusMapping& mapping,
                                                  const std::vector<std::string>& ward_names) {
  if (mapping.columns.size() != mapping.groups.size() || mapping.group_locations.size() != mapping.groups.size())
    throw std::invalid_argument("map_census: mapping has " + std::to_string(mapping.groups.size()) + " groups but " +
                                std::to_string(mapping.columns.size()) + " column lists");
  const std::size_t total_index = column_index(table, mapping.total_column, mapping.total_location);
  const auto columns = group_columns(table, mapping, total_index);

  std::vector<std::vector<std::int64_t>> out;
  for (const auto& ward : ward_names) {
    const std::size_t row = find_ward_row(table, ward, mapping);
    const auto& counts = table.counts[row];
    // Counts are only bounded by int64: sums that overflow are refused, not wrapped (UB).
    const auto add = [&](std::int64_t a, std::int64_t b) {
      std::int64_t sum = 0;
      if (__builtin_add_overflow(a, b, &sum))
        throw ConfigError(table.file.string(), table.source_lines[row], mapping.total_column,
                          "categories mapped to groups sum to more than " +
                              std::to_string(std::numeric_limits<std::int64_t>::max()) + " for ward " +
                              table.geography_names[row] + "; expected residents counts");
      return sum;
    };
    std::vector<std::int64_t> by_group;
    std::int64_t mapped_sum = 0;
    for (const auto& group : columns) {
      std::int64_t sum = 0;
      for (std::size_t c : group) sum = add(sum, counts[c]);
      by_group.push_back(sum);
      mapped_sum = add(mapped_sum, sum);
    }
    // A mapped subtotal plus one of its own subcategories, or a forgotten category, shows here.
    if (mapped_sum != counts[total_index])
      throw ConfigError(table.file.string(), table.source_lines[row], mapping.total_column,
                        "categories mapped to groups sum to " + std::to_string(mapped_sum) + " but " +
                            mapping.total_column + " is " + std::to_string(counts[total_index]) + " for ward " +
                            table.geography_names[row]);
    out.push_back(std::move(by_group));
  }
  return out;
}

namespace {

std::string csv_quoted(std::string_view field) {
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void check_shape(const CensusTable& table) {
  const std::size_t rows = table.geography_names.size();
  bool ok = table.geography_codes.size() == rows && table.counts.size() == rows;
  for (const auto& row : table.counts) ok = ok && row.size() == table.categories.size();
  if (!ok) throw std::invalid_argument("write_nomis_csv: names, codes and count rows of the table differ in size");
}

}  // namespace

void write_nomis_csv(const CensusTable& table, const fs::path& file) {
  check_shape(table);
  std::ofstream out(file, std::ios::binary);
  if (!out) throw std::runtime_error("write_nomis_csv: cannot open " + file.string() + " for writing");
  out << csv_quoted(kFixedNames[0]) << ',' << csv_quoted(kFixedNames[1]) << ',' << csv_quoted(kFixedNames[2]);
  for (const auto& category : table.categories) out << ',' << csv_quoted(category);
  out << '\n';
  for (std::size_t r = 0; r < table.geography_names.size(); ++r) {
    // The table does not keep the date column (nothing reads it), so it is written empty.
    out << csv_quoted("") << ',' << csv_quoted(table.geography_names[r]) << ',' << csv_quoted(table.geography_codes[r]);
    for (std::int64_t count : table.counts[r]) out << ',' << csv_quoted(std::to_string(count));
    out << '\n';
  }
  if (!out.flush()) throw std::runtime_error("write_nomis_csv: failed writing " + file.string());
}

}  // namespace contactsim
