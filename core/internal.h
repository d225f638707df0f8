/* Internal interfaces shared by the files of core/ and index/. Not installed. */
#ifndef LK_INTERNAL_H
#define LK_INTERNAL_H

#include "likeness.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

/* ---- errors (core/errors.c) */

/* Records `code` and a printf-style detail for the calling thread; returns `code` so that a
 * failure path reads `return lk__fail(LK_EIO, "%s: %s", path, strerror(errno));`. */
int lk__fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clears the calling thread's detail at the start of an API call. */
void lk__clear_error(void);
/* Prefixes the current detail with "`prefix`: " (used to add a file name). */
void lk__prefix_error(const char *prefix);

/* ---- options (core/options.c): the version policy of likeness.h, "Options and versions" */

/* What the library knows of one options struct. The struct's first field is its version. */
struct lk_options_type {
	const char *name;          /* "lk_check_options" */
	const char *init_macro;    /* "LK_CHECK_OPTIONS_INIT" */
	unsigned int current;      /* the version this library was built with */
	const void *defaults;      /* a struct of the current version holding the defaults */
	const size_t *sizes;       /* sizes[v - 1]: the bytes a struct of version v has */
};
/* LK_OK for a version from 1 to t->current; LK_EINVAL with a detail saying why otherwise. */
int lk__options_version(const struct lk_options_type *t, unsigned int version);
/* An lk_*_options_init(): the defaults, as many bytes as `version` has. Clears the detail. */
int lk__options_init(void *opts, unsigned int version, const struct lk_options_type *t);
/* Reads a caller's struct (NULL: all defaults) into `out`, a struct of the current version:
 * the fields the caller's version has are copied, the later ones keep their defaults. */
int lk__options_read(void *out, const void *in, const struct lk_options_type *t);
/* lk__options_read for lk_ingest_options. */
int lk__ingest_options_read(lk_ingest_options *out, const lk_ingest_options *in);

/* ---- runtime (core/runtime.c) */

/* lk_init() for internal callers: LK_OK or the failure already recorded. */
int lk__ensure_init(void);

/* ---- per-thread scratch (core/scratch.c) */

/* Named per-thread buffers that grow but never shrink, so the steady state of a worker thread
 * allocates nothing per image (a fresh multi-MiB buffer costs milliseconds in page faults). */
typedef enum lk_scratch_slot {
	LK_SCRATCH_FILE,     /* encoded bytes read from a file */
	LK_SCRATCH_PIXELS,   /* decoded 8-bit pixels */
	LK_SCRATCH_VIEW,     /* a caller's pixels made contiguous or quantised */
	LK_SCRATCH_PLANES,   /* float luminance and the box filter's work planes */
	LK_SCRATCH_REDUCED,  /* pixels reduced to the working size */
	LK_SCRATCH_SPANS,    /* resampling positions */
	LK_SCRATCH_EMBED,    /* the embedding's half-resampled rows */
	LK_SCRATCH_COUNT
} lk_scratch_slot;

/* A buffer of at least `bytes` for this thread, 64-byte aligned, contents unspecified.
 * NULL (with LK_ENOMEM recorded) if it cannot grow. Valid until the next call for the same
 * slot on this thread. */
void *lk__scratch(lk_scratch_slot slot, size_t bytes);
/* The same, keeping the first `keep` bytes of the slot's contents when it has to grow. */
void *lk__scratch_keep(lk_scratch_slot slot, size_t bytes, size_t keep);

/* ---- decoded pixels (core/ingest*.c) */

/* 8-bit pixels, 1 (grey) or 3 (sRGB) channels, rows `stride` bytes apart. */
typedef struct lk_image8 {
	const unsigned char *data;
	int32_t width;
	int32_t height;
	ptrdiff_t stride;
	int channels;
} lk_image8;

/* The shape every lk_image8 keeps, checked where pixels are read (assert: debug and sanitizer
 * builds): positive sides, 1 or 3 channels, rows at least a row apart in either direction (a
 * flipped view of the caller's pixels has a negative stride). */
#define lk__assert_image8(img)                                                                      \
	assert((img)->width > 0 && (img)->height > 0 && ((img)->channels == 1 || (img)->channels == 3) && \
	       ((img)->stride >= (ptrdiff_t)(img)->width * (img)->channels ||                             \
		-(img)->stride >= (ptrdiff_t)(img)->width * (img)->channels))

/* The side above which PDQ input is reduced to LK_PDQ_WORK_SIDE x LK_PDQ_WORK_SIDE, as the
 * reference tool does: the filter cost grows with the area and the hash does not improve. */
