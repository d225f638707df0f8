/* likeness: the command-line program. Dispatches to one file per subcommand. */
#include "tools/cli.h"
#include "likeness.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char exit_codes_text[] =
	"Exit codes, the same for every subcommand:\n"
	"  0  success (for checks: everything allowed)\n"
	"  1  a check blocked at least one image\n"
	"  2  wrong arguments\n"
	"  3  at least one input could not be read; all others were processed\n"
	"  4  the program could not work (output failed, out of memory, unsupported CPU)\n"
	"  5  a check found images to review and blocked none\n"
	"  130  an audit was interrupted (Ctrl-C, SIGTERM); run it again with --resume to continue\n";

static const struct lk_cli_command commands[] = {
	{ "hash", "print PDQ hashes of images, in the reference tool's format", lk_cli_hash_usage,
	  lk_cli_hash },
	{ "compare", "PDQ distance from a reference image to others, mirrors and rotations included",
	  lk_cli_compare_usage, lk_cli_compare },
	{ "init", "create an empty registry", lk_cli_init_usage, lk_cli_init },
	{ "character", "add, list, show, update, enable, disable, remove characters",
	  lk_cli_character_usage, lk_cli_character },
	{ "ref", "add (files, folders), list, remove reference images", lk_cli_ref_usage, lk_cli_ref },
	{ "check", "verdicts for images against the registry", lk_cli_check_usage, lk_cli_check },
	{ "audit", "check whole galleries on several threads, JSON lines, resumable", lk_cli_audit_usage,
	  lk_cli_audit },
	{ "negatives", "add, list, remove pictures of the negative bank the character model is normalised by",
	  lk_cli_negatives_usage, lk_cli_negatives },
	{ "calibrate", "set embedding thresholds for a false-positive rate from known negatives",
	  lk_cli_calibrate_usage, lk_cli_calibrate },
	{ "stats", "registry version and sizes", lk_cli_stats_usage, lk_cli_stats },
	{ "index", "build or describe the approximate index of the registry's embeddings", lk_cli_index_usage,
	  lk_cli_index },
	{ "serve", "answer checks over HTTP (JSON, metrics, admin API, hot reload)", lk_cli_serve_usage,
	  lk_cli_serve },
	{ "import", "add references from a PDQ hash list (CSV)", lk_cli_import_usage, lk_cli_import },
	{ "export", "print the references as a PDQ hash list (CSV)", lk_cli_export_usage, lk_cli_export },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: likeness <command> [options] [arguments]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "  %-10s %s\n", "version", "print the version");
	fprintf(out, "  %-10s %s\n", "help", "help on a command, 'help exit-codes', 'help --man'");
	fprintf(out, "\n%s", exit_codes_text);
}

void lk_cli_report(int code)
{
	const char *detail = lk_error_detail();
	if (detail[0])
		fprintf(stderr, "likeness: %s [%s]\n", detail, lk_strerror(code));
	else
		fprintf(stderr, "likeness: %s\n", lk_strerror(code));
}

int lk_cli_parse_size(const char *text, int binary, unsigned long long *out)
{
	if (!text || !*text || *text == '-')
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || end == text)
		return -1;
	unsigned long long unit = 1, k = binary ? 1024 : 1000;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': unit = k; end++; break;
	case 'M': unit = k * k; end++; break;
	case 'G': unit = k * k * k; end++; break;
	default: return -1;
	}
	if (*end || (unit > 1 && v > ~0ULL / unit))
		return -1;
	*out = v * unit;
	return 0;
}

/* faiss runs searches on OpenMP threads. With libgomp's default active waiting, idle workers
 * spin and take the cores from the next query; passive waiting doubled batch search throughput
 * on 2 cores here. libgomp reads the setting once, when it is loaded, so a run that finds it
 * unset sets it and starts itself again (a few milliseconds, once). A user's own setting wins. */
static void ensure_passive_openmp(char **argv)
{
	if (getenv("OMP_WAIT_POLICY") || setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0)
		return;
	execv("/proc/self/exe", argv);
	/* exec failed (no /proc): carry on with active waiting, which is slower, not wrong */
}

/* Writes `text` for troff: backslashes escaped, lines starting with '.' or '\'' protected. */
static void troff_text(const char *text)
{
	int line_start = 1;
	for (const char *p = text; *p; p++) {
		if (line_start && (*p == '.' || *p == '\''))
			fputs("\\&", stdout);
		if (*p == '\\')
			fputs("\\e", stdout);
		else if (*p == '-')
			fputs("\\-", stdout);
		else
			putchar(*p);
		line_start = *p == '\n';
	}
}

/* The manual page, generated from the same texts as --help, so the two never disagree. */
static void print_man_page(void)
{
	printf(".TH LIKENESS 1 \"\" \"likeness %s\" \"User Commands\"\n", lk_version());
	puts(".SH NAME\nlikeness \\- find copies of protected characters in generated images");
	puts(".SH SYNOPSIS\n.B likeness\n.I command\n[options] [arguments]");
	puts(".SH DESCRIPTION\nlikeness hashes images with PDQ, keeps a registry of protected characters "
	     "and their reference images, and gives each checked image a verdict (allow, review, block) "
	     "with the evidence behind it.");
	puts(".SH COMMANDS");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		printf(".SS %s\n", commands[i].name);
		troff_text(commands[i].summary);
		puts("\n.PP\n.nf");
		troff_text(commands[i].usage);
		puts(".fi");
	}
	puts(".SH ENVIRONMENT\n.TP\n.B LIKENESS_REGISTRY\nthe registry directory when --registry is not given"
	     "\n.TP\n.B OMP_WAIT_POLICY\nset to PASSIVE by likeness unless already set");
	puts(".SH EXIT STATUS\n.nf");
	troff_text(exit_codes_text);
	puts(".fi");
}

static const struct lk_cli_command *find(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	ensure_passive_openmp(argv);
	if (argc < 2) {
		usage(stderr);
		return LK_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		if (!strcmp(cmd, "help") && argc > 2) {
			if (!strcmp(argv[2], "--man")) {
				print_man_page();
				return fflush(stdout) == 0 ? LK_EXIT_OK : LK_EXIT_FAILURE;
			}
			if (!strcmp(argv[2], "exit-codes")) {
				fputs(exit_codes_text, stdout);
				return LK_EXIT_OK;
			}
			const struct lk_cli_command *c = find(argv[2]);
			if (!c) {
				fprintf(stderr, "likeness: no command '%s'\n", argv[2]);
				return LK_EXIT_USAGE;
			}
			fputs(c->usage, stdout);
			return LK_EXIT_OK;
		}
		usage(stdout);
		return LK_EXIT_OK;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		printf("likeness %s\n", lk_version());
		return LK_EXIT_OK;
	}
	const struct lk_cli_command *c = find(cmd);
	if (!c) {
		fprintf(stderr, "likeness: no command '%s' (try 'likeness --help')\n", cmd);
		return LK_EXIT_USAGE;
	}
	for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(c->usage, stdout);
			return LK_EXIT_OK;
		}
	return c->run(argc - 1, argv + 1);
}
