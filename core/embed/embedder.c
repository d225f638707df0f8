/* lk_embedder: the CNN descriptor (see likeness.h, "embeddings"). One loaded net shared by
 * every thread; each concurrent call borrows a worker (arena + input buffer) from a pool. */
#include "core/cnn/graph_loader.h"
#include "core/internal.h"
#include "core/cnn/net.h"
#include "core/embed/preprocess.h"
#include "core/cnn/tfjs_weights.h"

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MODEL_SUBDIR "mobilenet_v2_mid"
/* The graph's last feature map (the node name's tail: converters prefix it with their scopes). */
#define LAST_MAP "MobilenetV2/Conv_1/Relu6"
#define INPUT_SIDE 224
#define BLUR_SIGMA 1.2f

struct worker {
	lk_net_arena arena;
	float *input;
	struct worker *next;
};

struct lk_embedder {
	lk_net net;
	float prior[LK_EMBEDDING_DIM];    /* subtracted from every descriptor (see PRIOR_FILE) */
	int has_prior;
	float *bank;                      /* the default negative bank (see BANK_FILE), or NULL */
	size_t bank_n;
	int last_map;                     /* op index of LAST_MAP */
	char id[LK_EMBEDDER_ID_MAX];
	pthread_mutex_t lock;             /* guards `idle` */
	struct worker *idle;
};

/* The mean descriptor of a sample of character art, written beside the models at set-up
 * (scripts/prepare-prior.sh). Raw descriptors are all-positive pools of ReLU6 features and
 * share a large common part: any two pictures are 0.8 alike or more. Subtracting what typical
 * art looks like leaves what tells one picture from another, and does so for a registry of
 * one reference as well as of a million. */
#define PRIOR_FILE "embedding-prior.f32"

/* The default negative bank: descriptors (this embedder's, prior subtracted) of pictures of no
 * registered character, beside the models, n x LK_EMBEDDING_DIM float32. Optional: without
 * it, a registry with no negatives of its own scores characters and decides nothing. */
#define BANK_FILE "negative-bank.f32"

#ifndef LK_DEFAULT_MODELS_DIR
#define LK_DEFAULT_MODELS_DIR ""
#endif

#define FNV_START 1469598103934665603ull

/* FNV-1a, continued from `h` over `n` floats: two embedders agree on the id only if their
 * numbers agree. */
static uint64_t fingerprint(uint64_t h, const float *v, size_t n)
{
	const unsigned char *p = (const unsigned char *)v;
	for (size_t i = 0; i < n * sizeof(float); i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* The full name of the graph node whose name ends in "/" LAST_MAP (or is LAST_MAP), or NULL. */
static const char *last_map_node(const lk_tfjs_model *m)
{
	const size_t tail = strlen(LAST_MAP);
	size_t i;
	json_t *node;
	json_array_foreach(json_object_get(m->topology, "node"), i, node) {
		const char *name = lk__json_str(json_object_get(node, "name"));
		const size_t len = strlen(name);
		if (len >= tail && !strcmp(name + len - tail, LAST_MAP) && (len == tail || name[len - tail - 1] == '/'))
			return name;
	}
	return NULL;
}

/* Reads the prior (exactly LK_EMBEDDING_DIM float32). */
static int load_prior(lk_embedder *e, const char *models_dir)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", models_dir, PRIOR_FILE);
	FILE *f = fopen(path, "rb");
	if (!f)
		return lk__fail(LK_ENOTFOUND, "%s: missing (scripts/build.sh computes it with scripts/prepare-prior.sh)",
				path);
	const size_t got = fread(e->prior, sizeof(float), LK_EMBEDDING_DIM, f);
	const int extra = fgetc(f) != EOF;
	fclose(f);
	for (size_t i = 0; i < got; i++)
		if (!isfinite(e->prior[i]))
			return lk__fail(LK_ECORRUPT, "%s: not a descriptor (value %zu is %g)", path, i, (double)e->prior[i]);
	if (got != LK_EMBEDDING_DIM || extra)
		return lk__fail(LK_ECORRUPT, "%s: %s %d float32 values", path, extra ? "more than" : "fewer than",
				LK_EMBEDDING_DIM);
	e->has_prior = 1;
	return LK_OK;
}

int lk_embedder_open(lk_embedder **out, const char *models_dir)
{
	return lk__embedder_open(out, models_dir, 1);
}

/* Reads the default bank if there is one: a whole number of finite descriptors. */
static int load_bank(lk_embedder *e, const char *models_dir)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", models_dir, BANK_FILE);
	FILE *f = fopen(path, "rb");
	if (!f)
		return LK_OK;
	int rc = LK_OK;
	long bytes = -1;
	if (fseek(f, 0, SEEK_END) == 0)
		bytes = ftell(f);
	rewind(f);
	const size_t row = sizeof(float) * LK_EMBEDDING_DIM;
	if (bytes <= 0 || (size_t)bytes % row)
		rc = lk__fail(LK_ECORRUPT, "%s: %ld bytes, not a whole number of descriptors", path, bytes);
	else if (!(e->bank = malloc((size_t)bytes)))
		rc = lk__fail(LK_ENOMEM, "reading %s", path);
	else if (fread(e->bank, 1, (size_t)bytes, f) != (size_t)bytes)
		rc = lk__fail(LK_EIO, "%s: cannot read", path);
	else {
		e->bank_n = (size_t)bytes / row;
		for (size_t i = 0; rc == LK_OK && i < e->bank_n * LK_EMBEDDING_DIM; i++)
			if (!isfinite(e->bank[i]))
				rc = lk__fail(LK_ECORRUPT, "%s: not descriptors (value %zu is %g)", path, i, (double)e->bank[i]);
	}
	fclose(f);
	if (rc != LK_OK) {
		free(e->bank);
		e->bank = NULL;
		e->bank_n = 0;
	}
	return rc;
}

