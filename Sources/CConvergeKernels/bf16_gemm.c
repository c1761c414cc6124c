// BF16 x BF16 -> Float32 matrix products on AVX512-BF16 (`vdpbf16ps`), for the encoder's weight products.
//
// C[m x n] += A[m x k] * W[n x k]^T. W (a PyTorch `Linear` weight) is converted once and packed in panels of NR
// output columns; A is converted per call into a row-major copy (rows rounded up to MR). Both are stored as 32-bit
// words holding a pair
// of BF16 values adjacent in k, the unit `vdpbf16ps` consumes: lane j of `_mm512_dpbf16_ps(acc, a, b)` adds
// a.lo * b.lo + a.hi * b.hi of word j to acc[j]. The micro-kernel keeps an MR x NR tile of C (12 x 32, 24 zmm
// accumulators) in registers and, per pair-step, loads two vectors of W's panel and broadcasts one word of A per
// row (inline assembly, see micro_kernel). Depth is cut into blocks (a W micro-panel of a block stays in L1, A's
// block of rows in L2).
//
// Only the functions below that carry CONVERGE_BF16_TARGET are compiled for AVX-512; the translation unit is
// built for the baseline target (no flags in Package.swift), and callers check converge_bf16_supported() first.

#include "CConvergeKernels.h"

#define MR CONVERGE_BF16_MR
#define NR CONVERGE_BF16_NR
/// Largest depth block, in pair-steps: a W micro-panel block is at most KC_MAX * NR * 4 = 24 KiB (L1 is 32 KiB).
#define KC_MAX 192
/// Largest A block in bytes (MC rows x KC pairs x 4), kept well inside a 1 MiB L2.
#define A_BLOCK_BYTES (384 * 1024)

size_t converge_bf16_packed_weight_words(size_t n, size_t k) {
    return ((n + NR - 1) / NR) * NR * ((k + 1) / 2);
}

size_t converge_bf16_workspace_words(size_t m, size_t k) {
    return ((m + MR - 1) / MR) * MR * ((k + 1) / 2);
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))

#include <immintrin.h>

#define CONVERGE_BF16_TARGET __attribute__((target("avx512f,avx512bf16,avx512bw,avx512vl")))

int converge_bf16_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
}

/// Converts row `src` (`k` floats) to `(k + 1) / 2` BF16 pairs (round to nearest even; an odd `k`'s last pair has
/// a zero high half), writing pair p at `dst[p * stride]`.
static inline CONVERGE_BF16_TARGET void convert_row(const float *src, size_t k, uint32_t *dst, size_t stride) {
    uint32_t words[16];
    size_t q = 0;
    while (q < k) {
        size_t left = k - q;
        __m512 lo, hi;
        if (left >= 32) {
            lo = _mm512_loadu_ps(src + q);
            hi = _mm512_loadu_ps(src + q + 16);
        } else {
            __mmask16 mlo = (__mmask16)(left >= 16 ? 0xFFFF : ((1u << left) - 1));
            __mmask16 mhi = (__mmask16)(left > 16 ? ((1u << (left - 16)) - 1) : 0);
            lo = _mm512_maskz_loadu_ps(mlo, src + q);
            hi = _mm512_maskz_loadu_ps(mhi, src + q + 16);
        }
        // Element i of the result is lo[i] for i < 16 and hi[i - 16] above: words hold (x[2p], x[2p + 1]).
        __m512bh packed = _mm512_cvtne2ps_pbh(hi, lo);
        _mm512_storeu_si512((void *)words, (__m512i)packed);
        size_t pairs = left >= 32 ? 16 : (left + 1) / 2;
        uint32_t *out = dst + (q / 2) * stride;
        for (size_t p = 0; p < pairs; p++) out[p * stride] = words[p];
        q += 32;
    }
}

