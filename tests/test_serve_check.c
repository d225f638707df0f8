/* POST /v1/check and /v1/check/batch: raw and multipart bodies, verdicts and their headers,
 * query overrides, and every way a request can be wrong. The registry holds char1 (PDQ only, so
 * that the server can run --hash-only and checks stay fast). */
#include "fixtures.h"
#include "serve_client.h"

#include <criterion/criterion.h>
#include <math.h>
#include <poll.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct sc_server srv;

static void start(void)
{
	sc_server_start(&srv, sc_registry_hash("char1", "char1_orig.png"), "--hash-only");
}

static void stop(void)
{
	sc_server_stop(&srv);
}

TestSuite(serve_check, .init = start, .fini = stop, .timeout = 120);

static json_t *expect_ok_json(const struct sc_response *r)
{
	cr_assert_eq(r->status, 200, "status %d (%s): %.400s", r->status, r->error, r->body ? r->body : "");
	const char *type = sc_header(r, "Content-Type");
	cr_assert(type && strncmp(type, "application/json", 16) == 0, "Content-Type %s", type ? type : "(none)");
	json_t *j = sc_json(r);
	cr_assert(j, "body is not JSON: %.300s", r->body);
	return j;
}

static const char *first_character(json_t *result)
{
	json_t *match = json_array_get(json_object_get(result, "matches"), 0);
	const char *c = json_string_value(json_object_get(match, "character"));
	return c ? c : "";
}

/* Server-Timing: exactly the six stages, each `name;dur=X` with X a non-negative number. */
static void expect_server_timing(const struct sc_response *r, int embedded)
{
	const char *st = sc_header(r, "Server-Timing");
	cr_assert(st, "no Server-Timing header");
	static const char *const stages[] = { "queue", "decode", "hash", "embed", "search", "total" };
	double dur[6];
	int seen[6] = { 0 };
	char buf[512];
	snprintf(buf, sizeof buf, "%s", st);
	int n = 0;
	for (char *save, *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		while (*item == ' ')
			item++;
		char name[32];
		double d;
		int used = 0;
		cr_assert_eq(sscanf(item, "%31[a-z];dur=%lf%n", name, &d, &used), 2, "bad Server-Timing item '%s' in '%s'",
			     item, st);
		cr_assert(item[used] == '\0' || item[used] == ' ', "trailing text in Server-Timing item '%s'", item);
		cr_assert(isfinite(d) && d >= 0, "duration %f of %s", d, name);
		int k;
		for (k = 0; k < 6 && strcmp(stages[k], name) != 0; k++)
			;
		cr_assert_lt(k, 6, "unknown Server-Timing stage %s", name);
		cr_assert(!seen[k], "stage %s twice", name);
		seen[k] = 1;
		dur[k] = d;
		n++;
	}
	cr_assert_eq(n, 6, "Server-Timing has %d of the 6 stages: %s", n, st);
	/* total covers decode, hash, embed and search (rounding to the printed precision aside) */
	cr_assert_geq(dur[5] + 0.01, dur[1], "total < decode: %s", st);
	cr_assert_geq(dur[5] + 0.01, dur[2], "total < hash: %s", st);
	cr_assert_geq(dur[5] + 0.01, dur[4], "total < search: %s", st);
	/* A CNN pass costs milliseconds; a hash-only check may still time the skipped step at ~0. */
	if (embedded)
		cr_assert_gt(dur[3], 1.0, "no CNN time in a check with the embedding: %s", st);
	else
		cr_assert_lt(dur[3], 0.5, "CNN time in a hash-only check: %s", st);
}

