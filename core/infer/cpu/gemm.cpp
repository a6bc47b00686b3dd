// SGEMM through OpenBLAS (see gemm.h).
#include "core/infer/cpu/gemm.h"

#include <cblas.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace cwb::cpu {

namespace {

void gemm(CBLAS_TRANSPOSE transB, int m, int n, int k, const float* a, int lda, const float* b,
          int ldb, float* c, int ldc, bool accumulate) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {  // an empty sum; BLAS implementations disagree on whether they touch C then
        if (!accumulate)
            for (int i = 0; i < m; ++i)
                for (int j = 0; j < n; ++j) c[static_cast<long long>(i) * ldc + j] = 0.f;
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, transB, m, n, k, 1.f, a, lda, b, ldb,
                accumulate ? 1.f : 0.f, c, ldc);
}

}  // namespace

void sgemm(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc,
           bool accumulate) {
    gemm(CblasNoTrans, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

void sgemmNT(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
             int ldc, bool accumulate) {
    gemm(CblasTrans, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

void setBlasThreads(int threads) {
    if (openblas_get_num_threads() != threads) openblas_set_num_threads(threads);
}

int blasThreads() { return openblas_get_num_threads(); }

void restartWithFasterBlas() {
    if (std::getenv("OPENBLAS_CORETYPE")) return;  // the user's choice, or restarted already
    const char* core = openblas_get_corename();
    if (!core || std::strcmp(core, "Prescott") != 0) return;
    __builtin_cpu_init();
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                        __builtin_cpu_supports("avx512cd");
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (!avx512 && !avx2) return;
    // The arguments as the kernel holds them: NUL-terminated, one after another.
    std::ifstream file("/proc/self/cmdline", std::ios::binary);
    std::string cmdline{std::istreambuf_iterator<char>(file), {}};
    if (cmdline.empty()) return;
    std::vector<char*> argv;
    for (std::size_t at = 0; at < cmdline.size(); at += std::strlen(cmdline.data() + at) + 1)
        argv.push_back(cmdline.data() + at);
    argv.push_back(nullptr);
    setenv("OPENBLAS_CORETYPE", avx512 ? "SkylakeX" : "Haswell", 1);
    execv("/proc/self/exe", argv.data());  // returns only when it failed
    unsetenv("OPENBLAS_CORETYPE");
}

}  // namespace cwb::cpu
