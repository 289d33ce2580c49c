/* im2col / col2im for one (image, channel) plane, and the per-batch weight-gradient reduction.
 *
 * A plane is H x W contiguous floats. Its column block is KH*KW rows of L = OH*OW floats: row
 * (ki, kj) holds x[oh*SH - PH + ki*DH, ow*SW - PW + kj*DW] (0 outside the image). For each row
 * the range of ow that reads inside the image is computed once, so the inner loops are plain
 * copies (unit stride for SW == 1) with zero-filled borders.
 */
#ifndef RT_CONV_H
#define RT_CONV_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "rt_simd.h"

typedef struct {
    ptrdiff_t H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW;
} rt_conv_geom;

/* [lo, hi): the ow whose input column ow*S + off lies in [0, W). */
static inline void rt_conv_range(ptrdiff_t off, ptrdiff_t S, ptrdiff_t W, ptrdiff_t OW,
                                 ptrdiff_t *lo, ptrdiff_t *hi) {
    ptrdiff_t a = 0, b;
    if (off < 0) a = (-off + S - 1) / S;
    if (W - 1 - off < 0) b = 0;
    else b = (W - 1 - off) / S + 1;
    if (a > OW) a = OW;
    if (b > OW) b = OW;
    if (b < a) b = a;
    *lo = a;
    *hi = b;
}

/* Rows are short (OW floats), so the copies are inline loops rather than memcpy/memset calls:
 * the call overhead per row would cost more than the copy. */
/* Stride 1 with OW == W (e.g. 3x3, padding 1): a tap's block is the plane shifted by a fixed
 * offset, so it is one long copy over the in-image rows plus zeroed border columns/rows.
 * [*i0, *i1) is the range of block positions whose source x[i + off] lies in the plane. */
static inline int rt_conv_flat(const rt_conv_geom *g) {
    return g->SH == 1 && g->SW == 1 && g->OW == g->W;
}

static inline void rt_conv_flat_range(const rt_conv_geom *g, ptrdiff_t ki, ptrdiff_t kj,
                                      ptrdiff_t *off, ptrdiff_t *i0, ptrdiff_t *i1) {
    const ptrdiff_t W = g->W, hoff = ki * g->DH - g->PH;
    ptrdiff_t oh0 = hoff < 0 ? -hoff : 0, oh1 = g->H - hoff;
    if (oh1 > g->OH) oh1 = g->OH;
    if (oh1 < oh0) oh1 = oh0;
    *off = hoff * W + kj * g->DW - g->PW;
    ptrdiff_t a = oh0 * W, b = oh1 * W;
    if (a < -*off) a = -*off;
    if (b > g->H * W - *off) b = g->H * W - *off;
    if (b < a) b = a;
    *i0 = a;
    *i1 = b;
}

static void rt_im2col_plane_flat(const float *x, float *col, const rt_conv_geom *g) {
    const ptrdiff_t L = g->OH * g->OW, OW = g->OW;
    for (ptrdiff_t ki = 0; ki < g->KH; ki++) {
        for (ptrdiff_t kj = 0; kj < g->KW; kj++) {
            float *dst = col + (ki * g->KW + kj) * L;
            ptrdiff_t off, i0, i1, lo, hi;
            rt_conv_flat_range(g, ki, kj, &off, &i0, &i1);
            rt_conv_range(kj * g->DW - g->PW, 1, g->W, OW, &lo, &hi);
            for (ptrdiff_t i = 0; i < i0; i++) dst[i] = 0.0f;
            const float *s = x + off;
            for (ptrdiff_t i = i0; i < i1; i++) dst[i] = s[i];
            for (ptrdiff_t i = i1; i < L; i++) dst[i] = 0.0f;
            if (lo > 0 || hi < OW) /* columns that wrapped into the neighbouring row */
                for (ptrdiff_t oh = 0; oh < g->OH; oh++) {
                    float *d = dst + oh * OW;
                    for (ptrdiff_t ow = 0; ow < lo; ow++) d[ow] = 0.0f;
                    for (ptrdiff_t ow = hi; ow < OW; ow++) d[ow] = 0.0f;
                }
        }
    }
}

/* col2im counterpart; col is a temporary, so its wrapped-column entries are zeroed in place
 * and the long add then leaves the neighbouring rows unchanged. */
static void rt_col2im_plane_flat(float *col, float *x, const rt_conv_geom *g) {
    const ptrdiff_t L = g->OH * g->OW, OW = g->OW;
    for (ptrdiff_t i = 0; i < g->H * g->W; i++) x[i] = 0.0f;
    for (ptrdiff_t ki = 0; ki < g->KH; ki++) {
        for (ptrdiff_t kj = 0; kj < g->KW; kj++) {
            float *src = col + (ki * g->KW + kj) * L;
            ptrdiff_t off, i0, i1, lo, hi;
            rt_conv_flat_range(g, ki, kj, &off, &i0, &i1);
            rt_conv_range(kj * g->DW - g->PW, 1, g->W, OW, &lo, &hi);
            if (lo > 0 || hi < OW)
                for (ptrdiff_t oh = 0; oh < g->OH; oh++) {
                    float *d = src + oh * OW;
                    for (ptrdiff_t ow = 0; ow < lo; ow++) d[ow] = 0.0f;
                    for (ptrdiff_t ow = hi; ow < OW; ow++) d[ow] = 0.0f;
                }
            float *d = x + off;
            for (ptrdiff_t i = i0; i < i1; i++) d[i] += src[i];
        }
    }
}

