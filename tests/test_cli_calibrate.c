/* likeness calibrate: thresholds that keep known negatives within the asked false-positive
 * rates, the curve it prints, and its refusals. */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char env[512], negatives[400];

static struct fx_run *run(const char *fmt, const char *arg)
{
	char args[4096];
	snprintf(args, sizeof args, fmt, arg);
	return fx_cli_env(env, args);
}

static void setup(void)
{
	if (!LK_MODELS_DIR[0])
		fx_skip("no models (scripts/fetch-models.sh was not run for this build)");
	char reg[300], args[400];
	snprintf(reg, sizeof reg, "%s/reg", fx_temp_dir());
	snprintf(env, sizeof env, "LIKENESS_REGISTRY='%s'", reg);
	snprintf(args, sizeof args, "init '%s'", reg);
	cr_assert_eq(fx_cli(args)->status, 0);
	for (int c = 1; c <= 3; c++) {
		char slug[16], image[32];
		snprintf(slug, sizeof slug, "char%d", c);
		snprintf(image, sizeof image, "char%d_orig.png", c);
		snprintf(args, sizeof args, "character add %s --name %s", slug, slug);
		cr_assert_eq(fx_cli_env(env, args)->status, 0);
		snprintf(args, sizeof args, "ref add %s '%s'", slug, fx_pdq_image(image));
		struct fx_run *r = fx_cli_env(env, args);
		cr_assert_eq(r->status, 0, "%s", r->err);
	}
	/* Five pictures that copy none of them. */
	snprintf(negatives, sizeof negatives, "%s/negatives", fx_temp_dir());
	static const char *const names[] = { "bench_b0000_1024.jpg", "bench_b0001_1024.jpg", "bench_b0002_1024.jpg",
					     "char7_1024x640.png", "noise_200x150_grey.png" };
	char cmd[1200];
	snprintf(cmd, sizeof cmd, "mkdir -p '%s'", negatives);
	cr_assert_eq(system(cmd), 0);
	for (int i = 0; i < 5; i++) {
		snprintf(cmd, sizeof cmd, "cp '%s' '%s/'", fx_pdq_image(names[i]), negatives);
		cr_assert_eq(system(cmd), 0);
	}
}

TestSuite(cli_calibrate, .init = setup, .timeout = 300);

/* Counts verdicts in an audit's JSON lines. */
static void count(const char *out, int *block, int *review)
{
	*block = *review = 0;
	for (const char *line = out; *line;) {
		const char *end = strchr(line, '\n');
		const size_t len = end ? (size_t)(end - line) : strlen(line);
		json_t *obj = json_loadb(line, len, 0, NULL);
		const char *verdict = json_string_value(json_object_get(obj, "verdict"));
		*block += verdict && !strcmp(verdict, "block");
		*review += verdict && !strcmp(verdict, "review");
		json_decref(obj);
		line += len + (end != NULL);
	}
}

Test(cli_calibrate, thresholds_keep_negatives_within_the_rates)
{
	struct fx_run *r = run("calibrate --dry-run --copy-fpr 0.2 --similar-fpr 0.4 '%s'", negatives);
	cr_assert_eq(r->status, 0, "%s", r->err);
	cr_expect(strstr(r->out, "negatives: 5") && strstr(r->out, "dry run"), "%s", r->out);
	cr_expect(strstr(r->out, "closest negatives:") && strstr(r->out, "reference"), "%s", r->out);
	r = fx_cli_env(env, "stats"); /* (fx_cli_env's result is one static buffer) */
	cr_expect(strstr(r->out, "(defaults)"), "a dry run changes nothing: %s", r->out);
	const char *v = strstr(r->out, "version: ");
	cr_assert(v);
	const long before = strtol(v + 9, NULL, 10);

	r = run("calibrate --copy-fpr 0.2 --similar-fpr 0.4 '%s'", negatives);
	cr_assert_eq(r->status, 0, "%s", r->err);
	cr_expect(strstr(r->out, "thresholds set"), "%s", r->out);
	cr_expect(strstr(r->out, "character threshold: ") && !strstr(r->out, "each character held"), "%s", r->out);
	r = fx_cli_env(env, "stats");
	cr_expect_gt(strtol(strstr(r->out, "version: ") + 9, NULL, 10), before, "setting thresholds is a change");
	cr_expect(strstr(r->out, "(calibrated)") && strstr(r->out, "references: 3 (3 with embeddings)") &&
		  strstr(r->out, "embedder: mnv2-1.4/"), "%s", r->out);

	/* At 20%, one of the five may be blocked; at 40%, two may reach review or block. */
	r = run("audit -j 1 '%s'", negatives);
	int block, review;
	count(r->out, &block, &review);
	cr_expect_leq(block, 1, "%s", r->out);
	cr_expect_leq(block + review, 2, "%s", r->out);
	cr_expect_geq(block + review, 1, "the thresholds sit at the negatives' own scores: %s", r->out);
	/* A character's own thresholds, from the command line. */
	r = fx_cli_env(env, "character update char3 --embed-copy 0.95 --embed-similar 0.9");
	cr_expect_eq(r->status, 0, "%s", r->err);
	r = fx_cli_env(env, "character show char3");
	cr_expect(strstr(r->out, "embedding: block at >= 0.950, review at >= 0.900"), "%s", r->out);
	r = fx_cli_env(env, "character update char3 --embed-copy 0.5 --embed-similar 0.9");
	cr_expect_eq(r->status, 2, "similar above copy is refused: %s", r->err);
	r = fx_cli_env(env, "character update char3 --embed-copy 1.5");
	cr_expect_eq(r->status, 2);
	/* Copies are still found after calibration. */
	r = run("check '%s'", fx_pdq_image("char2_jpeg50.jpg"));
	cr_expect_eq(r->status, 1, "%s", r->out);
}

