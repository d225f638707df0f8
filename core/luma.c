/* 8-bit pixels to PDQ's float luminance, with the reference's coefficients and operation
 * order (compiled without FMA contraction, see CMakeLists.txt). */
#include "core/internal.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx2", "default")))
#endif
void lk__luma_from_image8(float *luma, const lk_image8 *img)
{
	const float kr = 0.299f, kg = 0.587f, kb = 0.114f;
	lk__assert_image8(img);
	for (int32_t y = 0; y < img->height; y++) {
		const unsigned char *p = img->data + (ptrdiff_t)y * img->stride;
		float *dst = luma + (size_t)y * (size_t)img->width;
		if (img->channels == 1) {
			for (int32_t x = 0; x < img->width; x++)
				dst[x] = p[x];
		} else {
			for (int32_t x = 0; x < img->width; x++, p += 3)
				dst[x] = kr * p[0] + kg * p[1] + kb * p[2];
		}
	}
}
