/* What checks search (index/search/): one immutable snapshot of the registry per version, with
 * the faiss indexes over the references' hashes and embeddings. Above the record
 * (index/store/), below the registry's public functions and the check. */
#ifndef LK_INDEX_SEARCH_H
#define LK_INDEX_SEARCH_H

#include "index/store/store.h"

#include <stdatomic.h>

struct FaissIndexBinary_H;
struct FaissIndex_H;
struct lk_ivf;

/* One character as the matcher needs it. */
struct snap_character {
	char slug[LK_SLUG_MAX];
	char name[LK_TEXT_MAX];
	int block_threshold, review_threshold;
	float embed_copy, embed_similar;   /* resolved (the registry's unless the character's own)
	                                      once the snapshot has embeddings */
	char franchise[LK_SLUG_MAX];       /* its own slug when it has none */
	int block_on_character;
	float character_threshold;         /* its own, else its calibrated one, else the registry's */
	int own_character_threshold;       /* 1: set on the character (a calibration leaves it) */
	int embedded_refs;                 /* its references with embeddings */
};

/* One matchable reference. */
struct snap_reference {
	int64_t id;
	uint32_t character; /* index into characters */
	int allow;
};

/* What a position of the `stored` index holds: a reference's hash of one of its transforms. */
struct snap_code {
	uint32_t ref;       /* index into refs */
	uint8_t transform;  /* lk_dihedral mapping the reference onto what this hash describes */
};

/* An immutable, complete picture of the registry at one version: what checks search. Built off
 * to the side and swapped in whole, so a check never sees a half-applied change. Reference
 * counted: a check holds it while searching even if a newer one replaces it meanwhile. */
struct snapshot {
	atomic_int refcount;
	uint64_t version;
	unsigned embedder_generation;      /* the registry's when it was built */
	size_t n_refs;
	struct snap_reference *refs;
	/* Every hash the references store: for image references their 8 transforms (hashed from
	 * transformed pixels), for bare hashes the hash. Searched with the image's own hash. */
	struct FaissIndexBinary_H *stored; /* NULL when empty */
	struct snap_code *codes;
	size_t n_codes;
	/* Bare hashes alone, searched with the image's 7 DCT-derived variants so that rotated and
	 * mirrored copies of an imported hash still match. */
	struct FaissIndexBinary_H *bare;   /* NULL when empty */
	uint32_t *bare_refs;               /* position -> index into refs */
	size_t n_bare;
	size_t n_characters;
	struct snap_character *characters;
	int max_review_threshold;
	struct snap_embeddings *emb;       /* NULL when no reference has an embedding */
	struct snap_bank *bank;            /* NULL when there is no negative bank (or no emb) */
	/* The character model's calibration: the registry's threshold, and the best character
	 * scores of the calibration's negatives, highest first (kept to estimate false-positive
	 * rates; none before a calibration). */
	float character_threshold;
	float *calibration;
	size_t n_calibration;
	int64_t calibration_negatives;
};

/* The negative bank as checks search it: the registry's negatives, else the embedder's default
 * bank, centred like the references (snapshot_embeddings.c) in an exact inner-product index. */
struct snap_bank {
	struct FaissIndex_H *index;
	size_t n;
};

/* The nearest views one embedding search found, best first: what the character model
 * aggregates after the matcher has used them. */
#define LK_EMB_HITS 128
struct emb_hits {
	int n;
	float sim[LK_EMB_HITS];
	uint32_t refs[LK_EMB_HITS];
};

/* The references' embeddings as the matcher searches them: centred on their mean (what all
 * references share, a white background, the emoji style, says nothing about which one an image
 * copies) and renormalised, in an exact inner-product index. The mean is shrunk by
 * n / (n + LK_EMBED_CENTRE_PRIOR) so that a registry of a few references is barely centred. */
#define LK_EMBED_CENTRE_PRIOR 16
struct snap_embeddings {
	struct FaissIndex_H *index;        /* exact; with `ivf`, only the references it lacks (NULL
	                                      when it lacks none) */
	uint32_t *refs;                    /* position in `index` -> index into the snapshot's refs */
	size_t n;                          /* vectors searched, in `index` and `ivf` together */
	/* The registry's approximate index when usable (index/search/embedding_index_file.c): its
	 * labels are reference id x LK_VIEWS + view; `covered` maps the ids this snapshot may match
	 * (sorted) to its refs, so removed, disabled or reused ids never come back from it. */
	struct lk_ivf *ivf;
	struct snap_covered { int64_t id; uint32_t ref; } *covered;
	size_t n_covered;
	float mean[LK_EMBEDDING_DIM];
	float copy, similar;               /* thresholds on the centred similarity */
	float region_copy, region_similar; /* the same for parts of an image */
};

