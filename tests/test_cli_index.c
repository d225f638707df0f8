/* likeness index build / status as a user runs them, on a registry of synthetic embeddings. */
#include "fixtures.h"
#include "index/search/search.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char reg_dir[300];

static struct fx_run *run(const char *fmt, const char *arg)
{
	char args[4096];
	snprintf(args, sizeof args, fmt, arg);
	return fx_cli(args);
}

/* 300 references of one random unit vector each. */
static void setup(void)
{
	snprintf(reg_dir, sizeof reg_dir, "%s/reg", fx_temp_dir());
	cr_assert_eq(lk_registry_create(reg_dir), LK_OK);
	lk_registry *reg;
	cr_assert_eq(lk_registry_open(&reg, reg_dir), LK_OK);
	lk_character c = fx_character("a", "A");
	cr_assert_eq(lk_character_add(reg, &c), LK_OK);
	enum { N = 300 };
	float *v = malloc(sizeof(float) * LK_EMBEDDING_DIM * N);
	uint64_t s = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < (size_t)N * LK_EMBEDDING_DIM; i++) {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		v[i] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
	}
	cr_assert_eq(lk__reference_add_embedded(NULL, reg, "a", v, N, 1, "test/synthetic"), LK_OK, "%s",
		     lk_error_detail());
	free(v);
	lk_registry_close(reg);
}

TestSuite(cli_index, .init = setup, .timeout = 120);

Test(cli_index, status_build_status)
{
	struct fx_run *r = run("index status '%s'", reg_dir);
	cr_expect_eq(r->status, 0, "%s", r->err);
	cr_expect(strstr(r->out, "index: none") && strstr(r->out, "embedded references: 300"), "%s", r->out);

	r = run("index build --nlist 4 --recall 0.95 --sample 100 --threads 1 '%s'", reg_dir);
	cr_expect_eq(r->status, 0, "%s", r->err);
	cr_expect(strstr(r->out, "built the index") && strstr(r->out, "index: current"), "%s", r->out);
	cr_expect(strstr(r->out, "nlist: 4,"), "%s", r->out);
	cr_expect(strstr(r->out, "references: 300 (300 vectors)"), "%s", r->out);
	cr_expect(strstr(r->out, "note: below 2500 "), "small registries are told the index will not pay");

	char env[400];
	snprintf(env, sizeof env, "LIKENESS_REGISTRY='%s'", reg_dir);
	r = fx_cli_env(env, "index status");
	cr_expect_eq(r->status, 0, "%s", r->err);
	cr_expect(strstr(r->out, "index: current") && strstr(r->out, "0 of them not in the index"), "%s", r->out);
}

Test(cli_index, damaged_file_is_reported)
{
	struct fx_run *r = run("index build --sample 50 '%s'", reg_dir);
	cr_assert_eq(r->status, 0, "%s", r->err);
	char path[400];
	snprintf(path, sizeof path, "%s/embeddings.ivf", reg_dir);
	FILE *f = fopen(path, "r+b");
	cr_assert(f);
	fseek(f, -100, SEEK_END);
	fputc('!', f);
	fclose(f);
	r = run("index status '%s'", reg_dir);
	cr_expect_eq(r->status, 0, "%s", r->err);
	cr_expect(strstr(r->out, "index: refused") && strstr(r->out, "checksum mismatch"), "%s", r->out);
}

Test(cli_index, bad_arguments)
{
	struct fx_run *r = fx_cli("index");
	cr_expect_eq(r->status, 2);
	cr_expect(strstr(r->err, "usage: likeness index"), "%s", r->err);
	r = run("index rebuild '%s'", reg_dir);
	cr_expect_eq(r->status, 2);
	r = run("index build --nlist many '%s'", reg_dir);
	cr_expect_eq(r->status, 2);
	cr_expect(strstr(r->err, "--nlist"), "%s", r->err);
	r = run("index build --recall 1.5 '%s'", reg_dir);
	cr_expect_eq(r->status, 2);
	r = run("index status --nlist 4 '%s'", reg_dir);
	cr_expect_eq(r->status, 2);
	r = run("index build --nlist 100000 '%s'", reg_dir);
	cr_expect_eq(r->status, 2, "more lists than vectors: %s", r->err);
	cr_expect(strstr(r->err, "vectors"), "%s", r->err);
	r = fx_cli_env("LIKENESS_REGISTRY=", "index status");
	cr_expect_eq(r->status, 2, "no registry named");
	r = fx_cli("index status /nonexistent/registry");
	cr_expect_eq(r->status, 3, "unreadable registry: %s", r->err);
	r = fx_cli("index --help");
	cr_expect_eq(r->status, 0);
}
