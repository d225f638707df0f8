/* A small Keras model written by this test, with a topology unlike MobileNet's (non-square
 * input, a strided 'same' convolution with bias and ReLU, a 'same' depthwise convolution, a
 * residual add, flatten, dense softmax) and unquantised float32 weights. The runtime's result
 * is compared with a direct, loop-by-loop evaluation written here. */
#include "fixtures.h"
#include "core/internal.h"
#include "core/cnn/keras_loader.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { H = 6, W = 5, C = 3, F = 4, OH = 3, OW = 3, UNITS = 2 };

static float wconv[3][3][C][F], bconv[F], wdw[3][3][F][1], wdense[OH * OW * F][UNITS], bdense[UNITS];

static float value(int i)
{
	return (float)((i * 37 % 23) - 11) / 17.0f;
}

static void write_model(const char *dir)
{
	int k = 0;
	for (size_t i = 0; i < sizeof wconv / sizeof(float); i++)
		((float *)wconv)[i] = value(k++);
	for (int i = 0; i < F; i++)
		bconv[i] = value(k++) / 4;
	for (size_t i = 0; i < sizeof wdw / sizeof(float); i++)
		((float *)wdw)[i] = value(k++);
	for (size_t i = 0; i < sizeof wdense / sizeof(float); i++)
		((float *)wdense)[i] = value(k++) / 8;
	for (int i = 0; i < UNITS; i++)
		bdense[i] = value(k++);
	char path[600];
	snprintf(path, sizeof path, "%s/w.bin", dir);
	FILE *f = fopen(path, "wb");
	fwrite(wconv, sizeof wconv, 1, f);
	fwrite(bconv, sizeof bconv, 1, f);
	fwrite(wdw, sizeof wdw, 1, f);
	fwrite(wdense, sizeof wdense, 1, f);
	fwrite(bdense, sizeof bdense, 1, f);
	fclose(f);
	snprintf(path, sizeof path, "%s/model.json", dir);
	f = fopen(path, "w");
	fprintf(f,
		"{\"modelTopology\":{\"model_config\":{\"class_name\":\"Model\",\"config\":{\"layers\":["
		"{\"class_name\":\"InputLayer\",\"config\":{\"name\":\"in\",\"batch_input_shape\":[null,%d,%d,%d]},\"inbound_nodes\":[]},"
		"{\"class_name\":\"Conv2D\",\"config\":{\"name\":\"c1\",\"filters\":%d,\"kernel_size\":[3,3],\"strides\":[2,2],"
		"\"padding\":\"same\",\"dilation_rate\":[1,1],\"activation\":\"relu\",\"use_bias\":true},\"inbound_nodes\":[[[\"in\",0,0,{}]]]},"
		"{\"class_name\":\"DepthwiseConv2D\",\"config\":{\"name\":\"d1\",\"kernel_size\":[3,3],\"strides\":[1,1],"
		"\"padding\":\"same\",\"dilation_rate\":[1,1],\"depth_multiplier\":1,\"activation\":\"linear\",\"use_bias\":false},"
		"\"inbound_nodes\":[[[\"c1\",0,0,{}]]]},"
		"{\"class_name\":\"Add\",\"config\":{\"name\":\"sum\"},\"inbound_nodes\":[[[\"c1\",0,0,{}],[\"d1\",0,0,{}]]]},"
		"{\"class_name\":\"Flatten\",\"config\":{\"name\":\"flat\"},\"inbound_nodes\":[[[\"sum\",0,0,{}]]]},"
		"{\"class_name\":\"Dense\",\"config\":{\"name\":\"out\",\"units\":%d,\"activation\":\"softmax\",\"use_bias\":true},"
		"\"inbound_nodes\":[[[\"flat\",0,0,{}]]]}]}}},"
		"\"weightsManifest\":[{\"paths\":[\"w.bin\"],\"weights\":["
		"{\"name\":\"c1/kernel\",\"shape\":[3,3,%d,%d],\"dtype\":\"float32\"},"
		"{\"name\":\"c1/bias\",\"shape\":[%d],\"dtype\":\"float32\"},"
		"{\"name\":\"d1/depthwise_kernel\",\"shape\":[3,3,%d,1],\"dtype\":\"float32\"},"
		"{\"name\":\"out/kernel\",\"shape\":[%d,%d],\"dtype\":\"float32\"},"
		"{\"name\":\"out/bias\",\"shape\":[%d],\"dtype\":\"float32\"}]}]}",
		H, W, C, F, UNITS, C, F, F, F, OH * OW * F, UNITS, UNITS);
	fclose(f);
}

/* The same network, one multiply at a time. TF 'same' with stride 2 on 6x5: output 3x3, total
 * padding max((3-1)*2+3-6, 0) = 1 row (0 top, 1 bottom) and 2 columns (1 left, 1 right). */
