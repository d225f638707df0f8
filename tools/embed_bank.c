/* likeness-embed-bank: the default negative bank, the descriptors of pictures of no protected
 * character that the character model normalises its scores by when a registry has no negatives
 * of its own (core/embed/embedder.c, BANK_FILE). scripts/prepare-bank.sh runs it at set-up.
 *
 *   likeness-embed-bank MODELS_DIR OUT.f32 CROPS IMAGE...
 *
 * Each IMAGE is described whole, and when its shorter side has at least 512 pixels (a wallpaper,
 * not a sprite) CROPS times more as a square crop of a third to nine tenths of that side at a
 * place drawn from a fixed-seed generator: one wallpaper becomes many full-bleed scenes. Writes n x LK_EMBEDDING_DIM float32 through a temporary file, fsync and
 * rename, so a crash never leaves a partial bank where the embedder would read it. Exit status
 * 0, 2 for wrong arguments, 3 when an image cannot be read, 4 on other failures. */
#include "likeness.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

static uint32_t next_draw(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* A seeded square crop of `path`, described; 0 or -1 (the error detail or vips says why). */
static int embed_crop(lk_embedding *out, lk_embedder *e, const char *path, uint32_t *seed)
{
	VipsImage *img, *flat = NULL, *crop = NULL, *mem = NULL;
	if (vips_thumbnail(path, &img, 1024, "height", 1024, NULL))
		return -1;
	int rc = -1;
	VipsImage *rgb = NULL;
	if (vips_image_hasalpha(img)) {
		VipsArrayDouble *white = vips_array_double_newv(3, 255.0, 255.0, 255.0);
		const int r = vips_flatten(img, &flat, "background", white, NULL);
		vips_area_unref(VIPS_AREA(white));
		if (r)
			goto out;
	} else {
		flat = img;
		g_object_ref(flat);
	}
	if (vips_colourspace(flat, &rgb, VIPS_INTERPRETATION_sRGB, NULL))
		goto out;
	const int w = rgb->Xsize, h = rgb->Ysize, shorter = w < h ? w : h;
	const int side = shorter * (33 + (int)(next_draw(seed) % 58)) / 100;
	const int x = (int)(next_draw(seed) % (uint32_t)(w - side + 1)), y = (int)(next_draw(seed) % (uint32_t)(h - side + 1));
	if (side < 16 || vips_extract_area(rgb, &crop, x, y, side, side, NULL))
		goto out;
	VipsImage *u;
	if (vips_cast_uchar(crop, &u, NULL))
		goto out;
	mem = vips_image_copy_memory(u);
	g_object_unref(u);
	if (!mem)
		goto out;
	const lk_pixel_view v = { VIPS_IMAGE_ADDR(mem, 0, 0), mem->Xsize, mem->Ysize, VIPS_IMAGE_SIZEOF_LINE(mem),
				  mem->Bands == 1 ? LK_PIXEL_GRAY8 : LK_PIXEL_RGB8 };
	rc = lk_embed_pixels(out, e, &v, NULL) == LK_OK ? 0 : -1;
out:
	if (mem)
		g_object_unref(mem);
	if (crop)
		g_object_unref(crop);
	if (rgb)
		g_object_unref(rgb);
	if (flat)
		g_object_unref(flat);
	g_object_unref(img);
	return rc;
}

int main(int argc, char **argv)
{
	char *end;
	const long crops = argc > 3 ? strtol(argv[3], &end, 10) : -1;
	if (argc < 5 || *end || crops < 0 || crops > 100) {
		fputs("usage: likeness-embed-bank MODELS_DIR OUT.f32 CROPS(0..100) IMAGE...\n", stderr);
		return 2;
	}
	if (VIPS_INIT(argv[0]))
		return 4;
	lk_embedder *e;
	if (lk_embedder_open(&e, argv[1]) != LK_OK) {
		fprintf(stderr, "likeness-embed-bank: %s\n", lk_error_detail());
		return 4;
	}
	const size_t n_images = (size_t)(argc - 4), max = n_images * (size_t)(crops + 1);
	lk_embedding *bank = malloc(sizeof *bank * max);
	if (!bank)
		return 4;
	size_t n = 0;
	uint32_t seed = 20261202u;
	for (int i = 4; i < argc; i++) {
		if (lk_embed_file(&bank[n], e, argv[i], NULL) != LK_OK) {
			fprintf(stderr, "likeness-embed-bank: %s\n", lk_error_detail());
			return 3;
		}
		n++;
		VipsImage *header = vips_image_new_from_file(argv[i], NULL);
		const int large = header && header->Xsize >= 512 && header->Ysize >= 512;
		if (header)
			g_object_unref(header);
		vips_error_clear();
		for (long c = 0; large && c < crops; c++) {
			if (embed_crop(&bank[n], e, argv[i], &seed)) {
				fprintf(stderr, "likeness-embed-bank: %s: a crop: %s%s\n", argv[i], vips_error_buffer(),
					lk_error_detail());
				return 3;
			}
			n++;
		}
	}
	lk_embedder_close(e);
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", argv[2], (long)getpid());
	FILE *f = fopen(tmp, "wb");
	int ok = f && fwrite(bank, sizeof *bank, n, f) == n && fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (f && fclose(f) != 0)
		ok = 0;
	free(bank);
	if (!ok || rename(tmp, argv[2]) != 0) {
		fprintf(stderr, "likeness-embed-bank: %s: %s\n", argv[2], strerror(errno));
		unlink(tmp);
		return 4;
	}
	printf("%s: %zu descriptors of %zu images\n", argv[2], n, n_images);
	vips_shutdown();
	return 0;
}
