#pragma once
// A small RAII layer over the HDF5 C API, just wide enough for the recorder (core/recorder.cpp).
//
// Every identifier is owned by a move-only Handle that releases it with the matching H5?close.
// Every HDF5 call is checked: a failure throws RecorderError naming the file, the operation and
// HDF5's own innermost explanation. HDF5's automatic printing of its error stack is switched off
// around each call, so errors reach users only through those exceptions.
#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/recorder.hpp"

namespace contactsim::h5 {

// Turns off HDF5's error-stack printing for the calling thread while alive (the library is built
// thread-safe, so the setting is per thread and must be made where the call happens).
class QuietErrors {
 public:
  QuietErrors() noexcept;
  ~QuietErrors();
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

 private:
  H5E_auto2_t previous_handler_ = nullptr;
  void* previous_data_ = nullptr;
};

// The innermost (most specific) message on the calling thread's HDF5 error stack, or "".
std::string innermost_error_message();

// Runs one HDF5 call with error printing off; a negative result throws RecorderError
// "<file>: cannot <operation> (<HDF5's reason>)".
template <class ApiCall>
auto checked(const std::string& file, std::string_view operation, ApiCall&& api_call) {
  const QuietErrors quiet;
  const auto result = std::forward<ApiCall>(api_call)();
  if (result < 0) {
    std::string message = file + ": cannot " + std::string(operation);
    if (const std::string reason = innermost_error_message(); !reason.empty()) message += " (" + reason + ")";
    throw RecorderError(message);
  }
  return result;
}

// Owns one HDF5 identifier together with the function that releases it.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);

