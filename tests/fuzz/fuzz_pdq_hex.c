/* libFuzzer harness: the hash text parser accepts exactly 64 hex digits and round-trips them. */
#include "likeness.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[128];
	if (size >= sizeof text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	lk_pdq_hash h;
	int rc = lk_pdq_from_hex(&h, text);
	int valid = strlen(text) == 64;
	for (size_t i = 0; valid && i < 64; i++)
		valid = isxdigit((unsigned char)text[i]) != 0;
	if ((rc == LK_OK) != valid)
		abort();
	if (rc == LK_OK) {
		char back[LK_PDQ_HEX_LEN + 1];
		lk_pdq_to_hex(back, &h);
		if (strcasecmp(back, text) != 0)
			abort();
	}
	return 0;
}
