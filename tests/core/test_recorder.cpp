#include <gtest/gtest.h>
#include <hdf5_hl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/calendar.hpp"
#include "core/recorder.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using contactsim::Recorder;
using contactsim::RecorderError;
using contactsim::SeriesType;
using contactsim::TableColumn;

namespace {

// A fresh directory per test, removed afterwards.
class RecorderTest : public ::testing::Test {
 protected:
  contactsim::test::TempDir dir_{"contactsim_recorder"};
};

// Owns a raw HDF5 identifier in the tests, which check files with the plain C API.
class Id {
 public:
  Id(hid_t id, herr_t (*closer)(hid_t)) : id_(id), closer_(closer) {}
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  ~Id() {
    if (id_ >= 0) closer_(id_);
  }
  operator hid_t() const { return id_; }

 private:
  hid_t id_;
  herr_t (*closer_)(hid_t);
};

Id open_read_only(const fs::path& path) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  // A file whose (SWMR) writer was killed keeps its mark and opens as an SWMR reader.
  return {file >= 0 ? file : H5Fopen(path.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT), H5Fclose};
}
Id open_dataset(hid_t file, const char* name) { return {H5Dopen2(file, name, H5P_DEFAULT), H5Dclose}; }

std::vector<hsize_t> shape_of(hid_t dataset) {
  const Id space(H5Dget_space(dataset), H5Sclose);
  std::vector<hsize_t> dims(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space)));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return dims;
}

