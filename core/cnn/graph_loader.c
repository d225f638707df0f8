/* A TensorFlow GraphDef (TF.js graph model) as a net: the nodes the output depends on, in
 * dependency order; Const nodes are weights, not ops. */
#include "core/cnn/graph_loader.h"
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>

/* Decodes standard base64 (attribute strings in GraphDef JSON) into `out` (NUL-terminated). */
static void base64_text(char *out, size_t size, const char *in)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned acc = 0;
	int bits = 0;
	size_t n = 0;
	for (; *in && *in != '='; in++) {
		const char *p = strchr(alphabet, *in);
		if (!p)
			break;
		acc = acc << 6 | (unsigned)(p - alphabet);
		bits += 6;
		if (bits >= 8 && n + 1 < size) {
			bits -= 8;
			out[n++] = (char)(acc >> bits & 0xff);
		}
	}
	out[n] = '\0';
}

static json_t *attr(json_t *node, const char *name)
{
	return json_object_get(json_object_get(node, "attr"), name);
}

static int attr_is(json_t *node, const char *name, const char *want)
{
	char text[64];
	base64_text(text, sizeof text, lk__json_str(json_object_get(attr(node, name), "s")));
	return !strcmp(text, want);
}

/* The i-th integer of a list attribute ({"list": {"i": ["1", "2", ...]}}), or -1. */
static int attr_int(json_t *node, const char *name, size_t i)
{
	json_t *v = json_array_get(json_object_get(json_object_get(attr(node, name), "list"), "i"), i);
	return v ? atoi(lk__json_str(v)) : -1;
}

struct builder {
	lk_net *net;
	const lk_tfjs_model *m;
	json_t *nodes;   /* name -> node */
};

/* The node an input reference names ("name", "name:0"; "^name" is a control edge). */
static void input_name(char *out, size_t size, const char *ref)
{
	snprintf(out, size, "%s", ref);
	char *colon = strrchr(out, ':');
	if (colon && colon != out)
		*colon = '\0';
}

static int fail_node(const char *name, const char *what)
{
	return lk__fail(LK_ECORRUPT, "graph node %s: %s", name, what);
}

static int copy_weight(float **out, const lk_tfjs_model *m, const char *name, size_t count)
{
	const lk_tensor *t = lk__tfjs_tensor(m, name);
	if (!t || t->count != count)
		return fail_node(name, t ? "weight of the wrong size" : "missing weight");
	if (!(*out = malloc(count * sizeof(float))))
		return lk__fail(LK_ENOMEM, "loading the CNN");
	memcpy(*out, t->data, count * sizeof(float));
	return LK_OK;
}

/* Activation from a fused_ops list: BiasAdd then optionally Relu or Relu6. */
static int fused(json_t *node, lk_activation *act)
{
	json_t *ops = json_object_get(json_object_get(attr(node, "fused_ops"), "list"), "s");
	*act = LK_ACT_NONE;
	size_t i;
	json_t *v;
	json_array_foreach(ops, i, v) {
		char op[32];
		base64_text(op, sizeof op, lk__json_str(v));
		if (i == 0 && !strcmp(op, "BiasAdd"))
			continue;
		if (i == 1 && !strcmp(op, "Relu6"))
			*act = LK_ACT_RELU6;
		else if (i == 1 && !strcmp(op, "Relu"))
			*act = LK_ACT_RELU;
		else
			return -1;
	}
	return json_array_size(ops) >= 1 ? 0 : -1;
}

