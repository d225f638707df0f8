/* The header's promise about lk_error_detail(): empty after a successful call. Every entry point
 * that returns an error code is called once successfully right after a failure has filled the
 * detail, and must leave it empty. The list of entry points is checked against the header, so a
 * function added to the API without a case here fails this test. */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the calls build on, in order: each case may use what earlier cases made. */
static struct state {
	char dir[300];
	lk_registry *reg;
	lk_embedder *embedder;
	unsigned char *png;
	size_t png_len;
	unsigned char rgb[64 * 64 * 3];
	lk_pixel_view view;
	lk_pdq_result pdq;
	lk_embedding embedding;
	int64_t reference;
	lk_index_info index;
} s;

static const char *image(void)
{
	return fx_pdq_image("char1_orig.png");
}

static int call_init(void) { return lk_init(); }

static int call_ingest_options_init(void)
{
	lk_ingest_options o;
	return lk_ingest_options_init(&o, LK_INGEST_OPTIONS_VERSION);
}

static int call_check_options_init(void)
{
	lk_check_options o;
	return lk_check_options_init(&o, LK_CHECK_OPTIONS_VERSION);
}

static int call_reference_options_init(void)
{
	lk_reference_options o;
	return lk_reference_options_init(&o, LK_REFERENCE_OPTIONS_VERSION);
}

static int call_index_options_init(void)
{
	lk_index_options o;
	return lk_index_options_init(&o, LK_INDEX_OPTIONS_VERSION);
}
static int call_cpu_check(void) { return lk_cpu_check(); }
static int call_pdq_hash_file(void) { return lk_pdq_hash_file(&s.pdq, image(), NULL); }
static int call_pdq_hash_bytes(void) { return lk_pdq_hash_bytes(&s.pdq, s.png, s.png_len, NULL); }
static int call_pdq_hash_pixels(void) { return lk_pdq_hash_pixels(&s.pdq, &s.view, NULL); }

static int call_pdq_hash_luma(void)
{
	float luma[16 * 16];
	for (int i = 0; i < 16 * 16; i++)
		luma[i] = (float)((i * 37) % 256);
	lk_pdq_result r;
	return lk_pdq_hash_luma(&r, luma, 16, 16, 16);
}

static int call_pdq_to_hex(void)
{
	char hex[LK_PDQ_HEX_LEN + 1];
	return lk_pdq_to_hex(hex, &s.pdq.hash[0]);
}

static int call_pdq_from_hex(void)
{
	lk_pdq_hash h;
	return lk_pdq_from_hex(&h, "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22");
}

static int call_embedder_open(void) { return lk_embedder_open(&s.embedder, LK_MODELS_DIR); }
static int call_embed_file(void) { return lk_embed_file(&s.embedding, s.embedder, image(), NULL); }
static int call_embed_bytes(void) { return lk_embed_bytes(&s.embedding, s.embedder, s.png, s.png_len, NULL); }
static int call_embed_pixels(void) { return lk_embed_pixels(&s.embedding, s.embedder, &s.view, NULL); }

static int call_embed_regions_file(void)
{
	lk_embedding whole, parts[LK_MAX_REGIONS];
	lk_region places[LK_MAX_REGIONS];
	int n;
	return lk_embed_regions_file(&whole, parts, places, &n, s.embedder, image(), 2, NULL);
}

static int call_registry_create(void) { return lk_registry_create(s.dir); }
static int call_registry_open(void) { return lk_registry_open(&s.reg, s.dir); }
static int call_registry_set_embedder(void) { return lk_registry_set_embedder(s.reg, s.embedder); }

static int call_character_add(void)
{
	lk_character c = fx_character("char1", "Character one");
	int rc = lk_character_add(s.reg, &c);
	if (rc != LK_OK)
		return rc;
	c = fx_character("gone", "Removed later");
	return lk_character_add(s.reg, &c);
}

static int call_character_get(void)
{
	lk_character c;
	return lk_character_get(&c, s.reg, "char1");
}

static int call_character_update(void)
{
	lk_character c;
	int rc = lk_character_get(&c, s.reg, "char1");
	if (rc != LK_OK)
		return rc;
	snprintf(c.rights_holder, sizeof c.rights_holder, "%s", "Holder");
	return lk_character_update(s.reg, &c);
}

static int call_character_set_enabled(void) { return lk_character_set_enabled(s.reg, "char1", 1); }
static int call_character_remove(void) { return lk_character_remove(s.reg, "gone"); }

static int call_character_list(void)
{
	size_t total;
	return lk_character_list(NULL, 0, &total, s.reg);
}

static int call_reference_add_file(void) { return lk_reference_add_file(&s.reference, s.reg, "char1", image(), NULL); }

