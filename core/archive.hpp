#pragma once
// Named arrays in an HDF5 group, for saving and restoring a run's state (checkpoints).
//
// A StateWriter puts 1-D arrays of numbers or strings, scalar attributes and nested groups into
// one group of an HDF5 file; a StateReader takes them out again, checking that each array is
// there, holds the element type asked for and, where the caller says so, the expected number of
// values. Every array carries a 64-bit checksum of its bytes, verified when it is read, so a
// damaged file fails with a message naming the array instead of feeding garbage to a model.
// Nothing here knows what the arrays mean.
#include "core/packed_records.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace contactsim {

namespace h5 {
class Group;
}

// A missing, mistyped, missized or damaged item; what() names the file and the item's path.
class ArchiveError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The element types arrays may hold (bool is left out: its size is implementation-defined).
template <class T>
concept ArchiveNumber = std::is_arithmetic_v<T> && !std::is_same_v<T, bool>;

// A fast 64-bit hash of raw bytes (not cryptographic): checksums and structure fingerprints.
std::uint64_t hash_bytes(const void* data, std::size_t size, std::uint64_t seed = 0);
// A hash as files store it: 16 lower-case hex digits.
std::string hash_hex(std::uint64_t hash);

class StateWriter {
 public:
  // Writes into `group`; `path` is its name in the file, for error messages.
  StateWriter(h5::Group group, std::string path);
  StateWriter(StateWriter&&) noexcept;
  StateWriter& operator=(StateWriter&&) noexcept;
  ~StateWriter();

  // A new subgroup.
  StateWriter child(const std::string& name);

  template <ArchiveNumber T>
  void write(const std::string& name, std::span<const T> values);
  template <ArchiveNumber T>
  void write(const std::string& name, const std::vector<T>& values) {
    write(name, std::span<const T>(values));
  }
  // A packed column is stored as the flat array it indexes like.
  template <ArchiveNumber T>
  void write(const std::string& name, const PackedColumn<T>& values) {
    write(name, values.to_vector());
  }
  void write(const std::string& name, const std::vector<std::string>& values);

  // Scalars are attributes of the group: integers as int64 (unsigned 64-bit values keep their
  // bits), floating point as double, text as a UTF-8 string.
  template <ArchiveNumber T>
  void scalar(const std::string& name, T value);
  void text(const std::string& name, const std::string& value);

  const std::string& path() const { return path_; }

 private:
  std::unique_ptr<h5::Group> group_;
  std::string path_;
};

class StateReader {
 public:
  StateReader(h5::Group group, std::string path);
  StateReader(StateReader&&) noexcept;
  StateReader& operator=(StateReader&&) noexcept;
  ~StateReader();

  bool has(const std::string& name) const;
  // Names of the arrays and subgroups, in name order.
  std::vector<std::string> names() const;
  StateReader child(const std::string& name) const;

  template <ArchiveNumber T>
  std::vector<T> read(const std::string& name) const;
  // Reads into `target` in place, which must already hold exactly as many values as stored:
  // the size check doubles as a structure check, and buffers others point into stay valid.
  template <ArchiveNumber T>
  void read_into(const std::string& name, std::vector<T>& target) const;
  template <ArchiveNumber T>
  void read_into(const std::string& name, PackedColumn<T>& target) const {
    std::vector<T> values = target.to_vector();
    read_into(name, values);
    target.assign(values);
  }
  std::vector<std::string> strings(const std::string& name) const;

  template <ArchiveNumber T>
  T scalar(const std::string& name) const;
  std::string text(const std::string& name) const;

  const std::string& path() const { return path_; }
  // Throws ArchiveError "<file>: <path>/<name>: <problem>".
  [[noreturn]] void fail(const std::string& name, const std::string& problem) const;

 private:
  std::unique_ptr<h5::Group> group_;
  std::string path_;
};

}  // namespace contactsim
