/* bench_identity: each way of deciding per character, measured at each k on the validation
 * split (which chooses the normalisation's strength) and the test split (which the README
 * quotes).
 *
 * The registry of a split holds its registered characters, each with its first k pictures
 * (every stored view, centred on their shrunk mean as index/search/snapshot_embeddings.c
 * centres). The queries are the other pictures of the characters that have more than k, on
 * white and painted into scenes. The negatives, one pool for both forms, are the unregistered
 * franchises' pictures (both forms) and the split's empty scenes. The bank, which score
 * normalisation compares with, is the train split: its characters' pictures in both forms and
 * its empty scenes. */
#include "core/internal.h"
#include "identity_eval.h"
#include "index/search/search.h"
#include "stats.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const agg_names[AGGS] = { "nearest reference", "mean of the 2 nearest", "mean of all references" };
#define N_BETAS 5
static const double betas[N_BETAS] = { 0, 0.25, 0.5, 0.75, 1.0 };
static const char *const form_names[FORMS] = { "on white", "in a scene" };

const char *id_form_name(int form)
{
	return form >= 0 && form < FORMS ? form_names[form] : "?";
}

typedef struct registry {
	float *views; /* n_views x D, centred */
	int *view_ref;
	int n_views;
	int *ref_character; /* per reference */
	int n_refs;
	float mean[LK_EMBEDDING_DIM];
} registry;

/* Per character and aggregation: mean and spread of its scores of the bank's pictures. */
typedef struct cohort {
	double *mu, *sd; /* n_characters x AGGS */
} cohort;

static int reference_count(const id_character *ch, int k)
{
	return ch->n - 1 < k ? ch->n - 1 : k;
}

static int build_registry(registry *r, const id_track *t, id_split split, int k)
{
	*r = (registry){ 0 };
	int n_refs = 0;
	for (int c = 0; c < t->n_characters; c++)
		if (t->characters[c].split == split && t->characters[c].registered)
			n_refs += reference_count(&t->characters[c], k);
	r->views = malloc(sizeof(float) * LK_EMBEDDING_DIM * LK_VIEWS * (size_t)(n_refs ? n_refs : 1));
	r->view_ref = malloc(sizeof(int) * LK_VIEWS * (size_t)(n_refs ? n_refs : 1));
	r->ref_character = malloc(sizeof(int) * (size_t)(n_refs ? n_refs : 1));
	if (!r->views || !r->view_ref || !r->ref_character)
		return -1;
	double sum[LK_EMBEDDING_DIM] = { 0 };
	for (int c = 0; c < t->n_characters; c++) {
		const id_character *ch = &t->characters[c];
		if (ch->split != split || !ch->registered)
			continue;
		for (int i = 0; i < reference_count(ch, k); i++) {
			const id_image *im = &t->images[ch->first + i];
			if (!im->ok || !im->views)
				continue;
			for (int v = 0; v < LK_VIEWS; v++) {
				memcpy(r->views + (size_t)r->n_views * LK_EMBEDDING_DIM, im->views[v].v,
				       sizeof(float) * LK_EMBEDDING_DIM);
				for (int j = 0; j < LK_EMBEDDING_DIM; j++)
					sum[j] += im->views[v].v[j];
				r->view_ref[r->n_views++] = r->n_refs;
			}
			r->ref_character[r->n_refs++] = c;
		}
	}
	const double n = r->n_views;
	for (int j = 0; j < LK_EMBEDDING_DIM; j++)
		r->mean[j] = n ? (float)(n / (n + LK_EMBED_CENTRE_PRIOR) * sum[j] / n) : 0;
	for (int v = 0; v < r->n_views; v++)
		lk__emb_centre(r->views + (size_t)v * LK_EMBEDDING_DIM, r->mean);
	return 0;
}

static void free_registry(registry *r)
{
	free(r->views);
	free(r->view_ref);
	free(r->ref_character);
}

/* A query's (or negative's) vector, centred like the registry's. */
static void centred(float *out, const lk_embedding *e, const registry *r)
{
	memcpy(out, e->v, sizeof(float) * LK_EMBEDDING_DIM);
	lk__emb_centre(out, r->mean);
}

