/* Operations endpoints of `likeness serve`: /livez, /readyz, /metrics, unknown paths (404),
 * wrong methods (405 with Allow), and a server whose registry cannot be loaded. */
#include "fixtures.h"
#include "serve_client.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sc_server srv;

static void start(void)
{
	sc_server_start(&srv, sc_registry_hash("char1", "char1_orig.png"), "--hash-only --workers 2");
}

static void stop(void)
{
	sc_server_stop(&srv);
}

TestSuite(serve_ops, .init = start, .fini = stop, .timeout = 120);

Test(serve_ops, livez_is_ok_text)
{
	struct sc_response r;
	cr_assert_eq(sc_get(srv.port, "/livez", &r), 0, "%s", r.error);
	cr_assert_eq(r.status, 200);
	const char *type = sc_header(&r, "Content-Type");
	cr_assert(type && strncmp(type, "text/plain", 10) == 0, "Content-Type %s", type ? type : "(none)");
	cr_assert_str_eq(r.body, "ok\n");
	sc_response_free(&r);
}

Test(serve_ops, readyz_reports_the_registry_version)
{
	struct sc_response r;
	cr_assert_eq(sc_get(srv.port, "/readyz", &r), 0, "%s", r.error);
	cr_assert_eq(r.status, 200);
	json_t *j = sc_json(&r);
	cr_assert(j, "%s", r.body);
	cr_assert(json_is_true(json_object_get(j, "ready")), "%s", r.body);
	json_t *version = json_object_get(j, "registry_version");
	cr_assert(json_is_integer(version) && json_integer_value(version) >= 1, "%s", r.body);
	json_decref(j);
	sc_response_free(&r);
}

static void expect_404(const char *method, const char *target)
{
	struct sc_response r;
	sc_request(srv.port, method, target, NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 404, "%s %s: %d", method, target, r.status);
	sc_expect_error(&r, 404, "not_found");
	sc_response_free(&r);
}

Test(serve_ops, unknown_paths_are_404)
{
	expect_404("GET", "/");
	expect_404("GET", "/nope");
	expect_404("GET", "/v1");
	expect_404("GET", "/v1/checks");
	expect_404("POST", "/v1/check/batch/more");
	expect_404("GET", "/v1/characters/char1/references/1");
	expect_404("GET", "/v2/registry");
	expect_404("GET", "/livez/extra");
	expect_404("DELETE", "/v1/references");
}

/* Splits an Allow value into a sorted, comma-joined upper-case list. */
static void normalise_allow(const char *allow, char *out, size_t size)
{
	char items[8][16];
	int n = 0;
	char buf[128];
	snprintf(buf, sizeof buf, "%s", allow);
	for (char *save, *tok = strtok_r(buf, ", ", &save); tok && n < 8; tok = strtok_r(NULL, ", ", &save)) {
		snprintf(items[n], sizeof items[n], "%s", tok);
		for (char *c = items[n]; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		n++;
	}
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && strcmp(items[j - 1], items[j]) > 0; j--) {
			char t[16];
			memcpy(t, items[j], sizeof t);
			memcpy(items[j], items[j - 1], sizeof t);
			memcpy(items[j - 1], t, sizeof t);
		}
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? "," : "", items[i]);
}

static void expect_405(const char *method, const char *target, const char *allowed_sorted)
{
	struct sc_response r;
	sc_request(srv.port, method, target, NULL, strcmp(method, "GET") ? "" : NULL, 0, &r);
	cr_assert_eq(r.status, 405, "%s %s: %d %.200s", method, target, r.status, r.body ? r.body : "");
	sc_expect_error(&r, 405, "method_not_allowed");
	const char *allow = sc_header(&r, "Allow");
	cr_assert(allow, "%s %s: 405 without Allow", method, target);
	char got[128];
	normalise_allow(allow, got, sizeof got);
	/* HEAD rides along with GET in many servers; accept it, nothing else. */
	char without_head[128];
	snprintf(without_head, sizeof without_head, "%s", got);
	char *h = strstr(without_head, "HEAD");
	if (h)
		memmove(h, h + 4 + (h[4] == ','), strlen(h + 4 + (h[4] == ',')) + 1);
	size_t n = strlen(without_head);
	if (n && without_head[n - 1] == ',')
		without_head[n - 1] = '\0';
	cr_assert_str_eq(without_head, allowed_sorted, "%s %s: Allow '%s'", method, target, allow);
	sc_response_free(&r);
}