Test(serve_check, raw_png_of_a_reference_is_blocked_and_names_the_character)
{
	struct sc_response r;
	sc_post_vector(srv.port, "/v1/check", "image/png", "char1_orig.png", &r);
	json_t *j = expect_ok_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(j, "verdict")), "block");
	cr_assert_str_eq(first_character(j), "char1");
	cr_assert_str_eq(sc_header(&r, "Likeness-Verdict") ? sc_header(&r, "Likeness-Verdict") : "", "block");
	cr_assert_null(json_object_get(j, "path"), "a raw body has no path");
	cr_assert_null(json_object_get(j, "name"), "a raw body has no name");
	cr_assert_geq(json_integer_value(json_object_get(j, "registry_version")), 1);
	expect_server_timing(&r, 0);

	/* The same object `likeness check --json` prints, key for key (less its path). */
	char args[1024];
	snprintf(args, sizeof args, "check --json --hash-only -r '%s' '%s'", srv.registry, fx_pdq_image("char1_orig.png"));
	struct fx_run *run = fx_cli(args);
	json_t *cli = json_loads(run->out, 0, NULL);
	cr_assert(cli, "%s", run->err);
	json_object_del(cli, "path");
	const char *key;
	json_t *v;
	json_object_foreach(cli, key, v)
		cr_assert(json_object_get(j, key), "the CLI prints \"%s\", the service does not", key);
	json_object_foreach(j, key, v)
		cr_assert(json_object_get(cli, key), "the service answers \"%s\", the CLI does not print it", key);
	cr_assert_str_eq(json_string_value(json_object_get(j, "pdq")), json_string_value(json_object_get(cli, "pdq")));
	cr_assert(json_equal(json_object_get(j, "matches"), json_object_get(cli, "matches")));
	json_decref(cli);
	json_decref(j);
	sc_response_free(&r);
}

Test(serve_check, jpeg_copy_and_octet_stream_are_blocked)
{
	struct sc_response r;
	sc_post_vector(srv.port, "/v1/check", "image/jpeg", "char1_jpeg50.jpg", &r);
	json_t *j = expect_ok_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(j, "verdict")), "block");
	cr_assert_str_eq(first_character(j), "char1");
	json_decref(j);
	sc_response_free(&r);
	/* The type is a hint only: the content decides the format. */
	sc_post_vector(srv.port, "/v1/check", "application/octet-stream", "char1_jpeg50.jpg", &r);
	j = expect_ok_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(j, "verdict")), "block");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "source"), "format")), "jpeg");
	json_decref(j);
	sc_response_free(&r);
	sc_post_vector(srv.port, "/v1/check", "image/png", "char1_jpeg50.jpg", &r);
	cr_assert_str_eq(sc_verdict(&r), "block", "a JPEG sent as image/png: %d %.200s", r.status, r.body);
	sc_response_free(&r);
}

Test(serve_check, unrelated_image_is_allowed)
{
	struct sc_response r;
	sc_post_vector(srv.port, "/v1/check", "image/png", "char2_orig.png", &r);
	json_t *j = expect_ok_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(j, "verdict")), "allow");
	cr_assert_str_eq(sc_header(&r, "Likeness-Verdict") ? sc_header(&r, "Likeness-Verdict") : "", "allow");
	expect_server_timing(&r, 0);
	json_decref(j);
	sc_response_free(&r);
}

static void post_multipart(struct sc_buf *body, const char *target, struct sc_response *r)
{
	sc_multipart_end(body);
	sc_request(srv.port, "POST", target, SC_MULTIPART_HEADER, body->p, body->len, r);
	sc_buf_free(body);
}

static void add_vector_part(struct sc_buf *b, const char *field, const char *filename, const char *image)
{
	size_t len;
	unsigned char *data = fx_read(fx_pdq_image(image), &len);
	sc_multipart_part(b, field, filename, "image/png", data, len);
	free(data);
}

