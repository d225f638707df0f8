/* bench_embedding_index: the float index for embeddings, measured at registry sizes.
 *
 *   bench_embedding_index [--sizes N,N,...] [--dim D] [--queries Q] [STRUCTURE[:PARAM=V]...]
 *
 * For each size, N random unit vectors of D dimensions (default: 1k, 100k and 1M of the
 * embedder's 1792) are indexed by each faiss structure (inner product, through the C API's
 * factory; default: Flat, the registry's exact search, and IVF with 16 and 64 lists probed).
 * Queries are near-copies of stored vectors (cosine about 0.85 to their source, as an edited
 * copy's embedding is to its reference), searched one at a time for their 10 nearest. Reports
 * build time, memory, median and p99 latency, and recall: the share of queries whose exact
 * nearest neighbour (from Flat) is among the structure's 10. Random vectors have no clusters
 * for IVF to exploit: the hard case.
 *
 *   bench_embedding_index --registry [--sizes N,...] [--views V] [--queries Q]
 *
 * measures the registry's own search instead, exact against its persisted IVF index
 * (bench_embedding_registry.c); sizes count references, of V views each (default 1). */
#include "bench_embedding_registry.h"
#include "gaussian.h"
#include "stats.h"

#include <faiss/c_api/AutoTune_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/index_factory_c.h>
#include <faiss/c_api/Index_c.h>
#include <malloc.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long state = 0x9e3779b97f4a7c15ull;

static double gaussian(void)
{
	return bench_gaussian(&state);
}

static void unit(float *v, int d)
{
	double n = 0;
	for (int j = 0; j < d; j++)
		n += (double)v[j] * v[j];
	for (int j = 0; j < d; j++)
		v[j] /= (float)sqrt(n);
}

static double heap_mib(void)
{
	const struct mallinfo2 m = mallinfo2();
	return (double)(m.uordblks + m.hblkhd) / (1024.0 * 1024.0);
}

int main(int argc, char **argv)
{
	size_t sizes[8] = { 1000, 100000, 1000000 };
	int n_sizes = 3, d = 1792, nq = 200, given = 0, registry = 0, views = 1;
	const char *structures[8] = { "Flat", "IVF1024,Flat:nprobe=16", "IVF1024,Flat:nprobe=64" };
	int n_structures = 3;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
			n_sizes = 0;
			for (char *p = argv[++i]; *p && n_sizes < 8; p += *p == ',')
				sizes[n_sizes++] = strtoull(p, &p, 10);
		} else if (!strcmp(argv[i], "--dim") && i + 1 < argc) {
			d = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--registry")) {
			registry = 1;
		} else if (!strcmp(argv[i], "--views") && i + 1 < argc) {
			views = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--queries") && i + 1 < argc) {
			nq = atoi(argv[++i]);
		} else if (given < 8) {
			structures[given++] = argv[i];
		}
	}
	if (registry)
		return bench_embedding_registry(sizes, n_sizes, views, nq);
	if (given)
		n_structures = given;
	omp_set_num_threads(1); /* one check, one thread */
	char machine[400];
	bench_machine(machine, sizeof machine);
	printf("bench_embedding_index: %d dimensions, %d queries, 10-NN by inner product, one thread; %s\n\n", d, nq,
	       machine);
	printf("| vectors | structure | build s | MiB | median ms | p99 ms | recall of the exact NN in 10 |\n");
	printf("|--------:|-----------|--------:|----:|----------:|-------:|-----------------------------:|\n");
	for (int z = 0; z < n_sizes; z++) {
		const size_t n = sizes[z];
		float *x = malloc(n * (size_t)d * sizeof(float)), *q = malloc((size_t)nq * d * sizeof(float));
		if (!x || !q) {
			fprintf(stderr, "bench_embedding_index: no memory for %zu vectors\n", n);
			return 1;
		}
		for (size_t i = 0; i < n; i++) {
			for (int j = 0; j < d; j++)
				x[i * d + j] = (float)gaussian();
			unit(x + i * d, d);
		}
		/* q = 0.85 * source + 0.53 * noise, normalised: cosine ~0.85 to the source. */
		for (int i = 0; i < nq; i++) {
			const size_t src = (size_t)(fabs(gaussian()) * 1e9) % n;
			float *v = q + (size_t)i * d;
			for (int j = 0; j < d; j++)
				v[j] = (float)gaussian();
			unit(v, d);
			for (int j = 0; j < d; j++)
				v[j] = 0.85f * x[src * d + j] + 0.527f * v[j];
			unit(v, d);
		}
		/* The truth: each query's nearest neighbour by an exhaustive search. */
		idx_t *exact = malloc(sizeof(idx_t) * (size_t)nq);
		{
			FaissIndex *flat = NULL;
			if (faiss_index_factory(&flat, d, "Flat", METRIC_INNER_PRODUCT) != 0 ||
			    faiss_Index_add(flat, (idx_t)n, x) != 0) {
				fprintf(stderr, "bench_embedding_index: %s\n", faiss_get_last_error());
				return 1;
			}
			for (int i = 0; i < nq; i++) {
				float dist;
				faiss_Index_search(flat, 1, q + (size_t)i * d, 1, &dist, &exact[i]);
			}
			faiss_Index_free(flat);
		}
		for (int s = 0; s < n_structures; s++) {
			char description[64];
			snprintf(description, sizeof description, "%s", structures[s]);
			char *param = strchr(description, ':');
			if (param)
				*param++ = '\0';
			FaissIndex *index = NULL;
			const double mib0 = heap_mib(), t0 = bench_wall_s();
			omp_set_num_threads(2); /* building may use the machine */
			int rc = faiss_index_factory(&index, d, description, METRIC_INNER_PRODUCT);
			if (rc == 0 && !strncmp(description, "IVF", 3))
				rc = faiss_Index_train(index, (idx_t)(n < 100000 ? n : 100000), x);
			if (rc == 0)
				rc = faiss_Index_add(index, (idx_t)n, x);
			omp_set_num_threads(1);
			if (rc == 0 && param) {
				FaissParameterSpace *ps = NULL;
				char name[32];
				double value;
				rc = faiss_ParameterSpace_new(&ps);
				if (rc == 0 && sscanf(param, "%31[^=]=%lf", name, &value) == 2)
					rc = faiss_ParameterSpace_set_index_parameter(ps, index, name, value);
				faiss_ParameterSpace_free(ps);
			}
			if (rc != 0) {
				fprintf(stderr, "bench_embedding_index: %s: %s\n", structures[s], faiss_get_last_error());
				faiss_Index_free(index);
				continue;
			}
			const double build = bench_wall_s() - t0, mib = heap_mib() - mib0;
			double *ms = malloc(sizeof(double) * (size_t)nq);
			int found = 0;
			for (int i = 0; i < nq; i++) {
				float dist[10];
				idx_t labels[10];
				const double t1 = bench_wall_s();
				faiss_Index_search(index, 1, q + (size_t)i * d, 10, dist, labels);
				ms[i] = (bench_wall_s() - t1) * 1e3;
				for (int k = 0; k < 10; k++)
					found += labels[k] == exact[i];
			}
			printf("| %zu | %s | %.1f | %.0f | %.3f | %.3f | %.3f |\n", n, structures[s], build, mib,
			       bench_median(ms, nq), bench_percentile(ms, nq, 0.99), (double)found / nq);
			fflush(stdout);
			free(ms);
			faiss_Index_free(index);
		}
		free(exact);
		free(x);
		free(q);
	}
	return 0;
}
