/* Recognises sRGB ICC profiles, so that images tagged sRGB skip a colour transform that could
 * only move values by rounding (and cost time): the reference PDQ ignores profiles, and an
 * sRGB-tagged file must hash as its untagged twin. Profile bytes come from the image file, so
 * every offset is checked. */
#include "core/internal.h"

#include <string.h>

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int contains(const unsigned char *p, size_t n, const char *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(p + i, needle, m) == 0)
			return 1;
	return 0;
}

int lk__icc_is_srgb(const void *profile, size_t len)
{
	const unsigned char *p = profile;
	if (!p || len < 132 || memcmp(p + 16, "RGB ", 4) != 0)
		return 0;
	const uint32_t tags = be32(p + 128);
	if (tags > (len - 132) / 12)
		return 0;
	for (uint32_t i = 0; i < tags; i++) {
		const unsigned char *t = p + 132 + 12 * (size_t)i;
		if (memcmp(t, "desc", 4) != 0)
			continue;
		const uint32_t off = be32(t + 4), size = be32(t + 8);
		if (off > len || size > len - off)
			return 0;
		/* v2 'desc' holds ASCII, v4 'mluc' UTF-16BE: look for "sRGB" in either. */
		return contains(p + off, size, "sRGB", 4) || contains(p + off, size, "\0s\0R\0G\0B", 8);
	}
	return 0;
}
