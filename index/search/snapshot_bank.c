/* The negative bank of a snapshot, and the character model's calibration (search.h). */
#include "index/search/search.h"

#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/Index_c.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

void lk__bank_free(struct snap_bank *b)
{
	if (!b)
		return;
	if (b->index)
		faiss_Index_free((FaissIndex *)b->index);
	free(b);
}

/* The calibration's negative scores: "s1,s2,..." highest first, as calibration wrote them. A
 * damaged list is dropped whole: the estimate is then "not calibrated", never wrong. */
static int read_calibration(struct snapshot *snap, lk_registry *reg)
{
	snap->character_threshold = (float)lk__db_meta_number(reg, "character_threshold", LK_DEFAULT_CHARACTER_THRESHOLD);
	snap->calibration_negatives = (int64_t)lk__db_meta_number(reg, "character_calibration_negatives", 0);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(reg->db, "SELECT value FROM meta WHERE key = 'character_calibration'", -1, &st, NULL) !=
	    SQLITE_OK)
		return LK_OK;
	int rc = LK_OK;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		const char *text = (const char *)sqlite3_column_text(st, 0);
		size_t n = 1;
		for (const char *c = text; *c; c++)
			n += *c == ',';
		float *v = malloc(sizeof *v * n);
		if (!v)
			rc = lk__fail(LK_ENOMEM, "reading the character calibration");
		size_t got = 0;
		for (const char *c = text; v && *c;) {
			char *end;
			const double x = strtod(c, &end);
			if (end == c || !isfinite(x) || (got && x > v[got - 1])) {
				got = 0;
				break;
			}
			v[got++] = (float)x;
			c = *end == ',' ? end + 1 : end;
		}
		if (got && (int64_t)got <= snap->calibration_negatives) {
			snap->calibration = v;
			snap->n_calibration = got;
		} else
			free(v);
	}
	sqlite3_finalize(st);
	return rc;
}

int lk__bank_build(struct snapshot *snap, lk_registry *reg)
{
	int rc = read_calibration(snap, reg);
	if (rc != LK_OK || !snap->emb)
		return rc;
	float *own = NULL;
	size_t n = 0;
	rc = lk__db_negatives(reg, &own, &n);
	if (rc != LK_OK)
		return rc;
	const float *from = own;
	if (!n)
		from = lk__embedder_bank(reg->embedder, &n);
	if (!n) {
		free(own);
		return LK_OK;
	}
	/* Centred on the references' mean, as every query is before it is compared. */
	float *v = malloc(sizeof(float) * LK_EMBEDDING_DIM * n);
	struct snap_bank *b = calloc(1, sizeof *b);
	if (!v || !b) {
		free(v);
		free(b);
		free(own);
		return lk__fail(LK_ENOMEM, "building the negative bank");
	}
	memcpy(v, from, sizeof(float) * LK_EMBEDDING_DIM * n);
	free(own);
	for (size_t i = 0; i < n; i++)
		lk__emb_centre(v + i * LK_EMBEDDING_DIM, snap->emb->mean);
	FaissIndexFlatIP *index = NULL;
	if (faiss_IndexFlatIP_new_with(&index, LK_EMBEDDING_DIM) != 0 ||
	    faiss_Index_add((FaissIndex *)index, (idx_t)n, v) != 0) {
		rc = lk__faiss_fail("building the negative bank");
		if (index)
			faiss_Index_free((FaissIndex *)index);
		free(b);
	} else {
		b->index = (struct FaissIndex_H *)index;
		b->n = n;
		snap->bank = b;
	}
	free(v);
	return rc;
}

int lk__bank_term(float *out, const struct snapshot *snap, const lk_embedding *query)
{
	*out = 0;
	if (!snap->bank || !snap->emb)
		return LK_OK;
	float q[LK_EMBEDDING_DIM];
	memcpy(q, query->v, sizeof q);
	lk__emb_centre(q, snap->emb->mean);
	const int k = snap->bank->n < LK_CHARACTER_BANK_NEAREST ? (int)snap->bank->n : LK_CHARACTER_BANK_NEAREST;
	float sim[LK_CHARACTER_BANK_NEAREST];
	idx_t labels[LK_CHARACTER_BANK_NEAREST];
	omp_set_num_threads(1); /* see lk__snapshot_search */
	if (faiss_Index_search((const FaissIndex *)snap->bank->index, 1, q, k, sim, labels) != 0)
		return lk__faiss_fail("searching the negative bank");
	double sum = 0;
	int n = 0;
	for (int i = 0; i < k; i++)
		if (labels[i] >= 0)
			sum += sim[i], n++;
	*out = n ? (float)(sum / n) : 0;
	return LK_OK;
}
