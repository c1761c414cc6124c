// Int8 x UInt8 -> Int32 matrix products on AVX512-VNNI (`vpdpbusd`), scaled back to Float32, for the encoder's
// weight products.
//
// C[m x n] += A[m x k] * W[n x k]^T, with groups g of CONVERGE_INT8_GROUP (32) consecutive inputs p:
//   W[j][p] ~ t_jg * r_jp          r in [-127, 127], t_jg = max_{p in g} |W[j][p]| / 127 (per column and group)
//   A[i][p] ~ s_ig * (q_ip - z_ig)  q in [0, 255], per row i and group g: s_ig = (max - min) / 255 over the
//                                   group, z_ig = rint(-min / s_ig) (asymmetric)
// so that C[i][j] = sum_g s_ig * t_jg * P_ijg - u_ig * (t_jg R_jg), where P_ijg = sum_{p in g} q_ip r_jp is exact
// in Int32, R_jg = sum_{p in g} r_jp and u_ig = s_ig z_ig. BENCHMARKS.md ("Issue 16: the int8 kernel") has the
// simulations this grouping was chosen by: per-row weight scales and activation groups of 64 keep ArgKP and the
// consolidation measures but leave short texts' vectors at cosine 0.995 of Float32's; groups of 32 on both sides
// reach 0.999.
//
// Layouts. W is packed once in panels of NR output columns: per panel, `kq` quad-steps of NR words (a word holds
// four consecutive int8 r values of one column); then, for all panels, per panel and group, NR floats t_jg followed
// by NR floats t_jg R_jg. A is packed per call: row-major words of four uint8 q values (`kq` words a row, rows
// rounded up to MR, padding rows zero), then (s_ig, u_ig = s_ig * z_ig) as float pairs in [group][row] order, so
// that one group's pairs of a tile's rows are adjacent. `kq` is k rounded up to whole groups, in quad-steps; inputs
// past k have r = 0.
//
// The micro-kernel keeps an MR x NR tile in registers twice over: 12 Int32 accumulators for the current group and
// 12 Float32 accumulators for the scaled sum (inline assembly, see micro_kernel, so that a debug build runs it as
// fast as a release one). After each group the Int32 sums are converted, multiplied by t_jg and by s_ig and added,
// and u_ig * t_jg R_jg is subtracted. Depth is cut into blocks of whole groups (a W micro-panel block stays in L1).
//
// Only the functions that carry CONVERGE_INT8_TARGET are compiled for AVX-512; callers check
// converge_int8_supported() first.

#include "CConvergeKernels.h"

#include <math.h>
#include <string.h>

#define MR CONVERGE_INT8_MR
#define NR CONVERGE_INT8_NR
#define GROUP CONVERGE_INT8_GROUP
/// Quad-steps in one group.
#define GQ (GROUP / 4)
/// Largest depth block, in groups: a W micro-panel block is at most 24 * 8 * NR * 4 = 24 KiB (L1 is 32 KiB).
#define KG_MAX 24
/// Largest A block in bytes (MC rows x KC quad-steps x 4), kept well inside a 1 MiB L2.
#define A_BLOCK_BYTES (384 * 1024)

static size_t groups_of(size_t k) { return (k + GROUP - 1) / GROUP; }
static size_t padded_rows(size_t m) { return (m + MR - 1) / MR * MR; }

size_t converge_int8_packed_weight_words(size_t n, size_t k) {
    size_t panels = (n + NR - 1) / NR, g = groups_of(k);
    // Quads, then each panel's group scales and scaled sums.
    return panels * NR * g * GQ + panels * NR * g * 2;
}

size_t converge_int8_workspace_words(size_t m, size_t k) {
    size_t rows = padded_rows(m), g = groups_of(k);
    return rows * g * GQ + rows * g * 2;
}

