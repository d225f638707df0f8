/* bench_registry: check latency and audit throughput against registries of growing size.
 *
 *   bench_registry [--sizes 1000,100000,1000000] [--queries N] [--images N] [--dir DIR]
 *
 * Each registry holds one character with N synthetic reference hashes (seeded random bits,
 * quality 100), built once under DIR (default /tmp/likeness-bench-registry) and reused. For
 * each size it reports: the time to open (load the record and build the search index); the
 * latency of lk_check_pdq() on precomputed hashes (half of them near-copies of a reference,
 * 8 bits flipped; half random), p50 and p99, on 1 and 2 threads; and the audit throughput of
 * lk_check_file() on 1024x1024 JPEGs (decode + hash + search) on 1 and 2 threads. */
#include "likeness.h"
#include "stats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void random_hash(lk_pdq_hash *h)
{
	for (int i = 0; i < LK_PDQ_BYTES; i += 8) {
		uint64_t r = next_random();
		memcpy(h->bytes + i, &r, 8);
	}
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_registry: %s: %s (%s)\n", what, lk_strerror(rc), lk_error_detail());
	exit(1);
}

static lk_pdq_hash *build(const char *dir, size_t n)
{
	lk_pdq_hash *hashes = malloc(n * sizeof *hashes);
	rng = 0x9e3779b97f4a7c15ull ^ n;
	for (size_t i = 0; i < n; i++)
		random_hash(&hashes[i]);
	struct stat st;
	char db[1100];
	snprintf(db, sizeof db, "%s/registry.db", dir);
	if (stat(db, &st) == 0) {
		lk_registry *old;
		if (lk_registry_open(&old, dir) == LK_OK) {
			lk_registry_close(old);
			return hashes; /* built by an earlier run from the same seed */
		}
		fprintf(stderr, "bench_registry: rebuilding %s (%s)\n", dir, lk_error_detail());
		char cmd[1200];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			exit(1);
	}
	int rc = lk_registry_create(dir);
	if (rc != LK_OK)
		die("create", rc);
	lk_registry *reg;
	if ((rc = lk_registry_open(&reg, dir)) != LK_OK)
		die("open", rc);
	lk_character c;
	memset(&c, 0, sizeof c);
	snprintf(c.slug, sizeof c.slug, "bench");
	snprintf(c.name, sizeof c.name, "Bench");
	c.block_threshold = c.review_threshold = -1;
	c.enabled = 1;
	if ((rc = lk_character_add(reg, &c)) != LK_OK)
		die("character", rc);
	lk_hash_entry *e = malloc(n * sizeof *e);
	for (size_t i = 0; i < n; i++)
		e[i] = (lk_hash_entry){ hashes[i], 100, "bench", NULL };
	const double t0 = bench_wall_s();
	size_t added;
	if ((rc = lk_reference_add_hashes(&added, reg, e, n, NULL)) != LK_OK)
		die("add", rc);
	fprintf(stderr, "bench_registry: built %zu references in %.1f s\n", added, bench_wall_s() - t0);
	free(e);
	lk_registry_close(reg);
	return hashes;
}

struct job {
	lk_registry *reg;
	const lk_pdq_result *queries;
	size_t n;
	double *latency_ms;
	const char *const *images;
	int n_images;
	int blocked;
};

static void *run_queries(void *arg)
{
	struct job *j = arg;
	for (size_t i = 0; i < j->n; i++) {
		lk_check_result r;
		const double t0 = bench_wall_s();
		int rc = lk_check_pdq(&r, j->reg, &j->queries[i]);
		j->latency_ms[i] = (bench_wall_s() - t0) * 1e3;
		if (rc != LK_OK)
			die("check", rc);
		j->blocked += r.verdict == LK_VERDICT_BLOCK;
	}
	return NULL;
}

static void *run_images(void *arg)
{
	struct job *j = arg;
	for (size_t i = 0; i < j->n; i++) {
		lk_check_result r;
		int rc = lk_check_file(&r, j->reg, j->images[i % (size_t)j->n_images], NULL);
		if (rc != LK_OK)
			die("check file", rc);
	}
	return NULL;
}

/* Runs `fn` on `threads` threads sharing `n` items; returns items per second and fills the
 * per-item latencies (when the job records them). */
