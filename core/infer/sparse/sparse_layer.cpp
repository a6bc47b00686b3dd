// Sparse Dense and Conv2D (see sparse_layer.h).
#include "core/infer/sparse/sparse_layer.h"

#include <algorithm>

namespace cwb::sparse {

void denseSparse(const CsrMatrix& a, const Epilogue& epilogue, const float* in, long long rows,
                 float* out, SparseScratch& s) {
    s.xT.resize(static_cast<std::size_t>(rows) * a.cols);
    s.yT.resize(static_cast<std::size_t>(rows) * a.rows);
    transpose(in, rows, a.cols, s.xT.data());
    spmm(a, s.xT.data(), static_cast<int>(rows), s.yT.data());
    transpose(s.yT.data(), a.rows, rows, out);
    applyEpilogue(epilogue, out, rows, a.rows);
}

void conv2dSparse(const Window2D& win, const CsrMatrix& a, const Epilogue& epilogue,
                  const float* in, int batch, float* out, SparseScratch& s) {
    const long long pixels = win.outputPixels();
    const long long columns = pixels * batch;  // every image's pixels side by side: long rows
    const int channels = win.channels;
    s.xT.resize(static_cast<std::size_t>(columns) * a.cols);
    s.yT.resize(static_cast<std::size_t>(columns) * a.rows);
    // Patches input-major: row (ky, kx, c) holds that tap for every output pixel of every image.
    for (int ky = 0; ky < win.kernelH; ++ky)
        for (int kx = 0; kx < win.kernelW; ++kx)
            for (int c = 0; c < channels; ++c) {
                float* row =
                    s.xT.data() +
                    ((static_cast<long long>(ky) * win.kernelW + kx) * channels + c) * columns;
                for (int b = 0; b < batch; ++b) {
                    const float* image = in + b * win.inputSize();
                    float* dst = row + b * pixels;
                    for (int oy = 0; oy < win.outH; ++oy) {
                        const int iy = oy * win.strideH - win.padTop + ky;
                        for (int ox = 0; ox < win.outW; ++ox) {
                            const int ix = ox * win.strideW - win.padLeft + kx;
                            const bool inside = iy >= 0 && iy < win.inH && ix >= 0 && ix < win.inW;
                            dst[static_cast<long long>(oy) * win.outW + ox] =
                                inside
                                    ? image[(static_cast<long long>(iy) * win.inW + ix) * channels +
                                            c]
                                    : 0.f;
                        }
                    }
                }
            }
    spmm(a, s.xT.data(), static_cast<int>(columns), s.yT.data());
    transpose(s.yT.data(), a.rows, columns, out);
    applyEpilogue(epilogue, out, columns, a.rows);
}

}  // namespace cwb::sparse
