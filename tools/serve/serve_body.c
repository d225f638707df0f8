/* Request bodies: a raw image or JSON document, or multipart/form-data parts, held in memory
 * up to --max-body per request and --max-memory for all of them. A declared length over either
 * is refused before a byte of the body is read; a streamed (chunked) body that passes the
 * request limit is dropped (its buffers freed) and the rest of it read without being kept. */
#include "tools/serve/serve.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Counts `more` bytes of buffer against the server's budget; -1 (nothing counted) when it would
 * pass it. */
static int hold(struct lk_serve_request *req, size_t more)
{
	struct lk_serve *s = req->server;
	size_t now = atomic_fetch_add(&s->body_bytes, more) + more;
	if (now > s->cfg.max_memory) {
		atomic_fetch_sub(&s->body_bytes, more);
		req->over_budget = 1;
		return -1;
	}
	req->body_held += more;
	return 0;
}

/* Grows *buf to hold `need` bytes, doubling but never past the body limit, so that a body at
 * the limit does not hold twice the limit in memory; 0 on success. */
static int reserve(struct lk_serve_request *req, unsigned char **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t limit = req->server->cfg.max_body;
	if (need > limit) {
		req->too_large = 1;
		return -1;
	}
	size_t next = *cap ? *cap : 64 * 1024;
	while (next < need)
		next *= 2;
	if (next > limit)
		next = limit;
	if (hold(req, next - *cap) != 0)
		return -1;
	unsigned char *grown = realloc(*buf, next);
	if (!grown) {
		req->out_of_memory = 1;
		return -1;
	}
	*buf = grown;
	*cap = next;
	return 0;
}

static void free_parts(struct lk_serve_request *req)
{
	for (size_t i = 0; i < req->n_parts; i++) {
		free(req->parts[i].field);
		free(req->parts[i].filename);
		free(req->parts[i].data);
	}
	free(req->parts);
	req->parts = NULL;
	req->n_parts = req->parts_cap = 0;
}

/* Frees what the body holds and gives its bytes back to the budget. */
static void release(struct lk_serve_request *req)
{
	free(req->raw);
	req->raw = NULL;
	req->raw_len = req->raw_cap = 0;
	free_parts(req);
	atomic_fetch_sub(&req->server->body_bytes, req->body_held);
	req->body_held = 0;
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
		if (!grown) {
			req->out_of_memory = 1;
			return NULL;
		}
		req->parts = grown;
		req->parts_cap = cap;
	}
	struct lk_serve_part *p = &req->parts[req->n_parts];
	memset(p, 0, sizeof *p);
	p->field = strdup(key ? key : "");
	p->filename = filename ? strdup(filename) : NULL;
	if (!p->field || (filename && !p->filename)) {
		free(p->field);
		free(p->filename);
		req->out_of_memory = 1;
		return NULL;
	}
	p->is_file = filename != NULL;
	req->n_parts++;
	return p;
}

