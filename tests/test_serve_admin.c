/* Admin endpoints: the bearer token (off, missing, wrong, from a file or the environment),
 * characters added, changed, disabled and removed, references added (raw and multipart) and
 * removed, each taking effect on the next check; 400/404/409/415/422 around them. */
#include "fixtures.h"
#include "serve_client.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN "s3cret-token-for-tests"
#define AUTH "Authorization: Bearer " TOKEN "\r\n"
#define JSON_AUTH "Content-Type: application/json\r\n" AUTH

static struct sc_server srv;

static void start(void)
{
	char args[512];
	snprintf(args, sizeof args, "--hash-only --admin-token-file %s", sc_token_file(TOKEN));
	sc_server_start(&srv, sc_registry_hash("char1", "char1_orig.png"), args);
}

static void stop(void)
{
	sc_server_stop(&srv);
}

TestSuite(serve_admin, .init = start, .fini = stop, .timeout = 120);

/* A request with the admin token; `json` is sent as application/json when not NULL. */
static void admin(const char *method, const char *target, const char *json, struct sc_response *r)
{
	sc_request(srv.port, method, target, json ? JSON_AUTH : AUTH, json, json ? strlen(json) : 0, r);
}

static json_t *expect_json(const struct sc_response *r, int status)
{
	cr_assert_eq(r->status, status, "status %d, want %d (%s): %.400s", r->status, status, r->error,
		     r->body ? r->body : "");
	json_t *j = sc_json(r);
	cr_assert(j, "not JSON: %.300s", r->body);
	return j;
}

static const char *check(int port, const char *image)
{
	struct sc_response r;
	sc_post_vector(port, "/v1/check", "image/png", image, &r);
	cr_assert_eq(r.status, 200, "check %s: %d %.300s", image, r.status, r.body);
	const char *v = sc_verdict(&r);
	sc_response_free(&r);
	return v;
}

static long long registry_version(void)
{
	struct sc_response r;
	sc_get(srv.port, "/v1/registry", &r);
	json_t *j = expect_json(&r, 200);
	long long v = json_integer_value(json_object_get(j, "version"));
	json_decref(j);
	sc_response_free(&r);
	return v;
}

Test(serve_admin_off, without_a_token_admin_is_403, .timeout = 120)
{
	struct sc_server s;
	sc_server_start(&s, sc_registry_hash("char1", "char1_orig.png"), "--hash-only");
	static const struct {
		const char *method, *target, *type;
	} calls[] = {
		{ "POST", "/v1/characters", "application/json" },
		{ "PATCH", "/v1/characters/char1", "application/json" },
		{ "DELETE", "/v1/characters/char1", NULL },
		{ "POST", "/v1/characters/char1/references", "image/png" },
		{ "DELETE", "/v1/references/1", NULL },
	};
	for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
		for (int with_auth = 0; with_auth < 2; with_auth++) {
			char headers[256];
			snprintf(headers, sizeof headers, "%s%s%s%s", calls[i].type ? "Content-Type: " : "",
				 calls[i].type ? calls[i].type : "", calls[i].type ? "\r\n" : "", with_auth ? AUTH : "");
			const char *body = "{\"slug\":\"x\",\"name\":\"X\"}";
			struct sc_response r;
			sc_request(s.port, calls[i].method, calls[i].target, headers, calls[i].type ? body : NULL,
				   calls[i].type ? strlen(body) : 0, &r);
			cr_assert_eq(r.status, 403, "%s %s (auth %d): %d", calls[i].method, calls[i].target, with_auth, r.status);
			sc_expect_error(&r, 403, "admin_disabled");
			sc_response_free(&r);
		}
	/* and nothing changed */
	cr_assert_str_eq(check(s.port, "char1_orig.png"), "block");
	sc_server_stop(&s);
}