Test(cli_calibrate, region_thresholds_from_windows)
{
	struct fx_run *r = run("calibrate --regions 9 --copy-fpr 0.2 --similar-fpr 0.4 '%s'", negatives);
	cr_assert_eq(r->status, 0, "%s", r->err);
	cr_expect(strstr(r->out, "embedding copy threshold:") && strstr(r->out, "region copy threshold:"), "%s", r->out);
	const char *t = strstr(r->out, "region copy threshold:");
	cr_assert(t);
	const float copy = strtof(t + strlen("region copy threshold:"), NULL);
	r = fx_cli_env(env, "stats");
	char want[80];
	snprintf(want, sizeof want, "region thresholds: copy >= %.3f", (double)copy);
	cr_expect(strstr(r->out, want) && strstr(r->out, "(calibrated)\n"), "%s in %s", want, r->out);
	/* Each signal lets at most one of the five through at 20%, at most two at 40%. */
	r = run("audit -j 1 --regions 9 '%s'", negatives);
	int block, review;
	count(r->out, &block, &review);
	cr_expect_leq(block, 2, "%s", r->out);
	cr_expect_leq(block + review, 4, "%s", r->out);
	cr_expect_geq(block + review, 1, "the thresholds sit at the negatives' own scores: %s", r->out);
	r = run("calibrate --regions 10 --copy-fpr 0.2 --similar-fpr 0.4 '%s'", negatives);
	cr_expect_eq(r->status, 2, "%s", r->err);
}

Test(cli_calibrate, refusals)
{
	struct fx_run *r = run("calibrate '%s'", negatives);
	cr_expect_eq(r->status, 2, "5 negatives cannot measure 0.1%%");
	cr_expect(strstr(r->err, "needs at least 1000"), "%s", r->err);
	r = run("calibrate --copy-fpr 0.3 --similar-fpr 0.2 '%s'", negatives);
	cr_expect_eq(r->status, 2);
	r = run("calibrate --copy-fpr 0.2 --similar-fpr 0.4 --per-character 1.5 '%s'", negatives);
	cr_expect_eq(r->status, 2, "%s", r->err);
	cr_expect(strstr(r->err, "--per-character needs a number from 0 to 1"), "%s", r->err);
	r = run("calibrate --copy-fpr 0.2 --similar-fpr 0.4 --per-character 0.5 '%s'", negatives);
	cr_expect_eq(r->status, 0, "%s", r->err);
	cr_expect(strstr(r->out, "each character held to its own"), "%s", r->out);
	r = run("calibrate --copy-fpr 2 '%s'", negatives);
	cr_expect_eq(r->status, 2);
	cr_expect(strstr(r->err, "between 0 and 1"), "%s", r->err);
	r = run("calibrate --copy-fpr 0.2 --similar-fpr 0.4 '%s' /nonexistent.png", negatives);
	cr_expect_eq(r->status, 3, "an unreadable negative: the others are used, exit 3: %s", r->err);
	cr_expect(strstr(r->err, "/nonexistent.png") && strstr(r->out, "thresholds set"), "%s / %s", r->err, r->out);

	/* A registry of hashes only has nothing to calibrate. */
	char reg[400], args[1000];
	snprintf(reg, sizeof reg, "%s/hash-only", fx_temp_dir());
	snprintf(args, sizeof args, "init '%s'", reg);
	cr_assert_eq(fx_cli(args)->status, 0);
	snprintf(args, sizeof args, "character add c --name C -r '%s'", reg);
	cr_assert_eq(fx_cli(args)->status, 0);
	snprintf(args, sizeof args, "ref add c --hash-only -r '%s' '%s'", reg, fx_pdq_image("char1_orig.png"));
	r = fx_cli(args);
	cr_assert_eq(r->status, 0, "%s", r->err);
	snprintf(args, sizeof args, "calibrate -r '%s' --copy-fpr 0.2 --similar-fpr 0.4 '%s'", reg, negatives);
	/* (options may come before or after the subcommand's other arguments) */
	r = fx_cli(args);
	cr_expect_eq(r->status, 3);
	cr_expect(strstr(r->err, "no references with embeddings"), "%s", r->err);
}
