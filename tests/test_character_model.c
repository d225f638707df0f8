/* The character model: franchises and per-character policy in the registry, the negative bank,
 * and the character decision a check makes from them (likeness.h, lk_character_decision). */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct fx_embedded fx;

static void setup(void)
{
	fx_embedded_open(&fx);
}

static void teardown(void)
{
	fx_embedded_close(&fx);
}

TestSuite(character_model, .init = setup, .fini = teardown);

static lk_check_result check(const char *image)
{
	lk_check_result r;
	cr_assert_eq(lk_check_file(&r, fx.reg, fx_pdq_image(image), NULL), LK_OK, "%s: %s", image, lk_error_detail());
	return r;
}

/* Unrelated pictures: the three photographs and the grey noise of the test vectors. */
static int add_bank(void)
{
	static const char *const negatives[] = { "bench_b0000_1024.jpg", "bench_b0001_1024.jpg", "bench_b0002_1024.jpg",
						 "noise_200x150_grey.png", "hgradient.png" };
	for (size_t i = 0; i < sizeof negatives / sizeof negatives[0]; i++)
		cr_assert_eq(lk_negative_add_file(NULL, fx.reg, fx_pdq_image(negatives[i]), NULL), LK_OK, "%s: %s",
			     negatives[i], lk_error_detail());
	return (int)(sizeof negatives / sizeof negatives[0]);
}

static void set_character(const char *slug, const char *franchise, int block, float threshold)
{
	lk_character c;
	cr_assert_eq(lk_character_get(&c, fx.reg, slug), LK_OK, "%s", lk_error_detail());
	snprintf(c.franchise, sizeof c.franchise, "%s", franchise ? franchise : "");
	c.block_on_character = block;
	c.character_threshold = threshold;
	cr_assert_eq(lk_character_update(fx.reg, &c), LK_OK, "%s", lk_error_detail());
}

Test(character_model, franchise_and_policy_are_kept_and_checked)
{
	lk_character c;
	cr_assert_eq(lk_character_get(&c, fx.reg, "char1"), LK_OK);
	cr_expect_str_eq(c.franchise, "char1", "a character without a franchise is its own");
	cr_expect_eq(c.block_on_character, 0);
	cr_expect_eq(c.character_threshold, LK_EMBED_INHERIT);
	set_character("char1", "heroes", 1, 0.33f);
	cr_assert_eq(lk_character_get(&c, fx.reg, "char1"), LK_OK);
	cr_expect_str_eq(c.franchise, "heroes");
	cr_expect_eq(c.block_on_character, 1);
	cr_expect(fabsf(c.character_threshold - 0.33f) < 1e-6f);
	lk_character list[4];
	size_t total;
	cr_assert_eq(lk_character_list(list, 4, &total, fx.reg), LK_OK);
	cr_assert_eq(total, 3);
	cr_expect_str_eq(list[0].franchise, "heroes");
	cr_expect_str_eq(list[1].franchise, "char2");

	snprintf(c.franchise, sizeof c.franchise, "Not A Slug");
	cr_expect_eq(lk_character_update(fx.reg, &c), LK_EINVAL);
	cr_expect(strstr(lk_error_detail(), "franchise 'Not A Slug'"), "%s", lk_error_detail());
	snprintf(c.franchise, sizeof c.franchise, "heroes");
	c.character_threshold = 2.5f;
	cr_expect_eq(lk_character_update(fx.reg, &c), LK_EINVAL);
	c.character_threshold = NAN;
	cr_expect_eq(lk_character_update(fx.reg, &c), LK_EINVAL, "NaN is no threshold");
	/* Its own slug as franchise is the same as none. */
	set_character("char2", "char2", 0, 0);
	cr_assert_eq(lk_character_get(&c, fx.reg, "char2"), LK_OK);
	cr_expect_str_eq(c.franchise, "char2");
}

