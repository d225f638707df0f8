/* bench_quality: how many edited copies each signal catches at a fixed false-positive rate.
 *
 *   bench_quality [--characters N] [--unrelated M] [--regions K] [--threads T] [--seed S] SVG_DIR
 *
 * The SVG files of SVG_DIR (one character each; bench/quality.sh extracts them from the Fluent
 * Emoji set) are shuffled; the first N become the registry's characters, the rest unrelated
 * art. Every character is rendered at 512x512 on white as its reference; queries are edited
 * copies of it (below), and negatives are unrelated art put through the same edits, so the
 * false positives are counted on images that look like the queries. For each image the bench
 * scores, against every reference:
 *   - PDQ: the smallest Hamming distance to any of the reference's 8 really transformed hashes
 *     (as the registry stores them);
 *   - embedding: the largest cosine similarity of lk_embed descriptors, centred on the mean of
 *     the references (as the registry does: the mean shrunk by n / (n + 16)) and renormalised;
 *   - region (--regions K): the largest such similarity of any of K windows of the image,
 *     chosen and described as a check with lk_check_options.regions = K does;
 *   - fused: caught when any signal passes its threshold, each set at an equal share of the
 *     target false-positive rate, so the union stays within it.
 * A query counts when its own character passes (a hit on another character is not recall).
 * Thresholds come from the negatives' best scores at 0.1% (and 1%) false positives.
 * --unrelated M uses only M of the unrelated images. */
#include "core/internal.h"
#include "index/search/search.h"
#include "stats.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#define SIDE 512

typedef enum edit {
	EDIT_NONE, EDIT_JPEG40, EDIT_CROP10, EDIT_CROP25, EDIT_MIRROR, EDIT_JITTER, EDIT_TEXT, EDIT_BORDER,
	EDIT_COMBINED, EDIT_PASTED, EDIT_CUTOUT, EDIT_COUNT
} edit;

static const char *const edit_names[EDIT_COUNT] = { "reference", "jpeg q40", "crop 10%/side", "crop 25%/side",
						    "mirror", "colour jitter", "text overlay", "border 15%",
						    "combined*", "pasted in a scene", "cut out into a scene" };

/* Negatives get these edits, each unrelated image all of them. */
static const edit negative_edits[] = { EDIT_NONE, EDIT_COMBINED, EDIT_PASTED, EDIT_CUTOUT, EDIT_TEXT };
#define N_NEG_EDITS (int)(sizeof negative_edits / sizeof negative_edits[0])

struct item {
	int art;        /* index into the SVG list */
	edit e;
	int character;  /* registry position, -1 for unrelated */
	unsigned seed;
	/* results */
	lk_pdq_result pdq;
	lk_pdq_hash exact[LK_DIHEDRAL_COUNT]; /* references only */
	lk_embedding emb;
	lk_embedding *views;                  /* references only: LK_VIEWS, as the registry stores */
	lk_embedding *regions;                /* --regions K: the library's candidate regions */
	int n_regions;
	int ok;
};

static char **svgs;
static int n_svgs;
static const char *svg_dir;
static struct item *items;
static size_t n_items;
static size_t next_item;
static pthread_mutex_t next_lock = PTHREAD_MUTEX_INITIALIZER;
static lk_embedder *embedder;
static int n_regions; /* --regions K */

static unsigned rnd(unsigned *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static double uniform(unsigned *s, double lo, double hi)
{
	return lo + (hi - lo) * (rnd(s) % 1000000) / 1e6;
}

/* The art at side x side: 3 bands on white, or with its own alpha (NULL on failure). */
static VipsImage *render_art(int art, int side, int keep_alpha)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", svg_dir, svgs[art]);
	VipsImage *t = NULL, *flat = NULL;
	if (vips_thumbnail(path, &t, side, "height", side, "size", VIPS_SIZE_FORCE, NULL))
		return NULL;
	double white[3] = { 255, 255, 255 };
	if (t->Bands == 4 && !keep_alpha) {
		VipsArrayDouble *bg = vips_array_double_new(white, 3);
		vips_flatten(t, &flat, "background", bg, NULL);
		vips_area_unref(VIPS_AREA(bg));
	} else
		flat = t, g_object_ref(t);
	g_object_unref(t);
	return flat;
}

