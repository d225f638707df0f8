/* The registry commands as a user runs them: init, character, ref, check, stats. */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static char env[512];

static struct fx_run *run(const char *fmt, const char *arg)
{
	char args[4096];
	snprintf(args, sizeof args, fmt, arg);
	return fx_cli_env(env, args);
}

static void setup(void)
{
	char reg[300];
	snprintf(reg, sizeof reg, "%s/reg", fx_temp_dir());
	snprintf(env, sizeof env, "LIKENESS_REGISTRY='%s'", reg);
	char args[400];
	snprintf(args, sizeof args, "init '%s'", reg);
	struct fx_run *r = fx_cli(args);
	cr_assert_eq(r->status, 0, "%s", r->err);
	r = fx_cli_env(env, "character add char1 --name 'Character One' --rights-holder 'Example Studio'");
	cr_assert_eq(r->status, 0, "%s", r->err);
	r = fx_cli_env(env, "character add char2 --name Two --block 20 --review 40");
	cr_assert_eq(r->status, 0, "%s", r->err);
	r = run("ref add char1 '%s'", fx_pdq_image("char1_orig.png"));
	cr_assert_eq(r->status, 0, "%s", r->err);
	r = run("ref add char2 '%s'", fx_pdq_image("char2_orig.png"));
	cr_assert_eq(r->status, 0, "%s", r->err);
}

TestSuite(cli_registry, .init = setup);

Test(cli_registry, check_verdicts_and_exit_codes)
{
	struct fx_run *r = run("check '%s'", fx_pdq_image("char1_jpeg50.jpg"));
	cr_expect_eq(r->status, 1, "blocked -> 1: %s", r->err);
	cr_expect(strstr(r->out, "block") && strstr(r->out, "char1"), "%s", r->out);

	r = run("check '%s'", fx_pdq_image("char7_1024x640.png"));
	cr_expect_eq(r->status, 0, "%s", r->err);
	cr_expect(strstr(r->out, "allow"), "%s", r->out);

	r = run("check '%s'", fx_pdq_image("char1_overlay.png")); /* 50 bits: review for char1 */
	cr_expect_eq(r->status, 5, "review -> 5: %s %s", r->out, r->err);

	r = run("check '%s' /nonexistent.png", fx_pdq_image("char7_1024x640.png"));
	cr_expect_eq(r->status, 3, "unreadable -> 3");
	cr_expect(strstr(r->err, "/nonexistent.png"));
}

Test(cli_registry, check_json)
{
	struct fx_run *r = run("check --json '%s' /nonexistent.png", fx_pdq_image("char2_flipy.png"));
	cr_expect_eq(r->status, 1);
	cr_expect(strstr(r->out, "\"verdict\":\"block\""), "%s", r->out);
	cr_expect(strstr(r->out, "\"character\":\"char2\""));
	cr_expect(strstr(r->out, "\"transform\":\"flipy\""), "%s", r->out);
	cr_expect(strstr(r->out, "\"block_threshold\":20"));
	cr_expect(strstr(r->out, "\"registry_version\":"));
	cr_expect(strstr(r->out, "\"error\":\"LK_EIO\""), "%s", r->out);
	int lines = 0;
	for (const char *p = r->out; *p; p++)
		lines += *p == '\n';
	cr_expect_eq(lines, 2, "one JSON object per line");
}