const float *lk__embedder_bank(const lk_embedder *e, size_t *n)
{
	*n = e ? e->bank_n : 0;
	return e ? e->bank : NULL;
}

int lk__embedder_open(lk_embedder **out, const char *models_dir, int with_prior)
{
	lk__clear_error();
	if (!out)
		return lk__fail(LK_EINVAL, "lk_embedder_open: NULL argument");
	*out = NULL;
	if (!models_dir || !*models_dir)
		models_dir = getenv("LIKENESS_MODELS");
	if (!models_dir || !*models_dir)
		models_dir = LK_DEFAULT_MODELS_DIR;
	if (!*models_dir)
		return lk__fail(LK_ENOTFOUND, "no CNN model folder: set LIKENESS_MODELS to the folder "
					      "scripts/fetch-models.sh prints");
	char dir[4096];
	if (snprintf(dir, sizeof dir, "%s/%s", models_dir, MODEL_SUBDIR) >= (int)sizeof dir)
		return lk__fail(LK_EINVAL, "model folder name too long");
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return lk__fail(LK_ENOTFOUND, "%s: no CNN model there (run scripts/fetch-models.sh, or set "
					      "LIKENESS_MODELS)", dir);
	lk_embedder *e = calloc(1, sizeof *e);
	if (!e)
		return lk__fail(LK_ENOMEM, "opening the embedder");
	lk_tfjs_model model;
	int rc = lk__tfjs_load(&model, dir);
	if (rc != LK_OK) {
		free(e);
		return rc;
	}
	const char *node = last_map_node(&model);
	rc = node ? lk__net_from_graph(&e->net, &model, node)
		  : lk__fail(LK_ECORRUPT, "%s: the graph has no node %s", dir, LAST_MAP);
	if (rc == LK_OK)
		e->last_map = lk__net_find(&e->net, node);
	uint64_t print = FNV_START;
	for (size_t t = 0; t < model.n_tensors; t++)
		print = fingerprint(print, model.tensors[t].data, model.tensors[t].count);
	lk__tfjs_free(&model);
	if (rc == LK_OK) {
		const lk_op *last = e->last_map >= 0 ? &e->net.ops[e->last_map] : NULL;
		if (!last || last->c != LK_EMBEDDING_DIM || last->h != LK_EMBED_GRID || last->w != LK_EMBED_GRID ||
		    e->net.in_h != INPUT_SIDE || e->net.in_w != INPUT_SIDE)
			rc = lk__fail(LK_ECORRUPT, "%s: not the expected MobileNetV2 1.4 (input %dx%d, last map %d "
						   "channels)", dir, e->net.in_h, e->net.in_w, last ? last->c : 0);
	}
	if (rc == LK_OK && with_prior)
		rc = load_prior(e, models_dir);
	/* The bank is made of prior-subtracted descriptors: without the prior it does not apply. */
	if (rc == LK_OK && with_prior)
		rc = load_bank(e, models_dir);
	if (rc != LK_OK) {
		lk__net_free(&e->net);
		free(e->bank);
		free(e);
		return rc;
	}
	const uint64_t prior_print = e->has_prior ? fingerprint(FNV_START, e->prior, LK_EMBEDDING_DIM) : 0;
	snprintf(e->id, sizeof e->id, "mnv2-1.4/gem3/blur%.1f/%d@%08llx/prior@%08llx", (double)BLUR_SIGMA,
		 INPUT_SIDE, (unsigned long long)(print >> 32), (unsigned long long)(prior_print >> 32));
	pthread_mutex_init(&e->lock, NULL);
	*out = e;
	return LK_OK;
}

