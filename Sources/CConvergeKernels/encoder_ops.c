// The Float32 steps of the encoder's forward pass around its BF16 weight products: GELU, LayerNorm (with the
// residual added first), attention within one sequence (scores, softmax, weighted sum of the values) and GELU fused
// into the conversion of the activations to BF16. Each public function picks at run time: an AVX-512 version
// (functions carrying CONVERGE_OPS_TARGET; the translation unit is compiled for the baseline target, no flags in
// Package.swift) where `converge_ops_avx512()` says the CPU has AVX512F, else the portable scalar version, which is
// also public (`_scalar`) so that tests can hold the two against each other.

#include "CConvergeKernels.h"

#include <math.h>

// The erf approximation of GELU (the coefficients of BertEncoder.gelu, the Float32 path's): u = x / sqrt 2 clamped
// to [-4, 4], erf(u) = u p(u^2) / q(u^2), p of degree 6 and q of degree 4 in u^2.
#define ERF_P0 -2.72614225801306e-10f
#define ERF_P1 2.77068142495902e-08f
#define ERF_P2 -2.10102402082508e-06f
#define ERF_P3 -5.69250639462346e-05f
#define ERF_P4 -7.34990630326855e-04f
#define ERF_P5 -2.95459980854025e-03f
#define ERF_P6 -1.60960333262415e-02f
#define ERF_Q0 -1.45660718464996e-05f
#define ERF_Q1 -2.13374055278905e-04f
#define ERF_Q2 -1.68282697438203e-03f
#define ERF_Q3 -7.37332916720468e-03f
#define ERF_Q4 -1.42647390514189e-02f

static inline float gelu_scalar_one(float v) {
    float u = v * 0.70710678118654752f;
    u = u < -4.0f ? -4.0f : (u > 4.0f ? 4.0f : u);
    float u2 = u * u;
    float p = ERF_P0;
    p = p * u2 + ERF_P1;
    p = p * u2 + ERF_P2;
    p = p * u2 + ERF_P3;
    p = p * u2 + ERF_P4;
    p = p * u2 + ERF_P5;
    p = p * u2 + ERF_P6;
    float q = ERF_Q0;
    q = q * u2 + ERF_Q1;
    q = q * u2 + ERF_Q2;
    q = q * u2 + ERF_Q3;
    q = q * u2 + ERF_Q4;
    return 0.5f * v * (1.0f + u * p / q);
}

void converge_gelu_scalar(float *x, size_t count) {
    for (size_t i = 0; i < count; i++) x[i] = gelu_scalar_one(x[i]);
}

void converge_layer_norm_scalar(float *x, const float *residual, size_t rows, size_t width, const float *weight,
                                const float *bias, float eps) {
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * width;
        if (residual) {
            const float *add = residual + r * width;
            for (size_t k = 0; k < width; k++) row[k] += add[k];
        }
        float mean = 0;
        for (size_t k = 0; k < width; k++) mean += row[k];
        mean /= (float)width;
        float variance = 0;
        for (size_t k = 0; k < width; k++) {
            float d = row[k] - mean;
            variance += d * d;
        }
        variance /= (float)width;
        float inv = 1.0f / sqrtf(variance + eps);
        for (size_t k = 0; k < width; k++) row[k] = (row[k] - mean) * inv * weight[k] + bias[k];
    }
}

size_t converge_attention_scratch_floats(size_t tokens, size_t head_size) {
    size_t padded = (tokens + 15) / 16 * 16;
    return padded * head_size + padded + 16;
}

