/* What the bytes say they are, what the file name says, and whether a known format's data
 * stops before its end marker. These only explain failures; decoding itself is libvips'. */
#include "core/internal.h"

#include <string.h>
#include <strings.h>

static int starts(const unsigned char *d, size_t n, const void *magic, size_t m)
{
	return n >= m && memcmp(d, magic, m) == 0;
}

static int looks_like_svg(const unsigned char *d, size_t n)
{
	size_t limit = n < 1024 ? n : 1024;
	for (size_t i = 0; i + 4 <= limit; i++)
		if (memcmp(d + i, "<svg", 4) == 0)
			return 1;
	return 0;
}

lk_sniff_format lk__sniff(const unsigned char *d, size_t n)
{
	if (starts(d, n, "\x89PNG\r\n\x1a\n", 8))
		return LK_SNIFF_PNG;
	if (starts(d, n, "\xff\xd8\xff", 3))
		return LK_SNIFF_JPEG;
	if (starts(d, n, "GIF87a", 6) || starts(d, n, "GIF89a", 6))
		return LK_SNIFF_GIF;
	if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0)
		return LK_SNIFF_WEBP;
	if (starts(d, n, "II*\0", 4) || starts(d, n, "MM\0*", 4))
		return LK_SNIFF_TIFF;
	if (n >= 12 && memcmp(d + 4, "ftyp", 4) == 0)
		return LK_SNIFF_HEIF;
	if (starts(d, n, "BM", 2))
		return LK_SNIFF_BMP;
	if (looks_like_svg(d, n))
		return LK_SNIFF_SVG;
	return LK_SNIFF_UNKNOWN;
}

lk_sniff_format lk__format_from_name(const char *name)
{
	static const struct {
		const char *ext;
		lk_sniff_format f;
	} map[] = {
		{ "png", LK_SNIFF_PNG },   { "jpg", LK_SNIFF_JPEG },  { "jpeg", LK_SNIFF_JPEG },
		{ "jpe", LK_SNIFF_JPEG },  { "jfif", LK_SNIFF_JPEG }, { "gif", LK_SNIFF_GIF },
		{ "webp", LK_SNIFF_WEBP }, { "tif", LK_SNIFF_TIFF },  { "tiff", LK_SNIFF_TIFF },
		{ "heic", LK_SNIFF_HEIF }, { "heif", LK_SNIFF_HEIF }, { "avif", LK_SNIFF_HEIF },
		{ "svg", LK_SNIFF_SVG },   { "bmp", LK_SNIFF_BMP },
	};
	if (!name)
		return LK_SNIFF_UNKNOWN;
	const char *slash = strrchr(name, '/');
	const char *dot = strrchr(slash ? slash : name, '.');
	if (!dot)
		return LK_SNIFF_UNKNOWN;
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcasecmp(dot + 1, map[i].ext) == 0)
			return map[i].f;
	return LK_SNIFF_UNKNOWN;
}

const char *lk__sniff_name(lk_sniff_format f)
{
	switch (f) {
	case LK_SNIFF_PNG: return "PNG";
	case LK_SNIFF_JPEG: return "JPEG";
	case LK_SNIFF_GIF: return "GIF";
	case LK_SNIFF_WEBP: return "WebP";
	case LK_SNIFF_TIFF: return "TIFF";
	case LK_SNIFF_HEIF: return "HEIF/AVIF";
	case LK_SNIFF_SVG: return "SVG";
	case LK_SNIFF_BMP: return "BMP";
	case LK_SNIFF_UNKNOWN: break;
	}
	return "unknown";
}

/* Walks PNG chunks; truncated if a chunk runs past the end or IEND never comes. */
static int png_truncated(const unsigned char *d, size_t n)
{
	size_t pos = 8;
	while (pos + 12 <= n) {
		size_t len = (size_t)d[pos] << 24 | (size_t)d[pos + 1] << 16 | (size_t)d[pos + 2] << 8 | d[pos + 3];
		if (memcmp(d + pos + 4, "IEND", 4) == 0)
			return 0;
		if (len > n - pos - 12)
			return 1;
		pos += 12 + len;
	}
	return 1;
}

/* JPEG ends with EOI (FF D9); some writers pad after it, so look in the last bytes. */
static int jpeg_truncated(const unsigned char *d, size_t n)
{
	size_t from = n > 64 ? n - 64 : 0;
	for (size_t i = n; i-- > from + 1;)
		if (d[i - 1] == 0xff && d[i] == 0xd9)
			return 0;
	return 1;
}

int lk__looks_truncated(lk_sniff_format f, const unsigned char *d, size_t n)
{
	switch (f) {
	case LK_SNIFF_PNG: return png_truncated(d, n);
	case LK_SNIFF_JPEG: return jpeg_truncated(d, n);
	case LK_SNIFF_GIF: return n < 14 || d[n - 1] != 0x3b;
	default: return 0;
	}
}
