/* Read-only registry endpoints: /v1/registry, /v1/characters (pages), one character, its
 * references, and the 400s and 404s around them. */
#include "fixtures.h"
#include "serve_client.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct sc_server srv;

/* char1 and char2 with one reference each; char3 disabled, no references, every text field set. */
static void start(void)
{
	const char *reg = sc_registry_hash("char1", "char1_orig.png");
	lk_registry *r;
	cr_assert_eq(lk_registry_open(&r, reg), LK_OK, "%s", lk_error_detail());
	lk_character c = fx_character("char2", "Character Two");
	cr_assert_eq(lk_character_add(r, &c), LK_OK, "%s", lk_error_detail());
	cr_assert_eq(lk_reference_add_file(NULL, r, "char2", fx_pdq_image("char2_orig.png"), NULL), LK_OK, "%s",
		     lk_error_detail());
	c = fx_character("char3", "Character Three");
	snprintf(c.aliases, sizeof c.aliases, "three,drei");
	snprintf(c.rights_holder, sizeof c.rights_holder, "Example Studio");
	snprintf(c.licence, sizeof c.licence, "all rights reserved");
	snprintf(c.labels, sizeof c.labels, "test");
	c.block_threshold = 20;
	c.review_threshold = 40;
	c.enabled = 0;
	cr_assert_eq(lk_character_add(r, &c), LK_OK, "%s", lk_error_detail());
	lk_registry_close(r);
	sc_server_start(&srv, reg, "--hash-only");
}

static void stop(void)
{
	sc_server_stop(&srv);
}

TestSuite(serve_registry, .init = start, .fini = stop, .timeout = 120);

static json_t *get_json(const char *target, int status)
{
	struct sc_response r;
	cr_assert_eq(sc_get(srv.port, target, &r), 0, "%s: %s", target, r.error);
	cr_assert_eq(r.status, status, "%s: %d %.300s", target, r.status, r.body);
	const char *type = sc_header(&r, "Content-Type");
	cr_assert(type && strncmp(type, "application/json", 16) == 0, "%s: Content-Type %s", target, type ? type : "(none)");
	json_t *j = sc_json(&r);
	cr_assert(j, "%s: not JSON: %.300s", target, r.body);
	sc_response_free(&r);
	return j;
}

/* The object has exactly these keys. */
static void expect_keys(json_t *obj, const char *const *keys, size_t n, const char *what)
{
	cr_assert(json_is_object(obj), "%s is not an object", what);
	for (size_t i = 0; i < n; i++)
		cr_assert(json_object_get(obj, keys[i]), "%s lacks \"%s\"", what, keys[i]);
	cr_assert_eq(json_object_size(obj), n, "%s has %zu keys, the contract %zu", what, json_object_size(obj), n);
}

static const char *const character_keys[] = { "slug", "name", "aliases", "rights_holder", "licence", "labels",
	"enabled", "references", "block_threshold", "review_threshold", "embed_copy", "embed_similar" };
#define N_CHARACTER_KEYS (sizeof character_keys / sizeof character_keys[0])

Test(serve_registry, registry_summary)
{
	json_t *j = get_json("/v1/registry", 200);
	static const char *const keys[] = { "version", "characters", "enabled_characters", "references",
		"embedded_references", "embedder", "embed_copy", "embed_similar", "calibrated", "region_copy",
		"region_similar", "region_calibrated" };
	expect_keys(j, keys, sizeof keys / sizeof keys[0], "registry");
	cr_assert_eq(json_integer_value(json_object_get(j, "characters")), 3);
	cr_assert_eq(json_integer_value(json_object_get(j, "enabled_characters")), 2);
	cr_assert_eq(json_integer_value(json_object_get(j, "references")), 2);
	cr_assert_eq(json_integer_value(json_object_get(j, "embedded_references")), 0);
	cr_assert_geq(json_integer_value(json_object_get(j, "version")), 1);
	cr_assert(json_is_boolean(json_object_get(j, "calibrated")));
	cr_assert(json_is_boolean(json_object_get(j, "region_calibrated")));
	cr_assert(json_is_number(json_object_get(j, "embed_copy")));
	cr_assert(json_is_string(json_object_get(j, "embedder")));

	/* the same version /readyz reports */
	json_t *ready = get_json("/readyz", 200);
	cr_assert_eq(json_integer_value(json_object_get(ready, "registry_version")),
		     json_integer_value(json_object_get(j, "version")));
	json_decref(ready);
	json_decref(j);
}

