/* A Keras layers model (TF.js "layers" format) as a net: layers in file order, each wired to
 * its inbound layers, batch normalisation folded into the convolution before it. */
#include "core/cnn/keras_loader.h"
#include "core/internal.h"

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

/* One layer being read: the net so far, the op it becomes (already named, wired and given its
 * first input's shape) and what its reader needs to look at. */
struct keras_layer {
	lk_net *net;
	const lk_tfjs_model *m;
	const int *readers; /* per layer index: how many later layers read it */
	lk_op *op;
	const lk_op *src;   /* the op's first input; NULL only for an input layer */
	json_t *cfg;
	const char *name;
};

/* Only a neighbour with a single reader can be merged away without changing what others see. */
static int sole_reader(const struct keras_layer *l, int index)
{
	return l->readers[index] == 1;
}

static int is_plain_conv(const lk_op *op)
{
	return (op->kind == LK_OP_CONV || op->kind == LK_OP_DWCONV) && op->act == LK_ACT_NONE;
}

/* The activation is checked only once the weights are read, so a missing weight is reported
 * ahead of an unknown activation. */
static int known_activation(const struct keras_layer *l, int rc, int known)
{
	return rc == LK_OK && !known ? bad(l->name, "unsupported activation") : rc;
}

static int take_kernel_and_bias(const struct keras_layer *l, const char *kernel, size_t count)
{
	int rc = take(&l->op->weights, l->m, l->name, kernel, count);
	if (rc == LK_OK && json_is_true(json_object_get(l->cfg, "use_bias")))
		rc = take(&l->op->bias, l->m, l->name, "bias", (size_t)l->op->c);
	return rc;
}

static int input_layer(const struct keras_layer *l)
{
	json_t *shape = json_object_get(l->cfg, "batch_input_shape");
	lk_op *op = l->op;
	op->kind = LK_OP_INPUT;
	op->h = (int)json_integer_value(json_array_get(shape, 1));
	op->w = (int)json_integer_value(json_array_get(shape, 2));
	op->c = (int)json_integer_value(json_array_get(shape, 3));
	l->net->in_h = op->h, l->net->in_w = op->w;
	return op->h <= 0 || op->w <= 0 || op->c != 3 ? bad(l->name, "input must be H x W x 3") : LK_OK;
}

static int zero_padding(const struct keras_layer *l)
{
	json_t *p = json_object_get(l->cfg, "padding");
	lk_op *op = l->op;
	op->kind = LK_OP_PAD;
	int rc = LK_OK;
	if (int_pair(json_array_get(p, 0), &op->pad_t, &op->pad_b) ||
	    int_pair(json_array_get(p, 1), &op->pad_l, &op->pad_r))
		rc = bad(l->name, "unsupported padding form");
	op->h += op->pad_t + op->pad_b;
	op->w += op->pad_l + op->pad_r;
	return rc;
}

/* Zero padding that only this convolution reads becomes the convolution's own padding: the
 * kernels skip out-of-image taps instead of reading a padded copy. Returns the op the
 * convolution then reads. */
static const lk_op *absorb_padding(const struct keras_layer *l)
{
	lk_op *op = l->op;
	const lk_op *pad = l->src;
	if (pad->kind != LK_OP_PAD || !sole_reader(l, op->in[0]))
		return pad;
	op->pad_t += pad->pad_t, op->pad_b += pad->pad_b;
	op->pad_l += pad->pad_l, op->pad_r += pad->pad_r;
	op->in[0] = pad->in[0];
	return &l->net->ops[op->in[0]];
}

static int conv_geometry_supported(const struct keras_layer *l, int depthwise)
{
	lk_op *op = l->op;
	int d1, d2;
	return !int_pair(json_object_get(l->cfg, "kernel_size"), &op->kh, &op->kw) &&
	       !int_pair(json_object_get(l->cfg, "strides"), &op->sh, &op->sw) &&
	       !int_pair(json_object_get(l->cfg, "dilation_rate"), &d1, &d2) && d1 == 1 && d2 == 1 &&
	       !(depthwise && json_integer_value(json_object_get(l->cfg, "depth_multiplier")) > 1);
}

static int convolution(const struct keras_layer *l, int depthwise)
{
	lk_op *op = l->op;
	op->kind = depthwise ? LK_OP_DWCONV : LK_OP_CONV;
	const int same = !strcmp(lk__json_str(json_object_get(l->cfg, "padding")), "same");
	if (!conv_geometry_supported(l, depthwise))
		return bad(l->name, "unsupported kernel, strides, dilation or depth multiplier");
	int known;
	op->act = activation(json_string_value(json_object_get(l->cfg, "activation")), &known);
	op->h = lk__conv_axis(l->src->h, op->kh, op->sh, same, &op->pad_t, &op->pad_b);
	op->w = lk__conv_axis(l->src->w, op->kw, op->sw, same, &op->pad_l, &op->pad_r);
	const lk_op *src = absorb_padding(l);
	op->weights_in = src->c;
	if (!depthwise)
		op->c = (int)json_integer_value(json_object_get(l->cfg, "filters"));
	const size_t count = (size_t)op->kh * op->kw * (depthwise ? 1 : src->c) * op->c;
	return known_activation(l, take_kernel_and_bias(l, depthwise ? "depthwise_kernel" : "kernel", count), known);
}