/// Quantizes one row's group (`count` <= GROUP real inputs at `x`) to uint8 quads at `dst` (GQ words) and returns
/// its (s, u). Shared by the vector and scalar paths: the same operations in the same order, so both give the same
/// bytes.
static void quantize_group_scalar(const float *x, size_t count, uint8_t *dst, float *s_out, float *u_out) {
    float low = x[0], high = x[0];
    for (size_t i = 1; i < count; i++) {
        if (x[i] < low) low = x[i];
        if (x[i] > high) high = x[i];
    }
    float range = high - low;
    float s = (range > 1e-12f ? range : 1e-12f) / 255.0f;
    float z = nearbyintf(-low / s);
    for (size_t i = 0; i < GROUP; i++) {
        float q = i < count ? nearbyintf(x[i] / s) + z : 0.0f;
        dst[i] = (uint8_t)(q < 0.0f ? 0.0f : (q > 255.0f ? 255.0f : q));
    }
    *s_out = s;
    *u_out = s * z;
}

/// Packs row `j` of W (`k` floats at `w`) into its panel: quads, and per group the scale (at
/// `panel_scales[group * 2 * NR + col]`) and the scaled sum (NR floats further).
static void pack_weight_row(const float *w, size_t k, size_t col, uint32_t *panel_quads, float *panel_scales) {
    size_t g = groups_of(k);
    for (size_t group = 0; group < g; group++) {
        float top = 0.0f;
        for (size_t p = group * GROUP; p < k && p < (group + 1) * GROUP; p++) {
            float v = fabsf(w[p]);
            if (v > top) top = v;
        }
        float t = (top > 1e-12f ? top : 1e-12f) / 127.0f;
        float sum = 0.0f;
        for (size_t quad = 0; quad < GQ; quad++) {
            uint32_t word = 0;
            for (size_t b = 0; b < 4; b++) {
                size_t p = group * GROUP + quad * 4 + b;
                int r = 0;
                if (p < k) {
                    float v = nearbyintf(w[p] / t);
                    r = v > 127.0f ? 127 : (v < -127.0f ? -127 : (int)v);
                }
                sum += (float)r;
                word |= (uint32_t)(uint8_t)(int8_t)r << (8 * b);
            }
            panel_quads[(group * GQ + quad) * NR + col] = word;
        }
        panel_scales[group * 2 * NR + col] = t;
        panel_scales[group * 2 * NR + NR + col] = t * sum;
    }
}

/// Packs every row of W with `pack_row` (`pack_weight_row` or its AVX-512 twin) into the layout above.
static void pack_weights_with(const float *w, size_t n, size_t k, size_t ldw, uint32_t *packed,
                              void (*pack_row)(const float *, size_t, size_t, uint32_t *, float *)) {
    size_t panels = (n + NR - 1) / NR, g = groups_of(k), kq = g * GQ;
    memset(packed, 0, converge_int8_packed_weight_words(n, k) * 4);
    float *scales = (float *)(packed + panels * NR * kq);
    for (size_t j = 0; j < n; j++) {
        size_t panel = j / NR, col = j % NR;
        pack_row(w + j * ldw, k, col, packed + panel * kq * NR, scales + panel * g * 2 * NR);
    }
}

void converge_int8_pack_weights_scalar(const float *w, size_t n, size_t k, size_t ldw, uint32_t *packed) {
    pack_weights_with(w, n, k, ldw, packed, pack_weight_row);
}