void lk_embedder_close(lk_embedder *e)
{
	if (!e)
		return;
	while (e->idle) {
		struct worker *w = e->idle;
		e->idle = w->next;
		lk__net_arena_free(&w->arena);
		free(w->input);
		free(w);
	}
	pthread_mutex_destroy(&e->lock);
	lk__net_free(&e->net);
	free(e->bank);
	free(e);
}

const char *lk_embedder_id(const lk_embedder *e)
{
	return e ? e->id : "";
}

static struct worker *borrow(lk_embedder *e)
{
	pthread_mutex_lock(&e->lock);
	struct worker *w = e->idle;
	if (w)
		e->idle = w->next;
	pthread_mutex_unlock(&e->lock);
	if (w)
		return w;
	w = calloc(1, sizeof *w);
	if (w && (w->input = malloc(sizeof(float) * INPUT_SIDE * INPUT_SIDE * 3)) &&
	    lk__net_arena_init_keep(&w->arena, &e->net, &e->last_map, 1) == LK_OK)
		return w;
	if (w)
		free(w->input);
	free(w);
	lk__fail(LK_ENOMEM, "allocating CNN working memory");
	return NULL;
}

static void give_back(lk_embedder *e, struct worker *w)
{
	pthread_mutex_lock(&e->lock);
	w->next = e->idle;
	e->idle = w;
	pthread_mutex_unlock(&e->lock);
}

static void normalise(float *v, int n)
{
	double norm = 0;
	for (int c = 0; c < n; c++)
		norm += (double)v[c] * v[c];
	const float scale = norm > 0 ? (float)(1 / sqrt(norm)) : 0;
	for (int c = 0; c < n; c++)
		v[c] *= scale;
}

/* Generalised mean (p = 3) over positions, per channel: closer to the maximum than the
 * average, so a feature that fires strongly in part of the picture (a cropped or framed
 * character) keeps its weight. */
static void gem(float *v, const float *map, int positions, int channels)
{
	double sum[LK_EMBEDDING_DIM] = { 0 };
	for (int p = 0; p < positions; p++)
		for (int c = 0; c < channels; c++) {
			const double x = map[(size_t)p * channels + c];
			sum[c] += x * x * x;
		}
	for (int c = 0; c < channels; c++)
		v[c] = (float)cbrt(sum[c] / positions);
	normalise(v, channels);
}

/* How much each position of the last map fires: the squared length of its feature vector.
 * Smooth or blurred backdrop leaves ReLU6 features near zero; drawn things light them up. */
static void salience(float *cells, const float *map, int positions, int channels)
{
	for (int p = 0; p < positions; p++) {
		double sum = 0;
		for (int c = 0; c < channels; c++) {
			const double x = map[(size_t)p * channels + c];
			sum += x * x;
		}
		cells[p] = (float)sum;
	}
}

int lk__embed_image8(lk_embedding *out, lk_embedder *e, const lk_image8 *img)
{
	return lk__embed_image8_cells(out, NULL, e, img);
}

