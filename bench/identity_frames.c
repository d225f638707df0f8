/* bench_identity_frames: the identity track's images, cut from the games' sprite sheets.
 *
 *   bench_identity_frames OUTDIR < MANIFEST > IDENTITY_TSV
 *
 * MANIFEST is bench/identity_manifest.js's output, one frame per line:
 *   source  franchise  character  pose  file  spec   (spec: whole | rect X Y W H | grid C R I)
 * with each character's lines together. Each frame is cut out, trimmed to what its alpha
 * covers, and set in the middle of a transparent square with a margin of an eighth of its
 * side, as art is registered. Frames of a character that look alike are kept once: a frame
 * whose PDQ hash (on white) is within NEAR bits of one already kept is a neighbouring frame,
 * not another pose. Characters left with fewer than MIN_POSES frames are left out; those with
 * more than MAX_POSES keep that many, spread over the list.
 *
 * Writes OUTDIR/<source>/<character>/<pose>.png and prints
 *   source  franchise  character  pose  path-under-OUTDIR
 * per kept frame; a summary goes to stderr. Exit status 0, 2 for wrong arguments, 1 when a file
 * could not be read or written. */
#include "likeness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <vips/vips.h>

enum { NEAR = 40, MIN_POSES = 4, MAX_POSES = 12, MIN_SIDE = 12, MAX_FRAMES = 64, MAX_LINE = 8192 };

typedef struct frame {
	char pose[256];
	VipsImage *img; /* trimmed, square, RGBA */
	lk_pdq_hash hash;
} frame;

typedef struct character {
	char source[64], franchise[256], name[512];
	frame frames[MAX_FRAMES];
	int n;
} character;

static const char *outdir;
static int n_characters, n_kept, n_near, n_small, n_few;

static int fail(const char *what, const char *path)
{
	fprintf(stderr, "bench_identity_frames: %s %s: %s\n", what, path, vips_error_buffer());
	vips_error_clear();
	return -1;
}

/* The sheet a frame is cut from: consecutive lines mostly name the same one. */
static VipsImage *sheet(const char *path)
{
	static char last[4096];
	static VipsImage *img;
	if (img && !strcmp(last, path))
		return img;
	if (img)
		g_object_unref(img);
	img = NULL;
	last[0] = '\0';
	VipsImage *t = vips_image_new_from_file(path, NULL), *rgba = NULL;
	if (!t)
		return NULL;
	if (vips_colourspace(t, &rgba, VIPS_INTERPRETATION_sRGB, NULL)) {
		g_object_unref(t);
		return NULL;
	}
	g_object_unref(t);
	if (!vips_image_hasalpha(rgba)) {
		VipsImage *a;
		if (vips_addalpha(rgba, &a, NULL)) {
			g_object_unref(rgba);
			return NULL;
		}
		g_object_unref(rgba);
		rgba = a;
	}
	if (rgba->BandFmt != VIPS_FORMAT_UCHAR) {
		VipsImage *u;
		if (vips_cast_uchar(rgba, &u, NULL)) {
			g_object_unref(rgba);
			return NULL;
		}
		g_object_unref(rgba);
		rgba = u;
	}
	img = vips_image_copy_memory(rgba);
	g_object_unref(rgba);
	if (img)
		snprintf(last, sizeof last, "%s", path);
	return img;
}

/* The spec's area of the sheet, or -1 when the spec does not fit it. */
static int area(const VipsImage *s, const char *spec, int *x, int *y, int *w, int *h)
{
	int c, r, i;
	if (!strcmp(spec, "whole")) {
		*x = *y = 0;
		*w = s->Xsize, *h = s->Ysize;
	} else if (sscanf(spec, "rect %d %d %d %d", x, y, w, h) == 4) {
	} else if (sscanf(spec, "grid %d %d %d", &c, &r, &i) == 3 && c > 0 && r > 0 && i >= 0 && i < c * r) {
		*w = s->Xsize / c, *h = s->Ysize / r;
		*x = i % c * *w, *y = i / c * *h;
	} else
		return -1;
	return *w > 0 && *h > 0 && *x >= 0 && *y >= 0 && *x + *w <= s->Xsize && *y + *h <= s->Ysize ? 0 : -1;
}

