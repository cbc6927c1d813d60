#pragma once
// A whole-file checksum for HDF5 files written whole and read back by contactsim (checkpoints),
// checked before HDF5 reads a byte of them.
//
// Why: libhdf5 (1.10.8, Debian 12) trusts the structures it finds in a file. On damaged files the
// checkpoint fuzzer made it loop forever (H5Aread of a string attribute), ask for 4 GiB
// (malloc(4294967304)) and memcpy with a length of 2^61 — inside the library, before contactsim
// sees a value, so no check of ours can come first. The per-array checksums of core/archive
// catch damage only once HDF5 has parsed its way to the data. A seal covers every byte, so a
// truncated, extended or bit-flipped file is refused with one clear message and never parsed.
//
// The seal lives in the file's HDF5 user block (H5Pset_userblock): 512 bytes at the start that
// HDF5 reserves and skips, so h5py, h5dump and HDF5 itself read a sealed file as usual. It is
// plain text, readable with `head -c 512 FILE`:
//
//   contactsim sealed file 1
//   kind checkpoint
//   bytes 20412416
//   hash 3f1c0a9e52d7b664
//
// `bytes` is the whole file's size, `hash` a 64-bit hash (hash_bytes, not cryptographic) of
// every byte after the user block. A file crafted to carry a valid seal is trusted, as a
// scenario file is: the seal protects against damage, not against an attacker.
#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace contactsim {

// The user block size to create sealed files with (h5::File::create's user_block_bytes).
inline constexpr std::size_t kSealBytes = 512;

// A file with no seal, another kind's seal, or bytes that do not match their seal. what() is the
// problem alone (no file name): callers wrap it in their own error naming the file.
class SealError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writes the seal of `path`, a closed HDF5 file created with a kSealBytes user block; `kind`
// (one word) says what the file is. Throws std::filesystem::filesystem_error on I/O failure.
void seal_file(const std::filesystem::path& path, const std::string& kind);

// Throws SealError unless `path` carries a seal of `kind` that its bytes match. Reads the file
// once, a MiB at a time.
void check_seal(const std::filesystem::path& path, const std::string& kind);

}  // namespace contactsim
