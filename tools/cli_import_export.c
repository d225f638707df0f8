/* likeness import / export: PDQ hash lists as CSV, so rights holders can hand over hashes
 * instead of images, and hash banks move between likeness, ThreatExchange and HMA. */
#include "tools/cli.h"
#include "likeness.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

const char lk_cli_import_usage[] =
	"usage: likeness import [--character SLUG] [--allow] [-r DIR] FILE\n"
	"\n"
	"Adds the PDQ hashes listed in FILE ('-': standard input) as references. Each line is\n"
	"HASH[,QUALITY[,LABEL]]: 64 hex digits, quality 0-100 (default 100), and the character id.\n"
	"The output of 'likeness hash' (hash,quality,path) and of 'likeness export' both load. A\n"
	"first line that is not a hash is taken as a header. With --character every line goes to\n"
	"that character; otherwise LABEL must name one. Hashes of quality below 50 are refused.\n";

const char lk_cli_export_usage[] =
	"usage: likeness export [--character SLUG] [-r DIR]\n"
	"\n"
	"Prints the registry's reference hashes as CSV: a header 'pdq,quality,label' then one line\n"
	"per reference, label being the character id. Allow-listed references are included and\n"
	"marked by a fourth column 'allow'.\n";

static int options_common(int argc, char **argv, const char **registry, const char **character, int *allow)
{
	static const struct option options[] = {
		{ "character", required_argument, NULL, 'c' },
		{ "allow", no_argument, NULL, 'a' },
		{ "registry", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "r:", options, NULL)) != -1) {
		if (opt == 'c')
			*character = optarg;
		else if (opt == 'a' && allow)
			*allow = 1;
		else if (opt == 'r')
			*registry = optarg;
		else
			return -1;
	}
	return 0;
}

/* Splits a CSV line in place into at most `max` fields (no quoting: hashes, numbers, ids). */
static int split(char *line, char **fields, int max)
{
	int n = 0;
	for (char *p = line; n < max;) {
		fields[n++] = p;
		char *comma = strchr(p, ',');
		if (!comma)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	return n;
}

static const char *find(char **list, size_t n, const char *slug)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], slug))
			return list[i];
	return NULL;
}

/* Appends a copy of `slug` to the list; returns the copy, NULL when out of memory. */
static const char *remember(char ***list, size_t *n, const char *slug)
{
	char **grown = realloc(*list, (*n + 1) * sizeof *grown);
	if (!grown)
		return NULL;
	*list = grown;
	return (grown[*n] = strdup(slug)) ? grown[(*n)++] : NULL;
}

