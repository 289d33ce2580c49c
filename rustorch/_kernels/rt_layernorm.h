/* Layer normalisation over the rows of an (M, D) view: each row of D contiguous floats is
 * normalised by its own mean and biased variance, then scaled by w[j] and shifted by b[j].
 *
 * Statistics reuse batch_norm's careful two-pass scheme (rt_norm.h): the mean from sums of
 * x - x[0] in float blocks of RT_BN_BLOCK accumulated in double, then the mean of squared
 * deviations from the mean rounded to float, corrected for that rounding. The mean is saved as
 * a float plus its rounding error (save_mean[r], save_mean[M + r]) and used as (x - m) - mlo, so
 * a mean large relative to the spread costs no precision in forward or backward.
 *
 * Backward, per row (wg = w * g, xhat = (x - mean) * rstd):
 *   gx = rstd * (wg - mean(wg) - xhat * mean(wg * xhat))
 * computed as wg * rstd + (x - mean) * k2 + k3 from two double-accumulated row sums (two
 * passes over the row). gw and gb
 * are column sums over rows (sum g * xhat, sum g): rows are split into a fixed number of chunks
 * that depends only on M and D (never on the thread count); each chunk sums RT_LN_FLUSH rows at
 * a time in float and adds those into its own double partial row, and the partials are summed
 * in chunk order, so the result is the same on any number of threads.
 */
#ifndef RT_LAYERNORM_H
#define RT_LAYERNORM_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include "rt_norm.h"
#include "rt_simd.h"

/* The row functions are kept out of line: inlined into an OpenMP-outlined region, gcc has
 * been seen to vectorise their loops worse (see rt_simd.h). */
#if defined(__GNUC__) || defined(__clang__)
#define RT_LN_NOINLINE __attribute__((noinline))
#else
#define RT_LN_NOINLINE
#endif

/* *sg = sum w g, *sgd = sum w g (x - m) over one block (w may be NULL: 1) */
static inline void rt_ln_vwgsums(const float *g, const float *x, const float *w, ptrdiff_t n,
                                 float m, float *sg, float *sgd) {
    if (!w) {
        rt_vgsums(g, x, n, m, sg, sgd);
        return;
    }
    ptrdiff_t i = 0;
    float s1 = 0.0f, s2 = 0.0f;
#if RT_HAVE_VEC
    const rt_vf vm = rt_vset1(m);
    rt_vf a0 = rt_vset1(0.0f), a1 = a0, b0 = a0, b1 = a0;
    for (; i + 2 * RT_VW <= n; i += 2 * RT_VW) {
        rt_vf g0 = rt_vload(g + i) * rt_vload(w + i);
        rt_vf g1 = rt_vload(g + i + RT_VW) * rt_vload(w + i + RT_VW);
        a0 += g0;
        a1 += g1;
        b0 += g0 * (rt_vload(x + i) - vm);
        b1 += g1 * (rt_vload(x + i + RT_VW) - vm);
    }
    for (; i + RT_VW <= n; i += RT_VW) {
        rt_vf g0 = rt_vload(g + i) * rt_vload(w + i);
        a0 += g0;
        b0 += g0 * (rt_vload(x + i) - vm);
    }
    s1 = rt_vhsum(a0 + a1);
    s2 = rt_vhsum(b0 + b1);
#else
    float a[RT_VW] = {0}, b[RT_VW] = {0};
    for (; i + RT_VW <= n; i += RT_VW)
        for (int j = 0; j < RT_VW; j++) {
            float gw = g[i + j] * w[i + j];
            a[j] += gw;
            b[j] += gw * (x[i + j] - m);
        }
    for (int j = 0; j < RT_VW; j++) {
        s1 += a[j];
        s2 += b[j];
    }
#endif
    for (; i < n; i++) {
        float gw = g[i] * w[i];
        s1 += gw;
        s2 += gw * (x[i] - m);
    }
    *sg = s1;
    *sgd = s2;
}

/* Forward of row r (D >= 1): y, saved mean (hi/lo) and rstd. */
RT_LN_NOINLINE static void rt_ln_fwd_row(const float *x, float *y, const float *w,
                                         const float *b, float *save_mean, float *save_rstd,
                                         ptrdiff_t M, ptrdiff_t D, float eps, ptrdiff_t r) {
    const float *xr = x + r * D;
    float *yr = y + r * D;
    const float k = xr[0];
    const double mean = (double)k + rt_bn_sum(xr, D, k) / (double)D;
    const float mf = (float)mean;
    const double dm = mean - (double)mf;
    double var = rt_bn_sqdev(xr, D, mf) / (double)D - dm * dm;
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
        for (ptrdiff_t b0 = 0; b0 < D; b0 += RT_BN_BLOCK) {
            const ptrdiff_t n = D - b0 < RT_BN_BLOCK ? D - b0 : RT_BN_BLOCK;
            float s1, s2;
            rt_ln_vwgsums(gr + b0, xr + b0, w ? w + b0 : NULL, n, m, &s1, &s2);
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
