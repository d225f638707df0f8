/* likeness ref: add reference images (files, folders, one character per folder), list, remove. */
#include "tools/cli.h"
#include "likeness.h"

#include <dirent.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

const char lk_cli_ref_usage[] =
	"usage: likeness ref add SLUG FILE|DIR... [--allow]\n"
	"       likeness ref add --per-folder DIR [--allow]\n"
	"       likeness ref list [SLUG]\n"
	"       likeness ref remove ID...\n"
	"\n"
	"Manages reference images. 'add' hashes each image (folders are walked) and records it for\n"
	"SLUG. --per-folder DIR treats each subfolder of DIR as one character named after it,\n"
	"creating characters that do not exist yet. Images with PDQ quality below 50 are refused:\n"
	"they could never be matched.\n"
	"\n"
	"options:\n"
	"  --allow               mark as licensed or own content: a copy of it is allowed\n"
	"  -r, --registry DIR    the registry (default: $LIKENESS_REGISTRY)\n"
	"  --hash-only           store PDQ hashes only, no CNN embedding (checks of these references\n"
	"                        then rely on PDQ)\n";

enum { OPT_ALLOW = 1000, OPT_PER_FOLDER };

struct add_run {
	lk_registry *reg;
	lk_reference_options opts;
	int added, failed, skipped;
};

struct add_one {
	struct add_run *run;
	const char *slug;
};

static int add_file(const char *path, void *ctx)
{
	struct add_one *a = ctx;
	int64_t id;
	int rc = lk_reference_add_file(&id, a->run->reg, a->slug, path, &a->run->opts);
	if (rc == LK_OK) {
		printf("%lld\t%s\t%s\n", (long long)id, a->slug, path);
		a->run->added++;
	} else if (rc == LK_EEXISTS) {
		a->run->skipped++; /* re-running an import is harmless */
	} else {
		lk_cli_report(rc);
		a->run->failed++;
	}
	return 0;
}

/* Adds the file, or every file under the folder, as references of `slug`. */
static void add_path(struct add_run *run, const char *slug, const char *path)
{
	struct add_one a = { run, slug };
	const int unreadable = lk_cli_walk(path, add_file, &a);
	run->failed += unreadable < 0 ? 1 : unreadable;
}

/* A folder name as a character id: lower case, other characters to '-'. */
static void slug_from_name(char *slug, size_t size, const char *name)
{
	size_t n = 0;
	for (const char *p = name; *p && n + 1 < size; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			c = '-';
		slug[n++] = c;
	}
	slug[n] = '\0';
}

static void add_per_folder(struct add_run *run, const char *root)
{
	struct dirent **names;
	int n = scandir(root, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "likeness: %s: cannot read the folder\n", root);
		run->failed++;
		return;
	}
	for (int i = 0; i < n; i++) {
		char *child = malloc(strlen(root) + strlen(names[i]->d_name) + 2);
		sprintf(child, "%s/%s", root, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && lk_cli_is_directory(child)) {
			lk_character c = LK_CHARACTER_INIT;
			slug_from_name(c.slug, sizeof c.slug, names[i]->d_name);
			snprintf(c.name, sizeof c.name, "%s", names[i]->d_name);
			c.enabled = 1;
			int rc = lk_character_add(run->reg, &c);
			if (rc != LK_OK && rc != LK_EEXISTS) {
				lk_cli_report(rc);
				run->failed++;
			} else {
				add_path(run, c.slug, child);
			}
		}
		free(child);
		free(names[i]);
	}
	free(names);
}

