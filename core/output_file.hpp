#pragma once
// Outputs replaced atomically: every output is written under a temporary name beside its final
// one and renamed into place only when it is whole, so a file carrying the final name is never
// partial, an existing output stays untouched until the rename replaces it, and nothing is ever
// truncated in place. The CLI (`run`, `ensemble`, `compare`), the Python bindings and ensembles
// all go through here.
//
// Every writer first takes the output's lock (OutputLock, "<out>.lock") and holds it until it
// has published or given up, so two processes never write one output: the second is refused at
// once, naming the first, and never touches its temporary or what it publishes. The "output
// exists" check and the final rename both happen under the lock.
//
// A run's output (PendingOutput) is recorded into "<out>.partial", flushed after every record
// (see core/recorder.hpp for why a kill at any moment leaves it readable), and renamed to <out>
// by publish(). A process killed mid-run leaves "<out>.partial" holding every completed record;
// the next run with the same output replaces it.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/recorder.hpp"

namespace contactsim {

// "<path>.partial": where an output lives until it is complete.
std::filesystem::path partial_path(const std::filesystem::path& path);

// "<path>.lock": the file an OutputLock on `path` locks (for a folder "out/", "out.lock").
std::filesystem::path lock_path(const std::filesystem::path& path);

// An exclusive claim on an output for as long as one process writes it. Taken with flock(2) on
// "<path>.lock" (opened with O_NOFOLLOW: a planted link is refused, never followed), so the
// operating system releases it when its holder dies, however it dies; a lock file left by a
// killed writer is simply taken over. The lock file holds its holder's description (process id,
// host, start time), which a refused writer quotes. The destructor removes the lock file while
// still holding it; a writer that had opened the old file checks, once it holds the lock, that
// the file is still the one at "<path>.lock", and retries otherwise.
class OutputLock {
 public:
  // RecorderError naming `path`, the lock file and the other writer when another process holds
  // the lock; or naming the lock file and the OS reason when it cannot be created.
  explicit OutputLock(std::filesystem::path path);
  ~OutputLock();
  OutputLock(OutputLock&& other) noexcept;
  OutputLock& operator=(OutputLock&&) = delete;
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::filesystem::path file_;
  int fd_ = -1;
};

// Whether `a` and `b` name the same file (the same inode if both exist, else the same
// normalised absolute path). For refusing an output that is one of the run's own files.
bool same_file(const std::filesystem::path& a, const std::filesystem::path& b);

// The first of `files` that is the same file as `path` (same_file), or nullptr: for refusing an
// output that would replace one of a run's inputs.
const std::filesystem::path* same_file_among(const std::filesystem::path& path,
                                             const std::vector<std::filesystem::path>& files);

// Throws RecorderError when `path` is one of `inputs` (same_file_among): what the library's
// writers (Python's record_to, every checkpoint) say before they create anything.
void refuse_input_as_output(const std::filesystem::path& path, const std::vector<std::filesystem::path>& inputs);

// Removes the temporaries ".<name>.tmp<pid>" beside `path` (as checkpoints create them) whose
// process is gone: a killed writer's. Those of live processes are left alone.
void remove_stale_temporaries(const std::filesystem::path& path);

// Refuses (RecorderError naming the path) anything existing at `path` that is not a regular file
// (directory, device node, FIFO, socket: never replaced, even with `overwrite`), and an existing
// file unless `overwrite`; `how_to_overwrite` completes "output file exists; ...". A symbolic
// link is judged by what it points to (publishing replaces the link itself, never its target).
void refuse_existing_output(const std::filesystem::path& path, bool overwrite, const std::string& how_to_overwrite);

// What kind of file `status` describes, for messages: "a directory", "a FIFO", ...
std::string file_kind(const std::filesystem::file_status& status);

// Makes way for a temporary at `temporary`: a leftover regular file or symbolic link there (a
// killed run's, or planted) is removed (the link itself, never what it points to); anything else
// there is refused. The caller then creates the temporary exclusively (create_exclusively, or
// h5::File::create without overwrite: O_CREAT|O_EXCL, which never follows a link), so a link
// that appears meanwhile makes the creation fail instead of being written through.
void clear_temporary(const std::filesystem::path& temporary);

// Creates `temporary` for writing with O_CREAT|O_EXCL|O_NOFOLLOW and returns its descriptor;
// RecorderError naming the file and the reason. Call clear_temporary first.
int create_exclusively(const std::filesystem::path& temporary);

// Renames the complete `temporary` to `path`: refuses (refuse_existing_output) what is there now;
// without `overwrite` the rename itself refuses an existing `path` (RENAME_NOREPLACE), so a file
// that appears at the last moment is not replaced either.
void publish_temporary(const std::filesystem::path& temporary, const std::filesystem::path& path, bool overwrite,
                       const std::string& how_to_overwrite);

// Creates the folders above `path`; RecorderError naming the folder and the OS reason.
void create_parent_folders(const std::filesystem::path& path);

// Writes `path` whole, under its OutputLock: `write` creates (exclusively: create_exclusively, or an HDF5 file created
// without overwrite) and fills the temporary file it is given, "<path>.partial" unless
// `temporary` is given, which is then renamed over `path` (publish_temporary). An existing
// `path` is refused unless `overwrite`, and so is anything there but a regular file. On any
// failure the temporary is removed, `path` is left as it was, and a RecorderError names the file
// and the operating system's reason.
void replace_atomically(const std::filesystem::path& path,
                        const std::function<void(const std::filesystem::path& temporary)>& write,
                        bool overwrite = true, const std::string& how_to_overwrite = "",
                        const std::filesystem::path& temporary = {});

// Writes `text` to `path` atomically (replace_atomically).
void write_text_atomically(const std::filesystem::path& path, const std::string& text);

// A run's output while it is being recorded.
class PendingOutput {
 public:
  // Takes the output's lock (OutputLock), refuses an existing `path` unless `overwrite`
  // (refuse_existing_output), then creates the recorder at "<path>.partial", replacing a
  // leftover of a killed run (clear_temporary: a link there is removed, never followed).
  PendingOutput(std::filesystem::path path, bool overwrite,
                const std::string& how_to_overwrite = "pass --force to overwrite");
  // The same with the lock already taken (the CLI takes it before building the world).
  PendingOutput(OutputLock lock, bool overwrite, const std::string& how_to_overwrite = "pass --force to overwrite");
  // Unpublished: closes the file, leaving "<path>.partial" with every completed record, and
  // releases the lock.
  ~PendingOutput();
  PendingOutput(const PendingOutput&) = delete;
  PendingOutput& operator=(const PendingOutput&) = delete;

  Recorder& recorder();
  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& partial() const { return partial_; }

  // Closes the file and renames it to path(), replacing the file there (if `overwrite`). Throws
  // RecorderError, leaving "<path>.partial" in place, if a write had failed or the rename fails.
  void publish();
  // Closes the file and removes "<path>.partial" (after a failure).
  void discard() noexcept;

 private:
  OutputLock lock_;  // first member: taken before anything is touched, released last
  std::filesystem::path path_;
  std::filesystem::path partial_;
  bool overwrite_;
  std::string how_to_overwrite_;
  std::unique_ptr<Recorder> recorder_;
};

}  // namespace contactsim
