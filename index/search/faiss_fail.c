/* A failed faiss call as a likeness error, with faiss' own message (kept per thread by faiss'
 * C API), for every file that calls faiss. */
#include "index/search/search.h"

#include <faiss/c_api/error_c.h>

int lk__faiss_fail(const char *what)
{
	const char *why = faiss_get_last_error();
	return lk__fail(LK_EINTERNAL, "faiss: %s: %s", what, why ? why : "unknown error");
}
