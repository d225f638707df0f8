/* Replies: JSON bodies, error objects, and the HTTP status each library error means. */
#include "tools/serve/serve.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_response(struct lk_serve_request *req, unsigned status, const char *content_type,
			 struct MHD_Response *response)
{
	if (req->response)
		MHD_destroy_response(req->response);
	req->response = response;
	req->status = response ? status : 0;
	if (!response)
		return;
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_TOO_MANY_REQUESTS || status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(response, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"likeness admin\"");
}

void lk_serve_reply_text(struct lk_serve_request *req, unsigned status, const char *content_type, char *text,
			 size_t len)
{
	struct MHD_Response *response = text ? MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE) : NULL;
	if (!response)
		free(text);
	set_response(req, status, content_type, response);
}

void lk_serve_reply_static(struct lk_serve_request *req, unsigned status, const char *content_type,
			   const char *text, size_t len)
{
	set_response(req, status, content_type,
		     MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_PERSISTENT));
}

void lk_serve_reply_json(struct lk_serve_request *req, unsigned status, json_t *body)
{
	/* Six significant digits: thresholds stored as floats would otherwise print as 0.89999997. */
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
	json_decref(body);
	if (!text) {
		static const char oom[] = "{\"error\":\"internal\",\"message\":\"out of memory\"}";
		text = strdup(oom);
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		if (!text)
			return;
	}
	size_t len = strlen(text);
	/* A newline, so that `curl` output ends cleanly on a terminal. */
	char *with_newline = realloc(text, len + 2);
	if (with_newline) {
		text = with_newline;
		text[len++] = '\n';
		text[len] = '\0';
	}
	lk_serve_reply_text(req, status, "application/json", text, len);
}

void lk_serve_reply_error(struct lk_serve_request *req, unsigned status, const char *code, const char *fmt, ...)
{
	char message[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	lk_serve_reply_json(req, status, json_pack("{s:s, s:s}", "error", code, "message", message));
}

unsigned lk_serve_status_of(int code)
{
	switch (code) {
	case LK_OK: return MHD_HTTP_OK;
	case LK_EINVAL: return MHD_HTTP_BAD_REQUEST;
	case LK_ENOTFOUND: return MHD_HTTP_NOT_FOUND;
	case LK_EEXISTS: return MHD_HTTP_CONFLICT;
	/* What is wrong is the image the client sent: its own fault, not the server's. */
	case LK_EEMPTY:
	case LK_ENOTIMAGE:
	case LK_EMISMATCH:
	case LK_ETRUNCATED:
	case LK_ECORRUPT:
	case LK_EDIMENSIONS:
	case LK_EPIXELS:
	case LK_EUNTRUSTED:
	case LK_ELOWQUALITY: return MHD_HTTP_UNPROCESSABLE_CONTENT;
	case LK_ETOOBIG: return MHD_HTTP_CONTENT_TOO_LARGE;
	/* The registry's files are locked or damaged: the server's state, not the request's, and
	 * perhaps passing (another process holds a long write). */
	case LK_EREGISTRY: return MHD_HTTP_SERVICE_UNAVAILABLE;
	case LK_ENOMEM: return MHD_HTTP_SERVICE_UNAVAILABLE;
	default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

const char *lk_serve_error_code(int code)
{
	switch (lk_serve_status_of(code)) {
	case MHD_HTTP_BAD_REQUEST: return "bad_request";
	case MHD_HTTP_NOT_FOUND: return "not_found";
	case MHD_HTTP_CONFLICT: return "conflict";
	case MHD_HTTP_CONTENT_TOO_LARGE: return "too_large";
	case MHD_HTTP_SERVICE_UNAVAILABLE: return "not_ready";
	case MHD_HTTP_UNPROCESSABLE_CONTENT: return lk_error_name(code);
	default: return "internal";
	}
}

void lk_serve_reply_lk_error(struct lk_serve_request *req, int code, const char *detail)
{
	unsigned status = lk_serve_status_of(code);
	lk_serve_reply_error(req, status, lk_serve_error_code(code), "%s", detail && detail[0] ? detail : lk_strerror(code));
	if (status == MHD_HTTP_INTERNAL_SERVER_ERROR)
		fprintf(stderr, "likeness serve: %s %s: %s [%s]\n", req->method, lk_serve_route_template(req->route),
			detail && detail[0] ? detail : "", lk_error_name(code));
}

void lk_serve_reply_deadline(struct lk_serve_request *req, const struct lk_serve_job *job)
{
	lk_serve_metrics_reject(LK_REJECT_DEADLINE);
	if (atomic_load(&req->server->stopping))
		lk_serve_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "not_ready", "the server is stopping");
	else
		lk_serve_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "deadline",
				     "the request waited %.0f ms for a worker, past this server's %u ms limit",
				     job->queue_s * 1000.0, req->server->cfg.queue_timeout_ms);
}