int id_add_query(query_set *q, const lk_embedding *e, const id_image *image, int truth, int source)
{
	const lk_embedding **ge = realloc(q->emb, sizeof *ge * (size_t)(q->n + 1));
	const id_image **gw = realloc(q->image, sizeof *gw * (size_t)(q->n + 1));
	scored *gs = realloc(q->s, sizeof *gs * (size_t)(q->n + 1));
	if (ge)
		q->emb = ge;
	if (gw)
		q->image = gw;
	if (gs)
		q->s = gs;
	if (!ge || !gw || !gs)
		return -1;
	q->emb[q->n] = e;
	q->image[q->n] = image;
	q->s[q->n++] = (scored){ .truth = truth, .source = source };
	return 0;
}

void id_query_set_free(query_set *q)
{
	free(q->emb);
	free(q->image);
	free(q->s);
	memset(q, 0, sizeof *q);
}

static int desc_double(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;
	return (x < y) - (x > y);
}

/* mean and standard deviation of the first n of v (sorted best first) */
static void spread(const double *v, int n, double *mu, double *sd)
{
	double m = 0, q = 0;
	for (int i = 0; i < n; i++)
		m += v[i] / n;
	for (int i = 0; i < n; i++)
		q += (v[i] - m) * (v[i] - m) / n;
	*mu = m;
	*sd = sqrt(q) > 1e-6 ? sqrt(q) : 1e-6;
}

/* Scores every vector of q against the registry and the bank, chunk by chunk. With `full`, also
 * writes every character's aggregated scores (q->n x n_characters x AGGS, -inf for characters
 * not in the registry). `self` (the bank scoring itself): each vector's best bank match is
 * itself, left out. `c` (may be NULL): the characters' cohorts, for NORM_Z and NORM_S. */
static int score_all(query_set *q, const registry *r, const float *bank, int n_bank, const id_track *t,
		     double *full, int self, const cohort *c)
{
	enum { CHUNK = 128 };
	const int nc = t->n_characters;
	float *x = malloc(sizeof(float) * LK_EMBEDDING_DIM * CHUNK);
	float *sim = malloc(sizeof(float) * (size_t)CHUNK * (size_t)(r->n_views ? r->n_views : 1));
	float *bsim = malloc(sizeof(float) * (size_t)CHUNK * (size_t)(n_bank ? n_bank : 1));
	double *per_ref = malloc(sizeof(double) * (size_t)(r->n_refs ? r->n_refs : 1));
	double *top = malloc(sizeof(double) * (size_t)(r->n_refs + 1));
	double *btop = malloc(sizeof(double) * (size_t)(n_bank ? n_bank : 1));
	int rc = -1;
	if (!x || !sim || !bsim || !per_ref || !top || !btop)
		goto out;
	for (int start = 0; start < q->n; start += CHUNK) {
		const int m = q->n - start < CHUNK ? q->n - start : CHUNK;
		for (int i = 0; i < m; i++)
			centred(x + (size_t)i * LK_EMBEDDING_DIM, q->emb[start + i], r);
		if (r->n_views)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, r->n_views, LK_EMBEDDING_DIM, 1.0f, x,
				    LK_EMBEDDING_DIM, r->views, LK_EMBEDDING_DIM, 0.0f, sim, r->n_views);
		if (n_bank)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n_bank, LK_EMBEDDING_DIM, 1.0f, x,
				    LK_EMBEDDING_DIM, bank, LK_EMBEDDING_DIM, 0.0f, bsim, n_bank);
		for (int i = 0; i < m; i++) {
			scored *s = &q->s[start + i];
			double *row_full = full ? full + (size_t)(start + i) * nc * AGGS : NULL;
			if (row_full)
				for (int j = 0; j < nc * AGGS; j++)
					row_full[j] = -INFINITY;
			/* The query's own cohort: its similarities to the bank, best first. */
			double qmu = 0, qsd = 1;
			s->bank = 0;
			if (n_bank) {
				const float *brow = bsim + (size_t)i * n_bank;
				for (int b = 0; b < n_bank; b++)
					btop[b] = brow[b];
				qsort(btop, (size_t)n_bank, sizeof *btop, desc_double);
				const double *from = btop + (self ? 1 : 0);
				const int avail = n_bank - (self ? 1 : 0);
				const int nb = avail < ID_BANK_TOP ? avail : ID_BANK_TOP;
				for (int b = 0; b < nb; b++)
					s->bank += from[b] / nb;
				spread(from, avail < ID_COHORT ? avail : ID_COHORT, &qmu, &qsd);
			}
			for (int j = 0; j < r->n_refs; j++)
				per_ref[j] = -2;
			const float *row = sim + (size_t)i * r->n_views;
			for (int v = 0; v < r->n_views; v++)
				if (row[v] > per_ref[r->view_ref[v]])
					per_ref[r->view_ref[v]] = row[v];
			for (int nm = 0; nm < NORMS; nm++)
				for (int a = 0; a < AGGS; a++)
					s->score[nm][a] = -INFINITY, s->top_of[nm][a] = -1;
			/* Per character: its references' best-view similarities, best first. */
			for (int j = 0; j < r->n_refs;) {
				const int ch = r->ref_character[j];
				int n = 0;
				for (; j < r->n_refs && r->ref_character[j] == ch; j++)
					top[n++] = per_ref[j];
				qsort(top, (size_t)n, sizeof *top, desc_double);
				double mean = 0;
				for (int u = 0; u < n; u++)
					mean += top[u] / n;
				const double v[AGGS] = { top[0], n > 1 ? (top[0] + top[1]) / 2 : top[0], mean };
				for (int a = 0; a < AGGS; a++) {
					double nv[NORMS] = { v[a], v[a], -INFINITY, -INFINITY };
					if (c) {
						const double z = (v[a] - c->mu[ch * AGGS + a]) / c->sd[ch * AGGS + a];
						nv[NORM_Z] = z;
						nv[NORM_S] = (z + (v[a] - qmu) / qsd) / 2;
					}
					for (int nm = 0; nm < NORMS; nm++)
						if (nv[nm] > s->score[nm][a])
							s->score[nm][a] = nv[nm], s->top_of[nm][a] = ch;
					if (row_full)
						row_full[ch * AGGS + a] = v[a];
				}
			}
		}
	}
	rc = 0;
