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
 * - Options are passed as structs initialised with their `_INIT` macro, so fields added later
 *   keep a sensible default in old callers; a NULL options pointer means "all defaults".
 * - Nothing allocated by likeness crosses the API without a matching free function.
 * - Thread safety is stated per function. All functions in this version are safe to call from
 *   many threads at once: each thread keeps its own scratch buffers.
 *
 * Process-wide side effects: the first call initialises libvips once for the process (VIPS_INIT,
 * about 35 ms), switches its operation cache off (so a reused input buffer can never return a
 * stale image), blocks libvips' loaders that are not safe for untrusted input, sets libvips'
 * own worker concurrency to 1 (likeness parallelises across images, not within one), and drops
 * libvips' log warnings about damaged files (likeness reports each failure as an error).
 *
 * Environment: index searches run on faiss' OpenMP threads (libgomp). Start processes that embed
 * likeness with OMP_WAIT_POLICY=PASSIVE (the `likeness` program sets it for itself): with the
 * default active waiting, idle OpenMP workers spin and halve batch search throughput on two
 * cores. libgomp reads it once at load, so a library cannot set it for you.
 */
#ifndef LIKENESS_H
#define LIKENESS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LK_VERSION_MAJOR 0
#define LK_VERSION_MINOR 1
#define LK_VERSION_PATCH 0
#define LK_VERSION_STRING "0.1.0"

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
} lk_error;

/* The fixed sentence for an error code ("image data is truncated"). Never NULL; unknown codes
 * give "unknown error". The string is static. Thread-safe. */
const char *lk_strerror(int code);

/* The short stable name of an error code ("LK_ETRUNCATED"), for logs and JSON. Static. */
const char *lk_error_name(int code);

/* Detail of the last failure on the calling thread, e.g. "x.png: PNG data ends after 1200 of
 * 5000 bytes". Empty string if the last call succeeded. Valid until the next likeness call on
 * this thread. Thread-safe (thread-local). */
const char *lk_error_detail(void);

/* ---------------------------------------------------------------- runtime */

/* Initialises the process-wide state described at the top of this file. Calling it is
 * optional (every entry point does it on first use) but lets a server pay the ~35 ms at start-up
 * and learn early about a problem. Returns LK_OK, or LK_EINTERNAL if libvips cannot start.
 * Thread-safe; idempotent. */
int lk_init(void);

/* LK_OK when this CPU can run this build's index code, LK_ECPU otherwise, with a detail naming
 * what is missing. The default build links faiss compiled for AVX2; loading the library on a
 * CPU without AVX2 prints that detail and exits with status 4 before anything else runs
 * (faiss' own start-up code could already crash there). A build made with
 * LK_FAISS_OPT=generic runs anywhere. Thread-safe. */
int lk_cpu_check(void);

/* The library's version, LK_VERSION_STRING at build time. Static string. */
const char *lk_version(void);

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
int lk_pdq_hash_file(lk_pdq_result *out, const char *path, const lk_ingest_options *opts);

/* As lk_pdq_hash_file, from encoded bytes in memory (a PNG, JPEG, WebP, ... file's content).
 * `data` is only read during the call. Thread-safe. */
int lk_pdq_hash_bytes(lk_pdq_result *out, const void *data, size_t len,
		      const lk_ingest_options *opts);

/* As lk_pdq_hash_file, from borrowed raw pixels; no copy is made for RGB8 and GRAY8 views up
 * to 512x512. The same pixels give the same hash as a lossless encoding of them (PNG).
 * Thread-safe. */
int lk_pdq_hash_pixels(lk_pdq_result *out, const lk_pixel_view *view,
		       const lk_ingest_options *opts);

/* Hash a luminance plane directly (Y = 0.299 R + 0.587 G + 0.114 B, 0..255), row-major with a
 * stride counted in floats. Images under 5x5 give an all-zero hash of quality 0, as the
 * reference does. No resizing is done. Thread-safe. */
int lk_pdq_hash_luma(lk_pdq_result *out, const float *luma, int32_t width, int32_t height,
		     ptrdiff_t stride);

/* Writes the 64 lower-case hex digits of `hash` and a NUL into `out`, which must hold
 * LK_PDQ_HEX_LEN + 1 bytes. The text is the reference implementation's. Returns LK_OK, or
 * LK_EINVAL for a NULL pointer. */
int lk_pdq_to_hex(char *out, const lk_pdq_hash *hash);

/* Parses 64 hex digits (either case) into `out`. Returns LK_EINVAL on any other length or a
 * non-hex character. */
int lk_pdq_from_hex(lk_pdq_hash *out, const char *hex);

/* Number of differing bits, 0..256. */
int lk_pdq_distance(const lk_pdq_hash *a, const lk_pdq_hash *b);

#ifdef __cplusplus
}
#endif
#endif /* LIKENESS_H */
