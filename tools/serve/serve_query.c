/* Query arguments and the admin token. */
#include "tools/serve/serve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *lk_serve_query(struct lk_serve_request *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

int lk_serve_query_int(struct lk_serve_request *req, const char *key, long lo, long hi, long dflt, long *out)
{
	const char *text = lk_serve_query(req, key);
	if (!text) {
		*out = dflt;
		return 0;
	}
	errno = 0;
	char *end;
	long v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < lo || v > hi) {
		lk_serve_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request", "query argument %s='%s' must be an integer from %ld to %ld",
				     key, text, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* Compares in time that depends on the lengths only, so that response times do not reveal how
 * much of a guessed token was right. */
static int same_secret(const char *given, size_t given_len, const char *secret)
{
	size_t n = strlen(secret);
	unsigned char diff = given_len != n;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(given[i < given_len ? i : 0] ^ secret[i]);
	return diff == 0;
}

int lk_serve_admin_allowed(struct lk_serve_request *req)
{
	const char *token = req->server->cfg.admin_token;
	if (!token) {
		lk_serve_reply_error(req, MHD_HTTP_FORBIDDEN, "admin_disabled",
				     "changes through the API are off: start the server with --admin-token-file or "
				     "$LIKENESS_ADMIN_TOKEN to allow them");
		return 0;
	}
	const char *auth = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	static const char bearer[] = "Bearer ";
	if (!auth || strncasecmp(auth, bearer, sizeof bearer - 1) != 0) {
		lk_serve_reply_error(req, MHD_HTTP_UNAUTHORIZED, "unauthorized",
				     "this change needs an Authorization: Bearer <token> header");
		return 0;
	}
	const char *given = auth + sizeof bearer - 1;
	if (!given[0] || !same_secret(given, strlen(given), token)) {
		lk_serve_reply_error(req, MHD_HTTP_UNAUTHORIZED, "unauthorized", "the bearer token is not this server's");
		return 0;
	}
	return 1;
}
