/* bench_suite: detection quality on real art, likeness beside other tools, in one run.
 *
 *   bench_suite [--characters N] [--distractors M] [--photos P] [--small] [--threads T]
 *               [--seed S] [--out DIR] [--floors FILE] [--examples DIR] CORPUS_DIR
 *
 * CORPUS_DIR is what bench/corpus.sh builds. Of its characters (the same emoji by several
 * vendors), N are drawn at random from the seed; each is registered by one drawing (Fluent's
 * where there is one, else Twemoji's, Noto's, OpenMoji's), rendered at 512x512 on white.
 * Queries:
 *   - copy track: the reference under each of bench/edits.h's edits, one query per edit;
 *   - character track: every other vendor's drawing of the character, unedited;
 *   - negatives: M distractor drawings and P photographs, each once as it is and once under
 *     an edit drawn from the same list.
 * Every query is scored against every reference by each method (bench/suite_score.c): likeness
 * PDQ, likeness embedding, likeness fused, and each peer of bench/peers.h. Thresholds come
 * from the negatives' best scores; recall counts a query whose own character reaches them.
 * --small: 40 characters, 300 distractors, 60 photographs (CI's regression run).
 * --floors FILE: exit 3 when a measure falls below its minimum there (1: any other failure).
 * --examples DIR: the queries made of the first character, as PNG files, to look at. */
#include "suite.h"
#include "suite_report.h"
#include "stats.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const vendors[] = { "fluent", "twemoji", "noto", "openmoji" };
#define N_VENDORS 4

struct character {
	char code[128];
	char *drawing[N_VENDORS]; /* paths, NULL where the vendor has none */
};

static char *join(const char *a, const char *b)
{
	const size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", a, b);
	return p;
}

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of `dir` ending in `suffix`, sorted, appended to *list. */
static int list_files(char ***list, int *n, const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *de;
	const size_t k = strlen(suffix);
	const int first = *n;
	while ((de = readdir(d))) {
		const size_t len = strlen(de->d_name);
		if (len <= k || strcmp(de->d_name + len - k, suffix) || de->d_name[0] == '.')
			continue;
		char **grown = realloc(*list, sizeof **list * (size_t)(*n + 1));
		if (!grown)
			break;
		*list = grown;
		(*list)[(*n)++] = join(dir, de->d_name);
	}
	closedir(d);
	qsort(*list + first, (size_t)(*n - first), sizeof **list, cmp_str);
	return 0;
}

/* Fisher-Yates with the bench's generator, so a seed fixes the draw. */
static void shuffle(void *base, int n, size_t size, unsigned *seed)
{
	char tmp[sizeof(struct character)], *b = base;
	for (int i = n - 1; i > 0; i--) {
		const int j = (int)(bench_rand(seed) % (unsigned)(i + 1));
		memcpy(tmp, b + (size_t)i * size, size);
		memcpy(b + (size_t)i * size, b + (size_t)j * size, size);
		memcpy(b + (size_t)j * size, tmp, size);
	}
}

static int read_characters(struct character **out, const char *corpus)
{
	char *tsv = join(corpus, "characters.tsv");
	FILE *f = tsv ? fopen(tsv, "r") : NULL;
	if (!f) {
		fprintf(stderr, "bench_suite: cannot read %s (build the corpus with bench/corpus.sh)\n", tsv ? tsv : corpus);
		free(tsv);
		return -1;
	}
	free(tsv);
	char line[1024];
	int n = 0;
	struct character *c = NULL;
	while (fgets(line, sizeof line, f)) {
		char code[128];
		if (sscanf(line, "%127[^\t]", code) != 1 || !strcmp(code, "codepoints"))
			continue;
		struct character *grown = realloc(c, sizeof *c * (size_t)(n + 1));
		if (!grown)
			break;
		c = grown;
		memset(&c[n], 0, sizeof c[n]);
		snprintf(c[n].code, sizeof c[n].code, "%s", code);
		for (int v = 0; v < N_VENDORS; v++) {
			char rel[300];
			snprintf(rel, sizeof rel, "characters/%s/%s.svg", code, vendors[v]);
			char *p = join(corpus, rel);
			if (p && exists(p))
				c[n].drawing[v] = p;
			else
				free(p);
		}
		n++;
	}
	fclose(f);
	*out = c;
	return n;
}

