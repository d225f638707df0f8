/* Shared pieces of the likeness command-line program. */
#ifndef LK_CLI_H
#define LK_CLI_H

#include <stdio.h>

/* Exit codes, the same for every subcommand (documented in `likeness help exit-codes`). */
enum {
	LK_EXIT_OK = 0,          /* everything done; for checks: nothing blocked */
	LK_EXIT_BLOCKED = 1,     /* a check blocked at least one image */
	LK_EXIT_USAGE = 2,       /* wrong arguments */
	LK_EXIT_INPUT = 3,       /* at least one input could not be read (the others were done) */
	LK_EXIT_FAILURE = 4,     /* the program itself could not work (output, memory, CPU) */
	LK_EXIT_REVIEW = 5,      /* a check found images a person should review, none blocked */
	/* An audit stopped by Ctrl-C (or SIGTERM) before it was done; --resume continues it.
	 * 128 + SIGINT, what a shell reports for a process killed by Ctrl-C, so scripts see the
	 * same status whether the audit stopped cleanly or was killed. */
	LK_EXIT_INTERRUPTED = 130,
};

struct lk_cli_command {
	const char *name;
	const char *summary;
	const char *usage; /* full --help text */
	int (*run)(int argc, char **argv);
};

int lk_cli_hash(int argc, char **argv);
extern const char lk_cli_hash_usage[];
int lk_cli_compare(int argc, char **argv);
extern const char lk_cli_compare_usage[];
int lk_cli_init(int argc, char **argv);
extern const char lk_cli_init_usage[];
int lk_cli_character(int argc, char **argv);
extern const char lk_cli_character_usage[];
int lk_cli_ref(int argc, char **argv);
extern const char lk_cli_ref_usage[];
int lk_cli_stats(int argc, char **argv);
extern const char lk_cli_stats_usage[];
int lk_cli_import(int argc, char **argv);
extern const char lk_cli_import_usage[];
int lk_cli_export(int argc, char **argv);
extern const char lk_cli_export_usage[];
int lk_cli_audit(int argc, char **argv);
extern const char lk_cli_audit_usage[];
int lk_cli_check(int argc, char **argv);
extern const char lk_cli_check_usage[];
int lk_cli_negatives(int argc, char **argv);
extern const char lk_cli_negatives_usage[];
int lk_cli_calibrate(int argc, char **argv);
extern const char lk_cli_calibrate_usage[];
int lk_cli_index(int argc, char **argv);
extern const char lk_cli_index_usage[];
int lk_cli_serve(int argc, char **argv);
extern const char lk_cli_serve_usage[];

/* 1 if `path` is a folder. */
int lk_cli_is_directory(const char *path);
/* Calls visit(file, ctx) for `path` if it is a file, or for every file below it if it is a
 * folder: recursively, in name order (runs are reproducible), hidden entries skipped. A folder
 * that cannot be read is reported and skipped. Returns how many were skipped, or -1 as soon as
 * a visit returns nonzero or memory runs out. */
int lk_cli_walk(const char *path, int (*visit)(const char *file, void *ctx), void *ctx);

struct lk_registry;
/* The registry directory: `given`, else $LIKENESS_REGISTRY, else NULL. */
const char *lk_cli_registry_dir(const char *given);
/* Opens it or explains why not; returns an exit code (LK_EXIT_OK on success). */
int lk_cli_open_registry(struct lk_registry **reg, const char *given);
/* The same, with the embedding signal attached unless `hash_only`: the model comes from
 * $LIKENESS_MODELS or the folder this build was configured with, loaded once per process. */
int lk_cli_open_registry_embedding(struct lk_registry **reg, const char *given, int hash_only);
/* The process' embedder once lk_cli_open_registry_embedding has loaded it (else LK_ENOTFOUND). */
struct lk_embedder;
int lk_cli_embedder(struct lk_embedder **out);

/* The --hash-only option's help line, shared by the commands that take it. */
#define LK_CLI_HASH_ONLY_HELP \
	"  --hash-only           PDQ alone: no CNN embedding (faster; misses crops and borders)\n"
enum { LK_CLI_OPT_HASH_ONLY = 2000, LK_CLI_OPT_REGIONS };

/* --regions N: region search (lk_check_options.regions), shared by check and audit. */
#define LK_CLI_REGIONS_HELP \
	"  --regions N           also search N windows of half the image's size (0-9, default 0) on\n" \
	"                        their own, to find a character drawn into a larger scene; below 9,\n" \
	"                        where the CNN responds most; each costs one more CNN pass\n"
/* Parses --regions' argument into *out; prints why and returns nonzero when it is not
 * 0..LK_MAX_REGIONS. */
int lk_cli_parse_regions(const char *command, const char *text, int *out);

/* Prints "likeness: <detail> [<sentence>]" for a failed library call. */
void lk_cli_report(int code);

/* Parses a non-negative integer with an optional k/M/G suffix (powers of 1000 for counts,
 * of 1024 when `binary`); returns 0 on success. */
int lk_cli_parse_size(const char *text, int binary, unsigned long long *out);


#endif
