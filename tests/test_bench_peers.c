/* bench/peers.h: the OpenCV img_hash peers hash and score as OpenCV does, tell an edited copy
 * from an unrelated image, and refuse bad input. Without OpenCV there are no peers and the rest
 * is skipped. */
#include "fixtures.h"
#include "peers.h"
#ifdef LK_BENCH_PEERS_OPENCV
#include "bench_peers_reference.h"
#endif

#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { W = 320, H = 240, IMAGES = 12 };

static uint64_t rng_state;
static uint32_t rng(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}
static double rng_unit(void)
{
	return rng() / 2147483648.0;
}

/* A textured RGB scene that depends on `seed`: a tilted gradient, a few coloured discs and
 * boxes, a sinusoidal texture and some noise. Different seeds share nothing but the style. */
static unsigned char *scene(unsigned seed)
{
	rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
	unsigned char *px = malloc((size_t)W * H * 3);
	cr_assert(px);
	double gx = rng_unit() - 0.5, gy = rng_unit() - 0.5, base[3], fx = 0.02 + 0.1 * rng_unit(),
	       fy = 0.02 + 0.1 * rng_unit();
	for (int c = 0; c < 3; c++)
		base[c] = 60 + 120 * rng_unit();
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			for (int c = 0; c < 3; c++) {
				double v = base[c] + 120 * (gx * x / W + gy * y / H) +
					   25 * sin(fx * x + c) * cos(fy * y - c) + (int)(rng() % 21) - 10;
				px[((size_t)y * W + x) * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : (unsigned char)v;
			}
	for (int s = 0; s < 6; s++) {
		int cx = rng() % W, cy = rng() % H, r = 15 + rng() % 60, disc = rng() % 2;
		unsigned char col[3] = {rng() % 256, rng() % 256, rng() % 256};
		for (int y = cy - r < 0 ? 0 : cy - r; y < H && y < cy + r; y++)
			for (int x = cx - r < 0 ? 0 : cx - r; x < W && x < cx + r; x++)
				if (!disc || (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r)
					memcpy(px + ((size_t)y * W + x) * 3, col, 3);
	}
	return px;
}

static unsigned char *brighter(const unsigned char *px, int by)
{
	unsigned char *out = malloc((size_t)W * H * 3);
	cr_assert(out);
	for (size_t i = 0; i < (size_t)W * H * 3; i++)
		out[i] = px[i] + by > 255 ? 255 : px[i] + by;
	return out;
}

static void *encode(const unsigned char *px, int bands, const char *format, size_t *len)
{
	cr_assert_eq(lk_init(), LK_OK);
	VipsImage *img = vips_image_new_from_memory(px, (size_t)W * H * bands, W, H, bands, VIPS_FORMAT_UCHAR);
	cr_assert(img);
	void *buf = fx_encode(img, format, len);
	g_object_unref(img);
	return buf;
}

static bench_peer_hash hash_of(int peer, const unsigned char *px)
{
	bench_peer_hash h;
	cr_assert_eq(bench_peer_hash_pixels(&h, peer, px, W, H, (size_t)W * 3, 3), 0, "%s", bench_peer_name(peer));
	cr_assert_gt(h.len, 0);
	return h;
}

static void need_peers(void)
{
#ifndef LK_BENCH_PEERS_OPENCV
	fx_skip("built without OpenCV's img_hash: no peers");
#endif
}

Test(bench_peers, count_and_names)
{
#ifdef LK_BENCH_PEERS_OPENCV
	const char *want[] = {"opencv PHash", "opencv BlockMean", "opencv ColorMoment", "opencv RadialVariance"};
	cr_assert_eq(bench_peer_count(), 4);
	for (int p = 0; p < 4; p++)
		cr_expect_str_eq(bench_peer_name(p), want[p]);
	cr_expect_str_eq(bench_peer_name(4), "?");
	cr_expect_str_eq(bench_peer_name(-1), "?");
#else
	cr_assert_eq(bench_peer_count(), 0);
#endif
}

/* The sizes compute() returns at default parameters; the scores depend on them. */
Test(bench_peers, hash_sizes)
{
	need_peers();
	const int want[] = {8, 32, 42 * 8, 40};
	unsigned char *px = scene(1);
	for (int p = 0; p < bench_peer_count(); p++)
		cr_expect_eq(hash_of(p, px).len, want[p], "%s", bench_peer_name(p));
	free(px);
}

/* RGB, RGBA and grey pixels reach OpenCV as the BGR Mat a user would build, so the hash equals
 * OpenCV's own compute() of that Mat (alpha dropped; grey as three equal bands). */
Test(bench_peers, pixels_hash_as_opencv_does)
{
	need_peers();
#ifdef LK_BENCH_PEERS_OPENCV
	size_t rgba_stride = (size_t)W * 4 + 7; /* rows not packed: the stride is honoured */
	unsigned char *rgb = scene(2), *bgr = malloc((size_t)W * H * 3), *rgba = malloc(rgba_stride * H),
		      *grey = malloc((size_t)W * H), *grey_bgr = malloc((size_t)W * H * 3);
	cr_assert(bgr && rgba && grey && grey_bgr);
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			const unsigned char *s = rgb + ((size_t)y * W + x) * 3;
			unsigned char *d = bgr + ((size_t)y * W + x) * 3, *a = rgba + y * rgba_stride + (size_t)x * 4;
			d[0] = s[2], d[1] = s[1], d[2] = s[0];
			a[0] = s[0], a[1] = s[1], a[2] = s[2], a[3] = (unsigned char)(x + y);
			grey[(size_t)y * W + x] = s[1];
			memset(grey_bgr + ((size_t)y * W + x) * 3, s[1], 3);
		}
	for (int p = 0; p < bench_peer_count(); p++) {
		bench_peer_hash want, got;
		cr_assert_eq(reference_hash_bgr(&want, p, bgr, W, H), 0);
		got = hash_of(p, rgb);
		cr_expect(got.len == want.len && !memcmp(got.bytes, want.bytes, got.len), "%s RGB", bench_peer_name(p));
		cr_assert_eq(bench_peer_hash_pixels(&got, p, rgba, W, H, rgba_stride, 4), 0);
		cr_expect(got.len == want.len && !memcmp(got.bytes, want.bytes, got.len), "%s RGBA", bench_peer_name(p));
		cr_assert_eq(reference_hash_bgr(&want, p, grey_bgr, W, H), 0);
		cr_assert_eq(bench_peer_hash_pixels(&got, p, grey, W, H, W, 1), 0);
		cr_expect(got.len == want.len && !memcmp(got.bytes, want.bytes, got.len), "%s grey", bench_peer_name(p));
	}
	free(rgb), free(bgr), free(rgba), free(grey), free(grey_bgr);
#endif
}

/* cv::imdecode of a PNG gives back the very pixels, so both paths give the same hash. */
Test(bench_peers, png_hashes_as_its_pixels)
{
	need_peers();
	unsigned char *px = scene(3);
	size_t len;
	void *png = encode(px, 3, "png", &len);
	for (int p = 0; p < bench_peer_count(); p++) {
		bench_peer_hash a = hash_of(p, px), b;
		cr_assert_eq(bench_peer_hash_encoded(&b, p, png, len), 0, "%s", bench_peer_name(p));
		cr_expect(a.len == b.len && !memcmp(a.bytes, b.bytes, a.len), "%s", bench_peer_name(p));
	}
	g_free(png);
	free(px);
}

/* Every hash scores itself at least as high as it scores any other image's hash. */
Test(bench_peers, self_is_best)
{
	need_peers();
	unsigned char *px[IMAGES];
	for (int i = 0; i < IMAGES; i++)
		px[i] = scene(100 + i);
	for (int p = 0; p < bench_peer_count(); p++) {
		bench_peer_hash h[IMAGES];
		for (int i = 0; i < IMAGES; i++)
			h[i] = hash_of(p, px[i]);
		for (int i = 0; i < IMAGES; i++) {
			double self = bench_peer_score(p, &h[i], &h[i]);
			for (int j = 0; j < IMAGES; j++)
				cr_expect_geq(self, bench_peer_score(p, &h[i], &h[j]), "%s: %d vs %d", bench_peer_name(p), i, j);
		}
	}
	for (int i = 0; i < IMAGES; i++)
		free(px[i]);
}

/* A slightly brighter copy, re-encoded as JPEG and decoded by OpenCV, stays closer to the
 * original than any unrelated scene does. */
Test(bench_peers, edited_copy_beats_unrelated)
{
	need_peers();
	unsigned char *orig = scene(4), *edit = brighter(orig, 12);
	size_t len;
	void *jpeg = encode(edit, 3, "jpeg[Q=85]", &len);
	for (int p = 0; p < bench_peer_count(); p++) {
		bench_peer_hash a = hash_of(p, orig), b;
		cr_assert_eq(bench_peer_hash_encoded(&b, p, jpeg, len), 0);
		double copy = bench_peer_score(p, &a, &b), nearest = -HUGE_VAL;
		for (int u = 0; u < 8; u++) {
			unsigned char *other = scene(200 + u);
			bench_peer_hash c = hash_of(p, other);
			double unrelated = bench_peer_score(p, &a, &c);
			cr_expect_gt(copy, unrelated, "%s: copy %g, unrelated %d %g", bench_peer_name(p), copy, u, unrelated);
			nearest = unrelated > nearest ? unrelated : nearest;
			free(other);
		}
		cr_log_info("%s: edited copy %g, nearest unrelated %g, self %g", bench_peer_name(p), copy, nearest,
			    bench_peer_score(p, &a, &a));
	}
	g_free(jpeg);
	free(edit), free(orig);
}

#ifdef LK_BENCH_PEERS_OPENCV
/* RadialVariance: OpenCV sums each shift's products in float (SIMD lanes, in an order that
 * depends on the CPU), the peer exactly; the correlations, at most 1, differ by ~5e-8 here. */
#define RV_TOLERANCE 1e-6

static void expect_score_as_opencv(int p, const bench_peer_hash *a, const bench_peer_hash *b, const char *what)
{
	double got = bench_peer_score(p, a, b), want = reference_score(p, a, b);
	if (p < 2)
		cr_expect_eq(got, want, "%s %s: %.17g vs OpenCV %.17g", bench_peer_name(p), what, got, want);
	else if (p == 2)
		cr_expect_leq(fabs(got - want), 1e-9 * fabs(want), "%s %s: %.17g vs OpenCV %.17g", bench_peer_name(p),
			      what, got, want);
	else
		cr_expect_leq(fabs(got - want), RV_TOLERANCE, "%s %s: %.17g vs OpenCV %.17g", bench_peer_name(p), what,
			      got, want);
}
#endif

/* bench_peer_score() is compare() (negated for distances), on real hashes and on random ones:
 * random bytes for the bit hashes and RadialVariance, jittered real moments for ColorMoment. */
Test(bench_peers, score_is_opencv_compare)
{
	need_peers();
#ifdef LK_BENCH_PEERS_OPENCV
	bench_peer_hash h[4][IMAGES];
	for (int i = 0; i < IMAGES; i++) {
		unsigned char *px = scene(300 + i);
		for (int p = 0; p < 4; p++)
			h[p][i] = hash_of(p, px);
		free(px);
	}
	double worst_rv = 0;
	for (int p = 0; p < 4; p++)
		for (int i = 0; i < IMAGES; i++)
			for (int j = 0; j < IMAGES; j++)
				expect_score_as_opencv(p, &h[p][i], &h[p][j], "real pair");
	rng_state = 42;
	for (int n = 0; n < 3000; n++) {
		for (int p = 0; p < 4; p++) {
			bench_peer_hash a = h[p][rng() % IMAGES], b = h[p][rng() % IMAGES];
			if (p == 2) {
				for (int k = 0; k < 42; k++) {
					double x, y;
					memcpy(&x, a.bytes + 8 * k, 8), memcpy(&y, b.bytes + 8 * k, 8);
					x *= 1 + 0.5 * (rng_unit() - 0.5), y *= 1 + 0.5 * (rng_unit() - 0.5);
					memcpy(a.bytes + 8 * k, &x, 8), memcpy(b.bytes + 8 * k, &y, 8);
				}
			} else {
				for (int k = 0; k < a.len; k++)
					a.bytes[k] = rng(), b.bytes[k] = rng();
			}
			expect_score_as_opencv(p, &a, &b, "random pair");
			if (p == 3) {
				double d = fabs(bench_peer_score(p, &a, &b) - reference_score(p, &a, &b));
				worst_rv = d > worst_rv ? d : worst_rv;
			}
		}
	}
	cr_log_info("RadialVariance: largest difference from OpenCV's compare() %.3g", worst_rv);

	/* RadialVariance's corner cases. The covariances of all 40 shifts sum to zero, so the peak
	 * is never negative; where it is zero (a constant hash, what compute() gives a flat image)
	 * OpenCV returns its running maximum's start, DBL_MIN. */
	bench_peer_hash zero = {.len = 40}, step = {.len = 40}, inverse = {.len = 40};
	for (int k = 0; k < 40; k++)
		step.bytes[k] = k < 20 ? 0 : 255, inverse.bytes[k] = k < 20 ? 255 : 0;
	expect_score_as_opencv(3, &zero, &zero, "flat");
	expect_score_as_opencv(3, &zero, &step, "flat and step");
	expect_score_as_opencv(3, &step, &inverse, "step and its inverse");
	cr_expect_eq(bench_peer_score(3, &zero, &zero), DBL_MIN);
#endif
}

struct worker {
	unsigned char *const *px;    /* 4 scenes */
	const bench_peer_hash *want; /* [scene][peer], hashed by one thread alone */
	int first;                   /* each thread starts at another scene */
	int mismatches;
};

static void *hash_again(void *arg)
{
	struct worker *w = arg;
	for (int n = 0; n < 12; n++) {
		int i = (w->first + n) % 4;
		for (int p = 0; p < bench_peer_count(); p++) {
			bench_peer_hash h;
			const bench_peer_hash *want = &w->want[i * 4 + p];
			if (bench_peer_hash_pixels(&h, p, w->px[i], W, H, (size_t)W * 3, 3) || h.len != want->len ||
			    memcmp(h.bytes, want->bytes, h.len))
				w->mismatches++;
		}
	}
	return NULL;
}

/* Threads hashing at once get what one thread alone gets. */
Test(bench_peers, threads_hash_alike)
{
	need_peers();
	unsigned char *px[4];
	bench_peer_hash want[4 * 4];
	for (int i = 0; i < 4; i++) {
		px[i] = scene(400 + i);
		for (int p = 0; p < bench_peer_count(); p++)
			want[i * 4 + p] = hash_of(p, px[i]);
	}
	struct worker w[4];
	pthread_t t[4];
	for (int k = 0; k < 4; k++) {
		w[k] = (struct worker){.px = px, .want = want, .first = k};
		cr_assert_eq(pthread_create(&t[k], NULL, hash_again, &w[k]), 0);
	}
	for (int k = 0; k < 4; k++) {
		pthread_join(t[k], NULL);
		cr_expect_eq(w[k].mismatches, 0, "thread %d", k);
	}
	for (int i = 0; i < 4; i++)
		free(px[i]);
}

Test(bench_peers, bad_input_is_refused)
{
	need_peers();
	unsigned char *px = scene(5);
	bench_peer_hash h;
	const char garbage[] = "\x89PNG\r\n\x1a\n this is not an image at all";
	for (int p = 0; p < bench_peer_count(); p++) {
		cr_expect_eq(bench_peer_hash_pixels(NULL, p, px, W, H, W * 3, 3), -1);
		cr_expect_eq(bench_peer_hash_pixels(&h, p, NULL, W, H, W * 3, 3), -1);
		cr_expect_eq(bench_peer_hash_pixels(&h, p, px, W, H, W * 2, 2), -1);
		cr_expect_eq(h.len, 0);
		cr_expect_eq(bench_peer_hash_pixels(&h, p, px, 0, H, W * 3, 3), -1);
		cr_expect_eq(bench_peer_hash_pixels(&h, p, px, W, H, W * 3 - 1, 3), -1);
		cr_expect_eq(bench_peer_hash_encoded(&h, p, garbage, sizeof garbage), -1);
		cr_expect_eq(bench_peer_hash_encoded(&h, p, NULL, 10), -1);
		cr_expect_eq(bench_peer_hash_encoded(&h, p, garbage, 0), -1);
		cr_expect_eq(bench_peer_hash_encoded(NULL, p, garbage, sizeof garbage), -1);
	}
	cr_expect_eq(bench_peer_hash_pixels(&h, bench_peer_count(), px, W, H, W * 3, 3), -1);
	cr_expect_eq(bench_peer_hash_pixels(&h, -1, px, W, H, W * 3, 3), -1);
	/* A hash of another peer, or none, is below every score. */
	bench_peer_hash a = hash_of(0, px);
	cr_expect(isinf(bench_peer_score(1, &a, &a)) && bench_peer_score(1, &a, &a) < 0);
	cr_expect(isinf(bench_peer_score(0, &a, NULL)));
	free(px);
}