#define LK_PDQ_WORK_SIDE 512

/* Decodes encoded bytes into 8-bit pixels ready for PDQ (see lk_pdq_hash_file for the steps).
 * `name` (may be NULL) is the file name, used for messages and the extension check. `opts` is
 * the caller's, read here by its version (NULL: the defaults). The pixels live in this thread's
 * LK_SCRATCH_PIXELS. */
int lk__decode_for_pdq(lk_image8 *out, lk_source_info *info, const void *data, size_t len,
		       const char *name, const lk_ingest_options *opts);

/* The same for a borrowed pixel view. May point `out` straight at the caller's pixels. */
int lk__view_for_pdq(lk_image8 *out, lk_source_info *info, const lk_pixel_view *view,
		     const lk_ingest_options *opts);

/* Turns a libvips image (any bands, format, colour space) into 8-bit sRGB or grey pixels in
 * this thread's LK_SCRATCH_PIXELS: colour to sRGB (an embedded ICC profile is honoured), alpha
 * composited onto opts->background. Takes ownership of `in`. Failures are classified for
 * `sniffed` bytes of `len` (truncated or corrupt); pass LK_SNIFF_UNKNOWN for raw pixels. */
struct _VipsImage;
int lk__render_image8(lk_image8 *out, struct _VipsImage *in, const lk_ingest_options *opts,
		      int sniffed, const void *data, size_t len);

/* Brings pixels of a source larger than the working size to exactly LK_PDQ_WORK_SIDE square,
 * aspect not kept, by the reference tool's nearest-neighbour sampling. Encoded and raw inputs
 * both go through it, so they agree. */
int lk__fit_work_size(lk_image8 *img);

/* Nearest-neighbour resampling of `in` to out_w x out_h, sampling source column
 * floor(x * width / out_w) and row likewise (the reference's choice), into this thread's
 * LK_SCRATCH_REDUCED. */
int lk__reduce_image8(lk_image8 *out, const lk_image8 *in, int out_w, int out_h);

/* Scratch above this is released after each call: a worker thread keeps what ordinary images
 * need (a 10-megapixel RGB decode) but not what one huge image needed. */
#define LK_SCRATCH_KEEP_BYTES ((size_t)32 << 20)

/* Frees this thread's scratch buffers larger than `keep_bytes`, so that one huge image does
 * not pin its memory in every worker thread for the life of the process. */
void lk__scratch_trim(size_t keep_bytes);

/* What the file-taking entry points share: initialise, read `path` within opts->max_bytes
 * (NULL opts: the defaults), hand the bytes to `use` with the path as their name, and prefix any
 * failure's detail with the path. */
int lk__with_file(const char *path, const lk_ingest_options *opts,
		  int (*use)(const void *data, size_t len, const char *name, const lk_ingest_options *opts, void *ctx),
		  void *ctx);

/* Reads a whole file into this thread's LK_SCRATCH_FILE, refusing files over `max_bytes`. */
int lk__read_file(const void **data, size_t *len, const char *path, size_t max_bytes);

/* ---- hashing (core/pdq_api.c) */

/* lk_pdq_hash_bytes with a file name for messages and the extension check (may be NULL).
 * Initialises the runtime; does not clear the error detail. */
int lk__pdq_from_bytes(lk_pdq_result *out, const void *data, size_t len, const char *name,
		       const lk_ingest_options *opts);

/* When `rc` is LK_OK, hashes decoded pixels into *out (with `info` as its source); then
 * releases oversized scratch. Returns the first failure. */
int lk__pdq_finish(lk_pdq_result *out, int rc, const lk_image8 *img, const lk_source_info *info);

/* Like lk__pdq_finish, but hash[d] is the hash of the image really transformed by d (rotated,
 * mirrored) instead of PDQ's DCT-derived variant. For references: 8 PDQ passes. */
int lk__pdq_dihedral_hashes(lk_pdq_result *out, const lk_image8 *img, const lk_source_info *info);

/* ---- embeddings (core/embed/) */

/* lk_embedder_open, optionally without the prior (to compute one: tools/embed_prior.c). */
int lk__embedder_open(lk_embedder **out, const char *models_dir, int with_prior);
/* The embedder's default negative bank (n descriptors of LK_EMBEDDING_DIM floats), NULL with
 * *n = 0 when its models folder has none. */
