// IDX parsing on hand-made bytes, and the real Fashion-MNIST test split.
#include "core/io/idx_dataset.h"

#include <QtTest>

#include "core/error.h"
#include "tests/support/test_paths.h"

using namespace cwb;

class IdxDatasetTest : public QObject {
    Q_OBJECT
private slots:
    void parsesAHandMadeFile() {
        const std::vector<std::uint8_t> bytes{0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6};
        const IdxArray a = parseIdx(bytes, "hand");
        QCOMPARE(a.dims, (Shape{2, 3}));
        QCOMPARE(a.values.back(), std::uint8_t(6));
    }

    void rejectsBadHeaders_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("message");
        QTest::newRow("bad magic") << QByteArray("\x01\x00\x08\x01", 4) << "bad magic";
        QTest::newRow("float type")
            << QByteArray("\x00\x00\x0d\x01\x00\x00\x00\x01", 8) << "not supported";
        QTest::newRow("truncated") << QByteArray("\x00\x00\x08\x03\x00\x00", 6) << "truncated";
        QTest::newRow("size mismatch")
            << QByteArray("\x00\x00\x08\x01\x00\x00\x00\x05\x01", 9) << "header says 5";
        QTest::newRow("overflow")
            << QByteArray("\x00\x00\x08\x03\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 16)
            << "overflow";
    }
    void rejectsBadHeaders() {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, message);
        const std::vector<std::uint8_t> raw(bytes.begin(), bytes.end());
        try {
            parseIdx(raw, "bad.idx");
            QFAIL("accepted a bad file");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains(message), e.what());
            QVERIFY(QString(e.what()).startsWith("bad.idx: "));
        }
    }

    void loadsTheRealTestSplit() {
        const Dataset data = loadFashionMnist(test::datasetDir(), Split::Test);
        QCOMPARE(data.size(), 10000);
        QCOMPARE(data.pixelsPerImage(), 784);
        // The first test image is an ankle boot (class 9), the second a pullover (2).
        QCOMPARE(int(data.labels[0]), 9);
        QCOMPARE(int(data.labels[1]), 2);
        for (float v : data.images) QVERIFY(v >= 0.f && v <= 1.f);
    }

    void missingDataSetNamesThePackage() {
        try {
            loadFashionMnist("/nonexistent", Split::Test);
            QFAIL("no error");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("apt-get install dataset-fashion-mnist"), e.what());
        }
    }
};

QTEST_APPLESS_MAIN(IdxDatasetTest)
#include "idx_dataset_test.moc"
