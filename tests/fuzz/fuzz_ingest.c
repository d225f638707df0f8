/* libFuzzer harness: arbitrary bytes through the whole ingest and hashing path, with small
 * limits so that each input stays cheap. Any crash, sanitizer report or unexpected error code is
 * a finding. Built by scripts/fuzz.sh. */
#include "likeness.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		if (lk_init() != LK_OK)
			abort();
		ready = 1;
	}
	lk_ingest_options opts = LK_INGEST_OPTIONS_INIT;
	opts.max_pixels = 4000000; /* bombs are refused by header: keep runs fast */
	opts.max_bytes = 1 << 20;
	lk_pdq_result r;
	int rc = lk_pdq_hash_bytes(&r, data, size, &opts);
	switch (rc) {
	case LK_OK:
		if (r.quality < 0 || r.quality > 100)
			abort();
		break;
	case LK_EEMPTY: case LK_ENOTIMAGE: case LK_ETRUNCATED: case LK_ECORRUPT: case LK_ETOOBIG:
	case LK_EDIMENSIONS: case LK_EPIXELS: case LK_EUNTRUSTED:
		if (!lk_error_detail()[0])
			abort(); /* every refusal must say why */
		break;
	default:
		abort(); /* EINVAL, ENOMEM, EINTERNAL... are not answers to bad bytes */
	}
	return 0;
}
