/* bench_identity: the character model as the library runs it. For each split and k, a real
 * registry is made (characters with their franchises, references with the embeddings the
 * describe step made, the train split as the negative bank) and every query and negative goes
 * through lk_registry_character_score, which is the check's own decision for an embedding. The
 * threshold is calibrated on the validation split's negatives at 1% and applied to the test
 * split as it is, so the operating point is measured, not chosen on test. */
#include "core/internal.h"
#include "identity.h"
#include "identity_eval.h"
#include "index/store/store.h"
#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

/* Scenes searched in parts too (--regions 9): the character model on the whole and on each
 * window, best of them; and today's region rule, the best window's lead over the next character
 * (lk_registry_region_lead), naming that window's nearest character. */
enum { WINDOWS_CHARACTER, WINDOWS_LEAD, WINDOW_RULES };

typedef struct product_run {
	query_set q[FORMS], neg;
	struct {
		query_set scene, neg; /* the scene queries, the negatives that are scenes, rescored */
	} win[WINDOW_RULES];
	double *score_us, *nearest_us; /* per call */
	int n_calls;
	int *ref_character; /* reference id -> character */
	int64_t n_ref_ids;
} product_run;

/* own_bank: the train split's pictures as the registry's negatives; else none, and the embedder
 * attached, so its default bank (scripts/prepare-bank.sh) stands in, as in a registry set up
 * without negatives of its own. */
static int add_registry(lk_registry **out, product_run *p, char *dir, const id_track *t, id_split split, int k,
			lk_embedder *e, int own_bank)
{
	if (!mkdtemp(dir))
		return -1;
	lk_registry *reg;
	if (lk_registry_create(dir) != LK_OK || lk_registry_open(&reg, dir) != LK_OK)
		return -1;
	const char *id = lk_embedder_id(e);
	int rc = LK_OK;
	float *views = malloc(sizeof(lk_embedding) * LK_VIEWS * ID_MAX_K);
	if (!views)
		rc = LK_ENOMEM;
	for (int c = 0; rc == LK_OK && c < t->n_characters; c++) {
		const id_character *ch = &t->characters[c];
		if (ch->split != split || !ch->registered)
			continue;
		lk_character lc = LK_CHARACTER_INIT;
		snprintf(lc.slug, sizeof lc.slug, "c%d", c);
		snprintf(lc.name, sizeof lc.name, "%s", ch->name);
		snprintf(lc.franchise, sizeof lc.franchise, "f%d", ch->franchise);
		rc = lk_character_add(reg, &lc);
		size_t n = 0;
		const int refs = ch->n - 1 < k ? ch->n - 1 : k;
		for (int i = 0; rc == LK_OK && i < refs; i++) {
			const id_image *im = &t->images[ch->first + i];
			if (im->ok && im->views)
				memcpy(views + n++ * LK_VIEWS * LK_EMBEDDING_DIM, im->views, sizeof(lk_embedding) * LK_VIEWS);
		}
		int64_t first;
		if (rc == LK_OK && n)
			rc = lk__reference_add_embedded(&first, reg, lc.slug, views, n, LK_VIEWS, id);
		if (rc == LK_OK && n && p) {
			int *grown = realloc(p->ref_character, sizeof *grown * (size_t)(first + (int64_t)n));
			if (!grown)
				rc = LK_ENOMEM;
			else {
				p->ref_character = grown;
				for (int64_t r = p->n_ref_ids; r < first; r++)
					grown[r] = -1;
				for (size_t r = 0; r < n; r++)
					grown[first + (int64_t)r] = c;
				p->n_ref_ids = first + (int64_t)n;
			}
		}
	}
	free(views);
	/* The bank: the train split's pictures in both forms and its empty scenes. */
	size_t n_bank = 0, cap = 0;
	float *bank = NULL;
	if (rc == LK_OK && !own_bank)
		rc = lk_registry_set_embedder(reg, e);
	for (int i = 0; rc == LK_OK && own_bank && i < t->n_images; i++) {
		const id_image *im = &t->images[i];
		if (!im->ok || (im->character < 0 ? im->photo_split : t->characters[im->character].split) != SPLIT_TRAIN)
			continue;
		const lk_embedding *two[2] = { im->character >= 0 ? &im->plain : NULL, &im->scene };
		for (int f = 0; f < 2; f++) {
			if (!two[f])
				continue;
			if (n_bank == cap) {
				cap = cap ? cap * 2 : 1024;
				float *grown = realloc(bank, sizeof(lk_embedding) * cap);
				if (!grown) {
					rc = LK_ENOMEM;
					break;
				}
				bank = grown;
			}
			memcpy(bank + n_bank++ * LK_EMBEDDING_DIM, two[f]->v, sizeof(lk_embedding));
		}
	}
	if (rc == LK_OK && own_bank)
		rc = lk__negative_add_embedded(reg, bank, n_bank, id);
	free(bank);
	if (rc != LK_OK) {
		fprintf(stderr, "bench_identity: product registry: %s\n", lk_error_detail());
		lk_registry_close(reg);
		return -1;
	}
	*out = reg;
	return 0;
}

