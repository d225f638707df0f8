/* bench_photo_crops: the photographs of the benchmark corpus (bench/corpus.sh). Square crops of
 * each source image, at sizes and places drawn from a fixed-seed generator so that the corpus
 * is the same on every machine, flattened on white and resized to 768x768 JPEG (quality 92,
 * metadata stripped).
 *
 *   bench_photo_crops SEED CROPS OUTDIR STEM=SOURCE...
 *
 * Crop k of a source is written to OUTDIR/STEM-k.jpg. A crop's side is a third to nine tenths
 * of the shorter side of the source once shrunk to fit 1600x1600 (decoding a 5K original for
 * each crop would take minutes). The generator runs on from one source to the next, so the order
 * of the arguments is part of the corpus. One process for every crop: as three vips commands
 * per crop, process start-up alone took minutes on 2 cores.
 *
 * Exit status: 0 when every crop was written, 2 for wrong arguments, 1 when a source could not
 * be read or a crop not written (the message names it). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

enum { SOURCE_FIT = 1600, CROP_SIZE = 768 };

/* The same linear congruential generator the corpus was first made with (in bash arithmetic):
 * keeping it keeps every crop where it was. */
static int64_t next_draw(int64_t *state)
{
	*state = (*state * 1103515245 + 12345) % 2147483648;
	return *state;
}

static int fail(const char *what, const char *path)
{
	fprintf(stderr, "bench_photo_crops: %s %s: %s\n", what, path, vips_error_buffer());
	vips_error_clear();
	return -1;
}

static int write_crop(VipsImage *source, int x, int y, int side, const char *path)
{
	VipsImage *area = NULL, *flat = NULL, *sized = NULL;
	int rc = -1;
	if (vips_extract_area(source, &area, x, y, side, side, NULL))
		goto out;
	if (vips_image_hasalpha(area)) {
		VipsArrayDouble *white = vips_array_double_newv(3, 255.0, 255.0, 255.0);
		int flattened = vips_flatten(area, &flat, "background", white, NULL);
		vips_area_unref(VIPS_AREA(white));
		if (flattened)
			goto out;
	} else {
		flat = area;
		g_object_ref(flat);
	}
	if (vips_resize(flat, &sized, (double)CROP_SIZE / side, NULL))
		goto out;
	if (vips_jpegsave(sized, path, "Q", 92, "strip", TRUE, NULL))
		goto out;
	rc = 0;
out:
	if (rc)
		fail("cannot write", path);
	if (sized)
		g_object_unref(sized);
	if (flat)
		g_object_unref(flat);
	if (area)
		g_object_unref(area);
	return rc;
}

/* Writes the crops of one source; returns how many, or -1. */
static int crop_source(const char *stem, const char *source_path, const char *outdir, int crops,
                       int64_t *state)
{
	VipsImage *fitted = NULL, *source = NULL;
	if (vips_thumbnail(source_path, &fitted, SOURCE_FIT, "height", SOURCE_FIT, NULL))
		return fail("cannot read", source_path);
	/* Decoded once into memory: every crop reads it again. */
	source = vips_image_copy_memory(fitted);
	g_object_unref(fitted);
	if (!source)
		return fail("cannot decode", source_path);
	const int w = source->Xsize, h = source->Ysize, shorter = w < h ? w : h;
	int written = 0;
	for (int k = 0; k < crops; k++) {
		const int side = (int)(shorter * (33 + next_draw(state) % 58) / 100);
		const int x = (int)(next_draw(state) % (w - side + 1));
		const int y = (int)(next_draw(state) % (h - side + 1));
		char path[4096];
		if (snprintf(path, sizeof path, "%s/%s-%d.jpg", outdir, stem, k) >= (int)sizeof path) {
			fprintf(stderr, "bench_photo_crops: path too long for %s\n", stem);
			written = -1;
			break;
		}
		if (write_crop(source, x, y, side, path)) {
			written = -1;
			break;
		}
		written++;
	}
	g_object_unref(source);
	return written;
}

static int parse_count(const char *text, int64_t max, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (errno || end == text || *end || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	int64_t state, crops;
	if (argc < 5 || parse_count(argv[1], 2147483647, &state) || parse_count(argv[2], 1000, &crops)) {
		fprintf(stderr, "usage: bench_photo_crops SEED CROPS OUTDIR STEM=SOURCE...\n"
		                "  SEED 0..2147483647, CROPS 0..1000 per source\n");
		return 2;
	}
	for (int i = 4; i < argc; i++) {
		if (!strchr(argv[i], '=') || argv[i][0] == '=') {
			fprintf(stderr, "bench_photo_crops: want STEM=SOURCE, got '%s'\n", argv[i]);
			return 2;
		}
	}
	if (VIPS_INIT(argv[0])) {
		fail("cannot start", "libvips");
		return 1;
	}
	int total = 0, rc = 0;
	for (int i = 4; i < argc && !rc; i++) {
		char *eq = strchr(argv[i], '=');
		*eq = '\0';
		int n = crop_source(argv[i], eq + 1, argv[3], (int)crops, &state);
		if (n < 0)
			rc = 1;
		else
			total += n;
	}
	vips_shutdown();
	if (!rc)
		printf("%d\n", total);
	return rc;
}