Test(serve_check, multipart_image_field_echoes_the_filename)
{
	struct sc_buf b = { 0 };
	add_vector_part(&b, "image", "upload one.png", "char1_orig.png");
	struct sc_response r;
	post_multipart(&b, "/v1/check", &r);
	json_t *j = expect_ok_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(j, "verdict")), "block");
	cr_assert_str_eq(json_string_value(json_object_get(j, "name")), "upload one.png");
	cr_assert_null(json_object_get(j, "path"));
	cr_assert_str_eq(sc_header(&r, "Likeness-Verdict") ? sc_header(&r, "Likeness-Verdict") : "", "block");
	expect_server_timing(&r, 0);
	json_decref(j);
	sc_response_free(&r);
}

Test(serve_check, multipart_other_field_names_and_leading_text_fields)
{
	struct sc_buf b = { 0 };
	add_vector_part(&b, "file", "x.png", "char2_orig.png");
	struct sc_response r;
	post_multipart(&b, "/v1/check", &r);
	json_t *j = expect_ok_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(j, "verdict")), "allow");
	cr_assert_str_eq(json_string_value(json_object_get(j, "name")), "x.png");
	json_decref(j);
	sc_response_free(&r);

	/* A plain field before the file: the first file part is the image. */
	memset(&b, 0, sizeof b);
	sc_multipart_part(&b, "note", NULL, NULL, "from the generator", 18);
	add_vector_part(&b, "upload", "first.png", "char1_orig.png");
	add_vector_part(&b, "upload2", "second.png", "char2_orig.png");
	post_multipart(&b, "/v1/check", &r);
	j = expect_ok_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(j, "name")), "first.png");
	cr_assert_str_eq(json_string_value(json_object_get(j, "verdict")), "block");
	json_decref(j);
	sc_response_free(&r);
}

/* RFC 2046 allows boundaries of 1 to 70 characters from a set that needs the parameter quoted
 * for some of them; browsers and HTTP libraries use all sorts. libmicrohttpd's parser needs at
 * least 2 (no HTTP library generates fewer): a 1-character boundary is refused with a 400 that
 * says so, tested below. */
Test(serve_check, multipart_boundaries_of_every_valid_form)
{
	static const struct {
		const char *boundary, *param;
	} forms[] = {
		{ "zz", "zz" },
		{ "----WebKitFormBoundary7MA4YWxkTrZu0gW", "----WebKitFormBoundary7MA4YWxkTrZu0gW" },
		{ "a'()+_,-./:=?b", "\"a'()+_,-./:=?b\"" },
		{ "quoted", "\"quoted\"" },
		{ "0123456789012345678901234567890123456789012345678901234567890123456789",
		  "0123456789012345678901234567890123456789012345678901234567890123456789" },
	};
	size_t len;
	unsigned char *png = fx_read(fx_pdq_image("char1_orig.png"), &len);
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		struct sc_buf b = { 0 };
		sc_buf_printf(&b, "--%s\r\nContent-Disposition: form-data; name=\"image\"; filename=\"b.png\"\r\n"
			      "Content-Type: image/png\r\n\r\n", forms[i].boundary);
		sc_buf_add(&b, png, len);
		sc_buf_printf(&b, "\r\n--%s--\r\n", forms[i].boundary);
		char type[200];
		snprintf(type, sizeof type, "multipart/form-data; boundary=%s", forms[i].param);
		struct sc_response r;
		sc_post(srv.port, "/v1/check", type, NULL, b.p, b.len, &r);
		cr_expect_eq(r.status, 200, "boundary=%s: %d %.200s", forms[i].param, r.status, r.body);
		if (r.status == 200)
			cr_expect_str_eq(sc_verdict(&r), "block", "boundary=%s", forms[i].param);
		sc_response_free(&r);
		sc_buf_free(&b);
	}
	struct sc_buf b = { 0 };
	sc_buf_printf(&b, "--B\r\nContent-Disposition: form-data; name=\"image\"; filename=\"b.png\"\r\n\r\n");
	sc_buf_add(&b, png, len);
	sc_buf_printf(&b, "\r\n--B--\r\n");
	struct sc_response r;
	sc_post(srv.port, "/v1/check", "multipart/form-data; boundary=B", NULL, b.p, b.len, &r);
	sc_expect_error(&r, 400, "bad_request");
	cr_expect(strstr(r.body, "2 to 70 characters") != NULL, "%.200s", r.body);
	sc_response_free(&r);
	sc_buf_free(&b);
	free(png);
}

