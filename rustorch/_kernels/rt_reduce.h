/* Reduction building blocks over an (outer, R, inner) view of a contiguous tensor. */
#ifndef RT_REDUCE_H
#define RT_REDUCE_H
#include <stddef.h>
#include <stdint.h>

#define RT_SUM_BLOCK 4096

/* Pairwise sum of blocks, each block summed in 64 independent lanes: error grows like log(n),
 * and 64 lanes give the vector unit 4 (AVX-512) to 16 (SSE2) independent add chains, enough to
 * hide the add latency. */
#define RT_LANES 64
static float rt_sum_contig(const float *x, ptrdiff_t n) {
    if (n <= RT_SUM_BLOCK) {
        float acc[RT_LANES] = {0};
        ptrdiff_t i = 0;
        for (; i + RT_LANES <= n; i += RT_LANES)
            for (int j = 0; j < RT_LANES; j++) acc[j] += x[i + j];
        float tail = 0.0f;
        for (; i < n; i++) tail += x[i];
        for (int w = RT_LANES / 2; w >= 1; w >>= 1)
            for (int j = 0; j < w; j++) acc[j] += acc[j + w];
        return acc[0] + tail;
    }
    ptrdiff_t blocks = (n + RT_SUM_BLOCK - 1) / RT_SUM_BLOCK;
    ptrdiff_t h = (blocks / 2) * RT_SUM_BLOCK;
    return rt_sum_contig(x, h) + rt_sum_contig(x + h, n - h);
}

/* numpy buffers are often only 16-byte aligned: sum a short head first so the blocks (and their
 * wide loads) start on a 64-byte boundary and never straddle cache lines. */
static float rt_sum_aligned(const float *x, ptrdiff_t n) {
    ptrdiff_t h = (ptrdiff_t)(((64 - ((uintptr_t)x & 63)) & 63) / sizeof(float));
    if (((uintptr_t)x & 3) || h >= n) return rt_sum_contig(x, n);
    float head = 0.0f;
    for (ptrdiff_t i = 0; i < h; i++) head += x[i];
    return rt_sum_contig(x + h, n - h) + head;
}

static float rt_sum_pairwise(const float *p, ptrdiff_t n) {
    if (n == 1) return p[0];
    if (n == 0) return 0.0f;
    ptrdiff_t h = n / 2;
    return rt_sum_pairwise(p, h) + rt_sum_pairwise(p + h, n - h);
}

/* out[i] = sum_r x[r * inner + i] for i < n (a column chunk); rows summed in blocks of 64 into a
 * temporary so the error grows like R/64 + 64 rather than R. */
static void rt_sum_cols(const float *x, ptrdiff_t R, ptrdiff_t inner, float *out, ptrdiff_t n) {
    float blk[1024];
    for (ptrdiff_t i = 0; i < n; i++) out[i] = 0.0f;
    for (ptrdiff_t r0 = 0; r0 < R; r0 += 64) {
        ptrdiff_t r1 = r0 + 64 < R ? r0 + 64 : R;
        for (ptrdiff_t i = 0; i < n; i++) blk[i] = 0.0f;
        for (ptrdiff_t r = r0; r < r1; r++) {
            const float *row = x + r * inner;
            for (ptrdiff_t i = 0; i < n; i++) blk[i] += row[i];
        }
        for (ptrdiff_t i = 0; i < n; i++) out[i] += blk[i];
    }
}

static int64_t rt_sum_i64(const int64_t *x, ptrdiff_t R, ptrdiff_t inner) {
    int64_t s = 0;
    for (ptrdiff_t r = 0; r < R; r++) s += x[r * inner];
    return s;
}

/* Max/min over R strided elements; NaN wins (first NaN's index), ties keep the first index. */
static void rt_argext_f32(const float *x, ptrdiff_t R, ptrdiff_t inner, int is_max, float *val,
                          int64_t *idx) {
    float best = x[0];
    int64_t bi = 0;
    if (best == best) {
        for (ptrdiff_t r = 1; r < R; r++) {
            float v = x[r * inner];
            if (v != v) { best = v; bi = r; break; }
            if (is_max ? v > best : v < best) { best = v; bi = r; }
        }
    }
    *val = best;
    *idx = bi;
}

static void rt_argext_i64(const int64_t *x, ptrdiff_t R, ptrdiff_t inner, int is_max, int64_t *val,
                          int64_t *idx) {
    int64_t best = x[0];
    int64_t bi = 0;
    for (ptrdiff_t r = 1; r < R; r++) {
        int64_t v = x[r * inner];
        if (is_max ? v > best : v < best) { best = v; bi = r; }
    }
    *val = best;
    *idx = bi;
}

/* Values only, vectorisable across a contiguous column chunk (amax/amin over an outer dim). */
static void rt_ext_cols_f32(const float *x, ptrdiff_t R, ptrdiff_t inner, int is_max, float *out,
                            ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) out[i] = x[i];
    for (ptrdiff_t r = 1; r < R; r++) {
        const float *row = x + r * inner;
        if (is_max) {
            for (ptrdiff_t i = 0; i < n; i++) {
                float a = out[i], v = row[i];
                out[i] = (v > a || v != v || a != a) ? ((a != a) ? a : v) : a;
            }
        } else {
            for (ptrdiff_t i = 0; i < n; i++) {
                float a = out[i], v = row[i];
                out[i] = (v < a || v != v || a != a) ? ((a != a) ? a : v) : a;
            }
        }
    }
}
#endif