Test(serve_ops, wrong_methods_are_405_with_allow)
{
	expect_405("DELETE", "/livez", "GET");
	expect_405("POST", "/readyz", "GET");
	expect_405("POST", "/metrics", "GET");
	expect_405("PUT", "/openapi.json", "GET");
	expect_405("GET", "/v1/check", "POST");
	expect_405("PUT", "/v1/check/batch", "POST");
	expect_405("DELETE", "/v1/registry", "GET");
	expect_405("PUT", "/v1/characters", "GET,POST");
	expect_405("POST", "/v1/characters/char1", "DELETE,GET,PATCH");
	expect_405("DELETE", "/v1/characters/char1/references", "GET,POST");
	expect_405("GET", "/v1/references/1", "DELETE");
}

/* Every line of the exposition is a comment or `name{labels} value`, every family is typed
 * once before its samples, and values are numbers. */
static void expect_prometheus_text(const char *text)
{
	char types[128][96];
	int n_types = 0, samples = 0;
	const char *line = text;
	while (*line) {
		const char *end = strchr(line, '\n');
		cr_assert(end, "the exposition does not end with a newline");
		char l[1024];
		snprintf(l, sizeof l, "%.*s", (int)(end - line), line);
		line = end + 1;
		if (!l[0])
			continue;
		if (l[0] == '#') {
			char family[96], type[32];
			if (sscanf(l, "# TYPE %95s %31s", family, type) == 2) {
				cr_assert(!strcmp(type, "counter") || !strcmp(type, "gauge") || !strcmp(type, "histogram") ||
						  !strcmp(type, "summary") || !strcmp(type, "untyped"),
					  "bad type: %s", l);
				for (int i = 0; i < n_types; i++)
					cr_assert_str_neq(types[i], family, "family typed twice: %s", family);
				cr_assert_lt(n_types, 128);
				snprintf(types[n_types++], sizeof types[0], "%s", family);
			} else {
				cr_assert(strncmp(l, "# HELP ", 7) == 0, "a comment that is neither HELP nor TYPE: %s", l);
			}
			continue;
		}
		const char *p = l;
		cr_assert(isalpha((unsigned char)*p) || *p == '_' || *p == ':', "bad metric name: %s", l);
		while (isalnum((unsigned char)*p) || *p == '_' || *p == ':')
			p++;
		char name[96];
		snprintf(name, sizeof name, "%.*s", (int)(p - l), l);
		if (*p == '{') {
			p++;
			while (*p != '}') {
				cr_assert(isalpha((unsigned char)*p) || *p == '_', "bad label name: %s", l);
				while (isalnum((unsigned char)*p) || *p == '_')
					p++;
				cr_assert(p[0] == '=' && p[1] == '"', "label without =\"value\": %s", l);
				p += 2;
				while (*p && *p != '"') {
					if (*p == '\\')
						p++;
					cr_assert(*p, "unterminated label value: %s", l);
					p++;
				}
				cr_assert_eq(*p, '"', "unterminated label value: %s", l);
				p++;
				if (*p == ',')
					p++;
				else
					cr_assert_eq(*p, '}', "labels not separated by commas: %s", l);
			}
			p++;
		}
		cr_assert_eq(*p, ' ', "no space before the value: %s", l);
		p++;
		char *vend;
		double v = strtod(p, &vend);
		cr_assert(vend != p, "value is not a number: %s", l);
		cr_assert(*vend == '\0' || *vend == ' ', "junk after the value: %s", l);
		(void)v;
		/* The family: the name, less a histogram's suffix. */
		int typed = 0;
		for (int i = 0; i < n_types && !typed; i++) {
			size_t fl = strlen(types[i]);
			typed = strncmp(name, types[i], fl) == 0 &&
				(name[fl] == '\0' || !strcmp(name + fl, "_bucket") || !strcmp(name + fl, "_sum") ||
				 !strcmp(name + fl, "_count") || !strcmp(name + fl, "_total") || !strcmp(name + fl, "_created"));
		}
		cr_assert(typed, "sample before (or without) its # TYPE: %s", l);
		samples++;
	}
	cr_assert_gt(samples, 20, "only %d samples", samples);
}

