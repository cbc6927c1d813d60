#include "core/recorder.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <sstream>
#include <system_error>
#include <type_traits>

#include "core/calendar.hpp"
#include "core/h5.hpp"
#include "core/output_file.hpp"
#include "core/text.hpp"

namespace contactsim {
namespace fs = std::filesystem;

namespace {

constexpr const char* format_attribute = "format";
constexpr const char* format_name = "contactsim-output-2";
constexpr const char* records_attribute = "records";
constexpr const char* complete_attribute = "complete";
constexpr const char* series_group_name = "series";
constexpr const char* time_name = "time";
constexpr const char* events_name = "events";
constexpr std::size_t iso_date_length = 10;
constexpr hsize_t time_chunk = 256;


void require_valid_name(const fs::path& path, const std::string& what, const std::string& name) {
  if (name.empty() || name == "." || name.find('/') != std::string::npos)
    throw RecorderError(path.string() + ": invalid " + what + " name " + in_quotes(name, '\'') +
                        " (must be non-empty and contain no '/')");
}

bool is_iso_date(const std::string& text) {
  if (text.size() != iso_date_length) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash_expected = i == 4 || i == 7;
    if (dash_expected ? text[i] != '-' : (text[i] < '0' || text[i] > '9')) return false;
  }
  return true;
}

void refuse_unwanted_existing(const fs::path& path, bool overwrite) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (!fs::exists(status)) return;
  if (fs::is_directory(status)) throw RecorderError(path.string() + ": is a directory, not an output file");
  if (!overwrite) throw RecorderError(path.string() + ": output file exists; pass --force to overwrite");
}

// The recorder's own attributes may not be overwritten: readers rely on them.
const std::string& user_attribute(const fs::path& path, const std::string& name) {
  require_valid_name(path, "attribute", name);
  if (name == format_attribute || name == records_attribute || name == complete_attribute)
    throw RecorderError(path.string() + ": attribute " + in_quotes(name, '\'') + " is maintained by the recorder");
  return name;
}

// A moved-from Recorder has no state; using one is a programming error worth a clear message.
template <class ImplPointer>
auto& live(const ImplPointer& impl) {
  if (!impl) throw RecorderError("contactsim::Recorder used after being moved from");
  return *impl;
}

using Record = std::variant<std::vector<float>, std::vector<std::int64_t>>;

h5::Datatype memory_type_of(const Record& record) {
  return std::holds_alternative<std::vector<float>>(record) ? h5::Datatype::native_float()
                                                            : h5::Datatype::native_int64();
}

struct Dimension {
  h5::Dataset scale;
  std::size_t length;
};

struct Series {
  std::string name;
  std::size_t record_size;
  h5::Dataset dataset;
  Record pending;  // its alternative is the series' type
  bool written = false;
};

// A group of define_arrays(): its growing arrays in definition order, with their layout.
struct ArrayGroup {
  std::string name;
  h5::Group group;
  h5::Dataset date;
  std::vector<h5::Dataset> arrays;
  std::vector<ArrayColumn> layout;  // name, type (empty values) and width of each growing array
  std::size_t rows = 0;
};

}  // namespace

struct Recorder::Impl {
  Impl(fs::path file_path, h5::File created);

  Series& series_by_id(int id);
  template <class T>
  void buffer(int id, std::span<const T> values);
  void require_all_written(const std::string& iso_date) const;
  void append_record(Date day);
  void require_usable() const {
    if (failed)
      throw RecorderError(path.string() + ": an earlier write failed; the file holds the records before it");
  }

  fs::path path;
  h5::Datatype date_type = h5::Datatype::fixed_ascii_string(iso_date_length);
  h5::File file;
  h5::Group series_group;
  h5::Dataset time;  // declared after series_group: built from it
  std::map<std::string, Dimension> dimensions;
  std::vector<Series> series;
  std::vector<ArrayGroup> array_groups;  // define_arrays()
  std::int64_t records = 0;
  bool failed = false;  // an HDF5 write failed mid-record; appending more would misalign series
  bool appending = false;  // in SWMR mode since the first record (start_appending)
  void start_appending();
  std::vector<TableColumn> pending_events;  // columns of /events rows not yet written
  void append_events();
};

