/* Region search: where in a picture a character might be drawn, and a descriptor for each such
 * place. The candidates come from the picture's own structure (how strongly the CNN's last
 * map responds, cell by cell), not from a blanket grid: a blanket grid gives every picture
 * many extra chances to look like something, and pays a CNN pass per window. */
#include "internal.h"

#include <string.h>

#define G LK_EMBED_GRID
#define MIN_SIDE 2 /* cells: a window smaller than this sees too little for the CNN */
#define MAX_SIDE 4 /* larger ones are the global descriptor again */

struct window {
	int x, y, side; /* cells */
	double score;
};

static double overlap(const struct window *a, const struct window *b)
{
	const int x0 = a->x > b->x ? a->x : b->x, y0 = a->y > b->y ? a->y : b->y;
	const int x1 = a->x + a->side < b->x + b->side ? a->x + a->side : b->x + b->side;
	const int y1 = a->y + a->side < b->y + b->side ? a->y + a->side : b->y + b->side;
	if (x1 <= x0 || y1 <= y0)
		return 0;
	const double both = (double)(x1 - x0) * (y1 - y0);
	return both / (a->side * a->side + b->side * b->side - both);
}

static int pixel(int cell2, int size)
{
	/* cell2 is in half cells, so that a margin of half a cell stays exact */
	const long v = (long)cell2 * size / (2 * G);
	return v < 0 ? 0 : v > size ? size : (int)v;
}

int lk__region_proposals(lk_box *boxes, int max, const float cells[G * G], int width, int height)
{
	if (max <= 0 || width < 2 * G || height < 2 * G)
		return 0;
	double total = 0;
	for (int i = 0; i < G * G; i++)
		total += cells[i];
	if (!(total > 0))
		return 0; /* a blank picture has no place to look at */
	struct window all[(MAX_SIDE - MIN_SIDE + 1) * G * G];
	int n = 0;
	for (int side = MIN_SIDE; side <= MAX_SIDE; side++)
		for (int y = 0; y + side <= G; y++)
			for (int x = 0; x + side <= G; x++) {
				double in = 0;
				for (int yy = y; yy < y + side; yy++)
					for (int xx = x; xx < x + side; xx++)
						in += cells[yy * G + xx];
				const int area = side * side;
				all[n++] = (struct window){ x, y, side, in / area - (total - in) / (G * G - area) };
			}
	/* Greedy: the best standing-out window, then the best one not covering it by half, ... */
	int chosen = 0;
	struct window picked[LK_MAX_REGIONS];
	if (max > LK_MAX_REGIONS)
		max = LK_MAX_REGIONS;
	while (chosen < max) {
		int best = -1;
		for (int i = 0; i < n; i++) {
			int clash = all[i].score <= 0;
			for (int k = 0; k < chosen && !clash; k++)
				clash = overlap(&all[i], &picked[k]) > 0.5;
			if (!clash && (best < 0 || all[i].score > all[best].score))
				best = i;
		}
		if (best < 0)
			break;
		picked[chosen] = all[best];
		const struct window *w = &picked[chosen];
		const int x0 = pixel(2 * w->x - 1, width), x1 = pixel(2 * (w->x + w->side) + 1, width);
		const int y0 = pixel(2 * w->y - 1, height), y1 = pixel(2 * (w->y + w->side) + 1, height);
		boxes[chosen++] = (lk_box){ x0, y0, x1 - x0, y1 - y0 };
	}
	return chosen;
}

int lk__embed_regions(lk_embedding *out, lk_embedder *e, const lk_image8 *img, const lk_box *boxes, int n)
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