static int make_op(struct builder *b, json_t *node, const char *name, const char *type, int *ins, int n_ins,
		   const char **consts, int n_consts)
{
	lk_net *net = b->net;
	lk_op *op = &net->ops[net->n_ops];
	memset(op, 0, sizeof *op);
	if (!(op->name = strdup(name)))
		return lk__fail(LK_ENOMEM, "loading the CNN");
	net->n_ops++;
	for (int i = 0; i < n_ins && i < 2; i++)
		op->in[op->n_in++] = ins[i];
	const lk_op *src = n_ins ? &net->ops[ins[0]] : NULL;
	if (src)
		op->h = src->h, op->w = src->w, op->c = src->c;
	int rc = LK_OK;
	if (!strcmp(type, "Placeholder")) {
		op->kind = LK_OP_INPUT;
		json_t *dims = json_object_get(json_object_get(attr(node, "shape"), "shape"), "dim");
		op->h = atoi(lk__json_str(json_object_get(json_array_get(dims, 1), "size")));
		op->w = atoi(lk__json_str(json_object_get(json_array_get(dims, 2), "size")));
		op->c = atoi(lk__json_str(json_object_get(json_array_get(dims, 3), "size")));
		if (op->h <= 0 || op->w <= 0 || op->c != 3)
			return fail_node(name, "input must be H x W x 3");
		net->in_h = op->h, net->in_w = op->w;
	} else if (!strcmp(type, "Mul") || !strcmp(type, "Sub") || !strcmp(type, "Add")) {
		const lk_tensor *k = n_consts == 1 ? lk__tfjs_tensor(b->m, consts[0]) : NULL;
		if (!src || !k || k->count != 1)
			return fail_node(name, "only arithmetic with one scalar constant is supported");
		op->kind = LK_OP_AFFINE;
		op->mul = type[0] == 'M' ? k->data[0] : 1.0f;
		op->add = type[0] == 'S' ? -k->data[0] : type[0] == 'A' ? k->data[0] : 0.0f;
	} else if (!strcmp(type, "_FusedConv2D") || !strcmp(type, "FusedDepthwiseConv2dNative")) {
		const int depthwise = type[0] == 'F';
		const lk_tensor *w = n_consts == 2 ? lk__tfjs_tensor(b->m, consts[0]) : NULL;
		if (!src || !w || w->rank != 4 || w->shape[2] != src->c || (depthwise && w->shape[3] != 1) ||
		    !attr_is(node, "data_format", "NHWC") || attr_int(node, "dilations", 1) != 1 ||
		    attr_int(node, "dilations", 2) != 1 || fused(node, &op->act))
			return fail_node(name, "unsupported convolution (NHWC, no dilation, BiasAdd [+ Relu/Relu6])");
		op->kind = depthwise ? LK_OP_DWCONV : LK_OP_CONV;
		op->kh = w->shape[0], op->kw = w->shape[1];
		op->sh = attr_int(node, "strides", 1), op->sw = attr_int(node, "strides", 2);
		const int same = attr_is(node, "padding", "SAME");
		if (!same && !attr_is(node, "padding", "VALID"))
			return fail_node(name, "padding must be SAME or VALID");
		op->h = lk__conv_axis(src->h, op->kh, op->sh, same, &op->pad_t, &op->pad_b);
		op->w = lk__conv_axis(src->w, op->kw, op->sw, same, &op->pad_l, &op->pad_r);
		op->c = depthwise ? src->c : w->shape[3];
		op->weights_in = src->c;
		rc = copy_weight(&op->weights, b->m, consts[0], w->count);
		if (rc == LK_OK)
			rc = copy_weight(&op->bias, b->m, consts[1], (size_t)op->c);
	} else if (!strcmp(type, "AddV2")) {
		op->kind = LK_OP_ADD;
		if (n_ins != 2 || lk__op_size(&net->ops[ins[1]]) != lk__op_size(src))
			return fail_node(name, "adds two tensors of one shape");
	} else if (!strcmp(type, "AvgPool")) {
		op->kind = LK_OP_AVGPOOL;
		op->kh = attr_int(node, "ksize", 1), op->kw = attr_int(node, "ksize", 2);
		op->sh = attr_int(node, "strides", 1), op->sw = attr_int(node, "strides", 2);
		int lo, hi;
		if (!attr_is(node, "padding", "VALID") || op->kh <= 0 || op->sh <= 0)
			return fail_node(name, "unsupported pooling");
		op->h = lk__conv_axis(src->h, op->kh, op->sh, 0, &lo, &hi);
		op->w = lk__conv_axis(src->w, op->kw, op->sw, 0, &lo, &hi);
	} else if (!strcmp(type, "Squeeze") || !strcmp(type, "Identity")) {
		op->kind = LK_OP_IDENTITY;
		if (type[0] == 'S')
			op->c = (int)lk__op_size(src), op->h = op->w = 1;
	} else if (!strcmp(type, "_FusedMatMul")) {
		const lk_tensor *w = n_consts == 2 ? lk__tfjs_tensor(b->m, consts[0]) : NULL;
		if (!src || !w || w->rank != 2 || (size_t)w->shape[0] != lk__op_size(src) ||
		    json_is_true(json_object_get(attr(node, "transpose_a"), "b")) ||
		    json_is_true(json_object_get(attr(node, "transpose_b"), "b")) || fused(node, &op->act))
			return fail_node(name, "unsupported matrix product");
		op->kind = LK_OP_DENSE;
		op->h = op->w = 1, op->c = w->shape[1];
		rc = copy_weight(&op->weights, b->m, consts[0], w->count);
		if (rc == LK_OK)
			rc = copy_weight(&op->bias, b->m, consts[1], (size_t)op->c);
	} else if (!strcmp(type, "Softmax")) {
		op->kind = LK_OP_SOFTMAX;
	} else {
		return lk__fail(LK_ECORRUPT, "graph node %s: op %s is not supported", name, type);
	}
	if (rc == LK_OK && (op->h <= 0 || op->w <= 0 || op->c <= 0))
		rc = fail_node(name, "has an empty output");
	return rc;
}

