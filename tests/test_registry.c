/* The registry's record: characters and references, their errors, versions. */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fresh registry directory per call. */
static const char *new_registry_dir(void)
{
	const char *dir = fx_temp_dir();
	char sub[300];
	snprintf(sub, sizeof sub, "%s/reg", dir);
	static char path[300];
	memcpy(path, sub, sizeof path);
	cr_assert_eq(lk_registry_create(path), LK_OK, "%s", lk_error_detail());
	return path;
}

Test(registry, create_open_and_errors)
{
	const char *dir = new_registry_dir();
	cr_expect_eq(lk_registry_create(dir), LK_EEXISTS);
	lk_registry *reg;
	cr_assert_eq(lk_registry_open(&reg, dir), LK_OK, "%s", lk_error_detail());
	uint64_t v;
	cr_assert_eq(lk_registry_version(&v, reg), LK_OK);
	cr_expect_eq(v, 0u);
	lk_registry_close(reg);
	cr_expect_eq(lk_registry_open(&reg, "/nonexistent/likeness"), LK_ENOTFOUND);
	cr_expect(strstr(lk_error_detail(), "no registry"));
}

Test(registry, characters)
{
	lk_registry *reg;
	cr_assert_eq(lk_registry_open(&reg, new_registry_dir()), LK_OK);
	lk_character c = fx_character("sunny", "Sunny");
	snprintf(c.aliases, sizeof c.aliases, "Sun, Sunshine");
	snprintf(c.rights_holder, sizeof c.rights_holder, "Example Studio");
	cr_assert_eq(lk_character_add(reg, &c), LK_OK, "%s", lk_error_detail());
	cr_expect_eq(lk_character_add(reg, &c), LK_EEXISTS);
	cr_expect(strstr(lk_error_detail(), "sunny"));
	lk_character bad = fx_character("Bad Slug!", "x");
	cr_expect_eq(lk_character_add(reg, &bad), LK_EINVAL);
	bad = fx_character("noname", "");
	cr_expect_eq(lk_character_add(reg, &bad), LK_EINVAL);
	bad = fx_character("inverted", "Inverted");
	bad.block_threshold = 40;
	bad.review_threshold = 30;
	cr_expect_eq(lk_character_add(reg, &bad), LK_EINVAL);

	lk_character b = fx_character("bolt", "Bolt");
	b.block_threshold = 20;
	cr_assert_eq(lk_character_add(reg, &b), LK_OK);

	lk_character got;
	cr_assert_eq(lk_character_get(&got, reg, "sunny"), LK_OK);
	cr_expect_str_eq(got.name, "Sunny");
	cr_expect_str_eq(got.aliases, "Sun, Sunshine");
	cr_expect_str_eq(got.rights_holder, "Example Studio");
	cr_expect_eq(got.block_threshold, -1);
	cr_expect_eq(got.enabled, 1);
	cr_expect_eq(lk_character_get(&got, reg, "nobody"), LK_ENOTFOUND);

	lk_character list[4];
	size_t total;
	cr_assert_eq(lk_character_list(list, 4, &total, reg), LK_OK);
	cr_expect_eq(total, 2u);
	cr_expect_str_eq(list[0].slug, "bolt"); /* ordered by slug */
	cr_expect_eq(list[0].block_threshold, 20);

	got.review_threshold = 60;
	snprintf(got.licence, sizeof got.licence, "All rights reserved");
	cr_assert_eq(lk_character_update(reg, &got), LK_OK);
	cr_assert_eq(lk_character_get(&got, reg, "sunny"), LK_OK);
	cr_expect_eq(got.review_threshold, 60);
	cr_expect_str_eq(got.licence, "All rights reserved");

	cr_expect_eq(lk_character_set_enabled(reg, "sunny", 0), LK_OK);
	cr_assert_eq(lk_character_get(&got, reg, "sunny"), LK_OK);
	cr_expect_eq(got.enabled, 0);
	cr_expect_eq(lk_character_set_enabled(reg, "nobody", 0), LK_ENOTFOUND);

	cr_expect_eq(lk_character_remove(reg, "bolt"), LK_OK);
	cr_expect_eq(lk_character_remove(reg, "bolt"), LK_ENOTFOUND);
	cr_assert_eq(lk_character_list(NULL, 0, &total, reg), LK_OK);
	cr_expect_eq(total, 1u);
	lk_registry_close(reg);
}

