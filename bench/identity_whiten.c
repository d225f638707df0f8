/* bench_identity --whiten N: what a linear map of today's embedding learned from the train split
 * can do, before any head is trained (issue 17's first measure). Linear discriminant analysis:
 * the directions that spread characters apart relative to how each character's own pictures
 * (its poses, its scenes, its stored views) spread, from the train split's characters only; the
 * embeddings are projected onto the N strongest, made unit length, and every rule is measured
 * again on the same splits (validation and test never shape the map). */
#include "core/internal.h"
#include "identity.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define D LK_EMBEDDING_DIM

/* LAPACK (OpenBLAS): the generalised symmetric-definite eigenproblem A x = lambda B x. */
extern void ssygv_(const int *itype, const char *jobz, const char *uplo, const int *n, float *a, const int *lda,
		   float *b, const int *ldb, float *w, float *work, const int *lwork, int *info);

/* Calls f on every vector of image im: its picture on white, its scene, its stored views. */
static void each_vector(id_image *im, void (*f)(float *v, void *ctx), void *ctx)
{
	f(im->plain.v, ctx);
	f(im->scene.v, ctx);
	for (int k = 0; im->views && k < LK_VIEWS; k++)
		f(im->views[k].v, ctx);
	for (int k = 0; im->windows && k < im->n_windows; k++)
		f(im->windows[k].v, ctx);
}

struct sums {
	double *class_sum; /* per train character, D */
	int *class_n;
	double *mean;      /* D */
	long n;
	int character;     /* the one being summed */
};

static void add_to_sums(float *v, void *ctx)
{
	struct sums *s = ctx;
	double *c = s->class_sum + (size_t)s->character * D;
	for (int j = 0; j < D; j++) {
		c[j] += v[j];
		s->mean[j] += v[j];
	}
	s->class_n[s->character]++;
	s->n++;
}

/* The windows of a scene are parts of it, not pictures of the character: left out of training. */
static int trains(const id_track *t, const id_image *im)
{
	return im->ok && im->character >= 0 && t->characters[im->character].split == SPLIT_TRAIN;
}

/* Within-character (sw) and between-character (sb) scatter of the train split, D x D. */
static int scatter(float *sw, float *sb, double *mean, const id_track *t)
{
	struct sums s = { .class_sum = calloc((size_t)t->n_characters * D, sizeof(double)),
			  .class_n = calloc((size_t)t->n_characters, sizeof(int)),
			  .mean = mean };
	float *centred = malloc(sizeof(float) * D * (LK_VIEWS + 2));
	if (!s.class_sum || !s.class_n || !centred) {
		free(s.class_sum);
		free(s.class_n);
		free(centred);
		return -1;
	}
	for (int i = 0; i < t->n_images; i++) {
		id_image *im = &t->images[i];
		if (!trains(t, im))
			continue;
		s.character = im->character;
		lk_embedding *windows = im->windows;
		im->windows = NULL;
		each_vector(im, add_to_sums, &s);
		im->windows = windows;
	}
	for (int j = 0; j < D; j++)
		mean[j] /= (double)(s.n ? s.n : 1);
	memset(sw, 0, sizeof(float) * D * D);
	memset(sb, 0, sizeof(float) * D * D);
	/* sb: each character's mean less the overall, weighted by its count. */
	float *diff = centred;
	for (int c = 0; c < t->n_characters; c++) {
		if (!s.class_n[c])
			continue;
		for (int j = 0; j < D; j++)
			diff[j] = (float)(s.class_sum[(size_t)c * D + j] / s.class_n[c] - mean[j]);
		cblas_ssyr(CblasColMajor, CblasLower, D, (float)s.class_n[c] / (float)s.n, diff, 1, sb, D);
	}
	/* sw: each vector less its character's mean. */
	for (int i = 0; i < t->n_images; i++) {
		id_image *im = &t->images[i];
		if (!trains(t, im))
			continue;
		const double *cm = s.class_sum + (size_t)im->character * D;
		const int cn = s.class_n[im->character];
		int rows = 0;
		const lk_embedding *vecs[LK_VIEWS + 2] = { &im->plain, &im->scene };
		int nv = 2;
		for (int k = 0; im->views && k < LK_VIEWS; k++)
			vecs[nv++] = &im->views[k];
		for (int r = 0; r < nv; r++, rows++)
			for (int j = 0; j < D; j++)
				centred[(size_t)rows * D + j] = (float)(vecs[r]->v[j] - cm[j] / cn);
		cblas_ssyrk(CblasColMajor, CblasLower, CblasNoTrans, D, rows, 1.0f / (float)s.n, centred, D, 1.0f, sw, D);
	}
	free(s.class_sum);
	free(s.class_n);
	free(centred);
	return 0;
}