static void rt_im2col_plane(const float *x, float *col, const rt_conv_geom *g) {
    const ptrdiff_t L = g->OH * g->OW, OW = g->OW, SW = g->SW;
    if (rt_conv_flat(g)) {
        rt_im2col_plane_flat(x, col, g);
        return;
    }
    for (ptrdiff_t ki = 0; ki < g->KH; ki++) {
        for (ptrdiff_t kj = 0; kj < g->KW; kj++) {
            float *dst = col + (ki * g->KW + kj) * L;
            const ptrdiff_t woff = kj * g->DW - g->PW;
            ptrdiff_t lo, hi;
            rt_conv_range(woff, SW, g->W, OW, &lo, &hi);
            for (ptrdiff_t oh = 0; oh < g->OH; oh++) {
                float *d = dst + oh * OW;
                const ptrdiff_t ih = oh * g->SH - g->PH + ki * g->DH;
                if (ih < 0 || ih >= g->H) {
                    for (ptrdiff_t ow = 0; ow < OW; ow++) d[ow] = 0.0f;
                    continue;
                }
                const float *s = x + ih * g->W + woff;
                for (ptrdiff_t ow = 0; ow < lo; ow++) d[ow] = 0.0f;
                if (SW == 1) {
                    for (ptrdiff_t ow = lo; ow < hi; ow++) d[ow] = s[ow];
                } else if (SW == 2) {
                    for (ptrdiff_t ow = lo; ow < hi; ow++) d[ow] = s[2 * ow];
                } else {
                    for (ptrdiff_t ow = lo; ow < hi; ow++) d[ow] = s[ow * SW];
                }
                for (ptrdiff_t ow = hi; ow < OW; ow++) d[ow] = 0.0f;
            }
        }
    }
}

/* x (the plane, zeroed here first) = sum over the KH*KW rows of col scattered back (col is
 * a scratch buffer: the flat path zeroes some of its entries). */
static void rt_col2im_plane(float *col, float *x, const rt_conv_geom *g) {
    const ptrdiff_t L = g->OH * g->OW, OW = g->OW, SW = g->SW;
    if (rt_conv_flat(g)) {
        rt_col2im_plane_flat(col, x, g);
        return;
    }
    for (ptrdiff_t i = 0; i < g->H * g->W; i++) x[i] = 0.0f;
    for (ptrdiff_t ki = 0; ki < g->KH; ki++) {
        for (ptrdiff_t kj = 0; kj < g->KW; kj++) {
            const float *src = col + (ki * g->KW + kj) * L;
            const ptrdiff_t woff = kj * g->DW - g->PW;
            ptrdiff_t lo, hi;
            rt_conv_range(woff, SW, g->W, OW, &lo, &hi);
            for (ptrdiff_t oh = 0; oh < g->OH; oh++) {
                const ptrdiff_t ih = oh * g->SH - g->PH + ki * g->DH;
                if (ih < 0 || ih >= g->H) continue;
                const float *s = src + oh * OW;
                float *d = x + ih * g->W + woff;
                if (SW == 1) {
                    for (ptrdiff_t ow = lo; ow < hi; ow++) d[ow] += s[ow];
                } else {
                    for (ptrdiff_t ow = lo; ow < hi; ow++) d[ow * SW] += s[ow];
                }
            }
        }
    }
}

static inline void rt_fill_f32(float *p, ptrdiff_t n, float v) {
    for (ptrdiff_t i = 0; i < n; i++) p[i] = v;
}

/* Weight gradient fold. The per-image GEMMs produce partT[n*G + g] = col[n, g] @ dout[n, g]^T,
 * a (Kp x OCg) block (this orientation packs better than dout @ col^T). Row k of group g:
 * gw[g*OCg + m, k] = sum_n partT[n*G + g, k, m] for k < K, and the bias gradient from row
 * k == K when Kp == K + 1. The sum over images runs in a fixed order. */
static void rt_wgrad_rows(const float *partT, ptrdiff_t N, ptrdiff_t G, ptrdiff_t OCg,
                          ptrdiff_t Kp, ptrdiff_t K, ptrdiff_t g, ptrdiff_t k, float *gw,
                          float *gb) {
    float acc[256];
    for (ptrdiff_t m0 = 0; m0 < OCg; m0 += 256) {
        const ptrdiff_t len = OCg - m0 < 256 ? OCg - m0 : 256;
        const float *p = partT + (g * Kp + k) * OCg + m0;
        for (ptrdiff_t m = 0; m < len; m++) acc[m] = p[m];
        for (ptrdiff_t n = 1; n < N; n++) {
            const float *q = p + n * G * Kp * OCg;
            for (ptrdiff_t m = 0; m < len; m++) acc[m] += q[m];
        }
        if (k < K) {
            for (ptrdiff_t m = 0; m < len; m++) gw[(g * OCg + m0 + m) * K + k] = acc[m];
        } else if (gb) {
            for (ptrdiff_t m = 0; m < len; m++) gb[g * OCg + m0 + m] = acc[m];
        }
    }
}

/* gb[c] = sum over n and l of g (N, C, L), in a fixed order */
static void rt_bias_grad(const float *g, float *gb, ptrdiff_t N, ptrdiff_t C, ptrdiff_t L,
                         ptrdiff_t c) {
    double s = 0.0;
    for (ptrdiff_t n = 0; n < N; n++) s += rt_vsum(g + (n * C + c) * L, L);
    gb[c] = (float)s;
}
#endif