Test(serve_admin, token_missing_or_wrong_is_401_with_www_authenticate)
{
	const char *body = "{\"slug\":\"newc\",\"name\":\"New\"}";
	static const char *const headers[] = {
		"Content-Type: application/json\r\n",
		"Content-Type: application/json\r\nAuthorization: Bearer wrong\r\n",
		"Content-Type: application/json\r\nAuthorization: Bearer " TOKEN "x\r\n",
		"Content-Type: application/json\r\nAuthorization: Bearer\r\n",
		"Content-Type: application/json\r\nAuthorization: Basic czNjcmV0LXRva2VuLWZvci10ZXN0cw==\r\n",
		"Content-Type: application/json\r\nAuthorization: " TOKEN "\r\n",
	};
	for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
		struct sc_response r;
		sc_request(srv.port, "POST", "/v1/characters", headers[i], body, strlen(body), &r);
		cr_assert_eq(r.status, 401, "case %zu: %d %.200s", i, r.status, r.body);
		sc_expect_error(&r, 401, "unauthorized");
		const char *www = sc_header(&r, "WWW-Authenticate");
		cr_assert(www && strncmp(www, "Bearer", 6) == 0, "case %zu: WWW-Authenticate %s", i, www ? www : "(none)");
		sc_response_free(&r);
	}
	/* a DELETE without the token changes nothing either */
	struct sc_response r;
	sc_request(srv.port, "DELETE", "/v1/characters/char1", NULL, NULL, 0, &r);
	sc_expect_error(&r, 401, "unauthorized");
	sc_response_free(&r);
	cr_assert_str_eq(check(srv.port, "char1_orig.png"), "block");
	/* reads need no token */
	sc_get(srv.port, "/v1/characters/char1", &r);
	cr_assert_eq(r.status, 200);
	sc_response_free(&r);
}

Test(serve_admin_env, token_from_the_environment, .timeout = 120)
{
	struct sc_server s;
	sc_server_start_env(&s, sc_registry_hash("char1", "char1_orig.png"), "--hash-only",
			    "LIKENESS_ADMIN_TOKEN=" TOKEN, 1);
	const char *body = "{\"slug\":\"envc\",\"name\":\"Env\"}";
	struct sc_response r;
	sc_request(s.port, "POST", "/v1/characters", JSON_AUTH, body, strlen(body), &r);
	cr_assert_eq(r.status, 201, "%d %.200s", r.status, r.body);
	sc_response_free(&r);
	sc_request(s.port, "POST", "/v1/characters", "Content-Type: application/json\r\n", body, strlen(body), &r);
	sc_expect_error(&r, 401, "unauthorized");
	sc_response_free(&r);
	sc_server_stop(&s);
}

