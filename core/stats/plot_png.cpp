// Raster line plots and PNG encoding (see plot_png.h).
#include "core/stats/plot_png.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "core/error.h"
#include "core/util/atomic_file.h"

namespace cwb {
namespace {

// 5x7 glyphs, one byte per row, bit 4 the leftmost pixel. Lower case draws as upper case.
struct Glyph {
    char c;
    std::uint8_t rows[7];
};

constexpr Glyph kFont[] = {
    {' ', {0, 0, 0, 0, 0, 0, 0}},
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}},
    {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
    {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}},
    {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}},
    {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}},
    {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'A', {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}},
    {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}},
    {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}},
    {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}},
    {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}},
    {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}},
    {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}},
    {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}},
    {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}},
    {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {'.', {0, 0, 0, 0, 0, 0x0C, 0x0C}},
    {',', {0, 0, 0, 0, 0x0C, 0x04, 0x08}},
    {'-', {0, 0, 0, 0x1F, 0, 0, 0}},
    {'+', {0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0}},
    {':', {0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0}},
    {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}},
    {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
    {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
    {'/', {0, 0x01, 0x02, 0x04, 0x08, 0x10, 0}},
    {'=', {0, 0, 0x1F, 0, 0x1F, 0, 0}},
    {'_', {0, 0, 0, 0, 0, 0, 0x1F}},
    {'?', {0x0E, 0x11, 0x01, 0x02, 0x04, 0, 0x04}},
};

const Glyph& glyphFor(char c) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    for (const auto& g : kFont)
        if (g.c == c) return g;
    return kFont[sizeof(kFont) / sizeof(kFont[0]) - 1];
}

class Canvas {
public:
    Canvas(int w, int h) : m_w(w), m_h(h), m_rgb(static_cast<std::size_t>(w) * h * 3, 255) {}

    void pixel(int x, int y, std::uint32_t c) {
        if (x < 0 || y < 0 || x >= m_w || y >= m_h) return;
        std::uint8_t* p = &m_rgb[(static_cast<std::size_t>(y) * m_w + x) * 3];
        p[0] = static_cast<std::uint8_t>(c >> 16);
        p[1] = static_cast<std::uint8_t>(c >> 8);
        p[2] = static_cast<std::uint8_t>(c);
    }
    void rect(int x0, int y0, int x1, int y1, std::uint32_t c) {
        for (int y = y0; y <= y1; ++y)
            for (int x = x0; x <= x1; ++x) pixel(x, y, c);
    }
    // Bresenham, `thick` pixels wide.
    void line(int x0, int y0, int x1, int y1, std::uint32_t c, int thick = 1) {
        const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0), sx = x0 < x1 ? 1 : -1,
                  sy = y0 < y1 ? 1 : -1;
        int err = dx + dy;
        for (;;) {
            rect(x0 - thick / 2, y0 - thick / 2, x0 + (thick - 1) / 2, y0 + (thick - 1) / 2, c);
            if (x0 == x1 && y0 == y1) break;
            const int e2 = 2 * err;
            if (e2 >= dy) {
                err += dy;
                x0 += sx;
            }
            if (e2 <= dx) {
                err += dx;
                y0 += sy;
            }
        }
    }
    // Text with its top-left corner at (x, y); each font pixel is `scale` pixels.
    void text(int x, int y, const std::string& s, std::uint32_t c, int scale = 2) {
        for (char ch : s) {
            const Glyph& g = glyphFor(ch);
            for (int r = 0; r < 7; ++r)
                for (int b = 0; b < 5; ++b)
                    if (g.rows[r] & (0x10 >> b))
                        rect(x + b * scale, y + r * scale, x + b * scale + scale - 1,
                             y + r * scale + scale - 1, c);
            x += 6 * scale;
        }
    }
    static int textWidth(const std::string& s, int scale = 2) {
        return static_cast<int>(s.size()) * 6 * scale;
    }

    std::vector<std::uint8_t> take() { return std::move(m_rgb); }

private:
    int m_w, m_h;
    std::vector<std::uint8_t> m_rgb;
};

std::string label(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", std::fabs(v) < 1e-12 ? 0.0 : v);
    return buf;
}

void appendBE32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

void appendChunk(std::vector<std::uint8_t>& out, const char* type,
                 const std::vector<std::uint8_t>& data) {
    appendBE32(out, static_cast<std::uint32_t>(data.size()));
    const std::size_t start = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data.begin(), data.end());
    const uLong crc = crc32(0L, out.data() + start, static_cast<uInt>(out.size() - start));
    appendBE32(out, static_cast<std::uint32_t>(crc));
}

}  // namespace

std::vector<double> niceTicks(double lo, double hi, int target) {
    if (!(hi > lo)) return {lo};
    const double raw = (hi - lo) / std::max(target, 1);
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * magnitude >= raw) {
            step = m * magnitude;
            break;
        }
    std::vector<double> ticks;
    for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
        ticks.push_back(t);
    return ticks;
}

