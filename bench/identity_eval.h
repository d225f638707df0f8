/* bench_identity's measuring parts, shared by the study of scoring rules (identity_eval.c)
 * and the run through the library (identity_product.c). */
#ifndef LK_BENCH_IDENTITY_EVAL_H
#define LK_BENCH_IDENTITY_EVAL_H

#include "identity.h"
#include "suite_metrics.h"

enum { AGG_NEAREST, AGG_TOP2, AGG_MEAN, AGGS };
enum { FORM_PLAIN, FORM_SCENE, FORMS };

/* How a character's aggregated score is made comparable across characters and queries:
 * as it is; less beta times the query's mean similarity to its nearest bank pictures; as a
 * z-score against the character's own scores of the bank's pictures (its nearest ID_COHORT);
 * or the mean of that and the z-score against the query's similarities to the bank (adaptive
 * symmetric normalisation, as speaker verification calibrates per model and per trial). */
enum { NORM_NONE, NORM_BANK, NORM_Z, NORM_S, NORMS };
#define ID_COHORT 100

typedef struct scored {
	int truth;             /* character, -1 for a negative */
	int source;            /* of the truth */
	double score[NORMS][AGGS]; /* the top character's, per normalisation and aggregation */
	int top_of[NORMS][AGGS];
	double bank;           /* mean similarity to the nearest bank pictures */
} scored;

/* Vectors to score, each with what it is. */
typedef struct query_set {
	const lk_embedding **emb;
	const id_image **image;   /* per vector: the picture it describes (its plain or scene form, or
	                             its windows), NULL for a bank copy */
	scored *s;
	int n;
} query_set;

void id_query_set_free(query_set *q);
/* Appends a vector with what it is: `image` the picture it describes (NULL for a bank copy),
 * `truth` its character (-1 for a negative) and that character's source. 0 or -1. */
int id_add_query(query_set *q, const lk_embedding *e, const id_image *image, int truth, int source);

typedef struct result {
	int queries, negatives, held_out_queries;
	double recall1, recall01, at1, map, wrong1, franchise1, franchise01, wrong_franchise1, held_out1,
		held_out_franchise1;
	double franchise_at1; /* the top character is of the right franchise, at any score: the ceiling
	                         a threshold can reach by franchise, as at1 is by character */
} result;

/* "on white", "in a scene" */
const char *id_form_name(int form);
/* The split's queries at k (per form: the other pictures of its registered characters that have
 * more than k) and its negatives (its unregistered franchises' pictures in both forms, and its
 * empty scenes). 0 or -1. */
int id_collect(query_set q[FORMS], query_set *neg, const id_track *t, id_split split, int k);
/* Recall at 1% and 0.1% false positives (thresholds from the negatives' scores), recall@1,
 * micro-AP, wrong character and franchise shares, for normalisation nm and aggregation a
 * (NORM_BANK: less beta times the bank term). */
result id_measure(const query_set *q, const query_set *neg, const id_track *t, int nm, int a, double beta);

/* identity_product.c: the registry of a split at k as the library track makes it (its
 * registered characters, their first k pictures, the train split's pictures as its bank), in a
 * new folder made from the template `dir` (mkdtemp); 0 or -1. id_registry_remove closes it and
 * deletes the folder. id_character_of: the character a registry slug stands for, -1 none. */
int id_registry_open(lk_registry **out, char *dir, const id_track *t, id_split split, int k, lk_embedder *e);
void id_registry_remove(lk_registry *reg, const char *dir);
int id_character_of(const char *slug, const id_track *t);

#endif
