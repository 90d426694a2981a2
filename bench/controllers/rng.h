/* SPDX-License-Identifier: Apache-2.0 */
/* The simulator's own deterministic PRNG: splitmix64 to seed xoshiro256**,
 * so a (seed, stream) pair gives the same numbers on every machine. */
#ifndef COFFER_BENCH_SIM_RNG_H
#define COFFER_BENCH_SIM_RNG_H

#include <math.h>
#include <stdint.h>

struct sim_rng {
	uint64_t s[4];
};

static inline uint64_t
sim_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Independent streams: the same seed with another stream number gives an
 * unrelated sequence. */
static inline void
sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = sim_splitmix64(&x);
}

static inline uint64_t
sim_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna, 2018) */
static inline uint64_t
sim_rng_next(struct sim_rng *r)
{
	uint64_t *s = r->s, out = sim_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = sim_rotl(s[3], 45);
	return out;
}

/* Uniform in (0, 1): never 0, so log() is safe. */
static inline double
sim_rng_unif(struct sim_rng *r)
{
	return ((double)(sim_rng_next(r) >> 11) + 0.5) / 9007199254740992.0;
}

/* Standard normal (Box-Muller, one value per call for simplicity). */
static inline double
sim_rng_normal(struct sim_rng *r)
{
	double u1 = sim_rng_unif(r), u2 = sim_rng_unif(r);

	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

#endif
