/* The access handler: one request from its headers to its reply.
 *
 * libmicrohttpd calls it several times per request: once with the headers (everything that can
 * be refused without the body is refused here: unknown path, wrong method, missing token, a
 * declared size over the limit, a type the route does not take, a server not ready yet), then
 * once per chunk of body, then once more with nothing, when the route's handler runs. Handlers
 * that need the registry hand their work to the worker pool and the connection is suspended;
 * the last job to finish resumes it, and the next call builds the reply from the jobs' results. */
#include "tools/serve/serve.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Per route: the methods it answers (also its Allow header), and what the bodies of POST and
 * PATCH may be (LK_ACCEPT_*); other methods take no body. */
struct route_spec {
	const char *allow;
	unsigned body_post, body_patch;
};

static const struct route_spec specs[LK_ROUTE_COUNT] = {
	[LK_ROUTE_LIVEZ] = { "GET, HEAD", 0, 0 },
	[LK_ROUTE_READYZ] = { "GET, HEAD", 0, 0 },
	[LK_ROUTE_METRICS] = { "GET, HEAD", 0, 0 },
	[LK_ROUTE_OPENAPI] = { "GET, HEAD", 0, 0 },
	[LK_ROUTE_CHECK] = { "POST", LK_ACCEPT_IMAGE | LK_ACCEPT_MULTIPART, 0 },
	[LK_ROUTE_CHECK_BATCH] = { "POST", LK_ACCEPT_MULTIPART, 0 },
	[LK_ROUTE_REGISTRY] = { "GET, HEAD", 0, 0 },
	[LK_ROUTE_CHARACTERS] = { "GET, HEAD, POST", LK_ACCEPT_JSON, 0 },
	[LK_ROUTE_CHARACTER] = { "GET, HEAD, PATCH, DELETE", 0, LK_ACCEPT_JSON },
	[LK_ROUTE_CHARACTER_REFERENCES] = { "GET, HEAD, POST", LK_ACCEPT_IMAGE | LK_ACCEPT_MULTIPART, 0 },
	[LK_ROUTE_REFERENCE] = { "DELETE", 0, 0 },
	[LK_ROUTE_OTHER] = { NULL, 0, 0 },
};

/* Splits the path into a route and its one variable part ({slug} or {id}), which *arg receives
 * (NULL when the route has none, or when memory ran out: the caller tells the two apart). */
static enum lk_serve_route route_of(const char *url, char **arg)
{
	static const struct { const char *path; enum lk_serve_route route; } fixed[] = {
		{ "/livez", LK_ROUTE_LIVEZ }, { "/readyz", LK_ROUTE_READYZ }, { "/metrics", LK_ROUTE_METRICS },
		{ "/openapi.json", LK_ROUTE_OPENAPI }, { "/v1/check", LK_ROUTE_CHECK },
		{ "/v1/check/batch", LK_ROUTE_CHECK_BATCH }, { "/v1/registry", LK_ROUTE_REGISTRY },
		{ "/v1/characters", LK_ROUTE_CHARACTERS },
	};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (strcmp(url, fixed[i].path) == 0)
			return fixed[i].route;
	static const char chars[] = "/v1/characters/", refs[] = "/v1/references/";
	const char *rest = NULL;
	enum lk_serve_route route = LK_ROUTE_OTHER;
	if (strncmp(url, chars, sizeof chars - 1) == 0) {
		rest = url + sizeof chars - 1;
		const char *slash = strchr(rest, '/');
		if (!slash) {
			route = LK_ROUTE_CHARACTER;
		} else if (strcmp(slash, "/references") == 0 && slash > rest) {
			*arg = strndup(rest, (size_t)(slash - rest));
			return LK_ROUTE_CHARACTER_REFERENCES;
		} else {
			return LK_ROUTE_OTHER;
		}
	} else if (strncmp(url, refs, sizeof refs - 1) == 0) {
		rest = url + sizeof refs - 1;
		if (strchr(rest, '/'))
			return LK_ROUTE_OTHER;
		route = LK_ROUTE_REFERENCE;
	}
	if (!rest || !*rest)
		return LK_ROUTE_OTHER;
	*arg = strdup(rest);
	return route;
}

