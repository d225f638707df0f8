/* Opening and closing a registry: the record (index/store/) and the first snapshot of it
 * (index/search/), so that a registry that opens can be searched. */
#include "index/registry/registry.h"

int lk_registry_open(lk_registry **out, const char *dir)
{
	lk__clear_error();
	if (!out || !dir)
		return lk__fail(LK_EINVAL, "lk_registry_open: NULL argument");
	int rc = lk_cpu_check();
	if (rc != LK_OK)
		return rc;
	lk_registry *reg = NULL;
	rc = lk__store_open(&reg, dir);
	if (rc != LK_OK)
		return rc;
	struct snapshot *snap;
	rc = lk__snapshot_acquire(&snap, reg); /* builds the first snapshot now */
	if (rc != LK_OK) {
		lk_registry_close(reg);
		return rc;
	}
	lk__snapshot_release(snap);
	*out = reg;
	return LK_OK;
}

void lk_registry_close(lk_registry *reg)
{
	if (!reg)
		return;
	if (reg->snap)
		lk__snapshot_release(reg->snap);
	lk__ivf_cache_free(reg);
	lk__store_close(reg);
}
