/* bench_identity: every picture rendered, painted into a scene and embedded, as the registry
 * embeds a reference (all its stored views) and as a check embeds a query. */
#include "core/internal.h"
#include "identity.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Photographs of one split, picked by number. */
typedef struct photo_pool {
	const id_photos *p;
	id_split split;
} photo_pool;

static VipsImage *photo(void *ctx, unsigned pick)
{
	const photo_pool *pool = ctx;
	int n = 0;
	for (int i = 0; i < pool->p->n; i++)
		n += pool->p->split[i] == pool->split;
	if (!n)
		return NULL;
	int want = (int)(pick % (unsigned)n);
	for (int i = 0; i < pool->p->n; i++)
		if (pool->p->split[i] == pool->split && want-- == 0) {
			VipsImage *img = vips_image_new_from_file(pool->p->paths[i], NULL);
			if (!img)
				return NULL;
			VipsImage *mem = vips_image_copy_memory(img);
			g_object_unref(img);
			return mem;
		}
	return NULL;
}

/* The art at ID_ART_SIDE, sRGB with alpha, uchar. */
static VipsImage *load_art(const char *path)
{
	VipsImage *t, *u;
	if (vips_thumbnail(path, &t, ID_ART_SIDE, "height", ID_ART_SIDE, "size", VIPS_SIZE_FORCE, NULL))
		return NULL;
	if (vips_colourspace(t, &u, VIPS_INTERPRETATION_sRGB, NULL)) {
		g_object_unref(t);
		return NULL;
	}
	g_object_unref(t);
	if (!vips_image_hasalpha(u)) {
		if (vips_addalpha(u, &t, NULL)) {
			g_object_unref(u);
			return NULL;
		}
		g_object_unref(u);
		u = t;
	}
	if (vips_cast_uchar(u, &t, NULL)) {
		g_object_unref(u);
		return NULL;
	}
	g_object_unref(u);
	u = vips_image_copy_memory(t);
	g_object_unref(t);
	return u;
}

static VipsImage *on_white(VipsImage *rgba)
{
	VipsImage *flat, *mem;
	VipsArrayDouble *white = vips_array_double_newv(3, 255.0, 255.0, 255.0);
	const int rc = vips_flatten(rgba, &flat, "background", white, NULL);
	vips_area_unref(VIPS_AREA(white));
	if (rc)
		return NULL;
	if (vips_cast_uchar(flat, &mem, NULL)) {
		g_object_unref(flat);
		return NULL;
	}
	g_object_unref(flat);
	flat = vips_image_copy_memory(mem);
	g_object_unref(mem);
	return flat;
}

static lk_pixel_view view_of(VipsImage *rgb)
{
	return (lk_pixel_view){ VIPS_IMAGE_ADDR(rgb, 0, 0), rgb->Xsize, rgb->Ysize, VIPS_IMAGE_SIZEOF_LINE(rgb),
				LK_PIXEL_RGB8 };
}

typedef struct work {
	id_track *t;
	const id_photos *photos;
	lk_embedder *e;
	const char *examples;
	int next;
	pthread_mutex_t lock;
} work;

static void save_example(const char *examples, const id_track *t, const id_image *im, VipsImage *scene)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s-%s-%s-%s-%08x.jpg", examples, t->name,
		 im->character >= 0 ? t->characters[im->character].name : "empty", im->pose,
		 scene_background_name(im->info.background), im->seed);
	for (char *c = path + strlen(examples) + 1; *c; c++)
		*c = *c == '/' || *c == ' ' || *c == ':' ? '_' : *c;
	if (vips_jpegsave(scene, path, "Q", 85, NULL))
		vips_error_clear();
}

/* The pictures shown as examples: a few of the test split's scenes. */
static int is_example(const id_track *t, const id_image *im)
{
	const id_split split = im->character >= 0 ? t->characters[im->character].split : im->photo_split;
	return split == SPLIT_TEST && (im->rank == 1 || im->character < 0) &&
	       (im->character < 0 ? im->seed % 40 == 1 : (unsigned)im->character % 25 == 0);
}

