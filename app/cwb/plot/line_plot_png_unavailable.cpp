// Line plots in a build without Qt (see line_plot_png.h): none.
#include "app/cwb/plot/line_plot_png.h"
#include "core/error.h"

namespace cwb::cli {

bool pngPlotsAvailable() { return false; }

void writeLinePlotPng(const LinePlot&, const std::string& path, int, int, const std::string&) {
    throw Error(path + ": PNG plots are unavailable in this build (cwb was built without Qt)");
}

}  // namespace cwb::cli