/* For every label set of histogram `name` selected by `labels`: buckets cumulative in le order,
 * the +Inf bucket equal to _count. Returns how many label sets were checked. */
static int expect_histogram(const char *text, const char *name, const char *labels)
{
	char bucket[128], count[128];
	snprintf(bucket, sizeof bucket, "%s_bucket{", name);
	snprintf(count, sizeof count, "%s_count", name);
	double prev_le = -INFINITY, prev_v = -1, inf_v = NAN;
	int sets = 0;
	char current[512] = "";
	for (const char *line = text; *line; line = strchr(line, '\n') + 1) {
		if (strncmp(line, bucket, strlen(bucket)) == 0) {
			const char *lb = line + strlen(bucket);
			const char *close = sc_labels_end(lb - 1);
			cr_assert(close, "unterminated labels: %.200s", line);
			char labelset[512];
			snprintf(labelset, sizeof labelset, "%.*s", (int)(close - lb), lb);
			/* The label set without le identifies the series. */
			char series[512] = "";
			char le_text[32] = "";
			char tmp[512];
			snprintf(tmp, sizeof tmp, "%s", labelset);
			for (char *save, *kv = strtok_r(tmp, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
				if (strncmp(kv, "le=\"", 4) == 0)
					snprintf(le_text, sizeof le_text, "%.*s", (int)strlen(kv + 4) - 1, kv + 4);
				else
					snprintf(series + strlen(series), sizeof series - strlen(series), "%s,", kv);
			}
			cr_assert(le_text[0], "bucket without le: %.200s", line);
			if (labels && *labels && !strstr(series, labels))
				continue;
			if (strcmp(series, current) != 0) {
				if (current[0])
					cr_assert_fail("series %s of %s has no +Inf bucket", current, name);
				snprintf(current, sizeof current, "%s", series);
				prev_le = -INFINITY;
				prev_v = -1;
			}
			double le = strcmp(le_text, "+Inf") == 0 ? INFINITY : strtod(le_text, NULL);
			double v = strtod(close + 2, NULL);
			cr_assert_gt(le, prev_le, "%s{%s}: le not increasing", name, series);
			cr_assert_geq(v, prev_v, "%s{%s}: bucket le=%s below the one before", name, series, le_text);
			prev_le = le;
			prev_v = v;
			if (isinf(le)) {
				inf_v = v;
				/* _count of the same series */
				char want[512];
				snprintf(want, sizeof want, "%.*s", (int)strlen(series) - 1, series);
				double c = sc_metric(text, count, want);
				cr_assert(!isnan(c), "%s{%s} missing", count, want);
				cr_assert_eq(inf_v, c, "%s{%s}: +Inf bucket %g, _count %g", name, want, inf_v, c);
				char sum[128];
				snprintf(sum, sizeof sum, "%s_sum", name);
				cr_assert(!isnan(sc_metric(text, sum, want)), "%s{%s} missing", sum, want);
				current[0] = '\0';
				sets++;
			}
		}
	}
	cr_assert_eq(current[0], '\0', "series %s of %s has no +Inf bucket", current, name);
	return sets;
}

static char *get_metrics(void)
{
	struct sc_response r;
	cr_assert_eq(sc_get(srv.port, "/metrics", &r), 0, "%s", r.error);
	cr_assert_eq(r.status, 200);
	const char *type = sc_header(&r, "Content-Type");
	cr_assert(type && strncmp(type, "text/plain", 10) == 0 && strstr(type, "version=0.0.4"), "Content-Type %s",
		  type ? type : "(none)");
	char *text = r.body;
	r.body = NULL;
	sc_response_free(&r);
	return text;
}

static void checks(const char *image, int n)
{
	for (int i = 0; i < n; i++) {
		struct sc_response r;
		sc_post_vector(srv.port, "/v1/check", "image/png", image, &r);
		cr_assert_eq(r.status, 200);
		sc_response_free(&r);
	}
}

static double metric0(const char *text, const char *name, const char *labels)
{
	double v = sc_metric(text, name, labels);
	return isnan(v) ? 0 : v;
}

Test(serve_ops, metrics_are_prometheus_text_and_move)
{
	char *before = get_metrics();
	expect_prometheus_text(before);

	struct sc_response r;
	for (int i = 0; i < 3; i++) {
		sc_get(srv.port, "/livez", &r);
		sc_response_free(&r);
	}
	checks("char1_orig.png", 2);
	checks("char2_orig.png", 1);
	sc_get(srv.port, "/no/such/thing", &r);
	sc_response_free(&r);
	sc_get(srv.port, "/v1/characters/char1", &r);
	cr_assert_eq(r.status, 200);
	sc_response_free(&r);
	const char *text = "not an image";
	sc_post(srv.port, "/v1/check", "image/png", NULL, text, strlen(text), &r);
	cr_assert_eq(r.status, 422);
	sc_response_free(&r);

	static const struct {
		const char *name, *labels;
		double at_least;
	} moved[] = {
		{ "likeness_http_requests_total", "route=\"/livez\",code=\"200\"", 3 },
		{ "likeness_http_requests_total", "route=\"/v1/check\",code=\"200\"", 3 },
		{ "likeness_http_requests_total", "route=\"/v1/check\",code=\"422\"", 1 },
		{ "likeness_http_requests_total", "route=\"other\",code=\"404\"", 1 },
		{ "likeness_http_requests_total", "route=\"/v1/characters/{slug}\",code=\"200\"", 1 },
		{ "likeness_check_verdicts_total", "verdict=\"block\"", 2 },
		{ "likeness_check_verdicts_total", "verdict=\"allow\"", 1 },
		{ "likeness_http_request_duration_seconds_count", "route=\"/v1/check\"", 4 },
		{ "likeness_check_stage_seconds_count", "stage=\"total\"", 3 },
		{ "likeness_check_stage_seconds_count", "stage=\"decode\"", 3 },
		{ "likeness_check_stage_seconds_count", "stage=\"queue\"", 3 },
	};
	/* Requests are counted when the server has finished with them, which may be a moment after
	 * the client has read the reply: look again for up to 2 s. */
	char *after = NULL;
	for (double until = sc_now() + 2.0;;) {
		after = get_metrics();
		size_t i;
		for (i = 0; i < sizeof moved / sizeof moved[0]; i++)
			if (metric0(after, moved[i].name, moved[i].labels) - metric0(before, moved[i].name, moved[i].labels) <
			    moved[i].at_least)
				break;
		if (i == sizeof moved / sizeof moved[0] || sc_now() > until)
			break;
		free(after);
		usleep(50 * 1000);
	}
	expect_prometheus_text(after);
	for (size_t i = 0; i < sizeof moved / sizeof moved[0]; i++) {
		double a = metric0(before, moved[i].name, moved[i].labels), b = sc_metric(after, moved[i].name, moved[i].labels);
		cr_assert(!isnan(b), "%s{%s} missing after requests", moved[i].name, moved[i].labels);
		cr_assert_geq(b - a, moved[i].at_least, "%s{%s} moved %g, want >= %g", moved[i].name, moved[i].labels, b - a,
			      moved[i].at_least);
	}
	/* a review verdict never happened: present at 0, or absent */
	cr_assert_eq(metric0(after, "likeness_check_verdicts_total", "verdict=\"review\""), 0);
	/* the raw path must not become a label */
	cr_assert_null(strstr(after, "route=\"/v1/characters/char1\""));
	cr_assert_null(strstr(after, "/no/such/thing"));

	cr_assert_gt(expect_histogram(after, "likeness_http_request_duration_seconds", NULL), 3);
	cr_assert_eq(expect_histogram(after, "likeness_check_stage_seconds", NULL), 6, "one series per stage");
	cr_assert_eq(expect_histogram(after, "likeness_http_request_duration_seconds", "route=\"/v1/check\""), 1);

	static const struct {
		const char *name, *labels;
		double want;
	} gauges[] = {
		{ "likeness_workers", "", 2 },
		{ "likeness_ready", "", 1 },
		{ "likeness_checks_in_flight", "", 0 },
		{ "likeness_registry_characters", "state=\"all\"", 1 },
		{ "likeness_registry_characters", "state=\"enabled\"", 1 },
		{ "likeness_registry_references", "kind=\"all\"", 1 },
		{ "likeness_registry_references", "kind=\"embedded\"", 0 },
	};
	for (size_t i = 0; i < sizeof gauges / sizeof gauges[0]; i++) {
		double v = sc_metric(after, gauges[i].name, gauges[i].labels);
		cr_assert_eq(v, gauges[i].want, "%s{%s} = %g, want %g", gauges[i].name, gauges[i].labels, v, gauges[i].want);
	}
	cr_assert_geq(sc_metric(after, "likeness_registry_version", ""), 1);
	cr_assert_geq(sc_metric(after, "likeness_queue_capacity", ""), 1);
	cr_assert_eq(sc_metric(after, "likeness_build_info", ""), 1);
	cr_assert(strstr(after, "likeness_build_info{version=\""), "build_info without a version label");
	for (const char *reason = "overloaded\0deadline\0not_ready\0"; *reason; reason += strlen(reason) + 1) {
		char labels[64];
		snprintf(labels, sizeof labels, "reason=\"%s\"", reason);
		cr_assert_eq(metric0(after, "likeness_rejected_total", labels), 0, "%s rejections on an idle server", reason);
	}
	free(before);
	free(after);
}

/* A registry that cannot be opened: the process lives, is never ready, and says so. */
Test(serve_not_ready, missing_registry_keeps_livez_and_answers_503, .timeout = 120)
{
	char missing[400];
	snprintf(missing, sizeof missing, "%s/does-not-exist", fx_temp_dir());
	struct sc_server s;
	sc_server_start_env(&s, missing, "--hash-only", NULL, 0);
	/* give the loader time to fail */
	usleep(500 * 1000);
	for (int round = 0; round < 2; round++) {
		struct sc_response r;
		sc_get(s.port, "/livez", &r);
		cr_assert_eq(r.status, 200, "livez %d", r.status);
		sc_response_free(&r);

		sc_get(s.port, "/readyz", &r);
		cr_assert_eq(r.status, 503, "readyz %d", r.status);
		json_t *j = sc_json(&r);
		cr_assert(j, "%s", r.body);
		cr_assert(json_is_false(json_object_get(j, "ready")), "%s", r.body);
		cr_assert_str_eq(json_string_value(json_object_get(j, "error")), "not_ready");
		cr_assert(json_string_value(json_object_get(j, "message")));
		json_decref(j);
		cr_assert_str_eq(sc_header(&r, "Retry-After") ? sc_header(&r, "Retry-After") : "", "1");
		sc_response_free(&r);

		sc_post_vector(s.port, "/v1/check", "image/png", "char1_orig.png", &r);
		sc_expect_error(&r, 503, "not_ready");
		cr_assert_str_eq(sc_header(&r, "Retry-After") ? sc_header(&r, "Retry-After") : "", "1");
		sc_response_free(&r);

		static const char *const gets[] = { "/v1/registry", "/v1/characters", "/v1/characters/char1",
			"/v1/characters/char1/references" };
		for (size_t i = 0; i < sizeof gets / sizeof gets[0]; i++) {
			sc_get(s.port, gets[i], &r);
			cr_assert_eq(r.status, 503, "%s: %d", gets[i], r.status);
			sc_expect_error(&r, 503, "not_ready");
			sc_response_free(&r);
		}
		sc_get(s.port, "/metrics", &r);
		cr_assert_eq(r.status, 200);
		cr_assert_eq(sc_metric(r.body, "likeness_ready", ""), 0);
		cr_assert_geq(sc_metric(r.body, "likeness_rejected_total", "reason=\"not_ready\""), 1 + round);
		sc_response_free(&r);
		usleep(300 * 1000);
	}
	sc_server_stop(&s);
}

/* --timeout S closes an idle connection after about S seconds. */
Test(serve_idle, idle_connections_are_closed, .timeout = 120)
{
	struct sc_server s;
	sc_server_start(&s, sc_registry_hash("char1", "char1_orig.png"), "--hash-only --timeout 1");
	int fd = sc_connect(s.port, SC_TIMEOUT);
	cr_assert_geq(fd, 0);
	double t = sc_now();
	char c;
	ssize_t n = recv(fd, &c, 1, 0); /* blocks until the server closes (or SC_TIMEOUT) */
	double waited = sc_now() - t;
	close(fd);
	cr_assert_eq(n, 0, "the idle connection was not closed (recv %zd after %.1f s)", n, waited);
	cr_assert_lt(waited, 10.0, "closed only after %.1f s with --timeout 1", waited);
	/* and the server still answers */
	struct sc_response r;
	sc_get(s.port, "/livez", &r);
	cr_assert_eq(r.status, 200);
	sc_response_free(&r);
	sc_server_stop(&s);
}

/* HEAD answers as GET does, without a body. */
Test(serve_ops, head_has_headers_and_no_body)
{
	static const char *const targets[] = { "/livez", "/readyz", "/metrics", "/openapi.json", "/v1/characters" };
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		int fd = sc_connect(srv.port, SC_TIMEOUT);
		cr_assert_geq(fd, 0);
		char req[200];
		snprintf(req, sizeof req, "HEAD %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", targets[i]);
		cr_assert_eq(sc_send_all(fd, req, strlen(req)), 0);
		/* Everything up to the close: the status line, the headers, and nothing after them. */
		char got[16384];
		size_t n = 0;
		ssize_t k;
		while (n < sizeof got - 1 && (k = recv(fd, got + n, sizeof got - 1 - n, 0)) > 0)
			n += (size_t)k;
		got[n] = '\0';
		close(fd);
		cr_assert(strncmp(got, "HTTP/1.1 200", 12) == 0, "HEAD %s: %.80s", targets[i], got);
		const char *end = strstr(got, "\r\n\r\n");
		cr_assert(end, "HEAD %s: no end of headers", targets[i]);
		cr_assert_eq(strlen(end + 4), 0, "HEAD %s sent a body: %.80s", targets[i], end + 4);
	}
}