/// Packs every row of A into the layout above: each group (its `count` real inputs, GELU applied first by `gelu`
/// when `gelu_first`) rounded by `quantize` (`quantize_group_scalar` or its AVX-512 twin); padding rows zero.
static void pack_activations_with(const float *a, size_t lda, size_t m, size_t k, int gelu_first, uint32_t *workspace,
                                  void (*gelu)(float *, size_t),
                                  void (*quantize)(const float *, size_t, uint8_t *, float *, float *)) {
    size_t rows = padded_rows(m), g = groups_of(k), kq = g * GQ;
    float *pairs = (float *)(workspace + rows * kq);
    float buffer[GROUP];
    for (size_t i = 0; i < rows; i++) {
        for (size_t group = 0; group < g; group++) {
            uint8_t *dst = (uint8_t *)(workspace + i * kq + group * GQ);
            float *pair = pairs + (group * rows + i) * 2;
            if (i >= m) {
                memset(dst, 0, GROUP);
                pair[0] = pair[1] = 0.0f;
                continue;
            }
            size_t p0 = group * GROUP, count = k - p0 < GROUP ? k - p0 : GROUP;
            const float *x = a + i * lda + p0;
            if (gelu_first) {
                memcpy(buffer, x, count * sizeof(float));
                gelu(buffer, count);
                x = buffer;
            }
            quantize(x, count, dst, pair, pair + 1);
        }
    }
}

void converge_int8_pack_activations_scalar(const float *a, size_t lda, size_t m, size_t k, int gelu_first,
                                           uint32_t *workspace) {
    pack_activations_with(a, lda, m, k, gelu_first, workspace, converge_gelu_scalar, quantize_group_scalar);
}

void converge_int8_gemm_packed_scalar(const uint32_t *workspace, size_t m, const uint32_t *packed, size_t n,
                                      size_t k, float *c, size_t ldc, const float *bias) {
    size_t rows = padded_rows(m), panels = (n + NR - 1) / NR, g = groups_of(k), kq = g * GQ;
    const float *pairs = (const float *)(workspace + rows * kq);
    const float *scales = (const float *)(packed + panels * NR * kq);
    for (size_t i = 0; i < m; i++) {
        const uint8_t *q = (const uint8_t *)(workspace + i * kq);
        for (size_t j = 0; j < n; j++) {
            size_t panel = j / NR, col = j % NR;
            const uint32_t *wq = packed + panel * kq * NR + col;
            float acc = 0.0f;
            for (size_t group = 0; group < g; group++) {
                int32_t dot = 0;
                for (size_t quad = 0; quad < GQ; quad++) {
                    uint32_t word = wq[(group * GQ + quad) * NR];
                    for (size_t b = 0; b < 4; b++) {
                        dot += (int32_t)q[group * GROUP + quad * 4 + b] * (int32_t)(int8_t)(uint8_t)(word >> (8 * b));
                    }
                }
                const float *pair = pairs + (group * rows + i) * 2;
                const float *t = scales + (panel * g + group) * 2 * NR + col;
                acc += pair[0] * ((float)dot * t[0]);
                acc -= pair[1] * t[NR];
            }
            c[i * ldc + j] = (bias ? bias[j] : c[i * ldc + j]) + acc;
        }
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))

#include <immintrin.h>

#define CONVERGE_INT8_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

int converge_int8_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
}

/// `quantize_group_scalar` for a whole group (`count` = GROUP = 32 real inputs) with AVX-512: the same operations
/// (min, max, division, round to nearest even, clamp), so the same bytes.
static CONVERGE_INT8_TARGET void quantize_group(const float *x, size_t count, uint8_t *dst, float *s_out,
                                               float *u_out) {
    (void)count;
    __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
    float low = _mm512_reduce_min_ps(_mm512_min_ps(v0, v1));
    float high = _mm512_reduce_max_ps(_mm512_max_ps(v0, v1));
    float range = high - low;
    float s = (range > 1e-12f ? range : 1e-12f) / 255.0f;
    float z = nearbyintf(-low / s);
    __m512 vs = _mm512_set1_ps(s), vz = _mm512_set1_ps(z), zero = _mm512_setzero_ps(), top = _mm512_set1_ps(255.0f);
    __m512 vv[2] = {v0, v1};
    for (int part = 0; part < 2; part++) {
        __m512 q = _mm512_add_ps(_mm512_roundscale_ps(_mm512_div_ps(vv[part], vs), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), vz);
        q = _mm512_min_ps(_mm512_max_ps(q, zero), top);
        _mm_storeu_si128((__m128i *)(dst + 16 * part), _mm512_cvtusepi32_epi8(_mm512_cvtps_epi32(q)));
    }
    *s_out = s;
    *u_out = s * z;
}

