/* bench_suite's shared state: the images it describes and the scores it keeps of them. */
#ifndef LK_BENCH_SUITE_H
#define LK_BENCH_SUITE_H

#include "edits.h"
#include "likeness.h"
#include "peers.h"

#define SUITE_SIDE 512      /* art is rendered this size, as a generator's output might be */
#define SUITE_TOP 5         /* candidates each query contributes to average precision */
#define SUITE_MAX_METHODS 8 /* PDQ, embedding, fused and up to 5 peers */

enum { M_PDQ, M_EMB, M_FUSED, M_PEERS };

typedef enum item_kind {
	ITEM_REFERENCE, /* a character as registered */
	ITEM_COPY,      /* its reference under an edit */
	ITEM_OTHER,     /* the same character drawn by another vendor */
	ITEM_NEGATIVE   /* art or a photograph of none of the characters, maybe edited */
} item_kind;

typedef struct candidate {
	int ref;
	double score;
} candidate;

typedef struct item {
	item_kind kind;
	int character;   /* index into the characters; -1 for negatives */
	const char *path;
	int edit;        /* a bench_edit, or -1 for none */
	unsigned seed;
	/* described */
	int ok;
	lk_pdq_result pdq;
	lk_pdq_hash dihedral[LK_DIHEDRAL_COUNT]; /* references: hashes of really transformed pixels */
	lk_embedding *emb;                       /* LK_VIEWS for references, else 1 */
	bench_peer_hash *peer;                   /* one per peer */
	/* scored, per method: against the item's own character, the best of all, and the top */
	double own[SUITE_MAX_METHODS];
	double best[SUITE_MAX_METHODS];
	int best_ref[SUITE_MAX_METHODS];
	candidate top[SUITE_MAX_METHODS][SUITE_TOP];
} item;

typedef struct suite {
	item *items;
	size_t n_items;
	int n_characters;
	item **refs;             /* [n_characters] */
	const char **photos;     /* paste backgrounds */
	int n_photos;
	const char **stickers;   /* art with alpha */
	int n_stickers;
	int n_peers;
	int n_methods;           /* M_PEERS + n_peers */
	lk_embedder *embedder;
	const char *examples;    /* a folder to write the first character's queries into, or NULL */
	/* what was left out or failed, for the report */
	int failed;
} suite;

extern const double SUITE_NO_SCORE; /* a method that could not score (PDQ of a flat image) */

const char *suite_method_name(const suite *s, int m);

/* Renders or loads and edits every item, hashes and embeds it, on `threads` threads. */
int suite_describe(suite *s, int threads);
/* Centres the embeddings, scores every item against every reference with every method, and
 * fills own / best / top. Needs the negatives' score distributions for the fused method, so
 * it scores the negatives first. */
int suite_score(suite *s);

#endif
