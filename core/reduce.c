/* Area-average resampling of 8-bit pixels to PDQ's working size.
 *
 * Each output pixel is the mean of the source area it covers (fractional pixels weighted by
 * their covered fraction), computed one output row at a time from horizontally reduced source
 * rows, so memory stays at two float rows. libvips' own shrink/reduce cost ~10 ms per
 * megapixel on one thread here (pipeline overhead); this costs a fraction of that, and the
 * vectors' notes measure area averaging within a few bits of the reference's nearest
 * neighbour. */
#include "internal.h"

#include <math.h>
#include <string.h>

/* Contributions of source pixels to one output pixel along an axis: `count` pixels from
 * `first`, the inner ones weighted `mid`, the partly covered ends `head` and `tail`. */
struct span {
	int first, count;
	float head, mid, tail;
};

static void make_spans(struct span *spans, int out_n, int in_n)
{
	const double scale = (double)in_n / out_n;
	for (int o = 0; o < out_n; o++) {
		const double a = o * scale, b = fmin((o + 1) * scale, in_n);
		int first = (int)floor(a), last = (int)ceil(b) - 1;
		if (last < first)
			last = first;
		const double total = b - a;
		spans[o].first = first;
		spans[o].count = last - first + 1;
		spans[o].mid = (float)(1.0 / total);
		spans[o].head = (float)((fmin(b, first + 1.0) - a) / total);
		spans[o].tail = (float)((b - fmax(a, (double)last)) / total);
		if (first == last)
			spans[o].head = 1.0f;
	}
}

static inline float weight(const struct span *s, int i)
{
	return i == 0 ? s->head : i == s->count - 1 ? s->tail : s->mid;
}

/* One source row reduced horizontally into `dst` (out_w x CH floats). CH is a constant in each
 * instance below, so the channel loops unroll instead of calling memcpy per pixel. */
static inline void reduce_row_ch(float *restrict dst, const unsigned char *restrict src,
				 const struct span *spans, int out_w, const int ch)
{
	for (int o = 0; o < out_w; o++) {
		const struct span *s = &spans[o];
		const unsigned char *p = src + (size_t)s->first * ch;
		float a0 = 0, a1 = 0, a2 = 0;
		for (int i = 0; i < s->count; i++, p += ch) {
			const float w = weight(s, i);
			a0 += w * p[0];
			if (ch == 3) {
				a1 += w * p[1];
				a2 += w * p[2];
			}
		}
		dst[o * ch] = a0;
		if (ch == 3) {
			dst[o * ch + 1] = a1;
			dst[o * ch + 2] = a2;
		}
	}
}

static void reduce_row(float *dst, const unsigned char *src, const struct span *spans, int out_w, int ch)
{
	if (ch == 3)
		reduce_row_ch(dst, src, spans, out_w, 3);
	else
		reduce_row_ch(dst, src, spans, out_w, 1);
}

int lk__reduce_image8(lk_image8 *out, const lk_image8 *in, int out_w, int out_h)
{
	const int ch = in->channels;
	struct span *hs = lk__scratch(LK_SCRATCH_SPANS, sizeof(struct span) * (size_t)(out_w + out_h));
	float *row = lk__scratch(LK_SCRATCH_ROWS, sizeof(float) * (size_t)out_w * ch * 2);
	unsigned char *dst = lk__scratch(LK_SCRATCH_REDUCED, (size_t)out_w * out_h * ch);
	if (!hs || !row || !dst)
		return LK_ENOMEM;
	struct span *vs = hs + out_w;
	make_spans(hs, out_w, in->width);
	make_spans(vs, out_h, in->height);
	float *acc = row + (size_t)out_w * ch;
	const size_t n = (size_t)out_w * ch;
	for (int y = 0; y < out_h; y++) {
		memset(acc, 0, sizeof(float) * n);
		for (int i = 0; i < vs[y].count; i++) {
			reduce_row(row, in->data + (ptrdiff_t)(vs[y].first + i) * in->stride, hs, out_w, ch);
			const float w = weight(&vs[y], i);
			for (size_t k = 0; k < n; k++)
				acc[k] += w * row[k];
		}
		unsigned char *d = dst + (size_t)y * n;
		for (size_t k = 0; k < n; k++) {
			float v = acc[k] + 0.5f;
			d[k] = v >= 255.0f ? 255 : v <= 0.0f ? 0 : (unsigned char)v;
		}
	}
	out->data = dst;
	out->width = out_w;
	out->height = out_h;
	out->stride = (ptrdiff_t)n;
	out->channels = ch;
	return LK_OK;
}
