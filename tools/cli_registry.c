/* likeness init / character / ref / stats: managing a registry from the command line. */
#include "cli.h"
#include "likeness.h"

#include <dirent.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char lk_cli_init_usage[] =
	"usage: likeness init DIR\n"
	"\n"
	"Creates an empty registry in DIR (created if missing). Other commands find it with\n"
	"--registry DIR or the LIKENESS_REGISTRY environment variable.\n";

const char lk_cli_character_usage[] =
	"usage: likeness character add SLUG --name NAME [options]\n"
	"       likeness character list | show SLUG | enable SLUG | disable SLUG | remove SLUG\n"
	"\n"
	"Manages protected characters. SLUG is a stable id of a-z 0-9 . _ - (e.g. 'ultraman').\n"
	"'remove' deletes the character and all its references (a takedown); 'disable' keeps them\n"
	"but stops matching. Both take effect for every checker at its next check.\n"
	"\n"
	"options of add (and of 'character update SLUG', which changes only what is given):\n"
	"  --name TEXT            display name (required for add)\n"
	"  --aliases LIST         comma-separated other names\n"
	"  --rights-holder TEXT   who holds the rights\n"
	"  --licence TEXT         licence or notes on the rights\n"
	"  --labels LIST          comma-separated labels\n"
	"  --block N              block at PDQ distance <= N (default 31)\n"
	"  --review N             review at PDQ distance <= N (default 55)\n"
	"  -r, --registry DIR     the registry (default: $LIKENESS_REGISTRY)\n";

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
	"  -r, --registry DIR    the registry (default: $LIKENESS_REGISTRY)\n";

const char lk_cli_stats_usage[] =
	"usage: likeness stats [-r DIR]\n"
	"\n"
	"Prints the registry's version, characters (enabled/disabled) and references.\n";

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

enum { OPT_NAME = 1000, OPT_ALIASES, OPT_HOLDER, OPT_LICENCE, OPT_LABELS, OPT_BLOCK, OPT_REVIEW,
       OPT_ALLOW, OPT_PER_FOLDER };

