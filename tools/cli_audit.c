/* likeness audit: checks a whole gallery (folders, a file list, standard input) on several
 * threads, writing one JSON line per image. Resumable: with --out and --resume, images already
 * in the output are skipped and a line cut short by a crash is dropped. */
#include "tools/cli.h"
#include "tools/result_json.h"
#include "likeness.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char lk_cli_audit_usage[] =
	"usage: likeness audit [options] [DIR|FILE]...\n"
	"\n"
	"Checks every image under the given folders (recursively, in name order), the given files,\n"
	"and the paths listed with --files-from, on several threads. Writes one JSON object per\n"
	"image (as 'likeness check --json' does) and a summary on standard error. A progress line\n"
	"is shown when standard error is a terminal. Ctrl-C stops cleanly after the images in\n"
	"flight; run again with --resume to continue.\n"
	"\n"
	"options:\n"
	"  -o, --out FILE        write the JSON lines to FILE (default: standard output)\n"
	"  --resume              skip images already in --out FILE and append the rest\n"
	"  --files-from LIST     also audit the paths in LIST, one per line ('-': standard input)\n"
	"  -j, --jobs N          threads (default: the number of cores)\n"
	"  -r, --registry DIR    the registry (default: $LIKENESS_REGISTRY)\n"
	LK_CLI_HASH_ONLY_HELP
	LK_CLI_REGIONS_HELP
	"\n"
	"Exit status as for 'likeness check': 1 if any image was blocked, else 3 if any could not be\n"
	"read, else 5 if any needs review, else 0; 2 wrong arguments, 4 failure, 130 interrupted.\n";

struct paths {
	char **v;
	size_t n, cap;
};

static int push(struct paths *p, const char *path)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 1024;
		char **v = realloc(p->v, cap * sizeof *v);
		if (!v)
			return -1;
		p->v = v, p->cap = cap;
	}
	if (!(p->v[p->n] = strdup(path)))
		return -1;
	p->n++;
	return 0;
}

static int push_file(const char *file, void *ctx)
{
	return push(ctx, file);
}

static int read_list(struct paths *p, const char *list)
{
	FILE *f = strcmp(list, "-") ? fopen(list, "r") : stdin;
	if (!f) {
		fprintf(stderr, "likeness audit: %s: %s\n", list, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n > 0)
			rc = push(p, line);
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

/* ---- resume: the paths an earlier run already wrote */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads FILE's complete lines, collects their "path" values (sorted into `done`), and cuts off
 * a last line without its newline (the run that wrote it died mid-line). */
static int load_done(struct paths *done, const char *out)
{
	FILE *f = fopen(out, "r+");
	if (!f)
		return errno == ENOENT ? 0 : -1;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long good = 0;
	int rc = 0;
	while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] != '\n')
			break;
		json_t *obj = json_loads(line, 0, NULL);
		const char *path = obj ? json_string_value(json_object_get(obj, "path")) : NULL;
		if (path)
			rc = push(done, path);
		json_decref(obj);
		good += (long)n;
	}
	free(line);
	if (rc == 0 && ftruncate(fileno(f), good) != 0)
		rc = -1;
	fclose(f);
	if (done->n)
		qsort(done->v, done->n, sizeof *done->v, cmp_str);
	return rc;
}

/* ---- the run */

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct audit {
	lk_registry *reg;
	lk_check_options check;
	struct paths todo;
	atomic_size_t next;
	FILE *out;
	pthread_mutex_t out_lock;
	atomic_size_t done, blocked, review, failed;
	int write_error;
};