namespace {

// CF conventions (days since the epoch, with units and calendar), so netCDF readers —
// xarray with h5netcdf, ncdump, R's ncdf4 — decode /series/time as dates without help.
h5::Dataset create_time_scale(h5::Group& series_group) {
  h5::Dataset time = series_group.create_dataset(
      time_name, h5::Datatype::native_int64(),
      {.dims = {0}, .max_dims = {H5S_UNLIMITED}, .chunk = {time_chunk}, .compress = false});
  time.make_scale(time_name);
  time.set_attribute("units", std::string(cf_time_units));
  time.set_attribute("calendar", std::string("proleptic_gregorian"));
  time.set_attribute("standard_name", std::string("time"));
  time.set_attribute("long_name", std::string("last day of the recording period"));
  return time;
}

}  // namespace

Recorder::Impl::Impl(fs::path file_path, h5::File created)
    : path(std::move(file_path)),
      file(std::move(created)),
      series_group(file.create_group(series_group_name)),
      time(create_time_scale(series_group)) {
  file.set_attribute(format_attribute, std::string(format_name));
  file.set_attribute(records_attribute, std::int64_t{0});
  file.set_attribute(complete_attribute, std::int64_t{0});
  file.flush();
}

Series& Recorder::Impl::series_by_id(int id) {
  if (id < 0 || static_cast<std::size_t>(id) >= series.size())
    throw RecorderError(path.string() + ": no series with id " + std::to_string(id));
  return series[static_cast<std::size_t>(id)];
}

template <class T>
void Recorder::Impl::buffer(int id, std::span<const T> values) {
  require_usable();
  Series& target = series_by_id(id);
  auto* pending = std::get_if<std::vector<T>>(&target.pending);
  if (pending == nullptr)
    throw RecorderError(path.string() + ": series " + in_quotes(target.name, '\'') + " holds " +
                        (std::is_same_v<T, float> ? "int64" : "float32") + " values, not " +
                        (std::is_same_v<T, float> ? "float32" : "int64"));
  if (values.size() != target.record_size)
    throw RecorderError(path.string() + ": series " + in_quotes(target.name, '\'') + " expects " +
                        std::to_string(target.record_size) + " values per record, got " +
                        std::to_string(values.size()));
  if (target.written)
    throw RecorderError(path.string() + ": series " + in_quotes(target.name, '\'') +
                        " written twice in one record");
  pending->assign(values.begin(), values.end());
  target.written = true;
}

void Recorder::Impl::require_all_written(const std::string& iso_date) const {
  std::vector<std::string> missing;
  for (const Series& s : series)
    if (!s.written) missing.push_back(s.name);
  if (!missing.empty())
    throw RecorderError(path.string() + ": record " + iso_date + " is missing a write() for series " +
                        joined(missing, ", "));
}

// The structure is complete at the first record: /events is created now (empty if the run has
// none yet) and the file switched to SWMR writing, under which nothing more is created.
void Recorder::Impl::start_appending() {
  if (!file.has_link(events_name)) {
    const h5::Datatype text = h5::Datatype::vlen_utf8_string(), integer = h5::Datatype::native_int64();
    const h5::CompoundLayout layout = h5::make_compound(
        {{"date", &text}, {"kind", &text}, {"subject", &text}, {"detail", &text}, {"venues_affected", &integer}});
    file.create_dataset(events_name, layout.type,
                        {.dims = {0}, .max_dims = {H5S_UNLIMITED}, .chunk = {64}, .compress = false});
  }
  file.start_swmr_writing();
  appending = true;
}

void Recorder::Impl::append_record(Date day) {
  if (!appending) start_appending();
  // Order matters for crash safety: series first, the date last, so /series/time never
  // announces a record that is not fully written. HDF5 writes dirty metadata in no particular
  // order when flushing, so the series are flushed on their own before the date is added.
  for (Series& s : series)
    std::visit([&](const auto& values) { s.dataset.append(memory_type_of(s.pending), values.data()); },
               s.pending);
  append_events();
  file.flush();
  const std::int64_t days = day.days_since_epoch();
  time.append(h5::Datatype::native_int64(), &days);
  file.set_attribute(records_attribute, records + 1);
  file.flush();
}

Recorder::Recorder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Recorder::Recorder(Recorder&&) noexcept = default;
Recorder& Recorder::operator=(Recorder&&) noexcept = default;
Recorder::~Recorder() = default;

Recorder Recorder::create(const fs::path& path, bool overwrite) {
  refuse_unwanted_existing(path, overwrite);
  create_parent_folders(path);
  return Recorder(std::make_unique<Impl>(path, h5::File::create(path, overwrite, h5::FileFormat::appendable)));
}

void Recorder::set_attribute(const std::string& name, const std::string& value) {
  Impl& impl = live(impl_);
  impl.file.set_attribute(user_attribute(impl.path, name), value);
}

void Recorder::set_attribute(const std::string& name, std::int64_t value) {
  Impl& impl = live(impl_);
  impl.file.set_attribute(user_attribute(impl.path, name), value);
}

