/* Reproducible random numbers for the synthetic vectors of the index benches. */
#ifndef LK_BENCH_GAUSSIAN_H
#define LK_BENCH_GAUSSIAN_H

/* A standard normal deviate (Box-Muller on xorshift64* uniforms); *state is the generator's,
 * any nonzero seed. */
double bench_gaussian(unsigned long long *state);

#endif
