/* bench_suite: every query scored against every reference, by each method, the way each tool
 * compares: likeness as its registry does (PDQ against the reference's eight turned hashes;
 * embeddings centred on the references' shrunk mean, the best of the reference's stored
 * views), the peers with their own comparison of one hash per reference. */
#include "core/internal.h"
#include "index/search/search.h"
#include "suite.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const double SUITE_NO_SCORE = -1e30;

const char *suite_method_name(const suite *s, int m)
{
	(void)s;
	switch (m) {
	case M_PDQ: return "likeness PDQ";
	case M_EMB: return "likeness embedding";
	case M_FUSED: return "likeness fused";
	default: return bench_peer_name(m - M_PEERS);
	}
}

static double pdq_score(const item *q, const item *r)
{
	if (q->pdq.quality < LK_MIN_QUALITY || r->pdq.quality < LK_MIN_QUALITY)
		return SUITE_NO_SCORE;
	int best = 256;
	for (int d = 0; d < LK_DIHEDRAL_COUNT; d++) {
		const int x = lk_pdq_distance(&q->pdq.hash[LK_DIHEDRAL_ORIGINAL], &r->dihedral[d]);
		best = x < best ? x : best;
	}
	return 256 - best;
}

static double emb_score(const item *q, const item *r)
{
	double best = -2;
	for (int v = 0; v < LK_VIEWS; v++) {
		const double x = lk_embedding_similarity(&q->emb[0], &r->emb[v]);
		best = x > best ? x : best;
	}
	return best;
}

/* As the registry centres (index/search/snapshot_embeddings.c): on the mean of every stored view,
 * shrunk by n / (n + LK_EMBED_CENTRE_PRIOR). */
static void centre_all(suite *s)
{
	double sum[LK_EMBEDDING_DIM] = { 0 };
	float mean[LK_EMBEDDING_DIM];
	const double n = (double)s->n_characters * LK_VIEWS;
	for (int c = 0; c < s->n_characters; c++)
		for (int v = 0; v < LK_VIEWS; v++)
			for (int j = 0; j < LK_EMBEDDING_DIM; j++)
				sum[j] += s->refs[c]->emb[v].v[j];
	for (int j = 0; j < LK_EMBEDDING_DIM; j++)
		mean[j] = (float)(n / (n + LK_EMBED_CENTRE_PRIOR) * sum[j] / n);
	for (size_t i = 0; i < s->n_items; i++) {
		item *it = &s->items[i];
		for (int v = 0; it->ok && v < (it->kind == ITEM_REFERENCE ? LK_VIEWS : 1); v++)
			lk__emb_centre(it->emb[v].v, mean);
	}
}

/* Puts (ref, score) into a best-first top list if it belongs there. */
static void offer(candidate top[SUITE_TOP], int ref, double score)
{
	if (score <= top[SUITE_TOP - 1].score)
		return;
	int k = SUITE_TOP - 1;
	for (; k > 0 && top[k - 1].score < score; k--)
		top[k] = top[k - 1];
	top[k] = (candidate){ ref, score };
}

/* own, best and top of method m from one query's scores against all references. */
static void keep(item *it, int m, const double *sc, int n)
{
	it->own[m] = it->character >= 0 ? sc[it->character] : SUITE_NO_SCORE;
	it->best[m] = SUITE_NO_SCORE;
	it->best_ref[m] = -1;
	for (int k = 0; k < SUITE_TOP; k++)
		it->top[m][k] = (candidate){ -1, SUITE_NO_SCORE };
	for (int r = 0; r < n; r++) {
		if (sc[r] > it->best[m])
			it->best[m] = sc[r], it->best_ref[m] = r;
		offer(it->top[m], r, sc[r]);
	}
}