out:
	free(x);
	free(sim);
	free(bsim);
	free(per_ref);
	free(top);
	free(btop);
	return rc;
}

/* Each registered character's cohort: its ID_COHORT best scores of the bank's pictures. */
static int make_cohort(cohort *c, const registry *r, const float *bank, int n_bank, const id_track *t)
{
	const int nc = t->n_characters;
	query_set b = { 0 };
	lk_embedding *copies = malloc(sizeof *copies * (size_t)(n_bank ? n_bank : 1));
	double *full = malloc(sizeof(double) * (size_t)(n_bank ? n_bank : 1) * (size_t)nc * AGGS);
	double *col = malloc(sizeof(double) * (size_t)(n_bank ? n_bank : 1));
	c->mu = calloc((size_t)nc * AGGS, sizeof(double));
	c->sd = malloc(sizeof(double) * (size_t)nc * AGGS);
	int rc = -1;
	if (!copies || !full || !col || !c->mu || !c->sd)
		goto out;
	/* The bank is centred already; score_all centres again, which leaves it as it is. */
	for (int i = 0; i < n_bank; i++) {
		memcpy(copies[i].v, bank + (size_t)i * LK_EMBEDDING_DIM, sizeof copies[i].v);
		if (id_add_query(&b, &copies[i], NULL, -1, -1))
			goto out;
	}
	registry uncentred = *r;
	memset(uncentred.mean, 0, sizeof uncentred.mean);
	if (score_all(&b, &uncentred, bank, n_bank, t, full, 1, NULL))
		goto out;
	for (int ch = 0; ch < nc; ch++)
		for (int a = 0; a < AGGS; a++) {
			for (int i = 0; i < n_bank; i++)
				col[i] = full[((size_t)i * nc + ch) * AGGS + a];
			qsort(col, (size_t)n_bank, sizeof *col, desc_double);
			spread(col, n_bank < ID_COHORT ? n_bank : ID_COHORT, &c->mu[ch * AGGS + a], &c->sd[ch * AGGS + a]);
		}
	rc = 0;
out:
	free(copies);
	free(full);
	free(col);
	id_query_set_free(&b);
	return rc;
}

static double value(const scored *s, int nm, int a, double beta)
{
	return nm == NORM_BANK ? s->score[nm][a] - beta * s->bank : s->score[nm][a];
}

