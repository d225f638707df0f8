/* An exact multi-index hash over 256-bit codes, for comparison with faiss' structures in
 * bench_binary_index only (not used by the library). Codes are cut into 16 chunks of 16 bits;
 * two codes within distance r agree to within floor(r / 16) bits on at least one chunk
 * (pigeonhole), so probing each chunk's buckets within that many flips finds every code within
 * r, and each candidate is verified with a full popcount. */
#ifndef LK_BENCH_MIH_H
#define LK_BENCH_MIH_H

#include <stddef.h>
#include <stdint.h>

struct mih;

struct mih *mih_build(const unsigned char *codes, size_t n);
void mih_free(struct mih *m);
/* Writes up to `cap` ids within `radius` (inclusive) of `q` into `out`; returns how many. */
size_t mih_search(struct mih *m, const unsigned char *q, int radius, int64_t *out, size_t cap);

#endif
