/*
 * likeness.h: the whole public API of likeness, a filter that recognises copies of protected
 * characters in generated images.
 *
 * Conventions (the same for every function below):
 * - Everything public starts with `lk_` / `LK_`. Handles are opaque; value types (a hash, a
 *   result) are plain structs the caller owns and may copy.
 * - Functions return an `int`: LK_OK (0) on success, a negative `lk_error` otherwise. Output
 *   parameters come first and are written only on success.
 * - Every failure also leaves a human-readable detail in a thread-local buffer, read with
 *   lk_error_detail() on the same thread before the next likeness call on it.
 * - Options and versions: every options struct (lk_*_options) begins with `unsigned int
 *   version`, which its `_INIT` macro or its lk_*_options_init() sets to the struct's version in
 *   the header the caller was compiled with (LK_*_OPTIONS_VERSION). A struct only grows at its
 *   end, and each field added raises its version (a struct holding another, as lk_check_options
 *   holds lk_ingest_options, raises its own when the inner one grows). The library accepts
 *   every version from 1 to its own: the fields an older version lacks take their defaults, so a
 *   program built against an older header keeps working. Version 0 (a struct never
 *   initialised) and versions newer than the library's are refused with LK_EINVAL: the caller
 *   set fields this library would silently ignore. A NULL options pointer means all defaults.
 * - Results and versions: the structs likeness fills (lk_check_result and its matches,
 *   lk_pdq_result, lk_index_info, lk_registry_info, lk_character, lk_reference, lk_embedding)
 *   are the caller's memory. When one grows, the functions that fill it are exported again
 *   under a new symbol version (include/likeness.map) and the old ones stay, writing the old
 *   layout: a program keeps getting the layout of the header it was compiled with, without
 *   being rebuilt. Loaders that look functions up by name (dlsym, Python's ctypes) get the
 *   newest, so a binding must come from the same release as the library (the Python binding
 *   is installed with it and checks every layout it mirrors in its tests).
 * - Nothing allocated by likeness crosses the API without a matching free function.
 * - Thread safety: every function may be called from many threads at once, on the same handle
 *   too (each thread keeps its own scratch buffers and error detail), except the three that end
 *   or set up a handle, whose comments say so: lk_embedder_close() and lk_registry_close() (no
 *   call may be running on the handle) and lk_registry_set_embedder() (before the registry is
 *   shared).
 *
 * Process-wide side effects: the first call initialises libvips once for the process (VIPS_INIT,
 * tens of milliseconds), switches its operation cache off (so a reused input buffer can never
 * return a stale image), blocks libvips' loaders that are not safe for untrusted input, sets
 * libvips' own worker concurrency to 1 (likeness parallelises across images, not within one),
 * and drops libvips' log warnings about damaged files (likeness reports each failure as an
 * error).
 *
 * Environment: index searches run on faiss' OpenMP threads (libgomp). Start processes that embed
 * likeness with OMP_WAIT_POLICY=PASSIVE (the `likeness` program sets it for itself): with the
 * default active waiting, idle OpenMP workers spin and take the cores the checks need (README,
 * "Registry size"). libgomp reads it once at load, so a library cannot set it for you.
 */
#ifndef LIKENESS_H
#define LIKENESS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks what the shared library exports. The library is built with hidden visibility by
 * default, so that nothing but these functions (no internal lk__ helper, no symbol of faiss or
 * the C++ runtime) becomes part of its ABI; tests/test_exports.sh holds it to that. */
#ifndef LK_API
#if defined(__GNUC__) || defined(__clang__)
#define LK_API __attribute__((visibility("default")))
#else
#define LK_API
#endif
#endif

#define LK_VERSION_MAJOR 0
#define LK_VERSION_MINOR 1
#define LK_VERSION_PATCH 0
#define LK_VERSION_STRING "0.1.0"
/* MAJOR * 10000 + MINOR * 100 + PATCH: comparable with < and >. */
#define LK_VERSION_NUMBER (LK_VERSION_MAJOR * 10000 + LK_VERSION_MINOR * 100 + LK_VERSION_PATCH)

/* ---------------------------------------------------------------- errors */

/* Error codes. Each has a fixed sentence (lk_strerror) and, per failure, a detail message
 * (lk_error_detail) that names the input and what exactly was wrong. Values are stable. */
typedef enum lk_error {
	LK_OK = 0,
	LK_EINVAL = -1,          /* an argument is NULL, out of range or inconsistent */
	LK_ENOMEM = -2,          /* an allocation failed */
	LK_EIO = -3,             /* a file could not be opened or read */
	LK_EEMPTY = -4,          /* the input has zero bytes */
	LK_ENOTIMAGE = -5,       /* the bytes are not an image format likeness can read */
	LK_EMISMATCH = -6,       /* the file name claims an image format, the content is no image */
	LK_ETRUNCATED = -7,      /* the image data ends early */
	LK_ECORRUPT = -8,        /* the image data is damaged or invalid */
	LK_ETOOBIG = -9,         /* the encoded input is larger than max_bytes */
	LK_EDIMENSIONS = -10,    /* a side of the image is larger than max_side */
	LK_EPIXELS = -11,        /* width x height is above max_pixels (decompression bomb guard) */
	LK_EUNTRUSTED = -12,     /* only a loader unsafe for untrusted input could read it */
	LK_ECPU = -13,           /* this CPU lacks an instruction set the build needs (AVX2) */
	LK_EINTERNAL = -14,      /* a bug or an unexpected library failure */
	LK_ENOTFOUND = -15,      /* no such registry, character or reference */
	LK_EEXISTS = -16,        /* the registry, character or reference already exists */
	LK_ELOWQUALITY = -17,    /* the image's PDQ quality is below 50: too little structure */
	LK_EREGISTRY = -18,      /* the registry's files are damaged, locked or of another version */
} lk_error;

/* The fixed sentence for an error code ("image data is truncated"). Never NULL; unknown codes
 * give "unknown error". The string is static. Thread-safe. */
LK_API const char *lk_strerror(int code);

/* The short stable name of an error code ("LK_ETRUNCATED"), for logs and JSON. Static. */
LK_API const char *lk_error_name(int code);