static VipsImage *render(int art, int side)
{
	return render_art(art, side, 0);
}

static VipsImage *steal(VipsImage *old, VipsImage *fresh)
{
	g_object_unref(old);
	return fresh;
}

static VipsImage *crop_fraction(VipsImage *in, double keep_w, double keep_h, unsigned *s)
{
	const int w = (int)(in->Xsize * keep_w), h = (int)(in->Ysize * keep_h);
	const int x = (int)uniform(s, 0, in->Xsize - w), y = (int)uniform(s, 0, in->Ysize - h);
	VipsImage *out;
	return vips_extract_area(in, &out, x, y, w, h, NULL) ? steal(in, NULL) : steal(in, out);
}

static VipsImage *jitter(VipsImage *in, unsigned *s)
{
	double a[3], b[3];
	for (int c = 0; c < 3; c++) {
		a[c] = uniform(s, 0.75, 1.25);
		b[c] = uniform(s, -30, 30);
	}
	VipsImage *out, *u;
	if (vips_linear(in, &out, a, b, 3, NULL))
		return steal(in, NULL);
	if (vips_cast_uchar(out, &u, NULL)) {
		g_object_unref(out);
		return steal(in, NULL);
	}
	g_object_unref(out);
	return steal(in, u);
}

static VipsImage *text(VipsImage *in, unsigned *s)
{
	static const char *const words[] = { "fan art #1", "AI GENERATED", "made with love", "my OC!!",
					     "do not repost", "sample" };
	VipsImage *t, *mask, *ink, *out;
	const int w = in->Xsize;
	if (vips_text(&t, words[rnd(s) % 6], "width", w * 9 / 10, "dpi", (int)uniform(s, 110, 170), NULL))
		return steal(in, NULL);
	const int x = (int)uniform(s, 0, w - t->Xsize), y = (int)uniform(s, 0, in->Ysize - t->Ysize);
	vips_embed(t, &mask, x, y, in->Xsize, in->Ysize, NULL);
	g_object_unref(t);
	double colour[3] = { (double)(rnd(s) % 2) * 255, 0, (double)(rnd(s) % 2) * 255 };
	vips_black(&ink, in->Xsize, in->Ysize, "bands", 3, NULL);
	VipsImage *inked;
	vips_linear(ink, &inked, (double[]){ 1, 1, 1 }, colour, 3, NULL);
	g_object_unref(ink);
	int rc = vips_ifthenelse(mask, inked, in, &out, "blend", TRUE, NULL);
	g_object_unref(mask);
	g_object_unref(inked);
	VipsImage *u;
	if (rc || vips_cast_uchar(out, &u, NULL))
		return steal(in, NULL);
	g_object_unref(out);
	return steal(in, u);
}

static VipsImage *border(VipsImage *in, unsigned *s)
{
	const int b = in->Xsize * 15 / 100;
	double colour[3] = { rnd(s) % 256, rnd(s) % 256, rnd(s) % 256 };
	VipsImage *out;
	VipsArrayDouble *bg = vips_array_double_new(colour, 3);
	const int rc = vips_embed(in, &out, b, b, in->Xsize + 2 * b, in->Ysize + 2 * b, "extend",
				  VIPS_EXTEND_BACKGROUND, "background", bg, NULL);
	vips_area_unref(VIPS_AREA(bg));
	return rc ? steal(in, NULL) : steal(in, out);
}

static VipsImage *jpeg(VipsImage *in, int q)
{
	void *buf;
	size_t len;
	if (vips_jpegsave_buffer(in, &buf, &len, "Q", q, NULL))
		return steal(in, NULL);
	VipsImage *out, *mem;
	int rc = vips_jpegload_buffer(buf, len, &out, NULL);
	if (!rc) {
		mem = vips_image_copy_memory(out);
		g_object_unref(out);
		out = mem;
	}
	g_free(buf);
	return rc || !out ? steal(in, NULL) : steal(in, out);
}