void converge_attention_scalar(const float *qkv, size_t ld, size_t tokens, size_t heads, size_t head_size, float scale,
                               float *context, size_t ldc, float *scratch) {
    size_t hidden = heads * head_size;
    float *scores = scratch;
    for (size_t head = 0; head < heads; head++) {
        const float *q = qkv + head * head_size, *k = q + hidden, *v = q + 2 * hidden;
        for (size_t i = 0; i < tokens; i++) {
            float m = -INFINITY;
            for (size_t j = 0; j < tokens; j++) {
                float s = 0;
                for (size_t d = 0; d < head_size; d++) s += q[i * ld + d] * k[j * ld + d];
                scores[j] = s * scale;
                if (scores[j] > m) m = scores[j];
            }
            float sum = 0;
            for (size_t j = 0; j < tokens; j++) {
                scores[j] = expf(scores[j] - m);
                sum += scores[j];
            }
            float inv = 1.0f / sum;
            float *out = context + i * ldc + head * head_size;
            for (size_t d = 0; d < head_size; d++) {
                float acc = 0;
                for (size_t j = 0; j < tokens; j++) acc += scores[j] * v[j * ld + d];
                out[d] = acc * inv;
            }
        }
    }
}

// BF16 of a float, rounded to nearest even (a NaN stays a quiet NaN): the rounding of `vcvtne2ps2bf16`.
static inline uint32_t bf16_bits(float x) {
    union { float f; uint32_t u; } v = { x };
    if ((v.u & 0x7F800000u) == 0x7F800000u && (v.u & 0x007FFFFFu)) return (v.u >> 16) | 0x40u;
    return (v.u + 0x7FFFu + ((v.u >> 16) & 1u)) >> 16;
}

void converge_gelu_pack_activations_scalar(const float *a, size_t lda, size_t m, size_t k, uint32_t *workspace) {
    size_t kp = (k + 1) / 2, padded = (m + CONVERGE_BF16_MR - 1) / CONVERGE_BF16_MR * CONVERGE_BF16_MR;
    for (size_t i = 0; i < m; i++) {
        for (size_t p = 0; p < kp; p++) {
            uint32_t lo = bf16_bits(gelu_scalar_one(a[i * lda + 2 * p]));
            uint32_t hi = 2 * p + 1 < k ? bf16_bits(gelu_scalar_one(a[i * lda + 2 * p + 1])) : 0;
            workspace[i * kp + p] = lo | (hi << 16);
        }
    }
    for (size_t i = m; i < padded; i++) {
        for (size_t p = 0; p < kp; p++) workspace[i * kp + p] = 0;
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))

#include <immintrin.h>

#define CONVERGE_OPS_TARGET __attribute__((target("avx512f,avx512bw,avx512vl")))
/// GELU fused into the BF16 conversion (`vcvtne2ps2bf16`) also needs AVX512-BF16.
#define CONVERGE_OPS_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

int converge_ops_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl");
}

/// Lanes below `n` (at most 16).
static inline __mmask16 lanes(size_t n) { return (__mmask16)(n >= 16 ? 0xFFFF : ((1u << n) - 1)); }

static inline CONVERGE_OPS_TARGET __m512 gelu16(__m512 v) {
    __m512 u = _mm512_mul_ps(v, _mm512_set1_ps(0.70710678118654752f));
    u = _mm512_min_ps(_mm512_max_ps(u, _mm512_set1_ps(-4.0f)), _mm512_set1_ps(4.0f));
    __m512 u2 = _mm512_mul_ps(u, u);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(ERF_P0), u2, _mm512_set1_ps(ERF_P1));
    p = _mm512_fmadd_ps(p, u2, _mm512_set1_ps(ERF_P2));
    p = _mm512_fmadd_ps(p, u2, _mm512_set1_ps(ERF_P3));
    p = _mm512_fmadd_ps(p, u2, _mm512_set1_ps(ERF_P4));
    p = _mm512_fmadd_ps(p, u2, _mm512_set1_ps(ERF_P5));
    p = _mm512_fmadd_ps(p, u2, _mm512_set1_ps(ERF_P6));
    __m512 q = _mm512_fmadd_ps(_mm512_set1_ps(ERF_Q0), u2, _mm512_set1_ps(ERF_Q1));
    q = _mm512_fmadd_ps(q, u2, _mm512_set1_ps(ERF_Q2));
    q = _mm512_fmadd_ps(q, u2, _mm512_set1_ps(ERF_Q3));
    q = _mm512_fmadd_ps(q, u2, _mm512_set1_ps(ERF_Q4));
    __m512 erf = _mm512_div_ps(_mm512_mul_ps(u, p), q);
    __m512 half = _mm512_mul_ps(v, _mm512_set1_ps(0.5f));
    return _mm512_fmadd_ps(half, erf, half);
}