/* The contract counts a plain (non-file) field named "image" as the image too. */
Test(serve_check, multipart_plain_field_named_image)
{
	struct sc_buf b = { 0 };
	size_t len;
	unsigned char *data = fx_read(fx_pdq_image("char1_orig.png"), &len);
	sc_multipart_part(&b, "image", NULL, NULL, data, len);
	free(data);
	struct sc_response r;
	post_multipart(&b, "/v1/check", &r);
	json_t *j = expect_ok_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(j, "verdict")), "block");
	json_decref(j);
	sc_response_free(&r);
}

Test(serve_check, batch_keeps_part_order_and_reports_unreadable_items)
{
	struct sc_buf b = { 0 };
	add_vector_part(&b, "a", "copy.png", "char1_orig.png");
	sc_multipart_part(&b, "b", "notes.txt", "text/plain", "these are not pixels\n", 21);
	add_vector_part(&b, "c", "other.png", "char2_orig.png");
	add_vector_part(&b, "image", "copy.jpg", "char1_jpeg50.jpg");
	struct sc_response r;
	post_multipart(&b, "/v1/check/batch", &r);
	json_t *j = expect_ok_json(&r);
	json_t *results = json_object_get(j, "results");
	cr_assert_eq(json_array_size(results), 4, "%.300s", r.body);
	cr_assert_eq(json_integer_value(json_object_get(j, "count")), 4);
	static const char *const names[] = { "copy.png", "notes.txt", "other.png", "copy.jpg" };
	static const char *const verdicts[] = { "block", NULL, "allow", "block" };
	for (int i = 0; i < 4; i++) {
		json_t *item = json_array_get(results, (size_t)i);
		cr_assert_str_eq(json_string_value(json_object_get(item, "name")), names[i], "item %d", i);
		if (verdicts[i]) {
			cr_assert_str_eq(json_string_value(json_object_get(item, "verdict")), verdicts[i], "item %d", i);
			cr_assert_null(json_object_get(item, "error"));
		} else {
			cr_assert_str_eq(json_string_value(json_object_get(item, "error")), "LK_ENOTIMAGE");
			cr_assert(json_string_value(json_object_get(item, "message")));
			cr_assert_null(json_object_get(item, "verdict"));
		}
	}
	cr_assert_str_eq(first_character(json_array_get(results, 0)), "char1");
	json_decref(j);
	sc_response_free(&r);
}

Test(serve_check, batch_limits_and_wrong_bodies)
{
	/* one more part than the default --max-batch (32) */
	struct sc_buf b = { 0 };
	for (int i = 0; i < 33; i++) {
		char name[32];
		snprintf(name, sizeof name, "img%02d.jpg", i);
		add_vector_part(&b, "image", name, "char1_jpeg50.jpg");
	}
	struct sc_response r;
	post_multipart(&b, "/v1/check/batch", &r);
	sc_expect_error(&r, 413, "too_large");
	sc_response_free(&r);

	/* no file part */
	memset(&b, 0, sizeof b);
	sc_multipart_part(&b, "note", NULL, NULL, "nothing here", 12);
	post_multipart(&b, "/v1/check/batch", &r);
	sc_expect_error(&r, 400, "bad_request");
	sc_response_free(&r);

	/* a raw image is not a batch */
	sc_post_vector(srv.port, "/v1/check/batch", "image/png", "char1_orig.png", &r);
	sc_expect_error(&r, 415, "unsupported_media_type");
	sc_response_free(&r);
}

/* A batch of exactly --max-batch images (default 32) on an idle server with default workers and
 * queue is served: the limit the server advertises must be one it can take. */