/* ---- index/search/faiss_fail.c */
/* Records LK_EINTERNAL with faiss' last error message after a failed faiss call. */
int lk__faiss_fail(const char *what);

/* ---- index/search/snapshot.c */
/* The snapshot for the current version, rebuilt first if the database moved on. The caller
 * owns one reference; give it back with lk__snapshot_release(). */
int lk__snapshot_acquire(struct snapshot **out, lk_registry *reg);
void lk__snapshot_release(struct snapshot *snap);
/* Radius search of the image's 8 dihedral hashes, and when `emb` is given a nearest-neighbour
 * search of its embedding; fills `out` (most decisive first, one entry per reference) with at
 * most `cap` matches within each character's review threshold or the embedding's similar
 * threshold. `hits` (may be NULL) gets the nearest views the embedding search found (n = 0
 * without one). */
int lk__snapshot_search(const struct snapshot *snap, const lk_pdq_hash hashes[LK_DIHEDRAL_COUNT],
			const lk_embedding *emb, lk_match *out, int cap, int *n_out, struct emb_hits *hits);
/* Region search after lk__snapshot_search: each part's nearest references within the region
 * thresholds join `out` (or mark the match already there), with the part's place. */
int lk__snapshot_search_regions(const struct snapshot *snap, const lk_embedding *parts, const lk_region *places,
				int n_parts, lk_match *out, int cap, int *n_out);

/* ---- index/search/snapshot_embeddings.c */
/* Collects embeddings while a snapshot is built, then makes its index. */
struct emb_builder {
	float *v;
	uint32_t *refs;
	uint64_t *prints;                  /* per vector: its reference's lk__embedding_fingerprint */
	size_t n, cap;
};
int lk__emb_push(struct emb_builder *b, const void *blob, int bytes, uint32_t ref);
/* Builds snap->emb from the collected vectors (none: left NULL); frees the builder. Thresholds
 * come from the registry's meta table, else the defaults. Caller holds db_lock. */
int lk__emb_finish(struct snapshot *snap, struct emb_builder *b, lk_registry *reg);
/* Frees what the builder collected (when a snapshot's build stops before lk__emb_finish). */
void lk__emb_builder_free(struct emb_builder *b);
void lk__emb_free(struct snap_embeddings *e);
/* Subtracts the centring mean from a vector and brings it back to unit length (zero stays zero). */
void lk__emb_centre(float *v, const float *mean);
/* The `k` most similar references to `query` (centred and normalised here): similarities
 * into sim, snapshot ref indices into refs; returns how many (<= k), or a negative error. */
int lk__emb_search(const struct snap_embeddings *e, const lk_embedding *query, int k, float *sim, uint32_t *refs);
/* The view nearest `query` (*ref, index into snap->refs, and its *similarity) and its lead: that
 * similarity less the best of any other character's views, searched LK_EMB_LEAD_DEPTH deep (8
 * references of 8 views each). A part of a picture in the registry's own style resembles many
 * characters about equally; a copy of one stands out from the rest. 1 found, 0 when the index
 * is empty, an error code (< 0) on failure. */
#define LK_EMB_LEAD_DEPTH 64
int lk__emb_lead(const struct snapshot *snap, const lk_embedding *query, uint32_t *ref, float *similarity, float *lead);

/* ---- index/search/snapshot_bank.c */
/* Builds snap->bank from the registry's negatives (else the embedder's default bank; none
 * without embeddings) and reads the character model's calibration (caller holds db_lock,
 * after lk__emb_finish). */
int lk__bank_build(struct snapshot *snap, lk_registry *reg);
void lk__bank_free(struct snap_bank *b);
/* The mean similarity of `query` to its LK_CHARACTER_BANK_NEAREST nearest bank pictures, centred
 * like the references; 0 without a bank. LK_OK or an error. */
int lk__bank_term(float *out, const struct snapshot *snap, const lk_embedding *query);

/* ---- index/search/character_score.c */
/* One character's score for an image (likeness.h, lk_character_decision). */
struct character_score {
	uint32_t character; /* index into the snapshot's characters */
	float score;
	int nearest;        /* the hit of its nearest reference */
};
/* The score of every character among `hits` (at most LK_EMB_HITS, nearest reference first)
 * into out[*n]; none without embeddings or hits. LK_OK or an error. */
int lk__character_scores(struct character_score *out, int *n, const struct snapshot *snap,
			 const lk_embedding *query, const struct emb_hits *hits);
/* The character model's decision for an image described by `query`, whose nearest views are
 * `hits` (lk__snapshot_search's): every field of *out but verdict-independent ones the check
 * adds. Leaves out->character "" when nothing could be scored. */
int lk__character_score(lk_character_decision *out, const struct snapshot *snap, const lk_embedding *query,
			const struct emb_hits *hits);

#endif