/* Problems that make the rest of the body worthless to keep. */
static int refused(const struct lk_serve_request *req)
{
	return req->too_large || req->malformed || req->too_many_parts || req->out_of_memory || req->over_budget;
}

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
			       const char *content_type, const char *transfer_encoding, const char *data,
			       uint64_t off, size_t size)
{
	(void)kind, (void)content_type, (void)transfer_encoding;
	struct lk_serve_request *req = cls;
	if (refused(req))
		return MHD_YES;
	struct lk_serve_part *cur = req->n_parts ? &req->parts[req->n_parts - 1] : NULL;
	/* A part starts at offset 0; several calls may carry one part's data. */
	if (off == 0 && (!cur || cur->len > 0 || strcmp(cur->field, key ? key : "") != 0 ||
			 (cur->filename == NULL) != (filename == NULL)))
		cur = new_part(req, key, filename);
	if (!cur || (size && reserve(req, &cur->data, &cur->cap, cur->len + size) != 0))
		return MHD_YES;
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
	struct lk_serve *s = req->server;
	const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (length) {
		char *end;
		unsigned long long n = strtoull(length, &end, 10);
		if (*end == '\0' && n > s->cfg.max_body) {
			lk_serve_reply_error(req, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
					     "the body has %llu bytes; this server takes at most %zu", n, s->cfg.max_body);
			return -1;
		}
		if (*end == '\0' && n > s->cfg.max_memory - atomic_load(&s->body_bytes)) {
			lk_serve_metrics_reject(LK_REJECT_OVERLOADED);
			lk_serve_reply_error(req, MHD_HTTP_TOO_MANY_REQUESTS, "overloaded",
					     "the server holds as many request bodies as its memory limit allows; "
					     "try again shortly");
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
	if (refused(req))
		return;
	if (req->body_seen > req->server->cfg.max_body)
		req->too_large = 1;
	else if (req->body_kind == LK_BODY_RAW && reserve(req, &req->raw, &req->raw_cap, req->raw_len + size) == 0) {
		memcpy(req->raw + req->raw_len, data, size);
		req->raw_len += size;
	} else if (req->body_kind == LK_BODY_MULTIPART && MHD_post_process(req->post, data, size) != MHD_YES) {
		req->malformed = 1;
	}
	/* Nothing of a refused body is worth keeping while its rest arrives. */
	if (refused(req))
		release(req);
}

int lk_serve_body_end(struct lk_serve_request *req)
{
	if (req->post) {
		/* MHD_NO here means the multipart data ended before its closing boundary. */
		if (MHD_destroy_post_processor(req->post) != MHD_YES)
			req->malformed = 1;
		req->post = NULL;
	}
	const struct lk_serve_config *cfg = &req->server->cfg;
	if (req->too_large)
		lk_serve_reply_error(req, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
				     "the body passed %zu bytes, the most this server takes", cfg->max_body);
	else if (req->too_many_parts)
		lk_serve_reply_error(req, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
				     "too many parts: at most %u images per request", cfg->max_batch);
	else if (req->over_budget) {
		lk_serve_metrics_reject(LK_REJECT_OVERLOADED);
		lk_serve_reply_error(req, MHD_HTTP_TOO_MANY_REQUESTS, "overloaded",
				     "the server holds as many request bodies as its memory limit allows; try again shortly");
	} else if (req->out_of_memory)
		lk_serve_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "not_ready", "the server ran out of memory");
	else if (req->malformed)
		lk_serve_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request",
				     "the multipart/form-data body is malformed (boundary or part headers)");
	else
		return 0;
	release(req);
	return -1;
}

int lk_serve_take_images(struct lk_serve_request *req, size_t most, const char *none_message)
{
	if (req->body_kind == LK_BODY_RAW && req->n_parts == 0 && req->raw_len) {
		/* The raw body becomes a part without a name, owned like the others. */
		struct lk_serve_part *p = new_part(req, "", NULL);
		if (!p) {
			lk_serve_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "not_ready", "the server ran out of memory");
			return -1;
		}
		p->data = req->raw;
		p->len = req->raw_len;
		p->cap = req->raw_cap;
		p->is_file = 1;
		req->raw = NULL;
		req->raw_len = req->raw_cap = 0;
	}
	size_t n = 0;
	for (size_t i = 0; i < req->n_parts; i++)
		n += req->parts[i].is_file || strcmp(req->parts[i].field, "image") == 0;
	if (n == 0) {
		lk_serve_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request", "%s", none_message);
		return -1;
	}
	if (most == 0) {
		/* One image wanted: the field named "image" wherever it is, else the first file. */
		n = 1;
	} else if (n > most) {
		lk_serve_reply_error(req, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", "%zu images; at most %zu per request",
				     n, most);
		return -1;
	}
	req->images = calloc(n, sizeof *req->images);
	if (!req->images) {
		lk_serve_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "not_ready", "the server ran out of memory");
		return -1;
	}
	size_t k = 0;
	if (most == 0)
		for (size_t i = 0; i < req->n_parts && !k; i++)
			if (strcmp(req->parts[i].field, "image") == 0)
				req->images[k++] = &req->parts[i];
	for (size_t i = 0; i < req->n_parts && k < n; i++)
		if (req->parts[i].is_file || strcmp(req->parts[i].field, "image") == 0)
			req->images[k++] = &req->parts[i];
	req->n_images = n;
	return 0;
}

void lk_serve_body_free(struct lk_serve_request *req)
{
	if (req->post)
		MHD_destroy_post_processor(req->post);
	req->post = NULL;
	release(req);
}
