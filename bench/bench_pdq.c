/* bench_pdq: PDQ speed on one thread, per stage, for encoded 1024x1024 JPEG and PNG inputs.
 *
 *   bench_pdq [--runs R] [--iters N] [FILE.jpg ...]
 *
 * Without files it uses ../shared/vectors/pdq/img/bench_b000{0,1,2}_1024.jpg. Each PNG input is
 * the lossless re-encoding of a JPEG input. Every figure is the median over R runs of the mean
 * per-image time over N images (the inputs in turn); min and max across runs are shown so that
 * noise is visible. Reported stages:
 *   decode      bytes in memory -> 8-bit pixels at PDQ's working size (libvips, shrink-on-load)
 *   pdq         those pixels -> luminance -> hash with its 8 dihedral variants
 *   end to end  lk_pdq_hash_file() on the file: read + decode + pdq (what `likeness hash` does)
 *   core 512 / core 1024   lk_pdq_hash_luma() on a 512x512 / 1024x1024 luminance plane
 * images/s/core divides by process CPU time, so it stays honest if a library spawns threads. */
#include "core/internal.h"
#include "likeness.h"
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

#define MAX_INPUTS 16

struct input {
	const char *path; /* file for the end-to-end stage */
	void *bytes;
	size_t len;
};

struct series {
	double wall[64], cpu[64];
	int runs;
};

static int runs = 9, iters = 60;

typedef void (*stage_fn)(struct input *in);

static void stage_decode(struct input *in)
{
	lk_image8 img;
	lk_source_info info;
	static const lk_ingest_options opts = LK_INGEST_OPTIONS_INIT;
	if (lk__decode_for_pdq(&img, &info, in->bytes, in->len, NULL, &opts) != LK_OK) {
		fprintf(stderr, "bench_pdq: decode failed: %s\n", lk_error_detail());
		exit(1);
	}
}

static lk_image8 decoded[MAX_INPUTS];

static void stage_pdq(struct input *in)
{
	(void)in;
	static int next;
	const lk_image8 *img = &decoded[next++ % MAX_INPUTS];
	if (!img->data)
		img = &decoded[0];
	float *luma = lk__pdq_plane_buffer(img->height, img->width);
	lk_pdq_result r;
	lk__luma_from_image8(luma, img);
	lk__pdq_plane(&r, luma, img->height, img->width);
}

static void stage_file(struct input *in)
{
	lk_pdq_result r;
	if (lk_pdq_hash_file(&r, in->path, NULL) != LK_OK) {
		fprintf(stderr, "bench_pdq: %s\n", lk_error_detail());
		exit(1);
	}
}

static float *planes[2];
static int plane_side[2] = { 512, 1024 };
static int plane_pick;

static void stage_core(struct input *in)
{
	(void)in;
	lk_pdq_result r;
	int s = plane_side[plane_pick];
	lk_pdq_hash_luma(&r, planes[plane_pick], s, s, s);
}

static void measure(struct series *s, stage_fn fn, struct input *inputs, int n)
{
	for (int i = 0; i < n; i++) /* warm caches and scratch buffers */
		fn(&inputs[i]);
	s->runs = runs;
	for (int r = 0; r < runs; r++) {
		double w0 = bench_wall_s(), c0 = bench_cpu_s();
		for (int i = 0; i < iters; i++)
			fn(&inputs[i % n]);
		s->wall[r] = (bench_wall_s() - w0) / iters;
		s->cpu[r] = (bench_cpu_s() - c0) / iters;
	}
}

static void row(const char *input, const char *stage, const struct series *s)
{
	double med = bench_median(s->wall, s->runs) * 1e3;
	double cpu = bench_median(s->cpu, s->runs);
	printf("| %-5s | %-10s | %7.3f | %6.3f-%-6.3f | %8.0f | %8.0f |\n", input, stage, med,
	       bench_min(s->wall, s->runs) * 1e3, bench_max(s->wall, s->runs) * 1e3, 1e3 / med, 1.0 / cpu);
}

