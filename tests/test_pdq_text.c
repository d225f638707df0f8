/* Hex text form, parsing errors and distances. */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <string.h>

Test(pdq_text, round_trip_and_word_order)
{
	/* Word 15 is printed first: setting bit 0 of row 0 (word 0) changes the last digit. */
	float plane[64 * 64];
	for (int i = 0; i < 64 * 64; i++)
		plane[i] = (float)((i * 7919) % 255);
	lk_pdq_result r;
	cr_assert_eq(lk_pdq_hash_luma(&r, plane, 64, 64, 64), LK_OK);
	char hex[LK_PDQ_HEX_LEN + 1];
	cr_assert_eq(lk_pdq_to_hex(hex, &r.hash[0]), LK_OK);
	cr_assert_eq(strlen(hex), 64u);
	lk_pdq_hash back;
	cr_assert_eq(lk_pdq_from_hex(&back, hex), LK_OK);
	cr_assert_eq(memcmp(&back, &r.hash[0], sizeof back), 0);

	lk_pdq_hash one = { { 0 } };
	one.bytes[31] = 1;
	cr_assert_eq(lk_pdq_to_hex(hex, &one), LK_OK);
	cr_assert_str_eq(hex, "0000000000000000000000000000000000000000000000000000000000000001");
}

Test(pdq_text, parse_accepts_upper_case_and_rejects_bad_text)
{
	lk_pdq_hash h;
	cr_assert_eq(lk_pdq_from_hex(&h, "71C3CC72CCC3CC25CE1C39C9369C61C3925CF3C7734DB0D60DE30CF28D23CB3C"), LK_OK);
	cr_assert_eq(h.bytes[0], 0x71);
	cr_assert_eq(lk_pdq_from_hex(&h, "71c3"), LK_EINVAL);
	cr_assert(strstr(lk_error_detail(), "64 hex digits"));
	cr_assert_eq(lk_pdq_from_hex(&h, "zz c3cc72ccc3cc25ce1c39c9369c61c3925cf3c7734db0d60de30cf28d23cb3"), LK_EINVAL);
	cr_assert_eq(lk_pdq_from_hex(&h, "71c3cc72ccc3cc25ce1c39c9369c61c3925cf3c7734db0d60de30cf28d23cb3c0"), LK_EINVAL);
	cr_assert_eq(lk_pdq_from_hex(NULL, "00"), LK_EINVAL);
}

Test(pdq_text, distance_counts_bits)
{
	lk_pdq_hash a = { { 0 } }, b = { { 0 } };
	cr_assert_eq(lk_pdq_distance(&a, &b), 0);
	memset(b.bytes, 0xff, sizeof b.bytes);
	cr_assert_eq(lk_pdq_distance(&a, &b), 256);
	b.bytes[3] = 0x0f;
	cr_assert_eq(lk_pdq_distance(&a, &b), 252);
	cr_assert_eq(lk_pdq_distance(&b, &a), 252);
}

/* Every non-degenerate hash has exactly 128 ones (threshold at the median of 256 distinct
 * values), so all distances are even. */
Test(pdq_text, hashes_are_balanced)
{
	float plane[200 * 150];
	for (int i = 0; i < 200 * 150; i++)
		plane[i] = (float)((i * 2654435761u >> 13) % 256);
	lk_pdq_result r;
	cr_assert_eq(lk_pdq_hash_luma(&r, plane, 200, 150, 200), LK_OK);
	cr_assert_geq(r.quality, 50);
	lk_pdq_hash zero = { { 0 } };
	for (int d = 0; d < LK_DIHEDRAL_COUNT; d++)
		cr_expect_eq(lk_pdq_distance(&r.hash[d], &zero), 128, "variant %d", d);
}

Test(pdq_text, luma_plane_with_stride_equals_compact)
{
	enum { W = 100, H = 80, S = 130 };
	static float compact[W * H], strided[S * H];
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			float v = (float)((x * x + 3 * y * x + y) % 251);
			compact[y * W + x] = v;
			strided[y * S + x] = v;
			if (x < S - W)
				strided[y * S + W + x] = 999.0f; /* padding must be ignored */
		}
	lk_pdq_result a, b;
	cr_assert_eq(lk_pdq_hash_luma(&a, compact, W, H, W), LK_OK);
	cr_assert_eq(lk_pdq_hash_luma(&b, strided, W, H, S), LK_OK);
	cr_assert_eq(memcmp(a.hash, b.hash, sizeof a.hash), 0);
	cr_assert_eq(a.quality, b.quality);
	cr_assert_eq(lk_pdq_hash_luma(&a, compact, W, H, W - 1), LK_EINVAL);
	cr_assert_eq(lk_pdq_hash_luma(&a, NULL, W, H, W), LK_EINVAL);
}
