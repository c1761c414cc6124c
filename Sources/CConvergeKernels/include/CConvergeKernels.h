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

// Int8 weight products (int8_gemm.c): weights rounded to int8 with a scale per output column and group of
// CONVERGE_INT8_GROUP inputs, activations to uint8 with a scale and zero point per row and group, Int32 sums on AVX512-VNNI (`vpdpbusd`),
// scaled back and summed in Float32. `converge_int8_supported()` says whether the vector versions run; the
// `_scalar` versions compute the same products on any CPU (the same bytes; Float32 sums in another order).

/// Rows and columns of the int8 micro-kernel's tile, and the inputs that share an activation scale.
#define CONVERGE_INT8_MR 6
#define CONVERGE_INT8_NR 32
#define CONVERGE_INT8_GROUP 32

/// 1 when this CPU and OS run AVX512F + AVX512BW + AVX512VL + AVX512_VNNI code, else 0.
int converge_int8_supported(void);

/// 32-bit words `converge_int8_pack_weights` writes for an `n x k` weight matrix (quads, group scales and sums).
size_t converge_int8_packed_weight_words(size_t n, size_t k);

/// 32-bit words of workspace `converge_int8_pack_activations` writes for `m` rows of depth `k` (quads and the
/// per-group scale and zero-point pairs).
size_t converge_int8_workspace_words(size_t m, size_t k);

/// Rounds the `n x k` Float32 weight matrix `w` (row stride `ldw`; PyTorch `Linear`, `[out, in]`) to int8, each
/// row's every group of CONVERGE_INT8_GROUP inputs with its own scale (max |w| / 127, round to nearest even), into `packed`
/// (`converge_int8_packed_weight_words(n, k)` words). The vector version requires `converge_int8_supported()`.
void converge_int8_pack_weights(const float *w, size_t n, size_t k, size_t ldw, uint32_t *packed);
void converge_int8_pack_weights_scalar(const float *w, size_t n, size_t k, size_t ldw, uint32_t *packed);

/// Rounds the `m x k` Float32 activations `a` (row stride `lda`; with `gelu_first`, GELU(`a`), `a` unchanged) to
/// uint8 into `workspace` (`converge_int8_workspace_words(m, k)` words): per row and group of CONVERGE_INT8_GROUP
/// inputs, scale (max - min) / 255 and zero point rint(-min / scale). One conversion serves every weight matrix of
/// depth `k`. The vector version requires `converge_int8_supported()`.
void converge_int8_pack_activations(const float *a, size_t lda, size_t m, size_t k, int gelu_first,
                                    uint32_t *workspace);
void converge_int8_pack_activations_scalar(const float *a, size_t lda, size_t m, size_t k, int gelu_first,
                                           uint32_t *workspace);

/// `c[i][j] += sum_p a[i][p] * w[j][p]` for `i < m`, `j < n`, in the int8 arithmetic above, `a` packed by
/// `converge_int8_pack_activations` and `w` by `converge_int8_pack_weights`; with `bias` (`n` floats), `c` is set
/// to `bias + sum` instead (not read). `c` is `m x n` (row stride `ldc`). Single-threaded; deterministic. The
/// vector version requires `converge_int8_supported()`.
void converge_int8_gemm_packed(const uint32_t *workspace, size_t m, const uint32_t *packed, size_t n, size_t k,
                               float *c, size_t ldc, const float *bias);
void converge_int8_gemm_packed_scalar(const uint32_t *workspace, size_t m, const uint32_t *packed, size_t n,
                                      size_t k, float *c, size_t ldc, const float *bias);

// The Float32 steps around the weight products (encoder_ops.c), for the encoder's bf16 path. Each function runs
// its AVX-512 version where `converge_ops_avx512()` is 1, else the portable scalar version of the same name with
// `_scalar`, callable directly on any CPU. The vector versions sum in another order and use fused multiply-adds,
// so their results differ from the scalar ones by rounding (tests bound the difference); each is deterministic and
// treats every row (and, in attention, every sequence) on its own: the results do not depend on what else is in a
// batch.

/// 1 when this CPU and OS run AVX512F + AVX512BW + AVX512VL code (the vector versions below), else 0.
int converge_ops_avx512(void);

/// `x[i] = 0.5 x (1 + erf(x / sqrt 2))` (GELU, erf form) for `i < count`, in place; erf by the rational
/// approximation of BertEncoder.gelu (largest error about 5e-7).
void converge_gelu(float *x, size_t count);
void converge_gelu_scalar(float *x, size_t count);

/// Each of the `rows` rows of `width` floats at `x` (row stride `width`): with `residual` (same layout; else NULL)
/// first `x += residual`, then LayerNorm: `(x - mean) / sqrt(variance + eps) * weight + bias`, in place.
void converge_layer_norm(float *x, const float *residual, size_t rows, size_t width, const float *weight,
                         const float *bias, float eps);
void converge_layer_norm_scalar(float *x, const float *residual, size_t rows, size_t width, const float *weight,
                                const float *bias, float eps);

/// Floats of scratch `converge_attention` needs for a sequence of `tokens` tokens and heads of `head_size`.
size_t converge_attention_scratch_floats(size_t tokens, size_t head_size);

/// Self-attention of one sequence of `tokens` tokens, every head: row t of `qkv` (row stride `ld`) holds the
/// token's query, key and value (`heads * head_size` floats each, one after the other; head h at `h * head_size`
/// within each). Writes `context[t][h * head_size + d] = sum_j softmax_j(scale q_t . k_j) v_j[d]` (row stride `ldc`).
/// `scratch` holds `converge_attention_scratch_floats(tokens, head_size)` floats.
void converge_attention(const float *qkv, size_t ld, size_t tokens, size_t heads, size_t head_size, float scale,
                        float *context, size_t ldc, float *scratch);
void converge_attention_scalar(const float *qkv, size_t ld, size_t tokens, size_t heads, size_t head_size, float scale,
                               float *context, size_t ldc, float *scratch);

/// `converge_bf16_pack_activations` of GELU(`a`): the same words as `converge_gelu` on a copy of `a` followed by
/// the conversion, without writing the Float32 GELU values (`a` is not changed).
void converge_gelu_pack_activations(const float *a, size_t lda, size_t m, size_t k, uint32_t *workspace);
void converge_gelu_pack_activations_scalar(const float *a, size_t lda, size_t m, size_t k, uint32_t *workspace);

#ifdef __cplusplus
}
#endif

#endif
