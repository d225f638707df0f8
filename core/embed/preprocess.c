/* Network input from decoded pixels. The blur matters as much as the network: it keeps JPEG
 * blocks, text edges and resampling grain, which vary between copies, out of features that
 * should describe what the picture shows. */
#include "core/embed/preprocess.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One output position's contributions: source positions first .. first + n - 1 with weights. */
struct taps {
	int *first, *n;
	float *w;
	int per; /* weights stored per output position */
};

static void taps_free(struct taps *t)
{
	free(t->first);
	free(t->n);
	free(t->w);
}

/* Area averaging when shrinking (each output pixel the mean of the source area it covers,
 * fractional edges weighted), linear interpolation between pixel centres when enlarging. */
static int resample_taps(struct taps *t, int in, int out)
{
	const double scale = (double)in / out;
	t->per = scale > 1 ? (int)ceil(scale) + 2 : 2;
	t->first = malloc(sizeof(int) * (size_t)out);
	t->n = malloc(sizeof(int) * (size_t)out);
	t->w = calloc((size_t)out * (size_t)t->per, sizeof(float));
	if (!t->first || !t->n || !t->w) {
		taps_free(t);
		return lk__fail(LK_ENOMEM, "preparing the network input");
	}
	for (int o = 0; o < out; o++) {
		float *w = t->w + (size_t)o * t->per;
		if (scale > 1) {
			const double lo = o * scale, hi = lo + scale;
			int a = (int)floor(lo), b = (int)ceil(hi);
			if (b > in)
				b = in;
			t->first[o] = a;
			t->n[o] = b - a;
			for (int i = a; i < b; i++) {
				const double cover = fmin(hi, i + 1.0) - fmax(lo, (double)i);
				w[i - a] = (float)(cover / scale);
			}
		} else {
			double x = (o + 0.5) * scale - 0.5;
			x = x < 0 ? 0 : x > in - 1 ? in - 1 : x;
			const int a = (int)floor(x);
			const float f = (float)(x - a);
			t->first[o] = a;
			t->n[o] = a + 1 < in ? 2 : 1;
			w[0] = t->n[o] == 2 ? 1 - f : 1;
			w[1] = t->n[o] == 2 ? f : 0;
		}
	}
	return LK_OK;
}

/* In-place separable Gaussian on a side x side x 3 plane, edges clamped. */
static int blur(float *img, int side, float sigma)
{
	const int radius = (int)ceilf(3 * sigma);
	float kernel[64];
	if (radius < 1)
		return LK_OK;
	if (radius >= 32)
		return lk__fail(LK_EINVAL, "blur sigma %.1f is too large", (double)sigma);
	float sum = 0;
	for (int k = -radius; k <= radius; k++)
		sum += kernel[k + radius] = expf(-(float)(k * k) / (2 * sigma * sigma));
	for (int k = 0; k <= 2 * radius; k++)
		kernel[k] /= sum;
	float *line = malloc(sizeof(float) * (size_t)side * 3);
	if (!line)
		return lk__fail(LK_ENOMEM, "blurring the network input");
	for (int pass = 0; pass < 2; pass++) {
		/* pass 0: along rows; pass 1: along columns */
		const size_t step = pass ? (size_t)side * 3 : 3, next = pass ? 3 : (size_t)side * 3;
		for (int l = 0; l < side; l++) {
			float *base = img + (size_t)l * next;
			for (int i = 0; i < side; i++)
				memcpy(line + (size_t)i * 3, base + (size_t)i * step, sizeof(float) * 3);
			for (int i = 0; i < side; i++) {
				float acc[3] = { 0, 0, 0 };
				for (int k = -radius; k <= radius; k++) {
					int j = i + k;
					j = j < 0 ? 0 : j >= side ? side - 1 : j;
					for (int c = 0; c < 3; c++)
						acc[c] += kernel[k + radius] * line[(size_t)j * 3 + c];
				}
				memcpy(base + (size_t)i * step, acc, sizeof acc);
			}
		}
	}
	free(line);
	return LK_OK;
}

int lk__embed_input(float *out, int side, const lk_image8 *img, float sigma)
{
	lk__assert_image8(img);
	struct taps tx, ty;
	if (resample_taps(&tx, img->width, side) != LK_OK)
		return LK_ENOMEM;
	if (resample_taps(&ty, img->height, side) != LK_OK) {
		taps_free(&tx);
		return LK_ENOMEM;
	}
	/* Columns first (source rows x side), then rows. Per-thread scratch: up to 1.4 MB, which
	 * a fresh allocation would fault in page by page for every image. */
	float *rows = lk__scratch(LK_SCRATCH_EMBED, sizeof(float) * (size_t)img->height * side * 3);
	if (!rows) {
		taps_free(&tx);
		taps_free(&ty);
		return LK_ENOMEM;
	}
	const int ch = img->channels;
	for (int y = 0; y < img->height; y++) {
		const unsigned char *src = img->data + (ptrdiff_t)y * img->stride;
		float *dst = rows + (size_t)y * side * 3;
		for (int o = 0; o < side; o++) {
			const float *w = tx.w + (size_t)o * tx.per;
			float acc[3] = { 0, 0, 0 };
			for (int k = 0; k < tx.n[o]; k++) {
				const unsigned char *p = src + (size_t)(tx.first[o] + k) * ch;
				for (int c = 0; c < 3; c++)
					acc[c] += w[k] * p[ch == 3 ? c : 0];
			}
			for (int c = 0; c < 3; c++)
				dst[o * 3 + c] = acc[c] * (1.0f / 255);
		}
	}
	for (int o = 0; o < side; o++) {
		const float *w = ty.w + (size_t)o * ty.per;
		float *dst = out + (size_t)o * side * 3;
		memset(dst, 0, sizeof(float) * (size_t)side * 3);
		for (int k = 0; k < ty.n[o]; k++) {
			const float *src = rows + (size_t)(ty.first[o] + k) * side * 3;
			for (int i = 0; i < side * 3; i++)
				dst[i] += w[k] * src[i];
		}
	}
	taps_free(&tx);
	taps_free(&ty);
	return blur(out, side, sigma);
}