/* The measures of one method: aggregation a, normalisation nm (NORM_BANK: by beta times the
 * bank similarity). */
result id_measure(const query_set *q, const query_set *neg, const id_track *t, int nm, int a, double beta)
{
	result res = { .queries = q->n, .negatives = neg->n };
	double *ns = malloc(sizeof(double) * (size_t)(neg->n ? neg->n : 1));
	metrics_pred *pred = malloc(sizeof *pred * (size_t)(q->n + neg->n + 1));
	if (!ns || !pred) {
		free(ns);
		free(pred);
		return res;
	}
	for (int i = 0; i < neg->n; i++)
		ns[i] = value(&neg->s[i], nm, a, beta);
	const double t1 = metrics_threshold(ns, (size_t)neg->n, 0.01), t01 = metrics_threshold(ns, (size_t)neg->n, 0.001);
	int n_pred = 0;
	for (int i = 0; i < q->n; i++) {
		const scored *s = &q->s[i];
		const double v = value(s, nm, a, beta);
		const int top = s->top_of[nm][a], right = top == s->truth;
		const int same_franchise = top >= 0 && t->characters[top].franchise == t->characters[s->truth].franchise;
		const int held = s->source == t->held_out;
		res.held_out_queries += held;
		res.at1 += right;
		res.franchise_at1 += same_franchise;
		if (v >= t1) {
			res.recall1 += right;
			res.wrong1 += !right;
			res.franchise1 += same_franchise;
			res.wrong_franchise1 += !same_franchise;
			res.held_out1 += held && right;
			res.held_out_franchise1 += held && same_franchise;
		}
		if (v >= t01) {
			res.recall01 += right;
			res.franchise01 += same_franchise;
		}
		pred[n_pred++] = (metrics_pred){ v, right };
	}
	for (int i = 0; i < neg->n; i++)
		pred[n_pred++] = (metrics_pred){ ns[i], 0 };
	res.map = metrics_micro_ap(pred, (size_t)n_pred, (size_t)q->n, NULL, NULL, 0);
	const double n = q->n ? q->n : 1, h = res.held_out_queries ? res.held_out_queries : 1;
	res.recall1 /= n, res.recall01 /= n, res.at1 /= n, res.wrong1 /= n;
	res.franchise1 /= n, res.franchise01 /= n, res.wrong_franchise1 /= n, res.franchise_at1 /= n;
	res.held_out1 /= h, res.held_out_franchise1 /= h;
	free(ns);
	free(pred);
	return res;
}

/* The bank: the train split's pictures in both forms and its empty scenes, centred like the
 * registry. */
static float *make_bank(const id_track *t, const registry *r, int *n)
{
	int count = 0;
	for (int i = 0; i < t->n_images; i++) {
		const id_image *im = &t->images[i];
		if (!im->ok)
			continue;
		if (im->character < 0)
			count += im->photo_split == SPLIT_TRAIN;
		else if (t->characters[im->character].split == SPLIT_TRAIN)
			count += 2;
	}
	float *b = malloc(sizeof(float) * LK_EMBEDDING_DIM * (size_t)(count ? count : 1));
	if (!b)
		return NULL;
	*n = 0;
	for (int i = 0; i < t->n_images; i++) {
		const id_image *im = &t->images[i];
		if (!im->ok)
			continue;
		if (im->character < 0 ? im->photo_split != SPLIT_TRAIN : t->characters[im->character].split != SPLIT_TRAIN)
			continue;
		if (im->character >= 0)
			centred(b + (size_t)(*n)++ * LK_EMBEDDING_DIM, &im->plain, r);
		centred(b + (size_t)(*n)++ * LK_EMBEDDING_DIM, &im->scene, r);
	}
	return b;
}

static const char *const norm_names[NORMS] = { "", ", bank-normalised", ", z-normalised per character",
						 ", s-normalised" };

typedef struct evaluation {
	result r[FORMS][NORMS][AGGS][N_BETAS]; /* beta only for NORM_BANK, else index 0 */
	double score_ms; /* per picture, registry and bank together */
} evaluation;