void Recorder::set_attribute(const std::string& name, double value) {
  Impl& impl = live(impl_);
  impl.file.set_attribute(user_attribute(impl.path, name), value);
}

namespace {

std::size_t column_length(const TableColumn& column) {
  return std::visit([](const auto& values) { return values.size(); }, column.values);
}

h5::Datatype memory_type_of(const TableColumn& column) {
  switch (column.values.index()) {
    case 0:
      return h5::Datatype::vlen_utf8_string();
    case 1:
      return h5::Datatype::native_int64();
    default:
      return h5::Datatype::native_double();
  }
}

void require_rectangular(const fs::path& path, const std::string& table,
                         const std::vector<TableColumn>& columns) {
  if (columns.empty()) throw RecorderError(path.string() + ": table " + in_quotes(table, '\'') + " has no columns");
  for (std::size_t i = 0; i < columns.size(); ++i) {
    require_valid_name(path, "column", columns[i].name);
    for (std::size_t j = 0; j < i; ++j)
      if (columns[j].name == columns[i].name)
        throw RecorderError(path.string() + ": table " + in_quotes(table, '\'') + " has two columns named " +
                            in_quotes(columns[i].name, '\''));
    if (column_length(columns[i]) != column_length(columns[0]))
      throw RecorderError(path.string() + ": table " + in_quotes(table, '\'') + ": column " +
                          in_quotes(columns[i].name, '\'') + " has " + std::to_string(column_length(columns[i])) +
                          " rows but " + in_quotes(columns[0].name, '\'') + " has " +
                          std::to_string(column_length(columns[0])));
  }
}

// Lays the columns out row by row as the compound type expects. String fields hold pointers
// into `columns`, which must outlive the buffer's use.
std::vector<std::byte> pack_rows(const std::vector<TableColumn>& columns, const h5::CompoundLayout& layout) {
  const std::size_t rows = column_length(columns.front());
  std::vector<std::byte> packed(rows * layout.row_size);
  for (std::size_t c = 0; c < columns.size(); ++c) {
    std::visit(
        [&](const auto& values) {
          for (std::size_t r = 0; r < rows; ++r) {
            std::byte* field = packed.data() + r * layout.row_size + layout.offsets[c];
            if constexpr (std::is_same_v<std::decay_t<decltype(values)>, std::vector<std::string>>) {
              const char* text = values[r].c_str();
              std::memcpy(field, &text, sizeof text);
            } else {
              std::memcpy(field, &values[r], sizeof values[r]);
            }
          }
        },
        columns[c].values);
  }
  return packed;
}

}  // namespace

void Recorder::Impl::append_events() {
  if (pending_events.empty() || column_length(pending_events.front()) == 0) return;
  std::vector<h5::Datatype> field_types;
  field_types.reserve(pending_events.size());
  std::vector<std::pair<std::string, const h5::Datatype*>> fields;
  for (const TableColumn& column : pending_events) {
    field_types.push_back(memory_type_of(column));
    fields.emplace_back(column.name, &field_types.back());
  }
  const h5::CompoundLayout layout = h5::make_compound(fields);
  if (!file.has_link(events_name))
    file.create_dataset(events_name, layout.type,
                        {.dims = {0}, .max_dims = {H5S_UNLIMITED}, .chunk = {64}, .compress = false});
  h5::Dataset events = file.open_dataset(events_name);
  const std::vector<std::byte> rows = pack_rows(pending_events, layout);
  for (std::size_t r = 0; r < column_length(pending_events.front()); ++r)
    events.append(layout.type, rows.data() + r * layout.row_size);
  for (TableColumn& column : pending_events)
    std::visit([](auto& values) { values.clear(); }, column.values);
}

void Recorder::log_event(const std::string& iso_date, const std::string& kind, const std::string& subject,
                         const std::string& detail, std::int64_t venues_affected) {
  Impl& impl = live(impl_);
  if (!is_iso_date(iso_date))
    throw RecorderError(impl.path.string() + ": event date " + in_quotes(iso_date, '\'') + " is not YYYY-MM-DD");
  auto& columns = impl.pending_events;
  if (columns.empty())
    columns = {{"date", std::vector<std::string>{}}, {"kind", std::vector<std::string>{}},
               {"subject", std::vector<std::string>{}}, {"detail", std::vector<std::string>{}},
               {"venues_affected", std::vector<std::int64_t>{}}};
  std::get<std::vector<std::string>>(columns[0].values).push_back(iso_date);
  std::get<std::vector<std::string>>(columns[1].values).push_back(kind);
  std::get<std::vector<std::string>>(columns[2].values).push_back(subject);
  std::get<std::vector<std::string>>(columns[3].values).push_back(detail);
  std::get<std::vector<std::int64_t>>(columns[4].values).push_back(venues_affected);
}

