/* abi_layout: prints, as one JSON object, the size of every struct the Python binding mirrors
 * with ctypes (bindings/python/likeness/_lib.py), the offset and size of each of their fields,
 * the values of the _INIT macros and the constants the binding repeats. test_binding.py holds
 * the mirrors to this output, so the compiler's answer, not a reading of the header, decides. */
#include "likeness.h"

#include <stddef.h>
#include <stdio.h>

static int first_struct = 1, first_field;

static void open_struct(const char *name, size_t size)
{
	printf("%s\n  \"%s\": {\"size\": %zu, \"fields\": {", first_struct ? "" : ",", name, size);
	first_struct = 0;
	first_field = 1;
}

static void field(const char *name, size_t offset, size_t size)
{
	printf("%s\"%s\": [%zu, %zu]", first_field ? "" : ", ", name, offset, size);
	first_field = 0;
}

static void close_struct(void)
{
	printf("}}");
}

#define STRUCT(T) open_struct(#T, sizeof(T))
#define FIELD(T, f) field(#f, offsetof(T, f), sizeof(((T *)0)->f))

int main(void)
{
	printf("{\"structs\": {");
	STRUCT(lk_ingest_options);
	FIELD(lk_ingest_options, version);
	FIELD(lk_ingest_options, max_bytes);
	FIELD(lk_ingest_options, max_pixels);
	FIELD(lk_ingest_options, max_side);
	FIELD(lk_ingest_options, background);
	FIELD(lk_ingest_options, allow_svg);
	close_struct();

	STRUCT(lk_pixel_view);
	FIELD(lk_pixel_view, data);
	FIELD(lk_pixel_view, width);
	FIELD(lk_pixel_view, height);
	FIELD(lk_pixel_view, stride);
	FIELD(lk_pixel_view, format);
	close_struct();

	STRUCT(lk_source_info);
	FIELD(lk_source_info, width);
	FIELD(lk_source_info, height);
	FIELD(lk_source_info, format);
	close_struct();

	STRUCT(lk_pdq_hash);
	FIELD(lk_pdq_hash, bytes);
	close_struct();

	STRUCT(lk_region);
	FIELD(lk_region, x);
	FIELD(lk_region, y);
	FIELD(lk_region, width);
	FIELD(lk_region, height);
	close_struct();

	STRUCT(lk_match);
	FIELD(lk_match, reference_id);
	FIELD(lk_match, character);
	FIELD(lk_match, character_name);
	FIELD(lk_match, distance);
	FIELD(lk_match, transform);
	FIELD(lk_match, block_threshold);
	FIELD(lk_match, review_threshold);
	FIELD(lk_match, verdict);
	FIELD(lk_match, allow);
	FIELD(lk_match, similarity);
	FIELD(lk_match, signals);
	FIELD(lk_match, reason);
	FIELD(lk_match, region_similarity);
	FIELD(lk_match, region_lead);
	FIELD(lk_match, region);
	close_struct();

	STRUCT(lk_check_result);
	FIELD(lk_check_result, verdict);
	FIELD(lk_check_result, reason);
	FIELD(lk_check_result, quality);
	FIELD(lk_check_result, hash);
	FIELD(lk_check_result, source);
	FIELD(lk_check_result, n_matches);
	FIELD(lk_check_result, matches);
	FIELD(lk_check_result, registry_version);
	FIELD(lk_check_result, signals);
	FIELD(lk_check_result, reason_code);
	FIELD(lk_check_result, n_regions);
	FIELD(lk_check_result, regions);
	FIELD(lk_check_result, decode_ms);
	FIELD(lk_check_result, hash_ms);
	FIELD(lk_check_result, embed_ms);
	FIELD(lk_check_result, search_ms);
	FIELD(lk_check_result, total_ms);
	FIELD(lk_check_result, character);
	close_struct();

	STRUCT(lk_character_decision);
	FIELD(lk_character_decision, character);
	FIELD(lk_character_decision, character_name);
	FIELD(lk_character_decision, franchise);
	FIELD(lk_character_decision, score);
	FIELD(lk_character_decision, threshold);
	FIELD(lk_character_decision, margin);
	FIELD(lk_character_decision, runner_up);
	FIELD(lk_character_decision, character_uncertain);
	FIELD(lk_character_decision, false_positive_rate);
	FIELD(lk_character_decision, calibration_negatives);
	FIELD(lk_character_decision, n_nearest);
	FIELD(lk_character_decision, nearest);
	FIELD(lk_character_decision, nearest_similarity);
	FIELD(lk_character_decision, bank_pictures);
	FIELD(lk_character_decision, verdict);
	close_struct();

	STRUCT(lk_check_options);
	FIELD(lk_check_options, version);
	FIELD(lk_check_options, ingest);
	FIELD(lk_check_options, hash_only);
	FIELD(lk_check_options, regions);
	close_struct();

	STRUCT(lk_registry_info);
	FIELD(lk_registry_info, version);
	FIELD(lk_registry_info, characters);
	FIELD(lk_registry_info, enabled_characters);
	FIELD(lk_registry_info, references);
	FIELD(lk_registry_info, embedded_references);
	FIELD(lk_registry_info, embedder);
	FIELD(lk_registry_info, embed_copy);
	FIELD(lk_registry_info, embed_similar);
	FIELD(lk_registry_info, calibrated);
	FIELD(lk_registry_info, region_copy);
	FIELD(lk_registry_info, region_similar);
	FIELD(lk_registry_info, region_calibrated);
	close_struct();
	printf("},\n");

	/* The defaults a Python caller gets must be the ones a C caller gets. */
	const lk_check_options o = LK_CHECK_OPTIONS_INIT;
	printf("\"check_options_init\": {\"version\": %u, \"hash_only\": %d, \"regions\": %d, \"ingest\": "
	       "{\"version\": %u, \"max_bytes\": %zu, \"max_pixels\": %llu, \"max_side\": %u, "
	       "\"background\": [%u, %u, %u], \"allow_svg\": %d}},\n",
	       o.version, o.hash_only, o.regions, o.ingest.version, o.ingest.max_bytes,
	       (unsigned long long)o.ingest.max_pixels, (unsigned)o.ingest.max_side, o.ingest.background[0],
	       o.ingest.background[1], o.ingest.background[2], o.ingest.allow_svg);
	printf("\"constants\": {\"LK_OK\": %d, \"LK_EINVAL\": %d, \"LK_ENOTIMAGE\": %d, \"LK_ECPU\": %d, "
	       "\"LK_PIXEL_RGB8\": %d, \"LK_PIXEL_RGBA8\": %d, \"LK_PIXEL_GRAY8\": %d, \"LK_PIXEL_RGBF32\": %d, "
	       "\"LK_SIGNAL_PDQ\": %u, \"LK_SIGNAL_EMBEDDING\": %u, \"LK_SIGNAL_REGION\": %u, \"LK_PDQ_BYTES\": %d, "
	       "\"LK_SLUG_MAX\": %d, \"LK_TEXT_MAX\": %d, \"LK_EMBEDDER_ID_MAX\": %d, \"LK_MAX_MATCHES\": %d, "
	       "\"LK_MAX_REGIONS\": %d, \"LK_INGEST_OPTIONS_VERSION\": %d, \"LK_CHECK_OPTIONS_VERSION\": %d}}\n",
	       LK_OK, LK_EINVAL, LK_ENOTIMAGE, LK_ECPU, LK_PIXEL_RGB8, LK_PIXEL_RGBA8, LK_PIXEL_GRAY8, LK_PIXEL_RGBF32,
	       LK_SIGNAL_PDQ, LK_SIGNAL_EMBEDDING, LK_SIGNAL_REGION, LK_PDQ_BYTES, LK_SLUG_MAX, LK_TEXT_MAX,
	       LK_EMBEDDER_ID_MAX, LK_MAX_MATCHES, LK_MAX_REGIONS, LK_INGEST_OPTIONS_VERSION, LK_CHECK_OPTIONS_VERSION);
	return 0;
}