/* Detail of the last failure on the calling thread, e.g. "x.png: PNG data ends after 1200 of
 * 5000 bytes". Empty string if the last call succeeded. Valid until the next likeness call on
 * this thread. Thread-safe (thread-local). */
LK_API const char *lk_error_detail(void);

/* ---------------------------------------------------------------- runtime */

/* Initialises the process-wide state described at the top of this file. Calling it is
 * optional (every entry point does it on first use) but lets a server pay libvips' start-up
 * and learn early about a problem. Returns LK_OK, or LK_EINTERNAL if libvips cannot start.
 * Thread-safe; idempotent. */
LK_API int lk_init(void);

/* LK_OK when this CPU can run this build's index code, LK_ECPU otherwise, with a detail naming
 * what is missing. The default build links faiss compiled for AVX2; loading the library on a
 * CPU without AVX2 prints that detail and exits with status 4 before anything else runs
 * (faiss' own start-up code could already crash there). A build made with
 * LK_FAISS_OPT=generic runs anywhere. Thread-safe. */
LK_API int lk_cpu_check(void);

/* The library's version, LK_VERSION_STRING at build time. Static string. */
LK_API const char *lk_version(void);

/* The library's LK_VERSION_NUMBER at build time, which may differ from the header's that a
 * program was compiled with when the shared library was replaced since. */
LK_API unsigned int lk_version_number(void);

/* ---------------------------------------------------------------- ingest */

/* Limits and choices for turning an input into pixels. Initialise with LK_INGEST_OPTIONS_INIT
 * and change what you need. */
typedef struct lk_ingest_options {
	unsigned int version;        /* LK_INGEST_OPTIONS_VERSION */
	size_t max_bytes;            /* largest encoded input accepted (default 64 MiB) */
	uint64_t max_pixels;         /* largest width x height accepted (default 100 megapixels) */
	uint32_t max_side;           /* largest width or height accepted (default 32768) */
	unsigned char background[3]; /* sRGB colour transparent pixels are composited onto
	                                (default white: generated art with alpha is usually shown
	                                on white, and the reference PDQ tool cannot read alpha) */
	int allow_svg;               /* render SVG (default 1). librsvg is not on libvips' list of
	                                loaders safe for hostile input; likeness allows it because
	                                character art is often SVG, and renders only after the size
	                                checks. Set 0 to refuse SVG with LK_EUNTRUSTED. */
} lk_ingest_options;

#define LK_INGEST_OPTIONS_VERSION 1
#define LK_INGEST_OPTIONS_INIT \
	{ LK_INGEST_OPTIONS_VERSION, (size_t)64 << 20, 100000000u, 32768u, { 255, 255, 255 }, 1 }

/* Fills *opts with the defaults of options version `version` (LK_INGEST_OPTIONS_VERSION, or an
 * older one: only the fields that version has are written), as the _INIT macro does; for
 * bindings that cannot use the macro. LK_EINVAL for a version this library does not know. The
 * other lk_*_options_init() functions work the same way. */
LK_API int lk_ingest_options_init(lk_ingest_options *opts, unsigned int version);

/* Pixel layouts a caller can lend without encoding. Channels are interleaved, rows top to
 * bottom; colour is taken as sRGB. */
typedef enum lk_pixel_format {
	LK_PIXEL_RGB8 = 1,   /* 3 bytes a pixel */
	LK_PIXEL_RGBA8 = 2,  /* 4 bytes a pixel, straight (not premultiplied) alpha */
	LK_PIXEL_GRAY8 = 3,  /* 1 byte a pixel */
	LK_PIXEL_RGBF32 = 4, /* 3 floats a pixel, 0..1; quantised as round(x * 255) after clamping,
	                        ties to even, as numpy's round() does when a pipeline saves it */
} lk_pixel_format;

/* A borrowed view of pixels: likeness reads them during the call and keeps nothing. `stride` is
 * the distance in bytes from one row to the next and may exceed width x pixel size (a crop of
 * a larger buffer) or be negative (a vertically flipped view; `data` then points at the first
 * row shown). */
typedef struct lk_pixel_view {
	const void *data;
	int32_t width;
	int32_t height;
	ptrdiff_t stride;
	lk_pixel_format format;
} lk_pixel_view;

/* What was learnt about the source while ingesting it. */
typedef struct lk_source_info {
	int32_t width;          /* as stored, before EXIF orientation */
	int32_t height;
	char format[16];        /* "png", "jpeg", "webp", "gif", "tiff", "heif", "svg", "raw", ... */
} lk_source_info;

/* ---------------------------------------------------------------- PDQ */

#define LK_PDQ_BITS 256
#define LK_PDQ_BYTES 32
#define LK_PDQ_HEX_LEN 64 /* characters, without the terminating NUL */

/* A 256-bit PDQ hash. `bytes` holds the bits in the order of the reference hex text (the first
 * byte is the first two hex digits), which is also how ThreatExchange tools and FAISS binary
 * indexes store it. */
typedef struct lk_pdq_hash {
	unsigned char bytes[LK_PDQ_BYTES];
} lk_pdq_hash;

/* The eight dihedral transforms of the square, in the reference implementation's order. A
 * hash's variant for transform T is (to within 12-16 bits) the hash of the image transformed by
 * T, so one image hashed with its variants matches mirrored and rotated copies. */
typedef enum lk_dihedral {
	LK_DIHEDRAL_ORIGINAL = 0,
	LK_DIHEDRAL_ROT90 = 1,       /* counter-clockwise */
	LK_DIHEDRAL_ROT180 = 2,
	LK_DIHEDRAL_ROT270 = 3,
	LK_DIHEDRAL_FLIPX = 4,       /* top/bottom */
	LK_DIHEDRAL_FLIPY = 5,       /* mirror left/right */
	LK_DIHEDRAL_FLIP_PLUS1 = 6,  /* transpose */
	LK_DIHEDRAL_FLIP_MINUS1 = 7, /* anti-transpose */
	LK_DIHEDRAL_COUNT = 8
} lk_dihedral;

/* "original", "rot90", "rot180", "rot270", "flipx", "flipy", "flipplus1", "flipminus1" (the
 * reference implementation's names); "?" for other values. Static. */
LK_API const char *lk_dihedral_name(lk_dihedral d);

