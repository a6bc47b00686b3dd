// Runs risky parsing in a throw-away child process. Debian's HDF5 1.10 can crash
// (out-of-bounds reads in its global heap, B-tree and header decoders) or loop on corrupt
// files, and does so nondeterministically: a file it read once can crash it the next time.
// So a reader parses such a file only in a fork()ed child, which sends back what it read as
// bytes. If the child dies or overruns its time, the file is reported as corrupt; either
// way the real process never runs the format library on the file.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace cwb {

// Runs `work` in a forked child, waits up to `timeout` and returns the bytes `work`
// returned there. When `work` throws there, the same message comes back as a cwb::Error
// ("<where>: ..." for exceptions other than cwb::Error). Throws cwb::Error "<where>: ..."
// when the child crashed, was killed, or ran past the timeout. When no child can be
// started, runs `work` in this process.
//
// `work` runs in a copy of a possibly multi-threaded process: it must not take locks that
// another thread may hold (take them around the call instead) and must not do I/O other
// than reading.
std::string runInChildProcess(const std::function<std::string()>& work, const std::string& where,
                              std::chrono::milliseconds timeout);

// Caps every child's timeout (0: no cap). Fuzzers use it: a file that makes HDF5 loop is
// common there, and waiting the full timeout each time would stall them.
void capChildTimeout(std::chrono::milliseconds cap);

}  // namespace cwb
