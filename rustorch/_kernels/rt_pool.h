/* 2-D pooling over one H x W plane (the Python layer validated the geometry).
 *
 * Max pooling follows torch's CPU kernel: the window's first element in scan order wins ties,
 * a NaN replaces the running max (so the last NaN's index is kept), and indices are flat
 * positions h*W + w within the plane. Padding never wins (windows are clamped to the image).
 * The common 2x2/stride-2 case has branch-free loops that compilers vectorise.
 */
#ifndef RT_POOL_H
#define RT_POOL_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "rt_simd.h"

typedef struct {
    ptrdiff_t H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW;
} rt_pool_geom;

/* One output: the window's max and index, scanning rows then columns (torch's order). */
static inline void rt_maxpool_one(const float *x, const rt_pool_geom *g, ptrdiff_t h0,
                                  ptrdiff_t h1, ptrdiff_t ow, float *y, int32_t *idx) {
    ptrdiff_t w0 = ow * g->SW - g->PW;
    ptrdiff_t w1 = w0 + (g->KW - 1) * g->DW + 1;
    if (w1 > g->W) w1 = g->W;
    while (w0 < 0) w0 += g->DW;
    float m = -__builtin_inff();
    int32_t mi = (int32_t)(h0 * g->W + w0);
    for (ptrdiff_t ih = h0; ih < h1; ih += g->DH) {
        const float *row = x + ih * g->W;
        for (ptrdiff_t iw = w0; iw < w1; iw += g->DW) {
            float v = row[iw];
            int t = (v > m) | (v != v); /* branch-free: random data would mispredict */
            m = t ? v : m;
            mi = t ? (int32_t)(ih * g->W + iw) : mi;
        }
    }
    *y = m;
    *idx = mi;
}

#if RT_HAVE_VEC
typedef int32_t rt_vi __attribute__((vector_size(64)));
#if defined(__clang__)
#define RT_EVEN16(a, b) \
    __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#else
#define RT_EVEN16(a, b) \
    __builtin_shuffle(a, b, (rt_vi){0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30})
#endif

/* The general case, vectorised over 16 adjacent outputs of a row. The plane is first copied
 * into `pad`, surrounded by -inf wide enough that every tap of every (rounded-up) output
 * reads inside it: a -inf never beats the running max (v > m is false), so the result is the
 * clamped window's, and the running index starts at the window's first in-image element, as
 * in torch (it stays there only when every element is -inf). Each tap is one (strided) vector
 * load, two compares and two blends, with 16 independent outputs in flight. */
static void rt_maxpool_plane_vec(const float *x, float *y, int32_t *idx, const rt_pool_geom *g,
                                 float *pad, ptrdiff_t Hp, ptrdiff_t Wp) {
    const ptrdiff_t H = g->H, W = g->W, SW = g->SW, OW = g->OW;
    const ptrdiff_t OWr = (OW + RT_VW - 1) / RT_VW * RT_VW;
    for (ptrdiff_t r = 0; r < Hp; r++) {
        float *d = pad + r * Wp;
        ptrdiff_t ih = r - g->PH;
        for (ptrdiff_t c = 0; c < Wp; c++) d[c] = -__builtin_inff();
        if (ih >= 0 && ih < H) memcpy(d + g->PW, x + ih * W, (size_t)W * sizeof(float));
    }
    rt_vi lane;
    for (int j = 0; j < RT_VW; j++) lane[j] = (int32_t)(j * SW);
    for (ptrdiff_t oh = 0; oh < g->OH; oh++) {
        ptrdiff_t h0 = oh * g->SH - g->PH;
        while (h0 < 0) h0 += g->DH;
        for (ptrdiff_t ow0 = 0; ow0 < OWr; ow0 += RT_VW) {
            rt_vf m = rt_vset1(-__builtin_inff());
            rt_vi mi;
            for (int j = 0; j < RT_VW; j++) {
                ptrdiff_t w0 = (ow0 + j) * SW - g->PW;
                while (w0 < 0) w0 += g->DW;
                mi[j] = (int32_t)(h0 * W + w0);
            }
            for (ptrdiff_t kh = 0; kh < g->KH; kh++) {
                const ptrdiff_t pr = oh * g->SH + kh * g->DH;
                for (ptrdiff_t kw = 0; kw < g->KW; kw++) {
                    const ptrdiff_t pc = ow0 * SW + kw * g->DW;
                    const float *src = pad + pr * Wp + pc;
                    rt_vf v;
                    if (SW == 1) {
                        v = rt_vload(src);
                    } else if (SW == 2) {
                        v = RT_EVEN16(rt_vload(src), rt_vload(src + RT_VW));
                    } else {
                        for (int j = 0; j < RT_VW; j++) v[j] = src[j * SW];
                    }
                    rt_vi t = (v > m) | (v != v);
                    m = (rt_vf)((t & (rt_vi)v) | (~t & (rt_vi)m));
                    rt_vi cand = lane + (int32_t)((pr - g->PH) * W + pc - g->PW);
                    mi = (t & cand) | (~t & mi);
                }
            }
            ptrdiff_t n = OW - ow0 < RT_VW ? OW - ow0 : RT_VW;
            memcpy(y + oh * OW + ow0, &m, (size_t)n * sizeof(float));
            memcpy(idx + oh * OW + ow0, &mi, (size_t)n * sizeof(int32_t));
        }
    }
}
#endif

