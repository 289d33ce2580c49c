/* The counter-based hash behind rustorch's generator: element i of a draw is
 * rt_mix(seed, offset + i) (a splitmix64 finaliser keyed by the seed, two rounds). Shared by
 * random.pyx and dropout.pyx so a dropout mask equals rand(n) >= p from the same counters. */
#ifndef RT_RANDOM_H
#define RT_RANDOM_H
#include <stdint.h>

static inline uint64_t rt_mix(uint64_t seed, uint64_t ctr) {
    uint64_t z = seed * 0x9E3779B97F4A7C15ULL + ctr * 0xD1B54A32D192ED03ULL + 0x632BE59BD9B4E019ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z = z ^ (z >> 31);
    z = (z + seed) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
#endif