Test(character_model, the_bank_is_added_listed_and_removed)
{
	int64_t id;
	cr_assert_eq(lk_negative_add_file(&id, fx.reg, fx_pdq_image("bench_b0000_1024.jpg"), NULL), LK_OK, "%s",
		     lk_error_detail());
	cr_expect_eq(lk_negative_add_file(NULL, fx.reg, fx_pdq_image("bench_b0000_1024.jpg"), NULL), LK_EEXISTS,
		     "the same bytes twice");
	cr_expect(strstr(lk_error_detail(), "bench_b0000_1024.jpg"), "%s", lk_error_detail());
	cr_expect_eq(lk_negative_add_file(NULL, fx.reg, fx_pdq_image("missing.png"), NULL), LK_EIO);
	lk_negative n[4];
	size_t total;
	cr_assert_eq(lk_negative_list(n, 4, &total, fx.reg), LK_OK);
	cr_assert_eq(total, 1, "a failed add leaves nothing behind");
	cr_expect_eq(n[0].id, id);
	cr_expect(strstr(n[0].source, "bench_b0000_1024.jpg"), "%s", n[0].source);
	cr_expect_eq(strlen(n[0].sha256), 64);
	cr_expect_gt(n[0].added_at, 0);
	uint64_t before, after;
	cr_assert_eq(lk_registry_version(&before, fx.reg), LK_OK);
	cr_expect_eq(lk_negative_remove(fx.reg, id), LK_OK);
	cr_assert_eq(lk_registry_version(&after, fx.reg), LK_OK);
	cr_expect_gt(after, before, "a change to the bank is a new version: checks see it at once");
	cr_expect_eq(lk_negative_remove(fx.reg, id), LK_ENOTFOUND);
	/* Without an embedder there is nothing to keep of a picture. */
	lk_registry *bare;
	cr_assert_eq(lk_registry_open(&bare, fx.dir), LK_OK);
	cr_expect_eq(lk_negative_add_file(NULL, bare, fx_pdq_image("bench_b0001_1024.jpg"), NULL), LK_EINVAL);
	cr_expect(strstr(lk_error_detail(), "embedder"), "%s", lk_error_detail());
	lk_registry_close(bare);
}

/* An embedder of the same model without a default bank: LK_MODELS_DIR's model and prior,
 * linked into a folder of its own. */
static lk_embedder *embedder_without_bank(void)
{
	char dir[400], from[400], to[500];
	snprintf(dir, sizeof dir, "%s/models", fx_temp_dir());
	cr_assert_eq(mkdir(dir, 0755), 0);
	static const char *const parts[] = { "mobilenet_v2_mid", "embedding-prior.f32" };
	for (int i = 0; i < 2; i++) {
		snprintf(from, sizeof from, "%s/%s", LK_MODELS_DIR, parts[i]);
		snprintf(to, sizeof to, "%s/%s", dir, parts[i]);
		cr_assert_eq(symlink(from, to), 0, "%s", to);
	}
	lk_embedder *e;
	cr_assert_eq(lk_embedder_open(&e, dir), LK_OK, "%s", lk_error_detail());
	cr_assert_str_eq(lk_embedder_id(e), lk_embedder_id(fx.embedder), "the same model and prior");
	return e;
}

/* Without a bank the model scores (the plain nearest similarity, for a character of one
 * reference) and decides nothing; the default bank, then the registry's own negatives, normalise
 * the score. */
