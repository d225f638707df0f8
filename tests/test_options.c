/* The options' one version policy (likeness.h, "Options and versions"): lk_*_options_init()
 * writes the defaults of the version asked for and nothing past it; every entry point accepts
 * versions 1 to its own, gives the fields an older version lacks their defaults, and refuses
 * version 0 and versions newer than its own. */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Test(options, init_gives_what_the_init_macros_give)
{
	const lk_ingest_options ingest = LK_INGEST_OPTIONS_INIT;
	lk_ingest_options i;
	memset(&i, 0xab, sizeof i);
	cr_assert_eq(lk_ingest_options_init(&i, LK_INGEST_OPTIONS_VERSION), LK_OK, "%s", lk_error_detail());
	cr_expect_eq(i.version, ingest.version);
	cr_expect_eq(i.max_bytes, ingest.max_bytes);
	cr_expect_eq(i.max_pixels, ingest.max_pixels);
	cr_expect_eq(i.max_side, ingest.max_side);
	cr_expect_arr_eq(i.background, ingest.background, 3);
	cr_expect_eq(i.allow_svg, ingest.allow_svg);

	const lk_check_options check = LK_CHECK_OPTIONS_INIT;
	lk_check_options c;
	memset(&c, 0xab, sizeof c);
	cr_assert_eq(lk_check_options_init(&c, LK_CHECK_OPTIONS_VERSION), LK_OK, "%s", lk_error_detail());
	cr_expect_eq(c.version, check.version);
	cr_expect_eq(c.ingest.max_bytes, check.ingest.max_bytes);
	cr_expect_eq(c.ingest.allow_svg, 1);
	cr_expect_eq(c.hash_only, 0);
	cr_expect_eq(c.regions, 0);

	const lk_reference_options reference = LK_REFERENCE_OPTIONS_INIT;
	lk_reference_options r;
	memset(&r, 0xab, sizeof r);
	cr_assert_eq(lk_reference_options_init(&r, LK_REFERENCE_OPTIONS_VERSION), LK_OK, "%s", lk_error_detail());
	cr_expect_eq(r.version, reference.version);
	cr_expect_eq(r.allow, 0);
	cr_expect_null(r.source);
	cr_expect_eq(r.ingest.version, LK_INGEST_OPTIONS_VERSION);
	cr_expect_eq(r.ingest.max_side, reference.ingest.max_side);

	const lk_index_options index = LK_INDEX_OPTIONS_INIT;
	lk_index_options x;
	memset(&x, 0xab, sizeof x);
	cr_assert_eq(lk_index_options_init(&x, LK_INDEX_OPTIONS_VERSION), LK_OK, "%s", lk_error_detail());
	cr_expect_eq(x.version, index.version);
	cr_expect_eq(x.nlist, index.nlist);
	cr_expect_eq(x.nprobe, index.nprobe);
	cr_expect_float_eq(x.target_recall, index.target_recall, 1e-9);
	cr_expect_eq(x.sample, index.sample);
	cr_expect_eq(x.threads, index.threads);
}

/* A program built against the first header has a smaller struct: init must not write past it. */
Test(options, init_of_an_older_version_writes_only_that_version)
{
	unsigned char buf[sizeof(lk_check_options)];
	memset(buf, 0xab, sizeof buf);
	lk_check_options *c = (lk_check_options *)buf;
	cr_assert_eq(lk_check_options_init(c, 1), LK_OK, "%s", lk_error_detail());
	cr_expect_eq(c->version, 1u);
	cr_expect_eq(c->ingest.max_side, 32768u);
	for (size_t i = offsetof(lk_check_options, hash_only); i < sizeof buf; i++)
		cr_assert_eq(buf[i], 0xab, "byte %zu, past version 1's fields, was written", i);
	memset(buf, 0xab, sizeof buf);
	cr_assert_eq(lk_check_options_init(c, 2), LK_OK);
	cr_expect_eq(c->hash_only, 0);
	for (size_t i = offsetof(lk_check_options, regions); i < sizeof buf; i++)
		cr_assert_eq(buf[i], 0xab, "byte %zu, past version 2's fields, was written", i);
}

Test(options, init_refuses_unknown_versions)
{
	lk_ingest_options i;
	lk_check_options c;
	lk_reference_options r;
	lk_index_options x;
	cr_expect_eq(lk_ingest_options_init(&i, 0), LK_EINVAL);
	cr_expect(strstr(lk_error_detail(), "not initialised"), "%s", lk_error_detail());
	cr_expect_eq(lk_ingest_options_init(&i, LK_INGEST_OPTIONS_VERSION + 1), LK_EINVAL);
	cr_expect(strstr(lk_error_detail(), "newer than this library"), "%s", lk_error_detail());
	cr_expect_eq(lk_check_options_init(&c, LK_CHECK_OPTIONS_VERSION + 1), LK_EINVAL);
	cr_expect_eq(lk_reference_options_init(&r, LK_REFERENCE_OPTIONS_VERSION + 1), LK_EINVAL);
	cr_expect_eq(lk_index_options_init(&x, 0), LK_EINVAL);
	cr_expect_eq(lk_index_options_init(NULL, LK_INDEX_OPTIONS_VERSION), LK_EINVAL);
}

