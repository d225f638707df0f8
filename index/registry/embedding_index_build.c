/* lk_registry_build_index: trains the IVF index on the registry's embeddings, measures the
 * recall of each nprobe against exact search, and writes the file. */
#include "index/registry/registry.h"

#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/IndexIVF_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/index_factory_c.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const lk_index_options default_options = LK_INDEX_OPTIONS_INIT;

/* Every embedded reference, enabled or not: disabling and re-enabling a character must not
 * make the index stale, and checks filter what they may not match. */
struct vectors {
	float *v;
	int64_t *labels;                   /* reference id x LK_VIEWS + view */
	struct lk_ivf_covered *covered;
	size_t n, refs;
	uint64_t version;
	char embedder[LK_EMBEDDER_ID_MAX];
};

static void vectors_free(struct vectors *x)
{
	free(x->v);
	free(x->labels);
	free(x->covered);
}

/* Reads the vectors in one read transaction, so they match the version recorded. */
static int read_vectors(struct vectors *x, lk_registry *reg)
{
	const int one = (int)sizeof(float) * LK_EMBEDDING_DIM;
	sqlite3_stmt *st = NULL;
	size_t cap_v = 0, cap_r = 0;
	pthread_mutex_lock(&reg->db_lock);
	int rc = lk__db_exec(reg, "BEGIN");
	if (rc == LK_OK)
		rc = lk__db_version(reg, &x->version);
	if (rc == LK_OK) {
		lk__db_embedder(reg, x->embedder);
		rc = lk__db_prepare(reg, &st, "SELECT id, embedding FROM refs WHERE embedding IS NOT NULL ORDER BY id");
	}
	int step = SQLITE_DONE;
	while (rc == LK_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const int bytes = sqlite3_column_bytes(st, 1);
		const unsigned char *blob = sqlite3_column_blob(st, 1);
		if (!blob || bytes <= 0 || bytes % one || bytes / one > LK_VIEWS)
			continue; /* what a snapshot skips too */
		const size_t views = (size_t)(bytes / one);
		if (x->n + views > cap_v) {
			cap_v = cap_v ? cap_v * 2 : 1024;
			float *v = realloc(x->v, cap_v * (size_t)one);
			int64_t *l = realloc(x->labels, cap_v * sizeof *l);
			x->v = v ? v : x->v;
			x->labels = l ? l : x->labels;
			if (!v || !l) {
				rc = lk__fail(LK_ENOMEM, "reading %zu embeddings", x->n);
				break;
			}
		}
		if (x->refs == cap_r) {
			cap_r = cap_r ? cap_r * 2 : 1024;
			struct lk_ivf_covered *c = realloc(x->covered, cap_r * sizeof *c);
			if (!c) {
				rc = lk__fail(LK_ENOMEM, "reading %zu embeddings", x->n);
				break;
			}
			x->covered = c;
		}
		const int64_t id = sqlite3_column_int64(st, 0);
		memcpy(x->v + x->n * LK_EMBEDDING_DIM, blob, (size_t)bytes);
		for (size_t k = 0; k < views; k++)
			x->labels[x->n + k] = id * LK_VIEWS + (int64_t)k;
		x->n += views;
		x->covered[x->refs++] = (struct lk_ivf_covered){ id, lk__embedding_fingerprint(blob, (size_t)bytes) };
	}
	if (rc == LK_OK && step != SQLITE_DONE)
		rc = lk__db_fail(reg, "reading embeddings");
	sqlite3_finalize(st);
	if (rc == LK_OK)
		rc = lk__db_exec(reg, "COMMIT");
	else
		lk__db_rollback(reg);
	pthread_mutex_unlock(&reg->db_lock);
	return rc;
}

/* The snapshot's centring (shrunk mean, then unit length), computed once and frozen in the
 * file: a query must be centred as the vectors it is compared with were. */