std::string creation_time_utc() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && *epoch) {
    char* end = nullptr;
    const long long seconds = std::strtoll(epoch, &end, 10);
    if (*end == '\0' && seconds >= 0) now = static_cast<std::time_t>(seconds);
  }
  char buf[32];
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void Recorder::mark_complete() {
  Impl& impl = live(impl_);
  impl.file.set_attribute(complete_attribute, std::int64_t{1});
  impl.file.flush();
}

void Recorder::write_table(const std::string& name, const std::vector<TableColumn>& columns) {
  const fs::path& path = live(impl_).path;
  require_valid_name(path, "table", name);
  if (impl_->file.has_link(name))
    throw RecorderError(path.string() + ": " + in_quotes(name, '\'') + " already exists in the file");
  h5::write_table(impl_->file, name, columns);
}

void h5::write_table(h5::Group& where, const std::string& name, const std::vector<TableColumn>& columns) {
  const fs::path path = where.file_name();
  require_rectangular(path, name, columns);

  std::vector<h5::Datatype> field_types;
  field_types.reserve(columns.size());
  std::vector<std::pair<std::string, const h5::Datatype*>> fields;
  for (const TableColumn& column : columns) {
    field_types.push_back(memory_type_of(column));
    fields.emplace_back(column.name, &field_types.back());
  }
  const h5::CompoundLayout layout = h5::make_compound(fields);
  const std::vector<std::byte> rows = pack_rows(columns, layout);
  h5::Dataset table = where.create_dataset(
      name, layout.type,
      {.dims = {column_length(columns.front())}, .max_dims = {}, .chunk = {}, .compress = false});
  table.write_all(layout.type, rows.data());
}

void Recorder::define_dimension(const std::string& name, const std::vector<std::string>& labels) {
  const fs::path& path = live(impl_).path;
  require_valid_name(path, "dimension", name);
  if (impl_->series_group.has_link(name))
    throw RecorderError(path.string() + ": " + in_quotes(name, '\'') + " already exists in /series");
  if (labels.empty())
    throw RecorderError(path.string() + ": dimension " + in_quotes(name, '\'') + " has no labels");

  const h5::Datatype string_type = h5::Datatype::vlen_utf8_string();
  h5::Dataset scale = impl_->series_group.create_dataset(
      name, string_type, {.dims = {labels.size()}, .max_dims = {}, .chunk = {}, .compress = false});
  std::vector<const char*> texts;
  texts.reserve(labels.size());
  for (const std::string& label : labels) texts.push_back(label.c_str());
  scale.write_all(string_type, texts.data());
  scale.make_scale(name);
  impl_->dimensions.emplace(name, Dimension{std::move(scale), labels.size()});
}

namespace {

// One record per chunk, for small records too. A chunk holding several records is compressed
// anew, and moved, at every record; under SWMR the space it leaves is never reused (readers may
// still be reading it), so files grew to 4-5 times their data (default city, 4 years: 14 MB of
// which 3 MB data). A chunk per record is written once and never touched again, which also
// keeps a kill from touching earlier records' bytes; the price is ~20% weaker compression of
// small records (the same city at 10%, two years: 1.7 MB instead of 5.9 MB).
h5::DatasetLayout series_layout(const std::vector<hsize_t>& record_shape) {
  h5::DatasetLayout layout{.dims = {0}, .max_dims = {H5S_UNLIMITED}, .chunk = {1}, .compress = true};
  for (const hsize_t length : record_shape) {
    layout.dims.push_back(length);
    layout.max_dims.push_back(length);
    layout.chunk.push_back(length);
  }
  return layout;
}

}  // namespace

