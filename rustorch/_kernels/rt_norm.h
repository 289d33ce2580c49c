/* Batch normalisation over an (N, C, S) view: channel c's data is N contiguous segments of S.
 *
 * Statistics are two-pass: the mean from sums of x - k (k = the channel's first element, so a
 * mean that is large relative to the spread keeps its precision), then the mean of squared
 * deviations. Each segment is summed in float vectors in blocks of RT_BN_BLOCK and the blocks
 * accumulated in double, so the error does not grow with N*S. Outputs are formed as
 * (x - mean) * scale + shift, never x * scale + (shift - mean * scale), which would cancel.
 */
#ifndef RT_NORM_H
#define RT_NORM_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include "rt_simd.h"

#define RT_BN_BLOCK 1024

static double rt_bn_sum(const float *x, ptrdiff_t n, float k) {
    double tot = 0.0;
    for (ptrdiff_t b = 0; b < n; b += RT_BN_BLOCK)
        tot += rt_vsumdev(x + b, n - b < RT_BN_BLOCK ? n - b : RT_BN_BLOCK, k);
    return tot;
}

static double rt_bn_sqdev(const float *x, ptrdiff_t n, float m) {
    double tot = 0.0;
    for (ptrdiff_t b = 0; b < n; b += RT_BN_BLOCK)
        tot += rt_vsqdev(x + b, n - b < RT_BN_BLOCK ? n - b : RT_BN_BLOCK, m);
    return tot;
}

/* *sg += sum g, *sgd += sum g * (x - m) */
static void rt_bn_gsums(const float *g, const float *x, ptrdiff_t n, float m, double *sg,
                        double *sgd) {
    double tg = 0.0, tgd = 0.0;
    for (ptrdiff_t b = 0; b < n; b += RT_BN_BLOCK) {
        float s1, s2;
        rt_vgsums(g + b, x + b, n - b < RT_BN_BLOCK ? n - b : RT_BN_BLOCK, m, &s1, &s2);
        tg += s1;
        tgd += s2;
    }
    *sg += tg;
    *sgd += tgd;
}

/* y = ((x - m) - mlo) * a + b: the mean as a float plus its rounding error mlo, so the
 * deviation stays accurate when the mean is large relative to the spread */
static inline void rt_bn_affine(const float *x, float *y, ptrdiff_t n, float m, float mlo,
                                float a, float b) {
    for (ptrdiff_t i = 0; i < n; i++) y[i] = ((x[i] - m) - mlo) * a + b;
}

/* y = g * a + ((x - m) - mlo) * b + c */
static inline void rt_bn_affine2(const float *g, const float *x, float *y, ptrdiff_t n, float m,
                                 float mlo, float a, float b, float c) {
    for (ptrdiff_t i = 0; i < n; i++) y[i] = g[i] * a + ((x[i] - m) - mlo) * b + c;
}

typedef struct {
    ptrdiff_t N, C, S;
    float eps, momentum;
    const float *w, *b; /* NULL: weight 1, bias 0 */
    float *rm, *rv;     /* running stats, NULL when not tracked */
} rt_bn_args;

static inline void rt_bn_running(const rt_bn_args *a, ptrdiff_t c, double mean, double var,
                                 double cnt) {
    if (a->rm) a->rm[c] = (float)((1.0 - a->momentum) * a->rm[c] + a->momentum * mean);
    if (a->rv) {
        double unbiased = cnt > 1.0 ? var * cnt / (cnt - 1.0) : var;
        a->rv[c] = (float)((1.0 - a->momentum) * a->rv[c] + a->momentum * unbiased);
    }
}

/* Training forward of channel c: batch statistics, output, saved mean / invstd, running stats.
 * save_mean holds 2*C floats: the means rounded to float, then their rounding errors. */
