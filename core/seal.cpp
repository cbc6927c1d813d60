#include "core/seal.hpp"

#include "core/archive.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

namespace contactsim {
namespace fs = std::filesystem;

namespace {

constexpr const char* kFirstLine = "contactsim sealed file 1";
constexpr std::size_t kBlock = std::size_t{1} << 20;

[[noreturn]] void io_failure(const fs::path& path, const std::string& what) {
  throw fs::filesystem_error(what, path, std::error_code(errno != 0 ? errno : EIO, std::generic_category()));
}

// The hash of every byte after the user block, chained a MiB at a time (seeded with the size,
// so that moving bytes between blocks or truncating changes it).
std::uint64_t body_hash(std::istream& in, std::uint64_t size, const fs::path& path) {
  std::vector<char> block(kBlock);
  std::uint64_t hash = size;
  in.seekg(static_cast<std::streamoff>(kSealBytes));
  for (std::uint64_t left = size - kSealBytes; left > 0;) {
    const std::size_t n = left < kBlock ? static_cast<std::size_t>(left) : kBlock;
    if (!in.read(block.data(), static_cast<std::streamsize>(n))) io_failure(path, "cannot read");
    hash = hash_bytes(block.data(), n, hash);
    left -= n;
  }
  return hash;
}

// The value of line `key VALUE` in the seal's text, or empty.
std::string field(const std::string& text, const std::string& key) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(key + ' ', 0) == 0) return line.substr(key.size() + 1);
  return {};
}

template <class Integer>
bool parse(const std::string& text, Integer& value, int base = 10) {
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value, base);
  return error == std::errc() && stop == end && !text.empty();
}

}  // namespace

void seal_file(const fs::path& path, const std::string& kind) {
  errno = 0;
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  if (!file) io_failure(path, "cannot open to seal");
  const std::uint64_t size = fs::file_size(path);
  if (size < kSealBytes) throw SealError("cannot seal a file of " + std::to_string(size) + " bytes: no user block");
  const std::string text = std::string(kFirstLine) + "\nkind " + kind + "\nbytes " + std::to_string(size) +
                           "\nhash " + hash_hex(body_hash(file, size, path)) + "\n";
  std::array<char, kSealBytes> seal{};
  std::memcpy(seal.data(), text.data(), text.size());
  file.seekp(0);
  if (!file.write(seal.data(), seal.size()) || !file.flush()) io_failure(path, "cannot write seal");
}

void check_seal(const fs::path& path, const std::string& kind) {
  errno = 0;
  std::ifstream file(path, std::ios::binary);
  if (!file) io_failure(path, "cannot open");
  const std::uint64_t size = fs::file_size(path);
  std::array<char, kSealBytes> seal{};
  const std::string not_sealed = "not a contactsim " + kind + " (no seal at the start of the file";
  if (size < kSealBytes) throw SealError(not_sealed + ": it has only " + std::to_string(size) + " bytes)");
  if (!file.read(seal.data(), seal.size())) io_failure(path, "cannot read");
  const std::string text(seal.data(), strnlen(seal.data(), seal.size()));
  if (text.rfind(std::string(kFirstLine) + '\n', 0) != 0)
    throw SealError(not_sealed + "; files written by contactsim before seals were added must be made again)");
  if (field(text, "kind") != kind)
    throw SealError("not a contactsim " + kind + " (its seal says it is a " + field(text, "kind") + ")");
  std::uint64_t sealed_size = 0, sealed_hash = 0;
  if (!parse(field(text, "bytes"), sealed_size) || !parse(field(text, "hash"), sealed_hash, 16))
    throw SealError("damaged: its seal (the first " + std::to_string(kSealBytes) + " bytes) is unreadable");
  if (sealed_size != size)
    throw SealError("damaged: it has " + std::to_string(size) + " bytes, " + std::to_string(sealed_size) +
                    " when written (" + (size < sealed_size ? "truncated" : "extended") + ")");
  if (body_hash(file, size, path) != sealed_hash)
    throw SealError("damaged: its bytes no longer match the checksum in its seal (changed after it was written)");
}

}  // namespace contactsim
