/* A CNN as a list of operations over NHWC float tensors, run on OpenBLAS. Built from a
 * TensorFlow.js model (core/cnn/keras_loader.c reads Keras layers models). Internal. */
#ifndef LK_CNN_NET_H
#define LK_CNN_NET_H

#include <stddef.h>

typedef enum lk_op_kind {
	LK_OP_INPUT,    /* the image: H x W x 3, float, pixel / 255 */
	LK_OP_PAD,      /* zero padding */
	LK_OP_CONV,     /* convolution (batch norm folded in), bias, activation */
	LK_OP_DWCONV,   /* depthwise convolution (multiplier 1), bias, activation */
	LK_OP_ACT,      /* activation alone */
	LK_OP_ADD,      /* elementwise sum of two inputs */
	LK_OP_AVGPOOL,  /* average pooling, valid */
	LK_OP_DENSE,    /* fully connected on the flattened input, bias, activation */
	LK_OP_SOFTMAX,  /* softmax over channels */
	LK_OP_IDENTITY, /* flatten, dropout, folded batch norm: the input unchanged */
	LK_OP_AFFINE,   /* x * mul, then + add (two float roundings, as two graph ops do) */
} lk_op_kind;

typedef enum lk_activation { LK_ACT_NONE, LK_ACT_RELU, LK_ACT_RELU6, LK_ACT_SOFTMAX } lk_activation;

typedef struct lk_op {
	char *name;
	lk_op_kind kind;
	int in[2], n_in;            /* indices of earlier ops */
	int h, w, c;                /* output shape */
	int kh, kw, sh, sw;         /* kernel and strides (conv, depthwise, pooling) */
	int pad_t, pad_b, pad_l, pad_r;
	lk_activation act;
	float *weights;             /* conv: [kh*kw*cin][cout]; depthwise: [kh*kw][c]; dense: [in][out] */
	float *bias;                /* [c], may be NULL */
	int weights_in;             /* conv: input channels the kernel was built for */
	float mul, add;             /* affine */
} lk_op;

typedef struct lk_net {
	lk_op *ops;
	int n_ops;
	int in_h, in_w;
} lk_net;

void lk__net_free(lk_net *net);
/* Index of the op named `name`, or -1. */
int lk__net_find(const lk_net *net, const char *name);
/* Working memory for running a net, made once per thread and reused for every image.
 *
 * lk__net_arena_init keeps every op's output (each in its own place; ops that pass their input
 * through share its storage): the reference tests read any layer. lk__net_arena_init_keep
 * keeps only the ops listed: ops nothing kept depends on are not run, outputs share storage
 * once they are no longer needed, and a residual Add is done by the projection convolution
 * before it (its output written straight into the Add's). That is the mode to embed with. */
typedef struct lk_net_arena {
	float *block;
	float **out;          /* out[i]: op i's output after lk__net_run (kept ops only, in keep mode) */
	float *cols;          /* im2col rows for one block of a spatial convolution's output */
	float *strip;         /* a strip of kernel columns, laid out for lk__gemm_fused */
	unsigned char *skip;  /* skip[i]: op i is not run (not needed, or done by a convolution) */
	int *residual;        /* residual[i] >= 0: convolution i adds that op's output (a fused Add) */
} lk_net_arena;

int lk__net_arena_init(lk_net_arena *a, const lk_net *net);
int lk__net_arena_init_keep(lk_net_arena *a, const lk_net *net, const int *keep, int n_keep);
void lk__net_arena_free(lk_net_arena *a);

/* Runs the net on one image (in_h x in_w x 3 floats) into the arena; the outputs the arena
 * keeps stay readable in a->out until the next run. Allocates nothing. Returns LK_OK. */
int lk__net_run(const lk_net *net, const float *image, lk_net_arena *a);
/* out (n x c) = act(bias + skip + a (n x K) x w (K x c)), bias and skip may be NULL; strip is
 * scratch of lk__gemm_strip_floats(K) floats, 64-byte aligned (core/cnn/gemm.c). Returns 0,
 * having done nothing, where the CPU lacks the instructions. */
int lk__gemm_fused(int n, int c, int K, const float *a, const float *w, const float *bias, const float *skip,
		   lk_activation act, float *out, float *strip);
size_t lk__gemm_strip_floats(int K);
/* Set by tests and bench_cnn to take the kernels of a lesser CPU: 1, those of a CPU without
 * AVX-512; 2, those of one without AVX2 either (OpenBLAS and plain loops). 0 by default. */
extern int lk__cnn_simd_limit;
/* Depthwise convolution with bias and activation (core/cnn/depthwise.c). */
void lk__dwconv(const lk_op *op, const lk_op *src, const float *in, float *out);
/* Output size along one axis of a convolution or pooling window k with stride s, and its
 * padding before/after, by TensorFlow's rules ('same': ceil(in / s), the odd pixel of padding
 * after; 'valid': no padding). */
int lk__conv_axis(int in, int k, int s, int same, int *pad_lo, int *pad_hi);

/* Elements of op i's output. */
size_t lk__op_size(const lk_op *op);

#endif
