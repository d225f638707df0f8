/* bench/peers.h with OpenCV's contrib img_hash module: PHash, BlockMean (mode 0), ColorMoment
 * and RadialVariance at their default parameters, fed the way an OpenCV user feeds them (a BGR
 * Mat).
 *
 * Hashing goes through OpenCV itself. Scoring does not: a bench run scores ~10^9 pairs, and
 * ImgHashBase::compare() builds Mats and, for RadialVariance, copies and converts both hashes
 * on every call. The comparisons below compute the same quantities without allocating;
 * tests/test_bench_peers.c holds them to compare() on random pairs. */
#include "peers.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/img_hash.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace {

enum { PEER_PHASH, PEER_BLOCK_MEAN, PEER_COLOR_MOMENT, PEER_RADIAL_VARIANCE, PEER_COUNT };

const char *const peer_names[PEER_COUNT] = {"opencv PHash", "opencv BlockMean", "opencv ColorMoment",
					     "opencv RadialVariance"};
/* What compute() returns at default parameters: 64 bits, 256 bits (mode 0), 42 doubles (Hu
 * moments of 6 channels), 40 bytes. Anything else handed to the score is not this peer's. */
const int peer_hash_len[PEER_COUNT] = {8, 32, 42 * (int)sizeof(double), 40};

/* The hash objects keep scratch Mats between calls, so each thread has its own. */
struct thread_hashers {
	cv::Ptr<cv::img_hash::ImgHashBase> peer[PEER_COUNT];
	cv::Mat bgr;
	cv::Mat hash;
};
thread_local thread_hashers hashers;

cv::img_hash::ImgHashBase &hasher(int peer)
{
	cv::Ptr<cv::img_hash::ImgHashBase> &h = hashers.peer[peer];
	if (h.empty()) {
		switch (peer) {
		case PEER_PHASH: h = cv::img_hash::PHash::create(); break;
		case PEER_BLOCK_MEAN: h = cv::img_hash::BlockMeanHash::create(cv::img_hash::BLOCK_MEAN_HASH_MODE_0); break;
		case PEER_COLOR_MOMENT: h = cv::img_hash::ColorMomentHash::create(); break;
		default: h = cv::img_hash::RadialVarianceHash::create(); break;
		}
	}
	return *h;
}

bool valid_peer(int peer)
{
	return peer >= 0 && peer < PEER_COUNT;
}

int hash_bgr(bench_peer_hash *out, int peer, const cv::Mat &bgr)
{
	cv::Mat &hash = hashers.hash;
	hasher(peer).compute(bgr, hash);
	size_t bytes = hash.total() * hash.elemSize();
	if (!hash.isContinuous() || bytes == 0 || bytes > BENCH_PEER_HASH_BYTES)
		return -1;
	std::memcpy(out->bytes, hash.data, bytes);
	out->len = (int)bytes;
	return 0;
}

/* Bit counting without relying on the POPCNT instruction, which the build does not enable:
 * the compiler's fallback for __builtin_popcountll is a library call. */
inline int bits64(uint64_t v)
{
	v = v - ((v >> 1) & 0x5555555555555555ull);
	v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
	v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (int)((v * 0x0101010101010101ull) >> 56);
}

double hamming(const unsigned char *a, const unsigned char *b, int len)
{
	int d = 0;
	for (int i = 0; i < len; i += 8) {
		uint64_t x, y;
		std::memcpy(&x, a + i, 8);
		std::memcpy(&y, b + i, 8);
		d += bits64(x ^ y);
	}
	return d;
}

/* ColorMomentHash::compare(): the L2 distance of the 42 moments, scaled by 10^4. Two partial
 * sums, as the additions would otherwise wait on each other (OpenCV's own order differs too:
 * the results agree to ~1e-16 relative). */
double color_moment_distance(const unsigned char *a, const unsigned char *b)
{
	double sum[2] = {0, 0};
	for (int i = 0; i < 42; i += 2)
		for (int k = 0; k < 2; k++) {
			double x, y;
			std::memcpy(&x, a + (i + k) * sizeof(double), sizeof x);
			std::memcpy(&y, b + (i + k) * sizeof(double), sizeof y);
			sum[k] += (x - y) * (x - y);
		}
	return std::sqrt(sum[0] + sum[1]) * 10000;
}

/* RadialVarianceHash::compare(): the peak, over the 40 cyclic shifts of the second hash, of the
 * Pearson correlation of the two 40-byte hashes. OpenCV centres float copies of both hashes
 * (the means rounded to float) and sums each shift's products in float; here the sum of
 * products of the raw bytes is taken exactly in integers for every shift and centred after,
 *   sum((a - ma)(b - mb)) = sum(ab) - mb sum(a) - ma sum(b) + 40 ma mb,
 * which is the value OpenCV's float sum approximates (to ~1e-7 relative). The correlation grows
 * with sum(ab), so only the largest shift is carried to floating point. */