int id_registry_open(lk_registry **out, char *dir, const id_track *t, id_split split, int k, lk_embedder *e)
{
	return add_registry(out, NULL, dir, t, split, k, e, 1);
}

void id_registry_remove(lk_registry *reg, const char *dir)
{
	lk_registry_close(reg);
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_identity: could not remove %s\n", dir);
}


/* Scores one vector as a check would; the time of that call and of today's nearest-reference
 * search beside it. */
static int score_one(scored *s, lk_registry *reg, const lk_embedding *v, const id_track *t, double *us, double *near_us)
{
	lk_character_decision d;
	double t0 = bench_wall_s();
	if (lk_registry_character_score(&d, reg, v) != LK_OK)
		return -1;
	*us = (bench_wall_s() - t0) * 1e6;
	float best;
	int64_t ref;
	t0 = bench_wall_s();
	if (lk_registry_best_similarity(&best, &ref, reg, v) != LK_OK)
		return -1;
	*near_us = (bench_wall_s() - t0) * 1e6;
	for (int nm = 0; nm < NORMS; nm++)
		for (int a = 0; a < AGGS; a++)
			s->score[nm][a] = -INFINITY, s->top_of[nm][a] = -1;
	const int c = d.character[0] ? id_character_of(d.character, t) : -1;
	if (c >= 0) {
		s->score[NORM_NONE][AGG_NEAREST] = d.score;
		s->top_of[NORM_NONE][AGG_NEAREST] = c;
	}
	return 0;
}

int id_character_of(const char *slug, const id_track *t)
{
	const int c = slug[0] == 'c' ? atoi(slug + 1) : -1;
	return c >= 0 && c < t->n_characters ? c : -1;
}

/* A copy of scene item i of `from`, rescored by each window rule. */
static int rescore_windows(product_run *p, const query_set *from, int i, int is_negative, lk_registry *reg,
			   const id_track *t)
{
	const id_image *im = from->image[i];
	double best[WINDOW_RULES];
	int top[WINDOW_RULES];
	best[WINDOWS_CHARACTER] = from->s[i].score[NORM_NONE][AGG_NEAREST];
	top[WINDOWS_CHARACTER] = from->s[i].top_of[NORM_NONE][AGG_NEAREST];
	best[WINDOWS_LEAD] = -INFINITY;
	top[WINDOWS_LEAD] = -1;
	for (int w = 0; w < im->n_windows; w++) {
		lk_character_decision d;
		if (lk_registry_character_score(&d, reg, &im->windows[w]) != LK_OK)
			return -1;
		if (d.character[0] && d.score > best[WINDOWS_CHARACTER])
			best[WINDOWS_CHARACTER] = d.score, top[WINDOWS_CHARACTER] = id_character_of(d.character, t);
		float lead, sim;
		int64_t ref;
		if (lk_registry_region_lead(&lead, &sim, &ref, reg, &im->windows[w]) != LK_OK)
			return -1;
		if (ref >= 0 && ref < p->n_ref_ids && lead > best[WINDOWS_LEAD]) {
			best[WINDOWS_LEAD] = lead;
			top[WINDOWS_LEAD] = p->ref_character[ref];
		}
	}
	for (int v = 0; v < WINDOW_RULES; v++) {
		query_set *dst = is_negative ? &p->win[v].neg : &p->win[v].scene;
		if (id_add_query(dst, from->emb[i], im, from->s[i].truth, from->s[i].source))
			return -1;
		scored *s = &dst->s[dst->n - 1];
		*s = from->s[i];
		s->score[NORM_NONE][AGG_NEAREST] = best[v];
		s->top_of[NORM_NONE][AGG_NEAREST] = top[v];
	}
	return 0;
}