static int evaluate(evaluation *ev, const id_track *t, id_split split, int k)
{
	registry r;
	query_set q[FORMS] = { { 0 } }, neg = { 0 };
	float *bank = NULL;
	cohort c = { 0 };
	int n_bank = 0, rc = -1;
	if (build_registry(&r, t, split, k) || !(bank = make_bank(t, &r, &n_bank)) || id_collect(q, &neg, t, split, k))
		goto out;
	if (make_cohort(&c, &r, bank, n_bank, t))
		goto out;
	const double t0 = bench_wall_s();
	if (score_all(&neg, &r, bank, n_bank, t, NULL, 0, &c))
		goto out;
	for (int f = 0; f < FORMS; f++)
		if (score_all(&q[f], &r, bank, n_bank, t, NULL, 0, &c))
			goto out;
	const int scored_n = neg.n + q[0].n + q[1].n;
	ev->score_ms = scored_n ? (bench_wall_s() - t0) * 1000 / scored_n : 0;
	for (int f = 0; f < FORMS; f++)
		for (int nm = 0; nm < NORMS; nm++)
			for (int a = 0; a < AGGS; a++)
				for (int b = 0; b < (nm == NORM_BANK ? N_BETAS : 1); b++)
					ev->r[f][nm][a][b] = id_measure(&q[f], &neg, t, nm, a, betas[b]);
	rc = 0;
out:
	free_registry(&r);
	free(bank);
	free(c.mu);
	free(c.sd);
	for (int f = 0; f < FORMS; f++)
		id_query_set_free(&q[f]);
	id_query_set_free(&neg);
	return rc;
}

int id_collect(query_set q[FORMS], query_set *neg, const id_track *t, id_split split, int k)
{
	for (int i = 0; i < t->n_images; i++) {
		const id_image *im = &t->images[i];
		if (!im->ok)
			continue;
		if (im->character < 0) {
			if (im->photo_split == split && id_add_query(neg, &im->scene, im, -1, -1))
				return -1;
			continue;
		}
		const id_character *ch = &t->characters[im->character];
		if (ch->split != split)
			continue;
		if (!ch->registered) {
			if (id_add_query(neg, &im->plain, im, -1, -1) || id_add_query(neg, &im->scene, im, -1, -1))
				return -1;
		} else if (ch->n > k && im->rank >= k) {
			if (id_add_query(&q[FORM_PLAIN], &im->plain, im, im->character, ch->source) ||
			    id_add_query(&q[FORM_SCENE], &im->scene, im, im->character, ch->source))
				return -1;
		}
	}
	return 0;
}

static double pct(double x)
{
	return 100 * x;
}

/* Validation's verdict on a method: recall at 1% false positives, both forms together. */
static double on_validation(const evaluation *val, int nm, int a, int b)
{
	return val->r[FORM_PLAIN][nm][a][b].recall1 + val->r[FORM_SCENE][nm][a][b].recall1;
}

static void table_row(FILE *md, const id_track *t, const char *form, const char *method, const result *x)
{
	fprintf(md, "| %s | %s | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f%% |", form, method,
		pct(x->recall1), pct(x->recall01), pct(x->at1), pct(x->map), pct(x->wrong1), pct(x->franchise1),
		pct(x->franchise01), pct(x->wrong_franchise1));
	if (t->held_out >= 0 && x->held_out_queries)
		fprintf(md, " %.1f%% (%.1f%%) |\n", pct(x->held_out1), pct(x->held_out_franchise1));
	else
		fprintf(md, " - |\n");
}

