/* Region search: the parts of a picture described on their own, so that a character drawn
 * small into a larger scene is compared at its own scale. The parts are the nine windows of
 * half the picture's width and height on a quarter-side grid: a measured choice (README,
 * "Region search"). Windows placed by the CNN's response alone missed characters on busy
 * backgrounds; the fixed grid always covers a character of up to about a quarter of the
 * picture with one window. When fewer windows are asked for, those whose content stands out
 * most from the rest of the picture come first. */
#include "core/internal.h"

#include <string.h>

#define G LK_EMBED_GRID
#define STEPS 3 /* window positions per axis: 0, 1/4 and 1/2 of the side */

/* The cells whose centres fall inside window step s: a half-side window covers 3.5 of the
 * 7 cells, and the three centres inside it are 2s, 2s+1, 2s+2. */
static int first_cell(int s)
{
	return 2 * s;
}

static double window_score(const float cells[G * G], int sx, int sy, double total)
{
	double in = 0;
	for (int y = first_cell(sy); y < first_cell(sy) + 3; y++)
		for (int x = first_cell(sx); x < first_cell(sx) + 3; x++)
			in += cells[y * G + x];
	return in / 9 - (total - in) / (G * G - 9);
}

int lk__region_proposals(lk_box *boxes, int max, const float cells[G * G], int width, int height)
{
	if (max > LK_MAX_REGIONS)
		max = LK_MAX_REGIONS;
	if (max <= 0 || width < 2 * G || height < 2 * G)
		return 0;
	double total = 0;
	for (int i = 0; i < G * G; i++)
		total += cells[i];
	if (!(total > 0))
		return 0; /* a blank picture has no part worth a CNN pass */
	double score[STEPS * STEPS];
	for (int k = 0; k < STEPS * STEPS; k++)
		score[k] = window_score(cells, k % STEPS, k / STEPS, total);
	int taken[STEPS * STEPS] = { 0 }, n = 0;
	while (n < max) {
		int best = -1;
		for (int k = 0; k < STEPS * STEPS; k++)
			if (!taken[k] && (best < 0 || score[k] > score[best]))
				best = k;
		taken[best] = 1;
		const int sx = best % STEPS, sy = best / STEPS;
		const int x0 = (int)((long)sx * width / 4), y0 = (int)((long)sy * height / 4);
		const int x1 = (int)((long)(sx + 2) * width / 4), y1 = (int)((long)(sy + 2) * height / 4);
		boxes[n++] = (lk_box){ x0, y0, x1 - x0, y1 - y0 };
	}
	return n;
}

/* Describes each box of `img` as a picture of its own. */
static int embed_boxes(lk_embedding *out, lk_embedder *e, const lk_image8 *img, const lk_box *boxes, int n)
{
	int rc = LK_OK;
	for (int i = 0; i < n && rc == LK_OK; i++) {
		const lk_box *b = &boxes[i];
		if (b->x < 0 || b->y < 0 || b->width <= 0 || b->height <= 0 || b->x + b->width > img->width ||
		    b->y + b->height > img->height)
			return lk__fail(LK_EINTERNAL, "region %d,%d %dx%d outside the %dx%d image", b->x, b->y, b->width,
					b->height, img->width, img->height);
		const lk_image8 part = { img->data + (ptrdiff_t)b->y * img->stride + (ptrdiff_t)b->x * img->channels,
					 b->width, b->height, img->stride, img->channels };
		rc = lk__embed_image8(&out[i], e, &part);
	}
	return rc;
}

int lk__describe(lk_described *d, lk_embedder *e, const lk_image8 *img, int regions)
{
	d->n_parts = 0;
	if (regions <= 0)
		return lk__embed_image8(&d->whole, e, img);
	float cells[G * G];
	int rc = lk__embed_image8_cells(&d->whole, cells, e, img);
	if (rc != LK_OK)
		return rc;
	lk_box boxes[LK_MAX_REGIONS];
	const int n = lk__region_proposals(boxes, regions, cells, img->width, img->height);
	rc = embed_boxes(d->parts, e, img, boxes, n);
	for (int i = 0; i < n && rc == LK_OK; i++)
		d->places[i] = (lk_region){ (float)boxes[i].x / img->width, (float)boxes[i].y / img->height,
					    (float)boxes[i].width / img->width, (float)boxes[i].height / img->height };
	d->n_parts = rc == LK_OK ? n : 0;
	return rc;
}