static int call_reference_add_bytes(void)
{
	unsigned char *other;
	size_t len;
	other = fx_read(fx_pdq_image("char2_orig.png"), &len);
	int rc = lk_reference_add_bytes(NULL, s.reg, "char1", other, len, NULL);
	free(other);
	return rc;
}

static int call_reference_add_hash(void)
{
	lk_pdq_hash h = s.pdq.hash[0];
	h.bytes[0] ^= 0xff; /* not the hash the file reference already holds */
	return lk_reference_add_hash(NULL, s.reg, "char1", &h, 90, NULL);
}

static int call_reference_add_hashes(void)
{
	lk_hash_entry e = { .hash = s.pdq.hash[0], .quality = 90, .character = "char1", .source = "list" };
	e.hash.bytes[1] ^= 0xff;
	size_t added;
	return lk_reference_add_hashes(&added, s.reg, &e, 1, NULL);
}

static int call_reference_list(void)
{
	size_t total;
	return lk_reference_list(NULL, 0, &total, s.reg, "char1");
}

static int call_reference_remove(void)
{
	lk_reference refs[8];
	size_t total;
	int rc = lk_reference_list(refs, 8, &total, s.reg, "char1");
	if (rc != LK_OK)
		return rc;
	/* The last one added: a bare hash. */
	return lk_reference_remove(s.reg, refs[total < 8 ? total - 1 : 7].id);
}

static int call_negative_add_file(void) { return lk_negative_add_file(NULL, s.reg, image(), NULL); }

static int call_negative_list(void)
{
	size_t total;
	return lk_negative_list(NULL, 0, &total, s.reg);
}

static int call_negative_remove(void)
{
	lk_negative n[4];
	size_t total;
	int rc = lk_negative_list(n, 4, &total, s.reg);
	return rc != LK_OK ? rc : total ? lk_negative_remove(s.reg, n[0].id) : LK_ENOTFOUND;
}

static int call_registry_character_score(void)
{
	lk_character_decision d;
	return lk_registry_character_score(&d, s.reg, &s.embedding);
}

static int call_registry_set_character_calibration(void)
{
	const float scores[2] = { 0.3f, 0.2f };
	return lk_registry_set_character_calibration(s.reg, 0.25f, scores, 2, 100);
}

static int call_registry_calibrate_characters(void)
{
	float threshold;
	size_t flagged;
	return lk_registry_calibrate_characters(&threshold, &flagged, s.reg, &s.embedding, 1, 0.01, 0.5f);
}

static int call_registry_set_embedding_thresholds(void)
{
	return lk_registry_set_embedding_thresholds(s.reg, 0.9f, 0.6f);
}

static int call_registry_set_region_thresholds(void)
{
	return lk_registry_set_region_thresholds(s.reg, 0.9f, 0.33f);
}

static int call_registry_region_lead(void)
{
	float lead, similarity;
	int64_t id;
	return lk_registry_region_lead(&lead, &similarity, &id, s.reg, &s.embedding);
}

static int call_registry_best_similarity(void)
{
	float similarity;
	int64_t id;
	return lk_registry_best_similarity(&similarity, &id, s.reg, &s.embedding);
}

static int call_registry_build_index(void)
{
	/* The smallest index: the registry holds two image references (16 vectors). */
	lk_index_options o = LK_INDEX_OPTIONS_INIT;
	o.nlist = 1;
	o.nprobe = 1;
	o.sample = 4;
	o.threads = 1;
	return lk_registry_build_index(&s.index, s.reg, &o);
}

static int call_registry_index_info(void) { return lk_registry_index_info(&s.index, s.reg); }

static int call_registry_version(void)
{
	uint64_t v;
	return lk_registry_version(&v, s.reg);
}

static int call_registry_info_get(void)
{
	lk_registry_info info;
	return lk_registry_info_get(&info, s.reg);
}

static lk_check_result result;
static int call_check_file(void) { return lk_check_file(&result, s.reg, image(), NULL); }
static int call_check_bytes(void) { return lk_check_bytes(&result, s.reg, s.png, s.png_len, NULL); }
static int call_check_pixels(void) { return lk_check_pixels(&result, s.reg, &s.view, NULL); }
static int call_check_pdq(void) { return lk_check_pdq(&result, s.reg, &s.pdq); }

static int call_check_files(void)
{
	const char *paths[2] = { image(), fx_pdq_image("char2_orig.png") };
	lk_check_result results[2];
	int codes[2];
	return lk_check_files(results, codes, s.reg, paths, 2, NULL, 2);
}