Test(character_model, the_bank_normalises_and_without_one_nothing_is_decided)
{
	set_character("char1", NULL, 1, -1.5f); /* would flag anything */
	lk_embedder *bare = embedder_without_bank();
	lk_registry *reg;
	cr_assert_eq(lk_registry_open(&reg, fx.dir), LK_OK);
	cr_assert_eq(lk_registry_set_embedder(reg, bare), LK_OK, "%s", lk_error_detail());
	lk_check_result plain;
	cr_assert_eq(lk_check_file(&plain, reg, fx_pdq_image("char1_rot5.png"), NULL), LK_OK, "%s", lk_error_detail());
	cr_assert_str_eq(plain.character.character, "char1", "%s", plain.reason);
	cr_expect_eq(plain.character.bank_pictures, 0);
	cr_expect_eq(plain.character.verdict, LK_VERDICT_ALLOW, "no bank, no decision");
	cr_expect_neq(plain.reason_code, LK_REASON_CHARACTER);
	lk_embedding e;
	cr_assert_eq(lk_embed_file(&e, bare, fx_pdq_image("char1_rot5.png"), NULL), LK_OK);
	float best;
	int64_t ref;
	cr_assert_eq(lk_registry_best_similarity(&best, &ref, reg, &e), LK_OK);
	cr_expect(fabsf(plain.character.score - best) < 1e-4f, "one reference: the score is its similarity (%g, %g)",
		  (double)plain.character.score, (double)best);
	cr_expect_eq(plain.character.n_nearest, 1);
	cr_expect_eq(plain.character.nearest[0], ref);
	cr_expect_eq(plain.character.false_positive_rate, -1, "not calibrated");
	lk_registry_close(reg);
	lk_embedder_close(bare);

	/* The models folder's default bank, when set-up made one (scripts/prepare-bank.sh). */
	const lk_check_result by_default = check("char1_rot5.png");
	if (by_default.character.bank_pictures) {
		cr_expect_neq(by_default.character.score, plain.character.score, "the bank term moves the score");
		cr_expect_eq(by_default.character.verdict, LK_VERDICT_BLOCK, "%s", by_default.reason);
	} else
		cr_expect(!fx_no_skip(), "the default bank is missing from %s (scripts/build.sh makes it)", LK_MODELS_DIR);

	/* The registry's own negatives take its place. */
	const int n = add_bank();
	const lk_check_result banked = check("char1_rot5.png");
	cr_expect_eq(banked.character.bank_pictures, n);
	cr_expect_neq(banked.character.score, plain.character.score);
	cr_expect_eq(banked.character.verdict, LK_VERDICT_BLOCK, "char1 blocks on character: %s", banked.reason);
}

Test(character_model, the_policy_decides_and_a_copy_keeps_its_reason)
{
	add_bank();
	/* char7 copies no reference; with every threshold this low the model names a character. */
	for (int c = 1; c <= 3; c++) {
		char slug[8];
		snprintf(slug, sizeof slug, "char%d", c);
		set_character(slug, NULL, 0, -1.5f);
	}
	lk_check_result r = check("char7_1024x640.png");
	cr_assert(r.character.character[0], "%s", r.reason);
	cr_expect_eq(r.verdict, LK_VERDICT_REVIEW, "%s", r.reason);
	cr_expect_eq(r.reason_code, LK_REASON_CHARACTER);
	cr_expect(!strncmp(r.reason, "shows '", 7) && strstr(r.reason, "character score"), "%s", r.reason);
	set_character(r.character.character, NULL, 1, -1.5f);
	r = check("char7_1024x640.png");
	cr_expect_eq(r.verdict, LK_VERDICT_BLOCK, "the stricter standard: %s", r.reason);
	cr_expect_eq(r.reason_code, LK_REASON_CHARACTER);

	/* A copy blocks as a copy, whatever the character model says. */
	set_character("char1", NULL, 1, -1.5f);
	r = check("char1_jpeg50.jpg");
	cr_expect_eq(r.verdict, LK_VERDICT_BLOCK);
	cr_expect_eq(r.reason_code, LK_REASON_COPY, "%s", r.reason);
	cr_expect_str_eq(r.character.character, "char1");

	/* At the default threshold, the bank keeps the unrelated picture unflagged. */
	for (int c = 1; c <= 3; c++) {
		char slug[8];
		snprintf(slug, sizeof slug, "char%d", c);
		set_character(slug, NULL, 0, 0);
	}
	r = check("char7_1024x640.png");
	cr_expect_eq(r.character.threshold, LK_DEFAULT_CHARACTER_THRESHOLD);
}

