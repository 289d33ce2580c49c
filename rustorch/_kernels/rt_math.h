/* Branch-free float32 transcendental functions that gcc/clang auto-vectorise.
 *
 * libm's expf/logf are scalar calls that block vectorisation of the loops that use them, so the
 * hot unary kernels use these Cephes-derived versions instead (max error about 1 ulp over the
 * float range; NaN, +-inf, 0 and subnormals handled like libm).
 */
#ifndef RT_MATH_H
#define RT_MATH_H
#include <stdint.h>
#include <string.h>

static inline float rt_bits_to_f(int32_t i) { float f; memcpy(&f, &i, 4); return f; }
static inline int32_t rt_f_to_bits(float f) { int32_t i; memcpy(&i, &f, 4); return i; }

/* exp for x already clamped to [-104, 89] (no NaN): exp(x) = 2^n * exp(r), |r| <= ln2/2. */
static inline float rt_expf_core(float xc) {
    float t = xc * 1.44269504088896341f + 12582912.0f;
    float n = t - 12582912.0f;
    int32_t ni = (int32_t)n;
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500E-4f;
    p = p * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    float y = p * r * r + r + 1.0f;
    int32_t n1 = ni >> 1;
    int32_t n2 = ni - n1;
    y = y * rt_bits_to_f((n1 + 127) << 23);
    return y * rt_bits_to_f((n2 + 127) << 23);
}

static inline float rt_clamp_exp_arg(float x) {
    /* NaN becomes 0 here (float->int of NaN is undefined in C); callers select NaN back. */
    float c = x > 89.0f ? 89.0f : x;
    c = c < -104.0f ? -104.0f : c;
    return x != x ? 0.0f : c;
}

static inline float rt_expf(float x) {
    float y = rt_expf_core(rt_clamp_exp_arg(x));
    return x != x ? x : y;
}

/* Cephes logf's reduction x = 2^e * (1 + m), sqrt(1/2) <= 1 + m < sqrt(2), and its polynomial
 * part p(m) * m^3; logf, log2f and log10f scale the pieces with their own split constants (so
 * exact powers of two give e exactly). */
static inline float rt_log_core(float x, float *fe, float *mm, float *zz) {
    int sub = x < 1.17549435e-38f;
    float xs = sub ? x * 8388608.0f : x;
    int32_t ix = rt_f_to_bits(xs);
    int32_t e = ((ix >> 23) & 0xff) - 126 - (sub ? 23 : 0);
    float m = rt_bits_to_f((ix & 0x007fffff) | 0x3f000000); /* [0.5, 1) */
    int small = m < 0.707106781186547524f;
    e = small ? e - 1 : e;
    m = small ? m + m - 1.0f : m - 1.0f;
    float z = m * m;
    float y = 7.0376836292E-2f;
    y = y * m - 1.1514610310E-1f;
    y = y * m + 1.1676998740E-1f;
    y = y * m - 1.2420140846E-1f;
    y = y * m + 1.4249322787E-1f;
    y = y * m - 1.6668057665E-1f;
    y = y * m + 2.0000714765E-1f;
    y = y * m - 2.4999993993E-1f;
    y = y * m + 3.3333331174E-1f;
    *fe = (float)e;
    *mm = m;
    *zz = z;
    return y * m * z;
}

static inline float rt_log_special(float x, float r) {
    r = x == 0.0f ? -__builtin_inff() : r;
    r = x < 0.0f ? __builtin_nanf("") : r;
    r = x == __builtin_inff() ? x : r;
    return x != x ? x : r;
}

static inline float rt_logf(float x) {
    float fe, m, z;
    float y = rt_log_core(x, &fe, &m, &z);
    y = y + fe * -2.12194440e-4f;
    y = y - 0.5f * z;
    float r = m + y;
    r = r + fe * 0.693359375f;
    return rt_log_special(x, r);
}