static int describe(const work *w, id_image *im)
{
	const id_split split = im->character >= 0 ? w->t->characters[im->character].split : im->photo_split;
	photo_pool pool = { w->photos, split };
	const bench_edit_sources src = { NULL, photo, &pool };
	unsigned seed = im->seed;
	VipsImage *art = NULL, *flat = NULL;
	int rc = LK_OK;
	if (im->character >= 0) {
		if (!(art = load_art(im->path)) || !(flat = on_white(art)))
			rc = LK_EINTERNAL;
		if (rc == LK_OK) {
			const lk_pixel_view v = view_of(flat);
			rc = lk_embed_pixels(&im->plain, w->e, &v, NULL);
		}
		if (rc == LK_OK && im->rank < ID_MAX_K) {
			const lk_image8 img8 = { VIPS_IMAGE_ADDR(flat, 0, 0), flat->Xsize, flat->Ysize,
						 VIPS_IMAGE_SIZEOF_LINE(flat), 3 };
			if (!(im->views = malloc(sizeof *im->views * LK_VIEWS)))
				rc = LK_ENOMEM;
			else
				rc = lk__embed_views(im->views, w->e, &img8);
		}
	}
	VipsImage *scene = rc == LK_OK ? scene_compose(art, 0.15, 0.70, &seed, &src, &im->info) : NULL;
	if (rc == LK_OK && !scene)
		rc = LK_EINTERNAL;
	if (rc == LK_OK) {
		/* The whole scene as a check describes it, and the windows --regions 9 would search. */
		const lk_image8 img8 = { VIPS_IMAGE_ADDR(scene, 0, 0), scene->Xsize, scene->Ysize,
					 VIPS_IMAGE_SIZEOF_LINE(scene), 3 };
		lk_described *d = malloc(sizeof *d);
		rc = d ? lk__describe(d, w->e, &img8, LK_MAX_REGIONS) : LK_ENOMEM;
		if (rc == LK_OK) {
			im->scene = d->whole;
			im->n_windows = d->n_parts;
			if (d->n_parts && !(im->windows = malloc(sizeof *im->windows * (size_t)d->n_parts)))
				rc = LK_ENOMEM;
			else if (d->n_parts)
				memcpy(im->windows, d->parts, sizeof *im->windows * (size_t)d->n_parts);
		}
		free(d);
		/* A few of the test split's scenes, for a person to see what the queries look like. */
		if (w->examples && is_example(w->t, im))
			save_example(w->examples, w->t, im, scene);
	}
	if (scene)
		g_object_unref(scene);
	if (flat)
		g_object_unref(flat);
	if (art)
		g_object_unref(art);
	return rc;
}

static void *worker(void *arg)
{
	work *w = arg;
	for (;;) {
		pthread_mutex_lock(&w->lock);
		const int i = w->next++;
		pthread_mutex_unlock(&w->lock);
		if (i >= w->t->n_images)
			break;
		if (i % 1000 == 0 && i)
			fprintf(stderr, "bench_identity: %s: %d of %d pictures described\n", w->t->name, i,
				w->t->n_images);
		id_image *im = &w->t->images[i];
		im->ok = describe(w, im) == LK_OK;
		if (!im->ok) {
			fprintf(stderr, "bench_identity: %s (%s): %s%s\n", im->path ? im->path : "empty scene", im->pose,
				vips_error_buffer(), lk_error_detail());
			vips_error_clear();
		}
	}
	vips_thread_shutdown();
	return NULL;
}

int id_describe(id_track *t, const id_photos *p, lk_embedder *e, int threads, const char *examples)
{
	vips_cache_set_max(0);
	work w = { t, p, e, examples, 0, PTHREAD_MUTEX_INITIALIZER };
	pthread_t *th = calloc((size_t)threads, sizeof *th);
	if (!th)
		return -1;
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, worker, &w);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	free(th);
	return 0;
}

int id_examples(const id_track *t, const id_photos *p, const char *examples)
{
	int rc = 0;
	for (int i = 0; i < t->n_images && !rc; i++) {
		const id_image *im = &t->images[i];
		if (!is_example(t, im))
			continue;
		/* The same seed and sources as when it was described: the same scene. */
		photo_pool pool = { p, im->character >= 0 ? t->characters[im->character].split : im->photo_split };
		const bench_edit_sources src = { NULL, photo, &pool };
		unsigned seed = im->seed;
		scene_info info;
		VipsImage *art = im->character >= 0 ? load_art(im->path) : NULL;
		VipsImage *scene = im->character < 0 || art ? scene_compose(art, 0.15, 0.70, &seed, &src, &info) : NULL;
		if (scene) {
			id_image shown = *im;
			shown.info = info;
			save_example(examples, t, &shown, scene);
			g_object_unref(scene);
		} else
			rc = -1;
		if (art)
			g_object_unref(art);
	}
	return rc;
}

