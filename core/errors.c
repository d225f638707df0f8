/* Error codes, their sentences, and the per-thread detail message.
 * libvips keeps one error buffer for the whole process, so details are ours, per thread. */
#include "core/internal.h"

#include <stdio.h>
#include <string.h>

#define DETAIL_MAX 1024

static _Thread_local char detail[DETAIL_MAX];

struct error_text {
	int code;
	const char *name;
	const char *sentence;
};

static const struct error_text texts[] = {
	{ LK_OK, "LK_OK", "success" },
	{ LK_EINVAL, "LK_EINVAL", "invalid argument" },
	{ LK_ENOMEM, "LK_ENOMEM", "out of memory" },
	{ LK_EIO, "LK_EIO", "cannot read the input" },
	{ LK_EEMPTY, "LK_EEMPTY", "the input is empty (zero bytes)" },
	{ LK_ENOTIMAGE, "LK_ENOTIMAGE", "not an image in a supported format" },
	{ LK_EMISMATCH, "LK_EMISMATCH", "the file's extension names an image format but the content is not an image" },
	{ LK_ETRUNCATED, "LK_ETRUNCATED", "image data is truncated" },
	{ LK_ECORRUPT, "LK_ECORRUPT", "image data is corrupt" },
	{ LK_ETOOBIG, "LK_ETOOBIG", "the input is larger than the byte limit" },
	{ LK_EDIMENSIONS, "LK_EDIMENSIONS", "an image side is larger than the side limit" },
	{ LK_EPIXELS, "LK_EPIXELS", "the image has more pixels than the limit (possible decompression bomb)" },
	{ LK_EUNTRUSTED, "LK_EUNTRUSTED", "the format needs a loader that is blocked for untrusted input" },
	{ LK_ECPU, "LK_ECPU", "this CPU lacks an instruction set likeness was built for" },
	{ LK_EINTERNAL, "LK_EINTERNAL", "internal error" },
	{ LK_ENOTFOUND, "LK_ENOTFOUND", "not found" },
	{ LK_EEXISTS, "LK_EEXISTS", "already exists" },
	{ LK_ELOWQUALITY, "LK_ELOWQUALITY", "the image has too little structure for a reliable hash (quality below 50)" },
	{ LK_EREGISTRY, "LK_EREGISTRY", "the registry cannot be used (damaged, locked or of another version)" },
};

static const struct error_text *lookup(int code)
{
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
		if (texts[i].code == code)
			return &texts[i];
	return NULL;
}

const char *lk_strerror(int code)
{
	const struct error_text *t = lookup(code);
	return t ? t->sentence : "unknown error";
}

const char *lk_error_name(int code)
{
	const struct error_text *t = lookup(code);
	return t ? t->name : "LK_E?";
}

const char *lk_error_detail(void)
{
	return detail;
}

void lk__clear_error(void)
{
	detail[0] = '\0';
}

int lk__fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	return code;
}

void lk__prefix_error(const char *prefix)
{
	size_t p = strlen(prefix), d = strlen(detail);
	if (p > DETAIL_MAX - 3)
		p = DETAIL_MAX - 3;
	if (p + 2 + d > DETAIL_MAX - 1)
		d = DETAIL_MAX - 1 - p - 2;
	memmove(detail + p + 2, detail, d);
	memcpy(detail, prefix, p);
	detail[p] = ':';
	detail[p + 1] = ' ';
	detail[p + 2 + d] = '\0';
}
