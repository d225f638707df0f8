/* bench/peers.h without OpenCV: no peers, so the benchmarks report likeness alone. */
#include "peers.h"

int bench_peer_count(void)
{
	return 0;
}

const char *bench_peer_name(int peer)
{
	(void)peer;
	return "?";
}

int bench_peer_hash_pixels(bench_peer_hash *out, int peer, const unsigned char *pixels, int width, int height,
			   size_t stride, int bands)
{
	(void)out, (void)peer, (void)pixels, (void)width, (void)height, (void)stride, (void)bands;
	return -1;
}

int bench_peer_hash_encoded(bench_peer_hash *out, int peer, const void *data, size_t len)
{
	(void)out, (void)peer, (void)data, (void)len;
	return -1;
}

double bench_peer_score(int peer, const bench_peer_hash *a, const bench_peer_hash *b)
{
	(void)peer, (void)a, (void)b;
	return 0;
}
