/* The hashes of an image's 8 rotations and mirrors, computed from the transformed pixels.
 *
 * PDQ's dihedral variants are derived from the original's DCT and land 12-16 bits from the
 * hash of the really transformed image on photos, but up to 56 on flat cartoon art (measured
 * on the demo characters), past the match radius. A reference is hashed once, so it can
 * afford the real thing: 8 passes of the PDQ core (about 5 ms at 512x512). */
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>

/* out(y, x) = in(src_y, src_x) for the transform that maps the reference onto a copy. */
static void transform_plane(float *out, const float *in, int h, int w, lk_dihedral d)
{
	const int oh = (d == LK_DIHEDRAL_ROT90 || d == LK_DIHEDRAL_ROT270 || d == LK_DIHEDRAL_FLIP_PLUS1 ||
			d == LK_DIHEDRAL_FLIP_MINUS1) ? w : h;
	const int ow = oh == h ? w : h;
	for (int y = 0; y < oh; y++)
		for (int x = 0; x < ow; x++) {
			int sy, sx;
			switch (d) {
			case LK_DIHEDRAL_FLIPX: sy = h - 1 - y, sx = x; break;            /* top/bottom */
			case LK_DIHEDRAL_FLIPY: sy = y, sx = w - 1 - x; break;            /* mirror */
			case LK_DIHEDRAL_ROT180: sy = h - 1 - y, sx = w - 1 - x; break;
			case LK_DIHEDRAL_ROT90: sy = x, sx = w - 1 - y; break;            /* counter-clockwise */
			case LK_DIHEDRAL_ROT270: sy = h - 1 - x, sx = y; break;           /* clockwise */
			case LK_DIHEDRAL_FLIP_PLUS1: sy = x, sx = y; break;               /* transpose */
			case LK_DIHEDRAL_FLIP_MINUS1: sy = h - 1 - x, sx = w - 1 - y; break; /* anti-transpose */
			default: sy = y, sx = x; break;
			}
			out[(size_t)y * ow + x] = in[(size_t)sy * w + sx];
		}
}

int lk__pdq_dihedral_hashes(lk_pdq_result *out, const lk_image8 *img, const lk_source_info *info)
{
	const size_t n = (size_t)img->width * (size_t)img->height;
	float *luma = malloc(n * sizeof *luma);
	if (!luma)
		return lk__fail(LK_ENOMEM, "hashing the rotations of a reference");
	lk__luma_from_image8(luma, img);
	lk_pdq_result r;
	memset(&r, 0, sizeof r);
	r.source = *info;
	int rc = LK_OK;
	for (int d = 0; d < LK_DIHEDRAL_COUNT && rc == LK_OK; d++) {
		const int turned = d == LK_DIHEDRAL_ROT90 || d == LK_DIHEDRAL_ROT270 || d == LK_DIHEDRAL_FLIP_PLUS1 ||
				   d == LK_DIHEDRAL_FLIP_MINUS1;
		const int rows = turned ? img->width : img->height, cols = turned ? img->height : img->width;
		float *plane = lk__pdq_plane_buffer(rows, cols);
		if (!plane) {
			rc = LK_ENOMEM;
			break;
		}
		transform_plane(plane, luma, img->height, img->width, (lk_dihedral)d);
		lk_pdq_result one;
		lk__pdq_plane(&one, plane, rows, cols);
		r.hash[d] = one.hash[LK_DIHEDRAL_ORIGINAL];
		if (d == LK_DIHEDRAL_ORIGINAL)
			r.quality = one.quality;
	}
	free(luma);
	if (rc == LK_OK)
		*out = r;
	return rc;
}