#define CASE(name) { "lk_" #name, call_##name }
static const struct entry {
	const char *name;
	int (*call)(void);
} entries[] = {
	CASE(init),
	CASE(ingest_options_init),
	CASE(check_options_init),
	CASE(reference_options_init),
	CASE(index_options_init),
	CASE(cpu_check),
	CASE(pdq_hash_file),
	CASE(pdq_hash_bytes),
	CASE(pdq_hash_pixels),
	CASE(pdq_hash_luma),
	CASE(pdq_to_hex),
	CASE(pdq_from_hex),
	CASE(embedder_open),
	CASE(embed_file),
	CASE(embed_bytes),
	CASE(embed_pixels),
	CASE(embed_regions_file),
	CASE(registry_create),
	CASE(registry_open),
	CASE(registry_set_embedder),
	CASE(character_add),
	CASE(character_get),
	CASE(character_update),
	CASE(character_set_enabled),
	CASE(character_remove),
	CASE(character_list),
	CASE(reference_add_file),
	CASE(reference_add_bytes),
	CASE(reference_add_hash),
	CASE(reference_add_hashes),
	CASE(reference_list),
	CASE(reference_remove),
	CASE(negative_add_file),
	CASE(negative_list),
	CASE(negative_remove),
	CASE(registry_character_score),
	CASE(registry_set_character_calibration),
	CASE(registry_calibrate_characters),
	CASE(registry_set_embedding_thresholds),
	CASE(registry_set_region_thresholds),
	CASE(registry_region_lead),
	CASE(registry_best_similarity),
	CASE(registry_build_index),
	CASE(registry_index_info),
	CASE(registry_version),
	CASE(registry_info_get),
	CASE(check_file),
	CASE(check_bytes),
	CASE(check_pixels),
	CASE(check_pdq),
	CASE(check_files),
};
#define N_ENTRIES (sizeof entries / sizeof entries[0])

/* Functions that return an int that is not an error code. */
static const char *const not_fallible[] = {
	"lk_pdq_distance", /* a count of bits */
};

static int covered(const char *name)
{
	for (size_t i = 0; i < N_ENTRIES; i++)
		if (!strcmp(entries[i].name, name))
			return 1;
	for (size_t i = 0; i < sizeof not_fallible / sizeof not_fallible[0]; i++)
		if (!strcmp(not_fallible[i], name))
			return 1;
	return 0;
}

/* Fills the detail with a failure that has nothing to do with the call that follows. */
static void dirty(void)
{
	lk_pdq_hash h;
	cr_assert_eq(lk_pdq_from_hex(&h, "not hex"), LK_EINVAL);
	cr_assert_neq(lk_error_detail()[0], '\0', "a failure leaves a detail");
}

static void setup(void)
{
	if (!LK_MODELS_DIR[0])
		fx_skip("no models (scripts/fetch-models.sh was not run for this build)");
	memset(&s, 0, sizeof s);
	snprintf(s.dir, sizeof s.dir, "%s/reg", fx_temp_dir());
	s.png = fx_read(image(), &s.png_len);
	for (int y = 0; y < 64; y++)
		for (int x = 0; x < 64; x++)
			for (int c = 0; c < 3; c++)
				s.rgb[(y * 64 + x) * 3 + c] = (unsigned char)((x * 4 * (c + 1) + y * 3) ^ (x * y));
	s.view = (lk_pixel_view){ s.rgb, 64, 64, 64 * 3, LK_PIXEL_RGB8 };
}

static void teardown(void)
{
	lk_registry_close(s.reg);
	lk_embedder_close(s.embedder);
	free(s.png);
}

TestSuite(error_detail, .init = setup, .fini = teardown, .timeout = 300);

Test(error_detail, is_empty_after_every_successful_call)
{
	for (size_t i = 0; i < N_ENTRIES; i++) {
		dirty();
		int rc = entries[i].call();
		cr_assert_eq(rc, LK_OK, "%s failed (%s): %s", entries[i].name, lk_error_name(rc), lk_error_detail());
		cr_expect_str_empty(lk_error_detail(), "%s succeeded and left the detail \"%s\"", entries[i].name,
				    lk_error_detail());
	}
	cr_expect_eq(s.index.state, LK_INDEX_CURRENT, "the index the walk built is in use");
}

/* Every function of the header that returns an int has a case above, or is listed as returning
 * something other than an error code. */
Test(error_detail, covers_every_entry_point_of_the_header)
{
	FILE *f = fopen(LK_SOURCE_DIR "/include/likeness.h", "r");
	cr_assert(f, "cannot open the header");
	char line[512], name[128];
	int seen = 0;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "LK_API int %127[a-z0-9_](", name) != 1)
			continue;
		seen++;
		cr_expect(covered(name), "%s returns an error code and has no case in test_error_detail.c", name);
	}
	fclose(f);
	cr_expect_geq(seen, (int)N_ENTRIES, "the header lists at least the functions this test calls");
}
