#include "core/census.hpp"

#include "core/config.hpp"

#include <gtest/gtest.h>

#include "tests/support/errors.hpp"
#include "tests/support/temp_dir.hpp"

namespace contactsim {
namespace {
namespace fs = std::filesystem;
using namespace test;

const std::string kTotal = "Ethnic group: Total: All usual residents";
const std::string kAsian = "Ethnic group: Asian, Asian British or Asian Welsh";
const std::string kWhite = "Ethnic group: White";
const std::string kOther = "Ethnic group: Other ethnic group";

class CensusFiles : public ::testing::Test {
 protected:
  // Two wards in Nomis layout; Hanley's categories sum to its total, Normacot's do not.
  fs::path two_wards() const {
    return dir_.write("ts021.csv",
                      "\"date\",\"geography\",\"geography code\",\"" + kTotal + "\",\"" + kAsian + "\",\"" + kWhite +
                          "\",\"" + kOther + "\"\n"
                          "\"2021\",\"Hanley Park and Shelton\",\"E05008318\",\"7001\",\"2001\",\"4979\",\"21\"\n"
                          "\"2021\",\"Lightwood North and Normacot\",\"E05008322\",\"7001\",\"3001\",\"3979\",\"0\"\n");
  }

  CensusMapping mapping() const {
    CensusMapping m;
    m.total_column = kTotal;
    m.groups = {"asian", "white"};
    m.columns = {{kAsian}, {kWhite, kOther}};
    m.total_location = {"scenario.toml", 13, "population.census.total_column"};
    m.group_locations = {{"scenario.toml", 15, "population.census.columns.asian"},
                         {"scenario.toml", 16, "population.census.columns.white"}};
    m.wards_location = {"scenario.toml", 4, "wards.names"};
    return m;
  }

  TempDir dir_{"contactsim_census"};
};

TEST_F(CensusFiles, WriteThenLoadRoundTrips) {
  CensusTable table;
  table.categories = {kTotal, "Group, with \"comma\" and quotes", "Other"};
  table.geography_names = {"Abbey Hulton and Townsend", "Baddeley, Milton and Norton"};
  table.geography_codes = {"E05008300", "E05008301"};
  table.counts = {{10, 7, 3}, {25, 20, 5}};
  const fs::path file = dir_ / "out.csv";
  write_nomis_csv(table, file);

  const CensusTable loaded = load_nomis_csv(file);
  EXPECT_EQ(loaded.file, file);
  EXPECT_EQ(loaded.categories, table.categories);
  EXPECT_EQ(loaded.geography_names, table.geography_names);
  EXPECT_EQ(loaded.geography_codes, table.geography_codes);
  EXPECT_EQ(loaded.counts, table.counts);
  EXPECT_EQ(loaded.source_lines, (std::vector<int>{2, 3}));
}

TEST_F(CensusFiles, QuotedFieldsBomAndCrlf) {
  const auto file = dir_.write("q.csv",
                               "\xEF\xBB\xBF"
                               "date,geography,geography code,\"A, total\",\"B \"\"quoted\"\"\"\r\n"
                               "2021,\"Meir Hay, North\",E1,5,5\r\n"
                               "\r\n"
                               "2021,Plain,E2,\"3\",3\r\n");
  const CensusTable table = load_nomis_csv(file);
  EXPECT_EQ(table.categories, (std::vector<std::string>{"A, total", "B \"quoted\""}));
  EXPECT_EQ(table.geography_names, (std::vector<std::string>{"Meir Hay, North", "Plain"}));
  EXPECT_EQ(table.source_lines, (std::vector<int>{2, 4}));
  EXPECT_EQ(table.counts[1], (std::vector<std::int64_t>{3, 3}));
}

TEST_F(CensusFiles, BadCountNamesItsLineAndColumn) {
  // The quoted name spans two lines, so the bad row starts on line 4, not 3.
  const auto file = dir_.write("bad.csv",
                               "date,geography,geography code,Total,A\n"
                               "2021,\"Two\nLines\",E1,5,5\n"
                               "2021,Ok,E2,5,-3\n");
  EXPECT_EQ(error_of([&] { load_nomis_csv(file); }),
            file.string() + ":4: A: expected a non-negative integer count, got \"-3\"");
}

TEST_F(CensusFiles, ShortRowAndBadHeader) {
  const auto short_row = dir_.write("short.csv", "date,geography,geography code,Total,A\n2021,X,E1,5\n");
  EXPECT_EQ(error_of([&] { load_nomis_csv(short_row); }),
            short_row.string() + ":2: (row): expected 5 fields as in the header, got 4");
  const auto bad_header = dir_.write("header.csv", "geography,date,geography code,Total\n");
  EXPECT_EQ(error_of([&] { load_nomis_csv(bad_header); }),
            bad_header.string() +
                ":1: (header): expected the columns to start with \"date\", \"geography\", \"geography code\" "
                "(Nomis bulk CSV), got \"geography\", \"date\", \"geography code\"");
}

TEST_F(CensusFiles, DuplicateGeographyCode) {
  const auto file = dir_.write("dup.csv", "date,geography,geography code,Total\n2021,A,E1,1\n2021,B,E1,2\n");
  EXPECT_EQ(error_of([&] { load_nomis_csv(file); }),
            file.string() + ":3: geography code: expected each geography once, got \"E1\" again (first on line 2)");
}

TEST_F(CensusFiles, MissingFile) {
  const auto file = dir_ / "absent.csv";
  EXPECT_EQ(error_of([&] { load_nomis_csv(file); }), file.string() + ":0: (file): file not found");
}

TEST_F(CensusFiles, MapsWardsByNameOrCode) {
  const CensusTable table = load_nomis_csv(two_wards());
  const auto counts = map_census(table, mapping(), {"E05008318"});
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0], (std::vector<std::int64_t>{2001, 5000}));
  EXPECT_EQ(map_census(table, mapping(), {"Hanley Park and Shelton"}), counts);
}

