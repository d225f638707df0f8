/* bench_binary_index: which faiss binary index the registry should search, measured.
 *
 *   bench_binary_index [--size N] [--queries Q] [--radius R] [STRUCTURE[:EFFORT]...]
 *
 * Builds each structure (default: BFlat, BHash16x16 with 0 to 2 flips, BIVF1024 probing 16 and
 * 64 lists; EFFORT is the flips or probes) through the
 * factory the registry uses over N random 256-bit codes, then runs radius-R searches (R = 55,
 * the default review radius, as a check does) one query at a time for Q near-copies of stored
 * codes at 8, 16, 31, 45 and 55 flipped bits. Reports build time, memory, the recall of the
 * true code at each distance and the median latency. Random codes are the hard case for hash
 * structures: every bucket is as full as it can be. (faiss 1.7.3's BHNSW has no radius search,
 * which the registry needs to find every reference within a threshold.) */
#include "index/search/faiss_c_gaps.h"
#include "stats.h"

#include <faiss/c_api/error_c.h>
#include <faiss/c_api/IndexBinary_c.h>
#include <faiss/c_api/impl/AuxIndexStructures_c.h>
#include <malloc.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long state = 88172645463325252ull;

static unsigned long long next_random(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

/* Heap in use, so a structure's size is what it holds, whatever the allocator kept mapped. */
static double heap_mib(void)
{
	const struct mallinfo2 m = mallinfo2();
	return (double)(m.uordblks + m.hblkhd) / (1024.0 * 1024.0);
}

/* A copy of stored code `i` with exactly `flips` distinct bits flipped. */
static void near_copy(unsigned char *q, const unsigned char *codes, size_t i, int flips)
{
	memcpy(q, codes + i * 32, 32);
	unsigned char flipped[256] = { 0 };
	for (int k = 0; k < flips;) {
		const int b = (int)(next_random() % 256);
		if (!flipped[b]) {
			flipped[b] = 1;
			q[b / 8] ^= (unsigned char)(1u << (b % 8));
			k++;
		}
	}
}

int main(int argc, char **argv)
{
	size_t n = 1000000, nq = 300;
	int radius = 55;
	const char *structures[16] = { "BFlat",	   "BHash16x16:0", "BHash16x16:1",
				       "BHash16x16:2", "BIVF1024:16",  "BIVF1024:64" };
	int n_structures = 6, given = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--size") && i + 1 < argc)
			n = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--queries") && i + 1 < argc)
			nq = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--radius") && i + 1 < argc)
			radius = atoi(argv[++i]);
		else if (given < 16)
			structures[given++] = argv[i];
	}
	if (given)
		n_structures = given;
	if (!n || !nq) {
		fprintf(stderr, "bench_binary_index: --size and --queries must be positive\n");
		return 2;
	}
	omp_set_num_threads(1); /* one check, one thread: as the registry searches */
	unsigned char *codes = malloc(n * 32), *q = malloc(32);
	double *ms = malloc(nq * 5 * sizeof *ms);
	if (!codes || !q || !ms)
		return 1;
	for (size_t i = 0; i < n * 32; i += 8) {
		const unsigned long long r = next_random();
		memcpy(codes + i, &r, 8);
	}
	static const int flips[] = { 8, 16, 31, 45, 55 };
	char machine[400];
	bench_machine(machine, sizeof machine);
	printf("bench_binary_index: %zu random codes, radius %d, %zu queries per distance, one thread; %s\n\n", n,
	       radius, nq, machine);
	printf("| structure | build s | MiB | recall at 8 / 16 / 31 / 45 / 55 bits | median ms | p99 ms |\n");
	printf("|-----------|--------:|----:|---------------------------------------|----------:|-------:|\n");
	for (int s = 0; s < n_structures; s++) {
		char description[64];
		snprintf(description, sizeof description, "%s", structures[s]);
		char *colon = strchr(description, ':');
		const int effort = colon ? atoi(colon + 1) : -1;
		if (colon)
			*colon = '\0';
		FaissIndexBinary *index;
		const double mib0 = heap_mib();
		if (faiss_index_binary_factory(&index, 256, description) != 0 ||
		    (effort >= 0 && lk__faiss_binary_set_search_effort(index, effort) != 0)) {
			fprintf(stderr, "bench_binary_index: %s: %s\n", structures[s], faiss_get_last_error());
			continue;
		}
		const double t0 = bench_wall_s();
		if (faiss_IndexBinary_train(index, (idx_t)(n < 100000 ? n : 100000), codes) != 0 ||
		    faiss_IndexBinary_add(index, (idx_t)n, codes) != 0) {
			fprintf(stderr, "bench_binary_index: %s: %s\n", structures[s], faiss_get_last_error());
			faiss_IndexBinary_free(index);
			continue;
		}
		const double build = bench_wall_s() - t0, mib = heap_mib() - mib0;
		double recall[5];
		int failed = 0;
		for (int f = 0; f < 5 && !failed; f++) {
			size_t hit = 0;
			for (size_t i = 0; i < nq && !failed; i++) {
				const size_t truth = next_random() % n;
				near_copy(q, codes, truth, flips[f]);
				FaissRangeSearchResult *res;
				const double t1 = bench_wall_s();
				/* faiss keeps binary distances strictly below the radius it is given. */
				if (faiss_RangeSearchResult_new(&res, 1) != 0 ||
				    faiss_IndexBinary_range_search(index, 1, q, radius + 1, res) != 0) {
					fprintf(stderr, "bench_binary_index: %s: %s\n", structures[s], faiss_get_last_error());
					failed = 1;
					break;
				}
				ms[(size_t)f * nq + i] = (bench_wall_s() - t1) * 1e3;
				size_t *lims;
				idx_t *labels;
				float *distances;
				faiss_RangeSearchResult_lims(res, &lims);
				faiss_RangeSearchResult_labels(res, &labels, &distances);
				for (size_t k = lims[0]; k < lims[1]; k++)
					if (labels[k] == (idx_t)truth) {
						hit++;
						break;
					}
				faiss_RangeSearchResult_free(res);
			}
			recall[f] = (double)hit / (double)nq;
		}
		faiss_IndexBinary_free(index);
		if (failed)
			continue;
		const double median = bench_median(ms, (int)(nq * 5));
		const double p99 = bench_percentile(ms, (int)(nq * 5), 0.99);
		printf("| %-12s | %7.1f | %4.0f | %.3f / %.3f / %.3f / %.3f / %.3f | %9.3f | %6.3f |\n", structures[s], build,
		       mib, recall[0], recall[1], recall[2], recall[3], recall[4], median, p99);
		fflush(stdout);
	}
	free(codes);
	free(q);
	free(ms);
	return 0;
}
