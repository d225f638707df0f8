/* Request bodies: a raw image or JSON document, or multipart/form-data parts, held in memory
 * up to --max-body. Limits are enforced while reading: a declared length over the limit is
 * refused before a byte of the body is read, and a streamed (chunked) body is dropped as soon
 * as it passes the limit. */
#include "serve.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Grows *buf to hold `need` bytes, doubling but never past `limit` (the body limit), so that a
 * body at the limit does not hold twice the limit in memory; 0 on success. */
static int reserve(unsigned char **buf, size_t *cap, size_t need, size_t limit)
{
	if (need <= *cap)
		return 0;
	if (need > limit)
		return -1;
	size_t next = *cap ? *cap : 64 * 1024;
	while (next < need)
		next *= 2;
	if (next > limit)
		next = limit;
	unsigned char *grown = realloc(*buf, next);
	if (!grown)
		return -1;
	*buf = grown;
	*cap = next;
	return 0;
}

static struct lk_serve_part *new_part(struct lk_serve_request *req, const char *key, const char *filename)
{
	/* Each part costs memory whatever its size, so their number is bounded too. */
	if (req->n_parts >= (size_t)req->server->cfg.max_batch + 8) {
		req->too_many_parts = 1;
		return NULL;
	}
	if (req->n_parts == req->parts_cap) {
		size_t cap = req->parts_cap ? req->parts_cap * 2 : 4;
		struct lk_serve_part *grown = realloc(req->parts, cap * sizeof *grown);
		if (!grown)
			return NULL;
		req->parts = grown;
		req->parts_cap = cap;
	}
	struct lk_serve_part *p = &req->parts[req->n_parts++];
	memset(p, 0, sizeof *p);
	p->field = strdup(key ? key : "");
	p->filename = filename ? strdup(filename) : NULL;
	p->is_file = filename != NULL;
	return p;
}

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
			       const char *content_type, const char *transfer_encoding, const char *data,
			       uint64_t off, size_t size)
{
	(void)kind, (void)content_type, (void)transfer_encoding;
	struct lk_serve_request *req = cls;
	if (req->too_large || req->too_many_parts)
		return MHD_YES;
	struct lk_serve_part *cur = req->n_parts ? &req->parts[req->n_parts - 1] : NULL;
	/* A part starts at offset 0; several calls may carry one part's data. */
	if (off == 0 && (!cur || cur->len > 0 || strcmp(cur->field, key ? key : "") != 0 ||
			 (cur->filename == NULL) != (filename == NULL)))
		cur = new_part(req, key, filename);
	if (!cur)
		return MHD_YES;
	if (size && reserve(&cur->data, &cur->cap, cur->len + size, req->server->cfg.max_body) != 0) {
		req->too_large = 1;
		return MHD_YES;
	}
	if (size)
		memcpy(cur->data + cur->len, data, size);
	cur->len += size;
	return MHD_YES;
}

/* The media type of a Content-Type value, without parameters, compared case-insensitively. */
static int media_is(const char *value, const char *type)
{
	size_t n = strlen(type);
	if (strncasecmp(value, type, n) != 0)
		return 0;
	char next = value[n];
	return next == '\0' || next == ';' || next == ' ';
}

