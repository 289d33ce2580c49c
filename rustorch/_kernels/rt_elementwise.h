/* Row kernels for elementwise ops. A "row" is n elements; each operand has an element stride
 * (0 = broadcast scalar, 1 = contiguous). The N-d driver in elementwise.pyx splits a tensor into
 * rows and calls one of these per row, so the per-op switch sits outside the inner loop and the
 * contiguous / scalar cases compile to plain vectorisable loops.
 */
#ifndef RT_ELEMENTWISE_H
#define RT_ELEMENTWISE_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "rt_math.h"

typedef struct {
    int op;
    float f0, f1;
    int64_t i0, i1;
} rt_ctx;

typedef void (*rt_row_fn)(const rt_ctx *ctx, const char *a, ptrdiff_t sa, const char *b,
                          ptrdiff_t sb, const char *c, ptrdiff_t sc, char *o, ptrdiff_t n);

enum {
    RT_ADD = 0, RT_SUB, RT_MUL, RT_DIV, RT_POW, RT_MAXIMUM, RT_MINIMUM,
    RT_RELU_BWD, RT_SIGMOID_BWD, RT_TANH_BWD, RT_LT_MASK, RT_LE_MASK, RT_SIGN_MUL, RT_ADD_SCALED,
    RT_REM, RT_FLOORDIV, RT_SOFTPLUS_BWD
};
enum { RT_EQ = 0, RT_NE, RT_LT, RT_LE, RT_GT, RT_GE };
enum {
    RT_NEG = 0, RT_EXP, RT_LOG, RT_SQRT, RT_ABS, RT_TANH, RT_SIGMOID, RT_RELU, RT_CLAMP,
    RT_POW_SCALAR, RT_RPOW_SCALAR, RT_COPY, RT_SCALE, RT_FILL, RT_SIGN, RT_RECIPROCAL, RT_SIN, RT_COS,
    RT_LOG1P, RT_EXPM1, RT_LOG2, RT_LOG10, RT_FLOOR, RT_CEIL, RT_ROUND, RT_TRUNC, RT_FRAC,
    RT_TAN, RT_ASIN, RT_ACOS, RT_ATAN, RT_SINH, RT_COSH, RT_ERF, RT_SOFTPLUS
};
/* float32 -> bool classification (rt_cls_f32) */
enum { RT_ISNAN = 0, RT_ISINF, RT_ISFINITE };

/* One loop body, four stride patterns: the common ones are unit-stride or broadcast. */
#define RT_LOOP2(T, TO, EXPR)                                                          \
    do {                                                                               \
        const T *A = (const T *)a; const T *B = (const T *)b; TO *O = (TO *)o;         \
        if (sa == 1 && sb == 1) {                                                      \
            for (ptrdiff_t i = 0; i < n; i++) { T x = A[i]; T y = B[i]; O[i] = (EXPR); } \
        } else if (sa == 1 && sb == 0) {                                               \
            T y = B[0];                                                                \
            for (ptrdiff_t i = 0; i < n; i++) { T x = A[i]; O[i] = (EXPR); }           \
        } else if (sa == 0 && sb == 1) {                                               \
            T x = A[0];                                                                \
            for (ptrdiff_t i = 0; i < n; i++) { T y = B[i]; O[i] = (EXPR); }           \
        } else {                                                                       \
            for (ptrdiff_t i = 0; i < n; i++) {                                        \
                T x = A[i * sa]; T y = B[i * sb]; O[i] = (EXPR);                       \
            }                                                                          \
        }                                                                              \
    } while (0)

#define RT_LOOP1(T, TO, EXPR)                                                          \
    do {                                                                               \
        const T *A = (const T *)a; TO *O = (TO *)o;                                    \
        if (sa == 1) {                                                                 \
            for (ptrdiff_t i = 0; i < n; i++) { T x = A[i]; O[i] = (EXPR); }           \
        } else {                                                                       \
            for (ptrdiff_t i = 0; i < n; i++) { T x = A[i * sa]; O[i] = (EXPR); }      \
        }                                                                              \
    } while (0)

static inline float rt_powi_f(float x, float p) {
    /* torch special-cases these exponents; matching them keeps results bit-equal. */
    if (p == 2.0f) return x * x;
    if (p == 3.0f) return x * x * x;
    if (p == 1.0f) return x;
    if (p == 0.5f) return sqrtf(x);
    if (p == -1.0f) return 1.0f / x;
    if (p == -2.0f) return 1.0f / (x * x);
    if (p == -0.5f) return 1.0f / sqrtf(x);
    return powf(x, p);
}

