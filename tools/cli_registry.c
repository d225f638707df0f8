/* likeness init / stats, and what every registry command shares: finding and opening it. */
#include "tools/cli.h"
#include "likeness.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

const char lk_cli_init_usage[] =
	"usage: likeness init DIR\n"
	"\n"
	"Creates an empty registry in DIR (created if missing). Other commands find it with\n"
	"--registry DIR or the LIKENESS_REGISTRY environment variable.\n";

const char lk_cli_stats_usage[] =
	"usage: likeness stats [-r DIR]\n"
	"\n"
	"Prints the registry's version, characters (enabled/disabled), references (and how many have\n"
	"embeddings), the embedder that made them and the embedding thresholds in effect.\n";

const char *lk_cli_registry_dir(const char *given)
{
	if (given && *given)
		return given;
	const char *env = getenv("LIKENESS_REGISTRY");
	return env && *env ? env : NULL;
}

int lk_cli_open_registry(lk_registry **reg, const char *given)
{
	const char *dir = lk_cli_registry_dir(given);
	if (!dir) {
		fputs("likeness: no registry: pass --registry DIR or set LIKENESS_REGISTRY\n", stderr);
		return LK_EXIT_USAGE;
	}
	int rc = lk_registry_open(reg, dir);
	if (rc != LK_OK) {
		lk_cli_report(rc);
		return rc == LK_ECPU ? LK_EXIT_FAILURE : LK_EXIT_INPUT;
	}
	return LK_EXIT_OK;
}

static lk_embedder *embedder;

static void close_embedder(void)
{
	lk_embedder_close(embedder);
	embedder = NULL;
}

int lk_cli_parse_regions(const char *command, const char *text, int *out)
{
	unsigned long long v;
	if (lk_cli_parse_size(text, 0, &v) || v > LK_MAX_REGIONS) {
		fprintf(stderr, "likeness %s: --regions needs 0..%d, got '%s'\n", command, LK_MAX_REGIONS, text);
		return 1;
	}
	*out = (int)v;
	return 0;
}

int lk_cli_open_registry_embedding(lk_registry **reg, const char *given, int hash_only)
{
	int exit_code = lk_cli_open_registry(reg, given);
	if (exit_code != LK_EXIT_OK || hash_only)
		return exit_code;
	int rc = LK_OK;
	if (!embedder) {
		rc = lk_embedder_open(&embedder, NULL);
		if (rc == LK_OK)
			atexit(close_embedder);
	}
	if (rc == LK_OK)
		rc = lk_registry_set_embedder(*reg, embedder);
	if (rc != LK_OK) {
		lk_cli_report(rc);
		fputs("likeness: pass --hash-only to work with PDQ alone\n", stderr);
		lk_registry_close(*reg);
		*reg = NULL;
		return rc == LK_EREGISTRY ? LK_EXIT_INPUT : LK_EXIT_FAILURE;
	}
	return LK_EXIT_OK;
}

int lk_cli_embedder(lk_embedder **out)
{
	*out = embedder;
	return embedder ? LK_OK : LK_ENOTFOUND;
}

int lk_cli_init(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-') {
		fputs(lk_cli_init_usage, stderr);
		return LK_EXIT_USAGE;
	}
	int rc = lk_registry_create(argv[1]);
	if (rc != LK_OK) {
		lk_cli_report(rc);
		return LK_EXIT_INPUT;
	}
	printf("created an empty registry in %s\n", argv[1]);
	return LK_EXIT_OK;
}

int lk_cli_stats(int argc, char **argv)
{
	static const struct option options[] = { { "registry", required_argument, NULL, 'r' }, { NULL, 0, NULL, 0 } };
	const char *registry = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "r:", options, NULL)) != -1) {
		if (opt != 'r')
			return LK_EXIT_USAGE;
		registry = optarg;
	}
	lk_registry *reg;
	if (lk_cli_open_registry(&reg, registry) != LK_EXIT_OK)
		return LK_EXIT_INPUT;
	lk_registry_info info;
	int rc = lk_registry_info_get(&info, reg);
	if (rc == LK_OK) {
		printf("registry: %s\nversion: %llu\ncharacters: %lld (%lld enabled, %lld disabled)\n"
		       "references: %lld (%lld with embeddings)\nembedder: %s\n"
		       "embedding thresholds: copy >= %.3f, similar >= %.3f (%s)\n"
		       "region thresholds: copy >= %.3f, similar >= %.3f (%s)\n",
		       lk_cli_registry_dir(registry), (unsigned long long)info.version, (long long)info.characters,
		       (long long)info.enabled_characters, (long long)(info.characters - info.enabled_characters),
		       (long long)info.references, (long long)info.embedded_references,
		       info.embedder[0] ? info.embedder : "none yet", (double)info.embed_copy, (double)info.embed_similar,
		       info.calibrated ? "calibrated" : "defaults", (double)info.region_copy, (double)info.region_similar,
		       info.region_calibrated ? "calibrated" : "defaults");
	}
	lk_registry_close(reg);
	if (rc != LK_OK) {
		lk_cli_report(rc);
		return LK_EXIT_INPUT;
	}
	return LK_EXIT_OK;
}