/// `pack_weight_row` with AVX-512 for a depth of whole groups: the same operations, so the same bytes.
static CONVERGE_INT8_TARGET void pack_weight_row_avx512(const float *w, size_t k, size_t col, uint32_t *panel_quads,
                                                        float *panel_scales) {
    size_t g = k / GROUP;
    __m512 hi = _mm512_set1_ps(127.0f), lo = _mm512_set1_ps(-127.0f);
    uint32_t words[GQ];
    for (size_t group = 0; group < g; group++) {
        __m512 v0 = _mm512_loadu_ps(w + group * GROUP), v1 = _mm512_loadu_ps(w + group * GROUP + 16);
        float most = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        float t = (most > 1e-12f ? most : 1e-12f) / 127.0f;
        __m512 vt = _mm512_set1_ps(t);
        __m512 vv[2] = {v0, v1};
        __m512i total = _mm512_setzero_si512();
        for (size_t part = 0; part < 2; part++) {
            __m512 v = _mm512_roundscale_ps(_mm512_div_ps(vv[part], vt), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            __m512i r = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(v, lo), hi));
            total = _mm512_add_epi32(total, r);
            _mm_storeu_si128((__m128i *)(words + 4 * part), _mm512_cvtsepi32_epi8(r));
        }
        for (size_t quad = 0; quad < GQ; quad++) panel_quads[(group * GQ + quad) * NR + col] = words[quad];
        panel_scales[group * 2 * NR + col] = t;
        panel_scales[group * 2 * NR + NR + col] = t * (float)_mm512_reduce_add_epi32(total);
    }
}

CONVERGE_INT8_TARGET
void converge_int8_pack_weights(const float *w, size_t n, size_t k, size_t ldw, uint32_t *packed) {
    // The vector row packer takes whole groups; other depths take the scalar one.
    pack_weights_with(w, n, k, ldw, packed, k % GROUP == 0 ? pack_weight_row_avx512 : pack_weight_row);
}

CONVERGE_INT8_TARGET
void converge_int8_pack_activations(const float *a, size_t lda, size_t m, size_t k, int gelu_first,
                                    uint32_t *workspace) {
    if (k % GROUP != 0) {
        converge_int8_pack_activations_scalar(a, lda, m, k, gelu_first, workspace);
        return;
    }
    pack_activations_with(a, lda, m, k, gelu_first, workspace, converge_gelu, quantize_group);
}