Test(serve_admin, add_character_and_its_errors)
{
	long long v0 = registry_version();
	const char *full = "{\"slug\":\"hero-2\",\"name\":\"Hero Two\",\"aliases\":\"h2,hero\",\"rights_holder\":\"Studio\","
			   "\"licence\":\"none\",\"labels\":\"a,b\",\"enabled\":true,\"block_threshold\":25,"
			   "\"review_threshold\":45,\"embed_copy\":0.95,\"embed_similar\":0.85}";
	struct sc_response r;
	admin("POST", "/v1/characters", full, &r);
	json_t *j = expect_json(&r, 201);
	cr_assert_str_eq(json_string_value(json_object_get(j, "slug")), "hero-2");
	cr_assert_str_eq(json_string_value(json_object_get(j, "name")), "Hero Two");
	cr_assert_str_eq(json_string_value(json_object_get(j, "aliases")), "h2,hero");
	cr_assert_str_eq(json_string_value(json_object_get(j, "rights_holder")), "Studio");
	cr_assert_str_eq(json_string_value(json_object_get(j, "licence")), "none");
	cr_assert_str_eq(json_string_value(json_object_get(j, "labels")), "a,b");
	cr_assert(json_is_true(json_object_get(j, "enabled")));
	cr_assert_eq(json_integer_value(json_object_get(j, "block_threshold")), 25);
	cr_assert_eq(json_integer_value(json_object_get(j, "review_threshold")), 45);
	cr_assert_float_eq(json_number_value(json_object_get(j, "embed_copy")), 0.95, 1e-5);
	cr_assert_float_eq(json_number_value(json_object_get(j, "embed_similar")), 0.85, 1e-5);
	cr_assert_eq(json_integer_value(json_object_get(j, "references")), 0);
	json_decref(j);
	sc_response_free(&r);
	cr_assert_gt(registry_version(), v0, "adding a character did not move the registry version");

	/* it is listed */
	sc_get(srv.port, "/v1/characters/hero-2", &r);
	j = expect_json(&r, 200);
	cr_assert_str_eq(json_string_value(json_object_get(j, "name")), "Hero Two");
	json_decref(j);
	sc_response_free(&r);

	/* minimal: slug and name */
	admin("POST", "/v1/characters", "{\"slug\":\"minimal\",\"name\":\"M\"}", &r);
	j = expect_json(&r, 201);
	cr_assert(json_is_true(json_object_get(j, "enabled")), "enabled by default");
	json_decref(j);
	sc_response_free(&r);

	/* taken */
	admin("POST", "/v1/characters", "{\"slug\":\"hero-2\",\"name\":\"Again\"}", &r);
	sc_expect_error(&r, 409, "conflict");
	sc_response_free(&r);
	admin("POST", "/v1/characters", "{\"slug\":\"char1\",\"name\":\"Again\"}", &r);
	sc_expect_error(&r, 409, "conflict");
	sc_response_free(&r);

	static const char *const bad[] = {
		"{", "", "[]", "\"text\"", "{\"slug\":\"x1\"}", "{\"name\":\"No slug\"}", "{\"slug\":\"Bad Slug\",\"name\":\"B\"}",
		"{\"slug\":\"\",\"name\":\"B\"}", "{\"slug\":\"ok1\",\"name\":\"\"}", "{\"slug\":\"ok2\",\"name\":5}",
		"{\"slug\":7,\"name\":\"B\"}", "{\"slug\":\"ok3\",\"name\":\"B\",\"enabled\":\"yes\"}",
		"{\"slug\":\"ok4\",\"name\":\"B\",\"block_threshold\":\"ten\"}",
		"{\"slug\":\"a/b\",\"name\":\"B\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sc_request(srv.port, "POST", "/v1/characters", JSON_AUTH, bad[i], strlen(bad[i]), &r);
		cr_assert_eq(r.status, 400, "body %s: %d %.200s", bad[i], r.status, r.body);
		sc_expect_error(&r, 400, "bad_request");
		sc_response_free(&r);
	}
	/* none of the refused ones was added */
	sc_get(srv.port, "/v1/characters", &r);
	j = expect_json(&r, 200);
	cr_assert_eq(json_integer_value(json_object_get(j, "total")), 3, "%.400s", r.body);
	json_decref(j);
	sc_response_free(&r);

	/* not JSON by type */
	const char *body = "{\"slug\":\"typed\",\"name\":\"T\"}";
	static const char *const types[] = { "Content-Type: text/plain\r\n" AUTH, AUTH,
		"Content-Type: application/x-www-form-urlencoded\r\n" AUTH };
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		sc_request(srv.port, "POST", "/v1/characters", types[i], body, strlen(body), &r);
		cr_assert_eq(r.status, 415, "case %zu: %d %.200s", i, r.status, r.body);
		sc_expect_error(&r, 415, "unsupported_media_type");
		sc_response_free(&r);
	}
	/* a charset parameter is still JSON */
	sc_request(srv.port, "POST", "/v1/characters", "Content-Type: application/json; charset=utf-8\r\n" AUTH, body,
		   strlen(body), &r);
	cr_assert_eq(r.status, 201, "application/json; charset=utf-8: %d %.200s", r.status, r.body);
	sc_response_free(&r);
}