static int conv2d(const struct keras_layer *l)
{
	return convolution(l, 0);
}

static int depthwise_conv2d(const struct keras_layer *l)
{
	return convolution(l, 1);
}

/* The layer stays as a named identity so that its name still resolves (to the convolution's
 * now normalised output). */
static int batch_normalization(const struct keras_layer *l)
{
	lk_op *conv = &l->net->ops[l->op->in[0]];
	if (!is_plain_conv(conv) || !sole_reader(l, l->op->in[0]))
		return bad(l->name, "batch normalisation is supported right after a convolution only");
	l->op->kind = LK_OP_IDENTITY;
	return fold_batch_norm(conv, l->m, l->name, l->cfg);
}

/* Right after a folded batch norm that nothing else reads: apply the activation inside the
 * convolution's own pass instead of copying the tensor again. */
static void fuse_into_conv(const struct keras_layer *l)
{
	const lk_op *bn = &l->net->ops[l->op->in[0]];
	if (bn->kind != LK_OP_IDENTITY || bn->n_in != 1 || !sole_reader(l, l->op->in[0]))
		return;
	lk_op *conv = &l->net->ops[bn->in[0]];
	if (!is_plain_conv(conv) || !sole_reader(l, bn->in[0]))
		return;
	conv->act = l->op->act;
	l->op->kind = LK_OP_IDENTITY;
	l->op->act = LK_ACT_NONE;
}

static int relu(const struct keras_layer *l)
{
	json_t *max = json_object_get(l->cfg, "max_value");
	l->op->kind = LK_OP_ACT;
	l->op->act = json_is_number(max) && json_number_value(max) == 6 ? LK_ACT_RELU6 : LK_ACT_RELU;
	if ((json_is_number(max) && json_number_value(max) != 6) ||
	    json_number_value(json_object_get(l->cfg, "negative_slope")) != 0 ||
	    json_number_value(json_object_get(l->cfg, "threshold")) != 0)
		return bad(l->name, "only ReLU and ReLU6 are supported");
	fuse_into_conv(l);
	return LK_OK;
}

static int add(const struct keras_layer *l)
{
	lk_op *op = l->op;
	op->kind = LK_OP_ADD;
	if (op->n_in != 2 || lk__op_size(&l->net->ops[op->in[1]]) != lk__op_size(l->src))
		return bad(l->name, "adds two tensors of one shape");
	return LK_OK;
}

static int average_pooling(const struct keras_layer *l)
{
	lk_op *op = l->op;
	op->kind = LK_OP_AVGPOOL;
	if (int_pair(json_object_get(l->cfg, "pool_size"), &op->kh, &op->kw) ||
	    int_pair(json_object_get(l->cfg, "strides"), &op->sh, &op->sw) ||
	    strcmp(lk__json_str(json_object_get(l->cfg, "padding")), "valid"))
		return bad(l->name, "unsupported pooling");
	int lo, hi;
	op->h = lk__conv_axis(l->src->h, op->kh, op->sh, 0, &lo, &hi);
	op->w = lk__conv_axis(l->src->w, op->kw, op->sw, 0, &lo, &hi);
	return LK_OK;
}

static int flatten(const struct keras_layer *l)
{
	l->op->kind = LK_OP_IDENTITY;
	l->op->c = (int)lk__op_size(l->src), l->op->h = l->op->w = 1;
	return LK_OK;
}

/* Inference only: dropout passes its input through. */
static int dropout(const struct keras_layer *l)
{
	l->op->kind = LK_OP_IDENTITY;
	return LK_OK;
}

static int dense(const struct keras_layer *l)
{
	lk_op *op = l->op;
	op->kind = LK_OP_DENSE;
	op->c = (int)json_integer_value(json_object_get(l->cfg, "units"));
	op->h = op->w = 1;
	int known;
	op->act = activation(json_string_value(json_object_get(l->cfg, "activation")), &known);
	const int rc = take_kernel_and_bias(l, "kernel", lk__op_size(l->src) * (size_t)op->c);
	return known_activation(l, rc, known);
}

typedef int (*layer_reader)(const struct keras_layer *l);

static const struct {
	const char *class_name;
	layer_reader read;
} layer_readers[] = {
	{"InputLayer", input_layer},
	{"ZeroPadding2D", zero_padding},
	{"Conv2D", conv2d},
	{"DepthwiseConv2D", depthwise_conv2d},
	{"BatchNormalization", batch_normalization},
	{"ReLU", relu},
	{"Add", add},
	{"AveragePooling2D", average_pooling},
	{"Flatten", flatten},
	{"Dropout", dropout},
	{"Dense", dense},
};

static layer_reader reader_for(const char *class_name)
{
	for (size_t i = 0; i < sizeof layer_readers / sizeof *layer_readers; i++)
		if (!strcmp(layer_readers[i].class_name, class_name))
			return layer_readers[i].read;
	return NULL;
}

