/* A check's result as JSON: the one form `likeness check --json`, `likeness audit` and the
 * service's /v1/check answer with, so that tools reading one read all three. */
#include "tools/result_json.h"

static json_t *place_json(const lk_region *g)
{
	return json_pack("{s:f, s:f, s:f, s:f}", "x", (double)g->x, "y", (double)g->y, "width", (double)g->width,
			 "height", (double)g->height);
}

json_t *lk_json_character(const lk_character_decision *c)
{
	json_t *nearest = json_array();
	for (int i = 0; i < c->n_nearest && i < 3; i++)
		json_array_append_new(nearest, json_pack("{s:I, s:f}", "reference", (json_int_t)c->nearest[i], "similarity",
							 (double)c->nearest_similarity[i]));
	json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:b, s:o, s:i}", "character", c->character, "name",
				c->character_name, "franchise", c->franchise, "verdict", lk_verdict_name(c->verdict), "score",
				(double)c->score, "threshold", (double)c->threshold, "margin", (double)c->margin,
				"uncertain", c->character_uncertain, "nearest", nearest, "bank_pictures", c->bank_pictures);
	if (out && c->runner_up[0])
		json_object_set_new(out, "runner_up", json_string(c->runner_up));
	/* "1 in N unrelated pictures": only a calibrated registry can say. */
	if (out && c->false_positive_rate >= 0) {
		json_object_set_new(out, "false_positive_rate", json_real(c->false_positive_rate));
		json_object_set_new(out, "calibration_negatives", json_integer((json_int_t)c->calibration_negatives));
	}
	return out;
}

json_t *lk_json_result(const char *path, const lk_check_result *r)
{
	char hex[LK_PDQ_HEX_LEN + 1];
	lk_pdq_to_hex(hex, &r->hash);
	json_t *matches = json_array();
	for (int i = 0; i < r->n_matches; i++) {
		const lk_match *m = &r->matches[i];
		json_t *match = json_pack("{s:s, s:s, s:I, s:s, s:s, s:i, s:i, s:b, s:[]}", "character", m->character,
			"name", m->character_name, "reference", (json_int_t)m->reference_id,
			"verdict", lk_verdict_name(m->verdict), "reason", lk_reason_name(m->reason),
			"block_threshold", m->block_threshold, "review_threshold", m->review_threshold,
			"allow_listed", m->allow, "signals");
		json_t *signals = json_object_get(match, "signals");
		if (m->signals & LK_SIGNAL_PDQ)
			json_array_append_new(signals, json_string("pdq"));
		if (m->signals & LK_SIGNAL_EMBEDDING)
			json_array_append_new(signals, json_string("embedding"));
		if (m->signals & LK_SIGNAL_REGION) {
			json_array_append_new(signals, json_string("region"));
			json_t *place = place_json(&m->region);
			json_object_set_new(place, "similarity", json_real((double)m->region_similarity));
			json_object_set_new(place, "lead", json_real((double)m->region_lead));
			json_object_set_new(match, "region", place);
		}
		/* Absent rather than a sentinel when a signal did not measure this reference. */
		if (m->distance >= 0) {
			json_object_set_new(match, "distance", json_integer(m->distance));
			json_object_set_new(match, "transform", json_string(lk_dihedral_name(m->transform)));
		}
		if (m->similarity > -2)
			json_object_set_new(match, "similarity", json_real((double)m->similarity));
		json_array_append_new(matches, match);
	}
	json_t *signals = json_array();
	if (r->signals & LK_SIGNAL_PDQ)
		json_array_append_new(signals, json_string("pdq"));
	if (r->signals & LK_SIGNAL_EMBEDDING)
		json_array_append_new(signals, json_string("embedding"));
	if (r->signals & LK_SIGNAL_REGION)
		json_array_append_new(signals, json_string("region"));
	json_t *out = json_pack("{s:s*, s:s, s:s, s:s, s:o, s:i, s:s, s:o, s:I, s:{s:s, s:i, s:i}, s:{s:f, s:f, s:f, s:f, s:f}}",
		"path", path, "verdict", lk_verdict_name(r->verdict), "reason_code", lk_reason_name(r->reason_code),
		"reason", r->reason, "signals", signals, "quality", r->quality, "pdq", hex, "matches", matches,
		"registry_version", (json_int_t)r->registry_version, "source", "format", r->source.format, "width",
		r->source.width, "height", r->source.height, "timings_ms", "decode", r->decode_ms, "embed",
		r->embed_ms, "hash", r->hash_ms, "search", r->search_ms, "total", r->total_ms);
	if (out && r->character.character[0])
		json_object_set_new(out, "character", lk_json_character(&r->character));
	if (out && r->n_regions) {
		/* What region search looked at, so that a reviewer can see which parts were cleared. */
		json_t *regions = json_array();
		for (int i = 0; i < r->n_regions; i++)
			json_array_append_new(regions, place_json(&r->regions[i]));
		json_object_set_new(out, "regions", regions);
	}
	return out;
}

json_t *lk_json_error(const char *path, int code)
{
	return json_pack("{s:s, s:s, s:s}", "path", path, "error", lk_error_name(code), "message", lk_error_detail());
}