Test(character_model, a_franchise_names_its_next_character)
{
	add_bank();
	set_character("char1", "set", 0, 0);
	set_character("char2", "set", 0, 0);
	const lk_check_result r = check("char1_blur.png");
	cr_assert_str_eq(r.character.character, "char1", "%s", r.reason);
	cr_expect_str_eq(r.character.franchise, "set");
	cr_expect_str_eq(r.character.runner_up, "char2");
	cr_expect_gt(r.character.margin, 0);
	cr_expect_eq(r.character.character_uncertain, r.character.margin < LK_CHARACTER_MARGIN);
	/* A character alone in its franchise has no runner-up: its margin is its score. */
	const lk_check_result alone = check("char3_blur.png");
	cr_assert_str_eq(alone.character.character, "char3", "%s", alone.reason);
	cr_expect_str_eq(alone.character.runner_up, "");
	cr_expect_eq(alone.character.margin, alone.character.score);
}

Test(character_model, a_removed_character_is_never_named)
{
	add_bank();
	cr_assert_eq(lk_character_remove(fx.reg, "char1"), LK_OK);
	const lk_check_result r = check("char1_blur.png");
	cr_expect_str_neq(r.character.character, "char1", "a takedown applies at once");
}

/* What calibration measures is what a check decides; its scores make the "1 in N" estimate. */
Test(character_model, calibration_sets_the_threshold_and_the_rarity_of_a_score)
{
	add_bank();
	lk_embedding e;
	cr_assert_eq(lk_embed_file(&e, fx.embedder, fx_pdq_image("char2_rot5.png"), NULL), LK_OK);
	lk_character_decision d;
	cr_assert_eq(lk_registry_character_score(&d, fx.reg, &e), LK_OK, "%s", lk_error_detail());
	lk_check_result r = check("char2_rot5.png");
	cr_expect_str_eq(d.character, r.character.character);
	cr_expect(fabsf(d.score - r.character.score) < 1e-5f, "the same score (%g, %g)", (double)d.score,
		  (double)r.character.score);

	/* 100 negatives, of which these scored highest: two above the image's score, one below. */
	const float scores[3] = { d.score - 0.05f, d.score + 0.2f, d.score + 0.1f };
	cr_assert_eq(lk_registry_set_character_calibration(fx.reg, d.score + 0.15f, scores, 3, 100), LK_OK, "%s",
		     lk_error_detail());
	r = check("char2_rot5.png");
	cr_expect(fabs(r.character.false_positive_rate - 0.02) < 1e-9, "2 of 100 scored this high: %g",
		  r.character.false_positive_rate);
	cr_expect_eq(r.character.calibration_negatives, 100);
	cr_expect(fabsf(r.character.threshold - (d.score + 0.15f)) < 1e-6f);
	cr_expect_eq(r.character.verdict, LK_VERDICT_ALLOW, "below the calibrated threshold");
	cr_assert_eq(lk_registry_set_character_calibration(fx.reg, d.score - 0.01f, scores, 3, 100), LK_OK);
	r = check("char2_rot5.png");
	cr_expect_eq(r.verdict, LK_VERDICT_REVIEW, "%s", r.reason);
	cr_expect(strstr(r.reason, "1 in 50 unrelated pictures"), "%s", r.reason);

	cr_expect_eq(lk_registry_set_character_calibration(fx.reg, 3.0f, scores, 3, 100), LK_EINVAL);
	cr_expect_eq(lk_registry_set_character_calibration(fx.reg, 0.1f, scores, 3, 2), LK_EINVAL, "more scores than negatives");
	const float nan_score[1] = { NAN };
	cr_expect_eq(lk_registry_set_character_calibration(fx.reg, 0.1f, nan_score, 1, 10), LK_EINVAL);
	cr_expect_eq(lk_registry_set_character_calibration(fx.reg, 0.1f, NULL, 1, 10), LK_EINVAL);
}

/* A snapshot made before the embedder was attached is not reused after: the embedder brings
 * the default bank (and the embedding search), as a program that opens, checks, then attaches
 * would otherwise never see them. */