int lk__embed_image8_cells(lk_embedding *out, float cells[LK_EMBED_GRID * LK_EMBED_GRID], lk_embedder *e,
			   const lk_image8 *img)
{
	struct worker *w = borrow(e);
	if (!w)
		return LK_ENOMEM;
	int rc = lk__embed_input(w->input, INPUT_SIDE, img, BLUR_SIGMA);
	/* One image, one thread: callers parallelise over images, and OpenBLAS' summation order
	 * (hence the last bits of the result) must not depend on how busy the process is. The
	 * setting is this thread's own and is put back. */
	const int threads = omp_get_max_threads();
	omp_set_num_threads(1);
	if (rc == LK_OK)
		rc = lk__net_run(&e->net, w->input, &w->arena);
	omp_set_num_threads(threads);
	if (rc == LK_OK) {
		const lk_op *last = &e->net.ops[e->last_map];
		gem(out->v, w->arena.out[e->last_map], last->h * last->w, last->c);
		if (cells)
			salience(cells, w->arena.out[e->last_map], last->h * last->w, last->c);
		if (e->has_prior) {
			for (int c = 0; c < LK_EMBEDDING_DIM; c++)
				out->v[c] -= e->prior[c];
			normalise(out->v, LK_EMBEDDING_DIM);
		}
	}
	give_back(e, w);
	return rc;
}

float lk_embedding_similarity(const lk_embedding *a, const lk_embedding *b)
{
	if (!a || !b)
		return 0;
	float s = 0;
	for (int i = 0; i < LK_EMBEDDING_DIM; i++)
		s += a->v[i] * b->v[i];
	return s;
}

/* A copy of `img` mirrored left to right, or padded by `pad` pixels of white on every side,
 * in a buffer the caller frees. */
static unsigned char *mirrored(lk_image8 *out, const lk_image8 *img)
{
	const int ch = img->channels;
	unsigned char *buf = malloc((size_t)img->width * img->height * ch);
	if (!buf)
		return NULL;
	for (int y = 0; y < img->height; y++) {
		const unsigned char *src = img->data + (ptrdiff_t)y * img->stride;
		unsigned char *dst = buf + (size_t)y * img->width * ch;
		for (int x = 0; x < img->width; x++)
			memcpy(dst + (size_t)(img->width - 1 - x) * ch, src + (size_t)x * ch, (size_t)ch);
	}
	*out = (lk_image8){ buf, img->width, img->height, (ptrdiff_t)img->width * ch, ch };
	return buf;
}

static unsigned char *padded(lk_image8 *out, const lk_image8 *img, int pad)
{
	const int ch = img->channels, w = img->width + 2 * pad, h = img->height + 2 * pad;
	unsigned char *buf = malloc((size_t)w * h * ch);
	if (!buf)
		return NULL;
	memset(buf, 255, (size_t)w * h * ch);
	for (int y = 0; y < img->height; y++)
		memcpy(buf + ((size_t)(y + pad) * w + pad) * ch, img->data + (ptrdiff_t)y * img->stride,
		       (size_t)img->width * ch);
	*out = (lk_image8){ buf, w, h, (ptrdiff_t)w * ch, ch };
	return buf;
}

int lk__embed_views(lk_embedding out[LK_VIEWS], lk_embedder *e, const lk_image8 *img)
{
	/* The crops keep 80% of each side: what a 10%-per-side crop leaves, and the corners
	 * for off-centre ones. */
	const int cw = img->width * 4 / 5, ch = img->height * 4 / 5;
	const int xs[5] = { (img->width - cw) / 2, 0, img->width - cw, 0, img->width - cw };
	const int ys[5] = { (img->height - ch) / 2, 0, 0, img->height - ch, img->height - ch };
	int rc = lk__embed_image8(&out[LK_VIEW_FULL], e, img);
	lk_image8 other;
	unsigned char *buf = rc == LK_OK ? mirrored(&other, img) : NULL;
	if (rc == LK_OK && !buf)
		rc = lk__fail(LK_ENOMEM, "describing a reference");
	if (rc == LK_OK)
		rc = lk__embed_image8(&out[LK_VIEW_MIRROR], e, &other);
	free(buf);
	for (int i = 0; i < 5 && rc == LK_OK; i++) {
		const lk_image8 crop = { img->data + (ptrdiff_t)ys[i] * img->stride + (ptrdiff_t)xs[i] * img->channels,
					 cw > 0 ? cw : 1, ch > 0 ? ch : 1, img->stride, img->channels };
		rc = lk__embed_image8(&out[LK_VIEW_CROP + i], e, &crop);
	}
	const int pad = (img->width > img->height ? img->width : img->height) * 3 / 20;
	buf = rc == LK_OK ? padded(&other, img, pad) : NULL;
	if (rc == LK_OK && !buf)
		rc = lk__fail(LK_ENOMEM, "describing a reference");
	if (rc == LK_OK)
		rc = lk__embed_image8(&out[LK_VIEW_FRAMED], e, &other);
	free(buf);
	return rc;
}
