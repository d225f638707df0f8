/* Synthetic embedded references for the registry benches: a registry's search at sizes no CNN
 * run could fill in reasonable time (bench_embedding_registry.c, bench_speed_registry.c). */
#ifndef LK_BENCH_SYNTHETIC_REFS_H
#define LK_BENCH_SYNTHETIC_REFS_H

#include "likeness.h"

#include <stddef.h>

/* A random unit vector of LK_EMBEDDING_DIM floats (one seeded stream per process, so a run is
 * repeatable). */
void bench_synthetic_unit(float *v);

/* Adds n references to character `slug` with `views` vectors each, claimed for `embedder_id`
 * (a real embedder's id lets checks by that embedder search them), in batches of one
 * transaction. A reference's views are one random direction, each moved to cosine 0.85 from
 * it, as crops and mirrors of one picture are related. When keep > 0, the first view of every
 * (n / keep)-th reference is copied into sources[0..keep) as a query source. 0, or -1 on failure
 * (lk_error_detail() says why). */
int bench_synthetic_fill(lk_registry *reg, const char *slug, size_t n, int views, const char *embedder_id,
			 float *sources, int keep);

/* *q = src moved to cosine 0.85 (an edited copy). */
void bench_synthetic_near(lk_embedding *q, const float *src);

#endif