/* PDQ of one image. */
typedef struct lk_pdq_result {
	lk_pdq_hash hash[LK_DIHEDRAL_COUNT]; /* [LK_DIHEDRAL_ORIGINAL] is the image's own hash */
	int quality;        /* 0..100; below 50 the bits are mostly noise and must not be matched */
	lk_source_info source;
} lk_pdq_result;

/* Hash an image file. The format is recognised from the content, not the name; a name that
 * claims an image format over content that is no image gives LK_EMISMATCH. EXIF orientation is
 * applied, colour converted to sRGB, alpha composited onto opts->background, and only the first
 * frame of an animation or page of a document is used. Images larger than 512 on a side are
 * reduced to 512x512 (aspect not kept, as the reference tool does), decoding at reduced size
 * where the format allows it. Thread-safe. */
LK_API int lk_pdq_hash_file(lk_pdq_result *out, const char *path, const lk_ingest_options *opts);

/* As lk_pdq_hash_file, from encoded bytes in memory (a PNG, JPEG, WebP, ... file's content).
 * `data` is only read during the call. Thread-safe. */
LK_API int lk_pdq_hash_bytes(lk_pdq_result *out, const void *data, size_t len,
		      const lk_ingest_options *opts);

/* As lk_pdq_hash_file, from borrowed raw pixels; no copy is made for RGB8 and GRAY8 views up
 * to 512x512. The same pixels give the same hash as a lossless encoding of them (PNG).
 * Thread-safe. */
LK_API int lk_pdq_hash_pixels(lk_pdq_result *out, const lk_pixel_view *view,
		       const lk_ingest_options *opts);

/* Hash a luminance plane directly (Y = 0.299 R + 0.587 G + 0.114 B, 0..255), row-major with a
 * stride counted in floats. Images under 5x5 give an all-zero hash of quality 0, as the
 * reference does. No resizing is done. Thread-safe. */
LK_API int lk_pdq_hash_luma(lk_pdq_result *out, const float *luma, int32_t width, int32_t height,
		     ptrdiff_t stride);

/* Writes the 64 lower-case hex digits of `hash` and a NUL into `out`, which must hold
 * LK_PDQ_HEX_LEN + 1 bytes. The text is the reference implementation's. Returns LK_OK, or
 * LK_EINVAL for a NULL pointer. */
LK_API int lk_pdq_to_hex(char *out, const lk_pdq_hash *hash);

/* Parses 64 hex digits (either case) into `out`. Returns LK_EINVAL on any other length or a
 * non-hex character. */
LK_API int lk_pdq_from_hex(lk_pdq_hash *out, const char *hex);

/* Number of differing bits, 0..256. */
LK_API int lk_pdq_distance(const lk_pdq_hash *a, const lk_pdq_hash *b);

/* ---------------------------------------------------------------- embeddings */

/* The second signal: a descriptor of the image's content from a CNN, which survives the crops,
 * borders and overlays that move a PDQ hash far away. likeness runs the network itself on
 * OpenBLAS: MobileNetV2 width 1.4 (the TF-Hub feature-vector backbone shipped by the npm package
 * nsfwjs 4.3.0, MIT; scripts/fetch-models.sh installs it), the image squashed to 224x224,
 * blurred (sigma 1.2 px) so that JPEG noise and resampling grain do not reach the features,
 * and the last feature map (7x7x1792) pooled by generalised mean (p = 3); then the art prior
 * (the mean descriptor of typical character art, computed at set-up) is subtracted and the
 * result L2-normalised, so that unlike pictures score near 0 rather than 0.8.
 *
 * Thread safety: an open lk_embedder may be used by any number of threads at once; each
 * concurrent call borrows its own working memory (every layer's output: tens of MB), kept for
 * reuse until close. */
typedef struct lk_embedder lk_embedder;

#define LK_EMBEDDING_DIM 1792
#define LK_EMBEDDER_ID_MAX 64

typedef struct lk_embedding {
	float v[LK_EMBEDDING_DIM]; /* unit length; similarity is the dot product */
} lk_embedding;

/* Loads the model from `models_dir`, the folder scripts/fetch-models.sh prints (it holds
 * mobilenet_v2_mid/model.json, and embedding-prior.f32 once scripts/build.sh has run). NULL
 * means the LIKENESS_MODELS environment variable, else the folder this build was configured
 * with. LK_ENOTFOUND names what is missing; LK_ECORRUPT when a file is damaged. Free with
 * lk_embedder_close(). */
LK_API int lk_embedder_open(lk_embedder **out, const char *models_dir);

/* NULL is allowed; no call may be running on it. */
LK_API void lk_embedder_close(lk_embedder *e);

/* Identifies the descriptor (network, weights fingerprint, pooling, preprocessing): vectors
 * from embedders with different ids must never be compared. Valid until close. */
LK_API const char *lk_embedder_id(const lk_embedder *e);

/* Describe an image. Ingest is the same as for lk_pdq_hash_*: same formats, limits, errors,
 * orientation, colour and alpha handling. Thread-safe. */
LK_API int lk_embed_file(lk_embedding *out, lk_embedder *e, const char *path, const lk_ingest_options *opts);
LK_API int lk_embed_bytes(lk_embedding *out, lk_embedder *e, const void *data, size_t len,
		   const lk_ingest_options *opts);
LK_API int lk_embed_pixels(lk_embedding *out, lk_embedder *e, const lk_pixel_view *view,
		    const lk_ingest_options *opts);

/* Cosine similarity of two embeddings, -1..1 (1: the same picture). */
LK_API float lk_embedding_similarity(const lk_embedding *a, const lk_embedding *b);

/* A part of an image, as fractions of its upright width and height (0..1), so that it holds
 * whatever size the image is shown at. */
typedef struct lk_region {
	float x, y, width, height;
} lk_region;

/* The most parts of an image region search describes: the nine windows of half the image's
 * width and height, on a grid a quarter of a side apart. */
#define LK_MAX_REGIONS 9

/* Describes an image as a check with region search does (lk_check_options.regions): the whole
 * into *whole, and `regions` (0..LK_MAX_REGIONS) of its windows into parts[0..*n_parts) with
 * where each lies in places[]; fewer (even none) when the picture is blank or smaller than 14
 * pixels a side. For measuring the region signal on known negatives (likeness calibrate
 * --regions). Thread-safe. */