std::string string_attribute(hid_t object, const char* name) {
  const Id attribute(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
  const Id type(H5Aget_type(attribute), H5Tclose);
  EXPECT_GT(H5Tis_variable_str(type), 0) << name << " should be a variable-length string";
  EXPECT_EQ(H5Tget_cset(type), H5T_CSET_UTF8) << name;
  char* text = nullptr;
  EXPECT_GE(H5Aread(attribute, type, &text), 0);
  std::string value = text != nullptr ? text : "";
  H5free_memory(text);
  return value;
}

template <class T>
T numeric_attribute(hid_t object, const char* name, hid_t memory_type) {
  const Id attribute(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
  T value{};
  EXPECT_GE(H5Aread(attribute, memory_type, &value), 0) << name;
  return value;
}

// /series/time as a netCDF reader sees it: CF day numbers decoded with their units.
std::vector<std::string> cf_dates(hid_t time) {
  EXPECT_EQ(string_attribute(time, "units"), "days since 1970-01-01");
  EXPECT_EQ(string_attribute(time, "calendar"), "proleptic_gregorian");
  const Id type(H5Dget_type(time), H5Tclose);
  EXPECT_GT(H5Tequal(type, H5T_STD_I64LE), 0);
  std::vector<std::int64_t> days(shape_of(time).at(0));
  EXPECT_GE(H5Dread(time, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, days.data()), 0);
  std::vector<std::string> dates;
  for (const std::int64_t day : days) dates.push_back(contactsim::Date::from_days(static_cast<std::int32_t>(day)).iso());
  return dates;
}

std::string scale_name(hid_t dataset) {
  std::array<char, 64> name{};
  H5DSget_scale_name(dataset, name.data(), name.size());
  return name.data();
}

std::string axis_label(hid_t dataset, unsigned axis) {
  std::array<char, 64> label{};
  H5DSget_label(dataset, axis, label.data(), label.size());
  return label.data();
}

const std::vector<std::string> wards{"Ardwick", "Baguley", "Chorlton"};
const std::vector<std::string> groups{"A", "B"};

// Defines ward and group, and the series warmth (float, ward × group) and contacts (int64,
// group × group, the same dimension on two axes).
struct TwoSeries {
  int warmth;
  int contacts;
};

TwoSeries define_two_series(Recorder& recorder) {
  recorder.define_dimension("ward", wards);
  recorder.define_dimension("group", groups);
  return {recorder.define_series("warmth", {"ward", "group"}, SeriesType::float32, "mean warmth", "0-100"),
          recorder.define_series("contacts", {"group", "group"}, SeriesType::int64, "contacts", "count")};
}

std::vector<float> warmth_record(int record) {
  std::vector<float> values(6);
  for (int i = 0; i < 6; ++i)
    values[static_cast<std::size_t>(i)] = static_cast<float>(record * 10 + i) + 0.5f;
  return values;
}

std::vector<std::int64_t> contacts_record(int record) {
  return {record, record + 100, record + 200, std::int64_t{1} << 40};
}

void write_records(Recorder& recorder, const TwoSeries& ids, int first, int count) {
  for (int r = first; r < first + count; ++r) {
    recorder.write(ids.warmth, std::span<const float>(warmth_record(r)));
    recorder.write(ids.contacts, std::span<const std::int64_t>(contacts_record(r)));
    recorder.end_record("2020-01-0" + std::to_string(r + 1));
  }
}

fs::path write_sample_file(const fs::path& path) {
  Recorder recorder = Recorder::create(path, false);
  recorder.set_attribute("scenario", std::string("[population]\nsize = 1000\n[run]\nyears = 2\n"));
  recorder.set_attribute("seed", std::int64_t{42});
  recorder.set_attribute("threshold", 0.25);
  recorder.write_table("wards", {{"name", wards},
                                 {"population", std::vector<std::int64_t>{100, 200, 300}},
                                 {"density", std::vector<double>{1.5, 2.5, 3.5}}});
  const TwoSeries ids = define_two_series(recorder);
  write_records(recorder, ids, 0, 3);
  EXPECT_EQ(recorder.records(), 3);
  return path;
}

}  // namespace

TEST_F(RecorderTest, RoundTripThroughRawHdf5) {
  const fs::path path = write_sample_file(dir_ / "nested" / "deeper" / "out.h5");
  const Id file = open_read_only(path);
  ASSERT_GE(file, 0);

  EXPECT_EQ(string_attribute(file, "format"), "contactsim-output-2");
  EXPECT_EQ(string_attribute(file, "scenario"), "[population]\nsize = 1000\n[run]\nyears = 2\n");
  EXPECT_EQ(numeric_attribute<std::int64_t>(file, "records", H5T_NATIVE_INT64), 3);
  EXPECT_EQ(numeric_attribute<std::int64_t>(file, "seed", H5T_NATIVE_INT64), 42);
  EXPECT_EQ(numeric_attribute<double>(file, "threshold", H5T_NATIVE_DOUBLE), 0.25);

  const Id time = open_dataset(file, "series/time");
  EXPECT_EQ(cf_dates(time), (std::vector<std::string>{"2020-01-01", "2020-01-02", "2020-01-03"}));
  EXPECT_GT(H5DSis_scale(time), 0);
  EXPECT_EQ(scale_name(time), "time");

  const Id warmth = open_dataset(file, "series/warmth");
  ASSERT_EQ(shape_of(warmth), (std::vector<hsize_t>{3, 3, 2}));
  std::vector<float> stored(18);
  ASSERT_GE(H5Dread(warmth, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, stored.data()), 0);
  for (int r = 0; r < 3; ++r)
    for (int i = 0; i < 6; ++i)
      EXPECT_EQ(stored[static_cast<std::size_t>(r * 6 + i)], warmth_record(r)[static_cast<std::size_t>(i)]);
  EXPECT_EQ(string_attribute(warmth, "dimensions"), "time,ward,group");
  EXPECT_EQ(string_attribute(warmth, "units"), "0-100");
  EXPECT_EQ(string_attribute(warmth, "description"), "mean warmth");

  const Id contacts = open_dataset(file, "series/contacts");
  ASSERT_EQ(shape_of(contacts), (std::vector<hsize_t>{3, 2, 2}));
  std::vector<std::int64_t> counts(12);
  ASSERT_GE(H5Dread(contacts, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, counts.data()), 0);
  EXPECT_EQ(counts[4 * 2 + 1], 102);
  EXPECT_EQ(counts[11], std::int64_t{1} << 40);
  const Id contacts_type(H5Dget_type(contacts), H5Tclose);
  EXPECT_GT(H5Tequal(contacts_type, H5T_STD_I64LE), 0);
  const Id warmth_type(H5Dget_type(warmth), H5Tclose);
  EXPECT_GT(H5Tequal(warmth_type, H5T_IEEE_F32LE), 0);
}

TEST_F(RecorderTest, SeriesAreExtendibleCompressedAndAttachedToScales) {
  const fs::path path = write_sample_file(dir_ / "out.h5");
  const Id file = open_read_only(path);
  const Id time = open_dataset(file, "series/time");
  const Id ward = open_dataset(file, "series/ward");
  const Id group = open_dataset(file, "series/group");
  const Id warmth = open_dataset(file, "series/warmth");
  const Id contacts = open_dataset(file, "series/contacts");

  EXPECT_GT(H5DSis_attached(warmth, time, 0), 0);
  EXPECT_GT(H5DSis_attached(warmth, ward, 1), 0);
  EXPECT_GT(H5DSis_attached(warmth, group, 2), 0);
  EXPECT_EQ(H5DSis_attached(warmth, group, 1), 0);
  EXPECT_GT(H5DSis_attached(contacts, group, 1), 0);
  EXPECT_GT(H5DSis_attached(contacts, group, 2), 0);
  EXPECT_EQ(scale_name(ward), "ward");
  EXPECT_EQ(axis_label(warmth, 0), "time");
  EXPECT_EQ(axis_label(warmth, 2), "group");

  const Id space(H5Dget_space(warmth), H5Sclose);
  std::array<hsize_t, 3> max_dims{};
  H5Sget_simple_extent_dims(space, nullptr, max_dims.data());
  EXPECT_EQ(max_dims[0], H5S_UNLIMITED);
  EXPECT_EQ(max_dims[1], 3u);

  const Id creation(H5Dget_create_plist(warmth), H5Pclose);
  ASSERT_EQ(H5Pget_nfilters(creation), 2);
  const auto filter = [&](unsigned index) {
    unsigned flags = 0;
    std::array<unsigned, 8> parameters{};
    std::size_t parameter_count = parameters.size();
    return H5Pget_filter2(creation, index, &flags, &parameter_count, parameters.data(), 0, nullptr, nullptr);
  };
  EXPECT_EQ(filter(0), H5Z_FILTER_SHUFFLE);
  EXPECT_EQ(filter(1), H5Z_FILTER_DEFLATE);
  std::array<hsize_t, 3> chunk{};
  ASSERT_EQ(H5Pget_chunk(creation, 3, chunk.data()), 3);
  // One record per chunk even for a 6-element record (see series_layout); other axes whole.
  EXPECT_EQ(chunk[0], 1u);
  EXPECT_EQ(chunk[1], 3u);
  EXPECT_EQ(chunk[2], 2u);
}

TEST_F(RecorderTest, LargeRecordsGetOneChunkPerRecord) {
  const fs::path path = dir_ / "large.h5";
  {
    Recorder recorder = Recorder::create(path, false);
    recorder.define_dimension("block", std::vector<std::string>(2000, "b"));
    recorder.define_series("share", {"block"}, SeriesType::float32, "", "");
  }
  const Id file = open_read_only(path);
  const Id share = open_dataset(file, "series/share");
  const Id creation(H5Dget_create_plist(share), H5Pclose);
  std::array<hsize_t, 2> chunk{};
  ASSERT_EQ(H5Pget_chunk(creation, 2, chunk.data()), 2);
  EXPECT_EQ(chunk[0], 1u);
  EXPECT_EQ(chunk[1], 2000u);
}

// Records are written into SWMR files, where space a rewritten chunk leaves is never reused: with
// several small records to a chunk, rewritten at every record, a file grew to 4-5 times its data.
// 400 records of a 222-value series (a city's ward × group population): the file may hold its
// compressed data plus metadata, nothing like the several copies of each chunk that were left.
TEST_F(RecorderTest, SmallRecordsLeaveNoAbandonedChunksBehind) {
  const fs::path path = dir_ / "growth.h5";
  constexpr int kRecords = 400;
  hsize_t stored = 0;
  {
    Recorder recorder = Recorder::create(path, true);
    recorder.define_dimension("cell", std::vector<std::string>(222, "c"));
    const int id = recorder.define_series("population", {"cell"}, SeriesType::float32, "", "");
    std::mt19937 random(7);
    std::vector<float> values(222);
    for (int k = 0; k < kRecords; ++k) {
      for (float& v : values) v = std::uniform_real_distribution<float>(0, 1)(random);
      recorder.write(id, values);
      recorder.end_record("2020-01-01");
    }
  }
  {
    const Id file = open_read_only(path);
    const Id population = open_dataset(file, "series/population");
    stored = H5Dget_storage_size(population);
  }
  ASSERT_GT(stored, 0u);
  EXPECT_LT(fs::file_size(path), stored + 256 * 1024) << "compressed data: " << stored << " bytes";
}

TEST_F(RecorderTest, TableIsCompoundWithFieldsInOrder) {
  const fs::path path = write_sample_file(dir_ / "out.h5");
  const Id file = open_read_only(path);
  const Id table = open_dataset(file, "wards");
  EXPECT_EQ(shape_of(table), std::vector<hsize_t>{3});
  const Id type(H5Dget_type(table), H5Tclose);
  ASSERT_EQ(H5Tget_class(type), H5T_COMPOUND);
  ASSERT_EQ(H5Tget_nmembers(type), 3);
  for (unsigned i = 0; i < 3; ++i) {
    char* name = H5Tget_member_name(type, i);
    const std::array<const char*, 3> expected{"name", "population", "density"};
    EXPECT_STREQ(name, expected[i]);
    H5free_memory(name);
  }

  struct Row {
    char* name;
    double density;
  };
  const Id string_type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(string_type, H5T_VARIABLE);
  const Id row_type(H5Tcreate(H5T_COMPOUND, sizeof(Row)), H5Tclose);
  H5Tinsert(row_type, "name", offsetof(Row, name), string_type);
  H5Tinsert(row_type, "density", offsetof(Row, density), H5T_NATIVE_DOUBLE);
  std::array<Row, 3> rows{};
  ASSERT_GE(H5Dread(table, row_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), 0);
  EXPECT_STREQ(rows[2].name, "Chorlton");
  EXPECT_EQ(rows[1].density, 2.5);
  const Id space(H5Dget_space(table), H5Sclose);
  H5Dvlen_reclaim(row_type, space, H5P_DEFAULT, rows.data());
}

TEST_F(RecorderTest, RefusesExistingFileUnlessOverwriting) {
  const fs::path path = write_sample_file(dir_ / "out.h5");
  try {
    Recorder::create(path, false);
    FAIL() << "an existing file was overwritten";
  } catch (const RecorderError& error) {
    EXPECT_EQ(std::string(error.what()), path.string() + ": output file exists; pass --force to overwrite");
  }
  {
    Recorder recorder = Recorder::create(path, true);
    EXPECT_EQ(recorder.records(), 0);
  }
  const Id file = open_read_only(path);
  EXPECT_EQ(numeric_attribute<std::int64_t>(file, "records", H5T_NATIVE_INT64), 0);
  EXPECT_EQ(H5Lexists(file, "wards", H5P_DEFAULT), 0) << "the old file's contents survived --force";
}

TEST_F(RecorderTest, UncreatableLocationNamesThePath) {
  const fs::path blocker = dir_ / "not_a_directory";
  std::ofstream(blocker) << "x";
  const fs::path path = blocker / "out.h5";
  try {
    Recorder::create(path, false);
    FAIL() << "created a file below a regular file";
  } catch (const RecorderError& error) {
    EXPECT_NE(std::string(error.what()).find(path.string()), std::string::npos) << error.what();
  }
  EXPECT_THROW(Recorder::create(dir_.path(), true), RecorderError) << "a directory must not be taken for a file";
}

TEST_F(RecorderTest, RejectsWrongRecordSizeAndType) {
  Recorder recorder = Recorder::create(dir_ / "out.h5", false);
  const TwoSeries ids = define_two_series(recorder);
  EXPECT_EQ(recorder.record_size(ids.warmth), 6u);
  EXPECT_EQ(recorder.record_size(ids.contacts), 4u);
  const std::vector<float> five(5, 1.0f);
  EXPECT_THROW(recorder.write(ids.warmth, std::span<const float>(five)), RecorderError);
  const std::vector<std::int64_t> six(6, 1);
  EXPECT_THROW(recorder.write(ids.warmth, std::span<const std::int64_t>(six)), RecorderError);
  EXPECT_THROW(recorder.write(7, std::span<const float>(five)), RecorderError);
  EXPECT_THROW(recorder.record_size(-1), RecorderError);
}

TEST_F(RecorderTest, EndRecordNamesSeriesMissingAWrite) {
  Recorder recorder = Recorder::create(dir_ / "out.h5", false);
  const TwoSeries ids = define_two_series(recorder);
  recorder.write(ids.warmth, std::span<const float>(warmth_record(0)));
  try {
    recorder.end_record("2020-01-01");
    FAIL() << "a record without every series was accepted";
  } catch (const RecorderError& error) {
    EXPECT_NE(std::string(error.what()).find("contacts"), std::string::npos) << error.what();
    EXPECT_EQ(std::string(error.what()).find("warmth"), std::string::npos) << error.what();
  }
  EXPECT_EQ(recorder.records(), 0);
  EXPECT_THROW(recorder.write(ids.warmth, std::span<const float>(warmth_record(0))), RecorderError)
      << "a second write of one series in one record";
  recorder.write(ids.contacts, std::span<const std::int64_t>(contacts_record(0)));
  EXPECT_THROW(recorder.end_record("1 Jan 2020"), RecorderError);
  recorder.end_record("2020-01-01");
  EXPECT_EQ(recorder.records(), 1);
  EXPECT_THROW(recorder.end_record("2020-01-02"), RecorderError) << "a record with no writes at all";
}

TEST_F(RecorderTest, RejectsBadDefinitions) {
  Recorder recorder = Recorder::create(dir_ / "out.h5", false);
  const TwoSeries ids = define_two_series(recorder);
  EXPECT_THROW(recorder.define_series("x", {"ward", "colour"}, SeriesType::float32, "", ""), RecorderError);
  EXPECT_THROW(recorder.define_series("warmth", {"ward"}, SeriesType::float32, "", ""), RecorderError);
  EXPECT_THROW(recorder.define_series("ward", {}, SeriesType::float32, "", ""), RecorderError);
  EXPECT_THROW(recorder.define_dimension("ward", {"again"}), RecorderError);
  EXPECT_THROW(recorder.define_dimension("time", {"x"}), RecorderError);
  EXPECT_THROW(recorder.define_dimension("empty", {}), RecorderError);
  EXPECT_THROW(
      recorder.write_table("t", {{"a", std::vector<std::int64_t>{1, 2}}, {"b", std::vector<double>{1}}}),
      RecorderError);
  EXPECT_THROW(recorder.write_table("series", {{"a", std::vector<double>{1}}}), RecorderError);
  EXPECT_THROW(recorder.set_attribute("records", std::int64_t{9}), RecorderError);
  write_records(recorder, ids, 0, 1);
  EXPECT_THROW(recorder.define_series("late", {"ward"}, SeriesType::float32, "", ""), RecorderError);
}

TEST_F(RecorderTest, AttributesCanBeReplacedWithAnotherType) {
  const fs::path path = dir_ / "out.h5";
  {
    Recorder recorder = Recorder::create(path, false);
    recorder.set_attribute("seed", std::string("pending"));
    recorder.set_attribute("seed", std::int64_t{7});
    recorder.set_attribute("label", std::string("short"));
    recorder.set_attribute("label", std::string("a much longer value than before"));
  }
  const Id file = open_read_only(path);
  EXPECT_EQ(numeric_attribute<std::int64_t>(file, "seed", H5T_NATIVE_INT64), 7);
  EXPECT_EQ(string_attribute(file, "label"), "a much longer value than before");
}

TEST_F(RecorderTest, MovedRecorderKeepsWriting) {
  const fs::path path = dir_ / "out.h5";
  {
    Recorder first = Recorder::create(path, false);
    const TwoSeries ids = define_two_series(first);
    write_records(first, ids, 0, 1);
    Recorder second = std::move(first);
    write_records(second, ids, 1, 1);
    Recorder third = Recorder::create(dir_ / "other.h5", false);
    third = std::move(second);
    write_records(third, ids, 2, 1);
    EXPECT_EQ(third.records(), 3);
    EXPECT_EQ(third.path(), path);
  }
  const Id file = open_read_only(path);
  const Id time = open_dataset(file, "series/time");
  EXPECT_EQ(shape_of(time), std::vector<hsize_t>{3});
}

// A writer killed between records (no destructor, no H5Fclose) must leave a readable file with
// every completed record; the buffered, unfinished record is simply absent.
TEST_F(RecorderTest, KilledWriterLeavesCompletedRecords) {
  const fs::path path = dir_ / "killed.h5";
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      Recorder recorder = Recorder::create(path, false);
      const TwoSeries ids = define_two_series(recorder);
      write_records(recorder, ids, 0, 2);
      recorder.write(ids.warmth, std::span<const float>(warmth_record(2)));
      raise(SIGKILL);
    } catch (...) {
    }
    _exit(1);  // never return into the test runner from the child
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  const Id file = open_read_only(path);
  ASSERT_GE(file, 0);
  EXPECT_EQ(numeric_attribute<std::int64_t>(file, "records", H5T_NATIVE_INT64), 2);
  const Id time = open_dataset(file, "series/time");
  EXPECT_EQ(cf_dates(time), (std::vector<std::string>{"2020-01-01", "2020-01-02"}));
  const Id warmth = open_dataset(file, "series/warmth");
  ASSERT_EQ(shape_of(warmth), (std::vector<hsize_t>{2, 3, 2}));
  std::vector<float> stored(12);
  ASSERT_GE(H5Dread(warmth, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, stored.data()), 0);
  EXPECT_EQ(stored[6], warmth_record(1)[0]);
  const std::string description = contactsim::describe_output(path);
  EXPECT_NE(description.find("2020-01-02"), std::string::npos) << description;
}

