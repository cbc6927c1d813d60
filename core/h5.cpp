#include "core/h5.hpp"

#include "core/text.hpp"

#include <hdf5_hl.h>  // dimension scales

#include <algorithm>

namespace contactsim::h5 {
namespace {

constexpr unsigned deflate_level = 4;


Handle make_plist(const std::string& file, hid_t plist_class, std::string_view purpose) {
  return Handle(checked(file, std::string("create ") + std::string(purpose) + " property list",
                        [&] { return H5Pcreate(plist_class); }),
                H5Pclose);
}

Handle scalar_space(const std::string& file) {
  return Handle(checked(file, "create scalar dataspace", [] { return H5Screate(H5S_SCALAR); }), H5Sclose);
}

Handle simple_space(const std::string& file, const std::vector<hsize_t>& dims,
                    const std::vector<hsize_t>& max_dims) {
  return Handle(checked(file, "create dataspace",
                        [&] {
                          return H5Screate_simple(static_cast<int>(dims.size()), dims.data(),
                                                  max_dims.empty() ? nullptr : max_dims.data());
                        }),
                H5Sclose);
}

std::vector<hsize_t> extent_of(const std::string& file, const Handle& space) {
  const int rank =
      checked(file, "query dataspace rank", [&] { return H5Sget_simple_extent_ndims(space.id()); });
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  checked(file, "query dataspace extent",
          [&] { return H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr); });
  return dims;
}

hsize_t element_count(const std::vector<hsize_t>& dims) {
  hsize_t count = 1;
  for (const hsize_t d : dims) count *= d;
  return count;
}

// Copies a NUL-terminated or NUL-padded fixed-length string out of a raw buffer.
std::string from_fixed(const char* text, std::size_t capacity) {
  return std::string(text, std::find(text, text + capacity, '\0'));
}

std::string read_string_attribute(const std::string& file, const Handle& attribute, const Datatype& stored) {
  if (stored.is_variable_string()) {
    char* text = nullptr;
    checked(file, "read string attribute", [&] { return H5Aread(attribute.id(), stored.id(), &text); });
    std::string value = text != nullptr ? text : "";
    H5free_memory(text);
    return value;
  }
  std::vector<char> buffer(stored.size());
  checked(file, "read string attribute", [&] { return H5Aread(attribute.id(), stored.id(), buffer.data()); });
  return from_fixed(buffer.data(), buffer.size());
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// errors and handles

QuietErrors::QuietErrors() noexcept {
  H5Eget_auto2(H5E_DEFAULT, &previous_handler_, &previous_data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

QuietErrors::~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, previous_handler_, previous_data_); }

namespace {

// HDF5's low-level I/O messages embed the operating system's explanation as
// "..., errno = 28, error message = 'No space left on device', ..." among buffer addresses and
// offsets; the explanation alone is what a user can act on.
std::string operating_system_reason(const std::string& message) {
  const std::string marker = "error message = '";
  const std::size_t start = message.find(marker);
  if (start == std::string::npos) return message;
  const std::size_t first = start + marker.size();
  const std::size_t end = message.find('\'', first);
  return end == std::string::npos ? message : message.substr(first, end - first);
}

}  // namespace

std::string innermost_error_message() {
  std::string message;
  // Walking upward visits the innermost frame first; it names the actual cause (e.g. errno).
  const auto keep_first = [](unsigned position, const H5E_error2_t* error, void* out) -> herr_t {
    if (position == 0 && error->desc != nullptr) *static_cast<std::string*>(out) = error->desc;
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_first, &message);
  return operating_system_reason(message);
}

void Handle::reset() noexcept {
  if (valid()) {
    const QuietErrors quiet;
    closer_(id_);
  }
  id_ = H5I_INVALID_HID;
  closer_ = nullptr;
}

// ---------------------------------------------------------------------------------------------
// datatypes (failures here mean HDF5 itself is broken, so no file name is available or needed)

Datatype Datatype::copy_of(hid_t predefined) {
  return adopt(checked("HDF5", "copy datatype", [&] { return H5Tcopy(predefined); }));
}

Datatype Datatype::vlen_utf8_string() {
  Datatype type = copy_of(H5T_C_S1);
  checked("HDF5", "make string type variable-length", [&] { return H5Tset_size(type.id(), H5T_VARIABLE); });
  checked("HDF5", "set string type to UTF-8", [&] { return H5Tset_cset(type.id(), H5T_CSET_UTF8); });
  return type;
}

Datatype Datatype::fixed_ascii_string(std::size_t length) {
  Datatype type = copy_of(H5T_C_S1);
  checked("HDF5", "set string length", [&] { return H5Tset_size(type.id(), length); });
  // NUL-padded without a terminator: numpy's 'S<length>', so every byte holds text.
  checked("HDF5", "set string padding", [&] { return H5Tset_strpad(type.id(), H5T_STR_NULLPAD); });
  return type;
}

std::size_t Datatype::size() const {
  const std::size_t size = H5Tget_size(id());
  if (size == 0) throw RecorderError("HDF5: cannot query datatype size");
  return size;
}

H5T_class_t Datatype::type_class() const {
  return checked("HDF5", "query datatype class", [&] { return H5Tget_class(id()); });
}

bool Datatype::is_variable_string() const {
  return type_class() == H5T_STRING &&
         checked("HDF5", "query string type", [&] { return H5Tis_variable_str(id()); }) > 0;
}

CompoundLayout make_compound(const std::vector<std::pair<std::string, const Datatype*>>& fields) {
  std::vector<std::size_t> offsets;
  std::size_t offset = 0;
  std::size_t widest = 1;
  for (const auto& field : fields) {
    const std::size_t alignment = std::min<std::size_t>(field.second->size(), alignof(std::max_align_t));
    offset = (offset + alignment - 1) / alignment * alignment;
    offsets.push_back(offset);
    offset += field.second->size();
    widest = std::max(widest, alignment);
  }
  const std::size_t row_size = std::max<std::size_t>(1, (offset + widest - 1) / widest * widest);
  Datatype type = Datatype::adopt(
      checked("HDF5", "create compound type", [&] { return H5Tcreate(H5T_COMPOUND, row_size); }));
  for (std::size_t i = 0; i < fields.size(); ++i)
    checked("HDF5", "add compound field " + in_quotes(fields[i].first, '\''), [&] {
      return H5Tinsert(type.id(), fields[i].first.c_str(), offsets[i], fields[i].second->id());
    });
  return CompoundLayout{std::move(type), std::move(offsets), row_size};
}

// ---------------------------------------------------------------------------------------------
// attributes

Handle Object::attribute_for_writing(const std::string& name, const Datatype& type) {
  const std::string& file = file_name();
  if (has_attribute(name)) {
    Handle existing(checked(file, "open attribute " + in_quotes(name, '\''),
                            [&] { return H5Aopen(id(), name.c_str(), H5P_DEFAULT); }),
                    H5Aclose);
    const Datatype stored =
        Datatype::adopt(checked(file, "query attribute type", [&] { return H5Aget_type(existing.id()); }));
    // Rewriting in place keeps frequently updated attributes (e.g. `records`) from churning
    // the object header.
    if (stored.type_class() == type.type_class() && stored.size() == type.size() &&
        stored.is_variable_string() == type.is_variable_string())
      return existing;
    existing.reset();
    checked(file, "delete attribute " + in_quotes(name, '\''), [&] { return H5Adelete(id(), name.c_str()); });
  }
  const Handle space = scalar_space(file);
  return Handle(
      checked(
          file, "create attribute " + in_quotes(name, '\''),
          [&] { return H5Acreate2(id(), name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT); }),
      H5Aclose);
}

void Object::set_attribute(const std::string& name, const std::string& value) {
  const Datatype type = Datatype::vlen_utf8_string();
  const Handle attribute = attribute_for_writing(name, type);
  const char* text = value.c_str();
  checked(file_name(), "write attribute " + in_quotes(name, '\''),
          [&] { return H5Awrite(attribute.id(), type.id(), &text); });
}

void Object::set_attribute(const std::string& name, std::int64_t value) {
  const Datatype type = Datatype::copy_of(H5T_STD_I64LE);
  const Handle attribute = attribute_for_writing(name, type);
  checked(file_name(), "write attribute " + in_quotes(name, '\''),
          [&] { return H5Awrite(attribute.id(), H5T_NATIVE_INT64, &value); });
}

void Object::set_attribute(const std::string& name, double value) {
  const Datatype type = Datatype::copy_of(H5T_IEEE_F64LE);
  const Handle attribute = attribute_for_writing(name, type);
  checked(file_name(), "write attribute " + in_quotes(name, '\''),
          [&] { return H5Awrite(attribute.id(), H5T_NATIVE_DOUBLE, &value); });
}

bool Object::has_attribute(const std::string& name) const {
  return checked(file_name(), "look up attribute " + in_quotes(name, '\''),
                 [&] { return H5Aexists(id(), name.c_str()); }) > 0;
}

std::vector<std::string> Object::attribute_names() const {
  std::vector<std::string> names;
  const auto collect = [](hid_t, const char* name, const H5A_info_t*, void* out) -> herr_t {
    static_cast<std::vector<std::string>*>(out)->emplace_back(name);
    return 0;
  };
  hsize_t position = 0;
  checked(file_name(), "list attributes",
          [&] { return H5Aiterate2(id(), H5_INDEX_NAME, H5_ITER_INC, &position, collect, &names); });
  return names;
}

AttributeValue Object::attribute(const std::string& name) const {
  const std::string& file = file_name();
  const Handle attribute(checked(file, "open attribute " + in_quotes(name, '\''),
                                 [&] { return H5Aopen(id(), name.c_str(), H5P_DEFAULT); }),
                         H5Aclose);
  const Handle space(checked(file, "query attribute dataspace", [&] { return H5Aget_space(attribute.id()); }),
                     H5Sclose);
  const hssize_t elements =
      checked(file, "query attribute size", [&] { return H5Sget_simple_extent_npoints(space.id()); });
  if (elements != 1) return std::monostate{};
  const Datatype stored =
      Datatype::adopt(checked(file, "query attribute type", [&] { return H5Aget_type(attribute.id()); }));
  switch (stored.type_class()) {
    case H5T_STRING:
      return read_string_attribute(file, attribute, stored);
    case H5T_INTEGER: {
      std::int64_t value = 0;
      checked(file, "read attribute " + in_quotes(name, '\''),
              [&] { return H5Aread(attribute.id(), H5T_NATIVE_INT64, &value); });
      return value;
    }
    case H5T_FLOAT: {
      double value = 0;
      checked(file, "read attribute " + in_quotes(name, '\''),
              [&] { return H5Aread(attribute.id(), H5T_NATIVE_DOUBLE, &value); });
      return value;
    }
    default:
      return std::monostate{};
  }
}

std::optional<std::int64_t> Object::integer_attribute(const std::string& name) const {
  const AttributeValue value = attribute(name);
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return *integer;
  return std::nullopt;
}

std::string Object::string_attribute(const std::string& name) const {
  if (!has_attribute(name)) return {};
  const AttributeValue value = attribute(name);
  const auto* text = std::get_if<std::string>(&value);
  return text != nullptr ? *text : std::string();
}

// ---------------------------------------------------------------------------------------------
// datasets

std::vector<hsize_t> Dataset::shape() const {
  const Handle space(checked(file_name(), "query dataset dataspace", [&] { return H5Dget_space(id()); }),
                     H5Sclose);
  return extent_of(file_name(), space);
}

Datatype Dataset::stored_type() const {
  return Datatype::adopt(checked(file_name(), "query dataset type", [&] { return H5Dget_type(id()); }));
}

void Dataset::write_all(const Datatype& memory_type, const void* data) {
  if (element_count(shape()) == 0) return;
  checked(file_name(), "write dataset",
          [&] { return H5Dwrite(id(), memory_type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data); });
}

void Dataset::append(const Datatype& memory_type, const void* slab) {
  const std::string& file = file_name();
  std::vector<hsize_t> extent = shape();
  if (extent.empty()) throw RecorderError(file + ": cannot append to a scalar dataset");
  const hsize_t new_index = extent[0];
  extent[0] += 1;
  checked(file, "extend dataset", [&] { return H5Dset_extent(id(), extent.data()); });

  std::vector<hsize_t> start(extent.size(), 0);
  start[0] = new_index;
  std::vector<hsize_t> count = extent;
  count[0] = 1;
  const Handle file_space(checked(file, "query dataset dataspace", [&] { return H5Dget_space(id()); }),
                          H5Sclose);
  checked(file, "select new record", [&] {
    return H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  });
  const Handle memory_space = simple_space(file, count, {});
  checked(file, "write new record", [&] {
    return H5Dwrite(id(), memory_type.id(), memory_space.id(), file_space.id(), H5P_DEFAULT, slab);
  });
}

void Dataset::read_all(const Datatype& memory_type, void* data) const {
  checked(file_name(), "read dataset", [&] { return H5Dread(id(), memory_type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data); });
}

void Dataset::read_slab(const Datatype& memory_type, hsize_t first, hsize_t count, void* data) const {
  const std::string& file = file_name();
  if (count == 0) return;
  const Handle file_space(checked(file, "query dataset dataspace", [&] { return H5Dget_space(id()); }),
                          H5Sclose);
  checked(file, "select elements", [&] {
    return H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, &first, nullptr, &count, nullptr);
  });
  const Handle memory_space = simple_space(file, {count}, {});
  checked(file, "read elements", [&] {
    return H5Dread(id(), memory_type.id(), memory_space.id(), file_space.id(), H5P_DEFAULT, data);
  });
}

std::vector<std::string> Dataset::read_strings(hsize_t first, hsize_t count) const {
  const std::string& file = file_name();
  if (count == 0) return {};
  const Datatype stored = stored_type();
  std::vector<std::string> strings;
  strings.reserve(count);
  if (stored.is_variable_string()) {
    std::vector<char*> texts(count, nullptr);
    read_slab(stored, first, count, texts.data());
    for (const char* text : texts) strings.emplace_back(text != nullptr ? text : "");
    const Handle memory_space = simple_space(file, {count}, {});  // the shape read_slab read into
    H5Dvlen_reclaim(stored.id(), memory_space.id(), H5P_DEFAULT, texts.data());
    return strings;
  }
  if (stored.type_class() != H5T_STRING) throw RecorderError(file + ": dataset does not hold strings");
  const std::size_t width = stored.size();
  std::vector<char> buffer(count * width);
  read_slab(stored, first, count, buffer.data());
  for (hsize_t i = 0; i < count; ++i) strings.push_back(from_fixed(buffer.data() + i * width, width));
  return strings;
}

std::vector<std::string> Dataset::compound_field_names() const {
  const Datatype stored = stored_type();
  if (stored.type_class() != H5T_COMPOUND) return {};
  const int fields =
      checked(file_name(), "count compound fields", [&] { return H5Tget_nmembers(stored.id()); });
  std::vector<std::string> names;
  for (unsigned i = 0; i < static_cast<unsigned>(fields); ++i) {
    char* name = H5Tget_member_name(stored.id(), i);
    if (name == nullptr) throw RecorderError(file_name() + ": cannot read compound field name");
    names.emplace_back(name);
    H5free_memory(name);
  }
  return names;
}

void Dataset::make_scale(const std::string& scale_name) {
  checked(file_name(), "make dimension scale " + in_quotes(scale_name, '\''),
          [&] { return H5DSset_scale(id(), scale_name.c_str()); });
}

void Dataset::attach_scale(const Dataset& scale, unsigned axis) {
  checked(file_name(), "attach dimension scale to axis " + std::to_string(axis),
          [&] { return H5DSattach_scale(id(), scale.id(), axis); });
}

void Dataset::set_axis_label(unsigned axis, const std::string& label) {
  checked(file_name(), "label axis " + std::to_string(axis),
          [&] { return H5DSset_label(id(), axis, label.c_str()); });
}

bool Dataset::is_scale() const {
  return checked(file_name(), "check for dimension scale", [&] { return H5DSis_scale(id()); }) > 0;
}

// ---------------------------------------------------------------------------------------------
// groups and files

Group Group::create_group(const std::string& name) {
  return Group(
      Handle(checked(file_name(), "create group " + in_quotes(name, '\''),
                     [&] {
                       const Handle creation = make_plist(file_name(), H5P_GROUP_CREATE, "group creation");
                       H5Pset_obj_track_times(creation.id(), false);
                       return H5Gcreate2(id(), name.c_str(), H5P_DEFAULT, creation.id(), H5P_DEFAULT);
                     }),
             H5Gclose),
      file_name());
}

Group Group::open_group(const std::string& name) const {
  return Group(Handle(checked(file_name(), "open group " + in_quotes(name, '\''),
                              [&] { return H5Gopen2(id(), name.c_str(), H5P_DEFAULT); }),
                      H5Gclose),
               file_name());
}

Dataset Group::create_dataset(const std::string& name, const Datatype& stored_type,
                              const DatasetLayout& layout) {
  const std::string& file = file_name();
  const Handle space = simple_space(file, layout.dims, layout.max_dims);
  const Handle creation = make_plist(file, H5P_DATASET_CREATE, "dataset creation");
  // No modification times in object headers: the same run must give the same bytes.
  checked(file, "disable time tracking", [&] { return H5Pset_obj_track_times(creation.id(), false); });
  if (!layout.chunk.empty())
    checked(file, "set chunking of " + in_quotes(name, '\''), [&] {
      return H5Pset_chunk(creation.id(), static_cast<int>(layout.chunk.size()), layout.chunk.data());
    });
  if (layout.compress) {
    // Shuffle first: grouping bytes by significance is what lets deflate shrink numeric arrays.
    checked(file, "enable shuffle filter", [&] { return H5Pset_shuffle(creation.id()); });
    checked(file, "enable deflate filter", [&] { return H5Pset_deflate(creation.id(), deflate_level); });
  }
  return Dataset(Handle(checked(file, "create dataset " + in_quotes(name, '\''),
                                [&] {
                                  return H5Dcreate2(id(), name.c_str(), stored_type.id(), space.id(),
                                                    H5P_DEFAULT, creation.id(), H5P_DEFAULT);
                                }),
                        H5Dclose),
                 file);
}

void Group::link_external(const std::string& name, const std::string& file, const std::string& object) {
  checked(file_name(), "link " + in_quotes(name, '\'') + " to " + file + ":" + object, [&] {
    return H5Lcreate_external(file.c_str(), object.c_str(), id(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  });
}

Dataset Group::open_dataset(const std::string& name) const {
  return Dataset(Handle(checked(file_name(), "open dataset " + in_quotes(name, '\''),
                                [&] { return H5Dopen2(id(), name.c_str(), H5P_DEFAULT); }),
                        H5Dclose),
                 file_name());
}

bool Group::has_link(const std::string& name) const {
  return checked(file_name(), "look up " + in_quotes(name, '\''),
                 [&] { return H5Lexists(id(), name.c_str(), H5P_DEFAULT); }) > 0;
}

std::vector<std::string> Group::link_names() const {
  const std::string& file = file_name();
  H5G_info_t info{};
  checked(file, "query group", [&] { return H5Gget_info(id(), &info); });
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const auto name_of = [&](char* buffer, std::size_t size) {
      return checked(file, "read link name", [&] {
        return H5Lget_name_by_idx(id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, buffer, size, H5P_DEFAULT);
      });
    };
    std::string name(static_cast<std::size_t>(name_of(nullptr, 0)), '\0');
    name_of(name.data(), name.size() + 1);
    names.push_back(std::move(name));
  }
  return names;
}

ObjectKind Group::kind_of(const std::string& name) const {
  const Handle object(checked(file_name(), "open " + in_quotes(name, '\''),
                              [&] { return H5Oopen(id(), name.c_str(), H5P_DEFAULT); }),
                      H5Oclose);
  switch (H5Iget_type(object.id())) {
    case H5I_GROUP:
      return ObjectKind::group;
    case H5I_DATASET:
      return ObjectKind::dataset;
    default:
      return ObjectKind::other;
  }
}

namespace {
// The kernel's page size on every platform contactsim runs on: a write within one page is not
// torn by a signal.
constexpr hsize_t kPageBytes = 4096;

// Paged file space keeps its settings in a superblock extension, whose object header HDF5 makes
// with the library's own default group creation list, H5P_GROUP_CREATE_DEFAULT; that list tracks
// times, so the header would hold the creation time and one run would not give the same bytes
// twice. No file-level setting reaches it, so times are switched off in that list itself, once
// per process. (Groups that other code in the process, h5py say, creates with default settings
// then carry no times either.)
void stop_default_group_times(const std::string& file) {
  static const bool stopped = H5Pset_obj_track_times(H5P_GROUP_CREATE_DEFAULT, false) >= 0;
  if (!stopped) throw RecorderError(file + ": cannot stop time tracking in HDF5's default group settings");
}
}  // namespace

File File::create(const std::filesystem::path& path, bool overwrite, FileFormat format, std::size_t user_block_bytes) {
  const std::string file = path.string();
  const Handle access = make_plist(file, H5P_FILE_ACCESS, "file access");
  const bool appendable = format == FileFormat::appendable;
  // Portable files: capped at 1.8 so that every current HDF5 reader can read them. Appendable
  // files: exactly 1.10 (not "latest"), so a newer HDF5 does not silently raise the version.
  checked(file, "set file format versions", [&] {
    return appendable ? H5Pset_libver_bounds(access.id(), H5F_LIBVER_V110, H5F_LIBVER_V110)
                      : H5Pset_libver_bounds(access.id(), H5F_LIBVER_EARLIEST, H5F_LIBVER_V18);
  });
  const Handle creation = make_plist(file, H5P_FILE_CREATE, "file creation");
  // The 1.10 format's root group header would hold its creation and access times: the same run
  // must give the same bytes.
  if (appendable) {
    checked(file, "disable time tracking", [&] { return H5Pset_obj_track_times(creation.id(), false); });
    // Paged file space: no metadata block smaller than a page straddles a page boundary, where a
    // SIGKILL could tear its write (see File in h5.hpp).
    checked(file, "set paged file space", [&] {
      return H5Pset_file_space_strategy(creation.id(), H5F_FSPACE_STRATEGY_PAGE, false, 1);
    });
    checked(file, "set file space page size", [&] { return H5Pset_file_space_page_size(creation.id(), kPageBytes); });
    stop_default_group_times(file);
  }
  if (user_block_bytes > 0)
    checked(file, "reserve a user block", [&] { return H5Pset_userblock(creation.id(), user_block_bytes); });
  const unsigned mode = overwrite ? H5F_ACC_TRUNC : H5F_ACC_EXCL;
  return File(Handle(checked(file, "create HDF5 file",
                             [&] { return H5Fcreate(file.c_str(), mode, creation.id(), access.id()); }),
                     H5Fclose),
              file);
}

void File::start_swmr_writing() {
  flush();
  checked(file_name(), "start SWMR writing", [&] { return H5Fstart_swmr_write(id()); });
}

namespace {
constexpr unsigned kSwmrReadAttempts = 5;
}  // namespace

File File::open_read_only(const std::filesystem::path& path) {
  const std::string file = path.string();
  const QuietErrors quiet;
  hid_t id = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) {
    const std::string reason = innermost_error_message();
    // A file still marked by an SWMR writer (running, or killed) opens as an SWMR reader. Such a
    // reader retries a block whose checksum fails, expecting the writer to finish it; a killed
    // writer never will, so a few attempts (not HDF5's 100, with growing sleeps) then an error.
    const Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    H5Pset_metadata_read_attempts(access.id(), kSwmrReadAttempts);
    id = H5Fopen(file.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, access.id());
    if (id < 0) throw RecorderError(file + ": cannot open as an HDF5 file" + (reason.empty() ? "" : " (" + reason + ")"));
  }
  return File(Handle(id, H5Fclose), file);
}

File File::open_for_update(const std::filesystem::path& path) {
  const std::string file = path.string();
  const QuietErrors quiet;
  const hid_t id = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  if (id < 0) {
    const std::string reason = innermost_error_message();
    throw RecorderError(file + ": cannot open for update as an HDF5 file" + (reason.empty() ? "" : " (" + reason + ")"));
  }
  return File(Handle(id, H5Fclose), file);
}

void File::flush() {
  checked(file_name(), "flush file", [&] { return H5Fflush(id(), H5F_SCOPE_GLOBAL); });
}

}  // namespace contactsim::h5