/* Size of the -inf-padded copy rt_maxpool_plane_vec needs (rows, columns); 0 rows when the
 * vector path is not compiled in. */
static void rt_maxpool_pad_dims(const rt_pool_geom *g, ptrdiff_t *Hp, ptrdiff_t *Wp) {
#if RT_HAVE_VEC
    const ptrdiff_t OWr = (g->OW + RT_VW - 1) / RT_VW * RT_VW;
    ptrdiff_t h = (g->OH - 1) * g->SH + (g->KH - 1) * g->DH + 1;
    ptrdiff_t w = (OWr - 1) * g->SW + (g->KW - 1) * g->DW + 1;
    if (g->SW == 2) w += RT_VW; /* the deinterleaving load reads 32 floats */
    if (h < g->H + g->PH) h = g->H + g->PH;
    if (w < g->W + g->PW) w = g->W + g->PW;
    *Hp = h;
    *Wp = w;
#else
    (void)g;
    *Hp = 0;
    *Wp = 0;
#endif
}

/* General geometry: the vector path when `pad` is given, else the scalar scan. */
static void rt_maxpool_plane(const float *x, float *y, int32_t *idx, const rt_pool_geom *g,
                             float *pad, ptrdiff_t Hp, ptrdiff_t Wp) {
#if RT_HAVE_VEC
    if (pad) {
        rt_maxpool_plane_vec(x, y, idx, g, pad, Hp, Wp);
        return;
    }
#endif
    (void)pad;
    (void)Hp;
    (void)Wp;
    for (ptrdiff_t oh = 0; oh < g->OH; oh++) {
        ptrdiff_t h0 = oh * g->SH - g->PH;
        ptrdiff_t h1 = h0 + (g->KH - 1) * g->DH + 1;
        if (h1 > g->H) h1 = g->H;
        while (h0 < 0) h0 += g->DH;
        for (ptrdiff_t ow = 0; ow < g->OW; ow++)
            rt_maxpool_one(x, g, h0, h1, ow, y + oh * g->OW + ow, idx + oh * g->OW + ow);
    }
}

/* kernel 2, stride 2, no padding, dilation 1: every window lies inside the image. */
static void rt_maxpool_plane_2x2(const float *x, float *y, int32_t *idx, ptrdiff_t W,
                                 ptrdiff_t OH, ptrdiff_t OW) {
    for (ptrdiff_t oh = 0; oh < OH; oh++) {
        const float *r0 = x + 2 * oh * W;
        const float *r1 = r0 + W;
        float *yo = y + oh * OW;
        int32_t *io = idx + oh * OW;
        const int32_t b0 = (int32_t)(2 * oh * W), b1 = (int32_t)((2 * oh + 1) * W);
        for (ptrdiff_t ow = 0; ow < OW; ow++) {
            float a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
            int32_t j = (int32_t)(2 * ow);
            float m = a;
            int32_t i = b0 + j;
            int t = (b > m) | (b != b);
            m = t ? b : m;
            i = t ? b0 + j + 1 : i;
            t = (c > m) | (c != c);
            m = t ? c : m;
            i = t ? b1 + j : i;
            t = (d > m) | (d != d);
            m = t ? d : m;
            i = t ? b1 + j + 1 : i;
            yo[ow] = m;
            io[ow] = i;
        }
    }
}

static void rt_maxpool_bwd_plane(const float *gy, const int32_t *idx, float *gx, ptrdiff_t HW,
                                 ptrdiff_t L) {
    memset(gx, 0, (size_t)HW * sizeof(float));
    for (ptrdiff_t l = 0; l < L; l++) gx[idx[l]] += gy[l];
}

/* 2x2/stride 2: each input element belongs to exactly one window (or none, in an odd last row
 * or column), so every element is written once, without a zeroing pass. */
static void rt_maxpool_bwd_plane_2x2(const float *gy, const int32_t *idx, float *gx, ptrdiff_t H,
                                     ptrdiff_t W, ptrdiff_t OH, ptrdiff_t OW) {
    for (ptrdiff_t oh = 0; oh < OH; oh++) {
        float *r0 = gx + 2 * oh * W;
        float *r1 = r0 + W;
        const float *go = gy + oh * OW;
        const int32_t *io = idx + oh * OW;
        const int32_t b0 = (int32_t)(2 * oh * W), b1 = (int32_t)((2 * oh + 1) * W);
        for (ptrdiff_t ow = 0; ow < OW; ow++) {
            float gv = go[ow];
            int32_t i = io[ow], j = (int32_t)(2 * ow);
            r0[2 * ow] = i == b0 + j ? gv : 0.0f;
            r0[2 * ow + 1] = i == b0 + j + 1 ? gv : 0.0f;
            r1[2 * ow] = i == b1 + j ? gv : 0.0f;
            r1[2 * ow + 1] = i == b1 + j + 1 ? gv : 0.0f;
        }
        for (ptrdiff_t w = 2 * OW; w < W; w++) {
            r0[w] = 0.0f;
            r1[w] = 0.0f;
        }
    }
    if (2 * OH < H) memset(gx + 2 * OH * W, 0, (size_t)((H - 2 * OH) * W) * sizeof(float));
}

