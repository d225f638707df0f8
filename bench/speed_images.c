/* bench_speed's inputs (speed_images.h), drawn with libvips. What matters for speed is that
 * they look like generated pictures: a full-size photographic or soft backdrop, which costs PNG
 * and JPEG what real outputs cost, with a character somewhere in it. */
#include "speed_images.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

static int has_suffix(const char *name, const char *suffix)
{
	const size_t n = strlen(name), s = strlen(suffix);
	return name[0] != '.' && n > s && !strcmp(name + n - s, suffix);
}

char **speed_list(const char *dir, const char *suffix, int *count)
{
	struct dirent **names;
	const int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return NULL;
	char **list = calloc((size_t)n + 1, sizeof *list);
	int kept = 0;
	for (int i = 0; i < n; i++) {
		if (list && has_suffix(names[i]->d_name, suffix)) {
			list[kept] = malloc(strlen(dir) + strlen(names[i]->d_name) + 2);
			if (list[kept])
				sprintf(list[kept++], "%s/%s", dir, names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
	*count = kept;
	return list;
}

void speed_free_list(char **list)
{
	for (char **p = list; p && *p; p++)
		free(*p);
	free(list);
}

/* 3-band 8-bit sRGB with transparency flattened onto white, as likeness ingests it, so that the
 * peers (which drop alpha) are handed the same picture. *out is a new reference. */
static int to_rgb8(VipsImage *in, VipsImage **out)
{
	VipsImage *base = vips_image_new();
	VipsImage **t = (VipsImage **)vips_object_local_array(VIPS_OBJECT(base), 3);
	int rc = vips_colourspace(in, &t[0], VIPS_INTERPRETATION_sRGB, NULL);
	VipsImage *x = t[0];
	if (!rc && vips_image_hasalpha(x)) {
		VipsArrayDouble *white = vips_array_double_newv(3, 255.0, 255.0, 255.0);
		rc = vips_flatten(x, &t[1], "background", white, NULL);
		vips_area_unref(VIPS_AREA(white));
		x = t[1];
	}
	if (!rc)
		rc = vips_cast_uchar(x, &t[2], NULL);
	if (!rc) {
		*out = t[2];
		g_object_ref(*out);
	}
	g_object_unref(base);
	return rc;
}

int speed_render_png(void **png, size_t *len, const char *svg, int side)
{
	VipsImage *base = vips_image_new();
	VipsImage **t = (VipsImage **)vips_object_local_array(VIPS_OBJECT(base), 2);
	const int rc = vips_thumbnail(svg, &t[0], side, "height", side, NULL) || to_rgb8(t[0], &t[1]) ||
		       vips_pngsave_buffer(t[1], png, len, NULL);
	g_object_unref(base);
	return rc ? -1 : 0;
}

/* The backdrop of image k, SPEED_SIDE square. Distractor art is rendered at an eighth of the
 * side and enlarged, then blurred: shapes and colour without a second sharp subject. */
static int backdrop(VipsImage *base, VipsImage **out, const char *path, int photo)
{
	VipsImage **t = (VipsImage **)vips_object_local_array(VIPS_OBJECT(base), 4);
	if (photo)
		return vips_thumbnail(path, &t[0], SPEED_SIDE, "height", SPEED_SIDE, "size", VIPS_SIZE_FORCE, NULL) ||
		       to_rgb8(t[0], out);
	return vips_thumbnail(path, &t[1], SPEED_SIDE / 8, "height", SPEED_SIDE / 8, "size", VIPS_SIZE_FORCE, NULL) ||
	       to_rgb8(t[1], &t[2]) || vips_resize(t[2], &t[3], 8.0, NULL) || vips_gaussblur(t[3], out, 6.0, NULL);
}

static int make_one(struct speed_image *out, const char *background, int photo, const char *svg, int k)
{
	VipsImage *base = vips_image_new();
	VipsImage **t = (VipsImage **)vips_object_local_array(VIPS_OBJECT(base), 7);
	/* 40% to 60% of the side, placed at a different spot in each image */
	const int side = (int)(SPEED_SIDE * (0.40 + 0.20 * (double)(k % 16) / 15.0));
	int rc = backdrop(base, &t[0], background, photo) || vips_thumbnail(svg, &t[1], side, "height", side, NULL) ||
		 vips_colourspace(t[1], &t[2], VIPS_INTERPRETATION_sRGB, NULL);
	if (!rc) {
		const int x = (SPEED_SIDE - t[2]->Xsize) * ((k * 7 + 3) % 11) / 10;
		const int y = (SPEED_SIDE - t[2]->Ysize) * ((k * 5 + 2) % 9) / 8;
		/* the backdrop is opaque, so dropping the composite's alpha loses nothing */
		rc = vips_composite2(t[0], t[2], &t[3], VIPS_BLEND_MODE_OVER, "x", x, "y", y, NULL) ||
		     vips_extract_band(t[3], &t[4], 0, "n", 3, NULL) || vips_cast_uchar(t[4], &t[5], NULL);
	}
	size_t size = 0;
	if (!rc)
		out->rgb = vips_image_write_to_memory(t[5], &size);
	g_object_unref(base);
	if (rc || !out->rgb || size != (size_t)SPEED_SIDE * SPEED_SIDE * 3)
		return -1;
	/* All three forms from the same pixels: the inputs differ by their encoding alone. */
	VipsImage *mem = vips_image_new_from_memory(out->rgb, size, SPEED_SIDE, SPEED_SIDE, 3, VIPS_FORMAT_UCHAR);
	rc = !mem || vips_pngsave_buffer(mem, &out->png, &out->png_len, NULL) ||
	     vips_jpegsave_buffer(mem, &out->jpeg, &out->jpeg_len, "Q", 90, NULL);
	if (mem)
		g_object_unref(mem);
	return rc ? -1 : 0;
}

int speed_images_make(struct speed_image *out, int n, const char *corpus, const char *const *svgs, int n_svgs,
		      int *photos)
{
	char dir[4096];
	int n_photos = 0, n_sets = 0, rc = 0;
	snprintf(dir, sizeof dir, "%s/photos", corpus);
	char **photo = speed_list(dir, ".jpg", &n_photos);
	snprintf(dir, sizeof dir, "%s/distractors", corpus);
	char **sets = n_photos ? NULL : speed_list(dir, "", &n_sets);
	*photos = n_photos > 0;
	memset(out, 0, sizeof *out * (size_t)n);
	if (!n_photos && !n_sets) {
		fprintf(stderr, "bench_speed: %s has neither photos/*.jpg nor distractors/*/\n", corpus);
		rc = -1;
	}
	for (int k = 0; k < n && !rc; k++) {
		char *background = NULL;
		char **files = NULL;
		if (n_photos) {
			/* spread through the folder: neighbours may be crops of one picture */
			background = photo[(size_t)k * (size_t)n_photos / (size_t)n];
		} else {
			/* a different set for each image in turn, a file spread through it */
			int n_files = 0;
			files = speed_list(sets[k % n_sets], ".svg", &n_files);
			if (files && n_files)
				background = files[(k / n_sets * 37 + 11) % n_files];
		}
		if (!background || make_one(&out[k], background, n_photos > 0, svgs[k % n_svgs], k)) {
			fprintf(stderr, "bench_speed: test image %d (%s on %s): %s\n", k, svgs[k % n_svgs],
				background ? background : "no background", vips_error_buffer());
			rc = -1;
		}
		speed_free_list(files);
	}
	speed_free_list(photo);
	speed_free_list(sets);
	if (rc)
		speed_images_free(out, n);
	return rc;
}

void speed_images_free(struct speed_image *imgs, int n)
{
	for (int k = 0; k < n; k++) {
		g_free(imgs[k].rgb);
		g_free(imgs[k].png);
		g_free(imgs[k].jpeg);
		imgs[k].rgb = NULL;
		imgs[k].png = imgs[k].jpeg = NULL;
	}
}
