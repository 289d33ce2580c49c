/* Single-precision GEMM, BLIS style: C = op(A) @ op(B), C row-major and overwritten.
 *
 * Included by linalg.pyx, which is compiled once per x86-64 level (setup.py ISA_VARIANTS);
 * the compiler's ISA macros pick the micro-kernel:
 *   AVX-512F/BW/DQ/VL + FMA : 14 x 32 (28 zmm accumulators)
 *   AVX2 + FMA              :  6 x 16 (12 ymm accumulators)
 *   anything else           :  4 x 8 (8 x 8 on aarch64), GCC/Clang vector extensions lowered
 *                              to SSE2 / NEON (plain C loops for other compilers)
 *
 * Operands are described by strides, so transposes are never materialised:
 *   A(i, k) = A[i * ars + k * acs]     (ars, acs) = (K, 1), or (1, M) when A is stored transposed
 *   B(k, j) = B[k * brs + j * bcs]     (brs, bcs) = (N, 1), or (1, K) when B is stored transposed
 *
 * Drivers (all serial; linalg.pyx runs independent tasks of one call on OpenMP threads):
 *   rt_gemm_packed  BLIS loop order: NC / KC / MC cache blocks; the KC x NC block of B is
 *                   packed into NR-wide panels (L2/L3), each MC x KC block of A into MR-high
 *                   panels (L2), and the micro-kernel sweeps the MR x NR tiles.
 *   rt_gemm_direct  small or narrow products: no K blocking, A read in place through its
 *                   strides, B read in place when its rows are contiguous (packed once
 *                   otherwise). Packing would cost more than it saves here.
 *   rt_gemv_*       one row or one column of output: memory-bound streaming loops.
 * Edge tiles use the same micro-kernel specialised for fewer rows (mr < MR) and masked columns
 * (nr < NR), so odd sizes never fall into a scalar path and nothing is read or written outside
 * the operands.
 */
#ifndef RT_GEMM_KERNEL_H
#define RT_GEMM_KERNEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef _MSC_VER
#include <malloc.h>
#endif

#if defined(__GNUC__) || defined(__clang__)
#define RT_AI static inline __attribute__((always_inline))
#define RT_NOINLINE static __attribute__((noinline))
#define RT_RESTRICT __restrict__
#define RT_PREFETCH(p) __builtin_prefetch((const void*)(p), 0, 3)
#define RT_PREFETCHW(p) __builtin_prefetch((const void*)(p), 1, 3)
#elif defined(_MSC_VER)
#define RT_AI static __forceinline
#define RT_NOINLINE static __declspec(noinline)
#define RT_RESTRICT __restrict
#define RT_PREFETCH(p) ((void)0)
#define RT_PREFETCHW(p) ((void)0)
#else
#define RT_AI static inline
#define RT_NOINLINE static
#define RT_RESTRICT
#define RT_PREFETCH(p) ((void)0)
#define RT_PREFETCHW(p) ((void)0)
#endif

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX512VL__) && (defined(__FMA__) || defined(_MSC_VER))
#define RT_GEMM_AVX512 1
#include <immintrin.h>
#define RT_GEMM_ISA "avx512"
#define RT_MR 14
#define RT_NR 32
#ifndef RT_KC
#define RT_KC 512
#endif
#ifndef RT_MC
#define RT_MC 168
#endif
#ifndef RT_NC
#define RT_NC 3072
#endif
#elif defined(__AVX2__) && (defined(__FMA__) || defined(_MSC_VER))
#define RT_GEMM_AVX2 1
#include <immintrin.h>
#define RT_GEMM_ISA "avx2"
#define RT_MR 6
#define RT_NR 16
#define RT_KC 256
#define RT_MC 144
#define RT_NC 3072
#else
#define RT_GEMM_GENERIC 1
#define RT_GEMM_ISA "baseline"
#if defined(__aarch64__) || defined(_M_ARM64)
#define RT_MR 8 /* 32 NEON registers: 8 x 8 = 16 accumulators */
#define RT_NR 8
#else
#ifndef RT_MR
#define RT_MR 4 /* 16 SSE2 registers: 4 x 8 = 8 accumulators */
#endif
#define RT_NR 8
#endif
#define RT_KC 256
#define RT_MC 128
#define RT_NC 2048
#endif

typedef ptrdiff_t rt_idx;

static const char RT_GEMM_ISA_NAME[] = RT_GEMM_ISA;
static const int RT_GEMM_MR = RT_MR;
static const int RT_GEMM_NR = RT_NR;

/* ---------------------------------------------------------------- aligned scratch buffers */

#define RT_ALIGN 64
#define RT_SLACK 64 /* floats of slack after every buffer: vector packing may overshoot */

static float* rt_gemm_alloc(size_t nfloats) {
    size_t bytes = (nfloats + RT_SLACK) * sizeof(float);
#if defined(_MSC_VER)
    return (float*)_aligned_malloc(bytes, RT_ALIGN);
#else
    void* p = NULL;
    if (posix_memalign(&p, RT_ALIGN, bytes) != 0) return NULL;
    return (float*)p;
#endif
}