/* Scores the split's queries and negatives at k (and, with `train_negatives`, the train split's
 * pictures as more negatives: they are not in a default bank). */
static int run_split(product_run *p, const id_track *t, id_split split, int k, lk_embedder *e, int own_bank,
		     int train_negatives)
{
	char dir[] = "/tmp/likeness-identity-XXXXXX";
	lk_registry *reg;
	if (add_registry(&reg, p, dir, t, split, k, e, own_bank))
		return -1;
	int rc = id_collect(p->q, &p->neg, t, split, k);
	if (!rc && train_negatives) {
		/* Negatives as the test split has them: pictures of franchises this registry does not
		 * hold (a sibling of a registered character is not "unrelated"), and empty scenes. */
		char *held = calloc((size_t)t->n_franchises, 1);
		for (int c = 0; held && c < t->n_characters; c++)
			if (t->characters[c].split == split && t->characters[c].registered)
				held[t->characters[c].franchise] = 1;
		query_set q_train[FORMS] = { { 0 } };
		/* k = 0: every train picture; the registered ones come back as queries. */
		rc = held ? id_collect(q_train, &p->neg, t, SPLIT_TRAIN, 0) : -1;
		for (int f = 0; !rc && f < FORMS; f++)
			for (int i = 0; !rc && i < q_train[f].n; i++)
				if (!held[t->characters[q_train[f].s[i].truth].franchise])
					rc = id_add_query(&p->neg, q_train[f].emb[i], q_train[f].image[i], -1, -1);
		for (int f = 0; f < FORMS; f++)
			id_query_set_free(&q_train[f]);
		free(held);
	}
	const int total = p->neg.n + p->q[0].n + p->q[1].n;
	p->score_us = malloc(sizeof(double) * (size_t)(total ? total : 1));
	p->nearest_us = malloc(sizeof(double) * (size_t)(total ? total : 1));
	if (!p->score_us || !p->nearest_us)
		rc = -1;
	p->n_calls = 0;
	query_set *sets[3] = { &p->neg, &p->q[0], &p->q[1] };
	for (int s = 0; !rc && s < 3; s++)
		for (int i = 0; !rc && i < sets[s]->n; i++, p->n_calls++)
			rc = score_one(&sets[s]->s[i], reg, sets[s]->emb[i], t, &p->score_us[p->n_calls],
				       &p->nearest_us[p->n_calls]);
	/* The scenes once more, in parts. */
	for (int i = 0; !rc && i < p->neg.n; i++)
		if (p->neg.image[i] && p->neg.emb[i] == &p->neg.image[i]->scene)
			rc = rescore_windows(p, &p->neg, i, 1, reg, t);
	for (int i = 0; !rc && i < p->q[FORM_SCENE].n; i++)
		rc = rescore_windows(p, &p->q[FORM_SCENE], i, 0, reg, t);
	id_registry_remove(reg, dir);
	return rc;
}

static void free_run(product_run *p)
{
	for (int f = 0; f < FORMS; f++)
		id_query_set_free(&p->q[f]);
	id_query_set_free(&p->neg);
	for (int v = 0; v < WINDOW_RULES; v++) {
		id_query_set_free(&p->win[v].scene);
		id_query_set_free(&p->win[v].neg);
	}
	free(p->score_us);
	free(p->nearest_us);
	free(p->ref_character);
	memset(p, 0, sizeof *p);
}

/* The share of `set` scoring at least `threshold` (and, for queries, naming the right character). */
static double share_at(const query_set *set, double threshold, int need_right)
{
	int n = 0;
	for (int i = 0; i < set->n; i++) {
		const scored *s = &set->s[i];
		n += s->score[NORM_NONE][AGG_NEAREST] >= threshold && (!need_right || s->top_of[NORM_NONE][AGG_NEAREST] == s->truth);
	}
	return set->n ? (double)n / set->n : 0;
}

