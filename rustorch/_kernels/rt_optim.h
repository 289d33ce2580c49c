/* Fused optimizer update loops (SGD, Adam/AdamW) for rustorch/_kernels/optim.pyx.
 *
 * torch's CPU kernels are compiled with FMA on AVX2/AVX-512 machines, and the compiler fuses
 * `a + alpha * b` (add with alpha, addcmul, lerp) into one fused multiply-add. To reproduce
 * torch's rounding, the loops are compiled twice from rt_optim_body.h: a generic version with
 * separately rounded multiply and add, and (GCC/Clang on x86-64) a version with
 * target("avx2,fma") whose RT_FMA is a real fused multiply-add; optim.pyx picks one at run time
 * from the CPU's features (and RUSTORCH_ISA).
 */
#ifndef RT_OPTIM_H
#define RT_OPTIM_H
#include <math.h>
#include <stddef.h>

typedef struct {
    float *p;
    const float *g;
    float *buf;
    float wd, mom, damp1, neg_lr; /* damp1 = 1 - dampening, neg_lr = -lr */
    int has_wd, has_mom, nesterov, maximize, first;
} rt_sgd_args;

typedef struct {
    float *p;
    const float *g;
    float *m, *v, *vmax;
    float w1, beta2, omb2, wd, decay, bc2_sqrt, eps, neg_step;
    int has_wd, decoupled, amsgrad, maximize;
} rt_adam_args;

#if defined(__GNUC__) || defined(__clang__)
#define RT_ALWAYS_INLINE static inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define RT_ALWAYS_INLINE static __forceinline
#else
#define RT_ALWAYS_INLINE static inline
#endif

/* Only the fused multiply-adds written as RT_FMA may fuse: GCC's default -ffp-contract=fast
 * would also fuse e.g. `p * decay` into the later `p + step`, which torch rounds separately.
 * (Clang fuses only within one expression, which RT_FMA already spells out.) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

#define RT_NAME(x) rt_##x##_generic
#define RT_ATTR
#define RT_FMA(a, b, c) ((a) * (b) + (c))
#include "rt_optim_body.h"
#undef RT_NAME
#undef RT_ATTR
#undef RT_FMA

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define RT_HAVE_FMA_PATH 1
#define RT_NAME(x) rt_##x##_fma
#define RT_ATTR __attribute__((target("avx2,fma")))
#define RT_FMA(a, b, c) __builtin_fmaf((a), (b), (c))
#include "rt_optim_body.h"
#undef RT_NAME
#undef RT_ATTR
#undef RT_FMA
#else
#define RT_HAVE_FMA_PATH 0
#define rt_sgd_fma rt_sgd_generic
#define rt_adam_fma rt_adam_generic
#endif

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

static void rt_sgd(const rt_sgd_args *a, ptrdiff_t lo, ptrdiff_t hi, int fma) {
    if (fma) rt_sgd_fma(a, lo, hi);
    else rt_sgd_generic(a, lo, hi);
}

static void rt_adam(const rt_adam_args *a, ptrdiff_t lo, ptrdiff_t hi, int fma) {
    if (fma) rt_adam_fma(a, lo, hi);
    else rt_adam_generic(a, lo, hi);
}

#endif