static void *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	void *buf = malloc(*len);
	if (fread(buf, 1, *len, f) != *len)
		exit(1);
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	const char *files[MAX_INPUTS];
	int nfiles = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--iters") && i + 1 < argc)
			iters = atoi(argv[++i]);
		else if (nfiles < MAX_INPUTS)
			files[nfiles++] = argv[i];
	}
	if (runs < 1 || runs > 64 || iters < 1) {
		fprintf(stderr, "usage: bench_pdq [--runs 1..64] [--iters N] [FILE ...]\n");
		return 2;
	}
	static char defaults[3][1024];
	if (!nfiles)
		for (int i = 0; i < 3; i++) {
			snprintf(defaults[i], sizeof defaults[i], "%s/vectors/pdq/img/bench_b%04d_1024.jpg",
				 LK_SHARED_DIR, i);
			files[nfiles++] = defaults[i];
		}
	if (lk_init() != LK_OK)
		return 1;

	/* JPEG inputs as given; PNG inputs re-encoded losslessly from them, written to /tmp. */
	static struct input jpeg[MAX_INPUTS], png[MAX_INPUTS];
	static char png_paths[MAX_INPUTS][64];
	for (int i = 0; i < nfiles; i++) {
		jpeg[i].path = files[i];
		jpeg[i].bytes = read_all(files[i], &jpeg[i].len);
		VipsImage *img = vips_image_new_from_buffer(jpeg[i].bytes, jpeg[i].len, "", NULL);
		if (!img || vips_pngsave_buffer(img, &png[i].bytes, &png[i].len, "compression", 6, NULL)) {
			fprintf(stderr, "bench_pdq: cannot re-encode %s\n", files[i]);
			return 1;
		}
		snprintf(png_paths[i], sizeof png_paths[i], "/tmp/likeness-bench-%d-%d.png", (int)getpid(), i);
		FILE *f = fopen(png_paths[i], "wb");
		fwrite(png[i].bytes, 1, png[i].len, f);
		fclose(f);
		png[i].path = png_paths[i];
		g_object_unref(img);
	}

	char machine[400];
	bench_machine(machine, sizeof machine);
	printf("bench_pdq: %d input(s) of %s, %d runs x %d images, one thread\n", nfiles, files[0], runs, iters);
	printf("machine: %s; libvips %s\n\n", machine, vips_version_string());
	printf("| input | stage      | ms/img  | min-max ms    | images/s | img/s/core |\n");
	printf("|-------|------------|---------|---------------|----------|------------|\n");

	struct series s;
	struct input *sets[2] = { jpeg, png };
	const char *names[2] = { "JPEG", "PNG" };
	for (int k = 0; k < 2; k++) {
		measure(&s, stage_decode, sets[k], nfiles);
		row(names[k], "decode", &s);
		/* Keep decoded copies for the pdq stage (scratch is reused by decode). */
		for (int i = 0; i < nfiles && i < MAX_INPUTS; i++) {
			lk_image8 img;
			lk_source_info info;
			static const lk_ingest_options opts = LK_INGEST_OPTIONS_INIT;
			lk__decode_for_pdq(&img, &info, sets[k][i].bytes, sets[k][i].len, NULL, &opts);
			size_t size = (size_t)img.stride * img.height;
			unsigned char *copy = malloc(size);
			memcpy(copy, img.data, size);
			free((void *)decoded[i].data);
			decoded[i] = img;
			decoded[i].data = copy;
		}
		measure(&s, stage_pdq, sets[k], nfiles);
		row(names[k], "pdq", &s);
		measure(&s, stage_file, sets[k], nfiles);
		row(names[k], "end to end", &s);
	}
	for (plane_pick = 0; plane_pick < 2; plane_pick++) {
		int side = plane_side[plane_pick];
		planes[plane_pick] = malloc(sizeof(float) * (size_t)side * side);
		for (int i = 0; i < side * side; i++)
			planes[plane_pick][i] = (float)((i * 2654435761u >> 11) % 256);
		measure(&s, stage_core, jpeg, 1);
		row("luma", plane_pick ? "core 1024" : "core 512", &s);
	}
	for (int i = 0; i < nfiles; i++)
		unlink(png_paths[i]);
	return 0;
}