static void expected(const float in[H][W][C], float probs[UNITS])
{
	float c1[OH][OW][F], sum[OH][OW][F];
	for (int y = 0; y < OH; y++)
		for (int x = 0; x < OW; x++)
			for (int f = 0; f < F; f++) {
				double acc = bconv[f];
				for (int ky = 0; ky < 3; ky++)
					for (int kx = 0; kx < 3; kx++) {
						int iy = y * 2 + ky - 0, ix = x * 2 + kx - 1;
						if (iy < 0 || iy >= H || ix < 0 || ix >= W)
							continue;
						for (int c = 0; c < C; c++)
							acc += in[iy][ix][c] * wconv[ky][kx][c][f];
					}
				c1[y][x][f] = acc > 0 ? (float)acc : 0.0f;
			}
	for (int y = 0; y < OH; y++)
		for (int x = 0; x < OW; x++)
			for (int f = 0; f < F; f++) {
				double acc = 0;
				for (int ky = 0; ky < 3; ky++)
					for (int kx = 0; kx < 3; kx++) {
						int iy = y + ky - 1, ix = x + kx - 1;
						if (iy >= 0 && iy < OH && ix >= 0 && ix < OW)
							acc += c1[iy][ix][f] * wdw[ky][kx][f][0];
					}
				sum[y][x][f] = c1[y][x][f] + (float)acc;
			}
	double logits[UNITS], max = -1e30, total = 0;
	for (int u = 0; u < UNITS; u++) {
		logits[u] = bdense[u];
		for (int i = 0; i < OH * OW * F; i++)
			logits[u] += ((const float *)sum)[i] * wdense[i][u];
		max = fmax(max, logits[u]);
	}
	for (int u = 0; u < UNITS; u++)
		total += exp(logits[u] - max);
	for (int u = 0; u < UNITS; u++)
		probs[u] = (float)(exp(logits[u] - max) / total);
}

Test(cnn_small_model, other_topology_matches_direct_evaluation)
{
	const char *dir = fx_temp_dir();
	write_model(dir);
	lk_tfjs_model m;
	cr_assert_eq(lk__tfjs_load(&m, dir), LK_OK, "%s", lk_error_detail());
	lk_net net;
	cr_assert_eq(lk__net_from_keras(&net, &m), LK_OK, "%s", lk_error_detail());
	lk__tfjs_free(&m);
	cr_assert_eq(net.in_h, H);
	cr_assert_eq(net.in_w, W);
	lk_net_arena arena;
	cr_assert_eq(lk__net_arena_init(&arena, &net), LK_OK);
	for (int trial = 0; trial < 3; trial++) {
		float in[H][W][C], want[UNITS];
		for (int i = 0; i < H * W * C; i++)
			((float *)in)[i] = value(i * 7 + trial * 13 + 3) + 0.5f;
		expected(in, want);
		cr_assert_eq(lk__net_run(&net, &in[0][0][0], &arena), LK_OK);
		const float *got = arena.out[lk__net_find(&net, "out")];
		for (int u = 0; u < UNITS; u++)
			cr_expect_float_eq(got[u], want[u], 1e-5, "trial %d unit %d: %g vs %g", trial, u, got[u], want[u]);
		cr_expect_gt(fabsf(want[0] - want[1]), 1e-3f, "probabilities too even to tell a wrong net");
	}
	lk__net_arena_free(&arena);
	lk__net_free(&net);
}

/* A damaged model with a stride or window of 0 is refused with the layer's name, not a crash. */
Test(cnn_small_model, zero_strides_and_windows_are_refused)
{
	static const char *const damage[][2] = {
		{ "\"strides\":[2,2]", "\"strides\":[0,2]" },
		{ "\"strides\":[1,1]", "\"strides\":[1,0]" },
		{ "\"kernel_size\":[3,3],\"strides\":[2,2]", "\"kernel_size\":[0,3],\"strides\":[2,2]" },
	};
	for (size_t i = 0; i < sizeof damage / sizeof damage[0]; i++) {
		const char *dir = fx_temp_dir();
		write_model(dir);
		char path[600];
		snprintf(path, sizeof path, "%s/model.json", dir);
		size_t len;
		unsigned char *raw = fx_read(path, &len);
		char *json = calloc(len + 1, 1); /* a string, for strstr */
		cr_assert(json);
		memcpy(json, raw, len);
		free(raw);
		char *at = strstr(json, damage[i][0]);
		cr_assert(at, "case %zu: the model has no %s", i, damage[i][0]);
		FILE *f = fopen(path, "w");
		fprintf(f, "%.*s%s%s", (int)(at - json), json, damage[i][1], at + strlen(damage[i][0]));
		fclose(f);
		free(json);
		lk_tfjs_model m;
		cr_assert_eq(lk__tfjs_load(&m, dir), LK_OK, "%s", lk_error_detail());
		lk_net net;
		cr_expect_eq(lk__net_from_keras(&net, &m), LK_ECORRUPT, "case %zu", i);
		cr_expect(strstr(lk_error_detail(), i < 2 ? "empty output" : "c1"), "case %zu: %s", i, lk_error_detail());
		lk__tfjs_free(&m);
	}
}

Test(cnn_small_model, unsupported_layers_are_named)
{
	const char *dir = fx_temp_dir();
	char path[600];
	snprintf(path, sizeof path, "%s/model.json", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"modelTopology\":{\"model_config\":{\"config\":{\"layers\":["
	      "{\"class_name\":\"InputLayer\",\"config\":{\"name\":\"in\",\"batch_input_shape\":[null,4,4,3]},\"inbound_nodes\":[]},"
	      "{\"class_name\":\"LSTM\",\"config\":{\"name\":\"memory\"},\"inbound_nodes\":[[[\"in\",0,0,{}]]]}]}}},"
	      "\"weightsManifest\":[]}", f);
	fclose(f);
	lk_tfjs_model m;
	cr_assert_eq(lk__tfjs_load(&m, dir), LK_OK, "%s", lk_error_detail());
	lk_net net;
	cr_expect_eq(lk__net_from_keras(&net, &m), LK_ECORRUPT);
	cr_expect(strstr(lk_error_detail(), "memory") && strstr(lk_error_detail(), "LSTM"), "%s", lk_error_detail());
	lk__tfjs_free(&m);
}
