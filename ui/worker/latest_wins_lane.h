// One background lane for slider-driven work: a single worker thread, a single pending slot
// and a generation counter (KDAB hotspot's jobtracker, Qt's Mandelbrot worker).
//
// submit() makes the new job the only one that matters: the running job sees that it is
// stale at its next Progress::step() (which then throws cwb::Cancelled) and a job still
// waiting in the pending slot is replaced before it ever starts, so a burst of hundreds of
// slider moves costs at most one abandoned run and one real one. Results come back to the
// GUI thread and are dropped there unless their generation is still the newest.
#pragma once

#include <QObject>
#include <QString>
#include <QThreadPool>
#include <atomic>
#include <functional>
#include <memory>

#include "core/util/progress.h"

namespace cwb::ui {

class LatestWinsLane;

// What a running job sees: a Progress to hand to core (cancels once the job is stale)
// and a way to send partial results to the GUI thread.
class JobContext {
public:
    JobContext(LatestWinsLane* lane, quint64 generation);
    cwb::Progress progress;  // reports (throttled) progress; step() throws Cancelled when stale
    bool isCurrent() const;
    // Runs `onGuiThread` on the GUI thread, unless the job is stale by then.
    void post(std::function<void()> onGuiThread) const;
    // Throws cwb::Cancelled if the job is stale; for loops that call no core function.
    void checkCancelled() const;
    quint64 generation() const { return m_generation; }

private:
    LatestWinsLane* m_lane;
    quint64 m_generation;
};

class LatestWinsLane : public QObject {
    Q_OBJECT
public:
    // A lane with its own worker thread.
    explicit LatestWinsLane(const QString& name, QObject* parent = nullptr);
    // A lane whose jobs run on `shared` (which must outlive the lane): lanes sharing a
    // one-thread pool never run at the same time, e.g. so that latency measurements of
    // different lanes do not disturb each other.
    LatestWinsLane(const QString& name, QThreadPool* shared, QObject* parent = nullptr);
    ~LatestWinsLane() override;  // cancels and waits for the running job

    // Queues `work` as the newest job; `onResult` runs on the GUI thread if the job is
    // still the newest when it finishes. Returns the job's generation.
    template <class T>
    quint64 submit(std::function<T(const JobContext&)> work, std::function<void(T)> onResult) {
        return submitErased([work = std::move(work), onResult = std::move(onResult)](
                                const JobContext& context) -> std::function<void()> {
            auto value = std::make_shared<T>(work(context));
            return [onResult, value] { onResult(std::move(*value)); };
        });
    }

    // Makes every queued or running job stale; the running one stops at its next check.
    void cancel();
    bool isIdle() const { return !m_running && !m_pending; }
    bool isRunning() const { return m_running; }
    bool hasPending() const { return static_cast<bool>(m_pending); }
    quint64 generation() const { return m_generation.load(); }
    bool isCurrent(quint64 generation) const { return m_generation.load() == generation; }
    const QString& name() const { return m_name; }

    // Jobs alive in all lanes (pending, running or awaiting delivery): tests use it to see
    // that a storm of requests leaves nothing behind.
    static int liveJobs();

signals:
    void busyChanged(bool busy);
    // Progress of the newest job only, at most every ~30 ms.
    void progressChanged(qint64 done, qint64 total);
    // The newest job threw cwb::Error (not Cancelled); the message is one line for the user.
    void failed(const QString& message);
    // The newest job finished and its result, if any, was delivered.
    void finished(quint64 generation);

private:
    friend class JobContext;
    using ErasedWork = std::function<std::function<void()>(const JobContext&)>;
    struct Job;

    quint64 submitErased(ErasedWork work);
    void startPending();
    void onJobDone(quint64 generation, std::function<void()> deliver, const QString& error);
    void setBusy(bool busy);

    QString m_name;
    QThreadPool m_ownPool;
    QThreadPool* m_pool;
    std::atomic<quint64> m_generation{0};
    std::shared_ptr<Job> m_pending;  // GUI thread only
    bool m_running = false;          // GUI thread only
    bool m_busy = false;
};

}  // namespace cwb::ui
