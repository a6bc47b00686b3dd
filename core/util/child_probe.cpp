// Fork-and-wait probing (see child_probe.h).
#include "core/util/child_probe.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <thread>

#include "core/error.h"

namespace cwb {
namespace {

// Exit statuses of a child that finished normally. Anything else means it was stopped by
// something else (a sanitizer's report, abort() inside a library, exit() from a library).
constexpr int kReturned = 0;
constexpr int kThrew = 86;

std::atomic<std::int64_t> g_timeoutCapMs{0};

// The AddressSanitizer runtime of clang 14 is not fork-safe (LLVM added its fork handlers in
// release 18): a child forked while another thread is inside malloc can deadlock on its first
// allocation, and would then read as a file that loops. In such builds a probe that overruns
// its time is tried once more. Release builds use glibc's malloc, which is fork-safe.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kForkMayDeadlock = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kForkMayDeadlock = true;
#else
constexpr bool kForkMayDeadlock = false;
#endif
#else
constexpr bool kForkMayDeadlock = false;
#endif

// One probe. Returns false when the child finished (or none could be started), true when it
// ran past the timeout and was killed; throws when it crashed.
bool probeOnce(const std::function<void()>& work, const std::string& where, std::chrono::milliseconds timeout) {
    const pid_t pid = fork();
    if (pid < 0) return false;  // no process to spare: parse in-process, unprotected
    if (pid == 0) {
        const rlimit noCore{0, 0};
        setrlimit(RLIMIT_CORE, &noCore);  // a crash here is expected, not worth a core dump
        // Crash handlers of the host (Qt Test's stack dumper, crash reporters) must not run
        // for a crash that is the expected outcome here: die plainly.
        sigset_t crashSignals;
        sigemptyset(&crashSignals);
        for (const int signal : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS}) {
            std::signal(signal, SIG_DFL);
            sigaddset(&crashSignals, signal);
        }
        sigprocmask(SIG_UNBLOCK, &crashSignals, nullptr);
        int code = kReturned;
        try {
            work();
        } catch (...) {
            code = kThrew;
        }
        _exit(code);  // skip atexit handlers and destructors that belong to the parent
    }

    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + timeout;
    // A pidfd becomes readable when the child exits, so the wait costs no polling delay;
    // without one (old kernel, seccomp), poll waitpid with short sleeps.
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    auto pause = std::chrono::microseconds(100);
    int status = 0;
    for (;;) {
        const pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) break;
        if (done < 0 && errno != EINTR) {  // SIGCHLD ignored elsewhere: the status is lost
            if (pidfd >= 0) close(pidfd);
            return false;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            if (pidfd >= 0) close(pidfd);
            return true;
        }
        if (pidfd >= 0) {
            pollfd ready{pidfd, POLLIN, 0};
            poll(&ready, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
        } else {
            std::this_thread::sleep_for(pause);
            if (pause < std::chrono::milliseconds(5)) pause *= 2;
        }
    }
    if (pidfd >= 0) close(pidfd);
    if (WIFSIGNALED(status))
        throw Error(where + ": reading the file crashed the format library (" + strsignal(WTERMSIG(status)) +
                    "); the file is corrupt");
    if (WIFEXITED(status) && WEXITSTATUS(status) != kReturned && WEXITSTATUS(status) != kThrew)
        throw Error(where + ": reading the file stopped the format library (exit status " +
                    std::to_string(WEXITSTATUS(status)) + "); the file is corrupt");
    return false;
}

}  // namespace

void capProbeTimeout(std::chrono::milliseconds cap) { g_timeoutCapMs.store(cap.count()); }

void probeInChildProcess(const std::function<void()>& work, const std::string& where,
                         std::chrono::milliseconds timeout) {
    if (const std::int64_t cap = g_timeoutCapMs.load(); cap > 0)
        timeout = std::min(timeout, std::chrono::milliseconds(cap));
    for (int attempt = 1;; ++attempt) {
        if (!probeOnce(work, where, timeout)) return;
        if (!kForkMayDeadlock || attempt == 2)
            throw Error(where + ": reading the file did not finish within " +
                        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
                        " s; the file is corrupt (its structure loops) or far too large");
    }
}

}  // namespace cwb