/* The share of queries scoring at least `threshold` whose top character is of their franchise. */
static double franchise_share_at(const query_set *set, const id_track *t, double threshold)
{
	int n = 0;
	for (int i = 0; i < set->n; i++) {
		const scored *s = &set->s[i];
		const int top = s->top_of[NORM_NONE][AGG_NEAREST];
		n += s->score[NORM_NONE][AGG_NEAREST] >= threshold && top >= 0 &&
		     t->characters[top].franchise == t->characters[s->truth].franchise;
	}
	return set->n ? (double)n / set->n : 0;
}

/* A file copied byte for byte; 0 or -1. */
static int copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
	int rc = in && out ? 0 : -1;
	char buf[65536];
	size_t n;
	while (!rc && (n = fread(buf, 1, sizeof buf, in)) > 0)
		rc = fwrite(buf, 1, n, out) == n ? 0 : -1;
	if (in)
		fclose(in);
	if (out && fclose(out))
		rc = -1;
	return rc;
}

static int by_score_desc(const void *a, const void *b)
{
	const scored *x = *(const scored *const *)a, *y = *(const scored *const *)b;
	const double u = x->score[NORM_NONE][AGG_NEAREST], v = y->score[NORM_NONE][AGG_NEAREST];
	return (u < v) - (u > v);
}

/* One row of the misses page, its pictures copied beside it. */
static void miss_row(FILE *md, const char *dir, int n, const id_track *t, const id_image *query, const scored *s)
{
	const int top = s->top_of[NORM_NONE][AGG_NEAREST];
	const id_character *own = &t->characters[s->truth];
	char to[4096], cell[3][300];
	const id_image *pictures[3] = { query, &t->images[own->first], top >= 0 ? &t->images[t->characters[top].first] : NULL };
	static const char *const names[3] = { "query", "own", "taken" };
	for (int i = 0; i < 3; i++) {
		snprintf(cell[i], sizeof cell[i], "-");
		if (!pictures[i])
			continue;
		snprintf(to, sizeof to, "%s/%s-%02d-%s.png", dir, t->name, n, names[i]);
		if (!copy_file(pictures[i]->path, to))
			snprintf(cell[i], sizeof cell[i], "![](misses/%s-%02d-%s.png)", t->name, n, names[i]);
	}
	fprintf(md, "| %s | %s (%s) | %s | %s %s | %s | %.3f |\n", cell[0], own->name, query->pose, cell[1],
		top >= 0 ? t->characters[top].name : "-", top == s->truth ? "(right)" : "(wrong)", cell[2],
		s->score[NORM_NONE][AGG_NEAREST]);
}

/* The worst misses at k: the queries on white taken most confidently for another character, and
 * the right answers that scored lowest. */
static int write_misses(const product_run *test, const id_track *t, int k, const char *out)
{
	char path[4096], dir[4096];
	snprintf(dir, sizeof dir, "%s/misses", out);
	snprintf(path, sizeof path, "%s/misses.md", out);
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -1;
	FILE *md = fopen(path, "a"); /* each track adds its part (bench_identity starts it empty) */
	const query_set *q = &test->q[FORM_PLAIN];
	const scored **order = malloc(sizeof *order * (size_t)(q->n ? q->n : 1));
	if (!md || !order) {
		if (md)
			fclose(md);
		free(order);
		return -1;
	}
	int n = 0;
	for (int i = 0; i < q->n; i++)
		order[i] = &q->s[i];
	qsort(order, (size_t)q->n, sizeof *order, by_score_desc);
	fprintf(md, "## %s track, k = %d, on white: taken for another character with the highest scores\n\n", t->name, k);
	fprintf(md, "| query | its character (pose) | its first reference | taken for | that one's first reference | score |\n");
	fprintf(md, "|---|---|---|---|---|---:|\n");
	int shown = 0;
	for (int i = 0; i < q->n && shown < 10; i++) {
		const scored *s = order[i];
		if (s->top_of[NORM_NONE][AGG_NEAREST] == s->truth)
			continue;
		miss_row(md, dir, n++, t, q->image[s - q->s], s);
		shown++;
	}
	fprintf(md, "\n## %s track, k = %d, on white: named right with the lowest scores\n\n", t->name, k);
	fprintf(md, "| query | its character (pose) | its first reference | named | first reference | score |\n");
	fprintf(md, "|---|---|---|---|---|---:|\n");
	shown = 0;
	for (int i = q->n - 1; i >= 0 && shown < 10; i--) {
		const scored *s = order[i];
		if (s->top_of[NORM_NONE][AGG_NEAREST] != s->truth)
			continue;
		miss_row(md, dir, n++, t, q->image[s - q->s], s);
		shown++;
	}
	fprintf(md, "\n");
	free(order);
	return fclose(md) ? -1 : 0;
}