static void *worker(void *arg)
{
	struct audit *a = arg;
	for (;;) {
		if (interrupted)
			break;
		const size_t i = atomic_fetch_add(&a->next, 1);
		if (i >= a->todo.n)
			break;
		const char *path = a->todo.v[i];
		lk_check_result r;
		const int rc = lk_check_file(&r, a->reg, path, &a->check);
		json_t *obj = rc == LK_OK ? lk_json_result(path, &r) : lk_json_error(path, rc);
		char *text = json_dumps(obj, JSON_COMPACT);
		json_decref(obj);
		pthread_mutex_lock(&a->out_lock);
		/* One whole line per write and a flush after it: a crash loses at most the line being
		 * written, which --resume then drops. */
		if (!text || fprintf(a->out, "%s\n", text) < 0 || fflush(a->out) != 0)
			a->write_error = 1;
		pthread_mutex_unlock(&a->out_lock);
		free(text);
		if (rc != LK_OK)
			atomic_fetch_add(&a->failed, 1);
		else if (r.verdict == LK_VERDICT_BLOCK)
			atomic_fetch_add(&a->blocked, 1);
		else if (r.verdict == LK_VERDICT_REVIEW)
			atomic_fetch_add(&a->review, 1);
		atomic_fetch_add(&a->done, 1);
	}
	return NULL;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void progress(struct audit *a, double started, int final)
{
	const size_t done = atomic_load(&a->done);
	const double secs = now_s() - started, rate = secs > 0 ? (double)done / secs : 0;
	const double eta = rate > 0 ? (double)(a->todo.n - done) / rate : 0;
	fprintf(stderr, "\r\033[Kaudited %zu/%zu (%.0f%%), %.0f images/s, %zu blocked, %zu review, %zu errors, ETA %02d:%02d%s",
		done, a->todo.n, a->todo.n ? 100.0 * (double)done / (double)a->todo.n : 100.0, rate,
		atomic_load(&a->blocked), atomic_load(&a->review), atomic_load(&a->failed), (int)eta / 60,
		(int)eta % 60, final ? "\n" : "");
}

/* ---- the steps of a run */

enum { MAX_LISTS = 16 };

/* What the command line asked for. */
struct audit_args {
	const char *registry, *out_path, *lists[MAX_LISTS];
	int resume, nlists, hash_only, regions;
	long jobs;
	char **paths; /* the folders and files named as arguments */
	int npaths;
};

/* Takes one option into `args`; returns an exit code (LK_EXIT_OK to go on). */
static int take_option(struct audit_args *args, int opt, const char *arg)
{
	switch (opt) {
	case 'o': args->out_path = arg; break;
	case 'R': args->resume = 1; break;
	case LK_CLI_OPT_HASH_ONLY: args->hash_only = 1; break;
	case LK_CLI_OPT_REGIONS:
		if (lk_cli_parse_regions("audit", arg, &args->regions))
			return LK_EXIT_USAGE;
		break;
	case 'r': args->registry = arg; break;
	case 'f':
		if (args->nlists == MAX_LISTS) {
			fprintf(stderr, "likeness audit: at most %d --files-from\n", MAX_LISTS);
			return LK_EXIT_USAGE;
		}
		args->lists[args->nlists++] = arg;
		break;
	case 'j': {
		unsigned long long v;
		if (lk_cli_parse_size(arg, 0, &v) || v < 1 || v > 256) {
			fprintf(stderr, "likeness audit: --jobs needs 1..256, got '%s'\n", arg);
			return LK_EXIT_USAGE;
		}
		args->jobs = (long)v;
		break;
	}
	default: return LK_EXIT_USAGE; /* getopt_long has said what was wrong */
	}
	return LK_EXIT_OK;
}

/* Reads the command line; returns an exit code (LK_EXIT_OK to go on). */
static int parse_args(struct audit_args *args, int argc, char **argv)
{
	static const struct option options[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "resume", no_argument, NULL, 'R' },
		{ "files-from", required_argument, NULL, 'f' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "registry", required_argument, NULL, 'r' },
		{ "hash-only", no_argument, NULL, LK_CLI_OPT_HASH_ONLY },
		{ "regions", required_argument, NULL, LK_CLI_OPT_REGIONS },
		{ NULL, 0, NULL, 0 },
	};
	*args = (struct audit_args){ .jobs = sysconf(_SC_NPROCESSORS_ONLN) };
	int opt, rc;
	while ((opt = getopt_long(argc, argv, "o:j:r:", options, NULL)) != -1)
		if ((rc = take_option(args, opt, optarg)) != LK_EXIT_OK)
			return rc;
	args->paths = argv + optind;
	args->npaths = argc - optind;
	if (args->resume && !args->out_path) {
		fputs("likeness audit: --resume needs --out FILE\n", stderr);
		return LK_EXIT_USAGE;
	}
	if (args->npaths <= 0 && args->nlists == 0) {
		fputs("likeness audit: nothing to audit (see likeness audit --help)\n", stderr);
		return LK_EXIT_USAGE;
	}
	return LK_EXIT_OK;
}

/* From here on an interrupt is an orderly stop, even while the model loads. SA_RESTART: an
 * image being read when it comes (a slow disk, a pipe) is read to its end and recorded, not
 * failed with EINTR, which --resume would then take as audited. */