int Recorder::define_series(const std::string& name, const std::vector<std::string>& dims, SeriesType type,
                            const std::string& description, const std::string& units) {
  Impl& impl = live(impl_);
  const std::string file = impl.path.string();
  require_valid_name(impl.path, "series", name);
  if (impl.records > 0)
    throw RecorderError(file + ": series " + in_quotes(name, '\'') + " defined after the first record");
  if (impl.series_group.has_link(name))
    throw RecorderError(file + ": " + in_quotes(name, '\'') + " already exists in /series");

  std::vector<hsize_t> record_shape;
  std::size_t record_size = 1;
  for (const std::string& dim : dims) {
    const auto found = impl.dimensions.find(dim);
    if (found == impl.dimensions.end())
      throw RecorderError(file + ": series " + in_quotes(name, '\'') + " uses undefined dimension " +
                          in_quotes(dim, '\''));
    record_shape.push_back(found->second.length);
    record_size *= found->second.length;
  }

  const h5::Datatype stored = type == SeriesType::float32 ? h5::Datatype::copy_of(H5T_IEEE_F32LE)
                                                          : h5::Datatype::copy_of(H5T_STD_I64LE);
  h5::Dataset dataset =
      impl.series_group.create_dataset(name, stored, series_layout(record_shape));
  dataset.set_attribute("description", description);
  dataset.set_attribute("units", units);
  std::vector<std::string> axis_names{time_name};
  axis_names.insert(axis_names.end(), dims.begin(), dims.end());
  dataset.set_attribute("dimensions", joined(axis_names, ","));
  for (unsigned axis = 0; axis < axis_names.size(); ++axis) {
    const h5::Dataset& scale = axis == 0 ? impl.time : impl.dimensions.at(axis_names[axis]).scale;
    dataset.attach_scale(scale, axis);
    dataset.set_axis_label(axis, axis_names[axis]);
  }

  Record pending;
  if (type == SeriesType::int64) pending = std::vector<std::int64_t>{};
  impl.series.push_back(Series{name, record_size, std::move(dataset), std::move(pending)});
  return static_cast<int>(impl.series.size() - 1);
}

std::size_t Recorder::record_size(int id) const { return live(impl_).series_by_id(id).record_size; }

void Recorder::write(int id, std::span<const float> values) { live(impl_).buffer(id, values); }

void Recorder::write(int id, std::span<const std::int64_t> values) { live(impl_).buffer(id, values); }

void Recorder::end_record(const std::string& iso_date) {
  Impl& impl = live(impl_);
  impl.require_usable();
  const std::optional<Date> day = Date::parse_iso(iso_date);  // strict YYYY-MM-DD, a real date
  if (!day)
    throw RecorderError(impl.path.string() + ": record date " + in_quotes(iso_date, '\'') + " is not a YYYY-MM-DD date");
  impl.require_all_written(iso_date);
  try {
    impl.append_record(*day);
  } catch (...) {
    impl.failed = true;
    throw;
  }
  ++impl.records;
  for (Series& s : impl.series) s.written = false;
}

std::int64_t Recorder::records() const { return live(impl_).records; }

bool Recorder::failed() const { return live(impl_).failed; }

const fs::path& Recorder::path() const { return live(impl_).path; }

namespace {

// Stored little-endian whatever the machine, as the series are, so outputs compare byte for byte.
template <class T>
std::pair<h5::Datatype, h5::Datatype> stored_and_memory_types() {
  if constexpr (std::is_same_v<T, std::uint8_t>) {
    return {h5::Datatype::copy_of(H5T_STD_U8LE), h5::Datatype::copy_of(H5T_NATIVE_UINT8)};
  } else if constexpr (std::is_same_v<T, std::uint16_t>) {
    return {h5::Datatype::copy_of(H5T_STD_U16LE), h5::Datatype::copy_of(H5T_NATIVE_UINT16)};
  } else if constexpr (std::is_same_v<T, std::uint32_t>) {
    return {h5::Datatype::copy_of(H5T_STD_U32LE), h5::Datatype::copy_of(H5T_NATIVE_UINT32)};
  } else {
    static_assert(std::is_same_v<T, float>, "ArrayColumn holds uint8, uint16, uint32 or float");
    return {h5::Datatype::copy_of(H5T_IEEE_F32LE), h5::Datatype::native_float()};
  }
}

// Rows of one block per chunk at most: a panel of a whole city is split into several chunks.
constexpr hsize_t array_chunk_rows = 65536;

std::size_t values_in(const ArrayColumn& column) {
  return std::visit([](const auto& values) { return values.size(); }, column.values);
}

h5::Dataset create_array(h5::Group& group, const ArrayColumn& column, std::size_t rows, bool growing) {
  return std::visit(
      [&](const auto& values) {
        using T = typename std::decay_t<decltype(values)>::value_type;
        const auto types = stored_and_memory_types<T>();
        h5::DatasetLayout layout{.dims = {rows}, .max_dims = {rows}, .chunk = {}, .compress = false};
        if (column.width > 1) layout.dims.push_back(column.width), layout.max_dims.push_back(column.width);
        if (growing) {
          layout.chunk = layout.dims;
          layout.chunk.front() = std::max<hsize_t>(1, std::min<hsize_t>(rows, array_chunk_rows));
          if (rows == 0) layout.max_dims.front() = H5S_UNLIMITED;  // chunks may not exceed a fixed 0
          layout.dims.insert(layout.dims.begin(), 0);
          layout.max_dims.insert(layout.max_dims.begin(), H5S_UNLIMITED);
          layout.chunk.insert(layout.chunk.begin(), 1);
          layout.compress = true;
        }
        h5::Dataset dataset = group.create_dataset(column.name, types.first, layout);
        if (!growing && !values.empty()) dataset.write_all(types.second, values.data());
        if (!column.description.empty()) dataset.set_attribute("description", column.description);
        return dataset;
      },
      column.values);
}

}  // namespace

