/* Other tools' image hashes, run by the benchmarks on the same pixels as likeness, in the same
 * run: OpenCV's contrib img_hash module (PHash, BlockMean, ColorMoment, RadialVariance), from
 * Debian's libopencv-contrib-dev. A bench-only dependency: without OpenCV the benchmarks build
 * with no peers (bench_peer_count() == 0). Implemented in bench/peers_opencv.cpp.
 *
 * Scores are oriented like likeness's: higher is more similar, whatever the peer's own
 * distance (Hamming bits, L2, cross-correlation); bench_peer_score() of a hash with itself is
 * the best score that peer gives. Every function is thread-safe. */
#ifndef LK_BENCH_PEERS_H
#define LK_BENCH_PEERS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BENCH_PEER_HASH_BYTES 512

typedef struct bench_peer_hash {
	unsigned char bytes[BENCH_PEER_HASH_BYTES]; /* the peer's hash as OpenCV returns it */
	int len;                                    /* bytes used; 0: not computed */
} bench_peer_hash;

/* How many peers this build has (0 without OpenCV). */
int bench_peer_count(void);
/* "opencv PHash", "opencv BlockMean", ... */
const char *bench_peer_name(int peer);
/* Hashes 8-bit pixels (bands 1, 3 = RGB or 4 = RGBA; rows `stride` bytes apart) as the peer
 * does, after converting them the way a user of that peer would hand them over (BGR Mat).
 * Returns 0, or -1 on failure. */
int bench_peer_hash_pixels(bench_peer_hash *out, int peer, const unsigned char *pixels, int width, int height,
			   size_t stride, int bands);
/* Decodes an encoded image (PNG, JPEG) with the peer's own decoder (cv::imdecode) and hashes it:
 * what a user of the peer pays per image. Returns 0, or -1 on failure. */
int bench_peer_hash_encoded(bench_peer_hash *out, int peer, const void *data, size_t len);
/* Similarity of two hashes of the same peer, higher = more similar. */
double bench_peer_score(int peer, const bench_peer_hash *a, const bench_peer_hash *b);

#ifdef __cplusplus
}
#endif
#endif