/* The frame trimmed to its visible pixels and centred on a transparent square, or NULL (and
 * *small set) when too little of it is visible to be a picture of anything. */
static VipsImage *cut(VipsImage *s, int x, int y, int w, int h, int *small)
{
	const int bands = s->Bands;
	int x0 = w, y0 = h, x1 = -1, y1 = -1;
	for (int j = 0; j < h; j++) {
		const VipsPel *row = VIPS_IMAGE_ADDR(s, x, y + j);
		for (int i = 0; i < w; i++)
			if (row[i * bands + bands - 1] >= 16) {
				x0 = i < x0 ? i : x0, x1 = i > x1 ? i : x1;
				y0 = j < y0 ? j : y0, y1 = j > y1 ? j : y1;
			}
	}
	*small = x1 - x0 + 1 < MIN_SIDE || y1 - y0 + 1 < MIN_SIDE;
	if (*small)
		return NULL;
	const int tw = x1 - x0 + 1, th = y1 - y0 + 1, side = (tw > th ? tw : th) * 5 / 4;
	VipsImage *part, *square;
	if (vips_extract_area(s, &part, x + x0, y + y0, tw, th, NULL))
		return NULL;
	const double clear[4] = { 0, 0, 0, 0 };
	VipsArrayDouble *bg = vips_array_double_new(clear, bands);
	const int rc = vips_embed(part, &square, (side - tw) / 2, (side - th) / 2, side, side, "extend",
				  VIPS_EXTEND_BACKGROUND, "background", bg, NULL);
	vips_area_unref(VIPS_AREA(bg));
	g_object_unref(part);
	if (rc)
		return NULL;
	VipsImage *mem = vips_image_copy_memory(square);
	g_object_unref(square);
	return mem;
}

static int hash_on_white(VipsImage *rgba, lk_pdq_hash *out)
{
	VipsImage *flat;
	VipsArrayDouble *white = vips_array_double_newv(3, 255.0, 255.0, 255.0);
	const int rc = vips_flatten(rgba, &flat, "background", white, NULL);
	vips_area_unref(VIPS_AREA(white));
	if (rc)
		return -1;
	VipsImage *mem = vips_image_copy_memory(flat);
	g_object_unref(flat);
	if (!mem)
		return -1;
	const lk_pixel_view v = { VIPS_IMAGE_ADDR(mem, 0, 0), mem->Xsize, mem->Ysize, VIPS_IMAGE_SIZEOF_LINE(mem),
				  LK_PIXEL_RGB8 };
	lk_pdq_result r;
	const int ok = lk_pdq_hash_pixels(&r, &v, NULL) == LK_OK;
	g_object_unref(mem);
	if (ok)
		*out = r.hash[LK_DIHEDRAL_ORIGINAL];
	return ok ? 0 : -1;
}

static void clean(char *s)
{
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s == ' ' || *s == '\t')
			*s = '_';
}

static int make_dirs(const char *path)
{
	char p[4096];
	snprintf(p, sizeof p, "%s", path);
	for (char *c = p + 1; *c; c++)
		if (*c == '/') {
			*c = '\0';
			if (mkdir(p, 0755) && errno != EEXIST)
				return -1;
			*c = '/';
		}
	return mkdir(p, 0755) && errno != EEXIST ? -1 : 0;
}

/* Writes the character's kept frames (spread over the list when there are too many) and drops
 * them all. */
