/* Every kind of bad input gets its own error code and a detail naming what is wrong. */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void expect_file_error(const char *path, int code, const char *detail_part)
{
	lk_pdq_result r;
	memset(&r, 0x5a, sizeof r);
	lk_pdq_result before = r;
	int rc = lk_pdq_hash_file(&r, path, NULL);
	cr_expect_eq(rc, code, "%s: got %s (%s), want %s", path, lk_error_name(rc), lk_error_detail(),
		     lk_error_name(code));
	cr_expect(strstr(lk_error_detail(), path), "detail '%s' does not name the file", lk_error_detail());
	if (detail_part)
		cr_expect(strstr(lk_error_detail(), detail_part), "detail '%s' lacks '%s'", lk_error_detail(),
			  detail_part);
	cr_expect_eq(memcmp(&r, &before, sizeof r), 0, "output written on failure");
}

Test(ingest_errors, zero_bytes)
{
	expect_file_error(fx_write_temp("empty.png", "", 0), LK_EEMPTY, "zero bytes");
	lk_pdq_result r;
	cr_expect_eq(lk_pdq_hash_bytes(&r, "", 0, NULL), LK_EEMPTY);
}

Test(ingest_errors, truncated_png)
{
	size_t len;
	unsigned char *png = fx_read(fx_pdq_image("char1_orig.png"), &len);
	expect_file_error(fx_write_temp("cut.png", png, len / 3), LK_ETRUNCATED, "PNG");
	free(png);
}

Test(ingest_errors, truncated_jpeg)
{
	size_t len;
	unsigned char *jpg = fx_read(fx_pdq_image("char1_jpeg50.jpg"), &len);
	expect_file_error(fx_write_temp("cut.jpg", jpg, len * 3 / 4), LK_ETRUNCATED, "JPEG");
	free(jpg);
}

Test(ingest_errors, truncated_header_only)
{
	size_t len;
	unsigned char *png = fx_read(fx_pdq_image("char1_orig.png"), &len);
	expect_file_error(fx_write_temp("head.png", png, 20), LK_ETRUNCATED, "PNG");
	free(png);
}

/* Structurally complete (IEND present) but the compressed pixels are garbage. */
Test(ingest_errors, corrupt_png_data)
{
	unsigned char junk[64];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (unsigned char)(i * 37 + 11);
	size_t len;
	unsigned char *png = fx_png_with_header(32, 32, 8, 2, junk, sizeof junk, &len);
	expect_file_error(fx_write_temp("corrupt.png", png, len), LK_ECORRUPT, NULL);
	free(png);
}

Test(ingest_errors, text_with_image_extension)
{
	const char text[] = "<html><body>404 Not Found</body></html>\n";
	expect_file_error(fx_write_temp("download.jpg", text, sizeof text - 1), LK_EMISMATCH, "JPEG");
}

Test(ingest_errors, non_image)
{
	const char text[] = "name,score\nalice,3\n";
	expect_file_error(fx_write_temp("table.csv", text, sizeof text - 1), LK_ENOTIMAGE, NULL);
	unsigned char elf[64] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
	expect_file_error(fx_write_temp("program", elf, sizeof elf), LK_ENOTIMAGE, NULL);
}

/* A misnamed real image is read by its content. */
Test(ingest_errors, image_with_wrong_extension_is_read_by_content)
{
	size_t len;
	unsigned char *png = fx_read(fx_pdq_image("char1_orig.png"), &len);
	lk_pdq_result named, misnamed;
	cr_assert_eq(lk_pdq_hash_file(&named, fx_pdq_image("char1_orig.png"), NULL), LK_OK);
	cr_assert_eq(lk_pdq_hash_file(&misnamed, fx_write_temp("really-a-png.jpg", png, len), NULL), LK_OK);
	cr_assert_eq(memcmp(named.hash, misnamed.hash, sizeof named.hash), 0);
	cr_assert_str_eq(misnamed.source.format, "png");
	free(png);
}

Test(ingest_errors, huge_dimensions)
{
	const unsigned char idat[] = { 0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01 };
	size_t len;
	unsigned char *png = fx_png_with_header(100000, 16, 8, 0, idat, sizeof idat, &len);
	expect_file_error(fx_write_temp("wide.png", png, len), LK_EDIMENSIONS, "100000x16");
	free(png);
}