static int parse_threshold(const char *text, int *out)
{
	unsigned long long v;
	if (lk_cli_parse_size(text, 0, &v) || v > LK_PDQ_BITS) {
		fprintf(stderr, "likeness: a threshold is a distance 0..256, got '%s'\n", text);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static void print_character(const lk_character *c)
{
	printf("%s\n  name: %s\n", c->slug, c->name);
	if (c->aliases[0])
		printf("  aliases: %s\n", c->aliases);
	if (c->rights_holder[0])
		printf("  rights holder: %s\n", c->rights_holder);
	if (c->licence[0])
		printf("  licence: %s\n", c->licence);
	if (c->labels[0])
		printf("  labels: %s\n", c->labels);
	printf("  block at <= %d, review at <= %d%s\n",
	       c->block_threshold < 0 ? LK_DEFAULT_BLOCK_THRESHOLD : c->block_threshold,
	       c->review_threshold < 0 ? LK_DEFAULT_REVIEW_THRESHOLD : c->review_threshold,
	       c->block_threshold < 0 && c->review_threshold < 0 ? " (defaults)" : "");
	printf("  %s, %lld reference(s)\n", c->enabled ? "enabled" : "DISABLED", (long long)c->references);
}

static int list_characters(lk_registry *reg)
{
	size_t total;
	int rc = lk_character_list(NULL, 0, &total, reg);
	lk_character *all = rc == LK_OK ? calloc(total ? total : 1, sizeof *all) : NULL;
	if (rc == LK_OK && !all)
		rc = LK_ENOMEM;
	if (rc == LK_OK)
		rc = lk_character_list(all, total, &total, reg);
	if (rc != LK_OK) {
		free(all);
		lk_cli_report(rc);
		return LK_EXIT_INPUT;
	}
	printf("%-24s %-8s %5s %6s %10s  %s\n", "character", "state", "block", "review", "references", "name");
	for (size_t i = 0; i < total; i++) {
		const lk_character *c = &all[i];
		printf("%-24s %-8s %5d %6d %10lld  %s\n", c->slug, c->enabled ? "enabled" : "disabled",
		       c->block_threshold < 0 ? LK_DEFAULT_BLOCK_THRESHOLD : c->block_threshold,
		       c->review_threshold < 0 ? LK_DEFAULT_REVIEW_THRESHOLD : c->review_threshold,
		       (long long)c->references, c->name);
	}
	free(all);
	return LK_EXIT_OK;
}

int lk_cli_character(int argc, char **argv)
{
	static const struct option options[] = {
		{ "name", required_argument, NULL, OPT_NAME },
		{ "aliases", required_argument, NULL, OPT_ALIASES },
		{ "rights-holder", required_argument, NULL, OPT_HOLDER },
		{ "licence", required_argument, NULL, OPT_LICENCE },
		{ "labels", required_argument, NULL, OPT_LABELS },
		{ "block", required_argument, NULL, OPT_BLOCK },
		{ "review", required_argument, NULL, OPT_REVIEW },
		{ "registry", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *fields[OPT_LABELS - OPT_NAME + 1] = { 0 };
	int block = -2, review = -2; /* -2: not given */
	const char *registry = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "r:", options, NULL)) != -1) {
		if (opt >= OPT_NAME && opt <= OPT_LABELS)
			fields[opt - OPT_NAME] = optarg;
		else if (opt == OPT_BLOCK) {
			if (parse_threshold(optarg, &block))
				return LK_EXIT_USAGE;
		} else if (opt == OPT_REVIEW) {
			if (parse_threshold(optarg, &review))
				return LK_EXIT_USAGE;
		} else if (opt == 'r')
			registry = optarg;
		else
			return LK_EXIT_USAGE;
	}
	const int nargs = argc - optind;
	const char *action = nargs > 0 ? argv[optind] : "";
	const char *slug = nargs > 1 ? argv[optind + 1] : NULL;
	const int needs_slug = strcmp(action, "list") != 0;
	if (!*action || (needs_slug && !slug) || nargs > (needs_slug ? 2 : 1)) {
		fputs(lk_cli_character_usage, stderr);
		return LK_EXIT_USAGE;
	}
	lk_registry *reg;
	int exit_code = lk_cli_open_registry(&reg, registry);
	if (exit_code != LK_EXIT_OK)
		return exit_code;
	int rc = LK_OK;
	if (!strcmp(action, "list")) {
		exit_code = list_characters(reg);
	} else if (!strcmp(action, "add") || !strcmp(action, "update")) {
		lk_character c;
		memset(&c, 0, sizeof c);
		const int adding = !strcmp(action, "add");
		if (adding) {
			c.block_threshold = c.review_threshold = -1;
			c.enabled = 1;
			snprintf(c.slug, sizeof c.slug, "%s", slug);
			if (strlen(slug) >= sizeof c.slug) /* let the library refuse it whole */
				memset(c.slug, 'x', sizeof c.slug - 1);
		} else {
			rc = lk_character_get(&c, reg, slug);
		}
		char *const dst[] = { c.name, c.aliases, c.rights_holder, c.licence, c.labels };
		for (int i = 0; rc == LK_OK && i < 5; i++)
			if (fields[i]) {
				if (strlen(fields[i]) >= LK_TEXT_MAX) {
					fprintf(stderr, "likeness character: '%s' is longer than %d bytes\n",
						options[i].name, LK_TEXT_MAX - 1);
					lk_registry_close(reg);
					return LK_EXIT_USAGE;
				}
				snprintf(dst[i], LK_TEXT_MAX, "%s", fields[i]);
			}
		if (block != -2)
			c.block_threshold = block;
		if (review != -2)
			c.review_threshold = review;
		if (rc == LK_OK)
			rc = adding ? lk_character_add(reg, &c) : lk_character_update(reg, &c);
		if (rc == LK_OK)
			printf("%s character %s\n", adding ? "added" : "updated", c.slug);
	} else if (!strcmp(action, "show")) {
		lk_character c;
		rc = lk_character_get(&c, reg, slug);
		if (rc == LK_OK)
			print_character(&c);
	} else if (!strcmp(action, "enable") || !strcmp(action, "disable")) {
		rc = lk_character_set_enabled(reg, slug, action[0] == 'e');
		if (rc == LK_OK)
			printf("%sd %s\n", action, slug);
	} else if (!strcmp(action, "remove")) {
		rc = lk_character_remove(reg, slug);
		if (rc == LK_OK)
			printf("removed %s and its references\n", slug);
	} else {
		fprintf(stderr, "likeness character: no action '%s' (see likeness character --help)\n", action);
		exit_code = LK_EXIT_USAGE;
	}
	if (rc != LK_OK) {
		lk_cli_report(rc);
		exit_code = rc == LK_EINVAL ? LK_EXIT_USAGE : LK_EXIT_INPUT;
	}
	lk_registry_close(reg);
	return exit_code;
}

struct add_run {
	lk_registry *reg;
	lk_reference_options opts;
	int added, failed, skipped;
};

static int is_directory(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void add_path(struct add_run *run, const char *slug, const char *path);

/* Adds every file under `dir`, in name order so runs are reproducible. */
static void add_tree(struct add_run *run, const char *slug, const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "likeness: %s: cannot read the folder\n", dir);
		run->failed++;
		return;
	}
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			char *child = malloc(strlen(dir) + strlen(names[i]->d_name) + 2);
			sprintf(child, "%s/%s", dir, names[i]->d_name);
			add_path(run, slug, child);
			free(child);
		}
		free(names[i]);
	}
	free(names);
}