static int flush(character *c)
{
	int rc = 0;
	if (!c->n)
		return 0;
	n_characters++;
	if (c->n < MIN_POSES)
		n_few++;
	else {
		char dir[4096], name[512];
		snprintf(name, sizeof name, "%s", c->name);
		clean(name);
		if (snprintf(dir, sizeof dir, "%s/%s/%s", outdir, c->source, name) >= (int)sizeof dir) {
			fprintf(stderr, "bench_identity_frames: %s: path too long\n", outdir);
			return -1;
		}
		if (make_dirs(dir))
			return fail("cannot make", dir);
		const int keep = c->n < MAX_POSES ? c->n : MAX_POSES;
		for (int k = 0; k < keep && !rc; k++) {
			const frame *f = &c->frames[k * c->n / keep];
			char pose[256], path[sizeof dir + sizeof pose + 8];
			snprintf(pose, sizeof pose, "%s", f->pose);
			clean(pose);
			snprintf(path, sizeof path, "%s/%s.png", dir, pose);
			if (vips_pngsave(f->img, path, "strip", TRUE, NULL))
				rc = fail("cannot write", path);
			else
				printf("%s\t%s\t%s\t%s\t%s\n", c->source, c->franchise, c->name, f->pose,
				       path + strlen(outdir) + 1);
			n_kept++;
		}
	}
	for (int k = 0; k < c->n; k++)
		g_object_unref(c->frames[k].img);
	c->n = 0;
	return rc;
}

static int add_frame(character *c, const char *pose, const char *file, const char *spec)
{
	VipsImage *s = sheet(file);
	if (!s)
		return fail("cannot read", file);
	int x, y, w, h, small;
	if (area(s, spec, &x, &y, &w, &h)) {
		fprintf(stderr, "bench_identity_frames: %s: '%s' is not inside its %dx%d pixels\n", file, spec, s->Xsize,
			s->Ysize);
		return -1;
	}
	VipsImage *img = cut(s, x, y, w, h, &small);
	if (!img) {
		if (small) {
			n_small++;
			return 0;
		}
		return fail("cannot cut", file);
	}
	lk_pdq_hash hash;
	if (hash_on_white(img, &hash)) {
		g_object_unref(img);
		return fail("cannot hash", file);
	}
	for (int k = 0; k < c->n; k++)
		if (lk_pdq_distance(&hash, &c->frames[k].hash) <= NEAR) {
			n_near++;
			g_object_unref(img);
			return 0;
		}
	if (c->n == MAX_FRAMES) {
		g_object_unref(img);
		return 0;
	}
	frame *f = &c->frames[c->n++];
	snprintf(f->pose, sizeof f->pose, "%s", pose);
	f->img = img;
	f->hash = hash;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: bench_identity_frames OUTDIR < MANIFEST > IDENTITY_TSV\n");
		return 2;
	}
	outdir = argv[1];
	if (VIPS_INIT(argv[0])) {
		fail("cannot start", "libvips");
		return 1;
	}
	vips_cache_set_max(0);
	static character c;
	static char line[MAX_LINE];
	int rc = 0, lineno = 0;
	while (!rc && fgets(line, sizeof line, stdin)) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		char *field[6];
		int n = 0;
		for (char *p = line, *t; n < 6 && (t = strsep(&p, "\t"));)
			field[n++] = t;
		if (n != 6) {
			fprintf(stderr, "bench_identity_frames: manifest line %d has %d fields, not 6\n", lineno, n);
			rc = 2;
			break;
		}
		if (c.n && strcmp(c.name, field[2]) && (rc = flush(&c) ? 1 : 0))
			break;
		snprintf(c.source, sizeof c.source, "%s", field[0]);
		snprintf(c.franchise, sizeof c.franchise, "%s", field[1]);
		snprintf(c.name, sizeof c.name, "%s", field[2]);
		rc = add_frame(&c, field[3], field[4], field[5]) ? 1 : 0;
	}
	if (!rc)
		rc = flush(&c) ? 1 : 0;
	fprintf(stderr,
		"bench_identity_frames: %d characters, %d left out with fewer than %d poses; %d images kept, %d "
		"near-repeats and %d nearly empty frames dropped\n",
		n_characters, n_few, MIN_POSES, n_kept, n_near, n_small);
	vips_shutdown();
	return rc;
}
