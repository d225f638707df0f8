/* bench_identity's shared state: the tracks (characters drawn in several pictures), their
 * split, the pictures' descriptions and the scores of each way of deciding per character. */
#ifndef LK_BENCH_IDENTITY_H
#define LK_BENCH_IDENTITY_H

#include "likeness.h"
#include "scene.h"

#include <stdio.h>

#define ID_MAX_K 8       /* the most references a character is registered with */
#define ID_ART_SIDE 512  /* art is rendered this size, then painted into scenes smaller */
#define ID_BANK_TOP 10   /* bank neighbours a score is normalised by */

typedef enum id_split { SPLIT_TRAIN, SPLIT_VAL, SPLIT_TEST, SPLITS } id_split;

typedef struct id_character {
	char *name;
	int franchise, source; /* indexes into the track's names */
	id_split split;
	int registered;        /* 0: its pictures are negatives (a look-alike nobody registered) */
	int first, n;          /* its images, in the order they are registered */
} id_character;

typedef struct id_image {
	int character;        /* -1: an empty scene */
	const char *path;     /* NULL for an empty scene */
	const char *pose;
	int rank;             /* place in the character's registration order */
	unsigned seed;
	id_split photo_split; /* which photographs an empty scene or a painted one may use */
	/* described */
	int ok;
	lk_embedding *views;  /* LK_VIEWS when rank < ID_MAX_K (it may be a reference), else NULL */
	lk_embedding plain;   /* the picture on white, as drawn */
	lk_embedding scene;   /* painted into a full-bleed scene */
	lk_embedding *windows; /* the scene's region-search windows (n_windows, as --regions 9 describes
	                          them), or NULL */
	int n_windows;
	scene_info info;
} id_image;

typedef struct id_track {
	const char *name;       /* "identity", "concept" */
	const char *what;       /* one line for the report */
	id_character *characters;
	int n_characters;
	id_image *images;       /* every character's images, then the empty scenes */
	int n_images;
	char **franchises, **sources;
	int n_franchises, n_sources;
	int held_out;           /* the source kept out of training (all its characters in test), or -1 */
	int ks[3], n_ks;        /* reference counts to measure */
} id_track;

typedef struct id_photos {
	const char **paths;
	id_split *split; /* by the photograph it was cut from, so a test scene's background is new */
	int n;
} id_photos;

/* Reads DIR/identity.tsv (bench/identity_corpus.sh). -1 with a message on failure. */
int id_track_identity(id_track *t, const char *dir, unsigned seed, const char *held_out);
/* The corpus' emoji: each concept's drawings by the four vendors (at most `limit` concepts). */
int id_track_concept(id_track *t, const char *corpus, unsigned seed, int limit);
/* Adds `n` empty scenes, their backgrounds split like the photographs. */
int id_track_add_empty(id_track *t, int n, unsigned seed);
void id_track_free(id_track *t);
/* One line per character: name, franchise, source, split, registered. */
void id_track_write_split(const id_track *t, FILE *f);

int id_photos_load(id_photos *p, const char *corpus);
void id_photos_free(id_photos *p);

/* Renders, paints into scenes and embeds every image on `threads` threads; an image that
 * fails is reported and left out (ok = 0). Writes a few scenes to `examples` when not NULL. */
int id_describe(id_track *t, const id_photos *p, lk_embedder *e, int threads, const char *examples);

/* Writes the example scenes into `examples` again (they are drawn from the seed: the same as
 * when the pictures were described), for a run whose descriptions came from the cache. */
int id_examples(const id_track *t, const id_photos *p, const char *examples);

/* Descriptions kept between runs (--cache): loaded only when written for the same pictures,
 * seeds and embedder. 0, or -1 (nothing loaded). */
int id_cache_load(id_track *t, lk_embedder *e, const char *path);
int id_cache_save(const id_track *t, lk_embedder *e, const char *path);

/* The character model as the library runs it (identity_product.c): a real registry per split and
 * k, every picture through lk_registry_character_score; a table of the test split, and the worst
 * misses at k = 3 in OUT/misses.md (pictures in OUT/misses/). */
int id_product(const id_track *t, lk_embedder *e, FILE *md, const char *out);
/* Each character calibrated at the operator's rate (identity_calibration.c,
 * lk_registry_calibrate_characters) at each strength of the per-character term, the strength
 * chosen on the validation split and every strength measured on the test split; a table. */
int id_calibration(const id_track *t, lk_embedder *e, FILE *md);

/* Projects every description of the track, in place, onto the `dims` directions of a linear
 * discriminant analysis of its train split's characters, and writes a paragraph saying so
 * (identity_whiten.c). 0 or -1. */
int id_whiten(id_track *t, int dims, FILE *md);

/* Measures every method at every k, on the test split (and the validation split, which tunes),
 * and writes the tables. */
int id_evaluate(const id_track *t, FILE *md, FILE *tsv);

#endif
