/* bench_speed: how fast likeness checks generated images, beside other tools' hashes, in the
 * same run; and how a check's latency grows with the registry.
 *
 *   bench_speed [--runs N] [--threads 1,2] [--sizes 1000,10000,100000] [--ivf-max N]
 *               [--characters C] [--out DIR] [--images DIR] CORPUS_DIR
 *
 * CORPUS_DIR is bench/corpus.sh's output. Test images: 16 pictures of SPEED_SIDE pixels a side
 * that look generated, a character's fluent drawing at 40-60% of the side over a photo (the
 * .jpg files of CORPUS_DIR/photos, resized) or, without photos, over blurred enlarged
 * distractor art; each held as PNG (libvips' default compression), JPEG (quality 90) and raw
 * RGB pixels. --images DIR also writes them there (NN.png, NN.jpg), to see what was measured.
 *
 * Part 1. A registry (in a temporary folder, removed at the end) of C characters (default 300)
 * of the corpus, each with its fluent drawing rendered to PNG as its image reference, the
 * embedder attached: `likeness check`'s default configuration. likeness rows: lk_check_bytes of
 * the PNG and JPEG, lk_check_pixels of the raw pixels, default options. Peer rows (bench/peers.h,
 * none in a build without OpenCV): the peer's own decoder and hash (raw: its hash of the
 * pixels), then the hash scored against the C references' hashes one by one, as a user
 * without an index would. Each configuration runs on T threads sharing the registry, every
 * thread calling once per image per round, on threads kept for the whole run as a server keeps
 * its workers; the configurations take turns round by round (N rounds, default 13: at least
 * 208 calls each, enough for a p99) so that a noisy machine slows all of them alike, after one
 * untimed round each. images/s: calls / wall time of the rounds;
 * p50 and p99 of the calls' own latencies.
 *
 * Part 2 (speed_registry.c): lk_check_pixels of the raw images, one thread, N rounds, against
 * registries of each --sizes count of synthetic references; exact search, and from 10,000
 * references (up to --ivf-max, default no limit) also the IVF index, interleaved. --sizes ''
 * leaves part 2 out, --threads '' part 1 (the registry and images are made all the same).
 *
 * Output: Markdown tables on stdout; with --out, DIR/speed.tsv (tool, input, threads,
 * images_per_s, p50_ms, p99_ms) and DIR/registry.tsv (references, search, p50_ms, p99_ms).
 * Like the likeness program, it runs with OMP_WAIT_POLICY=PASSIVE unless told otherwise. */
#include "likeness.h"
#include "peers.h"
#include "speed_characters.h"
#include "speed_images.h"
#include "speed_registry.h"
#include "speed_run.h"
#include "stats.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define N_IMAGES 16
#define MAX_LIST 16

enum input { PNG, JPEG, RAW, N_INPUTS };
static const char *const input_name[N_INPUTS] = { "png", "jpeg", "raw" };

struct likeness_ctx {
	lk_registry *reg;
	const struct speed_image *imgs;
	enum input input;
};

static int likeness_call(void *arg, int k)
{
	const struct likeness_ctx *x = arg;
	const struct speed_image *img = &x->imgs[k];
	lk_check_result r;
	int rc;
	if (x->input == RAW) {
		const lk_pixel_view view = { img->rgb, SPEED_SIDE, SPEED_SIDE, SPEED_SIDE * 3, LK_PIXEL_RGB8 };
		rc = lk_check_pixels(&r, x->reg, &view, NULL);
	} else if (x->input == PNG) {
		rc = lk_check_bytes(&r, x->reg, img->png, img->png_len, NULL);
	} else {
		rc = lk_check_bytes(&r, x->reg, img->jpeg, img->jpeg_len, NULL);
	}
	if (rc != LK_OK)
		fprintf(stderr, "bench_speed: likeness, %s, image %d: %s\n", input_name[x->input], k, lk_error_detail());
	return rc != LK_OK;
}

struct peer_ctx {
	int peer;
	const struct speed_image *imgs;
	enum input input;
	const bench_peer_hash *refs; /* one per character */
	int n_refs;
};

static volatile double peer_sink; /* the best scores, read so that no work looks unused */

