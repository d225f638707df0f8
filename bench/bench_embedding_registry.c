/* bench_embedding_index --registry: the registry's own embedding search, exact against the
 * persisted IVF index (lk_registry_build_index), through the snapshot a check searches.
 *
 * For each size, a registry of N references with V synthetic views each (random unit vectors:
 * no clusters, the hard case for IVF; a reference's views at cosine 0.85 to a common direction)
 * is written, its exact snapshot taken, the index built
 * with default options, and the snapshot that uses it taken. Queries are stored vectors moved
 * to cosine 0.85 (an edited copy), searched for the 64 best as a check does, alternating which
 * snapshot goes first. Recall: the share of queries whose best reference and similarity are
 * exact search's. */
#include "bench_embedding_registry.h"
#include "index/search/search.h"
#include "stats.h"
#include "synthetic_refs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int one_size(size_t n, int views, int nq)
{
	char dir[] = "/tmp/bench_embedding_registry.XXXXXX";
	if (!mkdtemp(dir))
		return -1;
	char path[64], cmd[128];
	snprintf(path, sizeof path, "%s/r", dir);
	lk_registry *reg = NULL;
	lk_character c = { .block_threshold = -1, .review_threshold = -1, .enabled = 1 };
	snprintf(c.slug, sizeof c.slug, "c");
	snprintf(c.name, sizeof c.name, "C");
	float *sources = malloc(sizeof(float) * LK_EMBEDDING_DIM * (size_t)nq);
	lk_embedding *q = malloc(sizeof *q * (size_t)nq);
	double *exact_ms = malloc(sizeof(double) * (size_t)nq), *ivf_ms = malloc(sizeof(double) * (size_t)nq);
	struct snapshot *exact = NULL, *approx = NULL;
	lk_index_info info;
	int rc = -1;
	if (!sources || !q || !exact_ms || !ivf_ms || lk_registry_create(path) || lk_registry_open(&reg, path) ||
	    lk_character_add(reg, &c) || bench_synthetic_fill(reg, "c", n, views, "bench/random", sources, nq))
		goto out;
	double t0 = bench_wall_s();
	if (lk__snapshot_acquire(&exact, reg))
		goto out;
	const double open_exact = bench_wall_s() - t0;
	if (lk_registry_build_index(&info, reg, NULL))
		goto out;
	t0 = bench_wall_s();
	if (lk__snapshot_acquire(&approx, reg) || !approx->emb || !approx->emb->ivf)
		goto out;
	const double open_ivf = bench_wall_s() - t0;
	for (int i = 0; i < nq; i++)
		bench_synthetic_near(&q[i], sources + (size_t)i * LK_EMBEDDING_DIM);
	/* One untimed round first: a server's mapped lists are in memory after its first checks. */
	for (int i = 0; i < nq; i++) {
		float s[64];
		uint32_t r[64];
		lk__emb_search(approx->emb, &q[i], 64, s, r);
		lk__emb_search(exact->emb, &q[i], 64, s, r);
	}
	int same = 0;
	for (int i = 0; i < nq; i++) {
		float s_exact[64], s_ivf[64];
		uint32_t r_exact[64], r_ivf[64];
		int k_exact = 0, k_ivf = 0;
		for (int pass = 0; pass < 2; pass++) {
			const int use_ivf = (pass + i) % 2;
			const double t = bench_wall_s();
			if (use_ivf)
				k_ivf = lk__emb_search(approx->emb, &q[i], 64, s_ivf, r_ivf);
			else
				k_exact = lk__emb_search(exact->emb, &q[i], 64, s_exact, r_exact);
			(use_ivf ? ivf_ms : exact_ms)[i] = (bench_wall_s() - t) * 1e3;
		}
		same += k_exact > 0 && k_ivf > 0 && exact->refs[r_exact[0]].id == approx->refs[r_ivf[0]].id &&
			fabsf(s_exact[0] - s_ivf[0]) < 1e-5f;
	}
	printf("| %zu | %zu | %.3f / %.3f | IVF%d, nprobe %d | %.3f / %.3f | %.3f | %.3f | %.1f | %.2f / %.2f |\n", n,
	       n * (size_t)views, bench_median(exact_ms, nq), bench_percentile(exact_ms, nq, 0.99), info.nlist,
	       info.nprobe, bench_median(ivf_ms, nq), bench_percentile(ivf_ms, nq, 0.99), (double)same / nq,
	       (double)info.recall, info.build_seconds, open_exact, open_ivf);
	fflush(stdout);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "bench_embedding_index --registry: %zu references: %s\n", n, lk_error_detail());
	lk__snapshot_release(exact);
	lk__snapshot_release(approx);
	lk_registry_close(reg);
	free(sources);
	free(q);
	free(exact_ms);
	free(ivf_ms);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_embedding_index: could not remove %s\n", dir);
	return rc;
}

int bench_embedding_registry(const size_t *sizes, int n_sizes, int views, int nq)
{
	char machine[400];
	bench_machine(machine, sizeof machine);
	printf("bench_embedding_index --registry: %d view(s) a reference, %d queries, 64 best, one thread; %s\n\n",
	       views, nq, machine);
	printf("| references | vectors | exact median / p99 ms | index | IVF median / p99 ms | recall | recall at build "
	       "| build s | snapshot s exact / IVF |\n");
	printf("|---:|---:|---:|---|---:|---:|---:|---:|---:|\n");
	int rc = 0;
	for (int z = 0; z < n_sizes; z++)
		rc |= one_size(sizes[z], views, nq);
	return rc ? 1 : 0;
}
