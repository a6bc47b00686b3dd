// Runs risky parsing in a throw-away child process first. Debian's HDF5 1.10 can crash
// (out-of-bounds reads in its global heap, B-tree and header decoders) or loop on corrupt
// files; no check on our side can rule that out, so a reader first parses the file in a
// fork()ed child. If the child dies or overruns its time, the file is reported as corrupt
// and the real process never touches it; otherwise the parent parses it for real.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace cwb {

// Runs `work` in a forked child and waits up to `timeout`. Returns normally when the child
// finished, whether `work` returned or threw (the caller then repeats `work` in-process and
// gets the same result or error). Throws cwb::Error "<where>: ..." when the child crashed,
// was killed, or ran past the timeout. When no child can be started, returns without
// probing.
//
// `work` runs in a copy of a possibly multi-threaded process: it must not take locks that
// another thread may hold (take them around the probe instead) and must not do I/O other
// than reading.
void probeInChildProcess(const std::function<void()>& work, const std::string& where,
                         std::chrono::milliseconds timeout);

// Caps every probe's timeout (0: no cap). Fuzzers use it: a file that makes HDF5 loop is
// common there, and waiting the full timeout each time would stall them.
void capProbeTimeout(std::chrono::milliseconds cap);

}  // namespace cwb