LK_API int lk_embed_regions_file(lk_embedding *whole, lk_embedding parts[LK_MAX_REGIONS], lk_region places[LK_MAX_REGIONS],
			  int *n_parts, lk_embedder *e, const char *path, int regions, const lk_ingest_options *opts);

/* ---------------------------------------------------------------- registry */

/* A registry of protected characters and their reference images: one directory holding an
 * SQLite database (the record) from which the search indexes are built. Every change is one
 * transaction: a process killed mid-write leaves the previous state readable, and checks
 * running meanwhile keep answering from the last complete state.
 *
 * Thread safety: an open lk_registry may be used by any number of threads at once for checks
 * and reads; writes are serialised inside it. Other processes may write the same directory;
 * each check notices a newer version and switches to it before answering, so a takedown stops
 * matching at once everywhere. */
typedef struct lk_registry lk_registry;

#define LK_SLUG_MAX 64      /* bytes, with NUL: a character's stable id, [a-z0-9._-] */
#define LK_TEXT_MAX 256     /* bytes, with NUL: names, holders, licences, notes, lists */

/* Default PDQ thresholds (Hamming distance, inclusive): <= block blocks, <= review asks a
 * person. 31 is the PDQ convention. 55 stays well below the closest unrelated pair measured
 * among real character images while catching most text overlays (README, "The likeness
 * program"), which PDQ alone cannot call copies with certainty. */
#define LK_DEFAULT_BLOCK_THRESHOLD 31
#define LK_DEFAULT_REVIEW_THRESHOLD 55
/* Hashes of lower quality are never matched: their bits are mostly noise. */
#define LK_MIN_QUALITY 50

/* Creates an empty registry in `dir` (created if missing; must not hold a registry yet). */
LK_API int lk_registry_create(const char *dir);

/* Opens an existing registry. Free with lk_registry_close(). */
LK_API int lk_registry_open(lk_registry **out, const char *dir);

/* Closes it; in-flight checks on other threads must have returned. NULL is allowed. */
LK_API void lk_registry_close(lk_registry *reg);

/* Embedding similarities (centred on the registry's references, see "embeddings") at or above
 * which a match is a copy (block) or a similar picture (review), until calibrated: the 0.1% and
 * 1% false-positive points bench/quality.sh measures on edited unrelated images (README,
 * "Embeddings"). */
#define LK_DEFAULT_EMBED_COPY 0.90f
#define LK_DEFAULT_EMBED_SIMILAR 0.81f

/* Sets the registry's embedding thresholds (centred similarity, -1..1, similar <= copy), in
 * effect for the next check in every process. A calibration on known negatives chooses them
 * for a target false-positive rate. */
LK_API int lk_registry_set_embedding_thresholds(lk_registry *reg, float copy, float similar);

/* Region search (lk_check_options.regions) compares windows of the image with the references
 * and scores each window by its lead: its similarity to the nearest reference less its
 * similarity to the nearest reference of any other character (when the registry holds no other
 * character, the similarity itself). A window of unrelated art in the registry's style resembles
 * several characters about equally; a copy pasted into a scene stands out from all but one.
 * Scored by plain similarity, the same windows caught far fewer pasted copies (README, "Region
 * search"). The defaults are the lead's 0.1% and 1% false-positive points measured by
 * bench/quality.sh --regions 9; calibrate a
 * registry with few characters (likeness calibrate --regions). */
#define LK_DEFAULT_REGION_COPY 0.31f
#define LK_DEFAULT_REGION_SIMILAR 0.25f

/* Sets the registry's region thresholds (leads, 0 < similar <= copy <= 2), in effect for the
 * next check in every process. */
LK_API int lk_registry_set_region_thresholds(lk_registry *reg, float copy, float similar);

/* The lead of one window (an lk_embed_regions_file part) as a check scores it, with the
 * similarity and id of the reference it comes nearest (-1 and similarity and lead -2 when the
 * registry holds no embeddings). What a calibration of the region thresholds measures on known
 * negatives. Thread-safe. */
LK_API int lk_registry_region_lead(float *lead, float *similarity, int64_t *reference_id, lk_registry *reg,
			    const lk_embedding *part);

/* The highest similarity of `image` (an lk_embed_* result by the attached embedder) to any view
 * of any enabled reference, centred as checks centre it, with that reference's id (-1 and a
 * similarity of -2 when the registry holds no embeddings). What a calibration measures on
 * known negatives. Thread-safe. */
LK_API int lk_registry_best_similarity(float *similarity, int64_t *reference_id, lk_registry *reg,
				const lk_embedding *image);

/* Attaches an embedder (or detaches with NULL): from then on, image references added are also
 * described by it, and checks use the embedding signal beside PDQ. The embedder is borrowed and
 * must outlive its use. LK_EREGISTRY if the registry's embeddings were made by an embedder with
 * another id (they cannot be compared). Not thread-safe: attach before sharing the registry. */
LK_API int lk_registry_set_embedder(lk_registry *reg, lk_embedder *e);

/* ---- the approximate embedding index
 *
 * Checks search the references' embeddings exactly, which costs time in proportion to the
 * registry's size. Past LK_EMBED_INDEX_RECOMMENDED embedded references, an inverted-file index
 * (faiss IVF, inner product) answers faster at a measured recall: lk_registry_build_index()
 * trains one on the current embeddings and keeps it as the file `embeddings.ivf` in the
 * registry directory, which every process opening the registry then uses (memory-mapped).
 * References added after the build are searched exactly beside it; removed or disabled ones
 * are filtered out of its answers, so a takedown still takes effect at once. A damaged file is
 * refused (checks fall back to exact search); a file made for another embedder is ignored.
 * Rebuild when many references were added since (lk_index_info.delta_references). */

/* Embedded references past which the index pays. An image reference is 8 vectors, so this is
 * 20,000 vectors, where exact search costs about as much as the CNN pass of the check itself
 * and IVF a small part of it; below it, exact search is a small part of a check and an index
 * only adds a build and a recall below 1 (README, "Float index"). */
#define LK_EMBED_INDEX_RECOMMENDED 2500

