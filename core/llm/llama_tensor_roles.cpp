// Roles of a checkpoint's tensors (see llama_tensor_roles.h).
#include "core/llm/llama_tensor_roles.h"

#include "core/util/enum_names.h"

namespace cwb {

namespace {

constexpr EnumName<LlamaTensorKind> kKinds[] = {
    {LlamaTensorKind::Embedding, "embedding"},
    {LlamaTensorKind::Output, "output"},
    {LlamaTensorKind::Norm, "norm"},
    {LlamaTensorKind::AttnQ, "attention q"},
    {LlamaTensorKind::AttnK, "attention k"},
    {LlamaTensorKind::AttnV, "attention v"},
    {LlamaTensorKind::AttnOutput, "attention o"},
    {LlamaTensorKind::FfnGate, "MLP gate"},
    {LlamaTensorKind::FfnUp, "MLP up"},
    {LlamaTensorKind::FfnDown, "MLP down"},
    {LlamaTensorKind::Other, "other"},
};

}  // namespace

std::string llamaTensorKindName(LlamaTensorKind kind) { return nameOf(kKinds, kind); }

bool isBlockMatrix(LlamaTensorKind kind) {
    return kind >= LlamaTensorKind::AttnQ && kind <= LlamaTensorKind::FfnDown;
}

std::vector<LlamaTensorRole> llamaTensorRoles(const LlamaCheckpoint& checkpoint) {
    // A role's tensor views the same bytes, in the same shape, as the named tensor that the
    // reader assigned it. llama2.c files stack each role's layers in one array: those arrays
    // are listed as their layers' slices instead.
    struct Slot {
        const Tensor* tensor;
        int layer;
        LlamaTensorKind kind;
        const char* role;  // llama.cpp's
        bool listed = false;
    };
    std::vector<Slot> slots;
    const LlamaWeights& w = checkpoint.weights;
    const auto note = [&](const Tensor& t, int layer, LlamaTensorKind kind, const char* role) {
        if (t.empty()) return;
        for (const Slot& s : slots)
            if (s.tensor->bytes() == t.bytes()) return;  // a tied output is the embedding
        slots.push_back({&t, layer, kind, role});
    };
    note(w.embedding, -1, LlamaTensorKind::Embedding, "token_embd");
    for (std::size_t i = 0; i < w.blocks.size(); ++i) {
        const LlamaBlockWeights& b = w.blocks[i];
        const int l = static_cast<int>(i);
        note(b.attnNorm, l, LlamaTensorKind::Norm, "attn_norm");
        note(b.q, l, LlamaTensorKind::AttnQ, "attn_q");
        note(b.k, l, LlamaTensorKind::AttnK, "attn_k");
        note(b.v, l, LlamaTensorKind::AttnV, "attn_v");
        note(b.o, l, LlamaTensorKind::AttnOutput, "attn_output");
        note(b.ffnNorm, l, LlamaTensorKind::Norm, "ffn_norm");
        note(b.gate, l, LlamaTensorKind::FfnGate, "ffn_gate");
        note(b.up, l, LlamaTensorKind::FfnUp, "ffn_up");
        note(b.down, l, LlamaTensorKind::FfnDown, "ffn_down");
    }
    note(w.finalNorm, -1, LlamaTensorKind::Norm, "output_norm");
    note(w.output, -1, LlamaTensorKind::Output, "output");

    const auto roleOf = [](const Slot& s, const std::string& fileName) {
        LlamaTensorRole r;
        r.fileName = fileName;
        r.llamaName = llamaTensorName(s.role, s.layer);
        r.layer = s.layer;
        r.kind = s.kind;
        r.tensor = s.tensor;
        return r;
    };
    std::vector<LlamaTensorRole> roles;
    roles.reserve(checkpoint.tensors.size());
    for (const NamedTensor& named : checkpoint.tensors) {
        const Tensor& t = named.tensor;
        Slot* same = nullptr;
        std::vector<Slot*> inside;
        for (Slot& s : slots) {
            if (s.tensor->bytes() == t.bytes() && s.tensor->shape() == t.shape()) same = &s;
            if (s.tensor->bytes() >= t.bytes() && s.tensor->bytes() < t.bytes() + t.byteSize())
                inside.push_back(&s);
        }
        if (same) {
            same->listed = true;
            roles.push_back(roleOf(*same, named.name));
        } else if (!inside.empty()) {
            for (Slot* s : inside) {
                s->listed = true;
                roles.push_back(roleOf(*s, named.name + "[" + std::to_string(s->layer) + "]"));
            }
        } else {
            LlamaTensorRole r;
            r.fileName = r.llamaName = named.name;
            r.tensor = &t;
            roles.push_back(std::move(r));
        }
    }
    return roles;
}

bool compressionApplies(const LlamaTensorRole& role, const LlmCompression& compression) {
    if (isBlockMatrix(role.kind))
        return compression.format || compression.settings.quant.enabled() ||
               compression.settings.prune.enabled();
    return compression.format && compression.scope == LlmScope::All &&
           (role.kind == LlamaTensorKind::Embedding || role.kind == LlamaTensorKind::Output);
}

}  // namespace cwb