/* The share of negatives whose best score reaches x (sorted holds them descending). */
static double tail(const double *sorted, size_t n, double x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		const size_t mid = (lo + hi) / 2;
		if (sorted[mid] >= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (double)lo / (double)n;
}

static int desc(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;
	return (x < y) - (x > y);
}

struct fusion {
	double *pdq, *emb; /* negatives' best scores, descending */
	size_t n;
};

/* Fused: PDQ and the embedding, each turned into the share of negatives that score as high
 * (how surprising the score is), the more surprising of the two counting. Thresholding this at
 * a false-positive rate is the union of both signals at equal shares of that rate; the
 * scores themselves break ties among scores no negative reached. */
static double fused(const struct fusion *f, double pdq, double emb)
{
	const double p = tail(f->pdq, f->n, pdq), e = tail(f->emb, f->n, emb);
	const double surprise = -(p < e ? p : e);
	const double pdq01 = pdq > SUITE_NO_SCORE ? pdq / 256 : 0;
	return surprise + 1e-7 * (pdq01 + (emb + 1) / 2);
}

static void fuse(item *it, const struct fusion *f, const suite *s)
{
	it->own[M_FUSED] = it->character >= 0 ? fused(f, it->own[M_PDQ], it->own[M_EMB]) : SUITE_NO_SCORE;
	const int via_pdq = tail(f->pdq, f->n, it->best[M_PDQ]) < tail(f->emb, f->n, it->best[M_EMB]);
	it->best[M_FUSED] = fused(f, it->best[M_PDQ], it->best[M_EMB]);
	it->best_ref[M_FUSED] = it->best_ref[via_pdq ? M_PDQ : M_EMB];
	double sc[2 * SUITE_TOP];
	int refs[2 * SUITE_TOP], n = 0;
	for (int m = M_PDQ; m <= M_EMB; m++)
		for (int k = 0; k < SUITE_TOP; k++) {
			const int r = it->top[m][k].ref;
			int seen = r < 0;
			for (int j = 0; j < n && !seen; j++)
				seen = refs[j] == r;
			if (seen)
				continue;
			refs[n] = r;
			sc[n++] = fused(f, pdq_score(it, s->refs[r]), emb_score(it, s->refs[r]));
		}
	for (int k = 0; k < SUITE_TOP; k++)
		it->top[M_FUSED][k] = (candidate){ -1, SUITE_NO_SCORE };
	for (int j = 0; j < n; j++)
		offer(it->top[M_FUSED], refs[j], sc[j]);
}

/* Embedding similarities of `nq` queries to every stored view, by one matrix product. */
static void emb_block(double *sc, item *const *q, int nq, const float *views, int n_chars, float *qm, float *out)
{
	const int n_views = n_chars * LK_VIEWS;
	for (int i = 0; i < nq; i++)
		memcpy(qm + (size_t)i * LK_EMBEDDING_DIM, q[i]->emb[0].v, sizeof(float) * LK_EMBEDDING_DIM);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, n_views, LK_EMBEDDING_DIM, 1.0f, qm, LK_EMBEDDING_DIM,
		    views, LK_EMBEDDING_DIM, 0.0f, out, n_views);
	for (int i = 0; i < nq; i++)
		for (int c = 0; c < n_chars; c++) {
			const float *row = out + (size_t)i * n_views + (size_t)c * LK_VIEWS;
			float best = row[0];
			for (int v = 1; v < LK_VIEWS; v++)
				best = row[v] > best ? row[v] : best;
			sc[(size_t)i * n_chars + c] = best;
		}
}

#define BLOCK 256

int suite_score(suite *s)
{
	const int n = s->n_characters;
	centre_all(s);
	float *views = malloc(sizeof(float) * (size_t)n * LK_VIEWS * LK_EMBEDDING_DIM);
	float *qm = malloc(sizeof(float) * BLOCK * LK_EMBEDDING_DIM);
	float *out = malloc(sizeof(float) * BLOCK * (size_t)n * LK_VIEWS);
	double *esc = malloc(sizeof(double) * BLOCK * (size_t)n), *sc = malloc(sizeof(double) * (size_t)n);
	item **batch = malloc(sizeof *batch * BLOCK);
	if (!views || !qm || !out || !esc || !sc || !batch)
		return -1;
	for (int c = 0; c < n; c++)
		for (int v = 0; v < LK_VIEWS; v++)
			memcpy(views + ((size_t)c * LK_VIEWS + v) * LK_EMBEDDING_DIM, s->refs[c]->emb[v].v,
			       sizeof(float) * LK_EMBEDDING_DIM);
	size_t i = 0;
	while (i < s->n_items) {
		int nq = 0;
		for (; i < s->n_items && nq < BLOCK; i++)
			if (s->items[i].ok && s->items[i].kind != ITEM_REFERENCE)
				batch[nq++] = &s->items[i];
		if (!nq)
			break;
		emb_block(esc, batch, nq, views, n, qm, out);
		for (int b = 0; b < nq; b++) {
			item *it = batch[b];
			keep(it, M_EMB, esc + (size_t)b * n, n);
			for (int r = 0; r < n; r++)
				sc[r] = pdq_score(it, s->refs[r]);
			keep(it, M_PDQ, sc, n);
			for (int p = 0; p < s->n_peers; p++) {
				for (int r = 0; r < n; r++)
					sc[r] = bench_peer_score(p, &it->peer[p], &s->refs[r]->peer[p]);
				keep(it, M_PEERS + p, sc, n);
			}
		}
	}
	struct fusion f = { malloc(sizeof(double) * s->n_items), malloc(sizeof(double) * s->n_items), 0 };
	if (!f.pdq || !f.emb)
		return -1;
	for (size_t k = 0; k < s->n_items; k++)
		if (s->items[k].ok && s->items[k].kind == ITEM_NEGATIVE) {
			f.pdq[f.n] = s->items[k].best[M_PDQ];
			f.emb[f.n++] = s->items[k].best[M_EMB];
		}
	qsort(f.pdq, f.n, sizeof(double), desc);
	qsort(f.emb, f.n, sizeof(double), desc);
	for (size_t k = 0; f.n && k < s->n_items; k++)
		if (s->items[k].ok && s->items[k].kind != ITEM_REFERENCE)
			fuse(&s->items[k], &f, s);
	free(f.pdq);
	free(f.emb);
	free(views);
	free(qm);
	free(out);
	free(esc);
	free(sc);
	free(batch);
	return f.n ? 0 : -1;
}