TEST_F(RecorderTest, DescribeOutputSummarisesTheFile) {
  const fs::path path = write_sample_file(dir_ / "out.h5");
  const std::string text = contactsim::describe_output(path);
  for (const char* expected :
       {"warmth", "contacts", "(3 × 3 × 2)", "time, ward, group", "0-100", "2020-01-01", "2020-01-03",
        "contactsim-output-2", "<4 lines, ", "wards", "name, population, density", "Ardwick", "42", "0.25"})
    EXPECT_NE(text.find(expected), std::string::npos) << "missing '" << expected << "' in:\n" << text;
  EXPECT_EQ(text.find("size = 1000"), std::string::npos) << "scenario text should be abbreviated:\n" << text;
  EXPECT_NE(text.find(path.string()), std::string::npos);
}

TEST_F(RecorderTest, DescribeOutputRejectsForeignFiles) {
  const fs::path foreign = dir_ / "foreign.h5";
  H5Fclose(H5Fcreate(foreign.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT));
  try {
    contactsim::describe_output(foreign);
    FAIL() << "described an HDF5 file without a format attribute";
  } catch (const RecorderError& error) {
    EXPECT_EQ(std::string(error.what()),
              foreign.string() + ": not a contactsim output file (no 'format' attribute)");
  }

  const fs::path text = dir_ / "notes.txt";
  std::ofstream(text) << "not HDF5 at all\n";
  try {
    contactsim::describe_output(text);
    FAIL() << "described a text file";
  } catch (const RecorderError& error) {
    EXPECT_EQ(std::string(error.what()).rfind(text.string() + ": ", 0), 0u) << error.what();
  }
  EXPECT_THROW(contactsim::describe_output(dir_ / "missing.h5"), RecorderError);
}
