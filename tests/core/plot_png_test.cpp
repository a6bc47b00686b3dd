// The PNG encoder and plotter: chunk layout and CRCs checked with zlib, pixels decoded back,
// tick choice on hand-worked ranges.
#include "core/stats/plot_png.h"

#include <zlib.h>

#include <QtTest>

using namespace cwb;

namespace {

std::uint32_t be32(const std::uint8_t* p) {
    return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
           p[3];
}

}  // namespace

class PlotPngTest : public QObject {
    Q_OBJECT
private slots:
    void pngDecodesToThePixels() {
        const int w = 5, h = 3;
        std::vector<std::uint8_t> rgb(w * h * 3);
        for (std::size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<std::uint8_t>(i * 7);
        const auto png = encodePng(rgb, w, h);
        const std::uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        QVERIFY(std::equal(signature, signature + 8, png.begin()));
        std::size_t at = 8;
        std::vector<std::uint8_t> idat;
        std::vector<std::string> types;
        while (at < png.size()) {
            const std::uint32_t len = be32(&png[at]);
            const std::string type(reinterpret_cast<const char*>(&png[at + 4]), 4);
            types.push_back(type);
            const uLong crc = crc32(0L, &png[at + 4], len + 4);
            QCOMPARE(be32(&png[at + 8 + len]), static_cast<std::uint32_t>(crc));
            if (type == "IHDR") {
                QCOMPARE(be32(&png[at + 8]), std::uint32_t(w));
                QCOMPARE(be32(&png[at + 12]), std::uint32_t(h));
                QCOMPARE(int(png[at + 16]), 8);  // bit depth
                QCOMPARE(int(png[at + 17]), 2);  // RGB
            }
            if (type == "IDAT") idat.insert(idat.end(), &png[at + 8], &png[at + 8 + len]);
            at += 12 + len;
        }
        QCOMPARE(types, (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
        std::vector<std::uint8_t> raw((w * 3 + 1) * h);
        uLongf size = raw.size();
        QCOMPARE(uncompress(raw.data(), &size, idat.data(), idat.size()), Z_OK);
        QCOMPARE(size, uLongf(raw.size()));
        for (int y = 0; y < h; ++y) {
            QCOMPARE(int(raw[y * (w * 3 + 1)]), 0);  // filter none
            QVERIFY(std::equal(rgb.begin() + y * w * 3, rgb.begin() + (y + 1) * w * 3,
                               raw.begin() + y * (w * 3 + 1) + 1));
        }
    }

    void ticksAreRoundNumbers() {
        QCOMPARE(niceTicks(0, 1, 5),
                 (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}));
        const auto t = niceTicks(0.013, 0.2, 6);
        QCOMPARE(t.size(), std::size_t(4));  // 0.05 0.1 0.15 0.2
        QVERIFY(std::fabs(t.front() - 0.05) < 1e-12 && std::fabs(t.back() - 0.2) < 1e-12);
        QCOMPARE(niceTicks(-30, 70, 5).front(), -20.0);
    }

    void plotDrawsTheSeries() {
        LinePlot plot;
        plot.title = "t";
        plot.series.push_back({"a", {0, 1}, {0, 1}, 0xff0000});
        const auto rgb = renderPlot(plot);
        QCOMPARE(rgb.size(), std::size_t(800 * 500 * 3));
        long red = 0;
        for (std::size_t i = 0; i < rgb.size(); i += 3)
            red += rgb[i] == 255 && rgb[i + 1] == 0 && rgb[i + 2] == 0;
        QVERIFY(red >
                500);  // a diagonal line 2 pixels wide across the plot area, markers and legend
        plot.width = 10;
        QVERIFY_THROWS_EXCEPTION(std::exception, renderPlot(plot));
    }
};

QTEST_APPLESS_MAIN(PlotPngTest)
#include "plot_png_test.moc"
