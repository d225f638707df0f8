/* From decoded pixels to the network's input: squashed to a square, blurred, scaled to 0..1.
 * Internal. */
#ifndef LK_EMBED_PREPROCESS_H
#define LK_EMBED_PREPROCESS_H

#include "core/internal.h"

/* Fills `out` (side x side x 3 floats, RGB, channels last, pixel / 255) from `img`: resampled
 * to side x side with the aspect not kept (area averaging when shrinking, linear when
 * enlarging), then a Gaussian blur of `sigma` output pixels (none when sigma <= 0). Grey
 * images repeat their channel. LK_ENOMEM when the work buffers cannot be had. */
int lk__embed_input(float *out, int side, const lk_image8 *img, float sigma);

#endif