static double run(void *(*fn)(void *), struct job *base, size_t n, int threads, double *latency_ms)
{
	struct job jobs[2];
	pthread_t t[2];
	const double t0 = bench_wall_s();
	for (int i = 0; i < threads; i++) {
		jobs[i] = *base;
		jobs[i].n = n / (size_t)threads;
		jobs[i].queries = base->queries ? base->queries + (size_t)i * jobs[i].n : NULL;
		jobs[i].latency_ms = latency_ms ? latency_ms + (size_t)i * jobs[i].n : NULL;
		pthread_create(&t[i], NULL, fn, &jobs[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return (double)(n / (size_t)threads * (size_t)threads) / (bench_wall_s() - t0);
}

int main(int argc, char **argv)
{
	size_t sizes[8] = { 1000, 100000, 1000000 };
	int n_sizes = 3;
	size_t n_queries = 2000, n_images = 120;
	const char *dir = "/tmp/likeness-bench-registry";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
			n_sizes = 0;
			for (char *p = strtok(argv[++i], ","); p && n_sizes < 8; p = strtok(NULL, ","))
				sizes[n_sizes++] = strtoull(p, NULL, 10);
		} else if (!strcmp(argv[i], "--queries") && i + 1 < argc) {
			n_queries = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--images") && i + 1 < argc) {
			n_images = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
			dir = argv[++i];
		} else {
			fprintf(stderr, "usage: bench_registry [--sizes N,N,...] [--queries N] [--images N] [--dir DIR]\n");
			return 2;
		}
	}
	if (n_queries < 2 || n_images < 2)
		return 2;
	static char image_paths[3][1024];
	const char *images[3];
	for (int i = 0; i < 3; i++) {
		snprintf(image_paths[i], sizeof image_paths[i], "%s/vectors/pdq/img/bench_b%04d_1024.jpg", LK_SHARED_DIR, i);
		images[i] = image_paths[i];
	}
	mkdir(dir, 0777);
	char machine[400];
	bench_machine(machine, sizeof machine);
	printf("bench_registry: %zu hash queries and %zu 1024x1024 JPEG checks per size; machine: %s\n\n",
	       n_queries, n_images, machine);
	printf("| references | open s | check p50 / p99 ms, 1 thread | 2 threads | queries/s 1t / 2t | audit images/s 1t / 2t |\n");
	printf("|-----------:|-------:|-----------------------------:|----------:|------------------:|-----------------------:|\n");
	for (int s = 0; s < n_sizes; s++) {
		char sub[1024];
		snprintf(sub, sizeof sub, "%s/%zu", dir, sizes[s]);
		lk_pdq_hash *refs = build(sub, sizes[s]);
		const double t0 = bench_wall_s();
		lk_registry *reg;
		int rc = lk_registry_open(&reg, sub);
		if (rc != LK_OK)
			die("open", rc);
		const double open_s = bench_wall_s() - t0;
		lk_pdq_result *q = calloc(n_queries, sizeof *q);
		for (size_t i = 0; i < n_queries; i++) {
			for (int d = 0; d < LK_DIHEDRAL_COUNT; d++)
				random_hash(&q[i].hash[d]);
			q[i].quality = 100;
			if (i % 2 == 0) { /* a near-copy of a reference: 8 bits off */
				q[i].hash[0] = refs[next_random() % sizes[s]];
				for (int b = 0; b < 8; b++)
					q[i].hash[0].bytes[next_random() % LK_PDQ_BYTES] ^= (unsigned char)(1u << (b % 8));
			}
		}
		double *lat = malloc(n_queries * sizeof *lat);
		struct job job = { reg, q, n_queries, NULL, images, 3, 0 };
		run(run_queries, &job, n_queries / 4, 1, lat); /* warm-up */
		const double qps1 = run(run_queries, &job, n_queries, 1, lat);
		const double p50_1 = bench_percentile(lat, (int)n_queries, 0.5), p99_1 = bench_percentile(lat, (int)n_queries, 0.99);
		const double qps2 = run(run_queries, &job, n_queries, 2, lat);
		const double p50_2 = bench_percentile(lat, (int)n_queries, 0.5), p99_2 = bench_percentile(lat, (int)n_queries, 0.99);
		struct job ijob = { reg, NULL, n_images, NULL, images, 3, 0 };
		run(run_images, &ijob, 6, 1, NULL);
		const double ips1 = run(run_images, &ijob, n_images, 1, NULL);
		const double ips2 = run(run_images, &ijob, n_images, 2, NULL);
		printf("| %10zu | %6.2f | %12.3f / %-12.3f | %.3f / %.3f | %7.0f / %-7.0f | %9.0f / %-9.0f |\n", sizes[s],
		       open_s, p50_1, p99_1, p50_2, p99_2, qps1, qps2, ips1, ips2);
		fflush(stdout);
		free(lat);
		free(q);
		free(refs);
		lk_registry_close(reg);
	}
	return 0;
}