/// `convert_row` with consecutive pairs (`stride` 1): whole vectors stored at once.
static inline CONVERGE_BF16_TARGET void convert_row_contiguous(const float *src, size_t k, uint32_t *dst) {
    size_t q = 0;
    for (; q + 32 <= k; q += 32) {
        __m512bh packed = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + q + 16), _mm512_loadu_ps(src + q));
        _mm512_storeu_si512((void *)(dst + q / 2), (__m512i)packed);
    }
    if (q < k) {
        size_t left = k - q;
        __mmask16 mlo = (__mmask16)(left >= 16 ? 0xFFFF : ((1u << left) - 1));
        __mmask16 mhi = (__mmask16)(left > 16 ? ((1u << (left - 16)) - 1) : 0);
        __m512bh packed = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(mhi, src + q + 16), _mm512_maskz_loadu_ps(mlo, src + q));
        size_t pairs = (left + 1) / 2;
        _mm512_mask_storeu_epi32((void *)(dst + q / 2), (__mmask16)((1u << pairs) - 1), (__m512i)packed);
    }
}

CONVERGE_BF16_TARGET
void converge_bf16_pack_weights(const float *w, size_t n, size_t k, size_t ldw, uint32_t *packed) {
    size_t kp = (k + 1) / 2, panels = (n + NR - 1) / NR;
    for (size_t panel = 0; panel < panels; panel++) {
        uint32_t *dst = packed + panel * kp * NR;
        for (size_t col = 0; col < NR; col++) {
            size_t j = panel * NR + col;
            if (j < n) {
                convert_row(w + j * ldw, k, dst + col, NR);
            } else {
                for (size_t p = 0; p < kp; p++) dst[p * NR + col] = 0;
            }
        }
    }
}

