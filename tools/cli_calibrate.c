/* likeness calibrate: embedding (and region) thresholds for a target false-positive rate, from
 * images known not to copy any registered character. */
#include "tools/cli.h"
#include "likeness.h"

#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char lk_cli_calibrate_usage[] =
	"usage: likeness calibrate [options] NEGATIVES...\n"
	"\n"
	"Sets the registry's embedding thresholds from images known not to copy any registered\n"
	"character (generated images a person has cleared, unrelated art; files or folders): the\n"
	"copy threshold so that at most --copy-fpr of them would be blocked by the embedding, the\n"
	"similar threshold so that at most --similar-fpr would be sent to review, and the character\n"
	"threshold (the character model, likeness.h lk_character_decision) at --similar-fpr too, with\n"
	"--per-character S each character held S times higher or lower by how close these images come\n"
	"to it (lk_registry_calibrate_characters); their highest scores are kept for the \"1 in N\n"
	"unrelated pictures\" estimate. A dry run shows the character scores before that. Prints the curve\n"
	"it used and the negatives that came closest, with the reference each resembles. The\n"
	"thresholds hold for the registry as it is: calibrate again after large changes.\n"
	"With --regions N the region thresholds are set the same way from the best lead (a window's\n"
	"similarity less its similarity to the next character) of N windows of each negative (use\n"
	"the N that checks will use; each window costs a CNN pass).\n"
	"\n"
	"options:\n"
	"  --copy-fpr RATE       false positives allowed at the copy threshold (default 0.001)\n"
	"  --similar-fpr RATE    false positives allowed at the similar threshold (default 0.01)\n"
	"  --per-character S     0..1: how far each character's threshold follows its own negatives\n"
	"                        (default 0, one threshold for all: README, \"Characters\")\n"
	"  --dry-run             print the thresholds, leave the registry as it is\n"
	LK_CLI_REGIONS_HELP
	"  -j, --jobs N          threads (default: the number of cores)\n"
	"  -r, --registry DIR    the registry (default: $LIKENESS_REGISTRY)\n"
	"\n"
	"At least 1/RATE negatives are needed for each rate (1,000 for 0.1%).\n"
	"Exit status: 0 done; 2 wrong arguments or too few negatives; 3 some image could not be read\n"
	"(the others were used) or the registry has no embeddings; 4 failure.\n";

enum { OPT_COPY_FPR = 3000, OPT_SIMILAR_FPR, OPT_DRY_RUN, OPT_PER_CHARACTER };

/* The signals calibrated: the whole image, the best of its windows, the character model. */
enum { WHOLE, REGION, CHARACTER, SIGNALS };

struct negative {
	char *path;
	float similarity[SIGNALS]; /* the region's is its best window's lead, the character's its best
	                              character score; -2 (-3 for a character score): not measured */
	int64_t reference[SIGNALS];
	lk_embedding *whole;       /* the image's embedding, which the character calibration needs */
	int ok;
};

struct run {
	lk_registry *reg;
	lk_embedder *embedder;
	struct negative *v;
	size_t n, cap;
	int regions;
	atomic_size_t next;
	atomic_int failed;
};

static int push_file(const char *file, void *ctx)
{
	struct run *r = ctx;
	if (r->n == r->cap) {
		const size_t cap = r->cap ? r->cap * 2 : 1024;
		struct negative *v = realloc(r->v, cap * sizeof *v);
		if (!v)
			return -1;
		r->v = v;
		r->cap = cap;
	}
	if (!(r->v[r->n].path = strdup(file)))
		return -1;
	r->v[r->n].ok = 0;
	r->v[r->n].whole = NULL;
	r->n++;
	return 0;
}