static void rt_gemm_free(float* p) {
#if defined(_MSC_VER)
    _aligned_free(p);
#else
    free(p);
#endif
}

static inline rt_idx rt_min(rt_idx a, rt_idx b) { return a < b ? a : b; }
static inline rt_idx rt_round_up(rt_idx a, rt_idx m) { return (a + m - 1) / m * m; }

/* ================================================================= micro-kernels
 * rt_ukr_body(R, k, a, rsa, csa, b, ldb, ..., c, ldc, acc, nr):
 *   C[0:R, 0:nr] (=|+=) sum_p a(i, p) * b(p, j)   with a(i, p) = a[i*rsa + p*csa],
 *   b(p, j) = b[p*ldb + j] (contiguous in j). R is a compile-time constant after inlining.
 * bmask: whether columns >= nr of b must not be read (b read in place at the right edge).
 */

#if RT_GEMM_AVX512

static inline __mmask16 rt_mask16(int n) {
    return n >= 16 ? (__mmask16)0xFFFF : (n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u));
}

RT_AI void rt_ukr_body(const int R, rt_idx k, const float* RT_RESTRICT a, rt_idx rsa, rt_idx csa,
                       const float* RT_RESTRICT b, rt_idx ldb, int bmask,
                       float* RT_RESTRICT c, rt_idx ldc, int acc, int nr) {
    __m512 x0[RT_MR], x1[RT_MR];
    const __mmask16 m0 = rt_mask16(nr), m1 = rt_mask16(nr - 16);
    const __mmask16 bm0 = bmask ? m0 : (__mmask16)0xFFFF, bm1 = bmask ? m1 : (__mmask16)0xFFFF;
#pragma GCC unroll 16
    for (int i = 0; i < R; i++) {
        x0[i] = _mm512_setzero_ps();
        x1[i] = _mm512_setzero_ps();
    }
#pragma GCC unroll 16
    for (int i = 0; i < R; i++) RT_PREFETCHW(c + i * ldc);
    rt_idx p = 0;
    for (; p < k; p++) {
        __m512 b0, b1;
        if (bmask) {
            b0 = _mm512_maskz_loadu_ps(bm0, b);
            b1 = _mm512_maskz_loadu_ps(bm1, b + 16);
        } else {
            b0 = _mm512_loadu_ps(b);
            b1 = _mm512_loadu_ps(b + 16);
        }
#pragma GCC unroll 16
        for (int i = 0; i < R; i++) {
            __m512 ai = _mm512_set1_ps(a[i * rsa]);
            x0[i] = _mm512_fmadd_ps(ai, b0, x0[i]);
            x1[i] = _mm512_fmadd_ps(ai, b1, x1[i]);
        }
        a += csa;
        b += ldb;
    }
    if (nr >= RT_NR) {
#pragma GCC unroll 16
        for (int i = 0; i < R; i++) {
            float* ci = c + i * ldc;
            if (acc) {
                x0[i] = _mm512_add_ps(x0[i], _mm512_loadu_ps(ci));
                x1[i] = _mm512_add_ps(x1[i], _mm512_loadu_ps(ci + 16));
            }
            _mm512_storeu_ps(ci, x0[i]);
            _mm512_storeu_ps(ci + 16, x1[i]);
        }
    } else {
#pragma GCC unroll 16
        for (int i = 0; i < R; i++) {
            float* ci = c + i * ldc;
            if (acc) {
                x0[i] = _mm512_add_ps(x0[i], _mm512_maskz_loadu_ps(m0, ci));
                x1[i] = _mm512_add_ps(x1[i], _mm512_maskz_loadu_ps(m1, ci + 16));
            }
            _mm512_mask_storeu_ps(ci, m0, x0[i]);
            _mm512_mask_storeu_ps(ci + 16, m1, x1[i]);
        }
    }
}

#elif RT_GEMM_AVX2

static inline __m256i rt_mask8(int n) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
}

