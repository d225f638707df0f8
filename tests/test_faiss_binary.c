/* The faiss C API build and the binary-index factory that fills its one gap. */
#include "fixtures.h"
#include "faiss_binary_factory.h"

#include <criterion/criterion.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/IndexBinary_c.h>
#include <string.h>

static int cpu_ok(void)
{
	return lk_cpu_check() == LK_OK;
}

Test(faiss_binary, flat_index_search_returns_exact_hamming_distances)
{
	if (!cpu_ok())
		cr_skip_test("%s", lk_error_detail());
	enum { N = 200 };
	static unsigned char codes[N][32];
	unsigned s = 7;
	for (int i = 0; i < N; i++)
		for (int b = 0; b < 32; b++) {
			s = s * 1664525u + 1013904223u;
			codes[i][b] = (unsigned char)(s >> 24);
		}
	FaissIndexBinary *index = NULL;
	cr_assert_eq(faiss_index_binary_factory(&index, 256, "BFlat"), 0, "%s", faiss_get_last_error());
	cr_assert_eq(faiss_IndexBinary_d(index), 256);
	cr_assert_eq(faiss_IndexBinary_add(index, N, &codes[0][0]), 0);
	cr_assert_eq(faiss_IndexBinary_ntotal(index), N);

	/* Query: code 42 with 5 bits flipped; its nearest neighbour is 42 at distance 5. */
	unsigned char q[32];
	memcpy(q, codes[42], 32);
	q[0] ^= 0x1f;
	int32_t dist[3];
	idx_t labels[3];
	cr_assert_eq(faiss_IndexBinary_search(index, 1, q, 3, dist, labels), 0);
	cr_expect_eq(labels[0], 42);
	cr_expect_eq(dist[0], 5);
	lk_pdq_hash a, b;
	memcpy(a.bytes, q, 32);
	memcpy(b.bytes, codes[labels[1]], 32);
	cr_expect_eq(dist[1], lk_pdq_distance(&a, &b), "faiss and likeness disagree on distance");
	faiss_IndexBinary_free(index);
}

Test(faiss_binary, other_structures_and_errors)
{
	if (!cpu_ok())
		cr_skip_test("%s", lk_error_detail());
	FaissIndexBinary *index = NULL;
	cr_assert_eq(faiss_index_binary_factory(&index, 256, "BHNSW32"), 0, "%s", faiss_get_last_error());
	faiss_IndexBinary_free(index);
	index = NULL;
	cr_expect_lt(faiss_index_binary_factory(&index, 256, "NoSuchIndex"), 0);
	cr_expect_null(index);
	cr_expect(faiss_get_last_error() && strlen(faiss_get_last_error()) > 0);
	cr_expect_lt(faiss_index_binary_factory(&index, 256, NULL), 0);
}