int lk_cli_import(int argc, char **argv)
{
	const char *registry = NULL, *character = NULL;
	lk_reference_options ropts = LK_REFERENCE_OPTIONS_INIT;
	if (options_common(argc, argv, &registry, &character, &ropts.allow) || optind != argc - 1) {
		fputs(lk_cli_import_usage, stderr);
		return LK_EXIT_USAGE;
	}
	const char *file = argv[optind];
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	if (!f) {
		perror(file);
		return LK_EXIT_INPUT;
	}
	lk_registry *reg;
	int exit_code = lk_cli_open_registry(&reg, registry);
	if (exit_code != LK_EXIT_OK) {
		if (f != stdin)
			fclose(f);
		return exit_code;
	}
	char *line = NULL;
	size_t cap = 0, n_entries = 0, entries_cap = 0;
	ssize_t len;
	long lineno = 0;
	int failed = 0;
	lk_hash_entry *entries = NULL;
	/* Characters seen so far, to refuse a line naming an unknown one without failing the
	 * whole batch. */
	char **known = NULL, **unknown = NULL;
	size_t n_known = 0, n_unknown = 0;
	while ((len = getline(&line, &cap, f)) > 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		char *fields[3] = { 0 };
		const int n = split(line, fields, 3);
		lk_pdq_hash hash;
		if (lk_pdq_from_hex(&hash, fields[0]) != LK_OK) {
			if (lineno == 1)
				continue; /* a header */
			fprintf(stderr, "likeness import: %s:%ld: not a PDQ hash: %s\n", file, lineno, lk_error_detail());
			failed++;
			continue;
		}
		int quality = 100;
		if (n >= 2 && fields[1][0]) {
			char *end;
			long q = strtol(fields[1], &end, 10);
			if (*end || q < 0 || q > 100) {
				fprintf(stderr, "likeness import: %s:%ld: quality '%s' is not 0-100\n", file, lineno, fields[1]);
				failed++;
				continue;
			}
			quality = (int)q;
		}
		if (quality < LK_MIN_QUALITY) {
			fprintf(stderr, "likeness import: %s:%ld: quality %d is below %d: such a hash could never be "
				"matched\n", file, lineno, quality, LK_MIN_QUALITY);
			failed++;
			continue;
		}
		const char *slug = character ? character : n >= 3 ? fields[2] : NULL;
		if (!slug || !*slug) {
			fprintf(stderr, "likeness import: %s:%ld: no character (give --character or a label column)\n",
				file, lineno);
			failed++;
			continue;
		}
		const char *stored = find(known, n_known, slug);
		int bad = find(unknown, n_unknown, slug) != NULL;
		if (!stored && !bad) {
			lk_character c;
			if (lk_character_get(&c, reg, slug) == LK_OK)
				stored = remember(&known, &n_known, slug);
			else
				bad = remember(&unknown, &n_unknown, slug) != NULL;
			if (!stored && !bad) {
				fputs("likeness import: out of memory\n", stderr);
				exit_code = LK_EXIT_FAILURE;
				break;
			}
		}
		if (bad) {
			fprintf(stderr, "likeness import: %s:%ld: no character '%s' (add it first)\n", file, lineno, slug);
			failed++;
			continue;
		}
		if (n_entries == entries_cap) {
			entries_cap = entries_cap ? entries_cap * 2 : 4096;
			lk_hash_entry *grown = realloc(entries, entries_cap * sizeof *grown);
			if (!grown) {
				fputs("likeness import: out of memory\n", stderr);
				exit_code = LK_EXIT_FAILURE;
				break;
			}
			entries = grown;
		}
		entries[n_entries++] = (lk_hash_entry){ hash, quality, stored, NULL };
	}
	free(line);
	if (f != stdin)
		fclose(f);
	/* One transaction for the whole list: a million lines commit once, or not at all. */
	ropts.source = file;
	size_t added = 0;
	if (exit_code == LK_EXIT_OK && n_entries) {
		int rc = lk_reference_add_hashes(&added, reg, entries, n_entries, &ropts);
		if (rc != LK_OK) {
			lk_cli_report(rc);
			exit_code = LK_EXIT_INPUT;
		}
	}
	free(entries);
	for (size_t i = 0; i < n_known; i++)
		free(known[i]);
	for (size_t i = 0; i < n_unknown; i++)
		free(unknown[i]);
	free(known);
	free(unknown);
	lk_registry_close(reg);
	fprintf(stderr, "likeness: imported %zu hash(es), %zu already present, %d refused\n", added,
		exit_code == LK_EXIT_OK ? n_entries - added : 0, failed);
	return exit_code != LK_EXIT_OK ? exit_code : failed ? LK_EXIT_INPUT : LK_EXIT_OK;
}

int lk_cli_export(int argc, char **argv)
{
	const char *registry = NULL, *character = NULL;
	if (options_common(argc, argv, &registry, &character, NULL) || optind != argc) {
		fputs(lk_cli_export_usage, stderr);
		return LK_EXIT_USAGE;
	}
	lk_registry *reg;
	int exit_code = lk_cli_open_registry(&reg, registry);
	if (exit_code != LK_EXIT_OK)
		return exit_code;
	size_t total;
	lk_reference *refs = NULL;
	int rc = lk_reference_list(NULL, 0, &total, reg, character);
	if (rc == LK_OK && !(refs = calloc(total ? total : 1, sizeof *refs)))
		rc = LK_ENOMEM;
	if (rc == LK_OK)
		rc = lk_reference_list(refs, total, &total, reg, character);
	if (rc == LK_OK) {
		puts("pdq,quality,label");
		for (size_t i = 0; i < total; i++) {
			char hex[LK_PDQ_HEX_LEN + 1];
			lk_pdq_to_hex(hex, &refs[i].hash[0]);
			printf("%s,%d,%s%s\n", hex, refs[i].quality, refs[i].character, refs[i].allow ? ",allow" : "");
		}
	}
	free(refs);
	lk_registry_close(reg);
	if (rc != LK_OK) {
		lk_cli_report(rc);
		return LK_EXIT_INPUT;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("likeness: writing the output");
		return LK_EXIT_FAILURE;
	}
	return LK_EXIT_OK;
}