Test(serve_admin, patch_disable_enable_and_delete_character)
{
	struct sc_response r;
	admin("PATCH", "/v1/characters/char1", "{\"name\":\"Renamed\",\"rights_holder\":\"Owner\"}", &r);
	json_t *j = expect_json(&r, 200);
	cr_assert_str_eq(json_string_value(json_object_get(j, "name")), "Renamed");
	cr_assert_str_eq(json_string_value(json_object_get(j, "rights_holder")), "Owner");
	cr_assert_str_eq(json_string_value(json_object_get(j, "slug")), "char1");
	cr_assert(json_is_true(json_object_get(j, "enabled")), "a PATCH changes only what it names");
	cr_assert_eq(json_integer_value(json_object_get(j, "references")), 1);
	json_decref(j);
	sc_response_free(&r);

	/* takedown that keeps the record */
	cr_assert_str_eq(check(srv.port, "char1_orig.png"), "block");
	long long v0 = registry_version();
	admin("PATCH", "/v1/characters/char1", "{\"enabled\":false}", &r);
	j = expect_json(&r, 200);
	cr_assert(json_is_false(json_object_get(j, "enabled")));
	cr_assert_str_eq(json_string_value(json_object_get(j, "name")), "Renamed");
	json_decref(j);
	sc_response_free(&r);
	cr_assert_gt(registry_version(), v0);
	cr_assert_str_eq(check(srv.port, "char1_orig.png"), "allow", "a disabled character still blocks");
	admin("PATCH", "/v1/characters/char1", "{\"enabled\":true}", &r);
	cr_assert_eq(r.status, 200);
	sc_response_free(&r);
	cr_assert_str_eq(check(srv.port, "char1_orig.png"), "block", "re-enabled character does not block");

	/* thresholds: a block threshold of 0 bits turns the 2-bit JPEG copy into review */
	admin("PATCH", "/v1/characters/char1", "{\"block_threshold\":0}", &r);
	cr_assert_eq(r.status, 200, "%.200s", r.body);
	sc_response_free(&r);
	struct sc_response c;
	sc_post_vector(srv.port, "/v1/check", "image/jpeg", "char1_jpeg50.jpg", &c);
	cr_assert_str_eq(sc_verdict(&c), "review", "%.300s", c.body);
	sc_response_free(&c);

	/* errors */
	admin("PATCH", "/v1/characters/nobody", "{\"name\":\"X\"}", &r);
	sc_expect_error(&r, 404, "not_found");
	sc_response_free(&r);
	admin("PATCH", "/v1/characters/char1", "{", &r);
	sc_expect_error(&r, 400, "bad_request");
	sc_response_free(&r);
	admin("PATCH", "/v1/characters/char1", "{\"enabled\":\"no\"}", &r);
	sc_expect_error(&r, 400, "bad_request");
	sc_response_free(&r);
	sc_request(srv.port, "PATCH", "/v1/characters/char1", "Content-Type: text/plain\r\n" AUTH, "{}", 2, &r);
	sc_expect_error(&r, 415, "unsupported_media_type");
	sc_response_free(&r);

	/* delete */
	v0 = registry_version();
	admin("DELETE", "/v1/characters/char1", NULL, &r);
	j = expect_json(&r, 200);
	cr_assert_str_eq(json_string_value(json_object_get(j, "removed")), "char1");
	cr_assert_gt(json_integer_value(json_object_get(j, "registry_version")), v0, "%.200s", r.body);
	cr_assert_eq(json_integer_value(json_object_get(j, "registry_version")), registry_version());
	json_decref(j);
	sc_response_free(&r);
	cr_assert_str_eq(check(srv.port, "char1_orig.png"), "allow", "a removed character still blocks");
	admin("DELETE", "/v1/characters/char1", NULL, &r);
	sc_expect_error(&r, 404, "not_found");
	sc_response_free(&r);
	sc_get(srv.port, "/v1/characters/char1", &r);
	sc_expect_error(&r, 404, "not_found");
	sc_response_free(&r);
}

