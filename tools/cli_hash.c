/* likeness hash: PDQ hashes of image files, one line each, in the reference tool's format. */
#include "tools/cli.h"
#include "likeness.h"

#include <stdlib.h>
#include <string.h>

const char lk_cli_hash_usage[] =
	"usage: likeness hash [options] FILE...\n"
	"\n"
	"Prints one line per image: the 64-hex-digit PDQ hash, the quality (0-100) and the path,\n"
	"separated by commas, exactly as Meta's reference pdq-photo-hasher prints them, so the\n"
	"output can be loaded by ThreatExchange / HMA tools. A FILE of '-' reads image bytes from\n"
	"standard input. Unreadable inputs are reported on standard error and skipped.\n"
	"\n"
	"options:\n"
	"  --dihedral          print the 8 dihedral hashes (original, rot90, rot180, rot270,\n"
	"                      flipx, flipy, flipplus1, flipminus1) before quality and path\n"
	"  --files-from LIST   also hash the paths listed in LIST, one per line ('-': stdin)\n"
	"  --max-bytes N       refuse inputs over N bytes (default 64M; k/M/G suffixes, 1024)\n"
	"  --max-pixels N      refuse images over N pixels (default 100M; k/M/G, 1000)\n"
	"  --max-side N        refuse images with a side over N pixels (default 32768)\n"
	"  -h, --help          this text\n"
	"\n"
	"Exit status: 0 all hashed, 2 wrong arguments, 3 some inputs could not be read,\n"
	"4 output failed.\n";

struct hash_run {
	lk_ingest_options opts;
	int dihedral;
	int failures;
};

static void hash_one(struct hash_run *run, const char *path)
{
	lk_pdq_result r;
	int rc;
	if (!strcmp(path, "-")) {
		/* Read all of stdin through the file path: /dev/stdin handles pipes and files. */
		rc = lk_pdq_hash_file(&r, "/dev/stdin", &run->opts);
	} else {
		rc = lk_pdq_hash_file(&r, path, &run->opts);
	}
	if (rc != LK_OK) {
		lk_cli_report(rc);
		run->failures++;
		return;
	}
	char hex[LK_PDQ_HEX_LEN + 1];
	const int variants = run->dihedral ? LK_DIHEDRAL_COUNT : 1;
	for (int d = 0; d < variants; d++) {
		lk_pdq_to_hex(hex, &r.hash[d]);
		fputs(hex, stdout);
		putchar(',');
	}
	printf("%d,%s\n", r.quality, path);
}

static int hash_list(struct hash_run *run, const char *list)
{
	FILE *f = strcmp(list, "-") ? fopen(list, "r") : stdin;
	if (!f) {
		fprintf(stderr, "likeness: cannot open list %s\n", list);
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) > 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n > 0)
			hash_one(run, line);
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return 0;
}

static int option_size(const char *name, const char *value, int binary, unsigned long long max,
		       unsigned long long *out)
{
	if (!value || lk_cli_parse_size(value, binary, out) || *out == 0 || *out > max) {
		fprintf(stderr, "likeness hash: %s needs a positive number, got '%s'\n", name,
			value ? value : "");
		return -1;
	}
	return 0;
}

int lk_cli_hash(int argc, char **argv)
{
	struct hash_run run = { .opts = LK_INGEST_OPTIONS_INIT };
	const char *lists[64];
	int nlists = 0, first_file = argc;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		unsigned long long v;
		if (!strcmp(a, "--")) {
			first_file = i + 1;
			break;
		} else if (!strcmp(a, "--dihedral")) {
			run.dihedral = 1;
		} else if (!strcmp(a, "--files-from")) {
			if (i + 1 >= argc || nlists == 64) {
				fprintf(stderr, "likeness hash: --files-from needs a file\n");
				return LK_EXIT_USAGE;
			}
			lists[nlists++] = argv[++i];
		} else if (!strcmp(a, "--max-bytes")) {
			if (option_size(a, i + 1 < argc ? argv[++i] : NULL, 1, SIZE_MAX, &v))
				return LK_EXIT_USAGE;
			run.opts.max_bytes = (size_t)v;
		} else if (!strcmp(a, "--max-pixels")) {
			if (option_size(a, i + 1 < argc ? argv[++i] : NULL, 0, UINT64_MAX, &v))
				return LK_EXIT_USAGE;
			run.opts.max_pixels = v;
		} else if (!strcmp(a, "--max-side")) {
			if (option_size(a, i + 1 < argc ? argv[++i] : NULL, 0, UINT32_MAX, &v))
				return LK_EXIT_USAGE;
			run.opts.max_side = (uint32_t)v;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "likeness hash: unknown option '%s' (see likeness hash --help)\n", a);
			return LK_EXIT_USAGE;
		} else {
			first_file = i;
			break;
		}
	}
	if (first_file >= argc && nlists == 0) {
		fputs("likeness hash: no files given (see likeness hash --help)\n", stderr);
		return LK_EXIT_USAGE;
	}
	int rc = lk_init();
	if (rc != LK_OK) {
		lk_cli_report(rc);
		return LK_EXIT_FAILURE;
	}
	for (int i = first_file; i < argc; i++)
		hash_one(&run, argv[i]);
	for (int i = 0; i < nlists; i++)
		if (hash_list(&run, lists[i]))
			return LK_EXIT_USAGE;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("likeness: writing the output");
		return LK_EXIT_FAILURE;
	}
	return run.failures ? LK_EXIT_INPUT : LK_EXIT_OK;
}
