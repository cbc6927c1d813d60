#pragma once
// Shared by the libFuzzer targets: where inputs that need a path are written, and which
// exceptions are the library's documented answer to bad input.
//
// A documented error (ConfigError, CheckpointError, ArchiveError, RecorderError) is the library
// doing its job. Anything else escaping an entry point — std::bad_alloc from a size read out of
// the input, std::out_of_range from an unchecked index, a bare toml++ or filesystem exception
// without file and line — is a bug: the target prints it and aborts, so libFuzzer saves the input.
#include "core/archive.hpp"
#include "core/config.hpp"
#include "core/recorder.hpp"
#include "models/run/checkpoint.hpp"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <typeinfo>

namespace contactsim::fuzz {

// The source tree (scenarios/ and tests/fuzz/ are read from it), set by CMake.
inline std::filesystem::path source_dir() { return CONTACTSIM_SOURCE_DIR; }

// One temporary directory per fuzzing process (libFuzzer's -fork/-jobs run several), removed at
// exit; inputs that an API wants as a file are written inside it.
class ScratchDir {
 public:
  ScratchDir() {
    path_ = std::filesystem::temp_directory_path() / ("contactsim-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline const ScratchDir& scratch() {
  static const ScratchDir dir;  // one per process, for the life of the fuzzer
  return dir;
}

inline std::filesystem::path write_input(const std::filesystem::path& file, const std::uint8_t* data, std::size_t size) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", file.c_str());
    std::abort();
  }
  return file;
}

[[noreturn]] inline void undocumented(const char* kind, const char* what) {
  std::fprintf(stderr, "fuzz: undocumented exception escaped the entry point: %s: %s\n", kind, what);
  std::abort();
}

// Runs `entry` on one input: documented errors are fine, everything else aborts.
template <class Entry>
void expect_clean(Entry&& entry) {
  try {
    entry();
  } catch (const ConfigError&) {
  } catch (const CheckpointError&) {
  } catch (const ArchiveError&) {
  } catch (const RecorderError&) {
  } catch (const std::bad_alloc& e) {
    undocumented("std::bad_alloc", e.what());
  } catch (const std::exception& e) {
    undocumented(typeid(e).name(), e.what());
  } catch (...) {
    undocumented("non-std exception", "?");
  }
}

}  // namespace contactsim::fuzz
