// Encoding the 64 KB evaluation text (eval_revelation.txt, with BOS as perplexity does):
// the VocabularyTokenizer over kjv-llama-6m's pieces and over tok512.bin, against the anchor
// libsentencepiece on the same tokenizer.model (SentencePieceTokenizer). Median of N runs.
//
// usage: tokenizer_bench [LLM_FIXTURES_DIR] [RUNS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "bench/support/bench_util.h"
#include "core/error.h"
#include "core/io/llama2c_tokenizer.h"
#include "core/llm/sentencepiece_tokenizer.h"
#include "core/llm/vocabulary_tokenizer.h"

namespace {

using cwb::bench::medianMilliseconds;

void report(const char* name, const cwb::Tokenizer& tokenizer, const std::string& text, int runs) {
    std::size_t tokens = 0;
    const double ms =
        medianMilliseconds(runs, [&] { tokens = tokenizer.encode(text, true).size(); });
    std::printf("%-44s %8zu %10.2f %12.2f\n", name, tokens, ms, text.size() / 1024.0 / (ms / 1e3));
}

}  // namespace

int main(int argc, char** argv) {
    const std::string dir = argc > 1 ? argv[1] : "tests/fixtures/llm";
    const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 21;
    try {
        std::ifstream in(dir + "/eval_revelation.txt", std::ios::binary);
        const std::string text{std::istreambuf_iterator<char>(in), {}};
        if (text.empty()) throw cwb::Error(dir + "/eval_revelation.txt: missing or empty");
        const cwb::SentencePieceTokenizer spm(dir + "/kjv-llama-6m/tokenizer.model");
        const cwb::VocabularyTokenizer kjv(spm.vocabulary(), "kjv");
        const cwb::VocabularyTokenizer tok512(
            cwb::readLlama2cTokenizer(dir + "/aidreams260K/tok512.bin", 512), "tok512");
        std::printf("eval_revelation.txt: %zu bytes, median of %d runs\n", text.size(), runs);
        std::printf("%-44s %8s %10s %12s\n", "tokenizer", "tokens", "median ms", "KiB/s");
        report("VocabularyTokenizer, kjv-llama-6m pieces", kjv, text, runs);
        report("VocabularyTokenizer, tok512.bin", tok512, text, runs);
        report("(anchor: libsentencepiece, tokenizer.model)", spm, text, runs);
    } catch (const cwb::Error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