Test(serve_check, batch_of_max_batch_images_on_an_idle_server)
{
	struct sc_buf b = { 0 };
	for (int i = 0; i < 32; i++)
		add_vector_part(&b, "image", "same.jpg", "char1_jpeg50.jpg");
	struct sc_response r;
	post_multipart(&b, "/v1/check/batch", &r);
	json_t *j = expect_ok_json(&r);
	cr_assert_eq(json_integer_value(json_object_get(j, "count")), 32);
	for (size_t i = 0; i < 32; i++)
		cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(j, "results"), i), "verdict")),
				 "block");
	json_decref(j);
	sc_response_free(&r);
}

Test(serve_check, query_overrides_and_bad_values)
{
	struct sc_response r;
	sc_post_vector(srv.port, "/v1/check?hash_only=1", "image/png", "char1_orig.png", &r);
	json_t *j = expect_ok_json(&r);
	json_t *signals = json_object_get(j, "signals");
	cr_assert_eq(json_array_size(signals), 1);
	cr_assert_str_eq(json_string_value(json_array_get(signals, 0)), "pdq");
	json_decref(j);
	sc_response_free(&r);
	sc_post_vector(srv.port, "/v1/check?regions=0&hash_only=1", "image/png", "char1_orig.png", &r);
	cr_assert_str_eq(sc_verdict(&r), "block", "%d %.200s", r.status, r.body);
	sc_response_free(&r);

	static const char *const bad[] = {
		"hash_only=2", "hash_only=yes", "hash_only=", "hash_only=-1", "hash_only=1x",
		"regions=10", "regions=-1", "regions=abc", "regions=1.5", "regions=", "regions=99999999999999999999",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char target[128];
		snprintf(target, sizeof target, "/v1/check?%s", bad[i]);
		sc_post_vector(srv.port, target, "image/png", "char1_orig.png", &r);
		cr_assert_eq(r.status, 400, "%s: %d %.200s", target, r.status, r.body);
		sc_expect_error(&r, 400, "bad_request");
		sc_response_free(&r);
		snprintf(target, sizeof target, "/v1/check/batch?%s", bad[i]);
		struct sc_buf b = { 0 };
		add_vector_part(&b, "image", "a.png", "char1_orig.png");
		post_multipart(&b, target, &r);
		cr_assert_eq(r.status, 400, "%s: %d %.200s", target, r.status, r.body);
		sc_response_free(&r);
	}
}

Test(serve_check, wrong_content_types_are_415)
{
	static const char *const types[] = { "text/plain", "application/json", "application/x-www-form-urlencoded",
		"multipart/mixed; boundary=" SC_BOUNDARY, NULL };
	struct sc_response r;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		sc_post_vector(srv.port, "/v1/check", types[i], "char1_orig.png", &r);
		cr_assert_eq(r.status, 415, "Content-Type %s: %d %.200s", types[i] ? types[i] : "(none)", r.status, r.body);
		sc_expect_error(&r, 415, "unsupported_media_type");
		sc_response_free(&r);
	}
}

Test(serve_check, empty_body_is_400)
{
	struct sc_response r;
	sc_post(srv.port, "/v1/check", "image/png", NULL, "", 0, &r);
	sc_expect_error(&r, 400, "bad_request");
	sc_response_free(&r);
	/* and with no Content-Length at all */
	const char *req = "POST /v1/check HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: image/png\r\n\r\n";
	sc_exchange(srv.port, req, strlen(req), &r, SC_TIMEOUT);
	sc_expect_error(&r, 400, "bad_request");
	sc_response_free(&r);
}