static long long first_added_id(const struct sc_response *r, const char *want_name)
{
	json_t *j = expect_json(r, 201);
	json_t *added = json_object_get(j, "added");
	cr_assert_eq(json_array_size(added), 1, "%.300s", r->body);
	long long id = json_integer_value(json_object_get(json_array_get(added, 0), "id"));
	cr_assert_gt(id, 0);
	if (want_name)
		cr_assert_str_eq(json_string_value(json_object_get(json_array_get(added, 0), "name")), want_name);
	cr_assert_geq(json_integer_value(json_object_get(j, "registry_version")), 1);
	json_decref(j);
	return id;
}

Test(serve_admin, references_added_then_removed_change_the_next_check)
{
	struct sc_response r;
	admin("POST", "/v1/characters", "{\"slug\":\"two\",\"name\":\"Two\"}", &r);
	cr_assert_eq(r.status, 201);
	sc_response_free(&r);
	cr_assert_str_eq(check(srv.port, "char2_orig.png"), "allow");

	/* raw body */
	size_t len;
	unsigned char *png = fx_read(fx_pdq_image("char2_orig.png"), &len);
	sc_request(srv.port, "POST", "/v1/characters/two/references", "Content-Type: image/png\r\n" AUTH, png, len, &r);
	long long id = first_added_id(&r, NULL);
	sc_response_free(&r);
	struct sc_response c;
	sc_post_vector(srv.port, "/v1/check", "image/png", "char2_orig.png", &c);
	json_t *j = expect_json(&c, 200);
	cr_assert_str_eq(json_string_value(json_object_get(j, "verdict")), "block");
	json_t *match = json_array_get(json_object_get(j, "matches"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(match, "character")), "two");
	cr_assert_eq(json_integer_value(json_object_get(match, "reference")), id);
	json_decref(j);
	sc_response_free(&c);

	/* the same image again */
	sc_request(srv.port, "POST", "/v1/characters/two/references", "Content-Type: image/png\r\n" AUTH, png, len, &r);
	sc_expect_error(&r, 409, "conflict");
	sc_response_free(&r);

	/* listed */
	sc_get(srv.port, "/v1/characters/two/references", &r);
	j = expect_json(&r, 200);
	cr_assert_eq(json_integer_value(json_object_get(j, "total")), 1);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(json_object_get(j, "references"), 0), "id")), id);
	json_decref(j);
	sc_response_free(&r);

	/* removed */
	admin("DELETE", "/v1/references/999999", NULL, &r);
	sc_expect_error(&r, 404, "not_found");
	sc_response_free(&r);
	char target[64];
	snprintf(target, sizeof target, "/v1/references/%lld", id);
	admin("DELETE", target, NULL, &r);
	j = expect_json(&r, 200);
	cr_assert_eq(json_integer_value(json_object_get(j, "removed")), id);
	cr_assert(json_is_integer(json_object_get(j, "registry_version")));
	json_decref(j);
	sc_response_free(&r);
	cr_assert_str_eq(check(srv.port, "char2_orig.png"), "allow", "a removed reference still blocks");
	admin("DELETE", target, NULL, &r);
	sc_expect_error(&r, 404, "not_found");
	sc_response_free(&r);

	/* unknown character, unreadable image */
	sc_request(srv.port, "POST", "/v1/characters/nobody/references", "Content-Type: image/png\r\n" AUTH, png, len, &r);
	sc_expect_error(&r, 404, "not_found");
	sc_response_free(&r);
	const char *text = "not an image at all";
	sc_request(srv.port, "POST", "/v1/characters/two/references", "Content-Type: image/png\r\n" AUTH, text,
		   strlen(text), &r);
	sc_expect_error(&r, 422, "LK_ENOTIMAGE");
	sc_response_free(&r);
	sc_request(srv.port, "POST", "/v1/characters/two/references", "Content-Type: image/png\r\n" AUTH, png, len / 2,
		   &r);
	sc_expect_error(&r, 422, "LK_ETRUNCATED");
	sc_response_free(&r);
	/* a flat grey image has no structure for PDQ: refused for low quality */
	unsigned char *grey;
	size_t grey_len;
	grey = fx_read(fx_pdq_image("flat_grey.png"), &grey_len);
	sc_request(srv.port, "POST", "/v1/characters/two/references", "Content-Type: image/png\r\n" AUTH, grey, grey_len,
		   &r);
	sc_expect_error(&r, 422, "LK_ELOWQUALITY");
	sc_response_free(&r);
	free(grey);
	sc_request(srv.port, "POST", "/v1/characters/two/references", "Content-Type: application/json\r\n" AUTH, "{}", 2,
		   &r);
	sc_expect_error(&r, 415, "unsupported_media_type");
	sc_response_free(&r);
	sc_request(srv.port, "POST", "/v1/characters/two/references?allow=2", "Content-Type: image/png\r\n" AUTH, png,
		   len, &r);
	sc_expect_error(&r, 400, "bad_request");
	sc_response_free(&r);
	free(png);
}

