// The worker lane on its own: a storm of submissions delivers only the newest result and
// leaves no job behind, a running job stops soon after cancel(), errors reach failed().
#include "ui/worker/latest_wins_lane.h"

#include <QtTest>
#include <atomic>
#include <thread>

#include "core/error.h"
#include "tests/support/timing.h"

using namespace cwb;
using namespace cwb::ui;

namespace {
// A job that "works" for `ms` milliseconds, checking for staleness every millisecond as
// core functions do through Progress::step.
int busyWork(const JobContext& context, int ms, int value) {
    for (int i = 0; i < ms; ++i) {
        context.progress.step(i, ms);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return value;
}
}  // namespace

class LatestWinsLaneTest : public QObject {
    Q_OBJECT
private slots:
    void stormDeliversOnlyTheNewest_data() {
        QTest::addColumn<int>("jobs");
        QTest::addColumn<int>("workMs");
        QTest::newRow("300 quick") << 300 << 2;
        QTest::newRow("500 slow") << 500 << 40;
    }
    void stormDeliversOnlyTheNewest() {
        QFETCH(int, jobs);
        QFETCH(int, workMs);
        LatestWinsLane lane("test");
        QSignalSpy finished(&lane, &LatestWinsLane::finished);
        std::atomic<int> started{0};
        QVector<int> delivered;
        for (int i = 0; i < jobs; ++i) {
            lane.submit<int>(
                [&started, workMs, i](const JobContext& c) {
                    ++started;
                    return busyWork(c, workMs, i);
                },
                [&delivered](int v) { delivered.append(v); });
            if (i % 50 == 0) QCoreApplication::processEvents();  // a storm, not one single burst
        }
        QTRY_VERIFY_WITH_TIMEOUT(lane.isIdle(), 5000);
        QCOMPARE(delivered, QVector<int>{jobs - 1});
        QCOMPARE(finished.count(), 1);
        // Pending jobs are replaced before they start: only a handful ever ran.
        QVERIFY2(started.load() < 20, qPrintable(QString::number(started.load())));
        QTRY_COMPARE_WITH_TIMEOUT(LatestWinsLane::liveJobs(), 0, 2000);
    }

    void cancelStopsARunningJobQuickly() {
        LatestWinsLane lane("test");
        std::atomic<bool> running{false};
        bool delivered = false;
        lane.submit<int>(
            [&running](const JobContext& c) {
                running = true;
                return busyWork(c, 60000, 1);
            },
            [&delivered](int) { delivered = true; });
        QTRY_VERIFY_WITH_TIMEOUT(running.load(), 2000);
        QElapsedTimer timer;
        timer.start();
        lane.cancel();
        QTRY_VERIFY_WITH_TIMEOUT(lane.isIdle(), cwb::test::timeBoundMs(200));
        QVERIFY(timer.elapsed() < cwb::test::timeBoundMs(200));
        QVERIFY(!delivered);
    }

    void errorsReachFailed() {
        LatestWinsLane lane("test");
        QSignalSpy failed(&lane, &LatestWinsLane::failed);
        lane.submit<int>(
            [](const JobContext&) -> int { throw Error("model.h5: layer 'x' is broken"); },
            [](int) { QFAIL("no result expected"); });
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 2000);
        QCOMPARE(failed.first().first().toString(), QString("model.h5: layer 'x' is broken"));
        QVERIFY(lane.isIdle());
    }

    void partialResultsOfStaleJobsAreDropped() {
        LatestWinsLane lane("test");
        QVector<int> partials;
        std::atomic<bool> go{false};
        auto job = [&go, &partials](int id) {
            return [&go, &partials, id](const JobContext& c) {
                while (!go.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                c.post([&partials, id] { partials.append(id); });
                return id;
            };
        };
        int result = -1;
        lane.submit<int>(job(1), [&result](int v) { result = v; });
        lane.submit<int>(job(2), [&result](int v) { result = v; });  // job 1 is now stale
        go = true;
        QTRY_VERIFY_WITH_TIMEOUT(lane.isIdle(), 2000);
        QCOMPARE(result, 2);
        QVERIFY(!partials.contains(1));
    }

    void destructionWaitsForTheRunningJob() {
        std::atomic<bool> running{false};
        {
            LatestWinsLane lane("test");
            lane.submit<int>(
                [&running](const JobContext& c) {
                    running = true;
                    return busyWork(c, 60000, 1);
                },
                [](int) {});
            QTRY_VERIFY_WITH_TIMEOUT(running.load(), 2000);
        }  // must cancel and join, not hang for a minute or crash
        QTRY_COMPARE_WITH_TIMEOUT(LatestWinsLane::liveJobs(), 0, 1000);
    }
};

QTEST_MAIN(LatestWinsLaneTest)
#include "latest_wins_lane_test.moc"
