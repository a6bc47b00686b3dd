// Line plots as PNG files without a GUI toolkit, for `cwb sweep --png`: a small RGB raster
// with axes, ticks, labels in a built-in 5x7 bitmap font, lines and point markers, and a PNG
// encoder over zlib (deflate and crc32 are zlib's).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cwb {

struct PlotSeries {
    std::string name;
    std::vector<double> x, y;
    std::uint32_t rgb = 0x1f77b4;  // 0xRRGGBB
};

struct LinePlot {
    std::string title, xLabel, yLabel;
    std::vector<PlotSeries> series;
    int width = 800, height = 500;
    // The y range; yMax <= yMin means "from the data".
    double yMin = 0.0, yMax = 0.0;
};

// The plot as RGB pixels (width * height * 3 bytes, rows top to bottom).
std::vector<std::uint8_t> renderPlot(const LinePlot& plot);

// PNG bytes of an RGB image (8 bits per channel, no interlace).
std::vector<std::uint8_t> encodePng(const std::vector<std::uint8_t>& rgb, int width, int height);

// renderPlot + encodePng, written atomically to `path`.
void writePlotPng(const LinePlot& plot, const std::string& path);

// Tick positions for [lo, hi]: steps of 1, 2 or 5 times a power of ten, about `target` of them.
std::vector<double> niceTicks(double lo, double hi, int target = 6);

}  // namespace cwb
