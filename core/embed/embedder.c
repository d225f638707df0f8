/* lk_embedder: the CNN descriptor (see likeness.h, "embeddings"). One loaded net shared by
 * every thread; each concurrent call borrows a worker (arena + input buffer) from a pool. */
#include "graph_loader.h"
#include "internal.h"
#include "net.h"
#include "preprocess.h"
#include "tfjs_weights.h"

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MODEL_SUBDIR "mobilenet_v2_mid"
/* The graph's last feature map (the node name's tail: converters prefix it with their scopes). */
#define LAST_MAP "MobilenetV2/Conv_1/Relu6"
#define INPUT_SIDE 224
#define BLUR_SIGMA 1.2f
#define GEM_P 3

struct worker {
	lk_net_arena arena;
	float *input;
	struct worker *next;
};

struct lk_embedder {
	lk_net net;
	int last_map;                     /* op index of LAST_MAP */
	char id[LK_EMBEDDER_ID_MAX];
	pthread_mutex_t lock;             /* guards `idle` */
	struct worker *idle;
};

#ifndef LK_DEFAULT_MODELS_DIR
#define LK_DEFAULT_MODELS_DIR ""
#endif

/* FNV-1a over the weights: two embedders agree on the id only if their numbers agree. */
static uint64_t fingerprint(const lk_tfjs_model *m)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t t = 0; t < m->n_tensors; t++) {
		const unsigned char *p = (const unsigned char *)m->tensors[t].data;
		for (size_t i = 0; i < m->tensors[t].count * sizeof(float); i++)
			h = (h ^ p[i]) * 1099511628211ull;
	}
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

int lk_embedder_open(lk_embedder **out, const char *models_dir)
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
	const uint64_t print = fingerprint(&model);
	lk__tfjs_free(&model);
	if (rc == LK_OK) {
		const lk_op *last = e->last_map >= 0 ? &e->net.ops[e->last_map] : NULL;
		if (!last || last->c != LK_EMBEDDING_DIM || e->net.in_h != INPUT_SIDE || e->net.in_w != INPUT_SIDE)
			rc = lk__fail(LK_ECORRUPT, "%s: not the expected MobileNetV2 1.4 (input %dx%d, last map %d "
						   "channels)", dir, e->net.in_h, e->net.in_w, last ? last->c : 0);
	}
	if (rc != LK_OK) {
		lk__net_free(&e->net);
		free(e);
		return rc;
	}
	snprintf(e->id, sizeof e->id, "mnv2-1.4/gem%d/blur%.1f/%d@%016llx", GEM_P, (double)BLUR_SIGMA, INPUT_SIDE,
		 (unsigned long long)print);
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
	    lk__net_arena_init(&w->arena, &e->net) == LK_OK)
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

/* Generalised mean over positions, per channel: closer to the maximum than the average, so a
 * feature that fires strongly in part of the picture (a cropped or framed character) keeps its
 * weight. */
static void gem(float *v, const float *map, int positions, int channels)
{
	double sum[LK_EMBEDDING_DIM] = { 0 };
	for (int p = 0; p < positions; p++)
		for (int c = 0; c < channels; c++) {
			const double x = map[(size_t)p * channels + c];
			sum[c] += x * x * x;
		}
	double norm = 0;
	for (int c = 0; c < channels; c++) {
		v[c] = (float)cbrt(sum[c] / positions);
		norm += (double)v[c] * v[c];
	}
	const float scale = norm > 0 ? (float)(1 / sqrt(norm)) : 0;
	for (int c = 0; c < channels; c++)
		v[c] *= scale;
}

int lk__embed_image8(lk_embedding *out, lk_embedder *e, const lk_image8 *img)
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