double radial_variance_peak(const unsigned char *a, const unsigned char *b)
{
	enum { N = 40 };
	int16_t a16[N], b16[2 * N]; /* b twice over: each shift is then one contiguous window */
	int sum_a = 0, sum_b = 0, sq_a = 0, sq_b = 0;
	for (int i = 0; i < N; i++) {
		a16[i] = a[i];
		b16[i] = b16[i + N] = b[i];
		sum_a += a[i], sq_a += a[i] * a[i];
		sum_b += b[i], sq_b += b[i] * b[i];
	}
	/* OpenCV's shift i moves b's element m to m + i: window N - i .. 2N - 1 - i. */
	int32_t peak = INT32_MIN;
	for (int i = 0; i < N; i++) {
		const int16_t *w = b16 + N - i;
		int32_t s = 0;
		for (int m = 0; m < N; m++)
			s += a16[m] * w[m];
		peak = s > peak ? s : peak;
	}
	/* cv::meanStdDev: population statistics, scaled by the reciprocal of the count. */
	const double scale = 1.0 / N;
	double mean_a = sum_a * scale, mean_b = sum_b * scale;
	double std_a = std::sqrt(std::max(sq_a * scale - mean_a * mean_a, 0.0));
	double std_b = std::sqrt(std::max(sq_b * scale - mean_b * mean_b, 0.0));
	double ma = (float)mean_a, mb = (float)mean_b;
	double covar = ((double)peak - mb * sum_a - ma * sum_b + N * ma * mb) / N;
	double corr = covar / (std_a * std_b + 1e-20);
	/* The shifts' covariances sum to zero, so the peak is >= 0; OpenCV starts its running
	 * maximum at numeric_limits<double>::min(), so a peak of 0 (a constant hash) scores that. */
	return std::max(corr, std::numeric_limits<double>::min());
}

} // namespace

extern "C" {

int bench_peer_count(void)
{
	return PEER_COUNT;
}

const char *bench_peer_name(int peer)
{
	return valid_peer(peer) ? peer_names[peer] : "?";
}

int bench_peer_hash_pixels(bench_peer_hash *out, int peer, const unsigned char *pixels, int width, int height,
			   size_t stride, int bands)
{
	if (!out)
		return -1;
	out->len = 0;
	if (!valid_peer(peer) || !pixels || width <= 0 || height <= 0 || (bands != 1 && bands != 3 && bands != 4) ||
	    stride < (size_t)width * bands)
		return -1;
	try {
		/* The caller's rows as they are; the one copy made is the conversion to BGR. */
		const cv::Mat src(height, width, CV_8UC(bands), const_cast<unsigned char *>(pixels), stride);
		/* RGBA: alpha is dropped, not composited, as cv::imread(IMREAD_COLOR) drops it, so
		 * that a PNG hashed from pixels and from its file agree. */
		int code = bands == 1 ? cv::COLOR_GRAY2BGR : bands == 3 ? cv::COLOR_RGB2BGR : cv::COLOR_RGBA2BGR;
		cv::cvtColor(src, hashers.bgr, code);
		return hash_bgr(out, peer, hashers.bgr);
	} catch (...) {
		out->len = 0;
		return -1;
	}
}

int bench_peer_hash_encoded(bench_peer_hash *out, int peer, const void *data, size_t len)
{
	if (!out)
		return -1;
	out->len = 0;
	if (!valid_peer(peer) || !data || len == 0 || len > INT_MAX)
		return -1;
	try {
		const cv::Mat encoded(1, (int)len, CV_8U, const_cast<void *>(data));
		cv::Mat bgr = cv::imdecode(encoded, cv::IMREAD_COLOR);
		if (bgr.empty())
			return -1;
		return hash_bgr(out, peer, bgr);
	} catch (...) {
		out->len = 0;
		return -1;
	}
}

/* Not a hash of this peer (or no peer): -infinity, below every real score. */
double bench_peer_score(int peer, const bench_peer_hash *a, const bench_peer_hash *b)
{
	if (!valid_peer(peer) || !a || !b || a->len != peer_hash_len[peer] || b->len != peer_hash_len[peer])
		return -HUGE_VAL;
	switch (peer) {
	case PEER_PHASH:
	/* 0 - d, not -d: identical hashes score +0, not -0. */
	case PEER_BLOCK_MEAN: return 0.0 - hamming(a->bytes, b->bytes, a->len);
	case PEER_COLOR_MOMENT: return 0.0 - color_moment_distance(a->bytes, b->bytes);
	default: return radial_variance_peak(a->bytes, b->bytes);
	}
}

} // extern "C"