RT_AI void rt_ukr_body(const int R, rt_idx k, const float* RT_RESTRICT a, rt_idx rsa, rt_idx csa,
                       const float* RT_RESTRICT b, rt_idx ldb, int bmask,
                       float* RT_RESTRICT c, rt_idx ldc, int acc, int nr) {
    __m256 x0[RT_MR], x1[RT_MR];
#pragma GCC unroll 8
    for (int i = 0; i < R; i++) {
        x0[i] = _mm256_setzero_ps();
        x1[i] = _mm256_setzero_ps();
    }
#pragma GCC unroll 8
    for (int i = 0; i < R; i++) RT_PREFETCHW(c + i * ldc);
    if (bmask) {
        const __m256i m0 = rt_mask8(nr), m1 = rt_mask8(nr - 8);
        for (rt_idx p = 0; p < k; p++) {
            __m256 b0 = _mm256_maskload_ps(b, m0), b1 = _mm256_maskload_ps(b + 8, m1);
#pragma GCC unroll 8
            for (int i = 0; i < R; i++) {
                __m256 ai = _mm256_broadcast_ss(a + i * rsa);
                x0[i] = _mm256_fmadd_ps(ai, b0, x0[i]);
                x1[i] = _mm256_fmadd_ps(ai, b1, x1[i]);
            }
            a += csa;
            b += ldb;
        }
    } else {
        for (rt_idx p = 0; p < k; p++) {
            __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 8
            for (int i = 0; i < R; i++) {
                __m256 ai = _mm256_broadcast_ss(a + i * rsa);
                x0[i] = _mm256_fmadd_ps(ai, b0, x0[i]);
                x1[i] = _mm256_fmadd_ps(ai, b1, x1[i]);
            }
            a += csa;
            b += ldb;
        }
    }
    if (nr >= RT_NR) {
#pragma GCC unroll 8
        for (int i = 0; i < R; i++) {
            float* ci = c + i * ldc;
            if (acc) {
                x0[i] = _mm256_add_ps(x0[i], _mm256_loadu_ps(ci));
                x1[i] = _mm256_add_ps(x1[i], _mm256_loadu_ps(ci + 8));
            }
            _mm256_storeu_ps(ci, x0[i]);
            _mm256_storeu_ps(ci + 8, x1[i]);
        }
    } else {
        const __m256i m0 = rt_mask8(nr), m1 = rt_mask8(nr - 8);
#pragma GCC unroll 8
        for (int i = 0; i < R; i++) {
            float* ci = c + i * ldc;
            if (acc) {
                x0[i] = _mm256_add_ps(x0[i], _mm256_maskload_ps(ci, m0));
                x1[i] = _mm256_add_ps(x1[i], _mm256_maskload_ps(ci + 8, m1));
            }
            _mm256_maskstore_ps(ci, m0, x0[i]);
            _mm256_maskstore_ps(ci + 8, m1, x1[i]);
        }
    }
}

#elif (defined(__GNUC__) || defined(__clang__)) && !defined(RT_GEMM_PLAIN_C)
/* generic: GCC/Clang vector extensions, lowered to SSE2 on x86-64 and NEON on aarch64 */

typedef float rt_vf __attribute__((vector_size(16)));

static inline rt_vf rt_vload(const float* p) {
    rt_vf v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void rt_vstore(float* p, rt_vf v) { memcpy(p, &v, sizeof v); }

RT_AI void rt_ukr_body(const int R, rt_idx k, const float* RT_RESTRICT a, rt_idx rsa, rt_idx csa,
                       const float* RT_RESTRICT b, rt_idx ldb, int bmask,
                       float* RT_RESTRICT c, rt_idx ldc, int acc, int nr) {
    rt_vf x0[RT_MR], x1[RT_MR];
    const rt_vf zero = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma GCC unroll 8
    for (int i = 0; i < R; i++) x0[i] = x1[i] = zero;
    if (bmask && nr < RT_NR) { /* right edge read in place: never touch columns >= nr */
        for (rt_idx p = 0; p < k; p++) {
            float bt[RT_NR] = {0};
            for (int j = 0; j < nr; j++) bt[j] = b[j];
            const rt_vf b0 = rt_vload(bt), b1 = rt_vload(bt + 4);
#pragma GCC unroll 8
            for (int i = 0; i < R; i++) {
                const rt_vf ai = zero + a[i * rsa];
                x0[i] += ai * b0;
                x1[i] += ai * b1;
            }
            a += csa;
            b += ldb;
        }
    } else {
        for (rt_idx p = 0; p < k; p++) {
            const rt_vf b0 = rt_vload(b), b1 = rt_vload(b + 4);
#pragma GCC unroll 8
            for (int i = 0; i < R; i++) {
                const rt_vf ai = zero + a[i * rsa];
                x0[i] += ai * b0;
                x1[i] += ai * b1;
            }
            a += csa;
            b += ldb;
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < R; i++) {
        float* ci = c + i * ldc;
        if (nr >= RT_NR) {
            if (acc) {
                x0[i] += rt_vload(ci);
                x1[i] += rt_vload(ci + 4);
            }
            rt_vstore(ci, x0[i]);
            rt_vstore(ci + 4, x1[i]);
        } else {
            float t[RT_NR];
            rt_vstore(t, x0[i]);
            rt_vstore(t + 4, x1[i]);
            for (int j = 0; j < nr; j++) ci[j] = acc ? ci[j] + t[j] : t[j];
        }
    }
}

#else /* any other compiler: plain C loops */

RT_AI void rt_ukr_body(const int R, rt_idx k, const float* RT_RESTRICT a, rt_idx rsa, rt_idx csa,
                       const float* RT_RESTRICT b, rt_idx ldb, int bmask,
                       float* RT_RESTRICT c, rt_idx ldc, int acc, int nr) {
    float x[RT_MR][RT_NR];
    const int nb = (bmask && nr < RT_NR) ? nr : RT_NR;
    for (int i = 0; i < R; i++)
        for (int j = 0; j < RT_NR; j++) x[i][j] = 0.0f;
    for (rt_idx p = 0; p < k; p++) {
        for (int i = 0; i < R; i++) {
            const float ai = a[i * rsa];
            for (int j = 0; j < nb; j++) x[i][j] += ai * b[j];
        }
        a += csa;
        b += ldb;
    }
    const int nw = nr < RT_NR ? nr : RT_NR;
    for (int i = 0; i < R; i++) {
        float* ci = c + i * ldc;
        for (int j = 0; j < nw; j++) ci[j] = acc ? ci[j] + x[i][j] : x[i][j];
    }
}

#endif

/* Packed operands: a panel is MR rows interleaved per k (a[p*MR + i]), b is NR columns per k
 * (b[p*NR + j]), both zero padded. */
RT_AI void rt_ukr_packed_body(const int R, rt_idx k, const float* a, const float* b, float* c,
                              rt_idx ldc, int acc, int nr) {
    rt_ukr_body(R, k, a, 1, RT_MR, b, RT_NR, 0, c, ldc, acc, nr);
}

/* One specialised function per row count, for the full tile and the bottom edge. */
typedef void (*rt_ukr_packed_fn)(rt_idx, const float*, const float*, float*, rt_idx, int, int);
typedef void (*rt_ukr_strided_fn)(rt_idx, const float*, rt_idx, rt_idx, const float*, rt_idx,
                                  int, float*, rt_idx, int, int);

#define RT_DEF_UKR(R)                                                                          \
    RT_NOINLINE void rt_ukr_p##R(rt_idx k, const float* a, const float* b, float* c, rt_idx ldc, \
                                 int acc, int nr) {                                            \
        rt_ukr_packed_body(R, k, a, b, c, ldc, acc, nr);                                       \
    }                                                                                          \
    RT_NOINLINE void rt_ukr_s##R(rt_idx k, const float* a, rt_idx rsa, rt_idx csa,             \
                                 const float* b, rt_idx ldb, int bmask, float* c, rt_idx ldc,   \
                                 int acc, int nr) {                                            \
        rt_ukr_body(R, k, a, rsa, csa, b, ldb, bmask, c, ldc, acc, nr);                        \
    }

