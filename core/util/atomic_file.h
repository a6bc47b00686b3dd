// Atomic file output: a file is written under a temporary name in its destination folder
// and renamed over the destination only when writing succeeded, so a crash, a full disk or
// an exception never leaves a half-written file, and an existing file survives a failure.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace cwb {

// Throws cwb::Error when `destination` is the same file as `source` (the user's input):
// same canonical path, or another link to it. Either may not exist yet.
void refuseToOverwriteSource(const std::string& destination, const std::string& source);

// Calls write(tempPath), which must create the file at tempPath (it exists, empty, when
// write is called), then flushes it and renames it to `path`. On any exception the
// temporary file is removed and the exception propagates; `path` is untouched.
// A non-empty `protectedSource` is checked with refuseToOverwriteSource first.
// Temporary files that writers killed mid-write left beside `path` are removed after the
// next successful write to it (only those whose process is gone).
void writeFileAtomically(const std::string& path,
                         const std::function<void(const std::string& tempPath)>& write,
                         const std::string& protectedSource = {});

// Writes `bytes` to `path` the same way: small files such as saved sessions.
void writeBytesAtomically(const std::string& path, std::string_view bytes,
                          const std::string& protectedSource = {});

}  // namespace cwb
