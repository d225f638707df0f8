/* The GEMM of a convolution with its epilogue fused: out = act(bias + skip + A x W), A being the
 * patches (n x K, row-major), W the kernel (K x c, row-major, as loaded). OpenBLAS would pack W
 * again on every call and leave bias, residual and activation to separate passes over the
 * output; here each 6 x 32 tile of the output is summed in registers from its start value
 * (bias, plus the skip input of a fused residual Add) and stored once, activated. W is read in
 * place: a 32-column strip of it is K rows of two cache lines, which the prefetcher follows.
 * Built for AVX-512, and for AVX2 with FMA (6 x 16 tiles, 16 registers); without either
 * lk__gemm_fused returns 0 and the caller uses OpenBLAS. The sum over K runs in order, one
 * product at a time, whatever the thread count. */
#include "core/cnn/net.h"

#include <math.h>
#include <stddef.h>

int lk__cnn_simd_limit;

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

enum { MR = 7, NR = 32 }; /* pixel counts of MobileNet's maps are multiples of 7 */

#define TILE_TARGET __attribute__((target("avx512f"), always_inline)) static inline

/* Rows [0, rows) of a tile of up to MR rows and NR columns (`m0`, `m1` select the columns of
 * its two 16-float halves; `halves` is 1 where the second would be empty, so that a last strip
 * of 16 columns or fewer costs half). Rows past `rows` repeat row 0 and are not stored: the
 * loop stays one straight run of multiply-adds per k. */
TILE_TARGET void tile(const float *a, ptrdiff_t lda, int rows, const float *w, ptrdiff_t ldw, int K, float *out,
		      ptrdiff_t ldo, const float *bias, const float *skip, __mmask16 m0, __mmask16 m1, __m512 lo,
		      __m512 hi, int halves)
{
	const float *ar[MR];
	for (int r = 0; r < MR; r++)
		ar[r] = a + (r < rows ? r : 0) * lda;
	const __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
	const __m512 b1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
	__m512 acc[MR][2];
#pragma GCC unroll 16
	for (int r = 0; r < MR; r++) {
		acc[r][0] = b0;
		acc[r][1] = b1;
		if (skip && r < rows) {
			acc[r][0] = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, skip + r * ldo), b0);
			acc[r][1] = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, skip + r * ldo + 16), b1);
		}
	}
	for (int k = 0; k < K; k++) {
		const __m512 w0 = _mm512_load_ps(w + k * ldw);
		const __m512 w1 = halves == 2 ? _mm512_load_ps(w + k * ldw + 16) : w0;
#pragma GCC unroll 16
		for (int r = 0; r < MR; r++) {
			const __m512 x = _mm512_set1_ps(ar[r][k]);
			acc[r][0] = _mm512_fmadd_ps(x, w0, acc[r][0]);
			if (halves == 2)
				acc[r][1] = _mm512_fmadd_ps(x, w1, acc[r][1]);
		}
	}
#pragma GCC unroll 16
	for (int r = 0; r < MR; r++)
		if (r < rows) {
			_mm512_mask_storeu_ps(out + r * ldo, m0, _mm512_max_ps(lo, _mm512_min_ps(hi, acc[r][0])));
			if (halves == 2)
				_mm512_mask_storeu_ps(out + r * ldo + 16, m1,
						      _mm512_max_ps(lo, _mm512_min_ps(hi, acc[r][1])));
		}
}

/* Columns [j, j + cols) of w, K rows of NR floats, zero past cols: contiguous, so that the
 * tiles' walk down it is a stream, not a jump of a whole kernel row per step. */
__attribute__((target("avx512f"))) static void pack_strip(const float *w, int c, int K, int j, __mmask16 m0,
							  __mmask16 m1, float *strip)
{
	for (int k = 0; k < K; k++) {
		_mm512_store_ps(strip + k * NR, _mm512_maskz_loadu_ps(m0, w + (ptrdiff_t)k * c + j));
		_mm512_store_ps(strip + k * NR + 16, _mm512_maskz_loadu_ps(m1, w + (ptrdiff_t)k * c + j + 16));
	}
}

__attribute__((target("avx512f"))) static void gemm_avx512(int n, int c, int K, const float *a, const float *w,
							   const float *bias, const float *skip, lk_activation act,
							   float *out, float *strip)
{
	const __m512 lo = _mm512_set1_ps(act == LK_ACT_NONE ? -INFINITY : 0.0f);
	const __m512 hi = _mm512_set1_ps(act == LK_ACT_RELU6 ? 6.0f : INFINITY);
	for (int j = 0; j < c; j += NR) {
		const int cols = c - j < NR ? c - j : NR;
		const __mmask16 m0 = (__mmask16)(cols >= 16 ? 0xffff : (1u << cols) - 1);
		const __mmask16 m1 = (__mmask16)(cols >= 32 ? 0xffff : cols > 16 ? (1u << (cols - 16)) - 1 : 0);
		pack_strip(w, c, K, j, m0, m1, strip);
		for (int i = 0; i < n; i += MR) {
			const float *ai = a + (ptrdiff_t)i * K, *bj = bias ? bias + j : NULL;
			const float *si = skip ? skip + (ptrdiff_t)i * c + j : NULL;
			const int rows = n - i < MR ? n - i : MR;
			if (cols > 16)
				tile(ai, K, rows, strip, NR, K, out + (ptrdiff_t)i * c + j, c, bj, si, m0, m1, lo, hi, 2);
			else
				tile(ai, K, rows, strip, NR, K, out + (ptrdiff_t)i * c + j, c, bj, si, m0, m1, lo, hi, 1);
		}
	}
}

