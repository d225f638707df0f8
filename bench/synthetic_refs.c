/* Synthetic embedded references (synthetic_refs.h): random directions, no clusters, the hard
 * case for an IVF index. */
#include "synthetic_refs.h"
#include "index/search/search.h"
#include "gaussian.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long state = 0x853c49e6748fea9bull;

void bench_synthetic_unit(float *v)
{
	double n = 0;
	for (int j = 0; j < LK_EMBEDDING_DIM; j++) {
		v[j] = (float)bench_gaussian(&state);
		n += (double)v[j] * v[j];
	}
	for (int j = 0; j < LK_EMBEDDING_DIM; j++)
		v[j] = (float)(v[j] / sqrt(n));
}

/* v = unit(0.85 dir + 0.527 random): cosine 0.85 to dir, about 0.72 between two such. */
static void near_unit(float *v, const float *dir)
{
	bench_synthetic_unit(v);
	double n = 0;
	for (int j = 0; j < LK_EMBEDDING_DIM; j++) {
		v[j] = 0.85f * dir[j] + 0.527f * v[j];
		n += (double)v[j] * v[j];
	}
	for (int j = 0; j < LK_EMBEDDING_DIM; j++)
		v[j] = (float)(v[j] / sqrt(n));
}

int bench_synthetic_fill(lk_registry *reg, const char *slug, size_t n, int views, const char *embedder_id,
			 float *sources, int keep)
{
	enum { BATCH = 2000 };
	const size_t per = (size_t)views * LK_EMBEDDING_DIM;
	float *batch = malloc(sizeof(float) * per * BATCH);
	if (!batch)
		return -1;
	for (size_t done = 0; done < n; done += BATCH) {
		const size_t m = n - done < BATCH ? n - done : BATCH;
		float base[LK_EMBEDDING_DIM];
		for (size_t i = 0; i < m; i++) {
			bench_synthetic_unit(base);
			for (int k = 0; k < views; k++) {
				float *v = batch + (i * (size_t)views + (size_t)k) * LK_EMBEDDING_DIM;
				if (views == 1)
					memcpy(v, base, sizeof base);
				else
					near_unit(v, base);
			}
		}
		for (size_t i = 0; keep > 0 && i < m; i++) {
			const size_t r = done + i, stride = n / (size_t)keep ? n / (size_t)keep : 1;
			if (r % stride == 0 && r / stride < (size_t)keep)
				memcpy(sources + (r / stride) * LK_EMBEDDING_DIM, batch + i * per, sizeof(float) * LK_EMBEDDING_DIM);
		}
		if (lk__reference_add_embedded(NULL, reg, slug, batch, m, views, embedder_id) != LK_OK) {
			free(batch);
			return -1;
		}
	}
	free(batch);
	return 0;
}

void bench_synthetic_near(lk_embedding *q, const float *src)
{
	near_unit(q->v, src);
}