/// e^x for x <= 0 (softmax's shifted scores): x = n ln 2 + r with |r| <= ln 2 / 2, e^r by its Taylor polynomial of
/// degree 7 (truncation error below 6e-9 relative), times 2^n by `vscalefps` (0 below about -104).
static inline CONVERGE_OPS_TARGET __m512 exp16(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);   // ln 2, high part (exact products)
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);       // ln 2, low part
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

static CONVERGE_OPS_TARGET void gelu_avx512(float *x, size_t count) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16) _mm512_storeu_ps(x + i, gelu16(_mm512_loadu_ps(x + i)));
    if (i < count) {
        __mmask16 m = lanes(count - i);
        _mm512_mask_storeu_ps(x + i, m, gelu16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

void converge_gelu(float *x, size_t count) {
    if (converge_ops_avx512()) gelu_avx512(x, count); else converge_gelu_scalar(x, count);
}

static inline CONVERGE_OPS_TARGET float sum16(__m512 v) { return _mm512_reduce_add_ps(v); }

static CONVERGE_OPS_TARGET void layer_norm_avx512(float *x, const float *residual, size_t rows, size_t width,
                                                  const float *weight, const float *bias, float eps) {
    size_t full = width / 16 * 16;
    __mmask16 tail = lanes(width - full);
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * width;
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
        size_t k = 0;
        if (residual) {
            const float *add = residual + r * width;
            for (; k < full; k += 16) {
                __m512 v = _mm512_add_ps(_mm512_loadu_ps(row + k), _mm512_loadu_ps(add + k));
                _mm512_storeu_ps(row + k, v);
                if ((k / 16) & 1) s1 = _mm512_add_ps(s1, v); else s0 = _mm512_add_ps(s0, v);
            }
            if (tail) {
                __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(tail, row + k), _mm512_maskz_loadu_ps(tail, add + k));
                _mm512_mask_storeu_ps(row + k, tail, v);
                s0 = _mm512_add_ps(s0, v);
            }
        } else {
            for (; k < full; k += 16) {
                __m512 v = _mm512_loadu_ps(row + k);
                if ((k / 16) & 1) s1 = _mm512_add_ps(s1, v); else s0 = _mm512_add_ps(s0, v);
            }
            if (tail) s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(tail, row + k));
        }
        float mean = sum16(_mm512_add_ps(s0, s1)) / (float)width;
        __m512 vm = _mm512_set1_ps(mean);
        __m512 q0 = _mm512_setzero_ps(), q1 = _mm512_setzero_ps();
        for (k = 0; k < full; k += 16) {
            __m512 d = _mm512_sub_ps(_mm512_loadu_ps(row + k), vm);
            if ((k / 16) & 1) q1 = _mm512_fmadd_ps(d, d, q1); else q0 = _mm512_fmadd_ps(d, d, q0);
        }
        if (tail) {
            __m512 d = _mm512_maskz_sub_ps(tail, _mm512_maskz_loadu_ps(tail, row + k), vm);
            q0 = _mm512_fmadd_ps(d, d, q0);
        }
        float variance = sum16(_mm512_add_ps(q0, q1)) / (float)width;
        __m512 inv = _mm512_set1_ps(1.0f / sqrtf(variance + eps));
        for (k = 0; k < full; k += 16) {
            __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(row + k), vm), inv);
            _mm512_storeu_ps(row + k, _mm512_fmadd_ps(d, _mm512_loadu_ps(weight + k), _mm512_loadu_ps(bias + k)));
        }
        if (tail) {
            __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, row + k), vm), inv);
            _mm512_mask_storeu_ps(row + k, tail, _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(tail, weight + k),
                                                                 _mm512_maskz_loadu_ps(tail, bias + k)));
        }
    }
}

