/* softmax / log_softmax over an (outer, R, inner) view, and the classification losses.
 *
 * Softmax subtracts the maximum first (logits of any magnitude stay finite) and uses the
 * vectorisable rt_expf / rt_logf. A NaN anywhere in a slice makes the whole slice NaN, like
 * torch. Rows (inner == 1) use the explicit-vector reductions of rt_simd.h and plain
 * elementwise loops; columns (inner > 1) are processed in chunks of up to RT_SM_COLS columns
 * vectorised across the columns.
 */
#ifndef RT_LOSS_H
#define RT_LOSS_H
#include <stddef.h>
#include <stdint.h>
#include "rt_math.h"

#include "rt_simd.h"

#define RT_SM_COLS 256

static inline float rt_nanmax(float m, float v) { return (v > m || v != v) ? v : m; }

/* one contiguous row of length R: max (explicit vectors), exp into y (a plain elementwise
 * loop, which compilers vectorise reliably), the sum of y, then the final pass */
static void rt_softmax_row(const float *x, float *y, ptrdiff_t R, int logsm) {
    const float m = rt_vmax(x, R);
    for (ptrdiff_t i = 0; i < R; i++) y[i] = rt_expf(x[i] - m);
    const float s = rt_vsum(y, R);
    if (logsm) {
        const float ls = rt_logf(s);
        for (ptrdiff_t i = 0; i < R; i++) y[i] = (x[i] - m) - ls;
    } else {
        const float inv = 1.0f / s;
        for (ptrdiff_t i = 0; i < R; i++) y[i] *= inv;
    }
}

/* n <= RT_SM_COLS adjacent columns of an (R, inner) block */
static void rt_softmax_cols(const float *x, float *y, ptrdiff_t R, ptrdiff_t inner, ptrdiff_t n,
                            int logsm) {
    float m[RT_SM_COLS], s[RT_SM_COLS];
    for (ptrdiff_t i = 0; i < n; i++) m[i] = x[i];
    for (ptrdiff_t r = 1; r < R; r++) {
        const float *row = x + r * inner;
        for (ptrdiff_t i = 0; i < n; i++) m[i] = rt_nanmax(m[i], row[i]);
    }
    for (ptrdiff_t i = 0; i < n; i++) s[i] = 0.0f;
    for (ptrdiff_t r = 0; r < R; r++) {
        const float *row = x + r * inner;
        float *out = y + r * inner;
        if (logsm) {
            for (ptrdiff_t i = 0; i < n; i++) s[i] += rt_expf(row[i] - m[i]);
        } else {
            for (ptrdiff_t i = 0; i < n; i++) {
                float e = rt_expf(row[i] - m[i]);
                out[i] = e;
                s[i] += e;
            }
        }
    }
    if (logsm) {
        for (ptrdiff_t i = 0; i < n; i++) s[i] = rt_logf(s[i]);
        for (ptrdiff_t r = 0; r < R; r++) {
            const float *row = x + r * inner;
            float *out = y + r * inner;
            for (ptrdiff_t i = 0; i < n; i++) out[i] = (row[i] - m[i]) - s[i];
        }
    } else {
        for (ptrdiff_t i = 0; i < n; i++) s[i] = 1.0f / s[i];
        for (ptrdiff_t r = 0; r < R; r++) {
            float *out = y + r * inner;
            for (ptrdiff_t i = 0; i < n; i++) out[i] *= s[i];
        }
    }
}

/* backward: softmax gx = y * (g - sum(g * y)); log_softmax gx = g - exp(y) * sum(g) */
static void rt_softmax_bwd_row(const float *g, const float *y, float *gx, ptrdiff_t R, int logsm) {
    if (logsm) {
        const float s = rt_vsum(g, R);
        for (ptrdiff_t i = 0; i < R; i++) gx[i] = g[i] - rt_expf(y[i]) * s;
    } else {
        const float d = rt_vdot(g, y, R);
        for (ptrdiff_t i = 0; i < R; i++) gx[i] = y[i] * (g[i] - d);
    }
}

static void rt_softmax_bwd_cols(const float *g, const float *y, float *gx, ptrdiff_t R,
                                ptrdiff_t inner, ptrdiff_t n, int logsm) {
    float s[RT_SM_COLS];
    for (ptrdiff_t i = 0; i < n; i++) s[i] = 0.0f;
    for (ptrdiff_t r = 0; r < R; r++) {
        const float *gr = g + r * inner, *yr = y + r * inner;
        if (logsm)
            for (ptrdiff_t i = 0; i < n; i++) s[i] += gr[i];
        else
            for (ptrdiff_t i = 0; i < n; i++) s[i] += gr[i] * yr[i];
    }
    for (ptrdiff_t r = 0; r < R; r++) {
        const float *gr = g + r * inner, *yr = y + r * inner;
        float *o = gx + r * inner;
        if (logsm)
            for (ptrdiff_t i = 0; i < n; i++) o[i] = gr[i] - rt_expf(yr[i]) * s[i];
        else
            for (ptrdiff_t i = 0; i < n; i++) o[i] = yr[i] * (gr[i] - s[i]);
    }
}

