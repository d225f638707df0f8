/* bench_binding_c: the C side of bench/bench_binding.py, which measures what the Python binding
 * adds to a check. Checks one raw picture with lk_check_pixels() N times on one thread and
 * prints each call's wall time in nanoseconds, one per line, so that the Python side can pool
 * the samples of several interleaved runs before taking medians.
 *
 *   bench_binding_c REGISTRY RAW_RGB8_FILE WIDTH HEIGHT N hash|embed
 *
 * "embed" opens the embedder (LIKENESS_MODELS, else the build's folder) and attaches it, as
 * likeness.Registry(embedding=True) does; "hash" checks with hash_only, like hash_only=True. */
#include "likeness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int fail(const char *what, int rc)
{
	fprintf(stderr, "bench_binding_c: %s: %s: %s\n", what, lk_error_name(rc), lk_error_detail());
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 7 || (strcmp(argv[6], "hash") && strcmp(argv[6], "embed"))) {
		fputs("usage: bench_binding_c REGISTRY RAW_RGB8_FILE WIDTH HEIGHT N hash|embed\n", stderr);
		return 2;
	}
	const int width = atoi(argv[3]), height = atoi(argv[4]), n = atoi(argv[5]);
	const int embed = !strcmp(argv[6], "embed");
	if (width < 1 || height < 1 || n < 1) {
		fputs("bench_binding_c: WIDTH, HEIGHT and N must be positive\n", stderr);
		return 2;
	}
	const size_t size = (size_t)width * (size_t)height * 3;
	unsigned char *pixels = malloc(size);
	long long *ns = malloc((size_t)n * sizeof *ns);
	FILE *f = fopen(argv[2], "rb");
	if (!pixels || !ns || !f || fread(pixels, 1, size, f) != size) {
		fprintf(stderr, "bench_binding_c: %s does not hold %dx%d RGB pixels\n", argv[2], width, height);
		return 1;
	}
	fclose(f);

	lk_registry *reg;
	lk_embedder *e = NULL;
	int rc = lk_registry_open(&reg, argv[1]);
	if (rc != LK_OK)
		return fail(argv[1], rc);
	if (embed && ((rc = lk_embedder_open(&e, NULL)) != LK_OK || (rc = lk_registry_set_embedder(reg, e)) != LK_OK))
		return fail("the embedder", rc);
	lk_check_options o = LK_CHECK_OPTIONS_INIT;
	o.hash_only = !embed;
	const lk_pixel_view view = { pixels, width, height, (ptrdiff_t)width * 3, LK_PIXEL_RGB8 };
	lk_check_result r;
	/* Warm: per-thread scratch, the snapshot, the network's arena. */
	for (int i = 0; i < 3; i++)
		if ((rc = lk_check_pixels(&r, reg, &view, &o)) != LK_OK)
			return fail("check", rc);
	for (int i = 0; i < n; i++) {
		const long long t0 = now_ns();
		rc = lk_check_pixels(&r, reg, &view, &o);
		ns[i] = now_ns() - t0;
		if (rc != LK_OK)
			return fail("check", rc);
	}
	for (int i = 0; i < n; i++)
		printf("%lld\n", ns[i]);
	lk_registry_close(reg);
	lk_embedder_close(e);
	free(pixels);
	free(ns);
	return 0;
}
