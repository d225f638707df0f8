/* The pieces of faiss' C API that 1.7.3 lacks: constructing a binary index, setting how hard a
 * binary hash or IVF index searches, and reading an index with its inverted lists
 * memory-mapped.
 *
 * The factory is declared with exactly the signature later faiss releases give it (faiss/c_api/
 * index_factory_c.h), so it goes when the faiss in use catches up; the flip setter has no C API
 * counterpart in any release yet, so it carries likeness' prefix. Nothing else in likeness
 * reaches around the C API. */
#ifndef LK_FAISS_C_GAPS_H
#define LK_FAISS_C_GAPS_H

#include <faiss/c_api/IndexBinary_c.h>
#include <faiss/c_api/Index_c.h>

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Builds a binary index of `d` bits from a factory string ("BFlat", "BHNSW32", "BHash64", ...).
 * Returns 0 and sets *p_index (free with faiss_IndexBinary_free), or a negative faiss C API
 * error code with the reason in faiss_get_last_error(). */
int faiss_index_binary_factory(FaissIndexBinary **p_index, int d, const char *description);

/* Sets how hard a search looks: on IndexBinaryHash and IndexBinaryMultiHash ("BHash...") the
 * bits flipped in each hash key (nflip; a multi-hash of n keys then finds every code within
 * n * (nflip + 1) - 1 bits, by pigeonhole), on IndexBinaryIVF ("BIVF...") the lists probed
 * (nprobe). Returns 0, or a negative faiss C API error code when the index has no such setting
 * or `effort` is outside 0..b (hash) or 0..nlist (IVF). */
int lk__faiss_binary_set_search_effort(FaissIndexBinary *index, int effort);

/* Reads an index from `f` at its current position with faiss' IO_FLAG_MMAP: an IVF index's
 * inverted lists are mapped from the file instead of copied into memory (the C API's
 * FAISS_IO_FLAG_MMAP is not that flag and 1.7.3 ignores it). The mapping addresses the whole
 * file, so `f` may hold other data before the index; it may be closed afterwards. The bytes
 * must have been verified first: faiss trusts the list sizes it reads. Searches start no
 * prefetch threads. Returns 0, or a
 * negative faiss C API error code. */
int lk__faiss_read_index_mmap(FaissIndex **p_index, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
