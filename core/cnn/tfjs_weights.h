/* TensorFlow.js model files: the topology (JSON) and the weights it names, dequantised. */
#ifndef LK_TFJS_WEIGHTS_H
#define LK_TFJS_WEIGHTS_H

#include <jansson.h>
#include <stddef.h>

#define LK_TENSOR_MAX_RANK 4

/* One named weight tensor, float32, row-major in TF.js order (conv kernels HWIO). */
typedef struct lk_tensor {
	char *name;
	int rank;
	int shape[LK_TENSOR_MAX_RANK];
	size_t count;
	float *data;
} lk_tensor;

typedef struct lk_tfjs_model {
	json_t *topology;   /* the "modelTopology" object (owned) */
	json_t *root;       /* the whole model.json (owned) */
	lk_tensor *tensors; /* in manifest order */
	size_t n_tensors;
} lk_tfjs_model;

/* A JSON string's text, or "" for anything else (missing keys read as empty). */
static inline const char *lk__json_str(json_t *v)
{
	const char *s = json_string_value(v);
	return s ? s : "";
}

/* Loads DIR/model.json and its weight shards (paths relative to DIR, concatenated in manifest
 * order). uint8 and uint16 quantised tensors become min + scale * q, as TF.js computes it;
 * float32 and int32 tensors are read as they are (int32 as float). Every size is checked
 * against the shard bytes. LK_ENOTFOUND, LK_EIO or LK_ECORRUPT with a detail on failure. */
int lk__tfjs_load(lk_tfjs_model *out, const char *dir);
void lk__tfjs_free(lk_tfjs_model *m);

/* The tensor named `name`, or NULL. */
const lk_tensor *lk__tfjs_tensor(const lk_tfjs_model *m, const char *name);

#endif
