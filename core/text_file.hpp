#pragma once
// Reading a whole file as text (scenarios, census tables, test data).
#include <filesystem>
#include <optional>
#include <string>

namespace contactsim {

// The bytes of the regular file `path`, or nothing when it is missing, not a regular file or
// unreadable.
std::optional<std::string> read_text_file(const std::filesystem::path& path);

// Why read_text_file(path) gave nothing, for messages: "file not found", "is a directory",
// "is not a regular file (a FIFO)", "cannot be read (Permission denied)".
std::string why_unreadable(const std::filesystem::path& path);

}  // namespace contactsim
