/* bench_identity: does likeness recognise a character in a picture it was not given? The
 * identity track (game characters in other poses and directions, by their own artists) and
 * the concept track (an emoji drawn by another vendor), each queried on white and painted into
 * full-bleed scenes as a generator paints them, against registries of 1, 3 and 8 references
 * per character, with look-alike negatives (unregistered franchises of the same games) and
 * empty scenes. Every way of deciding per character is measured on a split by character with
 * one whole source held out (bench/identity_data.c).
 *
 *   bench_identity --identity DIR [--seed S] [--held-out SOURCE] [--concepts N] [--empty N]
 *                  [--threads N] [--examples DIR] [--cache DIR] [--no-product | --calibration-only]
 *                  [--whiten N] --out DIR CORPUS_DIR
 *
 * Each track is measured three times: every scoring rule studied from the descriptions alone
 * (identity_eval.c), then the rule the library ships, through the library itself
 * (identity_product.c), then its calibration per character (identity_calibration.c).
 * --no-product leaves out the last two, --calibration-only the first two. --whiten N then projects
 * every description onto N directions learned from the train split (identity_whiten.c) and
 * studies the rules once more, as track "<track>-lda<N>".
 *
 * --cache keeps each track's descriptions in DIR/<track>.cache and reuses them when they were
 * made from the same pictures, seeds and embedder (describing takes minutes; measuring,
 * seconds).
 *
 * --identity names bench/identity_corpus.sh's folder (the game characters), CORPUS_DIR
 * bench/corpus.sh's (characters/: the emoji, photos/: the scenes' photographs). Writes
 * OUT/identity.md (the tables), OUT/identity.tsv (every measure, validation and test) and
 * OUT/split.tsv (each character's split). Exit status 0, 2 for wrong arguments, 1 on failure. */
#include "identity.h"
#include "stats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: bench_identity --identity DIR [--seed S] [--held-out SOURCE] [--concepts N] "
			"[--empty N] [--threads N] [--examples DIR] [--cache DIR] [--no-product | --calibration-only] "
			"[--whiten N] --out DIR CORPUS_DIR\n");
	return 2;
}

static int number(const char *text, long max, long *out)
{
	char *end;
	errno = 0;
	const long v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

static FILE *open_out(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "bench_identity: cannot write %s: %s\n", path, strerror(errno));
	return f;
}