/* torch's avg_pool2d: the divisor counts padding up to the padded edge (count_include_pad), or
 * only the in-image elements, or is the override when that is > 0. */
static inline ptrdiff_t rt_avg_window(const rt_pool_geom *g, ptrdiff_t oh, ptrdiff_t ow,
                                      int include_pad, ptrdiff_t override, ptrdiff_t *h0,
                                      ptrdiff_t *h1, ptrdiff_t *w0, ptrdiff_t *w1) {
    ptrdiff_t a = oh * g->SH - g->PH, b = a + g->KH;
    ptrdiff_t c = ow * g->SW - g->PW, d = c + g->KW;
    if (b > g->H + g->PH) b = g->H + g->PH;
    if (d > g->W + g->PW) d = g->W + g->PW;
    ptrdiff_t pool = (b - a) * (d - c);
    if (a < 0) a = 0;
    if (c < 0) c = 0;
    if (b > g->H) b = g->H;
    if (d > g->W) d = g->W;
    *h0 = a;
    *h1 = b;
    *w0 = c;
    *w1 = d;
    if (override > 0) return override;
    return include_pad ? pool : (b - a) * (d - c);
}

static void rt_avgpool_plane(const float *x, float *y, const rt_pool_geom *g, int include_pad,
                             ptrdiff_t override) {
    for (ptrdiff_t oh = 0; oh < g->OH; oh++) {
        for (ptrdiff_t ow = 0; ow < g->OW; ow++) {
            ptrdiff_t h0, h1, w0, w1;
            ptrdiff_t div = rt_avg_window(g, oh, ow, include_pad, override, &h0, &h1, &w0, &w1);
            float s = 0.0f;
            if (h0 < h1 && w0 < w1) {
                for (ptrdiff_t ih = h0; ih < h1; ih++)
                    for (ptrdiff_t iw = w0; iw < w1; iw++) s += x[ih * g->W + iw];
                s = s / (float)div;
            }
            y[oh * g->OW + ow] = s;
        }
    }
}

static void rt_avgpool_bwd_plane(const float *gy, float *gx, const rt_pool_geom *g,
                                 int include_pad, ptrdiff_t override) {
    memset(gx, 0, (size_t)(g->H * g->W) * sizeof(float));
    for (ptrdiff_t oh = 0; oh < g->OH; oh++) {
        for (ptrdiff_t ow = 0; ow < g->OW; ow++) {
            ptrdiff_t h0, h1, w0, w1;
            ptrdiff_t div = rt_avg_window(g, oh, ow, include_pad, override, &h0, &h1, &w0, &w1);
            if (h0 >= h1 || w0 >= w1) continue;
            float v = gy[oh * g->OW + ow] / (float)div;
            for (ptrdiff_t ih = h0; ih < h1; ih++)
                for (ptrdiff_t iw = w0; iw < w1; iw++) gx[ih * g->W + iw] += v;
        }
    }
}

/* adaptive average pooling: window [floor(o*I/O), ceil((o+1)*I/O)). */
static void rt_adaptive_avg_plane(const float *x, float *y, ptrdiff_t H, ptrdiff_t W,
                                  ptrdiff_t OH, ptrdiff_t OW) {
    for (ptrdiff_t oh = 0; oh < OH; oh++) {
        ptrdiff_t h0 = (oh * H) / OH, h1 = ((oh + 1) * H + OH - 1) / OH;
        for (ptrdiff_t ow = 0; ow < OW; ow++) {
            ptrdiff_t w0 = (ow * W) / OW, w1 = ((ow + 1) * W + OW - 1) / OW;
            float s = 0.0f;
            for (ptrdiff_t ih = h0; ih < h1; ih++)
                for (ptrdiff_t iw = w0; iw < w1; iw++) s += x[ih * W + iw];
            y[oh * OW + ow] = s / (float)((h1 - h0) * (w1 - w0));
        }
    }
}

static void rt_adaptive_avg_bwd_plane(const float *gy, float *gx, ptrdiff_t H, ptrdiff_t W,
                                      ptrdiff_t OH, ptrdiff_t OW) {
    memset(gx, 0, (size_t)(H * W) * sizeof(float));
    for (ptrdiff_t oh = 0; oh < OH; oh++) {
        ptrdiff_t h0 = (oh * H) / OH, h1 = ((oh + 1) * H + OH - 1) / OH;
        for (ptrdiff_t ow = 0; ow < OW; ow++) {
            ptrdiff_t w0 = (ow * W) / OW, w1 = ((ow + 1) * W + OW - 1) / OW;
            float v = gy[oh * OW + ow] / (float)((h1 - h0) * (w1 - w0));
            for (ptrdiff_t ih = h0; ih < h1; ih++)
                for (ptrdiff_t iw = w0; iw < w1; iw++) gx[ih * W + iw] += v;
        }
    }
}
#endif