static void stop_cleanly_on_interrupt(void)
{
	struct sigaction sa = { .sa_handler = on_interrupt, .sa_flags = SA_RESTART };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Every image the arguments and lists name, in their order. Returns nonzero when some folder
 * or list could not be read (reported; the rest is still audited). */
static int collect_paths(struct paths *all, const struct audit_args *args)
{
	int input_error = 0;
	for (int i = 0; i < args->npaths; i++)
		input_error |= lk_cli_walk(args->paths[i], push_file, all) != 0;
	for (int i = 0; i < args->nlists; i++)
		input_error |= read_list(all, args->lists[i]) != 0;
	return input_error;
}

/* With --resume, drops from `todo` the images the output already holds (their paths are kept
 * in `done`). Returns an exit code (LK_EXIT_OK to go on). */
static int skip_audited(struct paths *todo, struct paths *done, const struct audit_args *args)
{
	if (args->resume && load_done(done, args->out_path) != 0) {
		fprintf(stderr, "likeness audit: cannot resume from %s: %s\n", args->out_path, strerror(errno));
		return LK_EXIT_INPUT;
	}
	size_t kept = 0;
	for (size_t i = 0; i < todo->n; i++) {
		if (done->n && bsearch(&todo->v[i], done->v, done->n, sizeof *done->v, cmp_str)) {
			free(todo->v[i]);
			continue;
		}
		todo->v[kept++] = todo->v[i]; /* compact in place */
	}
	todo->n = kept;
	if (done->n)
		fprintf(stderr, "likeness audit: resuming: %zu image(s) already audited, %zu to go\n", done->n, todo->n);
	return LK_EXIT_OK;
}

/* Opens the registry (with the model unless --hash-only), then the output, which is created
 * only once the registry is known to open. Returns an exit code (LK_EXIT_OK to go on). */
static int open_registry_and_output(struct audit *a, const struct audit_args *args)
{
	const int exit_code = lk_cli_open_registry_embedding(&a->reg, args->registry, args->hash_only);
	a->check = (lk_check_options)LK_CHECK_OPTIONS_INIT;
	a->check.hash_only = args->hash_only;
	a->check.regions = args->regions;
	if (exit_code != LK_EXIT_OK)
		return exit_code;
	if (args->out_path && !(a->out = fopen(args->out_path, args->resume ? "a" : "w"))) {
		fprintf(stderr, "likeness audit: %s: %s\n", args->out_path, strerror(errno));
		return LK_EXIT_FAILURE;
	}
	return LK_EXIT_OK;
}

/* Audits a->todo on up to `jobs` threads (on this one if none can be started), showing progress
 * on a terminal, until all are done or an interrupt stops them. Returns the number of threads
 * asked for (no more than there are images), which the summary reports. */
static long audit_on_threads(struct audit *a, long jobs, double started)
{
	const int tty = isatty(2);
	if (jobs > (long)a->todo.n && a->todo.n > 0)
		jobs = (long)a->todo.n;
	pthread_t *threads = calloc((size_t)jobs, sizeof *threads);
	long started_threads = 0;
	for (long t = 0; threads && t < jobs; t++)
		started_threads += pthread_create(&threads[t], NULL, worker, a) == 0;
	if (started_threads == 0)
		worker(a);
	while (tty && atomic_load(&a->done) < a->todo.n && !interrupted) {
		progress(a, started, 0);
		usleep(200000);
	}
	for (long t = 0; t < started_threads; t++)
		pthread_join(threads[t], NULL);
	free(threads);
	if (tty)
		progress(a, started, 1);
	return jobs;
}

static void print_summary(struct audit *a, double started, long jobs)
{
	const double secs = now_s() - started;
	const size_t n = atomic_load(&a->done);
	fprintf(stderr, "likeness audit: %zu image(s) in %.1f s (%.0f images/s, %ld thread(s)): %zu blocked, "
		"%zu review, %zu allowed, %zu unreadable\n", n, secs, secs > 0 ? (double)n / secs : 0.0, jobs,
		atomic_load(&a->blocked), atomic_load(&a->review),
		n - atomic_load(&a->blocked) - atomic_load(&a->review) - atomic_load(&a->failed), atomic_load(&a->failed));
}

/* The run's exit code, once the output is closed. A failed write outranks everything (the
 * output cannot be trusted), then an interrupt (the run is incomplete), then the verdicts. */
static int exit_status(const struct audit *a, int input_error)
{
	if (a->write_error) {
		fputs("likeness audit: writing the output failed\n", stderr);
		return LK_EXIT_FAILURE;
	}
	if (interrupted) {
		fprintf(stderr, "likeness audit: interrupted; run again with --resume to continue\n");
		return LK_EXIT_INTERRUPTED;
	}
	return atomic_load(&a->blocked) ? LK_EXIT_BLOCKED
	       : atomic_load(&a->failed) || input_error ? LK_EXIT_INPUT
	       : atomic_load(&a->review) ? LK_EXIT_REVIEW : LK_EXIT_OK;
}

/* Audits the images to do, prints the summary and closes the output; returns the exit code. */
static int run_audit(struct audit *a, long jobs, int input_error)
{
	pthread_mutex_init(&a->out_lock, NULL);
	const double started = now_s();
	jobs = audit_on_threads(a, jobs, started);
	print_summary(a, started, jobs);
	if (a->out != stdout && fclose(a->out) != 0)
		a->write_error = 1;
	const int exit_code = exit_status(a, input_error);
	pthread_mutex_destroy(&a->out_lock);
	return exit_code;
}

static void free_paths(struct paths *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

int lk_cli_audit(int argc, char **argv)
{
	struct audit_args args;
	int exit_code = parse_args(&args, argc, argv);
	if (exit_code != LK_EXIT_OK)
		return exit_code;
	stop_cleanly_on_interrupt();
	struct audit a = { .out = stdout };
	struct paths done = { 0 };
	const int input_error = collect_paths(&a.todo, &args);
	exit_code = skip_audited(&a.todo, &done, &args);
	if (exit_code == LK_EXIT_OK)
		exit_code = open_registry_and_output(&a, &args);
	if (exit_code == LK_EXIT_OK)
		exit_code = run_audit(&a, args.jobs, input_error);
	if (a.reg)
		lk_registry_close(a.reg);
	free_paths(&a.todo);
	free_paths(&done);
	return exit_code;
}
