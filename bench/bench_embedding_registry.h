/* The --registry mode of bench_embedding_index (bench_embedding_registry.c). */
#ifndef LK_BENCH_EMBEDDING_REGISTRY_H
#define LK_BENCH_EMBEDDING_REGISTRY_H

#include <stddef.h>

/* Prints one table row per size; returns 0, or 1 when a size failed (reported on stderr). */
int bench_embedding_registry(const size_t *sizes, int n_sizes, int views, int nq);

#endif