/* 12000 x 12000 grey zeros deflate to ~140 kB and would decode to 144 MB. */
Test(ingest_errors, decompression_bomb)
{
	enum { SIDE = 12000 };
	z_stream z = { 0 };
	cr_assert_eq(deflateInit(&z, 9), Z_OK);
	size_t cap = 1 << 20, used = 0;
	unsigned char *out = malloc(cap), *row = calloc(1, SIDE + 1);
	for (int y = 0; y < SIDE; y++) {
		z.next_in = row;
		z.avail_in = SIDE + 1;
		do {
			z.next_out = out + used;
			z.avail_out = (uInt)(cap - used);
			cr_assert_neq(deflate(&z, y == SIDE - 1 ? Z_FINISH : Z_NO_FLUSH), Z_STREAM_ERROR);
			used = cap - z.avail_out;
		} while (z.avail_in);
	}
	int st;
	while ((st = deflate(&z, Z_FINISH)) == Z_OK) {
		z.next_out = out + used;
		z.avail_out = (uInt)(cap - used);
		used = cap - z.avail_out;
	}
	deflateEnd(&z);
	cr_assert_lt(used, (size_t)400000, "bomb not compact: %zu", used);
	size_t len;
	unsigned char *png = fx_png_with_header(SIDE, SIDE, 8, 0, out, used, &len);
	expect_file_error(fx_write_temp("bomb.png", png, len), LK_EPIXELS, "144000000");

	/* The same bytes with a raised limit are a valid (black, quality 0) image. */
	lk_ingest_options opts = LK_INGEST_OPTIONS_INIT;
	opts.max_pixels = 200000000;
	lk_pdq_result r;
	cr_expect_eq(lk_pdq_hash_bytes(&r, png, len, &opts), LK_OK, "%s", lk_error_detail());
	cr_expect_eq(r.quality, 0);
	free(png);
	free(out);
	free(row);
}

Test(ingest_errors, over_byte_limit)
{
	size_t len;
	unsigned char *png = fx_read(fx_pdq_image("char1_orig.png"), &len);
	lk_ingest_options opts = LK_INGEST_OPTIONS_INIT;
	opts.max_bytes = len - 1;
	lk_pdq_result r;
	cr_expect_eq(lk_pdq_hash_bytes(&r, png, len, &opts), LK_ETOOBIG);
	cr_expect_eq(lk_pdq_hash_file(&r, fx_pdq_image("char1_orig.png"), &opts), LK_ETOOBIG);
	cr_expect(strstr(lk_error_detail(), "limit"));
	opts.max_bytes = len;
	cr_expect_eq(lk_pdq_hash_bytes(&r, png, len, &opts), LK_OK);
	free(png);
}

/* BMP is only readable by ImageMagick through libvips, which is blocked for hostile input. */
Test(ingest_errors, untrusted_loader)
{
	unsigned char bmp[70] = { 'B', 'M', 70, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0, 40, 0, 0, 0, 2, 0, 0, 0,
				  2, 0, 0, 0, 1, 0, 24, 0 };
	lk_pdq_result r;
	int rc = lk_pdq_hash_bytes(&r, bmp, sizeof bmp, NULL);
	if (rc == LK_ENOTIMAGE)
		fx_skip("this libvips has no BMP loader at all");
	cr_expect_eq(rc, LK_EUNTRUSTED, "got %s: %s", lk_error_name(rc), lk_error_detail());
	cr_expect(strstr(lk_error_detail(), "blocked"));
}

Test(ingest_errors, unreadable_paths)
{
	expect_file_error("/nonexistent/likeness/x.png", LK_EIO, "No such file");
	expect_file_error("/tmp", LK_EIO, "directory");
}

Test(ingest_errors, null_arguments)
{
	lk_pdq_result r;
	cr_expect_eq(lk_pdq_hash_file(NULL, "x", NULL), LK_EINVAL);
	cr_expect_eq(lk_pdq_hash_file(&r, NULL, NULL), LK_EINVAL);
	cr_expect_eq(lk_pdq_hash_bytes(&r, NULL, 10, NULL), LK_EINVAL);
	cr_expect_eq(lk_pdq_hash_pixels(&r, NULL, NULL), LK_EINVAL);
}

Test(ingest_errors, every_code_has_a_sentence_and_a_name)
{
	for (int code = LK_OK; code >= LK_EREGISTRY; code--) {
		cr_expect_str_neq(lk_strerror(code), "unknown error", "code %d", code);
		cr_expect_eq(strncmp(lk_error_name(code), "LK_", 3), 0);
	}
	cr_expect_str_eq(lk_strerror(-999), "unknown error");
}

/* Random damage anywhere in a valid file: an error or a hash, never a crash (the sanitizer
 * build turns any memory error into a failure). */
Test(ingest_errors, damaged_bytes_never_crash)
{
	const char *files[] = { "char1_orig.png", "char2_jpeg50.jpg" };
	unsigned seed = 12345;
	for (size_t f = 0; f < 2; f++) {
		size_t len;
		unsigned char *orig = fx_read(fx_pdq_image(files[f]), &len);
		unsigned char *copy = malloc(len);
		for (int trial = 0; trial < 60; trial++) {
			memcpy(copy, orig, len);
			for (int k = 0; k < 8; k++) {
				seed = seed * 1103515245u + 12345u;
				copy[(seed >> 8) % len] ^= (unsigned char)(seed >> 24 | 1);
			}
			size_t cut = trial % 3 == 0 ? len - (seed % (len / 2)) : len;
			lk_pdq_result r;
			int rc = lk_pdq_hash_bytes(&r, copy, cut, NULL);
			cr_expect(rc == LK_OK || rc == LK_ETRUNCATED || rc == LK_ECORRUPT || rc == LK_ENOTIMAGE,
				  "%s trial %d: %s %s", files[f], trial, lk_error_name(rc), lk_error_detail());
		}
		free(copy);
		free(orig);
	}
}
