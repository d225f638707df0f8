/* Depthwise convolution over NHWC tensors, bias and activation applied as each output pixel is
 * stored (no second pass over the map). Channels are contiguous, so the work is vectorised
 * across channels: for a 3x3 kernel with a channel count that is a multiple of 8, an AVX2
 * kernel keeps each 8-channel sum in a register over the nine taps; anything else takes the
 * plain loop. */
#include "core/cnn/net.h"

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

#ifdef LK_DW_AVX2
/* AVX-512, 3x3, any channel count (the last chunk masked). Along each output row, for one chunk
 * of 16 channels, the nine weight vectors stay in registers and four neighbouring output pixels
 * are summed together, sharing the input columns they overlap on (at stride 1, 6 loads per row
 * of taps for 12 multiply-adds instead of 12). A tap row outside the input is read from a row
 * inside it with zero weights: adding 0 * x leaves each sum as it was. The left and right
 * border pixels take the per-pixel loop. The sums run in the same tap order everywhere. */
#define DW512 __attribute__((target("avx512f")))
#define DW512_INLINE __attribute__((target("avx512f"), always_inline)) static inline

DW512_INLINE __m512 act512(__m512 v, __m512 lo, __m512 hi)
{
	return _mm512_max_ps(lo, _mm512_min_ps(hi, v));
}

/* Four output pixels starting at input column offset `at` (floats), stride S. */
DW512_INLINE void quad(const float *const row[3], ptrdiff_t at, ptrdiff_t c, int S, const __m512 w[9], __m512 b,
		       __mmask16 m, __m512 lo, __m512 hi, float *o)
{
	__m512 acc[4] = { b, b, b, b };
	for (int ky = 0; ky < 3; ky++) {
		__m512 x[9];
#pragma GCC unroll 9
		for (int t = 0; t < 9; t++)
			x[t] = t < 3 * S + 3 ? _mm512_maskz_loadu_ps(m, row[ky] + at + t * c) : _mm512_setzero_ps();
#pragma GCC unroll 4
		for (int p = 0; p < 4; p++) {
			acc[p] = _mm512_fmadd_ps(x[p * S], w[ky * 3], acc[p]);
			acc[p] = _mm512_fmadd_ps(x[p * S + 1], w[ky * 3 + 1], acc[p]);
			acc[p] = _mm512_fmadd_ps(x[p * S + 2], w[ky * 3 + 2], acc[p]);
		}
	}
#pragma GCC unroll 4
	for (int p = 0; p < 4; p++)
		_mm512_mask_storeu_ps(o + p * c, m, act512(acc[p], lo, hi));
}

DW512_INLINE void single(const float *const row[3], ptrdiff_t at, ptrdiff_t c, const __m512 w[9], __m512 b,
			 __mmask16 m, __m512 lo, __m512 hi, float *o)
{
	__m512 acc = b;
	for (int ky = 0; ky < 3; ky++)
#pragma GCC unroll 3
		for (int kx = 0; kx < 3; kx++)
			acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, row[ky] + at + kx * c), w[ky * 3 + kx], acc);
	_mm512_mask_storeu_ps(o, m, act512(acc, lo, hi));
}

/* Output pixels [x0, x1) of one row, all three tap columns inside the input. */
DW512_INLINE void interior(const lk_op *op, const float *const row[3], const int rows_ok[3], int x0, int x1, int S,
			   __m512 lo, __m512 hi, float *out_row)
{
	const ptrdiff_t c = op->c;
	for (ptrdiff_t k = 0; k < c; k += 16) {
		const __mmask16 m = (__mmask16)(c - k >= 16 ? 0xffff : (1u << (c - k)) - 1);
		__m512 w[9];
		for (int t = 0; t < 9; t++)
			w[t] = rows_ok[t / 3] ? _mm512_maskz_loadu_ps(m, op->weights + t * c + k) : _mm512_setzero_ps();
		const __m512 b = op->bias ? _mm512_maskz_loadu_ps(m, op->bias + k) : _mm512_setzero_ps();
		int x = x0;
		for (; x + 4 <= x1; x += 4)
			quad(row, (ptrdiff_t)(x * S - op->pad_l) * c + k, c, S, w, b, m, lo, hi, out_row + x * c + k);
		for (; x < x1; x++)
			single(row, (ptrdiff_t)(x * S - op->pad_l) * c + k, c, w, b, m, lo, hi, out_row + x * c + k);
	}
}