/* Out of the box: no negatives of the registry's own, the default bank in their place, and
 * the default threshold measured here: at 1% of the validation split's negatives and the train
 * split's pictures of franchises the validation registry does not hold (the default bank holds
 * none of them), in the validation registry at k = 3. */
static int default_bank(const id_track *t, lk_embedder *e, FILE *md)
{
	size_t n_bank;
	if (!lk__embedder_bank(e, &n_bank) || !n_bank) {
		fprintf(md, "The models folder has no default bank (scripts/prepare-bank.sh): no out-of-the-box figures.\n\n");
		return 0;
	}
	const int k_cal = t->n_ks > 1 ? t->ks[1] : t->ks[0];
	product_run cal = { 0 };
	if (run_split(&cal, t, SPLIT_VAL, k_cal, e, 0, 1)) {
		free_run(&cal);
		return -1;
	}
	double *v = malloc(sizeof(double) * (size_t)(cal.neg.n ? cal.neg.n : 1));
	for (int i = 0; v && i < cal.neg.n; i++)
		v[i] = cal.neg.s[i].score[NORM_NONE][AGG_NEAREST];
	const double threshold = v ? metrics_threshold(v, (size_t)cal.neg.n, 0.01) : INFINITY;
	free(v);
	fprintf(md, "#### %s track out of the box: the default bank (%zu pictures), no negatives of the registry's own\n\n",
		t->name, n_bank);
	fprintf(md, "Default threshold from %d negatives (the validation split's, and the train split's pictures of "
		    "franchises the registry does not hold) in the validation registry at k = %d: **%.3f** "
		    "(LK_DEFAULT_CHARACTER_THRESHOLD is %.3f). Test split:\n\n",
		cal.neg.n, k_cal, threshold, (double)LK_DEFAULT_CHARACTER_THRESHOLD);
	free_run(&cal);
	fprintf(md, "| k | queries | recall at 1%% FP | at 0.1%% FP | franchise at 1%% | at the shipped threshold: test FP, "
		    "recall (franchise) |\n|---:|---|---:|---:|---:|---:|\n");
	for (int ki = 0; ki < t->n_ks; ki++) {
		product_run test = { 0 };
		if (run_split(&test, t, SPLIT_TEST, t->ks[ki], e, 0, 0)) {
			free_run(&test);
			return -1;
		}
		const double shipped = LK_DEFAULT_CHARACTER_THRESHOLD;
		for (int f = 0; f < FORMS; f++) {
			const result x = id_measure(&test.q[f], &test.neg, t, NORM_NONE, AGG_NEAREST, 0);
			fprintf(md, "| %d | %s | %.1f%% | %.1f%% | %.1f%% | %.2f%%, %.1f%% (%.1f%%) |\n", t->ks[ki], id_form_name(f),
				100 * x.recall1, 100 * x.recall01, 100 * x.franchise1, 100 * share_at(&test.neg, shipped, 0),
				100 * share_at(&test.q[f], shipped, 1), 100 * franchise_share_at(&test.q[f], t, shipped));
		}
		free_run(&test);
	}
	fprintf(md, "\n");
	return 0;
}

