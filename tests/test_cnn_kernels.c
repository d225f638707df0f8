/* The CNN's hand-written kernels against direct evaluation, on shapes MobileNet does not have:
 * channel counts that are no multiple of the vector width, maps narrower than a block of
 * pixels, row counts that are no multiple of a tile (the reference tests cover the rest). Each
 * test runs the best kernels the CPU has, then those of a CPU without AVX-512, then without AVX2. */
#include "fixtures.h"
#include "core/internal.h"
#include "core/cnn/net.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

static double act(double v, lk_activation a)
{
	if (a != LK_ACT_NONE)
		v = v > 0 ? v : 0;
	return a == LK_ACT_RELU6 && v > 6 ? 6 : v;
}

static void check_depthwise(void)
{
	static const int channels[] = { 5, 8, 16, 24, 40, 88 };
	for (size_t ci = 0; ci < sizeof channels / sizeof channels[0]; ci++)
		for (int s = 1; s <= 2; s++)
			for (int w = 1; w <= 13; w += 3)
				for (int same = 0; same < 2; same++) {
					const int c = channels[ci], h = w + 1;
					lk_op src = { .h = h, .w = w, .c = c };
					lk_op op = { .kind = LK_OP_DWCONV, .kh = 3, .kw = 3, .sh = s, .sw = s, .c = c,
						     .act = (lk_activation)(ci % 3) };
					op.h = lk__conv_axis(h, 3, s, same, &op.pad_t, &op.pad_b);
					op.w = lk__conv_axis(w, 3, s, same, &op.pad_l, &op.pad_r);
					if (op.h <= 0 || op.w <= 0)
						continue;
					float *in = malloc(sizeof(float) * h * w * c), *out = malloc(sizeof(float) * op.h * op.w * c);
					op.weights = malloc(sizeof(float) * 9 * c);
					op.bias = malloc(sizeof(float) * c);
					for (int i = 0; i < h * w * c; i++)
						in[i] = sinf(i * 0.37f) * 4;
					for (int i = 0; i < 9 * c; i++)
						op.weights[i] = cosf(i * 0.91f);
					for (int i = 0; i < c; i++)
						op.bias[i] = 0.1f * i;
					lk__dwconv(&op, &src, in, out);
					for (int y = 0; y < op.h; y++)
						for (int x = 0; x < op.w; x++)
							for (int k = 0; k < c; k++) {
								double sum = op.bias[k];
								for (int ky = 0; ky < 3; ky++)
									for (int kx = 0; kx < 3; kx++) {
										const int iy = y * s - op.pad_t + ky, ix = x * s - op.pad_l + kx;
										if (iy >= 0 && iy < h && ix >= 0 && ix < w)
											sum += (double)in[(iy * w + ix) * c + k] *
											       op.weights[(ky * 3 + kx) * c + k];
									}
								const float got = out[(y * op.w + x) * c + k];
								cr_assert_float_eq(got, act(sum, op.act), 1e-4,
										   "c %d, stride %d, width %d, same %d, (%d, %d, %d), SIMD limit %d",
										   c, s, w, same, y, x, k, lk__cnn_simd_limit);
							}
					free(in);
					free(out);
					free(op.weights);
					free(op.bias);
				}
}

Test(cnn_kernels, depthwise_3x3_matches_direct_evaluation)
{
	for (lk__cnn_simd_limit = 0; lk__cnn_simd_limit < 3; lk__cnn_simd_limit++)
		check_depthwise();
	lk__cnn_simd_limit = 0;
}

static void check_gemm(void)
{
	for (int n = 1; n <= 30; n += 3)
		for (int c = 1; c <= 70; c += 7)
			for (int K = 1; K <= 40; K += 13)
				for (int mode = 0; mode < 4; mode++) {
					float *a = malloc(sizeof(float) * n * K), *w = malloc(sizeof(float) * K * c);
					float *b = malloc(sizeof(float) * c), *skip = malloc(sizeof(float) * n * c);
					float *out = malloc(sizeof(float) * n * c);
					float *strip = aligned_alloc(64, sizeof(float) * lk__gemm_strip_floats(K));
					for (int i = 0; i < n * K; i++)
						a[i] = sinf(i * 0.3f);
					for (int i = 0; i < K * c; i++)
						w[i] = cosf(i * 0.7f);
					for (int i = 0; i < c; i++)
						b[i] = i * 0.01f;
					for (int i = 0; i < n * c; i++)
						skip[i] = sinf(i * 1.1f);
					const float *bias = mode & 1 ? b : NULL, *sk = mode & 2 ? skip : NULL;
					const lk_activation f = (lk_activation)(mode % 3);
					if (!lk__gemm_fused(n, c, K, a, w, bias, sk, f, out, strip))
						fx_skip("no AVX2 here: convolutions use OpenBLAS");
					for (int i = 0; i < n; i++)
						for (int j = 0; j < c; j++) {
							double sum = (bias ? b[j] : 0) + (sk ? skip[i * c + j] : 0);
							for (int k = 0; k < K; k++)
								sum += (double)a[i * K + k] * w[k * c + j];
							cr_assert_float_eq(out[i * c + j], act(sum, f), 1e-4, "n %d, c %d, K %d, mode %d, (%d, %d), SIMD limit %d",
									   n, c, K, mode, i, j, lk__cnn_simd_limit);
						}
					free(a);
					free(w);
					free(b);
					free(skip);
					free(out);
					free(strip);
				}
}

Test(cnn_kernels, fused_gemm_matches_direct_evaluation)
{
	for (lk__cnn_simd_limit = 0; lk__cnn_simd_limit < 2; lk__cnn_simd_limit++)
		check_gemm(); /* at 2 there is no fused GEMM: convolutions go to OpenBLAS */
	lk__cnn_simd_limit = 0;
}