static void centre_all(struct vectors *x, float *mean)
{
	double *sum = calloc(LK_EMBEDDING_DIM, sizeof *sum);
	if (!sum) { /* no centring beats failing: the mean only sharpens similarities */
		memset(mean, 0, sizeof(float) * LK_EMBEDDING_DIM);
		return;
	}
	for (size_t i = 0; i < x->n; i++)
		for (int j = 0; j < LK_EMBEDDING_DIM; j++)
			sum[j] += x->v[i * LK_EMBEDDING_DIM + j];
	const double shrink = (double)x->n / ((double)x->n + LK_EMBED_CENTRE_PRIOR);
	for (int j = 0; j < LK_EMBEDDING_DIM; j++)
		mean[j] = (float)(shrink * sum[j] / (double)x->n);
	free(sum);
	for (size_t i = 0; i < x->n; i++)
		lk__emb_centre(x->v + i * LK_EMBEDDING_DIM, mean);
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static double rng_gaussian(uint64_t *s)
{
	const double u = ((double)(rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
	const double w = ((double)(rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
	return sqrt(-2 * log(u)) * cos(6.283185307179586 * w);
}

/* Whether vector p's reference has another view beside it (a reference's views are adjacent). */
static int has_sibling(const struct vectors *x, size_t p)
{
	const int64_t id = x->labels[p] / LK_VIEWS;
	return (p + 1 < x->n && x->labels[p + 1] / LK_VIEWS == id) || (p > 0 && x->labels[p - 1] / LK_VIEWS == id);
}

/* Sample queries, each with the label it must not be answered with (-1: none). Half are held-out
 * views: a stored cropped, mirrored or framed view asking for its reference's other views
 * (itself excluded), which moves as a real edit moves, in directions that cross cell borders.
 * The rest, and all when references have one view, are stored vectors moved to cosine 0.9
 * (the copy threshold) in a random direction. */
static void make_queries(float *q, int64_t *exclude, int nq, const struct vectors *x)
{
	uint64_t s = 0x2545f4914f6cdd1dull;
	for (int i = 0; i < nq; i++) {
		size_t p = (size_t)(rng_next(&s) % x->n);
		float *v = q + (size_t)i * LK_EMBEDDING_DIM;
		const float *src = x->v + p * LK_EMBEDDING_DIM;
		exclude[i] = -1;
		for (int tries = 0; i % 2 == 0 && tries < 8 && exclude[i] < 0; tries++, p = (size_t)(rng_next(&s) % x->n))
			if (has_sibling(x, p)) {
				memcpy(v, x->v + p * LK_EMBEDDING_DIM, sizeof(float) * LK_EMBEDDING_DIM);
				exclude[i] = x->labels[p];
			}
		if (exclude[i] >= 0)
			continue;
		double norm = 0;
		for (int j = 0; j < LK_EMBEDDING_DIM; j++) {
			v[j] = (float)rng_gaussian(&s);
			norm += (double)v[j] * v[j];
		}
		/* noise of length tan(acos(0.9)) = 0.484 beside a unit vector */
		const double scale = 0.484 / sqrt(norm);
		norm = 0;
		for (int j = 0; j < LK_EMBEDDING_DIM; j++) {
			v[j] = src[j] + (float)(scale * v[j]);
			norm += (double)v[j] * v[j];
		}
		for (int j = 0; j < LK_EMBEDDING_DIM; j++)
			v[j] /= (float)sqrt(norm);
	}
}

/* Each query's best answer other than its excluded label: label and score into *label and
 * *score (-1 / -2 when none). `labels_of` maps an index's results to vector labels (NULL: they
 * are labels already). */
static int best_answers(int64_t *label, float *score, FaissIndex *index, const float *q, int nq,
			const int64_t *exclude, const int64_t *labels_of)
{
	idx_t *l = malloc(sizeof *l * 2 * (size_t)nq);
	float *d = malloc(sizeof *d * 2 * (size_t)nq);
	int rc = l && d ? LK_OK : lk__fail(LK_ENOMEM, "measuring the index");
	if (rc == LK_OK && faiss_Index_search(index, nq, q, 2, d, l) != 0)
		rc = lk__faiss_fail("measuring the index");
	for (int i = 0; rc == LK_OK && i < nq; i++) {
		label[i] = -1, score[i] = -2;
		for (int k = 0; k < 2; k++) {
			const int64_t got = l[2 * i + k] < 0 ? -1 : labels_of ? labels_of[l[2 * i + k]] : l[2 * i + k];
			if (got >= 0 && got != exclude[i]) {
				label[i] = got, score[i] = d[2 * i + k];
				break;
			}
		}
	}
	free(l);
	free(d);
	return rc;
}

/* Share of queries for which the IVF index gives exact search's answer: the same vector, or
 * one scoring as high (equal vectors tie). The vector, not just its reference: a reference's
 * other view found instead scores lower, and a lower similarity can turn a copy into
 * "similar". */
static int measure(float *recall, FaissIndex *index, const float *q, int nq, const int64_t *exclude,
		   const int64_t *truth_label, const float *truth_score)
{
	int64_t *label = malloc(sizeof *label * (size_t)nq);
	float *score = malloc(sizeof *score * (size_t)nq);
	int rc = label && score ? best_answers(label, score, index, q, nq, exclude, NULL)
				: lk__fail(LK_ENOMEM, "measuring the index");
	int hits = 0;
	for (int i = 0; rc == LK_OK && i < nq; i++)
		hits += label[i] >= 0 && (label[i] == truth_label[i] || score[i] >= truth_score[i] - 1e-6f);
	*recall = (float)hits / (float)nq;
	free(label);
	free(score);
	return rc;
}

/* Exact search's answers, from a flat index over the same vectors. */
static int exact_truth(int64_t *label, float *score, const struct vectors *x, const float *q, int nq,
		       const int64_t *exclude)
{
	FaissIndexFlatIP *flat = NULL;
	int rc = LK_OK;
	if (faiss_IndexFlatIP_new_with(&flat, LK_EMBEDDING_DIM) != 0 ||
	    faiss_Index_add((FaissIndex *)flat, (idx_t)x->n, x->v) != 0)
		rc = lk__faiss_fail("exact search for the recall");
	if (rc == LK_OK)
		rc = best_answers(label, score, (FaissIndex *)flat, q, nq, exclude, x->labels);
	if (flat)
		faiss_Index_free((FaissIndex *)flat);
	return rc;
}

/* nprobe: the caller's, measured; else twice the smallest on a roughly doubling ladder that
 * meets the target (or nlist, exact within the index, when none below does), measured again.
 * Twice, because the sample stands in for real edits only roughly: at 100,000 vectors the
 * smallest passing nprobe measured 0.998 on the sample and 0.985 on the bench's queries. */
static int choose_nprobe(struct lk_ivf_header *h, FaissIndex *index, const struct vectors *x, const lk_index_options *o)
{
	const int nq = o->sample;
	float *q = malloc(sizeof(float) * LK_EMBEDDING_DIM * (size_t)nq);
	int64_t *ref = malloc(sizeof *ref * (size_t)nq), *exclude = malloc(sizeof *exclude * (size_t)nq);
	float *score = malloc(sizeof *score * (size_t)nq);
	int rc = q && ref && exclude && score ? LK_OK : lk__fail(LK_ENOMEM, "measuring the index");
	if (rc == LK_OK) {
		make_queries(q, exclude, nq, x);
		rc = exact_truth(ref, score, x, q, nq, exclude);
	}
	FaissIndexIVF *ivf = faiss_IndexIVF_cast(index);
	static const int ladder[] = { 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024 };
	const int steps = (int)(sizeof ladder / sizeof ladder[0]);
	for (int i = 0; rc == LK_OK; i++) {
		int p = o->nprobe ? o->nprobe : i < steps ? ladder[i] : h->nlist;
		if (p > h->nlist)
			p = h->nlist;
		faiss_IndexIVF_set_nprobe(ivf, (size_t)p);
		rc = measure(&h->recall, index, q, nq, exclude, ref, score);
		h->nprobe = p;
		if (o->nprobe || p == h->nlist || h->recall >= o->target_recall)
			break;
	}
	if (rc == LK_OK && !o->nprobe && h->nprobe < h->nlist) {
		h->nprobe = 2 * h->nprobe < h->nlist ? 2 * h->nprobe : h->nlist;
		faiss_IndexIVF_set_nprobe(ivf, (size_t)h->nprobe);
		rc = measure(&h->recall, index, q, nq, exclude, ref, score);
	}
	free(q);
	free(ref);
	free(exclude);
	free(score);
	return rc;
}

static const size_t option_sizes[LK_INDEX_OPTIONS_VERSION] = { sizeof(lk_index_options) };
static const struct lk_options_type options_type = {
	"lk_index_options", "LK_INDEX_OPTIONS_INIT", LK_INDEX_OPTIONS_VERSION, &default_options, option_sizes,
};

int lk_index_options_init(lk_index_options *opts, unsigned int version)
{
	return lk__options_init(opts, version, &options_type);
}

/* The caller's options (NULL: the defaults) in this library's layout, checked. */
static int read_options(lk_index_options *o, const lk_index_options *in)
{
	int rc = lk__options_read(o, in, &options_type);
	if (rc != LK_OK)
		return rc;
	if (o->nlist < 0 || o->nprobe < 0 || (o->nlist && o->nprobe > o->nlist))
		return lk__fail(LK_EINVAL, "lk_index_options: nlist %d, nprobe %d: need 0 (automatic) or positive, "
				"nprobe <= nlist", o->nlist, o->nprobe);
	if (!(o->target_recall > 0 && o->target_recall <= 1))
		return lk__fail(LK_EINVAL, "lk_index_options: target_recall %g outside (0, 1]", (double)o->target_recall);
	if (o->sample < 1 || o->sample > 100000)
		return lk__fail(LK_EINVAL, "lk_index_options: sample %d outside 1..100000", o->sample);
	if (o->threads < 0)
		return lk__fail(LK_EINVAL, "lk_index_options: threads %d is negative", o->threads);
	return LK_OK;
}

/* Trains, fills and measures the index; *out is the IVF index on success. */
static int train(FaissIndex **out, struct lk_ivf_header *h, const struct vectors *x, const lk_index_options *o)
{
	char description[32];
	snprintf(description, sizeof description, "IVF%d,Flat", h->nlist);
	FaissIndex *index = NULL;
	int rc = LK_OK;
	if (faiss_index_factory(&index, LK_EMBEDDING_DIM, description, METRIC_INNER_PRODUCT) != 0)
		rc = lk__faiss_fail("creating the index");
	else if (faiss_Index_train(index, (idx_t)x->n, x->v) != 0)
		rc = lk__faiss_fail("training the index");
	else if (faiss_Index_add_with_ids(index, (idx_t)x->n, x->v, x->labels) != 0)
		rc = lk__faiss_fail("adding vectors");
	else
		rc = choose_nprobe(h, index, x, o);
	if (rc != LK_OK && index) {
		faiss_Index_free(index);
		index = NULL;
	}
	*out = index;
	return rc;
}

int lk_registry_build_index(lk_index_info *out, lk_registry *reg, const lk_index_options *opts)
{
	lk__clear_error();
	if (!reg)
		return lk__fail(LK_EINVAL, "lk_registry_build_index: NULL registry");
	lk_index_options options;
	const lk_index_options *o = &options;
	int rc = read_options(&options, opts);
	if (rc != LK_OK)
		return rc;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct vectors x = { 0 };
	struct lk_ivf_header *h = calloc(1, sizeof *h);
	if (!h)
		return lk__fail(LK_ENOMEM, "building the index");
	rc = read_vectors(&x, reg);
	if (rc == LK_OK && !x.n)
		rc = lk__fail(LK_ENOTFOUND, "%s: no reference has an embedding: nothing to index", reg->dir);
	if (rc == LK_OK && (size_t)o->nlist > x.n)
		rc = lk__fail(LK_EINVAL, "lk_index_options: nlist %d is more than the %zu vectors to index", o->nlist, x.n);
	FaissIndex *index = NULL;
	if (rc == LK_OK) {
		h->registry_version = x.version;
		h->references = (int64_t)x.refs;
		h->vectors = (int64_t)x.n;
		h->dim = LK_EMBEDDING_DIM;
		h->sample = o->sample;
		h->built_at = (int64_t)time(NULL);
		snprintf(h->embedder, sizeof h->embedder, "%s", x.embedder);
		/* k-means wants at least 39 points a cell; below that faiss warns and cells are noise. */
		const double automatic = fmin(4 * sqrt((double)x.n), (double)x.n / 39);
		h->nlist = o->nlist ? o->nlist : automatic < 1 ? 1 : (int)automatic;
		centre_all(&x, h->mean);
		const int threads = omp_get_max_threads();
		omp_set_num_threads(o->threads ? o->threads : omp_get_num_procs());
		rc = train(&index, h, &x, o);
		omp_set_num_threads(threads);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	h->build_seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
	if (rc == LK_OK)
		rc = lk__ivf_write(reg->dir, h, x.covered, (struct FaissIndex_H *)index);
	if (rc == LK_OK) {
		/* A version of its own, so that every process rebuilds its snapshot at its next check
		 * and picks the file up, as it would any other change. */
		pthread_mutex_lock(&reg->db_lock);
		rc = lk__db_begin(reg);
		rc = rc == LK_OK ? lk__db_commit(reg) : (lk__db_rollback(reg), rc);
		pthread_mutex_unlock(&reg->db_lock);
	}
	if (index)
		faiss_Index_free(index);
	vectors_free(&x);
	free(h);
	if (rc == LK_OK && out)
		rc = lk_registry_index_info(out, reg);
	return rc;
}
