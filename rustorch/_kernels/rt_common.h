/* Shared C helpers for rustorch kernels: thread count, CPU feature detection. */
#ifndef RT_COMMON_H
#define RT_COMMON_H
#include <stddef.h>
#include <stdint.h>

#if RUSTORCH_OPENMP
#include <omp.h>
static int rt_omp_max_threads(void) { return omp_get_max_threads(); }
#else
static int rt_omp_max_threads(void) { return 1; }
#endif

/* 1 when the CPU and OS support the level: 0 baseline, 1 avx2+fma, 2 avx512f/bw/dq/vl. */
static int rt_cpu_supports(int level) {
    if (level == 0) return 1;
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    if (level == 1)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (level == 2)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("fma");
#endif
    return 0;
}
#endif