struct projection {
	const float *p; /* D x dims, column-major: column k is direction k */
	const float *mean;
	int dims;
	float *tmp;     /* D */
};

/* v := the unit-length projection of v less the mean, zeros past dims (dot products between
 * projected vectors are those of their first dims values). */
static void project(float *v, void *ctx)
{
	struct projection *pr = ctx;
	for (int j = 0; j < D; j++)
		v[j] -= pr->mean[j];
	cblas_sgemv(CblasColMajor, CblasTrans, D, pr->dims, 1.0f, pr->p, D, v, 1, 0.0f, pr->tmp, 1);
	const float norm = cblas_snrm2(pr->dims, pr->tmp, 1);
	for (int k = 0; k < D; k++)
		v[k] = k < pr->dims && norm > 0 ? pr->tmp[k] / norm : 0;
}

int id_whiten(id_track *t, int dims, FILE *md)
{
	float *sw = malloc(sizeof(float) * D * D), *sb = malloc(sizeof(float) * D * D);
	double *mean = calloc(D, sizeof(double));
	float *w = malloc(sizeof(float) * D), *tmp = malloc(sizeof(float) * D);
	int rc = sw && sb && mean && w && tmp ? scatter(sw, sb, mean, t) : -1;
	/* Shrink the within scatter towards its mean variance: the train split has fewer
	 * characters and pictures than dimensions. */
	const double shrink = 0.1;
	double trace = 0;
	for (int j = 0; !rc && j < D; j++)
		trace += sw[(size_t)j * D + j];
	/* Column-major, lower triangle only: all that ssyr, ssyrk and ssygv touch. */
	for (int col = 0; !rc && col < D; col++)
		for (int row = col; row < D; row++)
			sw[(size_t)col * D + row] =
				(float)((1 - shrink) * sw[(size_t)col * D + row] + (row == col ? shrink * trace / D : 0));
	const int itype = 1, n = D;
	int info = 0, lwork = -1;
	float query;
	if (!rc)
		ssygv_(&itype, "V", "L", &n, sb, &n, sw, &n, w, &query, &lwork, &info);
	float *work = !rc && !info ? malloc(sizeof(float) * (size_t)(lwork = (int)query)) : NULL;
	if (!rc && work)
		ssygv_(&itype, "V", "L", &n, sb, &n, sw, &n, w, work, &lwork, &info);
	else
		rc = -1;
	free(work);
	if (!rc && info) {
		fprintf(stderr, "bench_identity: --whiten: LAPACK ssygv failed (info %d)\n", info);
		rc = -1;
	}
	if (!rc) {
		/* Eigenvalues ascend: the strongest directions are the last columns. */
		float *p = sw; /* reuse: D x dims */
		for (int k = 0; k < dims; k++)
			memcpy(p + (size_t)k * D, sb + (size_t)(D - 1 - k) * D, sizeof(float) * D);
		float *mean_f = w; /* reuse: the eigenvalues are read below from sb's place no more */
		const float first = w[D - 1], last = w[D - dims];
		for (int j = 0; j < D; j++)
			mean_f[j] = (float)mean[j];
		struct projection pr = { .p = p, .mean = mean_f, .dims = dims, .tmp = tmp };
		for (int i = 0; i < t->n_images; i++)
			if (t->images[i].ok)
				each_vector(&t->images[i], project, &pr);
		fprintf(md, "### %s track projected by a linear map learned on its train split (LDA, %d dimensions)\n\n",
			t->name, dims);
		fprintf(md, "The same measures as above, after every description is projected onto the %d directions "
			    "that best separate the train split's characters relative to how each character's own "
			    "pictures vary (its poses, scenes and stored views; within-character scatter shrunk by %.0f%% "
			    "towards its mean variance), then made unit length. Only the train split's characters shape "
			    "the map; validation chooses among the rules as before; the test split and %s never touch "
			    "it. Leading eigenvalue %.3g, %d-th %.3g.\n\n",
			dims, 100 * shrink, t->held_out >= 0 ? t->sources[t->held_out] : "the held-out source",
			(double)first, dims, (double)last);
	}
	free(sw);
	free(sb);
	free(mean);
	free(w);
	free(tmp);
	return rc;
}
