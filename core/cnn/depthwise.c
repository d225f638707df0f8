/* Depthwise convolution over NHWC tensors, bias and activation applied as each output pixel is
 * stored (no second pass over the map). Channels are contiguous, so the work is vectorised
 * across channels: for a 3x3 kernel with a channel count that is a multiple of 8, an AVX2
 * kernel keeps each 8-channel sum in a register over the nine taps; anything else takes the
 * plain loop. */
#include "net.h"

#include <math.h>
#include <stddef.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LK_DW_AVX2 1
#endif

/* The taps of output pixel (y, x) that fall inside the input: [*lo, *hi) along one axis. */
static void taps(int pos, int stride, int pad, int k, int in, int *first, int *lo, int *hi)
{
	*first = pos * stride - pad;
	*lo = *first < 0 ? -*first : 0;
	*hi = *first + k > in ? in - *first : k;
}

static float clamp(float v, lk_activation act)
{
	if (act == LK_ACT_RELU || act == LK_ACT_RELU6)
		v = v > 0 ? v : 0;
	if (act == LK_ACT_RELU6)
		v = v < 6 ? v : 6;
	return v;
}

/* Any kernel size and channel count: one output pixel at a time. */
static void dwconv_plain(const lk_op *op, const lk_op *src, const float *restrict in, float *restrict out)
{
	const int c = op->c;
	for (int y = 0; y < op->h; y++)
		for (int x = 0; x < op->w; x++) {
			int iy, ky0, ky1, ix, kx0, kx1;
			taps(y, op->sh, op->pad_t, op->kh, src->h, &iy, &ky0, &ky1);
			taps(x, op->sw, op->pad_l, op->kw, src->w, &ix, &kx0, &kx1);
			float *o = out + ((size_t)y * op->w + x) * c;
			for (int k = 0; k < c; k++)
				o[k] = op->bias ? op->bias[k] : 0.0f;
			for (int ky = ky0; ky < ky1; ky++)
				for (int kx = kx0; kx < kx1; kx++) {
					const float *i = in + ((size_t)(iy + ky) * src->w + ix + kx) * c;
					const float *w = op->weights + (size_t)(ky * op->kw + kx) * c;
					for (int k = 0; k < c; k++)
						o[k] += i[k] * w[k];
				}
			for (int k = 0; k < c; k++)
				o[k] = clamp(o[k], op->act);
		}
}

#ifdef LK_DW_AVX2
/* 3x3, channels a multiple of 8. Pixels whose nine taps all fall inside the input (all but
 * the border) take a loop with no bounds tests. */
__attribute__((target("avx2,fma"))) static void dwconv3x3_avx2(const lk_op *op, const lk_op *src,
							       const float *restrict in, float *restrict out)
{
	const int c = op->c;
	const ptrdiff_t row = (ptrdiff_t)src->w * c;
	const __m256 lo = _mm256_set1_ps(op->act == LK_ACT_NONE ? -INFINITY : 0.0f);
	const __m256 hi = _mm256_set1_ps(op->act == LK_ACT_RELU6 ? 6.0f : INFINITY);
	const float *wt = op->weights;
	for (int y = 0; y < op->h; y++)
		for (int x = 0; x < op->w; x++) {
			int iy, ky0, ky1, ix, kx0, kx1;
			taps(y, op->sh, op->pad_t, 3, src->h, &iy, &ky0, &ky1);
			taps(x, op->sw, op->pad_l, 3, src->w, &ix, &kx0, &kx1);
			float *o = out + ((size_t)y * op->w + x) * c;
			/* may lie before the input at the border: only taps inside are added to it */
			const ptrdiff_t base = iy * row + (ptrdiff_t)ix * c;
			if (ky0 == 0 && ky1 == 3 && kx0 == 0 && kx1 == 3)
				for (int k = 0; k < c; k += 8) {
					__m256 acc = op->bias ? _mm256_loadu_ps(op->bias + k) : _mm256_setzero_ps();
					for (int ky = 0; ky < 3; ky++) {
						const float *i = in + (base + ky * row + k), *w = wt + ky * 3 * c + k;
						acc = _mm256_fmadd_ps(_mm256_loadu_ps(i), _mm256_loadu_ps(w), acc);
						acc = _mm256_fmadd_ps(_mm256_loadu_ps(i + c), _mm256_loadu_ps(w + c), acc);
						acc = _mm256_fmadd_ps(_mm256_loadu_ps(i + 2 * c), _mm256_loadu_ps(w + 2 * c), acc);
					}
					_mm256_storeu_ps(o + k, _mm256_max_ps(lo, _mm256_min_ps(hi, acc)));
				}
			else
				for (int k = 0; k < c; k += 8) {
					__m256 acc = op->bias ? _mm256_loadu_ps(op->bias + k) : _mm256_setzero_ps();
					for (int ky = ky0; ky < ky1; ky++)
						for (int kx = kx0; kx < kx1; kx++)
							acc = _mm256_fmadd_ps(_mm256_loadu_ps(in + (base + ky * row + kx * c + k)),
									      _mm256_loadu_ps(wt + (ky * 3 + kx) * c + k), acc);
					_mm256_storeu_ps(o + k, _mm256_max_ps(lo, _mm256_min_ps(hi, acc)));
				}
		}
}
#endif

void lk__dwconv(const lk_op *op, const lk_op *src, const float *in, float *out)
{
#ifdef LK_DW_AVX2
	if (op->kh == 3 && op->kw == 3 && op->c % 8 == 0 && __builtin_cpu_supports("avx2") &&
	    __builtin_cpu_supports("fma")) {
		dwconv3x3_avx2(op, src, in, out);
		return;
	}
#endif
	dwconv_plain(op, src, in, out);
}
