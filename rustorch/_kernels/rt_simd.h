/* Explicit 16-float vectors for the NN kernels' reductions (sums, dot products, maxima).
 *
 * gcc's auto-vectoriser handles the "16 independent lanes" idiom well in a plain function, but
 * once such a loop is inlined into an OpenMP-outlined region it sometimes vectorises the wrong
 * loop (strided loads and scalar adds, 3-4x slower). GNU vector extensions make the intended
 * code explicit: a 64-byte vector type that the compiler lowers to one AVX-512 register, two
 * AVX2 registers or four SSE registers, depending on the module's ISA flags. Compilers without
 * the extension (MSVC) get the plain lane loops. The horizontal sum adds lanes in a fixed
 * order, so results depend only on the input, not on the thread count.
 */
#ifndef RT_SIMD_H
#define RT_SIMD_H
#include <stddef.h>
#include <string.h>

#define RT_VW 16

#if defined(__GNUC__) || defined(__clang__)
#define RT_HAVE_VEC 1
#if defined(__GNUC__) && !defined(__clang__)
/* the helpers are static inline, so the by-value vector ABI note gcc gives without AVX-512
 * flags does not apply */
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
typedef float rt_vf __attribute__((vector_size(64)));
static inline rt_vf rt_vload(const float *p) {
    rt_vf v;
    memcpy(&v, p, sizeof(v));
    return v;
}
static inline void rt_vstore(float *p, rt_vf v) { memcpy(p, &v, sizeof(v)); }
static inline rt_vf rt_vset1(float a) {
    rt_vf v = {a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a};
    return v;
}
static inline float rt_vhsum(rt_vf v) {
    float s = 0.0f;
    for (int j = 0; j < RT_VW; j++) s += v[j];
    return s;
}
#else
#define RT_HAVE_VEC 0
#endif

