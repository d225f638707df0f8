/* tools/serve/openapi.json: a valid OpenAPI 3.0.3 document that lists exactly the routes and
 * methods of the serve contract, whose check schema names every key `likeness check --json`
 * prints, and that the server answers verbatim at GET /openapi.json. */
#include "fixtures.h"
#include "serve_client.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOC_PATH LK_SOURCE_DIR "/tools/serve/openapi.json"

/* The routes the service answers (tools/serve/serve_router.c) and their methods, lower case:
 * the OpenAPI document must describe each, and nothing else. */
static const struct {
	const char *path;
	const char *methods[4];
} routes[] = {
	{ "/livez", { "get" } },
	{ "/readyz", { "get" } },
	{ "/metrics", { "get" } },
	{ "/openapi.json", { "get" } },
	{ "/v1/check", { "post" } },
	{ "/v1/check/batch", { "post" } },
	{ "/v1/registry", { "get" } },
	{ "/v1/characters", { "get", "post" } },
	{ "/v1/characters/{slug}", { "get", "patch", "delete" } },
	{ "/v1/characters/{slug}/references", { "get", "post" } },
	{ "/v1/references/{id}", { "delete" } },
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

static const char *const http_methods[] = { "get", "put", "post", "delete", "options", "head", "patch", "trace" };

static json_t *load_doc(void)
{
	json_error_t err;
	json_t *doc = json_load_file(DOC_PATH, JSON_REJECT_DUPLICATES, &err);
	cr_assert(doc, "%s is not JSON: line %d: %s", DOC_PATH, err.line, err.text);
	return doc;
}

/* Resolves a local reference ("#/a/b") in the document; NULL when it does not. */
static json_t *resolve(json_t *doc, const char *ref)
{
	if (strncmp(ref, "#/", 2) != 0)
		return NULL;
	char buf[512];
	snprintf(buf, sizeof buf, "%s", ref + 2);
	json_t *at = doc;
	for (char *save, *tok = strtok_r(buf, "/", &save); tok && at; tok = strtok_r(NULL, "/", &save))
		at = json_object_get(at, tok);
	return at;
}

static int count_refs(json_t *doc, json_t *node, int *bad)
{
	int n = 0;
	if (json_is_object(node)) {
		const char *key;
		json_t *v;
		json_object_foreach(node, key, v) {
			if (strcmp(key, "$ref") == 0) {
				n++;
				if (!json_is_string(v) || !resolve(doc, json_string_value(v))) {
					fprintf(stderr, "unresolved $ref %s\n", json_string_value(v));
					(*bad)++;
				}
			} else {
				n += count_refs(doc, v, bad);
			}
		}
	} else if (json_is_array(node)) {
		size_t i;
		json_t *v;
		json_array_foreach(node, i, v)
			n += count_refs(doc, v, bad);
	}
	return n;
}

Test(serve_openapi, is_openapi_3_0_3_with_every_reference_resolved)
{
	json_t *doc = load_doc();
	cr_assert_str_eq(json_string_value(json_object_get(doc, "openapi")), "3.0.3");
	cr_assert(json_string_value(json_object_get(json_object_get(doc, "info"), "title")));
	cr_assert(json_string_value(json_object_get(json_object_get(doc, "info"), "version")));
	int bad = 0;
	int n = count_refs(doc, doc, &bad);
	cr_assert_gt(n, 50, "only %d references: the document lost its shared components?", n);
	cr_assert_eq(bad, 0, "%d $ref do not resolve", bad);
	json_decref(doc);
}

Test(serve_openapi, lists_exactly_the_contract_routes_and_methods)
{
	json_t *doc = load_doc();
	json_t *paths = json_object_get(doc, "paths");
	cr_assert(json_is_object(paths));
	cr_assert_eq(json_object_size(paths), N_ROUTES, "paths: %zu, the contract has %zu", json_object_size(paths),
		     N_ROUTES);
	for (size_t i = 0; i < N_ROUTES; i++) {
		json_t *item = json_object_get(paths, routes[i].path);
		cr_assert(item, "%s is missing", routes[i].path);
		for (size_t m = 0; m < sizeof http_methods / sizeof http_methods[0]; m++) {
			int want = 0;
			for (int k = 0; k < 4 && routes[i].methods[k]; k++)
				want |= strcmp(routes[i].methods[k], http_methods[m]) == 0;
			json_t *op = json_object_get(item, http_methods[m]);
			cr_assert_eq(op != NULL, want, "%s %s: %s", http_methods[m], routes[i].path,
				     want ? "missing" : "not in the contract");
			if (!op)
				continue;
			json_t *responses = json_object_get(op, "responses");
			cr_assert(json_object_size(responses) > 0, "%s %s has no responses", http_methods[m], routes[i].path);
			cr_assert(json_string_value(json_object_get(op, "operationId")), "%s %s has no operationId",
				  http_methods[m], routes[i].path);
			/* Path templates need their parameter declared (on the path or the operation). */
			if (strchr(routes[i].path, '{')) {
				json_t *params = json_object_get(item, "parameters");
				cr_assert(json_array_size(params) > 0 || json_array_size(json_object_get(op, "parameters")) > 0,
					  "%s declares no path parameter", routes[i].path);
			}
		}
	}
	json_decref(doc);
}

static int is_admin(const char *path, const char *method)
{
	return strcmp(method, "get") != 0 && strncmp(path, "/v1/check", 9) != 0 && strncmp(path, "/v1/", 4) == 0;
}

Test(serve_openapi, admin_routes_need_the_bearer_token_and_say_401_403)
{
	json_t *doc = load_doc();
	json_t *scheme = json_object_get(json_object_get(json_object_get(doc, "components"), "securitySchemes"), "adminToken");
	cr_assert_str_eq(json_string_value(json_object_get(scheme, "type")), "http");
	cr_assert_str_eq(json_string_value(json_object_get(scheme, "scheme")), "bearer");
	json_t *paths = json_object_get(doc, "paths");
	int admin = 0;
	for (size_t i = 0; i < N_ROUTES; i++)
		for (int k = 0; k < 4 && routes[i].methods[k]; k++) {
			json_t *op = json_object_get(json_object_get(paths, routes[i].path), routes[i].methods[k]);
			json_t *security = json_object_get(op, "security");
			int secured = json_array_size(security) == 1 &&
				      json_object_get(json_array_get(security, 0), "adminToken") != NULL;
			cr_assert_eq(secured, is_admin(routes[i].path, routes[i].methods[k]), "%s %s security",
				     routes[i].methods[k], routes[i].path);
			if (secured) {
				admin++;
				json_t *responses = json_object_get(op, "responses");
				cr_assert(json_object_get(responses, "401") && json_object_get(responses, "403"),
					  "%s %s lacks 401/403", routes[i].methods[k], routes[i].path);
			}
		}
	cr_assert_eq(admin, 5, "the contract has 5 admin operations, the document %d", admin);
	json_t *unauthorized = json_object_get(json_object_get(json_object_get(doc, "components"), "responses"), "Unauthorized");
	cr_assert(json_object_get(json_object_get(unauthorized, "headers"), "WWW-Authenticate"));
	json_decref(doc);
}

Test(serve_openapi, declares_the_contract_headers)
{
	json_t *doc = load_doc();
	json_t *check200 = json_object_get(
		json_object_get(json_object_get(json_object_get(json_object_get(doc, "paths"), "/v1/check"), "post"), "responses"),
		"200");
	json_t *headers = json_object_get(check200, "headers");
	cr_assert(json_object_get(headers, "Server-Timing"));
	cr_assert(json_object_get(headers, "Likeness-Verdict"));
	json_t *responses = json_object_get(json_object_get(doc, "components"), "responses");
	cr_assert(json_object_get(json_object_get(json_object_get(responses, "Overloaded"), "headers"), "Retry-After"));
	cr_assert(json_object_get(json_object_get(json_object_get(responses, "NotReady"), "headers"), "Retry-After"));
	cr_assert(json_object_get(json_object_get(json_object_get(responses, "MethodNotAllowed"), "headers"), "Allow"));
	json_decref(doc);
}

/* Every key of `have` must be a property of `schema` (an object schema). */
static void expect_documented(json_t *schema, json_t *have, const char *what)
{
	json_t *props = json_object_get(schema, "properties");
	cr_assert(props, "%s schema has no properties", what);
	const char *key;
	json_t *v;
	json_object_foreach(have, key, v)
		cr_assert(json_object_get(props, key), "%s key \"%s\" is not in the OpenAPI schema", what, key);
}

Test(serve_openapi, check_schema_names_every_key_the_cli_prints)
{
	/* A registry where the check has a match with every PDQ field, and region search on, so
	 * that the printed object carries the optional keys too. */
	const char *reg = sc_registry_hash("char1", "char1_orig.png");
	char args[1024];
	snprintf(args, sizeof args, "check --json --hash-only -r '%s' '%s'", reg, fx_pdq_image("char1_jpeg50.jpg"));
	struct fx_run *run = fx_cli(args);
	cr_assert_eq(run->status, 1, "%s", run->err);
	json_t *printed = json_loads(run->out, 0, NULL);
	cr_assert(printed);
	json_object_del(printed, "path"); /* the service has no path; it has "name" */

	json_t *doc = load_doc();
	json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
	json_t *check = json_object_get(schemas, "CheckResult");
	expect_documented(check, printed, "check result");
	json_t *required = json_object_get(check, "required");
	size_t i;
	json_t *key;
	json_array_foreach(required, i, key)
		cr_assert(json_object_get(printed, json_string_value(key)), "required key %s is not printed",
			  json_string_value(key));
	cr_assert(json_object_get(json_object_get(check, "properties"), "name"));
	json_t *match = json_array_get(json_object_get(printed, "matches"), 0);
	cr_assert(match);
	expect_documented(json_object_get(schemas, "Match"), match, "match");
	expect_documented(json_object_get(json_object_get(check, "properties"), "timings_ms"),
			  json_object_get(printed, "timings_ms"), "timings_ms");
	json_decref(printed);
	json_decref(doc);
}

Test(serve_openapi, served_verbatim, .timeout = 120)
{
	size_t len;
	unsigned char *file = fx_read(DOC_PATH, &len);
	struct sc_server s;
	sc_server_start(&s, sc_registry_hash("char1", "char1_orig.png"), "--hash-only");
	struct sc_response r;
	cr_assert_eq(sc_get(s.port, "/openapi.json", &r), 0, "%s", r.error);
	cr_assert_eq(r.status, 200);
	const char *type = sc_header(&r, "Content-Type");
	cr_assert(type && strncmp(type, "application/json", 16) == 0, "Content-Type %s", type ? type : "(none)");
	cr_assert_eq(r.body_len, len, "served %zu bytes, the file has %zu", r.body_len, len);
	cr_assert(memcmp(r.body, file, len) == 0, "served document differs from tools/serve/openapi.json");
	sc_response_free(&r);
	free(file);
	sc_server_stop(&s);
}