/* The character at 30-50% of a 768x768 scene: a blurred, enlarged crop of other art, so the
 * background has structure, not a flat colour. `in` is either the art on white (pasted with
 * its white square) or the art with its alpha (cut out, as a generator would draw it into the
 * scene). */
static VipsImage *paste(VipsImage *in, unsigned *s)
{
	const int scene_side = 768, side = (int)(scene_side * uniform(s, 0.3, 0.5));
	VipsImage *bg = render((int)(rnd(s) % (unsigned)n_svgs), scene_side), *small, *out = NULL;
	if (!bg)
		return steal(in, NULL);
	VipsImage *soft;
	vips_gaussblur(bg, &soft, 12, NULL);
	g_object_unref(bg);
	VipsImage *bgu;
	vips_cast_uchar(soft, &bgu, NULL);
	g_object_unref(soft);
	vips_resize(in, &small, (double)side / in->Xsize, NULL);
	const int x = (int)uniform(s, 0, scene_side - side), y = (int)uniform(s, 0, scene_side - side);
	int rc;
	if (small->Bands == 4) {
		VipsImage *placed, *over, *flat;
		rc = vips_embed(small, &placed, x, y, scene_side, scene_side, NULL);
		if (!rc) {
			rc = vips_composite2(bgu, placed, &over, VIPS_BLEND_MODE_OVER, NULL);
			g_object_unref(placed);
		}
		if (!rc) {
			rc = vips_extract_band(over, &flat, 0, "n", 3, NULL);
			g_object_unref(over);
		}
		if (!rc) {
			rc = vips_cast_uchar(flat, &out, NULL);
			g_object_unref(flat);
		}
	} else
		rc = vips_insert(bgu, small, &out, x, y, NULL);
	g_object_unref(small);
	g_object_unref(bgu);
	return rc ? steal(in, NULL) : steal(in, out);
}

static VipsImage *apply(VipsImage *img, edit e, unsigned *s)
{
	VipsImage *out;
	switch (e) {
	case EDIT_NONE:
		return img;
	case EDIT_JPEG40:
		return jpeg(img, 40);
	case EDIT_CROP10:
		return crop_fraction(img, 0.8, 0.8, s);
	case EDIT_CROP25:
		return crop_fraction(img, 0.5, 0.5, s);
	case EDIT_MIRROR:
		return vips_flip(img, &out, VIPS_DIRECTION_HORIZONTAL, NULL) ? steal(img, NULL) : steal(img, out);
	case EDIT_JITTER:
		return jitter(img, s);
	case EDIT_TEXT:
		return text(img, s);
	case EDIT_BORDER:
		return border(img, s);
	case EDIT_COMBINED: {
		const double keep = uniform(s, 0.7, 0.9);
		img = crop_fraction(img, keep, keep, s);
		if (img && rnd(s) % 2)
			img = apply(img, EDIT_MIRROR, s);
		if (img)
			img = jitter(img, s);
		if (img)
			img = text(img, s);
		return img ? jpeg(img, 40) : NULL;
	}
	case EDIT_PASTED:
	case EDIT_CUTOUT:
		return paste(img, s);
	default:
		return steal(img, NULL);
	}
}