/// `c[rows x cols] (+)= sum over groups` for one MR x NR tile over `groups` groups: `a` is MR rows of quads
/// (row stride `as` words) at the block's first group, `b` the panel's quads at that group (NR words a step),
/// `pairs` the (s, u) pairs of the tile's first row at that group (groups `ps` bytes apart), `sums` the panel's
/// t and t R at that group (2 NR floats a group). With `bias`, C is set to bias + the sum instead (not read).
static inline CONVERGE_INT8_TARGET
void micro_kernel(const uint32_t *a, size_t as, const uint32_t *b, const float *pairs, size_t ps, const float *sums,
                  size_t groups, float *c, size_t ldc, size_t rows, size_t cols, const float *bias) {
    float acc[MR * NR] __attribute__((aligned(64)));
    const uint32_t *a0 = a, *a3 = a + 3 * as;
    size_t s = as * 4;
    size_t steps;
    __asm__ volatile(
        // Float accumulators: row r in zmm(12 + 2r), zmm(13 + 2r).
        "vpxord %%zmm12, %%zmm12, %%zmm12\n\t"
        "vpxord %%zmm13, %%zmm13, %%zmm13\n\t"
        "vpxord %%zmm14, %%zmm14, %%zmm14\n\t"
        "vpxord %%zmm15, %%zmm15, %%zmm15\n\t"
        "vpxord %%zmm16, %%zmm16, %%zmm16\n\t"
        "vpxord %%zmm17, %%zmm17, %%zmm17\n\t"
        "vpxord %%zmm18, %%zmm18, %%zmm18\n\t"
        "vpxord %%zmm19, %%zmm19, %%zmm19\n\t"
        "vpxord %%zmm20, %%zmm20, %%zmm20\n\t"
        "vpxord %%zmm21, %%zmm21, %%zmm21\n\t"
        "vpxord %%zmm22, %%zmm22, %%zmm22\n\t"
        "vpxord %%zmm23, %%zmm23, %%zmm23\n\t"
        "test %[groups], %[groups]\n\t"
        "jz 3f\n\t"
        "1:\n\t"
        // Int32 accumulators of this group: row r in zmm(2r), zmm(2r + 1).
        "vpxord %%zmm0, %%zmm0, %%zmm0\n\t"
        "vpxord %%zmm1, %%zmm1, %%zmm1\n\t"
        "vpxord %%zmm2, %%zmm2, %%zmm2\n\t"
        "vpxord %%zmm3, %%zmm3, %%zmm3\n\t"
        "vpxord %%zmm4, %%zmm4, %%zmm4\n\t"
        "vpxord %%zmm5, %%zmm5, %%zmm5\n\t"
        "vpxord %%zmm6, %%zmm6, %%zmm6\n\t"
        "vpxord %%zmm7, %%zmm7, %%zmm7\n\t"
        "vpxord %%zmm8, %%zmm8, %%zmm8\n\t"
        "vpxord %%zmm9, %%zmm9, %%zmm9\n\t"
        "vpxord %%zmm10, %%zmm10, %%zmm10\n\t"
        "vpxord %%zmm11, %%zmm11, %%zmm11\n\t"
        "mov $8, %[steps]\n\t"
        "2:\n\t"
        "vmovdqu32 (%[b]), %%zmm24\n\t"
        "vmovdqu32 64(%[b]), %%zmm25\n\t"
        "vpbroadcastd (%[a0]), %%zmm26\n\t"
        "vpdpbusd %%zmm24, %%zmm26, %%zmm0\n\t"
        "vpdpbusd %%zmm25, %%zmm26, %%zmm1\n\t"
        "vpbroadcastd (%[a0], %[s], 1), %%zmm27\n\t"
        "vpdpbusd %%zmm24, %%zmm27, %%zmm2\n\t"
        "vpdpbusd %%zmm25, %%zmm27, %%zmm3\n\t"
        "vpbroadcastd (%[a0], %[s], 2), %%zmm26\n\t"
        "vpdpbusd %%zmm24, %%zmm26, %%zmm4\n\t"
        "vpdpbusd %%zmm25, %%zmm26, %%zmm5\n\t"
        "vpbroadcastd (%[a3]), %%zmm27\n\t"
        "vpdpbusd %%zmm24, %%zmm27, %%zmm6\n\t"
        "vpdpbusd %%zmm25, %%zmm27, %%zmm7\n\t"
        "vpbroadcastd (%[a3], %[s], 1), %%zmm26\n\t"
        "vpdpbusd %%zmm24, %%zmm26, %%zmm8\n\t"
        "vpdpbusd %%zmm25, %%zmm26, %%zmm9\n\t"
        "vpbroadcastd (%[a3], %[s], 2), %%zmm27\n\t"
        "vpdpbusd %%zmm24, %%zmm27, %%zmm10\n\t"
        "vpdpbusd %%zmm25, %%zmm27, %%zmm11\n\t"
        "add $128, %[b]\n\t"
        "add $4, %[a0]\n\t"
        "add $4, %[a3]\n\t"
        "dec %[steps]\n\t"
        "jnz 2b\n\t"
        // The group's scaling: f += s * (t * float(P)) - u * (t R); t in zmm24-25 (free now), t R in zmm28-29.
        "vmovups (%[sums]), %%zmm24\n\t"
        "vmovups 64(%[sums]), %%zmm25\n\t"
        "vmovups 128(%[sums]), %%zmm28\n\t"
        "vmovups 192(%[sums]), %%zmm29\n\t"
        "vcvtdq2ps %%zmm0, %%zmm0\n\t"
        "vcvtdq2ps %%zmm1, %%zmm1\n\t"
        "vmulps %%zmm24, %%zmm0, %%zmm0\n\t"
        "vmulps %%zmm25, %%zmm1, %%zmm1\n\t"
        "vbroadcastss 0(%[pairs]), %%zmm26\n\t"
        "vbroadcastss 4(%[pairs]), %%zmm27\n\t"
        "vfmadd231ps %%zmm26, %%zmm0, %%zmm12\n\t"
        "vfmadd231ps %%zmm26, %%zmm1, %%zmm13\n\t"
        "vfnmadd231ps %%zmm27, %%zmm28, %%zmm12\n\t"
        "vfnmadd231ps %%zmm27, %%zmm29, %%zmm13\n\t"
        "vcvtdq2ps %%zmm2, %%zmm2\n\t"
        "vcvtdq2ps %%zmm3, %%zmm3\n\t"
        "vmulps %%zmm24, %%zmm2, %%zmm2\n\t"
        "vmulps %%zmm25, %%zmm3, %%zmm3\n\t"
        "vbroadcastss 8(%[pairs]), %%zmm26\n\t"
        "vbroadcastss 12(%[pairs]), %%zmm27\n\t"
        "vfmadd231ps %%zmm26, %%zmm2, %%zmm14\n\t"
        "vfmadd231ps %%zmm26, %%zmm3, %%zmm15\n\t"
        "vfnmadd231ps %%zmm27, %%zmm28, %%zmm14\n\t"
        "vfnmadd231ps %%zmm27, %%zmm29, %%zmm15\n\t"
        "vcvtdq2ps %%zmm4, %%zmm4\n\t"
        "vcvtdq2ps %%zmm5, %%zmm5\n\t"
        "vmulps %%zmm24, %%zmm4, %%zmm4\n\t"
        "vmulps %%zmm25, %%zmm5, %%zmm5\n\t"
        "vbroadcastss 16(%[pairs]), %%zmm26\n\t"
        "vbroadcastss 20(%[pairs]), %%zmm27\n\t"
        "vfmadd231ps %%zmm26, %%zmm4, %%zmm16\n\t"
        "vfmadd231ps %%zmm26, %%zmm5, %%zmm17\n\t"
        "vfnmadd231ps %%zmm27, %%zmm28, %%zmm16\n\t"
        "vfnmadd231ps %%zmm27, %%zmm29, %%zmm17\n\t"
        "vcvtdq2ps %%zmm6, %%zmm6\n\t"
        "vcvtdq2ps %%zmm7, %%zmm7\n\t"
        "vmulps %%zmm24, %%zmm6, %%zmm6\n\t"
        "vmulps %%zmm25, %%zmm7, %%zmm7\n\t"
        "vbroadcastss 24(%[pairs]), %%zmm26\n\t"
        "vbroadcastss 28(%[pairs]), %%zmm27\n\t"
        "vfmadd231ps %%zmm26, %%zmm6, %%zmm18\n\t"
        "vfmadd231ps %%zmm26, %%zmm7, %%zmm19\n\t"
        "vfnmadd231ps %%zmm27, %%zmm28, %%zmm18\n\t"
        "vfnmadd231ps %%zmm27, %%zmm29, %%zmm19\n\t"
        "vcvtdq2ps %%zmm8, %%zmm8\n\t"
        "vcvtdq2ps %%zmm9, %%zmm9\n\t"
        "vmulps %%zmm24, %%zmm8, %%zmm8\n\t"
        "vmulps %%zmm25, %%zmm9, %%zmm9\n\t"
        "vbroadcastss 32(%[pairs]), %%zmm26\n\t"
        "vbroadcastss 36(%[pairs]), %%zmm27\n\t"
        "vfmadd231ps %%zmm26, %%zmm8, %%zmm20\n\t"
        "vfmadd231ps %%zmm26, %%zmm9, %%zmm21\n\t"
        "vfnmadd231ps %%zmm27, %%zmm28, %%zmm20\n\t"
        "vfnmadd231ps %%zmm27, %%zmm29, %%zmm21\n\t"
        "vcvtdq2ps %%zmm10, %%zmm10\n\t"
        "vcvtdq2ps %%zmm11, %%zmm11\n\t"
        "vmulps %%zmm24, %%zmm10, %%zmm10\n\t"
        "vmulps %%zmm25, %%zmm11, %%zmm11\n\t"
        "vbroadcastss 40(%[pairs]), %%zmm26\n\t"
        "vbroadcastss 44(%[pairs]), %%zmm27\n\t"
        "vfmadd231ps %%zmm26, %%zmm10, %%zmm22\n\t"
        "vfmadd231ps %%zmm26, %%zmm11, %%zmm23\n\t"
        "vfnmadd231ps %%zmm27, %%zmm28, %%zmm22\n\t"
        "vfnmadd231ps %%zmm27, %%zmm29, %%zmm23\n\t"
        "add $256, %[sums]\n\t"
        "add %[ps], %[pairs]\n\t"
        "dec %[groups]\n\t"
        "jnz 1b\n\t"
        "3:\n\t"
        "vmovups %%zmm12, 0(%[out])\n\t"
        "vmovups %%zmm13, 64(%[out])\n\t"
        "vmovups %%zmm14, 128(%[out])\n\t"
        "vmovups %%zmm15, 192(%[out])\n\t"
        "vmovups %%zmm16, 256(%[out])\n\t"
        "vmovups %%zmm17, 320(%[out])\n\t"
        "vmovups %%zmm18, 384(%[out])\n\t"
        "vmovups %%zmm19, 448(%[out])\n\t"
        "vmovups %%zmm20, 512(%[out])\n\t"
        "vmovups %%zmm21, 576(%[out])\n\t"
        "vmovups %%zmm22, 640(%[out])\n\t"
        "vmovups %%zmm23, 704(%[out])\n\t"
        : [a0] "+r"(a0), [a3] "+r"(a3), [b] "+r"(b), [pairs] "+r"(pairs), [sums] "+r"(sums),
          [groups] "+r"(groups), [steps] "=&r"(steps)
        : [out] "r"(acc), [s] "r"(s), [ps] "r"(ps)
        : "zmm0", "zmm1", "zmm2", "zmm3", "zmm4", "zmm5", "zmm6", "zmm7", "zmm8", "zmm9", "zmm10", "zmm11", "zmm12",
          "zmm13", "zmm14", "zmm15", "zmm16", "zmm17", "zmm18", "zmm19", "zmm20", "zmm21", "zmm22", "zmm23", "zmm24",
          "zmm25", "zmm26", "zmm27", "zmm28", "zmm29", "memory", "cc");
    __mmask16 m0 = (__mmask16)(cols >= 16 ? 0xFFFF : ((1u << cols) - 1));
    __mmask16 m1 = (__mmask16)(cols > 16 ? ((1u << (cols - 16)) - 1) : 0);
    if (bias) {
        __m512 b0 = _mm512_maskz_loadu_ps(m0, bias), b1 = _mm512_maskz_loadu_ps(m1, bias + 16);
        for (size_t r = 0; r < rows; r++) {
            float *row = c + r * ldc;
            _mm512_mask_storeu_ps(row, m0, _mm512_add_ps(b0, _mm512_load_ps(acc + r * NR)));
            _mm512_mask_storeu_ps(row + 16, m1, _mm512_add_ps(b1, _mm512_load_ps(acc + r * NR + 16)));
        }
    } else {
        for (size_t r = 0; r < rows; r++) {
            float *row = c + r * ldc;
            _mm512_mask_storeu_ps(row, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, row), _mm512_load_ps(acc + r * NR)));
            _mm512_mask_storeu_ps(row + 16, m1,
                                  _mm512_add_ps(_mm512_maskz_loadu_ps(m1, row + 16), _mm512_load_ps(acc + r * NR + 16)));
        }
    }
}

