/* OpenCV's own img_hash calls, for tests/test_bench_peers.c to hold bench/peers_opencv.cpp to:
 * its natively reimplemented scores against compare(), its pixel conversion against a BGR Mat
 * built by hand. Deliberately the plain, allocating way an OpenCV user would write it. */
#include "bench_peers_reference.h"

#include <opencv2/core.hpp>
#include <opencv2/img_hash.hpp>

#include <cstring>

static cv::Ptr<cv::img_hash::ImgHashBase> reference_hasher(int peer)
{
	switch (peer) {
	case 0: return cv::img_hash::PHash::create();
	case 1: return cv::img_hash::BlockMeanHash::create(cv::img_hash::BLOCK_MEAN_HASH_MODE_0);
	case 2: return cv::img_hash::ColorMomentHash::create();
	case 3: return cv::img_hash::RadialVarianceHash::create();
	default: return {};
	}
}

static cv::Mat as_mat(int peer, const bench_peer_hash *h)
{
	if (peer == 2) {
		cv::Mat m(1, h->len / (int)sizeof(double), CV_64F);
		std::memcpy(m.data, h->bytes, h->len);
		return m;
	}
	cv::Mat m(1, h->len, CV_8U);
	std::memcpy(m.data, h->bytes, h->len);
	return m;
}

extern "C" double reference_score(int peer, const bench_peer_hash *a, const bench_peer_hash *b)
{
	double d = reference_hasher(peer)->compare(as_mat(peer, a), as_mat(peer, b));
	return peer == 3 ? d : -d; /* RadialVariance's is a correlation, the others distances */
}

extern "C" int reference_hash_bgr(bench_peer_hash *out, int peer, const unsigned char *bgr, int width, int height)
{
	try {
		cv::Mat img(height, width, CV_8UC3, const_cast<unsigned char *>(bgr));
		cv::Mat hash;
		reference_hasher(peer)->compute(img, hash);
		out->len = (int)(hash.total() * hash.elemSize());
		std::memcpy(out->bytes, hash.data, out->len);
		return 0;
	} catch (...) {
		return -1;
	}
}