static int peer_call(void *arg, int k)
{
	const struct peer_ctx *x = arg;
	const struct speed_image *img = &x->imgs[k];
	bench_peer_hash h;
	int rc;
	if (x->input == RAW)
		rc = bench_peer_hash_pixels(&h, x->peer, img->rgb, SPEED_SIDE, SPEED_SIDE, SPEED_SIDE * 3, 3);
	else if (x->input == PNG)
		rc = bench_peer_hash_encoded(&h, x->peer, img->png, img->png_len);
	else
		rc = bench_peer_hash_encoded(&h, x->peer, img->jpeg, img->jpeg_len);
	if (rc != 0) {
		fprintf(stderr, "bench_speed: %s, %s, image %d: hashing failed\n", bench_peer_name(x->peer),
			input_name[x->input], k);
		return 1;
	}
	double best = -1e300;
	for (int i = 0; i < x->n_refs; i++) {
		const double s = bench_peer_score(x->peer, &h, &x->refs[i]);
		best = s > best ? s : best;
	}
	peer_sink = best;
	return 0;
}

/* "1,2,4" into v (each lo..hi); the count, 0 when malformed. */
static int parse_list(long long *v, const char *text, long long lo, long long hi)
{
	int n = 0;
	for (const char *p = text; *p;) {
		char *end;
		errno = 0;
		const long long x = strtoll(p, &end, 10);
		if (end == p || errno || x < lo || x > hi || n == MAX_LIST || (*end && *end != ','))
			return 0;
		v[n++] = x;
		p = *end ? end + 1 : end;
	}
	return n;
}

static void print_load(const char *when)
{
	double load[3];
	if (getloadavg(load, 3) == 3)
		printf("load average %s: %.2f %.2f %.2f\n", when, load[0], load[1], load[2]);
}

/* As the likeness program does (tools/likeness.c): idle OpenMP workers that spin would slow the
 * index searches of a two-core machine. */
static void ensure_passive_openmp(char **argv)
{
	if (getenv("OMP_WAIT_POLICY") || setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0)
		return;
	execv("/proc/self/exe", argv);
}

static FILE *open_tsv(const char *dir, const char *name, const char *header)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		perror(path);
	else
		fprintf(f, "%s\n", header);
	return f;
}

static int write_file(const char *dir, int k, const char *ext, const void *data, size_t len)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%02d.%s", dir, k, ext);
	FILE *f = fopen(path, "wb");
	const int ok = f && fwrite(data, 1, len, f) == len;
	if ((f && fclose(f) != 0) || !ok) {
		perror(path);
		return -1;
	}
	return 0;
}

static int save_images(const char *dir, const struct speed_image *imgs, int n)
{
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		perror(dir);
		return -1;
	}
	for (int k = 0; k < n; k++)
		if (write_file(dir, k, "png", imgs[k].png, imgs[k].png_len) ||
		    write_file(dir, k, "jpg", imgs[k].jpeg, imgs[k].jpeg_len))
			return -1;
	return 0;
}

static const char usage[] = "usage: bench_speed [--runs N] [--threads 1,2] [--sizes 1000,10000,100000] "
			    "[--ivf-max N] [--characters C] [--out DIR] [--images DIR] CORPUS_DIR\n";