CONVERGE_INT8_TARGET
void converge_int8_gemm_packed(const uint32_t *workspace, size_t m, const uint32_t *packed, size_t n, size_t k,
                               float *c, size_t ldc, const float *bias) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        if (bias) {
            for (size_t i = 0; i < m; i++) {
                for (size_t j = 0; j < n; j++) c[i * ldc + j] = bias[j];
            }
        }
        return;
    }
    size_t rows = padded_rows(m), panels = (n + NR - 1) / NR, g = groups_of(k), kq = g * GQ;
    const float *pairs = (const float *)(workspace + rows * kq);
    const float *scales = (const float *)(packed + panels * NR * kq);
    size_t tiles = rows / MR;
    size_t blocks = (g + KG_MAX - 1) / KG_MAX;
    size_t kg = (g + blocks - 1) / blocks;
    size_t mc = A_BLOCK_BYTES / (kg * GQ * MR * 4);
    if (mc < 1) mc = 1;
    for (size_t g0 = 0; g0 < g; g0 += kg) {
        size_t depth = g - g0 < kg ? g - g0 : kg;
        for (size_t t0 = 0; t0 < tiles; t0 += mc) {
            size_t t1 = t0 + mc < tiles ? t0 + mc : tiles;
            for (size_t panel = 0; panel < panels; panel++) {
                const uint32_t *bp = packed + (panel * kq + g0 * GQ) * NR;
                const float *sp = scales + (panel * g + g0) * 2 * NR;
                size_t j0 = panel * NR, cols = n - j0 < NR ? n - j0 : NR;
                for (size_t tile = t0; tile < t1; tile++) {
                    size_t i0 = tile * MR, valid = m - i0 < MR ? m - i0 : MR;
                    micro_kernel(workspace + i0 * kq + g0 * GQ, kq, bp, pairs + (g0 * rows + i0) * 2, rows * 8, sp,
                                 depth, c + i0 * ldc + j0, ldc, valid, cols, bias && g0 == 0 ? bias + j0 : NULL);
                }
            }
        }
    }
}

#else

// No AVX512-VNNI code on this architecture: converge_int8_supported() is 0 and callers use another precision. The
// vector entry points fall back to the scalar versions above, so the library is complete.

int converge_int8_supported(void) { return 0; }

void converge_int8_pack_weights(const float *w, size_t n, size_t k, size_t ldw, uint32_t *packed) {
    converge_int8_pack_weights_scalar(w, n, k, ldw, packed);
}

void converge_int8_pack_activations(const float *a, size_t lda, size_t m, size_t k, int gelu_first,
                                    uint32_t *workspace) {
    converge_int8_pack_activations_scalar(a, lda, m, k, gelu_first, workspace);
}

void converge_int8_gemm_packed(const uint32_t *workspace, size_t m, const uint32_t *packed, size_t n, size_t k,
                               float *c, size_t ldc, const float *bias) {
    converge_int8_gemm_packed_scalar(workspace, m, packed, n, k, c, ldc, bias);
}

#endif