static int describe(struct item *it)
{
	unsigned s = it->seed;
	VipsImage *img = render_art(it->art, SIDE, it->e == EDIT_CUTOUT);
	if (!img)
		return -1;
	img = apply(img, it->e, &s);
	if (!img)
		return -1;
	VipsImage *mem = vips_image_copy_memory(img);
	g_object_unref(img);
	if (!mem)
		return -1;
	const lk_pixel_view view = { VIPS_IMAGE_ADDR(mem, 0, 0), mem->Xsize, mem->Ysize,
				     VIPS_IMAGE_SIZEOF_LINE(mem), mem->Bands == 1 ? LK_PIXEL_GRAY8 : LK_PIXEL_RGB8 };
	int rc = lk_pdq_hash_pixels(&it->pdq, &view, NULL);
	const int is_reference = it->character >= 0 && it->e == EDIT_NONE;
	if (rc == LK_OK && n_regions && !is_reference) {
		/* As a check describes it: the library's pixels (decoded for PDQ), the whole, then
		 * the chosen windows. */
		const lk_image8 img8 = { view.data, view.width, view.height, view.stride, mem->Bands == 1 ? 1 : 3 };
		lk_described *d = malloc(sizeof *d);
		rc = d ? lk__describe(d, embedder, &img8, n_regions) : LK_ENOMEM;
		if (rc == LK_OK) {
			it->emb = d->whole;
			it->n_regions = d->n_parts;
			it->regions = malloc(sizeof(lk_embedding) * (size_t)(d->n_parts ? d->n_parts : 1));
			if (it->regions)
				memcpy(it->regions, d->parts, sizeof(lk_embedding) * (size_t)d->n_parts);
			else
				rc = LK_ENOMEM;
		}
		free(d);
	} else if (rc == LK_OK)
		rc = lk_embed_pixels(&it->emb, embedder, &view, NULL);
	if (rc == LK_OK && is_reference) {
		const lk_image8 img8 = { view.data, view.width, view.height, view.stride, mem->Bands == 1 ? 1 : 3 };
		it->views = malloc(sizeof(lk_embedding) * LK_VIEWS);
		rc = it->views ? lk__embed_views(it->views, embedder, &img8) : LK_ENOMEM;
	}
	/* References: the hashes of the really transformed pixels, as the registry stores them. */
	for (int d = 0; rc == LK_OK && it->character >= 0 && it->e == EDIT_NONE && d < LK_DIHEDRAL_COUNT; d++) {
		VipsImage *t = NULL, *tm = NULL;
		const VipsAngle angle[4] = { VIPS_ANGLE_D0, VIPS_ANGLE_D90, VIPS_ANGLE_D180, VIPS_ANGLE_D270 };
		/* lk_dihedral order: original, rot90, rot180, rot270, flipx, flipy, flip+ (see likeness.h) */
		static const int rot[8] = { 0, 1, 2, 3, 0, 2, 1, 3 }, flip[8] = { 0, 0, 0, 0, 1, 1, 1, 1 };
		VipsImage *r;
		if (vips_rot(mem, &r, angle[rot[d]], NULL))
			rc = -1;
		else if (flip[d]) {
			vips_flip(r, &t, VIPS_DIRECTION_HORIZONTAL, NULL);
			g_object_unref(r);
		} else
			t = r;
		if (rc == LK_OK && t && (tm = vips_image_copy_memory(t))) {
			const lk_pixel_view v = { VIPS_IMAGE_ADDR(tm, 0, 0), tm->Xsize, tm->Ysize,
						  VIPS_IMAGE_SIZEOF_LINE(tm), LK_PIXEL_RGB8 };
			lk_pdq_result p;
			rc = lk_pdq_hash_pixels(&p, &v, NULL);
			it->exact[d] = p.hash[0];
		}
		if (t)
			g_object_unref(t);
		if (tm)
			g_object_unref(tm);
	}
	g_object_unref(mem);
	return rc == LK_OK ? 0 : -1;
}

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&next_lock);
		const size_t i = next_item++;
		pthread_mutex_unlock(&next_lock);
		if (i >= n_items)
			break;
		items[i].ok = describe(&items[i]) == 0;
		if (!items[i].ok)
			fprintf(stderr, "bench_quality: %s (%s): %s\n", svgs[items[i].art], edit_names[items[i].e],
				vips_error_buffer());
	}
	vips_thread_shutdown(); /* once: see bench/suite_describe.c */
	return NULL;
}

static void centre(lk_embedding *e, const double *mean)
{
	float m[LK_EMBEDDING_DIM];
	for (int j = 0; j < LK_EMBEDDING_DIM; j++)
		m[j] = (float)mean[j];
	lk__emb_centre(e->v, m);
}

/* sim[w * n_chars + c]: the best similarity of the query's window w to any stored view of
 * character c's reference. */