Test(serve_registry, characters_list_and_one_character)
{
	json_t *j = get_json("/v1/characters", 200);
	cr_assert_eq(json_integer_value(json_object_get(j, "total")), 3);
	cr_assert_eq(json_integer_value(json_object_get(j, "offset")), 0);
	cr_assert_eq(json_integer_value(json_object_get(j, "limit")), 100);
	json_t *list = json_object_get(j, "characters");
	cr_assert_eq(json_array_size(list), 3);
	int seen = 0;
	for (size_t i = 0; i < 3; i++) {
		json_t *c = json_array_get(list, i);
		expect_keys(c, character_keys, N_CHARACTER_KEYS, "character");
		const char *slug = json_string_value(json_object_get(c, "slug"));
		cr_assert(slug);
		cr_assert(json_is_boolean(json_object_get(c, "enabled")));
		int k = slug[4] - '1';
		cr_assert(k >= 0 && k < 3 && strlen(slug) == 5, "unexpected slug %s", slug);
		seen |= 1 << k;
		cr_assert_eq(json_integer_value(json_object_get(c, "references")), k < 2 ? 1 : 0, "%s", slug);
		cr_assert_eq(json_is_true(json_object_get(c, "enabled")), k < 2, "%s", slug);
	}
	cr_assert_eq(seen, 7);
	json_decref(j);

	j = get_json("/v1/characters/char3", 200);
	expect_keys(j, character_keys, N_CHARACTER_KEYS, "character");
	cr_assert_str_eq(json_string_value(json_object_get(j, "name")), "Character Three");
	cr_assert_str_eq(json_string_value(json_object_get(j, "aliases")), "three,drei");
	cr_assert_str_eq(json_string_value(json_object_get(j, "rights_holder")), "Example Studio");
	cr_assert_str_eq(json_string_value(json_object_get(j, "licence")), "all rights reserved");
	cr_assert_str_eq(json_string_value(json_object_get(j, "labels")), "test");
	cr_assert(json_is_false(json_object_get(j, "enabled")));
	cr_assert_eq(json_integer_value(json_object_get(j, "block_threshold")), 20);
	cr_assert_eq(json_integer_value(json_object_get(j, "review_threshold")), 40);
	json_decref(j);

	j = get_json("/v1/characters/nobody", 404);
	cr_assert_str_eq(json_string_value(json_object_get(j, "error")), "not_found");
	json_decref(j);
}

