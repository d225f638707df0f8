/* The endpoints for operators and machines: /readyz, /metrics, /openapi.json (/livez is one
 * line in the router). They run on the I/O threads and read only what the server keeps in
 * atomics (the registry's state is refreshed by the loader thread and by workers), never the
 * registry's database, so an orchestrator's probes are answered at once however busy the checks
 * are or however long another process holds the database's write lock. */
#include "tools/serve/serve.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void lk_serve_handle_readyz(struct lk_serve_request *req)
{
	struct lk_serve *s = req->server;
	if (!atomic_load(&s->registry_ok) || atomic_load(&s->stopping)) {
		char why[LK_TEXT_MAX];
		lk_serve_load_error(s, why, sizeof why);
		lk_serve_reply_json(req, MHD_HTTP_SERVICE_UNAVAILABLE,
				    json_pack("{s:b, s:s, s:s}", "ready", 0, "error", "not_ready", "message", why));
		return;
	}
	lk_serve_reply_json(req, MHD_HTTP_OK,
			    json_pack("{s:b, s:I}", "ready", 1, "registry_version", (json_int_t)atomic_load(&s->registry_version)));
}

void lk_serve_handle_metrics(struct lk_serve_request *req)
{
	size_t len = 0;
	struct lk_serve_pool *pool = req->server->pool;
	char *text = lk_serve_metrics_text(req->server, pool ? lk_serve_pool_pending(pool) : 0,
					   pool ? lk_serve_pool_capacity(pool) : 0, &len);
	if (!text) {
		lk_serve_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "not_ready", "the server ran out of memory");
		return;
	}
	lk_serve_reply_text(req, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

void lk_serve_handle_openapi(struct lk_serve_request *req)
{
	lk_serve_reply_static(req, MHD_HTTP_OK, "application/json", lk_serve_openapi, lk_serve_openapi_len);
}
