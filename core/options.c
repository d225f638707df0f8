/* The one version policy of every options struct (likeness.h, "Options and versions"): how an
 * `lk_*_options_init()` fills a struct of a given version, and how the library reads a caller's
 * struct of any version it knows into its own current layout. Also the ingest options' own
 * defaults; each layer keeps the tables of the options it reads. */
#include "core/internal.h"

#include <string.h>

int lk__options_version(const struct lk_options_type *t, unsigned int version)
{
	if (version == 0)
		return lk__fail(LK_EINVAL, "%s: version 0, the struct was not initialised (use %s or %s_init())",
				t->name, t->init_macro, t->name);
	if (version > t->current)
		return lk__fail(LK_EINVAL,
				"%s: version %u is newer than this library's %u (likeness %s), which would ignore "
				"the fields it adds",
				t->name, version, t->current, LK_VERSION_STRING);
	return LK_OK;
}

int lk__options_init(void *opts, unsigned int version, const struct lk_options_type *t)
{
	lk__clear_error();
	if (!opts)
		return lk__fail(LK_EINVAL, "%s_init: NULL options", t->name);
	int rc = lk__options_version(t, version);
	if (rc != LK_OK)
		return rc;
	/* Only the bytes that version has: the caller's struct may be an older, smaller one. */
	memcpy(opts, t->defaults, t->sizes[version - 1]);
	memcpy(opts, &version, sizeof version);
	return LK_OK;
}

int lk__options_read(void *out, const void *in, const struct lk_options_type *t)
{
	const unsigned int current = t->current;
	memcpy(out, t->defaults, t->sizes[current - 1]);
	if (!in)
		return LK_OK;
	unsigned int version;
	memcpy(&version, in, sizeof version);
	int rc = lk__options_version(t, version);
	if (rc != LK_OK)
		return rc;
	memcpy(out, in, t->sizes[version - 1]);
	memcpy(out, &current, sizeof current);
	return LK_OK;
}

static const lk_ingest_options ingest_defaults = LK_INGEST_OPTIONS_INIT;
static const size_t ingest_sizes[LK_INGEST_OPTIONS_VERSION] = { sizeof(lk_ingest_options) };
static const struct lk_options_type ingest_type = {
	"lk_ingest_options", "LK_INGEST_OPTIONS_INIT", LK_INGEST_OPTIONS_VERSION, &ingest_defaults, ingest_sizes,
};

int lk_ingest_options_init(lk_ingest_options *opts, unsigned int version)
{
	return lk__options_init(opts, version, &ingest_type);
}

int lk__ingest_options_read(lk_ingest_options *out, const lk_ingest_options *in)
{
	return lk__options_read(out, in, &ingest_type);
}