/* What makes a cache file belong to a run: the embedder, every picture's path, pose, rank and
 * seed, in order (FNV-1a, 64 bits). */
static uint64_t fingerprint(const id_track *t, lk_embedder *e)
{
	uint64_t h = 1469598103934665603ull;
	/* The layout of the file itself: v2 added the scenes' windows. */
	const char *id = lk_embedder_id(e);
	h = (h ^ 2) * 1099511628211ull;
	for (const char *c = id; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ull;
	for (int i = 0; i < t->n_images; i++) {
		const id_image *im = &t->images[i];
		char key[4096];
		snprintf(key, sizeof key, "%s|%s|%d|%u", im->path ? im->path : "", im->pose, im->rank, im->seed);
		for (const char *c = key; *c; c++)
			h = (h ^ (unsigned char)*c) * 1099511628211ull;
	}
	return h;
}

int id_cache_load(id_track *t, lk_embedder *e, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	uint64_t want = fingerprint(t, e), have = 0;
	int rc = fread(&have, sizeof have, 1, f) == 1 && have == want ? 0 : -1;
	for (int i = 0; !rc && i < t->n_images; i++) {
		id_image *im = &t->images[i];
		if (fread(&im->ok, sizeof im->ok, 1, f) != 1 || fread(&im->plain, sizeof im->plain, 1, f) != 1 ||
		    fread(&im->scene, sizeof im->scene, 1, f) != 1 || fread(&im->info, sizeof im->info, 1, f) != 1) {
			rc = -1;
			break;
		}
		/* The style and codec names are the program's own strings: not kept. */
		im->info.style = im->info.codec = NULL;
		if (fread(&im->n_windows, sizeof im->n_windows, 1, f) != 1 || im->n_windows < 0 ||
		    im->n_windows > LK_MAX_REGIONS) {
			rc = -1;
			break;
		}
		if (im->n_windows && (!(im->windows = malloc(sizeof *im->windows * (size_t)im->n_windows)) ||
				      fread(im->windows, sizeof *im->windows, (size_t)im->n_windows, f) !=
					      (size_t)im->n_windows)) {
			rc = -1;
			break;
		}
		if (im->ok && im->character >= 0 && im->rank < ID_MAX_K) {
			if (!(im->views = malloc(sizeof *im->views * LK_VIEWS)) ||
			    fread(im->views, sizeof *im->views, LK_VIEWS, f) != LK_VIEWS)
				rc = -1;
		}
	}
	fclose(f);
	if (rc)
		for (int i = 0; i < t->n_images; i++) {
			free(t->images[i].views);
			free(t->images[i].windows);
			t->images[i].views = NULL;
			t->images[i].windows = NULL;
			t->images[i].n_windows = 0;
			t->images[i].ok = 0;
		}
	return rc;
}

int id_cache_save(const id_track *t, lk_embedder *e, const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	if (!f)
		return -1;
	const uint64_t h = fingerprint(t, e);
	int rc = fwrite(&h, sizeof h, 1, f) == 1 ? 0 : -1;
	for (int i = 0; !rc && i < t->n_images; i++) {
		const id_image *im = &t->images[i];
		if (fwrite(&im->ok, sizeof im->ok, 1, f) != 1 || fwrite(&im->plain, sizeof im->plain, 1, f) != 1 ||
		    fwrite(&im->scene, sizeof im->scene, 1, f) != 1 || fwrite(&im->info, sizeof im->info, 1, f) != 1 ||
		    fwrite(&im->n_windows, sizeof im->n_windows, 1, f) != 1 ||
		    (im->n_windows &&
		     fwrite(im->windows, sizeof *im->windows, (size_t)im->n_windows, f) != (size_t)im->n_windows))
			rc = -1;
		if (!rc && im->ok && im->character >= 0 && im->rank < ID_MAX_K &&
		    fwrite(im->views, sizeof *im->views, LK_VIEWS, f) != LK_VIEWS)
			rc = -1;
	}
	if (fclose(f))
		rc = -1;
	if (!rc && rename(tmp, path))
		rc = -1;
	if (rc)
		remove(tmp);
	return rc;
}