static inline float rt_tanhf(float x) {
    float ax = __builtin_fabsf(x);
    float z = x * x;
    float ps = -5.70498872745E-3f;
    ps = ps * z + 2.06390887954E-2f;
    ps = ps * z - 5.37397155531E-2f;
    ps = ps * z + 1.33314422036E-1f;
    ps = ps * z - 3.33332819422E-1f;
    float small = ps * z * x + x;
    float t = rt_expf_core(2.0f * (ax > 10.0f ? 10.0f : ax));
    float big = __builtin_copysignf(1.0f - 2.0f / (t + 1.0f), x);
    float r = ax < 0.625f ? small : big;
    return x != x ? x : r;
}

static inline float rt_sigmoidf(float x) {
    float y = 1.0f / (1.0f + rt_expf_core(rt_clamp_exp_arg(-x)));
    return x != x ? x : y;
}
/* expm1: exp(x) - 1 = 2^n * (1 + y) - 1 with y = expm1(r), |r| <= ln2/2 (the expf polynomial).
 * For n <= 24, 2^n * y + (2^n - 1) keeps full accuracy for small |x| (n = 0: the result is y
 * itself; 2^n - 1 is exact for -24 <= n <= 24 and within half an ulp of the result below);
 * beyond that (1 + y) * 2^n - 1 loses nothing. x < -20 gives -1 (exp(x) < ulp(1) / 4). */
static inline float rt_expm1f(float x) {
    float c = x > 89.0f ? 89.0f : x;
    c = c < -20.0f ? -20.0f : c;
    c = x != x ? 0.0f : c;
    float t = c * 1.44269504088896341f + 12582912.0f;
    float n = t - 12582912.0f;
    int32_t ni = (int32_t)n;
    float r = c - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500E-4f;
    p = p * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    float y = p * r * r + r;
    int32_t nc = ni > 24 ? 24 : ni; /* c >= -20 keeps n >= -29 */
    float s = rt_bits_to_f((nc + 127) << 23);
    float near = s * y + (s - 1.0f);
    int32_t n1 = ni >> 1;
    int32_t n2 = ni - n1;
    float far = (1.0f + y) * rt_bits_to_f((n1 + 127) << 23) * rt_bits_to_f((n2 + 127) << 23);
    far = far - 1.0f;
    float res = ni > 24 ? far : near;
    /* x == 0 keeps the sign of zero; NaN stays NaN */
    return (x != x || x == 0.0f) ? x : res;
}

/* log1p: u = 1 + x rounded, then log(u) corrected by the rounding error of u:
 * log1p(x) = log(u) - ((u - 1) - x) / u (Goldberg), so tiny |x| keep full accuracy. */
static inline float rt_log1pf(float x) {
    float u = 1.0f + x;
    float lu = rt_logf(u);
    float corr = ((u - 1.0f) - x) / (u == 0.0f ? 1.0f : u);
    float r = lu - corr;
    r = u == 1.0f ? x : r;                 /* |x| < 2^-25 (and -0): log1p(x) == x */
    r = x == __builtin_inff() ? x : r;
    r = u == 0.0f ? -__builtin_inff() : r; /* x == -1 */
    r = x < -1.0f ? __builtin_nanf("") : r;
    return x != x ? x : r;
}

/* log2 / log10: the polynomial part f = log(1 + m) - m from rt_log_core. */
static inline void rt_log_reduce(float x, float *fe, float *mm, float *ff) {
    float z;
    float y = rt_log_core(x, fe, mm, &z);
    *ff = y - 0.5f * z;
}

static inline float rt_log2f(float x) {
    float e, m, y;
    rt_log_reduce(x, &e, &m, &y);
    float z = y * 0.44269504088896340736f;  /* log2(e) - 1 */
    z += m * 0.44269504088896340736f;
    z += y;
    z += m;
    z += e;
    return rt_log_special(x, z);
}

static inline float rt_log10f(float x) {
    float e, m, y;
    rt_log_reduce(x, &e, &m, &y);
    float z = y * 7.00731903251827651129E-4f;  /* log10(e) = 4.3359375E-1 + 7.0073e-4 */
    z += m * 7.00731903251827651129E-4f;
    z += e * 2.48745663981195213739E-4f;    /* log10(2) = 3.0078125E-1 + 2.4875e-4 */
    z += y * 4.3359375E-1f;
    z += m * 4.3359375E-1f;
    z += e * 3.0078125E-1f;
    return rt_log_special(x, z);
}
#endif