static void add(suite *s, item it)
{
	s->items[s->n_items++] = it;
}

int main(int argc, char **argv)
{
	int n_chars = 1 << 30, n_distractors = 1 << 30, n_photos = 1 << 30, threads = 2;
	unsigned seed = 20261129;
	const char *corpus = NULL, *out_dir = NULL, *floors = NULL, *examples = NULL;
	for (int i = 1; i < argc; i++) {
		const int more = i + 1 < argc;
		if (!strcmp(argv[i], "--characters") && more)
			n_chars = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--distractors") && more)
			n_distractors = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--photos") && more)
			n_photos = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--small"))
			n_chars = 40, n_distractors = 300, n_photos = 60;
		else if (!strcmp(argv[i], "--threads") && more)
			threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && more)
			seed = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--out") && more)
			out_dir = argv[++i];
		else if (!strcmp(argv[i], "--floors") && more)
			floors = argv[++i];
		else if (!strcmp(argv[i], "--examples") && more)
			examples = argv[++i];
		else if (argv[i][0] != '-' && !corpus)
			corpus = argv[i];
		else {
			corpus = NULL;
			break;
		}
	}
	if (!corpus || n_chars < 2 || n_distractors < 0 || n_photos < 0 || threads < 1 || !seed) {
		fprintf(stderr, "usage: bench_suite [--characters N>=2] [--distractors M] [--photos P] [--small] "
				"[--threads T] [--seed S>0] [--out DIR] [--floors FILE] [--examples DIR] CORPUS_DIR\n");
		return 2;
	}
	/* The peers get one thread each, like likeness's describing threads. */
	setenv("OPENCV_FOR_THREADS_NUM", "1", 0);
	suite s = { 0 };
	s.examples = examples;
	if (VIPS_INIT(argv[0]) || bench_edits_init() || lk_init() != LK_OK || lk_embedder_open(&s.embedder, NULL) != LK_OK) {
		fprintf(stderr, "bench_suite: %s%s\n", vips_error_buffer(), lk_error_detail());
		return 1;
	}
	struct character *chars = NULL;
	const int total_chars = read_characters(&chars, corpus);
	if (total_chars < 2)
		return 1;
	char **art = NULL, **photos = NULL;
	int n_art = 0, n_all_photos = 0;
	char *dir = join(corpus, "distractors");
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.') {
			char *sub = join(dir, de->d_name);
			list_files(&art, &n_art, sub, ".svg");
			free(sub);
		}
	if (d)
		closedir(d);
	free(dir);
	qsort(art, (size_t)n_art, sizeof *art, cmp_str);
	dir = join(corpus, "photos");
	list_files(&photos, &n_all_photos, dir, ".jpg");
	free(dir);
	if (n_art < 10 || n_all_photos < 10) {
		fprintf(stderr, "bench_suite: %s has %d distractor drawings and %d photographs; bench/corpus.sh makes "
				"thousands\n", corpus, n_art, n_all_photos);
		return 1;
	}
	unsigned r = seed;
	shuffle(chars, total_chars, sizeof *chars, &r);
	shuffle(art, n_art, sizeof *art, &r);
	shuffle(photos, n_all_photos, sizeof *photos, &r);
	n_chars = n_chars < total_chars ? n_chars : total_chars;
	n_distractors = n_distractors < n_art ? n_distractors : n_art;
	n_photos = n_photos < n_all_photos ? n_photos : n_all_photos;

	s.n_characters = n_chars;
	s.n_peers = bench_peer_count();
	s.n_methods = M_PEERS + s.n_peers < SUITE_MAX_METHODS ? M_PEERS + s.n_peers : SUITE_MAX_METHODS;
	s.n_peers = s.n_methods - M_PEERS;
	s.photos = (const char **)photos;
	s.n_photos = n_all_photos;
	s.stickers = (const char **)art;
	s.n_stickers = n_art;
	const size_t cap = (size_t)n_chars * (1 + EDIT_COUNT + N_VENDORS) + 2 * (size_t)(n_distractors + n_photos);
	s.items = calloc(cap, sizeof *s.items);
	s.refs = calloc((size_t)n_chars, sizeof *s.refs);
	if (!s.items || !s.refs)
		return 1;
	for (int c = 0; c < n_chars; c++) {
		int ref = 0;
		while (!chars[c].drawing[ref])
			ref++;
		add(&s, (item){ .kind = ITEM_REFERENCE, .character = c, .path = chars[c].drawing[ref], .edit = -1 });
		for (int e = 0; e < EDIT_COUNT; e++)
			add(&s, (item){ .kind = ITEM_COPY, .character = c, .path = chars[c].drawing[ref], .edit = e,
					.seed = bench_rand(&r) | 1 });
		for (int v = ref + 1; v < N_VENDORS; v++)
			if (chars[c].drawing[v])
				add(&s, (item){ .kind = ITEM_OTHER, .character = c, .path = chars[c].drawing[v], .edit = -1 });
	}
	for (int k = 0; k < n_distractors + n_photos; k++) {
		const char *path = k < n_distractors ? art[k] : photos[k - n_distractors];
		add(&s, (item){ .kind = ITEM_NEGATIVE, .character = -1, .path = path, .edit = -1 });
		add(&s, (item){ .kind = ITEM_NEGATIVE, .character = -1, .path = path,
				.edit = (int)(bench_rand(&r) % EDIT_COUNT), .seed = bench_rand(&r) | 1 });
	}
	for (size_t i = 0; i < s.n_items; i++)
		if (s.items[i].kind == ITEM_REFERENCE)
			s.refs[s.items[i].character] = &s.items[i];

	const double t0 = bench_wall_s();
	if (suite_describe(&s, threads))
		return 1;
	const double described = bench_wall_s() - t0;
	for (int c = 0; c < n_chars; c++)
		if (!s.refs[c]->ok) {
			fprintf(stderr, "bench_suite: the reference %s could not be described\n", s.refs[c]->path);
			return 1;
		}
	if (suite_score(&s)) {
		fprintf(stderr, "bench_suite: scoring failed (out of memory, or no negative could be described)\n");
		return 1;
	}
	size_t counts[4] = { 0 };
	for (size_t i = 0; i < s.n_items; i++)
		counts[s.items[i].kind]++;
	char machine[400];
	bench_machine(machine, sizeof machine);
	printf("bench_suite: %d characters (seed %u), %zu copies, %zu other vendors' drawings, %zu negatives (%d drawings "
	       "and %d photographs, each as it is and edited); %d images could not be made; described in %.0f s on %d "
	       "threads; %s; embedder %s\n\n",
	       n_chars, seed, counts[ITEM_COPY], counts[ITEM_OTHER], counts[ITEM_NEGATIVE], n_distractors, n_photos, s.failed,
	       described, threads, machine, lk_embedder_id(s.embedder));
	const int rc = suite_report(&s, out_dir, floors);
	for (size_t i = 0; i < s.n_items; i++) {
		free(s.items[i].emb);
		free(s.items[i].peer);
	}
	for (int c = 0; c < total_chars; c++)
		for (int v = 0; v < N_VENDORS; v++)
			free(chars[c].drawing[v]);
	for (int k = 0; k < n_art; k++)
		free(art[k]);
	for (int k = 0; k < n_all_photos; k++)
		free(photos[k]);
	free(chars);
	free(art);
	free(photos);
	free(s.items);
	free(s.refs);
	lk_embedder_close(s.embedder);
	return rc < 0 ? 1 : rc ? 3 : 0;
}