int id_evaluate(const id_track *t, FILE *md, FILE *tsv)
{
	int n_split[SPLITS] = { 0 }, n_unreg = 0;
	for (int c = 0; c < t->n_characters; c++) {
		n_split[t->characters[c].split]++;
		n_unreg += t->characters[c].split == SPLIT_TEST && !t->characters[c].registered;
	}
	fprintf(md, "### %s track: %s\n\n", t->name, t->what);
	fprintf(md, "%d characters in %d franchises from %d sources: %d train, %d validation, %d test (%d of them in "
		    "unregistered franchises, whose pictures are negatives)%s%s%s.\n\n",
		t->n_characters, t->n_franchises, t->n_sources, n_split[SPLIT_TRAIN], n_split[SPLIT_VAL],
		n_split[SPLIT_TEST], n_unreg, t->held_out >= 0 ? "; every character of " : "",
		t->held_out >= 0 ? t->sources[t->held_out] : "", t->held_out >= 0 ? " is in test, held out of training" : "");
	for (int ki = 0; ki < t->n_ks; ki++) {
		const int k = t->ks[ki];
		static evaluation val, test;
		if (evaluate(&val, t, SPLIT_VAL, k) || evaluate(&test, t, SPLIT_TEST, k))
			return -1;
		/* Validation chooses: the bank normalisation's strength per aggregation, and the one
		 * method the README quotes. */
		int chosen_beta[AGGS], best_nm = 0, best_a = 0, best_b = 0;
		for (int a = 0; a < AGGS; a++) {
			chosen_beta[a] = 0;
			for (int b = 1; b < N_BETAS; b++)
				if (on_validation(&val, NORM_BANK, a, b) > on_validation(&val, NORM_BANK, a, chosen_beta[a]))
					chosen_beta[a] = b;
		}
		for (int nm = 0; nm < NORMS; nm++)
			for (int a = 0; a < AGGS; a++) {
				const int b = nm == NORM_BANK ? chosen_beta[a] : 0;
				if (on_validation(&val, nm, a, b) > on_validation(&val, best_nm, best_a, best_b))
					best_nm = nm, best_a = a, best_b = b;
			}
		const result *any = &test.r[FORM_PLAIN][0][0][0];
		fprintf(md, "#### k = %d reference%s per character\n\n", k, k > 1 ? "s" : "");
		fprintf(md, "Test split: %d queries per form, %d negatives (both forms pooled); scoring %.2f ms per picture "
			    "(every method at once). Bank-normalised: less beta times the mean similarity to the %d "
			    "nearest pictures of the train split's bank (beta chosen on validation); z-normalised: against "
			    "the character's %d best scores of the bank; s-normalised: the mean of that and the query's "
			    "z-score against its %d nearest bank pictures. The method validation chose is in bold.\n\n",
			any->queries, any->negatives, test.score_ms, ID_BANK_TOP, ID_COHORT, ID_COHORT);
		fprintf(md, "| queries | method | recall at 1%% FP | at 0.1%% FP | recall@1 | micro-AP | wrong character at 1%% |"
			    " franchise at 1%% FP | franchise at 0.1%% | wrong franchise at 1%% | %s at 1%% (franchise) |\n",
			t->held_out >= 0 ? t->sources[t->held_out] : "held-out source");
		fprintf(md, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
		for (int f = 0; f < FORMS; f++)
			for (int nm = 0; nm < NORMS; nm++)
				for (int a = 0; a < AGGS; a++) {
					const int b = nm == NORM_BANK ? chosen_beta[a] : 0;
					char method[160];
					snprintf(method, sizeof method, "%s%s%s", agg_names[a], norm_names[nm],
						 nm == NORM_BANK ? " (beta " : "");
					if (nm == NORM_BANK)
						snprintf(method + strlen(method), sizeof method - strlen(method), "%.2f)", betas[b]);
					if (nm == best_nm && a == best_a && b == best_b) {
						char bold[200];
						snprintf(bold, sizeof bold, "**%s**", method);
						table_row(md, t, form_names[f], bold, &test.r[f][nm][a][b]);
					} else
						table_row(md, t, form_names[f], method, &test.r[f][nm][a][b]);
				}
		fprintf(md, "\n");
		for (int sp = 0; sp < 2; sp++) {
			const evaluation *ev = sp ? &test : &val;
			for (int f = 0; f < FORMS; f++)
				for (int nm = 0; nm < NORMS; nm++)
					for (int a = 0; a < AGGS; a++)
						for (int b = 0; b < (nm == NORM_BANK ? N_BETAS : 1); b++) {
							const result *x = &ev->r[f][nm][a][b];
							fprintf(tsv,
								"%s\t%s\t%d\t%s\t%s%s\t%.2f\t%d\t%d\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%."
								"4f\t%.4f\t%.4f\t%.4f\n",
								t->name, sp ? "test" : "validation", k, form_names[f], agg_names[a],
								norm_names[nm], nm == NORM_BANK ? betas[b] : 0, x->queries,
								x->negatives, x->recall1, x->recall01, x->at1, x->map, x->wrong1,
								x->franchise1, x->franchise01, x->wrong_franchise1, x->held_out1,
								x->held_out_franchise1);
						}
		}
	}
	return 0;
}
