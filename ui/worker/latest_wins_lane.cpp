// A single-thread lane where only the newest job matters (see latest_wins_lane.h).
#include "ui/worker/latest_wins_lane.h"

#include <QElapsedTimer>
#include <QMetaObject>
#include <QRunnable>

#include "core/error.h"

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace cwb::ui {

namespace {
std::atomic<int> g_liveJobs{0};

// Background work runs a little nicer than the GUI thread, so that on a busy machine the
// scheduler favours the window's event loop. Linux sets niceness per thread; done once per
// pool thread.
void lowerThisThreadsPriority() {
#ifdef __linux__
    thread_local bool done = false;
    if (done) return;
    done = true;
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 3);
#endif
}
}  // namespace

struct LatestWinsLane::Job {
    Job(quint64 g, ErasedWork w) : generation(g), work(std::move(w)) { ++g_liveJobs; }
    ~Job() { --g_liveJobs; }
    Job(const Job&) = delete;
    Job& operator=(const Job&) = delete;
    quint64 generation;
    ErasedWork work;
};

int LatestWinsLane::liveJobs() { return g_liveJobs.load(); }

JobContext::JobContext(LatestWinsLane* lane, quint64 generation)
    : m_lane(lane), m_generation(generation) {
    // The timer lives in the callback so that progress reaches the GUI at most ~30 times a
    // second however often core calls step(); staleness is checked on every call.
    auto timer = std::make_shared<QElapsedTimer>();
    timer->start();
    progress.callback = [lane, generation, timer](long long done, long long total) {
        if (lane->m_generation.load() != generation) return false;
        if (timer->elapsed() >= 30 || done == total) {
            timer->restart();
            QMetaObject::invokeMethod(
                lane,
                [lane, generation, done, total] {
                    if (lane->isCurrent(generation)) emit lane->progressChanged(done, total);
                },
                Qt::QueuedConnection);
        }
        return true;
    };
}

bool JobContext::isCurrent() const { return m_lane->isCurrent(m_generation); }

void JobContext::post(std::function<void()> onGuiThread) const {
    LatestWinsLane* lane = m_lane;
    const quint64 generation = m_generation;
    QMetaObject::invokeMethod(
        lane,
        [lane, generation, fn = std::move(onGuiThread)] {
            if (lane->isCurrent(generation)) fn();
        },
        Qt::QueuedConnection);
}

void JobContext::checkCancelled() const {
    if (!isCurrent()) throw Cancelled();
}

LatestWinsLane::LatestWinsLane(const QString& name, QObject* parent)
    : QObject(parent), m_name(name), m_pool(&m_ownPool) {
    m_ownPool.setMaxThreadCount(1);
    m_ownPool.setObjectName(name);
}

LatestWinsLane::LatestWinsLane(const QString& name, QThreadPool* shared, QObject* parent)
    : QObject(parent), m_name(name), m_pool(shared) {}

LatestWinsLane::~LatestWinsLane() {
    cancel();
    // With a shared pool this also waits for other lanes' jobs; their owners cancel them first.
    m_pool->waitForDone();
}

quint64 LatestWinsLane::submitErased(ErasedWork work) {
    const quint64 generation = ++m_generation;
    m_pending =
        std::make_shared<Job>(generation, std::move(work));  // a stale pending job dies here
    setBusy(true);
    if (!m_running) startPending();
    return generation;
}

void LatestWinsLane::cancel() {
    ++m_generation;
    m_pending.reset();
    if (!m_running) setBusy(false);
}

void LatestWinsLane::startPending() {
    std::shared_ptr<Job> job = std::move(m_pending);
    m_pending.reset();
    if (!job) return;
    m_running = true;
    m_pool->start([this, job] {
        lowerThisThreadsPriority();
        std::function<void()> deliver;
        QString error;
        if (isCurrent(job->generation)) {  // stale before it started: skip the work
            try {
                JobContext context(this, job->generation);
                deliver = job->work(context);
            } catch (const Cancelled&) {
            } catch (const std::exception& e) {
                error = QString::fromStdString(e.what());
            }
        }
        const quint64 generation = job->generation;
        QMetaObject::invokeMethod(
            this,
            [this, generation, deliver = std::move(deliver), error] {
                onJobDone(generation, deliver, error);
            },
            Qt::QueuedConnection);
    });
}

void LatestWinsLane::onJobDone(quint64 generation, std::function<void()> deliver,
                               const QString& error) {
    m_running = false;
    if (isCurrent(generation)) {
        if (!error.isEmpty())
            emit failed(error);
        else if (deliver)
            deliver();
        emit finished(generation);
    }
    deliver = nullptr;      // release the result before the next job starts
    if (m_running) return;  // the delivery itself submitted and started a job
    if (m_pending)
        startPending();
    else
        setBusy(false);
}

void LatestWinsLane::setBusy(bool busy) {
    if (busy == m_busy) return;
    m_busy = busy;
    emit busyChanged(busy);
}

}  // namespace cwb::ui