/* sum of x[0..n) */
static inline float rt_vsum(const float *x, ptrdiff_t n) {
    ptrdiff_t i = 0;
    float s = 0.0f;
#if RT_HAVE_VEC
    rt_vf a0 = rt_vset1(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (; i + 4 * RT_VW <= n; i += 4 * RT_VW) {
        a0 += rt_vload(x + i);
        a1 += rt_vload(x + i + RT_VW);
        a2 += rt_vload(x + i + 2 * RT_VW);
        a3 += rt_vload(x + i + 3 * RT_VW);
    }
    for (; i + RT_VW <= n; i += RT_VW) a0 += rt_vload(x + i);
    s = rt_vhsum((a0 + a1) + (a2 + a3));
#else
    float acc[RT_VW] = {0};
    for (; i + RT_VW <= n; i += RT_VW)
        for (int j = 0; j < RT_VW; j++) acc[j] += x[i + j];
    for (int j = 0; j < RT_VW; j++) s += acc[j];
#endif
    for (; i < n; i++) s += x[i];
    return s;
}

/* sum of (x - k): with k close to the mean, the sum keeps the data's own precision even
 * when the mean is large relative to the spread */
static inline float rt_vsumdev(const float *x, ptrdiff_t n, float k) {
    ptrdiff_t i = 0;
    float s = 0.0f;
#if RT_HAVE_VEC
    const rt_vf vk = rt_vset1(k);
    rt_vf a0 = rt_vset1(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (; i + 4 * RT_VW <= n; i += 4 * RT_VW) {
        a0 += rt_vload(x + i) - vk;
        a1 += rt_vload(x + i + RT_VW) - vk;
        a2 += rt_vload(x + i + 2 * RT_VW) - vk;
        a3 += rt_vload(x + i + 3 * RT_VW) - vk;
    }
    for (; i + RT_VW <= n; i += RT_VW) a0 += rt_vload(x + i) - vk;
    s = rt_vhsum((a0 + a1) + (a2 + a3));
#else
    float acc[RT_VW] = {0};
    for (; i + RT_VW <= n; i += RT_VW)
        for (int j = 0; j < RT_VW; j++) acc[j] += x[i + j] - k;
    for (int j = 0; j < RT_VW; j++) s += acc[j];
#endif
    for (; i < n; i++) s += x[i] - k;
    return s;
}

/* sum of (x - m)^2 */
static inline float rt_vsqdev(const float *x, ptrdiff_t n, float m) {
    ptrdiff_t i = 0;
    float s = 0.0f;
#if RT_HAVE_VEC
    const rt_vf vm = rt_vset1(m);
    rt_vf a0 = rt_vset1(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (; i + 4 * RT_VW <= n; i += 4 * RT_VW) {
        rt_vf d0 = rt_vload(x + i) - vm, d1 = rt_vload(x + i + RT_VW) - vm;
        rt_vf d2 = rt_vload(x + i + 2 * RT_VW) - vm, d3 = rt_vload(x + i + 3 * RT_VW) - vm;
        a0 += d0 * d0;
        a1 += d1 * d1;
        a2 += d2 * d2;
        a3 += d3 * d3;
    }
    for (; i + RT_VW <= n; i += RT_VW) {
        rt_vf d = rt_vload(x + i) - vm;
        a0 += d * d;
    }
    s = rt_vhsum((a0 + a1) + (a2 + a3));
#else
    float acc[RT_VW] = {0};
    for (; i + RT_VW <= n; i += RT_VW)
        for (int j = 0; j < RT_VW; j++) {
            float d = x[i + j] - m;
            acc[j] += d * d;
        }
    for (int j = 0; j < RT_VW; j++) s += acc[j];
#endif
    for (; i < n; i++) {
        float d = x[i] - m;
        s += d * d;
    }
    return s;
}

/* *sg = sum g, *sgd = sum g * (x - m) */
static inline void rt_vgsums(const float *g, const float *x, ptrdiff_t n, float m, float *sg,
                             float *sgd) {
    ptrdiff_t i = 0;
    float s1 = 0.0f, s2 = 0.0f;
#if RT_HAVE_VEC
    const rt_vf vm = rt_vset1(m);
    rt_vf a0 = rt_vset1(0.0f), a1 = a0, b0 = a0, b1 = a0;
    for (; i + 2 * RT_VW <= n; i += 2 * RT_VW) {
        rt_vf g0 = rt_vload(g + i), g1 = rt_vload(g + i + RT_VW);
        a0 += g0;
        a1 += g1;
        b0 += g0 * (rt_vload(x + i) - vm);
        b1 += g1 * (rt_vload(x + i + RT_VW) - vm);
    }
    for (; i + RT_VW <= n; i += RT_VW) {
        rt_vf g0 = rt_vload(g + i);
        a0 += g0;
        b0 += g0 * (rt_vload(x + i) - vm);
    }
    s1 = rt_vhsum(a0 + a1);
    s2 = rt_vhsum(b0 + b1);
#else
    float a[RT_VW] = {0}, b[RT_VW] = {0};
    for (; i + RT_VW <= n; i += RT_VW)
        for (int j = 0; j < RT_VW; j++) {
            a[j] += g[i + j];
            b[j] += g[i + j] * (x[i + j] - m);
        }
    for (int j = 0; j < RT_VW; j++) {
        s1 += a[j];
        s2 += b[j];
    }
#endif
    for (; i < n; i++) {
        s1 += g[i];
        s2 += g[i] * (x[i] - m);
    }
    *sg = s1;
    *sgd = s2;
}

/* sum of a * b */
static inline float rt_vdot(const float *a, const float *b, ptrdiff_t n) {
    ptrdiff_t i = 0;
    float s = 0.0f;
#if RT_HAVE_VEC
    rt_vf a0 = rt_vset1(0.0f), a1 = a0;
    for (; i + 2 * RT_VW <= n; i += 2 * RT_VW) {
        a0 += rt_vload(a + i) * rt_vload(b + i);
        a1 += rt_vload(a + i + RT_VW) * rt_vload(b + i + RT_VW);
    }
    for (; i + RT_VW <= n; i += RT_VW) a0 += rt_vload(a + i) * rt_vload(b + i);
    s = rt_vhsum(a0 + a1);
#else
    float acc[RT_VW] = {0};
    for (; i + RT_VW <= n; i += RT_VW)
        for (int j = 0; j < RT_VW; j++) acc[j] += a[i + j] * b[i + j];
    for (int j = 0; j < RT_VW; j++) s += acc[j];
#endif
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}
/* max of x[0..n) (n >= 1) where a NaN anywhere makes the result NaN */
static inline float rt_vmax(const float *x, ptrdiff_t n) {
    ptrdiff_t i = 0;
    float m = x[0];
#if RT_HAVE_VEC
    typedef int rt_vmask __attribute__((vector_size(64)));
    if (n >= 2 * RT_VW) {
        rt_vf a0 = rt_vload(x), a1 = rt_vload(x + RT_VW);
        for (i = 2 * RT_VW; i + 2 * RT_VW <= n; i += 2 * RT_VW) {
            rt_vf v0 = rt_vload(x + i), v1 = rt_vload(x + i + RT_VW);
            rt_vmask t0 = (v0 > a0) | (v0 != v0), t1 = (v1 > a1) | (v1 != v1);
            a0 = (rt_vf)((t0 & (rt_vmask)v0) | (~t0 & (rt_vmask)a0));
            a1 = (rt_vf)((t1 & (rt_vmask)v1) | (~t1 & (rt_vmask)a1));
        }
        for (int j = 0; j < RT_VW; j++) {
            float v = a0[j];
            m = (v > m || v != v) ? v : m;
            v = a1[j];
            m = (v > m || v != v) ? v : m;
        }
    }
#endif
    for (; i < n; i++) {
        float v = x[i];
        m = (v > m || v != v) ? v : m;
    }
    return m;
}

/* sum of w * (x - m) */
static inline float rt_vdotdev(const float *w, const float *x, ptrdiff_t n, float m) {
    ptrdiff_t i = 0;
    float s = 0.0f;
#if RT_HAVE_VEC
    const rt_vf vm = rt_vset1(m);
    rt_vf a0 = rt_vset1(0.0f), a1 = a0;
    for (; i + 2 * RT_VW <= n; i += 2 * RT_VW) {
        a0 += rt_vload(w + i) * (rt_vload(x + i) - vm);
        a1 += rt_vload(w + i + RT_VW) * (rt_vload(x + i + RT_VW) - vm);
    }
    for (; i + RT_VW <= n; i += RT_VW) a0 += rt_vload(w + i) * (rt_vload(x + i) - vm);
    s = rt_vhsum(a0 + a1);
#else
    float acc[RT_VW] = {0};
    for (; i + RT_VW <= n; i += RT_VW)
        for (int j = 0; j < RT_VW; j++) acc[j] += w[i + j] * (x[i + j] - m);
    for (int j = 0; j < RT_VW; j++) s += acc[j];
#endif
    for (; i < n; i++) s += w[i] * (x[i] - m);
    return s;
}
#endif
