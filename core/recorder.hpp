#pragma once
// The HDF5 recorder: provenance, lookup tables and time series with dimension scales.
//
// Layout written (DESIGN §5):
//   /                 attributes: provenance (set_attribute)
//   /<table>          compound datasets, one field per column (write_table)
//   /series/<dim>     1-D dimension scales holding labels (define_dimension); /series/time is
//                     created by the recorder, extendible, holding int64 days since 1970-01-01
//                     with CF `units` and `calendar` attributes (netCDF readers decode dates)
//   /series/<name>    float32 / int64 arrays shaped (time, dims...), chunked one record per chunk
//                     along time, shuffle+deflate compressed, every axis attached to its scale
//
// Crash safety: all HDF5 I/O happens inside end_record(), which extends every series, writes
// the record, extends /series/time *last*, updates the root attribute `records` and flushes the
// file. From the first record on, the file is written in HDF5's SWMR mode (h5::FileFormat::
// appendable), which orders every flush so that the file on disk is coherent at every moment: a
// process killed at any point after the first record, inside a flush included, leaves a file
// holding every completed record (killed before it, the file holds no record and needs
// `h5clear -s` to open). /events is created empty at the first record if no event came before,
// and nothing may be created after it (tables, dimensions, series, new attributes). Such a file
// keeps HDF5's "open for SWMR writing" mark: h5py opens it with h5py.File(path, "r",
// swmr=True) (h5::File::open_read_only does so by itself), or `h5clear -s` removes the mark.
// Series whose length exceeds /series/time by one hold a torn record and are to be ignored
// beyond len(time) by readers.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace contactsim {

namespace h5 {
class Dataset;
}

class RecorderError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One column of a table written with write_table().
struct TableColumn {
  std::string name;
  std::variant<std::vector<std::string>, std::vector<std::int64_t>, std::vector<double>> values;
};

enum class SeriesType { float32, int64 };

// A series declared once by its owner: what define_series creates, what the output estimate
// counts and what docs/outputs.md lists, so the three cannot drift apart.
struct SeriesSpec {
  std::string name;
  std::vector<std::string> dims;  // dimension names after time, e.g. {"ward", "group"}
  SeriesType type = SeriesType::float32;
  std::string description;
  std::string units;
};

// One array of a group of define_arrays(): `values` holds rows × width elements, row by row;
// width 1 makes a column of `rows` values, more a (rows, width) matrix.
struct ArrayColumn {
  std::string name;
  std::variant<std::vector<std::uint8_t>, std::vector<std::uint16_t>, std::vector<std::uint32_t>, std::vector<float>>
      values;
  std::size_t width = 1;
  std::string description;  // the dataset's `description` attribute
};

using AttributeScalar = std::variant<std::string, std::int64_t, double>;

// Now as an ISO UTC timestamp, or SOURCE_DATE_EPOCH when set (the reproducible-builds
// convention), so two runs of the same scenario and seed can be compared byte for byte.
std::string creation_time_utc();

// /series/time follows the CF conventions: int64 days since 1970-01-01.
inline constexpr const char* cf_time_units = "days since 1970-01-01";

// Records first .. first+count-1 of a /series/time dataset as YYYY-MM-DD; also reads the ISO
// strings that files before format contactsim-output-2 hold.
std::vector<std::string> read_record_dates(const h5::Dataset& time, std::uint64_t first, std::uint64_t count);

class Recorder {
 public:
  // Creates `path` (and its parent directories). Throws RecorderError if it exists and
  // !overwrite, or cannot be created (message names the path and the reason).
  static Recorder create(const std::filesystem::path& path, bool overwrite);
  Recorder(Recorder&&) noexcept;
  Recorder& operator=(Recorder&&) noexcept;
  ~Recorder();

  void set_attribute(const std::string& name, const std::string& value);
  void set_attribute(const std::string& name, std::int64_t value);
  void set_attribute(const std::string& name, double value);

  // All columns must have the same length. Written at the root: /<name>.
  void write_table(const std::string& name, const std::vector<TableColumn>& columns);

  // A labelled axis, e.g. {"ward", [37 ward names]}; becomes /series/<name>.
  void define_dimension(const std::string& name, const std::vector<std::string>& labels);

  // A series shaped (time, dims...) where dims name dimensions defined before. `description`
  // and `units` become attributes of the dataset. Returns the id used with write().
  int define_series(const std::string& name, const std::vector<std::string>& dims, SeriesType type,
                    const std::string& description, const std::string& units);

  int define_series(const SeriesSpec& spec) {
    return define_series(spec.name, spec.dims, spec.type, spec.description, spec.units);
  }

  // Element count of one record of series `id` (product of its dims' lengths).
  std::size_t record_size(int id) const;

  // One record: call write() once for every defined series, then end_record(date).
  // Sizes must equal record_size(id); types must match the definition.
  void write(int id, std::span<const float> values);
  void write(int id, std::span<const std::int64_t> values);
  void end_record(const std::string& iso_date);

  // One row of the /events table (timeline items applied, venues opened or closed). Rows are
  // buffered and written by the next end_record, before its date, so /events never holds an
  // event from a period whose record is missing.
  void log_event(const std::string& iso_date, const std::string& kind, const std::string& subject,
                 const std::string& detail, std::int64_t venues_affected);

  std::int64_t records() const;
  // Whether a write failed (disk full, file removed...): the file holds the records before it
  // and no more can be added.
  bool failed() const;
  // Sets the root attribute `complete` to 1 (it is 0 from creation): the run reached its end.
  void mark_complete();
  const std::filesystem::path& path() const;

  // Arrays that grow by one block per append_arrays(), on their own schedule rather than with
  // every record (agent snapshots of a fixed panel: models/snapshots.hpp). Like series they are
  // defined before the first record (nothing is created in the file after it):
  //   /<group>/date      ISO date of each block, extended last, so a growing array longer than it
  //                      holds a torn block that readers ignore
  //   /<group>/<name>    a `fixed` column: written once, whole (e.g. the panel's ids)
  //   /<group>/<name>    a `growing` column: shaped (blocks, rows[, width]), chunked one block per
  //                      chunk, compressed; only its name, type (the vector's alternative; values
  //                      may be empty), width and description are used here
  // with `attributes` on the group. Returns the id for append_arrays().
  int define_arrays(const std::string& group, std::size_t rows, const std::vector<ArrayColumn>& fixed,
                    const std::vector<ArrayColumn>& growing,
                    const std::vector<std::pair<std::string, AttributeScalar>>& attributes);
  // One block of group `id`: every growing column in definition order, rows × width values
  // each, then its date; flushed.
  void append_arrays(int id, const std::string& iso_date, const std::vector<ArrayColumn>& columns);

 private:
  struct Impl;
  explicit Recorder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Human-readable description of a contactsim output file (for `contactsim info`): provenance
// attributes (scenario text abbreviated), tables with their row counts, and every series with
// its shape, dimension names, units and the first and last date. Throws RecorderError if the
// file cannot be opened or is not a contactsim file.
std::string describe_output(const std::filesystem::path& path);

}  // namespace contactsim
