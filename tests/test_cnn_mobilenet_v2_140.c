/* The MobileNetV2-1.4 feature extractor (a TensorFlow graph model) run by likeness' own CNN
 * runtime against TensorFlow.js' activations (../shared/vectors/mobilenet_v2_140): every
 * reference node within 1e-4 relative error, on all 14 inputs. */
#include "fixtures.h"
#include "core/cnn/graph_loader.h"
#include "core/internal.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { SIDE = FX_CNN_SIDE };

static int find_suffix(const lk_net *net, const char *suffix)
{
	const size_t n = strlen(suffix);
	for (int i = 0; i < net->n_ops; i++) {
		const size_t len = strlen(net->ops[i].name);
		if (len >= n && !strcmp(net->ops[i].name + len - n, suffix))
			return i;
	}
	return -1;
}

Test(cnn_mobilenet_v2_140, matches_tensorflow_js_activations, .timeout = 300)
{
	if (!LK_MODELS_DIR[0])
		fx_skip("no models (scripts/fetch-models.sh was not run for this build)");
	char path[1024];
	snprintf(path, sizeof path, "%s/mobilenet_v2_mid", LK_MODELS_DIR);
	lk_tfjs_model model;
	cr_assert_eq(lk__tfjs_load(&model, path), LK_OK, "%s", lk_error_detail());
	lk_net net;
	cr_assert_eq(lk__net_from_graph(&net, &model, NULL), LK_OK, "%s", lk_error_detail());
	lk__tfjs_free(&model);
	cr_assert_eq(net.in_h, SIDE);

	float *inputs = fx_cnn_inputs();
	const size_t per_image = (size_t)SIDE * SIDE * 3, n_images = FX_CNN_IMAGES;

	static const struct {
		const char *node, *file;
	} refs[] = {
		{ "MobilenetV2/expanded_conv_13/expand/Relu6", "ref.expanded_conv_13_expand_Relu6.f32" },
		{ "MobilenetV2/Conv_1/Relu6", "ref.Conv_1_Relu6.f32" },
		{ "feature_vector/SpatialSqueeze", "ref.feature_vector.f32" },
		{ "prediction/Softmax", "ref.probs.f32" },
	};
	float *reference[4];
	size_t counts[4];
	for (size_t r = 0; r < 4; r++) {
		snprintf(path, sizeof path, "%s/vectors/mobilenet_v2_140/%s", LK_SHARED_DIR, refs[r].file);
		size_t len;
		reference[r] = (float *)(void *)fx_read(path, &len);
		counts[r] = len / sizeof(float);
	}
	/* Every layer kept (each op in its own storage), then only the reference layers kept (the
	 * embedder's mode: storage shared, residual Adds done by the convolutions before them), then
	 * that again with the kernels of a CPU without AVX-512, and of one without AVX2 either. */
	int keep[4];
	for (size_t r = 0; r < 4; r++)
		keep[r] = find_suffix(&net, refs[r].node);
	for (int mode = 0; mode < 4; mode++) {
		lk__cnn_simd_limit = mode < 2 ? 0 : mode - 1;
		lk_net_arena arena;
		const int rc = mode ? lk__net_arena_init_keep(&arena, &net, keep, 4) : lk__net_arena_init(&arena, &net);
		cr_assert_eq(rc, LK_OK);
		for (size_t img = 0; img < n_images; img++) {
			cr_assert_eq(lk__net_run(&net, inputs + img * per_image, &arena), LK_OK);
			float **out = arena.out;
			for (size_t r = 0; r < 4; r++) {
				const int op = find_suffix(&net, refs[r].node);
				cr_assert_geq(op, 0, "no node %s", refs[r].node);
				const size_t n = lk__op_size(&net.ops[op]);
				cr_assert_eq(counts[r], n * n_images, "%s: %zu reference values for %zu", refs[r].node, counts[r], n * n_images);
				const float *want = reference[r] + img * n;
				const double rel = fx_relative_error(out[op], want, n);
				cr_expect_leq(rel, 1e-4, "mode %d, image %zu, %s: relative error %.3g", mode, img, refs[r].node, rel);
			}
		}
		lk__net_arena_free(&arena);
	}
	lk__cnn_simd_limit = 0;
	for (size_t r = 0; r < 4; r++)
		free(reference[r]);
	free(inputs);
	lk__net_free(&net);
}
