/* Running a net: each op in order, convolutions as GEMMs over blocks of output pixels (the
 * fused kernels of gemm.c where the CPU has them, else OpenBLAS), outputs in a per-thread arena
 * planned once (see lk_net_arena in net.h). */
#include "core/cnn/net.h"
#include "core/internal.h"

#include <assert.h>
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
	/* A damaged model's window or stride of 0 gives an empty output, which the loaders refuse,
	 * instead of a division by zero. */
	if (k <= 0 || s <= 0) {
		*pad_lo = *pad_hi = 0;
		return 0;
	}
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

/* Output pixels per GEMM call: a block of patches and of output small enough to stay in the L2
 * cache while bias, residual and activation are applied around the GEMM. */
enum { BLOCK_ROWS = 224 }; /* 7 x 32: whole tiles of core/cnn/gemm.c */

static int is_direct(const lk_op *op)
{
	return op->kh == 1 && op->kw == 1 && op->sh == 1 && op->sw == 1 && !op->pad_t && !op->pad_l;
}

/* The patches (im2col) of output pixels [p0, p0 + n), one row of kh * kw * cin each. */
static void im2col(const lk_op *op, const lk_op *src, const float *in, float *cols, int p0, int n)
{
	const int cin = src->c, K = op->kh * op->kw * cin;
	for (int p = p0; p < p0 + n; p++) {
		const int y = p / op->w, x = p % op->w;
		float *row = cols + (size_t)(p - p0) * K;
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
}

/* What the GEMM adds to (beta 1): the bias, plus the skip input of a fused residual Add. */
LK_HOT static void start_rows(float *restrict out, int n, int c, const float *restrict bias,
			      const float *restrict skip)
{
	for (int p = 0; p < n; p++)
		for (int k = 0; k < c; k++)
			out[(size_t)p * c + k] = (skip ? skip[(size_t)p * c + k] : 0.0f) + (bias ? bias[k] : 0.0f);
}

/* Convolution: output pixels x K patches (im2col) times the K x cout kernel, a block of pixels
 * at a time. A 1x1 stride-1 convolution needs no patches: the input already is that matrix. */
static void conv(const lk_op *op, const lk_op *src, const float *in, float *out, const float *skip, float *cols,
		 float *strip)
{
	const int K = op->kh * op->kw * src->c, pixels = op->h * op->w, c = op->c;
	const int beta = op->bias || skip;
	for (int p0 = 0; p0 < pixels; p0 += BLOCK_ROWS) {
		const int n = pixels - p0 < BLOCK_ROWS ? pixels - p0 : BLOCK_ROWS;
		float *o = out + (size_t)p0 * c;
		const float *patches = in + (size_t)p0 * K;
		if (!is_direct(op)) {
			im2col(op, src, in, cols, p0, n);
			patches = cols;
		}
		if (lk__gemm_fused(n, c, K, patches, op->weights, op->bias, skip ? skip + (size_t)p0 * c : NULL, op->act,
				   o, strip))
			continue;
		if (beta)
			start_rows(o, n, c, op->bias, skip ? skip + (size_t)p0 * c : NULL);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, c, K, 1.0f, patches, K, op->weights, c,
			    beta ? 1.0f : 0.0f, o, c);
		activate(o, (size_t)n * c, op->act);
	}
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

static int root(const lk_net *net, int i)
{
	while (net->ops[i].kind == LK_OP_IDENTITY)
		i = net->ops[i].in[0];
	return i;
}

static size_t padded(size_t n)
{
	return (n + 15) & ~(size_t)15; /* 64-byte aligned starts */
}

/* Marks the ops something kept depends on: need[i]. */
static void mark_needed(const lk_net *net, unsigned char *need)
{
	for (int i = net->n_ops - 1; i >= 0; i--)
		for (int k = 0; need[i] && k < net->ops[i].n_in; k++)
			need[net->ops[i].in[k]] = 1;
}

/* A needed Add whose later input is a convolution with no activation, used by nothing else and
 * not kept: that convolution can start from the other input instead of from zero and write the
 * sum itself. Sets a->residual, skips the Add, and makes the Add owner[] of the convolution's
 * storage. */
static void fuse_adds(const lk_net *net, const unsigned char *need, const unsigned char *keep, lk_net_arena *a,
		      int *owner)
{
	int *users = calloc((size_t)net->n_ops, sizeof *users);
	unsigned char *kept = calloc((size_t)net->n_ops, 1);
	if (!users || !kept) { /* not fusing is always correct */
		free(users);
		free(kept);
		return;
	}
	for (int i = 0; i < net->n_ops; i++) {
		if (keep[i])
			kept[root(net, i)] = 1;
		if (need[i] && net->ops[i].kind != LK_OP_IDENTITY)
			for (int k = 0; k < net->ops[i].n_in; k++)
				users[root(net, net->ops[i].in[k])]++;
	}
	for (int i = 0; i < net->n_ops; i++) {
		const lk_op *add = &net->ops[i];
		if (!need[i] || add->kind != LK_OP_ADD || add->n_in != 2)
			continue;
		const int r0 = root(net, add->in[0]), r1 = root(net, add->in[1]);
		const int r = r0 > r1 ? r0 : r1, other = r0 > r1 ? r1 : r0;
		const lk_op *c = &net->ops[r];
		if (r != other && c->kind == LK_OP_CONV && c->act == LK_ACT_NONE && users[r] == 1 && !kept[r] &&
		    lk__op_size(c) == lk__op_size(add)) {
			a->residual[r] = other;
			a->skip[i] = 1;
			owner[r] = i;
		}
	}
	free(users);
	free(kept);
}

/* Places each output in the block: an output lives from the op that writes it to the last op
 * that reads it (kept ones to the end), and takes the lowest offset clear of every output
 * alive at the same time. With everything kept, outputs simply follow one another. A fused
 * Add's storage is placed when its convolution writes it. Returns the block's size, 0 when out
 * of memory. */
static size_t place(const lk_net *net, const unsigned char *need, const unsigned char *keep, const int *owner,
		    size_t *offset)
{
	const int n = net->n_ops;
	int *end = malloc((size_t)n * sizeof *end);
	if (!end)
		return 0;
	for (int i = 0; i < n; i++)
		end[i] = keep[i] ? n : i;
	for (int j = 0; j < n; j++)
		for (int k = 0; need[j] && k < net->ops[j].n_in; k++) {
			const int r = owner[root(net, net->ops[j].in[k])];
			end[r] = end[r] > j ? end[r] : j;
		}
	for (int i = 0; i < n; i++) /* a kept identity keeps what it shows */
		if (keep[i] && net->ops[i].kind == LK_OP_IDENTITY)
			end[owner[root(net, i)]] = n;
	for (int i = 0; i < n; i++)
		offset[i] = (size_t)-1;
	size_t total = 0;
	for (int i = 0; i < n; i++) {
		const int o = owner[i];
		if (!need[i] || net->ops[i].kind == LK_OP_IDENTITY || (o == i && net->ops[i].kind == LK_OP_ADD &&
									offset[i] != (size_t)-1))
			continue;
		const size_t size = padded(lk__op_size(&net->ops[o]));
		size_t at = 0;
		for (int moved = 1; moved;) {
			moved = 0;
			for (int j = 0; j < i; j++) {
				const int q = owner[j];
				if (offset[q] == (size_t)-1 || end[q] < i || (q != j && q < i))
					continue;
				const size_t qs = padded(lk__op_size(&net->ops[q]));
				if (at < offset[q] + qs && offset[q] < at + size) {
					at = offset[q] + qs;
					moved = 1;
				}
			}
		}
		offset[o] = at;
		offset[i] = at;
		total = at + size > total ? at + size : total;
	}
	free(end);
	return total;
}

static int plan(lk_net_arena *a, const lk_net *net, const unsigned char *keep)
{
	const int n = net->n_ops;
	memset(a, 0, sizeof *a);
	unsigned char *need = malloc((size_t)n);
	int *owner = malloc((size_t)n * sizeof *owner);
	size_t *offset = malloc((size_t)n * sizeof *offset);
	a->out = calloc((size_t)n, sizeof *a->out);
	a->skip = calloc((size_t)n, 1);
	a->residual = malloc((size_t)n * sizeof *a->residual);
	int rc = need && owner && offset && a->out && a->skip && a->residual ? LK_OK : LK_ENOMEM;
	size_t total = 0, cols = 0, strip = 0;
	if (rc == LK_OK) {
		memcpy(need, keep, (size_t)n);
		mark_needed(net, need);
		for (int i = 0; i < n; i++) {
			owner[i] = i;
			a->residual[i] = -1;
			a->skip[i] = !need[i];
		}
		fuse_adds(net, need, keep, a, owner);
		total = place(net, need, keep, owner, offset);
		for (int i = 0; i < n; i++) {
			const lk_op *op = &net->ops[i];
			if (need[i] && op->kind == LK_OP_CONV) {
				const size_t s = lk__gemm_strip_floats(op->kh * op->kw * net->ops[op->in[0]].c);
				strip = s > strip ? s : strip;
			}
			if (need[i] && op->kind == LK_OP_CONV && !is_direct(op)) {
				const size_t pixels = (size_t)op->h * op->w;
				const size_t k = (size_t)op->kh * op->kw * net->ops[op->in[0]].c;
				const size_t need_cols = (pixels < BLOCK_ROWS ? pixels : BLOCK_ROWS) * k;
				cols = need_cols > cols ? need_cols : cols;
			}
		}
		if (!total || posix_memalign((void **)&a->block, 64, total * sizeof(float)) != 0 ||
		    (cols && posix_memalign((void **)&a->cols, 64, cols * sizeof(float)) != 0) ||
		    (strip && posix_memalign((void **)&a->strip, 64, strip * sizeof(float)) != 0))
			rc = LK_ENOMEM;
	}
	/* Every placed output lies inside the block: a planning error would otherwise let one
	 * layer silently overwrite another's output. */
	for (int i = 0; rc == LK_OK && i < n; i++)
		assert(offset[i] == (size_t)-1 || offset[i] + lk__op_size(&net->ops[i]) <= total);
	if (rc == LK_OK)
		for (int i = 0; i < n; i++)
			a->out[i] = net->ops[i].kind == LK_OP_IDENTITY ? a->out[net->ops[i].in[0]]
				  : offset[i] != (size_t)-1     ? a->block + offset[i]
								: NULL;
	free(need);
	free(owner);
	free(offset);
	if (rc != LK_OK) {
		lk__net_arena_free(a);
		return lk__fail(LK_ENOMEM, "allocating CNN working memory (%zu MB)", (total + cols + strip) * sizeof(float) >> 20);
	}
	return LK_OK;
}

int lk__net_arena_init(lk_net_arena *a, const lk_net *net)
{
	unsigned char *keep = malloc((size_t)net->n_ops);
	if (keep)
		memset(keep, 1, (size_t)net->n_ops);
	const int rc = keep ? plan(a, net, keep) : lk__fail(LK_ENOMEM, "allocating CNN working memory");
	free(keep);
	return rc;
}

int lk__net_arena_init_keep(lk_net_arena *a, const lk_net *net, const int *keep_ops, int n_keep)
{
	unsigned char *keep = calloc((size_t)net->n_ops, 1);
	if (!keep)
		return lk__fail(LK_ENOMEM, "allocating CNN working memory");
	for (int k = 0; k < n_keep; k++)
		if (keep_ops[k] >= 0 && keep_ops[k] < net->n_ops)
			keep[keep_ops[k]] = 1;
	const int rc = plan(a, net, keep);
	free(keep);
	return rc;
}

void lk__net_arena_free(lk_net_arena *a)
{
	free(a->block);
	free(a->out);
	free(a->cols);
	free(a->strip);
	free(a->skip);
	free(a->residual);
	memset(a, 0, sizeof *a);
}

int lk__net_run(const lk_net *net, const float *image, lk_net_arena *a)
{
	float **out = a->out;
	for (int i = 0; i < net->n_ops; i++) {
		const lk_op *op = &net->ops[i];
		if (a->skip[i])
			continue;
		const size_t n = lk__op_size(op);
		const lk_op *src = op->n_in ? &net->ops[op->in[0]] : NULL;
		const float *in = op->n_in ? out[op->in[0]] : NULL;
		switch (op->kind) {
		case LK_OP_INPUT: memcpy(out[i], image, n * sizeof(float)); break;
		case LK_OP_PAD: pad(op, src, in, out[i]); break;
		case LK_OP_CONV: conv(op, src, in, out[i], a->residual[i] >= 0 ? out[a->residual[i]] : NULL, a->cols,
				  a->strip);
			break;
		case LK_OP_DWCONV: lk__dwconv(op, src, in, out[i]); break;
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
	return LK_OK;
}
