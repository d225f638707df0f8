/* What a stored embedding is recognised by: the index file lists each reference it holds with
 * the fingerprint of its embedding, so a reference that reused a removed one's id is told apart. */
#include "index/store/store.h"

#include <string.h>

/* Four independent 64-bit lanes, so the multiplies pipeline: verifying a file of gigabytes
 * then costs a fraction of reading it. */
uint64_t lk__checksum(const void *data, size_t n, uint64_t seed)
{
	const uint64_t k1 = 0x9e3779b97f4a7c15ull, k2 = 0xc2b2ae3d27d4eb4full;
	uint64_t lane[4] = { seed ^ k1, seed ^ k2, seed + k1, seed - k2 };
	const unsigned char *p = data;
	size_t i = 0;
	for (; i + 32 <= n; i += 32)
		for (int l = 0; l < 4; l++) {
			uint64_t w;
			memcpy(&w, p + i + 8 * l, 8);
			lane[l] ^= w * k2;
			lane[l] = ((lane[l] << 31) | (lane[l] >> 33)) * k1;
		}
	uint64_t h = (uint64_t)n * k1;
	for (int l = 0; l < 4; l++)
		h = (h ^ lane[l]) * k2 + (h >> 29);
	for (; i < n; i++)
		h = (h ^ p[i]) * k1;
	return h ^ (h >> 32);
}

uint64_t lk__embedding_fingerprint(const void *blob, size_t bytes)
{
	return lk__checksum(blob, bytes < 1024 ? bytes : 1024, (uint64_t)bytes);
}