/* Builds the op of node `name` after the ops it reads (depth-first, each node once). */
static int build(struct builder *b, const char *name, int depth)
{
	if (lk__net_find(b->net, name) >= 0)
		return LK_OK;
	if (depth > 4096)
		return fail_node(name, "the graph is too deep or has a cycle");
	json_t *node = json_object_get(b->nodes, name);
	if (!node)
		return fail_node(name, "is read but not defined");
	const char *type = lk__json_str(json_object_get(node, "op"));
	int ins[2], n_ins = 0, n_consts = 0;
	const char *consts[2];
	char in_name[512], const_names[2][512];
	size_t i;
	json_t *ref;
	json_array_foreach(json_object_get(node, "input"), i, ref) {
		if (lk__json_str(ref)[0] == '^')
			continue; /* a control edge orders execution only */
		input_name(in_name, sizeof in_name, lk__json_str(ref));
		json_t *src = json_object_get(b->nodes, in_name);
		if (src && !strcmp(lk__json_str(json_object_get(src, "op")), "Const")) {
			if (n_consts == 2)
				return fail_node(name, "reads more than two constants");
			snprintf(const_names[n_consts], sizeof const_names[0], "%s", in_name);
			consts[n_consts] = const_names[n_consts];
			n_consts++;
			continue;
		}
		int rc = build(b, in_name, depth + 1);
		if (rc != LK_OK)
			return rc;
		if (n_ins == 2)
			return fail_node(name, "reads more than two tensors");
		ins[n_ins++] = lk__net_find(b->net, in_name);
	}
	return make_op(b, node, name, type, ins, n_ins, consts, n_consts);
}

int lk__net_from_graph(lk_net *net, const lk_tfjs_model *m, const char *output)
{
	memset(net, 0, sizeof *net);
	json_t *nodes = json_object_get(m->topology, "node");
	if (!json_is_array(nodes))
		return lk__fail(LK_ECORRUPT, "not a TensorFlow graph model (no modelTopology.node)");
	struct builder b = { net, m, json_object() };
	size_t i;
	json_t *node;
	json_array_foreach(nodes, i, node) json_object_set(b.nodes, lk__json_str(json_object_get(node, "name")), node);
	net->ops = calloc(json_array_size(nodes) + 1, sizeof *net->ops);
	int rc = net->ops ? build(&b, output ? output : "Identity", 0) : lk__fail(LK_ENOMEM, "loading the CNN");
	json_decref(b.nodes);
	if (rc == LK_OK && (net->n_ops == 0 || net->ops[0].kind != LK_OP_INPUT))
		rc = lk__fail(LK_ECORRUPT, "graph model: its first op is not the input");
	if (rc != LK_OK)
		lk__net_free(net);
	return rc;
}
