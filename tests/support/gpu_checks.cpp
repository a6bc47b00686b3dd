// The GPU-against-CPU checks (see gpu_checks.h).
#include "tests/support/gpu_checks.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <sstream>

#include "core/compress/quant_types.h"
#include "core/compress/unit_quantizers.h"
#include "core/infer/evaluate.h"
#include "core/io/model_loader.h"
#include "core/io/safetensors.h"
#include "core/llm/llm_compress.h"
#include "core/llm/llm_scheme_table.h"
#include "core/llm/scheme_rows.h"
#include "core/quant/fp16.h"
#include "core/quant/quant_rows.h"
#include "core/train/arch_spec.h"
#include "core/util/mapped_file.h"
#ifdef CWB_HAVE_CUDA
#include "core/backend/cuda/cuda_jobs.h"
#endif

namespace cwb::test {
namespace {

constexpr long long kRows = 333, kCols = 97;  // odd: every tail and partial vector is taken

const char* const kQuants[] = {"none", "uniform", "q4s_tensor", "q8a_channel", "q4s_g32"};
const char* const kKeeps[] = {"all", "threshold", "textbook", "explicit"};

// Normal weights with exact zeros, exact ties of the uniform step and values outside the
// histogram range.
std::vector<float> weights(std::size_t n = kRows * kCols) {
    std::mt19937 rng(20261201);
    std::normal_distribution<float> normal(0.f, 0.05f);
    std::vector<float> w(n);
    for (std::size_t i = 0; i < w.size(); ++i) {
        w[i] = normal(rng);
        if (i % 97 == 5) w[i] = 0.f;
        if (i % 101 == 7) w[i] = (static_cast<float>(i % 11) - 5.f + 0.5f) * 0.01f;  // ties
        if (i % 503 == 9) w[i] = (i % 2 ? 1.f : -1.f) * 0.4f;                        // outside
    }
    return w;
}

// Weights where the GPU's fast rules could part from the CPU's: histogram edges and bin
// boundaries (and the floats beside them), quotients w / alpha next to half-integers, and
// codes past the nearer end of the span (the exact path). `huge` adds weights whose codes are
// past 2^22 and whose errors fall far below the error histogram (codes then go uncounted).
std::vector<float> edgeWeights(bool huge) {
    std::vector<float> w = weights();
    std::size_t i = 0;
    const auto put = [&](float x) {
        for (float y : {x, std::nextafter(x, -1.f), std::nextafter(x, 1.f)}) {
            w[i] = y;
            i += 7;  // spread over lanes and blocks
        }
    };
    for (double edge : {-0.15, 0.15, -0.006, 0.006}) put(static_cast<float>(edge));
    for (int b = 0; b <= 128; ++b) put(static_cast<float>(-0.15 + 0.3 * b / 128));
    for (int k = -30; k <= 30; ++k) put(static_cast<float>((k + 0.5) * 0.01));
    for (float x : {0.55f, 0.705f, 0.9f, 2.5f}) put(x);
    if (huge)
        for (float x : {1e6f, -3e5f, 5e5f + 0.25f}) put(x);
    return w;
}

struct Case {
    std::vector<float> in, outCpu, outGpu;
    std::vector<std::uint8_t> keepMask;
    std::unique_ptr<UnitQuantizers> units;
    FusedJob job;
    FusedOptions options;
    bool writeOut = true;
};

std::unique_ptr<Case> makeCase(const std::string& name) {
    auto c = std::make_unique<Case>();
    c->in = weights();
    std::string quant = "uniform", keep = "threshold";
    bool histograms = true, countInPass = true;
    int bins = 128;
    float alpha = 0.01f;
    if (name == "statistics only") {
        c->writeOut = false;
    } else if (name == "edges" || name == "edges, huge") {
        c->in = edgeWeights(name != "edges");
    } else if (name == "no histograms") {
        histograms = false;
    } else if (name == "values only") {
        countInPass = false;
    } else if (name == "coarse bins") {  // a bin spans two or three codes of the step
        c->in = edgeWeights(false);
        bins = 16;
    } else if (name == "fine step") {  // a bin spans five codes
        alpha = 0.0005f;
    } else {
        const auto slash = name.find('/');
        quant = name.substr(0, slash);
        keep = name.substr(slash + 1);
    }
    FusedJob& job = c->job;
    job.in = MatrixView{c->in.data(), kRows, kCols};
    job.countInPass = countInPass;
    job.keep.rho = 0.02f;
    if (keep == "all") job.keep.kind = KeepRule::Kind::All;
    if (keep == "threshold") job.keep.kind = KeepRule::Kind::Threshold;
    if (keep == "textbook") job.keep.kind = KeepRule::Kind::Textbook;
    if (keep == "explicit") {
        job.keep.kind = KeepRule::Kind::Explicit;
        c->keepMask.resize(c->in.size());
        for (std::size_t i = 0; i < c->keepMask.size(); ++i)
            c->keepMask[i] = (i * 2654435761u >> 7) % 3 != 0;
        job.keep.keep = c->keepMask.data();
    }
    if (quant == "uniform") {
        job.quant = QuantKind::Uniform;
        job.alpha = alpha;
        float lo = 0.f, hi = 0.f;
        for (float w : c->in) {
            lo = std::min(lo, roundHalfAway(w / job.alpha));
            hi = std::max(hi, roundHalfAway(w / job.alpha));
        }
        job.codeBase = static_cast<std::int64_t>(lo);
        // As compress_model.cpp: too many codes are not counted.
        job.codeSpan = hi - lo + 1 <= static_cast<float>(kMaxCountedCodes)
                           ? static_cast<std::int64_t>(hi - lo + 1)
                           : 0;
    } else if (quant != "none") {
        QuantSettings s;
        s.bits = quant[1] - '0';
        s.scheme = quant[2] == 's' ? QuantScheme::Symmetric : QuantScheme::Asymmetric;
        s.granularity = quant.find("channel") != std::string::npos ? Granularity::Channel
                        : quant.find("_g") != std::string::npos    ? Granularity::Group
                                                                   : Granularity::Tensor;
        s.groupSize = 32;
        c->units = std::make_unique<UnitQuantizers>(chooseUnitQuantizers(job.in, job.keep, s, 1));
        job.quant = QuantKind::Affine;
        job.units = c->units.get();
        std::int32_t lo = 0, hi = 0;
        for (const auto& u : c->units->units) {
            lo = std::min(lo, u.qmin - u.zeroPoint);
            hi = std::max(hi, u.qmax - u.zeroPoint);
        }
        job.codeBase = lo;
        job.codeSpan = hi - lo + 1;
    }
    c->options.histograms = histograms;
    c->options.weights = HistogramSpec{bins, -0.15, 0.15};
    c->options.error = HistogramSpec{64, -0.006, 0.006};
    c->options.threads = 2;
    return c;
}

bool close(double a, double b) { return std::fabs(a - b) <= 1e-6 * std::fabs(a) + 1e-12; }

std::string compareHistograms(const char* which, const Histogram& a, const Histogram& b) {
    if (a.counts != b.counts || a.underflow != b.underflow || a.overflow != b.overflow)
        return std::string(which) + " histogram differs";
    return "";
}

// The first difference of the GPU's counts and sums (b) from the CPU's (a), or "": zeros,
// code counts and histograms exactly, the sums to float32 rounding.
std::string statsDifference(const FusedResult& a, const FusedResult& b) {
    std::ostringstream out;
    if (a.zeros != b.zeros || a.originalZeros != b.originalZeros) {
        out << "zeros: CPU " << a.zeros << "/" << a.originalZeros << ", GPU " << b.zeros << "/"
            << b.originalZeros;
        return out.str();
    }
    if (a.codeCounts != b.codeCounts) return "code counts differ";
    for (const std::string& s : {compareHistograms("original", a.original, b.original),
                                 compareHistograms("compressed", a.compressed, b.compressed),
                                 compareHistograms("error", a.error, b.error)})
        if (!s.empty()) return s;
    if (!close(a.sumSquares, b.sumSquares) || !close(a.sumSquaredError, b.sumSquaredError) ||
        !close(a.maxAbsError, b.maxAbsError)) {
        out.precision(17);
        out << "sums: CPU " << a.sumSquares << " " << a.sumSquaredError << " " << a.maxAbsError
            << ", GPU " << b.sumSquares << " " << b.sumSquaredError << " " << b.maxAbsError;
        return out.str();
    }
    return "";
}

}  // namespace

std::vector<std::string> fusedCaseNames() {
    std::vector<std::string> names;
    for (const char* q : kQuants)
        for (const char* k : kKeeps) names.push_back(std::string(q) + "/" + k);
    names.insert(names.end(), {"statistics only", "no histograms", "values only", "edges",
                               "edges, huge", "coarse bins", "fine step"});
    return names;
}

std::string checkFusedCase(Backend& gpu, const std::string& name) {
    auto c = makeCase(name);
    c->outCpu.assign(c->in.size(), -1.f);
    c->outGpu.assign(c->in.size(), -2.f);  // poisoned: every value must be written
    FusedJob cpuJob = c->job, gpuJob = c->job;
    cpuJob.out = c->writeOut ? c->outCpu.data() : nullptr;
    gpuJob.out = c->writeOut ? c->outGpu.data() : nullptr;
    const FusedResult a = cpuBackend().runFusedPass({cpuJob}, c->options, {}).at(0);
    const FusedResult b = gpu.runFusedPass({gpuJob}, c->options, {}).at(0);
    std::ostringstream out;
    if (c->writeOut) {
        for (std::size_t i = 0; i < c->in.size(); ++i)
            if (std::memcmp(&c->outCpu[i], &c->outGpu[i], sizeof(float)) != 0) {
                out << "value " << i << " of w = " << c->in[i] << ": CPU " << c->outCpu[i]
                    << ", GPU " << c->outGpu[i];
                return out.str();
            }
    } else if (c->outGpu[0] != -2.f) {
        return "the statistics-only pass wrote values";
    }
    return statsDifference(a, b);
}

namespace {

// Blocks where the reference's branches part: all zero, all -0, the largest magnitude twice
// with opposite signs (Q4_0 keeps the first), tiny values (subnormal half scales), and values
// whose quotient by the scale is a half-integer.
std::vector<float> blockEdgeWeights() {
    std::vector<float> w = weights();
    const auto block = [&](std::size_t b, auto value) {
        for (int j = 0; j < 32; ++j) w[b * 32 + j] = value(j);
    };
    block(3, [](int) { return 0.f; });
    block(5, [](int) { return -0.f; });
    block(8, [](int j) { return j == 4 ? -0.08f : j == 20 ? 0.08f : 0.01f * (j % 5); });
    block(9, [](int j) { return j == 2 ? 0.08f : j == 30 ? -0.08f : -0.01f * (j % 7); });
    block(12, [](int j) { return (j - 16) * 1e-9f; });
    block(13, [](int j) { return (j - 16) * 3e-6f; });
    block(17, [](int j) { return j == 0 ? 1.27f : (j - 16) * 0.005f; });  // Q8_0: d = 0.01
    block(18, [](int j) { return j == 0 ? -0.8f : (j - 16) * 0.05f; });   // Q4_0: d = 0.1
    // Q4_1, Q5_1: the minimum (maximum) a tie of -0 and +0, the first taken; codes on halves.
    block(21, [](int j) { return j == 0 ? -0.f : j == 1 ? 0.f : 0.01f * j; });
    block(22, [](int j) { return j == 3 ? 0.f : j == 7 ? -0.f : 0.02f * (j % 4 + 1); });
    block(23, [](int j) { return j == 2 ? 0.f : j == 5 ? -0.f : -0.03f * (j % 3 + 1); });
    block(24, [](int j) { return j == 0 ? 0.f : j == 1 ? 1.5f : 0.05f * (j % 30); });
    return w;
}

// K-format super-blocks (256 values; rows of 512) where the searches and stored scales part: all
// equal (positive: searched; negative: max == min), all zero, one outlier (the other sub-blocks'
// stored scales round to 0 and keep the search's codes), tiny (d and dmin subnormal or 0 in
// fp16), huge, negative only, and zero or constant sub-blocks among normal ones.
std::vector<float> superBlockEdgeWeights(std::size_t n) {
    std::vector<float> w = weights(n);
    std::mt19937 rng(20261202);
    std::normal_distribution<float> normal(0.f, 1.f);
    const auto super = [&](std::size_t b, auto value) {
        for (int j = 0; j < 256; ++j) w[b * 256 + j] = value(j, normal(rng));
    };
    super(1, [](int, float) { return 0.03f; });
    super(2, [](int, float) { return 0.f; });
    super(3, [](int, float) { return -0.02f; });
    super(4, [](int j, float z) { return j == 77 ? 50.f : 0.05f * z; });
    super(5, [](int j, float z) { return j == 3 ? -4e3f : 0.05f * z; });
    super(6, [](int, float z) { return 2e-7f * z; });
    super(7, [](int, float z) { return 3e-5f * z; });
    super(8, [](int, float z) { return 2e4f * z; });
    super(9, [](int, float z) { return -0.01f - 0.05f * std::fabs(z); });
    super(10, [](int j, float z) { return j / 32 == 3 ? 0.f : j / 32 == 5 ? 0.07f : 0.05f * z; });
    super(11, [](int j, float z) { return j / 32 == 0 ? -0.f : j / 32 == 6 ? -0.04f : 0.05f * z; });
    super(12, [](int j, float z) { return 0.05f * z + (j % 32 == 0 ? 0.3f : 0.f); });
    super(13, [](int, float z) { return 1e-17f * z; });  // below 1e-15: Q6_K's all-zero search
    return w;
}

bool same(const Histogram& a, const Histogram& b) {
    return a.counts == b.counts && a.underflow == b.underflow && a.overflow == b.overflow;
}
bool sameEdges(const Histogram& a, const Histogram& b) {
    return a.spec.bins == b.spec.bins && a.spec.lo == b.spec.lo && a.spec.hi == b.spec.hi;
}

// The first difference of a block pass (blocks b, values gpuValues) from the reference's
// (blocks a, values cpuValues) on the weights `in`, or "".
std::string blockDifference(const std::vector<std::byte>& cpuBlocks,
                            const std::vector<std::byte>& gpuBlocks, std::size_t rowBytes,
                            const std::vector<float>& in, const std::vector<float>& cpuValues,
                            const std::vector<float>& gpuValues, const FusedResult& a,
                            const FusedResult& b) {
    std::ostringstream out;
    for (std::size_t i = 0; i < cpuBlocks.size(); ++i)
        if (cpuBlocks[i] != gpuBlocks[i]) {
            out << "block byte " << i << " (row " << i / rowBytes << "): CPU " << int(cpuBlocks[i])
                << ", GPU " << int(gpuBlocks[i]);
            return out.str();
        }
    for (std::size_t i = 0; i < in.size(); ++i)
        if (std::memcmp(&cpuValues[i], &gpuValues[i], sizeof(float)) != 0) {
            out << "value " << i << " of w = " << in[i] << ": CPU " << cpuValues[i] << ", GPU "
                << gpuValues[i];
            return out.str();
        }
    return statsDifference(a, b);
}

}  // namespace

std::vector<std::string> blockCaseNames() {
    std::vector<std::string> names;
    for (const char* f :
         {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"}) {
        for (const char* k : kKeeps) names.push_back(std::string(f) + "/" + k);
        names.push_back(std::string(f) + "/edges");
    }
    return names;
}

std::string checkBlockCase([[maybe_unused]] int device, [[maybe_unused]] const std::string& name) {
#ifndef CWB_HAVE_CUDA
    return "this build has no CUDA backend";
#else
    const std::size_t slash = name.find('/');
    DType format = DType::F32;
    if (slash == std::string::npos || !parseDType(name.substr(0, slash), format))
        return "unknown case " + name;
    const std::string rule = name.substr(slash + 1);
    // 11 blocks of 32 a row, or 2 super-blocks of 256.
    const bool super = dtypeBlockSize(format) == 256;
    constexpr long long kBlockRows = 96;
    const long long blockCols = super ? 512 : 352;
    const auto n = static_cast<std::size_t>(kBlockRows * blockCols);
    std::vector<float> in = rule != "edges" ? weights(n)
                            : super         ? superBlockEdgeWeights(n)
                                            : blockEdgeWeights();
    in.resize(n);
    std::vector<std::uint8_t> mask(in.size());
    for (std::size_t i = 0; i < mask.size(); ++i) mask[i] = (i * 7919) % 5 != 0;
    FusedJob job;
    job.in = MatrixView{in.data(), kBlockRows, blockCols};
    job.keep.rho = 0.03f;
    job.keep.kind = rule == "threshold"  ? KeepRule::Kind::Threshold
                    : rule == "textbook" ? KeepRule::Kind::Textbook
                    : rule == "explicit" ? KeepRule::Kind::Explicit
                                         : KeepRule::Kind::All;
    job.keep.keep = mask.data();
    FusedOptions options;
    options.weights = HistogramSpec{128, -0.15, 0.15};
    options.error = HistogramSpec{64, -0.004, 0.004};

    // The reference: the masked weights through the CPU's encoder and decoder, then counted.
    const std::size_t rowBytes = quant::rowBytes(format, blockCols);
    std::vector<std::byte> cpuBlocks(rowBytes * kBlockRows), gpuBlocks(cpuBlocks.size());
    std::vector<float> masked(in.size()), cpuValues(in.size()), gpuValues(in.size(), -2.f);
    for (std::size_t i = 0; i < in.size(); ++i)
        masked[i] = job.keep(in[i], static_cast<long long>(i)) ? in[i] : 0.f;
    FusedResult a;
    a.original = Histogram(options.weights);
    a.compressed = Histogram(options.weights);
    a.error = Histogram(options.error);
    for (long long r = 0; r < kBlockRows; ++r) {
        const std::size_t at = static_cast<std::size_t>(r * blockCols);
        quant::quantizeRow(format, masked.data() + at, cpuBlocks.data() + r * rowBytes, blockCols);
        quant::dequantizeRow(format, cpuBlocks.data() + r * rowBytes, cpuValues.data() + at,
                             blockCols);
    }
    for (std::size_t i = 0; i < in.size(); ++i) {
        const float w = in[i], v = cpuValues[i], d = v - w;
        a.original.add(w);
        a.compressed.add(v);
        a.error.add(d);
        a.sumSquares += double(w) * w;
        a.sumSquaredError += double(d) * d;
        a.maxAbsError = std::max(a.maxAbsError, double(std::fabs(d)));
        a.zeros += v == 0.f;
        a.originalZeros += w == 0.f;
    }
    job.out = gpuValues.data();
    const FusedResult b = cuda::runBlockPass(device, format, job, options, gpuBlocks.data());
    return blockDifference(cpuBlocks, gpuBlocks, rowBytes, in, cpuValues, gpuValues, a, b);
#endif
}

std::vector<std::string> backendBlockCaseNames() {
    std::vector<std::string> names;
    for (const char* f :
         {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "F16"})
        for (const char* route : {"backend", "tensor"})
            names.push_back(std::string(f) + "/" + route);
    return names;
}

std::string checkBackendBlockCase(Backend& gpu, const std::string& name) {
    const std::size_t slash = name.find('/');
    DType format = DType::F32;
    if (slash == std::string::npos || !parseDType(name.substr(0, slash), format))
        return "unknown case " + name;
    constexpr long long kBlockRows = 96, kBlockCols = 512;
    std::vector<float> in = superBlockEdgeWeights(kBlockRows * kBlockCols);
    for (int j = 0; j < 256; ++j) in[8 * 256 + j] *= 1e-3f;  // the huge super-block within F16
    if (name.substr(slash + 1) == "tensor") {
        // A bf16 matrix through compressLlmTensor: the CPU's route against the backend's.
        auto storage = std::make_shared<OwnedStorage>(in.size() * 2);
        for (std::size_t i = 0; i < in.size(); ++i) {
            const std::uint16_t h = floatToBf16(in[i]);
            std::memcpy(storage->mutableData() + 2 * i, &h, 2);
        }
        const Tensor matrix({kBlockRows, kBlockCols}, DType::BF16, storage);
        LlmCompression compression;
        compression.format = format;
        LlmTensorOptions options;
        options.threads = 2;
        options.stats.exactLevels = true;
        const LlmTensorReport a =
            compressLlmTensor("blk.0.ffn_up.weight", matrix, compression, options);
        options.backend = &gpu;
        const LlmTensorReport b =
            compressLlmTensor("blk.0.ffn_up.weight", matrix, compression, options);
        std::ostringstream out;
        out.precision(9);
        const TensorStats &x = a.stats, &y = b.stats;
        if (x.elements != y.elements || x.zeros != y.zeros || x.originalZeros != y.originalZeros)
            out << "counts: CPU " << x.elements << "/" << x.zeros << "/" << x.originalZeros << ", "
                << gpu.name() << " " << y.elements << "/" << y.zeros << "/" << y.originalZeros;
        else if (x.minValue != y.minValue || x.maxValue != y.maxValue)
            out << "extremes: CPU " << x.minValue << " " << x.maxValue << ", " << gpu.name() << " "
                << y.minValue << " " << y.maxValue;
        else if (!sameEdges(x.original, y.original) || !same(x.original, y.original) ||
                 !sameEdges(x.compressed, y.compressed) || !same(x.compressed, y.compressed) ||
                 !sameEdges(x.error, y.error) || !same(x.error, y.error))
            out << "histograms differ";
        else if (!close(x.sumSquares, y.sumSquares) ||
                 !close(x.sumSquaredError, y.sumSquaredError) ||
                 !close(x.maxAbsError, y.maxAbsError) || !close(x.sqnrDb, y.sqnrDb))
            out << "sums: CPU " << x.sumSquares << " " << x.sumSquaredError << " " << x.maxAbsError
                << ", " << gpu.name() << " " << y.sumSquares << " " << y.sumSquaredError << " "
                << y.maxAbsError;
        else if (a.blockLevels != b.blockLevels || x.size.bytes != y.size.bytes ||
                 a.bitsPerWeight != b.bitsPerWeight)
            out << "levels or size differ";
        return out.str();
    }
    FusedJob job;
    job.in = MatrixView{in.data(), kBlockRows, kBlockCols};
    job.keep.kind = KeepRule::Kind::Threshold;
    job.keep.rho = 0.03f;
    FusedOptions options;
    options.weights = HistogramSpec{128, -0.15, 0.15};
    options.error = HistogramSpec{64, -0.004, 0.004};
    options.threads = 2;
    const std::size_t rowBytes = quant::rowBytes(format, kBlockCols);
    std::vector<std::byte> cpuBlocks(rowBytes * kBlockRows), gpuBlocks(cpuBlocks.size());
    std::vector<float> cpuValues(in.size(), -1.f), gpuValues(in.size(), -2.f);
    job.out = cpuValues.data();
    const FusedResult a = cpuBackend().runBlockPass(format, job, options, cpuBlocks.data(), {});
    job.out = gpuValues.data();
    const FusedResult b = gpu.runBlockPass(format, job, options, gpuBlocks.data(), {});
    return blockDifference(cpuBlocks, gpuBlocks, rowBytes, in, cpuValues, gpuValues, a, b);
}

std::vector<std::string> schemeTableCaseNames() {
    return {"Q8_0", "Q4_0", "Q4_1", "Q5_0",  "Q5_1", "Q2_K", "Q3_K",
            "Q4_K", "Q5_K", "Q6_K", "rules", "F16",  "F32",  "cancel"};
}

namespace {

// A copy of `matrix` (bf16) stored as F16 or F32.
Tensor restored(const Tensor& matrix, DType type) {
    const std::size_t n = static_cast<std::size_t>(matrix.elements());
    auto storage = std::make_shared<OwnedStorage>(dtypeStorageBytes(type, n));
    const std::int64_t cols = matrix.shape()[1];
    std::vector<float> row(static_cast<std::size_t>(cols));
    for (std::int64_t r = 0; r < matrix.shape()[0]; ++r) {
        quant::dequantizeRowSquares(matrix.dtype(),
                                    matrix.bytes() + r * dtypeStorageBytes(matrix.dtype(), cols),
                                    row.data(), cols);
        for (std::int64_t c = 0; c < cols; ++c) {
            std::byte* at = storage->mutableData() + dtypeStorageBytes(type, r * cols + c);
            if (type == DType::F16) {
                const std::uint16_t h = floatToHalf(row[static_cast<std::size_t>(c)]);
                std::memcpy(at, &h, 2);
            } else {
                std::memcpy(at, &row[static_cast<std::size_t>(c)], 4);
            }
        }
    }
    return Tensor(matrix.shape(), type, storage);
}

double relative(double a, double b) {
    return a == b ? 0.0 : std::fabs(a - b) / std::max(std::fabs(a), std::fabs(b));
}

}  // namespace

std::string checkSchemeTableCase(Backend& gpu, const std::string& shard, const std::string& name,
                                 double* worst) {
    const std::vector<NamedTensor> tensors = parseSafetensors(mapFile(shard), shard);
    std::vector<Tensor> matrices;
    for (const NamedTensor& t : tensors)
        if (t.tensor.shape().size() == 2) matrices.push_back(t.tensor);
    const std::vector<DType> all = {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                                    DType::Q5_1, DType::Q2_K, DType::Q3_K, DType::Q4_K,
                                    DType::Q5_K, DType::Q6_K};
    const std::vector<quant::StepRule> rules = {
        {0.01f, 0.01f, false}, {0.005f, 0.f, false}, {0.f, 0.02f, true}, {0.003f, 0.01f, true}};
    SchemeRowsJob job;
    DType format{};
    if (parseDType(name, format) && dtypeIsBlock(format)) {
        job.formats = {format};
    } else if (name == "rules") {
        job.rules = rules;
        job.extremes = true;
    } else if (name == "cancel") {
        // Every format and two rules, after a pass cancelled on `gpu` midway (after its
        // first format): the next pass must not meet the cancelled one's work in flight.
        job.formats = all;
        job.rules = {rules[0], rules[2]};
        job.extremes = true;
        job.tensor = &matrices.front();
        Progress stopEarly;
        stopEarly.callback = [](long long done, long long) { return done < 2; };
        try {
            gpu.measureSchemeRows(job, 2, stopEarly);
            return "the pass was not cancelled";
        } catch (const Cancelled&) {
        }
    } else if (name == "F16" || name == "F32") {
        job.formats = all;
        job.rules = {rules[0], rules[2]};
        job.extremes = true;
        matrices = {restored(matrices.front(), name == "F16" ? DType::F16 : DType::F32)};
    } else {
        return "unknown case " + name;
    }
    if (matrices.empty()) return "no matrices in " + shard;
    double largest = 0.0;
    std::ostringstream out;
    out.precision(9);
    for (const Tensor& m : matrices) {
        job.tensor = &m;
        const SchemeRowSums a = cpuBackend().measureSchemeRows(job, 2, {});
        const SchemeRowSums b = gpu.measureSchemeRows(job, 2, {});
        const auto worse = [&](double x, double y) {
            const double d = relative(x, y);
            largest = std::max(largest, d);
            return !(d <= 1e-5);
        };
        if (worse(a.signal, b.signal)) {
            out << "signal: CPU " << a.signal << ", " << gpu.name() << " " << b.signal;
            break;
        }
        if (job.extremes && (a.min != b.min || a.max != b.max)) {
            out << "extremes: CPU " << a.min << " " << a.max << ", " << gpu.name() << " " << b.min
                << " " << b.max;
            break;
        }
        for (std::size_t f = 0; f < job.formats.size() && out.str().empty(); ++f)
            if (worse(a.formatError[f], b.formatError[f]))
                out << dtypeName(job.formats[f]) << " error: CPU " << a.formatError[f] << ", "
                    << gpu.name() << " " << b.formatError[f];
        for (std::size_t k = 0; k < job.rules.size() && out.str().empty(); ++k)
            if (a.ruleSums[k].zeros != b.ruleSums[k].zeros ||
                worse(a.ruleSums[k].error, b.ruleSums[k].error))
                out << "rule " << k << ": CPU " << a.ruleSums[k].error << "/" << a.ruleSums[k].zeros
                    << ", " << gpu.name() << " " << b.ruleSums[k].error << "/"
                    << b.ruleSums[k].zeros;
        if (!out.str().empty()) break;
    }
    // The cells as the table shows them, on the first matrix.
    if (out.str().empty()) {
        std::vector<LlmScheme> schemes;
        for (DType f : job.formats) schemes.push_back({f, {}});
        LayerSettings alphaRho;
        alphaRho.quant.alpha = 0.01f;
        alphaRho.prune.rho = 0.01f;
        if (!job.rules.empty()) schemes.push_back({std::nullopt, alphaRho});
        const auto x = measureSchemes(matrices.front(), schemes, 2, {});
        const auto y = measureSchemes(matrices.front(), schemes, 2, {}, &gpu);
        for (std::size_t k = 0; k < x.size() && out.str().empty(); ++k)
            if (x[k].bytes != y[k].bytes || !(std::fabs(x[k].sqnrDb - y[k].sqnrDb) <= 1e-4))
                out << "cell " << k << ": CPU " << x[k].bytes << " B " << x[k].sqnrDb << " dB, "
                    << gpu.name() << " " << y[k].bytes << " B " << y[k].sqnrDb << " dB";
    }
    if (worst) *worst = largest;
    return out.str();
}

std::vector<std::string> engineCheckModels() {
    return {"k2_cnn_bn_evanchien.h5", "k3_cnn_umer.keras", "k2_mlp_dropout_percy.h5",
            "k3legacy_mlp_ntu113.h5"};
}

EngineCheck checkEngine(Backend& gpu, const std::string& modelPath, const Dataset& data,
                        GpuMath math) {
    const Model model = loadModel(modelPath);
    CompressedEngineOptions options;
    options.kernel = KernelChoice::Float;
    options.measure = false;
    auto cpu = cpuBackend().makeEngine(model, options, nullptr);
    options.engine.gpuMath = math;
    auto dev = gpu.makeEngine(model, options, nullptr);
    EvalOptions eval;
    eval.batchSize = 1000;
    EngineCheck r;
    r.cpuAccuracy = evaluate(*cpu, data, eval).accuracy;
    r.gpuAccuracy = evaluate(*dev, data, eval).accuracy;
    const int n = std::min(256, static_cast<int>(data.labels.size()));
    std::vector<float> a(static_cast<std::size_t>(n) * cpu->outputSize()), b(a.size(), -1.f);
    cpu->forward(data.images.data(), n, a.data());
    dev->forward(data.images.data(), n, b.data());
    for (std::size_t i = 0; i < a.size(); ++i)
        r.maxOutputDifference =
            std::max(r.maxOutputDifference, std::fabs(static_cast<double>(a[i]) - b[i]));
    std::ostringstream out;
    if (std::fabs(r.cpuAccuracy - r.gpuAccuracy) > 0.0005)
        out << "accuracy: CPU " << r.cpuAccuracy << ", GPU " << r.gpuAccuracy;
    else if (!(r.maxOutputDifference <= (math == GpuMath::Tf32 ? 2e-2 : 1e-4)))
        out << "outputs differ by " << r.maxOutputDifference;
    r.failure = out.str();
    return r;
}

namespace {

std::vector<float> weightsOf(const Model& model) {
    std::vector<float> all;
    for (const Layer& l : model.layers)
        if (l.kind == LayerKind::Dense) {
            all.insert(all.end(), l.kernel.floats().begin(), l.kernel.floats().end());
            if (l.useBias) all.insert(all.end(), l.bias.floats().begin(), l.bias.floats().end());
        }
    return all;
}

Dataset firstSamples(const Dataset& data, int n) {
    Dataset d = data;
    d.labels.resize(static_cast<std::size_t>(n));
    d.images.resize(static_cast<std::size_t>(n) * d.pixelsPerImage());
    return d;
}

}  // namespace

TrainCheck checkDistillation(Backend& gpu, const Dataset& train, const Dataset& test,
                             const std::vector<float>& teacherLogits, int batch) {
    TrainCheck r;
    train::TrainOptions options;
    options.epochs = 1;
    options.batchSize = batch;
    options.seed = 1;
    options.distill = {teacherLogits.data(), train.classes, 4.0, 0.5};
    std::ostringstream out;

    // One step of SGD from the same start: the weights may differ by rounding only.
    {
        const Dataset one = firstSamples(train, batch);
        train::TrainOptions sgd = options;
        sgd.optimizer.kind = train::OptimizerKind::Sgd;
        sgd.optimizer.learningRate = 0.1;
        Model a = train::buildModel("mlp:128"), b = train::buildModel("mlp:128");
        cpuBackend().trainModel(a, one, nullptr, sgd, {});
        gpu.trainModel(b, one, nullptr, sgd, {});
        const std::vector<float> wa = weightsOf(a), wb = weightsOf(b);
        for (std::size_t i = 0; i < wa.size(); ++i)
            r.stepDifference = std::max(r.stepDifference, std::fabs(double(wa[i]) - wb[i]));
        if (!(r.stepDifference <= 1e-6))
            out << "one SGD step: weights differ by " << r.stepDifference;
    }

    // One epoch of Adam.
    Model a = train::buildModel("mlp:128"), b = train::buildModel("mlp:128");
    const train::EpochReport ea =
        cpuBackend().trainModel(a, train, &test, options, {}).epochs.at(0);
    const train::EpochReport eb = gpu.trainModel(b, train, &test, options, {}).epochs.at(0);
    r.cpuLoss = ea.trainLoss;
    r.gpuLoss = eb.trainLoss;
    r.cpuAccuracy = ea.trainAccuracy;
    r.gpuAccuracy = eb.trainAccuracy;
    r.cpuTestAccuracy = ea.testAccuracy;
    r.gpuTestAccuracy = eb.testAccuracy;
    r.cpuSeconds = ea.trainSeconds;
    r.gpuSeconds = eb.trainSeconds;
    const std::vector<float> wa = weightsOf(a), wb = weightsOf(b);
    double diff = 0, norm = 0;
    for (std::size_t i = 0; i < wa.size(); ++i) {
        diff += (double(wa[i]) - wb[i]) * (double(wa[i]) - wb[i]);
        norm += double(wa[i]) * wa[i];
    }
    r.weightDifference = std::sqrt(diff / norm);
    if (out.str().empty()) {
        if (!(std::fabs(r.cpuLoss - r.gpuLoss) <= 1e-3 * std::fabs(r.cpuLoss)))
            out << "epoch loss: CPU " << r.cpuLoss << ", GPU " << r.gpuLoss;
        else if (!(std::fabs(r.cpuAccuracy - r.gpuAccuracy) <= 0.003))
            out << "epoch accuracy: CPU " << r.cpuAccuracy << ", GPU " << r.gpuAccuracy;
        else if (!(std::fabs(r.cpuTestAccuracy - r.gpuTestAccuracy) <= 0.003))
            out << "test accuracy: CPU " << r.cpuTestAccuracy << ", GPU " << r.gpuTestAccuracy;
    }
    r.failure = out.str();
    return r;
}

}  // namespace cwb::test
