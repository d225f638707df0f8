/* The embedding signal through its public API: what it must recognise, what it must not
 * confuse, and that its answer does not depend on how the pixels arrive or on threads. */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

static lk_embedder *embedder;

static void open_embedder(void)
{
	if (!LK_MODELS_DIR[0])
		fx_skip("no models (scripts/fetch-models.sh was not run for this build)");
	cr_assert_eq(lk_embedder_open(&embedder, LK_MODELS_DIR), LK_OK, "%s", lk_error_detail());
}

static void close_embedder(void)
{
	lk_embedder_close(embedder);
	embedder = NULL;
}

TestSuite(embed, .init = open_embedder, .fini = close_embedder, .timeout = 300);

static lk_embedding *embed(const char *name)
{
	static lk_embedding slots[8];
	static int next;
	lk_embedding *e = &slots[next++ % 8];
	cr_assert_eq(lk_embed_file(e, embedder, fx_pdq_image(name), NULL), LK_OK, "%s: %s", name, lk_error_detail());
	return e;
}

/* Edits that move PDQ far away (crop, border, small rotation, overlay: 48-116 bits on these
 * images) must still find their own character first among the three. */
Test(embed, edited_copies_are_closest_to_their_own_character)
{
	static const char *const edits[] = { "crop10", "border", "rot5", "overlay", "jpeg50", "blur", "bright",
					     "hue", "flipy", "resize256" };
	lk_embedding orig[3];
	char name[64];
	for (int c = 0; c < 3; c++) {
		snprintf(name, sizeof name, "char%d_orig.png", c + 1);
		orig[c] = *embed(name);
		float norm = lk_embedding_similarity(&orig[c], &orig[c]);
		cr_expect_float_eq(norm, 1.0f, 1e-4f, "embeddings are unit length");
	}
	for (int c = 0; c < 3; c++)
		for (size_t e = 0; e < sizeof edits / sizeof edits[0]; e++) {
			snprintf(name, sizeof name, "char%d_%s.%s", c + 1, edits[e], strcmp(edits[e], "jpeg50") ? "png" : "jpg");
			const lk_embedding *q = embed(name);
			const float own = lk_embedding_similarity(q, &orig[c]);
			for (int o = 0; o < 3; o++)
				if (o != c)
					cr_expect_gt(own, lk_embedding_similarity(q, &orig[o]) + 0.02f,
						     "%s: own %.3f, char%d %.3f", name, own, o + 1,
						     lk_embedding_similarity(q, &orig[o]));
		}
	/* Re-encoding barely moves it. */
	cr_expect_gt(lk_embedding_similarity(embed("char1_jpeg50.jpg"), &orig[0]), 0.97f);
}

Test(embed, same_pixels_same_embedding_whatever_the_route)
{
	size_t len;
	unsigned char *png = fx_read(fx_pdq_image("char2_orig.png"), &len);
	lk_embedding from_file, from_bytes, from_pixels;
	cr_assert_eq(lk_embed_file(&from_file, embedder, fx_pdq_image("char2_orig.png"), NULL), LK_OK);
	cr_assert_eq(lk_embed_bytes(&from_bytes, embedder, png, len, NULL), LK_OK);
	VipsImage *img = fx_load(fx_pdq_image("char2_orig.png"));
	VipsImage *mem = vips_image_copy_memory(img);
	cr_assert_eq(mem->Bands, 3);
	const lk_pixel_view view = { VIPS_IMAGE_ADDR(mem, 0, 0), mem->Xsize, mem->Ysize, VIPS_IMAGE_SIZEOF_LINE(mem),
				     LK_PIXEL_RGB8 };
	cr_assert_eq(lk_embed_pixels(&from_pixels, embedder, &view, NULL), LK_OK, "%s", lk_error_detail());
	cr_expect_eq(memcmp(&from_file, &from_bytes, sizeof from_file), 0);
	cr_expect_eq(memcmp(&from_file, &from_pixels, sizeof from_file), 0);
	g_object_unref(mem);
	g_object_unref(img);
	free(png);
}