void converge_layer_norm(float *x, const float *residual, size_t rows, size_t width, const float *weight,
                         const float *bias, float eps) {
    if (converge_ops_avx512()) {
        layer_norm_avx512(x, residual, rows, width, weight, bias, eps);
    } else {
        converge_layer_norm_scalar(x, residual, rows, width, weight, bias, eps);
    }
}

/// One head of one sequence. `kt` (scratch) gets the head's keys transposed (`head_size` rows of `padded` floats,
/// zero past `tokens`); then per query row: its scores against every key 16 at a time (one broadcast of a query
/// element per key block and dimension, four partial sums over the dimensions), softmax (max, exp16, sum), and
/// the weighted sum of the value rows, 16 dimensions at a time with two partial sums over the keys.
static CONVERGE_OPS_TARGET void attention_head_avx512(const float *q, const float *k, const float *v, size_t ld,
                                                      size_t tokens, size_t head_size, float scale, float *out,
                                                      size_t ldc, float *scratch) {
    size_t padded = (tokens + 15) / 16 * 16, blocks = padded / 16;
    float *kt = scratch, *scores = scratch + padded * head_size;
    for (size_t d = 0; d < head_size; d++) {
        float *dst = kt + d * padded;
        for (size_t j = 0; j < tokens; j++) dst[j] = k[j * ld + d];
        for (size_t j = tokens; j < padded; j++) dst[j] = 0;
    }
    __m512 vscale = _mm512_set1_ps(scale);
    __mmask16 last = lanes(tokens - (blocks - 1) * 16);
    for (size_t i = 0; i < tokens; i++) {
        const float *qi = q + i * ld;
        __m512 vmax = _mm512_set1_ps(-INFINITY);
        for (size_t b = 0; b < blocks; b++) {
            const float *col = kt + b * 16;
            __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
            size_t d = 0;
            for (; d + 4 <= head_size; d += 4) {
                a0 = _mm512_fmadd_ps(_mm512_set1_ps(qi[d]), _mm512_load_ps(col + d * padded), a0);
                a1 = _mm512_fmadd_ps(_mm512_set1_ps(qi[d + 1]), _mm512_load_ps(col + (d + 1) * padded), a1);
                a2 = _mm512_fmadd_ps(_mm512_set1_ps(qi[d + 2]), _mm512_load_ps(col + (d + 2) * padded), a2);
                a3 = _mm512_fmadd_ps(_mm512_set1_ps(qi[d + 3]), _mm512_load_ps(col + (d + 3) * padded), a3);
            }
            for (; d < head_size; d++) a0 = _mm512_fmadd_ps(_mm512_set1_ps(qi[d]), _mm512_load_ps(col + d * padded), a0);
            __m512 s = _mm512_mul_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)), vscale);
            _mm512_store_ps(scores + b * 16, s);
            vmax = _mm512_mask_max_ps(vmax, b + 1 == blocks ? last : 0xFFFF, vmax, s);
        }
        __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
        __m512 vsum = _mm512_setzero_ps();
        for (size_t b = 0; b < blocks; b++) {
            __m512 e = _mm512_maskz_mov_ps(b + 1 == blocks ? last : 0xFFFF,
                                           exp16(_mm512_sub_ps(_mm512_load_ps(scores + b * 16), m)));
            _mm512_store_ps(scores + b * 16, e);
            vsum = _mm512_add_ps(vsum, e);
        }
        __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vsum));
        float *oi = out + i * ldc;
        for (size_t d0 = 0; d0 < head_size; d0 += 16) {
            __mmask16 dm = lanes(head_size - d0);
            __m512 c0 = _mm512_setzero_ps(), c1 = _mm512_setzero_ps();
            size_t j = 0;
            for (; j + 2 <= tokens; j += 2) {
                c0 = _mm512_fmadd_ps(_mm512_set1_ps(scores[j]), _mm512_maskz_loadu_ps(dm, v + j * ld + d0), c0);
                c1 = _mm512_fmadd_ps(_mm512_set1_ps(scores[j + 1]), _mm512_maskz_loadu_ps(dm, v + (j + 1) * ld + d0), c1);
            }
            if (j < tokens) c0 = _mm512_fmadd_ps(_mm512_set1_ps(scores[j]), _mm512_maskz_loadu_ps(dm, v + j * ld + d0), c0);
            _mm512_mask_storeu_ps(oi + d0, dm, _mm512_mul_ps(_mm512_add_ps(c0, c1), inv));
        }
    }
}

