/* The check and its verdict, the top layer of index/ (index/check/): ingest and describe an
 * image (core/), search a snapshot of the registry (index/search/), decide. */
#ifndef LK_INDEX_CHECK_H
#define LK_INDEX_CHECK_H

#include "index/registry/registry.h"

/* ---- index/check/check.c */
/* The caller's check options (NULL: the defaults) in this library's layout, the ingest options
 * within read by their own version; LK_EINVAL for an unknown version or regions out of range. */
int lk__check_options_read(lk_check_options *out, const lk_check_options *in);

/* ---- index/check/verdict.c */

/* Sets r->verdict and r->reason from r->matches (closest first); marks matches cleared by an
 * allow-listed reference of the same character as LK_VERDICT_ALLOW. */
void lk__decide(lk_check_result *r);

#endif