Test(serve_registry, characters_pages)
{
	char seen[3][64];
	int n = 0;
	for (int offset = 0; offset < 4; offset += 2) {
		char target[96];
		snprintf(target, sizeof target, "/v1/characters?offset=%d&limit=2", offset);
		json_t *j = get_json(target, 200);
		cr_assert_eq(json_integer_value(json_object_get(j, "total")), 3, "%s", target);
		cr_assert_eq(json_integer_value(json_object_get(j, "offset")), offset);
		cr_assert_eq(json_integer_value(json_object_get(j, "limit")), 2);
		json_t *list = json_object_get(j, "characters");
		cr_assert_eq(json_array_size(list), offset == 0 ? 2 : 1, "%s", target);
		for (size_t i = 0; i < json_array_size(list); i++) {
			const char *slug = json_string_value(json_object_get(json_array_get(list, i), "slug"));
			for (int k = 0; k < n; k++)
				cr_assert_str_neq(seen[k], slug, "%s on two pages", slug);
			snprintf(seen[n++], sizeof seen[0], "%s", slug);
		}
		json_decref(j);
	}
	cr_assert_eq(n, 3, "the pages hold %d of the 3 characters", n);
	json_t *j = get_json("/v1/characters?offset=3", 200);
	cr_assert_eq(json_array_size(json_object_get(j, "characters")), 0);
	cr_assert_eq(json_integer_value(json_object_get(j, "total")), 3);
	json_decref(j);
	j = get_json("/v1/characters?limit=1000", 200);
	cr_assert_eq(json_array_size(json_object_get(j, "characters")), 3);
	json_decref(j);
	j = get_json("/v1/characters?limit=1", 200);
	cr_assert_eq(json_array_size(json_object_get(j, "characters")), 1);
	json_decref(j);
}

Test(serve_registry, bad_pages_are_400)
{
	static const char *const bad[] = { "limit=0", "limit=1001", "limit=-5", "limit=abc", "limit=", "limit=2x",
		"offset=-1", "offset=x", "offset=1.5", "offset=", "limit=99999999999999999999999" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char target[128];
		snprintf(target, sizeof target, "/v1/characters?%s", bad[i]);
		struct sc_response r;
		sc_get(srv.port, target, &r);
		cr_assert_eq(r.status, 400, "%s: %d %.200s", target, r.status, r.body);
		sc_expect_error(&r, 400, "bad_request");
		sc_response_free(&r);
		snprintf(target, sizeof target, "/v1/characters/char1/references?%s", bad[i]);
		sc_get(srv.port, target, &r);
		cr_assert_eq(r.status, 400, "%s: %d %.200s", target, r.status, r.body);
		sc_response_free(&r);
	}
}

Test(serve_registry, references_of_a_character)
{
	json_t *j = get_json("/v1/characters/char1/references", 200);
	cr_assert_eq(json_integer_value(json_object_get(j, "total")), 1);
	json_t *list = json_object_get(j, "references");
	cr_assert_eq(json_array_size(list), 1);
	json_t *ref = json_array_get(list, 0);
	static const char *const keys[] = { "id", "character", "sha256", "source", "hash", "quality", "allow",
		"added_at" };
	expect_keys(ref, keys, sizeof keys / sizeof keys[0], "reference");
	cr_assert_str_eq(json_string_value(json_object_get(ref, "character")), "char1");
	cr_assert(json_is_false(json_object_get(ref, "allow")));
	cr_assert_geq(json_integer_value(json_object_get(ref, "id")), 1);
	cr_assert_gt(json_integer_value(json_object_get(ref, "added_at")), 1700000000);
	cr_assert_eq(strlen(json_string_value(json_object_get(ref, "sha256"))), 64);

	/* "hash" is the image's own PDQ, as `likeness hash` prints it */
	char args[600];
	snprintf(args, sizeof args, "hash '%s'", fx_pdq_image("char1_orig.png"));
	struct fx_run *run = fx_cli(args);
	cr_assert_eq(run->status, 0);
	char hex[65];
	int quality;
	cr_assert_eq(sscanf(run->out, "%64[0-9a-f],%d", hex, &quality), 2, "%s", run->out);
	cr_assert_str_eq(json_string_value(json_object_get(ref, "hash")), hex);
	cr_assert_eq(json_integer_value(json_object_get(ref, "quality")), quality);
	json_decref(j);

	j = get_json("/v1/characters/char3/references", 200);
	cr_assert_eq(json_integer_value(json_object_get(j, "total")), 0);
	cr_assert_eq(json_array_size(json_object_get(j, "references")), 0);
	json_decref(j);

	j = get_json("/v1/characters/nobody/references", 404);
	cr_assert_str_eq(json_string_value(json_object_get(j, "error")), "not_found");
	json_decref(j);
}