int main(int argc, char **argv)
{
	long seed = 20261202, concepts = 300, empty = 600, threads = sysconf(_SC_NPROCESSORS_ONLN), whiten = 0;
	const char *held_out = "freedroid", *out = NULL, *examples = NULL, *corpus = NULL, *cache = NULL,
		   *identity = NULL;
	int product = 1, study = 1;
	for (int i = 1; i < argc; i++) {
		const int more = i + 1 < argc;
		if (!strcmp(argv[i], "--seed") && more) {
			if (number(argv[++i], 2147483647, &seed) || !seed)
				return usage();
		} else if (!strcmp(argv[i], "--concepts") && more) {
			if (number(argv[++i], 100000, &concepts))
				return usage();
		} else if (!strcmp(argv[i], "--whiten") && more) {
			if (number(argv[++i], LK_EMBEDDING_DIM, &whiten) || whiten < 1)
				return usage();
		} else if (!strcmp(argv[i], "--empty") && more) {
			if (number(argv[++i], 100000, &empty))
				return usage();
		} else if (!strcmp(argv[i], "--threads") && more) {
			if (number(argv[++i], 256, &threads) || !threads)
				return usage();
		} else if (!strcmp(argv[i], "--held-out") && more)
			held_out = argv[++i];
		else if (!strcmp(argv[i], "--out") && more)
			out = argv[++i];
		else if (!strcmp(argv[i], "--examples") && more)
			examples = argv[++i];
		else if (!strcmp(argv[i], "--cache") && more)
			cache = argv[++i];
		else if (!strcmp(argv[i], "--identity") && more)
			identity = argv[++i];
		else if (!strcmp(argv[i], "--no-product"))
			product = 0;
		else if (!strcmp(argv[i], "--calibration-only"))
			study = 0;
		else if (argv[i][0] != '-' && !corpus)
			corpus = argv[i];
		else
			return usage();
	}
	if (!out || !corpus || !identity)
		return usage();
	if (mkdir(out, 0755) && errno != EEXIST) {
		fprintf(stderr, "bench_identity: cannot make %s: %s\n", out, strerror(errno));
		return 1;
	}
	const char *const dirs[2] = { examples, cache };
	for (int d = 0; d < 2; d++)
		if (dirs[d] && mkdir(dirs[d], 0755) && errno != EEXIST) {
			fprintf(stderr, "bench_identity: cannot make %s: %s\n", dirs[d], strerror(errno));
			return 1;
		}
	lk_embedder *e = NULL;
	if (VIPS_INIT(argv[0]) || bench_edits_init() || lk_init() != LK_OK || lk_embedder_open(&e, NULL) != LK_OK) {
		fprintf(stderr, "bench_identity: cannot start: %s%s\n", vips_error_buffer(), lk_error_detail());
		return 1;
	}
	id_photos photos;
	id_track tracks[2];
	int n_tracks = 0, rc = 0;
	if (id_photos_load(&photos, corpus))
		return 1;
	if (id_track_identity(&tracks[n_tracks], identity, (unsigned)seed, held_out) == 0)
		n_tracks++;
	else
		rc = 1;
	if (!rc && concepts > 0) {
		if (id_track_concept(&tracks[n_tracks], corpus, (unsigned)seed, (int)concepts) == 0)
			n_tracks++;
		else
			rc = 1;
	}
	/* Every track adds its worst misses to misses.md: started empty here. */
	FILE *misses = rc ? NULL : open_out(out, "misses.md");
	if (misses) {
		fprintf(misses, "# The worst misses of the character model (test split)\n\n");
		if (fclose(misses))
			rc = 1;
	}
	FILE *md = rc ? NULL : open_out(out, "identity.md"), *tsv = md ? open_out(out, "identity.tsv") : NULL,
	     *split = tsv ? open_out(out, "split.tsv") : NULL;
	if (!split)
		rc = 1;
	else
		fprintf(tsv, "track\tsplit\tk\tqueries\tmethod\tbeta\tqueries_n\tnegatives\trecall_1pct\trecall_0.1pct\t"
			     "recall_at_1\tmicro_ap\twrong_character_1pct\tfranchise_1pct\tfranchise_0.1pct\t"
			     "wrong_franchise_1pct\theld_out_1pct\theld_out_franchise_1pct\n");
	for (int i = 0; !rc && i < n_tracks; i++) {
		id_track *t = &tracks[i];
		const double t0 = bench_wall_s();
		char cached[4096] = "";
		if (cache)
			snprintf(cached, sizeof cached, "%s/%s.cache", cache, t->name);
		if (id_track_add_empty(t, (int)empty, (unsigned)seed + (unsigned)i)) {
			rc = 1;
			break;
		}
		if (!cache || id_cache_load(t, e, cached)) {
			if (id_describe(t, &photos, e, (int)threads, examples)) {
				rc = 1;
				break;
			}
			if (cache && id_cache_save(t, e, cached))
				fprintf(stderr, "bench_identity: could not write %s\n", cached);
		} else if (examples && id_examples(t, &photos, examples))
			fprintf(stderr, "bench_identity: could not draw the example scenes: %s\n", vips_error_buffer());
		int failed = 0;
		for (int j = 0; j < t->n_images; j++)
			failed += !t->images[j].ok;
		fprintf(stderr, "bench_identity: %s: %d pictures described in %.0f s, %d failed\n", t->name, t->n_images,
			bench_wall_s() - t0, failed);
		id_track_write_split(t, split);
		if ((study && id_evaluate(t, md, tsv)) || (study && product && id_product(t, e, md, out)) ||
		    (product && id_calibration(t, e, md)))
			rc = 1;
		if (!rc && whiten) {
			/* Last: the projection replaces the descriptions (a cache was saved before). */
			char name[64];
			snprintf(name, sizeof name, "%s-lda%ld", t->name, whiten);
			const char *own = t->name;
			t->name = name;
			if (id_whiten(t, (int)whiten, md) || id_evaluate(t, md, tsv))
				rc = 1;
			t->name = own;
		}
		if (failed)
			fprintf(md, "%d of the track's %d pictures could not be described and were left out.\n\n", failed,
				t->n_images);
	}
	for (int i = 0; i < n_tracks; i++)
		id_track_free(&tracks[i]);
	id_photos_free(&photos);
	if (md && fclose(md))
		rc = 1;
	if (tsv && fclose(tsv))
		rc = 1;
	if (split && fclose(split))
		rc = 1;
	lk_embedder_close(e);
	vips_shutdown();
	return rc;
}