/* What the registry's index file is to the checks. */
typedef enum lk_index_state {
	LK_INDEX_NONE = 0,    /* no index file: exact search */
	LK_INDEX_CURRENT = 1, /* valid and in use (with references added since searched exactly) */
	LK_INDEX_STALE = 2,   /* valid but made from another embedder's vectors: ignored */
	LK_INDEX_REFUSED = 3, /* damaged, truncated or of another format: ignored (see detail) */
} lk_index_state;

/* "none", "current", "stale", "refused"; "?" for other values. Static. */
LK_API const char *lk_index_state_name(int state);

typedef struct lk_index_options {
	unsigned int version; /* LK_INDEX_OPTIONS_VERSION */
	int nlist;            /* lists (k-means cells); 0: about 4 x sqrt(vectors), at most
	                         vectors / 39 so that every cell has training points */
	int nprobe;           /* lists searched per query; 0: twice the smallest meeting
	                         target_recall (the sample is easier than real edits) */
	float target_recall;  /* 0 < r <= 1: share of sample queries that must get exact search's
	                         answer (the same vector: the same reference at the same
	                         similarity); half are held-out stored views (a crop asking for its
	                         reference's other views), half stored vectors moved to cosine 0.9
	                         (default 0.99) */
	int sample;           /* queries measuring the recall, 1..100000 (default 500) */
	int threads;          /* for training and measuring; 0: one per core */
} lk_index_options;

#define LK_INDEX_OPTIONS_VERSION 1
#define LK_INDEX_OPTIONS_INIT { LK_INDEX_OPTIONS_VERSION, 0, 0, 0.99f, 500, 0 }

/* As lk_ingest_options_init, for lk_index_options. */
LK_API int lk_index_options_init(lk_index_options *opts, unsigned int version);

/* The index file as it stands, and how it relates to the registry now. */
typedef struct lk_index_info {
	lk_index_state state;
	uint64_t built_version;      /* registry version the index was built from */
	uint64_t registry_version;   /* the registry's version now */
	int64_t references;          /* embedded references the index holds */
	int64_t vectors;             /* their views (LK_EMBEDDING_DIM floats each) */
	int64_t delta_references;    /* embedded references it does not hold (added since): searched
	                                exactly beside it */
	int64_t embedded_references; /* embedded references in the registry now */
	int nlist, nprobe;
	float recall;                /* measured at nprobe, on `sample` queries (see options) */
	int sample;
	double build_seconds;        /* training, adding and measuring */
	int64_t built_at;            /* Unix time */
	uint64_t file_bytes;
	char embedder[LK_EMBEDDER_ID_MAX]; /* whose vectors it holds */
	char detail[LK_TEXT_MAX];    /* why STALE or REFUSED; "" otherwise */
} lk_index_info;

/* Builds the index from every embedded reference the registry holds now, choosing nprobe as
 * documented in lk_index_options, and replaces `embeddings.ivf` atomically (a crash leaves the
 * old file or the new, never a mix); *out describes the new file (may be NULL). Takes seconds
 * to minutes (k-means over the vectors); checks on other threads and processes go on meanwhile
 * and use the file from their next snapshot. LK_EINVAL for bad options (detail names which),
 * LK_ENOTFOUND when no reference has an embedding, LK_EIO when the file cannot be written.
 * Thread-safe; two builds at once both succeed and the later rename wins. */
LK_API int lk_registry_build_index(lk_index_info *out, lk_registry *reg, const lk_index_options *opts);

/* Describes the index file and its state for this registry (verifying the file once per
 * change of it). A damaged file is not an error here: state LK_INDEX_REFUSED with the reason
 * in detail. Thread-safe. */
LK_API int lk_registry_index_info(lk_index_info *out, lk_registry *reg);

/* The registry's version: it increases with every committed change. */
LK_API int lk_registry_version(uint64_t *out, lk_registry *reg);

/* What a registry holds, for people and monitoring. */
typedef struct lk_registry_info {
	uint64_t version;
	int64_t characters, enabled_characters;
	int64_t references, embedded_references; /* the latter have embeddings */
	char embedder[LK_EMBEDDER_ID_MAX];       /* made them; "" when none has yet */
	float embed_copy, embed_similar;         /* thresholds in effect (defaults or calibrated) */
	int calibrated;                          /* 1 when set by calibration or the API */
	float region_copy, region_similar;       /* the same for region search */
	int region_calibrated;                   /* 1 when set by calibration or the API */
} lk_registry_info;

/* Fills *out from one consistent read of the registry. */
LK_API int lk_registry_info_get(lk_registry_info *out, lk_registry *reg);

/* A protected character. Lists (aliases, labels) are comma-separated. */
typedef struct lk_character {
	int64_t id;                      /* set by the registry */
	char slug[LK_SLUG_MAX];          /* stable id chosen by the user, e.g. "ultraman" */
	char name[LK_TEXT_MAX];
	char aliases[LK_TEXT_MAX];
	char rights_holder[LK_TEXT_MAX];
	char licence[LK_TEXT_MAX];       /* licence or notes on the rights */
	char labels[LK_TEXT_MAX];
	int block_threshold;             /* -1: LK_DEFAULT_BLOCK_THRESHOLD */
	int review_threshold;            /* -1: LK_DEFAULT_REVIEW_THRESHOLD */
	int enabled;                     /* 0: kept but never matched */
	int64_t references;              /* set by the registry: how many references it has */
	float embed_copy;                /* embedding thresholds for this character, 0 < t <= 1; */
	float embed_similar;             /* 0 (LK_EMBED_INHERIT): the registry's */
	/* Added in LIKENESS_0.2 (older programs keep the layout above, see "Results and
	 * versions"; characters they add get the defaults of the fields below). */
	char franchise[LK_SLUG_MAX];     /* the series it belongs to: one rights holder's set of
	                                    characters, a slug; "" (or its own slug): its own */
	int block_on_character;          /* 1: a picture that shows this character blocks even when it
	                                    copies no reference (the stricter standard); 0: review */
	float character_threshold;       /* the character score that flags it; 0 (LK_EMBED_INHERIT):
	                                    the registry's (see lk_character_decision) */
} lk_character;

/* Zero, so that a zeroed lk_character inherits the registry's embedding thresholds. */
#define LK_EMBED_INHERIT 0.0f
/* A character with every threshold inherited, enabled; fill in slug and name. */
#define LK_CHARACTER_INIT                                                                        \
	{ .block_threshold = -1, .review_threshold = -1, .enabled = 1, .embed_copy = LK_EMBED_INHERIT, \
	  .embed_similar = LK_EMBED_INHERIT }

