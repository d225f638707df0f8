/* OpenCV's img_hash called directly (tests/bench_peers_reference.cpp), built only with OpenCV. */
#ifndef LK_BENCH_PEERS_REFERENCE_H
#define LK_BENCH_PEERS_REFERENCE_H

#include "peers.h"

#ifdef __cplusplus
extern "C" {
#endif

/* algorithm->compare(a, b), negated for the distances: what bench_peer_score() must return. */
double reference_score(int peer, const bench_peer_hash *a, const bench_peer_hash *b);
/* algorithm->compute() of a packed BGR image. Returns 0, or -1 on failure. */
int reference_hash_bgr(bench_peer_hash *out, int peer, const unsigned char *bgr, int width, int height);

#ifdef __cplusplus
}
#endif
#endif