int Recorder::define_arrays(const std::string& group_name, std::size_t rows, const std::vector<ArrayColumn>& fixed,
                            const std::vector<ArrayColumn>& growing,
                            const std::vector<std::pair<std::string, AttributeScalar>>& attributes) {
  Impl& impl = live(impl_);
  const std::string file = impl.path.string();
  require_valid_name(impl.path, "group", group_name);
  if (impl.records > 0)
    throw RecorderError(file + ": arrays " + in_quotes(group_name, '\'') + " defined after the first record");
  if (impl.file.has_link(group_name)) throw RecorderError(file + ": " + in_quotes(group_name, '\'') + " already exists");
  for (const auto* columns : {&fixed, &growing})
    for (const ArrayColumn& column : *columns) {
      require_valid_name(impl.path, "array", column.name);
      if (column.name == "date" || column.width == 0)
        throw RecorderError(file + ": array " + in_quotes(column.name, '\'') + " of " + in_quotes(group_name, '\'') +
                            " needs a name other than 'date' and a width of at least 1");
    }
  for (const ArrayColumn& column : fixed)
    if (values_in(column) != rows * column.width)
      throw RecorderError(file + ": array " + in_quotes(column.name, '\'') + " has " + std::to_string(values_in(column)) +
                          " values, expected " + std::to_string(rows) + " rows × " + std::to_string(column.width));
  h5::Group group = impl.file.create_group(group_name);
  h5::Dataset date = group.create_dataset(
      "date", impl.date_type, {.dims = {0}, .max_dims = {H5S_UNLIMITED}, .chunk = {time_chunk}, .compress = false});
  ArrayGroup defined{group_name, std::move(group), std::move(date), {}, {}, rows};
  for (const ArrayColumn& column : fixed) create_array(defined.group, column, rows, false);
  for (const ArrayColumn& column : growing) {
    defined.arrays.push_back(create_array(defined.group, column, rows, true));
    defined.layout.push_back({column.name, {}, column.width, {}});
    std::visit([&](const auto& values) { defined.layout.back().values = std::decay_t<decltype(values)>{}; },
               column.values);
  }
  // Not a structured binding: clang before 16 cannot capture one in a lambda.
  for (const auto& attribute : attributes)
    std::visit([&](const auto& v) { defined.group.set_attribute(attribute.first, v); }, attribute.second);
  impl.array_groups.push_back(std::move(defined));
  return static_cast<int>(impl.array_groups.size() - 1);
}

void Recorder::append_arrays(int id, const std::string& iso_date, const std::vector<ArrayColumn>& columns) {
  Impl& impl = live(impl_);
  impl.require_usable();
  const std::string file = impl.path.string();
  if (id < 0 || static_cast<std::size_t>(id) >= impl.array_groups.size())
    throw RecorderError(file + ": no arrays with id " + std::to_string(id));
  ArrayGroup& target = impl.array_groups[static_cast<std::size_t>(id)];
  if (!is_iso_date(iso_date))
    throw RecorderError(file + ": block date " + in_quotes(iso_date, '\'') + " is not YYYY-MM-DD");
  if (columns.size() != target.layout.size())
    throw RecorderError(file + ": " + in_quotes(target.name, '\'') + " takes " + std::to_string(target.layout.size()) +
                        " arrays per block, got " + std::to_string(columns.size()));
  for (std::size_t c = 0; c < columns.size(); ++c) {
    const ArrayColumn& expected = target.layout[c];
    if (columns[c].name != expected.name || columns[c].values.index() != expected.values.index() ||
        values_in(columns[c]) != target.rows * expected.width)
      throw RecorderError(file + ": block " + iso_date + " of " + in_quotes(target.name, '\'') + ": array " +
                          in_quotes(columns[c].name, '\'') + " does not match its definition " + in_quotes(expected.name, '\'') +
                          " (type, or " + std::to_string(target.rows) + " rows × " + std::to_string(expected.width) + ")");
  }
  // As for records: the arrays first, the date last, so /<group>/date never announces a torn block.
  try {
    for (std::size_t c = 0; c < columns.size(); ++c)
      std::visit(
          [&](const auto& values) {
            using T = typename std::decay_t<decltype(values)>::value_type;
            target.arrays[c].append(stored_and_memory_types<T>().second, values.data());
          },
          columns[c].values);
    impl.file.flush();
    target.date.append(impl.date_type, iso_date.data());
    impl.file.flush();
  } catch (...) {
    impl.failed = true;
    throw;
  }
}

