/* bench_binary_index: which faiss binary index the registry should search, measured.
 *
 *   bench_binary_index [--size N] [--queries Q] [STRUCTURE...]
 *
 * Builds each structure (default: BFlat, BHash16x16, BHash32x8, BHNSW32 through the factory
 * the registry uses) over N random 256-bit codes, then asks for the 8 nearest neighbours of Q
 * near-copies of stored codes at 8, 16, 31, 45 and 55 flipped bits, one query at a time as a
 * check does, and reports build time, recall of the true code and latency per query. Random
 * codes are the hard case for graph and hash structures: no clusters to exploit. */
#include "faiss_binary_factory.h"
#include "mih.h"
#include "stats.h"

#include <faiss/c_api/error_c.h>
#include <faiss/c_api/IndexBinary_c.h>
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

int main(int argc, char **argv)
{
	size_t n = 1000000, nq = 500;
	const char *structures[8] = { "BFlat", "BHash16x16", "BHash32x8", "BHNSW32" };
	int n_structures = 4, given = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--size") && i + 1 < argc)
			n = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--queries") && i + 1 < argc)
			nq = strtoull(argv[++i], NULL, 10);
		else if (given < 8)
			structures[given++] = argv[i];
	}
	if (given)
		n_structures = given;
	omp_set_num_threads(1); /* one check, one thread: as the registry searches */
	unsigned char *codes = malloc(n * 32);
	for (size_t i = 0; i < n * 32; i += 8) {
		unsigned long long r = next_random();
		memcpy(codes + i, &r, 8);
	}
	static const int flips[] = { 8, 16, 31, 45, 55 };
	char machine[400];
	bench_machine(machine, sizeof machine);
	printf("bench_binary_index: %zu random codes, %zu queries per distance, 8-NN, one thread; %s\n\n", n, nq, machine);
	printf("| structure | build s | recall at 8 / 16 / 31 / 45 / 55 bits | ms per query |\n");
	printf("|-----------|--------:|---------------------------------------|-------------:|\n");
	unsigned char *q = malloc(nq * 32);
	size_t *truth = malloc(nq * sizeof *truth);
	int32_t *dist = malloc(nq * 8 * sizeof *dist);
	idx_t *labels = malloc(nq * 8 * sizeof *labels);
	for (int s = 0; s < n_structures; s++) {
		FaissIndexBinary *index;
		if (faiss_index_binary_factory(&index, 256, structures[s]) != 0) {
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
		const double build = bench_wall_s() - t0;
		double recall[5], ms = 0;
		for (int f = 0; f < 5; f++) {
			for (size_t i = 0; i < nq; i++) {
				truth[i] = next_random() % n;
				memcpy(q + i * 32, codes + truth[i] * 32, 32);
				unsigned char flipped[256] = { 0 };
				for (int k = 0; k < flips[f];) {
					int b = (int)(next_random() % 256);
					if (!flipped[b]) {
						flipped[b] = 1;
						q[i * 32 + b / 8] ^= (unsigned char)(1u << (b % 8));
						k++;
					}
				}
			}
			const double t1 = bench_wall_s();
			for (size_t i = 0; i < nq; i++)
				faiss_IndexBinary_search(index, 1, q + i * 32, 8, dist + i * 8, labels + i * 8);
			ms += (bench_wall_s() - t1) * 1e3 / (double)nq / 5;
			size_t hit = 0;
			for (size_t i = 0; i < nq; i++)
				for (int k = 0; k < 8; k++)
					if (labels[i * 8 + k] == (idx_t)truth[i]) {
						hit++;
						break;
					}
			recall[f] = (double)hit / (double)nq;
		}
		printf("| %-9s | %7.1f | %.3f / %.3f / %.3f / %.3f / %.3f | %12.3f |\n", structures[s], build, recall[0],
		       recall[1], recall[2], recall[3], recall[4], ms);
		fflush(stdout);
		faiss_IndexBinary_free(index);
	}
	/* For comparison: an exact multi-index hash outside faiss (bench/mih.c), radius searches at
	 * the block (31) and review (55) radii, one query at a time. */
	{
		const double t0 = bench_wall_s();
		struct mih *m = mih_build(codes, n);
		const double build = bench_wall_s() - t0;
		int64_t found[256];
		double recall[5], ms31 = 0, ms55 = 0;
		for (int f = 0; f < 5; f++) {
			size_t hit = 0;
			const int radius = flips[f] <= 31 ? 31 : 55;
			double t1 = bench_wall_s();
			for (size_t i = 0; i < nq; i++) {
				truth[i] = next_random() % n;
				memcpy(q, codes + truth[i] * 32, 32);
				unsigned char flipped[256] = { 0 };
				for (int k = 0; k < flips[f];) {
					int b = (int)(next_random() % 256);
					if (!flipped[b]) {
						flipped[b] = 1;
						q[b / 8] ^= (unsigned char)(1u << (b % 8));
						k++;
					}
				}
				const size_t got = mih_search(m, q, radius, found, 256);
				for (size_t k = 0; k < got; k++)
					if (found[k] == (int64_t)truth[i]) {
						hit++;
						break;
					}
			}
			const double ms = (bench_wall_s() - t1) * 1e3 / (double)nq;
			if (radius == 31)
				ms31 += ms / 3;
			else
				ms55 += ms / 2;
			recall[f] = (double)hit / (double)nq;
		}
		printf("| MIH (likeness, radius 31 / 55) | %7.1f | %.3f / %.3f / %.3f / %.3f / %.3f | %.3f / %.3f |\n",
		       build, recall[0], recall[1], recall[2], recall[3], recall[4], ms31, ms55);
		mih_free(m);
	}
	free(codes);
	free(q);
	free(truth);
	free(dist);
	free(labels);
	return 0;
}
