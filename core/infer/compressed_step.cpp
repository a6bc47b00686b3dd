// Running one step of the compressed engine (see compressed_step.h).
#include "core/infer/compressed_step.h"

#include <algorithm>

#include "core/infer/cpu/conv2d.h"
#include "core/infer/cpu/dense.h"
#include "core/infer/cpu/unweighted_ops.h"

namespace cwb::compressed {
namespace {

long long denseRows(const PlanOp& op, int images) {
    return images * (op.inputSize / op.inFeatures);
}

cpu::ConvSettings convSettings() { return {cpu::ConvAlgorithm::Auto, 0}; }

}  // namespace

std::string pathName(Path path, int8::Isa isa) {
    switch (path) {
        case Path::Float:
            return "float32";
        case Path::Int8:
            return "int8 (" + int8::isaName(isa) + ")";
        case Path::Sparse:
            return "sparse (csr)";
    }
    return "?";
}

void runStep(const Step& step, int8::Isa isa, const float* in, int n, float* out, Scratch& s) {
    const PlanOp& op = *step.op;
    if (cpu::runUnweightedOp(op, in, n, out)) return;
    const float* bias = op.bias.empty() ? nullptr : op.bias.data();
    if (op.kind == OpKind::Conv2D) {
        if (step.path == Path::Int8)
            int8::conv2dInt8(isa, op.window, step.int8, step.epilogue, in, n, out, s.int8);
        else if (step.path == Path::Sparse)
            sparse::conv2dSparse(op.window, step.csr, step.epilogue, in, n, out, s.sparse);
        else
            cpu::conv2d(op.window, op.outFeatures, op.weights.data(), bias, op.activation, in, n,
                        out, s.patches.data(), convSettings());
    } else {  // Dense
        if (step.path == Path::Int8)
            int8::denseInt8(isa, step.int8, step.epilogue, in, denseRows(op, n), out, s.int8);
        else if (step.path == Path::Sparse)
            sparse::denseSparse(step.csr, step.epilogue, in, denseRows(op, n), out, s.sparse);
        else
            cpu::dense(op.inFeatures, op.outFeatures, op.weights.data(), bias, op.activation, in,
                       denseRows(op, n), out);
    }
}

void reserve(Scratch& s, const Plan& plan, const Staging& staging) {
    s.ping.resize(std::max(s.ping.size(), staging.activationBufferFloats()));
    s.pong.resize(s.ping.size());
    s.features.resize(std::max(s.features.size(), staging.featureBufferFloats()));
    for (const PlanOp& op : plan.ops)
        if (op.kind == OpKind::Conv2D)
            s.patches.resize(
                std::max(s.patches.size(), cpu::conv2dScratchFloats(op.window, convSettings())));
}

}  // namespace cwb::compressed