static int list_references(lk_registry *reg, const char *slug)
{
	size_t total;
	int rc = lk_reference_list(NULL, 0, &total, reg, slug);
	lk_reference *all = rc == LK_OK ? calloc(total ? total : 1, sizeof *all) : NULL;
	if (rc == LK_OK && !all)
		rc = LK_ENOMEM;
	if (rc == LK_OK)
		rc = lk_reference_list(all, total, &total, reg, slug);
	if (rc != LK_OK) {
		free(all);
		lk_cli_report(rc);
		return LK_EXIT_INPUT;
	}
	printf("id\tcharacter\tpdq\tquality\tallow\tsource\n");
	for (size_t i = 0; i < total; i++) {
		char hex[LK_PDQ_HEX_LEN + 1];
		lk_pdq_to_hex(hex, &all[i].hash[0]);
		printf("%lld\t%s\t%s\t%d\t%s\t%s\n", (long long)all[i].id, all[i].character, hex,
		       all[i].quality, all[i].allow ? "yes" : "no", all[i].source);
	}
	free(all);
	return LK_EXIT_OK;
}

int lk_cli_ref(int argc, char **argv)
{
	static const struct option options[] = {
		{ "allow", no_argument, NULL, OPT_ALLOW },
		{ "per-folder", required_argument, NULL, OPT_PER_FOLDER },
		{ "registry", required_argument, NULL, 'r' },
		{ "hash-only", no_argument, NULL, LK_CLI_OPT_HASH_ONLY },
		{ NULL, 0, NULL, 0 },
	};
	struct add_run run = { .opts = LK_REFERENCE_OPTIONS_INIT };
	const char *registry = NULL, *per_folder = NULL;
	int opt, hash_only = 0;
	while ((opt = getopt_long(argc, argv, "r:", options, NULL)) != -1) {
		if (opt == OPT_ALLOW)
			run.opts.allow = 1;
		else if (opt == OPT_PER_FOLDER)
			per_folder = optarg;
		else if (opt == LK_CLI_OPT_HASH_ONLY)
			hash_only = 1;
		else if (opt == 'r')
			registry = optarg;
		else
			return LK_EXIT_USAGE;
	}
	const int nargs = argc - optind;
	const char *action = nargs > 0 ? argv[optind] : "";
	const int valid = (!strcmp(action, "add") && (per_folder ? nargs == 1 : nargs >= 3)) ||
			  (!strcmp(action, "list") && nargs <= 2) || (!strcmp(action, "remove") && nargs >= 2);
	if (!valid) {
		fputs(lk_cli_ref_usage, stderr);
		return LK_EXIT_USAGE;
	}
	/* Only adding needs the model; listing and removing work without it. */
	const int exit_open = lk_cli_open_registry_embedding(&run.reg, registry, hash_only || strcmp(action, "add"));
	if (exit_open != LK_EXIT_OK)
		return exit_open == LK_EXIT_FAILURE ? LK_EXIT_FAILURE : LK_EXIT_INPUT;
	int exit_code = LK_EXIT_OK;
	if (!strcmp(action, "list")) {
		exit_code = list_references(run.reg, nargs == 2 ? argv[optind + 1] : NULL);
	} else if (!strcmp(action, "remove")) {
		for (int i = optind + 1; i < argc; i++) {
			char *end;
			long long id = strtoll(argv[i], &end, 10);
			int rc = *end || end == argv[i] ? LK_EINVAL : lk_reference_remove(run.reg, id);
			if (rc == LK_OK)
				printf("removed reference %lld\n", id);
			else if (rc == LK_EINVAL) {
				fprintf(stderr, "likeness ref: '%s' is not a reference id\n", argv[i]);
				exit_code = LK_EXIT_USAGE;
			} else {
				lk_cli_report(rc);
				exit_code = LK_EXIT_INPUT;
			}
		}
	} else {
		if (per_folder)
			add_per_folder(&run, per_folder);
		else
			for (int i = optind + 2; i < argc; i++)
				add_path(&run, argv[optind + 1], argv[i]);
		fprintf(stderr, "likeness: added %d reference(s), %d already present, %d failed\n", run.added,
			run.skipped, run.failed);
		exit_code = run.failed ? LK_EXIT_INPUT : LK_EXIT_OK;
	}
	lk_registry_close(run.reg);
	return exit_code;
}