RT_DEF_UKR(1)
RT_DEF_UKR(2)
RT_DEF_UKR(3)
RT_DEF_UKR(4)
#if RT_MR > 4
RT_DEF_UKR(5)
RT_DEF_UKR(6)
#endif
#if RT_MR > 6
RT_DEF_UKR(7)
RT_DEF_UKR(8)
#endif
#if RT_MR > 8
RT_DEF_UKR(9)
RT_DEF_UKR(10)
RT_DEF_UKR(11)
RT_DEF_UKR(12)
RT_DEF_UKR(13)
RT_DEF_UKR(14)
#endif

static const rt_ukr_packed_fn rt_ukr_p[RT_MR + 1] = {
    0, rt_ukr_p1, rt_ukr_p2, rt_ukr_p3, rt_ukr_p4,
#if RT_MR > 4
    rt_ukr_p5, rt_ukr_p6,
#endif
#if RT_MR > 6
    rt_ukr_p7, rt_ukr_p8,
#endif
#if RT_MR > 8
    rt_ukr_p9, rt_ukr_p10, rt_ukr_p11, rt_ukr_p12, rt_ukr_p13, rt_ukr_p14,
#endif
};
static const rt_ukr_strided_fn rt_ukr_s[RT_MR + 1] = {
    0, rt_ukr_s1, rt_ukr_s2, rt_ukr_s3, rt_ukr_s4,
#if RT_MR > 4
    rt_ukr_s5, rt_ukr_s6,
#endif
#if RT_MR > 6
    rt_ukr_s7, rt_ukr_s8,
#endif
#if RT_MR > 8
    rt_ukr_s9, rt_ukr_s10, rt_ukr_s11, rt_ukr_s12, rt_ukr_s13, rt_ukr_s14,
#endif
};

/* ================================================================= packing
 * rt_pack_a: the mc x kc block of A at (i0, p0) into ceil(mc/MR) panels of MR x kc,
 *            dst[panel * MR*kc + p*MR + i], rows past mc zero.
 * rt_pack_b: the kc x nc block of B at (p0, j0) into ceil(nc/NR) panels of kc x NR,
 *            dst[panel * NR*kc + p*NR + j], columns past nc zero.
 */

/* ================================================================= scratch buffers
 * Packing buffers live in per-thread storage that only grows: OpenMP keeps its threads, so
 * repeated products reuse warm, already-faulted pages instead of allocating per call. */

#if defined(_MSC_VER)
#define RT_TLS __declspec(thread)
#else
#define RT_TLS __thread
#endif

static RT_TLS float* rt_tls_buf[2];
static RT_TLS size_t rt_tls_cap[2];

