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
	"closest character, the PDQ distance and the reason. '-' reads an image from standard input.\n"
	"\n"
	"options:\n"
	"  --json              one JSON object per image (JSON Lines): verdict, reason, matches with\n"
	"                      reference ids, distances and thresholds, registry version, timings\n"
	"  -r, --registry DIR  the registry (default: $LIKENESS_REGISTRY)\n"
	"\n"
	"Exit status: 1 if any image was blocked; otherwise 3 if any could not be read; otherwise\n"
	"5 if any needs review; otherwise 0. 2: wrong arguments, 4: the program failed.\n";

json_t *lk_cli_result_json(const char *path, const lk_check_result *r)
{
	char hex[LK_PDQ_HEX_LEN + 1];
	lk_pdq_to_hex(hex, &r->hash);
	json_t *matches = json_array();
	for (int i = 0; i < r->n_matches; i++) {
		const lk_match *m = &r->matches[i];
		json_array_append_new(matches, json_pack("{s:s, s:s, s:I, s:i, s:s, s:s, s:i, s:i, s:b}",
			"character", m->character, "name", m->character_name, "reference", (json_int_t)m->reference_id,
			"distance", m->distance, "transform", lk_dihedral_name(m->transform),
			"verdict", lk_verdict_name(m->verdict), "block_threshold", m->block_threshold,
			"review_threshold", m->review_threshold, "allow_listed", m->allow));
	}
	return json_pack("{s:s, s:s, s:s, s:i, s:s, s:o, s:I, s:{s:s, s:i, s:i}, s:{s:f, s:f, s:f, s:f}}",
		"path", path, "verdict", lk_verdict_name(r->verdict), "reason", r->reason, "quality", r->quality,
		"pdq", hex, "matches", matches, "registry_version", (json_int_t)r->registry_version,
		"source", "format", r->source.format, "width", r->source.width, "height", r->source.height,
		"timings_ms", "decode", r->decode_ms, "hash", r->hash_ms, "search", r->search_ms, "total", r->total_ms);
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
		{ NULL, 0, NULL, 0 },
	};
	const char *registry = NULL;
	int json = 0, opt;
	while ((opt = getopt_long(argc, argv, "r:", options, NULL)) != -1) {
		if (opt == 'j')
			json = 1;
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
	int exit_code = lk_cli_open_registry(&reg, registry);
	if (exit_code != LK_EXIT_OK)
		return exit_code;
	int blocked = 0, review = 0, failed = 0;
	if (!json)
		printf("%-7s %4s  %-20s  %s\n", "verdict", "dist", "character", "image / reason");
	for (int i = optind; i < argc; i++) {
		const char *path = strcmp(argv[i], "-") ? argv[i] : "/dev/stdin";
		lk_check_result r;
		int rc = lk_check_file(&r, reg, path, NULL);
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
		} else if (r.n_matches) {
			printf("%-7s %4d  %-20s  %s\n%34s%s\n", lk_verdict_name(r.verdict), r.matches[0].distance,
			       r.matches[0].character, argv[i], "", r.reason);
		} else {
			printf("%-7s %4s  %-20s  %s\n%34s%s\n", lk_verdict_name(r.verdict), "-", "-", argv[i], "", r.reason);
		}
	}
	lk_registry_close(reg);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("likeness: writing the output");
		return LK_EXIT_FAILURE;
	}
	return blocked ? LK_EXIT_BLOCKED : failed ? LK_EXIT_INPUT : review ? LK_EXIT_REVIEW : LK_EXIT_OK;
}
