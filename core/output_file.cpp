#include "core/output_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

namespace contactsim {
namespace fs = std::filesystem;

namespace {

void remove_quietly(const fs::path& path) noexcept {
  std::error_code ignored;
  fs::remove(path, ignored);
}

std::string os_reason(int error) { return std::strerror(error); }

}  // namespace

std::string file_kind(const fs::file_status& status) {
  switch (status.type()) {
    case fs::file_type::regular: return "a regular file";
    case fs::file_type::directory: return "a directory";
    case fs::file_type::symlink: return "a symbolic link";
    case fs::file_type::block: return "a block device";
    case fs::file_type::character: return "a character device";
    case fs::file_type::fifo: return "a FIFO (named pipe)";
    case fs::file_type::socket: return "a socket";
    default: return "an unknown kind of file";
  }
}

fs::path partial_path(const fs::path& path) { return fs::path(path.string() + ".partial"); }

void refuse_existing_output(const fs::path& path, bool overwrite, const std::string& how_to_overwrite) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (!fs::exists(status)) return;
  if (!fs::is_regular_file(status))
    throw RecorderError(path.string() + ": is " + file_kind(status) + ", not an output file");
  if (!overwrite) throw RecorderError(path.string() + ": output file exists; " + how_to_overwrite);
}

void clear_temporary(const fs::path& temporary) {
  std::error_code error;
  const fs::file_status status = fs::symlink_status(temporary, error);
  if (!fs::exists(status) && !fs::is_symlink(status)) return;
  if (!fs::is_regular_file(status) && !fs::is_symlink(status))
    throw RecorderError(temporary.string() + ": is " + file_kind(status) +
                        ", in the way of the temporary output file; remove it");
  if (::unlink(temporary.c_str()) != 0 && errno != ENOENT)
    throw RecorderError(temporary.string() + ": cannot remove the leftover temporary file (" + os_reason(errno) + ")");
}

int create_exclusively(const fs::path& temporary) {
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0) throw RecorderError(temporary.string() + ": cannot create (" + os_reason(errno) + ")");
  return fd;
}

void publish_temporary(const fs::path& temporary, const fs::path& path, bool overwrite,
                       const std::string& how_to_overwrite) {
  refuse_existing_output(path, overwrite, how_to_overwrite);  // nothing unwanted appeared meanwhile
  // rename(2) within one folder: atomic, so readers see the old file or the new one.
  int result = overwrite ? std::rename(temporary.c_str(), path.c_str())
                         : ::renameat2(AT_FDCWD, temporary.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE);
  if (result != 0 && !overwrite && (errno == EINVAL || errno == ENOSYS)) {
    // A file system without RENAME_NOREPLACE: link(2) never replaces either.
    result = ::link(temporary.c_str(), path.c_str());
    if (result == 0) ::unlink(temporary.c_str());
  }
  if (result == 0) return;
  const int error = errno;
  if (error == EEXIST) refuse_existing_output(path, false, how_to_overwrite);
  throw RecorderError(path.string() + ": cannot rename " + temporary.string() + " into place (" + os_reason(error) +
                      ")");
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

void replace_atomically(const fs::path& path, const std::function<void(const fs::path&)>& write, bool overwrite,
                        const std::string& how_to_overwrite, const fs::path& temporary_path) {
  refuse_existing_output(path, overwrite, how_to_overwrite);
  create_parent_folders(path);
  const fs::path temporary = temporary_path.empty() ? partial_path(path) : temporary_path;
  clear_temporary(temporary);
  try {
    write(temporary);
    publish_temporary(temporary, path, overwrite, how_to_overwrite);
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
    const int fd = create_exclusively(temporary);
    std::size_t written = 0;
    while (written < text.size()) {
      const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int error = n < 0 ? errno : EIO;
        ::close(fd);
        throw RecorderError(temporary.string() + ": cannot write (" + os_reason(error) + ")");
      }
      written += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0) throw RecorderError(temporary.string() + ": cannot write (" + os_reason(errno) + ")");
  });
}

PendingOutput::PendingOutput(fs::path path, bool overwrite, const std::string& how_to_overwrite)
    : path_(std::move(path)), partial_(partial_path(path_)), overwrite_(overwrite), how_to_overwrite_(how_to_overwrite) {
  refuse_existing_output(path_, overwrite_, how_to_overwrite_);
  // A leftover "<path>.partial" is a killed run's: this run starts its output afresh, in a file
  // of its own (created exclusively: a link planted there is removed, never written through).
  create_parent_folders(partial_);
  clear_temporary(partial_);
  recorder_ = std::make_unique<Recorder>(Recorder::create(partial_, false));
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
  publish_temporary(partial_, path_, overwrite_, how_to_overwrite_);
}

void PendingOutput::discard() noexcept {
  recorder_.reset();
  remove_quietly(partial_);
}

}  // namespace contactsim