std::vector<std::uint8_t> renderPlot(const LinePlot& plot) {
    const int w = plot.width, h = plot.height;
    if (w < 200 || h < 150)
        throw Error("plot size " + std::to_string(w) + "x" + std::to_string(h) +
                    " is too small; use at least 200x150");
    Canvas canvas(w, h);
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (const auto& s : plot.series)
        for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
            if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
            x0 = std::min(x0, s.x[i]);
            x1 = std::max(x1, s.x[i]);
            y0 = std::min(y0, s.y[i]);
            y1 = std::max(y1, s.y[i]);
        }
    if (!(x1 >= x0)) x0 = 0, x1 = 1;
    if (!(y1 >= y0)) y0 = 0, y1 = 1;
    if (plot.yMax > plot.yMin) y0 = plot.yMin, y1 = plot.yMax;
    if (x1 == x0) x0 -= 0.5, x1 += 0.5;
    if (y1 == y0) y0 -= 0.5, y1 += 0.5;

    const int left = 90, right = w - 30, top = 50, bottom = h - 60;
    auto px = [&](double x) {
        return left + static_cast<int>(std::lround((x - x0) / (x1 - x0) * (right - left)));
    };
    auto py = [&](double y) {
        return bottom - static_cast<int>(std::lround((y - y0) / (y1 - y0) * (bottom - top)));
    };

    constexpr std::uint32_t kGrid = 0xe0e0e0, kAxis = 0x000000, kText = 0x202020;
    for (double t : niceTicks(x0, x1)) {
        canvas.line(px(t), top, px(t), bottom, kGrid);
        canvas.line(px(t), bottom, px(t), bottom + 5, kAxis);
        const std::string s = label(t);
        canvas.text(px(t) - Canvas::textWidth(s) / 2, bottom + 10, s, kText);
    }
    for (double t : niceTicks(y0, y1)) {
        canvas.line(left, py(t), right, py(t), kGrid);
        canvas.line(left - 5, py(t), left, py(t), kAxis);
        const std::string s = label(t);
        canvas.text(left - 10 - Canvas::textWidth(s), py(t) - 7, s, kText);
    }
    canvas.line(left, top, left, bottom, kAxis, 2);
    canvas.line(left, bottom, right, bottom, kAxis, 2);
    canvas.text((w - Canvas::textWidth(plot.title)) / 2, 12, plot.title, kText);
    canvas.text((left + right - Canvas::textWidth(plot.xLabel)) / 2, h - 24, plot.xLabel, kText);
    canvas.text(8, top - 30, plot.yLabel, kText);

    for (const auto& s : plot.series) {
        int prevX = 0, prevY = 0;
        bool have = false;
        for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
            if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
                have = false;
                continue;
            }
            const int x = px(s.x[i]), y = py(std::clamp(s.y[i], y0, y1));
            if (have) canvas.line(prevX, prevY, x, y, s.rgb, 2);
            canvas.rect(x - 3, y - 3, x + 3, y + 3, s.rgb);
            prevX = x;
            prevY = y;
            have = true;
        }
    }
    // The legend last, on a white box above the lines.
    int legendWidth = 0;
    for (const auto& s : plot.series)
        legendWidth = std::max(legendWidth, Canvas::textWidth(s.name) + 48);
    const int legendX = right - legendWidth - 8,
              legendBottom = top + 12 + 22 * static_cast<int>(plot.series.size());
    if (!plot.series.empty()) {
        canvas.rect(legendX, top + 4, right - 4, legendBottom, 0xffffff);
        canvas.line(legendX, top + 4, right - 4, top + 4, kGrid);
        canvas.line(legendX, legendBottom, right - 4, legendBottom, kGrid);
    }
    int legendY = top + 10;
    for (const auto& s : plot.series) {
        canvas.rect(legendX + 8, legendY + 4, legendX + 32, legendY + 8, s.rgb);
        canvas.text(legendX + 40, legendY, s.name, kText);
        legendY += 22;
    }
    return canvas.take();
}

std::vector<std::uint8_t> encodePng(const std::vector<std::uint8_t>& rgb, int width, int height) {
    if (rgb.size() != static_cast<std::size_t>(width) * height * 3)
        throw Error("internal: PNG pixel buffer size mismatch");
    std::vector<std::uint8_t> raw;
    raw.reserve(static_cast<std::size_t>(width * 3 + 1) * height);
    for (int y = 0; y < height; ++y) {
        raw.push_back(0);  // filter: none
        const auto* row = rgb.data() + static_cast<std::size_t>(y) * width * 3;
        raw.insert(raw.end(), row, row + static_cast<std::size_t>(width) * 3);
    }
    uLongf size = compressBound(static_cast<uLong>(raw.size()));
    std::vector<std::uint8_t> deflated(size);
    if (compress2(deflated.data(), &size, raw.data(), static_cast<uLong>(raw.size()),
                  Z_BEST_COMPRESSION) != Z_OK)
        throw Error("zlib could not compress the PNG image");
    deflated.resize(size);

    std::vector<std::uint8_t> png{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    std::vector<std::uint8_t> header;
    appendBE32(header, static_cast<std::uint32_t>(width));
    appendBE32(header, static_cast<std::uint32_t>(height));
    header.insert(header.end(),
                  {8, 2, 0, 0, 0});  // 8 bits, RGB, deflate, no filter variant, no interlace
    appendChunk(png, "IHDR", header);
    appendChunk(png, "IDAT", deflated);
    appendChunk(png, "IEND", {});
    return png;
}

void writePlotPng(const LinePlot& plot, const std::string& path) {
    const auto png = encodePng(renderPlot(plot), plot.width, plot.height);
    writeFileAtomically(path, [&](const std::string& temp) {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(png.data()),
                  static_cast<std::streamsize>(png.size()));
        if (!out) throw Error("could not write " + path + "; check the folder and free space");
    });
}

}  // namespace cwb
