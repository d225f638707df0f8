/* The endpoints for operators and machines: /readyz, /metrics, /openapi.json (/livez is one
 * line in the router). They run on the I/O threads: none of them waits for a worker, so an
 * orchestrator's probes are answered however busy the checks are. */
#include "serve.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void lk_serve_handle_readyz(struct lk_serve_request *req)
{
	struct lk_serve *s = req->server;
	lk_registry *reg = atomic_load(&s->registry);
	uint64_t version = 0;
	if (!reg || lk_registry_version(&version, reg) != LK_OK) {
		const char *why = atomic_load(&s->load_failed) ? s->load_error
				  : reg ? "the registry cannot be read"
					: "the registry is still loading";
		lk_serve_reply_json(req, MHD_HTTP_SERVICE_UNAVAILABLE,
				    json_pack("{s:b, s:s, s:s}", "ready", 0, "error", "not_ready", "message", why));
		if (req->response)
			MHD_add_response_header(req->response, MHD_HTTP_HEADER_RETRY_AFTER, "1");
		return;
	}
	lk_serve_reply_json(req, MHD_HTTP_OK, json_pack("{s:b, s:I}", "ready", 1, "registry_version", (json_int_t)version));
}

void lk_serve_handle_metrics(struct lk_serve_request *req)
{
	size_t len = 0;
	char *text = lk_serve_metrics_text(req->server, &len);
	if (!text) {
		lk_serve_reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		return;
	}
	lk_serve_reply_text(req, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

void lk_serve_handle_openapi(struct lk_serve_request *req)
{
	char *copy = malloc(lk_serve_openapi_len);
	if (!copy) {
		lk_serve_reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		return;
	}
	memcpy(copy, lk_serve_openapi, lk_serve_openapi_len);
	lk_serve_reply_text(req, MHD_HTTP_OK, "application/json", copy, lk_serve_openapi_len);
}