Test(character_model, attaching_an_embedder_takes_effect_at_the_next_check)
{
	lk_registry *reg;
	cr_assert_eq(lk_registry_open(&reg, fx.dir), LK_OK);
	lk_check_result r;
	cr_assert_eq(lk_check_file(&r, reg, fx_pdq_image("char1_rot5.png"), NULL), LK_OK);
	cr_expect_eq(r.signals, LK_SIGNAL_PDQ, "hash-only before the embedder");
	cr_assert_eq(lk_registry_set_embedder(reg, fx.embedder), LK_OK);
	cr_assert_eq(lk_check_file(&r, reg, fx_pdq_image("char1_rot5.png"), NULL), LK_OK);
	cr_expect(r.signals & LK_SIGNAL_EMBEDDING);
	const lk_check_result attached_first = check("char1_rot5.png");
	cr_expect_eq(r.character.bank_pictures, attached_first.character.bank_pictures,
		     "the same bank as a handle with the embedder attached from the start");
	cr_expect_eq(r.character.score, attached_first.character.score);
	lk_registry_close(reg);
}

/* An embedding of a picture of the test vectors. */
static lk_embedding embedding_of(const char *image)
{
	lk_embedding e;
	cr_assert_eq(lk_embed_file(&e, fx.embedder, fx_pdq_image(image), NULL), LK_OK, "%s: %s", image, lk_error_detail());
	return e;
}

/* wa * a + wb * b, at unit length: a picture that looks partly like each. */
static lk_embedding blend(const lk_embedding *a, float wa, const lk_embedding *b, float wb)
{
	lk_embedding out;
	double norm = 0;
	for (int j = 0; j < LK_EMBEDDING_DIM; j++) {
		out.v[j] = wa * a->v[j] + wb * b->v[j];
		norm += (double)out.v[j] * out.v[j];
	}
	for (int j = 0; j < LK_EMBEDDING_DIM; j++)
		out.v[j] = (float)(out.v[j] / sqrt(norm));
	return out;
}

/* The operator's unrelated pictures: blends of the photographs, gradient, noise, grey and an
 * unregistered character, and a few that half resemble char1 (an operator's outputs in a
 * style close to it), so that char1 is the character unrelated pictures come closest to. */
#define N_OPERATOR 48
static void operator_pictures(lk_embedding out[N_OPERATOR])
{
	static const char *const bases[] = { "bench_b0000_1024.jpg", "bench_b0001_1024.jpg", "bench_b0002_1024.jpg",
					     "noise_200x150_grey.png", "hgradient.png", "flat_grey.png", "char7_1024x640.png" };
	enum { BASES = sizeof bases / sizeof bases[0] };
	lk_embedding base[BASES];
	for (int i = 0; i < BASES; i++)
		base[i] = embedding_of(bases[i]);
	const lk_embedding like_char1 = embedding_of("char1_hue.png");
	int n = 0;
	for (int i = 0; i < BASES && n < N_OPERATOR - 6; i++)
		for (int j = i + 1; j < BASES && n < N_OPERATOR - 6; j++) {
			out[n++] = blend(&base[i], 0.7f, &base[j], 0.3f);
			out[n++] = blend(&base[i], 0.3f, &base[j], 0.7f);
		}
	for (int i = 0; n < N_OPERATOR; i++)
		out[n++] = blend(&like_char1, 0.45f, &base[i % BASES], 0.55f);
}

/* How many of the pictures a check's character decision flags. */
static size_t flagged_by_checks(const lk_embedding *v, size_t n)
{
	size_t flagged = 0;
	for (size_t i = 0; i < n; i++) {
		lk_character_decision d;
		cr_assert_eq(lk_registry_character_score(&d, fx.reg, &v[i]), LK_OK, "%s", lk_error_detail());
		flagged += d.verdict != LK_VERDICT_ALLOW;
	}
	return flagged;
}

/* Calibrating each character on the operator's pictures: checks then flag exactly as many of
 * them as the calibration said, never more than the rate allows; with a per-character strength,
 * the character those pictures come close to is held to a higher score than the others. */