static inline float rt_clampf(float x, float lo, float hi) {
    float v = x < lo ? lo : x;
    return v > hi ? hi : v;
}
static inline int64_t rt_clampi(int64_t x, int has_lo, int64_t lo, int has_hi, int64_t hi) {
    int64_t v = (has_lo && x < lo) ? lo : x;
    return (has_hi && v > hi) ? hi : v;
}

/* Python/torch semantics: the remainder takes the divisor's sign; the caller rejects b == 0. */
static inline int64_t rt_irem(int64_t a, int64_t b) {
    if (b == -1) return 0;
    int64_t r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
static inline int64_t rt_ifloordiv(int64_t a, int64_t b) {
    if (b == -1) return (int64_t)(0 - (uint64_t)a);
    int64_t q = a / b, r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? q - 1 : q;
}
/* torch's div_floor for floats: consistent with rt_frem (a == b * q + rem). */
static inline float rt_ffloordiv(float a, float b) {
    if (b == 0.0f) return a / b;
    float mod = fmodf(a, b);
    float div = (a - mod) / b;
    if (mod != 0.0f && ((b < 0.0f) != (mod < 0.0f))) div -= 1.0f;
    float fl;
    if (div != 0.0f) {
        fl = floorf(div);
        if (div - fl > 0.5f) fl += 1.0f;
    } else {
        fl = copysignf(0.0f, a / b);
    }
    return fl;
}

static inline float rt_frem(float a, float b) {
    float r = fmodf(a, b);
    return (r != 0.0f && ((r < 0.0f) != (b < 0.0f))) ? r + b : r;
}

static inline int64_t rt_ipow(int64_t base, int64_t e) {
    int64_t r = 1;
    while (e > 0) {
        if (e & 1) r *= base;
        base *= base;
        e >>= 1;
    }
    return r;
}

/* torch: beta * x > threshold ? x : log1p(exp(beta * x)) / beta */
static inline float rt_softplusf(float x, float beta, float thr) {
    float bx = x * beta;
    float s = rt_log1pf(rt_expf(bx)) / beta;
    return bx > thr ? x : s;
}
static inline float rt_softplus_bwd(float g, float x, float beta, float thr) {
    float bx = x * beta;
    float z = rt_expf(bx);
    float s = g * z / (z + 1.0f);
    return bx > thr ? g : s;
}

static void rt_bin_f32(const rt_ctx *ctx, const char *a, ptrdiff_t sa, const char *b, ptrdiff_t sb,
                       const char *c, ptrdiff_t sc, char *o, ptrdiff_t n) {
    (void)c; (void)sc;
    switch (ctx->op) {
    case RT_ADD: RT_LOOP2(float, float, x + y); break;
    case RT_SUB: RT_LOOP2(float, float, x - y); break;
    case RT_MUL: RT_LOOP2(float, float, x * y); break;
    case RT_DIV: RT_LOOP2(float, float, x / y); break;
    case RT_POW:
        if (sb == 0) { float p = *(const float *)b; RT_LOOP1(float, float, rt_powi_f(x, p)); }
        else RT_LOOP2(float, float, powf(x, y));
        break;
    case RT_MAXIMUM: RT_LOOP2(float, float, (x > y || x != x) ? x : y); break;
    case RT_MINIMUM: RT_LOOP2(float, float, (x < y || x != x) ? x : y); break;
    /* backward helpers: x = incoming gradient, y = saved tensor */
    case RT_RELU_BWD: RT_LOOP2(float, float, y > 0.0f ? x : 0.0f); break;
    case RT_SIGMOID_BWD: RT_LOOP2(float, float, x * (1.0f - y) * y); break;
    case RT_TANH_BWD: RT_LOOP2(float, float, x * (1.0f - y * y)); break;
    case RT_SIGN_MUL:
        RT_LOOP2(float, float, y > 0.0f ? x : (y < 0.0f ? -x : 0.0f));
        break;
    case RT_ADD_SCALED: { float s = ctx->f0; RT_LOOP2(float, float, x + s * y); } break;
    case RT_REM: RT_LOOP2(float, float, rt_frem(x, y)); break;
    case RT_FLOORDIV: RT_LOOP2(float, float, rt_ffloordiv(x, y)); break;
    case RT_SOFTPLUS_BWD: {
        /* x = gradient, y = saved input; f0 = beta, f1 = threshold (torch's formula) */
        float beta = ctx->f0, thr = ctx->f1;
        RT_LOOP2(float, float, rt_softplus_bwd(x, y, beta, thr));
    } break;
    default: break;
    }
}

static void rt_bin_i64(const rt_ctx *ctx, const char *a, ptrdiff_t sa, const char *b, ptrdiff_t sb,
                       const char *c, ptrdiff_t sc, char *o, ptrdiff_t n) {
    (void)c; (void)sc;
    switch (ctx->op) {
    case RT_ADD: RT_LOOP2(int64_t, int64_t, x + y); break;
    case RT_SUB: RT_LOOP2(int64_t, int64_t, x - y); break;
    case RT_MUL: RT_LOOP2(int64_t, int64_t, x * y); break;
    case RT_POW: RT_LOOP2(int64_t, int64_t, rt_ipow(x, y)); break;
    case RT_MAXIMUM: RT_LOOP2(int64_t, int64_t, x > y ? x : y); break;
    case RT_MINIMUM: RT_LOOP2(int64_t, int64_t, x < y ? x : y); break;
    case RT_REM: RT_LOOP2(int64_t, int64_t, rt_irem(x, y)); break;
    case RT_FLOORDIV: RT_LOOP2(int64_t, int64_t, rt_ifloordiv(x, y)); break;
    default: break;
    }
}

/* bool arithmetic in torch: add = logical or, mul = logical and */
static void rt_bin_u8(const rt_ctx *ctx, const char *a, ptrdiff_t sa, const char *b, ptrdiff_t sb,
                      const char *c, ptrdiff_t sc, char *o, ptrdiff_t n) {
    (void)c; (void)sc;
    switch (ctx->op) {
    case RT_ADD: case RT_MAXIMUM: RT_LOOP2(uint8_t, uint8_t, (uint8_t)(x | y)); break;
    case RT_MUL: case RT_MINIMUM: RT_LOOP2(uint8_t, uint8_t, (uint8_t)(x & y)); break;
    default: break;
    }
}

#define RT_CMP_BODY(T)                                                   \
    switch (ctx->op) {                                                   \
    case RT_EQ: RT_LOOP2(T, uint8_t, x == y); break;                     \
    case RT_NE: RT_LOOP2(T, uint8_t, x != y); break;                     \
    case RT_LT: RT_LOOP2(T, uint8_t, x < y); break;                      \
    case RT_LE: RT_LOOP2(T, uint8_t, x <= y); break;                     \
    case RT_GT: RT_LOOP2(T, uint8_t, x > y); break;                      \
    case RT_GE: RT_LOOP2(T, uint8_t, x >= y); break;                     \
    default: break;                                                      \
    }

static void rt_cmp_f32(const rt_ctx *ctx, const char *a, ptrdiff_t sa, const char *b, ptrdiff_t sb,
                       const char *c, ptrdiff_t sc, char *o, ptrdiff_t n) {
    (void)c; (void)sc;
    RT_CMP_BODY(float)
}
static void rt_cmp_i64(const rt_ctx *ctx, const char *a, ptrdiff_t sa, const char *b, ptrdiff_t sb,
                       const char *c, ptrdiff_t sc, char *o, ptrdiff_t n) {
    (void)c; (void)sc;
    RT_CMP_BODY(int64_t)
}
static void rt_cmp_u8(const rt_ctx *ctx, const char *a, ptrdiff_t sa, const char *b, ptrdiff_t sb,
                      const char *c, ptrdiff_t sc, char *o, ptrdiff_t n) {
    (void)c; (void)sc;
    RT_CMP_BODY(uint8_t)
}

static void rt_un_f32(const rt_ctx *ctx, const char *a, ptrdiff_t sa, const char *b, ptrdiff_t sb,
                      const char *c, ptrdiff_t sc, char *o, ptrdiff_t n) {
    (void)b; (void)sb; (void)c; (void)sc;
    float lo = ctx->f0, hi = ctx->f1;
    switch (ctx->op) {
    case RT_NEG: RT_LOOP1(float, float, -x); break;
    case RT_EXP: RT_LOOP1(float, float, rt_expf(x)); break;
    case RT_LOG: RT_LOOP1(float, float, rt_logf(x)); break;
    case RT_SQRT: RT_LOOP1(float, float, sqrtf(x)); break;
    case RT_ABS: RT_LOOP1(float, float, fabsf(x)); break;
    case RT_TANH: RT_LOOP1(float, float, rt_tanhf(x)); break;
    case RT_SIGMOID: RT_LOOP1(float, float, rt_sigmoidf(x)); break;
    case RT_RELU: RT_LOOP1(float, float, x < 0.0f ? 0.0f : x); break;
    case RT_CLAMP: {
        int has_lo = (int)ctx->i0, has_hi = (int)ctx->i1;
        if (has_lo && has_hi) {
            RT_LOOP1(float, float, rt_clampf(x, lo, hi));
        } else if (has_lo) {
            RT_LOOP1(float, float, x < lo ? lo : x);
        } else {
            RT_LOOP1(float, float, x > hi ? hi : x);
        }
    } break;
    case RT_POW_SCALAR: {
        float p = lo;
        if (p == 2.0f) RT_LOOP1(float, float, x * x);
        else RT_LOOP1(float, float, rt_powi_f(x, p));
    } break;
    case RT_RPOW_SCALAR: RT_LOOP1(float, float, powf(lo, x)); break;
    case RT_COPY: RT_LOOP1(float, float, x); break;
    case RT_SCALE: RT_LOOP1(float, float, x * lo); break;
    case RT_FILL: RT_LOOP1(float, float, lo); break;
    case RT_SIGN: RT_LOOP1(float, float, x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f)); break;
    case RT_RECIPROCAL: RT_LOOP1(float, float, 1.0f / x); break;
    case RT_SIN: RT_LOOP1(float, float, sinf(x)); break;
    case RT_COS: RT_LOOP1(float, float, cosf(x)); break;
    case RT_LOG1P: RT_LOOP1(float, float, rt_log1pf(x)); break;
    case RT_EXPM1: RT_LOOP1(float, float, rt_expm1f(x)); break;
    case RT_LOG2: RT_LOOP1(float, float, rt_log2f(x)); break;
    case RT_LOG10: RT_LOOP1(float, float, rt_log10f(x)); break;
    case RT_FLOOR: RT_LOOP1(float, float, floorf(x)); break;
    case RT_CEIL: RT_LOOP1(float, float, ceilf(x)); break;
    /* rintf in the default rounding mode: halfway cases to even, like torch.round */
    case RT_ROUND: RT_LOOP1(float, float, rintf(x)); break;
    case RT_TRUNC: RT_LOOP1(float, float, truncf(x)); break;
    case RT_FRAC: RT_LOOP1(float, float, x - truncf(x)); break;
    case RT_TAN: RT_LOOP1(float, float, tanf(x)); break;
    case RT_ASIN: RT_LOOP1(float, float, asinf(x)); break;
    case RT_ACOS: RT_LOOP1(float, float, acosf(x)); break;
    case RT_ATAN: RT_LOOP1(float, float, atanf(x)); break;
    case RT_SINH: RT_LOOP1(float, float, sinhf(x)); break;
    case RT_COSH: RT_LOOP1(float, float, coshf(x)); break;
    case RT_ERF: RT_LOOP1(float, float, erff(x)); break;
    case RT_SOFTPLUS: RT_LOOP1(float, float, rt_softplusf(x, lo, hi)); break;
    default: break;
    }
}