Test(cli_registry, characters_and_references)
{
	struct fx_run *r = fx_cli_env(env, "character list");
	cr_assert_eq(r->status, 0);
	cr_expect(strstr(r->out, "char1") && strstr(r->out, "Character One"));
	r = fx_cli_env(env, "character show char2");
	cr_expect(strstr(r->out, "block at <= 20, review at <= 40"), "%s", r->out);
	r = fx_cli_env(env, "character add char1 --name Again");
	cr_expect_eq(r->status, 3);
	cr_expect(strstr(r->err, "already exists"), "%s", r->err);
	r = fx_cli_env(env, "character add 'Bad Id' --name X");
	cr_expect_eq(r->status, 2);
	r = fx_cli_env(env, "character update char1 --review 60");
	cr_expect_eq(r->status, 0, "%s", r->err);
	r = fx_cli_env(env, "character show char1");
	cr_expect(strstr(r->out, "review at <= 60") && strstr(r->out, "Example Studio"), "%s", r->out);

	/* A low-quality image is refused with the reason; the run says what it did. */
	r = run("ref add char1 '%s'", fx_pdq_image("flat_grey.png"));
	cr_expect_eq(r->status, 3);
	cr_expect(strstr(r->err, "quality 0"), "%s", r->err);
	r = run("ref add char1 '%s'", fx_pdq_image("char1_orig.png"));
	cr_expect_eq(r->status, 0, "re-adding is harmless");
	cr_expect(strstr(r->err, "1 already present"), "%s", r->err);

	r = fx_cli_env(env, "ref list char1");
	cr_expect(strstr(r->out, "71c3cc72ccc3cc25ce1c39c9369c61c3925cf3c7734db0d60de30cf28d23cb3c"), "%s", r->out);

	/* Takedown from the command line: the next check no longer matches. */
	r = fx_cli_env(env, "character disable char2");
	cr_expect_eq(r->status, 0);
	r = run("check '%s'", fx_pdq_image("char2_blur.png"));
	cr_expect_eq(r->status, 0, "disabled character still matched: %s", r->out);
	r = fx_cli_env(env, "character enable char2");
	r = run("check '%s'", fx_pdq_image("char2_blur.png"));
	cr_expect_eq(r->status, 1);
	r = fx_cli_env(env, "ref remove 2");
	cr_expect_eq(r->status, 0, "%s", r->err);
	r = run("check '%s'", fx_pdq_image("char2_blur.png"));
	cr_expect_eq(r->status, 0, "removed reference still matched: %s", r->out);
	r = fx_cli_env(env, "ref remove 999");
	cr_expect_eq(r->status, 3);

	r = fx_cli_env(env, "stats");
	cr_expect(strstr(r->out, "characters: 2 (2 enabled, 0 disabled)"), "%s", r->out);
	cr_expect(strstr(r->out, "references: 1"), "%s", r->out);
}

/* One character per folder, created on the fly; files in name order; re-runs skip. */
Test(cli_registry, per_folder_import)
{
	const char *root = fx_temp_dir();
	char path[600], cmd[1400];
	snprintf(path, sizeof path, "%s/Whiskers Cat", root);
	cr_assert_eq(mkdir(path, 0777), 0);
	snprintf(cmd, sizeof cmd, "cp '%s' '%s/a.png' && cp '%s' '%s/b.jpg'", fx_pdq_image("char3_orig.png"), path,
		 fx_pdq_image("char3_jpeg50.jpg"), path);
	cr_assert_eq(system(cmd), 0);
	struct fx_run *r = run("ref add --per-folder '%s'", root);
	cr_expect_eq(r->status, 0, "%s", r->err);
	cr_expect(strstr(r->err, "added 2 reference(s)"), "%s", r->err);
	r = fx_cli_env(env, "character show whiskers-cat");
	cr_expect_eq(r->status, 0, "%s", r->err);
	cr_expect(strstr(r->out, "name: Whiskers Cat") && strstr(r->out, "2 reference(s)"), "%s", r->out);
	r = run("ref add --per-folder '%s'", root);
	cr_expect(strstr(r->err, "added 0 reference(s), 2 already present"), "%s", r->err);
	r = run("check '%s'", fx_pdq_image("char3_bright.png"));
	cr_expect_eq(r->status, 1);
	cr_expect(strstr(r->out, "whiskers-cat"), "%s", r->out);
}

Test(cli_registry, missing_registry_is_explained)
{
	struct fx_run *r = fx_cli_env("LIKENESS_REGISTRY=", "check x.png");
	cr_expect_eq(r->status, 2);
	cr_expect(strstr(r->err, "--registry"), "%s", r->err);
	r = fx_cli_env("", "check -r /nonexistent/reg x.png");
	cr_expect_eq(r->status, 3);
	cr_expect(strstr(r->err, "no registry here"), "%s", r->err);
}

/* Export, import into a fresh registry, export again: the same list; the imported hashes
 * match like the images they came from, mirrors included (queries bring their variants). */