TEST_F(CensusFiles, RowsThatDoNotSumNameLineWardAndBothNumbers) {
  const auto file = two_wards();
  const CensusTable table = load_nomis_csv(file);
  EXPECT_EQ(error_of([&] { map_census(table, mapping(), {"E05008318", "Lightwood North and Normacot"}); }),
            file.string() + ":3: " + kTotal + ": categories mapped to groups sum to 6980 but " + kTotal +
                " is 7001 for ward Lightwood North and Normacot");
}

TEST_F(CensusFiles, MissingWard) {
  const CensusTable table = load_nomis_csv(two_wards());
  EXPECT_EQ(error_of([&] { map_census(table, mapping(), {"Fenton West"}); }),
            "scenario.toml:4: wards.names: ward \"Fenton West\" not found (by name or geography code) in census file " +
                two_wards().string() + "; its geographies are \"Hanley Park and Shelton\", \"Lightwood North and Normacot\"");
}

TEST_F(CensusFiles, MissingAndDoublyMappedColumns) {
  const auto file = two_wards();
  const CensusTable table = load_nomis_csv(file);
  CensusMapping missing = mapping();
  missing.columns[0] = {"Ethnic group: Asian"};
  const std::string message = error_of([&] { map_census(table, missing, {"E05008318"}); });
  EXPECT_EQ(message.rfind("scenario.toml:15: population.census.columns.asian: column \"Ethnic group: Asian\" not found in census file " +
                              file.string() + "; its category columns are: \"" + kTotal + "\"",
                          0),
            0u)
      << message;

  CensusMapping twice = mapping();
  twice.columns[1].push_back(kAsian);
  EXPECT_EQ(error_of([&] { map_census(table, twice, {"E05008318"}); }),
            "scenario.toml:16: population.census.columns.white: column \"" + kAsian +
                "\" is mapped to both \"asian\" and \"white\"; each census column may feed one group");
}

}  // namespace
}  // namespace contactsim