static void rt_un_i64(const rt_ctx *ctx, const char *a, ptrdiff_t sa, const char *b, ptrdiff_t sb,
                      const char *c, ptrdiff_t sc, char *o, ptrdiff_t n) {
    (void)b; (void)sb; (void)c; (void)sc;
    int64_t lo = ctx->i0, hi = ctx->i1;
    switch (ctx->op) {
    case RT_NEG: RT_LOOP1(int64_t, int64_t, -x); break;
    case RT_ABS: RT_LOOP1(int64_t, int64_t, x < 0 ? -x : x); break;
    case RT_RELU: RT_LOOP1(int64_t, int64_t, x < 0 ? 0 : x); break;
    case RT_COPY: RT_LOOP1(int64_t, int64_t, x); break;
    case RT_FILL: RT_LOOP1(int64_t, int64_t, lo); break;
    case RT_SIGN: RT_LOOP1(int64_t, int64_t, (x > 0) - (x < 0)); break;
    case RT_CLAMP: {
        int has_lo = (int)(ctx->f0 != 0.0f), has_hi = (int)(ctx->f1 != 0.0f);
        RT_LOOP1(int64_t, int64_t, rt_clampi(x, has_lo, lo, has_hi, hi));
    } break;
    case RT_POW_SCALAR: RT_LOOP1(int64_t, int64_t, rt_ipow(x, lo)); break;
    default: break;
    }
}

