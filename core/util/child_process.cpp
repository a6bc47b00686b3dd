// Fork, read the child's answer through a pipe, wait (see child_process.h).
#include "core/util/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <optional>

#include "core/error.h"

namespace cwb {
namespace {

// The child's answer is one tag byte and its text: the result, or an error message.
constexpr char kResult = 'R';
constexpr char kCwbError = 'E';
constexpr char kOtherError = 'X';

std::atomic<std::int64_t> g_timeoutCapMs{0};

// The AddressSanitizer runtime of clang 14 is not fork-safe (LLVM added its fork handlers in
// release 18): a child forked while another thread is inside malloc can deadlock on its first
// allocation, and would then read as a file that loops. In such builds a child that overruns
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

void writeAll(int fd, const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // the parent gave up waiting; nobody reads the answer
        done += static_cast<std::size_t>(n);
    }
}

[[noreturn]] void runChild(const std::function<std::string()>& work, int answerFd) {
    const rlimit noCore{0, 0};
    setrlimit(RLIMIT_CORE, &noCore);  // a crash here is expected, not worth a core dump
    // Crash handlers of the host (Qt Test's stack dumper, crash reporters) must not run for a
    // crash that is the expected outcome here: die plainly.
    sigset_t crashSignals;
    sigemptyset(&crashSignals);
    for (const int signal : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS, SIGPIPE}) {
        std::signal(signal, SIG_DFL);
        sigaddset(&crashSignals, signal);
    }
    sigprocmask(SIG_UNBLOCK, &crashSignals, nullptr);
    std::string answer;
    try {
        answer = kResult + work();
    } catch (const Error& e) {
        answer = kCwbError + std::string(e.what());
    } catch (const std::exception& e) {
        answer = kOtherError + std::string(e.what());
    } catch (...) {
        answer = kOtherError + std::string("unknown exception");
    }
    writeAll(answerFd, answer);
    _exit(0);  // skip atexit handlers and destructors that belong to the parent
}

struct ChildOutcome {
    bool timedOut = false;
    int status = 0;  // waitpid's, when not timed out
    std::string answer;
};

// Reads the child's answer until it closes the pipe (by exiting), then reaps it.
ChildOutcome collect(pid_t pid, int answerFd, std::chrono::milliseconds timeout) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + timeout;
    const auto millisecondsLeft = [&] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now())
            .count();
    };
    ChildOutcome outcome;
    char chunk[1 << 16];
    bool open = true;
    while (open) {
        const long long left = millisecondsLeft();
        if (left <= 0) break;
        pollfd ready{answerFd, POLLIN, 0};
        if (poll(&ready, 1, static_cast<int>(std::min(left, 1000LL))) <= 0) continue;
        const ssize_t n = ::read(answerFd, chunk, sizeof chunk);
        if (n > 0)
            outcome.answer.append(chunk, static_cast<std::size_t>(n));
        else if (n == 0 || errno != EINTR)
            open = false;
    }
    // The pipe closes when the child exits, so it is gone or going; give it the time left.
    for (;;) {
        const pid_t done = waitpid(pid, &outcome.status, WNOHANG);
        if (done == pid) break;
        if (done < 0 && errno != EINTR) {  // SIGCHLD ignored elsewhere: judge by the answer
            outcome.status = 0;
            break;
        }
        if (open || millisecondsLeft() <= 0) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &outcome.status, 0) < 0 && errno == EINTR) {
            }
            outcome.timedOut = true;
            break;
        }
        usleep(200);
    }
    return outcome;
}

// One child. Returns nothing when it ran past the timeout; throws when it crashed.
std::optional<std::string> runOnce(const std::function<std::string()>& work,
                                   const std::string& where, std::chrono::milliseconds timeout) {
    int pipeFds[2];
    // Close-on-exec, so that a concurrent fork-and-exec elsewhere does not hold the pipe open.
    if (pipe2(pipeFds, O_CLOEXEC) != 0) return work();
    const pid_t pid = fork();
    if (pid < 0) {  // no process to spare: parse in-process, unprotected
        close(pipeFds[0]);
        close(pipeFds[1]);
        return work();
    }
    if (pid == 0) {
        close(pipeFds[0]);
        runChild(work, pipeFds[1]);
    }
    close(pipeFds[1]);
    ChildOutcome outcome = collect(pid, pipeFds[0], timeout);
    close(pipeFds[0]);
    if (outcome.timedOut) return std::nullopt;
    if (WIFSIGNALED(outcome.status))
        throw Error(where + ": reading the file crashed the format library (" +
                    strsignal(WTERMSIG(outcome.status)) + "); the file is corrupt");
    if (WIFEXITED(outcome.status) && WEXITSTATUS(outcome.status) != 0)
        throw Error(where + ": reading the file stopped the format library (exit status " +
                    std::to_string(WEXITSTATUS(outcome.status)) + "); the file is corrupt");
    if (outcome.answer.empty())
        throw Error(where + ": the reading process ended without an answer; the file is corrupt");
    const char tag = outcome.answer.front();
    outcome.answer.erase(0, 1);
    if (tag == kCwbError) throw Error(outcome.answer);
    if (tag == kOtherError)
        throw Error(where + ": reading the file failed (" + outcome.answer + ")");
    return outcome.answer;
}

}  // namespace

void capChildTimeout(std::chrono::milliseconds cap) { g_timeoutCapMs.store(cap.count()); }

std::string runInChildProcess(const std::function<std::string()>& work, const std::string& where,
                              std::chrono::milliseconds timeout) {
    if (const std::int64_t cap = g_timeoutCapMs.load(); cap > 0)
        timeout = std::min(timeout, std::chrono::milliseconds(cap));
    for (int attempt = 1;; ++attempt) {
        if (auto answer = runOnce(work, where, timeout)) return std::move(*answer);
        if (!kForkMayDeadlock || attempt == 2)
            throw Error(
                where + ": reading the file did not finish within " +
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
                " s; the file is corrupt (its structure loops) or far too large");
    }
}

}  // namespace cwb