/// `c[rows x cols] += a-tile * w-panel` over `kc` pair-steps: `a` is MR rows of words (row stride `as` words),
/// `b` `kc x NR` words. With `bias` (the tile's NR columns of it), C is set to bias + sum instead (not read).
/// Rows past `rows` (zero in the packed tile) and columns past `cols` are computed but not stored.
///
/// The pair-step loop is inline assembly (24 accumulators in zmm0-zmm23, W's two vectors in zmm24-25, A's
/// broadcast word in zmm26-27): its speed does not depend on the optimisation level, so a debug build (-O0, as
/// `swift run` makes) runs it as fast as a release build. The accumulators go to `acc`, then are added to C.
static inline CONVERGE_BF16_TARGET
void micro_kernel(const uint32_t *a, size_t as, const uint32_t *b, size_t kc, float *c, size_t ldc, size_t rows,
                  size_t cols, const float *bias) {
    float acc[MR * NR] __attribute__((aligned(64)));
    // Rows 0-3 from a0, 4-7 from a4, 8-11 from a8: base, base + s, base + 2s, base + 3s.
    const uint32_t *a0 = a, *a4 = a + 4 * as, *a8 = a + 8 * as;
    size_t s = as * 4, s3 = 3 * as * 4;
    __asm__ volatile(
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
        "test %[kc], %[kc]\n\t"
        "jz 2f\n\t"
        "1:\n\t"
        "vmovdqu32 (%[b]), %%zmm24\n\t"
        "vmovdqu32 64(%[b]), %%zmm25\n\t"
        "vpbroadcastd (%[a0]), %%zmm26\n\t"
        "vdpbf16ps %%zmm24, %%zmm26, %%zmm0\n\t"
        "vdpbf16ps %%zmm25, %%zmm26, %%zmm1\n\t"
        "vpbroadcastd (%[a0], %[s], 1), %%zmm27\n\t"
        "vdpbf16ps %%zmm24, %%zmm27, %%zmm2\n\t"
        "vdpbf16ps %%zmm25, %%zmm27, %%zmm3\n\t"
        "vpbroadcastd (%[a0], %[s], 2), %%zmm26\n\t"
        "vdpbf16ps %%zmm24, %%zmm26, %%zmm4\n\t"
        "vdpbf16ps %%zmm25, %%zmm26, %%zmm5\n\t"
        "vpbroadcastd (%[a0], %[s3], 1), %%zmm27\n\t"
        "vdpbf16ps %%zmm24, %%zmm27, %%zmm6\n\t"
        "vdpbf16ps %%zmm25, %%zmm27, %%zmm7\n\t"
        "vpbroadcastd (%[a4]), %%zmm26\n\t"
        "vdpbf16ps %%zmm24, %%zmm26, %%zmm8\n\t"
        "vdpbf16ps %%zmm25, %%zmm26, %%zmm9\n\t"
        "vpbroadcastd (%[a4], %[s], 1), %%zmm27\n\t"
        "vdpbf16ps %%zmm24, %%zmm27, %%zmm10\n\t"
        "vdpbf16ps %%zmm25, %%zmm27, %%zmm11\n\t"
        "vpbroadcastd (%[a4], %[s], 2), %%zmm26\n\t"
        "vdpbf16ps %%zmm24, %%zmm26, %%zmm12\n\t"
        "vdpbf16ps %%zmm25, %%zmm26, %%zmm13\n\t"
        "vpbroadcastd (%[a4], %[s3], 1), %%zmm27\n\t"
        "vdpbf16ps %%zmm24, %%zmm27, %%zmm14\n\t"
        "vdpbf16ps %%zmm25, %%zmm27, %%zmm15\n\t"
        "vpbroadcastd (%[a8]), %%zmm26\n\t"
        "vdpbf16ps %%zmm24, %%zmm26, %%zmm16\n\t"
        "vdpbf16ps %%zmm25, %%zmm26, %%zmm17\n\t"
        "vpbroadcastd (%[a8], %[s], 1), %%zmm27\n\t"
        "vdpbf16ps %%zmm24, %%zmm27, %%zmm18\n\t"
        "vdpbf16ps %%zmm25, %%zmm27, %%zmm19\n\t"
        "vpbroadcastd (%[a8], %[s], 2), %%zmm26\n\t"
        "vdpbf16ps %%zmm24, %%zmm26, %%zmm20\n\t"
        "vdpbf16ps %%zmm25, %%zmm26, %%zmm21\n\t"
        "vpbroadcastd (%[a8], %[s3], 1), %%zmm27\n\t"
        "vdpbf16ps %%zmm24, %%zmm27, %%zmm22\n\t"
        "vdpbf16ps %%zmm25, %%zmm27, %%zmm23\n\t"
        "add $128, %[b]\n\t"
        "add $4, %[a0]\n\t"
        "add $4, %[a4]\n\t"
        "add $4, %[a8]\n\t"
        "dec %[kc]\n\t"
        "jnz 1b\n\t"
        "2:\n\t"
        "vmovups %%zmm0, 0(%[out])\n\t"
        "vmovups %%zmm1, 64(%[out])\n\t"
        "vmovups %%zmm2, 128(%[out])\n\t"
        "vmovups %%zmm3, 192(%[out])\n\t"
        "vmovups %%zmm4, 256(%[out])\n\t"
        "vmovups %%zmm5, 320(%[out])\n\t"
        "vmovups %%zmm6, 384(%[out])\n\t"
        "vmovups %%zmm7, 448(%[out])\n\t"
        "vmovups %%zmm8, 512(%[out])\n\t"
        "vmovups %%zmm9, 576(%[out])\n\t"
        "vmovups %%zmm10, 640(%[out])\n\t"
        "vmovups %%zmm11, 704(%[out])\n\t"
        "vmovups %%zmm12, 768(%[out])\n\t"
        "vmovups %%zmm13, 832(%[out])\n\t"
        "vmovups %%zmm14, 896(%[out])\n\t"
        "vmovups %%zmm15, 960(%[out])\n\t"
        "vmovups %%zmm16, 1024(%[out])\n\t"
        "vmovups %%zmm17, 1088(%[out])\n\t"
        "vmovups %%zmm18, 1152(%[out])\n\t"
        "vmovups %%zmm19, 1216(%[out])\n\t"
        "vmovups %%zmm20, 1280(%[out])\n\t"
        "vmovups %%zmm21, 1344(%[out])\n\t"
        "vmovups %%zmm22, 1408(%[out])\n\t"
        "vmovups %%zmm23, 1472(%[out])\n\t"
        : [a0] "+r"(a0), [a4] "+r"(a4), [a8] "+r"(a8), [b] "+r"(b), [kc] "+r"(kc)
        : [out] "r"(acc), [s] "r"(s), [s3] "r"(s3)
        : "zmm0", "zmm1", "zmm2", "zmm3", "zmm4", "zmm5", "zmm6", "zmm7", "zmm8", "zmm9", "zmm10", "zmm11", "zmm12", "zmm13", "zmm14", "zmm15", "zmm16", "zmm17", "zmm18", "zmm19", "zmm20", "zmm21", "zmm22", "zmm23", "zmm24", "zmm25", "zmm26", "zmm27", "memory", "cc");
    __mmask16 m0 = (__mmask16)(cols >= 16 ? 0xFFFF : ((1u << cols) - 1));
    __mmask16 m1 = (__mmask16)(cols > 16 ? ((1u << (cols - 16)) - 1) : 0);
    if (bias) {
        __m512 b0 = _mm512_maskz_loadu_ps(m0, bias), b1 = _mm512_maskz_loadu_ps(m1, bias + 16);
        for (size_t r = 0; r < rows; r++) {
            float *row = c + r * ldc;
            _mm512_mask_storeu_ps(row, m0, _mm512_add_ps(b0, _mm512_load_ps(acc + r * NR)));
            _mm512_mask_storeu_ps(row + 16, m1, _mm512_add_ps(b1, _mm512_load_ps(acc + r * NR + 16)));
        }
    } else if (cols == NR) {
        for (size_t r = 0; r < rows; r++) {
            float *row = c + r * ldc;
            _mm512_storeu_ps(row, _mm512_add_ps(_mm512_loadu_ps(row), _mm512_load_ps(acc + r * NR)));
            _mm512_storeu_ps(row + 16, _mm512_add_ps(_mm512_loadu_ps(row + 16), _mm512_load_ps(acc + r * NR + 16)));
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

CONVERGE_BF16_TARGET
void converge_bf16_pack_activations(const float *a, size_t lda, size_t m, size_t k, uint32_t *workspace) {
    size_t kp = (k + 1) / 2, padded = (m + MR - 1) / MR * MR;
    // Row-major, `kp` words a row; the rows past m (up to a multiple of MR) are zero.
    for (size_t i = 0; i < m; i++) convert_row_contiguous(a + i * lda, k, workspace + i * kp);
    for (size_t i = m; i < padded; i++) {
        for (size_t p = 0; p < kp; p++) workspace[i * kp + p] = 0;
    }
}

CONVERGE_BF16_TARGET
void converge_bf16_gemm_packed(const uint32_t *workspace, size_t m, const uint32_t *packed, size_t n, size_t k,
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
    size_t kp = (k + 1) / 2, tiles = (m + MR - 1) / MR, panels = (n + NR - 1) / NR;
    size_t blocks = (kp + KC_MAX - 1) / KC_MAX;
    size_t kc = (kp + blocks - 1) / blocks;
    size_t mc = A_BLOCK_BYTES / (kc * MR * 4);
    if (mc < 1) mc = 1;
    for (size_t p0 = 0; p0 < kp; p0 += kc) {
        size_t depth = kp - p0 < kc ? kp - p0 : kc;
        for (size_t t0 = 0; t0 < tiles; t0 += mc) {
            size_t t1 = t0 + mc < tiles ? t0 + mc : tiles;
            for (size_t panel = 0; panel < panels; panel++) {
                const uint32_t *bp = packed + (panel * kp + p0) * NR;
                size_t j0 = panel * NR, cols = n - j0 < NR ? n - j0 : NR;
                for (size_t tile = t0; tile < t1; tile++) {
                    size_t i0 = tile * MR, rows = m - i0 < MR ? m - i0 : MR;
                    micro_kernel(workspace + i0 * kp + p0, kp, bp, depth, c + i0 * ldc + j0, ldc, rows, cols,
                                 bias && p0 == 0 ? bias + j0 : NULL);
                }
            }
        }
    }
}

void converge_bf16_gemm(const float *a, size_t lda, size_t m, const uint32_t *packed, size_t n, size_t k, float *c,
                        size_t ldc, uint32_t *workspace) {
    if (m == 0 || n == 0 || k == 0) return;
    converge_bf16_pack_activations(a, lda, m, k, workspace);
    converge_bf16_gemm_packed(workspace, m, packed, n, k, c, ldc, NULL);
}

#else

// No AVX512-BF16 code on this architecture: callers see converge_bf16_supported() == 0 and use Float32. The
// other functions are portable scalar versions (same layout, round to nearest even), so the library is complete.

int converge_bf16_supported(void) { return 0; }

static uint32_t to_bf16(float x) {
    union { float f; uint32_t u; } v = { x };
    if ((v.u & 0x7F800000u) == 0x7F800000u && (v.u & 0x007FFFFFu)) return (v.u >> 16) | 0x40u;  // quiet NaN
    return (v.u + 0x7FFFu + ((v.u >> 16) & 1u)) >> 16;
}

static float from_bf16(uint32_t h) {
    union { uint32_t u; float f; } v = { (h & 0xFFFFu) << 16 };
    return v.f;
}

static void convert_row(const float *src, size_t k, uint32_t *dst, size_t stride) {
    for (size_t p = 0; p < (k + 1) / 2; p++) {
        uint32_t lo = to_bf16(src[2 * p]), hi = 2 * p + 1 < k ? to_bf16(src[2 * p + 1]) : 0;
        dst[p * stride] = lo | (hi << 16);
    }
}

void converge_bf16_pack_weights(const float *w, size_t n, size_t k, size_t ldw, uint32_t *packed) {
    size_t kp = (k + 1) / 2, panels = (n + NR - 1) / NR;
    for (size_t panel = 0; panel < panels; panel++) {
        for (size_t col = 0; col < NR; col++) {
            size_t j = panel * NR + col;
            if (j < n) {
                convert_row(w + j * ldw, k, packed + panel * kp * NR + col, NR);
            } else {
                for (size_t p = 0; p < kp; p++) packed[(panel * kp + p) * NR + col] = 0;
            }
        }
    }
}

void converge_bf16_pack_activations(const float *a, size_t lda, size_t m, size_t k, uint32_t *workspace) {
    size_t kp = (k + 1) / 2;
    for (size_t i = 0; i < m; i++) convert_row(a + i * lda, k, workspace + i * kp, 1);
}

void converge_bf16_gemm_packed(const uint32_t *workspace, size_t m, const uint32_t *packed, size_t n, size_t k,
                               float *c, size_t ldc, const float *bias) {
    size_t kp = (k + 1) / 2;
    for (size_t i = 0; i < m; i++) {
        const uint32_t *ap = workspace + i * kp;
        for (size_t j = 0; j < n; j++) {
            const uint32_t *wp = packed + (j / NR) * kp * NR + j % NR;
            float sum = 0;
            for (size_t p = 0; p < kp; p++) {
                sum += from_bf16(ap[p] >> 16) * from_bf16(wp[p * NR] >> 16);
                sum += from_bf16(ap[p]) * from_bf16(wp[p * NR]);
            }
            c[i * ldc + j] = (bias ? bias[j] : c[i * ldc + j]) + sum;
        }
    }
}

void converge_bf16_gemm(const float *a, size_t lda, size_t m, const uint32_t *packed, size_t n, size_t k, float *c,
                        size_t ldc, uint32_t *workspace) {
    converge_bf16_pack_activations(a, lda, m, k, workspace);
    converge_bf16_gemm_packed(workspace, m, packed, n, k, c, ldc, NULL);
}

#endif