/* float32 -> bool classification: isnan / isinf / isfinite */
static void rt_cls_f32(const rt_ctx *ctx, const char *a, ptrdiff_t sa, const char *b, ptrdiff_t sb,
                       const char *c, ptrdiff_t sc, char *o, ptrdiff_t n) {
    (void)b; (void)sb; (void)c; (void)sc;
    switch (ctx->op) {
    case RT_ISNAN: RT_LOOP1(float, uint8_t, (uint8_t)(x != x)); break;
    case RT_ISINF: RT_LOOP1(float, uint8_t, (uint8_t)(fabsf(x) == __builtin_inff())); break;
    case RT_ISFINITE: RT_LOOP1(float, uint8_t, (uint8_t)(fabsf(x) < __builtin_inff())); break;
    default: break;
    }
}

/* Plain strided copy by element size: gathers for transpose/permute/expand/slicing. */
#define RT_COPY_FN(NAME, T)                                                                   \
    static void NAME(const rt_ctx *ctx, const char *a, ptrdiff_t sa, const char *b, ptrdiff_t sb, \
                     const char *c, ptrdiff_t sc, char *o, ptrdiff_t n) {                     \
        (void)ctx; (void)b; (void)sb; (void)c; (void)sc;                                      \
        RT_LOOP1(T, T, x);                                                                    \
    }