/* Buffer `slot` (0: A blocks, 1: B blocks) of at least nfloats floats for this thread. */
static float* rt_scratch(int slot, size_t nfloats) {
    if (rt_tls_cap[slot] < nfloats) {
        if (rt_tls_buf[slot]) rt_gemm_free(rt_tls_buf[slot]);
        rt_tls_cap[slot] = 0;
        rt_tls_buf[slot] = rt_gemm_alloc(nfloats);
        if (!rt_tls_buf[slot]) return NULL;
        rt_tls_cap[slot] = nfloats;
    }
    return rt_tls_buf[slot];
}

/* ================================================================= packing
 * One panel of width W (MR for A, NR for B): src(r, p) = src[r * rs + p * ps] for the panel's
 * n <= W rows r (i of A, or j of B) and kc steps p, written as dst[p * W + r], zero padded.
 * rt_pack_a: the mc x kc block of A into ceil(mc / MR) panels (panel q at dst + q*MR*kc).
 * rt_pack_b: the kc x nc block of B into ceil(nc / NR) panels (panel q at dst + q*NR*kc).
 */
#if RT_GEMM_AVX512
/* Transpose a block of up to 16 source rows x 16 k-steps: for c < ncol,
 * dst[c * W + r] = src[r * rs + c] for r < 16 (rows >= n read as zero), stored under smask.
 * 64 in-register shuffles per 256 floats instead of 256 scalar moves. */
RT_AI void rt_tr16(const float* RT_RESTRICT src, rt_idx rs, int n, __mmask16 kmask, int ncol,
                   float* RT_RESTRICT dst, rt_idx W, __mmask16 smask) {
    __m512 r[16], t[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++)
        r[i] = i < n ? _mm512_maskz_loadu_ps(kmask, src + i * rs) : _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    /* r[4q + s], 128-bit lane L: rows 4q..4q+3 of column 4L + s */
#pragma GCC unroll 4
    for (int i = 0; i < 16; i += 4) {
        __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]);
        __m512d c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
#pragma GCC unroll 4
    for (int s = 0; s < 4; s++) {
        __m512 x0 = _mm512_shuffle_f32x4(r[s], r[4 + s], 0x44);
        __m512 x1 = _mm512_shuffle_f32x4(r[s], r[4 + s], 0xEE);
        __m512 y0 = _mm512_shuffle_f32x4(r[8 + s], r[12 + s], 0x44);
        __m512 y1 = _mm512_shuffle_f32x4(r[8 + s], r[12 + s], 0xEE);
        t[s] = _mm512_shuffle_f32x4(x0, y0, 0x88);      /* column s      */
        t[4 + s] = _mm512_shuffle_f32x4(x0, y0, 0xDD);  /* column 4 + s  */
        t[8 + s] = _mm512_shuffle_f32x4(x1, y1, 0x88);  /* column 8 + s  */
        t[12 + s] = _mm512_shuffle_f32x4(x1, y1, 0xDD); /* column 12 + s */
    }
    if (ncol == 16) {
#pragma GCC unroll 16
        for (int c = 0; c < 16; c++) _mm512_mask_storeu_ps(dst + c * W, smask, t[c]);
    } else {
        for (int c = 0; c < ncol; c++) _mm512_mask_storeu_ps(dst + c * W, smask, t[c]);
    }
}
#endif

#if RT_GEMM_AVX2
/* Transpose up to 8 source rows x 8 k-steps: for c < ncol, dst[c * W + r] = src[r * rs + c]
 * (rows >= n read as zero). Each column is stored as 8 floats; with W < 8 the extra floats
 * land on the next column, written right after (the panel is filled in increasing k), and
 * `last` makes the final column's store exact so nothing spills past the panel. */
RT_AI void rt_tr8(const float* RT_RESTRICT src, rt_idx rs, int n, __m256i kmask, int ncol,
                  float* RT_RESTRICT dst, rt_idx W, __m256i smask, int last) {
    __m256 r[8], t[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++)
        r[i] = i < n ? _mm256_maskload_ps(src + i * rs, kmask) : _mm256_setzero_ps();
#pragma GCC unroll 4
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
#pragma GCC unroll 2
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        t[c] = _mm256_permute2f128_ps(r[c], r[4 + c], 0x20);
        t[4 + c] = _mm256_permute2f128_ps(r[c], r[4 + c], 0x31);
    }
    if (W >= 8) {
        for (int c = 0; c < ncol; c++) _mm256_storeu_ps(dst + c * W, t[c]);
    } else {
        const int nfull = last ? ncol - 1 : ncol;
        for (int c = 0; c < nfull; c++) _mm256_storeu_ps(dst + c * W, t[c]);
        if (last) _mm256_maskstore_ps(dst + (ncol - 1) * W, smask, t[ncol - 1]);
    }
}
#endif

