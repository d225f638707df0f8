/* likeness check: verdicts for images against a registry, as a table or JSON Lines. */
#include "tools/cli.h"
#include "tools/result_json.h"
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
				lk_cli_print_json(lk_json_error(argv[i], rc));
			else
				lk_cli_report(rc);
			continue;
		}
		blocked += r.verdict == LK_VERDICT_BLOCK;
		review += r.verdict == LK_VERDICT_REVIEW;
		if (json) {
			lk_cli_print_json(lk_json_result(argv[i], &r));
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
