/* The faiss C API build and the binary-index factory that fills its one gap. */
#include "fixtures.h"
#include "index/search/faiss_c_gaps.h"

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
		fx_skip("%s", lk_error_detail());
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
		fx_skip("%s", lk_error_detail());
	FaissIndexBinary *index = NULL;
	cr_assert_eq(faiss_index_binary_factory(&index, 256, "BHNSW32"), 0, "%s", faiss_get_last_error());
	faiss_IndexBinary_free(index);
	index = NULL;
	cr_expect_lt(faiss_index_binary_factory(&index, 256, "NoSuchIndex"), 0);
	cr_expect_null(index);
	cr_expect(faiss_get_last_error() && strlen(faiss_get_last_error()) > 0);
	cr_expect_lt(faiss_index_binary_factory(&index, 256, NULL), 0);
}

/* The search-effort setter decides what a multi-hash can find: with 16 keys of 16 bits, a code
 * 20 bits away (some key within 1 flip, by pigeonhole, if the flips are spread over all keys) is
 * missed with no flips and found with one. */
Test(faiss_binary, search_effort_sets_multi_hash_flips)
{
	if (!cpu_ok())
		fx_skip("%s", lk_error_detail());
	FaissIndexBinary *index = NULL;
	cr_assert_eq(faiss_index_binary_factory(&index, 256, "BHash16x16"), 0, "%s", faiss_get_last_error());
	unsigned char stored[32], query[32];
	for (int i = 0; i < 32; i++)
		stored[i] = (unsigned char)(i * 37 + 11);
	memcpy(query, stored, 32);
	/* One or two flipped bits in each of the 16 keys: 20 bits, no key left intact. */
	for (int k = 0; k < 16; k++) {
		query[2 * k] ^= 0x01;
		if (k < 4)
			query[2 * k + 1] ^= 0x80;
	}
	cr_assert_eq(faiss_IndexBinary_add(index, 1, stored), 0, "%s", faiss_get_last_error());
	int32_t dist[1];
	idx_t label[1];
	cr_assert_eq(lk__faiss_binary_set_search_effort(index, 0), 0, "%s", faiss_get_last_error());
	cr_assert_eq(faiss_IndexBinary_search(index, 1, query, 1, dist, label), 0);
	cr_expect_eq(label[0], -1, "no flips: a code with every key changed must not be found");
	cr_assert_eq(lk__faiss_binary_set_search_effort(index, 1), 0, "%s", faiss_get_last_error());
	cr_assert_eq(faiss_IndexBinary_search(index, 1, query, 1, dist, label), 0);
	cr_expect_eq(label[0], 0, "one flip: the code must be found");
	cr_expect_eq(dist[0], 20);
	cr_expect_lt(lk__faiss_binary_set_search_effort(index, 17), 0, "more flips than key bits");
	faiss_IndexBinary_free(index);

	cr_assert_eq(faiss_index_binary_factory(&index, 256, "BFlat"), 0);
	cr_expect_lt(lk__faiss_binary_set_search_effort(index, 1), 0, "a flat index has no effort to set");
	cr_expect(strstr(faiss_get_last_error(), "binary index") != NULL, "%s", faiss_get_last_error());
	faiss_IndexBinary_free(index);
}