RT_AI void rt_pack_panel(const int W, const float* RT_RESTRICT src, rt_idx rs, rt_idx ps, int n,
                         rt_idx kc, float* RT_RESTRICT dst) {
    if (rs == 1) { /* contiguous along the panel: copy rows */
#if RT_GEMM_AVX512
        if (W == 14 || W == 32) {
            const __mmask16 l0 = rt_mask16(n), l1 = rt_mask16(n - 16);
            const __mmask16 s0 = rt_mask16(W), s1 = rt_mask16(W - 16);
            for (rt_idx p = 0; p < kc; p++) {
                const float* sp = src + p * ps;
                float* d = dst + p * W;
                _mm512_mask_storeu_ps(d, s0, _mm512_maskz_loadu_ps(l0, sp));
                if (W > 16) _mm512_mask_storeu_ps(d + 16, s1, _mm512_maskz_loadu_ps(l1, sp + 16));
            }
            return;
        }
#endif
        if (n == W) {
            for (rt_idx p = 0; p < kc; p++) {
                const float* sp = src + p * ps;
                float* d = dst + p * W;
                for (int r = 0; r < W; r++) d[r] = sp[r];
            }
        } else {
            for (rt_idx p = 0; p < kc; p++) {
                const float* sp = src + p * ps;
                float* d = dst + p * W;
                int r = 0;
                for (; r < n; r++) d[r] = sp[r];
                for (; r < W; r++) d[r] = 0.0f;
            }
        }
        return;
    }
#if RT_GEMM_AVX512
    if (ps == 1 && (W == 14 || W == 32)) { /* contiguous along k: 16 x 16 block transposes */
        for (rt_idx p = 0; p < kc; p += 16) {
            const int ncol = (int)rt_min(16, kc - p);
            const __mmask16 km = rt_mask16(ncol);
            for (int h = 0; h < W; h += 16)
                rt_tr16(src + h * rs + p, rs, n - h, km, ncol, dst + p * W + h, W,
                        rt_mask16(W - h));
        }
        return;
    }
#endif
#if RT_GEMM_AVX2
    if (ps == 1 && (W == 6 || W == 16)) { /* contiguous along k: 8 x 8 block transposes */
        const __m256i sm = rt_mask8(W < 8 ? W : 8);
        for (rt_idx p = 0; p < kc; p += 8) {
            const int ncol = (int)rt_min(8, kc - p);
            const __m256i km = rt_mask8(ncol);
            for (int h = 0; h < W; h += 8)
                rt_tr8(src + h * rs + p, rs, n - h, km, ncol, dst + p * W + h, W, sm,
                       p + 8 >= kc);
        }
        return;
    }
#endif
    /* contiguous along k (or neither): transpose, reading each source row sequentially */
    for (int r = 0; r < n; r++) {
        const float* sp = src + r * rs;
        for (rt_idx p = 0; p < kc; p++) dst[p * W + r] = sp[p * ps];
    }
    for (int r = n; r < W; r++)
        for (rt_idx p = 0; p < kc; p++) dst[p * W + r] = 0.0f;
}

static void rt_pack_a(const float* A, rt_idx ars, rt_idx acs, rt_idx mc, rt_idx kc, float* dst) {
    for (rt_idx i = 0; i < mc; i += RT_MR) {
        int n = (int)rt_min(RT_MR, mc - i);
        rt_pack_panel(RT_MR, A + i * ars, ars, acs, n, kc, dst + i * kc);
    }
}

static void rt_pack_b_panel(const float* B, rt_idx brs, rt_idx bcs, rt_idx nc, rt_idx kc,
                            rt_idx j, float* dst) {
    int n = (int)rt_min(RT_NR, nc - j);
    rt_pack_panel(RT_NR, B + j * bcs, bcs, brs, n, kc, dst + j * kc);
}

/* ================================================================= drivers
 * All serial: linalg.pyx splits a call into independent tasks (batches, row / column blocks)
 * and runs them with prange, so threads share nothing and meet only at the end. */

/* C[0:mc, jr0:jr1] (=|+=) packed A block (mc x kc) @ packed B panels for columns [jr0, jr1). */
static void rt_macro(rt_idx mc, rt_idx jr0, rt_idx jr1, rt_idx kc, const float* Ap,
                     const float* Bp, float* C, rt_idx ldc, int acc) {
    for (rt_idx jr = jr0; jr < jr1; jr += RT_NR) {
        const int nr = (int)rt_min(RT_NR, jr1 - jr);
        const float* bp = Bp + jr * kc;
        rt_idx ir = 0;
        for (; ir + RT_MR <= mc; ir += RT_MR)
            rt_ukr_p[RT_MR](kc, Ap + ir * kc, bp, C + ir * ldc + jr, ldc, acc, nr);
        if (ir < mc)
            rt_ukr_p[mc - ir](kc, Ap + ir * kc, bp, C + ir * ldc + jr, ldc, acc, nr);
    }
}

/* Blocked, packed GEMM (BLIS loop order): for each NC column block and KC step, pack the
 * KC x NC block of B into NR-wide panels (kept in L2/L3), then for each MC row block pack
 * A into MR-high panels (kept in L2) and sweep the micro-kernel over the tiles.
 * Returns 0, or -1 when a packing buffer could not be allocated. */
