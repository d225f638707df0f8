/* likeness negatives: add, list, remove pictures of the registry's negative bank. */
#include "tools/cli.h"
#include "likeness.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

const char lk_cli_negatives_usage[] =
	"usage: likeness negatives add PATH... | list | remove ID...\n"
	"\n"
	"The negative bank: pictures of no protected character (files, or folders walked in name\n"
	"order). Character scores are normalised against it: a picture that resembles many of these\n"
	"is not taken for a character because it also resembles one a little (likeness.h,\n"
	"lk_character_decision). A sample of the platform's own outputs is the best bank there is.\n"
	"Only each picture's embedding is kept. Changes apply to every checker at its next check.\n"
	"\n"
	"options:\n"
	"  -r, --registry DIR     the registry (default: $LIKENESS_REGISTRY)\n";

struct adding {
	lk_registry *reg;
	size_t added, existing, failed;
};

static int add_file(const char *file, void *ctx)
{
	struct adding *a = ctx;
	int64_t id;
	const int rc = lk_negative_add_file(&id, a->reg, file, NULL);
	if (rc == LK_OK) {
		printf("added negative %lld %s\n", (long long)id, file);
		a->added++;
	} else if (rc == LK_EEXISTS) {
		a->existing++;
	} else {
		lk_cli_report(rc);
		a->failed++;
	}
	return 0;
}

static int list_negatives(lk_registry *reg)
{
	size_t total;
	int rc = lk_negative_list(NULL, 0, &total, reg);
	lk_negative *all = rc == LK_OK ? calloc(total ? total : 1, sizeof *all) : NULL;
	if (rc == LK_OK && !all)
		rc = LK_ENOMEM;
	if (rc == LK_OK)
		rc = lk_negative_list(all, total, &total, reg);
	if (rc == LK_OK) {
		printf("%-8s %-16s  %s\n", "id", "sha256", "source");
		for (size_t i = 0; i < total; i++)
			printf("%-8lld %.16s  %s\n", (long long)all[i].id, all[i].sha256, all[i].source);
	}
	free(all);
	if (rc != LK_OK) {
		lk_cli_report(rc);
		return LK_EXIT_INPUT;
	}
	return LK_EXIT_OK;
}

int lk_cli_negatives(int argc, char **argv)
{
	static const struct option options[] = {
		{ "registry", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *registry = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "r:", options, NULL)) != -1) {
		if (opt == 'r')
			registry = optarg;
		else
			return LK_EXIT_USAGE;
	}
	const int nargs = argc - optind;
	const char *action = nargs > 0 ? argv[optind] : "";
	const int listing = !strcmp(action, "list");
	if ((!listing && strcmp(action, "add") && strcmp(action, "remove")) || (listing ? nargs != 1 : nargs < 2)) {
		fputs(lk_cli_negatives_usage, stderr);
		return LK_EXIT_USAGE;
	}
	/* Ids first: nothing is opened for a command line that is wrong. */
	int64_t *ids = NULL;
	if (!strcmp(action, "remove")) {
		ids = calloc((size_t)nargs, sizeof *ids);
		if (!ids)
			return LK_EXIT_FAILURE;
		for (int i = 1; i < nargs; i++) {
			unsigned long long v;
			if (lk_cli_parse_size(argv[optind + i], 0, &v) || v > INT64_MAX) {
				fprintf(stderr, "likeness negatives: '%s' is not a negative's id (see likeness negatives list)\n",
					argv[optind + i]);
				free(ids);
				return LK_EXIT_USAGE;
			}
			ids[i] = (int64_t)v;
		}
	}
	lk_registry *reg;
	/* Adding needs the embedder (the bank keeps embeddings); the rest does not. */
	int exit_code = strcmp(action, "add") ? lk_cli_open_registry(&reg, registry)
					      : lk_cli_open_registry_embedding(&reg, registry, 0);
	if (exit_code != LK_EXIT_OK) {
		free(ids);
		return exit_code;
	}
	if (listing)
		exit_code = list_negatives(reg);
	else if (ids) {
		for (int i = 1; i < nargs; i++) {
			const int rc = lk_negative_remove(reg, ids[i]);
			if (rc == LK_OK)
				printf("removed negative %lld\n", (long long)ids[i]);
			else {
				lk_cli_report(rc);
				exit_code = LK_EXIT_INPUT;
			}
		}
	} else {
		struct adding a = { reg, 0, 0, 0 };
		for (int i = 1; i < nargs; i++) {
			const int skipped = lk_cli_walk(argv[optind + i], add_file, &a);
			if (skipped < 0) {
				exit_code = LK_EXIT_FAILURE;
				break;
			}
			a.failed += (size_t)skipped;
		}
		fprintf(stderr, "likeness negatives: %zu added, %zu already in the bank, %zu could not be read\n", a.added,
			a.existing, a.failed);
		if (exit_code == LK_EXIT_OK && a.failed)
			exit_code = LK_EXIT_INPUT;
	}
	free(ids);
	lk_registry_close(reg);
	return exit_code;
}
