/* Layer normalisation over the rows of an (M, D) view: each row of D contiguous floats is
 * normalised by its own mean and biased variance, then scaled by w[j] and shifted by b[j].
 *
 * Statistics follow batch_norm's careful two-pass scheme (rt_norm.h): the mean from sums of
 * x - x[0] in float blocks of RT_LN_BLOCK accumulated in double, then the mean of squared
 * deviations from the mean rounded to float, corrected for that rounding. The mean is saved as
 * a float plus its rounding error (save_mean[r], save_mean[M + r]) and used as (x - m) - mlo, so
 * a mean large relative to the spread costs no precision in forward or backward.
 *
 * Backward, per row (wg = w * g, xhat = (x - mean) * rstd):
 *   gx = rstd * (wg - mean(wg) - xhat * mean(wg * xhat))
 * computed as wg * rstd + (x - mean) * k2 + k3 from two double-accumulated row sums (two
 * passes over the row). gw and gb are column sums over rows (sum g * xhat, sum g): rows are
 * split into a fixed number of chunks that depends only on M and D (never on the thread
 * count); each chunk sums groups of rows in float and adds each group into its own double
 * partial row, and the partials are summed in chunk order, so the result is the same on any
 * number of threads.
 *
 * The row reductions use GNU vectors of the module's native width (64 bytes with AVX-512, 32
 * with AVX, 16 otherwise) rather than rt_simd.h's fixed 64-byte type: gcc lowers a 64-byte
 * vector badly without AVX-512 (accumulators bounced through the stack), which made the AVX2
 * build of these loops 2-3x slower than the AVX-512 one.
 */
#ifndef RT_LAYERNORM_H
#define RT_LAYERNORM_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RT_LN_BLOCK 1024 /* float partial sums of at most this many elements, then double */

/* The row functions are kept out of line: inlined into an OpenMP-outlined region, gcc has
 * been seen to vectorise their loops worse (see rt_simd.h). */
#if defined(__GNUC__) || defined(__clang__)
#define RT_LN_NOINLINE __attribute__((noinline))
#define RT_LN_VEC 1
#if defined(__AVX512F__)
#define RT_LN_VB 64
#elif defined(__AVX__)
#define RT_LN_VB 32
#else
#define RT_LN_VB 16
#endif
#define RT_LN_W (RT_LN_VB / 4)
typedef float rt_lnv __attribute__((vector_size(RT_LN_VB)));
static inline rt_lnv rt_ln_load(const float *p) {
    rt_lnv v;
    memcpy(&v, p, sizeof(v));
    return v;
}
static inline rt_lnv rt_ln_set1(float a) {
    rt_lnv v;
    for (int j = 0; j < RT_LN_W; j++) v[j] = a;
    return v;
}
static inline float rt_ln_hsum(rt_lnv v) {
    float s = 0.0f;
    for (int j = 0; j < RT_LN_W; j++) s += v[j];
    return s;
}
#else
#define RT_LN_NOINLINE
#define RT_LN_VEC 0
#define RT_LN_W 8
#endif