static void *worker(void *arg)
{
	struct run *r = arg;
	for (size_t i; (i = atomic_fetch_add(&r->next, 1)) < r->n;) {
		struct negative *neg = &r->v[i];
		lk_embedding whole, parts[LK_MAX_REGIONS];
		lk_region places[LK_MAX_REGIONS];
		int n_parts = 0;
		int rc = lk_embed_regions_file(&whole, parts, places, &n_parts, r->embedder, neg->path, r->regions, NULL);
		if (rc == LK_OK)
			rc = lk_registry_best_similarity(&neg->similarity[WHOLE], &neg->reference[WHOLE], r->reg, &whole);
		neg->similarity[REGION] = -2;
		neg->reference[REGION] = -1;
		/* Below any score: a negative no character could be scored for flags nothing. */
		neg->similarity[CHARACTER] = -3;
		neg->reference[CHARACTER] = -1;
		lk_character_decision d;
		if (rc == LK_OK)
			rc = lk_registry_character_score(&d, r->reg, &whole);
		if (rc == LK_OK && d.character[0]) {
			neg->similarity[CHARACTER] = d.score;
			neg->reference[CHARACTER] = d.n_nearest ? d.nearest[0] : -1;
		}
		for (int k = 0; k < n_parts && rc == LK_OK; k++) {
			float lead, s;
			int64_t ref;
			rc = lk_registry_region_lead(&lead, &s, &ref, r->reg, &parts[k]);
			if (rc == LK_OK && lead > neg->similarity[REGION]) {
				neg->similarity[REGION] = lead;
				neg->reference[REGION] = ref;
			}
		}
		if (rc == LK_OK && !(neg->whole = malloc(sizeof whole)))
			rc = LK_ENOMEM;
		if (rc != LK_OK) {
			lk_cli_report(rc);
			atomic_fetch_add(&r->failed, 1);
			continue;
		}
		*neg->whole = whole;
		neg->ok = 1;
	}
	return NULL;
}

static int by_whole(const void *a, const void *b)
{
	const struct negative *x = a, *y = b;
	return (x->similarity[WHOLE] < y->similarity[WHOLE]) - (x->similarity[WHOLE] > y->similarity[WHOLE]);
}

static int by_region(const void *a, const void *b)
{
	const struct negative *x = a, *y = b;
	return (x->similarity[REGION] < y->similarity[REGION]) - (x->similarity[REGION] > y->similarity[REGION]);
}

static int by_character(const void *a, const void *b)
{
	const struct negative *x = a, *y = b;
	return (x->similarity[CHARACTER] < y->similarity[CHARACTER]) -
	       (x->similarity[CHARACTER] > y->similarity[CHARACTER]);
}

/* The lowest threshold that at most floor(rate * n) of the n sorted scores reach. */
static float threshold_for(const struct negative *sorted, size_t n, int signal, double rate)
{
	const size_t allowed = (size_t)floor(rate * (double)n);
	if (allowed >= n)
		return -1;
	const float t = nextafterf(sorted[allowed].similarity[signal], INFINITY);
	if (signal == REGION) /* a lead; -2 marks an image without windows */
		return t > 2 ? 2 : t > 0 ? t : nextafterf(0, 1);
	if (signal == CHARACTER) /* a score, -2..2 */
		return t > 2 ? 2 : t < -2 ? -2 : t;
	return t > 1 ? 1 : t;
}

static size_t reaching(const struct negative *sorted, size_t n, int signal, float t)
{
	size_t k = 0;
	while (k < n && sorted[k].similarity[signal] >= t)
		k++;
	return k;
}

/* Sorts the negatives by one signal, prints its curve and closest negatives, and chooses its
 * thresholds. */