Test(cli_registry, hash_list_round_trip)
{
	struct fx_run *r = fx_cli_env(env, "export");
	cr_assert_eq(r->status, 0, "%s", r->err);
	cr_expect(strncmp(r->out, "pdq,quality,label\n", 18) == 0, "%s", r->out);
	cr_expect(strstr(r->out, "71c3cc72ccc3cc25ce1c39c9369c61c3925cf3c7734db0d60de30cf28d23cb3c,100,char1\n"), "%s", r->out);
	static char first[sizeof r->out];
	memcpy(first, r->out, sizeof first);
	const char *list = fx_write_temp("bank.csv", first, strlen(first));

	char reg2[300], other[700], args[1200];
	snprintf(reg2, sizeof reg2, "%s/reg2", fx_temp_dir());
	snprintf(args, sizeof args, "init '%s'", reg2);
	cr_assert_eq(fx_cli(args)->status, 0);
	snprintf(other, sizeof other, "LIKENESS_REGISTRY='%s'", reg2);
	fx_cli_env(other, "character add char1 --name One");
	fx_cli_env(other, "character add char2 --name Two");
	snprintf(args, sizeof args, "import '%s'", list);
	r = fx_cli_env(other, args);
	cr_expect_eq(r->status, 0, "%s", r->err);
	cr_expect(strstr(r->err, "imported 2 hash(es)"), "%s", r->err);
	r = fx_cli_env(other, "export");
	cr_expect_str_eq(r->out, first);

	snprintf(args, sizeof args, "check '%s'", fx_pdq_image("char2_flipy.png"));
	r = fx_cli_env(other, args);
	cr_expect_eq(r->status, 1, "imported hash did not catch a mirrored copy: %s", r->out);

	/* 'likeness hash' output loads with --character; bad lines are reported, good ones kept. */
	char lines[2048];
	snprintf(lines, sizeof lines,
		 "3a856c5a3e0a95b40acd7a8dcd5a319c9236ef98ec1d903e3fd8ca76318913e3,100,some/path.png\n"
		 "nothex,100,x\n"
		 "12f4b99b656a4a64ae6c8d958ccdccb49d4b95f21095ac036f7a624b629573dc,30,y\n");
	const char *hashes = fx_write_temp("hashes.csv", lines, strlen(lines));
	snprintf(args, sizeof args, "import --character char2 '%s'", hashes);
	r = fx_cli_env(other, args);
	cr_expect_eq(r->status, 3, "%s", r->err);
	cr_expect(strstr(r->err, ":2: not a PDQ hash"), "%s", r->err);
	cr_expect(strstr(r->err, "quality 30"), "%s", r->err);
	cr_expect(strstr(r->err, "imported 1 hash(es)"), "%s", r->err);
}

/* The character model from the command line: franchise and policy on a character, the negative
 * bank, and a new pose that copies no reference named by its character. */
Test(cli_registry, franchises_the_bank_and_the_character_decision)
{
	if (!LK_MODELS_DIR[0])
		fx_skip("no models (scripts/fetch-models.sh was not run for this build)");
	struct fx_run *r = fx_cli_env(env, "character update char1 --franchise examples --on-character block");
	cr_assert_eq(r->status, 0, "%s", r->err);
	r = fx_cli_env(env, "character show char1");
	cr_expect(strstr(r->out, "franchise: examples") && strstr(r->out, "character: block"), "%s", r->out);
	r = fx_cli_env(env, "character update char1 --on-character always");
	cr_expect_eq(r->status, 2);
	cr_expect(strstr(r->err, "review or block"), "%s", r->err);
	r = fx_cli_env(env, "character update char1 --character-threshold 3");
	cr_expect_eq(r->status, 2);
	r = fx_cli_env(env, "character update char1 --franchise 'No Slug'");
	cr_expect_eq(r->status, 2, "%s", r->err);

	r = fx_cli_env(env, "negatives list");
	cr_assert_eq(r->status, 0, "%s", r->err);
	cr_expect(!strstr(r->out, "bench_b"), "an empty bank: %s", r->out);
	r = run("negatives add '%s'", fx_pdq_image("bench_b0000_1024.jpg"));
	cr_assert_eq(r->status, 0, "%s", r->err);
	r = run("negatives add '%s'", fx_pdq_image("bench_b0000_1024.jpg"));
	cr_expect_eq(r->status, 0, "a picture already in the bank is no failure: %s", r->err);
	cr_expect(strstr(r->err, "0 added, 1 already in the bank"), "%s", r->err);
	r = run("negatives add '%s'", fx_pdq_image("nothing-here.png"));
	cr_expect_eq(r->status, 3, "%s", r->err);
	r = fx_cli_env(env, "negatives list");
	cr_expect(strstr(r->out, "bench_b0000_1024.jpg"), "%s", r->out);

	r = run("check --json '%s'", fx_pdq_image("char1_rot5.png"));
	cr_expect(strstr(r->out, "\"character\":{\"character\":\"char1\"") && strstr(r->out, "\"franchise\":\"examples\""),
		  "%s", r->out);
	cr_expect(strstr(r->out, "\"bank_pictures\":1"), "%s", r->out);

	r = fx_cli_env(env, "negatives remove 1 2");
	cr_expect_eq(r->status, 3, "the second id is not there: %s", r->err);
	cr_expect(strstr(r->out, "removed negative 1"), "%s", r->out);
	r = fx_cli_env(env, "negatives remove one");
	cr_expect_eq(r->status, 2);
	r = fx_cli_env(env, "negatives");
	cr_expect_eq(r->status, 2);
}