static lk_registry *pdq_registry(void)
{
	char dir[300];
	snprintf(dir, sizeof dir, "%s/reg", fx_temp_dir());
	fx_make_registry(dir, "char1", "char1_orig.png");
	lk_registry *reg;
	cr_assert_eq(lk_registry_open(&reg, dir), LK_OK, "%s", lk_error_detail());
	return reg;
}

Test(options, a_check_reads_only_the_fields_of_the_callers_version)
{
	lk_registry *reg = pdq_registry();
	lk_check_result r;
	lk_check_options o = LK_CHECK_OPTIONS_INIT;
	/* Version 1 had no hash_only and no regions: what lies there in a newer struct is not the
	 * caller's and must be ignored (a regions value of 1000 would be refused if read). */
	o.version = 1;
	o.hash_only = 12345;
	o.regions = 1000;
	cr_expect_eq(lk_check_file(&r, reg, fx_pdq_image("char1_orig.png"), &o), LK_OK, "%s", lk_error_detail());
	cr_expect_eq(r.verdict, LK_VERDICT_BLOCK);
	o.version = 2;
	cr_expect_eq(lk_check_file(&r, reg, fx_pdq_image("char1_orig.png"), &o), LK_OK, "%s", lk_error_detail());
	o.version = 3;
	cr_expect_eq(lk_check_file(&r, reg, fx_pdq_image("char1_orig.png"), &o), LK_EINVAL, "version 3 has regions");
	lk_registry_close(reg);
}

Test(options, every_entry_point_refuses_versions_it_does_not_know)
{
	lk_registry *reg = pdq_registry();
	const char *image = fx_pdq_image("char2_orig.png");
	lk_check_result r;
	lk_pdq_result p;

	lk_check_options c = LK_CHECK_OPTIONS_INIT;
	c.version = 0;
	cr_expect_eq(lk_check_file(&r, reg, image, &c), LK_EINVAL);
	c.version = LK_CHECK_OPTIONS_VERSION + 1;
	cr_expect_eq(lk_check_file(&r, reg, image, &c), LK_EINVAL);
	cr_expect(strstr(lk_error_detail(), "lk_check_options"), "%s", lk_error_detail());
	const char *paths[1] = { image };
	int code;
	cr_expect_eq(lk_check_files(&r, &code, reg, paths, 1, &c, 1), LK_EINVAL);
	c = (lk_check_options)LK_CHECK_OPTIONS_INIT;
	c.ingest.version = 0;
	cr_expect_eq(lk_check_file(&r, reg, image, &c), LK_EINVAL, "the ingest options inside are read too");
	cr_expect(strstr(lk_error_detail(), "lk_ingest_options"), "%s", lk_error_detail());

	lk_ingest_options i = LK_INGEST_OPTIONS_INIT;
	i.version = LK_INGEST_OPTIONS_VERSION + 1;
	cr_expect_eq(lk_pdq_hash_file(&p, image, &i), LK_EINVAL);
	unsigned char *bytes;
	size_t len;
	bytes = fx_read(image, &len);
	cr_expect_eq(lk_pdq_hash_bytes(&p, bytes, len, &i), LK_EINVAL);
	free(bytes);

	lk_reference_options ro = LK_REFERENCE_OPTIONS_INIT;
	ro.version = 0;
	cr_expect_eq(lk_reference_add_file(NULL, reg, "char1", image, &ro), LK_EINVAL);
	ro = (lk_reference_options)LK_REFERENCE_OPTIONS_INIT;
	ro.ingest.version = 7;
	cr_expect_eq(lk_reference_add_file(NULL, reg, "char1", image, &ro), LK_EINVAL);
	lk_pdq_hash h = { { 1 } };
	cr_expect_eq(lk_reference_add_hash(NULL, reg, "char1", &h, 90, &ro), LK_EINVAL);

	lk_index_options x = LK_INDEX_OPTIONS_INIT;
	x.version = LK_INDEX_OPTIONS_VERSION + 1;
	cr_expect_eq(lk_registry_build_index(NULL, reg, &x), LK_EINVAL);
	cr_expect(strstr(lk_error_detail(), "lk_index_options"), "%s", lk_error_detail());
	lk_registry_close(reg);
}

Test(options, the_version_number_matches_the_version_string)
{
	cr_expect_eq(lk_version_number(), (unsigned)LK_VERSION_NUMBER);
	unsigned major, minor, patch;
	cr_assert_eq(sscanf(lk_version(), "%u.%u.%u", &major, &minor, &patch), 3);
	cr_expect_eq(lk_version_number(), major * 10000 + minor * 100 + patch);
}