int id_product(const id_track *t, lk_embedder *e, FILE *md, const char *out)
{
	fprintf(md, "#### %s track through the library (lk_registry_character_score)\n\n", t->name);
	fprintf(md, "Each registry holds the split's registered characters with their franchises and first k "
		    "pictures as references (every stored view), and the train split's pictures as its negative "
		    "bank. The threshold is calibrated on the validation split's negatives at 1%% false positives "
		    "and applied to the test split unchanged; the other columns are measured on the test split "
		    "alone. Times: median per call on one thread, the character decision against today's "
		    "nearest-reference search (lk_registry_best_similarity) on the same registry. The --regions rows "
		    "score the scenes again with their 9 region-search windows, against the negatives that are "
		    "scenes (the empty ones and the unregistered franchises painted in).\n\n");
	fprintf(md, "| k | queries | recall at 1%% FP | at 0.1%% FP | recall@1 (franchise) | micro-AP | wrong character at 1%% | "
		    "franchise at 1%% | at 0.1%% | wrong franchise at 1%% | %s at 1%% (franchise) | at the validation "
		    "threshold: test FP, recall (franchise) | µs per call (nearest alone) |\n",
		t->held_out >= 0 ? t->sources[t->held_out] : "held-out source");
	fprintf(md, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	int validation_negatives[3] = { 0 };
	for (int ki = 0; ki < t->n_ks; ki++) {
		const int k = t->ks[ki];
		product_run val = { 0 }, test = { 0 };
		if (run_split(&val, t, SPLIT_VAL, k, e, 1, 0) || run_split(&test, t, SPLIT_TEST, k, e, 1, 0)) {
			free_run(&val);
			free_run(&test);
			return -1;
		}
		double *vs = malloc(sizeof(double) * (size_t)(val.neg.n ? val.neg.n : 1));
		for (int i = 0; vs && i < val.neg.n; i++)
			vs[i] = val.neg.s[i].score[NORM_NONE][AGG_NEAREST];
		const double threshold = vs ? metrics_threshold(vs, (size_t)val.neg.n, 0.01) : INFINITY;
		free(vs);
		const double fp = share_at(&test.neg, threshold, 0);
		const double score_us = bench_median(test.score_us, test.n_calls);
		const double nearest_us = bench_median(test.nearest_us, test.n_calls);
		for (int f = 0; f < FORMS; f++) {
			const result x = id_measure(&test.q[f], &test.neg, t, NORM_NONE, AGG_NEAREST, 0);
			fprintf(md, "| %d | %s | %.1f%% | %.1f%% | %.1f%% (%.1f%%) | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f%% | ", k,
				id_form_name(f), 100 * x.recall1, 100 * x.recall01, 100 * x.at1, 100 * x.franchise_at1, 100 * x.map,
				100 * x.wrong1, 100 * x.franchise1, 100 * x.franchise01, 100 * x.wrong_franchise1);
			if (t->held_out >= 0 && x.held_out_queries)
				fprintf(md, "%.1f%% (%.1f%%) | ", 100 * x.held_out1, 100 * x.held_out_franchise1);
			else
				fprintf(md, "- | ");
			fprintf(md, "%.2f%%, %.1f%% (%.1f%%) | %.0f (%.0f) |\n", 100 * fp, 100 * share_at(&test.q[f], threshold, 1),
				100 * franchise_share_at(&test.q[f], t, threshold), score_us, nearest_us);
		}
		static const char *const rules[WINDOW_RULES] = {
			"in a scene, --regions 9: character model, best of whole and windows",
			"in a scene, --regions 9: today's rule (best window's lead)",
		};
		for (int v = 0; v < WINDOW_RULES; v++) {
			const result x = id_measure(&test.win[v].scene, &test.win[v].neg, t, NORM_NONE, AGG_NEAREST, 0);
			fprintf(md, "| %d | %s | %.1f%% | %.1f%% | %.1f%% (%.1f%%) | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f%% | ", k,
				rules[v], 100 * x.recall1, 100 * x.recall01, 100 * x.at1, 100 * x.franchise_at1, 100 * x.map,
				100 * x.wrong1, 100 * x.franchise1, 100 * x.franchise01, 100 * x.wrong_franchise1);
			if (t->held_out >= 0 && x.held_out_queries)
				fprintf(md, "%.1f%% (%.1f%%) | - | - |\n", 100 * x.held_out1, 100 * x.held_out_franchise1);
			else
				fprintf(md, "- | - | - |\n");
		}
		validation_negatives[ki] = val.neg.n;
		if (k == 3 && write_misses(&test, t, k, out))
			fprintf(stderr, "bench_identity: could not write %s/misses.md\n", out);
		free_run(&val);
		free_run(&test);
	}
	fprintf(md, "\nThe validation threshold comes from %d negatives (k = %d): at 1%%, the score of the %d-th "
		    "highest, which is why the test split's false-positive share strays from 1%%.\n\n",
		validation_negatives[0], t->ks[0], validation_negatives[0] / 100 + 1);
	return default_bank(t, e, md);
}
