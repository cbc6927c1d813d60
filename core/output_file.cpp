#include "core/output_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

namespace contactsim {
namespace fs = std::filesystem;

namespace {

void remove_quietly(const fs::path& path) noexcept {
  std::error_code ignored;
  fs::remove(path, ignored);
}

// rename(2) within one folder: atomic, so readers see the old file or the new one.
void rename_into_place(const fs::path& temporary, const fs::path& path) {
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error)
    throw RecorderError(path.string() + ": cannot rename " + temporary.string() + " into place (" +
                        error.message() + ")");
}

}  // namespace

fs::path partial_path(const fs::path& path) { return fs::path(path.string() + ".partial"); }

void refuse_existing_output(const fs::path& path, bool overwrite, const std::string& how_to_overwrite) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (!fs::exists(status)) return;
  if (fs::is_directory(status)) throw RecorderError(path.string() + ": is a directory, not an output file");
  if (!overwrite) throw RecorderError(path.string() + ": output file exists; " + how_to_overwrite);
}

void create_parent_folders(const fs::path& path) {
  const fs::path parent = path.parent_path();
  if (parent.empty()) return;
  std::error_code error;
  fs::create_directories(parent, error);
  if (error)
    throw RecorderError(path.string() + ": cannot create directory " + parent.string() + " (" + error.message() +
                        ")");
}

void replace_atomically(const fs::path& path, const std::function<void(const fs::path&)>& write) {
  refuse_existing_output(path, true, "");
  create_parent_folders(path);
  const fs::path temporary = partial_path(path);
  try {
    write(temporary);
    rename_into_place(temporary, path);
  } catch (const fs::filesystem_error& e) {
    remove_quietly(temporary);
    throw RecorderError(path.string() + ": cannot write (" + e.code().message() + ")");
  } catch (...) {
    remove_quietly(temporary);
    throw;
  }
}

void write_text_atomically(const fs::path& path, const std::string& text) {
  replace_atomically(path, [&](const fs::path& temporary) {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw RecorderError(temporary.string() + ": cannot create (" + std::strerror(errno) + ")");
    out << text;
    out.flush();
    if (!out) throw RecorderError(temporary.string() + ": cannot write (" + std::strerror(errno) + ")");
    out.close();
    if (!out) throw RecorderError(temporary.string() + ": cannot write (" + std::strerror(errno) + ")");
  });
}

PendingOutput::PendingOutput(fs::path path, bool overwrite, const std::string& how_to_overwrite)
    : path_(std::move(path)), partial_(partial_path(path_)), overwrite_(overwrite), how_to_overwrite_(how_to_overwrite) {
  refuse_existing_output(path_, overwrite_, how_to_overwrite_);
  // A leftover "<path>.partial" is a killed run's: this run starts its output afresh.
  recorder_ = std::make_unique<Recorder>(Recorder::create(partial_, true));
}

PendingOutput::~PendingOutput() = default;

Recorder& PendingOutput::recorder() {
  if (!recorder_) throw RecorderError(path_.string() + ": output already closed");
  return *recorder_;
}

void PendingOutput::publish() {
  if (!recorder_) throw RecorderError(path_.string() + ": output already closed");
  if (recorder_->failed())
    throw RecorderError(path_.string() + ": not written: an earlier write to " + partial_.string() + " failed");
  recorder_.reset();  // closes the file: every cached change written, the SWMR mark cleared
  refuse_existing_output(path_, overwrite_, how_to_overwrite_);  // nothing appeared meanwhile
  rename_into_place(partial_, path_);
}

void PendingOutput::discard() noexcept {
  recorder_.reset();
  remove_quietly(partial_);
}

}  // namespace contactsim
