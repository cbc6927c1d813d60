#pragma once
// Outputs replaced atomically: every output is written under a temporary name beside its final
// one and renamed into place only when it is whole, so a file carrying the final name is never
// partial, an existing output stays untouched until the rename replaces it, and nothing is ever
// truncated in place. The CLI (`run`, `ensemble`, `compare`), the Python bindings and ensembles
// all go through here.
//
// A run's output (PendingOutput) is recorded into "<out>.partial", flushed after every record
// (see core/recorder.hpp for why a kill at any moment leaves it readable), and renamed to <out>
// by publish(). A process killed mid-run leaves "<out>.partial" holding every completed record;
// the next run with the same output replaces it.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "core/recorder.hpp"

namespace contactsim {

// "<path>.partial": where an output lives until it is complete.
std::filesystem::path partial_path(const std::filesystem::path& path);

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

// Writes `path` whole: `write` creates (exclusively: create_exclusively, or an HDF5 file created
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
  // Refuses an existing `path` unless `overwrite` (refuse_existing_output), then creates the
  // recorder at "<path>.partial", replacing a leftover of a killed run (clear_temporary: a link
  // there is removed, never followed).
  PendingOutput(std::filesystem::path path, bool overwrite,
                const std::string& how_to_overwrite = "pass --force to overwrite");
  // Unpublished: closes the file, leaving "<path>.partial" with every completed record.
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
  std::filesystem::path path_;
  std::filesystem::path partial_;
  bool overwrite_;
  std::string how_to_overwrite_;
  std::unique_ptr<Recorder> recorder_;
};

}  // namespace contactsim