/* Adds a character. slug and name are required; LK_EEXISTS if the slug is taken. */
LK_API int lk_character_add(lk_registry *reg, const lk_character *character);

/* Reads one character by slug. */
LK_API int lk_character_get(lk_character *out, lk_registry *reg, const char *slug);

/* Replaces every field of an existing character except id and slug. */
LK_API int lk_character_update(lk_registry *reg, const lk_character *character);

/* Enables or disables matching against a character, effective for the next check. */
LK_API int lk_character_set_enabled(lk_registry *reg, const char *slug, int enabled);

/* Removes a character and all its references (a takedown), effective for the next check. */
LK_API int lk_character_remove(lk_registry *reg, const char *slug);

/* Copies up to `cap` characters, ordered by slug, into `out` and sets *total to how many
 * there are (so a caller can size a second call). `out` may be NULL when cap is 0. */
LK_API int lk_character_list(lk_character *out, size_t cap, size_t *total, lk_registry *reg);

/* A reference image of a character, as its hashes. */
typedef struct lk_reference {
	int64_t id;
	char character[LK_SLUG_MAX];
	char sha256[65];                     /* of the source bytes; empty for imported hashes */
	char source[LK_TEXT_MAX];            /* file name or import source */
	lk_pdq_hash hash[LK_DIHEDRAL_COUNT]; /* the image's hash, then the hashes of its 7 rotations
	                                        and mirrors, hashed from the transformed pixels (a
	                                        bare imported hash repeats itself here) */
	int quality;
	int allow;                           /* licensed or own content: suppresses matches */
	int64_t added_at;                    /* Unix time */
} lk_reference;

typedef struct lk_reference_options {
	unsigned int version;      /* LK_REFERENCE_OPTIONS_VERSION */
	int allow;                 /* mark as licensed/own content (allow-list) */
	const char *source;        /* recorded source name; NULL: the file name, or "" */
	lk_ingest_options ingest;
} lk_reference_options;

#define LK_REFERENCE_OPTIONS_VERSION 1
#define LK_REFERENCE_OPTIONS_INIT { LK_REFERENCE_OPTIONS_VERSION, 0, NULL, LK_INGEST_OPTIONS_INIT }

/* As lk_ingest_options_init, for lk_reference_options (its `ingest` too). */
LK_API int lk_reference_options_init(lk_reference_options *opts, unsigned int version);

/* Adds an image file as a reference of character `slug`: its PDQ hash and the hashes of its 7
 * rotations and mirrors, each computed from the transformed pixels (PDQ's DCT-derived variants
 * can land past the match radius on flat cartoon art). LK_ELOWQUALITY if its PDQ quality is
 * below LK_MIN_QUALITY (it could never match); LK_EEXISTS if the same bytes are already a
 * reference of that character. *out_id (may be NULL) receives the new id. */
LK_API int lk_reference_add_file(int64_t *out_id, lk_registry *reg, const char *slug, const char *path,
			  const lk_reference_options *opts);

/* As lk_reference_add_file, from encoded bytes. */
LK_API int lk_reference_add_bytes(int64_t *out_id, lk_registry *reg, const char *slug, const void *data,
			   size_t len, const lk_reference_options *opts);

/* Adds a reference from a PDQ hash alone (a rights holder's hash list). Its rotations cannot be
 * hashed without pixels; checks compare the image's own dihedral variants against it instead,
 * so rotated and mirrored copies still match (less tightly on flat art). */
LK_API int lk_reference_add_hash(int64_t *out_id, lk_registry *reg, const char *slug,
			  const lk_pdq_hash *hash, int quality, const lk_reference_options *opts);

/* One line of a hash list. */
typedef struct lk_hash_entry {
	lk_pdq_hash hash;
	int quality;               /* 0..100; below LK_MIN_QUALITY the whole batch is refused */
	const char *character;     /* slug of an existing character */
	const char *source;        /* recorded source (may be NULL) */
} lk_hash_entry;

/* Adds many hash references in one transaction (a rights holder's hash bank: a million lines
 * take seconds, not a million commits). All or nothing: an unknown character, a quality out of
 * range or below LK_MIN_QUALITY refuses the batch with the entry's index in the detail. Hashes
 * already listed for their character are skipped; *added (may be NULL) counts the new ones.
 * opts->allow applies to all of them. */
LK_API int lk_reference_add_hashes(size_t *added, lk_registry *reg, const lk_hash_entry *entries, size_t n,
			    const lk_reference_options *opts);

/* Removes one reference, effective for the next check. */
LK_API int lk_reference_remove(lk_registry *reg, int64_t id);

/* Copies up to `cap` references (of `slug`, or all when NULL), ordered by id. */
LK_API int lk_reference_list(lk_reference *out, size_t cap, size_t *total, lk_registry *reg,
		      const char *slug);

/* ---------------------------------------------------------------- negative bank
 *
 * Pictures of no protected character, which character scores are normalised against (see
 * lk_character_decision). A sample of the platform's own outputs is the best bank it can have.
 * While a registry holds none, the attached embedder's default bank is used when its models
 * folder holds one (negative-bank.f32); with no bank at all, the character model reports its
 * scores and decides nothing. Each change is one versioned transaction, in effect for the next
 * check in every process. Needs an attached embedder (lk_registry_set_embedder). Thread-safe. */
typedef struct lk_negative {
	int64_t id;
	char source[LK_TEXT_MAX];  /* file name */
	char sha256[65];           /* of the file's bytes, hex */
	int64_t added_at;          /* Unix time */
} lk_negative;

/* Adds an image file to the registry's negative bank (its embedding only: the picture is not
 * kept). LK_EEXISTS if the same bytes are in the bank already; LK_EINVAL without an embedder. */
LK_API int lk_negative_add_file(int64_t *out_id, lk_registry *reg, const char *path,
				const lk_ingest_options *opts);
/* Removes one; LK_ENOTFOUND when there is none with that id. */
LK_API int lk_negative_remove(lk_registry *reg, int64_t id);
/* Copies up to `cap` negatives, by id, into `out` and sets *total to how many there are. */
LK_API int lk_negative_list(lk_negative *out, size_t cap, size_t *total, lk_registry *reg);