static void window_similarities(double *sim, const struct item *query, struct item *const *refs, int n_chars)
{
	for (int w = 0; w < query->n_regions; w++)
		for (int c = 0; c < n_chars; c++) {
			double best = -2;
			for (int v = 0; v < LK_VIEWS; v++) {
				const double x = lk_embedding_similarity(&query->regions[w], &refs[c]->views[v]);
				best = x > best ? x : best;
			}
			sim[w * n_chars + c] = best;
		}
}

/* A window's lead for character c: its similarity to c less its best similarity to any other
 * character (positive for one character at most). A window of unrelated art in the registry's
 * style resembles several characters about equally; a pasted copy resembles one. */
static double window_lead(const double *row, int c, int n_chars)
{
	double other = -2;
	for (int k = 0; k < n_chars; k++)
		if (k != c && row[k] > other)
			other = row[k];
	return row[c] - other;
}

/* The best similarity of the whole query to any stored view of reference `r`. */
static double best_view(const struct item *query, const struct item *r)
{
	double best = -2;
	const lk_embedding *q = &query->emb;
	for (int v = 0; v < LK_VIEWS; v++) {
		const double s = lk_embedding_similarity(q, &r->views[v]);
		best = s > best ? s : best;
	}
	return best;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_desc(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;
	return (x < y) - (x > y);
}

/* The score a negative must stay below for at most `rate` of them to pass: scores >= the
 * returned value pass. */
static double threshold_at(const double *neg, int n, double rate)
{
	double *c = malloc(sizeof(double) * (size_t)n);
	memcpy(c, neg, sizeof(double) * (size_t)n);
	qsort(c, (size_t)n, sizeof(double), cmp_desc);
	const int allowed = (int)floor(rate * n);
	/* Pass = strictly above the (allowed+1)-th best negative. */
	const double t = nextafter(c[allowed < n ? allowed : n - 1], INFINITY);
	free(c);
	return t;
}

struct scores {
	const double *neg_pdq, *neg_emb, *neg_reg, *q_pdq, *q_emb, *q_reg;
	const char *top1_pdq, *top1_emb, *top1_reg;
	size_t n_neg;
};

/* Recall per edit at 0.1% and 1% false positives, each signal alone and fused. */
static void print_tables(const struct scores *sc, const char *region_label)
{
	const double *neg_pdq = sc->neg_pdq, *neg_emb = sc->neg_emb, *neg_reg = sc->neg_reg;
	const double *q_pdq = sc->q_pdq, *q_emb = sc->q_emb, *q_reg = sc->q_reg;
	const char *top1_pdq = sc->top1_pdq, *top1_emb = sc->top1_emb, *top1_reg = sc->top1_reg;
	const size_t n_neg = sc->n_neg;
	/* Fused: caught when any signal passes a threshold set at an equal share of the budget. */
	const int with_regions = n_regions > 0;
	const int n_signals = with_regions ? 3 : 2;
	static const double rates[2] = { 0.001, 0.01 };
	for (int r = 0; r < 2; r++) {
		const double tp = threshold_at(neg_pdq, (int)n_neg, rates[r]);
		const double te = threshold_at(neg_emb, (int)n_neg, rates[r]);
		const double tg = threshold_at(neg_reg, (int)n_neg, rates[r]);
		const double share = rates[r] / n_signals;
		const double tp2 = threshold_at(neg_pdq, (int)n_neg, share);
		const double te2 = threshold_at(neg_emb, (int)n_neg, share);
		const double tg2 = with_regions ? threshold_at(neg_reg, (int)n_neg, share) : INFINITY;
		size_t fused_fp = 0;
		for (size_t i = 0; i < n_neg; i++)
			fused_fp += neg_pdq[i] >= tp2 || neg_emb[i] >= te2 || neg_reg[i] >= tg2;
		printf("Recall at %.1f%% false positives (thresholds: PDQ distance <= %d, embedding similarity "
		       ">= %.3f", rates[r] * 100, (int)ceil(256 - tp), te);
		if (with_regions)
			printf(", %s >= %.3f", region_label, tg);
		printf("; fused: PDQ <= %d or embedding >= %.3f", (int)ceil(256 - tp2), te2);
		if (with_regions)
			printf(" or region >= %.3f", tg2);
		printf(", measured false positives %.2f%%):\n\n", 100.0 * (double)fused_fp / (double)n_neg);
		if (with_regions)
			printf("| edit | copies | PDQ | embedding | region | fused | R@1 PDQ / embedding / region |\n"
			       "|---|---:|---:|---:|---:|---:|---:|\n");
		else
			printf("| edit | copies | PDQ | embedding | fused | R@1 PDQ / embedding |\n|---|---:|---:|---:|---:|---:|\n");
		for (int e = 1; e < EDIT_COUNT; e++) {
			size_t n = 0, hp = 0, he = 0, hg = 0, hf = 0, r1p = 0, r1e = 0, r1g = 0;
			for (size_t i = 0; i < n_items; i++) {
				if (items[i].character < 0 || items[i].e != (edit)e || !items[i].ok)
					continue;
				n++;
				hp += q_pdq[i] >= tp;
				he += q_emb[i] >= te;
				hg += q_reg[i] >= tg;
				hf += q_pdq[i] >= tp2 || q_emb[i] >= te2 || q_reg[i] >= tg2;
				r1p += (size_t)top1_pdq[i];
				r1e += (size_t)top1_emb[i];
				r1g += (size_t)top1_reg[i];
			}
			const double d = n ? (double)n / 100 : 1;
			if (with_regions)
				printf("| %s | %zu | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f%% / %.1f%% / %.1f%% |\n",
				       edit_names[e], n, (double)hp / d, (double)he / d, (double)hg / d, (double)hf / d,
				       (double)r1p / d, (double)r1e / d, (double)r1g / d);
			else
				printf("| %s | %zu | %.1f%% | %.1f%% | %.1f%% | %.1f%% / %.1f%% |\n", edit_names[e], n,
				       (double)hp / d, (double)he / d, (double)hf / d, (double)r1p / d, (double)r1e / d);
		}
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	int n_chars = 300, threads = 2, max_negatives = 1 << 30;
	unsigned seed = 20261128;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--characters") && i + 1 < argc)
			n_chars = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--regions") && i + 1 < argc)
			n_regions = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--unrelated") && i + 1 < argc)
			max_negatives = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = (unsigned)strtoul(argv[++i], NULL, 10);
		else
			svg_dir = argv[i];
	}
	if (!svg_dir || n_chars < 2 || threads < 1 || n_regions < 0 || n_regions > LK_MAX_REGIONS) {
		fprintf(stderr, "usage: bench_quality [--characters N] [--unrelated M] [--regions 0-%d] "
				"[--threads T] [--seed S] SVG_DIR\n", LK_MAX_REGIONS);
		return 2;
	}
	if (VIPS_INIT(argv[0]) || lk_init() != LK_OK || lk_embedder_open(&embedder, NULL) != LK_OK) {
		fprintf(stderr, "bench_quality: %s\n", lk_error_detail());
		return 1;
	}
	DIR *d = opendir(svg_dir);
	if (!d) {
		perror(svg_dir);
		return 1;
	}
	struct dirent *de;
	int cap = 0;
	while ((de = readdir(d))) {
		const size_t len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".svg"))
			continue;
		if (n_svgs == cap)
			svgs = realloc(svgs, sizeof *svgs * (size_t)(cap = cap ? cap * 2 : 512));
		svgs[n_svgs++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(svgs, (size_t)n_svgs, sizeof *svgs, cmp_name);
	unsigned s = seed;
	for (int i = n_svgs - 1; i > 0; i--) {
		const int j = (int)(rnd(&s) % (unsigned)(i + 1));
		char *t = svgs[i];
		svgs[i] = svgs[j];
		svgs[j] = t;
	}
	if (n_chars >= n_svgs) {
		fprintf(stderr, "bench_quality: %d SVGs, need more than %d\n", n_svgs, n_chars);
		return 1;
	}
	const int n_neg_art = n_svgs - n_chars < max_negatives ? n_svgs - n_chars : max_negatives;
	n_items = (size_t)n_chars * EDIT_COUNT + (size_t)n_neg_art * N_NEG_EDITS;
	items = calloc(n_items, sizeof *items);
	size_t k = 0;
	for (int c = 0; c < n_chars; c++)
		for (int e = 0; e < EDIT_COUNT; e++)
			items[k++] = (struct item){ .art = c, .e = (edit)e, .character = c, .seed = rnd(&s) | 1 };
	for (int a = n_chars; a < n_chars + n_neg_art; a++)
		for (int e = 0; e < N_NEG_EDITS; e++)
			items[k++] = (struct item){ .art = a, .e = negative_edits[e], .character = -1, .seed = rnd(&s) | 1 };

	const double t0 = bench_wall_s();
	pthread_t *t = malloc(sizeof *t * (size_t)threads);
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	const double described = bench_wall_s() - t0;

	/* References and their centre. */
	struct item **refs = malloc(sizeof *refs * (size_t)n_chars);
	for (size_t i = 0; i < n_items; i++)
		if (items[i].character >= 0 && items[i].e == EDIT_NONE)
			refs[items[i].character] = &items[i];
	double mean[LK_EMBEDDING_DIM] = { 0 };
	/* As the registry centres them (index/search/snapshot_embeddings.c): the mean of every stored view,
	 * shrunk by n / (n + 16). */
	const double n_vectors = (double)n_chars * LK_VIEWS;
	for (int c = 0; c < n_chars; c++)
		for (int v = 0; v < LK_VIEWS; v++)
			for (int j = 0; j < LK_EMBEDDING_DIM; j++)
				mean[j] += refs[c]->views[v].v[j] / (n_vectors + 16);
	for (size_t i = 0; i < n_items; i++) {
		centre(&items[i].emb, mean);
		for (int v = 0; items[i].views && v < LK_VIEWS; v++)
			centre(&items[i].views[v], mean);
		for (int v = 0; v < items[i].n_regions; v++)
			centre(&items[i].regions[v], mean);
	}

	/* Unrelated art that PDQ already calls a copy of a character (within 31 bits, unedited) is
	 * the same picture under another name (the set has such pairs: squares of two sizes, which
	 * the 512x512 rendering makes equal), so it is left out of the negatives. */
	char *duplicate = calloc((size_t)n_svgs, 1);
	int n_duplicates = 0;
	for (size_t i = 0; i < n_items; i++) {
		const struct item *it = &items[i];
		if (it->character >= 0 || it->e != EDIT_NONE || !it->ok || it->pdq.quality < LK_MIN_QUALITY)
			continue;
		for (int c = 0; c < n_chars && !duplicate[it->art]; c++)
			for (int dd = 0; dd < LK_DIHEDRAL_COUNT; dd++)
				if (refs[c]->pdq.quality >= LK_MIN_QUALITY &&
				    lk_pdq_distance(&it->pdq.hash[0], &refs[c]->exact[dd]) <= LK_DEFAULT_BLOCK_THRESHOLD) {
					duplicate[it->art] = 1;
					n_duplicates++;
					break;
				}
	}

	/* Scores: per item, against its own character (queries) or the best of all (negatives).
	 * PDQ as 256 - distance so that higher is more similar for both signals. */
	size_t n_neg = 0;
	double *neg_pdq = malloc(sizeof(double) * n_items), *neg_emb = malloc(sizeof(double) * n_items);
	double *q_pdq = malloc(sizeof(double) * n_items), *q_emb = malloc(sizeof(double) * n_items);
	double *neg_reg = malloc(sizeof(double) * n_items), *q_reg = malloc(sizeof(double) * n_items);
	double *neg_lead = malloc(sizeof(double) * n_items), *q_lead = malloc(sizeof(double) * n_items);
	double *wsim = malloc(sizeof(double) * LK_MAX_REGIONS * (size_t)n_chars);
	int failed = 0;
	char *top1_pdq = calloc(n_items, 1), *top1_emb = calloc(n_items, 1), *top1_reg = calloc(n_items, 1);
	char *top1_lead = calloc(n_items, 1);
	for (size_t i = 0; i < n_items; i++) {
		struct item *it = &items[i];
		if (!it->ok) {
			failed++;
			continue;
		}
		if (it->character < 0 && duplicate[it->art])
			continue;
		double best_pdq = -1, best_emb = -2, best_reg = -2, all_pdq = -1, all_emb = -2, all_reg = -2;
		double best_lead = -4, all_lead = -4;
		int all_pdq_char = -1, all_emb_char = -1, all_reg_char = -1, all_lead_char = -1;
		if (it->n_regions)
			window_similarities(wsim, it, refs, n_chars);
		for (int c = 0; c < n_chars; c++) {
			/* Rank 1 among all characters, for the R@1 columns. */
			double p1 = -1;
			if (it->pdq.quality >= LK_MIN_QUALITY && refs[c]->pdq.quality >= LK_MIN_QUALITY)
				for (int dd = 0; dd < LK_DIHEDRAL_COUNT; dd++) {
					const double p = 256 - lk_pdq_distance(&it->pdq.hash[0], &refs[c]->exact[dd]);
					p1 = p > p1 ? p : p1;
				}
			const double e1 = best_view(it, refs[c]);
			double g1 = -2, l1 = -4;
			for (int w = 0; w < it->n_regions; w++) {
				const double *row = wsim + (size_t)w * n_chars, lead = window_lead(row, c, n_chars);
				g1 = row[c] > g1 ? row[c] : g1;
				l1 = lead > l1 ? lead : l1;
			}
			if (g1 > all_reg)
				all_reg = g1, all_reg_char = c;
			if (l1 > all_lead)
				all_lead = l1, all_lead_char = c;
			if (p1 > all_pdq)
				all_pdq = p1, all_pdq_char = c;
			if (e1 > all_emb)
				all_emb = e1, all_emb_char = c;
			if (it->character >= 0 && it->character != c)
				continue;
			if (it->pdq.quality >= LK_MIN_QUALITY && refs[c]->pdq.quality >= LK_MIN_QUALITY)
				for (int dd = 0; dd < LK_DIHEDRAL_COUNT; dd++) {
					const double p = 256 - lk_pdq_distance(&it->pdq.hash[0], &refs[c]->exact[dd]);
					best_pdq = p > best_pdq ? p : best_pdq;
				}
			best_emb = e1 > best_emb ? e1 : best_emb;
			best_reg = g1 > best_reg ? g1 : best_reg;
			best_lead = l1 > best_lead ? l1 : best_lead;
		}
		if (it->character < 0) {
			neg_pdq[n_neg] = best_pdq;
			neg_reg[n_neg] = best_reg;
			neg_lead[n_neg] = best_lead;
			neg_emb[n_neg++] = best_emb;
		}
		q_pdq[i] = best_pdq;
		q_emb[i] = best_emb;
		q_reg[i] = best_reg;
		q_lead[i] = best_lead;
		top1_reg[i] = all_reg_char == it->character && all_reg > -2;
		top1_lead[i] = all_lead_char == it->character && all_lead > -4;
		top1_pdq[i] = all_pdq_char == it->character && all_pdq >= 0;
		top1_emb[i] = all_emb_char == it->character;
	}

	char machine[400];
	bench_machine(machine, sizeof machine);
	printf("bench_quality: %d characters, %zu negatives (%d unrelated images x %d edits, less %d images PDQ "
	       "calls copies of a character), %d failed; described in %.0f s on %d threads; %s; embedder %s\n\n",
	       n_chars, n_neg, n_neg_art, N_NEG_EDITS, n_duplicates, failed, described, threads, machine,
	       lk_embedder_id(embedder));
	struct scores sc = { neg_pdq, neg_emb, neg_reg, q_pdq, q_emb, q_reg, top1_pdq, top1_emb, top1_reg, n_neg };
	print_tables(&sc, "region similarity");
	if (n_regions) {
		printf("The same with each window scored by its lead over the next character (its similarity to a "
		       "character less its best similarity to any other):\n\n");
		sc.neg_reg = neg_lead;
		sc.q_reg = q_lead;
		sc.top1_reg = top1_lead;
		print_tables(&sc, "region lead");
	}
	printf("*combined: crop to 70-90%% per side, mirror (half of them), colour jitter, text, JPEG q40.\n");
	lk_embedder_close(embedder);
	return 0;
}