int main(int argc, char **argv)
{
	ensure_passive_openmp(argv);
	long long threads[MAX_LIST] = { 1, 2 }, sizes[MAX_LIST] = { 1000, 10000, 100000 }, v[MAX_LIST];
	int n_threads = 2, n_sizes = 3, runs = 13, want = 300;
	size_t ivf_max = (size_t)-1;
	const char *out_dir = NULL, *images_dir = NULL, *corpus = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
		int n = 0;
		if (!strcmp(a, "--runs") && next)
			runs = atoi(argv[++i]);
		else if (!strcmp(a, "--characters") && next)
			want = atoi(argv[++i]);
		else if (!strcmp(a, "--out") && next)
			out_dir = argv[++i];
		else if (!strcmp(a, "--ivf-max") && next && parse_list(v, argv[++i], 0, 10000000) == 1)
			ivf_max = (size_t)v[0];
		else if (!strcmp(a, "--images") && next)
			images_dir = argv[++i];
		else if (!strcmp(a, "--threads") && next && ((n = parse_list(v, argv[++i], 1, SPEED_MAX_THREADS)) || !*argv[i]))
			memcpy(threads, v, sizeof v), n_threads = n;
		else if (!strcmp(a, "--sizes") && next && ((n = parse_list(v, argv[++i], 0, 10000000)) || !*argv[i]))
			memcpy(sizes, v, sizeof v), n_sizes = n;
		else if (a[0] != '-' && !corpus)
			corpus = a;
		else
			corpus = NULL, i = argc;
	}
	if (!corpus || runs < 1 || runs > 100000 || want < 1 || want > 100000) {
		fputs(usage, stderr);
		return 2;
	}
	FILE *speed_tsv = NULL, *registry_tsv = NULL;
	if (out_dir) {
		if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
			perror(out_dir);
			return 1;
		}
		speed_tsv = open_tsv(out_dir, "speed.tsv", "tool\tinput\tthreads\timages_per_s\tp50_ms\tp99_ms");
		registry_tsv = open_tsv(out_dir, "registry.tsv", "references\tsearch\tp50_ms\tp99_ms");
		if (!speed_tsv || !registry_tsv)
			return 1;
	}
	char machine[400], tmp[] = "/tmp/bench_speed.XXXXXX", path[600];
	bench_machine(machine, sizeof machine);
	lk_embedder *embedder = NULL;
	lk_registry *reg = NULL;
	if (lk_init() != LK_OK || lk_embedder_open(&embedder, NULL) != LK_OK || !mkdtemp(tmp)) {
		fprintf(stderr, "bench_speed: %s\n", lk_error_detail());
		return 1;
	}
	snprintf(path, sizeof path, "%s/registry", tmp);
	struct speed_character *chars = calloc((size_t)want, sizeof *chars);
	if (!chars || lk_registry_create(path) != LK_OK || lk_registry_open(&reg, path) != LK_OK ||
	    lk_registry_set_embedder(reg, embedder) != LK_OK) {
		fprintf(stderr, "bench_speed: %s\n", lk_error_detail());
		return 1;
	}
	printf("bench_speed: %s; OMP_WAIT_POLICY=%s\n", machine, getenv("OMP_WAIT_POLICY"));
	print_load("at start");
	double t = bench_wall_s();
	const int n_chars = speed_characters_add(chars, want, reg, corpus);
	if (n_chars < 1)
		return 1;
	const double add_s = bench_wall_s() - t;

	/* The test images draw registered characters, spread over the registry. */
	const char *svgs[N_IMAGES];
	for (int k = 0; k < N_IMAGES; k++)
		svgs[k] = chars[(size_t)k * (size_t)n_chars / N_IMAGES].svg;
	struct speed_image imgs[N_IMAGES];
	int photos = 0;
	if (speed_images_make(imgs, N_IMAGES, corpus, svgs, N_IMAGES, &photos))
		return 1;
	if (images_dir && save_images(images_dir, imgs, N_IMAGES))
		return 1;
	size_t png_bytes = 0, jpeg_bytes = 0;
	for (int k = 0; k < N_IMAGES; k++)
		png_bytes += imgs[k].png_len, jpeg_bytes += imgs[k].jpeg_len;
	printf("registry: %d characters, one fluent reference each (%dpx PNG, added in %.1f s), embedder %s\n",
	       n_chars, SPEED_REFERENCE_SIDE, add_s, lk_embedder_id(embedder));
	printf("test images: %d of %dx%d, characters over %s; PNG %.0f KB, JPEG %.0f KB on average\n", N_IMAGES,
	       SPEED_SIDE, SPEED_SIDE, photos ? "photos" : "blurred distractor art (no photos in the corpus)",
	       (double)png_bytes / N_IMAGES / 1024, (double)jpeg_bytes / N_IMAGES / 1024);

	/* The peers' reference hashes, from the same reference PNGs the registry was given. */
	const int n_peers = bench_peer_count();
	bench_peer_hash *peer_refs = calloc((size_t)(n_peers ? n_peers : 1) * (size_t)n_chars, sizeof *peer_refs);
	int *peer_ok = calloc((size_t)(n_peers ? n_peers : 1), sizeof *peer_ok);
	if (!peer_refs || !peer_ok)
		return 1;
	for (int p = 0; p < n_peers; p++) {
		peer_ok[p] = 1;
		for (int i = 0; i < n_chars && peer_ok[p]; i++)
			peer_ok[p] = bench_peer_hash_encoded(&peer_refs[(size_t)p * n_chars + i], p, chars[i].png,
							     chars[i].png_len) == 0;
		if (!peer_ok[p])
			fprintf(stderr, "bench_speed: %s cannot hash the references: left out\n", bench_peer_name(p));
	}

	/* Every configuration: likeness, then each peer; by input, then thread count. */
	const int n_tools = 1 + n_peers, n_configs = n_tools * N_INPUTS * n_threads;
	struct speed_config *configs = calloc((size_t)(n_configs ? n_configs : 1), sizeof *configs);
	struct likeness_ctx lctx[N_INPUTS];
	struct peer_ctx *pctx = calloc((size_t)(n_peers ? n_peers : 1) * N_INPUTS, sizeof *pctx);
	if (!configs || !pctx)
		return 1;
	int n_used = 0;
	for (int tool = 0; tool < n_tools; tool++) {
		const int p = tool - 1;
		if (p >= 0 && !peer_ok[p])
			continue;
		for (int in = 0; in < N_INPUTS; in++)
			for (int ti = 0; ti < n_threads; ti++) {
				struct speed_config *c = &configs[n_used++];
				c->input = input_name[in];
				c->threads = (int)threads[ti];
				if (p < 0) {
					lctx[in] = (struct likeness_ctx){ reg, imgs, (enum input)in };
					snprintf(c->tool, sizeof c->tool, "likeness");
					c->call = likeness_call;
					c->ctx = &lctx[in];
				} else {
					pctx[p * N_INPUTS + in] = (struct peer_ctx){ p, imgs, (enum input)in,
						peer_refs + (size_t)p * n_chars, n_chars };
					snprintf(c->tool, sizeof c->tool, "%s", bench_peer_name(p));
					c->call = peer_call;
					c->ctx = &pctx[p * N_INPUTS + in];
				}
				if (speed_config_alloc(c, runs, N_IMAGES))
					return 1;
			}
	}
	int max_threads = 0;
	for (int ti = 0; ti < n_threads; ti++)
		max_threads = threads[ti] > max_threads ? (int)threads[ti] : max_threads;
	struct speed_pool *pool = NULL;
	if (n_used && speed_pool_start(&pool, max_threads)) {
		fputs("bench_speed: cannot start the threads\n", stderr);
		return 1;
	}
	for (int i = 0; i < n_used; i++)
		speed_round(pool, &configs[i], N_IMAGES, 0);
	/* Round-robin, each round starting one configuration further on, so that none always runs
	 * right after the same neighbour. */
	for (int round = 0; round < runs; round++)
		for (int j = 0; j < n_used; j++)
			speed_round(pool, &configs[(round + j) % n_used], N_IMAGES, 1);
	speed_pool_stop(pool);

	int failed = 0;
	if (n_used) {
		printf("\n%d rounds, each configuration's threads calling once per image per round; ms per call\n\n",
		       runs);
		printf("| tool | input | threads | images/s | p50 ms | p99 ms | calls |\n"
		       "|---|---|---:|---:|---:|---:|---:|\n");
		for (int i = 0; i < n_used; i++) {
			const struct speed_config *c = &configs[i];
			if (c->failed || !c->n_lat) {
				printf("| %s | %s | %d | failed | | | |\n", c->tool, c->input, c->threads);
				failed = 1;
				continue;
			}
			const double ips = c->n_lat / c->wall_s, p50 = bench_median(c->lat_ms, c->n_lat),
				     p99 = bench_percentile(c->lat_ms, c->n_lat, 0.99);
			printf("| %s | %s | %d | %.1f | %.1f | %.1f | %d |\n", c->tool, c->input, c->threads, ips, p50, p99,
			       c->n_lat);
			if (speed_tsv)
				fprintf(speed_tsv, "%s\t%s\t%d\t%.3f\t%.3f\t%.3f\n", c->tool, c->input, c->threads, ips,
					p50, p99);
		}
		if (!n_peers)
			printf("\n(no peers in this build: bench/peers.h without OpenCV)\n");
		print_load("after part 1");
	}
	fflush(stdout);

	if (n_sizes) {
		printf("\nCheck latency by registry size: lk_check_pixels of the raw test images, one thread, "
		       "%d rounds;\nsynthetic references of 8 views and a PDQ hash each; search stage = "
		       "lk_check_result.search_ms\n\n", runs);
		size_t sz[MAX_LIST];
		for (int z = 0; z < n_sizes; z++)
			sz[z] = (size_t)sizes[z];
		failed |= speed_registry_sizes(sz, n_sizes, embedder, imgs, N_IMAGES, runs, ivf_max, registry_tsv);
		print_load("at the end");
	}

	for (int i = 0; i < n_used; i++)
		speed_config_free(&configs[i]);
	free(configs);
	free(pctx);
	free(peer_refs);
	free(peer_ok);
	speed_images_free(imgs, N_IMAGES);
	speed_characters_free(chars, n_chars);
	free(chars);
	lk_registry_close(reg);
	lk_embedder_close(embedder);
	snprintf(path, sizeof path, "rm -rf '%s'", tmp);
	if (system(path) != 0)
		fprintf(stderr, "bench_speed: could not remove %s\n", tmp);
	if ((speed_tsv && fclose(speed_tsv) != 0) || (registry_tsv && fclose(registry_tsv) != 0)) {
		perror("bench_speed: writing the TSV files");
		return 1;
	}
	return failed;
}