/* ---------------------------------------------------------------- check */

typedef enum lk_verdict {
	LK_VERDICT_ALLOW = 0,
	LK_VERDICT_REVIEW = 1,
	LK_VERDICT_BLOCK = 2,
} lk_verdict;

/* "allow", "review", "block". */
LK_API const char *lk_verdict_name(lk_verdict v);

#define LK_MAX_MATCHES 8

/* The signals a check uses. */
#define LK_SIGNAL_PDQ 1u
#define LK_SIGNAL_EMBEDDING 2u
#define LK_SIGNAL_REGION 4u    /* the embedding of a part of the image (lk_check_options.regions) */


/* What a match says about the image. A copy is the reference itself, edited (PDQ within its
 * thresholds, or an embedding at least as similar as the copy threshold). A similar picture
 * shares the reference's look without being shown a copy: the embedding is a weak signal of
 * "same character, other drawing", so it only ever asks for review. */
typedef enum lk_reason {
	LK_REASON_NONE = 0,
	LK_REASON_COPY = 1,
	LK_REASON_SIMILAR = 2,
	LK_REASON_CHARACTER = 3, /* the image shows a registered character (lk_character_decision),
	                            without copying one of its references */
} lk_reason;

/* "none", "copy", "similar", "character". */
LK_API const char *lk_reason_name(lk_reason r);

/* One reference the image came close to. */
typedef struct lk_match {
	int64_t reference_id;
	char character[LK_SLUG_MAX];
	char character_name[LK_TEXT_MAX];
	int distance;              /* PDQ Hamming distance, 0..256; -1 when only the embedding found
	                              this reference */
	lk_dihedral transform;     /* how the image relates to the reference: ORIGINAL, FLIPY (a
	                              mirrored copy), ROT90 (turned 90 degrees counter-clockwise), ... */
	int block_threshold;       /* the thresholds that applied to this character */
	int review_threshold;
	lk_verdict verdict;        /* what this match alone would mean */
	int allow;                 /* the reference is licensed/own content */
	float similarity;          /* embedding similarity to this reference; -2 when not compared */
	unsigned signals;          /* LK_SIGNAL_* that found it within their thresholds */
	lk_reason reason;          /* why it matters: a copy, or a similar picture */
	float region_similarity;   /* LK_SIGNAL_REGION: the window's similarity, else -2 */
	float region_lead;         /* LK_SIGNAL_REGION: its lead over the next character (see
	                              LK_DEFAULT_REGION_COPY), else -2 */
	lk_region region;          /* LK_SIGNAL_REGION: where that part is; else all zero */
} lk_match;

/* Which registered character the image shows, judged from all of each character's references
 * and against a bank of unrelated pictures, not from the nearest reference alone. A new pose of
 * a character copies none of its references; the character model still recognises it.
 *
 * The character score: the image's mean similarity to the character's two nearest references
 * (its one, when it has one; each reference by its best stored view, centred as the embedding
 * search centres), less LK_CHARACTER_BANK_WEIGHT times the image's mean similarity to its
 * LK_CHARACTER_BANK_NEAREST nearest pictures of the negative bank. The second term is what
 * the image resembles anyway: a generic picture in a popular style comes close to many
 * characters and to many unrelated pictures alike, a picture of one character only to that
 * one. bench/identity.sh measured this against the nearest reference alone (README,
 * "Characters"). A franchise's score is its best character's. */
typedef struct lk_character_decision {
	char character[LK_SLUG_MAX];   /* the best-scoring character; "" when none was scored (no
	                                  embedding, or no embedded reference) */
	char character_name[LK_TEXT_MAX];
	char franchise[LK_SLUG_MAX];   /* its franchise (its own slug when it has none) */
	float score;                   /* its character score, which is also the franchise's */
	float threshold;               /* the score that flags it: the character's own, else the one
	                                  lk_registry_calibrate_characters gave it, else the
	                                  registry's (calibrated, else LK_DEFAULT_CHARACTER_THRESHOLD).
	                                  The character named is the one whose score exceeds its
	                                  threshold by most (with one threshold for all, the best) */
	float margin;                  /* score less that of the franchise's next character; the score
	                                  itself when no other character of the franchise was scored */
	char runner_up[LK_SLUG_MAX];   /* that next character, "" when none */
	int character_uncertain;       /* 1 when the margin is below LK_CHARACTER_MARGIN: the franchise
	                                  is shown, which of its characters is not sure */
	double false_positive_rate;    /* the share of the calibration's unrelated pictures that scored
	                                  at least this high against any character ("1 in N"); -1
	                                  when the registry was not calibrated */
	int64_t calibration_negatives; /* how many unrelated pictures that share comes from */
	int n_nearest;                 /* the character's nearest references, best first */
	int64_t nearest[3];
	float nearest_similarity[3];
	int bank_pictures;             /* pictures of the negative bank the score was normalised by */
	lk_verdict verdict;            /* this decision alone: ALLOW below the threshold or without a
	                                  negative bank, else REVIEW (BLOCK for a character with
	                                  block_on_character) */
} lk_character_decision;

/* The bank term's weight and depth in the character score, and the default threshold until a
 * calibration sets one: chosen on bench/identity.sh's validation split, never its test split
 * (README, "Characters"). The threshold is the higher of the two tracks' 1% false-positive
 * points (0.476 for game characters, 0.502 for emoji) with the default bank. */
#define LK_CHARACTER_BANK_WEIGHT 0.75f
#define LK_CHARACTER_BANK_NEAREST 10
#define LK_DEFAULT_CHARACTER_THRESHOLD 0.50f
/* Below this margin over the franchise's next character, the character is uncertain. */
#define LK_CHARACTER_MARGIN 0.02f

/* The character model's decision (lk_character_decision) for an image already embedded by the
 * attached embedder, exactly as a check makes it: what a calibration measures on known
 * negatives, and what a benchmark measures without decoding each picture again. `out` is
 * filled (character "" when nothing could be scored). Thread-safe. */
LK_API int lk_registry_character_score(lk_character_decision *out, lk_registry *reg, const lk_embedding *image);

