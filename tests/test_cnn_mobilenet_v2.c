/* The MobileNetV2 (width 1.0, Keras layers model) run by likeness' own CNN runtime against the
 * activations TensorFlow.js computed for the same inputs (../shared/vectors/mobilenet_v2):
 * every reference layer within 1e-4 relative error. */
#include "fixtures.h"
#include "core/internal.h"
#include "core/cnn/keras_loader.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { SIDE = FX_CNN_SIDE };

static float *read_floats(const char *name, size_t *count)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/vectors/mobilenet_v2/%s", LK_SHARED_DIR, name);
	size_t len;
	unsigned char *bytes = fx_read(path, &len);
	*count = len / sizeof(float);
	return (float *)(void *)bytes;
}

Test(cnn_mobilenet_v2, matches_tensorflow_js_activations, .timeout = 300)
{
	if (!LK_MODELS_DIR[0])
		fx_skip("no models (scripts/fetch-models.sh was not run for this build)");
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/mobilenet_v2", LK_MODELS_DIR);
	lk_tfjs_model model;
	cr_assert_eq(lk__tfjs_load(&model, dir), LK_OK, "%s", lk_error_detail());
	lk_net net;
	cr_assert_eq(lk__net_from_keras(&net, &model), LK_OK, "%s", lk_error_detail());
	lk__tfjs_free(&model);
	cr_assert_eq(net.in_h, SIDE);

	float *inputs = fx_cnn_inputs();
	const size_t per_image = (size_t)SIDE * SIDE * 3, n_images = FX_CNN_IMAGES;

	static const struct {
		const char *layer, *file;
	} refs[] = {
		{ "block_5_add", "ref.block_5_add.f32" },
		{ "block_13_expand_relu", "ref.block_13_expand_relu.f32" },
		{ "block_16_project_BN", "ref.block_16_project_BN.f32" },
		{ "out_relu", "ref.out_relu.f32" },
		{ "dense_1", "ref.dense_1.f32" },
		{ "dense_3", "ref.probs.f32" },
	};
	/* Every layer kept (each op in its own storage), then only the reference layers kept (the
	 * embedder's mode: storage shared, residual Adds done by the convolutions before them), then
	 * that again with the kernels of a CPU without AVX-512, and of one without AVX2 either. */
	int keep[sizeof refs / sizeof refs[0]];
	for (size_t r = 0; r < sizeof refs / sizeof refs[0]; r++)
		keep[r] = lk__net_find(&net, refs[r].layer);
	for (int mode = 0; mode < 4; mode++) {
		lk__cnn_simd_limit = mode < 2 ? 0 : mode - 1;
		lk_net_arena arena;
		const int rc = mode ? lk__net_arena_init_keep(&arena, &net, keep, (int)(sizeof refs / sizeof refs[0])) : lk__net_arena_init(&arena, &net);
		cr_assert_eq(rc, LK_OK);
		for (size_t img = 0; img < n_images; img++) {
			cr_assert_eq(lk__net_run(&net, inputs + img * per_image, &arena), LK_OK);
			float **out = arena.out;
			for (size_t r = 0; r < sizeof refs / sizeof refs[0]; r++) {
				const int op = lk__net_find(&net, refs[r].layer);
				cr_assert_geq(op, 0, "no layer %s", refs[r].layer);
				size_t count;
				float *ref = read_floats(refs[r].file, &count);
				const size_t n = lk__op_size(&net.ops[op]);
				cr_assert_eq(count, n * n_images, "%s: %zu reference values for %zu", refs[r].layer, count, n * n_images);
				const float *want = ref + img * n;
				const double rel = fx_relative_error(out[op], want, n);
				cr_expect_leq(rel, 1e-4, "mode %d, image %zu, %s: relative error %.3g", mode, img, refs[r].layer, rel);
				free(ref);
			}
		}
		lk__net_arena_free(&arena);
	}
	lk__cnn_simd_limit = 0;
	free(inputs);
	lk__net_free(&net);
}
