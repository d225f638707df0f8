/* The registry's public functions that search (index/registry/): above the snapshots and the
 * index file (index/search/), below the check (index/check/). */
#ifndef LK_INDEX_REGISTRY_H
#define LK_INDEX_REGISTRY_H

#include "index/search/embedding_index.h"
#include "index/search/search.h"

#endif