static int rt_gemm_packed(const float* A, rt_idx ars, rt_idx acs, const float* B, rt_idx brs,
                          rt_idx bcs, float* C, rt_idx ldc, rt_idx M, rt_idx N, rt_idx K) {
    const rt_idx kc_max = rt_min(K, RT_KC);
    float* Bp = rt_scratch(1, (size_t)(kc_max * rt_min(rt_round_up(N, RT_NR), RT_NC)));
    float* Ap = rt_scratch(0, (size_t)(kc_max * rt_min(rt_round_up(M, RT_MR), RT_MC)));
    if (!Ap || !Bp) return -1;
    for (rt_idx jc = 0; jc < N; jc += RT_NC) {
        const rt_idx nc = rt_min(RT_NC, N - jc);
        for (rt_idx pc = 0; pc < K; pc += RT_KC) {
            const rt_idx kc = rt_min(RT_KC, K - pc);
            const float* Bs = B + pc * brs + jc * bcs;
            for (rt_idx j = 0; j < nc; j += RT_NR) rt_pack_b_panel(Bs, brs, bcs, nc, kc, j, Bp);
            for (rt_idx ic = 0; ic < M; ic += RT_MC) {
                const rt_idx mc = rt_min(RT_MC, M - ic);
                rt_pack_a(A + ic * ars + pc * acs, ars, acs, mc, kc, Ap);
                rt_macro(mc, 0, nc, kc, Ap, Bp, C + ic * ldc + jc, ldc, pc > 0);
            }
        }
    }
    return 0;
}

#ifndef RT_DIRECT_NARROW
#define RT_DIRECT_NARROW 4 /* B panels (of NR columns) that count as narrow */
#endif

/* Direct product: no K blocking and no packing of A (its rows or columns are read in place
 * through the strides), B read in place when its rows are contiguous (bcs == 1), else packed
 * once into panels. */
static int rt_gemm_direct(const float* A, rt_idx ars, rt_idx acs, const float* B, rt_idx brs,
                          rt_idx bcs, float* C, rt_idx ldc, rt_idx M, rt_idx N, rt_idx K) {
    const float* b = B;
    rt_idx ldb = brs, pstride = 1;
    int inplace = 1;
    if (bcs != 1) {
        float* w = rt_scratch(1, (size_t)(K * rt_round_up(N, RT_NR)));
        if (!w) return -1;
        for (rt_idx j = 0; j < N; j += RT_NR) rt_pack_b_panel(B, brs, bcs, N, K, j, w);
        b = w;
        ldb = RT_NR;
        pstride = K;
        inplace = 0;
    }
    if (N <= RT_DIRECT_NARROW * RT_NR) {
        /* narrow B stays in cache: stream A once, each MR-row panel across all of B */
        for (rt_idx ir = 0; ir < M; ir += RT_MR) {
            const int mr = (int)rt_min(RT_MR, M - ir);
            for (rt_idx jr = 0; jr < N; jr += RT_NR) {
                const int nr = (int)rt_min(RT_NR, N - jr);
                rt_ukr_s[mr](K, A + ir * ars, ars, acs, b + jr * pstride, ldb,
                             inplace && nr < RT_NR, C + ir * ldc + jr, ldc, 0, nr);
            }
        }
        return 0;
    }
    /* one B column panel (K x NR) stays in L1/L2 while every row panel of A passes it */
    for (rt_idx jr = 0; jr < N; jr += RT_NR) {
        const int nr = (int)rt_min(RT_NR, N - jr);
        const float* bj = b + jr * pstride;
        const int bm = inplace && nr < RT_NR;
        rt_idx ir = 0;
        for (; ir + RT_MR <= M; ir += RT_MR)
            rt_ukr_s[RT_MR](K, A + ir * ars, ars, acs, bj, ldb, bm, C + ir * ldc + jr, ldc, 0, nr);
        if (ir < M)
            rt_ukr_s[M - ir](K, A + ir * ars, ars, acs, bj, ldb, bm, C + ir * ldc + jr, ldc, 0, nr);
    }
    return 0;
}

/* ================================================================= matrix-vector products
 * One row (M == 1) or one column (N == 1) of output is a memory-bound matrix-vector product:
 * the micro-kernel would waste most of its tile, so two streaming kernels cover the cases.
 * Plain C with independent lanes (no reassociation needed), which every compiler vectorises.
 */
#define RT_LANES 16