static void add_path(struct add_run *run, const char *slug, const char *path)
{
	if (is_directory(path)) {
		add_tree(run, slug, path);
		return;
	}
	int64_t id;
	int rc = lk_reference_add_file(&id, run->reg, slug, path, &run->opts);
	if (rc == LK_OK) {
		printf("%lld\t%s\t%s\n", (long long)id, slug, path);
		run->added++;
	} else if (rc == LK_EEXISTS) {
		run->skipped++; /* re-running an import is harmless */
	} else {
		lk_cli_report(rc);
		run->failed++;
	}
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
		if (names[i]->d_name[0] != '.' && is_directory(child)) {
			lk_character c;
			memset(&c, 0, sizeof c);
			slug_from_name(c.slug, sizeof c.slug, names[i]->d_name);
			snprintf(c.name, sizeof c.name, "%s", names[i]->d_name);
			c.block_threshold = c.review_threshold = -1;
			c.enabled = 1;
			int rc = lk_character_add(run->reg, &c);
			if (rc != LK_OK && rc != LK_EEXISTS) {
				lk_cli_report(rc);
				run->failed++;
			} else {
				add_tree(run, c.slug, child);
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
		{ NULL, 0, NULL, 0 },
	};
	struct add_run run = { .opts = LK_REFERENCE_OPTIONS_INIT };
	const char *registry = NULL, *per_folder = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "r:", options, NULL)) != -1) {
		if (opt == OPT_ALLOW)
			run.opts.allow = 1;
		else if (opt == OPT_PER_FOLDER)
			per_folder = optarg;
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
	if (lk_cli_open_registry(&run.reg, registry) != LK_EXIT_OK)
		return LK_EXIT_INPUT;
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
	uint64_t version;
	size_t n_chars, n_refs;
	int rc = lk_registry_version(&version, reg);
	lk_character *all = NULL;
	if (rc == LK_OK)
		rc = lk_character_list(NULL, 0, &n_chars, reg);
	if (rc == LK_OK && !(all = calloc(n_chars ? n_chars : 1, sizeof *all)))
		rc = LK_ENOMEM;
	if (rc == LK_OK)
		rc = lk_character_list(all, n_chars, &n_chars, reg);
	if (rc == LK_OK)
		rc = lk_reference_list(NULL, 0, &n_refs, reg, NULL);
	if (rc == LK_OK) {
		size_t enabled = 0;
		for (size_t i = 0; i < n_chars; i++)
			enabled += all[i].enabled != 0;
		printf("registry: %s\nversion: %llu\ncharacters: %zu (%zu enabled, %zu disabled)\nreferences: %zu\n",
		       lk_cli_registry_dir(registry), (unsigned long long)version, n_chars, enabled,
		       n_chars - enabled, n_refs);
	}
	free(all);
	lk_registry_close(reg);
	if (rc != LK_OK) {
		lk_cli_report(rc);
		return LK_EXIT_INPUT;
	}
	return LK_EXIT_OK;
}