struct job {
	char path[1024];
	lk_embedding out;
	int rc;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	for (int i = 0; i < 3 && j->rc == LK_OK; i++)
		j->rc = lk_embed_file(&j->out, embedder, j->path, NULL);
	return NULL;
}

Test(embed, threads_share_one_embedder)
{
	static const char *const names[4] = { "char1_orig.png", "char2_crop10.png", "char3_overlay.png",
					      "bench_b0001_1024.jpg" };
	lk_embedding alone[4];
	struct job jobs[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		alone[i] = *embed(names[i]);
		jobs[i] = (struct job){ .rc = LK_OK };
		snprintf(jobs[i].path, sizeof jobs[i].path, "%s", fx_pdq_image(names[i]));
	}
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, run_job, &jobs[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		cr_expect_eq(jobs[i].rc, LK_OK);
		cr_expect_eq(memcmp(&jobs[i].out, &alone[i], sizeof alone[i]), 0, "%s differs on a thread (similarity %.9f)", names[i], lk_embedding_similarity(&jobs[i].out, &alone[i]));
	}
}

Test(embed, errors_name_their_cause)
{
	lk_embedding e;
	cr_expect_eq(lk_embed_file(&e, embedder, fx_pdq_image("no-such-file.png"), NULL), LK_EIO);
	cr_expect(strstr(lk_error_detail(), "no-such-file.png") != NULL, "%s", lk_error_detail());
	cr_expect_eq(lk_embed_bytes(&e, embedder, "GIF89a", 6, NULL), LK_ETRUNCATED, "%s", lk_error_detail());
	cr_expect_eq(lk_embed_bytes(&e, NULL, "x", 1, NULL), LK_EINVAL);
	lk_embedder *none = NULL;
	cr_expect_eq(lk_embedder_open(&none, fx_temp_dir()), LK_ENOTFOUND);
	cr_expect(strstr(lk_error_detail(), "fetch-models.sh") != NULL, "%s", lk_error_detail());
	cr_expect_null(none);
	cr_expect(strncmp(lk_embedder_id(embedder), "mnv2-1.4/", 9) == 0, "%s", lk_embedder_id(embedder));
}

/* The prior is part of the descriptor: missing or damaged, the embedder refuses to open. */
Test(embed, missing_or_damaged_prior_is_refused)
{
	char dir[600], cmd[1400], path[700];
	snprintf(dir, sizeof dir, "%s/models", fx_temp_dir());
	snprintf(cmd, sizeof cmd, "mkdir -p '%s' && ln -s '%s/mobilenet_v2_mid' '%s/'", dir, LK_MODELS_DIR, dir);
	cr_assert_eq(system(cmd), 0);
	lk_embedder *e = NULL;
	cr_expect_eq(lk_embedder_open(&e, dir), LK_ENOTFOUND);
	cr_expect(strstr(lk_error_detail(), "embedding-prior.f32") && strstr(lk_error_detail(), "prepare-prior"), "%s",
		  lk_error_detail());
	snprintf(path, sizeof path, "%s/embedding-prior.f32", dir);
	float prior[LK_EMBEDDING_DIM] = { 0 };
	FILE *f = fopen(path, "wb");
	fwrite(prior, sizeof(float), LK_EMBEDDING_DIM - 1, f); /* one value short */
	fclose(f);
	cr_expect_eq(lk_embedder_open(&e, dir), LK_ECORRUPT);
	cr_expect(strstr(lk_error_detail(), "fewer than"), "%s", lk_error_detail());
	prior[7] = 0.0f / 0.0f;
	f = fopen(path, "wb");
	fwrite(prior, sizeof(float), LK_EMBEDDING_DIM, f);
	fclose(f);
	cr_expect_eq(lk_embedder_open(&e, dir), LK_ECORRUPT);
	cr_expect(strstr(lk_error_detail(), "value 7"), "%s", lk_error_detail());
	cr_expect_null(e);
}
