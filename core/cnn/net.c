/* Running a net: each op in order, convolutions as OpenBLAS GEMMs, every op's output kept in a
 * per-thread arena (so each layer stays inspectable, as the reference tests need). */
#include "net.h"
#include "internal.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The elementwise loops are built for AVX2 and the baseline, picked at load time. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define LK_HOT __attribute__((target_clones("avx2", "default")))
#else
#define LK_HOT
#endif

size_t lk__op_size(const lk_op *op)
{
	return (size_t)op->h * op->w * op->c;
}

int lk__conv_axis(int in, int k, int s, int same, int *pad_lo, int *pad_hi)
{
	if (same) {
		const int out = (in + s - 1) / s, total = (out - 1) * s + k - in;
		*pad_lo = total > 0 ? total / 2 : 0;
		*pad_hi = total > 0 ? total - total / 2 : 0;
		return out;
	}
	*pad_lo = *pad_hi = 0;
	return in >= k ? (in - k) / s + 1 : 0;
}

void lk__net_free(lk_net *net)
{
	for (int i = 0; i < net->n_ops; i++) {
		free(net->ops[i].name);
		free(net->ops[i].weights);
		free(net->ops[i].bias);
	}
	free(net->ops);
	memset(net, 0, sizeof *net);
}

int lk__net_find(const lk_net *net, const char *name)
{
	for (int i = 0; i < net->n_ops; i++)
		if (!strcmp(net->ops[i].name, name))
			return i;
	return -1;
}

LK_HOT static void activate(float *x, size_t n, lk_activation act)
{
	if (act == LK_ACT_RELU)
		for (size_t i = 0; i < n; i++)
			x[i] = x[i] > 0 ? x[i] : 0;
	else if (act == LK_ACT_RELU6)
		for (size_t i = 0; i < n; i++)
			x[i] = x[i] > 0 ? (x[i] < 6 ? x[i] : 6) : 0;
}

static void add_bias(float *x, size_t pixels, int c, const float *bias)
{
	if (!bias)
		return;
	for (size_t p = 0; p < pixels; p++)
		for (int k = 0; k < c; k++)
			x[p * c + k] += bias[k];
}

/* Convolution: output pixels x K patches (im2col) times the K x cout kernel. A 1x1 stride-1
 * convolution needs no patches: the input already is that matrix. */
static int conv(const lk_op *op, const lk_op *src, const float *in, float *out)
{
	const int cin = src->c, K = op->kh * op->kw * cin, pixels = op->h * op->w;
	const float *patches = in;
	float *cols = NULL;
	if (!(op->kh == 1 && op->kw == 1 && op->sh == 1 && op->sw == 1 && !op->pad_t && !op->pad_l)) {
		cols = malloc((size_t)pixels * K * sizeof *cols);
		if (!cols)
			return LK_ENOMEM;
		for (int y = 0; y < op->h; y++)
			for (int x = 0; x < op->w; x++) {
				float *row = cols + ((size_t)y * op->w + x) * K;
				for (int ky = 0; ky < op->kh; ky++) {
					const int iy = y * op->sh + ky - op->pad_t;
					for (int kx = 0; kx < op->kw; kx++) {
						const int ix = x * op->sw + kx - op->pad_l;
						float *dst = row + (ky * op->kw + kx) * cin;
						if (iy < 0 || iy >= src->h || ix < 0 || ix >= src->w)
							memset(dst, 0, sizeof(float) * cin);
						else
							memcpy(dst, in + ((size_t)iy * src->w + ix) * cin, sizeof(float) * cin);
					}
				}
			}
		patches = cols;
	}
	/* Start from the bias and let the GEMM add to it (beta 1): one pass over the output
	 * instead of a zeroing pass and a bias pass. */
	if (op->bias)
		for (int p = 0; p < pixels; p++)
			memcpy(out + (size_t)p * op->c, op->bias, sizeof(float) * op->c);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, pixels, op->c, K, 1.0f, patches, K, op->weights,
		    op->c, op->bias ? 1.0f : 0.0f, out, op->c);
	free(cols);
	activate(out, lk__op_size(op), op->act);
	return LK_OK;
}

LK_HOT static void dwconv(const lk_op *op, const lk_op *src, const float *restrict in, float *restrict out)
{
	const int c = op->c;
	for (int y = 0; y < op->h; y++)
		for (int x = 0; x < op->w; x++) {
			float *o = out + ((size_t)y * op->w + x) * c;
			for (int k = 0; k < c; k++)
				o[k] = op->bias ? op->bias[k] : 0.0f;
			for (int ky = 0; ky < op->kh; ky++) {
				const int iy = y * op->sh + ky - op->pad_t;
				if (iy < 0 || iy >= src->h)
					continue;
				for (int kx = 0; kx < op->kw; kx++) {
					const int ix = x * op->sw + kx - op->pad_l;
					if (ix < 0 || ix >= src->w)
						continue;
					const float *i = in + ((size_t)iy * src->w + ix) * c;
					const float *w = op->weights + (size_t)(ky * op->kw + kx) * c;
					for (int k = 0; k < c; k++)
						o[k] += i[k] * w[k];
				}
			}
		}
	activate(out, lk__op_size(op), op->act);
}