  Handle() noexcept = default;
  Handle(hid_t id, Closer closer) noexcept : id_(id), closer_(closer) {}
  Handle(Handle&& other) noexcept { swap(other); }
  Handle& operator=(Handle&& other) noexcept {
    Handle(std::move(other)).swap(*this);
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t id() const noexcept { return id_; }
  bool valid() const noexcept { return id_ >= 0 && closer_ != nullptr; }
  // Closes now; failures cannot be reported from destructors, so they are ignored here too.
  void reset() noexcept;

 private:
  void swap(Handle& other) noexcept {
    std::swap(id_, other.id_);
    std::swap(closer_, other.closer_);
  }
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

// An owned datatype. Predefined types are copied so that every Datatype can be closed alike.
class Datatype {
 public:
  static Datatype copy_of(hid_t predefined);
  static Datatype native_float() { return copy_of(H5T_NATIVE_FLOAT); }
  static Datatype native_int64() { return copy_of(H5T_NATIVE_INT64); }
  static Datatype native_double() { return copy_of(H5T_NATIVE_DOUBLE); }
  static Datatype vlen_utf8_string();
  static Datatype fixed_ascii_string(std::size_t length);
  static Datatype adopt(hid_t id) { return Datatype(Handle(id, H5Tclose)); }

  hid_t id() const noexcept { return handle_.id(); }
  std::size_t size() const;
  H5T_class_t type_class() const;
  bool is_variable_string() const;

 private:
  explicit Datatype(Handle handle) : handle_(std::move(handle)) {}
  Handle handle_;
};

// A compound type laid out in memory as a row of the given fields, each aligned to its size.
struct CompoundLayout {
  Datatype type;
  std::vector<std::size_t> offsets;
  std::size_t row_size = 0;
};
CompoundLayout make_compound(const std::vector<std::pair<std::string, const Datatype*>>& fields);

// Shape and storage of a new dataset. An empty `chunk` means contiguous storage.
struct DatasetLayout {
  std::vector<hsize_t> dims;
  std::vector<hsize_t> max_dims;  // may hold H5S_UNLIMITED; empty means equal to dims
  std::vector<hsize_t> chunk;
  bool compress = false;  // shuffle + deflate
};

// An attribute's value as far as the recorder understands it; std::monostate for anything that
// is not a scalar string, integer or floating-point value.
using AttributeValue = std::variant<std::monostate, std::string, std::int64_t, double>;

// Something that lives in a file and carries attributes: the file itself, a group or a dataset.
class Object {
 public:
  hid_t id() const noexcept { return handle_.id(); }
  const std::string& file_name() const noexcept { return file_name_; }

  // Scalar attributes, replacing any attribute of the same name. Strings are variable-length
  // UTF-8 so that h5py returns them as str.
  void set_attribute(const std::string& name, const std::string& value);
  void set_attribute(const std::string& name, std::int64_t value);
  void set_attribute(const std::string& name, double value);
  bool has_attribute(const std::string& name) const;
  std::vector<std::string> attribute_names() const;  // in name order
  AttributeValue attribute(const std::string& name) const;
  std::string string_attribute(const std::string& name) const;  // "" if absent or not a string
  std::optional<std::int64_t> integer_attribute(const std::string& name) const;  // none if absent or not an integer

 protected:
  Object(Handle handle, std::string file_name)
      : handle_(std::move(handle)), file_name_(std::move(file_name)) {}

 private:
  // Opens `name` for an in-place write if it already has `type`'s class, else (re)creates it.
  Handle attribute_for_writing(const std::string& name, const Datatype& type);

  Handle handle_;
  std::string file_name_;
};

class Dataset : public Object {
 public:
  std::vector<hsize_t> shape() const;
  Datatype stored_type() const;

  // Writes the whole dataset from `data` laid out as `memory_type`.
  void write_all(const Datatype& memory_type, const void* data);
  // Grows axis 0 by one and writes `slab` (one element for every index of the other axes)
  // into the new last position.
  void append(const Datatype& memory_type, const void* slab);
  // The whole dataset into `data`, converted to `memory_type`.
  void read_all(const Datatype& memory_type, void* data) const;
  // The whole dataset as a flat vector of T (row-major), converted to `memory_type`.
  template <class T>
  std::vector<T> read_values(const Datatype& memory_type) const {
    std::size_t n = 1;
    for (const hsize_t extent : shape()) n *= extent;
    std::vector<T> values(n);
    if (n > 0) read_all(memory_type, values.data());
    return values;
  }
  // Elements [first, first + count) of a 1-D dataset into `data`, converted to `memory_type`.
  void read_slab(const Datatype& memory_type, hsize_t first, hsize_t count, void* data) const;
  // Elements [first, first + count) of a 1-D string dataset (fixed-length or variable-length).
  std::vector<std::string> read_strings(hsize_t first, hsize_t count) const;
  std::vector<std::string> compound_field_names() const;  // empty unless compound

  // Dimension scales (HDF5 high-level DS API).
  void make_scale(const std::string& scale_name);
  void attach_scale(const Dataset& scale, unsigned axis);
  void set_axis_label(unsigned axis, const std::string& label);
  bool is_scale() const;

 private:
  friend class Group;
  using Object::Object;
};

enum class ObjectKind { group, dataset, other };

class Group : public Object {
 public:
  Group create_group(const std::string& name);
  Group open_group(const std::string& name) const;
  Dataset create_dataset(const std::string& name, const Datatype& stored_type, const DatasetLayout& layout);
  Dataset open_dataset(const std::string& name) const;
  bool has_link(const std::string& name) const;
  std::vector<std::string> link_names() const;  // in name order
  ObjectKind kind_of(const std::string& name) const;
  // A link `name` to object `object` of another file (`file` relative to this file's folder).
  void link_external(const std::string& name, const std::string& file, const std::string& object);

 protected:
  using Object::Object;
};

// How a new file is laid out on disk.
enum class FileFormat {
  // The earliest format able to hold the objects (HDF5 1.8+ readers): for files written whole
  // and then renamed into place (checkpoints, master files).
  portable,
  // HDF5 1.10 format written in SWMR (single-writer/multiple-reader) mode, for files that grow
  // record by record while a crash may interrupt them (run outputs); see File::create.
  appendable,
};

class File : public Group {
 public:
  // Creates `path`; with `overwrite` an existing file is truncated, otherwise creation fails.
  //
  // FileFormat::appendable and crashes: without SWMR, HDF5 writes dirty metadata in no
  // particular order and reuses space freed earlier in the session, so a process killed inside
  // a flush leaves chunk indexes pointing at overwritten or unwritten bytes. A stress test
  // (tests/core/test_crash_safety.cpp) killing a writer at random moments found earlier records
  // unreadable ("inflate() failed") in about 4 files of 10. SWMR orders every metadata flush so
  // that the file on disk never points at unflushed or reused space: HDF5 designed it so that a
  // reader sees a coherent file at every moment, which is what a killed writer leaves behind
  // (HDF Group, "Introduction to SWMR"; h5py's SWMR guide: "leaving a file in a valid state even
  // if the writing application crashes"). SWMR alone still lost a file in about 500 kills
  // ("incorrect metadata checksum" in an extensible-array index block): a metadata block that
  // straddles a 4 KiB page boundary is written by one pwrite, and Linux checks for a fatal signal
  // between pages, so SIGKILL can leave the block half new, half old. Appendable files therefore
  // use paged file space (H5F_FSPACE_STRATEGY_PAGE, 4 KiB pages): metadata smaller than a page
  // never crosses one, and a one-page write is not torn by a kill. The stress test, run 80 times
  // (3,200 kills): 6 damaged files without paging, none with it.
  // The costs: the file needs HDF5 >= 1.10 to read (h5py 3, Debian 12 and later), and a file
  // whose writer died keeps its "open for SWMR writing" mark, so plain HDF5 opens refuse it:
  // open it with h5py.File(path, "r", swmr=True), or clear the mark with `h5clear -s`. A file
  // closed normally carries no mark. SWMR writing starts with start_swmr_writing().
  // `user_block_bytes` (0, or a power of two >= 512) reserves that many bytes at the start of the
  // file that HDF5 skips (core/seal.hpp keeps a whole-file checksum there).
  static File create(const std::filesystem::path& path, bool overwrite,
                     FileFormat format = FileFormat::portable, std::size_t user_block_bytes = 0);
  // Opens for reading; a file left marked by a killed SWMR writer is opened as an SWMR reader.
  static File open_read_only(const std::filesystem::path& path);
  // Opens a complete (closed) file for changes to it, such as rewriting attributes.
  static File open_for_update(const std::filesystem::path& path);
  // Writes every cached change to disk, making the file readable as it stands now.
  void flush();
  // Switches an appendable file to SWMR writing, once its structure is complete: from then on
  // only appends and rewrites of existing attributes are safe (HDF5 1.10.8 fails flushes after
  // creating objects in SWMR mode, "slist not empty"). A writer killed before this leaves a file
  // marked as open by a plain writer, which no HDF5 reader opens (`h5clear -s` clears the mark).
  void start_swmr_writing();

 private:
  using Group::Group;
};

// A compound table /<name> in `where` (the recorder's write_table; also used for master files).
void write_table(Group& where, const std::string& name, const std::vector<TableColumn>& columns);

}  // namespace contactsim::h5
