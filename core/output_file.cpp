#include "core/output_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <system_error>

namespace contactsim {
namespace fs = std::filesystem;

namespace {

void remove_quietly(const fs::path& path) noexcept {
  std::error_code ignored;
  fs::remove(path, ignored);
}

std::string os_reason(int error) { return std::strerror(error); }

// Who holds a lock, for the message of the writer it refuses.
std::string holder_description() {
  char host[256] = "";
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  const std::time_t now = std::time(nullptr);
  char since[32] = "";
  std::strftime(since, sizeof since, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  return "process " + std::to_string(::getpid()) + (host[0] ? std::string(" on ") + host : std::string()) +
         ", since " + since;
}

std::string read_holder(int fd) {
  char text[512];
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  std::string holder = n > 0 ? std::string(text, static_cast<std::size_t>(n)) : std::string();
  while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\0')) holder.pop_back();
  return holder.empty() ? "another process" : holder;
}

// Whether `fd` is still the file named `file` (the last holder may have removed it meanwhile).
bool still_named(int fd, const fs::path& file) {
  struct stat held {}, named {};
  return ::fstat(fd, &held) == 0 && ::lstat(file.c_str(), &named) == 0 && held.st_dev == named.st_dev &&
         held.st_ino == named.st_ino;
}

// Opens "<path>.lock" (never through a link) and locks it; -1 when the file changed meanwhile.
int open_and_lock(const fs::path& path, const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0666);
  if (fd < 0) {
    const int error = errno;
    const std::string why = error == ELOOP ? "it is a symbolic link; remove it" : os_reason(error);
    throw RecorderError(file.string() + ": cannot create the lock file of " + path.string() + " (" + why + ")");
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    throw RecorderError(file.string() + ": is not a regular file, in the way of the lock file of " + path.string() +
                        "; remove it");
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const std::string holder = read_holder(fd);
    ::close(fd);
    if (error == EWOULDBLOCK)
      throw RecorderError(path.string() + ": another contactsim is writing this output (" + holder + "; lock file " +
                          file.string() + "); wait for it to finish or choose another output");
    throw RecorderError(file.string() + ": cannot lock (" + os_reason(error) + ")");
  }
  if (still_named(fd, file)) return fd;
  ::close(fd);
  return -1;
}

}  // namespace

fs::path lock_path(const fs::path& path) {
  const fs::path named = path.has_filename() ? path : path.parent_path();  // "out/" locks as "out"
  return fs::path(named.string() + ".lock");
}

OutputLock::OutputLock(fs::path path) : path_(std::move(path)), file_(lock_path(path_)) {
  create_parent_folders(file_);
  // A holder removes the file as it releases it; a few retries always find a settled one.
  for (int attempt = 0; fd_ < 0; ++attempt) {
    if (attempt == 100) throw RecorderError(file_.string() + ": cannot lock (the lock file keeps changing)");
    fd_ = open_and_lock(path_, file_);
  }
  const std::string holder = holder_description() + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, holder.data(), holder.size(), 0) < 0) {
    // Only the refused writer's message loses its detail; the lock itself holds.
  }
}

OutputLock::OutputLock(OutputLock&& other) noexcept
    : path_(std::move(other.path_)), file_(std::move(other.file_)), fd_(other.fd_) {
  other.fd_ = -1;
}

OutputLock::~OutputLock() {
  if (fd_ < 0) return;
  ::unlink(file_.c_str());  // while still holding it: see still_named
  ::close(fd_);
}

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code error;
  if (fs::equivalent(a, b, error)) return true;
  std::error_code ignored;
  return fs::weakly_canonical(fs::absolute(a, ignored), ignored) == fs::weakly_canonical(fs::absolute(b, ignored), ignored);
}

const fs::path* same_file_among(const fs::path& path, const std::vector<fs::path>& files) {
  for (const fs::path& file : files)
    if (same_file(path, file)) return &file;
  return nullptr;
}

void refuse_input_as_output(const fs::path& path, const std::vector<fs::path>& inputs) {
  if (const fs::path* input = same_file_among(path, inputs))
    throw RecorderError(path.string() + ": is " + input->string() + ", which this run reads; choose another file");
}

void remove_stale_temporaries(const fs::path& path) {
  const fs::path folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  const std::string prefix = "." + path.filename().string() + ".tmp";
  std::error_code error;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string pid = name.substr(prefix.size());
    if (pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const bool gone = ::kill(static_cast<pid_t>(std::stol(pid)), 0) != 0 && errno == ESRCH;
    const fs::file_status status = fs::symlink_status(it->path(), error);
    if (gone && (fs::is_regular_file(status) || fs::is_symlink(status))) ::unlink(it->path().c_str());
  }
}

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
  refuse_existing_output(path, overwrite, how_to_overwrite);  // before creating the lock's folder
  const OutputLock lock(path);
  refuse_existing_output(path, overwrite, how_to_overwrite);  // now that no other writer can publish
  remove_stale_temporaries(path);
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
    : PendingOutput((refuse_existing_output(path, overwrite, how_to_overwrite), OutputLock(path)), overwrite,
                    how_to_overwrite) {}

PendingOutput::PendingOutput(OutputLock lock, bool overwrite, const std::string& how_to_overwrite)
    : lock_(std::move(lock)),
      path_(lock_.path()),
      partial_(partial_path(path_)),
      overwrite_(overwrite),
      how_to_overwrite_(how_to_overwrite) {
  refuse_existing_output(path_, overwrite_, how_to_overwrite_);  // under the lock: no writer publishes meanwhile
  // A leftover "<path>.partial" is a killed run's: this run starts its output afresh, in a file
  // of its own (created exclusively: a link planted there is removed, never written through).
  create_parent_folders(partial_);
  clear_temporary(partial_);
  recorder_ = std::make_unique<Recorder>(Recorder::create(partial_, false));
}

PendingOutput::~PendingOutput() { recorder_.reset(); }  // the file closed before the lock is released

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