static void rt_bn_train_channel(const float *x, float *y, float *save_mean, float *save_invstd,
                                const rt_bn_args *a, ptrdiff_t c) {
    const ptrdiff_t N = a->N, C = a->C, S = a->S;
    const double cnt = (double)N * (double)S;
    const float k = x[c * S];
    double s = 0.0;
    for (ptrdiff_t n = 0; n < N; n++) s += rt_bn_sum(x + (n * C + c) * S, S, k);
    const double mean = (double)k + s / cnt;
    const float mf = (float)mean;
    double ss = 0.0;
    for (ptrdiff_t n = 0; n < N; n++) ss += rt_bn_sqdev(x + (n * C + c) * S, S, mf);
    const double dm = mean - (double)mf; /* deviations were taken from the rounded mean */
    double var = ss / cnt - dm * dm;
    if (var < 0.0) var = 0.0;
    const double invstd = 1.0 / sqrt(var + (double)a->eps);
    const double w = a->w ? (double)a->w[c] : 1.0;
    const float scale = (float)(w * invstd);
    const float shift = a->b ? a->b[c] : 0.0f;
    for (ptrdiff_t n = 0; n < N; n++)
        rt_bn_affine(x + (n * C + c) * S, y + (n * C + c) * S, S, mf, (float)dm, scale, shift);
    save_mean[c] = mf;
    save_mean[C + c] = (float)dm;
    save_invstd[c] = (float)invstd;
    rt_bn_running(a, c, mean, var, cnt);
}

/* Training backward of channel c: gb = sum g, gw = invstd * sum g (x - mean),
 * gx = w * invstd * (g - mean(g) - (x - mean) * invstd^2 * mean(g (x - mean))). */
static void rt_bn_train_bwd_channel(const float *g, const float *x, const float *mean,
                                    const float *invstd, const float *wt, float *gx, float *gw,
                                    float *gb, ptrdiff_t N, ptrdiff_t C, ptrdiff_t S,
                                    ptrdiff_t c) {
    const float m = mean[c], mlo = mean[C + c];
    const double is = invstd[c];
    double sg = 0.0, sgd = 0.0;
    for (ptrdiff_t n = 0; n < N; n++)
        rt_bn_gsums(g + (n * C + c) * S, x + (n * C + c) * S, S, m, &sg, &sgd);
    sgd -= (double)mlo * sg; /* sum g (x - mean) = sum g (x - m) - mlo sum g */
    if (gb) gb[c] = (float)sg;
    if (gw) gw[c] = (float)(sgd * is);
    if (gx) {
        const double cnt = (double)N * (double)S;
        const double w = wt ? (double)wt[c] : 1.0;
        const double k1 = w * is;
        const double k2 = -w * is * is * is * sgd / cnt;
        const double k3 = -k1 * sg / cnt;
        for (ptrdiff_t n = 0; n < N; n++)
            rt_bn_affine2(g + (n * C + c) * S, x + (n * C + c) * S, gx + (n * C + c) * S, S, m,
                          mlo, (float)k1, (float)k2, (float)k3);
    }
}

/* Evaluation forward of channel c with the running statistics. */
static void rt_bn_eval_channel(const float *x, float *y, const float *rm, const float *rv,
                               const rt_bn_args *a, ptrdiff_t c) {
    const double invstd = 1.0 / sqrt((double)rv[c] + (double)a->eps);
    const double w = a->w ? (double)a->w[c] : 1.0;
    const float scale = (float)(w * invstd);
    const float shift = a->b ? a->b[c] : 0.0f;
    for (ptrdiff_t n = 0; n < a->N; n++)
        rt_bn_affine(x + (n * a->C + c) * a->S, y + (n * a->C + c) * a->S, a->S, rm[c], 0.0f,
                     scale, shift);
}