RT_COPY_FN(rt_copy_1, uint8_t)
RT_COPY_FN(rt_copy_4, uint32_t)
RT_COPY_FN(rt_copy_8, uint64_t)

/* where(cond, a, b): the condition is operand c. */
#define RT_WHERE_FN(NAME, T)                                                                  \
    static void NAME(const rt_ctx *ctx, const char *a, ptrdiff_t sa, const char *b, ptrdiff_t sb, \
                     const char *c, ptrdiff_t sc, char *o, ptrdiff_t n) {                     \
        (void)ctx;                                                                            \
        const T *A = (const T *)a; const T *B = (const T *)b; const uint8_t *C = (const uint8_t *)c; \
        T *O = (T *)o;                                                                        \
        if (sa == 1 && sb == 1 && sc == 1) {                                                  \
            for (ptrdiff_t i = 0; i < n; i++) O[i] = C[i] ? A[i] : B[i];                      \
        } else {                                                                              \
            for (ptrdiff_t i = 0; i < n; i++) O[i] = C[i * sc] ? A[i * sa] : B[i * sb];       \
        }                                                                                     \
    }
RT_WHERE_FN(rt_where_1, uint8_t)
RT_WHERE_FN(rt_where_4, uint32_t)
RT_WHERE_FN(rt_where_8, uint64_t)

/* dtype casts; ctx->op encodes nothing, the function is chosen by (src, dst). */
#define RT_CAST_FN(NAME, TS, TD, EXPR)                                                        \
    static void NAME(const rt_ctx *ctx, const char *a, ptrdiff_t sa, const char *b, ptrdiff_t sb, \
                     const char *c, ptrdiff_t sc, char *o, ptrdiff_t n) {                     \
        (void)ctx; (void)b; (void)sb; (void)c; (void)sc;                                      \
        RT_LOOP1(TS, TD, EXPR);                                                               \
    }
RT_CAST_FN(rt_cast_f32_i64, float, int64_t, (x != x || x >= 9.2233720368547758e18f || x < -9.2233720368547758e18f) ? INT64_MIN : (int64_t)x)
RT_CAST_FN(rt_cast_f32_u8, float, uint8_t, x != 0.0f)
RT_CAST_FN(rt_cast_i64_f32, int64_t, float, (float)x)
RT_CAST_FN(rt_cast_i64_u8, int64_t, uint8_t, x != 0)
RT_CAST_FN(rt_cast_u8_f32, uint8_t, float, (float)(x != 0))
RT_CAST_FN(rt_cast_u8_i64, uint8_t, int64_t, (int64_t)(x != 0))
RT_CAST_FN(rt_not_u8, uint8_t, uint8_t, (uint8_t)(x == 0))

#endif