Test(character_model, each_character_is_calibrated_at_the_operators_rate)
{
	add_bank();
	static lk_embedding negatives[N_OPERATOR];
	operator_pictures(negatives);
	const double rate = 0.05; /* 2 of 48 */
	float one_for_all, per_character;
	size_t flagged;

	cr_assert_eq(lk_registry_calibrate_characters(&one_for_all, &flagged, fx.reg, negatives, N_OPERATOR, rate, 0),
		     LK_OK, "%s", lk_error_detail());
	cr_expect_leq(flagged, 2);
	cr_expect_eq(flagged_by_checks(negatives, N_OPERATOR), flagged, "a check decides as the calibration measured");
	lk_check_result one = check("char1_rot5.png"), two = check("char2_rot5.png");
	cr_assert_str_eq(one.character.character, "char1", "%s", one.reason);
	cr_assert_str_eq(two.character.character, "char2", "%s", two.reason);
	cr_expect_eq(one.character.threshold, one_for_all, "strength 0: one threshold for all");
	cr_expect_eq(two.character.threshold, one_for_all);
	cr_expect_eq(one.character.calibration_negatives, N_OPERATOR);

	cr_assert_eq(lk_registry_calibrate_characters(&per_character, &flagged, fx.reg, negatives, N_OPERATOR, rate, 1),
		     LK_OK, "%s", lk_error_detail());
	cr_expect_leq(flagged, 2);
	cr_expect_eq(flagged_by_checks(negatives, N_OPERATOR), flagged, "the same with a threshold per character");
	one = check("char1_rot5.png");
	two = check("char2_rot5.png");
	cr_assert_str_eq(one.character.character, "char1", "%s", one.reason);
	cr_expect_gt(one.character.threshold, two.character.threshold + 0.01f,
		     "unrelated pictures come close to char1: it needs a higher score (%g against %g)",
		     (double)one.character.threshold, (double)two.character.threshold);

	/* A character's own threshold outranks its calibrated one, and the calibration counts what
	 * it flags. */
	set_character("char2", NULL, 0, -1.5f);
	two = check("char2_rot5.png");
	cr_expect_eq(two.character.threshold, -1.5f);
	cr_assert_eq(lk_registry_calibrate_characters(&per_character, &flagged, fx.reg, negatives, N_OPERATOR, rate, 1),
		     LK_OK, "%s", lk_error_detail());
	cr_expect_eq(flagged_by_checks(negatives, N_OPERATOR), flagged, "pictures char2 flags at -1.5 are counted");
	set_character("char2", NULL, 0, 0);

	/* A registry-wide calibration clears the per-character thresholds. */
	const float scores[1] = { 0.1f };
	cr_assert_eq(lk_registry_set_character_calibration(fx.reg, 0.3f, scores, 1, 10), LK_OK, "%s", lk_error_detail());
	one = check("char1_rot5.png");
	two = check("char2_rot5.png");
	cr_expect_eq(one.character.threshold, 0.3f);
	cr_expect_eq(two.character.threshold, 0.3f);

	cr_expect_eq(lk_registry_calibrate_characters(&per_character, &flagged, fx.reg, negatives, 0, rate, 1), LK_EINVAL);
	cr_expect_eq(lk_registry_calibrate_characters(&per_character, &flagged, fx.reg, negatives, 4, 1.0, 1), LK_EINVAL);
	cr_expect_eq(lk_registry_calibrate_characters(&per_character, &flagged, fx.reg, negatives, 4, 0.01, 1.5f), LK_EINVAL);
	cr_expect_eq(lk_registry_calibrate_characters(&per_character, &flagged, fx.reg, NULL, 4, 0.01, 1), LK_EINVAL);
}

/* Without a reference embedding there is nothing to calibrate, and the registry says so. */
Test(character_model, calibrating_a_registry_without_embeddings_is_refused)
{
	char dir[400];
	snprintf(dir, sizeof dir, "%s/hash-only", fx_temp_dir());
	fx_make_registry(dir, "char1", "char1_orig.png");
	lk_registry *reg;
	cr_assert_eq(lk_registry_open(&reg, dir), LK_OK, "%s", lk_error_detail());
	const lk_embedding e = embedding_of("bench_b0000_1024.jpg");
	float t;
	size_t flagged;
	cr_expect_eq(lk_registry_calibrate_characters(&t, &flagged, reg, &e, 1, 0.01, 0.5f), LK_EINVAL);
	cr_expect(strstr(lk_error_detail(), "no reference has an embedding"), "%s", lk_error_detail());
	lk_registry_close(reg);
}
