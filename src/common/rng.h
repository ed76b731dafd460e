/* A small seeded generator (splitmix64 to seed xoshiro256**): the same seed
 * gives the same stream on every platform, which the model's reproducibility
 * and the generators rely on. */
#ifndef GR_COMMON_RNG_H
#define GR_COMMON_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct gr_rng {
  uint64_t s[4];
} gr_rng;

static inline uint64_t gr_splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline void gr_rng_seed(gr_rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++)
    r->s[i] = gr_splitmix64(&seed);
}

static inline uint64_t gr_rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t gr_rng_next(gr_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = gr_rotl64(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = gr_rotl64(s[3], 45);
  return result;
}

/* Uniform in [0, 1). */
static inline double gr_rng_uniform(gr_rng *r) {
  return (double)(gr_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, n), n > 0 (Lemire's multiply-shift, tiny bias ok). */
static inline uint64_t gr_rng_below(gr_rng *r, uint64_t n) {
  return (uint64_t)(((unsigned __int128)gr_rng_next(r) * n) >> 64);
}

/* Standard normal by Box-Muller. */
static inline double gr_rng_normal(gr_rng *r) {
  double u1 = gr_rng_uniform(r), u2 = gr_rng_uniform(r);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* An independent stream for sub-task i of a seed (used to parallelize
 * generation without making results depend on the thread count). */
static inline void gr_rng_seed_stream(gr_rng *r, uint64_t seed, uint64_t stream) {
  uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL + 0x2545f4914f6cdd1dULL);
  gr_rng_seed(r, gr_splitmix64(&x));
}

#endif
