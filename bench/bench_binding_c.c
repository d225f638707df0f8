/* bench_binding_c: the C side of bench/bench_binding.py, which measures what the Python binding
 * adds to a check. Checks one raw picture with lk_check_pixels() N times on one thread and
 * prints each call's wall time in nanoseconds, one per line, so that the Python side can pool
 * the samples of several interleaved runs before taking medians.
 *
 *   bench_binding_c REGISTRY FILE WIDTH HEIGHT N hash|embed rgb8|rgbf32|strided|bytes
 *
 * FILE holds WIDTH x HEIGHT RGB8 pixels, lent as they are (rgb8), as floats 0..1 (rgbf32), or
 * inside a wider buffer (strided: rows 64 pixels apart more than the picture's width), each the
 * C twin of a Python input variant; with "bytes", FILE is an encoded image checked with
 * lk_check_bytes (WIDTH and HEIGHT unused).
 *
 * The embedder (LIKENESS_MODELS, else the build's folder) is attached as
 * likeness.Registry(embedding=True) attaches it; "hash" checks with hash_only, like
 * hash_only=True, "embed" with both signals. */
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
	static const char *const inputs[] = { "rgb8", "rgbf32", "strided", "bytes" };
	int input = -1;
	for (int i = 0; argc == 8 && i < 4; i++)
		if (!strcmp(argv[7], inputs[i]))
			input = i;
	if (argc != 8 || (strcmp(argv[6], "hash") && strcmp(argv[6], "embed")) || input < 0) {
		fputs("usage: bench_binding_c REGISTRY FILE WIDTH HEIGHT N hash|embed rgb8|rgbf32|strided|bytes\n", stderr);
		return 2;
	}
	const int width = atoi(argv[3]), height = atoi(argv[4]), n = atoi(argv[5]);
	const int embed = !strcmp(argv[6], "embed");
	if (width < 1 || height < 1 || n < 1) {
		fputs("bench_binding_c: WIDTH, HEIGHT and N must be positive\n", stderr);
		return 2;
	}
	size_t size = (size_t)width * (size_t)height * 3;
	FILE *f = fopen(argv[2], "rb");
	if (f && input == 3 && fseek(f, 0, SEEK_END) == 0) {
		size = (size_t)ftell(f);
		rewind(f);
	}
	unsigned char *pixels = malloc(size);
	long long *ns = malloc((size_t)n * sizeof *ns);
	if (!pixels || !ns || !f || fread(pixels, 1, size, f) != size) {
		fprintf(stderr, "bench_binding_c: cannot read %zu bytes from %s\n", size, argv[2]);
		return 1;
	}
	fclose(f);
	/* The variants' buffers are made before timing, as a Python caller has its array already. */
	lk_pixel_view view = { pixels, width, height, (ptrdiff_t)width * 3, LK_PIXEL_RGB8 };
	void *lent = NULL;
	if (input == 1) {
		float *fl = malloc(size * sizeof *fl);
		for (size_t i = 0; fl && i < size; i++)
			fl[i] = pixels[i] / 255.0f;
		view = (lk_pixel_view){ fl, width, height, (ptrdiff_t)width * 3 * (ptrdiff_t)sizeof *fl, LK_PIXEL_RGBF32 };
		lent = fl;
	} else if (input == 2) {
		const size_t row = (size_t)(width + 64) * 3;
		unsigned char *wide = calloc((size_t)height, row);
		for (int y = 0; wide && y < height; y++)
			memcpy(wide + (size_t)y * row + 32 * 3, pixels + (size_t)y * width * 3, (size_t)width * 3);
		view = (lk_pixel_view){ wide ? wide + 32 * 3 : NULL, width, height, (ptrdiff_t)row, LK_PIXEL_RGB8 };
		lent = wide;
	}
	if (input != 0 && input != 3 && !lent) {
		fputs("bench_binding_c: out of memory\n", stderr);
		return 1;
	}

	lk_registry *reg;
	lk_embedder *e = NULL;
	int rc = lk_registry_open(&reg, argv[1]);
	if (rc != LK_OK)
		return fail(argv[1], rc);
	/* Attached in both modes, as the Python side's registry has it attached in both. */
	if ((rc = lk_embedder_open(&e, NULL)) != LK_OK || (rc = lk_registry_set_embedder(reg, e)) != LK_OK)
		return fail("the embedder", rc);
	lk_check_options o = LK_CHECK_OPTIONS_INIT;
	o.hash_only = !embed;
	lk_check_result r;
	/* Warm: per-thread scratch, the snapshot, the network's arena. */
	for (int i = -3; i < n; i++) {
		const long long t0 = now_ns();
		rc = input == 3 ? lk_check_bytes(&r, reg, pixels, size, &o) : lk_check_pixels(&r, reg, &view, &o);
		const long long t1 = now_ns();
		if (rc != LK_OK)
			return fail("check", rc);
		if (i >= 0)
			ns[i] = t1 - t0;
	}
	for (int i = 0; i < n; i++)
		printf("%lld\n", ns[i]);
	lk_registry_close(reg);
	lk_embedder_close(e);
	free(lent);
	free(pixels);
	free(ns);
	return 0;
}