/* The most negative scores a character calibration keeps. */
#define LK_CHARACTER_CALIBRATION_MAX 4096

/* Sets the registry's character threshold (a score, -2..2) and what checks estimate a score's
 * false-positive rate from: the best character scores (lk_registry_character_score) of
 * `negatives` unrelated pictures, of which `scores` holds the highest n_scores (any order; at
 * most LK_CHARACTER_CALIBRATION_MAX and at most `negatives`). One change, in effect for the next
 * check in every process. */
LK_API int lk_registry_set_character_calibration(lk_registry *reg, float threshold, const float *scores,
						 size_t n_scores, int64_t negatives);

/* How strongly `likeness calibrate` holds each character to its own negatives
 * (lk_registry_calibrate_characters' per_character) unless told otherwise: chosen on the
 * validation split of bench/identity.sh's identity track (game characters, the case likeness
 * exists for, and the larger validation set), which preferred one threshold for all at every k.
 * The concept track's validation, 93 negatives per half, preferred 0.75; on both tracks' test
 * splits a per-character term lost recall at a matched false-positive rate (README,
 * "Characters"). */
#define LK_CHARACTER_PER_CHARACTER 0.0f

/* Calibrates the character model at the operator's false-positive rate on `n` of the operator's
 * own unrelated pictures (embedded by the attached embedder; a sample of the platform's outputs
 * that a person has cleared is best), as one change in effect for the next check.
 *
 * Each character's threshold is the registry's plus per_character (0..1) times how far the mean
 * of its LK_CHARACTER_CALIBRATION_TAIL highest scores of these pictures lies from the median
 * character's: a character that unrelated pictures come close to is held to a higher score than
 * one they never resemble. The registry's threshold is then the lowest that flags at most
 * floor(false_positive_rate * n) of the pictures against any character, each held to its own;
 * their highest scores on that scale stay for "1 in N" estimates. per_character 0 gives one
 * threshold for all (lk_registry_set_character_calibration). A character added later takes the
 * registry's threshold; one given its own (lk_character.character_threshold) keeps it. This
 * replaces any earlier character calibration.
 *
 * *out_threshold: the registry's threshold; *out_flagged: how many of the pictures it flags.
 * LK_EINVAL without pictures, with a rate outside [0, 1), or when no reference has an
 * embedding. Scores each picture twice; memory grows with the characters, not the pictures.
 * Thread-safe. */
LK_API int lk_registry_calibrate_characters(float *out_threshold, size_t *out_flagged, lk_registry *reg,
					    const lk_embedding *negatives, size_t n, double false_positive_rate,
					    float per_character);
#define LK_CHARACTER_CALIBRATION_TAIL 5

typedef struct lk_check_result {
	lk_verdict verdict;
	char reason[LK_TEXT_MAX];  /* one sentence a person can act on */
	int quality;               /* of the image; below LK_MIN_QUALITY nothing is matched */
	lk_pdq_hash hash;          /* the image's own PDQ hash */
	lk_source_info source;
	int n_matches;             /* closest first, at most LK_MAX_MATCHES */
	lk_match matches[LK_MAX_MATCHES];
	uint64_t registry_version; /* the state that decided */
	unsigned signals;          /* LK_SIGNAL_* the check used */
	lk_reason reason_code;     /* the decisive match's reason, LK_REASON_NONE when allowed */
	int n_regions;             /* parts of the image region search described */
	lk_region regions[LK_MAX_REGIONS];
	double decode_ms, hash_ms, embed_ms, search_ms, total_ms;
	/* Added in LIKENESS_0.2 (older programs keep the layout above). */
	lk_character_decision character; /* the character model's decision, whatever the verdict */
} lk_check_result;

typedef struct lk_check_options {
	unsigned int version;      /* LK_CHECK_OPTIONS_VERSION */
	lk_ingest_options ingest;
	int hash_only;             /* 1: PDQ alone, even with an embedder attached (faster) */
	/* Region search: this many of the LK_MAX_REGIONS half-size windows (0..LK_MAX_REGIONS) are
	 * described and searched on their own, to find a character drawn small into a larger
	 * scene. Fewer than all: the windows whose content stands out most from the rest of the
	 * image (by the CNN's last feature map). Each costs one more CNN pass. 0: off. */
	int regions;
} lk_check_options;

/* Version 2 added hash_only, version 3 regions. */
#define LK_CHECK_OPTIONS_VERSION 3
#define LK_CHECK_OPTIONS_INIT { LK_CHECK_OPTIONS_VERSION, LK_INGEST_OPTIONS_INIT, 0, 0 }

/* As lk_ingest_options_init, for lk_check_options (its `ingest` too). */
LK_API int lk_check_options_init(lk_check_options *opts, unsigned int version);

/* Checks an image against the registry: ingest, hash, search, decide. A match to an enabled
 * character at distance <= its block threshold blocks; <= its review threshold asks for review;
 * an allow-listed reference of the same character at least as close suppresses that
 * character's matches. Thread-safe on a shared registry. */
LK_API int lk_check_file(lk_check_result *out, lk_registry *reg, const char *path,
		  const lk_check_options *opts);
LK_API int lk_check_bytes(lk_check_result *out, lk_registry *reg, const void *data, size_t len,
		   const lk_check_options *opts);
LK_API int lk_check_pixels(lk_check_result *out, lk_registry *reg, const lk_pixel_view *view,
		    const lk_check_options *opts);
/* Decides for an already computed PDQ result (e.g. from lk_pdq_hash_*). */
LK_API int lk_check_pdq(lk_check_result *out, lk_registry *reg, const lk_pdq_result *pdq);

/* Checks `n` files on up to `threads` threads of its own (0: one per core), for callers with a
 * batch in hand. results[i] and codes[i] (LK_OK or the error of that file) are filled for every
 * i; lk_error_detail() on the calling thread describes the first failure afterwards. Returns
 * LK_OK when every file was checked, else the first failing file's code; LK_EINVAL (nothing
 * done) for bad arguments. Thread-safe like lk_check_file. */
LK_API int lk_check_files(lk_check_result *results, int *codes, lk_registry *reg, const char *const *paths,
		   size_t n, const lk_check_options *opts, int threads);

#ifdef __cplusplus
}
#endif
#endif /* LIKENESS_H */
