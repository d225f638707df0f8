/* A program built against LIKENESS_0.1 keeps working: it binds the 0.1 versions of the functions
 * whose structs grew (as the linker recorded them when it was built), and they read and write
 * exactly the 0.1 layouts. Linked against the shared library, which is where versions exist. */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <string.h>

/* The 0.1 layouts, as a program compiled then holds them. */
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

/* What the linker records for a program built against 0.1. */
__asm__(".symver old_character_add, lk_character_add@LIKENESS_0.1");
__asm__(".symver old_character_get, lk_character_get@LIKENESS_0.1");
__asm__(".symver old_character_list, lk_character_list@LIKENESS_0.1");
__asm__(".symver old_check_file, lk_check_file@LIKENESS_0.1");
__asm__(".symver old_check_files, lk_check_files@LIKENESS_0.1");
int old_character_add(lk_registry *reg, const struct character_v0_1 *c);
int old_character_get(struct character_v0_1 *out, lk_registry *reg, const char *slug);
int old_character_list(struct character_v0_1 *out, size_t cap, size_t *total, lk_registry *reg);
int old_check_file(struct check_result_v0_1 *out, lk_registry *reg, const char *path, const lk_check_options *opts);
int old_check_files(struct check_result_v0_1 *results, int *codes, lk_registry *reg, const char *const *paths,
		    size_t n, const lk_check_options *opts, int threads);

/* N structs followed by bytes the callee must not touch. */
#define GUARDED(T, N)                    \
	struct {                         \
		T v[N];                  \
		unsigned char after[64]; \
	}

static int untouched(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0xA5)
			return 0;
	return 1;
}

Test(abi_v0_1, old_programs_read_and_write_their_own_layouts)
{
	char dir[400];
	snprintf(dir, sizeof dir, "%s/reg", fx_temp_dir());
	cr_assert_eq(lk_registry_create(dir), LK_OK);
	lk_registry *reg;
	cr_assert_eq(lk_registry_open(&reg, dir), LK_OK);

	/* An old struct, with garbage where the new fields would be. */
	GUARDED(struct character_v0_1, 1) c;
	memset(&c, 0xA5, sizeof c);
	memset(&c.v[0], 0, sizeof c.v[0]);
	snprintf(c.v[0].slug, sizeof c.v[0].slug, "old");
	snprintf(c.v[0].name, sizeof c.v[0].name, "Old program's character");
	c.v[0].block_threshold = c.v[0].review_threshold = -1;
	c.v[0].enabled = 1;
	cr_assert_eq(old_character_add(reg, &c.v[0]), LK_OK, "%s", lk_error_detail());
	lk_character now;
	cr_assert_eq(lk_character_get(&now, reg, "old"), LK_OK);
	cr_expect_str_eq(now.franchise, "old", "the bytes after the old struct were not read as a franchise");
	cr_expect_eq(now.block_on_character, 0);
	cr_expect_eq(now.character_threshold, LK_EMBED_INHERIT);

	now.block_on_character = 1;
	snprintf(now.franchise, sizeof now.franchise, "series");
	cr_assert_eq(lk_character_update(reg, &now), LK_OK);
	GUARDED(struct character_v0_1, 1) got;
	memset(&got, 0xA5, sizeof got);
	cr_assert_eq(old_character_get(&got.v[0], reg, "old"), LK_OK);
	cr_expect_str_eq(got.v[0].name, "Old program's character");
	cr_expect(untouched(got.after, sizeof got.after), "lk_character_get@0.1 wrote past the old struct");
	GUARDED(struct character_v0_1, 2) many;
	memset(&many, 0xA5, sizeof many);
	size_t total;
	cr_assert_eq(old_character_list(many.v, 2, &total, reg), LK_OK);
	cr_expect_eq(total, 1);
	cr_expect_str_eq(many.v[0].slug, "old");
	cr_expect(untouched((unsigned char *)&many.v[1], sizeof many.v[1]), "the second slot is not the caller's to fill");
	cr_expect(untouched(many.after, sizeof many.after));

	cr_assert_eq(lk_reference_add_file(NULL, reg, "old", fx_pdq_image("char1_orig.png"), NULL), LK_OK);
	GUARDED(struct check_result_v0_1, 1) r;
	memset(&r, 0xA5, sizeof r);
	cr_assert_eq(old_check_file(&r.v[0], reg, fx_pdq_image("char1_jpeg50.jpg"), NULL), LK_OK, "%s", lk_error_detail());
	cr_expect_eq(r.v[0].verdict, LK_VERDICT_BLOCK, "%s", r.v[0].reason);
	cr_expect_eq(r.v[0].reason_code, LK_REASON_COPY);
	cr_expect_str_eq(r.v[0].matches[0].character, "old");
	cr_expect(untouched(r.after, sizeof r.after), "lk_check_file@0.1 wrote past the old result");
	lk_check_result full;
	cr_assert_eq(lk_check_file(&full, reg, fx_pdq_image("char1_jpeg50.jpg"), NULL), LK_OK);
	cr_expect_eq(memcmp(&full.matches, &r.v[0].matches, sizeof r.v[0].matches), 0, "the same matches in both layouts");

	GUARDED(struct check_result_v0_1, 2) batch;
	memset(&batch, 0xA5, sizeof batch);
	const char *paths[2] = { fx_pdq_image("char1_jpeg50.jpg"), fx_pdq_image("char2_orig.png") };
	int codes[2];
	cr_assert_eq(old_check_files(batch.v, codes, reg, paths, 2, NULL, 2), LK_OK, "%s", lk_error_detail());
	cr_expect_eq(batch.v[0].verdict, LK_VERDICT_BLOCK);
	cr_expect_eq(batch.v[1].verdict, LK_VERDICT_ALLOW);
	cr_expect(untouched(batch.after, sizeof batch.after), "lk_check_files@0.1 wrote past the old results");
	lk_registry_close(reg);
}