static int method_allowed(const char *allow, const char *method)
{
	size_t n = strlen(method);
	for (const char *p = allow; (p = strstr(p, method)); p += n)
		if ((p == allow || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

static unsigned body_accepted(const struct route_spec *spec, const char *method)
{
	if (!strcmp(method, "POST"))
		return spec->body_post;
	if (!strcmp(method, "PATCH"))
		return spec->body_patch;
	return 0;
}

/* Everything decided from the headers alone; 0 to go on reading, -1 when a reply is set. */
static int on_headers(struct lk_serve_request *req)
{
	struct lk_serve *s = req->server;
	const struct route_spec *spec = &specs[req->route];
	if (req->route == LK_ROUTE_OTHER) {
		lk_serve_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such path; GET /openapi.json lists them");
		return -1;
	}
	if (!method_allowed(spec->allow, req->method)) {
		lk_serve_reply_error(req, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
				     "%s is not answered here; this path takes %s", req->method, spec->allow);
		if (req->response)
			MHD_add_response_header(req->response, MHD_HTTP_HEADER_ALLOW, spec->allow);
		return -1;
	}
	int is_v1 = req->route >= LK_ROUTE_CHECK;
	int is_admin = is_v1 && strcmp(req->method, "GET") && strcmp(req->method, "HEAD") &&
		       req->route != LK_ROUTE_CHECK && req->route != LK_ROUTE_CHECK_BATCH;
	if (is_admin && !lk_serve_admin_allowed(req))
		return -1;
	if (is_v1 && (!atomic_load(&s->registry) || atomic_load(&s->stopping))) {
		char why[LK_TEXT_MAX];
		lk_serve_load_error(s, why, sizeof why);
		lk_serve_metrics_reject(LK_REJECT_NOT_READY);
		lk_serve_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "not_ready", "%s", why);
		return -1;
	}
	unsigned accept = body_accepted(spec, req->method);
	if (accept)
		return lk_serve_body_begin(req, accept);
	return 0;
}

static void dispatch(struct lk_serve_request *req)
{
	switch (req->route) {
	case LK_ROUTE_LIVEZ: lk_serve_reply_static(req, MHD_HTTP_OK, "text/plain; charset=utf-8", "ok\n", 3); break;
	case LK_ROUTE_READYZ: lk_serve_handle_readyz(req); break;
	case LK_ROUTE_METRICS: lk_serve_handle_metrics(req); break;
	case LK_ROUTE_OPENAPI: lk_serve_handle_openapi(req); break;
	case LK_ROUTE_CHECK: lk_serve_handle_check(req, 0); break;
	case LK_ROUTE_CHECK_BATCH: lk_serve_handle_check(req, 1); break;
	case LK_ROUTE_REGISTRY: lk_serve_handle_registry(req); break;
	case LK_ROUTE_CHARACTERS: lk_serve_handle_characters(req); break;
	case LK_ROUTE_CHARACTER: lk_serve_handle_character(req); break;
	case LK_ROUTE_CHARACTER_REFERENCES: lk_serve_handle_references(req); break;
	case LK_ROUTE_REFERENCE: lk_serve_handle_reference(req); break;
	default: break;
	}
}

static enum MHD_Result send_reply(struct lk_serve_request *req)
{
	if (!req->response)
		lk_serve_reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "no reply could be made");
	if (!req->response)
		return MHD_NO;
	/* The body is of no more use: its bytes go back to the memory budget before the client can
	 * see the reply and send the next one. */
	lk_serve_body_free(req);
	enum MHD_Result ok = MHD_queue_response(req->conn, req->status, req->response);
	MHD_destroy_response(req->response);
	req->response = NULL;
	req->replied = 1;
	return ok;
}

enum MHD_Result lk_serve_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				const char *version, const char *upload_data, size_t *upload_data_size,
				void **con_cls)
{
	(void)version;
	struct lk_serve_request *req = *con_cls;
	if (!req) {
		req = calloc(1, sizeof *req);
		if (!req)
			return MHD_NO;
		req->server = cls;
		req->conn = conn;
		req->method = method;
		req->started = lk_serve_now();
		req->route = route_of(url, &req->route_arg);
		atomic_fetch_add(&req->server->open_requests, 1);
		*con_cls = req;
		int needs_arg = req->route == LK_ROUTE_CHARACTER || req->route == LK_ROUTE_CHARACTER_REFERENCES ||
				req->route == LK_ROUTE_REFERENCE;
		if (needs_arg && !req->route_arg) {
			lk_serve_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "not_ready", "the server ran out of memory");
			return send_reply(req);
		}
		if (on_headers(req) != 0)
			return send_reply(req);
		return MHD_YES;
	}
	if (req->replied) {
		/* Answered from the headers; whatever of the body still arrives is not read. */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		lk_serve_body_chunk(req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		/* libmicrohttpd 0.9.75 cannot reply before the body has ended, so the rest of an
		 * oversized streamed body is read and dropped (not kept) and answered 413 at its end;
		 * one that goes on past twice the limit is cut off without a reply. */
		return req->too_large && req->body_seen / 2 > req->server->cfg.max_body ? MHD_NO : MHD_YES;
	}
	if (req->suspended) {
		/* Resumed: every job has finished. */
		req->suspended = 0;
		if (req->finish)
			req->finish(req);
		return send_reply(req);
	}
	if (lk_serve_body_end(req) == 0)
		dispatch(req);
	if (req->suspended)
		return MHD_YES;
	return send_reply(req);
}

void lk_serve_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			enum MHD_RequestTerminationCode toe)
{
	(void)conn, (void)toe;
	struct lk_serve *s = cls;
	struct lk_serve_request *req = *con_cls;
	if (!req)
		return;
	*con_cls = NULL;
	if (req->status)
		lk_serve_metrics_request(req->route, req->status, lk_serve_now() - req->started);
	if (req->response)
		MHD_destroy_response(req->response);
	lk_serve_body_free(req);
	for (size_t i = 0; i < req->n_jobs; i++)
		if (req->jobs[i].reply)
			json_decref(req->jobs[i].reply);
	free(req->jobs);
	free(req->images);
	free(req->route_arg);
	free(req);
	atomic_fetch_sub(&s->open_requests, 1);
}
