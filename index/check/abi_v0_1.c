/* The functions of LIKENESS_0.1 whose structs grew in LIKENESS_0.2 (likeness.h, "Results and
 * versions"): programs linked before keep calling these, with the layouts they were compiled
 * with. Each runs the current function on the current layout and copies what the old one holds
 * (results), or fills in the defaults of what it lacks (characters it gives). */
#include "index/check/check.h"

#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* lk_character before the franchise and the character-model settings. */
struct character_v0_1 {
	int64_t id;
	char slug[LK_SLUG_MAX];
	char name[LK_TEXT_MAX];
	char aliases[LK_TEXT_MAX];
	char rights_holder[LK_TEXT_MAX];
	char licence[LK_TEXT_MAX];
	char labels[LK_TEXT_MAX];
	int block_threshold;
	int review_threshold;
	int enabled;
	int64_t references;
	float embed_copy;
	float embed_similar;
};
static_assert(offsetof(struct character_v0_1, embed_similar) == offsetof(lk_character, embed_similar),
	      "lk_character only grows at its end");

/* lk_check_result before the character decision. */
struct check_result_v0_1 {
	lk_verdict verdict;
	char reason[LK_TEXT_MAX];
	int quality;
	lk_pdq_hash hash;
	lk_source_info source;
	int n_matches;
	lk_match matches[LK_MAX_MATCHES];
	uint64_t registry_version;
	unsigned signals;
	lk_reason reason_code;
	int n_regions;
	lk_region regions[LK_MAX_REGIONS];
	double decode_ms, hash_ms, embed_ms, search_ms, total_ms;
};
static_assert(offsetof(struct check_result_v0_1, total_ms) == offsetof(lk_check_result, total_ms),
	      "lk_check_result only grows at its end");
static_assert(sizeof(struct check_result_v0_1) <= offsetof(lk_check_result, character),
	      "the old result is a prefix of the new one");

/* The old implementation of lk_FN, named lk__v0_1_FN (internal: the version script keeps lk__
 * names local), exported as lk_FN@LIKENESS_0.1. */
#define OLD_VERSION(fn) __asm__(".symver lk__v0_1_" #fn ", lk_" #fn "@LIKENESS_0.1")
#define OLD_API __attribute__((visibility("default")))

/* A character an old program gives: its fields, and the defaults of the newer ones. */
static void character_from_v0_1(lk_character *out, const struct character_v0_1 *in)
{
	memset(out, 0, sizeof *out);
	memcpy(out, in, offsetof(struct character_v0_1, embed_similar) + sizeof in->embed_similar);
}

OLD_VERSION(character_add);
OLD_API int lk__v0_1_character_add(lk_registry *reg, const struct character_v0_1 *c)
{
	if (!c)
		return lk_character_add(reg, NULL);
	lk_character full;
	character_from_v0_1(&full, c);
	return lk_character_add(reg, &full);
}

OLD_VERSION(character_update);
OLD_API int lk__v0_1_character_update(lk_registry *reg, const struct character_v0_1 *c)
{
	if (!c)
		return lk_character_update(reg, NULL);
	lk_character full;
	character_from_v0_1(&full, c);
	return lk_character_update(reg, &full);
}

OLD_VERSION(character_get);
OLD_API int lk__v0_1_character_get(struct character_v0_1 *out, lk_registry *reg, const char *slug)
{
	lk_character full;
	const int rc = lk_character_get(out ? &full : NULL, reg, slug);
	if (rc == LK_OK)
		memcpy(out, &full, sizeof *out);
	return rc;
}

OLD_VERSION(character_list);
OLD_API int lk__v0_1_character_list(struct character_v0_1 *out, size_t cap, size_t *total, lk_registry *reg)
{
	lk_character *full = cap ? calloc(cap, sizeof *full) : NULL;
	if (cap && !full)
		return lk__fail(LK_ENOMEM, "listing characters");
	const int rc = lk_character_list(full, out ? cap : 0, total, reg);
	if (rc == LK_OK && out)
		for (size_t i = 0; i < cap && i < *total; i++)
			memcpy(&out[i], &full[i], sizeof out[i]);
	free(full);
	return rc;
}

/* The check functions: the current result on the heap (it is large), its prefix copied out. */
#define CHECK_V0_1(call)                                                      \
	lk_check_result *full = out ? malloc(sizeof *full) : NULL;          \
	if (out && !full)                                                    \
		return lk__fail(LK_ENOMEM, "checking an image");             \
	const int rc = call;                                                 \
	if (rc == LK_OK)                                                     \
		memcpy(out, full, sizeof *out);                              \
	free(full);                                                          \
	return rc

OLD_VERSION(check_file);
OLD_API int lk__v0_1_check_file(struct check_result_v0_1 *out, lk_registry *reg, const char *path,
			       const lk_check_options *opts)
{
	CHECK_V0_1(lk_check_file(full, reg, path, opts));
}

OLD_VERSION(check_bytes);
OLD_API int lk__v0_1_check_bytes(struct check_result_v0_1 *out, lk_registry *reg, const void *data, size_t len,
				const lk_check_options *opts)
{
	CHECK_V0_1(lk_check_bytes(full, reg, data, len, opts));
}

OLD_VERSION(check_pixels);
OLD_API int lk__v0_1_check_pixels(struct check_result_v0_1 *out, lk_registry *reg, const lk_pixel_view *view,
				 const lk_check_options *opts)
{
	CHECK_V0_1(lk_check_pixels(full, reg, view, opts));
}

OLD_VERSION(check_pdq);
OLD_API int lk__v0_1_check_pdq(struct check_result_v0_1 *out, lk_registry *reg, const lk_pdq_result *pdq)
{
	CHECK_V0_1(lk_check_pdq(full, reg, pdq));
}

OLD_VERSION(check_files);
OLD_API int lk__v0_1_check_files(struct check_result_v0_1 *results, int *codes, lk_registry *reg,
				const char *const *paths, size_t n, const lk_check_options *opts, int threads)
{
	lk_check_result *full = results ? calloc(n ? n : 1, sizeof *full) : NULL;
	if (results && !full)
		return lk__fail(LK_ENOMEM, "checking %zu files", n);
	const int rc = lk_check_files(results ? full : NULL, codes, reg, paths, n, opts, threads);
	if (rc != LK_EINVAL && results && codes)
		for (size_t i = 0; i < n; i++)
			if (codes[i] == LK_OK)
				memcpy(&results[i], &full[i], sizeof results[i]);
	free(full);
	return rc;
}