/* sum of (x - k) over n <= RT_LN_BLOCK elements */
static inline float rt_ln_sumdev(const float *x, ptrdiff_t n, float k) {
    ptrdiff_t i = 0;
    float s = 0.0f;
#if RT_LN_VEC
    const rt_lnv vk = rt_ln_set1(k);
    rt_lnv a0 = rt_ln_set1(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (; i + 4 * RT_LN_W <= n; i += 4 * RT_LN_W) {
        a0 += rt_ln_load(x + i) - vk;
        a1 += rt_ln_load(x + i + RT_LN_W) - vk;
        a2 += rt_ln_load(x + i + 2 * RT_LN_W) - vk;
        a3 += rt_ln_load(x + i + 3 * RT_LN_W) - vk;
    }
    for (; i + RT_LN_W <= n; i += RT_LN_W) a0 += rt_ln_load(x + i) - vk;
    s = rt_ln_hsum((a0 + a1) + (a2 + a3));
#else
    float acc[RT_LN_W] = {0};
    for (; i + RT_LN_W <= n; i += RT_LN_W)
        for (int j = 0; j < RT_LN_W; j++) acc[j] += x[i + j] - k;
    for (int j = 0; j < RT_LN_W; j++) s += acc[j];
#endif
    for (; i < n; i++) s += x[i] - k;
    return s;
}

/* sum of (x - m)^2 over n <= RT_LN_BLOCK elements */
static inline float rt_ln_sqdev(const float *x, ptrdiff_t n, float m) {
    ptrdiff_t i = 0;
    float s = 0.0f;
#if RT_LN_VEC
    const rt_lnv vm = rt_ln_set1(m);
    rt_lnv a0 = rt_ln_set1(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (; i + 4 * RT_LN_W <= n; i += 4 * RT_LN_W) {
        rt_lnv d0 = rt_ln_load(x + i) - vm, d1 = rt_ln_load(x + i + RT_LN_W) - vm;
        rt_lnv d2 = rt_ln_load(x + i + 2 * RT_LN_W) - vm;
        rt_lnv d3 = rt_ln_load(x + i + 3 * RT_LN_W) - vm;
        a0 += d0 * d0;
        a1 += d1 * d1;
        a2 += d2 * d2;
        a3 += d3 * d3;
    }
    for (; i + RT_LN_W <= n; i += RT_LN_W) {
        rt_lnv d = rt_ln_load(x + i) - vm;
        a0 += d * d;
    }
    s = rt_ln_hsum((a0 + a1) + (a2 + a3));
#else
    float acc[RT_LN_W] = {0};
    for (; i + RT_LN_W <= n; i += RT_LN_W)
        for (int j = 0; j < RT_LN_W; j++) {
            float d = x[i + j] - m;
            acc[j] += d * d;
        }
    for (int j = 0; j < RT_LN_W; j++) s += acc[j];
#endif
    for (; i < n; i++) {
        float d = x[i] - m;
        s += d * d;
    }
    return s;
}

/* *sg = sum w g, *sgd = sum w g (x - m) over n <= RT_LN_BLOCK elements (w NULL: 1) */
static inline void rt_ln_wgsums(const float *g, const float *x, const float *w, ptrdiff_t n,
                                float m, float *sg, float *sgd) {
    ptrdiff_t i = 0;
    float s1 = 0.0f, s2 = 0.0f;
#if RT_LN_VEC
    const rt_lnv vm = rt_ln_set1(m);
    rt_lnv a0 = rt_ln_set1(0.0f), a1 = a0, b0 = a0, b1 = a0;
    if (w) {
        for (; i + 2 * RT_LN_W <= n; i += 2 * RT_LN_W) {
            rt_lnv g0 = rt_ln_load(g + i) * rt_ln_load(w + i);
            rt_lnv g1 = rt_ln_load(g + i + RT_LN_W) * rt_ln_load(w + i + RT_LN_W);
            a0 += g0;
            a1 += g1;
            b0 += g0 * (rt_ln_load(x + i) - vm);
            b1 += g1 * (rt_ln_load(x + i + RT_LN_W) - vm);
        }
    } else {
        for (; i + 2 * RT_LN_W <= n; i += 2 * RT_LN_W) {
            rt_lnv g0 = rt_ln_load(g + i), g1 = rt_ln_load(g + i + RT_LN_W);
            a0 += g0;
            a1 += g1;
            b0 += g0 * (rt_ln_load(x + i) - vm);
            b1 += g1 * (rt_ln_load(x + i + RT_LN_W) - vm);
        }
    }
    s1 = rt_ln_hsum(a0 + a1);
    s2 = rt_ln_hsum(b0 + b1);
#else
    float a[RT_LN_W] = {0}, b[RT_LN_W] = {0};
    for (; i + RT_LN_W <= n; i += RT_LN_W)
        for (int j = 0; j < RT_LN_W; j++) {
            float gw = w ? g[i + j] * w[i + j] : g[i + j];
            a[j] += gw;
            b[j] += gw * (x[i + j] - m);
        }
    for (int j = 0; j < RT_LN_W; j++) {
        s1 += a[j];
        s2 += b[j];
    }
#endif
    for (; i < n; i++) {
        float gw = w ? g[i] * w[i] : g[i];
        s1 += gw;
        s2 += gw * (x[i] - m);
    }
    *sg = s1;
    *sgd = s2;
}

/* sum of (x - k) over a row, float blocks accumulated in double */
RT_LN_NOINLINE static double rt_ln_bsum(const float *x, ptrdiff_t n, float k) {
    double tot = 0.0;
    for (ptrdiff_t b = 0; b < n; b += RT_LN_BLOCK)
        tot += rt_ln_sumdev(x + b, n - b < RT_LN_BLOCK ? n - b : RT_LN_BLOCK, k);
    return tot;
}

/* sum of (x - m)^2 over a row, float blocks accumulated in double */
RT_LN_NOINLINE static double rt_ln_bsqdev(const float *x, ptrdiff_t n, float m) {
    double tot = 0.0;
    for (ptrdiff_t b = 0; b < n; b += RT_LN_BLOCK)
        tot += rt_ln_sqdev(x + b, n - b < RT_LN_BLOCK ? n - b : RT_LN_BLOCK, m);
    return tot;
}

/* Forward of row r (D >= 1): y, saved mean (hi/lo) and rstd. */
RT_LN_NOINLINE static void rt_ln_fwd_row(const float *x, float *y, const float *w,
                                         const float *b, float *save_mean, float *save_rstd,
                                         ptrdiff_t M, ptrdiff_t D, float eps, ptrdiff_t r) {
    const float *xr = x + r * D;
    float *yr = y + r * D;
    const float k = xr[0];
    const double mean = (double)k + rt_ln_bsum(xr, D, k) / (double)D;
    const float mf = (float)mean;
    const double dm = mean - (double)mf;
    double var = rt_ln_bsqdev(xr, D, mf) / (double)D - dm * dm;
    if (var < 0.0) var = 0.0;
    const double rstd = 1.0 / sqrt(var + (double)eps);
    const float rs = (float)rstd, mlo = (float)dm;
    save_mean[r] = mf;
    save_mean[M + r] = mlo;
    save_rstd[r] = rs;
    if (w && b)
        for (ptrdiff_t j = 0; j < D; j++) yr[j] = ((xr[j] - mf) - mlo) * rs * w[j] + b[j];
    else if (w)
        for (ptrdiff_t j = 0; j < D; j++) yr[j] = ((xr[j] - mf) - mlo) * rs * w[j];
    else if (b)
        for (ptrdiff_t j = 0; j < D; j++) yr[j] = ((xr[j] - mf) - mlo) * rs + b[j];
    else
        for (ptrdiff_t j = 0; j < D; j++) yr[j] = ((xr[j] - mf) - mlo) * rs;
}

/* Backward of row r: gx (when wanted) and the row's contribution to the gw / gb float
 * accumulators (fw / fb, D floats each, NULL when not wanted). */
RT_LN_NOINLINE static void rt_ln_bwd_row(const float *g, const float *x, const float *w,
                                         const float *mean, const float *rstd, float *gx,
                                         float *fw, float *fb, ptrdiff_t M, ptrdiff_t D,
                                         ptrdiff_t r) {
    const float *gr = g + r * D, *xr = x + r * D;
    const float m = mean[r], mlo = mean[M + r], rs = rstd[r];
    float k2 = 0.0f, k3 = 0.0f;
    if (gx) {
        double sg = 0.0, sgd = 0.0;
        for (ptrdiff_t b0 = 0; b0 < D; b0 += RT_LN_BLOCK) {
            const ptrdiff_t n = D - b0 < RT_LN_BLOCK ? D - b0 : RT_LN_BLOCK;
            float s1, s2;
            rt_ln_wgsums(gr + b0, xr + b0, w ? w + b0 : NULL, n, m, &s1, &s2);
            sg += s1;
            sgd += s2;
        }
        sgd -= (double)mlo * sg; /* sum wg (x - mean) = sum wg (x - m) - mlo sum wg */
        const double is = (double)rs;
        k2 = (float)(-is * is * is * sgd / (double)D);
        k3 = (float)(-is * sg / (double)D);
    }
    if (fw && fb)
        for (ptrdiff_t j = 0; j < D; j++) {
            fw[j] += gr[j] * (((xr[j] - m) - mlo) * rs);
            fb[j] += gr[j];
        }
    else if (fw)
        for (ptrdiff_t j = 0; j < D; j++) fw[j] += gr[j] * (((xr[j] - m) - mlo) * rs);
    else if (fb)
        for (ptrdiff_t j = 0; j < D; j++) fb[j] += gr[j];
    if (!gx) return;
    float *gxr = gx + r * D;
    if (w)
        for (ptrdiff_t j = 0; j < D; j++)
            gxr[j] = (gr[j] * w[j]) * rs + ((xr[j] - m) - mlo) * k2 + k3;
    else
        for (ptrdiff_t j = 0; j < D; j++) gxr[j] = gr[j] * rs + ((xr[j] - m) - mlo) * k2 + k3;
}

#define RT_LN_FLUSH 32 /* rows summed in float before they are added to the double partials */
#define RT_LN_GROUP_ELEMS 16384 /* fewer rows per group for long rows, so a group stays in L2 */

/* p[j] += f[j] in double, then f[j] = 0 */
static inline void rt_ln_flush(float *f, double *p, ptrdiff_t D) {
    for (ptrdiff_t j = 0; j < D; j++) {
        p[j] += (double)f[j];
        f[j] = 0.0f;
    }
}

/* Backward of chunk c of nch: rows [c*M/nch, (c+1)*M/nch). part_w / part_b hold nch rows of
 * D zero-initialised doubles and scr_w / scr_b nch rows of D zero-initialised floats (NULL when
 * not wanted): groups of up to RT_LN_FLUSH rows (fewer when rows are long; the group size
 * depends only on D) are summed in float, then added in double. */
RT_LN_NOINLINE static void rt_ln_bwd_chunk(const float *g, const float *x, const float *w,
                                           const float *mean, const float *rstd, float *gx,
                                           double *part_w, double *part_b, float *scr_w,
                                           float *scr_b, ptrdiff_t M, ptrdiff_t D,
                                           ptrdiff_t nch, ptrdiff_t c) {
    const ptrdiff_t r0 = (ptrdiff_t)((int64_t)M * c / nch);
    const ptrdiff_t r1 = (ptrdiff_t)((int64_t)M * (c + 1) / nch);
    double *pw = part_w ? part_w + c * D : NULL;
    double *pb = part_b ? part_b + c * D : NULL;
    float *fw = scr_w ? scr_w + c * D : NULL;
    float *fb = scr_b ? scr_b + c * D : NULL;
    /* per group of rows: gx, then the gw / gb sums over the same rows (still in cache);
     * measured faster than one fused pass, which mixes the gx stores with the accumulators */
    const ptrdiff_t grp = D >= RT_LN_GROUP_ELEMS / RT_LN_FLUSH
                              ? (D >= RT_LN_GROUP_ELEMS ? 1 : RT_LN_GROUP_ELEMS / D)
                              : RT_LN_FLUSH;
    for (ptrdiff_t q = r0; q < r1; q += grp) {
        const ptrdiff_t qe = q + grp < r1 ? q + grp : r1;
        if (gx)
            for (ptrdiff_t r = q; r < qe; r++)
                rt_ln_bwd_row(g, x, w, mean, rstd, gx, NULL, NULL, M, D, r);
        if (fw || fb) {
            for (ptrdiff_t r = q; r < qe; r++)
                rt_ln_bwd_row(g, x, w, mean, rstd, NULL, fw, fb, M, D, r);
            if (fw) rt_ln_flush(fw, pw, D);
            if (fb) rt_ln_flush(fb, pb, D);
        }
    }
}

/* out[j] = sum over c of part[c * D + j], in chunk order */
static void rt_ln_sum_parts(const double *part, float *out, ptrdiff_t nch, ptrdiff_t D) {
    for (ptrdiff_t j = 0; j < D; j++) {
        double s = 0.0;
        for (ptrdiff_t c = 0; c < nch; c++) s += part[c * D + j];
        out[j] = (float)s;
    }
}
#endif