Test(serve_admin, multipart_references_with_allow_and_source)
{
	struct sc_response r;
	admin("POST", "/v1/characters", "{\"slug\":\"multi\",\"name\":\"Multi\"}", &r);
	cr_assert_eq(r.status, 201);
	sc_response_free(&r);

	struct sc_buf b = { 0 };
	static const char *const images[] = { "char2_orig.png", "char3_orig.png" };
	static const char *const names[] = { "two.png", "three.png" };
	for (int i = 0; i < 2; i++) {
		size_t len;
		unsigned char *data = fx_read(fx_pdq_image(images[i]), &len);
		sc_multipart_part(&b, i ? "other" : "image", names[i], "image/png", data, len);
		free(data);
	}
	sc_multipart_end(&b);
	sc_request(srv.port, "POST", "/v1/characters/multi/references", SC_MULTIPART_HEADER AUTH, b.p, b.len, &r);
	sc_buf_free(&b);
	json_t *j = expect_json(&r, 201);
	json_t *added = json_object_get(j, "added");
	cr_assert_eq(json_array_size(added), 2, "%.300s", r.body);
	for (size_t i = 0; i < 2; i++) {
		cr_assert_str_eq(json_string_value(json_object_get(json_array_get(added, i), "name")), names[i]);
		cr_assert_gt(json_integer_value(json_object_get(json_array_get(added, i), "id")), 0);
	}
	json_decref(j);
	sc_response_free(&r);
	cr_assert_str_eq(check(srv.port, "char2_orig.png"), "block");
	cr_assert_str_eq(check(srv.port, "char3_orig.png"), "block");

	/* allow-listed reference with a recorded source: listed as such */
	admin("POST", "/v1/characters", "{\"slug\":\"licensed\",\"name\":\"Licensed\"}", &r);
	sc_response_free(&r);
	size_t len;
	unsigned char *jpg = fx_read(fx_pdq_image("char1_jpeg50.jpg"), &len);
	sc_request(srv.port, "POST", "/v1/characters/licensed/references?allow=1&source=studio-pack",
		   "Content-Type: image/jpeg\r\n" AUTH, jpg, len, &r);
	first_added_id(&r, NULL);
	sc_response_free(&r);
	free(jpg);
	sc_get(srv.port, "/v1/characters/licensed/references", &r);
	j = expect_json(&r, 200);
	json_t *ref = json_array_get(json_object_get(j, "references"), 0);
	cr_assert(json_is_true(json_object_get(ref, "allow")), "%.300s", r.body);
	cr_assert_str_eq(json_string_value(json_object_get(ref, "source")), "studio-pack");
	json_decref(j);
	sc_response_free(&r);
}
