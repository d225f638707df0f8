/* likeness check: verdicts for images against a registry, as a table or JSON Lines. */
#include "cli.h"
#include "likeness.h"

#include <getopt.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

const char lk_cli_check_usage[] =
	"usage: likeness check [options] FILE...\n"
	"\n"
	"Checks each image against the registry and prints its verdict: 'block' (a copy of a\n"
	"protected character), 'review' (close to one: a person should look), or 'allow', with the\n"
	"closest character, the evidence (PDQ distance, embedding similarity) and the reason: 'copy'\n"
	"(the reference itself, edited) or 'similar' (its look, not shown to be a copy: review only).\n"
	"'-' reads an image from standard input.\n"
	"\n"
	"options:\n"
	"  --json              one JSON object per image (JSON Lines): verdict, reason, matches with\n"
	"                      reference ids, distances and thresholds, registry version, timings\n"
	"  -r, --registry DIR  the registry (default: $LIKENESS_REGISTRY)\n"
	LK_CLI_HASH_ONLY_HELP
	LK_CLI_REGIONS_HELP
	"\n"
	"Exit status: 1 if any image was blocked; otherwise 3 if any could not be read; otherwise\n"
	"5 if any needs review; otherwise 0. 2: wrong arguments, 4: the program failed.\n";

/* A part of the image, as fractions of its width and height. */
static json_t *place_json(const lk_region *g)
{
	return json_pack("{s:f, s:f, s:f, s:f}", "x", (double)g->x, "y", (double)g->y, "width", (double)g->width,
			 "height", (double)g->height);
}

json_t *lk_cli_result_json(const char *path, const lk_check_result *r)
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
	if (out && r->n_regions) {
		/* What region search looked at, so that a reviewer can see which parts were cleared. */
		json_t *regions = json_array();
		for (int i = 0; i < r->n_regions; i++)
			json_array_append_new(regions, place_json(&r->regions[i]));
		json_object_set_new(out, "regions", regions);
	}
	return out;
}

json_t *lk_cli_error_json(const char *path, int code)
{
	return json_pack("{s:s, s:s, s:s}", "path", path, "error", lk_error_name(code), "message", lk_error_detail());
}

void lk_cli_print_json(json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT);
	if (text) {
		puts(text);
		free(text);
	}
	json_decref(obj);
}

int lk_cli_check(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "registry", required_argument, NULL, 'r' },
		{ "hash-only", no_argument, NULL, LK_CLI_OPT_HASH_ONLY },
		{ "regions", required_argument, NULL, LK_CLI_OPT_REGIONS },
		{ NULL, 0, NULL, 0 },
	};
	const char *registry = NULL;
	int json = 0, hash_only = 0, regions = 0, opt;
	while ((opt = getopt_long(argc, argv, "r:", options, NULL)) != -1) {
		if (opt == 'j')
			json = 1;
		else if (opt == LK_CLI_OPT_HASH_ONLY)
			hash_only = 1;
		else if (opt == LK_CLI_OPT_REGIONS) {
			if (lk_cli_parse_regions("check", optarg, &regions))
				return LK_EXIT_USAGE;
		}
		else if (opt == 'r')
			registry = optarg;
		else
			return LK_EXIT_USAGE;
	}
	if (optind >= argc) {
		fputs("likeness check: no images given (see likeness check --help)\n", stderr);
		return LK_EXIT_USAGE;
	}
	lk_registry *reg;
	int exit_code = lk_cli_open_registry_embedding(&reg, registry, hash_only);
	if (exit_code != LK_EXIT_OK)
		return exit_code;
	int blocked = 0, review = 0, failed = 0;
	if (!json)
		printf("%-7s %4s %5s  %-20s  %s\n", "verdict", "dist", "sim", "character", "image / reason");
	for (int i = optind; i < argc; i++) {
		const char *path = strcmp(argv[i], "-") ? argv[i] : "/dev/stdin";
		lk_check_result r;
		lk_check_options o = LK_CHECK_OPTIONS_INIT;
		o.hash_only = hash_only;
		o.regions = regions;
		int rc = lk_check_file(&r, reg, path, &o);
		if (rc != LK_OK) {
			failed++;
			if (json)
				lk_cli_print_json(lk_cli_error_json(argv[i], rc));
			else
				lk_cli_report(rc);
			continue;
		}
		blocked += r.verdict == LK_VERDICT_BLOCK;
		review += r.verdict == LK_VERDICT_REVIEW;
		if (json) {
			lk_cli_print_json(lk_cli_result_json(argv[i], &r));
		} else {
			const lk_match *m = r.n_matches ? &r.matches[0] : NULL;
			char dist[16] = "-", sim[16] = "-";
			if (m && m->distance >= 0)
				snprintf(dist, sizeof dist, "%d", m->distance);
			if (m && m->similarity > -2)
				snprintf(sim, sizeof sim, "%.2f", (double)m->similarity);
			else if (m && m->region_similarity > -2)
				snprintf(sim, sizeof sim, "%.2f", (double)m->region_similarity);
			printf("%-7s %4s %5s  %-20s  %s\n%40s%s\n", lk_verdict_name(r.verdict), dist, sim,
			       m ? m->character : "-", argv[i], "", r.reason);
		}
	}
	lk_registry_close(reg);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("likeness: writing the output");
		return LK_EXIT_FAILURE;
	}
	return blocked ? LK_EXIT_BLOCKED : failed ? LK_EXIT_INPUT : review ? LK_EXIT_REVIEW : LK_EXIT_OK;
}