void converge_attention(const float *qkv, size_t ld, size_t tokens, size_t heads, size_t head_size, float scale,
                        float *context, size_t ldc, float *scratch) {
    if (tokens == 0) return;
    if (!converge_ops_avx512()) {
        converge_attention_scalar(qkv, ld, tokens, heads, head_size, scale, context, ldc, scratch);
        return;
    }
    size_t hidden = heads * head_size;
    // 64-byte aligned scratch for the aligned loads (the caller's holds 16 floats more than the layout needs).
    float *aligned = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    for (size_t head = 0; head < heads; head++) {
        const float *q = qkv + head * head_size;
        attention_head_avx512(q, q + hidden, q + 2 * hidden, ld, tokens, head_size, scale, context + head * head_size,
                              ldc, aligned);
    }
}

static CONVERGE_OPS_BF16_TARGET void gelu_pack_avx512(const float *a, size_t lda, size_t m, size_t k, uint32_t *workspace) {
    size_t kp = (k + 1) / 2, padded = (m + CONVERGE_BF16_MR - 1) / CONVERGE_BF16_MR * CONVERGE_BF16_MR;
    for (size_t i = 0; i < m; i++) {
        const float *src = a + i * lda;
        uint32_t *dst = workspace + i * kp;
        size_t q = 0;
        for (; q + 32 <= k; q += 32) {
            __m512bh packed = _mm512_cvtne2ps_pbh(gelu16(_mm512_loadu_ps(src + q + 16)), gelu16(_mm512_loadu_ps(src + q)));
            _mm512_storeu_si512((void *)(dst + q / 2), (__m512i)packed);
        }
        if (q < k) {
            size_t left = k - q;
            __mmask16 mlo = lanes(left), mhi = left > 16 ? lanes(left - 16) : 0;
            // Masked-off lanes load 0 and gelu(0) = 0: the odd depth's last high half stays zero.
            __m512bh packed = _mm512_cvtne2ps_pbh(gelu16(_mm512_maskz_loadu_ps(mhi, src + q + 16)),
                                                  gelu16(_mm512_maskz_loadu_ps(mlo, src + q)));
            _mm512_mask_storeu_epi32((void *)(dst + q / 2), lanes((left + 1) / 2), (__m512i)packed);
        }
    }
    for (size_t i = m; i < padded; i++) {
        for (size_t p = 0; p < kp; p++) workspace[i * kp + p] = 0;
    }
}

void converge_gelu_pack_activations(const float *a, size_t lda, size_t m, size_t k, uint32_t *workspace) {
    if (converge_ops_avx512() && converge_bf16_supported()) {
        gelu_pack_avx512(a, lda, m, k, workspace);
    } else {
        converge_gelu_pack_activations_scalar(a, lda, m, k, workspace);
    }
}

#else

int converge_ops_avx512(void) { return 0; }

void converge_gelu(float *x, size_t count) { converge_gelu_scalar(x, count); }

void converge_layer_norm(float *x, const float *residual, size_t rows, size_t width, const float *weight,
                         const float *bias, float eps) {
    converge_layer_norm_scalar(x, residual, rows, width, weight, bias, eps);
}

void converge_attention(const float *qkv, size_t ld, size_t tokens, size_t heads, size_t head_size, float scale,
                        float *context, size_t ldc, float *scratch) {
    converge_attention_scalar(qkv, ld, tokens, heads, head_size, scale, context, ldc, scratch);
}

void converge_gelu_pack_activations(const float *a, size_t lda, size_t m, size_t k, uint32_t *workspace) {
    converge_gelu_pack_activations_scalar(a, lda, m, k, workspace);
}

#endif
