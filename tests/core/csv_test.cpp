// The CSV writer against tables written out by hand from RFC 4180's rules: a field with a
// comma, a double quote, CR or LF is quoted and its quotes doubled; nothing else is; numbers
// with their precision, NaN as an empty field; and the file on disk holds exactly the table.
#include "core/util/csv.h"

#include <QtTest>
#include <cmath>

#include "core/error.h"
#include "tests/support/test_paths.h"

using namespace cwb;

class CsvTest : public QObject {
    Q_OBJECT
private slots:
    void fieldQuoting_data() {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("expected");
        QTest::newRow("plain") << "accuracy"
                               << "accuracy";
        QTest::newRow("empty") << ""
                               << "";
        QTest::newRow("spaces are kept unquoted") << " cpu float32 "
                                                  << " cpu float32 ";
        QTest::newRow("comma") << "dense_1,dense_2"
                               << "\"dense_1,dense_2\"";
        QTest::newRow("quote") << "say \"hi\""
                               << "\"say \"\"hi\"\"\"";
        QTest::newRow("only a quote") << "\""
                                      << "\"\"\"\"";
        QTest::newRow("newline") << "two\nlines"
                                 << "\"two\nlines\"";
        QTest::newRow("carriage return") << "a\rb"
                                         << "\"a\rb\"";
        QTest::newRow("all at once") << "a,\"b\"\n"
                                     << "\"a,\"\"b\"\"\n\"";
        QTest::newRow("semicolon is not special") << "a;b"
                                                  << "a;b";
    }
    void fieldQuoting() {
        QFETCH(QString, field);
        QFETCH(QString, expected);
        QCOMPARE(QString::fromStdString(csvField(field.toStdString())), expected);
    }

    void table() {
        CsvWriter csv;
        csv.row({"name", "value", "note"});
        csv.text("alpha").number(0.05).text("step, in units of w").endRow();
        csv.text("rho").number(std::nan("")).text("not \"measured\"").endRow();
        csv.text("big").number(1234567.891, 4).text("").endRow();
        csv.text("exact").number(1.0 / 3.0).fixed(2.0 / 3.0, 3).integer(-42).endRow();
        csv.text("inf").number(INFINITY).fixed(-INFINITY, 2).endRow();
        QCOMPARE(QString::fromStdString(csv.str()), QString("name,value,note\n"
                                                            "alpha,0.05,\"step, in units of w\"\n"
                                                            "rho,,\"not \"\"measured\"\"\"\n"
                                                            "big,1.235e+06,\n"
                                                            "exact,0.33333333,0.667,-42\n"
                                                            "inf,inf,-inf\n"));
    }

    void emptyRow() {
        CsvWriter csv;
        csv.endRow().text("x").endRow();
        QCOMPARE(csv.str(), std::string("\nx\n"));
    }

    void savesExactlyTheTable() {
        const std::string path = test::tempDir() + "/table.csv";
        CsvWriter csv;
        csv.row({"a", "b,c"}).text("1").text("x\ny").endRow();
        csv.save(path);
        QCOMPARE(test::readBytes(path), std::string("a,\"b,c\"\n1,\"x\ny\"\n"));
        // Never over the file the table came from.
        QVERIFY_THROWS_EXCEPTION(Error, csv.save(path, path));
    }
};

QTEST_APPLESS_MAIN(CsvTest)
#include "csv_test.moc"
