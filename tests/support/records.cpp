#include "tests/support/records.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

namespace contactsim::test {

// A dataset's stored bytes (numbers), or its strings joined (labels, dates).
std::string raw_bytes(const h5::Dataset& dataset) {
  const h5::Datatype type = dataset.stored_type();
  hsize_t elements = 1;
  for (const hsize_t n : dataset.shape()) elements *= n;
  if (type.type_class() == H5T_STRING) {
    std::string joined;
    for (const std::string& s : dataset.read_strings(0, elements)) joined += s + '\0';
    return joined;
  }
  std::string bytes(static_cast<std::size_t>(elements) * type.size(), '\0');
  if (elements > 0)
    h5::checked(dataset.file_name(), "read", [&] {
      return H5Dread(dataset.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data());
    });
  return bytes;
}

// The /events table row by row, every field as text.
std::vector<std::string> event_rows(const h5::File& file) {
  if (!file.has_link("events")) return {};
  const h5::Dataset events = file.open_dataset("events");
  const h5::Datatype text = h5::Datatype::vlen_utf8_string(), integer = h5::Datatype::native_int64();
  const h5::CompoundLayout layout = h5::make_compound(
      {{"date", &text}, {"kind", &text}, {"subject", &text}, {"detail", &text}, {"venues_affected", &integer}});
  const hsize_t rows = events.shape().at(0);
  std::vector<std::byte> buffer(rows * layout.row_size);
  h5::checked(file.file_name(), "read events", [&] {
    return H5Dread(events.id(), layout.type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data());
  });
  std::vector<std::string> out;
  for (hsize_t r = 0; r < rows; ++r) {
    std::string row;
    for (int c = 0; c < 4; ++c) {
      char* value = nullptr;
      std::memcpy(&value, buffer.data() + r * layout.row_size + layout.offsets[c], sizeof value);
      row += std::string(value ? value : "") + "|";
    }
    std::int64_t venues = 0;
    std::memcpy(&venues, buffer.data() + r * layout.row_size + layout.offsets[4], sizeof venues);
    out.push_back(row + std::to_string(venues));
    for (int c = 0; c < 4; ++c) {
      char* value = nullptr;
      std::memcpy(&value, buffer.data() + r * layout.row_size + layout.offsets[c], sizeof value);
      H5free_memory(value);
    }
  }
  return out;
}

// Every /series dataset (and /series/time) byte for byte, and every /events row.
void expect_same_records(const std::filesystem::path& expected, const std::filesystem::path& actual) {
  const h5::File a = h5::File::open_read_only(expected), b = h5::File::open_read_only(actual);
  const h5::Group sa = a.open_group("series"), sb = b.open_group("series");
  ASSERT_EQ(sa.link_names(), sb.link_names()) << actual;
  for (const std::string& name : sa.link_names()) {
    const h5::Dataset x = sa.open_dataset(name), y = sb.open_dataset(name);
    EXPECT_EQ(x.shape(), y.shape()) << name;
    EXPECT_TRUE(raw_bytes(x) == raw_bytes(y)) << "/series/" << name << " differs in " << actual;
  }
  EXPECT_EQ(event_rows(a), event_rows(b)) << actual;
}

}  // namespace contactsim::test
