/* bench_speed, part 2 (speed_registry.h): the end-to-end check of a raw image against
 * registries of N references.
 *
 * A registry of N synthetic references (synthetic_refs.h: 8 views each, as an image reference
 * has, and a PDQ hash of its own) claimed for the real embedder, so that a check embeds the
 * image with the CNN and then searches them exactly as it would search real ones. From
 * SPEED_IVF_FROM references on (up to a limit the caller sets: at 10^5 image references, 800k
 * vectors, the build took 13 minutes on 2 cores and the process peaked at 18 GB), the
 * filled registry is copied (closed first, so the copy is a complete database), the IVF index
 * built in the copy with default options, and the checks alternate between the two registries
 * image by image, which goes first alternating too, so that the noisy machine slows both
 * alike. The first check on each registry (building its snapshot, verifying and mapping the
 * index) is timed apart. */
#include "speed_registry.h"
#include "core/internal.h"
#include "stats.h"
#include "synthetic_refs.h"

#include <stdlib.h>

enum { EXACT, IVF };

static int open_with_embedder(lk_registry **reg, const char *path, lk_embedder *e)
{
	if (lk_registry_open(reg, path) != LK_OK)
		return -1;
	return lk_registry_set_embedder(*reg, e) == LK_OK ? 0 : -1;
}

static int check(lk_registry *reg, const struct speed_image *img, double *ms, double *search_ms)
{
	const lk_pixel_view view = { img->rgb, SPEED_SIDE, SPEED_SIDE, SPEED_SIDE * 3, LK_PIXEL_RGB8 };
	lk_check_result r;
	const double t = bench_wall_s();
	if (lk_check_pixels(&r, reg, &view, NULL) != LK_OK)
		return -1;
	*ms = (bench_wall_s() - t) * 1e3;
	*search_ms = r.search_ms;
	return 0;
}

static int one_size(size_t n, lk_embedder *e, const struct speed_image *imgs, int n_images, int rounds,
		    size_t ivf_max, FILE *tsv)
{
	char dir[] = "/tmp/bench_speed_registry.XXXXXX", path[2][64], cmd[200];
	if (!mkdtemp(dir))
		return -1;
	snprintf(path[EXACT], sizeof path[EXACT], "%s/exact", dir);
	snprintf(path[IVF], sizeof path[IVF], "%s/ivf", dir);
	const int searches = n >= SPEED_IVF_FROM && n <= ivf_max ? 2 : 1, per = rounds * n_images;
	lk_registry *reg[2] = { NULL, NULL };
	double *lat = malloc(sizeof(double) * 2 * (size_t)per), *search = malloc(sizeof(double) * 2 * (size_t)per);
	double first_s[2] = { 0, 0 }, build_s = 0, unused;
	lk_character c = LK_CHARACTER_INIT;
	snprintf(c.slug, sizeof c.slug, "synthetic");
	snprintf(c.name, sizeof c.name, "synthetic");
	lk_index_info info = { 0 };
	int rc = -1;
	double t = bench_wall_s();
	if (!lat || !search || lk_registry_create(path[EXACT]) || lk_registry_open(&reg[EXACT], path[EXACT]) ||
	    lk_character_add(reg[EXACT], &c) ||
	    bench_synthetic_fill(reg[EXACT], c.slug, n, LK_VIEWS, lk_embedder_id(e), NULL, 0))
		goto out;
	const double fill_s = bench_wall_s() - t;
	lk_registry_close(reg[EXACT]);
	reg[EXACT] = NULL;
	if (searches == 2) {
		snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", path[EXACT], path[IVF]);
		if (system(cmd) != 0 || open_with_embedder(&reg[IVF], path[IVF], e))
			goto out;
		t = bench_wall_s();
		if (lk_registry_build_index(&info, reg[IVF], NULL) != LK_OK)
			goto out;
		build_s = bench_wall_s() - t;
	}
	if (open_with_embedder(&reg[EXACT], path[EXACT], e))
		goto out;
	for (int s = 0; s < searches; s++) {
		t = bench_wall_s();
		if (check(reg[s], &imgs[0], &unused, &unused))
			goto out;
		first_s[s] = bench_wall_s() - t;
	}
	for (int round = 0; round < rounds; round++)
		for (int k = 0; k < n_images; k++)
			for (int i = 0; i < searches; i++) {
				const int s = (round + k + i) % searches, at = s * per + round * n_images + k;
				if (check(reg[s], &imgs[k], &lat[at], &search[at]))
					goto out;
			}
	for (int s = 0; s < searches; s++) {
		char index[128] = "-";
		if (s == IVF)
			snprintf(index, sizeof index, "IVF%d, nprobe %d, recall %.3f, built in %.1f s", info.nlist,
				 info.nprobe, (double)info.recall, build_s);
		const double p50 = bench_median(lat + s * per, per), p99 = bench_percentile(lat + s * per, per, 0.99);
		printf("| %zu | %zu | %s | %.1f | %.1f | %.2f | %.2f | %s | %.1f | %.2f |\n", n, n * LK_VIEWS,
		       s == IVF ? "ivf" : "exact", p50, p99, bench_median(search + s * per, per),
		       bench_percentile(search + s * per, per, 0.99), index, fill_s, first_s[s]);
		if (tsv)
			fprintf(tsv, "%zu\t%s\t%.3f\t%.3f\n", n, s == IVF ? "ivf" : "exact", p50, p99);
	}
	fflush(stdout);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "bench_speed: registry of %zu references: %s\n", n, lk_error_detail());
	lk_registry_close(reg[EXACT]);
	lk_registry_close(reg[IVF]);
	free(lat);
	free(search);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_speed: could not remove %s\n", dir);
	return rc;
}

int speed_registry_sizes(const size_t *sizes, int n_sizes, lk_embedder *e, const struct speed_image *imgs,
			 int n_images, int rounds, size_t ivf_max, FILE *tsv)
{
	printf("| references | vectors | search | check p50 ms | p99 ms | search stage p50 ms | p99 ms | index | "
	       "fill s | first check s |\n");
	printf("|---:|---:|---|---:|---:|---:|---:|---|---:|---:|\n");
	fflush(stdout);
	int rc = 0;
	for (int z = 0; z < n_sizes; z++)
		rc |= one_size(sizes[z], e, imgs, n_images, rounds, ivf_max, tsv) != 0;
	return rc;
}