// ---------------------------------------------------------------------------------------------
// describe_output

namespace {

constexpr std::size_t long_attribute = 200;
constexpr std::size_t label_preview_width = 60;

// Terminal columns taken by UTF-8 text (one per code point; enough for names and "×").
std::size_t display_width(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string pad_right(const std::string& text, std::size_t width) {
  const std::size_t shown = display_width(text);
  return text + std::string(width > shown ? width - shown : 0, ' ');
}

std::string pad_left(const std::string& text, std::size_t width) {
  const std::size_t shown = display_width(text);
  return std::string(width > shown ? width - shown : 0, ' ') + text;
}

using Row = std::vector<std::string>;

// Rows as aligned columns, indented by two spaces; columns flagged in `right_aligned` hug the right.
std::string aligned(const std::vector<Row>& rows, const std::vector<bool>& right_aligned = {}) {
  std::vector<std::size_t> widths;
  for (const Row& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (widths.size() <= c) widths.push_back(0);
      widths[c] = std::max(widths[c], display_width(row[c]));
    }
  std::string out;
  for (const Row& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      const bool right = c < right_aligned.size() && right_aligned[c];
      const bool last = c + 1 == row.size();
      line += "  " + (right ? pad_left(row[c], widths[c]) : last ? row[c] : pad_right(row[c], widths[c]));
    }
    out += line + "\n";
  }
  return out;
}

std::string shortest(double value) {
  std::array<char, 32> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return std::string(buffer.data(), result.ptr);
}

std::string abbreviated(const std::string& text) {
  if (text.size() <= long_attribute && text.find('\n') == std::string::npos) return text;
  std::size_t lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  if (!text.empty() && text.back() != '\n') ++lines;
  return "<" + std::to_string(lines) + (lines == 1 ? " line, " : " lines, ") + std::to_string(text.size()) +
         " bytes>";
}

std::string shown_value(const h5::AttributeValue& value) {
  if (const auto* text = std::get_if<std::string>(&value)) return abbreviated(*text);
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return std::to_string(*integer);
  if (const auto* real = std::get_if<double>(&value)) return shortest(*real);
  return "<not a scalar string or number>";
}

std::string shape_text(const std::vector<hsize_t>& shape) {
  std::vector<std::string> parts;
  for (const hsize_t n : shape) parts.push_back(std::to_string(n));
  return "(" + joined(parts, " × ") + ")";
}

std::string section(const std::string& title, const std::string& body) {
  return "\n" + title + "\n" + (body.empty() ? "   (none)\n" : body);
}

void require_contactsim_format(const h5::File& file) {
  if (!file.has_attribute(format_attribute))
    throw RecorderError(file.file_name() + ": not a contactsim output file (no 'format' attribute)");
  const std::string format = file.string_attribute(format_attribute);
  if (format.rfind("contactsim-output-", 0) != 0)
    throw RecorderError(file.file_name() + ": not a contactsim output file (format " + in_quotes(format, '\'') +
                        ")");
}

std::string describe_attributes(const h5::File& file) {
  std::vector<Row> rows;
  for (const std::string& name : file.attribute_names())
    rows.push_back({name, shown_value(file.attribute(name))});
  return aligned(rows);
}

std::string row_count(hsize_t rows, std::size_t digits) {
  return pad_left(std::to_string(rows), digits) + (rows == 1 ? " row" : " rows");
}

std::string describe_tables(const h5::File& file) {
  std::vector<std::pair<std::string, h5::Dataset>> tables;
  for (const std::string& name : file.link_names())
    if (name != series_group_name && file.kind_of(name) == h5::ObjectKind::dataset)
      tables.emplace_back(name, file.open_dataset(name));
  std::size_t digits = 1;
  for (const auto& [name, table] : tables)
    if (const std::vector<hsize_t> shape = table.shape(); shape.size() == 1)
      digits = std::max(digits, std::to_string(shape[0]).size());
  std::vector<Row> rows;
  for (const auto& [name, table] : tables) {
    const std::vector<hsize_t> shape = table.shape();
    const std::string size = shape.size() == 1 ? row_count(shape[0], digits) : shape_text(shape);
    rows.push_back({name, size, joined(table.compound_field_names(), ", ")});
  }
  return aligned(rows);
}

std::string describe_other_groups(const h5::File& file) {
  std::vector<Row> rows;
  for (const std::string& name : file.link_names())
    if (name != series_group_name && file.kind_of(name) == h5::ObjectKind::group)
      rows.push_back({"/" + name, std::to_string(file.open_group(name).link_names().size()) + " members"});
  return aligned(rows);
}

std::string label_preview(const h5::Dataset& scale, hsize_t length) {
  std::string preview;
  for (const std::string& label : scale.read_strings(0, std::min<hsize_t>(length, 16))) {
    const std::string next = preview.empty() ? label : preview + ", " + label;
    if (display_width(next) > label_preview_width) return preview + ", …";
    preview = next;
  }
  return length > 16 ? preview + ", …" : preview;
}

}  // namespace