int lk_serve_body_begin(struct lk_serve_request *req, unsigned accept)
{
	struct MHD_Connection *conn = req->conn;
	const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (length) {
		char *end;
		unsigned long long n = strtoull(length, &end, 10);
		if (*end == '\0' && n > req->server->cfg.max_body) {
			lk_serve_reply_error(req, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
					     "the body has %llu bytes; this server takes at most %zu", n,
					     req->server->cfg.max_body);
			return -1;
		}
	}
	if (!type)
		type = "";
	if ((accept & LK_ACCEPT_MULTIPART) && media_is(type, "multipart/form-data")) {
		req->post = MHD_create_post_processor(conn, 64 * 1024, on_part, req);
		if (!req->post) {
			lk_serve_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request",
					     "multipart/form-data needs a boundary parameter of 2 to 70 characters");
			return -1;
		}
		req->body_kind = LK_BODY_MULTIPART;
		return 0;
	}
	int image = media_is(type, "application/octet-stream") || strncasecmp(type, "image/", 6) == 0;
	if (((accept & LK_ACCEPT_IMAGE) && image) || ((accept & LK_ACCEPT_JSON) && media_is(type, "application/json"))) {
		req->body_kind = LK_BODY_RAW;
		return 0;
	}
	const char *wanted = accept == LK_ACCEPT_JSON ? "application/json"
			     : (accept & LK_ACCEPT_IMAGE) && (accept & LK_ACCEPT_MULTIPART)
				     ? "an image (image/*, application/octet-stream) or multipart/form-data"
			     : (accept & LK_ACCEPT_MULTIPART) ? "multipart/form-data"
							      : "an image";
	lk_serve_reply_error(req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
			     "Content-Type '%s' is not accepted here: send %s", type[0] ? type : "(none)", wanted);
	return -1;
}

void lk_serve_body_chunk(struct lk_serve_request *req, const char *data, size_t size)
{
	req->body_seen += size;
	if (req->too_large || req->malformed)
		return;
	if (req->body_seen > req->server->cfg.max_body) {
		req->too_large = 1;
		return;
	}
	if (req->body_kind == LK_BODY_RAW) {
		if (reserve(&req->raw, &req->raw_cap, req->raw_len + size, req->server->cfg.max_body) != 0) {
			req->too_large = 1;
			return;
		}
		memcpy(req->raw + req->raw_len, data, size);
		req->raw_len += size;
	} else if (req->body_kind == LK_BODY_MULTIPART) {
		if (MHD_post_process(req->post, data, size) != MHD_YES)
			req->malformed = 1;
	}
}

int lk_serve_body_end(struct lk_serve_request *req)
{
	if (req->post) {
		/* MHD_NO here means the multipart data ended before its closing boundary. */
		if (MHD_destroy_post_processor(req->post) != MHD_YES)
			req->malformed = 1;
		req->post = NULL;
	}
	if (req->too_large) {
		lk_serve_reply_error(req, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
				     "the body passed %zu bytes, the most this server takes", req->server->cfg.max_body);
		return -1;
	}
	if (req->too_many_parts) {
		lk_serve_reply_error(req, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
				     "too many parts: at most %u images per request", req->server->cfg.max_batch);
		return -1;
	}
	if (req->malformed) {
		lk_serve_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request",
				     "the multipart/form-data body is malformed (boundary or part headers)");
		return -1;
	}
	return 0;
}

size_t lk_serve_body_images(struct lk_serve_request *req, struct lk_serve_part **out, size_t cap)
{
	size_t n = 0;
	if (req->body_kind == LK_BODY_RAW && req->n_parts == 0 && req->raw) {
		/* The raw body becomes a part without a name, owned like the others. */
		struct lk_serve_part *p = new_part(req, "", NULL);
		if (!p)
			return 0;
		p->data = req->raw;
		p->len = req->raw_len;
		p->cap = req->raw_cap;
		p->is_file = 1;
		req->raw = NULL;
		req->raw_len = req->raw_cap = 0;
	}
	for (size_t i = 0; i < req->n_parts && n < cap; i++)
		if (req->parts[i].is_file || strcmp(req->parts[i].field, "image") == 0)
			out[n++] = &req->parts[i];
	return n;
}

void lk_serve_body_free(struct lk_serve_request *req)
{
	if (req->post)
		MHD_destroy_post_processor(req->post);
	req->post = NULL;
	free(req->raw);
	for (size_t i = 0; i < req->n_parts; i++) {
		free(req->parts[i].field);
		free(req->parts[i].filename);
		free(req->parts[i].data);
	}
	free(req->parts);
	req->parts = NULL;
	req->n_parts = 0;
}
