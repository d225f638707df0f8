/* bench_check: what a whole check costs with the embedding, by how many windows region search
 * describes.
 *
 *   bench_check [--runs N] [--regions 0,3,9] [--characters N] [--negatives M] [--dir DIR] IMAGE...
 *
 * A registry under DIR (default: a fresh temporary folder) holds one character with the first
 * IMAGE as its reference (8 CNN passes, as any image reference), and with --characters N as
 * many more characters of 3 synthetic references each (bench/synthetic_refs.c), and with
 * --negatives M a negative bank of M synthetic pictures, so the character model decides (only
 * where the library has a bank: built against an older header, --negatives is refused, which
 * lets the same file measure the code before it). Then every IMAGE is checked
 * with lk_check_file() on one thread, N times per region count, the counts interleaved so that
 * a noisy machine slows all of them alike. Reported per count: median and p90 of the total
 * (decode + embed + hash + search) and of the embedding stage alone, and the median of the
 * search stage (where the character model runs), in ms. */
#include "core/internal.h" /* LK_VIEWS */
#include "likeness.h"
#include "stats.h"
#include "synthetic_refs.h"
#ifdef LK_CHARACTER_BANK_WEIGHT /* a library with the character model */
#include "index/store/store.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_COUNTS 10

static int parse_counts(int *counts, const char *text)
{
	int n = 0;
	for (const char *p = text; *p && n < MAX_COUNTS;) {
		char *end;
		const long v = strtol(p, &end, 10);
		if (end == p || v < 0 || v > LK_MAX_REGIONS)
			return 0;
		counts[n++] = (int)v;
		p = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return 0;
	}
	return n;
}

int main(int argc, char **argv)
{
	int runs = 15, counts[MAX_COUNTS] = { 0, 3, 9 }, n_counts = 3, first_image = 0;
	const char *dir = NULL;
	long characters = 0, negatives = 0;
	for (int i = 1; i < argc && !first_image; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--characters") && i + 1 < argc)
			characters = atol(argv[++i]);
		else if (!strcmp(argv[i], "--negatives") && i + 1 < argc)
			negatives = atol(argv[++i]);
		else if (!strcmp(argv[i], "--regions") && i + 1 < argc)
			n_counts = parse_counts(counts, argv[++i]);
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[++i];
		else
			first_image = i;
	}
	if (!first_image || runs < 1 || runs > 1000 || n_counts < 1 || characters < 0 || characters > 100000 ||
	    negatives < 0 || negatives > 100000) {
		fprintf(stderr, "usage: bench_check [--runs 1..1000] [--regions 0,3,9] [--characters 0..100000] "
				"[--negatives 0..100000] [--dir DIR] IMAGE...\n");
		return 2;
	}
#ifndef LK_CHARACTER_BANK_WEIGHT
	if (negatives) {
		fprintf(stderr, "bench_check: this library has no negative bank\n");
		return 2;
	}
#endif
	const int n_images = argc - first_image;
	char tmp[] = "/tmp/likeness-bench-check.XXXXXX", path[600];
	if (!dir && !(dir = mkdtemp(tmp))) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof path, "%s/reg", dir);
	lk_registry *reg;
	lk_embedder *embedder;
	lk_character c = LK_CHARACTER_INIT;
	snprintf(c.slug, sizeof c.slug, "bench");
	snprintf(c.name, sizeof c.name, "bench");
	if (lk_embedder_open(&embedder, NULL) != LK_OK || lk_registry_create(path) != LK_OK ||
	    lk_registry_open(&reg, path) != LK_OK || lk_registry_set_embedder(reg, embedder) != LK_OK ||
	    lk_character_add(reg, &c) != LK_OK || lk_reference_add_file(NULL, reg, "bench", argv[first_image], NULL) != LK_OK) {
		fprintf(stderr, "bench_check: %s\n", lk_error_detail());
		return 1;
	}
	for (long i = 0; i < characters; i++) {
		lk_character more = LK_CHARACTER_INIT;
		snprintf(more.slug, sizeof more.slug, "synthetic-%ld", i);
		snprintf(more.name, sizeof more.name, "synthetic %ld", i);
		if (lk_character_add(reg, &more) != LK_OK ||
		    bench_synthetic_fill(reg, more.slug, 3, LK_VIEWS, lk_embedder_id(embedder), NULL, 0)) {
			fprintf(stderr, "bench_check: %s\n", lk_error_detail());
			return 1;
		}
	}
#ifdef LK_CHARACTER_BANK_WEIGHT
	if (negatives) {
		float *bank = malloc(sizeof(lk_embedding) * (size_t)negatives);
		for (long i = 0; bank && i < negatives; i++)
			bench_synthetic_unit(bank + i * LK_EMBEDDING_DIM);
		if (!bank || lk__negative_add_embedded(reg, bank, (size_t)negatives, lk_embedder_id(embedder)) != LK_OK) {
			fprintf(stderr, "bench_check: %s\n", lk_error_detail());
			return 1;
		}
		free(bank);
	}
#endif
	double *total = malloc(sizeof(double) * (size_t)runs * n_images * n_counts);
	double *embed = malloc(sizeof(double) * (size_t)runs * n_images * n_counts);
	double *search = malloc(sizeof(double) * (size_t)runs * n_images * n_counts);
	lk_check_result r;
	lk_check_options o = LK_CHECK_OPTIONS_INIT;
	if (lk_check_file(&r, reg, argv[first_image], &o) != LK_OK) { /* warm-up: per-thread memory, caches */
		fprintf(stderr, "bench_check: %s\n", lk_error_detail());
		return 1;
	}
	for (int run = 0; run < runs; run++)
		for (int k = 0; k < n_images; k++)
			for (int c2 = 0; c2 < n_counts; c2++) {
				o.regions = counts[c2];
				if (lk_check_file(&r, reg, argv[first_image + k], &o) != LK_OK) {
					fprintf(stderr, "bench_check: %s: %s\n", argv[first_image + k], lk_error_detail());
					return 1;
				}
				const size_t at = ((size_t)c2 * runs + run) * n_images + k;
				total[at] = r.total_ms;
				embed[at] = r.embed_ms;
				search[at] = r.search_ms;
			}
	char machine[400];
	bench_machine(machine, sizeof machine);
	printf("bench_check: %d image(s) x %d runs, one thread, %ld more characters, %ld negatives, embedder %s; %s\n\n",
	       n_images, runs, characters, negatives, lk_embedder_id(embedder), machine);
	printf("| windows | check ms (median) | p90 | of which embedding | p90 | of which search |\n"
	       "|---:|---:|---:|---:|---:|---:|\n");
	const int per = runs * n_images;
	for (int c2 = 0; c2 < n_counts; c2++)
		printf("| %d | %.1f | %.1f | %.1f | %.1f | %.2f |\n", counts[c2], bench_median(total + (size_t)c2 * per, per),
		       bench_percentile(total + (size_t)c2 * per, per, 0.9), bench_median(embed + (size_t)c2 * per, per),
		       bench_percentile(embed + (size_t)c2 * per, per, 0.9), bench_median(search + (size_t)c2 * per, per));
	free(total);
	free(embed);
	free(search);
	lk_registry_close(reg);
	lk_embedder_close(embedder);
	if (dir == tmp) {
		snprintf(path, sizeof path, "rm -rf '%s'", tmp);
		if (system(path) != 0)
			fprintf(stderr, "bench_check: could not remove %s\n", tmp);
	}
	return 0;
}