/* Wrong options are usage errors (exit 2) with a sentence, before anything listens. */
Test(serve_options, wrong_options_exit_2_with_a_reason, .timeout = 60)
{
	static const struct {
		const char *args, *says;
	} cases[] = {
		{ "serve -r /nonexistent --listen nonsense", "IPv4" },
		{ "serve -r /nonexistent --port 70000", "--port" },
		{ "serve -r /nonexistent --workers 0", "--workers" },
		{ "serve -r /nonexistent --max-body 1M --max-memory 1M --max-body 2M", "--max-memory" },
		{ "serve -r /nonexistent --regions 12", "regions" },
		{ "serve -r /nonexistent extra", "unexpected" },
		{ "serve", "registry" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct fx_run *r = fx_cli_env("LIKENESS_REGISTRY= LIKENESS_ADMIN_TOKEN=", cases[i].args);
		cr_expect_eq(r->status, 2, "%s: exit %d: %s", cases[i].args, r->status, r->err);
		cr_expect(strstr(r->err, cases[i].says) != NULL, "%s: %s", cases[i].args, r->err);
	}
	struct fx_run *r = fx_cli_env("LIKENESS_ADMIN_TOKEN=short", "serve -r /nonexistent");
	cr_expect_eq(r->status, 2, "a short token: exit %d: %s", r->status, r->err);
	cr_expect(strstr(r->err, "16 characters") != NULL, "%s", r->err);
}

/* --max-connections: a connection past the limit is not taken (it waits in the listen queue)
 * until one of the open ones closes. libmicrohttpd divides the limit among the I/O threads, so
 * one thread makes it exact here. */
Test(serve_options, connections_past_the_limit_wait_for_a_free_one, .timeout = 120)
{
	struct sc_server s;
	sc_server_start(&s, sc_registry_hash("char1", "char1_orig.png"), "--hash-only --io-threads 1 --max-connections 2");
	int a = sc_connect(s.port, SC_TIMEOUT), b = sc_connect(s.port, SC_TIMEOUT);
	cr_assert(a >= 0 && b >= 0);
	usleep(200 * 1000); /* both accepted and counted */
	int c = sc_connect(s.port, SC_TIMEOUT);
	cr_assert_geq(c, 0);
	const char *get = "GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	cr_assert_eq(sc_send_all(c, get, strlen(get)), 0);
	struct pollfd p = { .fd = c, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 1000), 0, "a third connection was answered with two open and a limit of 2");
	close(a);
	double t = sc_now();
	struct sc_response r;
	cr_assert_eq(sc_read_response(c, &r, SC_TIMEOUT, t), 0, "not served once a connection closed: %s", r.error);
	cr_assert_eq(r.status, 200);
	cr_assert_lt(sc_now() - t, 5.0, "served %.1f s after a connection closed", sc_now() - t);
	sc_response_free(&r);
	close(c);
	close(b);
	sc_server_stop(&s);
}