/* Evaluation backward of channel c: the statistics are constants. */
static void rt_bn_eval_bwd_channel(const float *g, const float *x, const float *rm,
                                   const float *rv, const float *wt, float eps, float *gx,
                                   float *gw, float *gb, ptrdiff_t N, ptrdiff_t C, ptrdiff_t S,
                                   ptrdiff_t c) {
    const double is = 1.0 / sqrt((double)rv[c] + (double)eps);
    if (gw || gb) {
        double sg = 0.0, sgd = 0.0;
        for (ptrdiff_t n = 0; n < N; n++)
            rt_bn_gsums(g + (n * C + c) * S, x + (n * C + c) * S, S, rm[c], &sg, &sgd);
        if (gb) gb[c] = (float)sg;
        if (gw) gw[c] = (float)(sgd * is);
    }
    if (gx) {
        const float k = (float)((wt ? (double)wt[c] : 1.0) * is);
        for (ptrdiff_t n = 0; n < N; n++)
            rt_bn_affine(g + (n * C + c) * S, gx + (n * C + c) * S, S, 0.0f, 0.0f, k, 0.0f);
    }
}

/* S == 1 (2-D input, N x C): the same maths row by row, vectorised across channels, with
 * double accumulators (acc holds 2*C doubles). */
static void rt_bn_train_cols(const float *x, float *y, float *save_mean, float *save_invstd,
                             const rt_bn_args *a, double *acc) {
    const ptrdiff_t N = a->N, C = a->C;
    double *s1 = acc, *s2 = acc + C;
    for (ptrdiff_t c = 0; c < C; c++) s1[c] = s2[c] = 0.0;
    for (ptrdiff_t n = 0; n < N; n++)
        for (ptrdiff_t c = 0; c < C; c++) s1[c] += x[n * C + c];
    for (ptrdiff_t c = 0; c < C; c++) {
        save_mean[c] = (float)(s1[c] / (double)N);
        save_mean[C + c] = (float)(s1[c] / (double)N - (double)save_mean[c]);
    }
    for (ptrdiff_t n = 0; n < N; n++)
        for (ptrdiff_t c = 0; c < C; c++) {
            double d = (double)x[n * C + c] - s1[c] / (double)N;
            s2[c] += d * d;
        }
    for (ptrdiff_t c = 0; c < C; c++) {
        const double mean = s1[c] / (double)N, var = s2[c] / (double)N;
        const double invstd = 1.0 / sqrt(var + (double)a->eps);
        const double w = a->w ? (double)a->w[c] : 1.0;
        save_invstd[c] = (float)invstd;
        s1[c] = w * invstd; /* scale */
        rt_bn_running(a, c, mean, var, (double)N);
    }
    for (ptrdiff_t n = 0; n < N; n++)
        for (ptrdiff_t c = 0; c < C; c++)
            y[n * C + c] = ((x[n * C + c] - save_mean[c]) - save_mean[C + c]) * (float)s1[c] +
                           (a->b ? a->b[c] : 0.0f);
}

static void rt_bn_train_bwd_cols(const float *g, const float *x, const float *mean,
                                 const float *invstd, const float *wt, float *gx, float *gw,
                                 float *gb, ptrdiff_t N, ptrdiff_t C, double *acc) {
    double *sg = acc, *sgd = acc + C;
    for (ptrdiff_t c = 0; c < C; c++) sg[c] = sgd[c] = 0.0;
    for (ptrdiff_t n = 0; n < N; n++)
        for (ptrdiff_t c = 0; c < C; c++) {
            float gv = g[n * C + c];
            sg[c] += gv;
            sgd[c] += (double)gv * ((double)x[n * C + c] - (double)mean[c] - (double)mean[C + c]);
        }
    for (ptrdiff_t c = 0; c < C; c++) {
        if (gb) gb[c] = (float)sg[c];
        if (gw) gw[c] = (float)(sgd[c] * invstd[c]);
    }
    if (!gx) return;
    for (ptrdiff_t c = 0; c < C; c++) {
        const double is = invstd[c], w = wt ? (double)wt[c] : 1.0;
        const double k1 = w * is, k2 = -w * is * is * is * sgd[c] / (double)N;
        const double k3 = -k1 * sg[c] / (double)N;
        for (ptrdiff_t n = 0; n < N; n++)
            gx[n * C + c] = g[n * C + c] * (float)k1 +
                            ((x[n * C + c] - mean[c]) - mean[C + c]) * (float)k2 + (float)k3;
    }
}
#endif
