#ifndef CCONVERGE_KERNELS_H
#define CCONVERGE_KERNELS_H

// Reduced-precision matrix products for the sentence encoder (ConvergeEmbeddings' BertEncoder): BF16 operands,
// Float32 accumulation, on AVX512-BF16 (`vdpbf16ps`). Compiled for the baseline target: only the kernel functions
// carry `__attribute__((target(...)))`, and they run only when `converge_bf16_supported()` says the CPU (and OS)
// has AVX512-BF16. On other CPUs and architectures `converge_bf16_supported()` is 0 and nothing else may be called.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Rows of C per micro-tile (the activations' packing groups rows by this many).
#define CONVERGE_BF16_MR 12
/// Columns of C per micro-tile (the weights' packing groups output columns by this many).
#define CONVERGE_BF16_NR 32

/// 1 when this CPU and OS run AVX512F + AVX512BW + AVX512VL + AVX512_BF16 code, else 0.
int converge_bf16_supported(void);

/// 32-bit words that `converge_bf16_pack_weights` writes for an `n x k` weight matrix: `n` rounded up to
/// CONVERGE_BF16_NR times `k` rounded up to even, halved (each word holds two BF16 values).
size_t converge_bf16_packed_weight_words(size_t n, size_t k);

/// 32-bit words of workspace `converge_bf16_gemm` needs for `m` rows of depth `k`.
size_t converge_bf16_workspace_words(size_t m, size_t k);

/// Converts the row-major `n x k` Float32 matrix `w` (row stride `ldw`; PyTorch `Linear` weights, `[out, in]`) to
/// BF16 (round to nearest even) into `packed` (`converge_bf16_packed_weight_words(n, k)` words), in the layout the
/// micro-kernel reads: panels of CONVERGE_BF16_NR rows of `w`, each a sequence of k/2 pair-steps holding, per row,
/// the pair (w[r][2p], w[r][2p+1]); zero-padded. Requires `converge_bf16_supported()`.
void converge_bf16_pack_weights(const float *w, size_t n, size_t k, size_t ldw, uint32_t *packed);

/// Converts the `m x k` Float32 activations `a` (row stride `lda`) to BF16 (round to nearest even) into `workspace`
/// (`converge_bf16_workspace_words(m, k)` words; row-major, rows rounded up to CONVERGE_BF16_MR), for
/// `converge_bf16_gemm_packed`: one conversion serves every weight matrix of depth `k` multiplied by `a`.
/// Requires `converge_bf16_supported()`.
void converge_bf16_pack_activations(const float *a, size_t lda, size_t m, size_t k, uint32_t *workspace);

/// `c[i][j] += sum_p a[i][p] * w[j][p]` for `i < m`, `j < n`, `p < k`, `a` as `converge_bf16_pack_activations`
/// left it in `workspace`, `w` the packed `n x k` matrix; the products are summed in Float32. `c` is `m x n` (row
/// stride `ldc`). With `bias` (`n` floats; else NULL), `c[i][j] = bias[j] + sum` instead: `c` is not read, and the
/// result is the bits of copying `bias` into each row first. Single-threaded; deterministic. Requires
/// `converge_bf16_supported()`.
void converge_bf16_gemm_packed(const uint32_t *workspace, size_t m, const uint32_t *packed, size_t n, size_t k,
                               float *c, size_t ldc, const float *bias);

/// `c[i][j] += sum_p a[i][p] * w[j][p]` for `i < m`, `j < n`, `p < k`: `a` is `m x k` Float32 (row stride `lda`),
/// converted to BF16 here (round to nearest even); `w` is the packed `n x k` matrix; the products are summed in
/// Float32. `c` is `m x n` (row stride `ldc`). `workspace` holds `converge_bf16_workspace_words(m, k)` words.
/// Single-threaded; deterministic. Requires `converge_bf16_supported()`.
void converge_bf16_gemm(const float *a, size_t lda, size_t m, const uint32_t *packed, size_t n, size_t k, float *c,
                        size_t ldc, uint32_t *workspace);

#ifdef __cplusplus
}
#endif

#endif