Test(serve_check, malformed_multipart_is_400)
{
	size_t len;
	unsigned char *png = fx_read(fx_pdq_image("char1_orig.png"), &len);
	struct sc_response r;

	/* no boundary parameter */
	struct sc_buf b = { 0 };
	sc_multipart_part(&b, "image", "a.png", "image/png", png, len);
	sc_multipart_end(&b);
	sc_post(srv.port, "/v1/check", "multipart/form-data", NULL, b.p, b.len, &r);
	sc_expect_error(&r, 400, "bad_request");
	sc_response_free(&r);

	/* a boundary that the body never uses */
	sc_post(srv.port, "/v1/check", "multipart/form-data; boundary=somethingElse", NULL, b.p, b.len, &r);
	sc_expect_error(&r, 400, "bad_request");
	sc_response_free(&r);
	sc_buf_free(&b);

	/* the closing delimiter is missing (the body just stops after the image) */
	sc_multipart_part(&b, "image", "a.png", "image/png", png, len);
	sc_request(srv.port, "POST", "/v1/check", SC_MULTIPART_HEADER, b.p, b.len, &r);
	sc_expect_error(&r, 400, "bad_request");
	sc_response_free(&r);
	sc_buf_free(&b);

	/* only a plain field that is not called image */
	sc_multipart_part(&b, "note", NULL, NULL, "hello", 5);
	sc_multipart_end(&b);
	sc_request(srv.port, "POST", "/v1/check", SC_MULTIPART_HEADER, b.p, b.len, &r);
	sc_expect_error(&r, 400, "bad_request");
	sc_response_free(&r);
	sc_buf_free(&b);

	/* garbage that does not start with a delimiter */
	const char *junk = "this is not multipart at all\r\n";
	sc_request(srv.port, "POST", "/v1/check", SC_MULTIPART_HEADER, junk, strlen(junk), &r);
	sc_expect_error(&r, 400, "bad_request");
	sc_response_free(&r);
	free(png);
}

Test(serve_check, unreadable_images_are_422_with_the_library_error)
{
	struct sc_response r;
	const char *text = "just some text, no image here\n";
	sc_post(srv.port, "/v1/check", "image/png", NULL, text, strlen(text), &r);
	sc_expect_error(&r, 422, "LK_ENOTIMAGE");
	sc_response_free(&r);

	size_t len;
	unsigned char *png = fx_read(fx_pdq_image("char1_orig.png"), &len);
	sc_post(srv.port, "/v1/check", "image/png", NULL, png, len / 2, &r);
	sc_expect_error(&r, 422, "LK_ETRUNCATED");
	sc_response_free(&r);

	/* the same through multipart */
	struct sc_buf b = { 0 };
	sc_multipart_part(&b, "image", "half.png", "image/png", png, len / 2);
	sc_multipart_end(&b);
	sc_request(srv.port, "POST", "/v1/check", SC_MULTIPART_HEADER, b.p, b.len, &r);
	sc_expect_error(&r, 422, "LK_ETRUNCATED");
	sc_response_free(&r);
	sc_buf_free(&b);
	free(png);
}

Test(serve_check, keep_alive_serves_several_checks_on_one_connection)
{
	size_t len;
	unsigned char *png = fx_read(fx_pdq_image("char1_orig.png"), &len);
	int fd = sc_connect(srv.port, SC_TIMEOUT);
	cr_assert_geq(fd, 0);
	for (int i = 0; i < 3; i++) {
		struct sc_buf b = { 0 };
		sc_buf_printf(&b, "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: %zu\r\n\r\n", len);
		sc_buf_add(&b, png, len);
		double t = sc_now();
		cr_assert_eq(sc_send_all(fd, b.p, b.len), 0, "request %d", i);
		struct sc_response r;
		cr_assert_eq(sc_read_response(fd, &r, SC_TIMEOUT, t), 0, "request %d: %s", i, r.error);
		cr_assert_str_eq(sc_verdict(&r), "block", "request %d", i);
		sc_response_free(&r);
		sc_buf_free(&b);
	}
	close(fd);
	free(png);
}

/* Streams a chunked body of 4 MB (over a hundred times the limit), watching before each chunk
 * whether the server has answered yet; then ends the body and reads the answer. */
