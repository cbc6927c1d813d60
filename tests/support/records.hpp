#pragma once
// Comparing what two runs recorded: the /series datasets byte for byte and the /events rows.
#include "core/h5.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace contactsim::test {

// A dataset's stored bytes (numbers), or its strings joined (labels, dates).
std::string raw_bytes(const h5::Dataset& dataset);
// The /events table row by row, every field as text.
std::vector<std::string> event_rows(const h5::File& file);
// Every /series dataset (and /series/time) byte for byte, and every /events row (GoogleTest
// expectations, naming the dataset that differs).
void expect_same_records(const std::filesystem::path& expected, const std::filesystem::path& actual);

}  // namespace contactsim::test
