/* The one piece of faiss' C API that 1.7.3 lacks: constructing a binary index.
 *
 * Declared with exactly the signature later faiss releases give it (faiss/c_api/
 * index_factory_c.h), so this file and its .cpp are deleted when the faiss in use catches up;
 * nothing else in likeness reaches around the C API. */
#ifndef LK_FAISS_BINARY_FACTORY_H
#define LK_FAISS_BINARY_FACTORY_H

#include <faiss/c_api/IndexBinary_c.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Builds a binary index of `d` bits from a factory string ("BFlat", "BHNSW32", "BHash64", ...).
 * Returns 0 and sets *p_index (free with faiss_IndexBinary_free), or a negative faiss C API
 * error code with the reason in faiss_get_last_error(). */
int faiss_index_binary_factory(FaissIndexBinary **p_index, int d, const char *description);

#ifdef __cplusplus
}
#endif
#endif
