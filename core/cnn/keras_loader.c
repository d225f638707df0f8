/* A Keras layers model (TF.js "layers" format) as a net: layers in file order, each wired to
 * its inbound layers, batch normalisation folded into the convolution before it. */
#include "keras_loader.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int bad(const char *layer, const char *what)
{
	return lk__fail(LK_ECORRUPT, "Keras layer %s: %s", layer, what);
}

static int int_pair(json_t *v, int *a, int *b)
{
	if (json_is_integer(v)) {
		*a = *b = (int)json_integer_value(v);
		return 0;
	}
	if (json_array_size(v) != 2 || !json_is_integer(json_array_get(v, 0)) || !json_is_integer(json_array_get(v, 1)))
		return -1;
	*a = (int)json_integer_value(json_array_get(v, 0));
	*b = (int)json_integer_value(json_array_get(v, 1));
	return 0;
}

/* Copies a weight tensor of exactly `count` values. */
static int take(float **out, const lk_tfjs_model *m, const char *layer, const char *suffix, size_t count)
{
	char name[512];
	snprintf(name, sizeof name, "%s/%s", layer, suffix);
	const lk_tensor *t = lk__tfjs_tensor(m, name);
	if (!t)
		return lk__fail(LK_ECORRUPT, "Keras model: no weight %s", name);
	if (t->count != count)
		return lk__fail(LK_ECORRUPT, "Keras model: weight %s has %zu values, %zu expected", name, t->count, count);
	if (!(*out = malloc(count * sizeof(float))))
		return lk__fail(LK_ENOMEM, "loading the CNN");
	memcpy(*out, t->data, count * sizeof(float));
	return LK_OK;
}

static lk_activation activation(const char *name, int *ok)
{
	*ok = 1;
	if (!name || !strcmp(name, "linear"))
		return LK_ACT_NONE;
	if (!strcmp(name, "relu"))
		return LK_ACT_RELU;
	if (!strcmp(name, "softmax"))
		return LK_ACT_SOFTMAX;
	*ok = 0;
	return LK_ACT_NONE;
}

/* Folds batch normalisation into the convolution feeding it: w' = w * s, b' = (b - mean) * s +
 * beta with s = gamma / sqrt(var + eps), per output channel. */
static int fold_batch_norm(lk_op *conv, const lk_tfjs_model *m, const char *bn, json_t *cfg)
{
	const int c = conv->c;
	float *gamma = NULL, *beta = NULL, *mean = NULL, *var = NULL;
	int rc = take(&mean, m, bn, "moving_mean", (size_t)c);
	if (rc == LK_OK)
		rc = take(&var, m, bn, "moving_variance", (size_t)c);
	if (rc == LK_OK && json_is_true(json_object_get(cfg, "scale")))
		rc = take(&gamma, m, bn, "gamma", (size_t)c);
	if (rc == LK_OK && json_is_true(json_object_get(cfg, "center")))
		rc = take(&beta, m, bn, "beta", (size_t)c);
	if (rc == LK_OK && !conv->bias && !(conv->bias = calloc((size_t)c, sizeof(float))))
		rc = lk__fail(LK_ENOMEM, "loading the CNN");
	if (rc == LK_OK) {
		const double eps = json_number_value(json_object_get(cfg, "epsilon"));
		const size_t rows = conv->kind == LK_OP_CONV ? (size_t)conv->kh * conv->kw * (conv->weights_in)
								: (size_t)conv->kh * conv->kw;
		for (int k = 0; k < c; k++) {
			const double s = (gamma ? gamma[k] : 1.0) / sqrt((double)var[k] + eps);
			for (size_t r = 0; r < rows; r++)
				conv->weights[r * c + k] = (float)(conv->weights[r * c + k] * s);
			conv->bias[k] = (float)((conv->bias[k] - mean[k]) * s + (beta ? beta[k] : 0.0));
		}
	}
	free(gamma);
	free(beta);
	free(mean);
	free(var);
	return rc;
}