/* out[r] = dot(X[r * rs : r * rs + len], v) for r < n: four rows share each load of v. */
static void rt_gemv_dot(const float* RT_RESTRICT X, rt_idx rs, rt_idx n, rt_idx len,
                        const float* RT_RESTRICT v, float* RT_RESTRICT out) {
    rt_idx r = 0;
    for (; r + 4 <= n; r += 4) {
        const float *x0 = X + r * rs, *x1 = x0 + rs, *x2 = x1 + rs, *x3 = x2 + rs;
        float s0[RT_LANES] = {0}, s1[RT_LANES] = {0}, s2[RT_LANES] = {0}, s3[RT_LANES] = {0};
        rt_idx k = 0;
        for (; k + RT_LANES <= len; k += RT_LANES)
            for (int l = 0; l < RT_LANES; l++) {
                const float vk = v[k + l];
                s0[l] += x0[k + l] * vk;
                s1[l] += x1[k + l] * vk;
                s2[l] += x2[k + l] * vk;
                s3[l] += x3[k + l] * vk;
            }
        float t0 = 0.0f, t1 = 0.0f, t2 = 0.0f, t3 = 0.0f;
        for (int l = 0; l < RT_LANES; l++) {
            t0 += s0[l];
            t1 += s1[l];
            t2 += s2[l];
            t3 += s3[l];
        }
        for (; k < len; k++) {
            t0 += x0[k] * v[k];
            t1 += x1[k] * v[k];
            t2 += x2[k] * v[k];
            t3 += x3[k] * v[k];
        }
        out[r] = t0;
        out[r + 1] = t1;
        out[r + 2] = t2;
        out[r + 3] = t3;
    }
    for (; r < n; r++) {
        const float* x = X + r * rs;
        float s[RT_LANES] = {0};
        rt_idx k = 0;
        for (; k + RT_LANES <= len; k += RT_LANES)
            for (int l = 0; l < RT_LANES; l++) s[l] += x[k + l] * v[k + l];
        float t = 0.0f;
        for (int l = 0; l < RT_LANES; l++) t += s[l];
        for (; k < len; k++) t += x[k] * v[k];
        out[r] = t;
    }
}

/* out[0:len] = sum_k v[k] * X[k * rs : k * rs + len] for k < nk, in column chunks that stay
 * in L1, four rows of X per pass over the chunk. */
static void rt_gemv_axpy(const float* RT_RESTRICT X, rt_idx rs, rt_idx nk, rt_idx len,
                         const float* RT_RESTRICT v, float* RT_RESTRICT out) {
    for (rt_idx j0 = 0; j0 < len; j0 += 2048) {
        const rt_idx n = rt_min(2048, len - j0);
        float* o = out + j0;
        memset(o, 0, (size_t)n * sizeof(float));
        rt_idx k = 0;
        for (; k + 4 <= nk; k += 4) {
            const float *x0 = X + k * rs + j0, *x1 = x0 + rs, *x2 = x1 + rs, *x3 = x2 + rs;
            const float v0 = v[k], v1 = v[k + 1], v2 = v[k + 2], v3 = v[k + 3];
            for (rt_idx j = 0; j < n; j++) o[j] += v0 * x0[j] + v1 * x1[j] + v2 * x2[j] + v3 * x3[j];
        }
        for (; k < nk; k++) {
            const float* x = X + k * rs + j0;
            const float vk = v[k];
            for (rt_idx j = 0; j < n; j++) o[j] += vk * x[j];
        }
    }
}

/* Direct path when K is small enough that a B column panel plus A's rows stay close in cache
 * and B's rows are not so far apart that the panel thrashes L1, or when B is narrow (measured
 * on Zen 4/5; the packed path wins for deep or wide products). */
static inline int rt_use_direct(rt_idx M, rt_idx N, rt_idx K, rt_idx acs, rt_idx bcs) {
    if (bcs != 1 && (double)K * (double)N > (double)(1 << 20)) return 0; /* B copy too big */
    if (M <= 2 * RT_MR) return N <= 2048;
    if (N <= RT_DIRECT_NARROW * RT_NR && acs == 1) return 1;
    return K <= 512 && N <= 1024;
}

/* C (M x N, row stride ldc) = op(A) @ op(B), serial; A(i, k) = A[i*ars + k*acs],
 * B(k, j) = B[k*brs + j*bcs]. Returns 0, or -1 when a packing buffer could not be allocated. */
static int rt_gemm(const float* A, rt_idx ars, rt_idx acs, const float* B, rt_idx brs,
                   rt_idx bcs, float* C, rt_idx ldc, rt_idx M, rt_idx N, rt_idx K) {
    if (M <= 0 || N <= 0) return 0;
    if (K <= 0) {
        for (rt_idx i = 0; i < M; i++) memset(C + i * ldc, 0, (size_t)N * sizeof(float));
        return 0;
    }
    if (N == 1 && ldc == 1 && brs == 1 && (acs == 1 || ars == 1)) {
        /* one column: rows of A dot b, or b combines A's rows */
        if (acs == 1)
            rt_gemv_dot(A, ars, M, K, B, C);
        else
            rt_gemv_axpy(A, acs, K, M, B, C);
        return 0;
    }
    if (M == 1 && acs == 1 && (bcs == 1 || brs == 1)) {
        /* one row: a combines B's rows, or B's columns dot a */
        if (bcs == 1)
            rt_gemv_axpy(B, brs, K, N, A, C);
        else
            rt_gemv_dot(B, bcs, N, K, A, C);
        return 0;
    }
    if (rt_use_direct(M, N, K, acs, bcs)) return rt_gemm_direct(A, ars, acs, B, brs, bcs, C, ldc, M, N, K);
    return rt_gemm_packed(A, ars, acs, B, brs, bcs, C, ldc, M, N, K);
}

#endif /* RT_GEMM_KERNEL_H */