enum { MR2 = 6, NR2 = 16 };

#define AVX2_TARGET __attribute__((target("avx2,fma")))
#define TILE2_TARGET __attribute__((target("avx2,fma"), always_inline)) static inline

/* Lanes [0, n) of 8, as a mask for maskload/maskstore. */
TILE2_TARGET __m256i lanes(int n)
{
	return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

AVX2_TARGET static void pack_strip2(const float *w, int c, int K, int j, __m256i m0, __m256i m1, float *strip)
{
	for (int k = 0; k < K; k++) {
		_mm256_store_ps(strip + k * NR2, _mm256_maskload_ps(w + (ptrdiff_t)k * c + j, m0));
		_mm256_store_ps(strip + k * NR2 + 8, _mm256_maskload_ps(w + (ptrdiff_t)k * c + j + 8, m1));
	}
}

/* The AVX2 tile: as tile(), 6 rows of 16 columns in 12 of the 16 registers. */
TILE2_TARGET void tile2(const float *a, ptrdiff_t lda, int rows, const float *w, int K, float *out, ptrdiff_t ldo,
			const float *bias, const float *skip, __m256i m0, __m256i m1, __m256 lo, __m256 hi, int halves)
{
	const float *ar[MR2];
	for (int r = 0; r < MR2; r++)
		ar[r] = a + (r < rows ? r : 0) * lda;
	const __m256 b0 = bias ? _mm256_maskload_ps(bias, m0) : _mm256_setzero_ps();
	const __m256 b1 = bias ? _mm256_maskload_ps(bias + 8, m1) : _mm256_setzero_ps();
	__m256 acc[MR2][2];
#pragma GCC unroll 16
	for (int r = 0; r < MR2; r++) {
		acc[r][0] = b0;
		acc[r][1] = b1;
		if (skip && r < rows) {
			acc[r][0] = _mm256_add_ps(_mm256_maskload_ps(skip + r * ldo, m0), b0);
			acc[r][1] = _mm256_add_ps(_mm256_maskload_ps(skip + r * ldo + 8, m1), b1);
		}
	}
	for (int k = 0; k < K; k++) {
		const __m256 w0 = _mm256_load_ps(w + k * NR2);
		const __m256 w1 = halves == 2 ? _mm256_load_ps(w + k * NR2 + 8) : w0;
#pragma GCC unroll 16
		for (int r = 0; r < MR2; r++) {
			const __m256 x = _mm256_broadcast_ss(ar[r] + k);
			acc[r][0] = _mm256_fmadd_ps(x, w0, acc[r][0]);
			if (halves == 2)
				acc[r][1] = _mm256_fmadd_ps(x, w1, acc[r][1]);
		}
	}
#pragma GCC unroll 16
	for (int r = 0; r < MR2; r++)
		if (r < rows) {
			_mm256_maskstore_ps(out + r * ldo, m0, _mm256_max_ps(lo, _mm256_min_ps(hi, acc[r][0])));
			if (halves == 2)
				_mm256_maskstore_ps(out + r * ldo + 8, m1, _mm256_max_ps(lo, _mm256_min_ps(hi, acc[r][1])));
		}
}

AVX2_TARGET static void gemm_avx2(int n, int c, int K, const float *a, const float *w, const float *bias,
				  const float *skip, lk_activation act, float *out, float *strip)
{
	const __m256 lo = _mm256_set1_ps(act == LK_ACT_NONE ? -INFINITY : 0.0f);
	const __m256 hi = _mm256_set1_ps(act == LK_ACT_RELU6 ? 6.0f : INFINITY);
	for (int j = 0; j < c; j += NR2) {
		const int cols = c - j < NR2 ? c - j : NR2;
		const __m256i m0 = lanes(cols), m1 = lanes(cols - 8);
		pack_strip2(w, c, K, j, m0, m1, strip);
		for (int i = 0; i < n; i += MR2) {
			const float *ai = a + (ptrdiff_t)i * K, *bj = bias ? bias + j : NULL;
			const float *si = skip ? skip + (ptrdiff_t)i * c + j : NULL;
			const int rows = n - i < MR2 ? n - i : MR2;
			if (cols > 8)
				tile2(ai, K, rows, strip, K, out + (ptrdiff_t)i * c + j, c, bj, si, m0, m1, lo, hi, 2);
			else
				tile2(ai, K, rows, strip, K, out + (ptrdiff_t)i * c + j, c, bj, si, m0, m1, lo, hi, 1);
		}
	}
}
#endif

size_t lk__gemm_strip_floats(int K)
{
	return (size_t)K * 32;
}

int lk__gemm_fused(int n, int c, int K, const float *a, const float *w, const float *bias, const float *skip,
		   lk_activation act, float *out, float *strip)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (lk__cnn_simd_limit < 1 && __builtin_cpu_supports("avx512f")) {
		gemm_avx512(n, c, K, a, w, bias, skip, act, out, strip);
		return 1;
	}
	if (lk__cnn_simd_limit < 2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
		gemm_avx2(n, c, K, a, w, bias, skip, act, out, strip);
		return 1;
	}
#else
	(void)n, (void)c, (void)K, (void)a, (void)w, (void)bias, (void)skip, (void)act, (void)out, (void)strip;
#endif
	return 0;
}