std::vector<std::string> read_record_dates(const h5::Dataset& time, std::uint64_t first, std::uint64_t count) {
  if (time.stored_type().type_class() == H5T_STRING) return time.read_strings(first, count);  // contactsim-output-1
  std::vector<std::int64_t> days(static_cast<std::size_t>(count));
  time.read_slab(h5::Datatype::native_int64(), first, count, days.data());
  std::vector<std::string> dates;
  dates.reserve(days.size());
  for (const std::int64_t day : days) dates.push_back(Date::from_days(static_cast<std::int32_t>(day)).iso());
  return dates;
}

namespace {

struct TimeAxis {
  hsize_t length = 0;
  std::string first, last;
};

TimeAxis read_time_axis(const h5::Group& series) {
  TimeAxis axis;
  if (!series.has_link(time_name)) return axis;
  const h5::Dataset time = series.open_dataset(time_name);
  const std::vector<hsize_t> shape = time.shape();
  if (shape.size() != 1 || shape[0] == 0) return axis;
  axis.length = shape[0];
  axis.first = read_record_dates(time, 0, 1).front();
  axis.last = read_record_dates(time, shape[0] - 1, 1).front();
  return axis;
}

std::string axis_names(const h5::Dataset& series) {
  std::string spaced;
  for (const char c : series.string_attribute("dimensions"))
    spaced += c == ',' ? std::string(", ") : std::string(1, c);
  return spaced;
}

struct SeriesListing {
  std::string dimensions;
  std::string series;
};

SeriesListing describe_series_group(const h5::Group& group, const TimeAxis& time) {
  std::vector<Row> dimension_rows;
  std::vector<Row> series_rows{{"name", "shape", "dimensions", "units"}};
  for (const std::string& name : group.link_names()) {
    if (group.kind_of(name) != h5::ObjectKind::dataset) continue;
    const h5::Dataset dataset = group.open_dataset(name);
    const std::vector<hsize_t> shape = dataset.shape();
    if (dataset.is_scale()) {
      if (name != time_name && shape.size() == 1)
        dimension_rows.push_back({name, std::to_string(shape[0]), label_preview(dataset, shape[0])});
      continue;
    }
    std::string units = dataset.string_attribute("units");
    if (!shape.empty() && shape[0] > time.length)
      units += "  [" + std::to_string(shape[0] - time.length) + " incomplete record(s) past the last date]";
    series_rows.push_back({name, shape_text(shape), axis_names(dataset), units});
  }
  return {aligned(dimension_rows, {false, true}), series_rows.size() > 1 ? aligned(series_rows) : ""};
}

}  // namespace

std::string describe_output(const fs::path& path) {
  std::error_code error;
  if (!fs::exists(path, error)) throw RecorderError(path.string() + ": no such file");
  const h5::File file = h5::File::open_read_only(path);
  require_contactsim_format(file);

  std::ostringstream out;
  out << "contactsim output " << path.string() << "\n";
  out << section("Attributes", describe_attributes(file));
  out << section("Tables", describe_tables(file));
  if (const std::string groups = describe_other_groups(file); !groups.empty())
    out << section("Groups", groups);

  if (!file.has_link(series_group_name)) return out.str() + section("Series", "");
  const h5::Group series = file.open_group(series_group_name);
  const TimeAxis time = read_time_axis(series);
  const SeriesListing listing = describe_series_group(series, time);
  out << section("Dimensions", listing.dimensions);
  std::string heading =
      "Series: " + std::to_string(time.length) + (time.length == 1 ? " record" : " records");
  if (time.length > 0) heading += ", " + time.first + " to " + time.last;
  out << section(heading, listing.series);
  return out.str();
}

}  // namespace contactsim
