/* Reduction of 8-bit pixels to PDQ's working size by nearest neighbour, sampling exactly the
 * source pixels the reference tool samples (column floor(x * width / 512), row likewise), so a
 * large losslessly stored image hashes bit for bit as the reference hashes it: hash lists stay
 * interchangeable. PDQ's own box filter, sized for 512, does the smoothing afterwards. */
#include "core/internal.h"

#include <string.h>

int lk__reduce_image8(lk_image8 *out, const lk_image8 *in, int out_w, int out_h)
{
	const int ch = in->channels;
	int *col = lk__scratch(LK_SCRATCH_SPANS, sizeof(int) * (size_t)out_w);
	unsigned char *dst = lk__scratch(LK_SCRATCH_REDUCED, (size_t)out_w * out_h * ch);
	if (!col || !dst)
		return LK_ENOMEM;
	for (int x = 0; x < out_w; x++)
		col[x] = (int)(x * (double)in->width / out_w) * ch;
	for (int y = 0; y < out_h; y++) {
		const unsigned char *src = in->data + (ptrdiff_t)(int)(y * (double)in->height / out_h) * in->stride;
		unsigned char *d = dst + (size_t)y * out_w * ch;
		if (ch == 3)
			for (int x = 0; x < out_w; x++, d += 3)
				memcpy(d, src + col[x], 3);
		else
			for (int x = 0; x < out_w; x++)
				d[x] = src[col[x]];
	}
	out->data = dst;
	out->width = out_w;
	out->height = out_h;
	out->stride = (ptrdiff_t)out_w * ch;
	out->channels = ch;
	return LK_OK;
}