static void calibrate_signal(float *copy, float *similar, struct negative *v, size_t n, int signal,
			     double copy_fpr, double similar_fpr)
{
	qsort(v, n, sizeof *v, signal == WHOLE ? by_whole : signal == REGION ? by_region : by_character);
	*copy = threshold_for(v, n, signal, copy_fpr);
	*similar = threshold_for(v, n, signal, similar_fpr);
	static const char *const whats[SIGNALS] = { "embedding", "region", "character" };
	static const char *const measures[SIGNALS] = { "similarity", "lead", "score" };
	const char *what = whats[signal];
	printf("%s: negatives: %zu; highest %s %.3f\n\nthreshold  negatives at or above\n", what, n, measures[signal],
	       (double)v[0].similarity[signal]);
	/* Similarities matter from 0.5 up; leads (region) from 0.05 to 0.6; character scores
	 * from -0.1 to 0.4. */
	for (int k = 10; k <= 20; k++) {
		const float t = signal == WHOLE ? (float)k / 20 : signal == REGION ? (float)(k - 9) / 20 : (float)(k - 12) / 20;
		const size_t at = reaching(v, n, signal, t);
		printf("  %.2f     %6zu (%.2f%%)\n", (double)t, at, 100.0 * (double)at / (double)n);
	}
	printf("\nclosest negatives:\n");
	for (size_t i = 0; i < n && i < 5; i++)
		printf("  %.3f  reference %lld  %s\n", (double)v[i].similarity[signal], (long long)v[i].reference[signal],
		       v[i].path);
	if (signal == CHARACTER) {
		printf("\none character threshold for all would be %.4f (%zu negatives at or above, at most %g "
		       "allowed)\n\n", (double)*similar, reaching(v, n, signal, *similar), similar_fpr);
		return;
	}
	printf("\n%s copy threshold:    %.4f (%zu negatives at or above, at most %g allowed)\n", what, (double)*copy,
	       reaching(v, n, signal, *copy), copy_fpr);
	printf("%s similar threshold: %.4f (%zu negatives at or above, at most %g allowed)\n\n", what,
	       (double)*similar, reaching(v, n, signal, *similar), similar_fpr);
}

static int parse_rate(const char *text, double *out)
{
	char *end;
	*out = strtod(text, &end);
	return *end || !(*out > 0 && *out < 1);
}

