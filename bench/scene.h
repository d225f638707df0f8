/* Generated-looking pictures for the benchmark: full-bleed scenes (a photograph, a gradient or
 * a texture) with a character painted in somewhere, then graded, softened or sharpened, given
 * noise and saved lossily, as an image generator's output arrives. Every choice comes from a
 * seed, so a run can be repeated exactly. */
#ifndef LK_BENCH_SCENE_H
#define LK_BENCH_SCENE_H

#include "edits.h"

#include <vips/vips.h>

#define SCENE_SIDE 512

typedef enum scene_background { SCENE_PHOTO, SCENE_GRADIENT, SCENE_TEXTURE, SCENE_BACKGROUNDS } scene_background;

typedef struct scene_info {
	scene_background background;
	double area;    /* the square on the longer side of the character's visible box, as a
	                   fraction of the picture; 0 when none */
	int x, y, side; /* where that box went, and its longer side */
	const char *style; /* "blur", "sharpen" or "plain", before noise and encoding */
	const char *codec; /* "jpeg" or "webp" */
	int quality;
} scene_info;

const char *scene_background_name(scene_background b);

/* A SCENE_SIDE square, uchar sRGB: a background drawn from *seed (photographs from
 * src->photo), with `art` (uchar RGBA in memory; NULL for a scene of no character) painted
 * anywhere in it, the square on the longer side of what its alpha shows covering
 * min_area..max_area of the picture. Does not consume `art`. Fills *info.
 * NULL with the vips error buffer set on failure. */
VipsImage *scene_compose(VipsImage *art, double min_area, double max_area, unsigned *seed,
			 const bench_edit_sources *src, scene_info *info);

#endif
