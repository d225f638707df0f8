/* TensorFlow.js model files as fetched and unwrapped by scripts/fetch-models.sh: every weight
 * is read, dequantised as TF.js does, and accounted for; damaged files are refused. */
#include "fixtures.h"
#include "core/internal.h"
#include "core/cnn/tfjs_weights.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *model_dir(const char *name)
{
	static char path[1024];
	if (!LK_MODELS_DIR[0])
		fx_skip("no models (scripts/fetch-models.sh was not run for this build)");
	snprintf(path, sizeof path, "%s/%s", LK_MODELS_DIR, name);
	return path;
}

Test(cnn_weights, layers_model_mobilenet_v2)
{
	lk_tfjs_model m;
	int rc = lk__tfjs_load(&m, model_dir("mobilenet_v2"));
	cr_assert_eq(rc, LK_OK, "%s", lk_error_detail());
	cr_expect_eq(m.n_tensors, 266u, "the fetched package's README counts 266 weight tensors");
	const lk_tensor *k = lk__tfjs_tensor(&m, "Conv1/kernel");
	cr_assert(k);
	cr_expect_eq(k->rank, 4);
	cr_expect(k->shape[0] == 3 && k->shape[1] == 3 && k->shape[2] == 3 && k->shape[3] == 32);
	/* uint8 quantisation: every value is min + scale * q for some q in 0..255. */
	json_t *w0 = json_array_get(json_object_get(json_array_get(json_object_get(m.root, "weightsManifest"), 0), "weights"), 0);
	const double min = json_number_value(json_object_get(json_object_get(w0, "quantization"), "min"));
	const double scale = json_number_value(json_object_get(json_object_get(w0, "quantization"), "scale"));
	for (size_t i = 0; i < k->count; i++) {
		const double q = (k->data[i] - min) / scale;
		cr_assert(q > -0.01 && q < 255.01 && fabs(q - round(q)) < 1e-3, "value %zu is not on the grid", i);
	}
	cr_expect(json_is_object(json_object_get(m.topology, "model_config")), "a Keras layers model");
	lk__tfjs_free(&m);
}

Test(cnn_weights, graph_model_mobilenet_v2_140)
{
	lk_tfjs_model m;
	int rc = lk__tfjs_load(&m, model_dir("mobilenet_v2_mid"));
	cr_assert_eq(rc, LK_OK, "%s", lk_error_detail());
	size_t params = 0;
	for (size_t i = 0; i < m.n_tensors; i++)
		params += m.tensors[i].count;
	cr_expect_eq(params, 4300775u, "the reference vectors' README counts 4,300,775 parameters");
	cr_expect(json_is_array(json_object_get(m.topology, "node")), "a graph model");
	lk__tfjs_free(&m);
}

/* A copy of the small model with its shard cut short, then with a path leaving the folder. */
Test(cnn_weights, damaged_models_are_refused)
{
	const char *src = model_dir("mobilenet_v2");
	const char *dst = fx_temp_dir();
	char cmd[2400];
	snprintf(cmd, sizeof cmd, "cp '%s/model.json' '%s/' && head -c 100000 '%s/group1-shard1of1.bin' > '%s/group1-shard1of1.bin'",
		 src, dst, src, dst);
	cr_assert_eq(system(cmd), 0);
	lk_tfjs_model m;
	cr_expect_eq(lk__tfjs_load(&m, dst), LK_ECORRUPT);
	cr_expect(strstr(lk_error_detail(), "end inside"), "%s", lk_error_detail());

	snprintf(cmd, sizeof cmd, "sed -i 's#group1-shard1of1.bin#../../etc/passwd#' '%s/model.json'", dst);
	cr_assert_eq(system(cmd), 0);
	cr_expect_eq(lk__tfjs_load(&m, dst), LK_ECORRUPT);
	cr_expect(strstr(lk_error_detail(), "leaves the model folder"), "%s", lk_error_detail());

	cr_expect_eq(lk__tfjs_load(&m, "/nonexistent/model"), LK_ENOTFOUND);
}
