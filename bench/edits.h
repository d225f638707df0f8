/* The benchmark's edits: what users of an image generator do to a protected picture before
 * publishing it, made with libvips from a seed so that a run can be repeated exactly. */
#ifndef LK_BENCH_EDITS_H
#define LK_BENCH_EDITS_H

#include <vips/vips.h>

typedef enum bench_edit {
	EDIT_RESIZE,     /* to 20-60% of the side, aspect changed by up to 15% */
	EDIT_JPEG,       /* JPEG at quality 30-50 */
	EDIT_BLUR,       /* Gaussian, sigma 2-5 pixels at 512 */
	EDIT_BRIGHTNESS, /* brightness and contrast, -50..50 and x0.6-1.4 */
	EDIT_HUE,        /* hue turned by 30-150 degrees either way */
	EDIT_GRAY,       /* one band */
	EDIT_MIRROR,
	EDIT_ROT90,      /* 90 or 270 degrees */
	EDIT_ROT180,
	EDIT_TILT,       /* 5-15 degrees either way, the corners filled white */
	EDIT_CROP,       /* 5-30% off each side, each side drawn on its own */
	EDIT_BORDER,     /* 5-25% of the side added around it, in one colour */
	EDIT_TEXT,       /* a caption, 40-90% of the width and 8-20% of the height */
	EDIT_STICKER,    /* other art covering 10-25% of it */
	EDIT_PASTED,     /* the picture at 25-60% of the area of a photograph */
	EDIT_TWO,        /* two different ones of the above, in a random order */
	EDIT_COUNT
} bench_edit;

/* Draws the captions of EDIT_TEXT; call once before any thread applies edits. 0 or -1. */
int bench_edits_init(void);

/* "resize", "jpeg q30-50", ... */
const char *bench_edit_name(bench_edit e);

/* Where stickers and photographs come from: callbacks returning a new reference (NULL on
 * failure), chosen by a number the edit draws from its seed. */
typedef struct bench_edit_sources {
	VipsImage *(*sticker)(void *ctx, unsigned pick); /* art with an alpha band */
	VipsImage *(*photo)(void *ctx, unsigned pick);   /* 3 bands, at least 512 pixels a side */
	void *ctx;
} bench_edit_sources;

/* Applies edit `e` to `in` (uchar, 1 or 3 bands), consuming the reference; every random choice
 * comes from *seed. Returns a new uchar image, or NULL with the vips error buffer set. */
VipsImage *bench_edit_apply(VipsImage *in, bench_edit e, unsigned *seed, const bench_edit_sources *src);

/* The seeded generator the edits draw from (xorshift32; *seed must not be 0). */
unsigned bench_rand(unsigned *seed);
double bench_uniform(unsigned *seed, double lo, double hi);

#endif
