/* Helpers shared by the tests: reference data paths, files, images made on the fly. */
#ifndef LK_TEST_FIXTURES_H
#define LK_TEST_FIXTURES_H

#include "likeness.h"

#include <stddef.h>
#include <vips/vips.h>

/* Skips the running test, saying why; or, when LK_TEST_NO_SKIP is set in the environment (CI
 * sets it in .ci/run), fails it: a missing model, loader or tool must not turn a run green with
 * part of the library untested. The reason must be a string literal format. */
int fx_no_skip(void);
#define fx_skip(...)                                                                    \
	do {                                                                            \
		if (fx_no_skip())                                                       \
			cr_assert_fail("would be skipped, and LK_TEST_NO_SKIP forbids skips: " __VA_ARGS__); \
		cr_skip_test(__VA_ARGS__);                                              \
	} while (0)

/* Path of a file in ../shared/vectors/pdq/img, in a static ring of 4 buffers. */
const char *fx_pdq_image(const char *name);

/* Whole file into a malloc'd buffer (abort on failure: fixtures must exist). */
unsigned char *fx_read(const char *path, size_t *len);
/* Writes bytes to a new file under a per-test temporary folder; returns its path (static). */
const char *fx_write_temp(const char *name, const void *data, size_t len);

/* Loads an image file with libvips (whole, sRGB uchar); the caller unrefs it. */
VipsImage *fx_load(const char *path);
/* Encodes with the named saver ("png", "jpeg", "webp", "tif", "gif", ...) and optional libvips
 * option string (e.g. "[Q=50]"). g_free() the result. */
void *fx_encode(VipsImage *img, const char *suffix_and_options, size_t *len);

/* Hashes encoded bytes and asserts success. */
lk_pdq_result fx_hash_bytes(const void *data, size_t len);
/* Encodes with fx_encode and hashes the bytes. */
lk_pdq_result fx_hash_encoded(VipsImage *img, const char *suffix_and_options);
/* Expects identical hashes (all 8 variants) and quality; `what` names the case. */
void fx_expect_same(const lk_pdq_result *a, const lk_pdq_result *b, const char *what);

/* Smallest distance between `a`'s own hash and any of `b`'s dihedral variants. */
int fx_distance(const lk_pdq_result *a, const lk_pdq_result *b);

/* A PNG with the given header and an IDAT of `idat_len` bytes of `idat` (CRCs valid). */
unsigned char *fx_png_with_header(uint32_t w, uint32_t h, int depth, int colour_type,
				  const void *idat, size_t idat_len, size_t *len);

/* The 14 reference inputs of ../shared/vectors/mobilenet_v2 as the models take them: 224 x 224
 * x 3 floats each, pixel / 255, one after another. free() the result. */
enum { FX_CNN_SIDE = 224, FX_CNN_IMAGES = 14 };
float *fx_cnn_inputs(void);

/* max |got - want| / max |want| over n values: the relative error the CNN tests bound. */
double fx_relative_error(const float *got, const float *want, size_t n);

/* A character with default thresholds, enabled. */
lk_character fx_character(const char *slug, const char *name);
/* Creates a registry in `dir` holding character `slug` with `image` (a test vector) as its one
 * reference, and closes it. */
void fx_make_registry(const char *dir, const char *slug, const char *image);

/* A registry of three unlike pictures (characters char1, char2 and char3, each with its
 * char<N>_orig.png test vector as one reference) with an embedder attached, open in a new
 * temporary folder. The embedding thresholds are set for it (copy 0.90, similar 0.60): the
 * defaults were measured on 300 look-alike emoji, where siblings score 0.8-0.9; among these three,
 * copies score 0.69-0.89 and unrelated images at most 0.37 (measured on these files). Skips
 * (fx_skip) when this build has no models. */
struct fx_embedded {
	char dir[300];
	lk_registry *reg;
	lk_embedder *embedder;
};
void fx_embedded_open(struct fx_embedded *f);
void fx_embedded_close(struct fx_embedded *f);

/* Output and exit status of one run of the likeness program. */
struct fx_run {
	int status;
	char out[65536];
	char err[16384];
};
/* Runs `ENV likeness ARGS` through the shell (ARGS may hold redirections). Static result. */
struct fx_run *fx_cli_env(const char *env, const char *args);
struct fx_run *fx_cli(const char *args);
/* A new empty directory under $TMPDIR (static buffer), removed when the test process exits;
 * fx_write_temp's folder too. */
const char *fx_temp_dir(void);

#endif