DW512 static void border_pixel(const lk_op *op, const lk_op *src, const float *in, int y, int x, __m512 lo,
			       __m512 hi, float *o)
{
	const ptrdiff_t c = op->c;
	int iy, ky0, ky1, ix, kx0, kx1;
	taps(y, op->sh, op->pad_t, 3, src->h, &iy, &ky0, &ky1);
	taps(x, op->sw, op->pad_l, 3, src->w, &ix, &kx0, &kx1);
	for (ptrdiff_t k = 0; k < c; k += 16) {
		const __mmask16 m = (__mmask16)(c - k >= 16 ? 0xffff : (1u << (c - k)) - 1);
		__m512 acc = op->bias ? _mm512_maskz_loadu_ps(m, op->bias + k) : _mm512_setzero_ps();
		for (int ky = ky0; ky < ky1; ky++)
			for (int kx = kx0; kx < kx1; kx++)
				acc = _mm512_fmadd_ps(
					_mm512_maskz_loadu_ps(m, in + (((ptrdiff_t)(iy + ky) * src->w + ix + kx) * c + k)),
					_mm512_maskz_loadu_ps(m, op->weights + (ky * 3 + kx) * c + k), acc);
		_mm512_mask_storeu_ps(o + k, m, act512(acc, lo, hi));
	}
}

DW512 static void dwconv3x3_avx512(const lk_op *op, const lk_op *src, const float *in, float *out)
{
	const ptrdiff_t c = op->c;
	const __m512 lo = _mm512_set1_ps(op->act == LK_ACT_NONE ? -INFINITY : 0.0f);
	const __m512 hi = _mm512_set1_ps(op->act == LK_ACT_RELU6 ? 6.0f : INFINITY);
	/* interior columns: x * sw - pad_l >= 0 and x * sw - pad_l + 2 < src->w */
	const int x0 = (op->pad_l + op->sw - 1) / op->sw;
	int x1 = src->w - 3 + op->pad_l >= 0 ? (src->w - 3 + op->pad_l) / op->sw + 1 : 0;
	x1 = x1 < op->w ? x1 : op->w;
	for (int y = 0; y < op->h; y++) {
		float *o = out + (ptrdiff_t)y * op->w * c;
		const float *row[3];
		int ok[3];
		for (int ky = 0; ky < 3; ky++) {
			const int iy = y * op->sh - op->pad_t + ky;
			ok[ky] = iy >= 0 && iy < src->h;
			row[ky] = in + (ptrdiff_t)(ok[ky] ? iy : iy < 0 ? 0 : src->h - 1) * src->w * c;
		}
		for (int x = 0; x < op->w; x++)
			if (x < x0 || x >= x1)
				border_pixel(op, src, in, y, x, lo, hi, o + x * c);
		if (x0 < x1) {
			if (op->sw == 1)
				interior(op, row, ok, x0, x1, 1, lo, hi, o);
			else if (op->sw == 2)
				interior(op, row, ok, x0, x1, 2, lo, hi, o);
			else
				for (int x = x0; x < x1; x++)
					border_pixel(op, src, in, y, x, lo, hi, o + x * c);
		}
	}
}
#endif

void lk__dwconv(const lk_op *op, const lk_op *src, const float *in, float *out)
{
#ifdef LK_DW_AVX2
	if (op->kh == 3 && op->kw == 3 && lk__cnn_simd_limit < 1 && __builtin_cpu_supports("avx512f")) {
		dwconv3x3_avx512(op, src, in, out);
		return;
	}
	if (op->kh == 3 && op->kw == 3 && op->c % 8 == 0 && lk__cnn_simd_limit < 2 && __builtin_cpu_supports("avx2") &&
	    __builtin_cpu_supports("fma")) {
		dwconv3x3_avx2(op, src, in, out);
		return;
	}
#endif
	dwconv_plain(op, src, in, out);
}