const float *lk__embedder_bank(const lk_embedder *e, size_t *n);
/* Describes decoded pixels (the same pixels PDQ hashes). Thread-safe on a shared embedder. */
int lk__embed_image8(lk_embedding *out, lk_embedder *e, const lk_image8 *img);
/* The same, and how strongly each cell of the last feature map (LK_EMBED_GRID square, row by
 * row over the image) responds: where the picture has drawn content. */
#define LK_EMBED_GRID 7
int lk__embed_image8_cells(lk_embedding *out, float cells[LK_EMBED_GRID * LK_EMBED_GRID], lk_embedder *e,
			   const lk_image8 *img);

/* Region search (core/embed/regions.c). A character drawn into a larger picture is a small
 * part of the global descriptor; described on its own it is close to its reference again. */
typedef struct lk_box {
	int x, y, width, height; /* pixels of the described image */
} lk_box;
/* Up to `max` (<= LK_MAX_REGIONS) of the half-side windows on the quarter-side grid, those
 * whose cells' mean response stands out most from the rest of the picture first; none for a
 * picture without response or smaller than 2 pixels a cell. Returns how many. Pure: no CNN. */
int lk__region_proposals(lk_box *boxes, int max, const float cells[LK_EMBED_GRID * LK_EMBED_GRID], int width,
			 int height);
/* What the CNN says about an image: the whole, and the windows region search looks at. */
typedef struct lk_described {
	lk_embedding whole;
	lk_embedding parts[LK_MAX_REGIONS];
	lk_region places[LK_MAX_REGIONS];
	int n_parts;
} lk_described;
/* The whole image and `regions` (0..LK_MAX_REGIONS, not checked) of its windows, as a check
 * describes them. */
int lk__describe(lk_described *d, lk_embedder *e, const lk_image8 *img, int regions);

/* A reference is described as it is and as the edits that move a global descriptor most would
 * show it: mirrored, cropped to 80% of each side (centre and corners), framed by 15% of white.
 * A check's one descriptor is then compared with all of them (database-side augmentation): the
 * cost is paid once, when the reference is added. */
enum { LK_VIEW_FULL, LK_VIEW_MIRROR, LK_VIEW_CROP, LK_VIEW_FRAMED = LK_VIEW_CROP + 5, LK_VIEWS };
int lk__embed_views(lk_embedding out[LK_VIEWS], lk_embedder *e, const lk_image8 *img);

/* ---- format sniffing (core/sniff.c) */

typedef enum lk_sniff_format {
	LK_SNIFF_UNKNOWN = 0,
	LK_SNIFF_PNG,
	LK_SNIFF_JPEG,
	LK_SNIFF_GIF,
	LK_SNIFF_WEBP,
	LK_SNIFF_TIFF,
	LK_SNIFF_HEIF,
	LK_SNIFF_SVG,
	LK_SNIFF_BMP,
} lk_sniff_format;

/* The format the first bytes announce. */
lk_sniff_format lk__sniff(const unsigned char *data, size_t len);
/* The format a file name's extension claims, LK_SNIFF_UNKNOWN for none or an unknown one. */
lk_sniff_format lk__format_from_name(const char *name);
const char *lk__sniff_name(lk_sniff_format f);
/* For formats with an end marker (PNG IEND, JPEG EOI, GIF trailer): 1 if the bytes stop before
 * it, 0 if it is present or the format has none. Explains a decode failure as truncation. */
int lk__looks_truncated(lk_sniff_format f, const unsigned char *data, size_t len);

/* ---- colour (core/icc.c) */

/* 1 if the ICC profile describes itself as sRGB (its 'desc' tag names sRGB), else 0.
 * Safe on any bytes. */
int lk__icc_is_srgb(const void *profile, size_t len);

/* ---- luminance (core/luma.c) */

/* Y = 0.299 R + 0.587 G + 0.114 B in float32, exactly as the PDQ reference computes it. */
void lk__luma_from_image8(float *luma, const lk_image8 *img);

/* ---- PDQ (core/pdq.c) */

/* A rows x cols float plane in this thread's scratch, to be filled with luminance and passed
 * to lk__pdq_plane (which finds its work planes laid out after it). NULL on ENOMEM. */
float *lk__pdq_plane_buffer(int rows, int cols);
/* Hashes a compact rows x cols luminance plane from lk__pdq_plane_buffer, overwriting it.
 * Under 5x5 gives the all-zero hash of quality 0. Sets out->hash and out->quality only. */
void lk__pdq_plane(lk_pdq_result *out, float *plane, int rows, int cols);

#endif
