#pragma once
// Temporary files for tests: a directory of their own, removed with everything in it.
#include <filesystem>
#include <string>

namespace contactsim::test {

class TempDir {
 public:
  // `<prefix>_XXXXXX` under the system's temporary folder, made by mkdtemp: unique across the
  // processes ctest -j runs at once and across the tests of one process, so none share files.
  explicit TempDir(const std::string& prefix = "contactsim_test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::filesystem::path& name) const { return path_ / name; }
  // Writes `text` byte for byte to `name` inside (creating folders on the way); returns its path.
  std::filesystem::path write(const std::filesystem::path& name, const std::string& text) const;

 private:
  std::filesystem::path path_;
};

// A file's bytes ("" when it cannot be opened).
std::string read_file(const std::filesystem::path& path);

}  // namespace contactsim::test
