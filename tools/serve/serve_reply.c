/* Replies: JSON bodies, error objects, and the HTTP status each library error means. */
#include "serve.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lk_serve_reply_text(struct lk_serve_request *req, unsigned status, const char *content_type, char *text,
			 size_t len)
{
	if (req->response)
		MHD_destroy_response(req->response);
	req->response = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!req->response) {
		free(text);
		req->status = 0;
		return;
	}
	MHD_add_response_header(req->response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(req->response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	req->status = status;
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
	if (!req->response)
		return;
	if (status == MHD_HTTP_TOO_MANY_REQUESTS || status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(req->response, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(req->response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"likeness admin\"");
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
	default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

void lk_serve_reply_lk_error(struct lk_serve_request *req, int code, const char *detail)
{
	unsigned status = lk_serve_status_of(code);
	const char *name = status == MHD_HTTP_INTERNAL_SERVER_ERROR ? "internal" : lk_error_name(code);
	if (status == MHD_HTTP_BAD_REQUEST)
		name = "bad_request";
	else if (status == MHD_HTTP_NOT_FOUND)
		name = "not_found";
	else if (status == MHD_HTTP_CONFLICT)
		name = "conflict";
	else if (status == MHD_HTTP_CONTENT_TOO_LARGE)
		name = "too_large";
	else if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		name = "registry_unavailable";
	lk_serve_reply_error(req, status, name, "%s", detail && detail[0] ? detail : lk_strerror(code));
	if (status == MHD_HTTP_INTERNAL_SERVER_ERROR)
		fprintf(stderr, "likeness serve: %s %s: %s [%s]\n", req->method, lk_serve_route_template(req->route),
			detail && detail[0] ? detail : "", lk_error_name(code));
}