/* Streams `total` bytes (8 KiB chunks) of a chunked body, then its end unless the server stopped
 * reading first; *cut_off says whether it did, *sent how much went out. */
static void stream_chunked(int port, size_t total, int *cut_off, size_t *sent_out, struct sc_response *r)
{
	int fd = sc_connect(port, SC_TIMEOUT);
	cr_assert_geq(fd, 0);
	const char *head = "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n";
	double t = sc_now();
	cr_assert_eq(sc_send_all(fd, head, strlen(head)), 0);
	static char chunk[8192 + 16];
	int hl = snprintf(chunk, sizeof chunk, "%x\r\n", 8192);
	memset(chunk + hl, 'x', 8192);
	memcpy(chunk + hl + 8192, "\r\n", 2);
	*cut_off = 0;
	size_t sent;
	for (sent = 0; sent < total; sent += 8192) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 0) > 0 || sc_send_all(fd, chunk, (size_t)hl + 8194) != 0) {
			*cut_off = 1; /* it answered or closed: it stopped reading */
			break;
		}
	}
	*sent_out = sent;
	if (!*cut_off)
		(void)sc_send_all(fd, "0\r\n\r\n", 5);
	(void)sc_read_response(fd, r, SC_TIMEOUT, t);
	close(fd);
}

/* The contract for streamed bodies (libmicrohttpd 0.9.75 cannot reply before a body ends): one
 * that passes --max-body is read and dropped, never stored, and answered 413 at its end; one
 * that goes on past twice the limit is cut off, so that a client cannot stream for ever. */
Test(serve_check_limits, chunked_stream_past_the_limit, .timeout = 120)
{
	struct sc_server s;
	sc_server_start(&s, sc_registry_hash("char1", "char1_orig.png"), "--hash-only --max-body 30000");
	struct sc_response r;
	int cut_off;
	size_t sent;

	/* 48 KiB: past the limit, short of twice it. */
	stream_chunked(s.port, 48 * 1024, &cut_off, &sent, &r);
	cr_assert_not(cut_off, "a 48 KiB stream was cut off after %zu bytes", sent);
	sc_expect_error(&r, 413, "too_large");
	sc_response_free(&r);

	/* 64 MiB: the server stops reading near 60000 bytes; the client may get several MB more
	 * into the loopback socket buffers before it sees that. */
	stream_chunked(s.port, 64u << 20, &cut_off, &sent, &r);
	cr_log_info("a 64 MiB chunked stream was cut off after %zu bytes", sent);
	cr_assert(cut_off, "the server read all of a 64 MiB stream against a 30000-byte limit");
	sc_response_free(&r);

	/* And it is still serving. */
	sc_post_vector(s.port, "/v1/check", "image/jpeg", "char1_jpeg50.jpg", &r);
	cr_assert_str_eq(sc_verdict(&r), "block", "%d %.200s", r.status, r.body);
	sc_response_free(&r);
	sc_server_stop(&s);
}

