#include "core/archive.hpp"

#include "core/h5.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <variant>

namespace contactsim {
namespace {

constexpr const char* kChecksum = "checksum";
// Arrays this long or longer are chunked and compressed: per-resident arrays shrink a lot
// (memberships, ids and flags compress well); short ones are not worth a chunk index.
constexpr std::size_t kCompressFrom = 4096;
constexpr std::size_t kChunkBytes = 1 << 20;

template <class T>
hid_t memory_type() {
  if constexpr (std::is_same_v<T, float>) return H5T_NATIVE_FLOAT;
  else if constexpr (std::is_same_v<T, double>) return H5T_NATIVE_DOUBLE;
  else if constexpr (std::is_signed_v<T>) {
    if constexpr (sizeof(T) == 1) return H5T_NATIVE_INT8;
    else if constexpr (sizeof(T) == 2) return H5T_NATIVE_INT16;
    else if constexpr (sizeof(T) == 4) return H5T_NATIVE_INT32;
    else return H5T_NATIVE_INT64;
  } else {
    if constexpr (sizeof(T) == 1) return H5T_NATIVE_UINT8;
    else if constexpr (sizeof(T) == 2) return H5T_NATIVE_UINT16;
    else if constexpr (sizeof(T) == 4) return H5T_NATIVE_UINT32;
    else return H5T_NATIVE_UINT64;
  }
}

// Little-endian standard types in the file, whatever the machine.
template <class T>
hid_t file_type() {
  if constexpr (std::is_same_v<T, float>) return H5T_IEEE_F32LE;
  else if constexpr (std::is_same_v<T, double>) return H5T_IEEE_F64LE;
  else if constexpr (std::is_signed_v<T>) {
    if constexpr (sizeof(T) == 1) return H5T_STD_I8LE;
    else if constexpr (sizeof(T) == 2) return H5T_STD_I16LE;
    else if constexpr (sizeof(T) == 4) return H5T_STD_I32LE;
    else return H5T_STD_I64LE;
  } else {
    if constexpr (sizeof(T) == 1) return H5T_STD_U8LE;
    else if constexpr (sizeof(T) == 2) return H5T_STD_U16LE;
    else if constexpr (sizeof(T) == 4) return H5T_STD_U32LE;
    else return H5T_STD_U64LE;
  }
}

template <class T>
std::string type_name() {
  if constexpr (std::is_floating_point_v<T>) return "float" + std::to_string(8 * sizeof(T));
  else return (std::is_signed_v<T> ? "int" : "uint") + std::to_string(8 * sizeof(T));
}

std::string stored_type_name(const h5::Datatype& type) {
  const std::size_t bits = 8 * type.size();
  switch (type.type_class()) {
    case H5T_FLOAT:
      return "float" + std::to_string(bits);
    case H5T_INTEGER:
      return (H5Tget_sign(type.id()) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
    case H5T_STRING:
      return "strings";
    default:
      return "another type";
  }
}

template <class T>
bool holds(const h5::Datatype& type) {
  if (type.size() != sizeof(T)) return false;
  if constexpr (std::is_floating_point_v<T>) {
    return type.type_class() == H5T_FLOAT;
  } else {
    if (type.type_class() != H5T_INTEGER) return false;
    return (H5Tget_sign(type.id()) != H5T_SGN_NONE) == std::is_signed_v<T>;
  }
}

std::uint64_t strings_checksum(const std::vector<std::string>& values) {
  std::uint64_t h = hash_bytes(nullptr, 0, values.size());
  for (const std::string& s : values) h = hash_bytes(s.data(), s.size(), h ^ s.size());
  return h;
}

std::string join_path(const std::string& parent, const std::string& name) {
  return parent == "/" ? "/" + name : parent + "/" + name;
}

}  // namespace

std::uint64_t hash_bytes(const void* data, std::size_t size, std::uint64_t seed) {
  const auto mix = [](std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  };
  std::uint64_t h = mix(seed + 0x9e3779b97f4a7c15ULL) ^ size;
  const auto* bytes = static_cast<const unsigned char*>(data);
  std::size_t k = 0;
  for (; k + 8 <= size; k += 8) {
    std::uint64_t word;
    std::memcpy(&word, bytes + k, 8);
    h = std::rotl(h ^ (word * 0x9e3779b97f4a7c15ULL), 29) * 0xff51afd7ed558ccdULL;
  }
  std::uint64_t tail = 0;
  for (std::size_t shift = 0; k < size; ++k, shift += 8) tail |= static_cast<std::uint64_t>(bytes[k]) << shift;
  return mix(h ^ (tail * 0xc4ceb9fe1a85ec53ULL));
}

std::string hash_hex(std::uint64_t hash) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

// ---------------------------------------------------------------------------------------------
// writing

StateWriter::StateWriter(h5::Group group, std::string path)
    : group_(std::make_unique<h5::Group>(std::move(group))), path_(std::move(path)) {}
StateWriter::StateWriter(StateWriter&&) noexcept = default;
StateWriter& StateWriter::operator=(StateWriter&&) noexcept = default;
StateWriter::~StateWriter() = default;

StateWriter StateWriter::child(const std::string& name) {
  return StateWriter(group_->create_group(name), join_path(path_, name));
}

template <ArchiveNumber T>
void StateWriter::write(const std::string& name, std::span<const T> values) {
  const hsize_t n = values.size();
  h5::DatasetLayout layout{.dims = {n}, .max_dims = {}, .chunk = {}, .compress = false};
  if (values.size() >= kCompressFrom) {
    layout.chunk = {std::min<hsize_t>(n, kChunkBytes / sizeof(T))};
    layout.compress = true;
  }
  h5::Dataset dataset = group_->create_dataset(name, h5::Datatype::copy_of(file_type<T>()), layout);
  dataset.write_all(h5::Datatype::copy_of(memory_type<T>()), values.data());
  dataset.set_attribute(kChecksum, static_cast<std::int64_t>(hash_bytes(values.data(), values.size_bytes())));
}

void StateWriter::write(const std::string& name, const std::vector<std::string>& values) {
  const h5::Datatype type = h5::Datatype::vlen_utf8_string();
  h5::Dataset dataset = group_->create_dataset(
      name, type, {.dims = {values.size()}, .max_dims = {}, .chunk = {}, .compress = false});
  std::vector<const char*> texts;
  texts.reserve(values.size());
  for (const std::string& s : values) texts.push_back(s.c_str());
  dataset.write_all(type, texts.data());
  dataset.set_attribute(kChecksum, static_cast<std::int64_t>(strings_checksum(values)));
}

template <ArchiveNumber T>
void StateWriter::scalar(const std::string& name, T value) {
  if constexpr (std::is_floating_point_v<T>)
    group_->set_attribute(name, static_cast<double>(value));
  else
    group_->set_attribute(name, static_cast<std::int64_t>(value));
}

void StateWriter::text(const std::string& name, const std::string& value) { group_->set_attribute(name, value); }

// ---------------------------------------------------------------------------------------------
// reading

StateReader::StateReader(h5::Group group, std::string path)
    : group_(std::make_unique<h5::Group>(std::move(group))), path_(std::move(path)) {}
StateReader::StateReader(StateReader&&) noexcept = default;
StateReader& StateReader::operator=(StateReader&&) noexcept = default;
StateReader::~StateReader() = default;

void StateReader::fail(const std::string& name, const std::string& problem) const {
  throw ArchiveError(group_->file_name() + ": " + (name.empty() ? path_ : join_path(path_, name)) + ": " + problem);
}

bool StateReader::has(const std::string& name) const {
  return group_->has_link(name) || group_->has_attribute(name);
}

std::vector<std::string> StateReader::names() const { return group_->link_names(); }

StateReader StateReader::child(const std::string& name) const {
  if (!group_->has_link(name) || group_->kind_of(name) != h5::ObjectKind::group) fail(name, "missing (expected a group)");
  return StateReader(group_->open_group(name), join_path(path_, name));
}

namespace {

// gzip's best compression ratio: no array can hold more bytes than this many times its file's.
constexpr double kMaxDeflateRatio = 1032;

// `element_bytes`: the least each value occupies once read. A damaged header can claim any
// length; one its file could not hold is refused here, before anything is allocated for it.
h5::Dataset open_array(const StateReader& reader, const h5::Group& group, const std::string& name,
                       std::size_t element_bytes) {
  if (!group.has_link(name) || group.kind_of(name) != h5::ObjectKind::dataset) reader.fail(name, "missing");
  h5::Dataset dataset = group.open_dataset(name);
  if (dataset.shape().size() != 1) reader.fail(name, "is not a one-dimensional array");
  std::error_code error;
  const std::uintmax_t file_bytes = std::filesystem::file_size(group.file_name(), error);
  const double claimed = static_cast<double>(dataset.shape()[0]) * static_cast<double>(element_bytes);
  if (!error && claimed > kMaxDeflateRatio * static_cast<double>(file_bytes))
    reader.fail(name, "claims " + std::to_string(dataset.shape()[0]) + " values, more than a file of " +
                          std::to_string(file_bytes) + " bytes can hold: the file is damaged");
  return dataset;
}

void verify_checksum(const StateReader& reader, const h5::Dataset& dataset, const std::string& name,
                     std::uint64_t actual) {
  const h5::AttributeValue stored = dataset.has_attribute(kChecksum) ? dataset.attribute(kChecksum) : std::monostate{};
  const auto* expected = std::get_if<std::int64_t>(&stored);
  if (expected == nullptr) reader.fail(name, "has no checksum");
  if (static_cast<std::uint64_t>(*expected) != actual)
    reader.fail(name, "checksum mismatch: the file is damaged");
}

}  // namespace

template <ArchiveNumber T>
std::vector<T> StateReader::read(const std::string& name) const {
  const h5::Dataset dataset = open_array(*this, *group_, name, sizeof(T));
  const h5::Datatype stored = dataset.stored_type();
  if (!holds<T>(stored)) fail(name, "holds " + stored_type_name(stored) + " values, expected " + type_name<T>());
  std::vector<T> values(static_cast<std::size_t>(dataset.shape()[0]));
  if (!values.empty())
    h5::checked(group_->file_name(), "read " + join_path(path_, name), [&] {
      return H5Dread(dataset.id(), memory_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    });
  verify_checksum(*this, dataset, name, hash_bytes(values.data(), values.size() * sizeof(T)));
  return values;
}

template <ArchiveNumber T>
void StateReader::read_into(const std::string& name, std::vector<T>& target) const {
  std::vector<T> values = read<T>(name);
  if (values.size() != target.size())
    fail(name, "holds " + std::to_string(values.size()) + " values, expected " + std::to_string(target.size()));
  std::copy(values.begin(), values.end(), target.begin());
}

std::vector<std::string> StateReader::strings(const std::string& name) const {
  const h5::Dataset dataset = open_array(*this, *group_, name, sizeof(std::string));
  if (dataset.stored_type().type_class() != H5T_STRING) fail(name, "does not hold strings");
  std::vector<std::string> values = dataset.read_strings(0, dataset.shape()[0]);
  verify_checksum(*this, dataset, name, strings_checksum(values));
  return values;
}

template <ArchiveNumber T>
T StateReader::scalar(const std::string& name) const {
  if (!group_->has_attribute(name)) fail(name, "missing");
  const h5::AttributeValue value = group_->attribute(name);
  if constexpr (std::is_floating_point_v<T>) {
    if (const auto* real = std::get_if<double>(&value)) return static_cast<T>(*real);
    fail(name, "is not a floating-point number");
  } else {
    if (const auto* integer = std::get_if<std::int64_t>(&value)) return static_cast<T>(*integer);
    fail(name, "is not an integer");
  }
}

std::string StateReader::text(const std::string& name) const {
  if (!group_->has_attribute(name)) fail(name, "missing");
  const h5::AttributeValue value = group_->attribute(name);
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  fail(name, "is not text");
}

#define CONTACTSIM_ARCHIVE_TYPE(T)                                                       \
  template void StateWriter::write<T>(const std::string&, std::span<const T>);          \
  template void StateWriter::scalar<T>(const std::string&, T);                          \
  template std::vector<T> StateReader::read<T>(const std::string&) const;               \
  template void StateReader::read_into<T>(const std::string&, std::vector<T>&) const;   \
  template T StateReader::scalar<T>(const std::string&) const;

CONTACTSIM_ARCHIVE_TYPE(std::int8_t)
CONTACTSIM_ARCHIVE_TYPE(std::uint8_t)
CONTACTSIM_ARCHIVE_TYPE(std::int16_t)
CONTACTSIM_ARCHIVE_TYPE(std::uint16_t)
CONTACTSIM_ARCHIVE_TYPE(std::int32_t)
CONTACTSIM_ARCHIVE_TYPE(std::uint32_t)
CONTACTSIM_ARCHIVE_TYPE(std::int64_t)
CONTACTSIM_ARCHIVE_TYPE(std::uint64_t)
CONTACTSIM_ARCHIVE_TYPE(float)
CONTACTSIM_ARCHIVE_TYPE(double)
#undef CONTACTSIM_ARCHIVE_TYPE

}  // namespace contactsim