int lk_cli_calibrate(int argc, char **argv)
{
	static const struct option options[] = {
		{ "copy-fpr", required_argument, NULL, OPT_COPY_FPR },
		{ "similar-fpr", required_argument, NULL, OPT_SIMILAR_FPR },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "per-character", required_argument, NULL, OPT_PER_CHARACTER },
		{ "regions", required_argument, NULL, LK_CLI_OPT_REGIONS },
		{ "jobs", required_argument, NULL, 'j' },
		{ "registry", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *registry = NULL;
	double copy_fpr = 0.001, similar_fpr = 0.01;
	int dry_run = 0, regions = 0, opt;
	float per_character = LK_CHARACTER_PER_CHARACTER;
	long jobs = sysconf(_SC_NPROCESSORS_ONLN);
	while ((opt = getopt_long(argc, argv, "j:r:", options, NULL)) != -1) {
		unsigned long long v;
		switch (opt) {
		case OPT_COPY_FPR:
		case OPT_SIMILAR_FPR:
			if (parse_rate(optarg, opt == OPT_COPY_FPR ? &copy_fpr : &similar_fpr)) {
				fprintf(stderr, "likeness calibrate: a rate is a number between 0 and 1, not '%s'\n", optarg);
				return LK_EXIT_USAGE;
			}
			break;
		case OPT_DRY_RUN: dry_run = 1; break;
		case OPT_PER_CHARACTER: {
			char *end;
			const double v = strtod(optarg, &end);
			if (*end || end == optarg || !(v >= 0 && v <= 1)) {
				fprintf(stderr, "likeness calibrate: --per-character needs a number from 0 to 1, not '%s'\n",
					optarg);
				return LK_EXIT_USAGE;
			}
			per_character = (float)v;
			break;
		}
		case LK_CLI_OPT_REGIONS:
			if (lk_cli_parse_regions("calibrate", optarg, &regions))
				return LK_EXIT_USAGE;
			break;
		case 'r': registry = optarg; break;
		case 'j':
			if (lk_cli_parse_size(optarg, 0, &v) || v < 1 || v > 256) {
				fprintf(stderr, "likeness calibrate: --jobs needs 1..256, got '%s'\n", optarg);
				return LK_EXIT_USAGE;
			}
			jobs = (long)v;
			break;
		default: return LK_EXIT_USAGE;
		}
	}
	if (similar_fpr < copy_fpr) {
		fputs("likeness calibrate: --similar-fpr must be at least --copy-fpr (review catches more)\n", stderr);
		return LK_EXIT_USAGE;
	}
	if (optind >= argc) {
		fputs("likeness calibrate: no negatives given (see likeness calibrate --help)\n", stderr);
		return LK_EXIT_USAGE;
	}
	struct run r = { .regions = regions };
	int input_error = 0;
	for (int i = optind; i < argc; i++)
		if (lk_cli_walk(argv[i], push_file, &r) != 0)
			input_error = 1;
	const size_t needed = (size_t)ceil(1 / copy_fpr - 1e-9);
	int exit_code = LK_EXIT_OK;
	if (r.n < needed) {
		fprintf(stderr, "likeness calibrate: %zu negative(s); a rate of %g needs at least %zu (pass a larger "
			"--copy-fpr or more images)\n", r.n, copy_fpr, needed);
		exit_code = LK_EXIT_USAGE;
	}
	if (exit_code == LK_EXIT_OK)
		exit_code = lk_cli_open_registry_embedding(&r.reg, registry, 0);
	if (exit_code == LK_EXIT_OK && lk_cli_embedder(&r.embedder) != LK_OK)
		exit_code = LK_EXIT_FAILURE;
	if (exit_code == LK_EXIT_OK) {
		pthread_t t[256];
		if (jobs > (long)r.n)
			jobs = (long)r.n;
		for (long i = 0; i < jobs; i++)
			pthread_create(&t[i], NULL, worker, &r);
		for (long i = 0; i < jobs; i++)
			pthread_join(t[i], NULL);
		size_t n = 0;
		for (size_t i = 0; i < r.n; i++)
			if (r.v[i].ok && r.v[i].similarity[WHOLE] > -2)
				r.v[n++] = r.v[i];
			else {
				free(r.v[i].path);
				free(r.v[i].whole);
			}
		r.n = n;
		if (atomic_load(&r.failed))
			input_error = 1;
		if (!n) {
			fputs("likeness calibrate: no scores: the registry has no references with embeddings (add them "
			      "without --hash-only)\n", stderr);
			exit_code = LK_EXIT_INPUT;
		} else if (n < needed) {
			fprintf(stderr, "likeness calibrate: only %zu negative(s) could be read; %zu needed\n", n, needed);
			exit_code = LK_EXIT_USAGE;
		}
	}
	if (exit_code == LK_EXIT_OK) {
		float copy, similar, region_copy = 0, region_similar = 0;
		calibrate_signal(&copy, &similar, r.v, r.n, WHOLE, copy_fpr, similar_fpr);
		if (regions)
			calibrate_signal(&region_copy, &region_similar, r.v, r.n, REGION, copy_fpr, similar_fpr);
		/* The character model sends to review (or blocks where a character says so) at the
		 * rate a review is allowed. The curve printed is of the scores as they stand. */
		float unused, character;
		calibrate_signal(&unused, &character, r.v, r.n, CHARACTER, copy_fpr, similar_fpr);
		lk_embedding *wholes = malloc(sizeof *wholes * r.n);
		for (size_t i = 0; wholes && i < r.n; i++) {
			wholes[i] = *r.v[i].whole;
			free(r.v[i].whole); /* one copy of each at a time: they are 7 KB apiece */
			r.v[i].whole = NULL;
		}
		if (dry_run) {
			printf("dry run: the registry is unchanged\n");
		} else {
			int rc = wholes ? lk_registry_set_embedding_thresholds(r.reg, copy, similar) : LK_ENOMEM;
			if (rc == LK_OK && regions)
				rc = lk_registry_set_region_thresholds(r.reg, region_copy, region_similar);
			size_t flagged = 0;
			if (rc == LK_OK)
				rc = lk_registry_calibrate_characters(&character, &flagged, r.reg, wholes, r.n, similar_fpr,
								      per_character);
			if (rc != LK_OK) {
				lk_cli_report(rc);
				exit_code = LK_EXIT_FAILURE;
			} else {
				printf("character threshold: %.4f%s (%zu negatives flagged, at most %g allowed)\n",
				       (double)character, per_character > 0 ? ", each character held to its own from there" : "",
				       flagged, similar_fpr);
				printf("thresholds set\n");
			}
		}
		free(wholes);
	}
	for (size_t i = 0; i < r.n; i++) {
		free(r.v[i].path);
		free(r.v[i].whole);
	}
	free(r.v);
	if (r.reg)
		lk_registry_close(r.reg);
	if (fflush(stdout) != 0 && exit_code == LK_EXIT_OK)
		exit_code = LK_EXIT_FAILURE;
	return exit_code == LK_EXIT_OK && input_error ? LK_EXIT_INPUT : exit_code;
}