static void pad(const lk_op *op, const lk_op *src, const float *in, float *out)
{
	memset(out, 0, lk__op_size(op) * sizeof *out);
	for (int y = 0; y < src->h; y++)
		memcpy(out + ((size_t)(y + op->pad_t) * op->w + op->pad_l) * op->c, in + (size_t)y * src->w * src->c,
		       sizeof(float) * src->w * src->c);
}

static void avgpool(const lk_op *op, const lk_op *src, const float *in, float *out)
{
	const int c = op->c;
	for (int y = 0; y < op->h; y++)
		for (int x = 0; x < op->w; x++) {
			float *o = out + ((size_t)y * op->w + x) * c;
			for (int k = 0; k < c; k++)
				o[k] = 0;
			for (int ky = 0; ky < op->kh; ky++)
				for (int kx = 0; kx < op->kw; kx++) {
					const float *i = in + ((size_t)(y * op->sh + ky) * src->w + (x * op->sw + kx)) * c;
					for (int k = 0; k < c; k++)
						o[k] += i[k];
				}
			for (int k = 0; k < c; k++)
				o[k] /= (float)(op->kh * op->kw);
		}
}

static void softmax(float *x, int n)
{
	float m = x[0], sum = 0;
	for (int i = 1; i < n; i++)
		m = x[i] > m ? x[i] : m;
	for (int i = 0; i < n; i++)
		sum += x[i] = expf(x[i] - m);
	for (int i = 0; i < n; i++)
		x[i] /= sum;
}

int lk__net_arena_init(lk_net_arena *a, const lk_net *net)
{
	memset(a, 0, sizeof *a);
	size_t total = 0;
	for (int i = 0; i < net->n_ops; i++)
		if (net->ops[i].kind != LK_OP_IDENTITY)
			total += (lk__op_size(&net->ops[i]) + 15) & ~(size_t)15; /* 64-byte aligned starts */
	a->out = calloc((size_t)net->n_ops, sizeof *a->out);
	if (!a->out || posix_memalign((void **)&a->block, 64, total * sizeof(float)) != 0) {
		free(a->out);
		a->out = NULL;
		return lk__fail(LK_ENOMEM, "allocating CNN working memory (%zu MB)", total * sizeof(float) >> 20);
	}
	size_t offset = 0;
	for (int i = 0; i < net->n_ops; i++) {
		const lk_op *op = &net->ops[i];
		if (op->kind == LK_OP_IDENTITY) {
			a->out[i] = a->out[op->in[0]]; /* same values, same storage */
			continue;
		}
		a->out[i] = a->block + offset;
		offset += (lk__op_size(op) + 15) & ~(size_t)15;
	}
	return LK_OK;
}

void lk__net_arena_free(lk_net_arena *a)
{
	free(a->block);
	free(a->out);
	memset(a, 0, sizeof *a);
}

int lk__net_run(const lk_net *net, const float *image, lk_net_arena *a)
{
	float **out = a->out;
	int rc = LK_OK;
	for (int i = 0; i < net->n_ops && rc == LK_OK; i++) {
		const lk_op *op = &net->ops[i];
		const size_t n = lk__op_size(op);
		const lk_op *src = op->n_in ? &net->ops[op->in[0]] : NULL;
		const float *in = op->n_in ? out[op->in[0]] : NULL;
		switch (op->kind) {
		case LK_OP_INPUT: memcpy(out[i], image, n * sizeof(float)); break;
		case LK_OP_PAD: pad(op, src, in, out[i]); break;
		case LK_OP_CONV: rc = conv(op, src, in, out[i]); break;
		case LK_OP_DWCONV: dwconv(op, src, in, out[i]); break;
		case LK_OP_ACT:
			memcpy(out[i], in, n * sizeof(float));
			activate(out[i], n, op->act);
			break;
		case LK_OP_ADD:
			for (size_t k = 0; k < n; k++)
				out[i][k] = in[k] + out[op->in[1]][k];
			break;
		case LK_OP_AVGPOOL: avgpool(op, src, in, out[i]); break;
		case LK_OP_DENSE:
			cblas_sgemv(CblasRowMajor, CblasTrans, (int)lk__op_size(src), op->c, 1.0f, op->weights, op->c, in,
				    1, 0.0f, out[i], 1);
			add_bias(out[i], 1, op->c, op->bias);
			if (op->act == LK_ACT_SOFTMAX)
				softmax(out[i], op->c);
			else
				activate(out[i], n, op->act);
			break;
		case LK_OP_SOFTMAX:
			memcpy(out[i], in, n * sizeof(float));
			softmax(out[i], (int)n);
			break;
		case LK_OP_IDENTITY: break; /* shares its input's storage */
		case LK_OP_AFFINE:
			for (size_t k = 0; k < n; k++) {
				const float t = in[k] * op->mul;
				out[i][k] = t + op->add;
			}
			break;
		}
	}
	return rc == LK_OK ? LK_OK : lk__fail(LK_ENOMEM, "running the CNN");
}