/* Limits on a server of its own: --max-body 30000 (char1_orig.png is 35165 bytes). */
Test(serve_check_limits, oversized_bodies_are_413, .timeout = 120)
{
	struct sc_server s;
	sc_server_start(&s, sc_registry_hash("char1", "char1_orig.png"), "--hash-only --max-body 30000");
	struct sc_response r;

	/* Declared too large: answered from the headers, without waiting for a body that never comes. */
	const char *req = "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 500000000\r\n\r\n";
	cr_assert_eq(sc_exchange(s.port, req, strlen(req), &r, 10.0), 0, "no answer to a 500 MB Content-Length: %s",
		     r.error);
	sc_expect_error(&r, 413, "too_large");
	cr_assert_lt(r.seconds, 5.0, "413 took %.2f s: it waited for the body", r.seconds);
	sc_response_free(&r);

	/* Just over, sent whole. */
	sc_post_vector(s.port, "/v1/check", "image/png", "char1_orig.png", &r);
	sc_expect_error(&r, 413, "too_large");
	sc_response_free(&r);
	/* Under the limit is fine. */
	sc_post_vector(s.port, "/v1/check", "image/jpeg", "char1_jpeg50.jpg", &r);
	cr_assert_str_eq(sc_verdict(&r), "block", "%d %.200s", r.status, r.body);
	sc_response_free(&r);

	/* Multipart over the limit too. */
	struct sc_buf b = { 0 };
	add_vector_part(&b, "image", "big.png", "char1_orig.png");
	sc_multipart_end(&b);
	sc_request(s.port, "POST", "/v1/check", SC_MULTIPART_HEADER, b.p, b.len, &r);
	sc_expect_error(&r, 413, "too_large");
	sc_response_free(&r);
	sc_buf_free(&b);

	/* The server is still fine after all that. */
	sc_post_vector(s.port, "/v1/check", "image/jpeg", "char1_jpeg50.jpg", &r);
	cr_assert_str_eq(sc_verdict(&r), "block");
	sc_response_free(&r);
	sc_server_stop(&s);
}

/* One check with the CNN: embedding signal, embed timing, and the query overrides. */
Test(serve_check_embedding, check_with_embedding_and_overrides, .timeout = 240)
{
	struct sc_server s;
	sc_server_start(&s, sc_registry_embedded("char1", "char1_orig.png"), "--workers 1");
	struct sc_response r;
	sc_post_vector(s.port, "/v1/check", "image/png", "char1_blur.png", &r);
	json_t *j = expect_ok_json(&r);
	json_t *signals = json_object_get(j, "signals");
	int has_embedding = 0;
	for (size_t i = 0; i < json_array_size(signals); i++)
		has_embedding |= strcmp(json_string_value(json_array_get(signals, i)), "embedding") == 0;
	cr_assert(has_embedding, "no embedding signal: %.300s", r.body);
	cr_assert_gt(json_real_value(json_object_get(json_object_get(j, "timings_ms"), "embed")), 0);
	json_t *match = json_array_get(json_object_get(j, "matches"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(match, "character")), "char1");
	cr_assert(json_is_real(json_object_get(match, "similarity")), "match without similarity: %.300s", r.body);
	cr_assert_str_neq(json_string_value(json_object_get(j, "verdict")), "allow", "a blurred copy of the reference");
	expect_server_timing(&r, 1);
	/* The character model's decision, as `likeness check --json` writes it. */
	json_t *ch = json_object_get(j, "character");
	cr_assert(json_is_object(ch), "no character decision: %.400s", r.body);
	cr_expect_str_eq(json_string_value(json_object_get(ch, "character")), "char1");
	cr_expect_str_eq(json_string_value(json_object_get(ch, "franchise")), "char1", "its own franchise");
	cr_expect(json_is_real(json_object_get(ch, "score")) && json_is_real(json_object_get(ch, "threshold")));
	cr_expect_eq(json_array_size(json_object_get(ch, "nearest")), 1, "one reference: %.400s", r.body);
	json_decref(j);
	sc_response_free(&r);

	sc_post_vector(s.port, "/v1/check?hash_only=1", "image/png", "char1_blur.png", &r);
	j = expect_ok_json(&r);
	cr_assert_eq(json_array_size(json_object_get(j, "signals")), 1, "%.300s", r.body);
	cr_expect(!json_object_get(j, "character"), "no embedding, no character decision: %.300s", r.body);
	expect_server_timing(&r, 0);
	json_decref(j);
	sc_response_free(&r);

	sc_post_vector(s.port, "/v1/check?regions=2", "image/png", "char2_orig.png", &r);
	j = expect_ok_json(&r);
	cr_assert_eq(json_array_size(json_object_get(j, "regions")), 2, "regions=2: %.300s", r.body);
	json_decref(j);
	sc_response_free(&r);
	sc_server_stop(&s);
}