/* ---- cross entropy with class-index targets ---------------------------------------------------
 * Sample (o, i) has C logits x[o, c, i] (stride `inner`). With p = softmax, logp = log_softmax,
 * W = sum_c w_c and eta = label_smoothing:
 *   loss = (1 - eta) * w_t * (-logp_t) + (eta / C) * sum_c w_c * (-logp_c)   (0 when ignored)
 *   dloss/dx_c = p_c * ((1 - eta) * w_t + (eta / C) * W) - (1 - eta) * w_t [c == t]
 *                - (eta / C) * w_c
 * The forward saves m (max) and log(sum exp(x - m)) per sample for the backward. */
typedef struct {
    ptrdiff_t C, inner;
    const float *w; /* class weights or NULL */
    float wsum;     /* sum of the class weights (C when w is NULL) */
    float eta;      /* label smoothing */
    int64_t ignore;
} rt_ce_args;

/* log(sum exp(x - m)) over a contiguous row, exp'd in stack chunks */
static inline float rt_row_logsumexp(const float *x, ptrdiff_t n, float m) {
    float tmp[RT_SM_COLS];
    float s = 0.0f;
    for (ptrdiff_t c0 = 0; c0 < n; c0 += RT_SM_COLS) {
        ptrdiff_t len = n - c0 < RT_SM_COLS ? n - c0 : RT_SM_COLS;
        for (ptrdiff_t j = 0; j < len; j++) tmp[j] = rt_expf(x[c0 + j] - m);
        s += rt_vsum(tmp, len);
    }
    return rt_logf(s);
}

static void rt_ce_sample(const float *x, int64_t t, const rt_ce_args *a, float *loss, float *wt,
                         float *mx, float *lse) {
    const ptrdiff_t C = a->C, st = a->inner;
    float m, ls;
    if (st == 1) {
        m = rt_vmax(x, C);
        ls = rt_row_logsumexp(x, C, m);
    } else {
        m = -__builtin_inff();
        for (ptrdiff_t c = 0; c < C; c++) m = rt_nanmax(m, x[c * st]);
        float s = 0.0f;
        for (ptrdiff_t c = 0; c < C; c++) s += rt_expf(x[c * st] - m);
        ls = rt_logf(s);
    }
    *mx = m;
    *lse = ls;
    if (t == a->ignore) {
        *loss = 0.0f;
        *wt = 0.0f;
        return;
    }
    const float w_t = a->w ? a->w[t] : 1.0f;
    float l = -w_t * ((x[t * st] - m) - ls);
    if (a->eta != 0.0f) {
        /* sum_c w_c * logp_c = sum_c w_c (x_c - m) - ls * W */
        float sm;
        if (st == 1) {
            sm = a->w ? rt_vdotdev(a->w, x, C, m) : rt_vsumdev(x, C, m);
        } else {
            sm = 0.0f;
            for (ptrdiff_t c = 0; c < C; c++) sm += (a->w ? a->w[c] : 1.0f) * (x[c * st] - m);
        }
        sm -= ls * a->wsum;
        l = (1.0f - a->eta) * l + (a->eta / (float)C) * (-sm);
    }
    *loss = l;
    *wt = w_t;
}

/* gx for one sample, scaled by gscale (upstream gradient times the reduction factor). */
static void rt_ce_sample_bwd(const float *x, int64_t t, const rt_ce_args *a, float m, float ls,
                             float gscale, float *gx) {
    const ptrdiff_t C = a->C, st = a->inner;
    if (t == a->ignore) {
        for (ptrdiff_t c = 0; c < C; c++) gx[c * st] = 0.0f;
        return;
    }
    const float w_t = a->w ? a->w[t] : 1.0f;
    const float eta = a->eta, k = eta / (float)C;
    const float coef = ((1.0f - eta) * w_t + k * a->wsum) * gscale;
    const float kk = k * gscale;
    if (st == 1) {
        if (a->w && eta != 0.0f) {
            const float *w = a->w;
            for (ptrdiff_t c = 0; c < C; c++) gx[c] = rt_expf((x[c] - m) - ls) * coef - w[c] * kk;
        } else {
            for (ptrdiff_t c = 0; c < C; c++) gx[c] = rt_expf((x[c] - m) - ls) * coef - kk;
        }
    } else {
        for (ptrdiff_t c = 0; c < C; c++) {
            float v = rt_expf((x[c * st] - m) - ls) * coef;
            gx[c * st] = v - (a->w ? a->w[c] : 1.0f) * kk;
        }
    }
    gx[t * st] -= (1.0f - eta) * w_t * gscale;
}

/* ---- binary cross entropy with logits --------------------------------------------------------
 * loss = w * ((1 - t) * x - lw * logsigmoid(x)), lw = 1 + (pw - 1) * t,
 * logsigmoid(x) = min(x, 0) - log1p(exp(-|x|)) (torch's formulation; rt_log1pf: rt_math.h). */
static inline float rt_logsigmoid(float x) {
    float mn = x < 0.0f ? x : 0.0f;
    return mn - rt_log1pf(rt_expf(-__builtin_fabsf(x)));
}
#endif
