// Fork-and-wait probing (see child_probe.h).
#include "core/util/child_probe.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <thread>

#include "core/error.h"

namespace cwb {
namespace {

std::atomic<std::int64_t> g_timeoutCapMs{0};

}  // namespace

void capProbeTimeout(std::chrono::milliseconds cap) { g_timeoutCapMs.store(cap.count()); }

void probeInChildProcess(const std::function<void()>& work, const std::string& where,
                         std::chrono::milliseconds timeout) {
    if (const std::int64_t cap = g_timeoutCapMs.load(); cap > 0)
        timeout = std::min(timeout, std::chrono::milliseconds(cap));
    const pid_t pid = fork();
    if (pid < 0) return;  // no process to spare: parse in-process, unprotected
    if (pid == 0) {
        const rlimit noCore{0, 0};
        setrlimit(RLIMIT_CORE, &noCore);  // a crash here is expected, not worth a core dump
        // The parent sees a crash only as death by signal. Handlers it inherited (sanitizers,
        // libFuzzer, crash reporters) would instead report and exit with a status code,
        // which reads as "finished", and the parent would then crash for real.
        for (const int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) signal(sig, SIG_DFL);
        int code = 0;
        try {
            work();
        } catch (...) {
            code = 1;
        }
        _exit(code);  // skip atexit handlers and destructors that belong to the parent
    }

    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + timeout;
    auto pause = std::chrono::microseconds(100);
    int status = 0;
    for (;;) {
        const pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) break;
        if (done < 0 && errno != EINTR) return;  // SIGCHLD ignored elsewhere: status is lost
        if (Clock::now() > deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            throw Error(where + ": reading the file did not finish within " +
                        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
                        " s; the file is corrupt (its structure loops) or far too large");
        }
        std::this_thread::sleep_for(pause);
        if (pause < std::chrono::milliseconds(5)) pause *= 2;
    }
    if (WIFSIGNALED(status))
        throw Error(where + ": reading the file crashed the format library (" + strsignal(WTERMSIG(status)) +
                    "); the file is corrupt");
}

}  // namespace cwb