int lk__net_from_keras(lk_net *net, const lk_tfjs_model *m)
{
	memset(net, 0, sizeof *net);
	json_t *layers = json_object_get(json_object_get(json_object_get(m->topology, "model_config"), "config"), "layers");
	if (!json_is_array(layers))
		return lk__fail(LK_ECORRUPT, "not a Keras layers model (no model_config.config.layers)");
	const size_t n = json_array_size(layers);
	net->ops = calloc(n ? n : 1, sizeof *net->ops);
	if (!net->ops)
		return lk__fail(LK_ENOMEM, "loading the CNN");
	/* How many layers read each layer (counted over the whole model first): batch norm, ReLU and
	 * padding fold only into a neighbour that nobody else reads. */
	int *readers = calloc(n ? n : 1, sizeof *readers);
	int rc = readers ? LK_OK : lk__fail(LK_ENOMEM, "loading the CNN");
	size_t li;
	json_t *layer;
	json_array_foreach(layers, li, layer) {
		size_t ii;
		json_t *inbound;
		json_array_foreach(json_array_get(json_object_get(layer, "inbound_nodes"), 0), ii, inbound) {
			const char *from = lk__json_str(json_array_get(inbound, 0));
			size_t lj;
			json_t *other;
			json_array_foreach(layers, lj, other) if (lj < li && !strcmp(lk__json_str(json_object_get(json_object_get(other, "config"), "name")), from))
			{
				if (readers)
					readers[lj]++;
				break;
			}
		}
	}
	json_array_foreach(layers, li, layer) {
		if (rc != LK_OK)
			break;
		const char *cls = json_string_value(json_object_get(layer, "class_name"));
		json_t *cfg = json_object_get(layer, "config");
		const char *name = json_string_value(json_object_get(cfg, "name"));
		if (!cls || !name) {
			rc = lk__fail(LK_ECORRUPT, "Keras layer %zu has no class or name", li);
			break;
		}
		lk_op *op = &net->ops[net->n_ops];
		if (!(op->name = strdup(name))) {
			rc = lk__fail(LK_ENOMEM, "loading the CNN");
			break;
		}
		net->n_ops++;
		size_t ii;
		json_t *inbound;
		json_array_foreach(json_array_get(json_object_get(layer, "inbound_nodes"), 0), ii, inbound) {
			const int src = lk__net_find(net, lk__json_str(json_array_get(inbound, 0)));
			if (src < 0 || src == net->n_ops - 1 || op->n_in == 2) {
				rc = bad(name, "reads a layer that is not defined before it (or more than two)");
				break;
			}
			op->in[op->n_in++] = src;
		}
		if (rc != LK_OK)
			break;
		const lk_op *src = op->n_in ? &net->ops[op->in[0]] : NULL;
		if (strcmp(cls, "InputLayer") && !src) {
			rc = bad(name, "has no input");
			break;
		}
		if (src) {
			op->h = src->h, op->w = src->w, op->c = src->c;
		}
		int ok = 1;
		if (!strcmp(cls, "InputLayer")) {
			json_t *shape = json_object_get(cfg, "batch_input_shape");
			op->kind = LK_OP_INPUT;
			op->h = (int)json_integer_value(json_array_get(shape, 1));
			op->w = (int)json_integer_value(json_array_get(shape, 2));
			op->c = (int)json_integer_value(json_array_get(shape, 3));
			if (op->h <= 0 || op->w <= 0 || op->c != 3)
				rc = bad(name, "input must be H x W x 3");
			net->in_h = op->h, net->in_w = op->w;
		} else if (!strcmp(cls, "ZeroPadding2D")) {
			json_t *p = json_object_get(cfg, "padding");
			op->kind = LK_OP_PAD;
			if (int_pair(json_array_get(p, 0), &op->pad_t, &op->pad_b) || int_pair(json_array_get(p, 1), &op->pad_l, &op->pad_r))
				rc = bad(name, "unsupported padding form");
			op->h += op->pad_t + op->pad_b;
			op->w += op->pad_l + op->pad_r;
		} else if (!strcmp(cls, "Conv2D") || !strcmp(cls, "DepthwiseConv2D")) {
			const int depthwise = cls[0] == 'D';
			op->kind = depthwise ? LK_OP_DWCONV : LK_OP_CONV;
			const int same = !strcmp(lk__json_str(json_object_get(cfg, "padding")), "same");
			int d1, d2;
			if (int_pair(json_object_get(cfg, "kernel_size"), &op->kh, &op->kw) ||
			    int_pair(json_object_get(cfg, "strides"), &op->sh, &op->sw) ||
			    int_pair(json_object_get(cfg, "dilation_rate"), &d1, &d2) || d1 != 1 || d2 != 1 ||
			    (depthwise && json_integer_value(json_object_get(cfg, "depth_multiplier")) > 1)) {
				rc = bad(name, "unsupported kernel, strides, dilation or depth multiplier");
				break;
			}
			op->act = activation(json_string_value(json_object_get(cfg, "activation")), &ok);
			op->h = lk__conv_axis(src->h, op->kh, op->sh, same, &op->pad_t, &op->pad_b);
			op->w = lk__conv_axis(src->w, op->kw, op->sw, same, &op->pad_l, &op->pad_r);
			/* Zero padding that only this convolution reads becomes the convolution's own
			 * padding: the kernels skip out-of-image taps instead of reading a padded copy. */
			if (src->kind == LK_OP_PAD && readers[op->in[0]] == 1) {
				op->pad_t += src->pad_t, op->pad_b += src->pad_b;
				op->pad_l += src->pad_l, op->pad_r += src->pad_r;
				op->in[0] = src->in[0];
				src = &net->ops[op->in[0]];
			}
			op->weights_in = src->c;
			if (!depthwise)
				op->c = (int)json_integer_value(json_object_get(cfg, "filters"));
			rc = take(&op->weights, m, name, depthwise ? "depthwise_kernel" : "kernel",
				  (size_t)op->kh * op->kw * (depthwise ? 1 : src->c) * op->c);
			if (rc == LK_OK && json_is_true(json_object_get(cfg, "use_bias")))
				rc = take(&op->bias, m, name, "bias", (size_t)op->c);
		} else if (!strcmp(cls, "BatchNormalization")) {
			lk_op *conv = &net->ops[op->in[0]];
			if ((conv->kind != LK_OP_CONV && conv->kind != LK_OP_DWCONV) || conv->act != LK_ACT_NONE ||
			    readers[op->in[0]] != 1) {
				rc = bad(name, "batch normalisation is supported right after a convolution only");
				break;
			}
			op->kind = LK_OP_IDENTITY;
			rc = fold_batch_norm(conv, m, name, cfg);
		} else if (!strcmp(cls, "ReLU")) {
			json_t *max = json_object_get(cfg, "max_value");
			op->kind = LK_OP_ACT;
			op->act = json_is_number(max) && json_number_value(max) == 6 ? LK_ACT_RELU6 : LK_ACT_RELU;
			if ((json_is_number(max) && json_number_value(max) != 6) ||
			    json_number_value(json_object_get(cfg, "negative_slope")) != 0 ||
			    json_number_value(json_object_get(cfg, "threshold")) != 0) {
				rc = bad(name, "only ReLU and ReLU6 are supported");
				break;
			}
			/* Right after a folded batch norm that nothing else reads: apply it inside the
			 * convolution's own pass instead of copying the tensor again. */
			lk_op *bn = &net->ops[op->in[0]];
			if (bn->kind == LK_OP_IDENTITY && bn->n_in == 1 && readers[op->in[0]] == 1) {
				lk_op *conv = &net->ops[bn->in[0]];
				if ((conv->kind == LK_OP_CONV || conv->kind == LK_OP_DWCONV) && conv->act == LK_ACT_NONE &&
				    readers[bn->in[0]] == 1) {
					conv->act = op->act;
					op->kind = LK_OP_IDENTITY;
					op->act = LK_ACT_NONE;
				}
			}
		} else if (!strcmp(cls, "Add")) {
			op->kind = LK_OP_ADD;
			if (op->n_in != 2 || lk__op_size(&net->ops[op->in[1]]) != lk__op_size(src))
				rc = bad(name, "adds two tensors of one shape");
		} else if (!strcmp(cls, "AveragePooling2D")) {
			op->kind = LK_OP_AVGPOOL;
			int lo, hi;
			if (int_pair(json_object_get(cfg, "pool_size"), &op->kh, &op->kw) ||
			    int_pair(json_object_get(cfg, "strides"), &op->sh, &op->sw) ||
			    strcmp(lk__json_str(json_object_get(cfg, "padding")), "valid")) {
				rc = bad(name, "unsupported pooling");
				break;
			}
			op->h = lk__conv_axis(src->h, op->kh, op->sh, 0, &lo, &hi);
			op->w = lk__conv_axis(src->w, op->kw, op->sw, 0, &lo, &hi);
		} else if (!strcmp(cls, "Flatten") || !strcmp(cls, "Dropout")) {
			op->kind = LK_OP_IDENTITY;
			if (cls[0] == 'F')
				op->c = (int)lk__op_size(src), op->h = op->w = 1;
		} else if (!strcmp(cls, "Dense")) {
			op->kind = LK_OP_DENSE;
			op->c = (int)json_integer_value(json_object_get(cfg, "units"));
			op->h = op->w = 1;
			op->act = activation(json_string_value(json_object_get(cfg, "activation")), &ok);
			rc = take(&op->weights, m, name, "kernel", lk__op_size(src) * (size_t)op->c);
			if (rc == LK_OK && json_is_true(json_object_get(cfg, "use_bias")))
				rc = take(&op->bias, m, name, "bias", (size_t)op->c);
		} else {
			rc = lk__fail(LK_ECORRUPT, "Keras layer %s: class %s is not supported", name, cls);
		}
		if (rc == LK_OK && !ok)
			rc = bad(name, "unsupported activation");
		if (rc == LK_OK && (op->h <= 0 || op->w <= 0 || op->c <= 0))
			rc = bad(name, "has an empty output");
	}
	free(readers);
	if (rc == LK_OK && (net->n_ops == 0 || net->ops[0].kind != LK_OP_INPUT))
		rc = lk__fail(LK_ECORRUPT, "Keras model: the first layer is not its input");
	if (rc != LK_OK)
		lk__net_free(net);
	return rc;
}