Test(registry, references_and_versions)
{
	lk_registry *reg;
	cr_assert_eq(lk_registry_open(&reg, new_registry_dir()), LK_OK);
	lk_character c = fx_character("char1", "Character one");
	cr_assert_eq(lk_character_add(reg, &c), LK_OK);
	uint64_t v0, v1;
	cr_assert_eq(lk_registry_version(&v0, reg), LK_OK);

	int64_t id;
	cr_assert_eq(lk_reference_add_file(&id, reg, "char1", fx_pdq_image("char1_orig.png"), NULL), LK_OK,
		     "%s", lk_error_detail());
	cr_assert_eq(lk_registry_version(&v1, reg), LK_OK);
	cr_expect_eq(v1, v0 + 1);
	cr_expect_eq(lk_reference_add_file(NULL, reg, "char1", fx_pdq_image("char1_orig.png"), NULL), LK_EEXISTS);
	cr_expect_eq(lk_reference_add_file(NULL, reg, "nobody", fx_pdq_image("char1_blur.png"), NULL), LK_ENOTFOUND);
	cr_expect_eq(lk_reference_add_file(NULL, reg, "char1", fx_pdq_image("flat_grey.png"), NULL), LK_ELOWQUALITY);
	cr_expect(strstr(lk_error_detail(), "quality 0"), "%s", lk_error_detail());
	cr_expect_eq(lk_reference_add_file(NULL, reg, "char1", "/nonexistent.png", NULL), LK_EIO);

	lk_reference refs[4];
	size_t total;
	cr_assert_eq(lk_reference_list(refs, 4, &total, reg, "char1"), LK_OK);
	cr_assert_eq(total, 1u);
	cr_expect_eq(refs[0].id, id);
	cr_expect_eq(refs[0].quality, 100);
	cr_expect_eq(strlen(refs[0].sha256), 64u);
	cr_expect_str_eq(refs[0].sha256, "e78adf37abd5238bf93a9c518d1450da01f90519ee005177a085463b6f894938");
	char hex[65];
	lk_pdq_to_hex(hex, &refs[0].hash[0]);
	cr_expect_str_eq(hex, "71c3cc72ccc3cc25ce1c39c9369c61c3925cf3c7734db0d60de30cf28d23cb3c");

	lk_pdq_hash h;
	lk_pdq_from_hex(&h, "12f4b99b656a4a64ae6c8d958ccdccb49d4b95f21095ac036f7a624b629573dc");
	int64_t hid;
	cr_assert_eq(lk_reference_add_hash(&hid, reg, "char1", &h, 100, NULL), LK_OK);
	cr_expect_eq(lk_reference_add_hash(NULL, reg, "char1", &h, 100, NULL), LK_EEXISTS);
	cr_expect_eq(lk_reference_add_hash(NULL, reg, "char1", &h, 101, NULL), LK_EINVAL);

	cr_expect_eq(lk_reference_remove(reg, hid), LK_OK);
	cr_expect_eq(lk_reference_remove(reg, hid), LK_ENOTFOUND);

	/* Removing a character removes its references. */
	cr_assert_eq(lk_character_remove(reg, "char1"), LK_OK);
	cr_assert_eq(lk_reference_list(NULL, 0, &total, reg, NULL), LK_OK);
	cr_expect_eq(total, 0u);
	lk_registry_close(reg);
}

Test(registry, hash_batches_are_all_or_nothing)
{
	lk_registry *reg;
	cr_assert_eq(lk_registry_open(&reg, new_registry_dir()), LK_OK);
	lk_character a = fx_character("a", "A"), b = fx_character("b", "B");
	cr_assert_eq(lk_character_add(reg, &a), LK_OK);
	cr_assert_eq(lk_character_add(reg, &b), LK_OK);
	lk_hash_entry e[300];
	for (int i = 0; i < 300; i++) {
		for (int k = 0; k < LK_PDQ_BYTES; k++)
			e[i].hash.bytes[k] = (unsigned char)(i * 97 + k * 13 + (i >> 8));
		e[i].quality = 90;
		e[i].character = i % 2 ? "a" : "b";
		e[i].source = NULL;
	}
	size_t added;
	cr_assert_eq(lk_reference_add_hashes(&added, reg, e, 300, NULL), LK_OK, "%s", lk_error_detail());
	cr_expect_eq(added, 300u);
	cr_assert_eq(lk_reference_add_hashes(&added, reg, e, 300, NULL), LK_OK);
	cr_expect_eq(added, 0u, "duplicates are skipped");

	size_t total;
	e[5].character = "nobody";
	for (int k = 0; k < LK_PDQ_BYTES; k++)
		e[4].hash.bytes[k] ^= 0xff; /* a new hash before the bad entry */
	cr_expect_eq(lk_reference_add_hashes(&added, reg, e, 300, NULL), LK_ENOTFOUND);
	cr_expect(strstr(lk_error_detail(), "entry 5"), "%s", lk_error_detail());
	cr_assert_eq(lk_reference_list(NULL, 0, &total, reg, NULL), LK_OK);
	cr_expect_eq(total, 300u, "a refused batch must add nothing");
	e[5].character = "a";
	e[7].quality = 20;
	cr_expect_eq(lk_reference_add_hashes(&added, reg, e, 300, NULL), LK_ELOWQUALITY);
	lk_registry_close(reg);
}

/* A damaged database is refused with a clear error, and nothing is written to it. */
Test(registry, damaged_database_is_refused)
{
	const char *dir = new_registry_dir();
	char path[400];
	snprintf(path, sizeof path, "%s/registry.db", dir);
	FILE *f = fopen(path, "r+b");
	cr_assert(f);
	char junk[4096];
	memset(junk, 0x5a, sizeof junk);
	fwrite(junk, 1, sizeof junk, f);
	fclose(f);
	lk_registry *reg;
	int rc = lk_registry_open(&reg, dir);
	cr_expect_eq(rc, LK_EREGISTRY, "got %s: %s", lk_error_name(rc), lk_error_detail());
	cr_expect(strstr(lk_error_detail(), dir), "%s", lk_error_detail());
	size_t len;
	unsigned char *after = fx_read(path, &len);
	cr_expect_eq(memcmp(after, junk, sizeof junk), 0, "the damaged file was modified");
	free(after);
}
