/* bench_speed's inputs: generated-looking test images and rendered reference art. */
#ifndef LK_BENCH_SPEED_IMAGES_H
#define LK_BENCH_SPEED_IMAGES_H

#include <stddef.h>

#define SPEED_SIDE 1024

/* One test image, in the three forms a caller may hold it. */
struct speed_image {
	unsigned char *rgb; /* SPEED_SIDE x SPEED_SIDE x 3, rows packed */
	void *png;          /* the same pixels as PNG (libvips' default compression) */
	size_t png_len;
	void *jpeg;         /* as JPEG, quality 90 */
	size_t jpeg_len;
};

/* Makes n images: character art svgs[k % n_svgs] at 40-60% of the side, composited onto one
 * of the .jpg files of CORPUS/photos (spread through them) resized to the full side or,
 * without photos, onto a distractor of CORPUS/distractors rendered small, enlarged and
 * blurred. *photos tells which. 0, or -1 with the reason on stderr. */
int speed_images_make(struct speed_image *out, int n, const char *corpus, const char *const *svgs, int n_svgs,
		      int *photos);
void speed_images_free(struct speed_image *imgs, int n);

/* An SVG rendered to fit side x side, flattened onto white, as PNG bytes (free with g_free). */
int speed_render_png(void **png, size_t *len, const char *svg, int side);

/* The names in `dir` ending in `suffix`, sorted, as "dir/name" paths (NULL-terminated; free
 * with speed_free_list). NULL when the folder cannot be read. */
char **speed_list(const char *dir, const char *suffix, int *count);
void speed_free_list(char **list);

#endif