/* The index of the first layer before `before` named `name`, or -1. */
static long earlier_layer(json_t *layers, size_t before, const char *name)
{
	for (size_t i = 0; i < before; i++) {
		json_t *cfg = json_object_get(json_array_get(layers, i), "config");
		if (!strcmp(lk__json_str(json_object_get(cfg, "name")), name))
			return (long)i;
	}
	return -1;
}

/* How many layers read each layer, counted over the whole model before any is built: batch
 * norm, ReLU and padding fold only into a neighbour that nobody else reads. NULL when out of
 * memory. */
static int *count_readers(json_t *layers)
{
	const size_t n = json_array_size(layers);
	int *readers = calloc(n ? n : 1, sizeof *readers);
	if (!readers)
		return NULL;
	size_t li, ii;
	json_t *layer, *inbound;
	json_array_foreach(layers, li, layer) {
		json_array_foreach(json_array_get(json_object_get(layer, "inbound_nodes"), 0), ii, inbound) {
			const long from = earlier_layer(layers, li, lk__json_str(json_array_get(inbound, 0)));
			if (from >= 0)
				readers[from]++;
		}
	}
	return readers;
}

/* Points the op at the ops its layer reads, which must already be built. */
static int wire_inputs(const lk_net *net, lk_op *op, json_t *layer, const char *name)
{
	size_t ii;
	json_t *inbound;
	json_array_foreach(json_array_get(json_object_get(layer, "inbound_nodes"), 0), ii, inbound) {
		const int src = lk__net_find(net, lk__json_str(json_array_get(inbound, 0)));
		if (src < 0 || src == net->n_ops - 1 || op->n_in == 2)
			return bad(name, "reads a layer that is not defined before it (or more than two)");
		op->in[op->n_in++] = src;
	}
	return LK_OK;
}

/* Appends the layer's op to the net, named and wired, with its first input's shape to start
 * from; the class's reader then sets the rest. */
static int begin_op(struct keras_layer *l, json_t *layer, const char *cls)
{
	lk_op *op = &l->net->ops[l->net->n_ops];
	if (!(op->name = strdup(l->name)))
		return lk__fail(LK_ENOMEM, "loading the CNN");
	l->net->n_ops++;
	l->op = op;
	const int rc = wire_inputs(l->net, op, layer, l->name);
	if (rc != LK_OK)
		return rc;
	l->src = op->n_in ? &l->net->ops[op->in[0]] : NULL;
	if (strcmp(cls, "InputLayer") && !l->src)
		return bad(l->name, "has no input");
	if (l->src)
		op->h = l->src->h, op->w = l->src->w, op->c = l->src->c;
	return LK_OK;
}

static int read_layer(lk_net *net, const lk_tfjs_model *m, const int *readers, size_t index, json_t *layer)
{
	const char *cls = json_string_value(json_object_get(layer, "class_name"));
	struct keras_layer l = {.net = net, .m = m, .readers = readers, .cfg = json_object_get(layer, "config")};
	l.name = json_string_value(json_object_get(l.cfg, "name"));
	if (!cls || !l.name)
		return lk__fail(LK_ECORRUPT, "Keras layer %zu has no class or name", index);
	int rc = begin_op(&l, layer, cls);
	if (rc != LK_OK)
		return rc;
	const layer_reader read = reader_for(cls);
	if (!read)
		return lk__fail(LK_ECORRUPT, "Keras layer %s: class %s is not supported", l.name, cls);
	rc = read(&l);
	if (rc == LK_OK && (l.op->h <= 0 || l.op->w <= 0 || l.op->c <= 0))
		rc = bad(l.name, "has an empty output");
	return rc;
}

static json_t *keras_layers(const lk_tfjs_model *m)
{
	return json_object_get(json_object_get(json_object_get(m->topology, "model_config"), "config"), "layers");
}

static int read_layers(lk_net *net, const lk_tfjs_model *m, json_t *layers)
{
	int *readers = count_readers(layers);
	if (!readers)
		return lk__fail(LK_ENOMEM, "loading the CNN");
	int rc = LK_OK;
	size_t li;
	json_t *layer;
	json_array_foreach(layers, li, layer) {
		if ((rc = read_layer(net, m, readers, li, layer)) != LK_OK)
			break;
	}
	free(readers);
	return rc;
}

int lk__net_from_keras(lk_net *net, const lk_tfjs_model *m)
{
	memset(net, 0, sizeof *net);
	json_t *layers = keras_layers(m);
	if (!json_is_array(layers))
		return lk__fail(LK_ECORRUPT, "not a Keras layers model (no model_config.config.layers)");
	const size_t n = json_array_size(layers);
	net->ops = calloc(n ? n : 1, sizeof *net->ops);
	if (!net->ops)
		return lk__fail(LK_ENOMEM, "loading the CNN");
	int rc = read_layers(net, m, layers);
	if (rc == LK_OK && (net->n_ops == 0 || net->ops[0].kind != LK_OP_INPUT))
		rc = lk__fail(LK_ECORRUPT, "Keras model: the first layer is not its input");
	if (rc != LK_OK)
		lk__net_free(net);
	return rc;
}
