/* The approximate embedding index (lk_registry_build_index): its file, the loaded form shared by
 * snapshots, and the per-registry cache that verifies a file once per change of it. */
#ifndef LK_EMBEDDING_INDEX_H
#define LK_EMBEDDING_INDEX_H

#include "index/search/search.h"

#include <stdatomic.h>

#define LK_IVF_FILE "embeddings.ivf"
#define LK_IVF_MAGIC "LKIVF\0\0\1"
#define LK_IVF_FORMAT 1
/* The header is padded to this size so the faiss payload after it starts 8-aligned. */
#define LK_IVF_HEADER_BYTES 8192

/* Fixed-size header at the start of the file (native byte order: the library is x86-64 only,
 * like its faiss build). header_checksum covers every byte before it; payload_checksum covers
 * the reference table and the faiss index after the header, so both are verified before faiss
 * parses anything. */
struct lk_ivf_header {
	char magic[8];
	uint32_t header_bytes, format;
	uint64_t registry_version;
	int64_t references, vectors;
	uint64_t payload_bytes, payload_checksum;
	int32_t dim, nlist, nprobe, sample;
	float recall, unused;
	double build_seconds;
	int64_t built_at;
	char embedder[LK_EMBEDDER_ID_MAX];
	float mean[LK_EMBEDDING_DIM];      /* the centring the vectors were built with, frozen */
	uint64_t header_checksum;
};

/* One covered reference, in id order after the header: the fingerprint of its stored
 * embedding tells a reference that still holds the indexed vectors from one that reused its
 * id after a removal (SQLite rowids can be reused), which must be searched exactly instead. */
struct lk_ivf_covered {
	int64_t id;
	uint64_t fingerprint;
};

/* A verified, loaded index file; reference counted (the cache and each snapshot using it). */
struct lk_ivf {
	atomic_int refcount;
	struct lk_ivf_header header;
	struct lk_ivf_covered *covered;    /* header.references entries, by id */
	struct FaissIndex_H *index;        /* IVF, inverted lists memory-mapped; nprobe set */
};

/* The registry's view of its index file, keyed by the file's identity, so that snapshots
 * rebuilt on every version do not re-verify an unchanged file (guarded by db_lock). */
struct lk_ivf_cache {
	int valid;
	uint64_t dev, ino, size;
	int64_t mtime_ns;
	int state;                         /* LK_INDEX_NONE, LK_INDEX_CURRENT or LK_INDEX_REFUSED */
	char detail[LK_TEXT_MAX];
	struct lk_ivf *ivf;                /* when CURRENT (before the embedder check) */
};

/* ---- index/search/embedding_index_file.c */
/* The index file for the registry now: *out gets a reference (release it) when the file is
 * valid and made by `embedder`, else NULL, with *state and `detail` (LK_TEXT_MAX) saying why.
 * Caller holds db_lock. Failing to read the file is a state, not an error: checks go on. */
void lk__ivf_current(struct lk_ivf **out, int *state, char *detail, lk_registry *reg, const char *embedder);
void lk__ivf_release(struct lk_ivf *ivf);
/* Frees the registry's cache (at close). */
void lk__ivf_cache_free(lk_registry *reg);
/* Writes header, covered table and index to `dir`/embeddings.ivf via a temporary file, fsync
 * and rename; fills in the header's sizes and checksums. */
int lk__ivf_write(const char *dir, struct lk_ivf_header *header, const struct lk_ivf_covered *covered,
		  const struct FaissIndex_H *index);
/* True when the covered reference `id` still holds the embedding with `fingerprint`. */
int lk__ivf_covers(const struct lk_ivf *ivf, int64_t id, uint64_t fingerprint);

#endif
