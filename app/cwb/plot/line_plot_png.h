// Line plots from the command line (`cwb sweep --png`): plain data here, drawn by
// QCustomPlot with the window's plot style (line_plot_png_qt.cpp) where cwb is built with Qt;
// a build without Qt has line_plot_png_unavailable.cpp instead, and --png says so.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace cwb::cli {

struct PlotSeries {
    std::string name;  // in the legend
    std::vector<double> x, y;
    std::uint32_t rgb = 0x1f77b4;
};

struct LinePlot {
    std::string title, xLabel, yLabel;
    double yMin = NAN, yMax = NAN;  // NaN: from the data
    std::vector<PlotSeries> series;
};

// Whether this build can write PNG plots.
bool pngPlotsAvailable();

// Draws `plot` offscreen and writes it to `path` as a PNG of width x height pixels,
// atomically, never over `protectedSource`. Creates the Qt application it needs (and, with no
// platform chosen, uses Qt's offscreen platform). Throws cwb::Error.
void writeLinePlotPng(const LinePlot& plot, const std::string& path, int width, int height,
                      const std::string& protectedSource = {});

}  // namespace cwb::cli
