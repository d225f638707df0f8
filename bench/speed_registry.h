/* bench_speed, part 2: what a check costs as the registry grows. */
#ifndef LK_BENCH_SPEED_REGISTRY_H
#define LK_BENCH_SPEED_REGISTRY_H

#include "likeness.h"
#include "speed_images.h"

#include <stddef.h>
#include <stdio.h>

/* Sizes from which the IVF index is measured beside exact search. */
#define SPEED_IVF_FROM 10000

/* For each size, prints a Markdown table row per search (and a line to `tsv` when not NULL):
 * lk_check_pixels latency of the images, `rounds` times each, one thread; the IVF index too
 * for sizes from SPEED_IVF_FROM up to ivf_max. Returns 0, or 1 when a size failed (said on
 * stderr; the next sizes still run). */
int speed_registry_sizes(const size_t *sizes, int n_sizes, lk_embedder *e, const struct speed_image *imgs,
			 int n_images, int rounds, size_t ivf_max, FILE *tsv);

#endif
